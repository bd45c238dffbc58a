/*
 * accept_lifo.c - unfair accept: with epoll, the last thread to wait wins.
 *
 *   bin/pitfall-accept_lifo
 *
 * The catch. Threads blocked in epoll_wait() on one epoll set queue on the
 * set's wait queue, and each new waiter is put at the HEAD; a ready
 * descriptor wakes one waiter, the first in the queue. So the thread that
 * went back to waiting last is woken first: last in, first out. Under light
 * load the worker that just served a connection is the one that gets the
 * next: one worker does nearly everything while the others sleep (and its
 * connections share one CPU). Blocking accept() queues its waiters at the
 * TAIL instead: first in, first out, a round robin. SO_REUSEPORT gives each
 * worker its own listener and spreads connections by a hash of their
 * addresses and ports: by chance, but evenly.
 *
 *     epoll set wait queue:  head -> [T4 just served] [T3] [T2] [T1]
 *     next connection ---------------^
 *
 * The experiment: WORKERS threads, CONNS connections made one at a time, each
 * once every worker is asleep (light load); prints how many each worker
 * accepted and Jain's fairness index, (sum x)^2 / (n sum x^2): 1 when all
 * served alike, 1/n when one served all.
 */
#include "experiment.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define WORKERS 4
#define CONNS	100 /* per way of waiting */
/* "Spread": Jain's index at least this. One worker taking all gives 0.25; the
   SO_REUSEPORT hash of consecutive client ports gave 0.86 to 0.97 here. */
#define SPREAD 0.6

static const char help[] =
	"Four threads accept from one port, one connection at a time: through one\n"
	"shared epoll set (the last thread to wait takes nearly all), blocking\n"
	"accept (round robin) and SO_REUSEPORT (spread by hash). Prints each\n"
	"worker's count and Jain's fairness index.\n";

enum way { EPOLL_SHARED, BLOCKING_ACCEPT, REUSEPORT, WAYS };

static const char *way_names[WAYS] = { "shared epoll set", "blocking accept", "SO_REUSEPORT" };

struct worker {
	pthread_t thread;
	_Atomic pid_t tid;
	int listener, epfd; /* epfd -1: blocking accept */
	atomic_int accepted;
};

static atomic_int accepted; /* by all workers */

/* Accepts until the queue is empty (the set is edge-triggered), or once. */
static void accept_and_close(struct worker *w)
{
	int fd;

	while ((fd = accept4(w->listener, NULL, NULL, SOCK_CLOEXEC)) != -1) {
		close(fd);
		atomic_fetch_add(&w->accepted, 1);
		atomic_fetch_add(&accepted, 1);
		if (w->epfd == -1)
			break;
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev;

	atomic_store(&w->tid, exp_gettid());
	for (;;) {
		if (w->epfd != -1 && epoll_wait(w->epfd, &ev, 1, -1) != 1)
			continue;
		accept_and_close(w);
	}
	return NULL;
}

static uint16_t set_up(struct worker *w, enum way way)
{
	int one = exp_listen(0, way == BLOCKING_ACCEPT ? 0 : SOCK_NONBLOCK, way == REUSEPORT);
	uint16_t port = exp_port(one);
	int shared = way == EPOLL_SHARED ? exp_watch_et(one, 0) : -1;

	for (int i = 0; i < WORKERS; i++) {
		w[i].listener =
			way == REUSEPORT && i > 0 ? exp_listen(port, SOCK_NONBLOCK, true) : one;
		w[i].epfd = way == REUSEPORT ? exp_watch_et(w[i].listener, 0) : shared;
	}
	return port;
}

struct result {
	int count[WORKERS];
	int most;
	double jain;
};

static void summarise(struct result *r)
{
	double sum = 0, squares = 0;

	r->most = 0;
	for (int i = 0; i < WORKERS; i++) {
		sum += r->count[i];
		squares += (double)r->count[i] * r->count[i];
		if (r->count[i] > r->most)
			r->most = r->count[i];
	}
	r->jain = squares > 0 ? sum * sum / (WORKERS * squares) : 0;
}

static void start_workers(struct worker *w, pid_t *tids)
{
	int err;

	for (int i = 0; i < WORKERS; i++)
		if ((err = pthread_create(&w[i].thread, NULL, work, &w[i])) != 0)
			die_en(err, "pthread_create");
	for (int i = 0; i < WORKERS; i++) {
		while (atomic_load(&w[i].tid) == 0)
			usleep(100);
		tids[i] = atomic_load(&w[i].tid);
	}
	if (!exp_wait_asleep(tids, WORKERS, 5000))
		die("the workers did not go to sleep within 5 s");
}

static struct result measure(enum way way)
{
	struct worker w[WORKERS];
	struct result r;
	pid_t tids[WORKERS];
	uint16_t port;

	memset(w, 0, sizeof w);
	atomic_store(&accepted, 0);
	port = set_up(w, way);
	start_workers(w, tids);
	for (int c = 1; c <= CONNS; c++)
		exp_one_connection(port, &accepted, c, tids, WORKERS);
	for (int i = 0; i < WORKERS; i++) { /* cancel: accept, epoll_wait are cancellation points */
		pthread_cancel(w[i].thread);
		pthread_join(w[i].thread, NULL);
		r.count[i] = atomic_load(&w[i].accepted);
	}
	for (int i = 0; i < WORKERS; i++) {
		if (i == 0 || way == REUSEPORT)
			close(w[i].listener);
		if (w[i].epfd != -1 && (i == 0 || way == REUSEPORT))
			close(w[i].epfd);
	}
	summarise(&r);
	return r;
}

int main(int argc, char **argv)
{
	struct result r[WAYS];

	exp_start(argc, argv, help);
	for (int way = 0; way < WAYS; way++)
		r[way] = measure((enum way)way);

	exp_title("unfair accept (LIFO)");
	exp_say("did", "%d threads accept from one port; %d connections, one at a time, per way",
		WORKERS, CONNS);
	for (int way = 0; way < WAYS; way++)
		exp_say("observed", "%-17s per worker %3d %3d %3d %3d, Jain's index %.2f",
			way_names[way], r[way].count[0], r[way].count[1], r[way].count[2],
			r[way].count[3], r[way].jain);
	exp_say("expected",
		"shared epoll set: one worker takes most (index near %.2f); "
		"the others near 1",
		1.0 / WORKERS);
	exp_say("why", "epoll_wait queues waiters at the head (LIFO), accept at the tail (FIFO)");
	return exp_verdict(r[EPOLL_SHARED].most >= CONNS / 2 && r[REUSEPORT].jain >= SPREAD &&
				   r[BLOCKING_ACCEPT].jain >= SPREAD,
			   "shared epoll set: busiest worker %d of %d (index %.2f); "
			   "SO_REUSEPORT index %.2f; blocking accept %.2f",
			   r[EPOLL_SHARED].most, CONNS, r[EPOLL_SHARED].jain, r[REUSEPORT].jain,
			   r[BLOCKING_ACCEPT].jain);
}
