/* fixture.h -- expectation files for protocol fixtures: what `camsim
 * validate' must say about a message file, written beside it as NAME.expect.
 * Owns parsing those files and comparing a validation result against them;
 * does no validation itself (that is proto/). */
#ifndef CAMSIM_FIXTURE_H
#define CAMSIM_FIXTURE_H

#include "conf_err.h"
#include "proto.h"

#include <stdio.h>

/* One expectation file:
 *   # comment
 *   profile: as-printed          (default strict)
 *   direction: to-device         (to-server | to-device; default: detect)
 *   exit: 1                      (0 no MUST, 1 MUST broken, 2 not JSON)
 *   notjson: line 14, column 1   (exit 2: the error starts with this)
 *   MUST <rule-id> <json-path>   (every violation, in report order)
 *   SHOULD <rule-id> <json-path>
 */
typedef struct fx_line {
	proto_severity sev;
	char *rule, *path;
} fx_line;

typedef struct fx_expect {
	const proto_profile *prof;
	proto_dir dir;
	int exit_code;
	char *notjson;
	fx_line *v;
	size_t n;
} fx_expect;

/* Parses the expectation text buf[0..len).  Returns 0, or CONF_EFORMAT
 * with a "line N: why" sentence in err (CONF_ENOMEM: "out of memory").
 * Free with fx_expect_free. */
int fx_expect_parse(const char *buf, size_t len, fx_expect *e, char *err,
		    size_t errlen);
void fx_expect_free(fx_expect *e);

/* The outcome of validating one message file. */
typedef struct fx_result {
	int exit_code;      /* 0, 1, 2 as camsim validate */
	proto_kind kind;
	char error[256];    /* not JSON: the parser's sentence */
	proto_report rep;
} fx_result;

/* Validates buf[0..len) as camsim validate does.  Free with fx_result_free. */
void fx_validate(const char *buf, size_t len, proto_dir dir,
		 const proto_profile *prof, fx_result *r);
void fx_result_free(fx_result *r);

/* Compares; returns the number of differences, each described on out
 * (may be NULL) as "  expected ... / got ..." lines. */
size_t fx_compare(const fx_expect *e, const fx_result *r, FILE *out);

#endif
