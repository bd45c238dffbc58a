/*
 * hist.c - log-linear latency histogram; see hist.h for the layout.
 *
 * Index of a value v (with S = 2^HIST_SUB_BITS = 1,024):
 *   v < 2S          index = v                   (one bucket per nanosecond)
 *   otherwise       shift = msb(v) - HIST_SUB_BITS, so v >> shift is in [S, 2S),
 *                   index = shift * S + (v >> shift)
 * Each shift step adds S buckets of width 2^shift; the ranges join without a
 * gap because shift = 1 starts at index S + S = 2S. No floating point and no
 * loop in hist_record: one count-leading-zeros instruction and a shift.
 *
 * Relies on: calloc (buckets start at zero), __builtin_clzll (GCC, Clang).
 */
#include "hist.h"

#include <stdlib.h>

#define SUB	  (1ULL << HIST_SUB_BITS)
#define MSB(v)	  (63 - __builtin_clzll(v))
#define MAX_SHIFT (35 - HIST_SUB_BITS)	  /* msb(60e9) = 35 */
#define NBUCKETS  ((MAX_SHIFT + 2) * SUB) /* 27 * 1,024 = 27,648 */

struct hist {
	uint64_t count;
	uint64_t min;
	uint64_t max;
	/* x86-64's long double has a 64-bit significand: every integer sum below
	   2^64 ns (584 years of latency) is exact, where a double (53 bits) would
	   round past 2^53 ns, 104 days, which a long run of many connections adds
	   up to. (On arm64 long double is 113 bits; where it is only a double,
	   the mean is still right to 16 digits.) */
	long double sum;
	uint64_t bucket[NBUCKETS];
};

static size_t bucket_of(uint64_t v)
{
	if (v > HIST_MAX_NS)
		v = HIST_MAX_NS;
	if (v < 2 * SUB)
		return (size_t)v;
	unsigned shift = (unsigned)MSB(v) - HIST_SUB_BITS;
	return (size_t)(shift * SUB + (v >> shift));
}

/* The largest value that lands in bucket i. */
static uint64_t upper_edge(size_t i)
{
	if (i < 2 * SUB)
		return i;
	unsigned shift = (unsigned)(i / SUB) - 1;
	uint64_t low = (i - shift * SUB) << shift;
	return low + (1ULL << shift) - 1;
}

struct hist *hist_new(void)
{
	return calloc(1, sizeof(struct hist));
}

void hist_free(struct hist *h)
{
	free(h);
}

void hist_record(struct hist *h, uint64_t ns)
{
	h->bucket[bucket_of(ns)]++;
	if (h->count == 0 || ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
	h->count++;
	h->sum += ns;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	if (src->count == 0)
		return;
	for (size_t i = 0; i < NBUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
}

uint64_t hist_count(const struct hist *h)
{
	return h->count;
}
uint64_t hist_min(const struct hist *h)
{
	return h->min;
}
uint64_t hist_max(const struct hist *h)
{
	return h->max;
}

double hist_mean(const struct hist *h)
{
	return h->count ? (double)(h->sum / h->count) : 0.0;
}

uint64_t hist_percentile(const struct hist *h, double pct)
{
	if (h->count == 0)
		return 0;
	/* The rank of the value we want, 1-based: p99 of 1,000 values is the 990th. */
	uint64_t rank = (uint64_t)(pct / 100.0 * (double)h->count + 0.5);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	uint64_t seen = 0;
	for (size_t i = 0; i < NBUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t v = upper_edge(i);
			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}
