/*
 * server_et.c - YOUR server, the second path: one thread, epoll(7)
 * edge-triggered (EPOLLET), the loop written by you.
 *
 *   cp labs/starter/server_et.c mine_et.c   then do the TODOs, in order
 *   make grade SRC=mine_et.c                held to bin/epoll_et's lessons
 *
 * Do server.c (level-triggered) first: this file is the same server with
 * four TODOs, 1 to 4 in the order the server reaches them: the wait, as in
 * server.c, and the three places where edge-triggered differs (accepting,
 * registering, reading). Each still holds a call like
 * todo(1, "..."), which stops the server with one line, "starter: TODO 1
 * is not done: ...". Delete the call when you write the code, and the
 * line of (void) casts above it, if any.
 * `diff labs/starter/server.c labs/starter/server_et.c` shows what changes.
 *
 * Edge-triggered: epoll_wait() reports a descriptor when it BECOMES ready
 * (bytes arrive, room appears, a client connects), once. Bytes you leave
 * unread are not reported again until more arrive, which may be never. So:
 *
 *   - drain: accept until NET_AGAIN, and read until the socket is empty
 *     (conn_run(c, CONN_DRAIN)): a read shorter than asked proves it empty,
 *     since bytes that arrive after it raise a new edge;
 *   - except after the peer's FIN. Nothing arrives after a FIN, so no edge
 *     ever reports the end of the stream behind the last bytes: ask for
 *     EPOLLRDHUP, and when it comes set c->peer_hup, which makes CONN_DRAIN
 *     read on until read() returns 0. Without it, a client that sends 1,000
 *     requests and half-closes gets a few hundred answers, and waits;
 *   - in return, register each connection once for input AND output, and
 *     never change it: no epoll_ctl per request, and a merely writable
 *     socket raises no edge, so it costs nothing while idle.
 *
 *      listening socket ---+                    +--> on_accept(): until NET_AGAIN
 *      (EPOLLIN|EPOLLET)   |   epoll_wait()     |
 *      connection fds -----+--> ready list -----+--> on_ready(): EPOLLRDHUP?
 *      (IN|OUT|RDHUP|ET,        (an edge: once)      peer_hup; conn_run(c,
 *       added once)                                  CONN_DRAIN)
 *
 * The grader guesses the model from your calls (EPOLLET: epoll_et) and holds
 * it to every behaviour in tests/conformance.bats and tests/hostile.bats.
 */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

/* What this model is, in -h; and its name in the stats line (any word: the
   grader checks the counters, not the name). */
#define SUMMARY "One thread; my own epoll(7) edge-triggered loop."
#define NAME	"mine_et"

#define MAX_EVENTS 256 /* ready descriptors taken per epoll_wait */

static int epfd;

/* Every open connection, least recently active first. --idle-timeout closes
   from the front. It also keeps every connection reachable from this
   program: epoll_wait gives c back through data.ptr, but that copy lives
   in the kernel, where LeakSanitizer cannot look, so a connection known
   only to epoll would be reported as leaked when the server exits. */
static struct conn_list by_activity;

/* Stops the server at a TODO not done yet, naming it. */
static __attribute__((noreturn, unused)) void todo(int n, const char *what)
{
	fprintf(stderr, "starter: TODO %d is not done: %s\n", n, what);
	exit(3);
}

/* Registers c with epoll, once, for everything it will ever wait for.
   Returns false when epoll_ctl fails (the caller drops c). */
static bool watch(struct conn *c)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	/* TODO 3: ev.events is input, output and the peer's half-close, as
	   edges: `ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;`.
	   Without EPOLLRDHUP no event tells you the FIN came (TODO 4). */
	todo(3, "watch(): register for EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET");
	ev.data.ptr = c; /* epoll_wait gives this pointer back */
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		note("epoll_ctl(fd %d): %s", c->fd, strerror(errno));
		return false;
	}
	return true;
}

/* Ends a connection: off the idle list, closed (which also takes it out of
   the epoll set), freed. */
static void drop(struct conn *c)
{
	conn_list_remove(&by_activity, c);
	conn_close(c);
}

/* A new client on descriptor fd: its state, on the idle list, watched. */
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

/* Waits for events, at most until the oldest connection's --idle-timeout:
   fills events[] and returns how many (0 after a signal or the timeout). */
static int wait_for_events(struct epoll_event *events)
{
	/* TODO 1: as in server.c: n = epoll_wait(epfd, events, MAX_EVENTS,
	   `conn_list_timeout(&by_activity, now_ms())`); on -1 with errno EINTR
	   return 0, any other error: die("epoll_wait"); then
	   `stat_add(&stats->wakeups, 1);` and
	   `stat_add(&stats->events, (unsigned long)n);`. Return n. */
	(void)events;
	todo(1, "wait_for_events(): call epoll_wait and count it");
}

/* Takes the connections waiting in the listening socket's queue: all of
   them, since the listening socket is edge-triggered too. */
static void on_accept(int listen_fd, int64_t now)
{
	/* TODO 2: call `net_accept(listen_fd, NET_NONBLOCKING)` until it
	   returns NET_AGAIN: a client left in the queue raises no edge of its
	   own; only the next client to arrive would. A descriptor >= 0:
	   `add(fd, now);`. NET_REFUSED or NET_LOST: take the next. */
	(void)listen_fd, (void)now, (void)add;
	todo(2, "on_accept(): accept until NET_AGAIN");
}

/* An edge on a connection: drain it, as far as it goes without blocking. */
static void on_ready(struct conn *c, uint32_t events, int64_t now)
{
	/* TODO 4: first the FIN: `if (events & (EPOLLRDHUP | EPOLLHUP |
	   EPOLLERR))` set `c->peer_hup = true;` (conn_run then reads until
	   read() returns 0, not only until a short read). Then
	   `want = conn_run(c, CONN_DRAIN);`. CONN_CLOSE: `drop(c);` and
	   return. Otherwise `conn_list_touch(&by_activity, c, now);`. No
	   epoll_ctl: CONN_WRITE waits for the EPOLLOUT edge, CONN_READ for
	   the next EPOLLIN. */
	(void)c, (void)events, (void)now;
	todo(4, "on_ready(): peer_hup on EPOLLRDHUP, then conn_run(c, CONN_DRAIN)");
}

int main(int argc, char **argv)
{
	int listen_fd = server_start(argc, argv, NAME, SUMMARY, NET_NONBLOCKING);
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
		int n = wait_for_events(events);
		int64_t now = now_ms();

		for (int i = 0; i < n; i++) {
			if (events[i].data.ptr == NULL)
				on_accept(listen_fd, now);
			else
				on_ready(events[i].data.ptr, events[i].events, now);
		}
		conn_list_expire(&by_activity, now, drop);
	}
	/* Every connection still open is on by_activity, reachable: not a leak. */
	return server_finish();
}
