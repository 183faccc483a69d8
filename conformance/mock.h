/* mock.h -- camsim's reference mock server: a correct V1.16 server that
 * vendors can read as the reference.  Owns its CivetWeb listener, its
 * SQLite database and the per-device command queues; validates every
 * device message with the protocol module.  Knows nothing of scenarios,
 * the runner or the simulated device. */
#ifndef CAMSIM_MOCK_H
#define CAMSIM_MOCK_H

#include "conf_err.h"
#include "proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct cJSON cJSON;
typedef struct mock mock;

/* The time now, UTC ms, for the server's stamps and timeouts.  Called
 * from CivetWeb's worker threads, several at once, sometimes with the
 * mock's lock held: thread-safe, quick, and never calling into the mock. */
typedef int64_t (*mock_clock_cb)(void *ud);

typedef struct mock_opts {
	const char *listen;  /* "127.0.0.1:8080" (default); port 0 = any free */
	const char *path;    /* device endpoint ("/api/face") */
	const char *db;      /* SQLite file; created when missing (required) */
	const char *token;   /* admin API bearer token; required when listen
				is not a loopback address */
	const proto_profile *prof; /* judging profile (strict) */
	/* The server's clock (NULL: the system clock).  The runner passes
	 * the simulated devices' virtual clock. */
	mock_clock_cb now;
	void *now_ud;
	/* sent -> timed out without an outcome (60000); a command that only
	 * the next heartbeat can settle gets the device's heartbeat interval
	 * on top (docs/mock.md, Timeouts) */
	int64_t cmd_timeout_ms;
	FILE *log;              /* one line per exchange and violation, or NULL */
	/* Each request's body must have arrived this long after its headers
	 * (0: WEB_DEADLINE_MS, 30 s); a slower one is cut off with 408 so that
	 * no client holds a worker longer (docs/mock.md, Slow clients). */
	long deadline_ms;
	/* Faults for every exchange (docs/mock.md, "Faults"): specs such as
	 * "status=500:10%", at most 32; not kept.  fault_seed seeds the
	 * draws: the same seed and exchanges give the same faults. */
	const char *const *faults;
	size_t nfaults;
	uint64_t fault_seed;
	/* Retention (docs/mock.md, "Retention"): messages (with their
	 * violations and records) older than retain_age_ms on the mock's
	 * clock, and the oldest beyond retain_bytes of database, are deleted;
	 * settled commands older than retain_age_ms too.  0: no limit. */
	int64_t retain_age_ms;
	int64_t retain_bytes;
	/* A database thrown away when the mock stops (camsim load's):
	 * written without fsync (PRAGMA synchronous = OFF), so that the
	 * checkpoints of a mock under load do not wait on the disk.  A crash
	 * of the machine may leave it corrupt; a crash of the process not. */
	bool scratch;
} mock_opts;

/* Opens the database (what an earlier run stored is kept: a restart loses
 * nothing) and starts listening.  CONF_E* with a sentence in err. */
int mock_start(const mock_opts *o, mock **out, char *err, size_t errlen);
/* Stops listening (fast: no multi-second mg_stop) and closes the db. */
void mock_stop(mock *m);
int mock_port(const mock *m); /* the bound port */

/* ---- commands: every function below is thread-safe ---- */

typedef enum mock_state {
	MOCK_PENDING,   /* queued, not yet in a reply */
	MOCK_SENT,      /* in a 200 reply, outcome not known yet */
	MOCK_CONFIRMED, /* the device reported success */
	MOCK_FAILED,    /* the device reported failure (result says how) */
	MOCK_TIMEOUT,   /* no outcome within cmd_timeout_ms of being sent */
} mock_state;

const char *mock_state_name(mock_state s); /* "pending", "sent", ... */

/* Queues one command for device cid.  cmd is a reply object holding one
 * command member, exactly as it appears in a 200 reply body, e.g.
 * {"facelib_manage":{"type":1,"face":{...}}}; a missing or zero seq is
 * filled in by the mock (per device, from 1).  Validated with the
 * profile before it is accepted: CONF_EBADCMD with the rule ids and paths
 * in err.  Returns the command id (> 0), or CONF_E*.  cmd is not kept. */
int64_t mock_enqueue(mock *m, const char *cid, const cJSON *cmd, char *err,
		     size_t errlen);

/* Flags of mock_enqueue_flags. */
enum {
	MOCK_Q_UNCHECKED = 1, /* accept a command that breaks MUST rules */
	MOCK_Q_VERBATIM = 2,  /* send it exactly as given: no seq filled in */
};

/* mock_enqueue with flags (MOCK_Q_*). */
int64_t mock_enqueue_flags(mock *m, const char *cid, const cJSON *cmd,
			   int flags, char *err, size_t errlen);

/* mock_enqueue for a command that breaks MUST rules on purpose: scenarios
 * that test how a device answers a bad command (config errcode 1, ...).
 * Still refused when it is not a command reply at all (CONF_EBADCMD).  The
 * reply carrying it will break the rules; the runner's checks see that. */
int64_t mock_enqueue_unchecked(mock *m, const char *cid, const cJSON *cmd,
			       char *err, size_t errlen);

/* One command as JSON (caller deletes), NULL when there is no such id:
 * {"id","cid","kind" (facelib_add, config_set, ... docs/mock.md),
 *  "command":{...as sent},"seq","state","queued_at","sent_at",
 *  "done_at","result":{...the device message that settled it} or null,
 *  "detail":"sentence","result_id":that message's id or null} (times: UTC ms on the mock's clock; a timed-out
 *  command's done_at is its deadline).  Outcomes are judged
 *  lazily: this call first times out what is overdue on the clock. */
cJSON *mock_command_json(mock *m, int64_t id);

/* The commands queued for cid (NULL: any device) with an id > after,
 * oldest first, at most limit, each as mock_command_json except that a
 * "result" message over 64 KiB is null ("result_id" names it).  Caller
 * deletes; NULL when out of memory. */
cJSON *mock_commands_json(mock *m, const char *cid, int64_t after,
			  size_t limit);

/* Every device seen, as a JSON array (caller deletes):
 * [{"cid","first_seen","last_seen","last_heartbeat","last_seq","uptime",
 *   "app_version","messages","violations","pending"}], in cid order. */
cJSON *mock_devices_json(mock *m);

/* Snapshot records (type 1) received from cid (NULL: any device) with a
 * record id > after, oldest first, at most limit; each
 * {"id","cid","received_at","message":{...the message with each string of
 * "faces" replaced by its length in base64 characters},"image_sha256",
 * "image_len" (bytes of the first picture, decoded; 0 when it is not
 * base64),"resend":bool (the same cid, time and picture arrived before, or
 * the record's time is over 60 s older than its arrival),"duplicate_of":
 * the earlier record's id or null}.  Caller deletes. */
cJSON *mock_records_json(mock *m, const char *cid, int64_t after,
			 size_t limit);

/* Every message received from cid (NULL: any, including those whose
 * device is unknown) with an id > after, oldest first, at most limit, as
 * summaries without bodies (a body can be 64 MiB): each
 * {"id","cid","received_at","kind","status" (0: no answer, a fault),
 * "size" (bytes of the body as stored),"raw":"first bytes of a body that
 * is not JSON" (at most 4096),"error","fault":"status=500,..." or null,
 * "reply":{...the commands answered} or null,"must","should",
 * "violations":[{"severity","rule","path","message"}]}.  Caller deletes.
 * The database lock is held only while rows are copied, not while JSON is
 * built. */
cJSON *mock_messages_json(mock *m, const char *cid, int64_t after,
			  size_t limit);

/* Message id with its body: the summary above plus "body":{...as
 * received, a snapshot's pictures replaced by their lengths} or null.
 * Builds the whole body in memory: the admin API streams it instead
 * (GET /admin/messages/{id}).  Caller deletes; NULL: no such id. */
cJSON *mock_message_json(mock *m, int64_t id);

/* Sets device cid's faults (specs as for mock_opts.faults, except no-100;
 * n 0 clears them); they are drawn after the global ones.  Kept in memory
 * only.  0, or CONF_EINVAL with a sentence in err. */
int mock_set_faults(mock *m, const char *cid, const char *const *specs,
		    size_t n, char *err, size_t errlen);
/* {"cid","faults":[...]} of cid, or with cid NULL {"faults":[global],
 * "devices":{"cid":[...],...}}.  Caller deletes. */
cJSON *mock_faults_json(mock *m, const char *cid);

/* The JPEG (or whatever was sent) of record id, decoded from base64,
 * malloc'd into *out (caller frees).  CONF_ENOTFOUND or 0. */
int mock_record_image(mock *m, int64_t id, unsigned char **out, size_t *len);

#endif
