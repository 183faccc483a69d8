/* mock_db_int.h -- what the parts of the mock's database share: the
 * statements (mock_db.c prepares them), the helpers that run them, and the
 * settle and pack steps mock_queue.c lends to mock_ingest.c.  Not for use
 * outside conformance/mock_db.c, mock_queue.c, mock_ingest.c, mock_view.c. */
#ifndef CAMSIM_MOCK_DB_INT_H
#define CAMSIM_MOCK_DB_INT_H

#include "mock_int.h"
#include "outcome.h"

#include <cJSON.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* The prepared statements, m->s[S_*]; their SQL is mock_db.c's stmt_sql. */
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
	S_CMD_NEWEST,
	S_CMD_DEV_NEWEST,
	S_DEV_LIST,
	S_REC_LIST,
	S_REC_NEWEST,
	S_REC_DEV_NEWEST,
	S_REC_IMAGE,
	S_MSG_LIST,
	S_MSG_GET,
	S_MSG_NEWEST,
	S_MSG_DEV_NEWEST,
	S_MSG_REFUSED,
	S_VIO_LIST,
	S_SAVE,
	S_RELEASE,
	S_UNDO,
	S_DEV_PAGE,
	S_DEV_COUNT,
	S_CMD_STATES,
	S_REC_COUNT,
	S_N
};

/* The helpers below are static inline so that the four files keep their
 * short names without exporting them from the library. */

/* The statement, reset and unbound: ready for binding. */
static inline sqlite3_stmt *st(mock *m, int id)
{
	sqlite3_stmt *s = m->s[id];
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

static inline void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static inline void bind_opt_int(sqlite3_stmt *s, int i, bool has, int64_t v)
{
	if (has)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/* Steps a statement that returns no row; CONF_EDB when it fails. */
static inline int done(mock *m, sqlite3_stmt *s)
{
	int e = sqlite3_step(s);
	sqlite3_reset(s);
	(void)m;
	return e == SQLITE_DONE ? 0 : CONF_EDB;
}

static inline int exec(mock *m, int id)
{
	return done(m, st(m, id));
}

static inline const char *col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* Marks every command sent longer than the timeout ago as timed out:
 * run lazily before anything reads or changes command states, so a
 * jumping virtual clock needs no timer. */
static inline int expire(mock *m, int64_t now)
{
	sqlite3_stmt *s = st(m, S_TIMEOUT);
	int rc;

	sqlite3_bind_int64(s, 1, now);
	if ((rc = done(m, s)) == 0)
		m->open_cmds -= sqlite3_changes(m->db);
	return rc;
}

/* Command kinds, their apply order and their settling messages are
 * outcome.c's (shared with the runner's exchange tracker). */
typedef outcome_kind ckind;
#define ckind_find outcome_kind_find
#define ckind_of outcome_kind_of
#define member_has_seq outcome_member_has_seq
#define is_reply_member outcome_is_member

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

/* Counts the commands pending or sent into m->open_cmds (the lean
 * path's bound, mock_int.h).  0 or CONF_EDB.  Under mu. */
int mock__open_count(mock *m);

/* ---- mock_queue.c: what ingest does with a device's commands ---- */

/* Loads the device's commands in state sent into *out (*n of them; free
 * with mock__free_sent, also after an error).  0, CONF_ENOMEM, CONF_EDB. */
int mock__load_sent(mock *m, const char *cid, sent **out, size_t *n);
void mock__free_sent(sent *v, size_t n);
/* Settles what message c->g (stored as c->msg_id) tells about the device's
 * sent commands v[0..n), by outcome.c's rules (docs/mock.md's "Outcomes"),
 * and stores each state change (sets v[i].settled).  0, CONF_ENOMEM,
 * CONF_EDB.  Under m->mu, inside ingest's transaction. */
int mock__settle_all(settle_ctx *c, sent *v, size_t n);
/* Chooses the queued commands this reply carries (docs/mock.md,
 * "Replies"), marks them sent and prints the reply into *out (malloc'd
 * by cJSON; NULL: no command).  batch_only: the reply to a batch result,
 * which carries the next facelib_batch alone.  0, CONF_ENOMEM, CONF_EDB.
 * Under m->mu, inside ingest's transaction. */
int mock__pack(settle_ctx *c, const sent *v, size_t n, bool batch_only,
	       char **out);

#endif
