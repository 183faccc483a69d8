/* check_mock_page.c -- the mock's live page in a real headless browser:
 * `camsim mock` and `camsim load` devices run as a user runs them, and
 * Debian's chromium, driven over WebDriver (chromedriver; HTTP with
 * libcurl), watches the page update by itself.  chromium and
 * chromium-driver are required (tools/deps.sh): a failure, never a skip. */
#include "proc.h"
#include "b64.h"
#include "file.h"

#include <curl/curl.h>

#define CHROMEDRIVER "/usr/bin/chromedriver"
#define CHROMIUM "/usr/bin/chromium"

/* chromedriver, started by main() outside Check's fork so that its
 * browsers go with it whatever a test does (they share its process
 * group). */
static pid_t driver_pid;
static int driver_port;

/* ---------------------------------------------------------------- HTTP */

typedef struct buf {
	char *p;
	size_t n;
} buf;

static size_t sink(char *p, size_t sz, size_t n, void *ud)
{
	buf *b = ud;
	char *nb = realloc(b->p, b->n + sz * n + 1);

	if (!nb)
		return 0;
	memcpy(nb + b->n, p, sz * n);
	b->n += sz * n;
	nb[b->n] = '\0';
	b->p = nb;
	return sz * n;
}

/* method url with body (NULL: none, or "" for an empty POST) of ctype;
 * the answer's body (caller frees) and *status (0 when no answer). */
static char *request(const char *method, const char *url, const char *body,
		     size_t len, const char *ctype, long *status)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hs = curl_slist_append(NULL, "Expect:");
	char ct[128];
	buf b = {0};

	/* no ck_assert here: main() asks chromedriver before Check runs */
	*status = 0;
	if (!h)
		return strdup("");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (body) {
		snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
		hs = curl_slist_append(hs, ct);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hs);
	return b.p ? b.p : strdup("");
}

/* ---------------------------------------------------------------- WebDriver */

typedef struct wd {
	char base[160]; /* http://127.0.0.1:PORT/session/ID */
} wd;

/* One WebDriver command: its "value" (caller deletes); fails the test on
 * an error, naming it. */
static cJSON *wd_cmd(const char *method, const char *url, const cJSON *arg)
{
	char *body = arg ? cJSON_PrintUnformatted(arg) : NULL;
	long st;
	char *out = request(method, url, body ? body : (strcmp(method, "POST") ?
			    NULL : "{}"), body ? strlen(body) : 2,
			    "application/json", &st);
	cJSON *j = cJSON_Parse(out), *v;

	ck_assert_msg(st == 200 && j, "WebDriver %s %s: %ld %.600s", method, url,
		      st, out);
	v = cJSON_DetachItemFromObject(j, "value");
	cJSON_Delete(j);
	free(out);
	cJSON_free(body);
	return v;
}

/* A session of headless chromium with a profile in dir. */
static void wd_open(wd *w, const char *dir)
{
	char url[96], args[PR_DIR + 64];
	cJSON *caps = cJSON_CreateObject(), *v;

	snprintf(args, sizeof args, "--user-data-dir=%s/profile", dir);
	const char *argv[] = {"--headless=new", "--no-sandbox", "--disable-gpu",
			      "--disable-dev-shm-usage", "--window-size=1280,2000",
			      args};
	cJSON *opts = cJSON_AddObjectToObject(cJSON_AddObjectToObject(
		cJSON_AddObjectToObject(caps, "capabilities"), "alwaysMatch"),
		"goog:chromeOptions");
	cJSON_AddStringToObject(opts, "binary", CHROMIUM);
	cJSON_AddItemToObject(opts, "args", cJSON_CreateStringArray(argv, 6));
	snprintf(url, sizeof url, "http://127.0.0.1:%d/session", driver_port);
	v = wd_cmd("POST", url, caps);
	cJSON_Delete(caps);
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(v, "sessionId"));
	ck_assert_ptr_nonnull(id);
	snprintf(w->base, sizeof w->base, "%s/%s", url, id);
	cJSON_Delete(v);
}

static void wd_close(wd *w)
{
	cJSON_Delete(wd_cmd("DELETE", w->base, NULL));
}

static void wd_go(wd *w, const char *page)
{
	char url[200];
	cJSON *a = cJSON_CreateObject();

	cJSON_AddStringToObject(a, "url", page);
	snprintf(url, sizeof url, "%s/url", w->base);
	cJSON_Delete(wd_cmd("POST", url, a));
	cJSON_Delete(a);
}

/* The value of script (a function body) run in the page with arguments
 * arg0 (a string, or NULL). */
static cJSON *wd_js(wd *w, const char *script, const char *arg0)
{
	char url[200];
	cJSON *a = cJSON_CreateObject(), *args, *v;

	cJSON_AddStringToObject(a, "script", script);
	args = cJSON_AddArrayToObject(a, "args");
	if (arg0)
		cJSON_AddItemToArray(args, cJSON_CreateString(arg0));
	snprintf(url, sizeof url, "%s/execute/sync", w->base);
	v = wd_cmd("POST", url, a);
	cJSON_Delete(a);
	return v;
}

/* Waits up to limit_s for script to return true; fails naming what with
 * the page's text of region (an element id) when it does not. */
static void wd_until(wd *w, double limit_s, const char *what,
		     const char *script, const char *arg0, const char *region)
{
	double t0 = pr_now();

	for (;;) {
		cJSON *v = wd_js(w, script, arg0);
		bool ok = cJSON_IsTrue(v);
		cJSON_Delete(v);
		if (ok)
			return;
		if (pr_now() - t0 > limit_s)
			break;
		usleep(200000);
	}
	cJSON *t = wd_js(w, "var e = document.getElementById(arguments[0]);"
			 "return e ? e.textContent : '(no #' + arguments[0] + ')';",
			 region);
	ck_abort_msg("%s: not within %.0f s; #%s says: %.1500s", what, limit_s,
		     region, cJSON_GetStringValue(t) ? t->valuestring : "?");
}

/* ---------------------------------------------------------------- test */

/* A device message posted as a tablet posts it; the status. */
static long post_device(const char *base, const char *body, size_t len)
{
	char url[200];
	long st;

	snprintf(url, sizeof url, "%s/api/face", base);
	free(request("POST", url, body, len, "application/json", &st));
	return st;
}

/* "rule at path: message" of the first violation of cid's first
 * message, as the mock's admin API has it. */
static char *first_violation(const char *base, const char *cid)
{
	char url[300], *out, *s;
	long st;
	cJSON *j, *v;

	snprintf(url, sizeof url, "%s/admin/messages?cid=%s", base, cid);
	out = request("GET", url, NULL, 0, NULL, &st);
	ck_assert_int_eq(st, 200);
	j = cJSON_Parse(out);
	v = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0),
						   "violations"), 0);
	ck_assert_msg(v, "no violation recorded: %s", out);
	size_t n = 1000;
	s = malloc(n);
	snprintf(s, n, "%s at %s: %s",
		 cJSON_GetStringValue(cJSON_GetObjectItem(v, "rule")),
		 cJSON_GetStringValue(cJSON_GetObjectItem(v, "path")),
		 cJSON_GetStringValue(cJSON_GetObjectItem(v, "message")));
	cJSON_Delete(j);
	free(out);
	return s;
}

/* What each region's text or state must become; the page is loaded once
 * and never again (window.__loaded survives only without a reload). */
static const char js_text_is[] =
	"var e = document.getElementById(arguments[0].split('=')[0]);"
	"return !!e && e.textContent === arguments[0].split('=')[1];";
static const char js_region_has[] =
	"var i = arguments[0].indexOf('=');"
	"var e = document.getElementById(arguments[0].slice(0, i));"
	"return !!e && e.textContent.indexOf(arguments[0].slice(i + 1)) >= 0;";
static const char js_rows_offline[] =
	"var rows = document.querySelectorAll('#live-devices tr'), n = 0;"
	"for (var i = 0; i < rows.length; i++) {"
	"  var c = rows[i].cells;"
	"  if (c[0].textContent.indexOf('load-') === 0) {"
	"    if (c[1].textContent !== arguments[0]) return false;"
	"    n++;"
	"  }"
	"}"
	"return n === 3;";
static const char js_thumb_loaded[] =
	"var i = document.querySelector('#live-device img');"
	"return !!i && i.complete && i.naturalWidth > 0 &&"
	" i.naturalWidth <= 160 && i.src.indexOf('/thumb') > 0;";
static const char js_not_reloaded[] =
	"return window.__loaded === 'once' &&"
	" Number(document.body.dataset.refreshes) > 0;";
static const char js_nothing_ran[] =
	"return window.__pwned === undefined &&"
	" document.querySelectorAll('img[src=\"x\"]').length === 0;";

START_TEST(page_updates_by_itself_while_devices_run)
{
	char dir[PR_DIR], base[128], url[300], srv[200], log[PR_DIR + 16];
	char *jpg, *b64, *snap, *want;
	size_t n;
	wd w;

	pr_tmpdir(dir, "page");
	pid_t mock = pr_start_mock(dir, base, sizeof base);
	wd_open(&w, dir);
	snprintf(url, sizeof url, "%s/?device=bad-01", base);
	wd_go(&w, url);
	cJSON_Delete(wd_js(&w, "window.__loaded = 'once'; return 1;", NULL));
	wd_until(&w, 10, "no device yet", js_text_is, "n-devices=0", "live-stats");

	/* three devices beating every second, for 6 s */
	snprintf(srv, sizeof srv, "%s/api/face", base);
	snprintf(log, sizeof log, "%s/load.log", dir);
	const char *argv[] = {pr_camsim, "load", "--server", srv, "--devices",
			      "3", "--interval", "1", "--jitter", "0",
			      "--duration", "6s", NULL};
	pid_t load = pr_spawn(argv, NULL, log, NULL);
	wd_until(&w, 30, "3 devices online", js_text_is, "n-online=3",
		 "live-stats");
	wd_until(&w, 10, "load devices listed online", js_rows_offline,
		 "online", "live-devices");

	/* a heartbeat breaking a rule, a post that is not JSON and would run
	 * code if it were not escaped, and a snapshot, while they run */
	static const char bad[] = "{\"app_version\":\"V1.0.0\",\"cid\":\"bad-01\","
		"\"seq\":-1,\"uptime\":1700000000,\"type\":3}";
	static const char evil[] = "hello <img src=x onerror=\"window.__pwned=1\">";
	ck_assert_int_eq(post_device(base, bad, sizeof bad - 1), 200);
	ck_assert_int_eq(post_device(base, evil, sizeof evil - 1), 400);
	char path[PR_DIR], err[300];
	snprintf(path, sizeof path, "%s/faces/person-a-2.jpg", tu_root());
	ck_assert_msg(base_read_file("picture", path, 1u << 24, &jpg, &n, err,
				     sizeof err) == 0, "%s", err);
	b64 = b64_encode(jpg, n, NULL);
	n = strlen(b64) + 300;
	snap = malloc(n);
	snprintf(snap, n, "{\"cid\":\"bad-01\",\"type\":1,\"time\":1700000000,"
		 "\"faces\":[\"%s\"],\"result\":{\"person_id\":\"p1\","
		 "\"person_name\":\"Ann\",\"confidence\":0.9,\"person_type\":1}}",
		 b64);
	ck_assert_int_eq(post_device(base, snap, strlen(snap)), 200);

	want = first_violation(base, "bad-01");
	char arg[1100];
	snprintf(arg, sizeof arg, "live-device=%s", want);
	wd_until(&w, 15, "the violation spelled out in the device's panel",
		 js_region_has, arg, "live-device");
	snprintf(arg, sizeof arg, "live-refused=%s", evil);
	wd_until(&w, 15, "the post that is not JSON shown as text",
		 js_region_has, arg, "live-refused");
	wd_until(&w, 15, "why it was refused", js_region_has,
		 "live-refused=the body is not JSON", "live-refused");
	wd_until(&w, 15, "the snapshot's thumbnail loaded", js_thumb_loaded,
		 NULL, "live-device");
	wd_until(&w, 1, "nothing a device sent ran", js_nothing_ran, NULL,
		 "live-refused");

	/* the devices stop: offline 3 intervals after their last beat */
	int st = pr_wait(load, 60, "camsim load");
	ck_assert_msg(pr_code(st) == 0, "camsim load exited %d (%s)",
		      pr_code(st), log);
	wd_until(&w, 20, "load devices listed offline", js_rows_offline,
		 "offline", "live-devices");
	wd_until(&w, 20, "none online", js_text_is, "n-online=0", "live-stats");
	wd_until(&w, 1, "all that without a reload", js_not_reloaded, NULL,
		 "live-status");

	wd_close(&w);
	pr_stop(mock);
	pr_rmdir(dir);
	free(want);
	free(snap);
	free(b64);
	free(jpg);
}
END_TEST

/* ---------------------------------------------------------------- main */

/* A free loopback port (the kernel's pick, released for chromedriver). */
static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &al) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* Starts chromedriver and waits until it says it is ready; false with a
 * sentence on stderr when it is missing or does not come up. */
static bool start_driver(void)
{
	char port[32], url[96];
	const char *argv[] = {CHROMEDRIVER, port, NULL};
	long st = 0;

	if (access(CHROMEDRIVER, X_OK) || access(CHROMIUM, X_OK)) {
		fprintf(stderr, "check_mock_page: %s and %s are required "
			"(Debian's chromium-driver and chromium; make deps)\n",
			CHROMEDRIVER, CHROMIUM);
		return false;
	}
	driver_port = free_port();
	snprintf(port, sizeof port, "--port=%d", driver_port);
	driver_pid = pr_spawn(argv, NULL, "/dev/null", NULL);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/status", driver_port);
	for (int i = 0; i < 200; i++) {
		char *s = request("GET", url, NULL, 0, NULL, &st);
		bool ready = st == 200 && strstr(s, "\"ready\":true");
		free(s);
		if (ready)
			return true;
		usleep(50000);
	}
	fprintf(stderr, "check_mock_page: chromedriver did not answer on port "
		"%d within 10 s\n", driver_port);
	return false;
}

int main(int argc, char **argv)
{
	Suite *s = suite_create("mock_page");
	TCase *t = tcase_create("browser");
	int rc = 1;

	(void)argc;
	pr_find_camsim(argv[0]);
	curl_global_init(CURL_GLOBAL_ALL);
	tcase_set_timeout(t, 180);
	tcase_add_test(t, page_updates_by_itself_while_devices_run);
	suite_add_tcase(s, t);
	if (start_driver())
		rc = tu_run(s);
	else
		srunner_free(srunner_create(s));
	if (driver_pid > 0) {
		pr_stop(driver_pid);
		kill(-driver_pid, SIGKILL); /* its browsers, whatever happened */
	}
	curl_global_cleanup();
	return rc;
}
