/* fuzz_mock.c -- libFuzzer harness for the mock server's request core
 * (conformance/mock_db.c's mock__ingest, mock_admin.c's mock__admin) as
 * CivetWeb hands requests to it, on a fresh in-memory database per input.
 * Input: requests separated by a line "----"; each is "URI\nBODY" (the
 * URI may carry "?query").  The device path gets BODY as a POST; other
 * URIs go to the admin API as a POST when BODY is not empty, else a GET.
 * So one input can queue a command and then carry the heartbeat it rides
 * on.  Owns no mock code: it mirrors mock.c's routing only. */
#include "fuzz.h"
#include "mock_int.h"
#include "proto.h"

#include <cJSON.h>
#include <string.h>

#define MAX_REQUESTS 8
static const char sep[] = "\n----\n";

static int64_t clock_ms;

/* Each request a second later: deterministic, and timeouts do happen. */
static int64_t fake_now(void *ud)
{
	(void)ud;
	return clock_ms += 1000;
}

/* struct mock as mock_start fills it, minus CivetWeb: the harness never
 * listens.  Zeroed members are "none" (no token, no log). */
static void open_mock(mock *m)
{
	char err[256];
	int rc;

	memset(m, 0, sizeof *m);
	m->path = (char *)"/api/face";
	m->dbpath = (char *)":memory:";
	m->prof = &proto_profile_strict;
	m->now = fake_now;
	m->timeout_ms = 60000;
	pthread_mutex_init(&m->mu, NULL);
	rc = mock__db_open(m, err, sizeof err);
	FUZZ_CHECK(rc == 0, "an in-memory mock database: %s", err);
	{
		mock_opts o = {0}; /* no --fault: per-device faults only */
		rc = mock__inject_init(m, &o, err, sizeof err);
		FUZZ_CHECK(rc == 0, "fault injection: %s", err);
	}
}

static void close_mock(mock *m)
{
	mock__inject_free(m);
	mock__db_close(m);
	pthread_mutex_destroy(&m->mu);
}

/* Where streamed admin answers (a message's body) go: counted, dropped. */
static int sink(void *ud, const void *p, size_t n)
{
	(void)p;
	*(size_t *)ud += n;
	return 0;
}

static void one(mock *m, const char *req, size_t len)
{
	const char *nl = memchr(req, '\n', len);
	size_t ulen = nl ? (size_t)(nl - req) : len;
	size_t blen = nl ? len - ulen - 1 : 0;
	char *uri = strndup(req, ulen), *q;
	char *body = malloc(blen + 1); /* NUL-terminated, as read_body's */
	mock__exchange x = {0};

	FUZZ_CHECK(uri && body, "out of memory");
	memcpy(body, nl ? nl + 1 : "", blen);
	body[blen] = '\0';
	q = strchr(uri, '?');
	if (q)
		*q++ = '\0';
	if (!strcmp(uri, m->path)) {
		mock_fault_hit pre;
		mock_fault_none(&pre);
		mock__ingest(m, body, blen, &pre, &x);
		if (x.status == 200 && x.body && x.ctype &&
		    strstr(x.ctype, "json")) {
			cJSON *j = NULL;
			char err[256];
			int rc = proto_json_parse(x.body, x.len, &j, err, sizeof err);
			FUZZ_CHECK(rc == 0, "a 200 reply the device cannot read: "
				   "%s\n%.*s", err, (int)x.len, x.body);
			cJSON_Delete(j);
		}
	} else if (!strcmp(uri, "/") || !strncmp(uri, "/admin", 6)) {
		size_t streamed = 0;
		mock__http rq = {.method = blen ? "POST" : "GET", .uri = uri,
				 .query = q, .body = body, .len = blen,
				 .write = sink, .wud = &streamed};
		mock__admin(m, &rq, &x);
		FUZZ_CHECK(!x.written || x.status == 200, "streamed, status %d",
			   x.status);
	} else {
		free(uri);
		free(body);
		return; /* mock.c answers 404 itself */
	}
	FUZZ_CHECK(x.status >= 200 && x.status <= 599, "status %d", x.status);
	FUZZ_CHECK(x.status < 300 || x.body || x.written, "a %d without a sentence why",
		   x.status);
	mock__exchange_free(&x);
	free(uri);
	free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	mock m;

	open_mock(&m);
	for (int n = 0; n < MAX_REQUESTS && p <= end; n++) {
		const char *s = memmem(p, (size_t)(end - p), sep, sizeof sep - 1);
		size_t len = s ? (size_t)(s - p) : (size_t)(end - p);
		one(&m, p, len);
		if (!s)
			break;
		p = s + sizeof sep - 1;
	}
	close_mock(&m);
	return 0;
}
