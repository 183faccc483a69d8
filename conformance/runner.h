/* runner.h -- runs scenarios: simulated devices on their own event loop
 * against the in-process mock or a real server (operator steps through an
 * adapter), on a clock that jumps over idle time unless told otherwise;
 * every exchange checked against V1.16, every step judged; interruption,
 * time limits and progress watched from the calling thread.  Produces the
 * run document that report.h writes out; prints nothing itself. */
#ifndef CAMSIM_RUNNER_H
#define CAMSIM_RUNNER_H

#include "device.h"
#include "proto.h"
#include "scenario.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

typedef struct adapter adapter;

/* How the devices' clock moves (docs/scenarios.md, "The clock"). */
typedef enum run_clock {
	RUN_CLOCK_JUMP,  /* real speed, jumping over idle time (default) */
	RUN_CLOCK_REAL,  /* the real clock */
	RUN_CLOCK_SCALE, /* scale times faster than real time */
} run_clock;

/* Progress callbacks of run_all.  Each runs on run_all's calling thread,
 * never two at once; what it is given is valid during the call only (the
 * caller's to read, not keep). */
/* A scenario ended (scenario: its result); done of total have.  Called
 * under the run's lock, which stops every scenario's bookkeeping: short. */
typedef void (*run_done_cb)(void *ud, const cJSON *scenario, size_t done,
			    size_t total);
/* Every 250 ms: the n_running scenarios running and their wall seconds
 * (names[i], secs[i]), done of total, elapsed_s since the start. */
typedef void (*run_tick_cb)(void *ud, const char *const *names,
			    const double *secs, size_t n_running, size_t done,
			    size_t total, double elapsed_s);
/* Every 5 s until the last scenario ends: the run document so far. */
typedef void (*run_checkpoint_cb)(void *ud, const cJSON *doc);

/* Watching a scenario as it plays (camsim demo --scenario): each member
 * may be NULL.  All run on the scenario's loop thread, under the same
 * rules as dev_env's callbacks (short, must not call back into a device
 * or the runner; what they are given is valid during the call only).
 * on_step: step st of s starts (before it acts); the others get every
 * event, exchange and face pass of the scenario's devices, after the
 * runner has recorded it.  Meant for one scenario at a time (jobs 1). */
typedef struct run_observer {
	void (*on_step)(void *ud, const scenario *s, const scn_step *st);
	dev_event_cb on_event;
	dev_exchange_cb on_exchange;
	dev_pass_cb on_pass;
	void *ud;
} run_observer;

typedef struct run_opts {
	const char *server;        /* "mock" (in-process) or the device URL of
				      a real server */
	const adapter *adp;        /* operator steps against a real server
				      (NULL: they fail, unless interactive) */
	bool interactive;          /* operator steps prompt the person at the
				      terminal (forces jobs = 1) */
	const proto_profile *prof; /* judging profile (strict) */
	bool fail_on_warning;      /* SHOULD checks gate too */
	bool fail_on_skip;         /* a skipped scenario fails the run */
	int jobs;                  /* scenarios run at once (2; at most 16:
				      more are run as 16) */
	double slow_ms;            /* reply-latency SHOULD limit (1000 ms) */
	run_clock clock;
	double scale;              /* RUN_CLOCK_SCALE's factor */
	const char *clock_text;    /* as given ("jump"), for the report */
	const char *cid_prefix;    /* derived cids start with it ("cs") */
	const char *run_id;        /* made part of every cid (unique per
				      run), unless stable_cids */
	bool stable_cids;
	bool keep_alive;           /* devices reuse connections */
	double timeout_s;          /* the whole run (0: none) */
	double scenario_timeout_s; /* one scenario's hard cap, wall s (0: from
				      its timeline) */
	double state_wait_s;       /* how long a "retry" step asks the server
				      whether it gave a lost command up, wall
				      s (its own timeouts run on its clock) */
	const char *version;       /* written into the document */
	time_t started;            /* the run's start, UTC */
	/* Set from outside (a signal handler) to STOP_INTERRUPTED (1): every
	 * running scenario stops within about 100 ms and is reported as
	 * interrupted, the rest as not started.  May be NULL. */
	const atomic_int *stop;
	/* Progress for the caller, each may be NULL (run_done_cb ...). */
	run_done_cb on_done;
	run_tick_cb on_tick;
	run_checkpoint_cb on_checkpoint;
	void *ud;
	const run_observer *observe; /* NULL: nobody watches */
} run_opts;

#define RUN_STOP_INTERRUPTED 1

/* Runs scenarios s[0..n) (in parallel up to o->jobs) and builds the run
 * document (docs/report.md) in *doc (caller deletes).  A scenario that
 * cannot run is reported with the reason, never dropped; interrupted and
 * timed-out ones are errors.  CONF_ENOMEM (err says why), or 0; the
 * verdict is in the document. */
int run_all(const run_opts *o, scenario *const *s, size_t n, cJSON **doc,
	    char *err, size_t errlen);

/* `camsim run': argv[0] is "run".  Exit code (docs/scenarios.md): 0 every
 * MUST check passed, 1 one did not, 2 usage, input or preflight error,
 * 124 the run's --timeout passed, 128+N stopped by signal N. */
int run_main(int argc, char **argv, FILE *out, FILE *err);

#endif
