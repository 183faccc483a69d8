/* testsrv.h -- a scripted HTTP server for device tests (CivetWeb, in the
 * test process, on a free loopback port): records every request (URI,
 * client address, Expect header, body) and answers with the next
 * scripted reply, or the default one.  Header-only, test code only. */
#ifndef CAMSIM_TESTSRV_H
#define CAMSIM_TESTSRV_H

#include <civetweb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TS_MAX_REQ 8192
#define TS_MAX_SCRIPT 256

typedef struct ts_req {
	char uri[128];
	char peer[48];   /* the client's address (its source address) */
	bool expect_100;
	bool conn_close; /* sent "Connection: close" */
	char *body;
	size_t len;
} ts_req;

typedef struct ts_reply {
	int status;      /* 0: close the connection without answering */
	char *body;
	int delay_ms;
	size_t claim_len; /* > strlen(body): a Content-Length that lies */
} ts_reply;

typedef struct testsrv {
	struct mg_context *ctx;
	int port;
	char url[96];
	pthread_mutex_t mu;
	ts_req *req; /* TS_MAX_REQ, on the heap: test stacks stay small */
	size_t n_req;
	ts_reply script[TS_MAX_SCRIPT];
	size_t n_script, next;
	ts_reply dflt;
	char refuse[64]; /* a body holding this gets 500, whatever the script */
} testsrv;

static void ts_answer(struct mg_connection *c, const ts_reply *r)
{
	const char *b = r->body ? r->body : "";
	size_t n = strlen(b);

	if (r->delay_ms)
		usleep((useconds_t)r->delay_ms * 1000);
	if (r->status == 0)
		return; /* the caller closes */
	/* snprintf + mg_write: mg_printf's large stack buffer overflows
	 * CivetWeb's worker stacks under ASan. */
	char head[256];
	int hn = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: "
			  "application/json\r\nContent-Length: %zu\r\n%s\r\n",
			  r->status, r->claim_len > n ? r->claim_len : n,
			  r->claim_len > n ? "Connection: close\r\n" : "");
	mg_write(c, head, (size_t)hn);
	mg_write(c, b, n);
}

static int ts_handler(struct mg_connection *c, void *ud)
{
	testsrv *s = ud;
	const struct mg_request_info *ri = mg_get_request_info(c);
	const char *ex = mg_get_header(c, "Expect");
	const char *conn = mg_get_header(c, "Connection");
	char *body = NULL, *buf = malloc(65536); /* worker stacks are small */
	size_t len = 0;
	int n;
	ts_reply r;

	/* CivetWeb 1.15 does not answer "100 Continue" (the mock writes its
	 * own): a device posting with Expect here waits its 1 s first. */
	while (buf && (n = mg_read(c, buf, 65536)) > 0) {
		char *nb = realloc(body, len + (size_t)n + 1);
		if (!nb)
			break;
		body = nb;
		memcpy(body + len, buf, (size_t)n);
		len += (size_t)n;
		body[len] = '\0';
	}
	free(buf);
	pthread_mutex_lock(&s->mu);
	if (s->n_req < TS_MAX_REQ) {
		ts_req *q = &s->req[s->n_req++];
		snprintf(q->uri, sizeof(q->uri), "%s", ri->local_uri);
		snprintf(q->peer, sizeof(q->peer), "%s", ri->remote_addr);
		q->expect_100 = ex && strstr(ex, "100-continue");
		q->conn_close = conn && strstr(conn, "close");
		q->body = body ? body : strdup("");
		q->len = len;
		body = NULL;
	}
	r = s->next < s->n_script ? s->script[s->next++] : s->dflt;
	if (*s->refuse && s->n_req && strstr(s->req[s->n_req - 1].body, s->refuse))
		r = (ts_reply){500, NULL, 0, 0};
	pthread_mutex_unlock(&s->mu);
	free(body);
	ts_answer(c, &r);
	return r.status ? r.status : 1;
}

/* A GET endpoint for upgrade packages: /pkg/ok, /pkg/404, /pkg/empty,
 * /pkg/big (2 MiB), /pkg/cut (claims more than it sends). */
static int ts_pkg(struct mg_connection *c, void *ud)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	(void)ud;
	if (!strcmp(ri->local_uri, "/pkg/ok")) {
		ts_reply r = {200, "firmware-package-bytes", 0, 0};
		ts_answer(c, &r);
		return 200;
	}
	if (!strcmp(ri->local_uri, "/pkg/empty")) {
		ts_reply r = {200, "", 0, 0};
		ts_answer(c, &r);
		return 200;
	}
	if (!strcmp(ri->local_uri, "/pkg/cut")) {
		ts_reply r = {200, "only-a-part", 0, 100000};
		ts_answer(c, &r);
		return 200;
	}
	if (!strcmp(ri->local_uri, "/pkg/big")) {
		static char chunk[65536];
		memset(chunk, 'x', sizeof(chunk));
		static const char h[] = "HTTP/1.1 200 OK\r\nContent-Length: "
					"2097152\r\n\r\n";
		mg_write(c, h, sizeof(h) - 1);
		for (int i = 0; i < 32; i++)
			if (mg_write(c, chunk, sizeof(chunk)) <= 0)
				break;
		return 200;
	}
	static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
	mg_write(c, nf, sizeof(nf) - 1);
	return 404;
}

static inline int ts_start(testsrv *s)
{
	const char *opts[] = {"listening_ports", "127.0.0.1:0",
			      "num_threads", "4", NULL};
	struct mg_server_port ports[2];

	memset(s, 0, sizeof(*s));
	s->req = calloc(TS_MAX_REQ, sizeof(*s->req));
	if (!s->req)
		return -1;
	pthread_mutex_init(&s->mu, NULL);
	s->dflt.status = 200;
	mg_init_library(0);
	s->ctx = mg_start(NULL, NULL, opts);
	if (!s->ctx)
		return -1;
	mg_set_request_handler(s->ctx, "/api", ts_handler, s);
	mg_set_request_handler(s->ctx, "/pkg", ts_pkg, s);
	if (mg_get_server_ports(s->ctx, 2, ports) < 1)
		return -1;
	s->port = ports[0].port;
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d/api/face", s->port);
	return 0;
}

static inline void ts_stop(testsrv *s)
{
	if (s->ctx)
		mg_stop(s->ctx);
	for (size_t i = 0; i < s->n_req; i++)
		free(s->req[i].body);
	free(s->req);
	for (size_t i = 0; i < s->n_script; i++)
		free(s->script[i].body);
	free(s->dflt.body);
	pthread_mutex_destroy(&s->mu);
}

/* Queues a reply for the next request without one. */
static inline void ts_push(testsrv *s, int status, const char *body, int delay_ms)
{
	pthread_mutex_lock(&s->mu);
	if (s->n_script < TS_MAX_SCRIPT) {
		ts_reply *r = &s->script[s->n_script++];
		r->status = status;
		r->body = body ? strdup(body) : NULL;
		r->delay_ms = delay_ms;
	}
	pthread_mutex_unlock(&s->mu);
}

static inline void ts_default(testsrv *s, int status, const char *body)
{
	pthread_mutex_lock(&s->mu);
	free(s->dflt.body);
	s->dflt.status = status;
	s->dflt.body = body ? strdup(body) : NULL;
	pthread_mutex_unlock(&s->mu);
}

static inline size_t ts_count(testsrv *s)
{
	pthread_mutex_lock(&s->mu);
	size_t n = s->n_req;
	pthread_mutex_unlock(&s->mu);
	return n;
}

#endif
