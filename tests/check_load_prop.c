/* check_load_prop.c -- `camsim load --propagate' and the measures beside
 * it: one enrolment propagated to 200 devices on the mock, every device
 * confirmed and the curve ending at them; a batch of 45 people (three
 * facelib_batch commands) to a few devices; a propagation threshold that
 * fails exits 99; a batch of no people is refused; heartbeat
 * lateness counted once per heartbeat; a server killed and restarted
 * mid-run: no device lost, every failed snapshot retransmitted and stored
 * once, the offline records sampled each second rising from 0 during the
 * outage and back to 0 after it; the --propagate grammar and kinds such as lateness(heartbeat). */
#include "load.h"
#include "load_cli.h"
#include "load_prop.h"
#include "hist.h"
#include "testutil.h"

#include <cJSON.h>
#include <math.h>
#include <pthread.h>
#include <time.h>

typedef struct fx {
	char dir[64], rep[96], faces[256];
} fx;

static void fx_start(fx *f)
{
	memset(f, 0, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/check_load_prop.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->rep, sizeof f->rep, "%s/rep", f->dir);
	snprintf(f->faces, sizeof f->faces, "%s/faces", tu_root());
}

static void fx_end(fx *f)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	ck_assert_int_eq(system(cmd), 0);
}

static cJSON *read_report(const fx *f)
{
	char path[128];

	snprintf(path, sizeof path, "%s/report.json", f->rep);
	return tu_read_json(path);
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	ck_assert_msg(cJSON_IsNumber(v), "%s is no number", k);
	return v->valuedouble;
}

/* The propagation object's invariants: confirmed of devices, the hist
 * holding one value per confirmed device with p50 <= p99 <= max, and a
 * curve rising in both time and count to the confirmed count. */
static void check_propagation(const cJSON *p, const char *command,
			      double devices)
{
	const cJSON *curve = cJSON_GetObjectItem(p, "curve"), *pt;
	char *txt, err[256];
	hist *h = calloc(1, sizeof *h);
	double last_ms = -1, last_n = 0;

	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(p,
				"command")), command);
	ck_assert_double_eq(num(p, "devices"), devices);
	ck_assert_double_eq(num(p, "confirmed"), devices);
	txt = cJSON_PrintUnformatted(cJSON_GetObjectItem(p, "hist"));
	ck_assert_ptr_nonnull(h);
	ck_assert_msg(hist_from_json(h, txt, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(h->count, (uint64_t)devices);
	ck_assert_uint_le(hist_quantile(h, 0.5), hist_quantile(h, 0.99));
	ck_assert_uint_le(hist_quantile(h, 0.99), h->max);
	ck_assert_uint_gt(h->max, 0);
	ck_assert(cJSON_IsArray(curve) && cJSON_GetArraySize(curve) > 0);
	cJSON_ArrayForEach(pt, curve) {
		double ms = cJSON_GetArrayItem(pt, 0)->valuedouble;
		double n = cJSON_GetArrayItem(pt, 1)->valuedouble;
		ck_assert_double_gt(ms, last_ms);
		ck_assert_double_gt(n, last_n);
		last_ms = ms;
		last_n = n;
	}
	ck_assert_double_eq(last_n, devices);
	/* the curve's last time is the slowest device, in ms */
	ck_assert_double_le(fabs(last_ms * 1000 - (double)h->max),
			    (double)h->max / 64);
	free(txt);
	free(h);
}

START_TEST(one_enrolment_reaches_200_devices_each_confirmed)
{
	fx f;
	const char *args[] = {"--server", "mock", "--devices", "200", "--ramp",
			      "1s", "--duration", "6s", "--interval", "1",
			      "--propagate", "enrol", "--faces", NULL,
			      "--threshold", "p99(propagation)<30s",
			      "--report-dir", NULL, NULL};
	tu_cli_result r;
	cJSON *rep;

	if (tu_valgrind())
		return; /* enrolling needs the models, out of reach there */
	fx_start(&f);
	args[13] = f.faces;
	args[17] = f.rep;
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == LOAD_EXIT_OK, "rc %d: %s%s", r.rc, r.out, r.err);
	ck_assert_msg(strstr(r.out, "propagation (enrol): 200 of 200 devices "
			     "confirmed, p50 "), "%s", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "ok   p99(propagation)<30s"));
	rep = read_report(&f);
	check_propagation(cJSON_GetObjectItem(rep, "propagation"), "enrol", 200);
	cJSON_Delete(rep);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

START_TEST(a_batch_of_45_people_takes_three_commands_and_is_confirmed)
{
	fx f;
	const char *args[] = {"--server", "mock", "--devices", "4", "--duration",
			      "6s", "--interval", "1", "--propagate", "batch:45",
			      "--faces", NULL, "--report-dir", NULL, NULL};
	tu_cli_result r;
	cJSON *rep, *k;

	if (tu_valgrind())
		return;
	fx_start(&f);
	args[11] = f.faces;
	args[13] = f.rep;
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == LOAD_EXIT_OK, "rc %d: %s%s", r.rc, r.out, r.err);
	rep = read_report(&f);
	check_propagation(cJSON_GetObjectItem(rep, "propagation"), "batch", 4);
	ck_assert_double_eq(num(cJSON_GetObjectItem(rep, "propagation"),
				"people"), 45);
	/* 20 + 20 + 5: each device reported three batch results */
	k = cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "kinds"),
				"batch_result");
	ck_assert_ptr_nonnull(k);
	ck_assert_double_eq(num(k, "answered"), 12);
	cJSON_Delete(rep);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

START_TEST(a_propagation_threshold_that_fails_exits_99)
{
	fx f;
	const char *args[] = {"--server", "mock", "--devices", "10", "--duration",
			      "3s", "--interval", "1", "--propagate", "config",
			      "--threshold", "p99(propagation)<30s",
			      "--threshold", "max(propagation)<1us",
			      "--threshold", "errors(propagation)==0",
			      "--report-dir", NULL, NULL};
	tu_cli_result r;
	cJSON *rep, *th;

	fx_start(&f);
	args[17] = f.rep;
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == LOAD_EXIT_THRESHOLD, "rc %d: %s%s", r.rc, r.out,
		      r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "ok   p99(propagation)<30s"));
	ck_assert_ptr_nonnull(strstr(r.out, "FAIL max(propagation)<1us"));
	ck_assert_ptr_nonnull(strstr(r.out, "ok   errors(propagation)==0"));
	rep = read_report(&f);
	check_propagation(cJSON_GetObjectItem(rep, "propagation"), "config", 10);
	th = cJSON_GetObjectItem(rep, "thresholds");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(th, 1),
						    "ok")));
	cJSON_Delete(rep);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

START_TEST(a_strategy_push_is_confirmed_by_every_device)
{
	fx f;
	const char *args[] = {"--server", "mock", "--devices", "20", "--duration",
			      "3s", "--interval", "1", "--propagate", "strategy",
			      "--report-dir", NULL, NULL};
	tu_cli_result r;
	cJSON *rep;

	fx_start(&f);
	args[11] = f.rep;
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == LOAD_EXIT_OK, "rc %d: %s%s", r.rc, r.out, r.err);
	rep = read_report(&f);
	check_propagation(cJSON_GetObjectItem(rep, "propagation"), "strategy", 20);
	cJSON_Delete(rep);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

START_TEST(a_batch_of_no_people_is_refused)
{
	const char *bad[] = {"--server", "mock", "--devices", "1",
			     "--propagate", "batch:0", NULL};
	tu_cli_result r = tu_cli(load_main, "load", bad);

	/* against a server given by URL: check_load_adapter.c */
	ck_assert_int_eq(r.rc, LOAD_EXIT_CANNOT_RUN);
	ck_assert_msg(strstr(r.err, "--propagate \"batch:0\": N in batch:N is "
			     "a number of people from 1 to 100000"), "%s", r.err);
	tu_cli_free(&r);
}
END_TEST

START_TEST(heartbeat_lateness_counts_each_heartbeat_once)
{
	fx f;
	const char *args[] = {"--server", "mock", "--devices", "30", "--duration",
			      "3s", "--interval", "1", "--threshold",
			      "p99(lateness(heartbeat))<5s", "--threshold",
			      "count(lateness(heartbeat))>=30",
			      "--report-dir", NULL, NULL};
	tu_cli_result r;
	cJSON *rep, *late, *hb;

	fx_start(&f);
	args[13] = f.rep;
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == LOAD_EXIT_OK, "rc %d: %s%s", r.rc, r.out, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "heartbeat lateness: "));
	ck_assert_ptr_nonnull(strstr(r.out, "offline records waiting at the "
				     "end: 0"));
	rep = read_report(&f);
	late = cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "lateness"),
				   "heartbeat");
	hb = cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "kinds"), "heartbeat");
	ck_assert_double_eq(num(late, "count"), num(hb, "requests"));
	ck_assert_double_ge(num(late, "count"), 30 * 3);
	ck_assert_double_le(num(late, "p50"), num(late, "p99"));
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(late, "buckets")));
	ck_assert_double_eq(num(cJSON_GetObjectItem(rep, "offline_records"),
				"total"), 0);
	ck_assert_ptr_null(cJSON_GetObjectItem(rep, "propagation"));
	cJSON_Delete(rep);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

/* The test's own mock, stopped 1.5 s after every device heartbeated and
 * the first snapshot arrived (set-up and the one inference, on the loop
 * thread, take seconds under sanitizers) and started again on the same
 * port and database 2 s later. */
typedef struct outage {
	char db[128], listen[32], err[512];
	mock *m;
	int rc;
	int64_t back_ms; /* UTC ms when it listened again */
} outage;

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static void *kill_and_restart(void *arg)
{
	outage *o = arg;
	mock_opts mo = {.listen = o->listen, .path = "/api/face", .db = o->db};
	struct timespec now;

	for (int i = 0; i < 600; i++) {
		cJSON *d = mock_devices_json(o->m);
		cJSON *r = mock_records_json(o->m, NULL, 0, 1);
		int n = cJSON_GetArraySize(d), nr = cJSON_GetArraySize(r);
		cJSON_Delete(d);
		cJSON_Delete(r);
		if (n == 10 && nr > 0)
			break;
		sleep_ms(50);
	}
	sleep_ms(1500);
	mock_stop(o->m);
	o->m = NULL;
	sleep_ms(2000);
	o->rc = mock_start(&mo, &o->m, o->err, sizeof o->err);
	clock_gettime(CLOCK_REALTIME, &now);
	o->back_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	return NULL;
}

/* Failures of kind k that may have reached the server: all but refused. */
static double unanswered(const cJSON *kinds, const char *k)
{
	const cJSON *o = cJSON_GetObjectItem(kinds, k);

	return num(o, "failed") - num(cJSON_GetObjectItem(o, "failures"),
				     "refused");
}

/* The series' offline samples (docs/load.md: every second of the run,
 * only the last of the drain after it): 0 at the start, above 0 while the server
 * is down (its peak in "offline_records"), then back to 0 before the
 * end, which is 0 too. */
static void offline_rise_and_drain(const cJSON *rep)
{
	const cJSON *e;
	double peak = 0, last = -1, t_peak = -1, t_drained = -1;

	cJSON_ArrayForEach(e, cJSON_GetObjectItem(cJSON_GetObjectItem(rep,
						  "series"), "seconds")) {
		double v;
		if (!cJSON_GetObjectItem(e, "offline"))
			continue; /* the drain's seconds before its end */
		v = num(e, "offline");
		if (last < 0)
			ck_assert_double_eq(v, 0);
		if (v > peak) {
			peak = v;
			t_peak = num(e, "t");
			t_drained = -1; /* drained after the highest */
		}
		if (peak > 0 && v == 0 && t_drained < 0)
			t_drained = num(e, "t");
		last = v;
	}
	ck_assert_double_gt(peak, 0);
	ck_assert_double_gt(t_drained, t_peak);
	ck_assert_double_eq(last, 0);
	ck_assert_double_eq(num(cJSON_GetObjectItem(rep, "offline_records"),
				"peak"), peak);
}

START_TEST(the_server_killed_mid_run_loses_no_device_and_no_snapshot)
{
	fx f;
	outage o = {0};
	mock_opts mo = {.listen = "127.0.0.1:0", .path = "/api/face", .db = o.db};
	char url[128], pics[600];
	load_opts lo = {.devices = 10, .duration_ms = 9000, .interval_s = 1,
			.jitter = 0.1, .arrivals = 60, .prof = &proto_profile_strict,
			.idle_reupload_ms = 500};
	pthread_t th;
	cJSON *rep, *kinds, *recs, *devs, *e;
	double resent, snaps;
	size_t n_rec = 0;
	int rc;

	if (tu_valgrind())
		return; /* snapshots need the models */
	fx_start(&f);
	snprintf(o.db, sizeof o.db, "%s/mock.db", f.dir);
	ck_assert_int_eq(mock_start(&mo, &o.m, o.err, sizeof o.err), 0);
	snprintf(o.listen, sizeof o.listen, "127.0.0.1:%d", mock_port(o.m));
	snprintf(url, sizeof url, "http://%s/api/face", o.listen);
	lo.server = url;
	/* one picture: one inference, before the outage */
	snprintf(pics, sizeof pics, "mkdir %s/faces && cp %s/person-a-2.jpg "
		 "%s/faces/", f.dir, f.faces, f.dir);
	ck_assert_int_eq(system(pics), 0);
	snprintf(pics, sizeof pics, "%s/faces", f.dir);
	lo.faces_dir = pics;
	lo.report_dir = f.rep;
	ck_assert_ptr_nonnull(lo.out = tmpfile());
	ck_assert_ptr_nonnull(lo.progress = tmpfile());
	pthread_create(&th, NULL, kill_and_restart, &o);
	rc = load_run(&lo);
	pthread_join(th, NULL);
	ck_assert_msg(o.rc == 0, "restart: %s", o.err);
	ck_assert_int_eq(rc, LOAD_EXIT_OK);
	rep = read_report(&f);
	kinds = cJSON_GetObjectItem(rep, "kinds");
	ck_assert_double_eq(num(rep, "devices_up"), 10);
	/* the outage was seen: heartbeats and snapshots refused */
	ck_assert_double_gt(num(cJSON_GetObjectItem(cJSON_GetObjectItem(
		kinds, "heartbeat"), "failures"), "refused"), 0);
	ck_assert_double_gt(num(cJSON_GetObjectItem(cJSON_GetObjectItem(
		kinds, "snapshot"), "failures"), "refused"), 0);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(kinds, "snapshot (resend)"));
	resent = num(cJSON_GetObjectItem(kinds, "snapshot (resend)"), "answered");
	ck_assert_double_gt(resent, 0);
	ck_assert_double_eq(num(cJSON_GetObjectItem(rep, "offline_records"),
				"total"), 0);
	offline_rise_and_drain(rep);
	/* every snapshot that failed was retransmitted and answered once,
	 * and the mock stored every snapshot: one copy each, plus at most
	 * one more per request that may have reached it as it died without
	 * its answer getting back (V1.16 resends what saw no answer).  The
	 * mock's own duplicate_of cannot count those: two people shown
	 * within one second with the same picture match it too. */
	recs = mock_records_json(o.m, NULL, 0, 100000);
	cJSON_ArrayForEach(e, recs)
		n_rec++;
	snaps = num(cJSON_GetObjectItem(kinds, "snapshot"), "requests");
	ck_assert_double_eq(resent, num(cJSON_GetObjectItem(kinds, "snapshot"),
					"failed"));
	ck_assert_double_ge((double)n_rec, snaps);
	ck_assert_double_le((double)n_rec - snaps, unanswered(kinds, "snapshot")
			    + unanswered(kinds, "snapshot (resend)"));
	/* no device lost: each heartbeated to the restarted server */
	devs = mock_devices_json(o.m);
	ck_assert_int_eq(cJSON_GetArraySize(devs), 10);
	cJSON_ArrayForEach(e, devs)
		ck_assert_double_gt(num(e, "last_heartbeat"), (double)o.back_ms);
	cJSON_Delete(devs);
	cJSON_Delete(recs);
	cJSON_Delete(rep);
	fclose(lo.out);
	fclose(lo.progress);
	mock_stop(o.m);
	fx_end(&f);
}
END_TEST

START_TEST(propagate_grammar)
{
	load_prop_spec p;
	load_threshold t;
	char err[256];

	ck_assert_int_eq(load_prop_parse("enrol", &p, err, sizeof err), 0);
	ck_assert_int_eq(p.cmd, LOAD_PROP_ENROL);
	ck_assert_int_eq(load_prop_parse("batch", &p, err, sizeof err), 0);
	ck_assert_int_eq(p.cmd, LOAD_PROP_BATCH);
	ck_assert_int_eq(p.n, 1000);
	ck_assert_int_eq(load_prop_parse("batch:45", &p, err, sizeof err), 0);
	ck_assert_int_eq(p.n, 45);
	ck_assert_int_eq(load_prop_parse("strategy", &p, err, sizeof err), 0);
	ck_assert_int_eq(p.cmd, LOAD_PROP_STRATEGY);
	ck_assert_int_eq(load_prop_parse("config", &p, err, sizeof err), 0);
	ck_assert_int_eq(p.cmd, LOAD_PROP_CONFIG);
	ck_assert_int_lt(load_prop_parse("enroll", &p, err, sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(err, "expected enrol, batch, batch:N, "
				     "strategy or config"));
	ck_assert_int_lt(load_prop_parse("config:3", &p, err, sizeof err), 0);
	ck_assert_int_lt(load_prop_parse("batch:", &p, err, sizeof err), 0);
	ck_assert_int_lt(load_prop_parse("batch:12x", &p, err, sizeof err), 0);
	ck_assert_int_lt(load_prop_parse("batch:100001", &p, err, sizeof err), 0);
	/* thresholds name the measures beside the exchanges */
	ck_assert_int_eq(load_threshold_parse("p99(lateness(heartbeat))<100ms",
					      &t, err, sizeof err), 0);
	ck_assert_str_eq(t.kind, "lateness(heartbeat)");
	ck_assert_int_eq(load_threshold_parse("p99(propagation)<30s", &t, err,
					      sizeof err), 0);
	ck_assert_double_eq(t.limit, 30e6);
	ck_assert_int_lt(load_threshold_parse("p99(lateness(heartbeat)<1s", &t,
					      err, sizeof err), 0);
	ck_assert_int_lt(load_threshold_parse("p99((heartbeat))<1s", &t, err,
					      sizeof err), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("load_prop");
	TCase *run = tcase_create("run"), *unit = tcase_create("grammar");
	TCase *down = tcase_create("outage");

	tcase_set_timeout(run, 90);
	tcase_set_timeout(down, 60);
	tcase_add_test(run, one_enrolment_reaches_200_devices_each_confirmed);
	tcase_add_test(run, a_batch_of_45_people_takes_three_commands_and_is_confirmed);
	tcase_add_test(run, a_propagation_threshold_that_fails_exits_99);
	tcase_add_test(run, a_strategy_push_is_confirmed_by_every_device);
	tcase_add_test(run, a_batch_of_no_people_is_refused);
	tcase_add_test(run, heartbeat_lateness_counts_each_heartbeat_once);
	tcase_add_test(down, the_server_killed_mid_run_loses_no_device_and_no_snapshot);
	tcase_add_test(unit, propagate_grammar);
	suite_add_tcase(s, run);
	suite_add_tcase(s, down);
	suite_add_tcase(s, unit);
	return tu_run(s);
}
