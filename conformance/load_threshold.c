/* load_threshold.c -- the threshold grammar of docs/load.md:
 *   EXPR  := AGG [ "(" KIND ")" ] OP NUMBER [ UNIT ]
 *   AGG   := pNN | pNN.N | min | max | avg | count | rate | errors
 *          | violations
 *   OP    := < | <= | > | >= | ==      UNIT := us | ms | s | %
 * and its judgement on the metrics.  Owns nothing; pure. */
#include "load_threshold.h"

#include "conf_err.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(const char *s, const char *p, char *err, size_t errlen,
	       const char *rule)
{
	snprintf(err, errlen, "--threshold \"%s\": at character %zu: %s", s,
		 (size_t)(p - s) + 1, rule);
	return CONF_EINVAL;
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* failed requests: a count, or a share of requests with % */
static bool is_counted(load_agg a)
{
	return a == LOAD_AGG_ERRORS || a == LOAD_AGG_VIOLATIONS;
}

static bool is_latency(load_agg a)
{
	return a == LOAD_AGG_PCT || a == LOAD_AGG_MIN || a == LOAD_AGG_MAX ||
	       a == LOAD_AGG_AVG;
}

int load_threshold_parse(const char *s, load_threshold *t, char *err,
			 size_t errlen)
{
	static const struct { const char *name; load_agg agg; } aggs[] = {
		{"min", LOAD_AGG_MIN}, {"max", LOAD_AGG_MAX},
		{"avg", LOAD_AGG_AVG}, {"count", LOAD_AGG_COUNT},
		{"rate", LOAD_AGG_RATE}, {"errors", LOAD_AGG_ERRORS},
		{"violations", LOAD_AGG_VIOLATIONS}};
	const char *p = skip_ws(s), *q;
	char *end;
	size_t n;

	memset(t, 0, sizeof *t);
	if (strlen(s) >= sizeof t->expr)
		return bad(s, s + sizeof t->expr - 1, err, errlen,
			   "an expression is at most 127 characters");
	snprintf(t->expr, sizeof t->expr, "%s", s);
	for (q = p; isalnum((unsigned char)*q) || *q == '.'; q++)
		;
	n = (size_t)(q - p);
	if (n >= 2 && p[0] == 'p' && isdigit((unsigned char)p[1])) {
		errno = 0;
		t->q = strtod(p + 1, &end);
		if (end != q || errno || !(t->q > 0) || t->q >= 100)
			return bad(s, p, err, errlen, "a percentile is p "
				   "followed by a number above 0 and below 100 "
				   "(p50, p99, p99.9)");
		t->q /= 100;
		t->agg = LOAD_AGG_PCT;
	} else {
		size_t i;
		for (i = 0; i < sizeof aggs / sizeof aggs[0]; i++)
			if (strlen(aggs[i].name) == n && !strncmp(p, aggs[i].name, n))
				break;
		if (i == sizeof aggs / sizeof aggs[0])
			return bad(s, p, err, errlen, "expected a metric: pNN, "
				   "min, max, avg, count, rate, errors or "
				   "violations");
		t->agg = aggs[i].agg;
	}
	p = skip_ws(q);
	if (*p == '(') {
		bool inner = false; /* lateness(heartbeat): one level nests */
		q = p + 1;
		for (p = q; *p && (*p != ')' || inner); p++) {
			if ((*p == '(' && !inner && p > q) ||
			    (*p == ')' && inner)) {
				inner = !inner;
				continue;
			}
			if (!isalnum((unsigned char)*p) && *p != '_' && *p != ' ')
				return bad(s, p, err, errlen, "a message kind is "
					   "letters, digits and _ (heartbeat, "
					   "snapshot, propagation, "
					   "lateness(heartbeat)) closed by )");
		}
		if (*p != ')' || p == q || (size_t)(p - q) >= sizeof t->kind)
			return bad(s, p, err, errlen, "expected a message kind "
				   "of 1 to 47 characters closed by )");
		memcpy(t->kind, q, (size_t)(p - q));
		p = skip_ws(p + 1);
	} else if (!is_counted(t->agg)) {
		return bad(s, p, err, errlen, "this metric needs a message "
			   "kind in parentheses, e.g. p99(heartbeat)");
	}
	if (p[0] == '<' && p[1] == '=')
		t->op = LOAD_LE, p += 2;
	else if (p[0] == '>' && p[1] == '=')
		t->op = LOAD_GE, p += 2;
	else if (p[0] == '=' && p[1] == '=')
		t->op = LOAD_EQ, p += 2;
	else if (*p == '<')
		t->op = LOAD_LT, p++;
	else if (*p == '>')
		t->op = LOAD_GT, p++;
	else
		return bad(s, p, err, errlen, "expected a comparison: <, <=, "
			   ">, >= or ==");
	p = skip_ws(p);
	errno = 0;
	t->limit = strtod(p, &end);
	if (end == p || errno || !isfinite(t->limit) || t->limit < 0 ||
	    *p == '+' || *p == '-')
		return bad(s, p, err, errlen, "expected a non-negative number");
	p = skip_ws(end);
	if (is_latency(t->agg)) {
		/* a bare number is milliseconds, as in k6 */
		double mul = !strcmp(p, "us") ? 1 : !strcmp(p, "s") ? 1e6
			     : !strcmp(p, "ms") || !*p ? 1e3 : -1;
		if (mul < 0)
			return bad(s, p, err, errlen, "a latency's unit is us, "
				   "ms or s (none: ms)");
		t->limit *= mul;
	} else if (is_counted(t->agg) && *p == '%') {
		t->pct = true;
		t->limit /= 100;
		if (*skip_ws(p + 1))
			return bad(s, skip_ws(p + 1), err, errlen, "nothing may "
				   "follow %");
	} else if (*p) {
		return bad(s, p, err, errlen, is_counted(t->agg)
			   ? "errors and violations take % (of requests) or no "
			   "unit (a count)"
			   : t->agg == LOAD_AGG_RATE ? "a rate is requests per "
			   "second, written without a unit"
			   : "a count is written without a unit");
	}
	return 0;
}

double load_threshold_value(const load_threshold *t, const load_metrics *m,
			    double elapsed_s, bool *has)
{
	load_kind all;
	const load_kind *k = &all;
	uint64_t n;

	if (t->kind[0]) {
		if (!(k = load_metrics_kind(m, t->kind))) {
			*has = false;
			return 0;
		}
	} else {
		load_metrics_total(m, &all);
	}
	*has = true;
	switch (t->agg) {
	case LOAD_AGG_PCT:
	case LOAD_AGG_MIN:
	case LOAD_AGG_MAX:
	case LOAD_AGG_AVG:
		if (!k->lat_us.count) {
			*has = false;
			return 0;
		}
		return t->agg == LOAD_AGG_PCT ? (double)hist_quantile(&k->lat_us, t->q)
		       : t->agg == LOAD_AGG_MIN ? (double)k->lat_us.min
		       : t->agg == LOAD_AGG_MAX ? (double)k->lat_us.max
		       : hist_mean(&k->lat_us);
	case LOAD_AGG_COUNT:
		return (double)k->requests;
	case LOAD_AGG_RATE:
		return elapsed_s > 0 ? (double)k->requests / elapsed_s : 0;
	case LOAD_AGG_ERRORS:
	case LOAD_AGG_VIOLATIONS:
		n = t->agg == LOAD_AGG_ERRORS ? load_kind_failed(k)
		    : k->failed[LOAD_F_VIOLATION];
		if (!t->pct)
			return (double)n;
		/* no request at all is no evidence that errors are rare */
		*has = k->requests > 0;
		return k->requests ? (double)n / (double)k->requests : 0;
	}
	*has = false;
	return 0;
}

bool load_threshold_holds(const load_threshold *t, const load_metrics *m,
			  double elapsed_s)
{
	bool has;
	double v = load_threshold_value(t, m, elapsed_s, &has);

	if (!has)
		return false;
	switch (t->op) {
	case LOAD_LT: return v < t->limit;
	case LOAD_LE: return v <= t->limit;
	case LOAD_GT: return v > t->limit;
	case LOAD_GE: return v >= t->limit;
	case LOAD_EQ: return v == t->limit;
	}
	return false;
}

void load_threshold_format(const load_threshold *t, double v, bool has,
			   char *out, size_t outlen)
{
	if (!has)
		snprintf(out, outlen, "no data");
	else if (is_latency(t->agg))
		snprintf(out, outlen, "%.1fms", v / 1e3);
	else if (is_counted(t->agg) && t->pct)
		snprintf(out, outlen, "%.3f%%", v * 100);
	else if (t->agg == LOAD_AGG_RATE)
		snprintf(out, outlen, "%.1f/s", v);
	else
		snprintf(out, outlen, "%.0f", v);
}
