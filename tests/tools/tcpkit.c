/*
 * tcpkit: a small, exact TCP client for the test suites.
 *
 *   tcpkit [options] PORT
 *
 * curl and ab are polite HTTP clients; the conformance suite needs an impolite
 * one that sends exactly the bytes it is told, in the pieces it is told, then
 * half-closes, resets or stalls on demand, and reports exactly what came back
 * and whether the server closed the connection. Three modes:
 *
 *   single (default)  one connection: send DATA (optionally in chunks of K
 *                     bytes with a pause between them), read until EOF, a
 *                     count of responses, or a deadline; print the bytes.
 *   -C N              N connections at once, DATA sent on each, answers
 *                     counted by status: "conns=N 200=N 503=N other=N none=N".
 *   -I N              N idle connections held for -S seconds (they send
 *                     nothing), to fill a server's descriptor table.
 *
 * It always connects to 127.0.0.1: the suites never send traffic elsewhere.
 *
 * Syscalls worth knowing here:
 *   shutdown(SHUT_WR)  sends FIN but keeps reading: "I am done talking".
 *   SO_LINGER {1, 0}   makes close() send RST instead of FIN and drop unsent
 *                      data: the abrupt disconnect of a crashed client.
 *   connect() on an O_NONBLOCK socket returns EINPROGRESS; poll() reports
 *                      POLLOUT when it finished, and getsockopt(SO_ERROR)
 *                      tells whether it succeeded (connect(2), "EINPROGRESS").
 *
 * Exit status (the suites assert on it):
 *   0  single: the server closed the connection (EOF) when reading stopped;
 *      -C: every connection got an answer; -I: every connection established
 *   1  a syscall failed (the message names it)
 *   2  usage error
 *   3  single: the connection was still open when reading stopped
 *   4  single: the server reset the connection (ECONNRESET)
 *   5  -C: some connections got no answer; -I: some never established
 *
 * Built by the Makefile like every C file in tests/tools (gnu11; _GNU_SOURCE for
 * memmem). Linux 2.6.17+ (POLLRDHUP).
 */
#include "toolkit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
	EXIT_CLOSED = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_OPEN = 3,
	EXIT_RESET = 4,
	EXIT_MISSING = 5,
};

#define MAX_STEPS 16   /* -s given more than once: one request per step */
#define CONN_BUF  2048 /* -C: one response per connection fits easily */

struct buf {
	char *data;
	size_t len, cap;
};

struct options {
	struct buf steps[MAX_STEPS];
	int nsteps;
	size_t chunk;	  /* -k: bytes per write, 0 = all at once */
	int delay_ms;	  /* -d: pause between chunks */
	bool half_close;  /* -w */
	long reset_after; /* -r: bytes to send before RST, -1 = never */
	int want;	  /* -n: responses to wait for, 0 = until EOF */
	int grace_ms;	  /* -g */
	int timeout_ms;	  /* -t */
	bool head;	  /* -H: responses carry no body */
	bool escape;	  /* -x */
	bool summary;	  /* -c */
	int conns;	  /* -C */
	int idle;	  /* -I */
	int hold_s;	  /* -S */
	int port;
};

static void usage(FILE *to)
{
	fprintf(to,
		"usage: tcpkit [options] PORT\n"
		"Connects to 127.0.0.1:PORT, sends DATA, reports what comes back.\n"
		"\n"
		"  -s DATA   bytes to send; C escapes decoded: \\r \\n \\t \\\\ \\0 \\xHH.\n"
		"            Repeat -s (up to %d) to send one request per step, each\n"
		"            after the answer to the previous one arrived\n"
		"  -f FILE   send the contents of FILE (- is stdin) instead of -s\n"
		"  -k BYTES  send in writes of BYTES bytes (1 = one byte per write)\n"
		"  -d MS     pause MS milliseconds between those writes\n"
		"  -w        half-close (shutdown SHUT_WR) after sending; without -k the\n"
		"            last DATA and the FIN leave in one segment (TCP_CORK)\n"
		"  -r BYTES  send only the first BYTES bytes, then reset (RST), read nothing\n"
		"  -n COUNT  stop reading after COUNT complete responses, then wait -g\n"
		"  -g MS     after -n, how long to watch for the server closing (100)\n"
		"  -t MS     stop reading after MS milliseconds in all (2000)\n"
		"  -H        responses answer HEAD: headers only, no body\n"
		"  -x        print what was received with C escapes, on one line\n"
		"  -c        print only \"responses=N closed=yes|no|reset status=S,S,...\"\n"
		"  -C N      open N connections at once, send DATA on each, print\n"
		"            \"conns=N 200=N 503=N other=N none=N\"; all stay open until\n"
		"            every one is answered or -t passes\n"
		"  -I N      open N idle connections, print \"established=N\" once\n"
		"            connected, hold them -S seconds (or until the server closed\n"
		"            them all), print \"conns=N established=N closed_by_server=N\"\n"
		"  -S SECS   how long -I holds its connections (1)\n"
		"  -h        this help\n"
		"\n"
		"Exit: 0 server closed (-C: all answered, -I: all established), 1 syscall\n"
		"failed, 2 usage, 3 still open, 4 reset by server, 5 -C/-I: some missing.\n",
		MAX_STEPS);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void buf_append(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + len)
			cap *= 2;
		b->data = realloc(b->data, cap);
		if (b->data == NULL)
			die("realloc");
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

/* ---------------------------------------------------------------- bytes in, bytes out */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes the C escapes of a shell argument into out. Returns 0, or -1 on an
 * unknown or incomplete escape (a typo in a test should not send odd bytes).
 */
static int decode_escapes(const char *in, struct buf *out)
{
	while (*in) {
		char c = *in++;

		if (c == '\\') {
			switch (*in++) {
			case 'r': c = '\r'; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case '0': c = '\0'; break;
			case '\\': c = '\\'; break;
			case 'x': {
				int hi = hex_digit(in[0]);
				int lo = hi < 0 ? -1 : hex_digit(in[1]);

				if (lo < 0)
					return -1;
				c = (char)(hi * 16 + lo);
				in += 2;
				break;
			}
			default: return -1;
			}
		}
		buf_append(out, &c, 1);
	}
	return 0;
}

static void load_file(const char *path, struct buf *out)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[4096];
	size_t n;

	if (f == NULL)
		die("fopen");
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(out, chunk, n);
	if (ferror(f))
		die("fread");
	if (f != stdin)
		fclose(f);
}

/* The inverse of decode_escapes: what a test compares against, readable. */
static void print_escaped(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		switch (c) {
		case '\r': fputs("\\r", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		default:
			if (c >= 0x20 && c < 0x7f)
				putchar(c);
			else
				printf("\\x%02x", c);
		}
	}
	putchar('\n');
}

/* ---------------------------------------------------------------- counting responses */

/*
 * Looks for one complete HTTP response at the start of p. Returns the bytes
 * it takes (and its status in *status), 0 if it is not complete yet, or -1 if
 * p does not start with a status line. Bodies are framed by Content-Length,
 * as our servers always send it; without one the body runs to EOF, which
 * the caller handles. head: the request was HEAD, so there is no body.
 */
static long parse_response(const char *p, size_t len, bool head, int *status)
{
	const char *end = memmem(p, len, "\r\n\r\n", 4);
	size_t header_len, body_len = 0;

	if (len >= 5 && memcmp(p, "HTTP/", 5) != 0)
		return -1;
	if (end == NULL)
		return 0;
	header_len = (size_t)(end - p) + 4;
	if (header_len < 13 || p[8] != ' ')
		return -1;
	*status = atoi(p + 9);
	for (const char *line = p; line < end;) {
		const char *next = memmem(line, (size_t)(end - line) + 2, "\r\n", 2);

		if (strncasecmp(line, "Content-Length:", 15) == 0)
			body_len = strtoul(line + 15, NULL, 10);
		line = next + 2;
	}
	if (head)
		body_len = 0;
	if (len < header_len + body_len)
		return 0;
	return (long)(header_len + body_len);
}

/* Counts the complete responses in b from *offset on, appending statuses. */
static int count_responses(const struct buf *b, size_t *offset, bool head, struct buf *statuses)
{
	int n = 0, status = 0;
	long used;

	while ((used = parse_response(b->data + *offset, b->len - *offset, head, &status)) > 0) {
		char text[16];
		int len = snprintf(text, sizeof text, "%s%d", statuses->len ? "," : "", status);

		buf_append(statuses, text, (size_t)len);
		*offset += (size_t)used;
		n++;
	}
	return n;
}

/* ---------------------------------------------------------------- connecting */

/* A socket connecting to 127.0.0.1:port; non-blocking if asked, then the
 * connect may still be in progress when this returns (see the header). */
static int connect_local(int port, bool nonblocking)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	int type = SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
	int fd = socket(AF_INET, type, 0), one = 1;

	if (fd < 0)
		die("socket");
	addr.sin_port = htons((unsigned short)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* each write is its own segment: without this, Nagle's algorithm holds
	 * the second byte of a one-byte-per-write test until the first is
	 * ACKed, and delayed ACKs make that 40 ms per byte */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
		die("setsockopt TCP_NODELAY");
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 &&
	    !(nonblocking && errno == EINPROGRESS))
		die("connect");
	return fd;
}

/* Many connections need many descriptors: the soft limit goes up to the hard
 * one rather than fail at the 1,025th socket on a default ulimit of 1024. */
static void raise_fd_limit(int need)
{
	long have = raise_nofile(need + 16);

	if (have < need + 16)
		fprintf(stderr, "tcpkit: only %ld descriptors allowed, %d needed\n", have,
			need + 16);
}

/* SO_LINGER with a zero timeout: close() now sends RST, not FIN. */
static void reset_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) < 0)
		die("setsockopt SO_LINGER");
	close(fd);
}

/* ---------------------------------------------------------------- single connection */

/*
 * Sends data in writes of `chunk` bytes (all at once if 0), pausing between
 * them. Returns false if the server closed or reset the connection first:
 * what it answered before that is still worth reading.
 */
static bool send_all(int fd, const char *data, size_t len, size_t chunk, int delay_ms)
{
	size_t off = 0;

	while (off < len) {
		size_t n = chunk && len - off > chunk ? chunk : len - off;
		/* MSG_NOSIGNAL: a closed peer gives EPIPE, not a fatal SIGPIPE */
		ssize_t w = send(fd, data + off, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
			return false;
		if (w < 0)
			die("send");
		off += (size_t)w;
		if (delay_ms > 0 && off < len)
			sleep_ms(delay_ms);
	}
	return true;
}

enum read_end { END_EOF, END_OPEN, END_RESET };

/* What one connection has received so far, and how many responses that is. */
struct reading {
	struct buf got;
	size_t parsed; /* bytes of got taken by complete responses */
	int responses;
	struct buf statuses; /* "200,200,400" */
};

/*
 * Reads until EOF, reset, the deadline, or until `want` responses have
 * arrived and then `grace` ms passed without the server closing (0 = return
 * at once). want 0 reads until EOF or the deadline.
 */
static enum read_end read_until(int fd, struct reading *r, int want, int grace_ms, bool head,
				long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char chunk[4096];
		long left;
		ssize_t n;

		if (want > 0 && r->responses >= want) {
			if (now_ms() + grace_ms < deadline)
				deadline = now_ms() + grace_ms;
			want = 0; /* the grace period starts once */
		}
		left = deadline - now_ms();
		if (left <= 0)
			return END_OPEN;
		n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("poll");
		if (n == 0)
			return END_OPEN;
		n = recv(fd, chunk, sizeof chunk, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ECONNRESET)
			return END_RESET;
		if (n < 0)
			die("recv");
		if (n == 0)
			return END_EOF;
		buf_append(&r->got, chunk, (size_t)n);
		r->responses += count_responses(&r->got, &r->parsed, head, &r->statuses);
	}
}

static void print_single(const struct options *o, const struct reading *r, enum read_end end)
{
	static const char *const closed_word[] = { "yes", "no", "reset" };

	if (o->summary)
		printf("responses=%d closed=%s status=%.*s\n", r->responses, closed_word[end],
		       (int)r->statuses.len, r->statuses.data ? r->statuses.data : "");
	else if (o->escape)
		print_escaped(r->got.data ? r->got.data : "", r->got.len);
	else if (r->got.len > 0 && fwrite(r->got.data, 1, r->got.len, stdout) != r->got.len)
		die("fwrite");
}

/*
 * Holds what is written until the FIN (-w without -k): shutdown() then sends
 * the data and the FIN in one segment, so the server's one report finds
 * both, every time. That is the case an edge-triggered loop must read past
 * its short read for, to the end of file (EPOLLRDHUP); sent apart, the FIN
 * would raise an edge of its own whenever the server read in between.
 */
static void cork(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_CORK, &one, sizeof one) < 0)
		die("setsockopt TCP_CORK");
}

static int run_single(const struct options *o)
{
	struct reading r = { 0 };
	int fd = connect_local(o->port, false);
	long deadline = now_ms() + o->timeout_ms;
	enum read_end end = END_OPEN;

	if (o->reset_after >= 0) {
		size_t n = o->steps[0].len;

		if ((size_t)o->reset_after < n)
			n = (size_t)o->reset_after;
		send_all(fd, o->steps[0].data, n, o->chunk, o->delay_ms);
		reset_close(fd);
		return EXIT_CLOSED;
	}
	for (int i = 0; i < o->nsteps; i++) {
		bool last = i == o->nsteps - 1;

		/* a step after the first waits for the answer to the one before */
		if (i > 0) {
			end = read_until(fd, &r, i, 0, o->head, deadline);
			if (end != END_OPEN || r.responses < i)
				break;
		}
		if (last && o->half_close && !o->chunk)
			cork(fd);
		if (!send_all(fd, o->steps[i].data, o->steps[i].len, o->chunk, o->delay_ms))
			last = true; /* closed on us: read what it said */
		if (!last)
			continue;
		if (o->half_close && shutdown(fd, SHUT_WR) < 0)
			die("shutdown");
		end = read_until(fd, &r, o->want, o->grace_ms, o->head, deadline);
		break;
	}
	close(fd);
	print_single(o, &r, end);
	free(r.got.data);
	free(r.statuses.data);
	return end == END_EOF ? EXIT_CLOSED : end == END_RESET ? EXIT_RESET : EXIT_OPEN;
}

/* ---------------------------------------------------------------- many connections */

enum tk_state { CONNECTING, SENDING, READING, DONE };

struct tk_conn {
	enum tk_state state;
	size_t sent, got;
	int status; /* 0 = no answer */
	char in[CONN_BUF];
};

/* Connect finished? Returns false (and marks it done) if it failed. */
static bool tk_connected(struct pollfd *p, struct tk_conn *c, int *failed_errno)
{
	int err = 0;
	socklen_t len = sizeof err;

	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		die("getsockopt SO_ERROR");
	if (err != 0) {
		*failed_errno = err;
		c->state = DONE;
		return false;
	}
	c->state = SENDING;
	return true;
}

/* One step of one connection of -C, driven by poll's revents. */
static void conn_step(struct pollfd *p, struct tk_conn *c, const struct buf *req, bool head,
		      int *failed_errno)
{
	ssize_t n;

	if (c->state == CONNECTING && !tk_connected(p, c, failed_errno))
		return;
	if (c->state == SENDING) {
		n = send(p->fd, req->data + c->sent, req->len - c->sent, MSG_NOSIGNAL);
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			c->state = READING; /* closed early: it may have said why (503) */
			return;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			*failed_errno = errno;
			c->state = DONE;
			return;
		}
		c->sent += n > 0 ? (size_t)n : 0;
		if (c->sent == req->len)
			c->state = READING;
		return;
	}
	n = recv(p->fd, c->in + c->got, sizeof c->in - c->got, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		long used;

		c->got += (size_t)n;
		used = parse_response(c->in, c->got, head, &c->status);
		if (used == 0 && c->got < sizeof c->in) {
			c->status = 0; /* not complete yet: keep reading */
			return;
		}
		c->state = DONE;
		if (used <= 0)
			c->status = -1; /* garbage, or too long: "other" */
		return;
	}
	/* EOF or error: a complete header block without a body still counts */
	if (n < 0)
		*failed_errno = errno;
	if (c->got > 0 && parse_response(c->in, c->got, true, &c->status) <= 0)
		c->status = -1;
	c->state = DONE;
}

static short conn_events(const struct tk_conn *c)
{
	switch (c->state) {
	case CONNECTING:
	case SENDING: return POLLOUT;
	case READING: return POLLIN;
	default: return 0;
	}
}

static int run_concurrent(const struct options *o)
{
	int n = o->conns, left = n, ok = 0, busy = 0, other = 0, none = 0;
	int failed_errno = 0;
	struct pollfd *pfd = calloc((size_t)n, sizeof *pfd);
	struct tk_conn *conn = calloc((size_t)n, sizeof *conn);
	long deadline = now_ms() + o->timeout_ms;

	if (pfd == NULL || conn == NULL)
		die("calloc");
	raise_fd_limit(n);
	for (int i = 0; i < n; i++) {
		pfd[i].fd = connect_local(o->port, true);
		pfd[i].events = POLLOUT;
	}
	/* every connection stays open until all are answered: otherwise freed
	 * server descriptors would be reused and a limit never reached */
	while (left > 0 && now_ms() < deadline) {
		int ready = poll(pfd, (nfds_t)n, (int)(deadline - now_ms()));

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			die("poll");
		for (int i = 0; i < n && ready > 0; i++) {
			if (pfd[i].revents == 0)
				continue;
			ready--;
			conn_step(&pfd[i], &conn[i], &o->steps[0], o->head, &failed_errno);
			pfd[i].events = conn_events(&conn[i]);
			if (conn[i].state == DONE) {
				pfd[i].fd = -pfd[i].fd - 1; /* poll skips fd < 0 */
				left--;
			}
		}
	}
	for (int i = 0; i < n; i++) {
		int s = conn[i].status;

		ok += s == 200;
		busy += s == 503;
		other += s != 200 && s != 503 && s != 0;
		none += s == 0;
		close(pfd[i].fd < 0 ? -pfd[i].fd - 1 : pfd[i].fd);
	}
	if (failed_errno)
		fprintf(stderr, "tcpkit: some connections failed, last: %s\n",
			strerror(failed_errno));
	printf("conns=%d 200=%d 503=%d other=%d none=%d\n", n, ok, busy, other, none);
	free(pfd);
	free(conn);
	return none == 0 ? EXIT_CLOSED : EXIT_MISSING;
}

/* ---------------------------------------------------------------- idle connections */

static int run_idle(const struct options *o)
{
	int n = o->idle, established = 0, closed = 0, failed_errno = 0;
	struct pollfd *pfd = calloc((size_t)n, sizeof *pfd);
	long deadline = now_ms() + o->timeout_ms;

	if (pfd == NULL)
		die("calloc");
	raise_fd_limit(n);
	for (int i = 0; i < n; i++) {
		pfd[i].fd = connect_local(o->port, true);
		pfd[i].events = POLLOUT;
	}
	/* phase 1: wait (up to -t) until every connect finished */
	for (int pending = n; pending > 0 && now_ms() < deadline;) {
		int ready = poll(pfd, (nfds_t)n, (int)(deadline - now_ms()));

		if (ready < 0 && errno != EINTR)
			die("poll");
		for (int i = 0; i < n && ready > 0; i++) {
			struct tk_conn c;

			if (pfd[i].revents == 0 || pfd[i].events != POLLOUT)
				continue;
			pending--;
			if (!tk_connected(&pfd[i], &c, &failed_errno)) {
				pfd[i].fd = -pfd[i].fd - 1; /* failed: ignore */
				continue;
			}
			established++;
			pfd[i].events = POLLRDHUP; /* now watch for a close */
		}
	}
	printf("established=%d\n", established);
	fflush(stdout); /* a test waiting in the background can go on */

	/* phase 2: hold them; note each one the server closes (idle timeout),
	 * and stop early once it has closed them all */
	deadline = now_ms() + o->hold_s * 1000L;
	for (long left; closed < established && (left = deadline - now_ms()) > 0;) {
		int ready = poll(pfd, (nfds_t)n, (int)left);

		if (ready < 0 && errno != EINTR)
			die("poll");
		for (int i = 0; i < n && ready > 0; i++) {
			if (pfd[i].revents == 0)
				continue;
			ready--;
			if (pfd[i].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLIN))
				closed++;
			pfd[i].fd = -pfd[i].fd - 1;
		}
	}
	for (int i = 0; i < n; i++)
		close(pfd[i].fd < 0 ? -pfd[i].fd - 1 : pfd[i].fd);
	if (failed_errno)
		fprintf(stderr, "tcpkit: some connects failed, last: %s\n", strerror(failed_errno));
	printf("conns=%d established=%d closed_by_server=%d\n", n, established, closed);
	free(pfd);
	return established == n ? EXIT_CLOSED : EXIT_MISSING;
}

/* ---------------------------------------------------------------- options */

/* A non-negative integer option, or a usage error naming the option. */
static long number(int opt, const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < 0 || v > 1000000000L) {
		fprintf(stderr, "tcpkit: -%c: not a number: %s\n", opt, arg);
		usage(stderr);
		exit(EXIT_USAGE);
	}
	return v;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	int c;

	*o = (struct options){ .reset_after = -1, .grace_ms = 100, .timeout_ms = 2000, .hold_s = 1 };
	while ((c = getopt(argc, argv, "s:f:k:d:wr:n:g:t:HxcC:I:S:h")) != -1) {
		if ((c == 's' || c == 'f') && o->nsteps == MAX_STEPS) {
			fprintf(stderr, "tcpkit: at most %d -s\n", MAX_STEPS);
			exit(EXIT_USAGE);
		}
		switch (c) {
		case 's':
			if (decode_escapes(optarg, &o->steps[o->nsteps++]) < 0) {
				fprintf(stderr, "tcpkit: -s: bad escape in %s\n", optarg);
				exit(EXIT_USAGE);
			}
			break;
		case 'f': load_file(optarg, &o->steps[o->nsteps++]); break;
		case 'k': o->chunk = (size_t)number(c, optarg); break;
		case 'd': o->delay_ms = (int)number(c, optarg); break;
		case 'w': o->half_close = true; break;
		case 'r': o->reset_after = number(c, optarg); break;
		case 'n': o->want = (int)number(c, optarg); break;
		case 'g': o->grace_ms = (int)number(c, optarg); break;
		case 't': o->timeout_ms = (int)number(c, optarg); break;
		case 'H': o->head = true; break;
		case 'x': o->escape = true; break;
		case 'c': o->summary = true; break;
		case 'C': o->conns = (int)number(c, optarg); break;
		case 'I': o->idle = (int)number(c, optarg); break;
		case 'S': o->hold_s = (int)number(c, optarg); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(EXIT_USAGE);
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "tcpkit: expected one PORT\n");
		usage(stderr);
		exit(EXIT_USAGE);
	}
	o->port = (int)number('p', argv[optind]);
	if (o->nsteps == 0)
		o->nsteps = 1; /* nothing to send: just connect */
}

int main(int argc, char **argv)
{
	struct options o;
	int status;

	program_name = "tcpkit";
	die_status = EXIT_ERROR;
	parse_options(argc, argv, &o);
	if (o.conns > 0)
		status = run_concurrent(&o);
	else if (o.idle > 0)
		status = run_idle(&o);
	else
		status = run_single(&o);
	/* freed so that a sanitizer build of tcpkit reports no leak */
	for (int i = 0; i < o.nsteps; i++)
		free(o.steps[i].data);
	return status;
}
