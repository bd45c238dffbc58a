/*
 * epoll_lt.c - one thread, epoll(7), level-triggered.
 *
 *   bin/epoll_lt [-p PORT] ...        (bin/epoll_lt -h for every option)
 *
 * The model. The kernel keeps the interest list: each descriptor is registered
 * once with epoll_ctl(EPOLL_CTL_ADD), and epoll_wait() returns only the ones
 * that are ready. Its cost follows the number of READY descriptors, not the
 * number watched: 10,000 idle connections cost nothing per call, where select()
 * and poll() pay for every one of them on every call.
 *
 *   epoll instance (epfd), kept by the kernel between calls:
 *     interest list: fd 3 IN (listen), fd 5 IN, fd 6 OUT, fd 7 IN, ...
 *                    (epoll_ctl ADD once; MOD when what we want changes)
 *     ready list:    fd 5, fd 7   <- a socket puts itself here when it
 *                                    becomes ready (its wait-queue callback)
 *   epoll_wait(epfd) copies out the ready list only: O(ready), not O(watched).
 *   Level: a reported fd goes back on the ready list; the next epoll_wait
 *   reports it again while unread bytes (or room to write) remain.
 *
 * Level-triggered (the default, and poll()'s meaning): epoll_wait() reports a
 * descriptor for as long as it IS ready. So we may read once per report and
 * leave the rest; the next call reports it again. The price is that we must not
 * ask for what we do not want: a socket is writable almost always, so EPOLLOUT
 * is registered only while answers wait to be written, or every call would
 * return at once (a busy loop).
 *
 * Syscalls: epoll_create1 (Linux 2.6.27), epoll_ctl, epoll_wait (2.6), accept4
 * (2.6.28). Per request on a kept-alive connection: one epoll_wait (shared by
 * every ready descriptor), one read, one write.
 *
 * Compare: diff -u servers/epoll_lt.c servers/epoll_et.c
 */
#include "server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

/* What this model is, in -h. */
#define SUMMARY "One thread; epoll(7) level-triggered readiness loop."

#define MAX_EVENTS 256 /* ready descriptors taken per epoll_wait */

/* Connections accepted per report of the listening socket: on_accept() says why. */
#define ACCEPT_BATCH 64

static int epfd;
static enum conn_want *watched; /* by descriptor: what epoll watches it for now */
/* Every connection, least recently active first: --idle-timeout closes from the front. */
static struct conn_list by_activity;

/* Registers (op ADD) or changes (op MOD) what we wait for on c. Level-triggered:
   watch exactly what the handler wants, nothing more. */
static bool watch(struct conn *c, int op, enum conn_want want)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	ev.events = want == CONN_WRITE ? EPOLLOUT : EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, op, c->fd, &ev) == -1) {
		note("epoll_ctl(fd %d): %s", c->fd, strerror(errno));
		return false;
	}
	watched[c->fd] = want; /* remember it: change it only when the want changes */
	return true;
}

static void drop(struct conn *c)
{
	conn_list_remove(&by_activity, c);
	conn_close(c);
}

static void add(int fd, int64_t now)
{
	struct conn *c = conn_new(fd, NET_NONBLOCKING);

	if (c == NULL) {
		net_refuse(fd, "out of memory");
		return;
	}
	conn_list_push(&by_activity, c, now);
	if (!watch(c, EPOLL_CTL_ADD, CONN_READ))
		drop(c);
}

/* Level-triggered, one connection per report would do: if more wait, a later
   call says so. But a descriptor still ready goes back at the TAIL of the ready
   list, so that "later" comes after every other ready connection has had its
   turn: with 1,000 busy connections, one accept per 1,000 answers, and clients
   wait seconds in the backlog. So take up to ACCEPT_BATCH of them per report. */
static void on_accept(int listen_fd, int64_t now)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = net_accept(listen_fd, NET_NONBLOCKING);

		if (fd == NET_AGAIN)
			return;
		if (fd >= 0)
			add(fd, now);
	}
}

static void on_ready(struct conn *c, uint32_t events, int64_t now)
{
	enum conn_want want;

	(void)events; /* EPOLLERR/EPOLLHUP: the read inside conn_run reports it */
	want = conn_run(c, CONN_READ_ONCE); /* one read is enough: the level is reported again */
	if (want == CONN_CLOSE) {
		drop(c);
		return;
	}
	conn_list_touch(&by_activity, c, now);
	if (want != watched[c->fd] && !watch(c, EPOLL_CTL_MOD, want))
		drop(c);
}

int main(int argc, char **argv)
{
	int listen_fd = server_start(argc, argv, "epoll_lt", SUMMARY, NET_NONBLOCKING);
	struct epoll_event events[MAX_EVENTS], ev;
	size_t max_fds = (size_t)raise_nofile(0); /* every descriptor is below the limit */

	watched = malloc(max_fds * sizeof *watched);
	if (watched == NULL)
		die("malloc(%zu wants)", max_fds);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd == -1)
		die("epoll_create1");
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL; /* NULL marks the listening socket */
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) == -1)
		die("epoll_ctl(listening socket)");

	while (!server_stopping) {
		int n = epoll_wait(epfd, events, MAX_EVENTS,
				   conn_list_timeout(&by_activity, now_ms()));
		int64_t now = now_ms();

		if (n == -1) {
			if (errno == EINTR)
				continue; /* a signal: the loop condition decides */
			die("epoll_wait");
		}
		stat_add(&stats->wakeups, 1);
		stat_add(&stats->events, (unsigned long)n);
		for (int i = 0; i < n; i++) {
			if (events[i].data.ptr == NULL)
				on_accept(listen_fd, now);
			else
				on_ready(events[i].data.ptr, events[i].events, now);
		}
		conn_list_expire(&by_activity, now, drop);
	}
	return server_finish();
}
