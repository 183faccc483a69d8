/* mock.c -- the reference mock server's HTTP side: options, the CivetWeb
 * listener, each request's deadline and body (web.c), the browser rules,
 * routing to the device endpoint or the admin API, writing
 * each answer in one piece, the log, and a fast stop.  The database is
 * mock_db.c's (with the command queue in mock_queue.c, the judging and
 * storing of device messages in mock_ingest.c, the views in mock_view.c);
 * the admin routes mock_admin.c's. */
#include "mock_int.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* CivetWeb's workers have 100 KiB stacks: too small for SQLite and deep
 * JSON under ASan.  Each request's work runs on a thread of this size. */
#define JOB_STACK (4u << 20)
/* Threads kept for device messages: a thread per message cost a tenth of
 * the mock's time at a few thousand heartbeats/s (docs/perf.md).  When
 * all are busy a message waits for one, up to POOL_QUEUE waiting; past
 * that it gets a thread of its own, as before.  Busy pool threads wait
 * for the database mutex or the CPU, which a thread more does not
 * speed up: threads started in a burst only cost memory (a 4 MiB stack
 * each, touched pages kept in glibc's stack cache). */
#define POOL_THREADS 8
#define POOL_QUEUE 64

const char *mock_state_name(mock_state s)
{
	static const char *const names[] = {"pending", "sent", "confirmed",
					    "failed", "timeout"};
	return (unsigned)s < sizeof names / sizeof *names ? names[s] : "unknown";
}

/* ---------------------------------------------------------------- helpers */

int64_t mock__now(mock *m)
{
	struct timespec ts;

	if (m->now)
		return m->now(m->now_ud);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mock__iso(int64_t t, char out[32])
{
	time_t s = (time_t)(t >= 0 ? t / 1000 : (t - 999) / 1000);
	int ms = (int)(t - (int64_t)s * 1000);
	struct tm tm;

	if (!gmtime_r(&s, &tm) ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
		snprintf(out, 32, "%lld ms", (long long)t);
		return;
	}
	snprintf(out + 19, 13, ".%03uZ", (unsigned)ms % 1000u);
}

/* ---------------------------------------------------------------- answers */

static const char *reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 421: return "Misdirected Request";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Error";
}

char *mock__wire(const mock__exchange *x, const char *extra, size_t *n)
{
	char head[1024]; /* the page's Content-Security-Policy is long */
	int hn = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n"
			  "Content-Type: %s\r\nContent-Length: %zu\r\n"
			  "Cache-Control: no-store\r\n%sConnection: close\r\n\r\n",
			  x->status, reason(x->status),
			  x->ctype ? x->ctype : "application/json", x->len,
			  extra ? extra : "");
	size_t body = x->body ? x->len : 0; /* no body: the head alone */
	char *buf = malloc((size_t)hn + body + 1);

	if (!buf)
		return NULL;
	memcpy(buf, head, (size_t)hn);
	if (body)
		memcpy(buf + hn, x->body, body);
	*n = (size_t)hn + body;
	return buf;
}

/* Headers and body in one mg_write: CivetWeb's header-by-header writes
 * meet the client's delayed ACK and stall each answer ~40 ms. */
static void send_answer(struct mg_connection *c, const mock__exchange *x,
			const char *extra)
{
	size_t n;
	char *buf = mock__wire(x, extra, &n);

	static const char oom[] = "HTTP/1.1 500 Internal Server Error\r\n"
				  "Content-Length: 0\r\nConnection: close\r\n\r\n";

	if (!buf) {
		mg_write(c, oom, sizeof oom - 1);
		return;
	}
	mg_write(c, buf, n);
	free(buf);
}

void mock__answer(mock__exchange *x, int status, const char *fmt, ...)
{
	strbuf b = {0};
	char line[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	strbuf_printf(&b, "%s\n", line);
	free(x->body);
	x->status = status;
	x->body = b.p;
	x->len = b.p ? b.n : 0;
	x->ctype = "text/plain; charset=utf-8";
}

/* ---------------------------------------------------------------- jobs */

typedef struct mock__job {
	mock *m;
	bool device;
	mock__http rq;
	mock_fault_hit pre; /* the faults drawn before the body */
	mock__exchange x;
	struct mock__job *next; /* in m->pq */
	sem_t done;             /* posted when a pool thread ran it */
} job;

static void *job_main(void *ud)
{
	job *j = ud;

	if (j->device)
		mock__ingest(j->m, j->rq.body, j->rq.len, &j->pre, &j->x);
	else
		mock__admin(j->m, &j->rq, &j->x);
	return NULL;
}

/* A pool thread: takes handed-over jobs until mock_stop. */
static void *pool_main(void *ud)
{
	mock *m = ud;

	pthread_mutex_lock(&m->pmu);
	for (;;) {
		m->pidle++;
		while (!m->pq && !m->pstop)
			pthread_cond_wait(&m->pcv, &m->pmu);
		m->pidle--;
		if (!m->pq)
			break;
		job *j = m->pq;
		m->pq = j->next;
		m->pqueued--;
		pthread_mutex_unlock(&m->pmu);
		job_main(j);
		/* its own semaphore: no other waiter is woken */
		sem_post(&j->done);
		pthread_mutex_lock(&m->pmu);
	}
	pthread_mutex_unlock(&m->pmu);
	return NULL;
}

static bool thread_start(pthread_t *t, void *(*fn)(void *), void *ud)
{
	pthread_attr_t a;
	bool ok;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, JOB_STACK);
	ok = !pthread_create(t, &a, fn, ud);
	pthread_attr_destroy(&a);
	return ok;
}

static void pool_start(mock *m)
{
	pthread_mutex_init(&m->pmu, NULL);
	pthread_cond_init(&m->pcv, NULL);
	/* fewer threads (or none) only costs speed */
	while (m->npth < POOL_THREADS &&
	       thread_start(&m->pth[m->npth], pool_main, m))
		m->npth++;
}

static void pool_stop(mock *m)
{
	pthread_mutex_lock(&m->pmu);
	m->pstop = true;
	pthread_cond_broadcast(&m->pcv);
	pthread_mutex_unlock(&m->pmu);
	for (int i = 0; i < m->npth; i++)
		pthread_join(m->pth[i], NULL);
	pthread_cond_destroy(&m->pcv);
	pthread_mutex_destroy(&m->pmu);
}

/* Hands a device message's job to the pool and waits for it to run;
 * false when there is no pool or POOL_QUEUE jobs wait already. */
static bool pool_run(mock *m, job *j)
{
	bool taken = false;

	pthread_mutex_lock(&m->pmu);
	if (m->npth && m->pqueued < POOL_QUEUE && !m->pstop) {
		job **p = &m->pq;
		/* first come, first served: a job that waits must not be
		 * overtaken for as long as others keep coming (at most
		 * POOL_QUEUE + POOL_THREADS to walk) */
		while (*p)
			p = &(*p)->next;
		sem_init(&j->done, 0, 0);
		j->next = NULL;
		*p = j;
		m->pqueued++;
		pthread_cond_signal(&m->pcv);
		taken = true;
	}
	pthread_mutex_unlock(&m->pmu);
	if (taken) {
		while (sem_wait(&j->done) < 0)
			; /* EINTR */
		sem_destroy(&j->done);
	}
	return taken;
}

static void run_job(job *j)
{
	pthread_t t;

	if (j->device && pool_run(j->m, j))
		return;
	if (thread_start(&t, job_main, j))
		pthread_join(t, NULL);
	else
		mock__answer(&j->x, 503, "the mock cannot start a thread for this "
		       "request; send again");
}

/* The lines are the mock's own; what a device put in them (a cid, a
 * value quoted in an error) is escaped where it is formatted, and here
 * again every control character but the line ends, so that nothing a
 * device sends reaches the terminal as an escape sequence or a bell. */
static void log_lines(mock *m, const strbuf *b)
{
	char *safe;

	if (!m->log || !b->p || !b->n)
		return;
	safe = proto_esc_dup(b->p, true);
	fputs(safe ? safe : "(a log line; out of memory to show it)\n", m->log);
	fflush(m->log);
	free(safe);
}

static int on_device(struct mg_connection *c, mock *m, web_guard *g)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	job j = {.m = m, .device = true};
	char why[400];
	char *body = NULL;
	size_t len = 0;
	web_rq rq;
	int st;

	if (strcmp(ri->request_method, "POST")) {
		char t[32];
		mock__iso(mock__now(m), t);
		mock__answer(&j.x, 405, "%s %s: devices POST their messages here "
		       "(protocol V1.16); nothing else is served at this path",
		       ri->request_method, m->path);
		strbuf_printf(&j.x.log, "%s - %s %s -> 405\n", t,
				ri->request_method, m->path);
		send_answer(c, &j.x, "Allow: POST\r\n");
		goto out;
	}
	/* tablets send no Origin, and their Host and Content-Type are theirs
	 * to choose (the spec leaves them open): only a request from a web
	 * page is held to the browser rules, so that no page can post fake
	 * device messages to a mock on the user's machine */
	web_rq_of(c, &rq);
	st = rq.origin ? web_check_site(&m->site, &rq, WEB_CHECK_ALL, why,
					sizeof why) : 0;
	mock_fault_none(&j.pre);
	mock__inject_draw(m, MOCK_FAULT_HEADERS, NULL, &j.pre);
	j.pre.no_100 &= web_expects_100(c); /* recorded only where it mattered */
	if (!j.pre.no_100)
		mock_fault_none(&j.pre);
	if (!st)
		st = web_read_body(c, g, MOCK__BODY_MAX, "64 MiB", j.pre.no_100,
				   &body, &len, why, sizeof why);
	if (st)
		mock__refuse(m, st, why, &j.x);
	else {
		j.rq.body = body;
		j.rq.len = len;
		run_job(&j);
	}
	/* mg_write's result is no evidence: CivetWeb 1.15 returns -1 at
	 * times for answers the client received whole, so a command once
	 * in a reply stays sent (and times out if the device never acts) */
	if (!mock__inject_answer(m, c, &j.x))
		send_answer(c, &j.x, NULL);
out:
	log_lines(m, &j.x.log);
	st = j.x.status ? j.x.status : 1; /* 0: no answer, but handled */
	free(body);
	mock__exchange_free(&j.x);
	return st;
}

/* A web page must not drive the admin API: no foreign Origin, no form or
 * text/plain writes, and without a token (loopback only) no foreign Host
 * either; with a token the browser has no credentials for a rebound
 * name, and the mock's LAN names are not known to it. */
static int admin_site(struct mg_connection *c, mock *m, mock__exchange *x)
{
	char why[400];
	web_rq rq;
	int st;

	web_rq_of(c, &rq);
	st = web_check_site(&m->site, &rq, m->token ? WEB_CHECK_ORIGIN |
			    WEB_CHECK_JSON : WEB_CHECK_ALL, why, sizeof why);
	if (st) {
		free(x->body);
		x->status = st;
		x->ctype = "application/json";
		x->body = web_error_json(why);
		x->len = x->body ? strlen(x->body) : 0;
		if (!x->body)
			mock__answer(x, st, "%s", why);
	}
	return st;
}

/* mock__writer over a connection (streamed admin answers). */
static int conn_write(void *ud, const void *p, size_t n)
{
	return mg_write(ud, p, n) == (int)n ? 0 : CONF_ESEND;
}

static int on_admin(struct mg_connection *c, mock *m, web_guard *g)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	job j = {.m = m};
	char why[300];
	char *body = NULL;
	int st = 0;

	j.rq.method = ri->request_method;
	j.rq.uri = ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri;
	j.rq.query = ri->query_string;
	j.rq.auth = mg_get_header(c, "Authorization");
	j.rq.write = conn_write;
	j.rq.wud = c;
	if (admin_site(c, m, &j.x)) {
		send_answer(c, &j.x, NULL);
		goto out;
	}
	if (!strcmp(j.rq.method, "POST") || !strcmp(j.rq.method, "PUT"))
		st = web_read_body(c, g, MOCK__BODY_MAX, "64 MiB", false, &body,
				   &j.rq.len, why, sizeof why);
	if (st) {
		mock__answer(&j.x, st, "%s", why);
	} else {
		j.rq.body = body;
		run_job(&j);
	}
	if (!j.x.written) {
		/* nosniff: record pictures and raw bodies are the devices'
		 * bytes; a browser must never run them as a page or script */
		char extra[600];
		snprintf(extra, sizeof extra, "X-Content-Type-Options: nosniff"
			 "\r\n%s", j.x.status == 401 ? "WWW-Authenticate: "
			 "Bearer realm=\"camsim mock\", Basic realm=\"camsim "
			 "mock\"\r\n" : j.x.status == 405 ?
			 "Allow: GET, POST, PUT, DELETE\r\n" :
			 j.x.headers ? j.x.headers : "");
		send_answer(c, &j.x, extra);
	}
out:
	st = j.x.status;
	free(body);
	mock__exchange_free(&j.x);
	return st;
}

static int on_request(struct mg_connection *c, void *ud)
{
	mock *m = ud;
	const struct mg_request_info *ri = mg_get_request_info(c);
	const char *uri = ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri;
	mock__exchange x = {0};
	web_guard g;
	int st;

	/* a slow client holds this worker until the deadline at most */
	web_guard_begin(&g, c, m->deadline_ms);
	if (uri && !strcmp(uri, m->path)) {
		st = on_device(c, m, &g);
	} else if (uri && (!strcmp(uri, "/") || !strncmp(uri, "/admin", 6))) {
		st = on_admin(c, m, &g);
	} else {
		mock__answer(&x, 404, "no such endpoint: %s %.200s; devices POST "
			     "to %s, the admin API is under /admin/ "
			     "(docs/mock.md)", ri->request_method,
			     uri ? uri : "?", m->path);
		send_answer(c, &x, NULL);
		st = x.status;
		mock__exchange_free(&x);
	}
	web_guard_end(&g, c);
	return st;
}

/* ---------------------------------------------------------------- start */

static bool token_ok(const char *t)
{
	if (!t || !*t || strlen(t) > 256)
		return false;
	for (; *t; t++)
		if ((unsigned char)*t < 0x21 || (unsigned char)*t > 0x7E)
			return false;
	return true;
}

static int check_opts(const mock_opts *o, char *err, size_t errlen)
{
	const char *p = o->path ? o->path : "/api/face";

	if (!o->db || !*o->db) {
		snprintf(err, errlen, "no database file given (mock_opts.db, "
			 "--db FILE)");
		return CONF_EINVAL;
	}
	if (p[0] != '/' || !p[1] || !strncmp(p, "/admin", 6) ||
	    strlen(p) > 200 || strpbrk(p, " ?#\t\r\n")) {
		snprintf(err, errlen, "device path \"%.100s\" must start with / "
			 "and name something other than / and /admin... (no "
			 "spaces, ? or #; at most 200 bytes)", p);
		return CONF_EINVAL;
	}
	if (o->token && !token_ok(o->token)) {
		snprintf(err, errlen, "the admin token must be 1 to 256 printable "
			 "ASCII characters without spaces (it travels in an "
			 "Authorization header)");
		return CONF_EINVAL;
	}
	if (o->retain_age_ms < 0 || o->retain_bytes < 0) {
		snprintf(err, errlen, "retain_age_ms %lld and retain_bytes %lld "
			 "must be >= 0 (0: no limit)", (long long)o->retain_age_ms,
			 (long long)o->retain_bytes);
		return CONF_EINVAL;
	}
	if (o->cmd_timeout_ms < 0) {
		snprintf(err, errlen, "cmd_timeout_ms is %lld; it must be > 0 (0: "
			 "the default 60000)", (long long)o->cmd_timeout_ms);
		return CONF_EINVAL;
	}
	return 0;
}

int mock_start(const mock_opts *o, mock **out, char *err, size_t errlen)
{
	bool mu = false, pool = false;
	mock *m = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (!o || !out) {
		snprintf(err, errlen, "mock_start: no options");
		return CONF_EINVAL;
	}
	if ((rc = check_opts(o, err, errlen)) < 0)
		return rc;
	rc = CONF_ENOMEM;
	snprintf(err, errlen, "out of memory starting the mock");
	if (!(m = calloc(1, sizeof *m)))
		goto fail;
	if (web_addr_parse("listen address", o->listen ? o->listen
			   : "127.0.0.1:8080", &m->where, err, errlen) < 0) {
		rc = CONF_EINVAL;
		goto fail;
	}
	if (!m->where.loopback && !o->token) {
		snprintf(err, errlen, "listening on %s, which is not a loopback "
			 "address, needs an admin token (mock_opts.token, --token "
			 "or --token-file): the admin API can queue commands for "
			 "every device", m->where.opt);
		rc = CONF_EINVAL;
		goto fail;
	}
	rc = CONF_ENOMEM;
	if (!(m->path = strdup(o->path ? o->path : "/api/face")) ||
	    !(m->dbpath = strdup(o->db)) ||
	    (o->token && !(m->token = strdup(o->token))))
		goto fail;
	m->prof = o->prof ? o->prof : &proto_profile_strict;
	m->now = o->now;
	m->now_ud = o->now_ud;
	m->timeout_ms = o->cmd_timeout_ms > 0 ? o->cmd_timeout_ms : 60000;
	m->log = o->log;
	m->retain_age_ms = o->retain_age_ms;
	m->retain_bytes = o->retain_bytes;
	m->scratch = o->scratch;
	if ((rc = mock__inject_init(m, o, err, errlen)) < 0)
		goto fail;
	mock__lock_init(m);
	mu = true;
	if ((rc = mock__db_open(m, err, errlen)) < 0)
		goto fail;
	if ((rc = mock__retain_run(m)) < 0) {
		snprintf(err, errlen, "database %s: the retention pass at start "
			 "failed: %s", m->dbpath, conf_strerror(rc));
		goto fail;
	}
	m->deadline_ms = o->deadline_ms > 0 ? o->deadline_ms : WEB_DEADLINE_MS;
	/* 256 workers: a load test's devices and a few hundred idle or slow
	 * connections besides, ~80 KiB each (docs/mock.md, Slow clients) */
	pool_start(m);
	pool = true;
	if (!(m->mg = web_start(&m->where, "256", "/", on_request, m, &m->site,
				err, errlen))) {
		rc = CONF_ELISTEN;
		goto fail;
	}
	m->port = m->site.port;
	if (errlen)
		err[0] = '\0';
	*out = m;
	return 0;
fail:
	if (m) {
		if (pool)
			pool_stop(m);
		mock__db_close(m);
		if (mu) {
			mock__lock_destroy(m);
			mock__inject_free(m);
		}
		free(m->path);
		free(m->dbpath);
		free(m->token);
		free(m);
	}
	return rc;
}

int mock_port(const mock *m)
{
	return m ? m->port : 0;
}

/* ---------------------------------------------------------------- stop */

void mock_stop(mock *m)
{
	if (!m)
		return;
	atomic_store(&m->stopping, true); /* injected delays end now */
	web_stop(m->mg, &m->where.addr); /* returns once every handler has
					     returned */
	pool_stop(m);
	mock__db_close(m);
	mock__lock_destroy(m);
	mock__inject_free(m);
	free(m->path);
	free(m->dbpath);
	free(m->token);
	free(m);
}
