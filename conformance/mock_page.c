/* mock_page.c -- the mock's live HTML page (GET / and /admin/), its script
 * and style sheet, and the snapshot thumbnails it shows.  Renders what
 * mock_view.c reads, escaping every text a device sent; never touches a
 * socket or the database directly (mock_admin.c routes, mock.c writes). */
#include "mock_int.h"

#include "image.h"
#include "sim_err.h"

#include <cJSON.h>
#include <civetweb.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_COMMANDS 100
#define PAGE_RECORDS 50
#define PAGE_MESSAGES 50
#define PAGE_DEVICES 50
#define PAGE_REFUSED 50
#define DEV_MESSAGES 20 /* a device's panel: its newest exchanges, ... */
#define DEV_COMMANDS 20
#define DEV_RECORDS 12
#define VIO_SHOWN 8     /* violations spelled out per message; the rest linked */
#define RAW_SHOWN 300   /* characters of a refused body shown */

#define THUMB_SIDE 160             /* a thumbnail's longer side, pixels */
#define THUMB_SRC_MAX (8u << 20)   /* pictures thumbnailed, bytes */

static pthread_mutex_t thumb_mu = PTHREAD_MUTEX_INITIALIZER; /* one decode at a time */

/* Only the mock's own script, style and pictures; no inline code, no
 * frames, no forms elsewhere: device text that slipped through escaping
 * could still run nothing. */
static const char page_headers[] =
	"Content-Security-Policy: default-src 'none'; script-src 'self'; "
	"style-src 'self'; img-src 'self'; connect-src 'self'; "
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'\r\n"
	"X-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n";

/* ---------------------------------------------------------------- cells */

static const char *str_of(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, k));
	return s ? s : "";
}

static double num_of(const cJSON *o, const char *k)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItem(o, k));
}

static long long id_of(const cJSON *o)
{
	return (long long)num_of(o, "id");
}

static void time_cell(strbuf *b, const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	char t[32] = "";

	if (cJSON_IsNumber(v))
		mock__iso((int64_t)v->valuedouble, t);
	strbuf_printf(b, "<td>%s</td>", t);
}

static void num_cell(strbuf *b, const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	if (cJSON_IsNumber(v))
		strbuf_printf(b, "<td>%.0f</td>", v->valuedouble);
	else
		strbuf_add(b, "<td></td>", 9);
}

static void text_cell(strbuf *b, const char *s)
{
	strbuf_add(b, "<td>", 4);
	strbuf_html(b, s);
	strbuf_add(b, "</td>", 5);
}

/* "/?prefix=P&amp;offset=N" (and "&amp;device=D"), escaped for an
 * attribute. */
static void page_href(strbuf *b, const char *prefix, int64_t offset,
		      const char *device)
{
	char enc[600];

	mg_url_encode(prefix, enc, sizeof enc);
	strbuf_printf(b, "/?prefix=%s&amp;offset=%lld", enc, (long long)offset);
	if (device && *device) {
		mg_url_encode(device, enc, sizeof enc);
		strbuf_str(b, "&amp;device=");
		strbuf_html(b, enc);
	}
}

/* A cid cell linking to its device panel, the list staying where it is. */
static void cid_cell(strbuf *b, const mock__pageq *q, const char *cid)
{
	if (!*cid) {
		strbuf_str(b, "<td></td>");
		return;
	}
	strbuf_str(b, "<td><a href=\"");
	page_href(b, q->prefix, q->offset, cid);
	strbuf_str(b, "\">");
	strbuf_html(b, cid);
	strbuf_str(b, "</a></td>");
}

/* A message's violations spelled out (severity, rule id, JSON path,
 * sentence), at most VIO_SHOWN; the rest are in its JSON. */
static void violations_cell(strbuf *b, const cJSON *msg)
{
	const cJSON *vs = cJSON_GetObjectItem(msg, "violations"), *v;
	int n = cJSON_GetArraySize(vs), i = 0;

	if (!n) {
		strbuf_str(b, "<td></td>");
		return;
	}
	strbuf_str(b, "<td><ul class=\"vio\">");
	cJSON_ArrayForEach(v, vs) {
		if (i++ == VIO_SHOWN)
			break;
		strbuf_printf(b, "<li><span class=\"%s\">%s</span> <code>",
			      strcmp(str_of(v, "severity"), "MUST") ? "should" :
			      "must", strcmp(str_of(v, "severity"), "MUST") ?
			      "SHOULD" : "MUST");
		strbuf_html(b, str_of(v, "rule"));
		strbuf_str(b, "</code> at <code>");
		strbuf_html(b, str_of(v, "path"));
		strbuf_str(b, "</code>: ");
		strbuf_html(b, str_of(v, "message"));
		strbuf_str(b, "</li>");
	}
	if (n > VIO_SHOWN)
		strbuf_printf(b, "<li><a href=\"/admin/messages/%lld\">%d more"
			      "</a></li>", id_of(msg), n - VIO_SHOWN);
	strbuf_str(b, "</ul></td>");
}

/* ---------------------------------------------------------------- tables */

static void commands_table(strbuf *b, const mock__pageq *q, const cJSON *cmds)
{
	const cJSON *c;

	strbuf_str(b, "<table><tr><th>id</th><th>cid</th><th>kind</th>"
		   "<th>seq</th><th>state</th><th>queued</th><th>sent</th>"
		   "<th>done</th><th>detail</th></tr>\n");
	cJSON_ArrayForEach(c, cmds) {
		strbuf_printf(b, "<tr><td><a href=\"/admin/commands/%lld\">%lld"
			      "</a></td>", id_of(c), id_of(c));
		cid_cell(b, q, str_of(c, "cid"));
		text_cell(b, str_of(c, "kind"));
		num_cell(b, c, "seq");
		/* the state is one of mock_state_name's words, not device text */
		strbuf_printf(b, "<td class=\"%s\">%s</td>", str_of(c, "state"),
			      str_of(c, "state"));
		time_cell(b, c, "queued_at");
		time_cell(b, c, "sent_at");
		time_cell(b, c, "done_at");
		text_cell(b, str_of(c, "detail"));
		strbuf_str(b, "</tr>\n");
	}
	strbuf_str(b, "</table>\n");
}

/* Thumbnails linking to the pictures, with what the record says. */
static void snapshots(strbuf *b, const cJSON *recs)
{
	const cJSON *r;

	strbuf_str(b, "<div class=\"snaps\">");
	cJSON_ArrayForEach(r, recs) {
		const cJSON *res = cJSON_GetObjectItem(
			cJSON_GetObjectItem(r, "message"), "result");
		const cJSON *pt = cJSON_GetObjectItem(res, "person_type");
		const cJSON *temp = cJSON_GetObjectItem(res, "temperature");
		long long id = id_of(r);
		char t[32] = "";

		if (cJSON_IsNumber(cJSON_GetObjectItem(r, "received_at")))
			mock__iso((int64_t)num_of(r, "received_at"), t);
		strbuf_printf(b, "<figure><a href=\"/admin/records/%lld/image\">"
			      "<img src=\"/admin/records/%lld/thumb\" alt=\"record "
			      "%lld\"></a><figcaption>#%lld ", id, id, id, id);
		strbuf_html(b, str_of(r, "cid"));
		strbuf_printf(b, "<br>%s<br>", t);
		strbuf_html(b, str_of(res, "person_name"));
		strbuf_add(b, " ", 1);
		strbuf_html(b, str_of(res, "person_id"));
		if (cJSON_IsNumber(pt))
			strbuf_printf(b, " type %.0f", pt->valuedouble);
		if (cJSON_IsNumber(temp))
			strbuf_printf(b, " %.1f &deg;C", temp->valuedouble);
		if (cJSON_IsTrue(cJSON_GetObjectItem(r, "resend")))
			strbuf_add(b, " (resent)", 9);
		strbuf_str(b, "</figcaption></figure>\n");
	}
	strbuf_str(b, "</div>\n");
}

static void messages_table(strbuf *b, const mock__pageq *q, const cJSON *ms)
{
	const cJSON *g;

	strbuf_str(b, "<table><tr><th>id</th><th>cid</th><th>received</th>"
		   "<th>kind</th><th>status</th><th>bytes</th><th>fault</th>"
		   "<th>error</th><th>violations</th></tr>\n");
	cJSON_ArrayForEach(g, ms) {
		strbuf_printf(b, "<tr><td><a href=\"/admin/messages/%lld\">%lld"
			      "</a></td>", id_of(g), id_of(g));
		cid_cell(b, q, str_of(g, "cid"));
		time_cell(b, g, "received_at");
		text_cell(b, str_of(g, "kind"));
		num_cell(b, g, "status");
		num_cell(b, g, "size");
		text_cell(b, str_of(g, "fault"));
		text_cell(b, str_of(g, "error"));
		violations_cell(b, g);
		strbuf_str(b, "</tr>\n");
	}
	strbuf_str(b, "</table>\n");
}

/* The region with id, refreshed by the script as one piece. */
static void live_open(strbuf *b, const char *id)
{
	strbuf_printf(b, "<div class=\"live\" id=\"%s\">\n", id);
}

static void live_close(strbuf *b)
{
	strbuf_str(b, "</div>\n");
}

/* ---------------------------------------------------------------- sections */

/* The counters of GET /admin/stats as one paragraph. */
static void page_stats(mock *m, strbuf *b)
{
	cJSON *s = mock__stats(m), *e;
	const cJSON *d = cJSON_GetObjectItem(s, "devices");
	const cJSON *c = cJSON_GetObjectItem(s, "commands");
	const cJSON *v = cJSON_GetObjectItem(s, "violations");
	char t[32];

	mock__iso(mock__now(m), t);
	strbuf_printf(b, "<p>The mock's clock says <span id=\"clock\">%s</span>."
		      "</p>\n", t);
	if (!s) {
		strbuf_str(b, "<p>(the counters could not be read)</p>\n");
		return;
	}
	strbuf_printf(b, "<p class=\"stats\">Devices <span id=\"n-devices\">"
		      "%.0f</span>: <span id=\"n-online\">%.0f</span> online, "
		      "%.0f offline. Commands: %.0f pending, %.0f sent, %.0f "
		      "confirmed, %.0f failed, %.0f timed out. Records %.0f. "
		      "Violations since start: %.0f MUST, %.0f SHOULD. "
		      "%.1f requests/s over the last minute. Messages since "
		      "start:", num_of(d, "total"), num_of(d, "online"),
		      num_of(d, "offline"), num_of(c, "pending"),
		      num_of(c, "sent"), num_of(c, "confirmed"),
		      num_of(c, "failed"), num_of(c, "timeout"),
		      num_of(s, "records"), num_of(v, "must"),
		      num_of(v, "should"), num_of(s, "requests_per_s"));
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(s, "messages"))
		strbuf_printf(b, " %s %.0f", e->string, e->valuedouble);
	strbuf_str(b, " (<a href=\"/admin/stats\">JSON</a>).</p>\n");
	cJSON_Delete(s);
}

static void page_link(strbuf *b, const mock__pageq *q, int64_t offset,
		      const char *text)
{
	strbuf_str(b, " <a href=\"");
	page_href(b, q->prefix, offset, q->device);
	strbuf_printf(b, "\">%s</a>", text);
}

/* One page of PAGE_DEVICES devices (never all of them: there may be
 * 100,000) and the links to the pages around; the search form stays
 * outside the live region so that a refresh never eats what is typed. */
static void page_devices(mock *m, const mock__pageq *q, strbuf *b)
{
	cJSON *pg = mock__devices_page(m, q->prefix, q->offset, PAGE_DEVICES);
	const cJSON *devs = cJSON_GetObjectItem(pg, "devices"), *d;
	int64_t matched;
	int n = cJSON_GetArraySize(devs);

	if (!pg) {
		strbuf_str(b, "<h2>Devices</h2>\n<p>(the device list could not "
			   "be read)</p>\n");
		return;
	}
	matched = (int64_t)num_of(pg, "matched");
	strbuf_printf(b, "<h2>Devices (%lld", (long long)matched);
	if (q->prefix[0]) {
		strbuf_str(b, " with cid prefix &quot;");
		strbuf_html(b, q->prefix);
		strbuf_str(b, "&quot;");
	}
	strbuf_printf(b, "; %lld to %lld shown)</h2>\n<p>",
		      (long long)(n ? q->offset + 1 : 0),
		      (long long)(q->offset + n));
	if (q->offset > 0)
		page_link(b, q, q->offset > PAGE_DEVICES ?
			  q->offset - PAGE_DEVICES : 0, "previous");
	if (q->offset + n < matched)
		page_link(b, q, q->offset + n, "next");
	strbuf_str(b, "</p>\n<table><tr><th>cid</th><th>state</th>"
		   "<th>first seen</th><th>last heartbeat</th><th>seq</th>"
		   "<th>app_version</th><th>messages</th><th>violations</th>"
		   "<th>pending</th></tr>\n");
	cJSON_ArrayForEach(d, devs) {
		bool on = cJSON_IsTrue(cJSON_GetObjectItem(d, "online"));
		strbuf_str(b, "<tr>");
		cid_cell(b, q, str_of(d, "cid"));
		strbuf_printf(b, "<td class=\"%s\">%s</td>", on ? "confirmed" :
			      "failed", on ? "online" : "offline");
		time_cell(b, d, "first_seen");
		time_cell(b, d, "last_heartbeat");
		num_cell(b, d, "last_seq");
		text_cell(b, str_of(d, "app_version"));
		num_cell(b, d, "messages");
		num_cell(b, d, "violations");
		num_cell(b, d, "pending");
		strbuf_str(b, "</tr>\n");
	}
	strbuf_str(b, "</table>\n");
	cJSON_Delete(pg);
}

/* The device of ?device=: its state, its newest exchanges with their
 * violations, its commands and its snapshots. */
static void page_device(mock *m, const mock__pageq *q, strbuf *b)
{
	cJSON *pg = mock__devices_page(m, q->device, 0, 1), *l;
	const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItem(pg, "devices"), 0);

	strbuf_str(b, "<h2>Device ");
	strbuf_html(b, q->device);
	strbuf_str(b, " (<a href=\"");
	page_href(b, q->prefix, q->offset, NULL);
	strbuf_str(b, "\">close</a>)</h2>\n");
	if (!d || strcmp(str_of(d, "cid"), q->device)) {
		strbuf_str(b, "<p>No message from this cid has arrived (yet).</p>\n");
	} else {
		bool on = cJSON_IsTrue(cJSON_GetObjectItem(d, "online"));
		char t[32] = "never";
		if (cJSON_IsNumber(cJSON_GetObjectItem(d, "last_heartbeat")))
			mock__iso((int64_t)num_of(d, "last_heartbeat"), t);
		strbuf_printf(b, "<p><span id=\"dev-state\" class=\"%s\">%s</span>"
			      "; last heartbeat %s; %.0f messages, %.0f "
			      "violations, %.0f commands pending; app_version ",
			      on ? "confirmed" : "failed", on ? "online" :
			      "offline", t, num_of(d, "messages"),
			      num_of(d, "violations"), num_of(d, "pending"));
		strbuf_html(b, str_of(d, "app_version"));
		strbuf_str(b, ".</p>\n");
	}
	cJSON_Delete(pg);
	strbuf_printf(b, "<h3>Exchanges (newest %d)</h3>\n", DEV_MESSAGES);
	l = mock__newest(m, MOCK__MESSAGES, q->device, INT64_MAX, DEV_MESSAGES);
	messages_table(b, q, l);
	cJSON_Delete(l);
	strbuf_printf(b, "<h3>Commands (newest %d)</h3>\n", DEV_COMMANDS);
	l = mock__newest(m, MOCK__COMMANDS, q->device, INT64_MAX, DEV_COMMANDS);
	commands_table(b, q, l);
	cJSON_Delete(l);
	strbuf_printf(b, "<h3>Snapshots (newest %d)</h3>\n", DEV_RECORDS);
	l = mock__newest(m, MOCK__RECORDS, q->device, INT64_MAX, DEV_RECORDS);
	snapshots(b, l);
	cJSON_Delete(l);
}

/* The posts answered 400 and up, with the reason and the first bytes of
 * a body that was not JSON. */
static void page_refused(mock *m, const mock__pageq *q, strbuf *b)
{
	cJSON *l = mock__newest(m, MOCK__REFUSED, NULL, INT64_MAX, PAGE_REFUSED);
	const cJSON *g;

	strbuf_printf(b, "<h2>Refused posts (status 400 and up, newest %d)</h2>\n"
		      "<table><tr><th>id</th><th>cid</th><th>received</th>"
		      "<th>status</th><th>bytes</th><th>why</th><th>body (first "
		      "bytes)</th><th>fault</th></tr>\n", PAGE_REFUSED);
	cJSON_ArrayForEach(g, l) {
		const char *raw = str_of(g, "raw");
		size_t n = strlen(raw);
		char cut[RAW_SHOWN + 1];

		/* raw is printable ASCII (\xNN for the rest): any cut is whole
		 * characters */
		snprintf(cut, sizeof cut, "%s", raw);
		strbuf_printf(b, "<tr><td><a href=\"/admin/messages/%lld\">%lld"
			      "</a></td>", id_of(g), id_of(g));
		cid_cell(b, q, str_of(g, "cid"));
		time_cell(b, g, "received_at");
		num_cell(b, g, "status");
		num_cell(b, g, "size");
		text_cell(b, str_of(g, "error"));
		strbuf_str(b, "<td><code>");
		strbuf_html(b, cut);
		if (n > RAW_SHOWN)
			strbuf_printf(b, "</code> ... (<a href=\"/admin/messages/"
				      "%lld/body\">all</a>)<code>", id_of(g));
		strbuf_str(b, "</code></td>");
		text_cell(b, str_of(g, "fault"));
		strbuf_str(b, "</tr>\n");
	}
	strbuf_str(b, "</table>\n");
	cJSON_Delete(l);
}

/* ---------------------------------------------------------------- assets */

/* Refreshes each .live region from the same URL every 2 s, only where it
 * changed (a thumbnail is fetched once, a scroll position kept), without
 * reloading the page.  Nothing from the answer is run: DOMParser makes
 * inert nodes of the HTML the mock escaped. */
static const char page_js[] =
	"'use strict';\n"
	"(function () {\n"
	"  var PERIOD = 2000, busy = false, n = 0;\n"
	"  function say(text, bad) {\n"
	"    var s = document.getElementById('live-status');\n"
	"    s.textContent = text;\n"
	"    s.className = bad ? 'failed' : 'confirmed';\n"
	"  }\n"
	"  function refresh() {\n"
	"    if (busy || document.hidden) return;\n"
	"    busy = true;\n"
	"    fetch(location.pathname + location.search,\n"
	"          {cache: 'no-store', credentials: 'same-origin'})\n"
	"      .then(function (r) {\n"
	"        if (!r.ok) throw new Error('status ' + r.status);\n"
	"        return r.text();\n"
	"      })\n"
	"      .then(function (html) {\n"
	"        var doc = new DOMParser().parseFromString(html, 'text/html');\n"
	"        var old = document.querySelectorAll('.live');\n"
	"        for (var i = 0; i < old.length; i++) {\n"
	"          var nu = doc.getElementById(old[i].id);\n"
	"          if (nu && nu.innerHTML !== old[i].innerHTML)\n"
	"            old[i].replaceWith(document.adoptNode(nu));\n"
	"        }\n"
	"        document.body.dataset.refreshes = String(++n);\n"
	"        say('live: updated ' + new Date().toLocaleTimeString(), false);\n"
	"      })\n"
	"      .catch(function (e) {\n"
	"        say('live: the mock did not answer (' + e.message +\n"
	"            '); trying again', true);\n"
	"      })\n"
	"      .finally(function () { busy = false; });\n"
	"  }\n"
	"  say('live: updates every ' + PERIOD / 1000 + ' s', false);\n"
	"  document.addEventListener('visibilitychange', refresh);\n"
	"  setInterval(refresh, PERIOD);\n"
	"})();\n";

static const char page_css[] =
	"body{font-family:sans-serif;margin:1em}\n"
	"table{border-collapse:collapse}\n"
	"td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%;"
	"vertical-align:top}\n"
	".confirmed{color:#070}.failed,.timeout,.must{color:#a00}"
	".should{color:#a60}\n"
	"figure{display:inline-block;margin:4px;font-size:80%}\n"
	"figure img{max-width:160px;max-height:160px}\n"
	"ul.vio{margin:0;padding-left:1.2em}\n"
	"code{word-break:break-all}\n";

bool mock__page_asset(const char *uri, mock__exchange *x)
{
	static const struct {
		const char *uri, *ctype, *text;
		size_t len;
	} assets[] = {
		{"/admin/page.js", "text/javascript; charset=utf-8", page_js,
		 sizeof page_js - 1},
		{"/admin/page.css", "text/css; charset=utf-8", page_css,
		 sizeof page_css - 1},
	};

	for (size_t i = 0; i < sizeof assets / sizeof *assets; i++) {
		if (strcmp(uri, assets[i].uri))
			continue;
		free(x->body);
		x->body = malloc(assets[i].len);
		if (!x->body) {
			mock__answer(x, 500, "out of memory");
			return true;
		}
		memcpy(x->body, assets[i].text, assets[i].len);
		x->len = assets[i].len;
		x->status = 200;
		x->ctype = assets[i].ctype;
		return true;
	}
	return false;
}

/* ---------------------------------------------------------------- page */

void mock__page(mock *m, const mock__pageq *q, mock__exchange *x)
{
	static const char head[] =
		"<!doctype html>\n<html><head><meta charset=\"utf-8\">"
		"<title>camsim mock</title>"
		"<link rel=\"stylesheet\" href=\"/admin/page.css\">"
		"<script src=\"/admin/page.js\" defer></script>"
		"</head><body>\n<h1>camsim mock</h1>\n";
	strbuf b = {0};
	cJSON *l;

	strbuf_add(&b, head, sizeof head - 1);
	strbuf_add(&b, "<p>Devices POST to <code>", 25);
	strbuf_html(&b, m->path);
	strbuf_str(&b, "</code>. JSON: <a href=\"/admin/stats\">stats</a>, "
		   "<a href=\"/admin/devices\">devices</a>, "
		   "<a href=\"/admin/commands\">commands</a>, "
		   "<a href=\"/admin/records\">records</a>, "
		   "<a href=\"/admin/messages\">messages</a>. "
		   "<span id=\"live-status\">This page shows the state when "
		   "it was loaded: its script updates it (reload it to see "
		   "changes without one).</span></p>\n");
	live_open(&b, "live-stats");
	page_stats(m, &b);
	live_close(&b);
	strbuf_str(&b, "<form method=\"get\" action=\"/\">cid prefix "
		   "<input name=\"prefix\" value=\"");
	strbuf_html(&b, q->prefix);
	strbuf_str(&b, "\"> <button>search</button></form>\n");
	live_open(&b, "live-devices");
	page_devices(m, q, &b);
	live_close(&b);
	if (q->device[0]) {
		live_open(&b, "live-device");
		page_device(m, q, &b);
		live_close(&b);
	}
	live_open(&b, "live-refused");
	page_refused(m, q, &b);
	live_close(&b);
	live_open(&b, "live-commands");
	strbuf_printf(&b, "<h2>Commands (newest %d)</h2>\n", PAGE_COMMANDS);
	l = mock__newest(m, MOCK__COMMANDS, NULL, INT64_MAX, PAGE_COMMANDS);
	commands_table(&b, q, l);
	cJSON_Delete(l);
	live_close(&b);
	live_open(&b, "live-snapshots");
	strbuf_printf(&b, "<h2>Snapshots (newest %d)</h2>\n", PAGE_RECORDS);
	l = mock__newest(m, MOCK__RECORDS, NULL, INT64_MAX, PAGE_RECORDS);
	snapshots(&b, l);
	cJSON_Delete(l);
	live_close(&b);
	live_open(&b, "live-messages");
	strbuf_printf(&b, "<h2>Messages (newest %d)</h2>\n", PAGE_MESSAGES);
	l = mock__newest(m, MOCK__MESSAGES, NULL, INT64_MAX, PAGE_MESSAGES);
	messages_table(&b, q, l);
	cJSON_Delete(l);
	live_close(&b);
	strbuf_add(&b, "</body></html>\n", 15);
	if (b.oom) {
		free(b.p);
		mock__answer(x, 500, "the mock ran out of memory building the "
			     "page");
		return;
	}
	free(x->body);
	x->status = 200;
	x->body = b.p;
	x->len = b.n;
	x->ctype = "text/html; charset=utf-8";
	x->headers = page_headers;
}

/* ---------------------------------------------------------------- thumbs */

/* src shrunk to fit side x side (never enlarged), each pixel the mean of
 * the source pixels it covers.  0 or SIM_ENOMEM. */
static int shrink(const img *src, int side, img *out)
{
	int big = src->w > src->h ? src->w : src->h;
	int w = src->w, h = src->h;

	if (big > side) {
		w = (int)((int64_t)src->w * side / big);
		h = (int)((int64_t)src->h * side / big);
	}
	w = w ? w : 1;
	h = h ? h : 1;
	*out = (img){.w = w, .h = h};
	if (!(out->px = malloc((size_t)w * (size_t)h * 3)))
		return SIM_ENOMEM;
	for (int y = 0; y < h; y++) {
		int y0 = (int)((int64_t)y * src->h / h);
		int y1 = (int)((int64_t)(y + 1) * src->h / h);
		for (int x = 0; x < w; x++) {
			int x0 = (int)((int64_t)x * src->w / w);
			int x1 = (int)((int64_t)(x + 1) * src->w / w);
			uint64_t sum[3] = {0}, n = 0;
			for (int yy = y0; yy < (y1 > y0 ? y1 : y0 + 1); yy++)
				for (int xx = x0; xx < (x1 > x0 ? x1 : x0 + 1); xx++) {
					const uint8_t *p = src->px +
						((size_t)yy * (size_t)src->w +
						 (size_t)xx) * 3;
					sum[0] += p[0];
					sum[1] += p[1];
					sum[2] += p[2];
					n++;
				}
			for (int c = 0; c < 3; c++)
				out->px[((size_t)y * (size_t)w + (size_t)x) * 3 +
					(size_t)c] = (uint8_t)(sum[c] / n);
		}
	}
	return 0;
}

int mock__thumb(mock *m, int64_t id, unsigned char **out, size_t *len,
		char *err, size_t errlen)
{
	unsigned char *pic = NULL;
	img full = {0}, small = {0};
	char why[300];
	size_t n = 0;
	int rc;

	*out = NULL;
	*len = 0;
	rc = mock_record_image(m, id, &pic, &n);
	if (rc < 0) {
		snprintf(err, errlen, rc == CONF_ENOTFOUND ? "record %lld does "
			 "not exist, or its picture was not valid base64" :
			 "record %lld: out of memory reading its picture",
			 (long long)id);
		goto out;
	}
	if (n > THUMB_SRC_MAX) {
		snprintf(err, errlen, "record %lld's picture is %zu bytes; "
			 "thumbnails are made of pictures up to %u MiB "
			 "(/admin/records/%lld/image serves it whole)",
			 (long long)id, n, THUMB_SRC_MAX >> 20, (long long)id);
		rc = CONF_EINVAL;
		goto out;
	}
	/* the device's bytes: the untrusted decoder, with its size limits;
	 * one at a time, so that a page of 50 big pictures holds one decoded
	 * picture (at most IMG_MAX_PIXELS, 120 MB) in memory, not 50 */
	pthread_mutex_lock(&thumb_mu);
	rc = img_decode(pic, n, &full, why, sizeof why);
	if (rc < 0) {
		pthread_mutex_unlock(&thumb_mu);
		snprintf(err, errlen, "record %lld's picture cannot be shown: %s",
			 (long long)id, why);
		rc = rc == SIM_ENOMEM ? CONF_ENOMEM : CONF_EINVAL;
		goto out;
	}
	rc = shrink(&full, THUMB_SIDE, &small);
	img_free(&full);
	pthread_mutex_unlock(&thumb_mu);
	if (rc == 0)
		rc = img_encode_jpeg(&small, 80, out, len);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory making the thumbnail of "
			 "record %lld", (long long)id);
		rc = CONF_ENOMEM;
	}
out:
	free(pic);
	img_free(&full);
	img_free(&small);
	return rc;
}
