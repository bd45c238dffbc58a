/*
 * emfile_spin.c - the EMFILE spin: a level-triggered accept loop at the
 * descriptor limit burns a CPU doing nothing.
 *
 *   bin/pitfall-emfile_spin
 *
 * The bug. At the limit (RLIMIT_NOFILE), accept() fails with EMFILE and
 * leaves the connection in the listener's queue: the listening socket stays
 * readable, so level-triggered epoll reports it again at once, accept fails
 * again, and so on, as fast as the CPU goes, until some descriptor is closed.
 *
 * The fix (libuv's, and servers/common/net.c refuse_at_emfile()): keep one
 * spare descriptor open; at EMFILE close it, accept the connection, close
 * that (a server would first answer 503), and open the spare again. The queue
 * is empty, the listener quiet, the loop asleep.
 *
 *   client ──connect──> [listener queue: 1 connection]   epoll (level)
 *                         │ readable, always            ┌───────────────┐
 *                         └──────────────────────────── │ accept: EMFILE│ x N
 *                                                       └───────────────┘
 *
 * The experiment lowers its own soft RLIMIT_NOFILE to LIMIT, fills every
 * free descriptor with /dev/null, queues one connection, and runs each loop
 * for one second, counting epoll_wait() returns and the thread's CPU time
 * (clock_gettime(CLOCK_THREAD_CPUTIME_ID)).
 */
#include "experiment.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define LIMIT  64 /* the descriptor limit the experiment runs under */
#define RUN_MS 1000

static const char help[] =
	"A level-triggered accept loop at the descriptor limit: accept fails with\n"
	"EMFILE, the connection stays queued, the loop spins. Counts wake-ups and\n"
	"CPU for one second, against the spare-descriptor fix.\n";

enum at_emfile { RETRY, USE_SPARE };

struct run {
	long wakeups, emfiles, accepted;
	double cpu_share;
};

static int spare = -1;

static int open_null(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static struct rlimit saved_limit;
static int filler[LIMIT], filled;

/* Lowers the soft limit, then takes every free descriptor below it. */
static void fill_descriptors(void)
{
	struct rlimit rl;
	int fd;

	if (getrlimit(RLIMIT_NOFILE, &saved_limit) == -1)
		die("getrlimit");
	rl = saved_limit;
	rl.rlim_cur = LIMIT;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("setrlimit(RLIMIT_NOFILE, %d)", LIMIT);
	while ((fd = open_null()) != -1)
		filler[filled++] = fd;
	if (errno != EMFILE)
		die("open(/dev/null)");
}

/* Gives them back, and the limit: the C library and a sanitizer's exit
   report may need a descriptor or two of their own. */
static void release_descriptors(void)
{
	for (int i = 0; i < filled; i++)
		close(filler[i]);
	if (setrlimit(RLIMIT_NOFILE, &saved_limit) == -1)
		die("setrlimit(RLIMIT_NOFILE)");
}

/* At EMFILE, the fix: spend the spare on the connection, refuse it, take
   the spare back. Returns true if a connection was taken off the queue. */
static bool refuse_with_spare(int listener)
{
	int fd;

	close(spare);
	fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	if (fd != -1)
		close(fd); /* a server would write a 503 first */
	spare = open_null();
	return fd != -1;
}

/* The accept loop for RUN_MS. */
static struct run accept_loop(int epfd, int listener, enum at_emfile mode)
{
	struct run r = { 0, 0, 0, 0 };
	struct epoll_event ev;
	uint64_t cpu0 = exp_thread_cpu_ns(), t0 = now_ns();

	while (now_ns() - t0 < RUN_MS * 1000000ull) {
		int n = epoll_wait(epfd, &ev, 1, 100);

		if (n <= 0)
			continue;
		r.wakeups++;
		int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1) {
			r.accepted++;
			close(fd);
		} else if (errno == EMFILE) {
			r.emfiles++;
			if (mode == USE_SPARE && refuse_with_spare(listener))
				r.accepted++;
		}
	}
	r.cpu_share = (double)(exp_thread_cpu_ns() - cpu0) / (double)(now_ns() - t0);
	return r;
}

int main(int argc, char **argv)
{
	struct epoll_event ev;
	struct run spin, fixed;
	int listener, client, epfd;

	exp_start(argc, argv, help);
	listener = exp_listen(0, SOCK_NONBLOCK, false);
	client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	spare = open_null();
	if (client == -1 || epfd == -1 || spare == -1)
		die("socket, epoll_create1 or open");
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN; /* level-triggered */
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev) == -1)
		die("epoll_ctl");
	fill_descriptors();
	/* connect() needs no new descriptor: the client socket was made before */
	exp_connect_fd(client, exp_port(listener));
	spin = accept_loop(epfd, listener, RETRY);
	fixed = accept_loop(epfd, listener, USE_SPARE);
	release_descriptors();

	exp_title("the EMFILE spin");
	exp_say("did",
		"RLIMIT_NOFILE %d, %d descriptors filled, 1 connection queued, %d ms per loop",
		LIMIT, filled, RUN_MS);
	exp_say("observed", "retry: %ld wake-ups, %ld EMFILE, %ld accepted, CPU %.0f%%",
		spin.wakeups, spin.emfiles, spin.accepted, 100 * spin.cpu_share);
	exp_say("observed", "spare: %ld wake-ups, %ld EMFILE, %ld accepted, CPU %.1f%%",
		fixed.wakeups, fixed.emfiles, fixed.accepted, 100 * fixed.cpu_share);
	exp_say("expected", "retry: thousands of wake-ups, most of a CPU; spare: 1, near 0%%");
	exp_say("why", "EMFILE leaves the connection queued, so the listener stays readable");
	return exp_verdict(spin.wakeups >= 1000 && spin.accepted == 0 && fixed.wakeups <= 5 &&
				   fixed.accepted == 1 && spin.cpu_share > 20 * fixed.cpu_share,
			   "retry: %ld wake-ups/s, CPU %.0f%%; spare: %ld wake-up, CPU %.1f%%",
			   spin.wakeups, 100 * spin.cpu_share, fixed.wakeups,
			   100 * fixed.cpu_share);
}
