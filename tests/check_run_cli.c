/* check_run_cli.c -- `camsim run' as a user and a CI job meet it: a run
 * stopped by SIGTERM or by --timeout still leaves complete reports that say
 * so, and never a stale one; checkpoints while it runs; a server that is
 * down, or not HTTP, stops it within seconds (exit 2) naming the URL and
 * the error; an adapter without the actions the scenarios need is refused
 * before anything runs; choosing scenarios by name, pattern and section;
 * skips in the headline; honest verdicts (reply-time judges only what got
 * a connection); versions, event times and JUnit times. */
#include "proc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

/* ---------------------------------------------------------------- helpers */

/* camsim with args (NULL-terminated) and env; stdout into out, stderr into
 * log (both under dir).  Returns the exit code; *secs the wall time. */
static int camsim_run(const char *dir, const char *tag, const char *const args[],
		      const char *const env[], double limit_s, double *secs)
{
	char log[PATH_MAX], out[PATH_MAX];
	const char *argv[48] = {pr_camsim};
	size_t k = 1;
	double t0 = pr_now();
	int rc;

	snprintf(log, sizeof log, "%.200s/%.40s.log", dir, tag);
	snprintf(out, sizeof out, "%.200s/%.40s.out", dir, tag);
	for (size_t i = 0; args[i] && k < 46; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	rc = pr_code(pr_wait(pr_spawn(argv, env, log, out), limit_s, tag));
	if (secs)
		*secs = pr_now() - t0;
	return rc;
}

static char *slurp(const char *dir, const char *name)
{
	char p[PATH_MAX];
	char *t;

	snprintf(p, sizeof p, "%.200s/%.60s", dir, name);
	t = tu_read(p, NULL);
	ck_assert_msg(t, "%s is missing", p);
	return t;
}

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItem(o, k);
}

static const char *sget(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(get(o, k));
	return s ? s : "";
}

/* A port nobody listens on (bound, then closed). */
static int dead_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &n), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* ---------------------------------------------------------------- interruption */

START_TEST(a_run_stopped_by_sigterm_leaves_complete_reports_that_say_so)
{
	char dir[PR_DIR], rep[512], tmp[512], p[PATH_MAX], log[PATH_MAX];
	char tmpenv[PATH_MAX + 8], *t;
	cJSON *doc;
	const cJSON *sc;
	pid_t pid;
	int rc, errors = 0;
	double t0;

	pr_tmpdir(dir, "sigterm");
	snprintf(rep, sizeof rep, "%.300s/rep", dir);
	snprintf(tmp, sizeof tmp, "%.300s/tmp", dir);
	ck_assert_int_eq(mkdir(rep, 0755), 0);
	ck_assert_int_eq(mkdir(tmp, 0755), 0);
	/* an earlier run's reports, which must not survive */
	for (int i = 0; i < 3; i++) {
		static const char *const f[] = {"junit.xml", "report.json",
						"report.html"};
		FILE *fp;
		snprintf(p, sizeof p, "%s/%s", rep, f[i]);
		ck_assert_ptr_nonnull(fp = fopen(p, "w"));
		fputs("STALE-EARLIER-RUN", fp);
		fclose(fp);
	}
	snprintf(tmpenv, sizeof tmpenv, "TMPDIR=%s", tmp);
	snprintf(log, sizeof log, "%s/run.log", dir);
	{
		/* on the real clock the heartbeat scenarios take half a
		 * minute each: long enough to be stopped in the middle */
		const char *argv[] = {pr_camsim, "run", "--clock", "real",
				      "--report-dir", rep, "heartbeat",
				      "time-interval", "reboot", NULL};
		const char *env[] = {tmpenv, NULL};
		pid = pr_spawn(argv, env, log, NULL);
	}
	/* a checkpoint appears while it runs, and says it is one */
	snprintf(p, sizeof p, "%s/report.json", rep);
	t0 = pr_now();
	for (;;) {
		t = tu_read(p, NULL);
		if (t && strstr(t, "\"schema\""))
			break;
		free(t);
		ck_assert_msg(pr_now() - t0 < 20, "no checkpoint report after 20 s");
		usleep(100000);
	}
	doc = cJSON_Parse(t);
	free(t);
	ck_assert_ptr_nonnull(doc);
	ck_assert(cJSON_IsFalse(get(doc, "complete")));
	ck_assert_ptr_nonnull(strstr(sget(doc, "interrupted"), "checkpoint"));
	cJSON_Delete(doc);
	t = slurp(rep, "junit.xml");
	ck_assert_ptr_null(strstr(t, "STALE-EARLIER-RUN"));
	free(t);
	/* a CI job's timeout sends SIGTERM */
	kill(pid, SIGTERM);
	rc = pr_code(pr_wait(pid, 15, "camsim run after SIGTERM"));
	ck_assert_msg(rc == 143, "exit %d", rc);
	doc = pr_report(rep, NULL);
	ck_assert(cJSON_IsFalse(get(doc, "complete")));
	ck_assert_ptr_nonnull(strstr(sget(doc, "interrupted"), "signal"));
	ck_assert_str_eq(sget(doc, "verdict"), "fail");
	ck_assert_int_eq(cJSON_GetArraySize(get(doc, "scenarios")), 3);
	cJSON_ArrayForEach(sc, get(doc, "scenarios"))
		if (!strcmp(sget(sc, "status"), "error")) {
			errors++;
			ck_assert_ptr_nonnull(strstr(sget(sc, "reason"), "interrupted"));
		}
	ck_assert_int_ge(errors, 1);
	ck_assert_int_eq((int)cJSON_GetNumberValue(get(get(doc, "summary"),
						       "errors")), errors);
	cJSON_Delete(doc);
	/* JUnit: well-formed, the unfinished as errors; HTML says it */
	{
		char cmd[PATH_MAX * 2];
		snprintf(cmd, sizeof cmd, "python3 -c \"import xml.etree."
			 "ElementTree as E; t=E.parse('%s/junit.xml').getroot();"
			 "assert int(t.get('errors'))>=1, t.attrib;"
			 "assert t.find('.//testcase/error') is not None\"", rep);
		ck_assert_int_eq(system(cmd), 0);
	}
	t = slurp(rep, "report.html");
	ck_assert_ptr_nonnull(strstr(t, "This run did not finish"));
	ck_assert_ptr_null(strstr(t, "STALE-EARLIER-RUN"));
	free(t);
	/* the scenarios' temporary state is gone */
	snprintf(p, sizeof p, "test -z \"$(ls -A '%s')\"", tmp);
	ck_assert_msg(system(p) == 0, "%s is not empty", tmp);
	pr_rmdir(dir);
}
END_TEST

START_TEST(a_run_past_its_timeout_exits_124_with_its_reports)
{
	char dir[PR_DIR], rep[PATH_MAX];
	const char *args[] = {"run", "--clock", "real", "--timeout", "2s",
			      "--report-dir", rep, "--quiet", "heartbeat", NULL};
	cJSON *doc;
	double secs;
	int rc;

	pr_tmpdir(dir, "timeout");
	snprintf(rep, sizeof rep, "%s/rep", dir);
	rc = camsim_run(dir, "run", args, NULL, 30, &secs);
	ck_assert_msg(rc == 124, "exit %d", rc);
	ck_assert_msg(secs < 10, "took %.1f s", secs);
	doc = pr_report(rep, NULL);
	ck_assert_ptr_nonnull(strstr(sget(doc, "interrupted"), "--timeout"));
	ck_assert_str_eq(sget(cJSON_GetArrayItem(get(doc, "scenarios"), 0),
			      "status"), "error");
	ck_assert_ptr_nonnull(strstr(sget(cJSON_GetArrayItem(get(doc, "scenarios"),
							     0), "reason"),
				     "timed out"));
	cJSON_Delete(doc);
	pr_rmdir(dir);
}
END_TEST

/* ---------------------------------------------------------------- preflight */

START_TEST(a_server_that_is_down_stops_the_run_within_seconds_naming_it)
{
	char dir[PR_DIR], rep[PATH_MAX], url[100];
	const char *args[] = {"run", "--server", url, "--adapter",
			      "examples/mock-adapter.json", "--report-dir", rep,
			      NULL};
	const char *env[] = {"CAMSIM_MOCK=http://127.0.0.1:1", NULL};
	cJSON *doc;
	char *err;
	double secs;
	int rc;

	pr_tmpdir(dir, "down");
	snprintf(rep, sizeof rep, "%s/rep", dir);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/api/face", dead_port());
	rc = camsim_run(dir, "run", args, env, 60, &secs);
	ck_assert_msg(rc == 2, "exit %d", rc);
	ck_assert_msg(secs < 15, "took %.1f s", secs);
	err = slurp(dir, "run.log");
	ck_assert_msg(strstr(err, url) && (strstr(err, "refused") ||
					   strstr(err, "connect")),
		      "%s", err);
	free(err);
	/* the reports say nothing ran, and why */
	doc = pr_report(rep, NULL);
	ck_assert_str_eq(sget(doc, "verdict"), "fail");
	ck_assert_ptr_nonnull(strstr(sget(doc, "interrupted"), "preflight"));
	ck_assert_str_eq(sget(cJSON_GetArrayItem(get(doc, "scenarios"), 0),
			      "status"), "error");
	cJSON_Delete(doc);
	pr_rmdir(dir);
}
END_TEST

typedef struct garbage {
	int fd;
} garbage;

/* Answers every connection with a line that is not HTTP. */
static void *garbage_main(void *ud)
{
	garbage *g = ud;
	int c;

	while ((c = accept(g->fd, NULL, NULL)) >= 0) {
		char buf[512];
		(void)!read(c, buf, sizeof buf);
		(void)!write(c, "SSH-2.0-OpenSSH_9.2\r\n", 21);
		close(c);
	}
	return NULL;
}

START_TEST(a_server_that_does_not_speak_http_stops_the_run)
{
	char dir[PR_DIR], rep[PATH_MAX], url[100];
	const char *args[] = {"run", "--server", url, "--interactive",
			      "--report-dir", rep, "heartbeat", NULL};
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof a;
	garbage g;
	pthread_t th;
	char *err;
	int rc;

	pr_tmpdir(dir, "nothttp");
	snprintf(rep, sizeof rep, "%s/rep", dir);
	g.fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(g.fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(g.fd, 8), 0);
	ck_assert_int_eq(getsockname(g.fd, (struct sockaddr *)&a, &n), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, garbage_main, &g), 0);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/api/face",
		 ntohs(a.sin_port));
	rc = camsim_run(dir, "run", args, NULL, 60, NULL);
	ck_assert_msg(rc == 2, "exit %d", rc);
	err = slurp(dir, "run.log");
	ck_assert_msg(strstr(err, url) && strstr(err, "HTTP"), "%s", err);
	free(err);
	shutdown(g.fd, SHUT_RDWR);
	close(g.fd);
	pthread_join(th, NULL);
	pr_rmdir(dir);
}
END_TEST

START_TEST(an_adapter_without_the_needed_actions_is_refused_before_anything_runs)
{
	char dir[PR_DIR], rep[PATH_MAX], adp[PATH_MAX];
	const char *args[] = {"run", "--server", "http://127.0.0.1:1/api/face",
			      "--adapter", adp, "--report-dir", rep,
			      "config-set-query", "facelib-delete-absent",
			      "heartbeat", NULL};
	FILE *f;
	char *err;
	int rc;

	pr_tmpdir(dir, "adapter");
	snprintf(rep, sizeof rep, "%s/rep", dir);
	snprintf(adp, sizeof adp, "%s/adapter.json", dir);
	ck_assert_ptr_nonnull(f = fopen(adp, "w"));
	fputs("{\"actions\":{\"query_config\":{\"shell\":\"true\"}}}", f);
	fclose(f);
	rc = camsim_run(dir, "run", args, NULL, 30, NULL);
	ck_assert_msg(rc == 2, "exit %d", rc);
	err = slurp(dir, "run.log");
	/* every missing action named at once, with a scenario needing it */
	ck_assert_msg(strstr(err, "\"config\" (config-set-query)") &&
		      strstr(err, "\"delete\" (facelib-delete-absent)") &&
		      !strstr(err, "\"query_config\""), "%s", err);
	ck_assert_ptr_null(strstr(err, "preflight"));
	free(err);
	pr_rmdir(dir);
}
END_TEST

/* A FIFO or a directory where a file belongs is named for what it is, at
 * once: as a scenario, as an adapter, as a device's picture. */
START_TEST(what_is_not_a_file_is_refused_at_once_naming_what_it_is)
{
	char dir[PR_DIR], rep[PATH_MAX], fifo[PATH_MAX], sub[PATH_MAX],
	     scn[PATH_MAX], scn2[PATH_MAX];
	const char *a1[] = {"run", "--server", "mock", "--report-dir", rep,
			    fifo, NULL};
	const char *a2[] = {"run", "--server", "mock", "--adapter", fifo,
			    "--report-dir", rep, "heartbeat", NULL};
	const char *a3[] = {"run", "--server", "mock", "--report-dir", rep,
			    scn, scn2, NULL};
	double secs;
	char *err, *json;
	FILE *f;
	int rc;

	pr_tmpdir(dir, "notfile");
	snprintf(rep, sizeof rep, "%s/rep", dir);
	snprintf(fifo, sizeof fifo, "%s/x.fifo", dir);
	snprintf(sub, sizeof sub, "%s/adir", dir);
	snprintf(scn, sizeof scn, "%s/fifo-image.json", dir);
	snprintf(scn2, sizeof scn2, "%s/dir-image.json", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	for (int k = 0; k < 2; k++) {
		ck_assert_ptr_nonnull(f = fopen(k ? scn2 : scn, "w"));
		fprintf(f, "{\"name\": \"%s\", \"title\": \"not a file\", "
			   "\"sections\": [\"4\"], \"devices\": [{\"id\": \"dev\"}], "
			   "\"steps\": [{\"device\": \"face\", \"image\": \"%s\"}]}",
			k ? "dir-image" : "fifo-image", k ? "adir" : "x.fifo");
		fclose(f);
	}
	rc = camsim_run(dir, "scenario", a1, NULL, 20, &secs);
	err = slurp(dir, "scenario.log");
	ck_assert_msg(rc == 2 && strstr(err, "x.fifo: is a FIFO"), "exit %d: %s",
		      rc, err);
	free(err);
	rc = camsim_run(dir, "adapter", a2, NULL, 20, &secs);
	err = slurp(dir, "adapter.log");
	ck_assert_msg(rc == 2 && strstr(err, "adapter") &&
		      strstr(err, "x.fifo: is a FIFO"), "exit %d: %s", rc, err);
	free(err);
	rc = camsim_run(dir, "image", a3, NULL, 60, &secs);
	ck_assert_msg(rc == 1, "exit %d", rc);
	json = slurp(dir, "rep/report.json");
	ck_assert_msg(strstr(json, "x.fifo: is a FIFO") &&
		      strstr(json, "adir: is a directory") &&
		      !strstr(json, "No such file"), "%s", json);
	free(json);
	pr_rmdir(dir);
}
END_TEST

/* ---------------------------------------------------------------- verdicts */

START_TEST(refused_connections_fail_reply_status_and_leave_reply_time_with_nothing_to_judge)
{
	char dir[PR_DIR], rep[PATH_MAX], url[100];
	const char *args[] = {"run", "--server", url, "--no-preflight",
			      "--interactive", "--report-dir", rep, "--quiet",
			      "heartbeat", NULL};
	cJSON *doc;
	const cJSON *c, *sc;
	int rc;

	pr_tmpdir(dir, "refused");
	snprintf(rep, sizeof rep, "%s/rep", dir);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/api/face", dead_port());
	rc = camsim_run(dir, "run", args, NULL, 120, NULL);
	ck_assert_int_eq(rc, 1);
	doc = pr_report(rep, NULL);
	sc = cJSON_GetArrayItem(get(doc, "scenarios"), 0);
	cJSON_ArrayForEach(c, get(sc, "checks")) {
		const char *id = sget(c, "id");
		if (!strcmp(id, "reply-status")) {
			ck_assert_str_eq(sget(c, "status"), "fail");
			/* counts count exchanges: n of n, not more */
			ck_assert_double_eq(cJSON_GetNumberValue(get(c, "failed")),
					    cJSON_GetNumberValue(get(c, "judged")));
		}
		if (!strcmp(id, "reply-time") || !strcmp(id, "reply-valid") ||
		    !strcmp(id, "reply-latency"))
			ck_assert_msg(!strcmp(sget(c, "status"), "n/a"),
				      "%s is %s: %s", id, sget(c, "status"),
				      sget(c, "message"));
	}
	cJSON_Delete(doc);
	pr_rmdir(dir);
}
END_TEST

START_TEST(skipped_scenarios_show_in_the_headline_and_can_fail_the_run)
{
	char dir[PR_DIR], rep[PATH_MAX];
	const char *args[] = {"run", "--report-dir", rep, "snapshot-recognised",
			      "heartbeat", NULL};
	const char *strict[] = {"run", "--report-dir", rep, "--fail-on-skip",
				"snapshot-recognised", "heartbeat", NULL};
	const char *env[] = {"CAMSIM_MODELS=/nonexistent/camsim-models", NULL};
	char *out;
	cJSON *doc;
	int rc;

	pr_tmpdir(dir, "skip");
	snprintf(rep, sizeof rep, "%s/rep", dir);
	rc = camsim_run(dir, "run", args, env, 120, NULL);
	ck_assert_int_eq(rc, 0);
	out = slurp(dir, "run.out");
	ck_assert_msg(strstr(out, "PASS with 1 scenario skipped") &&
		      strstr(out, "Skipped:") && strstr(out, "make models"),
		      "%s", out);
	free(out);
	out = slurp(dir, "run.log");
	ck_assert_msg(strstr(out, "CAMSIM_MODELS"), "%s", out);
	free(out);
	rc = camsim_run(dir, "strict", strict, env, 120, NULL);
	ck_assert_int_eq(rc, 1);
	doc = pr_report(rep, NULL);
	ck_assert_str_eq(sget(doc, "verdict"), "fail");
	ck_assert(cJSON_IsTrue(get(doc, "fail_on_skip")));
	cJSON_Delete(doc);
	pr_rmdir(dir);
}
END_TEST

/* ---------------------------------------------------------------- choosing */

START_TEST(scenarios_are_chosen_by_name_pattern_section_and_exclusion)
{
	char dir[PR_DIR];
	const char *names[] = {"run", "--list", "heartbeat", "facelib-d*",
			       "--exclude", "facelib-delete-all", NULL};
	const char *section[] = {"run", "--list", "--section", "7", NULL};
	const char *unknown[] = {"run", "--list", "no-such-scenario", NULL};
	char *out;

	pr_tmpdir(dir, "choose");
	ck_assert_int_eq(camsim_run(dir, "names", names, NULL, 30, NULL), 0);
	out = slurp(dir, "names.out");
	ck_assert_msg(strstr(out, "heartbeat ") && strstr(out, "facelib-delete ") &&
		      strstr(out, "facelib-delete-absent") &&
		      !strstr(out, "facelib-delete-all") &&
		      !strstr(out, "heartbeat-fields") && !strstr(out, "batch-"),
		      "%s", out);
	free(out);
	ck_assert_int_eq(camsim_run(dir, "section", section, NULL, 30, NULL), 0);
	out = slurp(dir, "section.out");
	ck_assert_msg(strstr(out, "batch-chain") && !strstr(out, "\nheartbeat") &&
		      strncmp(out, "heartbeat", 9), "%s", out);
	free(out);
	ck_assert_int_eq(camsim_run(dir, "unknown", unknown, NULL, 30, NULL), 2);
	out = slurp(dir, "unknown.log");
	ck_assert_ptr_nonnull(strstr(out, "no-such-scenario"));
	free(out);
	pr_rmdir(dir);
}
END_TEST

/* ---------------------------------------------------------------- what reports say */

START_TEST(reports_carry_the_version_relative_event_times_and_wall_times)
{
	char dir[PR_DIR], rep[PATH_MAX];
	const char *version[] = {"--version", NULL};
	const char *args[] = {"run", "--report-dir", rep, "--color", "always",
			      "time-set", "strategy-time-zone", NULL};
	char *out, *v;
	cJSON *doc;
	const cJSON *sc, *ev;
	double virt, wall;

	pr_tmpdir(dir, "version");
	snprintf(rep, sizeof rep, "%s/rep", dir);
	ck_assert_int_eq(camsim_run(dir, "version", version, NULL, 30, NULL), 0);
	out = slurp(dir, "version.out");
	ck_assert_msg(!strncmp(out, "camsim ", 7) && strlen(out) > 9, "%s", out);
	v = out + 7;
	v[strcspn(v, "\n")] = '\0';
	ck_assert_int_eq(camsim_run(dir, "run", args, NULL, 120, NULL), 0);
	doc = pr_report(rep, NULL);
	ck_assert_str_eq(sget(doc, "version"), v);
	ck_assert_str_eq(sget(doc, "schema"), "camsim-report/2");
	free(out);
	/* time-set moves the device clock a year ahead: events still count
	 * from the scenario's start */
	cJSON_ArrayForEach(sc, get(doc, "scenarios")) {
		virt = cJSON_GetNumberValue(get(sc, "virtual_ms"));
		cJSON_ArrayForEach(ev, get(sc, "events"))
			ck_assert_msg(cJSON_GetNumberValue(get(ev, "at_ms")) >= 0 &&
				      cJSON_GetNumberValue(get(ev, "at_ms")) <=
				      virt + 1000, "%s: event at %.0f ms of %.0f",
				      sget(sc, "name"),
				      cJSON_GetNumberValue(get(ev, "at_ms")), virt);
	}
	/* JUnit times are wall time: they add up to about the run's */
	wall = cJSON_GetNumberValue(get(doc, "duration_ms")) / 1000;
	{
		char cmd[PATH_MAX * 2];
		snprintf(cmd, sizeof cmd, "python3 -c \"import xml.etree."
			 "ElementTree as E; t=E.parse('%s/junit.xml').getroot();"
			 "s=sum(float(c.get('time')) for c in t.iter('testcase'));"
			 "assert s <= 2*%f+1, s; assert t.find('.//property[@name="
			 "\\\"camsim_version\\\"]') is not None\"", rep, wall);
		ck_assert_int_eq(system(cmd), 0);
	}
	cJSON_Delete(doc);
	/* --color always colours the summary, even into a file */
	out = slurp(dir, "run.out");
	ck_assert_ptr_nonnull(strstr(out, "\033["));
	free(out);
	pr_rmdir(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("run_cli");
	TCase *t = tcase_create("run_cli");

	tcase_set_timeout(t, 300);
	tcase_add_test(t, a_run_stopped_by_sigterm_leaves_complete_reports_that_say_so);
	tcase_add_test(t, a_run_past_its_timeout_exits_124_with_its_reports);
	tcase_add_test(t, a_server_that_is_down_stops_the_run_within_seconds_naming_it);
	tcase_add_test(t, a_server_that_does_not_speak_http_stops_the_run);
	tcase_add_test(t, an_adapter_without_the_needed_actions_is_refused_before_anything_runs);
	tcase_add_test(t, what_is_not_a_file_is_refused_at_once_naming_what_it_is);
	tcase_add_test(t, refused_connections_fail_reply_status_and_leave_reply_time_with_nothing_to_judge);
	tcase_add_test(t, skipped_scenarios_show_in_the_headline_and_can_fail_the_run);
	tcase_add_test(t, scenarios_are_chosen_by_name_pattern_section_and_exclusion);
	tcase_add_test(t, reports_carry_the_version_relative_event_times_and_wall_times);
	suite_add_tcase(s, t);
	return s;
}

int main(int argc, char **argv)
{
	(void)argc;
	pr_find_camsim(argv[0]);
	return tu_run(suite());
}
