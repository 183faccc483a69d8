/* device_int.h -- internals shared by device.c (life cycle, exchanges,
 * heartbeat, persistence), device_cmd.c (applying a reply's commands) and
 * device_hw.c (virtual hardware, recognition events, snapshots, offline
 * records).  Not for use outside those three files. */
#ifndef CAMSIM_DEVICE_INT_H
#define CAMSIM_DEVICE_INT_H

#include "device.h"
#include "image.h"
#include "sim_err.h"
#include "base.h"

#include <cjson/cJSON.h>

#define DEV_EVENTS 32          /* recent events kept per device */
#define DEV_THERMAL_MAX 64
#define DEV_OUTBOX_MAX 64      /* confirmations waiting for the channel */

/* What a queued outgoing message is, for the reply's bookkeeping. */
typedef enum dev_out_kind {
	OUT_PLAIN = 0,  /* any confirmation or report */
	OUT_HEARTBEAT,  /* type 3 (seq bookkeeping, D7) */
	OUT_UPGRADE,    /* type 6 (reboot after error 6) */
	OUT_BATCH,      /* type 9 (batch chain, §7) */
} dev_out_kind;

typedef struct dev_out {
	char *body;
	size_t len;
	proto_kind kind;
	dev_out_kind what;
	int64_t seq;          /* heartbeat / upgrade: the seq it carries */
	int64_t upgrade_error;
	struct dev_out *next;
} dev_out;

/* Query results wait for the next heartbeat slot (D9). */
enum { Q_FACES = 1, Q_STRATEGIES = 2, Q_CONFIG = 4, Q_REUPLOAD = 8 };

typedef struct dev_person {
	char id[36];
	char *name, *sex;      /* malloc'd or NULL */
	bool has_age;
	int64_t age;
	int64_t strategy_id;
} dev_person;

typedef struct dev_capture dev_capture; /* a person staying in view */

typedef enum dev_state { DEV_OFF = 0, DEV_ON, DEV_UPGRADING } dev_state;

struct dev {
	dev_env *env;
	char cid[65];
	dev_state state;
	bool net_down;
	bool fault_drop, fault_cut;  /* dev_fault: armed for one message */
	bool quiet;                  /* dev_quiesce: nothing new leaves */
	proto_kind fault_kind;       /* fault_drop's kind (NONE: any result) */
	const char *fault_text;      /* set while an exchange it changed is
					reported */
	char *url;                 /* current server URL (malloc'd) */
	const char *src_addr;      /* dev_opts.source_addr (not owned) */
	int64_t interval_s;
	double jitter;             /* dev_opts.jitter */
	uint64_t jitter_rng;       /* its xorshift64 state, seeded by cid */
	char app_version[64];
	int64_t boot_utc;          /* uptime field: UTC s of this boot */
	int64_t clock_off_ms;      /* device clock = loop clock + this */
	int64_t tz_s;              /* seconds east of UTC */

	proto_config cfg;          /* complete: every has_ set */
	proto_strategy *strat;     /* stored strategies (in strat_arena) */
	size_t n_strat;
	proto_arena strat_arena;
	dev_person *lib;           /* face library, insertion order */
	recog_desc *desc;          /* descriptors, parallel to lib */
	size_t n_lib, cap_lib;
	int64_t n_records;         /* offline records stored */
	int64_t records_dropped;
	int64_t n_aside;           /* records set aside (refused, invalid) */
	int64_t reupload_mode;     /* 1 scheduled, 2 idle */
	int reupload_secs;         /* scheduled time of day, device local */
	bool seq_pending;          /* D7: a facelib seq to report */
	int64_t seq_val;
	int64_t alarm_seq;

	/* control channel: heartbeats, query results, confirmations, alarms */
	loop_timer hb_timer;
	bool hb_due;               /* slot reached while the channel was busy */
	int64_t slot_due;          /* loop ms of that slot */
	bool batch_chain;          /* §7: heartbeats wait for the chain */
	bool reboot_pending;
	unsigned queries;          /* Q_* waiting for the next slot */
	dev_out *outbox, *outbox_tail;
	size_t n_outbox;
	loop_http *ctrl_http;
	dev_out *ctrl_msg;         /* in flight on the control channel */

	/* uploads: snapshots (each its own transfer) and retransmissions (one
	 * at a time, oldest first) */
	struct dev_upload *uploads;
	size_t n_uploads;
	loop_timer reup_timer;     /* scheduled / idle retransmission */
	bool resending;            /* a retransmission run is going on */
	bool resend_busy;          /* its record is in flight */
	int64_t resend_after;      /* last record id tried in this run */

	/* upgrade download */
	loop_http *dl_http;
	char upgrade_version[64];

	/* virtual hardware */
	bool relay_on, door_open;
	loop_timer relay_timer;
	double *thermal;           /* scripted readings, DEV_THERMAL_MAX
				      allocated while any wait, else NULL */
	size_t n_thermal;
	dev_capture *capture;

	/* The recent events, oldest first, packed as records of the event
	 * time (8 bytes), its kind (1), its text's length (1) and the text
	 * (no NUL): most texts are a few words, so 32 of them take about
	 * 700 bytes where fixed dev_event slots took 4.3 KB, which was most
	 * of an idle device (docs/perf.md, "Idle devices").  Allocated on
	 * the first event, grown as texts need. */
	unsigned char *ev_buf;
	uint32_t ev_len, ev_cap, n_ev;
	int64_t n_sent, n_failed;
};

/* device.c */
void dev__event(dev *d, dev_event_kind k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* dev__event with the text a then b, cut to the event's 119 bytes: the
 * events of every exchange, without a printf each (docs/perf.md) */
void dev__event_join(dev *d, dev_event_kind k, const char *a, const char *b);
void dev__events_clear(dev *d);     /* forgets the recent events */
int64_t dev__now_s(const dev *d);   /* device clock, UTC s */
int64_t dev__local_s(const dev *d); /* device wall clock as UTC-style s */
/* Queues a message for the control channel and starts it when idle.
 * m is encoded here; SIM_ENOMEM or 0. */
int dev__send(dev *d, const proto_msg *m, dev_out_kind what, int64_t seq,
	      int64_t upgrade_error);
/* Runs the control channel: next queued message, due heartbeat, reboot. */
void dev__pump(dev *d);
void dev__schedule_hb(dev *d, int64_t delay_ms);
int dev__save_kv_int(dev *d, const char *key, int64_t v);
int dev__save_config(dev *d);
/* Saves the strategies; *json (may be NULL) gets the saved JSON. */
int dev__save_strategies(dev *d, char **json);
/* A type 3 heartbeat, or with error 1..6 the type 6 upgrade result; seq
 * per D7.  Strings point into d. */
void dev__heartbeat_msg(dev *d, proto_msg *m, int64_t error);
void dev__reboot(dev *d, const char *why);
/* Reports an exchange to env->on_exchange (with the device's reading of
 * the reply, NULL for none) and the transcript (each when there is one). */
void dev__transcript(dev *d, const char *method, const char *url,
		     const char *kind, bool expect_100, const char *body,
		     size_t len, const loop_http_res *r, const dev_reply *reply);

/* A 200 body read once: parsed and decoded before the exchange is
 * reported, applied after (dev_exchange.reply shows the same reading). */
typedef struct dev_body {
	bool blank;          /* only whitespace: nothing to do (D3) */
	cJSON *j;            /* NULL: not JSON (why says why) */
	proto_arena a;
	proto_msg m;
	proto_report rep;
	dev_reply view;      /* points into the above */
	char why[256];
} dev_body;
/* Reads body into b (no events, no state touched); dev__body_free after.
 * Returns &b->view, or NULL for a blank body. */
const dev_reply *dev__body_read(dev *d, const char *body, size_t len,
				dev_body *b);
/* Applies what dev__body_read read (D42); never fails, problems become
 * events. */
void dev__body_apply(dev *d, dev_body *b);
void dev__body_free(dev_body *b);
/* Reads, applies and frees a 200 body. */
void dev__apply_body(dev *d, const char *body, size_t len);

/* device_cmd.c */
void dev__apply_reply(dev *d, const proto_reply *r, const proto_report *rep);
/* A query result built from the current state (Q_* bit), for the slot. */
int dev__build_query(dev *d, unsigned q, proto_msg *m, proto_arena *a);
void dev__config_defaults(proto_config *c);
/* bad_url: the validator's sentence when download_url broke a MUST rule
 * (a file: or other non-web scheme, no host), else "" or NULL: the
 * upgrade is then refused with error 1 before the version is looked at. */
int dev__upgrade_start(dev *d, const proto_upgrade_cmd *u, const char *bad_url);
void dev__library_free(dev *d);
int dev__library_load(dev *d, char *err, size_t errlen);

/* device_hw.c */
void dev__relay_pulse(dev *d, int64_t duration_100ms, const char *why);
void dev__say(dev *d, const char *text);
void dev__records_changed(dev *d);  /* re-arms retransmission */
void dev__upload_pump(dev *d);      /* starts the next resend if idle */
void dev__pass_recorded(dev *d);    /* a pass stops idle resending */
/* Moves stored record id (made at time) aside with the reason why: kept
 * for inspection, counted in n_aside, no longer resent (D26). */
void dev__record_aside(dev *d, int64_t id, int64_t time, const char *why);
void dev__hw_stop(dev *d);          /* power off: timers, captures */
/* dev_quiesce's part: retransmission and capture timers stopped, uploads
 * still waiting for a loop slot reported as never sent. */
void dev__hw_quiesce(dev *d);

#endif
