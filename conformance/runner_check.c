/* runner_check.c -- the checks every exchange of a scenario gets (docs/
 * scenarios.md, "Checks on every exchange"): one accumulator per row of
 * XCHECK_MAP, fed as each exchange ends; the exchange's report entry with
 * its pictures as thumbnails; the command tracker fed with what the server
 * sent and the device answered.  Judging bodies is proto/'s; the steps are
 * runner_step.c's. */
#include "runner_int.h"
#include "b64.h"
#include "outcome.h"

#include "image.h"

#include <inttypes.h>
#include <stb_image_resize.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *id;
	bool should;
	const char *name;
} xcheck[] = {
#define XC_ROW(e, id, should, name) {id, should, name},
	XCHECK_MAP(XC_ROW)
#undef XC_ROW
};

static unsigned long hash(const char *s)
{
	unsigned long h = 5381;
	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

/* ---------------------------------------------------------------- images */

#define THUMB_MAX 20 /* thumbnails per scenario: keeps reports small */

/* A small JPEG of the picture in base64 text b64, as base64; NULL when it
 * is not a picture or out of memory. */
static char *thumbnail(const char *b64, size_t len)
{
	unsigned char *raw = NULL, *jpg = NULL;
	size_t n = 0, jn = 0;
	img im = {0}, th = {0};
	char *out = NULL;
	int w, h;

	if (b64_decode(b64, len, &raw, &n) < 0 ||
	    img_decode(raw, n, &im, NULL, 0) < 0)
		goto out;
	w = im.w >= im.h ? 96 : im.w * 96 / im.h;
	h = im.w >= im.h ? im.h * 96 / im.w : 96;
	th.w = w < 1 ? 1 : w;
	th.h = h < 1 ? 1 : h;
	if (!(th.px = malloc((size_t)th.w * (size_t)th.h * 3)) ||
	    !stbir_resize_uint8(im.px, im.w, im.h, 0, th.px, th.w, th.h, 0, 3) ||
	    img_encode_jpeg(&th, 70, &jpg, &jn) < 0)
		goto out;
	out = b64_encode(jpg, jn, NULL);
out:
	free(raw);
	free(jpg);
	img_free(&im);
	img_free(&th);
	return out;
}

/* Replaces every long base64 string of j (a copy) by a marker, adding a
 * thumbnail of each picture to images. */
static void strip_images(srun *r, cJSON *j, cJSON *images, const char *path)
{
	cJSON *e;

	cJSON_ArrayForEach(e, j) {
		char sub[160];
		if (e->string)
			snprintf(sub, sizeof sub, "%s.%s", path, e->string);
		else
			snprintf(sub, sizeof sub, "%s[]", path);
		if (cJSON_IsString(e) && strlen(e->valuestring) >= 256 &&
		    b64_valid(e->valuestring, strlen(e->valuestring),
				       NULL)) {
			size_t len = strlen(e->valuestring);
			char marker[96], *t = NULL;
			int k = cJSON_GetArraySize(images) + 1;
			if (images && r->n_thumbs < THUMB_MAX &&
			    (t = thumbnail(e->valuestring, len))) {
				cJSON *im = cJSON_CreateObject();
				r->n_thumbs++;
				cJSON_AddStringToObject(im, "label", sub);
				cJSON_AddStringToObject(im, "mime", "image/jpeg");
				cJSON_AddStringToObject(im, "data", t);
				cJSON_AddItemToArray(images, im);
				snprintf(marker, sizeof marker, "<image %d: %zu bytes "
					 "of base64>", k, len);
			} else {
				snprintf(marker, sizeof marker, "<%zu bytes of "
					 "base64>", len);
			}
			free(t);
			cJSON_SetValuestring(e, marker);
		} else if (cJSON_IsObject(e) || cJSON_IsArray(e)) {
			strip_images(r, e, images, sub);
		}
	}
}

/* The text of a body for the report: JSON with pictures replaced, or the
 * raw text (at most 64 KiB). */
static cJSON *body_text(srun *r, const cJSON *parsed, const char *raw,
			size_t len, cJSON *images)
{
	if (parsed) {
		cJSON *c = cJSON_Duplicate(parsed, true);
		char *s;
		cJSON *out;
		if (!c)
			return NULL;
		strip_images(r, c, images, "$");
		s = cJSON_PrintUnformatted(c);
		cJSON_Delete(c);
		out = s ? cJSON_CreateString(s) : NULL;
		cJSON_free(s);
		return out;
	}
	if (!raw)
		return cJSON_CreateNull();
	{
		size_t n = len > 65536 ? 65536 : len;
		char *s = malloc(n + 1);
		cJSON *out;
		if (!s)
			return NULL;
		memcpy(s, raw, n);
		s[n] = '\0';
		out = cJSON_CreateString(s); /* stops at a NUL: fine for text */
		free(s);
		return out;
	}
}

/* ---------------------------------------------------------------- accumulators */

void run__acc_fail(srun *r, int c, long ex, const char *rule,
		   const char *fmt, ...)
{
	xacc *a = &r->acc[c];
	va_list ap;
	int i = 0;
	const cJSON *e;

	if (ex < 0 || a->last_bad != ex) { /* an exchange counts once */
		a->n_bad++;
		a->last_bad = ex;
		if (ex >= 0 && cJSON_GetArraySize(a->ex) < XC_EVIDENCE &&
		    (size_t)ex < XCH_KEEP)
			cJSON_AddItemToArray(a->ex, cJSON_CreateNumber((double)ex));
	}
	if (!a->first[0]) {
		va_start(ap, fmt);
		vsnprintf(a->first, sizeof a->first, fmt, ap);
		va_end(ap);
	}
	if (rule) {
		cJSON_ArrayForEach(e, a->rules) {
			if (!strcmp(e->valuestring, rule))
				return;
			i++;
		}
		if (i < 50)
			cJSON_AddItemToArray(a->rules, cJSON_CreateString(rule));
	}
}

cJSON *run__xcheck_json(srun *r, int c)
{
	xacc *a = &r->acc[c];
	cJSON *j = cJSON_CreateObject();
	const char *status = a->n_bad ? (xcheck[c].should ? "warn" : "fail")
			     : a->na[0] || !a->n ? "n/a" : "pass";
	char msg[1200];

	if (a->n_bad)
		snprintf(msg, sizeof msg, "%zu of %zu %s fail; first: %s",
			 a->n_bad, a->n > a->n_bad ? a->n : a->n_bad,
			 c == XC_STORED ? "snapshots" : "exchanges", a->first);
	else if (a->na[0])
		snprintf(msg, sizeof msg, "not applicable: %s", a->na);
	else if (!a->n)
		snprintf(msg, sizeof msg, "not applicable: nothing of the kind "
			 "happened in this scenario");
	else
		snprintf(msg, sizeof msg, "%zu %s checked%s%s", a->n,
			 c == XC_STORED ? (a->n == 1 ? "snapshot" : "snapshots")
			 : (a->n == 1 ? "exchange" : "exchanges"),
			 a->note[0] ? "; " : "", a->note);
	cJSON_AddStringToObject(j, "id", xcheck[c].id);
	cJSON_AddStringToObject(j, "name", xcheck[c].name);
	cJSON_AddStringToObject(j, "kind", "exchange");
	cJSON_AddStringToObject(j, "severity", xcheck[c].should ? "should" : "must");
	cJSON_AddStringToObject(j, "status", status);
	cJSON_AddStringToObject(j, "message", msg);
	cJSON_AddItemToObject(j, "rules", a->rules);
	cJSON_AddItemToObject(j, "exchanges", a->ex);
	a->rules = a->ex = NULL;
	cJSON_AddNumberToObject(j, "judged", (double)a->n);
	cJSON_AddNumberToObject(j, "failed", (double)a->n_bad);
	cJSON_AddNumberToObject(j, "at_ms", 0);
	cJSON_AddNumberToObject(j, "duration_ms", 0);
	cJSON_AddNumberToObject(j, "wall_ms", 0);
	return j;
}

/* ---------------------------------------------------------------- judging */

/* True for a rule about a time being plausible (a device clock the server
 * itself set to an implausible time breaks them). */
static bool time_rule(const char *rule)
{
	size_t n = strlen(rule);
	return n > 10 && !strcmp(rule + n - 10, ".plausible");
}

/* Validates a body, adds violations to the exchange's list; returns the
 * parsed JSON (caller deletes) or NULL.  blame (>= 0): the exchange whose
 * time_set made time rules fail; they are shown, not counted. */
static cJSON *judge(srun *r, size_t ex, const char *body, size_t len,
		    proto_dir dir, const char *what, cJSON *viol, int c_must,
		    int c_should, long blame)
{
	proto_report rep = {0};
	proto_arena a = PROTO_ARENA_INIT;
	proto_msg m;
	cJSON *j = NULL;
	char e[300];

	if (proto_json_parse(body, len, &j, e, sizeof e) < 0) {
		cJSON *v = cJSON_CreateObject();
		cJSON_AddStringToObject(v, "severity", "must");
		cJSON_AddStringToObject(v, "rule", "json");
		cJSON_AddStringToObject(v, "path", "$");
		cJSON_AddStringToObject(v, "message", e);
		cJSON_AddItemToArray(viol, v);
		run__acc_fail(r, c_must, (long)ex, "json", "%s is not JSON: %s",
			      what, e);
		return NULL;
	}
	proto_decode(j, dir, r->o->prof, &a, &m, &rep);
	for (size_t i = 0; i < rep.n; i++) {
		const proto_violation *pv = &rep.v[i];
		cJSON *v = cJSON_CreateObject();
		bool must = pv->sev == PROTO_MUST;
		/* provoked on purpose by the scenario: shown, not counted */
		bool allowed = dir == PROTO_TO_DEVICE &&
			       scn_allowed(r->s, pv->rule);
		bool caused = blame >= 0 && dir == PROTO_TO_SERVER &&
			      time_rule(pv->rule);
		cJSON_AddStringToObject(v, "severity", must ? "must" : "should");
		cJSON_AddStringToObject(v, "rule", pv->rule);
		cJSON_AddStringToObject(v, "path", pv->path);
		cJSON_AddStringToObject(v, "message", pv->msg);
		if (allowed)
			cJSON_AddTrueToObject(v, "allowed");
		if (caused) {
			char why[120];
			snprintf(why, sizeof why, "the server's time_set in "
				 "exchange %ld set this clock", blame);
			cJSON_AddStringToObject(v, "caused_by", why);
		}
		cJSON_AddItemToArray(viol, v);
		if (!allowed && !caused)
			run__acc_fail(r, must ? c_must : c_should, (long)ex,
				      pv->rule, "%s: %s %s at %s: %s", what,
				      must ? "MUST" : "SHOULD", pv->rule, pv->path,
				      pv->msg);
	}
	proto_report_free(&rep);
	proto_arena_free(&a);
	return j;
}

/* NOTES.md's seq hazards, for every command seq in a reply. */
static void seq_hazards(srun *r, size_t ex, devrun *dv, const cJSON *reply)
{
	static const char *const members[] = {"facelib_manage", "reupload",
					      "config", "facelog", "control"};

	for (size_t i = 0; i < ARRAY_SIZE(members); i++) {
		const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(reply,
								   members[i]);
		const cJSON *sq = cJSON_GetObjectItemCaseSensitive(cmd, "seq");
		cJSON *copy;
		char *txt;
		unsigned long sig;
		int64_t seq;
		bool known = false;
		if (!cJSON_IsNumber(sq))
			continue;
		seq = (int64_t)sq->valuedouble;
		copy = cJSON_Duplicate(cmd, true);
		cJSON_DeleteItemFromObjectCaseSensitive(copy, "seq");
		txt = cJSON_PrintUnformatted(copy);
		sig = txt ? hash(txt) : 0;
		cJSON_free(txt);
		cJSON_Delete(copy);
		for (size_t k = 0; k < dv->n_seqs; k++)
			if (dv->seqs[k].seq == seq &&
			    (dv->seqs[k].sig != sig ||
			     strcmp(dv->seqs[k].member, members[i])))
				run__acc_fail(r, XC_SEQ, (long)ex, NULL, "%s.seq %"
					      PRId64 " was already used by a "
					      "different command (%s in exchange "
					      "%zu): the device cannot tell their "
					      "results apart", members[i], seq,
					      dv->seqs[k].member, dv->seqs[k].ex);
		for (size_t k = 0; k < dv->n_hb && i == 0; k++)
			if (dv->hb_seqs[k] == seq)
				run__acc_fail(r, XC_SEQ, (long)ex, NULL,
					      "facelib_manage.seq %" PRId64 " equals "
					      "a heartbeat send time the device "
					      "used as its seq: its success cannot "
					      "be told from a plain heartbeat "
					      "(NOTES.md, the seq mechanism)", seq);
		/* every seq is kept, however many (a later reuse of any
		 * is a hazard); out of memory makes the run an error
		 * (verdict_of) rather than a check that stopped looking */
		for (size_t k = 0; k < dv->n_seqs; k++)
			known |= dv->seqs[k].seq == seq && dv->seqs[k].sig == sig;
		if (known)
			continue;
		run__grow((void **)&dv->seqs, &dv->cap_seqs, dv->n_seqs + 1,
			  sizeof *dv->seqs, &r->oom);
		if (dv->n_seqs < dv->cap_seqs) {
			seqrec *s = &dv->seqs[dv->n_seqs++];
			s->seq = seq;
			s->sig = sig;
			s->ex = ex;
			snprintf(s->member, sizeof s->member, "%s", members[i]);
		}
	}
}

/* ---------------------------------------------------------------- tracking */

typedef struct note_ctx {
	srun *r;
	size_t ex, dev;
} note_ctx;

static void on_note(void *ud, const track_note *n)
{
	note_ctx *c = ud;
	srun *r = c->r;
	devrun *dv = &r->devs[c->dev];
	const cJSON *ti = cJSON_GetObjectItemCaseSensitive(n->command,
							   "time_interval");
	const outcome_kind *k = outcome_kind_find(n->kind);
	char *txt;

	if ((n->what == TRACK_RESENT || n->what == TRACK_RETRY) && n->key >= 0) {
		run__grow((void **)&r->rd, &r->cap_rd, r->n_rd + 1, sizeof *r->rd,
			  &r->oom);
		if (!r->oom)
			r->rd[r->n_rd++] = (redeliv){.key = n->key, .ex = c->ex};
	}
	if (cJSON_IsNumber(ti)) {
		int64_t v = (int64_t)ti->valuedouble;
		if (n->what == TRACK_NEW)
			dv->interval_s = v; /* the scenario asked for it */
		else if (n->what == TRACK_UNSOLICITED && v != dv->interval_s)
			run__acc_fail(r, XC_INTERVAL, (long)c->ex, NULL,
				      "the reply in exchange %zu sets "
				      "time_interval %" PRId64 " s, which no "
				      "step asked for: the scenario expects "
				      "heartbeats every %" PRId64 " s, and its "
				      "timing no longer holds", c->ex, v,
				      dv->interval_s);
	}
	/* commands without a result of their own may ride along again;
	 * a reboot may not */
	if (n->what != TRACK_DUPLICATE || !k ||
	    (k->result == PROTO_KIND_NONE && strcmp(k->name, "reboot")))
		return;
	txt = cJSON_PrintUnformatted(n->command);
	run__acc_fail(r, XC_DUP, (long)c->ex, NULL, "%s %.200s was confirmed "
		      "by the device's message in exchange %ld and delivered "
		      "again in the reply of exchange %zu: the device carries it "
		      "out a second time", k->name, txt ? txt : "", n->done_ex,
		      c->ex);
	if (n->duplicates == LOOP_NAMED) /* the loop is the headline, once */
		snprintf(r->acc[XC_DUP].first, sizeof r->acc[XC_DUP].first,
			 "request loop: %s %.200s, confirmed by the device's "
			 "message in exchange %ld, came back in %d more replies "
			 "(so far); the device answers each, and the server "
			 "sends it again", k->name, txt ? txt : "", n->done_ex,
			 n->duplicates);
	cJSON_free(txt);
	if (n->duplicates >= LOOP_STOP)
		run__stop(r, STOP_LOOP, "request loop: the server delivered %s "
			  "(confirmed in exchange %ld) %d more times; the "
			  "scenario was stopped", k->name, n->done_ex,
			  n->duplicates);
}

/* The snapshot as the mock keeps a record: each picture replaced by its
 * length in base64 characters. */
static void add_record(srun *r, size_t ex, const xch *xc, const char *cid)
{
	cJSON *rec = cJSON_CreateObject(), *msg, *f;
	cJSON *faces;

	if (!rec || !(msg = cJSON_Duplicate(xc->req, true))) {
		cJSON_Delete(rec);
		r->oom = true;
		return;
	}
	faces = cJSON_GetObjectItemCaseSensitive(msg, "faces");
	cJSON_ArrayForEach(f, faces)
		if (cJSON_IsString(f)) {
			cJSON *num = cJSON_CreateNumber(
				(double)strlen(f->valuestring));
			if (num && cJSON_ReplaceItemViaPointer(faces, f, num))
				f = num;
			else
				cJSON_Delete(num);
		}
	cJSON_AddNumberToObject(rec, "id", cJSON_GetArraySize(r->records) + 1);
	cJSON_AddStringToObject(rec, "cid", cid);
	cJSON_AddNumberToObject(rec, "received_at", (double)xc->t);
	cJSON_AddNumberToObject(rec, "exchange", (double)ex);
	cJSON_AddBoolToObject(rec, "resend", xc->resend);
	cJSON_AddItemToObject(rec, "message", msg);
	cJSON_AddItemToArray(r->records, rec);
}

/* ---------------------------------------------------------------- exchanges */

/* One exchange as the per-exchange checks see it. */
typedef struct xview {
	srun *r;
	size_t i;                 /* its index in r->xs */
	const dev_exchange *x;
	const loop_http_res *res; /* NULL: not sent */
	xch *xc;
	size_t di;                /* the device's index */
	devrun *dv;
	cJSON *viol;              /* the exchange's violations (report) */
	bool post, answered, final;
	double at;                /* seconds since the scenario start */
} xview;

/* curl waits up to 1 s for a 100 Continue, then sends the body: that wait
 * is the device's, not the server's. */
static bool waited_for_100(const xview *v)
{
	return v->x->expect_100 && !v->res->got_100 &&
	       v->res->t_first_byte_ms >= 900;
}

/* device-valid: the device's own message; a heartbeat's send time is kept
 * for seq-hazard, and what the server received settles its commands. */
static void check_device(const xview *v)
{
	srun *r = v->r;
	const dev_exchange *x = v->x;
	xch *xc = v->xc;
	devrun *dv = v->dv;
	proto_arena a = PROTO_ARENA_INIT;
	proto_msg g;
	char what[80];

	snprintf(what, sizeof what, "the device's %s", x->kind);
	xc->req = judge(r, v->i, x->body, x->len, PROTO_TO_SERVER, what,
			v->viol, XC_DEVICE, XC_DEVICE, dv->bad_clock_ex);
	r->acc[XC_DEVICE].n++;
	if (xc->req) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(xc->req,
								  "type");
		const cJSON *sq = cJSON_GetObjectItemCaseSensitive(xc->req,
								   "seq");
		if (cJSON_IsNumber(t) && t->valuedouble == 3 &&
		    cJSON_IsNumber(sq) && sq->valuedouble > 1000000000) {
			run__grow((void **)&dv->hb_seqs, &dv->cap_hb,
				  dv->n_hb + 1, sizeof *dv->hb_seqs, &r->oom);
			if (dv->n_hb < dv->cap_hb)
				dv->hb_seqs[dv->n_hb++] =
					(int64_t)sq->valuedouble;
		}
		/* what the server received settles its commands */
		if (v->answered && proto_decode(xc->req, PROTO_TO_SERVER,
						r->o->prof, &a, &g, NULL)
				!= PROTO_EUNKNOWN)
			track_message(r->tk, v->di, v->i, !x->expect_100,
				      (double)xc->t, &g);
	}
	proto_arena_free(&a);
}

/* reply-status and reply-time: a complete final answer within the
 * device's timeout, and that answer 200. */
static void check_status_time(const xview *v)
{
	srun *r = v->r;
	const loop_http_res *res = v->res;
	const char *kind = v->x->kind;
	long i = (long)v->i;

	r->acc[XC_STATUS].n++;
	if (res->fail != LOOP_HTTP_CONNECT)
		r->acc[XC_TIME].n++;
	if (res->fail == LOOP_HTTP_TIMEOUT)
		run__acc_fail(r, XC_TIME, i, NULL, "%s at +%.1f s: no "
			      "complete answer within the device's %.0f s "
			      "timeout%s", kind, v->at,
			      (double)r->env.http_timeout_ms / 1000,
			      res->got_100 ? " (only 100 Continue came)"
			      : "");
	else if (v->answered && !v->final)
		run__acc_fail(r, XC_TIME, i, NULL, "%s at +%.1f s: "
			      "the server sent %ld and no final answer",
			      kind, v->at, res->status);
	else if (!v->answered && res->got_100)
		run__acc_fail(r, XC_TIME, i, NULL, "%s at +%.1f s: "
			      "100 Continue, then no final answer (%s)",
			      kind, v->at, res->error);
	else if (!v->answered)
		run__acc_fail(r, XC_STATUS, i, NULL, "%s at +%.1f s: "
			      "%s", kind, v->at, res->error);
	else if (res->status != 200)
		run__acc_fail(r, XC_STATUS, i, NULL, "%s at +%.1f s: "
			      "HTTP %ld (only 200 is success; the device "
			      "does not read the body, D2)", kind, v->at,
			      res->status);
}

/* reply-latency: a final answer within --slow-ms. */
static void check_latency(const xview *v)
{
	srun *r = v->r;
	double slow = r->o->slow_ms > 0 ? r->o->slow_ms : 1000;
	bool waited = waited_for_100(v);
	double latency = v->res->t_total_ms - (waited ? 1000 : 0);

	if (latency < 0)
		latency = 0;
	r->acc[XC_LATENCY].n++;
	if (latency > slow)
		run__acc_fail(r, XC_LATENCY, (long)v->i, NULL, "%s at "
			      "+%.1f s: the reply took %.0f ms "
			      "(limit %.0f ms)%s", v->x->kind, v->at,
			      latency, slow, waited ? ", not "
			      "counting the device's 1 s wait for "
			      "100 Continue" : "");
}

/* expect-100: an upload sent with Expect: 100-continue got 100 Continue
 * or its final answer at once. */
static void check_expect_100(const xview *v)
{
	v->r->acc[XC_EXPECT].n++;
	if (waited_for_100(v))
		run__acc_fail(v->r, XC_EXPECT, (long)v->i, NULL, "%s at "
			      "+%.1f s: no 100 Continue to Expect: "
			      "100-continue; the device waited 1 s "
			      "before sending the body (§4 allows "
			      "it; it costs every upload a second)",
			      v->x->kind, v->at);
}

/* reply-valid, reply-should and seq-hazard on a 200 reply; the tracker
 * judges duplicate-delivery and heartbeat-interval (on_note); a snapshot's
 * record is noted for records-stored. */
static void check_reply(const xview *v)
{
	srun *r = v->r;
	const loop_http_res *res = v->res;
	xch *xc = v->xc;
	devrun *dv = v->dv;
	size_t i = v->i;
	char what[80];

	r->acc[XC_VALID].n++;
	r->acc[XC_SHOULD].n++;
	r->acc[XC_SEQ].n++;
	r->acc[XC_DUP].n++;
	r->acc[XC_INTERVAL].n++;
	snprintf(what, sizeof what, "the reply to %s at +%.1f s",
		 v->x->kind, v->at);
	if (!proto_json_blank(res->body, 0, res->len))
		xc->reply = judge(r, i, res->body, res->len,
				  PROTO_TO_DEVICE, what, v->viol,
				  XC_VALID, XC_SHOULD, -1);
	else
		xc->reply = cJSON_CreateObject(); /* D3 */
	if (xc->reply) {
		note_ctx nc = {.r = r, .ex = i, .dev = v->di};
		const cJSON *ts = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(
				xc->reply, "time_set"), "time_stamp");
		seq_hazards(r, i, dv, xc->reply);
		if (track_reply(r->tk, v->di, i, (double)xc->t +
				res->t_total_ms, xc->reply, on_note,
				&nc) < 0)
			r->oom = true;
		if (cJSON_IsNumber(ts))
			dv->bad_clock_ex = ts->valuedouble <
				946684800.0 || ts->valuedouble >
				4102444800.0 ? (long)i : -1;
	}
	if (!strcmp(xc->kind, "snapshot") && xc->req)
		add_record(r, i, xc, dv->cid);
}

/* The exchange's report entry j; takes images and v->viol. */
static void exchange_json(const xview *v, cJSON *j, cJSON *images)
{
	srun *r = v->r;
	const dev_exchange *x = v->x;
	const loop_http_res *res = v->res;
	xch *xc = v->xc;

	cJSON_AddNumberToObject(j, "i", (double)v->i);
	cJSON_AddStringToObject(j, "device", v->dv->cid);
	cJSON_AddNumberToObject(j, "at_ms", (double)run__rel(r, xc->t));
	cJSON_AddStringToObject(j, "kind", x->kind);
	cJSON_AddStringToObject(j, "method", x->method);
	cJSON_AddStringToObject(j, "url", x->url);
	cJSON_AddBoolToObject(j, "expect_100", x->expect_100);
	cJSON_AddItemToObject(j, "request", x->body
			      ? body_text(r, xc->req, x->body, x->len,
					  images)
			      : cJSON_CreateNull());
	cJSON_AddNumberToObject(j, "status", res ? (double)res->status : 0);
	cJSON_AddBoolToObject(j, "got_100", res && res->got_100);
	if (!res)
		cJSON_AddStringToObject(j, "error", x->fault ? "not sent: "
					"lost on purpose (fault injection)"
					: "not sent: the device's network "
					"is down");
	else if (res->fail != LOOP_HTTP_OK)
		cJSON_AddStringToObject(j, "error", res->error);
	else
		cJSON_AddNullToObject(j, "error");
	if (x->fault)
		cJSON_AddStringToObject(j, "fault", x->fault);
	if (res) {
		cJSON_AddNumberToObject(j, "t_connect_ms", res->t_connect_ms);
		cJSON_AddNumberToObject(j, "t_first_byte_ms",
					res->t_first_byte_ms);
		cJSON_AddNumberToObject(j, "t_total_ms", res->t_total_ms);
	}
	if (v->answered && v->post) {
		if (xc->reply && cJSON_GetArraySize(xc->reply))
			cJSON_AddItemToObject(j, "reply", body_text(
					r, xc->reply, NULL, 0, images));
		else
			cJSON_AddItemToObject(j, "reply", body_text(
					r, NULL, res->body, res->len, images));
	} else {
		cJSON_AddNullToObject(j, "reply");
	}
	cJSON_AddItemToObject(j, "images", images);
	cJSON_AddItemToObject(j, "violations", v->viol);
	cJSON_AddItemToArray(r->j_exchanges, j);
}

/* Every exchange of a device: recorded, then each check of XCHECK_MAP that
 * applies to it (records-stored runs at the scenario's end). */
void run__on_exchange(void *ud, dev *d, const dev_exchange *x)
{
	srun *r = ud;
	const loop_http_res *res = x->res;
	size_t i = r->n_xs, di = run__dev_index(r, d);
	bool keep = i < XCH_KEEP;
	cJSON *j = keep ? cJSON_CreateObject() : NULL;
	cJSON *viol = cJSON_CreateArray(), *images = keep ? cJSON_CreateArray()
							    : NULL;
	xview v = {.r = r, .i = i, .x = x, .res = res, .di = di,
		   .dv = &r->devs[di], .viol = viol};
	xch *xc;

	run__grow((void **)&r->xs, &r->cap_xs, r->n_xs + 1, sizeof *r->xs,
		  &r->oom);
	if (r->oom || !viol || (keep && (!j || !images))) {
		r->oom = true;
		cJSON_Delete(j);
		cJSON_Delete(viol);
		cJSON_Delete(images);
		return;
	}
	xc = v.xc = &r->xs[r->n_xs++];
	memset(xc, 0, sizeof *xc);
	xc->dev = di;
	xc->t = res ? res->started : run__now(r);
	xc->resend = strstr(x->kind, "resend") != NULL;
	v.post = strcmp(x->method, "GET") != 0;
	v.answered = res && res->fail == LOOP_HTTP_OK;
	v.final = v.answered && res->status >= 200;
	xc->to_server = v.post;
	xc->delivered = v.answered;
	snprintf(xc->kind, sizeof xc->kind, "%s", xc->resend ? "snapshot"
		 : x->kind);
	v.at = (double)run__rel(r, xc->t) / 1000;

	if (x->body && v.post)
		check_device(&v);
	if (res && v.post) {
		check_status_time(&v);
		if (v.final)
			check_latency(&v);
		if (x->expect_100 && v.final)
			check_expect_100(&v);
		if (v.final && res->status == 200)
			check_reply(&v);
	}
	if (keep) {
		exchange_json(&v, j, images);
	} else {
		r->x_omitted++;
		cJSON_Delete(viol);
	}
	if (r->o->observe && r->o->observe->on_exchange)
		r->o->observe->on_exchange(r->o->observe->ud, d, x);
	run__kick(r);
}

void run__on_event(void *ud, dev *d, const dev_event *ev)
{
	srun *r = ud;
	cJSON *j = cJSON_CreateObject();
	int64_t t = run__now(r);

	run__grow((void **)&r->evs, &r->cap_evs, r->n_evs + 1, sizeof *r->evs,
		  &r->oom);
	if (r->oom || !j) {
		r->oom = true;
		cJSON_Delete(j);
		return;
	}
	r->evs[r->n_evs].dev = run__dev_index(r, d);
	r->evs[r->n_evs].t = t;
	r->evs[r->n_evs].ev = *ev;
	r->n_evs++;
	if (cJSON_GetArraySize(r->j_events) < 4 * XCH_KEEP) {
		cJSON_AddNumberToObject(j, "at_ms", (double)run__rel(r, t));
		cJSON_AddStringToObject(j, "device",
					r->devs[run__dev_index(r, d)].cid);
		cJSON_AddStringToObject(j, "kind", dev_event_name(ev->kind));
		cJSON_AddStringToObject(j, "text", ev->text);
		cJSON_AddItemToArray(r->j_events, j);
	} else {
		cJSON_Delete(j);
	}
	if (r->o->observe && r->o->observe->on_event)
		r->o->observe->on_event(r->o->observe->ud, d, ev);
	run__kick(r);
}

/* ---------------------------------------------------------------- records */

/* The snapshot times (UTC s) in a server's list of records: each record's
 * "time" or "message"."time". */
static size_t record_times(const cJSON *list, int64_t *out, size_t max)
{
	const cJSON *e;
	size_t n = 0;

	if (cJSON_IsObject(list))
		list = cJSON_GetObjectItemCaseSensitive(list, "records");
	cJSON_ArrayForEach(e, list) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "time");
		if (!cJSON_IsNumber(t))
			t = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(e, "message"),
				"time");
		if (cJSON_IsNumber(t) && n < max)
			out[n++] = (int64_t)t->valuedouble;
	}
	return n;
}

void run__check_records(srun *r)
{
	xacc *a = &r->acc[XC_STORED];
	int64_t *have = NULL;
	size_t cap = 100000;

	if (!cJSON_GetArraySize(r->records)) {
		snprintf(a->na, sizeof a->na, "the server answered no snapshot "
			 "with 200");
		return;
	}
	if (!r->mock_mode && !adp_has(r->o->adp, "records")) {
		snprintf(a->na, sizeof a->na, "the adapter has no \"records\" "
			 "action, so what the server stored was not checked "
			 "(docs/adapters.md, \"Query actions\")");
		return;
	}
	if (!(have = malloc(cap * sizeof *have))) {
		r->oom = true;
		return;
	}
	for (size_t di = 0; di < r->s->n_devs; di++) {
		const char *cid = r->devs[di].cid;
		cJSON *list = NULL, *e;
		size_t n_have = 0;
		char err[600] = "";
		bool any = false;
		cJSON_ArrayForEach(e, r->records)
			any |= !strcmp(run__str(e, "cid"), cid);
		if (!any)
			continue;
		if (r->mock_mode) {
			list = mock_records_json(r->m, cid, 0, 100000);
		} else {
			adp_result res;
			cJSON *p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "action", "records");
			cJSON_AddStringToObject(p, "cid", cid);
			if (adp_run(r->o->adp, false, "records", p, &r->cancel,
				    &res, err, sizeof err) == 0 && !res.json)
				snprintf(err, sizeof err, "the records action "
					 "printed no JSON: %.300s",
					 res.output ? res.output : "(nothing)");
			list = err[0] ? NULL : res.json;
			res.json = NULL;
			adp_result_free(&res);
			cJSON_Delete(p);
		}
		if (!list) {
			snprintf(a->na, sizeof a->na, "the server's records of %s "
				 "could not be read: %.200s", cid,
				 err[0] ? err : "out of memory");
			break;
		}
		n_have = record_times(list, have, cap);
		cJSON_Delete(list);
		cJSON_ArrayForEach(e, r->records) {
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(e, "message"),
				"time");
			bool found = false;
			if (strcmp(run__str(e, "cid"), cid))
				continue;
			a->n++;
			for (size_t k = 0; cJSON_IsNumber(t) && k < n_have; k++)
				found |= have[k] == (int64_t)t->valuedouble;
			if (!found)
				run__acc_fail(r, XC_STORED, (long)cJSON_GetObjectItem(
						      e, "exchange")->valuedouble,
					      NULL, "the snapshot of %s with time "
					      "%.0f, answered 200 in exchange %.0f, "
					      "is not among the %zu records the "
					      "server stored", cid,
					      cJSON_IsNumber(t) ? t->valuedouble : 0,
					      cJSON_GetObjectItem(e, "exchange")
						      ->valuedouble, n_have);
		}
	}
	free(have);
}
