/*
 * stats.c - the counters and their one line.
 */
#include "stats.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static struct stats own;		/* the process's copy, until stats_share() */
struct stats *stats = &own;
static int (*print_extra)(char *buf, size_t room);

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
	memcpy(shared, &own, sizeof own);	/* nothing counted yet, but keep it */
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

void stats_extra(int (*print)(char *buf, size_t room))
{
	print_extra = print;
}

/* Built in one buffer and written with one call: stderr is unbuffered, and
   bin/fork's children write their notes to the same stderr. */
void stats_print(const char *model)
{
	char line[1024];
	size_t len;
	int n = snprintf(line, sizeof line,
			 "stats model=%s accepted=%lu requests=%lu wakeups=%lu events=%lu "
			 "refused=%lu errors=%lu timeouts=%lu peak=%lu",
			 model, get(&stats->accepted), get(&stats->requests), get(&stats->wakeups),
			 get(&stats->events), get(&stats->refused), get(&stats->errors),
			 get(&stats->timeouts), get(&stats->peak));

	if (print_extra && n > 0 && (size_t)n < sizeof line - 1)
		print_extra(line + n, sizeof line - 1 - (size_t)n);	/* truncated if too long */
	len = strlen(line);
	if (len == sizeof line - 1)
		len--;			/* truncated: the newline takes the last byte */
	line[len] = '\n';
	fwrite(line, 1, len + 1, stderr);
	fflush(stderr);
}
