/* device.h -- one simulated tablet camera: its protocol behaviour (V1.16
 * as decided in docs/protocol.md), its virtual hardware (thermal sensor,
 * relay, door sensor, speaker) and its persistent state.  A device never
 * blocks and owns no thread or socket: it runs on the shared event loop
 * (loop.h), keeps its state in the shared store (store.h) and reaches the
 * server only through loop_http_start.  All calls on the loop thread. */
#ifndef CAMSIM_DEVICE_H
#define CAMSIM_DEVICE_H

#include "loop.h"
#include "proto.h"
#include "recog.h"
#include "store.h"

#include <stdio.h>

typedef struct dev dev;

/* ---- events: what a scenario, the window or a log can observe ---- */

#define DEV_EVENT_MAP(X)                                                      \
	X(BOOT, "boot")         /* powered on: text = app_version */         \
	X(OFF, "off")           /* powered off */                            \
	X(SEND, "send")         /* a message left: text = kind */            \
	X(REPLY, "reply")       /* a final status arrived: text = status */  \
	X(FAIL, "fail")         /* an exchange failed: text = why */         \
	X(COMMAND, "command")   /* a command applied: text = what */         \
	X(REJECT, "reject")     /* a command refused: text = why */          \
	X(RELAY, "relay")       /* relay energised / released: on, off */    \
	X(VOICE, "voice")       /* the speaker said text */                  \
	X(DOOR, "door")         /* door sensor: open, closed */              \
	X(TEMP, "temperature")  /* a body temperature was measured */        \
	X(FACE, "face")         /* a face was seen: text = verdict */        \
	X(RECORD, "record")     /* a snapshot record was stored offline */   \
	X(DROP, "drop")         /* the oldest offline record was dropped */  \
	X(RESEND, "resend")     /* retransmission of a stored record */      \
	X(NET, "network")       /* network up / down */                      \
	X(UPGRADE, "upgrade")   /* upgrade progress */                       \
	X(CLOCK, "clock")       /* clock or time zone set */                 \
	X(ERROR, "error")       /* something went wrong: text says what */

typedef enum dev_event_kind {
#define DEV_EV_ENUM(e, name) DEV_EV_##e,
	DEV_EVENT_MAP(DEV_EV_ENUM)
#undef DEV_EV_ENUM
	DEV_EV_COUNT
} dev_event_kind;

const char *dev_event_name(dev_event_kind k);

typedef struct dev_event {
	int64_t t;   /* device clock, UTC ms */
	dev_event_kind kind;
	char text[120];
} dev_event;

/* ---- exchanges: what a conformance check sees ---- */

/* How the device read a 200's body, the reading it then applies: json
 * NULL when the body is not JSON (proto_json_parse refused it); else msg
 * and rep are what proto_decode made of it (PROTO_TO_DEVICE, under prof,
 * the device's profile).  Observers judge the reply from it instead of
 * parsing and decoding it a second time. */
typedef struct dev_reply {
	const cJSON *json;
	const proto_msg *msg;     /* valid when json is */
	const proto_report *rep;  /* valid when json is */
	const proto_profile *prof;
} dev_reply;

/* One HTTP exchange as it ended; every pointer is valid only during the
 * on_exchange call. */
typedef struct dev_exchange {
	const char *method, *url;
	const char *kind;       /* message kind name, "snapshot (resend)",
				   "fw_upgrade download" */
	bool expect_100;        /* sent with Expect: 100-continue */
	const char *body;       /* the request body (NULL for a GET) */
	size_t len;
	const loop_http_res *res; /* NULL: never left (network down, or
				     dropped by fault injection) */
	const char *fault;      /* fault injection changed this exchange (the
				   sentence says how), else NULL: a reply
				   cut keeps res as the server sent it */
	const dev_reply *reply; /* the device's reading of the 200's body;
				   NULL when it read none (not a 200, a
				   cut reply, only whitespace, a download) */
} dev_exchange;

/* ---- callbacks: one contract each ---- */

/* d recorded ev (dev_events has it too).  On the loop thread, inside the
 * device code that caused it: must not free d or call back into it;
 * ev is valid during the call only.  Not called while d is being freed. */
typedef void (*dev_event_cb)(void *ud, dev *d, const dev_event *ev);
/* An exchange of d ended (x and everything it points to valid during the
 * call only), before its reply is applied.  On the loop thread; must not
 * free d or call back into it. */
typedef void (*dev_exchange_cb)(void *ud, dev *d, const dev_exchange *x);
/* A heartbeat slot's message starts late_ms (loop ms, >= 0 unless the
 * clock jumped) after the slot's time.  A benchmark hook: on the loop
 * thread, gets dev_env.event_ud, must not call back into d. */
typedef void (*dev_slot_cb)(void *ud, dev *d, int64_t late_ms);

/* ---- a face pass: what the demo window shows of one person ---- */

/* How a face event ended (dev_pass.verdict). */
typedef enum dev_pass_verdict {
	DEV_PASS_NONE,    /* nothing decided: no face, frame discarded, too
			     far, too dark, not live (reason says which) */
	DEV_PASS_PASSED,  /* let in (relay per config) */
	DEV_PASS_DENIED,  /* refused: why says by which rule */
} dev_pass_verdict;

/* The first rule that refused a person, in the device's order. */
typedef enum dev_deny_why {
	DEV_DENY_NONE,
	DEV_DENY_NOT_IN_LIBRARY, /* stranger */
	DEV_DENY_STRATEGY,       /* the person's strategy / time rule */
	DEV_DENY_TEMPERATURE,    /* above temperature.high_threshold */
	DEV_DENY_MASK,           /* the mask rule of facemask.mode */
} dev_deny_why;

/* One face event as it ended (dev_env.on_pass).  Plain data: copied by
 * value, no pointers, valid after the call. */
typedef struct dev_pass {
	int64_t t;                /* device clock, UTC ms */
	dev_pass_verdict verdict;
	dev_deny_why why;
	char reason[96];          /* short sentence for people: "not in
				     library", the strategy's reason,
				     "temperature 38.4 °C above 37.3 °C",
				     "no mask", "no face in the frame" */
	int frame_w, frame_h;     /* the decoded camera frame, pixels */
	bool has_face;            /* box and pts are valid */
	float box[4];             /* x, y, w, h in frame pixels */
	float pts[68][2];         /* landmarks, frame pixels (iBUG-300W) */
	bool recognition;         /* face_rec.enable (false: capture only) */
	bool known;               /* matched a library person */
	char person_id[64];       /* UTF-8, truncated on a character */
	char name[64];
	double similarity;        /* 0..1, best confidence (strangers too;
				     0 with an empty library) */
	bool has_temperature;
	double temperature;       /* as shown, in unit */
	char unit[8];             /* "°C" or "°F" */
	bool temperature_high;
	bool has_mask;
	int mask;                 /* 1 wearing a mask, 0 not */
	bool mask_bad;            /* the config's mask rule is broken */
} dev_pass;

/* A face event of d ended (p valid during the call only; plain data, so
 * copy it).  On the loop thread; must not free d or call back into it. */
typedef void (*dev_pass_cb)(void *ud, dev *d, const dev_pass *p);

/* ---- what every device of a process shares ---- */

typedef struct dev_env {
	loop *loop;
	store *store;
	recog *recog;
	const proto_profile *prof;
	FILE *transcript;          /* every exchange, or NULL */
	/* Called for every event of every device (may be NULL). */
	dev_event_cb on_event;
	void *event_ud;
	/* Called as every exchange ends, before its reply is applied, so
	 * the reply's effects (events, new messages) come after it (may be
	 * NULL). */
	dev_exchange_cb on_exchange;
	void *exchange_ud;
	/* Keep each reply's headers for on_exchange (x->res->headers); off,
	 * they read "" there unless a transcript is written: copying them
	 * costs a load test's device about 3 % of its work per request
	 * (docs/perf.md), and no observer of ours reads them. */
	bool exchange_headers;
	/* BENCHMARK HOOK (tests/bench_device.c; product code leaves it
	 * NULL): called as each heartbeat slot's message starts, with how
	 * late it is against the slot's time (loop ms). */
	dev_slot_cb on_slot;
	/* Called as every face event ends, after the events it caused (may
	 * be NULL; the demo window's identity, banner and face box). */
	dev_pass_cb on_pass;
	void *pass_ud;
	int64_t capacity;          /* face library capacity (default 10000) */
	size_t upgrade_max;        /* package size limit, bytes (64 MiB) */
	long http_timeout_ms;      /* per exchange (10000) */
	long connect_timeout_ms;   /* (5000) */
	int64_t idle_reupload_ms;  /* idle retransmission delay (180000) */
	int64_t record_cap;        /* offline records kept (2000) */
	bool keep_alive;           /* reuse connections (default: one per
				      message, V1.16's short connection) */
} dev_env;

/* Fills the defaults above for the members left 0. */
void dev_env_defaults(dev_env *env);

typedef struct dev_opts {
	const char *cid;
	const char *server_url;   /* "http://host:port/path"; used until the
				     server changes it (D6) */
	int64_t interval_s;       /* heartbeat interval at first start (3) */
	const char *app_version;  /* at first start ("V1.0.0") */
	/* Heartbeat drift, a fraction of the interval in [0, 0.5]: each slot
	 * comes interval * (1 + u * jitter) after the one before, u uniform
	 * in [-1, 1] from a generator seeded by the cid (reproducible per
	 * device).  Real tablets' clocks drift, so thousands of them do not
	 * stay in lockstep; 0 (the default) keeps the fixed rate. */
	double jitter;
	/* The local address every connection of the device leaves from
	 * (loop_http_req.source_addr), NULL: the system's choice.  Not
	 * copied: it must outlive the device (camsim load and camsim device
	 * keep one table of --source-addrs for all their devices). */
	const char *source_addr;
} dev_opts;

/* Creates the device and loads its saved state from env->store (the saved
 * interval, config, library, strategies, clock, seq state and version win
 * over opts, which only seed a device seen for the first time).  The server
 * URL is the saved one (a server may have moved the device, D6) unless
 * opts->server_url differs from the one given last time: then the new
 * setting wins.  Does not power it on.  SIM_E* with a sentence in err. */
int dev_new(dev_env *env, const dev_opts *opts, dev **out, char *err,
	    size_t errlen);
/* Powers off (if on) and frees.  Saved state stays in the store. */
void dev_free(dev *d);

const char *dev_cid(const dev *d);

/* ---- power and network (the control API's buttons) ---- */

/* Powers on: a new boot (uptime = now), state re-read from the store, the
 * first heartbeat at once.  SIM_ESTATE when already on. */
int dev_power_on(dev *d, char *err, size_t errlen);
/* Powers off: transfers aborted, timers stopped, nothing saved that was
 * not already saved (as a real power cut). */
void dev_power_off(dev *d);
bool dev_is_on(const dev *d);
/* The end of a load run (camsim load's drain): from now on d starts
 * nothing -- no heartbeat slot, queued message, snapshot, retransmission,
 * download or reboot -- while the exchanges already on the network end
 * as usual (on_exchange, their replies applied).  Every message that has
 * not left, or would leave later (a result of a reply applied now), is
 * reported at once as an exchange that never left (res NULL), after its
 * SEND or RESEND event, as for a network that is down; exchanges still
 * waiting for one of the loop's transfer slots (loop_http_waiting) are
 * taken back for this.  Snapshots not sent stay offline records.  Lasts
 * until dev_power_off; a device that is off is left alone. */
void dev_quiesce(dev *d);
/* Network down: every exchange fails at once as a connection failure
 * (snapshots go to the offline store); up: normal again. */
void dev_network(dev *d, bool up);

/* ---- fault injection (a scenario's "fault" step) ---- */

typedef enum dev_fault_kind {
	DEV_FAULT_DROP_RESULT, /* the next result message (a confirmation or
				  a query result; of kind `kind` when given)
				  is lost on the way: never sent */
	DEV_FAULT_CUT_REPLY,   /* the next 200 reply that carries a command is
				  cut: the device drops the connection before
				  it reads the body, applies nothing and
				  counts the exchange as failed */
} dev_fault_kind;

/* Arms one fault, for one message.  kind (DROP_RESULT only, may be NULL)
 * names a message kind ("config_result").  SIM_EINVAL for a kind that is
 * no device result message, else 0. */
int dev_fault(dev *d, dev_fault_kind f, const char *kind);

/* ---- virtual hardware ---- */

typedef struct dev_face_in {
	const void *image;        /* the camera frame: encoded image bytes */
	size_t image_len;
	bool has_temperature;     /* the thermal sensor's raw reading, °C */
	double temperature;       /* (without it: the scripted queue, else 36.5) */
	bool has_mask;
	int mask;                 /* 1 wearing a mask, 0 not (default 0) */
	double stay_s;            /* seconds the person stays (interval
				     captures every face_cap.interval) */
	bool has_liveness;        /* liveness score 0..1 (default 0.95) */
	double liveness;
	bool has_quality;         /* capture quality 0..1 (default 0.9) */
	double quality;
	bool has_blur;            /* capture blur 0..1 (default 0.1) */
	double blur;
} dev_face_in;

/* A person steps in front of the camera.  Runs the whole chain: capture
 * gates, recognition, temperature, mask, pass decision, relay, voice,
 * snapshot upload or offline record.  0 when the event was handled (the
 * verdict is in the events), or SIM_E* with a sentence in err: device
 * off, picture not decodable, recognition unavailable, ... */
int dev_face(dev *d, const dev_face_in *in, char *err, size_t errlen);

/* Door sensor: opening the door while the relay is released (nobody was
 * let in) raises a door-sensor alarm (§13, alarmtype 1). */
void dev_door(dev *d, bool open);
bool dev_door_open(const dev *d);

/* Queues scripted thermal readings (raw, °C), used by the next face
 * events that carry no temperature of their own.  At most 64 queued.
 * SIM_EINVAL (a reading outside 0..120 °C, or more than fit), SIM_ENOMEM
 * or 0. */
int dev_thermal_script(dev *d, const double *readings, size_t n);

/* Sets the device clock (UTC seconds) and, when has_zone, its zone
 * (seconds east), as a person at the device's settings screen would. */
void dev_set_clock(dev *d, int64_t utc_s, bool has_zone, int64_t zone_s);

/* ---- observation ---- */

int64_t dev_now_ms(const dev *d);  /* device clock, UTC ms */
bool dev_relay_on(const dev *d);
int64_t dev_library_size(const dev *d);
/* Snapshot records stored offline, waiting for retransmission (the
 * "offline_records" of dev_status_json, without building it: a load run
 * samples every device each second). */
int64_t dev_offline_records(const dev *d);
/* The device's state as JSON (config, library size, strategies, offline
 * queue, relay, door, network, recent events); caller deletes. */
cJSON *dev_status_json(const dev *d);
/* The device's set-aside records (D26) as JSON, oldest first:
 * {"cid", "count", "records": [{"id", "time", "rejects", "reason",
 * "body"}]}, the body being the record as stored (text, at most the
 * newest 100 records listed; count says how many there are).  NULL when
 * out of memory or the store fails; caller deletes.  Loop thread. */
cJSON *dev_aside_json(dev *d);
/* Copies up to max of the most recent events, oldest first; returns how
 * many. */
size_t dev_recent_events(const dev *d, dev_event *out, size_t max);

#endif
