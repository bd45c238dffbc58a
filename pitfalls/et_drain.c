/*
 * et_drain.c - edge-triggered without draining: the request that waits forever.
 *
 *   bin/pitfall-et_drain
 *
 * The bug. With EPOLLET, epoll_wait() reports a socket when it BECOMES
 * readable (new bytes arrived), once. A loop that reads once per report and
 * takes fewer bytes than wait leaves the rest in the socket with no report
 * to come: the kernel will announce only NEW bytes. A client that has sent its
 * whole request and waits for the answer sends nothing new, so both wait.
 *
 * The experiment, in one thread (the server end and the client end of one
 * loopback TCP connection):
 *
 *   client --- 1,500-byte request, one write --->  server socket (ET)
 *                                                  reads 512 per report
 *
 *   1. "once":  one read per report; count what epoll_wait reports in the
 *      next STALL_MS, and what is still queued (FIONREAD);
 *   2. the client sends more (a second request): a new edge, one more read;
 *   3. "drain": a fresh connection, read until EAGAIN: one report, answered.
 *
 * Syscalls: epoll_create1, epoll_ctl(EPOLLIN | EPOLLET), epoll_wait, read
 * (EAGAIN on an empty non-blocking socket), ioctl(FIONREAD): bytes queued.
 * The guard in the servers: on_accept() and conn_run() in servers/epoll_et.c.
 */
#include "experiment.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SIZE    512  /* what the server takes per read() */
#define REQUEST_SIZE 1500 /* what the client sends: three reads' worth */
#define STALL_MS     300  /* how long we watch for a report that never comes */

static const char help[] =
	"Edge-triggered epoll with one read per report: a 1,500-byte request read\n"
	"512 bytes at a time stalls after the first read, until the client sends\n"
	"more; the variant that reads until EAGAIN answers at once.\n";

enum read_mode { READ_ONCE, READ_TO_EAGAIN };

/* A GET padded with a header to exactly REQUEST_SIZE bytes. */
static void make_request(char *req)
{
	const char *head = "GET / HTTP/1.1\r\nHost: localhost\r\nX-Pad: ";
	size_t n = strlen(head);

	memcpy(req, head, n);
	memset(req + n, 'x', REQUEST_SIZE - n - 4);
	memcpy(req + REQUEST_SIZE - 4, "\r\n\r\n", 4);
}

static void send_all(int fd, const char *buf, size_t len)
{
	if (write(fd, buf, len) != (ssize_t)len) /* small: fits the socket buffer */
		die("write");
}

/* The server's handler for one report: reads once, or until EAGAIN.
   Adds what it read to *got; returns the number of read() calls. */
static int on_readable(int fd, enum read_mode mode, size_t *got)
{
	char buf[READ_SIZE];
	int calls = 0;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);

		calls++;
		if (n > 0)
			*got += (size_t)n;
		if (n <= 0 || mode == READ_ONCE)
			break;
	}
	if (mode == READ_TO_EAGAIN && errno != EAGAIN)
		die("read");
	return calls;
}

/* One server turn: waits up to timeout_ms; handles the report if one came.
   Returns the number of reports (0 or 1). */
static int serve_turn(int epfd, int fd, enum read_mode mode, int timeout_ms, size_t *got)
{
	struct epoll_event ev;
	int n = epoll_wait(epfd, &ev, 1, timeout_ms);

	if (n == -1)
		die("epoll_wait");
	if (n == 1)
		on_readable(fd, mode, got);
	return n;
}

static int queued(int fd)
{
	int n;

	if (ioctl(fd, FIONREAD, &n) == -1)
		die("ioctl(FIONREAD)");
	return n;
}

int main(int argc, char **argv)
{
	char req[REQUEST_SIZE];
	size_t got = 0, got_first, got_fixed = 0;
	int srv, cli, epfd, first, stalled, left, later, fixed;

	exp_start(argc, argv, help);
	make_request(req);

	/* 1. read once per report */
	exp_tcp_pair(&srv, &cli, SOCK_NONBLOCK);
	epfd = exp_watch_et(srv, 0);
	send_all(cli, req, sizeof req);
	first = serve_turn(epfd, srv, READ_ONCE, 1000, &got);
	stalled = serve_turn(epfd, srv, READ_ONCE, STALL_MS, &got);
	left = queued(srv);
	got_first = got;
	/* 2. the client sends more: a new edge */
	send_all(cli, req, sizeof req);
	later = serve_turn(epfd, srv, READ_ONCE, 1000, &got);
	close(epfd), close(srv), close(cli);

	/* 3. read until EAGAIN */
	exp_tcp_pair(&srv, &cli, SOCK_NONBLOCK);
	epfd = exp_watch_et(srv, 0);
	send_all(cli, req, sizeof req);
	fixed = serve_turn(epfd, srv, READ_TO_EAGAIN, 1000, &got_fixed);
	close(epfd), close(srv), close(cli);

	exp_title("edge-triggered without draining");
	exp_say("did", "sent one %d-byte request; the ET server reads %d bytes per report",
		REQUEST_SIZE, READ_SIZE);
	exp_say("observed",
		"read once: %d report, %zu bytes read, then %d reports in %d ms"
		" while %d bytes waited",
		first, got_first, stalled, STALL_MS, left);
	exp_say("observed", "the client sent a second request: %d report, %zu more bytes read",
		later, got - got_first);
	exp_say("observed", "read to EAGAIN: %d report, %zu of %d bytes read, request complete",
		fixed, got_fixed, REQUEST_SIZE);
	exp_say("expected", "a stall (no report, bytes left) until new bytes; draining reads all");
	exp_say("why", "EPOLLET reports a change of state, not a state: unread bytes are not news");
	return exp_verdict(
		first == 1 && stalled == 0 && left == REQUEST_SIZE - READ_SIZE && later == 1 &&
			fixed == 1 && got_fixed == REQUEST_SIZE,
		"read once: stalled %d ms with %d bytes unread; drained: %zu bytes in %d report",
		STALL_MS, left, got_fixed, fixed);
}
