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
	atomic_ulong accepted;	/* connections accepted and served */
	atomic_ulong requests;	/* requests answered 200 */
	atomic_ulong errors;	/* requests answered with an error status (4xx, 5xx) */
	atomic_ulong refused;	/* connections answered 503 and closed at once */
	atomic_ulong timeouts;	/* connections closed by --idle-timeout */
	atomic_ulong wakeups;	/* calls of the waiting syscall: select, poll, epoll_wait
				   (blocking models: blocking accept and read calls) */
	atomic_ulong events;	/* descriptors those calls reported ready */
	atomic_ulong open;	/* connections open now */
	atomic_ulong peak;	/* the most ever open at once */
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

/* A model's own counters, at the end of the stats line (bin/reuseport: one
   count per loop). print writes " name=value ..." into buf, at most room bytes
   with the NUL, as snprintf does, and returns what snprintf returned. NULL: none. */
void stats_extra(int (*print)(char *buf, size_t room));

/* Prints "stats model=NAME accepted=N requests=N ..." as one line to stderr. */
void stats_print(const char *model);

#endif
