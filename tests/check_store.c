/* check_store.c -- the state store: settings, face library and records
 * per cid, transactions, reopening, refusing files camsim did not write,
 * and surviving SIGKILL at random moments with every acknowledged commit.
 * Each test works in its own directory under /tmp, removed at the end. */
#include "sim_err.h"
#include "store.h"
#include "testutil.h"

#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ---- */

static char *tmp_dir(void)
{
	char *d = strdup("/tmp/camsim-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(d));
	return d;
}

static int rm_entry(const char *p, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Removes and frees a directory made by tmp_dir, with everything in it. */
static void drop_dir(char *d)
{
	nftw(d, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(d);
}

static store *open_ok(const char *dir)
{
	char err[512] = "";
	store *st = NULL;
	int rc = store_open(dir, &st, err, sizeof err);
	ck_assert_msg(rc == 0, "store_open(%s): %s (%s)", dir, err,
		      sim_strerror(rc));
	return st;
}

static char *db_path(const char *dir)
{
	char *p = malloc(strlen(dir) + 32);
	sprintf(p, "%s/camsim-state.db", dir);
	return p;
}

/* Runs sql on the file directly, behind the store's back. */
static void raw_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK,
		      "%s: %s", sql, msg ? msg : "?");
	sqlite3_close(db);
}

static void kv_is(store *st, const char *cid, const char *key,
		  const char *want)
{
	char *v = (char *)"unset";
	ck_assert_int_eq(store_kv_get(st, cid, key, &v), 0);
	if (!want)
		ck_assert_ptr_null(v);
	else
		ck_assert_str_eq(v ? v : "(null)", want);
	free(v);
}

static int64_t kv_num(store *st, const char *cid, const char *key)
{
	char *v = NULL;
	int64_t n;
	ck_assert_int_eq(store_kv_get(st, cid, key, &v), 0);
	n = v ? strtoll(v, NULL, 10) : -1;
	free(v);
	return n;
}

/* A copy of what store_face_foreach passed, for checking after the walk. */
typedef struct face_copy {
	char *id, *name, *sex, *card_no, *photo_sha;
	bool has_age;
	int64_t age, strategy_id;
	float *desc;
	size_t n_desc;
} face_copy;

typedef struct faces {
	face_copy f[64];
	size_t n;
} faces;

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int collect(const store_face *f, void *ud)
{
	faces *fs = ud;
	face_copy *c;

	if (fs->n == sizeof fs->f / sizeof fs->f[0])
		return 99;
	c = &fs->f[fs->n++];
	c->id = strdup(f->id);
	c->name = dup_or_null(f->name);
	c->sex = dup_or_null(f->sex);
	c->card_no = dup_or_null(f->card_no);
	c->photo_sha = dup_or_null(f->photo_sha);
	c->has_age = f->has_age;
	c->age = f->age;
	c->strategy_id = f->strategy_id;
	c->n_desc = f->n_desc;
	c->desc = malloc(f->n_desc * sizeof(float) + 1);
	if (f->n_desc)
		memcpy(c->desc, f->desc, f->n_desc * sizeof(float));
	return 0;
}

static void faces_free(faces *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		face_copy *c = &fs->f[i];
		free(c->id);
		free(c->name);
		free(c->sex);
		free(c->card_no);
		free(c->photo_sha);
		free(c->desc);
	}
	fs->n = 0;
}

static void list(store *st, const char *cid, faces *fs)
{
	fs->n = 0;
	ck_assert_int_eq(store_face_foreach(st, cid, collect, fs), 0);
}

static store_face person(const char *id, int64_t age)
{
	store_face f = {.id = id, .has_age = age >= 0, .age = age,
			.strategy_id = 1};
	return f;
}

/* ---- settings ---- */

START_TEST(kv_set_get_overwrite_delete_and_each_cid_is_separate)
{
	char *d = tmp_dir();
	store *st = open_ok(d);

	kv_is(st, "cam1", "volume", NULL);
	ck_assert_int_eq(store_kv_set(st, "cam1", "volume", "7"), 0);
	ck_assert_int_eq(store_kv_set(st, "cam2", "volume", "3"), 0);
	kv_is(st, "cam1", "volume", "7");
	kv_is(st, "cam2", "volume", "3");
	ck_assert_int_eq(store_kv_set(st, "cam1", "volume", "10"), 0);
	kv_is(st, "cam1", "volume", "10");
	kv_is(st, "cam2", "volume", "3");
	ck_assert_int_eq(store_kv_set(st, "cam1", "empty", ""), 0);
	kv_is(st, "cam1", "empty", "");
	ck_assert_int_eq(store_kv_set(st, "cam1", "volume", NULL), 0);
	kv_is(st, "cam1", "volume", NULL);
	kv_is(st, "cam2", "volume", "3");
	/* deleting a key that is not set is not an error */
	ck_assert_int_eq(store_kv_set(st, "cam1", "volume", NULL), 0);
	ck_assert_int_eq(store_kv_set(st, NULL, "k", "v"), SIM_EINVAL);
	ck_assert_int_eq(store_kv_set(st, "cam1", NULL, "v"), SIM_EINVAL);
	store_close(st);
	drop_dir(d);
}
END_TEST

/* ---- face library ---- */

START_TEST(faces_round_trip_every_field_and_descriptors_bit_exactly)
{
	char *d = tmp_dir();
	store *st = open_ok(d);
	uint32_t bits[] = {0x00000000, 0x80000000, 0x7f800000, 0xff800000,
			   0x7fc00001, 0x7fbfffff, 0x00000001, 0x3f800000,
			   0xc2f6e979, 0x7f7fffff};
	float desc[10];
	store_face full = person("p1", 31), bare = person("p2", -1);
	faces fs;
	int64_t n = -1;

	memcpy(desc, bits, sizeof desc);
	full.name = "Zoë";
	full.sex = "female";
	full.card_no = "A-17";
	full.strategy_id = 42;
	full.desc = desc;
	full.n_desc = 10;
	full.photo_sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	ck_assert_int_eq(store_face_put(st, "cam1", &full), 0);
	ck_assert_int_eq(store_face_put(st, "cam1", &bare), 0);
	ck_assert_int_eq(store_face_count(st, "cam1", &n), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(store_face_count(st, "cam2", &n), 0);
	ck_assert_int_eq(n, 0);
	list(st, "cam1", &fs);
	ck_assert_uint_eq(fs.n, 2);
	ck_assert_str_eq(fs.f[0].id, "p1");
	ck_assert_str_eq(fs.f[0].name, "Zoë");
	ck_assert_str_eq(fs.f[0].sex, "female");
	ck_assert_str_eq(fs.f[0].card_no, "A-17");
	ck_assert_str_eq(fs.f[0].photo_sha, full.photo_sha);
	ck_assert(fs.f[0].has_age);
	ck_assert_int_eq(fs.f[0].age, 31);
	ck_assert_int_eq(fs.f[0].strategy_id, 42);
	ck_assert_uint_eq(fs.f[0].n_desc, 10);
	ck_assert_int_eq(memcmp(fs.f[0].desc, bits, sizeof bits), 0);
	/* absent stays absent, not "" or 0 */
	ck_assert_str_eq(fs.f[1].id, "p2");
	ck_assert_ptr_null(fs.f[1].name);
	ck_assert_ptr_null(fs.f[1].sex);
	ck_assert_ptr_null(fs.f[1].card_no);
	ck_assert_ptr_null(fs.f[1].photo_sha);
	ck_assert(!fs.f[1].has_age);
	ck_assert_uint_eq(fs.f[1].n_desc, 0);
	faces_free(&fs);
	/* an id over 35 bytes, or a descriptor without floats, is refused */
	bare.id = "0123456789012345678901234567890123456";
	ck_assert_int_eq(store_face_put(st, "cam1", &bare), SIM_EINVAL);
	bare.id = "p3";
	bare.n_desc = 4;
	ck_assert_int_eq(store_face_put(st, "cam1", &bare), SIM_EINVAL);
	store_close(st);
	drop_dir(d);
}
END_TEST

START_TEST(replacing_a_person_changes_every_field_and_keeps_their_place)
{
	char *d = tmp_dir();
	store *st = open_ok(d);
	store_face a = person("a", 20), b = person("b", 21), c = person("c", 22);
	float v = 0.5f;
	faces fs;
	int64_t n;

	a.name = "Ann";
	a.desc = &v;
	a.n_desc = 1;
	ck_assert_int_eq(store_face_put(st, "cam1", &a), 0);
	ck_assert_int_eq(store_face_put(st, "cam1", &b), 0);
	ck_assert_int_eq(store_face_put(st, "cam1", &c), 0);
	a = person("a", -1); /* every field replaced, absent ones too */
	a.sex = "male";
	a.strategy_id = 9;
	ck_assert_int_eq(store_face_put(st, "cam1", &a), 0);
	ck_assert_int_eq(store_face_count(st, "cam1", &n), 0);
	ck_assert_int_eq(n, 3);
	list(st, "cam1", &fs);
	ck_assert_uint_eq(fs.n, 3);
	ck_assert_str_eq(fs.f[0].id, "a");
	ck_assert_str_eq(fs.f[1].id, "b");
	ck_assert_str_eq(fs.f[2].id, "c");
	ck_assert_ptr_null(fs.f[0].name);
	ck_assert_str_eq(fs.f[0].sex, "male");
	ck_assert(!fs.f[0].has_age);
	ck_assert_int_eq(fs.f[0].strategy_id, 9);
	ck_assert_uint_eq(fs.f[0].n_desc, 0);
	faces_free(&fs);
	/* deleted and added again: last */
	ck_assert_int_eq(store_face_del(st, "cam1", "a"), 0);
	ck_assert_int_eq(store_face_put(st, "cam1", &a), 0);
	list(st, "cam1", &fs);
	ck_assert_str_eq(fs.f[0].id, "b");
	ck_assert_str_eq(fs.f[2].id, "a");
	faces_free(&fs);
	store_close(st);
	drop_dir(d);
}
END_TEST

START_TEST(face_del_and_clear_touch_only_their_cid)
{
	char *d = tmp_dir();
	store *st = open_ok(d);
	store_face f = person("x", 1), g = person("y", 2);
	int64_t n = -1;

	ck_assert_int_eq(store_face_put(st, "cam1", &f), 0);
	ck_assert_int_eq(store_face_put(st, "cam1", &g), 0);
	ck_assert_int_eq(store_face_put(st, "cam2", &f), 0);
	ck_assert_int_eq(store_face_del(st, "cam1", "x"), 0);
	ck_assert_int_eq(store_face_del(st, "cam1", "x"), SIM_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(store_errmsg(st), "face del"));
	ck_assert_ptr_nonnull(strstr(store_errmsg(st), "camsim-state.db"));
	ck_assert_int_eq(store_face_count(st, "cam1", &n), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(store_face_count(st, "cam2", &n), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(store_face_clear(st, "cam1", &n), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(store_face_clear(st, "cam1", &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(store_face_clear(st, "cam1", NULL), 0);
	ck_assert_int_eq(store_face_count(st, "cam2", &n), 0);
	ck_assert_int_eq(n, 1);
	store_close(st);
	drop_dir(d);
}
END_TEST

static int stop_at_second(const store_face *f, void *ud)
{
	int *calls = ud;
	(void)f;
	return ++*calls == 2 ? 7 : 0;
}

typedef struct nested {
	store *st;
	int rc;
} nested;

static int nests(const store_face *f, void *ud)
{
	nested *ns = ud;
	(void)f;
	ns->rc = store_kv_set(ns->st, "cam1", "k", "v");
	return 0;
}

START_TEST(foreach_stops_on_nonzero_and_refuses_calls_from_its_callback)
{
	char *d = tmp_dir();
	store *st = open_ok(d);
	store_face f = person("x", 1), g = person("y", 2), h = person("z", 3);
	nested ns = {st, 0};
	int calls = 0;
	faces fs;

	ck_assert_int_eq(store_face_put(st, "cam1", &f), 0);
	ck_assert_int_eq(store_face_put(st, "cam1", &g), 0);
	ck_assert_int_eq(store_face_put(st, "cam1", &h), 0);
	ck_assert_int_eq(store_face_foreach(st, "cam1", stop_at_second, &calls), 7);
	ck_assert_int_eq(calls, 2);
	ck_assert_int_eq(store_face_foreach(st, "cam1", nests, &ns), 0);
	ck_assert_int_eq(ns.rc, SIM_ESTATE);
	kv_is(st, "cam1", "k", NULL);
	/* the walk after a stopped one starts again from the first */
	list(st, "cam1", &fs);
	ck_assert_uint_eq(fs.n, 3);
	faces_free(&fs);
	store_close(st);
	drop_dir(d);
}
END_TEST

START_TEST(a_descriptor_not_a_whole_number_of_floats_is_corrupt)
{
	char *d = tmp_dir(), *p = db_path(d);
	store *st = open_ok(d);
	store_face f = person("x", 1);
	faces fs = {.n = 0};

	ck_assert_int_eq(store_face_put(st, "cam1", &f), 0);
	store_close(st);
	raw_sql(p, "UPDATE faces SET descriptor = x'01020304050607'");
	st = open_ok(d);
	ck_assert_int_eq(store_face_foreach(st, "cam1", collect, &fs),
			 SIM_ECORRUPT);
	ck_assert_uint_eq(fs.n, 0);
	ck_assert_ptr_nonnull(strstr(store_errmsg(st), "7 bytes"));
	store_close(st);
	free(p);
	drop_dir(d);
}
END_TEST

/* ---- records ---- */

static void rec_is(store *st, const char *cid, int64_t after, int64_t *id,
		   int64_t want_time, const char *want_body)
{
	char *body = NULL;
	size_t len = 0;
	int64_t t = -1;
	ck_assert_int_eq(store_rec_next(st, cid, after, id, &t, &body, &len), 0);
	ck_assert_int_eq(t, want_time);
	ck_assert_str_eq(body, want_body);
	ck_assert_uint_eq(len, strlen(want_body));
	free(body);
}

START_TEST(records_come_oldest_first_and_next_skips_to_after)
{
	char *d = tmp_dir();
	store *st = open_ok(d);
	int64_t id[3], got, n, dropped = -1;
	char *body = (char *)"x";

	ck_assert_int_eq(store_rec_next(st, "cam1", 0, &got, NULL, &body, NULL),
			 SIM_ENOTFOUND);
	ck_assert_ptr_null(body);
	ck_assert_int_eq(store_rec_add(st, "cam1", 100, "{\"a\":1}", 7, 10, &id[0],
				       &dropped), 0);
	ck_assert_int_eq(dropped, 0);
	ck_assert_int_eq(store_rec_add(st, "cam2", 150, "other", 5, 10, NULL, NULL), 0);
	ck_assert_int_eq(store_rec_add(st, "cam1", 200, "{\"a\":2}", 7, 10, &id[1], NULL), 0);
	ck_assert_int_eq(store_rec_add(st, "cam1", 50, "", 0, 10, &id[2], NULL), 0);
	ck_assert_int_lt(id[0], id[1]);
	ck_assert_int_lt(id[1], id[2]);
	ck_assert_int_eq(store_rec_count(st, "cam1", &n), 0);
	ck_assert_int_eq(n, 3);
	/* insertion order, not time order */
	rec_is(st, "cam1", 0, &got, 100, "{\"a\":1}");
	ck_assert_int_eq(got, id[0]);
	rec_is(st, "cam1", got, &got, 200, "{\"a\":2}");
	rec_is(st, "cam1", got, &got, 50, "");
	ck_assert_int_eq(got, id[2]);
	ck_assert_int_eq(store_rec_next(st, "cam1", got, &got, NULL, NULL, NULL),
			 SIM_ENOTFOUND);
	/* a body with a NUL inside comes back whole */
	ck_assert_int_eq(store_rec_add(st, "cam3", 1, "a\0b", 3, 10, NULL, NULL), 0);
	{
		size_t len;
		ck_assert_int_eq(store_rec_next(st, "cam3", 0, NULL, NULL, &body,
						&len), 0);
		ck_assert_uint_eq(len, 3);
		ck_assert_int_eq(memcmp(body, "a\0b", 4), 0);
		free(body);
	}
	ck_assert_int_eq(store_rec_add(st, "cam1", 1, "x", 1, 0, NULL, NULL),
			 SIM_EINVAL);
	store_close(st);
	drop_dir(d);
}
END_TEST

START_TEST(rec_add_beyond_cap_drops_exactly_the_oldest_and_counts_them)
{
	char *d = tmp_dir();
	store *st = open_ok(d);
	int64_t n, dropped, got, total = 0;
	char body[32];

	for (int64_t i = 0; i < 12; i++) {
		snprintf(body, sizeof body, "r%lld", (long long)i);
		ck_assert_int_eq(store_rec_add(st, "cam1", i, body, strlen(body),
					       5, NULL, &dropped), 0);
		ck_assert_int_eq(dropped, i < 5 ? 0 : 1);
		total += dropped;
	}
	ck_assert_int_eq(store_rec_count(st, "cam1", &n), 0);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(kv_num(st, "cam1", "records_dropped"), 7);
	rec_is(st, "cam1", 0, &got, 7, "r7");
	/* a smaller cap drops several at once */
	ck_assert_int_eq(store_rec_add(st, "cam1", 12, "r12", 3, 2, NULL, &dropped), 0);
	ck_assert_int_eq(dropped, 4);
	ck_assert_int_eq(kv_num(st, "cam1", "records_dropped"), 11);
	rec_is(st, "cam1", 0, &got, 11, "r11");
	rec_is(st, "cam1", got, &got, 12, "r12");
	ck_assert_int_eq(store_rec_count(st, "cam1", &n), 0);
	ck_assert_int_eq(n, 2);
	/* other cids keep theirs and have no count */
	ck_assert_int_eq(kv_num(st, "cam2", "records_dropped"), -1);
	store_close(st);
	drop_dir(d);
}
END_TEST

START_TEST(rec_del_and_clear_remove_only_what_they_name)
{
	char *d = tmp_dir();
	store *st = open_ok(d);
	int64_t id[3], got, n;

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(store_rec_add(st, "cam1", i, "b", 1, 10, &id[i],
					       NULL), 0);
	ck_assert_int_eq(store_rec_add(st, "cam2", 9, "c", 1, 10, NULL, NULL), 0);
	ck_assert_int_eq(store_rec_del(st, "cam1", id[1]), 0);
	ck_assert_int_eq(store_rec_del(st, "cam1", id[1]), SIM_ENOTFOUND);
	/* another cid's record is not found under this one */
	ck_assert_int_eq(store_rec_next(st, "cam2", 0, &got, NULL, NULL, NULL), 0);
	ck_assert_int_eq(store_rec_del(st, "cam1", got), SIM_ENOTFOUND);
	ck_assert_int_eq(store_rec_next(st, "cam1", id[0], &got, NULL, NULL, NULL), 0);
	ck_assert_int_eq(got, id[2]);
	ck_assert_int_eq(store_rec_count(st, "cam1", &n), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(store_rec_clear(st, "cam1", &n), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(store_rec_count(st, "cam1", &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(store_rec_count(st, "cam2", &n), 0);
	ck_assert_int_eq(n, 1);
	/* ids are never reused, even after the newest was deleted */
	ck_assert_int_eq(store_rec_add(st, "cam1", 3, "b", 1, 10, &got, NULL), 0);
	ck_assert_int_gt(got, id[2] + 1);
	store_close(st);
	drop_dir(d);
}
END_TEST

/* ---- transactions, reopening ---- */

START_TEST(rollback_undoes_every_write_since_begin)
{
	char *d = tmp_dir();
	store *st = open_ok(d);
	store_face f = person("x", 1);
	int64_t n;

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(store_rec_add(st, "cam1", i, "b", 1, 3, NULL, NULL), 0);
	ck_assert_int_eq(store_commit(st), SIM_ESTATE);
	ck_assert_int_eq(store_rollback(st), SIM_ESTATE);
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_kv_set(st, "cam1", "k", "v"), 0);
	ck_assert_int_eq(store_face_put(st, "cam1", &f), 0);
	ck_assert_int_eq(store_rec_add(st, "cam1", 9, "b", 1, 3, NULL, NULL), 0);
	ck_assert_int_eq(store_rec_clear(st, "cam1", NULL), 0);
	kv_is(st, "cam1", "k", "v"); /* visible inside the transaction */
	ck_assert_int_eq(store_rollback(st), 0);
	kv_is(st, "cam1", "k", NULL);
	kv_is(st, "cam1", "records_dropped", NULL);
	ck_assert_int_eq(store_face_count(st, "cam1", &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(store_rec_count(st, "cam1", &n), 0);
	ck_assert_int_eq(n, 3);
	/* and commit keeps them */
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_kv_set(st, "cam1", "k", "v"), 0);
	ck_assert_int_eq(store_rec_add(st, "cam1", 9, "b", 1, 3, NULL, NULL), 0);
	ck_assert_int_eq(store_commit(st), 0);
	kv_is(st, "cam1", "k", "v");
	kv_is(st, "cam1", "records_dropped", "1");
	store_close(st);
	drop_dir(d);
}
END_TEST

START_TEST(a_nested_begin_is_undone_alone_and_kept_only_by_the_outer_commit)
{
	char *d = tmp_dir();
	store *st = open_ok(d), *again;
	char err[300];

	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_kv_set(st, "cam1", "a", "1"), 0);
	/* an inner unit rolled back: only its own write goes */
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_kv_set(st, "cam1", "b", "2"), 0);
	ck_assert_int_eq(store_rollback(st), 0);
	kv_is(st, "cam1", "a", "1");
	kv_is(st, "cam1", "b", NULL);
	/* an inner unit committed, two deep: kept for the outer commit */
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_kv_set(st, "cam1", "c", "3"), 0);
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert_int_eq(store_commit(st), 0);
	kv_is(st, "cam1", "c", "3");
	/* the outer rollback undoes the committed inner units too */
	ck_assert_int_eq(store_rollback(st), 0);
	kv_is(st, "cam1", "a", NULL);
	kv_is(st, "cam1", "c", NULL);
	ck_assert_int_eq(store_commit(st), SIM_ESTATE);
	/* durable only with the outer commit: what another open sees */
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_kv_set(st, "cam1", "d", "4"), 0);
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert_int_eq(store_rollback(st), SIM_ESTATE);
	/* an inner commit with the outer still open at close: gone */
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_kv_set(st, "cam1", "e", "5"), 0);
	ck_assert_int_eq(store_commit(st), 0);
	store_close(st);
	ck_assert_int_eq(store_open(d, &again, err, sizeof err), 0);
	kv_is(again, "cam1", "d", "4");
	kv_is(again, "cam1", "e", NULL);
	kv_is(again, "cam1", "a", NULL);
	store_close(again);
	drop_dir(d);
}
END_TEST

START_TEST(reopening_keeps_everything_and_dir_is_created_when_missing)
{
	char *d = tmp_dir(), sub[256];
	store *st;
	store_face f = person("x", 40);
	float v[3] = {1.5f, -2.25f, 1e-30f};
	faces fs;
	int64_t n, got;
	struct stat sb;

	snprintf(sub, sizeof sub, "%s/state", d);
	st = open_ok(sub);
	ck_assert_int_eq(stat(sub, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	f.desc = v;
	f.n_desc = 3;
	ck_assert_int_eq(store_face_put(st, "cam1", &f), 0);
	ck_assert_int_eq(store_kv_set(st, "cam1", "k", "v"), 0);
	ck_assert_int_eq(store_rec_add(st, "cam1", 5, "body", 4, 10, NULL, NULL), 0);
	ck_assert_int_eq(store_begin(st), 0); /* open at close: rolled back */
	ck_assert_int_eq(store_kv_set(st, "cam1", "k", "lost"), 0);
	store_close(st);
	store_close(NULL);

	st = open_ok(sub);
	kv_is(st, "cam1", "k", "v");
	list(st, "cam1", &fs);
	ck_assert_uint_eq(fs.n, 1);
	ck_assert_int_eq(fs.f[0].age, 40);
	ck_assert_uint_eq(fs.f[0].n_desc, 3);
	ck_assert_int_eq(memcmp(fs.f[0].desc, v, sizeof v), 0);
	faces_free(&fs);
	rec_is(st, "cam1", 0, &got, 5, "body");
	ck_assert_int_eq(store_rec_count(st, "cam1", &n), 0);
	ck_assert_int_eq(n, 1);
	store_close(st);
	drop_dir(d);
}
END_TEST

/* ---- files camsim did not write ---- */

static void open_fails(const char *dir, int want, const char *words)
{
	char err[512] = "";
	store *st = (store *)err; /* not NULL: store_open must clear it */
	int rc = store_open(dir, &st, err, sizeof err);

	ck_assert_msg(rc == want, "store_open gave %d (%s): %s", rc,
		      sim_strerror(rc), err);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, "camsim-state.db") && strstr(err, words),
		      "error '%s' lacks the file or '%s'", err, words);
}

START_TEST(open_refuses_garbage_and_foreign_databases_as_corrupt)
{
	char *d = tmp_dir(), *p = db_path(d), junk[4096];
	FILE *f;
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof junk; i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (char)(x >> 16);
	}
	f = fopen(p, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(junk, 1, sizeof junk, f), sizeof junk);
	fclose(f);
	open_fails(d, SIM_ECORRUPT, "not a database");
	/* the file is left as it was */
	{
		size_t len;
		char *back = tu_read(p, &len);
		ck_assert_uint_eq(len, sizeof junk);
		ck_assert_int_eq(memcmp(back, junk, len), 0);
		free(back);
	}

	remove(p);
	raw_sql(p, "CREATE TABLE notes(t TEXT); INSERT INTO notes VALUES('hi');");
	open_fails(d, SIM_ECORRUPT, "'notes'");

	remove(p);
	store_close(open_ok(d));
	raw_sql(p, "PRAGMA user_version = 3");
	open_fails(d, SIM_ECORRUPT, "newer");

	remove(p);
	store_close(open_ok(d));
	raw_sql(p, "DROP TABLE faces");
	open_fails(d, SIM_ECORRUPT, "faces");

	/* a directory where DIR should be is missing one level too deep */
	{
		char deep[512];
		snprintf(deep, sizeof deep, "%s/no/such", d);
		open_fails(deep, SIM_EIO, "no/such");
	}
	free(p);
	drop_dir(d);
}
END_TEST

/* The page of an index scribbled over: open's quick_check (or the read
 * that meets the page first) reports it. */
START_TEST(open_reports_a_damaged_page_as_corrupt)
{
	char *d = tmp_dir(), *p = db_path(d), junk[2048];
	store *st = open_ok(d);
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t root;
	FILE *f;

	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(store_rec_add(st, "cam1", i, "body", 4, 100, NULL,
					       NULL), 0);
	store_close(st); /* the last connection: the WAL is checkpointed */
	ck_assert_int_eq(sqlite3_open(p, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_master"
					    " WHERE name = 'records_cid'", -1,
					    &s, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	root = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	ck_assert_int_gt(root, 1);
	memset(junk, 0xa5, sizeof junk);
	f = fopen(p, "r+b");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, (long)(root - 1) * 4096, SEEK_SET), 0);
	ck_assert_uint_eq(fwrite(junk, 1, sizeof junk, f), sizeof junk);
	fclose(f);
	open_fails(d, SIM_ECORRUPT, "open");
	free(p);
	drop_dir(d);
}
END_TEST

/* A state file this user may not write would take every pass record and
 * lose it: refused at open, naming the file and what to do. */
START_TEST(a_read_only_state_file_is_refused_at_open)
{
	char *d = tmp_dir(), *p = db_path(d);
	int fds[2], status;
	pid_t pid;
	char err[512] = "";
	ssize_t n;

	store_close(open_ok(d));
	/* the directory writable: SQLite could make its -wal and -shm
	 * there, and would take the file read-only without a word */
	ck_assert_int_eq(chmod(d, 0777), 0);
	ck_assert_int_eq(chmod(p, 0444), 0);
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* root writes anything: be nobody, who may not write this */
		store *st = NULL;
		int rc;
		if (getuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(9);
		rc = store_open(d, &st, err, sizeof err);
		(void)!write(fds[1], err, strlen(err));
		store_close(st);
		free(p); /* valgrind checks the child's leaks too */
		free(d);
		_exit(rc == SIM_EIO ? 0 : rc == 0 ? 1 : 2);
	}
	close(fds[1]);
	n = read(fds[0], err, sizeof err - 1);
	err[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "status %d: %s", status, err);
	ck_assert_msg(strstr(err, "camsim-state.db") && strstr(err, "read-only")
		      && strstr(err, "--state"), "%s", err);
	chmod(p, 0644);
	free(p);
	drop_dir(d);
}
END_TEST

/* An empty (0-byte) file where the state should be is damage, not a new
 * device: refused and left as it is.  A file camsim is creating is made
 * under another name, so an empty one is never its own. */
START_TEST(an_empty_state_file_is_refused_and_left_alone)
{
	char *d = tmp_dir(), *p = db_path(d);
	struct stat sb;
	FILE *f = fopen(p, "w");

	ck_assert_ptr_nonnull(f);
	fclose(f);
	open_fails(d, SIM_ECORRUPT, "empty (0 bytes)");
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_size, 0);
	{
		char err[512];
		store *st;
		store_open(d, &st, err, sizeof err);
		ck_assert_msg(strstr(err, "delete the file"), "%s", err);
	}
	remove(p);
	store_close(open_ok(d)); /* a missing file is a new device */
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_gt(sb.st_size, 0);
	free(p);
	drop_dir(d);
}
END_TEST

/* Two processes on one state directory would each think they own its
 * devices: the second is refused, told the holder's pid; the lock goes
 * with the holder, however it ends. */
START_TEST(a_second_process_on_one_state_directory_is_refused)
{
	char *d = tmp_dir(), err[512] = "", want[32];
	int fds[2], status;
	char c;
	pid_t pid;
	store *st = NULL;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		store *mine;
		if (store_open(d, &mine, err, sizeof err) < 0)
			_exit(3);
		(void)!write(fds[1], "k", 1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	ck_assert_int_eq(store_open(d, &st, err, sizeof err), SIM_ESTATE);
	ck_assert_ptr_null(st);
	snprintf(want, sizeof want, "pid %d", (int)pid);
	ck_assert_msg(strstr(err, want) && strstr(err, "camsim-state.lock") &&
		      strstr(err, "another --state"), "%s", err);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(fds[0]);
	st = open_ok(d); /* the holder is gone, and its lock with it */
	/* and within one process too */
	store *st2 = NULL;
	ck_assert_int_eq(store_open(d, &st2, err, sizeof err), SIM_ESTATE);
	ck_assert_ptr_null(st2);
	store_close(st);
	drop_dir(d);
}
END_TEST

/* A file of schema version 1 (before records could be set aside) is
 * migrated at open and keeps every record; refusals are counted and a
 * record refused too often moves aside, kept, out of the queue. */
START_TEST(version_1_is_migrated_and_refused_records_move_aside)
{
	char *d = tmp_dir(), *p = db_path(d);
	store *st = open_ok(d);
	int64_t id1, id2, n, rej;
	char *body;
	size_t len;

	ck_assert_int_eq(store_rec_add(st, "cam", 10, "{\"a\":1}", 7, 100, &id1,
				       NULL), 0);
	ck_assert_int_eq(store_rec_add(st, "cam", 11, "{\"a\":2}", 7, 100, &id2,
				       NULL), 0);
	store_close(st);
	raw_sql(p, "DROP TABLE aside; ALTER TABLE records DROP COLUMN rejects;"
		   " PRAGMA user_version = 1");
	st = open_ok(d);
	ck_assert_int_eq(store_rec_count(st, "cam", &n), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(store_rec_reject(st, "cam", id1, &rej), 0);
	ck_assert_int_eq(rej, 1);
	ck_assert_int_eq(store_rec_reject(st, "cam", id1, &rej), 0);
	ck_assert_int_eq(rej, 2);
	ck_assert_int_eq(store_rec_reject(st, "cam", 999, &rej), SIM_ENOTFOUND);
	ck_assert_int_eq(store_rec_aside(st, "cam", id1, "refused twice", 100), 0);
	ck_assert_int_eq(store_rec_aside(st, "cam", id1, "again", 100),
			 SIM_ENOTFOUND);
	ck_assert_int_eq(store_rec_count(st, "cam", &n), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(store_rec_next(st, "cam", 0, &n, NULL, &body, &len), 0);
	ck_assert_int_eq(n, id2); /* the rest flow */
	free(body);
	ck_assert_int_eq(store_aside_count(st, "cam", &n), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(store_aside_count(st, "other", &n), 0);
	ck_assert_int_eq(n, 0);
	store_close(st);
	st = open_ok(d); /* version 2 now: opens as it is */
	ck_assert_int_eq(store_aside_count(st, "cam", &n), 0);
	ck_assert_int_eq(n, 1);
	/* the set-aside records have a cap of their own */
	ck_assert_int_eq(store_rec_aside(st, "cam", id2, "bad", 1), 0);
	ck_assert_int_eq(store_aside_count(st, "cam", &n), 0);
	ck_assert_int_eq(n, 1);
	store_close(st);
	free(p);
	drop_dir(d);
}
END_TEST

/* ---- crash safety ---- */

#define CRASH_ROUNDS 20
#define CRASH_CAP 16
#define CRASH_PEOPLE 20
#define CRASH_NDESC 64

static float crash_desc(int64_t age, int i)
{
	return (float)age + (float)i / 8.0f;
}

static void crash_face(store_face *f, float *desc, char *id, int64_t c)
{
	*f = person(id, c);
	for (int i = 0; i < CRASH_NDESC; i++)
		desc[i] = crash_desc(c, i);
	f->desc = desc;
	f->n_desc = CRASH_NDESC;
	f->name = "crash";
}

/* The child: opens the store and writes forever, writing to fd each
 * counter once everything of that step is committed.  Each step c, in one
 * transaction: kv "a" = c, person p<c % PEOPLE> aged c, a record of time
 * c, kv "b" = c; then on its own: person "solo" aged c and kv "solo" = c.
 * Every fifth step also starts a transaction of nonsense and rolls it
 * back.  Never returns. */
static void crash_child(const char *dir, int fd)
{
	char err[512], id[16], val[32], body[64];
	float desc[CRASH_NDESC];
	store *st;
	store_face f;
	int64_t c = 0, ready = -1;

	if (store_open(dir, &st, err, sizeof err) < 0)
		_exit(3);
	{
		char *a = NULL;
		if (store_kv_get(st, "cam", "a", &a) < 0)
			_exit(4);
		c = a ? strtoll(a, NULL, 10) + 1 : 0;
		free(a);
	}
	if (write(fd, &ready, sizeof ready) != sizeof ready)
		_exit(5);
	for (;; c++) {
		snprintf(val, sizeof val, "%lld", (long long)c);
		snprintf(id, sizeof id, "p%lld", (long long)(c % CRASH_PEOPLE));
		snprintf(body, sizeof body, "{\"n\":%lld}", (long long)c);
		crash_face(&f, desc, id, c);
		if (store_begin(st) || store_kv_set(st, "cam", "a", val) ||
		    store_face_put(st, "cam", &f) ||
		    store_rec_add(st, "cam", c, body, strlen(body), CRASH_CAP,
				  NULL, NULL) ||
		    store_kv_set(st, "cam", "b", val) || store_commit(st))
			_exit(6);
		crash_face(&f, desc, "solo", c);
		if (store_face_put(st, "cam", &f) ||
		    store_kv_set(st, "cam", "solo", val))
			_exit(7);
		if (c % 5 == 0) {
			crash_face(&f, desc, "p0", -7);
			if (store_begin(st) || store_kv_set(st, "cam", "a", "-7") ||
			    store_face_put(st, "cam", &f) ||
			    store_rec_add(st, "cam", -7, "{}", 2, 1, NULL, NULL) ||
			    store_rec_clear(st, "cam", NULL) ||
			    store_rollback(st))
				_exit(8);
		}
		if (write(fd, &c, sizeof c) != sizeof c)
			_exit(9);
	}
}

typedef struct crash_seen {
	int64_t a, solo;   /* kv "a", kv "solo" */
	int64_t people;    /* p<k> persons seen */
	bool saw_solo;
} crash_seen;

static int check_crash_face(const store_face *f, void *ud)
{
	crash_seen *cs = ud;
	bool solo = !strcmp(f->id, "solo");

	if (!f->has_age || f->n_desc != CRASH_NDESC || !f->name ||
	    strcmp(f->name, "crash"))
		return 1;
	for (int i = 0; i < CRASH_NDESC; i++)
		if (f->desc[i] != crash_desc(f->age, i))
			return 2; /* torn */
	if (solo) {
		cs->saw_solo = true;
		/* put before kv "solo", in the step after the last group */
		return f->age < cs->solo || f->age > cs->a ? 3 : 0;
	}
	cs->people++;
	if (f->age < 0 || f->age > cs->a ||
	    strtoll(f->id + 1, NULL, 10) != f->age % CRASH_PEOPLE)
		return 4;
	if (f->age % CRASH_PEOPLE == cs->a % CRASH_PEOPLE && f->age != cs->a)
		return 5; /* the person of the last step is not that step's */
	return 0;
}

/* Checks the state left by a killed child; acked is the highest counter
 * the child acknowledged (-1: none).  Returns the last committed step. */
static int64_t crash_verify(const char *dir, int64_t acked)
{
	char *p = db_path(dir), *body;
	store *st = open_ok(dir); /* also runs quick_check */
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t a = kv_num(st, "cam", "a"), b = kv_num(st, "cam", "b");
	int64_t solo = kv_num(st, "cam", "solo"), n, id = 0, prev = 0, t = 0;
	int64_t want_t, dropped = kv_num(st, "cam", "records_dropped");
	crash_seen cs = {.a = a, .solo = solo};

	ck_assert_int_eq(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s,
					    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);
	sqlite3_close(db);
	free(p);

	ck_assert_msg(a == b, "kv a=%lld b=%lld: a transaction was torn",
		      (long long)a, (long long)b);
	ck_assert_msg(a >= acked, "step %lld acknowledged but the file holds %lld",
		      (long long)acked, (long long)a);
	/* a restarted writer skips the solo writes of a step killed between
	 * its group and them, so solo may lag a by more than one */
	ck_assert_msg(solo >= acked && solo <= a,
		      "solo %lld, a %lld, acked %lld", (long long)solo,
		      (long long)a, (long long)acked);
	ck_assert_int_eq(store_rec_count(st, "cam", &n), 0);
	ck_assert_int_le(n, CRASH_CAP);
	ck_assert_int_eq(n, a + 1 < CRASH_CAP ? a + 1 : CRASH_CAP);
	ck_assert_int_eq((dropped < 0 ? 0 : dropped) + n, a + 1);
	want_t = a + 1 - n;
	while (store_rec_next(st, "cam", id, &id, &t, &body, NULL) == 0) {
		char want[64];
		ck_assert_int_gt(id, prev);
		ck_assert_int_eq(t, want_t++);
		snprintf(want, sizeof want, "{\"n\":%lld}", (long long)t);
		ck_assert_str_eq(body, want);
		free(body);
		prev = id;
	}
	ck_assert_int_eq(want_t, a + 1);
	ck_assert_int_eq(store_face_foreach(st, "cam", check_crash_face, &cs), 0);
	ck_assert_int_eq(cs.people, a + 1 < CRASH_PEOPLE ? a + 1 : CRASH_PEOPLE);
	ck_assert(cs.saw_solo || solo < 0);
	ck_assert_int_eq(store_face_count(st, "cam", &n), 0);
	ck_assert_int_eq(n, cs.people + cs.saw_solo);
	store_close(st);
	return a;
}

static uint64_t crash_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

START_TEST(sigkill_at_random_moments_loses_nothing_acknowledged)
{
	char *d = tmp_dir();
	uint64_t seed = 20240611;
	int64_t acked = -1, last = -1;

	for (int r = 0; r < CRASH_ROUNDS; r++) {
		int fds[2], status;
		int64_t v;
		pid_t pid;
		struct timespec delay;
		uint64_t us = crash_rand(&seed) % 50000;

		ck_assert_int_eq(pipe(fds), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			close(fds[0]);
			crash_child(d, fds[1]);
		}
		close(fds[1]);
		/* most rounds kill once the child has opened the store; every
		 * fourth at any moment, during open and creation too */
		if (r % 4 != 0)
			ck_assert_int_eq(read(fds[0], &v, sizeof v), sizeof v);
		delay.tv_sec = 0;
		delay.tv_nsec = (long)us * 1000;
		nanosleep(&delay, NULL);
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
			      "round %d: the writer stopped by itself (status %d)",
			      r, status);
		while (read(fds[0], &v, sizeof v) == sizeof v)
			if (v > acked)
				acked = v;
		close(fds[0]);
		last = crash_verify(d, acked);
	}
	ck_assert_msg(acked > 0, "the writer never completed a step");
	ck_assert_int_ge(last, acked);
	drop_dir(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, kv_set_get_overwrite_delete_and_each_cid_is_separate);
	tcase_add_test(tc, faces_round_trip_every_field_and_descriptors_bit_exactly);
	tcase_add_test(tc, replacing_a_person_changes_every_field_and_keeps_their_place);
	tcase_add_test(tc, face_del_and_clear_touch_only_their_cid);
	tcase_add_test(tc, a_nested_begin_is_undone_alone_and_kept_only_by_the_outer_commit);
	tcase_add_test(tc, foreach_stops_on_nonzero_and_refuses_calls_from_its_callback);
	tcase_add_test(tc, a_descriptor_not_a_whole_number_of_floats_is_corrupt);
	tcase_add_test(tc, records_come_oldest_first_and_next_skips_to_after);
	tcase_add_test(tc, rec_add_beyond_cap_drops_exactly_the_oldest_and_counts_them);
	tcase_add_test(tc, rec_del_and_clear_remove_only_what_they_name);
	tcase_add_test(tc, rollback_undoes_every_write_since_begin);
	tcase_add_test(tc, reopening_keeps_everything_and_dir_is_created_when_missing);
	tcase_add_test(tc, open_refuses_garbage_and_foreign_databases_as_corrupt);
	tcase_add_test(tc, open_reports_a_damaged_page_as_corrupt);
	tcase_add_test(tc, a_read_only_state_file_is_refused_at_open);
	tcase_add_test(tc, an_empty_state_file_is_refused_and_left_alone);
	tcase_add_test(tc, a_second_process_on_one_state_directory_is_refused);
	tcase_add_test(tc, version_1_is_migrated_and_refused_records_move_aside);
	tcase_add_test(tc, sigkill_at_random_moments_loses_nothing_acknowledged);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
