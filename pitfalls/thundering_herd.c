/*
 * thundering_herd.c - how many threads one connection wakes.
 *
 *   bin/pitfall-thundering_herd
 *
 * The herd. When N threads wait for one listening socket and one connection
 * arrives, the kernel may wake all N: one accepts, N-1 find nothing and go
 * back to sleep, each having cost a context switch or two. Which waits herd
 * and which do not:
 *
 *   blocking accept()       the socket's wait queue wakes one waiter (since
 *                           Linux 2.6: accept sleeps as an "exclusive" waiter)
 *   an epoll set per thread every set on the socket's queue is woken: all N
 *   ... with EPOLLEXCLUSIVE (Linux 4.5) one set or a few, not all
 *   one shared epoll set    one waiter; but level-triggered epoll puts the
 *                           listener back on the ready list and wakes a
 *                           second waiter, which may find nothing
 *   SO_REUSEPORT (3.9)      N listeners; the kernel picks one per connection
 *
 *        connection ──> listener wait queue ──> [T1] [T2] [T3] [T4]
 *                                                 ^ accept  ^^^ back to sleep
 *
 * Counting. A wake-up the kernel swallows (the thread runs, finds no event,
 * sleeps again inside epoll_wait) never returns to user space, so we count
 * what every wake-up leaves behind: each worker's voluntary context switches
 * (/proc/self/task/TID/status). Connections are made one at a time, each
 * once every worker is asleep (state 'S'), so every count belongs to one
 * connection. Workers are ended with pthread_cancel (accept and epoll_wait are
 * cancellation points): a stop signal would add wake-ups of its own.
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
#define CONNS	40 /* per way of waiting */

static const char help[] =
	"Four threads wait for one listening socket, five ways; one connection at a\n"
	"time arrives while all four sleep. Prints the wake-ups per connection of\n"
	"each: blocking accept, an epoll set per thread, the same with EPOLLEXCLUSIVE,\n"
	"one shared level-triggered epoll set, and SO_REUSEPORT.\n";

enum way { BLOCKING_ACCEPT, EPOLL_PER_THREAD, EPOLL_EXCLUSIVE, EPOLL_SHARED, REUSEPORT, WAYS };

static const char *way_names[WAYS] = {
	"blocking accept",     "epoll set per thread", "EPOLLEXCLUSIVE",
	"shared LT epoll set", "SO_REUSEPORT",
};

struct worker {
	pthread_t thread;
	_Atomic pid_t tid;
	int listener, epfd;	    /* epfd -1: blocking accept */
	atomic_long returns, empty; /* back in user space; accept found nothing */
};

static atomic_int accepted;

static void take_one(struct worker *w)
{
	int fd = accept4(w->listener, NULL, NULL, SOCK_CLOEXEC);

	if (w->epfd == -1) /* blocking accept: this was the wait */
		atomic_fetch_add(&w->returns, 1);
	if (fd == -1) {
		atomic_fetch_add(&w->empty, 1); /* EAGAIN: another thread took it */
		return;
	}
	close(fd);
	atomic_fetch_add(&accepted, 1);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev;

	atomic_store(&w->tid, exp_gettid());
	for (;;) {
		if (w->epfd != -1) {
			if (epoll_wait(w->epfd, &ev, 1, -1) != 1)
				continue;
			atomic_fetch_add(&w->returns, 1);
		}
		take_one(w);
	}
	return NULL;
}

static int new_epoll(void)
{
	int epfd = epoll_create1(EPOLL_CLOEXEC);

	if (epfd == -1)
		die("epoll_create1");
	return epfd;
}

/* The listeners and epoll sets of one way of waiting; returns the port. */
static uint16_t set_up(struct worker *w, enum way way)
{
	int shared = way == EPOLL_SHARED ? new_epoll() : -1;
	int one = exp_listen(0, way == BLOCKING_ACCEPT ? 0 : SOCK_NONBLOCK, way == REUSEPORT);
	uint16_t port = exp_port(one);

	for (int i = 0; i < WORKERS; i++) {
		w[i].listener =
			way != REUSEPORT || i == 0 ? one : exp_listen(port, SOCK_NONBLOCK, true);
		w[i].epfd = way == BLOCKING_ACCEPT ? -1 : shared != -1 ? shared : new_epoll();
		if (way == EPOLL_PER_THREAD || way == REUSEPORT)
			exp_watch(w[i].epfd, EPOLL_CTL_ADD, w[i].listener, EPOLLIN);
		else if (way == EPOLL_EXCLUSIVE)
			exp_watch(w[i].epfd, EPOLL_CTL_ADD, w[i].listener,
				  EPOLLIN | EPOLLEXCLUSIVE);
	}
	if (shared != -1)
		exp_watch(shared, EPOLL_CTL_ADD, one, EPOLLIN);
	return port;
}

static long total_sleeps(const pid_t *tids)
{
	long sum = 0;

	for (int i = 0; i < WORKERS; i++)
		sum += exp_thread_sleeps(tids[i]);
	return sum;
}

struct result {
	double wakeups, returns, empty;
};

static struct result measure(enum way way)
{
	struct worker w[WORKERS];
	struct result r = { 0, 0, 0 };
	pid_t tids[WORKERS];
	uint16_t port;
	long before;
	int err;

	memset(w, 0, sizeof w);
	atomic_store(&accepted, 0);
	port = set_up(w, way);
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
	before = total_sleeps(tids);
	for (int c = 1; c <= CONNS; c++)
		exp_one_connection(port, &accepted, c, tids, WORKERS);
	r.wakeups = (double)(total_sleeps(tids) - before) / CONNS;
	for (int i = 0; i < WORKERS; i++) { /* before the cancel, which wakes them */
		r.returns += (double)atomic_load(&w[i].returns) / CONNS;
		r.empty += (double)atomic_load(&w[i].empty) / CONNS;
	}
	for (int i = 0; i < WORKERS; i++) {
		pthread_cancel(w[i].thread);
		pthread_join(w[i].thread, NULL);
	}
	for (int i = 0; i < WORKERS; i++) {
		if (w[i].listener != w[0].listener || i == 0)
			close(w[i].listener);
		if (w[i].epfd != -1 && (way != EPOLL_SHARED || i == 0))
			close(w[i].epfd);
	}
	return r;
}

int main(int argc, char **argv)
{
	struct result r[WAYS];

	exp_start(argc, argv, help);
	for (int way = 0; way < WAYS; way++)
		r[way] = measure((enum way)way);

	exp_title("thundering herd");
	exp_say("did", "%d threads wait for one listener; %d connections, one at a time, per way",
		WORKERS, CONNS);
	for (int way = 0; way < WAYS; way++)
		exp_say("observed",
			"%-21s %4.2f wake-ups per connection (%4.2f returned, %4.2f found none)",
			way_names[way], r[way].wakeups, r[way].returns, r[way].empty);
	exp_say("expected",
		"epoll set per thread: all %d; blocking accept, EPOLLEXCLUSIVE, "
		"SO_REUSEPORT: about 1",
		WORKERS);
	exp_say("why", "each epoll set on the socket's wait queue is woken; accept and "
		       "EPOLLEXCLUSIVE wake one");
	return exp_verdict(r[EPOLL_PER_THREAD].wakeups >= 0.75 * WORKERS &&
				   r[BLOCKING_ACCEPT].wakeups <= 1.5 &&
				   r[EPOLL_EXCLUSIVE].wakeups <= 1.5 && r[REUSEPORT].wakeups <= 1.5,
			   "wake-ups per connection: per-thread sets %.2f, accept %.2f, "
			   "EPOLLEXCLUSIVE %.2f, shared %.2f, SO_REUSEPORT %.2f",
			   r[EPOLL_PER_THREAD].wakeups, r[BLOCKING_ACCEPT].wakeups,
			   r[EPOLL_EXCLUSIVE].wakeups, r[EPOLL_SHARED].wakeups,
			   r[REUSEPORT].wakeups);
}
