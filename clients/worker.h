/*
 * worker.h - one loadgen thread: its event loop, the state machine of its
 * connections, and the open-loop schedule of its share of --rate.
 *
 * Each of the -t threads runs worker_main over its own connections, with its
 * own engine (an epoll descriptor or an io_uring, engine.h), counters and
 * histograms: nothing is locked on the hot
 * path. Three atomics are shared: the -n ticket counter, the number of open
 * connections (for the peak), and the source address (lg_net.c).
 *
 *   thread 0                 thread 1                  main
 *   engine ──── conns 0..k   engine ──── conns k+1..   parse options
 *      │ idle first, then the barrier, then the load   start, join
 *      └ counters, hists     └ counters, hists   ───>  merge, report
 *
 * A connection's states and what moves it (active connections; an --idle one
 * goes QUEUED -> CONNECTING -> OPEN and stays until the end, or DONE when the
 * server closes it):
 *
 *   from        event                                     to
 *   QUEUED      a place in the connect window (64)        CONNECTING
 *   QUEUED      socket/connect fails at once (EMFILE)     BACKOFF, or DONE with -n
 *   CONNECTING  the engine: connected (lg_conn_connected 0)  OPEN
 *   CONNECTING  an error, or --timeout passed             BACKOFF, or DONE with -n
 *   OPEN        an answer, the line kept                  OPEN (closed loop: the
 *                                                         next request is written;
 *                                                         with --think, it waits
 *                                                         in the heap first)
 *   OPEN        an answer and the server's FIN (--close,  QUEUED; SPARE in open
 *               or Connection: close)                     loop with --close
 *   OPEN        reset, early EOF, bad answer, timeout     QUEUED (or SPARE), an
 *                                                         error counted
 *   BACKOFF     100 ms passed                             QUEUED (or SPARE)
 *   SPARE       a ticket of the schedule is due           QUEUED, its request owed
 *   any         the run is over, -n used up               DONE
 *
 * A request is owed (counted in `pending`) from the moment it has a ticket
 * until its answer arrives or its connection closes; lg_conn_close releases it
 * whatever the state, even when no descriptor was ever opened.
 */
#ifndef WORKER_H
#define WORKER_H

#include "hist.h"
#include "loadgen.h"
#include "resp.h"

#include "engine.h"

#include <pthread.h>

enum cstate {
	S_QUEUED,     /* waiting for a place in the connect window */
	S_CONNECTING, /* connect() in progress, the engine watching it */
	S_OPEN,	      /* established */
	S_BACKOFF,    /* a connect failed; retried at retry_at */
	S_SPARE,      /* --close --rate: closed, waiting for the next ticket */
	S_DONE,	      /* retired for the rest of the run */
};

struct lg_conn {
	int fd;
	uint8_t state;		   /* enum cstate */
	bool idle;		   /* an --idle connection: never sends */
	bool ever;		   /* has been established at least once */
	bool asked;		   /* was ever sent a request */
	bool in_ready;		   /* on the worker's ready queue (open loop) */
	bool draining;		   /* the last answer is read; only the server's FIN may follow */
	bool out_armed;		   /* epoll engine: EPOLLOUT armed for a blocked write */
	bool think_counted;	   /* this wait goes into the measured think mean */
	uint8_t in_kernel;	   /* io_uring engine: requests the kernel holds (enum op) */
	uint32_t gen;		   /* io_uring engine: counts closes, so a completion
				      for an earlier descriptor is told apart */
	uint8_t src;		   /* source address 127.0.0.(src + 1); 0: the kernel's choice */
	struct resp resp;	   /* the answer being parsed */
	uint32_t inflight;	   /* requests owed an answer; their times in sent[] */
	uint32_t head;		   /* oldest entry of the sent[] ring */
	uint32_t out_off, out_len; /* unsent part of cfg.req */
	uint64_t *sent;		   /* ring of cfg.pipeline send (or intended) times */
	uint64_t answered;	   /* valid answers inside the measured window */
	uint64_t t_connect;	   /* when connect() was called */
	uint64_t deadline;	   /* timeout of what we wait for */
	uint64_t retry_at;
	uint32_t think_slot; /* --think: place in the worker's heap + 1; 0: not waiting */
	uint64_t think_from; /* when its wait began */
	uint64_t think_due;  /* when it sends its next request */
};

struct worker {
	int id;
	pthread_t tid;
	void *loop; /* the engine's own state for this thread (engine_*.c) */

	struct lg_conn *conns; /* idle ones first, then the active ones */
	int nidle, nactive;
	struct lg_conn **queue; /* connect FIFO, one place per connection */
	int qhead, qlen;
	int connecting;
	struct lg_conn **ready; /* open loop: FIFO of connections that may send */
	int rhead, nready;

	uint64_t t_start, warm_end, deadline, next_sweep;
	bool stopping;
	uint64_t pending; /* requests owed an answer, all connections */
	int live;	  /* active connections not S_DONE */

	uint64_t interval;		 /* open loop: ns between this thread's tickets */
	uint64_t next_tick;		 /* intended time of the next ticket */
	uint64_t backlog, backlog_first; /* tickets due but not sent, oldest time */
	bool ticks_over;		 /* -n reached: no more tickets */

	struct lg_conn **think_heap; /* --think: connections waiting, think.h */
	int nthink;
	uint64_t rng;			  /* xorshift64* state, never 0 */
	uint64_t think_waited_ns, thinks; /* waits that ended in the window */

	uint64_t *stamps; /* every connection's sent[] ring */
	struct hist *lat, *conn_lat;
	uint64_t requests, non2xx, bytes, established, err[NERR];
	uint64_t connects_over_1s; /* connects slower than 1 s, or timed out */
	int idle_held, idle_closed;
	double window_s;
};

/* Prepares thread `id` with its share of the connections; `first` numbers its
   first connection across all threads, `per_src` connections share a source
   address. Dies when out of memory. */
void worker_init(struct worker *w, int id, int first, int per_src);

/* The thread: opens the idle connections, waits at the barrier for every
   other thread, runs the load, closes everything. Returns NULL. */
void *worker_main(void *arg);

/* Frees what worker_init allocated; call after the thread is joined. */
void worker_free(struct worker *w);

/* Must be called once before any worker starts: the barrier between the idle
   phase and the load, for `threads` threads. */
void workers_setup(int threads);

/* Destroys the barrier; call after every thread is joined. */
void workers_teardown(void);

/* Asks every worker to stop at its next wake-up; async-signal-safe. */
void workers_stop(void);

/* Returns the most active connections that were open at the same time. */
int workers_peak(void);

#endif
