/* web.c -- what every CivetWeb listener shares: address, start-up, fast stop
 * (a poking thread beside mg_stop), handler threads, the request deadline
 * (one watchdog thread), the body reader, the browser rules.  Touches no
 * listener's state; of a connection only its reading side, at its deadline. */
#include "web.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <civetweb.h>
#include <ctype.h>
#include <errno.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

typedef struct poker {
	atomic_bool done;
	const struct sockaddr_storage *addr;
} poker;

static void *poke(void *ud)
{
	poker *p = ud;
	socklen_t n = p->addr->ss_family == AF_INET6 ?
			      sizeof(struct sockaddr_in6) :
			      sizeof(struct sockaddr_in);

	while (!atomic_load(&p->done)) {
		int fd = socket(p->addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0) {
			(void)connect(fd, (const struct sockaddr *)p->addr, n);
			close(fd);
		}
		nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
	}
	return NULL;
}

static int port_of(const struct sockaddr_storage *a)
{
	if (!a)
		return 0;
	if (a->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	if (a->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	return 0;
}

void web_stop(struct mg_context *ctx, const struct sockaddr_storage *addr)
{
	poker pk = {.addr = addr};
	pthread_t th;
	bool poking;

	if (!ctx)
		return;
	atomic_init(&pk.done, false);
	poking = port_of(addr) > 0 && !pthread_create(&th, NULL, poke, &pk);
	mg_stop(ctx);
	if (poking) {
		atomic_store(&pk.done, true);
		pthread_join(th, NULL);
	}
	mg_exit_library();
}

int web_addr_parse(const char *what, const char *s, web_addr *a, char *why,
		   size_t whylen)
{
	char host[64] = "127.0.0.1";
	const char *port = s, *colon;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&a->addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&a->addr;
	bool v6 = false;
	char *end;
	long pn;

	memset(a, 0, sizeof *a);
	if (!s || !*s)
		goto bad;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':' || (size_t)(close - s) > sizeof host)
			goto bad;
		snprintf(host, sizeof host, "%.*s", (int)(close - s - 1), s + 1);
		port = close + 2;
		v6 = true;
	} else if ((colon = strrchr(s, ':'))) {
		if ((size_t)(colon - s) >= sizeof host)
			goto bad;
		if (colon > s)
			snprintf(host, sizeof host, "%.*s", (int)(colon - s), s);
		if (!strcmp(host, "localhost"))
			strcpy(host, "127.0.0.1");
		port = colon + 1;
	}
	if (v6 ? inet_pton(AF_INET6, host, &a6->sin6_addr) != 1 :
		 inet_pton(AF_INET, host, &a4->sin_addr) != 1)
		goto bad;
	errno = 0;
	pn = strtol(port, &end, 10);
	if (!*port || *end || errno || *port == '-' || *port == '+' || pn < 0 ||
	    pn > 65535)
		goto bad;
	snprintf(a->opt, sizeof a->opt, v6 ? "[%s]:%ld" : "%s:%ld", host, pn);
	if (v6) {
		a6->sin6_family = AF_INET6;
		a->loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
		if (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr))
			a6->sin6_addr = in6addr_loopback;
	} else {
		a4->sin_family = AF_INET;
		a->loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
		if (a4->sin_addr.s_addr == htonl(INADDR_ANY))
			a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	return 0;
bad:
	snprintf(why, whylen, "%s \"%.100s\" is not HOST:PORT (HOST an IPv4 "
		 "address, [IPv6] or localhost, default 127.0.0.1; PORT 0 to "
		 "65535, 0 any free port)", what, s ? s : "(null)");
	return BASE_EINVAL;
}

static int quiet_log(const struct mg_connection *conn, const char *msg)
{
	(void)conn;
	(void)msg;
	return 1; /* errors reach the clients as answers, not stderr */
}

/* CivetWeb's own error answers (a request it could not read: malformed,
 * cut, too slow) are written here, in one small frame: its default path
 * formats the header through mg_printf's 8 KiB buffers on top of the
 * worker's 100 KiB stack, and a camsim load test killing and restarting
 * the in-process mock overflowed it (SIGSEGV in vsnprintf,
 * check_load_prop).  0: answered. */
static int small_error(struct mg_connection *conn, int status, const char *msg)
{
	char head[192];
	size_t n = strlen(msg);
	int hn = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: "
			  "text/plain; charset=utf-8\r\nContent-Length: %zu\r\n"
			  "Connection: close\r\n\r\n", status,
			  mg_get_response_code_text(conn, status), n);

	if (hn > 0 && (size_t)hn < sizeof head) {
		mg_write(conn, head, (size_t)hn);
		mg_write(conn, msg, n);
	}
	return 0;
}

struct mg_context *web_start(web_addr *a, const char *threads,
			     const char *uri, web_handler_cb fn, void *ud,
			     web_site *site, char *why,
			     size_t whylen)
{
	char cerr[256] = "", rto[24];
	unsigned code = 0;
	struct mg_callbacks cb = {.log_message = quiet_log,
				  .http_error = small_error};
	struct mg_error_data ed = {.code = &code, .text = cerr,
				   .text_buffer_size = sizeof cerr};
	const char *opts[] = {"listening_ports", a->opt, "num_threads", threads,
			      "request_timeout_ms", rto,
			      "enable_keep_alive", "no", "tcp_nodelay", "1",
			      "decode_url", "no", NULL};
	struct mg_init_data id = {.callbacks = &cb, .user_data = ud,
				  .configuration_options = opts};
	struct mg_server_port sp;
	struct mg_context *ctx;
	int port = 0;

	snprintf(rto, sizeof rto, "%ld", WEB_HEADER_TIMEOUT_MS);
	mg_init_library(0);
	if (!(ctx = mg_start2(&id, &ed))) {
		snprintf(why, whylen, "cannot listen on %s: %s", a->opt,
			 cerr[0] ? cerr : "CivetWeb did not start");
		mg_exit_library();
		return NULL;
	}
	mg_set_request_handler(ctx, uri, fn, ud);
	if (mg_get_server_ports(ctx, 1, &sp) == 1)
		port = sp.port;
	if (a->addr.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a->addr)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)&a->addr)->sin_port = htons((uint16_t)port);
	if (site)
		web_site_of(site, &a->addr, a->loopback);
	return ctx;
}

typedef struct web_job {
	int (*fn)(struct mg_connection *, void *);
	struct mg_connection *conn;
	void *ud;
	int rc;
} web_job;

static void *web_job_main(void *arg)
{
	web_job *j = arg;
	j->rc = j->fn(j->conn, j->ud);
	return NULL;
}

int web_call(web_handler_cb fn, struct mg_connection *conn, void *ud)
{
	web_job j = {fn, conn, ud, -1};
	pthread_attr_t a;
	pthread_t t;
	int ok;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, WEB_STACK);
	ok = !pthread_create(&t, &a, web_job_main, &j);
	pthread_attr_destroy(&a);
	if (!ok)
		return -1;
	pthread_join(t, NULL);
	return j.rc;
}

/* ---------------------------------------------------------------- deadlines */

static pthread_mutex_t wd_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cv;
static pthread_once_t wd_once = PTHREAD_ONCE_INIT;
static web_guard *wd_head; /* armed guards (wd_mu) */
static bool wd_running, wd_tried; /* wd_mu */

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* CivetWeb 1.15 does not hand out a connection's socket, so the watchdog
 * finds it among the process's descriptors by its two ends; it runs only
 * when a deadline passes, and only while the guard is armed (the handler
 * has not returned, so the socket is still that connection's). */
static void shut_reading(const web_guard *g)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		return;
	/* small frames: this may run on a CivetWeb worker's 100 KiB stack */
	while ((e = readdir(d))) {
		struct sockaddr_storage a;
		socklen_t n = sizeof a;
		const void *ad;
		int fd;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		fd = atoi(e->d_name);
		if (fd == dirfd(d) || getsockname(fd, (struct sockaddr *)&a, &n) ||
		    (a.ss_family != AF_INET && a.ss_family != AF_INET6) ||
		    port_of(&a) != g->local_port)
			continue;
		n = sizeof a;
		if (getpeername(fd, (struct sockaddr *)&a, &n) ||
		    a.ss_family != g->family || port_of(&a) != g->remote_port)
			continue;
		ad = a.ss_family == AF_INET6 ?
			     (const void *)&((struct sockaddr_in6 *)&a)->sin6_addr :
			     (const void *)&((struct sockaddr_in *)&a)->sin_addr;
		if (!memcmp(ad, g->remote, a.ss_family == AF_INET6 ? 16 : 4)) {
			(void)shutdown(fd, SHUT_RD);
			break;
		}
	}
	closedir(d);
}

static void *watchdog(void *ud)
{
	(void)ud;
	pthread_mutex_lock(&wd_mu);
	for (;;) {
		web_guard *next = NULL;
		struct timespec now, until;

		for (web_guard *g = wd_head; g; g = g->next)
			if (!g->fired && (!next || ts_before(&g->deadline,
							     &next->deadline)))
				next = g;
		if (!next) {
			pthread_cond_wait(&wd_cv, &wd_mu);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!ts_before(&now, &next->deadline)) {
			next->fired = true;
			shut_reading(next);
			continue;
		}
		/* a copy: the guard lives on its handler's stack, and the
		 * handler may end it and return while we wait */
		until = next->deadline;
		pthread_cond_timedwait(&wd_cv, &wd_mu, &until);
	}
	return NULL;
}

/* Starts the watchdog (wd_mu held).  Lives as long as the process:
 * listeners come and go in one run. */
static void wd_start(void)
{
	pthread_condattr_t ca;
	pthread_attr_t a;
	pthread_t t;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wd_cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256u << 10);
	wd_running = !pthread_create(&t, &a, watchdog, NULL);
	pthread_attr_destroy(&a);
	wd_tried = true;
}

/* A forked child has no watchdog thread and must not inherit a held
 * wd_mu or the parent's guards: it starts its own on first use. */
static void wd_prepare(void)
{
	pthread_mutex_lock(&wd_mu);
}

static void wd_parent(void)
{
	pthread_mutex_unlock(&wd_mu);
}

static void wd_child(void)
{
	wd_head = NULL;
	wd_running = wd_tried = false;
	pthread_mutex_unlock(&wd_mu);
}

static void wd_init(void)
{
	pthread_atfork(wd_prepare, wd_parent, wd_child);
}

void web_guard_begin(web_guard *g, struct mg_connection *conn, long ms)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);

	memset(g, 0, sizeof *g);
	g->ms = ms > 0 ? ms : WEB_DEADLINE_MS;
	clock_gettime(CLOCK_MONOTONIC, &g->deadline);
	g->deadline.tv_sec += g->ms / 1000;
	g->deadline.tv_nsec += (g->ms % 1000) * 1000000L;
	if (g->deadline.tv_nsec >= 1000000000L) {
		g->deadline.tv_sec++;
		g->deadline.tv_nsec -= 1000000000L;
	}
	if (ri) {
		g->family = inet_pton(AF_INET, ri->remote_addr, g->remote) == 1 ?
				    AF_INET :
			    inet_pton(AF_INET6, ri->remote_addr, g->remote) == 1 ?
				    AF_INET6 : AF_UNSPEC;
		g->remote_port = ri->remote_port;
		g->local_port = ri->server_port;
	}
	pthread_once(&wd_once, wd_init);
	pthread_mutex_lock(&wd_mu);
	if (!wd_tried)
		wd_start();
	if (wd_running) {
		g->next = wd_head;
		wd_head = g;
		pthread_cond_signal(&wd_cv);
	}
	pthread_mutex_unlock(&wd_mu);
}

bool web_guard_expired(web_guard *g)
{
	struct timespec now;
	bool fired;

	pthread_mutex_lock(&wd_mu);
	fired = g->fired;
	pthread_mutex_unlock(&wd_mu);
	clock_gettime(CLOCK_MONOTONIC, &now);
	return fired || !ts_before(&now, &g->deadline);
}

void web_guard_end(web_guard *g, struct mg_connection *conn)
{
	char small[512], *buf = NULL;

	/* CivetWeb drains without a deadline; doing it here keeps it under
	 * ours (mg_read returns 0 at once when nothing is left); a buffer
	 * off the worker's small stack once there is something to drain */
	while (!web_guard_expired(g) &&
	       mg_read(conn, buf ? buf : small, buf ? 65536 : sizeof small) > 0)
		if (!buf)
			buf = malloc(65536);
	free(buf);
	pthread_mutex_lock(&wd_mu);
	for (web_guard **p = &wd_head; *p; p = &(*p)->next)
		if (*p == g) {
			*p = g->next;
			break;
		}
	pthread_mutex_unlock(&wd_mu);
	if (web_guard_expired(g))
		/* anything left is dropped at close, not drained by CivetWeb */
		shut_reading(g);
}

/* ---------------------------------------------------------------- bodies */

bool web_expects_100(struct mg_connection *c)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	const char *e = mg_get_header(c, "Expect");

	return e && !strcasecmp(e, "100-continue") && ri->http_version &&
	       !strcmp(ri->http_version, "1.1");
}

int web_read_body(struct mg_connection *conn, web_guard *g, size_t max,
		  const char *what, bool no_100, char **out, size_t *outlen,
		  char *why, size_t whylen)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	bool known = ri->content_length >= 0;
	size_t cap, len = 0;
	char *buf = NULL, *nb;
	int status = 500, r;

	*out = NULL;
	*outlen = 0;
	if (known && (unsigned long long)ri->content_length > max) {
		snprintf(why, whylen, "the body is %lld bytes (Content-Length); "
			 "the limit is %zu bytes (%s)", ri->content_length, max,
			 what);
		return 413;
	}
	/* CivetWeb 1.15's mg_read never sends the 100 itself, so leaving it
	 * out is all the mock's no-100 fault takes */
	if (web_expects_100(conn) && ri->content_length != 0 && !no_100)
		mg_write(conn, cont, sizeof cont - 1);
	/* a known length is read into one buffer; chunked bodies grow one
	 * byte past the limit to tell "too big" from "exactly the limit" */
	cap = known ? (size_t)ri->content_length + 1 : 65536;
	if (!(buf = malloc(cap)))
		goto oom;
	for (;;) {
		if (len + 1 == cap) {
			if (known)
				break;
			if (cap == max + 2) {
				snprintf(why, whylen, "the chunked body is more than "
					 "%zu bytes (%s), the limit", max, what);
				status = 413;
				goto fail;
			}
			cap = cap * 2 > max + 2 ? max + 2 : cap * 2;
			if (!(nb = realloc(buf, cap)))
				goto oom;
			buf = nb;
		}
		r = mg_read(conn, buf + len, cap - 1 - len);
		if ((r < 0 || (r == 0 && known)) && web_guard_expired(g)) {
			snprintf(why, whylen, "the body was not complete %ld ms "
				 "after the request began (%zu bytes arrived%s); "
				 "the whole request must arrive within that time",
				 g->ms, len, known ? ", short of its Content-Length" :
				 "");
			status = 408;
			goto fail;
		}
		if (r < 0 || (r == 0 && known)) {
			snprintf(why, whylen, "the body ended after %zu bytes%s",
				 len, known ? ", before its Content-Length" :
				 " (connection error)");
			status = 400;
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
oom:
	snprintf(why, whylen, "out of memory reading the body");
fail:
	free(buf);
	return status;
}

/* ---------------------------------------------------------------- browsers */

void web_rq_of(struct mg_connection *conn, web_rq *rq)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *te = mg_get_header(conn, "Transfer-Encoding");

	rq->method = ri->request_method;
	rq->host = mg_get_header(conn, "Host");
	rq->origin = mg_get_header(conn, "Origin");
	rq->ctype = mg_get_header(conn, "Content-Type");
	rq->body = ri->content_length > 0 || (te && strcasecmp(te, "identity"));
}

void web_site_of(web_site *s, const struct sockaddr_storage *a, bool loopback)
{
	char ip[INET6_ADDRSTRLEN] = "";

	memset(s, 0, sizeof *s);
	s->port = port_of(a);
	s->loopback = loopback;
	if (a->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr,
			  ip, sizeof ip);
		snprintf(s->addr, sizeof s->addr, "[%s]", ip);
	} else if (a->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, ip,
			  sizeof ip);
		snprintf(s->addr, sizeof s->addr, "%s", ip);
	}
}

/* Splits "name[:port]" / "[v6][:port]"; false when it is neither. */
static bool split_host(const char *h, char *name, size_t n, long *port)
{
	const char *colon, *end;
	char *pe;

	*port = -1;
	if (h[0] == '[') {
		if (!(end = strchr(h, ']')))
			return false;
		end++;
		colon = *end == ':' ? end : NULL;
		if (*end && !colon)
			return false;
	} else {
		colon = strrchr(h, ':');
		end = colon ? colon : h + strlen(h);
	}
	if (end == h || (size_t)(end - h) >= n)
		return false;
	memcpy(name, h, (size_t)(end - h));
	name[end - h] = '\0';
	if (colon) {
		*port = strtol(colon + 1, &pe, 10);
		if (!colon[1] || *pe || *port < 0 || *port > 65535 ||
		    !isdigit((unsigned char)colon[1]))
			return false;
	}
	return true;
}

static bool ip_literal(const char *name)
{
	unsigned char b[16];
	char v6[64];
	size_t n = strlen(name);

	if (inet_pton(AF_INET, name, b) == 1)
		return true;
	if (n < 3 || name[0] != '[' || name[n - 1] != ']' || n - 2 >= sizeof v6)
		return false;
	memcpy(v6, name + 1, n - 2);
	v6[n - 2] = '\0';
	return inet_pton(AF_INET6, v6, b) == 1;
}

static int check_host(const web_site *s, const char *host, char *why,
		      size_t whylen)
{
	char name[256];
	long port;
	bool ok;

	if (!host)
		return 0;
	if (!split_host(host, name, sizeof name, &port)) {
		snprintf(why, whylen, "the Host header \"%.100s\" is not "
			 "name[:port]", host);
		return 400;
	}
	if (s->loopback)
		ok = !strcasecmp(name, "localhost") || !strcmp(name, "127.0.0.1") ||
		     !strcmp(name, "[::1]") || !strcmp(name, s->addr);
	else
		ok = !strcasecmp(name, "localhost") || ip_literal(name);
	if (ok && (port < 0 || port == s->port))
		return 0;
	if (s->loopback)
		snprintf(why, whylen, "the Host header is \"%.100s\"; this "
			 "listener answers only to 127.0.0.1, localhost, [::1] or "
			 "%s, port %d (a page whose name resolves to this address "
			 "must not reach it)", host, s->addr, s->port);
	else
		snprintf(why, whylen, "the Host header is \"%.100s\"; this "
			 "listener answers only to an IP address or localhost, "
			 "port %d (a page whose name resolves to this address "
			 "must not reach it)", host, s->port);
	return 421;
}

int web_check_site(const web_site *s, const web_rq *rq, unsigned checks,
		   char *why, size_t whylen)
{
	int st;

	if ((checks & WEB_CHECK_HOST) &&
	    (st = check_host(s, rq->host, why, whylen)))
		return st;
	if ((checks & WEB_CHECK_ORIGIN) && rq->origin &&
	    (!rq->host || strncasecmp(rq->origin, "http://", 7) ||
	     strcasecmp(rq->origin + 7, rq->host))) {
		snprintf(why, whylen, "the Origin header is \"%.100s\"; this "
			 "API takes requests from its own pages only (Origin "
			 "http://%.100s) or from programs that send no Origin",
			 rq->origin, rq->host ? rq->host : "(no Host)");
		return 403;
	}
	if ((checks & WEB_CHECK_JSON) && rq->body && rq->method &&
	    strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD")) {
		const char *t = rq->ctype;
		size_t n = t ? strcspn(t, ";") : 0;
		while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
			n--;
		if (!t || n != 16 || strncasecmp(t, "application/json", 16)) {
			snprintf(why, whylen, "the Content-Type header is %s%.100s%s; "
				 "a %s with a body must be application/json (send "
				 "-H 'Content-Type: application/json' with curl)",
				 t ? "\"" : "", t ? t : "missing", t ? "\"" : "",
				 rq->method);
			return 415;
		}
	}
	return 0;
}

char *web_error_json(const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;

	if (o && cJSON_AddStringToObject(o, "error", msg))
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}
