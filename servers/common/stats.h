/*
 * stats.h - the counters behind the "stats model=..." line.
 *
 * They are atomics because several models touch them from many threads (and
 * bin/fork from many processes); a relaxed increment is one locked add, small
 * beside the syscalls it counts.
 */
#ifndef STATS_H
#define STATS_H

#include <stdatomic.h>
#include <stddef.h>

struct stats {
	atomic_ulong accepted; /* connections accepted and served */
	atomic_ulong requests; /* requests answered 200 */
	atomic_ulong errors;   /* requests answered with an error status (4xx, 5xx) */
	atomic_ulong refused;  /* connections answered 503 and closed at once */
	atomic_ulong timeouts; /* connections closed by --idle-timeout */
	atomic_ulong wakeups;  /* calls of the waiting syscall: select, poll, epoll_wait
				   (blocking models: blocking accept and read calls) */
	atomic_ulong events;   /* descriptors those calls reported ready */
	atomic_ulong open;     /* connections open now */
	atomic_ulong peak;     /* the most ever open at once */
};

/* The counters. A pointer, so that a model with several processes can move
   them into memory those processes share (stats_share); it points at the
   process's own copy until then. */
extern struct stats *stats;

/* Adds n to a counter. */
static inline void stat_add(atomic_ulong *counter, unsigned long n)
{
	atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

/* Moves the counters into a shared anonymous mapping, so that processes forked
   afterwards count into the same memory (bin/fork). Dies if mmap fails. */
void stats_share(void);

/* Counts a connection opened (accepted, open, peak) or closed (open). */
void stats_conn_opened(void);
void stats_conn_closed(void);

/* The stats line while it is built. */
struct stats_line;

/* Appends " name=N" (N: the counter's value) to the line. Async-signal-safe. */
void stats_put(struct stats_line *l, const char *name, atomic_ulong *counter);

/* A model's own counters, at the end of the stats line (bin/reuseport: one
   per loop): print appends them with stats_put(). It runs in the SIGUSR1
   handler too, so it may call only async-signal-safe functions. NULL: none. */
void stats_extra(void (*print)(struct stats_line *l));

/* Prints "stats model=NAME accepted=N requests=N ..." as one line to stderr,
   with one write(2). Async-signal-safe: the SIGUSR1 handler calls it. */
void stats_print(const char *model);

#endif
