/* check_config.c -- camsim.json and CAMSIM_* (conformance/config.c): every
 * file in tests/data/config/ gives the options or the error (file, line,
 * key, rule) its .expect names; the command line wins over the environment,
 * which wins over the file; where the file is looked for; and a config's
 * values reaching a real `camsim run' and `camsim load'. */
#include "base.h"
#include "conf_err.h"
#include "config.h"
#include "proc.h"

#include <limits.h>
#include <stdbool.h>

#define DATA "tests/data/config"

/* Every variable a test may set, cleared before each test (CK_FORK=no
 * under valgrind runs them all in one process). */
static const char *const vars[] = {
	"CAMSIM_CONFIG", "CAMSIM_SERVER", "CAMSIM_ADAPTER", "CAMSIM_REPORT_DIR",
	"CAMSIM_PROFILE", "CAMSIM_JOBS", "CAMSIM_FAIL_ON_SKIP", "CAMSIM_EXCLUDE",
	"CAMSIM_THRESHOLDS", "CAMSIM_DEVICES", "CAMSIM_SEVER", "CAMSIM_PROPAGATE",
};

static void clear_env(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
		unsetenv(vars[i]);
}

/* cfg_apply on "CMD ARGS..." (args NULL-terminated); *a filled. */
static int apply(const char *cmd, const char *const *args, cfg_args *a,
		 char *err, size_t n)
{
	const char *argv[40] = {cmd};
	int argc = 1;

	while (args && *args && argc < 39)
		argv[argc++] = *args++;
	argv[argc] = NULL;
	return cfg_apply(cmd, argc, (char **)argv, a, err, n);
}

/* The options after argv[0], joined by spaces. */
static void joined(const cfg_args *a, char *out, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 1; i < a->argc && used < n; i++)
		used += (size_t)snprintf(out + used, n - used, "%s%s",
					 i > 1 ? " " : "", a->argv[i]);
}

/* Whether the options hold "opt value" (value NULL: opt alone). */
static bool has(const cfg_args *a, const char *opt, const char *value)
{
	for (int i = 1; i < a->argc; i++)
		if (!strcmp(a->argv[i], opt) &&
		    (!value || (i + 1 < a->argc && !strcmp(a->argv[i + 1], value))))
			return true;
	return false;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

/* ---------------------------------------------------------------- data */

/* "$DIR/" in s replaced by dir (with its '/'). */
static void expand_dir(const char *s, const char *dir, char *out, size_t n)
{
	size_t used = 0;

	while (*s && used + 1 < n) {
		if (!strncmp(s, "$DIR/", 5)) {
			used += (size_t)snprintf(out + used, n - used, "%s", dir);
			s += 5;
		} else {
			out[used++] = *s++;
		}
	}
	out[used < n ? used : n - 1] = '\0';
}

/* One case: NAME.json with NAME.expect, whose lines are "cmd: run|load",
 * "env: NAME=VALUE", "user: ARGS" (the user's own, space-separated), then
 * either "args: OPTIONS" (all of them, space-separated, $DIR/ the data
 * directory) or "code: ENOTJSON|EFORMAT", "line: N|env" and "error: TEXT"
 * (a part of the message), "absent: TEXT" (not in it). */
static void one_case(const char *json)
{
	char exp_path[PATH_MAX], dir[PATH_MAX], err[2000], got[4000];
	char cmd[16] = "", code[32] = "", line[16] = "", want[4000] = "";
	char *text, *save = NULL;
	const char *user[24] = {"--config", json};
	size_t n_user = 2;
	cfg_args a;
	int rc, errs = 0;

	snprintf(exp_path, sizeof exp_path, "%.*s.expect",
		 (int)(strlen(json) - 5), json);
	snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(json, '/') - json) + 1,
		 json);
	text = tu_read(exp_path, NULL);
	ck_assert_msg(text, "%s: no .expect beside it", json);
	for (char *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, "cmd: ", 5))
			snprintf(cmd, sizeof cmd, "%s", l + 5);
		else if (!strncmp(l, "code: ", 6))
			snprintf(code, sizeof code, "%s", l + 6);
		else if (!strncmp(l, "line: ", 6))
			snprintf(line, sizeof line, "%s", l + 6);
		else if (!strncmp(l, "args: ", 6))
			expand_dir(l + 6, dir, want, sizeof want);
		else if (!strncmp(l, "env: ", 5) && strchr(l, '=')) {
			*strchr(l, '=') = '\0';
			setenv(l + 5, l + strlen(l) + 1, 1);
		}
		else if (!strncmp(l, "user: ", 6)) {
			char *s2 = NULL;
			for (char *t = strtok_r(l + 6, " ", &s2); t && n_user < 23;
			     t = strtok_r(NULL, " ", &s2))
				user[n_user++] = t;
		}
	}
	user[n_user] = NULL;
	rc = apply(cmd, user, &a, err, sizeof err);
	if (!code[0]) {
		ck_assert_msg(rc == 0, "%s: refused: %s", json, err);
		joined(&a, got, sizeof got);
		ck_assert_msg(!strcmp(got, want), "%s:\n got  %s\n want %s", json,
			      got, want);
		cfg_args_free(&a);
	} else {
		char prefix[PATH_MAX + 20];
		int want_rc = !strcmp(code, "ENOTJSON") ? CONF_ENOTJSON
			      : !strcmp(code, "EFORMAT") ? CONF_EFORMAT : 0;
		ck_assert_msg(want_rc, "%s: code %s is none of the file's", json,
			      code);
		ck_assert_msg(rc == want_rc, "%s: returned %d (%s), not %s: %s",
			      json, rc, conf_strerror(rc), code, err);
		ck_assert_msg(a.argc == 0 && !a.argv, "%s: options left", json);
		if (!strcmp(line, "env"))
			ck_assert_msg(!strncmp(err, "environment CAMSIM_", 19),
				      "%s: not about the variable: %s", json, err);
		else {
			snprintf(prefix, sizeof prefix, "%s:%s:", json, line);
			ck_assert_msg(!strncmp(err, prefix, strlen(prefix)),
				      "%s: the message does not start with "
				      "%s: %s", json, prefix, err);
		}
		save = NULL;
		free(text);
		text = tu_read(exp_path, NULL);
		for (char *l = strtok_r(text, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save)) {
			if (!strncmp(l, "error: ", 7) && !strstr(err, l + 7)) {
				fprintf(stderr, "%s: \"%s\" not in: %s\n", json,
					l + 7, err);
				errs++;
			}
			if (!strncmp(l, "absent: ", 8) && strstr(err, l + 8)) {
				fprintf(stderr, "%s: \"%s\" in: %s\n", json,
					l + 8, err);
				errs++;
			}
		}
		ck_assert_int_eq(errs, 0);
	}
	clear_env();
	free(text);
}

START_TEST(every_data_file_gives_its_expected_options_or_error)
{
	tu_list l = tu_ls(DATA, ".json");
	size_t bad = 0, good = 0;

	ck_assert_uint_ge(l.n, 20);
	for (size_t i = 0; i < l.n; i++) {
		one_case(l.path[i]);
		if (strstr(l.path[i], "/good-"))
			good++;
		else
			bad++;
	}
	ck_assert_uint_ge(good, 3);
	ck_assert_uint_ge(bad, 20);
	tu_ls_free(&l);
}
END_TEST

/* ---------------------------------------------------------------- precedence */

START_TEST(the_command_line_wins_over_the_environment_which_wins_over_the_file)
{
	char dir[PR_DIR], path[PATH_MAX], err[1000];
	cfg_args a;

	pr_tmpdir(dir, "cfg-prec");
	snprintf(path, sizeof path, "%s/team.json", dir);
	write_file(path, "{\"server\": \"http://file.example/d\",\n"
		   " \"run\": {\"jobs\": 3, \"fail_on_skip\": true}}\n");
	{
		const char *args[] = {"--config", path, NULL};
		ck_assert_int_eq(apply("run", args, &a, err, sizeof err), 0);
		ck_assert(has(&a, "--server", "http://file.example/d"));
		ck_assert(has(&a, "--jobs", "3"));
		ck_assert(has(&a, "--fail-on-skip", NULL));
		cfg_args_free(&a);
	}
	setenv("CAMSIM_SERVER", "http://env.example/d", 1);
	setenv("CAMSIM_FAIL_ON_SKIP", "false", 1);
	{
		const char *args[] = {"--config", path, NULL};
		ck_assert_int_eq(apply("run", args, &a, err, sizeof err), 0);
		ck_assert(has(&a, "--server", "http://env.example/d"));
		ck_assert(!has(&a, "--server", "http://file.example/d"));
		ck_assert(!has(&a, "--fail-on-skip", NULL));
		ck_assert(has(&a, "--jobs", "3")); /* the file still counts */
		cfg_args_free(&a);
	}
	{
		const char *args[] = {"--config", path, "--server", "mock",
				      "--jobs", "1", NULL};
		ck_assert_int_eq(apply("run", args, &a, err, sizeof err), 0);
		ck_assert(has(&a, "--server", "mock"));
		ck_assert(!has(&a, "--server", "http://env.example/d"));
		ck_assert(!has(&a, "--jobs", "3"));
		/* --config is camsim's, not the subcommand's */
		ck_assert(!has(&a, "--config", NULL));
		cfg_args_free(&a);
	}
	clear_env();
	pr_rmdir(dir);
}
END_TEST

START_TEST(a_list_given_by_a_higher_source_replaces_the_lower_ones)
{
	char dir[PR_DIR], path[PATH_MAX], err[1000], got[2000];
	cfg_args a;

	pr_tmpdir(dir, "cfg-list");
	snprintf(path, sizeof path, "%s/team.json", dir);
	write_file(path, "{\"load\": {\"devices\": 5, \"thresholds\": "
		   "[\"p99(heartbeat)<200ms\", \"errors<1%\"]}}\n");
	setenv("CAMSIM_THRESHOLDS", "rate(heartbeat)>1", 1);
	{
		const char *args[] = {"--config", path, NULL};
		ck_assert_int_eq(apply("load", args, &a, err, sizeof err), 0);
		joined(&a, got, sizeof got);
		ck_assert_str_eq(got, "--devices 5 --threshold rate(heartbeat)>1");
		cfg_args_free(&a);
	}
	{
		const char *args[] = {"--config", path, "--threshold",
				      "count(heartbeat)>0", NULL};
		ck_assert_int_eq(apply("load", args, &a, err, sizeof err), 0);
		joined(&a, got, sizeof got);
		ck_assert_str_eq(got, "--devices 5 --threshold count(heartbeat)>0");
		cfg_args_free(&a);
	}
	clear_env();
	pr_rmdir(dir);
}
END_TEST

/* ---------------------------------------------------------------- which file */

START_TEST(camsim_json_in_the_working_directory_is_read_unless_another_is_named)
{
	char dir[PR_DIR], here[PATH_MAX], other[PATH_MAX], err[1000];
	cfg_args a;

	ck_assert_ptr_nonnull(getcwd(here, sizeof here));
	pr_tmpdir(dir, "cfg-cwd");
	snprintf(other, sizeof other, "%s/other.json", dir);
	ck_assert_int_eq(chdir(dir), 0);
	write_file("camsim.json", "{\"report_dir\": \"from-cwd\"}\n");
	write_file(other, "{\"report_dir\": \"/from-other\"}\n");
	{
		ck_assert_int_eq(apply("run", NULL, &a, err, sizeof err), 0);
		ck_assert(has(&a, "--report-dir", "from-cwd"));
		/* a file read without being named is named to the user */
		ck_assert_str_eq(a.note, "camsim run: settings from camsim.json\n");
		cfg_args_free(&a);
	}
	{
		const char *args[] = {"--no-config", NULL};
		ck_assert_int_eq(apply("run", args, &a, err, sizeof err), 0);
		ck_assert_int_eq(a.argc, 1);
		cfg_args_free(&a);
	}
	setenv("CAMSIM_CONFIG", other, 1);
	{
		ck_assert_int_eq(apply("run", NULL, &a, err, sizeof err), 0);
		ck_assert(has(&a, "--report-dir", "/from-other"));
		cfg_args_free(&a);
	}
	{
		const char *args[] = {"--config", "camsim.json", NULL};
		ck_assert_int_eq(apply("run", args, &a, err, sizeof err), 0);
		ck_assert(has(&a, "--report-dir", "from-cwd"));
		cfg_args_free(&a);
	}
	clear_env();
	ck_assert_int_eq(chdir(here), 0);
	pr_rmdir(dir);
}
END_TEST

START_TEST(help_is_given_even_when_the_config_is_broken)
{
	char dir[PR_DIR], path[PATH_MAX], err[1000];
	cfg_args a;

	pr_tmpdir(dir, "cfg-help");
	snprintf(path, sizeof path, "%s/broken.json", dir);
	write_file(path, "{\"server\": \n");
	{
		const char *args[] = {"--config", path, "--help", NULL};
		ck_assert_int_eq(apply("run", args, &a, err, sizeof err), 0);
		/* --config FILE is taken out: run's parser does not know it */
		ck_assert_int_eq(a.argc, 2);
		ck_assert_str_eq(a.argv[1], "--help");
		cfg_args_free(&a);
	}
	{
		const char *args[] = {"--config", path, NULL};
		ck_assert_int_eq(apply("run", args, &a, err, sizeof err),
				 CONF_ENOTJSON);
	}
	pr_rmdir(dir);
}
END_TEST

START_TEST(a_file_that_cannot_be_read_is_refused_naming_it)
{
	char dir[PR_DIR], path[PATH_MAX], err[1000];
	cfg_args a;
	FILE *f;

	pr_tmpdir(dir, "cfg-read");
	snprintf(path, sizeof path, "%s/absent.json", dir);
	{
		const char *args[] = {"--config", path, NULL};
		ck_assert_int_eq(apply("run", args, &a, err, sizeof err),
				 CONF_EREAD);
		ck_assert_msg(strstr(err, path) && strstr(err, "cannot open"),
			      "%s", err);
	}
	{
		const char *args[] = {"--config", dir, NULL}; /* a directory */
		ck_assert_int_eq(apply("run", args, &a, err, sizeof err),
				 CONF_EREAD);
		ck_assert_msg(strstr(err, "directory"), "%s", err);
	}
	{
		const char *args[] = {"--config", NULL};
		ck_assert_int_eq(apply("run", args, &a, err, sizeof err),
				 CONF_EINVAL);
		ck_assert_msg(strstr(err, "--config needs a file"), "%s", err);
	}
	/* a NUL would end cJSON's reading and drop the rest: refused */
	snprintf(path, sizeof path, "%s/nul.json", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fwrite("{}\0{\"server\": 1}", 1, 16, f);
	fclose(f);
	{
		const char *args[] = {"--config", path, NULL};
		ck_assert_int_eq(apply("run", args, &a, err, sizeof err),
				 CONF_ENOTJSON);
		ck_assert_msg(strstr(err, "byte 3 is a NUL"), "%s", err);
	}
	pr_rmdir(dir);
}
END_TEST

START_TEST(a_misspelt_camsim_variable_is_warned_about)
{
	char err[1000];
	cfg_args a;
	const char *args[] = {"--no-config", NULL};

	setenv("CAMSIM_SEVER", "mock", 1);
	ck_assert_int_eq(apply("run", args, &a, err, sizeof err), 0);
	ck_assert_msg(strstr(a.note, "camsim run: warning: environment "
			     "CAMSIM_SEVER is not a setting and is ignored; did "
			     "you mean CAMSIM_SERVER?"), "%s", a.note);
	ck_assert_int_eq(a.argc, 1);
	cfg_args_free(&a);
	clear_env();
	ck_assert_int_eq(apply("run", args, &a, err, sizeof err), 0);
	ck_assert_str_eq(a.note, "");
	cfg_args_free(&a);
}
END_TEST

/* ---------------------------------------------------------------- real runs */

/* camsim with sh's command line cmdline run in dir; its exit code. */
static int camsim_in(const char *dir, const char *cmdline,
		     const char *const env[], const char *tag)
{
	char sh[PATH_MAX * 2 + 200], log[PATH_MAX], bin[PATH_MAX];

	ck_assert_ptr_nonnull(realpath(pr_camsim, bin));
	snprintf(sh, sizeof sh, "cd '%s' && exec '%s' %s", dir, bin, cmdline);
	snprintf(log, sizeof log, "%s/%s.log", dir, tag);
	const char *argv[] = {"/bin/sh", "-c", sh, NULL};
	return pr_code(pr_wait(pr_spawn(argv, env, log, NULL), 120, tag));
}

START_TEST(a_configs_values_reach_a_real_run)
{
	char dir[PR_DIR], path[PATH_MAX], scn[PATH_MAX], cmd[PATH_MAX + 40];
	char rep[PATH_MAX];
	cJSON *doc;
	const cJSON *dev;

	pr_tmpdir(dir, "cfg-run");
	snprintf(path, sizeof path, "%s/camsim.json", dir);
	write_file(path, "{\n  \"server\": \"mock\",\n  \"report_dir\": \"out\",\n"
		   "  \"profile\": \"as-printed\",\n  \"run\": {\n"
		   "    \"cid_prefix\": \"zq\",\n    \"fail_on_skip\": true,\n"
		   "    \"stable_cids\": true,\n    \"quiet\": true\n  }\n}\n");
	snprintf(rep, sizeof rep, "%s/scenarios/heartbeat.json", tu_root());
	ck_assert_ptr_nonnull(realpath(rep, scn));
	snprintf(cmd, sizeof cmd, "run '%s'", scn);
	ck_assert_int_eq(camsim_in(dir, cmd, NULL, "run"), 0);
	snprintf(rep, sizeof rep, "%s/out", dir);
	doc = pr_report(rep, NULL);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(doc,
							"profile")), "as-printed");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(doc, "fail_on_skip")));
	dev = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(doc, "scenarios"), 0), "devices"), 0);
	ck_assert_msg(cJSON_IsString(dev) && !strncmp(dev->valuestring, "zq", 2),
		      "the device's cid does not start with the prefix");
	cJSON_Delete(doc);

	/* the same with a broken file: exit 2, the file's line and key */
	write_file(path, "{\n  \"server\": \"mock\",\n  \"run\": {\"jobs\": 0}\n}\n");
	ck_assert_int_eq(camsim_in(dir, cmd, NULL, "bad"), 2);
	{
		char log[PATH_MAX], *t;
		snprintf(log, sizeof log, "%s/bad.log", dir);
		t = tu_read(log, NULL);
		ck_assert_msg(t && strstr(t, "camsim run: camsim.json:3: key "
					  "\"run.jobs\" is a number (0): it must "
					  "be an integer from 1 to 16"), "%s", t);
		free(t);
	}
	pr_rmdir(dir);
}
END_TEST

START_TEST(a_configs_values_reach_a_real_load_run)
{
	char dir[PR_DIR], path[PATH_MAX], rep[PATH_MAX];
	cJSON *doc;
	const cJSON *th;

	pr_tmpdir(dir, "cfg-load");
	snprintf(path, sizeof path, "%s/team.json", dir);
	write_file(path, "{\"server\": \"mock\", \"report_dir\": \"run-reports\",\n"
		   " \"load\": {\"report_dir\": \"load-reports\", \"devices\": 2,\n"
		   "  \"duration\": \"1s\",\n"
		   "  \"thresholds\": [\"count(heartbeat)>0\"]}}\n");
	/* the environment's device count, the file's for the rest */
	{
		const char *env[] = {"CAMSIM_DEVICES=3", NULL};
		ck_assert_int_eq(camsim_in(dir, "load --config team.json", env,
					   "load"), 0);
	}
	snprintf(rep, sizeof rep, "%s/load-reports", dir);
	doc = pr_report(rep, NULL);
	ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(doc,
						   "devices_up")), 3);
	th = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "thresholds"), 0);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(th, "expr")),
			 "count(heartbeat)>0");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(th, "ok")));
	cJSON_Delete(doc);
	pr_rmdir(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("config");
	TCase *t = tcase_create("config");

	tcase_set_timeout(t, 300);
	tcase_add_checked_fixture(t, clear_env, clear_env);
	tcase_add_test(t, every_data_file_gives_its_expected_options_or_error);
	tcase_add_test(t, the_command_line_wins_over_the_environment_which_wins_over_the_file);
	tcase_add_test(t, a_list_given_by_a_higher_source_replaces_the_lower_ones);
	tcase_add_test(t, camsim_json_in_the_working_directory_is_read_unless_another_is_named);
	tcase_add_test(t, help_is_given_even_when_the_config_is_broken);
	tcase_add_test(t, a_file_that_cannot_be_read_is_refused_naming_it);
	tcase_add_test(t, a_misspelt_camsim_variable_is_warned_about);
	tcase_add_test(t, a_configs_values_reach_a_real_run);
	tcase_add_test(t, a_configs_values_reach_a_real_load_run);
	suite_add_tcase(s, t);
	return s;
}

int main(int argc, char **argv)
{
	(void)argc;
	pr_find_camsim(argv[0]);
	return tu_run(suite());
}
