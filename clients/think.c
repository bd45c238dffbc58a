/*
 * think.c - think time: the random draws and the heap of waiting
 * connections; the contracts and a drawing are in think.h.
 *
 * Why a heap and not a timer per connection: a timerfd per connection would
 * cost a descriptor and a timerfd_settime per request; one timer wheel or
 * one heap per thread costs neither. A heap is the shorter of the two to
 * read, and at 10,000 waiting connections a push or a pop is 14 comparisons.
 *
 * Exponential waits (exp:MS) by the inverse of their distribution: if u is
 * uniform in [0, 1), -mean * ln(1 - u) is exponential with that mean. The
 * uniform numbers come from xorshift64*, one state per thread, so that no
 * thread waits for another's random numbers (rand() would share one lock).
 */
#include "think.h"
#include "lg_conn.h"

#include <math.h>
#include <stdlib.h>

/* A connection due within this of now is sent at once: connections that
   think for about the same time then share a wake-up instead of each
   taking its own. A 200th of the mean, at most 500 us: a wait cut short by
   half of that on average is a quarter of a percent shorter. */
#define SLACK_MAX (500 * US)

static uint64_t slack_ns(void)
{
	uint64_t s = cfg.think_ns / 200;
	return s < SLACK_MAX ? s : SLACK_MAX;
}

/* ---------------------------------------------------------------- random numbers */

/* xorshift64* (Vigna, 2014): three shifts and a multiply; state never 0. */
static uint64_t next_random(struct worker *w)
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, 1): the top 53 bits, as many as a double holds. */
static double uniform(struct worker *w)
{
	return (double)(next_random(w) >> 11) * 0x1.0p-53;
}

uint64_t think_draw(struct worker *w, bool first)
{
	double mean = (double)cfg.think_ns;
	if (cfg.think == THINK_EXP)
		return (uint64_t)(-mean * log1p(-uniform(w)));
	return first ? (uint64_t)(mean * uniform(w)) : cfg.think_ns;
}

/* ---------------------------------------------------------------- the heap */
/* heap[0] is the earliest; the children of slot i are 2i+1 and 2i+2.
   c->think_slot is c's slot + 1, 0 when c is not in the heap. */

static bool earlier(const struct worker *w, int i, int j)
{
	return w->think_heap[i]->think_due < w->think_heap[j]->think_due;
}

static void swap_slots(struct worker *w, int i, int j)
{
	struct lg_conn *t = w->think_heap[i];
	w->think_heap[i] = w->think_heap[j];
	w->think_heap[j] = t;
	w->think_heap[i]->think_slot = (uint32_t)i + 1;
	w->think_heap[j]->think_slot = (uint32_t)j + 1;
}

static void sift_up(struct worker *w, int i)
{
	while (i > 0 && earlier(w, i, (i - 1) / 2)) {
		swap_slots(w, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void sift_down(struct worker *w, int i)
{
	for (;;) {
		int least = i, l = 2 * i + 1, r = 2 * i + 2;
		if (l < w->nthink && earlier(w, l, least))
			least = l;
		if (r < w->nthink && earlier(w, r, least))
			least = r;
		if (least == i)
			return;
		swap_slots(w, i, least);
		i = least;
	}
}

/* Moves the last entry into slot i and restores the order around it. */
static void remove_slot(struct worker *w, int i)
{
	w->think_heap[i]->think_slot = 0;
	w->nthink--;
	if (i == w->nthink)
		return;
	w->think_heap[i] = w->think_heap[w->nthink];
	w->think_heap[i]->think_slot = (uint32_t)i + 1;
	sift_down(w, i);
	sift_up(w, i);
}

void think_arm(struct worker *w, struct lg_conn *c, uint64_t now, uint64_t wait, bool counted)
{
	c->think_from = now;
	c->think_due = now + wait;
	c->think_counted = counted;
	w->think_heap[w->nthink] = c;
	c->think_slot = (uint32_t)++w->nthink;
	sift_up(w, w->nthink - 1);
}

void think_cancel(struct worker *w, struct lg_conn *c)
{
	if (c->think_slot)
		remove_slot(w, (int)c->think_slot - 1);
}

uint64_t think_next(const struct worker *w)
{
	return w->nthink > 0 ? w->think_heap[0]->think_due : NEVER;
}

struct lg_conn *think_pop_due(struct worker *w, uint64_t now)
{
	if (w->nthink == 0 || w->think_heap[0]->think_due > now + slack_ns())
		return NULL;
	struct lg_conn *c = w->think_heap[0];
	remove_slot(w, 0);
	if (c->think_counted && in_window(w, now)) {
		w->think_waited_ns += now - c->think_from;
		w->thinks++;
	}
	return c;
}

/* ---------------------------------------------------------------- set-up */

/* splitmix64: spreads a seed's bits, so that seeds a few apart (thread ids,
   near clock readings) start far-apart sequences. */
static uint64_t spread(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

void think_init(struct worker *w)
{
	if (cfg.think == THINK_NONE)
		return;
	w->think_heap = calloc((size_t)w->nactive + 1, sizeof *w->think_heap);
	if (!w->think_heap)
		die("calloc");
	w->rng = spread(now_ns() ^ ((uint64_t)w->id << 32));
	if (w->rng == 0)
		w->rng = 1;
}

void think_free(struct worker *w)
{
	free(w->think_heap);
	w->think_heap = NULL;
}
