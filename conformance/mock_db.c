/* mock_db.c -- the mock's SQLite file and its command state machine:
 * schema, statements, storing each device message with its violations and
 * snapshot, settling sent commands, packing queued ones into replies, and
 * the JSON views.  Owns the database handle; knows no HTTP or CivetWeb. */
#include "mock_int.h"
#include "b64.h"
#include "sha256.h"
#include "outcome.h"

#include "image.h"
#include "sim_err.h"

#include <cJSON.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define MOCK_APP_ID 1668116331 /* PRAGMA application_id: "cmok" */
#define MOCK_VERSION 2
#define STREAM_CHUNK (256u << 10) /* bytes read under the lock at a time */
#define RAW_KEEP 4096    /* bytes kept of a body that is not JSON */
#define RESEND_AGE_S 60  /* a record this much older than its arrival */
#define SEQ_SMALL 946684800LL /* below: a counter, not a UNIX time (D8) */

/* Schema version 2 (1 plus messages.size and messages.fault; a version 1
 * file is upgraded in place).  Times are UTC ms on the mock's clock.  commands.state
 * is enum mock_state.  sent_in is the message whose reply carried the
 * command, result_id the one that settled it, deadline when it times out.
 * devices.interval_ms is the gap between its last two heartbeats.  seqs keeps each device's
 * seq counter apart from devices, which lists only devices seen. */
static const char schema_sql[] =
	"CREATE TABLE devices(cid TEXT PRIMARY KEY NOT NULL,"
	" first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
	" last_heartbeat INTEGER, last_seq INTEGER, uptime INTEGER,"
	" app_version TEXT, interval_ms INTEGER, messages INTEGER NOT NULL,"
	" violations INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE seqs(cid TEXT PRIMARY KEY NOT NULL,"
	" next INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE messages(id INTEGER PRIMARY KEY AUTOINCREMENT, cid TEXT,"
	" received_at INTEGER NOT NULL, kind TEXT, status INTEGER NOT NULL,"
	" body TEXT, raw BLOB, error TEXT, reply TEXT,"
	" must INTEGER NOT NULL, should INTEGER NOT NULL,"
	" size INTEGER NOT NULL DEFAULT 0, fault TEXT);"
	"CREATE INDEX messages_cid ON messages(cid, id);"
	"CREATE TABLE violations(message_id INTEGER NOT NULL, n INTEGER NOT NULL,"
	" severity TEXT NOT NULL, rule TEXT NOT NULL, path TEXT NOT NULL,"
	" msg TEXT NOT NULL, PRIMARY KEY(message_id, n)) WITHOUT ROWID;"
	"CREATE TABLE records(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" message_id INTEGER NOT NULL, cid TEXT, received_at INTEGER NOT NULL,"
	" time INTEGER, message TEXT NOT NULL, image BLOB, image_sha256 TEXT,"
	" image_len INTEGER NOT NULL, resend INTEGER NOT NULL,"
	" duplicate_of INTEGER);"
	"CREATE INDEX records_cid ON records(cid, id);"
	"CREATE INDEX records_dup ON records(cid, time, image_sha256);"
	"CREATE INDEX records_msg ON records(message_id);"
	"CREATE TABLE commands(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" cid TEXT NOT NULL, kind TEXT NOT NULL, rank INTEGER NOT NULL,"
	" command TEXT NOT NULL, seq INTEGER, state INTEGER NOT NULL,"
	" queued_at INTEGER NOT NULL, sent_at INTEGER, deadline INTEGER,"
	" done_at INTEGER, sent_in INTEGER, result_id INTEGER, detail TEXT);"
	"CREATE INDEX commands_cid ON commands(cid, state, id);"
	"CREATE INDEX commands_state ON commands(state, deadline);"
	"PRAGMA application_id = 1668116331;" /* MOCK_APP_ID */
	"PRAGMA user_version = 2;";

/* Version 1 to 2: the size that listings show without reading bodies, and
 * the faults that hit each exchange. */
static const char upgrade1_sql[] =
	"ALTER TABLE messages ADD COLUMN size INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN fault TEXT;"
	"UPDATE messages SET size = length(CAST(coalesce(body, raw, '') AS BLOB));"
	"CREATE INDEX records_msg ON records(message_id);"
	"PRAGMA user_version = 2;";

/* The columns of the JSON views, in the order of cmd_cols / rec_cols. */
#define CMD_COLS "c.id, c.cid, c.kind, c.command, c.seq, c.state,"    \
		 " c.queued_at, c.sent_at, c.done_at,"                \
		 " (SELECT body FROM messages WHERE id = c.result_id),"  \
		 " c.detail, c.result_id"
/* In listings a result message over 64 KiB is left out (null; result_id
 * names it, GET /admin/messages/{id} streams it): a face list can be
 * megabytes. */
#define CMD_LIST_COLS "c.id, c.cid, c.kind, c.command, c.seq, c.state,"   \
		 " c.queued_at, c.sent_at, c.done_at,"                \
		 " (SELECT body FROM messages WHERE id = c.result_id"   \
		 " AND size <= 65536),"                                 \
		 " c.detail, c.result_id"
#define REC_COLS "id, cid, received_at, message, image_sha256, image_len," \
		 " resend, duplicate_of"
#define MSG_COLS "id, cid, received_at, kind, status, size, raw, error," \
		 " reply, must, should, fault"

enum {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_TIMEOUT,
	S_DEV_UPSERT,
	S_MSG_ADD,
	S_MSG_REPLY,
	S_VIO_ADD,
	S_REC_DUP,
	S_REC_ADD,
	S_SENT_LIST,
	S_SETTLE,
	S_PENDING,
	S_MARK_SENT,
	S_DEV_INTERVAL,
	S_SEQ_GET,
	S_SEQ_SET,
	S_CMD_ADD,
	S_CMD_GET,
	S_CMD_LIST,
	S_CMD_RECENT,
	S_DEV_LIST,
	S_REC_LIST,
	S_REC_RECENT,
	S_REC_IMAGE,
	S_MSG_LIST,
	S_MSG_GET,
	S_MSG_RECENT,
	S_VIO_LIST,
	S_N
};

static const char *const stmt_sql[S_N] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_TIMEOUT] = "UPDATE commands SET state = 4, done_at = deadline,"
		      " detail = printf('no outcome within %g s of being sent',"
		      " (deadline - sent_at) / 1000.0)"
		      " WHERE state = 1 AND deadline <= ?1",
	[S_DEV_UPSERT] = "INSERT INTO devices(cid, first_seen, last_seen,"
			 " last_heartbeat, last_seq, uptime, app_version,"
			 " messages, violations)"
			 " VALUES(?1, ?2, ?2, ?3, ?4, ?5, ?6, 1, ?7)"
			 " ON CONFLICT(cid) DO UPDATE SET"
			 " last_seen = excluded.last_seen,"
			 " last_heartbeat = coalesce(excluded.last_heartbeat,"
			 " last_heartbeat),"
			 " last_seq = coalesce(excluded.last_seq, last_seq),"
			 " interval_ms = CASE WHEN excluded.last_heartbeat"
			 " IS NULL OR last_heartbeat IS NULL THEN interval_ms"
			 " ELSE excluded.last_heartbeat - last_heartbeat END,"
			 " uptime = coalesce(excluded.uptime, uptime),"
			 " app_version = coalesce(excluded.app_version,"
			 " app_version), messages = messages + 1,"
			 " violations = violations + excluded.violations",
	[S_MSG_ADD] = "INSERT INTO messages(cid, received_at, kind, status,"
		      " body, raw, error, must, should, size, fault)"
		      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[S_MSG_REPLY] = "UPDATE messages SET reply = ?2 WHERE id = ?1",
	[S_VIO_ADD] = "INSERT INTO violations VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[S_REC_DUP] = "SELECT id FROM records WHERE cid IS ?1 AND time IS ?2"
		      " AND image_sha256 = ?3 ORDER BY id LIMIT 1",
	[S_REC_ADD] = "INSERT INTO records(message_id, cid, received_at, time,"
		      " message, image, image_sha256, image_len, resend,"
		      " duplicate_of)"
		      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[S_SENT_LIST] = "SELECT id, kind, seq, command FROM commands"
			" WHERE cid = ?1 AND state = 1 ORDER BY id",
	[S_SETTLE] = "UPDATE commands SET state = ?2, done_at = ?3,"
		     " result_id = ?4, detail = ?5 WHERE id = ?1 AND state = 1",
	[S_PENDING] = "SELECT id, kind, rank, command FROM commands"
		      " WHERE cid = ?1 AND state = 0 ORDER BY id LIMIT 16",
	[S_MARK_SENT] = "UPDATE commands SET state = 1, sent_at = ?2,"
			" sent_in = ?3, deadline = ?4 WHERE id = ?1",
	[S_DEV_INTERVAL] = "SELECT interval_ms FROM devices WHERE cid = ?1",
	[S_SEQ_GET] = "SELECT next FROM seqs WHERE cid = ?1",
	[S_SEQ_SET] = "INSERT INTO seqs(cid, next) VALUES(?1, ?2)"
		      " ON CONFLICT(cid) DO UPDATE SET next = excluded.next",
	[S_CMD_ADD] = "INSERT INTO commands(cid, kind, rank, command, seq,"
		      " state, queued_at) VALUES(?1, ?2, ?3, ?4, ?5, 0, ?6)",
	[S_CMD_GET] = "SELECT " CMD_COLS " FROM commands c WHERE c.id = ?1",
	[S_CMD_LIST] = "SELECT " CMD_LIST_COLS " FROM commands c"
		       " WHERE (?1 IS NULL OR c.cid = ?1) AND c.id > ?2"
		       " ORDER BY c.id LIMIT ?3",
	[S_CMD_RECENT] = "SELECT " CMD_LIST_COLS " FROM commands c"
			 " ORDER BY c.id DESC LIMIT ?1",
	[S_DEV_LIST] = "SELECT d.cid, first_seen, last_seen, last_heartbeat,"
		       " last_seq, uptime, app_version, messages, violations,"
		       " (SELECT count(*) FROM commands c WHERE c.cid = d.cid"
		       " AND c.state = 0) FROM devices d ORDER BY d.cid",
	[S_REC_LIST] = "SELECT " REC_COLS " FROM records"
		       " WHERE (?1 IS NULL OR cid = ?1) AND id > ?2"
		       " ORDER BY id LIMIT ?3",
	[S_REC_RECENT] = "SELECT " REC_COLS " FROM records"
			 " ORDER BY id DESC LIMIT ?1",
	[S_REC_IMAGE] = "SELECT image FROM records WHERE id = ?1",
	/* no body: a listing never reads one (they can be 64 MiB) */
	[S_MSG_LIST] = "SELECT " MSG_COLS " FROM messages"
		       " WHERE (?1 IS NULL OR cid = ?1) AND id > ?2"
		       " ORDER BY id LIMIT ?3",
	[S_MSG_RECENT] = "SELECT " MSG_COLS " FROM messages ORDER BY id DESC"
			 " LIMIT ?1",
	[S_MSG_GET] = "SELECT " MSG_COLS " FROM messages WHERE id = ?1",
	[S_VIO_LIST] = "SELECT severity, rule, path, msg FROM violations"
		       " WHERE message_id = ?1 ORDER BY n",
};

/* ---------------------------------------------------------------- basics */

/* The statement, reset and unbound: ready for binding. */
static sqlite3_stmt *st(mock *m, int id)
{
	sqlite3_stmt *s = m->s[id];
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static void bind_opt_int(sqlite3_stmt *s, int i, bool has, int64_t v)
{
	if (has)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/* Steps a statement that returns no row; MOCK_EDB when it fails. */
static int done(mock *m, sqlite3_stmt *s)
{
	int e = sqlite3_step(s);
	sqlite3_reset(s);
	(void)m;
	return e == SQLITE_DONE ? 0 : MOCK_EDB;
}

static int exec(mock *m, int id)
{
	return done(m, st(m, id));
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static void add(cJSON *o, const char *k, cJSON *v)
{
	if (!cJSON_AddItemToObject(o, k, v))
		cJSON_Delete(v);
}

/* Marks every command sent longer than the timeout ago as timed out:
 * run lazily before anything reads or changes command states, so a
 * jumping virtual clock needs no timer. */
static int expire(mock *m, int64_t now)
{
	sqlite3_stmt *s = st(m, S_TIMEOUT);

	sqlite3_bind_int64(s, 1, now);
	return done(m, s);
}

/* ---------------------------------------------------------------- open */

static int db_fail(mock *m, const char *op, char *err, size_t errlen)
{
	snprintf(err, errlen, "database %s: %s: %s", m->dbpath, op,
		 m->db ? sqlite3_errmsg(m->db) : "cannot allocate a handle");
	return MOCK_EDB;
}

/* One integer from sql into *v. */
static int query_int(mock *m, const char *sql, int64_t *v)
{
	sqlite3_stmt *s = NULL;
	int rc = MOCK_EDB;

	if (sqlite3_prepare_v2(m->db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		*v = sqlite3_column_int64(s, 0);
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

/* A new file gets the schema; a mock database of this version is kept;
 * anything else is refused untouched. */
static int setup(mock *m, char *err, size_t errlen)
{
	int64_t app = 0, ver = 0, tables = 0;
	int rc;

	rc = sqlite3_exec(m->db, "PRAGMA journal_mode = WAL;"
			  "PRAGMA synchronous = NORMAL;", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return db_fail(m, "open", err, errlen);
	if (sqlite3_exec(m->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(m, "open", err, errlen);
	if (query_int(m, "PRAGMA application_id", &app) ||
	    query_int(m, "PRAGMA user_version", &ver) ||
	    query_int(m, "SELECT count(*) FROM sqlite_master", &tables)) {
		rc = db_fail(m, "open", err, errlen);
		goto out;
	}
	rc = 0;
	if (app == 0 && ver == 0 && tables == 0) {
		if (sqlite3_exec(m->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK)
			rc = db_fail(m, "creating the schema", err, errlen);
	} else if (app != MOCK_APP_ID) {
		snprintf(err, errlen, "database %s is not a camsim mock database "
			 "(application_id %lld, not %d); give --db a new file",
			 m->dbpath, (long long)app, MOCK_APP_ID);
		rc = MOCK_EDB;
	} else if (ver == 1) {
		if (sqlite3_exec(m->db, upgrade1_sql, NULL, NULL, NULL) != SQLITE_OK)
			rc = db_fail(m, "upgrading schema version 1 to 2", err,
				     errlen);
	} else if (ver != MOCK_VERSION) {
		snprintf(err, errlen, "database %s has schema version %lld; this "
			 "camsim reads version %d", m->dbpath, (long long)ver,
			 MOCK_VERSION);
		rc = MOCK_EDB;
	}
out:
	if (sqlite3_exec(m->db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL,
			 NULL) != SQLITE_OK && !rc)
		rc = db_fail(m, "open", err, errlen);
	return rc;
}

int mock__db_open(mock *m, char *err, size_t errlen)
{
	int rc;

	if (sqlite3_open_v2(m->dbpath, &m->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		rc = db_fail(m, "open", err, errlen);
		goto out;
	}
	sqlite3_busy_timeout(m->db, 5000);
	rc = setup(m, err, errlen);
	if (rc < 0)
		goto out;
	m->s = calloc(S_N, sizeof *m->s);
	if (!m->s) {
		snprintf(err, errlen, "out of memory opening %s", m->dbpath);
		rc = MOCK_ENOMEM;
		goto out;
	}
	for (int i = 0; i < S_N; i++)
		if (sqlite3_prepare_v3(m->db, stmt_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &m->s[i],
				       NULL) != SQLITE_OK) {
			rc = db_fail(m, "preparing statements (not the schema "
				     "camsim wrote?)", err, errlen);
			goto out;
		}
out:
	if (rc < 0)
		mock__db_close(m);
	return rc;
}

void mock__db_close(mock *m)
{
	if (m->s)
		for (int i = 0; i < S_N; i++)
			sqlite3_finalize(m->s[i]);
	free(m->s);
	m->s = NULL;
	sqlite3_close(m->db);
	m->db = NULL;
}

/* ---------------------------------------------------------------- kinds */

/* Command kinds, their apply order and their settling messages are
 * outcome.c's (shared with the runner's exchange tracker). */
typedef outcome_kind ckind;
#define ckind_find outcome_kind_find
#define ckind_of outcome_kind_of
#define member_has_seq outcome_member_has_seq
#define is_reply_member outcome_is_member

static const char *sev_name(proto_severity s)
{
	return s == PROTO_MUST ? "MUST" : "SHOULD";
}

/* ---------------------------------------------------------------- enqueue */

static bool cid_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > 64)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7E)
			return false;
	return true;
}

/* Checks that cmd is one command: one reply member, or the URL and port
 * pair of §3.1.  Returns the member that names it. */
static const char *one_command(const cJSON *cmd, char *err, size_t errlen)
{
	const cJSON *c;
	const char *first = NULL;
	int n = 0;
	bool server_pair = true;

	if (!cJSON_IsObject(cmd)) {
		snprintf(err, errlen, "a command is a JSON object holding one "
			 "reply member, e.g. {\"reboot\":1}");
		return NULL;
	}
	for (c = cmd->child; c; c = c->next) {
		if (!c->string || !is_reply_member(c->string)) {
			snprintf(err, errlen, "\"%.60s\" is not a command of "
				 "protocol V1.16 (reply members: time_set, "
				 "http_server_url, http_server_port, time_interval, "
				 "config, strategy_manage, facelib_manage, "
				 "facelib_batch, reupload, facelog, control, "
				 "fw_upgrade, reboot)", c->string ? c->string : "");
			return NULL;
		}
		if (strcmp(c->string, "http_server_url") &&
		    strcmp(c->string, "http_server_port"))
			server_pair = false;
		if (!first)
			first = c->string;
		n++;
	}
	if (n == 0) {
		snprintf(err, errlen, "the command object is empty; it must "
			 "hold one reply member, e.g. {\"reboot\":1}");
		return NULL;
	}
	if (n > 1 && !(n == 2 && server_pair)) {
		snprintf(err, errlen, "the command object holds %d members "
			 "(\"%.40s\", ...); enqueue one command at a time (only "
			 "http_server_url and http_server_port go together)", n,
			 first);
		return NULL;
	}
	return first;
}

/* The seq of cmd's member, when it is an integer. */
static bool cmd_seq(const cJSON *cmd, const char *member, int64_t *seq)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(cmd, member);
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "seq");

	if (!cJSON_IsNumber(s) || s->valuedouble != (double)(int64_t)s->valuedouble)
		return false;
	*seq = (int64_t)s->valuedouble;
	return true;
}

/* Writes the MUST violations of rep into err as one sentence. */
static void must_sentence(const proto_report *rep, char *err, size_t errlen)
{
	size_t used = 0;
	int w = snprintf(err, errlen, "command breaks protocol V1.16:");

	used = w > 0 ? (size_t)w : 0;
	for (size_t i = 0; i < rep->n && used < errlen; i++) {
		const proto_violation *v = &rep->v[i];
		if (v->sev != PROTO_MUST)
			continue;
		w = snprintf(err + used, errlen - used, " %s at %s: %s;", v->rule,
			     v->path, v->msg);
		used += w > 0 ? (size_t)w : 0;
	}
	if (used > 0 && used < errlen && err[used - 1] == ';')
		err[used - 1] = '\0';
}

/* Reads (and bumps past seq, when given) the device's seq counter. */
static int seq_next(mock *m, const char *cid, int64_t *next)
{
	sqlite3_stmt *s = st(m, S_SEQ_GET);
	int e;

	bind_text(s, 1, cid);
	e = sqlite3_step(s);
	*next = e == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 1;
	sqlite3_reset(s);
	return e == SQLITE_ROW || e == SQLITE_DONE ? 0 : MOCK_EDB;
}

static int seq_store(mock *m, const char *cid, int64_t next)
{
	sqlite3_stmt *s = st(m, S_SEQ_SET);

	bind_text(s, 1, cid);
	sqlite3_bind_int64(s, 2, next);
	return done(m, s);
}

int64_t mock__enqueue(mock *m, const char *cid, const cJSON *cmd,
		      int flags, proto_report *rep, char *err, size_t errlen)
{
	bool unchecked = flags & MOCK_Q_UNCHECKED;
	proto_arena a = PROTO_ARENA_INIT;
	proto_report own = {0};
	proto_msg msg;
	cJSON *dup = NULL;
	char *text = NULL;
	const char *member;
	const ckind *k = NULL;
	int64_t rc, next = 1, seq = 0;
	bool has_seq = false, locked = false, tx = false;
	sqlite3_stmt *s;

	if (!rep)
		rep = &own;
	if (!m || !cid_ok(cid)) {
		snprintf(err, errlen, "cid \"%.80s\" is not 1 to 64 printable "
			 "ASCII characters without spaces (docs/protocol.md D33)",
			 cid ? cid : "(null)");
		rc = MOCK_EINVAL;
		goto out;
	}
	if (!(member = one_command(cmd, err, errlen))) {
		rc = MOCK_EBADCMD;
		goto out;
	}
	rc = MOCK_ENOMEM;
	snprintf(err, errlen, "out of memory queuing the command");
	if (!(dup = cJSON_Duplicate(cmd, 1)))
		goto out;
	pthread_mutex_lock(&m->mu);
	locked = true;
	if ((rc = exec(m, S_BEGIN)) < 0)
		goto db;
	tx = true;
	if ((rc = seq_next(m, cid, &next)) < 0)
		goto db;
	if (member_has_seq(member) && !(flags & MOCK_Q_VERBATIM)) {
		cJSON *o = cJSON_GetObjectItemCaseSensitive(dup, member);
		cJSON *sq = cJSON_GetObjectItemCaseSensitive(o, "seq");
		if (cJSON_IsObject(o) && (!sq || (cJSON_IsNumber(sq) &&
						  sq->valuedouble == 0))) {
			cJSON_DeleteItemFromObjectCaseSensitive(o, "seq");
			if (!cJSON_AddNumberToObject(o, "seq", (double)next))
				goto out;
		}
	}
	if (member_has_seq(member))
		has_seq = cmd_seq(dup, member, &seq);
	rc = proto_decode(dup, PROTO_TO_DEVICE, m->prof, &a, &msg, rep);
	if (rc == PROTO_ENOMEM || rep->oom) {
		rc = MOCK_ENOMEM;
		goto out;
	}
	if ((rc < 0 && !(unchecked && rc == PROTO_EBADMSG)) ||
	    msg.kind != PROTO_REPLY || !(k = ckind_of(&msg.u.reply))) {
		must_sentence(rep, err, errlen);
		rc = MOCK_EBADCMD;
		goto out;
	}
	/* the counter moves past a small seq the caller chose, so the
	 * mock's own never repeats it */
	if (has_seq && seq >= next && seq < SEQ_SMALL &&
	    (rc = seq_store(m, cid, seq + 1)) < 0)
		goto db;
	if (!(text = cJSON_PrintUnformatted(dup))) {
		rc = MOCK_ENOMEM;
		goto out;
	}
	s = st(m, S_CMD_ADD);
	bind_text(s, 1, cid);
	bind_text(s, 2, k->name);
	sqlite3_bind_int(s, 3, k->rank);
	bind_text(s, 4, text);
	bind_opt_int(s, 5, has_seq, seq);
	sqlite3_bind_int64(s, 6, mock__now(m));
	if ((rc = done(m, s)) < 0 || (rc = exec(m, S_COMMIT)) < 0)
		goto db;
	tx = false;
	rc = sqlite3_last_insert_rowid(m->db);
	if (errlen)
		err[0] = '\0';
	goto out;
db:
	snprintf(err, errlen, "database %s: %s", m->dbpath,
		 sqlite3_errmsg(m->db));
	rc = MOCK_EDB;
out:
	if (tx)
		exec(m, S_ROLLBACK);
	if (locked)
		pthread_mutex_unlock(&m->mu);
	cJSON_free(text);
	cJSON_Delete(dup);
	proto_arena_free(&a);
	proto_report_free(&own);
	return rc;
}

int64_t mock_enqueue(mock *m, const char *cid, const cJSON *cmd, char *err,
		     size_t errlen)
{
	return mock__enqueue(m, cid, cmd, 0, NULL, err, errlen);
}

int64_t mock_enqueue_flags(mock *m, const char *cid, const cJSON *cmd,
			   int flags, char *err, size_t errlen)
{
	return mock__enqueue(m, cid, cmd, flags, NULL, err, errlen);
}

int64_t mock_enqueue_unchecked(mock *m, const char *cid, const cJSON *cmd,
			       char *err, size_t errlen)
{
	return mock__enqueue(m, cid, cmd, MOCK_Q_UNCHECKED, NULL, err, errlen);
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
	int rc = MOCK_ENOMEM;

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
				      &r->image_len) == BASE_ENOMEM)
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
			return MOCK_EDB;
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
		return MOCK_EDB;
	strbuf_printf(log, "  record #%lld: picture %zu bytes%s%s\n",
			(long long)sqlite3_last_insert_rowid(m->db),
			r->image_len, resend ? ", resent" : "",
			dup ? " (a duplicate)" : "");
	return 0;
}

/* One command in state sent, loaded for settling. */
typedef struct sent {
	int64_t id;
	const ckind *k;
	bool has_seq;
	int64_t seq;
	char *command;
	bool settled;
} sent;

typedef struct settle_ctx {
	mock *m;
	const char *cid;
	const proto_msg *g;
	int64_t msg_id, now;
	strbuf *log;
} settle_ctx;

/* Settles what message g (stored as msg_id) tells about the device's sent
 * commands, by outcome.c's rules (docs/mock.md's "Outcomes"), and stores
 * each state change. */
static int settle_all(settle_ctx *c, sent *v, size_t n)
{
	outcome_cmd *oc = n ? calloc(n, sizeof *oc) : NULL;
	cJSON **cmds = n ? calloc(n, sizeof *cmds) : NULL;
	char label[32];
	int rc = 0;

	if (n && (!oc || !cmds)) {
		rc = MOCK_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!(cmds[i] = cJSON_Parse(v[i].command))) {
			rc = MOCK_ENOMEM;
			goto out;
		}
		oc[i] = (outcome_cmd){.k = v[i].k, .has_seq = v[i].has_seq,
				      .seq = v[i].seq, .command = cmds[i]};
	}
	snprintf(label, sizeof label, "#%lld", (long long)c->msg_id);
	outcome_settle(oc, n, c->g, label);
	for (size_t i = 0; i < n && rc == 0; i++) {
		sqlite3_stmt *s = st(c->m, S_SETTLE);
		mock_state to = oc[i].verdict == OUTCOME_CONFIRMED ?
				MOCK_CONFIRMED : MOCK_FAILED;
		if (oc[i].verdict == OUTCOME_OPEN)
			continue;
		sqlite3_bind_int64(s, 1, v[i].id);
		sqlite3_bind_int(s, 2, (int)to);
		sqlite3_bind_int64(s, 3, c->now);
		sqlite3_bind_int64(s, 4, c->msg_id);
		bind_text(s, 5, oc[i].detail);
		v[i].settled = true;
		strbuf_printf(c->log, "  command #%lld %s: %s (%s)\n",
				(long long)v[i].id, v[i].k->name,
				mock_state_name(to), oc[i].detail);
		rc = done(c->m, s);
	}
out:
	for (size_t i = 0; cmds && i < n; i++)
		cJSON_Delete(cmds[i]);
	free(cmds);
	free(oc);
	return rc;
}

static int load_sent(mock *m, const char *cid, sent **out, size_t *n)
{
	sqlite3_stmt *s = st(m, S_SENT_LIST);
	sent *v = NULL, *nv;
	size_t cap = 0;
	int e;

	*n = 0;
	bind_text(s, 1, cid);
	while ((e = sqlite3_step(s)) == SQLITE_ROW) {
		const ckind *k = ckind_find(col_text(s, 1));
		if (!k)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			if (!(nv = realloc(v, cap * sizeof *v)))
				break;
			v = nv;
		}
		v[*n] = (sent){.id = sqlite3_column_int64(s, 0), .k = k,
			       .has_seq = sqlite3_column_type(s, 2) != SQLITE_NULL,
			       .seq = sqlite3_column_int64(s, 2),
			       .command = strdup(col_text(s, 3) ? col_text(s, 3) : "")};
		if (!v[*n].command)
			break;
		(*n)++;
	}
	sqlite3_reset(s);
	*out = v;
	return e == SQLITE_DONE ? 0 : e == SQLITE_ROW ? MOCK_ENOMEM : MOCK_EDB;
}

static void free_sent(sent *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].command);
	free(v);
}

/* Moves the members of command text into reply (in D5 order: the caller
 * adds by rank). */
static int merge(cJSON *reply, const char *text)
{
	cJSON *c = cJSON_Parse(text), *it;
	int rc = c ? 0 : MOCK_ENOMEM;

	while (c && (it = c->child)) {
		cJSON_DetachItemViaPointer(c, it);
		cJSON_AddItemToObject(reply, it->string, it);
	}
	cJSON_Delete(c);
	return rc;
}

/* How long the device may take to send its next heartbeat, beyond which
 * the timeout runs for commands that only a later message can settle: the
 * gap between its last two heartbeats, or the interval this reply sets
 * when that is longer (0 when neither is known). */
static int heartbeat_wait(mock *m, const char *cid, const cJSON *reply,
			  int64_t *ms)
{
	sqlite3_stmt *s = st(m, S_DEV_INTERVAL);
	const cJSON *ti = cJSON_GetObjectItemCaseSensitive(reply, "time_interval");
	int e;

	*ms = 0;
	bind_text(s, 1, cid);
	e = sqlite3_step(s);
	if (e == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		*ms = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (cJSON_IsNumber(ti) && ti->valuedouble * 1000 > (double)*ms)
		*ms = (int64_t)(ti->valuedouble * 1000);
	return e == SQLITE_ROW || e == SQLITE_DONE ? 0 : MOCK_EDB;
}

/* Chooses the queued commands this reply carries (docs/mock.md,
 * "Replies"), marks them sent and prints the reply into *out (NULL: no
 * command). */
static int pack(settle_ctx *c, const sent *v, size_t n, bool batch_only,
		char **out)
{
	mock *m = c->m;
	bool busy_facelib = false, busy_batch = false;
	int64_t ids[16], wait_ms = 0;
	const ckind *kinds[16];
	size_t taken = 0;
	int last_rank = -1, e, rc = 0;
	cJSON *reply = cJSON_CreateObject();
	sqlite3_stmt *s;

	*out = NULL;
	if (!reply)
		return MOCK_ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!v[i].settled) {
			busy_facelib |= v[i].k->rank == 5;
			busy_batch |= v[i].k->rank == 6;
		}
	s = st(m, S_PENDING);
	bind_text(s, 1, c->cid);
	while (rc == 0 && (e = sqlite3_step(s)) == SQLITE_ROW) {
		const ckind *k = ckind_find(col_text(s, 1));
		int rank = sqlite3_column_int(s, 2);
		if (!k || (batch_only && (k->rank != 6 || taken)) ||
		    rank <= last_rank || (rank == 5 && busy_facelib) ||
		    (rank == 6 && busy_batch))
			break;
		rc = merge(reply, col_text(s, 3));
		kinds[taken] = k;
		ids[taken++] = sqlite3_column_int64(s, 0);
		last_rank = rank;
	}
	sqlite3_reset(s);
	if (rc == 0 && taken && (rc = heartbeat_wait(m, c->cid, reply,
						     &wait_ms)) < 0)
		taken = 0;
	for (size_t i = 0; i < taken && rc == 0; i++) {
		bool later = kinds[i]->result == PROTO_KIND_NONE ||
			     kinds[i]->result == PROTO_HEARTBEAT;
		s = st(m, S_MARK_SENT);
		sqlite3_bind_int64(s, 1, ids[i]);
		sqlite3_bind_int64(s, 2, c->now);
		sqlite3_bind_int64(s, 3, c->msg_id);
		sqlite3_bind_int64(s, 4, c->now + m->timeout_ms +
				   (later ? wait_ms : 0));
		rc = done(m, s);
		strbuf_printf(c->log, "  command #%lld %s: sent\n",
				(long long)ids[i], kinds[i]->name);
	}
	if (rc == 0 && taken && !(*out = cJSON_PrintUnformatted(reply)))
		rc = MOCK_ENOMEM;
	cJSON_Delete(reply);
	return rc;
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
			return MOCK_EDB;
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
	int rc;

	if ((rc = exec(m, S_BEGIN)) < 0)
		return rc;
	if ((rc = expire(m, now)) < 0)
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
	    (rc = load_sent(m, j->cid, &v, &n)) < 0 ||
	    (rc = settle_all(&c, v, n)) < 0)
		goto out;
	/* commands ride on heartbeat replies, and the next batch on the
	 * reply to a batch result (§7's chain, D42, D53) */
	if (!j->no_pack && (j->g->kind == PROTO_HEARTBEAT ||
			    j->g->kind == PROTO_BATCH_RESULT))
		rc = pack(&c, v, n, j->g->kind == PROTO_BATCH_RESULT, &reply);
	if (rc == 0 && reply) {
		s = st(m, S_MSG_REPLY);
		sqlite3_bind_int64(s, 1, x->msg_id);
		bind_text(s, 2, reply);
		rc = done(m, s);
	}
out:
	free_sent(v, n);
	if (rc == 0)
		rc = exec(m, S_COMMIT);
	if (rc < 0) {
		exec(m, S_ROLLBACK);
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
	pthread_mutex_lock(&m->mu);
	rc = ingest_locked(m, &j, x, now);
	if (rc < 0)
		snprintf(why, sizeof why, "%s", sqlite3_errmsg(m->db));
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
	pthread_mutex_lock(&m->mu);
	(void)ingest_locked(m, &j, x, now);
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
		return MOCK_ENOMEM;
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
				return MOCK_ENOMEM;
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

/* Steps s to the end, copying every row into t.  0, MOCK_ENOMEM or
 * MOCK_EDB; s is reset. */
static int copy_rows(sqlite3_stmt *s, crows *t)
{
	int e, rc = 0;

	while (rc == 0 && (e = sqlite3_step(s)) == SQLITE_ROW) {
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 16;
			crow *nv = realloc(t->v, cap * sizeof *nv);
			if (!nv) {
				rc = MOCK_ENOMEM;
				break;
			}
			t->v = nv;
			t->cap = cap;
		}
		rc = copy_row(s, &t->v[t->n]);
		t->n++; /* a partly copied row is freed with the rest */
	}
	if (rc == 0 && e != SQLITE_DONE)
		rc = MOCK_EDB;
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
	{"pending", AS_NUM}, {NULL, AS_NUM}};

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

/* Runs statement id, bound with cid/after/limit (nbind 3), limit alone
 * (1), the id in after (2: one row by id) or nothing (0), copies the rows
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
	pthread_mutex_lock(&m->mu);
	(void)expire(m, mock__now(m));
	s = st(m, id);
	if (nbind == 3) {
		bind_text(s, 1, cid);
		sqlite3_bind_int64(s, 2, after);
		sqlite3_bind_int64(s, 3, limit);
	} else if (nbind == 2) {
		sqlite3_bind_int64(s, 1, after);
	} else if (nbind == 1) {
		sqlite3_bind_int64(s, 1, limit);
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

cJSON *mock__recent_commands(mock *m, size_t n)
{
	return rows(m, S_CMD_RECENT, 1, NULL, 0, clamp_limit(n), row_cmd);
}

cJSON *mock__recent_messages(mock *m, size_t n)
{
	return rows(m, S_MSG_RECENT, 1, NULL, 0, clamp_limit(n), row_msg);
}

cJSON *mock__recent_records(mock *m, size_t n)
{
	return rows(m, S_REC_RECENT, 1, NULL, 0, clamp_limit(n), row_rec);
}

int mock_record_image(mock *m, int64_t id, unsigned char **out, size_t *len)
{
	sqlite3_stmt *s;
	int rc = MOCK_ENOTFOUND;

	*out = NULL;
	*len = 0;
	if (!m)
		return MOCK_EINVAL;
	pthread_mutex_lock(&m->mu);
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
			rc = MOCK_ENOMEM;
		}
	}
	sqlite3_reset(s);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

/* ---------------------------------------------------------------- bodies */

/* Bytes [off, off+n) of column col ("body" or "raw") of message id into
 * buf, under the lock for this chunk only; *total gets the column's size.
 * A row deleted meanwhile (retention) is MOCK_ENOTFOUND. */
static int read_chunk(mock *m, int64_t id, const char *colname, size_t off,
		      void *buf, size_t n, size_t *total)
{
	sqlite3_blob *b = NULL;
	int rc = 0;

	pthread_mutex_lock(&m->mu);
	if (sqlite3_blob_open(m->db, "main", "messages", colname, id, 0, &b) !=
	    SQLITE_OK) {
		rc = MOCK_ENOTFOUND;
		goto out;
	}
	*total = (size_t)sqlite3_blob_bytes(b);
	if (n && (off + n > *total ||
		  sqlite3_blob_read(b, buf, (int)n, (int)off) != SQLITE_OK))
		rc = MOCK_EDB;
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
	int rc = MOCK_ENOTFOUND;

	if (!o)
		return MOCK_ENOTFOUND;
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
		rc = MOCK_ENOMEM;
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
	rc = MOCK_ENOMEM;
	if (!(wire = mock__wire(&head, NULL, &n)) ||
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
		rc = MOCK_EIO; /* the answer is cut short; nothing else to say */
	cJSON_Delete(o);
	cJSON_free(summary);
	free(wire);
	free(buf);
	return rc;
}
