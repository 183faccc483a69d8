/* mock_admin.c -- the mock's admin API (JSON under /admin/) and its HTML
 * page: the bearer token check, routing, query parameters, answers.
 * Reads and queues through mock_view.c and mock_queue.c only; never touches a socket (mock.c
 * writes what is filled in here). */
#include "mock_int.h"
#include "b64.h"
#include "operator.h"
#include "outcome.h"

#include "image.h"

#include <cJSON.h>
#include <civetweb.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_COMMANDS 100
#define PAGE_RECORDS 50
#define PAGE_MESSAGES 50
#define PAGE_DEVICES 50

/* ---------------------------------------------------------------- answers */

static void json_answer(mock__exchange *x, int status, cJSON *o)
{
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	if (!s) {
		mock__answer(x, 500, "the mock ran out of memory (or its database "
			     "failed) building the answer");
		return;
	}
	free(x->body);
	x->status = status;
	x->ctype = "application/json";
	x->len = strlen(s);
	x->body = s; /* cJSON allocates with malloc */
}

static void json_error(mock__exchange *x, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void json_error(mock__exchange *x, int status, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	cJSON *o = cJSON_CreateObject();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (o && !cJSON_AddStringToObject(o, "error", msg)) {
		cJSON_Delete(o);
		o = NULL;
	}
	json_answer(x, status, o);
}

/* ---------------------------------------------------------------- auth */

static bool same(const char *a, size_t an, const char *b)
{
	size_t bn = strlen(b);
	unsigned char d = an != bn;

	/* time independent of where the first difference is */
	for (size_t i = 0; i < an; i++)
		d |= (unsigned char)(a[i] ^ b[i % (bn ? bn : 1)]);
	return !d;
}

/* "Bearer TOKEN", or "Basic base64(any-user:TOKEN)" so that a browser's
 * password prompt opens the page. */
static bool authorized(const mock *m, const char *h)
{
	unsigned char *dec = NULL;
	size_t n = 0;
	bool ok = false;

	if (!m->token)
		return true;
	if (!h)
		return false;
	if (!strncmp(h, "Bearer ", 7))
		return same(h + 7, strlen(h + 7), m->token);
	if (strncmp(h, "Basic ", 6) ||
	    b64_decode(h + 6, strlen(h + 6), &dec, &n) < 0)
		return false;
	const char *colon = memchr(dec, ':', n);
	if (colon)
		ok = same(colon + 1, n - (size_t)(colon + 1 - (const char *)dec),
			  m->token);
	free(dec);
	return ok;
}

/* ---------------------------------------------------------------- queries */

/* A listing's query: a string key, a number from 0 and a limit. */
typedef struct listq {
	char cid[96];   /* or the device list's prefix */
	bool has_cid;
	int64_t after;  /* or the device list's offset */
	size_t limit;
} listq;

/* keys[0]=&keys[1]=&keys[2]= (string, number >= 0, limit 1..max) into l;
 * false with the answer set when one is wrong.  allow_str false: keys[0]
 * is refused (the cid is in the path). */
static bool parse_query(const char *q, const char *const keys[3],
			bool allow_str, listq *l, mock__exchange *x)
{
	char v[96];
	size_t ql = q ? strlen(q) : 0;

	*l = (listq){.limit = MOCK__LIST_DEFAULT};
	for (size_t i = 0; i < 3 && q; i++) {
		int n = mg_get_var(q, ql, keys[i], v, sizeof v);
		char *end;
		long long num;

		if (n == -1)
			continue;
		if (n < 0 || (i == 0 && !allow_str)) {
			json_error(x, 400, "query parameter %s is %s", keys[i],
				   n < 0 ? "too long (at most 95 bytes)" :
				   "not taken here (the cid is in the path)");
			return false;
		}
		if (i == 0) {
			snprintf(l->cid, sizeof l->cid, "%s", v);
			l->has_cid = true;
			continue;
		}
		errno = 0;
		num = strtoll(v, &end, 10);
		if (!*v || *end || errno || num < (i == 1 ? 0 : 1) ||
		    num > (i == 1 ? INT64_MAX : MOCK__LIST_MAX)) {
			json_error(x, 400, "%s is \"%.40s\"; it must be an integer "
				   "from %d to %lld", keys[i], v, i == 1 ? 0 : 1,
				   i == 1 ? (long long)INT64_MAX :
				   (long long)MOCK__LIST_MAX);
			return false;
		}
		if (i == 1)
			l->after = num;
		else
			l->limit = (size_t)num;
	}
	return true;
}

/* ?cid=&after=&limit= of the commands, records and messages. */
static bool parse_list(const char *q, bool allow_cid, listq *l,
		       mock__exchange *x)
{
	static const char *const keys[] = {"cid", "after", "limit"};
	return parse_query(q, keys, allow_cid, l, x);
}

/* ?prefix=&offset=&limit= of the device list (and the page). */
static bool parse_devq(const char *q, listq *l, mock__exchange *x)
{
	static const char *const keys[] = {"prefix", "offset", "limit"};
	return parse_query(q, keys, true, l, x);
}

/* The URL-decoded path segment at *p (after its '/'); advances *p. */
static bool segment(const char **p, char *seg, size_t n)
{
	const char *s = *p, *e;

	if (*s != '/')
		return false;
	e = strchr(++s, '/');
	if (!e)
		e = s + strlen(s);
	if ((size_t)(e - s) >= n ||
	    mg_url_decode(s, (int)(e - s), seg, (int)n, 0) < 0)
		return false;
	*p = e;
	return true;
}

static bool parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < 1)
		return false;
	*id = v;
	return true;
}

/* ---------------------------------------------------------------- routes */

static void enqueue(mock *m, const char *cid, const mock__http *rq,
		    mock__exchange *x)
{
	proto_report rep = {0};
	cJSON *cmd = NULL, *o, *vs;
	char err[1500];
	int64_t id;

	if (proto_json_parse(rq->body ? rq->body : "", rq->len, &cmd, err,
			     sizeof err) < 0) {
		json_error(x, 400, "the command is not JSON: %s", err);
		return;
	}
	id = mock__enqueue(m, cid, cmd, false, &rep, err, sizeof err);
	cJSON_Delete(cmd);
	if (id > 0) {
		json_answer(x, 201, mock_command_json(m, id));
		goto out;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", err);
	if (id == CONF_EBADCMD && (vs = cJSON_AddArrayToObject(o, "violations")))
		for (size_t i = 0; i < rep.n; i++) {
			cJSON *v = cJSON_CreateObject();
			cJSON_AddStringToObject(v, "severity", rep.v[i].sev ==
						PROTO_MUST ? "MUST" : "SHOULD");
			cJSON_AddStringToObject(v, "rule", rep.v[i].rule);
			cJSON_AddStringToObject(v, "path", rep.v[i].path);
			cJSON_AddStringToObject(v, "message", rep.v[i].msg);
			cJSON_AddItemToArray(vs, v);
		}
	json_answer(x, id == CONF_EBADCMD || id == CONF_EINVAL ? 400 : 500, o);
out:
	proto_report_free(&rep);
}

/* POST /admin/devices/{cid}/actions: an operator action with an adapter's
 * parameters (docs/adapters.md), turned into its V1.16 command(s) by
 * operator.c as the runner would, and queued.  Photos come inline
 * (photo_base64): the mock never opens a file a request names. */
static void action(mock *m, const char *cid, const mock__http *rq,
		   mock__exchange *x)
{
	static const char *const drop[] = {"cid", "action", "photo", "photos",
					   NULL};
	cJSON *p = NULL, *cmd = NULL, *parts = NULL, *ids, *out, *c, *e;
	op_ctx ctx = {0};
	const cJSON *ref, *act;
	char err[1500];
	int flags;
	int64_t id = 0, first = 0;

	if (proto_json_parse(rq->body ? rq->body : "", rq->len, &p, err,
			     sizeof err) < 0) {
		json_error(x, 400, "the parameters are not JSON: %s", err);
		return;
	}
	act = cJSON_GetObjectItemCaseSensitive(p, "action");
	if (!cJSON_IsString(act) || !op_summary(act->valuestring) ||
	    (!strcmp(act->valuestring, "command_state") || !strcmp(act->valuestring, "records"))) {
		json_error(x, 400, "\"action\" must name an operator action "
			   "(enroll, delete, config, ... docs/adapters.md)");
		goto out;
	}
	flags = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "unchecked"))
		? MOCK_Q_UNCHECKED : 0;
	if (!strcmp(act->valuestring, "raw"))
		flags |= MOCK_Q_VERBATIM;
	cJSON_AddStringToObject(p, "operator", act->valuestring);
	for (size_t i = 0; drop[i]; i++)
		if (strcmp(drop[i], "action"))
			cJSON_DeleteItemFromObjectCaseSensitive(p, drop[i]);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(p, "persons"))
		cJSON_DeleteItemFromObjectCaseSensitive(e, "photo");
	ref = cJSON_GetObjectItemCaseSensitive(p, "ref");
	if (ref && !cJSON_IsString(ref))
		cJSON_DeleteItemFromObjectCaseSensitive(p, "ref");
	cJSON_DeleteItemFromObjectCaseSensitive(p, "unchecked");
	if (flags & MOCK_Q_UNCHECKED)
		cJSON_AddTrueToObject(p, "unchecked");
	cJSON_DeleteItemFromObjectCaseSensitive(p, "action");
	if (op_check(p, "the request", "body", err, sizeof err) < 0 ||
	    op_command(p, &ctx, &cmd, err, sizeof err) < 0) {
		json_error(x, 400, "%s", err);
		goto out;
	}
	if (!(parts = cJSON_CreateArray()) ||
	    ((flags & MOCK_Q_VERBATIM) ? outcome_split(cmd, parts) < 0
	     : !cJSON_AddItemToArray(parts, cJSON_Duplicate(cmd, true)))) {
		json_error(x, 500, "out of memory");
		goto out;
	}
	out = cJSON_CreateObject();
	ids = cJSON_AddArrayToObject(out, "ids");
	cJSON_ArrayForEach(c, parts) {
		proto_report rep = {0};
		id = mock__enqueue(m, cid, c, flags, &rep, err, sizeof err);
		proto_report_free(&rep);
		if (id < 0)
			break;
		if (!first)
			first = id;
		cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)id));
	}
	if (id < 0) {
		cJSON_Delete(out);
		/* a command already queued stays: say which */
		json_error(x, id == CONF_EBADCMD || id == CONF_EINVAL ? 422 : 500,
			   "%s%s", err, first ? " (the parts before it were "
			   "queued)" : "");
		goto out;
	}
	cJSON_AddNumberToObject(out, "id", (double)first);
	cJSON_AddItemToObject(out, "command", mock_command_json(m, first));
	json_answer(x, 201, out);
out:
	cJSON_Delete(p);
	cJSON_Delete(cmd);
	cJSON_Delete(parts);
}

static const char *image_type(const unsigned char *p, size_t n)
{
	if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
		return "image/jpeg";
	if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
		return "image/png";
	return "application/octet-stream";
}

static void record_image(mock *m, int64_t id, mock__exchange *x)
{
	unsigned char *pic = NULL;
	size_t n = 0;
	int rc = mock_record_image(m, id, &pic, &n);

	if (rc == CONF_ENOTFOUND) {
		json_error(x, 404, "record %lld does not exist, or its picture "
			   "was not valid base64", (long long)id);
		return;
	}
	if (rc < 0) {
		json_error(x, 500, "record %lld: %s", (long long)id,
			   conf_strerror(rc));
		return;
	}
	free(x->body);
	x->status = 200;
	x->body = (char *)pic;
	x->len = n;
	x->ctype = image_type(pic, n);
}

/* The one record id, or null. */
static cJSON *one_record(mock *m, int64_t id)
{
	cJSON *arr = mock_records_json(m, NULL, id - 1, 1), *o;

	o = cJSON_DetachItemFromArray(arr, 0);
	cJSON_Delete(arr);
	if (o && cJSON_GetNumberValue(cJSON_GetObjectItem(o, "id")) != (double)id) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

/* GET /admin/messages/{id}[/body]: streamed from the database, never
 * whole in memory. */
static void message(mock *m, const mock__http *rq, int64_t id, bool only_body,
		    mock__exchange *x)
{
	int rc = mock__message_stream(m, id, only_body, rq->write, rq->wud);

	if (rc == CONF_ENOTFOUND) {
		json_error(x, 404, "there is no message %lld%s", (long long)id,
			   only_body ? ", or it has no body" : "");
		return;
	}
	if (rc == CONF_ENOMEM) {
		json_error(x, 500, "the mock ran out of memory reading message "
			   "%lld", (long long)id);
		return;
	}
	x->status = 200;
	x->written = true; /* or cut short: the client sees the length short */
}

/* GET|PUT|DELETE /admin/devices/{cid}/faults; PUT takes
 * {"faults":["status=500:10%",...]}. */
static void faults(mock *m, const char *cid, const mock__http *rq,
		   mock__exchange *x)
{
	const char *specs[MOCK_FAULT_MAX];
	cJSON *p = NULL, *a, *e;
	char err[600];
	size_t n = 0;

	if (!strcmp(rq->method, "PUT")) {
		if (proto_json_parse(rq->body ? rq->body : "", rq->len, &p, err,
				     sizeof err) < 0) {
			json_error(x, 400, "the body is not JSON: %s", err);
			return;
		}
		a = cJSON_GetObjectItemCaseSensitive(p, "faults");
		if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > MOCK_FAULT_MAX) {
			json_error(x, 400, "the body must be {\"faults\":[...]} with "
				   "at most %d fault specs (\"status=500:10%%\"); "
				   "[] clears them", MOCK_FAULT_MAX);
			goto out;
		}
		cJSON_ArrayForEach(e, a) {
			if (!cJSON_IsString(e)) {
				json_error(x, 400, "faults[%zu] is not a string; "
					   "each is a spec such as \"reset:1%%\"", n);
				goto out;
			}
			specs[n++] = e->valuestring;
		}
	} else if (strcmp(rq->method, "DELETE") && strcmp(rq->method, "GET")) {
		json_error(x, 405, "%s is not served at %.200s; GET, PUT or DELETE",
			   rq->method, rq->uri);
		return;
	}
	if (strcmp(rq->method, "GET") &&
	    mock_set_faults(m, cid, specs, n, err, sizeof err) < 0) {
		json_error(x, 400, "%s", err);
		goto out;
	}
	json_answer(x, 200, mock_faults_json(m, cid));
out:
	cJSON_Delete(p);
}

static void page(mock *m, const char *query, mock__exchange *x);

static const char routes[] =
	"GET /admin/devices (prefix, offset, limit), GET /admin/stats, "
	"GET|POST /admin/devices/{cid}/commands, "
	"POST /admin/devices/{cid}/actions, "
	"GET /admin/commands, GET /admin/commands/{id}, GET /admin/records, "
	"GET /admin/records/{id}, GET /admin/records/{id}/image, "
	"GET /admin/messages, GET /admin/messages/{id}, "
	"GET /admin/messages/{id}/body, GET|PUT|DELETE /admin/devices/{cid}/faults, "
	"GET /admin/faults, GET / (HTML)";

void mock__admin(mock *m, const mock__http *rq, mock__exchange *x)
{
	const char *p = rq->uri;
	bool get = !strcmp(rq->method, "GET"), post = !strcmp(rq->method, "POST");
	char s1[32], s2[200], s3[32];
	listq l;
	int64_t id;
	int nseg = 0;

	if (!authorized(m, rq->auth)) {
		json_error(x, 401, "the admin API needs the header "
			   "\"Authorization: Bearer TOKEN\" with the mock's token");
		return;
	}
	if (!strcmp(p, "/") || !strcmp(p, "/admin") || !strcmp(p, "/admin/")) {
		if (!get)
			goto method;
		page(m, rq->query, x);
		return;
	}
	/* /admin/s1[/s2[/s3]] */
	if (segment(&p, s1, sizeof s1) && !strcmp(s1, "admin") &&
	    segment(&p, s1, sizeof s1)) {
		nseg = 1;
		if (*p && segment(&p, s2, sizeof s2))
			nseg = 2;
		if (nseg == 2 && *p && segment(&p, s3, sizeof s3))
			nseg = 3;
		if (*p)
			nseg = 0;
	}
	if (nseg == 1 && !strcmp(s1, "devices")) {
		if (!get)
			goto method;
		if (parse_devq(rq->query, &l, x))
			json_answer(x, 200, mock__devices_page(m, l.cid, l.after,
							       l.limit));
	} else if (nseg == 1 && !strcmp(s1, "stats")) {
		if (!get)
			goto method;
		json_answer(x, 200, mock__stats(m));
	} else if (nseg == 1 && !strcmp(s1, "faults")) {
		if (!get)
			goto method;
		json_answer(x, 200, mock_faults_json(m, NULL));
	} else if (nseg == 3 && !strcmp(s1, "devices") &&
		   !strcmp(s3, "faults")) {
		faults(m, s2, rq, x);
	} else if (nseg == 3 && !strcmp(s1, "devices") &&
		   !strcmp(s3, "commands")) {
		if (post)
			enqueue(m, s2, rq, x);
		else if (!get)
			goto method;
		else if (parse_list(rq->query, false, &l, x))
			json_answer(x, 200, mock_commands_json(m, s2, l.after,
							       l.limit));
	} else if (nseg == 3 && !strcmp(s1, "devices") &&
		   !strcmp(s3, "actions")) {
		if (!post)
			goto method;
		action(m, s2, rq, x);
	} else if ((nseg == 1 || nseg == 2) &&
		   (!strcmp(s1, "commands") || !strcmp(s1, "records") ||
		    !strcmp(s1, "messages"))) {
		bool cmds = !strcmp(s1, "commands"), recs = !strcmp(s1, "records");
		if (!get)
			goto method;
		if (nseg == 2) {
			cJSON *o;
			if (!parse_id(s2, &id))
				goto none;
			if (!cmds && !recs) {
				message(m, rq, id, false, x);
				return;
			}
			o = cmds ? mock_command_json(m, id) : one_record(m, id);
			if (o)
				json_answer(x, 200, o);
			else
				json_error(x, 404, "there is no %s %lld", cmds ?
					   "command" : "record", (long long)id);
		} else if (parse_list(rq->query, true, &l, x)) {
			const char *cid = l.has_cid ? l.cid : NULL;
			json_answer(x, 200, cmds ?
				    mock_commands_json(m, cid, l.after, l.limit) :
				    recs ? mock_records_json(m, cid, l.after,
							     l.limit) :
				    mock_messages_json(m, cid, l.after, l.limit));
		}
	} else if (nseg == 3 && !strcmp(s1, "messages") &&
		   !strcmp(s3, "body") && parse_id(s2, &id)) {
		if (!get)
			goto method;
		message(m, rq, id, true, x);
	} else if (nseg == 3 && !strcmp(s1, "records") &&
		   !strcmp(s3, "image") && parse_id(s2, &id)) {
		if (!get)
			goto method;
		record_image(m, id, x);
	} else {
		goto none;
	}
	return;
method:
	json_error(x, 405, "%s is not served at %.200s; the admin routes are: %s",
		   rq->method, rq->uri, routes);
	return;
none:
	json_error(x, 404, "no such admin route: %s %.200s; the routes are: %s",
		   rq->method, rq->uri, routes);
}

/* ---------------------------------------------------------------- page */

static const char *str_of(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, k));
	return s ? s : "";
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

static double num_of(const cJSON *o, const char *k)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItem(o, k));
}

/* The counters of GET /admin/stats as one paragraph. */
static void page_stats(mock *m, strbuf *b)
{
	cJSON *s = mock__stats(m), *e;
	const cJSON *d = cJSON_GetObjectItem(s, "devices");
	const cJSON *c = cJSON_GetObjectItem(s, "commands");
	const cJSON *v = cJSON_GetObjectItem(s, "violations");

	if (!s) {
		strbuf_str(b, "<p>(the counters could not be read)</p>\n");
		return;
	}
	strbuf_printf(b, "<p class=\"stats\">Devices %.0f: %.0f online, %.0f "
		      "offline. Commands: %.0f pending, %.0f sent, %.0f "
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

/* A link to the device page at offset with prefix. */
static void page_link(strbuf *b, const char *prefix, int64_t offset,
		      const char *text)
{
	char enc[300];

	mg_url_encode(prefix, enc, sizeof enc);
	strbuf_printf(b, " <a href=\"/?prefix=%s&amp;offset=%lld\">%s</a>", enc,
		      (long long)offset, text);
}

/* One page of PAGE_DEVICES devices (never all of them: there may be
 * 100,000), a search by cid prefix and the links to the pages around. */
static void page_devices(mock *m, const listq *q, strbuf *b)
{
	cJSON *pg = mock__devices_page(m, q->cid, q->after, PAGE_DEVICES), *d;
	const cJSON *devs = cJSON_GetObjectItem(pg, "devices");
	int64_t matched;
	int n = cJSON_GetArraySize(devs);

	if (!pg) {
		strbuf_str(b, "<h2>Devices</h2>\n<p>(the device list could not "
			   "be read)</p>\n");
		return;
	}
	matched = (int64_t)num_of(pg, "matched");

	strbuf_printf(b, "<h2>Devices (%lld", (long long)matched);
	if (q->cid[0]) {
		strbuf_str(b, " with cid prefix &quot;");
		strbuf_html(b, q->cid);
		strbuf_str(b, "&quot;");
	}
	strbuf_printf(b, "; %lld to %lld shown)</h2>\n<form method=\"get\" "
		      "action=\"/\">cid prefix <input name=\"prefix\" value=\"",
		      (long long)(n ? q->after + 1 : 0),
		      (long long)(q->after + n));
	strbuf_html(b, q->cid);
	strbuf_str(b, "\"> <button>search</button></form>\n<p>");
	if (q->after > 0)
		page_link(b, q->cid, q->after > PAGE_DEVICES ?
			  q->after - PAGE_DEVICES : 0, "previous");
	if (q->after + n < matched)
		page_link(b, q->cid, q->after + n, "next");
	strbuf_str(b, "</p>\n<table><tr><th>cid</th><th>state</th>"
		   "<th>first seen</th><th>last heartbeat</th><th>seq</th>"
		   "<th>app_version</th><th>messages</th><th>violations</th>"
		   "<th>pending</th></tr>\n");
	cJSON_ArrayForEach(d, devs) {
		bool on = cJSON_IsTrue(cJSON_GetObjectItem(d, "online"));
		strbuf_str(b, "<tr>");
		text_cell(b, str_of(d, "cid"));
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

static void page_commands(mock *m, strbuf *b)
{
	cJSON *cmds = mock__recent_commands(m, PAGE_COMMANDS), *c;

	strbuf_printf(b, "<h2>Commands (newest %d)</h2>\n<table><tr>"
			"<th>id</th><th>cid</th><th>kind</th><th>seq</th>"
			"<th>state</th><th>queued</th><th>sent</th><th>done</th>"
			"<th>detail</th></tr>\n", PAGE_COMMANDS);
	cJSON_ArrayForEach(c, cmds) {
		strbuf_add(b, "<tr>", 4);
		num_cell(b, c, "id");
		text_cell(b, str_of(c, "cid"));
		text_cell(b, str_of(c, "kind"));
		num_cell(b, c, "seq");
		strbuf_printf(b, "<td class=\"%s\">%s</td>", str_of(c, "state"),
				str_of(c, "state"));
		time_cell(b, c, "queued_at");
		time_cell(b, c, "sent_at");
		time_cell(b, c, "done_at");
		text_cell(b, str_of(c, "detail"));
		strbuf_add(b, "</tr>\n", 6);
	}
	strbuf_add(b, "</table>\n", 9);
	cJSON_Delete(cmds);
}

static void page_records(mock *m, strbuf *b)
{
	cJSON *recs = mock__recent_records(m, PAGE_RECORDS), *r;

	strbuf_printf(b, "<h2>Snapshots (newest %d)</h2>\n<div class=\"snaps\">",
			PAGE_RECORDS);
	cJSON_ArrayForEach(r, recs) {
		const cJSON *msg = cJSON_GetObjectItem(r, "message");
		const cJSON *res = cJSON_GetObjectItem(msg, "result");
		const cJSON *pt = cJSON_GetObjectItem(res, "person_type");
		const cJSON *temp = cJSON_GetObjectItem(res, "temperature");
		long long id = (long long)cJSON_GetNumberValue(
			cJSON_GetObjectItem(r, "id"));
		char t[32] = "";

		if (cJSON_IsNumber(cJSON_GetObjectItem(r, "received_at")))
			mock__iso((int64_t)cJSON_GetNumberValue(
					  cJSON_GetObjectItem(r, "received_at")), t);
		strbuf_printf(b, "<figure><img src=\"/admin/records/%lld/image\" "
				"alt=\"record %lld\" width=\"160\"><figcaption>#%lld ",
				id, id, id);
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
		strbuf_add(b, "</figcaption></figure>\n", 23);
	}
	strbuf_add(b, "</div>\n", 7);
	cJSON_Delete(recs);
}

static void page_messages(mock *m, strbuf *b)
{
	cJSON *ms = mock__recent_messages(m, PAGE_MESSAGES), *g;

	strbuf_printf(b, "<h2>Messages (newest %d)</h2>\n<table><tr>"
			"<th>id</th><th>cid</th><th>received</th><th>kind</th>"
			"<th>status</th><th>bytes</th><th>fault</th><th>error"
			"</th></tr>\n", PAGE_MESSAGES);
	cJSON_ArrayForEach(g, ms) {
		long long id = (long long)cJSON_GetNumberValue(
			cJSON_GetObjectItem(g, "id"));
		strbuf_printf(b, "<tr><td><a href=\"/admin/messages/%lld\">%lld"
				"</a></td>", id, id);
		text_cell(b, str_of(g, "cid"));
		time_cell(b, g, "received_at");
		text_cell(b, str_of(g, "kind"));
		num_cell(b, g, "status");
		num_cell(b, g, "size");
		text_cell(b, str_of(g, "fault"));
		text_cell(b, str_of(g, "error"));
		strbuf_add(b, "</tr>\n", 6);
	}
	strbuf_add(b, "</table>\n", 9);
	cJSON_Delete(ms);
}

static void page(mock *m, const char *query, mock__exchange *x)
{
	static const char head[] =
		"<!doctype html>\n<html><head><meta charset=\"utf-8\">"
		"<title>camsim mock</title><style>"
		"body{font-family:sans-serif;margin:1em}"
		"table{border-collapse:collapse}"
		"td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}"
		".confirmed{color:#070}.failed,.timeout{color:#a00}"
		"figure{display:inline-block;margin:4px;font-size:80%}"
		"</style></head><body>\n<h1>camsim mock</h1>\n";
	strbuf b = {0};
	char t[32];
	listq q;

	if (!parse_devq(query, &q, x))
		return;
	mock__iso(mock__now(m), t);
	strbuf_add(&b, head, sizeof head - 1);
	strbuf_add(&b, "<p>Devices POST to <code>", 25);
	strbuf_html(&b, m->path);
	strbuf_printf(&b, "</code>; the mock's clock says %s. JSON: "
			"<a href=\"/admin/stats\">stats</a>, "
			"<a href=\"/admin/devices\">devices</a>, "
			"<a href=\"/admin/commands\">commands</a>, "
			"<a href=\"/admin/records\">records</a>, "
			"<a href=\"/admin/messages\">messages</a>.</p>\n", t);
	page_stats(m, &b);
	page_devices(m, &q, &b);
	page_commands(m, &b);
	page_records(m, &b);
	page_messages(m, &b);
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
}
