/* proto.c -- the protocol module's plumbing: error texts, the arena that
 * owns decoded messages, violation reports, profiles and kind names.
 * No I/O. */
#include "proto.h"
#include "base_err.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *proto_strerror(int rc)
{
	switch (rc) {
#define PROTO_ERR_CASE(name, code, text)                                      \
	case PROTO_E##name:                                                   \
		return text;
		PROTO_ERRNO_MAP(PROTO_ERR_CASE)
#undef PROTO_ERR_CASE
	}
	/* base/'s codes (-1..-99) and 0 are named by base_strerror */
	return base_strerror(rc);
}

/* ---------------------------------------------------------------- arena */

struct proto_chunk {
	struct proto_chunk *next;
	size_t used, cap;
	max_align_t data[]; /* cap bytes follow */
};

#define ARENA_CHUNK 16384

void *proto_arena_alloc(proto_arena *a, size_t n)
{
	struct proto_chunk *c = a->head;
	size_t al = sizeof(max_align_t);

	n = (n + al - 1) / al * al;
	if (n == 0)
		n = al;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > ARENA_CHUNK / 2 ? n : ARENA_CHUNK;
		if (cap > SIZE_MAX - sizeof *c)
			return NULL;
		c = malloc(sizeof *c + cap);
		if (!c)
			return NULL;
		c->used = 0;
		c->cap = cap;
		/* a big block goes behind the current chunk so that the
		 * current one keeps serving small requests */
		if (cap != ARENA_CHUNK && a->head) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	a->bytes += n;
	memset(p, 0, n);
	return p;
}

char *proto_arena_strndup(proto_arena *a, const char *s, size_t n)
{
	if (n == SIZE_MAX)
		return NULL;
	char *p = proto_arena_alloc(a, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

void proto_arena_free(proto_arena *a)
{
	struct proto_chunk *c = a->head, *next;
	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	a->bytes = 0;
}

/* ---------------------------------------------------------------- reports */

void proto_report_free(proto_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].rule);
		free(r->v[i].path);
		free(r->v[i].msg);
	}
	free(r->v);
	memset(r, 0, sizeof *r);
}

int proto_report_add(proto_report *r, proto_severity sev, const char *rule,
		     const char *path, const char *fmt, ...)
{
	va_list ap;
	proto_violation *nv;
	char *msg = NULL;
	int len;

	if (sev == PROTO_MUST)
		r->n_must++;
	else
		r->n_should++;
	if (r->n >= PROTO_REPORT_MAX) {
		r->dropped++;
		return 0;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		nv = realloc(r->v, cap * sizeof *nv);
		if (!nv)
			goto oom;
		r->v = nv;
		r->cap = cap;
	}
	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0 || !(msg = malloc((size_t)len + 1)))
		goto oom;
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)len + 1, fmt, ap);
	va_end(ap);
	nv = &r->v[r->n];
	nv->sev = sev;
	nv->msg = msg;
	nv->rule = strdup(rule);
	nv->path = strdup(path);
	if (!nv->rule || !nv->path) {
		free(nv->rule);
		free(nv->path);
		free(msg);
		goto oom;
	}
	r->n++;
	return 0;
oom:
	r->oom = 1;
	return PROTO_ENOMEM;
}

/* ---------------------------------------------------------------- profiles */

const proto_profile proto_profile_strict = {
	.name = "strict",
	.alarm_cid = true,
};

const proto_profile proto_profile_as_printed = {
	.name = "as-printed",
	.sex_leading_space = true,
	.confidence_float32 = true,
	.lenient_datetime = true,
	.reupload_mode_3_4 = true,
};

const proto_profile *proto_profile_find(const char *name)
{
	if (!name)
		return NULL;
	if (!strcmp(name, proto_profile_strict.name))
		return &proto_profile_strict;
	if (!strcmp(name, proto_profile_as_printed.name))
		return &proto_profile_as_printed;
	return NULL;
}

/* ---------------------------------------------------------------- kinds */

const char *proto_kind_name(proto_kind k)
{
	switch (k) {
#define PROTO_KIND_CASE(e, name, dir, type)                                   \
	case PROTO_##e:                                                       \
		return name;
		PROTO_KIND_MAP(PROTO_KIND_CASE)
#undef PROTO_KIND_CASE
	default:
		return "none";
	}
}
