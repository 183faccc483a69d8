/* scenario.c -- loads scenario files and checks every member against the
 * format of docs/scenarios.md, so that a runner never meets a step it has
 * to guess about; also the subset matcher of expect steps.  Table-driven:
 * one row per step kind and member. */
#include "scenario.h"
#include "base.h"
#include "operator.h"
#include "sim_err.h"
#include "file.h"

#include "proto.h"

#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- members */

typedef scn_member member;

typedef struct ctx ctx;

/* A check of one action's values beyond their members' types (where
 * names the step); CONF_EFORMAT with the message in c, or 0. */
typedef int action_check(ctx *c, const cJSON *o, const char *where);

static action_check check_face, check_fault, check_thermal, check_event,
	check_relay, check_outcome;

typedef struct action {
	scn_step_kind kind;
	const char *name;
	const member *m; /* NULL-key terminated; common members come extra */
	bool mock_only;
	action_check *check; /* NULL: the members say it all */
} action;

static const member m_power[] = {{"on", 'b', true}, {0}};
static const member m_face[] = {
	{"image", 's', true}, {"temperature", 'n', false}, {"mask", 'i', false},
	{"stay", 'p', false}, {"liveness", 'n', false}, {"quality", 'n', false},
	{"blur", 'n', false}, {"repeat", 'i', false}, {0}};
static const member m_door[] = {{"open", 'b', true}, {0}};
static const member m_network[] = {{"up", 'b', true}, {0}};
static const member m_clock[] = {{"utc", 't', true}, {"zone", 'i', false}, {0}};
static const member m_thermal[] = {{"readings", 'a', true}, {0}};
static const member m_fault[] = {{"fault", 's', true}, {"kind", 's', false},
				 {0}};

/* Members every expect step may carry. */
#define EXPECT_COMMON {"within", 'p', false}, {"none", 'b', false}, \
	{"for", 'p', false}, {"severity", 's', false}, {"count", 'i', false}
static const member m_message[] = {
	{"from", 's', true}, {"kind", 's', false}, {"command", 's', false},
	{"match", 'x', false}, {"resend", 'b', false}, EXPECT_COMMON, {0}};
static const member m_relay[] = {{"state", 's', true}, EXPECT_COMMON, {0}};
static const member m_voice[] = {{"text", 's', true}, EXPECT_COMMON, {0}};
static const member m_event[] = {{"event", 's', true}, {"text", 's', false},
				 EXPECT_COMMON, {0}};
static const member m_record[] = {{"match", 'x', false}, EXPECT_COMMON, {0}};
static const member m_outcome[] = {{"ref", 's', true}, {"state", 's', true},
				   {"match", 'x', false}, EXPECT_COMMON, {0}};
static const member m_status[] = {{"match", 'o', true}, EXPECT_COMMON, {0}};
static const member m_retry[] = {{"ref", 's', true}, EXPECT_COMMON, {0}};

static const action actions[] = {
	{SCN_DEVICE, "power", m_power, false, NULL},
	{SCN_DEVICE, "face", m_face, false, check_face},
	{SCN_DEVICE, "door", m_door, false, NULL},
	{SCN_DEVICE, "network", m_network, false, NULL},
	{SCN_DEVICE, "clock", m_clock, false, NULL},
	{SCN_DEVICE, "thermal", m_thermal, false, check_thermal},
	{SCN_DEVICE, "fault", m_fault, false, check_fault},
	{SCN_EXPECT, "message", m_message, false, NULL},
	{SCN_EXPECT, "relay", m_relay, false, check_relay},
	{SCN_EXPECT, "voice", m_voice, false, NULL},
	{SCN_EXPECT, "event", m_event, false, check_event},
	{SCN_EXPECT, "record", m_record, false, NULL},
	{SCN_EXPECT, "outcome", m_outcome, false, check_outcome},
	{SCN_EXPECT, "status", m_status, false, NULL},
	{SCN_EXPECT, "retry", m_retry, false, NULL},
};

const member scn_common_members[] = {
	{"at", 'p', false}, {"after", 'p', false}, {"dev", 's', false},
	{"note", 's', false}, {0}};


/* ---------------------------------------------------------------- errors */

struct ctx {
	const char *path;
	char *err;
	size_t errlen;
};

static int fail(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(ctx *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->errlen)
		return CONF_EFORMAT;
	n = snprintf(c->err, c->errlen, "%s: ", c->path);
	if (n < 0 || (size_t)n >= c->errlen)
		return CONF_EFORMAT;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return CONF_EFORMAT;
}

/* A short rendering of v for messages. */
static void show(const cJSON *v, char *out, size_t n)
{
	char *s = v ? cJSON_PrintUnformatted(v) : NULL;

	if (!s) {
		snprintf(out, n, "%s", v ? "(value)" : "nothing");
		return;
	}
	if (strlen(s) > 60)
		snprintf(out, n, "%.57s...", s);
	else
		snprintf(out, n, "%s", s);
	cJSON_free(s);
}

static const char *type_rule(char t)
{
	switch (t) {
	case 'b': return "must be true or false";
	case 'n': return "must be a number";
	case 'p': return "must be a number >= 0 (seconds)";
	case 'i': return "must be an integer";
	case 's': return "must be a non-empty string";
	case 't': return "must be a UTC time \"YYYY-MM-DDTHH:MM:SSZ\" or a "
			 "number of UTC seconds";
	case 'o': return "must be an object";
	case 'a': return "must be an array";
	}
	return "has the wrong type";
}

static bool type_ok(const cJSON *v, char t)
{
	int64_t ms;

	switch (t) {
	case 'b': return cJSON_IsBool(v);
	case 'n': return cJSON_IsNumber(v) && isfinite(v->valuedouble);
	case 'p': return cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
			 v->valuedouble >= 0 && v->valuedouble <= 1e9;
	case 'i': return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble)
			 && fabs(v->valuedouble) < 9007199254740992.0;
	case 's': return cJSON_IsString(v) && v->valuestring[0];
	case 't': return scn_time(v, &ms);
	case 'o': return cJSON_IsObject(v);
	case 'a': return cJSON_IsArray(v);
	}
	return true;
}

static const member *find_member(const member *m, const char *key)
{
	for (; m && m->key; m++)
		if (!strcmp(m->key, key))
			return m;
	return NULL;
}

/* Checks o against the allowed members (two tables); unknown members are
 * errors, since a typo would otherwise silently change a test. */
static int check_members(ctx *c, const char *where, const cJSON *o,
			 const member *a, const member *b, const char *skip)
{
	const cJSON *v;
	char shown[80];

	for (const member *m = a; m && m->key; m++)
		if (m->required && !cJSON_GetObjectItemCaseSensitive(o, m->key))
			return fail(c, "%s: \"%s\" is missing: it is required "
				    "(it %s)", where, m->key, type_rule(m->type));
	for (const member *m = b; m && m->key; m++)
		if (m->required && !cJSON_GetObjectItemCaseSensitive(o, m->key))
			return fail(c, "%s: \"%s\" is missing: it is required",
				    where, m->key);
	cJSON_ArrayForEach(v, o) {
		const member *m = find_member(a, v->string);
		if (!m)
			m = find_member(b, v->string);
		if (!m) {
			if (skip && !strcmp(v->string, skip))
				continue;
			return fail(c, "%s: unknown member \"%s\" (see "
				    "docs/scenarios.md for the members of this "
				    "step)", where, v->string);
		}
		if (!type_ok(v, m->type)) {
			show(v, shown, sizeof shown);
			return fail(c, "%s.%s: %s is not allowed: it %s", where,
				    v->string, shown, type_rule(m->type));
		}
	}
	return 0;
}

int scn_check_members(const char *path, const char *where, const cJSON *o,
		      const scn_member *a, const scn_member *b,
		      const char *skip, char *err, size_t errlen)
{
	ctx c = {.path = path, .err = err, .errlen = errlen};
	return check_members(&c, where, o, a, b, skip);
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *o, const char *key, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* ---------------------------------------------------------------- time */

bool scn_time(const cJSON *v, int64_t *ms)
{
	struct tm tm;
	const char *end;

	if (cJSON_IsNumber(v)) {
		if (!isfinite(v->valuedouble) || v->valuedouble < 0 ||
		    v->valuedouble > 253402300799.0)
			return false;
		*ms = (int64_t)(v->valuedouble * 1000.0);
		return true;
	}
	if (!cJSON_IsString(v))
		return false;
	memset(&tm, 0, sizeof tm);
	end = strptime(v->valuestring, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end || strlen(v->valuestring) != 20)
		return false;
	*ms = (int64_t)timegm(&tm) * 1000;
	return true;
}

/* ---------------------------------------------------------------- steps */

/* "wait": seconds to let pass, and only the common members beside it. */
static int parse_wait(ctx *c, scenario *s, scn_step *st, const cJSON *o,
		      const cJSON *v, const char *where)
{
	char shown[80];

	(void)s;
	st->kind = SCN_WAIT;
	st->action = "wait";
	if (!type_ok(v, 'p')) {
		show(v, shown, sizeof shown);
		return fail(c, "%s.wait: %s is not allowed: it %s", where, shown,
			    type_rule('p'));
	}
	st->window_s = v->valuedouble;
	return check_members(c, where, o, scn_common_members, NULL, "wait");
}

/* "operator": one of the catalogue's actions (operator.h), which checks
 * its own members. */
static int parse_operator(ctx *c, scenario *s, scn_step *st, const cJSON *o,
			  const cJSON *v, const char *where)
{
	char shown[80];
	int rc;

	(void)s;
	st->kind = SCN_OPERATOR;
	if (!cJSON_IsString(v) || !op_summary(v->valuestring)) {
		const char *const *names = op_names();
		char list[400] = "";
		size_t n = 0;
		for (; *names; names++)
			n += (size_t)snprintf(list + n, n < sizeof list ?
					      sizeof list - n : 0, "%s%s",
					      n ? ", " : "", *names);
		show(v, shown, sizeof shown);
		return fail(c, "%s.operator: %s is not an operator action; "
			    "known: %s", where, shown, list);
	}
	st->action = v->valuestring;
	rc = op_check(o, c->path, where, c->err, c->errlen);
	if (rc < 0)
		return rc;
	st->ref = str(o, "ref");
	return 0;
}

/* The row of actions[] that the step's key (device or expect) names, its
 * members checked; *out NULL on error. */
static int parse_action(ctx *c, scn_step *st, const cJSON *o, const cJSON *v,
			const char *where, scn_step_kind k, const char *key,
			const action **out)
{
	const action *act = NULL;
	char shown[80];
	int rc;

	*out = NULL;
	for (size_t a = 0; a < ARRAY_SIZE(actions); a++)
		if (actions[a].kind == k && cJSON_IsString(v) &&
		    !strcmp(actions[a].name, v->valuestring))
			act = &actions[a];
	if (!act) {
		char list[200] = "";
		size_t n = 0;
		for (size_t a = 0; a < ARRAY_SIZE(actions); a++)
			if (actions[a].kind == k)
				n += (size_t)snprintf(list + n, n < sizeof list
					? sizeof list - n : 0, "%s%s",
					n ? ", " : "", actions[a].name);
		show(v, shown, sizeof shown);
		return fail(c, "%s.%s: %s is not known; known: %s", where, key,
			    shown, list);
	}
	st->kind = k;
	st->action = act->name;
	st->mock_only = act->mock_only;
	rc = check_members(c, where, o, act->m, scn_common_members, key);
	if (rc < 0)
		return rc;
	*out = act;
	return 0;
}

static int parse_device_step(ctx *c, scenario *s, scn_step *st,
			     const cJSON *o, const cJSON *v, const char *where)
{
	const action *act;
	int rc;

	(void)s;
	rc = parse_action(c, st, o, v, where, SCN_DEVICE, "device", &act);
	if (rc < 0)
		return rc;
	return act->check ? act->check(c, o, where) : 0;
}

static bool in_list(const char *const *list, size_t n, const char *s)
{
	for (size_t k = 0; k < n; k++)
		if (!strcmp(list[k], s))
			return true;
	return false;
}

/* "from", "kind" and "command" of an expect step name what can be sent. */
static int check_sender(ctx *c, const cJSON *o, const char *where)
{
	/* the members of a V1.16 reply */
	static const char *const cmds[] = {
		"time_set", "http_server_url", "http_server_port",
		"time_interval", "config", "strategy_manage", "facelib_manage",
		"facelib_batch", "reupload", "facelog", "control",
		"fw_upgrade", "reboot"};
	const char *from = str(o, "from"), *kind = str(o, "kind");
	const char *cmd = str(o, "command");

	if (from && strcmp(from, "device") && strcmp(from, "server"))
		return fail(c, "%s.from: \"%s\" is not allowed: it must be "
			    "\"device\" or \"server\"", where, from);
	if (from && !strcmp(from, "device") &&
	    cJSON_GetObjectItemCaseSensitive(o, "command"))
		return fail(c, "%s: \"command\" names a member of a server "
			    "reply; use it with \"from\": \"server\"", where);
	if (from && !strcmp(from, "server") && kind && strcmp(kind, "reply"))
		return fail(c, "%s.kind: \"%s\": a server sends only replies; "
			    "name the command with \"command\"", where, kind);
	if (kind && from && !strcmp(from, "device")) {
		bool ok = false;
		for (int k = PROTO_KIND_NONE + 1; k < PROTO_KIND_COUNT; k++)
			ok |= k != PROTO_REPLY &&
			      !strcmp(proto_kind_name((proto_kind)k), kind);
		if (!ok)
			return fail(c, "%s.kind: \"%s\" is not a kind of device "
				    "message (heartbeat, snapshot, face_list, "
				    "... docs/scenarios.md)", where, kind);
	}
	if (cmd && !in_list(cmds, ARRAY_SIZE(cmds), cmd))
		return fail(c, "%s.command: \"%s\" is not a member of a V1.16 "
			    "reply (facelib_manage, config, ... "
			    "docs/scenarios.md)", where, cmd);
	return 0;
}

/* The members every expect step shares: the window, count, severity. */
static int parse_expect(ctx *c, scenario *s, scn_step *st, const cJSON *o,
			const cJSON *v, const char *where)
{
	const action *act;
	const char *sev;
	int rc;

	rc = parse_action(c, st, o, v, where, SCN_EXPECT, "expect", &act);
	if (rc < 0)
		return rc;
	sev = str(o, "severity");
	st->none = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "none"));
	if (st->none && cJSON_GetObjectItemCaseSensitive(o, "within"))
		return fail(c, "%s: \"within\" is for positive expectations; a "
			    "\"none\" step waits \"for\" seconds", where);
	if (!st->none && cJSON_GetObjectItemCaseSensitive(o, "for"))
		return fail(c, "%s: \"for\" needs \"none\": true (a positive "
			    "expectation has \"within\")", where);
	st->window_s = num(o, st->none ? "for" : "within", s->timeout_s);
	st->count = (int64_t)num(o, "count", 1);
	if (st->count < 1)
		return fail(c, "%s.count: %" PRId64 " is not allowed: it must "
			    "be >= 1", where, st->count);
	if (sev && strcmp(sev, "must") && strcmp(sev, "should"))
		return fail(c, "%s.severity: \"%s\" is not allowed: it must be "
			    "\"must\" or \"should\"", where, sev);
	st->should = sev && !strcmp(sev, "should");
	rc = check_sender(c, o, where);
	if (rc < 0)
		return rc;
	return act->check ? act->check(c, o, where) : 0;
}

static int check_event(ctx *c, const cJSON *o, const char *where)
{
	static const char *const evs[] = {
		"boot", "off", "send", "reply", "fail", "command", "reject",
		"relay", "voice", "door", "temperature", "face", "record",
		"drop", "resend", "network", "upgrade", "clock", "error"};

	if (!in_list(evs, ARRAY_SIZE(evs), str(o, "event")))
		return fail(c, "%s.event: \"%s\" is not a device event (boot, "
			    "fail, relay, ... docs/scenarios.md)", where,
			    str(o, "event"));
	return 0;
}

static int check_relay(ctx *c, const cJSON *o, const char *where)
{
	if (strcmp(str(o, "state"), "on") && strcmp(str(o, "state"), "off"))
		return fail(c, "%s.state: \"%s\" is not allowed: it must be "
			    "\"on\" or \"off\"", where, str(o, "state"));
	return 0;
}

static int check_outcome(ctx *c, const cJSON *o, const char *where)
{
	/* what the exchanges can show; a timeout is the server's own
	 * word, which "retry" asks for */
	static const char *const states[] = {"pending", "sent", "confirmed",
					     "failed"};

	if (!in_list(states, ARRAY_SIZE(states), str(o, "state")))
		return fail(c, "%s.state: \"%s\" is not allowed: it must be "
			    "pending, sent, confirmed or failed", where,
			    str(o, "state"));
	return 0;
}

static int check_face(ctx *c, const cJSON *o, const char *where)
{
	double repeat = num(o, "repeat", 1);

	if (repeat < 1 || repeat > 5000)
		return fail(c, "%s.repeat: %.0f is not allowed: 1..5000 faces",
			    where, repeat);
	return 0;
}

static int check_fault(ctx *c, const cJSON *o, const char *where)
{
	const char *f = str(o, "fault"), *k = str(o, "kind");
	bool result = false;

	if (strcmp(f, "drop-result") && strcmp(f, "cut-reply"))
		return fail(c, "%s.fault: \"%s\" is not allowed: \"drop-result\" "
			    "(the next result message is lost) or \"cut-reply\" "
			    "(the next reply with a command is cut)", where, f);
	if (k && strcmp(f, "drop-result"))
		return fail(c, "%s.kind: only a drop-result names the kind of "
			    "message to lose", where);
	for (int n = PROTO_KIND_NONE + 1; k && n < PROTO_KIND_COUNT; n++)
		result |= n != PROTO_HEARTBEAT && n != PROTO_SNAPSHOT &&
			  n != PROTO_ALARM && n != PROTO_REPLY &&
			  !strcmp(proto_kind_name((proto_kind)n), k);
	if (k && !result)
		return fail(c, "%s.kind: \"%s\" is not a result message "
			    "(config_result, strategy_result, face_list, ...)",
			    where, k);
	return 0;
}

static int check_thermal(ctx *c, const cJSON *o, const char *where)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "readings"), *e;
	size_t k = 0;

	if (!cJSON_GetArraySize(r) || cJSON_GetArraySize(r) > 64)
		return fail(c, "%s.readings: %d readings: 1 to 64 are allowed",
			    where, cJSON_GetArraySize(r));
	cJSON_ArrayForEach(e, r) {
		if (!cJSON_IsNumber(e) || e->valuedouble < -50 ||
		    e->valuedouble > 150)
			return fail(c, "%s.readings[%zu]: must be a temperature "
				    "in °C (-50..150)", where, k);
		k++;
	}
	return 0;
}

/* "at", "after", "note" and "dev", which any step may carry. */
static int parse_common(ctx *c, scenario *s, scn_step *st, const cJSON *o,
			const char *where)
{
	const char *dev = str(o, "dev");
	bool found = false;

	st->has_at = cJSON_GetObjectItemCaseSensitive(o, "at") != NULL;
	st->at_s = num(o, "at", 0);
	st->after_s = num(o, "after", 0);
	st->note = str(o, "note");
	if (!dev)
		return 0;
	for (size_t d = 0; d < s->n_devs; d++)
		if (!strcmp(s->devs[d].id, dev)) {
			st->dev = d;
			found = true;
		}
	if (!found)
		return fail(c, "%s.dev: \"%s\" is not one of the scenario's "
			    "devices", where, dev);
	return 0;
}

/* The step kinds, by the key that names them in a step object; each
 * parser fills in st from the step o, whose key holds v. */
static const struct step_parser {
	const char *key;
	int (*parse)(ctx *c, scenario *s, scn_step *st, const cJSON *o,
		     const cJSON *v, const char *where);
} step_parsers[] = {
	{"device", parse_device_step},
	{"operator", parse_operator},
	{"expect", parse_expect},
	{"wait", parse_wait},
};

static int parse_step(ctx *c, scenario *s, const cJSON *o, size_t i)
{
	scn_step *st = &s->steps[i];
	const struct step_parser *found[ARRAY_SIZE(step_parsers)];
	size_t n_found = 0;
	char where[48];
	int rc;

	snprintf(where, sizeof where, "steps[%zu]", i);
	if (!cJSON_IsObject(o))
		return fail(c, "%s: must be an object with one of \"device\", "
			    "\"operator\", \"expect\" or \"wait\"", where);
	for (size_t k = 0; k < ARRAY_SIZE(step_parsers); k++)
		if (cJSON_GetObjectItemCaseSensitive(o, step_parsers[k].key))
			found[n_found++] = &step_parsers[k];
	if (n_found != 1)
		return fail(c, "%s: must hold exactly one of \"device\", "
			    "\"operator\", \"expect\" or \"wait\" (found %zu%s%s)",
			    where, n_found, n_found ? ": " : "",
			    n_found ? found[0]->key : "");
	st->index = i;
	st->obj = o;
	st->count = 1;
	rc = found[0]->parse(c, s, st, o,
			     cJSON_GetObjectItemCaseSensitive(o, found[0]->key),
			     where);
	if (rc < 0)
		return rc;
	return parse_common(c, s, st, o, where);
}

/* ---------------------------------------------------------------- devices */

static const member m_device[] = {
	{"id", 's', true}, {"cid", 's', false}, {"interval", 'i', false},
	{"clock", 't', false}, {"zone", 'i', false}, {"app_version", 's', false},
	{"capacity", 'i', false}, {"record_cap", 'i', false},
	{"upgrade_max", 'i', false}, {"http_timeout", 'p', false},
	{"idle_reupload", 'p', false}, {0}};

static int parse_device(ctx *c, scenario *s, const cJSON *o, size_t i)
{
	scn_device *d = &s->devs[i];
	char where[48];
	int rc;

	snprintf(where, sizeof where, "devices[%zu]", i);
	if (!cJSON_IsObject(o))
		return fail(c, "%s: must be an object", where);
	rc = check_members(c, where, o, m_device, NULL, NULL);
	if (rc < 0)
		return rc;
	d->id = str(o, "id");
	for (size_t k = 0; k < i; k++)
		if (!strcmp(s->devs[k].id, d->id))
			return fail(c, "%s.id: \"%s\" is used twice", where, d->id);
	d->cid = str(o, "cid");
	if (d->cid && strlen(d->cid) > 32)
		return fail(c, "%s.cid: %zu bytes: a cid has at most 32",
			    where, strlen(d->cid));
	d->interval_s = (int64_t)num(o, "interval", 3);
	if (d->interval_s < 1 || d->interval_s > 86400)
		return fail(c, "%s.interval: %" PRId64 " is not allowed: the "
			    "heartbeat interval is 1..86400 s", where,
			    d->interval_s);
	d->has_clock = scn_time(cJSON_GetObjectItemCaseSensitive(o, "clock"),
				&d->clock_ms);
	d->has_zone = cJSON_GetObjectItemCaseSensitive(o, "zone") != NULL;
	d->zone_s = (int64_t)num(o, "zone", 0);
	if (d->zone_s < -12 * 3600 || d->zone_s > 14 * 3600)
		return fail(c, "%s.zone: %" PRId64 " is not allowed: seconds "
			    "east of UTC, -43200..50400", where, d->zone_s);
	d->app_version = str(o, "app_version");
	d->capacity = (int64_t)num(o, "capacity", 0);
	d->record_cap = (int64_t)num(o, "record_cap", 0);
	d->upgrade_max = (int64_t)num(o, "upgrade_max", 0);
	if (d->capacity < 0 || d->record_cap < 0 || d->upgrade_max < 0)
		return fail(c, "%s: capacity, record_cap and upgrade_max must "
			    "be >= 0", where);
	d->http_timeout_s = num(o, "http_timeout", 0);
	d->idle_reupload_s = num(o, "idle_reupload", 0);
	return 0;
}

/* ---------------------------------------------------------------- scenario */

/* {"$seq": "ref"} names an earlier operator step's ref, {"$cid": "id"} a
 * device, anywhere in a pattern (what step i's match may refer to). */
static int check_refs(ctx *c, const scenario *s, size_t i, const cJSON *p,
		      const char *path)
{
	const cJSON *e;
	char sub[200];

	cJSON_ArrayForEach(e, p) {
		if (e->string && !strcmp(e->string, "$seq")) {
			bool found = false;
			for (size_t k = 0; cJSON_IsString(e) && k < i; k++)
				found |= s->steps[k].kind == SCN_OPERATOR &&
					 s->steps[k].ref &&
					 !strcmp(s->steps[k].ref, e->valuestring);
			if (!found)
				return fail(c, "steps[%zu].%s.$seq: must name the "
					    "ref of an earlier operator step (the "
					    "seq the server gave that command)",
					    i, path);
		} else if (e->string && !strcmp(e->string, "$cid")) {
			bool found = false;
			for (size_t k = 0; cJSON_IsString(e) && k < s->n_devs; k++)
				found |= !strcmp(s->devs[k].id, e->valuestring);
			if (!found)
				return fail(c, "steps[%zu].%s.$cid: must name one "
					    "of the scenario's devices", i, path);
		} else if (cJSON_IsObject(e) || cJSON_IsArray(e)) {
			int rc;
			snprintf(sub, sizeof sub, "%s.%s", path,
				 e->string ? e->string : "[]");
			if ((rc = check_refs(c, s, i, e, sub)) < 0)
				return rc;
		}
	}
	return 0;
}

static const member m_top[] = {
	{"name", 's', true}, {"title", 's', true}, {"description", 's', false},
	{"sections", 'a', true}, {"requires", 'a', false},
	{"server", 's', false}, {"timeout", 'p', false},
	{"devices", 'a', false}, {"steps", 'a', true}, {"$schema", 's', false},
	{"allow_rules", 'a', false},
	{0}};

static int parse_root(ctx *c, scenario *s)
{
	const cJSON *v, *e;
	size_t i;
	int rc;

	if (!cJSON_IsObject(s->root))
		return fail(c, "the file must hold one JSON object");
	rc = check_members(c, "scenario", s->root, m_top, NULL, NULL);
	if (rc < 0)
		return rc;
	s->name = str(s->root, "name");
	for (const char *p = s->name; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    *p != '-')
			return fail(c, "name: \"%s\" is not allowed: use a-z, "
				    "0-9 and '-' (it names report entries)",
				    s->name);
	s->title = str(s->root, "title");
	s->description = str(s->root, "description");
	s->timeout_s = num(s->root, "timeout", 30);
	v = cJSON_GetObjectItemCaseSensitive(s->root, "sections");
	if (!cJSON_GetArraySize(v))
		return fail(c, "sections: list the V1.16 sections the scenario "
			    "covers, e.g. [\"4\"]");
	s->sections = calloc((size_t)cJSON_GetArraySize(v), sizeof *s->sections);
	if (!s->sections)
		return CONF_ENOMEM;
	cJSON_ArrayForEach(e, v) {
		if (!cJSON_IsString(e) || !e->valuestring[0])
			return fail(c, "sections[%zu]: must be a section number "
				    "as a string, e.g. \"4\"", s->n_sections);
		s->sections[s->n_sections++] = e->valuestring;
	}
	i = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(s->root,
							       "requires")) {
		if (!cJSON_IsString(e) || strcmp(e->valuestring, "recognition"))
			return fail(c, "requires[%zu]: the only capability is "
				    "\"recognition\"", i);
		s->needs_recognition = true;
		i++;
	}
	if (str(s->root, "server")) {
		if (!strcmp(str(s->root, "server"), "mock"))
			s->mock_only = true;
		else if (strcmp(str(s->root, "server"), "any"))
			return fail(c, "server: \"%s\" is not allowed: \"any\" "
				    "(default) or \"mock\"", str(s->root, "server"));
	}
	s->allow_rules = cJSON_GetObjectItemCaseSensitive(s->root, "allow_rules");
	i = 0;
	cJSON_ArrayForEach(e, s->allow_rules) {
		if (!cJSON_IsString(e) || !e->valuestring[0])
			return fail(c, "allow_rules[%zu]: must be a rule id "
				    "(camsim validate --list-rules)", i);
		i++;
	}
	v = cJSON_GetObjectItemCaseSensitive(s->root, "devices");
	s->n_devs = v ? (size_t)cJSON_GetArraySize(v) : 0;
	if (v && (s->n_devs < 1 || s->n_devs > 64))
		return fail(c, "devices: %zu devices: 1 to 64 are allowed",
			    s->n_devs);
	s->devs = calloc(s->n_devs ? s->n_devs : 1, sizeof *s->devs);
	if (!s->devs)
		return CONF_ENOMEM;
	if (!v) {
		s->n_devs = 1;
		s->devs[0].id = "dev";
		s->devs[0].interval_s = 3;
	}
	i = 0;
	cJSON_ArrayForEach(e, v) {
		rc = parse_device(c, s, e, i++);
		if (rc < 0)
			return rc;
	}
	v = cJSON_GetObjectItemCaseSensitive(s->root, "steps");
	s->n_steps = (size_t)cJSON_GetArraySize(v);
	if (!s->n_steps || s->n_steps > 10000)
		return fail(c, "steps: %zu steps: 1 to 10000 are allowed",
			    s->n_steps);
	s->steps = calloc(s->n_steps, sizeof *s->steps);
	if (!s->steps)
		return CONF_ENOMEM;
	i = 0;
	cJSON_ArrayForEach(e, v) {
		rc = parse_step(c, s, e, i++);
		if (rc < 0)
			return rc;
	}
	/* refs are named before they are used, once */
	for (i = 0; i < s->n_steps; i++) {
		const scn_step *st = &s->steps[i];
		if (st->kind == SCN_OPERATOR && st->ref)
			for (size_t k = 0; k < i; k++)
				if (s->steps[k].ref && !strcmp(s->steps[k].ref, st->ref))
					return fail(c, "steps[%zu].ref: \"%s\" is "
						    "already used by steps[%zu]",
						    i, st->ref, k);
		if (st->kind == SCN_EXPECT && (!strcmp(st->action, "outcome") ||
					       !strcmp(st->action, "retry"))) {
			bool found = false;
			for (size_t k = 0; k < i; k++)
				found |= s->steps[k].kind == SCN_OPERATOR &&
					 s->steps[k].ref &&
					 !strcmp(s->steps[k].ref, str(st->obj, "ref"));
			if (!found)
				return fail(c, "steps[%zu].ref: \"%s\" names no "
					    "earlier operator step", i,
					    str(st->obj, "ref"));
		}
		if (st->kind == SCN_EXPECT &&
		    (rc = check_refs(c, s, i, cJSON_GetObjectItemCaseSensitive(
					     st->obj, "match"), "match")) < 0)
			return rc;
	}
	return 0;
}

int scn_parse(const char *text, size_t len, const char *path, scenario **out,
	      char *err, size_t errlen)
{
	ctx c = {.path = path, .err = err, .errlen = errlen};
	scenario *s;
	const char *slash;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof *s);
	if (!s || !(s->path = strdup(path)))
		goto nomem;
	slash = strrchr(path, '/');
	s->dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
	if (!s->dir)
		goto nomem;
	s->root = cJSON_ParseWithLength(text, len);
	if (!s->root) {
		const char *at = cJSON_GetErrorPtr();
		size_t line = 1;
		for (const char *p = text; at && p < at && p < text + len; p++)
			line += *p == '\n';
		snprintf(err, errlen, "%s: not JSON (near line %zu)", path, line);
		scn_free(s);
		return CONF_ENOTJSON;
	}
	rc = parse_root(&c, s);
	if (rc < 0) {
		if (rc == CONF_ENOMEM)
			snprintf(err, errlen, "%s: out of memory", path);
		scn_free(s);
		return rc;
	}
	*out = s;
	return 0;
nomem:
	snprintf(err, errlen, "%s: out of memory", path);
	scn_free(s);
	return CONF_ENOMEM;
}

int scn_load(const char *path, scenario **out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = base_read_file(NULL, path, 16u << 20, &buf, &len, err, errlen);
	if (rc < 0)
		return rc == BASE_ENOMEM ? CONF_ENOMEM
		       : rc == BASE_EIO ? CONF_EREAD : CONF_EFORMAT;
	rc = scn_parse(buf, len, path, out, err, errlen);
	free(buf);
	return rc;
}

void scn_free(scenario *s)
{
	if (!s)
		return;
	cJSON_Delete(s->root);
	free(s->path);
	free(s->dir);
	free(s->sections);
	free(s->devs);
	free(s->steps);
	free(s);
}

bool scn_allowed(const scenario *s, const char *rule)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, s->allow_rules)
		if (cJSON_IsString(e) && !strcmp(e->valuestring, rule))
			return true;
	return false;
}

char *scn_path(const scenario *s, const char *file)
{
	char *out;

	if (file[0] == '/')
		return strdup(file);
	if (asprintf(&out, "%s/%s", s->dir, file) < 0)
		return NULL;
	return out;
}

/* ---------------------------------------------------------------- match */

static bool why_set(char *why, size_t n, const char *path, const char *fmt,
		    const cJSON *a, const cJSON *b)
{
	char sa[80], sb[80];

	if (why && n) {
		show(a, sa, sizeof sa);
		show(b, sb, sizeof sb);
		snprintf(why, n, fmt, path[0] ? path : "$", sa, sb);
	}
	return false;
}

/* The value of a number, also of one printed as raw text (proto_encode
 * writes numbers in their shortest form as raw items: the device's status
 * holds those). */
static bool number(const cJSON *v, double *d)
{
	char *end;

	if (cJSON_IsNumber(v)) {
		*d = v->valuedouble;
		return true;
	}
	if (!cJSON_IsRaw(v) || !v->valuestring)
		return false;
	*d = strtod(v->valuestring, &end);
	return end != v->valuestring && !*end;
}

static bool equal(const cJSON *a, const cJSON *b)
{
	double x, y;

	if (number(a, &x) && number(b, &y))
		return x == y;
	return cJSON_Compare(a, b, true);
}

static bool match_at(const cJSON *p, const cJSON *v, char *path, size_t plen,
		     char *why, size_t whylen);

static bool match_ops(const cJSON *p, const cJSON *v, char *path, size_t plen,
		      char *why, size_t whylen)
{
	const cJSON *op;

	cJSON_ArrayForEach(op, p) {
		const char *k = op->string;
		bool ok = true;
		if (!strcmp(k, "$exists"))
			ok = cJSON_IsTrue(op) == (v != NULL);
		else if (!v)
			ok = false;
		else if (!strcmp(k, "$ne"))
			ok = !equal(op, v);
		else if (!strcmp(k, "$gt") || !strcmp(k, "$gte") ||
			 !strcmp(k, "$lt") || !strcmp(k, "$lte")) {
			double a, b;
			ok = number(v, &a) && number(op, &b) &&
			     (!strcmp(k, "$gt") ? a > b : !strcmp(k, "$gte") ? a >= b
			      : !strcmp(k, "$lt") ? a < b : a <= b);
		} else if (!strcmp(k, "$contains"))
			ok = cJSON_IsString(v) && cJSON_IsString(op) &&
			     strstr(v->valuestring, op->valuestring);
		else if (!strcmp(k, "$len"))
			ok = cJSON_IsNumber(op) &&
			     ((cJSON_IsArray(v) &&
			       cJSON_GetArraySize(v) == op->valuedouble) ||
			      (cJSON_IsString(v) &&
			       (double)strlen(v->valuestring) == op->valuedouble));
		else if (!strcmp(k, "$in")) {
			const cJSON *e;
			ok = false;
			cJSON_ArrayForEach(e, op) ok |= equal(e, v);
		} else if (!strcmp(k, "$some")) {
			const cJSON *e, *arr = cJSON_IsArray(v) ? v : NULL;
			ok = false;
			cJSON_ArrayForEach(e, arr)
				ok |= match_at(op, e, path, plen, NULL, 0);
		} else {
			if (why && whylen)
				snprintf(why, whylen, "%s: unknown operator %s",
					 path[0] ? path : "$", k);
			return false;
		}
		if (!ok) {
			char fmt[64];
			snprintf(fmt, sizeof fmt, "%%s: %s %%s does not hold for "
				 "%%s", k);
			return why_set(why, whylen, path, fmt, op, v);
		}
	}
	return true;
}

static bool is_ops(const cJSON *p)
{
	return cJSON_IsObject(p) && p->child && p->child->string &&
	       p->child->string[0] == '$';
}

static bool match_at(const cJSON *p, const cJSON *v, char *path, size_t plen,
		     char *why, size_t whylen)
{
	size_t base = strlen(path);

	if (is_ops(p))
		return match_ops(p, v, path, plen, why, whylen);
	if (!v)
		return why_set(why, whylen, path, "%s: expected %s, found %s", p,
			       v);
	if (cJSON_IsObject(p)) {
		const cJSON *m;
		if (!cJSON_IsObject(v))
			return why_set(why, whylen, path,
				       "%s: expected an object like %s, found %s",
				       p, v);
		cJSON_ArrayForEach(m, p) {
			const cJSON *vm = cJSON_GetObjectItemCaseSensitive(v, m->string);
			snprintf(path + base, plen - base, ".%s", m->string);
			if (!match_at(m, vm, path, plen, why, whylen))
				return false;
			path[base] = '\0';
		}
		return true;
	}
	if (cJSON_IsArray(p)) {
		int i = 0;
		const cJSON *m;
		if (!cJSON_IsArray(v) ||
		    cJSON_GetArraySize(v) != cJSON_GetArraySize(p))
			return why_set(why, whylen, path,
				       "%s: expected %s, found %s", p, v);
		cJSON_ArrayForEach(m, p) {
			snprintf(path + base, plen - base, "[%d]", i);
			if (!match_at(m, cJSON_GetArrayItem(v, i), path, plen, why,
				      whylen))
				return false;
			path[base] = '\0';
			i++;
		}
		return true;
	}
	if (!equal(p, v))
		return why_set(why, whylen, path, "%s: expected %s, found %s", p,
			       v);
	return true;
}

bool scn_match(const cJSON *pattern, const cJSON *value, char *why,
	       size_t whylen)
{
	char path[512] = "$";

	if (why && whylen)
		why[0] = '\0';
	if (!pattern)
		return true;
	return match_at(pattern, value, path, sizeof path, why, whylen);
}
