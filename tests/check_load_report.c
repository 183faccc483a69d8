/* check_load_report.c -- `camsim load''s reports beyond report.json and its
 * shards: two shards merged by `camsim report merge' equal one unsharded
 * run's counts (and the merge is exact: histograms and seconds add);
 * junit.xml has one testcase per threshold, failing where the threshold
 * failed, and one for the run; report.html has its SVG charts with
 * non-empty series (and the propagation curve when the report has one);
 * bad shard options and bad merges give 2 naming what is wrong; the
 * Kubernetes example parses and its command line is accepted; the
 * shards' propagation failures and adapter calls merge to their sum.   XML, HTML
 * and YAML are parsed by python3 (skipped, saying so, without it). */
#include "conf_err.h"
#include "hist.h"
#include "load_cli.h"
#include "load_merge.h"
#include "load_metrics.h"
#include "load_report.h"
#include "mock.h"
#include "strbuf.h"
#include "testutil.h"

#include <cJSON.h>
#include <stdlib.h>

typedef struct fx {
	char dir[64];
} fx;

static void fx_start(fx *f)
{
	snprintf(f->dir, sizeof f->dir, "/tmp/check_load_report.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
}

static void fx_end(fx *f)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	ck_assert_int_eq(system(cmd), 0);
}

static double num(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	ck_assert_msg(cJSON_IsNumber(v), "%s.%s is no number", a, b ? b : "");
	return v->valuedouble;
}

static bool have_python(const char *module)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "python3 -c 'import %s' 2>/dev/null", module);
	if (system(cmd) == 0)
		return true;
	fprintf(stderr, "SKIPPED: python3 with %s is not available; the %s "
		"check is not run\n", module, module);
	return false;
}

/* Runs python3 on script (written to dir) with arg; its stdout (first
 * 4 KiB) in out; the exit status. */
static int python(const char *dir, const char *script, const char *arg,
		  char *out, size_t outlen)
{
	char path[128], cmd[512];
	FILE *f, *p;
	size_t n;

	snprintf(path, sizeof path, "%s/check.py", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(script, f);
	ck_assert_int_eq(fclose(f), 0);
	snprintf(cmd, sizeof cmd, "python3 %s '%s'", path, arg);
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	return pclose(p);
}

/* One short run (mock, no jitter: every device heartbeats at 0, 1, 2 s,
 * so shards and an unsharded run send the same requests). */
static int run(const fx *f, const char *shard, const char *name,
	       const char *server)
{
	char rep[128];
	const char *args[32] = {"--server", server ? server : "mock", "--devices", "9",
				"--duration", "2.5s", "--interval", "1",
				"--jitter", "0", "--report-dir", rep,
				"--threshold", "p99(heartbeat)<5s",
				"--threshold", "count(heartbeat)>=1000000"};
	size_t n = 16;
	tu_cli_result r;
	int rc;

	snprintf(rep, sizeof rep, "%s/%s", f->dir, name);
	if (shard) {
		args[n++] = "--shard";
		args[n++] = shard;
	}
	args[n] = NULL;
	r = tu_cli(load_main, "load", args);
	rc = r.rc;
	ck_assert_msg(rc == 99, "rc %d: %s", rc, r.err);
	tu_cli_free(&r);
	return rc;
}

START_TEST(two_shards_merged_equal_one_unsharded_run)
{
	fx f;
	char a[128], b[128], out[128], err[512];
	const char *margs[] = {"merge", out, a, b, NULL};
	cJSON *ra, *rb, *rm, *one, *sa, *sb, *sm, *e;
	hist *h = calloc(1, sizeof *h), *h2 = calloc(1, sizeof *h2);
	char *txt, db[96], url[128], cids[256] = "";
	mock_opts mo = {.listen = "127.0.0.1:0", .path = "/api/face", .db = db};
	mock *m;
	cJSON *msgs;
	double series_sum = 0;
	tu_cli_result r;
	int i;

	fx_start(&f);
	snprintf(db, sizeof db, "%s/mock.db", f.dir);
	ck_assert_msg(mock_start(&mo, &m, err, sizeof err) == 0, "%s", err);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/api/face", mock_port(m));
	run(&f, NULL, "one", NULL);
	/* both shards against one mock: it sees 9 distinct devices */
	run(&f, "0/2", "s0", url);
	run(&f, "1/2", "s1", url);
	ck_assert_ptr_nonnull(msgs = mock_messages_json(m, NULL, 0, 100000));
	cJSON_ArrayForEach(e, msgs) {
		const char *cid = cJSON_GetObjectItem(e, "cid")->valuestring;
		if (!strstr(cids, cid))
			snprintf(cids + strlen(cids), sizeof cids - strlen(cids),
				 "%s,", cid);
	}
	/* arrival order varies: each of the 9 once */
	ck_assert_int_eq(strlen(cids), 9 * strlen("load-00001,"));
	for (int d = 1; d <= 9; d++) {
		char c[32];
		snprintf(c, sizeof c, "load-%05d,", d);
		ck_assert_msg(strstr(cids, c) != NULL, "%s not in %s", c, cids);
	}
	cJSON_Delete(msgs);
	mock_stop(m);
	snprintf(a, sizeof a, "%s/s0/report.json", f.dir);
	snprintf(b, sizeof b, "%s/s1/report.json", f.dir);
	snprintf(out, sizeof out, "%s/merged", f.dir);
	r = tu_cli(load_report_main, "report", margs);
	ck_assert_msg(r.rc == 99, "merge rc %d: %s", r.rc, r.err);
	tu_cli_free(&r);
	snprintf(err, sizeof err, "%s/one/report.json", f.dir);
	one = tu_read_json(err);
	ra = tu_read_json(a);
	rb = tu_read_json(b);
	snprintf(err, sizeof err, "%s/report.json", out);
	rm = tu_read_json(err);

	/* the shards split the 9 devices 5 + 4, cids stay global */
	ck_assert_double_eq(num(ra, "devices_up", NULL), 5);
	ck_assert_double_eq(num(rb, "devices_up", NULL), 4);
	ck_assert_double_eq(num(ra, "shard", "count"), 2);
	ck_assert_double_eq(num(rb, "shard", "index"), 1);
	ck_assert_double_eq(num(rm, "devices_up", NULL), 9);
	/* counts exactly as one unsharded run */
	ck_assert_double_eq(num(rm, "totals", "requests"),
			    num(one, "totals", "requests"));
	ck_assert_double_eq(num(rm, "totals", "answered"),
			    num(one, "totals", "answered"));
	ck_assert_double_eq(num(cJSON_GetObjectItem(rm, "kinds"), "heartbeat",
				"requests"),
			    num(cJSON_GetObjectItem(one, "kinds"), "heartbeat",
				"requests"));
	ck_assert_double_eq(num(rm, "totals", "requests"), 27);
	/* the merge is exact: the merged percentiles are those of one
	 * histogram holding both shards' buckets */
	for (i = 0; i < 2; i++) {
		const cJSON *l = cJSON_GetObjectItem(cJSON_GetObjectItem(
			i ? rb : ra, "totals"), "latency_us");
		txt = cJSON_PrintUnformatted(cJSON_GetObjectItem(l, "buckets"));
		ck_assert_int_eq(hist_from_json(h2, txt, err, sizeof err), 0);
		free(txt);
		/* the exact extremes beside the buckets, as a report keeps */
		h2->min = (uint64_t)num(l, "min", NULL);
		h2->max = (uint64_t)num(l, "max", NULL);
		hist_merge(h, h2);
	}
	ck_assert_double_eq(num(cJSON_GetObjectItem(rm, "totals"), "latency_us",
				"count"), (double)h->count);
	ck_assert_double_eq(num(cJSON_GetObjectItem(rm, "totals"), "latency_us",
				"p99"), (double)hist_quantile(h, 0.99));
	ck_assert_double_eq(num(cJSON_GetObjectItem(rm, "totals"), "latency_us",
				"p50"), (double)hist_quantile(h, 0.5));
	/* max and min are the shards' exact ones, not bucket lows */
	ck_assert_double_eq(num(cJSON_GetObjectItem(rm, "totals"), "latency_us",
				"max"), fmax(num(cJSON_GetObjectItem(ra, "totals"),
				"latency_us", "max"), num(cJSON_GetObjectItem(rb,
				"totals"), "latency_us", "max")));
	/* seconds add: every request is in one second, and each merged
	 * second is the sum of the shards' */
	sa = cJSON_GetObjectItem(cJSON_GetObjectItem(ra, "series"), "seconds");
	sb = cJSON_GetObjectItem(cJSON_GetObjectItem(rb, "series"), "seconds");
	sm = cJSON_GetObjectItem(cJSON_GetObjectItem(rm, "series"), "seconds");
	ck_assert_int_ge(cJSON_GetArraySize(sm), 3);
	i = 0;
	cJSON_ArrayForEach(e, sm) {
		double x = 0;
		if (i < cJSON_GetArraySize(sa))
			x += num(cJSON_GetArrayItem(sa, i), "requests", NULL);
		if (i < cJSON_GetArraySize(sb))
			x += num(cJSON_GetArrayItem(sb, i), "requests", NULL);
		ck_assert_double_eq(num(e, "t", NULL), i);
		ck_assert_double_eq(num(e, "requests", NULL), x);
		series_sum += x;
		i++;
	}
	ck_assert_double_eq(series_sum, num(rm, "totals", "requests"));
	/* thresholds judged again on the merged data: the count is 27 */
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(rm, "thresholds"), 1);
	ck_assert_str_eq(cJSON_GetObjectItem(e, "expr")->valuestring,
			 "count(heartbeat)>=1000000");
	ck_assert_double_eq(num(e, "value", NULL), 27);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(e, "ok")));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(rm, "thresholds"), 0), "ok")));
	ck_assert_double_eq(num(rm, "exit_code", NULL), 99);
	/* the heartbeats' lateness merges too: one slot per heartbeat */
	sa = cJSON_GetObjectItem(cJSON_GetObjectItem(ra, "lateness"), "heartbeat");
	sb = cJSON_GetObjectItem(cJSON_GetObjectItem(rb, "lateness"), "heartbeat");
	sm = cJSON_GetObjectItem(cJSON_GetObjectItem(rm, "lateness"), "heartbeat");
	ck_assert_double_eq(num(sm, "count", NULL), num(sa, "count", NULL) +
			    num(sb, "count", NULL));
	ck_assert_double_eq(num(sm, "count", NULL), num(cJSON_GetObjectItem(rm,
				"kinds"), "heartbeat", "requests"));
	ck_assert_double_eq(num(sm, "max", NULL), fmax(num(sa, "max", NULL),
						       num(sb, "max", NULL)));
	cJSON_Delete(one);
	cJSON_Delete(ra);
	cJSON_Delete(rb);
	cJSON_Delete(rm);
	free(h);
	free(h2);
	fx_end(&f);
}
END_TEST

/* Counts <testcase> and <failure> of junit.xml and the names that fail. */
static const char junit_py[] =
	"import sys, xml.etree.ElementTree as ET\n"
	"t = ET.parse(sys.argv[1]).getroot()\n"
	"cs = t.findall('./testsuite/testcase')\n"
	"print(len(cs), int(t.get('tests')), int(t.get('failures')))\n"
	"for c in cs:\n"
	"    f = c.find('failure')\n"
	"    print(c.get('name'), 'FAIL' if f is not None else 'ok',\n"
	"          (f.get('message') if f is not None else ''))\n";

START_TEST(junit_has_a_testcase_per_threshold_failing_where_it_failed)
{
	fx f;
	char path[128], out[4096];

	fx_start(&f);
	run(&f, NULL, "one", NULL);
	if (!have_python("xml.etree.ElementTree"))
		goto done;
	snprintf(path, sizeof path, "%s/one/junit.xml", f.dir);
	ck_assert_int_eq(python(f.dir, junit_py, path, out, sizeof out), 0);
	/* the run, then both thresholds in order; only the count fails */
	ck_assert_msg(!strncmp(out, "3 3 1\nrun ok \n"
			       "p99(heartbeat)<5s ok \n"
			       "count(heartbeat)>=1000000 FAIL "
			       "count(heartbeat)>=1000000 does not hold: "
			       "measured 27\n", 200), "junit: %s", out);
done:
	fx_end(&f);
}
END_TEST

/* A report tree by hand: the run failed, a threshold held. */
static cJSON *tree(bool aborted, bool propagation)
{
	cJSON *r = cJSON_Parse(
		"{\"schema\":\"camsim-load/1\",\"server\":\"http://a<b\","
		"\"elapsed_s\":3,\"exit_code\":99,\"aborted\":false,"
		"\"totals\":{\"requests\":5,\"answered\":5,\"failed\":0,"
		"\"latency_us\":{\"p50\":1000,\"p99\":2000}},\"kinds\":{},"
		"\"thresholds\":[{\"expr\":\"errors<1%\",\"ok\":true,"
		"\"shown\":\"0.00%\"}],"
		"\"series\":{\"step_s\":1,\"seconds\":["
		"{\"t\":0,\"requests\":3,\"failed\":0,\"p50\":900,\"p99\":1500},"
		"{\"t\":1,\"requests\":2,\"failed\":1,\"p50\":1100,\"p99\":2500}]}}");

	ck_assert_ptr_nonnull(r);
	if (aborted)
		cJSON_ReplaceItemInObject(r, "aborted", cJSON_CreateTrue());
	if (propagation)
		cJSON_AddItemToObject(r, "propagation", cJSON_Parse(
			"{\"command\":\"enrol\",\"devices\":3,\"confirmed\":3,"
			"\"hist\":[],\"curve\":[[120,1],[300,2],[900,3]]}"));
	return r;
}

/* Counts <svg> elements and prints each polyline's point count. */
static const char html_py[] =
	"import sys\n"
	"from html.parser import HTMLParser\n"
	"class P(HTMLParser):\n"
	"    svg = 0; lines = []; titles = []; intitle = False\n"
	"    def handle_starttag(self, tag, a):\n"
	"        a = dict(a)\n"
	"        if tag == 'svg': self.svg += 1\n"
	"        if tag == 'polyline':\n"
	"            self.lines.append((a['data-name'], len(a['points'].split())))\n"
	"        if tag == 'script' or (tag in ('link', 'img') and ('href' in a or 'src' in a)):\n"
	"            raise SystemExit('external or script: ' + tag)\n"
	"p = P(); p.feed(open(sys.argv[1]).read()); p.close()\n"
	"print(p.svg, ' '.join('%s:%d' % l for l in p.lines))\n";

START_TEST(report_html_has_its_svg_charts_with_data)
{
	fx f;
	char path[128], out[4096];
	strbuf b = {0};
	cJSON *r;
	FILE *h;

	fx_start(&f);
	run(&f, NULL, "one", NULL);
	if (!have_python("html.parser"))
		goto done;
	snprintf(path, sizeof path, "%s/one/report.html", f.dir);
	ck_assert_int_eq(python(f.dir, html_py, path, out, sizeof out), 0);
	/* throughput, latency (p50, p99), errors; a 2.5 s run has 3 seconds */
	ck_assert_msg(!strcmp(out, "5 requests/s:3 p50:3 p99:3 failed/s:3 "
			      "offline:3 rss:3\n"),
		      "html: %s", out);

	/* with a propagation member: its curve is a fourth chart */
	r = tree(true, true);
	load_report_html(r, &b);
	ck_assert(!b.oom);
	ck_assert_ptr_nonnull(strstr(b.p, "http://a&lt;b"));
	ck_assert_ptr_nonnull(strstr(b.p, "aborted"));
	snprintf(path, sizeof path, "%s/p.html", f.dir);
	ck_assert_ptr_nonnull(h = fopen(path, "w"));
	fputs(b.p, h);
	fclose(h);
	ck_assert_int_eq(python(f.dir, html_py, path, out, sizeof out), 0);
	ck_assert_msg(!strcmp(out, "4 requests/s:2 p50:2 p99:2 failed/s:2 "
			      "confirmed:3\n"), "html: %s", out);
	free(b.p);
	b = (strbuf){0};
	/* the run failing (aborted) is a failing "run" testcase */
	load_report_junit(r, &b);
	ck_assert_ptr_nonnull(strstr(b.p, "name=\"run\" time=\"3.000\">"
				     "<failure message=\"aborted"));
	ck_assert_ptr_nonnull(strstr(b.p, "failures=\"1\""));
	free(b.p);
	cJSON_Delete(r);
done:
	fx_end(&f);
}
END_TEST

START_TEST(bad_shards_and_bad_merges_cannot_run)
{
	fx f;
	char a[128], out[128];
	static const char *const bad_shard[] = {"2/2", "1/0", "x/2", "1", "-1/2",
						"0/10"};
	tu_cli_result r;

	fx_start(&f);
	for (size_t i = 0; i < sizeof bad_shard / sizeof bad_shard[0]; i++) {
		const char *args[] = {"--server", "mock", "--devices", "9",
				      "--shard", bad_shard[i], "--dry-run", NULL};
		r = tu_cli(load_main, "load", args);
		ck_assert_msg(r.rc == 2, "--shard %s: rc %d", bad_shard[i], r.rc);
		ck_assert_msg(strstr(r.err, "--shard is \"") != NULL, "%s", r.err);
		tu_cli_free(&r);
	}
	{	/* an Indexed Job's index with --shards */
		const char *args[] = {"--server", "mock", "--devices", "9",
				      "--shards", "4", "--dry-run", NULL};
		setenv("JOB_COMPLETION_INDEX", "3", 1);
		r = tu_cli(load_main, "load", args);
		ck_assert_msg(r.rc == 0, "%s", r.err);
		ck_assert_ptr_nonnull(strstr(r.out, "shard 3 of 4: 2 of 9 devices"));
		tu_cli_free(&r);
		setenv("JOB_COMPLETION_INDEX", "4", 1);
		r = tu_cli(load_main, "load", args);
		ck_assert_int_eq(r.rc, 2);
		ck_assert_ptr_nonnull(strstr(r.err, "JOB_COMPLETION_INDEX is \"4\""));
		tu_cli_free(&r);
		unsetenv("JOB_COMPLETION_INDEX");
		r = tu_cli(load_main, "load", args);
		ck_assert_int_eq(r.rc, 2);
		ck_assert_ptr_nonnull(strstr(r.err, "JOB_COMPLETION_INDEX"));
		tu_cli_free(&r);
	}
	/* a shard given twice, one missing, a file that is no report */
	run(&f, "0/2", "s0", NULL);
	snprintf(a, sizeof a, "%s/s0/report.json", f.dir);
	snprintf(out, sizeof out, "%s/m", f.dir);
	{
		const char *twice[] = {"merge", out, a, a, NULL};
		const char *one[] = {"merge", out, a, NULL};
		const char *nojson[] = {"merge", out, "Makefile", NULL};
		char p[160];
		cJSON *m;

		r = tu_cli(load_report_main, "report", twice);
		ck_assert_int_eq(r.rc, 2);
		ck_assert_ptr_nonnull(strstr(r.err, "shard 0 is given twice"));
		tu_cli_free(&r);
		r = tu_cli(load_report_main, "report", nojson);
		ck_assert_int_eq(r.rc, 2);
		ck_assert_ptr_nonnull(strstr(r.err, "Makefile is not a JSON"));
		tu_cli_free(&r);
		/* merged and written, but a lost shard is not a smaller run */
		r = tu_cli(load_report_main, "report", one);
		ck_assert_int_eq(r.rc, 2);
		ck_assert_ptr_nonnull(strstr(r.err, "1 of 2 shards are missing"));
		tu_cli_free(&r);
		snprintf(p, sizeof p, "%s/report.json", out);
		m = tu_read_json(p);
		ck_assert_double_eq(num(m, "shard", "missing"), 1);
		ck_assert_double_eq(num(m, "exit_code", NULL), 2);
		cJSON_Delete(m);
	}
	fx_end(&f);
}
END_TEST

/* A shard's report by hand with a propagation member. */
static cJSON *prop_report(int shard, const char *prop)
{
	char txt[1024];
	cJSON *r;

	snprintf(txt, sizeof txt, "{\"schema\":\"camsim-load/1\",\"server\":"
		 "\"mock\",\"elapsed_s\":2,\"exit_code\":0,\"options\":"
		 "{\"devices\":4},\"shard\":{\"index\":%d,\"count\":2},"
		 "\"kinds\":{},\"thresholds\":[],\"propagation\":%s}",
		 shard, prop);
	ck_assert_ptr_nonnull(r = cJSON_Parse(txt));
	return r;
}

START_TEST(propagation_of_shards_merges_counts_histograms_and_curves)
{
	const cJSON *in[2];
	const char *names[] = {"a.json", "b.json"};
	cJSON *out;
	char err[512], *txt;
	int code = -1;

	in[0] = prop_report(0, "{\"command\":\"enrol\",\"devices\":2,"
			    "\"confirmed\":2,\"hist\":[[100,1],[300,1]],"
			    "\"curve\":[[100,1],[300,2]]}");
	in[1] = prop_report(1, "{\"command\":\"enrol\",\"devices\":2,"
			    "\"confirmed\":1,\"hist\":[[200,1]],"
			    "\"curve\":[[200,1]]}");
	ck_assert_msg(load_merge(in, names, 2, &out, &code, err, sizeof err) == 0,
		      "%s", err);
	ck_assert_int_eq(code, 0);
	txt = cJSON_PrintUnformatted(cJSON_GetObjectItem(out, "propagation"));
	ck_assert_str_eq(txt, "{\"command\":\"enrol\",\"devices\":4,"
			 "\"confirmed\":3,\"failed\":0,\"refused\":0,"
			 "\"timeout\":0,\"hist\":[[100,1],[200,1],[300,1]],"
			 "\"curve\":[[100,1],[200,2],[300,3]]}");
	free(txt);
	cJSON_Delete(out);
	/* shards that enqueued different commands do not merge */
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem((cJSON *)in[1],
				  "propagation"), "command",
				  cJSON_CreateString("config"));
	ck_assert_int_eq(load_merge(in, names, 2, &out, &code, err, sizeof err),
			 CONF_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "b.json: \"propagation\""));
	cJSON_Delete((cJSON *)in[0]);
	cJSON_Delete((cJSON *)in[1]);
}
END_TEST

/* Shard i's propagation through an adapter: devices 10, confirmed 10 -
 * fail - ref - to, its adapter calls (ncalls, the last nbad of them
 * failed, latencies 1 ms, 2 ms, ...) and nerr errors listed, left_off
 * more; thresholds on propagation and on the adapter's calls. */
static cJSON *adp_report(int shard, int fail, int ref, int to, int ncalls,
			 int nbad, int nerr, int left_off)
{
	cJSON *r = prop_report(shard, "{\"command\":\"enrol\",\"curve\":[],"
			       "\"hist\":[]}"), *p, *a, *errs, *th;
	load_kind k = {.name = "adapter"};
	char cid[32], *txt;
	hist h = {0};

	p = cJSON_GetObjectItem(r, "propagation");
	cJSON_AddNumberToObject(p, "devices", 10);
	cJSON_AddNumberToObject(p, "confirmed", 10 - fail - ref - to);
	cJSON_AddNumberToObject(p, "failed", fail);
	cJSON_AddNumberToObject(p, "refused", ref);
	cJSON_AddNumberToObject(p, "timeout", to);
	for (int i = 0; i < 10 - fail - ref - to; i++)
		hist_add(&h, 1000 * (uint64_t)(shard * 10 + i + 1));
	strbuf b = {0};
	hist_to_json(&h, &b);
	ck_assert(!b.oom);
	cJSON_ReplaceItemInObject(p, "hist", cJSON_Parse(b.p));
	free(b.p);
	for (int i = 0; i < ncalls; i++) {
		k.requests++;
		if (i < ncalls - nbad)
			k.answered++;
		else
			k.failed[LOAD_F_OTHER]++;
		hist_add(&k.lat_us, 1000 * (uint64_t)(i + 1));
	}
	a = cJSON_AddObjectToObject(p, "adapter");
	cJSON_AddStringToObject(a, "file", "a.json");
	cJSON_AddStringToObject(a, "action", "enroll");
	cJSON_AddNumberToObject(a, "concurrency", 4);
	cJSON_AddItemToObject(a, "calls", load_kind_json(&k));
	cJSON_AddNumberToObject(a, "devices_failed", nerr + left_off);
	errs = cJSON_AddArrayToObject(a, "errors");
	for (int i = 0; i < nerr; i++) {
		cJSON *e = cJSON_CreateObject();
		snprintf(cid, sizeof cid, "load-%05d", shard + 2 * i + 1);
		cJSON_AddStringToObject(e, "cid", cid);
		cJSON_AddStringToObject(e, "error", "exit status 4");
		cJSON_AddItemToArray(errs, e);
	}
	cJSON_AddNumberToObject(a, "errors_left_off", left_off);
	th = cJSON_GetObjectItem(r, "thresholds");
	for (const char *const *x = (const char *const[]){
		     "errors(propagation)==9", "count(propagation)==20",
		     "max(propagation)>12ms", "count(adapter)==130",
		     "errors(adapter)==30", "max(adapter)>=70ms", NULL}; *x; x++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "expr", *x);
		cJSON_AddItemToArray(th, o);
	}
	/* as a file holds it: the histograms' raw arrays parsed */
	txt = cJSON_PrintUnformatted(r);
	cJSON_Delete(r);
	ck_assert_ptr_nonnull(r = cJSON_Parse(txt));
	free(txt);
	return r;
}

/* Failures of the propagation and of the adapter's calls merge to their
 * sum; the errors listed stop at 100 and the rest are counted; the
 * thresholds on both are judged on the merged data. */
START_TEST(propagation_failures_and_adapter_calls_of_shards_merge_to_the_sum)
{
	const cJSON *in[2];
	const char *names[] = {"a.json", "b.json"};
	cJSON *out, *p, *a, *t;
	char err[512];
	int code = -1;

	/* 2 failed, 1 refused, 0 timeout of 10; 60 calls, 10 failed */
	in[0] = adp_report(0, 2, 1, 0, 60, 10, 60, 0);
	/* 1 failed, 3 refused, 2 timeout of 10; 70 calls, 20 failed */
	in[1] = adp_report(1, 1, 3, 2, 70, 20, 60, 5);
	ck_assert_msg(load_merge(in, names, 2, &out, &code, err, sizeof err) == 0,
		      "%s", err);
	p = cJSON_GetObjectItem(out, "propagation");
	ck_assert_double_eq(num(p, "devices", NULL), 20);
	ck_assert_double_eq(num(p, "confirmed", NULL), 11);
	ck_assert_double_eq(num(p, "failed", NULL), 3);
	ck_assert_double_eq(num(p, "refused", NULL), 4);
	ck_assert_double_eq(num(p, "timeout", NULL), 2);
	a = cJSON_GetObjectItem(p, "adapter");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(cJSON_GetObjectItem(a, "action")->valuestring, "enroll");
	ck_assert_double_eq(num(a, "devices_failed", NULL), 125);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(a, "errors")),
			 100);
	/* 20 of b's 60 cut here, and b's own 5 */
	ck_assert_double_eq(num(a, "errors_left_off", NULL), 25);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(a, "errors"), 60), "cid")->valuestring,
		"load-00002");
	t = cJSON_GetObjectItem(a, "calls");
	ck_assert_double_eq(num(t, "requests", NULL), 130);
	ck_assert_double_eq(num(t, "answered", NULL), 100);
	ck_assert_double_eq(num(cJSON_GetObjectItem(t, "failures"), "other",
				NULL), 30);
	ck_assert_double_eq(num(cJSON_GetObjectItem(t, "latency_us"), "max",
				NULL), 70000);
	/* every threshold holds on the sums, none on a shard alone */
	ck_assert_int_eq(code, 0);
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(out, "thresholds"))
		ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(t, "ok")),
			      "%s does not hold: %s",
			      cJSON_GetObjectItem(t, "expr")->valuestring,
			      cJSON_GetObjectItem(t, "shown")->valuestring);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(out,
			 "thresholds")), 6);
	cJSON_Delete(out);
	cJSON_Delete((cJSON *)in[0]);
	cJSON_Delete((cJSON *)in[1]);
}
END_TEST

/* Prints the container's camsim arguments, one a line, and checks the
 * Job is Indexed with as many completions as --shards. */
static const char k8s_py[] =
	"import sys, shlex, yaml\n"
	"j = yaml.safe_load(open(sys.argv[1]))\n"
	"assert j['kind'] == 'Job' and j['spec']['completionMode'] == 'Indexed'\n"
	"c = j['spec']['template']['spec']['containers'][0]\n"
	"a = shlex.split(c['args'][0])\n"
	"assert a[:3] == ['exec', 'camsim', 'load'], a\n"
	"a = [x.replace('$JOB_COMPLETION_INDEX', '0') for x in a[3:]]\n"
	"assert a[a.index('--shards') + 1] == str(j['spec']['completions'])\n"
	"print('\\n'.join(a))\n";

START_TEST(the_kubernetes_example_parses_and_its_command_is_accepted)
{
	fx f;
	char out[4096], *p, *args[40];
	size_t n = 0;
	tu_cli_result r;

	fx_start(&f);
	if (!have_python("yaml"))
		goto done;
	ck_assert_int_eq(python(f.dir, k8s_py, "examples/kubernetes/load-job.yaml",
				out, sizeof out), 0);
	for (p = strtok(out, "\n"); p && n < 38; p = strtok(NULL, "\n"))
		args[n++] = p;
	args[n++] = "--dry-run";
	args[n] = NULL;
	setenv("JOB_COMPLETION_INDEX", "0", 1);
	r = tu_cli(load_main, "load", (const char **)args);
	unsetenv("JOB_COMPLETION_INDEX");
	ck_assert_msg(r.rc == 0, "rc %d: %s", r.rc, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "shard 0 of 4: 5000 of 20000"));
	tu_cli_free(&r);
done:
	fx_end(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("load_report");
	TCase *run_tc = tcase_create("run"), *unit = tcase_create("unit");

	tcase_set_timeout(run_tc, 120);
	tcase_add_test(run_tc, two_shards_merged_equal_one_unsharded_run);
	tcase_add_test(run_tc, junit_has_a_testcase_per_threshold_failing_where_it_failed);
	tcase_add_test(run_tc, report_html_has_its_svg_charts_with_data);
	tcase_add_test(run_tc, bad_shards_and_bad_merges_cannot_run);
	tcase_add_test(unit, the_kubernetes_example_parses_and_its_command_is_accepted);
	tcase_add_test(unit, propagation_of_shards_merges_counts_histograms_and_curves);
	tcase_add_test(unit, propagation_failures_and_adapter_calls_of_shards_merge_to_the_sum);
	suite_add_tcase(s, run_tc);
	suite_add_tcase(s, unit);
	return tu_run(s);
}
