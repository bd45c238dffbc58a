/*
 * server.c - YOUR server: one thread, epoll(7), the loop written by you.
 *
 *   make grade SRC=labs/starter/server.c      build it and grade it
 *
 * Copy this file (cp labs/starter/server.c mine.c) and fill in the three
 * places marked TODO. Everything that is not the I/O model is done for you
 * by servers/common/, the same code every shipped model uses:
 *
 *   server_start()   options, signals, the listening socket, "listening on"
 *   net_accept()     accept4() with EMFILE and --max-conns handled (503)
 *   conn_new()       the state of one connection (buffers, HTTP framing)
 *   conn_run()       read, answer, write as far as it can without blocking;
 *                    returns what to wait for: CONN_READ, CONN_WRITE, CONN_CLOSE
 *   conn_close()     close and free
 *
 * The design to build (the one in servers/epoll_lt.c, which you may read
 * AFTER you have tried):
 *
 *      listening socket ---+                    +--> on_accept(): net_accept()
 *                          |   epoll_wait()     |    until NET_AGAIN, watch()
 *      connection fds -----+--> ready list -----+
 *      (registered once)                        +--> on_ready(): conn_run(),
 *                                                    then watch what it wants
 *
 * Level-triggered (the default): epoll_wait() reports a descriptor for as
 * long as it is ready. So ask for EPOLLOUT only while conn_run() says
 * CONN_WRITE, or the loop is woken again and again for a socket that is
 * merely writable (the grader measures the CPU you use while idle).
 *
 * The grader holds this file to the lessons of bin/epoll_lt: every behaviour
 * in tests/conformance.bats and tests/hostile.bats. Until the TODOs are done
 * it stops at the first one and says which.
 */
#include "server.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

/* What this model is, in -h. */
#define SUMMARY "One thread; my own epoll(7) level-triggered loop."

#define MAX_EVENTS 256 /* ready descriptors taken per epoll_wait */

static int epfd;

/* Registers c with epoll (op EPOLL_CTL_ADD) or changes what it is watched for
   (EPOLL_CTL_MOD): EPOLLIN for CONN_READ, EPOLLOUT for CONN_WRITE. Returns
   false when epoll_ctl fails (the caller closes c). */
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
	return true;
}

/* Takes the connections waiting in the listening socket's queue. */
static void on_accept(int listen_fd)
{
	/* TODO 1: call net_accept(listen_fd, NET_NONBLOCKING) until it returns
	   NET_AGAIN. A descriptor >= 0 is a new client: conn_new(fd,
	   NET_NONBLOCKING) makes its state (NULL: out of memory, then
	   net_refuse(fd, "out of memory")), and watch(c, EPOLL_CTL_ADD, CONN_READ)
	   registers it (false: conn_close(c)). NET_REFUSED (one was answered 503)
	   or NET_LOST (one was gone before it was accepted): take the next. */
	(void)listen_fd;
	die("TODO 1 in on_accept() is not written yet");
}

/* A connection is ready: serve it, then wait for what it wants next. */
static void on_ready(struct conn *c)
{
	/* TODO 2: want = conn_run(c, CONN_READ_ONCE) (level-triggered: one read
	   per report is enough). CONN_CLOSE: conn_close(c) (close() also takes
	   it out of the epoll set). Otherwise, if want changed since the last
	   watch(), watch(c, EPOLL_CTL_MOD, want); keep what it is watched for
	   somewhere so you only call epoll_ctl when it changes. */
	(void)c;
	die("TODO 2 in on_ready() is not written yet");
}

int main(int argc, char **argv)
{
	int listen_fd = server_start(argc, argv, "mine", SUMMARY, NET_NONBLOCKING);
	struct epoll_event events[MAX_EVENTS], ev;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd == -1)
		die("epoll_create1");
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL; /* NULL marks the listening socket */
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) == -1)
		die("epoll_ctl(listening socket)");

	while (!server_stopping) {
		/* TODO 3: n = epoll_wait(epfd, events, MAX_EVENTS, -1). On -1 with
		   errno EINTR (a signal, e.g. SIGTERM) continue: the loop condition
		   decides; any other error: die("epoll_wait"). Count the call and
		   what it reported: stat_add(&stats->wakeups, 1) and
		   stat_add(&stats->events, (unsigned long)n). Then for each of the n events:
		   data.ptr NULL is the listening socket (on_accept), anything else a
		   connection (on_ready). */
		(void)events, (void)on_accept, (void)on_ready, (void)watch; /* unused until then */
		die("TODO 3 in main() is not written yet");
	}
	return server_finish();
}
