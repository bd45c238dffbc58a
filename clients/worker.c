/*
 * worker.c - one loadgen thread: the event loop and the open-loop schedule;
 * the threads and the states of a connection are drawn in worker.h, the
 * connection itself lives in lg_conn.c, and the waiting and the I/O in the
 * engine chosen with --engine (engine.h: epoll or io_uring). A turn of the
 * loop: timeouts (every 20 ms), connections whose think time is over,
 * tickets due (open loop), connects, then one wait in the engine until the
 * earliest of those is due again.
 *
 * Syscalls relied on:
 *   prctl(PR_SET_TIMERSLACK)   the kernel may otherwise delay a thread's timed
 *       wake-ups by up to 50 us to batch them; we ask for 1 ns.
 *   pthread_barrier_wait   every thread opens its idle connections first;
 *       the load starts on all of them at once.
 */
#include "lg_conn.h"
#include "think.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <sys/prctl.h>

#define SWEEP_NS (20 * MS) /* how often timeouts are checked */

static pthread_barrier_t idle_barrier;
/* SIGINT/SIGTERM: stop early. Set by the handler in the main thread, read by
   every worker: volatile sig_atomic_t is enough for a handler and the thread
   it interrupts, but between threads only an atomic is (make tsan caught it).
   A lock-free atomic is safe in a signal handler (C11 7.14.1.1). */
static atomic_int stop_flag;

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		die("calloc");
	return p;
}

static bool stop_requested(void)
{
	return atomic_load_explicit(&stop_flag, memory_order_relaxed);
}

/* ---------------------------------------------------------------- open loop */
/* The schedule of intended send times. */

/* Returns the connection at the head of the ready queue if it may send now,
   dropping those that no longer may; NULL when none may. */
static struct lg_conn *ready_peek(struct worker *w)
{
	while (w->nready > 0) {
		struct lg_conn *c = w->ready[w->rhead];
		bool usable = cfg.use == USE_CONN_PER_REQUEST
				      ? c->state == S_SPARE
				      : c->state == S_OPEN && !c->draining &&
						c->inflight < (uint32_t)cfg.pipeline;
		if (usable)
			return c;
		ready_drop_head(w);
	}
	return NULL;
}

/* Turns every ticket due by `now` into a request on a free connection; a
   ticket with no free connection waits, and its latency keeps counting from
   its intended time: the correction for coordinated omission. */
static void dispatch(struct worker *w, uint64_t now)
{
	while (!w->ticks_over && w->next_tick <= now) {
		if (ticket_claim(1) == 0) {
			w->ticks_over = true;
			break;
		}
		if (w->backlog++ == 0)
			w->backlog_first = w->next_tick;
		w->next_tick += w->interval;
	}
	struct lg_conn *c;
	while (w->backlog > 0 && (c = ready_peek(w)) != NULL) {
		uint64_t t = w->backlog_first;
		w->backlog--;
		w->backlog_first += w->interval;
		ready_drop_head(w); /* to the back of the queue when free again */
		if (cfg.use == USE_CONN_PER_REQUEST) {
			c->sent[0] = t;
			c->inflight = 1;
			w->pending++;
			lg_conn_queue(w, c);
		} else {
			lg_conn_send(w, c, 1, t);
			if (c->state == S_OPEN && c->inflight < (uint32_t)cfg.pipeline)
				ready_push(w, c); /* pipelining: room for more */
		}
	}
}

/* ---------------------------------------------------------------- the event loop */

/* --think: every connection whose wait is over sends its next request. */
static void end_thinks(struct worker *w, uint64_t now)
{
	struct lg_conn *c;
	while ((c = think_pop_due(w, now)) != NULL)
		lg_conn_think_over(w, c, now);
}

/* Times out connects and answers, and retries backed-off connects. */
static void sweep(struct worker *w, uint64_t now)
{
	for (int i = 0; i < w->nidle + w->nactive; i++) {
		struct lg_conn *c = &w->conns[i];
		if (c->state == S_CONNECTING && now > c->deadline) {
			lg_conn_record_connect(w, c, timeout_ns(), true);
			lg_conn_fail(w, c, ERR_CONNECT_TIMEOUT);
		} else if (c->state == S_OPEN && (c->inflight > 0 || c->draining) &&
			   now > c->deadline) {
			lg_conn_fail(w, c, ERR_TIMEOUT);
		} else if (c->state == S_BACKOFF && now >= c->retry_at) {
			lg_conn_recycle(w, c, false);
		}
	}
	w->next_sweep = now + SWEEP_NS;
}

static bool idle_phase_over(const struct worker *w)
{
	return (w->qlen == 0 && w->connecting == 0) || stop_requested();
}

/* A timed run ends at its deadline; a -n run when every ticket is answered
   (or no connection is left to carry one). */
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
		t = w->next_tick; /* open loop: the next intended send */
	uint64_t think = think_next(w);
	return think < t ? think : t; /* --think: the first wait to end */
}

/* Runs the loop until idle_phase_over or run_over says so. */
static void run_loop(struct worker *w, bool idle_phase)
{
	for (;;) {
		uint64_t now = now_ns();
		if (now >= w->next_sweep)
			sweep(w, now);
		if (!idle_phase && cfg.loop == LOOP_OPEN)
			dispatch(w, now);
		if (!idle_phase)
			end_thinks(w, now);
		lg_conn_pump(w);
		if (idle_phase ? idle_phase_over(w) : run_over(w, now))
			break;
		cfg.engine->wait(w, now, next_wake(w));
	}
}

static void start_run(struct worker *w)
{
	w->t_start = now_ns();
	w->warm_end = w->t_start + (uint64_t)(cfg.warmup * SEC);
	w->deadline = cfg.max_requests ? NEVER : w->warm_end + (uint64_t)(cfg.seconds * SEC);
	/* threads' schedules interleave instead of all ticking at once */
	w->next_tick = w->t_start + w->interval * (uint64_t)w->id / (uint64_t)cfg.threads;
	w->live = w->nactive;
	for (int i = w->nidle; i < w->nidle + w->nactive; i++) {
		if (cfg.use == USE_CONN_PER_REQUEST && cfg.loop == LOOP_OPEN) {
			w->conns[i].state = S_SPARE;
			ready_push(w, &w->conns[i]);
		} else {
			lg_conn_queue(w, &w->conns[i]);
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
		struct lg_conn *c = &w->conns[i];
		if (c->idle && c->state == S_OPEN)
			w->idle_held++;
		lg_conn_close(w, c);
	}
}

void *worker_main(void *arg)
{
	struct worker *w = arg;
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); /* 1 ns: keep the schedule */
	cfg.engine->start(w); /* here: an io_uring belongs to the thread that made it */
	w->deadline = NEVER;
	for (int i = 0; i < w->nidle; i++)
		lg_conn_queue(w, &w->conns[i]);
	run_loop(w, true);
	int rc = pthread_barrier_wait(&idle_barrier); /* all idle opened, then load */
	if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
		die_en(rc, "pthread_barrier_wait");
	start_run(w);
	run_loop(w, false);
	finish_run(w);
	cfg.engine->stop(w);
	return NULL;
}

/* ---------------------------------------------------------------- set-up and tear-down */

/* Thread i's share of n: n / T, plus one of the remainder for the first ones. */
static int share(int n, int i)
{
	return n / cfg.threads + (i < n % cfg.threads);
}

void worker_init(struct worker *w, int id, int first, int per_src)
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
			w->conns[i].sent =
				w->stamps + (size_t)(i - w->nidle) * (size_t)cfg.pipeline;
	}
	w->lat = hist_new();
	w->conn_lat = hist_new();
	if (!w->lat || !w->conn_lat)
		die("hist_new");
	think_init(w);
	if (cfg.loop == LOOP_OPEN && w->nactive > 0) /* this thread's share of the rate */
		w->interval = (uint64_t)((double)SEC * cfg.conns / (cfg.rate * w->nactive));
	else
		w->ticks_over = true;
}

void worker_free(struct worker *w)
{
	for (int i = 0; i < w->nidle + w->nactive; i++)
		resp_free(&w->conns[i].resp);
	free(w->stamps);
	free(w->conns);
	free(w->queue);
	free(w->ready);
	think_free(w);
	hist_free(w->lat);
	hist_free(w->conn_lat);
}

void workers_setup(int threads)
{
	int rc = pthread_barrier_init(&idle_barrier, NULL, (unsigned)threads);
	if (rc)
		die_en(rc, "pthread_barrier_init");
}

void workers_teardown(void)
{
	pthread_barrier_destroy(&idle_barrier);
}

void workers_stop(void)
{
	atomic_store_explicit(&stop_flag, 1, memory_order_relaxed);
}

int workers_peak(void)
{
	return lg_conn_peak();
}
