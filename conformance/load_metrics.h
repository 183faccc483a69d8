/* load_metrics.h -- what `camsim load' measures, per message kind: requests,
 * answers, failures by kind, a latency histogram (hist.h), and their JSON
 * form in report.json (docs/load.md).  Fed only from the devices'
 * exchange callback on the loop thread; knows nothing of thresholds,
 * progress lines or files. */
#ifndef CAMSIM_LOAD_METRICS_H
#define CAMSIM_LOAD_METRICS_H

#include "device.h"
#include "hist.h"

#include <stdint.h>

typedef struct cJSON cJSON;

/* Why a request that left did not count as answered. */
#define LOAD_FAIL_MAP(X)                                                     \
	X(REFUSED, "refused")   /* no connection (refused, unresolvable) */ \
	X(RESET, "reset")       /* connection reset or closed mid-answer */ \
	X(TIMEOUT, "timeout")   /* no complete answer in time */            \
	X(NOTJSON, "not_json")  /* 200 whose body is no JSON object */      \
	X(STATUS, "status")     /* a final status other than 200 */         \
	X(OTHER, "other")       /* too big, reply budget, curl's others */

typedef enum load_fail {
#define LOAD_FAIL_ENUM(e, name) LOAD_F_##e,
	LOAD_FAIL_MAP(LOAD_FAIL_ENUM)
#undef LOAD_FAIL_ENUM
	LOAD_F_COUNT
} load_fail;

const char *load_fail_name(load_fail f);

#define LOAD_CODES_MAX 8

/* One message kind's counts.  requests = answered + sum of failed,
 * always: a request is counted once, when its exchange ends. */
typedef struct load_kind {
	char name[48];          /* the exchange's kind ("heartbeat", ...) */
	uint64_t requests, answered;
	uint64_t failed[LOAD_F_COUNT];
	/* final statuses by code, in order of first appearance; codes past
	 * LOAD_CODES_MAX are counted in codes_other */
	struct { long code; uint64_t n; } codes[LOAD_CODES_MAX];
	size_t n_codes;
	uint64_t codes_other;
	hist lat_us;            /* latency of every exchange that got a final
				   status (answered, not JSON, status), us */
} load_kind;

#define LOAD_KINDS_MAX 32

/* One second of the run, for the report's charts over time: exchanges
 * that ended in it, the failed ones, and the latency of those with a
 * final status as sparse histogram buckets (a full hist a second would be
 * 18 KiB; a second holds a few dozen distinct buckets).  Mergeable: the
 * buckets are hist.h's, so shards' seconds add exactly. */
typedef struct load_sec {
	uint64_t requests, failed;
	struct load_sb { uint32_t i; uint64_t n; } *b; /* bucket, count */
	uint32_t nb;
} load_sec;

/* Seconds past this (27.7 h) are not charted: counted in
 * series_dropped, never silently. */
#define LOAD_SERIES_MAX 100000

/* Zero-initialise to start; load_metrics_free releases the kinds. */
typedef struct load_metrics {
	load_kind *k[LOAD_KINDS_MAX]; /* in order of first appearance */
	size_t n;
	uint64_t unsent;        /* exchanges that never left (network down,
				   fault injection): not requests */
	uint64_t oom;           /* exchanges not counted: no memory for a
				   new kind (reported, never silent) */
	/* the time series: now_s is the second of the run exchanges are
	 * filed under (the caller sets it, load_metrics has no clock); the
	 * current second's latencies gather in cur until now_s moves */
	int64_t now_s;
	load_sec *sec;          /* [0, nsec) */
	size_t nsec, capsec;
	hist *cur;
	int64_t cur_s;
	uint64_t series_dropped; /* exchanges past LOAD_SERIES_MAX seconds or
				    without memory for their second */
	/* measures that are no exchanges ("propagation", "lateness(heartbeat)"),
	 * not owned: load_metrics_kind finds them for thresholds; never in
	 * the totals */
	const load_kind *extra[4];
	size_t n_extra;
} load_metrics;

/* Counts exchange x (dev_exchange_cb's, on the loop thread).  Kinds past
 * LOAD_KINDS_MAX - 1 are counted under "other". */
void load_metrics_exchange(load_metrics *m, const dev_exchange *x);
/* The kind named name (an exchange kind, else one of extra), or NULL
 * when none was seen. */
const load_kind *load_metrics_kind(const load_metrics *m, const char *name);
/* Every kind summed into *out (name "all"); out is overwritten. */
void load_metrics_total(const load_metrics *m, load_kind *out);
uint64_t load_kind_failed(const load_kind *k);
/* {"requests","answered","failed","failures":{"refused":n,...},
 *  "status_codes":{"200":n,"500":n,...,"other":n when codes overflowed},
 *  "latency_us":{"count","min","max","mean","p50","p90","p99","p99.9",
 *  "buckets":[[lo,n],...]}} (docs/load.md).  NULL when out of memory;
 * caller deletes. */
cJSON *load_kind_json(const load_kind *k);
/* Parses a KIND object of report.json (load_kind_json's form) into *k
 * named name: counts, codes, and the latency buckets with the exact
 * min/max/sum beside them.  0, or CONF_EINVAL with the member and the
 * rule in err. */
int load_kind_from_json(const cJSON *o, const char *name, load_kind *k,
			char *err, size_t errlen);
/* Adds k's counts and histogram into the kind of m with k's name (made
 * when missing).  0, or CONF_ENOMEM. */
int load_metrics_add_kind(load_metrics *m, const load_kind *k);
/* The time series (docs/load.md "series"): {"step_s":1,"dropped":n,
 * "seconds":[{"t":s,"requests":n,"failed":n,"p50":us,"p99":us,
 * "buckets":[[lo,n],...]},...]}, every second from 0 to the last.
 * Closes the current second first (so m changes).  NULL when out of
 * memory; caller deletes. */
cJSON *load_series_json(load_metrics *m);
/* Adds the "series" object s (load_series_json's form) into m second by
 * second.  0, or CONF_EINVAL naming the second and the member in err, or
 * CONF_ENOMEM. */
int load_series_add_json(load_metrics *m, const cJSON *s, char *err,
			 size_t errlen);
void load_metrics_free(load_metrics *m);

#endif
