/* mock_ingest.c -- one device message into the mock's database: judges
 * it, stores it with its violations and snapshot record, settles and packs
 * commands (mock_queue.c) in one transaction shared with the messages that
 * arrive meanwhile (group commit; mock__lock), counts it for
 * GET /admin/stats, and logs the exchange.  Knows no HTTP (mock.c
 * answers) and builds no view (mock_view.c). */
#include "mock_db_int.h"

#include "b64.h"
#include "image.h"
#include "sha256.h"
#include "sim_err.h"

#include <cJSON.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define RAW_KEEP 4096    /* bytes kept of a body that is not JSON */
#define TX_BATCH 64      /* messages at most in one shared transaction */
#define RESEND_AGE_S 60  /* a record this much older than its arrival */

static const char *sev_name(proto_severity s)
{
	return s == PROTO_MUST ? "MUST" : "SHOULD";
}

/* ---------------------------------------------------------------- group commit */

/* Each commit writes the WAL frames of every page it changed: the device
 * rows, the message and index pages are the same pages for a burst of
 * heartbeats, so a burst committed once writes them once.  A message is
 * answered only after the transaction holding it committed, so no answer
 * speaks of data a crash could lose. */

void mock__lock_init(mock *m)
{
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->tx_cv, NULL);
}

void mock__lock_destroy(mock *m)
{
	pthread_cond_destroy(&m->tx_cv);
	pthread_mutex_destroy(&m->mu);
}

/* Commits the shared transaction and wakes the messages waiting on it. */
static void tx_commit(mock *m)
{
	bool ok = exec(m, S_COMMIT) == 0;

	if (!ok) {
		exec(m, S_ROLLBACK);
		m->open_known = false; /* settled commands came back */
	}
	m->tx_open = false;
	m->tx_batch = 0;
	m->tx_gen++;
	m->tx_failed[m->tx_gen % 64] = !ok;
	pthread_cond_broadcast(&m->tx_cv);
}

void mock__lock(mock *m)
{
	pthread_mutex_lock(&m->mu);
	if (m->tx_open)
		tx_commit(m);
}

/* Opens the shared transaction if none is, and this message's savepoint. */
static int tx_begin(mock *m)
{
	if (!m->tx_open) {
		if (exec(m, S_BEGIN) < 0)
			return CONF_EDB;
		m->tx_open = true;
	}
	return exec(m, S_SAVE);
}

/* Ends this message's part: commits now when no other message waits for
 * the lock (or the batch is full), else leaves the transaction to the
 * next one and waits, the lock released, until it is committed.  0, or
 * CONF_EDB when the commit failed (nothing of the batch was stored). */
static int tx_end(mock *m)
{
	uint64_t gen = m->tx_gen;

	if (!m->tx_open)
		return 0;
	if (++m->tx_batch < TX_BATCH && atomic_load(&m->tx_waiting) > 0) {
		while (m->tx_gen == gen)
			pthread_cond_wait(&m->tx_cv, &m->mu);
	} else {
		tx_commit(m);
	}
	return m->tx_failed[(gen + 1) % 64] ? CONF_EDB : 0;
}

/* ---------------------------------------------------------------- counters */

/* One device exchange in the counters of GET /admin/stats; under mu. */
static void count(mock *m, proto_kind k, const proto_report *rep, int64_t now)
{
	int64_t sec = now / 1000;
	int i = (int)(((sec % 60) + 60) % 60);

	m->by_kind[(unsigned)k < PROTO_KIND_COUNT ? k : PROTO_KIND_NONE]++;
	if (rep) {
		m->n_must += (int64_t)rep->n_must;
		m->n_should += (int64_t)rep->n_should;
	}
	if (m->rate_sec[i] != sec) {
		m->rate_sec[i] = sec;
		m->rate_n[i] = 0;
	}
	m->rate_n[i]++;
}

double mock__rate(mock *m, int64_t now)
{
	int64_t sec = now / 1000, n = 0;

	for (int i = 0; i < 60; i++)
		if (m->rate_sec[i] >= sec - 60 && m->rate_sec[i] < sec)
			n += m->rate_n[i];
	return (double)n / 60.0;
}

/* ---------------------------------------------------------------- ingest */

static const char *msg_cid(const proto_msg *g)
{
	switch (g->kind) {
	case PROTO_SNAPSHOT: return g->u.snapshot.cid;
	case PROTO_HEARTBEAT:
	case PROTO_UPGRADE_RESULT: return g->u.heartbeat.cid;
	case PROTO_FACE_LIST: return g->u.face_list.cid;
	case PROTO_STRATEGY_RESULT: return g->u.strategy_result.cid;
	case PROTO_STRATEGY_LIST: return g->u.strategy_list.cid;
	case PROTO_REUPLOAD_RESULT:
	case PROTO_CONFIG_RESULT:
	case PROTO_LOG_RESULT:
	case PROTO_CONTROL_RESULT: return g->u.ack.cid;
	case PROTO_REUPLOAD_SETTINGS: return g->u.reupload_settings.cid;
	case PROTO_BATCH_RESULT: return g->u.batch_result.cid;
	case PROTO_CONFIG_REPORT: return g->u.config_report.cid;
	case PROTO_ALARM: return g->u.alarm.cid;
	default: return NULL;
	}
}

/* A snapshot's record, prepared before the lock is taken. */
typedef struct rec {
	bool is;
	char *message; /* the message, each picture replaced by its length */
	unsigned char *image;
	size_t image_len;
	char sha[65];
	bool has_time;
	int64_t time;
} rec;

static int rec_prepare(const cJSON *json, const proto_msg *g, rec *r)
{
	cJSON *copy = cJSON_Duplicate(json, 1);
	cJSON *faces = cJSON_GetObjectItemCaseSensitive(copy, "faces");
	cJSON *f;
	int rc = CONF_ENOMEM;

	r->is = true;
	r->has_time = g->u.snapshot.has_time;
	r->time = g->u.snapshot.time;
	if (!copy)
		goto out;
	cJSON_ArrayForEach(f, faces) {
		if (!cJSON_IsString(f))
			continue;
		size_t n = strlen(f->valuestring);
		if (f == faces->child &&
		    b64_decode(f->valuestring, n, &r->image,
				      &r->image_len) == SIM_ENOMEM)
			goto out;
		/* the picture is in records.image; the text keeps its size */
		cJSON *num = cJSON_CreateNumber((double)n);
		if (!num || !cJSON_ReplaceItemViaPointer(faces, f, num)) {
			cJSON_Delete(num);
			goto out;
		}
		f = num;
	}
	if (r->image)
		sha256_hex(r->image, r->image_len, r->sha);
	if (!(r->message = cJSON_PrintUnformatted(copy)))
		goto out;
	rc = 0;
out:
	cJSON_Delete(copy);
	return rc;
}

static void rec_free(rec *r)
{
	cJSON_free(r->message);
	free(r->image);
}

static int rec_store(mock *m, const char *cid, int64_t msg_id, int64_t now,
		     rec *r, strbuf *log)
{
	sqlite3_stmt *s;
	int64_t dup = 0;
	bool resend;
	int e;

	if (r->image) {
		s = st(m, S_REC_DUP);
		bind_text(s, 1, cid);
		bind_opt_int(s, 2, r->has_time, r->time);
		bind_text(s, 3, r->sha);
		e = sqlite3_step(s);
		if (e == SQLITE_ROW)
			dup = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		if (e != SQLITE_ROW && e != SQLITE_DONE)
			return CONF_EDB;
	}
	resend = dup || (r->has_time && now / 1000 - r->time > RESEND_AGE_S);
	s = st(m, S_REC_ADD);
	sqlite3_bind_int64(s, 1, msg_id);
	bind_text(s, 2, cid);
	sqlite3_bind_int64(s, 3, now);
	bind_opt_int(s, 4, r->has_time, r->time);
	bind_text(s, 5, r->message);
	if (r->image)
		sqlite3_bind_blob64(s, 6, r->image, r->image_len, SQLITE_STATIC);
	bind_text(s, 7, r->image ? r->sha : NULL);
	sqlite3_bind_int64(s, 8, (int64_t)r->image_len);
	sqlite3_bind_int(s, 9, resend);
	bind_opt_int(s, 10, dup > 0, dup);
	if (done(m, s) < 0)
		return CONF_EDB;
	strbuf_printf(log, "  record #%lld: picture %zu bytes%s%s\n",
			(long long)sqlite3_last_insert_rowid(m->db),
			r->image_len, resend ? ", resent" : "",
			dup ? " (a duplicate)" : "");
	return 0;
}

static int store_violations(mock *m, int64_t msg_id, const proto_report *rep)
{
	for (size_t i = 0; i < rep->n; i++) {
		sqlite3_stmt *s = st(m, S_VIO_ADD);
		sqlite3_bind_int64(s, 1, msg_id);
		sqlite3_bind_int64(s, 2, (int64_t)i);
		bind_text(s, 3, sev_name(rep->v[i].sev));
		bind_text(s, 4, rep->v[i].rule);
		bind_text(s, 5, rep->v[i].path);
		bind_text(s, 6, rep->v[i].msg);
		if (done(m, s) < 0)
			return CONF_EDB;
	}
	return 0;
}

static int store_device(mock *m, const char *cid, const proto_msg *g,
			int64_t now, size_t violations)
{
	sqlite3_stmt *s = st(m, S_DEV_UPSERT);
	const proto_heartbeat *h = &g->u.heartbeat;
	bool hb = g->kind == PROTO_HEARTBEAT;

	bind_text(s, 1, cid);
	sqlite3_bind_int64(s, 2, now);
	bind_opt_int(s, 3, hb, now);
	bind_opt_int(s, 4, hb && h->has_seq, h->seq);
	bind_opt_int(s, 5, hb && h->has_uptime, h->uptime);
	bind_text(s, 6, hb ? h->app_version : NULL);
	sqlite3_bind_int64(s, 7, (int64_t)violations);
	return done(m, s);
}

/* What ingest judged before taking the lock. */
typedef struct judged {
	const char *cid, *kind;
	const char *body; /* stored text (NULL: none) */
	const void *raw;  /* the first bytes of a body that is not JSON */
	size_t raw_len;
	const char *error;
	proto_report *rep;
	const proto_msg *g;
	rec *r;
	size_t size;  /* bytes received */
	bool skip;    /* a fault answers instead: stored, not processed */
	bool no_pack; /* a fault answers instead of the reply: no command */
} judged;

/* The locked part of ingest: one transaction. */
static int ingest_locked(mock *m, const judged *j, mock__exchange *x,
			 int64_t now)
{
	sqlite3_stmt *s;
	sent *v = NULL;
	size_t n = 0;
	char *reply = NULL;
	settle_ctx c = {.m = m, .cid = j->cid, .g = j->g, .now = now,
			.log = &x->log};
	bool queue;
	int rc;

	if ((rc = tx_begin(m)) < 0)
		return rc;
	if (!m->open_known && (rc = mock__open_count(m)) < 0)
		goto out;
	/* The lean path: with no command pending or sent anywhere (a fleet
	 * heartbeating and nothing queued), there is nothing to time out,
	 * settle or pack, and the message costs its two writes only. */
	queue = m->open_cmds > 0;
	if (queue && (rc = expire(m, now)) < 0)
		goto out;
	s = st(m, S_MSG_ADD);
	bind_text(s, 1, j->cid);
	sqlite3_bind_int64(s, 2, now);
	bind_text(s, 3, j->kind);
	sqlite3_bind_int(s, 4, x->status);
	bind_text(s, 5, j->body);
	if (j->raw)
		sqlite3_bind_blob64(s, 6, j->raw, j->raw_len, SQLITE_STATIC);
	bind_text(s, 7, j->error);
	sqlite3_bind_int64(s, 8, j->rep ? (int64_t)j->rep->n_must : 0);
	sqlite3_bind_int64(s, 9, j->rep ? (int64_t)j->rep->n_should : 0);
	sqlite3_bind_int64(s, 10, (int64_t)j->size);
	bind_text(s, 11, x->fault.label[0] ? x->fault.label : NULL);
	if ((rc = done(m, s)) < 0)
		goto out;
	c.msg_id = x->msg_id = sqlite3_last_insert_rowid(m->db);
	if (j->rep && (rc = store_violations(m, x->msg_id, j->rep)) < 0)
		goto out;
	if (j->skip)
		goto out;
	if (j->r && j->r->is &&
	    (rc = rec_store(m, j->cid, x->msg_id, now, j->r, &x->log)) < 0)
		goto out;
	if (!j->cid || x->status != 200)
		goto out;
	if ((rc = store_device(m, j->cid, j->g, now,
			       j->rep->n_must + j->rep->n_should)) < 0 ||
	    (queue && ((rc = mock__load_sent(m, j->cid, &v, &n)) < 0 ||
		       (rc = mock__settle_all(&c, v, n)) < 0)))
		goto out;
	/* commands ride on heartbeat replies, and the next batch on the
	 * reply to a batch result (§7's chain, D42, D53) */
	if (queue && !j->no_pack && (j->g->kind == PROTO_HEARTBEAT ||
			    j->g->kind == PROTO_BATCH_RESULT))
		rc = mock__pack(&c, v, n, j->g->kind == PROTO_BATCH_RESULT, &reply);
	if (rc == 0 && reply) {
		s = st(m, S_MSG_REPLY);
		sqlite3_bind_int64(s, 1, x->msg_id);
		bind_text(s, 2, reply);
		rc = done(m, s);
	}
out:
	mock__free_sent(v, n);
	if (rc == 0)
		rc = exec(m, S_RELEASE);
	if (rc < 0) {
		exec(m, S_UNDO);
		exec(m, S_RELEASE);
		m->open_known = false;
		cJSON_free(reply);
		return rc;
	}
	if (reply) {
		x->body = reply;
		x->len = strlen(reply);
		x->ctype = "application/json";
	}
	return 0;
}

static void log_exchange(const judged *j, mock__exchange *x,
			 int64_t now)
{
	strbuf head = {0};
	char t[32], cid[200], kind[64], msg[600], path[200];

	/* one line per fact: a newline or a control character a device put
	 * in a value must not start a line of its own (proto_esc_text) */
	mock__iso(now, t);
	proto_esc_text(cid, sizeof cid, j->cid ? j->cid : "-",
		       j->cid ? strlen(j->cid) : 1, false);
	proto_esc_text(kind, sizeof kind, j->kind ? j->kind : "(unknown)",
		       j->kind ? strlen(j->kind) : 9, false);
	if (x->status)
		strbuf_printf(&head, "%s %s %s #%lld -> %d%s%s%s", t, cid, kind,
				(long long)x->msg_id, x->status,
				x->status == 200 && x->body ? " " : "",
				x->status == 200 && x->body ? x->body : "",
				x->status == 200 && !x->body ? " (empty)" : "");
	else
		strbuf_printf(&head, "%s %s %s #%lld -> no answer", t, cid, kind,
				(long long)x->msg_id);
	if (x->fault.label[0])
		strbuf_printf(&head, " [fault %s]", x->fault.label);
	strbuf_add(&head, "\n", 1);
	if (j->error) {
		proto_esc_text(msg, sizeof msg, j->error, strlen(j->error), false);
		strbuf_printf(&head, "  error: %s\n", msg);
	}
	for (size_t i = 0; j->rep && i < j->rep->n; i++) {
		const proto_violation *v = &j->rep->v[i];
		proto_esc_text(msg, sizeof msg, v->msg, v->msg ? strlen(v->msg) : 0,
			       false);
		proto_esc_text(path, sizeof path, v->path,
			       v->path ? strlen(v->path) : 0, false);
		strbuf_printf(&head, "  %s %s at %s: %s\n", sev_name(v->sev),
				v->rule, path, msg);
	}
	if (x->log.p)
		strbuf_add(&head, x->log.p, x->log.n);
	free(x->log.p);
	x->log = head;
}

/* Draws the faults of the body phase for j's device and sets what they
 * change in j and x before anything is stored. */
static void draw_faults(mock *m, judged *j, mock__exchange *x)
{
	mock_fault_hit *h = &x->fault;

	mock__inject_draw(m, MOCK_FAULT_BODY, j->cid, h);
	switch (h->answer) {
	case MOCK_FAULT_STATUS:
		mock__answer(x, h->status, "camsim mock: injected fault %s; the "
			     "message was not processed, send it again", h->label);
		j->skip = true;
		break;
	case MOCK_FAULT_RESET:
	case MOCK_FAULT_CLOSE:
		free(x->body);
		x->body = NULL;
		x->len = 0;
		x->status = 0; /* stored as: no answer */
		j->skip = true;
		break;
	case MOCK_FAULT_NOT_JSON:
		j->no_pack = true; /* the commands stay queued */
		break;
	default:
		break;
	}
}

void mock__ingest(mock *m, const char *body, size_t len,
		  const mock_fault_hit *pre, mock__exchange *x)
{
	proto_arena a = PROTO_ARENA_INIT;
	proto_report rep = {0};
	proto_msg g = {.kind = PROTO_KIND_NONE};
	cJSON *json = NULL;
	rec r = {0};
	char perr[600], why[900];
	judged j = {.rep = &rep, .g = &g, .r = &r};
	int64_t now = mock__now(m);
	int rc;

	memset(x, 0, sizeof *x);
	x->status = 200;
	j.size = len;
	if (pre)
		x->fault = *pre;
	else
		mock_fault_none(&x->fault);
	rc = proto_json_parse(body, len, &json, perr, sizeof perr);
	if (rc == PROTO_ENOMEM)
		goto oom;
	if (rc < 0) {
		snprintf(why, sizeof why, "the body is not JSON: %s", perr);
		j.error = why;
		j.raw = body;
		j.raw_len = len < RAW_KEEP ? len : RAW_KEEP;
		mock__answer(x, 400, "%s", why);
		goto store;
	}
	rc = proto_decode(json, PROTO_TO_SERVER, m->prof, &a, &g, &rep);
	if (rc == PROTO_ENOMEM || rep.oom)
		goto oom;
	j.body = body; /* valid UTF-8 JSON: proto_json_parse checked */
	if (rc == PROTO_EUNKNOWN || g.kind == PROTO_KIND_NONE) {
		const proto_violation *v = rep.n ? &rep.v[0] : NULL;
		snprintf(why, sizeof why, "not a message of protocol V1.16: %s "
			 "at %s: %s", v ? v->rule : "message.type.enum",
			 v ? v->path : "$", v ? v->msg : "unknown kind");
		j.error = why;
		mock__answer(x, 400, "%s", why);
		goto store;
	}
	j.kind = proto_kind_name(g.kind);
	j.cid = msg_cid(&g);
	if (g.kind == PROTO_SNAPSHOT) {
		if (rec_prepare(json, &g, &r) < 0)
			goto oom;
		j.body = r.message;
	}
store:
	draw_faults(m, &j, x);
	atomic_fetch_add(&m->tx_waiting, 1);
	pthread_mutex_lock(&m->mu);
	atomic_fetch_sub(&m->tx_waiting, 1);
	rc = ingest_locked(m, &j, x, now);
	if (rc < 0)
		snprintf(why, sizeof why, "%s", sqlite3_errmsg(m->db));
	if (tx_end(m) < 0 && rc == 0) {
		rc = CONF_EDB;
		snprintf(why, sizeof why, "the commit failed");
	}
	if (rc == 0)
		count(m, g.kind, &rep, now);
	pthread_mutex_unlock(&m->mu);
	if (rc < 0)
		mock__answer(x, 500, "the mock's database %s failed: %s; "
			    "nothing was stored, send again", m->dbpath, why);
	else if (x->fault.answer == MOCK_FAULT_NOT_JSON) {
		mock__answer(x, 200, "<html><body>camsim mock: injected fault "
			     "not-json</body></html>");
		x->ctype = "text/html; charset=utf-8";
	}
	log_exchange(&j, x, now);
	mock__retain(m, len);
	goto out;
oom:
	mock__answer(x, 500, "the mock ran out of memory judging a %zu-byte "
		    "body; send again", len);
out:
	rec_free(&r);
	cJSON_Delete(json);
	proto_arena_free(&a);
	proto_report_free(&rep);
}

void mock__refuse(mock *m, int status, const char *why, mock__exchange *x)
{
	judged j = {.error = why};
	int64_t now = mock__now(m);

	memset(x, 0, sizeof *x);
	mock_fault_none(&x->fault);
	x->status = status;
	atomic_fetch_add(&m->tx_waiting, 1);
	pthread_mutex_lock(&m->mu);
	atomic_fetch_sub(&m->tx_waiting, 1);
	(void)ingest_locked(m, &j, x, now);
	(void)tx_end(m);
	count(m, PROTO_KIND_NONE, NULL, now);
	pthread_mutex_unlock(&m->mu);
	mock__answer(x, status, "%s", why);
	log_exchange(&j, x, now);
}

void mock__exchange_free(mock__exchange *x)
{
	free(x->body);
	free(x->log.p);
	memset(x, 0, sizeof *x);
}
