/* web.h -- what every CivetWeb listener (control API, mock, package server)
 * needs alike: address parser, start-up, fast stop, roomy handler stacks,
 * request deadlines, one size-limited body reader, a loopback API's browser
 * rules.  Owns no listener, only the deadline watchdog; knows no route. */
#ifndef CAMSIM_WEB_H
#define CAMSIM_WEB_H

#include "base_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

struct mg_context;
struct mg_connection;
struct web_site;

/* ---------------------------------------------------------------- start */

/* Where a listener listens, as a user gave it. */
typedef struct web_addr {
	char opt[128];                /* CivetWeb's listening_ports ("127.0.0.1:8080", "[::1]:0") */
	struct sockaddr_storage addr; /* where web_stop connects: the host (a
				       * wildcard as loopback); its port is set
				       * by web_start once bound */
	bool loopback;                /* the host is a loopback address (a
				       * wildcard is not) */
} web_addr;

/* Parses "HOST:PORT", "[IPv6]:PORT", ":PORT" or "PORT" (HOST an IPv4
 * address, [IPv6] or localhost; default 127.0.0.1; PORT 0..65535, 0 any
 * free port) into *a.  0, or BASE_EINVAL with why naming what (the role,
 * e.g. "listen address"), the value and the rule. */
int web_addr_parse(const char *what, const char *s, web_addr *a, char *why,
		   size_t whylen);

/* A request handler (CivetWeb's mg_request_handler): serves conn, whose
 * request is read but not yet answered, with ud the listener's user data.
 * Returns the HTTP status it answered (1..999: CivetWeb keeps the
 * connection as its keep-alive rule says), 0 when it wrote nothing and
 * CivetWeb must close the connection.  Runs on a CivetWeb worker (or
 * web_call's thread), several at once: it may block only on its own
 * connection, under the request deadline. */
typedef int (*web_handler_cb)(struct mg_connection *conn, void *ud);

/* Starts a CivetWeb listener on a (parsed) with threads workers ("32") and
 * the options every camsim listener shares: request_timeout_ms
 * WEB_HEADER_TIMEOUT_MS, no keep-alive, TCP_NODELAY, URLs not decoded,
 * CivetWeb's log silent (errors reach clients as answers).  fn(conn, ud)
 * handles every URI under uri; ud is also CivetWeb's user data.  Sets
 * a->addr's port and, when site is not NULL, *site (web_site_of).  NULL
 * with why "cannot listen on OPT: REASON".  Stop with web_stop. */
struct mg_context *web_start(web_addr *a, const char *threads,
			     const char *uri, web_handler_cb fn, void *ud, struct web_site *site, char *why,
			     size_t whylen);

/* Stops what web_start started (NULL: nothing): mg_stop(ctx), made fast,
 * then CivetWeb's library use ends.  CivetWeb's listener notices the stop
 * only when its poll() returns, which without traffic takes up to 2 s, so
 * a thread connects to addr (the bound address and port; NULL or port 0:
 * no poking) every 10 ms until mg_stop has returned.  Returns once every
 * handler has returned, as mg_stop does. */
void web_stop(struct mg_context *ctx, const struct sockaddr_storage *addr);

/* CivetWeb 1.15 gives its workers 100 KiB stacks (a build-time constant),
 * and every thread of a process that links OpenBLAS carries OpenBLAS's
 * 60 KiB of static TLS inside its stack: what is left overflows under
 * ASan.  A request handler therefore runs its work through this: fn(conn,
 * ud) on a thread with a WEB_STACK stack, joined before returning; its
 * result, or -1 when no thread could be started (the caller answers 503). */
#define WEB_STACK (2u << 20)
int web_call(web_handler_cb fn, struct mg_connection *conn, void *ud);

/* ---------------------------------------------------------------- limits
 * CivetWeb 1.15 bounds the header phase itself: its request_timeout_ms is
 * counted from the moment a worker takes the connection, checked after
 * every read, so headers hold a worker at most about twice
 * WEB_HEADER_TIMEOUT_MS (the last read may start just before it ends).
 * The body it does not bound: mg_read waits request_timeout_ms per poll and
 * keeps reading while bytes trickle in, and after a handler returns it
 * drains the unread body the same way.  A web_guard closes that gap. */
#define WEB_HEADER_TIMEOUT_MS 10000L /* request_timeout_ms for every listener */
#define WEB_DEADLINE_MS 30000L       /* body and drain, from web_guard_begin */

/* A deadline for one request (handler thread).  While armed, a single
 * watchdog thread shuts the connection's reading side (shutdown SHUT_RD) when
 * the deadline passes, which wakes CivetWeb's poll and ends every mg_read
 * at once; writing still works, so the answer reaches the client.  Lives on
 * the handler's stack between web_guard_begin and web_guard_end. */
typedef struct web_guard {
	struct web_guard *next; /* the watchdog's list */
	struct timespec deadline; /* CLOCK_MONOTONIC */
	long ms;
	unsigned char remote[16]; /* the peer's address (4 or 16 bytes)... */
	int family, remote_port, local_port; /* ...to find the socket by */
	bool fired;
} web_guard;

/* Arms g for conn: ms from now (<= 0: WEB_DEADLINE_MS).  Cannot fail (the
 * watchdog starts on first use; if it cannot, requests simply are not cut). */
void web_guard_begin(web_guard *g, struct mg_connection *conn, long ms);
/* True once g's deadline has passed. */
bool web_guard_expired(web_guard *g);
/* Reads and drops what is left of conn's body (until the deadline at the
 * latest) so that CivetWeb's own drain finds nothing, then disarms g.
 * Must run before the handler returns (afterwards the socket's number may
 * belong to another connection). */
void web_guard_end(web_guard *g, struct mg_connection *conn);

/* Reads conn's whole body (Content-Length or chunked, at most max bytes)
 * into *out (malloc'd, NUL-terminated, the caller frees; NULL on error),
 * answering Expect: 100-continue first (CivetWeb 1.15 does not, and
 * clients would wait a second for it).  Returns 0, or the HTTP status to
 * answer with a sentence in why: 413 too large, 400 cut short, 408 not
 * complete by g's deadline, 500 out of memory.  what names the limit for
 * the sentence (e.g. "64 MiB").  no_100 leaves the 100 Continue out (the
 * mock's no-100 fault: the client must send the body without it). */
int web_read_body(struct mg_connection *conn, web_guard *g, size_t max,
		  const char *what, bool no_100, char **out, size_t *outlen,
		  char *why, size_t whylen);
/* True when conn's request is HTTP/1.1 with Expect: 100-continue. */
bool web_expects_100(struct mg_connection *conn);

/* ---------------------------------------------------------------- browsers
 * A loopback API is reachable from every web page the user opens: a page
 * can send it simple cross-site requests (form posts, text/plain fetches)
 * and, by DNS rebinding, make its own name point at 127.0.0.1.  Browsers
 * always send Host, and Origin on every cross-origin request and every
 * POST; tablets and scripts send no Origin. */
typedef struct web_site {
	int port;      /* the bound port */
	bool loopback; /* bound to a loopback address */
	char addr[64]; /* the bound address as a Host names it: "127.0.0.1", "[::1]" */
} web_site;

typedef struct web_rq {
	const char *method; /* "GET", "POST", ... */
	const char *host, *origin, *ctype; /* the headers, NULL when absent */
	bool body; /* the request carries a body (Content-Length > 0 or chunked) */
} web_rq;

enum {
	WEB_CHECK_HOST = 1,   /* Host names this listener (421) */
	WEB_CHECK_ORIGIN = 2, /* Origin, when present, is http://<Host> (403) */
	WEB_CHECK_JSON = 4,   /* writes with a body are application/json (415) */
	WEB_CHECK_ALL = 7,
};

/* Host: on a loopback listener one of 127.0.0.1, localhost, [::1] or the
 * bound address, with the bound port when a port is given; on any other
 * listener any IP literal or localhost (names that DNS could rebind are
 * refused; a listener bound elsewhere cannot know its LAN names).  A
 * request without Host (HTTP/1.0 tools) passes: browsers always send one.
 * Returns 0, or 421/403/415 with a sentence naming the header, its value
 * and the rule in why. */
int web_check_site(const web_site *s, const web_rq *rq, unsigned checks,
		   char *why, size_t whylen);

/* Fills a web_rq from conn's request. */
void web_rq_of(struct mg_connection *conn, web_rq *rq);

/* Fills s from the bound address a (port set) and whether the listener was
 * bound to a loopback address (a wildcard address is not). */
void web_site_of(web_site *s, const struct sockaddr_storage *a, bool loopback);

/* {"error": msg} as a malloc'd NUL-terminated string, or NULL. */
char *web_error_json(const char *msg);

#endif
