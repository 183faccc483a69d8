/* check_mock.c -- the reference mock server through its device endpoint
 * and admin API (libcurl and raw sockets, the mock in-process on a fake
 * clock): delivery in heartbeat replies, outcomes through the seq
 * mechanism, the result messages and the timeout, the batch chain,
 * refused commands, Expect: 100-continue, bad device input, restart,
 * the admin token, the HTML page, record images, `camsim mock', and the
 * project's simulated device end to end. */
#include "device.h"
#include "b64.h"
#include "file.h"
#include "strbuf.h"
#include "image.h"
#include "mock.h"
#include "mock_cli.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T0 1700000000000LL
#define CID "cam000001"

static _Atomic int64_t fake_now = T0;

static int64_t fake_clock(void *ud)
{
	(void)ud;
	return atomic_load(&fake_now);
}

typedef struct fx {
	char dir[64], db[96];
	mock *m;
	int port;
} fx;

static void fx_start_opts(fx *f, mock_opts o)
{
	char err[512];

	if (!f->dir[0]) {
		snprintf(f->dir, sizeof f->dir, "/tmp/camsim-mock-XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(f->dir));
		snprintf(f->db, sizeof f->db, "%s/mock.db", f->dir);
	}
	o.db = f->db;
	if (!o.listen)
		o.listen = "127.0.0.1:0";
	if (!o.now)
		o.now = fake_clock;
	ck_assert_msg(mock_start(&o, &f->m, err, sizeof err) == 0, "%s", err);
	f->port = mock_port(f->m);
	ck_assert_int_gt(f->port, 0);
}

static void fx_start(fx *f)
{
	atomic_store(&fake_now, T0);
	memset(f, 0, sizeof *f);
	fx_start_opts(f, (mock_opts){.cmd_timeout_ms = 60000});
}

static void fx_end(fx *f)
{
	char cmd[128];

	mock_stop(f->m);
	f->m = NULL;
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* ---------------------------------------------------------------- HTTP */

typedef struct resp {
	long status;
	char *body;
	size_t len;
	char ctype[128];
	char csp[400];  /* Content-Security-Policy, "" when absent */
	char xcto[32];  /* X-Content-Type-Options */
	cJSON *json;
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

static void resp_free(resp *r)
{
	free(r->body);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof *r);
}

/* One request; body NULL: GET.  auth: the Authorization header value. */
static resp http(fx *f, const char *method, const char *path, const char *body,
		 size_t blen, const char *auth)
{
	resp r = {0};
	char url[512], ah[300];
	CURL *h = curl_easy_init();
	struct curl_slist *hs = curl_slist_append(NULL, "Expect:");
	char *ct = NULL;
	CURLcode cc;

	ck_assert_ptr_nonnull(h);
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", f->port, path);
	if (auth) {
		snprintf(ah, sizeof ah, "Authorization: %s", auth);
		hs = curl_slist_append(hs, ah);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (body) {
		/* the admin API takes JSON only; the device endpoint any type */
		hs = curl_slist_append(hs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
	}
	if (method)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	cc = curl_easy_perform(h);
	ck_assert_msg(cc == CURLE_OK, "%s: %s", path, curl_easy_strerror(cc));
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
	snprintf(r.ctype, sizeof r.ctype, "%s", ct ? ct : "");
	struct curl_header *hh;
	if (curl_easy_header(h, "Content-Security-Policy", 0, CURLH_HEADER, -1,
			     &hh) == CURLHE_OK)
		snprintf(r.csp, sizeof r.csp, "%s", hh->value);
	if (curl_easy_header(h, "X-Content-Type-Options", 0, CURLH_HEADER, -1,
			     &hh) == CURLHE_OK)
		snprintf(r.xcto, sizeof r.xcto, "%s", hh->value);
	curl_easy_cleanup(h);
	curl_slist_free_all(hs);
	if (r.body && strstr(r.ctype, "json"))
		r.json = cJSON_Parse(r.body);
	return r;
}

static resp post(fx *f, const char *json)
{
	return http(f, NULL, "/api/face", json, strlen(json), NULL);
}

static resp get(fx *f, const char *path)
{
	return http(f, NULL, path, NULL, 0, NULL);
}

/* A heartbeat of cid carrying seq; returns the reply body (caller frees,
 * "" when empty) after checking the 200. */
static char *beat(fx *f, const char *cid, long long seq)
{
	char b[300];
	resp r;
	char *out;

	snprintf(b, sizeof b, "{\"app_version\":\"V1.0.0\",\"cid\":\"%s\","
		 "\"seq\":%lld,\"uptime\":1700000000,\"type\":3}", cid, seq);
	r = post(f, b);
	ck_assert_msg(r.status == 200, "heartbeat: %ld %s", r.status,
		      r.body ? r.body : "");
	out = strdup(r.body ? r.body : "");
	resp_free(&r);
	return out;
}

static int64_t enq(fx *f, const char *cid, const char *json)
{
	char err[1024];
	cJSON *c = cJSON_Parse(json);
	int64_t id;

	ck_assert_ptr_nonnull(c);
	id = mock_enqueue(f->m, cid, c, err, sizeof err);
	cJSON_Delete(c);
	ck_assert_msg(id > 0, "enqueue %s: %s", json, err);
	return id;
}

/* The command's state name; *detail (may be NULL) gets a copy of its
 * detail sentence (caller frees). */
static char *state_of(fx *f, int64_t id, char **detail)
{
	cJSON *c = mock_command_json(f->m, id);
	char *s;

	ck_assert_ptr_nonnull(c);
	s = strdup(cJSON_GetStringValue(cJSON_GetObjectItem(c, "state")));
	if (detail) {
		const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(c, "detail"));
		*detail = strdup(d ? d : "");
	}
	cJSON_Delete(c);
	return s;
}

#define ck_state(f, id, want)                                                 \
	do {                                                                  \
		char *d_, *s_ = state_of(f, id, &d_);                         \
		ck_assert_msg(!strcmp(s_, want), "command %lld is %s (%s), "  \
			      "wanted %s", (long long)(id), s_, d_, want);    \
		free(s_);                                                     \
		free(d_);                                                     \
	} while (0)

/* A small real JPEG (the 4x3 PNG fixture re-encoded), as raw bytes. */
static unsigned char *jpeg(size_t *len)
{
	char path[512], err[256];
	img im;
	unsigned char *out = NULL;

	snprintf(path, sizeof path, "%s/fixtures/images/rgb_4x3.png", tu_root());
	ck_assert_msg(img_load_file(path, &im, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(img_encode_jpeg(&im, 90, &out, len), 0);
	img_free(&im);
	return out;
}

static char *b64_photo(size_t *raw_len)
{
	size_t n;
	unsigned char *raw = jpeg(&n);
	char *b = b64_encode(raw, n, NULL);

	free(raw);
	if (raw_len)
		*raw_len = n;
	return b;
}

static char *snapshot_json(const char *cid, const char *b64, const char *name)
{
	size_t n = strlen(b64) + 600;
	char *s = malloc(n);
	snprintf(s, n, "{\"cid\":\"%s\",\"type\":1,\"time\":1700000000,"
		 "\"faces\":[\"%s\"],\"result\":{\"person_id\":\"p1\","
		 "\"person_name\":\"%s\",\"confidence\":0.9,\"person_type\":1,"
		 "\"temperature\":36.5}}", cid, b64, name);
	return s;
}

/* ---------------------------------------------------------------- tests */

START_TEST(heartbeat_with_nothing_queued_gets_an_empty_reply_and_lists_the_device)
{
	fx f;
	fx_start(&f);
	char *r = beat(&f, CID, 1700000000);
	ck_assert_str_eq(r, ""); /* nothing queued: an empty 200 body (D3) */
	free(r);
	cJSON *devs = mock_devices_json(f.m);
	ck_assert_int_eq(cJSON_GetArraySize(devs), 1);
	cJSON *d = cJSON_GetArrayItem(devs, 0);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(d, "cid")), CID);
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(d, "last_heartbeat")),
			    (double)T0);
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(d, "last_seq")),
			    1700000000.0);
	cJSON_Delete(devs);
	fx_end(&f);
}
END_TEST

START_TEST(facelib_op_numbered_from_1_is_confirmed_by_the_heartbeat_echoing_its_seq)
{
	fx f;
	fx_start(&f);
	int64_t id = enq(&f, CID, "{\"facelib_manage\":{\"type\":3,"
			 "\"person_ids\":\"p1\"}}");
	ck_state(&f, id, "pending");
	char *r = beat(&f, CID, 1700000000);
	cJSON *j = cJSON_Parse(r);
	cJSON *fm = cJSON_GetObjectItem(j, "facelib_manage");
	ck_assert_msg(fm != NULL, "reply: %s", r);
	/* the mock numbers facelib ops from 1 (D8) */
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(fm, "seq")), 1);
	cJSON_Delete(j);
	free(r);
	ck_state(&f, id, "sent");
	atomic_fetch_add(&fake_now, 3000);
	r = beat(&f, CID, 1);
	ck_assert_str_eq(r, "");
	free(r);
	ck_state(&f, id, "confirmed");
	cJSON *c = mock_command_json(f.m, id);
	cJSON *res = cJSON_GetObjectItem(c, "result");
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(res, "type")), 3);
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(c, "done_at")),
			    (double)(T0 + 3000));
	cJSON_Delete(c);
	fx_end(&f);
}
END_TEST

START_TEST(facelib_op_fails_when_the_next_heartbeat_carries_another_seq)
{
	fx f;
	char *d;
	fx_start(&f);
	int64_t id = enq(&f, CID, "{\"facelib_manage\":{\"type\":4}}");
	free(beat(&f, CID, 1700000000));
	free(beat(&f, CID, 1700000003)); /* its send time: the op failed */
	char *s = state_of(&f, id, &d);
	ck_assert_str_eq(s, "failed");
	ck_assert_msg(strstr(d, "1700000003") && strstr(d, "not the operation's 1"),
		      "%s", d);
	free(s);
	free(d);
	fx_end(&f);
}
END_TEST

/* One facelib op in flight per device; a reply keeps queue order, so a
 * command the device would apply earlier (D5) waits for the next one. */
START_TEST(reply_carries_one_facelib_op_at_a_time_in_queue_order)
{
	fx f;
	fx_start(&f);
	int64_t a = enq(&f, CID, "{\"facelib_manage\":{\"type\":3,\"person_ids\":\"a\"}}");
	int64_t b = enq(&f, CID, "{\"facelib_manage\":{\"type\":3,\"person_ids\":\"b\"}}");
	int64_t t = enq(&f, CID, "{\"time_interval\":5}");
	int64_t o = enq(&f, "cam000002", "{\"facelib_manage\":{\"type\":4}}");
	char *r = beat(&f, CID, 1700000000);
	ck_assert_str_eq(r, "{\"facelib_manage\":{\"type\":3,\"person_ids\":\"a\",\"seq\":1}}");
	free(r);
	r = beat(&f, CID, 1700000000); /* unrelated seq: a failed */
	ck_assert_str_eq(r, "{\"facelib_manage\":{\"type\":3,\"person_ids\":\"b\",\"seq\":2}}");
	free(r);
	ck_state(&f, a, "failed");
	r = beat(&f, CID, 2);
	ck_assert_str_eq(r, "{\"time_interval\":5}");
	free(r);
	ck_state(&f, b, "confirmed");
	ck_state(&f, t, "sent");
	r = beat(&f, CID, 1700000010);
	ck_assert_str_eq(r, "");
	free(r);
	/* no confirmation exists: the next message settles it */
	ck_state(&f, t, "confirmed");
	/* another device counts from 1 too */
	r = beat(&f, "cam000002", 1700000000);
	ck_assert_str_eq(r, "{\"facelib_manage\":{\"type\":4,\"seq\":1}}");
	free(r);
	ck_state(&f, o, "sent");
	/* several kinds in one reply, in D5 order */
	enq(&f, CID, "{\"time_set\":{\"time_stamp\":1700000000,\"time_zone\":0}}");
	enq(&f, CID, "{\"control\":{\"opType\":1}}");
	enq(&f, CID, "{\"reboot\":1}");
	r = beat(&f, CID, 1700000020);
	ck_assert_str_eq(r, "{\"time_set\":{\"time_stamp\":1700000000,\"time_zone\":0},"
			 "\"control\":{\"opType\":1,\"seq\":3},\"reboot\":1}");
	free(r);
	fx_end(&f);
}
END_TEST

static void post_ok(fx *f, const char *json)
{
	resp r = post(f, json);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body ? r.body : "");
	resp_free(&r);
}

START_TEST(result_messages_settle_their_commands_and_an_unknown_seq_settles_nothing)
{
	fx f;
	fx_start(&f);
	/* queued in D5 order, so that one reply carries them all */
	int64_t cfg = enq(&f, CID, "{\"config\":{\"opType\":0,\"relay\":{\"duration\":3}}}");
	int64_t str = enq(&f, CID, "{\"strategy_manage\":{\"strategyList\":[{"
			  "\"strategyId\":7,\"name\":\"day\",\"state\":1,"
			  "\"strategyRuleList\":[{\"ruleId\":1,\"begDate\":"
			  "\"2020/01/01\",\"endDate\":\"2030/01/01\",\"timeRange\":"
			  "\"08:00:00-18:00:00\",\"week\":\"1,2,3,4,5\",\"type\":1}]}]}}");
	int64_t rq = enq(&f, CID, "{\"reupload\":{\"type\":2}}");
	int64_t ctl = enq(&f, CID, "{\"control\":{\"opType\":1}}");
	int64_t upg = enq(&f, CID, "{\"fw_upgrade\":{\"version\":\"V2.0.0\","
			  "\"download_url\":\"http://127.0.0.1:9/pkg\"}}");
	char *r = beat(&f, CID, 1700000000);
	cJSON *j = cJSON_Parse(r);
	for (const char *const *k = (const char *const[]){"config", "strategy_manage",
			"reupload", "control", "fw_upgrade", NULL}; *k; k++)
		ck_assert_msg(cJSON_GetObjectItem(j, *k), "%s missing: %s", *k, r);
	cJSON_Delete(j);
	free(r);
	post_ok(&f, "{\"cid\":\"" CID "\",\"type\":10,\"time\":1700000000,"
		"\"config\":{\"seq\":1,\"errcode\":0}}");
	ck_state(&f, cfg, "confirmed");
	post_ok(&f, "{\"cid\":\"" CID "\",\"type\":12,\"time\":1700000000,"
		"\"control\":{\"seq\":3,\"errcode\":2}}");
	ck_state(&f, ctl, "failed");
	post_ok(&f, "{\"cid\":\"" CID "\",\"type\":7,\"time\":1700000000,"
		"\"strategy_manage\":{\"resultList\":[{\"strategyId\":7,\"result\":0}]}}");
	ck_state(&f, str, "confirmed");
	ck_state(&f, rq, "sent");
	post_ok(&f, "{\"cid\":\"" CID "\",\"type\":8,\"time\":1700000000,"
		"\"reupload\":{\"reupload_time\":\"02:00:00\",\"mode\":2,"
		"\"recordes_num\":0}}");
	ck_state(&f, rq, "confirmed");
	post_ok(&f, "{\"app_version\":\"V1.0.0\",\"cid\":\"" CID "\",\"seq\":1700000001,"
		"\"uptime\":1700000000,\"type\":6,\"error\":5}");
	char *d, *s = state_of(&f, upg, &d);
	ck_assert_str_eq(s, "failed");
	ck_assert_msg(strstr(d, "error 5"), "%s", d);
	free(s);
	free(d);
	/* a second config result with an unknown seq settles nothing */
	int64_t cfg2 = enq(&f, CID, "{\"config\":{\"opType\":0,\"relay\":{\"duration\":4}}}");
	free(beat(&f, CID, 1700000002));
	post_ok(&f, "{\"cid\":\"" CID "\",\"type\":10,\"time\":1700000000,"
		"\"config\":{\"seq\":99,\"errcode\":0}}");
	ck_state(&f, cfg2, "sent");
	fx_end(&f);
}
END_TEST

START_TEST(next_facelib_batch_rides_alone_on_the_reply_to_a_batch_result)
{
	fx f;
	fx_start(&f);
	int64_t b1 = enq(&f, CID, "{\"facelib_batch\":{\"personList\":[{\"operType\":3,"
			 "\"id\":\"a\"},{\"operType\":3,\"id\":\"b\"}]}}");
	int64_t b2 = enq(&f, CID, "{\"facelib_batch\":{\"personList\":[{\"operType\":3,"
			 "\"id\":\"c\"}]}}");
	int64_t t = enq(&f, CID, "{\"time_interval\":9}");
	char *r = beat(&f, CID, 1700000000);
	ck_assert_msg(strstr(r, "\"a\"") && !strstr(r, "\"c\""), "%s", r);
	free(r);
	resp x = post(&f, "{\"cid\":\"" CID "\",\"type\":9,\"time\":1700000000,"
		      "\"facelib_batch\":{\"resultList\":[{\"operType\":3,\"id\":\"a\","
		      "\"result\":0},{\"operType\":3,\"id\":\"b\",\"result\":0}]}}");
	ck_assert_int_eq(x.status, 200);
	/* the next batch rides on the reply to the type 9 (§7), alone */
	ck_assert_msg(x.body && strstr(x.body, "\"c\"") && !strstr(x.body, "time_interval"),
		      "%s", x.body ? x.body : "(empty)");
	resp_free(&x);
	ck_state(&f, b1, "confirmed");
	x = post(&f, "{\"cid\":\"" CID "\",\"type\":9,\"time\":1700000000,"
		 "\"facelib_batch\":{\"resultList\":[{\"operType\":3,\"id\":\"c\","
		 "\"result\":4}]}}");
	ck_assert_int_eq(x.status, 200);
	ck_assert_uint_eq(x.len, 0); /* the chain ends: not a batch next */
	resp_free(&x);
	char *d, *s = state_of(&f, b2, &d);
	ck_assert_str_eq(s, "failed");
	ck_assert_msg(strstr(d, "c: library full"), "%s", d);
	free(s);
	free(d);
	ck_state(&f, t, "pending");
	fx_end(&f);
}
END_TEST

START_TEST(sent_command_times_out_on_the_mock_clock_and_a_late_result_changes_nothing)
{
	fx f;
	fx_start(&f);
	int64_t id = enq(&f, CID, "{\"control\":{\"opType\":1}}");
	free(beat(&f, CID, 1700000000));
	atomic_fetch_add(&fake_now, 59999);
	ck_state(&f, id, "sent");
	atomic_fetch_add(&fake_now, 2);
	ck_state(&f, id, "timeout"); /* judged when asked: no timer thread */
	cJSON *c = mock_command_json(f.m, id);
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(c, "done_at")),
			    (double)(T0 + 60000));
	cJSON_Delete(c);
	/* a late result changes nothing */
	post_ok(&f, "{\"cid\":\"" CID "\",\"type\":12,\"time\":1700000000,"
		"\"control\":{\"seq\":1,\"errcode\":0}}");
	ck_state(&f, id, "timeout");
	char *d, *s = state_of(&f, id, &d);
	ck_assert_str_eq(d, "no outcome within 60 s of being sent");
	free(s);
	free(d);
	/* heartbeats 150 s apart: a seq-settled op may wait for the next */
	int64_t fl = enq(&f, CID, "{\"facelib_manage\":{\"type\":4}}");
	atomic_fetch_add(&fake_now, 90000);
	free(beat(&f, CID, 1700000100)); /* gap known now; delivers fl */
	ck_state(&f, fl, "sent");
	atomic_fetch_add(&fake_now, 89000);
	ck_state(&f, fl, "sent"); /* 60 s + the 150 s gap not yet over */
	atomic_fetch_add(&fake_now, 1000);
	free(beat(&f, CID, 2));
	ck_state(&f, fl, "confirmed");
	/* a result message gets the plain timeout */
	int64_t cf = enq(&f, CID, "{\"facelog\":{\"opType\":1}}");
	free(beat(&f, CID, 1700000300));
	atomic_fetch_add(&fake_now, 60000);
	ck_state(&f, cf, "timeout");
	fx_end(&f);
}
END_TEST

START_TEST(command_breaking_the_protocol_is_refused_naming_the_rule)
{
	fx f;
	char err[1024];
	fx_start(&f);
	cJSON *c = cJSON_Parse("{\"facelib_manage\":{\"type\":1,\"face\":{\"id\":\"p1\","
			       "\"name\":\"a name that is longer than thirty-five bytes\"}}}");
	int64_t rc = mock_enqueue(f.m, CID, c, err, sizeof err);
	ck_assert_int_eq(rc, CONF_EBADCMD);
	ck_assert_msg(strstr(err, "facelib_add.face.name.max_len") &&
		      strstr(err, "$.facelib_manage.face.name"), "%s", err);
	cJSON_Delete(c);
	c = cJSON_Parse("{\"control\":{\"opType\":1},\"reboot\":1}");
	ck_assert_int_eq(mock_enqueue(f.m, CID, c, err, sizeof err), CONF_EBADCMD);
	ck_assert_msg(strstr(err, "one command at a time"), "%s", err);
	cJSON_Delete(c);
	c = cJSON_Parse("{\"rebot\":1}");
	ck_assert_int_eq(mock_enqueue(f.m, CID, c, err, sizeof err), CONF_EBADCMD);
	ck_assert_msg(strstr(err, "\"rebot\""), "%s", err);
	ck_assert_int_eq(mock_enqueue(f.m, "has space", c, err, sizeof err), CONF_EINVAL);
	cJSON_Delete(c);
	/* through the admin API: 400 naming the rule */
	const char *bad = "{\"reboot\":2}";
	resp r = http(&f, NULL, "/admin/devices/" CID "/commands", bad, strlen(bad), NULL);
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(r.json);
	ck_assert_msg(strstr(r.body, "reply.reboot.enum"), "%s", r.body);
	cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "violations"), 0);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(v, "rule")),
			 "reply.reboot.enum");
	resp_free(&r);
	/* and a good one: 201 with the command */
	const char *good = "{\"facelog\":{\"opType\":1}}";
	r = http(&f, NULL, "/admin/devices/" CID "/commands", good, strlen(good), NULL);
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "state")), "pending");
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "seq")), 1);
	resp_free(&r);
	r = get(&f, "/admin/devices/" CID "/commands");
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 1); /* only the good one */
	resp_free(&r);
	fx_end(&f);
}
END_TEST


/* What arrives within ms (at most n-1 bytes, NUL-terminated). */
static size_t raw_read(int fd, char *buf, size_t n, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t got = 0;

	while (got + 1 < n && poll(&p, 1, ms) == 1) {
		ssize_t r = read(fd, buf + got, n - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		if (memmem(buf, got, "\r\n\r\n", 4))
			break;
	}
	buf[got] = '\0';
	return got;
}

START_TEST(expect_100_continue_is_answered_at_once)
{
	fx f;
	char head[512], buf[4096];
	size_t raw_len;
	fx_start(&f);
	char *b64 = b64_photo(&raw_len);
	char *snap = snapshot_json(CID, b64, "Ann");
	int fd = tu_connect(f.port);
	int hn = snprintf(head, sizeof head, "POST /api/face HTTP/1.1\r\nHost: x\r\n"
			  "Content-Type: application/json\r\nContent-Length: %zu\r\n"
			  "Expect: 100-continue\r\n\r\n", strlen(snap));
	ck_assert_int_eq(write(fd, head, (size_t)hn), hn);
	/* the device waits 1 s for it (D4): it must come at once */
	raw_read(fd, buf, sizeof buf, 500);
	ck_assert_msg(!strncmp(buf, "HTTP/1.1 100", 12), "got \"%s\"", buf);
	ck_assert_int_eq(write(fd, snap, strlen(snap)), (ssize_t)strlen(snap));
	raw_read(fd, buf, sizeof buf, 5000);
	ck_assert_msg(!strncmp(buf, "HTTP/1.1 200", 12), "got \"%s\"", buf);
	close(fd);
	/* too large: the final 413 instead of the 100, body never read */
	fd = tu_connect(f.port);
	hn = snprintf(head, sizeof head, "POST /api/face HTTP/1.1\r\nHost: x\r\n"
		      "Content-Length: 70000000\r\nExpect: 100-continue\r\n\r\n");
	ck_assert_int_eq(write(fd, head, (size_t)hn), hn);
	raw_read(fd, buf, sizeof buf, 2000);
	ck_assert_msg(!strncmp(buf, "HTTP/1.1 413", 12), "got \"%s\"", buf);
	close(fd);
	cJSON *msgs = mock_messages_json(f.m, NULL, 0, 10);
	ck_assert_int_eq(cJSON_GetArraySize(msgs), 2);
	ck_assert_msg(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(msgs, 1), "error")), "70000000 bytes"), "413 not recorded");
	cJSON_Delete(msgs);
	free(snap);
	free(b64);
	fx_end(&f);
}
END_TEST

START_TEST(device_body_that_is_not_a_valid_message_is_a_400_naming_why)
{
	fx f;
	fx_start(&f);
	resp r = post(&f, "{\"cid\":\"x\",");
	ck_assert_int_eq(r.status, 400);
	ck_assert_msg(strstr(r.body, "not JSON") && strstr(r.body, "line 1"), "%s", r.body);
	resp_free(&r);
	static const char latin1[] = "{\"cid\":\"caf\xe9\",\"type\":3}";
	r = http(&f, NULL, "/api/face", latin1, sizeof latin1 - 1, NULL);
	ck_assert_int_eq(r.status, 400);
	ck_assert_msg(strstr(r.body, "UTF-8"), "%s", r.body);
	resp_free(&r);
	r = post(&f, "{\"cid\":\"" CID "\",\"type\":5,\"time\":1700000000}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_msg(strstr(r.body, "message.type.enum") && strstr(r.body, "$.type"),
		      "%s", r.body);
	resp_free(&r);
	r = get(&f, "/api/face");
	ck_assert_int_eq(r.status, 405);
	resp_free(&r);
	r = post(&f, ""); /* an empty body is not a message */
	ck_assert_int_eq(r.status, 400);
	resp_free(&r);
	r = http(&f, NULL, "/api/other", "{}", 2, NULL);
	ck_assert_int_eq(r.status, 404);
	ck_assert_msg(strstr(r.body, "/api/face"), "%s", r.body);
	resp_free(&r);
	/* a known kind with MUST violations: stored with them, still 200 */
	r = post(&f, "{\"app_version\":\"V1.0.0\",\"cid\":\"" CID "\",\"seq\":-1,"
		 "\"uptime\":1700000000,\"type\":3}");
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	cJSON *ms = mock_messages_json(f.m, NULL, 0, 100);
	ck_assert_int_eq(cJSON_GetArraySize(ms), 5); /* the 405 and 404 are not */
	cJSON *m0 = cJSON_GetArrayItem(ms, 0), *m1 = cJSON_GetArrayItem(ms, 1);
	ck_assert_ptr_nonnull(cJSON_GetStringValue(cJSON_GetObjectItem(m0, "raw")));
	ck_assert_msg(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(m1, "raw")), "\\xE9"),
		      "non-UTF-8 bytes kept escaped");
	cJSON *last = cJSON_GetArrayItem(ms, 4);
	cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItem(last, "violations"), 0);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(v, "rule")),
			 "heartbeat.seq.range");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(v, "path")), "$.seq");
	cJSON_Delete(ms);
	r = get(&f, "/admin/messages?cid=" CID);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
	resp_free(&r);
	fx_end(&f);
}
END_TEST

/* Nesting deep enough to overflow a 100 KiB stack, and a chunked body. */
START_TEST(deeply_nested_body_is_a_400_and_a_chunked_body_is_accepted)
{
	fx f;
	size_t n = 200000;
	char *deep = malloc(2 * n + 1);
	fx_start(&f);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	resp r = http(&f, NULL, "/api/face", deep, 2 * n, NULL);
	ck_assert_int_eq(r.status, 400);
	resp_free(&r);
	r = http(&f, NULL, "/admin/devices/" CID "/commands", deep, 2 * n, NULL);
	ck_assert_int_eq(r.status, 400);
	resp_free(&r);
	free(deep);
	/* chunked: no Content-Length */
	CURL *h = curl_easy_init();
	struct curl_slist *hs = curl_slist_append(NULL, "Transfer-Encoding: chunked");
	char url[128];
	const char *hb = "{\"app_version\":\"V1.0.0\",\"cid\":\"" CID "\","
			 "\"seq\":1700000000,\"uptime\":1700000000,\"type\":3}";
	long st = 0;
	snprintf(url, sizeof url, "http://127.0.0.1:%d/api/face", f.port);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, hb);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	ck_assert_int_eq(curl_easy_perform(h), CURLE_OK);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_cleanup(h);
	curl_slist_free_all(hs);
	resp_free(&r);
	ck_assert_int_eq(st, 200);
	cJSON *devs = mock_devices_json(f.m);
	ck_assert_int_eq(cJSON_GetArraySize(devs), 1);
	cJSON_Delete(devs);
	fx_end(&f);
}
END_TEST

/* With no command pending or sent, heartbeats take the lean path (no
 * queue queries); every way a command leaves that state (confirmed by a
 * result, by a heartbeat's seq, timed out) must leave the next command
 * queued delivered at once, as without it. */
START_TEST(lean_heartbeats_deliver_each_command_queued_after_the_last_settled)
{
	fx f;
	char *r;

	fx_start(&f);
	for (int i = 0; i < 3; i++) {
		r = beat(&f, CID, 1700000000);
		ck_assert_str_eq(r, "");
		free(r);
	}
	int64_t a = enq(&f, CID, "{\"control\":{\"opType\":1}}");
	r = beat(&f, CID, 1700000000);
	ck_assert_str_eq(r, "{\"control\":{\"opType\":1,\"seq\":1}}");
	free(r);
	post_ok(&f, "{\"cid\":\"" CID "\",\"type\":12,\"time\":1700000000,"
		"\"control\":{\"seq\":1,\"errcode\":0}}");
	ck_state(&f, a, "confirmed");
	r = beat(&f, CID, 1700000000);
	ck_assert_str_eq(r, "");
	free(r);
	int64_t b = enq(&f, CID, "{\"facelib_manage\":{\"type\":4}}");
	r = beat(&f, CID, 1700000000);
	ck_assert_str_eq(r, "{\"facelib_manage\":{\"type\":4,\"seq\":2}}");
	free(r);
	free(beat(&f, CID, 2));
	ck_state(&f, b, "confirmed");
	int64_t c = enq(&f, CID, "{\"control\":{\"opType\":1}}");
	free(beat(&f, CID, 1700000000));
	ck_state(&f, c, "sent");
	atomic_fetch_add(&fake_now, 60001);
	/* another device's heartbeat times c out */
	r = beat(&f, "cam000002", 1700000000);
	ck_assert_str_eq(r, "");
	free(r);
	ck_state(&f, c, "timeout");
	int64_t d = enq(&f, "cam000002", "{\"control\":{\"opType\":1}}");
	r = beat(&f, "cam000002", 1700000000);
	ck_assert_str_eq(r, "{\"control\":{\"opType\":1,\"seq\":1}}");
	free(r);
	ck_state(&f, d, "sent");
	r = beat(&f, CID, 1700000000);
	ck_assert_str_eq(r, "");
	free(r);
	fx_end(&f);
}
END_TEST

START_TEST(restart_on_the_same_database_keeps_messages_records_and_commands)
{
	fx f;
	char err[256];
	fx_start(&f);
	char *b64 = b64_photo(NULL);
	char *snap = snapshot_json(CID, b64, "Ann");
	post_ok(&f, snap);
	int64_t a = enq(&f, CID, "{\"facelib_manage\":{\"type\":4}}");
	char *r = beat(&f, CID, 1700000000);
	ck_assert_str_eq(r, "{\"facelib_manage\":{\"type\":4,\"seq\":1}}");
	free(r);
	ck_state(&f, a, "sent");
	int64_t b = enq(&f, CID, "{\"control\":{\"opType\":1}}");
	mock_stop(f.m);
	fx_start_opts(&f, (mock_opts){.cmd_timeout_ms = 60000});
	cJSON *devs = mock_devices_json(f.m);
	ck_assert_int_eq(cJSON_GetArraySize(devs), 1);
	cJSON_Delete(devs);
	cJSON *recs = mock_records_json(f.m, CID, 0, 10);
	ck_assert_int_eq(cJSON_GetArraySize(recs), 1);
	cJSON_Delete(recs);
	ck_state(&f, a, "sent");
	ck_state(&f, b, "pending");
	r = beat(&f, CID, 1); /* settles a, delivers b */
	ck_state(&f, a, "confirmed");
	ck_assert_str_eq(r, "{\"control\":{\"opType\":1,\"seq\":2}}");
	free(r);
	/* the counter survived: the next seq is 3, not 1 */
	int64_t c = enq(&f, CID, "{\"facelog\":{\"opType\":1}}");
	cJSON *cj = mock_command_json(f.m, c);
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(cj, "seq")), 3);
	cJSON_Delete(cj);
	mock_stop(f.m);
	/* a file that is not the mock's is refused untouched */
	FILE *x = fopen(f.db, "w");
	fputs("not a database", x);
	fclose(x);
	mock_opts o = {.db = f.db, .listen = "127.0.0.1:0"};
	f.m = NULL;
	ck_assert_int_eq(mock_start(&o, &f.m, err, sizeof err), CONF_EDB);
	ck_assert_msg(strstr(err, f.db) && strstr(err, "not a database"), "%s", err);
	snprintf(err, sizeof err, "rm -rf %s", f.dir);
	ck_assert_int_eq(system(err), 0);
	free(snap);
	free(b64);
}
END_TEST

START_TEST(admin_api_and_page_need_the_bearer_token_devices_do_not)
{
	fx f = {0};
	char err[256];
	mock *m = NULL;
	mock_opts o = {.listen = "0.0.0.0:0", .db = "/tmp/never-created.db"};
	ck_assert_int_eq(mock_start(&o, &m, err, sizeof err), CONF_EINVAL);
	ck_assert_msg(strstr(err, "token"), "%s", err);
	ck_assert_ptr_null(m);
	ck_assert_int_ne(access("/tmp/never-created.db", F_OK), 0);
	atomic_store(&fake_now, T0);
	fx_start_opts(&f, (mock_opts){.token = "s3cret"});
	resp r = get(&f, "/admin/devices");
	ck_assert_int_eq(r.status, 401);
	resp_free(&r);
	r = http(&f, NULL, "/admin/devices", NULL, 0, "Bearer wrong");
	ck_assert_int_eq(r.status, 401);
	resp_free(&r);
	r = http(&f, NULL, "/", NULL, 0, NULL);
	ck_assert_int_eq(r.status, 401); /* the page is admin too */
	resp_free(&r);
	r = http(&f, NULL, "/admin/devices", NULL, 0, "Bearer s3cret");
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	r = http(&f, NULL, "/admin/devices", NULL, 0, "Basic dTpzM2NyZXQ="); /* u:s3cret */
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	const char *cmd = "{\"reboot\":1}";
	r = http(&f, NULL, "/admin/devices/" CID "/commands", cmd, strlen(cmd), NULL);
	ck_assert_int_eq(r.status, 401);
	resp_free(&r);
	char *b = beat(&f, CID, 1700000000); /* devices never need it */
	ck_assert_str_eq(b, "");
	free(b);
	fx_end(&f);
}
END_TEST

START_TEST(html_page_escapes_what_devices_send)
{
	fx f;
	fx_start(&f);
	const char *evil = "<script>alert(1)</script>";
	char *b = beat(&f, evil, 1700000000);
	free(b);
	char *b64 = b64_photo(NULL);
	char *snap = snapshot_json(evil, b64, "<img src=x onerror=alert(2)>");
	post_ok(&f, snap);
	enq(&f, evil, "{\"reboot\":1}");
	resp r = get(&f, "/");
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(strstr(r.ctype, "text/html"), "%s", r.ctype);
	ck_assert_ptr_null(strstr(r.body, "<script>"));
	ck_assert_ptr_null(strstr(r.body, "<img src=x"));
	ck_assert_ptr_nonnull(strstr(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	ck_assert_ptr_nonnull(strstr(r.body, "&lt;img src=x onerror=alert(2)&gt;"));
	ck_assert_ptr_nonnull(strstr(r.body, "<a href=\"/admin/records/1/image\">"
				     "<img src=\"/admin/records/1/thumb\""));
	ck_assert_ptr_nonnull(strstr(r.body, "pending"));
	/* and what escaping missed could not run: the mock's own script
	 * and style only, no inline code */
	ck_assert_msg(strstr(r.csp, "default-src 'none'") &&
		      strstr(r.csp, "script-src 'self';"), "CSP: %s", r.csp);
	ck_assert_ptr_null(strstr(r.body, "<script>"));
	ck_assert_ptr_null(strstr(r.body, "<style"));
	ck_assert_str_eq(r.xcto, "nosniff");
	resp_free(&r);
	free(snap);
	free(b64);
	fx_end(&f);
}
END_TEST

START_TEST(record_picture_is_served_as_jpeg_and_a_resend_is_marked_duplicate)
{
	fx f;
	size_t raw_len, n;
	fx_start(&f);
	char *b64 = b64_photo(&raw_len);
	char *snap = snapshot_json(CID, b64, "Ann");
	post_ok(&f, snap);
	post_ok(&f, snap); /* the same record again: a resend */
	resp r = get(&f, "/admin/records/1/image");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.ctype, "image/jpeg");
	unsigned char *raw = jpeg(&n);
	ck_assert_uint_eq(r.len, n);
	ck_assert_int_eq(memcmp(r.body, raw, n), 0);
	resp_free(&r);
	r = get(&f, "/admin/records?cid=" CID "&after=1");
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
	cJSON *rec = cJSON_GetArrayItem(r.json, 0);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(rec, "resend")));
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(rec, "duplicate_of")), 1);
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(rec, "image_len")),
			    (double)raw_len);
	cJSON *faces = cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "message"), "faces");
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetArrayItem(faces, 0)),
			    (double)strlen(b64));
	resp_free(&r);
	r = get(&f, "/admin/records/9/image");
	ck_assert_int_eq(r.status, 404);
	resp_free(&r);
	r = get(&f, "/admin/records?limit=0");
	ck_assert_int_eq(r.status, 400);
	ck_assert_msg(strstr(r.body, "limit"), "%s", r.body);
	resp_free(&r);
	free(raw);
	free(snap);
	free(b64);
	fx_end(&f);
}
END_TEST

START_TEST(cli_prints_help_and_refuses_bad_options_with_status_2)
{
	const char *help[] = {"--help", NULL};
	tu_cli_result r = tu_cli(mock_main, "mock", help);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "--token-file"));
	tu_cli_free(&r);
	const char *unknown[] = {"--bogus", NULL};
	r = tu_cli(mock_main, "mock", unknown);
	ck_assert_int_eq(r.rc, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "\"--bogus\""));
	tu_cli_free(&r);
	const char *open_[] = {"--listen", "0.0.0.0:0", "--db", "/tmp/x.db", NULL};
	r = tu_cli(mock_main, "mock", open_);
	ck_assert_int_eq(r.rc, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "token"));
	tu_cli_free(&r);
	const char *both[] = {"--token", "a", "--token-file", "/dev/null", NULL};
	r = tu_cli(mock_main, "mock", both);
	ck_assert_int_eq(r.rc, 2);
	tu_cli_free(&r);
	const char *tmo[] = {"--cmd-timeout", "0", NULL};
	r = tu_cli(mock_main, "mock", tmo);
	ck_assert_int_eq(r.rc, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--cmd-timeout"));
	tu_cli_free(&r);
	r = tu_cli(mock_main, "mock", help);
	ck_assert_ptr_nonnull(strstr(r.out, "--retain AGE|SIZE"));
	ck_assert_ptr_nonnull(strstr(r.out, "--fault SPEC"));
	ck_assert_ptr_nonnull(strstr(r.out, "--fault-seed N"));
	tu_cli_free(&r);
	const char *fault[] = {"--fault", "delay=12", NULL};
	r = tu_cli(mock_main, "mock", fault);
	ck_assert_int_eq(r.rc, 2);
	ck_assert_msg(strstr(r.err, "\"delay=12\"") && strstr(r.err, "unit ms, s or m"),
		      "%s", r.err);
	tu_cli_free(&r);
	const char *retain[] = {"--retain", "12 parsecs", NULL};
	r = tu_cli(mock_main, "mock", retain);
	ck_assert_int_eq(r.rc, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--retain is \"12 parsecs\""));
	tu_cli_free(&r);
	const char *seed[] = {"--fault-seed", "-3", NULL};
	r = tu_cli(mock_main, "mock", seed);
	ck_assert_int_eq(r.rc, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--fault-seed"));
	tu_cli_free(&r);
}
END_TEST

/* A real run in a child: start line, one exchange logged, SIGTERM -> 0. */
START_TEST(cli_run_logs_its_start_and_an_exchange_and_exits_0_on_sigterm)
{
	char dir[] = "/tmp/camsim-mockcli-XXXXXX", db[96], line[512];
	int pfd[2];
	pid_t pid;
	fx f = {0};

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(db, sizeof db, "%s/m.db", dir);
	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		FILE *out = fdopen(pfd[1], "w");
		char *argv[] = {"mock", "--listen", "127.0.0.1:0", "--db", db, NULL};
		close(pfd[0]);
		_exit(mock_main(5, argv, out, stderr));
	}
	close(pfd[1]);
	FILE *in = fdopen(pfd[0], "r");
	ck_assert_ptr_nonnull(fgets(line, sizeof line, in));
	char *p = strstr(line, "(port ");
	ck_assert_msg(p, "%s", line);
	f.port = atoi(p + 6);
	char *b = beat(&f, CID, 1700000000);
	free(b);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, in));
	ck_assert_msg(strstr(line, CID " heartbeat #1 -> 200 (empty)"), "%s", line);
	{
		/* a cid that clears the screen, rings the bell and starts a
		 * line of its own: named on one line, every control escaped */
		resp r = post(&f, "{\"app_version\":\"V1.0.0\",\"cid\":"
			      "\"X\\u001b[2J\\u0007\\nFAKE\",\"seq\":2,"
			      "\"uptime\":1700000000,\"type\":3}");
		bool named = false;
		resp_free(&r);
		for (int i = 0; i < 3 && !named; i++) {
			ck_assert_ptr_nonnull(fgets(line, sizeof line, in));
			ck_assert_msg(!strpbrk(line, "\x1b\x07"),
				      "raw control in %s", line);
			ck_assert_msg(strncmp(line, "FAKE", 4), "%s", line);
			named = strstr(line, "\"X\\x1B[2J\\x07\\nFAKE\"") != NULL;
		}
		ck_assert_msg(named, "the cid is not in the log: %s", line);
	}
	kill(pid, SIGTERM);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	fclose(in);
	snprintf(line, sizeof line, "rm -rf %s", dir);
	ck_assert_int_eq(system(line), 0);
}
END_TEST

/* ---------------------------------------------------------------- device */

typedef struct devfx {
	loop *l;
	store *st;
	recog *rg;
	dev_env env;
	dev *d;
} devfx;

static int64_t dev_clock(void *ud)
{
	return loop_now(ud);
}

/* Steps the device's loop until command id is no longer pending or sent
 * (at most ~10 s of wall time). */
static void run_until_settled(fx *f, devfx *d, int64_t id)
{
	for (int i = 0; i < 10000; i++) {
		char *s = state_of(f, id, NULL);
		bool open = !strcmp(s, "pending") || !strcmp(s, "sent");
		free(s);
		if (!open && loop_http_in_flight(d->l) == 0)
			return;
		loop_step(d->l, 1);
	}
	ck_abort_msg("command %lld never settled", (long long)id);
}

/* camsim's own device: config set confirmed by its type 10, then a
 * capture (recognition off) uploaded with Expect: 100-continue and stored
 * with its picture, all within the jump clock's first seconds. */
START_TEST(camsim_device_config_is_confirmed_and_its_capture_stored_with_the_picture)
{
	fx f;
	devfx d = {0};
	char err[256], url[128];
	memset(&f, 0, sizeof f);
	snprintf(f.dir, sizeof f.dir, "/tmp/camsim-mock-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f.dir));
	snprintf(f.db, sizeof f.db, "%s/mock.db", f.dir);
	ck_assert_int_eq(loop_new(LOOP_JUMP, 1, T0, &d.l), 0);
	fx_start_opts(&f, (mock_opts){.now = dev_clock, .now_ud = d.l});
	ck_assert_msg(store_open(f.dir, &d.st, err, sizeof err) == 0, "%s", err);
	d.rg = recog_open(NULL, err, sizeof err);
	d.env.loop = d.l;
	d.env.store = d.st;
	d.env.recog = d.rg;
	dev_env_defaults(&d.env);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/api/face", f.port);
	dev_opts o = {.cid = CID, .server_url = url, .interval_s = 3,
		      .app_version = "V1.0.0"};
	int64_t id = enq(&f, CID, "{\"config\":{\"opType\":0,\"face_rec\":{\"enable\":0},"
			 "\"face_cap\":{\"upload_mode\":2}}}");
	ck_assert_msg(dev_new(&d.env, &o, &d.d, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(dev_power_on(d.d, err, sizeof err) == 0, "%s", err);
	run_until_settled(&f, &d, id);
	ck_state(&f, id, "confirmed");
	char path[512];
	size_t n;
	snprintf(path, sizeof path, "%s/fixtures/images/rgb_4x3.png", tu_root());
	char *raw = tu_read(path, &n);
	dev_face_in in = {.image = raw, .image_len = n, .has_temperature = true,
			  .temperature = 36.6};
	ck_assert_msg(dev_face(d.d, &in, err, sizeof err) == 0, "%s", err);
	free(raw);
	cJSON *recs = NULL;
	for (int i = 0; i < 5000; i++) {
		cJSON_Delete(recs);
		recs = mock_records_json(f.m, CID, 0, 10);
		if (cJSON_GetArraySize(recs) > 0)
			break;
		loop_step(d.l, 1);
	}
	ck_assert_int_eq(cJSON_GetArraySize(recs), 1);
	cJSON *rec = cJSON_GetArrayItem(recs, 0);
	ck_assert_double_gt(cJSON_GetNumberValue(cJSON_GetObjectItem(rec, "image_len")), 0);
	cJSON_Delete(recs);
	cJSON *ms = mock_messages_json(f.m, CID, 0, 100), *m;
	cJSON_ArrayForEach(m, ms)
		ck_assert_msg(cJSON_GetArraySize(cJSON_GetObjectItem(m, "violations")) == 0,
			      "the device's %s broke a rule",
			      cJSON_GetStringValue(cJSON_GetObjectItem(m, "kind")));
	cJSON_Delete(ms);
	dev_free(d.d);
	mock_stop(f.m);
	f.m = NULL;
	loop_free(d.l);
	store_close(d.st);
	recog_close(d.rg);
	snprintf(path, sizeof path, "rm -rf %s", f.dir);
	ck_assert_int_eq(system(path), 0);
}
END_TEST


static double secs_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* 100 idle connections and 100 that send a byte a second (half in their
 * headers, half in their bodies) while other devices' heartbeats must be
 * answered within the device's HTTP timeout (dev_config.http_timeout_ms,
 * 10 s; here at once). */
START_TEST(slow_and_idle_clients_do_not_delay_heartbeat_replies)
{
	enum { IDLE = 100, SLOW = 100, BEATS = 12 };
	static const char head[] = "POST /api/face HTTP/1.1\r\nHost: x\r\n"
				   "Content-Length: 500\r\n\r\n";
	static const char part[] = "POST /api/face HTTP/1.1\r\nX-Slow: ";
	int fds[IDLE + SLOW];
	struct timespec t0;
	fx f;

	fx_start(&f);
	for (int i = 0; i < IDLE + SLOW; i++) {
		fds[i] = tu_connect(f.port);
		if (i >= IDLE) {
			const char *h = (i - IDLE) % 2 ? head : part;
			ck_assert_int_eq(write(fds[i], h, strlen(h)),
					 (ssize_t)strlen(h));
		}
	}
	for (int b = 0; b < BEATS; b++) {
		char cid[32], *reply;
		if (b % 2 == 0)
			for (int i = IDLE; i < IDLE + SLOW; i++)
				ck_assert_int_eq(write(fds[i], "a", 1), 1);
		snprintf(cid, sizeof cid, "cam%06d", 100 + b);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		reply = beat(&f, cid, b + 1); /* curl gives up after 10 s */
		ck_assert_msg(secs_since(&t0) < 5.0, "heartbeat %d took %.1f s beside "
			      "%d idle and %d slow connections", b, secs_since(&t0),
			      IDLE, SLOW);
		free(reply);
		usleep(500 * 1000);
	}
	for (int i = 0; i < IDLE + SLOW; i++)
		close(fds[i]);
	fx_end(&f);
}
END_TEST

/* A trickling body is cut off at the request's deadline with 408, and a
 * body refused from its Content-Length is not drained beyond it. */
START_TEST(trickling_body_is_cut_at_the_deadline_with_408)
{
	static const char *const heads[] = {
		"POST /api/face HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n",
		"POST /api/face HTTP/1.1\r\nHost: x\r\nContent-Length: 70000000\r\n\r\n",
	};
	fx f;

	atomic_store(&fake_now, T0);
	memset(&f, 0, sizeof f);
	fx_start_opts(&f, (mock_opts){.deadline_ms = 1500});
	for (int k = 0; k < 2; k++) {
		int fd = tu_connect(f.port);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		struct timespec t0;
		char buf[4096];
		size_t got = 0;
		bool closed = false;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		ck_assert_int_eq(write(fd, heads[k], strlen(heads[k])),
				 (ssize_t)strlen(heads[k]));
		/* a byte every 200 ms until the mock closes (at most 8 s) */
		for (int i = 0; i < 40 && !closed; i++) {
			(void)!send(fd, "a", 1, MSG_NOSIGNAL);
			while (poll(&p, 1, 200) == 1) {
				ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
				if (r <= 0) {
					closed = true;
					break;
				}
				got += (size_t)r;
			}
		}
		buf[got] = '\0';
		close(fd);
		ck_assert_msg(closed && secs_since(&t0) < 5.0, "case %d: still open "
			      "after %.1f s", k, secs_since(&t0));
		ck_assert_msg(!strncmp(buf, k ? "HTTP/1.1 413" : "HTTP/1.1 408", 12),
			      "case %d: \"%.200s\"", k, buf);
	}
	fx_end(&f);
}
END_TEST

/* Pages on other sites must not drive the admin API: foreign Origin 403,
 * foreign Host 421 (no token), a text/plain or form body 415, each a JSON
 * error naming the header; the mock's own page and scripts pass, and
 * tablets posting any Content-Type without Origin are not affected. */
START_TEST(cross_site_requests_to_the_admin_api_are_refused)
{
	char req[768], buf[8192];
	static const char cmd[] = "{\"reboot\":1}";
	static const char hb[] = "{\"app_version\":\"V1.0.0\",\"cid\":\"cam000001\","
				 "\"seq\":1,\"uptime\":1700000000,\"type\":3}";
	fx f;

	fx_start(&f);
	snprintf(req, sizeof req, "POST /admin/devices/cam000001/commands "
		 "HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: http://attacker.example"
		 "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n"
		 "%s", f.port, sizeof cmd - 1, cmd);
	ck_assert_int_eq(tu_ask(f.port, req, buf, sizeof buf, 5000), 403);
	ck_assert_msg(strstr(buf, "application/json") &&
		      strstr(buf, "{\"error\":\"the Origin header is "
			     "\\\"http://attacker.example\\\""), "%s", buf);
	snprintf(req, sizeof req, "GET /admin/devices HTTP/1.1\r\nHost: "
		 "rebound.example:%d\r\n\r\n", f.port);
	ck_assert_int_eq(tu_ask(f.port, req, buf, sizeof buf, 5000), 421);
	ck_assert_msg(strstr(buf, "the Host header is \\\"rebound.example:"), "%s",
		      buf);
	snprintf(req, sizeof req, "POST /admin/devices/cam000001/commands "
		 "HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: text/plain\r\n"
		 "Content-Length: %zu\r\n\r\n%s", f.port, sizeof cmd - 1, cmd);
	ck_assert_int_eq(tu_ask(f.port, req, buf, sizeof buf, 5000), 415);
	ck_assert_msg(strstr(buf, "the Content-Type header is \\\"text/plain\\\""),
		      "%s", buf);
	snprintf(req, sizeof req, "POST /admin/devices/cam000001/commands "
		 "HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/"
		 "x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n%s", f.port,
		 sizeof cmd - 1, cmd);
	ck_assert_int_eq(tu_ask(f.port, req, buf, sizeof buf, 5000), 415);
	/* nothing was queued by any of them */
	snprintf(req, sizeof req, "GET /admin/commands HTTP/1.1\r\nHost: "
		 "localhost:%d\r\n\r\n", f.port);
	ck_assert_int_eq(tu_ask(f.port, req, buf, sizeof buf, 5000), 200);
	ck_assert_msg(!strstr(buf, "reboot"), "%s", buf);
	/* the mock's own page: same origin */
	snprintf(req, sizeof req, "POST /admin/devices/cam000001/commands "
		 "HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: http://127.0.0.1:%d\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		 f.port, f.port, sizeof cmd - 1, cmd);
	ck_assert_int_eq(tu_ask(f.port, req, buf, sizeof buf, 5000), 201);
	snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
		 f.port);
	ck_assert_int_eq(tu_ask(f.port, req, buf, sizeof buf, 5000), 200);
	/* a tablet: no Origin, any Content-Type */
	snprintf(req, sizeof req, "POST /api/face HTTP/1.1\r\nHost: 10.0.0.5:%d\r\n"
		 "Content-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s",
		 f.port, sizeof hb - 1, hb);
	ck_assert_int_eq(tu_ask(f.port, req, buf, sizeof buf, 5000), 200);
	/* a page posting to the device endpoint */
	snprintf(req, sizeof req, "POST /api/face HTTP/1.1\r\nHost: 127.0.0.1:%d"
		 "\r\nOrigin: http://attacker.example\r\nContent-Type: text/plain"
		 "\r\nContent-Length: %zu\r\n\r\n%s", f.port, sizeof hb - 1, hb);
	ck_assert_int_eq(tu_ask(f.port, req, buf, sizeof buf, 5000), 403);
	fx_end(&f);
}
END_TEST

/* `camsim mock --fault ... --fault-seed N': the start names the faults and
 * the seed, each faulted exchange is logged with its fault. */
START_TEST(cli_fault_run_names_faults_and_seed_and_logs_each_faulted_exchange)
{
	char dir[] = "/tmp/camsim-mockcli-XXXXXX", db[96], line[512];
	int pfd[2];
	pid_t pid;
	fx f = {0};

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(db, sizeof db, "%s/m.db", dir);
	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		FILE *out = fdopen(pfd[1], "w");
		char *argv[] = {"mock", "--listen", "127.0.0.1:0", "--db", db,
				"--fault", "status=503:100%", "--fault-seed", "5",
				"--retain", "1h", "--retain", "100MB", NULL};
		close(pfd[0]);
		_exit(mock_main(13, argv, out, stderr));
	}
	close(pfd[1]);
	FILE *in = fdopen(pfd[0], "r");
	ck_assert_ptr_nonnull(fgets(line, sizeof line, in));
	char *p = strstr(line, "(port ");
	ck_assert_msg(p, "%s", line);
	f.port = atoi(p + 6);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, in));
	ck_assert_msg(strstr(line, "faults status=503:100%, --fault-seed 5"), "%s", line);
	resp r = post(&f, "{\"app_version\":\"V1.0.0\",\"cid\":\"" CID "\",\"seq\":1,"
		      "\"uptime\":1700000000,\"type\":3}");
	ck_assert_int_eq(r.status, 503);
	resp_free(&r);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, in));
	ck_assert_msg(strstr(line, CID " heartbeat #1 -> 503 [fault status=503]"),
		      "%s", line);
	kill(pid, SIGTERM);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	fclose(in);
	snprintf(line, sizeof line, "rm -rf %s", dir);
	ck_assert_int_eq(system(line), 0);
}
END_TEST

/* ---------------------------------------------------------------- big bodies */

#define BIG_N 16
#define BIG_PAD (4u << 20)

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Peak resident memory of this process so far, KiB. */
static long hwm_kib(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "VmHWM:", 6))
			v = atol(line + 6);
	if (f)
		fclose(f);
	return v;
}

static size_t count_sink(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	*(size_t *)ud += sz * n;
	return sz * n;
}

/* GET path, counting (not keeping) the body; its length, or -1. */
static long long get_count(int port, const char *path)
{
	char url[256];
	size_t got = 0;
	long st = 0;
	CURL *h = curl_easy_init();
	CURLcode cc;

	if (!h)
		return -1;
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, count_sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &got);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_cleanup(h);
	return cc == CURLE_OK && st == 200 ? (long long)got : -1;
}

typedef struct reader {
	int port;
	atomic_bool stop;
	atomic_int rounds;
	atomic_llong most; /* the largest listing seen, bytes */
} reader;

/* Lists the big messages and reads each one's body, over and over. */
static void *read_loop(void *ud)
{
	reader *r = ud;
	char path[64];

	while (!atomic_load(&r->stop)) {
		long long n = get_count(r->port, "/admin/messages?limit=16");
		if (n > atomic_load(&r->most))
			atomic_store(&r->most, n);
		for (int i = 1; i <= BIG_N && !atomic_load(&r->stop); i++) {
			snprintf(path, sizeof path, "/admin/messages/%d", i);
			(void)get_count(r->port, path);
		}
		atomic_fetch_add(&r->rounds, 1);
	}
	return NULL;
}

/* Issue 13 item 6: 16 device messages of 4 MiB each.  A listing is a page
 * of summaries (not 64 MiB of bodies), reading it and every body costs the
 * process little memory, each body comes whole through its own streamed
 * route, and heartbeats are answered promptly while all that runs. */
START_TEST(big_messages_are_listed_as_summaries_and_streamed_while_heartbeats_are_answered)
{
	fx f;
	char *b = malloc(BIG_PAD + 300), path[64];
	pthread_t t;
	reader rd = {0};
	double worst = 0;
	long before;

	fx_start(&f);
	ck_assert_ptr_nonnull(b);
	/* sent in the reply to message 1, confirmed by message 2 (4 MiB) */
	int64_t cmd = enq(&f, CID, "{\"reboot\":1}");
	for (int i = 0; i < BIG_N; i++) {
		int n = snprintf(b, 300, "{\"app_version\":\"V1.0.0\",\"cid\":\"%s\","
				 "\"seq\":%d,\"uptime\":1700000000,\"type\":3,"
				 "\"pad\":\"", CID, i + 1);
		memset(b + n, 'a' + i, BIG_PAD);
		strcpy(b + n + BIG_PAD, "\"}");
		resp r = http(&f, NULL, "/api/face", b, strlen(b), NULL);
		ck_assert_int_eq(r.status, 200);
		resp_free(&r);
	}
	size_t blen = strlen(b);
	free(b);

	resp r = get(&f, "/admin/messages?limit=16");
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(r.len < 64 * 1024, "a listing of 16 messages is %zu bytes",
		      r.len);
	ck_assert_int_eq(cJSON_GetArraySize(r.json), BIG_N);
	cJSON *m0 = cJSON_GetArrayItem(r.json, BIG_N - 1);
	ck_assert_ptr_null(cJSON_GetObjectItem(m0, "body"));
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(m0, "size")),
			    (double)blen);
	resp_free(&r);
	/* the body on demand, whole: summary + body, and the body alone */
	r = get(&f, "/admin/messages/3");
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(r.json);
	const char *pad = cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetObjectItem(r.json, "body"), "pad"));
	ck_assert_msg(pad && strlen(pad) == BIG_PAD && pad[0] == 'c' &&
		      pad[BIG_PAD - 1] == 'c', "message 3's body came back wrong");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "kind")),
			 "heartbeat");
	resp_free(&r);
	r = get(&f, "/admin/messages/3/body");
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.len, blen - 1); /* seq 3, not 16 */
	ck_assert_ptr_nonnull(r.json);
	resp_free(&r);
	/* a command listing leaves the big result out, naming it */
	r = get(&f, "/admin/commands");
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(r.len < 4096, "a listing of one command is %zu bytes", r.len);
	cJSON *c0 = cJSON_GetArrayItem(r.json, 0);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(c0, "result")));
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(c0, "result_id")), 2);
	resp_free(&r);
	cJSON *one_cmd = mock_command_json(f.m, cmd);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(one_cmd, "state")),
			 "confirmed");
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetObjectItem(one_cmd, "result"),
						  "pad"));
	cJSON_Delete(one_cmd);
	r = get(&f, "/admin/messages/999");
	ck_assert_int_eq(r.status, 404);
	resp_free(&r);

	/* heartbeats while listings and bodies are read without pause */
	before = hwm_kib();
	rd.port = f.port;
	ck_assert_int_eq(pthread_create(&t, NULL, read_loop, &rd), 0);
	for (int i = 0; i < 40 || atomic_load(&rd.rounds) < 2; i++) {
		double t0 = now_ms();
		free(beat(&f, "cam000002", 100 + i));
		double dt = now_ms() - t0;
		worst = dt > worst ? dt : worst;
		ck_assert_msg(i < 4000, "the reader never finished two rounds");
		usleep(20000);
	}
	atomic_store(&rd.stop, true);
	pthread_join(t, NULL);
	long grew = hwm_kib() - before;
	fprintf(stderr, "big messages: worst heartbeat %.0f ms over %d rounds of "
		"reading, peak memory +%ld KiB, largest listing %lld bytes\n",
		worst, atomic_load(&rd.rounds), grew, atomic_load(&rd.most));
	ck_assert_msg(worst < 1500, "a heartbeat waited %.0f ms behind admin reads",
		      worst);
#ifndef __SANITIZE_ADDRESS__ /* its quarantine keeps what was freed */
	ck_assert_msg(grew < 48 * 1024, "reading the messages grew the peak "
		      "memory by %ld KiB", grew);
#endif
	ck_assert_msg(atomic_load(&rd.most) > 0 && atomic_load(&rd.most) < 64 * 1024,
		      "listings of up to %lld bytes", atomic_load(&rd.most));
	snprintf(path, sizeof path, "/admin/messages/%d/body", BIG_N);
	ck_assert_int_eq(get_count(f.port, path), (long long)blen);
	fx_end(&f);
}
END_TEST

/* --retain: messages older than the age go with their violations and
 * records, settled commands too; an unsettled one never; the size limit
 * deletes the oldest first and keeps the newest. */
START_TEST(retention_deletes_old_and_oversized_data_but_never_an_unsettled_command)
{
	fx f;
	char *b64 = b64_photo(NULL), *snap = snapshot_json(CID, b64, "Ann");
	resp r;

	memset(&f, 0, sizeof f);
	atomic_store(&fake_now, T0);
	fx_start_opts(&f, (mock_opts){.retain_age_ms = 3600000});
	r = post(&f, snap);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	int64_t done_id = enq(&f, CID, "{\"reboot\":1}");
	free(beat(&f, CID, 1));
	free(beat(&f, CID, 2)); /* confirms the reboot */
	ck_state(&f, done_id, "confirmed");
	int64_t pend = enq(&f, "cam000009", "{\"reboot\":1}"); /* never sent */
	cJSON *recs = mock_records_json(f.m, NULL, 0, 10);
	ck_assert_int_eq(cJSON_GetArraySize(recs), 1);
	cJSON_Delete(recs);
	atomic_store(&fake_now, T0 + 2 * 3600000LL); /* two hours on */
	free(beat(&f, CID, 3));
	cJSON *ms = mock_messages_json(f.m, NULL, 0, 100);
	ck_assert_int_eq(cJSON_GetArraySize(ms), 1); /* only the new one */
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(ms, 0), "received_at")), (double)(T0 + 7200000));
	cJSON_Delete(ms);
	recs = mock_records_json(f.m, NULL, 0, 10);
	ck_assert_int_eq(cJSON_GetArraySize(recs), 0);
	cJSON_Delete(recs);
	cJSON *c = mock_command_json(f.m, done_id);
	ck_assert_ptr_null(c); /* settled two hours ago */
	ck_state(&f, pend, "pending"); /* unsettled: kept */
	fx_end(&f);

	/* by size: 12 messages of 1 MiB against a limit of 4 MB */
	memset(&f, 0, sizeof f);
	atomic_store(&fake_now, T0);
	fx_start_opts(&f, (mock_opts){.retain_bytes = 4000000});
	size_t pn = 1u << 20;
	char *b = malloc(pn + 300);
	for (int i = 0; i < 12; i++) {
		int n = snprintf(b, 300, "{\"app_version\":\"V1.0.0\",\"cid\":\"%s\","
				 "\"seq\":%d,\"uptime\":1700000000,\"type\":3,"
				 "\"pad\":\"", CID, i + 1);
		memset(b + n, 'x', pn);
		strcpy(b + n + pn, "\"}");
		r = http(&f, NULL, "/api/face", b, strlen(b), NULL);
		ck_assert_int_eq(r.status, 200);
		resp_free(&r);
	}
	free(b);
	ms = mock_messages_json(f.m, NULL, 0, 100);
	int left = cJSON_GetArraySize(ms);
	ck_assert_msg(left >= 1 && left <= 4, "%d messages of 1 MiB kept under a "
		      "4 MB limit", left);
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(ms, left - 1), "id")), 12); /* the newest */
	cJSON_Delete(ms);
	fx_end(&f);
	free(snap);
	free(b64);
}
END_TEST

/* ---------------------------------------------------------------- faults */

static resp put_faults(fx *f, const char *cid, const char *json)
{
	char path[128];
	snprintf(path, sizeof path, "/admin/devices/%s/faults", cid);
	return http(f, json ? "PUT" : "DELETE", path, json, json ? strlen(json) : 0,
		    NULL);
}

/* A heartbeat of CID over a raw socket; what came back (at most n-1
 * bytes, until the peer closes) and the read error, 0 for a clean end. */
static size_t raw_beat(fx *f, char *buf, size_t n, int *err)
{
	static const char hb[] = "{\"app_version\":\"V1.0.0\",\"cid\":\"" CID "\","
		"\"seq\":1,\"uptime\":1700000000,\"type\":3}";
	char head[256];
	int fd = tu_connect(f->port);
	int hn = snprintf(head, sizeof head, "POST /api/face HTTP/1.1\r\nHost: x\r\n"
			  "Content-Type: application/json\r\nContent-Length: %zu"
			  "\r\n\r\n%s", sizeof hb - 1, hb);
	size_t got = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};

	ck_assert_int_eq(write(fd, head, (size_t)hn), hn);
	*err = 0;
	while (got + 1 < n && poll(&p, 1, 5000) == 1) {
		ssize_t r = read(fd, buf + got, n - 1 - got);
		if (r < 0)
			*err = errno;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	close(fd);
	return got;
}

/* The fault of message id ("" for none). */
static char *fault_of(fx *f, int64_t id)
{
	cJSON *m = mock_message_json(f->m, id);
	const char *s;
	char *out;

	ck_assert_ptr_nonnull(m);
	s = cJSON_GetStringValue(cJSON_GetObjectItem(m, "fault"));
	out = strdup(s ? s : "");
	cJSON_Delete(m);
	return out;
}

#define ck_fault(f, id, want)                                                 \
	do {                                                                  \
		char *s_ = fault_of(f, id);                                   \
		ck_assert_msg(!strcmp(s_, want), "message %d: fault \"%s\", " \
			      "wanted \"%s\"", (int)(id), s_, want);          \
		free(s_);                                                     \
	} while (0)

/* Each fault set per device through the admin API does what docs/mock.md
 * says on the wire and is recorded with the exchange it hit. */
START_TEST(faults_set_per_device_act_on_the_wire_and_are_recorded)
{
	fx f;
	char buf[4096], *b64 = b64_photo(NULL), *snap = snapshot_json(CID, b64, "Ann");
	int err;
	resp r;

	fx_start(&f);
	int64_t cmd = enq(&f, CID, "{\"reboot\":1}");
	/* status: answered, not processed */
	r = put_faults(&f, CID, "{\"faults\":[\"status=500\"]}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(
		cJSON_GetObjectItem(r.json, "faults"), 0)), "status=500");
	resp_free(&r);
	r = post(&f, "{\"app_version\":\"V1.0.0\",\"cid\":\"" CID "\",\"seq\":1,"
		 "\"uptime\":1700000000,\"type\":3}");
	ck_assert_int_eq(r.status, 500);
	ck_assert_ptr_nonnull(strstr(r.body, "status=500"));
	resp_free(&r);
	ck_state(&f, cmd, "pending");
	r = post(&f, snap);
	ck_assert_int_eq(r.status, 500);
	resp_free(&r);
	cJSON *recs = mock_records_json(f.m, NULL, 0, 10);
	ck_assert_int_eq(cJSON_GetArraySize(recs), 0);
	cJSON_Delete(recs);
	ck_fault(&f, 1, "status=500");
	ck_fault(&f, 2, "status=500");
	/* another device is not touched */
	free(beat(&f, "cam000002", 1));
	ck_fault(&f, 3, "");
	/* reset: an RST, no answer */
	resp_free(&r);
	r = put_faults(&f, CID, "{\"faults\":[\"reset\"]}");
	resp_free(&r);
	size_t got = raw_beat(&f, buf, sizeof buf, &err);
	ck_assert_msg(got == 0 && err == ECONNRESET, "reset: %zu bytes, %s", got,
		      strerror(err));
	ck_fault(&f, 4, "reset");
	/* close: a clean end, no answer */
	r = put_faults(&f, CID, "{\"faults\":[\"close\"]}");
	resp_free(&r);
	got = raw_beat(&f, buf, sizeof buf, &err);
	ck_assert_msg(got == 0 && err == 0, "close: %zu bytes, %s", got, strerror(err));
	ck_fault(&f, 5, "close");
	ck_state(&f, cmd, "pending");
	/* truncate: processed (the command is sent), the answer cut short */
	r = put_faults(&f, CID, "{\"faults\":[\"truncate\"]}");
	resp_free(&r);
	got = raw_beat(&f, buf, sizeof buf, &err);
	ck_assert_msg(got > 0 && !strstr(buf, "reboot"), "truncate: \"%s\"", buf);
	ck_state(&f, cmd, "sent");
	ck_fault(&f, 6, "truncate");
	/* not-json: processed, 200 with a body that is not JSON, no command */
	int64_t cmd2 = enq(&f, CID, "{\"time_interval\":5}");
	r = put_faults(&f, CID, "{\"faults\":[\"not-json\"]}");
	resp_free(&r);
	r = post(&f, "{\"app_version\":\"V1.0.0\",\"cid\":\"" CID "\",\"seq\":1,"
		 "\"uptime\":1700000000,\"type\":3}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(r.body);
	ck_assert_ptr_null(cJSON_Parse(r.body));
	resp_free(&r);
	ck_state(&f, cmd2, "pending");
	ck_fault(&f, 7, "not-json");
	/* delay: answered as usual, late */
	r = put_faults(&f, CID, "{\"faults\":[\"delay=700ms\"]}");
	resp_free(&r);
	double t0 = now_ms();
	free(beat(&f, CID, 1));
	ck_assert_double_ge(now_ms() - t0, 650);
	ck_fault(&f, 8, "delay=700ms");
	/* listed with their faults, on the page too */
	r = get(&f, "/admin/messages?cid=" CID);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(r.json, 3), "fault")), "close");
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(r.json, 3), "status")), 0);
	resp_free(&r);
	r = get(&f, "/admin/");
	ck_assert_ptr_nonnull(strstr(r.body, "<td>truncate</td>"));
	resp_free(&r);
	r = get(&f, "/admin/faults");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(r.json, "devices"), CID), 0)), "delay=700ms");
	resp_free(&r);
	/* cleared: answered as usual, nothing recorded */
	r = put_faults(&f, CID, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "faults")), 0);
	resp_free(&r);
	free(beat(&f, CID, 1));
	ck_fault(&f, 9, "");
	/* wrong specs are refused naming the spec and the rule */
	r = put_faults(&f, CID, "{\"faults\":[\"status=5xx\"]}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(strstr(r.body, "status=5xx"));
	resp_free(&r);
	r = put_faults(&f, CID, "{\"faults\":[\"no-100\"]}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(strstr(r.body, "--fault"));
	resp_free(&r);
	r = put_faults(&f, CID, "{\"faults\":\"reset\"}");
	ck_assert_int_eq(r.status, 400);
	resp_free(&r);
	free(snap);
	free(b64);
	fx_end(&f);
}
END_TEST

/* A database of schema version 1 (before messages.size and .fault) is
 * upgraded in place: its messages listed with their sizes, new ones with
 * their faults. */
START_TEST(schema_version_1_database_is_upgraded_in_place)
{
	static const char hb[] = "{\"app_version\":\"V1.0.0\",\"cid\":\"" CID "\","
		"\"seq\":1,\"uptime\":1700000000,\"type\":3}";
	fx f;
	sqlite3 *db;
	resp r;

	fx_start(&f);
	r = post(&f, hb);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	mock_stop(f.m);
	ck_assert_int_eq(sqlite3_open(f.db, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "DROP INDEX records_msg;"
				      "ALTER TABLE messages DROP COLUMN fault;"
				      "ALTER TABLE messages DROP COLUMN size;"
				      "PRAGMA user_version = 1;", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	fx_start_opts(&f, (mock_opts){.cmd_timeout_ms = 60000});
	ck_assert_int_eq(mock_set_faults(f.m, CID, (const char *[]){"status=502"}, 1,
					 NULL, 0), 0);
	r = post(&f, hb);
	ck_assert_int_eq(r.status, 502);
	resp_free(&r);
	cJSON *ms = mock_messages_json(f.m, NULL, 0, 10);
	ck_assert_int_eq(cJSON_GetArraySize(ms), 2);
	for (int i = 0; i < 2; i++)
		ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(
			cJSON_GetArrayItem(ms, i), "size")), sizeof hb - 1);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(ms, 0), "fault")));
	cJSON_Delete(ms);
	ck_fault(&f, 2, "status=502");
	fx_end(&f);
}
END_TEST

/* The admin token covers the fault routes too. */
START_TEST(fault_routes_need_the_admin_token)
{
	fx f;
	resp r;

	memset(&f, 0, sizeof f);
	atomic_store(&fake_now, T0);
	fx_start_opts(&f, (mock_opts){.token = "s3cret"});
	r = put_faults(&f, CID, "{\"faults\":[\"reset\"]}");
	ck_assert_int_eq(r.status, 401);
	resp_free(&r);
	r = http(&f, "PUT", "/admin/devices/" CID "/faults",
		 "{\"faults\":[\"reset\"]}", 20, "Bearer s3cret");
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	fx_end(&f);
}
END_TEST

static size_t head_sink(char *p, size_t sz, size_t n, void *ud)
{
	if (sz * n >= 12 && !strncmp(p, "HTTP/1.1 100", 12))
		(*(int *)ud)++;
	return sz * n;
}

/* --fault no-100: a client that sends Expect: 100-continue never sees a
 * 100 (curl, like camsim's device, waits and then sends anyway); with
 * --fault-seed the draws repeat. */
START_TEST(no_100_fault_withholds_100_continue_and_repeats_with_a_seed)
{
	static const char *const faults[] = {"no-100"};
	char url[128], body[300], head[512], buf[2048];
	fx f;
	int seen100 = 0;
	long st = 0;

	memset(&f, 0, sizeof f);
	atomic_store(&fake_now, T0);
	fx_start_opts(&f, (mock_opts){.faults = faults, .nfaults = 1});
	/* raw: nothing comes after the headers */
	snprintf(body, sizeof body, "{\"app_version\":\"V1.0.0\",\"cid\":\"%s\","
		 "\"seq\":1,\"uptime\":1700000000,\"type\":3}", CID);
	int fd = tu_connect(f.port);
	int hn = snprintf(head, sizeof head, "POST /api/face HTTP/1.1\r\nHost: x\r\n"
			  "Content-Length: %zu\r\nExpect: 100-continue\r\n\r\n",
			  strlen(body));
	ck_assert_int_eq(write(fd, head, (size_t)hn), hn);
	ck_assert_uint_eq(raw_read(fd, buf, sizeof buf, 600), 0);
	ck_assert_int_eq(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	raw_read(fd, buf, sizeof buf, 5000);
	ck_assert_msg(!strncmp(buf, "HTTP/1.1 200", 12), "got \"%s\"", buf);
	close(fd);
	ck_fault(&f, 1, "no-100");
	/* curl with Expect waits its 1 s, then sends; no 100 in between */
	CURL *h = curl_easy_init();
	struct curl_slist *hs = curl_slist_append(NULL, "Expect: 100-continue");
	snprintf(url, sizeof url, "http://127.0.0.1:%d/api/face", f.port);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 1000L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, head_sink);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &seen100);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, count_sink);
	size_t n = 0;
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &n);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	double t0 = now_ms();
	ck_assert_int_eq(curl_easy_perform(h), CURLE_OK);
	double waited = now_ms() - t0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_cleanup(h);
	curl_slist_free_all(hs);
	ck_assert_int_eq(st, 200);
	ck_assert_int_eq(seen100, 0);
	ck_assert_double_ge(waited, 900);
	ck_fault(&f, 2, "no-100");
	/* without Expect there is nothing to leave out: nothing recorded */
	free(beat(&f, CID, 2));
	ck_fault(&f, 3, "");
	fx_end(&f);
}
END_TEST

/* camsim's own device through a mock that answers its cid 500: the pass
 * is kept offline; once the fault is removed through the admin API, the
 * idle retransmission brings it to the mock, and the log shows each
 * faulted exchange. */
START_TEST(device_retransmits_its_pass_once_a_500_fault_is_removed)
{
	fx f;
	devfx d = {0};
	char err[256], url[128], path[512];
	int64_t n = 0;
	size_t len;
	resp r;

	memset(&f, 0, sizeof f);
	snprintf(f.dir, sizeof f.dir, "/tmp/camsim-mock-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f.dir));
	snprintf(f.db, sizeof f.db, "%s/mock.db", f.dir);
	ck_assert_int_eq(loop_new(LOOP_JUMP, 1, T0, &d.l), 0);
	fx_start_opts(&f, (mock_opts){.now = dev_clock, .now_ud = d.l});
	ck_assert_msg(store_open(f.dir, &d.st, err, sizeof err) == 0, "%s", err);
	d.rg = recog_open(NULL, err, sizeof err);
	d.env.loop = d.l;
	d.env.store = d.st;
	d.env.recog = d.rg;
	dev_env_defaults(&d.env);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/api/face", f.port);
	dev_opts o = {.cid = CID, .server_url = url, .interval_s = 3,
		      .app_version = "V1.0.0"};
	/* capture every face, upload even unrecognised ones */
	int64_t id = enq(&f, CID, "{\"config\":{\"opType\":0,\"face_rec\":{\"enable\":0},"
			 "\"face_cap\":{\"upload_mode\":2}}}");
	ck_assert_msg(dev_new(&d.env, &o, &d.d, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(dev_power_on(d.d, err, sizeof err) == 0, "%s", err);
	run_until_settled(&f, &d, id);
	r = put_faults(&f, CID, "{\"faults\":[\"status=500:100%\"]}");
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	snprintf(path, sizeof path, "%s/fixtures/images/rgb_4x3.png", tu_root());
	char *raw = tu_read(path, &len);
	dev_face_in in = {.image = raw, .image_len = len};
	ck_assert_msg(dev_face(d.d, &in, err, sizeof err) == 0, "%s", err);
	free(raw);
	for (int i = 0; i < 5000 && n == 0; i++) {
		loop_step(d.l, 1);
		ck_assert_int_eq(store_rec_count(d.st, CID, &n), 0);
	}
	ck_assert_msg(n == 1, "the refused pass is not kept offline (%lld)",
		      (long long)n);
	/* a few more heartbeats, all refused */
	int64_t until = loop_now(d.l) + 10000;
	while (loop_now(d.l) < until)
		loop_step(d.l, 1);
	cJSON *recs = mock_records_json(f.m, CID, 0, 10);
	ck_assert_int_eq(cJSON_GetArraySize(recs), 0);
	cJSON_Delete(recs);
	r = put_faults(&f, CID, NULL);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	recs = NULL;
	for (int i = 0; i < 20000; i++) {
		cJSON_Delete(recs);
		recs = mock_records_json(f.m, CID, 0, 10);
		if (cJSON_GetArraySize(recs) > 0 && loop_http_in_flight(d.l) == 0)
			break;
		loop_step(d.l, 1);
	}
	ck_assert_int_eq(cJSON_GetArraySize(recs), 1);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(recs, 0),
						   "resend")));
	cJSON_Delete(recs);
	ck_assert_int_eq(store_rec_count(d.st, CID, &n), 0);
	ck_assert_int_eq(n, 0);
	/* the log: the faulted snapshot and heartbeats, each with its fault */
	cJSON *ms = mock_messages_json(f.m, CID, 0, 1000), *m;
	int faulted_snaps = 0, faulted_beats = 0;
	cJSON_ArrayForEach(m, ms) {
		const char *k = cJSON_GetStringValue(cJSON_GetObjectItem(m, "kind"));
		const char *fl = cJSON_GetStringValue(cJSON_GetObjectItem(m, "fault"));
		if (!fl)
			continue;
		ck_assert_str_eq(fl, "status=500");
		ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(m, "status")), 500);
		faulted_snaps += !strcmp(k, "snapshot");
		faulted_beats += !strcmp(k, "heartbeat");
	}
	cJSON_Delete(ms);
	ck_assert_int_eq(faulted_snaps, 1);
	ck_assert_int_ge(faulted_beats, 3);
	dev_free(d.d);
	mock_stop(f.m);
	f.m = NULL;
	loop_free(d.l);
	store_close(d.st);
	recog_close(d.rg);
	snprintf(path, sizeof path, "rm -rf %s", f.dir);
	ck_assert_int_eq(system(path), 0);
}
END_TEST

/* ---------------------------------------------------------------- many devices */

static double jnum(const cJSON *o, const char *path)
{
	char k[64];
	const char *dot = strchr(path, '.');

	if (!dot)
		return cJSON_GetNumberValue(cJSON_GetObjectItem(o, path));
	snprintf(k, sizeof k, "%.*s", (int)(dot - path), path);
	return jnum(cJSON_GetObjectItem(o, k), dot + 1);
}

/* GET path, 200 with JSON, that JSON (caller deletes). */
static cJSON *get_json(fx *f, const char *path)
{
	resp r = get(f, path);
	cJSON *j;

	ck_assert_msg(r.status == 200 && r.json, "%s: %ld %s", path, r.status,
		      r.body ? r.body : "");
	j = r.json;
	r.json = NULL;
	resp_free(&r);
	return j;
}

/* Issue 15: 2,000 devices, "a0000".."a0999" with one heartbeat at T0 and
 * "b0000".."b0999" with two 20 s apart.  The list comes in pages with the
 * totals, by cid prefix; a device is online while its last heartbeat is
 * at most 3 intervals old (3 s while only one is known), offline the
 * millisecond after; /admin/stats counts them, and the page shows the
 * counts and one page of devices, not 2,000 rows. */
START_TEST(device_list_is_paged_by_cid_prefix_with_totals_and_online_by_three_intervals)
{
	fx f;
	char cid[16], path[128];
	fx_start(&f);
	for (int i = 0; i < 1000; i++) {
		snprintf(cid, sizeof cid, "a%04d", i);
		free(beat(&f, cid, 1));
		snprintf(cid, sizeof cid, "b%04d", i);
		free(beat(&f, cid, 1));
	}
	atomic_store(&fake_now, T0 + 20000);
	for (int i = 0; i < 1000; i++) {
		snprintf(cid, sizeof cid, "b%04d", i);
		free(beat(&f, cid, 2));
	}
	enq(&f, "b0007", "{\"reboot\":1}");
	/* b's last heartbeat exactly 3 intervals (60 s) old: still online */
	atomic_store(&fake_now, T0 + 80000);

	cJSON *pg = get_json(&f, "/admin/devices");
	ck_assert_double_eq(jnum(pg, "total"), 2000);
	ck_assert_double_eq(jnum(pg, "matched"), 2000);
	ck_assert_double_eq(jnum(pg, "online"), 1000);
	ck_assert_double_eq(jnum(pg, "limit"), 100);
	cJSON *devs = cJSON_GetObjectItem(pg, "devices");
	ck_assert_int_eq(cJSON_GetArraySize(devs), 100);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(devs, 0), "cid")), "a0000");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(devs, 0),
						    "online")));
	cJSON_Delete(pg);

	/* the b pages: 1,000 matched, the last one short, all online */
	pg = get_json(&f, "/admin/devices?prefix=b&offset=990&limit=50");
	ck_assert_double_eq(jnum(pg, "matched"), 1000);
	ck_assert_double_eq(jnum(pg, "total"), 2000);
	devs = cJSON_GetObjectItem(pg, "devices");
	ck_assert_int_eq(cJSON_GetArraySize(devs), 10);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(devs, 0), "cid")), "b0990");
	cJSON *d;
	cJSON_ArrayForEach(d, devs)
		ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(d, "online")));
	cJSON_Delete(pg);

	/* walking the a pages meets each a device once, in order */
	int seen = 0;
	for (int off = 0; off < 1200; off += 300) {
		snprintf(path, sizeof path, "/admin/devices?prefix=a0&offset=%d"
			 "&limit=300", off);
		pg = get_json(&f, path);
		ck_assert_double_eq(jnum(pg, "matched"), 1000);
		cJSON_ArrayForEach(d, cJSON_GetObjectItem(pg, "devices")) {
			snprintf(cid, sizeof cid, "a%04d", seen++);
			ck_assert_str_eq(cJSON_GetStringValue(
				cJSON_GetObjectItem(d, "cid")), cid);
		}
		cJSON_Delete(pg);
	}
	ck_assert_int_eq(seen, 1000);
	pg = get_json(&f, "/admin/devices?prefix=b0007");
	ck_assert_double_eq(jnum(pg, "matched"), 1);
	ck_assert_double_eq(jnum(cJSON_GetArrayItem(cJSON_GetObjectItem(pg,
		"devices"), 0), "pending"), 1);
	cJSON_Delete(pg);
	pg = get_json(&f, "/admin/devices?prefix=c");
	ck_assert_double_eq(jnum(pg, "matched"), 0);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(pg, "devices")), 0);
	cJSON_Delete(pg);

	cJSON *sts = get_json(&f, "/admin/stats");
	ck_assert_double_eq(jnum(sts, "devices.total"), 2000);
	ck_assert_double_eq(jnum(sts, "devices.online"), 1000);
	ck_assert_double_eq(jnum(sts, "devices.offline"), 1000);
	ck_assert_double_eq(jnum(sts, "messages.heartbeat"), 3000);
	ck_assert_double_eq(jnum(sts, "commands.pending"), 1);
	ck_assert_double_eq(jnum(sts, "commands.sent"), 0);
	ck_assert_double_eq(jnum(sts, "records"), 0);
	ck_assert_double_eq(jnum(sts, "violations.must"), 0);
	/* the last minute before T0+80 s holds the 1,000 at T0+20 s */
	ck_assert_double_eq_tol(jnum(sts, "requests_per_s"), 1000 / 60.0, 1e-6);
	cJSON_Delete(sts);

	/* the HTML page: the counts and 50 rows, not 2,000 */
	resp r = get(&f, "/");
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(r.len < 48 * 1024, "page of 2,000 devices is %zu bytes",
		      r.len);
	ck_assert_ptr_nonnull(strstr(r.body, "Devices <span id=\"n-devices\">"
				     "2000</span>: <span id=\"n-online\">1000"
				     "</span> online, 1000 offline"));
	ck_assert_ptr_nonnull(strstr(r.body, ">a0049</a></td>"));
	ck_assert_ptr_null(strstr(r.body, ">a0050</a></td>"));
	ck_assert_ptr_nonnull(strstr(r.body, "href=\"/?prefix=&amp;offset=50\""));
	resp_free(&r);
	r = get(&f, "/?prefix=b&offset=50");
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "<td><a href=\"/?prefix=b&amp;"
				     "offset=50&amp;device=b0050\">b0050</a>"
				     "</td><td class=\"confirmed\">online</td>"));
	ck_assert_ptr_nonnull(strstr(r.body, "href=\"/?prefix=b&amp;offset=0\""));
	resp_free(&r);

	/* a millisecond later the b devices are 3 intervals late too */
	atomic_store(&fake_now, T0 + 80001);
	sts = get_json(&f, "/admin/stats");
	ck_assert_double_eq(jnum(sts, "devices.online"), 0);
	ck_assert_double_eq(jnum(sts, "devices.offline"), 2000);
	cJSON_Delete(sts);

	r = get(&f, "/admin/devices?limit=0");
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(strstr(r.body, "limit is \\\"0\\\"; it must be an "
				     "integer from 1 to 10000"));
	resp_free(&r);
	r = get(&f, "/admin/devices?offset=-1");
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(strstr(r.body, "offset"));
	resp_free(&r);
	fx_end(&f);
}
END_TEST

typedef struct beater {
	int port, id;
	atomic_int ok;
	atomic_bool done;
} beater;

static void *beat_loop(void *ud)
{
	beater *b = ud;
	char body[200], url[64];

	snprintf(url, sizeof url, "http://127.0.0.1:%d/api/face", b->port);
	for (int i = 0; i < 50; i++) {
		long st = 0;
		CURL *h = curl_easy_init();
		snprintf(body, sizeof body, "{\"app_version\":\"V1.0.0\",\"cid\":"
			 "\"conc%02d\",\"seq\":%d,\"uptime\":1700000000,"
			 "\"type\":3}", b->id, i + 1);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, count_sink);
		size_t got = 0;
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &got);
		curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		if (curl_easy_perform(h) == CURLE_OK &&
		    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st) == CURLE_OK &&
		    st == 200)
			atomic_fetch_add(&b->ok, 1);
		curl_easy_cleanup(h);
	}
	atomic_store(&b->done, true);
	return NULL;
}

/* The process's thread count (/proc/self/status), 0 when unreadable. */
static int threads_now(void)
{
	char line[128];
	int n = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

/* Issue 15 ("RSS flat"): a burst of device messages beyond the mock's 8
 * pool threads waits for them, first come first served, rather than
 * starting a thread (and a 4 MiB stack) per message; every one is still
 * answered and stored. */
START_TEST(a_burst_of_heartbeats_waits_for_the_pool_without_new_threads)
{
	enum { NT = 32 };
	fx f;
	beater b[NT];
	pthread_t th[NT];
	int base, most = 0;
	bool busy = true;

	fx_start(&f);
	/* the first request starts the process's request-deadline watchdog
	 * (web.c), a thread for good */
	cJSON_Delete(get_json(&f, "/admin/stats"));
	base = threads_now();
	ck_assert_int_gt(base, 0);
	for (int i = 0; i < NT; i++) {
		b[i] = (beater){.port = f.port, .id = i};
		ck_assert_int_eq(pthread_create(&th[i], NULL, beat_loop, &b[i]), 0);
	}
	while (busy) {
		int n = threads_now();
		most = n > most ? n : most;
		busy = false;
		for (int i = 0; i < NT; i++)
			busy |= !atomic_load(&b[i].done);
		usleep(200);
	}
	for (int i = 0; i < NT; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(atomic_load(&b[i].ok), 50);
	}
	/* the clients' threads and nothing more */
	ck_assert_int_le(most, base + NT);
	cJSON *sts = get_json(&f, "/admin/stats");
	ck_assert_double_eq(jnum(sts, "messages.heartbeat"), NT * 50);
	cJSON_Delete(sts);
	fx_end(&f);
}
END_TEST

/* Issue 15: heartbeats arriving together share transactions (group
 * commit); each is answered only once stored, none is lost or counted
 * twice, and an admin write between them (a command queued) finds no
 * transaction left open. */
START_TEST(concurrent_heartbeats_are_all_stored_once_with_commands_queued_between)
{
	enum { NT = 8 };
	fx f;
	beater b[NT];
	pthread_t th[NT];
	fx_start(&f);
	for (int i = 0; i < NT; i++) {
		b[i] = (beater){.port = f.port, .id = i};
		ck_assert_int_eq(pthread_create(&th[i], NULL, beat_loop, &b[i]), 0);
	}
	int queued = 0;
	for (bool busy = true; busy; usleep(500)) {
		enq(&f, "conc00", "{\"reboot\":1}");
		queued++;
		busy = false;
		for (int i = 0; i < NT; i++)
			busy |= !atomic_load(&b[i].done);
	}
	for (int i = 0; i < NT; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(atomic_load(&b[i].ok), 50);
	}
	cJSON *sts = get_json(&f, "/admin/stats");
	ck_assert_double_eq(jnum(sts, "messages.heartbeat"), NT * 50);
	ck_assert_double_eq(jnum(sts, "devices.total"), NT);
	/* the reboots went out one per reply, or wait: none vanished */
	ck_assert_double_eq(jnum(sts, "commands.pending") +
			    jnum(sts, "commands.sent") +
			    jnum(sts, "commands.confirmed") +
			    jnum(sts, "commands.failed"), queued);
	cJSON_Delete(sts);
	cJSON *pg = get_json(&f, "/admin/devices");
	cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(pg, "devices"))
		ck_assert_double_eq(jnum(d, "messages"), 50);
	cJSON_Delete(pg);
	cJSON *ms = mock_messages_json(f.m, NULL, 0, 1000);
	ck_assert_int_eq(cJSON_GetArraySize(ms), NT * 50);
	cJSON_Delete(ms);
	fx_end(&f);
}
END_TEST

/* ---------------------------------------------------------------- the live page */

/* The body of file (repository-relative), base64; *raw_len its bytes. */
static char *b64_file(const char *rel, size_t *raw_len)
{
	char path[512], err[300];
	char *raw, *b;
	size_t n;

	snprintf(path, sizeof path, "%s/%s", tu_root(), rel);
	ck_assert_msg(base_read_file("picture", path, 1u << 24, &raw, &n, err,
				     sizeof err) == 0, "%s", err);
	b = b64_encode((const unsigned char *)raw, n, NULL);
	free(raw);
	if (raw_len)
		*raw_len = n;
	return b;
}

START_TEST(refused_posts_are_listed_newest_first_with_the_reason_and_on_the_page)
{
	fx f;
	fx_start(&f);
	resp r = post(&f, "hello <b>world</b>");
	ck_assert_int_eq(r.status, 400);
	resp_free(&r);
	free(beat(&f, CID, 1)); /* a 200 between: not listed */
	r = post(&f, "[1,2]");
	ck_assert_int_eq(r.status, 400);
	resp_free(&r);

	r = get(&f, "/admin/messages?refused=1");
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 2);
	cJSON *m0 = cJSON_GetArrayItem(r.json, 0), *m1 = cJSON_GetArrayItem(r.json, 1);
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(m0, "id")), 3);
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(m1, "id")), 1);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(m1, "raw")),
			 "hello <b>world</b>");
	ck_assert_msg(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(m1, "error")),
			     "not JSON"), "%s", r.body);
	ck_assert_msg(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(m0, "error")),
			     "message"), "%s", r.body);
	resp_free(&r);
	/* the raw body, streamed, is never sniffed into a page */
	r = get(&f, "/admin/messages/1/body");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.ctype, "application/octet-stream");
	ck_assert_str_eq(r.xcto, "nosniff");
	resp_free(&r);
	r = get(&f, "/admin/messages?refused=1&before=3&limit=5");
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
	resp_free(&r);
	r = get(&f, "/admin/messages?refused=2");
	ck_assert_int_eq(r.status, 400);
	ck_assert_msg(strstr(r.body, "refused") && strstr(r.body, "from 0 to 1"),
		      "%s", r.body);
	resp_free(&r);

	/* the page: the reason and the body, escaped, in the refused list */
	r = get(&f, "/");
	const char *sec = strstr(r.body, "id=\"live-refused\"");
	ck_assert_ptr_nonnull(sec);
	ck_assert_ptr_nonnull(strstr(sec, "<code>hello &lt;b&gt;world&lt;/b&gt;</code>"));
	ck_assert_ptr_nonnull(strstr(sec, "the body is not JSON"));
	ck_assert_ptr_null(strstr(r.body, "<b>world"));
	resp_free(&r);
	fx_end(&f);
}
END_TEST

START_TEST(lists_take_before_for_the_newest_first)
{
	fx f;
	fx_start(&f);
	for (int i = 1; i <= 5; i++)
		free(beat(&f, i % 2 ? CID : "other", i));
	enq(&f, CID, "{\"reboot\":1}");
	enq(&f, "other", "{\"reboot\":1}");
	enq(&f, CID, "{\"reboot\":1}");
	resp r = get(&f, "/admin/messages?before=5&limit=2");
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 2);
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(r.json, 0), "id")), 4);
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(r.json, 1), "id")), 3);
	resp_free(&r);
	r = get(&f, "/admin/messages?cid=" CID "&before=99");
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 3); /* 5, 3, 1 */
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(r.json, 2), "id")), 1);
	resp_free(&r);
	r = get(&f, "/admin/devices/" CID "/commands?before=99");
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 2);
	ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(r.json, 0), "id")), 3);
	resp_free(&r);
	r = get(&f, "/admin/commands?before=3");
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 2);
	resp_free(&r);
	r = get(&f, "/admin/commands?before=3&after=1");
	ck_assert_int_eq(r.status, 400);
	ck_assert_msg(strstr(r.body, "after cannot go with before"), "%s", r.body);
	resp_free(&r);
	r = get(&f, "/admin/records?before=0");
	ck_assert_int_eq(r.status, 400);
	ck_assert_msg(strstr(r.body, "before"), "%s", r.body);
	resp_free(&r);
	fx_end(&f);
}
END_TEST

START_TEST(device_panel_spells_out_violations_commands_and_snapshots)
{
	fx f;
	fx_start(&f);
	resp r = post(&f, "{\"app_version\":\"V1.0.0\",\"cid\":\"" CID "\","
		      "\"seq\":-1,\"uptime\":1700000000,\"type\":3}");
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	enq(&f, CID, "{\"reboot\":1}");
	char *b64 = b64_photo(NULL);
	char *snap = snapshot_json(CID, b64, "Ann");
	post_ok(&f, snap);
	free(beat(&f, "someone-else", 1));

	/* what the mock recorded of the heartbeat's first violation */
	cJSON *ms = mock_messages_json(f.m, CID, 0, 1);
	cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItem(
		cJSON_GetArrayItem(ms, 0), "violations"), 0);
	ck_assert_ptr_nonnull(v);
	strbuf want = {0};
	strbuf_str(&want, "<code>");
	strbuf_html(&want, cJSON_GetStringValue(cJSON_GetObjectItem(v, "rule")));
	strbuf_str(&want, "</code> at <code>");
	strbuf_html(&want, cJSON_GetStringValue(cJSON_GetObjectItem(v, "path")));
	strbuf_str(&want, "</code>: ");
	strbuf_html(&want, cJSON_GetStringValue(cJSON_GetObjectItem(v, "message")));
	cJSON_Delete(ms);

	r = get(&f, "/?device=" CID);
	ck_assert_int_eq(r.status, 200);
	const char *panel = strstr(r.body, "id=\"live-device\"");
	ck_assert_ptr_nonnull(panel);
	const char *end = strstr(panel, "id=\"live-refused\"");
	ck_assert_ptr_nonnull(end);
	const char *hit = strstr(panel, want.p);
	ck_assert_msg(hit && hit < end, "violation \"%s\" not in the panel", want.p);
	hit = strstr(panel, "<td class=\"pending\">pending</td>");
	ck_assert_msg(hit && hit < end, "command state not in the panel");
	hit = strstr(panel, "<img src=\"/admin/records/1/thumb\"");
	ck_assert_msg(hit && hit < end, "thumbnail not in the panel");
	ck_assert_ptr_nonnull(strstr(panel, "<span id=\"dev-state\" class=\""
				     "confirmed\">online</span>"));
	hit = strstr(panel, "someone-else");
	ck_assert_msg(!hit || hit > end, "another device's exchange in the panel");
	resp_free(&r);
	r = get(&f, "/?device=never-seen");
	ck_assert_ptr_nonnull(strstr(r.body, "No message from this cid has arrived"));
	resp_free(&r);
	free(want.p);
	free(snap);
	free(b64);
	fx_end(&f);
}
END_TEST

START_TEST(thumbnail_is_a_small_jpeg_of_the_picture_and_a_bad_picture_a_422)
{
	fx f;
	fx_start(&f);
	char *b64 = b64_file("faces/person-a-2.jpg", NULL); /* 640x480 */
	char *snap = snapshot_json(CID, b64, "Ann");
	post_ok(&f, snap);
	free(snap);
	snap = snapshot_json(CID, "bm90IGEgcGljdHVyZQ==", "Bob"); /* "not a picture" */
	post_ok(&f, snap);
	resp r = get(&f, "/admin/records/1/thumb");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.ctype, "image/jpeg");
	ck_assert_str_eq(r.xcto, "nosniff");
	img th;
	char err[300];
	ck_assert_msg(img_decode(r.body, r.len, &th, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(th.w, 160);
	ck_assert_int_eq(th.h, 120);
	/* the picture, not a blank: the thumbnail's mean is the photo's */
	img full;
	char path[512];
	snprintf(path, sizeof path, "%s/faces/person-a-2.jpg", tu_root());
	ck_assert_int_eq(img_load_file(path, &full, err, sizeof err), 0);
	double mf = 0, mt = 0;
	for (size_t i = 0; i < (size_t)full.w * full.h * 3; i++)
		mf += full.px[i];
	for (size_t i = 0; i < (size_t)th.w * th.h * 3; i++)
		mt += th.px[i];
	mf /= (double)full.w * full.h * 3;
	mt /= (double)th.w * th.h * 3;
	ck_assert_msg(mf - mt < 4 && mt - mf < 4, "means %.1f and %.1f", mf, mt);
	img_free(&full);
	img_free(&th);
	resp_free(&r);
	r = get(&f, "/admin/records/2/thumb");
	ck_assert_int_eq(r.status, 422);
	ck_assert_msg(strstr(r.body, "record 2") && strstr(r.body, "cannot be shown"),
		      "%s", r.body);
	resp_free(&r);
	r = get(&f, "/admin/records/9/thumb");
	ck_assert_int_eq(r.status, 404);
	resp_free(&r);
	/* over 8 MiB: refused before any decoding, the picture still served */
	size_t big = (8u << 20) + 3;
	unsigned char *junk = calloc(1, big);
	junk[0] = 0xFF, junk[1] = 0xD8, junk[2] = 0xFF;
	char *b64big = b64_encode(junk, big, NULL);
	free(snap);
	snap = snapshot_json(CID, b64big, "Cy");
	post_ok(&f, snap);
	r = get(&f, "/admin/records/3/thumb");
	ck_assert_int_eq(r.status, 422);
	ck_assert_msg(strstr(r.body, "8388611 bytes") && strstr(r.body, "up to 8 MiB"),
		      "%s", r.body);
	resp_free(&r);
	r = get(&f, "/admin/records/3/image");
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.len, big);
	resp_free(&r);
	free(b64big);
	free(junk);
	free(snap);
	free(b64);
	fx_end(&f);
}
END_TEST

START_TEST(page_loads_its_script_and_style_from_the_mock)
{
	fx f;
	fx_start(&f);
	resp r = get(&f, "/");
	ck_assert_ptr_nonnull(strstr(r.body, "<script src=\"/admin/page.js\""));
	ck_assert_ptr_nonnull(strstr(r.body, "href=\"/admin/page.css\""));
	ck_assert_ptr_null(strstr(r.body, "http://"));
	ck_assert_ptr_null(strstr(r.body, "https://"));
	resp_free(&r);
	r = get(&f, "/admin/page.js");
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(strstr(r.ctype, "text/javascript"), "%s", r.ctype);
	ck_assert_ptr_nonnull(strstr(r.body, "DOMParser"));
	ck_assert_ptr_null(strstr(r.body, "innerHTML ="));
	resp_free(&r);
	r = get(&f, "/admin/page.css");
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(strstr(r.ctype, "text/css"), "%s", r.ctype);
	resp_free(&r);
	fx_end(&f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mock");
	TCase *t = tcase_create("mock");

	tcase_set_timeout(t, 60);
	tcase_add_test(t, heartbeat_with_nothing_queued_gets_an_empty_reply_and_lists_the_device);
	tcase_add_test(t, device_list_is_paged_by_cid_prefix_with_totals_and_online_by_three_intervals);
	tcase_add_test(t, concurrent_heartbeats_are_all_stored_once_with_commands_queued_between);
	tcase_add_test(t, a_burst_of_heartbeats_waits_for_the_pool_without_new_threads);
	tcase_add_test(t, facelib_op_numbered_from_1_is_confirmed_by_the_heartbeat_echoing_its_seq);
	tcase_add_test(t, facelib_op_fails_when_the_next_heartbeat_carries_another_seq);
	tcase_add_test(t, reply_carries_one_facelib_op_at_a_time_in_queue_order);
	tcase_add_test(t, result_messages_settle_their_commands_and_an_unknown_seq_settles_nothing);
	tcase_add_test(t, next_facelib_batch_rides_alone_on_the_reply_to_a_batch_result);
	tcase_add_test(t, sent_command_times_out_on_the_mock_clock_and_a_late_result_changes_nothing);
	tcase_add_test(t, command_breaking_the_protocol_is_refused_naming_the_rule);
	tcase_add_test(t, expect_100_continue_is_answered_at_once);
	tcase_add_test(t, device_body_that_is_not_a_valid_message_is_a_400_naming_why);
	tcase_add_test(t, deeply_nested_body_is_a_400_and_a_chunked_body_is_accepted);
	tcase_add_test(t, restart_on_the_same_database_keeps_messages_records_and_commands);
	tcase_add_test(t, lean_heartbeats_deliver_each_command_queued_after_the_last_settled);
	tcase_add_test(t, admin_api_and_page_need_the_bearer_token_devices_do_not);
	tcase_add_test(t, html_page_escapes_what_devices_send);
	tcase_add_test(t, record_picture_is_served_as_jpeg_and_a_resend_is_marked_duplicate);
	tcase_add_test(t, cli_prints_help_and_refuses_bad_options_with_status_2);
	tcase_add_test(t, cli_run_logs_its_start_and_an_exchange_and_exits_0_on_sigterm);
	tcase_add_test(t, camsim_device_config_is_confirmed_and_its_capture_stored_with_the_picture);
	tcase_add_test(t, slow_and_idle_clients_do_not_delay_heartbeat_replies);
	tcase_add_test(t, trickling_body_is_cut_at_the_deadline_with_408);
	tcase_add_test(t, cross_site_requests_to_the_admin_api_are_refused);
	tcase_add_test(t, big_messages_are_listed_as_summaries_and_streamed_while_heartbeats_are_answered);
	tcase_add_test(t, retention_deletes_old_and_oversized_data_but_never_an_unsettled_command);
	tcase_add_test(t, cli_fault_run_names_faults_and_seed_and_logs_each_faulted_exchange);
	tcase_add_test(t, faults_set_per_device_act_on_the_wire_and_are_recorded);
	tcase_add_test(t, fault_routes_need_the_admin_token);
	tcase_add_test(t, schema_version_1_database_is_upgraded_in_place);
	tcase_add_test(t, no_100_fault_withholds_100_continue_and_repeats_with_a_seed);
	tcase_add_test(t, device_retransmits_its_pass_once_a_500_fault_is_removed);
	tcase_add_test(t, refused_posts_are_listed_newest_first_with_the_reason_and_on_the_page);
	tcase_add_test(t, lists_take_before_for_the_newest_first);
	tcase_add_test(t, device_panel_spells_out_violations_commands_and_snapshots);
	tcase_add_test(t, thumbnail_is_a_small_jpeg_of_the_picture_and_a_bad_picture_a_422);
	tcase_add_test(t, page_loads_its_script_and_style_from_the_mock);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
	int rc = tu_run(suite());
	curl_global_cleanup();
	return rc;
}
