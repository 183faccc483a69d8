/* runner_int.h -- what the runner's four files share: runner_pool.c (the
 * run: worker pool, interruption, timeouts, the run document), runner.c
 * (one scenario's set-up, play, verdict and free), runner_check.c (the
 * checks every exchange gets) and runner_step.c (the scenario's steps and
 * expectations).  Not for use outside them. */
#ifndef CAMSIM_RUNNER_INT_H
#define CAMSIM_RUNNER_INT_H

#include "runner.h"
#include "base.h"
#include "adapter.h"
#include "mock.h"
#include "pkgsrv.h"
#include "track.h"

#include "device.h"

#include <cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

/* ---------------------------------------------------------------- checks */

/* The checks on the exchanges of a scenario, one report entry each:
 * enum name, id, SHOULD (true) or MUST, what it asks. */
#define XCHECK_MAP(X)                                                         \
	X(STATUS, "reply-status", false,                                      \
	  "every message that reaches the server is answered with HTTP 200 "  \
	  "(D2: any other status is a failure and the device keeps or "       \
	  "resends what it sent)")                                             \
	X(TIME, "reply-time", false,                                          \
	  "every message that got a connection is answered completely "       \
	  "within the device's timeout")                                      \
	X(LATENCY, "reply-latency", true,                                     \
	  "every reply arrives promptly (within the --slow-ms limit; the "    \
	  "device's own wait for 100 Continue not counted)")                   \
	X(VALID, "reply-valid", false,                                        \
	  "every 200 reply body is a valid V1.16 command reply (MUST rules)") \
	X(SHOULD, "reply-should", true,                                       \
	  "every 200 reply body keeps the SHOULD rules of V1.16")              \
	X(EXPECT, "expect-100", true,                                         \
	  "snapshot uploads sent with Expect: 100-continue get 100 Continue " \
	  "or the final answer at once (§4 allows a server not to answer; "   \
	  "the device then waits 1 s, D4)")                                    \
	X(SEQ, "seq-hazard", true,                                            \
	  "command seqs avoid the hazards of NOTES.md: a seq reused for a "   \
	  "different command, or one equal to a heartbeat's send time")       \
	X(DUP, "duplicate-delivery", false,                                   \
	  "a command the device confirmed (and the server received the "      \
	  "confirmation of) is not delivered again: a re-sent confirmed "     \
	  "command is carried out twice, and one re-sent in every reply is "  \
	  "a request loop")                                                    \
	X(INTERVAL, "heartbeat-interval", true,                               \
	  "the server changes the heartbeat interval (time_interval) only "   \
	  "when the scenario asks it to: an unasked interval changes every "  \
	  "timing the scenario expects")                                      \
	X(STORED, "records-stored", false,                                    \
	  "every snapshot the server answered with 200 is among the records " \
	  "it stored (the mock's own records; against a real server the "     \
	  "adapter's records action)")                                         \
	X(DEVICE, "device-valid", false,                                      \
	  "every message of the simulated device is valid V1.16 (guards "     \
	  "camsim itself)")

enum {
#define XC_ENUM(e, id, should, name) XC_##e,
	XCHECK_MAP(XC_ENUM)
#undef XC_ENUM
	XC_COUNT
};

#define XC_EVIDENCE 20   /* exchanges listed per check */
#define XCH_KEEP 1000    /* exchanges written to the report per scenario */
#define LOOP_NAMED 3     /* duplicates of one command that make a loop */
#define LOOP_STOP 50     /* ... and that stop the scenario */

typedef struct xacc {
	size_t n, n_bad;     /* exchanges judged, exchanges failing */
	long last_bad;       /* the last failing exchange (counted once) */
	char first[600];
	char na[600];        /* why nothing could be judged ("" : none) */
	char note[300];      /* added to a pass message */
	cJSON *rules;        /* rule ids seen failing (no duplicates) */
	cJSON *ex;           /* exchange indices (first XC_EVIDENCE) */
} xacc;

/* ---------------------------------------------------------------- state */

typedef struct xch {
	cJSON *req, *reply; /* parsed bodies, NULL when not JSON or none */
	char kind[40];
	bool resend, to_server, delivered; /* delivered: the server answered */
	size_t dev;
	int64_t t;          /* virtual ms at start */
} xch;

typedef struct evrec {
	size_t dev;
	int64_t t;          /* virtual ms (loop clock), not the device clock */
	dev_event ev;
} evrec;

typedef struct seqrec {
	int64_t seq;
	char member[24];
	unsigned long sig;
	size_t ex;
} seqrec;

typedef struct devrun {
	dev *d;
	char cid[80];
	seqrec *seqs;        /* every command seq sent, for seq-hazard */
	size_t n_seqs, cap_seqs;
	int64_t *hb_seqs;    /* every heartbeat seq that was a send time */
	size_t n_hb, cap_hb;
	int64_t interval_s;  /* the heartbeat interval the scenario expects */
	long bad_clock_ex;   /* the reply whose time_set made the device's
				clock implausible, or -1 */
} devrun;

/* A re-delivery the tracker saw (for "retry" expectations). */
typedef struct redeliv {
	int key;
	size_t ex;
} redeliv;

typedef struct shared shared;

/* Why a scenario stopped before its end (0: it did not). */
enum {
	STOP_NONE,
	STOP_INTERRUPTED, /* SIGINT / SIGTERM */
	STOP_RUN_TIMEOUT, /* --timeout for the whole run */
	STOP_CAPPED,      /* the scenario's own hard cap */
	STOP_LOOP,        /* a request loop */
	STOP_SKIP,        /* the server refused an unchecked command */
};

/* Work off the loop thread (an adapter call), finished on the loop. */
typedef struct srun srun;
/* Side work ended: on the loop thread, the worker joined and the clock
 * released; r->side's rc, err and res are the adapter's answer, valid
 * during the call only (res and params are freed after it). */
typedef void (*run__side_cb)(srun *r);
typedef struct side {
	pthread_t th;
	bool running;
	int rc;
	adp_result res;
	char err[600];
	const char *action;
	cJSON *params;
	run__side_cb done;
} side;

struct srun {
	shared *sh;
	const run_opts *o;
	const scenario *s;
	bool mock_mode;
	loop *l;
	store *st;
	recog *rg;
	mock *m;
	track *tk;
	dev_env env;
	devrun *devs;
	char dir[128];
	char url[256];
	int64_t t0;
	struct timespec w0;       /* wall start */
	atomic_int stop;          /* STOP_*: set from any thread */
	atomic_bool cancel;       /* adapter calls give up */
	char stop_why[600];       /* STOP_SKIP, STOP_LOOP: why */

	/* steps */
	size_t cur;
	bool active, finished;
	int64_t step_t;           /* when the current step started */
	struct timespec step_w;   /* ... in wall time */
	int64_t due;
	size_t from_x, from_e;    /* expect window: first exchange/event */
	size_t act_x, act_e;      /* counts at the last action's start */
	int64_t act_t;
	int64_t until;            /* a "none" window's end (virtual ms) */
	loop_timer t_start, t_dead, t_kick;
	int64_t *cmd_ids;         /* per step: mock command id */
	cJSON **handles;          /* per step: what its adapter call printed */
	int phase;                /* the current step's progress (outcome,
				     retry: 1 = asking the server) */
	char phase_msg[900];
	side side;

	/* observations */
	xch *xs;
	size_t n_xs, cap_xs;
	evrec *evs;
	size_t n_evs, cap_evs;
	redeliv *rd;
	size_t n_rd, cap_rd;
	size_t n_thumbs;
	cJSON *records;           /* snapshots the server answered 200, as
				     the mock's records look */

	/* report */
	cJSON *j_checks, *j_exchanges, *j_events;
	size_t x_omitted;
	xacc acc[XC_COUNT];
	bool oom;
};

struct shared {
	const run_opts *o;
	pkgsrv *pkg;              /* started lazily, under mu */
	bool pkg_failed;
	char pkg_err[200];
	pthread_mutex_t mu;
	pthread_cond_t cv;        /* a scenario finished */
	scenario *const *s;
	size_t n, next, done, failed;
	cJSON **out;              /* per scenario result */
	srun **running;           /* per scenario: while it runs (under mu) */
	struct timespec t0;
	recog *rg;                /* one recogniser for every scenario */
	char rg_err[600];
	atomic_int stop;          /* STOP_INTERRUPTED / STOP_RUN_TIMEOUT */
};

/* ---- runner.c ---- */
const char *run__str(const cJSON *o, const char *key);
double run__wall_ms(const struct timespec *t0);
int64_t run__rel(const srun *r, int64_t t);
int64_t run__now(const srun *r);
/* Grows *p (elements of size) to hold need; sets *oom on failure. */
void run__grow(void **p, size_t *cap, size_t need, size_t size, bool *oom);
size_t run__dev_index(const srun *r, const dev *d);
/* Stops the scenario (any thread): STOP_* and a sentence. */
void run__stop(srun *r, int why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The package server, started on first use; NULL (err set) if it cannot. */
const char *run__pkg_base(srun *r, char *err, size_t errlen);
/* Runs scenario sh->s[idx] to its end (worker thread) and returns its
 * report entry (the caller owns it); NULL when out of memory. */
cJSON *run__one(shared *sh, size_t idx);
/* The report entry of scenario s that did not run: status ("skip",
 * "error") and why. */
cJSON *run__not_run(const scenario *s, const char *status, const char *why);

/* ---- runner_check.c ---- */
void run__on_exchange(void *ud, dev *d, const dev_exchange *x);
void run__on_event(void *ud, dev *d, const dev_event *ev);
/* Fails check c for exchange ex (counted once per exchange). */
void run__acc_fail(srun *r, int c, long ex, const char *rule,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The records-stored check at the scenario's end (blocking: may call the
 * adapter). */
void run__check_records(srun *r);
/* Check c's report entry (takes its lists). */
cJSON *run__xcheck_json(srun *r, int c);

/* ---- runner_step.c ---- */
void run__schedule(srun *r);
void run__kick(srun *r);
void run__timers_init(srun *r);
/* Puts the current and every later step in the report as not run. */
void run__steps_unreached(srun *r, const char *status, const char *why);
/* Copy of pattern with {"$seq": ref} and {"$cid": dev} resolved; NULL with
 * why set when a ref is not delivered yet (or out of memory). */
cJSON *run__resolve(srun *r, const cJSON *pattern, char *why, size_t n);

#endif
