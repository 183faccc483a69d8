/* proto_decode.c -- walks a cJSON tree against the schema tables, filling
 * the C structs and reporting every violation with its rule id and JSON
 * path.  Decoding and validating are one walk, so the device, the mock and
 * `camsim validate' can never judge a message differently.  No I/O. */
#include "proto_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Arrays are decoded up to this many items whatever the protocol's limit,
 * so that hostile input costs memory in proportion to the limit. */
#define DECODE_MAX_ITEMS 100000

/* ---------------------------------------------------------------- paths */

void proto__vpush_key(proto_vctx *v, const char *key, size_t *save)
{
	bool ident = key[0] != '\0';
	*save = v->plen;
	for (const char *p = key; *p && ident; p++)
		ident = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '_';
	int n = ident ? snprintf(v->path + v->plen, sizeof v->path - v->plen,
				 ".%.64s", key)
		      : snprintf(v->path + v->plen, sizeof v->path - v->plen,
				 "[\"%.40s\"]", key);
	if (n > 0)
		v->plen = v->plen + (size_t)n < sizeof v->path ? v->plen + (size_t)n
							       : sizeof v->path - 1;
}

void proto__vpush_idx(proto_vctx *v, size_t i, size_t *save)
{
	*save = v->plen;
	int n = snprintf(v->path + v->plen, sizeof v->path - v->plen, "[%zu]", i);
	if (n > 0)
		v->plen = v->plen + (size_t)n < sizeof v->path ? v->plen + (size_t)n
							       : sizeof v->path - 1;
}

void proto__vpop(proto_vctx *v, size_t save)
{
	v->plen = save;
	v->path[save] = '\0';
}

/* ---------------------------------------------------------------- reports */

static void vviol(proto_vctx *v, proto_severity sev, const char *rule,
		  const char *fmt, va_list ap)
{
	char msg[768];

	if (sev == PROTO_MUST)
		v->n_must++;
	if (!v->rep)
		return;
	if (v->rep->n >= PROTO_REPORT_MAX) { /* counted, not formatted */
		proto_report_add(v->rep, sev, rule, v->path, "%s", "");
		return;
	}
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (proto_report_add(v->rep, sev, rule, v->path, "%s", msg) < 0)
		v->oom = 1;
}

void proto__viol(proto_vctx *v, proto_severity sev, const char *prefix,
		 const char *suffix, const char *fmt, ...)
{
	char rule[160];
	va_list ap;

	snprintf(rule, sizeof rule, "%s%s%s", prefix, suffix ? "." : "",
		 suffix ? suffix : "");
	va_start(ap, fmt);
	vviol(v, sev, rule, fmt, ap);
	va_end(ap);
}

void proto__xviol(proto_vctx *v, const proto_schema *s, const char *id,
		  const char *fmt, ...)
{
	proto_severity sev = PROTO_MUST;
	va_list ap;

	for (size_t i = 0; i < s->nx; i++)
		if (!strcmp(s->x[i].id, id))
			sev = s->x[i].sev;
	va_start(ap, fmt);
	vviol(v, sev, id, fmt, ap);
	va_end(ap);
}

/* "<schema>.<key>" into buf, the prefix of a field's rule ids. */
static const char *fid(char *buf, size_t n, const proto_schema *s,
		       const proto_field *f)
{
	snprintf(buf, n, "%s.%s", s->name, f->key);
	return buf;
}

/* A short, printable rendering of a JSON value for messages. */
static const char *show(char *buf, size_t n, const cJSON *it)
{
	if (cJSON_IsString(it)) {
		const char *s = it->valuestring;
		size_t len = strlen(s), cut = len > 40 ? 40 : len;
		while (cut < len && cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--; /* do not split a UTF-8 sequence */
		snprintf(buf, n, "the string \"%.*s%s\"", (int)cut, s,
			 cut < len ? "..." : "");
	} else if (cJSON_IsNumber(it)) {
		char num[40];
		proto__fmt_double(num, sizeof num, it->valuedouble);
		snprintf(buf, n, "the number %s", num);
	} else if (cJSON_IsBool(it)) {
		snprintf(buf, n, "%s", cJSON_IsTrue(it) ? "true" : "false");
	} else if (cJSON_IsNull(it)) {
		snprintf(buf, n, "null");
	} else if (cJSON_IsArray(it)) {
		snprintf(buf, n, "an array");
	} else {
		snprintf(buf, n, "an object");
	}
	return buf;
}

static const char *want(const proto_field *f)
{
	switch (f->type) {
	case PT_INT: return "an integer";
	case PT_NUM: return "a number";
	case PT_STR: return "a string";
	case PT_ARR_OBJ: return "an array of objects";
	case PT_ARR_STR: return "an array of strings";
	default: return "an object";
	}
}

static void enum_list(char *buf, size_t n, uint32_t en)
{
	size_t len = 0;
	buf[0] = '\0';
	for (int i = 0; i < 32; i++)
		if (en & (1u << i)) {
			int k = snprintf(buf + len, n - len, "%s%d", len ? ", " : "", i);
			if (k < 0 || (size_t)k >= n - len)
				break;
			len += (size_t)k;
		}
}

#define AT(obj, off) ((void *)((char *)(obj) + (off)))

static void set_has(const proto_field *f, void *obj)
{
	if (f->has_off != HAS_NONE)
		*(bool *)AT(obj, f->has_off) = true;
}

static void type_error(proto_vctx *v, const proto_schema *s,
		       const proto_field *f, const cJSON *it, const char *what)
{
	char id[128], sh[96];
	proto__viol(v, PROTO_MUST, fid(id, sizeof id, s, f), "json_type",
		    "%s must be %s; found %s", f->key, what ? what : want(f),
		    show(sh, sizeof sh, it));
}

/* Integer fields: JSON numbers with no fraction, exactly representable. */
static bool int_value(const cJSON *it, int64_t *out)
{
	double d;
	if (!cJSON_IsNumber(it))
		return false;
	d = it->valuedouble;
	if (d != floor(d) || fabs(d) > 9007199254740992.0)
		return false;
	*out = (int64_t)d;
	return true;
}

static bool scalar_limits(proto_vctx *v, const proto_schema *s,
			  const proto_field *f, double d)
{
	char id[128], a[40], b[40], c[40], list[96];

	if (f->ranged && (d < f->lo || d > f->hi)) {
		proto__fmt_double(a, sizeof a, d);
		proto__fmt_double(b, sizeof b, f->lo);
		proto__fmt_double(c, sizeof c, f->hi);
		if (f->flags & FL_OWN)
			proto__viol(v, PROTO_MUST, fid(id, sizeof id, s, f), "range",
				    "%s is %s; camsim accepts %s to %s (%s; the "
				    "document gives no range)",
				    f->key, a, b, c, f->what);
		else
			proto__viol(v, PROTO_MUST, fid(id, sizeof id, s, f), "range",
				    "%s is %s; %s allows %s to %s (%s)", f->key, a,
				    s->section, b, c, f->what);
		return false;
	}
	if (f->en && (d < 0 || d > 31 || !(f->en & (1u << (int)d)))) {
		proto__fmt_double(a, sizeof a, d);
		enum_list(list, sizeof list, f->en);
		proto__viol(v, PROTO_MUST, fid(id, sizeof id, s, f), "enum",
			    "%s is %s; allowed: %s (%s)", f->key, a, list,
			    f->what);
		return false;
	}
	return true;
}

static void decode_variant(proto_vctx *v, const proto_schema *s,
			   const proto_field *f, const cJSON *it, void *obj);

static void decode_array(proto_vctx *v, const proto_schema *s,
			 const proto_field *f, const cJSON *it, void *obj,
			 bool deep)
{
	char id[128];
	size_t n = (size_t)cJSON_GetArraySize(it), take = n, i = 0, save;
	size_t esz = f->type == PT_ARR_OBJ ? f->esz : sizeof(char *);
	size_t cap = f->max ? f->max : DECODE_MAX_ITEMS;
	const cJSON *e;
	void *items;

	if (n > cap) {
		proto__viol(v, PROTO_MUST, fid(id, sizeof id, s, f), "max_items",
			    "%s holds %zu entries; at most %zu allowed (%s%s)",
			    f->key, n, cap, f->max ? f->what : "camsim's limit",
			    f->flags & FL_OWN ? "; camsim's limit: one face per "
						"person" : "");
		take = cap;
	}
	if (n < f->min_items) {
		proto__viol(v, PROTO_MUST, fid(id, sizeof id, s, f), "min_items",
			    "%s is empty; at least %zu %s needed (%s)", f->key,
			    f->min_items, f->min_items == 1 ? "entry is" : "entries are",
			    f->what);
	}
	items = take ? proto_arena_alloc(v->a, take * esz) : NULL;
	if (take && !items) {
		v->oom = 1;
		return;
	}
	cJSON_ArrayForEach(e, it)
	{
		if (i >= take)
			break;
		proto__vpush_idx(v, i, &save);
		if (f->type == PT_ARR_OBJ) {
			if (!cJSON_IsObject(e))
				type_error(v, s, f, e, "an array of objects");
			else
				proto__decode_obj(v, f->sub, e,
						  (char *)items + i * esz, deep);
		} else if (!cJSON_IsString(e)) {
			type_error(v, s, f, e, "an array of strings");
		} else {
			size_t before = v->n_must;
			proto__check_fmt(v, s, f, e);
			if (v->n_must == before) {
				((const char **)items)[i] = proto_arena_strndup(
					v->a, e->valuestring, strlen(e->valuestring));
				if (!((const char **)items)[i])
					v->oom = 1;
			}
		}
		proto__vpop(v, save);
		i++;
	}
	*(void **)AT(obj, f->off) = items;
	*(size_t *)AT(obj, f->cnt_off) = take;
	set_has(f, obj);
}

static void decode_field(proto_vctx *v, const proto_schema *s,
			 const proto_field *f, const cJSON *it, void *obj,
			 bool deep)
{
	char id[128], sh[96];
	int64_t iv;
	size_t before = v->n_must;

	switch ((pt_type)f->type) {
	case PT_INT:
		if (!int_value(it, &iv)) {
			type_error(v, s, f, it, NULL);
			return;
		}
		if (!scalar_limits(v, s, f, (double)iv))
			return;
		proto__check_fmt(v, s, f, it);
		if (v->n_must != before)
			return;
		*(int64_t *)AT(obj, f->off) = iv;
		set_has(f, obj);
		return;
	case PT_NUM:
		if (!cJSON_IsNumber(it)) {
			type_error(v, s, f, it, NULL);
			return;
		}
		if (!scalar_limits(v, s, f, it->valuedouble))
			return;
		proto__check_fmt(v, s, f, it);
		if (v->n_must != before)
			return;
		*(double *)AT(obj, f->off) = it->valuedouble;
		set_has(f, obj);
		return;
	case PT_STR: {
		if (!cJSON_IsString(it)) {
			type_error(v, s, f, it, NULL);
			return;
		}
		size_t len = strlen(it->valuestring);
		if (f->max && len > f->max) {
			proto__viol(v, PROTO_MUST, fid(id, sizeof id, s, f),
				    "max_len",
				    "%s is %zu bytes (%s); at most %zu bytes "
				    "allowed (%s)",
				    f->key, len, show(sh, sizeof sh, it), f->max,
				    f->what);
			return;
		}
		proto__check_fmt(v, s, f, it);
		if (v->n_must != before)
			return;
		char *copy = proto_arena_strndup(v->a, it->valuestring, len);
		if (!copy)
			v->oom = 1;
		*(const char **)AT(obj, f->off) = copy;
		return;
	}
	case PT_OBJ:
		if (!cJSON_IsObject(it)) {
			type_error(v, s, f, it, NULL);
			return;
		}
		proto__decode_obj(v, f->sub, it, AT(obj, f->off),
				  deep || (f->flags & FL_DEEP));
		set_has(f, obj);
		return;
	case PT_ARR_OBJ:
	case PT_ARR_STR:
		if (!cJSON_IsArray(it)) {
			type_error(v, s, f, it, NULL);
			return;
		}
		decode_array(v, s, f, it, obj, deep || (f->flags & FL_DEEP));
		return;
	case PT_VARIANT:
		if (!cJSON_IsObject(it)) {
			type_error(v, s, f, it, NULL);
			return;
		}
		decode_variant(v, s, f, it, obj);
		return;
	}
}

static void decode_variant(proto_vctx *v, const proto_schema *s,
			   const proto_field *f, const cJSON *it, void *obj)
{
	const cJSON *sel = cJSON_GetObjectItemCaseSensitive(it, f->sel);
	const proto_schema *pick = NULL;
	char id[128], sh[96], list[96];
	int64_t val;
	uint32_t en = 0;
	size_t save;

	(void)s;
	for (const proto_variant *w = f->vars; w->schema; w++)
		en |= 1u << w->value;
	enum_list(list, sizeof list, en);
	snprintf(id, sizeof id, "%s.%s", f->key, f->sel);
	if (!sel) {
		pick = f->sel_absent;
		if (!pick) {
			proto__vpush_key(v, f->sel, &save);
			proto__viol(v, PROTO_MUST, id, "required",
				    "%s has no \"%s\"; it must say which "
				    "operation is meant (%s)",
				    f->key, f->sel, list);
			proto__vpop(v, save);
			return;
		}
	} else {
		proto__vpush_key(v, f->sel, &save);
		if (!int_value(sel, &val))
			proto__viol(v, PROTO_MUST, id, "json_type",
				    "%s must be an integer; found %s", f->sel,
				    show(sh, sizeof sh, sel));
		else
			for (const proto_variant *w = f->vars; w->schema; w++)
				if (w->value == val)
					pick = w->schema;
		if (!pick && int_value(sel, &val))
			proto__viol(v, PROTO_MUST, id, "enum",
				    "%s is %lld; %s knows %s", f->sel,
				    (long long)val, f->key, list);
		proto__vpop(v, save);
		if (!pick)
			return;
	}
	proto__decode_obj(v, pick, it, AT(obj, f->off), false);
	set_has(f, obj);
}

typedef struct keyref {
	const char *key;
	size_t idx;
} keyref;

static int keyref_cmp(const void *a, const void *b)
{
	const keyref *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* Marks in dup[] every member whose key an earlier member already has;
 * O(n log n), so an object with 100,000 keys is no quadratic trap.
 * Returns NULL (nothing is a duplicate) for 0-1 members. */
static unsigned char *find_dups(proto_vctx *v, const cJSON *json)
{
	size_t n = 0, i = 0;
	const cJSON *it;
	keyref *refs;
	unsigned char *dup;

	cJSON_ArrayForEach(it, json) n++;
	if (n < 2)
		return NULL;
	refs = malloc(n * sizeof *refs);
	dup = calloc(n, 1);
	if (!refs || !dup) {
		free(refs);
		free(dup);
		v->oom = 1;
		return NULL;
	}
	cJSON_ArrayForEach(it, json)
	{
		refs[i].key = it->string;
		refs[i].idx = i;
		i++;
	}
	qsort(refs, n, sizeof *refs, keyref_cmp);
	for (i = 1; i < n; i++)
		if (!strcmp(refs[i].key, refs[i - 1].key))
			dup[refs[i].idx] = 1;
	free(refs);
	return dup;
}

static bool reserved(const proto_schema *s, const char *key)
{
	for (const char *const *r = s->reserved; r && *r; r++)
		if (!strcmp(*r, key))
			return true;
	return false;
}

void proto__decode_obj(proto_vctx *v, const proto_schema *s, const cJSON *json,
		       void *obj, bool deep)
{
	const cJSON *it;
	uint64_t seen = 0; /* schemas have fewer than 64 fields */
	unsigned char *dup;
	size_t save, i = 0;
	char id[128];

	if (++v->depth > 32) { /* schemas nest 5 deep at most */
		v->depth--;
		return;
	}
	dup = find_dups(v, json);
	cJSON_ArrayForEach(it, json)
	{
		const proto_field *f = NULL;
		size_t k;
		for (k = 0; k < s->nf; k++)
			if (!strcmp(s->f[k].key, it->string)) {
				f = &s->f[k];
				break;
			}
		proto__vpush_key(v, it->string, &save);
		if (dup && dup[i]) {
			proto__viol(v, PROTO_MUST, "json.duplicate_key", NULL,
				    "\"%.40s\" appears twice in one object; which one "
				    "a device takes is undefined",
				    it->string);
		} else if (!f && reserved(s, it->string)) {
			/* s->check reports it under its own rule */
		} else if (!f) {
			proto__viol(v, PROTO_SHOULD, s->name, "unknown_key",
				    "\"%.40s\" is not a field of %s (%s); the "
				    "device ignores it",
				    it->string, s->name, s->section);
		} else {
			seen |= 1ull << k;
			decode_field(v, s, &s->f[k], it, obj, deep);
		}
		proto__vpop(v, save);
		i++;
	}
	free(dup);
	for (size_t k = 0; k < s->nf; k++) {
		const proto_field *f = &s->f[k];
		bool must = f->req == PQ_MUST || (deep && !(f->flags & FL_NODEEP));
		if (seen & (1ull << k) || (f->req == PQ_OPT && !must))
			continue;
		proto__vpush_key(v, f->key, &save);
		proto__viol(v, must ? PROTO_MUST : PROTO_SHOULD,
			    fid(id, sizeof id, s, f), "required",
			    "\"%s\" is missing; %s %s it (%s)", f->key, s->section,
			    must ? "requires" : "expects", f->what);
		proto__vpop(v, save);
	}
	if (s->check)
		s->check(v, obj, json);
	v->depth--;
}

/* ---------------------------------------------------------------- detect */

static bool int_is(const cJSON *it, int64_t *out)
{
	return it && int_value(it, out);
}

proto_kind proto_detect(const cJSON *json, proto_dir dir)
{
	const cJSON *t, *inner;
	int64_t type;

	if (!cJSON_IsObject(json))
		return PROTO_KIND_NONE;
	if (dir == PROTO_ANY)
		dir = proto__has(json, "type") ||
				      proto__has(json, "cid") ||
				      proto__has(json, "alarm")
			      ? PROTO_TO_SERVER
			      : PROTO_TO_DEVICE;
	if (dir == PROTO_TO_DEVICE)
		return PROTO_REPLY;
	t = cJSON_GetObjectItemCaseSensitive(json, "type");
	if (!t)
		return proto__has(json, "alarm") ? PROTO_ALARM
							  : PROTO_KIND_NONE;
	if (!int_is(t, &type))
		return PROTO_KIND_NONE;
	switch (type) {
	case 1: return PROTO_SNAPSHOT;
	case 3: return PROTO_HEARTBEAT;
	case 4: return PROTO_FACE_LIST;
	case 6: return PROTO_UPGRADE_RESULT;
	case 7:
		return proto__has(json, "strategy_manage")
			       ? PROTO_STRATEGY_RESULT
			       : PROTO_STRATEGY_LIST;
	case 8:
		inner = cJSON_GetObjectItemCaseSensitive(json, "reupload");
		return proto__has(inner, "reupload_time") ||
				       proto__has(inner, "mode") ||
				       proto__has(inner, "recordes_num")
			       ? PROTO_REUPLOAD_SETTINGS
			       : PROTO_REUPLOAD_RESULT;
	case 9: return PROTO_BATCH_RESULT;
	case 10:
		inner = cJSON_GetObjectItemCaseSensitive(json, "config");
		return proto__has(inner, "errcode") ||
				       !cJSON_IsObject(inner) ||
				       (!proto__has(inner, "face_rec") &&
					!proto__has(inner, "face_cap") &&
					!proto__has(inner, "facemask") &&
					!proto__has(inner, "temperature") &&
					!proto__has(inner, "relay") &&
					!proto__has(inner, "misc"))
			       ? PROTO_CONFIG_RESULT
			       : PROTO_CONFIG_REPORT;
	case 11: return PROTO_LOG_RESULT;
	case 12: return PROTO_CONTROL_RESULT;
	default: return PROTO_KIND_NONE;
	}
}

/* Says why json is no message at all. */
static void why_unknown(proto_vctx *v, const cJSON *json, proto_dir dir)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(json, "type");
	char sh[96];
	int64_t type;

	if (!cJSON_IsObject(json)) {
		proto__viol(v, PROTO_MUST, "message.not_object", NULL,
			    "every message of V1.16 is a JSON object; found %s",
			    show(sh, sizeof sh, json));
		return;
	}
	(void)dir;
	size_t save;
	proto__vpush_key(v, "type", &save);
	if (!t)
		proto__viol(v, PROTO_MUST, "message.type", "required",
			    "a device message carries \"type\" (1, 3, 4, 6-12) "
			    "or, for the alarm report, an \"alarm\" object; this "
			    "one has neither");
	else if (!int_is(t, &type))
		proto__viol(v, PROTO_MUST, "message.type", "json_type",
			    "type must be an integer; found %s",
			    show(sh, sizeof sh, t));
	else
		proto__viol(v, PROTO_MUST, "message.type", "enum",
			    "type %lld is not a message of V1.16 (1 snapshot, 3 "
			    "heartbeat, 4 face list, 6 upgrade, 7 strategy, 8 "
			    "retransmission, 9 batch, 10 config, 11 log, 12 "
			    "control)",
			    (long long)type);
	proto__vpop(v, save);
}

int proto_decode(const cJSON *json, proto_dir dir, const proto_profile *prof,
		 proto_arena *a, proto_msg *out, proto_report *rep)
{
	proto_vctx v = {.prof = prof ? prof : &proto_profile_strict,
			.a = a,
			.rep = rep};
	proto_kind k;

	memset(out, 0, sizeof *out);
	strcpy(v.path, "$");
	v.plen = 1;
	k = proto_detect(json, dir);
	if (k == PROTO_KIND_NONE) {
		why_unknown(&v, json, dir);
		return PROTO_EUNKNOWN;
	}
	out->kind = k;
	proto__decode_obj(&v, proto__kind_schema(k), json, &out->u, false);
	if (v.oom || (rep && rep->oom))
		return PROTO_ENOMEM;
	return v.n_must ? PROTO_EBADMSG : 0;
}

int proto_parse(const char *buf, size_t len, proto_dir dir,
		const proto_profile *prof, proto_arena *a, proto_msg *out,
		char *err, size_t errlen)
{
	proto_report rep = {0};
	cJSON *j = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if (err && errlen)
		err[0] = '\0';
	if (proto_json_blank(buf, 0, len) && dir == PROTO_TO_DEVICE) {
		out->kind = PROTO_REPLY; /* empty 200 body: nothing to do */
		return 0;
	}
	rc = proto_json_parse(buf, len, &j, err, errlen);
	if (rc < 0)
		goto out;
	rc = proto_decode(j, dir, prof, a, out, &rep);
	if (rc < 0 && rc != PROTO_ENOMEM && err && errlen) {
		for (size_t k = 0; k < rep.n; k++)
			if (rep.v[k].sev == PROTO_MUST) {
				snprintf(err, errlen, "%s: %s [%s]", rep.v[k].path,
					 rep.v[k].msg, rep.v[k].rule);
				break;
			}
	}
out:
	cJSON_Delete(j);
	proto_report_free(&rep);
	return rc;
}
