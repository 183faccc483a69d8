/* mock_test.h -- TEST AND FUZZING HOOKS into the reference mock server:
 * its request core (the device path and the admin API) driven without
 * CivetWeb, on an in-memory database, for tests/fuzz/fuzz_mock.c.
 * Product code never includes this; the mock's internals stay in
 * mock_int.h and mock_db_int.h. */
#ifndef CAMSIM_MOCK_TEST_H
#define CAMSIM_MOCK_TEST_H

#include "mock.h"

#include <stdbool.h>
#include <stddef.h>

/* A mock as mock_start builds it, minus the listener: strict profile,
 * device path "/api/face", a 60 s command timeout, no token, no log, no
 * --fault list (per-device faults can still be set through the admin API).
 * now (required) is its clock.  Returns NULL with err set on failure;
 * free with mock_test_close. */
mock *mock_test_open(mock_clock_cb now, void *now_ud, char *err,
		     size_t errlen);
void mock_test_close(mock *m);

/* One request's answer.  body is owned by the answer until
 * mock_test_answer_free. */
typedef struct mock_test_answer {
	int status;        /* 0: the URI is neither the device path nor the
			      admin API (mock.c answers 404 itself) */
	bool device;       /* answered on the device path */
	const char *body;  /* the answer body (NULL: empty or streamed) */
	size_t len;
	const char *ctype; /* its Content-Type (NULL: none) */
	bool written;      /* the answer was streamed (its bytes counted in
			      streamed, not kept) */
	size_t streamed;
	void *priv_;       /* the exchange behind it */
} mock_test_answer;

/* Serves one request as mock.c routes it: uri (no query) equal to the
 * device path gets body as a POST; "/" and "/admin..." go to the admin
 * API, as a POST when len > 0, else a GET, with query (may be NULL).
 * body need not be NUL-terminated.  Returns 0, or CONF_ENOMEM (a is then
 * empty). */
int mock_test_request(mock *m, const char *uri, const char *query,
		      const char *body, size_t len, mock_test_answer *a);
void mock_test_answer_free(mock_test_answer *a);

#endif
