/*
 * badserver: an HTTP server that misbehaves on purpose, to test that loadgen
 * classifies each fault and never counts it as a success.
 *
 *   badserver [-p PORT] MODE          (prints "listening on 127.0.0.1:PORT")
 *
 * For every request (a block ending in a blank line) it:
 *   ok        answers 200 "Hello, world!", keeps the connection
 *   split     the same answer, written one byte at a time (tests reassembly)
 *   keepalive10  an HTTP/1.0 answer with "Connection: Upgrade, Keep-Alive":
 *             a list, in another case; keeps the connection (tests tokens)
 *   404       answers 404 with a body, keeps the connection     -> non2xx
 *   close     closes without answering                          -> err_eof
 *   short     promises 13 body bytes, sends 5, closes           -> err_eof
 *   reset     closes with SO_LINGER {1, 0}, which sends RST     -> err_reset
 *   garbage   answers a line that is not an HTTP status line    -> err_status
 *   nolength  answers 200 with no Content-Length                -> err_parse
 *   silent    never answers                                     -> err_timeout
 *
 * One thread per connection, blocking I/O: it serves a handful of test
 * connections and is written to be obviously correct, not fast. A request is
 * assumed to arrive within one read (loadgen writes each one whole).
 * On SIGTERM or SIGINT it prints "stats model=badserver" to stderr and exits
 * 0, as the suites' server_down expects of every server.
 */
#include "toolkit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *mode;

static const char OK[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!";

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Answers one request; returns 0 to keep the connection, -1 to close it. */
static int answer(int fd)
{
	if (strcmp(mode, "ok") == 0) {
		send_all(fd, OK, sizeof OK - 1);
	} else if (strcmp(mode, "split") == 0) {
		for (size_t i = 0; i < sizeof OK - 1; i++)
			send_all(fd, OK + i, 1);
	} else if (strcmp(mode, "keepalive10") == 0) {
		static const char r[] = "HTTP/1.0 200 OK\r\nConnection: Upgrade, Keep-Alive\r\n"
					"Content-Length: 13\r\n\r\nHello, world!";
		send_all(fd, r, sizeof r - 1);
	} else if (strcmp(mode, "404") == 0) {
		static const char r[] =
			"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found";
		send_all(fd, r, sizeof r - 1);
	} else if (strcmp(mode, "short") == 0) {
		static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello";
		send_all(fd, r, sizeof r - 1);
		return -1;
	} else if (strcmp(mode, "reset") == 0) {
		struct linger lg = { 1, 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		return -1;
	} else if (strcmp(mode, "garbage") == 0) {
		static const char r[] = "SPDY/9 hello there\r\n\r\n";
		send_all(fd, r, sizeof r - 1);
	} else if (strcmp(mode, "nolength") == 0) {
		static const char r[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nHello";
		send_all(fd, r, sizeof r - 1);
	} else if (strcmp(mode, "close") == 0) {
		return -1;
	}
	return 0; /* silent: keep it open, say nothing */
}

static void *serve(void *arg)
{
	int fd = (int)(long)arg;
	char buf[8192];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		int keep = 0;
		for (char *p = buf; (p = memmem(p, (size_t)(buf + n - p), "\r\n\r\n", 4)); p += 4)
			if ((keep = answer(fd)) < 0)
				break;
		if (keep < 0)
			break;
	}
	close(fd);
	return NULL;
}

/* The suites' server_down expects a stats line, as from every server. */
static void on_signal(int sig)
{
	static const char line[] = "stats model=badserver\n";
	(void)sig;
	if (write(2, line, sizeof line - 1) < 0)
		_exit(1);
	_exit(0);
}

int main(int argc, char **argv)
{
	int port = 0;

	program_name = "badserver";
	if (argc == 4 && strcmp(argv[1], "-p") == 0) {
		port = atoi(argv[2]);
		mode = argv[3];
	} else if (argc == 2) {
		mode = argv[1];
	} else {
		fprintf(stderr,
			"usage: badserver [-p PORT] "
			"ok|split|keepalive10|404|close|short|reset|garbage|nolength|silent\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t len = sizeof a;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ls < 0)
		die("socket");
	if (setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		die("setsockopt(SO_REUSEADDR)");
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0)
		die("bind");
	if (listen(ls, 128) < 0)
		die("listen");
	if (getsockname(ls, (struct sockaddr *)&a, &len) < 0)
		die("getsockname");
	printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
	fflush(stdout);

	for (;;) {
		int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept4");
		}
		pthread_t t;
		int rc = pthread_create(&t, NULL, serve, (void *)(long)fd);
		if (rc != 0)
			die_en(rc, "pthread_create");
		pthread_detach(t);
	}
}
