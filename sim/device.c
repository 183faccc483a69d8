/* device.c -- a simulated device's life cycle (power, boot, reboot), its
 * saved state, its control channel (heartbeat slots, query results in the
 * slot, confirmations sent at once) and the transcript of its exchanges.
 * Commands are applied in device_cmd.c; hardware and snapshots live in
 * device_hw.c.  Never blocks: every exchange goes through the loop. */
#include "device_int.h"
#include "device_test.h" /* dev_mem_bytes */
#include "strategy.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const ev_names[] = {
#define DEV_EV_NAME(e, name) name,
	DEV_EVENT_MAP(DEV_EV_NAME)
#undef DEV_EV_NAME
};

const char *dev_event_name(dev_event_kind k)
{
	return (unsigned)k < DEV_EV_COUNT ? ev_names[k] : "?";
}

void dev_env_defaults(dev_env *env)
{
	if (!env->prof)
		env->prof = &proto_profile_strict;
	if (!env->capacity)
		env->capacity = 10000;
	if (!env->upgrade_max)
		env->upgrade_max = 64u << 20;
	if (!env->http_timeout_ms)
		env->http_timeout_ms = 10000;
	if (!env->connect_timeout_ms)
		env->connect_timeout_ms = 5000;
	if (!env->idle_reupload_ms)
		env->idle_reupload_ms = 180000;
	if (!env->record_cap)
		env->record_cap = 2000;
}

const char *dev_cid(const dev *d)
{
	return d->cid;
}

int64_t dev_now_ms(const dev *d)
{
	return loop_now(d->env->loop) + d->clock_off_ms;
}

int64_t dev__now_s(const dev *d)
{
	int64_t ms = dev_now_ms(d);
	return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

int64_t dev__local_s(const dev *d)
{
	return dev__now_s(d) + d->tz_s;
}

bool dev_is_on(const dev *d)
{
	return d->state != DEV_OFF;
}

bool dev_relay_on(const dev *d)
{
	return d->relay_on;
}

bool dev_door_open(const dev *d)
{
	return d->door_open;
}

int64_t dev_library_size(const dev *d)
{
	return (int64_t)d->n_lib;
}

/* ---------------------------------------------------------------- events */

#define EV_HEAD 10 /* a record's time (8), kind (1), text length (1) */
/* The log's smallest buffer, taken at the first event: 32 heartbeat
 * events ("heartbeat", "200 to heartbeat") fill about 720 bytes, so a
 * heartbeating device's log never grows after power-on; from 256 it grew
 * twice over its first 16 heartbeats, which in a load run is memory
 * growing for the first minute after the ramp (docs/perf.md). */
#define EV_MIN_CAP 1024
STATIC_ASSERT(DEV_EV_COUNT <= 256, "a record's kind is one byte");
STATIC_ASSERT(sizeof(((dev_event *)0)->text) <= 256,
	      "a record's text length is one byte");

/* Drops the oldest record of the log. */
static void ev_drop_oldest(dev *d)
{
	uint32_t sz = EV_HEAD + d->ev_buf[9];

	memmove(d->ev_buf, d->ev_buf + sz, d->ev_len - sz);
	d->ev_len -= sz;
	d->n_ev--;
}

/* Appends ev to the log, dropping the oldest beyond DEV_EVENTS; without
 * memory the event is still reported, only not kept. */
static void ev_keep(dev *d, const dev_event *ev)
{
	size_t len = strnlen(ev->text, sizeof(ev->text) - 1);
	uint32_t need = EV_HEAD + (uint32_t)len, cap = d->ev_cap;
	unsigned char kind = (unsigned char)ev->kind, n = (unsigned char)len;

	if (d->n_ev == DEV_EVENTS)
		ev_drop_oldest(d);
	if (!cap)
		cap = EV_MIN_CAP;
	while (cap < d->ev_len + need)
		cap *= 2;
	/* long texts gone: give back what short ones do not need */
	while (cap > EV_MIN_CAP && (d->ev_len + need) * 4 <= cap)
		cap /= 2;
	if (cap != d->ev_cap) {
		unsigned char *b = realloc(d->ev_buf, cap);
		if (!b) {
			if (d->ev_cap < d->ev_len + need)
				return;
		} else {
			d->ev_buf = b;
			d->ev_cap = cap;
		}
	}
	memcpy(d->ev_buf + d->ev_len, &ev->t, 8);
	d->ev_buf[d->ev_len + 8] = kind;
	d->ev_buf[d->ev_len + 9] = n;
	memcpy(d->ev_buf + d->ev_len + EV_HEAD, ev->text, len);
	d->ev_len += need;
	d->n_ev++;
}

/* Reads the record at *off into *ev and moves *off past it. */
static void ev_read(const dev *d, uint32_t *off, dev_event *ev)
{
	const unsigned char *p = d->ev_buf + *off;

	memcpy(&ev->t, p, 8);
	ev->kind = (dev_event_kind)p[8];
	memcpy(ev->text, p + EV_HEAD, p[9]);
	ev->text[p[9]] = '\0';
	*off += EV_HEAD + p[9];
}

void dev__events_clear(dev *d)
{
	free(d->ev_buf);
	d->ev_buf = NULL;
	d->ev_len = d->ev_cap = d->n_ev = 0;
}

static void ev_emit(dev *d, dev_event *ev)
{
	ev->t = dev_now_ms(d);
	ev_keep(d, ev);
	if (d->env->on_event)
		d->env->on_event(d->env->event_ud, d, ev);
}

void dev__event(dev *d, dev_event_kind k, const char *fmt, ...)
{
	dev_event ev;
	va_list ap;

	ev.kind = k;
	va_start(ap, fmt);
	vsnprintf(ev.text, sizeof(ev.text), fmt, ap);
	va_end(ap);
	ev_emit(d, &ev);
}

void dev__event_join(dev *d, dev_event_kind k, const char *a, const char *b)
{
	dev_event ev;
	size_t na = strnlen(a, sizeof(ev.text) - 1);
	size_t nb = strnlen(b, sizeof(ev.text) - 1 - na);

	ev.kind = k;
	memcpy(ev.text, a, na);
	memcpy(ev.text + na, b, nb);
	ev.text[na + nb] = '\0';
	ev_emit(d, &ev);
}

size_t dev_recent_events(const dev *d, dev_event *out, size_t max)
{
	size_t n = d->n_ev < max ? d->n_ev : max;
	size_t skip = d->n_ev - n;
	uint32_t off = 0;
	dev_event ev;

	for (size_t i = 0; i < skip; i++)
		ev_read(d, &off, &ev);
	for (size_t i = 0; i < n; i++)
		ev_read(d, &off, &out[i]);
	return n;
}

/* ---------------------------------------------------------------- state */

int dev__save_kv_int(dev *d, const char *key, int64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return store_kv_set(d->env->store, d->cid, key, buf);
}

static int kv_int(dev *d, const char *key, int64_t *v, bool *found,
		  char *err, size_t errlen)
{
	char *s = NULL, *end;
	int rc = store_kv_get(d->env->store, d->cid, key, &s);

	*found = false;
	if (rc < 0) {
		snprintf(err, errlen, "device %s: reading %s: %s", d->cid, key,
			 store_errmsg(d->env->store));
		return rc;
	}
	if (!s)
		return 0;
	long long x = strtoll(s, &end, 10);
	if (end == s || *end) {
		snprintf(err, errlen,
			 "device %s: saved %s is \"%.40s\", not an integer",
			 d->cid, key, s);
		free(s);
		return SIM_ECORRUPT;
	}
	free(s);
	*v = x;
	*found = true;
	return 0;
}

/* Saved messages are kept in the protocol's own JSON and read back through
 * the validator, so state written by a broken build cannot slip in. */
static int kv_msg(dev *d, const char *key, proto_kind kind, proto_arena *a,
		  proto_msg *m, bool *found, char *err, size_t errlen)
{
	char *s = NULL, why[256];
	int rc = store_kv_get(d->env->store, d->cid, key, &s);

	*found = false;
	if (rc < 0) {
		snprintf(err, errlen, "device %s: reading %s: %s", d->cid, key,
			 store_errmsg(d->env->store));
		return rc;
	}
	if (!s)
		return 0;
	rc = proto_parse(s, strlen(s), PROTO_TO_SERVER, &proto_profile_strict,
			 a, m, why, sizeof(why));
	free(s);
	if (rc < 0 || m->kind != kind) {
		snprintf(err, errlen, "device %s: saved %s is unreadable: %s",
			 d->cid, key, rc < 0 ? why : "wrong kind of message");
		return SIM_ECORRUPT;
	}
	*found = true;
	return 0;
}

/* Stores m's JSON under key; *json (may be NULL) gets that JSON to
 * free. */
static int save_msg(dev *d, const char *key, const proto_msg *m, char **json)
{
	char *s = proto_build(m, &proto_profile_strict);
	int rc;

	if (json)
		*json = NULL;
	if (!s)
		return SIM_ENOMEM;
	rc = store_kv_set(d->env->store, d->cid, key, s);
	if (rc == 0 && json)
		*json = s;
	else
		free(s);
	return rc;
}

int dev__save_config(dev *d)
{
	proto_msg m;

	memset(&m, 0, sizeof(m));
	m.kind = PROTO_CONFIG_REPORT;
	m.u.config_report.cid = d->cid;
	m.u.config_report.has_type = m.u.config_report.has_time = true;
	m.u.config_report.type = 10;
	m.u.config_report.time = dev__now_s(d);
	m.u.config_report.has_config = true;
	m.u.config_report.config = d->cfg;
	return save_msg(d, "config", &m, NULL);
}

int dev__save_strategies(dev *d, char **json)
{
	proto_msg m;

	memset(&m, 0, sizeof(m));
	m.kind = PROTO_STRATEGY_LIST;
	m.u.strategy_list.cid = d->cid;
	m.u.strategy_list.has_type = m.u.strategy_list.has_time = true;
	m.u.strategy_list.type = 7;
	m.u.strategy_list.time = dev__now_s(d);
	m.u.strategy_list.has_total_strategy = true;
	m.u.strategy_list.total_strategy = (int64_t)d->n_strat;
	m.u.strategy_list.has_strategies = true;
	m.u.strategy_list.strategies = d->strat;
	m.u.strategy_list.n_strategies = d->n_strat;
	return save_msg(d, "strategies", &m, json);
}

/* Reads everything the device keeps across power cuts. */
static int load_state(dev *d, char *err, size_t errlen)
{
	proto_arena a = PROTO_ARENA_INIT;
	proto_msg m;
	bool found;
	int64_t v;
	char *s = NULL;
	int rc;

	rc = store_kv_get(d->env->store, d->cid, "url", &s);
	if (rc < 0)
		goto dberr;
	if (s) {
		free(d->url);
		d->url = s;
	}
	rc = store_kv_get(d->env->store, d->cid, "app_version", &s);
	if (rc < 0)
		goto dberr;
	if (s) {
		snprintf(d->app_version, sizeof(d->app_version), "%s", s);
		free(s);
	}
	struct { const char *key; int64_t *dst; int64_t lo, hi; } ints[] = {
		{"interval", &d->interval_s, 1, 86400},
		{"clock_off_ms", &d->clock_off_ms, INT64_MIN / 4, INT64_MAX / 4},
		{"tz", &d->tz_s, -43200, 50400},
		{"alarm_seq", &d->alarm_seq, 0, INT64_MAX},
		{"reupload_mode", &d->reupload_mode, 1, 2},
		{"records_dropped", &d->records_dropped, 0, INT64_MAX},
	};
	for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
		rc = kv_int(d, ints[i].key, &v, &found, err, errlen);
		if (rc < 0)
			goto out;
		if (!found)
			continue;
		if (v < ints[i].lo || v > ints[i].hi) {
			snprintf(err, errlen,
				 "device %s: saved %s is %" PRId64
				 ", outside %" PRId64 "..%" PRId64,
				 d->cid, ints[i].key, v, ints[i].lo, ints[i].hi);
			rc = SIM_ECORRUPT;
			goto out;
		}
		*ints[i].dst = v;
	}
	rc = kv_int(d, "seq_pending", &v, &found, err, errlen);
	if (rc < 0)
		goto out;
	d->seq_pending = found;
	d->seq_val = found ? v : 0;
	rc = kv_int(d, "reupload_secs", &v, &found, err, errlen);
	if (rc < 0)
		goto out;
	if (found)
		d->reupload_secs = (int)(v >= 0 && v < 86400 ? v : 0);

	dev__config_defaults(&d->cfg);
	rc = kv_msg(d, "config", PROTO_CONFIG_REPORT, &a, &m, &found, err,
		    errlen);
	if (rc < 0)
		goto out;
	if (found)
		d->cfg = m.u.config_report.config;

	proto_arena_free(&d->strat_arena);
	d->strat = NULL;
	d->n_strat = 0;
	rc = kv_msg(d, "strategies", PROTO_STRATEGY_LIST, &d->strat_arena, &m,
		    &found, err, errlen);
	if (rc < 0)
		goto out;
	if (found) {
		d->strat = m.u.strategy_list.strategies;
		d->n_strat = m.u.strategy_list.n_strategies;
	}
	rc = dev__library_load(d, err, errlen);
	if (rc < 0)
		goto out;
	rc = store_rec_count(d->env->store, d->cid, &d->n_records);
	if (rc < 0)
		goto dberr;
	rc = store_aside_count(d->env->store, d->cid, &d->n_aside);
	if (rc < 0)
		goto dberr;
	rc = 0;
	goto out;
dberr:
	snprintf(err, errlen, "device %s: reading saved state: %s", d->cid,
		 store_errmsg(d->env->store));
out:
	proto_arena_free(&a);
	return rc;
}

/* D33: what the validator accepts in a message's cid, so that whatever a
 * device is called, its own messages are valid. */
static bool cid_ok(const char *cid, size_t n)
{
	if (n < 1 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)cid[i] < 0x21 || (unsigned char)cid[i] > 0x7E)
			return false;
	return true;
}

int dev_new(dev_env *env, const dev_opts *opts, dev **out, char *err,
	    size_t errlen)
{
	dev *d;
	size_t n;
	int rc;

	*out = NULL;
	n = opts->cid ? strlen(opts->cid) : 0;
	if (!cid_ok(opts->cid, n)) {
		char shown[200];
		proto_esc_text(shown, sizeof shown, opts->cid, n, false);
		snprintf(err, errlen,
			 "cid \"%s\": a cid is 1 to 64 printable ASCII "
			 "characters (0x21-0x7E), no spaces (docs/protocol.md "
			 "D33)", shown);
		return SIM_EINVAL;
	}
	if (!opts->server_url || !*opts->server_url) {
		snprintf(err, errlen, "device %s: no server URL", opts->cid);
		return SIM_EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return SIM_ENOMEM;
	d->env = env;
	memcpy(d->cid, opts->cid, n + 1);
	d->url = strdup(opts->server_url);
	if (!d->url) {
		free(d);
		return SIM_ENOMEM;
	}
	d->src_addr = opts->source_addr && *opts->source_addr
		       ? opts->source_addr : NULL;
	d->interval_s = opts->interval_s > 0 ? opts->interval_s : 3;
	d->jitter = opts->jitter > 0 ? (opts->jitter < 0.5 ? opts->jitter : 0.5)
		    : 0;
	d->jitter_rng = 1469598103934665603ULL; /* FNV-1a of the cid */
	for (const char *c = d->cid; *c; c++)
		d->jitter_rng = (d->jitter_rng ^ (unsigned char)*c) *
				1099511628211ULL;
	if (!d->jitter_rng)
		d->jitter_rng = 1;
	snprintf(d->app_version, sizeof(d->app_version), "%s",
		 opts->app_version ? opts->app_version : "V1.0.0");
	d->reupload_mode = 2; /* idle, the document's default */
	d->reupload_secs = 2 * 3600;
	rc = load_state(d, err, errlen);
	if (rc < 0)
		goto fail;
	/* --server is the device's web setting (§1): a new value given by the
	 * person running camsim replaces an address the server set earlier;
	 * the same value as last time leaves the server's choice alone. */
	char *seed = NULL;
	rc = store_kv_get(env->store, d->cid, "url_setting", &seed);
	if (rc < 0)
		goto dberr;
	if (!seed || strcmp(seed, opts->server_url)) {
		char *u = strdup(opts->server_url);
		store_begin(env->store);
		rc = store_kv_set(env->store, d->cid, "url_setting", opts->server_url);
		if (rc == 0)
			rc = store_kv_set(env->store, d->cid, "url", opts->server_url);
		if (rc == 0)
			rc = store_commit(env->store);
		if (rc < 0 || !u) {
			store_rollback(env->store);
			free(u);
			free(seed);
			rc = rc < 0 ? rc : SIM_ENOMEM;
			goto dberr;
		}
		free(d->url);
		d->url = u;
	}
	free(seed);
	*out = d;
	return 0;
dberr:
	snprintf(err, errlen, "device %s: saving the server address: %s", d->cid,
		 store_errmsg(env->store));
fail:
	dev_free(d);
	return rc;
}

static void outbox_clear(dev *d)
{
	dev_out *o, *n;

	for (o = d->outbox; o; o = n) {
		n = o->next;
		free(o->body);
		free(o);
	}
	d->outbox = d->outbox_tail = NULL;
	d->n_outbox = 0;
}

void dev_power_off(dev *d)
{
	if (d->state == DEV_OFF)
		return;
	loop *l = d->env->loop;
	if (d->ctrl_http)
		loop_http_cancel(l, d->ctrl_http);
	d->ctrl_http = NULL;
	if (d->ctrl_msg) {
		free(d->ctrl_msg->body);
		free(d->ctrl_msg);
		d->ctrl_msg = NULL;
	}
	if (d->dl_http)
		loop_http_cancel(l, d->dl_http);
	d->dl_http = NULL;
	loop_timer_stop(l, &d->hb_timer);
	outbox_clear(d);
	dev__hw_stop(d);
	d->queries = 0;
	d->hb_due = d->batch_chain = d->reboot_pending = false;
	d->quiet = false;
	d->state = DEV_OFF;
	dev__event(d, DEV_EV_OFF, "powered off");
}

void dev_free(dev *d)
{
	if (!d)
		return;
	if (d->state != DEV_OFF) {
		d->env->on_event = NULL; /* no events from a dying device */
		dev_power_off(d);
	}
	dev__library_free(d);
	proto_arena_free(&d->strat_arena);
	dev__events_clear(d);
	free(d->thermal);
	free(d->url);
	free(d);
}

static void hb_fire(loop_timer *t);
static void ctrl_done(void *ud, const loop_http_res *r);

void dev_quiesce(dev *d)
{
	if (d->state == DEV_OFF || d->quiet)
		return;
	d->quiet = true;
	d->hb_due = false;
	loop_timer_stop(d->env->loop, &d->hb_timer);
	dev__hw_quiesce(d);
	if (d->ctrl_http && loop_http_waiting(d->ctrl_http)) {
		loop_http_cancel(d->env->loop, d->ctrl_http);
		d->ctrl_http = NULL;
		ctrl_done(d, NULL); /* then the queue, as never sent */
	} else {
		dev__pump(d);
	}
}

int dev_power_on(dev *d, char *err, size_t errlen)
{
	int rc;

	if (d->state != DEV_OFF) {
		snprintf(err, errlen, "device %s is already on", d->cid);
		return SIM_ESTATE;
	}
	/* A boot reads back what was saved, as firmware does after a power
	 * cut: whatever was not saved is gone. */
	rc = load_state(d, err, errlen);
	if (rc < 0)
		return rc;
	d->state = DEV_ON;
	d->boot_utc = dev__now_s(d);
	d->hb_timer.fn = hb_fire;
	dev__event(d, DEV_EV_BOOT, "%s", d->app_version);
	dev__records_changed(d);
	dev__schedule_hb(d, 0);
	return 0;
}

void dev__reboot(dev *d, const char *why)
{
	char err[256];

	dev_power_off(d);
	if (dev_power_on(d, err, sizeof(err)) < 0)
		dev__event(d, DEV_EV_ERROR, "reboot (%s) failed: %s", why, err);
}

void dev_network(dev *d, bool up)
{
	if (d->net_down == !up)
		return;
	d->net_down = !up;
	dev__event(d, DEV_EV_NET, up ? "up" : "down");
	if (up)
		dev__records_changed(d);
}

void dev_set_clock(dev *d, int64_t utc_s, bool has_zone, int64_t zone_s)
{
	d->clock_off_ms = utc_s * 1000 - loop_now(d->env->loop);
	if (has_zone)
		d->tz_s = zone_s;
	store_begin(d->env->store);
	dev__save_kv_int(d, "clock_off_ms", d->clock_off_ms);
	dev__save_kv_int(d, "tz", d->tz_s);
	if (store_commit(d->env->store) < 0)
		store_rollback(d->env->store);
	dev__event(d, DEV_EV_CLOCK, "clock %" PRId64 " zone %" PRId64, utc_s,
		   d->tz_s);
	if (d->state != DEV_OFF)
		dev__records_changed(d);
}

/* ---------------------------------------------------------------- transcript */

/* What a server sent, each of its lines after prefix, with anything a
 * terminal would act on escaped (a transcript is read with cat and less). */
static void tr_lines(FILE *f, const char *prefix, const char *s, size_t n)
{
	const char *end;

	if (!s)
		s = "", n = 0;
	end = s + n;

	do {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
		size_t need = proto_esc_text(NULL, 0, s, len, false);
		char *e = malloc(need + 1);
		if (!e) {
			fprintf(f, "%s(%zu bytes; out of memory to show them)\n",
				prefix, len);
		} else {
			proto_esc_text(e, need + 1, s, len, false);
			fprintf(f, "%s%s\n", prefix, e);
			free(e);
		}
		s = nl ? nl + 1 : end;
	} while (s < end);
}

void dev__transcript(dev *d, const char *method, const char *url,
		     const char *kind, bool expect_100, const char *body,
		     size_t len, const loop_http_res *r, const dev_reply *reply)
{
	FILE *f = d->env->transcript;
	time_t t;
	struct tm tm;
	char when[32];

	if (d->env->on_exchange) {
		dev_exchange x = {.method = method, .url = url, .kind = kind,
				  .expect_100 = expect_100, .body = body,
				  .len = len, .res = r, .fault = d->fault_text,
				  .reply = reply};
		d->env->on_exchange(d->env->exchange_ud, d, &x);
	}
	if (!f)
		return;
	t = (time_t)(r ? r->started / 1000 : loop_now(d->env->loop) / 1000);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "### %s %s %s %s (%s)\n", when, d->cid, method, url, kind);
	if (body) {
		fprintf(f, "> Content-Type: application/json\n");
		if (expect_100)
			fprintf(f, "> Expect: 100-continue\n");
		fprintf(f, ">\n> %.*s\n", (int)len, body);
	}
	if (d->fault_text)
		fprintf(f, "! fault injection: %s\n", d->fault_text);
	if (!r) {
		fprintf(f, "! not sent: %s\n\n", d->fault_text ? "dropped"
			: d->quiet ? "the device is stopping" : "network down");
	} else if (r->fail != LOOP_HTTP_OK) {
		fprintf(f, "! %s after %.1f ms\n\n", r->error, r->t_total_ms);
	} else {
		fprintf(f, "< %ld%s; connect %.1f ms, first byte %.1f ms, total "
			   "%.1f ms\n", r->status,
			r->got_100 ? " (after 100 Continue)" : "",
			r->t_connect_ms, r->t_first_byte_ms, r->t_total_ms);
		if (r->headers && *r->headers) {
			const char *p = r->headers;
			while (*p) {
				const char *e = strpbrk(p, "\r\n");
				size_t n = e ? (size_t)(e - p) : strlen(p);
				if (n)
					tr_lines(f, "< ", p, n);
				p += n;
				while (*p == '\r' || *p == '\n')
					p++;
			}
		}
		if (r->status == 200) {
			fputs("<\n", f);
			tr_lines(f, "< ", r->body, r->len);
			fputs("\n", f);
		}
		else
			fprintf(f, "< (body not read: status is not 200)\n\n");
	}
	fflush(f);
}

/* ---------------------------------------------------------------- faults */

/* The messages a device sends as the result of a command or a query. */
static bool is_result(proto_kind k)
{
	return k != PROTO_HEARTBEAT && k != PROTO_SNAPSHOT && k != PROTO_ALARM &&
	       k != PROTO_REPLY && k != PROTO_KIND_NONE;
}

int dev_fault(dev *d, dev_fault_kind f, const char *kind)
{
	proto_kind k = PROTO_KIND_NONE;

	if (f == DEV_FAULT_CUT_REPLY) {
		d->fault_cut = true;
		dev__event(d, DEV_EV_ERROR, "fault armed: the next reply that "
			   "carries a command will be cut");
		return 0;
	}
	for (int i = PROTO_KIND_NONE + 1; kind && i < PROTO_KIND_COUNT; i++)
		if (!strcmp(proto_kind_name((proto_kind)i), kind))
			k = (proto_kind)i;
	if (kind && !is_result(k))
		return SIM_EINVAL;
	d->fault_drop = true;
	d->fault_kind = k;
	dev__event(d, DEV_EV_ERROR, "fault armed: the next %s will be lost",
		   kind ? kind : "result message");
	return 0;
}

/* ---------------------------------------------------------------- control channel */

int dev__send(dev *d, const proto_msg *m, dev_out_kind what, int64_t seq,
	      int64_t upgrade_error)
{
	dev_out *o;

	if (d->state == DEV_OFF)
		return SIM_ESTATE;
	if (d->n_outbox >= DEV_OUTBOX_MAX) {
		/* A server that answers every message with more commands
		 * cannot grow the queue without bound. */
		dev__event(d, DEV_EV_ERROR, "outgoing queue full (%d): %s dropped",
			   DEV_OUTBOX_MAX, proto_kind_name(m->kind));
		return SIM_ENOMEM;
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return SIM_ENOMEM;
	o->body = proto_build(m, d->env->prof);
	if (!o->body) {
		free(o);
		return SIM_ENOMEM;
	}
	o->len = strlen(o->body);
	o->kind = m->kind;
	o->what = what;
	o->seq = seq;
	o->upgrade_error = upgrade_error;
	if (d->outbox_tail)
		d->outbox_tail->next = o;
	else
		d->outbox = o;
	d->outbox_tail = o;
	d->n_outbox++;
	dev__pump(d);
	return 0;
}

void dev__schedule_hb(dev *d, int64_t delay_ms)
{
	d->hb_timer.fn = hb_fire;
	d->slot_due = loop_now(d->env->loop) + (delay_ms > 0 ? delay_ms : 0);
	loop_timer_at(d->env->loop, &d->hb_timer,
		      loop_now(d->env->loop) + (delay_ms > 0 ? delay_ms : 0));
}

/* The gap to the next heartbeat slot, ms: the interval, drawn around it
 * by dev_opts.jitter (xorshift64: cheap, and the same per cid each run). */
static int64_t hb_gap_ms(dev *d)
{
	int64_t ms = d->interval_s * 1000;
	uint64_t x = d->jitter_rng;
	double u;

	if (d->jitter <= 0)
		return ms;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	d->jitter_rng = x;
	u = (double)(x >> 11) / (double)(1ULL << 53) * 2.0 - 1.0;
	return ms + (int64_t)(u * d->jitter * (double)ms);
}

static void hb_fire(loop_timer *t)
{
	dev *d = container_of(t, dev, hb_timer);
	int64_t due = t->due; /* re-arming below moves t->due on */

	if (d->state != DEV_ON)
		return; /* paused by an upgrade; resumed when it ends */
	/* Fixed rate: the next slot counts from this one, not from when the
	 * exchange ends, so a slow server does not stretch the interval. */
	loop_timer_at(d->env->loop, &d->hb_timer, due + hb_gap_ms(d));
	if (d->batch_chain)
		return; /* §7: the chain replaces heartbeats until it ends */
	d->hb_due = true;
	d->slot_due = due;
	dev__pump(d);
}

void dev__heartbeat_msg(dev *d, proto_msg *m, int64_t error)
{
	memset(m, 0, sizeof(*m));
	m->kind = error ? PROTO_UPGRADE_RESULT : PROTO_HEARTBEAT;
	proto_heartbeat *h = &m->u.heartbeat;
	h->app_version = d->app_version;
	h->cid = d->cid;
	h->has_seq = h->has_uptime = h->has_type = true;
	h->seq = d->seq_pending ? d->seq_val : dev__now_s(d);
	h->uptime = d->boot_utc;
	h->type = error ? 6 : 3;
	h->has_error = error != 0;
	h->error = error;
}

/* Fills the slot: a pending query result takes it (D9), else the
 * heartbeat; with query_beside_heartbeat both go, heartbeat first. */
static void fill_slot(dev *d)
{
	proto_msg m;
	proto_arena a = PROTO_ARENA_INIT;
	unsigned q = d->queries & (unsigned)-(int)d->queries; /* lowest bit */

	d->hb_due = false;
	if (d->env->on_slot)
		d->env->on_slot(d->env->event_ud, d,
				loop_now(d->env->loop) - d->slot_due);
	if (!q || d->env->prof->query_beside_heartbeat) {
		dev__heartbeat_msg(d, &m, 0);
		dev__send(d, &m, OUT_HEARTBEAT, m.u.heartbeat.seq, 0);
	}
	if (q) {
		d->queries &= ~q;
		if (dev__build_query(d, q, &m, &a) == 0)
			dev__send(d, &m, OUT_PLAIN, 0, 0);
		else
			dev__event(d, DEV_EV_ERROR, "could not build a query result");
	}
	proto_arena_free(&a);
}

void dev__pump(dev *d)
{
	while (d->state != DEV_OFF && !d->ctrl_http) {
		dev_out *o = d->outbox;
		if (!o) {
			if (d->quiet)
				return; /* no new slot, no reboot */
			if (d->hb_due && d->state == DEV_ON) {
				fill_slot(d); /* queues, and recurses into pump */
				return;
			}
			if (d->reboot_pending) {
				d->reboot_pending = false;
				dev__reboot(d, "reboot command");
			}
			return;
		}
		d->outbox = o->next;
		if (!d->outbox)
			d->outbox_tail = NULL;
		d->n_outbox--;
		o->next = NULL;
		d->ctrl_msg = o;
		dev__event_join(d, DEV_EV_SEND, "", proto_kind_name(o->kind));
		if (d->fault_drop && is_result(o->kind) &&
		    (d->fault_kind == PROTO_KIND_NONE || d->fault_kind == o->kind)) {
			d->fault_drop = false;
			d->fault_text = "the message was lost on its way to the "
					"server (fault injection: drop-result)";
			ctrl_done(d, NULL);
			continue;
		}
		if (d->net_down || d->quiet) {
			ctrl_done(d, NULL);
			continue;
		}
		loop_http_req req = {
			.url = d->url, .body = o->body, .len = o->len,
			.timeout_ms = d->env->http_timeout_ms,
			.connect_timeout_ms = d->env->connect_timeout_ms,
			.max_response = 64u << 20,
			.keep_headers = d->env->transcript ||
				(d->env->on_exchange && d->env->exchange_headers),
			.keep_alive = d->env->keep_alive,
			.source_addr = d->src_addr,
		};
		if (loop_http_start(d->env->loop, &req, ctrl_done, d,
				    &d->ctrl_http) < 0) {
			d->ctrl_http = NULL;
			ctrl_done(d, NULL);
		}
	}
}

/* The end of a control exchange: r NULL when it never left (network down
 * or no memory). */
static void ctrl_done(void *ud, const loop_http_res *r)
{
	dev *d = ud;
	dev_out *o = d->ctrl_msg;
	bool ok = r && r->fail == LOOP_HTTP_OK && r->status == 200;
	bool cut = false;
	dev_body b;
	const dev_reply *reply = NULL;

	d->ctrl_http = NULL;
	d->ctrl_msg = NULL;
	if (ok && d->fault_cut && !proto_json_blank(r->body, 0, r->len)) {
		/* a reply with something in it: the device never reads it */
		d->fault_cut = false;
		cut = true;
		ok = false;
		d->fault_text = "the device cut the connection before reading "
				"the reply, and applied nothing (fault "
				"injection: cut-reply)";
	}
	if (ok)
		reply = dev__body_read(d, r->body, r->len, &b);
	dev__transcript(d, "POST", d->url, proto_kind_name(o->kind), false,
			o->body, o->len, r, reply);
	d->fault_text = NULL;
	if (ok) {
		d->n_sent++;
		dev__event_join(d, DEV_EV_REPLY, "200 to ",
				proto_kind_name(o->kind));
		if (o->what == OUT_HEARTBEAT && d->seq_pending &&
		    o->seq == d->seq_val) {
			/* D7: delivered; back to the send time. */
			d->seq_pending = false;
			store_kv_set(d->env->store, d->cid, "seq_pending", NULL);
		}
	} else {
		d->n_failed++;
		if (cut)
			dev__event(d, DEV_EV_FAIL, "%s: reply cut (fault "
				   "injection)", proto_kind_name(o->kind));
		else if (!r)
			dev__event(d, DEV_EV_FAIL, "%s not sent: %s",
				   proto_kind_name(o->kind), d->net_down
				   ? "network down" : d->quiet ? "the device is "
				   "stopping" : "lost (fault injection)");
		else if (r->fail != LOOP_HTTP_OK)
			dev__event(d, DEV_EV_FAIL, "%s: %s",
				   proto_kind_name(o->kind), r->error);
		else
			dev__event(d, DEV_EV_FAIL, "%s: status %ld (only 200 is "
				   "success; body not read)",
				   proto_kind_name(o->kind), r->status);
	}
	if (o->what == OUT_BATCH)
		d->batch_chain = false; /* a new batch in the body sets it */
	if (o->what == OUT_UPGRADE && d->state == DEV_UPGRADING &&
	    o->upgrade_error != 6) {
		/* Resume before the reply is applied: it may offer the next
		 * upgrade (D42). */
		d->state = DEV_ON;
		dev__event(d, DEV_EV_UPGRADE, "resumed after error %" PRId64,
			   o->upgrade_error);
		dev__schedule_hb(d, d->interval_s * 1000);
		dev__upload_pump(d);
	}
	if (ok) {
		dev__body_apply(d, &b);
		dev__body_free(&b);
	}
	if (o->what == OUT_BATCH && !d->batch_chain && d->state == DEV_ON)
		dev__schedule_hb(d, d->interval_s * 1000); /* §7: resume */
	/* a device stopping (dev_quiesce) does not restart into it */
	if (o->what == OUT_UPGRADE && d->state == DEV_UPGRADING && !d->quiet) {
		if (o->upgrade_error == 6) {
			snprintf(d->app_version, sizeof(d->app_version), "%s",
				 d->upgrade_version);
			store_kv_set(d->env->store, d->cid, "app_version",
				     d->app_version);
			dev__event(d, DEV_EV_UPGRADE, "restarting into %s",
				   d->app_version);
			free(o->body);
			free(o);
			dev__reboot(d, "upgrade");
			return;
		}
	}
	free(o->body);
	free(o);
	dev__pump(d);
}

const dev_reply *dev__body_read(dev *d, const char *body, size_t len,
				dev_body *b)
{
	memset(b, 0, sizeof(*b)); /* an empty arena and report */
	b->blank = proto_json_blank(body, 0, len);
	if (b->blank)
		return NULL;
	b->view.prof = d->env->prof;
	if (proto_json_parse(body, len, &b->j, b->why, sizeof(b->why)) < 0)
		return &b->view;
	proto_decode(b->j, PROTO_TO_DEVICE, d->env->prof, &b->a, &b->m, &b->rep);
	b->view.json = b->j;
	b->view.msg = &b->m;
	b->view.rep = &b->rep;
	return &b->view;
}

void dev__body_apply(dev *d, dev_body *b)
{
	if (b->blank)
		return; /* D3: nothing to do */
	if (!b->j) {
		dev__event(d, DEV_EV_REJECT, "reply body is not JSON: %s", b->why);
		return;
	}
	if (b->m.kind != PROTO_REPLY) {
		dev__event(d, DEV_EV_REJECT, "reply body is not a command reply%s%s",
			   b->rep.n ? ": " : "", b->rep.n ? b->rep.v[0].msg : "");
		return;
	}
	dev__apply_reply(d, &b->m.u.reply, &b->rep);
}

void dev__body_free(dev_body *b)
{
	cJSON_Delete(b->j);
	b->j = NULL;
	proto_report_free(&b->rep);
	proto_arena_free(&b->a);
}

void dev__apply_body(dev *d, const char *body, size_t len)
{
	dev_body b;

	dev__body_read(d, body, len, &b);
	dev__body_apply(d, &b);
	dev__body_free(&b);
}

/* ---------------------------------------------------------------- status */

typedef struct aside_ctx {
	cJSON *arr;
	int64_t skip; /* the oldest ones beyond the listed 100 */
} aside_ctx;

static int aside_one(const store_aside *r, void *ud)
{
	aside_ctx *c = ud;
	cJSON *x;

	if (c->skip > 0) {
		c->skip--;
		return 0;
	}
	if (!(x = cJSON_CreateObject()))
		return SIM_ENOMEM;
	cJSON_AddItemToArray(c->arr, x);
	if (!cJSON_AddNumberToObject(x, "id", (double)r->id) ||
	    !cJSON_AddNumberToObject(x, "time", (double)r->time) ||
	    !cJSON_AddNumberToObject(x, "rejects", (double)r->rejects) ||
	    !cJSON_AddStringToObject(x, "reason", r->reason) ||
	    !cJSON_AddStringToObject(x, "body", r->body))
		return SIM_ENOMEM;
	return 0;
}

cJSON *dev_aside_json(dev *d)
{
	cJSON *o = cJSON_CreateObject();
	aside_ctx c = {0};
	int64_t n = 0;

	if (!o)
		return NULL;
	if (store_aside_count(d->env->store, d->cid, &n) < 0)
		goto fail;
	d->n_aside = n;
	c.skip = n > 100 ? n - 100 : 0;
	if (!cJSON_AddStringToObject(o, "cid", d->cid) ||
	    !cJSON_AddNumberToObject(o, "count", (double)n) ||
	    !(c.arr = cJSON_AddArrayToObject(o, "records")))
		goto fail;
	if (store_aside_foreach(d->env->store, d->cid, aside_one, &c) != 0)
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

size_t dev_mem_bytes(const dev *d)
{
	size_t n = sizeof(*d) + (d->url ? strlen(d->url) + 1 : 0);

	n += d->ev_cap;
	if (d->thermal)
		n += DEV_THERMAL_MAX * sizeof(*d->thermal);
	n += d->cap_lib * (sizeof(dev_person) + sizeof(recog_desc));
	n += d->strat_arena.bytes + d->n_outbox * sizeof(dev_out);
	return n;
}

cJSON *dev_status_json(const dev *d)
{
	cJSON *o = cJSON_CreateObject(), *ev, *cfg;
	proto_msg m;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "cid", d->cid);
	cJSON_AddStringToObject(o, "state", d->state == DEV_OFF ? "off"
				: d->state == DEV_UPGRADING ? "upgrading" : "on");
	cJSON_AddBoolToObject(o, "network", !d->net_down);
	cJSON_AddStringToObject(o, "server", d->url);
	cJSON_AddStringToObject(o, "app_version", d->app_version);
	cJSON_AddNumberToObject(o, "uptime", (double)d->boot_utc);
	cJSON_AddNumberToObject(o, "clock", (double)dev__now_s(d));
	cJSON_AddNumberToObject(o, "time_zone", (double)d->tz_s);
	cJSON_AddNumberToObject(o, "time_interval", (double)d->interval_s);
	if (d->seq_pending)
		cJSON_AddNumberToObject(o, "seq_pending", (double)d->seq_val);
	cJSON_AddNumberToObject(o, "library_size", (double)d->n_lib);
	cJSON_AddNumberToObject(o, "library_capacity", (double)d->env->capacity);
	cJSON_AddNumberToObject(o, "strategies", (double)d->n_strat);
	cJSON_AddNumberToObject(o, "offline_records", (double)d->n_records);
	cJSON_AddNumberToObject(o, "records_dropped", (double)d->records_dropped);
	cJSON_AddNumberToObject(o, "records_set_aside", (double)d->n_aside);
	cJSON_AddNumberToObject(o, "reupload_mode", (double)d->reupload_mode);
	cJSON_AddBoolToObject(o, "relay", d->relay_on);
	cJSON_AddBoolToObject(o, "door_open", d->door_open);
	cJSON_AddNumberToObject(o, "sent", (double)d->n_sent);
	cJSON_AddNumberToObject(o, "failed", (double)d->n_failed);
	memset(&m, 0, sizeof(m));
	m.kind = PROTO_CONFIG_REPORT;
	m.u.config_report.has_config = true;
	m.u.config_report.config = d->cfg;
	cfg = proto_encode(&m, &proto_profile_strict);
	if (cfg) {
		cJSON *c = cJSON_DetachItemFromObject(cfg, "config");
		if (c)
			cJSON_AddItemToObject(o, "config", c);
		cJSON_Delete(cfg);
	}
	ev = cJSON_AddArrayToObject(o, "events");
	uint32_t off = 0;
	for (size_t i = 0; ev && i < d->n_ev; i++) {
		dev_event one, *e = &one;
		ev_read(d, &off, &one);
		cJSON *x = cJSON_CreateObject();
		if (!x)
			break;
		cJSON_AddNumberToObject(x, "t", (double)e->t);
		cJSON_AddStringToObject(x, "kind", dev_event_name(e->kind));
		cJSON_AddStringToObject(x, "text", e->text);
		cJSON_AddItemToArray(ev, x);
	}
	return o;
}
