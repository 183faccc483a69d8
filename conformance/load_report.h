/* load_report.h -- the files of a `camsim load' report from its report.json
 * tree: report.json itself, junit.xml (one testcase per threshold, one for
 * the run) and report.html (self-contained, inline SVG charts over time).
 * Reads only the tree it is given; measuring and merging are not its. */
#ifndef CAMSIM_LOAD_REPORT_H
#define CAMSIM_LOAD_REPORT_H

#include "strbuf.h"

#include <stddef.h>

typedef struct cJSON cJSON;

/* The JUnit form of report r, appended to b (b->oom on no memory). */
void load_report_junit(const cJSON *r, strbuf *b);
/* The HTML page of report r, appended to b: summary, thresholds marked,
 * per-kind table, SVG charts of throughput, latency p50/p99 and errors
 * per second, and the propagation curve when r has "propagation". */
void load_report_html(const cJSON *r, strbuf *b);
/* Writes dir/report.json, dir/junit.xml and dir/report.html (dir made
 * when missing), each to a temporary name then renamed, so a reader never
 * sees half a file.  0, or CONF_EMKDIR / CONF_EWRITE / CONF_ENOMEM with
 * the path and the cause in err. */
int load_report_write(const cJSON *r, const char *dir, char *err,
		      size_t errlen);

#endif
