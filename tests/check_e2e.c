/* check_e2e.c -- tests/e2e_device.py drives the built `camsim device' against
 * a scripted Python http.server (not camsim's own): wire format, Expect:
 * 100-continue, every reply kind of the spec.  Asserts exit 0 and the key
 * "ok -" lines; python3 is required (a failure, never a skip). */
#include "testutil.h"

#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

/* The camsim beside this test binary (BUILD/tests/check_e2e ->
 * BUILD/camsim, so `make sanitize' drives the sanitized device), else
 * ROOT/build/camsim; CAMSIM_BIN overrides both. */
static char camsim[PATH_MAX];

static void find_camsim(const char *argv0)
{
	const char *env = getenv("CAMSIM_BIN");
	const char *slash = strrchr(argv0, '/');

	if (env && *env) {
		snprintf(camsim, sizeof camsim, "%s", env);
		return;
	}
	if (slash) {
		snprintf(camsim, sizeof camsim, "%.*s/../camsim",
			 (int)(slash - argv0), argv0);
		if (access(camsim, X_OK) == 0) {
			char *abs = realpath(camsim, NULL);
			if (abs) {
				snprintf(camsim, sizeof camsim, "%s", abs);
				free(abs);
			}
			return;
		}
	}
	snprintf(camsim, sizeof camsim, "%s/build/camsim", tu_root());
}

/* Runs cmd through the shell; its stdout and stderr, and its exit status
 * (-1 when it could not run or was killed). */
static char *run_cmd(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	char *out = NULL;
	size_t len = 0, cap = 0, n;
	int st;

	*status = -1;
	if (!p)
		return NULL;
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 16384;
			out = realloc(out, cap);
			ck_assert_ptr_nonnull(out);
		}
		n = fread(out + len, 1, cap - len - 1, p);
		len += n;
	} while (n > 0);
	out[len] = '\0';
	st = pclose(p);
	if (st != -1 && WIFEXITED(st))
		*status = WEXITSTATUS(st);
	return out;
}

START_TEST(device_against_python_http_server)
{
	char cmd[3 * PATH_MAX];
	int status;
	char *out;
	static const char *const want[] = {
		"ok - boot heartbeat",
		"ok - empty, blank and {} 200 bodies: nothing to do",
		"ok - time_set",
		"ok - http_server_url: the next message arrives at the second server",
		"ok - config set: type 10 at once",
		"ok - config query: type 10 report in the heartbeat slot",
		"ok - strategy_manage delivery",
		"ok - facelib_manage add with a picture fails",
		"ok - facelib_manage delete (type 3): the next heartbeat carries seq 32",
		"ok - a 500 answer's body is not applied",
		"ok - facelib_batch: type 9 at once",
		"ok - snapshot (type 1, person_type 2) with Expect: 100-continue",
		"ok - server withholds 100 Continue: the device sends the body anyway",
		"ok - reupload query",
		"ok - network down: the snapshot is stored; at reupload_time it is "
		"retransmitted with its original time",
		"ok - control: type 12 at once",
		"ok - door opened with the relay released: alarm",
		"ok - fw_upgrade: the running version -> type 6 error 5; a 404 "
		"package URL -> type 6 error 2",
		"ok - fw_upgrade: GET /pkg.bin, type 6 error 6",
		"ok - reboot: new uptime",
		"ok - Expect: 100-continue on all",
		"pass camsim validate --to-server (strict)",
		"all ok",
	};

	out = run_cmd("command -v python3", &status);
	free(out);
	ck_assert_msg(status == 0, "python3 is not on PATH: the end-to-end test "
		      "runs tests/e2e_device.py with it (standard library only); "
		      "install python3 -- this test is never skipped");
	ck_assert_msg(access(camsim, X_OK) == 0, "%s is not an executable "
		      "(run make first)", camsim);

	snprintf(cmd, sizeof cmd, "cd '%s' && python3 tests/e2e_device.py '%s' "
		 "2>&1", tu_root(), camsim);
	out = run_cmd(cmd, &status);
	ck_assert_ptr_nonnull(out);
	fputs(out, stdout); /* what was covered, or why it failed */
	fflush(stdout);
	ck_assert_msg(status == 0, "tests/e2e_device.py exited %d: %.300s",
		      status, strstr(out, "not ok - ") ? strstr(out, "not ok - ")
							 : "(no reason printed)");
	ck_assert_msg(!strstr(out, "not ok"), "a check failed: %.300s",
		      strstr(out, "not ok"));
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		ck_assert_msg(strstr(out, want[i]), "the output lacks \"%s\"",
			      want[i]);
	free(out);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("e2e");
	TCase *tc = tcase_create("python_server");

	(void)argc;
	find_camsim(argv[0]);
	tcase_set_timeout(tc, 180); /* the run itself takes about 40 s */
	tcase_add_test(tc, device_against_python_http_server);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
