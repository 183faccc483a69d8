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

/* Zero-initialise to start; load_metrics_free releases the kinds. */
typedef struct load_metrics {
	load_kind *k[LOAD_KINDS_MAX]; /* in order of first appearance */
	size_t n;
	uint64_t unsent;        /* exchanges that never left (network down,
				   fault injection): not requests */
	uint64_t oom;           /* exchanges not counted: no memory for a
				   new kind (reported, never silent) */
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
void load_metrics_free(load_metrics *m);

#endif
