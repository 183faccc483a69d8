/* load_merge.h -- `camsim report merge OUT_DIR A.json B.json ...': combines
 * the report.json of shards of one `camsim load' run exactly (counts add,
 * histograms and seconds merge, thresholds re-judged on the merged data)
 * and writes the three report files (load_report.h).  Reads report files
 * only; runs nothing. */
#ifndef CAMSIM_LOAD_MERGE_H
#define CAMSIM_LOAD_MERGE_H

#include <stddef.h>
#include <stdio.h>

typedef struct cJSON cJSON;

/* The merge of reports r[0..n) into *out (caller deletes) and its exit
 * code in *code (LOAD_EXIT_*: 99 a re-judged threshold failed or a shard
 * aborted, 2 a shard could not run).  0, or CONF_EINVAL naming the report
 * (its index in names) and the member in err (two reports of one shard,
 * shards of different runs, a malformed member), or CONF_ENOMEM. */
int load_merge(const cJSON *const *r, const char *const *names, size_t n,
	       cJSON **out, int *code, char *err, size_t errlen);

/* `camsim report' (argv[0] "report"): its only command is merge.  Returns
 * the merged run's exit code (0, 99), or 2 when the merge cannot be done
 * (usage, unreadable or malformed report, unwritable OUT_DIR). */
int load_report_main(int argc, char **argv, FILE *out, FILE *err);

#endif
