/*
 * lg_conn.h - one connection of a loadgen worker: its life from connect to
 * close, its requests and their answers; the states are drawn in worker.h.
 * Every function runs in the connection's own worker thread.
 */
#ifndef LG_CONN_H
#define LG_CONN_H

#include "worker.h"

/* Returns true if `now` is inside w's measured window (after the warm-up,
   before the deadline): only then are answers counted. */
bool in_window(const struct worker *w, uint64_t now);

/* Returns true while -n has tickets left (always in a timed run). */
bool tickets_left(void);

/* Returns how many of `want` requests may be sent: all in a timed run, what
   is left of -n otherwise (this is what makes -n stop at exactly N). */
uint32_t ticket_claim(uint32_t want);

/* Puts c at the back of the connect queue (state QUEUED). */
void lg_conn_queue(struct worker *w, struct lg_conn *c);

/* Starts queued connects while fewer than CONNECT_WINDOW are in progress. */
void lg_conn_pump(struct worker *w);

/* Puts c at the back of the open loop's ready queue, unless it is there. */
void ready_push(struct worker *w, struct lg_conn *c);

/* Removes the connection at the head of the ready queue (nready > 0). */
void ready_drop_head(struct worker *w);

/* Closes c's descriptor, if any, and releases the requests owed on it. */
void lg_conn_close(struct worker *w, struct lg_conn *c);

/* After c closed: queues it again, backs off (backoff), makes it SPARE for
   the next ticket, or retires it when the run or the tickets are over. */
void lg_conn_recycle(struct worker *w, struct lg_conn *c, bool backoff);

/* Counts an error of cause `why`, closes c and recycles it (retires it with
   -n when the connect itself failed). */
void lg_conn_fail(struct worker *w, struct lg_conn *c, enum err why);

/* Records a connect that took ns, or timed out after ns (active connections
   only); a timed-out one or one over 1 s is also counted in connects_over_1s. */
void lg_conn_record_connect(struct worker *w, struct lg_conn *c, uint64_t ns, bool timed_out);

/* Sends k requests on c (k <= room left in the pipeline), their latency
   counted from t; k == 0 does nothing. */
void lg_conn_send(struct worker *w, struct lg_conn *c, uint32_t k, uint64_t t);

/* c's think time is over (it has left the heap): sends its next request(s),
   unless the run's deadline has passed. */
void lg_conn_think_over(struct worker *w, struct lg_conn *c, uint64_t now);

/* ---- what an engine reports (engine.h) ---- */

/* c's connect ended: err 0, established (the engine watches it for answers
   already); otherwise the errno it failed with. */
void lg_conn_connected(struct worker *w, struct lg_conn *c, int err);

/* n > 0 bytes arrived on c, in p (the engine's buffer, only until this
   returns); n == 0: the server closed its side. */
void lg_conn_received(struct worker *w, struct lg_conn *c, const char *p, size_t n);

/* A receive or a send on c failed with errno en. */
void lg_conn_failed(struct worker *w, struct lg_conn *c, int en);

/* Returns the most active connections that were open at the same time. */
int lg_conn_peak(void);

/* The timeout of a connect or an answer, in ns. */
static inline uint64_t timeout_ns(void)
{
	return (uint64_t)cfg.timeout_ms * MS;
}

#endif
