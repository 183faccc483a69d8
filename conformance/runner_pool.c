/* runner_pool.c -- the run: a pool of worker threads takes scenarios in
 * order (runner.c runs each); the calling thread watches progress, the
 * whole run's timeout, each scenario's hard cap and interruption, after
 * which every unfinished scenario is still reported; the run document.
 * Never touches a scenario's devices or loop (run__stop asks). */
#include "runner_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- the run */

static void *worker(void *ud)
{
	shared *sh = ud;

	for (;;) {
		size_t i;
		cJSON *res;
		pthread_mutex_lock(&sh->mu);
		i = sh->next++;
		pthread_mutex_unlock(&sh->mu);
		if (i >= sh->n)
			return NULL;
		if (atomic_load(&sh->stop)) {
			res = run__not_run(sh->s[i], "error",
					   atomic_load(&sh->stop) == STOP_RUN_TIMEOUT
					   ? "timed out: the run's --timeout "
					   "passed before this scenario started"
					   : "interrupted: the run was stopped "
					   "before this scenario started");
		} else {
			res = run__one(sh, i);
		}
		pthread_mutex_lock(&sh->mu);
		sh->out[i] = res ? res : run__not_run(sh->s[i], "error",
						      "out of memory running the "
						      "scenario");
		sh->done++;
		if (!strcmp(run__str(sh->out[i], "status"), "fail") ||
		    !strcmp(run__str(sh->out[i], "status"), "error"))
			sh->failed++;
		if (sh->o->on_done)
			sh->o->on_done(sh->o->ud, sh->out[i], sh->done, sh->n);
		pthread_cond_broadcast(&sh->cv);
		pthread_mutex_unlock(&sh->mu);
	}
}

/* A scenario's hard cap in wall seconds: --scenario-timeout, else what its
 * own timeline allows on this clock, with room. */
static double cap_s(const run_opts *o, const scenario *s)
{
	double v = 0, speed;

	if (o->scenario_timeout_s > 0)
		return o->scenario_timeout_s;
	for (size_t i = 0; i < s->n_steps; i++) {
		const scn_step *st = &s->steps[i];
		v += st->after_s + st->window_s;
		if (st->has_at && st->at_s > v)
			v = st->at_s;
	}
	speed = o->clock == RUN_CLOCK_REAL ? 1
		: o->clock == RUN_CLOCK_SCALE ? o->scale : 0;
	/* the jump clock skips idle time: the cap is for a stuck server */
	return speed > 0 ? 60 + 2 * v / speed : 600;
}

/* Builds the run document from what is done; unfinished scenarios (only
 * while the run goes on) are listed as "running". */
static cJSON *document(shared *sh, bool final)
{
	const run_opts *o = sh->o;
	cJSON *d = cJSON_CreateObject(), *arr, *sum;
	size_t passed = 0, failed = 0, skipped = 0, errors = 0, checks = 0,
	       cfail = 0, warns = 0, na = 0;
	char when[32];
	struct tm tm;
	int stop = atomic_load(&sh->stop);

	if (!d)
		return NULL;
	gmtime_r(&o->started, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(d, "schema", "camsim-report/2");
	cJSON_AddStringToObject(d, "tool", "camsim");
	cJSON_AddStringToObject(d, "version", o->version ? o->version : "");
	cJSON_AddStringToObject(d, "started", when);
	cJSON_AddNumberToObject(d, "duration_ms", run__wall_ms(&sh->t0));
	cJSON_AddStringToObject(d, "server", o->server);
	cJSON_AddStringToObject(d, "clock", o->clock_text ? o->clock_text
				: "jump");
	cJSON_AddStringToObject(d, "profile", o->prof->name);
	cJSON_AddBoolToObject(d, "fail_on_warning", o->fail_on_warning);
	cJSON_AddBoolToObject(d, "fail_on_skip", o->fail_on_skip);
	cJSON_AddBoolToObject(d, "complete", final && !stop);
	if (stop == STOP_INTERRUPTED)
		cJSON_AddStringToObject(d, "interrupted", "interrupted by a "
					"signal (SIGINT or SIGTERM)");
	else if (stop == STOP_RUN_TIMEOUT)
		cJSON_AddStringToObject(d, "interrupted", "the run's --timeout "
					"passed");
	else if (!final)
		cJSON_AddStringToObject(d, "interrupted", "still running when "
					"this report was written: a checkpoint");
	else
		cJSON_AddNullToObject(d, "interrupted");
	sum = cJSON_AddObjectToObject(d, "summary");
	arr = cJSON_AddArrayToObject(d, "scenarios");
	for (size_t i = 0; i < sh->n; i++) {
		cJSON *sc = sh->out[i], *c;
		const char *st;
		if (!sc) {
			if (final)
				continue;
			sc = run__not_run(sh->s[i], "error", sh->running[i]
					  ? "still running when this report was "
					  "written" : "not started when this "
					  "report was written");
			cJSON_AddItemToArray(arr, sc);
			errors++;
			continue;
		}
		sc = cJSON_Duplicate(sc, true);
		st = run__str(sc, "status");
		passed += !strcmp(st, "pass");
		failed += !strcmp(st, "fail");
		skipped += !strcmp(st, "skip");
		errors += !strcmp(st, "error");
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(sc, "checks")) {
			const char *cs = run__str(c, "status");
			checks++;
			cfail += cs && (!strcmp(cs, "fail") || !strcmp(cs, "error"));
			warns += cs && !strcmp(cs, "warn");
			na += cs && !strcmp(cs, "n/a");
		}
		cJSON_AddItemToArray(arr, sc);
	}
	cJSON_AddNumberToObject(sum, "scenarios", (double)sh->n);
	cJSON_AddNumberToObject(sum, "passed", (double)passed);
	cJSON_AddNumberToObject(sum, "failed", (double)failed);
	cJSON_AddNumberToObject(sum, "skipped", (double)skipped);
	cJSON_AddNumberToObject(sum, "errors", (double)errors);
	cJSON_AddNumberToObject(sum, "checks", (double)checks);
	cJSON_AddNumberToObject(sum, "checks_failed", (double)cfail);
	cJSON_AddNumberToObject(sum, "warnings", (double)warns);
	cJSON_AddNumberToObject(sum, "not_applicable", (double)na);
	cJSON_AddStringToObject(d, "verdict", failed || errors || !final || stop ||
				(o->fail_on_skip && skipped) ? "fail" : "pass");
	return d;
}

int run_all(const run_opts *o, scenario *const *s, size_t n, cJSON **doc,
	    char *err, size_t errlen)
{
	shared sh = {.o = o, .s = s, .n = n};
	int jobs = o->interactive ? 1 : o->jobs > 0 ? o->jobs : 2;
	pthread_t th[16];
	int started = 0;
	double last_cp = 0, last_tick = 0;

	*doc = NULL;
	if (jobs > 16)
		jobs = 16;
	sh.out = calloc(n ? n : 1, sizeof *sh.out);
	sh.running = calloc(n ? n : 1, sizeof *sh.running);
	if (!sh.out || !sh.running) {
		free(sh.out);
		free(sh.running);
		snprintf(err, errlen, "out of memory");
		return CONF_ENOMEM;
	}
	pthread_mutex_init(&sh.mu, NULL);
	pthread_cond_init(&sh.cv, NULL);
	clock_gettime(CLOCK_MONOTONIC, &sh.t0);
	sh.rg = recog_open(NULL, sh.rg_err, sizeof sh.rg_err);
	for (int i = 0; i < jobs && (size_t)i < n; i++)
		if (!pthread_create(&th[started], NULL, worker, &sh))
			started++;
	if (!started && n)
		worker(&sh);

	/* watch: interruption, timeouts, progress, checkpoints */
	pthread_mutex_lock(&sh.mu);
	while (sh.done < n) {
		struct timespec until;
		double now = run__wall_ms(&sh.t0);
		int stop = o->stop ? atomic_load(o->stop) : 0;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&sh.cv, &sh.mu, &until);
		if (!stop && o->timeout_s > 0 && now > o->timeout_s * 1000)
			stop = STOP_RUN_TIMEOUT;
		if (stop && !atomic_load(&sh.stop))
			atomic_store(&sh.stop, stop);
		for (size_t i = 0; i < n; i++) {
			srun *r = sh.running[i];
			if (!r)
				continue;
			if (atomic_load(&sh.stop))
				run__stop(r, atomic_load(&sh.stop), NULL);
			else if (run__wall_ms(&r->w0) > cap_s(o, r->s) * 1000)
				run__stop(r, STOP_CAPPED, "the scenario ran for "
					  "more than its hard cap of %.0f s of "
					  "wall time (--scenario-timeout)",
					  cap_s(o, r->s));
		}
		if (o->on_tick && now - last_tick >= 250) {
			const char *names[16];
			double secs[16];
			size_t k = 0;
			last_tick = now;
			for (size_t i = 0; i < n && k < 16; i++)
				if (sh.running[i]) {
					names[k] = s[i]->name;
					secs[k++] = run__wall_ms(&sh.running[i]->w0)
						    / 1000;
				}
			o->on_tick(o->ud, names, secs, k, sh.done, n,
				   now / 1000);
		}
		if (o->on_checkpoint && now - last_cp >= 5000 && sh.done < n) {
			cJSON *cp = document(&sh, false);
			last_cp = now;
			pthread_mutex_unlock(&sh.mu);
			if (cp)
				o->on_checkpoint(o->ud, cp);
			cJSON_Delete(cp);
			pthread_mutex_lock(&sh.mu);
		}
	}
	pthread_mutex_unlock(&sh.mu);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pkgsrv_stop(sh.pkg);
	recog_close(sh.rg);
	*doc = document(&sh, true);
	if (sh.pkg_failed)
		snprintf(err, errlen, "%s", sh.pkg_err);
	for (size_t i = 0; i < n; i++)
		cJSON_Delete(sh.out[i]);
	free(sh.out);
	free(sh.running);
	pthread_cond_destroy(&sh.cv);
	pthread_mutex_destroy(&sh.mu);
	if (!*doc) {
		snprintf(err, errlen, "out of memory building the run document");
		return CONF_ENOMEM;
	}
	return 0;
}
