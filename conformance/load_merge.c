/* load_merge.c -- `camsim report merge': reads the report.json of the shards
 * of one `camsim load' run, adds them exactly (kinds, histograms, seconds),
 * re-judges the thresholds on the sum and writes the report files through
 * load_report.c.  Reads report files only; never runs devices. */
#include "load_merge.h"

#include "conf_err.h"
#include "file.h"
#include "hist.h"
#include "load.h"
#include "load_adapter.h"
#include "load_metrics.h"
#include "load_report.h"
#include "load_threshold.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_MAX (256u << 20) /* a year of seconds fits */
#define SHARDS_MAX 100000

static const char usage[] =
	"usage: camsim report merge OUT_DIR REPORT.json...\n"
	"\n"
	"Merges the report.json of the shards of one `camsim load --shard I/N'\n"
	"run: counts add, latency histograms and per-second series merge, the\n"
	"thresholds stored in the reports are judged again on the merged data.\n"
	"Writes OUT_DIR/report.json, junit.xml and report.html.\n"
	"Exit: 0 every threshold held, 99 a threshold failed (or a shard\n"
	"aborted), 2 the merge cannot be done or a shard is missing or could\n"
	"not run.\n";

static const cJSON *at(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static double num_or(const cJSON *o, const char *key, double dflt)
{
	const cJSON *j = at(o, key);

	return cJSON_IsNumber(j) ? j->valuedouble : dflt;
}

/* Item i of array a as a number (0 when it is none). */
static double num_or_at(const cJSON *a, int i)
{
	const cJSON *j = cJSON_GetArrayItem(a, i);

	return cJSON_IsNumber(j) ? j->valuedouble : 0;
}

static void set_num(cJSON *o, const char *key, double v)
{
	cJSON *n = cJSON_CreateNumber(v);

	if (n && !cJSON_ReplaceItemInObjectCaseSensitive(o, key, n) &&
	    !cJSON_AddItemToObject(o, key, n))
		cJSON_Delete(n);
}

static void set_item(cJSON *o, const char *key, cJSON *v)
{
	if (v && !cJSON_ReplaceItemInObjectCaseSensitive(o, key, v) &&
	    !cJSON_AddItemToObject(o, key, v))
		cJSON_Delete(v);
}

/* The threshold list of r as one string, to tell runs apart. */
static char *threshold_list(const cJSON *r)
{
	const cJSON *t;
	size_t n = 1;
	char *s;

	cJSON_ArrayForEach(t, at(r, "thresholds"))
		if (cJSON_IsString(at(t, "expr")))
			n += strlen(at(t, "expr")->valuestring) + 1;
	if (!(s = calloc(1, n)))
		return NULL;
	cJSON_ArrayForEach(t, at(r, "thresholds"))
		if (cJSON_IsString(at(t, "expr"))) {
			strcat(s, at(t, "expr")->valuestring);
			strcat(s, "\n");
		}
	return s;
}

/* Checks that r[0..n) are distinct shards of one run; *missing gets how
 * many of its shards are not among them. */
static int check_shards(const cJSON *const *r, const char *const *names,
			size_t n, long *count, long *missing, char *err,
			size_t errlen)
{
	bool *seen = NULL;
	char *th0 = threshold_list(r[0]), *th = NULL;
	int rc = CONF_EINVAL;

	*count = (long)num_or(at(r[0], "shard"), "count", 1);
	if (!th0)
		return CONF_ENOMEM;
	if (*count < 1 || *count > SHARDS_MAX) {
		snprintf(err, errlen, "%s: shard.count %ld must be from 1 to "
			 "100000", names[0], *count);
		goto out;
	}
	if (!(seen = calloc((size_t)*count, sizeof *seen))) {
		rc = CONF_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const cJSON *sh = at(r[i], "shard"), *s = at(r[i], "schema");
		long c = (long)num_or(sh, "count", 1), x = (long)num_or(sh, "index", 0);
		if (!cJSON_IsString(s) || strcmp(s->valuestring, "camsim-load/1")) {
			snprintf(err, errlen, "%s: \"schema\" must be "
				 "\"camsim-load/1\" (a report.json of camsim load)",
				 names[i]);
			goto out;
		}
		if (cJSON_IsArray(at(sh, "merged"))) {
			snprintf(err, errlen, "%s is itself a merged report; merge "
				 "the shards' own reports", names[i]);
			goto out;
		}
		if (c != *count || x < 0 || x >= c) {
			snprintf(err, errlen, "%s: shard %ld of %ld does not "
				 "belong with %s's %ld shards", names[i], x, c,
				 names[0], *count);
			goto out;
		}
		if (seen[x]) {
			snprintf(err, errlen, "%s: shard %ld is given twice (its "
				 "counts would be added twice)", names[i], x);
			goto out;
		}
		seen[x] = true;
		free(th);
		if (!(th = threshold_list(r[i]))) {
			rc = CONF_ENOMEM;
			goto out;
		}
		if (strcmp(th, th0) || num_or(at(r[i], "options"), "devices", -1)
		    != num_or(at(r[0], "options"), "devices", -1)) {
			snprintf(err, errlen, "%s: its --devices or --threshold "
				 "options differ from %s's: shards of different "
				 "runs", names[i], names[0]);
			goto out;
		}
	}
	*missing = 0;
	for (long i = 0; i < *count; i++)
		*missing += !seen[i];
	rc = 0;
out:
	free(seen);
	free(th0);
	free(th);
	return rc;
}

/* Adds every kind and the series of r into m. */
static int add_report(load_metrics *m, const cJSON *r, const char *name,
		      load_kind *k, char *err, size_t errlen)
{
	const cJSON *kinds = at(r, "kinds"), *e;
	char why[400];
	int rc;

	if (!cJSON_IsObject(kinds)) {
		snprintf(err, errlen, "%s: \"kinds\" must be an object", name);
		return CONF_EINVAL;
	}
	cJSON_ArrayForEach(e, kinds) {
		if ((rc = load_kind_from_json(e, e->string, k, why, sizeof why)) < 0
		    || (rc = load_metrics_add_kind(m, k)) < 0)
			goto bad;
	}
	if (at(r, "series") &&
	    (rc = load_series_add_json(m, at(r, "series"), why, sizeof why)) < 0)
		goto bad;
	if ((rc = load_cmds_add_json(m, at(r, "commands"), why, sizeof why)) < 0)
		goto bad;
	return 0;
bad:
	if (rc == CONF_ENOMEM)
		return rc;
	snprintf(err, errlen, "%s: %s", name, why);
	return rc;
}

typedef struct pt {
	double ms, v;
	size_t shard;
} pt;

static int pt_cmp(const void *a, const void *b)
{
	const pt *x = a, *y = b;

	return x->ms < y->ms ? -1 : x->ms > y->ms ? 1 : 0;
}

/* The shards' "propagation.adapter" members as one into o (nothing when
 * none has one): the calls merge as a kind into am (its k[0], "adapter",
 * for thresholds), devices_failed add, the errors are the shards' in
 * shard order up to LOAD_ADP_ERRORS_KEPT, and errors_left_off counts
 * every error not listed (the shards' own left-offs and those cut here). */
static int merge_adapter(const cJSON *const *r, const char *const *names,
			 size_t n, cJSON *o, load_metrics *am, char *err,
			 size_t errlen)
{
	const cJSON *a0 = NULL, *e;
	load_kind *k = malloc(sizeof *k);
	cJSON *a = NULL, *errs;
	double failed = 0, left = 0;
	char why[400];
	int rc = CONF_ENOMEM;

	if (!k || !(a = cJSON_CreateObject()) ||
	    !(errs = cJSON_CreateArray()))
		goto out;
	cJSON_AddItemToObject(a, "errors", errs);
	for (size_t i = 0; i < n; i++) {
		const cJSON *ad = at(at(r[i], "propagation"), "adapter");
		if (!ad)
			continue;
		if (!a0)
			a0 = ad;
		rc = load_kind_from_json(at(ad, "calls"), "adapter", k, why,
					 sizeof why);
		if (rc == CONF_EINVAL || (rc >= 0 && !cJSON_IsArray(at(ad,
								 "errors")))) {
			snprintf(err, errlen, "%s: propagation.adapter: %s", names[i],
				 rc < 0 ? why : "\"errors\" must be an array");
			rc = CONF_EINVAL;
			goto out;
		}
		if (rc < 0 || (rc = load_metrics_add_kind(am, k)) < 0)
			goto out;
		rc = CONF_ENOMEM;
		failed += num_or(ad, "devices_failed", 0);
		left += num_or(ad, "errors_left_off", 0);
		cJSON_ArrayForEach(e, at(ad, "errors")) {
			cJSON *x;
			if (cJSON_GetArraySize(errs) >= LOAD_ADP_ERRORS_KEPT) {
				left++;
				continue;
			}
			if (!(x = cJSON_Duplicate(e, true)) ||
			    !cJSON_AddItemToArray(errs, x)) {
				cJSON_Delete(x);
				goto out;
			}
		}
	}
	rc = 0;
	if (!a0)
		goto out;
	rc = CONF_ENOMEM;
	/* the file and the action are one run's; concurrency is per shard */
	for (const char *const *s = (const char *const[]){"file", "action",
	     "concurrency", NULL}; *s; s++)
		if (at(a0, *s))
			cJSON_AddItemToObject(a, *s, cJSON_Duplicate(at(a0, *s),
								    true));
	if (!am->n || !cJSON_AddItemToObject(a, "calls", load_kind_json(am->k[0])) ||
	    !cJSON_AddNumberToObject(a, "devices_failed", failed) ||
	    !cJSON_AddNumberToObject(a, "errors_left_off", left))
		goto out;
	cJSON_AddItemToObject(o, "adapter", a);
	a = NULL;
	rc = 0;
out:
	cJSON_Delete(a);
	free(k);
	return rc;
}

/* The shards' "propagation" members as one (*out NULL when none has one):
 * devices, confirmed, failed, refused and timeout add, the histograms
 * merge, the curves add as step functions: at every time a shard
 * confirmed, the sum of each shard's confirmed-so-far (each shard's times
 * count from its own enqueue); the adapter's members merge too
 * (merge_adapter).  *pk gets the merged "propagation" kind (load_prop.h's
 * mapping: requests devices, answered confirmed, failed status, refused
 * other, timeout timeout) for the thresholds, am the adapter's calls. */
static int merge_propagation(const cJSON *const *r, const char *const *names,
			     size_t n, cJSON **out, load_kind *pk,
			     load_metrics *am, char *err, size_t errlen)
{
	const cJSON *p0 = NULL, *e;
	hist *h = calloc(1, sizeof *h), *t = malloc(sizeof *t);
	double *last = calloc(n, sizeof *last), ndev = 0, conf = 0;
	double nfail = 0, nref = 0, nto = 0;
	pt *pts = NULL;
	size_t np = 0, cap = 0;
	cJSON *o = NULL, *c;
	strbuf b = {0};
	char why[300], *txt;
	int rc = CONF_ENOMEM;

	*out = NULL;
	if (!h || !t || !last)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const cJSON *p = at(r[i], "propagation"), *cmd = at(p, "command");
		if (!p)
			continue;
		if (!p0)
			p0 = p;
		rc = CONF_EINVAL;
		if (!cJSON_IsString(cmd) || !cJSON_IsString(at(p0, "command")) ||
		    strcmp(cmd->valuestring, at(p0, "command")->valuestring) ||
		    !cJSON_IsArray(at(p, "curve")) || !cJSON_IsArray(at(p, "hist"))) {
			snprintf(err, errlen, "%s: \"propagation\" must have the "
				 "first shard's \"command\", a \"hist\" and a "
				 "\"curve\" array", names[i]);
			goto out;
		}
		ndev += num_or(p, "devices", 0);
		conf += num_or(p, "confirmed", 0);
		nfail += num_or(p, "failed", 0);
		nref += num_or(p, "refused", 0);
		nto += num_or(p, "timeout", 0);
		rc = CONF_ENOMEM;
		if (!(txt = cJSON_PrintUnformatted(at(p, "hist"))))
			goto out;
		rc = hist_from_json(t, txt, why, sizeof why);
		free(txt);
		if (rc < 0) {
			snprintf(err, errlen, "%s: propagation.hist: %s", names[i],
				 why);
			rc = CONF_EINVAL;
			goto out;
		}
		hist_merge(h, t);
		rc = CONF_ENOMEM;
		cJSON_ArrayForEach(e, at(p, "curve")) {
			if (np == cap) {
				pt *q = realloc(pts, (cap = cap ? cap * 2 : 64) *
						sizeof *q);
				if (!q)
					goto out;
				pts = q;
			}
			pts[np++] = (pt){num_or_at(e, 0), num_or_at(e, 1), i};
		}
	}
	rc = 0;
	if (!p0)
		goto out;
	rc = CONF_ENOMEM;
	if (np) /* no curve point at all: pts is NULL */
		qsort(pts, np, sizeof *pts, pt_cmp);
	hist_to_json(h, &b);
	if (b.oom || !(o = cJSON_CreateObject()))
		goto out;
	cJSON_AddStringToObject(o, "command", at(p0, "command")->valuestring);
	if (at(p0, "people"))
		cJSON_AddItemToObject(o, "people", cJSON_Duplicate(
					      at(p0, "people"), true));
	cJSON_AddNumberToObject(o, "devices", ndev);
	cJSON_AddNumberToObject(o, "confirmed", conf);
	cJSON_AddNumberToObject(o, "failed", nfail);
	cJSON_AddNumberToObject(o, "refused", nref);
	cJSON_AddNumberToObject(o, "timeout", nto);
	memset(pk, 0, sizeof *pk);
	snprintf(pk->name, sizeof pk->name, "propagation");
	pk->requests = (uint64_t)ndev;
	pk->answered = (uint64_t)conf;
	pk->failed[LOAD_F_STATUS] = (uint64_t)nfail;
	pk->failed[LOAD_F_OTHER] = (uint64_t)nref;
	pk->failed[LOAD_F_TIMEOUT] = (uint64_t)nto;
	pk->lat_us = *h;
	if ((rc = merge_adapter(r, names, n, o, am, err, errlen)) < 0)
		goto out;
	rc = CONF_ENOMEM;
	if (!cJSON_AddRawToObject(o, "hist", b.p) ||
	    !(c = cJSON_AddArrayToObject(o, "curve")))
		goto out;
	for (size_t i = 0; i < np; i++) {
		double sum = 0;
		cJSON *xy;
		last[pts[i].shard] = pts[i].v;
		if (i + 1 < np && pts[i + 1].ms == pts[i].ms)
			continue; /* one point per time */
		for (size_t j = 0; j < n; j++)
			sum += last[j];
		if (!(xy = cJSON_CreateArray()) || !cJSON_AddItemToArray(c, xy)) {
			cJSON_Delete(xy);
			goto out;
		}
		cJSON_AddItemToArray(xy, cJSON_CreateNumber(pts[i].ms));
		cJSON_AddItemToArray(xy, cJSON_CreateNumber(sum));
	}
	*out = o;
	o = NULL;
	rc = 0;
out:
	cJSON_Delete(o);
	free(b.p);
	free(pts);
	free(last);
	free(t);
	free(h);
	return rc;
}

/* The shards' "lateness": {"heartbeat": LATENCY} merged into *lk (the
 * kind "lateness(heartbeat)", requests = answered = its count, for the
 * thresholds; its name empty when no shard has one) and into out's
 * "lateness".  A LATENCY is a kind's latency_us, so it is read back as a
 * kind without failures. */
static int merge_lateness(const cJSON *const *r, const char *const *names,
			  size_t n, cJSON *out, load_kind *lk, char *err,
			  size_t errlen)
{
	load_kind *k = malloc(sizeof *k);
	cJSON *w = NULL, *f, *o = NULL, *lat;
	char why[400];
	int rc = CONF_ENOMEM;

	memset(lk, 0, sizeof *lk);
	if (!k || !(w = cJSON_CreateObject()) ||
	    !(f = cJSON_AddObjectToObject(w, "failures")))
		goto out;
	for (int i = 0; i < LOAD_F_COUNT; i++)
		cJSON_AddNumberToObject(f, load_fail_name(i), 0);
	for (size_t i = 0; i < n; i++) {
		const cJSON *l = at(at(r[i], "lateness"), "heartbeat");
		if (!l)
			continue;
		rc = CONF_ENOMEM;
		cJSON_DeleteItemFromObject(w, "latency_us");
		if (!cJSON_AddItemToObject(w, "latency_us", cJSON_Duplicate(l,
								      true)))
			goto out;
		set_num(w, "requests", num_or(l, "count", 0));
		set_num(w, "answered", num_or(l, "count", 0));
		if ((rc = load_kind_from_json(w, "lateness(heartbeat)", k, why,
					      sizeof why)) < 0) {
			if (rc == CONF_EINVAL)
				snprintf(err, errlen, "%s: lateness.heartbeat: %s",
					 names[i], why);
			goto out;
		}
		snprintf(lk->name, sizeof lk->name, "%s", k->name);
		lk->requests += k->requests;
		lk->answered += k->answered;
		hist_merge(&lk->lat_us, &k->lat_us);
	}
	rc = 0;
	if (!lk->name[0])
		goto out;
	rc = CONF_ENOMEM;
	if (!(o = load_kind_json(lk)) ||
	    !(lat = cJSON_DetachItemFromObject(o, "latency_us")))
		goto out;
	cJSON_Delete(o);
	if (!(o = cJSON_CreateObject()) ||
	    !cJSON_AddItemToObject(o, "heartbeat", lat)) {
		cJSON_Delete(lat);
		goto out;
	}
	set_item(out, "lateness", o);
	o = NULL;
	rc = 0;
out:
	cJSON_Delete(o);
	cJSON_Delete(w);
	free(k);
	return rc;
}

/* The shards' records waiting at the end add, the most on one device is
 * the largest; the peak is the merged series' (the shards sample the same
 * seconds of their runs), else, for reports without samples, the largest
 * shard's. */
static cJSON *merge_offline(const cJSON *const *r, size_t n,
			    const load_metrics *m)
{
	cJSON *o = cJSON_CreateObject();
	double total = 0, most = 0, peak = 0;

	for (size_t i = 0; i < n; i++) {
		const cJSON *x = at(r[i], "offline_records");
		total += num_or(x, "total", 0);
		if (num_or(x, "max", 0) > most)
			most = num_or(x, "max", 0);
		if (num_or(x, "peak", 0) > peak)
			peak = num_or(x, "peak", 0);
	}
	if (load_series_offline_peak(m))
		peak = (double)load_series_offline_peak(m);
	if (o) {
		cJSON_AddNumberToObject(o, "total", total);
		cJSON_AddNumberToObject(o, "max", most);
		cJSON_AddNumberToObject(o, "peak", peak);
	}
	return o;
}

/* Re-judges r[0]'s thresholds on m into the array of out; true when all
 * hold. */
static int judge(const cJSON *r0, const load_metrics *m, double el,
		 cJSON *out, bool *all_ok, char *err, size_t errlen)
{
	cJSON *ths = cJSON_CreateArray();
	const cJSON *t;
	load_threshold th;
	char why[400], v[64];

	*all_ok = true;
	if (!ths)
		return CONF_ENOMEM;
	cJSON_ArrayForEach(t, at(r0, "thresholds")) {
		const cJSON *e = at(t, "expr");
		cJSON *o;
		bool has, ok;
		double val;
		if (!cJSON_IsString(e) || load_threshold_parse(e->valuestring,
				&th, why, sizeof why) < 0) {
			snprintf(err, errlen, "thresholds: %s", cJSON_IsString(e)
				 ? why : "\"expr\" must be a string");
			cJSON_Delete(ths);
			return CONF_EINVAL;
		}
		val = load_threshold_value(&th, m, el, &has);
		ok = load_threshold_holds(&th, m, el);
		*all_ok &= ok;
		load_threshold_format(&th, val, has, v, sizeof v);
		if (!(o = cJSON_CreateObject()) || !cJSON_AddItemToArray(ths, o)) {
			cJSON_Delete(o);
			cJSON_Delete(ths);
			return CONF_ENOMEM;
		}
		cJSON_AddStringToObject(o, "expr", th.expr);
		cJSON_AddBoolToObject(o, "ok", ok);
		if (has)
			cJSON_AddNumberToObject(o, "value", val);
		else
			cJSON_AddNullToObject(o, "value");
		cJSON_AddStringToObject(o, "shown", v);
	}
	set_item(out, "thresholds", ths);
	return 0;
}

int load_merge(const cJSON *const *r, const char *const *names, size_t n,
	       cJSON **out, int *code, char *err, size_t errlen)
{
	static const char *const sums[] = {"devices_up", "unsent", "abandoned",
					   "faces_shown", "face_errors"};
	load_metrics m = {0}, am = {0};
	load_kind *k = malloc(sizeof *k), *pk = calloc(1, sizeof *pk);
	load_kind *lk = calloc(1, sizeof *lk);
	cJSON *o = NULL, *kinds, *sh, *idx, *prop = NULL;
	long count, missing;
	double el = 0, started = 0, sum;
	bool interrupted = false, aborted = false, cannot = false, ok;
	int rc = CONF_ENOMEM;

	*out = NULL;
	if (!k || !pk || !lk)
		goto out;
	if (!n) {
		snprintf(err, errlen, "no report to merge");
		rc = CONF_EINVAL;
		goto out;
	}
	if ((rc = check_shards(r, names, n, &count, &missing, err, errlen)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		double s = num_or(r[i], "started_ms", 0);
		if ((rc = add_report(&m, r[i], names[i], k, err, errlen)) < 0)
			goto out;
		m.unsent += (uint64_t)num_or(r[i], "unsent", 0);
		if (num_or(r[i], "elapsed_s", 0) > el)
			el = num_or(r[i], "elapsed_s", 0);
		if (!i || s < started)
			started = s;
		interrupted |= cJSON_IsTrue(at(r[i], "interrupted"));
		aborted |= cJSON_IsTrue(at(r[i], "aborted"));
		cannot |= num_or(r[i], "exit_code", 0) == LOAD_EXIT_CANNOT_RUN;
	}
	if ((rc = merge_propagation(r, names, n, &prop, pk, &am, err,
				     errlen)) < 0)
		goto out;
	/* judged on the merged measures as in the run (load.c's extras) */
	if (prop)
		m.extra[m.n_extra++] = pk;
	if (am.n)
		m.extra[m.n_extra++] = am.k[0];
	rc = CONF_ENOMEM;
	if (!(o = cJSON_Duplicate(r[0], true)))
		goto out;
	cJSON_DeleteItemFromObjectCaseSensitive(o, "propagation");
	if (prop)
		cJSON_AddItemToObject(o, "propagation", prop);
	prop = NULL;
	set_num(o, "started_ms", started);
	set_num(o, "elapsed_s", el);
	set_item(o, "interrupted", cJSON_CreateBool(interrupted));
	set_item(o, "aborted", cJSON_CreateBool(aborted));
	for (size_t s = 0; s < sizeof sums / sizeof sums[0]; s++) {
		sum = 0;
		for (size_t i = 0; i < n; i++)
			sum += num_or(r[i], sums[s], 0);
		set_num(o, sums[s], sum);
	}
	load_metrics_total(&m, k);
	set_item(o, "totals", load_kind_json(k));
	if (!(kinds = cJSON_CreateObject()))
		goto out;
	set_item(o, "kinds", kinds);
	for (size_t i = 0; i < m.n; i++)
		cJSON_AddItemToObject(kinds, m.k[i]->name, load_kind_json(m.k[i]));
	set_item(o, "series", load_series_json(&m));
	set_item(o, "commands", load_cmds_json(&m));
	set_item(o, "offline_records", merge_offline(r, n, &m));
	if ((rc = merge_lateness(r, names, n, o, lk, err, errlen)) < 0)
		goto out;
	rc = CONF_ENOMEM;
	if (lk->name[0])
		m.extra[m.n_extra++] = lk;
	if (!(sh = cJSON_CreateObject()))
		goto out;
	set_item(o, "shard", sh);
	cJSON_AddNumberToObject(sh, "index", 0);
	cJSON_AddNumberToObject(sh, "count", (double)count);
	if (!(idx = cJSON_AddArrayToObject(sh, "merged")))
		goto out;
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(idx, cJSON_CreateNumber(
			num_or(at(r[i], "shard"), "index", 0)));
	cJSON_AddNumberToObject(sh, "missing", (double)missing);
	if ((rc = judge(r[0], &m, el, o, &ok, err, errlen)) < 0)
		goto out;
	*code = cannot || missing ? LOAD_EXIT_CANNOT_RUN : !ok || aborted
		? LOAD_EXIT_THRESHOLD : LOAD_EXIT_OK;
	set_num(o, "exit_code", *code);
	*out = o;
	o = NULL;
	rc = 0;
out:
	if (rc == CONF_ENOMEM)
		snprintf(err, errlen, "out of memory merging the reports");
	cJSON_Delete(o);
	cJSON_Delete(prop);
	load_metrics_free(&m);
	load_metrics_free(&am);
	free(pk);
	free(lk);
	free(k);
	return rc;
}

int load_report_main(int argc, char **argv, FILE *out, FILE *err)
{
	cJSON **r = NULL, *merged = NULL;
	size_t n = argc > 3 ? (size_t)argc - 3 : 0;
	char e[1024], *txt;
	int code = LOAD_EXIT_CANNOT_RUN, rc;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage, out);
		return 0;
	}
	if (argc < 4 || strcmp(argv[1], "merge")) {
		fprintf(err, "camsim report: %s\n%s", argc < 2 ? "a command is "
			"required" : strcmp(argv[1], "merge") ? "the only command "
			"is merge" : "merge needs OUT_DIR and at least one "
			"report.json", usage);
		return LOAD_EXIT_CANNOT_RUN;
	}
	if (!(r = calloc(n, sizeof *r)))
		goto oom;
	for (size_t i = 0; i < n; i++) {
		size_t len;
		if (base_read_file("report", argv[3 + i], REPORT_MAX, &txt, &len,
				   e, sizeof e) < 0) {
			fprintf(err, "camsim report merge: %s\n", e);
			goto out;
		}
		r[i] = cJSON_ParseWithLength(txt, len);
		free(txt);
		if (!r[i] || !cJSON_IsObject(r[i])) {
			fprintf(err, "camsim report merge: %s is not a JSON "
				"object (a report.json of camsim load)\n",
				argv[3 + i]);
			goto out;
		}
	}
	if ((rc = load_merge((const cJSON *const *)r, (const char *const *)
			     argv + 3, n, &merged, &code, e, sizeof e)) < 0 ||
	    (rc = load_report_write(merged, argv[2], e, sizeof e)) < 0) {
		fprintf(err, "camsim report merge: %s\n", e);
		code = LOAD_EXIT_CANNOT_RUN;
		goto out;
	}
	fprintf(out, "merged %zu report(s) into %s/report.json, junit.xml, "
		"report.html: exit %d\n", n, argv[2], code);
	if (num_or(at(merged, "shard"), "missing", 0) > 0)
		fprintf(err, "camsim report merge: %.0f of %.0f shards are "
			"missing: the merged counts are not the whole run\n",
			num_or(at(merged, "shard"), "missing", 0),
			num_or(at(merged, "shard"), "count", 0));
	goto out;
oom:
	fprintf(err, "camsim report merge: out of memory\n");
out:
	for (size_t i = 0; r && i < n; i++)
		cJSON_Delete(r[i]);
	free(r);
	cJSON_Delete(merged);
	return code;
}
