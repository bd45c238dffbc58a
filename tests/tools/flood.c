/*
 * flood: clients that send pipelined requests as fast as they can and never
 * read the answers, for the hostile-input suite (tests/hostile.bats).
 *
 *   flood [-c CONNS] [-n REQUESTS] [-b MS] [-t MS] [-S SECS] [-m BYTES] PORT
 *
 * Each of CONNS connections writes "GET / HTTP/1.1" requests, back to back,
 * until it has sent at least REQUESTS of them and then on until its writes
 * stall (the socket stays unwritable for -b MS), or -t MS pass. It reads
 * nothing meanwhile. A server that keeps reading such a client must keep its
 * answers somewhere: in its own memory, without bound. A server with
 * back-pressure stops reading once its answers cannot be written, the kernel
 * buffers in between fill, and the client's writes stall: "stalled" below.
 *
 * Then it prints one line,
 *   conns=N sent=REQUESTS stalled=N closed=N
 * (closed: connections the server closed or reset while we were writing),
 * holds the connections -S seconds (so the caller can look at the server's
 * memory meanwhile), reads -m BYTES of answers on each if asked (a client
 * that reads a little, then gives up: a reset in mid-response), and closes
 * them with SO_LINGER {1, 0}, which sends RST: the abrupt end of a client
 * that crashed with unread answers queued.
 *
 * It always connects to 127.0.0.1. Exit status: 0 when every connection was
 * established (whatever the server did with it), 1 when a syscall failed,
 * 2 on a usage error.
 *
 * Syscalls worth knowing here: a write() to a non-blocking socket whose send
 * buffer is full fails with EAGAIN; poll() says POLLOUT when room appears.
 */
#include "toolkit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1000

static const char REQUEST[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

struct flood_conn {
	int fd;
	size_t offset;	    /* bytes of the current request already written */
	unsigned long sent; /* whole requests written */
	bool stalled, closed;
};

static int connect_to(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct pollfd p;
	int err = 0;
	socklen_t len = sizeof err;

	if (fd < 0)
		die("socket");
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS)
		die("connect");
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&p, 1, 5000) != 1)
		die("connect (poll)");
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || (errno = err) != 0)
		die("connect");
	return fd;
}

/* Writes as many requests as the socket takes now. Returns false once the
   server has closed or reset the connection. */
static bool write_some(struct flood_conn *cl)
{
	char batch[64 * (sizeof REQUEST - 1)];
	size_t len = 0;

	while (len + sizeof REQUEST - 1 <= sizeof batch) {
		memcpy(batch + len, REQUEST, sizeof REQUEST - 1);
		len += sizeof REQUEST - 1;
	}
	for (;;) {
		ssize_t n = write(cl->fd, batch + cl->offset, len - cl->offset);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR; /* else EPIPE, ECONNRESET */
		cl->offset += (size_t)n;
		cl->sent += cl->offset / (sizeof REQUEST - 1);
		cl->offset %= sizeof REQUEST - 1; /* a partial request: finish it next */
	}
}

/* Floods every connection until each has sent `want` requests and stalled
   (no room for stall_ms), or the deadline passes. */
static void flood(struct flood_conn *cls, int n, unsigned long want, long stall_ms, long deadline)
{
	struct pollfd p[MAX_CONNS];
	long last_room[MAX_CONNS];
	int active = n;

	for (int i = 0; i < n; i++)
		last_room[i] = now_ms();
	while (active > 0 && now_ms() < deadline) {
		for (int i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = cls[i].stalled || cls[i].closed ? -1
										      : cls[i].fd,
						.events = POLLOUT };
		if (poll(p, (nfds_t)n, 50) < 0 && errno != EINTR)
			die("poll");
		for (int i = 0; i < n; i++) {
			struct flood_conn *cl = &cls[i];

			if (cl->stalled || cl->closed)
				continue;
			if (p[i].revents) {
				last_room[i] = now_ms();
				cl->closed = !write_some(cl);
			} else if (cl->sent >= want && now_ms() - last_room[i] >= stall_ms) {
				cl->stalled = true;
			}
			active -= cl->stalled || cl->closed;
		}
	}
}

/* Reads up to `bytes` of answers (waiting at most a second), then resets. */
static void read_and_reset(struct flood_conn *cl, long bytes)
{
	struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	char buf[4096];
	long deadline = now_ms() + 1000;

	while (bytes > 0 && now_ms() < deadline) {
		struct pollfd p = { .fd = cl->fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(cl->fd, buf, (size_t)bytes < sizeof buf ? (size_t)bytes : sizeof buf);
		if (n <= 0)
			break;
		bytes -= n;
	}
	if (setsockopt(cl->fd, SOL_SOCKET, SO_LINGER, &rst, sizeof rst) < 0)
		die("setsockopt(SO_LINGER)");
	close(cl->fd);
}

static long number(const char *arg, char opt)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v < 0) {
		fprintf(stderr, "flood: -%c: not a number: %s\n", opt, arg);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static struct flood_conn cls[MAX_CONNS];
	long conns = 1, want = 10000, stall_ms = 500, time_ms = 10000, hold_s = 0, read_bytes = 0;
	int opt, stalled = 0, closed = 0;
	unsigned long sent = 0;

	program_name = "flood";

	while ((opt = getopt(argc, argv, "c:n:b:t:S:m:h")) != -1) {
		switch (opt) {
		case 'c': conns = number(optarg, 'c'); break;
		case 'n': want = number(optarg, 'n'); break;
		case 'b': stall_ms = number(optarg, 'b'); break;
		case 't': time_ms = number(optarg, 't'); break;
		case 'S': hold_s = number(optarg, 'S'); break;
		case 'm': read_bytes = number(optarg, 'm'); break;
		default:
			fprintf(stderr, "usage: flood [-c CONNS] [-n REQUESTS] [-b MS] [-t MS] "
					"[-S SECS] [-m BYTES] PORT\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind != argc - 1 || conns < 1 || conns > MAX_CONNS) {
		fprintf(stderr, "flood: give one PORT, and -c between 1 and %d\n", MAX_CONNS);
		return 2;
	}
	for (long i = 0; i < conns; i++)
		cls[i].fd = connect_to((int)number(argv[optind], 'p'));

	flood(cls, (int)conns, (unsigned long)want, stall_ms, now_ms() + time_ms);

	for (long i = 0; i < conns; i++) {
		sent += cls[i].sent;
		stalled += cls[i].stalled;
		closed += cls[i].closed;
	}
	printf("conns=%ld sent=%lu stalled=%d closed=%d\n", conns, sent, stalled, closed);
	fflush(stdout);
	sleep((unsigned)hold_s);
	for (long i = 0; i < conns; i++)
		read_and_reset(&cls[i], read_bytes);
	return 0;
}
