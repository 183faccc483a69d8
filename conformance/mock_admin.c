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
	int64_t before; /* ?before=: newest first below it; 0: oldest first */
	bool refused;   /* ?refused=1: messages answered 400 and up */
} listq;

/* The integer of ?key= in [lo, hi] into *v: 1, 0 when absent, -1 with the
 * answer set when it is not one. */
static int query_num(const char *q, const char *key, long long lo,
		     long long hi, long long *v, mock__exchange *x)
{
	char s[96], *end;
	int n = q ? mg_get_var(q, strlen(q), key, s, sizeof s) : -1;

	if (n == -1)
		return 0;
	errno = 0;
	*v = n < 0 ? 0 : strtoll(s, &end, 10);
	if (n < 0 || !*s || *end || errno || *v < lo || *v > hi) {
		json_error(x, 400, "%s is \"%.40s\"; it must be an integer "
			   "from %lld to %lld", key, n < 0 ? "(too long)" : s,
			   lo, hi);
		return -1;
	}
	return 1;
}

/* keys[0]=&keys[1]=&keys[2]= (string, number >= 0, limit 1..max) into l;
 * false with the answer set when one is wrong.  allow_str false: keys[0]
 * is refused (the cid is in the path). */
static bool parse_query(const char *q, const char *const keys[3],
			bool allow_str, listq *l, mock__exchange *x)
{
	char v[96];
	size_t ql = q ? strlen(q) : 0;
	long long num;
	int n;

	*l = (listq){.limit = MOCK__LIST_DEFAULT};
	n = q ? mg_get_var(q, ql, keys[0], v, sizeof v) : -1;
	if (n < -1 || (n >= 0 && !allow_str)) {
		json_error(x, 400, "query parameter %s is %s", keys[0],
			   n < 0 ? "too long (at most 95 bytes)" :
			   "not taken here (the cid is in the path)");
		return false;
	}
	if (n >= 0) {
		snprintf(l->cid, sizeof l->cid, "%s", v);
		l->has_cid = true;
	}
	if ((n = query_num(q, keys[1], 0, INT64_MAX, &num, x)) < 0)
		return false;
	l->after = n ? num : 0;
	if ((n = query_num(q, keys[2], 1, MOCK__LIST_MAX, &num, x)) < 0)
		return false;
	l->limit = n ? (size_t)num : MOCK__LIST_DEFAULT;
	return true;
}

/* ?cid=&after=&limit= of the commands, records and messages, or
 * ?before= (newest first below it) instead of after, and for messages
 * ?refused=1. */
static bool parse_list(const char *q, bool allow_cid, bool messages, listq *l,
		       mock__exchange *x)
{
	static const char *const keys[] = {"cid", "after", "limit"};
	long long v;
	int nb, nr = 0;

	if (!parse_query(q, keys, allow_cid, l, x) ||
	    (nb = query_num(q, "before", 1, INT64_MAX, &v, x)) < 0)
		return false;
	l->before = nb ? v : 0;
	if (messages && (nr = query_num(q, "refused", 0, 1, &v, x)) < 0)
		return false;
	l->refused = nr && v;
	if (l->refused && !nb)
		l->before = INT64_MAX; /* the refused list goes newest first */
	if (l->before && l->after) {
		json_error(x, 400, "after cannot go with before%s: after lists "
			   "oldest first, before newest first",
			   l->refused ? " (nor with refused, listed newest "
			   "first)" : "");
		return false;
	}
	return true;
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

/* GET /admin/records/{id}/thumb: what the page shows. */
static void record_thumb(mock *m, int64_t id, mock__exchange *x)
{
	unsigned char *jpg = NULL;
	char err[600];
	size_t n = 0;
	int rc = mock__thumb(m, id, &jpg, &n, err, sizeof err);

	if (rc < 0) {
		json_error(x, rc == CONF_ENOTFOUND ? 404 : rc == CONF_EINVAL ?
			   422 : 500, "%s", err);
		return;
	}
	free(x->body);
	x->status = 200;
	x->body = (char *)jpg;
	x->len = n;
	x->ctype = "image/jpeg";
}

/* GET / with ?prefix=&offset= (the device list's) and ?device=. */
static void page(mock *m, const char *query, mock__exchange *x)
{
	mock__pageq pq = {0};
	listq l;
	int n;

	if (!parse_devq(query, &l, x))
		return;
	n = query ? mg_get_var(query, strlen(query), "device", pq.device,
			       sizeof pq.device) : -1;
	if (n < -1) {
		json_error(x, 400, "query parameter device is too long (at most "
			   "95 bytes)");
		return;
	}
	if (n < 0)
		pq.device[0] = '\0';
	snprintf(pq.prefix, sizeof pq.prefix, "%s", l.cid);
	pq.offset = l.after;
	mock__page(m, &pq, x);
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

static const char routes[] =
	"GET /admin/devices (prefix, offset, limit), GET /admin/stats, "
	"GET|POST /admin/devices/{cid}/commands, "
	"POST /admin/devices/{cid}/actions, "
	"GET /admin/commands, GET /admin/commands/{id}, GET /admin/records, "
	"GET /admin/records/{id}, GET /admin/records/{id}/image, "
	"GET /admin/records/{id}/thumb, "
	"GET /admin/messages (refused), GET /admin/messages/{id}, "
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
	if (get && mock__page_asset(p, x))
		return;
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
		else if (parse_list(rq->query, false, false, &l, x))
			json_answer(x, 200, l.before ?
				    mock__newest(m, MOCK__COMMANDS, s2, l.before,
						 l.limit) :
				    mock_commands_json(m, s2, l.after, l.limit));
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
		} else if (parse_list(rq->query, true, !cmds && !recs, &l, x)) {
			const char *cid = l.has_cid ? l.cid : NULL;
			mock__list what = cmds ? MOCK__COMMANDS : recs ?
				MOCK__RECORDS : l.refused ? MOCK__REFUSED :
				MOCK__MESSAGES;
			if (l.before)
				json_answer(x, 200, mock__newest(m, what, cid,
								 l.before,
								 l.limit));
			else
				json_answer(x, 200, cmds ?
					    mock_commands_json(m, cid, l.after,
							       l.limit) :
					    recs ? mock_records_json(m, cid,
							l.after, l.limit) :
					    mock_messages_json(m, cid, l.after,
							       l.limit));
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
	} else if (nseg == 3 && !strcmp(s1, "records") &&
		   !strcmp(s3, "thumb") && parse_id(s2, &id)) {
		if (!get)
			goto method;
		record_thumb(m, id, x);
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
