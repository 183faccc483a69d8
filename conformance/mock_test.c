/* mock_test.c -- the hooks of mock_test.h: a listener-less mock for the
 * fuzz harness, routed as mock.c routes CivetWeb's requests.  Owns no
 * mock behaviour: every answer comes from mock__ingest / mock__admin. */
#include "mock_test.h"
#include "mock_int.h"
#include "conf_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mock *mock_test_open(mock_clock_cb now, void *now_ud, char *err,
		     size_t errlen)
{
	mock *m = calloc(1, sizeof *m);
	mock_opts o = {0}; /* no --fault: per-device faults only */

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->path = (char *)"/api/face";
	m->dbpath = (char *)":memory:";
	m->prof = &proto_profile_strict;
	m->now = now;
	m->now_ud = now_ud;
	m->timeout_ms = 60000;
	mock__lock_init(m);
	if (mock__db_open(m, err, errlen) < 0) {
		mock__lock_destroy(m);
		free(m);
		return NULL;
	}
	if (mock__inject_init(m, &o, err, errlen) < 0) {
		mock__db_close(m);
		mock__lock_destroy(m);
		free(m);
		return NULL;
	}
	return m;
}

void mock_test_close(mock *m)
{
	if (!m)
		return;
	mock__inject_free(m);
	mock__db_close(m);
	mock__lock_destroy(m);
	free(m);
}

/* Where streamed admin answers (a message's body) go: counted, dropped. */
static int sink(void *ud, const void *p, size_t n)
{
	(void)p;
	*(size_t *)ud += n;
	return 0;
}

int mock_test_request(mock *m, const char *uri, const char *query,
		      const char *body, size_t len, mock_test_answer *a)
{
	mock__exchange *x = calloc(1, sizeof *x);
	char *b = malloc(len + 1); /* NUL-terminated, as mock.c's reader's */

	memset(a, 0, sizeof *a);
	if (!x || !b) {
		free(x);
		free(b);
		return CONF_ENOMEM;
	}
	memcpy(b, body ? body : "", len);
	b[len] = '\0';
	if (!strcmp(uri, m->path)) {
		mock_fault_hit pre;
		mock_fault_none(&pre);
		mock__ingest(m, b, len, &pre, x);
		a->device = true;
	} else if (!strcmp(uri, "/") || !strncmp(uri, "/admin", 6)) {
		mock__http rq = {.method = len ? "POST" : "GET", .uri = uri,
				 .query = query, .body = b, .len = len,
				 .write = sink, .wud = &a->streamed};
		mock__admin(m, &rq, x);
	} else {
		free(b);
		free(x);
		return 0;
	}
	free(b);
	a->status = x->status;
	a->body = x->body;
	a->len = x->len;
	a->ctype = x->ctype;
	a->written = x->written;
	a->priv_ = x;
	return 0;
}

void mock_test_answer_free(mock_test_answer *a)
{
	if (a->priv_) {
		mock__exchange_free(a->priv_);
		free(a->priv_);
	}
	memset(a, 0, sizeof *a);
}
