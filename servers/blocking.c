/*
 * blocking.c - iterative: accept one client, serve it until it closes, then the next.
 *
 *   bin/blocking [-p PORT] ...        (bin/blocking -h for every option)
 *
 * The model. Every call blocks: accept() sleeps until a client connects, read()
 * until it sends, write() until the kernel has taken the answer. The code is
 * the simplest there is, and the server is only as fast as its slowest client:
 * while one connection is served, and a kept-alive connection is served until
 * the client closes it, every other client waits in the listen backlog.
 *
 * That is the lesson: connect with `nc 127.0.0.1 8080`, send nothing, and curl
 * from another terminal hangs until nc quits. A slow or idle client stalls
 * everyone, and the benchmark cannot run this model with idle connections at all.
 *
 *   client A ==== conn fd ====> the one thread: read() -> answer -> write(),
 *                                 again and again until A closes; asleep in
 *                                 read() while A sends nothing
 *   client B --+
 *   client C --+--> listen fd: accept backlog [ B | C | D ]
 *   client D --+     (the kernel completed their handshakes; they wait for
 *                     accept(), which comes only when A is done)
 *
 * What the kernel does meanwhile: connections beyond the one being served
 * complete their TCP handshake anyway and queue in the accept backlog (-b,
 * capped by net.core.somaxconn); when it is full, new SYNs are dropped and
 * clients retry after a second or more.
 *
 * With --idle-timeout the kernel keeps time for us: SO_RCVTIMEO makes a read()
 * that waits too long return EAGAIN, and the connection is closed.
 *
 * Counters: wakeups counts blocking accept() and read() calls.
 *
 * Syscalls: accept4 (Linux 2.6.28), read, write. No readiness API at all.
 */
#include "server.h"

/* What this model is, in -h. */
#define SUMMARY "Iterative: one client at a time, blocking I/O. One idle client stalls all."

/* Serves one connection to its end. With a blocking socket conn_run() never
   waits for anything but the next read, which is simply the next call. That
   read() is where this model sleeps, as select sleeps in select(): each call
   is a wakeup, and the one event it brings (conn_run() in conn.h). */
static void serve(int fd)
{
	struct conn *c = conn_new(fd, NET_BLOCKING);

	if (c == NULL) {
		net_refuse(fd, "out of memory");
		return;
	}
	do {
		stat_add(&stats->wakeups, 1);
		stat_add(&stats->events, 1);
	} while (conn_run(c, CONN_READ_ONCE) != CONN_CLOSE);
	conn_close(c);
}

int main(int argc, char **argv)
{
	int listen_fd = server_start(argc, argv, "blocking", SUMMARY, NET_BLOCKING);

	while (!server_stopping) {
		int fd = net_accept(listen_fd, NET_BLOCKING); /* sleeps until a client connects */

		stat_add(&stats->wakeups, 1);
		if (fd >= 0) {
			stat_add(&stats->events, 1);
			serve(fd); /* everyone else waits meanwhile */
		}
	}
	return server_finish();
}
