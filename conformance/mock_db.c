/* mock_db.c -- the mock's SQLite file: schema, its upgrade, the prepared
 * statements, open and close.  Owns the database handle and its statements;
 * the queue (mock_queue.c), ingest (mock_ingest.c) and views (mock_view.c)
 * use them through mock_db_int.h.  Knows no HTTP or CivetWeb. */
#include "mock_db_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define MOCK_APP_ID 1668116331 /* PRAGMA application_id: "cmok" */
#define MOCK_VERSION 2

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

static const char refused_sql[] =
	"CREATE INDEX IF NOT EXISTS messages_refused ON messages(id)"
	" WHERE status >= 400;";

/* The columns of the JSON views, in the order of mock_view.c's cmd_cols /
 * rec_cols. */
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

/* Whether device d is online at ?NOW (docs/mock.md, "Online and
 * offline"): its last heartbeat at most 3 intervals old. */
#define ONLINE(now) "(d.last_heartbeat IS NOT NULL AND " now                  \
		    " - d.last_heartbeat <= 3 * max(coalesce(d.interval_ms,"     \
		    " 3000), 1000))"
/* d.cid starts with ?1: a range on the key, then the exact test. */
#define PREFIX "(d.cid >= ?1 AND d.cid < ?1 || char(1114111)"                \
	       " AND substr(d.cid, 1, length(?1)) = ?1)"

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
	/* the NEWEST lists: ids below ?2, newest first, at most ?3; the
	 * DEV ones of device ?1 (on its index), the others of any */
	[S_CMD_NEWEST] = "SELECT " CMD_LIST_COLS " FROM commands c"
			 " WHERE c.id < ?2 ORDER BY c.id DESC LIMIT ?3",
	[S_CMD_DEV_NEWEST] = "SELECT " CMD_LIST_COLS " FROM commands c"
			     " WHERE c.cid = ?1 AND c.id < ?2"
			     " ORDER BY c.id DESC LIMIT ?3",
	[S_DEV_LIST] = "SELECT d.cid, first_seen, last_seen, last_heartbeat,"
		       " last_seq, uptime, app_version, messages, violations,"
		       " (SELECT count(*) FROM commands c WHERE c.cid = d.cid"
		       " AND c.state = 0) FROM devices d ORDER BY d.cid",
	[S_REC_LIST] = "SELECT " REC_COLS " FROM records"
		       " WHERE (?1 IS NULL OR cid = ?1) AND id > ?2"
		       " ORDER BY id LIMIT ?3",
	[S_REC_NEWEST] = "SELECT " REC_COLS " FROM records"
			 " WHERE id < ?2 ORDER BY id DESC LIMIT ?3",
	[S_REC_DEV_NEWEST] = "SELECT " REC_COLS " FROM records"
			     " WHERE cid = ?1 AND id < ?2"
			     " ORDER BY id DESC LIMIT ?3",
	[S_REC_IMAGE] = "SELECT image FROM records WHERE id = ?1",
	/* no body: a listing never reads one (they can be 64 MiB) */
	[S_MSG_LIST] = "SELECT " MSG_COLS " FROM messages"
		       " WHERE (?1 IS NULL OR cid = ?1) AND id > ?2"
		       " ORDER BY id LIMIT ?3",
	[S_MSG_NEWEST] = "SELECT " MSG_COLS " FROM messages"
			 " WHERE id < ?2 ORDER BY id DESC LIMIT ?3",
	[S_MSG_DEV_NEWEST] = "SELECT " MSG_COLS " FROM messages"
			     " WHERE cid = ?1 AND id < ?2"
			     " ORDER BY id DESC LIMIT ?3",
	/* the posts refused (400 and up: not JSON, not V1.16, too big,
	 * too slow, a fault's status), on their partial index */
	[S_MSG_REFUSED] = "SELECT " MSG_COLS " FROM messages"
			  " WHERE status >= 400 AND (?1 IS NULL OR cid = ?1)"
			  " AND id < ?2 ORDER BY id DESC LIMIT ?3",
	[S_MSG_GET] = "SELECT " MSG_COLS " FROM messages WHERE id = ?1",
	[S_VIO_LIST] = "SELECT severity, rule, path, msg FROM violations"
		       " WHERE message_id = ?1 ORDER BY n",
	/* a message's work shares a transaction with others (group
	 * commit): a failure undoes its own part only */
	[S_SAVE] = "SAVEPOINT ingest",
	[S_RELEASE] = "RELEASE ingest",
	[S_UNDO] = "ROLLBACK TO ingest",
	[S_DEV_PAGE] = "SELECT d.cid, first_seen, last_seen, last_heartbeat,"
		       " last_seq, uptime, app_version, messages, violations,"
		       " (SELECT count(*) FROM commands c WHERE c.cid = d.cid"
		       " AND c.state = 0), " ONLINE("?4") " FROM devices d"
		       " WHERE " PREFIX " ORDER BY d.cid LIMIT ?3 OFFSET ?2",
	[S_DEV_COUNT] = "SELECT count(*), coalesce(sum(" ONLINE("?2") "), 0),"
			" coalesce(sum(" PREFIX "), 0) FROM devices d",
	[S_CMD_STATES] = "SELECT state, count(*) FROM commands GROUP BY state",
	[S_REC_COUNT] = "SELECT count(*) FROM records",
};

/* ---------------------------------------------------------------- open */

static int db_fail(mock *m, const char *op, char *err, size_t errlen)
{
	snprintf(err, errlen, "database %s: %s: %s", m->dbpath, op,
		 m->db ? sqlite3_errmsg(m->db) : "cannot allocate a handle");
	return CONF_EDB;
}

/* One integer from sql into *v. */
static int query_int(mock *m, const char *sql, int64_t *v)
{
	sqlite3_stmt *s = NULL;
	int rc = CONF_EDB;

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

	rc = sqlite3_exec(m->db, m->scratch ? "PRAGMA journal_mode = WAL;"
			  "PRAGMA synchronous = OFF;" : "PRAGMA journal_mode = WAL;"
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
		rc = CONF_EDB;
	} else if (ver == 1) {
		if (sqlite3_exec(m->db, upgrade1_sql, NULL, NULL, NULL) != SQLITE_OK)
			rc = db_fail(m, "upgrading schema version 1 to 2", err,
				     errlen);
	} else if (ver != MOCK_VERSION) {
		snprintf(err, errlen, "database %s has schema version %lld; this "
			 "camsim reads version %d", m->dbpath, (long long)ver,
			 MOCK_VERSION);
		rc = CONF_EDB;
	}
	/* The page lists the refused posts among millions of heartbeats:
	 * their own index.  Added to any version 2 file as it is opened (a
	 * camsim without it ignores it, so the version stays). */
	if (rc == 0 && sqlite3_exec(m->db, refused_sql, NULL, NULL, NULL) !=
	    SQLITE_OK)
		rc = db_fail(m, "indexing the refused messages", err, errlen);
out:
	if (sqlite3_exec(m->db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL,
			 NULL) != SQLITE_OK && !rc)
		rc = db_fail(m, "open", err, errlen);
	return rc;
}

int mock__open_count(mock *m)
{
	int64_t n;

	if (query_int(m, "SELECT count(*) FROM commands WHERE state <= 1",
		      &n) < 0)
		return CONF_EDB;
	m->open_cmds = n;
	m->open_known = true;
	return 0;
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
	/* retention's scratch table (mock_retain.c) made now: the temporary
	 * database it opens takes SQLite 100 KB, which at the first pass
	 * minutes into a load run read as a step up in RSS */
	if ((m->retain_age_ms || m->retain_bytes) &&
	    sqlite3_exec(m->db, MOCK_RETAIN_SCRATCH, NULL, NULL, NULL) !=
		    SQLITE_OK) {
		rc = db_fail(m, "creating retention's scratch table", err,
			     errlen);
		goto out;
	}
	m->s = calloc(S_N, sizeof *m->s);
	if (!m->s) {
		snprintf(err, errlen, "out of memory opening %s", m->dbpath);
		rc = CONF_ENOMEM;
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
