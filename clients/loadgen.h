/*
 * loadgen.h - what every module of the load generator shares: the run's
 * configuration (set once by the options, read-only while threads run), the
 * causes errors are counted under, and the units of time.
 *
 *   loadgen.c        options, the threads, the merge of their results, main
 *   worker.c         one thread: its event loop, timeouts, the open-loop
 *                    schedule                                    (worker.h)
 *   lg_conn.c        one connection's state machine, requests, answers
 *                                                                (lg_conn.h)
 *   engine_epoll.c   the I/O of a thread, readiness-based (--engine epoll)
 *   engine_uring.c   the same, completion-based (--engine io_uring) (engine.h)
 *   resp.c           the HTTP response parser, fed bytes, no I/O  (resp.h)
 *   lg_net.c         sockets: read, write, connect, errno -> cause (lg_net.h)
 *   think.c          --think: the waits' random draws, the heap of
 *                    connections that wait                       (think.h)
 *   report.c         the results as text, CSV or JSON            (report.h)
 *   hist.c           the latency histogram                       (hist.h)
 *
 * Two modules share a job with one of the servers' (servers/common/conn.h,
 * net.h) but not its meaning: a loadgen connection connects out, sends
 * requests and checks answers. They carry the prefix lg_ so that each name,
 * and each header, means one thing in the whole tree.
 */
#ifndef LOADGEN_H
#define LOADGEN_H

#include "toolkit.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define US    1000ULL /* nanoseconds in a microsecond */
#define MS    1000000ULL
#define SEC   1000000000ULL
#define NEVER UINT64_MAX

#define DEFAULT_CONNS	10
#define DEFAULT_SECONDS 10.0
#define DEFAULT_TIMEOUT 5000 /* ms, for connects and for answers */
#define MAX_PIPELINE	1024

/* Two independent choices make the four ways loadgen can drive a server. */
enum load_loop {
	LOOP_CLOSED, /* a connection sends its next request on an answer */
	LOOP_OPEN,   /* requests go out on a schedule (--rate) */
};
enum load_use {
	USE_KEEP_ALIVE,	      /* one connection carries request after request */
	USE_CONN_PER_REQUEST, /* --close: a new connection for every request */
};
enum format { FMT_TEXT, FMT_CSV, FMT_JSON };
/* How long a connection waits after an answer (--think), closed loop only. */
enum think {
	THINK_NONE,  /* not at all: the next request goes with the answer */
	THINK_FIXED, /* --think MS: always MS */
	THINK_EXP,   /* --think exp:MS: exponentially distributed, mean MS */
};

struct config {
	const char *url;
	char host[256];
	int port;
	const char *path;
	struct sockaddr_in dst;
	bool loopback; /* dst in 127/8: may spread source addresses */
	int sources;   /* --sources: loopback source addresses; 0: as many as needed */

	int conns, threads, idle, pipeline, timeout_ms;
	double seconds, warmup, rate;
	uint64_t max_requests; /* -n; 0 = timed run */
	bool header, tolerate;
	enum load_loop loop;
	enum load_use use;
	enum format format;
	enum think think;
	uint64_t think_ns; /* the fixed wait, or the mean of exp: */

	const struct engine *engine; /* --engine: epoll or io_uring (engine.h) */

	char *req;	/* pipeline + 1 copies of the request; never changes
			   while threads run, so a kernel may send from it */
	size_t req_len; /* of one copy */
};

extern struct config cfg;

/* Errors by cause. The order is the CSV order (err_other comes last there). */
enum err {
	ERR_REFUSED,	     /* ECONNREFUSED: nothing listening */
	ERR_CONNECT_TIMEOUT, /* no SYN-ACK within --timeout */
	ERR_ADDR_UNAVAIL,    /* EADDRNOTAVAIL: out of ports on every source address */
	ERR_EMFILE,	     /* EMFILE/ENFILE: out of descriptors */
	ERR_RESET,	     /* ECONNRESET/EPIPE */
	ERR_EOF,	     /* server closed with a request unanswered */
	ERR_TIMEOUT,	     /* no answer within --timeout */
	ERR_STATUS,	     /* not an "HTTP/1.x NNN" status line, or a 1xx */
	ERR_PARSE,	     /* bad header, no Content-Length, unasked-for bytes */
	ERR_OTHER,	     /* any other errno, named on stderr once */
	NERR
};

/* The name of each cause, as in the CSV column err_NAME and JSON errors.NAME. */
extern const char *const err_name[NERR];

/* Returns the name of the run's mode: "closed", "open" or "close-per-request". */
const char *mode_name(void);

#endif
