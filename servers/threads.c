/*
 * threads.c - one thread per connection, blocking I/O.
 *
 *   bin/threads [-p PORT] ...         (bin/threads -h for every option)
 *
 * The model. The main thread blocks in accept(); each connection gets a thread
 * of its own that blocks in read() and write(), exactly like bin/blocking. The
 * kernel's scheduler is the event loop: a thread sleeping in read() costs no
 * CPU, and the one whose data arrived is woken.
 *
 *   listen fd --> main thread: accept() -> conn_new() -> pthread_create()
 *                                                              |
 *        +-----------------------------------------------------+
 *        v
 *   conn fd 5 <==> thread 1: read() -> answer -> write() -> read() ...
 *   conn fd 6 <==> thread 2: asleep in read()      (costs no CPU, a stack)
 *   conn fd 7 <==> thread 3: asleep in write()     (send buffer full)
 *                  the scheduler wakes the thread whose socket is ready
 *
 * The costs: a thread is a kernel task with its own stack, so memory grows
 * with connections (we ask for STACK_SIZE instead of the default 8 MiB, most of
 * which would stay untouched virtual memory anyway), and each wake-up is a
 * context switch. Thread creation is cheap but not free, and the process has
 * limits (RLIMIT_NPROC, kernel.threads-max, memory for stacks): when
 * pthread_create() fails, the connection is answered 503 and the server lives on.
 *
 * Signals: a worker must never take SIGINT/SIGTERM, or the main thread would
 * sleep on in accept(); each thread starts with them blocked
 * (pthread_attr_setsigmask_np, glibc 2.32), so no window exists where it could.
 * SIGUSR1 may land in any thread: its handler prints the stats line itself.
 *
 * With --idle-timeout, SO_RCVTIMEO/SO_SNDTIMEO let the kernel time out a read
 * or write that waits too long.
 *
 * Counters: wakeups counts blocking accept() and read() calls.
 *
 * Syscalls: accept4 (Linux 2.6.28), read, write, clone (pthread_create).
 * -t is ignored: the number of threads is the number of connections.
 */
#include "server.h"

#include <pthread.h>
#include <string.h>

/* What this model is, in -h. */
#define SUMMARY "One thread per connection, blocking I/O."

#define STACK_SIZE (64 * 1024) /* the handler needs little: buffers live in struct conn */

static void *serve(void *arg)
{
	struct conn *c = arg;

	/* Each call sleeps in one read(), as in blocking.c: a wakeup and its event. */
	do {
		stat_add(&stats->wakeups, 1);
		stat_add(&stats->events, 1);
	} while (conn_run(c, CONN_READ_ONCE) != CONN_CLOSE);
	conn_close(c);
	return NULL;
}

/* Detached (nobody joins them: they clean up after themselves), small stacks,
   stop signals blocked from the first instruction. */
static void thread_attr_init(pthread_attr_t *attr)
{
	sigset_t stop;
	int err;

	signals_stop_set(&stop);
	if ((err = pthread_attr_init(attr)) != 0 ||
	    (err = pthread_attr_setdetachstate(attr, PTHREAD_CREATE_DETACHED)) != 0 ||
	    (err = pthread_attr_setstacksize(attr, STACK_SIZE)) != 0 ||
	    (err = pthread_attr_setsigmask_np(attr, &stop)) != 0)
		die_en(err, "pthread_attr_*");
}

int main(int argc, char **argv)
{
	int listen_fd = server_start(argc, argv, "threads", SUMMARY, NET_BLOCKING);
	pthread_attr_t attr;

	thread_attr_init(&attr);
	while (!server_stopping) {
		int fd = net_accept(listen_fd, NET_BLOCKING); /* sleeps until a client connects */
		struct conn *c;
		pthread_t tid;
		int err;

		stat_add(&stats->wakeups, 1);
		if (fd < 0)
			continue;
		stat_add(&stats->events, 1);
		/* Made here, not in the new thread: conn_new() counts it open, and
		   --max-conns must see it before the next accept, not when (or if)
		   the new thread gets to run. */
		if ((c = conn_new(fd, NET_BLOCKING)) == NULL) {
			net_refuse(fd, "out of memory");
			continue;
		}
		err = pthread_create(&tid, &attr, serve, c);
		if (err != 0) { /* EAGAIN: out of threads or memory for a stack */
			note("pthread_create: %s; refusing the connection", strerror(err));
			conn_refuse(c, "out of threads");
		}
	}
	pthread_attr_destroy(&attr); /* frees what pthread_attr_setsigmask_np allocated */
	return server_finish();
}
