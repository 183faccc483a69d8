/* report.h -- the reports of one conformance run: turns the run document
 * (docs/report.md, docs/report.schema.json) into junit.xml, report.json and
 * report.html.  Runs nothing, reads no scenario, judges nothing: every
 * verdict and count it writes comes from the document. */
#ifndef CAMSIM_REPORT_H
#define CAMSIM_REPORT_H

#include "conf_err.h"

#include <stddef.h>
#include <stdio.h>

typedef struct cJSON cJSON;

/* Writes dir/junit.xml, dir/report.json and dir/report.html for one run.
 * dir (and its parents) is created if missing.  Each file is written to a
 * hidden temporary name in dir, flushed to disk and renamed, so a crash
 * never leaves a half report; on failure no temporary file remains (a
 * file written before the failure stays).  run may be malformed (any
 * member missing, null or of the wrong type): the writers treat what they
 * cannot use as absent.  Returns 0, or CONF_E* with a sentence naming the
 * file and the cause in err (when errlen > 0).  Thread-safe. */
int rep_write(const cJSON *run, const char *dir, char *err, size_t errlen);

/* Each writer alone (rep_write uses them).  They write to f and return 0,
 * CONF_EINVAL for a NULL argument, CONF_ENOMEM, or CONF_EWRITE when f reports
 * a write error.  None of them modifies run. */

/* JUnit XML: one testsuite per scenario, one testcase per check.  Well-
 * formed XML 1.0 whatever run holds (invalid UTF-8 and characters XML
 * forbids become U+FFFD).  The counts are those of the testcases written,
 * not run.summary's; run.fail_on_warning true turns warnings into
 * failures of type "should". */
int rep_junit(const cJSON *run, FILE *f);

/* The run document pretty-printed.  Strings that are not valid UTF-8 are
 * written with U+FFFD in place of each invalid byte, so that the file is
 * valid JSON (RFC 8259 requires UTF-8); otherwise it parses back equal to
 * run. */
int rep_json(const cJSON *run, FILE *f);

/* One self-contained HTML page (inline CSS, no script, no external
 * resource): header with verdict and legend, scenario table, one <details>
 * block per scenario with checks, evidence and images (JPEG, PNG and BMP
 * only, as data: URIs).  Every text from run is escaped; bodies longer
 * than REP_HTML_BODY_MAX bytes are cut with a note. */
#define REP_HTML_BODY_MAX 8192
int rep_html(const cJSON *run, FILE *f);

#endif
