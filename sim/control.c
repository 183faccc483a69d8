/* control.c -- the control API's HTTP server.  CivetWeb threads route each
 * request and have control_req.c parse and validate it, then hand it to the
 * loop thread as a job (loop_post) and wait for the answer; only the loop
 * thread calls dev_*.
 * Owns the server, the cid table and the jobs; never the devices, the loop,
 * the store or the devices' events (it only listens, through ctl_event). */
#include "control_int.h"
#include "web.h"

#include "image.h"
#include "proto.h"
#include "sim_err.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <cJSON.h>
#include <civetweb.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct ctl_dev {
	char *cid; /* owned copy of dev_cid */
	dev *d;
} ctl_dev;

struct ctl {
	struct mg_context *mg;
	loop *l;
	ctl_dev *devs; /* sorted by cid */
	size_t n;
	int port;
	web_addr where;          /* the address parsed; where ctl_stop pokes */
	atomic_long timeout_ms;
	atomic_long deadline_ms; /* per request (web_guard) */
	web_site site;           /* the names browsers may use */
	bool stopping; /* under reg_mu */
	int answering; /* handlers between posting and replying (reg_mu) */
	job *cur;      /* the job running on the loop thread (loop thread) */
};

/* ------------------------------------------------------------ registry */

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reg_cv;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;
static job *reg_head;
static uint64_t reg_next = 1;

static void reg_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&reg_cv, &a);
	pthread_condattr_destroy(&a);
}

/* Under reg_mu. */
static void reg_link(job *j)
{
	j->id = reg_next++;
	j->prev = NULL;
	j->next = reg_head;
	if (reg_head)
		reg_head->prev = j;
	reg_head = j;
}

/* Under reg_mu. */
static void reg_unlink(job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else if (reg_head == j)
		reg_head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	j->prev = j->next = NULL;
}

/* Under reg_mu. */
static job *reg_find(uint64_t id)
{
	for (job *j = reg_head; j; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

static void job_free(job *j)
{
	if (!j)
		return;
	free(j->image);
	cJSON_Delete(j->answer);
	cJSON_Delete(j->events);
	free(j);
}

/* ------------------------------------------------------------ answers */

static cJSON *err_json(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static cJSON *err_json(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	cJSON *o;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	o = cJSON_CreateObject();
	if (o && !cJSON_AddStringToObject(o, "error", msg)) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 421: return "Misdirected Request";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	}
	return "Error";
}

/* Writes status and body (NULL: out of memory, sent as 500) and deletes
 * body.  allow (may be NULL) becomes the Allow header.  Returns the status
 * for CivetWeb's log. */
static int send_json(struct mg_connection *conn, int status, cJSON *body,
		     const char *allow)
{
	static const char oom[] = "{\"error\":\"out of memory while building "
				  "the answer\"}";
	char *s = body ? cJSON_PrintUnformatted(body) : NULL;
	const char *text = s;
	size_t len;

	if (!s) {
		status = 500;
		text = oom;
	}
	len = strlen(text);
	mg_printf(conn,
		  "HTTP/1.1 %d %s\r\n"
		  "Content-Type: application/json\r\n"
		  "Content-Length: %zu\r\n"
		  "Cache-Control: no-store\r\n"
		  "%s%s%s"
		  "Connection: close\r\n\r\n",
		  status, status_text(status), len + 1,
		  allow ? "Allow: " : "", allow ? allow : "", allow ? "\r\n" : "");
	mg_write(conn, text, len);
	mg_write(conn, "\n", 1);
	cJSON_free(s);
	cJSON_Delete(body);
	return status;
}

static int send_err(struct mg_connection *conn, int status, const char *allow,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int send_err(struct mg_connection *conn, int status, const char *allow,
		    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return send_json(conn, status, err_json("%s", msg), allow);
}

/* HTTP status for a SIM_E* code from the device. */
static int sim_status(int rc)
{
	switch (rc) {
	case SIM_EINVAL:
	case SIM_ENOTIMAGE:
	case SIM_ENOFACE:
	case SIM_EMANYFACES:
	case SIM_ESMALLFACE:
		return 400;
	case SIM_ENOTFOUND:
		return 404;
	case SIM_ESTATE:
	case SIM_EFULL:
	case SIM_EEXISTS:
		return 409;
	case SIM_EIMGSIZE:
		return 413;
	case SIM_EMODEL:
		return 503;
	case SIM_EHTTP:
		return 502;
	}
	return 500;
}

/* ------------------------------------------------------------ loop side */

void ctl_event(void *ud, dev *d, const dev_event *ev)
{
	ctl *c = ud;
	cJSON *o;

	if (!c || !c->cur || c->cur->d != d || !c->cur->events)
		return;
	o = cJSON_CreateObject();
	if (!o)
		return;
	cJSON_AddNumberToObject(o, "t", (double)ev->t);
	cJSON_AddStringToObject(o, "kind", dev_event_name(ev->kind));
	cJSON_AddStringToObject(o, "text", ev->text);
	cJSON_AddItemToArray(c->cur->events, o);
}

static cJSON *event_json(const dev_event *ev)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	if (!cJSON_AddNumberToObject(o, "t", (double)ev->t) ||
	    !cJSON_AddStringToObject(o, "kind", dev_event_name(ev->kind)) ||
	    !cJSON_AddStringToObject(o, "text", ev->text)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* {"ok":true,"events":[...]} or {"error":...,"events":[...]}: takes the
 * job's events. */
static void answer_button(job *j, int rc, const char *err)
{
	cJSON *o;

	if (rc == 0) {
		j->status = 200;
		o = cJSON_CreateObject();
		if (o && !cJSON_AddTrueToObject(o, "ok")) {
			cJSON_Delete(o);
			o = NULL;
		}
	} else {
		j->status = sim_status(rc);
		o = err_json("%s", err && *err ? err : sim_strerror(rc));
	}
	if (o && j->events) {
		cJSON_AddItemToObject(o, "events", j->events);
		j->events = NULL;
	}
	j->answer = o;
}

static void run_list(job *j)
{
	ctl *c = j->c;
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = o ? cJSON_AddArrayToObject(o, "devices") : NULL;

	if (!arr)
		goto fail;
	for (size_t i = 0; i < c->n; i++) {
		dev *d = c->devs[i].d;
		cJSON *e = cJSON_CreateObject();
		if (!e)
			goto fail;
		cJSON_AddItemToArray(arr, e);
		if (!cJSON_AddStringToObject(e, "cid", c->devs[i].cid) ||
		    !cJSON_AddBoolToObject(e, "on", dev_is_on(d)) ||
		    !cJSON_AddBoolToObject(e, "door_open", dev_door_open(d)) ||
		    !cJSON_AddBoolToObject(e, "relay", dev_relay_on(d)) ||
		    !cJSON_AddNumberToObject(e, "library_size",
					     (double)dev_library_size(d)))
			goto fail;
	}
	j->status = 200;
	j->answer = o;
	return;
fail:
	cJSON_Delete(o);
	j->status = 500;
	j->answer = NULL;
}

static void run_events(job *j)
{
	dev_event *ev = malloc(j->limit * sizeof *ev);
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = NULL;
	size_t n;

	if (!ev || !o || !cJSON_AddStringToObject(o, "cid", j->cid) ||
	    !(arr = cJSON_AddArrayToObject(o, "events")))
		goto fail;
	n = dev_recent_events(j->d, ev, j->limit);
	for (size_t i = 0; i < n; i++) {
		cJSON *e = event_json(&ev[i]);
		if (!e)
			goto fail;
		cJSON_AddItemToArray(arr, e);
	}
	free(ev);
	j->status = 200;
	j->answer = o;
	return;
fail:
	free(ev);
	cJSON_Delete(o);
	j->status = 500;
	j->answer = NULL;
}

static void run_power(job *j)
{
	char err[512] = "";
	int rc = 0;
	bool on = dev_is_on(j->d);

	switch (j->power) {
	case POWER_OFF:
		if (!on) {
			snprintf(err, sizeof err, "device %s is already off; "
				 "action \"off\" needs a device that is on", j->cid);
			rc = SIM_ESTATE;
			break;
		}
		dev_power_off(j->d);
		break;
	case POWER_ON:
		if (on) {
			snprintf(err, sizeof err, "device %s is already on; "
				 "action \"on\" needs a device that is off "
				 "(\"cycle\" restarts it)", j->cid);
			rc = SIM_ESTATE;
			break;
		}
		rc = dev_power_on(j->d, err, sizeof err);
		break;
	default: /* cycle: off when on, then on */
		if (on)
			dev_power_off(j->d);
		rc = dev_power_on(j->d, err, sizeof err);
		break;
	}
	answer_button(j, rc, err);
}

static void run_thermal(job *j)
{
	char err[512] = "";
	int rc = dev_thermal_script(j->d, j->readings, j->n_readings);

	/* the values were checked here: a refusal means the queue is full */
	if (rc == SIM_EINVAL)
		rc = SIM_EFULL;
	if (rc == SIM_EFULL)
		snprintf(err, sizeof err, "readings: %zu more do not fit the "
			 "thermal queue of device %s, which holds at most %d "
			 "until faces use them up", j->n_readings, j->cid,
			 THERMAL_MAX);
	else if (rc)
		snprintf(err, sizeof err, "readings: device %s cannot queue "
			 "them: %s", j->cid, sim_strerror(rc));
	answer_button(j, rc, err);
}

static void run_job(job *j)
{
	char err[512] = "";
	int rc = 0;

	switch (j->op) {
	case OP_LIST:
		run_list(j);
		return;
	case OP_STATUS:
		j->answer = dev_status_json(j->d);
		j->status = j->answer ? 200 : 500;
		return;
	case OP_EVENTS:
		run_events(j);
		return;
	case OP_ASIDE:
		j->answer = dev_aside_json(j->d);
		j->status = j->answer ? 200 : 500;
		return;
	case OP_FACE:
		rc = dev_face(j->d, &j->face, err, sizeof err);
		break;
	case OP_DOOR:
		dev_door(j->d, j->flag);
		break;
	case OP_NETWORK:
		dev_network(j->d, j->flag);
		break;
	case OP_POWER:
		run_power(j);
		return;
	case OP_CLOCK:
		dev_set_clock(j->d, j->utc_s, j->has_zone, j->zone_s);
		break;
	case OP_THERMAL:
		run_thermal(j);
		return;
	}
	answer_button(j, rc, err);
}

/* Posted to the loop: ud is the job's id, not a pointer, so a job its
 * handler gave up on (or ctl_stop freed) is not found and nothing runs. */
static void job_post_cb(void *ud)
{
	uint64_t id = (uint64_t)(uintptr_t)ud;
	job *j;
	ctl *c;

	pthread_mutex_lock(&reg_mu);
	j = reg_find(id);
	if (!j || j->state != J_QUEUED || j->abandoned) {
		pthread_mutex_unlock(&reg_mu);
		return;
	}
	j->state = J_RUNNING;
	pthread_mutex_unlock(&reg_mu);

	/* c outlives a running job: ctl_stop waits for it */
	c = j->c;
	j->events = cJSON_CreateArray();
	c->cur = j;
	run_job(j);
	c->cur = NULL;

	pthread_mutex_lock(&reg_mu);
	j->state = J_DONE;
	if (j->abandoned) {
		reg_unlink(j);
		job_free(j);
	}
	pthread_cond_broadcast(&reg_cv);
	pthread_mutex_unlock(&reg_mu);
}

/* ------------------------------------------------------------ handler side */

/* Posts j and waits for its answer.  Returns the HTTP status and moves the
 * answer to *answer; on a timeout or shutdown, 503 with a sentence.  Frees
 * j (or leaves it to the loop thread when it is running). */
static int job_submit(ctl *c, job *j, cJSON **answer)
{
	struct timespec dl;
	long ms = atomic_load(&c->timeout_ms);
	int status = 503;
	bool stopping;

	*answer = NULL;
	j->c = c;
	j->state = J_QUEUED;
	pthread_mutex_lock(&reg_mu);
	if (c->stopping) {
		pthread_mutex_unlock(&reg_mu);
		job_free(j);
		*answer = err_json("the control API is shutting down");
		return 503;
	}
	reg_link(j);
	pthread_mutex_unlock(&reg_mu);

	if (loop_post(c->l, job_post_cb, (void *)(uintptr_t)j->id)) {
		pthread_mutex_lock(&reg_mu);
		reg_unlink(j);
		pthread_mutex_unlock(&reg_mu);
		job_free(j);
		*answer = err_json("out of memory while queueing the request");
		return 500;
	}

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&reg_mu);
	while (j->state != J_DONE && !c->stopping)
		if (pthread_cond_timedwait(&reg_cv, &reg_mu, &dl) == ETIMEDOUT)
			break;
	stopping = c->stopping;
	if (j->state == J_DONE) {
		reg_unlink(j);
		status = j->status;
		*answer = j->answer;
		j->answer = NULL;
		job_free(j);
	} else if (j->state == J_QUEUED) {
		reg_unlink(j); /* the posted callback will not find it */
		job_free(j);
	} else {
		j->abandoned = true; /* the loop thread frees it when done */
	}
	pthread_mutex_unlock(&reg_mu);
	if (status == 503 && !*answer)
		*answer = err_json(stopping ? "the control API is shutting down "
					      "before the device loop ran the "
					      "request" :
				   "the device loop did not run the request "
				   "within %ld ms (is it stopped or overloaded?)",
				   ms);
	return status;
}

static int cid_cmp(const void *a, const void *b)
{
	return strcmp(((const ctl_dev *)a)->cid, ((const ctl_dev *)b)->cid);
}

static const ctl_dev *find_dev(const ctl *c, const char *cid)
{
	ctl_dev key = {.cid = (char *)cid};
	return bsearch(&key, c->devs, c->n, sizeof *c->devs, cid_cmp);
}

struct endpoint {
	const char *name; /* path segment after the cid; "" none */
	const char *method;
	job_op op;
	const char *pattern; /* for error sentences */
};

static const struct endpoint list_endpoint = {
	"", "GET", OP_LIST, "/devices"};

static const struct endpoint endpoints[] = {
	{"", "GET", OP_STATUS, "/devices/{cid}"},
	{"events", "GET", OP_EVENTS, "/devices/{cid}/events"},
	{"records", "GET", OP_ASIDE, "/devices/{cid}/records"},
	{"face", "POST", OP_FACE, "/devices/{cid}/face"},
	{"door", "POST", OP_DOOR, "/devices/{cid}/door"},
	{"network", "POST", OP_NETWORK, "/devices/{cid}/network"},
	{"power", "POST", OP_POWER, "/devices/{cid}/power"},
	{"clock", "POST", OP_CLOCK, "/devices/{cid}/clock"},
	{"thermal", "POST", OP_THERMAL, "/devices/{cid}/thermal"},
};

/* Routes the request and builds its job (handler thread): 0 and *out, or
 * the HTTP status with a sentence in err (and *allow for 405). */
static int prepare(ctl *c, struct mg_connection *conn, web_guard *g,
		   job **out, const char **allow, char *err, size_t errlen)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *method = ri->request_method;
	const char *raw = ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri;
	const char *p = raw;
	const struct endpoint *ep = NULL;
	const ctl_dev *cd;
	char seg0[64], cid[256], act[64];
	char *body = NULL;
	size_t blen = 0;
	web_rq rq;
	job *j;
	int status = 404;

	*out = NULL;
	*allow = NULL;
	/* every button is reachable from any web page the user opens: no
	 * page may press one (docs/device.md, Control API, Browsers) */
	web_rq_of(conn, &rq);
	if ((status = web_check_site(&c->site, &rq, WEB_CHECK_ALL, err, errlen)))
		return status;
	status = 404;
	if (!p || !ctl__next_segment(&p, seg0, sizeof seg0) || strcmp(seg0, "devices"))
		goto no_endpoint;
	if (!*p || !strcmp(p, "/")) {
		ep = &list_endpoint;
	} else {
		if (!ctl__next_segment(&p, cid, sizeof cid) || !*cid)
			goto no_endpoint;
		act[0] = '\0';
		if (*p && strcmp(p, "/") &&
		    (!ctl__next_segment(&p, act, sizeof act) || (*p && strcmp(p, "/"))))
			goto no_endpoint;
		for (size_t i = 0; i < sizeof endpoints / sizeof *endpoints; i++)
			if (!strcmp(endpoints[i].name, act))
				ep = &endpoints[i];
		if (!ep)
			goto no_endpoint;
	}
	if (strcmp(method, ep->method)) {
		*allow = ep->method;
		snprintf(err, errlen, "%s %s is not served; use %s", method,
			 ep->pattern, ep->method);
		return 405;
	}
	cd = ep->op == OP_LIST ? NULL : find_dev(c, cid);
	if (ep->op != OP_LIST && !cd) {
		snprintf(err, errlen, "no device has cid \"%.200s\" (GET /devices "
			 "lists the %zu served here)", cid, c->n);
		return 404;
	}
	if (!(j = calloc(1, sizeof *j))) {
		snprintf(err, errlen, "out of memory");
		return 500;
	}
	j->op = ep->op;
	j->d = cd ? cd->d : NULL;
	j->cid = cd ? cd->cid : NULL;
	if (ep->op == OP_EVENTS &&
	    ctl__parse_limit(ri->query_string, &j->limit, err, errlen)) {
		job_free(j);
		return 400;
	}
	if (!strcmp(ep->method, "POST")) {
		status = web_read_body(conn, g, CTL_BODY_MAX, "48 MiB", false, &body,
				       &blen, err, errlen);
		if (!status)
			status = ctl__parse_body(j, body, blen, err, errlen);
		free(body);
		if (status) {
			job_free(j);
			return status;
		}
	}
	*out = j;
	return 0;
no_endpoint:
	snprintf(err, errlen, "no such endpoint: %s %.200s; the control API "
		 "serves GET /devices, GET /devices/{cid}, GET /devices/{cid}/"
		 "events, GET /devices/{cid}/records and POST /devices/{cid}/{face,door,network,power,"
		 "clock,thermal}", method, raw ? raw : "?");
	return status;
}

static int handle_request(struct mg_connection *conn, void *cbdata)
{
	ctl *c = cbdata;
	const char *allow;
	char err[1024];
	cJSON *answer = NULL;
	web_guard g;
	job *j;
	int status;

	/* a slow client holds this worker until the deadline at most */
	web_guard_begin(&g, conn, atomic_load(&c->deadline_ms));
	status = prepare(c, conn, &g, &j, &allow, err, sizeof err);
	if (status) {
		status = send_err(conn, status, allow, "%s", err);
		web_guard_end(&g, conn);
		return status;
	}
	web_guard_end(&g, conn);
	/* counted until the reply is written: ctl_stop lets these answer
	 * before mg_stop, after which CivetWeb refuses to write */
	pthread_mutex_lock(&reg_mu);
	c->answering++;
	pthread_mutex_unlock(&reg_mu);
	status = job_submit(c, j, &answer);
	status = send_json(conn, status, answer, NULL);
	pthread_mutex_lock(&reg_mu);
	c->answering--;
	pthread_cond_broadcast(&reg_cv);
	pthread_mutex_unlock(&reg_mu);
	return status;
}

/* CivetWeb's worker stacks are small (web.h): the request runs on a
 * thread of WEB_STACK. */
static int on_request(struct mg_connection *conn, void *cbdata)
{
	int rc = web_call(handle_request, conn, cbdata);
	if (rc < 0) {
		mg_printf(conn, "HTTP/1.1 503 Service Unavailable\r\n"
			  "Content-Type: application/json\r\nContent-Length: 50\r\n"
			  "Connection: close\r\n\r\n"
			  "{\"error\":\"no thread for this request; send again\"}");
		return 503;
	}
	return rc;
}

int ctl_start(const char *listen, loop *l, dev **devs, size_t n, ctl **out,
	      char *err, size_t errlen)
{
	char why[256];
	ctl *c = NULL;
	int rc;

	*out = NULL;
	pthread_once(&reg_once, reg_init);
	snprintf(err, errlen, "out of memory starting the control API");
	rc = SIM_ENOMEM;
	c = calloc(1, sizeof *c);
	if (!c || !(c->devs = calloc(n ? n : 1, sizeof *c->devs)))
		goto fail;
	if (web_addr_parse("control address", listen, &c->where, err,
			   errlen) < 0) {
		rc = SIM_EINVAL;
		goto fail;
	}
	rc = SIM_ENOMEM;
	snprintf(err, errlen, "out of memory starting the control API");
	c->l = l;
	atomic_init(&c->timeout_ms, CTL_JOB_TIMEOUT_MS);
	atomic_init(&c->deadline_ms, WEB_DEADLINE_MS);
	for (size_t i = 0; i < n; i++) {
		c->devs[i].d = devs[i];
		if (!(c->devs[i].cid = strdup(dev_cid(devs[i]))))
			goto fail;
		c->n++;
	}
	qsort(c->devs, c->n, sizeof *c->devs, cid_cmp);
	for (size_t i = 1; i < c->n; i++)
		if (!strcmp(c->devs[i - 1].cid, c->devs[i].cid)) {
			snprintf(err, errlen, "two devices have cid \"%.100s\"; "
				 "the control API needs each cid once",
				 c->devs[i].cid);
			rc = SIM_EINVAL;
			goto fail;
		}
	/* workers: docs/device.md, Slow clients */
	if (!(c->mg = web_start(&c->where, "32", "/", on_request, c, &c->site,
				why, sizeof why))) {
		snprintf(err, errlen, "control API %s", why);
		rc = SIM_EIO;
		goto fail;
	}
	c->port = c->site.port;
	if (errlen)
		err[0] = '\0';
	*out = c;
	return 0;
fail:
	if (c) {
		for (size_t i = 0; i < c->n; i++)
			free(c->devs[i].cid);
		free(c->devs);
		free(c);
	}
	return rc;
}

int ctl_port(const ctl *c)
{
	return c ? c->port : 0;
}

void ctl_set_job_timeout(ctl *c, long ms)
{
	if (c)
		atomic_store(&c->timeout_ms, ms > 0 ? ms : 1);
}

void ctl_set_deadline(ctl *c, long ms)
{
	if (c)
		atomic_store(&c->deadline_ms, ms > 0 ? ms : WEB_DEADLINE_MS);
}

void ctl_stop(ctl *c)
{
	struct timespec dl;
	bool busy;

	if (!c)
		return;
	/* waiting handlers give up and answer 503; give them (at most 2 s)
	 * to write it */
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += 2;
	pthread_mutex_lock(&reg_mu);
	c->stopping = true;
	pthread_cond_broadcast(&reg_cv);
	while (c->answering > 0)
		if (pthread_cond_timedwait(&reg_cv, &reg_mu, &dl) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&reg_mu);
	web_stop(c->mg, &c->where.addr); /* returns once every handler has
					    returned */

	/* Handlers freed their queued jobs and abandoned running ones; wait
	 * for those, free anything of c that is still listed. */
	pthread_mutex_lock(&reg_mu);
	do {
		busy = false;
		for (job *j = reg_head, *nx; j; j = nx) {
			nx = j->next;
			if (j->c != c)
				continue;
			if (j->state == J_RUNNING) {
				busy = true;
			} else {
				reg_unlink(j);
				job_free(j);
			}
		}
		if (busy)
			pthread_cond_wait(&reg_cv, &reg_mu);
	} while (busy);
	pthread_mutex_unlock(&reg_mu);

	for (size_t i = 0; i < c->n; i++)
		free(c->devs[i].cid);
	free(c->devs);
	free(c);
}
