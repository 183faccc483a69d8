/* store.h -- the simulated devices' persistent state: one SQLite database
 * (DIR/camsim-state.db) shared by every device of a process, each row keyed
 * by the device's cid.  Owns the schema, transactions and crash safety;
 * knows nothing of HTTP, the protocol's JSON or the event loop.
 *
 * Crash safety: WAL journal, synchronous=NORMAL, every public write is one
 * transaction (or part of the caller's store_begin..store_commit), so a
 * process killed with SIGKILL at any moment restarts with every committed
 * change and nothing half-written (a power cut may lose the last commits,
 * as synchronous=NORMAL allows, but never tears one).  All calls are for
 * one thread.  Every call returns 0 or a SIM_E* code (SIM_EINVAL for a
 * missing argument) and, on failure, leaves a sentence in store_errmsg.
 *
 * Each write on its own is a transaction and pays for a commit (tens of
 * microseconds, mostly system calls); bulk writes grouped in
 * store_begin..store_commit cost an order of magnitude less each. */
#ifndef CAMSIM_STORE_H
#define CAMSIM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store;

/* Opens or creates DIR/camsim-state.db (DIR is created when missing, one
 * level, mode 0777 less the umask).  Returns 0 and *out, or a SIM_E* code
 * with a sentence naming the file and the cause in err (SIM_ECORRUPT when
 * the file is not an SQLite database, is empty (0 bytes, no WAL beside
 * it), lacks camsim's application_id, has a schema version (user_version)
 * other than this camsim's or version 1 (migrated to 2 at open), or fails
 * PRAGMA quick_check; SIM_EIO when it is read-only for this user;
 * SIM_ESTATE when another process holds DIR (flock on
 * DIR/camsim-state.lock, whose text is the holder's pid; held until
 * store_close or the process ends); SIM_EDB).  A file refused before any
 * write is left untouched. */
int store_open(const char *dir, store **out, char *err, size_t errlen);
void store_close(store *st); /* NULL is fine */

/* The sentence describing st's last failure: "FILE: operation: cause",
 * the cause being SQLite's own message when SQLite failed.  Valid until
 * the next call on st. */
const char *store_errmsg(const store *st);

/* Groups the writes that follow into one transaction (BEGIN IMMEDIATE:
 * the write lock is taken at once).  Begin inside a begin nests (a
 * savepoint): its commit keeps the writes for the outer commit, which
 * alone makes them durable, and its rollback undoes only what came since
 * it; reads inside share the transaction's one lock, so a caller setting
 * up many devices groups them for the price of one.  Commit and rollback
 * without begin give SIM_ESTATE.  The outermost rollback undoes
 * everything since the first begin; an outermost commit that fails rolls
 * back too.  Should SQLite abort the transaction itself (disk full, I/O
 * error), every call but store_rollback gives SIM_ESTATE until
 * store_rollback has been called once for every open begin. */
int store_begin(store *st);
int store_commit(store *st);
int store_rollback(store *st);

/* ---- settings: one text value per (cid, key) ---- */

/* *val gets a malloc'd copy (caller frees), or NULL when the key is not
 * set (return 0 either way). */
int store_kv_get(store *st, const char *cid, const char *key, char **val);
/* Sets the value; val NULL deletes the key. */
int store_kv_set(store *st, const char *cid, const char *key, const char *val);

/* ---- face library ---- */

typedef struct store_face {
	const char *id;       /* person id, <= 35 bytes, required */
	const char *name;     /* NULL when absent (likewise sex, card_no) */
	const char *sex;
	const char *card_no;
	bool has_age;
	int64_t age;
	int64_t strategy_id;
	const float *desc;    /* face descriptor, n_desc floats (may be 0) */
	size_t n_desc;
	const char *photo_sha; /* hex SHA-256 of the enrolled photo, or NULL */
} store_face;

/* Inserts the person, or replaces every field of the person with that id
 * (absent fields become absent); a replaced person keeps their place in
 * the order.  SIM_EINVAL when id is missing or over 35 bytes.  The
 * descriptor is stored as little-endian float32 and read back bit for bit. */
int store_face_put(store *st, const char *cid, const store_face *f);
/* SIM_ENOTFOUND when no person has that id. */
int store_face_del(store *st, const char *cid, const char *id);
/* Deletes every person of cid; *n (may be NULL) gets how many. */
int store_face_clear(store *st, const char *cid, int64_t *n);
int store_face_count(store *st, const char *cid, int64_t *n);
/* One person of a walk: f and what it points to are valid during the call
 * only.  Must not call store functions on the store being walked (they
 * fail with SIM_ESTATE): collect, then write.  0 goes on; non-zero stops
 * the walk, which returns that value. */
typedef int (*store_face_cb)(const store_face *f, void *ud);
/* Calls fn for each person of cid in the order they were first added.
 * SIM_ECORRUPT when a stored descriptor is not a whole number of floats. */
int store_face_foreach(store *st, const char *cid, store_face_cb fn,
		       void *ud);

/* ---- offline snapshot records (D26) ---- */

/* Appends a record (the snapshot's JSON body, its `time`), then drops the
 * oldest records of cid beyond cap (>= 1, else SIM_EINVAL), in the same
 * transaction (a savepoint inside store_begin: a failure undoes this
 * record only).  *dropped (may be NULL) gets how many were dropped now;
 * the running total is added to the key "records_dropped" (decimal text)
 * in that transaction.  *id (may be NULL) gets the new id; ids only grow,
 * even across deletions, so id order is the order of addition. */
int store_rec_add(store *st, const char *cid, int64_t time, const char *body,
		  size_t len, int64_t cap, int64_t *id, int64_t *dropped);
int store_rec_count(store *st, const char *cid, int64_t *n);
/* The oldest record of cid with an id greater than after (0 = from the
 * start): *id, *time and *body (malloc'd, NUL-terminated, *len bytes).
 * SIM_ENOTFOUND when there is none. */
int store_rec_next(store *st, const char *cid, int64_t after, int64_t *id,
		   int64_t *time, char **body, size_t *len);
/* SIM_ENOTFOUND when no record has that id. */
int store_rec_del(store *st, const char *cid, int64_t id);
/* Deletes every record of cid; *n (may be NULL) gets how many. */
int store_rec_clear(store *st, const char *cid, int64_t *n);
/* A server refused record id: its reject count goes up by one and *rejects
 * (may be NULL) gets the new count.  SIM_ENOTFOUND when no record has that
 * id. */
int store_rec_reject(store *st, const char *cid, int64_t id, int64_t *rejects);
/* Moves record id out of the records (and their count, cap and
 * store_rec_next) into the set-aside records, with its reject count and
 * reason (a sentence, required), then drops the oldest set-aside records
 * of cid beyond cap (>= 1), in one unit: a server refusing everything
 * cannot grow the file without bound.  SIM_ENOTFOUND when no record has
 * that id. */
int store_rec_aside(store *st, const char *cid, int64_t id, const char *reason,
		    int64_t cap);

typedef struct store_aside {
	int64_t id, time, rejects;
	const char *reason;
	const char *body; /* the record as stored, len bytes, NUL-terminated */
	size_t len;
} store_aside;

int store_aside_count(store *st, const char *cid, int64_t *n);
/* One set-aside record of a walk, under the contract of store_face_cb:
 * r valid during the call only, no store calls on the walked store
 * (SIM_ESTATE), non-zero stops the walk and is returned. */
typedef int (*store_aside_cb)(const store_aside *r, void *ud);
/* Calls fn for each set-aside record of cid, oldest first. */
int store_aside_foreach(store *st, const char *cid, store_aside_cb fn,
			void *ud);

#endif
