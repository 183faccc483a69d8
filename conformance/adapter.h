/* adapter.h -- how operator steps reach a real server: an adapter file maps
 * each operator action to a shell command or an HTTP call into the
 * vendor's own API (docs/scenarios.md, "Adapters"), or to a prompt for the
 * person at the terminal.  Blocking: the runner calls it off the loop
 * thread.  Knows nothing of V1.16. */
#ifndef CAMSIM_ADAPTER_H
#define CAMSIM_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cJSON cJSON;
typedef struct adapter adapter;

/* Reads and checks an adapter file.  SCN_EIO / SCN_ENOTJSON / SCN_EINVAL
 * with a sentence naming the file and member in err, or 0. */
int adp_load(const char *path, adapter **out, char *err, size_t errlen);
void adp_free(adapter *a); /* NULL is fine */

/* True when a (may be NULL) has an entry for action (or a "*" entry). */
bool adp_has(const adapter *a, const char *action);

/* Performs one operator action with its parameters (op_params' object):
 * runs the mapped shell command or HTTP call, or, when a has no entry and
 * interactive is set, asks on the terminal.  Waits at most the adapter's
 * timeout.  *evidence (caller frees, may be set on failure too) tells what
 * ran and what it printed.  0 when it succeeded (exit status 0, HTTP 2xx,
 * the person answered yes); SCN_EADAPTER with the reason in err. */
int adp_run(const adapter *a, bool interactive, const char *action,
	    const cJSON *params, char **evidence, char *err, size_t errlen);

#endif
