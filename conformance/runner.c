/* runner.c -- executes scenarios.  Each scenario gets its own event loop,
 * state store, devices and (against the mock) its own mock server, in a
 * worker thread; steps run on the loop as timers, expectations are judged
 * on every exchange and event the devices report.  Owns the checks that
 * run on every exchange (docs/scenarios.md, "Checks on every exchange");
 * the protocol judging itself is proto/'s, the files report.c's. */
#include "runner.h"
#include "adapter.h"
#include "mock.h"
#include "operator.h"
#include "pkgsrv.h"

#include "device.h"
#include "image.h"
#include "sim_err.h"

#include <cJSON.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stb_image_resize.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- checks */

/* The checks every exchange with the server goes through; one report
 * entry each per scenario. */
#define XCHECK_MAP(X)                                                         \
	X(STATUS, "reply-status", false,                                      \
	  "every message is answered with HTTP 200 (D2: any other status is "  \
	  "a failure and the device keeps or resends what it sent)")           \
	X(TIME, "reply-time", false,                                          \
	  "every reply arrives within the device's timeout")                  \
	X(LATENCY, "reply-latency", true,                                     \
	  "every reply arrives promptly (within the --slow-ms limit)")        \
	X(VALID, "reply-valid", false,                                        \
	  "every 200 reply body is a valid V1.16 command reply (MUST rules)") \
	X(SHOULD, "reply-should", true,                                       \
	  "every 200 reply body keeps the SHOULD rules of V1.16")              \
	X(EXPECT, "expect-100", false,                                        \
	  "snapshot uploads sent with Expect: 100-continue get 100 Continue " \
	  "(or the final answer) without the device's 1 s wait (D4)")         \
	X(SEQ, "seq-hazard", true,                                            \
	  "command seqs avoid the hazards of NOTES.md: a seq reused for a "   \
	  "different command, or one equal to a heartbeat's send time")       \
	X(DEVICE, "device-valid", false,                                      \
	  "every message of the simulated device is valid V1.16 (guards "     \
	  "camsim itself)")

enum {
#define XC_ENUM(e, id, should, name) XC_##e,
	XCHECK_MAP(XC_ENUM)
#undef XC_ENUM
	XC_COUNT
};

static const struct {
	const char *id;
	bool should;
	const char *name;
} xcheck[] = {
#define XC_ROW(e, id, should, name) {id, should, name},
	XCHECK_MAP(XC_ROW)
#undef XC_ROW
};

#define XC_EVIDENCE 20 /* exchanges listed per failed check */

typedef struct xacc {
	size_t n, n_bad;
	char first[600];
	cJSON *rules;   /* rule ids seen failing (no duplicates) */
	cJSON *ex;      /* exchange indices (first XC_EVIDENCE) */
} xacc;

/* ---------------------------------------------------------------- state */

typedef struct xch {
	cJSON *req, *reply; /* parsed bodies, NULL when not JSON or none */
	char kind[40];
	bool resend, to_server;
	size_t dev;
	int64_t t;
} xch;

typedef struct evrec {
	size_t dev;
	dev_event ev;
} evrec;

typedef struct seqrec {
	int64_t seq;
	char member[24];
	unsigned long sig;
	size_t ex;
} seqrec;

typedef struct devrun {
	dev *d;
	char cid[40];
	seqrec seqs[64];
	size_t n_seqs;
	int64_t hb_seqs[32]; /* heartbeat seqs that were send times */
	size_t n_hb;
} devrun;

typedef struct shared {
	const run_opts *o;
	pkgsrv *pkg;            /* started lazily, under mu */
	bool pkg_failed;
	char pkg_err[200];
	pthread_mutex_t mu;
	scenario *const *s;
	size_t n, next, done;
	cJSON **out;            /* per scenario result */
	struct timespec t0;
	int failed;
	recog *rg;              /* one recogniser for every scenario: models
				   load once, descriptors are cached once */
	char rg_err[600];
} shared;

typedef struct srun {
	shared *sh;
	const run_opts *o;
	const scenario *s;
	bool mock_mode;
	loop *l;
	store *st;
	recog *rg;
	mock *m;
	dev_env env;
	devrun *devs;
	char dir[128];
	char url[256];
	int64_t t0;

	/* steps */
	size_t cur;
	bool active, stepping, finished;
	int64_t step_t;           /* when the current step started */
	int64_t due;              /* when it may start */
	size_t from_x, from_e;    /* expect window: first exchange/event */
	size_t act_x, act_e;      /* counts at the last action's start */
	int64_t act_t;
	loop_timer t_start, t_dead, t_kick;
	int64_t *cmd_ids;         /* per step: mock command id */
	pthread_t adp_th;
	bool adp_running;
	int adp_rc;
	char *adp_evidence;
	char adp_err[600];
	cJSON *adp_params;

	/* observations */
	xch *xs;
	size_t n_xs, cap_xs;
	evrec *evs;
	size_t n_evs, cap_evs;
	size_t n_thumbs;

	/* report */
	cJSON *j_checks, *j_exchanges, *j_events;
	xacc acc[XC_COUNT];
	bool oom;
} srun;

static void kick(srun *r);

/* ---------------------------------------------------------------- helpers */

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t rel(const srun *r, int64_t t)
{
	return t - r->t0;
}

static int64_t now(const srun *r)
{
	return loop_now(r->l);
}

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

	if (img_base64_decode(b64, len, &raw, &n) < 0 ||
	    img_decode(raw, n, &im, NULL, 0) < 0)
		goto out;
	w = im.w >= im.h ? 96 : im.w * 96 / im.h;
	h = im.w >= im.h ? im.h * 96 / im.w : 96;
	if (w < 1)
		w = 1;
	if (h < 1)
		h = 1;
	th.w = w;
	th.h = h;
	if (!(th.px = malloc((size_t)w * (size_t)h * 3)) ||
	    !stbir_resize_uint8(im.px, im.w, im.h, 0, th.px, w, h, 0, 3) ||
	    img_encode_jpeg(&th, 70, &jpg, &jn) < 0)
		goto out;
	out = img_base64_encode(jpg, jn, NULL);
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
		    proto_base64_valid(e->valuestring, strlen(e->valuestring),
				       NULL)) {
			size_t len = strlen(e->valuestring);
			char marker[96], *t = NULL;
			int k = cJSON_GetArraySize(images) + 1;
			if (r->n_thumbs < THUMB_MAX &&
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

/* ---------------------------------------------------------------- exchange checks */

static void acc_fail(srun *r, int c, size_t ex, const char *rule,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void acc_fail(srun *r, int c, size_t ex, const char *rule,
		     const char *fmt, ...)
{
	xacc *a = &r->acc[c];
	va_list ap;
	int i = 0;
	const cJSON *e;
	bool seen = false;

	a->n_bad++;
	if (!a->first[0]) {
		va_start(ap, fmt);
		vsnprintf(a->first, sizeof a->first, fmt, ap);
		va_end(ap);
	}
	cJSON_ArrayForEach(e, a->ex) seen |= (size_t)e->valuedouble == ex;
	if (!seen && cJSON_GetArraySize(a->ex) < XC_EVIDENCE)
		cJSON_AddItemToArray(a->ex, cJSON_CreateNumber((double)ex));
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

/* Validates a body, adds violations to the exchange's list; returns the
 * parsed JSON (caller deletes) or NULL. */
static cJSON *judge(srun *r, size_t ex, const char *body, size_t len,
		    proto_dir dir, const char *what, cJSON *viol, int c_must,
		    int c_should)
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
		acc_fail(r, c_must, ex, "json", "%s is not JSON: %s", what, e);
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
		cJSON_AddStringToObject(v, "severity", must ? "must" : "should");
		cJSON_AddStringToObject(v, "rule", pv->rule);
		cJSON_AddStringToObject(v, "path", pv->path);
		cJSON_AddStringToObject(v, "message", pv->msg);
		if (allowed)
			cJSON_AddTrueToObject(v, "allowed");
		cJSON_AddItemToArray(viol, v);
		if (!allowed)
			acc_fail(r, must ? c_must : c_should, ex, pv->rule,
			 "%s: %s %s at %s: %s", what, must ? "MUST" : "SHOULD",
			 pv->rule, pv->path, pv->msg);
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

	for (size_t i = 0; i < 5; i++) {
		const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(reply,
								   members[i]);
		const cJSON *sq = cJSON_GetObjectItemCaseSensitive(cmd, "seq");
		cJSON *copy;
		char *txt;
		unsigned long sig;
		int64_t seq;
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
				acc_fail(r, XC_SEQ, ex, NULL, "%s.seq %" PRId64
					 " was already used by a different command "
					 "(%s in exchange %zu): the device cannot "
					 "tell their results apart", members[i],
					 seq, dv->seqs[k].member, dv->seqs[k].ex);
		for (size_t k = 0; k < dv->n_hb && i == 0; k++)
			if (dv->hb_seqs[k] == seq)
				acc_fail(r, XC_SEQ, ex, NULL, "facelib_manage.seq %"
					 PRId64 " equals a heartbeat send time the "
					 "device used as its seq: its success "
					 "cannot be told from a plain heartbeat "
					 "(NOTES.md, the seq mechanism)", seq);
		if (dv->n_seqs < sizeof dv->seqs / sizeof *dv->seqs) {
			seqrec *s = &dv->seqs[dv->n_seqs++];
			s->seq = seq;
			s->sig = sig;
			s->ex = ex;
			snprintf(s->member, sizeof s->member, "%s", members[i]);
		}
	}
}

static void grow(void **p, size_t *cap, size_t need, size_t size, bool *oom)
{
	if (need <= *cap)
		return;
	size_t nc = *cap ? *cap * 2 : 64;
	void *np = realloc(*p, nc * size);
	if (!np) {
		*oom = true;
		return;
	}
	*p = np;
	*cap = nc;
}

static size_t dev_index(const srun *r, const dev *d)
{
	for (size_t i = 0; i < r->s->n_devs; i++)
		if (r->devs[i].d == d)
			return i;
	return 0;
}

static void on_exchange(void *ud, dev *d, const dev_exchange *x)
{
	srun *r = ud;
	const loop_http_res *res = x->res;
	size_t i = r->n_xs, di = dev_index(r, d);
	devrun *dv = &r->devs[di];
	cJSON *j = cJSON_CreateObject(), *viol = cJSON_CreateArray();
	cJSON *images = cJSON_CreateArray();
	xch *xc;
	bool judged = res && x->body && strcmp(x->method, "GET");
	char what[80];

	grow((void **)&r->xs, &r->cap_xs, r->n_xs + 1, sizeof *r->xs, &r->oom);
	if (r->oom || !j || !viol || !images) {
		r->oom = true;
		cJSON_Delete(j);
		cJSON_Delete(viol);
		cJSON_Delete(images);
		return;
	}
	xc = &r->xs[r->n_xs++];
	memset(xc, 0, sizeof *xc);
	xc->dev = di;
	xc->t = res ? res->started : now(r);
	xc->resend = strstr(x->kind, "resend") != NULL;
	xc->to_server = strcmp(x->method, "GET") != 0;
	snprintf(xc->kind, sizeof xc->kind, "%s", x->kind);
	if (xc->resend)
		snprintf(xc->kind, sizeof xc->kind, "snapshot");

	cJSON_AddNumberToObject(j, "i", (double)i);
	cJSON_AddStringToObject(j, "device", dv->cid);
	cJSON_AddNumberToObject(j, "at_ms", (double)rel(r, xc->t));
	cJSON_AddStringToObject(j, "kind", x->kind);
	cJSON_AddStringToObject(j, "method", x->method);
	cJSON_AddStringToObject(j, "url", x->url);
	cJSON_AddBoolToObject(j, "expect_100", x->expect_100);

	/* the device's own message */
	if (x->body && xc->to_server) {
		snprintf(what, sizeof what, "the device's %s", x->kind);
		xc->req = judge(r, i, x->body, x->len, PROTO_TO_SERVER, what,
				viol, XC_DEVICE, XC_DEVICE);
		if (xc->req) {
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(xc->req,
									  "type");
			const cJSON *sq = cJSON_GetObjectItemCaseSensitive(xc->req,
									   "seq");
			if (cJSON_IsNumber(t) && t->valuedouble == 3 &&
			    cJSON_IsNumber(sq) && sq->valuedouble > 1000000000) {
				dv->hb_seqs[dv->n_hb % 32] = (int64_t)sq->valuedouble;
				if (dv->n_hb < 32)
					dv->n_hb++;
			}
		}
		r->acc[XC_DEVICE].n++;
	}
	cJSON_AddItemToObject(j, "request", x->body ? body_text(r, xc->req,
					x->body, x->len, images)
						    : cJSON_CreateNull());

	cJSON_AddNumberToObject(j, "status", res ? (double)res->status : 0);
	cJSON_AddBoolToObject(j, "got_100", res && res->got_100);
	if (!res)
		cJSON_AddStringToObject(j, "error", "not sent: the device's "
					"network is down");
	else if (res->fail != LOOP_HTTP_OK)
		cJSON_AddStringToObject(j, "error", res->error);
	else
		cJSON_AddNullToObject(j, "error");
	if (res) {
		cJSON_AddNumberToObject(j, "t_connect_ms", res->t_connect_ms);
		cJSON_AddNumberToObject(j, "t_first_byte_ms", res->t_first_byte_ms);
		cJSON_AddNumberToObject(j, "t_total_ms", res->t_total_ms);
	}

	if (judged) {
		double slow = r->o->slow_ms > 0 ? r->o->slow_ms : 1000;
		r->acc[XC_STATUS].n++;
		r->acc[XC_TIME].n++;
		r->acc[XC_LATENCY].n++;
		if (res->fail == LOOP_HTTP_TIMEOUT)
			acc_fail(r, XC_TIME, i, NULL, "%s at +%.1f s: no complete "
				 "answer within the device's %.0f s timeout",
				 x->kind, (double)rel(r, xc->t) / 1000,
				 (double)r->env.http_timeout_ms / 1000);
		else if (res->fail != LOOP_HTTP_OK)
			acc_fail(r, XC_STATUS, i, NULL, "%s at +%.1f s: %s",
				 x->kind, (double)rel(r, xc->t) / 1000, res->error);
		else if (res->status != 200)
			acc_fail(r, XC_STATUS, i, NULL, "%s at +%.1f s: HTTP %ld "
				 "(only 200 is success; the device does not read "
				 "the body, D2)", x->kind,
				 (double)rel(r, xc->t) / 1000, res->status);
		if (res->fail == LOOP_HTTP_OK && res->t_total_ms > slow)
			acc_fail(r, XC_LATENCY, i, NULL, "%s at +%.1f s: the reply "
				 "took %.0f ms (limit %.0f ms)", x->kind,
				 (double)rel(r, xc->t) / 1000, res->t_total_ms,
				 slow);
		if (x->expect_100) {
			r->acc[XC_EXPECT].n++;
			/* curl waits 1 s for the 100, then sends anyway */
			if (!res->got_100 && (res->fail != LOOP_HTTP_OK ||
					      res->t_first_byte_ms >= 900))
				acc_fail(r, XC_EXPECT, i, NULL, "%s at +%.1f s: no "
					 "100 Continue to Expect: 100-continue; the "
					 "device waited about 1 s before sending "
					 "the body (first byte after %.0f ms)",
					 x->kind, (double)rel(r, xc->t) / 1000,
					 res->t_first_byte_ms);
		}
		if (res->fail == LOOP_HTTP_OK && res->status == 200) {
			r->acc[XC_VALID].n++;
			r->acc[XC_SHOULD].n++;
			r->acc[XC_SEQ].n++;
			snprintf(what, sizeof what, "the reply to %s at +%.1f s",
				 x->kind, (double)rel(r, xc->t) / 1000);
			if (!proto_json_blank(res->body, 0, res->len))
				xc->reply = judge(r, i, res->body, res->len,
						  PROTO_TO_DEVICE, what, viol,
						  XC_VALID, XC_SHOULD);
			else
				xc->reply = cJSON_CreateObject(); /* D3 */
			if (xc->reply)
				seq_hazards(r, i, dv, xc->reply);
		}
	}
	if (res && res->fail == LOOP_HTTP_OK && xc->to_server) {
		if (xc->reply && cJSON_GetArraySize(xc->reply))
			cJSON_AddItemToObject(j, "reply", body_text(r, xc->reply,
								    NULL, 0,
								    images));
		else
			cJSON_AddItemToObject(j, "reply",
					      body_text(r, NULL, res->body,
							res->len, images));
	} else {
		cJSON_AddNullToObject(j, "reply");
	}
	cJSON_AddItemToObject(j, "images", images);
	cJSON_AddItemToObject(j, "violations", viol);
	cJSON_AddItemToArray(r->j_exchanges, j);
	kick(r);
}

static void on_event(void *ud, dev *d, const dev_event *ev)
{
	srun *r = ud;
	cJSON *j = cJSON_CreateObject();

	grow((void **)&r->evs, &r->cap_evs, r->n_evs + 1, sizeof *r->evs,
	     &r->oom);
	if (r->oom || !j) {
		r->oom = true;
		cJSON_Delete(j);
		return;
	}
	r->evs[r->n_evs].dev = dev_index(r, d);
	r->evs[r->n_evs].ev = *ev;
	r->n_evs++;
	cJSON_AddNumberToObject(j, "at_ms", (double)rel(r, loop_now(r->l)));
	cJSON_AddStringToObject(j, "device", r->devs[dev_index(r, d)].cid);
	cJSON_AddStringToObject(j, "kind", dev_event_name(ev->kind));
	cJSON_AddStringToObject(j, "text", ev->text);
	cJSON_AddItemToArray(r->j_events, j);
	kick(r);
}

/* ---------------------------------------------------------------- step checks */

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
			 !strcmp(st->action, "face") ? str(o, "image") : "");
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
				 !strcmp(str(o, "from"), "device") ? "device message"
				 : "server reply",
				 str(o, "kind") ? str(o, "kind") : "",
				 str(o, "command") ? str(o, "command") : "",
				 m ? " matching " : "", m ? m : "",
				 st->none ? "for" : "within", st->window_s);
		else
			snprintf(out, n, "%s %s %s%s%.150s %s %.0f s",
				 st->none ? "no" : "expect", st->action,
				 str(o, "state") ? str(o, "state")
				 : str(o, "text") ? str(o, "text")
				 : str(o, "event") ? str(o, "event") : "",
				 m ? " matching " : "", m ? m : "",
				 st->none ? "for" : "within", st->window_s);
		break;
	}
	cJSON_free(m);
}

/* Adds the current step's check to the report. */
static void step_result(srun *r, const char *status, const cJSON *exs,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void step_result(srun *r, const char *status, const cJSON *exs,
			const char *fmt, ...)
{
	const scn_step *st = &r->s->steps[r->cur];
	cJSON *c = cJSON_CreateObject();
	char id[32], name[400], msg[1500];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(id, sizeof id, "step-%02zu", st->index + 1);
	describe(st, name, sizeof name);
	if (st->note) {
		size_t k = strlen(name);
		snprintf(name + k, sizeof name - k, " -- %s", st->note);
	}
	if (!c) {
		r->oom = true;
		return;
	}
	if (!strcmp(status, "fail") && st->should)
		status = "warn";
	cJSON_AddStringToObject(c, "id", id);
	cJSON_AddStringToObject(c, "name", name);
	cJSON_AddStringToObject(c, "kind", "step");
	cJSON_AddStringToObject(c, "severity", st->should ? "should" : "must");
	cJSON_AddStringToObject(c, "status", status);
	cJSON_AddStringToObject(c, "message", msg);
	cJSON_AddItemToObject(c, "rules", cJSON_CreateArray());
	cJSON_AddItemToObject(c, "exchanges", exs ? cJSON_Duplicate(exs, true)
						 : cJSON_CreateArray());
	cJSON_AddNumberToObject(c, "at_ms", (double)rel(r, r->step_t));
	cJSON_AddNumberToObject(c, "duration_ms", (double)(now(r) - r->step_t));
	cJSON_AddItemToArray(r->j_checks, c);
}

/* ---------------------------------------------------------------- expectations */

typedef struct verdict {
	int64_t matches;
	cJSON *exs;         /* indices of matching exchanges */
	long miss;          /* the exchange that came closest (-1: none) */
	char why[600];      /* the nearest miss, or what matched */
} verdict;

static bool text_has(const char *hay, const char *needle)
{
	return !needle || strstr(hay, needle);
}

static void eval(srun *r, const scn_step *st, verdict *v)
{
	const cJSON *o = st->obj;
	const cJSON *pat = cJSON_GetObjectItemCaseSensitive(o, "match");
	const char *a = st->action;
	char why[400];
	size_t from_x = st->none ? r->from_x : r->act_x;
	size_t from_e = st->none ? r->from_e : r->act_e;
	int64_t from_t = st->none ? r->step_t : r->act_t;

	v->matches = 0;
	if (!strcmp(a, "message")) {
		bool dev_side = !strcmp(str(o, "from"), "device");
		const char *kind = str(o, "kind"), *cmd = str(o, "command");
		const cJSON *rs = cJSON_GetObjectItemCaseSensitive(o, "resend");
		for (size_t i = from_x; i < r->n_xs; i++) {
			const xch *x = &r->xs[i];
			const cJSON *body = dev_side ? x->req : x->reply;
			if (x->dev != st->dev || !x->to_server || !body)
				continue;
			if (dev_side && kind && strcmp(x->kind, kind))
				continue;
			if (dev_side && rs && cJSON_IsTrue(rs) != x->resend)
				continue;
			if (!dev_side && cmd &&
			    !cJSON_GetObjectItemCaseSensitive(body, cmd))
				continue;
			if (!scn_match(pat, body, why, sizeof why)) {
				snprintf(v->why, sizeof v->why, "exchange %zu (%s) "
					 "came closest but %s", i, x->kind, why);
				v->miss = (long)i;
				continue;
			}
			v->matches++;
			cJSON_AddItemToArray(v->exs, cJSON_CreateNumber((double)i));
			snprintf(v->why, sizeof v->why, "exchange %zu (%s at "
				 "+%.1f s) matches", i, x->kind,
				 (double)rel(r, x->t) / 1000);
		}
	} else if (!strcmp(a, "relay") || !strcmp(a, "voice") ||
		   !strcmp(a, "event")) {
		const char *want_kind = !strcmp(a, "event") ? str(o, "event") : a;
		const char *text = !strcmp(a, "relay") ? str(o, "state")
				   : str(o, "text");
		for (size_t i = from_e; i < r->n_evs; i++) {
			const evrec *e = &r->evs[i];
			const char *k = dev_event_name(e->ev.kind);
			if (e->dev != st->dev ||
			    strcmp(k, !strcmp(want_kind, "voice") ? "voice"
				   : want_kind))
				continue;
			if (!strcmp(a, "relay") ? strncmp(e->ev.text, text,
							  strlen(text)) ||
						  (e->ev.text[strlen(text)] &&
						   e->ev.text[strlen(text)] != ' ')
						: !text_has(e->ev.text, text))
				continue;
			v->matches++;
			snprintf(v->why, sizeof v->why, "event %s \"%s\" at "
				 "+%.1f s", k, e->ev.text,
				 (double)rel(r, e->ev.t) / 1000);
		}
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
	} else if (!strcmp(a, "record") && r->m) {
		cJSON *recs = mock_records_json(r->m, r->devs[st->dev].cid, 0,
						100000), *e;
		cJSON_ArrayForEach(e, recs) {
			const cJSON *at = cJSON_GetObjectItemCaseSensitive(
				e, "received_at");
			if (cJSON_IsNumber(at) && at->valuedouble < (double)from_t)
				continue;
			if (!scn_match(pat, e, why, sizeof why)) {
				snprintf(v->why, sizeof v->why, "record %d: %s",
					 (int)cJSON_GetObjectItemCaseSensitive(e, "id")
						 ->valuedouble, why);
				continue;
			}
			v->matches++;
			snprintf(v->why, sizeof v->why, "the mock stored record %d",
				 (int)cJSON_GetObjectItemCaseSensitive(e, "id")
					 ->valuedouble);
		}
		cJSON_Delete(recs);
	} else if (!strcmp(a, "outcome") && r->m) {
		int64_t id = 0;
		for (size_t k = 0; k < r->cur; k++)
			if (r->s->steps[k].ref &&
			    !strcmp(r->s->steps[k].ref, str(o, "ref")))
				id = r->cmd_ids[k];
		cJSON *cj = id > 0 ? mock_command_json(r->m, id) : NULL;
		const char *state = str(cj, "state");
		if (!cj) {
			snprintf(v->why, sizeof v->why, "command \"%s\" was never "
				 "queued (its operator step failed)", str(o, "ref"));
		} else if (!state || strcmp(state, str(o, "state"))) {
			snprintf(v->why, sizeof v->why, "command \"%s\" is %s "
				 "(%s)", str(o, "ref"), state ? state : "?",
				 str(cj, "detail") ? str(cj, "detail") : "");
		} else if (!scn_match(pat, cJSON_GetObjectItemCaseSensitive(
						   cj, "result"), why, sizeof why)) {
			snprintf(v->why, sizeof v->why, "command \"%s\" is %s but "
				 "its result: %s", str(o, "ref"), state, why);
		} else {
			v->matches = st->count;
			snprintf(v->why, sizeof v->why, "command \"%s\" is %s",
				 str(o, "ref"), state);
		}
		cJSON_Delete(cj);
	}
}

/* ---------------------------------------------------------------- step engine */

static void step_done(srun *r);

static void expect_check(srun *r, bool deadline)
{
	const scn_step *st = &r->s->steps[r->cur];
	verdict v = {.exs = cJSON_CreateArray(), .miss = -1};

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
		step_result(r, "pass", v.exs, "%s (after %.1f s)", v.why,
			    (double)(now(r) - r->step_t) / 1000);
		step_done(r);
	} else if (deadline) {
		if (v.miss >= 0) /* the nearest miss is the evidence */
			cJSON_AddItemToArray(v.exs, cJSON_CreateNumber((double)v.miss));
		step_result(r, "fail", v.exs, "not seen within %.0f s (%" PRId64
			    " of %" PRId64 " matches)%s%s", st->window_s,
			    v.matches, st->count, v.why[0] ? "; " : "", v.why);
		step_done(r);
	}
	cJSON_Delete(v.exs);
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
	} else if (!strcmp(a, "thermal")) {
		double rd[64];
		size_t n = 0;
		const cJSON *e;
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "readings"))
			rd[n++] = e->valuedouble;
		rc = dev_thermal_script(d, rd, n);
		if (rc < 0)
			snprintf(err, sizeof err, "%s", sim_strerror(rc));
	} else if (!strcmp(a, "face")) {
		char *path = scn_path(r->s, str(o, "image"));
		FILE *f = path ? fopen(path, "rb") : NULL;
		unsigned char *buf = NULL;
		size_t len = 0;
		dev_face_in in = {0};
		const cJSON *v;
		if (f) {
			fseek(f, 0, SEEK_END);
			long sz = ftell(f);
			fseek(f, 0, SEEK_SET);
			if (sz >= 0 && sz < (64l << 20) &&
			    (buf = malloc((size_t)sz + 1)))
				len = fread(buf, 1, (size_t)sz, f);
			fclose(f);
		}
		if (!buf) {
			snprintf(err, sizeof err, "image \"%s\" cannot be read: %s",
				 path ? path : str(o, "image"), strerror(errno));
			rc = SIM_EIO;
		} else {
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
			for (int k = 0; k < (v ? (int)v->valuedouble : 1) && rc >= 0;
			     k++)
				rc = dev_face(d, &in, err, sizeof err);
		}
		free(buf);
		free(path);
	}
	if (rc < 0)
		step_result(r, "fail", NULL, "the device refused: %s", err[0] ? err
			    : sim_strerror(rc));
	else
		step_result(r, "pass", NULL, "done");
}

static void adp_done(void *ud)
{
	srun *r = ud;

	pthread_join(r->adp_th, NULL);
	r->adp_running = false;
	if (r->adp_rc < 0)
		step_result(r, "fail", NULL, "%s%s%.800s", r->adp_err,
			    r->adp_evidence ? "; evidence: " : "",
			    r->adp_evidence ? r->adp_evidence : "");
	else
		step_result(r, "pass", NULL, "done: %.1200s",
			    r->adp_evidence ? r->adp_evidence : "");
	free(r->adp_evidence);
	r->adp_evidence = NULL;
	cJSON_Delete(r->adp_params);
	r->adp_params = NULL;
	step_done(r);
}

static void *adp_main(void *ud)
{
	srun *r = ud;

	r->adp_rc = adp_run(r->o->adp, r->o->interactive,
			    r->s->steps[r->cur].action, r->adp_params,
			    &r->adp_evidence, r->adp_err, sizeof r->adp_err);
	while (loop_post(r->l, adp_done, r) < 0)
		usleep(1000);
	return NULL;
}

/* Starts an operator step; false when it finishes later (adapter). */
static bool run_operator(srun *r, const scn_step *st)
{
	char err[800] = "";
	op_ctx c = {.s = r->s, .pkg_base = NULL, .server_url = r->url};
	const char *cid = r->devs[st->dev].cid;

	if (r->mock_mode) {
		cJSON *cmd = NULL;
		int64_t id;
		int rc;
		pthread_mutex_lock(&r->sh->mu);
		if (!r->sh->pkg && !r->sh->pkg_failed &&
		    str(st->obj, "package")) {
			r->sh->pkg = pkgsrv_start(r->sh->pkg_err,
						  sizeof r->sh->pkg_err);
			r->sh->pkg_failed = !r->sh->pkg;
		}
		if (r->sh->pkg)
			c.pkg_base = pkgsrv_base(r->sh->pkg);
		pthread_mutex_unlock(&r->sh->mu);
		rc = op_command(st->obj, &c, &cmd, err, sizeof err);
		if (rc < 0) {
			step_result(r, "fail", NULL, "%s", err);
			cJSON_Delete(cmd);
			return true;
		}
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st->obj,
								  "unchecked")))
			id = mock_enqueue_unchecked(r->m, cid, cmd, err, sizeof err);
		else
			id = mock_enqueue(r->m, cid, cmd, err, sizeof err);
		cJSON_Delete(cmd);
		if (id < 0) {
			step_result(r, "fail", NULL, "the mock refused the "
				    "command: %s", err);
			return true;
		}
		r->cmd_ids[r->cur] = id;
		step_result(r, "pass", NULL, "queued on the mock as command %"
			    PRId64, id);
		return true;
	}
	if (!adp_has(r->o->adp, st->action) && !r->o->interactive) {
		step_result(r, "fail", NULL, "no adapter entry for operator "
			    "action \"%s\": give --adapter FILE with "
			    "\"actions\".\"%s\", or --interactive", st->action,
			    st->action);
		return true;
	}
	r->adp_params = op_params(st->obj, &c, cid);
	if (!r->adp_params || pthread_create(&r->adp_th, NULL, adp_main, r)) {
		step_result(r, "fail", NULL, "cannot start the adapter: %s",
			    r->adp_params ? strerror(errno) : "out of memory");
		cJSON_Delete(r->adp_params);
		r->adp_params = NULL;
		return true;
	}
	r->adp_running = true;
	return false;
}

static void begin_step(srun *r)
{
	const scn_step *st = &r->s->steps[r->cur];

	r->active = true;
	r->step_t = now(r);
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
	if (st->kind == SCN_EXPECT && st->none &&
	    (!strcmp(st->action, "relay") || !strcmp(st->action, "voice") ||
	     !strcmp(st->action, "event") ||
	     (r->cur > 0 && (r->s->steps[r->cur - 1].kind == SCN_DEVICE ||
			     r->s->steps[r->cur - 1].kind == SCN_OPERATOR)))) {
		r->from_x = r->act_x;
		r->from_e = r->act_e;
	}
	if (st->kind == SCN_DEVICE || st->kind == SCN_OPERATOR) {
		r->act_x = r->n_xs;
		r->act_e = r->n_evs;
		r->act_t = r->step_t;
	}
	if (st->mock_only && !r->mock_mode) {
		step_result(r, "skip", NULL, "needs the mock's own state; "
			    "skipped against a real server");
		step_done(r);
		return;
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
		loop_timer_at(r->l, &r->t_dead, r->step_t +
			      (int64_t)(st->window_s * 1000));
		if (st->kind == SCN_EXPECT)
			expect_check(r, false);
		return;
	}
}

static void schedule(srun *r)
{
	const scn_step *st;
	int64_t due;

	if (r->cur >= r->s->n_steps) {
		r->finished = true;
		loop_stop(r->l);
		return;
	}
	st = &r->s->steps[r->cur];
	due = now(r) + (int64_t)(st->after_s * 1000);
	if (st->has_at && r->t0 + (int64_t)(st->at_s * 1000) > due)
		due = r->t0 + (int64_t)(st->at_s * 1000);
	r->due = due;
	loop_timer_at(r->l, &r->t_start, due);
}

static void step_done(srun *r)
{
	loop_timer_stop(r->l, &r->t_dead);
	r->active = false;
	r->cur++;
	schedule(r);
}

static srun *of_timer(loop_timer *t, size_t off)
{
	return (srun *)(void *)((char *)t - off);
}

static void on_start(loop_timer *t)
{
	begin_step(of_timer(t, offsetof(srun, t_start)));
}

static void on_dead(loop_timer *t)
{
	srun *r = of_timer(t, offsetof(srun, t_dead));
	const scn_step *st = &r->s->steps[r->cur];

	if (!r->active)
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
	srun *r = of_timer(t, offsetof(srun, t_kick));

	if (r->active && r->s->steps[r->cur].kind == SCN_EXPECT)
		expect_check(r, false);
}

/* Something was observed: judge the waiting expectation soon, outside the
 * device's own call stack (a step may power the device off). */
static void kick(srun *r)
{
	if (r->active && r->s->steps[r->cur].kind == SCN_EXPECT &&
	    !loop_timer_armed(&r->t_kick))
		loop_timer_at(r->l, &r->t_kick, now(r));
}

/* ---------------------------------------------------------------- one scenario */

static int64_t mock_clock(void *ud)
{
	return loop_now(ud);
}

static int rm_entry(const char *p, const struct stat *sb, int flag,
		    struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

static void derive_cid(const srun *r, size_t i, char *out, size_t n)
{
	const scn_device *d = &r->s->devs[i];
	const char *pre = r->o->cid_prefix ? r->o->cid_prefix : "cs";

	if (d->cid)
		snprintf(out, n, "%s", d->cid);
	else
		snprintf(out, n, "%.8s%08lx-%.12s", pre,
			 hash(r->s->name) & 0xffffffffUL, d->id);
}

static cJSON *xcheck_json(srun *r, int c)
{
	xacc *a = &r->acc[c];
	cJSON *j = cJSON_CreateObject();
	const char *status = a->n_bad == 0 ? "pass"
			     : xcheck[c].should ? "warn" : "fail";
	char msg[900];

	if (a->n_bad)
		snprintf(msg, sizeof msg, "%zu of %zu exchanges fail; first: %s",
			 a->n_bad, a->n, a->first);
	else
		snprintf(msg, sizeof msg, "%zu exchange%s checked", a->n,
			 a->n == 1 ? "" : "s");
	cJSON_AddStringToObject(j, "id", xcheck[c].id);
	cJSON_AddStringToObject(j, "name", xcheck[c].name);
	cJSON_AddStringToObject(j, "kind", "exchange");
	cJSON_AddStringToObject(j, "severity", xcheck[c].should ? "should" : "must");
	cJSON_AddStringToObject(j, "status", status);
	cJSON_AddStringToObject(j, "message", msg);
	cJSON_AddItemToObject(j, "rules", a->rules);
	cJSON_AddItemToObject(j, "exchanges", a->ex);
	a->rules = a->ex = NULL;
	cJSON_AddNumberToObject(j, "at_ms", 0);
	cJSON_AddNumberToObject(j, "duration_ms", 0);
	return j;
}

static double wall_ms(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1000 +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The scenario's entry of the run document, its checks decided. */
static cJSON *scenario_json(const scenario *s, const char *status,
			    const char *reason)
{
	cJSON *j = cJSON_CreateObject(), *secs = cJSON_CreateArray();

	for (size_t i = 0; i < s->n_sections; i++)
		cJSON_AddItemToArray(secs, cJSON_CreateString(s->sections[i]));
	cJSON_AddStringToObject(j, "name", s->name);
	cJSON_AddStringToObject(j, "file", s->path);
	cJSON_AddStringToObject(j, "title", s->title);
	if (s->description)
		cJSON_AddStringToObject(j, "description", s->description);
	cJSON_AddItemToObject(j, "sections", secs);
	cJSON_AddStringToObject(j, "status", status);
	if (reason)
		cJSON_AddStringToObject(j, "reason", reason);
	else
		cJSON_AddNullToObject(j, "reason");
	return j;
}

/* A scenario that did not run: every member present, lists empty. */
static cJSON *skipped(const scenario *s, const char *why)
{
	cJSON *j = scenario_json(s, "skip", why);

	cJSON_AddNumberToObject(j, "duration_ms", 0);
	cJSON_AddNumberToObject(j, "virtual_ms", 0);
	cJSON_AddArrayToObject(j, "devices");
	cJSON_AddArrayToObject(j, "checks");
	cJSON_AddArrayToObject(j, "exchanges");
	cJSON_AddArrayToObject(j, "events");
	return j;
}

static cJSON *run_one(shared *sh, const scenario *s)
{
	const run_opts *o = sh->o;
	srun *r = calloc(1, sizeof *r);
	struct timespec w0;
	char err[600] = "";
	cJSON *j = NULL, *devs;
	const char *status;
	bool any_fail = false;
	bool temp = false;
	recog *rg = sh->rg;

	clock_gettime(CLOCK_MONOTONIC, &w0);
	if (!r)
		return NULL;
	r->sh = sh;
	r->o = o;
	r->s = s;
	r->mock_mode = !strcmp(o->server, "mock");
	if (s->mock_only && !r->mock_mode) {
		free(r);
		return skipped(s, "this scenario needs the mock's own state "
			       "(\"server\": \"mock\")");
	}
	if (s->needs_recognition && (!rg || !recog_available(rg))) {
		char why[700];
		snprintf(why, sizeof why, "needs face recognition: %s",
			 sh->rg_err[0] ? sh->rg_err : "recognition unavailable");
		free(r);
		return skipped(s, why);
	}
	r->rg = rg;
	r->t_start.fn = on_start;
	r->t_dead.fn = on_dead;
	r->t_kick.fn = on_kick;
	for (int c = 0; c < XC_COUNT; c++) {
		r->acc[c].rules = cJSON_CreateArray();
		r->acc[c].ex = cJSON_CreateArray();
	}
	r->j_checks = cJSON_CreateArray();
	r->j_exchanges = cJSON_CreateArray();
	r->j_events = cJSON_CreateArray();
	r->devs = calloc(s->n_devs, sizeof *r->devs);
	r->cmd_ids = calloc(s->n_steps, sizeof *r->cmd_ids);
	if (!r->devs || !r->cmd_ids || !r->j_checks) {
		snprintf(err, sizeof err, "out of memory");
		goto fail;
	}
	snprintf(r->dir, sizeof r->dir, "%s/camsim-run-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(r->dir)) {
		snprintf(err, sizeof err, "cannot make a temporary directory: %s",
			 strerror(errno));
		goto fail;
	}
	temp = true;
	if (loop_new(r->mock_mode ? LOOP_JUMP : LOOP_REAL, 1.0,
		     r->mock_mode && s->devs[0].has_clock ? s->devs[0].clock_ms
							   : 0, &r->l) < 0) {
		snprintf(err, sizeof err, "cannot create the event loop");
		goto fail;
	}
	if (store_open(r->dir, &r->st, err, sizeof err) < 0)
		goto fail;
	if (r->mock_mode) {
		char db[200];
		mock_opts mo = {.listen = "127.0.0.1:0", .path = "/api/face",
				.db = db, .prof = o->prof, .now = mock_clock,
				.now_ud = r->l};
		snprintf(db, sizeof db, "%s/mock.db", r->dir);
		if (mock_start(&mo, &r->m, err, sizeof err) < 0)
			goto fail;
		snprintf(r->url, sizeof r->url, "http://127.0.0.1:%d/api/face",
			 mock_port(r->m));
	} else {
		snprintf(r->url, sizeof r->url, "%s", o->server);
	}
	r->env.loop = r->l;
	r->env.store = r->st;
	r->env.recog = rg;
	r->env.prof = o->prof;
	r->env.on_event = on_event;
	r->env.event_ud = r;
	r->env.on_exchange = on_exchange;
	r->env.exchange_ud = r;
	r->env.capacity = s->devs[0].capacity;
	r->env.record_cap = s->devs[0].record_cap;
	r->env.upgrade_max = (size_t)s->devs[0].upgrade_max;
	r->env.http_timeout_ms = (long)(s->devs[0].http_timeout_s * 1000);
	r->env.idle_reupload_ms = (int64_t)(s->devs[0].idle_reupload_s * 1000);
	dev_env_defaults(&r->env);
	for (size_t i = 0; i < s->n_devs; i++) {
		const scn_device *sd = &s->devs[i];
		dev_opts dop = {.cid = r->devs[i].cid, .server_url = r->url,
				.interval_s = sd->interval_s,
				.app_version = sd->app_version ? sd->app_version
							       : "V1.0.0"};
		derive_cid(r, i, r->devs[i].cid, sizeof r->devs[i].cid);
		if (dev_new(&r->env, &dop, &r->devs[i].d, err, sizeof err) < 0)
			goto fail;
		if (sd->has_clock || sd->has_zone)
			dev_set_clock(r->devs[i].d, (sd->has_clock ? sd->clock_ms
						     : loop_now(r->l)) / 1000,
				      sd->has_zone, sd->zone_s);
	}
	r->t0 = loop_now(r->l);
	/* events of the set-up are not part of the scenario */
	r->n_evs = 0;
	cJSON_Delete(r->j_events);
	r->j_events = cJSON_CreateArray();
	for (size_t i = 0; i < s->n_devs; i++)
		if (dev_power_on(r->devs[i].d, err, sizeof err) < 0)
			goto fail;
	r->act_t = r->t0;
	schedule(r);
	loop_run(r->l);
	if (r->adp_running) /* loop stopped from outside: wait for it */
		pthread_join(r->adp_th, NULL);
	goto done;
fail:
	{
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "id", "setup");
		cJSON_AddStringToObject(c, "name", "the scenario can be set up "
					"(devices, state, mock server)");
		cJSON_AddStringToObject(c, "kind", "step");
		cJSON_AddStringToObject(c, "severity", "must");
		cJSON_AddStringToObject(c, "status", "fail");
		cJSON_AddStringToObject(c, "message", err);
		cJSON_AddItemToObject(c, "rules", cJSON_CreateArray());
		cJSON_AddItemToObject(c, "exchanges", cJSON_CreateArray());
		cJSON_AddItemToArray(r->j_checks, c);
	}
done:
	for (size_t i = 0; r->devs && i < s->n_devs; i++)
		dev_free(r->devs[i].d);
	if (r->l && r->j_checks && !err[0])
		for (int c = 0; c < XC_COUNT; c++)
			cJSON_AddItemToArray(r->j_checks, xcheck_json(r, c));
	{
		const cJSON *c;
		cJSON_ArrayForEach(c, r->j_checks) {
			const char *st = str(c, "status");
			if (st && (!strcmp(st, "fail") ||
				   (o->fail_on_warning && !strcmp(st, "warn"))))
				any_fail = true;
		}
	}
	if (r->oom)
		any_fail = true;
	status = any_fail ? "fail" : "pass";
	{
		const char *reason = NULL;
		const cJSON *c;
		char buf[800];
		cJSON_ArrayForEach(c, r->j_checks) {
			const char *st = str(c, "status");
			if (!reason && st && !strcmp(st, "fail")) {
				snprintf(buf, sizeof buf, "%s: %s", str(c, "id"),
					 str(c, "message"));
				reason = buf;
			}
		}
		if (r->oom)
			reason = "out of memory while recording the run";
		j = scenario_json(s, status, reason);
	}
	cJSON_AddNumberToObject(j, "duration_ms", wall_ms(&w0));
	cJSON_AddNumberToObject(j, "virtual_ms",
				r->l ? (double)(loop_now(r->l) - r->t0) : 0);
	devs = cJSON_AddArrayToObject(j, "devices");
	for (size_t i = 0; r->devs && i < s->n_devs; i++)
		cJSON_AddItemToArray(devs, cJSON_CreateString(r->devs[i].cid));
	cJSON_AddItemToObject(j, "checks", r->j_checks);
	cJSON_AddItemToObject(j, "exchanges", r->j_exchanges);
	cJSON_AddItemToObject(j, "events", r->j_events);
	r->j_checks = r->j_exchanges = r->j_events = NULL;

	mock_stop(r->m);
	loop_free(r->l);
	store_close(r->st);
	if (temp)
		nftw(r->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	for (size_t i = 0; i < r->n_xs; i++) {
		cJSON_Delete(r->xs[i].req);
		cJSON_Delete(r->xs[i].reply);
	}
	for (int c = 0; c < XC_COUNT; c++) {
		cJSON_Delete(r->acc[c].rules);
		cJSON_Delete(r->acc[c].ex);
	}
	cJSON_Delete(r->j_checks);
	cJSON_Delete(r->j_exchanges);
	cJSON_Delete(r->j_events);
	free(r->xs);
	free(r->evs);
	free(r->devs);
	free(r->cmd_ids);
	free(r);
	return j;
}

/* ---------------------------------------------------------------- the run */

static void progress(shared *sh, const cJSON *res)
{
	const run_opts *o = sh->o;
	const char *st = str(res, "status");

	if (!o->progress)
		return;
	if (st && !strcmp(st, "fail"))
		sh->failed++;
	if (o->tty)
		fprintf(o->progress, "\r\033[K[%zu/%zu] %d failed  %s %s",
			sh->done, sh->n, sh->failed, st ? st : "?",
			str(res, "name") ? str(res, "name") : "");
	else
		fprintf(o->progress, "[%zu/%zu] %s %s (%.1f s)\n", sh->done, sh->n,
			st ? st : "?", str(res, "name") ? str(res, "name") : "",
			cJSON_GetObjectItemCaseSensitive(res, "duration_ms")
				? cJSON_GetObjectItemCaseSensitive(res, "duration_ms")
					  ->valuedouble / 1000 : 0.0);
	fflush(o->progress);
}

static void *worker(void *ud)
{
	shared *sh = ud;

	for (;;) {
		size_t i;
		cJSON *res;
		pthread_mutex_lock(&sh->mu);
		i = sh->next++;
		pthread_mutex_unlock(&sh->mu);
		if (i >= sh->n)
			return NULL;
		res = run_one(sh, sh->s[i]);
		pthread_mutex_lock(&sh->mu);
		sh->out[i] = res;
		sh->done++;
		if (res)
			progress(sh, res);
		pthread_mutex_unlock(&sh->mu);
	}
}

int run_all(const run_opts *o, scenario *const *s, size_t n, cJSON **doc,
	    char *err, size_t errlen)
{
	shared sh = {.o = o, .s = s, .n = n};
	int jobs = o->interactive ? 1 : o->jobs > 0 ? o->jobs : 2;
	pthread_t th[16];
	int started = 0;
	cJSON *d = NULL, *arr, *sum;
	size_t passed = 0, failed = 0, skipped = 0, checks = 0, cfail = 0,
	       warns = 0;
	char when[32];
	time_t now_s = time(NULL);
	struct tm tm;
	int rc = SCN_ENOMEM;

	*doc = NULL;
	if (jobs > 16)
		jobs = 16;
	if (!(sh.out = calloc(n ? n : 1, sizeof *sh.out)))
		goto out;
	pthread_mutex_init(&sh.mu, NULL);
	clock_gettime(CLOCK_MONOTONIC, &sh.t0);
	sh.rg = recog_open(NULL, sh.rg_err, sizeof sh.rg_err);
	for (int i = 0; i < jobs && (size_t)i < n; i++)
		if (!pthread_create(&th[started], NULL, worker, &sh))
			started++;
	if (!started && n)
		worker(&sh);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (o->progress && o->tty && n)
		fprintf(o->progress, "\n");
	pkgsrv_stop(sh.pkg);
	recog_close(sh.rg);
	pthread_mutex_destroy(&sh.mu);

	if (!(d = cJSON_CreateObject()))
		goto out;
	gmtime_r(&now_s, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(d, "schema", "camsim-report/1");
	cJSON_AddStringToObject(d, "tool", "camsim");
	cJSON_AddStringToObject(d, "started", when);
	cJSON_AddNumberToObject(d, "duration_ms", wall_ms(&sh.t0));
	cJSON_AddStringToObject(d, "server", o->server);
	cJSON_AddStringToObject(d, "profile", o->prof->name);
	cJSON_AddBoolToObject(d, "fail_on_warning", o->fail_on_warning);
	sum = cJSON_AddObjectToObject(d, "summary");
	arr = cJSON_AddArrayToObject(d, "scenarios");
	for (size_t i = 0; i < n; i++) {
		cJSON *sc = sh.out[i], *c;
		const char *st;
		if (!sc) {
			sc = scenario_json(s[i], "fail", "out of memory running "
					   "the scenario");
			if (!sc)
				goto out;
		}
		sh.out[i] = NULL;
		st = str(sc, "status");
		passed += !strcmp(st, "pass");
		failed += !strcmp(st, "fail");
		skipped += !strcmp(st, "skip");
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(sc, "checks")) {
			const char *cs = str(c, "status");
			checks++;
			cfail += cs && !strcmp(cs, "fail");
			warns += cs && !strcmp(cs, "warn");
		}
		cJSON_AddItemToArray(arr, sc);
	}
	cJSON_AddNumberToObject(sum, "scenarios", (double)n);
	cJSON_AddNumberToObject(sum, "passed", (double)passed);
	cJSON_AddNumberToObject(sum, "failed", (double)failed);
	cJSON_AddNumberToObject(sum, "skipped", (double)skipped);
	cJSON_AddNumberToObject(sum, "checks", (double)checks);
	cJSON_AddNumberToObject(sum, "checks_failed", (double)cfail);
	cJSON_AddNumberToObject(sum, "warnings", (double)warns);
	cJSON_AddStringToObject(d, "verdict", failed ? "fail" : "pass");
	if (sh.pkg_failed)
		snprintf(err, errlen, "%s", sh.pkg_err);
	*doc = d;
	d = NULL;
	rc = 0;
out:
	if (rc == SCN_ENOMEM)
		snprintf(err, errlen, "out of memory building the run document");
	for (size_t i = 0; sh.out && i < n; i++)
		cJSON_Delete(sh.out[i]);
	free(sh.out);
	cJSON_Delete(d);
	return rc;
}
