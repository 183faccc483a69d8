/* store.c -- the devices' persistent state in one SQLite file: schema,
 * version check and migration, cached statements, transactions, crash
 * safety and the one-process lock.  Owns DIR/camsim-state.db (and
 * SQLite's -wal/-shm beside it, and camsim-state.db.new while creating it)
 * and DIR/camsim-state.lock, nothing else on disk; knows no JSON, HTTP or
 * device logic and keeps no global state. */
#include "store.h"
#include "sim_err.h"
#include "base.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_FILE "camsim-state.db"
#define STORE_LOCK "camsim-state.lock"
#define STORE_APP_ID 0x63616d73 /* PRAGMA application_id: "cams" */
#define STORE_VERSION 2         /* PRAGMA user_version of this schema */
#define STORE_BUSY_MS 5000

/* Schema version 2.  Descriptors are float32 arrays in little-endian byte
 * order whatever the host.  ord keeps the order people were first added.
 * tally holds each cid's number of people and of records, kept by the
 * triggers (an upsert that replaces a person fires no INSERT trigger), so
 * counting and finding what to drop beyond cap cost no scan.  No foreign
 * keys: nothing refers to another table.  Version 2 added records.rejects
 * (how many times a server refused the record) and the table aside (records
 * refused too often, kept for inspection, out of the retransmission); a
 * version 1 file is migrated at open (migrate_sql). */
#define ASIDE_SQL \
	"CREATE TABLE aside(id INTEGER PRIMARY KEY, cid TEXT NOT NULL," \
	" time INTEGER NOT NULL, body TEXT NOT NULL, rejects INTEGER NOT NULL," \
	" reason TEXT NOT NULL);" \
	"CREATE INDEX aside_cid ON aside(cid, id);"

static const char schema_sql[] =
	"CREATE TABLE kv(cid TEXT NOT NULL, key TEXT NOT NULL,"
	" value TEXT NOT NULL, PRIMARY KEY(cid, key)) WITHOUT ROWID;"
	"CREATE TABLE faces(cid TEXT NOT NULL, id TEXT NOT NULL, name TEXT,"
	" sex TEXT, card_no TEXT, age INTEGER, strategy_id INTEGER NOT NULL,"
	" descriptor BLOB NOT NULL, photo_sha TEXT, ord INTEGER NOT NULL,"
	" PRIMARY KEY(cid, id));"
	"CREATE UNIQUE INDEX faces_ord ON faces(cid, ord);"
	"CREATE TABLE records(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" cid TEXT NOT NULL, time INTEGER NOT NULL, body TEXT NOT NULL,"
	" rejects INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX records_cid ON records(cid, id);"
	ASIDE_SQL
	"CREATE TABLE tally(cid TEXT PRIMARY KEY NOT NULL,"
	" faces INTEGER NOT NULL DEFAULT 0,"
	" records INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"CREATE TRIGGER faces_ins AFTER INSERT ON faces BEGIN"
	" INSERT INTO tally(cid, faces) VALUES(new.cid, 1)"
	" ON CONFLICT(cid) DO UPDATE SET faces = faces + 1; END;"
	"CREATE TRIGGER faces_del AFTER DELETE ON faces BEGIN"
	" UPDATE tally SET faces = faces - 1 WHERE cid = old.cid; END;"
	"CREATE TRIGGER records_ins AFTER INSERT ON records BEGIN"
	" INSERT INTO tally(cid, records) VALUES(new.cid, 1)"
	" ON CONFLICT(cid) DO UPDATE SET records = records + 1; END;"
	"CREATE TRIGGER records_del AFTER DELETE ON records BEGIN"
	" UPDATE tally SET records = records - 1 WHERE cid = old.cid; END;"
	"PRAGMA application_id = 1667329395;" /* STORE_APP_ID */
	"PRAGMA user_version = 2;";

/* From version 1 to 2, in the transaction that checked the version. */
static const char migrate_sql[] =
	"ALTER TABLE records ADD COLUMN rejects INTEGER NOT NULL DEFAULT 0;"
	ASIDE_SQL
	"PRAGMA user_version = 2;";

enum {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_SAVE,
	S_RELEASE,
	S_UNDO,
	S_NEST,
	S_NEST_RELEASE,
	S_NEST_UNDO,
	S_KV_GET,
	S_KV_SET,
	S_KV_DEL,
	S_FACE_PUT,
	S_FACE_DEL,
	S_FACE_CLEAR,
	S_FACE_COUNT,
	S_FACE_LIST,
	S_REC_ADD,
	S_REC_COUNT,
	S_REC_TRIM,
	S_REC_DROPPED,
	S_REC_NEXT,
	S_REC_DEL,
	S_REC_CLEAR,
	S_REC_REJECT,
	S_REC_ASIDE,
	S_ASIDE_COUNT,
	S_ASIDE_LIST,
	S_ASIDE_TRIM,
	S_N
};

static const char *const stmt_sql[S_N] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_SAVE] = "SAVEPOINT unit",
	[S_RELEASE] = "RELEASE unit",
	[S_UNDO] = "ROLLBACK TO unit",
	[S_NEST] = "SAVEPOINT nest",
	[S_NEST_RELEASE] = "RELEASE nest",
	[S_NEST_UNDO] = "ROLLBACK TO nest",
	[S_KV_GET] = "SELECT value FROM kv WHERE cid = ?1 AND key = ?2",
	[S_KV_SET] = "INSERT INTO kv(cid, key, value) VALUES(?1, ?2, ?3)"
		     " ON CONFLICT(cid, key) DO UPDATE SET value = excluded.value",
	[S_KV_DEL] = "DELETE FROM kv WHERE cid = ?1 AND key = ?2",
	[S_FACE_PUT] = "INSERT INTO faces(cid, id, name, sex, card_no, age,"
		       " strategy_id, descriptor, photo_sha, ord)"
		       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
		       " (SELECT coalesce(max(ord), 0) + 1 FROM faces WHERE cid = ?1))"
		       " ON CONFLICT(cid, id) DO UPDATE SET name = excluded.name,"
		       " sex = excluded.sex, card_no = excluded.card_no,"
		       " age = excluded.age, strategy_id = excluded.strategy_id,"
		       " descriptor = excluded.descriptor,"
		       " photo_sha = excluded.photo_sha",
	[S_FACE_DEL] = "DELETE FROM faces WHERE cid = ?1 AND id = ?2",
	[S_FACE_CLEAR] = "DELETE FROM faces WHERE cid = ?1",
	[S_FACE_COUNT] = "SELECT faces FROM tally WHERE cid = ?1",
	[S_FACE_LIST] = "SELECT id, name, sex, card_no, age, strategy_id,"
			" descriptor, photo_sha FROM faces WHERE cid = ?1"
			" ORDER BY ord",
	[S_REC_ADD] = "INSERT INTO records(cid, time, body) VALUES(?1, ?2, ?3)",
	[S_REC_COUNT] = "SELECT records FROM tally WHERE cid = ?1",
	[S_REC_TRIM] = "DELETE FROM records WHERE id IN (SELECT id FROM records"
		       " WHERE cid = ?1 ORDER BY id LIMIT ?2)",
	[S_REC_DROPPED] = "INSERT INTO kv(cid, key, value)"
			  " VALUES(?1, 'records_dropped', CAST(?2 AS TEXT))"
			  " ON CONFLICT(cid, key) DO UPDATE SET"
			  " value = CAST(CAST(value AS INTEGER) + ?2 AS TEXT)",
	[S_REC_NEXT] = "SELECT id, time, body FROM records"
		       " WHERE cid = ?1 AND id > ?2 ORDER BY id LIMIT 1",
	[S_REC_DEL] = "DELETE FROM records WHERE cid = ?1 AND id = ?2",
	[S_REC_CLEAR] = "DELETE FROM records WHERE cid = ?1",
	[S_REC_REJECT] = "UPDATE records SET rejects = rejects + 1"
			 " WHERE cid = ?1 AND id = ?2 RETURNING rejects",
	[S_REC_ASIDE] = "INSERT INTO aside(id, cid, time, body, rejects, reason)"
			" SELECT id, cid, time, body, rejects, ?3 FROM records"
			" WHERE cid = ?1 AND id = ?2",
	[S_ASIDE_COUNT] = "SELECT count(*) FROM aside WHERE cid = ?1",
	[S_ASIDE_TRIM] = "DELETE FROM aside WHERE id IN (SELECT id FROM aside"
			 " WHERE cid = ?1 ORDER BY id DESC LIMIT -1 OFFSET ?2)",
	[S_ASIDE_LIST] = "SELECT id, time, rejects, reason, body FROM aside"
			 " WHERE cid = ?1 ORDER BY id",
};

struct store {
	sqlite3 *db;
	char *path;              /* DIR/camsim-state.db, for messages */
	int lock_fd;             /* DIR/camsim-state.lock, flock'd; -1 */
	sqlite3_stmt *s[S_N];    /* prepared at open, reset after each use */
	int depth;               /* store_begin calls not yet committed or
				    rolled back: 1 the transaction, more
				    its savepoints */
	bool walking;            /* inside store_face_foreach's callback */
	unsigned char *blob;     /* descriptor being written, little-endian */
	size_t blob_cap;
	float *desc;             /* descriptor being read, host floats */
	size_t desc_cap;
	char msg[512];           /* the sentence store_errmsg returns */
};

/* ---- errors ---- */

static int sim_code(int e)
{
	switch (e & 0xff) {
	case SQLITE_NOMEM:
		return SIM_ENOMEM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return SIM_ECORRUPT;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_FULL:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return SIM_EIO;
	}
	return SIM_EDB;
}

/* Sets st->msg to "PATH: op: <fmt>" and returns rc. */
static int fail(store *st, int rc, const char *op, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(st->msg, sizeof st->msg, "%s: %s: ", st->path, op);

	if (n < 0 || (size_t)n >= sizeof st->msg)
		return rc;
	va_start(ap, fmt);
	vsnprintf(st->msg + n, sizeof st->msg - (size_t)n, fmt, ap);
	va_end(ap);
	return rc;
}

/* The SIM_E* code of SQLite's last error, with its message in st->msg. */
static int db_fail(store *st, const char *op)
{
	return fail(st, sim_code(sqlite3_extended_errcode(st->db)), op, "%s",
		    sqlite3_errmsg(st->db));
}

/* Every public call but store_rollback starts here. */
static int enter(store *st, const char *op, const char *cid)
{
	if (!st)
		return SIM_EINVAL;
	if (st->walking)
		return fail(st, SIM_ESTATE, op, "called from inside the "
			    "callback of store_face_foreach");
	if (st->depth && sqlite3_get_autocommit(st->db))
		return fail(st, SIM_ESTATE, op, "SQLite rolled back the "
			    "transaction of store_begin after an earlier "
			    "error; call store_rollback");
	if (!cid)
		return fail(st, SIM_EINVAL, op, "no cid");
	return 0;
}

/* ---- statements ---- */

static int bind_str(sqlite3_stmt *s, int i, const char *v)
{
	return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC)
		 : sqlite3_bind_null(s, i);
}

/* Steps s, which must return no row, and resets it. */
static int step_done(store *st, sqlite3_stmt *s, const char *op)
{
	int rc = 0;

	if (sqlite3_step(s) != SQLITE_DONE)
		rc = db_fail(st, op);
	sqlite3_reset(s);
	return rc;
}

/* Runs a statement without parameters (BEGIN, COMMIT, ...). */
static int run(store *st, int id, const char *op)
{
	return step_done(st, st->s[id], op);
}

/* Runs a statement for its side effect only, keeping st->msg: the undo
 * after a failure, whose own failure changes nothing for the caller. */
static void run_quiet(store *st, int id)
{
	sqlite3_step(st->s[id]);
	sqlite3_reset(st->s[id]);
}

/* Binds cid to ?1 of statement id and steps it; with one integer column,
 * *n gets it (0 when there is no row); otherwise *n gets the changes. */
static int cid_int(store *st, int id, const char *cid, const char *op,
		   int64_t *n)
{
	sqlite3_stmt *s = st->s[id];
	int e, rc = 0;

	if (bind_str(s, 1, cid) != SQLITE_OK) {
		rc = db_fail(st, op);
		goto out;
	}
	e = sqlite3_step(s);
	if (e == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	else if (e == SQLITE_DONE)
		*n = sqlite3_column_count(s) ? 0 : sqlite3_changes64(st->db);
	else
		rc = db_fail(st, op);
out:
	sqlite3_reset(s);
	return rc;
}

/* The atomic unit of a multi-statement write: a transaction of its own,
 * or a savepoint inside the caller's store_begin, so that a failure undoes
 * the whole write and nothing of the caller's. */
static int unit_begin(store *st, const char *op)
{
	return run(st, st->depth ? S_SAVE : S_BEGIN, op);
}

/* Commits the unit when rc >= 0, else undoes it; returns rc or the
 * commit's error. */
static int unit_end(store *st, int rc, const char *op)
{
	if (rc >= 0) {
		int c = run(st, st->depth ? S_RELEASE : S_COMMIT, op);
		if (c == 0)
			return rc;
		rc = c;
	}
	if (sqlite3_get_autocommit(st->db))
		return rc; /* SQLite already rolled everything back */
	if (st->depth) {
		run_quiet(st, S_UNDO);
		run_quiet(st, S_RELEASE);
	} else {
		run_quiet(st, S_ROLLBACK);
	}
	return rc;
}

/* ---- open, close ---- */

/* Runs sql (no parameters); when rows is not NULL, it gets the text of
 * the rows' first column joined by "; " (truncated to rowslen). */
static int exec1(store *st, const char *sql, const char *op, char *rows,
		 size_t rowslen)
{
	sqlite3_stmt *s = NULL;
	size_t used = 0;
	int e, rc = 0;

	if (rows && rowslen)
		rows[0] = '\0';
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		rc = db_fail(st, op);
		goto out;
	}
	while ((e = sqlite3_step(s)) == SQLITE_ROW)
		if (rows && used + 1 < rowslen) {
			const unsigned char *t = sqlite3_column_text(s, 0);
			int n = snprintf(rows + used, rowslen - used, "%s%s",
					 used ? "; " : "",
					 t ? (const char *)t : "");
			used += n > 0 ? (size_t)n : 0;
		}
	if (e != SQLITE_DONE)
		rc = db_fail(st, op);
out:
	sqlite3_finalize(s);
	return rc;
}

/* Whether the file is a camsim state database of this version (0), an
 * empty one (*fresh), one of version 1 to migrate (*old), or something
 * else (SIM_ECORRUPT). */
static int check_schema(store *st, bool *fresh, bool *old)
{
	static const char sql[] =
		"SELECT (SELECT application_id FROM pragma_application_id),"
		" (SELECT user_version FROM pragma_user_version),"
		" (SELECT name FROM sqlite_master"
		" ORDER BY type != 'table', name LIMIT 1)";
	sqlite3_stmt *s = NULL;
	const char *op = "open";
	int rc = 0;
	int64_t app, ver;
	const unsigned char *name;

	*fresh = *old = false;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		rc = db_fail(st, op);
		if (rc == SIM_ECORRUPT)
			rc = fail(st, rc, op, "not a camsim state database "
				  "(SQLite: %s)", sqlite3_errmsg(st->db));
		goto out;
	}
	app = sqlite3_column_int64(s, 0);
	ver = sqlite3_column_int64(s, 1);
	name = sqlite3_column_text(s, 2);
	if (app == 0 && ver == 0 && !name)
		*fresh = true;
	else if (app != STORE_APP_ID && name)
		rc = fail(st, SIM_ECORRUPT, op, "not a camsim state database: "
			  "it holds '%s' and lacks camsim's application_id",
			  (const char *)name);
	else if (app != STORE_APP_ID)
		rc = fail(st, SIM_ECORRUPT, op, "not a camsim state database: "
			  "application_id is %lld, not camsim's %d",
			  (long long)app, STORE_APP_ID);
	else if (ver > STORE_VERSION)
		rc = fail(st, SIM_ECORRUPT, op, "schema version %lld is newer "
			  "than this camsim's %d", (long long)ver, STORE_VERSION);
	else if (ver == 1)
		*old = true;
	else if (ver != STORE_VERSION)
		rc = fail(st, SIM_ECORRUPT, op, "schema version %lld is not "
			  "one camsim wrote", (long long)ver);
out:
	sqlite3_finalize(s);
	return rc;
}

/* Checks the file, switches it to WAL and creates the schema when the
 * file is new.  The first check runs before anything is written, so a
 * foreign file is left untouched; the second, under the write lock,
 * decides whether to create. */
static int setup(store *st)
{
	char mode[16] = "", first[256] = "";
	bool fresh, old;
	int rc;

	rc = check_schema(st, &fresh, &old);
	if (rc < 0)
		goto out;
	rc = exec1(st, "PRAGMA journal_mode = WAL", "open (journal_mode)",
		   mode, sizeof mode);
	if (rc < 0)
		goto out;
	if (strcmp(mode, "wal")) {
		rc = fail(st, SIM_EDB, "open", "cannot use a WAL journal "
			  "(SQLite kept journal_mode '%s')", mode);
		goto out;
	}
	rc = exec1(st, "PRAGMA synchronous = NORMAL", "open (synchronous)",
		   NULL, 0);
	if (rc < 0)
		goto out;
	rc = exec1(st, "BEGIN IMMEDIATE", "open", NULL, 0);
	if (rc < 0)
		goto out;
	rc = check_schema(st, &fresh, &old);
	if (rc == 0 && fresh &&
	    sqlite3_exec(st->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK)
		rc = db_fail(st, "open (creating the schema)");
	if (rc == 0 && old &&
	    sqlite3_exec(st->db, migrate_sql, NULL, NULL, NULL) != SQLITE_OK)
		rc = db_fail(st, "open (migrating schema version 1 to 2)");
	if (rc == 0)
		rc = exec1(st, "COMMIT", "open (creating the schema)", NULL, 0);
	if (rc < 0 && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	if (rc < 0)
		goto out;
	rc = exec1(st, "PRAGMA quick_check", "open (quick_check)", first,
		   sizeof first);
	for (char *c = first; *c; c++)
		if (*c == '\n')
			*c = ' ';
	if (rc == 0 && strcmp(first, "ok"))
		rc = fail(st, SIM_ECORRUPT, "open", "PRAGMA quick_check "
			  "failed: %s", first);
out:
	return rc;
}

static int prepare_all(store *st)
{
	int rc = 0;

	for (int i = 0; i < S_N; i++) {
		int e = sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
					   SQLITE_PREPARE_PERSISTENT, &st->s[i],
					   NULL);
		if (e == SQLITE_ERROR) {
			/* camsim's mark and version, but not its tables */
			rc = fail(st, SIM_ECORRUPT, "open", "not the schema "
				  "camsim wrote: %s", sqlite3_errmsg(st->db));
			goto out;
		}
		if (e != SQLITE_OK) {
			rc = db_fail(st, "open (preparing statements)");
			goto out;
		}
	}
out:
	return rc;
}

/* DIR, created when missing (mode 0777 less the umask). */
static int make_dir(store *st, const char *dir)
{
	struct stat sb;

	if (mkdir(dir, 0777) == 0)
		return 0;
	if (errno != EEXIST)
		return fail(st, SIM_EIO, "open", "cannot create directory %s: %s",
			    dir, strerror(errno));
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return fail(st, SIM_EIO, "open", "%s is not a directory", dir);
	return 0;
}

/* One process per state directory: two would each believe they own the
 * devices, send the same records twice and undo each other's settings.
 * flock on a file of its own (SQLite's own locks are fcntl locks on the
 * database, which flock does not meet), released by the kernel however
 * the holder ends; the holder's pid is written in it for the message. */
static int take_lock(store *st, const char *dir)
{
	char lpath[4096], pid[32] = "";
	ssize_t n;
	int fd;

	snprintf(lpath, sizeof lpath, "%s/%s", dir, STORE_LOCK);
	fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0 && errno == EACCES) /* another user's: flock needs no write */
		fd = open(lpath, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) /* and none can be made here */
		return fail(st, SIM_EIO, "open", "cannot create the lock file "
			    "%s: the state directory is not writable for this "
			    "user, and devices must write their state there; "
			    "make it writable or use another --state", lpath);
	if (fd < 0)
		return fail(st, SIM_EIO, "open", "cannot open the lock file %s: "
			    "%s", lpath, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(fd);
		if (e != EWOULDBLOCK)
			return fail(st, SIM_EIO, "open", "cannot lock %s: %s",
				    lpath, strerror(e));
		return fail(st, SIM_ESTATE, "open", "in use by another camsim "
			    "process (pid %s, holding %s); one state directory "
			    "serves one process: stop that one or give this one "
			    "another --state", *pid ? pid : "unknown", lpath);
	}
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		/* only the message of a second process loses the pid */
	}
	st->lock_fd = fd;
	return 0;
}

/* A database file of 0 bytes is what a truncation or a failed copy
 * leaves; SQLite would take it for a new database and every device would
 * start over as new, its library and records gone.  Refused unless the
 * WAL beside it holds the data (a database created and killed before its
 * first checkpoint). */
static int refuse_empty(store *st)
{
	char wal[4096];
	struct stat sb;

	if (stat(st->path, &sb) < 0 || sb.st_size > 0)
		return 0;
	snprintf(wal, sizeof wal, "%s-wal", st->path);
	if (stat(wal, &sb) == 0 && sb.st_size > 0)
		return 0;
	return fail(st, SIM_ECORRUPT, "open", "the file is empty (0 bytes), "
		    "so it holds no device; refusing to start the devices "
		    "anew over it.  If the devices should start new, delete "
		    "the file; otherwise restore it from a backup");
}

/* A new state file is made whole under DIR/camsim-state.db.new and
 * renamed into place, so that a process killed while creating it never
 * leaves an empty camsim-state.db behind: an empty one is then always
 * damage (refuse_empty), never our own unfinished work. */
static int create_new(store *st)
{
	static const char *const sfx[] = {"", "-wal", "-shm"};
	char tmp[4200], f[4210];
	int rc;

	snprintf(tmp, sizeof tmp, "%s.new", st->path);
	for (size_t i = 0; i < ARRAY_SIZE(sfx); i++) {
		snprintf(f, sizeof f, "%s%s", tmp, sfx[i]);
		unlink(f); /* what an earlier, killed creation left */
	}
	if (sqlite3_open_v2(tmp, &st->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		rc = st->db ? db_fail(st, "open (creating)")
			    : fail(st, SIM_ENOMEM, "open", "out of memory");
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	rc = setup(st);
out:
	/* the last connection: the WAL is checkpointed and removed */
	sqlite3_close(st->db);
	st->db = NULL;
	/* a WAL left by a database someone deleted must not be replayed
	 * onto the new one */
	for (size_t i = 1; rc == 0 && i < ARRAY_SIZE(sfx); i++) {
		snprintf(f, sizeof f, "%s%s", st->path, sfx[i]);
		unlink(f);
	}
	if (rc == 0 && rename(tmp, st->path) < 0)
		rc = fail(st, SIM_EIO, "open", "cannot rename %s into place: %s",
			  tmp, strerror(errno));
	return rc;
}

int store_open(const char *dir, store **out, char *err, size_t errlen)
{
	store *st = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (!dir || !*dir || !out) {
		rc = SIM_EINVAL;
		if (err && errlen)
			snprintf(err, errlen, "store_open: no directory given");
		goto out;
	}
	st = calloc(1, sizeof *st);
	if (st)
		st->lock_fd = -1;
	if (st)
		st->path = malloc(strlen(dir) + sizeof "/" STORE_FILE);
	if (!st || !st->path) {
		rc = SIM_ENOMEM;
		if (err && errlen)
			snprintf(err, errlen, "%s/%s: open: out of memory", dir,
				 STORE_FILE);
		goto out;
	}
	sprintf(st->path, "%s/%s", dir, STORE_FILE);
	rc = make_dir(st, dir);
	if (rc < 0)
		goto out;
	rc = take_lock(st, dir);
	if (rc < 0)
		goto out;
	rc = refuse_empty(st);
	if (rc < 0)
		goto out;
	if (access(st->path, F_OK) < 0 && errno == ENOENT) {
		rc = create_new(st);
		if (rc < 0)
			goto out;
	}
	if (sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		rc = st->db ? db_fail(st, "open")
			    : fail(st, SIM_ENOMEM, "open", "out of memory");
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	/* SQLite opens a file it may not write read-only without a word,
	 * and every record written later would fail: refuse now. */
	if (sqlite3_db_readonly(st->db, "main") == 1) {
		rc = fail(st, SIM_EIO, "open", "the file is read-only for this "
			  "user, and devices must write their records to it; "
			  "make it writable (chmod u+w) or use another --state");
		goto out;
	}
	rc = setup(st);
	if (rc < 0)
		goto out;
	rc = prepare_all(st);
out:
	if (rc < 0 && st && st->path && err && errlen)
		snprintf(err, errlen, "%s", st->msg);
	if (rc < 0) {
		store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

void store_close(store *st)
{
	if (!st)
		return;
	if (st->db && st->depth && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	for (int i = 0; i < S_N; i++)
		sqlite3_finalize(st->s[i]);
	sqlite3_close(st->db);
	if (st->lock_fd >= 0)
		close(st->lock_fd); /* releases the flock */
	free(st->blob);
	free(st->desc);
	free(st->path);
	free(st);
}

const char *store_errmsg(const store *st)
{
	return st ? st->msg : "no store";
}

/* ---- transactions ---- */

int store_begin(store *st)
{
	int rc = enter(st, "begin", "");

	if (rc < 0)
		return rc;
	/* nested: a savepoint, so that a caller grouping many devices' set-up
	 * (each with its own begin..commit) pays for one transaction */
	rc = run(st, st->depth ? S_NEST : S_BEGIN, "begin");
	if (rc == 0)
		st->depth++;
	return rc;
}

int store_commit(store *st)
{
	int rc;

	if (!st)
		return SIM_EINVAL;
	if (!st->depth)
		return fail(st, SIM_ESTATE, "commit", "no transaction is open");
	rc = enter(st, "commit", "");
	if (rc < 0)
		return rc;
	if (st->depth > 1) {
		/* the writes wait for the outer commit; a failed release
		 * leaves the savepoint for store_rollback */
		rc = run(st, S_NEST_RELEASE, "commit");
		if (rc == 0)
			st->depth--;
		return rc;
	}
	rc = run(st, S_COMMIT, "commit");
	if (rc < 0 && !sqlite3_get_autocommit(st->db))
		run_quiet(st, S_ROLLBACK);
	st->depth = 0;
	return rc;
}

int store_rollback(store *st)
{
	int rc = 0;

	if (!st)
		return SIM_EINVAL;
	if (st->walking)
		return fail(st, SIM_ESTATE, "rollback", "called from inside the "
			    "callback of store_face_foreach");
	if (!st->depth)
		return fail(st, SIM_ESTATE, "rollback", "no transaction is open");
	if (sqlite3_get_autocommit(st->db)) {
		/* SQLite undid the whole transaction already */
	} else if (st->depth > 1) {
		rc = run(st, S_NEST_UNDO, "rollback");
		if (rc == 0)
			rc = run(st, S_NEST_RELEASE, "rollback");
	} else {
		rc = run(st, S_ROLLBACK, "rollback");
	}
	st->depth--;
	return rc;
}

/* ---- settings ---- */

int store_kv_get(store *st, const char *cid, const char *key, char **val)
{
	static const char op[] = "kv get";
	sqlite3_stmt *s;
	int e, rc;

	if (val)
		*val = NULL;
	rc = enter(st, op, cid);
	if (rc < 0)
		return rc;
	if (!key || !val)
		return fail(st, SIM_EINVAL, op, "no key or no place for the value");
	s = st->s[S_KV_GET];
	if (bind_str(s, 1, cid) != SQLITE_OK || bind_str(s, 2, key) != SQLITE_OK) {
		rc = db_fail(st, op);
		goto out;
	}
	e = sqlite3_step(s);
	if (e == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);
		size_t n = (size_t)sqlite3_column_bytes(s, 0);
		if (!t) {
			rc = fail(st, SIM_ECORRUPT, op, "key '%s' of %s has no "
				  "text value", key, cid);
			goto out;
		}
		*val = malloc(n + 1);
		if (!*val) {
			rc = fail(st, SIM_ENOMEM, op, "out of memory");
			goto out;
		}
		memcpy(*val, t, n + 1);
	} else if (e != SQLITE_DONE) {
		rc = db_fail(st, op);
	}
out:
	sqlite3_reset(s);
	return rc;
}

int store_kv_set(store *st, const char *cid, const char *key, const char *val)
{
	static const char op[] = "kv set";
	sqlite3_stmt *s;
	int e, rc;

	rc = enter(st, op, cid);
	if (rc < 0)
		return rc;
	if (!key)
		return fail(st, SIM_EINVAL, op, "no key");
	s = st->s[val ? S_KV_SET : S_KV_DEL];
	e = bind_str(s, 1, cid);
	if (e == SQLITE_OK)
		e = bind_str(s, 2, key);
	if (e == SQLITE_OK && val)
		e = bind_str(s, 3, val);
	if (e != SQLITE_OK) {
		rc = db_fail(st, op);
		sqlite3_reset(s);
		return rc;
	}
	return step_done(st, s, op);
}

/* ---- face library ---- */

/* The descriptor as little-endian float32 bytes in st->blob. */
static int desc_encode(store *st, const float *d, size_t n)
{
	size_t need = n * 4;

	if (need > st->blob_cap) {
		unsigned char *b = realloc(st->blob, need);
		if (!b)
			return SIM_ENOMEM;
		st->blob = b;
		st->blob_cap = need;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t v;
		memcpy(&v, &d[i], 4);
		st->blob[4 * i] = (unsigned char)v;
		st->blob[4 * i + 1] = (unsigned char)(v >> 8);
		st->blob[4 * i + 2] = (unsigned char)(v >> 16);
		st->blob[4 * i + 3] = (unsigned char)(v >> 24);
	}
	return 0;
}

/* n little-endian float32 from b into st->desc. */
static int desc_decode(store *st, const unsigned char *b, size_t n)
{
	if (n > st->desc_cap) {
		float *d = realloc(st->desc, n * sizeof *d);
		if (!d)
			return SIM_ENOMEM;
		st->desc = d;
		st->desc_cap = n;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t v = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
			     (uint32_t)b[4 * i + 2] << 16 |
			     (uint32_t)b[4 * i + 3] << 24;
		memcpy(&st->desc[i], &v, 4);
	}
	return 0;
}

int store_face_put(store *st, const char *cid, const store_face *f)
{
	static const char op[] = "face put";
	sqlite3_stmt *s = NULL;
	int e, rc;

	rc = enter(st, op, cid);
	if (rc < 0)
		return rc;
	if (!f || !f->id || strlen(f->id) > 35 || (f->n_desc && !f->desc) ||
	    f->n_desc > INT_MAX / 4)
		return fail(st, SIM_EINVAL, op, "no person, an id missing or "
			    "over 35 bytes, or a bad descriptor");
	rc = desc_encode(st, f->desc, f->n_desc);
	if (rc < 0)
		return fail(st, rc, op, "out of memory");
	s = st->s[S_FACE_PUT];
	e = bind_str(s, 1, cid);
	if (e == SQLITE_OK)
		e = bind_str(s, 2, f->id);
	if (e == SQLITE_OK)
		e = bind_str(s, 3, f->name);
	if (e == SQLITE_OK)
		e = bind_str(s, 4, f->sex);
	if (e == SQLITE_OK)
		e = bind_str(s, 5, f->card_no);
	if (e == SQLITE_OK)
		e = f->has_age ? sqlite3_bind_int64(s, 6, f->age)
			       : sqlite3_bind_null(s, 6);
	if (e == SQLITE_OK)
		e = sqlite3_bind_int64(s, 7, f->strategy_id);
	if (e == SQLITE_OK)
		e = f->n_desc ? sqlite3_bind_blob(s, 8, st->blob,
						  (int)(f->n_desc * 4),
						  SQLITE_STATIC)
			      : sqlite3_bind_zeroblob(s, 8, 0);
	if (e == SQLITE_OK)
		e = bind_str(s, 9, f->photo_sha);
	if (e != SQLITE_OK) {
		rc = db_fail(st, op);
		sqlite3_reset(s);
		return rc;
	}
	return step_done(st, s, op);
}

/* Binds (cid, text) and runs a DELETE; SIM_ENOTFOUND when it deleted
 * nothing. */
static int del_one(store *st, int id, const char *op, const char *cid,
		   const char *what, const char *key, int64_t num)
{
	sqlite3_stmt *s = st->s[id];
	int e, rc;

	e = bind_str(s, 1, cid);
	if (e == SQLITE_OK)
		e = key ? bind_str(s, 2, key) : sqlite3_bind_int64(s, 2, num);
	if (e != SQLITE_OK) {
		rc = db_fail(st, op);
		sqlite3_reset(s);
		return rc;
	}
	rc = step_done(st, s, op);
	if (rc == 0 && sqlite3_changes64(st->db) == 0) {
		if (key)
			rc = fail(st, SIM_ENOTFOUND, op, "%s has no %s '%s'",
				  cid, what, key);
		else
			rc = fail(st, SIM_ENOTFOUND, op, "%s has no %s %lld",
				  cid, what, (long long)num);
	}
	return rc;
}

int store_face_del(store *st, const char *cid, const char *id)
{
	int rc = enter(st, "face del", cid);

	if (rc < 0)
		return rc;
	if (!id)
		return fail(st, SIM_EINVAL, "face del", "no person id");
	return del_one(st, S_FACE_DEL, "face del", cid, "person", id, 0);
}

int store_face_clear(store *st, const char *cid, int64_t *n)
{
	int64_t k = 0;
	int rc = enter(st, "face clear", cid);

	if (rc == 0)
		rc = cid_int(st, S_FACE_CLEAR, cid, "face clear", &k);
	if (n)
		*n = rc == 0 ? k : 0;
	return rc;
}

int store_face_count(store *st, const char *cid, int64_t *n)
{
	int64_t k = 0;
	int rc = enter(st, "face count", cid);

	if (rc == 0 && !n)
		rc = fail(st, SIM_EINVAL, "face count", "no place for the count");
	if (rc == 0)
		rc = cid_int(st, S_FACE_COUNT, cid, "face count", &k);
	if (n)
		*n = k;
	return rc;
}

/* The row of S_FACE_LIST as a store_face (descriptor in st->desc). */
static int face_row(store *st, sqlite3_stmt *s, const char *cid,
		    store_face *f)
{
	static const char op[] = "face list";
	const unsigned char *b;
	size_t n;
	int t;

	memset(f, 0, sizeof *f);
	if (sqlite3_column_type(s, 0) != SQLITE_TEXT)
		return fail(st, SIM_ECORRUPT, op, "a person of %s has no text id",
			    cid);
	f->id = (const char *)sqlite3_column_text(s, 0);
	f->name = (const char *)sqlite3_column_text(s, 1);
	f->sex = (const char *)sqlite3_column_text(s, 2);
	f->card_no = (const char *)sqlite3_column_text(s, 3);
	f->has_age = sqlite3_column_type(s, 4) != SQLITE_NULL;
	f->age = f->has_age ? sqlite3_column_int64(s, 4) : 0;
	f->strategy_id = sqlite3_column_int64(s, 5);
	f->photo_sha = (const char *)sqlite3_column_text(s, 7);
	t = sqlite3_column_type(s, 6);
	if (t != SQLITE_BLOB && t != SQLITE_NULL)
		return fail(st, SIM_ECORRUPT, op, "person '%s' of %s has a "
			    "descriptor that is not a BLOB", f->id, cid);
	b = sqlite3_column_blob(s, 6);
	n = (size_t)sqlite3_column_bytes(s, 6);
	if (n % 4)
		return fail(st, SIM_ECORRUPT, op, "person '%s' of %s has a "
			    "descriptor of %zu bytes, not a whole number of "
			    "float32", f->id, cid, n);
	if (n && desc_decode(st, b, n / 4) < 0)
		return fail(st, SIM_ENOMEM, op, "out of memory");
	f->n_desc = n / 4;
	f->desc = n ? st->desc : NULL;
	return 0;
}

int store_face_foreach(store *st, const char *cid,
		       store_face_cb fn, void *ud)
{
	static const char op[] = "face list";
	sqlite3_stmt *s;
	int e, rc;

	rc = enter(st, op, cid);
	if (rc < 0)
		return rc;
	if (!fn)
		return fail(st, SIM_EINVAL, op, "no callback");
	s = st->s[S_FACE_LIST];
	if (bind_str(s, 1, cid) != SQLITE_OK) {
		rc = db_fail(st, op);
		goto out;
	}
	st->walking = true;
	while ((e = sqlite3_step(s)) == SQLITE_ROW) {
		store_face f;
		rc = face_row(st, s, cid, &f);
		if (rc < 0)
			goto out;
		rc = fn(&f, ud);
		if (rc)
			goto out;
	}
	if (e != SQLITE_DONE)
		rc = db_fail(st, op);
out:
	st->walking = false;
	sqlite3_reset(s);
	return rc;
}

/* ---- offline snapshot records ---- */

int store_rec_add(store *st, const char *cid, int64_t time, const char *body,
		  size_t len, int64_t cap, int64_t *id, int64_t *dropped)
{
	static const char op[] = "record add";
	sqlite3_stmt *s;
	int64_t n = 0, nid = 0, drop = 0;
	int e, rc;

	rc = enter(st, op, cid);
	if (rc < 0)
		return rc;
	if ((!body && len) || len > INT_MAX || cap < 1)
		return fail(st, SIM_EINVAL, op, "no body, a body over 2 GiB or "
			    "a cap below 1");
	rc = unit_begin(st, op);
	if (rc < 0)
		return rc;
	s = st->s[S_REC_ADD];
	e = bind_str(s, 1, cid);
	if (e == SQLITE_OK)
		e = sqlite3_bind_int64(s, 2, time);
	if (e == SQLITE_OK)
		e = sqlite3_bind_text(s, 3, body ? body : "", (int)len,
				      SQLITE_STATIC);
	if (e != SQLITE_OK) {
		rc = db_fail(st, op);
		sqlite3_reset(s);
		goto out;
	}
	rc = step_done(st, s, op);
	if (rc < 0)
		goto out;
	nid = sqlite3_last_insert_rowid(st->db);
	rc = cid_int(st, S_REC_COUNT, cid, op, &n);
	if (rc < 0 || n <= cap)
		goto out;
	s = st->s[S_REC_TRIM];
	e = bind_str(s, 1, cid);
	if (e == SQLITE_OK)
		e = sqlite3_bind_int64(s, 2, n - cap);
	if (e != SQLITE_OK) {
		rc = db_fail(st, op);
		sqlite3_reset(s);
		goto out;
	}
	rc = step_done(st, s, op);
	if (rc < 0)
		goto out;
	drop = sqlite3_changes64(st->db);
	s = st->s[S_REC_DROPPED];
	e = bind_str(s, 1, cid);
	if (e == SQLITE_OK)
		e = sqlite3_bind_int64(s, 2, drop);
	if (e != SQLITE_OK) {
		rc = db_fail(st, op);
		sqlite3_reset(s);
		goto out;
	}
	rc = step_done(st, s, op);
out:
	rc = unit_end(st, rc, op);
	if (id)
		*id = rc == 0 ? nid : 0;
	if (dropped)
		*dropped = rc == 0 ? drop : 0;
	return rc;
}

int store_rec_count(store *st, const char *cid, int64_t *n)
{
	int64_t k = 0;
	int rc = enter(st, "record count", cid);

	if (rc == 0 && !n)
		rc = fail(st, SIM_EINVAL, "record count", "no place for the count");
	if (rc == 0)
		rc = cid_int(st, S_REC_COUNT, cid, "record count", &k);
	if (n)
		*n = k;
	return rc;
}

int store_rec_next(store *st, const char *cid, int64_t after, int64_t *id,
		   int64_t *time, char **body, size_t *len)
{
	static const char op[] = "record next";
	sqlite3_stmt *s;
	int e, rc;

	if (body)
		*body = NULL;
	if (len)
		*len = 0;
	rc = enter(st, op, cid);
	if (rc < 0)
		return rc;
	s = st->s[S_REC_NEXT];
	e = bind_str(s, 1, cid);
	if (e == SQLITE_OK)
		e = sqlite3_bind_int64(s, 2, after);
	if (e != SQLITE_OK) {
		rc = db_fail(st, op);
		goto out;
	}
	e = sqlite3_step(s);
	if (e == SQLITE_DONE) {
		rc = fail(st, SIM_ENOTFOUND, op, "%s has no record after %lld",
			  cid, (long long)after);
		goto out;
	}
	if (e != SQLITE_ROW) {
		rc = db_fail(st, op);
		goto out;
	}
	if (id)
		*id = sqlite3_column_int64(s, 0);
	if (time)
		*time = sqlite3_column_int64(s, 1);
	if (body) {
		const unsigned char *t = sqlite3_column_text(s, 2);
		size_t n = (size_t)sqlite3_column_bytes(s, 2);
		*body = malloc(n + 1);
		if (!*body) {
			rc = fail(st, SIM_ENOMEM, op, "out of memory");
			goto out;
		}
		if (n)
			memcpy(*body, t, n);
		(*body)[n] = '\0';
		if (len)
			*len = n;
	}
out:
	sqlite3_reset(s);
	return rc;
}

int store_rec_del(store *st, const char *cid, int64_t id)
{
	int rc = enter(st, "record del", cid);

	if (rc < 0)
		return rc;
	return del_one(st, S_REC_DEL, "record del", cid, "record", NULL, id);
}

int store_rec_clear(store *st, const char *cid, int64_t *n)
{
	int64_t k = 0;
	int rc = enter(st, "record clear", cid);

	if (rc == 0)
		rc = cid_int(st, S_REC_CLEAR, cid, "record clear", &k);
	if (n)
		*n = rc == 0 ? k : 0;
	return rc;
}

/* ---- records set aside ---- */

int store_rec_reject(store *st, const char *cid, int64_t id, int64_t *rejects)
{
	static const char op[] = "record reject";
	sqlite3_stmt *s;
	int e, rc;

	if (rejects)
		*rejects = 0;
	rc = enter(st, op, cid);
	if (rc < 0)
		return rc;
	s = st->s[S_REC_REJECT];
	e = bind_str(s, 1, cid);
	if (e == SQLITE_OK)
		e = sqlite3_bind_int64(s, 2, id);
	if (e != SQLITE_OK) {
		rc = db_fail(st, op);
		goto out;
	}
	e = sqlite3_step(s);
	if (e == SQLITE_ROW) {
		if (rejects)
			*rejects = sqlite3_column_int64(s, 0);
		e = sqlite3_step(s);
	}
	if (e != SQLITE_DONE)
		rc = db_fail(st, op);
	else if (sqlite3_changes64(st->db) == 0)
		rc = fail(st, SIM_ENOTFOUND, op, "%s has no record %lld", cid,
			  (long long)id);
out:
	sqlite3_reset(s);
	return rc;
}

int store_rec_aside(store *st, const char *cid, int64_t id, const char *reason,
		    int64_t cap)
{
	static const char op[] = "record set aside";
	sqlite3_stmt *s;
	int e, rc;

	rc = enter(st, op, cid);
	if (rc < 0)
		return rc;
	if (!reason || cap < 1)
		return fail(st, SIM_EINVAL, op, "no reason or a cap below 1");
	rc = unit_begin(st, op);
	if (rc < 0)
		return rc;
	s = st->s[S_REC_ASIDE];
	e = bind_str(s, 1, cid);
	if (e == SQLITE_OK)
		e = sqlite3_bind_int64(s, 2, id);
	if (e == SQLITE_OK)
		e = bind_str(s, 3, reason);
	if (e != SQLITE_OK) {
		rc = db_fail(st, op);
		sqlite3_reset(s);
		goto out;
	}
	rc = step_done(st, s, op);
	if (rc == 0)
		rc = del_one(st, S_REC_DEL, op, cid, "record", NULL, id);
	if (rc < 0)
		goto out;
	s = st->s[S_ASIDE_TRIM];
	e = bind_str(s, 1, cid);
	if (e == SQLITE_OK)
		e = sqlite3_bind_int64(s, 2, cap);
	if (e != SQLITE_OK) {
		rc = db_fail(st, op);
		sqlite3_reset(s);
		goto out;
	}
	rc = step_done(st, s, op);
out:
	return unit_end(st, rc, op);
}

int store_aside_count(store *st, const char *cid, int64_t *n)
{
	int64_t k = 0;
	int rc = enter(st, "set-aside count", cid);

	if (rc == 0 && !n)
		rc = fail(st, SIM_EINVAL, "set-aside count", "no place for the "
			  "count");
	if (rc == 0)
		rc = cid_int(st, S_ASIDE_COUNT, cid, "set-aside count", &k);
	if (n)
		*n = k;
	return rc;
}

int store_aside_foreach(store *st, const char *cid,
			store_aside_cb fn, void *ud)
{
	static const char op[] = "set-aside list";
	sqlite3_stmt *s;
	int e, rc;

	rc = enter(st, op, cid);
	if (rc < 0)
		return rc;
	if (!fn)
		return fail(st, SIM_EINVAL, op, "no callback");
	s = st->s[S_ASIDE_LIST];
	if (bind_str(s, 1, cid) != SQLITE_OK) {
		rc = db_fail(st, op);
		goto out;
	}
	st->walking = true;
	while ((e = sqlite3_step(s)) == SQLITE_ROW) {
		store_aside r = {
			.id = sqlite3_column_int64(s, 0),
			.time = sqlite3_column_int64(s, 1),
			.rejects = sqlite3_column_int64(s, 2),
			.reason = (const char *)sqlite3_column_text(s, 3),
			.body = (const char *)sqlite3_column_text(s, 4),
			.len = (size_t)sqlite3_column_bytes(s, 4),
		};
		if (!r.reason)
			r.reason = "";
		if (!r.body)
			r.body = "";
		rc = fn(&r, ud);
		if (rc)
			goto out;
	}
	if (e != SQLITE_DONE)
		rc = db_fail(st, op);
out:
	st->walking = false;
	sqlite3_reset(s);
	return rc;
}
