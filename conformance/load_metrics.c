/* load_metrics.c -- classifies each ended exchange of `camsim load' into
 * answered or a failure kind (a reply validated as the device does) and
 * files it under its message kind; counts the commands replies carry and
 * how the devices applied them; the per-second series with its samples;
 * their JSON forms.  Owns the per-kind records; touches no device. */
#include "load_metrics.h"

#include "base.h"
#include "conf_err.h"
#include "proto.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

const char *load_cmd_name(load_cmd_kind c)
{
	static const char *const names[] = {
#define LOAD_CMD_NAME(e, name) name,
		LOAD_CMD_MAP(LOAD_CMD_NAME)
#undef LOAD_CMD_NAME
	};
	return c < LOAD_C_COUNT ? names[c] : "?";
}

/* The command of a reply's top-level key (or of a violation's path
 * "$.key..."), -1 for none. */
static int cmd_of_key(const char *key, size_t n)
{
	if (n == strlen("http_server_port") &&
	    !strncmp(key, "http_server_port", n))
		return LOAD_C_SERVER;
	for (int c = 0; c < LOAD_C_COUNT; c++)
		if (strlen(load_cmd_name(c)) == n &&
		    !strncmp(key, load_cmd_name(c), n))
			return c;
	return -1;
}

/* The command a device's REJECT or ERROR sentence is about (device_cmd.c
 * starts each with the command's name or what it changes), -1 for none;
 * -2 for the whole reply refused. */
static int cmd_of_event(const char *text)
{
	static const struct { const char *prefix; int c; } map[] = {
		{"reply body is not", -2},
		{"facelib_batch", LOAD_C_BATCH}, {"batch ", LOAD_C_BATCH},
		{"facelib", LOAD_C_FACELIB}, {"config", LOAD_C_CONFIG},
		{"strateg", LOAD_C_STRATEGY}, {"reupload", LOAD_C_REUPLOAD},
		{"log clear", LOAD_C_FACELOG}, {"address change", LOAD_C_SERVER},
		{"http_server_url", LOAD_C_SERVER},
		{"new server address", LOAD_C_SERVER},
		{"fw_upgrade", LOAD_C_UPGRADE}, {"reboot", LOAD_C_REBOOT}};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strncmp(text, map[i].prefix, strlen(map[i].prefix)))
			return map[i].c;
	return -1;
}

/* Judges the commands of the reply applied last: failed when the device
 * refused or could not keep them, applied otherwise. */
static void pend_settle(load_metrics *m)
{
	for (int c = 0; c < LOAD_C_COUNT; c++)
		if (m->pend.got & (1u << c)) {
			m->cmd[c].received++;
			if (m->pend.bad & (1u << c))
				m->cmd[c].failed++;
			else
				m->cmd[c].applied++;
		}
	memset(&m->pend, 0, sizeof m->pend);
}

static void count_rule(load_kind *k, const char *id, uint64_t n)
{
	for (size_t i = 0; i < k->n_rules; i++)
		if (!strcmp(k->rules[i].id, id)) {
			k->rules[i].n += n;
			return;
		}
	if (k->n_rules == LOAD_RULES_MAX || strlen(id) >= sizeof k->rules[0].id) {
		k->rules_other += n;
		return;
	}
	snprintf(k->rules[k->n_rules].id, sizeof k->rules[0].id, "%s", id);
	k->rules[k->n_rules++].n = n;
}

/* Judges a reply read as the device reads it: json NULL (not JSON) or
 * not an object fails as not JSON; else the commands its keys name go
 * into m->pend (for who) and the rules msg and rep say it broke count
 * under k.  Returns LOAD_F_COUNT when answered, else the failure. */
static int judge_read(load_metrics *m, load_kind *k, const void *who,
		      const cJSON *j, const proto_msg *msg,
		      const proto_report *rep)
{
	const cJSON *e;
	int c;

	if (!j || !cJSON_IsObject(j))
		return LOAD_F_NOTJSON;
	cJSON_ArrayForEach(e, j)
		if ((c = cmd_of_key(e->string, strlen(e->string))) >= 0)
			m->pend.got |= 1u << c;
	m->pend.who = who;
	if (msg->kind == PROTO_REPLY && !rep->n_must)
		return LOAD_F_COUNT;
	/* a rule a reply broke twice (two list items) counts once */
	for (size_t i = 0; i < rep->n; i++) {
		bool again = false;
		if (rep->v[i].sev != PROTO_MUST)
			continue;
		for (size_t p = 0; p < i && !again; p++)
			again = rep->v[p].sev == PROTO_MUST &&
				!strcmp(rep->v[p].rule, rep->v[i].rule);
		if (!again)
			count_rule(k, rep->v[i].rule, 1);
		/* the device refuses the command under the path */
		if (!strncmp(rep->v[i].path, "$.", 2) &&
		    (c = cmd_of_key(rep->v[i].path + 2, strcspn(
				    rep->v[i].path + 2, ".["))) >= 0)
			m->pend.bad |= 1u << c;
	}
	if (msg->kind != PROTO_REPLY)
		m->pend.bad = m->pend.got;
	return LOAD_F_VIOLATION;
}

/* A 200's body as the device takes it (sim/device.c dev__body_read):
 * nothing (only whitespace: no command), or JSON its parser accepts
 * whose object decodes as a command reply.  The device's own reading
 * (x->reply) when it made one under the profile judged here, so the
 * reply is parsed once; else read here the same way.  Returns
 * LOAD_F_COUNT when answered, else the failure; counts the rules broken
 * under k and the commands the reply carries into m->pend (for who). */
static int judge_body(load_metrics *m, load_kind *k, const void *who,
		      const dev_exchange *x)
{
	const proto_profile *prof = m->prof ? m->prof : &proto_profile_strict;
	const loop_http_res *r = x->res;
	proto_arena a = PROTO_ARENA_INIT;
	proto_report rep;
	proto_msg msg;
	cJSON *j = NULL;
	char why[256];
	int res;

	if (x->reply && x->reply->prof == prof)
		return judge_read(m, k, who, x->reply->json, x->reply->msg,
				  x->reply->rep);
	if (proto_json_blank(r->body, 0, r->len))
		return LOAD_F_COUNT;
	memset(&rep, 0, sizeof rep);
	if (proto_json_parse(r->body, r->len, &j, why, sizeof why) == 0 &&
	    cJSON_IsObject(j))
		proto_decode(j, PROTO_TO_DEVICE, prof, &a, &msg, &rep);
	res = judge_read(m, k, who, cJSON_IsObject(j) ? j : NULL, &msg, &rep);
	cJSON_Delete(j);
	proto_report_free(&rep);
	proto_arena_free(&a);
	return res;
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

STATIC_ASSERT(HIST_BUCKETS <= (1u << LOAD_SB_BITS),
	      "a bucket index fits an entry's low bits");

/* The scratch entries grown to n; false without memory. */
static bool ebuf_fit(load_metrics *m, size_t n)
{
	uint32_t *p;

	if (n <= m->ebuf_cap)
		return true;
	if (!(p = realloc(m->ebuf, n * sizeof *p)))
		return false;
	m->ebuf = p;
	m->ebuf_cap = n;
	return true;
}

/* s's buckets into h (h cleared first); false when a spilled second
 * cannot be read back (no memory, or the file failed). */
static bool sec_load(load_metrics *m, const load_sec *s, hist *h)
{
	const uint32_t *e;

	memset(h, 0, sizeof *h);
	if (s->spilled &&
	    (!ebuf_fit(m, s->nb) ||
	     pread(m->spill_fd, m->ebuf, (size_t)s->nb * sizeof *m->ebuf,
		   (off_t)s->off) != (ssize_t)(s->nb * sizeof *m->ebuf)))
		return false;
	e = s->spilled ? m->ebuf : s->b;
	for (uint32_t i = 0; i < s->nb; i++)
		hist_add_n(h, hist_bucket_lo(e[i] & ((1u << LOAD_SB_BITS) - 1)),
			   e[i] >> LOAD_SB_BITS);
	return true;
}

/* n entries of bucket storage from the newest block, or a new block;
 * NULL without memory. */
static uint32_t *sb_take(load_metrics *m, uint32_t n)
{
	load_sblock *k = m->blocks;

	if (!k || k->cap - k->used < n) {
		uint32_t cap = n > LOAD_SB_BLOCK ? n : LOAD_SB_BLOCK;
		if (!(k = malloc(sizeof *k + (size_t)cap * sizeof k->e[0])))
			return NULL;
		k->used = 0;
		k->cap = cap;
		k->next = m->blocks;
		m->blocks = k;
	}
	k->used += n;
	return k->e + k->used - n;
}

/* h's non-empty buckets as s's; false (s unchanged) without memory.  A
 * second filed for the first time goes to the spill file when there is
 * one; one filed again (shards merged, the last second closed twice)
 * takes its old place in memory when the entries fit, else new ones (the
 * old are left unused: only merges do this, once per input second). */
static bool sec_store(load_metrics *m, load_sec *s, const hist *h)
{
	size_t n = 0;
	uint32_t *b;

	for (size_t i = 0; i < HIST_BUCKETS; i++)
		if (h->n[i])
			n += (h->n[i] + LOAD_SB_MAXN - 1) / LOAD_SB_MAXN;
	if (n > UINT32_MAX || !ebuf_fit(m, n))
		return false;
	n = 0;
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		for (uint64_t left = h->n[i]; left; ) {
			uint64_t k = left < LOAD_SB_MAXN ? left : LOAD_SB_MAXN;
			m->ebuf[n++] = (uint32_t)i | (uint32_t)k << LOAD_SB_BITS;
			left -= k;
		}
	if (m->spill && !s->nb &&
	    pwrite(m->spill_fd, m->ebuf, n * sizeof *m->ebuf,
		   (off_t)m->spill_off) == (ssize_t)(n * sizeof *m->ebuf)) {
		s->off = m->spill_off;
		s->spilled = true;
		s->nb = (uint32_t)n;
		m->spill_off += n * sizeof *m->ebuf;
		return true;
	}
	if (!s->spilled && n <= s->nb)
		b = s->b;
	else if (!(b = sb_take(m, (uint32_t)n)))
		return false;
	memcpy(b, m->ebuf, n * sizeof *b);
	s->b = b;
	s->spilled = false;
	s->nb = (uint32_t)n;
	return true;
}

void load_metrics_spill(load_metrics *m, int fd)
{
	if (m->spill)
		close(m->spill_fd);
	m->spill = fd >= 0;
	m->spill_fd = fd;
	m->spill_off = 0;
}

/* Grows the records to hold cap seconds (zeroed); false without memory. */
static bool sec_grow(load_metrics *m, size_t cap)
{
	load_sec *p = realloc(m->sec, cap * sizeof *p);

	if (!p)
		return false;
	memset(p + m->capsec, 0, (cap - m->capsec) * sizeof *p);
	m->sec = p;
	m->capsec = cap;
	return true;
}

int load_metrics_reserve(load_metrics *m, int64_t seconds)
{
	size_t cap = seconds < 1 ? 1 : seconds > LOAD_SERIES_MAX ?
		     LOAD_SERIES_MAX : (size_t)seconds;

	if (cap <= m->capsec)
		return 0;
	return sec_grow(m, cap) ? 0 : CONF_ENOMEM;
}

size_t load_series_bytes(const load_metrics *m)
{
	size_t n = m->capsec * sizeof *m->sec + m->ebuf_cap * sizeof *m->ebuf;

	for (const load_sblock *k = m->blocks; k; k = k->next)
		n += sizeof *k + (size_t)k->cap * sizeof k->e[0];
	return n;
}

/* The record of second t, grown to it; NULL past LOAD_SERIES_MAX or
 * without memory. */
static load_sec *sec_at(load_metrics *m, int64_t t)
{
	if (t < 0 || t >= LOAD_SERIES_MAX)
		return NULL;
	if ((size_t)t >= m->capsec) {
		size_t cap = m->capsec ? m->capsec : 64;
		while (cap <= (size_t)t)
			cap *= 2;
		if (cap > LOAD_SERIES_MAX)
			cap = LOAD_SERIES_MAX;
		if (!sec_grow(m, cap))
			return NULL;
	}
	if ((size_t)t >= m->nsec)
		m->nsec = (size_t)t + 1;
	return &m->sec[t];
}

/* Adds h into second t's buckets: stored as they are into a second
 * without any (the run's case, once a second), else merged through the
 * scratch histogram. */
static int sec_add_hist(load_metrics *m, int64_t t, const hist *h)
{
	load_sec *s = sec_at(m, t);

	if (!s)
		return t >= LOAD_SERIES_MAX ? 0 : CONF_ENOMEM;
	if (!h->count)
		return 0;
	if (!s->nb)
		return sec_store(m, s, h) ? 0 : CONF_ENOMEM;
	if (!m->scratch && !(m->scratch = malloc(sizeof *m->scratch)))
		return CONF_ENOMEM;
	if (!sec_load(m, s, m->scratch))
		return CONF_ENOMEM;
	hist_merge(m->scratch, h);
	return sec_store(m, s, m->scratch) ? 0 : CONF_ENOMEM;
}

/* Files the latencies gathered in cur under their second. */
static void close_second(load_metrics *m)
{
	if (!m->cur || !m->cur->count)
		return;
	if (sec_add_hist(m, m->cur_s, m->cur) < 0 || m->cur_s >= LOAD_SERIES_MAX)
		m->series_dropped += m->cur->count;
	memset(m->cur, 0, sizeof *m->cur);
}

/* Counts one ended exchange in the second now_s; lat < 0: no latency. */
static void series_count(load_metrics *m, bool failed, int64_t lat)
{
	load_sec *s;

	if (m->now_s != m->cur_s) {
		close_second(m);
		m->cur_s = m->now_s;
	}
	if (!(s = sec_at(m, m->now_s)) ||
	    (lat >= 0 && !m->cur && !(m->cur = calloc(1, sizeof *m->cur)))) {
		m->series_dropped++;
		return;
	}
	s->requests++;
	s->failed += failed;
	if (lat >= 0)
		hist_add(m->cur, (uint64_t)lat);
}

void load_metrics_exchange(load_metrics *m, const void *who,
			   const dev_exchange *x)
{
	const loop_http_res *r = x->res;
	load_kind *k;
	uint64_t answered, lat;
	int f;

	pend_settle(m); /* the reply before this one is applied by now */
	if (!r) {
		m->unsent++;
		return;
	}
	if (!(k = kind_for(m, x->kind ? x->kind : "unknown"))) {
		m->oom++;
		return;
	}
	k->requests++;
	answered = k->answered;
	lat = r->t_total_ms > 0 ? (uint64_t)(r->t_total_ms * 1000.0 + 0.5) : 0;
	switch (r->fail) {
	case LOOP_HTTP_OK:
		count_code(k, r->status, 1);
		hist_add(&k->lat_us, lat);
		if (r->status != 200)
			k->failed[LOAD_F_STATUS]++;
		else if ((f = judge_body(m, k, who, x)) < LOAD_F_COUNT)
			k->failed[f]++;
		else
			k->answered++;
		if (x->fault) /* the device cut it: it applies nothing */
			memset(&m->pend, 0, sizeof m->pend);
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
	series_count(m, k->answered == answered, r->fail == LOOP_HTTP_OK
		     ? (int64_t)(lat > HIST_MAX ? HIST_MAX : lat) : -1);
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
		for (size_t r = 0; r < m->k[i]->n_rules; r++)
			count_rule(out, m->k[i]->rules[r].id,
				   m->k[i]->rules[r].n);
		out->rules_other += m->k[i]->rules_other;
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
	cJSON *o = cJSON_CreateObject(), *f, *l, *c, *ru = NULL;
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
	/* "rules" only where a reply broke one: {"reply.x.range": n, ...,
	 * "other": n when they overflowed} */
	if (k->n_rules && (ru = cJSON_AddObjectToObject(o, "rules"))) {
		for (size_t i = 0; i < k->n_rules; i++)
			cJSON_AddNumberToObject(ru, k->rules[i].id,
						(double)k->rules[i].n);
		if (k->rules_other)
			cJSON_AddNumberToObject(ru, "other",
						(double)k->rules_other);
	}
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
	if (!f || !c || !l || (k->n_rules && !ru)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static bool get_u64(const cJSON *o, const char *key, uint64_t *v,
		    char *err, size_t errlen)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(j) || j->valuedouble < 0 ||
	    j->valuedouble != (double)(uint64_t)j->valuedouble) {
		snprintf(err, errlen, "\"%s\" must be a non-negative integer",
			 key);
		return false;
	}
	*v = (uint64_t)j->valuedouble;
	return true;
}

/* The [[lo,n],...] member "buckets" of o into h. */
static int buckets_of(const cJSON *o, hist *h, char *err, size_t errlen)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "buckets");
	char *txt, why[200];
	int rc;

	if (!cJSON_IsArray(b)) {
		snprintf(err, errlen, "\"buckets\" must be an array of "
			 "[lo, count] pairs");
		return CONF_EINVAL;
	}
	if (!(txt = cJSON_PrintUnformatted(b)))
		return CONF_ENOMEM;
	rc = hist_from_json(h, txt, why, sizeof why);
	free(txt);
	if (rc < 0) {
		snprintf(err, errlen, "\"buckets\": %s", why);
		return CONF_EINVAL;
	}
	return 0;
}

int load_kind_from_json(const cJSON *o, const char *name, load_kind *k,
			char *err, size_t errlen)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "failures");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "status_codes");
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "latency_us"), *e;
	const cJSON *ru = cJSON_GetObjectItemCaseSensitive(o, "rules");
	char why[300];
	int rc;

	memset(k, 0, sizeof *k);
	snprintf(k->name, sizeof k->name, "%s", name);
	if (!cJSON_IsObject(o) || !cJSON_IsObject(f) || !cJSON_IsObject(l) ||
	    (ru && !cJSON_IsObject(ru))) {
		snprintf(err, errlen, "kind \"%s\" must be an object with "
			 "\"failures\" and \"latency_us\" objects (and "
			 "\"rules\" an object when present)", name);
		return CONF_EINVAL;
	}
	if (!get_u64(o, "requests", &k->requests, why, sizeof why) ||
	    !get_u64(o, "answered", &k->answered, why, sizeof why))
		goto bad;
	for (int i = 0; i < LOAD_F_COUNT; i++)
		/* reports of a camsim before "violation" have none */
		if ((i != LOAD_F_VIOLATION || cJSON_GetObjectItemCaseSensitive(
		     f, load_fail_name(i))) &&
		    !get_u64(f, load_fail_name(i), &k->failed[i], why, sizeof why))
			goto bad;
	cJSON_ArrayForEach(e, ru) {
		uint64_t n;
		if (!get_u64(ru, e->string, &n, why, sizeof why))
			goto bad;
		if (!strcmp(e->string, "other"))
			k->rules_other += n;
		else
			count_rule(k, e->string, n);
	}
	cJSON_ArrayForEach(e, c) {
		uint64_t n;
		char *end;
		long code = strtol(e->string, &end, 10);
		if (!get_u64(c, e->string, &n, why, sizeof why))
			goto bad;
		if (!strcmp(e->string, "other"))
			k->codes_other += n;
		else if (*end || end == e->string) {
			snprintf(why, sizeof why, "status code \"%s\" is no "
				 "number", e->string);
			goto bad;
		} else
			count_code(k, code, n);
	}
	if ((rc = buckets_of(l, &k->lat_us, why, sizeof why)) < 0) {
		if (rc == CONF_ENOMEM)
			return rc;
		goto bad;
	}
	/* the exact values beside the buckets' lows */
	if (k->lat_us.count && (!get_u64(l, "min", &k->lat_us.min, why, sizeof why)
	    || !get_u64(l, "max", &k->lat_us.max, why, sizeof why) ||
	    !get_u64(l, "sum", &k->lat_us.sum, why, sizeof why)))
		goto bad;
	if (k->answered + load_kind_failed(k) != k->requests) {
		snprintf(why, sizeof why, "requests %llu are not answered + "
			 "failed (%llu)", (unsigned long long)k->requests,
			 (unsigned long long)(k->answered + load_kind_failed(k)));
		goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "kind \"%s\": %s", name, why);
	return CONF_EINVAL;
}

int load_metrics_add_kind(load_metrics *m, const load_kind *k)
{
	load_kind *d = kind_for(m, k->name);

	if (!d)
		return CONF_ENOMEM;
	d->requests += k->requests;
	d->answered += k->answered;
	for (int f = 0; f < LOAD_F_COUNT; f++)
		d->failed[f] += k->failed[f];
	hist_merge(&d->lat_us, &k->lat_us);
	for (size_t c = 0; c < k->n_codes; c++)
		count_code(d, k->codes[c].code, k->codes[c].n);
	d->codes_other += k->codes_other;
	for (size_t r = 0; r < k->n_rules; r++)
		count_rule(d, k->rules[r].id, k->rules[r].n);
	d->rules_other += k->rules_other;
	return 0;
}

cJSON *load_series_json(load_metrics *m)
{
	cJSON *o = cJSON_CreateObject(), *a;
	hist *h = malloc(sizeof *h);
	strbuf b = {0};
	bool ok = o && h;

	close_second(m);
	if (ok) {
		cJSON_AddNumberToObject(o, "step_s", 1);
		cJSON_AddNumberToObject(o, "dropped", (double)m->series_dropped);
		ok = (a = cJSON_AddArrayToObject(o, "seconds")) != NULL;
	}
	for (size_t t = 0; ok && t < m->nsec; t++) {
		cJSON *s = cJSON_CreateObject();
		if (!s || !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			ok = false;
			break;
		}
		if (!sec_load(m, &m->sec[t], h)) {
			ok = false; /* a spilled second not read back */
			break;
		}
		cJSON_AddNumberToObject(s, "t", (double)t);
		cJSON_AddNumberToObject(s, "requests", (double)m->sec[t].requests);
		cJSON_AddNumberToObject(s, "failed", (double)m->sec[t].failed);
		cJSON_AddNumberToObject(s, "p50", (double)hist_quantile(h, 0.5));
		cJSON_AddNumberToObject(s, "p99", (double)hist_quantile(h, 0.99));
		if (m->sec[t].sampled) {
			cJSON_AddNumberToObject(s, "offline",
						(double)m->sec[t].offline);
			cJSON_AddNumberToObject(s, "rss_kb",
						(double)m->sec[t].rss_kb);
		}
		b.n = 0;
		hist_to_json(h, &b);
		ok = !b.oom && cJSON_AddRawToObject(s, "buckets", b.p);
	}
	free(b.p);
	free(h);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int load_series_add_json(load_metrics *m, const cJSON *s, char *err,
			 size_t errlen)
{
	const cJSON *secs = cJSON_GetObjectItemCaseSensitive(s, "seconds"), *e;
	hist *h = malloc(sizeof *h);
	uint64_t t, n, f;
	char why[300];
	int rc = 0, idx = -1;

	if (!h)
		return CONF_ENOMEM;
	if (!cJSON_IsArray(secs)) {
		snprintf(err, errlen, "\"series.seconds\" must be an array");
		rc = CONF_EINVAL;
		goto out;
	}
	cJSON_ArrayForEach(e, secs) {
		load_sec *d;
		idx++;
		if (!get_u64(e, "t", &t, why, sizeof why) ||
		    !get_u64(e, "requests", &n, why, sizeof why) ||
		    !get_u64(e, "failed", &f, why, sizeof why) ||
		    (rc = buckets_of(e, h, why, sizeof why)) < 0) {
			snprintf(err, errlen, "series.seconds[%d]: %s", idx,
				 why);
			if (rc != CONF_ENOMEM)
				rc = CONF_EINVAL;
			goto out;
		}
		if (!(d = sec_at(m, (int64_t)t))) {
			if (t < LOAD_SERIES_MAX) {
				rc = CONF_ENOMEM;
				goto out;
			}
			m->series_dropped += n;
			continue;
		}
		d->requests += n;
		d->failed += f;
		/* samples of several shards add: records over all their
		 * devices, the memory of all their processes */
		if (cJSON_GetObjectItemCaseSensitive(e, "offline")) {
			uint64_t off, rss;
			if (!get_u64(e, "offline", &off, why, sizeof why) ||
			    !get_u64(e, "rss_kb", &rss, why, sizeof why)) {
				snprintf(err, errlen, "series.seconds[%d]: %s",
					 idx, why);
				rc = CONF_EINVAL;
				goto out;
			}
			d->sampled = true;
			d->offline += off;
			d->rss_kb += rss;
		}
		if ((rc = sec_add_hist(m, (int64_t)t, h)) < 0)
			goto out;
	}
	if (get_u64(s, "dropped", &n, why, sizeof why))
		m->series_dropped += n;
out:
	free(h);
	return rc;
}

void load_metrics_event(load_metrics *m, const void *who,
			const dev_event *ev)
{
	int c;

	if (who != m->pend.who) {
		pend_settle(m); /* another device: that reply is applied */
		return;
	}
	if (ev->kind != DEV_EV_REJECT && ev->kind != DEV_EV_ERROR)
		return;
	if ((c = cmd_of_event(ev->text)) == -2)
		m->pend.bad = m->pend.got;
	else if (c >= 0)
		m->pend.bad |= 1u << c;
}

void load_metrics_sample(load_metrics *m, int64_t t, uint64_t offline,
			 uint64_t rss_kb)
{
	load_sec *s = sec_at(m, t);

	pend_settle(m);
	if (!s)
		return; /* past LOAD_SERIES_MAX: the series stops growing */
	s->sampled = true;
	s->offline = offline;
	s->rss_kb = rss_kb;
}

uint64_t load_series_offline_peak(const load_metrics *m)
{
	uint64_t peak = 0;

	for (size_t t = 0; t < m->nsec; t++)
		if (m->sec[t].sampled && m->sec[t].offline > peak)
			peak = m->sec[t].offline;
	return peak;
}

cJSON *load_cmds_json(const load_metrics *m)
{
	cJSON *o = cJSON_CreateObject(), *c;

	for (int i = 0; o && i < LOAD_C_COUNT; i++) {
		if (!m->cmd[i].received)
			continue;
		if (!(c = cJSON_AddObjectToObject(o, load_cmd_name(i)))) {
			cJSON_Delete(o);
			return NULL;
		}
		cJSON_AddNumberToObject(c, "received", (double)m->cmd[i].received);
		cJSON_AddNumberToObject(c, "applied", (double)m->cmd[i].applied);
		cJSON_AddNumberToObject(c, "failed", (double)m->cmd[i].failed);
	}
	return o;
}

int load_cmds_add_json(load_metrics *m, const cJSON *c, char *err,
		       size_t errlen)
{
	const cJSON *e;
	char why[200];

	if (c && !cJSON_IsObject(c)) {
		snprintf(err, errlen, "\"commands\" must be an object");
		return CONF_EINVAL;
	}
	cJSON_ArrayForEach(e, c) {
		int k = cmd_of_key(e->string, strlen(e->string));
		load_cmd x;
		if (k < 0 || strcmp(e->string, load_cmd_name(k))) {
			snprintf(err, errlen, "commands: \"%s\" is no command "
				 "of a reply (%s, ...)", e->string,
				 load_cmd_name(0));
			return CONF_EINVAL;
		}
		if (!get_u64(e, "received", &x.received, why, sizeof why) ||
		    !get_u64(e, "applied", &x.applied, why, sizeof why) ||
		    !get_u64(e, "failed", &x.failed, why, sizeof why) ||
		    (x.applied + x.failed != x.received &&
		     snprintf(why, sizeof why, "received is not applied + "
			      "failed"))) {
			snprintf(err, errlen, "commands.%s: %s", e->string, why);
			return CONF_EINVAL;
		}
		m->cmd[k].received += x.received;
		m->cmd[k].applied += x.applied;
		m->cmd[k].failed += x.failed;
	}
	return 0;
}

void load_metrics_free(load_metrics *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->k[i]);
	while (m->blocks) {
		load_sblock *k = m->blocks;
		m->blocks = k->next;
		free(k);
	}
	free(m->sec);
	free(m->cur);
	free(m->scratch);
	free(m->ebuf);
	if (m->spill)
		close(m->spill_fd);
	memset(m, 0, sizeof *m);
}
