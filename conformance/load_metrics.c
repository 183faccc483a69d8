/* load_metrics.c -- classifies each ended exchange of `camsim load' into
 * answered or a failure kind and files it under its message kind; the JSON
 * form of one kind.  Owns the per-kind records; touches no device. */
#include "load_metrics.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

const char *load_fail_name(load_fail f)
{
	static const char *const names[] = {
#define LOAD_FAIL_NAME(e, name) name,
		LOAD_FAIL_MAP(LOAD_FAIL_NAME)
#undef LOAD_FAIL_NAME
	};
	return f < LOAD_F_COUNT ? names[f] : "?";
}

static load_kind *kind_for(load_metrics *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->k[i]->name, name))
			return m->k[i];
	if (m->n == LOAD_KINDS_MAX - 1 && strcmp(name, "other"))
		return kind_for(m, "other"); /* the last slot is "other" */
	if (m->n == LOAD_KINDS_MAX || !(m->k[m->n] = calloc(1, sizeof(load_kind))))
		return NULL;
	snprintf(m->k[m->n]->name, sizeof m->k[m->n]->name, "%s", name);
	return m->k[m->n++];
}

/* A 200's body is nothing (only whitespace: no command, docs/protocol.md
 * "The reply body carries commands") or a JSON object the device parses. */
static bool body_is_json(const char *body, size_t len)
{
	size_t i = 0;
	cJSON *j;
	bool ok;

	while (i < len && strchr(" \t\r\n", body[i]))
		i++;
	if (i == len)
		return true;
	j = cJSON_ParseWithLength(body + i, len - i);
	ok = j && cJSON_IsObject(j);

	cJSON_Delete(j);
	return ok;
}

static void count_code(load_kind *k, long code, uint64_t n)
{
	for (size_t i = 0; i < k->n_codes; i++)
		if (k->codes[i].code == code) {
			k->codes[i].n += n;
			return;
		}
	if (k->n_codes == LOAD_CODES_MAX) {
		k->codes_other += n;
		return;
	}
	k->codes[k->n_codes].code = code;
	k->codes[k->n_codes++].n = n;
}

void load_metrics_exchange(load_metrics *m, const dev_exchange *x)
{
	const loop_http_res *r = x->res;
	load_kind *k;

	if (!r) {
		m->unsent++;
		return;
	}
	if (!(k = kind_for(m, x->kind ? x->kind : "unknown"))) {
		m->oom++;
		return;
	}
	k->requests++;
	switch (r->fail) {
	case LOOP_HTTP_OK:
		count_code(k, r->status, 1);
		hist_add(&k->lat_us, r->t_total_ms > 0
			 ? (uint64_t)(r->t_total_ms * 1000.0 + 0.5) : 0);
		if (r->status != 200)
			k->failed[LOAD_F_STATUS]++;
		else if (!body_is_json(r->body, r->len))
			k->failed[LOAD_F_NOTJSON]++;
		else
			k->answered++;
		break;
	case LOOP_HTTP_CONNECT:
		k->failed[LOAD_F_REFUSED]++;
		break;
	case LOOP_HTTP_CUT:
		k->failed[LOAD_F_RESET]++;
		break;
	case LOOP_HTTP_TIMEOUT:
		k->failed[LOAD_F_TIMEOUT]++;
		break;
	default:
		k->failed[LOAD_F_OTHER]++;
		break;
	}
}

const load_kind *load_metrics_kind(const load_metrics *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->k[i]->name, name))
			return m->k[i];
	for (size_t i = 0; i < m->n_extra; i++)
		if (!strcmp(m->extra[i]->name, name))
			return m->extra[i];
	return NULL;
}

void load_metrics_total(const load_metrics *m, load_kind *out)
{
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "all");
	for (size_t i = 0; i < m->n; i++) {
		out->requests += m->k[i]->requests;
		out->answered += m->k[i]->answered;
		for (int f = 0; f < LOAD_F_COUNT; f++)
			out->failed[f] += m->k[i]->failed[f];
		hist_merge(&out->lat_us, &m->k[i]->lat_us);
		for (size_t c = 0; c < m->k[i]->n_codes; c++)
			count_code(out, m->k[i]->codes[c].code,
				   m->k[i]->codes[c].n);
		out->codes_other += m->k[i]->codes_other;
	}
}

uint64_t load_kind_failed(const load_kind *k)
{
	uint64_t n = 0;

	for (int f = 0; f < LOAD_F_COUNT; f++)
		n += k->failed[f];
	return n;
}

cJSON *load_kind_json(const load_kind *k)
{
	static const struct { const char *name; double q; } qs[] = {
		{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p99.9", 0.999}};
	cJSON *o = cJSON_CreateObject(), *f, *l, *c;
	strbuf b = {0};
	char code[24];

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "requests", (double)k->requests);
	cJSON_AddNumberToObject(o, "answered", (double)k->answered);
	cJSON_AddNumberToObject(o, "failed", (double)load_kind_failed(k));
	f = cJSON_AddObjectToObject(o, "failures");
	for (int i = 0; f && i < LOAD_F_COUNT; i++)
		cJSON_AddNumberToObject(f, load_fail_name(i), (double)k->failed[i]);
	c = cJSON_AddObjectToObject(o, "status_codes");
	for (size_t i = 0; c && i < k->n_codes; i++) {
		snprintf(code, sizeof code, "%ld", k->codes[i].code);
		cJSON_AddNumberToObject(c, code, (double)k->codes[i].n);
	}
	if (c && k->codes_other)
		cJSON_AddNumberToObject(c, "other", (double)k->codes_other);
	l = cJSON_AddObjectToObject(o, "latency_us");
	if (l) {
		cJSON_AddNumberToObject(l, "count", (double)k->lat_us.count);
		cJSON_AddNumberToObject(l, "min", (double)k->lat_us.min);
		cJSON_AddNumberToObject(l, "max", (double)k->lat_us.max);
		cJSON_AddNumberToObject(l, "sum", (double)k->lat_us.sum);
		cJSON_AddNumberToObject(l, "mean", hist_mean(&k->lat_us));
		for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
			cJSON_AddNumberToObject(l, qs[i].name, (double)
						hist_quantile(&k->lat_us, qs[i].q));
		hist_to_json(&k->lat_us, &b);
		if (b.oom || !cJSON_AddRawToObject(l, "buckets", b.p))
			l = NULL;
		free(b.p);
	}
	if (!f || !c || !l) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

void load_metrics_free(load_metrics *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->k[i]);
	memset(m, 0, sizeof *m);
}
