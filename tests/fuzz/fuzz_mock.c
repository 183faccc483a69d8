/* fuzz_mock.c -- libFuzzer harness for the mock server's request core
 * (mock_ingest.c's mock__ingest, mock_admin.c's mock__admin) as CivetWeb
 * hands requests to it, on a fresh in-memory database per input, through
 * the hooks of conformance/mock_test.h.
 * Input: requests separated by a line "----"; each is "URI\nBODY" (the
 * URI may carry "?query").  The device path gets BODY as a POST; other
 * URIs go to the admin API as a POST when BODY is not empty, else a GET.
 * So one input can queue a command and then carry the heartbeat it rides
 * on. */
#include "fuzz.h"
#include "mock_test.h"
#include "proto.h"

#include <cJSON.h>
#include <stdlib.h>
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

static void one(mock *m, const char *req, size_t len)
{
	const char *nl = memchr(req, '\n', len);
	size_t ulen = nl ? (size_t)(nl - req) : len;
	size_t blen = nl ? len - ulen - 1 : 0;
	char *uri = strndup(req, ulen), *q;
	mock_test_answer a;
	int rc;

	FUZZ_CHECK(uri, "out of memory");
	q = strchr(uri, '?');
	if (q)
		*q++ = '\0';
	rc = mock_test_request(m, uri, q, nl ? nl + 1 : "", blen, &a);
	FUZZ_CHECK(rc == 0, "out of memory");
	free(uri);
	if (!a.status)
		return; /* mock.c answers 404 itself */
	if (a.device && a.status == 200 && a.body && a.ctype &&
	    strstr(a.ctype, "json")) {
		cJSON *j = NULL;
		char err[256];
		rc = proto_json_parse(a.body, a.len, &j, err, sizeof err);
		FUZZ_CHECK(rc == 0, "a 200 reply the device cannot read: "
			   "%s\n%.*s", err, (int)a.len, a.body);
		cJSON_Delete(j);
	}
	FUZZ_CHECK(a.device || !a.written || a.status == 200,
		   "streamed, status %d", a.status);
	FUZZ_CHECK(a.status >= 200 && a.status <= 599, "status %d", a.status);
	FUZZ_CHECK(a.status < 300 || a.body || a.written,
		   "a %d without a sentence why", a.status);
	mock_test_answer_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char err[256];
	mock *m = mock_test_open(fake_now, NULL, err, sizeof err);

	FUZZ_CHECK(m, "an in-memory mock: %s", err);
	for (int n = 0; n < MAX_REQUESTS && p <= end; n++) {
		const char *s = memmem(p, (size_t)(end - p), sep, sizeof sep - 1);
		size_t len = s ? (size_t)(s - p) : (size_t)(end - p);
		one(m, p, len);
		if (!s)
			break;
		p = s + sizeof sep - 1;
	}
	mock_test_close(m);
	return 0;
}
