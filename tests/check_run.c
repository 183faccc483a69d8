/* check_run.c -- the conformance runner: scenario files refused with
 * errors that name file, step and member (fixtures/run/bad), the subset
 * matcher, scenarios against the in-process mock on the jump clock, the
 * adapter's quoting, and a deliberately broken server (tests/
 * broken_server.py, one fault per mode) caught by the matching check in
 * every case, with JUnit XML that Python's XML parser accepts. */
#include "proc.h"

#include "adapter.h"
#include "runner.h"
#include "scenario.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


/* ---------------------------------------------------------------- loading */

START_TEST(bad_scenarios_are_refused_naming_file_step_and_member)
{
	tu_list l = tu_ls("fixtures/run/bad", ".json");

	ck_assert_uint_ge(l.n, 10);
	for (size_t i = 0; i < l.n; i++) {
		char errp[PATH_MAX], e[1024], *want;
		scenario *s = NULL;
		int rc;
		snprintf(errp, sizeof errp, "%.*s.err",
			 (int)(strlen(l.path[i]) - 5), l.path[i]);
		want = tu_read(errp, NULL);
		ck_assert_msg(want, "%s is missing", errp);
		want[strcspn(want, "\n")] = '\0';
		rc = scn_load(l.path[i], &s, e, sizeof e);
		ck_assert_msg(rc < 0 && !s, "%s was accepted", l.path[i]);
		ck_assert_msg(strstr(e, want), "%s: error \"%s\" lacks \"%s\"",
			      l.path[i], e, want);
		ck_assert_msg(strstr(e, strrchr(l.path[i], '/') + 1),
			      "%s: error does not name the file: %s", l.path[i], e);
		free(want);
	}
	tu_ls_free(&l);
}
END_TEST

START_TEST(suite_scenarios_all_load)
{
	tu_list l = tu_ls("scenarios", ".json");

	ck_assert_uint_ge(l.n, 1);
	for (size_t i = 0; i < l.n; i++) {
		char e[1024];
		scenario *s = NULL;
		ck_assert_msg(scn_load(l.path[i], &s, e, sizeof e) == 0, "%s", e);
		scn_free(s);
	}
	tu_ls_free(&l);
}
END_TEST

/* docs/scenario.schema.json says what scenario.c accepts: every file of
 * the suite follows it (Python's jsonschema, Debian's python3-jsonschema),
 * and a file scenario.c refuses breaks it too. */
START_TEST(suite_scenarios_follow_the_json_schema)
{
	int rc = system(
		"python3 -c \"import json, glob, sys, jsonschema\n"
		"v = jsonschema.Draft202012Validator(json.load(open("
		"'docs/scenario.schema.json')))\n"
		"files = sorted(glob.glob('scenarios/*.json'))\n"
		"assert len(files) >= 60, files\n"
		"bad = [(f, e.message) for f in files for e in "
		"v.iter_errors(json.load(open(f)))]\n"
		"assert not bad, bad[:3]\n"
		"for f in ['fixtures/run/bad/unknown-member.json', "
		"'fixtures/run/bad/bad-operator.json']:\n"
		"    assert list(v.iter_errors(json.load(open(f)))), f\n"
		"\"");

	ck_assert_int_eq(rc, 0);
}
END_TEST

/* ---------------------------------------------------------------- matcher */

static const struct {
	const char *pattern, *value;
	bool match;
} match_cases[] = {
	{"{\"type\":3}", "{\"type\":3,\"cid\":\"a\"}", true},
	{"{\"type\":3}", "{\"type\":3.0}", true},
	{"{\"type\":4}", "{\"type\":3}", false},
	{"{\"a\":{\"b\":1}}", "{\"a\":{\"b\":1,\"c\":2}}", true},
	{"{\"a\":{\"b\":1}}", "{\"a\":{\"c\":2}}", false},
	{"{\"a\":[1,2]}", "{\"a\":[1,2]}", true},
	{"{\"a\":[1,2]}", "{\"a\":[1,2,3]}", false},
	{"{\"a\":{\"$exists\":false}}", "{\"b\":1}", true},
	{"{\"a\":{\"$exists\":true}}", "{\"b\":1}", false},
	{"{\"a\":{\"$gt\":5,\"$lte\":7}}", "{\"a\":7}", true},
	{"{\"a\":{\"$gt\":5}}", "{\"a\":5}", false},
	{"{\"a\":{\"$ne\":5}}", "{\"a\":6}", true},
	{"{\"a\":{\"$contains\":\"lo\"}}", "{\"a\":\"hello\"}", true},
	{"{\"a\":{\"$len\":2}}", "{\"a\":[0,0]}", true},
	{"{\"a\":{\"$len\":2}}", "{\"a\":\"abc\"}", false},
	{"{\"a\":{\"$in\":[1,2]}}", "{\"a\":2}", true},
	{"{\"a\":{\"$in\":[1,2]}}", "{\"a\":3}", false},
	{"{\"a\":{\"$some\":{\"id\":\"x\"}}}", "{\"a\":[{\"id\":\"y\"},{\"id\":\"x\"}]}", true},
	{"{\"a\":{\"$some\":{\"id\":\"z\"}}}", "{\"a\":[{\"id\":\"y\"}]}", false},
	{"{\"a\":{\"$bogus\":1}}", "{\"a\":1}", false},
};

START_TEST(match_is_a_subset_with_operators)
{
	for (size_t i = 0; i < sizeof match_cases / sizeof *match_cases; i++) {
		cJSON *p = cJSON_Parse(match_cases[i].pattern);
		cJSON *v = cJSON_Parse(match_cases[i].value);
		char why[300];
		ck_assert_ptr_nonnull(p);
		ck_assert_ptr_nonnull(v);
		ck_assert_msg(scn_match(p, v, why, sizeof why) == match_cases[i].match,
			      "case %zu: %s vs %s: %s", i, match_cases[i].pattern,
			      match_cases[i].value, why);
		if (!match_cases[i].match)
			ck_assert_msg(why[0] == '$', "case %zu: why \"%s\" names no "
				      "path", i, why);
		cJSON_Delete(p);
		cJSON_Delete(v);
	}
}
END_TEST

/* ---------------------------------------------------------------- the mock */

static cJSON *run_text(const char *text, const char *server)
{
	run_opts o = {.server = server, .prof = &proto_profile_strict,
		      .jobs = 2, .slow_ms = 1000};
	scenario *s = NULL;
	cJSON *doc = NULL;
	char e[1024];

	ck_assert_msg(scn_parse(text, strlen(text), "scenarios/inline.json", &s,
				e, sizeof e) == 0, "%s", e);
	ck_assert_int_eq(run_all(&o, &s, 1, &doc, e, sizeof e), 0);
	scn_free(s);
	return doc;
}

static const cJSON *check_of(const cJSON *doc, const char *id)
{
	const cJSON *sc = cJSON_GetArrayItem(
		cJSON_GetObjectItem(doc, "scenarios"), 0), *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItem(sc, "checks"))
		if (!strcmp(cJSON_GetObjectItem(c, "id")->valuestring, id))
			return c;
	ck_abort_msg("no check %s", id);
	return NULL;
}

static const char *status_of(const cJSON *doc, const char *id)
{
	return cJSON_GetObjectItem(check_of(doc, id), "status")->valuestring;
}

START_TEST(heartbeat_scenario_passes_against_the_mock_on_the_jump_clock)
{
	char *text = tu_read("scenarios/heartbeat.json", NULL);
	cJSON *doc, *sc;

	ck_assert_ptr_nonnull(text);
	doc = run_text(text, "mock");
	sc = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "scenarios"), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(doc, "verdict")->valuestring, "pass");
	ck_assert_str_eq(cJSON_GetObjectItem(sc, "status")->valuestring, "pass");
	/* the 30 s "none" step passed in virtual time */
	ck_assert_double_ge(cJSON_GetObjectItem(sc, "virtual_ms")->valuedouble,
			    30000);
	ck_assert_int_ge(cJSON_GetArraySize(cJSON_GetObjectItem(sc, "exchanges")),
			 10);
	ck_assert_str_eq(status_of(doc, "reply-valid"), "pass");
	ck_assert_str_eq(status_of(doc, "reply-status"), "pass");
	cJSON_Delete(doc);
	free(text);
}
END_TEST

START_TEST(an_expectation_not_met_fails_with_its_window_and_nearest_miss)
{
	static const char text[] =
		"{\"name\":\"x\",\"title\":\"t\",\"sections\":[\"13\"],\"steps\":["
		"{\"expect\":\"message\",\"from\":\"device\",\"kind\":\"heartbeat\","
		" \"match\":{\"type\":4},\"within\":7}]}";
	cJSON *doc = run_text(text, "mock");
	const cJSON *c = check_of(doc, "step-01");

	ck_assert_str_eq(cJSON_GetObjectItem(doc, "verdict")->valuestring, "fail");
	ck_assert_str_eq(cJSON_GetObjectItem(c, "status")->valuestring, "fail");
	ck_assert_msg(strstr(cJSON_GetObjectItem(c, "message")->valuestring,
			     "not seen within 7 s") &&
		      strstr(cJSON_GetObjectItem(c, "message")->valuestring,
			     "$.type: expected 4, found 3"),
		      "%s", cJSON_GetObjectItem(c, "message")->valuestring);
	cJSON_Delete(doc);
}
END_TEST

START_TEST(a_negative_expectation_fails_at_the_first_match)
{
	static const char text[] =
		"{\"name\":\"x\",\"title\":\"t\",\"sections\":[\"2\"],\"steps\":["
		"{\"expect\":\"message\",\"from\":\"device\",\"kind\":\"heartbeat\","
		" \"none\":true,\"for\":20}]}";
	cJSON *doc = run_text(text, "mock");
	const cJSON *c = check_of(doc, "step-01");
	const cJSON *sc = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "scenarios"), 0);

	ck_assert_str_eq(cJSON_GetObjectItem(c, "status")->valuestring, "fail");
	ck_assert_int_ge(cJSON_GetArraySize(cJSON_GetObjectItem(c, "exchanges")), 1);
	/* it stopped at the first heartbeat, not after 20 s */
	ck_assert_double_lt(cJSON_GetObjectItem(sc, "virtual_ms")->valuedouble,
			    20000);
	cJSON_Delete(doc);
}
END_TEST

/* A face (capture only) after a config, a snapshot, then "no relay":
 * the last step fails, since the face pulsed the relay. */
static const char relay_scenario[] =
	"{\"name\":\"x\",\"title\":\"t\",\"sections\":[\"9\"],\"steps\":["
	"{\"operator\":\"config\",\"ref\":\"c\",\"at\":1,"
	" \"config\":{\"face_rec\":{\"enable\":0}}},"
	"{\"expect\":\"outcome\",\"ref\":\"c\",\"state\":\"confirmed\",\"within\":10},"
	"{\"device\":\"face\",\"image\":\"../fixtures/images/frame_640x480.png\","
	" \"temperature\":36.5},"
	"{\"expect\":\"message\",\"from\":\"device\",\"kind\":\"snapshot\",\"within\":2},"
	"{\"expect\":\"relay\",\"state\":\"on\",\"none\":true,\"for\":1}]}";

/* A relay pulse the face step itself caused comes before the expectations
 * written after it start; a "no relay" among them must still see it. */
START_TEST(a_negative_relay_expectation_covers_its_action)
{
	cJSON *doc = run_text(relay_scenario, "mock");

	ck_assert_str_eq(status_of(doc, "step-04"), "pass");
	ck_assert_str_eq(status_of(doc, "step-05"), "fail");
	cJSON_Delete(doc);
}
END_TEST

/* What camsim demo --scenario watches: every step as it starts, in order,
 * and the same events and exchanges the run document lists, plus the
 * face pass. */
typedef struct watched {
	size_t steps[16], n_steps, n_events, n_exchanges, n_passes;
	int pass_w;
} watched;

static void w_step(void *ud, const scenario *s, const scn_step *st)
{
	watched *w = ud;

	ck_assert_ptr_eq(st, &s->steps[st->index]);
	if (w->n_steps < 16)
		w->steps[w->n_steps] = st->index;
	w->n_steps++;
}

static void w_event(void *ud, dev *d, const dev_event *ev)
{
	(void)d, (void)ev;
	((watched *)ud)->n_events++;
}

static void w_exchange(void *ud, dev *d, const dev_exchange *x)
{
	(void)d, (void)x;
	((watched *)ud)->n_exchanges++;
}

static void w_pass(void *ud, dev *d, const dev_pass *p)
{
	(void)d;
	((watched *)ud)->n_passes++;
	((watched *)ud)->pass_w = p->frame_w;
}

START_TEST(an_observer_sees_each_step_start_and_every_event_exchange_and_pass)
{
	watched w = {0};
	run_observer obs = {w_step, w_event, w_exchange, w_pass, &w};
	run_opts o = {.server = "mock", .prof = &proto_profile_strict,
		      .jobs = 1, .slow_ms = 1000, .observe = &obs};
	scenario *s = NULL;
	cJSON *doc = NULL, *sc;
	char e[1024];

	ck_assert_msg(scn_parse(relay_scenario, strlen(relay_scenario),
				"scenarios/inline.json", &s, e, sizeof e) == 0,
		      "%s", e);
	ck_assert_int_eq(run_all(&o, &s, 1, &doc, e, sizeof e), 0);
	sc = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "scenarios"), 0);
	ck_assert_uint_eq(w.n_steps, 5);
	for (size_t i = 0; i < 5; i++)
		ck_assert_uint_eq(w.steps[i], i);
	ck_assert_uint_eq(w.n_exchanges, (size_t)cJSON_GetArraySize(
		cJSON_GetObjectItem(sc, "exchanges")));
	ck_assert_uint_eq(w.n_events, (size_t)cJSON_GetArraySize(
		cJSON_GetObjectItem(sc, "events")));
	ck_assert_uint_gt(w.n_events, 0);
	ck_assert_uint_eq(w.n_passes, 1);
	ck_assert_int_eq(w.pass_w, 640);
	cJSON_Delete(doc);
	scn_free(s);
}
END_TEST

START_TEST(recognition_scenarios_are_skipped_without_models)
{
	static const char text[] =
		"{\"name\":\"x\",\"title\":\"t\",\"sections\":[\"4\"],"
		"\"requires\":[\"recognition\"],\"steps\":[{\"wait\":1}]}";
	char *saved = getenv("CAMSIM_MODELS") ? strdup(getenv("CAMSIM_MODELS")) : NULL;
	setenv("CAMSIM_MODELS", "/nonexistent/camsim-models", 1);
	cJSON *doc = run_text(text, "mock");
	if (saved)
		setenv("CAMSIM_MODELS", saved, 1);
	else
		unsetenv("CAMSIM_MODELS");
	free(saved);
	const cJSON *sc = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "scenarios"), 0);

	ck_assert_str_eq(cJSON_GetObjectItem(sc, "status")->valuestring, "skip");
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(sc, "reason")->valuestring,
				     "recognition"));
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(sc, "reason")->valuestring,
				     "make models"));
	ck_assert_double_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "summary"),
						"skipped")->valuedouble, 1);
	cJSON_Delete(doc);
}
END_TEST

/* The real core end to end: an enrolled photo, a different photo of the
 * same person at the camera, a recognised snapshot (the scenario's own
 * expectations).  Under valgrind the models are out of reach (run.sh). */
START_TEST(recognised_person_scenario_passes_with_the_core)
{
	char *text = tu_read("scenarios/snapshot-recognised.json", NULL);
	cJSON *doc;
	const cJSON *sc;

	ck_assert_ptr_nonnull(text);
	doc = run_text(text, "mock");
	sc = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "scenarios"), 0);
	if (getenv("VALGRIND"))
		ck_assert_str_eq(cJSON_GetObjectItem(sc, "status")->valuestring, "skip");
	else
		ck_assert_msg(!strcmp(cJSON_GetObjectItem(sc, "status")->valuestring,
				      "pass"), "%s", cJSON_Print(sc));
	cJSON_Delete(doc);
	free(text);
}
END_TEST

/* ---------------------------------------------------------------- adapter */

START_TEST(adapter_quotes_values_for_the_shell)
{
	char dir[] = "/tmp/camsim-adp-XXXXXX", path[PATH_MAX], out[PATH_MAX];
	char e[600], *got;
	adp_result res;
	adapter *a = NULL;
	cJSON *p = cJSON_CreateObject();
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/adapter.json", dir);
	snprintf(out, sizeof out, "%s/out", dir);
	f = fopen(path, "w");
	fprintf(f, "{\"actions\":{\"enroll\":{\"shell\":\"printf %%s {name} > "
		   "%s\"},\"delete\":{\"shell\":\"echo {nope}\"}}}", out);
	fclose(f);
	ck_assert_int_eq(adp_load(path, &a, e, sizeof e), 0);
	cJSON_AddStringToObject(p, "name", "O'Brien; touch /tmp/pwned $(id)");
	ck_assert_msg(adp_run(a, false, "enroll", p, NULL, &res, e, sizeof e) == 0,
		      "%s", e);
	adp_result_free(&res);
	got = tu_read(out, NULL);
	ck_assert_str_eq(got, "O'Brien; touch /tmp/pwned $(id)");
	free(got);
	/* a placeholder the step lacks fails instead of running */
	ck_assert_int_eq(adp_run(a, false, "delete", p, NULL, &res, e, sizeof e),
			 CONF_EADAPTER);
	ck_assert_ptr_nonnull(strstr(e, "{nope}"));
	adp_result_free(&res);
	/* no entry, not interactive: a clear failure */
	ck_assert_int_eq(adp_run(a, false, "reboot", p, NULL, &res, e, sizeof e),
			 CONF_EADAPTER);
	ck_assert_ptr_nonnull(strstr(e, "\"reboot\""));
	adp_result_free(&res);
	adp_free(a);
	cJSON_Delete(p);
	remove(out);
	remove(path);
	rmdir(dir);
}
END_TEST

/* Whatever quoting the author put around a placeholder, the value arrives
 * as it is and nothing in it runs: each template prints the value between
 * markers into a file, and a value that tried to run a command would
 * create the witness file. */
static const struct {
	const char *tpl;  /* {name} is the value; > OUT is appended */
	const char *want; /* what printf %s... wrote, V the value */
} shell_quoting[] = {
	{"printf '<%s>' {name}", "<V>"},
	{"printf '<%s>' \"{name}\"", "<V>"},
	{"printf '<%s>' '{name}'", "<V>"},
	{"printf '<%s>' \"x {name} y\"", "<x V y>"},
	{"printf '<%s>' 'x {name} y'", "<x V y>"},
	{"printf '<%s>' x{name}y", "<xVy>"},
	{"printf '<%s>' \"\\\"{name}\\\"\"", "<\"V\">"},
	{"printf '<%s>' \"a'b{name}\"", "<a'bV>"},
	{"printf '<%s|%s>' {name} \"{name}\"", "<V|V>"},
};

START_TEST(adapter_values_never_become_shell_syntax)
{
	static const char *const values[] = {
		"$(touch WITNESS)", "`touch WITNESS`", "\"; touch WITNESS; \"",
		"'; touch WITNESS; '", "a b\\c\n$HOME *", "${IFS}$((1+1))",
	};
	char dir[] = "/tmp/camsim-adpq-XXXXXX", path[PATH_MAX], out[PATH_MAX];
	char witness[PATH_MAX], e[600];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/adapter.json", dir);
	snprintf(out, sizeof out, "%s/out", dir);
	snprintf(witness, sizeof witness, "%s/WITNESS", dir);
	for (size_t t = 0; t < sizeof shell_quoting / sizeof *shell_quoting; t++)
		for (size_t v = 0; v < sizeof values / sizeof *values; v++) {
			char want[512], *got, *val;
			const char *w = shell_quoting[t].want;
			adp_result res;
			adapter *a = NULL;
			cJSON *act = cJSON_CreateObject(), *doc, *p;
			size_t n = 0;
			FILE *f;

			/* the value runs in dir, so WITNESS would land there */
			val = malloc(strlen(values[v]) + 1);
			strcpy(val, values[v]);
			for (; *w && n + strlen(val) < sizeof want - 1; w++)
				if (*w == 'V') {
					strcpy(want + n, val);
					n += strlen(val);
				} else {
					want[n++] = *w;
				}
			want[n] = '\0';
			{
				char cmd[PATH_MAX * 2 + 200];
				snprintf(cmd, sizeof cmd, "cd %s && %s > %s", dir,
					 shell_quoting[t].tpl, out);
				cJSON_AddItemToObject(act, "enroll",
						      cJSON_CreateObject());
				cJSON_AddStringToObject(
				    cJSON_GetObjectItem(act, "enroll"), "shell", cmd);
			}
			doc = cJSON_CreateObject();
			cJSON_AddItemToObject(doc, "actions", act);
			f = fopen(path, "w");
			got = cJSON_Print(doc);
			fputs(got, f);
			fclose(f);
			free(got);
			cJSON_Delete(doc);
			ck_assert_int_eq(adp_load(path, &a, e, sizeof e), 0);
			p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "name", val);
			ck_assert_msg(adp_run(a, false, "enroll", p, NULL, &res, e,
					      sizeof e) == 0,
				      "template %s: %s", shell_quoting[t].tpl, e);
			adp_result_free(&res);
			got = tu_read(out, NULL);
			ck_assert_msg(got && !strcmp(got, want),
				      "template %s, value %s: printed [%s], "
				      "expected [%s]", shell_quoting[t].tpl,
				      values[v], got ? got : "(nothing)", want);
			ck_assert_msg(access(witness, F_OK) != 0,
				      "template %s, value %s ran a command",
				      shell_quoting[t].tpl, values[v]);
			free(got);
			free(val);
			cJSON_Delete(p);
			adp_free(a);
		}
	remove(out);
	remove(path);
	rmdir(dir);
}
END_TEST

/* ---------------------------------------------------------------- the broken server */

static const struct {
	const char *mode, *scenario, *check, *status, *rule;
	int exit_code;
} faults[] = {
	{"good", "double", NULL, NULL, NULL, 0},
	/* a confirmed command in every reply: the request loop, named once,
	 * the scenario stopped, the report small */
	{"loop", "double", "duplicate-delivery", "fail", NULL, 1},
	/* 100 Continue, then nothing: an answer that never came is a
	 * reply-time failure, not a status */
	{"100-then-close", "double", "reply-time", "fail", NULL, 1},
	{"status-500", "double", "reply-status", "fail", NULL, 1},
	{"invalid-json", "double", "reply-valid", "fail", "json", 1},
	/* what the server put in a value is quoted, never played on the
	 * terminal (every mode's output is checked for raw controls) */
	{"control-chars", "double", "reply-valid", "fail", NULL, 1},
	{"person-ids-over-20", "double", "reply-valid", "fail",
	 "facelib_delete.person_ids.max_items", 1},
	{"strategies-over-16", "double", "reply-valid", "fail",
	 "strategy_delivery.strategyList.max_items", 1},
	/* §4 lets a server leave Expect unanswered: a warning */
	{"no-100", "double", "expect-100", "warn", NULL, 0},
	{"slow", "double-slow", "reply-time", "fail", NULL, 1},
	{"seq-reused", "double", "seq-hazard", "warn", NULL, 0},
};
#define N_FAULTS (sizeof faults / sizeof *faults)

START_TEST(each_broken_server_is_caught_by_its_check)
{
	char dir[] = "/tmp/camsim-broken-XXXXXX";
	pid_t srv[N_FAULTS], run[N_FAULTS];
	char portf[N_FAULTS][PATH_MAX];
	int status;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* every double and every run at once: they mostly wait on the clock */
	for (size_t i = 0; i < N_FAULTS; i++) {
		char log[PATH_MAX];
		snprintf(portf[i], sizeof portf[i], "%s/%s.port", dir, faults[i].mode);
		snprintf(log, sizeof log, "%s/%s.srv.log", dir, faults[i].mode);
		const char *argv[] = {"python3", "tests/broken_server.py", "--mode",
				      faults[i].mode, "--port-file", portf[i], NULL};
		srv[i] = pr_spawn(argv, NULL, log, NULL);
		ck_assert_int_gt(srv[i], 0);
	}
	for (size_t i = 0; i < N_FAULTS; i++) {
		char *port = NULL, url[128], adp[PATH_MAX], rep[PATH_MAX],
		     scn[PATH_MAX], log[PATH_MAX];
		FILE *f;
		for (int k = 0; k < 500 && !(port = tu_read(portf[i], NULL)); k++)
			usleep(20000);
		ck_assert_msg(port, "broken_server.py --mode %s did not start",
			      faults[i].mode);
		snprintf(url, sizeof url, "http://127.0.0.1:%s/api/face", port);
		snprintf(adp, sizeof adp, "%s/%s.adapter.json", dir, faults[i].mode);
		f = fopen(adp, "w");
		fprintf(f, "{\"actions\":{\"raw\":{\"http\":{\"method\":\"POST\","
			   "\"url\":\"http://127.0.0.1:%s/admin/queue\","
			   "\"body\":\"{reply}\"}}}}", port);
		fclose(f);
		free(port);
		snprintf(rep, sizeof rep, "%s/%s", dir, faults[i].mode);
		snprintf(scn, sizeof scn, "fixtures/run/%s.json", faults[i].scenario);
		snprintf(log, sizeof log, "%s/%s.run.log", dir, faults[i].mode);
		const char *argv[] = {pr_camsim, "run", "--server", url, "--adapter",
				      adp, "--report-dir", rep, "--quiet", scn,
				      NULL};
		run[i] = pr_spawn(argv, NULL, log, NULL);
		ck_assert_int_gt(run[i], 0);
	}
	for (size_t i = 0; i < N_FAULTS; i++) {
		char path[PATH_MAX], *text, *log;
		cJSON *doc;
		waitpid(run[i], &status, 0);
		kill(srv[i], SIGTERM);
		waitpid(srv[i], NULL, 0);
		snprintf(path, sizeof path, "%s/%s.run.log", dir, faults[i].mode);
		log = tu_read(path, NULL);
		ck_assert_msg(WIFEXITED(status) &&
			      WEXITSTATUS(status) == faults[i].exit_code,
			      "mode %s: exit %d, expected %d: %s", faults[i].mode,
			      WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			      faults[i].exit_code, log ? log : "");
		ck_assert_msg(!strpbrk(log ? log : "", "\x1b\x07"),
			      "mode %s: a raw control character reached the "
			      "terminal: %s", faults[i].mode, log);
		free(log);
		snprintf(path, sizeof path, "%s/%s/report.json", dir, faults[i].mode);
		size_t len = 0;
		text = tu_read(path, &len);
		ck_assert_msg(text, "mode %s: no report.json", faults[i].mode);
		ck_assert_msg(len < (1u << 20), "mode %s: report.json has %zu bytes",
			      faults[i].mode, len);
		doc = cJSON_Parse(text);
		ck_assert_ptr_nonnull(doc);
		if (!faults[i].check) {
			/* the control case: every check holds, or had
			 * nothing to judge and says why */
			const cJSON *sc = cJSON_GetArrayItem(
				cJSON_GetObjectItem(doc, "scenarios"), 0), *c;
			cJSON_ArrayForEach(c, cJSON_GetObjectItem(sc, "checks"))
				ck_assert_msg(!strcmp(cJSON_GetObjectItem(c, "status")
							      ->valuestring, "pass") ||
					      (!strcmp(cJSON_GetObjectItem(c, "status")
							       ->valuestring, "n/a") &&
					       strstr(cJSON_GetObjectItem(c, "message")
							      ->valuestring, "not applicable: ")),
					      "good server: %s is %s: %s",
					      cJSON_GetObjectItem(c, "id")->valuestring,
					      cJSON_GetObjectItem(c, "status")->valuestring,
					      cJSON_GetObjectItem(c, "message")->valuestring);
		} else {
			const cJSON *c = check_of(doc, faults[i].check), *r;
			bool found = !faults[i].rule;
			ck_assert_msg(!strcmp(cJSON_GetObjectItem(c, "status")->valuestring,
					      faults[i].status),
				      "mode %s: %s is %s: %s", faults[i].mode,
				      faults[i].check,
				      cJSON_GetObjectItem(c, "status")->valuestring,
				      cJSON_GetObjectItem(c, "message")->valuestring);
			ck_assert_int_ge(cJSON_GetArraySize(
						 cJSON_GetObjectItem(c, "exchanges")), 1);
			cJSON_ArrayForEach(r, cJSON_GetObjectItem(c, "rules"))
				found |= faults[i].rule &&
					 !strcmp(r->valuestring, faults[i].rule);
			if (!strcmp(faults[i].mode, "loop"))
				ck_assert_msg(strstr(cJSON_GetObjectItem(c, "message")
						     ->valuestring, "request loop"),
					      "loop: %s", cJSON_GetObjectItem(c,
						"message")->valuestring);
			ck_assert_msg(found, "mode %s: rule %s not named",
				      faults[i].mode, faults[i].rule);
		}
		cJSON_Delete(doc);
		free(text);
	}
	/* the JUnit XML of a failing run is accepted by a standard consumer
	 * and counts what report.json counts */
	{
		char cmd[PATH_MAX * 2];
		snprintf(cmd, sizeof cmd,
			 "python3 -c \"import json,sys,xml.etree.ElementTree as E\n"
			 "for m in ('good','status-500','seq-reused'):\n"
			 "  t=E.parse('%s/'+m+'/junit.xml').getroot()\n"
			 "  d=json.load(open('%s/'+m+'/report.json'))\n"
			 "  s=d['summary']\n"
			 "  assert t.tag=='testsuites', t.tag\n"
			 "  n=len(t.findall('.//testcase'))\n"
			 "  f=len(t.findall('.//testcase/failure'))\n"
			 "  assert n==s['checks'], (m,n,s)\n"
			 "  assert f==s['checks_failed'], (m,f,s)\n"
			 "  assert int(t.get('tests'))==n and int(t.get('failures'))==f\n"
			 "\"", dir, dir);
		ck_assert_int_eq(system(cmd), 0);
	}
	{
		char cmd[PATH_MAX + 16];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		ck_assert_int_eq(system(cmd), 0);
	}
}
END_TEST

START_TEST(fail_on_warning_turns_a_seq_hazard_into_a_failure)
{
	static const char text[] =
		"{\"name\":\"x\",\"title\":\"t\",\"sections\":[\"4\"],\"steps\":["
		"{\"operator\":\"raw\",\"reply\":{\"facelib_manage\":{\"type\":5,"
		"\"seq\":9}}},"
		"{\"expect\":\"message\",\"from\":\"device\",\"kind\":\"face_list\"},"
		"{\"operator\":\"raw\",\"reply\":{\"config\":{\"opType\":1,"
		"\"seq\":9}}},"
		"{\"expect\":\"message\",\"from\":\"device\",\"kind\":\"config_report\"}"
		"]}";
	run_opts o = {.server = "mock", .prof = &proto_profile_strict,
		      .jobs = 1, .slow_ms = 1000, .fail_on_warning = true};
	scenario *s = NULL;
	cJSON *doc = NULL;
	char e[1024];

	ck_assert_int_eq(scn_parse(text, strlen(text), "inline.json", &s, e,
				   sizeof e), 0);
	ck_assert_int_eq(run_all(&o, &s, 1, &doc, e, sizeof e), 0);
	ck_assert_msg(!strcmp(status_of(doc, "seq-hazard"), "warn"), "%s",
		      cJSON_GetObjectItem(check_of(doc, "seq-hazard"), "message")
			      ->valuestring);
	ck_assert_str_eq(cJSON_GetObjectItem(doc, "verdict")->valuestring, "fail");
	cJSON_Delete(doc);
	scn_free(s);
}
END_TEST

/* The seq-hazard check remembers every seq a device was sent, not only the
 * first 64: 70 config reads with seqs 1..70, then a different command
 * with seq 70 is a hazard. */
START_TEST(seq_hazard_sees_a_seq_reused_after_the_first_64)
{
	enum { N = 70 };
	static const char step[] =
		"{\"operator\":\"raw\",\"reply\":{\"config\":{\"opType\":1,"
		"\"seq\":%d}}},"
		"{\"expect\":\"message\",\"from\":\"device\","
		"\"kind\":\"config_report\"},";
	char *text = malloc(N * sizeof step + 512), want[80];
	size_t len;
	const char *msg;
	cJSON *doc;

	ck_assert_ptr_nonnull(text);
	len = (size_t)sprintf(text, "{\"name\":\"x\",\"title\":\"t\","
			      "\"sections\":[\"4\"],\"steps\":[");
	for (int i = 1; i <= N; i++)
		len += (size_t)sprintf(text + len, step, i);
	sprintf(text + len, "{\"operator\":\"raw\",\"reply\":{\"facelib_manage\":"
		"{\"type\":5,\"seq\":%d}}},{\"expect\":\"message\",\"from\":"
		"\"device\",\"kind\":\"face_list\"}]}", N);
	doc = run_text(text, "mock");
	msg = cJSON_GetObjectItem(check_of(doc, "seq-hazard"), "message")
		      ->valuestring;
	snprintf(want, sizeof want, "facelib_manage.seq %d was already used", N);
	ck_assert_msg(!strcmp(status_of(doc, "seq-hazard"), "warn") &&
		      strstr(msg, want), "seq-hazard: %s: %s",
		      status_of(doc, "seq-hazard"), msg);
	cJSON_Delete(doc);
	free(text);
}
END_TEST

/* The heartbeat send times the seq-hazard check compares facelib seqs with
 * are all of them, not a ring of 32: 50 heartbeats later, a facelib_manage
 * whose seq is the first heartbeat's send time (the device clock starts
 * at 1800000000 and the first heartbeat goes at once) is a hazard. */
START_TEST(seq_hazard_remembers_every_heartbeat_send_time)
{
	static const char text[] =
		"{\"name\":\"x\",\"title\":\"t\",\"sections\":[\"4\"],"
		"\"devices\":[{\"id\":\"dev\",\"interval\":3,"
		"\"clock\":1800000000}],\"steps\":["
		"{\"wait\":150},"
		"{\"operator\":\"raw\",\"reply\":{\"facelib_manage\":{\"type\":5,"
		"\"seq\":1800000000}}},"
		"{\"expect\":\"message\",\"from\":\"device\",\"kind\":\"face_list\"}"
		"]}";
	cJSON *doc = run_text(text, "mock");
	const char *msg = cJSON_GetObjectItem(check_of(doc, "seq-hazard"),
					      "message")->valuestring;

	ck_assert_msg(!strcmp(status_of(doc, "seq-hazard"), "warn") &&
		      strstr(msg, "facelib_manage.seq 1800000000 equals a "
			     "heartbeat send time"), "seq-hazard: %s: %s",
		      status_of(doc, "seq-hazard"), msg);
	cJSON_Delete(doc);
}
END_TEST

START_TEST(allow_rules_show_a_provoked_violation_without_counting_it)
{
	static const char head[] =
		"{\"name\":\"x\",\"title\":\"t\",\"sections\":[\"9\"],";
	static const char steps[] =
		"\"steps\":[{\"operator\":\"config\",\"unchecked\":true,"
		"\"config\":{\"face_rec\":{\"score\":200}}},"
		"{\"expect\":\"message\",\"from\":\"device\","
		"\"kind\":\"config_result\",\"match\":{\"config\":"
		"{\"errcode\":1}},\"within\":8}]}";
	char text[1024];
	cJSON *doc;

	/* without allow_rules the mock's bad reply fails the server */
	snprintf(text, sizeof text, "%s%s", head, steps);
	doc = run_text(text, "mock");
	ck_assert_str_eq(status_of(doc, "step-02"), "pass");
	ck_assert_str_eq(status_of(doc, "reply-valid"), "fail");
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(
				check_of(doc, "reply-valid"), "rules"), 0)->valuestring,
			 "config.face_rec.score.range");
	cJSON_Delete(doc);
	/* with it, the violation is shown but the check holds */
	snprintf(text, sizeof text, "%s\"allow_rules\":[\"config.face_rec."
		 "score.range\"],%s", head, steps);
	doc = run_text(text, "mock");
	ck_assert_str_eq(status_of(doc, "reply-valid"), "pass");
	ck_assert_str_eq(cJSON_GetObjectItem(doc, "verdict")->valuestring, "pass");
	cJSON_Delete(doc);
}
END_TEST

/* A server that sets the device's clock to 1973 makes the device's own
 * times implausible: the server's time_set is warned about, and the
 * device's messages show the rule without counting it against camsim's
 * device. */
START_TEST(a_clock_the_server_set_badly_is_not_blamed_on_the_device)
{
	static const char text[] =
		"{\"name\":\"x\",\"title\":\"t\",\"sections\":[\"3\"],\"steps\":["
		"{\"operator\":\"set_time\",\"utc\":100000000,\"zone\":0},"
		"{\"operator\":\"config\",\"config\":{\"relay\":{\"duration\":3}}},"
		"{\"expect\":\"message\",\"from\":\"device\",\"kind\":"
		"\"config_result\",\"match\":{\"time\":{\"$lt\":200000000}},"
		"\"within\":8}]}";
	cJSON *doc = run_text(text, "mock");
	const cJSON *sc = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "scenarios"), 0);
	const cJSON *x, *v;
	bool caused = false;

	ck_assert_str_eq(status_of(doc, "step-03"), "pass");
	ck_assert_str_eq(status_of(doc, "device-valid"), "pass");
	ck_assert_str_eq(status_of(doc, "reply-should"), "warn");
	cJSON_ArrayForEach(x, cJSON_GetObjectItem(sc, "exchanges"))
		cJSON_ArrayForEach(v, cJSON_GetObjectItem(x, "violations"))
			caused |= cJSON_GetObjectItem(v, "caused_by") != NULL;
	ck_assert(caused);
	cJSON_Delete(doc);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("run");
	TCase *t = tcase_create("run");

	tcase_set_timeout(t, 240);
	tcase_add_test(t, bad_scenarios_are_refused_naming_file_step_and_member);
	tcase_add_test(t, suite_scenarios_all_load);
	tcase_add_test(t, suite_scenarios_follow_the_json_schema);
	tcase_add_test(t, match_is_a_subset_with_operators);
	tcase_add_test(t, heartbeat_scenario_passes_against_the_mock_on_the_jump_clock);
	tcase_add_test(t, an_expectation_not_met_fails_with_its_window_and_nearest_miss);
	tcase_add_test(t, a_negative_expectation_fails_at_the_first_match);
	tcase_add_test(t, a_negative_relay_expectation_covers_its_action);
	tcase_add_test(t, an_observer_sees_each_step_start_and_every_event_exchange_and_pass);
	tcase_add_test(t, recognition_scenarios_are_skipped_without_models);
	tcase_add_test(t, recognised_person_scenario_passes_with_the_core);
	tcase_add_test(t, adapter_quotes_values_for_the_shell);
	tcase_add_test(t, adapter_values_never_become_shell_syntax);
	tcase_add_test(t, each_broken_server_is_caught_by_its_check);
	tcase_add_test(t, fail_on_warning_turns_a_seq_hazard_into_a_failure);
	tcase_add_test(t, seq_hazard_sees_a_seq_reused_after_the_first_64);
	tcase_add_test(t, seq_hazard_remembers_every_heartbeat_send_time);
	tcase_add_test(t, allow_rules_show_a_provoked_violation_without_counting_it);
	tcase_add_test(t, a_clock_the_server_set_badly_is_not_blamed_on_the_device);
	suite_add_tcase(s, t);
	return s;
}

int main(int argc, char **argv)
{
	(void)argc;
	pr_find_camsim(argv[0]);
	return tu_run(suite());
}
