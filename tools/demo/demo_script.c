/* demo_script.c -- the demo's timelines (demo_script.h): --state-script
 * parsing with errors that name the file and the entry, and the built-in
 * story.  Pure; must not touch devices, windows or the clock. */
#include "demo_script.h"

#include "file.h"
#include "sim_err.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SCRIPT_MAX_BYTES (1u << 20)
#define SCRIPT_MAX_BEATS 10000
#define SCRIPT_MAX_AT 86400.0 /* a day: a later beat is a typo */

static const char *const action_names[] = {
#define DS_NAME(e, help) #e,
	UI_ACTION_MAP(DS_NAME)
#undef DS_NAME
};

ui_action demo_action_find(const char *name)
{
	for (size_t i = 1; i < UI_ACT_COUNT; i++)
		if (!strcasecmp(name, action_names[i]))
			return (ui_action)i;
	return UI_ACT_NONE;
}

/* Which arguments an action takes: the rule quoted by errors. */
static const char *arg_rule(ui_action a)
{
	switch (a) {
	case UI_ACT_NEXT:
	case UI_ACT_PREV:
		return "a person of faces/manifest.json (\"person-b\"), or none";
	case UI_ACT_DROP:
		return "the picture file to show (required)";
	case UI_ACT_FEVER:
		return "a reading in °C from 0 to 120 (default 38.6), or none";
	case UI_ACT_NET:
		return "\"down\" or \"up\" (none: toggle)";
	case UI_ACT_MASK:
		return "\"on\" or \"off\" (none: toggle)";
	case UI_ACT_DOOR:
		return "\"open\" or \"closed\" (none: toggle)";
	default:
		return NULL; /* takes none */
	}
}

static bool arg_ok(ui_action a, const char *v)
{
	char *end;
	double x;

	switch (a) {
	case UI_ACT_NEXT:
	case UI_ACT_PREV:
		return true;
	case UI_ACT_DROP:
		return *v != '\0';
	case UI_ACT_FEVER:
		x = strtod(v, &end);
		return !*v || (!*end && isfinite(x) && x >= 0 && x <= 120);
	case UI_ACT_NET:
		return !*v || !strcmp(v, "down") || !strcmp(v, "up");
	case UI_ACT_MASK:
		return !*v || !strcmp(v, "on") || !strcmp(v, "off");
	case UI_ACT_DOOR:
		return !*v || !strcmp(v, "open") || !strcmp(v, "closed");
	default:
		return !*v;
	}
}

/* Insertion sort by at: stable, so entries of one moment keep file
 * order, and linear for the usual script written in time order. */
static void sort_beats(demo_beat *b, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		demo_beat t = b[i];
		size_t j = i;

		for (; j > 0 && b[j - 1].at > t.at; j--)
			b[j] = b[j - 1];
		b[j] = t;
	}
}

/* One entry e (index i) into b. */
static int parse_beat(const char *path, size_t i, const cJSON *e,
		      demo_beat *b, char *err, size_t errlen)
{
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(e, "at");
	const cJSON *ac = cJSON_GetObjectItemCaseSensitive(e, "action");
	const cJSON *arg = cJSON_GetObjectItemCaseSensitive(e, "arg");
	const cJSON *cap = cJSON_GetObjectItemCaseSensitive(e, "caption");
	const cJSON *m;
	const char *rule;

	memset(b, 0, sizeof *b);
	if (!cJSON_IsObject(e)) {
		snprintf(err, errlen, "%s: entry %zu: must be an object "
			 "{\"at\", \"action\", \"arg\", \"caption\"}", path, i);
		return SIM_EINVAL;
	}
	cJSON_ArrayForEach(m, e)
		if (strcmp(m->string, "at") && strcmp(m->string, "action") &&
		    strcmp(m->string, "arg") && strcmp(m->string, "caption")) {
			snprintf(err, errlen, "%s: entry %zu: unknown member \"%s\" "
				 "(members: at, action, arg, caption)", path, i,
				 m->string);
			return SIM_EINVAL;
		}
	if (!cJSON_IsNumber(at) || !isfinite(at->valuedouble) ||
	    at->valuedouble < 0 || at->valuedouble > SCRIPT_MAX_AT) {
		snprintf(err, errlen, "%s: entry %zu: \"at\" must be a number of "
			 "seconds from 0 to %.0f", path, i, SCRIPT_MAX_AT);
		return SIM_EINVAL;
	}
	b->at = at->valuedouble;
	if (!cJSON_IsString(ac) ||
	    ((b->action = demo_action_find(ac->valuestring)) == UI_ACT_NONE &&
	     strcmp(ac->valuestring, "none"))) {
		snprintf(err, errlen, "%s: entry %zu: \"action\" is %s%s%s; it "
			 "must be an action of the key map in lower case "
			 "(next, prev, stranger, drop, temp_up, temp_down, fever, "
			 "mask, door, net, power, pause, help, json, log_up, "
			 "log_down, quit, none)", path, i,
			 cJSON_IsString(ac) ? "\"" : "",
			 cJSON_IsString(ac) ? ac->valuestring : "missing",
			 cJSON_IsString(ac) ? "\"" : "");
		return SIM_EINVAL;
	}
	if (cJSON_IsNumber(arg))
		snprintf(b->arg, sizeof b->arg, "%.17g", arg->valuedouble);
	else if (cJSON_IsString(arg)) {
		if (strlen(arg->valuestring) >= sizeof b->arg) {
			snprintf(err, errlen, "%s: entry %zu: \"arg\" is longer "
				 "than %zu bytes", path, i, sizeof b->arg - 1);
			return SIM_EINVAL;
		}
		snprintf(b->arg, sizeof b->arg, "%s", arg->valuestring);
	} else if (arg && !cJSON_IsNull(arg)) {
		snprintf(err, errlen, "%s: entry %zu: \"arg\" must be a string "
			 "or a number", path, i);
		return SIM_EINVAL;
	}
	if (!arg_ok(b->action, b->arg)) {
		rule = arg_rule(b->action);
		snprintf(err, errlen, "%s: entry %zu: \"arg\" of %s is \"%s\"; "
			 "it must be %s", path, i, ac->valuestring, b->arg,
			 rule ? rule : "left out (this action takes none)");
		return SIM_EINVAL;
	}
	if (cap && !cJSON_IsString(cap)) {
		snprintf(err, errlen, "%s: entry %zu: \"caption\" must be a "
			 "string", path, i);
		return SIM_EINVAL;
	}
	if (cap)
		snprintf(b->caption, sizeof b->caption, "%s", cap->valuestring);
	return 0;
}

int demo_script_parse(const char *path, const char *text, demo_script *out,
		      char *err, size_t errlen)
{
	cJSON *j = cJSON_Parse(text);
	const cJSON *e;
	size_t n, i = 0;
	int rc = SIM_EINVAL;

	memset(out, 0, sizeof *out);
	if (!j) {
		const char *at = cJSON_GetErrorPtr();
		snprintf(err, errlen, "%s: not JSON (near byte %ld)", path,
			 at && at >= text ? (long)(at - text) : 0L);
		goto out;
	}
	if (!cJSON_IsArray(j)) {
		snprintf(err, errlen, "%s: must be a JSON array of {\"at\", "
			 "\"action\"} entries", path);
		goto out;
	}
	n = (size_t)cJSON_GetArraySize(j);
	if (n > SCRIPT_MAX_BEATS) {
		snprintf(err, errlen, "%s: %zu entries; at most %d", path, n,
			 SCRIPT_MAX_BEATS);
		goto out;
	}
	if (n && !(out->beats = calloc(n, sizeof *out->beats))) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = SIM_ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(e, j) {
		if ((rc = parse_beat(path, i, e, &out->beats[i], err, errlen)) < 0)
			goto out;
		i++;
	}
	out->n = n;
	sort_beats(out->beats, n);
	rc = 0;
out:
	cJSON_Delete(j);
	if (rc < 0)
		demo_script_free(out);
	return rc;
}

int demo_script_load(const char *path, demo_script *out, char *err,
		     size_t errlen)
{
	char *text = NULL;
	size_t len;
	int rc;

	memset(out, 0, sizeof *out);
	rc = base_read_file("state script", path, SCRIPT_MAX_BYTES, &text, &len,
			    err, errlen);
	if (rc < 0)
		return rc == BASE_ENOMEM ? SIM_ENOMEM : SIM_EIO;
	rc = demo_script_parse(path, text, out, err, errlen);
	free(text);
	return rc;
}

/* The story, seconds after the set-up is done.  The first pass comes at
 * 1.5 s, so a screenshot at 5 s (make screenshot) catches its banner
 * (4 s at full colour).  The offline pass comes 1.5 s after the network
 * drops and the network returns 3.5 s later, so the device's idle
 * retransmission (demo.c shortens the wait to 5 s) starts 1.5 s after it
 * is back: the record visibly waits, then goes. */
static const demo_beat story[] = {
	{1.5, UI_ACT_NEXT, "person-a", "1/6 Known person, 36.6 °C: PASS"},
	{6.0, UI_ACT_STRANGER, "", "2/6 Stranger, not in the library: DENIED"},
	{10.4, UI_ACT_FEVER, "38.6", ""},
	{10.5, UI_ACT_NEXT, "person-b", "3/6 Fever, 38.6 °C > 37.3 °C: DENIED"},
	{15.0, UI_ACT_NET, "down", "4/6 Network down: no answers"},
	{16.5, UI_ACT_NEXT, "person-c", "5/6 Offline pass: the record waits"},
	{20.0, UI_ACT_NET, "up", "6/6 Network back: the record is resent"},
};

int demo_story(demo_script *out)
{
	memset(out, 0, sizeof *out);
	if (!(out->beats = malloc(sizeof story)))
		return SIM_ENOMEM;
	memcpy(out->beats, story, sizeof story);
	out->n = sizeof story / sizeof story[0];
	out->loop_s = 26.5;
	return 0;
}

void demo_script_free(demo_script *s)
{
	free(s->beats);
	memset(s, 0, sizeof *s);
}
