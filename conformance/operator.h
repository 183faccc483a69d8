/* operator.h -- the operator actions of scenarios (what a person does on
 * the server side: enrol, delete, push strategies, configure, upgrade ...):
 * their parameters, and the V1.16 command each becomes on the mock.  Pure:
 * reads the photos a step names, nothing else; does not talk to servers
 * (the runner and the adapter do). */
#ifndef CAMSIM_OPERATOR_H
#define CAMSIM_OPERATOR_H

#include "scenario.h"

#include <stddef.h>
#include <stdint.h>

/* The action's one-line meaning, or NULL when there is no such action. */
const char *op_summary(const char *action);
/* Every action name in catalogue order, NULL-terminated. */
const char *const *op_names(void);

/* Checks an operator step's members (step is the step object; path and
 * where, e.g. "scenarios/x.json" and "steps[3]", name it in messages).
 * CONF_EFORMAT with a sentence naming the member, its value and the rule,
 * or 0. */
int op_check(const cJSON *step, const char *path, const char *where,
	     char *err, size_t errlen);

typedef struct op_ctx {
	const scenario *s;      /* resolves photo paths */
	const char *pkg_base;   /* "http://127.0.0.1:PORT/pkg/": upgrade
				   "package" names are served here (NULL:
				   only "url" is accepted) */
	const char *server_url; /* the server under test: set_server's
				   "url": "{server}" stands for it */
} op_ctx;

/* The reply object the mock queues for an operator step, e.g.
 * {"facelib_manage":{"type":1,"face":{...,"image":["<base64>"]}}}, the
 * seq left for the mock to number.  *out is the caller's to delete.
 * CONF_EREAD (a photo cannot be read, err names it), CONF_EFORMAT, CONF_ENOMEM,
 * or 0. */
int op_command(const cJSON *step, const op_ctx *ctx, cJSON **out, char *err,
	       size_t errlen);

/* The step's parameters for an adapter (docs/adapters.md): the step's
 * members without the scenario bookkeeping ("operator", "at", "after",
 * "note", "dev"), plus "action", "cid", "ref" (or null) and "unchecked";
 * photo paths made absolute with their bytes beside them in base64
 * ("photo_base64", "photos_base64", persons[].photo_base64); set_time's
 * "utc" as UTC seconds; upgrade's "url" the download address (a "package"
 * resolved against ctx->pkg_base); set_server's "{server}" resolved.
 * *out is the caller's.  CONF_EREAD (a photo cannot be read, err names it),
 * CONF_EFORMAT, CONF_ENOMEM, or 0. */
int op_params(const cJSON *step, const op_ctx *ctx, const char *cid,
	      cJSON **out, char *err, size_t errlen);

#endif
