/*
 * polltime: the cost of one select(2), poll(2) or epoll_wait(2) call when N
 * descriptors are watched and exactly one of them is ready.
 *
 *   bin/polltime [-m select|poll|epoll|all] [-n N[,N...]] [-c CALLS] [-T SECONDS]
 *                [--header] [-h]
 *
 * Output: one CSV row per (mechanism, N) on stdout,
 *   mechanism,nfds,calls,seconds,ns_per_call
 * with the header row first when --header is given. A combination that cannot
 * be measured (select with a descriptor >= FD_SETSIZE) prints no row; a line
 * starting with "skip" on stderr says why, and the exit status stays 0.
 *
 * The method is the one behind Table 63-9 of Michael Kerrisk, "The Linux
 * Programming Interface" (2010), section 63.4.5: N descriptors are monitored,
 * one of them is ready, and the time of many monitoring calls is measured
 * (the book reports seconds per 100,000 calls, on Linux 2.6.25). One
 * difference, on purpose: the book made a randomly chosen descriptor ready
 * for each call; here the highest-numbered descriptor stays ready for the
 * whole run. select and poll scan all N descriptors in the kernel whichever
 * one is ready, so the cost is the same, and the timed loop then holds only
 * the monitoring call, not the write and read that would make a descriptor
 * ready.
 *
 * The descriptors are N eventfd(2) counters (Linux 2.6.22), numbered
 * contiguously from the lowest free descriptor (3, unless the caller left
 * others open: a shell's redirections, a test harness's pipes), so N = 1000
 * still fits select's FD_SETSIZE of 1024. select is measured only when the
 * highest descriptor actually opened is below FD_SETSIZE: FD_SET on a larger
 * one writes past the end of the fd_set (glibc's _FORTIFY_SOURCE aborts). An eventfd is readable while its counter is non-zero: the last one is
 * incremented once and never read, so it stays ready and the others never are.
 * (TLPI's own programs watch pipes; a pipe costs two descriptors, and 10,000
 * of them would not fit a hard limit of 20,000 descriptors, a common default.)
 *
 *   select(2)     the caller passes a bitmap up to the highest descriptor; the
 *                 kernel checks every bit and overwrites the set, so the
 *                 caller copies a master set before every call: O(N) per call.
 *   poll(2)       the caller passes an array of N struct pollfd; the kernel
 *                 copies it in, polls every entry and copies it back: O(N).
 *   epoll_wait(2) the N descriptors are registered once with epoll_ctl(2); the
 *                 kernel keeps a ready list, and a call only looks at it: O(1)
 *                 in N (O(ready) in general). Linux 2.6 or later.
 *
 * Timing: CLOCK_MONOTONIC read before and after the loop of CALLS calls (after
 * CALLS / 10 warm-up calls). N + a few descriptors are needed; the soft
 * RLIMIT_NOFILE is raised to the hard limit, and the hard limit towards
 * /proc/sys/fs/nr_open when we may (root): raise_nofile, lib/toolkit.h.
 */
#include "toolkit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <unistd.h>

#define DEFAULT_CALLS 100000L /* what Table 63-9 reports */
#define MAX_SIZES     16

static const long default_sizes[] = { 10, 100, 1000, 10000 };

struct fdset {
	long n;	 /* number of watched descriptors */
	int *fd; /* eventfds: fd[0] == 3 ... fd[n-1] */
};

static void usage(FILE *out, int status) __attribute__((noreturn));
static void usage(FILE *out, int status)
{
	fprintf(out,
		"usage: polltime [-m select|poll|epoll|all] [-n N[,N...]] [-c CALLS] [-T SECONDS] [--header] [-h]\n"
		"  -m  mechanism to time (default all)\n"
		"  -n  numbers of watched descriptors (default 10,100,1000,10000)\n"
		"  -c  timed calls per point (default %ld, as in TLPI Table 63-9)\n"
		"  -T  time budget per point: fewer calls (at least 1000) where CALLS would take longer\n"
		"  --header  print the CSV header row first\n",
		DEFAULT_CALLS);
	exit(status);
}

static double now_s(void)
{
	return (double)now_ns() / 1e9;
}

/* Open n eventfds, numbered from the lowest free descriptor up; make the
   last one, only, readable. */
static void fdset_open(struct fdset *s, long n)
{
	s->n = n;
	s->fd = malloc((size_t)n * sizeof *s->fd);
	if (s->fd == NULL)
		die("malloc");
	for (long i = 0; i < n; i++) {
		s->fd[i] = eventfd(0, EFD_CLOEXEC);
		if (s->fd[i] == -1)
			die("eventfd");
	}
	if (eventfd_write(s->fd[n - 1], 1) == -1)
		die("write(eventfd)");
}

static void fdset_close(struct fdset *s)
{
	for (long i = 0; i < s->n; i++)
		if (close(s->fd[i]) == -1)
			die("close");
	free(s->fd);
}

static void expect_one(int got, const char *syscall)
{
	if (got == -1)
		die("%s", syscall);
	if (got != 1) {
		fprintf(stderr, "%s: %s returned %d ready descriptors, expected 1\n", program_name,
			syscall, got);
		exit(1);
	}
}

/* Each time_* function makes `calls` calls and returns the elapsed seconds. */

static double time_select(const struct fdset *s, long calls)
{
	fd_set master, rset;
	struct timeval zero;
	int maxfd = s->fd[s->n - 1];
	double t0 = 0;

	FD_ZERO(&master);
	for (long i = 0; i < s->n; i++)
		FD_SET(s->fd[i], &master);
	for (long i = -calls / 10; i < calls; i++) {
		if (i == 0)
			t0 = now_s();
		rset = master;	 /* select overwrites its sets: copy each time */
		zero.tv_sec = 0; /* Linux also overwrites the timeout */
		zero.tv_usec = 0;
		expect_one(select(maxfd + 1, &rset, NULL, NULL, &zero), "select");
	}
	return now_s() - t0;
}

static double time_poll(const struct fdset *s, long calls)
{
	struct pollfd *pfd = calloc((size_t)s->n, sizeof *pfd);
	double t0 = 0, elapsed;

	if (pfd == NULL)
		die("calloc");
	for (long i = 0; i < s->n; i++) {
		pfd[i].fd = s->fd[i];
		pfd[i].events = POLLIN;
	}
	for (long i = -calls / 10; i < calls; i++) {
		if (i == 0)
			t0 = now_s();
		expect_one(poll(pfd, (nfds_t)s->n, 0), "poll");
	}
	elapsed = now_s() - t0;
	free(pfd);
	return elapsed;
}

static double time_epoll(const struct fdset *s, long calls)
{
	struct epoll_event ev, out[8];
	double t0 = 0, elapsed;
	int epfd = epoll_create1(EPOLL_CLOEXEC);

	if (epfd == -1)
		die("epoll_create1");
	for (long i = 0; i < s->n; i++) {
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN; /* level-triggered: reported every call */
		ev.data.fd = s->fd[i];
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd[i], &ev) == -1)
			die("epoll_ctl(EPOLL_CTL_ADD)");
	}
	for (long i = -calls / 10; i < calls; i++) {
		if (i == 0)
			t0 = now_s();
		expect_one(epoll_wait(epfd, out, 8, 0), "epoll_wait");
	}
	elapsed = now_s() - t0;
	if (close(epfd) == -1)
		die("close");
	return elapsed;
}

typedef double (*timer_fn)(const struct fdset *s, long calls);

/* Time `calls` calls of `mech` over n descriptors and print the CSV row. With
 * a budget (seconds > 0), a probe of 1,000 calls first estimates the cost, and
 * fewer calls are made if all of them would take longer than the budget. */
static void measure(const char *mech, long n, long calls, double budget)
{
	timer_fn timer = strcmp(mech, "select") == 0 ? time_select
			 : strcmp(mech, "poll") == 0 ? time_poll
						     : time_epoll;
	struct fdset s;
	double secs;

	if (timer == time_select && n > FD_SETSIZE) {
		fprintf(stderr, "skip select nfds=%ld: more descriptors than FD_SETSIZE (%d)\n", n,
			FD_SETSIZE);
		return;
	}
	if (raise_nofile(n + 32) < n + 32) {
		fprintf(stderr,
			"skip %s nfds=%ld: needs %ld descriptors, RLIMIT_NOFILE is lower "
			"(raise it with ulimit -n, as root)\n",
			mech, n, n + 32);
		return;
	}
	fdset_open(&s, n);
	/* the highest descriptor opened, not n + 3: inherited ones push it up */
	if (timer == time_select && s.fd[n - 1] >= FD_SETSIZE) {
		fprintf(stderr,
			"skip select nfds=%ld: descriptors up to %d, select handles "
			"< FD_SETSIZE (%d)\n",
			n, s.fd[n - 1], FD_SETSIZE);
		fdset_close(&s);
		return;
	}
	if (budget > 0 && calls > 1000) {
		double per_call = timer(&s, 1000) / 1000;
		if (per_call * (double)calls > budget)
			calls = budget / per_call > 1000 ? (long)(budget / per_call) : 1000;
	}
	secs = timer(&s, calls);
	fdset_close(&s);
	printf("%s,%ld,%ld,%.6f,%.1f\n", mech, n, calls, secs, secs / (double)calls * 1e9);
	fflush(stdout);
}

/* Parse "10,100,1000" into sizes[]; returns how many, or exits on bad input. */
static int parse_sizes(const char *arg, long *sizes)
{
	int count = 0;
	char *end;

	for (const char *p = arg; *p != '\0'; p = end + (*end == ',')) {
		errno = 0;
		sizes[count] = strtol(p, &end, 10);
		if (errno != 0 || end == p || sizes[count] < 1 || (*end != ',' && *end != '\0'))
			usage(stderr, 2);
		if (++count == MAX_SIZES && *end != '\0')
			usage(stderr, 2);
	}
	return count;
}

int main(int argc, char **argv)
{
	static const char *const all[] = { "select", "poll", "epoll" };
	const char *mech = "all";
	long sizes[MAX_SIZES], calls = DEFAULT_CALLS;
	double budget = 0;
	int nsizes = 4, header = 0;

	program_name = "polltime";
	memcpy(sizes, default_sizes, sizeof default_sizes);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			usage(stdout, 0);
		else if (strcmp(argv[i], "--header") == 0)
			header = 1;
		else if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
			mech = argv[++i];
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			nsizes = parse_sizes(argv[++i], sizes);
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc &&
			 (calls = atol(argv[++i])) >= 1)
			continue;
		else if (strcmp(argv[i], "-T") == 0 && i + 1 < argc &&
			 (budget = atof(argv[++i])) > 0)
			continue;
		else
			usage(stderr, 2);
	}
	if (strcmp(mech, "all") != 0 && strcmp(mech, "select") != 0 && strcmp(mech, "poll") != 0 &&
	    strcmp(mech, "epoll") != 0)
		usage(stderr, 2);
	if (header)
		printf("mechanism,nfds,calls,seconds,ns_per_call\n");
	for (int m = 0; m < 3; m++) {
		if (strcmp(mech, "all") != 0 && strcmp(mech, all[m]) != 0)
			continue;
		for (int k = 0; k < nsizes; k++)
			measure(all[m], sizes[k], calls, budget);
	}
	return 0;
}
