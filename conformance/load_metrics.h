/* load_metrics.h -- what `camsim load' measures, per message kind: requests,
 * answers, failures by kind, a latency histogram (hist.h), and their JSON
 * form in report.json (docs/load.md).  Fed only from the devices'
 * exchange callback on the loop thread; knows nothing of thresholds,
 * progress lines or file names (the series' buckets may go to a file
 * descriptor it is handed, load_metrics_spill). */
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
	X(VIOLATION, "violation") /* 200 whose JSON breaks a MUST rule of  \
				     the profile (proto_decode) */          \
	X(OTHER, "other")       /* too big, reply budget, curl's others */

typedef enum load_fail {
#define LOAD_FAIL_ENUM(e, name) LOAD_F_##e,
	LOAD_FAIL_MAP(LOAD_FAIL_ENUM)
#undef LOAD_FAIL_ENUM
	LOAD_F_COUNT
} load_fail;

const char *load_fail_name(load_fail f);

#define LOAD_CODES_MAX 8
#define LOAD_RULES_MAX 16

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
	/* the MUST rules the violation replies broke, each once per reply,
	 * in order of first appearance; rules past LOAD_RULES_MAX are
	 * counted in rules_other */
	struct { char id[72]; uint64_t n; } rules[LOAD_RULES_MAX];
	size_t n_rules;
	uint64_t rules_other;
} load_kind;

/* The commands a reply carries, by their top-level key (docs/protocol.md
 * "The reply body carries commands"); http_server_port counts as
 * http_server_url, the one address change. */
#define LOAD_CMD_MAP(X)                                                      \
	X(TIME_SET, "time_set")                                              \
	X(SERVER, "http_server_url")                                         \
	X(INTERVAL, "time_interval")                                         \
	X(CONFIG, "config")                                                  \
	X(STRATEGY, "strategy_manage")                                       \
	X(FACELIB, "facelib_manage")                                         \
	X(BATCH, "facelib_batch")                                            \
	X(REUPLOAD, "reupload")                                              \
	X(FACELOG, "facelog")                                                \
	X(CONTROL, "control")                                                \
	X(UPGRADE, "fw_upgrade")                                             \
	X(REBOOT, "reboot")

typedef enum load_cmd_kind {
#define LOAD_CMD_ENUM(e, name) LOAD_C_##e,
	LOAD_CMD_MAP(LOAD_CMD_ENUM)
#undef LOAD_CMD_ENUM
	LOAD_C_COUNT
} load_cmd_kind;

const char *load_cmd_name(load_cmd_kind c);

/* One command kind's counts: received = applied + failed, always (each
 * command is judged once, when the device has applied its reply). */
typedef struct load_cmd {
	uint64_t received, applied, failed;
} load_cmd;

#define LOAD_KINDS_MAX 32

/* One second of the run, for the report's charts over time: exchanges
 * that ended in it, the failed ones, and the latency of those with a
 * final status as sparse histogram buckets (a full hist a second would be
 * 18 KiB; a second holds a few hundred distinct buckets).  Mergeable: the
 * buckets are hist.h's, so shards' seconds add exactly. */
typedef struct load_sec {
	uint64_t requests, failed;
	/* sampled once a second (load_metrics_sample), when sampled: offline
	 * records waiting over every device, the process's resident set */
	uint64_t offline, rss_kb;
	/* nb packed entries: the bucket index in the low LOAD_SB_BITS
	 * bits, its count above; a count too big for one entry takes
	 * several of the same bucket.  In one of the series' blocks (b,
	 * not owned), or in the spill file at byte off when spilled. */
	union {
		uint32_t *b;
		uint64_t off;
	};
	uint32_t nb;
	bool sampled, spilled;
} load_sec;

#define LOAD_SB_BITS 12 /* HIST_BUCKETS < 2^12 (static assert) */
#define LOAD_SB_MAXN ((UINT32_C(1) << (32 - LOAD_SB_BITS)) - 1)

/* Seconds past this (27.7 h) are not charted: counted in
 * series_dropped, never silently. */
#define LOAD_SERIES_MAX 100000
/* Entries of one block of bucket storage (64 KiB; about a minute of a
 * 10,000-device run): the series grows by whole blocks that never move. */
#define LOAD_SB_BLOCK 16384

/* A block of packed bucket entries; blocks are only added, never moved,
 * so seconds keep pointers into them. */
typedef struct load_sblock {
	struct load_sblock *next;
	uint32_t used, cap;
	uint32_t e[];
} load_sblock;

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
	load_sblock *blocks;    /* newest first; the seconds' buckets */
	bool spill;             /* closed seconds' buckets go to spill_fd */
	int spill_fd;
	uint64_t spill_off;     /* its end */
	uint32_t *ebuf;         /* scratch entries of one second */
	size_t ebuf_cap;
	hist *cur, *scratch;    /* scratch: merging into a filed second */
	int64_t cur_s;
	uint64_t series_dropped; /* exchanges past LOAD_SERIES_MAX seconds or
				    without memory for their second */
	/* measures that are no exchanges ("propagation", "lateness(heartbeat)"),
	 * not owned: load_metrics_kind finds them for thresholds; never in
	 * the totals */
	const load_kind *extra[4];
	size_t n_extra;
	/* replies are validated as the devices do (NULL: strict) */
	const proto_profile *prof;
	load_cmd cmd[LOAD_C_COUNT];
	/* the reply being applied: its device (an opaque pointer), the
	 * commands it carries and those that failed so far (bit per
	 * load_cmd_kind); judged at the next exchange or other device's
	 * event, or a sample */
	struct { const void *who; uint32_t got, bad; } pend;
} load_metrics;

/* Sizes the series once for a run of `seconds' (its ramp, duration and
 * drain): the records of that many seconds are allocated now and never
 * moved or grown while the run stays within them, so that memory does not
 * grow in steps with run time (a run without a known length grows them by
 * doubling).  Call before the first exchange; seconds are capped at
 * LOAD_SERIES_MAX.  0, or CONF_ENOMEM (m unchanged). */
int load_metrics_reserve(load_metrics *m, int64_t seconds);
/* Hands m a file (read and write, empty; m closes it in
 * load_metrics_free): each second's buckets are written there once
 * closed and read back for load_series_json, so that a run's memory
 * does not grow with its length by what it charts.  A second whose write
 * fails stays in memory; nothing is lost. */
void load_metrics_spill(load_metrics *m, int fd);
/* Bytes of memory the series holds (second records and bucket blocks,
 * allocated sizes; not the spill file): what a run's memory grows by over
 * time. */
size_t load_series_bytes(const load_metrics *m);
/* Counts exchange x of device who (dev_exchange_cb's, on the loop
 * thread): a 200 is validated as the device does (proto_json_parse,
 * proto_decode with m->prof) and its commands are counted as received.
 * Kinds past LOAD_KINDS_MAX - 1 are counted under "other". */
void load_metrics_exchange(load_metrics *m, const void *who,
			   const dev_exchange *x);
/* An event of device who (dev_event_cb's): a command refused or not
 * saved (REJECT, ERROR) while who applies a reply marks that command
 * failed. */
void load_metrics_event(load_metrics *m, const void *who,
			const dev_event *ev);
/* Files a sample of second t: offline records over every device and the
 * resident set (KiB); a later sample of the same second replaces it.
 * Judges the commands of the reply applied last. */
void load_metrics_sample(load_metrics *m, int64_t t, uint64_t offline,
			 uint64_t rss_kb);
/* The highest offline total of any sampled second (0 without one). */
uint64_t load_series_offline_peak(const load_metrics *m);
/* {"config":{"received":n,"applied":n,"failed":n},...}, the kinds
 * received at least once, in LOAD_CMD_MAP order; NULL without memory. */
cJSON *load_cmds_json(const load_metrics *m);
/* Adds a "commands" object (load_cmds_json's form) into m.  0, or
 * CONF_EINVAL naming the command and the member in err. */
int load_cmds_add_json(load_metrics *m, const cJSON *c, char *err,
		       size_t errlen);
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
 * memory or when a spilled second cannot be read back; caller deletes. */
cJSON *load_series_json(load_metrics *m);
/* Adds the "series" object s (load_series_json's form) into m second by
 * second.  0, or CONF_EINVAL naming the second and the member in err, or
 * CONF_ENOMEM. */
int load_series_add_json(load_metrics *m, const cJSON *s, char *err,
			 size_t errlen);
void load_metrics_free(load_metrics *m);

#endif
