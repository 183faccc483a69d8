/* strategy.h -- the pass decision of §5: whether a person with a given
 * strategyId may pass at a moment of device local time, given the device's
 * stored strategies; and the device's verdict on each strategy of a
 * delivery (type 7 result).  Pure: no I/O, no clock, no allocation. */
#ifndef CAMSIM_STRATEGY_H
#define CAMSIM_STRATEGY_H

#include "proto.h"

/* Why a decision came out as it did, for events and transcripts. */
#define STRAT_WHY_MAP(X)                                                      \
	X(UNRESTRICTED, "strategyId 0: not restricted")                      \
	X(ALLOW_RULE, "an allow rule (type 1) applies and no deny rule")      \
	X(DENY_RULE, "a deny rule (type 0) applies (deny wins, D24)")         \
	X(OUTSIDE, "outside every rule of the strategy")                     \
	X(NO_STRATEGY, "the person's strategy does not exist on the device")  \
	X(CLOSED, "the person's strategy is closed (state 0)")

typedef enum strat_why {
#define STRAT_WHY_ENUM(e, text) STRAT_##e,
	STRAT_WHY_MAP(STRAT_WHY_ENUM)
#undef STRAT_WHY_ENUM
} strat_why;

/* Sentence for a strat_why (static storage). */
const char *strat_why_text(strat_why w);

/* The device's decision for a person whose strategyId is sid, at local
 * time `local` = UTC seconds + the time zone's offset (seconds east), so
 * that gmtime-style arithmetic on it gives the wall clock of the device.
 * list[0..n) are the stored strategies (as proto_decode left them: fields
 * that broke a rule are absent; a rule missing a field never applies).
 * Returns true to let the person pass; *why (may be NULL) gets the reason.
 *
 * A rule applies when its date range (begDate..endDate inclusive), its
 * weekday list (1 Monday .. 7 Sunday) and one of its time ranges cover
 * the moment.  A range whose start is after its end crosses midnight; the
 * part after midnight belongs to the day on which the range began, so
 * its date and weekday are those of the previous day (docs/protocol.md
 * D44).  Both ends of a range are inclusive, to the second
 * ("17:30:00-23:59:59" reaches midnight); an end of 24:00:00 means the end
 * of the day; a range whose start equals its end covers nothing.  Unpadded
 * dates and times ("2019/6/30", "8:59:00") are read as the as-printed
 * profile accepts them.  Of several strategies with the same id, the last
 * in the list counts. */
bool strat_decide(const proto_strategy *list, size_t n, int64_t sid,
		  int64_t local, strat_why *why);

/* The type 7 result for one strategy of a delivery: 0 accepted, 1 refused.
 * Refused when its strategyId is absent or 0 (D37), its state is absent,
 * its rule list is absent, a rule lacks a field or has endDate before
 * begDate (D21), or bad_must is true (the caller saw a MUST violation under
 * this strategy's path while decoding).  Also refused, should the caller
 * hand over values the decoder would have dropped: a negative strategyId,
 * a state or rule type other than 0/1, a rule field strat_decide cannot
 * read.  A closed strategy and an empty rule list are accepted. */
int strat_verdict(const proto_strategy *s, bool bad_must);

#endif
