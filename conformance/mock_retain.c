/* mock_retain.c -- the mock's retention: deletes messages (with their
 * violations and records) older than --retain AGE, the oldest beyond
 * --retain SIZE of database, and settled commands older than AGE; never
 * an unsettled command.  Works on mock_db.c's tables through m->db under
 * m->mu, in short batches so that devices do not wait behind a pass. */
#include "mock_int.h"

#include <sched.h>
#include <sqlite3.h>
#include <stdio.h>

#define BATCH 32                  /* messages deleted per transaction */
#define EVERY_MS 60000            /* mock clock between passes */
#define EVERY_BYTES (16ll << 20)  /* or body bytes stored since the last */

/* Runs sql (no parameters; the caller formats integers only) in one
 * transaction; *deleted gets the messages it deleted. */
static int batch(mock *m, const char *sql, int *deleted)
{
	int rc;

	*deleted = 0;
	mock__lock(m);
	rc = sqlite3_exec(m->db, "BEGIN IMMEDIATE;DELETE FROM temp.doomed;",
			  NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(m->db, sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(m->db,
			"DELETE FROM violations WHERE message_id IN"
			" (SELECT id FROM temp.doomed);"
			"DELETE FROM records WHERE message_id IN"
			" (SELECT id FROM temp.doomed);"
			"DELETE FROM messages WHERE id IN"
			" (SELECT id FROM temp.doomed);", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		*deleted = sqlite3_changes(m->db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(m->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		sqlite3_exec(m->db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&m->mu);
	/* The devices' turn: a pass at 10,000 devices is 800 batches in a
	 * row, and a mutex is not fair, so without this the pass took the
	 * lock straight back while 100 requests waited (p99 7.7 ms; with
	 * it, 3.0 ms; docs/perf.md). */
	sched_yield();
	return rc == SQLITE_OK ? 0 : CONF_EDB;
}

/* Bytes of the database in use (pages that are not free) and the
 * messages held, counted from the ids (AUTOINCREMENT, deleted oldest
 * first, so the ids between the first and the last are nearly all there;
 * count(*) would read the whole table). */
static int used_bytes(mock *m, int64_t *used, int64_t *msgs)
{
	static const char *const q[] = {"PRAGMA page_count",
					"PRAGMA freelist_count",
					"PRAGMA page_size",
					"SELECT (SELECT max(id) FROM messages) -"
					" (SELECT min(id) FROM messages) + 1"};
	int64_t v[4] = {0};
	int rc = 0;

	mock__lock(m);
	for (int i = 0; i < 4 && rc == 0; i++) {
		sqlite3_stmt *s = NULL;
		if (sqlite3_prepare_v2(m->db, q[i], -1, &s, NULL) != SQLITE_OK ||
		    sqlite3_step(s) != SQLITE_ROW)
			rc = CONF_EDB;
		else
			v[i] = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&m->mu);
	*used = (v[0] - v[1]) * v[2];
	*msgs = v[3];
	return rc;
}

int mock__retain_run(mock *m)
{
	int64_t now = mock__now(m), used, msgs;
	char sql[400];
	int rc = 0, n = BATCH;

	if (!m->retain_age_ms && !m->retain_bytes)
		return 0;
	mock__lock(m);
	m->retain_last = now;
	m->retain_since = 0;
	pthread_mutex_unlock(&m->mu);
	if (m->retain_age_ms) {
		long long cut = (long long)(now - m->retain_age_ms);
		while (rc == 0 && n == BATCH) {
			snprintf(sql, sizeof sql, "INSERT INTO temp.doomed SELECT id "
				 "FROM messages WHERE received_at < %lld ORDER BY id "
				 "LIMIT %d;", cut, BATCH);
			rc = batch(m, sql, &n);
		}
		/* settled only: a pending or sent command is never deleted */
		snprintf(sql, sizeof sql, "DELETE FROM commands WHERE state >= 2"
			 " AND done_at < %lld;", cut);
		if (rc == 0)
			rc = batch(m, sql, &n);
	}
	/* The oldest messages first, the newest always kept, down to 90 % of
	 * the limit so that the next pass is not due at once.  How many to
	 * delete is estimated once from the bytes per message: pages in use
	 * fall behind the deletes (an index page is freed only once all its
	 * entries are gone), so deleting until they fall would take far more
	 * than needed, a few rows per look, and hold the devices up.  Freed
	 * pages are reused, so the file stops growing near the limit. */
	if (rc == 0 && m->retain_bytes &&
	    (rc = used_bytes(m, &used, &msgs)) == 0 && used > m->retain_bytes &&
	    msgs > 0) {
		double per = (double)used / (double)msgs;
		int64_t left = (int64_t)((double)(used - m->retain_bytes +
				m->retain_bytes / 10) / per) + 1;
		for (n = BATCH; rc == 0 && left > 0 && n > 0; left -= n) {
			snprintf(sql, sizeof sql, "INSERT INTO temp.doomed SELECT id "
				 "FROM messages WHERE id < (SELECT max(id) FROM "
				 "messages) ORDER BY id LIMIT %d;",
				 left < BATCH ? (int)left : BATCH);
			rc = batch(m, sql, &n);
		}
	}
	return rc;
}

void mock__retain(mock *m, size_t added)
{
	int64_t now, every;
	bool due;

	if (!m->retain_age_ms && !m->retain_bytes)
		return;
	every = m->retain_bytes && m->retain_bytes / 16 < EVERY_BYTES ?
		m->retain_bytes / 16 : EVERY_BYTES;
	now = mock__now(m);
	mock__lock(m);
	m->retain_since += (int64_t)added;
	due = now - m->retain_last >= EVERY_MS || now < m->retain_last ||
	      m->retain_since >= every;
	if (due) /* one thread runs the pass; others see it not due */
		m->retain_last = now, m->retain_since = 0;
	pthread_mutex_unlock(&m->mu);
	if (due)
		(void)mock__retain_run(m); /* a failed pass is retried next time */
}
