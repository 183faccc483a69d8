/* check_proto.c -- the protocol fixtures, data-driven: every file under
 * fixtures/protocol/{spec,valid,invalid} is validated and compared with
 * its .expect; every message that validates is round-tripped through the
 * C types (parse -> build -> parse). */
#include "fixture.h"
#include "proto.h"
#include "testutil.h"

#include <cJSON.h>

static char *expect_path(const char *json_path)
{
	size_t n = strlen(json_path);
	char *p = malloc(n + 8);
	memcpy(p, json_path, n - 5);
	strcpy(p + n - 5, ".expect");
	return p;
}

/* A fixture file and its parsed .expect; false (reported) when either
 * cannot be read. */
typedef struct fixture {
	char *buf;
	size_t len;
	fx_expect e;
} fixture;

static bool fixture_load(const char *path, fixture *fx)
{
	char *ep = expect_path(path), *eb, err[256];
	size_t elen = 0;
	bool ok;

	fx->buf = tu_read(path, &fx->len);
	eb = tu_read(ep, &elen);
	ok = fx->buf && eb && fx_expect_parse(eb, elen, &fx->e, err, sizeof err) == 0;
	if (!ok)
		fprintf(stderr, "%s: cannot read it or its .expect%s%s\n", path,
			eb ? ": " : "", eb ? err : "");
	free(eb);
	free(ep);
	return ok;
}

static void fixture_free(fixture *fx, bool loaded)
{
	free(fx->buf);
	if (loaded)
		fx_expect_free(&fx->e);
}

/* Validates every fixture in dir against its .expect; returns mismatches. */
static size_t run_dir(const char *dir, size_t *count, size_t min_count)
{
	tu_list l = tu_ls(dir, ".json");
	size_t bad = 0;

	*count = l.n;
	ck_assert_msg(l.n >= min_count, "%s holds %zu fixtures, want >= %zu", dir,
		      l.n, min_count);
	for (size_t i = 0; i < l.n; i++) {
		fixture fx;
		fx_result r;
		bool loaded = fixture_load(l.path[i], &fx);

		if (!loaded) {
			bad++;
		} else {
			fx_validate(fx.buf, fx.len, fx.e.dir, fx.e.prof, &r);
			if (fx_compare(&fx.e, &r, NULL)) {
				fprintf(stderr, "%s differs from its .expect:\n", l.path[i]);
				fx_compare(&fx.e, &r, stderr);
				bad++;
			}
			fx_result_free(&r);
		}
		fixture_free(&fx, loaded);
	}
	tu_ls_free(&l);
	return bad;
}

START_TEST(spec_examples_give_their_expected_violations)
{
	size_t n, bad = run_dir("fixtures/protocol/spec", &n, 32);
	ck_assert_msg(bad == 0, "%zu of %zu spec examples differ", bad, n);
}
END_TEST

START_TEST(valid_fixtures_break_no_must_rule)
{
	size_t n, bad = run_dir("fixtures/protocol/valid", &n, 30);
	ck_assert_msg(bad == 0, "%zu of %zu valid fixtures differ", bad, n);
}
END_TEST

START_TEST(invalid_fixtures_give_exactly_their_expected_violations)
{
	size_t n, bad = run_dir("fixtures/protocol/invalid", &n, 80);
	ck_assert_msg(bad == 0, "%zu of %zu invalid fixtures differ", bad, n);
}
END_TEST

/* An invalid fixture is named for the rule it breaks; its expectation
 * must list that rule, so a fixture cannot drift from its purpose. */
START_TEST(invalid_fixtures_are_named_for_a_rule_they_break)
{
	tu_list l = tu_ls("fixtures/protocol/invalid", ".json");
	size_t bad = 0;

	for (size_t i = 0; i < l.n; i++) {
		const char *base = strrchr(l.path[i], '/') + 1;
		char rule[160], *ep = expect_path(l.path[i]);
		char *eb = tu_read(ep, NULL);
		size_t rl = strcspn(base, "~");
		if (rl > 5 && !strcmp(base + rl - 5, ".json"))
			rl -= 5;
		snprintf(rule, sizeof rule, " %.*s ", (int)rl, base);
		if (!strncmp(base, "notjson.", 8)) {
			if (!eb || !strstr(eb, "exit: 2")) {
				fprintf(stderr, "%s: named notjson but not exit 2\n", base);
				bad++;
			}
		} else if (!eb || !strstr(eb, rule)) {
			fprintf(stderr, "%s: its .expect does not list rule%s\n", base,
				rule);
			bad++;
		}
		free(eb);
		free(ep);
	}
	tu_ls_free(&l);
	ck_assert_msg(bad == 0, "%zu invalid fixtures do not name their rule", bad);
}
END_TEST

/* Every rule an invalid fixture is named for exists in the catalogue. */
static void collect_rule(const proto_rule_info *r, void *ud)
{
	cJSON_AddTrueToObject((cJSON *)ud, r->id);
}

START_TEST(invalid_fixture_names_are_catalogued_rules)
{
	tu_list l = tu_ls("fixtures/protocol/invalid", ".json");
	cJSON *ids = cJSON_CreateObject();
	size_t bad = 0;

	proto_rules_foreach(collect_rule, ids);
	for (size_t i = 0; i < l.n; i++) {
		const char *base = strrchr(l.path[i], '/') + 1;
		char rule[160];
		size_t rl = strcspn(base, "~");
		if (rl > 5 && !strcmp(base + rl - 5, ".json"))
			rl -= 5;
		snprintf(rule, sizeof rule, "%.*s", (int)rl, base);
		if (strncmp(base, "notjson.", 8) &&
		    !cJSON_GetObjectItemCaseSensitive(ids, rule)) {
			fprintf(stderr, "%s: \"%s\" is not a catalogued rule\n", base,
				rule);
			bad++;
		}
	}
	cJSON_Delete(ids);
	tu_ls_free(&l);
	ck_assert_msg(bad == 0, "%zu fixture names are not rules", bad);
}
END_TEST

/* parse -> build -> parse gives the same message; when the file breaks no
 * rule at all, the built JSON is also the same JSON as the file. */
static size_t round_trip_dir(const char *dir, size_t *tried)
{
	tu_list l = tu_ls(dir, ".json");
	size_t bad = 0;

	for (size_t i = 0; i < l.n; i++) {
		proto_arena a1 = PROTO_ARENA_INIT, a2 = PROTO_ARENA_INIT;
		proto_report rep = {0};
		proto_msg m1, m2;
		cJSON *orig = NULL, *again = NULL;
		char *built = NULL, err[256];
		fixture fx;
		bool loaded = fixture_load(l.path[i], &fx);
		const fx_expect *e = &fx.e;

		if (!loaded) {
			bad++;
			goto next;
		}
		if (e->exit_code != 0 || strspn(fx.buf, " \t\r\n") == fx.len)
			goto next; /* nothing to round-trip */
		(*tried)++;
		if (proto_json_parse(fx.buf, fx.len, &orig, err, sizeof err) < 0 ||
		    proto_decode(orig, e->dir, e->prof, &a1, &m1, &rep) < 0) {
			fprintf(stderr, "%s: does not decode\n", l.path[i]);
			bad++;
		} else if (!(built = proto_build(&m1, e->prof))) {
			fprintf(stderr, "%s: does not build\n", l.path[i]);
			bad++;
		} else if (proto_parse(built, strlen(built), e->dir, e->prof, &a2, &m2,
				       err, sizeof err) < 0) {
			fprintf(stderr, "%s: built JSON does not parse: %s\n%s\n",
				l.path[i], err, built);
			bad++;
		} else if (!proto_msg_equal(&m1, &m2)) {
			fprintf(stderr, "%s: round trip changed the message:\n%s\n",
				l.path[i], built);
			bad++;
		} else if (rep.n == 0 &&
			   (proto_json_parse(built, strlen(built), &again, err,
					     sizeof err) < 0 ||
			    !cJSON_Compare(orig, again, 1))) {
			fprintf(stderr, "%s: built JSON differs from the file:\n%s\n",
				l.path[i], built);
			bad++;
		}
	next:
		proto_report_free(&rep);
		proto_arena_free(&a1);
		proto_arena_free(&a2);
		cJSON_Delete(orig);
		cJSON_Delete(again);
		free(built);
		fixture_free(&fx, loaded);
	}
	tu_ls_free(&l);
	return bad;
}

START_TEST(valid_messages_survive_parse_build_parse)
{
	size_t tried = 0, bad = round_trip_dir("fixtures/protocol/valid", &tried);
	bad += round_trip_dir("fixtures/protocol/spec", &tried);
	ck_assert_msg(tried >= 50, "only %zu messages round-tripped", tried);
	ck_assert_msg(bad == 0, "%zu of %zu round trips failed", bad, tried);
}
END_TEST

/* The comparer itself must notice a difference, or every test above
 * would pass vacuously. */
START_TEST(expectation_compare_reports_each_difference)
{
	const char *exp = "direction: to-server\nexit: 1\n"
			  "MUST heartbeat.seq.json_type $.seq\n";
	const char *ok = "{\"app_version\":\"1.0\",\"cid\":\"c1\",\"seq\":\"x\","
			 "\"uptime\":1569497378,\"type\":3}";
	const char *other = "{\"app_version\":\"1.0\",\"cid\":\"c1\",\"seq\":1,"
			    "\"uptime\":1569497378,\"type\":3}";
	fx_expect e;
	fx_result r;
	char err[128];

	ck_assert_int_eq(fx_expect_parse(exp, strlen(exp), &e, err, sizeof err), 0);
	fx_validate(ok, strlen(ok), e.dir, e.prof, &r);
	ck_assert_uint_eq(fx_compare(&e, &r, NULL), 0);
	fx_result_free(&r);
	fx_validate(other, strlen(other), e.dir, e.prof, &r);
	ck_assert_uint_eq(fx_compare(&e, &r, NULL), 2); /* exit and the line */
	fx_result_free(&r);
	fx_expect_free(&e);
	ck_assert_int_lt(fx_expect_parse("MUST x\n", 7, &e, err, sizeof err), 0);
	ck_assert_str_eq(err, "line 1: expected \"MUST <rule-id> <json-path>\"");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto fixtures");
	TCase *tc = tcase_create("fixtures");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, spec_examples_give_their_expected_violations);
	tcase_add_test(tc, valid_fixtures_break_no_must_rule);
	tcase_add_test(tc, invalid_fixtures_give_exactly_their_expected_violations);
	tcase_add_test(tc, invalid_fixtures_are_named_for_a_rule_they_break);
	tcase_add_test(tc, invalid_fixture_names_are_catalogued_rules);
	tcase_add_test(tc, valid_messages_survive_parse_build_parse);
	tcase_add_test(tc, expectation_compare_reports_each_difference);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
