/*
 * blocking_handler.c - one blocking call in an event loop stalls everyone.
 *
 *   bin/pitfall-blocking_handler
 *
 * The bug. A single-threaded event loop serves all its clients in turns; it
 * is fast only because no turn ever waits. One handler that blocks (a read
 * of a file that is not in the page cache, a DNS lookup, a lock, a sleep)
 * stops the whole loop for that long: every other client's request sits in
 * its socket until the slow one is done, however small it is.
 *
 * The fixes: never block in the loop. Hand slow work to a thread pool and
 * take the result back through the loop (an eventfd, a pipe), as nginx does
 * with its thread pools for file reads and libuv for all file I/O; or use an
 * interface that does not block (io_uring).
 *
 *   fast clients (3) ──┐
 *                      ├──> [ one thread: epoll_wait ─ handler ─ handler ─ ...]
 *   slow client  (1) ──┘                               └ sleeps SLOW_MS: all wait
 *
 * The experiment runs the same loop twice for RUN_MS, with 3 fast clients
 * sending a request every FAST_EVERY_MS, the second time beside one more
 * client whose request costs SLOW_MS of blocking (a nanosleep stands for the
 * disk) every SLOW_MS + SLOW_GAP_MS, and compares the fast clients' latency
 * percentiles.
 */
#include "experiment.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FAST_CLIENTS  3
#define SLOW_MS	      200 /* the blocking call */
#define SLOW_GAP_MS   300 /* the slow client's pause between its requests */
#define FAST_EVERY_MS 5	  /* each fast client's pace: 200 requests a second */
#define RUN_MS	      1000
#define MAX_SAMPLES   30000

static const char help[] =
	"A single-threaded epoll loop serves three fast clients (a request each every\n"
	"5 ms), then the same three plus one whose request blocks the loop for 200 ms\n"
	"(a sleep standing for a disk read) every 500 ms. Compares the fast clients'\n"
	"p50 and p99 latency, measured from when each request was due.\n";

static const char fast_req[] = "GET /fast HTTP/1.1\r\n\r\n";
static const char slow_req[] = "GET /slow HTTP/1.1\r\n\r\n";
static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

static atomic_bool stop_clients, stop_server;

/* ---- the server: one thread, level-triggered epoll ------------------------ */

static void block_for(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* One request per read: each client waits for its answer before the next. */
static void on_readable(int epfd, int fd)
{
	char buf[512];
	ssize_t n = read(fd, buf, sizeof buf - 1);

	if (n <= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
		close(fd);
		return;
	}
	buf[n] = '\0';
	if (strstr(buf, "/slow") != NULL)
		block_for(SLOW_MS); /* the bug: the loop waits, and all with it */
	if (write(fd, answer, sizeof answer - 1) != (ssize_t)sizeof answer - 1)
		die("write");
}

static void *serve(void *arg)
{
	int listener = *(int *)arg, epfd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event evs[16];

	if (epfd == -1)
		die("epoll_create1");
	exp_watch(epfd, EPOLL_CTL_ADD, listener, EPOLLIN);
	while (!atomic_load(&stop_server)) {
		int n = epoll_wait(epfd, evs, 16, 50);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd != listener) {
				on_readable(epfd, fd);
			} else if ((fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC)) != -1) {
				exp_watch(epfd, EPOLL_CTL_ADD, fd, EPOLLIN);
			}
		}
	}
	close(epfd);
	return NULL;
}

/* ---- the clients: closed loop, one request in flight each ------------------ */

struct client {
	pthread_t thread;
	uint16_t port;
	bool slow;
	uint64_t *lat_us; /* fast clients record their latencies here */
	int count;
};

static void ask(int fd, const char *req, size_t len)
{
	char buf[128];
	size_t got = 0;

	if (write(fd, req, len) != (ssize_t)len)
		die("client write");
	while (got < sizeof answer - 1) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n <= 0)
			die("client read");
		got += (size_t)n;
	}
}

static void sleep_until(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* A fast client sends one request every FAST_EVERY_MS, and measures each
   from when it was due, not from when it could be sent: a client stuck
   waiting must not hide the requests it would have sent meanwhile
   (coordinated omission; docs/loadgen.md, --rate). */
static void fast_client(struct client *c, int fd)
{
	uint64_t start = now_ns();

	for (uint64_t k = 0; !atomic_load(&stop_clients); k++) {
		uint64_t due = start + k * FAST_EVERY_MS * 1000000u;

		sleep_until(due);
		ask(fd, fast_req, sizeof fast_req - 1);
		if (c->count < MAX_SAMPLES / FAST_CLIENTS)
			c->lat_us[c->count++] = (now_ns() - due) / 1000;
	}
}

static void *client_run(void *arg)
{
	struct client *c = arg;
	int fd = exp_connect(c->port);

	if (c->slow) {
		while (!atomic_load(&stop_clients)) {
			ask(fd, slow_req, sizeof slow_req - 1);
			block_for(SLOW_GAP_MS);
		}
	} else {
		fast_client(c, fd);
	}
	close(fd);
	return NULL;
}

/* ---- the experiment ------------------------------------------------------ */

struct result {
	int requests;
	uint64_t p50, p99, max;
};

static int by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static struct result percentiles(uint64_t *all, int n)
{
	struct result r = { n, 0, 0, 0 };

	if (n == 0)
		return r;
	qsort(all, (size_t)n, sizeof *all, by_value);
	r.p50 = all[n / 2];
	r.p99 = all[(n * 99) / 100];
	r.max = all[n - 1];
	return r;
}

static struct result run(bool with_slow, uint64_t *samples)
{
	struct client c[FAST_CLIENTS + 1];
	int listener = exp_listen(0, SOCK_NONBLOCK, false), n = 0, err;
	int clients = FAST_CLIENTS + (with_slow ? 1 : 0);
	pthread_t server;

	atomic_store(&stop_clients, false);
	atomic_store(&stop_server, false);
	if ((err = pthread_create(&server, NULL, serve, &listener)) != 0)
		die_en(err, "pthread_create");
	for (int i = 0; i < clients; i++) {
		c[i] = (struct client){ .port = exp_port(listener),
					.slow = i == FAST_CLIENTS,
					.lat_us = samples + i * (MAX_SAMPLES / FAST_CLIENTS) };
		if ((err = pthread_create(&c[i].thread, NULL, client_run, &c[i])) != 0)
			die_en(err, "pthread_create");
	}
	block_for(RUN_MS);		   /* the measurement interval */
	atomic_store(&stop_clients, true); /* the server answers their last requests */
	for (int i = 0; i < clients; i++)
		pthread_join(c[i].thread, NULL);
	atomic_store(&stop_server, true);
	pthread_join(server, NULL);
	close(listener);
	for (int i = 0; i < FAST_CLIENTS; i++) { /* gather the fast samples */
		memmove(samples + n, c[i].lat_us, (size_t)c[i].count * sizeof *samples);
		n += c[i].count;
	}
	return percentiles(samples, n);
}

int main(int argc, char **argv)
{
	static uint64_t samples[MAX_SAMPLES];
	struct result alone, blocked;

	exp_start(argc, argv, help);
	alone = run(false, samples);
	blocked = run(true, samples);

	exp_title("blocking in an event loop");
	exp_say("did",
		"%d fast clients, a request each every %d ms for %d ms; again beside one "
		"that blocks the loop %d ms",
		FAST_CLIENTS, FAST_EVERY_MS, RUN_MS, SLOW_MS);
	exp_say("observed",
		"alone:       %6d fast requests, p50 %6.1f ms, p99 %6.1f ms, max %6.1f ms",
		alone.requests, alone.p50 / 1e3, alone.p99 / 1e3, alone.max / 1e3);
	exp_say("observed",
		"beside slow: %6d fast requests, p50 %6.1f ms, p99 %6.1f ms, max %6.1f ms",
		blocked.requests, blocked.p50 / 1e3, blocked.p99 / 1e3, blocked.max / 1e3);
	exp_say("expected", "beside the slow one, the fast clients' p99 near %d ms", SLOW_MS);
	exp_say("why", "one thread runs every handler in turn: while one blocks, none runs");
	return exp_verdict(blocked.p99 >= SLOW_MS * 1000 / 2 && alone.p99 * 4 <= blocked.p99,
			   "fast clients' p99: %.1f ms alone, %.1f ms beside one %d ms handler",
			   alone.p99 / 1e3, blocked.p99 / 1e3, SLOW_MS);
}
