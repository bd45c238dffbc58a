/*
 * epoll_et.c - one thread, epoll(7), edge-triggered.
 *
 *   bin/epoll_et [-p PORT] ...        (bin/epoll_et -h for every option)
 *
 * The model. The kernel keeps the interest list: each descriptor is registered
 * once with epoll_ctl(EPOLL_CTL_ADD), and epoll_wait() returns only the ones
 * that are ready. Its cost follows the number of READY descriptors, not the
 * number watched: 10,000 idle connections cost nothing per call, where select()
 * and poll() pay for every one of them on every call.
 *
 *   epoll instance (epfd), kept by the kernel between calls:
 *     interest list: fd 3 IN|ET (listen), fd 5 IN|OUT|RDHUP|ET, fd 7 ...
 *                    (epoll_ctl ADD once per connection, never MOD)
 *     ready list:    fd 5   <- put here when bytes ARRIVE (or room appears),
 *                              not for as long as they wait
 *   epoll_wait(epfd) copies out the ready list only: O(ready), not O(watched).
 *   Edge: a reported fd does not go back; bytes we leave unread stay
 *   unreported until more arrive. So we read until a short read.
 *
 * Edge-triggered (EPOLLET): epoll_wait() reports a descriptor when it BECOMES
 * ready (new bytes arrive, room appears), once. So we must drain: read, and
 * accept, until the kernel has nothing left, or the rest waits unseen until
 * the client sends more, which it may never do. In return a descriptor can be
 * registered once for both directions and never changed: no epoll_ctl per
 * request, and no report for a socket that is merely still writable.
 *
 * Draining cheaply: a stream socket that returns fewer bytes than we asked for
 * has given us all it had (the short-read rule), so a request costs one read(),
 * not a second one that only says EAGAIN. One exception: after the peer's FIN
 * (EPOLLRDHUP) we read on until read() returns 0, or no edge would tell us.
 *
 * Syscalls: epoll_create1 (Linux 2.6.27), epoll_ctl, epoll_wait (2.6), accept4
 * (2.6.28), EPOLLRDHUP (2.6.17). Per request on a kept-alive connection: one
 * epoll_wait (shared by every ready descriptor), one read, one write.
 *
 * Compare: diff -u servers/epoll_lt.c servers/epoll_et.c
 */
#include "server.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

/* What this model is, in -h. */
#define SUMMARY "One thread; epoll(7) edge-triggered readiness loop; reads until a short read."

#define MAX_EVENTS 256 /* ready descriptors taken per epoll_wait */

static int epfd;
/* Every connection, least recently active first: --idle-timeout closes from the front. */
static struct conn_list by_activity;

/* Registers c once, for input, output and the peer's hang-up, edge-triggered.
   The edges tell us when to try again; what we want changes nothing here. */
static bool watch(struct conn *c)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		note("epoll_ctl(fd %d): %s", c->fd, strerror(errno));
		return false;
	}
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
	if (!watch(c))
		drop(c);
}

/* Edge-triggered: accept until EAGAIN; a connection left in the backlog gets
   no new edge of its own, only when yet another client arrives. */
static void on_accept(int listen_fd, int64_t now)
{
	for (;;) {
		int fd = net_accept(listen_fd, NET_NONBLOCKING);

		if (fd == NET_AGAIN)
			return;
		if (fd >= 0)
			add(fd, now);
	}
}

/* Drain: no edge comes for bytes already waiting. But a read that returns less
   than asked proves the socket empty, and it is safe to stop there: bytes that
   arrive after that read raise a new edge. Except after the FIN: nothing
   arrives after it, so no edge would ever report the EOF behind the last
   bytes; with peer_hup set, conn_run() reads on until read() returns 0. */
static void on_ready(struct conn *c, uint32_t events, int64_t now)
{
	enum conn_want want;

	/* The peer's FIN: the short-read rule no longer holds; read on to EOF. */
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->peer_hup = true;
	want = conn_run(c, CONN_DRAIN); /* edge: read until the socket is empty */
	if (want == CONN_CLOSE) {
		drop(c);
		return;
	}
	conn_list_touch(&by_activity, c, now);
	/* Nothing to change: CONN_WRITE waits for the EPOLLOUT edge, CONN_READ for EPOLLIN. */
}

int main(int argc, char **argv)
{
	int listen_fd = server_start(argc, argv, "epoll_et", SUMMARY, NET_NONBLOCKING);
	struct epoll_event events[MAX_EVENTS], ev;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd == -1)
		die("epoll_create1");
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLET;
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
