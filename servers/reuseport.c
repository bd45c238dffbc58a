/*
 * reuseport.c - N epoll loops, each a thread with its own SO_REUSEPORT listener.
 *
 *   bin/reuseport [-t LOOPS] [-p PORT] ...   (bin/reuseport -h for every option)
 *
 * The model. -t loops (default: one per CPU it may run on), each a thread
 * running bin/epoll_et's edge-triggered loop with everything of its own: its
 * listening socket, its epoll descriptor, its connections (by_activity).
 * All the listening sockets are bound to the same address and port, which
 * SO_REUSEPORT (Linux 3.9) allows, and the kernel picks one of them for each
 * new connection by a hash of its 4-tuple (addresses and ports). Nothing is
 * shared between the loops but the counters: no lock, no hand-off.
 * Compare: diff -u servers/epoll_et.c servers/reuseport.c
 *
 *              SYN for 127.0.0.1:PORT
 *                       |
 *       kernel: hash(saddr, sport, daddr, dport) % N picks a socket
 *             /                                  \
 *     listener 0: its accept queue        listener 1: its accept queue
 *             |                                  |
 *     thread 0: epoll fd 0, ET loop       thread 1: epoll fd 1, ET loop
 *       its connections, by activity    its connections, by activity
 *
 *     main thread: SIGINT/SIGTERM (blocked in the loops) -> stats line, exit
 *
 * Against N threads sharing one listening socket. With the one socket in
 * each thread's epoll set, every set is told of each new connection: all the
 * threads wake and race to accept, all but one for nothing (the thundering
 * herd). EPOLLEXCLUSIVE (Linux 4.5) wakes only one, but epoll wakes its most
 * recent waiter first (LIFO): the thread that just went back to sleep gets the
 * next connection again, so a few busy threads take most of the load while the
 * others sleep. And the threads still share the socket's one accept queue and
 * its lock. With SO_REUSEPORT each socket has its own queue; each connection
 * wakes the one thread that owns its queue. The price: the spread is by hash,
 * statistical, and blind to load. A thread that is busy, or stuck, keeps being
 * sent its share while the others idle. The per-loop counters at the end of
 * the stats line (loop0_accepted=N ...) show the spread.
 *
 * Closing a listener: connections that finished their handshake in its queue
 * but were not yet accepted are reset when it closes, since their socket is
 * gone; Linux 5.14 can move them to another socket of the group instead
 * (sysctl net.ipv4.tcp_migrate_req=1). Here all close together at exit.
 *
 * -p 0: the first socket binds port 0, the kernel gives it a free port, and
 * the others bind that port; "listening on" is printed when all listen.
 *
 * Syscalls: setsockopt SO_REUSEPORT (Linux 3.9), epoll_create1 (2.6.27),
 * epoll_ctl, epoll_wait, accept4 (2.6.28), sigwaitinfo.
 */
#include "server.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

/* What this model is, in -h. */
#define SUMMARY                                                                       \
	"-t loops, each a thread with its own SO_REUSEPORT listening socket on the\n" \
	"same port and its own edge-triggered epoll loop; the kernel spreads the\n"   \
	"connections by a hash of their addresses and ports."

#define MAX_EVENTS 256 /* ready descriptors taken per epoll_wait */

struct loop {
	int listen_fd;
	int epfd;
	/* This loop's connections, least recently active first: --idle-timeout
	   closes from the front. */
	struct conn_list by_activity;
	atomic_ulong accepted; /* connections this loop took */
	char name[24];	       /* "loopN_accepted", its name on the stats line */
	pthread_t thread;
};

static struct loop *loops;
static int nloops;
static _Thread_local struct loop *loop; /* the loop this thread runs */

/* ---------------------------------------------------------------- one loop */
/* bin/epoll_et's loop, with loop-> before its state. */

/* Registers c once, for input, output and the peer's hang-up, edge-triggered. */
static bool watch(struct conn *c)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		note("epoll_ctl(fd %d): %s", c->fd, strerror(errno));
		return false;
	}
	return true;
}

static void drop(struct conn *c)
{
	conn_list_remove(&loop->by_activity, c);
	conn_close(c);
}

static void add(int fd, int64_t now)
{
	struct conn *c = conn_new(fd, NET_NONBLOCKING);

	if (c == NULL) {
		net_refuse(fd, "out of memory");
		return;
	}
	stat_add(&loop->accepted, 1);
	conn_list_push(&loop->by_activity, c, now);
	if (!watch(c))
		drop(c);
}

/* --max-conns is a check (net_accept) and then a count (conn_new, in add):
   two loops accepting at once could both pass the check before either counts.
   This lock makes the two one step; it is taken only with --max-conns. */
static pthread_mutex_t admit_lock = PTHREAD_MUTEX_INITIALIZER;

/* Edge-triggered: accept until EAGAIN, from this loop's own queue. */
static void on_accept(int64_t now)
{
	bool limited = server_opt.max_conns > 0;

	for (;;) {
		int fd;

		if (limited)
			pthread_mutex_lock(&admit_lock);
		fd = net_accept(loop->listen_fd, NET_NONBLOCKING);
		if (fd >= 0)
			add(fd, now);
		if (limited)
			pthread_mutex_unlock(&admit_lock);
		if (fd == NET_AGAIN)
			return;
	}
}

static void on_ready(struct conn *c, uint32_t events, int64_t now)
{
	enum conn_want want;

	/* The peer's FIN: the short-read rule no longer holds; read on to EOF. */
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->peer_hup = true;
	want = conn_run(c, CONN_DRAIN); /* edge: read until the socket is empty */
	if (want == CONN_CLOSE) {
		drop(c);
		return;
	}
	conn_list_touch(&loop->by_activity, c, now);
}

static void *run_loop(void *arg)
{
	struct epoll_event events[MAX_EVENTS];

	loop = arg;
	for (;;) { /* until exit(): the stop signals are the main thread's */
		int n = epoll_wait(loop->epfd, events, MAX_EVENTS,
				   conn_list_timeout(&loop->by_activity, now_ms()));
		int64_t now = now_ms();

		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		stat_add(&stats->wakeups, 1);
		stat_add(&stats->events, (unsigned long)n);
		for (int i = 0; i < n; i++) {
			if (events[i].data.ptr == NULL)
				on_accept(now);
			else
				on_ready(events[i].data.ptr, events[i].events, now);
		}
		conn_list_expire(&loop->by_activity, now, drop);
	}
	return NULL;
}

/* ---------------------------------------------------------------- the main thread */
/* Open the loops, start them, wait for a stop signal. */

/* Opens loop l's listener on *port (0: any; then *port is the one it got)
   and its epoll set, with the listener in it. */
static void loop_open(struct loop *l, int *port)
{
	struct epoll_event ev;

	snprintf(l->name, sizeof l->name, "loop%d_accepted", (int)(l - loops));
	l->listen_fd = net_listen_shared(*port, port);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd == -1)
		die("epoll_create1");
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLET;
	ev.data.ptr = NULL; /* NULL marks the listening socket */
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->listen_fd, &ev) == -1)
		die("epoll_ctl(listening socket)");
}

/* The stats line's extra: loop0_accepted=N loop1_accepted=N ... It runs in
   the SIGUSR1 handler too: atomic loads, and names written beforehand. */
static void print_loops(struct stats_line *line)
{
	for (int i = 0; i < nloops; i++)
		stats_put(line, loops[i].name, &loops[i].accepted);
}

int main(int argc, char **argv)
{
	int port, err;
	sigset_t stop;

	server_init(argc, argv, "reuseport", SUMMARY);
	/* Blocked before any loop exists: the loops inherit the mask, and only
	   sigwaitinfo() in this thread takes the stop signals. */
	signals_stop_set(&stop);
	if ((err = pthread_sigmask(SIG_BLOCK, &stop, NULL)) != 0)
		die_en(err, "pthread_sigmask");

	nloops = server_opt.threads;
	if ((loops = calloc((size_t)nloops, sizeof *loops)) == NULL)
		die("calloc(%d loops)", nloops);
	port = server_opt.port;
	for (int i = 0; i < nloops; i++)
		loop_open(&loops[i], &port); /* the first learns the port, the rest take it */
	net_listening(port);
	stats_extra(print_loops);
	for (int i = 0; i < nloops; i++)
		if ((err = pthread_create(&loops[i].thread, NULL, run_loop, &loops[i])) != 0)
			die_en(err, "pthread_create(loop %d)", i);

	while (sigwaitinfo(&stop, NULL) == -1)
		if (errno != EINTR)
			die("sigwaitinfo");
	return server_finish(); /* exit() ends the loops with the process */
}
