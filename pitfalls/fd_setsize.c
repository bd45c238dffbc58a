/*
 * fd_setsize.c - FD_SET past FD_SETSIZE: a write outside the set, caught.
 *
 *   bin/pitfall-fd_setsize
 *
 * The bug. An fd_set is a bitmap of FD_SETSIZE (1024) bits, 128 bytes, and
 * FD_SET(fd, &set) sets bit fd without asking whether it exists. For fd 1030
 * that bit lies 6 bits past the end: in the neighbouring variable on the
 * stack, which the program then uses, corrupted, without a sign. A server
 * reaches such descriptors as soon as it holds ~1,000 connections.
 *
 * What we show, without corrupting anything: glibc built with
 * _FORTIFY_SOURCE (this file always is; pitfalls.mk adds -O2
 * -D_FORTIFY_SOURCE=2) routes FD_SET through __fdelt_chk(), which aborts the
 * process ("*** bit out of range 0 - FD_SETSIZE on fd_set ***") instead of
 * writing. We do it in a child and report how the child ended. Then the
 * clean way, which the select server uses: refuse a descriptor >= FD_SETSIZE
 * before it ever reaches FD_SET (poll and epoll have no such limit).
 *
 *   parent ──fork──> child: fd = F_DUPFD(sock, 1024); FD_SET(fd) ──> SIGABRT
 *          <──waitpid── "killed by SIGABRT", with glibc's message on a pipe
 *
 * Without the fortify check the experiment would corrupt memory, so it is
 * skipped instead (exit 77). Under a sanitizer the check is the same (it is
 * in glibc's headers); were the sanitizer to see the write first, its report
 * counts as caught too. The guard in the servers: on_accept(),
 * servers/select.c.
 */
#include "experiment.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define HIGH_FD 1030 /* 6 past the last bit of an fd_set */

static const char help[] =
	"FD_SET on descriptor 1030, in a child process built with _FORTIFY_SOURCE:\n"
	"glibc aborts it rather than write past the 1024-bit fd_set. Then the clean\n"
	"way: refuse any descriptor >= FD_SETSIZE before it reaches FD_SET.\n";

/* The clean way: true when fd may go into an fd_set. */
static bool fits_fd_set(int fd)
{
	return fd >= 0 && fd < FD_SETSIZE;
}

/* The child: the bug itself. Its stderr is the pipe, for glibc's message. */
static _Noreturn void child_sets_high_fd(int fd)
{
	fd_set set;

	FD_ZERO(&set);
	FD_SET(fd, &set); /* the bug: with fortify, abort() happens here */
	/* reached only without the check: report whether the bit landed */
	printf("FD_SET(%d) returned\n", fd);
	_exit(FD_ISSET(fd, &set) ? 3 : 4);
}

/* Runs the child; fills msg with what it wrote to stderr. Returns its status. */
static int run_child(int fd, char *msg, size_t size)
{
	int err[2], status;
	ssize_t n, len = 0;
	pid_t pid;

	if (pipe2(err, O_CLOEXEC) == -1)
		die("pipe2");
	pid = fork();
	if (pid == -1)
		die("fork");
	if (pid == 0) {
		dup2(err[1], STDERR_FILENO);
		child_sets_high_fd(fd);
	}
	close(err[1]);
	while ((n = read(err[0], msg + len, size - 1 - len)) > 0)
		len += n;
	msg[len] = '\0';
	close(err[0]);
	if (waitpid(pid, &status, 0) == -1)
		die("waitpid");
	return status;
}

/* glibc's message, first line only, or "(nothing)". */
static const char *first_line(char *msg)
{
	char *nl = strchr(msg, '\n');

	if (nl != NULL)
		*nl = '\0';
	return msg[0] != '\0' ? msg : "(nothing)";
}

int main(int argc, char **argv)
{
	char msg[4096];
	int sock, fd, status, sig;
	bool caught;

	exp_start(argc, argv, help);
#if !defined(__USE_FORTIFY_LEVEL) || __USE_FORTIFY_LEVEL < 1
	exp_skip("built without _FORTIFY_SOURCE: FD_SET(%d) would corrupt memory unchecked",
		 HIGH_FD);
#endif
	if (raise_nofile(HIGH_FD + 1) <= HIGH_FD)
		exp_skip("the descriptor limit is below %d (ulimit -n)", HIGH_FD + 1);
	/* a socket at descriptor 1030, as a server's 1,007th client would get */
	sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock == -1)
		die("socket");
	fd = fcntl(sock, F_DUPFD_CLOEXEC, HIGH_FD);
	if (fd == -1)
		die("fcntl(F_DUPFD, %d)", HIGH_FD);
	close(sock);

	status = run_child(fd, msg, sizeof msg);
	sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	/* glibc's check; or, should a sanitizer see the write first, its report */
	caught = (sig == SIGABRT && strstr(msg, "FD_SETSIZE") != NULL) ||
		 strstr(msg, "Sanitizer") != NULL;

	exp_title("select past FD_SETSIZE");
	exp_say("did",
		"FD_SET on a socket at fd %d, beyond a %d-bit fd_set, in a child built with _FORTIFY_SOURCE=%d",
		fd, FD_SETSIZE, __USE_FORTIFY_LEVEL);
	if (sig != 0)
		exp_say("observed", "the child was killed by signal %d (%s)", sig, strsignal(sig));
	else
		exp_say("observed", "the child exited with status %d", WEXITSTATUS(status));
	exp_say("observed", "its stderr: %s", first_line(msg));
	exp_say("observed", "the clean way: fits_fd_set(%d) = %s, so the socket is refused", fd,
		fits_fd_set(fd) ? "true" : "false");
	exp_say("expected",
		"SIGABRT from glibc's check (or a sanitizer's report), not a silent write");
	exp_say("why", "FD_SET is a bit operation with no bound; fortify adds __fdelt_chk()");
	close(fd);
	return exp_verdict(caught && !fits_fd_set(fd),
			   "FD_SET(%d) killed the child with %s; the clean way refused fd %d", fd,
			   sig != 0 ? strsignal(sig) : "nothing", fd);
}
