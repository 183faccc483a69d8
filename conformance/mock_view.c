/* mock_view.c -- the JSON views of the mock's database (commands,
 * devices, records, messages) and message bodies streamed in chunks.
 * Reads only: copies rows under the lock and formats after it; changes no
 * state beyond expiring timed-out commands. */
#include "mock_db_int.h"
#include "base.h"

#include <cJSON.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_CHUNK (256u << 10) /* bytes read under the lock at a time */

static void add(cJSON *o, const char *k, cJSON *v)
{
	if (!cJSON_AddItemToObject(o, k, v))
		cJSON_Delete(v);
}

/* ---------------------------------------------------------------- views */

/* The views copy rows under the lock and build JSON after it is released,
 * so a listing never makes a device wait while it is formatted. */

/* One column's value, copied out of SQLite. */
typedef struct cell {
	int type; /* SQLITE_NULL, SQLITE_INTEGER, SQLITE_TEXT, SQLITE_BLOB */
	int64_t i;
	char *p;  /* text (NUL-terminated) or blob bytes */
	size_t n;
} cell;

/* One row, and the rows of a dependent query (a message's violations). */
typedef struct crow {
	cell *c;
	int nc;
	struct crow *sub;
	size_t nsub;
} crow;

static void crow_free(crow *r)
{
	for (int i = 0; r->c && i < r->nc; i++)
		free(r->c[i].p);
	free(r->c);
	for (size_t i = 0; i < r->nsub; i++)
		crow_free(&r->sub[i]);
	free(r->sub);
	memset(r, 0, sizeof *r);
}

static int copy_row(sqlite3_stmt *s, crow *r)
{
	int nc = sqlite3_column_count(s);

	memset(r, 0, sizeof *r);
	if (!(r->c = calloc((size_t)nc ? (size_t)nc : 1, sizeof *r->c)))
		return CONF_ENOMEM;
	r->nc = nc;
	for (int i = 0; i < nc; i++) {
		cell *c = &r->c[i];
		c->type = sqlite3_column_type(s, i);
		if (c->type == SQLITE_INTEGER || c->type == SQLITE_FLOAT) {
			c->type = SQLITE_INTEGER;
			c->i = sqlite3_column_int64(s, i);
		} else if (c->type == SQLITE_TEXT || c->type == SQLITE_BLOB) {
			const void *v = c->type == SQLITE_TEXT ?
				(const void *)sqlite3_column_text(s, i) :
				sqlite3_column_blob(s, i);
			c->n = (size_t)sqlite3_column_bytes(s, i);
			if (!(c->p = malloc(c->n + 1)))
				return CONF_ENOMEM;
			if (c->n)
				memcpy(c->p, v, c->n);
			c->p[c->n] = '\0';
		}
	}
	return 0;
}

/* A growing array of copied rows. */
typedef struct crows {
	crow *v;
	size_t n, cap;
} crows;

static void crows_free(crows *t)
{
	for (size_t i = 0; i < t->n; i++)
		crow_free(&t->v[i]);
	free(t->v);
	memset(t, 0, sizeof *t);
}

/* Steps s to the end, copying every row into t.  0, CONF_ENOMEM or
 * CONF_EDB; s is reset. */
static int copy_rows(sqlite3_stmt *s, crows *t)
{
	int e, rc = 0;

	while (rc == 0 && (e = sqlite3_step(s)) == SQLITE_ROW) {
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 16;
			crow *nv = realloc(t->v, cap * sizeof *nv);
			if (!nv) {
				rc = CONF_ENOMEM;
				break;
			}
			t->v = nv;
			t->cap = cap;
		}
		rc = copy_row(s, &t->v[t->n]);
		t->n++; /* a partly copied row is freed with the rest */
	}
	if (rc == 0 && e != SQLITE_DONE)
		rc = CONF_EDB;
	sqlite3_reset(s);
	return rc;
}

/* A message row's violations into r->sub (under the lock). */
static int copy_violations(mock *m, crow *r)
{
	sqlite3_stmt *q = st(m, S_VIO_LIST);
	crows t = {0};
	int rc;

	sqlite3_bind_int64(q, 1, r->c[0].i);
	rc = copy_rows(q, &t);
	r->sub = t.v;
	r->nsub = t.n;
	return rc;
}

/* How a column becomes a JSON member. */
typedef enum col_as { AS_NUM, AS_STR, AS_JSON, AS_BOOL, AS_STATE } col_as;

typedef struct col {
	const char *name;
	col_as as;
} col;

static const col cmd_cols[] = {
	{"id", AS_NUM}, {"cid", AS_STR}, {"kind", AS_STR},
	{"command", AS_JSON}, {"seq", AS_NUM}, {"state", AS_STATE},
	{"queued_at", AS_NUM}, {"sent_at", AS_NUM}, {"done_at", AS_NUM},
	{"result", AS_JSON}, {"detail", AS_STR}, {"result_id", AS_NUM},
	{NULL, AS_NUM}};

static const col rec_cols[] = {
	{"id", AS_NUM}, {"cid", AS_STR}, {"received_at", AS_NUM},
	{"message", AS_JSON}, {"image_sha256", AS_STR}, {"image_len", AS_NUM},
	{"resend", AS_BOOL}, {"duplicate_of", AS_NUM}, {NULL, AS_NUM}};

static const col dev_cols[] = {
	{"cid", AS_STR}, {"first_seen", AS_NUM}, {"last_seen", AS_NUM},
	{"last_heartbeat", AS_NUM}, {"last_seq", AS_NUM}, {"uptime", AS_NUM},
	{"app_version", AS_STR}, {"messages", AS_NUM}, {"violations", AS_NUM},
	{"pending", AS_NUM}, {"online", AS_BOOL}, {NULL, AS_NUM}};

static cJSON *cell_num(const cell *c)
{
	return c->type == SQLITE_NULL ? cJSON_CreateNull() :
	       cJSON_CreateNumber((double)c->i);
}

static cJSON *cell_str(const cell *c)
{
	return c->type == SQLITE_TEXT ? cJSON_CreateString(c->p) :
	       cJSON_CreateNull();
}

/* The JSON text of c parsed, or null (also for text that no longer
 * parses: the views never fail on what was stored). */
static cJSON *cell_json(const cell *c)
{
	cJSON *j = c->type == SQLITE_TEXT ? cJSON_Parse(c->p) : NULL;
	return j ? j : cJSON_CreateNull();
}

/* One row as an object with the members cols names. */
static cJSON *row_json(const crow *r, const col *cols)
{
	cJSON *o = cJSON_CreateObject();

	for (int i = 0; o && cols[i].name && i < r->nc; i++) {
		const cell *c = &r->c[i];
		cJSON *v;
		switch (cols[i].as) {
		case AS_STR: v = cell_str(c); break;
		case AS_JSON: v = cell_json(c); break;
		case AS_BOOL: v = cJSON_CreateBool(c->i != 0); break;
		case AS_STATE:
			v = cJSON_CreateString(mock_state_name((mock_state)c->i));
			break;
		default: v = cell_num(c); break;
		}
		add(o, cols[i].name, v);
	}
	return o;
}

/* A printable copy of a body that is not JSON: bytes outside printable
 * ASCII as \xNN. */
static cJSON *raw_string(const unsigned char *p, size_t n)
{
	strbuf b = {0};
	cJSON *s;

	strbuf_add(&b, "", 0);
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f)
			strbuf_add(&b, (const char *)&p[i], 1);
		else
			strbuf_printf(&b, "\\x%02X", p[i]);
	}
	s = b.oom ? NULL : cJSON_CreateString(b.p);
	free(b.p);
	return s ? s : cJSON_CreateNull();
}

static const col msg_cols[] = {
	{"id", AS_NUM}, {"cid", AS_STR}, {"received_at", AS_NUM},
	{"kind", AS_STR}, {"status", AS_NUM}, {"size", AS_NUM}, {NULL, AS_NUM}};

/* A message summary (MSG_COLS) with its violations: after msg_cols come
 * raw, error, reply, must, should, fault. */
static cJSON *row_msg(const crow *r)
{
	static const col vio_cols[] = {
		{"severity", AS_STR}, {"rule", AS_STR}, {"path", AS_STR},
		{"message", AS_STR}, {NULL, AS_NUM}};
	cJSON *o = row_json(r, msg_cols), *vs = cJSON_CreateArray();

	if (!o || !vs || r->nc < 12) {
		cJSON_Delete(o);
		cJSON_Delete(vs);
		return NULL;
	}
	if (r->c[6].type == SQLITE_BLOB)
		add(o, "raw", raw_string((const unsigned char *)r->c[6].p,
					 r->c[6].n));
	add(o, "error", cell_str(&r->c[7]));
	add(o, "fault", cell_str(&r->c[11]));
	add(o, "reply", cell_json(&r->c[8]));
	add(o, "must", cell_num(&r->c[9]));
	add(o, "should", cell_num(&r->c[10]));
	for (size_t i = 0; i < r->nsub; i++) {
		cJSON *v = row_json(&r->sub[i], vio_cols);
		if (!cJSON_AddItemToArray(vs, v))
			cJSON_Delete(v);
	}
	add(o, "violations", vs);
	return o;
}

typedef cJSON *(*row_fn)(const crow *r);

static cJSON *row_cmd(const crow *r) { return row_json(r, cmd_cols); }
static cJSON *row_rec(const crow *r) { return row_json(r, rec_cols); }
static cJSON *row_dev(const crow *r) { return row_json(r, dev_cols); }

/* Runs statement id, bound with cid/after/limit (nbind 3), the same and
 * the time now (4), the id in after (2: one row by id) or nothing (0),
 * copies the rows
 * (and each message's violations) under the lock, and builds one JSON per
 * row after it.  NULL when out of memory or the database fails. */
static cJSON *rows(mock *m, int id, int nbind, const char *cid, int64_t after,
		   int64_t limit, row_fn fn)
{
	cJSON *arr = NULL;
	sqlite3_stmt *s;
	crows t = {0};
	int rc;

	if (!m)
		return NULL;
	mock__lock(m);
	(void)expire(m, mock__now(m));
	s = st(m, id);
	if (nbind >= 3) {
		bind_text(s, 1, cid);
		sqlite3_bind_int64(s, 2, after);
		sqlite3_bind_int64(s, 3, limit);
		if (nbind == 4)
			sqlite3_bind_int64(s, 4, mock__now(m));
	} else if (nbind == 2) {
		sqlite3_bind_int64(s, 1, after);
	}
	rc = copy_rows(s, &t);
	for (size_t i = 0; rc == 0 && fn == row_msg && i < t.n; i++)
		rc = copy_violations(m, &t.v[i]);
	pthread_mutex_unlock(&m->mu);
	if (rc == 0 && (arr = cJSON_CreateArray()))
		for (size_t i = 0; i < t.n; i++) {
			cJSON *o = fn(&t.v[i]);
			crow_free(&t.v[i]); /* the copy goes as the JSON grows */
			if (!o || !cJSON_AddItemToArray(arr, o)) {
				cJSON_Delete(o);
				cJSON_Delete(arr);
				arr = NULL;
				break;
			}
		}
	crows_free(&t);
	return arr;
}

static int64_t clamp_limit(size_t limit)
{
	return limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
}

/* The one row of statement id for key, or NULL. */
static cJSON *one(mock *m, int id, int64_t key, row_fn fn)
{
	cJSON *arr = rows(m, id, 2, NULL, key, 1, fn);
	cJSON *o = cJSON_DetachItemFromArray(arr, 0);

	cJSON_Delete(arr);
	return o;
}

cJSON *mock_command_json(mock *m, int64_t id)
{
	return one(m, S_CMD_GET, id, row_cmd);
}

cJSON *mock_commands_json(mock *m, const char *cid, int64_t after,
			  size_t limit)
{
	return rows(m, S_CMD_LIST, 3, cid, after, clamp_limit(limit), row_cmd);
}

cJSON *mock_devices_json(mock *m)
{
	return rows(m, S_DEV_LIST, 0, NULL, 0, 0, row_dev);
}

cJSON *mock__devices_page(mock *m, const char *prefix, int64_t offset,
			  size_t limit)
{
	int64_t n[3] = {0};
	cJSON *o = NULL, *devs;
	sqlite3_stmt *s;
	int e;

	prefix = prefix ? prefix : "";
	mock__lock(m);
	s = st(m, S_DEV_COUNT);
	bind_text(s, 1, prefix);
	sqlite3_bind_int64(s, 2, mock__now(m));
	if ((e = sqlite3_step(s)) == SQLITE_ROW)
		for (int i = 0; i < 3; i++)
			n[i] = sqlite3_column_int64(s, i);
	sqlite3_reset(s);
	pthread_mutex_unlock(&m->mu);
	if (e != SQLITE_ROW)
		return NULL;
	devs = rows(m, S_DEV_PAGE, 4, prefix, offset, clamp_limit(limit), row_dev);
	if (!devs || !(o = cJSON_CreateObject())) {
		cJSON_Delete(devs);
		return NULL;
	}
	add(o, "total", cJSON_CreateNumber((double)n[0]));
	add(o, "online", cJSON_CreateNumber((double)n[1]));
	add(o, "matched", cJSON_CreateNumber((double)n[2]));
	add(o, "offset", cJSON_CreateNumber((double)offset));
	add(o, "limit", cJSON_CreateNumber((double)limit));
	add(o, "devices", devs);
	return o;
}

cJSON *mock__stats(mock *m)
{
	int64_t dev[2] = {0}, cmds[5] = {0}, recs = 0, kinds[PROTO_KIND_COUNT];
	int64_t must, should, now = mock__now(m);
	double rate;
	cJSON *o, *k, *c, *d;
	sqlite3_stmt *s;
	int rc = 0, e;

	mock__lock(m);
	(void)expire(m, now);
	s = st(m, S_DEV_COUNT);
	bind_text(s, 1, "");
	sqlite3_bind_int64(s, 2, now);
	if ((e = sqlite3_step(s)) == SQLITE_ROW) {
		dev[0] = sqlite3_column_int64(s, 0);
		dev[1] = sqlite3_column_int64(s, 1);
	}
	rc |= e != SQLITE_ROW;
	s = st(m, S_CMD_STATES);
	while ((e = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t i = sqlite3_column_int64(s, 0);
		if (i >= 0 && i < 5)
			cmds[i] = sqlite3_column_int64(s, 1);
	}
	rc |= e != SQLITE_DONE;
	s = st(m, S_REC_COUNT);
	if ((e = sqlite3_step(s)) == SQLITE_ROW)
		recs = sqlite3_column_int64(s, 0);
	rc |= e != SQLITE_ROW;
	memcpy(kinds, m->by_kind, sizeof kinds);
	must = m->n_must;
	should = m->n_should;
	rate = mock__rate(m, now);
	for (int i = S_DEV_COUNT; i <= S_REC_COUNT; i++)
		sqlite3_reset(m->s[i]);
	pthread_mutex_unlock(&m->mu);
	if (rc || !(o = cJSON_CreateObject()))
		return NULL;
	d = cJSON_AddObjectToObject(o, "devices");
	add(d, "total", cJSON_CreateNumber((double)dev[0]));
	add(d, "online", cJSON_CreateNumber((double)dev[1]));
	add(d, "offline", cJSON_CreateNumber((double)(dev[0] - dev[1])));
	k = cJSON_AddObjectToObject(o, "messages");
	for (int i = 0; i < PROTO_KIND_COUNT; i++)
		if (kinds[i])
			add(k, i ? proto_kind_name((proto_kind)i) : "not_a_message",
			    cJSON_CreateNumber((double)kinds[i]));
	d = cJSON_AddObjectToObject(o, "violations");
	add(d, "must", cJSON_CreateNumber((double)must));
	add(d, "should", cJSON_CreateNumber((double)should));
	c = cJSON_AddObjectToObject(o, "commands");
	for (int i = 0; i < 5; i++)
		add(c, mock_state_name((mock_state)i),
		    cJSON_CreateNumber((double)cmds[i]));
	add(o, "records", cJSON_CreateNumber((double)recs));
	add(o, "requests_per_s", cJSON_CreateNumber(rate));
	add(o, "at", cJSON_CreateNumber((double)now));
	if (!d || !k || !c) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *mock_records_json(mock *m, const char *cid, int64_t after,
			 size_t limit)
{
	return rows(m, S_REC_LIST, 3, cid, after, clamp_limit(limit), row_rec);
}

cJSON *mock_messages_json(mock *m, const char *cid, int64_t after,
			  size_t limit)
{
	return rows(m, S_MSG_LIST, 3, cid, after, clamp_limit(limit), row_msg);
}

cJSON *mock__newest(mock *m, mock__list what, const char *cid, int64_t before,
		    size_t limit)
{
	static const struct {
		int all, dev;
		row_fn fn;
	} lists[] = {
		[MOCK__COMMANDS] = {S_CMD_NEWEST, S_CMD_DEV_NEWEST, row_cmd},
		[MOCK__RECORDS] = {S_REC_NEWEST, S_REC_DEV_NEWEST, row_rec},
		[MOCK__MESSAGES] = {S_MSG_NEWEST, S_MSG_DEV_NEWEST, row_msg},
		[MOCK__REFUSED] = {S_MSG_REFUSED, S_MSG_REFUSED, row_msg},
	};

	if ((unsigned)what >= ARRAY_SIZE(lists))
		return NULL;
	return rows(m, cid ? lists[what].dev : lists[what].all, 3, cid,
		    before, clamp_limit(limit), lists[what].fn);
}

int mock_record_image(mock *m, int64_t id, unsigned char **out, size_t *len)
{
	sqlite3_stmt *s;
	int rc = CONF_ENOTFOUND;

	*out = NULL;
	*len = 0;
	if (!m)
		return CONF_EINVAL;
	mock__lock(m);
	s = st(m, S_REC_IMAGE);
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_type(s, 0) == SQLITE_BLOB) {
		size_t n = (size_t)sqlite3_column_bytes(s, 0);
		if ((*out = malloc(n ? n : 1))) {
			memcpy(*out, sqlite3_column_blob(s, 0), n);
			*len = n;
			rc = 0;
		} else {
			rc = CONF_ENOMEM;
		}
	}
	sqlite3_reset(s);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

/* ---------------------------------------------------------------- bodies */

/* Bytes [off, off+n) of column col ("body" or "raw") of message id into
 * buf, under the lock for this chunk only; *total gets the column's size.
 * A row deleted meanwhile (retention) is CONF_ENOTFOUND. */
static int read_chunk(mock *m, int64_t id, const char *colname, size_t off,
		      void *buf, size_t n, size_t *total)
{
	sqlite3_blob *b = NULL;
	int rc = 0;

	mock__lock(m);
	if (sqlite3_blob_open(m->db, "main", "messages", colname, id, 0, &b) !=
	    SQLITE_OK) {
		rc = CONF_ENOTFOUND;
		goto out;
	}
	*total = (size_t)sqlite3_blob_bytes(b);
	if (n && (off + n > *total ||
		  sqlite3_blob_read(b, buf, (int)n, (int)off) != SQLITE_OK))
		rc = CONF_EDB;
out:
	sqlite3_blob_close(b);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

cJSON *mock_message_json(mock *m, int64_t id)
{
	cJSON *o = one(m, S_MSG_GET, id, row_msg), *body = NULL;
	size_t total = 0;
	char *buf = NULL;

	if (!o)
		return NULL;
	if (read_chunk(m, id, "body", 0, NULL, 0, &total) == 0 &&
	    (buf = malloc(total + 1)) &&
	    read_chunk(m, id, "body", 0, buf, total, &total) == 0) {
		buf[total] = '\0';
		body = cJSON_Parse(buf);
	}
	free(buf);
	add(o, "body", body ? body : cJSON_CreateNull());
	return o;
}

int mock__message_stream(mock *m, int64_t id, bool only_body, mock__writer w,
			 void *ud)
{
	cJSON *o = one(m, S_MSG_GET, id, row_msg);
	mock__exchange head = {.status = 200, .ctype = "application/json"};
	const char *colname = "body", *tail = "}";
	char *summary = NULL, *wire = NULL, *buf = NULL;
	size_t total = 0, slen = 0, n;
	bool has_body, started = false;
	int rc = CONF_ENOTFOUND;

	if (!o)
		return CONF_ENOTFOUND;
	has_body = read_chunk(m, id, "body", 0, NULL, 0, &total) == 0;
	if (only_body && !has_body) {
		colname = "raw";
		head.ctype = "application/octet-stream";
		if (read_chunk(m, id, "raw", 0, NULL, 0, &total) < 0)
			goto out;
	}
	if (!only_body) {
		/* the summary, then "body": streamed as stored (valid JSON
		 * text: ingest stores only what parsed) */
		rc = CONF_ENOMEM;
		if (!(summary = cJSON_PrintUnformatted(o)))
			goto out;
		slen = strlen(summary) - 1; /* without its closing brace */
		if (!has_body) {
			total = 0;
			tail = ",\"body\":null}";
		}
	}
	head.len = (only_body ? 0 : slen + (has_body ? 8 : 0)) + total +
		   (only_body ? 0 : strlen(tail));
	rc = CONF_ENOMEM;
	/* nosniff: a raw body is the device's bytes, never a page to run */
	if (!(wire = mock__wire(&head, "X-Content-Type-Options: nosniff\r\n",
				&n)) ||
	    !(buf = malloc(STREAM_CHUNK)))
		goto out;
	started = true;
	if ((rc = w(ud, wire, n)) < 0)
		goto out;
	if (!only_body && ((rc = w(ud, summary, slen)) < 0 ||
			   (has_body && (rc = w(ud, ",\"body\":", 8)) < 0)))
		goto out;
	for (size_t off = 0; off < total; off += n) {
		size_t now_total = total;
		n = total - off < STREAM_CHUNK ? total - off : STREAM_CHUNK;
		/* a body deleted meanwhile ends the answer short: the
		 * client sees less than the Content-Length */
		if ((rc = read_chunk(m, id, colname, off, buf, n, &now_total)) < 0 ||
		    (rc = w(ud, buf, n)) < 0)
			goto out;
	}
	if (!only_body && (rc = w(ud, tail, strlen(tail))) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0 && started)
		rc = CONF_ESEND; /* the answer is cut short; nothing else to say */
	cJSON_Delete(o);
	cJSON_free(summary);
	free(wire);
	free(buf);
	return rc;
}
