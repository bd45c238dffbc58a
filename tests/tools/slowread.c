/*
 * slowread: a client that asks for one path and reads the answer slowly,
 * for the file suite (tests/files.bats).
 *
 *   slowread [-r BYTES_PER_SEC] [-b RCVBUF] [-t MS] [-o FILE] PATH PORT
 *
 * It sets a small receive buffer BEFORE connecting (the window it offers is
 * fixed at the handshake: set later, the kernel would already have offered
 * more), sends "GET PATH HTTP/1.1" with Connection: close, then reads at
 * most BYTES_PER_SEC, a tenth of it in each 100 ms, until the server closes
 * the connection or -t MS pass. Everything received (head and body) goes to
 * FILE if asked. A server that sends a large file to it finds its send buffer
 * full within milliseconds and must wait for room: an event loop goes on
 * serving others meanwhile, a blocking server sleeps in sendfile.
 *
 * It prints one line, "received=N closed=yes|no", and exits 0; 1 when a
 * syscall failed, 2 on a usage error. It connects to 127.0.0.1 only.
 */
#include "toolkit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 100

static void usage(FILE *to)
{
	fprintf(to, "usage: slowread [-r BYTES_PER_SEC] [-b RCVBUF] [-t MS] [-o FILE] PATH PORT\n"
		    "Asks 127.0.0.1:PORT for PATH and reads the answer at BYTES_PER_SEC\n"
		    "(default 65536) through a receive buffer of RCVBUF bytes (default\n"
		    "4096), until the server closes or MS milliseconds pass (default 10000).\n"
		    "Prints \"received=N closed=yes|no\".\n");
}

/* A socket with a small receive buffer, connected to 127.0.0.1:port. */
static int connect_small(int port, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) == -1)
		die("setsockopt(SO_RCVBUF)");
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1)
		die("connect to port %d", port);
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			die("write");
		p += w;
		n -= (size_t)w;
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Reads up to per_tick bytes in each TICK_MS (waiting for them within the
   tick), until EOF or the deadline; writes them to out (-1: nowhere).
   Returns true if the server closed. */
static bool read_slowly(int fd, int out, size_t per_tick, int64_t deadline, unsigned long long *got)
{
	static char buf[1 << 16];

	for (int64_t tick = now_ms(); tick < deadline; tick += TICK_MS) {
		size_t budget = per_tick;
		int64_t now;

		while (budget > 0 && (now = now_ms()) < tick + TICK_MS) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN, .revents = 0 };
			size_t want = budget < sizeof buf ? budget : sizeof buf;
			ssize_t n;

			if (poll(&pfd, 1, (int)(tick + TICK_MS - now)) == 0)
				break; /* nothing came this tick */
			n = recv(fd, buf, want, MSG_DONTWAIT);
			if (n == 0)
				return true;
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n == -1)
				return true; /* reset: closed, too */
			*got += (size_t)n;
			budget -= (size_t)n;
			if (out >= 0 && write(out, buf, (size_t)n) != n)
				die("write to the output file");
		}
		now = now_ms();
		if (now < tick + TICK_MS)
			sleep_ms(tick + TICK_MS - now);
	}
	return false;
}

int main(int argc, char **argv)
{
	long rate = 65536, rcvbuf = 4096, timeout = 10000;
	const char *outfile = NULL;
	char req[2048];
	unsigned long long got = 0;
	int opt, fd, out = -1, len;
	bool closed;

	program_name = "slowread";
	while ((opt = getopt(argc, argv, "r:b:t:o:h")) != -1) {
		switch (opt) {
		case 'r': rate = atol(optarg); break;
		case 'b': rcvbuf = atol(optarg); break;
		case 't': timeout = atol(optarg); break;
		case 'o': outfile = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != 2 || rate < 10 || rcvbuf < 1 || timeout < 1) {
		usage(stderr);
		return 2;
	}
	len = snprintf(req, sizeof req,
		       "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		       argv[optind]);
	if (len < 0 || (size_t)len >= sizeof req) {
		usage(stderr);
		return 2;
	}
	if (outfile && (out = open(outfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) == -1)
		die("open %s", outfile);
	fd = connect_small(atoi(argv[optind + 1]), (int)rcvbuf);
	send_all(fd, req, (size_t)len);
	closed = read_slowly(fd, out, (size_t)(rate / (1000 / TICK_MS)), now_ms() + timeout, &got);
	printf("received=%llu closed=%s\n", got, closed ? "yes" : "no");
	return 0;
}
