/* pkgsrv.c -- serves the fixed upgrade packages of docs/scenarios.md so
 * that scenarios can drive a device into upgrade errors 2, 3 and 4 and to
 * success without any file on disk.  Each answer is written with one
 * mg_write (CivetWeb 1.15 otherwise sends a packet per header line). */
#include "pkgsrv.h"
#include "web.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pkgsrv {
	struct mg_context *mg;
	web_addr where; /* 127.0.0.1, any free port; for web_stop */
	char base[64];
};

/* Head and body in one buffer, one write. */
static void answer(struct mg_connection *c, int status, const char *reason,
		   size_t claim, size_t send)
{
	char *buf = malloc(256 + send);
	int n;

	if (!buf)
		return;
	n = snprintf(buf, 256, "HTTP/1.1 %d %s\r\nContent-Type: "
		     "application/octet-stream\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\n", status, reason, claim);
	memset(buf + n, 'P', send);
	mg_write(c, buf, (size_t)n + send);
	free(buf);
}

static int serve_pkg(struct mg_connection *c, void *ud)
{
	const char *uri = mg_get_request_info(c)->local_uri;
	web_guard g;
	(void)ud;

	/* a body nobody asked for is drained under the deadline, not
	 * CivetWeb's endless one (web.h) */
	web_guard_begin(&g, c, 0);

	if (!strcmp(uri, "/pkg/ok"))
		answer(c, 200, "OK", 4096, 4096);
	else if (!strcmp(uri, "/pkg/empty"))
		answer(c, 200, "OK", 0, 0);
	else if (!strcmp(uri, "/pkg/too-big"))
		answer(c, 200, "OK", 2u << 20, 2u << 20);
	else if (!strcmp(uri, "/pkg/cut"))
		answer(c, 200, "OK", 100000, 1000); /* then close: cut short */
	else
		answer(c, 404, "Not Found", 0, 0);
	web_guard_end(&g, c);
	return 200;
}

/* on a thread with room on its stack (web.h) */
static int on_pkg(struct mg_connection *c, void *ud)
{
	int rc = web_call(serve_pkg, c, ud);
	return rc < 0 ? 0 : rc; /* 0: CivetWeb closes the connection */
}

int pkgsrv_start(pkgsrv **out, char *err, size_t errlen)
{
	char why[256];
	web_site site;
	pkgsrv *s = calloc(1, sizeof *s);

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory starting the package server");
		return CONF_ENOMEM;
	}
	if (web_addr_parse("package server address", "127.0.0.1:0", &s->where,
			   why, sizeof why) < 0 ||
	    !(s->mg = web_start(&s->where, "2", "/pkg/", on_pkg, s, &site, why,
				sizeof why)) ||
	    !site.port) {
		if (s->mg)
			snprintf(why, sizeof why, "no port was bound");
		snprintf(err, errlen, "the upgrade-package server %s", why);
		pkgsrv_stop(s);
		return CONF_ELISTEN;
	}
	snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d/pkg/", site.port);
	*out = s;
	return 0;
}

const char *pkgsrv_base(const pkgsrv *s)
{
	return s->base;
}

void pkgsrv_stop(pkgsrv *s)
{
	if (!s)
		return;
	web_stop(s->mg, &s->where.addr);
	free(s);
}
