/*
 * stats.c - the counters and their one line.
 *
 * The line is built by hand and written with one write(2), without stdio:
 * the SIGUSR1 handler prints it too, in whatever thread the kernel chose and
 * whatever that thread was doing, and printf() is not async-signal-safe (it
 * may take stdio's lock, which the interrupted code may hold). Atomic loads
 * and write() are safe there.
 */
#include "stats.h"

#include <errno.h>
#include <unistd.h>

/* A load in a signal handler is safe only if it takes no lock. */
_Static_assert(ATOMIC_LONG_LOCK_FREE == 2, "the SIGUSR1 handler reads the counters");

struct stats stats;

static unsigned long get(atomic_ulong *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void stats_conn_opened(void)
{
	unsigned long now = atomic_fetch_add_explicit(&stats.open, 1, memory_order_relaxed) + 1;
	unsigned long peak = get(&stats.peak);

	stat_add(&stats.accepted, 1);
	while (now > peak && !atomic_compare_exchange_weak(&stats.peak, &peak, now))
		;
}

void stats_conn_closed(void)
{
	atomic_fetch_sub_explicit(&stats.open, 1, memory_order_relaxed);
}

/* ---------------------------------------------------------------- the line */

struct line {
	char buf[256];		/* the longest line, nine 20-digit counters, fits */
	size_t len;
};

static void put_str(struct line *l, const char *s)
{
	while (*s && l->len < sizeof l->buf)
		l->buf[l->len++] = *s++;
}

/* Decimal digits, the last one first, then copied out in order. */
static void put_ulong(struct line *l, unsigned long v)
{
	char digits[20];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0 && l->len < sizeof l->buf)
		l->buf[l->len++] = digits[--n];
}

static void put_counter(struct line *l, const char *name, atomic_ulong *counter)
{
	put_str(l, " ");
	put_str(l, name);
	put_str(l, "=");
	put_ulong(l, get(counter));
}

void stats_print(const char *model)
{
	struct line l = { .len = 0 };
	size_t sent = 0;
	int saved_errno = errno;	/* a handler must leave errno as it found it */

	put_str(&l, "stats model=");
	put_str(&l, model);
	put_counter(&l, "accepted", &stats.accepted);
	put_counter(&l, "requests", &stats.requests);
	put_counter(&l, "wakeups", &stats.wakeups);
	put_counter(&l, "events", &stats.events);
	put_counter(&l, "refused", &stats.refused);
	put_counter(&l, "errors", &stats.errors);
	put_counter(&l, "timeouts", &stats.timeouts);
	put_counter(&l, "peak", &stats.peak);
	put_str(&l, "\n");
	while (sent < l.len) {
		ssize_t n = write(STDERR_FILENO, l.buf + sent, l.len - sent);

		if (n > 0)
			sent += (size_t)n;
		else if (n == -1 && errno == EINTR)
			continue;
		else
			break;		/* stderr is gone: nobody to tell */
	}
	errno = saved_errno;
}
