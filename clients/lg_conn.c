/*
 * lg_conn.c - a loadgen connection from connect to close: the state machine
 * drawn in worker.h, the requests it writes and the answers it reads.
 *
 * No syscall is made here: the engine of the thread (engine.h) connects,
 * sends, receives and closes, and reports what happened through
 * lg_conn_connected, lg_conn_received and lg_conn_failed at the end of this
 * file.
 * So the same state machine runs over readiness (epoll) and completions
 * (io_uring), and its counts mean the same in both.
 */
#include "lg_conn.h"
#include "lg_net.h"
#include "think.h"

#include <stdatomic.h>

#define CONNECT_WINDOW	64	   /* connects in progress per thread */
#define RETRY_NS	(100 * MS) /* back-off after a failed connect */
#define SLOW_CONNECT_NS SEC	   /* counted in connects_over_1s */

static atomic_uint_fast64_t claimed;   /* -n tickets handed out, all threads */
static atomic_int open_now, open_peak; /* established active connections */

/* ---------------------------------------------------------------- tickets */
/* What makes -n stop at exactly N. */

bool in_window(const struct worker *w, uint64_t now)
{
	return now >= w->warm_end && now <= w->deadline;
}

bool tickets_left(void)
{
	return cfg.max_requests == 0 ||
	       atomic_load_explicit(&claimed, memory_order_relaxed) < cfg.max_requests;
}

/* Returns how many of `want` requests may be sent: all in a timed run, what
   is left of -n otherwise. */
uint32_t ticket_claim(uint32_t want)
{
	if (cfg.max_requests == 0)
		return want;
	uint64_t old = atomic_fetch_add(&claimed, want);
	if (old >= cfg.max_requests)
		return 0;
	uint64_t left = cfg.max_requests - old;
	return want < left ? want : (uint32_t)left;
}

/* ---------------------------------------------------------------- connections */
/* Open, close, fail, recycle. */

void lg_conn_queue(struct worker *w, struct lg_conn *c)
{
	int total = w->nidle + w->nactive;
	c->state = S_QUEUED;
	w->queue[(w->qhead + w->qlen) % total] = c;
	w->qlen++;
}

/* The open loop's ready queue is FIFO, so tickets go round the connections
   and a per-connection count measures the server, not our choice. */
void ready_push(struct worker *w, struct lg_conn *c)
{
	int total = w->nidle + w->nactive;
	if (!c->in_ready) {
		c->in_ready = true;
		w->ready[(w->rhead + w->nready) % total] = c;
		w->nready++;
	}
}

void ready_drop_head(struct worker *w)
{
	w->ready[w->rhead]->in_ready = false;
	w->rhead = (w->rhead + 1) % (w->nidle + w->nactive);
	w->nready--;
}

/* Closes the descriptor, if any, and releases every request owed on the
   connection: also when the connect failed before a descriptor existed,
   or a --close ticket would stay owed and a -n run would never end. */
void lg_conn_close(struct worker *w, struct lg_conn *c)
{
	think_cancel(w, c);
	if (c->fd >= 0) {
		cfg.engine->close(w, c);
		c->fd = -1;
		if (c->state == S_CONNECTING)
			w->connecting--;
		if (c->state == S_OPEN && !c->idle)
			atomic_fetch_sub(&open_now, 1);
	}
	w->pending -= c->inflight;
	c->inflight = c->head = 0;
	c->out_off = c->out_len = 0;
	resp_reset(&c->resp);
	c->draining = false;
}

static void lg_conn_retire(struct worker *w, struct lg_conn *c)
{
	lg_conn_close(w, c);
	if (c->state != S_DONE && !c->idle)
		w->live--;
	c->state = S_DONE;
}

/* After a closed connection: reconnect, back off, wait for a ticket, or retire. */
void lg_conn_recycle(struct worker *w, struct lg_conn *c, bool backoff)
{
	/* open loop: tickets already claimed wait in the backlog for a connection */
	if (c->idle || w->stopping || (!tickets_left() && w->backlog == 0)) {
		lg_conn_retire(w, c);
	} else if (backoff) {
		c->state = S_BACKOFF;
		c->retry_at = now_ns() + RETRY_NS;
	} else if (cfg.use == USE_CONN_PER_REQUEST && cfg.loop == LOOP_OPEN) {
		c->state = S_SPARE;
		ready_push(w, c);
	} else {
		lg_conn_queue(w, c);
	}
}

/* A connection's error: counted by cause, the connection closed and reused. */
void lg_conn_fail(struct worker *w, struct lg_conn *c, enum err why)
{
	bool connecting = c->state != S_OPEN;
	w->err[why]++;
	lg_conn_close(w, c);
	if (connecting && cfg.max_requests)
		lg_conn_retire(w, c); /* -n: a refused connect would retry forever */
	else
		lg_conn_recycle(w, c, connecting);
}

/* A connect that took `ns`, or timed out after it: in the connect histogram
   (active connections only), and counted apart when slow. A timed-out one is
   recorded at its timeout: leaving it out would make a server that drops
   SYNs (a full accept queue) look faster than one that takes them. */
void lg_conn_record_connect(struct worker *w, struct lg_conn *c, uint64_t ns, bool timed_out)
{
	if (c->idle)
		return;
	hist_record(w->conn_lat, ns);
	if (timed_out || ns > SLOW_CONNECT_NS)
		w->connects_over_1s++;
}

static void lg_conn_start(struct worker *w, struct lg_conn *c)
{
	c->t_connect = now_ns();
	c->deadline = c->t_connect + timeout_ns();
	int en = cfg.engine->connect(w, c);
	if (en) {
		c->state = S_QUEUED; /* no descriptor: nothing is connecting */
		lg_conn_fail(w, c, lg_net_classify(en, true));
		return;
	}
	c->state = S_CONNECTING;
	w->connecting++;
}

/* Starts queued connects while the window has room: a backlog of SYNs the
   server has not accepted yet is never more than CONNECT_WINDOW per thread,
   so its accept queue never overflows (the kernel would drop SYNs, and the
   client retry only a second later). */
void lg_conn_pump(struct worker *w)
{
	int total = w->nidle + w->nactive;
	while (w->qlen > 0 && w->connecting < CONNECT_WINDOW) {
		struct lg_conn *c = w->queue[w->qhead];
		w->qhead = (w->qhead + 1) % total;
		w->qlen--;
		if (cfg.use == USE_CONN_PER_REQUEST && cfg.loop == LOOP_CLOSED && !c->idle) {
			if (ticket_claim(1) == 0) { /* --close -n: one connect per request */
				lg_conn_retire(w, c);
				continue;
			}
			c->sent[0] = 0; /* stamped at the write */
			c->inflight = 1;
			w->pending++;
		}
		lg_conn_start(w, c);
	}
}

/* ---------------------------------------------------------------- requests */

/* Queues k requests stamped `t` and writes them. cfg.req holds pipeline + 1
   copies of the request, so any k <= pipeline fits after a partial write. */
void lg_conn_send(struct worker *w, struct lg_conn *c, uint32_t k, uint64_t t)
{
	if (k == 0)
		return;
	if (c->inflight == 0)
		c->deadline = t + timeout_ns();
	for (uint32_t i = 0; i < k; i++)
		c->sent[(c->head + c->inflight + i) % (uint32_t)cfg.pipeline] = t;
	c->inflight += k;
	c->asked = true;
	w->pending += k;
	uint32_t whole = c->out_off / (uint32_t)cfg.req_len * (uint32_t)cfg.req_len;
	c->out_off -= whole;
	c->out_len -= whole;
	c->out_len += k * (uint32_t)cfg.req_len;
	cfg.engine->send(w, c);
}

static void count_open(void)
{
	int open = atomic_fetch_add(&open_now, 1) + 1;
	int peak = atomic_load(&open_peak);
	while (open > peak && !atomic_compare_exchange_weak(&open_peak, &peak, open))
		;
}

/* The handshake is done: an idle connection just waits; an active one
   sends its request(s) now, thinks first (--think), or waits for a ticket
   in open loop. */
static void on_connected(struct worker *w, struct lg_conn *c)
{
	uint64_t now = now_ns();
	bool first = !c->ever;
	c->state = S_OPEN;
	if (c->idle)
		return;
	if (first) {
		c->ever = true;
		w->established++;
	}
	count_open();
	lg_conn_record_connect(w, c, now - c->t_connect, false);
	if (cfg.use == USE_CONN_PER_REQUEST) { /* the ticket was taken already */
		if (c->sent[0] == 0)
			c->sent[0] = now;
		c->deadline = now + timeout_ns();
		c->out_len = (uint32_t)cfg.req_len;
		c->asked = true;
		cfg.engine->send(w, c);
	} else if (cfg.loop == LOOP_OPEN) {
		ready_push(w, c);
	} else if (cfg.think != THINK_NONE) {
		think_arm(w, c, now, think_draw(w, first), !first);
	} else {
		lg_conn_send(w, c, ticket_claim((uint32_t)cfg.pipeline), now);
	}
}

void lg_conn_think_over(struct worker *w, struct lg_conn *c, uint64_t now)
{
	if (now <= w->deadline)
		lg_conn_send(w, c, ticket_claim((uint32_t)cfg.pipeline), now);
}

/* ---------------------------------------------------------------- responses */

/* One complete, valid response: its latency and its count. */
static void finish_response(struct worker *w, struct lg_conn *c, uint64_t now)
{
	uint64_t t = c->sent[c->head];
	c->head = (c->head + 1) % (uint32_t)cfg.pipeline;
	c->inflight--;
	w->pending--;
	c->deadline = now + timeout_ns();
	if (!in_window(w, now))
		return;
	c->answered++;
	if (c->resp.status >= 200 && c->resp.status < 300) {
		w->requests++;
		hist_record(w->lat, now - t);
	} else {
		w->non2xx++;
	}
}

/* Parses p[0..n); returns how many responses completed, or -1 after failing
   the connection. After a response that ends the connection only the FIN
   may follow. */
static int parse_responses(struct worker *w, struct lg_conn *c, const char *p, size_t n,
			   uint64_t now)
{
	int done = 0;
	while (n > 0) {
		if (c->inflight == 0 || c->draining) {
			lg_conn_fail(w, c, ERR_PARSE); /* bytes nobody asked for */
			return -1;
		}
		size_t used;
		switch (resp_parse(&c->resp, p, n, &used)) {
		case RESP_MORE: return done;
		case RESP_BAD_STATUS: lg_conn_fail(w, c, ERR_STATUS); return -1;
		case RESP_BAD_HEADER: lg_conn_fail(w, c, ERR_PARSE); return -1;
		case RESP_DONE:
			p += used;
			n -= used;
			finish_response(w, c, now);
			done++;
			if (!c->resp.keep || cfg.use == USE_CONN_PER_REQUEST)
				c->draining = true;
			break;
		}
	}
	return done;
}

/* What a connection does after `done` responses: close, send more, think,
   or wait. Past the deadline it sends nothing more, so that the server's
   count can exceed ours only by the requests in flight at the deadline.
   With --think a connection waits once all its answers are in, then sends
   as many as --pipeline again. */
static void after_responses(struct worker *w, struct lg_conn *c, uint32_t done, uint64_t now)
{
	if (c->draining) {
		if (cfg.use == USE_CONN_PER_REQUEST && !c->resp.keep) {
			/* the server closes: wait for its FIN, so TIME_WAIT is its */
			c->deadline = now + timeout_ns();
		} else if (cfg.use == USE_CONN_PER_REQUEST || c->inflight == 0) {
			lg_conn_close(w, c); /* we close: the answer is whole */
			lg_conn_recycle(w, c, false);
		} else {
			lg_conn_fail(w, c, ERR_EOF); /* requests left on a closing line */
		}
		return;
	}
	if (cfg.loop == LOOP_OPEN) {
		if (done)
			ready_push(w, c);
	} else if (cfg.think != THINK_NONE) {
		if (done && c->inflight == 0 && now <= w->deadline)
			think_arm(w, c, now, think_draw(w, false), true);
	} else if (now <= w->deadline) {
		lg_conn_send(w, c, ticket_claim(done), now);
	}
}

/* The peer closed its side: expected after a last answer, else early EOF. */
static void on_eof(struct worker *w, struct lg_conn *c)
{
	bool expected = c->draining || (c->inflight == 0 && resp_between(&c->resp));
	if (!expected) {
		lg_conn_fail(w, c, ERR_EOF);
		return;
	}
	lg_conn_close(w, c);
	lg_conn_recycle(w, c, false);
}

/* ---------------------------------------------------------------- what an engine reports */

void lg_conn_connected(struct worker *w, struct lg_conn *c, int err)
{
	if (err) {
		lg_conn_fail(w, c, lg_net_classify(err, true));
		return;
	}
	w->connecting--;
	on_connected(w, c);
}

/* An idle connection should never hear from the server: its FIN (counted
   as idle_closed) ends it, bytes are ignored. */
void lg_conn_received(struct worker *w, struct lg_conn *c, const char *p, size_t n)
{
	if (c->state != S_OPEN)
		return; /* closed earlier in this batch of events */
	if (c->idle) {
		if (n == 0) {
			w->idle_closed++;
			lg_conn_retire(w, c);
		}
		return;
	}
	if (n == 0) {
		on_eof(w, c);
		return;
	}
	uint64_t now = now_ns();
	if (in_window(w, now))
		w->bytes += n;
	int done = parse_responses(w, c, p, n, now);
	if (done >= 0)
		after_responses(w, c, (uint32_t)done, now);
}

void lg_conn_failed(struct worker *w, struct lg_conn *c, int en)
{
	if (c->state != S_OPEN)
		return;
	if (c->idle) {
		w->idle_closed++;
		lg_conn_retire(w, c);
		return;
	}
	lg_conn_fail(w, c, lg_net_classify(en, false));
}

int lg_conn_peak(void)
{
	return atomic_load(&open_peak);
}
