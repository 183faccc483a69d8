/* load_adapter.h -- `camsim load --server URL --adapter FILE --propagate
 * CMD': the propagation's command queued on a real server through the
 * adapter's operator action (adapter.h, docs/adapters.md), one call per
 * device (a batch: one per 20 people) on a bounded pool of worker
 * threads, and on the devices' side the moment each device's result for
 * that command got the server's 200 (docs/load.md, Propagation).  Owns the
 * adapter, its threads and the per-device watch; hands the outcomes to
 * load_prop; never calls into the devices or the mock. */
#ifndef CAMSIM_LOAD_ADAPTER_H
#define CAMSIM_LOAD_ADAPTER_H

#include "device.h"
#include "load_prop.h"
#include "loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define LOAD_ADP_CONCURRENCY 16      /* adapter calls at a time (default) */
#define LOAD_ADP_CONCURRENCY_MAX 256
#define LOAD_ADP_ERRORS_KEPT 100     /* propagation.adapter.errors */

typedef struct load_adp load_adp;

/* The operator action that queues cmd: "enroll", "batch", "strategies",
 * "config". */
const char *load_adp_action(load_prop_cmd cmd);

/* Reads the adapter file and checks that it maps the action cmd needs
 * (or "*").  0, or CONF_EREAD / CONF_ENOTJSON / CONF_EFORMAT / CONF_EADAPTER
 * with a sentence naming the file and the action in err. */
int load_adp_check(const char *path, load_prop_cmd cmd, char *err,
		   size_t errlen);

/* A pool for p's commands (not owned; must outlive the pool) to ndev
 * devices, at most concurrency (1..LOAD_ADP_CONCURRENCY_MAX) calls at a
 * time; progress lines (tty: \r-led) go to progress from l's thread.
 * 0, or load_adp_check's codes / CONF_ENOMEM with a sentence in err. */
int load_adp_new(const char *path, const load_prop *p, size_t ndev,
		 long concurrency, loop *l, FILE *progress, bool tty,
		 load_adp **out, char *err, size_t errlen);
/* Stops the calls (load_adp_stop) and frees a; NULL is fine.  Before the
 * loop is freed. */
void load_adp_free(load_adp *a);

/* Device i's cid (before load_adp_start). */
void load_adp_cid(load_adp *a, size_t i, const char *cid);
/* Starts the calls and the watch, on the loop thread.  Threads that
 * cannot start leave fewer at a time; none at all: every device counts
 * as refused with the reason. */
void load_adp_start(load_adp *a);
/* Exchange x of device i ended (load's dev_exchange_cb, loop thread):
 * spots the command in the server's reply and the device's result that
 * got a 200. */
void load_adp_exchange(load_adp *a, size_t i, const dev_exchange *x);
/* The run is over: no new call starts, calls under way are abandoned
 * (within about a second: adp_run's cancel), the threads are joined.
 * Loop thread; idempotent; NULL is fine. */
void load_adp_stop(load_adp *a);
/* After load_adp_stop and the drain: every device's outcome into p
 * (load_prop_record): confirmed (from its first call's return to its
 * confirmation), failed (the device's result said so), refused (an
 * adapter call failed, or never ran), or pending. */
void load_adp_settle(load_adp *a, load_prop *p);

/* Every adapter call as the kind "adapter" (requests = calls, failed
 * under other, their latency), for thresholds.  Only after load_adp_stop:
 * the calling threads write it until then.  Valid until load_adp_free. */
const load_kind *load_adp_calls(const load_adp *a);

/* The summary's adapter lines: calls, time, failures with their reasons
 * (the first 10). */
void load_adp_print(const load_adp *a, FILE *f);
/* report.json's propagation.adapter: {"file", "action", "concurrency",
 * "calls": KIND (load_kind_json), "devices_failed", "errors": [{"cid",
 * "error"}, ...] (at most 100), "errors_left_off"}.  NULL when out of
 * memory. */
cJSON *load_adp_json(const load_adp *a);

#endif
