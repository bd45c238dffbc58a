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
#include "util.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A load in a signal handler is safe only if it takes no lock. */
_Static_assert(ATOMIC_LONG_LOCK_FREE == 2, "the SIGUSR1 handler reads the counters");

static struct stats own; /* the process's copy, until stats_share() */
struct stats *stats = &own;
static void (*print_extra)(struct stats_line *l);

static unsigned long get(atomic_ulong *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void stats_share(void)
{
	/* MAP_SHARED|MAP_ANONYMOUS: memory that fork() does not copy on write, so
	   parent and children see each other's increments. A lock-free atomic
	   works on it across processes as across threads: the lock is the CPU's. */
	struct stats *shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (shared == MAP_FAILED)
		die("mmap(shared counters)");
	memcpy(shared, &own, sizeof own); /* nothing counted yet, but keep it */
	stats = shared;
}

void stats_conn_opened(void)
{
	unsigned long now = atomic_fetch_add_explicit(&stats->open, 1, memory_order_relaxed) + 1;
	unsigned long peak = get(&stats->peak);

	stat_add(&stats->accepted, 1);
	while (now > peak && !atomic_compare_exchange_weak(&stats->peak, &peak, now))
		;
}

void stats_conn_closed(void)
{
	atomic_fetch_sub_explicit(&stats->open, 1, memory_order_relaxed);
}

/* ---------------------------------------------------------------- the line */

struct stats_line {
	char buf[1024]; /* nine 20-digit counters, and a model's own (stats_extra) */
	size_t len;
};

static void put_str(struct stats_line *l, const char *s)
{
	while (*s && l->len < sizeof l->buf)
		l->buf[l->len++] = *s++;
}

/* Decimal digits, the last one first, then copied out in order. */
static void put_ulong(struct stats_line *l, unsigned long v)
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

void stats_extra(void (*print)(struct stats_line *l))
{
	print_extra = print;
}

void stats_put(struct stats_line *l, const char *name, atomic_ulong *counter)
{
	put_str(l, " ");
	put_str(l, name);
	put_str(l, "=");
	put_ulong(l, get(counter));
}

void stats_print(const char *model)
{
	struct stats_line l = { .len = 0 };
	size_t sent = 0;
	int saved_errno = errno; /* a handler must leave errno as it found it */

	put_str(&l, "stats model=");
	put_str(&l, model);
	stats_put(&l, "accepted", &stats->accepted);
	stats_put(&l, "requests", &stats->requests);
	stats_put(&l, "wakeups", &stats->wakeups);
	stats_put(&l, "events", &stats->events);
	stats_put(&l, "refused", &stats->refused);
	stats_put(&l, "errors", &stats->errors);
	stats_put(&l, "timeouts", &stats->timeouts);
	stats_put(&l, "peak", &stats->peak);
	if (print_extra)
		print_extra(&l);
	put_str(&l, "\n");
	while (sent < l.len) {
		ssize_t n = write(STDERR_FILENO, l.buf + sent, l.len - sent);

		if (n > 0)
			sent += (size_t)n;
		else if (n == -1 && errno == EINTR)
			continue;
		else
			break; /* stderr is gone: nobody to tell */
	}
	errno = saved_errno;
}
