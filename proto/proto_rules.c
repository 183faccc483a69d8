/* proto_rules.c -- the rule catalogue: every rule id the validator can
 * report, generated from the same schema tables it walks, so the catalogue
 * (camsim validate --list-rules, docs/protocol-rules.md) cannot drift from
 * the checks.  No I/O. */
#include "proto_int.h"

#include <string.h>

size_t proto__schemas(const proto_schema **out, size_t max);

typedef struct cat {
	void (*fn)(const proto_rule_info *r, void *ud);
	void *ud;
	size_t n;
	char seen[1024][96]; /* ids emitted so far (a rule may be reachable twice) */
} cat;

static void emit(cat *c, const char *id, proto_severity sev,
		 const char *section, const char *text)
{
	proto_rule_info r = {id, sev, section, text};
	for (size_t i = 0; i < c->n && i < 1024; i++)
		if (!strcmp(c->seen[i], id))
			return;
	if (c->n < 1024)
		snprintf(c->seen[c->n], sizeof c->seen[0], "%s", id);
	c->n++;
	c->fn(&r, c->ud);
}

static void emitf(cat *c, const char *prefix, const char *key,
		  const char *sfx, proto_severity sev, const char *section,
		  const char *text)
{
	char id[160];
	snprintf(id, sizeof id, "%s.%s.%s", prefix, key, sfx);
	emit(c, id, sev, section, text);
}

/* Schemas whose fields FL_DEEP makes required (the config report's). */
static bool deep_reach(const proto_schema *s, const proto_schema *from,
		       bool deep)
{
	for (size_t i = 0; i < from->nf; i++) {
		const proto_field *f = &from->f[i];
		bool d = deep || (f->flags & FL_DEEP);
		if (f->sub && f->type != PT_VARIANT) {
			if (f->sub == s && d)
				return true;
			if (deep_reach(s, f->sub, d))
				return true;
		}
	}
	return false;
}

/* The key that picks s among the alternatives of a variant field (its
 * rules are the variant's own: they can never fire inside s), or NULL. */
static const char *selector_of(const proto_schema *s, const proto_schema **all,
			       size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < all[i]->nf; k++) {
			const proto_field *f = &all[i]->f[k];
			if (f->type != PT_VARIANT)
				continue;
			for (const proto_variant *w = f->vars; w->schema; w++)
				if (w->schema == s)
					return f->sel;
		}
	return NULL;
}

static void schema_rules(cat *c, const proto_schema *s,
			 const proto_schema **all, size_t n)
{
	char text[512];
	bool deep = deep_reach(s, proto__kind_schema(PROTO_CONFIG_REPORT), false);
	const char *sel = selector_of(s, all, n);

	for (size_t i = 0; i < s->nf; i++) {
		const proto_field *f = &s->f[i];
		const proto_fmt_rule *fr;
		size_t nfr;

		if (sel && !strcmp(f->key, sel))
			continue;

		if (f->req != PQ_OPT || (deep && !(f->flags & FL_NODEEP))) {
			snprintf(text, sizeof text, "%s is present%s: %s", f->key,
				 f->req == PQ_OPT ? " in the query result" : "",
				 f->what);
			emitf(c, s->name, f->key, "required",
			      f->req == PQ_SHOULD ? PROTO_SHOULD : PROTO_MUST,
			      s->section, text);
		}
		if (f->type == PT_VARIANT) {
			char pre[96];
			snprintf(pre, sizeof pre, "%s", f->key);
			snprintf(text, sizeof text, "%s carries %s, which picks the "
				 "operation", f->key, f->sel);
			/* the section of the operations it chooses between */
			const char *sect = f->vars[0].schema->section;
			if (!f->sel_absent)
				emitf(c, pre, f->sel, "required", PROTO_MUST, sect, text);
			snprintf(text, sizeof text, "%s.%s is an integer", f->key, f->sel);
			emitf(c, pre, f->sel, "json_type", PROTO_MUST, sect, text);
			snprintf(text, sizeof text, "%s.%s names a known operation",
				 f->key, f->sel);
			emitf(c, pre, f->sel, "enum", PROTO_MUST, sect, text);
			continue;
		}
		snprintf(text, sizeof text, "%s is %s", f->key,
			 f->type == PT_INT ? "an integer" :
			 f->type == PT_NUM ? "a number" :
			 f->type == PT_STR ? "a string" :
			 f->type == PT_OBJ ? "an object" :
			 f->type == PT_ARR_OBJ ? "an array of objects" :
						  "an array of strings");
		emitf(c, s->name, f->key, "json_type", PROTO_MUST, s->section, text);
		if (f->ranged) {
			char lo[40], hi[40];
			proto__fmt_double(lo, sizeof lo, f->lo);
			proto__fmt_double(hi, sizeof hi, f->hi);
			snprintf(text, sizeof text, "%s is within %s..%s: %s", f->key,
				 lo, hi, f->what);
			emitf(c, s->name, f->key, "range", PROTO_MUST, s->section, text);
		}
		if (f->en) {
			snprintf(text, sizeof text, "%s is one of the listed values: %s",
				 f->key, f->what);
			emitf(c, s->name, f->key, "enum", PROTO_MUST, s->section, text);
		}
		if (f->max && f->type == PT_STR) {
			snprintf(text, sizeof text, "%s is at most %zu bytes", f->key,
				 f->max);
			emitf(c, s->name, f->key, "max_len", PROTO_MUST, s->section,
			      text);
		}
		if (f->type == PT_ARR_OBJ || f->type == PT_ARR_STR) {
			snprintf(text, sizeof text, "%s holds at most %zu entries%s",
				 f->key, f->max ? f->max : (size_t)100000,
				 f->max ? "" : " (camsim's decoding limit)");
			emitf(c, s->name, f->key, "max_items", PROTO_MUST, s->section,
			      text);
		}
		if (f->min_items) {
			snprintf(text, sizeof text, "%s holds at least %zu entr%s",
				 f->key, f->min_items, f->min_items == 1 ? "y" : "ies");
			emitf(c, s->name, f->key, "min_items", PROTO_MUST, s->section,
			      text);
		}
		nfr = proto__fmt_rules((px_fmt)f->fmt, &fr);
		for (size_t k = 0; k < nfr; k++) {
			snprintf(text, sizeof text, "%s: %s", f->key, fr[k].text);
			emitf(c, s->name, f->key, fr[k].suffix, fr[k].sev, s->section,
			      text);
		}
	}
	snprintf(text, sizeof text, "every key is a field of %s's table (unknown "
		 "keys are ignored by the device)", s->name);
	{
		char id[160];
		snprintf(id, sizeof id, "%s.unknown_key", s->name);
		emit(c, id, PROTO_SHOULD, s->section, text);
	}
	for (size_t i = 0; i < s->nx; i++)
		emit(c, s->x[i].id, s->x[i].sev, s->section, s->x[i].text);
}

size_t proto_rules_foreach(void (*fn)(const proto_rule_info *r, void *ud),
			   void *ud)
{
	static cat c; /* large; the catalogue is walked from one thread */
	const proto_schema *all[128];
	size_t n = proto__schemas(all, 128);

	memset(&c, 0, sizeof c);
	c.fn = fn;
	c.ud = ud;
	emit(&c, "message.not_object", PROTO_MUST, "§1 Protocol communication",
	     "a message is a JSON object");
	emit(&c, "message.type.required", PROTO_MUST, "§2 Attachment: type field",
	     "a device message carries type (or, for the alarm, an alarm object)");
	emit(&c, "message.type.json_type", PROTO_MUST, "§2 Attachment: type field",
	     "type is an integer");
	emit(&c, "message.type.enum", PROTO_MUST, "§2 Attachment: type field",
	     "type is one of 1, 3, 4, 6, 7, 8, 9, 10, 11, 12");
	emit(&c, "json.duplicate_key", PROTO_MUST, "RFC 8259 §4",
	     "a key appears once per object");
	for (size_t i = 0; i < n; i++)
		schema_rules(&c, all[i], all, n);
	return c.n;
}
