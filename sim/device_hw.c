/* device_hw.c -- a device's virtual hardware and what a face in front of
 * it sets off: capture gates, recognition (recog.h), thermal reading, mask
 * check, the pass decision (strategy.h), relay, speaker, the snapshot
 * upload with Expect: 100-continue, and the offline record store with its
 * retransmission (D26).  Sockets only through the loop. */
#include "device_int.h"
#include "b64.h"
#include "strategy.h"
#include "utf8.h"
#include "vcam.h"

#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* One snapshot upload in flight: a new record or a stored one being
 * retransmitted (resend).  record is its id in the offline store, which
 * is the outbox: a new record is written there before its upload starts
 * and deleted after the 200, so a crash mid-upload loses nothing; 0 when
 * the store could not take it. */
typedef struct dev_upload {
	dev *d;
	loop_http *http;
	char *body;
	size_t len;
	int64_t time;
	int64_t record;
	bool resend;
	struct dev_upload *next;
} dev_upload;

/* A stored record whose upload the server refused (a final status other
 * than 200) this many times is set aside (D26). */
#define DEV_REJECT_MAX 3

/* A person who stays in view: interval captures (person_type 2). */
struct dev_capture {
	dev *d;
	loop_timer timer;
	img frame;
	int64_t until;       /* loop ms */
	proto_snap_result result;
	char person_id[36], person_name[64], sex[8];
};

/* ---------------------------------------------------------------- relay, speaker */

static void relay_off(loop_timer *t)
{
	dev *d = container_of(t, dev, relay_timer);

	d->relay_on = false;
	dev__event(d, DEV_EV_RELAY, "off");
}

void dev__relay_pulse(dev *d, int64_t duration_100ms, const char *why)
{
	if (duration_100ms < 1)
		duration_100ms = 1;
	d->relay_on = true;
	d->relay_timer.fn = relay_off;
	loop_timer_at(d->env->loop, &d->relay_timer,
		      loop_now(d->env->loop) + duration_100ms * 100);
	dev__event(d, DEV_EV_RELAY, "on for %" PRId64 " ms (%s)",
		   duration_100ms * 100, why);
}

void dev__say(dev *d, const char *text)
{
	dev__event(d, DEV_EV_VOICE, "%s", text);
}

/* ---------------------------------------------------------------- door, thermal */

void dev_door(dev *d, bool open)
{
	proto_msg m;

	if (d->door_open == open)
		return;
	d->door_open = open;
	dev__event(d, DEV_EV_DOOR, open ? "open" : "closed");
	if (!open || d->relay_on || d->state == DEV_OFF)
		return;
	/* Opened while the relay held it shut: forced open, §13 alarm. */
	memset(&m, 0, sizeof(m));
	m.kind = PROTO_ALARM;
	proto_alarm *a = &m.u.alarm;
	a->has_alarm = a->has_seq = a->has_time = a->has_alarmtype = true;
	a->seq = ++d->alarm_seq;
	a->time = dev__now_s(d);
	a->alarmtype = 1;
	a->alarmdata = "";
	if (d->env->prof->alarm_cid)
		a->cid = d->cid;
	dev__save_kv_int(d, "alarm_seq", d->alarm_seq);
	dev__send(d, &m, OUT_PLAIN, 0, 0);
}

int dev_thermal_script(dev *d, const double *readings, size_t n)
{
	if (n > DEV_THERMAL_MAX - d->n_thermal)
		return SIM_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!(readings[i] >= 0 && readings[i] <= 120))
			return SIM_EINVAL;
	}
	if (!n)
		return 0;
	if (!d->thermal &&
	    !(d->thermal = malloc(DEV_THERMAL_MAX * sizeof(*d->thermal))))
		return SIM_ENOMEM;
	memcpy(d->thermal + d->n_thermal, readings, n * sizeof(*readings));
	d->n_thermal += n;
	return 0;
}

static double thermal_next(dev *d, const dev_face_in *in)
{
	double raw = 36.5;

	if (in->has_temperature) {
		raw = in->temperature;
	} else if (d->n_thermal) {
		raw = d->thermal[0];
		memmove(d->thermal, d->thermal + 1, --d->n_thermal * sizeof(double));
		if (!d->n_thermal) {
			/* nothing queued: an idle device holds no queue */
			free(d->thermal);
			d->thermal = NULL;
		}
	}
	/* Skin reads cold outdoors; the outdoor scene compensates (D47). */
	if (d->cfg.temperature.environment == 1)
		raw += 0.4;
	raw += d->cfg.temperature.offset;
	return round(raw * 10) / 10;
}

/* ---------------------------------------------------------------- records */

static int64_t next_local_time(const dev *d, int secs_of_day)
{
	int64_t local = dev__local_s(d);
	int64_t sod = ((local % 86400) + 86400) % 86400;
	int64_t delta = secs_of_day - sod;

	if (delta <= 0)
		delta += 86400;
	return delta * 1000;
}

static void reup_fire(loop_timer *t);

int64_t dev_offline_records(const dev *d)
{
	return d->n_records;
}

void dev__records_changed(dev *d)
{
	loop *l = d->env->loop;

	d->reup_timer.fn = reup_fire;
	if (d->state != DEV_ON || d->resending || d->quiet)
		return;
	if (d->n_records == 0) {
		loop_timer_stop(l, &d->reup_timer);
		return;
	}
	if (d->reupload_mode == 1)
		loop_timer_at(l, &d->reup_timer,
			      loop_now(l) + next_local_time(d, d->reupload_secs));
	else if (!loop_timer_armed(&d->reup_timer))
		loop_timer_at(l, &d->reup_timer, loop_now(l) + d->env->idle_reupload_ms);
}

void dev__pass_recorded(dev *d)
{
	/* §6: idle means no new pass record for 3 minutes; a pass stops a
	 * run and restarts the wait. */
	if (d->reupload_mode != 2 || d->quiet)
		return;
	d->resending = false;
	d->reup_timer.fn = reup_fire;
	if (d->n_records > 0)
		loop_timer_at(d->env->loop, &d->reup_timer,
			      loop_now(d->env->loop) + d->env->idle_reupload_ms);
}

static void reup_fire(loop_timer *t)
{
	dev *d = container_of(t, dev, reup_timer);

	if (d->state != DEV_ON || d->quiet)
		return;
	d->resending = true;
	d->resend_after = 0;
	dev__event(d, DEV_EV_RESEND, "%s retransmission of %" PRId64 " records",
		   d->reupload_mode == 1 ? "scheduled" : "idle", d->n_records);
	dev__upload_pump(d);
}

/* Adds a record to the store and keeps the device's counts and events;
 * *id (may be NULL) gets its id, 0 when the store refused it.  what says
 * which record failed, for the error event.  Returns whether it is stored. */
static bool record_add(dev *d, const char *body, size_t len, int64_t time,
		       int64_t *id, const char *what)
{
	int64_t dropped = 0;
	int rc = store_rec_add(d->env->store, d->cid, time, body, len,
			       d->env->record_cap, id, &dropped);

	if (rc < 0) {
		if (id)
			*id = 0;
		dev__event(d, DEV_EV_ERROR, "record of %" PRId64 " %s: %s",
			   time, what, store_errmsg(d->env->store));
		return false;
	}
	d->n_records += 1 - dropped;
	d->records_dropped += dropped;
	if (dropped)
		dev__event(d, DEV_EV_DROP, "%" PRId64 " oldest dropped (%" PRId64
			   " in all); %" PRId64 " kept", dropped,
			   d->records_dropped, d->n_records);
	return true;
}

static void store_record(dev *d, const dev_upload *u)
{
	if (!record_add(d, u->body, u->len, u->time, NULL, "not stored"))
		return;
	dev__event(d, DEV_EV_RECORD, "record of %" PRId64 " stored; %" PRId64
		   " waiting", u->time, d->n_records);
	dev__records_changed(d);
}

/* Writes a new record to the outbox before its upload: *id gets its id,
 * 0 when the store refused it (the upload goes ahead; should it fail, the
 * record is stored then, as before the outbox). */
static void outbox_write(dev *d, const char *body, size_t len, int64_t time,
			 int64_t *id)
{
	if (record_add(d, body, len, time, id, "not written before its upload"))
		dev__records_changed(d); /* a run meets it in flight, skips it */
}

/* The server refused stored record u->record (status): one more reject;
 * at DEV_REJECT_MAX it is set aside, kept for inspection, and no longer
 * holds up the records behind it. */
static void record_rejected(dev *d, const dev_upload *u, long status)
{
	char why[96];
	int64_t n = 0;

	if (store_rec_reject(d->env->store, d->cid, u->record, &n) < 0)
		return; /* dropped meanwhile (cap) */
	if (n < DEV_REJECT_MAX)
		return;
	snprintf(why, sizeof why, "refused %" PRId64 " times, last with "
		 "status %ld", n, status);
	dev__record_aside(d, u->record, u->time, why);
}

void dev__record_aside(dev *d, int64_t id, int64_t time, const char *why)
{
	if (store_rec_aside(d->env->store, d->cid, id, why,
			    d->env->record_cap) < 0) {
		dev__event(d, DEV_EV_ERROR, "record of %" PRId64 " not set "
			   "aside: %s", time, store_errmsg(d->env->store));
		return;
	}
	d->n_records--;
	store_aside_count(d->env->store, d->cid, &d->n_aside);
	dev__event(d, DEV_EV_RECORD, "record of %" PRId64 " set aside (%s); "
		   "%" PRId64 " set aside, %" PRId64 " waiting", time, why,
		   d->n_aside, d->n_records);
}

static bool in_flight(const dev *d, int64_t record)
{
	for (const dev_upload *u = d->uploads; u; u = u->next)
		if (u->record == record)
			return true;
	return false;
}

static void upload_free(dev *d, dev_upload *u)
{
	dev_upload **pp;

	for (pp = &d->uploads; *pp; pp = &(*pp)->next) {
		if (*pp == u) {
			*pp = u->next;
			d->n_uploads--;
			break;
		}
	}
	free(u->body);
	free(u);
}

static void upload_done(void *ud, const loop_http_res *r)
{
	dev_upload *u = ud;
	dev *d = u->d;
	bool ok = r && r->fail == LOOP_HTTP_OK && r->status == 200;
	const dev_reply *reply = NULL;
	dev_body b;

	u->http = NULL;
	if (ok)
		reply = dev__body_read(d, r->body, r->len, &b);
	dev__transcript(d, "POST", d->url, u->resend ? "snapshot (resend)"
			: "snapshot", true, u->body, u->len, r, reply);
	if (ok) {
		d->n_sent++;
		dev__event(d, DEV_EV_REPLY, "200 to snapshot of %" PRId64, u->time);
	} else {
		d->n_failed++;
		dev__event(d, DEV_EV_FAIL, "snapshot of %" PRId64 ": %s", u->time,
			   !r ? (d->quiet ? "not sent: the device is stopping"
				 : "network down")
			   : r->fail != LOOP_HTTP_OK ? r->error
			   : "status is not 200");
	}
	/* A final status other than 200 is the server refusing this record;
	 * no answer at all says nothing about the record. */
	bool refused = r && r->fail == LOOP_HTTP_OK && r->status != 200;
	if (ok && u->record) {
		if (store_rec_del(d->env->store, d->cid, u->record) == 0)
			d->n_records--;
		dev__records_changed(d);
	} else if (refused && u->record) {
		record_rejected(d, u, r->status);
	}
	if (u->resend) {
		d->resend_busy = false;
		if (!ok && !refused && d->reupload_mode == 2) {
			/* idle: stop at the first failure and wait for
			 * the next 3 idle minutes (D26) */
			d->resending = false;
			dev__records_changed(d);
		}
	} else if (!ok && u->record) {
		dev__event(d, DEV_EV_RECORD, "record of %" PRId64 " stored; "
			   "%" PRId64 " waiting", u->time, d->n_records);
		dev__records_changed(d);
	} else if (!ok) {
		store_record(d, u);
	}
	if (ok) {
		dev__body_apply(d, &b);
		dev__body_free(&b);
	}
	bool resend = u->resend;
	upload_free(d, u);
	if (resend)
		dev__upload_pump(d); /* the run's next record */
}

static int upload_start(dev *d, char *body, size_t len, int64_t time,
			int64_t record, bool resend)
{
	dev_upload *u = calloc(1, sizeof(*u));

	if (!u) {
		free(body);
		return SIM_ENOMEM;
	}
	u->d = d;
	u->body = body;
	u->len = len;
	u->time = time;
	u->record = record;
	u->resend = resend;
	u->next = d->uploads;
	d->uploads = u;
	d->n_uploads++;
	if (resend)
		d->resend_busy = true;
	dev__event(d, resend ? DEV_EV_RESEND : DEV_EV_SEND,
		   "snapshot of %" PRId64, time);
	if (d->net_down || d->state != DEV_ON || d->quiet) {
		upload_done(u, NULL);
		return 0;
	}
	loop_http_req req = {
		.url = d->url, .body = body, .len = len, .expect_100 = true,
		.timeout_ms = d->env->http_timeout_ms,
		.connect_timeout_ms = d->env->connect_timeout_ms,
		.max_response = 64u << 20,
		.keep_headers = d->env->transcript ||
				(d->env->on_exchange && d->env->exchange_headers),
		.keep_alive = d->env->keep_alive,
		.source_addr = d->src_addr,
	};
	if (loop_http_start(d->env->loop, &req, upload_done, u, &u->http) < 0) {
		u->http = NULL;
		upload_done(u, NULL);
	}
	return 0;
}

/* Whether a stored record is a valid snapshot of d (why says what is
 * wrong otherwise). */
static bool record_valid(dev *d, const char *body, size_t len, char *why,
			 size_t whylen)
{
	proto_arena a = PROTO_ARENA_INIT;
	proto_msg m;
	char err[200];
	bool ok = false;

	if (proto_parse(body, len, PROTO_TO_SERVER, d->env->prof, &a, &m, err,
			sizeof err) < 0)
		snprintf(why, whylen, "invalid on reading back: %s", err);
	else if (m.kind != PROTO_SNAPSHOT)
		snprintf(why, whylen, "invalid on reading back: a %s, not a "
			 "snapshot", proto_kind_name(m.kind));
	else if (!m.u.snapshot.cid || strcmp(m.u.snapshot.cid, d->cid))
		snprintf(why, whylen, "invalid on reading back: cid \"%.40s\" "
			 "is not this device's", m.u.snapshot.cid ?
			 m.u.snapshot.cid : "");
	else
		ok = true;
	proto_arena_free(&a);
	return ok;
}

void dev__upload_pump(dev *d)
{
	int64_t id, time;
	char *body;
	size_t len;
	int rc;

	if (d->state != DEV_ON || !d->resending || d->resend_busy || d->quiet)
		return;
again:
	rc = store_rec_next(d->env->store, d->cid, d->resend_after, &id, &time,
			    &body, &len);
	if (rc == SIM_ENOTFOUND || rc < 0) {
		if (rc < 0 && rc != SIM_ENOTFOUND)
			dev__event(d, DEV_EV_ERROR, "reading stored records: %s",
				   store_errmsg(d->env->store));
		d->resending = false;
		dev__event(d, DEV_EV_RESEND, "run ended; %" PRId64 " records left",
			   d->n_records);
		loop_timer_stop(d->env->loop, &d->reup_timer);
		dev__records_changed(d);
		return;
	}
	d->resend_after = id;
	if (in_flight(d, id)) { /* its first upload is still going on */
		free(body);
		goto again;
	}
	/* What comes back from the disk is checked before it goes out: a
	 * record that is not this device's valid snapshot would be refused
	 * forever and hold up every record behind it. */
	char why[256];
	if (!record_valid(d, body, len, why, sizeof why)) {
		free(body);
		dev__record_aside(d, id, time, why);
		goto again;
	}
	/* Sent exactly as stored: the original `time` stays (D26). */
	upload_start(d, body, len, time, id, true);
}

void dev__hw_quiesce(dev *d)
{
	loop *l = d->env->loop;
	dev_upload *u, *next;

	loop_timer_stop(l, &d->reup_timer);
	if (d->capture)
		loop_timer_stop(l, &d->capture->timer);
	for (u = d->uploads; u; u = next) {
		next = u->next; /* upload_done frees u, and only u */
		if (u->http && loop_http_waiting(u->http)) {
			loop_http_cancel(l, u->http);
			u->http = NULL;
			upload_done(u, NULL);
		}
	}
}

void dev__hw_stop(dev *d)
{
	loop *l = d->env->loop;

	while (d->uploads) {
		dev_upload *u = d->uploads;
		if (u->http)
			loop_http_cancel(l, u->http);
		upload_free(d, u);
	}
	d->resending = d->resend_busy = false;
	loop_timer_stop(l, &d->reup_timer);
	d->reup_timer.fn = reup_fire;
	loop_timer_stop(l, &d->relay_timer);
	d->relay_on = false;
	if (d->capture) {
		loop_timer_stop(l, &d->capture->timer);
		img_free(&d->capture->frame);
		free(d->capture);
		d->capture = NULL;
	}
}

/* ---------------------------------------------------------------- snapshots */

/* The JSON body of a snapshot of frame with result r, taken now. */
static char *snapshot_body(dev *d, const img *frame, const proto_snap_result *r,
			   size_t *len, int64_t *time)
{
	img pic = {0};
	unsigned char *jpg = NULL;
	size_t jlen = 0;
	char *b64 = NULL, *body = NULL;
	proto_msg m;

	*time = dev__now_s(d);
	pic.w = frame->w;
	pic.h = frame->h;
	pic.px = malloc((size_t)frame->w * frame->h * 3);
	if (!pic.px)
		goto out;
	memcpy(pic.px, frame->px, (size_t)frame->w * frame->h * 3);
	if (d->cfg.face_cap.time_overlay == 1) {
		int64_t l = dev__local_s(d);
		int64_t days = l >= 0 ? l / 86400 : -((-l + 86399) / 86400);
		int64_t sod = l - days * 86400;
		/* civil from days (H. Hinnant) */
		int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
		int64_t doe = z - era * 146097;
		int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
		int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
		int64_t mp = (5 * doy + 2) / 153, dd = doy - (153 * mp + 2) / 5 + 1;
		int64_t mm = mp < 10 ? mp + 3 : mp - 9, yy = yoe + era * 400 + (mm <= 2);
		char text[80];
		snprintf(text, sizeof(text), "%04" PRId64 "-%02" PRId64 "-%02" PRId64
			 " %02" PRId64 ":%02" PRId64 ":%02" PRId64, yy, mm, dd,
			 sod / 3600, sod / 60 % 60, sod % 60);
		int scale = pic.w >= 480 ? 2 : 1;
		img_draw_text(&pic, 4, 4, scale, text);
	}
	if (img_encode_jpeg(&pic, 85, &jpg, &jlen) < 0)
		goto out;
	b64 = b64_encode(jpg, jlen, NULL);
	if (!b64)
		goto out;
	memset(&m, 0, sizeof(m));
	m.kind = PROTO_SNAPSHOT;
	proto_snapshot *s = &m.u.snapshot;
	const char *faces[1] = {b64};
	s->cid = d->cid;
	s->has_type = s->has_time = s->has_faces = s->has_result = true;
	s->type = 1;
	s->time = *time;
	s->faces = faces;
	s->n_faces = 1;
	s->result = *r;
	body = proto_build(&m, d->env->prof);
	if (body)
		*len = strlen(body);
out:
	img_free(&pic);
	free(jpg);
	free(b64);
	return body;
}

static void snapshot(dev *d, const img *frame, const proto_snap_result *r)
{
	size_t len = 0;
	int64_t time;
	char *body = snapshot_body(d, frame, r, &len, &time);

	if (!body) {
		dev__event(d, DEV_EV_ERROR, "snapshot not built: out of memory");
		return;
	}
	if (d->state == DEV_UPGRADING) {
		/* §8: uploads pause; the record waits in the offline store. */
		dev_upload u = {.d = d, .body = body, .len = len, .time = time};
		store_record(d, &u);
		free(body);
		return;
	}
	int64_t id = 0;
	outbox_write(d, body, len, time, &id);
	upload_start(d, body, len, time, id, false);
}

static void capture_fire(loop_timer *t)
{
	dev_capture *c = container_of(t, dev_capture, timer);
	dev *d = c->d;
	int64_t now = loop_now(d->env->loop);

	if (now > c->until || d->state == DEV_OFF) {
		img_free(&c->frame);
		free(c);
		d->capture = NULL;
		return;
	}
	dev__event(d, DEV_EV_FACE, "interval capture");
	snapshot(d, &c->frame, &c->result);
	loop_timer_at(d->env->loop, &c->timer,
		      now + d->cfg.face_cap.interval * 1000);
}

static void capture_start(dev *d, const img *frame, const proto_snap_result *r,
			  double stay_s)
{
	dev_capture *c;
	int64_t now = loop_now(d->env->loop);

	if (d->capture) { /* the previous person walked away */
		loop_timer_stop(d->env->loop, &d->capture->timer);
		img_free(&d->capture->frame);
		free(d->capture);
		d->capture = NULL;
	}
	if (stay_s < d->cfg.face_cap.interval)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->frame.px = malloc((size_t)frame->w * frame->h * 3);
	if (!c->frame.px) {
		free(c);
		return;
	}
	memcpy(c->frame.px, frame->px, (size_t)frame->w * frame->h * 3);
	c->frame.w = frame->w;
	c->frame.h = frame->h;
	c->d = d;
	c->until = now + (int64_t)(stay_s * 1000);
	c->result = *r;
	c->result.person_type = 2;
	if (r->person_id) {
		snprintf(c->person_id, sizeof(c->person_id), "%s", r->person_id);
		c->result.person_id = c->person_id;
	}
	if (r->person_name) {
		snprintf(c->person_name, sizeof(c->person_name), "%s", r->person_name);
		c->result.person_name = c->person_name;
	}
	if (r->sex) {
		snprintf(c->sex, sizeof(c->sex), "%s", r->sex);
		c->result.sex = c->sex;
	}
	c->timer.fn = capture_fire;
	d->capture = c;
	loop_timer_at(d->env->loop, &c->timer, now + d->cfg.face_cap.interval * 1000);
}

/* ---------------------------------------------------------------- a face */

/* The camera's k-th look at a person who stays in front of it (D56): the
 * frame moved by (3k, 2k) pixels, edges repeated, and 3k % brighter --
 * the small changes between real video frames that make a retry worth
 * it.  *out is malloc'd; SIM_ENOMEM. */
static int camera_look(const img *in, int k, img *out)
{
	int dx = 3 * k, dy = 2 * k;
	double gain = 1.0 + 0.03 * k;
	out->w = in->w;
	out->h = in->h;
	out->px = malloc((size_t)in->w * in->h * 3);
	if (!out->px)
		return SIM_ENOMEM;
	for (int y = 0; y < in->h; y++) {
		int sy = y - dy < 0 ? 0 : y - dy;
		for (int x = 0; x < in->w; x++) {
			int sx = x - dx < 0 ? 0 : x - dx;
			const uint8_t *p = in->px + ((size_t)sy * in->w + sx) * 3;
			uint8_t *o = out->px + ((size_t)y * in->w + x) * 3;
			for (int ch = 0; ch < 3; ch++) {
				double v = p[ch] * gain;
				o[ch] = (uint8_t)(v > 255 ? 255 : v);
			}
		}
	}
	return 0;
}

/* One face in front of the device, from the camera frame to the report. */
typedef struct face_pass {
	img frame;
	recog_match match;     /* the best look (recognition on) */
	const dev_person *p;   /* the library person matched, or NULL */
	proto_snap_result r;   /* what the snapshot will say */
	bool passed;
	dev_pass pass;         /* what env->on_pass is told at the end */
	bool deny_temp;        /* the reading broke the threshold and the
				  config lets that block the door */
	double threshold;      /* temperature.high_threshold, shown unit */
	bool deny_mask;        /* the mask rule blocks */
} face_pass;

/* Capture gates (face_cap.goodness / blur, face_rec.liveness): false when
 * the frame is discarded, with the event saying why. */
static bool capture_gates(dev *d, const dev_face_in *in, face_pass *fp)
{
	const proto_config *c = &d->cfg;
	double quality = in->has_quality ? in->quality : 0.9;
	double blur = in->has_blur ? in->blur : 0.1;
	double live = in->has_liveness ? in->liveness : 0.95;

	if (quality < c->face_cap.goodness || blur > c->face_cap.blur) {
		dev__event(d, DEV_EV_FACE, "frame discarded: quality %.2f (goodness "
			   "%.2f), blur %.2f (limit %.2f)", quality,
			   c->face_cap.goodness, blur, c->face_cap.blur);
		snprintf(fp->pass.reason, sizeof(fp->pass.reason), "frame "
			 "discarded: %s", quality < c->face_cap.goodness
			 ? "poor quality" : "too blurred");
		return false;
	}
	if (c->face_rec.enable == 1 && live < c->face_rec.liveness) {
		dev__event(d, DEV_EV_FACE, "not a live face: liveness %.2f below %.2f",
			   live, c->face_rec.liveness);
		snprintf(fp->pass.reason, sizeof(fp->pass.reason), "not a live "
			 "face (liveness %.2f below %.2f)", live,
			 c->face_rec.liveness);
		return false;
	}
	return true;
}

/* The best of face_rec.times looks into fp->match (D56): look k is the
 * camera's k-th, the person having moved a little.  1 with a match (or
 * the nearest stranger), 0 when the first look finds no face (nothing is
 * captured), SIM_E* on failure (err, and an error event). */
static int identify(dev *d, face_pass *fp, char *err, size_t errlen)
{
	const proto_config *c = &d->cfg;
	int64_t times = c->face_rec.times < 1 ? 1 : c->face_rec.times;
	int rc;

	for (int64_t k = 0; k < times; k++) {
		img look = {0};
		const img *f = &fp->frame;
		recog_match m;
		if (k > 0) {
			rc = camera_look(&fp->frame, (int)k, &look);
			if (rc < 0)
				return rc;
			f = &look;
		}
		loop_pause(d->env->loop, true); /* see loop_pause */
		rc = recog_identify(d->env->recog, f, d->desc, d->n_lib,
				    c->face_rec.score / 100.0, &m, err, errlen);
		loop_pause(d->env->loop, false);
		img_free(&look);
		if (rc == SIM_ENOFACE && k == 0) {
			dev__event(d, DEV_EV_FACE, "no face in the frame: "
				   "nothing captured");
			snprintf(fp->pass.reason, sizeof(fp->pass.reason),
				 "no face in the frame");
			return 0;
		}
		if (rc == SIM_ENOFACE)
			continue; /* this look missed the face */
		if (rc < 0) {
			dev__event(d, DEV_EV_ERROR, "recognition: %s", err);
			return rc;
		}
		if (k == 0 || m.confidence > fp->match.confidence)
			fp->match = m;
		if (fp->match.matched || d->n_lib == 0)
			break;
		dev__event(d, DEV_EV_FACE, "look %" PRId64 " of %" PRId64
			   ": nearest distance %.3f, confidence %.2f below %.2f",
			   k + 1, times, m.distance, m.confidence,
			   c->face_rec.score / 100.0);
	}
	return 1;
}

/* How far and how bright the identified face is: false when it is
 * farther than face_rec.distance (level 0..4: 0.5 .. 2.5 m) by the
 * virtual camera, or darker than half of face_rec.face_expos. */
static bool measure(dev *d, face_pass *fp)
{
	const proto_config *c = &d->cfg;
	const recog_match *m = &fp->match;
	double meters = m->face_w > 0 ? vcam_distance_m(fp->frame.w, m->face_w)
				      : 0;
	double limit = 0.5 + 0.5 * (double)c->face_rec.distance;

	if (meters > limit) {
		dev__event(d, DEV_EV_FACE, "face at %.1f m, beyond %.1f m: ignored",
			   meters, limit);
		snprintf(fp->pass.reason, sizeof(fp->pass.reason), "too far: "
			 "%.1f m, beyond %.1f m", meters, limit);
		return false;
	}
	if (m->brightness * 100 / 255 < c->face_rec.face_expos / 2.0) {
		dev__event(d, DEV_EV_FACE, "face too dark (exposure %.0f, "
			   "threshold %" PRId64 ")", m->brightness * 100 / 255,
			   c->face_rec.face_expos);
		snprintf(fp->pass.reason, sizeof(fp->pass.reason), "face too dark");
		return false;
	}
	return true;
}

/* Temperature and mask: the readings into fp->r, the speaker's warnings;
 * true when either blocks the door by the config. */
static bool body_checks(dev *d, const dev_face_in *in, face_pass *fp)
{
	const proto_config *c = &d->cfg;
	int mask = in->has_mask ? in->mask : 0;
	bool temp_bad = false, mask_bad = false;

	if (c->temperature.enable == 1) {
		double temp = thermal_next(d, in);
		temp_bad = temp > c->temperature.high_threshold;
		double shown = c->temperature.unit == 1 ? temp * 9 / 5 + 32 : temp;
		const char *unit = c->temperature.unit == 1 ? "°F" : "°C";
		dev__event(d, DEV_EV_TEMP, "%.1f %s%s", shown, unit,
			   temp_bad ? " (abnormal)" : "");
		if (c->temperature.voice == 2) {
			char say[32];
			snprintf(say, sizeof(say), "%.1f %s", shown, unit);
			dev__say(d, say);
		}
		if (temp_bad && c->temperature.voice >= 1)
			dev__say(d, "temperature abnormal");
		fp->r.has_temperature = true;
		fp->r.temperature = d->env->prof->temp_in_config_unit
				    ? round(shown * 10) / 10 : temp;
		fp->pass.has_temperature = true;
		fp->pass.temperature = round(shown * 10) / 10;
		fp->pass.temperature_high = temp_bad;
		snprintf(fp->pass.unit, sizeof(fp->pass.unit), "%s", unit);
		fp->deny_temp = temp_bad && c->temperature.relay == 1;
		fp->threshold = c->temperature.unit == 1
				? c->temperature.high_threshold * 9 / 5 + 32
				: c->temperature.high_threshold;
	}
	if (c->facemask.enable == 1) {
		mask_bad = c->facemask.mode == 0 ? mask == 0 : mask == 1;
		if (mask_bad && c->facemask.voice == 1)
			dev__say(d, c->facemask.mode == 0 ? "please wear mask"
							  : "please remove mask");
		fp->r.has_facemask = true;
		fp->r.facemask = mask;
		fp->pass.has_mask = true;
		fp->pass.mask = mask;
		fp->pass.mask_bad = mask_bad;
		fp->deny_mask = mask_bad && c->facemask.relay == 1;
	}
	return (temp_bad && c->temperature.relay == 1) ||
	       (mask_bad && c->facemask.relay == 1);
}

/* fp->pass's verdict, why and reason: the first rule that refused, in the
 * device's order (library, strategy, then the body checks that block). */
static void verdict(face_pass *fp, bool rec, bool known, bool allowed,
		    strat_why why)
{
	dev_pass *ps = &fp->pass;

	ps->verdict = fp->passed ? DEV_PASS_PASSED : DEV_PASS_DENIED;
	ps->why = DEV_DENY_NONE;
	if (rec && !known) {
		ps->why = DEV_DENY_NOT_IN_LIBRARY;
		snprintf(ps->reason, sizeof(ps->reason), "not in library");
	} else if (rec && !allowed) {
		ps->why = DEV_DENY_STRATEGY;
		snprintf(ps->reason, sizeof(ps->reason), "%s", strat_why_text(why));
	} else if (fp->deny_temp) {
		ps->why = DEV_DENY_TEMPERATURE;
		snprintf(ps->reason, sizeof(ps->reason), "temperature %.1f %s "
			 "above %.1f %s", ps->temperature, ps->unit,
			 fp->threshold, ps->unit);
	} else if (fp->deny_mask) {
		ps->why = DEV_DENY_MASK;
		snprintf(ps->reason, sizeof(ps->reason), "%s", ps->mask
			 ? "mask worn, the rule wants it off" : "no mask");
	} else {
		snprintf(ps->reason, sizeof(ps->reason), "%s", rec
			 ? strat_why_text(why) : "capture: readings normal");
	}
}

/* The pass decision (the person's strategy, unless the body checks block
 * the door) and what the device does at once: speaker, event, relay. */
static void decide(dev *d, const dev_face_in *in, face_pass *fp)
{
	const proto_config *c = &d->cfg;
	bool rec = c->face_rec.enable == 1;
	bool blocked = body_checks(d, in, fp);
	const dev_person *p = fp->p;
	strat_why why = STRAT_NO_STRATEGY;
	bool allowed = p && strat_decide(d->strat, d->n_strat, p->strategy_id,
					 dev__local_s(d), &why);

	fp->passed = rec ? allowed && !blocked : !blocked;
	verdict(fp, rec, p != NULL, allowed, why);
	if (rec) {
		if (c->face_rec.voice == 1 || (c->face_rec.voice == 2 && !fp->passed))
			dev__say(d, fp->passed ? "authorized" : "unauthorized");
		dev__event(d, DEV_EV_FACE, "%s%s%s: %s", p ? "person " : "stranger",
			   p ? p->id : "", p ? (fp->passed ? " passed" : " refused")
			   : "", p ? strat_why_text(why) : "no library match");
	} else {
		dev__event(d, DEV_EV_FACE, "capture (recognition off): %s",
			   fp->passed ? "normal" : "abnormal");
	}
	/* relay.state 0: the relay closes on a normal pass; 1: on an
	 * abnormal one.  face_rec.relay 0: recognition does not drive it. */
	bool drive = rec ? c->face_rec.relay == 1 : true;
	if (drive && (c->relay.state == 0 ? fp->passed : !fp->passed))
		dev__relay_pulse(d, c->relay.duration,
				 fp->passed ? "pass" : "abnormal");
}

/* The snapshot of the pass (upload_mode permitting), and the interval
 * captures while the person stays. */
static void report(dev *d, const dev_face_in *in, face_pass *fp)
{
	const proto_config *c = &d->cfg;
	bool rec = c->face_rec.enable == 1;
	const dev_person *p = fp->p;
	proto_snap_result *r = &fp->r;

	r->has_confidence = r->has_person_type = true;
	r->confidence = p ? fp->match.confidence : 0;
	r->person_type = rec ? (fp->passed ? 1 : 0) : 2;
	if (p) {
		r->person_id = p->id;
		r->person_name = p->name;
		r->sex = p->sex;
		r->has_age = p->has_age;
		r->age = p->age;
	}
	if (fp->passed && rec)
		dev__pass_recorded(d);
	/* upload_mode 1: library persons only; 2: strangers too. */
	if (c->face_cap.upload_mode == 1 && !p) {
		dev__event(d, DEV_EV_FACE, "not uploaded: upload_mode 1 sends "
			   "library persons only");
		return;
	}
	snapshot(d, &fp->frame, r);
	capture_start(d, &fp->frame, r, in->stay_s);
}

/* The pass as a frame arrives: nothing decided yet. */
static void pass_begin(dev *d, face_pass *fp)
{
	dev_pass *ps = &fp->pass;

	ps->t = dev_now_ms(d);
	ps->verdict = DEV_PASS_NONE;
	ps->frame_w = fp->frame.w;
	ps->frame_h = fp->frame.h;
	ps->recognition = d->cfg.face_rec.enable == 1;
}

/* The identified (largest) face's box and landmarks, and how close the
 * nearest library entry came. */
static void pass_face(face_pass *fp)
{
	dev_pass *ps = &fp->pass;

	ps->has_face = true;
	memcpy(ps->box, fp->match.box, sizeof(ps->box));
	memcpy(ps->pts, fp->match.pts, sizeof(ps->pts));
	ps->similarity = fp->match.confidence;
}

static void pass_person(face_pass *fp)
{
	dev_pass *ps = &fp->pass;

	ps->known = fp->p != NULL;
	if (!fp->p)
		return;
	utf8_copy(ps->person_id, sizeof(ps->person_id), fp->p->id);
	utf8_copy(ps->name, sizeof(ps->name), fp->p->name ? fp->p->name : "");
}

int dev_face(dev *d, const dev_face_in *in, char *err, size_t errlen)
{
	face_pass fp;
	int rc;

	if (d->state == DEV_OFF) {
		snprintf(err, errlen, "device %s is off", d->cid);
		return SIM_ESTATE;
	}
	memset(&fp, 0, sizeof(fp));
	rc = img_decode(in->image, in->image_len, &fp.frame, err, errlen);
	if (rc < 0) {
		dev__event(d, DEV_EV_ERROR, "camera frame: %s", err);
		return rc;
	}
	pass_begin(d, &fp);
	if (!capture_gates(d, in, &fp))
		goto done;
	if (d->cfg.face_rec.enable == 1) {
		rc = identify(d, &fp, err, errlen);
		if (rc < 0)
			snprintf(fp.pass.reason, sizeof(fp.pass.reason),
				 "recognition failed");
		if (rc <= 0)
			goto out;
		pass_face(&fp);
		if (!measure(d, &fp))
			goto done;
		if (fp.match.matched && fp.match.index < d->n_lib)
			fp.p = &d->lib[fp.match.index];
		pass_person(&fp);
	}
	decide(d, in, &fp);
	report(d, in, &fp);
done:
	rc = 0;
out:
	/* every end after a decoded frame tells the window, after the
	 * events it caused (a recognition failure as "nothing decided") */
	if (d->env->on_pass)
		d->env->on_pass(d->env->pass_ud, d, &fp.pass);
	img_free(&fp.frame);
	return rc;
}
