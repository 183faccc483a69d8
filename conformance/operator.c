/* operator.c -- the catalogue of operator actions: for each, its members
 * and the V1.16 reply member it becomes (docs/scenarios.md, "Operator
 * actions").  Reads the photos a step names; no other I/O, no servers. */
#include "operator.h"
#include "base.h"
#include "b64.h"
#include "sim_err.h"
#include "file.h"
#include "scenario.h"

#include "image.h"

#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef scn_member member;

static const member m_none[] = {{"ref", 's', false}, {"unchecked", 'b', false}, {0}};
static const member m_person[] = {
	{"ref", 's', false}, {"unchecked", 'b', false}, {"id", 's', true}, {"name", 's', true},
	{"photo", 's', false}, {"photos", 'a', false}, {"age", 'i', false},
	{"sex", 's', false}, {"card_no", 's', false},
	{"strategy_id", 'i', false}, {"photo_base64", 's', false},
	{"photos_base64", 'a', false}, {0}};
static const member m_delete[] = {{"ref", 's', false}, {"unchecked", 'b', false}, {"ids", 'a', true},
				  {0}};
static const member m_batch[] = {{"ref", 's', false}, {"unchecked", 'b', false},
				 {"persons", 'a', true}, {0}};
static const member m_strategies[] = {{"ref", 's', false}, {"unchecked", 'b', false},
				      {"strategies", 'a', true}, {0}};
static const member m_config[] = {{"ref", 's', false}, {"unchecked", 'b', false}, {"config", 'o', true},
				  {0}};
static const member m_reupload[] = {{"ref", 's', false}, {"unchecked", 'b', false}, {"mode", 'i', true},
				    {"time", 's', false}, {0}};
static const member m_upgrade[] = {{"ref", 's', false}, {"unchecked", 'b', false},
				   {"version", 's', true}, {"url", 's', false},
				   {"package", 's', false}, {0}};
static const member m_set_time[] = {{"ref", 's', false}, {"unchecked", 'b', false}, {"utc", 't', true},
				    {"zone", 'i', false}, {0}};
static const member m_interval[] = {{"ref", 's', false}, {"unchecked", 'b', false},
				    {"seconds", 'i', true}, {0}};
static const member m_server[] = {{"ref", 's', false}, {"unchecked", 'b', false}, {"url", 's', false},
				  {"port", 'i', false}, {0}};
static const member m_raw[] = {{"ref", 's', false}, {"unchecked", 'b', false}, {"reply", 'o', true},
			       {0}};
/* batch persons */
static const member m_bperson[] = {
	{"op", 's', true}, {"id", 's', true}, {"name", 's', false},
	{"photo", 's', false}, {"age", 'i', false}, {"sex", 's', false},
	{"card_no", 's', false}, {"strategy_id", 'i', false},
	{"photo_base64", 's', false}, {0}};

/* Each builds its action's reply members into r (the reply object) from
 * the step, which op_check has accepted.  CONF_ENOMEM without a message
 * (op_command words it); other codes with err filled in. */
typedef int op_build(const cJSON *step, const op_ctx *c, cJSON *r, char *err,
		     size_t errlen);

static op_build build_person, build_delete, build_batch, build_strategies,
	build_config, build_reupload, build_upgrade, build_set_time,
	build_set_interval, build_set_server, build_raw;

typedef struct opdef {
	const char *name;
	const member *m;
	const char *summary;
	op_build *build;    /* NULL: the reply is one fixed number: */
	const char *member; /* {member: {field: value}}, or {member: value} */
	const char *field;  /* when field is NULL */
	int value;
} opdef;

static const opdef ops[] = {
	{"enroll", m_person, "enrol a person with a photo (facelib_manage type 1)",
	 build_person, NULL, NULL, 0},
	{"modify", m_person, "change an enrolled person (facelib_manage type 1)",
	 build_person, NULL, NULL, 0},
	{"delete", m_delete, "delete persons by id (facelib_manage type 3)",
	 build_delete, NULL, NULL, 0},
	{"delete_all", m_none, "empty the face library (facelib_manage type 4)",
	 NULL, "facelib_manage", "type", 4},
	{"query_faces", m_none, "ask for the face library (facelib_manage type 5)",
	 NULL, "facelib_manage", "type", 5},
	{"batch", m_batch, "batch import (facelib_batch)",
	 build_batch, NULL, NULL, 0},
	{"strategies", m_strategies, "deliver pass strategies (strategy_manage)",
	 build_strategies, NULL, NULL, 0},
	{"query_strategies", m_none, "ask for the strategies (operType 2)",
	 NULL, "strategy_manage", "operType", 2},
	{"config", m_config, "set configuration (config opType 0)",
	 build_config, NULL, NULL, 0},
	{"query_config", m_none, "ask for the configuration (config opType 1)",
	 NULL, "config", "opType", 1},
	{"reupload", m_reupload, "set retransmission (reupload type 1)",
	 build_reupload, NULL, NULL, 0},
	{"query_reupload", m_none, "ask for retransmission (reupload type 2)",
	 NULL, "reupload", "type", 2},
	{"clear_log", m_none, "clear the record log (facelog)",
	 NULL, "facelog", "opType", 1},
	{"open_door", m_none, "open the door once (control)",
	 NULL, "control", "opType", 1},
	{"upgrade", m_upgrade, "offer a firmware upgrade (fw_upgrade)",
	 build_upgrade, NULL, NULL, 0},
	{"reboot", m_none, "reboot the device (reboot)",
	 NULL, "reboot", NULL, 1},
	{"set_time", m_set_time, "set the device clock (time_set)",
	 build_set_time, NULL, NULL, 0},
	{"set_interval", m_interval, "set the heartbeat interval (time_interval)",
	 build_set_interval, NULL, NULL, 0},
	{"set_server", m_server, "move the device (http_server_url/port)",
	 build_set_server, NULL, NULL, 0},
	{"raw", m_raw, "send reply members exactly as given",
	 build_raw, NULL, NULL, 0},
};

#define N_OPS ARRAY_SIZE(ops)

static const opdef *find(const char *name)
{
	for (size_t i = 0; i < N_OPS; i++)
		if (!strcmp(ops[i].name, name))
			return &ops[i];
	return NULL;
}

const char *op_summary(const char *action)
{
	const opdef *o = action ? find(action) : NULL;
	return o ? o->summary : NULL;
}

const char *const *op_names(void)
{
	static const char *names[N_OPS + 1];
	for (size_t i = 0; i < N_OPS; i++)
		names[i] = ops[i].name;
	return names;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* Upgrade packages the runner's package server offers (docs/scenarios.md):
 * each makes the device reach one of its upgrade outcomes. */
static const char *const packages[] = {"ok", "missing", "empty", "too-big",
				       "cut", "unreachable", NULL};

int op_check(const cJSON *step, const char *path, const char *where,
	     char *err, size_t errlen)
{
	const opdef *o = find(str(step, "operator"));
	const cJSON *e;
	size_t i = 0;
	int rc;

	rc = scn_check_members(path, where, step, o->m, scn_common_members,
			       "operator", err, errlen);
	if (rc < 0)
		return rc;
	if (o->m == m_person && !get(step, "photo") && !get(step, "photos") &&
	    !get(step, "photo_base64") && !get(step, "photos_base64"))
		goto need_photo;
	if (o->m == m_delete) {
		if (!cJSON_GetArraySize(get(step, "ids")))
			goto bad_ids;
		cJSON_ArrayForEach(e, get(step, "ids")) if (!cJSON_IsString(e))
			goto bad_ids;
	}
	if (o->m == m_batch) {
		cJSON_ArrayForEach(e, get(step, "persons")) {
			char w[64];
			snprintf(w, sizeof w, "%s.persons[%zu]", where, i++);
			if (!cJSON_IsObject(e)) {
				snprintf(err, errlen, "%s: %s: must be an object",
					 path, w);
				return CONF_EFORMAT;
			}
			rc = scn_check_members(path, w, e, m_bperson, NULL, NULL,
					       err, errlen);
			if (rc < 0)
				return rc;
			if (strcmp(str(e, "op"), "add") && strcmp(str(e, "op"),
								  "delete")) {
				snprintf(err, errlen, "%s: %s.op: \"%s\" is not "
					 "allowed: \"add\" or \"delete\"", path, w,
					 str(e, "op"));
				return CONF_EFORMAT;
			}
		}
	}
	if (o->m == m_upgrade) {
		const char *pkg = str(step, "package");
		bool known = false;
		if (!!pkg == !!str(step, "url")) {
			snprintf(err, errlen, "%s: %s: an upgrade needs exactly one "
				 "of \"url\" (any download address) and "
				 "\"package\" (served by the runner: ok, missing, "
				 "empty, too-big, cut, unreachable)", path, where);
			return CONF_EFORMAT;
		}
		for (size_t k = 0; pkg && packages[k]; k++)
			known |= !strcmp(packages[k], pkg);
		if (pkg && !known) {
			snprintf(err, errlen, "%s: %s.package: \"%s\" is not one of "
				 "ok, missing, empty, too-big, cut, unreachable",
				 path, where, pkg);
			return CONF_EFORMAT;
		}
	}
	if (o->m == m_reupload) {
		int64_t mode = (int64_t)get(step, "mode")->valuedouble;
		if (mode != 1 && mode != 2) {
			snprintf(err, errlen, "%s: %s.mode: %" PRId64 " is not "
				 "allowed: 1 scheduled, 2 idle", path, where, mode);
			return CONF_EFORMAT;
		}
	}
	return 0;
need_photo:
	snprintf(err, errlen, "%s: %s: \"%s\" needs \"photo\" (a file) or "
		 "\"photos\" (files), or their bytes as \"photo_base64\" / "
		 "\"photos_base64\"", path, where, o->name);
	return CONF_EFORMAT;
bad_ids:
	snprintf(err, errlen, "%s: %s.ids: must be a non-empty array of person "
		 "id strings", path, where);
	return CONF_EFORMAT;
}

/* ---------------------------------------------------------------- build */

/* Base64 of a photo file, added to arr (or as member key of obj). */
static int add_photo(const op_ctx *c, const char *file, cJSON *arr,
		     cJSON *obj, const char *key, char *err, size_t errlen)
{
	char *p = scn_path(c->s, file), *b64 = NULL, *buf = NULL;
	size_t len = 0;
	int rc = CONF_ENOMEM;

	if (!c->s) {
		snprintf(err, errlen, "photo \"%s\": there is no scenario to find "
			 "it next to; give its bytes as photo_base64", file);
		rc = CONF_EFORMAT;
		goto out;
	}
	if (!p)
		goto out;
	rc = base_read_file("photo", p, 64u << 20, &buf, &len, err, errlen);
	if (rc < 0) {
		/* not CONF_ENOMEM: that would overwrite the message */
		rc = rc == BASE_EIO || rc == BASE_ENOMEM ? CONF_EREAD : CONF_EFORMAT;
		goto out;
	}
	rc = CONF_ENOMEM;
	if (!(b64 = b64_encode(buf, len, NULL)))
		goto out;
	if (arr ? !cJSON_AddItemToArray(arr, cJSON_CreateString(b64))
		: !cJSON_AddStringToObject(obj, key, b64))
		goto out;
	rc = 0;
out:
	if (rc == CONF_ENOMEM)
		snprintf(err, errlen, "out of memory reading a photo");
	free(p);
	free(buf);
	free(b64);
	return rc;
}

static int upgrade_url(const cJSON *step, const op_ctx *c, char *url,
		       size_t n, char *err, size_t errlen);

/* The inline pictures of an enroll or modify step into arr. */
static int inline_photos(const cJSON *step, cJSON *arr, char *err,
			 size_t errlen)
{
	const cJSON *v = get(step, "photo_base64"), *e;

	if (cJSON_IsString(v) &&
	    !cJSON_AddItemToArray(arr, cJSON_CreateString(v->valuestring)))
		goto oom;
	cJSON_ArrayForEach(e, get(step, "photos_base64")) {
		if (!cJSON_IsString(e)) {
			snprintf(err, errlen, "photos_base64: every entry must be "
				 "a base64 string");
			return CONF_EFORMAT;
		}
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(e->valuestring)))
			goto oom;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return CONF_ENOMEM;
}

/* Copies the person members of step into the protocol's names. */
static int person(const cJSON *step, cJSON *to, bool batch)
{
	static const char *const map[][2] = {
		{"id", "id"}, {"card_no", "cardNo"}, {"name", "name"},
		{"age", "age"}, {"sex", "sex"}, {"strategy_id", "strategyId"}};

	if (batch && !cJSON_AddNumberToObject(to, "operType",
					      strcmp(str(step, "op"), "add") ? 3 : 1))
		return CONF_ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		const cJSON *v = get(step, map[i][0]);
		if (v && !cJSON_AddItemToObject(to, map[i][1],
						cJSON_Duplicate(v, true)))
			return CONF_ENOMEM;
	}
	return 0;
}

static cJSON *obj_with(cJSON *root, const char *key)
{
	cJSON *o = cJSON_CreateObject();
	if (o && !cJSON_AddItemToObject(root, key, o)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* enroll, modify: the person with photos, inline bytes winning over the
 * files beside them (an adapter's parameters carry both). */
static int build_person(const cJSON *step, const op_ctx *c, cJSON *r,
			char *err, size_t errlen)
{
	const cJSON *v, *files, *e;
	cJSON *o, *face, *arr;
	int rc;

	if (!(o = obj_with(r, "facelib_manage")) ||
	    !cJSON_AddNumberToObject(o, "type", 1) ||
	    !(face = obj_with(o, "face")) || person(step, face, false) < 0 ||
	    !(arr = cJSON_AddArrayToObject(face, "image")))
		return CONF_ENOMEM;
	if (get(step, "photo_base64") || get(step, "photos_base64")) {
		if (inline_photos(step, arr, err, errlen) < 0)
			return CONF_EFORMAT;
	} else if ((v = get(step, "photo")) &&
		   (rc = add_photo(c, v->valuestring, arr, NULL, NULL, err,
				   errlen)) < 0)
		return rc;
	files = get(step, "photo_base64") || get(step, "photos_base64")
		? NULL : get(step, "photos");
	cJSON_ArrayForEach(e, files) {
		if (!cJSON_IsString(e)) {
			snprintf(err, errlen, "photos: every entry must be a "
				 "file name");
			return CONF_EFORMAT;
		}
		rc = add_photo(c, e->valuestring, arr, NULL, NULL, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int build_delete(const cJSON *step, const op_ctx *c, cJSON *r,
			char *err, size_t errlen)
{
	char ids[2048] = "";
	size_t n = 0;
	const cJSON *e;
	cJSON *o;

	(void)c;
	cJSON_ArrayForEach(e, get(step, "ids"))
		n += (size_t)snprintf(ids + n, n < sizeof ids ? sizeof ids - n
				      : 0, "%s%s", n ? "," : "", e->valuestring);
	if (n >= sizeof ids) {
		snprintf(err, errlen, "ids: longer than %zu bytes together",
			 sizeof ids - 1);
		return CONF_EFORMAT;
	}
	if (!(o = obj_with(r, "facelib_manage")) ||
	    !cJSON_AddNumberToObject(o, "type", 3) ||
	    !cJSON_AddStringToObject(o, "person_ids", ids))
		return CONF_ENOMEM;
	return 0;
}

static int build_batch(const cJSON *step, const op_ctx *c, cJSON *r,
		       char *err, size_t errlen)
{
	const cJSON *v, *e;
	cJSON *o, *arr;
	int rc;

	if (!(o = obj_with(r, "facelib_batch")) ||
	    !(arr = cJSON_AddArrayToObject(o, "personList")))
		return CONF_ENOMEM;
	cJSON_ArrayForEach(e, get(step, "persons")) {
		cJSON *p = cJSON_CreateObject();
		if (!p || !cJSON_AddItemToArray(arr, p)) {
			cJSON_Delete(p);
			return CONF_ENOMEM;
		}
		if (person(e, p, true) < 0)
			return CONF_ENOMEM;
		if ((v = get(e, "photo_base64"))) {
			if (!cJSON_AddStringToObject(p, "image", v->valuestring))
				return CONF_ENOMEM;
		} else if ((v = get(e, "photo")) &&
			   (rc = add_photo(c, v->valuestring, NULL, p, "image",
					   err, errlen)) < 0)
			return rc;
	}
	return 0;
}

static int build_strategies(const cJSON *step, const op_ctx *c, cJSON *r,
			    char *err, size_t errlen)
{
	cJSON *o;

	(void)c, (void)err, (void)errlen;
	if (!(o = obj_with(r, "strategy_manage")) ||
	    !cJSON_AddItemToObject(o, "strategyList",
				   cJSON_Duplicate(get(step, "strategies"), true)))
		return CONF_ENOMEM;
	return 0;
}

static int build_config(const cJSON *step, const op_ctx *c, cJSON *r,
			char *err, size_t errlen)
{
	cJSON *o;

	(void)c, (void)err, (void)errlen;
	if (!(o = cJSON_Duplicate(get(step, "config"), true)))
		return CONF_ENOMEM;
	if (!cJSON_AddItemToObject(r, "config", o)) {
		cJSON_Delete(o);
		return CONF_ENOMEM;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(o, "opType");
	if (!cJSON_AddNumberToObject(o, "opType", 0))
		return CONF_ENOMEM;
	return 0;
}

static int build_reupload(const cJSON *step, const op_ctx *c, cJSON *r,
			  char *err, size_t errlen)
{
	cJSON *o;

	(void)c, (void)err, (void)errlen;
	if (!(o = obj_with(r, "reupload")) ||
	    !cJSON_AddNumberToObject(o, "type", 1) ||
	    (str(step, "time") &&
	     !cJSON_AddStringToObject(o, "reupload_time", str(step, "time"))) ||
	    !cJSON_AddNumberToObject(o, "mode", get(step, "mode")->valuedouble))
		return CONF_ENOMEM;
	return 0;
}

static int build_upgrade(const cJSON *step, const op_ctx *c, cJSON *r,
			 char *err, size_t errlen)
{
	char url[512];
	cJSON *o;
	int rc;

	rc = upgrade_url(step, c, url, sizeof url, err, errlen);
	if (rc < 0)
		return rc;
	if (!(o = obj_with(r, "fw_upgrade")) ||
	    !cJSON_AddStringToObject(o, "version", str(step, "version")) ||
	    !cJSON_AddStringToObject(o, "download_url", url))
		return CONF_ENOMEM;
	return 0;
}

static int build_set_time(const cJSON *step, const op_ctx *c, cJSON *r,
			  char *err, size_t errlen)
{
	const cJSON *v;
	cJSON *o;
	int64_t ms;

	(void)c, (void)err, (void)errlen;
	scn_time(get(step, "utc"), &ms);
	if (!(o = obj_with(r, "time_set")) ||
	    !cJSON_AddNumberToObject(o, "time_stamp", (double)(ms / 1000)) ||
	    ((v = get(step, "zone")) &&
	     !cJSON_AddNumberToObject(o, "time_zone", v->valuedouble)))
		return CONF_ENOMEM;
	return 0;
}

static int build_set_interval(const cJSON *step, const op_ctx *c, cJSON *r,
			      char *err, size_t errlen)
{
	(void)c, (void)err, (void)errlen;
	if (!cJSON_AddNumberToObject(r, "time_interval",
				     get(step, "seconds")->valuedouble))
		return CONF_ENOMEM;
	return 0;
}

static int build_set_server(const cJSON *step, const op_ctx *c, cJSON *r,
			    char *err, size_t errlen)
{
	const char *url = str(step, "url");
	const cJSON *v;

	(void)err, (void)errlen;
	if (url && !strcmp(url, "{server}") && c->server_url)
		url = c->server_url; /* back to the server under test */
	if ((url && !cJSON_AddStringToObject(r, "http_server_url", url)) ||
	    ((v = get(step, "port")) &&
	     !cJSON_AddNumberToObject(r, "http_server_port", v->valuedouble)))
		return CONF_ENOMEM;
	return 0;
}

/* raw: the reply members exactly as given, in their order. */
static int build_raw(const cJSON *step, const op_ctx *c, cJSON *r, char *err,
		     size_t errlen)
{
	const cJSON *e;

	(void)c, (void)err, (void)errlen;
	cJSON_ArrayForEach(e, get(step, "reply")) {
		cJSON *dup = cJSON_Duplicate(e, true);
		if (!dup)
			return CONF_ENOMEM;
		if (!cJSON_AddItemToObject(r, e->string, dup)) {
			cJSON_Delete(dup);
			return CONF_ENOMEM;
		}
	}
	return 0;
}

/* The actions whose reply is one fixed number: {member: {field: value}},
 * or {member: value} without a field. */
static int build_fixed(const opdef *d, cJSON *r)
{
	cJSON *o;

	if (!d->field)
		return cJSON_AddNumberToObject(r, d->member, d->value) ? 0
									: CONF_ENOMEM;
	if (!(o = obj_with(r, d->member)) ||
	    !cJSON_AddNumberToObject(o, d->field, d->value))
		return CONF_ENOMEM;
	return 0;
}

int op_command(const cJSON *step, const op_ctx *c, cJSON **out, char *err,
	       size_t errlen)
{
	const char *a = str(step, "operator");
	const opdef *d = a ? find(a) : NULL;
	cJSON *r = NULL;
	int rc = CONF_ENOMEM;

	*out = NULL;
	if (!d) {
		snprintf(err, errlen, "\"%s\" is not an operator action",
			 a ? a : "");
		return CONF_EFORMAT;
	}
	if (!(r = cJSON_CreateObject()))
		goto out;
	rc = d->build ? d->build(step, c, r, err, errlen) : build_fixed(d, r);
	if (rc < 0)
		goto out;
	*out = r;
	r = NULL;
out:
	if (rc == CONF_ENOMEM)
		snprintf(err, errlen, "out of memory building the %s command", a);
	cJSON_Delete(r);
	return rc;
}

/* Makes the file name in string item e absolute (for a vendor's command,
 * which runs in another directory). */
static int abs_photo(const op_ctx *c, cJSON *e)
{
	char *abs, *real;

	if (!cJSON_IsString(e))
		return 0;
	if (!(abs = scn_path(c->s, e->valuestring)))
		return CONF_ENOMEM;
	real = realpath(abs, NULL);
	e = cJSON_SetValuestring(e, real ? real : abs) ? e : NULL;
	free(real);
	free(abs);
	return e ? 0 : CONF_ENOMEM;
}

/* The upgrade's download address: "url" as given, or where the runner's
 * package server offers "package" (unreachable: a closed port). */
static int upgrade_url(const cJSON *step, const op_ctx *c, char *url,
		       size_t n, char *err, size_t errlen)
{
	const char *pkg = str(step, "package");

	if (pkg && !strcmp(pkg, "unreachable"))
		snprintf(url, n, "http://127.0.0.1:9/fw.bin"); /* error 1 */
	else if (pkg && !c->pkg_base) {
		snprintf(err, errlen, "package \"%s\": no package server is "
			 "running; give \"url\"", pkg);
		return CONF_EFORMAT;
	} else if (pkg)
		snprintf(url, n, "%s%s", c->pkg_base, pkg);
	else
		snprintf(url, n, "%s", str(step, "url"));
	return 0;
}

int op_params(const cJSON *step, const op_ctx *c, const char *cid,
	      cJSON **out, char *err, size_t errlen)
{
	static const char *const drop[] = {"operator", "at", "after", "note",
					   "ref", "dev", "unchecked", NULL};
	const char *a = str(step, "operator");
	cJSON *p = cJSON_Duplicate(step, true), *e, *arr;
	const cJSON *v;
	int rc = CONF_ENOMEM;
	int64_t ms;

	*out = NULL;
	if (!p)
		goto fail;
	for (size_t i = 0; drop[i]; i++)
		cJSON_DeleteItemFromObjectCaseSensitive(p, drop[i]);
	if (!cJSON_AddStringToObject(p, "cid", cid) ||
	    !cJSON_AddStringToObject(p, "action", a) ||
	    !cJSON_AddItemToObject(p, "ref", str(step, "ref")
			? cJSON_CreateString(str(step, "ref")) : cJSON_CreateNull()) ||
	    !cJSON_AddBoolToObject(p, "unchecked", cJSON_IsTrue(
			cJSON_GetObjectItemCaseSensitive(step, "unchecked"))))
		goto fail;
	/* photos: the absolute path, and the bytes for a server elsewhere */
	if ((v = get(step, "photo")) && cJSON_IsString(v) &&
	    !get(step, "photo_base64") &&
	    ((rc = add_photo(c, v->valuestring, NULL, p, "photo_base64", err,
			     errlen)) < 0 ||
	     (rc = abs_photo(c, cJSON_GetObjectItemCaseSensitive(p, "photo"))) < 0))
		goto fail;
	if (get(step, "photos") && !get(step, "photos_base64")) {
		if (!(arr = cJSON_AddArrayToObject(p, "photos_base64")))
			goto fail;
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(p, "photos"))
			if (cJSON_IsString(e) &&
			    ((rc = add_photo(c, e->valuestring, arr, NULL, NULL,
					     err, errlen)) < 0 ||
			     (rc = abs_photo(c, e)) < 0))
				goto fail;
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(p, "persons")) {
		cJSON *ph = cJSON_GetObjectItemCaseSensitive(e, "photo");
		if (cJSON_IsString(ph) &&
		    !cJSON_GetObjectItemCaseSensitive(e, "photo_base64") &&
		    ((rc = add_photo(c, ph->valuestring, NULL, e, "photo_base64",
				     err, errlen)) < 0 ||
		     (rc = abs_photo(c, ph)) < 0))
			goto fail;
	}
	rc = CONF_ENOMEM;
	if (!strcmp(a, "set_time")) {
		scn_time(get(step, "utc"), &ms);
		cJSON_DeleteItemFromObjectCaseSensitive(p, "utc");
		if (!cJSON_AddNumberToObject(p, "utc", (double)(ms / 1000)))
			goto fail;
	} else if (!strcmp(a, "upgrade")) {
		char url[512];
		if ((rc = upgrade_url(step, c, url, sizeof url, err, errlen)) < 0)
			goto fail;
		rc = CONF_ENOMEM;
		/* the package, served by camsim, is now the URL */
		cJSON_DeleteItemFromObjectCaseSensitive(p, "url");
		cJSON_DeleteItemFromObjectCaseSensitive(p, "package");
		if (!cJSON_AddStringToObject(p, "url", url))
			goto fail;
	} else if (!strcmp(a, "set_server") && str(step, "url") &&
		   !strcmp(str(step, "url"), "{server}") && c->server_url) {
		cJSON_DeleteItemFromObjectCaseSensitive(p, "url");
		if (!cJSON_AddStringToObject(p, "url", c->server_url))
			goto fail;
	}
	*out = p;
	return 0;
fail:
	if (rc == CONF_ENOMEM)
		snprintf(err, errlen, "out of memory building the %s parameters",
			 a);
	cJSON_Delete(p);
	return rc;
}
