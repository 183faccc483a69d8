/* check_device.c -- the simulated device against a scripted HTTP server
 * (tests/testsrv.h) on the jump clock: the seq rule, query results in the
 * heartbeat slot, all-or-nothing config, strategy results, offline records
 * and their retransmission, the 2000 cap, upgrade error mapping, control,
 * log clear, alarm, reboot, address change, and state after SIGKILL.
 * Every message the device sends is validated with the protocol module. */
#include "device_int.h"
#include "testsrv.h"
#include "testutil.h"

#include <signal.h>
#include <sys/wait.h>

#define T0 1700000000000LL /* 2023-11-14 22:13:20 UTC */

typedef struct fx {
	testsrv srv;
	loop *l;
	store *st;
	recog *rg;
	dev_env env;
	dev *d;
	char dir[64];
	char events[64][128];
	size_t n_events;
} fx;

static void on_event(void *ud, dev *d, const dev_event *ev)
{
	fx *f = ud;
	(void)d;
	snprintf(f->events[f->n_events % 64], sizeof(f->events[0]), "%s: %s",
		 dev_event_name(ev->kind), ev->text);
	f->n_events++;
}

static bool saw(fx *f, const char *needle)
{
	size_t n = f->n_events < 64 ? f->n_events : 64;
	for (size_t i = 0; i < n; i++)
		if (strstr(f->events[i], needle))
			return true;
	return false;
}

static void dev_make(fx *f)
{
	char err[256];
	dev_opts o = {.cid = "cam000001", .server_url = f->srv.url,
		      .interval_s = 10, .app_version = "V1.0.0"};
	ck_assert_msg(dev_new(&f->env, &o, &f->d, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(dev_power_on(f->d, err, sizeof(err)) == 0, "%s", err);
}

static void fx_setup(fx *f)
{
	char err[256];

	memset(f, 0, sizeof(*f));
	ck_assert_int_eq(ts_start(&f->srv), 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/camsim-dev-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	ck_assert_msg(store_open(f->dir, &f->st, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(loop_new(LOOP_JUMP, 1, T0, &f->l), 0);
	f->rg = recog_open(NULL, err, sizeof(err));
	f->env.loop = f->l;
	f->env.store = f->st;
	f->env.recog = f->rg;
	f->env.on_event = on_event;
	f->env.event_ud = f;
	dev_env_defaults(&f->env);
	dev_make(f);
}

static void fx_teardown(fx *f)
{
	char cmd[128];
	dev_free(f->d);
	loop_free(f->l);
	store_close(f->st);
	recog_close(f->rg);
	ts_stop(&f->srv);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Runs the loop until the server has n requests and nothing is in flight
 * (or 20 s of real time pass). */
static void run_until(fx *f, size_t n)
{
	for (int i = 0; i < 20000; i++) {
		if (ts_count(&f->srv) >= n && loop_http_in_flight(f->l) == 0)
			return;
		loop_step(f->l, 1);
	}
	ck_abort_msg("server saw %zu requests, wanted %zu", ts_count(&f->srv), n);
}

/* Request i, decoded; fails the test unless it is valid V1.16. */
static proto_msg req(fx *f, size_t i, proto_arena *a)
{
	proto_msg m;
	char err[512];
	ck_assert_uint_lt(i, ts_count(&f->srv));
	int rc = proto_parse(f->srv.req[i].body, f->srv.req[i].len,
			     PROTO_TO_SERVER, &proto_profile_strict, a, &m, err,
			     sizeof(err));
	ck_assert_msg(rc == 0, "request %zu invalid: %s\n%.300s", i, err,
		      f->srv.req[i].body);
	return m;
}

static void apply(fx *f, const char *json)
{
	dev__apply_body(f->d, json, strlen(json));
}

static char *b64_file(const char *rel)
{
	char path[512];
	size_t n;
	snprintf(path, sizeof(path), "%s/%s", tu_root(), rel);
	char *raw = tu_read(path, &n);
	ck_assert_ptr_nonnull(raw);
	char *b = img_base64_encode(raw, n, NULL);
	free(raw);
	return b;
}

static void face(fx *f, double temp, int mask)
{
	char path[512], err[256];
	size_t n;
	snprintf(path, sizeof(path), "%s/fixtures/images/rgb_4x3.png", tu_root());
	char *raw = tu_read(path, &n);
	ck_assert_ptr_nonnull(raw);
	dev_face_in in = {.image = raw, .image_len = n, .has_temperature = true,
			  .temperature = temp, .has_mask = true, .mask = mask};
	int rc = dev_face(f->d, &in, err, sizeof(err));
	free(raw);
	ck_assert_msg(rc == 0, "%s", err);
}

/* Recognition off: faces become captures, which need no recognition core. */
#define REC_OFF "{\"config\":{\"opType\":0,\"seq\":1,\"face_rec\":{\"enable\":0}}}"

/* ---------------------------------------------------------------- seq */

START_TEST(heartbeat_seq_is_send_time_then_facelib_seq_until_a_200)
{
	fx f;
	proto_arena a = PROTO_ARENA_INIT;
	fx_setup(&f);
	/* boot heartbeat; its reply deletes everyone with seq 7 */
	ts_push(&f.srv, 200, "{\"facelib_manage\":{\"type\":4,\"seq\":7}}", 0);
	ts_push(&f.srv, 500, "", 0);      /* hb carrying 7 fails */
	run_until(&f, 3);
	proto_msg m0 = req(&f, 0, &a), m1 = req(&f, 1, &a), m2 = req(&f, 2, &a);
	ck_assert_int_eq(m0.kind, PROTO_HEARTBEAT);
	ck_assert_int_eq(m0.u.heartbeat.seq, T0 / 1000);
	ck_assert_int_eq(m1.u.heartbeat.seq, 7);
	ck_assert_int_eq(m2.u.heartbeat.seq, 7); /* kept: the 500 lost it */
	run_until(&f, 4);
	proto_msg m3 = req(&f, 3, &a);
	ck_assert_int_gt(m3.u.heartbeat.seq, T0 / 1000); /* back to send time */
	ck_assert_int_eq(m3.u.heartbeat.seq - m0.u.heartbeat.seq, 30);
	proto_arena_free(&a);
	fx_teardown(&f);
}
END_TEST

START_TEST(failed_facelib_add_leaves_heartbeat_on_send_time)
{
	fx f;
	proto_arena a = PROTO_ARENA_INIT;
	char *png = b64_file("fixtures/images/rgb_4x3.png");
	char body[4096];
	fx_setup(&f);
	/* not a picture, then a picture the (unbuilt) core cannot enrol */
	snprintf(body, sizeof(body), "{\"facelib_manage\":{\"type\":1,\"seq\":"
		 "11,\"face\":{\"id\":\"p1\",\"image\":[\"aGVsbG8=\"]}}}");
	ts_push(&f.srv, 200, body, 0);
	snprintf(body, sizeof(body), "{\"facelib_manage\":{\"type\":1,\"seq\":"
		 "12,\"face\":{\"id\":\"p2\",\"image\":[\"%s\"]}}}", png);
	ts_push(&f.srv, 200, body, 0);
	run_until(&f, 3);
	for (size_t i = 0; i < 3; i++) {
		proto_msg m = req(&f, i, &a);
		ck_assert_int_eq(m.u.heartbeat.seq, T0 / 1000 + 10 * (int64_t)i);
	}
	ck_assert(saw(&f, "not a decodable image") || saw(&f, "stb_image"));
	/* a 4x3 picture holds no face; without models (valgrind runs) the
	 * device says recognition is unavailable instead */
	ck_assert(recog_available(f.rg) ? saw(&f, "no face found in the 4x3")
					 : saw(&f, "recognition unavailable"));
	ck_assert_int_eq(dev_library_size(f.d), 0);
	free(png);
	proto_arena_free(&a);
	fx_teardown(&f);
}
END_TEST

/* ---------------------------------------------------------------- queries */

START_TEST(query_results_take_the_next_heartbeat_slot)
{
	fx f;
	proto_arena a = PROTO_ARENA_INIT;
	fx_setup(&f);
	ts_push(&f.srv, 200, "{\"config\":{\"opType\":1},\"reupload\":{\"type\":2},"
		"\"strategy_manage\":{\"operType\":2},"
		"\"facelib_manage\":{\"type\":5,\"seq\":3}}", 0);
	run_until(&f, 6);
	ck_assert_int_eq(req(&f, 0, &a).kind, PROTO_HEARTBEAT);
	/* one result per slot, ten seconds apart, no type 3 between them */
	proto_kind want[] = {PROTO_FACE_LIST, PROTO_STRATEGY_LIST,
			     PROTO_CONFIG_REPORT, PROTO_REUPLOAD_SETTINGS,
			     PROTO_HEARTBEAT};
	for (size_t i = 0; i < 5; i++)
		ck_assert_int_eq(req(&f, i + 1, &a).kind, want[i]);
	proto_msg cfg = req(&f, 3, &a);
	ck_assert_int_eq(cfg.u.config_report.config.face_rec.score, 70);
	ck_assert_int_eq(cfg.u.config_report.config.misc.version, 1);
	proto_msg re = req(&f, 4, &a);
	ck_assert_int_eq(re.u.reupload_settings.reupload.mode, 2);
	ck_assert_int_eq(req(&f, 5, &a).u.heartbeat.seq, 3); /* D7 for type 5 */
	proto_arena_free(&a);
	fx_teardown(&f);
}
END_TEST

/* Found by fuzzing (fixtures/fuzz/device/batch-item-without-opertype.json):
 * resultList[].operType is a MUST, so an item the server sent without a
 * usable operType is answered as an add (1) with result 2, and the
 * answer stays valid V1.16. */
START_TEST(batch_item_without_opertype_is_answered_as_a_failed_add)
{
	fx f;
	proto_arena a = PROTO_ARENA_INIT;
	fx_setup(&f);
	ts_push(&f.srv, 200, "{\"facelib_batch\":{\"personList\":["
		"{\"id\":\"p1\"},{\"operType\":7,\"id\":\"p2\"},"
		"{\"operType\":3,\"id\":\"p3\"}]}}", 0);
	run_until(&f, 2);
	proto_msg m = req(&f, 1, &a); /* fails unless valid V1.16 */
	ck_assert_int_eq(m.kind, PROTO_BATCH_RESULT);
	const proto_batch_result *r = &m.u.batch_result;
	ck_assert_uint_eq(r->n_results, 3);
	for (size_t i = 0; i < 2; i++) {
		ck_assert(r->results[i].has_oper_type);
		ck_assert_int_eq(r->results[i].oper_type, 1);
		ck_assert_int_eq(r->results[i].result, 2);
	}
	ck_assert_int_eq(r->results[2].oper_type, 3);
	proto_arena_free(&a);
	fx_teardown(&f);
}
END_TEST

/* ---------------------------------------------------------------- config */

START_TEST(config_set_is_all_or_nothing_and_survives_a_restart)
{
	fx f;
	proto_arena a = PROTO_ARENA_INIT;
	fx_setup(&f);
	/* one bad value (score 200) spoils the good one: errcode 1 */
	ts_push(&f.srv, 200, "{\"config\":{\"opType\":0,\"seq\":5,\"face_rec\":"
		"{\"score\":200},\"relay\":{\"duration\":9}}}", 0);
	ts_push(&f.srv, 200, "{\"config\":{\"opType\":0,\"seq\":6,\"relay\":"
		"{\"duration\":9},\"temperature\":{\"unit\":1}}}", 0);
	run_until(&f, 3);
	proto_msg r1 = req(&f, 1, &a), r2 = req(&f, 2, &a);
	ck_assert_int_eq(r1.kind, PROTO_CONFIG_RESULT);
	ck_assert_int_eq(r1.u.ack.ack.errcode, 1);
	ck_assert_int_eq(r1.u.ack.ack.seq, 5);
	/* the second set arrives in the reply to the first result */
	ck_assert_int_eq(r2.kind, PROTO_CONFIG_RESULT);
	ck_assert_int_eq(r2.u.ack.ack.errcode, 0);
	ck_assert_int_eq(r2.u.ack.ack.seq, 6);
	ck_assert_int_eq(f.d->cfg.relay.duration, 9);
	ck_assert_int_eq(f.d->cfg.misc.version, 2);
	ck_assert_int_eq(f.d->cfg.face_rec.score, 70);
	/* restart: the new values come back from the store */
	dev_free(f.d);
	dev_make(&f);
	ck_assert_int_eq(f.d->cfg.relay.duration, 9);
	ck_assert_int_eq(f.d->cfg.temperature.unit, 1);
	ck_assert_int_eq(f.d->cfg.misc.version, 2);
	proto_arena_free(&a);
	fx_teardown(&f);
}
END_TEST

/* ---------------------------------------------------------------- strategies */

START_TEST(strategy_delivery_reports_each_and_keeps_only_the_valid)
{
	fx f;
	proto_arena a = PROTO_ARENA_INIT;
	fx_setup(&f);
	ts_push(&f.srv, 200, "{\"strategy_manage\":{\"strategyList\":["
		"{\"strategyId\":1,\"name\":\"day\",\"state\":1,\"strategyRuleList\":"
		"[{\"ruleId\":1,\"begDate\":\"2020/01/01\",\"endDate\":\"2030/12/31\","
		"\"timeRange\":\"08:00:00-18:00:00\",\"week\":\"1,2,3,4,5\",\"type\":1}]},"
		"{\"strategyId\":0,\"name\":\"zero\",\"state\":1,\"strategyRuleList\":[]},"
		"{\"strategyId\":3,\"name\":\"rev\",\"state\":1,\"strategyRuleList\":"
		"[{\"ruleId\":1,\"begDate\":\"2030/01/01\",\"endDate\":\"2020/12/31\","
		"\"timeRange\":\"08:00:00-18:00:00\",\"week\":\"1\",\"type\":1}]}]}}", 0);
	ts_push(&f.srv, 200, "{\"strategy_manage\":{\"operType\":2}}", 0);
	run_until(&f, 3);
	proto_msg r = req(&f, 1, &a);
	ck_assert_int_eq(r.kind, PROTO_STRATEGY_RESULT);
	ck_assert_uint_eq(r.u.strategy_result.n_results, 3);
	ck_assert_int_eq(r.u.strategy_result.results[0].result, 0);
	ck_assert_int_eq(r.u.strategy_result.results[1].result, 1);
	ck_assert_int_eq(r.u.strategy_result.results[2].result, 1);
	proto_msg l = req(&f, 2, &a); /* the query came in the result's reply */
	ck_assert_int_eq(l.kind, PROTO_STRATEGY_LIST);
	ck_assert_uint_eq(l.u.strategy_list.n_strategies, 1);
	ck_assert_int_eq(l.u.strategy_list.strategies[0].strategy_id, 1);
	proto_arena_free(&a);
	fx_teardown(&f);
}
END_TEST

/* ---------------------------------------------------------------- records */

START_TEST(offline_records_resent_oldest_first_with_their_time_when_idle)
{
	fx f;
	proto_arena a = PROTO_ARENA_INIT;
	fx_setup(&f);
	apply(&f, REC_OFF);
	run_until(&f, 2); /* boot heartbeat, config result */
	size_t base = ts_count(&f.srv);
	dev_network(f.d, false);
	int64_t times[3];
	for (int i = 0; i < 3; i++) {
		times[i] = dev__now_s(f.d);
		face(&f, 36.5, 1);
		loop_run_until(f.l, loop_now(f.l) + 5000);
	}
	ck_assert_int_eq(f.d->n_records, 3);
	dev_network(f.d, true);
	/* idle: three minutes without a pass record, then oldest first */
	size_t got = 0;
	int64_t t_end = loop_now(f.l) + 200000;
	while (loop_now(f.l) < t_end)
		loop_step(f.l, 1);
	run_until(&f, base + 3);
	for (size_t i = base; i < ts_count(&f.srv); i++) {
		proto_msg m = req(&f, i, &a);
		if (m.kind != PROTO_SNAPSHOT)
			continue;
		ck_assert_int_eq(m.u.snapshot.time, times[got]);
		ck_assert_int_eq(m.u.snapshot.result.person_type, 2);
		ck_assert(f.srv.req[i].expect_100);
		got++;
	}
	ck_assert_uint_eq(got, 3);
	ck_assert_int_eq(f.d->n_records, 0);
	proto_arena_free(&a);
	fx_teardown(&f);
}
END_TEST

START_TEST(record_store_keeps_2000_and_drops_the_oldest)
{
	fx f;
	int64_t id, t, second = 0, t2 = 0;
	char *body;
	size_t len;
	fx_setup(&f);
	apply(&f, REC_OFF);
	run_until(&f, 2);
	dev_network(f.d, false);
	for (int i = 0; i < 2001; i++) {
		face(&f, 36.5, 1);
		loop_run_until(f.l, loop_now(f.l) + 1000);
		if (i == 1) { /* remember the second-oldest record */
			ck_assert_int_eq(store_rec_next(f.st, "cam000001", 0, &id,
							&t, &body, &len), 0);
			free(body);
			ck_assert_int_eq(store_rec_next(f.st, "cam000001", id,
							&second, &t2, &body, &len), 0);
			free(body);
			ck_assert_int_eq(t2, t + 1);
		}
	}
	ck_assert_int_eq(f.d->n_records, 2000);
	ck_assert_int_eq(f.d->records_dropped, 1);
	ck_assert(saw(&f, "1 oldest dropped"));
	ck_assert_int_eq(store_rec_next(f.st, "cam000001", 0, &id, &t, &body, &len), 0);
	ck_assert_int_eq(id, second); /* the first record is the one gone */
	ck_assert_int_eq(t, t2);
	free(body);
	fx_teardown(&f);
}
END_TEST

START_TEST(scheduled_retransmission_runs_daily_at_reupload_time)
{
	fx f;
	proto_arena a = PROTO_ARENA_INIT;
	fx_setup(&f);
	/* 22:13:20 UTC now; zone UTC+8 makes it 06:13:20 local; send at 07:00 */
	apply(&f, REC_OFF);
	apply(&f, "{\"time_set\":{\"time_stamp\":1700000000,\"time_zone\":28800},"
		  "\"reupload\":{\"type\":1,\"seq\":2,\"mode\":1,"
		  "\"reupload_time\":\"07:00:00\"}}");
	run_until(&f, 3);
	dev_network(f.d, false);
	face(&f, 36.5, 1);
	dev_network(f.d, true);
	ck_assert_int_eq(f.d->n_records, 1);
	size_t before = ts_count(&f.srv);
	/* 06:13:20 -> 06:59:00 local: nothing resent yet */
	loop_run_until(f.l, loop_now(f.l) + (45 * 60 + 40) * 1000LL);
	run_until(&f, ts_count(&f.srv));
	for (size_t i = before; i < ts_count(&f.srv); i++)
		ck_assert_int_ne(req(&f, i, &a).kind, PROTO_SNAPSHOT);
	loop_run_until(f.l, loop_now(f.l) + 120 * 1000LL);
	run_until(&f, ts_count(&f.srv));
	ck_assert_int_eq(f.d->n_records, 0);
	proto_arena_free(&a);
	fx_teardown(&f);
}
END_TEST

/* ---------------------------------------------------------------- upgrade */

static int64_t upgrade_error(fx *f, const char *version, const char *url)
{
	char body[512];
	proto_arena a = PROTO_ARENA_INIT;
	int64_t e = -1;
	snprintf(body, sizeof(body), "{\"fw_upgrade\":{\"version\":\"%s\","
		 "\"download_url\":\"%s\"}}", version, url);
	size_t n = ts_count(&f->srv);
	ts_push(&f->srv, 200, body, 0);
	run_until(f, n + 2);
	for (size_t i = n; i < ts_count(&f->srv); i++) {
		proto_msg m = req(f, i, &a);
		if (m.kind == PROTO_UPGRADE_RESULT)
			e = m.u.heartbeat.error;
	}
	proto_arena_free(&a);
	return e;
}

START_TEST(upgrade_errors_map_exactly)
{
	fx f;
	char url[128];
	proto_arena a = PROTO_ARENA_INIT;
	fx_setup(&f);
	f.env.upgrade_max = 1u << 20;
	run_until(&f, 1);
	ck_assert_int_eq(upgrade_error(&f, "V1.0.0", "http://127.0.0.1/x"), 5);
	ck_assert_int_eq(upgrade_error(&f, "latest", "http://127.0.0.1/x"), 5);
	ck_assert_int_eq(upgrade_error(&f, "V1.1", "http://127.0.0.1:1/pkg"), 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/pkg/404", f.srv.port);
	ck_assert_int_eq(upgrade_error(&f, "V1.1", url), 2);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/pkg/empty", f.srv.port);
	ck_assert_int_eq(upgrade_error(&f, "V1.1", url), 2);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/pkg/big", f.srv.port);
	ck_assert_int_eq(upgrade_error(&f, "V1.1", url), 3);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/pkg/cut", f.srv.port);
	ck_assert_int_eq(upgrade_error(&f, "V1.1", url), 4);
	/* the reply to a failed upgrade's type 6 may offer the next (D42) */
	size_t n0 = ts_count(&f.srv);
	char body[256];
	snprintf(body, sizeof(body), "{\"fw_upgrade\":{\"version\":\"V1.2\","
		 "\"download_url\":\"http://127.0.0.1:%d/pkg/404\"}}", f.srv.port);
	ts_push(&f.srv, 200, "{\"fw_upgrade\":{\"version\":\"V1.0.0\","
		"\"download_url\":\"http://127.0.0.1/x\"}}", 0);
	ts_push(&f.srv, 200, body, 0);
	run_until(&f, n0 + 3);
	ck_assert_int_eq(req(&f, n0 + 1, &a).u.heartbeat.error, 5);
	ck_assert_int_eq(req(&f, n0 + 2, &a).u.heartbeat.error, 2);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/pkg/ok", f.srv.port);
	ck_assert_int_eq(upgrade_error(&f, "V0.9.5", url), 6); /* rollback ok */
	/* rebooted into the new version: the boot heartbeat says so */
	run_until(&f, ts_count(&f.srv) + 1);
	proto_msg m = req(&f, ts_count(&f.srv) - 1, &a);
	ck_assert_int_eq(m.kind, PROTO_HEARTBEAT);
	ck_assert_str_eq(m.u.heartbeat.app_version, "V0.9.5");
	ck_assert(saw(&f, "restarting into V0.9.5"));
	proto_arena_free(&a);
	fx_teardown(&f);
}
END_TEST

/* ---------------------------------------------------------------- control etc. */

START_TEST(control_log_clear_alarm_and_reboot)
{
	fx f;
	proto_arena a = PROTO_ARENA_INIT;
	fx_setup(&f);
	ts_push(&f.srv, 200, "{\"control\":{\"opType\":1,\"seq\":21},"
		"\"facelog\":{\"opType\":1,\"seq\":22},\"reboot\":1}", 0);
	run_until(&f, 4);
	proto_msg l = req(&f, 1, &a), c = req(&f, 2, &a), b = req(&f, 3, &a);
	ck_assert_int_eq(l.kind, PROTO_LOG_RESULT); /* D5: facelog before control */
	ck_assert_int_eq(l.u.ack.ack.seq, 22);
	ck_assert_int_eq(c.kind, PROTO_CONTROL_RESULT);
	ck_assert_int_eq(c.u.ack.ack.seq, 21);
	ck_assert_int_eq(c.u.ack.ack.errcode, 0);
	ck_assert(saw(&f, "on for 200 ms (remote control)"));
	/* after the confirmations, the reboot: a new boot heartbeat */
	ck_assert_int_eq(b.kind, PROTO_HEARTBEAT);
	ck_assert(saw(&f, "boot: V1.0.0"));
	/* the door opened with the relay released: alarm type 1 with cid */
	loop_run_until(f.l, loop_now(f.l) + 1000);
	size_t n = ts_count(&f.srv);
	dev_door(f.d, true);
	run_until(&f, n + 1);
	proto_msg al = req(&f, n, &a);
	ck_assert_int_eq(al.kind, PROTO_ALARM);
	ck_assert_int_eq(al.u.alarm.alarmtype, 1);
	ck_assert_str_eq(al.u.alarm.cid, "cam000001");
	proto_arena_free(&a);
	fx_teardown(&f);
}
END_TEST

START_TEST(non_200_replies_are_failures_and_their_body_is_not_read)
{
	fx f;
	fx_setup(&f);
	ts_push(&f.srv, 500, "{\"control\":{\"opType\":1,\"seq\":1}}", 0);
	ts_push(&f.srv, 204, "{\"control\":{\"opType\":1,\"seq\":2}}", 0);
	ts_push(&f.srv, 200, "{not json", 0);
	run_until(&f, 4);
	ck_assert(saw(&f, "status 500"));
	ck_assert(saw(&f, "status 204"));
	ck_assert(!saw(&f, "remote control"));
	ck_assert(saw(&f, "reply body is not JSON"));
	fx_teardown(&f);
}
END_TEST

START_TEST(server_address_change_takes_the_next_message)
{
	fx f;
	testsrv other;
	char body[256];
	fx_setup(&f);
	ck_assert_int_eq(ts_start(&other), 0);
	/* D6: the port field wins over the URL's own port */
	snprintf(body, sizeof(body), "{\"http_server_url\":\"http://127.0.0.1:1/"
		 "api/face\",\"http_server_port\":%d}", other.port);
	ts_push(&f.srv, 200, body, 0);
	run_until(&f, 1);
	for (int i = 0; i < 20000 && ts_count(&other) < 1; i++)
		loop_step(f.l, 1);
	ck_assert_uint_eq(ts_count(&other), 1);
	ck_assert_uint_eq(ts_count(&f.srv), 1);
	ck_assert_str_eq(other.req[0].uri, "/api/face");
	/* a restart with the same --server keeps the server's choice */
	char want[32];
	snprintf(want, sizeof(want), ":%d/", other.port);
	dev_free(f.d);
	dev_make(&f);
	ck_assert_ptr_nonnull(strstr(f.d->url, want));
	ts_stop(&other);
	fx_teardown(&f);
}
END_TEST

START_TEST(relay_voice_and_mask_follow_the_config)
{
	fx f;
	fx_setup(&f);
	apply(&f, "{\"config\":{\"opType\":0,\"seq\":1,\"face_rec\":{\"enable\":0},"
		  "\"temperature\":{\"voice\":2,\"unit\":1,\"offset\":0.5},"
		  "\"facemask\":{\"mode\":0,\"relay\":1},\"relay\":{\"duration\":5}}}");
	run_until(&f, 2);
	face(&f, 36.5, 0); /* no mask in epidemic mode: abnormal, door shut */
	ck_assert(saw(&f, "please wear mask"));
	ck_assert(saw(&f, "98.6 °F")); /* 36.5 + 0.5 = 37.0 °C */
	ck_assert(!dev_relay_on(f.d));
	face(&f, 38.0, 1); /* fever: temperature abnormal, door shut */
	ck_assert(saw(&f, "temperature abnormal"));
	ck_assert(!dev_relay_on(f.d));
	face(&f, 36.4, 1); /* fine: relay for 500 ms */
	ck_assert(dev_relay_on(f.d));
	ck_assert(saw(&f, "on for 500 ms"));
	loop_run_until(f.l, loop_now(f.l) + 600);
	ck_assert(!dev_relay_on(f.d));
	run_until(&f, 5);
	fx_teardown(&f);
}
END_TEST

/* ---------------------------------------------------------------- SIGKILL */

/* The child changes config, strategies, clock and records as fast as it
 * can, with the network down; the parent kills it mid-write. */
static void child_writer(const char *dir)
{
	fx f;
	char err[256];
	memset(&f, 0, sizeof(f));
	if (store_open(dir, &f.st, err, sizeof(err)) < 0 ||
	    loop_new(LOOP_JUMP, 1, T0, &f.l) < 0)
		_exit(3);
	f.rg = recog_open(NULL, err, sizeof(err));
	f.env.loop = f.l;
	f.env.store = f.st;
	f.env.recog = f.rg;
	f.env.record_cap = 50;
	dev_env_defaults(&f.env);
	snprintf(f.srv.url, sizeof(f.srv.url), "http://127.0.0.1:1/api/face");
	dev_make(&f);
	dev_network(f.d, false);
	apply(&f, REC_OFF);
	for (int i = 0;; i++) {
		char body[512];
		snprintf(body, sizeof(body),
			 "{\"config\":{\"opType\":0,\"seq\":%d,\"relay\":{\"duration\":%d}},"
			 "\"strategy_manage\":{\"strategyList\":[{\"strategyId\":%d,"
			 "\"name\":\"s\",\"state\":1,\"strategyRuleList\":[]}]}}",
			 i, 1 + i % 100, 1 + i % 1000);
		apply(&f, body);
		face(&f, 36.5, 1);
		loop_run_until(f.l, loop_now(f.l) + 1000);
	}
}

START_TEST(state_survives_sigkill_at_any_moment)
{
	char dir[64], err[256];
	snprintf(dir, sizeof(dir), "/tmp/camsim-kill-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	srand(1234);
	for (int round = 0; round < 12; round++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			child_writer(dir);
		usleep((useconds_t)(50000 + rand() % 150000));
		kill(pid, SIGKILL);
		int st;
		waitpid(pid, &st, 0);
		ck_assert(WIFSIGNALED(st));
		/* everything reads back and holds together */
		store *s;
		ck_assert_msg(store_open(dir, &s, err, sizeof(err)) == 0, "%s", err);
		loop *l;
		ck_assert_int_eq(loop_new(LOOP_JUMP, 1, T0, &l), 0);
		dev_env env = {.loop = l, .store = s, .record_cap = 50};
		dev_env_defaults(&env);
		dev_opts o = {.cid = "cam000001", .server_url = "http://127.0.0.1:1/"};
		dev *d;
		ck_assert_msg(dev_new(&env, &o, &d, err, sizeof(err)) == 0,
			      "round %d: %s", round, err);
		ck_assert_int_le(d->n_records, 50);
		ck_assert_int_ge(d->cfg.relay.duration, 1);
		ck_assert_uint_le(d->n_strat, 1);
		dev_free(d);
		loop_free(l);
		store_close(s);
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* The jump clock stands still while the loop thread computes for a device
 * (loop_pause), and goes on from there: a slow host changes no verdict.
 * The real clock ignores the pause. */
START_TEST(the_jump_clock_pauses_for_the_devices_own_computing)
{
	loop *l, *real;
	int64_t before, during, after;

	ck_assert_int_eq(loop_new(LOOP_JUMP, 1, T0, &l), 0);
	before = loop_now(l);
	loop_pause(l, true);
	loop_pause(l, true); /* nests */
	usleep(150000);
	during = loop_now(l);
	loop_pause(l, false);
	ck_assert_int_eq(loop_now(l), during); /* still paused */
	loop_pause(l, false);
	after = loop_now(l);
	ck_assert_int_eq(during, before);
	ck_assert_int_lt(after - before, 50);
	usleep(100000);
	ck_assert_int_ge(loop_now(l) - after, 90); /* and runs again */
	loop_free(l);

	ck_assert_int_eq(loop_new(LOOP_REAL, 1, 0, &real), 0);
	before = loop_now(real);
	loop_pause(real, true);
	usleep(100000);
	ck_assert_int_ge(loop_now(real) - before, 90);
	loop_pause(real, false);
	loop_free(real);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("device");
	TCase *tc = tcase_create("device");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, heartbeat_seq_is_send_time_then_facelib_seq_until_a_200);
	tcase_add_test(tc, failed_facelib_add_leaves_heartbeat_on_send_time);
	tcase_add_test(tc, query_results_take_the_next_heartbeat_slot);
	tcase_add_test(tc, batch_item_without_opertype_is_answered_as_a_failed_add);
	tcase_add_test(tc, config_set_is_all_or_nothing_and_survives_a_restart);
	tcase_add_test(tc, strategy_delivery_reports_each_and_keeps_only_the_valid);
	tcase_add_test(tc, offline_records_resent_oldest_first_with_their_time_when_idle);
	tcase_add_test(tc, record_store_keeps_2000_and_drops_the_oldest);
	tcase_add_test(tc, scheduled_retransmission_runs_daily_at_reupload_time);
	tcase_add_test(tc, upgrade_errors_map_exactly);
	tcase_add_test(tc, control_log_clear_alarm_and_reboot);
	tcase_add_test(tc, non_200_replies_are_failures_and_their_body_is_not_read);
	tcase_add_test(tc, server_address_change_takes_the_next_message);
	tcase_add_test(tc, relay_voice_and_mask_follow_the_config);
	tcase_add_test(tc, state_survives_sigkill_at_any_moment);
	tcase_add_test(tc, the_jump_clock_pauses_for_the_devices_own_computing);
	suite_add_tcase(s, tc);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
