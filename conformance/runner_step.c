/* runner_step.c -- a scenario's steps on its event loop: device steps on
 * the simulated devices, operator steps on the mock or through the
 * adapter (off the loop thread, the jump clock held), and expectations
 * judged from the observed exchanges and events after every one of them.
 * The per-exchange checks are runner_check.c's; set-up and verdict
 * runner.c's. */
#include "runner_int.h"
#include "operator.h"
#include "outcome.h"

#include "sim_err.h"
#include "file.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STEP_EVIDENCE 20 /* exchanges listed per step */

static void step_done(srun *r);

/* ---------------------------------------------------------------- report */

static void describe(const scn_step *st, char *out, size_t n)
{
	const cJSON *o = st->obj;
	char *m = NULL;
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(o, "match");

	if (mt)
		m = cJSON_PrintUnformatted(mt);
	switch (st->kind) {
	case SCN_DEVICE:
		snprintf(out, n, "device: %s %s", st->action,
			 !strcmp(st->action, "face") ? run__str(o, "image")
			 : !strcmp(st->action, "fault") ? run__str(o, "fault")
			 : "");
		break;
	case SCN_OPERATOR:
		snprintf(out, n, "operator: %s (%s)", st->action,
			 op_summary(st->action));
		break;
	case SCN_WAIT:
		snprintf(out, n, "wait %.0f s", st->window_s);
		break;
	case SCN_EXPECT:
		if (!strcmp(st->action, "message"))
			snprintf(out, n, "%s %s %s%s%s%.150s %s %.0f s",
				 st->none ? "no" : "expect",
				 !strcmp(run__str(o, "from"), "device")
				 ? "device message" : "server reply",
				 run__str(o, "kind") ? run__str(o, "kind") : "",
				 run__str(o, "command") ? run__str(o, "command") : "",
				 m ? " matching " : "", m ? m : "",
				 st->none ? "for" : "within", st->window_s);
		else
			snprintf(out, n, "%s %s %s%s%s%s%.150s %s %.0f s",
				 st->none ? "no" : "expect", st->action,
				 run__str(o, "ref") ? run__str(o, "ref") : "",
				 run__str(o, "ref") && run__str(o, "state") ? " " : "",
				 run__str(o, "state") ? run__str(o, "state")
				 : run__str(o, "text") ? run__str(o, "text")
				 : run__str(o, "event") ? run__str(o, "event") : "",
				 m ? " matching " : "", m ? m : "",
				 st->none ? "for" : "within", st->window_s);
		break;
	}
	cJSON_free(m);
}

static void add_step_check(srun *r, const scn_step *st, const char *status,
			   const cJSON *exs, const char *msg, int64_t at,
			   double wall)
{
	cJSON *c = cJSON_CreateObject(), *ex = cJSON_CreateArray();
	const cJSON *e;
	char id[32], name[400];

	if (!c || !ex) {
		cJSON_Delete(c);
		cJSON_Delete(ex);
		r->oom = true;
		return;
	}
	snprintf(id, sizeof id, "step-%02zu", st->index + 1);
	describe(st, name, sizeof name);
	if (st->note) {
		size_t k = strlen(name);
		snprintf(name + k, sizeof name - k, " -- %s", st->note);
	}
	if (!strcmp(status, "fail") && st->should)
		status = "warn";
	cJSON_ArrayForEach(e, exs)
		if (cJSON_GetArraySize(ex) < STEP_EVIDENCE &&
		    e->valuedouble < XCH_KEEP)
			cJSON_AddItemToArray(ex, cJSON_CreateNumber(e->valuedouble));
	cJSON_AddStringToObject(c, "id", id);
	cJSON_AddStringToObject(c, "name", name);
	cJSON_AddStringToObject(c, "kind", "step");
	cJSON_AddStringToObject(c, "severity", st->should ? "should" : "must");
	cJSON_AddStringToObject(c, "status", status);
	cJSON_AddStringToObject(c, "message", msg);
	cJSON_AddItemToObject(c, "rules", cJSON_CreateArray());
	cJSON_AddItemToObject(c, "exchanges", ex);
	if (cJSON_GetArraySize(exs) > STEP_EVIDENCE)
		cJSON_AddNumberToObject(c, "exchanges_more",
					cJSON_GetArraySize(exs) - STEP_EVIDENCE);
	cJSON_AddNumberToObject(c, "at_ms", (double)run__rel(r, at));
	cJSON_AddNumberToObject(c, "duration_ms", (double)(run__now(r) - at));
	cJSON_AddNumberToObject(c, "wall_ms", wall);
	cJSON_AddItemToArray(r->j_checks, c);
}

/* Adds the current step's check to the report. */
static void step_result(srun *r, const char *status, const cJSON *exs,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void step_result(srun *r, const char *status, const cJSON *exs,
			const char *fmt, ...)
{
	char msg[1500];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	add_step_check(r, &r->s->steps[r->cur], status, exs, msg, r->step_t,
		       run__wall_ms(&r->step_w));
}

void run__steps_unreached(srun *r, const char *status, const char *why)
{
	for (size_t i = r->cur; i < r->s->n_steps; i++)
		add_step_check(r, &r->s->steps[i], i == r->cur && r->active
			       ? status : "skip", NULL, i == r->cur && r->active
			       ? why : "not reached: the scenario ended first",
			       i == r->cur && r->active ? r->step_t : run__now(r),
			       i == r->cur && r->active ? run__wall_ms(&r->step_w)
			       : 0);
	r->cur = r->s->n_steps;
}

/* ---------------------------------------------------------------- patterns */

static cJSON *resolve_in(srun *r, cJSON *p, char *why, size_t n)
{
	cJSON *e;

	if (cJSON_IsObject(p) && cJSON_GetArraySize(p) == 1 &&
	    (cJSON_GetObjectItemCaseSensitive(p, "$seq") ||
	     cJSON_GetObjectItemCaseSensitive(p, "$cid"))) {
		const cJSON *v = p->child;
		if (!strcmp(v->string, "$cid")) {
			for (size_t i = 0; i < r->s->n_devs; i++)
				if (cJSON_IsString(v) &&
				    !strcmp(r->s->devs[i].id, v->valuestring))
					return cJSON_CreateString(r->devs[i].cid);
			snprintf(why, n, "{\"$cid\": ...} names no device");
			return NULL;
		} else {
			track_view tv;
			if (!cJSON_IsString(v) ||
			    !track_get(r->tk, v->valuestring, &tv)) {
				snprintf(why, n, "{\"$seq\": \"%s\"}: no operator "
					 "step with that ref has run",
					 cJSON_IsString(v) ? v->valuestring : "?");
				return NULL;
			}
			if (tv.state == TRACK_PENDING || !tv.has_seq) {
				snprintf(why, n, "{\"$seq\": \"%s\"}: the seq of that "
					 "command is not known: %s", v->valuestring,
					 tv.state == TRACK_PENDING ? tv.detail
					 : "the server delivered it without a seq");
				return NULL;
			}
			return cJSON_CreateNumber((double)tv.seq);
		}
	}
	for (e = p ? p->child : NULL; e; e = e->next) {
		cJSON *rv;
		if (!cJSON_IsObject(e) && !cJSON_IsArray(e))
			continue;
		if (!(rv = resolve_in(r, e, why, n)))
			return NULL;
		if (rv != e) {
			/* the replacement takes the member's name */
			if (e->string && !(rv->string = strdup(e->string))) {
				cJSON_Delete(rv);
				snprintf(why, n, "out of memory");
				return NULL;
			}
			cJSON_ReplaceItemViaPointer(p, e, rv);
			e = rv;
		}
	}
	return p;
}

cJSON *run__resolve(srun *r, const cJSON *pattern, char *why, size_t n)
{
	cJSON *c, *out;

	if (!pattern)
		return NULL;
	if (!(c = cJSON_Duplicate(pattern, true))) {
		snprintf(why, n, "out of memory");
		return NULL;
	}
	out = resolve_in(r, c, why, n);
	if (out != c)
		cJSON_Delete(c);
	return out;
}

/* ---------------------------------------------------------------- side jobs */

static void side_done(void *ud)
{
	srun *r = ud;

	pthread_join(r->side.th, NULL);
	r->side.running = false;
	loop_hold(r->l, false);
	r->side.done(r);
	adp_result_free(&r->side.res);
	cJSON_Delete(r->side.params);
	r->side.params = NULL;
}

/* Runs the side job's action; a "retry" or "outcome" query polls. */
static void *side_main(void *ud)
{
	srun *r = ud;
	side *s = &r->side;
	bool query = adp_is_query(s->action);
	const char *want = run__str(s->params, "want");
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		adp_result_free(&s->res);
		s->err[0] = '\0';
		s->rc = adp_run(r->o->adp, r->o->interactive, s->action, s->params,
				&r->cancel, &s->res, s->err, sizeof s->err);
		/* a query that must show a given state may take a while:
		 * the server's own timeouts run on its clock */
		if (!query || !want || s->rc < 0 ||
		    strstr(want, run__str(s->res.json, "state") ?
			   run__str(s->res.json, "state") : "?") ||
		    run__wall_ms(&t0) > 1000 * (double)cJSON_GetNumberValue(
			    cJSON_GetObjectItemCaseSensitive(s->params, "poll_s")) ||
		    atomic_load(&r->cancel))
			break;
		usleep(250000);
	}
	if (!query && s->rc == 0 && adp_settle_ms(r->o->adp) > 0)
		usleep((useconds_t)(adp_settle_ms(r->o->adp) * 1000));
	while (loop_post(r->l, side_done, r) < 0)
		usleep(1000);
	return NULL;
}

/* Starts action with params (taken) off the loop; done runs on the loop
 * thread after it.  The jump clock stands still meanwhile.  False (and
 * params freed) when the thread cannot start. */
static bool side_start(srun *r, const char *action, cJSON *params,
		       run__side_cb done)
{
	side *s = &r->side;

	s->action = action;
	s->params = params;
	s->done = done;
	memset(&s->res, 0, sizeof s->res);
	loop_hold(r->l, true);
	if (!params || pthread_create(&s->th, NULL, side_main, r)) {
		loop_hold(r->l, false);
		cJSON_Delete(params);
		s->params = NULL;
		return false;
	}
	s->running = true;
	return true;
}

/* ---------------------------------------------------------------- expectations */

typedef struct verdict {
	int64_t matches;
	cJSON *exs;         /* indices of matching exchanges */
	long miss;          /* the exchange that came closest (-1: none) */
	bool ask;           /* outcome/retry: the server's own state next */
	char why[900];      /* the nearest miss, or what matched */
} verdict;

static bool text_has(const char *hay, const char *needle)
{
	return !needle || strstr(hay, needle);
}

static void eval_message(srun *r, const scn_step *st, const cJSON *pat,
			 size_t from_x, verdict *v)
{
	const cJSON *o = st->obj;
	bool dev_side = !strcmp(run__str(o, "from"), "device");
	const char *kind = run__str(o, "kind"), *cmd = run__str(o, "command");
	const cJSON *rs = cJSON_GetObjectItemCaseSensitive(o, "resend");
	char why[400];

	for (size_t i = from_x; i < r->n_xs; i++) {
		const xch *x = &r->xs[i];
		const cJSON *body = dev_side ? x->req : x->reply;
		if (x->dev != st->dev || !x->to_server || !body ||
		    (st->none && x->t > r->until))
			continue;
		if (dev_side && kind && strcmp(x->kind, kind))
			continue;
		if (dev_side && rs && cJSON_IsTrue(rs) != x->resend)
			continue;
		if (!dev_side && cmd &&
		    !cJSON_GetObjectItemCaseSensitive(body, cmd))
			continue;
		if (!scn_match(pat, body, why, sizeof why)) {
			if (!v->matches) { /* a match's sentence stands */
				snprintf(v->why, sizeof v->why, "exchange %zu (%s) "
					 "came closest but %s", i, x->kind, why);
				v->miss = (long)i;
			}
			continue;
		}
		v->matches++;
		cJSON_AddItemToArray(v->exs, cJSON_CreateNumber((double)i));
		snprintf(v->why, sizeof v->why, "exchange %zu (%s at +%.1f s) "
			 "matches", i, x->kind, (double)run__rel(r, x->t) / 1000);
	}
}

static void eval_event(srun *r, const scn_step *st, size_t from_e, verdict *v)
{
	const cJSON *o = st->obj;
	const char *a = st->action;
	const char *want = !strcmp(a, "event") ? run__str(o, "event") : a;
	const char *text = !strcmp(a, "relay") ? run__str(o, "state")
			   : run__str(o, "text");

	for (size_t i = from_e; i < r->n_evs; i++) {
		const evrec *e = &r->evs[i];
		const char *k = dev_event_name(e->ev.kind);
		if (e->dev != st->dev || strcmp(k, want) ||
		    (st->none && e->t > r->until))
			continue;
		if (!strcmp(a, "relay") ? strncmp(e->ev.text, text, strlen(text)) ||
					  (e->ev.text[strlen(text)] &&
					   e->ev.text[strlen(text)] != ' ')
					: !text_has(e->ev.text, text))
			continue;
		v->matches++;
		snprintf(v->why, sizeof v->why, "event %s \"%s\" at +%.1f s", k,
			 e->ev.text, (double)run__rel(r, e->t) / 1000);
	}
}

static void eval_record(srun *r, const scn_step *st, const cJSON *pat,
			int64_t from_t, verdict *v)
{
	const cJSON *e;
	char why[400];

	cJSON_ArrayForEach(e, r->records) {
		const cJSON *at = cJSON_GetObjectItemCaseSensitive(e, "received_at");
		int id = (int)cJSON_GetObjectItemCaseSensitive(e, "id")->valuedouble;
		if (strcmp(run__str(e, "cid"), r->devs[st->dev].cid) ||
		    (cJSON_IsNumber(at) && at->valuedouble < (double)from_t))
			continue;
		if (!scn_match(pat, e, why, sizeof why)) {
			if (!v->matches)
				snprintf(v->why, sizeof v->why, "record %d came "
					 "closest but %s", id, why);
			continue;
		}
		v->matches++;
		cJSON_AddItemToArray(v->exs, cJSON_CreateNumber(
			cJSON_GetObjectItemCaseSensitive(e, "exchange")->valuedouble));
		snprintf(v->why, sizeof v->why, "the server answered 200 to "
			 "snapshot record %d (exchange %.0f)", id,
			 cJSON_GetObjectItemCaseSensitive(e, "exchange")->valuedouble);
	}
}

static void eval_outcome(srun *r, const scn_step *st, const cJSON *pat,
			 verdict *v)
{
	const char *ref = run__str(st->obj, "ref");
	const char *want = run__str(st->obj, "state");
	track_view tv;
	char why[400];

	if (!track_get(r->tk, ref, &tv)) {
		snprintf(v->why, sizeof v->why, "command \"%s\" was never asked "
			 "for (its operator step failed)", ref);
		return;
	}
	if (tv.sent_ex >= 0)
		cJSON_AddItemToArray(v->exs, cJSON_CreateNumber((double)tv.sent_ex));
	if (strcmp(track_state_name(tv.state), want)) {
		snprintf(v->why, sizeof v->why, "command \"%s\" is %s: %s", ref,
			 track_state_name(tv.state), tv.detail);
		return;
	}
	if (pat && (tv.result_ex < 0 ||
		    !scn_match(pat, r->xs[tv.result_ex].req, why, sizeof why))) {
		snprintf(v->why, sizeof v->why, "command \"%s\" is %s but the "
			 "message that settled it: %s", ref, want,
			 tv.result_ex < 0 ? "there is none" : why);
		return;
	}
	if (tv.result_ex >= 0)
		cJSON_AddItemToArray(v->exs,
				     cJSON_CreateNumber((double)tv.result_ex));
	v->matches = 1;
	v->ask = true;
	snprintf(v->why, sizeof v->why, "command \"%s\" is %s: %s", ref, want,
		 tv.detail);
}

static void eval_retry(srun *r, const scn_step *st, size_t from_x,
		       verdict *v)
{
	const char *ref = run__str(st->obj, "ref");
	track_view tv;

	if (!track_get(r->tk, ref, &tv)) {
		snprintf(v->why, sizeof v->why, "command \"%s\" was never asked "
			 "for (its operator step failed)", ref);
		return;
	}
	for (size_t i = 0; i < r->n_rd; i++)
		if (r->rd[i].key == tv.key && r->rd[i].ex >= from_x) {
			v->matches = 1;
			cJSON_AddItemToArray(v->exs,
					     cJSON_CreateNumber((double)r->rd[i].ex));
			snprintf(v->why, sizeof v->why, "the server delivered "
				 "\"%s\" again in exchange %zu", ref, r->rd[i].ex);
			return;
		}
	snprintf(v->why, sizeof v->why, "command \"%s\" was not delivered "
		 "again (%d deliveries; it is %s)", ref, tv.deliveries,
		 track_state_name(tv.state));
}

static void eval(srun *r, const scn_step *st, verdict *v)
{
	const cJSON *o = st->obj;
	const char *a = st->action;
	size_t from_x = st->none ? r->from_x : r->act_x;
	size_t from_e = st->none ? r->from_e : r->act_e;
	int64_t from_t = st->none ? r->step_t : r->act_t;
	cJSON *pat = NULL;
	char why[400];

	v->matches = 0;
	if (cJSON_GetObjectItemCaseSensitive(o, "match") &&
	    !(pat = run__resolve(r, cJSON_GetObjectItemCaseSensitive(o, "match"),
				 why, sizeof why))) {
		snprintf(v->why, sizeof v->why, "%s", why);
		return;
	}
	if (!strcmp(a, "message")) {
		eval_message(r, st, pat, from_x, v);
	} else if (!strcmp(a, "relay") || !strcmp(a, "voice") ||
		   !strcmp(a, "event")) {
		eval_event(r, st, from_e, v);
	} else if (!strcmp(a, "status")) {
		cJSON *stj = dev_status_json(r->devs[st->dev].d);
		if (scn_match(pat, stj, why, sizeof why)) {
			v->matches = st->count; /* a state, not a count */
			snprintf(v->why, sizeof v->why, "the device's status "
				 "matches");
		} else {
			snprintf(v->why, sizeof v->why, "the device's status: %s",
				 why);
		}
		cJSON_Delete(stj);
	} else if (!strcmp(a, "record")) {
		eval_record(r, st, pat, from_t, v);
	} else if (!strcmp(a, "outcome")) {
		eval_outcome(r, st, pat, v);
	} else if (!strcmp(a, "retry")) {
		eval_retry(r, st, from_x, v);
	}
	cJSON_Delete(pat);
}

/* ---- the server's own state (outcome, retry) ---- */

/* The step's command id on the mock, from its operator step. */
static int64_t mock_id(srun *r, const char *ref)
{
	int64_t id = 0;

	for (size_t k = 0; k < r->cur; k++)
		if (r->s->steps[k].ref && !strcmp(r->s->steps[k].ref, ref))
			id = r->cmd_ids[k];
	return id;
}

static const cJSON *ref_handle(srun *r, const char *ref, const char **of)
{
	const cJSON *h = NULL;

	for (size_t k = 0; k < r->cur; k++)
		if (r->s->steps[k].ref && !strcmp(r->s->steps[k].ref, ref)) {
			h = r->handles[k];
			*of = r->s->steps[k].action;
		}
	return h;
}

/* Judges the server's word on the current step's command: state (NULL:
 * could not be asked, why says so). */
static void server_says(srun *r, const char *state, const char *why)
{
	const scn_step *st = &r->s->steps[r->cur];
	const char *ref = run__str(st->obj, "ref");

	if (!strcmp(st->action, "retry")) {
		if (state && (!strcmp(state, "failed") ||
			      !strcmp(state, "timeout")))
			step_result(r, "pass", NULL, "%s; the server gave it up "
				    "visibly: its own state is %s", r->phase_msg,
				    state);
		else if (state)
			step_result(r, "fail", NULL, "%s, and the server's own "
				    "state is %s%s: the command is lost (neither "
				    "re-sent nor given up)", r->phase_msg, state,
				    strcmp(state, "confirmed") ? " still"
				    : ", which the device never reported");
		else
			step_result(r, "fail", NULL, "%s, and %s: nothing shows "
				    "that the server re-sent it or gave it up",
				    r->phase_msg, why);
	} else {
		const char *want = run__str(st->obj, "state");
		bool agree = !state || (!strcmp(want, "confirmed")
					? !strcmp(state, "confirmed")
					: strcmp(state, "confirmed") != 0);
		if (!state)
			step_result(r, "pass", NULL, "%s (%s)", r->phase_msg, why);
		else if (agree)
			step_result(r, "pass", NULL, "%s; the server's own state "
				    "is %s", r->phase_msg, state);
		else
			step_result(r, "fail", NULL, "%s, but the server's own "
				    "state for \"%s\" is %s", r->phase_msg, ref,
				    state);
	}
	step_done(r);
}

static void ask_done(srun *r)
{
	const char *state = run__str(r->side.res.json, "state");
	char why[700];

	if (r->side.rc < 0)
		snprintf(why, sizeof why, "could not be asked: %s", r->side.err);
	else if (!state)
		snprintf(why, sizeof why, "command_state printed no \"state\": "
			 "%.300s", r->side.res.output ? r->side.res.output
			 : "(nothing)");
	if (r->side.rc < 0 || !state) {
		/* a broken query action is the adapter's fault: say so */
		const scn_step *st = &r->s->steps[r->cur];
		step_result(r, !strcmp(st->action, "retry") ? "fail" : "pass",
			    NULL, "%s; the server's own state %s", r->phase_msg,
			    why);
		step_done(r);
		return;
	}
	server_says(r, state, NULL);
}

/* Asks the server what became of the current step's command (natively on
 * the mock, else the adapter's command_state); want: the states that end
 * the question early ("failed timeout"), NULL: one answer. */
static void ask_server(srun *r, const char *want, double poll_s)
{
	const scn_step *st = &r->s->steps[r->cur];
	const char *ref = run__str(st->obj, "ref"), *of = NULL;
	const cJSON *h;
	cJSON *p;
	track_view tv;

	r->phase = 1;
	if (r->mock_mode) {
		cJSON *cj = mock_command_json(r->m, mock_id(r, ref));
		const char *state = run__str(cj, "state");
		server_says(r, state, "the mock does not know the command");
		cJSON_Delete(cj);
		return;
	}
	if (!adp_has(r->o->adp, "command_state")) {
		server_says(r, NULL, "the server's own state was not checked: "
			    "the adapter has no command_state action");
		return;
	}
	h = ref_handle(r, ref, &of);
	track_get(r->tk, ref, &tv);
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "action", "command_state");
	cJSON_AddStringToObject(p, "cid", r->devs[st->dev].cid);
	cJSON_AddStringToObject(p, "ref", ref);
	cJSON_AddStringToObject(p, "of", of ? of : "");
	cJSON_AddItemToObject(p, "handle", h ? cJSON_Duplicate(h, true)
					     : cJSON_CreateNull());
	cJSON_AddItemToObject(p, "seq", tv.has_seq
			      ? cJSON_CreateNumber((double)tv.seq)
			      : cJSON_CreateNull());
	if (want)
		cJSON_AddStringToObject(p, "want", want);
	cJSON_AddNumberToObject(p, "poll_s", poll_s);
	if (!side_start(r, "command_state", p, ask_done))
		server_says(r, NULL, "could not start the adapter call");
}

static void expect_check(srun *r, bool deadline)
{
	const scn_step *st = &r->s->steps[r->cur];
	verdict v = {.exs = cJSON_CreateArray(), .miss = -1};

	if (r->phase || r->side.running)
		goto out; /* the server is being asked */
	eval(r, st, &v);
	if (st->none) {
		if (v.matches > 0) {
			step_result(r, "fail", v.exs, "seen although it must not "
				    "be: %s", v.why);
			step_done(r);
		} else if (deadline) {
			step_result(r, "pass", NULL, "nothing of the kind for "
				    "%.0f s", st->window_s);
			step_done(r);
		}
	} else if (v.matches >= st->count) {
		snprintf(r->phase_msg, sizeof r->phase_msg, "%.800s (after %.1f s)",
			 v.why, (double)(run__now(r) - r->step_t) / 1000);
		if (v.ask) {
			/* the exchanges agree; and the server itself? (its
			 * word may lag a little behind the exchanges) */
			ask_server(r, !strcmp(run__str(st->obj, "state"),
					      "confirmed") ? "confirmed"
				   : "failed timeout sent pending", 2);
			goto out;
		}
		step_result(r, "pass", v.exs, "%s", r->phase_msg);
		step_done(r);
	} else if (deadline) {
		if (!strcmp(st->action, "retry")) {
			/* not re-sent: did the server give it up visibly? */
			snprintf(r->phase_msg, sizeof r->phase_msg, "%.800s within "
				 "%.0f s", v.why, st->window_s);
			ask_server(r, "failed timeout confirmed",
				   st->window_s < r->o->state_wait_s
				   ? st->window_s : r->o->state_wait_s);
			goto out;
		}
		if (v.miss >= 0) /* the nearest miss is the evidence */
			cJSON_AddItemToArray(v.exs, cJSON_CreateNumber((double)v.miss));
		/* a server that moved the heartbeat interval explains many a
		 * missed window: say so where the miss is */
		step_result(r, "fail", v.exs, "not seen within %.0f s (%" PRId64
			    " of %" PRId64 " matches)%s%s%s%.300s", st->window_s,
			    v.matches, st->count, v.why[0] ? "; " : "", v.why,
			    r->acc[XC_INTERVAL].n_bad ? "; note: " : "",
			    r->acc[XC_INTERVAL].n_bad ? r->acc[XC_INTERVAL].first
			    : "");
		step_done(r);
	}
out:
	cJSON_Delete(v.exs);
}

/* ---------------------------------------------------------------- device steps */

static int run_face(srun *r, const scn_step *st, char *err, size_t errlen)
{
	const cJSON *o = st->obj, *v;
	dev *d = r->devs[st->dev].d;
	char *path = scn_path(r->s, run__str(o, "image"));
	char *buf = NULL;
	size_t len = 0;
	dev_face_in in = {0};
	int rc = 0;

	if (!path) {
		snprintf(err, errlen, "image \"%s\": out of memory",
			 run__str(o, "image"));
		return SIM_ENOMEM;
	}
	rc = base_read_file("image", path, 64u << 20, &buf, &len, err, errlen);
	free(path);
	if (rc < 0)
		return rc == BASE_ENOMEM ? SIM_ENOMEM : rc == BASE_EIO ? SIM_EIO
		       : SIM_EINVAL;
	in.image = buf;
	in.image_len = len;
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "temperature"))) {
		in.has_temperature = true;
		in.temperature = v->valuedouble;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "mask"))) {
		in.has_mask = true;
		in.mask = (int)v->valuedouble;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "stay")))
		in.stay_s = v->valuedouble;
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "liveness"))) {
		in.has_liveness = true;
		in.liveness = v->valuedouble;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "quality"))) {
		in.has_quality = true;
		in.quality = v->valuedouble;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "blur"))) {
		in.has_blur = true;
		in.blur = v->valuedouble;
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "repeat");
	for (int k = 0; k < (v ? (int)v->valuedouble : 1) && rc >= 0; k++)
		rc = dev_face(d, &in, err, errlen);
	free(buf);
	return rc;
}

static void run_device(srun *r, const scn_step *st)
{
	const cJSON *o = st->obj;
	dev *d = r->devs[st->dev].d;
	char err[400] = "";
	int rc = 0;
	const char *a = st->action;

	if (!strcmp(a, "power")) {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "on")))
			rc = dev_power_on(d, err, sizeof err);
		else
			dev_power_off(d);
	} else if (!strcmp(a, "door")) {
		dev_door(d, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "open")));
	} else if (!strcmp(a, "network")) {
		dev_network(d, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "up")));
	} else if (!strcmp(a, "clock")) {
		int64_t ms = 0;
		const cJSON *z = cJSON_GetObjectItemCaseSensitive(o, "zone");
		scn_time(cJSON_GetObjectItemCaseSensitive(o, "utc"), &ms);
		dev_set_clock(d, ms / 1000, z != NULL, z ? (int64_t)z->valuedouble : 0);
		r->devs[st->dev].bad_clock_ex = -1; /* the scenario's own clock */
	} else if (!strcmp(a, "thermal")) {
		double rd[64];
		size_t n = 0;
		const cJSON *e;
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "readings"))
			if (n < ARRAY_SIZE(rd))
				rd[n++] = e->valuedouble;
		rc = dev_thermal_script(d, rd, n);
		if (rc < 0)
			snprintf(err, sizeof err, "%s", sim_strerror(rc));
	} else if (!strcmp(a, "fault")) {
		const char *f = run__str(o, "fault");
		rc = dev_fault(d, !strcmp(f, "cut-reply") ? DEV_FAULT_CUT_REPLY
				  : DEV_FAULT_DROP_RESULT, run__str(o, "kind"));
		if (rc < 0)
			snprintf(err, sizeof err, "kind \"%s\" is no result message",
				 run__str(o, "kind"));
	} else if (!strcmp(a, "face")) {
		rc = run_face(r, st, err, sizeof err);
	}
	if (rc < 0)
		step_result(r, "fail", NULL, "the device refused: %s", err[0] ? err
			    : sim_strerror(rc));
	else
		step_result(r, "pass", NULL, "done");
}

/* ---------------------------------------------------------------- operator steps */

static void operator_done(srun *r)
{
	const scn_step *st = &r->s->steps[r->cur];
	adp_result *res = &r->side.res;

	if (r->side.rc < 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
					    st->obj, "unchecked"))) {
		/* a server is right to refuse a command that breaks V1.16 */
		run__stop(r, STOP_SKIP, "step %zu asks the server to send a "
			  "command that breaks V1.16 on purpose (\"unchecked\"), "
			  "and the server refused: %s", st->index + 1,
			  r->side.err);
		step_result(r, "skip", NULL, "the server refused a command that "
			    "breaks V1.16 on purpose: %s", r->side.err);
		step_done(r);
		return;
	}
	if (r->side.rc < 0)
		step_result(r, "fail", NULL, "%s%s%.800s", r->side.err,
			    res->evidence ? "; evidence: " : "",
			    res->evidence ? res->evidence : "");
	else
		step_result(r, "pass", NULL, "done: %.1200s",
			    res->evidence ? res->evidence : "");
	if (res->json && cJSON_IsObject(res->json)) {
		r->handles[r->cur] = res->json;
		res->json = NULL;
	}
	step_done(r);
}

/* Queues the step's command on the in-process mock. */
static void mock_operator(srun *r, const scn_step *st, const cJSON *cmd)
{
	const char *cid = r->devs[st->dev].cid;
	bool unchecked = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
					      st->obj, "unchecked"));
	bool raw = !strcmp(st->action, "raw");
	cJSON *parts = cJSON_CreateArray(), *c;
	char err[800] = "";
	int64_t id = 0;

	/* raw goes out exactly as written: one queue entry per command,
	 * nothing numbered */
	if (!parts || (raw ? outcome_split(cmd, parts) < 0
			   : !cJSON_AddItemToArray(parts, cJSON_Duplicate(cmd, true)))) {
		step_result(r, "fail", NULL, "out of memory");
		cJSON_Delete(parts);
		return;
	}
	cJSON_ArrayForEach(c, parts) {
		id = mock_enqueue_flags(r->m, cid, c, (unchecked ? MOCK_Q_UNCHECKED
						       : 0) |
					(raw ? MOCK_Q_VERBATIM : 0), err, sizeof err);
		if (id < 0)
			break;
		if (!r->cmd_ids[r->cur])
			r->cmd_ids[r->cur] = id;
	}
	cJSON_Delete(parts);
	if (id < 0)
		step_result(r, "fail", NULL, "the mock refused the command: %s",
			    err);
	else
		step_result(r, "pass", NULL, "queued on the mock as command %"
			    PRId64, r->cmd_ids[r->cur]);
}

/* Starts an operator step; false when it finishes later (adapter). */
static bool run_operator(srun *r, const scn_step *st)
{
	char err[800] = "";
	op_ctx c = {.s = r->s, .server_url = r->url};
	const char *cid = r->devs[st->dev].cid;
	cJSON *cmd = NULL, *params = NULL;
	int rc;

	if (run__str(st->obj, "package") &&
	    !(c.pkg_base = run__pkg_base(r, err, sizeof err))) {
		step_result(r, "fail", NULL, "%s", err);
		return true;
	}
	if ((rc = op_command(st->obj, &c, &cmd, err, sizeof err)) < 0) {
		step_result(r, "fail", NULL, "%s", err);
		return true;
	}
	/* what the step asks for, to be found in the server's replies */
	if (track_intent(r->tk, (int)st->index, st->dev, st->ref, cmd) < 0)
		r->oom = true;
	if (r->mock_mode) {
		mock_operator(r, st, cmd);
		cJSON_Delete(cmd);
		return true;
	}
	cJSON_Delete(cmd);
	if (!adp_has(r->o->adp, st->action) && !r->o->interactive) {
		step_result(r, "fail", NULL, "no adapter entry for operator "
			    "action \"%s\": give --adapter FILE with "
			    "\"actions\".\"%s\", or --interactive", st->action,
			    st->action);
		return true;
	}
	if (op_params(st->obj, &c, cid, &params, err, sizeof err) < 0) {
		step_result(r, "fail", NULL, "%s", err);
		return true;
	}
	if (!side_start(r, st->action, params, operator_done)) {
		step_result(r, "fail", NULL, "cannot start the adapter: %s",
			    strerror(errno));
		return true;
	}
	return false;
}

/* ---------------------------------------------------------------- engine */

static void begin_step(srun *r)
{
	const scn_step *st = &r->s->steps[r->cur];

	if (r->o->observe && r->o->observe->on_step)
		r->o->observe->on_step(r->o->observe->ud, r->s, st);
	r->active = true;
	r->phase = 0;
	r->step_t = run__now(r);
	clock_gettime(CLOCK_MONOTONIC, &r->step_w);
	r->from_x = r->n_xs;
	r->from_e = r->n_evs;
	/* What a device or operator step causes at once (a relay pulse, a
	 * voice, an event during the step) happens before the expectations
	 * written after it begin.  A negative expectation on the relay, the
	 * voice or the events therefore observes from the last action, like a
	 * positive one, and so does any negative expectation written right
	 * after the action; otherwise "no relay" after a face could never
	 * fail.  A negative expectation on messages further down observes
	 * from its own start ("no heartbeat for 9 s from now"). */
	r->until = r->step_t + (int64_t)(st->window_s * 1000);
	if (st->kind == SCN_EXPECT && st->none &&
	    (!strcmp(st->action, "relay") || !strcmp(st->action, "voice") ||
	     !strcmp(st->action, "event") ||
	     (r->cur > 0 && (r->s->steps[r->cur - 1].kind == SCN_DEVICE ||
			     r->s->steps[r->cur - 1].kind == SCN_OPERATOR)))) {
		/* ... and its window is the action's too: "still on 400 ms
		 * later" counts from the face, not from when this step got
		 * its turn */
		r->from_x = r->act_x;
		r->from_e = r->act_e;
		r->until = r->act_t + (int64_t)(st->window_s * 1000);
	}
	if (st->kind == SCN_DEVICE || st->kind == SCN_OPERATOR) {
		r->act_x = r->n_xs;
		r->act_e = r->n_evs;
		r->act_t = r->step_t;
	}
	switch (st->kind) {
	case SCN_DEVICE:
		run_device(r, st);
		step_done(r);
		return;
	case SCN_OPERATOR:
		if (run_operator(r, st))
			step_done(r);
		return;
	case SCN_WAIT:
	case SCN_EXPECT:
		loop_timer_at(r->l, &r->t_dead, st->none ? r->until : r->step_t +
			      (int64_t)(st->window_s * 1000));
		if (st->kind == SCN_EXPECT)
			expect_check(r, false);
		return;
	}
}

void run__schedule(srun *r)
{
	const scn_step *st;
	int64_t due;

	if (r->cur >= r->s->n_steps || atomic_load(&r->stop)) {
		r->finished = r->cur >= r->s->n_steps;
		loop_stop(r->l);
		return;
	}
	st = &r->s->steps[r->cur];
	due = run__now(r) + (int64_t)(st->after_s * 1000);
	if (st->has_at && r->t0 + (int64_t)(st->at_s * 1000) > due)
		due = r->t0 + (int64_t)(st->at_s * 1000);
	r->due = due;
	loop_timer_at(r->l, &r->t_start, due);
}

static void step_done(srun *r)
{
	loop_timer_stop(r->l, &r->t_dead);
	r->active = false;
	r->phase = 0;
	r->cur++;
	run__schedule(r);
}

static void on_start(loop_timer *t)
{
	begin_step(container_of(t, srun, t_start));
}

static void on_dead(loop_timer *t)
{
	srun *r = container_of(t, srun, t_dead);
	const scn_step *st = &r->s->steps[r->cur];

	if (!r->active || r->phase || r->side.running)
		return;
	if (st->kind == SCN_WAIT) {
		step_result(r, "pass", NULL, "%.0f s passed", st->window_s);
		step_done(r);
	} else {
		expect_check(r, true);
	}
}

static void on_kick(loop_timer *t)
{
	srun *r = container_of(t, srun, t_kick);

	if (r->active && r->s->steps[r->cur].kind == SCN_EXPECT)
		expect_check(r, false);
}

/* Something was observed: judge the waiting expectation soon, outside the
 * device's own call stack (a step may power the device off). */
void run__kick(srun *r)
{
	if (r->active && r->s->steps[r->cur].kind == SCN_EXPECT &&
	    !loop_timer_armed(&r->t_kick))
		loop_timer_at(r->l, &r->t_kick, run__now(r));
}

void run__timers_init(srun *r)
{
	r->t_start.fn = on_start;
	r->t_dead.fn = on_dead;
	r->t_kick.fn = on_kick;
}
