/* check_control.c -- the control API end to end (a loop thread, two
 * devices and the server in-process, requests through libcurl), its
 * shutdown with requests still waiting, and `camsim device': cid
 * derivation, command-line errors, a short run.  The devices point at a
 * closed loopback port: their heartbeats fail, which is fine here. */
#include "control.h"
#include "b64.h"
#include "device.h"
#include "device_cli.h"
#include "image.h"
#include "sim_err.h"
#include "testutil.h"
#include "web.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEAD_SERVER "http://127.0.0.1:9/"

/* ---------------------------------------------------------------- helpers */

/* Removes a flat directory made by a test (the state database files). */
static void rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(dir);
}

typedef struct resp {
	long status;
	char *body;
	size_t len;
	cJSON *json;
	const char *error; /* json's "error" string, or NULL */
} resp;

static size_t sink(char *p, size_t sz, size_t n, void *ud)
{
	resp *r = ud;
	char *nb = realloc(r->body, r->len + sz * n + 1);
	if (!nb)
		return 0;
	memcpy(nb + r->len, p, sz * n);
	r->len += sz * n;
	nb[r->len] = '\0';
	r->body = nb;
	return sz * n;
}

typedef struct upload {
	size_t left;
} upload;

static size_t spaces(char *buf, size_t sz, size_t n, void *ud)
{
	upload *u = ud;
	size_t k = sz * n < u->left ? sz * n : u->left;
	memset(buf, ' ', k);
	u->left -= k;
	return k;
}

static void resp_free(resp *r)
{
	free(r->body);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof *r);
}

/* One request to 127.0.0.1:port.  body NULL: GET (unless method says
 * otherwise).  fake_len > 0 sends that many spaces instead of body. */
static resp http_full(int port, const char *method, const char *path,
		      const char *body, size_t fake_len)
{
	resp r = {0};
	char url[512];
	CURL *h = curl_easy_init();
	upload up = {fake_len};
	struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: "
						  "application/json");
	CURLcode cc;

	ck_assert_ptr_nonnull(h);
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (fake_len) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, spaces);
		curl_easy_setopt(h, CURLOPT_READDATA, &up);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)fake_len);
	} else if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	}
	if (method)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	cc = curl_easy_perform(h);
	ck_assert_msg(cc == CURLE_OK, "%s %s: %s", method ? method : "", path,
		      curl_easy_strerror(cc));
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hs);
	ck_assert_ptr_nonnull(r.body);
	r.json = cJSON_Parse(r.body);
	ck_assert_msg(r.json != NULL, "answer is not JSON: %s", r.body);
	if (cJSON_IsString(cJSON_GetObjectItem(r.json, "error")))
		r.error = cJSON_GetObjectItem(r.json, "error")->valuestring;
	return r;
}

/* An event of that kind (and text, when not NULL) in the array arr. */
static bool has_event(const cJSON *arr, const char *kind, const char *text)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, arr) {
		const cJSON *k = cJSON_GetObjectItem(e, "kind");
		const cJSON *t = cJSON_GetObjectItem(e, "text");
		if (cJSON_IsString(k) && !strcmp(k->valuestring, kind) &&
		    (!text || (cJSON_IsString(t) && strstr(t->valuestring, text))))
			return true;
	}
	return false;
}

/* ---------------------------------------------------------------- fixture */

static char g_dir[64];
static loop *g_l;
static store *g_st;
static recog *g_rg;
static dev_env g_env;
static dev *g_dev[2];
static ctl *g_c;
static pthread_t g_th;
static bool g_running;

static void *loop_main(void *ud)
{
	loop_run(ud);
	return NULL;
}

static void loop_start(void)
{
	ck_assert_int_eq(pthread_create(&g_th, NULL, loop_main, g_l), 0);
	g_running = true;
}

static void loop_halt(void)
{
	if (!g_running)
		return;
	loop_stop(g_l);
	pthread_join(g_th, NULL);
	g_running = false;
}

static void api_setup(void)
{
	static const char *cids[] = {"cam2", "cam1"}; /* unsorted on purpose */
	char err[512];

	snprintf(g_dir, sizeof g_dir, "/tmp/camsim-ctl-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(g_dir));
	ck_assert_int_eq(loop_new(LOOP_REAL, 1.0, 0, &g_l), 0);
	ck_assert_msg(store_open(g_dir, &g_st, err, sizeof err) == 0, "%s", err);
	g_rg = recog_open(NULL, err, sizeof err);
	ck_assert_ptr_nonnull(g_rg);
	if (!tu_valgrind())
		ck_assert_msg(recog_available(g_rg), "%s", err);
	memset(&g_env, 0, sizeof g_env);
	g_env.loop = g_l;
	g_env.store = g_st;
	g_env.recog = g_rg;
	g_env.prof = &proto_profile_strict;
	g_env.on_event = ctl_event;
	dev_env_defaults(&g_env);
	for (int i = 0; i < 2; i++) {
		dev_opts o = {.cid = cids[i], .server_url = DEAD_SERVER,
			      .interval_s = 3, .app_version = "V1.0.0"};
		ck_assert_msg(dev_new(&g_env, &o, &g_dev[i], err, sizeof err) == 0,
			      "%s", err);
		ck_assert_msg(dev_power_on(g_dev[i], err, sizeof err) == 0, "%s",
			      err);
	}
	ck_assert_msg(ctl_start("127.0.0.1:0", g_l, g_dev, 2, &g_c, err,
				sizeof err) == 0, "%s", err);
	ck_assert_int_gt(ctl_port(g_c), 0);
	g_env.event_ud = g_c;
	loop_start();
}

static void api_teardown(void)
{
	loop_halt();
	g_env.event_ud = NULL;
	ctl_stop(g_c);
	g_c = NULL;
	for (int i = 0; i < 2; i++) {
		dev_free(g_dev[i]);
		g_dev[i] = NULL;
	}
	store_close(g_st);
	loop_free(g_l);
	recog_close(g_rg);
	rm_dir(g_dir);
}

static resp get(const char *path)
{
	return http_full(ctl_port(g_c), NULL, path, NULL, 0);
}

static resp post(const char *path, const char *body)
{
	return http_full(ctl_port(g_c), NULL, path, body, 0);
}

/* status must be want; the error (if want is not 200) contains each of
 * the NULL-terminated words. */
static void expect(resp *r, long want, const char *const *words)
{
	ck_assert_msg(r->status == want, "status %ld, want %ld: %s", r->status,
		      want, r->body);
	if (want != 200)
		ck_assert_msg(r->error != NULL, "no error sentence: %s", r->body);
	for (; words && *words; words++)
		ck_assert_msg(r->error && strstr(r->error, *words),
			      "\"%s\" not in the error: %s", *words, r->body);
}

#define EXPECT(r, want, ...) expect(&(r), want, (const char *const[]){__VA_ARGS__, NULL})

/* ---------------------------------------------------------------- control API */

START_TEST(routes_lookup_and_methods)
{
	resp r = get("/devices");
	const cJSON *arr, *d0;

	EXPECT(r, 200, NULL);
	arr = cJSON_GetObjectItem(r.json, "devices");
	ck_assert_int_eq(cJSON_GetArraySize(arr), 2);
	d0 = cJSON_GetArrayItem(arr, 0);
	ck_assert_str_eq(cJSON_GetObjectItem(d0, "cid")->valuestring, "cam1");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(d0, "on")));
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(d0, "door_open")));
	resp_free(&r);

	r = get("/devices/cam2");
	EXPECT(r, 200, NULL);
	ck_assert_str_eq(cJSON_GetObjectItem(r.json, "cid")->valuestring, "cam2");
	resp_free(&r);

	r = get("/devices/nosuch");
	EXPECT(r, 404, "\"nosuch\"");
	resp_free(&r);
	r = post("/devices/nosuch/door", "{\"open\":true}");
	EXPECT(r, 404, "\"nosuch\"");
	resp_free(&r);
	r = get("/devices/cam%31"); /* percent-encoded cid */
	EXPECT(r, 200, NULL);
	resp_free(&r);
	r = get("/nothing");
	EXPECT(r, 404, "no such endpoint");
	resp_free(&r);
	r = get("/devices/cam1/wings");
	EXPECT(r, 404, "no such endpoint");
	resp_free(&r);
	r = get("/devices/cam1/door");
	EXPECT(r, 405, "use POST");
	resp_free(&r);
	r = http_full(ctl_port(g_c), "DELETE", "/devices/cam1", NULL, 0);
	EXPECT(r, 405, "use GET");
	resp_free(&r);

	r = get("/devices/cam1/events");
	EXPECT(r, 200, NULL);
	ck_assert(has_event(cJSON_GetObjectItem(r.json, "events"), "boot", NULL));
	resp_free(&r);
	r = get("/devices/cam1/events?limit=1");
	EXPECT(r, 200, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "events")), 1);
	resp_free(&r);
	r = get("/devices/cam1/events?limit=0");
	EXPECT(r, 400, "limit", "\"0\"", "1 to 1000");
	resp_free(&r);
}
END_TEST

/* One request body a button refuses: the endpoint under /devices/cam1/,
 * the body, the status and words the error sentence must hold. */
typedef struct bad_body {
	const char *button, *body;
	long status;
	const char *words[4];
} bad_body;

static const bad_body bad_bodies[] = {
	{"door", "{\"open\": tru}", 400, {"not JSON", "line 1, column 10"}},
	{"door", "{\n  \"open\": true,\n}", 400, {"not JSON", "line 3"}},
	{"door", "", 400, {"empty"}},
	{"door", "[true]", 400, {"an array", "JSON object"}},
	{"door", "{\"open\": 1}", 400, {"open is 1", "true or false"}},
	{"door", "{\"open\": true, \"close\": 1}", 400, {"unknown field \"close\""}},
	{"network", "{}", 400, {"up is missing"}},
	{"power", "{\"action\": \"reboot\"}", 400, {"action is \"reboot\"", "\"cycle\""}},
	{"clock", "{\"zone\": 3600}", 400, {"time is missing"}},
	{"clock", "{\"time\": 1700000000, \"zone\": 50401}", 400, {"zone is 50401", "-43200", "50400"}},
	{"clock", "{\"time\": 1.5}", 400, {"time is 1.5", "integer"}},
	{"face", "{\"image\": \"x.png\", \"temperature\": 150}", 400, {"temperature is 150", "0 to 120"}},
	{"face", "{\"image\": \"x.png\", \"temperature\": \"36\"}", 400, {"temperature is \"36\", a string"}},
	{"face", "{\"image\": \"x.png\", \"mask\": 2}", 400, {"mask is 2", "0 or 1"}},
	{"face", "{\"image\": \"x.png\", \"stay\": 3601}", 400, {"stay is 3601", "3600"}},
	{"face", "{\"image\": \"x.png\", \"liveness\": 1.5}", 400, {"liveness is 1.5", "0 to 1"}},
	{"face", "{\"image\": \"x.png\", \"quality\": -0.1}", 400, {"quality is -0.1"}},
	{"face", "{\"image\": \"x.png\", \"blur\": null}", 400, {"blur is null"}},
	{"face", "{\"temperature\": 36.6}", 400, {"image and image_base64 are both missing"}},
	{"face", "{\"image\": \"a\", \"image_base64\": \"QQ==\"}", 400, {"both image and image_base64"}},
	{"face", "{\"image_base64\": \"not base64!\"}", 400, {"image_base64", "not standard base64"}},
	{"face", "{\"image\": \"/nonexistent/camsim/face.png\"}", 400, {"\"/nonexistent/camsim/face.png\"", "cannot be used"}},
	{"face", "{\"image\": \"/tmp\"}", 400, {"\"/tmp\"", "cannot be used"}},
};

START_TEST(bodies_are_validated)
{
	char fifo[64], body[128], path[64];
	resp r;

	for (size_t i = 0; i < sizeof bad_bodies / sizeof *bad_bodies; i++) {
		const bad_body *b = &bad_bodies[i];
		snprintf(path, sizeof path, "/devices/cam1/%s", b->button);
		r = post(path, b->body);
		ck_assert_msg(r.status == b->status, "bad_bodies[%zu] (POST %s "
			      "%s): status %ld, want %ld: %s", i, path, b->body,
			      r.status, b->status, r.body);
		ck_assert_msg(r.error != NULL, "bad_bodies[%zu] (POST %s %s): no "
			      "error sentence: %s", i, path, b->body, r.body);
		for (size_t w = 0; w < 4 && b->words[w]; w++)
			ck_assert_msg(strstr(r.error, b->words[w]), "bad_bodies[%zu] "
				      "(POST %s %s): \"%s\" not in the error: %s",
				      i, path, b->body, b->words[w], r.body);
		resp_free(&r);
	}
	/* a FIFO without a writer must not hang the handler */
	snprintf(fifo, sizeof fifo, "/tmp/camsim-ctl-fifo-%d", (int)getpid());
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	snprintf(body, sizeof body, "{\"image\": \"%s\"}", fifo);
	r = post("/devices/cam1/face", body);
	unlink(fifo);
	EXPECT(r, 400, fifo, "cannot be used");
	resp_free(&r);

	/* over 48 MiB: refused from the Content-Length, body not read */
	r = http_full(ctl_port(g_c), NULL, "/devices/cam1/face", NULL,
		      CTL_BODY_MAX + 1);
	EXPECT(r, 413, "48 MiB");
	resp_free(&r);
}
END_TEST

START_TEST(door_network_power_clock)
{
	resp r = post("/devices/cam1/door", "{\"open\": true}");
	const cJSON *s;

	EXPECT(r, 200, NULL);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "ok")));
	ck_assert_msg(has_event(cJSON_GetObjectItem(r.json, "events"), "door",
				"open"), "%s", r.body);
	resp_free(&r);
	r = get("/devices/cam1");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "door_open")));
	resp_free(&r);
	r = get("/devices/cam2"); /* the other device is untouched */
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "door_open")));
	resp_free(&r);
	r = post("/devices/cam1/door", "{\"open\": false}");
	EXPECT(r, 200, NULL);
	ck_assert(has_event(cJSON_GetObjectItem(r.json, "events"), "door", "closed"));
	resp_free(&r);

	r = post("/devices/cam1/network", "{\"up\": false}");
	EXPECT(r, 200, NULL);
	resp_free(&r);
	r = get("/devices/cam1");
	s = cJSON_GetObjectItem(r.json, "network");
	ck_assert_msg(cJSON_IsFalse(s), "%s", r.body);
	resp_free(&r);
	r = post("/devices/cam1/network", "{\"up\": true}");
	EXPECT(r, 200, NULL);
	resp_free(&r);
	r = get("/devices/cam1");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "network")));
	resp_free(&r);

	r = post("/devices/cam1/power", "{\"action\": \"off\"}");
	EXPECT(r, 200, NULL);
	ck_assert(has_event(cJSON_GetObjectItem(r.json, "events"), "off", NULL));
	resp_free(&r);
	r = get("/devices");
	s = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "devices"), 0);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(s, "on")));
	resp_free(&r);
	r = post("/devices/cam1/power", "{\"action\": \"off\"}");
	EXPECT(r, 409, "already off");
	resp_free(&r);
	r = post("/devices/cam1/face", "{\"image_base64\": \"QUJD\"}");
	EXPECT(r, 409, "off");
	resp_free(&r);
	r = post("/devices/cam1/power", "{\"action\": \"on\"}");
	EXPECT(r, 200, NULL);
	ck_assert(has_event(cJSON_GetObjectItem(r.json, "events"), "boot", NULL));
	resp_free(&r);
	r = post("/devices/cam1/power", "{\"action\": \"on\"}");
	EXPECT(r, 409, "already on");
	resp_free(&r);
	r = post("/devices/cam1/power", "{\"action\": \"cycle\"}");
	EXPECT(r, 200, NULL);
	ck_assert(has_event(cJSON_GetObjectItem(r.json, "events"), "off", NULL));
	ck_assert(has_event(cJSON_GetObjectItem(r.json, "events"), "boot", NULL));
	resp_free(&r);

	r = post("/devices/cam1/clock", "{\"time\": 1700000000, \"zone\": 28800}");
	EXPECT(r, 200, NULL);
	resp_free(&r);
	r = get("/devices/cam1");
	s = cJSON_GetObjectItem(r.json, "time_zone");
	ck_assert_msg(cJSON_IsNumber(s) && s->valuedouble == 28800, "%s", r.body);
	s = cJSON_GetObjectItem(r.json, "clock");
	ck_assert_msg(cJSON_IsNumber(s) && s->valuedouble >= 1700000000 &&
		      s->valuedouble < 1700000100, "%s", r.body);
	resp_free(&r);
}
END_TEST

/* {"readings": [36.5, ... n times]} */
static char *readings(int n)
{
	char *b = malloc(32 + (size_t)n * 6);
	strcpy(b, "{\"readings\": [");
	for (int i = 0; i < n; i++)
		strcat(b, i ? ",36.5" : "36.5");
	strcat(b, "]}");
	return b;
}

START_TEST(thermal_readings)
{
	char *body;
	resp r = post("/devices/cam1/thermal", "{\"readings\": []}");

	EXPECT(r, 400, "readings is an array of 0", "1 to 64");
	resp_free(&r);
	r = post("/devices/cam1/thermal", "{\"readings\": 36.5}");
	EXPECT(r, 400, "readings is 36.5");
	resp_free(&r);
	r = post("/devices/cam1/thermal", "{\"readings\": [36.5, 200]}");
	EXPECT(r, 400, "readings[1] is 200", "0 to 120");
	resp_free(&r);
	r = post("/devices/cam1/thermal", "{\"readings\": [36.5, \"hot\"]}");
	EXPECT(r, 400, "readings[1] is \"hot\"");
	resp_free(&r);
	body = readings(65);
	r = post("/devices/cam1/thermal", body);
	EXPECT(r, 400, "an array of 65");
	resp_free(&r);
	free(body);
	r = post("/devices/cam1/thermal", "{\"readings\": [36.5, 38.2]}");
	EXPECT(r, 200, NULL);
	resp_free(&r);
	/* 2 queued: 63 more do not fit the device's queue of 64 */
	body = readings(63);
	r = post("/devices/cam1/thermal", body);
	EXPECT(r, 409, "63 more do not fit", "cam1");
	resp_free(&r);
	free(body);
	body = readings(62);
	r = post("/devices/cam1/thermal", body);
	EXPECT(r, 200, NULL);
	resp_free(&r);
	free(body);
}
END_TEST

/* The path of a small picture: the fixture when present, else one encoded
 * now into path (a temporary file the caller removes). */
static const char *picture(char *path, size_t n)
{
	char fixture[512];
	unsigned char px[4 * 3 * 3], *jpg = NULL;
	img im = {4, 3, px};
	size_t len = 0;
	FILE *f;

	snprintf(fixture, sizeof fixture, "%s/fixtures/images/rgb_4x3.png",
		 tu_root());
	if (!access(fixture, R_OK)) {
		snprintf(path, n, "%s", fixture);
		return NULL;
	}
	memset(px, 128, sizeof px);
	ck_assert_int_eq(img_encode_jpeg(&im, 90, &jpg, &len), 0);
	snprintf(path, n, "/tmp/camsim-ctl-face-%d.jpg", (int)getpid());
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(jpg, 1, len, f), len);
	fclose(f);
	free(jpg);
	return path;
}

/* Under valgrind (tests/run.sh keeps the models out of reach) recognition
 * is unavailable: 503 with the reason; elsewhere setup asserted the models
 * load and the frame is recognised for real. */
static void expect_face(resp r, const char *event_text)
{
	if (tu_valgrind()) {
		EXPECT(r, 503, "unavailable");
		ck_assert_ptr_null(cJSON_GetObjectItem(r.json, "ok"));
		return;
	}
	EXPECT(r, 200, NULL);
	ck_assert_msg(has_event(cJSON_GetObjectItem(r.json, "events"), "face",
				event_text), "no face event \"%s\": %s", event_text,
		      r.body);
}

START_TEST(face_events_run_recognition)
{
	char path[512], other[512], body[1200], *b64, *json;
	const char *tmp = picture(path, sizeof path);
	size_t len;
	char *bytes = tu_read(path, &len);
	resp r;

	ck_assert_ptr_nonnull(bytes);
	snprintf(body, sizeof body, "{\"image\": \"%s\", \"temperature\": 36.6, "
		 "\"mask\": 1, \"stay\": 0, \"liveness\": 0.95, \"quality\": 0.9, "
		 "\"blur\": 0.1}", path);
	r = post("/devices/cam1/face", body);
	expect_face(r, "no face in the frame");
	resp_free(&r);

	/* a person the device does not know: a stranger after its looks */
	snprintf(other, sizeof other, "%s/faces/person-a-2.jpg", tu_root());
	if (!tu_valgrind() && !access(other, R_OK)) {
		snprintf(body, sizeof body, "{\"image\": \"%s\", \"temperature\": "
			 "36.6}", other);
		r = post("/devices/cam1/face", body);
		expect_face(r, "stranger");
		resp_free(&r);
	}

	/* a file that is not a picture: the device says so, 400 */
	snprintf(other, sizeof other, "%s/fixtures/images/photo.jpg", tu_root());
	if (!access(other, R_OK)) {
		snprintf(body, sizeof body, "{\"image\": \"%s\"}", other);
		r = post("/devices/cam1/face", body);
		EXPECT(r, 400, "picture");
		resp_free(&r);
	}

	b64 = b64_encode(bytes, len, NULL);
	ck_assert_ptr_nonnull(b64);
	json = malloc(strlen(b64) + 64);
	sprintf(json, "{\"image_base64\": \"%s\"}", b64);
	r = post("/devices/cam2/face", json);
	expect_face(r, "no face in the frame");
	resp_free(&r);
	free(json);
	free(b64);
	free(bytes);
	if (tmp)
		unlink(tmp);
}
END_TEST

/* A camera frame made to crash stb_image 2.27 (a DHT whose code counts sum
 * over 256), by path and inline, and a format the device refuses: 400 with
 * the decoder's reason, and the API and the device serve on. */
START_TEST(hostile_camera_frame_is_a_400_and_the_api_serves_on)
{
	char path[512], body[1200], *bytes, *b64, *json;
	size_t len;
	resp r;

	snprintf(path, sizeof path, "%s/fixtures/images/hostile/dht_overflow.jpg",
		 tu_root());
	snprintf(body, sizeof body, "{\"image\": \"%s\"}", path);
	r = post("/devices/cam1/face", body);
	EXPECT(r, 400, "cannot decode the JPEG picture",
	       "libjpeg-turbo: Bogus Huffman table definition");
	resp_free(&r);
	bytes = tu_read(path, &len);
	ck_assert_ptr_nonnull(bytes);
	b64 = b64_encode(bytes, len, NULL);
	ck_assert_ptr_nonnull(b64);
	json = malloc(strlen(b64) + 64);
	sprintf(json, "{\"image_base64\": \"%s\"}", b64);
	r = post("/devices/cam2/face", json);
	EXPECT(r, 400, "Bogus Huffman table definition");
	resp_free(&r);
	snprintf(path, sizeof path, "%s/fixtures/images/rgb_4x3.bmp", tu_root());
	snprintf(body, sizeof body, "{\"image\": \"%s\"}", path);
	r = post("/devices/cam1/face", body);
	EXPECT(r, 400, "a BMP picture is refused", "only JPEG and PNG");
	resp_free(&r);
	r = get("/devices/cam1");
	EXPECT(r, 200, NULL);
	resp_free(&r);
	free(json);
	free(b64);
	free(bytes);
}
END_TEST

static void *get_in_thread(void *ud)
{
	resp *r = ud;
	*r = get("/devices/cam1");
	return NULL;
}

START_TEST(stopped_loop_and_shutdown)
{
	pthread_t th;
	resp r, waiting;

	loop_halt();
	ctl_set_job_timeout(g_c, 200);
	r = get("/devices/cam1");
	EXPECT(r, 503, "did not run the request within 200 ms");
	resp_free(&r);

	/* a request waiting for a loop that will not run: ctl_stop makes it
	 * give up; its job stays queued in the loop and must do nothing */
	ctl_set_job_timeout(g_c, 30000);
	ck_assert_int_eq(pthread_create(&th, NULL, get_in_thread, &waiting), 0);
	usleep(300 * 1000);
	g_env.event_ud = NULL;
	ctl_stop(g_c);
	g_c = NULL;
	pthread_join(th, NULL);
	ck_assert_msg(waiting.status == 503, "%s", waiting.body);
	ck_assert(strstr(waiting.error, "shutting down"));
	resp_free(&waiting);
	for (int i = 0; i < 5; i++)
		loop_step(g_l, 10); /* runs the stale jobs: no-ops */
}
END_TEST

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static bool g_detached;

static void detach_cb(void *ud)
{
	(void)ud;
	g_env.event_ud = NULL;
	pthread_mutex_lock(&g_mu);
	g_detached = true;
	pthread_cond_signal(&g_cv);
	pthread_mutex_unlock(&g_mu);
}

/* env.event_ud = NULL on the running loop's thread, as ctl.h asks. */
static void detach_on_loop(void)
{
	ck_assert_int_eq(loop_post(g_l, detach_cb, NULL), 0);
	pthread_mutex_lock(&g_mu);
	while (!g_detached)
		pthread_cond_wait(&g_cv, &g_mu);
	pthread_mutex_unlock(&g_mu);
}

typedef struct hammer {
	int port;
	atomic_bool stop;
	atomic_int ok, refused; /* 200s; 503s and connection failures */
	struct curl_slist *json; /* the Content-Type header */
} hammer;

static void *hammer_main(void *ud)
{
	hammer *hm = ud;
	char url[64];

	snprintf(url, sizeof url, "http://127.0.0.1:%d/devices/cam1/door",
		 hm->port);
	while (!atomic_load(&hm->stop)) {
		CURL *h = curl_easy_init();
		resp r = {0};
		long status = 0;
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "{\"open\": true}");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hm->json);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
		/* CivetWeb 1.15 leaves a connection accepted while it stops
		 * unanswered (until the process exits): give up soon */
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 1500L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		if (curl_easy_perform(h) == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(h);
		free(r.body);
		if (status == 200)
			hm->ok++;
		else
			hm->refused++;
		if (status != 200 && status != 503 && status != 0)
			return (void *)"unexpected status";
	}
	return NULL;
}

/* ctl_stop while the loop runs and requests keep coming: answered ones are
 * 200, the rest 503 or refused; nothing touches freed memory (ASan,
 * valgrind). */
START_TEST(stop_under_load)
{
	hammer hm = {.port = ctl_port(g_c)};
	pthread_t th[4];
	void *why;

	hm.json = curl_slist_append(NULL, "Content-Type: application/json");
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, hammer_main, &hm), 0);
	usleep(300 * 1000);
	detach_on_loop(); /* the loop keeps running: detach on its thread */
	ctl_stop(g_c);
	g_c = NULL;
	usleep(100 * 1000);
	atomic_store(&hm.stop, true);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], &why);
		ck_assert_msg(why == NULL, "%s", (char *)why);
	}
	curl_slist_free_all(hm.json);
	ck_assert_int_gt(hm.ok, 0);
	ck_assert_int_gt(hm.refused, 0);
}
END_TEST

/* ---------------------------------------------------------------- hostile callers */



/* Idle connections and clients that send a byte a second hold CivetWeb
 * workers; the control API must still answer others at once. */
START_TEST(slow_clients_do_not_stall)
{
	enum { IDLE = 12, SLOW = 6 };
	int fds[IDLE + SLOW], port = ctl_port(g_c);
	char buf[8192], req[128];
	struct timespec t0, t1;
	static const char head[] = "POST /devices/cam1/door HTTP/1.1\r\n"
				   "Host: 127.0.0.1\r\nContent-Type: "
				   "application/json\r\nContent-Length: 100\r\n\r\n";

	for (int i = 0; i < IDLE + SLOW; i++) {
		fds[i] = tu_connect(port);
		if (i >= IDLE)
			ck_assert_int_eq(write(fds[i], head, sizeof head - 1),
					 (ssize_t)sizeof head - 1);
	}
	snprintf(req, sizeof req, "GET /devices HTTP/1.1\r\nHost: 127.0.0.1:%d"
		 "\r\n\r\n", port);
	for (int round = 0; round < 3; round++) {
		for (int i = IDLE; i < IDLE + SLOW; i++)
			ck_assert_int_eq(write(fds[i], " ", 1), 1);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ck_assert_int_eq(tu_ask(port, req, buf, sizeof buf, 10000), 200);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ck_assert_msg(t1.tv_sec - t0.tv_sec < 3, "GET /devices took %ld s "
			      "beside %d idle and %d slow connections",
			      (long)(t1.tv_sec - t0.tv_sec), IDLE, SLOW);
		sleep(1);
	}
	for (int i = 0; i < IDLE + SLOW; i++)
		close(fds[i]);
}
END_TEST

/* A body that trickles in is cut off at the request's deadline (408),
 * and the worker is free again. */
START_TEST(slow_body_cut_at_deadline)
{
	int port = ctl_port(g_c), fd, st = 0;
	struct pollfd p;
	char buf[4096];
	size_t got = 0;
	struct timespec t0, t1;
	static const char head[] = "POST /devices/cam1/door HTTP/1.1\r\n"
				   "Host: 127.0.0.1\r\nContent-Type: "
				   "application/json\r\nContent-Length: 100\r\n\r\n";

	ctl_set_deadline(g_c, 1500);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd = tu_connect(port);
	ck_assert_int_eq(write(fd, head, sizeof head - 1), (ssize_t)sizeof head - 1);
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	/* a byte every 200 ms, until the answer comes (at most 8 s) */
	for (int i = 0; i < 40 && !got; i++) {
		(void)!write(fd, " ", 1);
		if (poll(&p, 1, 200) == 1) {
			ssize_t r = read(fd, buf, sizeof buf - 1);
			got = r > 0 ? (size_t)r : 0;
			if (r <= 0)
				break;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* the answer may come in pieces: the rest, until the server closes */
	while (got && got + 1 < sizeof buf && poll(&p, 1, 2000) == 1) {
		ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	close(fd);
	sscanf(buf, "HTTP/1.1 %d", &st);
	ck_assert_msg(st == 408, "a trickling body got \"%.200s\" after %ld s", buf,
		      (long)(t1.tv_sec - t0.tv_sec));
	ck_assert_msg(strstr(buf, "1500 ms"), "%s", buf);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 5);
}
END_TEST

/* CivetWeb 1.15's request_timeout_ms counts from the moment a worker takes
 * the connection, for the whole header: a client sending a header byte a
 * second is dropped after about WEB_HEADER_TIMEOUT_MS (docs/device.md,
 * Slow clients), not kept as long as it keeps sending. */
START_TEST(slow_headers_dropped)
{
	int fd = tu_connect(ctl_port(g_c));
	struct pollfd p = {.fd = fd, .events = POLLIN};
	struct timespec t0, t1;
	bool closed = false;
	char buf[512];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(write(fd, "GET /devices HTTP/1.1\r\nX-Slow: ", 31), 31);
	for (int i = 0; i < 40 && !closed; i++) {
		(void)!send(fd, "a", 1, MSG_NOSIGNAL);
		if (poll(&p, 1, 1000) == 1)
			closed = read(fd, buf, sizeof buf) <= 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	ck_assert_msg(closed, "a header sent a byte a second is still read");
	ck_assert_int_ge(t1.tv_sec - t0.tv_sec, WEB_HEADER_TIMEOUT_MS / 1000 - 1);
	ck_assert_int_le(t1.tv_sec - t0.tv_sec, 2 * WEB_HEADER_TIMEOUT_MS / 1000 + 1);
}
END_TEST

/* A web page must not press the buttons: foreign Origin 403, foreign Host
 * (DNS rebinding) 421, a form or text/plain body 415, each naming the
 * header; the API's own origin and scripts without Origin pass. */
START_TEST(cross_site_refused)
{
	int port = ctl_port(g_c);
	char req[512], buf[8192];
	static const char body[] = "{\"open\": true}";

	snprintf(req, sizeof req, "POST /devices/cam1/door HTTP/1.1\r\nHost: "
		 "127.0.0.1:%d\r\nOrigin: http://attacker.example\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		 port, sizeof body - 1, body);
	ck_assert_int_eq(tu_ask(port, req, buf, sizeof buf, 5000), 403);
	ck_assert_msg(strstr(buf, "application/json") &&
		      strstr(buf, "\"error\":\"the Origin header is "
			     "\\\"http://attacker.example\\\""), "%s", buf);
	snprintf(req, sizeof req, "GET /devices HTTP/1.1\r\nHost: "
		 "attacker.example:%d\r\n\r\n", port);
	ck_assert_int_eq(tu_ask(port, req, buf, sizeof buf, 5000), 421);
	ck_assert_msg(strstr(buf, "the Host header is \\\"attacker.example:"), "%s",
		      buf);
	snprintf(req, sizeof req, "POST /devices/cam1/door HTTP/1.1\r\nHost: "
		 "localhost:%d\r\nContent-Type: text/plain\r\nContent-Length: "
		 "%zu\r\n\r\n%s", port, sizeof body - 1, body);
	ck_assert_int_eq(tu_ask(port, req, buf, sizeof buf, 5000), 415);
	ck_assert_msg(strstr(buf, "the Content-Type header is \\\"text/plain\\\""),
		      "%s", buf);
	snprintf(req, sizeof req, "POST /devices/cam1/door HTTP/1.1\r\nHost: "
		 "127.0.0.1:%d\r\nContent-Length: %zu\r\n\r\n%s", port,
		 sizeof body - 1, body);
	ck_assert_int_eq(tu_ask(port, req, buf, sizeof buf, 5000), 415);
	ck_assert_msg(strstr(buf, "Content-Type header is missing"), "%s", buf);
	/* the API's own page, and a script */
	snprintf(req, sizeof req, "POST /devices/cam1/door HTTP/1.1\r\nHost: "
		 "127.0.0.1:%d\r\nOrigin: http://127.0.0.1:%d\r\nContent-Type: "
		 "application/json; charset=utf-8\r\nContent-Length: %zu\r\n\r\n%s",
		 port, port, sizeof body - 1, body);
	ck_assert_int_eq(tu_ask(port, req, buf, sizeof buf, 10000), 200);
	snprintf(req, sizeof req, "GET /devices/cam1 HTTP/1.1\r\nHost: "
		 "[::1]:%d\r\n\r\n", port);
	ck_assert_int_eq(tu_ask(port, req, buf, sizeof buf, 10000), 200);
}
END_TEST

/* The rules themselves, on a listener bound to a LAN address: any IP
 * address or localhost as Host (names could be rebound), the own origin
 * only, JSON writes only; parameters of the media type are fine. */
START_TEST(browser_rules_off_loopback)
{
	web_site lan = {.port = 8090, .loopback = false, .addr = "192.168.1.5"};
	web_site lo = {.port = 8090, .loopback = true, .addr = "127.0.0.1"};
	web_rq rq = {.method = "POST", .body = true,
		     .ctype = "Application/JSON ; charset=utf-8"};
	char why[400];

	rq.host = "192.168.1.5:8090";
	ck_assert_int_eq(web_check_site(&lan, &rq, WEB_CHECK_ALL, why, sizeof why), 0);
	rq.host = "[fe80::1]:8090";
	ck_assert_int_eq(web_check_site(&lan, &rq, WEB_CHECK_ALL, why, sizeof why), 0);
	rq.host = "10.1.1.1";
	ck_assert_int_eq(web_check_site(&lan, &rq, WEB_CHECK_ALL, why, sizeof why), 0);
	ck_assert_int_eq(web_check_site(&lo, &rq, WEB_CHECK_ALL, why, sizeof why), 421);
	rq.host = "camsim.lan:8090";
	ck_assert_int_eq(web_check_site(&lan, &rq, WEB_CHECK_ALL, why, sizeof why), 421);
	ck_assert_msg(strstr(why, "\"camsim.lan:8090\"") && strstr(why, "port 8090"),
		      "%s", why);
	rq.host = "192.168.1.5:8091";
	ck_assert_int_eq(web_check_site(&lan, &rq, WEB_CHECK_ALL, why, sizeof why), 421);
	rq.host = "192.168.1.5:8090";
	rq.origin = "http://192.168.1.5:8090";
	ck_assert_int_eq(web_check_site(&lan, &rq, WEB_CHECK_ALL, why, sizeof why), 0);
	rq.origin = "null";
	ck_assert_int_eq(web_check_site(&lan, &rq, WEB_CHECK_ALL, why, sizeof why), 403);
	rq.origin = NULL;
	rq.ctype = "multipart/form-data; boundary=x";
	ck_assert_int_eq(web_check_site(&lan, &rq, WEB_CHECK_ALL, why, sizeof why), 415);
	ck_assert_int_eq(web_check_site(&lan, &rq, WEB_CHECK_HOST | WEB_CHECK_ORIGIN,
					why, sizeof why), 0);
	rq.method = "GET";
	ck_assert_int_eq(web_check_site(&lan, &rq, WEB_CHECK_ALL, why, sizeof why), 0);
	rq.method = "DELETE";
	rq.ctype = "application/jsonx";
	ck_assert_int_eq(web_check_site(&lan, &rq, WEB_CHECK_ALL, why, sizeof why), 415);
}
END_TEST

/* The image field names a path: whether it is missing, a directory, too
 * large or unreadable must not show in the answer. */
START_TEST(image_path_reveals_nothing)
{
	char dir[64], big[96], locked[96], body[256], first[1200];
	const char *paths[4];
	int n = 0;
	resp r;

	snprintf(dir, sizeof dir, "/tmp/camsim-ctl-img-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(big, sizeof big, "%s/bigbigbig", dir);
	{
		FILE *f = fopen(big, "w");
		ck_assert_ptr_nonnull(f);
		fclose(f);
		ck_assert_int_eq(truncate(big, (off_t)CTL_IMAGE_MAX + 1), 0);
	}
	snprintf(locked, sizeof locked, "%s/lockedxx", dir);
	{
		FILE *f = fopen(locked, "w");
		ck_assert_ptr_nonnull(f);
		fputs("secret", f);
		fclose(f);
		chmod(locked, 0);
	}
	paths[n++] = "/nonexistent/camsim/xyz";
	paths[n++] = dir;
	paths[n++] = big;
	if (geteuid()) /* root reads any file */
		paths[n++] = locked;
	for (int i = 0; i < n; i++) {
		char *at, masked[1200];
		snprintf(body, sizeof body, "{\"image\": \"%s\"}", paths[i]);
		r = post("/devices/cam1/face", body);
		ck_assert_int_eq(r.status, 400);
		ck_assert_ptr_nonnull(r.error);
		at = strstr(r.error, paths[i]);
		ck_assert_ptr_nonnull(at);
		snprintf(masked, sizeof masked, "%.*sPATH%s", (int)(at - r.error),
			 r.error, at + strlen(paths[i]));
		if (!i)
			snprintf(first, sizeof first, "%s", masked);
		ck_assert_msg(!strcmp(masked, first), "%s answers \"%s\", %s \"%s\"",
			      paths[i], masked, paths[0], first);
		resp_free(&r);
	}
	unlink(big);
	unlink(locked);
	rmdir(dir);
}
END_TEST

START_TEST(start_errors)
{
	char err[512];
	ctl *c = NULL;
	dev *twice[2] = {g_dev[0], g_dev[0]};

	ck_assert_int_eq(ctl_start("127.0.0.1:99999", g_l, g_dev, 2, &c, err,
				   sizeof err), SIM_EINVAL);
	ck_assert(strstr(err, "\"127.0.0.1:99999\"") && strstr(err, "0 to 65535"));
	ck_assert_int_eq(ctl_start("example.com:80", g_l, g_dev, 2, &c, err,
				   sizeof err), SIM_EINVAL);
	ck_assert(strstr(err, "\"example.com:80\""));
	ck_assert_int_eq(ctl_start("", g_l, g_dev, 2, &c, err, sizeof err),
			 SIM_EINVAL);
	ck_assert_int_eq(ctl_start(":0", g_l, twice, 2, &c, err, sizeof err),
			 SIM_EINVAL);
	ck_assert_msg(strstr(err, "two devices have cid"), "%s", err);
	{
		char listen[32];
		snprintf(listen, sizeof listen, "127.0.0.1:%d", ctl_port(g_c));
		ck_assert_int_eq(ctl_start(listen, g_l, g_dev, 2, &c, err,
					   sizeof err), SIM_EIO);
		ck_assert_msg(strstr(err, listen), "%s", err);
	}
	ck_assert_ptr_null(c);
}
END_TEST

/* ---------------------------------------------------------------- camsim device */

START_TEST(cid_derivation)
{
	char c[80];

	ck_assert_int_eq(device_cid_derive("cam000001", 0, c, sizeof c), 0);
	ck_assert_str_eq(c, "cam000001");
	ck_assert_int_eq(device_cid_derive("cam000001", 1, c, sizeof c), 0);
	ck_assert_str_eq(c, "cam000002");
	ck_assert_int_eq(device_cid_derive("cam000001", 99998, c, sizeof c), 0);
	ck_assert_str_eq(c, "cam099999");
	ck_assert_int_eq(device_cid_derive("cam0", 9, c, sizeof c), 0);
	ck_assert_str_eq(c, "cam9");
	ck_assert_int_eq(device_cid_derive("cam0", 10, c, sizeof c), SIM_EINVAL);
	ck_assert_int_eq(device_cid_derive("cam99", 1, c, sizeof c), SIM_EINVAL);
	ck_assert_int_eq(device_cid_derive("0012b516a202", 3, c, sizeof c), 0);
	ck_assert_str_eq(c, "0012b516a205");
	ck_assert_int_eq(device_cid_derive("42", 0, c, sizeof c), 0);
	ck_assert_str_eq(c, "42");
	ck_assert_int_eq(device_cid_derive("lobby", 0, c, sizeof c), 0);
	ck_assert_str_eq(c, "lobby-00001");
	ck_assert_int_eq(device_cid_derive("lobby", 99999, c, sizeof c), 0);
	ck_assert_str_eq(c, "lobby-100000");
	ck_assert_int_eq(device_cid_derive("", 0, c, sizeof c), SIM_EINVAL);
	ck_assert_int_eq(device_cid_derive("lobby", 0, c, 5), SIM_EINVAL);
	ck_assert_int_eq(device_cid_derive("1234567890123456789012", 0, c,
					   sizeof c), SIM_EINVAL);
}
END_TEST

typedef tu_cli_result run;

/* Runs device_main with args (NULL-terminated), capturing both streams. */
static run cli(const char **args)
{
	return tu_cli(device_main, "device", args);
}

static void run_free(run *r)
{
	tu_cli_free(r);
}

#define BASE "--server", DEAD_SERVER, "--cid", "cam000001", "--state", "/tmp/camsim-ctl-unused"

/* exit 2, and the error names every word */
static void usage_error(const char **args, const char *w1, const char *w2)
{
	run r = cli(args);
	ck_assert_msg(r.rc == 2, "exit %d: %s", r.rc, r.err);
	ck_assert_msg(strstr(r.err, w1), "\"%s\" not in: %s", w1, r.err);
	ck_assert_msg(!w2 || strstr(r.err, w2), "\"%s\" not in: %s", w2, r.err);
	ck_assert_str_eq(r.out, "");
	run_free(&r);
}

START_TEST(cli_usage_errors)
{
	run r = cli((const char *[]){"--help", NULL});
	ck_assert_int_eq(r.rc, 0);
	ck_assert(strstr(r.out, "usage: camsim device"));
	run_free(&r);

	usage_error((const char *[]){NULL}, "--server URL is required", NULL);
	usage_error((const char *[]){"--server", DEAD_SERVER, "--state", "/tmp", NULL},
		    "--cid CID is required", NULL);
	usage_error((const char *[]){BASE, "--count", "0", NULL}, "--count is \"0\"",
		    "1 to 100000");
	usage_error((const char *[]){BASE, "--count", "100001", NULL},
		    "--count is \"100001\"", NULL);
	usage_error((const char *[]){BASE, "--count", "3x", NULL}, "--count is \"3x\"",
		    NULL);
	usage_error((const char *[]){BASE, "--interval", "0", NULL},
		    "--interval is \"0\"", "1 to 86400");
	usage_error((const char *[]){BASE, "--profile", "loose", NULL},
		    "--profile is \"loose\"", "as-printed");
	usage_error((const char *[]){BASE, "--clock", "fast", NULL},
		    "--clock is \"fast\"", "real or jump");
	usage_error((const char *[]){BASE, "--time-scale", "0", NULL},
		    "--time-scale is \"0\"", NULL);
	usage_error((const char *[]){BASE, "--time-scale", "nan", NULL},
		    "--time-scale is \"nan\"", NULL);
	usage_error((const char *[]){BASE, "--time-scale", "10", "--clock", "jump",
				     NULL}, "--time-scale 10 and --clock jump", NULL);
	usage_error((const char *[]){BASE, "--duration", "-1", NULL},
		    "--duration is \"-1\"", NULL);
	usage_error((const char *[]){BASE, "--capacity", "0", NULL},
		    "--capacity is \"0\"", NULL);
	usage_error((const char *[]){"--server", "ftp://x/", "--cid", "a",
				     "--state", "/tmp", NULL},
		    "--server is \"ftp://x/\"", "http://");
	usage_error((const char *[]){"--server", DEAD_SERVER, "--cid", "a b",
				     "--state", "/tmp", NULL},
		    "--cid is \"a b\"", "without spaces");
	usage_error((const char *[]){"--server", DEAD_SERVER, "--cid", "cam99",
				     "--count", "2", "--state", "/tmp", NULL},
		    "--count 2 does not fit --cid \"cam99\"", "more digits");
	usage_error((const char *[]){BASE, "--bogus", "1", NULL},
		    "unknown option \"--bogus\"", NULL);
	usage_error((const char *[]){BASE, "--count", NULL},
		    "--count needs a value", NULL);
	usage_error((const char *[]){BASE, "extra", NULL},
		    "unexpected argument \"extra\"", NULL);
}
END_TEST

START_TEST(cli_runtime_failures_exit_one)
{
	char dir[64] = "/tmp/camsim-ctl-XXXXXX", file[128], state[160];
	FILE *f;
	run r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof file, "%s/plain", dir);
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(state, sizeof state, "%s/sub", file); /* under a file */
	r = cli((const char *[]){"--server", DEAD_SERVER, "--cid", "cam1",
				 "--state", state, NULL});
	ck_assert_msg(r.rc == 1, "exit %d: %s", r.rc, r.err);
	ck_assert_msg(strstr(r.err, state), "%s", r.err);
	run_free(&r);

	r = cli((const char *[]){"--server", DEAD_SERVER, "--cid", "cam1",
				 "--state", dir, "--control", "1.2.3:80",
				 "--duration", "5", NULL});
	ck_assert_msg(r.rc == 1, "exit %d: %s", r.rc, r.err);
	ck_assert_msg(strstr(r.err, "--control") && strstr(r.err, "\"1.2.3:80\""),
		      "%s", r.err);
	run_free(&r);

	unlink(file);
	rm_dir(dir);
}
END_TEST

/* Set-aside records (D26) are listed for inspection, and counted in the
 * device's status. */
START_TEST(set_aside_records_are_listed)
{
	static const char junk[] = "{\"cid\":\"cam1\",\"type\":1}";
	int64_t id;
	resp r;

	r = get("/devices/cam1/records");
	EXPECT(r, 200, NULL);
	ck_assert_int_eq(cJSON_GetObjectItem(r.json, "count")->valueint, 0);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json,
								"records")), 0);
	resp_free(&r);
	loop_halt(); /* the store is the loop thread's */
	ck_assert_int_eq(store_rec_add(g_st, "cam1", 7, junk, strlen(junk), 10,
				       &id, NULL), 0);
	ck_assert_int_eq(store_rec_aside(g_st, "cam1", id, "for the test", 10), 0);
	loop_start();
	r = get("/devices/cam1/records");
	EXPECT(r, 200, NULL);
	ck_assert_int_eq(cJSON_GetObjectItem(r.json, "count")->valueint, 1);
	const cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json,
								 "records"), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(r0, "reason")->valuestring,
			 "for the test");
	ck_assert_str_eq(cJSON_GetObjectItem(r0, "body")->valuestring, junk);
	resp_free(&r);
	r = get("/devices/cam1");
	EXPECT(r, 200, NULL);
	ck_assert_int_eq(cJSON_GetObjectItem(r.json, "records_set_aside")->valueint,
			 1);
	resp_free(&r);
}
END_TEST

/* Two processes on one --state: the second exits 1 naming the lock and
 * the holder (here this very process, holding it through the store). */
START_TEST(cli_refuses_a_state_directory_in_use)
{
	char dir[64] = "/tmp/camsim-ctl-XXXXXX", err[256], want[32];
	store *st;
	run r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_msg(store_open(dir, &st, err, sizeof err) == 0, "%s", err);
	r = cli((const char *[]){"--server", DEAD_SERVER, "--cid", "cam1",
				 "--state", dir, "--duration", "0.2", NULL});
	ck_assert_msg(r.rc == 1, "exit %d: %s", r.rc, r.err);
	snprintf(want, sizeof want, "pid %d", (int)getpid());
	ck_assert_msg(strstr(r.err, dir) && strstr(r.err, "camsim-state.lock") &&
		      strstr(r.err, want), "%s", r.err);
	run_free(&r);
	store_close(st);
	rm_dir(dir);
}
END_TEST

START_TEST(cli_runs_for_its_duration)
{
	char dir[64] = "/tmp/camsim-ctl-XXXXXX", tr[128];
	struct stat st;
	run r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(tr, sizeof tr, "%s/transcript.txt", dir);
	r = cli((const char *[]){"--server", DEAD_SERVER, "--cid", "cam000001",
				 "--count", "3", "--state", dir, "--duration",
				 "0.3", "--control", "127.0.0.1:0",
				 "--transcript", tr, "--clock", "jump", NULL});
	ck_assert_msg(r.rc == 0, "exit %d: %s", r.rc, r.err);
	ck_assert_msg(strstr(r.out, "3 devices (cam000001 .. cam000003)"), "%s",
		      r.out);
	ck_assert_msg(strstr(r.out, "control API on port"), "%s", r.out);
	ck_assert_int_eq(stat(tr, &st), 0);
	run_free(&r);
	rm_dir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("control");
	TCase *api = tcase_create("api"), *cli_tc = tcase_create("cli");
	int rc;

	curl_global_init(CURL_GLOBAL_ALL);
	tcase_add_checked_fixture(api, api_setup, api_teardown);
	tcase_set_timeout(api, 30);
	tcase_add_test(api, routes_lookup_and_methods);
	tcase_add_test(api, bodies_are_validated);
	tcase_add_test(api, door_network_power_clock);
	tcase_add_test(api, thermal_readings);
	tcase_add_test(api, face_events_run_recognition);
	tcase_add_test(api, hostile_camera_frame_is_a_400_and_the_api_serves_on);
	tcase_add_test(api, stopped_loop_and_shutdown);
	tcase_add_test(api, stop_under_load);
	tcase_add_test(api, start_errors);
	tcase_add_test(api, slow_clients_do_not_stall);
	tcase_add_test(api, slow_body_cut_at_deadline);
	tcase_add_test(api, slow_headers_dropped);
	tcase_add_test(api, cross_site_refused);
	tcase_add_test(api, browser_rules_off_loopback);
	tcase_add_test(api, image_path_reveals_nothing);
	tcase_add_test(api, set_aside_records_are_listed);
	suite_add_tcase(s, api);
	tcase_set_timeout(cli_tc, 30);
	tcase_add_test(cli_tc, cid_derivation);
	tcase_add_test(cli_tc, cli_usage_errors);
	tcase_add_test(cli_tc, cli_runtime_failures_exit_one);
	tcase_add_test(cli_tc, cli_runs_for_its_duration);
	tcase_add_test(cli_tc, cli_refuses_a_state_directory_in_use);
	suite_add_tcase(s, cli_tc);
	rc = tu_run(s);
	curl_global_cleanup();
	return rc;
}
