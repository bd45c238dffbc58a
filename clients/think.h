/*
 * think.h - think time (--think MS, --think exp:MS): after each answer a
 * kept-alive connection waits before its next request, as a user reading a
 * page or a slow link would. Each thread keeps its waiting connections in
 * one binary min-heap keyed by the time each is due; the engine's wait ends
 * at the earliest of them (the epoll engine's epoll_pwait2 timeout, the
 * io_uring engine's io_uring_enter timeout), so a thousand connections that
 * think cost no timer descriptor and no syscall each: a push and a pop,
 * O(log n), per request.
 *
 *   heap[0] earliest due ─── the engine's wait ends then
 *     ├ heap[1]   ├ heap[2]      each lg_conn knows its slot (think_slot),
 *     ...           ...          so a connection closed while it thinks
 *                                leaves the heap in O(log n)
 *
 * Every function runs in the connection's own worker thread.
 */
#ifndef THINK_H
#define THINK_H

#include "worker.h"

/* Gives w a heap with room for each of its active connections, and seeds
   its random numbers (for exp:MS and the first, staggered wait) from the
   clock and the thread's id: a different sequence every run and thread.
   Does nothing without --think. Dies when out of memory. */
void think_init(struct worker *w);

/* Returns how long c waits, in ns, before its next request: the fixed time
   or an exponential draw of that mean. `first`: its first request, which
   waits a uniform share of the fixed time instead (an exponential draw with
   exp:), so that connections opened together do not ask together. */
uint64_t think_draw(struct worker *w, bool first);

/* Puts c into w's heap, due `wait` ns after now; `counted`: the wait goes
   into the measured think mean (first waits do not). c must not be in it. */
void think_arm(struct worker *w, struct lg_conn *c, uint64_t now, uint64_t wait, bool counted);

/* Takes c out of w's heap, if it is there. */
void think_cancel(struct worker *w, struct lg_conn *c);

/* Returns when the earliest waiting connection is due, NEVER when none is. */
uint64_t think_next(const struct worker *w);

/* Removes and returns a connection due by `now` (with a little slack, see
   think.c), NULL when none is; counts its wait when it was `counted`. */
struct lg_conn *think_pop_due(struct worker *w, uint64_t now);

/* Frees w's heap; after the thread is joined. */
void think_free(struct worker *w);

#endif
