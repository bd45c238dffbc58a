/*
 * sigpipe.c - SIGPIPE: one write to a reset connection ends the process.
 *
 *   bin/pitfall-sigpipe
 *
 * The bug. Writing to a socket whose connection is gone (the peer reset it,
 * or closed it and we already wrote once) makes write() raise SIGPIPE, whose
 * default action terminates the process, before write() can return EPIPE.
 * In a server, any client that disconnects at the wrong moment kills it.
 *
 * The fixes: ignore the signal for the whole process (signal(SIGPIPE,
 * SIG_IGN), as signals_install() in servers/common/util.c does), or pass
 * MSG_NOSIGNAL to every send(); either way write() returns -1 with EPIPE,
 * an ordinary error that ends one connection.
 *
 * The experiment, three times, each in a child process that owns the server
 * end of a loopback connection whose client reset it (SO_LINGER 0, close:
 * an RST). The child writes up to WRITES times; the parent reports how it
 * ended. The first write after an RST may report ECONNRESET; the next, EPIPE.
 *
 *   parent: client ──RST──> child: write(), write() ──> killed by SIGPIPE?
 */
#include "experiment.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define WRITES 3

static const char help[] =
	"Writes to a connection the peer has reset, in three child processes: the\n"
	"one with SIGPIPE's default action is killed by the signal; the one that\n"
	"ignores it and the one that uses MSG_NOSIGNAL get EPIPE and carry on.\n";

enum guard { NO_GUARD, IGNORE_SIGPIPE, MSG_NOSIGNAL_FLAG };

static const char *guard_names[] = { "write(), default SIGPIPE", "SIG_IGN", "MSG_NOSIGNAL" };

/* The child: writes until an error; exits with that errno (0: none came). */
static _Noreturn void child_writes(int fd, enum guard guard)
{
	int err = 0;

	/* the default action, explicitly: an ignored SIGPIPE is inherited
	   through exec, and whoever started us may have ignored it */
	signal(SIGPIPE, guard == IGNORE_SIGPIPE ? SIG_IGN : SIG_DFL);
	for (int i = 0; i < WRITES; i++) {
		ssize_t n = guard == MSG_NOSIGNAL_FLAG ? send(fd, "hello", 5, MSG_NOSIGNAL)
						       : write(fd, "hello", 5);
		if (n == -1)
			err = errno;
		if (err == EPIPE)
			break;
	}
	_exit(err);
}

/* A connection whose client end has been reset; the server end is returned
   once the RST has arrived (POLLERR or POLLHUP on it). */
static int reset_connection(void)
{
	struct linger lg = { 1, 0 }; /* close() sends RST, not FIN */
	struct pollfd p;
	int srv, cli;

	exp_tcp_pair(&srv, &cli, 0);
	if (setsockopt(cli, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == -1)
		die("setsockopt(SO_LINGER)");
	close(cli);
	p.fd = srv;
	p.events = 0; /* POLLERR and POLLHUP are reported regardless */
	if (poll(&p, 1, 2000) != 1)
		die("no RST within 2 s");
	return srv;
}

/* Runs one child; returns its wait status. */
static int run(enum guard guard)
{
	int srv = reset_connection(), status;
	pid_t pid = fork();

	if (pid == -1)
		die("fork");
	if (pid == 0)
		child_writes(srv, guard);
	close(srv);
	if (waitpid(pid, &status, 0) == -1)
		die("waitpid");
	return status;
}

static void describe(enum guard guard, int status)
{
	if (WIFSIGNALED(status))
		exp_say("observed", "%-26s killed by signal %d (%s)", guard_names[guard],
			WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		exp_say("observed", "%-26s survived, write failed with %s", guard_names[guard],
			WEXITSTATUS(status) ? strerror(WEXITSTATUS(status)) : "nothing");
}

int main(int argc, char **argv)
{
	int status[3];
	bool killed, survived = true;

	exp_start(argc, argv, help);
	exp_title("SIGPIPE");
	exp_say("did", "a child writes %d times to a connection its client reset, 3 ways", WRITES);
	for (int g = NO_GUARD; g <= MSG_NOSIGNAL_FLAG; g++) {
		status[g] = run((enum guard)g);
		describe((enum guard)g, status[g]);
		if (g != NO_GUARD)
			survived =
				survived && WIFEXITED(status[g]) && WEXITSTATUS(status[g]) == EPIPE;
	}
	killed = WIFSIGNALED(status[NO_GUARD]) && WTERMSIG(status[NO_GUARD]) == SIGPIPE;
	exp_say("expected", "the unguarded writer killed by SIGPIPE; the guarded two get EPIPE");
	exp_say("why", "write() on a dead connection raises SIGPIPE first; its default is to exit");
	return exp_verdict(killed && survived,
			   "unguarded: %s; SIG_IGN and MSG_NOSIGNAL: EPIPE, alive",
			   WIFSIGNALED(status[NO_GUARD]) ? strsignal(WTERMSIG(status[NO_GUARD]))
							 : "survived");
}
