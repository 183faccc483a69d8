/* track.h -- follows commands through the exchanges a runner observes:
 * what an operator step asked for (an intent), the reply that delivered
 * it, and the device message that settled it, by outcome.h's rules.  So
 * the runner can judge "outcome" expectations, name the seq a server chose,
 * and see a server deliver a command again (a retry, or a duplicate of one
 * already confirmed) against any server, with no access to its state.
 * Pure: fed by the caller, no I/O, no clock. */
#ifndef CAMSIM_TRACK_H
#define CAMSIM_TRACK_H

#include "proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cJSON cJSON;
typedef struct track track;

typedef enum track_state {
	TRACK_PENDING,   /* asked for, not seen in a reply yet */
	TRACK_SENT,      /* in a reply, no outcome yet */
	TRACK_CONFIRMED, /* the device reported success to the server */
	TRACK_FAILED,    /* the device reported failure to the server */
} track_state;

/* "pending", "sent", "confirmed", "failed" (the mock's words). */
const char *track_state_name(track_state s);

/* What a command found in a reply was. */
typedef enum track_what {
	TRACK_NEW,         /* the first delivery of what an intent asked */
	TRACK_RESENT,      /* delivered again before any outcome (a retry) */
	TRACK_RETRY,       /* delivered again after the device failed it */
	TRACK_DUPLICATE,   /* delivered again after the device confirmed it
			      and the server received that confirmation */
	TRACK_UNSOLICITED, /* no operator step asked for it */
} track_what;

typedef struct track_note {
	track_what what;
	const cJSON *command; /* the one-command object; valid in the call */
	const char *kind;     /* outcome_kind name ("config_set"), or NULL */
	const char *ref;      /* the intent's ref (may be NULL) */
	int key;              /* the intent's key, -1 when unsolicited */
	size_t first_ex;      /* exchange of its first delivery */
	long done_ex;         /* exchange that settled it, or -1 */
	int deliveries;       /* deliveries so far, this one included */
	int duplicates;       /* deliveries after confirmation so far */
} track_note;

typedef void (*track_cb)(void *ud, const track_note *n);

/* NULL when out of memory. */
track *track_new(void);
void track_free(track *t);

/* An operator step (key, unique; ref may be NULL) asked the server to send
 * device dev the commands of expected (a reply object, e.g. op_command's,
 * seq left out; copied).  SIM-style: -1 when out of memory, else 0. */
int track_intent(track *t, int key, size_t dev, const char *ref,
		 const cJSON *expected);

/* The server's 200 reply to device dev in exchange ex, which ended at
 * virtual ms end_ms: each command in it is matched to the oldest intent
 * that asked for it and not yet seen (else to the last one seen), and cb
 * (may be NULL) hears what each was.  -1 when out of memory, else 0. */
int track_reply(track *t, size_t dev, size_t ex, double end_ms,
		const cJSON *reply, track_cb cb, void *ud);

/* A message device dev sent in exchange ex that the server received (it
 * answered, with any status): settles the commands it speaks for.  serial:
 * it went on the device's one-at-a-time channel, so after every reply the
 * device had received; else (a snapshot upload beside it) it settles only
 * commands whose reply ended before start_ms (virtual ms). */
void track_message(track *t, size_t dev, size_t ex, bool serial,
		   double start_ms, const proto_msg *g);

/* What became of the last intent with this ref (all of its commands: a
 * failed one makes it failed, a pending one pending, ...). */
typedef struct track_view {
	track_state state;
	bool has_seq;      /* the seq the server gave it (first command) */
	int64_t seq;
	long sent_ex;      /* exchange of the delivery, -1 when none */
	long result_ex;    /* exchange whose message settled it, -1 */
	int deliveries;    /* of its first command */
	int key;
	char detail[600];  /* the settling sentence, or why it is open */
} track_view;

/* False when no intent has this ref. */
bool track_get(const track *t, const char *ref, track_view *v);

#endif
