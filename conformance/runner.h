/* runner.h -- runs scenarios: simulated devices on their own event loop
 * against the in-process mock (on the jump clock) or a real server (on
 * the real clock, operator steps through an adapter), every exchange
 * checked against V1.16, every step judged.  Produces the run document
 * that report.h writes out; prints nothing but progress. */
#ifndef CAMSIM_RUNNER_H
#define CAMSIM_RUNNER_H

#include "proto.h"
#include "scenario.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct adapter adapter;

typedef struct run_opts {
	const char *server;        /* "mock" (in-process) or the device URL of
				      a real server */
	const adapter *adp;        /* operator steps against a real server
				      (NULL: they fail, unless interactive) */
	bool interactive;          /* operator steps prompt the person at the
				      terminal (forces jobs = 1) */
	const proto_profile *prof; /* judging profile (strict) */
	bool fail_on_warning;      /* SHOULD checks gate too */
	int jobs;                  /* scenarios run at once (2) */
	double slow_ms;            /* reply-latency SHOULD limit (1000 ms) */
	const char *cid_prefix;    /* derived cids start with it ("cs") */
	FILE *progress;            /* progress output, or NULL */
	bool tty;                  /* progress rewrites one line */
} run_opts;

/* Runs scenarios s[0..n) (in parallel up to o->jobs) and builds the run
 * document (docs/report.md) in *doc (caller deletes).  A scenario that
 * cannot run (its mock cannot start, say) is reported as failed with the
 * reason, never dropped.  SCN_ENOMEM, SCN_ESERVER (err says why), or 0;
 * the verdict is in the document. */
int run_all(const run_opts *o, scenario *const *s, size_t n, cJSON **doc,
	    char *err, size_t errlen);

/* `camsim run': argv[0] is "run".  Exit code: 0 every MUST check passed
 * (and, with --fail-on-warning, every SHOULD check), 1 one did not, 2
 * usage or input error (a scenario or adapter file that is wrong). */
int run_main(int argc, char **argv, FILE *out, FILE *err);

#endif
