/* scenario_int.h -- what scenario.c shares with operator.c: the member
 * tables that both check step objects with, so that every step kind
 * reports a wrong member in the same words. */
#ifndef CAMSIM_SCENARIO_INT_H
#define CAMSIM_SCENARIO_INT_H

#include "scenario.h"

/* Member types: b bool, n number, p number >= 0 (seconds), i integer,
 * s string, t time (ISO string or number), o object, a array, x any. */
typedef struct scn__member {
	const char *key;
	char type;
	bool required;
} scn__member;

/* Members any step may carry ("at", "after", "dev", "note"). */
extern const scn__member scn__common[];

/* Checks object o (named where in file path) against the members of a and
 * b (NULL-key terminated, b may be NULL): required ones present, types
 * right, nothing unknown except skip (the step's kind key).  CONF_EFORMAT
 * with "PATH: WHERE.member: value is not allowed: rule" in err, or 0. */
int scn__check_members(const char *path, const char *where, const cJSON *o,
		       const scn__member *a, const scn__member *b,
		       const char *skip, char *err, size_t errlen);

#endif
