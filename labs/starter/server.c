/*
 * server.c - YOUR server: one thread, epoll(7) level-triggered, the loop
 * written by you.
 *
 *   cp labs/starter/server.c mine.c      then do the TODOs, in order
 *   make grade SRC=mine.c                build it and grade it
 *
 * Three places are yours, marked TODO 1, 2 and 3, in the order the server
 * reaches them. Each still holds a call like todo(1, "..."): it stops the
 * server with one line, "starter: TODO 1 is not done: ...", so the grader
 * names the first TODO left. Delete the call when you write the code, and
 * the line of (void) casts above it (they keep the compiler quiet about
 * what is not used yet).
 *
 * Everything that is not the I/O model is done for you by servers/common/,
 * the same code every shipped model uses:
 *
 *   server_start()   options, signals, the listening socket, "listening on"
 *   net_accept()     accept4() with EMFILE and --max-conns handled (503)
 *   conn_new()       the state of one connection (buffers, HTTP framing)
 *   conn_run()       read, answer, write as far as it can without blocking;
 *                    returns what to wait for: CONN_READ, CONN_WRITE, CONN_CLOSE
 *   conn_close()     close and free
 *   conn_list_*()    every connection, least recently active first, for
 *                    --idle-timeout (add() and drop() below keep it for you)
 *
 * The design to build (the one in servers/epoll_lt.c, which you may read
 * AFTER you have tried):
 *
 *      listening socket ---+                    +--> on_accept(): net_accept()
 *                          |   epoll_wait()     |    until NET_AGAIN, add()
 *      connection fds -----+--> ready list -----+
 *      (registered once)         (TODO 1)       +--> on_ready(): conn_run(),
 *                                                    then watch what it wants
 *
 * Level-triggered (the default): epoll_wait() reports a descriptor for as
 * long as it is ready. So one read per report is enough (the rest is
 * reported again), and EPOLLOUT is asked for only while conn_run() says
 * CONN_WRITE: a socket is writable almost always, and the loop would be
 * woken again and again for nothing (the grader measures the CPU you use
 * while idle).
 *
 * The grader holds this file to the lessons of bin/epoll_lt: every behaviour
 * in tests/conformance.bats and tests/hostile.bats. The TODOs, done as they
 * say, pass all of them. For edge-triggered, start again from server_et.c.
 */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

/* What this model is, in -h; and its name in the stats line (any word: the
   grader checks the counters, not the name). */
#define SUMMARY "One thread; my own epoll(7) level-triggered loop."
#define NAME	"mine"

#define MAX_EVENTS 256 /* ready descriptors taken per epoll_wait */

static int epfd;
static enum conn_want *watched; /* by descriptor: what epoll watches it for now */

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

/* Registers c with epoll (op EPOLL_CTL_ADD) or changes what it is watched for
   (EPOLL_CTL_MOD): EPOLLIN for CONN_READ, EPOLLOUT for CONN_WRITE. Returns
   false when epoll_ctl fails (the caller drops c). */
static bool watch(struct conn *c, int op, enum conn_want want)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	ev.events = want == CONN_WRITE ? EPOLLOUT : EPOLLIN;
	ev.data.ptr = c; /* epoll_wait gives this pointer back */
	if (epoll_ctl(epfd, op, c->fd, &ev) == -1) {
		note("epoll_ctl(fd %d): %s", c->fd, strerror(errno));
		return false;
	}
	/* Kept by descriptor number, and a closed connection's number is the
	   next accept's: so every ADD writes it afresh, or a new connection
	   would inherit what the last one on its number wanted. */
	watched[c->fd] = want;
	return true;
}

/* Ends a connection: off the idle list, closed (which also takes it out of
   the epoll set), freed. */
static void drop(struct conn *c)
{
	conn_list_remove(&by_activity, c);
	conn_close(c);
}

/* A new client on descriptor fd: its state, on the idle list, watched for input. */
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

/* Waits for events, at most until the oldest connection's --idle-timeout:
   fills events[] and returns how many (0 after a signal or the timeout). */
static int wait_for_events(struct epoll_event *events)
{
	/* TODO 1: n = epoll_wait(epfd, events, MAX_EVENTS, timeout), with
	   `conn_list_timeout(&by_activity, now_ms())` as the timeout (-1, for
	   ever, without --idle-timeout). On -1 with errno EINTR (a signal, e.g.
	   SIGTERM) return 0: main's loop condition decides; any other error:
	   die("epoll_wait"). Count the call and what it reported, for the stats
	   line: `stat_add(&stats->wakeups, 1);` and
	   `stat_add(&stats->events, (unsigned long)n);`. Return n. */
	(void)events;
	todo(1, "wait_for_events(): call epoll_wait and count it");
}

/* Takes the connections waiting in the listening socket's queue. */
static void on_accept(int listen_fd, int64_t now)
{
	/* TODO 2: call `net_accept(listen_fd, NET_NONBLOCKING)` until it
	   returns NET_AGAIN (the queue is empty). A descriptor >= 0 is a new
	   client: `add(fd, now);`. NET_REFUSED (one was answered 503) or
	   NET_LOST (one was gone before it was accepted): take the next. */
	(void)listen_fd, (void)now, (void)add;
	todo(2, "on_accept(): accept the waiting connections");
}

/* A connection is ready: serve it, then wait for what it wants next. */
static void on_ready(struct conn *c, int64_t now)
{
	/* TODO 3: `want = conn_run(c, CONN_READ_ONCE);` (level-triggered: one
	   read per report is enough). CONN_CLOSE: `drop(c);` and return.
	   Otherwise the connection was active: `conn_list_touch(&by_activity,
	   c, now);` (its idle time starts again). Then, if want differs from
	   watched[c->fd], `watch(c, EPOLL_CTL_MOD, want)`, and `drop(c);` when
	   that fails: epoll_ctl only when what you wait for changes. */
	(void)c, (void)now;
	todo(3, "on_ready(): serve the connection with conn_run");
}

int main(int argc, char **argv)
{
	int listen_fd = server_start(argc, argv, NAME, SUMMARY, NET_NONBLOCKING);
	struct epoll_event events[MAX_EVENTS], ev;
	size_t max_fds = (size_t)raise_nofile(0); /* every descriptor is below it */

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
		int n = wait_for_events(events);
		int64_t now = now_ms();

		for (int i = 0; i < n; i++) {
			if (events[i].data.ptr == NULL)
				on_accept(listen_fd, now);
			else
				on_ready(events[i].data.ptr, now);
		}
		conn_list_expire(&by_activity, now, drop);
	}
	/* Every connection still open is on by_activity, reachable: not a leak. */
	return server_finish();
}
