/* outcome.h -- what became of a command a server sent: the kinds of V1.16
 * commands (their reply member, their place in the order a device applies
 * a reply, D5, and the device message that settles each), and the rules
 * that read a device message as a command's confirmation or failure
 * (docs/mock.md, "Outcomes").  Pure: the mock's database and the runner's
 * exchange tracker both use it; it stores nothing and does no I/O. */
#ifndef CAMSIM_OUTCOME_H
#define CAMSIM_OUTCOME_H

#include "proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cJSON cJSON;

/* One kind of command.  result: the message that settles it (NONE: the
 * device's next message of any kind; HEARTBEAT: the seq mechanism, D7). */
typedef struct outcome_kind {
	const char *name;   /* "facelib_add", "config_set", ... */
	const char *member; /* its reply member */
	int rank;           /* D5 apply order */
	proto_kind result;
} outcome_kind;

/* The kind named name, or NULL. */
const outcome_kind *outcome_kind_find(const char *name);
/* The kind of a decoded one-command reply, or NULL (no command in it). */
const outcome_kind *outcome_kind_of(const proto_reply *r);
/* True for the members that carry a server seq (facelib_manage, config,
 * reupload, facelog, control). */
bool outcome_member_has_seq(const char *member);
/* True when k is a reply member of V1.16. */
bool outcome_is_member(const char *k);

/* Splits a reply object into one-command objects, appended to out (a cJSON
 * array; copies): one per member, http_server_url and http_server_port
 * together.  Members that are not V1.16 commands are left out.  Returns
 * how many were added, or -1 when out of memory. */
int outcome_split(const cJSON *reply, cJSON *out);

typedef enum outcome_verdict {
	OUTCOME_OPEN,      /* the message says nothing about it */
	OUTCOME_CONFIRMED, /* the device reported success */
	OUTCOME_FAILED,    /* the device reported failure */
} outcome_verdict;

/* A sent command awaiting its outcome. */
typedef struct outcome_cmd {
	const outcome_kind *k;
	bool has_seq;
	int64_t seq;
	const cJSON *command; /* the one-command reply object as sent */
	/* out */
	outcome_verdict verdict;
	char detail[600];     /* a sentence: what settled it and how */
} outcome_cmd;

/* Reads device message g (decoded; label names it in details, e.g. "#12"
 * or "exchange 12") against v[0..n), a device's sent and unsettled commands
 * oldest first, and sets the verdict and detail of each command it settles
 * (a result message settles at most one, the oldest matching; commands
 * without a result message are settled by any message).  Returns how many
 * it settled. */
size_t outcome_settle(outcome_cmd *v, size_t n, const proto_msg *g,
		      const char *label);

#endif
