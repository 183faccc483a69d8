/* load_adapter.c -- `camsim load --propagate' through an adapter: turns
 * load_prop's V1.16 commands back into the operator step an adapter gets
 * from `camsim run' (operator.c's op_params, so the parameters are
 * docs/adapters.md's), calls it for every device on a few worker threads,
 * and watches the devices' exchanges for the command and its result.
 * Times are the loop's ms clock (loop_now is thread-safe); the workers
 * touch only their own device slots and the counters under mu. */
#include "load_adapter.h"

#include "adapter.h"
#include "base.h"
#include "conf_err.h"
#include "hist.h"
#include "load_metrics.h"
#include "operator.h"

#include <cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ERRORS_SHOWN 10  /* on stderr and in the summary */
#define PROP_PREFIX "prop-" /* load_prop's person ids */

typedef struct adp_dev {
	char cid[24];
	/* the worker's, read by the loop thread after the join */
	int64_t t_return;   /* the first call returned, loop ms */
	char *err;          /* the failed call's reason (NULL: all ok) */
	bool called;        /* every call returned 2xx / exit 0 */
	/* the loop thread's */
	int64_t seq, t_confirm;
	uint32_t ok;        /* batch: people reported added */
	bool seen, has_seq, confirmed;
	char why[160];      /* the device reported a failure */
} adp_dev;

struct load_adp {
	adapter *adp;
	char *path;
	load_prop_cmd cmd;
	const char *action;
	long people;            /* batch: persons in all */
	char want_id[40];       /* enrol: the person's id */
	int64_t want_strategy;  /* strategy: its strategyId */
	cJSON **step;           /* one operator step per call */
	size_t nstep;
	adp_dev *dev;
	size_t n;
	long conc;
	loop *l;
	FILE *progress;
	bool tty;
	loop_timer tick;
	pthread_t *th;
	size_t nth;
	atomic_size_t next;     /* the next device to call */
	atomic_bool cancel;
	bool started, stopped;
	struct timespec t0, t1; /* first call, last return */
	pthread_mutex_t mu;     /* guards the members below */
	load_kind calls;        /* "adapter": every call, its latency */
	size_t devs_done, devs_failed;
	size_t *failq;          /* failed devices in the order they failed */
	size_t nfailq, shown;
	/* the loop thread's */
	size_t confirmed, dev_failed;
};

const char *load_adp_action(load_prop_cmd cmd)
{
	static const char *const a[] = {"", "enroll", "batch", "strategies",
					"config"};
	return a[cmd];
}

/* The adapter read from path, when it maps cmd's action (or "*"). */
static int load_for(const char *path, load_prop_cmd cmd, adapter **out,
		    char *err, size_t errlen)
{
	int rc = adp_load(path, out, err, errlen);

	if (rc >= 0 && !adp_has(*out, load_adp_action(cmd))) {
		snprintf(err, errlen, "adapter %s has no \"%s\" action (nor a "
			 "\"*\" entry), which --propagate %s needs to queue the "
			 "command on the server (docs/adapters.md)", path,
			 load_adp_action(cmd), load_prop_name(cmd));
		adp_free(*out);
		*out = NULL;
		rc = CONF_EADAPTER;
	} else if (rc >= 0 && adp_interactive(*out, load_adp_action(cmd))) {
		/* a person cannot answer a prompt per device for thousands */
		snprintf(err, errlen, "adapter %s: the \"%s\" entry it uses for "
			 "--propagate %s is {\"interactive\": true}, a prompt at "
			 "the terminal; camsim load calls it once per device: "
			 "give a \"shell\" or \"http\" entry", path,
			 load_adp_action(cmd), load_prop_name(cmd));
		adp_free(*out);
		*out = NULL;
		rc = CONF_EADAPTER;
	}
	return rc;
}

int load_adp_check(const char *path, load_prop_cmd cmd, char *err,
		   size_t errlen)
{
	adapter *a = NULL;
	int rc = load_for(path, cmd, &a, err, errlen);

	adp_free(a);
	return rc;
}

/* ---------------------------------------------------------------- steps */

static const cJSON *at(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static bool add_str(cJSON *o, const char *k, const char *v)
{
	return v && cJSON_AddStringToObject(o, k, v);
}

/* The operator step of `camsim run' that makes a server send cmd (one of
 * load_prop's): the inverse of operator.c's builders for the four kinds
 * load_prop makes, with the photo by its path and its bytes. */
static cJSON *step_of(const load_adp *a, const cJSON *cmd, const char *photo)
{
	cJSON *s = cJSON_CreateObject(), *arr;
	const cJSON *in, *e;
	bool ok = s && add_str(s, "operator", a->action);

	if (ok && a->cmd == LOAD_PROP_ENROL) {
		const cJSON *face = at(at(cmd, "facelib_manage"), "face");
		ok = add_str(s, "id", cJSON_GetStringValue(at(face, "id"))) &&
		     add_str(s, "name", cJSON_GetStringValue(at(face, "name"))) &&
		     add_str(s, "photo", photo) &&
		     add_str(s, "photo_base64", cJSON_GetStringValue(
			     cJSON_GetArrayItem(at(face, "image"), 0)));
	} else if (ok && a->cmd == LOAD_PROP_BATCH) {
		ok = (arr = cJSON_AddArrayToObject(s, "persons")) != NULL;
		cJSON_ArrayForEach(e, at(at(cmd, "facelib_batch"), "personList")) {
			cJSON *p = cJSON_CreateObject();
			if (!p || !cJSON_AddItemToArray(arr, p)) {
				cJSON_Delete(p);
				ok = false;
				break;
			}
			ok = ok && add_str(p, "op", "add") &&
			     add_str(p, "id", cJSON_GetStringValue(at(e, "id"))) &&
			     add_str(p, "name", cJSON_GetStringValue(at(e, "name"))) &&
			     cJSON_AddNumberToObject(p, "strategy_id", 0) &&
			     add_str(p, "photo", photo) &&
			     add_str(p, "photo_base64", cJSON_GetStringValue(
				     at(e, "image")));
		}
	} else if (ok && a->cmd == LOAD_PROP_STRATEGY) {
		in = at(at(cmd, "strategy_manage"), "strategyList");
		ok = cJSON_AddItemToObject(s, "strategies",
					   cJSON_Duplicate(in, true));
	} else if (ok) {
		cJSON *c = cJSON_Duplicate(at(cmd, "config"), true);
		/* the action's "config" is the groups; opType is its own */
		cJSON_DeleteItemFromObjectCaseSensitive(c, "opType");
		ok = c && cJSON_AddItemToObject(s, "config", c);
		if (!ok)
			cJSON_Delete(c);
	}
	if (!ok) {
		cJSON_Delete(s);
		return NULL;
	}
	return s;
}

static void tick_fire(loop_timer *t);

int load_adp_new(const char *path, const load_prop *p, size_t ndev,
		 long concurrency, loop *l, FILE *progress, bool tty,
		 load_adp **out, char *err, size_t errlen)
{
	load_adp *a = calloc(1, sizeof *a);
	const cJSON *c0;
	int rc = CONF_ENOMEM;

	*out = NULL;
	if (!a)
		goto out;
	pthread_mutex_init(&a->mu, NULL);
	a->l = l;
	a->progress = progress;
	a->tty = tty;
	a->conc = concurrency;
	a->tick.fn = tick_fire;
	snprintf(a->calls.name, sizeof a->calls.name, "adapter");
	c0 = load_prop_command(p, 0);
	a->cmd = at(c0, "facelib_manage") ? LOAD_PROP_ENROL
		 : at(c0, "facelib_batch") ? LOAD_PROP_BATCH
		 : at(c0, "strategy_manage") ? LOAD_PROP_STRATEGY
		 : LOAD_PROP_CONFIG;
	a->action = load_adp_action(a->cmd);
	if ((rc = load_for(path, a->cmd, &a->adp, err, errlen)) < 0)
		goto out;
	rc = CONF_ENOMEM;
	if (!(a->path = strdup(path)) ||
	    !(a->dev = calloc(ndev ? ndev : 1, sizeof *a->dev)) ||
	    !(a->failq = calloc(ndev ? ndev : 1, sizeof *a->failq)) ||
	    !(a->step = calloc(load_prop_ncmd(p), sizeof *a->step)))
		goto out;
	a->n = ndev;
	if (cJSON_IsString(at(at(at(c0, "facelib_manage"), "face"), "id")))
		snprintf(a->want_id, sizeof a->want_id, "%s", at(at(at(c0,
			 "facelib_manage"), "face"), "id")->valuestring);
	a->want_strategy = (int64_t)cJSON_GetNumberValue(at(cJSON_GetArrayItem(
		at(at(c0, "strategy_manage"), "strategyList"), 0), "strategyId"));
	for (size_t i = 0; i < load_prop_ncmd(p); i++) {
		const cJSON *c = load_prop_command(p, i);
		a->people += cJSON_GetArraySize(at(at(c, "facelib_batch"),
						   "personList"));
		if (!(a->step[i] = step_of(a, c, load_prop_photo(p))))
			goto out;
		a->nstep++;
		/* the same checks as a scenario's step: a template that
		 * would not pass them must not reach a vendor's server */
		if ((rc = op_check(a->step[i], "--propagate", a->action, err,
				   errlen)) < 0)
			goto out;
		rc = CONF_ENOMEM;
	}
	rc = 0;
	*out = a;
	a = NULL;
out:
	if (rc == CONF_ENOMEM)
		snprintf(err, errlen, "out of memory preparing the adapter calls");
	load_adp_free(a);
	return rc;
}

void load_adp_free(load_adp *a)
{
	if (!a)
		return;
	load_adp_stop(a);
	for (size_t i = 0; i < a->n; i++)
		free(a->dev[i].err);
	for (size_t i = 0; i < a->nstep; i++)
		cJSON_Delete(a->step[i]);
	free(a->step);
	free(a->dev);
	free(a->failq);
	free(a->th);
	free(a->path);
	adp_free(a->adp);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

void load_adp_cid(load_adp *a, size_t i, const char *cid)
{
	if (i < a->n)
		snprintf(a->dev[i].cid, sizeof a->dev[i].cid, "%s", cid);
}

/* ---------------------------------------------------------------- workers */

static double secs(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Device i's calls, in order; the first failure ends them (a batch's
 * later parts would be measured against a device that cannot confirm). */
static void call_device(load_adp *a, size_t i)
{
	adp_dev *d = &a->dev[i];
	op_ctx ctx = {0}; /* the photos are inline: no scenario to resolve */
	char err[700] = "";
	int rc = 0;

	for (size_t c = 0; c < a->nstep && rc >= 0; c++) {
		cJSON *params = NULL;
		adp_result res = {0};
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = op_params(a->step[c], &ctx, d->cid, &params, err, sizeof err);
		if (rc >= 0)
			rc = adp_run(a->adp, false, a->action, params, &a->cancel,
				     &res, err, sizeof err);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (rc >= 0 && c == 0)
			d->t_return = loop_now(a->l);
		adp_result_free(&res);
		cJSON_Delete(params);
		pthread_mutex_lock(&a->mu);
		a->calls.requests++;
		if (rc >= 0)
			a->calls.answered++;
		else
			a->calls.failed[LOAD_F_OTHER]++;
		hist_add(&a->calls.lat_us, (uint64_t)(secs(&t0, &t1) * 1e6));
		a->t1 = t1;
		pthread_mutex_unlock(&a->mu);
	}
	if (rc < 0 && !(d->err = strdup(err[0] ? err : conf_strerror(rc))))
		d->err = NULL; /* counted as failed below all the same */
	d->called = rc >= 0;
	pthread_mutex_lock(&a->mu);
	a->devs_done++;
	if (rc < 0) {
		a->devs_failed++;
		a->failq[a->nfailq++] = i;
	}
	pthread_mutex_unlock(&a->mu);
}

static void *worker(void *ud)
{
	load_adp *a = ud;
	size_t i;

	while (!atomic_load(&a->cancel) &&
	       (i = atomic_fetch_add(&a->next, 1)) < a->n)
		call_device(a, i);
	return NULL;
}

/* ---------------------------------------------------------------- progress */

/* The failures not printed yet, the first ERRORS_SHOWN of them (the
 * report keeps more): a vendor must see at once why calls fail. */
static void show_failures(load_adp *a)
{
	pthread_mutex_lock(&a->mu);
	for (; a->shown < a->nfailq && a->shown < ERRORS_SHOWN; a->shown++) {
		const adp_dev *d = &a->dev[a->failq[a->shown]];
		fprintf(a->progress, "%scamsim load: --propagate: the adapter's "
			"\"%s\" failed for %s: %s%s\n", a->tty ? "\r" : "",
			a->action, d->cid, d->err ? d->err : "out of memory",
			a->tty ? "\033[K" : "");
	}
	if (a->shown == ERRORS_SHOWN && a->nfailq > ERRORS_SHOWN) {
		fprintf(a->progress, "camsim load: --propagate: further adapter "
			"failures are counted, not shown (report.json lists the "
			"first %d)\n", LOAD_ADP_ERRORS_KEPT);
		a->shown++;
	}
	pthread_mutex_unlock(&a->mu);
}

static void progress_line(load_adp *a)
{
	size_t done, failed;

	pthread_mutex_lock(&a->mu);
	done = a->devs_done;
	failed = a->devs_failed;
	pthread_mutex_unlock(&a->mu);
	fprintf(a->progress, "%scamsim load: --propagate via the adapter: "
		"%zu/%zu devices called (%zu failed, %zu at a time), %zu "
		"confirmed, %zu reported a failure%s\n", a->tty ? "\r" : "",
		done, a->n, failed, a->nth, a->confirmed, a->dev_failed,
		a->tty ? "\033[K" : "");
}

/* Each second until every device has been called and settled. */
static void tick_fire(loop_timer *t)
{
	load_adp *a = container_of(t, load_adp, tick);
	size_t done, failed;

	show_failures(a);
	progress_line(a);
	pthread_mutex_lock(&a->mu);
	done = a->devs_done;
	failed = a->devs_failed;
	pthread_mutex_unlock(&a->mu);
	if (done < a->n || a->confirmed + a->dev_failed + failed < a->n)
		loop_timer_at(a->l, t, loop_now(a->l) + 1000);
	else
		fflush(a->progress);
}

void load_adp_start(load_adp *a)
{
	size_t want = (size_t)a->conc < a->n ? (size_t)a->conc : a->n;

	a->started = true;
	clock_gettime(CLOCK_MONOTONIC, &a->t0);
	a->t1 = a->t0;
	if (want && !(a->th = calloc(want, sizeof *a->th)))
		want = 0;
	for (; a->nth < want; a->nth++)
		if (pthread_create(&a->th[a->nth], NULL, worker, a))
			break;
	if (!a->nth && a->n) {
		/* no thread at all: every device is refused, and says why */
		for (size_t i = 0; i < a->n; i++) {
			a->dev[i].err = strdup("camsim could not start a thread "
					       "for the adapter calls");
			a->failq[a->nfailq++] = i;
		}
		a->devs_done = a->devs_failed = a->n;
		atomic_store(&a->next, a->n);
	}
	fprintf(a->progress, "camsim load: --propagate %s: calling the "
		"adapter's \"%s\" for %zu devices, %zu at a time\n",
		load_prop_name(a->cmd), a->action, a->n, a->nth);
	loop_timer_at(a->l, &a->tick, loop_now(a->l) + 1000);
}

void load_adp_stop(load_adp *a)
{
	if (!a || a->stopped)
		return;
	a->stopped = true;
	atomic_store(&a->cancel, true);
	for (size_t i = 0; i < a->nth; i++)
		pthread_join(a->th[i], NULL);
	if (a->started) {
		loop_timer_stop(a->l, &a->tick);
		show_failures(a);
	}
}

/* ---------------------------------------------------------------- the watch */

static int64_t num(const cJSON *o, const char *k, bool *has)
{
	const cJSON *v = at(o, k);

	if (has)
		*has = cJSON_IsNumber(v);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static bool is_prop_id(const cJSON *o)
{
	const char *id = cJSON_GetStringValue(at(o, "id"));
	return id && !strncmp(id, PROP_PREFIX, strlen(PROP_PREFIX));
}

static const char *cmd_key(load_prop_cmd c)
{
	static const char *const k[] = {"", "facelib_manage", "facelib_batch",
					"strategy_manage", "config"};
	return k[c];
}

/* The message kind that carries the command's result. */
static const char *result_kind(load_prop_cmd c)
{
	static const char *const k[] = {"", "heartbeat", "batch_result",
					"strategy_result", "config_result"};
	return k[c];
}

/* The server's reply carries our command: note it, and its seq. */
static void spot_command(load_adp *a, adp_dev *d, const cJSON *r)
{
	const cJSON *c = at(r, cmd_key(a->cmd)), *e;
	bool has;

	if (!cJSON_IsObject(c))
		return;
	switch (a->cmd) {
	case LOAD_PROP_ENROL:
		e = at(at(c, "face"), "id");
		if (num(c, "type", NULL) != 1 || !cJSON_IsString(e) ||
		    strcmp(e->valuestring, a->want_id))
			return;
		break;
	case LOAD_PROP_BATCH:
		cJSON_ArrayForEach(e, at(c, "personList"))
			if (is_prop_id(e))
				break;
		if (!e)
			return;
		break;
	case LOAD_PROP_STRATEGY:
		cJSON_ArrayForEach(e, at(c, "strategyList"))
			if (num(e, "strategyId", NULL) == a->want_strategy)
				break;
		if (!e)
			return;
		break;
	default:
		if (num(c, "opType", NULL) != 0)
			return;
	}
	d->seen = true;
	d->seq = num(c, "seq", &has);
	d->has_seq = has;
}

static void confirm(load_adp *a, adp_dev *d)
{
	d->confirmed = true;
	d->t_confirm = loop_now(a->l);
	a->confirmed++;
}

static void failed(load_adp *a, adp_dev *d, const char *fmt, long long v,
		   const char *s)
{
	snprintf(d->why, sizeof d->why, fmt, s ? s : "", v);
	a->dev_failed++;
}

/* The device's message r of result_kind, answered 200: is it the result
 * that settles our command (docs/mock.md, Outcomes, which a real server
 * follows too)? */
static void spot_result(load_adp *a, adp_dev *d, const cJSON *r)
{
	const cJSON *e;
	bool has;
	int64_t v;

	switch (a->cmd) {
	case LOAD_PROP_ENROL:
		/* D7: the next heartbeats carry the last face operation's seq;
		 * a server that sent no seq is confirmed by the next one */
		if (!d->has_seq || (num(r, "seq", &has) == d->seq && has))
			confirm(a, d);
		return;
	case LOAD_PROP_BATCH:
		cJSON_ArrayForEach(e, at(at(r, "facelib_batch"), "resultList")) {
			if (!is_prop_id(e))
				continue;
			if ((v = num(e, "result", NULL))) {
				failed(a, d, "batch_result: person %s result %lld",
				       v, cJSON_GetStringValue(at(e, "id")));
				return;
			}
			if (++d->ok >= (uint32_t)a->people) {
				confirm(a, d);
				return;
			}
		}
		return;
	case LOAD_PROP_STRATEGY:
		cJSON_ArrayForEach(e, at(at(r, "strategy_manage"), "resultList"))
			if (num(e, "strategyId", NULL) == a->want_strategy) {
				if ((v = num(e, "result", NULL)))
					failed(a, d, "%sstrategy_result: result "
					       "%lld", v, NULL);
				else
					confirm(a, d);
				return;
			}
		return;
	default:
		v = num(at(r, "config"), "seq", &has);
		/* without an echo the device could not read the seq: the
		 * oldest config sent, ours (docs/mock.md) */
		if (has && d->has_seq && v != d->seq)
			return;
		if ((v = num(at(r, "config"), "errcode", NULL)))
			failed(a, d, "%sconfig_result: errcode %lld", v, NULL);
		else
			confirm(a, d);
	}
}

void load_adp_exchange(load_adp *a, size_t i, const dev_exchange *x)
{
	adp_dev *d;
	const loop_http_res *res = x->res;
	char key[40];
	cJSON *j;

	if (!a->started || i >= a->n || !res || res->fail != LOOP_HTTP_OK ||
	    res->status != 200)
		return;
	d = &a->dev[i];
	if (d->confirmed || d->why[0])
		return;
	/* the request first: a reply's command is applied after it; only
	 * the result's kind is parsed (not a snapshot's 100 KB) */
	if (d->seen && x->body && x->kind && !strcmp(x->kind,
						     result_kind(a->cmd)) &&
	    (j = cJSON_ParseWithLength(x->body, x->len))) {
		spot_result(a, d, j);
		cJSON_Delete(j);
		if (d->confirmed || d->why[0])
			return;
	}
	/* most replies carry nothing: look for the member before parsing */
	snprintf(key, sizeof key, "\"%s\"", cmd_key(a->cmd));
	if (res->body && res->len > 2 && memmem(res->body, res->len, key,
						 strlen(key)) &&
	    (j = cJSON_ParseWithLength(res->body, res->len))) {
		spot_command(a, d, j);
		cJSON_Delete(j);
	}
}

/* ---------------------------------------------------------------- outcomes */

void load_adp_settle(load_adp *a, load_prop *p)
{
	char why[300];

	for (size_t i = 0; a->started && i < a->n; i++) {
		const adp_dev *d = &a->dev[i];

		if (i >= atomic_load(&a->next) && !d->err) {
			/* never called: the run ended first */
			snprintf(why, sizeof why, "%s: the run ended before the "
				 "adapter was called", d->cid);
			load_prop_record(p, i, LOAD_PROP_REFUSED, 0, 0, why);
		} else if (!d->called) {
			snprintf(why, sizeof why, "%s: %s", d->cid,
				 d->err ? d->err : "out of memory");
			load_prop_record(p, i, LOAD_PROP_REFUSED, 0, 0, why);
		} else if (d->why[0]) {
			snprintf(why, sizeof why, "%s: %s", d->cid, d->why);
			load_prop_record(p, i, LOAD_PROP_FAILED, 0, 0, why);
		} else if (d->confirmed) {
			load_prop_record(p, i, LOAD_PROP_CONFIRMED, d->t_return,
					 d->t_confirm, NULL);
		} else {
			load_prop_record(p, i, LOAD_PROP_PENDING, 0, 0, NULL);
		}
	}
}

const load_kind *load_adp_calls(const load_adp *a)
{
	return &a->calls;
}

void load_adp_print(const load_adp *a, FILE *f)
{
	const hist *h = &a->calls.lat_us;
	size_t shown = 0;

	fprintf(f, "adapter (%s): %llu calls in %.1f s, %zu at a time, p50 "
		"%.1fms max %.1fms; %zu of %zu devices failed\n", a->action,
		(unsigned long long)a->calls.requests, secs(&a->t0, &a->t1),
		a->nth, (double)hist_quantile(h, 0.5) / 1e3,
		(double)h->max / 1e3, a->devs_failed, a->n);
	for (size_t i = 0; i < a->n && shown < ERRORS_SHOWN; i++)
		if (a->dev[i].err) {
			fprintf(f, "  %s: %s\n", a->dev[i].cid, a->dev[i].err);
			shown++;
		}
	if (a->devs_failed > shown)
		fprintf(f, "  ... %zu more in report.json (propagation.adapter."
			"errors, the first %d)\n", a->devs_failed - shown,
			LOAD_ADP_ERRORS_KEPT);
}

cJSON *load_adp_json(const load_adp *a)
{
	cJSON *o = cJSON_CreateObject(), *errs;
	size_t kept = 0;

	if (!o || !add_str(o, "file", a->path) ||
	    !add_str(o, "action", a->action) ||
	    !cJSON_AddNumberToObject(o, "concurrency", (double)a->nth) ||
	    !cJSON_AddItemToObject(o, "calls", load_kind_json(&a->calls)) ||
	    !cJSON_AddNumberToObject(o, "devices_failed",
				     (double)a->devs_failed) ||
	    !(errs = cJSON_AddArrayToObject(o, "errors")))
		goto oom;
	for (size_t i = 0; i < a->n && kept < LOAD_ADP_ERRORS_KEPT; i++) {
		cJSON *e;
		if (!a->dev[i].err)
			continue;
		if (!(e = cJSON_CreateObject()) || !cJSON_AddItemToArray(errs, e)) {
			cJSON_Delete(e);
			goto oom;
		}
		add_str(e, "cid", a->dev[i].cid);
		add_str(e, "error", a->dev[i].err);
		kept++;
	}
	if (!cJSON_AddNumberToObject(o, "errors_left_off",
				     (double)(a->devs_failed - kept)))
		goto oom;
	return o;
oom:
	cJSON_Delete(o);
	return NULL;
}
