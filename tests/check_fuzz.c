/* check_fuzz.c -- replays every fuzz corpus entry (tests/fuzz/corpus/T/)
 * and every crash turned fixture (fixtures/fuzz/T/) through the libFuzzer
 * harnesses of tests/fuzz/, linked here with their entry points renamed,
 * so the plain, ASan/UBSan and valgrind passes of `make test' all see
 * them.  A harness that crashes or breaks a property aborts the test. */
#include "testutil.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

#define FUZZ_TARGETS(X) X(proto) X(image) X(scenario) X(adapter) X(mock) X(device)

#define FUZZ_DECL(t) int fuzz_##t##_one(const uint8_t *data, size_t size);
FUZZ_TARGETS(FUZZ_DECL)
#undef FUZZ_DECL

static const struct target {
	const char *name;
	int (*one)(const uint8_t *, size_t);
} targets[] = {
#define FUZZ_ROW(t) {#t, fuzz_##t##_one},
	FUZZ_TARGETS(FUZZ_ROW)
#undef FUZZ_ROW
};
#define N_TARGETS (sizeof targets / sizeof targets[0])

/* The file being replayed, named by the signal handler: a crash in a
 * forked Check child would otherwise say only "signal 6". */
static const char *volatile current;

static void say_current(void)
{
	const char *p = current;
	if (p) {
		static const char pre[] = "check_fuzz: crashed replaying ";
		(void)!write(2, pre, sizeof pre - 1);
		(void)!write(2, p, strlen(p));
		(void)!write(2, "\n", 1);
	}
}

static void on_crash(int sig)
{
	say_current();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void watch(void)
{
	/* a broken property aborts; a plain build dies of SIGSEGV or SIGBUS
	 * itself; ASan exits after its report through the death callback
	 * (its own SEGV handler stays); gcc's UBSan has its own copy of the
	 * callback and names no file: CHECK_FUZZ_VERBOSE=1 names each */
	signal(SIGABRT, on_crash);
#if defined(__SANITIZE_ADDRESS__)
	__sanitizer_set_death_callback(say_current);
#else
	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGFPE, on_crash);
#endif
}

/* Replays every file of root/dir; returns how many files there were. */
static size_t replay(const struct target *t, const char *dir)
{
	tu_list l = tu_ls(dir, "");
	size_t n = 0;

	for (size_t i = 0; i < l.n; i++) {
		const char *base = strrchr(l.path[i], '/') + 1;
		size_t len;
		char *buf;

		if (base[0] == '.' || !strcmp(base, "README.md"))
			continue;
		buf = tu_read(l.path[i], &len);
		ck_assert_msg(buf, "%s cannot be read", l.path[i]);
		current = l.path[i];
		if (getenv("CHECK_FUZZ_VERBOSE")) /* for UBSan: it exits
						     without a callback */
			fprintf(stderr, "check_fuzz: %s\n", current);
		/* an exact-size copy, as libFuzzer gives it: ASan sees a read
		 * one byte past the end (tu_read adds a NUL) */
		uint8_t *exact = malloc(len ? len : 1);
		memcpy(exact, buf, len);
		ck_assert_int_eq(t->one(exact, len), 0);
		current = NULL;
		free(exact);
		free(buf);
		n++;
	}
	tu_ls_free(&l);
	return n;
}

START_TEST(every_corpus_entry_and_crash_fixture_replays_cleanly)
{
	const struct target *t = &targets[_i];
	char dir[256];
	size_t n;

	watch();
	setenv("CAMSIM_MODELS", "/nonexistent/camsim-fuzz", 1);
	snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", t->name);
	n = replay(t, dir);
	ck_assert_msg(n > 0, "%s: no seeds (an empty corpus fuzzes nothing)", dir);
	snprintf(dir, sizeof dir, "fixtures/fuzz/%s", t->name);
	replay(t, dir);
}
END_TEST

/* A harness added to tests/fuzz/ without a row here would never be
 * replayed; a corpus without a harness would never be fuzzed. */
START_TEST(every_harness_is_replayed_and_every_corpus_has_a_harness)
{
	tu_list h = tu_ls("tests/fuzz", ".c");
	char name[64];

	ck_assert_uint_gt(h.n, 0);
	for (size_t i = 0; i < h.n; i++) {
		const char *base = strrchr(h.path[i], '/') + 1;
		bool found = false;
		if (sscanf(base, "fuzz_%63[a-z0-9_].c", name) != 1)
			continue;
		for (size_t k = 0; k < N_TARGETS; k++)
			found |= !strcmp(targets[k].name, name);
		ck_assert_msg(found, "%s has no row in check_fuzz.c's FUZZ_TARGETS",
			      h.path[i]);
	}
	tu_ls_free(&h);
	for (size_t k = 0; k < N_TARGETS; k++) {
		char path[256];
		snprintf(path, sizeof path, "%s/tests/fuzz/fuzz_%s.c", tu_root(),
			 targets[k].name);
		ck_assert_msg(access(path, R_OK) == 0, "%s is missing", path);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fuzz corpus replay");
	TCase *tc = tcase_create("replay");

	/* hundreds of inputs; under valgrind each costs milliseconds */
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, every_corpus_entry_and_crash_fixture_replays_cleanly,
			    0, (int)N_TARGETS);
	tcase_add_test(tc, every_harness_is_replayed_and_every_corpus_has_a_harness);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
