/* strategy.c -- the §5 pass decision (strat_decide) and the device's type 7
 * verdict on a delivered strategy (strat_verdict).  Owns reading a rule's
 * dates, weekdays and time ranges for deciding; the format rules and their
 * reports stay in proto/, storing strategies in sim/store.  Pure: no I/O,
 * no clock, no allocation. */
#include "strategy.h"

#include <string.h>

#define DAY_SECS 86400
#define MAX_RANGES 16 /* §5: timeRange holds up to 16 ranges */
#define MAX_WEEK 28   /* as proto_fmt.c's check_week: 7 days, 4 times over */

const char *strat_why_text(strat_why w)
{
	switch (w) {
#define STRAT_WHY_CASE(e, text) case STRAT_##e: return text;
		STRAT_WHY_MAP(STRAT_WHY_CASE)
#undef STRAT_WHY_CASE
	}
	return "unknown reason";
}

/* ---------------------------------------------------------------- calendar */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil); m 1..12, d 1..31. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;                                    /* 0..399 */
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            /* 0..146096 */
	return era * 146097 + doe - 719468;
}

/* ISO weekday (1 Monday .. 7 Sunday) of day number `day` (1970-01-01, a
 * Thursday, is day 0). */
static int weekday(int64_t day)
{
	return (int)((day % 7 + 10) % 7) + 1;
}

/* The wall clock of `local`: day number and seconds into that day, with
 * floor division so that negative moments land on the day before. */
static void wall_clock(int64_t local, int64_t *day, int *sod)
{
	int64_t q = local / DAY_SECS, r = local % DAY_SECS;

	if (r < 0) {
		q--;
		r += DAY_SECS;
	}
	*day = q;
	*sod = (int)r;
}

/* ---------------------------------------------------------------- rules */

/* A rule's fields as numbers.  Time ranges cover start..end inclusive of
 * both seconds ("17:30:00-23:59:59" reaches the end of the day); an end of
 * 24:00:00 is stored as DAY_SECS and covers the rest of the day. */
typedef struct rule_view {
	int64_t beg, end;  /* day numbers, inclusive */
	unsigned week;     /* bit d set for weekday d, 1..7 */
	int start[MAX_RANGES], stop[MAX_RANGES];
	size_t n_ranges;
} rule_view;

static bool read_date(const char *s, int64_t *day)
{
	int y, m, d;

	if (!s || proto_fmt_date(s, true, &y, &m, &d) < 0)
		return false;
	*day = days_from_civil(y, m, d);
	return true;
}

/* hh:mm:ss in p[0..n) (padded or not); end_of_day admits 24:00:00. */
static bool read_hms(const char *p, size_t n, bool end_of_day, int *secs)
{
	char buf[9]; /* "hh:mm:ss" is the longest form */

	if (n == 0 || n >= sizeof buf)
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (end_of_day && n >= 3 && buf[0] == '2' && buf[1] == '4' &&
	    buf[2] == ':') {
		/* proto_fmt_hms knows no 24; read 24:mm:ss as 00:mm:ss and
		 * accept it only when that is midnight exactly. */
		buf[0] = buf[1] = '0';
		if (proto_fmt_hms(buf, true, secs) < 0 || *secs != 0)
			return false;
		*secs = DAY_SECS;
		return true;
	}
	return proto_fmt_hms(buf, true, secs) >= 0;
}

/* "a-b[,a-b...]", no spaces, no empty entries, at most MAX_RANGES. */
static bool read_ranges(const char *s, rule_view *v)
{
	v->n_ranges = 0;
	if (!s)
		return false;
	for (const char *p = s;;) {
		size_t len = strcspn(p, ",");
		const char *dash = memchr(p, '-', len);

		if (!dash || v->n_ranges == MAX_RANGES)
			return false;
		if (!read_hms(p, (size_t)(dash - p), false, &v->start[v->n_ranges]) ||
		    !read_hms(dash + 1, len - (size_t)(dash - p) - 1, true,
			      &v->stop[v->n_ranges]))
			return false;
		v->n_ranges++;
		if (!p[len])
			return true;
		p += len + 1;
	}
}

/* "d[,d...]" with d in 1..7, no spaces; a repeated day is harmless. */
static bool read_week(const char *s, unsigned *mask)
{
	size_t n = 0;

	*mask = 0;
	if (!s)
		return false;
	for (const char *p = s;; p += 2) {
		if (p[0] < '1' || p[0] > '7' || (p[1] && p[1] != ',') ||
		    ++n > MAX_WEEK)
			return false;
		*mask |= 1u << (p[0] - '0');
		if (!p[1])
			return true;
	}
}

/* Whether every field of r is present and readable (leniently, as the
 * as-printed profile reads them); fills *v when so. */
static bool read_rule(const proto_rule *r, rule_view *v)
{
	return r->has_rule_id && r->has_type && (r->type == 0 || r->type == 1) &&
	       read_date(r->beg_date, &v->beg) &&
	       read_date(r->end_date, &v->end) &&
	       read_ranges(r->time_range, v) && read_week(r->week, &v->week);
}

static bool day_in(const rule_view *v, int64_t day)
{
	return day >= v->beg && day <= v->end && ((v->week >> weekday(day)) & 1u);
}

/* Whether the rule covers second `sod` of day `day`.  A range that starts
 * after it ends covers start..midnight of a day the rule covers, and
 * midnight..end of the day after it. */
static bool rule_covers(const rule_view *v, int64_t day, int sod)
{
	for (size_t i = 0; i < v->n_ranges; i++) {
		int a = v->start[i], b = v->stop[i];

		if (a < b && sod >= a && sod <= b && day_in(v, day))
			return true;
		if (a > b && ((sod >= a && day_in(v, day)) ||
			      (sod <= b && day_in(v, day - 1))))
			return true;
		/* a == b covers nothing (D35) */
	}
	return false;
}

/* ---------------------------------------------------------------- decide */

/* The strategy the device uses for sid: the last one in the list, as a
 * later entry of a delivery replaces an earlier one. */
static const proto_strategy *find(const proto_strategy *list, size_t n,
				  int64_t sid)
{
	const proto_strategy *found = NULL;

	for (size_t i = 0; list && i < n; i++)
		if (list[i].has_strategy_id && list[i].strategy_id == sid)
			found = &list[i];
	return found;
}

static bool verdict(strat_why *why, strat_why w)
{
	if (why)
		*why = w;
	return w == STRAT_UNRESTRICTED || w == STRAT_ALLOW_RULE;
}

bool strat_decide(const proto_strategy *list, size_t n, int64_t sid,
		  int64_t local, strat_why *why)
{
	const proto_strategy *s;
	bool allow = false;
	int64_t day;
	int sod;

	if (sid == 0)
		return verdict(why, STRAT_UNRESTRICTED);
	s = find(list, n, sid);
	if (!s)
		return verdict(why, STRAT_NO_STRATEGY);
	if (!s->has_state || s->state != 1)
		return verdict(why, STRAT_CLOSED);
	wall_clock(local, &day, &sod);
	for (size_t i = 0; s->has_rules && s->rules && i < s->n_rules; i++) {
		const proto_rule *r = &s->rules[i];
		rule_view v;

		if (!read_rule(r, &v) || !rule_covers(&v, day, sod))
			continue;
		if (r->type == 0)
			return verdict(why, STRAT_DENY_RULE); /* D24 */
		allow = true;
	}
	return verdict(why, allow ? STRAT_ALLOW_RULE : STRAT_OUTSIDE);
}

/* ---------------------------------------------------------------- verdict */

int strat_verdict(const proto_strategy *s, bool bad_must)
{
	if (bad_must || !s || !s->has_strategy_id || s->strategy_id <= 0 ||
	    !s->has_state || (s->state != 0 && s->state != 1) || !s->has_rules ||
	    (!s->rules && s->n_rules))
		return 1;
	for (size_t i = 0; i < s->n_rules; i++) {
		rule_view v;

		/* A missing or unreadable field, or reversed dates (D21):
		 * the rule could never apply. */
		if (!read_rule(&s->rules[i], &v) || v.end < v.beg)
			return 1;
	}
	return 0;
}
