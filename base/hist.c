/* hist.c -- the log-linear histogram of hist.h: bucket arithmetic, merge,
 * quantiles and the JSON array form.  Owns nothing beyond the struct it is
 * given; no allocation. */
#include "hist.h"

#include "base_err.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Buckets 0..127 hold one value each; above, bucket 128 + (s-1)*64 + j
 * holds [(64 + j) << s, (65 + j) << s) for shift s >= 1, so a bucket is
 * 1/64 of its lowest value wide and its midpoint is within 1/128. */
size_t hist_bucket_of(uint64_t v)
{
	unsigned s;

	if (v > HIST_MAX)
		v = HIST_MAX;
	if (v < 128)
		return (size_t)v;
	s = (unsigned)(63 - __builtin_clzll(v)) - 6;
	return 128 + (size_t)(s - 1) * 64 + (size_t)((v >> s) - 64);
}

uint64_t hist_bucket_lo(size_t i)
{
	unsigned s;

	if (i < 128)
		return i;
	s = (unsigned)((i - 128) / 64) + 1;
	return (UINT64_C(64) + (i - 128) % 64) << s;
}

static uint64_t bucket_width(size_t i)
{
	return i < 128 ? 1 : UINT64_C(1) << ((i - 128) / 64 + 1);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void hist_add_n(hist *h, uint64_t v, uint64_t k)
{
	if (!k)
		return;
	if (v > HIST_MAX)
		v = HIST_MAX;
	h->n[hist_bucket_of(v)] += k;
	if (!h->count || v < h->min)
		h->min = v;
	if (!h->count || v > h->max)
		h->max = v;
	h->count += k;
	h->sum = v && k > UINT64_MAX / v ? UINT64_MAX
	       : sat_add(h->sum, v * k);
}

void hist_merge(hist *a, const hist *b)
{
	if (!b->count)
		return;
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		a->n[i] += b->n[i];
	if (!a->count || b->min < a->min)
		a->min = b->min;
	if (!a->count || b->max > a->max)
		a->max = b->max;
	a->count += b->count;
	a->sum = sat_add(a->sum, b->sum);
}

uint64_t hist_quantile(const hist *h, double q)
{
	uint64_t rank, seen = 0, v;

	if (!h->count)
		return 0;
	if (!(q > 0))
		return h->min;
	if (q >= 1)
		return h->max;
	rank = (uint64_t)((double)h->count * q);
	if ((double)rank < (double)h->count * q)
		rank++; /* ceil */
	if (!rank)
		rank = 1;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->n[i];
		if (seen < rank)
			continue;
		v = hist_bucket_lo(i) + bucket_width(i) / 2;
		return v < h->min ? h->min : v > h->max ? h->max : v;
	}
	return h->max;
}

double hist_mean(const hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0;
}

void hist_to_json(const hist *h, strbuf *b)
{
	bool first = true;

	strbuf_str(b, "[");
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		if (!h->n[i])
			continue;
		strbuf_printf(b, "%s[%" PRIu64 ",%" PRIu64 "]", first ? "" : ",",
			      hist_bucket_lo(i), h->n[i]);
		first = false;
	}
	strbuf_str(b, "]");
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* An unsigned decimal integer at *pp (after blanks); false when none. */
static bool read_u64(const char **pp, uint64_t *out)
{
	const char *p = skip_ws(*pp);
	char *end;

	if (!isdigit((unsigned char)*p))
		return false;
	errno = 0;
	*out = strtoull(p, &end, 10);
	if (errno || (*end == '.' || *end == 'e' || *end == 'E'))
		return false;
	*pp = end;
	return true;
}

int hist_from_json(hist *h, const char *s, char *err, size_t errlen)
{
	const char *p = skip_ws(s);
	size_t last = 0, pairs = 0;
	uint64_t lo, k;

	memset(h, 0, sizeof *h);
	if (*p++ != '[')
		goto bad_form;
	p = skip_ws(p);
	if (*p == ']') {
		p++;
		goto tail;
	}
	for (;;) {
		size_t i;

		if (*(p = skip_ws(p)) != '[')
			goto bad_form;
		p++;
		if (!read_u64(&p, &lo))
			goto bad_form;
		if (*(p = skip_ws(p)) != ',')
			goto bad_form;
		p++;
		if (!read_u64(&p, &k))
			goto bad_form;
		if (*(p = skip_ws(p)) != ']')
			goto bad_form;
		p++;
		i = hist_bucket_of(lo);
		if (lo > HIST_MAX || hist_bucket_lo(i) != lo) {
			snprintf(err, errlen, "histogram pair %zu: %" PRIu64
				 " is not the lowest value of a bucket", pairs + 1,
				 lo);
			return BASE_EINVAL;
		}
		if (pairs && i <= last) {
			snprintf(err, errlen, "histogram pair %zu: %" PRIu64
				 " does not come after the pair before it (lows "
				 "must ascend)", pairs + 1, lo);
			return BASE_EINVAL;
		}
		hist_add_n(h, lo, k);
		last = i;
		pairs++;
		if (*(p = skip_ws(p)) == ']')
			break;
		if (*p++ != ',')
			goto bad_form;
	}
	p++;
tail:
	if (*skip_ws(p) == '\0')
		return 0;
bad_form:
	snprintf(err, errlen, "histogram: at character %zu: the form is "
		 "[[lo, count], ...] with non-negative integers",
		 (size_t)(p - s));
	memset(h, 0, sizeof *h);
	return BASE_EINVAL;
}
