/* check_load_met.c -- `camsim load''s measures beside the requests: a
 * server whose heartbeat replies break a protocol rule has them counted
 * as violations with the rule id (and judged by violations thresholds);
 * commands received counted as applied or failed by their device's
 * events; --propagate's commands all received and applied; offline
 * records and memory sampled each second; shard reports with these
 * counters merge exactly; a reply judged from the device's own reading of
 * it (parsed once) under the same profile.  The outage whose offline backlog rises and
 * drains is check_load_prop.c's. */
#include "load.h"
#include "load_cli.h"
#include "load_merge.h"
#include "load_metrics.h"
#include "load_threshold.h"
#include "testsrv.h"
#include "testutil.h"

#include <cJSON.h>

typedef struct fx {
	char dir[64], rep[96];
} fx;

static void fx_start(fx *f)
{
	memset(f, 0, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/check_load_met.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->rep, sizeof f->rep, "%s/rep", f->dir);
}

static void fx_end(fx *f)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	ck_assert_int_eq(system(cmd), 0);
}

static const cJSON *at(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = at(o, k);
	ck_assert_msg(cJSON_IsNumber(v), "%s is no number", k);
	return v->valuedouble;
}

static cJSON *read_file_json(const fx *f, const char *name)
{
	char path[160];

	snprintf(path, sizeof path, "%s/%s", f->rep, name);
	return tu_read_json(path);
}

START_TEST(a_heartbeat_reply_breaking_a_rule_counts_as_a_violation_with_its_id)
{
	fx f;
	testsrv s;
	const char *args[] = {"--server", NULL, "--devices", "3", "--duration",
			      "2s", "--interval", "1", "--threshold",
			      "violations(heartbeat)==0", "--threshold",
			      "violations>=1", "--threshold", "errors<1%",
			      "--report-dir", NULL, NULL};
	tu_cli_result r;
	cJSON *rep;
	const cJSON *hb, *cmd, *th;
	char path[160], *junit;
	double n;

	fx_start(&f);
	ck_assert_int_eq(ts_start(&s), 0);
	/* 0 is outside 1..86400: MUST reply.time_interval.range */
	ts_default(&s, 200, "{\"time_interval\":0}");
	args[1] = s.url;
	args[15] = f.rep;
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == LOAD_EXIT_THRESHOLD, "rc %d: %s", r.rc, r.err);
	rep = read_file_json(&f, "report.json");
	hb = at(at(rep, "kinds"), "heartbeat");
	n = num(hb, "requests");
	/* every heartbeat the server got was answered with the broken rule */
	pthread_mutex_lock(&s.mu);
	ck_assert_double_eq(n, (double)s.n_req);
	pthread_mutex_unlock(&s.mu);
	ck_assert_double_ge(n, 6);
	ck_assert_double_eq(num(at(hb, "failures"), "violation"), n);
	ck_assert_double_eq(num(hb, "failed"), n);
	ck_assert_double_eq(num(hb, "answered"), 0);
	ck_assert_double_eq(num(at(hb, "rules"), "reply.time_interval.range"), n);
	ck_assert_int_eq(cJSON_GetArraySize(at(hb, "rules")), 1);
	/* the device refuses the command the rule is about */
	cmd = at(at(rep, "commands"), "time_interval");
	ck_assert_double_eq(num(cmd, "received"), n);
	ck_assert_double_eq(num(cmd, "failed"), n);
	ck_assert_double_eq(num(cmd, "applied"), 0);
	th = at(rep, "thresholds");
	ck_assert(cJSON_IsFalse(at(cJSON_GetArrayItem(th, 0), "ok")));
	ck_assert_double_eq(num(cJSON_GetArrayItem(th, 0), "value"), n);
	ck_assert(cJSON_IsTrue(at(cJSON_GetArrayItem(th, 1), "ok")));
	ck_assert(cJSON_IsFalse(at(cJSON_GetArrayItem(th, 2), "ok")));
	ck_assert_ptr_nonnull(strstr(r.out, "rules broken by heartbeat replies: "
				     "reply.time_interval.range"));
	ck_assert_ptr_nonnull(strstr(r.out, "failures: violation"));
	snprintf(path, sizeof path, "%s/junit.xml", f.rep);
	ck_assert_ptr_nonnull(junit = tu_read(path, NULL));
	ck_assert_ptr_nonnull(strstr(junit, "<failure message=\"violations("
				     "heartbeat)==0 does not hold"));
	free(junit);
	snprintf(path, sizeof path, "%s/report.html", f.rep);
	ck_assert_ptr_nonnull(junit = tu_read(path, NULL));
	ck_assert_ptr_nonnull(strstr(junit, "<td>reply.time_interval.range"
				     "</td>"));
	free(junit);
	cJSON_Delete(rep);
	tu_cli_free(&r);
	ts_stop(&s);
	fx_end(&f);
}
END_TEST

START_TEST(propagated_commands_are_all_received_and_applied)
{
	fx f;
	const char *args[] = {"--server", "mock", "--devices", "30", "--duration",
			      "3s", "--interval", "1", "--propagate", "strategy",
			      "--report-dir", NULL, NULL};
	tu_cli_result r;
	cJSON *rep;
	const cJSON *c;

	fx_start(&f);
	args[11] = f.rep;
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == 0, "rc %d: %s", r.rc, r.err);
	rep = read_file_json(&f, "report.json");
	c = at(at(rep, "commands"), "strategy_manage");
	ck_assert_ptr_nonnull(c);
	/* one strategy push per device, each confirmed */
	ck_assert_double_eq(num(at(rep, "propagation"), "confirmed"), 30);
	ck_assert_double_eq(num(c, "received"), 30);
	ck_assert_double_eq(num(c, "applied"), 30);
	ck_assert_double_eq(num(c, "failed"), 0);
	ck_assert_int_eq(cJSON_GetArraySize(at(rep, "commands")), 1);
	ck_assert_ptr_nonnull(strstr(r.out, "strategy_manage"));
	cJSON_Delete(rep);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

/* Each second of the run has a sample: records waiting (none here, the
 * mock answers all) and the resident memory of this process. */
START_TEST(offline_records_and_memory_are_sampled_every_second)
{
	fx f;
	const char *args[] = {"--server", "mock", "--devices", "5", "--duration",
			      "3s", "--interval", "1", "--report-dir", NULL, NULL};
	tu_cli_result r;
	cJSON *rep;
	const cJSON *e;
	int n = 0;

	fx_start(&f);
	args[9] = f.rep;
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == 0, "rc %d: %s", r.rc, r.err);
	ck_assert_ptr_nonnull(strstr(r.err, "offline 0  rss "));
	rep = read_file_json(&f, "report.json");
	cJSON_ArrayForEach(e, at(at(rep, "series"), "seconds")) {
		ck_assert_double_eq(num(e, "t"), n);
		ck_assert_double_eq(num(e, "offline"), 0);
		/* more than a MiB, less than 4 GiB: a resident set, in KiB */
		ck_assert_double_gt(num(e, "rss_kb"), 1024);
		ck_assert_double_lt(num(e, "rss_kb"), 4 << 20);
		n++;
	}
	ck_assert_int_ge(n, 4); /* seconds 0 to 3 */
	ck_assert_double_eq(num(at(rep, "offline_records"), "peak"), 0);
	cJSON_Delete(rep);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

/* An exchange of who with a 200 carrying body. */
static void reply(load_metrics *m, const void *who, const char *body)
{
	loop_http_res res = {.status = 200, .body = body, .len = strlen(body),
			     .t_total_ms = 1.0};
	dev_exchange x = {.kind = "heartbeat", .res = &res};

	load_metrics_exchange(m, who, &x);
}

static void event(load_metrics *m, const void *who, dev_event_kind k,
		  const char *text)
{
	dev_event ev = {.kind = k};

	snprintf(ev.text, sizeof ev.text, "%s", text);
	load_metrics_event(m, who, &ev);
}

START_TEST(a_command_fails_by_its_own_devices_refusal_only)
{
	load_metrics m = {0};
	int a = 0, b = 0; /* two devices: only their addresses matter */
	const load_kind *k;

	/* a's reply: config and time_interval; a refuses config */
	reply(&m, &a, "{\"config\":{\"opType\":1},\"time_interval\":3}");
	event(&m, &a, DEV_EV_COMMAND, "time_interval 3 s");
	event(&m, &a, DEV_EV_REJECT, "config set refused (errcode 1): x");
	/* b's refusal of the same kind while b applies nothing: no effect */
	event(&m, &b, DEV_EV_REJECT, "config: x");
	ck_assert_uint_eq(m.cmd[LOAD_C_CONFIG].received, 1);
	ck_assert_uint_eq(m.cmd[LOAD_C_CONFIG].failed, 1);
	ck_assert_uint_eq(m.cmd[LOAD_C_INTERVAL].applied, 1);
	/* b's replies, then a "facelib" refusal of a while b applies: not
	 * b's command that failed */
	reply(&m, &b, "{\"facelib_manage\":{\"type\":4,\"seq\":1004}}");
	reply(&m, &b, "{\"control\":{\"seq\":1,\"opType\":1}}");
	event(&m, &a, DEV_EV_REJECT, "facelib add p1 failed: x");
	/* a rule broken under time_interval fails that command, not the
	 * reboot beside it */
	reply(&m, &a, "{\"time_interval\":0,\"reboot\":1}");
	load_metrics_sample(&m, 0, 0, 0);
	ck_assert_uint_eq(m.cmd[LOAD_C_FACELIB].received, 1);
	ck_assert_uint_eq(m.cmd[LOAD_C_FACELIB].applied, 1);
	ck_assert_uint_eq(m.cmd[LOAD_C_CONTROL].applied, 1);
	ck_assert_uint_eq(m.cmd[LOAD_C_INTERVAL].received, 2);
	ck_assert_uint_eq(m.cmd[LOAD_C_INTERVAL].failed, 1);
	ck_assert_uint_eq(m.cmd[LOAD_C_REBOOT].applied, 1);
	for (int c = 0; c < LOAD_C_COUNT; c++)
		ck_assert_uint_eq(m.cmd[c].received, m.cmd[c].applied +
				  m.cmd[c].failed);
	k = load_metrics_kind(&m, "heartbeat");
	ck_assert_uint_eq(k->requests, 4);
	ck_assert_uint_eq(k->answered, 3);
	ck_assert_uint_eq(k->failed[LOAD_F_VIOLATION], 1);
	ck_assert_uint_eq(k->n_rules, 1);
	ck_assert_str_eq(k->rules[0].id, "reply.time_interval.range");
	/* a body the device's parser refuses (a raw control character in a
	 * string) is not JSON, as the device takes it */
	reply(&m, &a, "{\"config\":\"a\tb\"}");
	ck_assert_uint_eq(k->failed[LOAD_F_NOTJSON], 1);
	load_metrics_free(&m);
}
END_TEST

/* A heartbeat exchange whose 200 carries body, with the device's reading
 * of read_as (read under prof) beside it. */
static void reply_read(load_metrics *m, const char *body, const char *read_as,
		       const proto_profile *prof)
{
	loop_http_res res = {.status = 200, .body = body, .len = strlen(body),
			     .t_total_ms = 1.0};
	proto_arena a = PROTO_ARENA_INIT;
	proto_report rep = {0};
	proto_msg msg;
	cJSON *j = NULL;
	char why[128];

	ck_assert_int_eq(proto_json_parse(read_as, strlen(read_as), &j, why,
					  sizeof why), 0);
	proto_decode(j, PROTO_TO_DEVICE, prof, &a, &msg, &rep);
	dev_reply rd = {.json = j, .msg = &msg, .rep = &rep, .prof = prof};
	dev_exchange x = {.kind = "heartbeat", .res = &res, .reply = &rd};
	load_metrics_exchange(m, &a, &x);
	cJSON_Delete(j);
	proto_report_free(&rep);
	proto_arena_free(&a);
}

START_TEST(a_reply_is_judged_from_the_devices_own_reading_not_parsed_again)
{
	load_metrics m = {.prof = &proto_profile_strict};
	const load_kind *k;

	/* the device read a reply breaking a rule: a violation, whatever
	 * the bytes (the reading is what the device applied) */
	reply_read(&m, "{}", "{\"time_interval\":0}", &proto_profile_strict);
	k = load_metrics_kind(&m, "heartbeat");
	ck_assert_uint_eq(k->failed[LOAD_F_VIOLATION], 1);
	ck_assert_str_eq(k->rules[0].id, "reply.time_interval.range");
	/* and a clean reading of a body that breaks one: answered */
	reply_read(&m, "{\"time_interval\":0}", "{}", &proto_profile_strict);
	ck_assert_uint_eq(k->answered, 1);
	ck_assert_uint_eq(k->failed[LOAD_F_VIOLATION], 1);
	/* a reading under another profile than the one judged here: the
	 * body is read again under this one */
	reply_read(&m, "{\"time_interval\":0}", "{}", &proto_profile_as_printed);
	ck_assert_uint_eq(k->answered, 1);
	ck_assert_uint_eq(k->failed[LOAD_F_VIOLATION], 2);
	ck_assert_uint_eq(k->requests, 3);
	load_metrics_free(&m);
}
END_TEST

/* An exchange answered in ms milliseconds, ended in second t of the run. */
static void ended(load_metrics *m, int64_t t, double ms)
{
	loop_http_res res = {.status = 200, .body = "{}", .len = 2,
			     .t_total_ms = ms};
	dev_exchange x = {.kind = "heartbeat", .res = &res};

	m->now_s = t;
	load_metrics_exchange(m, NULL, &x);
}

/* A 1-hour run's memory must not grow in steps with run time: the series
 * sized for the run keeps its records where they are, and a second's
 * latencies cost 4 bytes per distinct bucket (docs/load.md). */
START_TEST(a_series_sized_for_the_run_neither_moves_nor_grows_in_steps)
{
	enum { SECS = 300, DISTINCT = 250 };
	load_metrics m = {0};
	const load_sec *sec;
	const uint32_t *first;
	size_t bytes;
	cJSON *js;

	ck_assert_int_eq(load_metrics_reserve(&m, SECS), 0);
	sec = m.sec;
	ck_assert_uint_eq(m.capsec, SECS);
	for (int t = 0; t < SECS; t++)
		for (int i = 0; i < DISTINCT; i++) /* a bucket each */
			ended(&m, t, (double)hist_bucket_lo(200 + i) / 1e3);
	first = m.sec[0].b;
	ck_assert_ptr_eq(m.sec, sec); /* filed where they were reserved */
	ck_assert_uint_eq(m.capsec, SECS);
	ck_assert_uint_eq(m.sec[0].nb, DISTINCT);
	/* the records and the buckets: within one 64 KiB block of 4 bytes
	 * per distinct bucket (a malloc'd array of 16-byte entries per
	 * second held more than 4 times that) */
	bytes = load_series_bytes(&m);
	ck_assert_uint_le(bytes, SECS * sizeof(load_sec) +
			  (size_t)SECS * DISTINCT * 4 + (LOAD_SB_BLOCK + 64) * 4);
	/* a run past its reserve (a drain that took longer) is still
	 * charted, and what was filed stays where it was */
	ended(&m, SECS, 1.0);
	ck_assert_ptr_eq(m.sec[0].b, first);
	ck_assert_uint_eq(m.sec[SECS - 1].nb, DISTINCT);
	js = load_series_json(&m);
	ck_assert_ptr_nonnull(js);
	ck_assert_int_eq(cJSON_GetArraySize(at(js, "seconds")), SECS + 1);
	ck_assert_double_eq(num(cJSON_GetArrayItem(at(js, "seconds"), 7),
				"requests"), DISTINCT);
	cJSON_Delete(js);
	load_metrics_free(&m);
}
END_TEST

/* With a spill file, a run's memory does not grow with its length by
 * what it charts: closed seconds' buckets go to the file and come back
 * whole in the report, the same as kept in memory. */
START_TEST(a_spilled_series_holds_no_more_memory_as_seconds_pass)
{
	enum { SECS = 200, DISTINCT = 250 };
	load_metrics mem = {0}, sp = {0};
	char path[] = "/tmp/check_load_met.spill.XXXXXX";
	char *a, *b;
	size_t early = 0;
	cJSON *ja, *jb;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(load_metrics_reserve(&sp, SECS), 0);
	load_metrics_spill(&sp, fd);
	for (int t = 0; t < SECS; t++) {
		for (int i = 0; i < DISTINCT - t % 7; i++) {
			double ms = (double)hist_bucket_lo(200 + i) / 1e3;
			ended(&sp, t, ms);
			ended(&mem, t, ms);
		}
		if (t == 2)
			early = load_series_bytes(&sp);
	}
	ck_assert_uint_eq(load_series_bytes(&sp), early);
	ck_assert_ptr_nonnull(ja = load_series_json(&mem));
	ck_assert_ptr_nonnull(jb = load_series_json(&sp));
	a = cJSON_PrintUnformatted(ja);
	b = cJSON_PrintUnformatted(jb);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	load_metrics_free(&mem);
	load_metrics_free(&sp); /* closes fd */
}
END_TEST

/* Shards whose second holds more of one latency than an entry counts
 * (2^20 - 1) merge into that second exactly. */
START_TEST(a_seconds_bucket_past_an_entrys_count_merges_exactly)
{
	cJSON *in = cJSON_Parse("{\"step_s\":1,\"dropped\":0,\"seconds\":["
				"{\"t\":0,\"requests\":3000001,\"failed\":0,"
				"\"buckets\":[[1000,3000000],[2000,1]]}]}");
	load_metrics m = {0};
	cJSON *out, *js;
	const cJSON *b;
	char *txt;
	char err[256];

	ck_assert_ptr_nonnull(in);
	ck_assert_int_eq(load_series_add_json(&m, in, err, sizeof err), 0);
	ck_assert_int_eq(load_series_add_json(&m, in, err, sizeof err), 0);
	/* the buckets are raw JSON in the tree: printed and read back */
	ck_assert_ptr_nonnull(js = load_series_json(&m));
	ck_assert_ptr_nonnull(txt = cJSON_PrintUnformatted(js));
	ck_assert_ptr_nonnull(out = cJSON_Parse(txt));
	free(txt);
	cJSON_Delete(js);
	b = at(cJSON_GetArrayItem(at(out, "seconds"), 0), "buckets");
	ck_assert_int_eq(cJSON_GetArraySize(b), 2);
	ck_assert_double_eq(cJSON_GetArrayItem(cJSON_GetArrayItem(b, 0), 0)->valuedouble, 1000);
	ck_assert_double_eq(cJSON_GetArrayItem(cJSON_GetArrayItem(b, 0), 1)->valuedouble, 6000000);
	ck_assert_double_eq(cJSON_GetArrayItem(cJSON_GetArrayItem(b, 1), 1)->valuedouble, 2);
	ck_assert_double_eq(num(cJSON_GetArrayItem(at(out, "seconds"), 0),
				"requests"), 6000002);
	cJSON_Delete(out);
	cJSON_Delete(in);
	load_metrics_free(&m);
}
END_TEST

/* A shard's report by hand: one heartbeat kind with violations, commands,
 * two sampled seconds and a violations threshold. */
static cJSON *shard(int idx, int viol, int off0, int off1)
{
	char txt[2048];

	snprintf(txt, sizeof txt,
		 "{\"schema\":\"camsim-load/1\",\"elapsed_s\":2,\"exit_code\":0,"
		 "\"options\":{\"devices\":4},\"shard\":{\"index\":%d,\"count\":2},"
		 "\"offline_records\":{\"total\":%d,\"max\":%d,\"peak\":%d},"
		 "\"kinds\":{\"heartbeat\":{\"requests\":10,\"answered\":%d,"
		 "\"failed\":%d,\"failures\":{\"refused\":0,\"reset\":0,"
		 "\"timeout\":0,\"not_json\":0,\"status\":0,\"violation\":%d,"
		 "\"other\":0},\"status_codes\":{\"200\":10},"
		 "\"rules\":{\"reply.time_interval.range\":%d},"
		 "\"latency_us\":{\"count\":0,\"buckets\":[]}}},"
		 "\"commands\":{\"time_interval\":{\"received\":%d,"
		 "\"applied\":0,\"failed\":%d},\"config\":{\"received\":2,"
		 "\"applied\":2,\"failed\":0}},"
		 "\"thresholds\":[{\"expr\":\"violations(heartbeat)==5\"}],"
		 "\"series\":{\"step_s\":1,\"dropped\":0,\"seconds\":["
		 "{\"t\":0,\"requests\":0,\"failed\":0,\"buckets\":[],"
		 "\"offline\":%d,\"rss_kb\":1000},"
		 "{\"t\":1,\"requests\":10,\"failed\":%d,\"buckets\":[],"
		 "\"offline\":%d,\"rss_kb\":2000}]}}",
		 idx, off1, off1, off0 > off1 ? off0 : off1, 10 - viol, viol,
		 viol, viol, viol, viol, off0, viol, off1);
	return cJSON_Parse(txt);
}

START_TEST(shard_reports_merge_violations_commands_and_samples_exactly)
{
	cJSON *r[2] = {shard(0, 2, 4, 0), shard(1, 3, 1, 2)}, *out = NULL;
	const char *names[] = {"a.json", "b.json"};
	const cJSON *hb, *secs;
	char err[512];
	int code = -1;

	ck_assert_ptr_nonnull(r[0]);
	ck_assert_ptr_nonnull(r[1]);
	ck_assert_msg(load_merge((const cJSON *const *)r, names, 2, &out, &code,
				 err, sizeof err) == 0, "%s", err);
	hb = at(at(out, "kinds"), "heartbeat");
	ck_assert_double_eq(num(at(hb, "failures"), "violation"), 5);
	ck_assert_double_eq(num(at(hb, "rules"), "reply.time_interval.range"), 5);
	ck_assert_double_eq(num(at(at(out, "totals"), "failures"), "violation"), 5);
	ck_assert_double_eq(num(at(at(out, "commands"), "time_interval"),
				"received"), 5);
	ck_assert_double_eq(num(at(at(out, "commands"), "time_interval"),
				"failed"), 5);
	ck_assert_double_eq(num(at(at(out, "commands"), "config"), "applied"), 4);
	secs = at(at(out, "series"), "seconds");
	ck_assert_double_eq(num(cJSON_GetArrayItem(secs, 0), "offline"), 5);
	ck_assert_double_eq(num(cJSON_GetArrayItem(secs, 1), "offline"), 2);
	ck_assert_double_eq(num(cJSON_GetArrayItem(secs, 1), "rss_kb"), 4000);
	/* the peak of the sum, not the sum of the shards' peaks (4 + 2) */
	ck_assert_double_eq(num(at(out, "offline_records"), "peak"), 5);
	ck_assert_double_eq(num(at(out, "offline_records"), "total"), 2);
	ck_assert_double_eq(num(at(out, "offline_records"), "max"), 2);
	/* the threshold judged again on the merged counts */
	ck_assert(cJSON_IsTrue(at(cJSON_GetArrayItem(at(out, "thresholds"), 0),
				  "ok")));
	ck_assert_int_eq(code, LOAD_EXIT_OK);
	cJSON_Delete(out);
	/* a commands entry that does not add up is refused, naming it */
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(cJSON_GetObjectItem(
		r[1], "commands"), "config"), "applied", cJSON_CreateNumber(1));
	ck_assert_int_lt(load_merge((const cJSON *const *)r, names, 2, &out,
				    &code, err, sizeof err), 0);
	ck_assert_msg(strstr(err, "b.json: commands.config: received is not "
			     "applied + failed"), "%s", err);
	cJSON_Delete(r[0]);
	cJSON_Delete(r[1]);
}
END_TEST

START_TEST(violations_threshold_grammar)
{
	load_threshold t;
	char err[300];

	ck_assert_int_eq(load_threshold_parse("violations<1", &t, err,
					      sizeof err), 0);
	ck_assert(t.agg == LOAD_AGG_VIOLATIONS && !t.pct && !t.kind[0]);
	ck_assert_int_eq(load_threshold_parse("violations(heartbeat)<=0.5%", &t,
					      err, sizeof err), 0);
	ck_assert(t.pct);
	ck_assert_str_eq(t.kind, "heartbeat");
	ck_assert_int_lt(load_threshold_parse("violations<1ms", &t, err,
					      sizeof err), 0);
	ck_assert_msg(strstr(err, "at character 13: errors and violations take "
			     "%"), "%s", err);
	ck_assert_int_lt(load_threshold_parse("violation<1", &t, err,
					      sizeof err), 0);
	ck_assert_msg(strstr(err, "errors or violations"), "%s", err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("load_met");
	TCase *run = tcase_create("run"), *unit = tcase_create("unit");

	tcase_set_timeout(run, 120);
	tcase_add_test(run, a_heartbeat_reply_breaking_a_rule_counts_as_a_violation_with_its_id);
	tcase_add_test(run, propagated_commands_are_all_received_and_applied);
	tcase_add_test(run, offline_records_and_memory_are_sampled_every_second);
	tcase_add_test(unit, a_command_fails_by_its_own_devices_refusal_only);
	tcase_add_test(unit, a_reply_is_judged_from_the_devices_own_reading_not_parsed_again);
	tcase_add_test(unit, a_series_sized_for_the_run_neither_moves_nor_grows_in_steps);
	tcase_add_test(unit, a_seconds_bucket_past_an_entrys_count_merges_exactly);
	tcase_add_test(unit, a_spilled_series_holds_no_more_memory_as_seconds_pass);
	tcase_add_test(unit, shard_reports_merge_violations_commands_and_samples_exactly);
	tcase_add_test(unit, violations_threshold_grammar);
	suite_add_tcase(s, run);
	suite_add_tcase(s, unit);
	return tu_run(s);
}
