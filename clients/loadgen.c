/*
 * loadgen.c - the HTTP/1.1 load generator of c10k-lab.
 *
 *   bin/loadgen [-c CONNS] [-t THREADS] [-d SECONDS | -n REQUESTS] [--idle N]
 *               [--close] [--pipeline DEPTH] [--rate RPS] [--timeout MS]
 *               [--warmup SECONDS] [--format text|csv|json] [--header]
 *               [--tolerate] URL
 *
 *   bin/loadgen -c 50 -d 10 --idle 5000 http://127.0.0.1:8080/
 *
 * What it measures, and how:
 *   - Closed loop (default): each connection sends its next request when the
 *     answer to the last one arrives. Latency runs from the write.
 *   - Open loop (--rate): every request has an intended send time on a fixed
 *     schedule; a late request still counts its latency from that time, so a
 *     stalled server cannot hide its stall ("coordinated omission").
 *   - --idle N connections are opened first, send nothing, and are held for
 *     the whole run: the descriptors a readiness loop must carry.
 *   - Every response is parsed and checked; errors are counted by cause and
 *     never as successes. The exit status says whether the run was clean.
 *
 * Structure: T threads, each with its own epoll loop, its share of the
 * connections, its own counters and histograms (no locks on the hot path);
 * main merges them after pthread_join. Three atomics are shared: the -n
 * ticket counter, the open-connection count and the source address.
 *
 * Syscalls relied on (Linux >= 5.11 for epoll_pwait2):
 *   socket(SOCK_NONBLOCK) + connect -> EINPROGRESS; completion is EPOLLOUT
 *       and the outcome is read with getsockopt(SO_ERROR).
 *   epoll_pwait2   like epoll_wait but with a timespec timeout, so the open-loop
 *       schedule is kept to microseconds instead of epoll_wait's 1 ms ticks.
 *   prctl(PR_SET_TIMERSLACK) the kernel may otherwise delay a thread's timed
 *       wake-ups by up to 50 us to batch them; we ask for 1 ns.
 *   epoll level-triggered: a read that leaves bytes behind is reported again,
 *       so one read per event is enough and costs no extra EAGAIN syscall.
 *   send(MSG_NOSIGNAL)   a peer that has gone away gives EPIPE, not SIGPIPE.
 *   bind(127.0.0.x) + IP_BIND_ADDRESS_NO_PORT   more source addresses when one
 *       runs out of ephemeral ports (the port is then chosen at connect time).
 *   setrlimit(RLIMIT_NOFILE)  one descriptor per connection.
 */
#include "hist.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CONNS     10
#define DEFAULT_SECONDS   10.0
#define DEFAULT_TIMEOUT   5000             /* ms, for connects and for answers */
#define CONNECT_WINDOW    64               /* connects in progress per thread */
#define RETRY_NS          (100 * MS)       /* back-off after a failed connect */
#define SWEEP_NS          (20 * MS)        /* how often timeouts are checked */
#define READ_BUF          (64 * 1024)
#define MAX_HEAD          8192             /* a longer response head is a parse error */
#define MAX_EVENTS        256
#define MAX_PIPELINE      1024
#define SPARE_FDS         32               /* stdio, epoll fds, a margin */

#define US                1000ULL
#define MS                1000000ULL
#define SEC               1000000000ULL
#define NEVER             UINT64_MAX

/* ======================================================================== */
/* Configuration: set by parse_args, read-only once the threads run.        */
/* ======================================================================== */

enum mode   { MODE_CLOSED, MODE_OPEN, MODE_CLOSE };
enum format { FMT_TEXT, FMT_CSV, FMT_JSON };

struct config {
	const char *url;
	char host[256];
	int port;
	const char *path;
	struct sockaddr_in dst;
	bool loopback;                  /* dst in 127/8: may spread source addresses */

	int conns, threads, idle, pipeline, timeout_ms;
	double seconds, warmup, rate;
	uint64_t max_requests;          /* -n; 0 = timed run */
	bool close, header, tolerate;
	enum mode mode;
	enum format format;

	char *req;                      /* pipeline + 1 copies of the request */
	size_t req_len;                 /* of one copy */
};

static struct config cfg;

static const char *const mode_name[] = { "closed", "open", "close-per-request" };

/* ======================================================================== */
/* Errors by cause. The order is the CSV order.                             */
/* ======================================================================== */

enum err {
	ERR_REFUSED,            /* ECONNREFUSED: nothing listening */
	ERR_CONNECT_TIMEOUT,    /* no SYN-ACK within --timeout */
	ERR_ADDR_UNAVAIL,       /* EADDRNOTAVAIL: out of ports on every source address */
	ERR_EMFILE,             /* EMFILE/ENFILE: out of descriptors */
	ERR_RESET,              /* ECONNRESET/EPIPE */
	ERR_EOF,                /* server closed with a request unanswered */
	ERR_TIMEOUT,            /* no answer within --timeout */
	ERR_STATUS,             /* not an "HTTP/1.x NNN" status line, or a 1xx */
	ERR_PARSE,              /* bad header, no Content-Length, unasked-for bytes */
	ERR_OTHER,              /* any other errno, named on stderr once */
	NERR
};

static const char *const err_name[NERR] = {
	"refused", "connect_timeout", "addr_unavailable", "emfile", "reset",
	"eof", "timeout", "status", "parse", "other",
};

/* ======================================================================== */
/* Per-connection and per-thread state.                                     */
/* ======================================================================== */

enum cstate {
	S_QUEUED,       /* waiting for a place in the connect window */
	S_CONNECTING,   /* connect() in progress, EPOLLOUT armed */
	S_OPEN,         /* established */
	S_BACKOFF,      /* a connect failed; retried at retry_at */
	S_SPARE,        /* --close --rate: closed, waiting for the next ticket */
	S_DONE,         /* retired for the rest of the run */
};

struct conn {
	int fd;
	uint8_t state;
	bool idle;              /* an --idle connection: never sends */
	bool ever;              /* has been established at least once */
	bool in_ready;          /* on the worker's ready stack (open loop) */
	bool in_body;           /* parser: reading a body, body_left bytes to go */
	bool keep;              /* parser: the server keeps the connection open */
	bool draining;          /* --close: answer read, waiting for the server's FIN */
	bool out_armed;         /* EPOLLOUT armed for a blocked write */
	uint8_t src;            /* source address 127.0.0.(src + 1); 0: the kernel's choice */
	uint16_t status;
	uint16_t carry_len;     /* bytes of an incomplete response head in carry */
	char *carry;
	uint32_t body_left;
	uint32_t inflight;      /* requests owed an answer; their times in sent[] */
	uint32_t head;          /* oldest entry of the sent[] ring */
	uint32_t out_off, out_len;      /* unsent part of cfg.req */
	uint64_t *sent;         /* ring of cfg.pipeline send (or intended) times */
	uint64_t t_connect;     /* when connect() was called */
	uint64_t deadline;      /* timeout of what we wait for */
	uint64_t retry_at;
};

struct worker {
	int id;
	pthread_t tid;
	int ep;
	char *buf;
	struct epoll_event events[MAX_EVENTS];

	struct conn *conns;             /* idle ones first, then the active ones */
	int nidle, nactive;
	struct conn **queue;            /* connect FIFO, one place per connection */
	int qhead, qlen;
	int connecting;
	struct conn **ready;            /* open loop: connections that may send */
	int nready;

	uint64_t t_start, warm_end, deadline, next_sweep;
	bool stopping;
	uint64_t pending;               /* requests owed an answer, all connections */
	int live;                       /* active connections not S_DONE */

	uint64_t interval;              /* open loop: ns between this thread's tickets */
	uint64_t next_tick;             /* intended time of the next ticket */
	uint64_t backlog, backlog_first;/* tickets due but not sent, oldest time */
	bool ticks_over;                /* -n reached: no more tickets */

	uint64_t *stamps;               /* every connection's sent[] ring */
	struct hist *lat, *conn_lat;
	uint64_t requests, non2xx, bytes, established, err[NERR];
	int idle_held, idle_closed;
	double window_s;
};

static pthread_barrier_t idle_barrier;
/* SIGINT/SIGTERM: stop early. Set by the handler in the main thread, read by
   every worker: volatile sig_atomic_t is enough for a handler and the thread
   it interrupts, but between threads only an atomic is (make tsan caught it).
   A lock-free atomic is safe in a signal handler (C11 7.14.1.1). */
static atomic_int got_signal;
static atomic_uint_fast64_t g_claimed;  /* -n tickets handed out */
static atomic_int g_src_shift;          /* sources skipped after EADDRNOTAVAIL */
static atomic_int g_open, g_peak;       /* established active connections */
static atomic_bool g_warned_other;

/* ======================================================================== */
/* Small helpers.                                                           */
/* ======================================================================== */

static void die(const char *what) __attribute__((noreturn));
static void die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void die_en(const char *what, int en) __attribute__((noreturn));
static void die_en(const char *what, int en)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(en));
	exit(1);
}

static void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n(loadgen -h explains every option)\n", stderr);
	va_end(ap);
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		die("calloc");
	return p;
}

static bool stop_requested(void)
{
	return atomic_load_explicit(&got_signal, memory_order_relaxed);
}

/* ======================================================================== */
/* Non-blocking I/O with a three-state result.                              */
/* ======================================================================== */

enum io { IO_OK, IO_RETRY, IO_ERROR };

/* IO_OK with *n bytes (0 = the peer closed), IO_RETRY on EAGAIN, or IO_ERROR
 * with errno set. */
static enum io io_read(int fd, char *buf, size_t size, size_t *n)
{
	ssize_t r;
	do
		r = read(fd, buf, size);
	while (r < 0 && errno == EINTR);
	if (r >= 0) {
		*n = (size_t)r;
		return IO_OK;
	}
	return errno == EAGAIN ? IO_RETRY : IO_ERROR;
}

/* IO_OK with *n bytes written (maybe fewer than len), IO_RETRY, IO_ERROR. */
static enum io io_write(int fd, const char *buf, size_t len, size_t *n)
{
	ssize_t r;
	do
		r = send(fd, buf, len, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r >= 0) {
		*n = (size_t)r;
		return IO_OK;
	}
	return errno == EAGAIN ? IO_RETRY : IO_ERROR;
}

static enum err classify(int en, bool connecting)
{
	switch (en) {
	case ECONNREFUSED:                  return ERR_REFUSED;
	case ETIMEDOUT:                     return connecting ? ERR_CONNECT_TIMEOUT : ERR_TIMEOUT;
	case EADDRNOTAVAIL:                 return ERR_ADDR_UNAVAIL;
	case EMFILE: case ENFILE:           return ERR_EMFILE;
	case ECONNRESET: case EPIPE:
	case ECONNABORTED:                  return ERR_RESET;
	default:
		if (!atomic_exchange(&g_warned_other, true))
			fprintf(stderr, "loadgen: warning: %s (counted as err_other)\n",
				strerror(en));
		return ERR_OTHER;
	}
}

/* ======================================================================== */
/* The response parser: status line, headers, a Content-Length body.        */
/* ======================================================================== */

/* Returns the length of the head (through the blank line) if p[0..n) holds a
 * complete one, else 0. */
static size_t head_length(const char *p, size_t n)
{
	const char *end = memmem(p, n, "\r\n\r\n", 4);
	return end ? (size_t)(end - p) + 4 : 0;
}

/* Parses one header line [p, e); returns 0 or the error. */
static int parse_header(struct conn *c, const char *p, const char *e, bool *have_len)
{
	const char *colon = memchr(p, ':', (size_t)(e - p));
	if (!colon || colon == p)
		return ERR_PARSE;
	size_t nlen = (size_t)(colon - p);
	const char *v = colon + 1;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	if (nlen == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
		uint64_t len = 0;
		if (v == e || *have_len)
			return ERR_PARSE;
		for (; v < e && *v != ' ' && *v != '\t'; v++) {
			if (*v < '0' || *v > '9' || len > UINT32_MAX / 10)
				return ERR_PARSE;
			len = len * 10 + (uint64_t)(*v - '0');
		}
		if (len > UINT32_MAX)
			return ERR_PARSE;
		c->body_left = (uint32_t)len;
		*have_len = true;
	} else if (nlen == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
		return ERR_PARSE;               /* chunked bodies: not what we test */
	} else if (nlen == 10 && strncasecmp(p, "Connection", 10) == 0) {
		if (memmem(v, (size_t)(e - v), "close", 5))
			c->keep = false;
		else if (memmem(v, (size_t)(e - v), "eep-alive", 9))
			c->keep = true;
	}
	return 0;
}

/* Parses a complete head h[0..len); sets status, keep, body_left, in_body.
 * Returns 0 or the error. */
static int parse_head(struct conn *c, const char *h, size_t len)
{
	const char *end = h + len - 2;          /* the final CRLF */
	if (len < 17 || memcmp(h, "HTTP/1.", 7) != 0 || (h[7] != '0' && h[7] != '1') ||
	    h[8] != ' ' || h[9] < '1' || h[9] > '5' || h[10] < '0' || h[10] > '9' ||
	    h[11] < '0' || h[11] > '9' || (h[12] != ' ' && h[12] != '\r'))
		return ERR_STATUS;
	c->status = (uint16_t)((h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0'));
	if (c->status < 200)
		return ERR_STATUS;              /* we never send Expect: no 1xx */
	c->keep = h[7] == '1';
	bool have_len = false;
	const char *p = (const char *)memchr(h, '\n', len) + 1;
	while (p < end) {
		const char *e = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
		int err = parse_header(c, p, e, &have_len);
		if (err)
			return err;
		p = e + 2;
	}
	if (!have_len) {
		if (c->status != 204 && c->status != 304)
			return ERR_PARSE;
		c->body_left = 0;
	}
	c->in_body = true;
	return 0;
}

/* Consumes bytes of a response head from p[0..n). Returns how many, with
 * the head parsed once it is complete, or -1 with *why set. An incomplete
 * head waits in c->carry for the next read. */
static long take_head(struct conn *c, const char *p, size_t n, int *why)
{
	if (c->carry_len == 0) {
		size_t len = head_length(p, n);
		if (len) {
			*why = parse_head(c, p, len);
			return *why ? -1 : (long)len;
		}
	}
	if (!c->carry && !(c->carry = malloc(MAX_HEAD)))
		die("malloc");
	size_t old = c->carry_len;
	size_t k = n < MAX_HEAD - old ? n : MAX_HEAD - old;
	memcpy(c->carry + old, p, k);
	c->carry_len = (uint16_t)(old + k);
	size_t from = old > 3 ? old - 3 : 0;
	size_t len = head_length(c->carry + from, c->carry_len - from);
	if (!len) {
		*why = ERR_PARSE;
		return c->carry_len == MAX_HEAD ? -1 : (long)k;
	}
	len += from;
	c->carry_len = 0;
	*why = parse_head(c, c->carry, len);
	return *why ? -1 : (long)(len - old);
}

/* ======================================================================== */
/* Connections: open, close, fail, recycle.                                 */
/* ======================================================================== */

static bool in_window(const struct worker *w, uint64_t now)
{
	return now >= w->warm_end && now <= w->deadline;
}

static bool tickets_left(void)
{
	return cfg.max_requests == 0 ||
	       atomic_load_explicit(&g_claimed, memory_order_relaxed) < cfg.max_requests;
}

/* Returns how many of `want` requests may be sent: all in a timed run, what
 * is left of -n otherwise (this is what makes -n stop at exactly N). */
static uint32_t claim(uint32_t want)
{
	if (cfg.max_requests == 0)
		return want;
	uint64_t old = atomic_fetch_add(&g_claimed, want);
	if (old >= cfg.max_requests)
		return 0;
	uint64_t left = cfg.max_requests - old;
	return want < left ? want : (uint32_t)left;
}

static void epoll_set(struct worker *w, struct conn *c, int op, uint32_t events)
{
	struct epoll_event ev;
	memset(&ev, 0, sizeof ev);
	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(w->ep, op, c->fd, &ev) < 0)
		die("epoll_ctl");
}

static void conn_queue(struct worker *w, struct conn *c)
{
	int total = w->nidle + w->nactive;
	c->state = S_QUEUED;
	w->queue[(w->qhead + w->qlen) % total] = c;
	w->qlen++;
}

static void ready_push(struct worker *w, struct conn *c)
{
	if (!c->in_ready) {
		c->in_ready = true;
		w->ready[w->nready++] = c;
	}
}

/* Closes the descriptor and forgets everything in flight on it. */
static void conn_close(struct worker *w, struct conn *c)
{
	if (c->fd < 0)
		return;
	close(c->fd);                   /* also removes it from the epoll set */
	c->fd = -1;
	if (c->state == S_CONNECTING)
		w->connecting--;
	if (c->state == S_OPEN && !c->idle)
		atomic_fetch_sub(&g_open, 1);
	w->pending -= c->inflight;
	c->inflight = c->head = 0;
	c->out_off = c->out_len = 0;
	c->carry_len = 0;
	c->in_body = c->draining = c->out_armed = false;
}

static void conn_retire(struct worker *w, struct conn *c)
{
	conn_close(w, c);
	if (c->state != S_DONE && !c->idle)
		w->live--;
	c->state = S_DONE;
}

/* After a closed connection: reconnect, back off, wait for a ticket, or retire. */
static void conn_recycle(struct worker *w, struct conn *c, bool backoff)
{
	if (c->idle || w->stopping || !tickets_left()) {
		conn_retire(w, c);
	} else if (backoff) {
		c->state = S_BACKOFF;
		c->retry_at = now_ns() + RETRY_NS;
	} else if (cfg.mode == MODE_CLOSE && cfg.rate > 0) {
		c->state = S_SPARE;
		ready_push(w, c);
	} else {
		conn_queue(w, c);
	}
}

/* A connection's error: counted by cause, the connection closed and reused. */
static void conn_fail(struct worker *w, struct conn *c, enum err why)
{
	bool connecting = c->state != S_OPEN;
	w->err[why]++;
	conn_close(w, c);
	if (connecting && cfg.max_requests)
		conn_retire(w, c);      /* -n: a refused connect would retry forever */
	else
		conn_recycle(w, c, connecting);
}

/* Binds fd to source address 127.0.0.(src + 1), port chosen at connect. */
static int bind_source(int fd, int src)
{
	struct sockaddr_in a;
	int one = 1;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)src);
	if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0)
		return -1;
	return bind(fd, (struct sockaddr *)&a, sizeof a);
}

/* socket + non-blocking connect from source `base` (see assign_sources); on
 * EADDRNOTAVAIL moves every thread on to the next 127.0.0.x source. Returns 0
 * (in progress or done) or an errno. */
static int start_connect(int *fdp, int base)
{
	for (;;) {
		int shift = atomic_load(&g_src_shift);
		int src = (base + shift) % 254;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return errno;
		if ((src == 0 || bind_source(fd, src) == 0) &&
		    (connect(fd, (struct sockaddr *)&cfg.dst, sizeof cfg.dst) == 0 ||
		     errno == EINPROGRESS)) {
			*fdp = fd;
			return 0;
		}
		int en = errno;
		close(fd);
		if (en != EADDRNOTAVAIL || !cfg.loopback || shift >= 253)
			return en;
		atomic_compare_exchange_strong(&g_src_shift, &shift, shift + 1);
	}
}

static void on_connected(struct worker *w, struct conn *c);

static void conn_start(struct worker *w, struct conn *c)
{
	c->t_connect = now_ns();
	c->deadline = c->t_connect + (uint64_t)cfg.timeout_ms * MS;
	int en = start_connect(&c->fd, c->src);
	if (en) {
		c->fd = -1;
		c->state = S_QUEUED;
		conn_fail(w, c, classify(en, true));
		return;
	}
	c->state = S_CONNECTING;
	w->connecting++;
	epoll_set(w, c, EPOLL_CTL_ADD, EPOLLOUT);
}

/* Starts queued connects while the window has room: a backlog of SYNs the
 * server has not accepted yet is never more than CONNECT_WINDOW per thread. */
static void pump_connects(struct worker *w)
{
	int total = w->nidle + w->nactive;
	while (w->qlen > 0 && w->connecting < CONNECT_WINDOW) {
		struct conn *c = w->queue[w->qhead];
		w->qhead = (w->qhead + 1) % total;
		w->qlen--;
		if (cfg.mode == MODE_CLOSE && cfg.rate == 0 && !c->idle) {
			if (claim(1) == 0) {    /* --close -n: one connect per request */
				conn_retire(w, c);
				continue;
			}
			c->sent[0] = 0;         /* stamped at the write */
			c->inflight = 1;
			w->pending++;
		}
		conn_start(w, c);
	}
}

static void on_connect_event(struct worker *w, struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		conn_fail(w, c, classify(err, true));
		return;
	}
	w->connecting--;
	on_connected(w, c);
}

/* ======================================================================== */
/* Requests and responses.                                                  */
/* ======================================================================== */

static void set_out_armed(struct worker *w, struct conn *c, bool on)
{
	if (c->out_armed != on) {
		c->out_armed = on;
		epoll_set(w, c, EPOLL_CTL_MOD, on ? EPOLLIN | EPOLLOUT : EPOLLIN);
	}
}

/* Writes what is left of the output; a short write arms EPOLLOUT. */
static void flush(struct worker *w, struct conn *c)
{
	size_t n;
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
	case IO_RETRY:
		set_out_armed(w, c, true);
		break;
	case IO_ERROR:
		conn_fail(w, c, classify(errno, false));
		break;
	}
}

/* Queues k requests stamped `t` and writes them. cfg.req holds pipeline + 1
 * copies of the request, so any k <= pipeline fits after a partial write. */
static void send_requests(struct worker *w, struct conn *c, uint32_t k, uint64_t t)
{
	if (k == 0)
		return;
	if (c->inflight == 0)
		c->deadline = t + (uint64_t)cfg.timeout_ms * MS;
	for (uint32_t i = 0; i < k; i++)
		c->sent[(c->head + c->inflight + i) % (uint32_t)cfg.pipeline] = t;
	c->inflight += k;
	w->pending += k;
	uint32_t whole = c->out_off / (uint32_t)cfg.req_len * (uint32_t)cfg.req_len;
	c->out_off -= whole;
	c->out_len -= whole;
	c->out_len += k * (uint32_t)cfg.req_len;
	flush(w, c);
}

static void on_connected(struct worker *w, struct conn *c)
{
	uint64_t now = now_ns();
	c->state = S_OPEN;
	if (c->idle) {
		epoll_set(w, c, EPOLL_CTL_MOD, EPOLLIN);
		return;
	}
	if (!c->ever) {
		c->ever = true;
		w->established++;
	}
	int open = atomic_fetch_add(&g_open, 1) + 1;
	int peak = atomic_load(&g_peak);
	while (open > peak && !atomic_compare_exchange_weak(&g_peak, &peak, open))
		;
	hist_record(w->conn_lat, now - c->t_connect);
	epoll_set(w, c, EPOLL_CTL_MOD, EPOLLIN);
	if (cfg.mode == MODE_CLOSE) {           /* the ticket was taken already */
		if (c->sent[0] == 0)
			c->sent[0] = now;
		c->deadline = now + (uint64_t)cfg.timeout_ms * MS;
		c->out_len = (uint32_t)cfg.req_len;
		flush(w, c);
	} else if (cfg.mode == MODE_OPEN) {
		ready_push(w, c);
	} else {
		send_requests(w, c, claim((uint32_t)cfg.pipeline), now);
	}
}

/* One complete, valid response: its latency and its count. */
static void finish_response(struct worker *w, struct conn *c, uint64_t now)
{
	uint64_t t = c->sent[c->head];
	c->head = (c->head + 1) % (uint32_t)cfg.pipeline;
	c->inflight--;
	w->pending--;
	c->in_body = false;
	c->deadline = now + (uint64_t)cfg.timeout_ms * MS;
	if (!in_window(w, now))
		return;
	if (c->status >= 200 && c->status < 300) {
		w->requests++;
		hist_record(w->lat, now - t);
	} else {
		w->non2xx++;
	}
}

/* Parses p[0..n); returns how many responses completed, or -1 after failing
 * the connection. Stops after a response that ends the connection. */
static int parse_responses(struct worker *w, struct conn *c, const char *p, size_t n,
			   uint64_t now)
{
	int done = 0;
	while (n > 0) {
		if (c->inflight == 0 || c->draining) {
			conn_fail(w, c, ERR_PARSE);     /* bytes nobody asked for */
			return -1;
		}
		if (!c->in_body) {
			int why;
			long k = take_head(c, p, n, &why);
			if (k < 0) {
				conn_fail(w, c, (enum err)why);
				return -1;
			}
			p += k;
			n -= (size_t)k;
			if (!c->in_body)
				break;                  /* head continues in the next read */
		}
		size_t k = n < c->body_left ? n : c->body_left;
		c->body_left -= (uint32_t)k;
		p += k;
		n -= k;
		if (c->body_left == 0) {
			finish_response(w, c, now);
			done++;
			if (!c->keep || cfg.mode == MODE_CLOSE)
				c->draining = true;     /* only the server's FIN may follow */
		}
	}
	return done;
}

/* What a connection does after `done` responses: close, send more, or wait.
 * Past the deadline it sends nothing more, so that the server's count can
 * exceed ours only by the requests in flight at the deadline. */
static void after_responses(struct worker *w, struct conn *c, uint32_t done, uint64_t now)
{
	if (c->draining) {
		if (cfg.mode == MODE_CLOSE && c->keep == false)
			c->deadline = now_ns() + (uint64_t)cfg.timeout_ms * MS;
		else if (cfg.mode == MODE_CLOSE || c->inflight == 0) {
			conn_close(w, c);               /* we close: the answer is whole */
			conn_recycle(w, c, false);
		} else {
			conn_fail(w, c, ERR_EOF);       /* requests left on a closing line */
		}
		return;
	}
	if (cfg.mode == MODE_CLOSED && now <= w->deadline)
		send_requests(w, c, claim(done), now);
	else if (cfg.mode == MODE_OPEN && done)
		ready_push(w, c);
}

/* The peer closed its side: expected after a --close answer, else early EOF. */
static void on_eof(struct worker *w, struct conn *c)
{
	bool expected = c->draining || (c->inflight == 0 && !c->in_body && c->carry_len == 0);
	if (!expected) {
		conn_fail(w, c, ERR_EOF);
		return;
	}
	conn_close(w, c);
	conn_recycle(w, c, false);
}

static void on_readable(struct worker *w, struct conn *c)
{
	size_t n;
	switch (io_read(c->fd, w->buf, READ_BUF, &n)) {
	case IO_OK:
		if (n == 0) {
			on_eof(w, c);
			break;
		}
		uint64_t now = now_ns();
		if (in_window(w, now))
			w->bytes += n;
		int done = parse_responses(w, c, w->buf, n, now);
		if (done >= 0)
			after_responses(w, c, (uint32_t)done, now);
		break;
	case IO_RETRY:
		break;
	case IO_ERROR:
		conn_fail(w, c, classify(errno, false));
		break;
	}
}

/* An idle connection should never become readable: either the server closed
 * it (counted as idle_closed) or it sent something we ignore. */
static void on_idle_event(struct worker *w, struct conn *c)
{
	size_t n;
	switch (io_read(c->fd, w->buf, READ_BUF, &n)) {
	case IO_OK:
		if (n == 0) {
			w->idle_closed++;
			conn_retire(w, c);
		}
		break;
	case IO_RETRY:
		break;
	case IO_ERROR:
		w->idle_closed++;
		conn_retire(w, c);
		break;
	}
}

static void on_event(struct worker *w, struct conn *c, uint32_t events)
{
	switch (c->state) {
	case S_CONNECTING:
		on_connect_event(w, c);
		break;
	case S_OPEN:
		if (c->idle) {
			on_idle_event(w, c);
			break;
		}
		if ((events & EPOLLOUT) && c->out_len > 0)
			flush(w, c);
		if (c->state == S_OPEN && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
			on_readable(w, c);
		break;
	default:
		break;                  /* closed earlier in this batch of events */
	}
}

/* ======================================================================== */
/* Open loop: the schedule of intended send times.                          */
/* ======================================================================== */

/* Takes a connection that may send now off the ready stack, or NULL. */
static struct conn *ready_pop(struct worker *w)
{
	while (w->nready > 0) {
		struct conn *c = w->ready[w->nready - 1];
		bool usable = cfg.mode == MODE_CLOSE
			? c->state == S_SPARE
			: c->state == S_OPEN && !c->draining && c->inflight < (uint32_t)cfg.pipeline;
		if (usable)
			return c;
		c->in_ready = false;
		w->nready--;
	}
	return NULL;
}

/* Turns every ticket due by `now` into a request on a free connection; a
 * ticket with no free connection waits, and its latency keeps counting. */
static void dispatch(struct worker *w, uint64_t now)
{
	while (!w->ticks_over && w->next_tick <= now) {
		if (claim(1) == 0) {
			w->ticks_over = true;
			break;
		}
		if (w->backlog++ == 0)
			w->backlog_first = w->next_tick;
		w->next_tick += w->interval;
	}
	struct conn *c;
	while (w->backlog > 0 && (c = ready_pop(w)) != NULL) {
		uint64_t t = w->backlog_first;
		w->backlog--;
		w->backlog_first += w->interval;
		if (cfg.mode == MODE_CLOSE) {
			c->in_ready = false;
			w->nready--;
			c->sent[0] = t;
			c->inflight = 1;
			w->pending++;
			conn_queue(w, c);
		} else {
			send_requests(w, c, 1, t);
		}
	}
}

/* ======================================================================== */
/* The event loop of one thread.                                            */
/* ======================================================================== */

/* Times out connects and answers, and retries backed-off connects. */
static void sweep(struct worker *w, uint64_t now)
{
	for (int i = 0; i < w->nidle + w->nactive; i++) {
		struct conn *c = &w->conns[i];
		if (c->state == S_CONNECTING && now > c->deadline)
			conn_fail(w, c, ERR_CONNECT_TIMEOUT);
		else if (c->state == S_OPEN && (c->inflight > 0 || c->draining) &&
			 now > c->deadline)
			conn_fail(w, c, ERR_TIMEOUT);
		else if (c->state == S_BACKOFF && now >= c->retry_at)
			conn_recycle(w, c, false);
	}
	w->next_sweep = now + SWEEP_NS;
}

static bool idle_phase_over(const struct worker *w)
{
	return (w->qlen == 0 && w->connecting == 0) || stop_requested();
}

static bool run_over(struct worker *w, uint64_t now)
{
	if (stop_requested() || now >= w->deadline)
		return true;
	if (cfg.max_requests == 0)
		return false;
	if (w->live == 0)
		return true;
	return !tickets_left() && w->pending == 0 && w->backlog == 0;
}

static uint64_t next_wake(const struct worker *w)
{
	uint64_t t = w->next_sweep < w->deadline ? w->next_sweep : w->deadline;
	if (!w->ticks_over && w->next_tick < t)
		t = w->next_tick;               /* open loop: the next intended send */
	return t;
}

static void wait_events(struct worker *w, uint64_t now, uint64_t until)
{
	uint64_t d = until > now ? until - now : 0;
	struct timespec ts = { .tv_sec = (time_t)(d / SEC), .tv_nsec = (long)(d % SEC) };
	int n = epoll_pwait2(w->ep, w->events, MAX_EVENTS, &ts, NULL);
	if (n < 0) {
		if (errno == EINTR)
			return;
		die("epoll_pwait2");
	}
	for (int i = 0; i < n; i++)
		on_event(w, w->events[i].data.ptr, w->events[i].events);
}

/* Runs the loop until over(w, now) says so. */
static void run_loop(struct worker *w, bool idle_phase)
{
	for (;;) {
		uint64_t now = now_ns();
		if (now >= w->next_sweep)
			sweep(w, now);
		if (!idle_phase && cfg.rate > 0)
			dispatch(w, now);
		pump_connects(w);
		if (idle_phase ? idle_phase_over(w) : run_over(w, now))
			break;
		wait_events(w, now, next_wake(w));
	}
}

static void start_run(struct worker *w)
{
	w->t_start = now_ns();
	w->warm_end = w->t_start + (uint64_t)(cfg.warmup * SEC);
	w->deadline = cfg.max_requests ? NEVER : w->warm_end + (uint64_t)(cfg.seconds * SEC);
	w->next_tick = w->t_start + w->interval * (uint64_t)w->id / (uint64_t)cfg.threads;
	w->live = w->nactive;
	for (int i = w->nidle; i < w->nidle + w->nactive; i++) {
		if (cfg.mode == MODE_CLOSE && cfg.rate > 0) {
			w->conns[i].state = S_SPARE;
			ready_push(w, &w->conns[i]);
		} else {
			conn_queue(w, &w->conns[i]);
		}
	}
}

static void finish_run(struct worker *w)
{
	uint64_t end = now_ns();
	if (end > w->deadline)
		end = w->deadline;
	w->window_s = end > w->warm_end ? (double)(end - w->warm_end) / SEC : 0.0;
	w->stopping = true;
	for (int i = 0; i < w->nidle + w->nactive; i++) {
		struct conn *c = &w->conns[i];
		if (c->idle && c->state == S_OPEN)
			w->idle_held++;
		conn_close(w, c);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);   /* 1 ns: keep the schedule */
	w->deadline = NEVER;
	for (int i = 0; i < w->nidle; i++)
		conn_queue(w, &w->conns[i]);
	run_loop(w, true);
	int rc = pthread_barrier_wait(&idle_barrier);  /* all idle opened, then load */
	if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
		die_en("pthread_barrier_wait", rc);
	start_run(w);
	run_loop(w, false);
	finish_run(w);
	return NULL;
}

/* ======================================================================== */
/* Set-up: workers, descriptors, the request, the URL.                      */
/* ======================================================================== */

/* How many connections to one destination may share a source address.
 * Linux gives connect() the ports of one parity first (bind() gets the
 * others); once those are taken, every connect() scans the whole range and
 * slows down a hundredfold. So we stop at half of ip_local_port_range, less a
 * margin for other programs, and move on to the next 127.0.0.x. */
static int per_source(void)
{
	int lo = 32768, hi = 60999;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (f) {
		if (fscanf(f, "%d %d", &lo, &hi) != 2)
			lo = 32768, hi = 60999;
		fclose(f);
	}
	int n = (hi - lo + 1) / 2 - 1000;
	return n > 1000 ? n : 1000;
}

/* Thread i's share of n: n / T, plus one of the remainder for the first ones. */
static int share(int n, int i)
{
	return n / cfg.threads + (i < n % cfg.threads);
}

/* first: this thread's first connection, numbered across all threads. */
static void worker_init(struct worker *w, int id, int first, int per_src)
{
	w->id = id;
	w->nidle = share(cfg.idle, id);
	w->nactive = share(cfg.conns, id);
	int total = w->nidle + w->nactive;
	w->conns = xcalloc((size_t)total, sizeof *w->conns);
	w->queue = xcalloc((size_t)total, sizeof *w->queue);
	w->ready = xcalloc((size_t)total, sizeof *w->ready);
	w->stamps = xcalloc((size_t)w->nactive * (size_t)cfg.pipeline, sizeof *w->stamps);
	for (int i = 0; i < total; i++) {
		w->conns[i].fd = -1;
		w->conns[i].idle = i < w->nidle;
		if (cfg.loopback)
			w->conns[i].src = (uint8_t)(((first + i) / per_src) % 254);
		if (i >= w->nidle)
			w->conns[i].sent = w->stamps + (size_t)(i - w->nidle) * (size_t)cfg.pipeline;
	}
	w->buf = xcalloc(1, READ_BUF);
	w->lat = hist_new();
	w->conn_lat = hist_new();
	if (!w->lat || !w->conn_lat)
		die("hist_new");
	if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	if (cfg.rate > 0 && w->nactive > 0)      /* this thread's share of the rate */
		w->interval = (uint64_t)((double)SEC * cfg.conns / (cfg.rate * w->nactive));
	else
		w->ticks_over = true;
}

static void worker_free(struct worker *w)
{
	for (int i = 0; i < w->nidle + w->nactive; i++)
		free(w->conns[i].carry);
	free(w->stamps);
	free(w->conns);
	free(w->queue);
	free(w->ready);
	free(w->buf);
	hist_free(w->lat);
	hist_free(w->conn_lat);
	close(w->ep);
}

/* Soft limit up to the hard one; as root, the hard one up toward nr_open. */
static void raise_nofile(void)
{
	rlim_t need = (rlim_t)cfg.conns + (rlim_t)cfg.idle + SPARE_FDS + 2 * (rlim_t)cfg.threads;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit(RLIMIT_NOFILE)");
	if (rl.rlim_max < need) {
		rlim_t nr_open = need;
		FILE *f = fopen("/proc/sys/fs/nr_open", "r");
		unsigned long v;
		if (f && fscanf(f, "%lu", &v) == 1 && v < need)
			nr_open = v;
		if (f)
			fclose(f);
		struct rlimit up = { nr_open, nr_open };
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;                /* allowed: we are root (CAP_SYS_RESOURCE) */
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			die("setrlimit(RLIMIT_NOFILE)");
	}
	if (rl.rlim_cur < need)
		fprintf(stderr, "loadgen: WARNING: the descriptor limit (%llu) caps this run: "
			"%d connections asked, at most %llu can open; raise it with "
			"`ulimit -n` or run as root\n", (unsigned long long)rl.rlim_cur,
			cfg.conns + cfg.idle,
			(unsigned long long)(rl.rlim_cur > SPARE_FDS ? rl.rlim_cur - SPARE_FDS : 0));
}

/* The request, written once: pipeline + 1 copies back to back. */
static void build_request(void)
{
	char one[2048];
	int n = snprintf(one, sizeof one, "GET %s HTTP/1.1\r\nHost: %s%s%.0d\r\n%s\r\n",
			 cfg.path, cfg.host, cfg.port == 80 ? "" : ":",
			 cfg.port == 80 ? 0 : cfg.port,
			 cfg.close ? "Connection: close\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof one)
		usage_error("URL too long: %s", cfg.url);
	cfg.req_len = (size_t)n;
	cfg.req = xcalloc((size_t)cfg.pipeline + 1, cfg.req_len);
	for (int i = 0; i <= cfg.pipeline; i++)
		memcpy(cfg.req + (size_t)i * cfg.req_len, one, cfg.req_len);
}

/* http://HOST[:PORT][/PATH] into cfg.host, cfg.port, cfg.path and cfg.dst. */
static void parse_url(const char *url)
{
	cfg.url = url;
	if (strncmp(url, "http://", 7) != 0)
		usage_error("URL must start with http:// (got '%s')", url);
	const char *h = url + 7;
	size_t hlen = strcspn(h, ":/");
	if (hlen == 0 || hlen >= sizeof cfg.host)
		usage_error("no host in URL '%s'", url);
	memcpy(cfg.host, h, hlen);
	cfg.host[hlen] = '\0';
	const char *rest = h + hlen;
	cfg.port = 80;
	if (*rest == ':') {
		char *end;
		long p = strtol(rest + 1, &end, 10);
		if (end == rest + 1 || p < 1 || p > 65535 || (*end && *end != '/'))
			usage_error("bad port in URL '%s'", url);
		cfg.port = (int)p;
		rest = end;
	}
	cfg.path = *rest ? rest : "/";

	struct addrinfo hints, *ai;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(cfg.host, NULL, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "loadgen: getaddrinfo(%s): %s\n", cfg.host, gai_strerror(rc));
		exit(2);
	}
	memcpy(&cfg.dst, ai->ai_addr, sizeof cfg.dst);
	cfg.dst.sin_port = htons((uint16_t)cfg.port);
	freeaddrinfo(ai);
	cfg.loopback = (ntohl(cfg.dst.sin_addr.s_addr) >> 24) == 127;
}

/* ======================================================================== */
/* Options.                                                                 */
/* ======================================================================== */

static void usage(void)
{
	printf(
"usage: loadgen [options] URL            URL is http://HOST[:PORT][/PATH]\n"
"\n"
"  -c CONNS          active connections (default %d), spread evenly over threads\n"
"  -t THREADS        threads, one epoll loop each (default 1)\n"
"  -d SECONDS        measure for this long (default %.0f; decimals allowed)\n"
"  -n REQUESTS       instead of -d: send exactly this many requests, then stop\n"
"  --idle N          open N more connections first; they send nothing and are\n"
"                    held for the whole run (idle descriptors for the server)\n"
"  --close           a new connection per request (Connection: close); the\n"
"                    connect time is reported apart\n"
"  --pipeline D      keep D requests in flight on each connection (default 1)\n"
"  --rate RPS        open loop: RPS requests per second in total on a fixed\n"
"                    schedule; latency counts from each request's intended send\n"
"                    time, so a stalled server cannot hide (coordinated omission)\n"
"  --timeout MS      a connect or an answer slower than this is an error (default %d)\n"
"  --warmup SECONDS  run this long before measuring; not with -n\n"
"  --format F        text (default), csv (one row) or json (one object)\n"
"  --header          with --format csv: print the header row first\n"
"  --tolerate        exit 0 even when errors occurred or connections fell short\n"
"  -h, --help        this help\n"
"\n"
"Exit status: 0 a clean run; 1 errors, non-2xx answers or fewer connections than\n"
"asked (unless --tolerate); 2 a usage error.\n"
"\n"
"Examples:\n"
"  loadgen -c 50 -d 10 http://127.0.0.1:8080/\n"
"  loadgen -c 100 --idle 10000 -d 10 --warmup 1 --format csv --header http://127.0.0.1:8080/\n"
"  loadgen -c 20 --rate 5000 -d 10 http://127.0.0.1:8080/\n"
"  loadgen -c 4 -n 1000 --close http://127.0.0.1:8080/\n",
	       DEFAULT_CONNS, DEFAULT_SECONDS, DEFAULT_TIMEOUT);
}

static long parse_int(const char *opt, const char *s, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		usage_error("%s: expected an integer from %ld to %ld, got '%s'", opt, min, max, s);
	return v;
}

static double parse_num(const char *opt, const char *s, double min)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min) || v > 1e9)
		usage_error("%s: expected a number >= %g, got '%s'", opt, min, s);
	return v;
}

enum { OPT_IDLE = 256, OPT_CLOSE, OPT_PIPELINE, OPT_RATE, OPT_TIMEOUT, OPT_WARMUP,
       OPT_FORMAT, OPT_HEADER, OPT_TOLERATE };

static void check_args(bool have_d)
{
	if (have_d && cfg.max_requests)
		usage_error("-d and -n exclude each other");
	if (cfg.max_requests && cfg.warmup > 0)
		usage_error("--warmup does not combine with -n (every request counts)");
	if (cfg.close && cfg.pipeline > 1)
		usage_error("--close sends one request per connection: no --pipeline");
	if (cfg.conns == 0 && cfg.idle == 0)
		usage_error("nothing to do: -c 0 and no --idle");
	if (cfg.conns == 0 && (cfg.rate > 0 || cfg.max_requests))
		usage_error("--rate and -n need active connections (-c)");
	if (cfg.threads > cfg.conns + cfg.idle)
		usage_error("-t %d: more threads than connections", cfg.threads);
	cfg.mode = cfg.close ? MODE_CLOSE : cfg.rate > 0 ? MODE_OPEN : MODE_CLOSED;
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "idle", required_argument, NULL, OPT_IDLE },
		{ "close", no_argument, NULL, OPT_CLOSE },
		{ "pipeline", required_argument, NULL, OPT_PIPELINE },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "warmup", required_argument, NULL, OPT_WARMUP },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "header", no_argument, NULL, OPT_HEADER },
		{ "tolerate", no_argument, NULL, OPT_TOLERATE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_d = false;
	int o;
	cfg.conns = DEFAULT_CONNS;
	cfg.threads = 1;
	cfg.seconds = DEFAULT_SECONDS;
	cfg.pipeline = 1;
	cfg.timeout_ms = DEFAULT_TIMEOUT;
	while ((o = getopt_long(argc, argv, "c:t:d:n:h", longopts, NULL)) != -1) {
		switch (o) {
		case 'c': cfg.conns = (int)parse_int("-c", optarg, 0, 10000000); break;
		case 't': cfg.threads = (int)parse_int("-t", optarg, 1, 1024); break;
		case 'd': cfg.seconds = parse_num("-d", optarg, 0.001); have_d = true; break;
		case 'n': cfg.max_requests = (uint64_t)parse_int("-n", optarg, 1, LONG_MAX); break;
		case 'h': usage(); exit(0);
		case OPT_IDLE: cfg.idle = (int)parse_int("--idle", optarg, 0, 10000000); break;
		case OPT_CLOSE: cfg.close = true; break;
		case OPT_PIPELINE:
			cfg.pipeline = (int)parse_int("--pipeline", optarg, 1, MAX_PIPELINE);
			break;
		case OPT_RATE: cfg.rate = parse_num("--rate", optarg, 0.001); break;
		case OPT_TIMEOUT:
			cfg.timeout_ms = (int)parse_int("--timeout", optarg, 1, 3600000);
			break;
		case OPT_WARMUP: cfg.warmup = parse_num("--warmup", optarg, 0); break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") == 0)      cfg.format = FMT_TEXT;
			else if (strcmp(optarg, "csv") == 0)  cfg.format = FMT_CSV;
			else if (strcmp(optarg, "json") == 0) cfg.format = FMT_JSON;
			else usage_error("--format: text, csv or json, not '%s'", optarg);
			break;
		case OPT_HEADER: cfg.header = true; break;
		case OPT_TOLERATE: cfg.tolerate = true; break;
		default: usage_error("unknown option");
		}
	}
	if (optind != argc - 1)
		usage_error(optind == argc ? "no URL given" : "one URL only");
	check_args(have_d);
	parse_url(argv[optind]);
}

/* ======================================================================== */
/* Results: merged totals and the three output formats.                     */
/* ======================================================================== */

struct totals {
	uint64_t requests, non2xx, bytes, established, err[NERR], errors;
	int idle_held, idle_closed, peak;
	double seconds, cpu_user, cpu_sys;
	struct hist *lat, *conn_lat;
};

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void merge(struct worker *ws, struct totals *t)
{
	memset(t, 0, sizeof *t);
	t->lat = hist_new();
	t->conn_lat = hist_new();
	if (!t->lat || !t->conn_lat)
		die("hist_new");
	for (int i = 0; i < cfg.threads; i++) {
		struct worker *w = &ws[i];
		t->requests += w->requests;
		t->non2xx += w->non2xx;
		t->bytes += w->bytes;
		t->established += w->established;
		for (int e = 0; e < NERR; e++)
			t->err[e] += w->err[e];
		t->idle_held += w->idle_held;
		t->idle_closed += w->idle_closed;
		if (w->window_s > t->seconds)
			t->seconds = w->window_s;
		hist_merge(t->lat, w->lat);
		hist_merge(t->conn_lat, w->conn_lat);
	}
	for (int e = 0; e < NERR; e++)
		t->errors += t->err[e];
	t->peak = atomic_load(&g_peak);
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) < 0)
		die("getrusage");
	t->cpu_user = tv_s(ru.ru_utime);
	t->cpu_sys = tv_s(ru.ru_stime);
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static double rps(const struct totals *t)
{
	return t->seconds > 0 ? (double)t->requests / t->seconds : 0.0;
}

static void print_text(const struct totals *t)
{
	static const double pct[] = { 50, 90, 99, 99.9 };
	printf("Running %.1fs test @ %s\n", t->seconds, cfg.url);
	printf("  %d threads, %d connections, mode %s, pipeline %d",
	       cfg.threads, cfg.conns, mode_name[cfg.mode], cfg.pipeline);
	if (cfg.rate > 0)
		printf(", rate %.0f/s", cfg.rate);
	printf("\n  connections: %d asked, %" PRIu64 " established, %d peak\n",
	       cfg.conns, t->established, t->peak);
	if (cfg.idle)
		printf("  idle:        %d asked, %d held, %d closed by the server\n",
		       cfg.idle, t->idle_held, t->idle_closed);
	printf("  %-10s %9s %9s %9s %9s %9s %9s\n", "(us)", "p50", "p90", "p99", "p99.9",
	       "max", "mean");
	const struct hist *h[2] = { t->lat, t->conn_lat };
	const char *name[2] = { "latency", "connect" };
	for (int k = 0; k < 2; k++) {
		printf("  %-10s", name[k]);
		for (int i = 0; i < 4; i++)
			printf(" %9.1f", us(hist_percentile(h[k], pct[i])));
		printf(" %9.1f %9.1f\n", us(hist_max(h[k])), hist_mean(h[k]) / 1000.0);
	}
	printf("  %" PRIu64 " requests in %.2fs, %.2f MB read\n", t->requests, t->seconds,
	       (double)t->bytes / 1e6);
	if (t->non2xx)
		printf("  non-2xx responses: %" PRIu64 "\n", t->non2xx);
	if (t->errors) {
		printf("  errors: %" PRIu64 " (", t->errors);
		const char *sep = "";
		for (int e = 0; e < NERR; e++)
			if (t->err[e]) {
				printf("%s%s %" PRIu64, sep, err_name[e], t->err[e]);
				sep = ", ";
			}
		printf(")\n");
	}
	printf("Requests/sec: %10.2f\n", rps(t));
	printf("Transfer/sec: %10.2f MB\n", t->seconds > 0 ? (double)t->bytes / 1e6 / t->seconds : 0);
	printf("Client CPU:   user %.2fs, sys %.2fs", t->cpu_user, t->cpu_sys);
	if (t->requests)
		printf(", %.2f us per request",
		       (t->cpu_user + t->cpu_sys) * 1e6 / (double)t->requests);
	printf("\n");
}

/* A CSV field: quoted when it holds a comma or a quote. */
static void csv_str(const char *s)
{
	if (!strpbrk(s, ",\"\n")) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void print_csv(const struct totals *t)
{
	if (cfg.header) {
		fputs("url,threads,conns_asked,conns_established,conns_peak,idle_asked,"
		      "idle_held,idle_closed,mode,pipeline,rate,seconds,requests,non2xx,"
		      "bytes,req_per_s", stdout);
		for (int e = 0; e < ERR_OTHER; e++)
			printf(",err_%s", err_name[e]);
		fputs(",lat_p50_us,lat_p90_us,lat_p99_us,lat_p999_us,lat_max_us,lat_mean_us,"
		      "connect_p50_us,connect_p99_us,connect_max_us,cpu_user_s,cpu_sys_s,"
		      "err_other\n", stdout);
	}
	csv_str(cfg.url);
	printf(",%d,%d,%" PRIu64 ",%d,%d,%d,%d,%s,%d,%g,%.3f,%" PRIu64 ",%" PRIu64
	       ",%" PRIu64 ",%.2f",
	       cfg.threads, cfg.conns, t->established, t->peak, cfg.idle, t->idle_held,
	       t->idle_closed, mode_name[cfg.mode], cfg.pipeline, cfg.rate, t->seconds,
	       t->requests, t->non2xx, t->bytes, rps(t));
	for (int e = 0; e < ERR_OTHER; e++)
		printf(",%" PRIu64, t->err[e]);
	printf(",%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.3f,%.3f,%" PRIu64 "\n",
	       us(hist_percentile(t->lat, 50)), us(hist_percentile(t->lat, 90)),
	       us(hist_percentile(t->lat, 99)), us(hist_percentile(t->lat, 99.9)),
	       us(hist_max(t->lat)), hist_mean(t->lat) / 1000.0,
	       us(hist_percentile(t->conn_lat, 50)), us(hist_percentile(t->conn_lat, 99)),
	       us(hist_max(t->conn_lat)), t->cpu_user, t->cpu_sys, t->err[ERR_OTHER]);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_hist(const char *name, const struct hist *h)
{
	printf("\"%s\":{\"count\":%" PRIu64 ",\"min\":%.1f,\"p50\":%.1f,\"p90\":%.1f,"
	       "\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,\"mean\":%.1f}", name, hist_count(h),
	       us(hist_min(h)), us(hist_percentile(h, 50)), us(hist_percentile(h, 90)),
	       us(hist_percentile(h, 99)), us(hist_percentile(h, 99.9)), us(hist_max(h)),
	       hist_mean(h) / 1000.0);
}

static void print_json(const struct totals *t)
{
	printf("{\"config\":{\"url\":");
	json_str(cfg.url);
	printf(",\"threads\":%d,\"conns\":%d,\"idle\":%d,\"mode\":\"%s\",\"pipeline\":%d,"
	       "\"rate\":%g,\"duration_s\":%g,\"max_requests\":%" PRIu64 ",\"timeout_ms\":%d,"
	       "\"warmup_s\":%g},",
	       cfg.threads, cfg.conns, cfg.idle, mode_name[cfg.mode], cfg.pipeline, cfg.rate,
	       cfg.max_requests ? 0 : cfg.seconds, cfg.max_requests, cfg.timeout_ms,
	       cfg.warmup);
	printf("\"conns\":{\"asked\":%d,\"established\":%" PRIu64 ",\"peak\":%d},",
	       cfg.conns, t->established, t->peak);
	printf("\"idle\":{\"asked\":%d,\"held\":%d,\"closed\":%d},",
	       cfg.idle, t->idle_held, t->idle_closed);
	printf("\"requests\":%" PRIu64 ",\"non2xx\":%" PRIu64 ",\"seconds\":%.3f,"
	       "\"req_per_s\":%.2f,\"bytes\":%" PRIu64 ",\"errors\":{",
	       t->requests, t->non2xx, t->seconds, rps(t), t->bytes);
	for (int e = 0; e < NERR; e++)
		printf("\"%s\":%" PRIu64 ",", err_name[e], t->err[e]);
	printf("\"total\":%" PRIu64 "},", t->errors);
	json_hist("latency_us", t->lat);
	putchar(',');
	json_hist("connect_us", t->conn_lat);
	printf(",\"cpu\":{\"user_s\":%.3f,\"sys_s\":%.3f}}\n", t->cpu_user, t->cpu_sys);
}

/* 0 for a clean run, 1 when anything fell short (see -h). With --close a
 * slot connects only when it has a request to send, so there a shortfall
 * shows as connect errors instead. */
static int exit_status(const struct totals *t)
{
	bool conns_ok = cfg.mode == MODE_CLOSE || t->established == (uint64_t)cfg.conns;
	bool clean = t->errors == 0 && t->non2xx == 0 && conns_ok &&
		     t->idle_held == cfg.idle;
	if (!clean && cfg.format == FMT_TEXT)
		fprintf(stderr, "loadgen: the run was not clean (errors, non-2xx answers, or "
			"fewer connections than asked)%s\n", cfg.tolerate ? "; tolerated" : "");
	return clean || cfg.tolerate ? 0 : 1;
}

/* ======================================================================== */
/* main                                                                     */
/* ======================================================================== */

static void on_signal(int sig)
{
	(void)sig;
	atomic_store_explicit(&got_signal, 1, memory_order_relaxed);
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		die("sigaction");
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	build_request();
	raise_nofile();
	install_signals();

	struct worker *ws = xcalloc((size_t)cfg.threads, sizeof *ws);
	int rc = pthread_barrier_init(&idle_barrier, NULL, (unsigned)cfg.threads);
	if (rc)
		die_en("pthread_barrier_init", rc);
	int first = 0, per_src = per_source();
	for (int i = 0; i < cfg.threads; i++) {
		worker_init(&ws[i], i, first, per_src);
		first += ws[i].nidle + ws[i].nactive;
	}
	for (int i = 0; i < cfg.threads; i++)
		if ((rc = pthread_create(&ws[i].tid, NULL, worker_main, &ws[i])) != 0)
			die_en("pthread_create", rc);
	for (int i = 0; i < cfg.threads; i++)
		if ((rc = pthread_join(ws[i].tid, NULL)) != 0)
			die_en("pthread_join", rc);

	struct totals t;
	merge(ws, &t);
	switch (cfg.format) {
	case FMT_TEXT: print_text(&t); break;
	case FMT_CSV:  print_csv(&t); break;
	case FMT_JSON: print_json(&t); break;
	}
	int status = exit_status(&t);
	for (int i = 0; i < cfg.threads; i++)
		worker_free(&ws[i]);
	hist_free(t.lat);
	hist_free(t.conn_lat);
	free(ws);
	free(cfg.req);
	pthread_barrier_destroy(&idle_barrier);
	return status;
}
