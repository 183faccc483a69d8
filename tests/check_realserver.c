/* check_realserver.c -- the real-server path, end to end, as a vendor runs
 * it: camsim run --server URL --adapter FILE against servers in other
 * processes.  camsim's own mock, started on its own and driven through the
 * two example adapters, passes the whole suite; an independent server
 * written from the vendor document (tests/ref_server.py) passes it too
 * while it makes other legal choices (one command per reply, a global seq
 * from 1000, no 100 Continue, HTTP/1.0, chunked replies, Connection:
 * close), with the verdicts the in-process mock gets; and each of its
 * broken modes is caught by the check meant for it. */
#include "proc.h"

#include <cJSON.h>

/* ---------------------------------------------------------------- helpers */

static int count_of(const cJSON *doc, const char *k)
{
	return (int)cJSON_GetNumberValue(cJSON_GetObjectItem(
		cJSON_GetObjectItem(doc, "summary"), k));
}

/* Every scenario passed, or was skipped for want of face recognition (as
 * under valgrind, where the models are out of reach). */
static void all_pass(const cJSON *doc, const char *what)
{
	const cJSON *sc;

	ck_assert_msg(count_of(doc, "failed") == 0 && count_of(doc, "errors") == 0,
		      "%s: %d failed, %d errors", what, count_of(doc, "failed"),
		      count_of(doc, "errors"));
	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(doc, "complete")),
		      "%s: the run is not complete", what);
	cJSON_ArrayForEach(sc, cJSON_GetObjectItem(doc, "scenarios")) {
		const char *st = cJSON_GetObjectItem(sc, "status")->valuestring;
		ck_assert_msg(!strcmp(st, "pass") ||
			      (!strcmp(st, "skip") &&
			       strstr(cJSON_GetObjectItem(sc, "reason")->valuestring,
				      "face recognition")),
			      "%s: %s is %s: %s", what,
			      cJSON_GetObjectItem(sc, "name")->valuestring, st,
			      cJSON_GetStringValue(cJSON_GetObjectItem(sc, "reason")));
	}
}

/* Starts tests/ref_server.py with opts (space-separated); base URL too. */
static pid_t start_ref(const char *dir, const char *tag, const char *opts,
		       char *base, size_t n)
{
	char portf[PATH_MAX], log[PATH_MAX], *port;
	const char *argv[24] = {"python3", "tests/ref_server.py", "--port-file",
				portf};
	char buf[256], *save = NULL, *tok;
	size_t k = 4;
	pid_t pid;

	snprintf(portf, sizeof portf, "%s/%s.port", dir, tag);
	snprintf(log, sizeof log, "%s/%s.srv.log", dir, tag);
	snprintf(buf, sizeof buf, "%s", opts);
	for (tok = strtok_r(buf, " ", &save); tok && k < 22;
	     tok = strtok_r(NULL, " ", &save))
		argv[k++] = tok;
	argv[k] = NULL;
	pid = pr_spawn(argv, NULL, log, NULL);
	port = pr_read_when(portf, 20);
	ck_assert_msg(port, "ref_server.py %s did not start", opts);
	port[strspn(port, "0123456789")] = '\0';
	snprintf(base, n, "http://127.0.0.1:%s", port);
	free(port);
	return pid;
}

/* camsim run against base's /api/face with adapter; env names the base
 * for the adapter (CAMSIM_MOCK or CAMSIM_REF_URL).  extra: more
 * arguments (NULL-terminated).  Returns the exit code. */
static int run_against(const char *dir, const char *tag, const char *base,
		       const char *envname, const char *adapter,
		       const char *const extra[], double limit_s)
{
	char url[300], rep[PATH_MAX], log[PATH_MAX], env[300];
	const char *argv[64] = {pr_camsim, "run", "--server", url, "--adapter",
				adapter, "--report-dir", rep, "--quiet"};
	const char *envs[] = {env, NULL};
	size_t k = 9;

	snprintf(url, sizeof url, "%s/api/face", base);
	snprintf(rep, sizeof rep, "%s/%s", dir, tag);
	snprintf(log, sizeof log, "%s/%s.run.log", dir, tag);
	snprintf(env, sizeof env, "%s=%s", envname, base);
	for (size_t i = 0; extra && extra[i] && k < 62; i++)
		argv[k++] = extra[i];
	argv[k] = NULL;
	return pr_code(pr_wait(pr_spawn(argv, envs, log, NULL), limit_s, tag));
}

static const cJSON *scenario(const cJSON *doc, const char *name)
{
	const cJSON *sc;

	cJSON_ArrayForEach(sc, cJSON_GetObjectItem(doc, "scenarios"))
		if (!strcmp(cJSON_GetObjectItem(sc, "name")->valuestring, name))
			return sc;
	ck_abort_msg("no scenario %s in the report", name);
	return NULL;
}

static const cJSON *check(const cJSON *sc, const char *id)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItem(sc, "checks"))
		if (!strcmp(cJSON_GetObjectItem(c, "id")->valuestring, id))
			return c;
	ck_abort_msg("no check %s", id);
	return NULL;
}

static const char *status(const cJSON *c)
{
	return cJSON_GetObjectItem(c, "status")->valuestring;
}

static const char *message(const cJSON *c)
{
	return cJSON_GetObjectItem(c, "message")->valuestring;
}

static cJSON *report_of(const char *dir, const char *tag, size_t *bytes)
{
	char rep[PATH_MAX];

	snprintf(rep, sizeof rep, "%s/%s", dir, tag);
	return pr_report(rep, bytes);
}

/* ---------------------------------------------------------------- the mock as a foreign server */

static const char *const subset[] = {
	"heartbeat", "config-set-query", "facelib-modify-unknown",
	"batch-not-image", "upgrade-ok", "offline-idle-retransmit",
	"lost-config-result", "snapshot-capture", NULL};

START_TEST(the_suite_passes_against_a_separately_started_mock_through_the_example_adapters)
{
	char dir[PR_DIR], base[200];
	pid_t mock;
	cJSON *doc;
	int rc;

	pr_tmpdir(dir, "realmock");
	mock = pr_start_mock(dir, base, sizeof base);
	/* the whole suite, the HTTP adapter */
	rc = run_against(dir, "http", base, "CAMSIM_MOCK",
			 "examples/mock-adapter.json", NULL, 600);
	doc = report_of(dir, "http", NULL);
	ck_assert_msg(rc == 0, "exit %d", rc);
	all_pass(doc, "mock-adapter.json");
	ck_assert_int_ge(count_of(doc, "scenarios"), 62);
	cJSON_Delete(doc);
	/* a rerun against the same server process: new cids, same verdict */
	rc = run_against(dir, "rerun", base, "CAMSIM_MOCK",
			 "examples/mock-adapter.json", subset, 300);
	ck_assert_msg(rc == 0, "rerun: exit %d", rc);
	/* the shell-command adapter */
	rc = run_against(dir, "shell", base, "CAMSIM_MOCK",
			 "examples/shell-adapter.json", subset, 300);
	ck_assert_msg(rc == 0, "shell adapter: exit %d", rc);
	doc = report_of(dir, "shell", NULL);
	all_pass(doc, "shell-adapter.json");
	ck_assert_int_eq(count_of(doc, "scenarios"), 8);
	cJSON_Delete(doc);
	pr_stop(mock);
	pr_rmdir(dir);
}
END_TEST

/* ---------------------------------------------------------------- other legal choices */

/* name -> status of every scenario of a report */
static void same_verdicts(const cJSON *want, const cJSON *got, const char *what)
{
	const cJSON *sc;

	ck_assert_int_eq(count_of(want, "scenarios"), count_of(got, "scenarios"));
	cJSON_ArrayForEach(sc, cJSON_GetObjectItem(want, "scenarios")) {
		const char *name = cJSON_GetObjectItem(sc, "name")->valuestring;
		const cJSON *other = scenario(got, name);
		ck_assert_msg(!strcmp(status(sc), status(other)),
			      "%s: %s is %s against it but %s against the mock: %s",
			      what, name, status(other), status(sc),
			      cJSON_GetStringValue(cJSON_GetObjectItem(other,
								       "reason")));
	}
}

START_TEST(an_independent_server_making_other_legal_choices_gets_the_mocks_verdicts)
{
	static const struct {
		const char *tag, *opts;
	} servers[] = {
		/* one command per heartbeat, seqs from a server-wide counter
		 * at 1000, Expect left unanswered, HTTP/1.0, closing */
		{"a", "--one-per-reply --seq-start 1000 --no-100 --http10 --close"},
		/* packed replies, seqs per device from 1, chunked bodies,
		 * {} for nothing */
		{"b", "--seq-per-device --seq-start 1 --chunked --empty-braces"},
	};
	char dir[PR_DIR], rep[PATH_MAX], log[PATH_MAX], base[2][200];
	pid_t ref[2], run[3];
	cJSON *mock_doc;
	int rc;

	pr_tmpdir(dir, "legal");
	/* all three at once: they mostly wait */
	snprintf(rep, sizeof rep, "%s/mock", dir);
	snprintf(log, sizeof log, "%s/mock.run.log", dir);
	{
		const char *argv[] = {pr_camsim, "run", "--report-dir", rep,
				      "--quiet", NULL};
		run[2] = pr_spawn(argv, NULL, log, NULL);
	}
	for (int i = 0; i < 2; i++)
		ref[i] = start_ref(dir, servers[i].tag, servers[i].opts, base[i],
				   sizeof base[i]);
	for (int i = 0; i < 2; i++) {
		char url[300], env[300], r2[PATH_MAX], l2[PATH_MAX];
		snprintf(url, sizeof url, "%.120s/api/face", base[i]);
		snprintf(env, sizeof env, "CAMSIM_REF_URL=%.120s", base[i]);
		snprintf(r2, sizeof r2, "%s/%s", dir, servers[i].tag);
		snprintf(l2, sizeof l2, "%s/%s.run.log", dir, servers[i].tag);
		const char *argv[] = {pr_camsim, "run", "--server", url,
				      "--adapter", "tests/ref_server.adapter.json",
				      "--report-dir", r2, "--quiet", NULL};
		const char *envs[] = {env, NULL};
		run[i] = pr_spawn(argv, envs, l2, NULL);
	}
	rc = pr_code(pr_wait(run[2], 600, "the suite against the mock"));
	ck_assert_msg(rc == 0, "against the mock: exit %d", rc);
	mock_doc = report_of(dir, "mock", NULL);
	all_pass(mock_doc, "the in-process mock");
	for (int i = 0; i < 2; i++) {
		cJSON *doc;
		rc = pr_code(pr_wait(run[i], 600, servers[i].opts));
		doc = report_of(dir, servers[i].tag, NULL);
		ck_assert_msg(rc == 0, "ref_server.py %s: exit %d", servers[i].opts,
			      rc);
		all_pass(doc, servers[i].opts);
		same_verdicts(mock_doc, doc, servers[i].opts);
		if (strstr(servers[i].opts, "--no-100")) /* §4 allows it */
			ck_assert_str_eq(status(check(scenario(doc,
				"snapshot-capture"), "expect-100")), "warn");
		cJSON_Delete(doc);
		pr_stop(ref[i]);
	}
	cJSON_Delete(mock_doc);
	pr_rmdir(dir);
}
END_TEST

/* ---------------------------------------------------------------- broken servers */

START_TEST(each_broken_mode_of_the_independent_server_is_caught)
{
	static const struct {
		const char *fault, *scn, *check, *status, *text;
		int exit_code; /* 1: a MUST failed somewhere in the scenario */
	} cases[] = {
		/* a confirmed command in every later reply */
		{"resend-confirmed", "log-clear", "duplicate-delivery", "fail",
		 "confirmed by the device's message", 1},
		/* a command whose result was lost stays "sent" for ever: the
		 * document requires no retry, so a warning */
		{"never-retry", "lost-config-result", "step-05", "warn",
		 "lost (neither re-sent nor given up)", 0},
		/* 200 to snapshots that it never stores */
		{"no-store", "snapshot-capture", "records-stored", "fail",
		 "is not among the 0 records", 1},
		/* time_interval 60 in every reply: named, and the scenario's
		 * timing fails */
		{"interval", "heartbeat", "heartbeat-interval", "warn",
		 "which no step asked for", 1},
		/* 80 % written as 0.8: a warning on the reply, and the
		 * configuration read back is wrong */
		{"score-fraction", "config-set-query", "reply-should", "warn",
		 "config.face_rec.score.fraction", 1},
		/* a failed face operation reported as confirmed */
		{"facelib-optimist", "lost-facelib-reply", "step-05", "fail",
		 "the server's own state for \"del\" is confirmed", 1},
	};
	enum { N = sizeof cases / sizeof *cases };
	char dir[PR_DIR], base[N][120];
	pid_t ref[N], run[N];

	pr_tmpdir(dir, "refbroken");
	for (size_t i = 0; i < N; i++) {
		char opts[64], url[300], env[300], rep[PATH_MAX], log[PATH_MAX];
		const char *d = dir;
		snprintf(opts, sizeof opts, "--fault %s", cases[i].fault);
		ref[i] = start_ref(dir, cases[i].fault, opts, base[i],
				   sizeof base[i]);
		snprintf(url, sizeof url, "%.120s/api/face", base[i]);
		snprintf(env, sizeof env, "CAMSIM_REF_URL=%.120s", base[i]);
		snprintf(rep, sizeof rep, "%.200s/%.40s", d, cases[i].fault);
		snprintf(log, sizeof log, "%.200s/%.40s.run.log", d, cases[i].fault);
		const char *argv[] = {pr_camsim, "run", "--server", url,
				      "--adapter", "tests/ref_server.adapter.json",
				      "--report-dir", rep, "--quiet",
				      "--state-wait", "4s", cases[i].scn, NULL};
		const char *envs[] = {env, NULL};
		run[i] = pr_spawn(argv, envs, log, NULL);
	}
	for (size_t i = 0; i < N; i++) {
		int rc = pr_code(pr_wait(run[i], 300, cases[i].fault));
		cJSON *doc = report_of(dir, cases[i].fault, NULL);
		const cJSON *c = check(scenario(doc, cases[i].scn), cases[i].check);
		pr_stop(ref[i]);
		ck_assert_msg(!strcmp(status(c), cases[i].status),
			      "--fault %s: %s is %s: %s", cases[i].fault,
			      cases[i].check, status(c), message(c));
		ck_assert_msg(strstr(message(c), cases[i].text) ||
			      strstr(cJSON_PrintUnformatted(cJSON_GetObjectItem(c,
							"rules")), cases[i].text),
			      "--fault %s: %s says: %s", cases[i].fault,
			      cases[i].check, message(c));
		ck_assert_msg(rc == cases[i].exit_code, "--fault %s: exit %d",
			      cases[i].fault, rc);
		cJSON_Delete(doc);
	}
	pr_rmdir(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("realserver");
	TCase *t = tcase_create("realserver");

	tcase_set_timeout(t, 900);
	tcase_add_test(t, the_suite_passes_against_a_separately_started_mock_through_the_example_adapters);
	tcase_add_test(t, an_independent_server_making_other_legal_choices_gets_the_mocks_verdicts);
	tcase_add_test(t, each_broken_mode_of_the_independent_server_is_caught);
	suite_add_tcase(s, t);
	return s;
}

int main(int argc, char **argv)
{
	(void)argc;
	pr_find_camsim(argv[0]);
	return tu_run(suite());
}
