/*
 * select.c - one thread, select(2) readiness loop.
 *
 *   bin/select [-p PORT] ...          (bin/select -h for every option)
 *
 * The model. We keep two master sets of descriptors (want to read, want to
 * write); each turn we hand the kernel copies, because select() overwrites its
 * arguments with the answer, and it sleeps until at least one is ready. Then we
 * scan every descriptor up to maxfd to find which.
 *
 *   our master sets                            the kernel, each call
 *   want_read  bit: 0 1 2 3 4 5 6 ...
 *              set: . . . L x . x    --copied in-->  tests every fd 0..maxfd
 *   want_write set: . . . . . x .                    (L: listen fd, x: conns)
 *        | copied into rd, wr each turn              sleeps until one is ready
 *   rd, wr     set: . . . . x . .    <--copied out-- only the ready bits left
 *   then FD_ISSET(fd) for fd 0..maxfd: the same O(maxfd) scan, in user space.
 *   The bitmap has FD_SETSIZE (1024) bits: there is no bit for fd 1024.
 *
 * Level-triggered, like poll(): a descriptor stays ready until we act on it,
 * so one read per report is enough, and we ask for writability only while
 * answers wait to be written (a socket is writable almost always).
 *
 * The costs, and why select is a lesson more than a tool:
 *  - Each call copies three bitmaps in and out and the kernel checks every
 *    descriptor below maxfd+1, ready or not: O(maxfd) per call, however few
 *    are ready. Ten thousand idle connections make every request pay for them.
 *  - fd_set is a fixed bitmap of FD_SETSIZE (1024) bits. FD_SET on a descriptor
 *    >= FD_SETSIZE writes past its end: memory corruption, not an error. So a
 *    connection whose descriptor is that high is answered 503 and closed
 *    (counted in refused=), and the server goes on.
 *
 * Syscalls: select (4.2BSD, 1983), accept4 (Linux 2.6.28).
 */
#include "server.h"

#include <errno.h>
#include <sys/select.h>

/* What this model is, in -h. */
#define SUMMARY "One thread; select(2) readiness loop (descriptors < FD_SETSIZE only)."

static struct conn *conns[FD_SETSIZE]; /* by descriptor */
static fd_set want_read, want_write;   /* the master sets */
static int maxfd;
/* Every connection, least recently active first: --idle-timeout closes from the front. */
static struct conn_list by_activity;

/* Puts c's descriptor in the one master set that matches what it wants. */
static void watch(struct conn *c, enum conn_want want)
{
	FD_CLR(c->fd, &want_read);
	FD_CLR(c->fd, &want_write);
	FD_SET(c->fd, want == CONN_WRITE ? &want_write : &want_read);
	if (c->fd > maxfd)
		maxfd = c->fd;
}

static void drop(struct conn *c)
{
	int fd = c->fd;

	FD_CLR(fd, &want_read);
	FD_CLR(fd, &want_write);
	conns[fd] = NULL;
	while (maxfd > 0 && !FD_ISSET(maxfd, &want_read) && !FD_ISSET(maxfd, &want_write))
		maxfd--; /* keep the scan as short as the highest descriptor in use */
	conn_list_remove(&by_activity, c);
	conn_close(c);
}

static void on_accept(int listen_fd, int64_t now)
{
	int fd = net_accept(listen_fd, NET_NONBLOCKING);
	struct conn *c;

	if (fd < 0)
		return;
	if (fd >= FD_SETSIZE) { /* the fd_set cannot hold it: refuse, never FD_SET */
		net_refuse(fd, "descriptor beyond select()'s FD_SETSIZE");
		return;
	}
	if ((c = conn_new(fd, NET_NONBLOCKING)) == NULL) {
		net_refuse(fd, "out of memory");
		return;
	}
	conns[fd] = c;
	conn_list_push(&by_activity, c, now);
	watch(c, CONN_READ);
}

static void on_ready(struct conn *c, int64_t now)
{
	enum conn_want want = conn_run(c, CONN_READ_ONCE); /* level: one read is enough */

	if (want == CONN_CLOSE) {
		drop(c);
		return;
	}
	conn_list_touch(&by_activity, c, now);
	watch(c, want);
}

/* The idle timeout as select() wants it; NULL means wait forever. */
static struct timeval *timeout(struct timeval *tv)
{
	int ms = conn_list_timeout(&by_activity, now_ms());

	if (ms < 0)
		return NULL;
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
	return tv;
}

int main(int argc, char **argv)
{
	int listen_fd = server_start(argc, argv, "select", SUMMARY, NET_NONBLOCKING);

	if (listen_fd >= FD_SETSIZE)
		die("listening descriptor %d beyond FD_SETSIZE", listen_fd);
	FD_SET(listen_fd, &want_read);
	maxfd = listen_fd;

	while (!server_stopping) {
		fd_set rd = want_read, wr = want_write; /* select() overwrites what it is given */
		struct timeval tv;
		int n = select(maxfd + 1, &rd, &wr, NULL, timeout(&tv));
		int64_t now = now_ms();

		if (n == -1) {
			if (errno == EINTR)
				continue; /* a signal: the loop condition decides */
			die("select");
		}
		stat_add(&stats->wakeups, 1);
		stat_add(&stats->events, (unsigned long)n);
		if (FD_ISSET(listen_fd, &rd)) {
			on_accept(listen_fd, now);
			n--;
		}
		for (int fd = 0; fd <= maxfd && n > 0; fd++) { /* O(maxfd): the cost of select */
			if (fd == listen_fd || (!FD_ISSET(fd, &rd) && !FD_ISSET(fd, &wr)))
				continue;
			n--;
			if (conns[fd] != NULL) /* NULL: closed already in this turn */
				on_ready(conns[fd], now);
		}
		conn_list_expire(&by_activity, now, drop);
	}
	return server_finish();
}
