/* fuzz_device.c -- libFuzzer harness for the device's handling of a
 * server's 200 reply (sim/device.c dev__apply_body and device_cmd.c
 * behind it): the input is the reply body, applied to a device that was
 * just powered on.  Recognition is off (CAMSIM_MODELS=/nonexistent) and the
 * loop never runs, so nothing reaches the network.  The state database
 * lives in a directory made once (/dev/shm when there is one) and is
 * recreated for every input, so one input's library, strategies and
 * config cannot leak into the next. */
#include "fuzz.h"
#include "device_test.h"
#include "loop.h"
#include "recog.h"
#include "store.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static loop *lp;
static recog *rg;

/* Removes every file the store made (the database, its WAL, a lock
 * file...), then the directory. */
static void cleanup(void)
{
	char p[512];
	DIR *dd = dir[0] ? opendir(dir) : NULL;
	struct dirent *e;

	while (dd && (e = readdir(dd)))
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
			unlink(p);
		}
	if (dd)
		closedir(dd);
	if (dir[0])
		rmdir(dir);
	loop_free(lp);
	recog_close(rg);
}

static void init(void)
{
	char err[256];

	setenv("CAMSIM_MODELS", "/nonexistent/camsim-fuzz", 1);
	snprintf(dir, sizeof dir, "%s/camsim-fuzz-dev-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	FUZZ_CHECK(mkdtemp(dir), "cannot make %s", dir);
	FUZZ_CHECK(loop_new(LOOP_JUMP, 1, 1700000000000LL, &lp) == 0, "loop_new");
	rg = recog_open(NULL, err, sizeof err);
	FUZZ_CHECK(rg, "recog_open: %s", err);
	atexit(cleanup);
}

/* Every message the device queued in answer must be valid V1.16. */
static void check_out(void *ud, const char *body, size_t len)
{
	const dev_env *env = ud;
	proto_arena a = PROTO_ARENA_INIT;
	proto_msg m;
	char err[512];
	int rc;

	rc = proto_parse(body, len, PROTO_TO_SERVER, env->prof, &a, &m,
			 err, sizeof err);
	FUZZ_CHECK(rc == 0, "the device answered with an invalid message: %s\n%.*s",
		   err, (int)len, body);
	proto_arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool inited;
	char err[256], p[128];
	dev_opts o = {.cid = "fuzz0001", .server_url = "http://127.0.0.1:9/api/face",
		      .interval_s = 10, .app_version = "V1.0.0"};
	dev_env env = {0};
	store *st = NULL;
	dev *d = NULL;
	cJSON *status;

	if (!inited) {
		init();
		inited = true;
	}
	snprintf(p, sizeof p, "%s/camsim-state.db", dir);
	unlink(p);
	FUZZ_CHECK(store_open(dir, &st, err, sizeof err) == 0, "store_open: %s", err);
	env.loop = lp;
	env.store = st;
	env.recog = rg;
	env.prof = &proto_profile_strict;
	dev_env_defaults(&env);
	FUZZ_CHECK(dev_new(&env, &o, &d, err, sizeof err) == 0, "dev_new: %s", err);
	FUZZ_CHECK(dev_power_on(d, err, sizeof err) == 0, "dev_power_on: %s", err);

	dev_test_apply_body(d, (const char *)data, size);

	dev_test_each_out(d, check_out, &env);
	status = dev_status_json(d);
	FUZZ_CHECK(status, "dev_status_json failed");
	cJSON_Delete(status);
	dev_free(d);
	store_close(st);
	return 0;
}
