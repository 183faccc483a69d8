/* check_strategy.c -- the §5 pass decision (strat_decide) and the type 7
 * verdict (strat_verdict): dates, weekdays, time ranges, midnight, time
 * zones, deny-wins, missing strategies and fields.  Wall-clock moments are
 * built with timegm(), independently of sim/strategy.c's arithmetic. */
#include "strategy.h"
#include "testutil.h"

#include <stdint.h>
#include <time.h>

#define SID 5
#define ALL_WEEK "1,2,3,4,5,6,7"

/* Local seconds of a wall-clock moment (UTC arithmetic on it, as the
 * header asks). */
static int64_t at(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			.tm_hour = h, .tm_min = mi, .tm_sec = s};
	return (int64_t)timegm(&tm);
}

static proto_rule rule(int64_t type, const char *beg, const char *end,
		       const char *ranges, const char *week)
{
	return (proto_rule){.has_rule_id = true, .has_type = true, .rule_id = 1,
			    .beg_date = beg, .end_date = end,
			    .time_range = ranges, .week = week, .type = type};
}

static proto_strategy strat(int64_t id, int64_t state, proto_rule *rules,
			    size_t n)
{
	return (proto_strategy){.has_strategy_id = true, .has_state = true,
				.has_rules = true, .strategy_id = id,
				.name = "test", .state = state, .rules = rules,
				.n_rules = n};
}

/* strat_decide on one open strategy SID holding rules[0..n); checks that
 * the returned bool agrees with the reason. */
static strat_why decide(proto_rule *rules, size_t n, int64_t local)
{
	proto_strategy s = strat(SID, 1, rules, n);
	strat_why why = (strat_why)-1;
	bool pass = strat_decide(&s, 1, SID, local, &why);

	ck_assert_int_eq(pass, why == STRAT_ALLOW_RULE || why == STRAT_UNRESTRICTED);
	return why;
}

/* Whether one allow rule lets SID pass at local. */
static bool allows(const char *beg, const char *end, const char *ranges,
		   const char *week, int64_t local)
{
	proto_rule r = rule(1, beg, end, ranges, week);
	return decide(&r, 1, local) == STRAT_ALLOW_RULE;
}

/* A table row: one allow rule and a wall-clock moment. */
typedef struct row {
	const char *beg, *end, *ranges, *week;
	int y, mo, d, h, mi, s;
	bool pass;
} row;

static void run_rows(const row *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const row *r = &t[i];
		bool got = allows(r->beg, r->end, r->ranges, r->week,
				  at(r->y, r->mo, r->d, r->h, r->mi, r->s));
		ck_assert_msg(got == r->pass,
			      "row %zu: %s..%s \"%s\" week %s at "
			      "%04d-%02d-%02d %02d:%02d:%02d: got %s, want %s",
			      i, r->beg, r->end, r->ranges, r->week, r->y, r->mo,
			      r->d, r->h, r->mi, r->s, got ? "pass" : "deny",
			      r->pass ? "pass" : "deny");
	}
}

#define RUN_ROWS(t) run_rows(t, sizeof t / sizeof t[0])

/* ---------------------------------------------------------------- dates */

START_TEST(date_range_is_inclusive_at_both_edges)
{
	static const row t[] = {
		{"2024/03/01", "2024/03/31", "00:00:00-24:00:00", ALL_WEEK, 2024, 2, 29, 23, 59, 59, false},
		{"2024/03/01", "2024/03/31", "00:00:00-24:00:00", ALL_WEEK, 2024, 3, 1, 0, 0, 0, true},
		{"2024/03/01", "2024/03/31", "00:00:00-24:00:00", ALL_WEEK, 2024, 3, 15, 12, 0, 0, true},
		{"2024/03/01", "2024/03/31", "00:00:00-24:00:00", ALL_WEEK, 2024, 3, 31, 23, 59, 59, true},
		{"2024/03/01", "2024/03/31", "00:00:00-24:00:00", ALL_WEEK, 2024, 4, 1, 0, 0, 0, false},
		/* a one-day rule */
		{"2024/03/15", "2024/03/15", "00:00:00-24:00:00", ALL_WEEK, 2024, 3, 15, 0, 0, 0, true},
		{"2024/03/15", "2024/03/15", "00:00:00-24:00:00", ALL_WEEK, 2024, 3, 14, 23, 59, 59, false},
		{"2024/03/15", "2024/03/15", "00:00:00-24:00:00", ALL_WEEK, 2024, 3, 16, 0, 0, 0, false},
		/* across a year boundary */
		{"2023/12/31", "2024/01/01", "00:00:00-24:00:00", ALL_WEEK, 2023, 12, 31, 0, 0, 0, true},
		{"2023/12/31", "2024/01/01", "00:00:00-24:00:00", ALL_WEEK, 2024, 1, 1, 23, 59, 59, true},
		{"2023/12/31", "2024/01/01", "00:00:00-24:00:00", ALL_WEEK, 2024, 1, 2, 0, 0, 0, false},
		{"2023/12/31", "2024/01/01", "00:00:00-24:00:00", ALL_WEEK, 2023, 12, 30, 23, 59, 59, false},
	};
	RUN_ROWS(t);
}
END_TEST

START_TEST(leap_day_is_a_day_of_its_own)
{
	static const row t[] = {
		{"2024/02/29", "2024/02/29", "00:00:00-24:00:00", ALL_WEEK, 2024, 2, 29, 12, 0, 0, true},
		{"2024/02/29", "2024/02/29", "00:00:00-24:00:00", ALL_WEEK, 2024, 2, 28, 23, 59, 59, false},
		{"2024/02/29", "2024/02/29", "00:00:00-24:00:00", ALL_WEEK, 2024, 3, 1, 0, 0, 0, false},
		/* 2024/02/29 is a Thursday */
		{"2024/02/29", "2024/02/29", "00:00:00-24:00:00", "4", 2024, 2, 29, 12, 0, 0, true},
		{"2024/02/29", "2024/02/29", "00:00:00-24:00:00", "3,5", 2024, 2, 29, 12, 0, 0, false},
		/* 2000 is a leap year (÷400) */
		{"2000/02/29", "2000/02/29", "00:00:00-24:00:00", ALL_WEEK, 2000, 2, 29, 8, 0, 0, true},
		/* a range over February counts the leap day */
		{"2024/02/28", "2024/03/01", "00:00:00-24:00:00", ALL_WEEK, 2024, 2, 29, 8, 0, 0, true},
		{"2023/02/28", "2023/03/01", "00:00:00-24:00:00", ALL_WEEK, 2023, 3, 1, 8, 0, 0, true},
		/* 2100 and 2023 have no February 29: the rule never applies */
		{"2100/02/29", "2100/03/31", "00:00:00-24:00:00", ALL_WEEK, 2100, 3, 1, 8, 0, 0, false},
		{"2023/02/29", "2023/03/31", "00:00:00-24:00:00", ALL_WEEK, 2023, 3, 1, 8, 0, 0, false},
	};
	RUN_ROWS(t);
}
END_TEST

START_TEST(reversed_dates_never_apply)
{
	/* D21: the delivery example's 2020/03/01 .. 2019/6/30 */
	ck_assert(!allows("2020/03/01", "2019/6/30", "00:00:00-24:00:00", ALL_WEEK,
			  at(2019, 12, 1, 12, 0, 0)));
	ck_assert(!allows("2020/03/01", "2019/6/30", "00:00:00-24:00:00", ALL_WEEK,
			  at(2020, 3, 1, 12, 0, 0)));
	ck_assert(!allows("2020/03/01", "2019/6/30", "00:00:00-24:00:00", ALL_WEEK,
			  at(2019, 6, 30, 12, 0, 0)));
}
END_TEST

START_TEST(unpadded_as_printed_dates_and_times_are_read)
{
	static const row t[] = {
		{"2019/6/30", "2019/7/1", "00:00:00-24:00:00", ALL_WEEK, 2019, 6, 30, 0, 0, 0, true},
		{"2019/6/30", "2019/7/1", "00:00:00-24:00:00", ALL_WEEK, 2019, 7, 1, 23, 59, 59, true},
		{"2019/6/30", "2019/7/1", "00:00:00-24:00:00", ALL_WEEK, 2019, 6, 29, 23, 59, 59, false},
		{"2019/6/30", "2019/7/1", "00:00:00-24:00:00", ALL_WEEK, 2019, 7, 2, 0, 0, 0, false},
		/* §5's second example: "8:59:00-9:30:00,18:29:00-19:00:00" */
		{"2019/01/01", "2019/12/31", "8:59:00-9:30:00,18:29:00-19:00:00", ALL_WEEK, 2019, 5, 5, 8, 58, 59, false},
		{"2019/01/01", "2019/12/31", "8:59:00-9:30:00,18:29:00-19:00:00", ALL_WEEK, 2019, 5, 5, 8, 59, 0, true},
		{"2019/01/01", "2019/12/31", "8:59:00-9:30:00,18:29:00-19:00:00", ALL_WEEK, 2019, 5, 5, 9, 30, 0, true},
		{"2019/01/01", "2019/12/31", "8:59:00-9:30:00,18:29:00-19:00:00", ALL_WEEK, 2019, 5, 5, 9, 30, 1, false},
		{"2019/01/01", "2019/12/31", "8:59:00-9:30:00,18:29:00-19:00:00", ALL_WEEK, 2019, 5, 5, 18, 30, 0, true},
		{"2019/1/1", "2019/12/31", "8:5:0-9:0:0", ALL_WEEK, 2019, 1, 1, 8, 5, 0, true},
		{"2019/1/1", "2019/12/31", "8:5:0-9:0:0", ALL_WEEK, 2019, 1, 1, 9, 0, 1, false},
	};
	RUN_ROWS(t);
}
END_TEST

/* ---------------------------------------------------------------- weekdays */

START_TEST(weekdays_are_1_monday_to_7_sunday_across_the_week_boundary)
{
	/* 2024-03-10 is a Sunday, 2024-03-11 a Monday */
	static const row t[] = {
		{"2024/01/01", "2024/12/31", "00:00:00-24:00:00", "7", 2024, 3, 10, 23, 59, 59, true},
		{"2024/01/01", "2024/12/31", "00:00:00-24:00:00", "7", 2024, 3, 11, 0, 0, 0, false},
		{"2024/01/01", "2024/12/31", "00:00:00-24:00:00", "1", 2024, 3, 11, 0, 0, 0, true},
		{"2024/01/01", "2024/12/31", "00:00:00-24:00:00", "1", 2024, 3, 10, 23, 59, 59, false},
		{"2024/01/01", "2024/12/31", "00:00:00-24:00:00", "6", 2024, 3, 9, 12, 0, 0, true},
		{"2024/01/01", "2024/12/31", "00:00:00-24:00:00", "2,3,4,5", 2024, 3, 12, 12, 0, 0, true},
		{"2024/01/01", "2024/12/31", "00:00:00-24:00:00", "2,3,4,5", 2024, 3, 16, 12, 0, 0, false},
		{"2024/01/01", "2024/12/31", "00:00:00-24:00:00", "2,3,4,5", 2024, 3, 17, 12, 0, 0, false},
		/* a repeated day is a SHOULD only: the rule still reads */
		{"2024/01/01", "2024/12/31", "00:00:00-24:00:00", "7,7", 2024, 3, 10, 12, 0, 0, true},
		/* up to 28 entries read, as the validator's week format allows */
		{"2024/01/01", "2024/12/31", "00:00:00-24:00:00", ALL_WEEK "," ALL_WEEK "," ALL_WEEK "," ALL_WEEK, 2024, 3, 10, 12, 0, 0, true},
		{"2024/01/01", "2024/12/31", "00:00:00-24:00:00", ALL_WEEK "," ALL_WEEK "," ALL_WEEK "," ALL_WEEK ",7", 2024, 3, 10, 12, 0, 0, false},
		/* 1970-01-01 was a Thursday */
		{"1970/01/01", "1970/01/01", "00:00:00-24:00:00", "4", 1970, 1, 1, 0, 0, 0, true},
		{"1970/01/01", "1970/01/01", "00:00:00-24:00:00", "1,2,3,5,6,7", 1970, 1, 1, 0, 0, 0, false},
	};
	RUN_ROWS(t);
}
END_TEST

/* ---------------------------------------------------------------- time ranges */

START_TEST(range_ends_are_inclusive_to_the_second)
{
	static const row t[] = {
		{"2024/01/01", "2024/12/31", "08:00:00-08:15:00", ALL_WEEK, 2024, 5, 5, 7, 59, 59, false},
		{"2024/01/01", "2024/12/31", "08:00:00-08:15:00", ALL_WEEK, 2024, 5, 5, 8, 0, 0, true},
		{"2024/01/01", "2024/12/31", "08:00:00-08:15:00", ALL_WEEK, 2024, 5, 5, 8, 15, 0, true},
		{"2024/01/01", "2024/12/31", "08:00:00-08:15:00", ALL_WEEK, 2024, 5, 5, 8, 15, 1, false},
		/* §5's "17:30:00-23:59:59" reaches midnight */
		{"2024/01/01", "2024/12/31", "17:30:00-23:59:59", ALL_WEEK, 2024, 5, 5, 23, 59, 59, true},
		{"2024/01/01", "2024/12/31", "17:30:00-23:59:59", ALL_WEEK, 2024, 5, 6, 0, 0, 0, false},
	};
	RUN_ROWS(t);
}
END_TEST

START_TEST(range_crossing_midnight_covers_both_sides)
{
	static const row t[] = {
		{"2024/01/01", "2024/12/31", "22:00:00-06:00:00", ALL_WEEK, 2024, 5, 5, 21, 59, 59, false},
		{"2024/01/01", "2024/12/31", "22:00:00-06:00:00", ALL_WEEK, 2024, 5, 5, 22, 0, 0, true},
		{"2024/01/01", "2024/12/31", "22:00:00-06:00:00", ALL_WEEK, 2024, 5, 5, 23, 59, 59, true},
		{"2024/01/01", "2024/12/31", "22:00:00-06:00:00", ALL_WEEK, 2024, 5, 6, 0, 0, 0, true},
		{"2024/01/01", "2024/12/31", "22:00:00-06:00:00", ALL_WEEK, 2024, 5, 6, 6, 0, 0, true},
		{"2024/01/01", "2024/12/31", "22:00:00-06:00:00", ALL_WEEK, 2024, 5, 6, 6, 0, 1, false},
		{"2024/01/01", "2024/12/31", "22:00:00-06:00:00", ALL_WEEK, 2024, 5, 6, 12, 0, 0, false},
	};
	RUN_ROWS(t);
}
END_TEST

START_TEST(after_midnight_part_takes_the_weekday_the_range_began)
{
	/* Sunday-only 22:00-06:00: Sunday night into Monday morning */
	static const row t[] = {
		{"2024/01/01", "2024/12/31", "22:00:00-06:00:00", "7", 2024, 3, 11, 2, 0, 0, true},
		{"2024/01/01", "2024/12/31", "22:00:00-06:00:00", "7", 2024, 3, 10, 2, 0, 0, false},
		{"2024/01/01", "2024/12/31", "22:00:00-06:00:00", "7", 2024, 3, 10, 23, 0, 0, true},
		{"2024/01/01", "2024/12/31", "22:00:00-06:00:00", "7", 2024, 3, 11, 23, 0, 0, false},
		/* Monday-only: Monday 02:00 belongs to Sunday night */
		{"2024/01/01", "2024/12/31", "22:00:00-06:00:00", "1", 2024, 3, 11, 2, 0, 0, false},
		{"2024/01/01", "2024/12/31", "22:00:00-06:00:00", "1", 2024, 3, 12, 2, 0, 0, true},
	};
	RUN_ROWS(t);
}
END_TEST

START_TEST(after_midnight_part_takes_the_date_the_range_began)
{
	static const row t[] = {
		/* the rule ends on the 10th: its night reaches into the 11th */
		{"2024/03/01", "2024/03/10", "22:00:00-06:00:00", ALL_WEEK, 2024, 3, 11, 2, 0, 0, true},
		{"2024/03/01", "2024/03/10", "22:00:00-06:00:00", ALL_WEEK, 2024, 3, 11, 23, 0, 0, false},
		/* it starts on the 1st: the morning of the 1st is February's night */
		{"2024/03/01", "2024/03/10", "22:00:00-06:00:00", ALL_WEEK, 2024, 3, 1, 2, 0, 0, false},
		{"2024/03/01", "2024/03/10", "22:00:00-06:00:00", ALL_WEEK, 2024, 3, 1, 22, 0, 0, true},
		/* New Year's Eve into the next year */
		{"2023/12/31", "2023/12/31", "22:00:00-06:00:00", ALL_WEEK, 2024, 1, 1, 3, 0, 0, true},
		{"2023/12/31", "2023/12/31", "22:00:00-06:00:00", ALL_WEEK, 2023, 12, 31, 3, 0, 0, false},
		/* leap day into March */
		{"2024/02/29", "2024/02/29", "22:00:00-06:00:00", ALL_WEEK, 2024, 3, 1, 5, 59, 59, true},
		{"2024/02/29", "2024/02/29", "22:00:00-06:00:00", ALL_WEEK, 2024, 2, 29, 5, 59, 59, false},
	};
	RUN_ROWS(t);
}
END_TEST

START_TEST(end_of_24_00_00_covers_the_rest_of_the_day)
{
	static const row t[] = {
		{"2024/05/05", "2024/05/05", "00:00:00-24:00:00", ALL_WEEK, 2024, 5, 5, 0, 0, 0, true},
		{"2024/05/05", "2024/05/05", "00:00:00-24:00:00", ALL_WEEK, 2024, 5, 5, 23, 59, 59, true},
		{"2024/05/05", "2024/05/05", "20:00:00-24:00:00", ALL_WEEK, 2024, 5, 5, 23, 59, 59, true},
		{"2024/05/05", "2024/05/05", "20:00:00-24:00:00", ALL_WEEK, 2024, 5, 5, 19, 59, 59, false},
		/* it does not reach into the next day */
		{"2024/05/05", "2024/05/06", "20:00:00-24:00:00", ALL_WEEK, 2024, 5, 6, 0, 0, 0, false},
		/* 24:00:00 is no start, and 24 is midnight only: never applies */
		{"2024/05/05", "2024/05/05", "24:00:00-06:00:00", ALL_WEEK, 2024, 5, 5, 3, 0, 0, false},
		{"2024/05/05", "2024/05/05", "24:00:00-06:00:00,00:00:00-24:00:00", ALL_WEEK, 2024, 5, 5, 12, 0, 0, false},
		{"2024/05/05", "2024/05/05", "20:00:00-24:00:01", ALL_WEEK, 2024, 5, 5, 21, 0, 0, false},
		{"2024/05/05", "2024/05/05", "20:00:00-24:30:00", ALL_WEEK, 2024, 5, 5, 21, 0, 0, false},
		{"2024/05/05", "2024/05/05", "20:00:00-25:00:00", ALL_WEEK, 2024, 5, 5, 21, 0, 0, false},
	};
	RUN_ROWS(t);
}
END_TEST

START_TEST(equal_start_and_end_covers_nothing)
{
	static const row t[] = {
		{"2024/05/05", "2024/05/05", "08:00:00-08:00:00", ALL_WEEK, 2024, 5, 5, 8, 0, 0, false},
		{"2024/05/05", "2024/05/05", "00:00:00-00:00:00", ALL_WEEK, 2024, 5, 5, 0, 0, 0, false},
		{"2024/05/05", "2024/05/05", "00:00:00-00:00:00", ALL_WEEK, 2024, 5, 5, 12, 0, 0, false},
		/* the rule's other ranges still count */
		{"2024/05/05", "2024/05/05", "08:00:00-08:00:00,09:00:00-10:00:00", ALL_WEEK, 2024, 5, 5, 9, 30, 0, true},
		{"2024/05/05", "2024/05/05", "08:00:00-08:00:00,09:00:00-10:00:00", ALL_WEEK, 2024, 5, 5, 8, 0, 0, false},
	};
	RUN_ROWS(t);
}
END_TEST

#define R3 "07:30:00-08:30:00,12:00:00-13:00:00,17:00:00-18:00:00"
#define R16 "00:00:00-00:00:01,01:00:00-01:00:01,02:00:00-02:00:01," \
	"03:00:00-03:00:01,04:00:00-04:00:01,05:00:00-05:00:01,"     \
	"06:00:00-06:00:01,07:00:00-07:00:01,08:00:00-08:00:01,"     \
	"09:00:00-09:00:01,10:00:00-10:00:01,11:00:00-11:00:01,"     \
	"12:00:00-12:00:01,13:00:00-13:00:01,14:00:00-14:00:01,"     \
	"15:00:00-15:00:01"

START_TEST(any_of_several_ranges_applies)
{
	static const row t[] = {
		{"2024/01/01", "2024/12/31", R3, ALL_WEEK, 2024, 5, 5, 7, 30, 0, true},
		{"2024/01/01", "2024/12/31", R3, ALL_WEEK, 2024, 5, 5, 12, 30, 0, true},
		{"2024/01/01", "2024/12/31", R3, ALL_WEEK, 2024, 5, 5, 18, 0, 0, true},
		{"2024/01/01", "2024/12/31", R3, ALL_WEEK, 2024, 5, 5, 10, 0, 0, false},
		{"2024/01/01", "2024/12/31", R3, ALL_WEEK, 2024, 5, 5, 14, 0, 0, false},
		{"2024/01/01", "2024/12/31", R3, ALL_WEEK, 2024, 5, 5, 20, 0, 0, false},
		/* a duplicated range is a SHOULD only (§5's example) */
		{"2024/01/01", "2024/12/31", "07:30:00-08:30:00,07:30:00-08:30:00", ALL_WEEK, 2024, 5, 5, 8, 0, 0, true},
		/* a night range beside a day range */
		{"2024/01/01", "2024/12/31", "17:30:00-23:59:59,00:00:00-08:30:00", ALL_WEEK, 2024, 5, 5, 3, 0, 0, true},
		{"2024/01/01", "2024/12/31", "17:30:00-23:59:59,00:00:00-08:30:00", ALL_WEEK, 2024, 5, 5, 12, 0, 0, false},
		/* sixteen ranges read, the last one too */
		{"2024/01/01", "2024/12/31", R16, ALL_WEEK, 2024, 5, 5, 15, 0, 1, true},
		{"2024/01/01", "2024/12/31", R16, ALL_WEEK, 2024, 5, 5, 15, 0, 2, false},
		/* seventeen are too many: the rule never applies */
		{"2024/01/01", "2024/12/31", R16 ",16:00:00-16:00:01", ALL_WEEK, 2024, 5, 5, 0, 0, 0, false},
	};
	RUN_ROWS(t);
}
END_TEST

/* ---------------------------------------------------------------- zones */

START_TEST(time_zone_offset_moves_the_wall_clock)
{
	/* 2024-03-11 00:30 UTC is a Monday; at UTC-1 it is Sunday 23:30, at
	 * UTC+8 Monday 08:30, at UTC-5 Sunday 19:30. */
	int64_t utc = at(2024, 3, 11, 0, 30, 0);
	struct {
		const char *beg, *end, *ranges, *week;
		int64_t zone;
		bool pass;
	} t[] = {
		{"2024/03/11", "2024/03/11", "08:00:00-09:00:00", "1", 8 * 3600, true},
		{"2024/03/11", "2024/03/11", "08:00:00-09:00:00", "1", 0, false},
		{"2024/03/11", "2024/03/11", "08:00:00-09:00:00", "1", -5 * 3600, false},
		{"2024/03/10", "2024/03/10", "19:00:00-20:00:00", "7", -5 * 3600, true},
		{"2024/03/10", "2024/03/10", "19:00:00-20:00:00", "7", 0, false},
		{"2024/03/10", "2024/03/10", "23:00:00-24:00:00", "7", -3600, true},
		{"2024/03/10", "2024/03/10", "23:00:00-24:00:00", "7", 0, false},
		{"2024/03/11", "2024/03/11", "00:00:00-01:00:00", "1", 0, true},
		{"2024/03/11", "2024/03/11", "00:00:00-01:00:00", "1", -3600, false},
		/* quarter-hour zones: UTC+5:45 gives 06:15 */
		{"2024/03/11", "2024/03/11", "06:15:00-06:15:01", "1", 5 * 3600 + 45 * 60, true},
		{"2024/03/11", "2024/03/11", "06:15:00-06:15:01", "1", 5 * 3600 + 30 * 60, false},
		/* UTC-12 and UTC+14, the ends of the world's zones */
		{"2024/03/10", "2024/03/10", "12:30:00-12:30:01", "7", -12 * 3600, true},
		{"2024/03/11", "2024/03/11", "14:30:00-14:30:01", "1", 14 * 3600, true},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		ck_assert_msg(allows(t[i].beg, t[i].end, t[i].ranges, t[i].week,
				     utc + t[i].zone) == t[i].pass,
			      "row %zu (zone %lld)", i, (long long)t[i].zone);
}
END_TEST

START_TEST(moments_before_1970_are_outside_every_rule)
{
	proto_rule r = rule(1, "1970/01/01", "2100/12/31", "00:00:00-24:00:00",
			    ALL_WEEK);
	proto_rule night = rule(1, "1970/01/01", "2100/12/31",
				"22:00:00-06:00:00", ALL_WEEK);

	ck_assert_int_eq(decide(&r, 1, 0), STRAT_ALLOW_RULE);
	ck_assert_int_eq(decide(&r, 1, -1), STRAT_OUTSIDE);
	ck_assert_int_eq(decide(&r, 1, -86400), STRAT_OUTSIDE);
	ck_assert_int_eq(decide(&r, 1, -86401), STRAT_OUTSIDE);
	/* 1970-01-01 03:00 belongs to the night of 1969-12-31 */
	ck_assert_int_eq(decide(&night, 1, 3 * 3600), STRAT_OUTSIDE);
	ck_assert_int_eq(decide(&night, 1, 22 * 3600), STRAT_ALLOW_RULE);
	ck_assert_int_eq(decide(&night, 1, -3600), STRAT_OUTSIDE);
	/* extremes do not overflow (UBSan watches) */
	ck_assert_int_eq(decide(&r, 1, INT64_MIN), STRAT_OUTSIDE);
	ck_assert_int_eq(decide(&r, 1, INT64_MAX), STRAT_OUTSIDE);
	ck_assert_int_eq(decide(&night, 1, INT64_MIN), STRAT_OUTSIDE);
	ck_assert_int_eq(decide(&night, 1, INT64_MAX), STRAT_OUTSIDE);
}
END_TEST

/* "YYYY/MM/DD" of the UTC day holding t; buf holds 64 bytes. */
static void fmt_day(char *buf, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	ck_assert_ptr_nonnull(gmtime_r(&tt, &tm));
	snprintf(buf, 64, "%04d/%02d/%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday);
}

/* "hh:mm:ss-hh:mm:ss" from second a to second b of a day; buf 64 bytes. */
static void fmt_range(char *buf, int a, int b)
{
	snprintf(buf, 64, "%02d:%02d:%02d-%02d:%02d:%02d", a / 3600, a / 60 % 60,
		 a % 60, b / 3600, b / 60 % 60, b % 60);
}

/* For moments spread over 1970..2110, a rule naming exactly gmtime_r's
 * date, weekday and second applies, and one naming a neighbouring day,
 * another weekday or the seconds just before does not. */
START_TEST(wall_clock_agrees_with_gmtime)
{
	const int64_t step = 86400 * 17 + 3607; /* walks every weekday and hour */
	const int64_t stop = at(2110, 1, 1, 0, 0, 0);
	size_t n = 0;

	for (int64_t t = 0; t < stop; t += step, n++) {
		char date[64], pdate[64], ndate[64], range[64], before[64];
		char week[64], others[64] = "";
		time_t tt = (time_t)t;
		struct tm tm;
		int sod, wd;

		ck_assert_ptr_nonnull(gmtime_r(&tt, &tm));
		sod = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
		wd = tm.tm_wday ? tm.tm_wday : 7;
		fmt_day(date, t);
		fmt_day(pdate, t - 86400);
		fmt_day(ndate, t + 86400);
		if (sod < 86399)
			fmt_range(range, sod, sod + 1);
		else
			fmt_range(range, sod - 1, sod);
		if (sod >= 2)
			fmt_range(before, sod - 2, sod - 1);
		else
			fmt_range(before, 43200, 43201);
		snprintf(week, sizeof week, "%d", wd);
		for (int d = 1; d <= 7; d++)
			if (d != wd)
				snprintf(others + strlen(others),
					 sizeof others - strlen(others), "%s%d",
					 others[0] ? "," : "", d);

		ck_assert_msg(allows(date, date, range, week, t),
			      "t=%lld %s %s week %s", (long long)t, date, range, week);
		ck_assert_msg(!allows(pdate, pdate, range, week, t), "t=%lld", (long long)t);
		ck_assert_msg(!allows(ndate, ndate, range, week, t), "t=%lld", (long long)t);
		ck_assert_msg(!allows(date, date, range, others, t), "t=%lld", (long long)t);
		ck_assert_msg(!allows(date, date, before, week, t), "t=%lld", (long long)t);
	}
	ck_assert_uint_gt(n, 3000);
}
END_TEST

/* ---------------------------------------------------------------- rule mix */

START_TEST(deny_rule_wins_over_allow_rule)
{
	/* weekdays 08:00-18:00, but not lunch time */
	proto_rule rs[] = {
		rule(1, "2024/01/01", "2024/12/31", "08:00:00-18:00:00", "1,2,3,4,5"),
		rule(0, "2024/01/01", "2024/12/31", "12:00:00-13:00:00", ALL_WEEK),
	};
	proto_rule swapped[] = {rs[1], rs[0]};

	ck_assert_int_eq(decide(rs, 2, at(2024, 3, 11, 9, 0, 0)), STRAT_ALLOW_RULE);
	ck_assert_int_eq(decide(rs, 2, at(2024, 3, 11, 12, 30, 0)), STRAT_DENY_RULE);
	ck_assert_int_eq(decide(swapped, 2, at(2024, 3, 11, 12, 30, 0)), STRAT_DENY_RULE);
	ck_assert_int_eq(decide(swapped, 2, at(2024, 3, 11, 13, 0, 1)), STRAT_ALLOW_RULE);
	/* the deny rule alone, and outside every rule */
	ck_assert_int_eq(decide(rs, 2, at(2024, 3, 10, 12, 30, 0)), STRAT_DENY_RULE);
	ck_assert_int_eq(decide(rs, 2, at(2024, 3, 10, 9, 0, 0)), STRAT_OUTSIDE);
	ck_assert_int_eq(decide(rs, 2, at(2024, 3, 11, 19, 0, 0)), STRAT_OUTSIDE);
	/* a strategy with no rules lets nobody pass */
	ck_assert_int_eq(decide(NULL, 0, at(2024, 3, 11, 9, 0, 0)), STRAT_OUTSIDE);
}
END_TEST

START_TEST(rule_with_a_missing_or_unreadable_field_never_applies)
{
	int64_t now = at(2024, 3, 11, 9, 0, 0); /* Monday */
	proto_rule ok = rule(1, "2024/01/01", "2024/12/31", "08:00:00-10:00:00", ALL_WEEK);
	proto_rule bad[26];
	size_t n = 0;

	ck_assert_int_eq(decide(&ok, 1, now), STRAT_ALLOW_RULE);
#define BAD(field, val) (bad[n] = ok, bad[n].field = (val), n++)
	BAD(has_rule_id, false);
	BAD(has_type, false);
	BAD(type, 2);
	BAD(type, -1);
	BAD(beg_date, NULL);
	BAD(end_date, NULL);
	BAD(time_range, NULL);
	BAD(week, NULL);
	BAD(beg_date, "2024/13/01");
	BAD(beg_date, "2024-01-01");
	BAD(end_date, "");
	BAD(end_date, "1969/12/31");
	BAD(time_range, "");
	BAD(time_range, "08:00-10:00");
	BAD(time_range, "08:00:00 - 10:00:00");
	BAD(time_range, "08:00:00-10:00:00,");
	BAD(time_range, "08:00:00-10:00:00-11:00:00");
	BAD(time_range, "08:00:00-10:60:00");
	BAD(week, "");
	BAD(week, "1,8");
	BAD(week, "0,1");
	BAD(week, "1,,2");
	BAD(week, "1, 2");
	BAD(week, "12");
	BAD(week, "1 2");
	BAD(week, "1;2");
#undef BAD
	ck_assert_uint_eq(n, sizeof bad / sizeof bad[0]);
	for (size_t i = 0; i < n; i++) {
		proto_rule deny = bad[i];

		ck_assert_msg(decide(&bad[i], 1, now) == STRAT_OUTSIDE, "allow rule %zu", i);
		/* nor does it deny, beside a good allow rule */
		if (deny.type == 1)
			deny.type = 0;
		proto_rule pair[] = {ok, deny};
		ck_assert_msg(decide(pair, 2, now) == STRAT_ALLOW_RULE, "deny rule %zu", i);
	}
}
END_TEST

/* ---------------------------------------------------------------- strategies */

START_TEST(strategy_id_0_passes_unrestricted)
{
	proto_strategy closed0 = strat(0, 0, NULL, 0);
	strat_why why = (strat_why)-1;

	ck_assert(strat_decide(NULL, 0, 0, 0, &why));
	ck_assert_int_eq(why, STRAT_UNRESTRICTED);
	ck_assert(strat_decide(&closed0, 1, 0, at(2024, 1, 1, 0, 0, 0), &why));
	ck_assert_int_eq(why, STRAT_UNRESTRICTED);
}
END_TEST

START_TEST(missing_strategy_is_denied)
{
	proto_rule r = rule(1, "2024/01/01", "2024/12/31", "00:00:00-24:00:00", ALL_WEEK);
	proto_strategy list[] = {strat(1, 1, &r, 1), strat(2, 1, &r, 1)};
	int64_t now = at(2024, 5, 5, 12, 0, 0);
	strat_why why = (strat_why)-1;

	ck_assert(strat_decide(list, 2, 2, now, &why));
	ck_assert_int_eq(why, STRAT_ALLOW_RULE);
	ck_assert(!strat_decide(list, 2, 3, now, &why));
	ck_assert_int_eq(why, STRAT_NO_STRATEGY);
	ck_assert(!strat_decide(NULL, 0, 1, now, &why));
	ck_assert_int_eq(why, STRAT_NO_STRATEGY);
	/* n bounds the list */
	ck_assert(!strat_decide(list, 1, 2, now, &why));
	ck_assert_int_eq(why, STRAT_NO_STRATEGY);
	/* an entry without a strategyId is nobody's */
	list[1].has_strategy_id = false;
	ck_assert(!strat_decide(list, 2, 2, now, &why));
	ck_assert_int_eq(why, STRAT_NO_STRATEGY);
}
END_TEST

START_TEST(closed_or_stateless_strategy_is_denied)
{
	proto_rule r = rule(1, "2024/01/01", "2024/12/31", "00:00:00-24:00:00", ALL_WEEK);
	proto_strategy s = strat(SID, 0, &r, 1);
	int64_t now = at(2024, 5, 5, 12, 0, 0);
	strat_why why = (strat_why)-1;

	ck_assert(!strat_decide(&s, 1, SID, now, &why));
	ck_assert_int_eq(why, STRAT_CLOSED);
	s.state = 2;
	ck_assert(!strat_decide(&s, 1, SID, now, &why));
	ck_assert_int_eq(why, STRAT_CLOSED);
	s.state = 1;
	s.has_state = false;
	ck_assert(!strat_decide(&s, 1, SID, now, &why));
	ck_assert_int_eq(why, STRAT_CLOSED);
	s.has_state = true;
	ck_assert(strat_decide(&s, 1, SID, now, &why));
	ck_assert_int_eq(why, STRAT_ALLOW_RULE);
	/* an absent rule list is no rule */
	s.has_rules = false;
	ck_assert(!strat_decide(&s, 1, SID, now, &why));
	ck_assert_int_eq(why, STRAT_OUTSIDE);
}
END_TEST

START_TEST(later_duplicate_strategy_id_counts)
{
	proto_rule day = rule(1, "2024/01/01", "2024/12/31", "08:00:00-18:00:00", ALL_WEEK);
	proto_rule night = rule(1, "2024/01/01", "2024/12/31", "18:00:01-07:59:59", ALL_WEEK);
	proto_strategy list[] = {strat(SID, 1, &day, 1), strat(9, 1, &day, 1),
				 strat(SID, 1, &night, 1)};
	strat_why why = (strat_why)-1;

	ck_assert(!strat_decide(list, 3, SID, at(2024, 5, 5, 12, 0, 0), &why));
	ck_assert_int_eq(why, STRAT_OUTSIDE);
	ck_assert(strat_decide(list, 3, SID, at(2024, 5, 5, 22, 0, 0), &why));
	ck_assert_int_eq(why, STRAT_ALLOW_RULE);
	/* a later closed copy closes it */
	list[2].state = 0;
	ck_assert(!strat_decide(list, 3, SID, at(2024, 5, 5, 12, 0, 0), &why));
	ck_assert_int_eq(why, STRAT_CLOSED);
	/* and with the later copy cut off, the earlier one counts */
	ck_assert(strat_decide(list, 2, SID, at(2024, 5, 5, 12, 0, 0), &why));
	ck_assert_int_eq(why, STRAT_ALLOW_RULE);
}
END_TEST

START_TEST(why_may_be_null_and_every_reason_has_a_text)
{
	proto_rule r = rule(1, "2024/01/01", "2024/12/31", "00:00:00-24:00:00", ALL_WEEK);
	proto_strategy s = strat(SID, 1, &r, 1);
	const strat_why all[] = {STRAT_UNRESTRICTED, STRAT_ALLOW_RULE, STRAT_DENY_RULE,
				 STRAT_OUTSIDE, STRAT_NO_STRATEGY, STRAT_CLOSED};

	ck_assert(strat_decide(&s, 1, SID, at(2024, 5, 5, 12, 0, 0), NULL));
	ck_assert(!strat_decide(&s, 1, SID + 1, at(2024, 5, 5, 12, 0, 0), NULL));
	ck_assert(strat_decide(&s, 1, 0, 0, NULL));
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		ck_assert_ptr_nonnull(strat_why_text(all[i]));
		ck_assert_uint_gt(strlen(strat_why_text(all[i])), 10);
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(strat_why_text(all[i]), strat_why_text(all[j]));
	}
	ck_assert_str_eq(strat_why_text(STRAT_DENY_RULE),
			 "a deny rule (type 0) applies (deny wins, D24)");
}
END_TEST

/* ---------------------------------------------------------------- verdict */

START_TEST(verdict_accepts_a_well_formed_strategy)
{
	proto_rule rs[] = {
		rule(1, "2024/01/01", "2024/12/31", "08:00:00-18:00:00", "1,2,3,4,5"),
		rule(0, "2024/03/01", "2024/03/01", "22:00:00-06:00:00,07:00:00-24:00:00", "7"),
		rule(1, "2019/6/30", "2019/6/30", "8:59:00-9:30:00", "7,7"),
	};
	proto_strategy s = strat(SID, 1, rs, 3);

	ck_assert_int_eq(strat_verdict(&s, false), 0);
	s.state = 0; /* a closed strategy is stored, closed */
	ck_assert_int_eq(strat_verdict(&s, false), 0);
	s.n_rules = 0; /* no rules: stored, lets nobody pass */
	ck_assert_int_eq(strat_verdict(&s, false), 0);
	s.strategy_id = 2147483647;
	ck_assert_int_eq(strat_verdict(&s, false), 0);
}
END_TEST

START_TEST(verdict_refuses_reserved_missing_or_odd_strategy_fields)
{
	proto_rule r = rule(1, "2024/01/01", "2024/12/31", "08:00:00-18:00:00", ALL_WEEK);
	proto_strategy good = strat(SID, 1, &r, 1), s;

	ck_assert_int_eq(strat_verdict(NULL, false), 1);
	s = good, s.strategy_id = 0; /* D37 */
	ck_assert_int_eq(strat_verdict(&s, false), 1);
	s = good, s.strategy_id = -1;
	ck_assert_int_eq(strat_verdict(&s, false), 1);
	s = good, s.has_strategy_id = false;
	ck_assert_int_eq(strat_verdict(&s, false), 1);
	s = good, s.has_state = false;
	ck_assert_int_eq(strat_verdict(&s, false), 1);
	s = good, s.state = 2;
	ck_assert_int_eq(strat_verdict(&s, false), 1);
	s = good, s.has_rules = false;
	ck_assert_int_eq(strat_verdict(&s, false), 1);
	s = good, s.rules = NULL;
	ck_assert_int_eq(strat_verdict(&s, false), 1);
	s = good, s.name = NULL; /* name is a SHOULD only */
	ck_assert_int_eq(strat_verdict(&s, false), 0);
}
END_TEST

START_TEST(verdict_refuses_a_rule_missing_a_field)
{
	proto_rule ok = rule(1, "2024/01/01", "2024/12/31", "08:00:00-18:00:00", ALL_WEEK);
	proto_rule rs[2];
	proto_strategy s = strat(SID, 1, rs, 2);
	struct {
		const char *what;
		proto_rule r;
	} t[] = {
		{"no ruleId", ok}, {"no type", ok}, {"type 2", ok},
		{"no begDate", ok}, {"no endDate", ok}, {"no timeRange", ok},
		{"no week", ok}, {"bad week", ok}, {"bad timeRange", ok},
		{"bad date", ok},
	};
	t[0].r.has_rule_id = false;
	t[1].r.has_type = false;
	t[2].r.type = 2;
	t[3].r.beg_date = NULL;
	t[4].r.end_date = NULL;
	t[5].r.time_range = NULL;
	t[6].r.week = NULL;
	t[7].r.week = "0";
	t[8].r.time_range = "8-9";
	t[9].r.beg_date = "2023/02/29";

	rs[0] = ok;
	rs[1] = ok;
	ck_assert_int_eq(strat_verdict(&s, false), 0);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		rs[1] = t[i].r;
		ck_assert_msg(strat_verdict(&s, false) == 1, "%s", t[i].what);
	}
}
END_TEST

START_TEST(verdict_refuses_end_date_before_begin_date)
{
	proto_rule r = rule(1, "2020/03/01", "2019/6/30", "08:00:00-18:00:00", ALL_WEEK);
	proto_strategy s = strat(SID, 1, &r, 1);

	ck_assert_int_eq(strat_verdict(&s, false), 1); /* D21's example */
	r.end_date = "2020/02/29";
	ck_assert_int_eq(strat_verdict(&s, false), 1);
	r.end_date = "2020/03/01"; /* one day: fine */
	ck_assert_int_eq(strat_verdict(&s, false), 0);
	r.end_date = "2020/3/2";
	ck_assert_int_eq(strat_verdict(&s, false), 0);
}
END_TEST

START_TEST(verdict_refuses_on_a_must_violation)
{
	proto_rule r = rule(1, "2024/01/01", "2024/12/31", "08:00:00-18:00:00", ALL_WEEK);
	proto_strategy s = strat(SID, 1, &r, 1);

	ck_assert_int_eq(strat_verdict(&s, false), 0);
	ck_assert_int_eq(strat_verdict(&s, true), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("strategy");
	TCase *tc = tcase_create("decide");
	TCase *tv = tcase_create("verdict");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, date_range_is_inclusive_at_both_edges);
	tcase_add_test(tc, leap_day_is_a_day_of_its_own);
	tcase_add_test(tc, reversed_dates_never_apply);
	tcase_add_test(tc, unpadded_as_printed_dates_and_times_are_read);
	tcase_add_test(tc, weekdays_are_1_monday_to_7_sunday_across_the_week_boundary);
	tcase_add_test(tc, range_ends_are_inclusive_to_the_second);
	tcase_add_test(tc, range_crossing_midnight_covers_both_sides);
	tcase_add_test(tc, after_midnight_part_takes_the_weekday_the_range_began);
	tcase_add_test(tc, after_midnight_part_takes_the_date_the_range_began);
	tcase_add_test(tc, end_of_24_00_00_covers_the_rest_of_the_day);
	tcase_add_test(tc, equal_start_and_end_covers_nothing);
	tcase_add_test(tc, any_of_several_ranges_applies);
	tcase_add_test(tc, time_zone_offset_moves_the_wall_clock);
	tcase_add_test(tc, moments_before_1970_are_outside_every_rule);
	tcase_add_test(tc, wall_clock_agrees_with_gmtime);
	tcase_add_test(tc, deny_rule_wins_over_allow_rule);
	tcase_add_test(tc, rule_with_a_missing_or_unreadable_field_never_applies);
	tcase_add_test(tc, strategy_id_0_passes_unrestricted);
	tcase_add_test(tc, missing_strategy_is_denied);
	tcase_add_test(tc, closed_or_stateless_strategy_is_denied);
	tcase_add_test(tc, later_duplicate_strategy_id_counts);
	tcase_add_test(tc, why_may_be_null_and_every_reason_has_a_text);
	tcase_add_test(tv, verdict_accepts_a_well_formed_strategy);
	tcase_add_test(tv, verdict_refuses_reserved_missing_or_odd_strategy_fields);
	tcase_add_test(tv, verdict_refuses_a_rule_missing_a_field);
	tcase_add_test(tv, verdict_refuses_end_date_before_begin_date);
	tcase_add_test(tv, verdict_refuses_on_a_must_violation);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tv);
	return tu_run(s);
}
