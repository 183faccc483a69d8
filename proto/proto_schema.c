/* proto_schema.c -- every message of V1.16 described once: keys, types,
 * requiredness, ranges, lengths, formats and cross-field rules, with the
 * spec section each comes from.  Data only, plus the cross-field checkers;
 * the walking is done by proto_decode.c and proto_encode.c. */
#include "proto_int.h"
#include "base.h"

#include <string.h>

#define EN(v) (1u << (v))
#define EN2(a, b) (EN(a) | EN(b))
#define EN3(a, b, c) (EN2(a, b) | EN(c))
#define RANGE(l, h) .ranged = true, .lo = (l), .hi = (h)
/* a seq comes back in a heartbeat, whose seq is a non-negative int */
#define SEQR RANGE(0, 9007199254740991.0), .flags = FL_OWN

#define FI(S, k, m, r, ...)                                                   \
	{.key = k, .type = PT_INT, .req = r, .off = offsetof(S, m),           \
	 .has_off = offsetof(S, has_##m), __VA_ARGS__}
#define FN(S, k, m, r, ...)                                                   \
	{.key = k, .type = PT_NUM, .req = r, .off = offsetof(S, m),           \
	 .has_off = offsetof(S, has_##m), __VA_ARGS__}
#define FS(S, k, m, r, ...)                                                   \
	{.key = k, .type = PT_STR, .req = r, .off = offsetof(S, m),           \
	 .has_off = HAS_NONE, __VA_ARGS__}
#define FO(S, k, m, r, sb, ...)                                               \
	{.key = k, .type = PT_OBJ, .req = r, .off = offsetof(S, m),           \
	 .has_off = offsetof(S, has_##m), .sub = &(sb), __VA_ARGS__}
/* an object member whose has_ flag is named explicitly (nested members) */
#define FOH(S, k, m, h, r, sb, ...)                                           \
	{.key = k, .type = PT_OBJ, .req = r, .off = offsetof(S, m),           \
	 .has_off = offsetof(S, h), .sub = &(sb), __VA_ARGS__}
/* an object whose members live in the enclosing struct */
#define FOI(S, k, h, r, sb, ...)                                              \
	{.key = k, .type = PT_OBJ, .req = r, .off = 0,                        \
	 .has_off = offsetof(S, h), .sub = &(sb), __VA_ARGS__}
#define FA(S, k, m, r, sb, ...)                                               \
	{.key = k, .type = PT_ARR_OBJ, .req = r, .off = offsetof(S, m),       \
	 .has_off = offsetof(S, has_##m), .cnt_off = offsetof(S, n_##m),     \
	 .esz = sizeof *((S *)0)->m, .sub = &(sb), __VA_ARGS__}
#define FAS(S, k, m, r, ...)                                                  \
	{.key = k, .type = PT_ARR_STR, .req = r, .off = offsetof(S, m),       \
	 .has_off = offsetof(S, has_##m), .cnt_off = offsetof(S, n_##m),     \
	 __VA_ARGS__}
#define FV(S, k, m, r, selkey, v, absent, ...)                                \
	{.key = k, .type = PT_VARIANT, .req = r, .off = offsetof(S, m),       \
	 .has_off = offsetof(S, has_##m), .sel = selkey, .vars = v,          \
	 .sel_absent = absent, __VA_ARGS__}

#define SCHEMA(var, nm, sect, fields, ...)                                    \
	const proto_schema var = {.name = nm, .section = sect, .f = fields,   \
				  .nf = ARRAY_SIZE(fields),                   \
				  __VA_ARGS__}
#define XRULES(xs, fn) .x = xs, .nx = ARRAY_SIZE(xs), .check = fn

#define S_HB "§2 Heartbeat command"
#define S_URL "§3.1 Config http server address and port"
#define S_INT "§3.2 Config heartbeat period"
#define S_TIME "§3.3 Config tablet camera time"
#define S_FQ "§4 Search face database"
#define S_FADD "§4 Add or modify"
#define S_FDEL "§4 Delete face database"
#define S_SNAP "§4 Snap to upload picture information"
#define S_STR "§5 Pass strategy"
#define S_REUP "§6 Pass record failure timing retransmission"
#define S_BATCH "§7 Person Batch Import"
#define S_UPG "§8 Software upgrade push"
#define S_CFG "§9 Parameter configuration"
#define S_LOG "§10 Log operations"
#define S_BOOT "§11 Tablet camera reboot"
#define S_CTL "§12 Tablet camera control instruction"
#define S_ALARM "§13 Alarm report"

/* ================================================================ shared */

static const proto_field f_rule[] = {
	FI(proto_rule, "ruleId", rule_id, PQ_MUST, RANGE(0, 2147483647),
	   .flags = FL_OWN, .what = "Rule id"),
	FS(proto_rule, "begDate", beg_date, PQ_MUST, .fmt = PX_DATE,
	   .what = "Start date, format 2019/01/01"),
	FS(proto_rule, "endDate", end_date, PQ_MUST, .fmt = PX_DATE,
	   .what = "End date, format 2019/11/11"),
	FS(proto_rule, "timeRange", time_range, PQ_MUST, .fmt = PX_RANGES,
	   .what = "Time ranges hh:mm:ss-hh:mm:ss joined by ',' (up to 16)"),
	FS(proto_rule, "week", week, PQ_MUST, .fmt = PX_WEEK,
	   .what = "Weekdays 1-7 joined by ',' (7 means Sunday)"),
	FI(proto_rule, "type", type, PQ_MUST, .en = EN2(0, 1),
	   .what = "1 allow, 0 not allowed within the rule"),
};

static const proto_xrule x_rule[] = {
	{"strategy_rule.endDate.order", PROTO_MUST,
	 "endDate is not earlier than begDate (a rule whose dates are "
	 "reversed never applies)"},
};

static void check_rule(proto_vctx *v, const void *obj, const cJSON *json);

static SCHEMA(s_rule, "strategy_rule", S_STR, f_rule, XRULES(x_rule, check_rule));

static const proto_field f_strategy[] = {
	FI(proto_strategy, "strategyId", strategy_id, PQ_MUST, RANGE(0, 2147483647), .flags = FL_OWN,
	   .what = "The unique ID of the strategy"),
	FS(proto_strategy, "name", name, PQ_SHOULD, .max = 31,
	   .what = "Strategy name (max 31)"),
	FI(proto_strategy, "state", state, PQ_MUST, .en = EN2(0, 1),
	   .what = "Strategy status: 1 open, 0 close"),
	FA(proto_strategy, "strategyRuleList", rules, PQ_MUST, s_rule, .max = 16,
	   .what = "The time rules of the strategy (maximum 16)"),
};

static const proto_xrule x_strategy[] = {
	{"strategy.strategyId.reserved", PROTO_SHOULD,
	 "strategyId 0 is reserved for 'not restricted'; a strategy with id "
	 "0 is refused by the device (result 1)"},
	{"strategy.strategyRuleList.duplicate_id", PROTO_SHOULD,
	 "ruleIds are unique within a strategy"},
};

static void check_strategy(proto_vctx *v, const void *obj, const cJSON *json);

static SCHEMA(s_strategy, "strategy", S_STR, f_strategy,
       XRULES(x_strategy, check_strategy));

/* §9 groups.  Every field is optional when setting; FL_DEEP makes them all
 * required in the query result. */
static const proto_field f_face_rec[] = {
	FI(proto_face_rec, "enable", enable, PQ_OPT, .en = EN2(0, 1),
	   .what = "Face recognition switch: 0 close, 1 on"),
	FI(proto_face_rec, "voice", voice, PQ_OPT, .en = EN3(0, 1, 2),
	   .what = "Voice broadcast: 0 none, 1 full, 2 abnormal only"),
	FI(proto_face_rec, "relay", relay, PQ_OPT, .en = EN2(0, 1),
	   .what = "Relay association: 1 open the door only when authorized"),
	FN(proto_face_rec, "liveness", liveness, PQ_OPT, RANGE(0, 1),
	   .what = "Liveness threshold (0-1)"),
	FN(proto_face_rec, "score", score, PQ_OPT, RANGE(0, 100),
	   .fmt = PX_PERCENT, .what = "Recognition score threshold (0-100)"),
	FI(proto_face_rec, "times", times, PQ_OPT, RANGE(1, 10),
	   .what = "Attempts before a stranger is declared (1-10)"),
	FI(proto_face_rec, "distance", distance, PQ_OPT, RANGE(0, 4),
	   .what = "Recognition distance: 0 0.5 m .. 4 2.5 m"),
	FI(proto_face_rec, "face_expos", face_expos, PQ_OPT, RANGE(0, 100),
	   .what = "Face exposure threshold (0-100)"),
};
static SCHEMA(s_face_rec, "config.face_rec", S_CFG, f_face_rec);

static const proto_field f_face_cap[] = {
	FI(proto_face_cap, "interval", interval, PQ_OPT, RANGE(1, 86400), .flags = FL_OWN,
	   .what = "Interval between captures, seconds"),
	FN(proto_face_cap, "goodness", goodness, PQ_OPT, RANGE(0, 1),
	   .what = "Capture quality (0-1)"),
	FN(proto_face_cap, "blur", blur, PQ_OPT, RANGE(0, 1),
	   .what = "Capture blur (0-1)"),
	FI(proto_face_cap, "time_overlay", time_overlay, PQ_OPT, .en = EN2(0, 1),
	   .what = "Time drawn on the snapshot: 0 no, 1 yes"),
	FI(proto_face_cap, "upload_mode", upload_mode, PQ_OPT, .en = EN2(1, 2),
	   .what = "1 upload library persons only, 2 also strangers"),
};
static SCHEMA(s_face_cap, "config.face_cap", S_CFG, f_face_cap);

static const proto_field f_facemask[] = {
	FI(proto_facemask, "enable", enable, PQ_OPT, .en = EN2(0, 1),
	   .what = "Mask detection switch"),
	FI(proto_facemask, "mode", mode, PQ_OPT, .en = EN2(0, 1),
	   .what = "0 epidemic mode (mask required), 1 non-epidemic mode"),
	FI(proto_facemask, "voice", voice, PQ_OPT, .en = EN2(0, 1),
	   .what = "Voice broadcast: 0 none, 1 abnormal"),
	FI(proto_facemask, "relay", relay, PQ_OPT, .en = EN2(0, 1),
	   .what = "1: a mask violation does not open the door"),
	FI(proto_facemask, "environment", environment, PQ_OPT, .en = EN2(0, 1),
	   .flags = FL_NODEEP,
	   .what = "Printed in §9's facemask example only; belongs to temperature"),
};

static const proto_xrule x_facemask[] = {
	{"config.facemask.environment.misplaced", PROTO_SHOULD,
	 "environment belongs to the temperature group (§9 table); the "
	 "device applies it there"},
};

static void check_facemask(proto_vctx *v, const void *obj, const cJSON *json);

static SCHEMA(s_facemask, "config.facemask", S_CFG, f_facemask,
       XRULES(x_facemask, check_facemask));

static const proto_field f_temperature[] = {
	FI(proto_temperature, "enable", enable, PQ_OPT, .en = EN2(0, 1),
	   .what = "Body temperature detection switch"),
	FN(proto_temperature, "high_threshold", high_threshold, PQ_OPT,
	   RANGE(30, 45), .flags = FL_OWN,
	   .what = "High temperature threshold, Celsius"),
	FI(proto_temperature, "voice", voice, PQ_OPT, .en = EN3(0, 1, 2),
	   .what = "0 none, 1 exceptions only, 2 value and exceptions"),
	FI(proto_temperature, "relay", relay, PQ_OPT, .en = EN2(0, 1),
	   .what = "1: an abnormal temperature does not open the door"),
	FN(proto_temperature, "offset", offset, PQ_OPT, RANGE(-10, 10), .flags = FL_OWN,
	   .what = "Temperature compensation, Celsius"),
	FI(proto_temperature, "unit", unit, PQ_OPT, .en = EN2(0, 1),
	   .what = "0 Celsius, 1 Fahrenheit"),
	FI(proto_temperature, "environment", environment, PQ_OPT, .en = EN2(0, 1),
	   .what = "0 indoor, 1 outdoor"),
};
static SCHEMA(s_temperature, "config.temperature", S_CFG, f_temperature);

static const proto_field f_relay_cfg[] = {
	FI(proto_relay_cfg, "duration", duration, PQ_OPT, RANGE(1, 100),
	   .what = "Relay signal duration, 100 ms units (1-100)"),
	FI(proto_relay_cfg, "state", state, PQ_OPT, .en = EN2(0, 1),
	   .what = "0 closes on a normal pass, 1 on an abnormal one"),
};
static SCHEMA(s_relay_cfg, "config.relay", S_CFG, f_relay_cfg);

static const proto_field f_misc[] = {
	FI(proto_misc, "version", version, PQ_OPT, RANGE(0, 2147483647), .flags = FL_OWN,
	   .what = "Configuration version (query only)"),
};
static SCHEMA(s_misc, "config.misc", S_CFG, f_misc);

#define CONFIG_GROUPS(S, P)                                                   \
	FOH(S, "face_rec", P face_rec, P has_face_rec, PQ_OPT, s_face_rec,    \
	    .what = "Face recognition configuration"),                        \
	FOH(S, "face_cap", P face_cap, P has_face_cap, PQ_OPT, s_face_cap,    \
	    .what = "Capture"),                                               \
	FOH(S, "facemask", P facemask, P has_facemask, PQ_OPT, s_facemask,    \
	    .what = "Mask"),                                                  \
	FOH(S, "temperature", P temperature, P has_temperature, PQ_OPT,       \
	    s_temperature, .what = "Body temperature"),                       \
	FOH(S, "relay", P relay, P has_relay, PQ_OPT, s_relay_cfg,            \
	    .what = "Relay")

/* ======================================================= device -> server */

static const proto_field f_heartbeat[] = {
	FS(proto_heartbeat, "app_version", app_version, PQ_MUST,
	   .fmt = PX_VERSION, .max = 63, .what = "Tablet camera version"),
	FS(proto_heartbeat, "cid", cid, PQ_MUST, .fmt = PX_CID,
	   .what = "Tablet camera identification number"),
	FI(proto_heartbeat, "seq", seq, PQ_MUST, RANGE(0, 9007199254740991.0), .flags = FL_OWN,
	   .what = "The sending time of the heartbeat, or the seq of the last "
		   "successful face database operation"),
	FI(proto_heartbeat, "uptime", uptime, PQ_MUST, .fmt = PX_UTC,
	   .what = "UTC time of this boot"),
	FI(proto_heartbeat, "type", type, PQ_MUST, .en = EN(3),
	   .what = "Heartbeat protocol type=3"),
};
static SCHEMA(s_heartbeat, "heartbeat", S_HB, f_heartbeat);

static const proto_field f_upgrade_result[] = {
	FS(proto_heartbeat, "app_version", app_version, PQ_MUST,
	   .fmt = PX_VERSION, .max = 63, .what = "Tablet camera version"),
	FS(proto_heartbeat, "cid", cid, PQ_MUST, .fmt = PX_CID,
	   .what = "Tablet camera identification number"),
	FI(proto_heartbeat, "seq", seq, PQ_MUST, RANGE(0, 9007199254740991.0), .flags = FL_OWN,
	   .what = "As in the heartbeat"),
	FI(proto_heartbeat, "uptime", uptime, PQ_MUST, .fmt = PX_UTC,
	   .what = "UTC time of this boot"),
	FI(proto_heartbeat, "type", type, PQ_MUST, .en = EN(6),
	   .what = "Update reply message type=6"),
	FI(proto_heartbeat, "error", error, PQ_MUST, RANGE(1, 6),
	   .what = "1 server unreachable, 2 cannot get file, 3 file too large, "
		   "4 connection interrupted, 5 file does not match, 6 ready "
		   "to restart"),
};
static SCHEMA(s_upgrade_result, "upgrade_result", S_UPG, f_upgrade_result);

#define DEV_HDR(S, T, sect)                                                   \
	FS(S, "cid", cid, PQ_MUST, .fmt = PX_CID,                             \
	   .what = "Tablet camera identification number"),                   \
	FI(S, "type", type, PQ_MUST, .en = EN(T), .what = "type=" #T),        \
	FI(S, "time", time, PQ_MUST, .fmt = PX_UTC,                           \
	   .what = "UTC time this message was sent")

static const proto_field f_snap_result[] = {
	FS(proto_snap_result, "person_id", person_id, PQ_OPT, .max = 35,
	   .what = "Person ID, maximum length 35 bytes"),
	FS(proto_snap_result, "person_name", person_name, PQ_OPT, .max = 63,
	   .what = "Person's name, maximum length 63 bytes"),
	FI(proto_snap_result, "age", age, PQ_OPT, RANGE(0, 150), .flags = FL_OWN,
	   .what = "Person's age"),
	FS(proto_snap_result, "sex", sex, PQ_OPT, .fmt = PX_SEX,
	   .flags = FL_QSEX, .what = "Person's gender, female/male"),
	FN(proto_snap_result, "confidence", confidence, PQ_MUST, RANGE(0, 1),
	   .flags = FL_QF32, .what = "Similarity, 0 if not matched"),
	FI(proto_snap_result, "person_type", person_type, PQ_MUST,
	   .en = EN3(0, 1, 2),
	   .what = "0 comparison failed, 1 passed, 2 interval capture"),
	FN(proto_snap_result, "temperature", temperature, PQ_OPT, RANGE(0, 120), .flags = FL_OWN,
	   .fmt = PX_DECI, .what = "Temperature (one decimal place)"),
	FI(proto_snap_result, "facemask", facemask, PQ_OPT, .en = EN2(0, 1),
	   .what = "0 no mask, 1 mask"),
};

static const proto_xrule x_snap_result[] = {
	{"snapshot.result.person_id.passed", PROTO_MUST,
	 "a passed record (person_type 1) names the matched person in "
	 "person_id"},
	{"snapshot.result.confidence.unmatched", PROTO_SHOULD,
	 "confidence is 0 when nobody matched (person_type 0 without "
	 "person_id)"},
};

static void check_snap_result(proto_vctx *v, const void *obj, const cJSON *json);

static SCHEMA(s_snap_result, "snapshot.result", S_SNAP, f_snap_result,
	      XRULES(x_snap_result, check_snap_result));

static const proto_field f_snapshot[] = {
	DEV_HDR(proto_snapshot, 1, S_SNAP),
	FAS(proto_snapshot, "faces", faces, PQ_MUST, .fmt = PX_BASE64,
	    .min_items = 1, .what = "Snapshot pictures, base64"),
	FO(proto_snapshot, "result", result, PQ_MUST, s_snap_result,
	   .what = "Recognition result"),
};
static SCHEMA(s_snapshot, "snapshot", S_SNAP, f_snapshot);

static const proto_field f_person[] = {
	FS(proto_person, "person_id", person_id, PQ_MUST, .max = 35, .fmt = PX_ID,
	   .what = "Person ID, maximum length 35 bytes"),
	FS(proto_person, "person_name", person_name, PQ_OPT, .max = 63,
	   .what = "Person's name, maximum length 63 bytes"),
	FI(proto_person, "age", age, PQ_OPT, RANGE(0, 150), .flags = FL_OWN, .what = "Age"),
	FS(proto_person, "sex", sex, PQ_OPT, .fmt = PX_SEX,
	   .what = "female/male"),
	FI(proto_person, "strategyId", strategy_id, PQ_OPT,
	   RANGE(0, 2147483647), .flags = FL_OWN, .what = "Personnel strategy id"),
	FS(proto_person, "cardNo", card_no, PQ_OPT, .max = 35,
	   .what = "Card ID, maximum length 35 bytes"),
};
static SCHEMA(s_person, "face_list.face", S_FQ, f_person);

static const proto_field f_face_list[] = {
	DEV_HDR(proto_face_list, 4, S_FQ),
	FI(proto_face_list, "total_face", total_face, PQ_MUST,
	   RANGE(0, 2147483647), .flags = FL_OWN, .what = "Number of query results"),
	FA(proto_face_list, "face", face, PQ_MUST, s_person,
	   .what = "The persons of the face database"),
};

static const proto_xrule x_face_list[] = {
	{"face_list.total_face.count", PROTO_MUST,
	 "total_face equals the number of entries in face"},
};

static void check_face_list(proto_vctx *v, const void *obj, const cJSON *json);

static SCHEMA(s_face_list, "face_list", S_FQ, f_face_list,
	      XRULES(x_face_list, check_face_list));

static const proto_field f_id_result[] = {
	FI(proto_id_result, "strategyId", strategy_id, PQ_MUST,
	   RANGE(0, 2147483647), .flags = FL_OWN, .what = "The strategy"),
	FI(proto_id_result, "result", result, PQ_MUST, .en = EN2(0, 1),
	   .what = "0 ok, 1 fail"),
};
static SCHEMA(s_id_result, "strategy_result.strategy_manage.resultList", S_STR,
	      f_id_result);

static const proto_field f_strategy_result_inner[] = {
	FA(proto_strategy_result, "resultList", results, PQ_MUST, s_id_result,
	   .max = 16, .what = "One result per delivered strategy"),
};
static SCHEMA(s_strategy_result_inner, "strategy_result.strategy_manage", S_STR,
	      f_strategy_result_inner);

static const proto_field f_strategy_result[] = {
	DEV_HDR(proto_strategy_result, 7, S_STR),
	FOI(proto_strategy_result, "strategy_manage", has_strategy_manage,
	    PQ_MUST, s_strategy_result_inner, .what = "Fixed field"),
};
static SCHEMA(s_strategy_result, "strategy_result", S_STR, f_strategy_result);

static const proto_field f_strategy_list[] = {
	DEV_HDR(proto_strategy_list, 7, S_STR),
	FI(proto_strategy_list, "total_strategy", total_strategy, PQ_MUST,
	   RANGE(0, 16), .what = "Strategy quantity"),
	FA(proto_strategy_list, "strategyList", strategies, PQ_MUST,
	   s_strategy, .max = 16, .what = "Strategy list"),
};

static const proto_xrule x_strategy_list[] = {
	{"strategy_list.total_strategy.count", PROTO_MUST,
	 "total_strategy equals the number of entries in strategyList"},
};

static void check_strategy_list(proto_vctx *v, const void *obj,
				const cJSON *json);

static SCHEMA(s_strategy_list, "strategy_list", S_STR, f_strategy_list,
	      XRULES(x_strategy_list, check_strategy_list));

#define ACK_SCHEMAS(var, name, key, T, sect, errs, errtext)                   \
	static const proto_field f_##var##_ack[] = {                          \
		FI(proto_ack, "seq", seq, PQ_OPT,                             \
		   .what = "The delivered seq; absent when it could not be "  \
			   "read"),                                           \
		FI(proto_ack, "errcode", errcode, PQ_MUST, .en = errs,        \
		   .what = errtext),                                          \
	};                                                                    \
	static SCHEMA(s_##var##_ack, name "." key, sect, f_##var##_ack);      \
	static const proto_field f_##var[] = {                                \
		DEV_HDR(proto_ack_msg, T, sect),                              \
		FO(proto_ack_msg, key, ack, PQ_MUST, s_##var##_ack,           \
		   .what = "Fixed field"),                                    \
	};                                                                    \
	static SCHEMA(s_##var, name, sect, f_##var)

ACK_SCHEMAS(reupload_result, "reupload_result", "reupload", 8, S_REUP,
	    EN2(0, 1), "0 success, 1 parameter error");
ACK_SCHEMAS(config_result, "config_result", "config", 10, S_CFG,
	    EN3(0, 1, 2), "0 success, 1 incoming error, 2 configuration failed");
ACK_SCHEMAS(log_result, "log_result", "facelog", 11, S_LOG, EN3(0, 1, 2),
	    "0 success, 1 input error, 2 failed");
ACK_SCHEMAS(control_result, "control_result", "control", 12, S_CTL,
	    EN3(0, 1, 2), "0 success, 1 input error, 2 failed");

static const proto_field f_reupload_state[] = {
	FS(proto_reupload_state, "reupload_time", reupload_time, PQ_MUST,
	   .fmt = PX_HMS, .what = "Scheduled retransmission time, h:m:s"),
	FI(proto_reupload_state, "mode", mode, PQ_MUST, .fmt = PX_REUPMODE,
	   .what = "1 scheduled, 2 idle (§7's table: 3 and 4)"),
	FI(proto_reupload_state, "recordes_num", recordes_num, PQ_MUST,
	   RANGE(0, 2000), .what = "Records kept for retransmission (<= 2000)"),
};
static SCHEMA(s_reupload_state, "reupload_settings.reupload", S_REUP,
	      f_reupload_state);

static const proto_field f_reupload_settings[] = {
	DEV_HDR(proto_reupload_settings, 8, S_REUP),
	FO(proto_reupload_settings, "reupload", reupload, PQ_MUST,
	   s_reupload_state, .what = "Fixed field"),
};
static SCHEMA(s_reupload_settings, "reupload_settings", S_REUP,
	      f_reupload_settings);

static const proto_field f_batch_item_result[] = {
	FI(proto_batch_item_result, "operType", oper_type, PQ_MUST,
	   .en = EN2(1, 3), .what = "1 add or modify, 3 delete"),
	FS(proto_batch_item_result, "id", id, PQ_MUST, .max = 35,
	   .what = "Person id"),
	FI(proto_batch_item_result, "result", result, PQ_MUST, RANGE(0, 6),
	   .what = "0 success, 1 failed, 2 wrong parameter, 3 wrong picture, "
		   "4 library full, 5 timeout, 6 busy"),
};
static SCHEMA(s_batch_item_result, "batch_result.facelib_batch.resultList", S_BATCH,
	      f_batch_item_result);

static const proto_field f_batch_result_inner[] = {
	FA(proto_batch_result, "resultList", results, PQ_MUST,
	   s_batch_item_result, .max = 20, .what = "Operation result list"),
};
static SCHEMA(s_batch_result_inner, "batch_result.facelib_batch", S_BATCH,
	      f_batch_result_inner);

static const proto_field f_batch_result[] = {
	DEV_HDR(proto_batch_result, 9, S_BATCH),
	FOI(proto_batch_result, "facelib_batch", has_facelib_batch, PQ_MUST,
	    s_batch_result_inner, .what = "Fixed field"),
};
static SCHEMA(s_batch_result, "batch_result", S_BATCH, f_batch_result);

static const proto_field f_config_values[] = {
	CONFIG_GROUPS(proto_config, ),
	FO(proto_config, "misc", misc, PQ_OPT, s_misc,
	   .what = "Miscellaneous (version)"),
};
static SCHEMA(s_config_values, "config_report.config", S_CFG,
	      f_config_values);

static const proto_field f_config_report[] = {
	DEV_HDR(proto_config_report, 10, S_CFG),
	FO(proto_config_report, "config", config, PQ_MUST, s_config_values,
	   .flags = FL_DEEP, .what = "The full configuration"),
};
static SCHEMA(s_config_report, "config_report", S_CFG, f_config_report);

static const proto_field f_alarm_inner[] = {
	FI(proto_alarm, "seq", seq, PQ_MUST, .what = "Operation sequence number"),
	FI(proto_alarm, "time", time, PQ_MUST, .fmt = PX_UTC,
	   .what = "Timestamp"),
	FI(proto_alarm, "alarmtype", alarmtype, PQ_MUST, .en = EN(1),
	   .what = "1 door sensor alarm"),
	FS(proto_alarm, "alarmdata", alarmdata, PQ_OPT, .max = 1024,
	   .what = "Reserved"),
};
static SCHEMA(s_alarm_inner, "alarm.alarm", S_ALARM, f_alarm_inner);

static const proto_field f_alarm[] = {
	FOI(proto_alarm, "alarm", has_alarm, PQ_MUST, s_alarm_inner,
	    .what = "Fixed field"),
	FS(proto_alarm, "cid", cid, PQ_OPT, .fmt = PX_CID,
	   .what = "camsim extension: the device, which §13 does not name"),
};
static SCHEMA(s_alarm, "alarm", S_ALARM, f_alarm);

/* ======================================================= server -> device */

static const proto_field f_time_set[] = {
	FI(proto_time_set, "time_stamp", time_stamp, PQ_MUST, .fmt = PX_UTC,
	   .what = "The server set UTC time, s"),
	FI(proto_time_set, "time_zone", time_zone, PQ_MUST, .fmt = PX_TZ,
	   RANGE(-43200, 50400), .flags = FL_OWN,
	   .what = "The server set time zone, s"),
};
static SCHEMA(s_time_set, "time_set", S_TIME, f_time_set);

static const proto_field f_face[] = {
	FS(proto_face, "id", id, PQ_MUST, .max = 35, .fmt = PX_ID,
	   .what = "Person id: modified when it exists, otherwise added"),
	FS(proto_face, "name", name, PQ_OPT, .max = 35,
	   .what = "Person's name, maximum length 35 bytes"),
	FI(proto_face, "age", age, PQ_OPT, RANGE(0, 150), .flags = FL_OWN, .what = "Age"),
	FS(proto_face, "sex", sex, PQ_OPT, .fmt = PX_SEX,
	   .what = "\"male\", \"female\""),
	FAS(proto_face, "image", image, PQ_OPT, .fmt = PX_BASE64,
	    .min_items = 1, .max = 1, .flags = FL_OWN,
	    .what = "Base64 picture in an array; required to add, optional "
		    "to modify"),
	FI(proto_face, "strategyId", strategy_id, PQ_OPT, RANGE(0, 2147483647), .flags = FL_OWN,
	   .what = "Personnel strategy id"),
	FS(proto_face, "cardNo", card_no, PQ_OPT, .max = 63,
	   .what = "Card ID, maximum length 63 bytes"),
};

static const proto_xrule x_face[] = {
	{"facelib_add.face.cardNo.portable_len", PROTO_SHOULD,
	 "cardNo fits 35 bytes, the limit of §4's query result and §7's "
	 "batch import, so that the device can report it back"},
};

static void check_face(proto_vctx *v, const void *obj, const cJSON *json);

static SCHEMA(s_face, "facelib_add.face", S_FADD, f_face,
	      XRULES(x_face, check_face));

#define FL_HDR(T)                                                             \
	FI(proto_facelib_cmd, "type", type, PQ_MUST, .en = EN(T),             \
	   .what = "Operation type"),                                         \
	FI(proto_facelib_cmd, "seq", seq, PQ_MUST, .fmt = PX_SEQ, SEQR,       \
	   .what = "Server operation serial number")

static const proto_field f_facelib_add[] = {
	FL_HDR(1),
	FO(proto_facelib_cmd, "face", face, PQ_MUST, s_face,
	   .what = "The person"),
};
static SCHEMA(s_facelib_add, "facelib_add", S_FADD, f_facelib_add);

static const proto_field f_facelib_delete[] = {
	FL_HDR(3),
	FS(proto_facelib_cmd, "person_ids", person_ids, PQ_MUST,
	   .fmt = PX_IDLIST,
	   .what = "Ids separated by commas, up to 20 at a time"),
};
static SCHEMA(s_facelib_delete, "facelib_delete", S_FDEL, f_facelib_delete);

static const proto_field f_facelib_clear[] = {FL_HDR(4)};
static SCHEMA(s_facelib_clear, "facelib_clear", S_FDEL, f_facelib_clear);

static const proto_field f_facelib_query[] = {FL_HDR(5)};
static SCHEMA(s_facelib_query, "facelib_query", S_FQ, f_facelib_query);

static const proto_variant v_facelib[] = {
	{1, &s_facelib_add},
	{3, &s_facelib_delete},
	{4, &s_facelib_clear},
	{5, &s_facelib_query},
	{0, NULL},
};

static const proto_field f_strategy_delivery[] = {
	FA(proto_strategy_cmd, "strategyList", strategies, PQ_MUST, s_strategy,
	   .max = 16, .what = "Strategy list (maximum 16); replaces all"),
};

static const proto_xrule x_strategy_delivery[] = {
	{"strategy_delivery.strategyList.duplicate_id", PROTO_SHOULD,
	 "strategyIds are unique within one delivery"},
};

static void check_strategy_delivery(proto_vctx *v, const void *obj,
				    const cJSON *json);

static SCHEMA(s_strategy_delivery, "strategy_delivery", S_STR,
	      f_strategy_delivery,
	      XRULES(x_strategy_delivery, check_strategy_delivery));

static const proto_field f_strategy_query[] = {
	FI(proto_strategy_cmd, "operType", oper_type, PQ_MUST, .en = EN(2),
	   .what = "Fixed field: 2"),
};
static SCHEMA(s_strategy_query, "strategy_query", S_STR, f_strategy_query);

static const proto_variant v_strategy[] = {
	{2, &s_strategy_query},
	{0, NULL},
};

static const proto_field f_reupload_set[] = {
	FI(proto_reupload_cmd, "type", type, PQ_MUST, .en = EN(1),
	   .what = "1 modify setting"),
	FI(proto_reupload_cmd, "seq", seq, PQ_MUST, SEQR,
	   .what = "Operation serial number"),
	FS(proto_reupload_cmd, "reupload_time", reupload_time, PQ_OPT,
	   .fmt = PX_HMS, .what = "Scheduled retransmission time, h:m:s"),
	FI(proto_reupload_cmd, "mode", mode, PQ_OPT, .en = EN2(1, 2),
	   .what = "1 scheduled, 2 idle (default)"),
};

static const proto_xrule x_reupload_set[] = {
	{"reupload_set.empty", PROTO_SHOULD,
	 "a setting carries reupload_time, mode or both"},
};

static void check_reupload_set(proto_vctx *v, const void *obj,
			       const cJSON *json);

static SCHEMA(s_reupload_set, "reupload_set", S_REUP, f_reupload_set,
	      XRULES(x_reupload_set, check_reupload_set));

static const proto_field f_reupload_query[] = {
	FI(proto_reupload_cmd, "type", type, PQ_MUST, .en = EN(2),
	   .what = "2 search setting"),
	FI(proto_reupload_cmd, "seq", seq, PQ_OPT,
	   .what = "Operation serial number"),
};
static SCHEMA(s_reupload_query, "reupload_query", S_REUP, f_reupload_query);

static const proto_variant v_reupload[] = {
	{1, &s_reupload_set},
	{2, &s_reupload_query},
	{0, NULL},
};

static const proto_field f_batch_person[] = {
	FI(proto_batch_person, "operType", oper_type, PQ_MUST, .en = EN2(1, 3),
	   .what = "1 add or modify, 3 delete"),
	FS(proto_batch_person, "id", id, PQ_MUST, .max = 35, .fmt = PX_ID,
	   .what = "Person id (max 35)"),
	FS(proto_batch_person, "cardNo", card_no, PQ_OPT, .max = 35,
	   .what = "Card ID (max 35)"),
	FS(proto_batch_person, "name", name, PQ_OPT, .max = 63,
	   .what = "Name (max 63)"),
	FI(proto_batch_person, "age", age, PQ_OPT, RANGE(0, 150), .flags = FL_OWN,
	   .what = "Age"),
	FS(proto_batch_person, "sex", sex, PQ_OPT, .fmt = PX_SEX,
	   .what = "\"male\", \"female\""),
	FI(proto_batch_person, "strategyId", strategy_id, PQ_OPT,
	   RANGE(0, 2147483647), .flags = FL_OWN, .what = "Personnel strategy id"),
	FS(proto_batch_person, "image", image, PQ_OPT, .fmt = PX_BASE64,
	   .what = "Base64 picture (a string, no brackets here)"),
};

static const proto_xrule x_batch_person[] = {
	{"batch.person.strategyId.required", PROTO_MUST,
	 "an add (operType 1) carries strategyId (0: no strategy)"},
	{"batch.person.image.required", PROTO_MUST,
	 "an add (operType 1) carries image"},
	{"batch.person.delete_extra", PROTO_SHOULD,
	 "a delete (operType 3) carries only id; other fields are ignored"},
};

static void check_batch_person(proto_vctx *v, const void *obj,
			       const cJSON *json);

static SCHEMA(s_batch_person, "batch.person", S_BATCH, f_batch_person,
	      XRULES(x_batch_person, check_batch_person));

static const proto_field f_batch[] = {
	FA(proto_batch_cmd, "personList", persons, PQ_MUST, s_batch_person,
	   .max = 20, .min_items = 1, .what = "At most 20 persons at a time"),
};

static const proto_xrule x_batch[] = {
	{"batch.personList.duplicate_id", PROTO_SHOULD,
	 "each id appears once in a batch"},
};

static void check_batch(proto_vctx *v, const void *obj, const cJSON *json);

static SCHEMA(s_batch, "batch", S_BATCH, f_batch, XRULES(x_batch, check_batch));

static const proto_field f_upgrade[] = {
	FS(proto_upgrade_cmd, "version", version, PQ_MUST, .fmt = PX_FWVERSION,
	   .max = 63, .what = "Version number"),
	FS(proto_upgrade_cmd, "download_url", download_url, PQ_MUST,
	   .fmt = PX_URL, .max = 1024, .what = "Upgrade package address"),
};
static SCHEMA(s_upgrade, "upgrade", S_UPG, f_upgrade);

static const proto_field f_config_set[] = {
	FI(proto_config_cmd, "opType", op_type, PQ_MUST, .en = EN(0),
	   .what = "0 configuration parameter"),
	FI(proto_config_cmd, "seq", seq, PQ_MUST, SEQR,
	   .what = "Operation serial number, required when opType=0"),
	CONFIG_GROUPS(proto_config_cmd, cfg.),
	FOH(proto_config_cmd, "misc", cfg.misc, cfg.has_misc, PQ_OPT, s_misc,
	    .what = "Read-only"),
};

static const proto_xrule x_config_set[] = {
	{"config_set.misc.read_only", PROTO_SHOULD,
	 "misc.version can only be queried; the device ignores it in a set"},
	{"config_set.empty", PROTO_SHOULD,
	 "a set carries at least one configuration group"},
};

static void check_config_set(proto_vctx *v, const void *obj,
			     const cJSON *json);

static SCHEMA(s_config_set, "config_set", S_CFG, f_config_set,
	      XRULES(x_config_set, check_config_set));

static const proto_field f_config_query[] = {
	FI(proto_config_cmd, "opType", op_type, PQ_MUST, .en = EN(1),
	   .what = "1 query parameters"),
	FI(proto_config_cmd, "seq", seq, PQ_OPT,
	   .what = "Operation serial number"),
};
static SCHEMA(s_config_query, "config_query", S_CFG, f_config_query);

static const proto_variant v_config[] = {
	{0, &s_config_set},
	{1, &s_config_query},
	{0, NULL},
};

static const proto_field f_facelog[] = {
	FI(proto_op_cmd, "opType", op_type, PQ_MUST, .en = EN(1),
	   .what = "1 clear the log"),
	FI(proto_op_cmd, "seq", seq, PQ_MUST, SEQR, .what = "Operation serial number"),
};
static SCHEMA(s_facelog, "facelog", S_LOG, f_facelog);

static const proto_field f_control[] = {
	FI(proto_op_cmd, "opType", op_type, PQ_MUST, .en = EN(1),
	   .what = "1 switch the relay once"),
	FI(proto_op_cmd, "seq", seq, PQ_MUST, SEQR, .what = "Operation serial number"),
};
static SCHEMA(s_control, "control", S_CTL, f_control);

/* Listed in the order the device applies them (docs/protocol.md). */
static const proto_field f_reply[] = {
	FO(proto_reply, "time_set", time_set, PQ_OPT, s_time_set,
	   .what = "Set the device clock"),
	FS(proto_reply, "http_server_url", http_server_url, PQ_OPT,
	   .fmt = PX_URL, .max = 1024, .what = "http server url"),
	FI(proto_reply, "http_server_port", http_server_port, PQ_OPT,
	   RANGE(1, 65535), .flags = FL_OWN,
	   .what = "http server port"),
	FI(proto_reply, "time_interval", time_interval, PQ_OPT,
	   RANGE(1, 86400), .flags = FL_OWN, .what = "Heartbeat interval, seconds"),
	FV(proto_reply, "config", config, PQ_OPT, "opType", v_config, NULL,
	   .what = "Parameter configuration"),
	FV(proto_reply, "strategy_manage", strategy, PQ_OPT, "operType",
	   v_strategy, &s_strategy_delivery, .what = "Pass strategies"),
	FV(proto_reply, "facelib_manage", facelib, PQ_OPT, "type", v_facelib,
	   NULL, .what = "Face database operation"),
	FO(proto_reply, "facelib_batch", batch, PQ_OPT, s_batch,
	   .what = "Person batch import"),
	FV(proto_reply, "reupload", reupload, PQ_OPT, "type", v_reupload, NULL,
	   .what = "Retransmission setting"),
	FO(proto_reply, "facelog", facelog, PQ_OPT, s_facelog,
	   .what = "Log operation"),
	FO(proto_reply, "control", control, PQ_OPT, s_control,
	   .what = "Remote control"),
	FO(proto_reply, "fw_upgrade", upgrade, PQ_OPT, s_upgrade,
	   .what = "Software upgrade"),
	FI(proto_reply, "reboot", reboot, PQ_OPT, .en = EN(1),
	   .what = "1: reboot"),
};

static const proto_xrule x_reply[] = {
	{"reply.http_server_port.conflict", PROTO_SHOULD,
	 "http_server_url carries no port of its own, or the same as "
	 "http_server_port (the device uses http_server_port)"},
	{"reply.device_message", PROTO_MUST,
	 "a reply carries commands, not the device's own cid or type"},
};

static void check_reply(proto_vctx *v, const void *obj, const cJSON *json);
static const char *const reply_reserved[] = {"cid", "type", NULL};

SCHEMA(proto__s_reply, "reply", "§3 Tablet Camera Operating", f_reply,
       XRULES(x_reply, check_reply), .reserved = reply_reserved);

/* ================================================================ kinds */

const proto_schema *proto__kind_schema(proto_kind k)
{
	switch (k) {
	case PROTO_SNAPSHOT: return &s_snapshot;
	case PROTO_HEARTBEAT: return &s_heartbeat;
	case PROTO_FACE_LIST: return &s_face_list;
	case PROTO_UPGRADE_RESULT: return &s_upgrade_result;
	case PROTO_STRATEGY_RESULT: return &s_strategy_result;
	case PROTO_STRATEGY_LIST: return &s_strategy_list;
	case PROTO_REUPLOAD_RESULT: return &s_reupload_result;
	case PROTO_REUPLOAD_SETTINGS: return &s_reupload_settings;
	case PROTO_BATCH_RESULT: return &s_batch_result;
	case PROTO_CONFIG_RESULT: return &s_config_result;
	case PROTO_CONFIG_REPORT: return &s_config_report;
	case PROTO_LOG_RESULT: return &s_log_result;
	case PROTO_CONTROL_RESULT: return &s_control_result;
	case PROTO_ALARM: return &s_alarm;
	case PROTO_REPLY: return &proto__s_reply;
	default: return NULL;
	}
}

/* ======================================================= cross-field */

static void check_rule(proto_vctx *v, const void *obj, const cJSON *json)
{
	const proto_rule *r = obj;
	int y0, m0, d0, y1, m1, d1;
	bool len = v->prof->lenient_datetime;
	size_t save;

	(void)json;
	if (!r->beg_date || !r->end_date ||
	    proto_fmt_date(r->beg_date, len, &y0, &m0, &d0) < 0 ||
	    proto_fmt_date(r->end_date, len, &y1, &m1, &d1) < 0)
		return;
	if (y1 * 10000 + m1 * 100 + d1 < y0 * 10000 + m0 * 100 + d0) {
		proto__vpush_key(v, "endDate", &save);
		proto__xviol(v, &s_rule, "strategy_rule.endDate.order",
			     "endDate \"%s\" is earlier than begDate \"%s\"; the "
			     "rule can never apply",
			     r->end_date, r->beg_date);
		proto__vpop(v, save);
	}
}

static void check_strategy(proto_vctx *v, const void *obj, const cJSON *json)
{
	const proto_strategy *s = obj;
	size_t save, save2;

	(void)json;
	if (s->has_strategy_id && s->strategy_id == 0) {
		proto__vpush_key(v, "strategyId", &save);
		proto__xviol(v, &s_strategy, "strategy.strategyId.reserved",
			     "strategyId 0 is reserved (§5 'Strategy "
			     "compatibility design'): a strategy with id 0 fails");
		proto__vpop(v, save);
	}
	for (size_t i = 0; i < s->n_rules; i++)
		for (size_t j = 0; j < i; j++)
			if (s->rules[i].has_rule_id && s->rules[j].has_rule_id &&
			    s->rules[i].rule_id == s->rules[j].rule_id) {
				proto__vpush_key(v, "strategyRuleList", &save);
				proto__vpush_idx(v, i, &save2);
				proto__xviol(v, &s_strategy,
					     "strategy.strategyRuleList.duplicate_id",
					     "ruleId %lld appears again (first at "
					     "index %zu)",
					     (long long)s->rules[i].rule_id, j);
				proto__vpop(v, save);
				break;
			}
}

static void check_facemask(proto_vctx *v, const void *obj, const cJSON *json)
{
	const proto_facemask *m = obj;
	size_t save;

	(void)json;
	if (!m->has_environment)
		return;
	proto__vpush_key(v, "environment", &save);
	proto__xviol(v, &s_facemask, "config.facemask.environment.misplaced",
		     "environment is listed under temperature in §9's table; "
		     "only §9's example puts it under facemask. The device "
		     "applies it to temperature unless temperature has its own");
	proto__vpop(v, save);
}

static void check_snap_result(proto_vctx *v, const void *obj, const cJSON *json)
{
	const proto_snap_result *r = obj;
	size_t save;

	(void)json;
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(json, "person_id");
	if (r->has_person_type && r->person_type == 1 &&
	    (!pid || (cJSON_IsString(pid) && !pid->valuestring[0]))) {
		proto__vpush_key(v, "person_id", &save);
		proto__xviol(v, &s_snap_result, "snapshot.result.person_id.passed",
			     "person_type is 1 (compare and pass) but person_id "
			     "is %s; the server cannot tell who passed",
			     pid ? "empty" : "missing");
		proto__vpop(v, save);
	}
	if (r->has_person_type && r->person_type == 0 &&
	    (!pid || (cJSON_IsString(pid) && !pid->valuestring[0])) &&
	    r->has_confidence &&
	    r->confidence != 0) {
		proto__vpush_key(v, "confidence", &save);
		proto__xviol(v, &s_snap_result,
			     "snapshot.result.confidence.unmatched",
			     "nobody matched (person_type 0, no person_id) but "
			     "confidence is %g; §4 says 0 if not matched",
			     r->confidence);
		proto__vpop(v, save);
	}
}

static void check_face_list(proto_vctx *v, const void *obj, const cJSON *json)
{
	const proto_face_list *l = obj;
	size_t save;

	(void)json;
	if (l->has_total_face && l->has_face &&
	    (size_t)l->total_face != l->n_face) {
		proto__vpush_key(v, "total_face", &save);
		proto__xviol(v, &s_face_list, "face_list.total_face.count",
			     "total_face is %lld but face holds %zu entries",
			     (long long)l->total_face, l->n_face);
		proto__vpop(v, save);
	}
}

static void check_strategy_list(proto_vctx *v, const void *obj,
				const cJSON *json)
{
	const proto_strategy_list *l = obj;
	size_t save;

	(void)json;
	if (l->has_total_strategy && l->has_strategies &&
	    (size_t)l->total_strategy != l->n_strategies) {
		proto__vpush_key(v, "total_strategy", &save);
		proto__xviol(v, &s_strategy_list,
			     "strategy_list.total_strategy.count",
			     "total_strategy is %lld but strategyList holds %zu "
			     "entries",
			     (long long)l->total_strategy, l->n_strategies);
		proto__vpop(v, save);
	}
}

static void check_face(proto_vctx *v, const void *obj, const cJSON *json)
{
	const proto_face *f = obj;
	size_t save;

	(void)json;
	if (f->card_no && strlen(f->card_no) > 35 && strlen(f->card_no) <= 63) {
		proto__vpush_key(v, "cardNo", &save);
		proto__xviol(v, &s_face, "facelib_add.face.cardNo.portable_len",
			     "cardNo is %zu bytes: allowed here (63) but the "
			     "query result and batch import allow 35, so the "
			     "device cannot report it back intact",
			     strlen(f->card_no));
		proto__vpop(v, save);
	}
}

static void check_strategy_delivery(proto_vctx *v, const void *obj,
				    const cJSON *json)
{
	const proto_strategy_cmd *c = obj;
	size_t save, save2;

	(void)json;
	for (size_t i = 0; i < c->n_strategies; i++)
		for (size_t j = 0; j < i; j++)
			if (c->strategies[i].has_strategy_id &&
			    c->strategies[j].has_strategy_id &&
			    c->strategies[i].strategy_id ==
				    c->strategies[j].strategy_id) {
				proto__vpush_key(v, "strategyList", &save);
				proto__vpush_idx(v, i, &save2);
				proto__xviol(v, &s_strategy_delivery,
					     "strategy_delivery.strategyList.duplicate_id",
					     "strategyId %lld appears again (first "
					     "at index %zu); the later one replaces "
					     "the earlier",
					     (long long)c->strategies[i].strategy_id, j);
				proto__vpop(v, save);
				break;
			}
}

static void check_reupload_set(proto_vctx *v, const void *obj,
			       const cJSON *json)
{
	const proto_reupload_cmd *c = obj;

	(void)json;
	if (!c->reupload_time && !c->has_mode)
		proto__xviol(v, &s_reupload_set, "reupload_set.empty",
			     "type 1 (modify setting) carries neither "
			     "reupload_time nor mode: nothing to modify");
}

static void check_batch_person(proto_vctx *v, const void *obj,
			       const cJSON *json)
{
	const proto_batch_person *p = obj;

	(void)json;
	if (!p->has_oper_type)
		return;
	size_t save;
	if (p->oper_type == 1) {
		if (!proto__has(json, "strategyId")) {
			proto__vpush_key(v, "strategyId", &save);
			proto__xviol(v, &s_batch_person,
				     "batch.person.strategyId.required",
				     "operType 1 (add or modify) needs strategyId "
				     "(§7: id, strategyId and image are required; "
				     "use 0 for no strategy)");
			proto__vpop(v, save);
		}
		if (!proto__has(json, "image")) {
			proto__vpush_key(v, "image", &save);
			proto__xviol(v, &s_batch_person,
				     "batch.person.image.required",
				     "operType 1 (add or modify) needs image (§7: "
				     "id, strategyId and image are required)");
			proto__vpop(v, save);
		}
	} else if (p->oper_type == 3) {
		const cJSON *it;
		cJSON_ArrayForEach(it, json)
		{
			if (!strcmp(it->string, "id") || !strcmp(it->string, "operType"))
				continue;
			proto__vpush_key(v, it->string, &save);
			proto__xviol(v, &s_batch_person, "batch.person.delete_extra",
				     "operType 3 (delete) uses only id; \"%.40s\" is "
				     "ignored",
				     it->string);
			proto__vpop(v, save);
		}
	}
}

static void check_batch(proto_vctx *v, const void *obj, const cJSON *json)
{
	const proto_batch_cmd *b = obj;
	size_t save, save2;

	(void)json;
	for (size_t i = 0; i < b->n_persons; i++)
		for (size_t j = 0; j < i; j++)
			if (b->persons[i].id && b->persons[j].id &&
			    !strcmp(b->persons[i].id, b->persons[j].id)) {
				proto__vpush_key(v, "personList", &save);
				proto__vpush_idx(v, i, &save2);
				proto__xviol(v, &s_batch,
					     "batch.personList.duplicate_id",
					     "id \"%s\" appears again (first at "
					     "index %zu); the device applies both "
					     "in order",
					     b->persons[i].id, j);
				proto__vpop(v, save);
				break;
			}
}

static void check_config_set(proto_vctx *v, const void *obj,
			     const cJSON *json)
{
	const proto_config_cmd *c = obj;
	const proto_config *g = &c->cfg;
	size_t save;

	if (proto__has(json, "misc")) {
		proto__vpush_key(v, "misc", &save);
		proto__xviol(v, &s_config_set, "config_set.misc.read_only",
			     "misc.version can only be queried, not configured "
			     "(§9); the device ignores misc in a set");
		proto__vpop(v, save);
	}
	if (!g->has_face_rec && !g->has_face_cap && !g->has_facemask &&
	    !g->has_temperature && !g->has_relay &&
	    !proto__has(json, "face_rec") &&
	    !proto__has(json, "face_cap") &&
	    !proto__has(json, "facemask") &&
	    !proto__has(json, "temperature") &&
	    !proto__has(json, "relay"))
		proto__xviol(v, &s_config_set, "config_set.empty",
			     "opType 0 (configure) carries no configuration "
			     "group (face_rec, face_cap, facemask, temperature, "
			     "relay): nothing to set");
}

/* The port in "http://host:port/...", or -1 when the URL has none. */
static long url_port(const char *u)
{
	const char *h = strstr(u, "://");
	const char *end, *colon = NULL;

	if (!h)
		return -1;
	h += 3;
	end = h + strcspn(h, "/?#");
	if (*h == '[') { /* IPv6 literal */
		const char *rb = memchr(h, ']', (size_t)(end - h));
		if (!rb)
			return -1;
		h = rb;
	}
	for (const char *p = h; p < end; p++)
		if (*p == ':')
			colon = p;
	if (!colon || colon + 1 == end)
		return -1;
	long port = 0;
	for (const char *p = colon + 1; p < end; p++) {
		if (*p < '0' || *p > '9' || port > 65535)
			return -1;
		port = port * 10 + (*p - '0');
	}
	return port;
}

static void check_reply(proto_vctx *v, const void *obj, const cJSON *json)
{
	const proto_reply *r = obj;
	size_t save;

	if (r->http_server_url && r->has_http_server_port) {
		long p = url_port(r->http_server_url);
		if (p >= 0 && p != r->http_server_port) {
			proto__vpush_key(v, "http_server_port", &save);
			proto__xviol(v, &proto__s_reply,
				     "reply.http_server_port.conflict",
				     "http_server_url names port %ld but "
				     "http_server_port is %lld; which wins is not "
				     "stated (camsim's device uses %lld)",
				     p, (long long)r->http_server_port,
				     (long long)r->http_server_port);
			proto__vpop(v, save);
		}
	}
	for (const char *const *k = reply_reserved; *k; k++) {
		if (!proto__has(json, *k))
			continue;
		proto__vpush_key(v, *k, &save);
		proto__xviol(v, &proto__s_reply, "reply.device_message",
			     "\"%s\" belongs to the device's own messages; a reply "
			     "to the device carries commands (is this a device "
			     "message checked as a reply?)",
			     *k);
		proto__vpop(v, save);
	}
}

/* ======================================================= catalogue walk */

/* Every schema reachable from the kinds, each once, for the catalogue. */
size_t proto__schemas(const proto_schema **out, size_t max);

static size_t collect(const proto_schema *s, const proto_schema **out,
		      size_t n, size_t max)
{
	for (size_t i = 0; i < n; i++)
		if (out[i] == s)
			return n;
	if (n < max)
		out[n++] = s;
	for (size_t i = 0; i < s->nf; i++) {
		const proto_field *f = &s->f[i];
		if (f->sub)
			n = collect(f->sub, out, n, max);
		if (f->type == PT_VARIANT) {
			if (f->sel_absent)
				n = collect(f->sel_absent, out, n, max);
			for (const proto_variant *w = f->vars; w->schema; w++)
				n = collect(w->schema, out, n, max);
		}
	}
	return n;
}

size_t proto__schemas(const proto_schema **out, size_t max)
{
	size_t n = 0;
	for (int k = PROTO_KIND_NONE + 1; k < PROTO_KIND_COUNT; k++)
		n = collect(proto__kind_schema((proto_kind)k), out, n, max);
	return n;
}
