/* track.c -- commands followed through observed exchanges: intents from
 * operator steps, deliveries from the server's replies, outcomes from the
 * device's messages (outcome.c's rules).  Pure; the runner feeds it. */
#include "track.h"
#include "outcome.h"
#include "scenario.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One command: of an intent (expect set), or one no step asked for. */
typedef struct part {
	int key;              /* intent key, -1 unsolicited */
	size_t dev;
	char *ref;
	cJSON *expect;        /* normalised one-command pattern, or NULL */
	cJSON *sent;          /* the last delivery, as sent */
	const outcome_kind *k;
	track_state state;
	bool has_seq;
	int64_t seq;
	size_t first_ex;
	long done_ex;
	double end_ms;        /* when the last delivery's reply ended */
	int deliveries, duplicates;
	char detail[600];
} part;

struct track {
	part *p;
	size_t n, cap;
};

const char *track_state_name(track_state s)
{
	static const char *const names[] = {"pending", "sent", "confirmed",
					    "failed"};
	return (unsigned)s < 4 ? names[s] : "?";
}

track *track_new(void)
{
	return calloc(1, sizeof(track));
}

void track_free(track *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->p[i].ref);
		cJSON_Delete(t->p[i].expect);
		cJSON_Delete(t->p[i].sent);
	}
	free(t->p);
	free(t);
}

static part *add_part(track *t)
{
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 32;
		part *np = realloc(t->p, nc * sizeof *np);
		if (!np)
			return NULL;
		t->p = np;
		t->cap = nc;
	}
	memset(&t->p[t->n], 0, sizeof *t->p);
	t->p[t->n].done_ex = -1;
	return &t->p[t->n++];
}

/* ---------------------------------------------------------------- matching */

/* Removes spaces from a person_ids list ("a, b" and "a,b" name the same
 * persons: the document's own example has the spaces). */
static void squeeze_ids(cJSON *o)
{
	cJSON *ids = cJSON_GetObjectItemCaseSensitive(o, "person_ids");
	char *w, *r;

	if (!cJSON_IsString(ids))
		return;
	for (w = r = ids->valuestring; *r; r++)
		if (*r != ' ')
			*w++ = *r;
	*w = '\0';
}

/* A copy of one-command object c without what a server chooses itself or
 * may re-encode: the seq, and the pictures. */
static cJSON *normalise(const cJSON *c)
{
	cJSON *n = cJSON_Duplicate(c, true), *m, *e;

	cJSON_ArrayForEach(m, n) {
		if (!cJSON_IsObject(m))
			continue;
		cJSON_DeleteItemFromObjectCaseSensitive(m, "seq");
		squeeze_ids(m);
		cJSON_DeleteItemFromObjectCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(m, "face"), "image");
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(m,
								       "personList"))
			cJSON_DeleteItemFromObjectCaseSensitive(e, "image");
	}
	return n;
}

/* True when delivered (normalised) is what pattern asked for: the same
 * command members, each holding at least what was asked. */
static bool same(const cJSON *pattern, const cJSON *delivered)
{
	const cJSON *m;

	if (cJSON_GetArraySize(pattern) != cJSON_GetArraySize(delivered))
		return false;
	cJSON_ArrayForEach(m, pattern)
		if (!cJSON_GetObjectItemCaseSensitive(delivered, m->string))
			return false;
	return scn_match(pattern, delivered, NULL, 0);
}

static const outcome_kind *kind_of(const cJSON *cmd)
{
	proto_arena a = PROTO_ARENA_INIT;
	proto_msg m;
	const outcome_kind *k = NULL;

	/* a command that breaks rules on purpose still has a kind */
	(void)proto_decode(cmd, PROTO_TO_DEVICE, &proto_profile_strict, &a, &m,
			   NULL);
	if (m.kind == PROTO_REPLY)
		k = outcome_kind_of(&m.u.reply);
	proto_arena_free(&a);
	return k;
}

static bool seq_of(const cJSON *cmd, int64_t *seq)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, cmd) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(m, "seq");
		if (cJSON_IsNumber(s)) {
			*seq = (int64_t)s->valuedouble;
			return true;
		}
	}
	return false;
}

/* ---------------------------------------------------------------- feeding */

int track_intent(track *t, int key, size_t dev, const char *ref,
		 const cJSON *expected)
{
	cJSON *cmds = cJSON_CreateArray(), *c;
	int rc = -1;

	if (!cmds || outcome_split(expected, cmds) < 0)
		goto out;
	cJSON_ArrayForEach(c, cmds) {
		part *p = add_part(t);
		if (!p)
			goto out;
		p->key = key;
		p->dev = dev;
		p->state = TRACK_PENDING;
		p->expect = normalise(c);
		if ((ref && !(p->ref = strdup(ref))) || !p->expect)
			goto out;
		snprintf(p->detail, sizeof p->detail, "not delivered yet: no "
			 "reply has carried it");
	}
	rc = 0;
out:
	cJSON_Delete(cmds);
	return rc;
}

/* The part a delivery belongs to: an undelivered intent first (oldest),
 * else the part last delivered with the same content (the same seq
 * preferred: a retry may carry a new one). */
static part *find(track *t, size_t dev, const cJSON *norm, bool has_seq,
		  int64_t seq, const cJSON *raw)
{
	part *same_seq = NULL, *any = NULL;

	for (size_t i = 0; i < t->n; i++) {
		part *p = &t->p[i];
		if (p->dev == dev && p->expect && p->state == TRACK_PENDING &&
		    same(p->expect, norm))
			return p;
	}
	for (size_t i = 0; i < t->n; i++) {
		part *p = &t->p[i];
		if (p->dev != dev || p->state == TRACK_PENDING)
			continue;
		if (p->expect ? !same(p->expect, norm)
			      : !p->sent || !cJSON_Compare(p->sent, raw, true))
			continue;
		any = p;
		if (has_seq == p->has_seq && (!has_seq || p->seq == seq))
			same_seq = p;
	}
	return same_seq ? same_seq : any;
}

/* A command no intent asked for may be one that was asked for, changed on
 * the way (a score of 0.7 for 70): the oldest undelivered intent of the
 * same members says how it differs. */
static void note_near_miss(track *t, size_t dev, size_t ex, const cJSON *c)
{
	cJSON *norm = normalise(c);
	char why[400];

	for (size_t i = 0; norm && i < t->n; i++) {
		part *p = &t->p[i];
		const cJSON *m;
		bool members = p->dev == dev && p->expect &&
			       p->state == TRACK_PENDING &&
			       cJSON_GetArraySize(p->expect) ==
			       cJSON_GetArraySize(norm);
		for (m = members ? p->expect->child : NULL; m; m = m->next)
			members &= cJSON_GetObjectItemCaseSensitive(norm,
								    m->string) != NULL;
		if (!members || scn_match(p->expect, norm, why, sizeof why))
			continue;
		snprintf(p->detail, sizeof p->detail, "not delivered as asked: "
			 "exchange %zu carried a %s that differs from it: %s", ex,
			 norm->child->string, why);
		break;
	}
	cJSON_Delete(norm);
}

int track_reply(track *t, size_t dev, size_t ex, double end_ms,
		const cJSON *reply, track_cb cb, void *ud)
{
	cJSON *cmds = cJSON_CreateArray(), *c;
	int rc = -1;

	if (!cmds || outcome_split(reply, cmds) < 0)
		goto out;
	cJSON_ArrayForEach(c, cmds) {
		cJSON *norm = normalise(c);
		int64_t seq = 0;
		bool has_seq = seq_of(c, &seq);
		part *p = norm ? find(t, dev, norm, has_seq, seq, c) : NULL;
		track_note n = {.command = c};
		cJSON_Delete(norm);
		if (!norm)
			goto out;
		if (!p) {
			note_near_miss(t, dev, ex, c);
			if (!(p = add_part(t)))
				goto out;
			p->key = -1;
			p->dev = dev;
			p->state = TRACK_PENDING;
			n.what = TRACK_UNSOLICITED;
		} else {
			n.what = p->state == TRACK_PENDING ? TRACK_NEW
				 : p->state == TRACK_SENT ? TRACK_RESENT
				 : p->state == TRACK_FAILED ? TRACK_RETRY
				 : TRACK_DUPLICATE;
			if (!p->expect && n.what == TRACK_NEW)
				n.what = TRACK_UNSOLICITED;
		}
		if (p->state == TRACK_PENDING) {
			p->first_ex = ex;
			p->k = kind_of(c);
		}
		if (n.what == TRACK_DUPLICATE)
			p->duplicates++;
		else {
			/* a new try: its outcome is open again */
			p->state = TRACK_SENT;
			p->done_ex = -1;
			snprintf(p->detail, sizeof p->detail, "delivered in exchange "
				 "%zu; no outcome yet", ex);
		}
		p->deliveries++;
		p->end_ms = end_ms;
		p->has_seq = has_seq;
		p->seq = seq;
		cJSON_Delete(p->sent);
		if (!(p->sent = cJSON_Duplicate(c, true)))
			goto out;
		n.kind = p->k ? p->k->name : NULL;
		n.ref = p->ref;
		n.key = p->key;
		n.first_ex = p->first_ex;
		n.done_ex = p->done_ex;
		n.deliveries = p->deliveries;
		n.duplicates = p->duplicates;
		if (cb)
			cb(ud, &n);
	}
	rc = 0;
out:
	cJSON_Delete(cmds);
	return rc;
}

void track_message(track *t, size_t dev, size_t ex, bool serial,
		   double start_ms, const proto_msg *g)
{
	outcome_cmd *v;
	size_t *idx, n = 0;
	char label[40];

	if (!t->n || !(v = calloc(t->n, sizeof *v)))
		return;
	if (!(idx = calloc(t->n, sizeof *idx))) {
		free(v);
		return;
	}
	/* the device's sent commands, oldest delivery first */
	for (size_t i = 0; i < t->n; i++) {
		part *p = &t->p[i];
		if (p->dev != dev || p->state != TRACK_SENT || !p->k ||
		    (!serial && start_ms <= p->end_ms))
			continue;
		idx[n] = i;
		v[n++] = (outcome_cmd){.k = p->k, .has_seq = p->has_seq,
				       .seq = p->seq, .command = p->sent};
	}
	for (size_t a = 1; a < n; a++) /* insertion sort by first delivery */
		for (size_t b = a; b > 0 && t->p[idx[b - 1]].first_ex >
					    t->p[idx[b]].first_ex; b--) {
			outcome_cmd tv = v[b];
			size_t ti = idx[b];
			v[b] = v[b - 1];
			idx[b] = idx[b - 1];
			v[b - 1] = tv;
			idx[b - 1] = ti;
		}
	snprintf(label, sizeof label, "in exchange %zu", ex);
	outcome_settle(v, n, g, label);
	for (size_t i = 0; i < n; i++) {
		part *p = &t->p[idx[i]];
		if (v[i].verdict == OUTCOME_OPEN)
			continue;
		p->state = v[i].verdict == OUTCOME_CONFIRMED ? TRACK_CONFIRMED
							      : TRACK_FAILED;
		p->done_ex = (long)ex;
		snprintf(p->detail, sizeof p->detail, "%s", v[i].detail);
	}
	free(idx);
	free(v);
}

bool track_get(const track *t, const char *ref, track_view *v)
{
	int key = -1;
	bool any = false, pending = false, failed = false, sent = false;

	memset(v, 0, sizeof *v);
	v->sent_ex = v->result_ex = -1;
	for (size_t i = 0; i < t->n; i++)
		if (t->p[i].ref && ref && !strcmp(t->p[i].ref, ref))
			key = t->p[i].key;
	if (key < 0)
		return false;
	for (size_t i = 0; i < t->n; i++) {
		const part *p = &t->p[i];
		if (p->key != key)
			continue;
		if (!any) {
			v->has_seq = p->has_seq;
			v->seq = p->seq;
			v->deliveries = p->deliveries;
			v->sent_ex = p->state == TRACK_PENDING ? -1
				     : (long)p->first_ex;
		}
		any = true;
		pending |= p->state == TRACK_PENDING;
		failed |= p->state == TRACK_FAILED;
		sent |= p->state == TRACK_SENT;
		if (p->done_ex > v->result_ex)
			v->result_ex = p->done_ex;
		if (!v->detail[0] || p->state != TRACK_CONFIRMED)
			snprintf(v->detail, sizeof v->detail, "%s", p->detail);
	}
	v->key = key;
	v->state = pending ? TRACK_PENDING : failed ? TRACK_FAILED
		   : sent ? TRACK_SENT : TRACK_CONFIRMED;
	return true;
}
