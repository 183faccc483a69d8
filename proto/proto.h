/* proto.h -- the HTTP docking protocol V1.16 as code: C types for every
 * message in both directions, decoding from JSON with validation, encoding
 * to JSON, and the rule catalogue.  Pure: no I/O, no clocks, no sockets;
 * memory for decoded messages comes from a caller-owned arena.
 * The device (sim/), the mock server and the checks (conformance/) share it. */
#ifndef CAMSIM_PROTO_H
#define CAMSIM_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct cJSON cJSON;

/* ---------------------------------------------------------------- errors */

#define PROTO_ERRNO_MAP(X)                                                    \
	X(NOMEM, -101, "out of memory")                                       \
	X(NOTJSON, -102, "not JSON")                                          \
	X(BADMSG, -103, "message breaks a MUST rule of protocol V1.16")       \
	X(UNKNOWN, -104, "not a message of protocol V1.16")                   \
	X(INVAL, -105, "invalid argument")

enum {
#define PROTO_ERR_ENUM(name, code, text) PROTO_E##name = (code),
	PROTO_ERRNO_MAP(PROTO_ERR_ENUM)
#undef PROTO_ERR_ENUM
};

/* Text for a PROTO_E* code (static storage); "unknown error" otherwise. */
const char *proto_strerror(int rc);

/* ---------------------------------------------------------------- arena */

/* A chunked bump allocator: everything a decoded message points to lives
 * here and is released at once by proto_arena_free.  Zero-initialise it
 * (or use PROTO_ARENA_INIT); no other set-up is needed. */
typedef struct proto_arena {
	struct proto_chunk *head;
	size_t bytes; /* total bytes handed out, for memory accounting */
} proto_arena;
#define PROTO_ARENA_INIT {NULL, 0}

/* n bytes, zeroed, aligned for any scalar; NULL when out of memory. */
void *proto_arena_alloc(proto_arena *a, size_t n);
/* A copy of s[0..n) plus NUL; NULL when out of memory. */
char *proto_arena_strndup(proto_arena *a, const char *s, size_t n);
void proto_arena_free(proto_arena *a);

/* ---------------------------------------------------------------- profile */

/* Where real devices plausibly differ from the document, the difference is
 * a profile option rather than a guess (docs/protocol.md, "Profiles").
 * A profile changes what the device writes and what the validator accepts. */
typedef struct proto_profile {
	const char *name;
	/* §4 example: result.sex written " male"; the validator accepts the
	 * padded form (with a SHOULD warning) instead of failing it. */
	bool sex_leading_space;
	/* §4 example: confidence written as a float32 widened to double,
	 * 0.9300000071525574 rather than 0.93. */
	bool confidence_float32;
	/* §5 examples: "2019/6/30" and "8:59:00" are accepted (SHOULD warning)
	 * rather than breaking the printed formats 2019/01/01 and hh:mm:ss. */
	bool lenient_datetime;
	/* §7's table gives the type 8 settings report mode 3 (scheduled) and
	 * 4 (idle) instead of §6's 1 and 2: the validator accepts 3 and 4
	 * (SHOULD warning).  Devices write 1 and 2 in both profiles, as §6's
	 * example does. */
	bool reupload_mode_3_4;
	/* §13: the alarm table has no cid, so a server cannot tell which
	 * device raised it.  When set, the device fills proto_alarm.cid, which
	 * the encoder writes as a top-level "cid" and the validator knows as
	 * an optional camsim extension. */
	bool alarm_cid;
	/* §4/§5/§6/§9: a query result goes "at the next heartbeat".  false:
	 * it takes that heartbeat's slot (no type 3 is sent then); true: it is
	 * sent beside the heartbeat, right after it. */
	bool query_beside_heartbeat;
	/* §4: snapshot temperature in the configured unit (°F when
	 * temperature.unit = 1) rather than always Celsius. */
	bool temp_in_config_unit;
} proto_profile;

extern const proto_profile proto_profile_strict;
extern const proto_profile proto_profile_as_printed;

/* The profile of that name ("strict", "as-printed"), or NULL. */
const proto_profile *proto_profile_find(const char *name);

/* ---------------------------------------------------------------- reports */

typedef enum proto_severity { PROTO_MUST = 0, PROTO_SHOULD = 1 } proto_severity;

typedef struct proto_violation {
	proto_severity sev;
	char *rule; /* rule id, e.g. "facelib_add.face.name.max_len" */
	char *path; /* JSON path, e.g. "$.facelib_manage.face.name" */
	char *msg;  /* sentence for someone who has only the vendor's PDF */
} proto_violation;

/* Every violation found in one message, in document order.  After
 * PROTO_REPORT_MAX entries further ones are only counted (dropped). */
#define PROTO_REPORT_MAX 1000
typedef struct proto_report {
	proto_violation *v;
	size_t n, cap;
	size_t n_must, n_should, dropped;
	int oom; /* set when a violation could not be recorded */
} proto_report;

void proto_report_free(proto_report *r);
/* Appends; strings are copied.  Returns 0 or PROTO_ENOMEM. */
int proto_report_add(proto_report *r, proto_severity sev, const char *rule,
		     const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* ---------------------------------------------------------------- JSON */

/* Parses buf[0..len) as one JSON text.  Beyond cJSON it rejects what the
 * protocol's peers choke on: NUL bytes, invalid UTF-8, raw control
 * characters and \u0000 in strings, non-finite numbers, trailing data.
 * Returns 0 and *out (free with cJSON_Delete), or PROTO_ENOTJSON with a
 * "line L, column C: what" sentence in err, or PROTO_ENOMEM. */
int proto_json_parse(const char *buf, size_t len, cJSON **out, char *err,
		     size_t errlen);

/* True when buf[from..len) holds only JSON white space (or nothing): an
 * empty 200 body, or the end of a JSON text.  Never reads past len. */
bool proto_json_blank(const char *buf, size_t from, size_t len);

/* ---------------------------------------------------------------- messages */

/* Direction of a message.  TO_SERVER: what the device POSTs.  TO_DEVICE:
 * the body of the server's 200 reply, carrying commands. */
typedef enum proto_dir { PROTO_ANY = 0, PROTO_TO_SERVER, PROTO_TO_DEVICE } proto_dir;

/* Every kind of message.  X(ENUM, name, direction, type) -- name is the
 * rule-id prefix; type is the "type" value, -1 where there is none. */
#define PROTO_KIND_MAP(X)                                                     \
	X(SNAPSHOT, "snapshot", PROTO_TO_SERVER, 1)                           \
	X(HEARTBEAT, "heartbeat", PROTO_TO_SERVER, 3)                         \
	X(FACE_LIST, "face_list", PROTO_TO_SERVER, 4)                         \
	X(UPGRADE_RESULT, "upgrade_result", PROTO_TO_SERVER, 6)               \
	X(STRATEGY_RESULT, "strategy_result", PROTO_TO_SERVER, 7)             \
	X(STRATEGY_LIST, "strategy_list", PROTO_TO_SERVER, 7)                 \
	X(REUPLOAD_RESULT, "reupload_result", PROTO_TO_SERVER, 8)             \
	X(REUPLOAD_SETTINGS, "reupload_settings", PROTO_TO_SERVER, 8)         \
	X(BATCH_RESULT, "batch_result", PROTO_TO_SERVER, 9)                   \
	X(CONFIG_RESULT, "config_result", PROTO_TO_SERVER, 10)                \
	X(CONFIG_REPORT, "config_report", PROTO_TO_SERVER, 10)                \
	X(LOG_RESULT, "log_result", PROTO_TO_SERVER, 11)                      \
	X(CONTROL_RESULT, "control_result", PROTO_TO_SERVER, 12)              \
	X(ALARM, "alarm", PROTO_TO_SERVER, -1)                                \
	X(REPLY, "reply", PROTO_TO_DEVICE, -1)

typedef enum proto_kind {
	PROTO_KIND_NONE = 0,
#define PROTO_KIND_ENUM(e, name, dir, type) PROTO_##e,
	PROTO_KIND_MAP(PROTO_KIND_ENUM)
#undef PROTO_KIND_ENUM
	PROTO_KIND_COUNT
} proto_kind;

const char *proto_kind_name(proto_kind k);

/* Conventions for every struct below: a string is NULL when absent and
 * otherwise NUL-terminated UTF-8 owned by the arena (or by the caller when
 * the caller builds the message); every other member has a has_ flag; an
 * array is (pointer, n_, has_).  A zeroed struct is an empty message.
 * Integers are int64_t, "float" fields double.  Times are UTC seconds. */

/* ---- shared parts ---- */

typedef struct proto_rule { /* §5 strategyRuleList item */
	bool has_rule_id, has_type;
	int64_t rule_id;
	const char *beg_date; /* "YYYY/MM/DD" */
	const char *end_date;
	const char *time_range; /* "hh:mm:ss-hh:mm:ss[,...]", up to 16 */
	const char *week;       /* "1,2,...", 1 = Monday .. 7 = Sunday */
	int64_t type;           /* 1 allow, 0 deny */
} proto_rule;

typedef struct proto_strategy { /* §5 strategyList item */
	bool has_strategy_id, has_state, has_rules;
	int64_t strategy_id;
	const char *name; /* <= 31 bytes */
	int64_t state;    /* 1 open, 0 closed */
	proto_rule *rules;
	size_t n_rules;
} proto_strategy;

typedef struct proto_face_rec {
	bool has_enable, has_voice, has_relay, has_liveness, has_score,
		has_times, has_distance, has_face_expos;
	int64_t enable, voice, relay;
	double liveness, score;
	int64_t times, distance, face_expos;
} proto_face_rec;

typedef struct proto_face_cap {
	bool has_interval, has_goodness, has_blur, has_time_overlay,
		has_upload_mode;
	int64_t interval;
	double goodness, blur;
	int64_t time_overlay, upload_mode;
} proto_face_cap;

typedef struct proto_facemask {
	bool has_enable, has_mode, has_voice, has_relay, has_environment;
	int64_t enable, mode, voice, relay;
	int64_t environment; /* printed in §9's example only; see docs */
} proto_facemask;

typedef struct proto_temperature {
	bool has_enable, has_high_threshold, has_voice, has_relay, has_offset,
		has_unit, has_environment;
	int64_t enable;
	double high_threshold; /* degrees Celsius */
	int64_t voice, relay;
	double offset; /* degrees Celsius, added to the sensor reading */
	int64_t unit, environment;
} proto_temperature;

typedef struct proto_relay_cfg {
	bool has_duration, has_state;
	int64_t duration; /* 100 ms units, 1..100 */
	int64_t state;
} proto_relay_cfg;

typedef struct proto_misc {
	bool has_version;
	int64_t version;
} proto_misc;

/* The six configuration groups of §9, as set, queried or reported. */
typedef struct proto_config {
	bool has_face_rec, has_face_cap, has_facemask, has_temperature,
		has_relay, has_misc;
	proto_face_rec face_rec;
	proto_face_cap face_cap;
	proto_facemask facemask;
	proto_temperature temperature;
	proto_relay_cfg relay;
	proto_misc misc;
} proto_config;

/* ---- device -> server ---- */

typedef struct proto_heartbeat { /* §2, type 3; also §8 type 6 */
	bool has_seq, has_uptime, has_type, has_error;
	const char *app_version;
	const char *cid;
	int64_t seq;
	int64_t uptime; /* UTC time of this boot */
	int64_t type;
	int64_t error; /* type 6 only: 1..6 */
} proto_heartbeat;

typedef struct proto_snap_result {
	bool has_age, has_confidence, has_person_type, has_temperature,
		has_facemask;
	const char *person_id;   /* <= 35 bytes */
	const char *person_name; /* <= 63 bytes */
	int64_t age;
	const char *sex;
	double confidence; /* 0..1, 0 when not matched */
	int64_t person_type; /* 0 failed, 1 passed, 2 interval capture */
	double temperature;
	int64_t facemask;
} proto_snap_result;

typedef struct proto_snapshot { /* §4, type 1 */
	bool has_type, has_time, has_faces, has_result;
	const char *cid;
	int64_t type, time;
	const char **faces; /* base64 JPEG each */
	size_t n_faces;
	proto_snap_result result;
} proto_snapshot;

typedef struct proto_person { /* §4 type 4 face item */
	bool has_age, has_strategy_id;
	const char *person_id; /* <= 35 */
	const char *person_name; /* <= 63 */
	int64_t age;
	const char *sex;
	int64_t strategy_id;
	const char *card_no; /* <= 35 */
} proto_person;

typedef struct proto_face_list { /* §4, type 4 */
	bool has_type, has_time, has_total_face, has_face;
	const char *cid;
	int64_t type, time, total_face;
	proto_person *face;
	size_t n_face;
} proto_face_list;

typedef struct proto_id_result { /* §5 resultList item */
	bool has_strategy_id, has_result;
	int64_t strategy_id, result;
} proto_id_result;

typedef struct proto_strategy_result { /* §5, type 7 delivery result */
	bool has_type, has_time, has_strategy_manage, has_results;
	const char *cid;
	int64_t type, time;
	proto_id_result *results;
	size_t n_results;
} proto_strategy_result;

typedef struct proto_strategy_list { /* §5, type 7 query result */
	bool has_type, has_time, has_total_strategy, has_strategies;
	const char *cid;
	int64_t type, time, total_strategy;
	proto_strategy *strategies;
	size_t n_strategies;
} proto_strategy_list;

/* seq + errcode confirmations: reupload (8), config (10), facelog (11),
 * control (12).  seq is absent when the command's seq was unreadable. */
typedef struct proto_ack {
	bool has_seq, has_errcode;
	int64_t seq, errcode;
} proto_ack;

typedef struct proto_ack_msg {
	bool has_type, has_time, has_ack;
	const char *cid;
	int64_t type, time;
	proto_ack ack; /* under "reupload", "config", "facelog" or "control" */
} proto_ack_msg;

typedef struct proto_reupload_state {
	bool has_mode, has_recordes_num;
	const char *reupload_time; /* "hh:mm:ss" */
	int64_t mode;
	int64_t recordes_num; /* spelled so by the protocol */
} proto_reupload_state;

typedef struct proto_reupload_settings { /* §6, type 8 query result */
	bool has_type, has_time, has_reupload;
	const char *cid;
	int64_t type, time;
	proto_reupload_state reupload;
} proto_reupload_settings;

typedef struct proto_batch_item_result {
	bool has_oper_type, has_result;
	int64_t oper_type;
	const char *id;
	int64_t result; /* 0..6, §7 */
} proto_batch_item_result;

typedef struct proto_batch_result { /* §7, type 9 */
	bool has_type, has_time, has_facelib_batch, has_results;
	const char *cid;
	int64_t type, time;
	proto_batch_item_result *results;
	size_t n_results;
} proto_batch_result;

typedef struct proto_config_report { /* §9, type 10 query result */
	bool has_type, has_time, has_config;
	const char *cid;
	int64_t type, time;
	proto_config config;
} proto_config_report;

typedef struct proto_alarm { /* §13: no type, no cid */
	bool has_alarm, has_seq, has_time, has_alarmtype;
	int64_t seq, time, alarmtype;
	const char *alarmdata;
	const char *cid; /* camsim extension, see docs/protocol.md */
} proto_alarm;

/* ---- server -> device ---- */

typedef struct proto_face { /* §4 facelib add/modify "face" */
	bool has_age, has_strategy_id, has_image;
	const char *id;   /* <= 35 */
	const char *name; /* <= 35 here */
	int64_t age;
	const char *sex;
	const char **image; /* base64 pictures */
	size_t n_image;
	int64_t strategy_id;
	const char *card_no; /* <= 63 here */
} proto_face;

typedef struct proto_facelib_cmd { /* §4 facelib_manage, types 1 3 4 5 */
	bool has_type, has_seq, has_face;
	int64_t type; /* 1 add/modify, 3 delete ids, 4 delete all, 5 query */
	int64_t seq;
	proto_face face;        /* type 1 */
	const char *person_ids; /* type 3: "id1,id2", up to 20 */
} proto_facelib_cmd;

typedef struct proto_strategy_cmd { /* §5 strategy_manage */
	bool has_oper_type, has_strategies;
	int64_t oper_type; /* 2 = query; absent on delivery */
	proto_strategy *strategies;
	size_t n_strategies;
} proto_strategy_cmd;

typedef struct proto_reupload_cmd { /* §6 reupload, type 1 set, 2 query */
	bool has_type, has_seq, has_mode;
	int64_t type, seq;
	const char *reupload_time;
	int64_t mode; /* 1 scheduled, 2 idle */
} proto_reupload_cmd;

typedef struct proto_batch_person { /* §7 personList item */
	bool has_oper_type, has_age, has_strategy_id;
	int64_t oper_type; /* 1 add or modify, 3 delete */
	const char *id, *card_no, *name;
	int64_t age;
	const char *sex;
	int64_t strategy_id;
	const char *image; /* one base64 string, no array here */
} proto_batch_person;

typedef struct proto_batch_cmd { /* §7 facelib_batch */
	bool has_persons;
	proto_batch_person *persons;
	size_t n_persons;
} proto_batch_cmd;

typedef struct proto_upgrade_cmd { /* §8 fw_upgrade */
	const char *version;
	const char *download_url;
} proto_upgrade_cmd;

typedef struct proto_config_cmd { /* §9 config, opType 0 set, 1 query */
	bool has_op_type, has_seq;
	int64_t op_type, seq;
	proto_config cfg;
} proto_config_cmd;

typedef struct proto_op_cmd { /* §10 facelog, §12 control: opType + seq */
	bool has_op_type, has_seq;
	int64_t op_type, seq;
} proto_op_cmd;

typedef struct proto_time_set { /* §3.3 */
	bool has_time_stamp, has_time_zone;
	int64_t time_stamp; /* UTC seconds */
	int64_t time_zone;  /* seconds east of UTC */
} proto_time_set;

/* One 200 reply body: any subset of the commands, applied by the device in
 * the order of the members below (docs/protocol.md, "Applying a reply"). */
typedef struct proto_reply {
	bool has_http_server_port, has_time_interval, has_time_set,
		has_config, has_strategy, has_facelib, has_batch, has_reupload,
		has_facelog, has_control, has_upgrade, has_reboot;
	proto_time_set time_set;
	const char *http_server_url;
	int64_t http_server_port;
	int64_t time_interval; /* seconds */
	proto_config_cmd config;
	proto_strategy_cmd strategy;
	proto_facelib_cmd facelib;
	proto_batch_cmd batch;
	proto_reupload_cmd reupload;
	proto_op_cmd facelog;
	proto_op_cmd control;
	proto_upgrade_cmd upgrade;
	int64_t reboot;
} proto_reply;

/* One message of any kind. */
typedef struct proto_msg {
	proto_kind kind;
	union {
		proto_snapshot snapshot;
		proto_heartbeat heartbeat; /* HEARTBEAT, UPGRADE_RESULT */
		proto_face_list face_list;
		proto_strategy_result strategy_result;
		proto_strategy_list strategy_list;
		proto_ack_msg ack; /* REUPLOAD_RESULT, CONFIG_RESULT,
				      LOG_RESULT, CONTROL_RESULT */
		proto_reupload_settings reupload_settings;
		proto_batch_result batch_result;
		proto_config_report config_report;
		proto_alarm alarm;
		proto_reply reply;
	} u;
} proto_msg;

/* ---------------------------------------------------------------- codec */

/* Which kind of message json is, looking only at its shape ("type", the
 * "alarm" key, the inner objects of type 7, 8 and 10).  dir narrows the
 * choice; PROTO_ANY guesses TO_SERVER when the object carries "type",
 * "cid" or "alarm", TO_DEVICE otherwise.  PROTO_KIND_NONE when json is not
 * an object or its type is not one of V1.16's. */
proto_kind proto_detect(const cJSON *json, proto_dir dir);

/* Decodes json into out (zeroed first) and appends every violation of
 * the protocol to rep (may be NULL).  Fields that break a rule are left
 * absent in out; strings and arrays are allocated from a.
 * Returns 0 when no MUST rule is broken, PROTO_EBADMSG when one is,
 * PROTO_EUNKNOWN when the kind cannot be told (out->kind is NONE, rep says
 * why), PROTO_ENOMEM.  Never reads outside json; bounded by its size. */
int proto_decode(const cJSON *json, proto_dir dir, const proto_profile *prof,
		 proto_arena *a, proto_msg *out, proto_report *rep);

/* proto_json_parse + proto_decode.  On failure err holds one sentence: the
 * JSON error, or the first MUST violation with its rule id and path. */
int proto_parse(const char *buf, size_t len, proto_dir dir,
		const proto_profile *prof, proto_arena *a, proto_msg *out,
		char *err, size_t errlen);

/* Builds the JSON of m, writing only present fields, in the document's
 * key order, numbers in their shortest round-trip form (confidence per the
 * profile).  Returns a tree to cJSON_Delete, or NULL when out of memory or
 * m->kind is NONE.  m is not validated: a caller that wants to know runs
 * proto_decode on the result. */
cJSON *proto_encode(const proto_msg *m, const proto_profile *prof);

/* proto_encode, printed compactly; free with free().  NULL on ENOMEM. */
char *proto_build(const proto_msg *m, const proto_profile *prof);

/* True when a and b hold the same message (same kind, same present fields,
 * same values; doubles compared exactly). */
bool proto_msg_equal(const proto_msg *a, const proto_msg *b);

/* ---------------------------------------------------------------- rules */

typedef struct proto_rule_info {
	const char *id;      /* "heartbeat.seq.required" */
	proto_severity sev;
	const char *section; /* "§2 Heartbeat command" */
	const char *text;    /* what the rule asks */
} proto_rule_info;

/* Called once per rule with r valid only during the call (its strings
 * may live in a static buffer) and ud as given. */
typedef void (*proto_rule_cb)(const proto_rule_info *r, void *ud);

/* Calls fn for every rule the validator can report, in a stable order
 * (messages in PROTO_KIND_MAP order, fields in document order).  Rules
 * whose text is built on the fly use a static buffer: copy what you keep.
 * Returns the number of rules. */
size_t proto_rules_foreach(proto_rule_cb fn, void *ud);

/* ---------------------------------------------------------------- formats */

/* The value checks the validator uses, exposed for the device and the
 * mock (which must judge the same way).  Each returns 0 when s is valid,
 * 1 when valid only leniently (unpadded: "2019/6/30", "8:59:00"), -1 when
 * invalid; lenient forms are accepted only when allow_lenient. */
int proto_fmt_date(const char *s, bool allow_lenient, int *y, int *m, int *d);
int proto_fmt_hms(const char *s, bool allow_lenient, int *secs);

/* Counts the entries of a comma list; *bad gets the 1-based index of the
 * first empty entry (0 when none). */
size_t proto_list_count(const char *s, size_t *bad);

/* Text that came from a device, a server or a file, made safe to print on
 * a terminal or into a log line: every character a terminal acts on is
 * written as a visible escape -- \n \r \t as those two characters, the
 * other C0 controls and DEL as \xNN, the C1 controls (U+0080..U+009F) as
 * \u00NN -- and a byte that is not valid UTF-8 as \xNN; a backslash
 * stays as it is.  With keep_nl, '\n' is kept (text whose lines camsim
 * made itself).  Writes at most outlen - 1 bytes and a NUL (nothing when
 * outlen is 0), never cutting an escape or a character in two; returns
 * the length the whole result needs, as snprintf does.  s may be NULL
 * (""); n is its length in bytes. */
size_t proto_esc_text(char *out, size_t outlen, const char *s, size_t n,
		      bool keep_nl);
/* proto_esc_text of a NUL-terminated s into a malloc'd string, or NULL
 * when out of memory. */
char *proto_esc_dup(const char *s, bool keep_nl);

#endif
