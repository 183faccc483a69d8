/* runner.c -- executes one scenario: it gets its own event loop, state
 * store, devices and (against the mock) its own mock server; set-up, play,
 * verdict and free, and its report entry.  The worker pool and the run
 * document are runner_pool.c's, the exchange checks runner_check.c's, the
 * steps runner_step.c's, the files report.c's. */
#include "runner_int.h"

#include "sim_err.h"

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- helpers */

const char *run__str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int64_t run__rel(const srun *r, int64_t t)
{
	return t - r->t0;
}

int64_t run__now(const srun *r)
{
	return loop_now(r->l);
}

double run__wall_ms(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1000 +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

void run__grow(void **p, size_t *cap, size_t need, size_t size, bool *oom)
{
	if (need <= *cap)
		return;
	size_t nc = *cap ? *cap * 2 : 64;
	void *np = realloc(*p, nc * size);
	if (!np) {
		*oom = true;
		return;
	}
	*p = np;
	*cap = nc;
}

size_t run__dev_index(const srun *r, const dev *d)
{
	for (size_t i = 0; i < r->s->n_devs; i++)
		if (r->devs[i].d == d)
			return i;
	return 0;
}

void run__stop(srun *r, int why, const char *fmt, ...)
{
	int none = STOP_NONE;
	va_list ap;

	if (!atomic_compare_exchange_strong(&r->stop, &none, why))
		return; /* the first reason stands */
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(r->stop_why, sizeof r->stop_why, fmt, ap);
		va_end(ap);
	}
	atomic_store(&r->cancel, true);
	loop_stop(r->l);
}

const char *run__pkg_base(srun *r, char *err, size_t errlen)
{
	shared *sh = r->sh;
	const char *base = NULL;

	pthread_mutex_lock(&sh->mu);
	if (!sh->pkg && !sh->pkg_failed) {
		sh->pkg_failed = pkgsrv_start(&sh->pkg, sh->pkg_err,
					      sizeof sh->pkg_err) < 0;
	}
	if (sh->pkg)
		base = pkgsrv_base(sh->pkg);
	else
		snprintf(err, errlen, "the upgrade package server cannot start: "
			 "%s", sh->pkg_err);
	pthread_mutex_unlock(&sh->mu);
	return base;
}

static int64_t mock_clock(void *ud)
{
	return loop_now(ud);
}

static int rm_entry(const char *p, const struct stat *sb, int flag,
		    struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

static unsigned long hash(const char *s)
{
	unsigned long h = 5381;
	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

/* The device's cid: the scenario's own, or derived from its name; both
 * made unique per run unless the cids are to be stable (a server that
 * only accepts registered devices). */
static void derive_cid(const srun *r, size_t i, char *out, size_t n)
{
	const scn_device *d = &r->s->devs[i];
	const char *pre = r->o->cid_prefix ? r->o->cid_prefix : "cs";
	const char *run = r->o->stable_cids || !r->o->run_id ? "" : r->o->run_id;

	if (d->cid)
		snprintf(out, n, "%s%s%s", d->cid, run[0] ? "-" : "", run);
	else
		snprintf(out, n, "%.8s%s%08lx-%.12s", pre, run,
			 hash(r->s->name) & 0xffffffffUL, d->id);
}

/* ---------------------------------------------------------------- scenario document */

static cJSON *scenario_json(const scenario *s, const char *status,
			    const char *reason)
{
	cJSON *j = cJSON_CreateObject(), *secs = cJSON_CreateArray();

	for (size_t i = 0; i < s->n_sections; i++)
		cJSON_AddItemToArray(secs, cJSON_CreateString(s->sections[i]));
	cJSON_AddStringToObject(j, "name", s->name);
	cJSON_AddStringToObject(j, "file", s->path);
	cJSON_AddStringToObject(j, "title", s->title);
	if (s->description)
		cJSON_AddStringToObject(j, "description", s->description);
	cJSON_AddItemToObject(j, "sections", secs);
	cJSON_AddStringToObject(j, "status", status);
	if (reason)
		cJSON_AddStringToObject(j, "reason", reason);
	else
		cJSON_AddNullToObject(j, "reason");
	return j;
}

/* A scenario that did not run: every member present, lists empty. */
cJSON *run__not_run(const scenario *s, const char *status, const char *why)
{
	cJSON *j = scenario_json(s, status, why);

	cJSON_AddNumberToObject(j, "duration_ms", 0);
	cJSON_AddNumberToObject(j, "virtual_ms", 0);
	cJSON_AddArrayToObject(j, "devices");
	cJSON_AddArrayToObject(j, "checks");
	cJSON_AddArrayToObject(j, "exchanges");
	cJSON_AddNumberToObject(j, "exchanges_omitted", 0);
	cJSON_AddArrayToObject(j, "events");
	return j;
}

static const char *stop_reason(const srun *r, char *buf, size_t n)
{
	switch (atomic_load(&r->stop)) {
	case STOP_INTERRUPTED:
		return "interrupted: the run was stopped (SIGINT or SIGTERM) "
		       "before this scenario ended";
	case STOP_RUN_TIMEOUT:
		return "timed out: the run's --timeout passed before this "
		       "scenario ended";
	case STOP_CAPPED:
		snprintf(buf, n, "timed out: %s", r->stop_why);
		return buf;
	default:
		return r->stop_why;
	}
}

/* ---------------------------------------------------------------- one scenario */

static void setup_failed(srun *r, const char *err)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "id", "setup");
	cJSON_AddStringToObject(c, "name", "the scenario can be set up "
				"(devices, state, mock server)");
	cJSON_AddStringToObject(c, "kind", "step");
	cJSON_AddStringToObject(c, "severity", "must");
	cJSON_AddStringToObject(c, "status", "error");
	cJSON_AddStringToObject(c, "message", err);
	cJSON_AddItemToObject(c, "rules", cJSON_CreateArray());
	cJSON_AddItemToObject(c, "exchanges", cJSON_CreateArray());
	cJSON_AddItemToArray(r->j_checks, c);
}

/* Set-up, second part: the temporary directory, loop, store, mock server
 * and powered devices.  0, or negative with a sentence in err (what
 * exists is freed by free_run). */
static int setup(srun *r, char *err, size_t errlen)
{
	const scenario *s = r->s;
	const run_opts *o = r->o;
	loop_clock mode = o->clock == RUN_CLOCK_REAL ? LOOP_REAL
			  : o->clock == RUN_CLOCK_SCALE ? LOOP_SCALED : LOOP_JUMP;
	int rc;

	if (!r->devs || !r->cmd_ids || !r->handles || !r->j_checks ||
	    !r->records || !r->tk) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(r->dir, sizeof r->dir, "%s/camsim-run-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(r->dir)) {
		snprintf(err, errlen, "cannot make a temporary directory: %s",
			 strerror(errno));
		r->dir[0] = '\0';
		return -1;
	}
	/* A virtual clock starts at the scenario's own time; the real clock
	 * is the real clock, and a scenario clock is set on the devices. */
	if (loop_new(mode, o->scale, mode != LOOP_REAL && s->devs[0].has_clock
		     ? s->devs[0].clock_ms : 0, &r->l) < 0) {
		snprintf(err, errlen, "cannot create the event loop");
		return -1;
	}
	if ((rc = store_open(r->dir, &r->st, err, errlen)) < 0)
		return rc;
	if (r->mock_mode) {
		char db[200];
		mock_opts mo = {.listen = "127.0.0.1:0", .path = "/api/face",
				.db = db, .prof = o->prof, .now = mock_clock,
				.now_ud = r->l};
		snprintf(db, sizeof db, "%s/mock.db", r->dir);
		if ((rc = mock_start(&mo, &r->m, err, errlen)) < 0)
			return rc;
		snprintf(r->url, sizeof r->url, "http://127.0.0.1:%d/api/face",
			 mock_port(r->m));
	} else {
		snprintf(r->url, sizeof r->url, "%s", o->server);
	}
	r->env.loop = r->l;
	r->env.store = r->st;
	r->env.recog = r->rg;
	r->env.prof = o->prof;
	r->env.on_event = run__on_event;
	r->env.event_ud = r;
	r->env.on_exchange = run__on_exchange;
	r->env.exchange_ud = r;
	if (o->observe) {
		r->env.on_pass = o->observe->on_pass;
		r->env.pass_ud = o->observe->ud;
	}
	r->env.keep_alive = o->keep_alive;
	r->env.capacity = s->devs[0].capacity;
	r->env.record_cap = s->devs[0].record_cap;
	r->env.upgrade_max = (size_t)s->devs[0].upgrade_max;
	r->env.http_timeout_ms = (long)(s->devs[0].http_timeout_s * 1000);
	r->env.idle_reupload_ms = (int64_t)(s->devs[0].idle_reupload_s * 1000);
	dev_env_defaults(&r->env);
	for (size_t i = 0; i < s->n_devs; i++) {
		const scn_device *sd = &s->devs[i];
		dev_opts dop = {.cid = r->devs[i].cid, .server_url = r->url,
				.interval_s = sd->interval_s,
				.app_version = sd->app_version ? sd->app_version
							       : "V1.0.0"};
		derive_cid(r, i, r->devs[i].cid, sizeof r->devs[i].cid);
		r->devs[i].interval_s = sd->interval_s;
		r->devs[i].bad_clock_ex = -1;
		if ((rc = dev_new(&r->env, &dop, &r->devs[i].d, err, errlen)) < 0)
			return rc;
		if (sd->has_clock || sd->has_zone)
			dev_set_clock(r->devs[i].d, (sd->has_clock ? sd->clock_ms
						     : loop_now(r->l)) / 1000,
				      sd->has_zone, sd->zone_s);
	}
	r->t0 = loop_now(r->l);
	/* events of the set-up are not part of the scenario */
	r->n_evs = 0;
	cJSON_Delete(r->j_events);
	r->j_events = cJSON_CreateArray();
	for (size_t i = 0; i < s->n_devs; i++)
		if ((rc = dev_power_on(r->devs[i].d, err, errlen)) < 0)
			return rc;
	return 0;
}

/* After the last step: lets the exchanges in flight end (an upload the
 * last step caused belongs in the report), for at most 3 s of wall time.
 * Returns how many are still in flight. */
static size_t drain(srun *r)
{
	struct timespec w0;

	clock_gettime(CLOCK_MONOTONIC, &w0);
	while (loop_http_in_flight(r->l) && run__wall_ms(&w0) < 3000 &&
	       !atomic_load(&r->stop))
		loop_step(r->l, 50);
	return loop_http_in_flight(r->l);
}

/* Registers r as running (false: the run is stopping, do not start). */
static bool enter(shared *sh, size_t i, srun *r)
{
	bool ok;

	pthread_mutex_lock(&sh->mu);
	ok = !atomic_load(&sh->stop);
	if (ok)
		sh->running[i] = r;
	pthread_mutex_unlock(&sh->mu);
	return ok;
}

static void leave(shared *sh, size_t i)
{
	pthread_mutex_lock(&sh->mu);
	sh->running[i] = NULL;
	pthread_mutex_unlock(&sh->mu);
}

/* The scenario's verdict: error (it did not run to its end, or could not
 * be set up), skip, fail, pass. */
static const char *verdict_of(srun *r, bool setup_ok, const char **reason,
			      char *buf, size_t n)
{
	int stop = atomic_load(&r->stop);
	const cJSON *c;
	bool any_fail = false;

	*reason = NULL;
	cJSON_ArrayForEach(c, r->j_checks) {
		const char *st = run__str(c, "status");
		bool bad = st && (!strcmp(st, "fail") ||
				  (r->o->fail_on_warning && !strcmp(st, "warn")));
		if (bad && !*reason) {
			snprintf(buf, n, "%s: %s", run__str(c, "id"),
				 run__str(c, "message"));
			*reason = buf;
		}
		any_fail |= bad;
	}
	if (!setup_ok)
		return "error";
	if (stop == STOP_SKIP) {
		*reason = r->stop_why;
		return "skip";
	}
	if (stop == STOP_INTERRUPTED || stop == STOP_RUN_TIMEOUT ||
	    stop == STOP_CAPPED) {
		*reason = stop_reason(r, buf, n);
		return "error";
	}
	if (r->oom) {
		*reason = "out of memory while recording the run";
		return "error";
	}
	if (stop == STOP_LOOP && !*reason)
		*reason = r->stop_why;
	return any_fail || stop == STOP_LOOP ? "fail" : "pass";
}

static void free_run(srun *r)
{
	for (size_t i = 0; r->devs && i < r->s->n_devs; i++) {
		dev_free(r->devs[i].d);
		free(r->devs[i].seqs);
		free(r->devs[i].hb_seqs);
	}
	mock_stop(r->m);
	loop_free(r->l);
	store_close(r->st);
	if (r->dir[0])
		nftw(r->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	for (size_t i = 0; i < r->n_xs; i++) {
		cJSON_Delete(r->xs[i].req);
		cJSON_Delete(r->xs[i].reply);
	}
	for (int c = 0; c < XC_COUNT; c++) {
		cJSON_Delete(r->acc[c].rules);
		cJSON_Delete(r->acc[c].ex);
	}
	for (size_t i = 0; r->handles && i < r->s->n_steps; i++)
		cJSON_Delete(r->handles[i]);
	track_free(r->tk);
	cJSON_Delete(r->records);
	cJSON_Delete(r->j_checks);
	cJSON_Delete(r->j_exchanges);
	cJSON_Delete(r->j_events);
	cJSON_Delete(r->side.params);
	adp_result_free(&r->side.res);
	free(r->xs);
	free(r->evs);
	free(r->rd);
	free(r->devs);
	free(r->cmd_ids);
	free(r->handles);
	free(r);
}

/* Set-up, first part: the scenario's state with its lists, or NULL with
 * *skip set to the report entry of a scenario that cannot run here (NULL
 * when out of memory).  A list that could not be allocated is left NULL
 * for setup to refuse. */
static srun *run_new(shared *sh, size_t idx, cJSON **skip)
{
	const scenario *s = sh->s[idx];
	srun *r = calloc(1, sizeof *r);
	char buf[1200];

	*skip = NULL;
	if (!r)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &r->w0);
	r->sh = sh;
	r->o = sh->o;
	r->s = s;
	r->mock_mode = !strcmp(r->o->server, "mock");
	if (s->mock_only && !r->mock_mode) {
		free(r);
		*skip = run__not_run(s, "skip", "this scenario needs camsim's "
				     "own mock server (\"server\": \"mock\")");
		return NULL;
	}
	if (s->needs_recognition && (!sh->rg || !recog_available(sh->rg))) {
		snprintf(buf, sizeof buf, "needs face recognition: %s",
			 sh->rg_err[0] ? sh->rg_err : "recognition unavailable");
		free(r);
		*skip = run__not_run(s, "skip", buf);
		return NULL;
	}
	r->rg = sh->rg;
	run__timers_init(r);
	for (int c = 0; c < XC_COUNT; c++) {
		r->acc[c].rules = cJSON_CreateArray();
		r->acc[c].ex = cJSON_CreateArray();
		r->acc[c].last_bad = -1;
	}
	r->j_checks = cJSON_CreateArray();
	r->j_exchanges = cJSON_CreateArray();
	r->j_events = cJSON_CreateArray();
	r->records = cJSON_CreateArray();
	r->tk = track_new();
	r->devs = calloc(s->n_devs, sizeof *r->devs);
	r->cmd_ids = calloc(s->n_steps, sizeof *r->cmd_ids);
	r->handles = calloc(s->n_steps, sizeof *r->handles);
	return r;
}

/* Plays the set-up scenario on this thread until its end or a stop, then
 * reports the steps it did not reach and checks the records.  Returns how
 * many exchanges were still in flight after the last step. */
static size_t play(shared *sh, size_t idx, srun *r)
{
	char buf[1200];
	size_t unfinished = 0;

	if (enter(sh, idx, r)) {
		r->act_t = r->t0;
		run__schedule(r);
		loop_run(r->l);
		if (r->finished)
			unfinished = drain(r);
		leave(sh, idx);
	} else {
		atomic_store(&r->stop, atomic_load(&sh->stop));
	}
	if (r->side.running) { /* stopped from outside: it gives up soon */
		atomic_store(&r->cancel, true);
		pthread_join(r->side.th, NULL);
		r->side.running = false;
	}
	/* the steps the scenario did not reach, and why */
	if (!r->finished)
		run__steps_unreached(r, atomic_load(&r->stop) == STOP_SKIP
				     ? "skip" : "error",
				     stop_reason(r, buf, sizeof buf));
	if (!atomic_load(&r->stop) || atomic_load(&r->stop) == STOP_LOOP)
		run__check_records(r);
	return unfinished;
}

/* The scenario's report entry with its verdict; takes r's report lists
 * (free_run frees the rest).  err: why the set-up failed, when it did. */
static cJSON *result(srun *r, bool setup_ok, const char *err,
		     size_t unfinished)
{
	const scenario *s = r->s;
	char buf[1200];
	const char *status, *reason;
	cJSON *j, *devs;

	if (!setup_ok)
		setup_failed(r, err);
	else
		for (int c = 0; c < XC_COUNT; c++)
			cJSON_AddItemToArray(r->j_checks, run__xcheck_json(r, c));
	status = verdict_of(r, setup_ok, &reason, buf, sizeof buf);
	j = scenario_json(s, status, setup_ok ? reason : err);
	cJSON_AddNumberToObject(j, "duration_ms", run__wall_ms(&r->w0));
	cJSON_AddNumberToObject(j, "virtual_ms",
				r->l ? (double)(loop_now(r->l) - r->t0) : 0);
	devs = cJSON_AddArrayToObject(j, "devices");
	for (size_t i = 0; r->devs && i < s->n_devs; i++)
		cJSON_AddItemToArray(devs, cJSON_CreateString(r->devs[i].cid));
	cJSON_AddItemToObject(j, "checks", r->j_checks);
	cJSON_AddItemToObject(j, "exchanges", r->j_exchanges);
	cJSON_AddNumberToObject(j, "exchanges_omitted", (double)r->x_omitted);
	if (unfinished) {
		snprintf(buf, sizeof buf, "%zu exchange%s still in flight 3 s after "
			 "the last step; not in the report", unfinished,
			 unfinished == 1 ? " was" : "s were");
		cJSON_AddStringToObject(j, "unfinished", buf);
	}
	cJSON_AddItemToObject(j, "events", r->j_events);
	r->j_checks = r->j_exchanges = r->j_events = NULL;
	return j;
}

cJSON *run__one(shared *sh, size_t idx)
{
	char err[600] = "";
	cJSON *skip, *j;
	srun *r = run_new(sh, idx, &skip);
	bool setup_ok;
	size_t unfinished = 0;

	if (!r)
		return skip;
	setup_ok = setup(r, err, sizeof err) >= 0;
	if (setup_ok)
		unfinished = play(sh, idx, r);
	j = result(r, setup_ok, err, unfinished);
	free_run(r);
	return j;
}
