/* check_load_adapter.c -- `camsim load --server URL --adapter FILE
 * --propagate CMD' against camsim's mock started as a separate server and
 * driven only through adapters, as a vendor's server would be: one
 * enrolment to 200 devices, every device confirmed on its own side and the
 * server's counts agreeing; a batch of 45 as three calls a device through
 * the shell-script example; an adapter that fails for some devices counts
 * exactly those, each with the adapter's reason; calls run in parallel
 * but never more at a time than asked; an adapter without the action, and
 * --adapter / --propagate in the wrong company, are refused before the
 * run with exit 2. */
#include "load.h"
#include "load_cli.h"
#include "hist.h"
#include "proc.h"

#include <cJSON.h>
#include <math.h>

/* How long a run that enrols lets the devices confirm: every device
 * decodes the photo on the one loop thread, several times slower under
 * AddressSanitizer on a shared 2-core machine (the run always lasts this
 * long; the assertions do not depend on it). */
#if defined(__SANITIZE_ADDRESS__)
#define ENROL_RUN "25s"
#else
#define ENROL_RUN "10s"
#endif

typedef struct fx {
	char dir[PR_DIR], base[200], url[300], rep[PR_DIR + 8];
	char faces[PATH_MAX], mock_adapter[PATH_MAX];
	pid_t mock;
} fx;

static void fx_start(fx *f, bool with_mock)
{
	memset(f, 0, sizeof *f);
	pr_tmpdir(f->dir, "loadadp");
	snprintf(f->rep, sizeof f->rep, "%s/rep", f->dir);
	snprintf(f->faces, sizeof f->faces, "%s/faces", tu_root());
	snprintf(f->mock_adapter, sizeof f->mock_adapter,
		 "%s/examples/mock-adapter.json", tu_root());
	if (!with_mock)
		return;
	f->mock = pr_start_mock(f->dir, f->base, sizeof f->base);
	snprintf(f->url, sizeof f->url, "%s/api/face", f->base);
	/* the example adapters find the mock here (docs/adapters.md) */
	ck_assert_int_eq(setenv("CAMSIM_MOCK", f->base, 1), 0);
}

static void fx_end(fx *f)
{
	if (f->mock)
		pr_stop(f->mock);
	pr_rmdir(f->dir);
}

/* A file of text in the fixture's directory; its path into path. */
static void put(const fx *f, const char *name, const char *text, char *path,
		size_t n)
{
	FILE *fp;

	snprintf(path, n, "%s/%s", f->dir, name);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_ge(fputs(text, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
}

/* GET /admin/stats of the separately started mock. */
static cJSON *mock_stats(const fx *f)
{
	static char buf[1 << 16];
	char req[300];
	const char *body;
	int port = atoi(strrchr(f->base, ':') + 1);

	/* the mock answers its own Host only (docs/security.md) */
	snprintf(req, sizeof req, "GET /admin/stats HTTP/1.1\r\nHost: "
		 "127.0.0.1:%d\r\nConnection: close\r\n\r\n", port);
	ck_assert_int_eq(tu_ask(port, req, buf, sizeof buf, 3000), 200);
	ck_assert_ptr_nonnull(body = strstr(buf, "\r\n\r\n"));
	return cJSON_Parse(body + 4);
}

static double num(const cJSON *o, const char *path)
{
	char buf[128], *save = NULL;
	const cJSON *v = o;

	snprintf(buf, sizeof buf, "%s", path);
	for (char *t = strtok_r(buf, ".", &save); t; t = strtok_r(NULL, ".", &save))
		v = cJSON_GetObjectItemCaseSensitive(v, t);
	ck_assert_msg(cJSON_IsNumber(v), "%s is no number", path);
	return v->valuedouble;
}

/* The mock's commands, by state, are exactly the ones given. */
static void mock_commands_are(const fx *f, double confirmed, double total)
{
	cJSON *st = mock_stats(f);
	const char *states[] = {"pending", "sent", "confirmed", "failed",
				"timeout"};
	double sum = 0;

	ck_assert_ptr_nonnull(st);
	for (size_t i = 0; i < sizeof states / sizeof *states; i++)
		sum += num(cJSON_GetObjectItem(st, "commands"), states[i]);
	ck_assert_double_eq(num(st, "commands.confirmed"), confirmed);
	ck_assert_double_eq(sum, total);
	cJSON_Delete(st);
}

START_TEST(one_enrolment_through_the_mock_adapter_is_confirmed_by_200_devices)
{
	fx f;
	const char *args[] = {"--server", NULL, "--devices", "200", "--ramp",
			      "1s", "--duration", ENROL_RUN, "--interval", "1",
			      "--propagate", "enrol", "--adapter", NULL,
			      "--faces", NULL, "--threshold",
			      "p99(propagation)<30s", "--report-dir", NULL, NULL};
	tu_cli_result r;
	cJSON *rep, *p, *a, *pt;
	char *txt, err[256];
	hist *h;
	double last_ms = -1, last_n = 0;

	if (tu_valgrind())
		return; /* enrolling needs the models, out of reach there */
	ck_assert_ptr_nonnull(h = calloc(1, sizeof *h));
	fx_start(&f, true);
	args[1] = f.url;
	args[13] = f.mock_adapter;
	args[15] = f.faces;
	args[19] = f.rep;
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == LOAD_EXIT_OK, "rc %d: %s%s", r.rc, r.out, r.err);
	ck_assert_msg(strstr(r.out, "propagation (enrol): 200 of 200 devices "
			     "confirmed, p50 "), "%s", r.out);
	ck_assert_msg(strstr(r.out, "adapter (enroll): 200 calls in ") &&
		      strstr(r.out, "; 0 of 200 devices failed"), "%s", r.out);
	ck_assert_msg(strstr(r.err, "devices called (0 failed, 16 at a time)"),
		      "no progress line: %s", r.err);
	rep = pr_report(f.rep, NULL);
	p = cJSON_GetObjectItem(rep, "propagation");
	a = cJSON_GetObjectItem(p, "adapter");
	/* counts reconcile: every device called once, every call answered,
	 * every device confirmed on its side, nothing else */
	ck_assert_double_eq(num(p, "devices"), 200);
	ck_assert_double_eq(num(p, "confirmed"), 200);
	ck_assert_double_eq(num(p, "failed") + num(p, "refused") +
			    num(p, "timeout"), 0);
	ck_assert_double_eq(num(a, "calls.requests"), 200);
	ck_assert_double_eq(num(a, "calls.answered"), 200);
	ck_assert_double_eq(num(a, "devices_failed"), 0);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(a, "errors")), 0);
	/* the device-side times: one per device, a curve rising to 200 */
	txt = cJSON_PrintUnformatted(cJSON_GetObjectItem(p, "hist"));
	ck_assert_msg(hist_from_json(h, txt, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(h->count, 200);
	ck_assert_uint_le(hist_quantile(h, 0.5), h->max);
	ck_assert_uint_lt(h->max, 30000000);
	/* measured to the device's result, not to the command's arrival: a
	 * command that rode heartbeat N back is confirmed by heartbeat N+1,
	 * at least 0.9 s (interval 1 s, jitter 0.1) after N's slot, which
	 * was at most N's latency before the call returned */
	ck_assert_msg(h->min >= 300000, "a device confirmed %.0f ms after the "
		      "call returned: sooner than its next heartbeat",
		      (double)h->min / 1e3);
	cJSON_ArrayForEach(pt, cJSON_GetObjectItem(p, "curve")) {
		double ms = cJSON_GetArrayItem(pt, 0)->valuedouble;
		double n = cJSON_GetArrayItem(pt, 1)->valuedouble;
		ck_assert_double_gt(ms, last_ms);
		ck_assert_double_gt(n, last_n);
		last_ms = ms;
		last_n = n;
	}
	ck_assert_double_eq(last_n, 200);
	/* ... and the server's side agrees: 200 commands, all confirmed,
	 * and it received exactly the heartbeats the devices counted */
	mock_commands_are(&f, 200, 200);
	{
		cJSON *st = mock_stats(&f);
		ck_assert_double_eq(num(st, "messages.heartbeat"),
				    num(rep, "kinds.heartbeat.requests"));
		cJSON_Delete(st);
	}
	free(txt);
	free(h);
	cJSON_Delete(rep);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

START_TEST(a_batch_of_45_through_the_shell_adapter_is_three_calls_a_device)
{
	fx f;
	char adapter[PATH_MAX];
	const char *args[] = {"--server", NULL, "--devices", "4", "--duration",
			      ENROL_RUN, "--interval", "1", "--propagate", "batch:45",
			      "--adapter", NULL, "--faces", NULL, "--report-dir",
			      NULL, NULL};
	tu_cli_result r;
	cJSON *rep, *p;

	if (tu_valgrind())
		return; /* enrolling needs the models */
	fx_start(&f, true);
	snprintf(adapter, sizeof adapter, "%s/examples/shell-adapter.json",
		 tu_root());
	args[1] = f.url;
	args[11] = adapter;
	args[13] = f.faces;
	args[15] = f.rep;
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == LOAD_EXIT_OK, "rc %d: %s%s", r.rc, r.out, r.err);
	ck_assert_msg(strstr(r.out, "propagation (batch of 45 people): 4 of 4 "
			     "devices confirmed"), "%s", r.out);
	rep = pr_report(f.rep, NULL);
	p = cJSON_GetObjectItem(rep, "propagation");
	/* 20 + 20 + 5 people: three "batch" calls, three commands each */
	ck_assert_double_eq(num(p, "people"), 45);
	ck_assert_double_eq(num(p, "confirmed"), 4);
	ck_assert_double_eq(num(cJSON_GetObjectItem(p, "adapter"),
				"calls.answered"), 12);
	mock_commands_are(&f, 12, 12);
	cJSON_Delete(rep);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

static bool failing_cid(int k)
{
	return k % 10 == 3 || k % 10 == 7;
}

START_TEST(an_adapter_failing_for_some_devices_counts_each_with_its_reason)
{
	fx f;
	char script[PATH_MAX], adapter[PATH_MAX], text[PATH_MAX * 2];
	const char *args[] = {"--server", NULL, "--devices", "20", "--duration",
			      "5s", "--interval", "1", "--propagate", "config",
			      "--adapter", NULL, "--threshold",
			      "errors(propagation)==0", "--report-dir", NULL,
			      "--threshold", "errors(adapter)==4", "--threshold",
			      "count(adapter)==20", "--threshold",
			      "max(adapter)<60s", NULL};
	tu_cli_result r;
	cJSON *rep, *p, *a, *e, *th;
	int seen[21] = {0}, nfail = 0;

	fx_start(&f, true);
	/* a vendor's tool that does not know some of the devices */
	snprintf(text, sizeof text, "case \"$CAMSIM_CID\" in\n*3|*7)\n\techo "
		 "\"device $CAMSIM_CID is not registered on this server\" >&2\n"
		 "\texit 4 ;;\nesac\nexec sh %s/examples/shell-adapter.sh\n",
		 tu_root());
	put(&f, "some.sh", text, script, sizeof script);
	snprintf(text, sizeof text, "{\"actions\": {\"config\": {\"shell\": "
		 "\"sh %s\"}}}\n", script);
	put(&f, "some.json", text, adapter, sizeof adapter);
	args[1] = f.url;
	args[11] = adapter;
	args[15] = f.rep;
	r = tu_cli(load_main, "load", args);
	/* 4 devices failed: errors(propagation)==0 does not hold */
	ck_assert_msg(r.rc == LOAD_EXIT_THRESHOLD, "rc %d: %s%s", r.rc, r.out,
		      r.err);
	ck_assert_msg(strstr(r.out, "propagation (config): 16 of 20 devices "
			     "confirmed") &&
		      strstr(r.out, "4 refused by the adapter"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "  load-00003: the adapter command failed "
			     "(exit status 4): device load-00003 is not "
			     "registered on this server"), "%s", r.out);
	/* never silent: said on stderr as it happened */
	ck_assert_msg(strstr(r.err, "the adapter's \"config\" failed for "
			     "load-00017: the adapter command failed (exit "
			     "status 4)"), "%s", r.err);
	rep = pr_report(f.rep, NULL);
	p = cJSON_GetObjectItem(rep, "propagation");
	a = cJSON_GetObjectItem(p, "adapter");
	ck_assert_double_eq(num(p, "devices"), 20);
	ck_assert_double_eq(num(p, "confirmed"), 16);
	ck_assert_double_eq(num(p, "refused"), 4);
	ck_assert_double_eq(num(p, "failed") + num(p, "timeout"), 0);
	ck_assert_double_eq(num(a, "calls.requests"), 20);
	ck_assert_double_eq(num(a, "calls.failed"), 4);
	ck_assert_double_eq(num(a, "devices_failed"), 4);
	/* each failed device once, with the adapter's own words */
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(a, "errors")) {
		const char *cid = cJSON_GetObjectItem(e, "cid")->valuestring;
		const char *why = cJSON_GetObjectItem(e, "error")->valuestring;
		int k = atoi(cid + 5);
		char want[120];
		ck_assert_msg(k >= 1 && k <= 20 && failing_cid(k) && !seen[k]++,
			      "%s should not have failed (or twice)", cid);
		snprintf(want, sizeof want, "device %s is not registered", cid);
		ck_assert_msg(strstr(why, want), "%s: %s", cid, why);
		nfail++;
	}
	ck_assert_int_eq(nfail, 4);
	ck_assert_double_eq(num(a, "errors_left_off"), 0);
	/* the calls are a threshold kind: judged at the end, they hold */
	th = cJSON_GetObjectItem(rep, "thresholds");
	ck_assert_int_eq(cJSON_GetArraySize(th), 4);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(th, 0),
						    "ok")));
	for (int i = 1; i < 4; i++)
		ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(
			cJSON_GetArrayItem(th, i), "ok")), "%s: %s",
			cJSON_GetObjectItem(cJSON_GetArrayItem(th, i),
					    "expr")->valuestring,
			cJSON_GetObjectItem(cJSON_GetArrayItem(th, i),
					    "shown")->valuestring);
	/* the server got the 16 others only, and confirmed them */
	mock_commands_are(&f, 16, 16);
	cJSON_Delete(rep);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

START_TEST(adapter_calls_run_in_parallel_but_never_more_than_asked)
{
	fx f;
	char script[PATH_MAX], adapter[PATH_MAX], log[PATH_MAX];
	char text[PATH_MAX * 3], *t, *line, *save = NULL;
	const char *args[] = {"--server", NULL, "--devices", "24", "--duration",
			      "6s", "--interval", "1", "--propagate", "strategy",
			      "--adapter", NULL, "--adapter-concurrency", "4",
			      NULL};
	tu_cli_result r;
	long long ev[48];
	size_t n = 0;
	int at = 0, most = 0;

	fx_start(&f, true);
	snprintf(log, sizeof log, "%s/calls.log", f.dir);
	/* each call logs its start (+ns, even) and end (ns, odd) */
	snprintf(text, sizeof text, "echo $(( $(date +%%s%%N) / 2 * 2 )) >> %s\n"
		 "sleep 0.2\nsh %s/examples/shell-adapter.sh\nrc=$?\n"
		 "echo $(( $(date +%%s%%N) / 2 * 2 + 1 )) >> %s\nexit $rc\n",
		 log, tu_root(), log);
	put(&f, "slow.sh", text, script, sizeof script);
	snprintf(text, sizeof text, "{\"actions\": {\"strategies\": {\"shell\": "
		 "\"sh %s\"}}}\n", script);
	put(&f, "slow.json", text, adapter, sizeof adapter);
	args[1] = f.url;
	args[11] = adapter;
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == LOAD_EXIT_OK, "rc %d: %s%s", r.rc, r.out, r.err);
	ck_assert_msg(strstr(r.out, "propagation (strategy): 24 of 24 devices "
			     "confirmed"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "24 calls in ") &&
		      strstr(r.out, ", 4 at a time"), "%s", r.out);
	ck_assert_ptr_nonnull(t = tu_read(log, NULL));
	for (line = strtok_r(t, "\n", &save); line && n < 48;
	     line = strtok_r(NULL, "\n", &save))
		ev[n++] = atoll(line);
	ck_assert_uint_eq(n, 48);
	/* at equal times an end (odd) sorts after a start: counted high */
	qsort(ev, n, sizeof *ev, cmp_ll);
	for (size_t i = 0; i < n; i++) {
		at += ev[i] % 2 ? -1 : 1;
		if (at > most)
			most = at;
	}
	ck_assert_int_eq(at, 0);
	ck_assert_msg(most <= 4, "%d adapter calls ran at once, asked 4", most);
	/* 24 calls of 0.2 s one by one take 4.8 s: they overlapped */
	ck_assert_msg(most >= 2, "the adapter calls ran one at a time");
	free(t);
	mock_commands_are(&f, 24, 24);
	tu_cli_free(&r);
	fx_end(&f);
}
END_TEST

/* Runs load with args; it must exit 2 saying want, before any device. */
static void refused(const char *const *args, const char *want)
{
	tu_cli_result r = tu_cli(load_main, "load", (const char **)args);

	ck_assert_msg(r.rc == LOAD_EXIT_CANNOT_RUN, "rc %d for %s: %s%s", r.rc,
		      want, r.out, r.err);
	ck_assert_msg(strstr(r.err, want), "wanted \"%s\" in: %s", want, r.err);
	ck_assert_msg(!strstr(r.err, "devices ->"), "the run started: %s",
		      r.err);
	tu_cli_free(&r);
}

START_TEST(an_adapter_without_the_action_or_in_the_wrong_company_is_refused)
{
	fx f;
	char cfg[PATH_MAX], ask[PATH_MAX];
	/* nothing listens on port 9: a refusal must come before the run
	 * (which would fail on the unreachable server) */
	const char *url = "http://127.0.0.1:9/api/face";

	fx_start(&f, false);
	put(&f, "cfg.json", "{\"actions\": {\"config\": {\"shell\": \"true\"}}}",
	    cfg, sizeof cfg);
	{
		const char *a[] = {"--server", url, "--devices", "5",
				   "--propagate", "enrol", "--adapter", cfg, NULL};
		refused(a, "has no \"enroll\" action (nor a \"*\" entry), which "
			"--propagate enrol needs");
	}
	{
		const char *a[] = {"--server", url, "--devices", "5",
				   "--propagate", "batch:40", "--adapter", cfg,
				   "--dry-run", NULL};
		refused(a, "has no \"batch\" action");
	}
	{
		const char *a[] = {"--server", url, "--devices", "5",
				   "--propagate", "strategy", "--adapter", cfg,
				   NULL};
		refused(a, "has no \"strategies\" action");
	}
	put(&f, "ask.json", "{\"actions\": {\"*\": {\"interactive\": true}}}",
	    ask, sizeof ask);
	{
		const char *a[] = {"--server", url, "--devices", "5",
				   "--propagate", "config", "--adapter", ask,
				   NULL};
		refused(a, "the \"config\" entry it uses for --propagate config "
			"is {\"interactive\": true}, a prompt at the terminal");
	}
	{
		const char *a[] = {"--server", url, "--devices", "5",
				   "--propagate", "enrol", NULL};
		refused(a, "--propagate against a server given by URL needs "
			"--adapter FILE");
	}
	{
		const char *a[] = {"--server", url, "--devices", "5",
				   "--adapter", cfg, NULL};
		refused(a, "is used only by --propagate");
	}
	{
		const char *a[] = {"--server", "mock", "--devices", "5",
				   "--propagate", "config", "--adapter", cfg,
				   NULL};
		refused(a, "with --server mock the command is queued on the "
			"in-process mock directly");
	}
	{
		const char *a[] = {"--server", url, "--devices", "5",
				   "--propagate", "config", "--adapter", cfg,
				   "--adapter-concurrency", "0", NULL};
		refused(a, "--adapter-concurrency is \"0\"; it must be an "
			"integer from 1 to 256");
	}
	{
		const char *a[] = {"--server", url, "--devices", "5",
				   "--adapter-concurrency", "8", NULL};
		refused(a, "--adapter-concurrency is the number of adapter "
			"calls at a time: it needs --adapter FILE");
	}
	{
		const char *a[] = {"--server", url, "--devices", "5",
				   "--propagate", "config", "--adapter",
				   "/nonexistent/adapter.json", NULL};
		refused(a, "/nonexistent/adapter.json");
	}
	fx_end(&f);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("load_adapter");
	TCase *run = tcase_create("run"), *cli = tcase_create("cli");

	(void)argc;
	pr_find_camsim(argv[0]);
	tcase_set_timeout(run, 120);
	tcase_add_test(run, one_enrolment_through_the_mock_adapter_is_confirmed_by_200_devices);
	tcase_add_test(run, a_batch_of_45_through_the_shell_adapter_is_three_calls_a_device);
	tcase_add_test(run, an_adapter_failing_for_some_devices_counts_each_with_its_reason);
	tcase_add_test(run, adapter_calls_run_in_parallel_but_never_more_than_asked);
	tcase_add_test(cli, an_adapter_without_the_action_or_in_the_wrong_company_is_refused);
	suite_add_tcase(s, run);
	suite_add_tcase(s, cli);
	return tu_run(s);
}
