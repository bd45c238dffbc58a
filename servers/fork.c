/*
 * fork.c - one process per connection, blocking I/O (inetd, Apache 1, sshd).
 *
 *   bin/fork [-p PORT] [--max-conns N] ...   (bin/fork -h for every option)
 *
 * The model. The parent blocks in accept(); for each connection it fork()s a
 * child, which serves that one connection with blocking read() and write(),
 * exactly as a thread of bin/threads does, and exits. Compare:
 * diff -u servers/threads.c servers/fork.c
 *
 *     parent                                 child, one per connection
 *     +---------------------------+  fork()  +------------------------------+
 *     | listening socket          |--------->| the connection (its copy)    |
 *     | accept() -> connection    |          | listening socket: closed     |
 *     | close(its copy of it)     |          | read(), write(): blocking    |
 *     | SIGCHLD -> waitpid()      |<- exit --| conn_close(), _exit(0)       |
 *     +---------------------------+          +------------------------------+
 *                  \___ counters: one MAP_SHARED page, both write it ___/
 *
 * After fork() both processes hold the connection's descriptor, and the kernel
 * sends the FIN only when the last one is closed: the parent must close its
 * copy at once, or no connection would ever end while the parent lives.
 *
 * The cost. fork() copies the parent's page tables and marks every page
 * copy-on-write: the first write to a page, in either process, faults and
 * copies it. Each connection then owns a whole process: a task_struct, a
 * kernel stack (16 KiB on x86-64), page tables, its own stack and the pages
 * it has written (docs/models.md measures it beside bin/threads). A switch
 * between two children changes address space, which a switch between two
 * threads does not. And fork()'s cost grows with the parent's size: a small
 * parent, as here, is the cheap case.
 * What it buys: isolation. A crash, a leak or a corrupted heap in one child
 * ends one connection, and one client's bytes are never in another's memory;
 * a child may drop privileges or exec another program (inetd, CGI, sshd's
 * privilege separation). Pre-forking (children made in advance, each blocking
 * in accept() on the shared listening socket) removes the fork() per
 * connection and keeps the isolation: Apache's prefork MPM.
 *
 * Reaping. A child that exits stays a zombie until its parent waits for it.
 * The parent sleeps in accept(), so only a signal reaches it: SIGCHLD runs
 * reap(), which calls waitpid(-1, WNOHANG) until no child is left to collect.
 * In a loop, because signals do not queue: ten children ending during one
 * handler run leave one SIGCHLD pending. WNOHANG, so the handler never blocks.
 * SA_RESTART, so the interrupted accept() simply goes on. (SIGCHLD set to
 * SIG_IGN would have the kernel reap them, but the parent would never learn
 * how a child ended; see the counters.)
 *
 * The counters live in memory shared by all the processes (stats_share():
 * mmap MAP_SHARED|MAP_ANONYMOUS before the first fork), not sent back through
 * a pipe: a child's counts are visible the moment it counts them, to the stats
 * line and to the bench, which reads them mid-run; a pipe would deliver them
 * when the child ends and need a parent awake to read it. The parent counts
 * a connection open (conn_new) before it forks, so --max-conns sees it before
 * the next accept; the child counts it closed (conn_close). A child killed by
 * a signal never got there: the parent counts it closed when it reaps it.
 *
 * Stopping. Each child asks the kernel for SIGTERM when its parent dies
 * (prctl PR_SET_PDEATHSIG), with SIGINT and SIGTERM back to their default
 * action (the child has nothing to tidy: the kernel closes its socket). So
 * when the parent stops on SIGINT or SIGTERM, or is killed outright, the
 * children follow. Not kill(0, SIGTERM) to our process group: that also
 * reaches whatever shares the group (the shell script or test that started
 * us), and a group of our own (setpgid) would no longer get the terminal's
 * Ctrl-C.
 *
 * SIGUSR1 prints the stats line from the shared counters. A child keeps the
 * handler (its read() returns EINTR and conn_run() reads again), so a SIGUSR1
 * that reaches it prints the same totals and ends nothing.
 *
 * Counters: wakeups counts blocking accept() and read() calls, as in threads.
 * -t is ignored: the number of processes is the number of connections.
 *
 * Syscalls: accept4 (Linux 2.6.28), fork (clone), read, write, waitpid, mmap,
 * prctl PR_SET_PDEATHSIG (2.1.57).
 */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* What this model is, in -h. */
#define SUMMARY "One process per connection (fork), blocking I/O; children reaped on SIGCHLD."

/* SIGCHLD: collect every child that has ended, without blocking. Only
   async-signal-safe calls here: waitpid, and an atomic on the counters. */
static void reap(int sig)
{
	int saved_errno = errno, status;

	(void)sig;
	while (waitpid(-1, &status, WNOHANG) > 0)
		if (WIFSIGNALED(status))
			stats_conn_closed(); /* killed before its conn_close() */
	errno = saved_errno;
}

static void reap_children(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = reap;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP; /* not for stopped children */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, NULL) == -1)
		die("sigaction(SIGCHLD)");
}

/* In the child: end with the parent. The parent may have died before prctl()
   (it would send nothing then): getppid() tells, after the prctl(). */
static bool die_with_parent(pid_t parent)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	return prctl(PR_SET_PDEATHSIG, SIGTERM) == 0 && getppid() == parent;
}

/* The child: one connection, served to its end; never returns. */
static _Noreturn void serve(int listen_fd, struct conn *c, pid_t parent)
{
	close(listen_fd); /* only the parent accepts (and the port closes with it) */
	/* Each call sleeps in one read(), as in blocking.c: a wakeup and its event,
	   counted in the counters the parent shares with its children. */
	if (die_with_parent(parent)) {
		do {
			stat_add(&stats->wakeups, 1);
			stat_add(&stats->events, 1);
		} while (conn_run(c, CONN_READ_ONCE) != CONN_CLOSE);
	}
	conn_close(c); /* counts it closed, in the shared counters */
	/* _exit(), not exit(): the stdio buffers and atexit handlers are the parent's. */
	_exit(0);
}

int main(int argc, char **argv)
{
	int listen_fd = server_start(argc, argv, "fork", SUMMARY, NET_BLOCKING);
	pid_t parent = getpid();

	stats_share(); /* before the first fork: the children count into it */
	reap_children();
	while (!server_stopping) {
		int fd = net_accept(listen_fd, NET_BLOCKING); /* sleeps until a client connects */
		struct conn *c;
		pid_t pid;

		stat_add(&stats->wakeups, 1);
		if (fd < 0)
			continue;
		stat_add(&stats->events, 1);
		/* Counted open from here on, so --max-conns sees it. */
		if ((c = conn_new(fd, NET_BLOCKING)) == NULL) {
			net_refuse(fd, "out of memory");
			continue;
		}
		pid = fork();
		if (pid == 0)
			serve(listen_fd, c, parent);
		if (pid == -1) { /* EAGAIN: RLIMIT_NPROC, a pids cgroup; ENOMEM */
			note("fork: %s; refusing the connection", strerror(errno));
			conn_refuse(c, "out of processes");
			continue;
		}
		close(c->fd); /* the child's now: our copy would hold it open */
		free(c);
	}
	return server_finish(); /* the children get SIGTERM when we are gone */
}
