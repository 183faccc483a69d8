/* check_load.c -- `camsim load': a short run against an in-process mock
 * whose counts reconcile exactly with what the mock received, requests in
 * flight at the end included, also when more heartbeats are due than
 * can be sent (a saturated run ends cleanly); 500s counted once each, by code; people
 * arriving whose snapshots the mock stores; heartbeats that drift with
 * --jitter; thresholds that hold give 0 and that fail give 99 (and
 * --abort-on-fail stops early); a bad expression, a bad duration and a
 * server down at the start give 2 with a message naming them; SIGINT
 * still leaves report.json; the threshold and duration grammars. */
#include "load.h"
#include "load_cli.h"
#include "load_threshold.h"
#include "mock.h"
#include "testutil.h"

#include <cJSON.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

typedef struct fx {
	char dir[64], db[96], url[128], rep[96];
	mock *m;
} fx;

/* With a mock (fault: one spec for every exchange, or NULL) or without. */
static void fx_start(fx *f, bool with_mock, const char *fault)
{
	char err[512];
	mock_opts o = {.listen = "127.0.0.1:0", .path = "/api/face",
		       .db = f->db, .faults = &fault, .nfaults = fault ? 1 : 0};

	memset(f, 0, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/check_load.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->db, sizeof f->db, "%s/mock.db", f->dir);
	snprintf(f->rep, sizeof f->rep, "%s/rep", f->dir);
	if (!with_mock)
		return;
	ck_assert_msg(mock_start(&o, &f->m, err, sizeof err) == 0, "%s", err);
	snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/api/face",
		 mock_port(f->m));
}

static void fx_end(fx *f)
{
	char cmd[128];

	mock_stop(f->m);
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	ck_assert_int_eq(system(cmd), 0);
}

static cJSON *read_report(const fx *f)
{
	char path[128];

	snprintf(path, sizeof path, "%s/report.json", f->rep);
	return tu_read_json(path);
}

static double num_at(const cJSON *o, const char *a, const char *b,
		     const char *c)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	if (c)
		v = cJSON_GetObjectItemCaseSensitive(v, c);
	ck_assert_msg(cJSON_IsNumber(v), "%s.%s.%s is no number", a,
		      b ? b : "", c ? c : "");
	return v->valuedouble;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

START_TEST(a_short_run_reconciles_exactly_with_what_the_mock_received)
{
	fx f;
	const char *args[] = {"--server", NULL, "--devices", "20", "--duration",
			      "3s", "--interval", "1", "--jitter", "0.4",
			      "--report-dir", NULL, NULL};
	tu_cli_result r;
	cJSON *rep, *msgs, *m, *kinds, *k;
	double requests, hb;
	size_t n_mock = 0, hb_mock = 0;

	/* every answer 400 ms late: requests are in flight when the run ends,
	 * and the count must still match the mock's */
	fx_start(&f, true, "delay=400ms:100%");
	args[1] = f.url;
	args[11] = f.rep;
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == 0, "rc %d: %s", r.rc, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "heartbeat"));
	ck_assert_ptr_nonnull(strstr(r.err, "20/20 devices up"));
	rep = read_report(&f);
	requests = num_at(rep, "totals", "requests", NULL);
	ck_assert_double_eq(requests, num_at(rep, "totals", "answered", NULL) +
			    num_at(rep, "totals", "failed", NULL));
	ck_assert_double_eq(num_at(rep, "abandoned", NULL, NULL), 0);
	/* 20 first heartbeats and 2 or 3 more each: not a handful */
	ck_assert_double_ge(requests, 50);
	hb = num_at(rep, "kinds", "heartbeat", "requests");

	msgs = mock_messages_json(f.m, NULL, 0, 100000);
	ck_assert_ptr_nonnull(msgs);
	cJSON_ArrayForEach(m, msgs) {
		n_mock++;
		if (!strcmp(cJSON_GetObjectItem(m, "kind")->valuestring,
			    "heartbeat"))
			hb_mock++;
	}
	ck_assert_double_eq(requests, (double)n_mock);
	ck_assert_double_eq(hb, (double)hb_mock);
	kinds = cJSON_GetObjectItem(rep, "kinds");
	k = cJSON_GetObjectItem(kinds, "heartbeat");
	ck_assert_double_eq(num_at(k, "latency_us", "count", NULL), hb);
	ck_assert_double_ge(num_at(k, "latency_us", "p50", NULL), 400000);
	ck_assert_double_lt(num_at(k, "latency_us", "p50", NULL), 600000);
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(
		cJSON_GetObjectItem(k, "latency_us"), "buckets")));
	cJSON_Delete(msgs);
	cJSON_Delete(rep);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

/* Answers 1.5 s late at one heartbeat a second: every device's next slot
 * is due whenever its exchange ends, as on a loop that cannot keep up.
 * The drain must still end as soon as the requests in flight have (not
 * after its 15 s), abandon none, and count exactly what the mock got. */
START_TEST(the_drain_ends_when_every_device_always_has_a_slot_due)
{
	fx f;
	const char *args[] = {"--server", NULL, "--devices", "10", "--duration",
			      "4s", "--interval", "1", "--jitter", "0",
			      "--report-dir", NULL, NULL};
	tu_cli_result r;
	cJSON *rep, *msgs, *m;
	double t0, hb;
	size_t n_mock = 0;

	fx_start(&f, true, "delay=1500ms:100%");
	args[1] = f.url;
	args[11] = f.rep;
	t0 = now_s();
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == 0, "rc %d: %s", r.rc, r.err);
	/* 4 s of run, the drain's 5 s of grace for chains, then the 1.5 s
	 * answers still in flight; not its 15 s */
	ck_assert_msg(now_s() - t0 < 13, "the run took %.1f s: the drain waited "
		      "for devices that were never idle", now_s() - t0);
	ck_assert_ptr_null(strstr(r.err, "abandoned"));
	rep = read_report(&f);
	ck_assert_double_eq(num_at(rep, "abandoned", NULL, NULL), 0);
	hb = num_at(rep, "kinds", "heartbeat", "requests");
	ck_assert_double_ge(hb, 20);
	ck_assert_double_eq(num_at(rep, "totals", "requests", NULL), hb);
	ck_assert_double_eq(num_at(rep, "kinds", "heartbeat", "answered"), hb);
	/* one lateness value per heartbeat that left, none for the slots
	 * the drain held back */
	ck_assert_double_eq(num_at(rep, "lateness", "heartbeat", "count"), hb);
	msgs = mock_messages_json(f.m, NULL, 0, 100000);
	ck_assert_ptr_nonnull(msgs);
	cJSON_ArrayForEach(m, msgs)
		n_mock++;
	ck_assert_double_eq(hb, (double)n_mock);
	cJSON_Delete(msgs);
	cJSON_Delete(rep);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

/* More heartbeats due than can be sent: 600 devices at 1 s against a
 * mock answering each 300 ms late, so curl's 64 connections to one host
 * carry about 210 a second and each device's next heartbeat is due before
 * its last one ends.  The end must still be clean: nothing starts once the
 * drain begins (what was queued is unsent), nothing is abandoned, and the
 * counts equal the mock's own counters of GET /admin/stats. */
START_TEST(a_saturated_run_ends_cleanly_and_reconciles_with_the_mock_stats)
{
	fx f;
	/* under valgrind powering 600 devices on takes seconds of the run */
	const char *args[] = {"--server", NULL, "--devices", "600", "--duration",
			      tu_valgrind() ? "20s" : "2s", "--interval", "1",
			      "--jitter", "0", "--report-dir", NULL, NULL};
	char req[160], *buf = malloc(1 << 16);
	tu_cli_result r;
	cJSON *rep, *st;
	double requests, hb, mock_hb, mock_all = 0;
	const cJSON *e;
	struct timespec a, b;

	ck_assert_ptr_nonnull(buf);
	fx_start(&f, true, "delay=300ms:100%");
	args[1] = f.url;
	args[11] = f.rep;
	clock_gettime(CLOCK_MONOTONIC, &a);
	r = tu_cli(load_main, "load", args);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ck_assert_msg(r.rc == 0, "rc %d: %s", r.rc, r.err);
	rep = read_report(&f);
	/* saturated indeed: messages were still queued when the run ended */
	ck_assert_double_gt(num_at(rep, "unsent", NULL, NULL), 0);
	ck_assert_double_eq(num_at(rep, "abandoned", NULL, NULL), 0);
	ck_assert_ptr_null(strstr(r.err, "abandoned"));
	/* the drain waited for the requests on the network, ~300 ms each,
	 * not its 15 s limit (abandoned 0 says so; the wall time, set-up of
	 * 600 devices included, is only printed: sanitizers stretch it) */
	fprintf(stderr, "saturated run: %.1f s in all\n", (double)(b.tv_sec -
		a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	requests = num_at(rep, "totals", "requests", NULL);
	ck_assert_double_eq(requests, num_at(rep, "totals", "answered", NULL) +
			    num_at(rep, "totals", "failed", NULL));
	hb = num_at(rep, "kinds", "heartbeat", "requests");
	/* one lateness per heartbeat that left, none for one taken back */
	ck_assert_double_eq(num_at(rep, "lateness", "heartbeat", "count"), hb);

	snprintf(req, sizeof req, "GET /admin/stats HTTP/1.1\r\nHost: "
		 "127.0.0.1:%d\r\nConnection: close\r\n\r\n", mock_port(f.m));
	ck_assert_int_eq(tu_ask(mock_port(f.m), req, buf, 1 << 16, 5000), 200);
	ck_assert_ptr_nonnull(strstr(buf, "\r\n\r\n"));
	st = cJSON_Parse(strstr(buf, "\r\n\r\n") + 4);
	ck_assert_ptr_nonnull(st);
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(st, "messages"))
		mock_all += e->valuedouble;
	mock_hb = num_at(st, "messages", "heartbeat", NULL);
	/* every one a V1.16 message (kinds never seen are not listed) */
	ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetObjectItem(st,
			   "messages"), "not_a_message"));
	ck_assert_double_eq(requests, mock_all);
	ck_assert_double_eq(hb, mock_hb);
	cJSON_Delete(st);
	cJSON_Delete(rep);
	free(buf);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

/* The mock answering 500 to about half: each request counted once, as a
 * status failure with its code, and errors% judged on them. */
START_TEST(status_failures_are_counted_by_code_and_judged)
{
	fx f;
	const char *args[] = {"--server", NULL, "--devices", "10", "--duration",
			      "2s", "--interval", "1", "--threshold", "errors<10%",
			      "--report-dir", NULL, NULL};
	tu_cli_result r;
	cJSON *rep, *msgs, *m;
	size_t n_mock = 0, n500 = 0;

	fx_start(&f, true, "status=500:50%");
	args[1] = f.url;
	args[11] = f.rep;
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == LOAD_EXIT_THRESHOLD, "rc %d: %s", r.rc, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "failures: status "));
	rep = read_report(&f);
	msgs = mock_messages_json(f.m, NULL, 0, 100000);
	ck_assert_ptr_nonnull(msgs);
	cJSON_ArrayForEach(m, msgs) {
		n_mock++;
		n500 += num_at(m, "status", NULL, NULL) == 500;
	}
	ck_assert_uint_gt(n500, 0);
	ck_assert_uint_lt(n500, n_mock);
	ck_assert_double_eq(num_at(rep, "totals", "requests", NULL),
			    (double)n_mock);
	ck_assert_double_eq(num_at(rep, "totals", "failures", "status"),
			    (double)n500);
	ck_assert_double_eq(num_at(rep, "totals", "status_codes", "500"),
			    (double)n500);
	ck_assert_double_eq(num_at(rep, "totals", "status_codes", "200"),
			    (double)(n_mock - n500));
	ck_assert_double_eq(num_at(rep, "totals", "answered", NULL),
			    (double)(n_mock - n500));
	cJSON_Delete(msgs);
	cJSON_Delete(rep);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

/* People arriving: their snapshots are counted as the mock stores them.
 * Under valgrind the models are out of reach on purpose: the devices
 * refuse the faces, which the report counts instead. */
START_TEST(arrivals_upload_snapshots_that_reconcile_with_the_mock)
{
	fx f;
	char faces[256];
	const char *args[] = {"--server", NULL, "--devices", "4", "--duration",
			      "3s", "--interval", "1", "--arrivals", "60",
			      "--faces", faces, "--report-dir", NULL, NULL};
	tu_cli_result r;
	cJSON *rep, *msgs, *recs, *m;
	size_t n_mock = 0;
	double shown, refused, snaps = 0;

	fx_start(&f, true, NULL);
	snprintf(faces, sizeof faces, "%s/faces", tu_root());
	args[1] = f.url;
	args[13] = f.rep;
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == 0, "rc %d: %s", r.rc, r.err);
	rep = read_report(&f);
	shown = num_at(rep, "faces_shown", NULL, NULL);
	refused = num_at(rep, "face_errors", NULL, NULL);
	ck_assert_double_ge(shown, 3); /* Poisson, mean 12: P(< 3) < 1e-3 */
	msgs = mock_messages_json(f.m, NULL, 0, 100000);
	recs = mock_records_json(f.m, NULL, 0, 100000);
	ck_assert(msgs && recs);
	cJSON_ArrayForEach(m, msgs)
		n_mock++;
	ck_assert_double_eq(num_at(rep, "totals", "requests", NULL),
			    (double)n_mock);
	if (cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "kinds"), "snapshot"))
		snaps = num_at(rep, "kinds", "snapshot", "requests");
	ck_assert_double_eq(snaps, (double)cJSON_GetArraySize(recs));
	if (!tu_valgrind()) {
		ck_assert_msg(refused == 0, "%s", r.out);
		ck_assert_double_ge(snaps, 1);
	}
	cJSON_Delete(msgs);
	cJSON_Delete(recs);
	cJSON_Delete(rep);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

/* Without delays (the mock's workers held by slow answers would shift
 * receipt times), so the gaps the mock sees are the device's. */
START_TEST(jitter_spreads_heartbeats_within_its_fraction_of_the_interval)
{
	fx f;
	const char *args[] = {"--server", NULL, "--devices", "5", "--duration",
			      "4s", "--interval", "1", "--jitter", "0.4", NULL};
	tu_cli_result r;
	cJSON *msgs, *m;
	int64_t last[5] = {-1, -1, -1, -1, -1}, gap, lo = INT64_MAX, hi = 0;

	fx_start(&f, true, NULL);
	args[1] = f.url;
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == 0, "rc %d: %s", r.rc, r.err);
	msgs = mock_messages_json(f.m, NULL, 0, 100000);
	ck_assert_ptr_nonnull(msgs);
	cJSON_ArrayForEach(m, msgs) {
		const char *cid = cJSON_GetObjectItem(m, "cid")->valuestring;
		int64_t at = (int64_t)num_at(m, "received_at", NULL, NULL);
		int i = atoi(cid + strlen("load-")) - 1;

		ck_assert(i >= 0 && i < 5);
		if (last[i] >= 0) {
			gap = at - last[i];
			lo = gap < lo ? gap : lo;
			hi = gap > hi ? gap : hi;
		}
		last[i] = at;
	}
	/* 0.4 of 1 s: gaps from 600 to 1400 ms, and not in lockstep */
	ck_assert_msg(lo >= 550 && hi <= 1450, "gaps %lld..%lld ms",
		      (long long)lo, (long long)hi);
	ck_assert_msg(hi - lo >= 200, "heartbeats in lockstep: gaps %lld..%lld "
		      "ms", (long long)lo, (long long)hi);
	cJSON_Delete(msgs);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

START_TEST(a_threshold_that_holds_exits_0_and_one_that_fails_exits_99)
{
	fx f;
	const char *ok[] = {"--server", "mock", "--devices", "5", "--duration",
			    "1s", "--interval", "1", "--threshold",
			    "count(heartbeat)>=5", "--threshold", "errors<1%",
			    "--report-dir", NULL, NULL};
	const char *bad[] = {"--server", "mock", "--devices", "5", "--duration",
			     "1s", "--threshold", "errors==0", "--threshold",
			     "p99(heartbeat)<1us", "--report-dir", NULL, NULL};
	tu_cli_result r;
	cJSON *rep, *th;

	fx_start(&f, false, NULL);
	ok[13] = f.rep;
	r = tu_cli(load_main, "load", ok);
	ck_assert_msg(r.rc == LOAD_EXIT_OK, "rc %d: %s%s", r.rc, r.out, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "ok   count(heartbeat)>=5"));
	tu_cli_free(&r);
	bad[11] = f.rep;
	r = tu_cli(load_main, "load", bad);
	ck_assert_msg(r.rc == LOAD_EXIT_THRESHOLD, "rc %d: %s%s", r.rc, r.out,
		      r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "ok   errors==0"));
	ck_assert_ptr_nonnull(strstr(r.out, "FAIL p99(heartbeat)<1us"));
	rep = read_report(&f);
	ck_assert_double_eq(num_at(rep, "exit_code", NULL, NULL), 99);
	th = cJSON_GetObjectItem(rep, "thresholds");
	ck_assert_int_eq(cJSON_GetArraySize(th), 2);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(th, 0),
						   "ok")));
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(th, 1),
						    "ok")));
	cJSON_Delete(rep);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

START_TEST(abort_on_fail_stops_at_the_first_failing_check)
{
	fx f;
	const char *a[] = {"--server", "mock", "--devices", "3", "--duration",
			   "30s", "--interval", "1", "--threshold",
			   "count(heartbeat)<4", "--abort-on-fail",
			   "--report-dir", NULL, NULL};
	tu_cli_result r;
	cJSON *rep;
	double t0 = now_s();

	fx_start(&f, false, NULL);
	a[12] = f.rep;
	r = tu_cli(load_main, "load", a);
	ck_assert_int_eq(r.rc, LOAD_EXIT_THRESHOLD);
	ck_assert_msg(now_s() - t0 < 10, "ran %.1f s of 30", now_s() - t0);
	ck_assert_ptr_nonnull(strstr(r.out, "aborted: a threshold failed"));
	rep = read_report(&f);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(rep, "aborted")));
	cJSON_Delete(rep);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

static void *interrupt_later(void *arg)
{
	(void)arg;
	usleep(1500 * 1000);
	kill(getpid(), SIGINT);
	return NULL;
}

START_TEST(sigint_ends_the_run_and_still_writes_the_report)
{
	fx f;
	const char *a[] = {"--server", "mock", "--devices", "4", "--duration",
			   "1m", "--interval", "1", "--report-dir", NULL, NULL};
	tu_cli_result r;
	pthread_t th;
	cJSON *rep;
	double t0 = now_s();

	fx_start(&f, false, NULL);
	a[9] = f.rep;
	ck_assert_int_eq(pthread_create(&th, NULL, interrupt_later, NULL), 0);
	r = tu_cli(load_main, "load", a);
	pthread_join(th, NULL);
	ck_assert_msg(now_s() - t0 < 15, "ran %.1f s of 60", now_s() - t0);
	ck_assert_int_eq(r.rc, LOAD_EXIT_OK);
	rep = read_report(&f);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(rep, "interrupted")));
	ck_assert_double_ge(num_at(rep, "totals", "requests", NULL), 4);
	ck_assert_double_lt(num_at(rep, "elapsed_s", NULL, NULL), 10);
	cJSON_Delete(rep);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

START_TEST(bad_options_and_a_server_down_at_start_cannot_run)
{
	fx f;
	const char *expr[] = {"--server", "mock", "--devices", "2",
			      "--threshold", "p99(heartbeat)=<5ms", NULL};
	const char *dur[] = {"--server", "mock", "--devices", "2",
			     "--duration", "5x", NULL};
	const char *down[] = {"--server", NULL, "--devices", "2",
			      "--report-dir", NULL, NULL};
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sa;
	char url[96], path[160];
	tu_cli_result r;
	int fd;

	fx_start(&f, false, NULL);
	r = tu_cli(load_main, "load", expr);
	ck_assert_int_eq(r.rc, LOAD_EXIT_CANNOT_RUN);
	ck_assert_msg(strstr(r.err, "\"p99(heartbeat)=<5ms\": at character 15: "
			     "expected a comparison"), "%s", r.err);
	tu_cli_free(&r);
	r = tu_cli(load_main, "load", dur);
	ck_assert_int_eq(r.rc, LOAD_EXIT_CANNOT_RUN);
	ck_assert_ptr_nonnull(strstr(r.err, "--duration is \"5x\""));
	tu_cli_free(&r);
	/* a port that was just free: nothing listens there */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/api/face",
		 ntohs(sa.sin_port));
	down[1] = url;
	down[5] = f.rep;
	r = tu_cli(load_main, "load", down);
	ck_assert_int_eq(r.rc, LOAD_EXIT_CANNOT_RUN);
	ck_assert_msg(strstr(r.err, "unreachable at the start") &&
		      strstr(r.err, "Connection refused") && strstr(r.err, url),
		      "%s", r.err);
	snprintf(path, sizeof path, "%s/report.json", f.rep);
	ck_assert_int_ne(access(path, F_OK), 0);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

START_TEST(threshold_grammar_units_and_refusals)
{
	load_threshold t;
	char err[300];
	load_metrics m = {0};
	dev_exchange x = {.kind = "heartbeat"};
	loop_http_res ok = {.status = 200, .body = "", .t_total_ms = 2.0},
		      s500 = {.status = 500, .body = "", .t_total_ms = 9.0},
		      refused = {.fail = LOOP_HTTP_CONNECT};

	ck_assert_int_eq(load_threshold_parse("p99.9(heartbeat) <= 1.5s", &t,
					      err, sizeof err), 0);
	ck_assert(t.agg == LOAD_AGG_PCT && t.op == LOAD_LE);
	ck_assert_double_eq_tol(t.q, 0.999, 1e-12);
	ck_assert_double_eq(t.limit, 1.5e6);
	ck_assert_str_eq(t.kind, "heartbeat");
	ck_assert_int_eq(load_threshold_parse("p50(snapshot)<200", &t, err,
					      sizeof err), 0);
	ck_assert_double_eq(t.limit, 200e3); /* bare: ms */
	ck_assert_int_eq(load_threshold_parse("errors<0.1%", &t, err,
					      sizeof err), 0);
	ck_assert(t.pct && t.kind[0] == '\0');
	ck_assert_double_eq_tol(t.limit, 0.001, 1e-15);

	ck_assert_int_lt(load_threshold_parse("p99<5ms", &t, err, sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(err, "at character 4: this metric needs a "
				     "message kind"));
	ck_assert_int_lt(load_threshold_parse("p100(heartbeat)<5ms", &t, err,
					      sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(err, "at character 1: a percentile"));
	ck_assert_int_lt(load_threshold_parse("p99(heartbeat)<5min", &t, err,
					      sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(err, "at character 17: a latency's unit"));
	ck_assert_int_lt(load_threshold_parse("rate(heartbeat)>10%", &t, err,
					      sizeof err), 0);
	ck_assert_int_lt(load_threshold_parse("speed(heartbeat)>1", &t, err,
					      sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(err, "\"speed(heartbeat)>1\": at character "
				     "1: expected a metric"));

	/* judged: 3 ok at 2 ms, one 500 at 9 ms, one refused */
	for (int i = 0; i < 3; i++) {
		x.res = &ok;
		load_metrics_exchange(&m, NULL, &x);
	}
	x.res = &s500;
	load_metrics_exchange(&m, NULL, &x);
	x.res = &refused;
	load_metrics_exchange(&m, NULL, &x);
	ck_assert_int_eq(load_threshold_parse("errors<=40%", &t, err,
					      sizeof err), 0);
	ck_assert(load_threshold_holds(&t, &m, 1));
	ck_assert_int_eq(load_threshold_parse("errors<40%", &t, err,
					      sizeof err), 0);
	ck_assert(!load_threshold_holds(&t, &m, 1));
	ck_assert_int_eq(load_threshold_parse("max(heartbeat)<9ms", &t, err,
					      sizeof err), 0);
	ck_assert(!load_threshold_holds(&t, &m, 1));
	ck_assert_int_eq(load_threshold_parse("rate(heartbeat)>2", &t, err,
					      sizeof err), 0);
	ck_assert(load_threshold_holds(&t, &m, 2)); /* 5 in 2 s */
	ck_assert(!load_threshold_holds(&t, &m, 3));
	ck_assert_int_eq(load_threshold_parse("p50(snapshot)<1s", &t, err,
					      sizeof err), 0);
	ck_assert(!load_threshold_holds(&t, &m, 1)); /* no data: not held */
	ck_assert_uint_eq(load_metrics_kind(&m, "heartbeat")->failed[LOAD_F_STATUS], 1);
	ck_assert_uint_eq(load_metrics_kind(&m, "heartbeat")->failed[LOAD_F_REFUSED], 1);
	ck_assert_uint_eq(load_metrics_kind(&m, "heartbeat")->answered, 3);
	load_metrics_free(&m);
}
END_TEST

START_TEST(durations_take_ms_s_m_h)
{
	int64_t ms;

	ck_assert_int_eq(load_parse_duration("30s", &ms), 0);
	ck_assert_int_eq(ms, 30000);
	ck_assert_int_eq(load_parse_duration("5m", &ms), 0);
	ck_assert_int_eq(ms, 300000);
	ck_assert_int_eq(load_parse_duration("1h", &ms), 0);
	ck_assert_int_eq(ms, 3600000);
	ck_assert_int_eq(load_parse_duration("250ms", &ms), 0);
	ck_assert_int_eq(ms, 250);
	ck_assert_int_eq(load_parse_duration("2", &ms), 0);
	ck_assert_int_eq(ms, 2000);
	ck_assert_int_lt(load_parse_duration("-1s", &ms), 0);
	ck_assert_int_lt(load_parse_duration("1d", &ms), 0);
	ck_assert_int_lt(load_parse_duration("s", &ms), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("load");
	TCase *run = tcase_create("run"), *unit = tcase_create("grammar");

	tcase_set_timeout(run, 60);
	tcase_add_test(run, a_short_run_reconciles_exactly_with_what_the_mock_received);
	tcase_add_test(run, the_drain_ends_when_every_device_always_has_a_slot_due);
	tcase_add_test(run, a_saturated_run_ends_cleanly_and_reconciles_with_the_mock_stats);
	tcase_add_test(run, status_failures_are_counted_by_code_and_judged);
	tcase_add_test(run, arrivals_upload_snapshots_that_reconcile_with_the_mock);
	tcase_add_test(run, jitter_spreads_heartbeats_within_its_fraction_of_the_interval);
	tcase_add_test(run, a_threshold_that_holds_exits_0_and_one_that_fails_exits_99);
	tcase_add_test(run, abort_on_fail_stops_at_the_first_failing_check);
	tcase_add_test(run, sigint_ends_the_run_and_still_writes_the_report);
	tcase_add_test(run, bad_options_and_a_server_down_at_start_cannot_run);
	tcase_add_test(unit, threshold_grammar_units_and_refusals);
	tcase_add_test(unit, durations_take_ms_s_m_h);
	suite_add_tcase(s, run);
	suite_add_tcase(s, unit);
	return tu_run(s);
}
