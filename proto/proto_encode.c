/* proto_encode.c -- C structs to JSON (present fields only, in the
 * document's key order), and structural equality of two messages.  Both
 * walk the same schema tables as the decoder.  No I/O. */
#include "proto_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define AT(obj, off) ((const void *)((const char *)(obj) + (off)))

static bool present(const proto_field *f, const void *obj)
{
	if (f->type == PT_STR)
		return *(const char *const *)AT(obj, f->off) != NULL;
	return f->has_off != HAS_NONE && *(const bool *)AT(obj, f->has_off);
}

/* The schema a variant field's struct selects: the alternative whose
 * selector field is present with its value, else the absent-key one. */
static const proto_schema *variant_of(const proto_field *f, const void *obj)
{
	const void *sub = AT(obj, f->off);
	for (const proto_variant *w = f->vars; w->schema; w++)
		for (size_t i = 0; i < w->schema->nf; i++) {
			const proto_field *g = &w->schema->f[i];
			if (strcmp(g->key, f->sel))
				continue;
			if (present(g, sub) &&
			    *(const int64_t *)AT(sub, g->off) == w->value)
				return w->schema;
		}
	return f->sel_absent;
}

static cJSON *number(double d)
{
	char buf[40];
	proto__fmt_double(buf, sizeof buf, d);
	return cJSON_CreateRaw(buf);
}

/* ref: the tree's strings point into obj instead of being copied (for a
 * tree printed and deleted while obj is still there: proto_build) */
static cJSON *encode_obj(const proto_schema *s, const void *obj,
			 const proto_profile *prof, bool ref);

static cJSON *encode_field(const proto_field *f, const void *obj,
			   const proto_profile *prof, bool ref)
{
	const proto_schema *vs;
	cJSON *arr;

	switch ((pt_type)f->type) {
	case PT_INT:
		return number((double)*(const int64_t *)AT(obj, f->off));
	case PT_NUM: {
		double d = *(const double *)AT(obj, f->off);
		if ((f->flags & FL_QF32) && prof->confidence_float32)
			d = (double)(float)d;
		return number(d);
	}
	case PT_STR: {
		const char *s = *(const char *const *)AT(obj, f->off);
		if ((f->flags & FL_QSEX) && prof->sex_leading_space &&
		    (!strcmp(s, "male") || !strcmp(s, "female"))) {
			char buf[8];
			snprintf(buf, sizeof buf, " %s", s);
			return cJSON_CreateString(buf);
		}
		return ref ? cJSON_CreateStringReference(s)
			   : cJSON_CreateString(s);
	}
	case PT_OBJ:
		return encode_obj(f->sub, AT(obj, f->off), prof, ref);
	case PT_VARIANT:
		vs = variant_of(f, obj);
		return vs ? encode_obj(vs, AT(obj, f->off), prof, ref) : NULL;
	case PT_ARR_OBJ:
	case PT_ARR_STR: {
		const char *items = *(const char *const *)AT(obj, f->off);
		size_t n = *(const size_t *)AT(obj, f->cnt_off);
		arr = cJSON_CreateArray();
		for (size_t i = 0; arr && i < n; i++) {
			cJSON *e = f->type == PT_ARR_OBJ
					   ? encode_obj(f->sub, items + i * f->esz,
							prof, ref)
					   : cJSON_CreateString(
						     ((const char *const *)items)[i]
							     ? ((const char *const *)items)[i]
							     : "");
			if (!e || !cJSON_AddItemToArray(arr, e)) {
				cJSON_Delete(e);
				cJSON_Delete(arr);
				return NULL;
			}
		}
		return arr;
	}
	}
	return NULL;
}

static cJSON *encode_obj(const proto_schema *s, const void *obj,
			 const proto_profile *prof, bool ref)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; o && i < s->nf; i++) {
		const proto_field *f = &s->f[i];
		if (!present(f, obj))
			continue;
		if (f->type == PT_VARIANT && !variant_of(f, obj))
			continue; /* no operation chosen: nothing to write */
		cJSON *e = encode_field(f, obj, prof, ref);
		/* the schema's keys are static: not copied (a malloc and a
		 * free per field of every message) */
		if (!e || !cJSON_AddItemToObjectCS(o, f->key, e)) {
			cJSON_Delete(e);
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

static cJSON *encode(const proto_msg *m, const proto_profile *prof, bool ref)
{
	const proto_schema *s = proto__kind_schema(m->kind);
	if (!s)
		return NULL;
	return encode_obj(s, &m->u, prof ? prof : &proto_profile_strict, ref);
}

cJSON *proto_encode(const proto_msg *m, const proto_profile *prof)
{
	return encode(m, prof, false);
}

/* Every device message goes through here: the tree borrows m's strings
 * and is printed into the stack first (cJSON's own printing allocates a
 * buffer and shrinks it), so a heartbeat costs one allocation for its
 * text besides the tree's nodes. */
char *proto_build(const proto_msg *m, const proto_profile *prof)
{
	cJSON *j = encode(m, prof, true);
	char buf[1024], *out = NULL;

	if (j && cJSON_PrintPreallocated(j, buf, sizeof buf, false))
		out = strdup(buf);
	else if (j) /* longer than buf */
		out = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return out;
}

/* ---------------------------------------------------------------- equal */

static bool equal_obj(const proto_schema *s, const void *a, const void *b);

static bool equal_field(const proto_field *f, const void *a, const void *b)
{
	bool pa = present(f, a), pb = present(f, b);
	if (pa != pb)
		return false;
	if (!pa)
		return true;
	switch ((pt_type)f->type) {
	case PT_INT:
		return *(const int64_t *)AT(a, f->off) == *(const int64_t *)AT(b, f->off);
	case PT_NUM:
		return *(const double *)AT(a, f->off) == *(const double *)AT(b, f->off);
	case PT_STR:
		return !strcmp(*(const char *const *)AT(a, f->off),
			       *(const char *const *)AT(b, f->off));
	case PT_OBJ:
		return equal_obj(f->sub, AT(a, f->off), AT(b, f->off));
	case PT_VARIANT: {
		const proto_schema *sa = variant_of(f, a), *sb = variant_of(f, b);
		return sa == sb && (!sa || equal_obj(sa, AT(a, f->off), AT(b, f->off)));
	}
	case PT_ARR_OBJ:
	case PT_ARR_STR: {
		size_t n = *(const size_t *)AT(a, f->cnt_off);
		const char *ia = *(const char *const *)AT(a, f->off);
		const char *ib = *(const char *const *)AT(b, f->off);
		if (n != *(const size_t *)AT(b, f->cnt_off))
			return false;
		for (size_t i = 0; i < n; i++) {
			if (f->type == PT_ARR_OBJ) {
				if (!equal_obj(f->sub, ia + i * f->esz, ib + i * f->esz))
					return false;
			} else {
				const char *x = ((const char *const *)ia)[i];
				const char *y = ((const char *const *)ib)[i];
				if (!x || !y ? x != y : strcmp(x, y) != 0)
					return false;
			}
		}
		return true;
	}
	}
	return false;
}

static bool equal_obj(const proto_schema *s, const void *a, const void *b)
{
	for (size_t i = 0; i < s->nf; i++)
		if (!equal_field(&s->f[i], a, b))
			return false;
	return true;
}

bool proto_msg_equal(const proto_msg *a, const proto_msg *b)
{
	const proto_schema *s;
	if (a->kind != b->kind)
		return false;
	s = proto__kind_schema(a->kind);
	return !s || equal_obj(s, &a->u, &b->u);
}
