/* scenario.h -- scenario files (scenarios/NAME.json, docs/scenarios.md,
 * docs/scenario.schema.json): loading, checking every member with errors
 * that name the file, the step and the field, and the subset matcher that
 * expect steps use.  Runs nothing; knows nothing of devices or servers. */
#ifndef CAMSIM_SCENARIO_H
#define CAMSIM_SCENARIO_H

#include "conf_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cJSON cJSON;

typedef enum scn_step_kind {
	SCN_DEVICE,   /* something happens at the device (control API) */
	SCN_OPERATOR, /* a person acts on the server side */
	SCN_EXPECT,   /* something must (or must not) be seen */
	SCN_WAIT,     /* time passes */
} scn_step_kind;

typedef struct scn_step {
	scn_step_kind kind;
	const char *action;  /* "face", "enroll", "message", ...; "wait" */
	size_t index;        /* 0-based position in "steps" */
	size_t dev;          /* index into scenario.devs */
	bool has_at;
	double at_s;         /* start no earlier than this, s since start */
	double after_s;      /* pause before the step, s */
	double window_s;     /* expect: within (positive) or for (none);
				wait: how long */
	bool none;           /* expect: nothing may match for window_s */
	bool should;         /* expect: a SHOULD check (warning) */
	bool mock_only;      /* needs the mock's own state */
	int64_t count;       /* expect: matches needed (1) */
	const char *note;    /* shown in reports (may be NULL) */
	const char *ref;     /* operator: name for expect "outcome" */
	const cJSON *obj;    /* the step object (owned by the scenario) */
} scn_step;

typedef struct scn_device {
	const char *id;          /* name in steps' "dev" ("dev") */
	const char *cid;         /* NULL: derived from the scenario name */
	int64_t interval_s;      /* heartbeat interval (3) */
	bool has_clock;
	int64_t clock_ms;        /* device clock at start, UTC ms */
	bool has_zone;
	int64_t zone_s;
	const char *app_version; /* NULL: the device's default */
	int64_t capacity;        /* face library (0: default) */
	int64_t record_cap;      /* offline records kept (0: default) */
	int64_t upgrade_max;     /* bytes (0: default) */
	double http_timeout_s;   /* per exchange (0: default 10) */
	double idle_reupload_s;  /* idle retransmission delay (0: 180) */
} scn_device;

typedef struct scenario {
	cJSON *root;
	char *path;              /* as given */
	char *dir;               /* directory of path: relative files in
				    steps are resolved against it */
	const char *name, *title, *description;
	const char **sections;
	size_t n_sections;
	bool needs_recognition;  /* "requires": ["recognition"] */
	bool mock_only;          /* "server": "mock" */
	double timeout_s;        /* default window of expect steps (30) */
	const cJSON *allow_rules; /* rule ids the scenario provokes on purpose
				     (strings; may be NULL) */
	scn_device *devs;
	size_t n_devs;
	scn_step *steps;
	size_t n_steps;
} scenario;

/* Reads and checks a scenario file.  On error *out is NULL and err holds
 * "FILE: steps[3].within: -1 is not allowed: must be a number >= 0"-style
 * sentences.  CONF_E* or 0. */
int scn_load(const char *path, scenario **out, char *err, size_t errlen);
/* The same from text in memory; path names it in errors and sets dir. */
int scn_parse(const char *text, size_t len, const char *path, scenario **out,
	      char *err, size_t errlen);
void scn_free(scenario *s);

/* True when rule is one of the scenario's "allow_rules". */
bool scn_allowed(const scenario *s, const char *rule);

/* Resolves a file named in a step against the scenario's directory
 * (absolute paths stay).  Returns malloc'd text or NULL (no memory). */
char *scn_path(const scenario *s, const char *file);

/* Subset match: true when every member of pattern is found in value with
 * an equal value (objects recursively, arrays element by element, numbers
 * as doubles).  Operators in a pattern object: {"$exists": bool},
 * {"$ne": v}, {"$gt"/"$gte"/"$lt"/"$lte": n}, {"$contains": "text"},
 * {"$len": n}, {"$in": [v...]}, {"$some": pattern} (an array element
 * matches).  On false, why (may be NULL) names the first JSON path that
 * differs and both values. */
bool scn_match(const cJSON *pattern, const cJSON *value, char *why,
	       size_t whylen);

/* The members a kind of step may carry, for the catalogues that check
 * step objects beside this module (operator.h), so that every step kind
 * reports a wrong member in the same words.  Member types: b bool, n
 * number, p number >= 0 (seconds), i integer, s non-empty string, t time
 * (as scn_time reads it), o object, a array, x anything.  Tables of them
 * end with a NULL key. */
typedef struct scn_member {
	const char *key;
	char type;
	bool required;
} scn_member;

/* Members any step may carry ("at", "after", "dev", "note"). */
extern const scn_member scn_common_members[];

/* Checks object o (named where in file path, e.g. "steps[3]") against the
 * members of a and b (b may be NULL): required ones present, types right,
 * nothing unknown except skip (the step's kind key; may be NULL).
 * CONF_EFORMAT with "PATH: WHERE.member: value is not allowed: rule" (or
 * "... is missing", "... unknown member") in err, or 0. */
int scn_check_members(const char *path, const char *where, const cJSON *o,
		      const scn_member *a, const scn_member *b,
		      const char *skip, char *err, size_t errlen);

/* Parses "2026-11-24T08:00:00Z" (or a number of UTC seconds) into UTC ms;
 * false when it is neither. */
bool scn_time(const cJSON *v, int64_t *ms);

#endif
