/* load.h -- the engine of `camsim load': N simulated devices (device.h) on
 * one loop against a server or the in-process mock, ramped up, heartbeating
 * with jitter, people arriving as a Poisson process; per-kind metrics,
 * live progress, thresholds judged at the end (and each second with
 * abort_on_fail), the summary table and report.json (docs/load.md).  Owns
 * the run's loop, store, devices, mock and signal handlers; option
 * parsing is load_cli.c's. */
#ifndef CAMSIM_LOAD_H
#define CAMSIM_LOAD_H

#include "load_prop.h"
#include "load_threshold.h"
#include "proto.h"
#include "srcaddr.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes (docs/load.md): every threshold held (or none given); a
 * threshold failed; the run could not run (bad options, server
 * unreachable at start, set-up failure). */
#define LOAD_EXIT_OK 0
#define LOAD_EXIT_CANNOT_RUN 2
#define LOAD_EXIT_THRESHOLD 99

typedef struct load_opts {
	const char *server;       /* http://host:port/path, NULL: in-process
				     mock */
	long devices;             /* 1..100000, over all shards */
	long shard, shards;       /* this run's shard 0..shards-1 of shards
				     (0 of 1, or 0 of 0: unsharded): it runs the devices
				     k (0-based) with k mod shards == shard,
				     cids load-(k+1) as unsharded */
	int64_t ramp_ms;          /* devices powered on evenly over it */
	int64_t duration_ms;      /* after the ramp */
	long interval_s;          /* heartbeat interval (1..86400) */
	double jitter;            /* dev_opts.jitter, 0..0.5 */
	double arrivals;          /* people per device per minute, 0 none */
	const char *faces_dir;    /* pictures shown on arrivals ("faces") */
	const load_threshold *th; /* not owned */
	size_t nth;
	bool abort_on_fail;
	long connections;         /* --connections: exchanges on the network
				     at once in this process (1..128; 0:
				     128, LOOP_ACTIVE_MAX) */
	bool keep_alive;           /* --keep-alive: devices reuse connections
				     (dev_env.keep_alive); default: one
				     per message, V1.16's short connection */
	const char *report_dir;   /* report.json, junit.xml, report.html
				     there (load_report.h); NULL: none */
	load_prop_spec propagate; /* cmd LOAD_PROP_NONE: no propagation;
				     with a server URL it needs adapter */
	const char *adapter;      /* adapter file (docs/adapters.md) that
				     queues propagate's command on a server
				     given by URL; NULL: the mock's API */
	long adapter_concurrency; /* adapter calls at a time; 0: default
				     (load_adapter.h) */
	srcaddr_range src;        /* --source-addrs: device k's connections
				     leave from address k mod count (k over
				     all shards); count 0: the system's
				     choice */
	int64_t idle_reupload_ms; /* dev_env's (0: V1.16's 3 minutes); tests
				     shorten it to see retransmissions */
	const proto_profile *prof;
	FILE *out;                /* the summary table */
	FILE *progress;           /* one line a second (stderr) */
	bool progress_tty;        /* \r-updated line instead of lines */
} load_opts;

/* Runs the load test described by o; returns LOAD_EXIT_*.  Messages for
 * the user go to o->progress.  SIGINT/SIGTERM end the run early: the
 * summary and report are still written, the report says "interrupted".
 * Installs its signal handlers for the run and restores the old ones;
 * one run per process at a time. */
int load_run(const load_opts *o);

#endif
