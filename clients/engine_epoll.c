/*
 * engine_epoll.c - loadgen's readiness engine (--engine epoll, the default):
 * the kernel says which sockets are READY, and we do the I/O ourselves.
 *
 *   lg_conn.c ──connect/send/close──> this file ──syscalls──> the kernel
 *             <──connected/received/failed──  epoll_pwait2 says "fd 7 readable"
 *
 * Per request on a kept-alive connection: one send(), one read(), and a
 * share of one epoll_pwait2 (all the connections that became readable in the
 * same wake-up share it). Compare engine_uring.c, where neither send nor read
 * remains.
 *
 * Syscalls and what they promise (Linux >= 5.11 for epoll_pwait2):
 *   epoll_pwait2   like epoll_wait, but its timeout is a timespec, so the
 *       open-loop schedule is kept to microseconds instead of 1 ms ticks.
 *   epoll, level-triggered: a read that leaves bytes behind is reported
 *       again, so one read per event is enough and costs no extra EAGAIN;
 *       EPOLLOUT is armed only while a write is blocked (or a connect is in
 *       progress).
 *   getsockopt(SO_ERROR)   the outcome of a non-blocking connect, once
 *       EPOLLOUT says it is decided (connect itself returned EINPROGRESS).
 *   close()   also removes the descriptor from the epoll set (the set holds
 *       the open file, and we never dup the descriptor).
 */
#include "lg_conn.h"
#include "lg_net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define READ_BUF   (64 * 1024) /* one thread's read buffer, shared by its connections */

struct epoll_loop {
	int ep;
	char buf[READ_BUF];
	struct epoll_event events[MAX_EVENTS];
};

static struct epoll_loop *loop_of(struct worker *w)
{
	return w->loop;
}

static void epoll_set(struct worker *w, struct lg_conn *c, int op, uint32_t events)
{
	struct epoll_event ev;
	memset(&ev, 0, sizeof ev);
	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(loop_of(w)->ep, op, c->fd, &ev) < 0)
		die("epoll_ctl");
}

static void set_out_armed(struct worker *w, struct lg_conn *c, bool on)
{
	if (c->out_armed != on) {
		c->out_armed = on;
		epoll_set(w, c, EPOLL_CTL_MOD, on ? EPOLLIN | EPOLLOUT : EPOLLIN);
	}
}

/* ------------------------------------------------------------- what lg_conn.c asks */

static int epoll_connect(struct worker *w, struct lg_conn *c)
{
	int en = lg_net_connect(&c->fd, c->src);
	if (en == 0)
		epoll_set(w, c, EPOLL_CTL_ADD, EPOLLOUT); /* writable: decided */
	return en;
}

/* Writes what is left of the output; only a short write arms EPOLLOUT, so a
   request costs one send and no epoll_ctl in the usual case. */
static void epoll_send(struct worker *w, struct lg_conn *c)
{
	size_t n;
	if (c->out_len == 0)
		return;
	switch (io_write(c->fd, cfg.req + c->out_off, c->out_len - c->out_off, &n)) {
	case IO_OK:
		c->out_off += (uint32_t)n;
		if (c->out_off == c->out_len) {
			c->out_off = c->out_len = 0;
			set_out_armed(w, c, false);
		} else {
			set_out_armed(w, c, true);
		}
		break;
	case IO_RETRY: set_out_armed(w, c, true); break;
	case IO_ERROR: lg_conn_failed(w, c, errno); break;
	}
}

static void epoll_close(struct worker *w, struct lg_conn *c)
{
	(void)w;
	close(c->fd); /* also removes it from the epoll set */
	c->out_armed = false;
}

/* ---------------------------------------------------------------- events */

static void on_connect_event(struct worker *w, struct lg_conn *c)
{
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0)
		epoll_set(w, c, EPOLL_CTL_MOD, EPOLLIN); /* from now on: answers */
	lg_conn_connected(w, c, err);
}

static void on_readable(struct worker *w, struct lg_conn *c)
{
	char *buf = loop_of(w)->buf;
	size_t n;
	switch (io_read(c->fd, buf, READ_BUF, &n)) {
	case IO_OK: lg_conn_received(w, c, buf, n); break; /* n == 0: EOF */
	case IO_RETRY: break;
	case IO_ERROR: lg_conn_failed(w, c, errno); break;
	}
}

static void on_event(struct worker *w, struct lg_conn *c, uint32_t events)
{
	switch (c->state) {
	case S_CONNECTING: on_connect_event(w, c); break;
	case S_OPEN:
		if ((events & EPOLLOUT) && c->out_len > 0)
			epoll_send(w, c);
		/* EPOLLERR and EPOLLHUP: the read reports what happened */
		if (c->state == S_OPEN && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
			on_readable(w, c);
		break;
	default: break; /* closed earlier in this batch of events */
	}
}

static void epoll_wait_events(struct worker *w, uint64_t now, uint64_t until)
{
	struct epoll_loop *l = loop_of(w);
	uint64_t d = until > now ? until - now : 0;
	struct timespec ts = { .tv_sec = (time_t)(d / SEC), .tv_nsec = (long)(d % SEC) };
	int n = epoll_pwait2(l->ep, l->events, MAX_EVENTS, &ts, NULL);
	if (n < 0) {
		if (errno == EINTR)
			return;
		die("epoll_pwait2");
	}
	for (int i = 0; i < n; i++)
		on_event(w, l->events[i].data.ptr, l->events[i].events);
}

/* ---------------------------------------------------------------- set-up */

/* epoll_pwait2 is the newest call we make (Linux 5.11): ask it once. */
static void epoll_probe(void)
{
	struct epoll_event ev;
	struct timespec zero = { 0, 0 };
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	if (epoll_pwait2(ep, &ev, 1, &zero, NULL) < 0 && errno == ENOSYS) {
		fprintf(stderr, "%s: --engine epoll: epoll_pwait2 needs Linux 5.11\n",
			program_name);
		exit(2);
	}
	close(ep);
}

static void epoll_start(struct worker *w)
{
	struct epoll_loop *l = calloc(1, sizeof *l);
	if (!l)
		die("calloc");
	if ((l->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	w->loop = l;
}

static void epoll_stop(struct worker *w)
{
	struct epoll_loop *l = loop_of(w);
	close(l->ep);
	free(l);
	w->loop = NULL;
}

const struct engine engine_epoll = {
	.name = "epoll",
	.probe = epoll_probe,
	.start = epoll_start,
	.stop = epoll_stop,
	.connect = epoll_connect,
	.send = epoll_send,
	.close = epoll_close,
	.wait = epoll_wait_events,
};
