/*
 * stats.c - the counters and their one line.
 */
#include "stats.h"

#include <stdio.h>

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

void stats_print(const char *model)
{
	fprintf(stderr,
		"stats model=%s accepted=%lu requests=%lu wakeups=%lu events=%lu "
		"refused=%lu errors=%lu timeouts=%lu peak=%lu\n",
		model, get(&stats.accepted), get(&stats.requests), get(&stats.wakeups),
		get(&stats.events), get(&stats.refused), get(&stats.errors),
		get(&stats.timeouts), get(&stats.peak));
	fflush(stderr);
}
