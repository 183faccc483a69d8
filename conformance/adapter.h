/* adapter.h -- how operator steps reach a real server: an adapter file maps
 * each operator action to a shell command or an HTTP call into the
 * vendor's own API (docs/adapters.md), or to a prompt for the person at
 * the terminal; two optional query actions (command_state, records) read
 * the server's own state back.  Blocking: the runner calls it off the loop
 * thread.  Knows nothing of V1.16. */
#ifndef CAMSIM_ADAPTER_H
#define CAMSIM_ADAPTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct cJSON cJSON;
typedef struct adapter adapter;

/* Reads and checks an adapter file.  CONF_EREAD / CONF_ENOTJSON / CONF_EFORMAT
 * with a sentence naming the file and member in err, or 0. */
int adp_load(const char *path, adapter **out, char *err, size_t errlen);
/* The same from text[0..len) in memory (the fuzz harness's way in); path
 * names it in errors and sets {adapter_dir}. */
int adp_parse(const char *text, size_t len, const char *path, adapter **out,
	      char *err, size_t errlen);
void adp_free(adapter *a); /* NULL is fine */

/* True when a (may be NULL) has an entry for action, or a "*" entry and
 * action is an operator action (the query actions command_state and
 * records need entries of their own: their output is read). */
bool adp_has(const adapter *a, const char *action);
/* True when the entry for action (see adp_has) is a prompt at the
 * terminal ({"interactive": true}). */
bool adp_interactive(const adapter *a, const char *action);
/* True for the query actions ("command_state", "records"). */
bool adp_is_query(const char *action);
/* Milliseconds the devices' clock should stand still after each action
 * (the file's "settle_ms", 0). */
double adp_settle_ms(const adapter *a);

/* What one action produced; every member is the caller's (adp_result_free). */
typedef struct adp_result {
	char *evidence; /* what ran and everything it printed */
	char *output;   /* standard output (shell) or the body (HTTP), or NULL */
	cJSON *json;    /* output parsed, when it is JSON, else NULL */
} adp_result;

void adp_result_free(adp_result *r);

/* Performs one action with its parameters (op_params' object): runs the
 * mapped shell command or HTTP call, or, when a has no entry and
 * interactive is set, asks on the terminal.  Waits at most the adapter's
 * timeout, and gives up within about 100 ms once *cancel (may be NULL)
 * becomes true (a shell command is killed).  *res is filled on failure too
 * (evidence).  0 when it succeeded (exit status 0, HTTP 2xx, the person
 * answered yes); CONF_EADAPTER with the reason in err. */
int adp_run(const adapter *a, bool interactive, const char *action,
	    const cJSON *params, const atomic_bool *cancel, adp_result *res,
	    char *err, size_t errlen);

#endif
