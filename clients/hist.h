/*
 * hist.h - a log-linear latency histogram (the idea of HdrHistogram, our code).
 *
 * Values are recorded in nanoseconds. Below 2,048 every value has its own
 * bucket; above, each power of two [2^k, 2^(k+1)) is cut into 1,024 equal
 * buckets, so a bucket is never wider than 1/1,024 of the values it holds:
 * about 0.1% precision, from 1 us up to HIST_MAX_NS (60 s), in 27,648 buckets
 * of 8 bytes (216 KiB). Count, min and max are kept exactly, and the sum in a
 * long double (exact below 2^64 ns on x86-64), so the mean and the extremes
 * carry no bucket error at all.
 *
 * One histogram per thread, no locks: each thread records into its own and the
 * main thread merges them (hist_merge) after joining the threads.
 */
#ifndef HIST_H
#define HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 10	     /* 1,024 buckets per power of two */
#define HIST_MAX_NS   60000000000ULL /* 60 s; larger values are clamped */

struct hist;

/* Returns a new, empty histogram, or NULL when out of memory. */
struct hist *hist_new(void);

/* Frees h; NULL is allowed. */
void hist_free(struct hist *h);

/* Records one value in ns; values above HIST_MAX_NS go in the last bucket,
 * but min, max and the mean still see the exact value. */
void hist_record(struct hist *h, uint64_t ns);

/* Adds every count of src into dst; src is unchanged. */
void hist_merge(struct hist *dst, const struct hist *src);

/* Returns how many values were recorded. */
uint64_t hist_count(const struct hist *h);

/* Returns the smallest / largest value recorded, exactly; 0 when empty. */
uint64_t hist_min(const struct hist *h);
uint64_t hist_max(const struct hist *h);

/* Returns the arithmetic mean in ns (of the exact sum, see hist.c); 0 when empty. */
double hist_mean(const struct hist *h);

/* Returns the value (ns) at or below which `pct` percent of the values lie,
 * 0 <= pct <= 100, as the upper edge of its bucket (never above hist_max);
 * 0 when empty. */
uint64_t hist_percentile(const struct hist *h, double pct);

#endif
