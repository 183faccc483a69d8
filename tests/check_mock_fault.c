/* check_mock_fault.c -- the mock's fault specs (conformance/mock_fault.c):
 * the parse table of fixtures/mock/faults.tsv, canonical printing, and
 * the seeded draws (reproducible, at the stated rate, by phase, the first
 * answer fault winning). */
#include "mock_fault.h"
#include "testutil.h"

#include <stdio.h>
#include <string.h>

START_TEST(test_parse_table)
{
	char path[512], line[512], err[600], canon[64];
	FILE *f;
	int rows = 0, oks = 0;

	snprintf(path, sizeof path, "%s/fixtures/mock/faults.tsv", tu_root());
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	while (fgets(line, sizeof line, f)) {
		char *spec = line, *kind, *want;
		mock_fault mf;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || !line[0])
			continue;
		ck_assert_ptr_nonnull(kind = strchr(spec, '\t'));
		*kind++ = '\0';
		ck_assert_ptr_nonnull(want = strchr(kind, '\t'));
		*want++ = '\0';
		int rc = mock_fault_parse(spec, &mf, err, sizeof err);
		rows++;
		if (!strcmp(kind, "ok")) {
			ck_assert_msg(rc == 0, "\"%s\" refused: %s", spec, err);
			mock_fault_format(&mf, canon, sizeof canon);
			ck_assert_msg(!strcmp(canon, want), "\"%s\" printed as \"%s\", "
				      "wanted \"%s\"", spec, canon, want);
			/* the canonical form parses to the same fault */
			mock_fault again;
			ck_assert_int_eq(mock_fault_parse(canon, &again, err,
							  sizeof err), 0);
			ck_assert_int_eq(again.kind, mf.kind);
			ck_assert_int_eq(again.arg, mf.arg);
			ck_assert_int_eq(again.ppm, mf.ppm);
			oks++;
			continue;
		}
		ck_assert_str_eq(kind, "error");
		ck_assert_msg(rc < 0, "\"%s\" accepted", spec);
		for (char *w = strtok(want, "|"); w; w = strtok(NULL, "|"))
			ck_assert_msg(strstr(err, w), "\"%s\": \"%s\" lacks \"%s\"",
				      spec, err, w);
		ck_assert_msg(!strncmp(err, "fault \"", 7), "\"%s\": the message "
			      "does not name the spec: %s", spec, err);
	}
	fclose(f);
	ck_assert_int_ge(rows, 25);
	ck_assert_int_ge(oks, 10);
}
END_TEST

static void parse(const char *s, mock_fault *f)
{
	char err[600];
	ck_assert_msg(mock_fault_parse(s, f, err, sizeof err) == 0, "%s", err);
}

START_TEST(test_draws_reproducible_at_rate)
{
	mock_fault f[2];
	mock_fault_rng a, b;
	int hits = 0, n = 100000;
	char first[160] = "";

	parse("status=500:10%", &f[0]);
	parse("delay=2s:50%", &f[1]);
	mock_fault_seed(&a, 42);
	mock_fault_seed(&b, 42);
	for (int i = 0; i < n; i++) {
		mock_fault_hit ha, hb;
		mock_fault_none(&ha);
		mock_fault_none(&hb);
		mock_fault_draw(f, 2, MOCK_FAULT_BODY, &a, &ha);
		mock_fault_draw(f, 2, MOCK_FAULT_BODY, &b, &hb);
		ck_assert_str_eq(ha.label, hb.label); /* same seed, same faults */
		if (ha.answer == MOCK_FAULT_STATUS) {
			ck_assert_int_eq(ha.status, 500);
			hits++;
		}
		if (i == 0)
			snprintf(first, sizeof first, "%s", ha.label);
	}
	ck_assert_msg(hits > n / 10 - 1000 && hits < n / 10 + 1000,
		      "status=500:10%% hit %d of %d", hits, n);
	/* another seed, another sequence */
	mock_fault_seed(&a, 43);
	int same = 0;
	mock_fault_seed(&b, 42);
	for (int i = 0; i < 64; i++) {
		mock_fault_hit ha, hb;
		mock_fault_none(&ha);
		mock_fault_none(&hb);
		mock_fault_draw(f, 2, MOCK_FAULT_BODY, &a, &ha);
		mock_fault_draw(f, 2, MOCK_FAULT_BODY, &b, &hb);
		same += !strcmp(ha.label, hb.label);
	}
	ck_assert_int_lt(same, 64);
}
END_TEST

START_TEST(test_phases_and_precedence)
{
	mock_fault f[5];
	mock_fault_rng r;
	mock_fault_hit h;

	parse("no-100", &f[0]);
	parse("reset", &f[1]);
	parse("status=502", &f[2]);
	parse("delay=3s", &f[3]);
	parse("delay=9s", &f[4]);
	mock_fault_seed(&r, 1);
	mock_fault_none(&h);
	ck_assert_int_eq(h.answer, MOCK_FAULT_N);
	mock_fault_draw(f, 5, MOCK_FAULT_HEADERS, &r, &h);
	ck_assert(h.no_100);
	ck_assert_int_eq(h.answer, MOCK_FAULT_N); /* only no-100 is early */
	ck_assert_str_eq(h.label, "no-100");
	mock_fault_draw(f, 5, MOCK_FAULT_BODY, &r, &h);
	ck_assert_int_eq(h.answer, MOCK_FAULT_RESET); /* the first answer fault */
	ck_assert_int_eq(h.delay_ms, 3000);             /* the first delay */
	ck_assert_str_eq(h.label, "no-100,reset,delay=3s");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mock_fault");
	TCase *t = tcase_create("mock_fault");

	tcase_add_test(t, test_parse_table);
	tcase_add_test(t, test_draws_reproducible_at_rate);
	tcase_add_test(t, test_phases_and_precedence);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
