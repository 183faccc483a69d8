/* check_cli.c -- `camsim validate' as a vendor runs it: exit codes 0/1/2,
 * stdin, --json output, --expect, --list-rules, usage errors; and the rule
 * catalogue in docs/protocol.md matching the code. */
#include "validate.h"
#include "testutil.h"

#include <cJSON.h>
#include <unistd.h>

typedef tu_cli_result run;

/* Runs validate_main with args (NULL-terminated), capturing both streams. */
static run cli(const char **args)
{
	return tu_cli(validate_main, "validate", args);
}

static void run_free(run *r)
{
	tu_cli_free(r);
}

static char *tmp_with(const char *content)
{
	char *path = strdup("/tmp/camsim-cli-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, strlen(content)), (int)strlen(content));
	close(fd);
	return path;
}

/* Removes and frees a file made by tmp_with. */
static void drop(char *path)
{
	unlink(path);
	free(path);
}

#define HB "{\"app_version\":\"1.0.1.1\",\"cid\":\"0012b516a202\",\"seq\":1569497378,\"uptime\":1569497378,\"type\":3}"

START_TEST(a_valid_message_exits_zero)
{
	char *f = tmp_with(HB);
	run r = cli((const char *[]){f, NULL});
	ck_assert_int_eq(r.rc, 0);
	ck_assert_ptr_nonnull(strstr(r.out, ": heartbeat: ok"));
	run_free(&r);
	drop(f);
}
END_TEST

START_TEST(a_broken_must_rule_exits_one_and_names_rule_and_path)
{
	char *f = tmp_with("{\"config\":{\"opType\":0,\"face_rec\":{\"score\":150}}}");
	run r = cli((const char *[]){"--to-device", f, NULL});
	ck_assert_int_eq(r.rc, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "MUST   config_set.seq.required at $.config.seq"));
	ck_assert_ptr_nonnull(strstr(r.out, "config.face_rec.score.range at $.config.face_rec.score"));
	ck_assert_ptr_nonnull(strstr(r.out, "score is 150; §9 Parameter configuration allows 0 to 100"));
	run_free(&r);
	drop(f);
}
END_TEST

START_TEST(only_should_warnings_still_exit_zero)
{
	char *f = tmp_with("{\"reboot\":1,\"extra\":true}");
	run r = cli((const char *[]){f, NULL});
	ck_assert_int_eq(r.rc, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "SHOULD reply.unknown_key at $.extra"));
	run_free(&r);
	drop(f);
}
END_TEST

START_TEST(unreadable_or_non_json_files_exit_two)
{
	char *f = tmp_with("{\"a\":1,}");
	run r = cli((const char *[]){f, NULL});
	ck_assert_int_eq(r.rc, 2);
	ck_assert_ptr_nonnull(strstr(r.out, "not a JSON message: line 1, column 8"));
	run_free(&r);
	r = cli((const char *[]){"/nonexistent/x.json", NULL});
	ck_assert_int_eq(r.rc, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "/nonexistent/x.json: cannot open"));
	run_free(&r);
	/* 2 wins over 1 when several files are given */
	char *g = tmp_with("{\"reboot\":2}");
	r = cli((const char *[]){g, f, NULL});
	ck_assert_int_eq(r.rc, 2);
	run_free(&r);
	r = cli((const char *[]){g, NULL});
	ck_assert_int_eq(r.rc, 1);
	run_free(&r);
	drop(f);
	drop(g);
}
END_TEST

START_TEST(direction_flags_override_detection)
{
	char *f = tmp_with(HB);
	run r = cli((const char *[]){"--to-device", f, NULL});
	/* a heartbeat is no reply: its cid and type are flagged */
	ck_assert_int_eq(r.rc, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "reply.device_message"));
	run_free(&r);
	drop(f);
	f = tmp_with("{\"reboot\":1}");
	r = cli((const char *[]){"--to-server", f, NULL});
	ck_assert_int_eq(r.rc, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "message.type.required"));
	run_free(&r);
	drop(f);
}
END_TEST

START_TEST(json_output_is_one_parseable_object_per_file)
{
	char *f = tmp_with("{\"time_interval\":0}"), *g = tmp_with(HB);
	run r = cli((const char *[]){"--json", f, g, NULL});
	char *line2 = strchr(r.out, '\n');
	cJSON *a, *b;
	ck_assert_int_eq(r.rc, 1);
	ck_assert_ptr_nonnull(line2);
	*line2++ = '\0';
	a = cJSON_Parse(r.out);
	b = cJSON_Parse(line2);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	cJSON *v0 = cJSON_GetArrayItem(cJSON_GetObjectItem(a, "violations"), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(v0, "rule")->valuestring, "reply.time_interval.range");
	ck_assert_str_eq(cJSON_GetObjectItem(v0, "path")->valuestring, "$.time_interval");
	ck_assert_str_eq(cJSON_GetObjectItem(v0, "severity")->valuestring, "MUST");
	ck_assert_str_eq(cJSON_GetObjectItem(b, "kind")->valuestring, "heartbeat");
	ck_assert_int_eq(cJSON_GetObjectItem(b, "exit")->valueint, 0);
	cJSON_Delete(a);
	cJSON_Delete(b);
	run_free(&r);
	drop(f);
	drop(g);
}
END_TEST

START_TEST(the_profile_changes_what_is_accepted)
{
	char *f = tmp_with("{\"strategy_manage\":{\"strategyList\":[{\"strategyId\":1,"
			   "\"name\":\"s\",\"state\":1,\"strategyRuleList\":[{\"ruleId\":1,"
			   "\"begDate\":\"2019/6/1\",\"endDate\":\"2019/06/30\",\"timeRange\":"
			   "\"08:00:00-09:00:00\",\"week\":\"1\",\"type\":1}]}]}}");
	run r = cli((const char *[]){f, NULL});
	ck_assert_int_eq(r.rc, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "strategy_rule.begDate.format"));
	run_free(&r);
	r = cli((const char *[]){"--profile", "as-printed", f, NULL});
	ck_assert_int_eq(r.rc, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "strategy_rule.begDate.padding"));
	run_free(&r);
	r = cli((const char *[]){"--profile", "loose", f, NULL});
	ck_assert_int_eq(r.rc, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown profile \"loose\""));
	run_free(&r);
	drop(f);
}
END_TEST

START_TEST(usage_errors_exit_two)
{
	run r = cli((const char *[]){NULL});
	ck_assert_int_eq(r.rc, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "no FILE given"));
	run_free(&r);
	r = cli((const char *[]){"--frobnicate", NULL});
	ck_assert_int_eq(r.rc, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown option \"--frobnicate\""));
	run_free(&r);
	r = cli((const char *[]){"--help", NULL});
	ck_assert_int_eq(r.rc, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "usage: camsim validate"));
	run_free(&r);
}
END_TEST

START_TEST(expect_mode_reports_mismatches)
{
	char *f = tmp_with("{\"reboot\":2}");
	char ep[64];
	FILE *e;
	run r;
	snprintf(ep, sizeof ep, "%s.expect", f);
	e = fopen(ep, "w");
	fputs("direction: to-device\nexit: 1\nMUST reply.reboot.enum $.reboot\n", e);
	fclose(e);
	/* no .json suffix: FILE.expect is used */
	r = cli((const char *[]){"--expect", f, NULL});
	ck_assert_int_eq(r.rc, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "1 of 1 as expected"));
	run_free(&r);
	e = fopen(ep, "w");
	fputs("exit: 0\n", e);
	fclose(e);
	r = cli((const char *[]){"--expect", f, NULL});
	ck_assert_int_eq(r.rc, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "MISMATCH"));
	ck_assert_ptr_nonnull(strstr(r.out, "exit: expected 0, got 1"));
	run_free(&r);
	unlink(ep);
	drop(f);
}
END_TEST

START_TEST(rule_catalogue_in_the_docs_matches_the_code)
{
	char path[512], *doc, *gen, *begin, *end;
	size_t gl;
	FILE *g = open_memstream(&gen, &gl);
	validate_print_rules(g, 1);
	fclose(g);
	snprintf(path, sizeof path, "%s/docs/protocol.md", tu_root());
	doc = tu_read(path, NULL);
	ck_assert_msg(doc != NULL, "docs/protocol.md is missing");
	begin = strstr(doc, "<!-- rules:begin -->\n");
	end = strstr(doc, "<!-- rules:end -->");
	ck_assert_msg(begin && end, "docs/protocol.md has no rules markers");
	begin += strlen("<!-- rules:begin -->\n");
	*end = '\0';
	ck_assert_msg(!strcmp(begin, gen),
		      "docs/protocol.md's rule table is stale: run make docs");
	free(doc);
	free(gen);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("camsim validate");
	TCase *tc = tcase_create("cli");

	tcase_add_test(tc, a_valid_message_exits_zero);
	tcase_add_test(tc, a_broken_must_rule_exits_one_and_names_rule_and_path);
	tcase_add_test(tc, only_should_warnings_still_exit_zero);
	tcase_add_test(tc, unreadable_or_non_json_files_exit_two);
	tcase_add_test(tc, direction_flags_override_detection);
	tcase_add_test(tc, json_output_is_one_parseable_object_per_file);
	tcase_add_test(tc, the_profile_changes_what_is_accepted);
	tcase_add_test(tc, usage_errors_exit_two);
	tcase_add_test(tc, expect_mode_reports_mismatches);
	tcase_add_test(tc, rule_catalogue_in_the_docs_matches_the_code);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
