/*
 * toolkit.c - fatal errors, the clock and the descriptor limit, once.
 */
#include "toolkit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

const char *program_name = "c10k-lab";
int die_status = 1;

void vmessage(int err, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", program_name);
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
	int err = errno; /* before anything else can change it */
	va_list ap;

	va_start(ap, fmt);
	vmessage(err, fmt, ap);
	va_end(ap);
	exit(die_status);
}

void die_en(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(err, fmt, ap);
	va_end(ap);
	exit(die_status);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* cannot fail with a valid clock id */
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The kernel's ceiling for any hard limit: fs.nr_open (1048576 by default). */
static rlim_t nr_open(void)
{
	FILE *f = fopen("/proc/sys/fs/nr_open", "r");
	unsigned long v = 1048576;

	if (f != NULL) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 1048576;
		fclose(f);
	}
	return (rlim_t)v;
}

long raise_nofile(long need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("getrlimit(RLIMIT_NOFILE)");
	if (need > 0 && rl.rlim_max < (rlim_t)need) {
		rlim_t cap = nr_open();
		struct rlimit up;

		up.rlim_cur = up.rlim_max = (rlim_t)need < cap ? (rlim_t)need : cap;
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up; /* allowed: we hold CAP_SYS_RESOURCE */
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1 && getrlimit(RLIMIT_NOFILE, &rl) == -1)
			die("getrlimit(RLIMIT_NOFILE)");
	}
	return rl.rlim_cur == RLIM_INFINITY ? (long)nr_open() : (long)rl.rlim_cur;
}
