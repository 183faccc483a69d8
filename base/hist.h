/* hist.h -- a mergeable log-linear histogram of non-negative integers
 * (latencies in microseconds, ...), HdrHistogram-like: exact below 128,
 * then 64 linear sub-buckets per power of two, so a quantile is within
 * 1/128 (< 1 %) of a recorded value.  Owns its counts only; knows nothing
 * of what is measured.  Not thread-safe: one writer, or merge copies. */
#ifndef CAMSIM_BASE_HIST_H
#define CAMSIM_BASE_HIST_H

#include "strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Values up to HIST_MAX (2^40 - 1: 12.7 days in microseconds); larger
 * ones are counted as HIST_MAX. */
#define HIST_MAX ((UINT64_C(1) << 40) - 1)
#define HIST_BUCKETS (128 + 33 * 64)

/* Zero-initialise ({0}) for an empty histogram; no allocation, so a copy
 * is a struct assignment (18 KiB: keep it on the heap in numbers). */
typedef struct hist {
	uint64_t n[HIST_BUCKETS];
	uint64_t count, min, max;
	uint64_t sum; /* saturates at UINT64_MAX */
} hist;

/* Records value v (clamped to HIST_MAX) k times. */
void hist_add_n(hist *h, uint64_t v, uint64_t k);
static inline void hist_add(hist *h, uint64_t v) { hist_add_n(h, v, 1); }
/* Adds every value of b to a: the result is the histogram of both streams
 * (counts, min, max and sum too). */
void hist_merge(hist *a, const hist *b);
/* The value at quantile q (0..1: 0.5 median, 0.99 p99): the midpoint of
 * the bucket holding the ceil(q*count)-th smallest value, kept within
 * [min, max].  0 when empty. */
uint64_t hist_quantile(const hist *h, double q);
/* Mean of the recorded values (0 when empty). */
double hist_mean(const hist *h);

/* The lowest value bucket i holds, and the bucket of value v. */
uint64_t hist_bucket_lo(size_t i);
size_t hist_bucket_of(uint64_t v);

/* The array form, for reports that merge exactly: the non-empty buckets,
 * lowest first, as [[lo, count], ...] with lo each bucket's lowest value
 * (an empty histogram is []).  Appended to b. */
void hist_to_json(const hist *h, strbuf *b);
/* Reads the array form into h (cleared first): counts per bucket exactly,
 * min and max the lowest and highest bucket's lo, sum from the buckets'
 * lows (a report keeps the exact min, max and sum beside the array).
 * 0, or BASE_EINVAL with where and why in err: not an array of
 * [integer, integer] pairs, a lo that is no bucket's lowest value, lows
 * not ascending. */
int hist_from_json(hist *h, const char *s, char *err, size_t errlen);

#endif
