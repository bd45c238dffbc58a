/*
 * rdhup.c - EPOLLRDHUP and the exception to the short-read rule.
 *
 *   bin/pitfall-rdhup
 *
 * The rule. A stream socket that returns fewer bytes than we asked for has
 * been emptied, so edge-triggered code may skip the read() that would only
 * say EAGAIN: one read per request instead of two (servers/common/conn.c,
 * may_read).
 *
 * The exception. If the client's FIN arrived with its last data (it wrote its
 * request, then shutdown(SHUT_WR)), both are already queued when epoll
 * reports the ONE edge. The short read returns the data; the end of file
 * waits behind it, and no new edge will ever come for it: the server holds the
 * connection forever. Registering EPOLLRDHUP makes the same report say "the
 * peer closed its side"; then we read on until read() returns 0.
 *
 *   client: write(request); shutdown(SHUT_WR)   ──> [ request | FIN ]
 *   server (ET):  one report  ──> read(4096) = 35, short: stop  ──> never EOF
 *                 with EPOLLRDHUP in it ──> read on ──> 0: close
 *
 * The experiment waits (poll(POLLRDHUP), which consumes no edge) until the FIN
 * has arrived before the server looks, then counts what it learns.
 */
#include "experiment.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define WATCH_MS 300 /* how long we wait for a report after the answer */

static const char help[] =
	"A client writes its request and shuts down its side at once. An\n"
	"edge-triggered server that trusts short reads and has no EPOLLRDHUP never\n"
	"learns of the close; with EPOLLRDHUP it reads on to the end of file.\n";

static const char request[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

struct run {
	int reports, eof_seen;
	uint32_t first_events;
	ssize_t first_read;
};

/* The server's handler: the short-read rule, with its exception. */
static void on_event(int fd, uint32_t events, struct run *r)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof buf);

	if (r->reports == 1)
		r->first_read = n, r->first_events = events;
	if (n == 0)
		r->eof_seen = 1;
	if (n > 0 && (size_t)n < sizeof buf && !(events & EPOLLRDHUP))
		return; /* short read: the socket is empty, or so we assume */
	while (n > 0)	/* the peer hung up: read on to the end of file */
		n = read(fd, buf, sizeof buf);
	if (n == 0)
		r->eof_seen = 1;
}

static struct run serve(uint32_t extra)
{
	struct run r = { 0, 0, 0, 0 };
	struct epoll_event ev;
	struct pollfd p;
	int srv, cli, epfd;

	exp_tcp_pair(&srv, &cli, SOCK_NONBLOCK);
	epfd = exp_watch_et(srv, extra);
	if (write(cli, request, sizeof request - 1) != (ssize_t)sizeof request - 1)
		die("write");
	if (shutdown(cli, SHUT_WR) == -1)
		die("shutdown");
	p.fd = srv, p.events = POLLRDHUP;
	if (poll(&p, 1, 2000) != 1)
		die("no FIN within 2 s");
	while (!r.eof_seen && epoll_wait(epfd, &ev, 1, r.reports ? WATCH_MS : 2000) == 1) {
		r.reports++;
		on_event(srv, ev.events, &r);
	}
	close(epfd), close(srv), close(cli);
	return r;
}

int main(int argc, char **argv)
{
	struct run bug, fixed;

	exp_start(argc, argv, help);
	bug = serve(0);
	fixed = serve(EPOLLRDHUP);

	exp_title("EPOLLRDHUP and the short-read exception");
	exp_say("did",
		"the client wrote a %zu-byte request and shutdown(SHUT_WR); the ET server "
		"reads 4096 and trusts short reads",
		sizeof request - 1);
	exp_say("observed", "no EPOLLRDHUP: %d report (%s), read %zd, end of file %s in %d ms more",
		bug.reports, bug.first_events & EPOLLRDHUP ? "RDHUP" : "IN", bug.first_read,
		bug.eof_seen ? "seen" : "never seen", WATCH_MS);
	exp_say("observed", "EPOLLRDHUP:    %d report (%s), read %zd, end of file %s",
		fixed.reports, fixed.first_events & EPOLLRDHUP ? "IN|RDHUP" : "IN",
		fixed.first_read, fixed.eof_seen ? "seen" : "never seen");
	exp_say("expected", "without it the close goes unnoticed; with it, read on to 0 at once");
	exp_say("why", "data and FIN came before one edge; a short read returns only the data");
	return exp_verdict(
		bug.reports == 1 && !bug.eof_seen && fixed.reports == 1 && fixed.eof_seen,
		"without EPOLLRDHUP the close went unseen for %d ms; with it, seen in 1 report",
		WATCH_MS);
}
