/*
 * epoll_oneshot.c - N worker threads share one epoll set; EPOLLONESHOT.
 *
 *   bin/epoll_oneshot [-t THREADS] [-p PORT] ...   (bin/epoll_oneshot -h for every option)
 *
 * The model. -t worker threads (default: one per CPU it may run on) all sleep
 * in epoll_wait() on the same epoll descriptor, and whichever wakes serves what
 * it was given.
 *
 *   worker 1 --+                  epoll instance (epfd), shared
 *   worker 2 --+-- epoll_wait --> interest: fd 3 IN|ONESHOT (listen),
 *   ...        |                            fd 5 (disabled: worker 2 has it),
 *   worker N --+                            fd 7 IN|ONESHOT, ...
 *                                 ready:    fd 7 -> to one waiting worker
 *   worker 2 serves fd 5 alone, then epoll_ctl(MOD) re-arms it: back in play.
 *   main thread: sigtimedwait(SIGINT, SIGTERM); with --idle-timeout it also
 *   shutdown()s expired connections, whose worker then closes them.
 *
 * The danger: two threads could be handed the same connection at once (data
 * arrives while the first is still working), and would read and write over each
 * other. EPOLLONESHOT prevents it: once a descriptor is reported it is disabled
 * until the thread that got it re-arms it with EPOLL_CTL_MOD. So each connection
 * belongs to one thread at a time, and struct conn needs no lock.
 *
 * Re-arming re-checks readiness: if data arrived while the descriptor was
 * disabled, the MOD makes it ready again at once, so nothing is lost and
 * level-triggered reading (one read per report) is enough.
 *
 * The listening socket is one-shot too: one thread accepts everything waiting,
 * then re-arms it. That is also what makes net_accept()'s spare-descriptor
 * trick for EMFILE safe here, since it must not run in two threads at once.
 *
 * The cost: one epoll_ctl(MOD) per request beside the read and the write, and
 * counters shared between threads. The gain: the work spreads over the CPUs.
 * (conn_take_over() and conn_hand_off() add nothing the kernel does not already
 * promise: they say it in C, for ThreadSanitizer; see conn.h.)
 *
 * --idle-timeout: a worker takes a connection off by_activity (the list in
 * order of last activity) while it serves it and puts it back before
 * re-arming. The main thread, which also
 * waits for SIGINT/SIGTERM, expires idle connections by shutdown(), never
 * close(): the hang-up wakes a worker, which closes the connection as it would
 * any other. Only the owner may free a connection. Without --idle-timeout the
 * list is touched only when a connection opens and closes, never per request:
 * it holds every open connection, so one still open at exit is reachable, not
 * a leak, to ASan and valgrind (epoll keeps our pointers where they cannot look).
 *
 * Syscalls: epoll_create1 (Linux 2.6.27), epoll_ctl, epoll_wait, EPOLLONESHOT
 * (2.6.2), accept4 (2.6.28), sigtimedwait.
 */
#include "server.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

/* What this model is, in -h. */
#define SUMMARY                                                            \
	"-t worker threads share one epoll set; EPOLLONESHOT gives each\n" \
	"connection to one thread at a time, re-armed with EPOLL_CTL_MOD."

#define MAX_EVENTS 16 /* few per call: a thread holds what it takes */

static int epfd, listen_fd;
/* Every connection, least recently active first: --idle-timeout closes from the
   front. With --idle-timeout a connection is off it while a thread serves it,
   so the reaper never hangs up under a working thread. */
static struct conn_list by_activity;
static pthread_mutex_t by_activity_lock = PTHREAD_MUTEX_INITIALIZER;

/* Enables one report for c (ADD the first time, MOD after each report). */
static bool arm(int fd, void *ptr, int op, enum conn_want want)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	ev.events = (want == CONN_WRITE ? EPOLLOUT : EPOLLIN) | EPOLLONESHOT;
	ev.data.ptr = ptr;
	if (epoll_ctl(epfd, op, fd, &ev) == -1) {
		note("epoll_ctl(fd %d): %s", fd, strerror(errno));
		return false;
	}
	return true;
}

/* The list is shared by the threads and the reaper: take c off it, if the
   reaper has not already. */
static void take_off_list(struct conn *c)
{
	pthread_mutex_lock(&by_activity_lock);
	if (c->on_list) /* the reaper may have taken it off already */
		conn_list_remove(&by_activity, c);
	pthread_mutex_unlock(&by_activity_lock);
}

static void put_on_list(struct conn *c)
{
	pthread_mutex_lock(&by_activity_lock);
	conn_list_push(&by_activity, c, now_ms());
	pthread_mutex_unlock(&by_activity_lock);
}

static void add(int fd)
{
	struct conn *c = conn_new(fd, NET_NONBLOCKING);

	if (c == NULL) {
		net_refuse(fd, "out of memory");
		return;
	}
	put_on_list(c);
	conn_hand_off(c);
	if (!arm(fd, c, EPOLL_CTL_ADD, CONN_READ)) {
		take_off_list(c);
		conn_close(c);
	}
}

static void on_accept(void)
{
	for (;;) { /* take all that wait: the socket is disabled meanwhile */
		int fd = net_accept(listen_fd, NET_NONBLOCKING);

		if (fd == NET_AGAIN)
			break;
		if (fd >= 0)
			add(fd);
	}
	if (!arm(listen_fd, NULL, EPOLL_CTL_MOD, CONN_READ))
		die("epoll_ctl(re-arm the listening socket)");
}

static void on_ready(struct conn *c)
{
	int fd = c->fd; /* read now: after conn_hand_off(), c is not ours to read */
	enum conn_want want;

	conn_take_over(c);
	/* Served now, so not idle: the reaper must not hang up under this thread. */
	if (server_opt.idle_timeout)
		take_off_list(c);
	want = conn_run(c, CONN_READ_ONCE); /* the re-arm re-checks the level */
	if (want == CONN_CLOSE) {
		take_off_list(c);
		conn_close(c);
		return;
	}
	if (server_opt.idle_timeout)
		put_on_list(c); /* idle again from now */
	conn_hand_off(c);
	if (!arm(fd, c, EPOLL_CTL_MOD, want)) { /* after this, c is not ours */
		take_off_list(c);
		conn_close(c);
	}
}

static void *worker(void *arg)
{
	struct epoll_event events[MAX_EVENTS];

	(void)arg;
	for (;;) {
		int n = epoll_wait(epfd, events, MAX_EVENTS, -1);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		stat_add(&stats->wakeups, 1);
		stat_add(&stats->events, (unsigned long)n);
		for (int i = 0; i < n; i++) {
			if (events[i].data.ptr == NULL)
				on_accept();
			else
				on_ready(events[i].data.ptr);
		}
	}
	return NULL;
}

/* Main thread: wait for a stop signal; meanwhile hang up on expired connections. */
static void wait_for_stop(const sigset_t *stop)
{
	for (;;) {
		struct timespec ts = { .tv_sec = 1, .tv_nsec = 0 };
		struct conn *c;

		if (sigtimedwait(stop, NULL, &ts) > 0)
			return;
		pthread_mutex_lock(&by_activity_lock);
		while ((c = conn_list_expired(&by_activity, now_ms())) != NULL) {
			conn_list_remove(&by_activity, c);
			shutdown(c->fd, SHUT_RDWR); /* its worker sees the hang-up and closes it */
			stat_add(&stats->timeouts, 1);
		}
		pthread_mutex_unlock(&by_activity_lock);
	}
}

int main(int argc, char **argv)
{
	sigset_t stop;
	int err;

	listen_fd = server_start(argc, argv, "epoll_oneshot", SUMMARY, NET_NONBLOCKING);
	/* Block the stop signals before any worker exists: workers inherit the mask,
	   and only sigtimedwait() in this thread takes them. */
	signals_stop_set(&stop);
	if ((err = pthread_sigmask(SIG_BLOCK, &stop, NULL)) != 0)
		die_en(err, "pthread_sigmask");

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd == -1)
		die("epoll_create1");
	if (!arm(listen_fd, NULL, EPOLL_CTL_ADD, CONN_READ))
		die("epoll_ctl(listening socket)");
	for (int i = 0; i < server_opt.threads; i++) {
		pthread_t tid;

		if ((err = pthread_create(&tid, NULL, worker, NULL)) != 0)
			die_en(err, "pthread_create(worker %d)", i);
	}
	wait_for_stop(&stop);
	return server_finish(); /* exit() ends the workers with the process */
}
