/* load_prop.h -- `camsim load --propagate': one command enqueued on the
 * in-process mock for every device once the ramp is done (an enrolment, a
 * batch import, a strategy push, a config change), and per device the
 * time until the mock holds its confirmation: p50/p99/max, how many
 * confirmed, the curve over time (docs/load.md, Propagation).  Owns the
 * command it builds and the per-device outcomes; talks only to the mock's
 * C API, never to the devices or the loop. */
#ifndef CAMSIM_LOAD_PROP_H
#define CAMSIM_LOAD_PROP_H

#include "load_metrics.h"
#include "mock.h"

#include <stdint.h>
#include <stdio.h>

typedef enum load_prop_cmd {
	LOAD_PROP_NONE,
	LOAD_PROP_ENROL,    /* one person with a photo (facelib_manage type 1) */
	LOAD_PROP_BATCH,    /* N people, in facelib_batch commands of 20 */
	LOAD_PROP_STRATEGY, /* one strategy (strategy_manage) */
	LOAD_PROP_CONFIG,   /* a config set (config opType 0) */
} load_prop_cmd;

#define LOAD_PROP_BATCH_DEFAULT 1000
#define LOAD_PROP_BATCH_MAX 100000

typedef struct load_prop_spec {
	load_prop_cmd cmd;
	long n;             /* LOAD_PROP_BATCH: people (1..100000) */
} load_prop_spec;

/* Parses --propagate's value: enrol | batch[:N] | strategy | config.
 * 0, or CONF_EINVAL with a sentence naming the value and the rule. */
int load_prop_parse(const char *s, load_prop_spec *p, char *err,
		    size_t errlen);
/* "enrol", "batch", "strategy", "config". */
const char *load_prop_name(load_prop_cmd c);

typedef struct load_prop load_prop;

/* Builds the command(s) of spec for ndev devices; enrol and batch use the
 * person-*.jpg pictures of faces_dir ("faces" when NULL).  0, or
 * CONF_EREAD / CONF_ENOMEM with a sentence in err. */
int load_prop_new(const load_prop_spec *spec, const char *faces_dir,
		  size_t ndev, load_prop **out, char *err, size_t errlen);
void load_prop_free(load_prop *p);

/* Enqueues the command(s) for device number i (0-based) with cid on m.
 * 0, or the mock's CONF_E* with its sentence in err (the device then
 * counts as not confirmed). */
int load_prop_enqueue(load_prop *p, mock *m, size_t i, const char *cid,
		      char *err, size_t errlen);
/* Reads the settled commands from m: call every few hundred ms and once
 * at the end (after the devices' last requests ended).  The times are
 * the mock's own (queued_at to done_at), so how often it is called does
 * not change them. */
void load_prop_poll(load_prop *p, mock *m);

/* The command(s) every device gets (a batch: one per 20 people), for
 * the adapter path to turn into operator actions; valid until
 * load_prop_free.  NULL when c >= load_prop_ncmd. */
size_t load_prop_ncmd(const load_prop *p);
const cJSON *load_prop_command(const load_prop *p, size_t c);
/* The absolute path of the photo the commands carry (enrol, batch), else
 * NULL. */
const char *load_prop_photo(const load_prop *p);

typedef enum load_prop_outcome {
	LOAD_PROP_CONFIRMED, /* applied, and the result reached the server */
	LOAD_PROP_FAILED,    /* the device reported a failure */
	LOAD_PROP_REFUSED,   /* the command could not be queued */
	LOAD_PROP_PENDING,   /* queued, not settled by the end */
} load_prop_outcome;

/* Device i's outcome measured outside the mock (the adapter path,
 * load_adapter.c), instead of load_prop_enqueue/poll: once per device
 * queued, after the run, before load_prop_end.  from_ms (queued) and
 * to_ms (confirmed; CONFIRMED only, earlier counts as from_ms) are on one
 * ms clock of the caller's; why (may be NULL) names a failure, the first
 * one is printed in the summary.  Refusals are then worded as the
 * adapter's. */
void load_prop_record(load_prop *p, size_t i, load_prop_outcome o,
		      int64_t from_ms, int64_t to_ms, const char *why);

/* The run is over: devices neither confirmed nor failed count as timed
 * out from now on (errors(propagation) counts them).  Call after the last
 * load_prop_poll. */
void load_prop_end(load_prop *p);

/* The outcome as a kind named "propagation" for thresholds and the
 * summary: requests = devices enqueued, answered = confirmed, failed:
 * status = a command failed, timeout = timed out or not settled yet;
 * lat_us = enqueue to confirmation per confirmed device.  Valid until
 * load_prop_free. */
const load_kind *load_prop_kind(const load_prop *p);

/* report.json's "propagation": {"command","devices","confirmed","hist",
 * "curve":[[ms_since_enqueue, confirmed_so_far], ...]} (hist: the
 * hist_to_json array form of lat_us).  NULL when out of memory. */
cJSON *load_prop_json(const load_prop *p);
/* The summary's propagation line. */
void load_prop_print(const load_prop *p, FILE *f);

#endif
