/* load_threshold.h -- `camsim load --threshold EXPR': k6-style pass/fail
 * criteria ("p99(heartbeat)<200ms", "errors<0.1%", "rate(heartbeat)>10"),
 * parsed with errors that name the expression, the position and the rule,
 * and judged on load_metrics.  Pure: no I/O, no clock of its own. */
#ifndef CAMSIM_LOAD_THRESHOLD_H
#define CAMSIM_LOAD_THRESHOLD_H

#include "load_metrics.h"

#include <stdbool.h>

typedef enum load_agg {
	LOAD_AGG_PCT,    /* pNN(kind): latency quantile, us */
	LOAD_AGG_MIN,    /* min(kind) */
	LOAD_AGG_MAX,    /* max(kind) */
	LOAD_AGG_AVG,    /* avg(kind) */
	LOAD_AGG_COUNT,  /* count(kind): requests */
	LOAD_AGG_RATE,   /* rate(kind): requests per second of the run */
	LOAD_AGG_ERRORS, /* errors or errors(kind): failed requests, a count,
			    or a fraction of requests when written with % */
	LOAD_AGG_VIOLATIONS, /* violations or violations(kind): replies that
				broke a MUST rule, as errors */
} load_agg;

typedef enum load_op { LOAD_LT, LOAD_LE, LOAD_GT, LOAD_GE, LOAD_EQ } load_op;

typedef struct load_threshold {
	char expr[128];   /* as given */
	load_agg agg;
	double q;         /* LOAD_AGG_PCT: 0.99 for p99, 0.999 for p99.9 */
	char kind[48];    /* "" = every kind */
	load_op op;
	double limit;     /* us for latencies, a fraction for errors%, else
			     as written */
	bool pct;         /* errors given as a percentage */
} load_threshold;

/* Parses s.  0, or CONF_EINVAL with a sentence in err naming s, the
 * character position (1-based) and what was expected there. */
int load_threshold_parse(const char *s, load_threshold *t, char *err,
			 size_t errlen);
/* The measured value t compares (same unit as t->limit); *has false when
 * there is no data for it (no request of that kind): such a threshold
 * does not hold, so a misspelt kind cannot pass a CI gate. */
double load_threshold_value(const load_threshold *t, const load_metrics *m,
			    double elapsed_s, bool *has);
/* Whether t holds on m over elapsed_s seconds of run. */
bool load_threshold_holds(const load_threshold *t, const load_metrics *m,
			  double elapsed_s);
/* The value formatted in t's unit for a summary ("183.2ms", "0.05%",
 * "12.0/s", "no data"). */
void load_threshold_format(const load_threshold *t, double v, bool has,
			   char *out, size_t outlen);

#endif
