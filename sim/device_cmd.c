/* device_cmd.c -- what a device does with the commands of a 200 reply, in
 * the order of D5, and the query results it owes the server.  Decisions
 * about validity come from the protocol module's report (a command with a
 * MUST violation is refused as a whole); nothing here reads sockets. */
#include "device_int.h"
#include "b64.h"
#include "sha256.h"
#include "strategy.h"

#include <curl/curl.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

/* A MUST violation at prefix or below it ("$.config" covers
 * "$.config.face_rec.score" but not "$.configx"). */
static bool bad_under(const proto_report *rep, const char *prefix)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; rep && i < rep->n; i++) {
		const char *p = rep->v[i].path;
		if (rep->v[i].sev != PROTO_MUST || !p || strncmp(p, prefix, n))
			continue;
		if (p[n] == '\0' || p[n] == '.' || p[n] == '[')
			return true;
	}
	return false;
}

static const char *first_under(const proto_report *rep, const char *prefix)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; rep && i < rep->n; i++) {
		const char *p = rep->v[i].path;
		if (rep->v[i].sev == PROTO_MUST && p && !strncmp(p, prefix, n) &&
		    (p[n] == '\0' || p[n] == '.' || p[n] == '['))
			return rep->v[i].msg;
	}
	return "";
}

static void ack(dev *d, proto_kind kind, int type, bool has_seq, int64_t seq,
		int64_t errcode)
{
	proto_msg m;

	memset(&m, 0, sizeof(m));
	m.kind = kind;
	m.u.ack.cid = d->cid;
	m.u.ack.has_type = m.u.ack.has_time = m.u.ack.has_ack = true;
	m.u.ack.type = type;
	m.u.ack.time = dev__now_s(d);
	m.u.ack.ack.has_seq = has_seq;
	m.u.ack.ack.seq = seq;
	m.u.ack.ack.has_errcode = true;
	m.u.ack.ack.errcode = errcode;
	dev__send(d, &m, OUT_PLAIN, 0, 0);
}

/* ---------------------------------------------------------------- config */

void dev__config_defaults(proto_config *c)
{
	memset(c, 0, sizeof(*c));
	c->has_face_rec = c->has_face_cap = c->has_facemask = true;
	c->has_temperature = c->has_relay = c->has_misc = true;
	proto_face_rec *f = &c->face_rec;
	f->has_enable = f->has_voice = f->has_relay = f->has_liveness = true;
	f->has_score = f->has_times = f->has_distance = f->has_face_expos = true;
	f->enable = 1, f->voice = 2, f->relay = 1, f->liveness = 0.2;
	f->score = 70, f->times = 3, f->distance = 1, f->face_expos = 50;
	proto_face_cap *p = &c->face_cap;
	p->has_interval = p->has_goodness = p->has_blur = true;
	p->has_time_overlay = p->has_upload_mode = true;
	p->interval = 3, p->goodness = 0.7, p->blur = 0.3;
	p->time_overlay = 0, p->upload_mode = 2;
	proto_facemask *k = &c->facemask;
	k->has_enable = k->has_mode = k->has_voice = k->has_relay = true;
	k->enable = 1, k->mode = 0, k->voice = 1, k->relay = 0;
	proto_temperature *t = &c->temperature;
	t->has_enable = t->has_high_threshold = t->has_voice = true;
	t->has_relay = t->has_offset = t->has_unit = t->has_environment = true;
	t->enable = 1, t->high_threshold = 37.3, t->voice = 1, t->relay = 1;
	t->offset = 0, t->unit = 0, t->environment = 0;
	c->relay.has_duration = c->relay.has_state = true;
	c->relay.duration = 2, c->relay.state = 0;
	c->misc.has_version = true;
	c->misc.version = 1;
}

#define MERGE(dst, src, f)                                                    \
	do {                                                                  \
		if ((src)->has_##f)                                           \
			(dst)->f = (src)->f;                                  \
	} while (0)

static void config_merge(proto_config *c, const proto_config *s)
{
	if (s->has_face_rec) {
		const proto_face_rec *f = &s->face_rec;
		MERGE(&c->face_rec, f, enable); MERGE(&c->face_rec, f, voice);
		MERGE(&c->face_rec, f, relay); MERGE(&c->face_rec, f, liveness);
		MERGE(&c->face_rec, f, score); MERGE(&c->face_rec, f, times);
		MERGE(&c->face_rec, f, distance);
		MERGE(&c->face_rec, f, face_expos);
	}
	if (s->has_face_cap) {
		const proto_face_cap *f = &s->face_cap;
		MERGE(&c->face_cap, f, interval); MERGE(&c->face_cap, f, goodness);
		MERGE(&c->face_cap, f, blur); MERGE(&c->face_cap, f, time_overlay);
		MERGE(&c->face_cap, f, upload_mode);
	}
	if (s->has_facemask) {
		const proto_facemask *f = &s->facemask;
		MERGE(&c->facemask, f, enable); MERGE(&c->facemask, f, mode);
		MERGE(&c->facemask, f, voice); MERGE(&c->facemask, f, relay);
		/* D17: honoured, but it belongs to temperature. */
		if (f->has_environment && !(s->has_temperature &&
					    s->temperature.has_environment))
			c->temperature.environment = f->environment;
	}
	if (s->has_temperature) {
		const proto_temperature *f = &s->temperature;
		MERGE(&c->temperature, f, enable);
		MERGE(&c->temperature, f, high_threshold);
		MERGE(&c->temperature, f, voice); MERGE(&c->temperature, f, relay);
		MERGE(&c->temperature, f, offset); MERGE(&c->temperature, f, unit);
		MERGE(&c->temperature, f, environment);
	}
	if (s->has_relay) {
		MERGE(&c->relay, &s->relay, duration);
		MERGE(&c->relay, &s->relay, state);
	}
	/* misc.version is read-only (§9): ignored. */
}

static void apply_config(dev *d, const proto_config_cmd *c,
			 const proto_report *rep)
{
	if (!c->has_op_type || bad_under(rep, "$.config.opType")) {
		dev__event(d, DEV_EV_REJECT, "config: %s",
			   first_under(rep, "$.config"));
		ack(d, PROTO_CONFIG_RESULT, 10, c->has_seq, c->seq, 1);
		return;
	}
	if (c->op_type == 1) {
		d->queries |= Q_CONFIG;
		dev__event(d, DEV_EV_COMMAND, "config query: report at the next slot");
		return;
	}
	/* D41: all or nothing. */
	if (bad_under(rep, "$.config") || !c->has_seq) {
		dev__event(d, DEV_EV_REJECT, "config set refused (errcode 1): %s",
			   first_under(rep, "$.config"));
		ack(d, PROTO_CONFIG_RESULT, 10, c->has_seq, c->seq, 1);
		return;
	}
	proto_config old = d->cfg;
	config_merge(&d->cfg, &c->cfg);
	d->cfg.misc.version = old.misc.version < INT32_MAX ? old.misc.version + 1 : 1;
	if (dev__save_config(d) < 0) {
		d->cfg = old;
		dev__event(d, DEV_EV_ERROR, "config set not saved: %s",
			   store_errmsg(d->env->store));
		ack(d, PROTO_CONFIG_RESULT, 10, true, c->seq, 2);
		return;
	}
	dev__event(d, DEV_EV_COMMAND, "config set: version %" PRId64,
		   d->cfg.misc.version);
	ack(d, PROTO_CONFIG_RESULT, 10, true, c->seq, 0);
}

/* ---------------------------------------------------------------- strategies */

static int strategies_replace(dev *d, proto_strategy *keep, size_t n)
{
	proto_strategy *old = d->strat;
	size_t old_n = d->n_strat;
	proto_arena old_a = d->strat_arena;
	proto_arena a = PROTO_ARENA_INIT;
	proto_msg m;
	char *s, why[256];
	int rc;

	/* Deep copy through the protocol's own JSON: what is stored is
	 * exactly what a strategy query will report. */
	d->strat = keep;
	d->n_strat = n;
	rc = dev__save_strategies(d, &s);
	d->strat = old;
	d->n_strat = old_n;
	if (rc < 0)
		return rc;
	rc = proto_parse(s, strlen(s), PROTO_TO_SERVER, &proto_profile_strict,
			 &a, &m, why, sizeof(why));
	free(s);
	if (rc < 0) {
		proto_arena_free(&a);
		return SIM_ECORRUPT;
	}
	d->strat_arena = a;
	d->strat = m.u.strategy_list.strategies;
	d->n_strat = m.u.strategy_list.n_strategies;
	proto_arena_free(&old_a);
	return 0;
}

static void apply_strategy(dev *d, const proto_strategy_cmd *c,
			   const proto_report *rep, proto_arena *a)
{
	char path[64];
	proto_msg m;

	if (c->has_oper_type && c->oper_type == 2) {
		d->queries |= Q_STRATEGIES;
		dev__event(d, DEV_EV_COMMAND, "strategy query: list at the next slot");
		return;
	}
	if (!c->has_strategies || bad_under(rep, "$.strategy_manage.operType")) {
		dev__event(d, DEV_EV_REJECT, "strategy_manage: %s",
			   first_under(rep, "$.strategy_manage"));
		return;
	}
	proto_strategy *keep = proto_arena_alloc(a, (c->n_strategies + 1) *
						 sizeof(*keep));
	proto_id_result *res = proto_arena_alloc(a, (c->n_strategies + 1) *
						 sizeof(*res));
	size_t n_keep = 0, n_res = 0;
	if (!keep || !res)
		return;
	for (size_t i = 0; i < c->n_strategies; i++) {
		const proto_strategy *s = &c->strategies[i];
		snprintf(path, sizeof(path), "$.strategy_manage.strategyList[%zu]", i);
		int v = strat_verdict(s, bad_under(rep, path));
		if (s->has_strategy_id) {
			res[n_res].has_strategy_id = res[n_res].has_result = true;
			res[n_res].strategy_id = s->strategy_id;
			res[n_res].result = v;
			n_res++;
		}
		if (v != 0)
			continue;
		/* A later strategy with the same id replaces the earlier. */
		size_t j;
		for (j = 0; j < n_keep; j++)
			if (keep[j].strategy_id == s->strategy_id)
				break;
		keep[j] = *s;
		if (j == n_keep)
			n_keep++;
	}
	if (strategies_replace(d, keep, n_keep) < 0) {
		dev__event(d, DEV_EV_ERROR, "strategies not saved: %s",
			   store_errmsg(d->env->store));
		for (size_t i = 0; i < n_res; i++)
			res[i].result = 1;
	} else {
		dev__event(d, DEV_EV_COMMAND, "strategies replaced: %zu kept of %zu",
			   n_keep, c->n_strategies);
	}
	memset(&m, 0, sizeof(m));
	m.kind = PROTO_STRATEGY_RESULT;
	proto_strategy_result *r = &m.u.strategy_result;
	r->cid = d->cid;
	r->has_type = r->has_time = r->has_strategy_manage = r->has_results = true;
	r->type = 7;
	r->time = dev__now_s(d);
	r->results = res;
	r->n_results = n_res;
	dev__send(d, &m, OUT_PLAIN, 0, 0);
}

/* ---------------------------------------------------------------- face library */

void dev__library_free(dev *d)
{
	for (size_t i = 0; i < d->n_lib; i++) {
		free(d->lib[i].name);
		free(d->lib[i].sex);
	}
	free(d->lib);
	free(d->desc);
	d->lib = NULL;
	d->desc = NULL;
	d->n_lib = d->cap_lib = 0;
}

static int lib_reserve(dev *d, size_t n)
{
	if (n <= d->cap_lib)
		return 0;
	size_t cap = d->cap_lib ? d->cap_lib * 2 : 8;
	while (cap < n)
		cap *= 2;
	dev_person *l = realloc(d->lib, cap * sizeof(*l));
	if (!l)
		return SIM_ENOMEM;
	d->lib = l;
	recog_desc *r = realloc(d->desc, cap * sizeof(*r));
	if (!r)
		return SIM_ENOMEM;
	d->desc = r;
	d->cap_lib = cap;
	return 0;
}

static int lib_set(dev *d, size_t i, const store_face *f)
{
	dev_person *p = &d->lib[i];
	char *name = f->name ? strdup(f->name) : NULL;
	char *sex = f->sex ? strdup(f->sex) : NULL;

	if ((f->name && !name) || (f->sex && !sex)) {
		free(name);
		free(sex);
		return SIM_ENOMEM;
	}
	snprintf(p->id, sizeof(p->id), "%s", f->id);
	free(p->name);
	free(p->sex);
	p->name = name;
	p->sex = sex;
	p->has_age = f->has_age;
	p->age = f->age;
	p->strategy_id = f->strategy_id;
	memset(&d->desc[i], 0, sizeof(d->desc[i]));
	if (f->n_desc == RECOG_DIM)
		memcpy(d->desc[i].v, f->desc, sizeof(d->desc[i].v));
	return 0;
}

static int load_one(const store_face *f, void *ud)
{
	dev *d = ud;
	int rc = lib_reserve(d, d->n_lib + 1);

	if (rc < 0)
		return rc;
	memset(&d->lib[d->n_lib], 0, sizeof(d->lib[0]));
	rc = lib_set(d, d->n_lib, f);
	if (rc < 0)
		return rc;
	d->n_lib++;
	return 0;
}

int dev__library_load(dev *d, char *err, size_t errlen)
{
	int rc;

	dev__library_free(d);
	rc = store_face_foreach(d->env->store, d->cid, load_one, d);
	if (rc < 0)
		snprintf(err, errlen, "device %s: reading the face library: %s",
			 d->cid, rc == SIM_ENOMEM ? "out of memory"
						  : store_errmsg(d->env->store));
	return rc;
}

static ssize_t lib_find(const dev *d, const char *id)
{
	for (size_t i = 0; i < d->n_lib; i++)
		if (!strcmp(d->lib[i].id, id))
			return (ssize_t)i;
	return -1;
}

/* The person as the server gave it (facelib add or batch), for enrol. */
typedef struct person_in {
	const char *id, *name, *sex, *card_no, *image;
	bool has_age, has_strategy_id;
	int64_t age, strategy_id;
} person_in;

/* Adds or modifies one person.  SIM_EFULL, SIM_ENOTIMAGE (bad base64 or
 * picture), SIM_ENOFACE/MANYFACES/SMALLFACE/MODEL (enrolment), or
 * SIM_ENOTFOUND (a modify without picture of an unknown id, D39). */
static int person_put(dev *d, const person_in *p, char *err, size_t errlen)
{
	ssize_t at = lib_find(d, p->id);
	recog_desc desc;
	store_face f;
	char sha[65];
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	img im = {0};
	int rc;

	memset(&f, 0, sizeof(f));
	if (!p->image && at < 0) {
		snprintf(err, errlen, "person %s is not in the library and no "
			 "picture was given to add them (D39)", p->id);
		return SIM_ENOTFOUND;
	}
	if (at < 0 && (int64_t)d->n_lib >= d->env->capacity) {
		snprintf(err, errlen, "face library full: %zu of %" PRId64
			 " persons", d->n_lib, d->env->capacity);
		return SIM_EFULL;
	}
	if (p->image) {
		rc = b64_decode(p->image, strlen(p->image), &raw, &rawlen);
		if (rc < 0) {
			snprintf(err, errlen, "picture of %s is not base64", p->id);
			rc = SIM_ENOTIMAGE;
			goto out;
		}
		sha256_hex(raw, rawlen, sha);
		/* one photo sent to every device is decoded once: the same
		 * bytes give the same descriptor */
		if (!recog_enroll_recall(d->env->recog, sha, &desc)) {
			rc = img_decode(raw, rawlen, &im, err, errlen);
			if (rc < 0)
				goto out;
			/* the device's own computing costs no device time on
			 * the jump clock: verdicts do not depend on the host's
			 * speed */
			loop_pause(d->env->loop, true);
			rc = recog_enroll(d->env->recog, &im, &desc, err, errlen);
			loop_pause(d->env->loop, false);
			if (rc < 0)
				goto out;
			recog_enroll_remember(d->env->recog, sha, &desc);
		}
		f.desc = desc.v;
		f.n_desc = RECOG_DIM;
		f.photo_sha = sha;
	} else {
		f.desc = d->desc[at].v;
		f.n_desc = RECOG_DIM;
	}
	f.id = p->id;
	f.name = p->name ? p->name : at >= 0 ? d->lib[at].name : NULL;
	f.sex = p->sex ? p->sex : at >= 0 ? d->lib[at].sex : NULL;
	f.card_no = p->card_no;
	f.has_age = p->has_age || (at >= 0 && d->lib[at].has_age);
	f.age = p->has_age ? p->age : at >= 0 ? d->lib[at].age : 0;
	f.strategy_id = p->has_strategy_id ? p->strategy_id
			: at >= 0 ? d->lib[at].strategy_id : 0;
	rc = store_face_put(d->env->store, d->cid, &f);
	if (rc < 0) {
		snprintf(err, errlen, "saving person %s: %s", p->id,
			 store_errmsg(d->env->store));
		goto out;
	}
	if (at < 0) {
		rc = lib_reserve(d, d->n_lib + 1);
		if (rc < 0)
			goto out;
		at = (ssize_t)d->n_lib++;
		memset(&d->lib[at], 0, sizeof(d->lib[0]));
	}
	rc = lib_set(d, (size_t)at, &f);
out:
	img_free(&im);
	free(raw);
	return rc;
}

static int person_del(dev *d, const char *id)
{
	ssize_t at = lib_find(d, id);
	int rc;

	if (at < 0)
		return 0; /* D45: already absent is deleted */
	rc = store_face_del(d->env->store, d->cid, id);
	if (rc < 0 && rc != SIM_ENOTFOUND)
		return rc;
	free(d->lib[at].name);
	free(d->lib[at].sex);
	memmove(&d->lib[at], &d->lib[at + 1],
		(d->n_lib - (size_t)at - 1) * sizeof(d->lib[0]));
	memmove(&d->desc[at], &d->desc[at + 1],
		(d->n_lib - (size_t)at - 1) * sizeof(d->desc[0]));
	d->n_lib--;
	return 0;
}

static void facelib_ok(dev *d, int64_t seq)
{
	/* D7: the next heartbeats carry this seq until one gets a 200. */
	d->seq_pending = true;
	d->seq_val = seq;
	dev__save_kv_int(d, "seq_pending", seq);
}

static void apply_facelib(dev *d, const proto_facelib_cmd *c,
			  const proto_report *rep)
{
	char err[256];
	int rc = 0;

	if (bad_under(rep, "$.facelib_manage") || !c->has_type || !c->has_seq) {
		dev__event(d, DEV_EV_REJECT, "facelib_manage failed: %s",
			   first_under(rep, "$.facelib_manage"));
		return;
	}
	switch (c->type) {
	case 1: {
		person_in p = {
			.id = c->face.id, .name = c->face.name, .sex = c->face.sex,
			.card_no = c->face.card_no,
			.image = c->face.n_image ? c->face.image[0] : NULL,
			.has_age = c->face.has_age, .age = c->face.age,
			.has_strategy_id = c->face.has_strategy_id,
			.strategy_id = c->face.strategy_id,
		};
		rc = person_put(d, &p, err, sizeof(err));
		if (rc < 0) {
			dev__event(d, DEV_EV_REJECT, "facelib add %s failed: %s",
				   c->face.id, err);
			return;
		}
		dev__event(d, DEV_EV_COMMAND, "facelib add %s (seq %" PRId64 ")",
			   c->face.id, c->seq);
		break;
	}
	case 3: {
		/* D13: spaces around the commas are trimmed. */
		const char *s = c->person_ids;
		size_t n_ids = 0;
		store_begin(d->env->store);
		while (s && *s && rc == 0) {
			const char *e = strchr(s, ',');
			size_t n = e ? (size_t)(e - s) : strlen(s);
			char id[64];
			while (n && isspace((unsigned char)*s))
				s++, n--;
			while (n && isspace((unsigned char)s[n - 1]))
				n--;
			snprintf(id, sizeof(id), "%.*s", (int)n, s);
			rc = person_del(d, id);
			n_ids++;
			s = e ? e + 1 : NULL;
		}
		if (rc < 0 || store_commit(d->env->store) < 0) {
			store_rollback(d->env->store);
			dev__library_load(d, err, sizeof(err));
			dev__event(d, DEV_EV_ERROR, "facelib delete failed: %s",
				   store_errmsg(d->env->store));
			return;
		}
		dev__event(d, DEV_EV_COMMAND, "facelib delete %zu ids (seq %" PRId64 ")",
			   n_ids, c->seq);
		break;
	}
	case 4:
		rc = store_face_clear(d->env->store, d->cid, NULL);
		if (rc < 0) {
			dev__event(d, DEV_EV_ERROR, "facelib delete all failed: %s",
				   store_errmsg(d->env->store));
			return;
		}
		dev__library_free(d);
		dev__event(d, DEV_EV_COMMAND, "facelib delete all (seq %" PRId64 ")",
			   c->seq);
		break;
	case 5:
		d->queries |= Q_FACES;
		dev__event(d, DEV_EV_COMMAND, "facelib query (seq %" PRId64
			   "): list at the next slot", c->seq);
		break;
	default:
		return;
	}
	facelib_ok(d, c->seq);
}

static void apply_batch(dev *d, const proto_batch_cmd *c,
			const proto_report *rep, proto_arena *a)
{
	proto_batch_item_result *res;
	size_t n = 0;
	char path[64], ipath[80], err[256];
	proto_msg m;

	res = proto_arena_alloc(a, (c->n_persons + 1) * sizeof(*res));
	if (!res)
		return;
	for (size_t i = 0; i < c->n_persons; i++) {
		const proto_batch_person *p = &c->persons[i];
		int result = 0, rc;
		snprintf(path, sizeof(path), "$.facelib_batch.personList[%zu]", i);
		snprintf(ipath, sizeof(ipath), "%s.id", path);
		if (!p->id || bad_under(rep, ipath))
			continue; /* §7: no result when the id cannot be read */
		snprintf(ipath, sizeof(ipath), "%s.image", path);
		if (!p->has_oper_type) {
			result = 2;
		} else if (p->oper_type == 3) {
			rc = person_del(d, p->id);
			result = rc < 0 ? 1 : 0;
		} else if (bad_under(rep, ipath)) {
			result = 3;
		} else if (bad_under(rep, path)) {
			result = 2;
		} else {
			person_in in = {
				.id = p->id, .name = p->name, .sex = p->sex,
				.card_no = p->card_no, .image = p->image,
				.has_age = p->has_age, .age = p->age,
				.has_strategy_id = p->has_strategy_id,
				.strategy_id = p->strategy_id,
			};
			rc = person_put(d, &in, err, sizeof(err));
			result = rc == 0 ? 0
				 : rc == SIM_EFULL ? 4
				 : rc == SIM_ENOTIMAGE || rc == SIM_EIMGSIZE ||
				   rc == SIM_ENOFACE || rc == SIM_EMANYFACES ||
				   rc == SIM_ESMALLFACE ? 3
				 : 1;
			if (rc < 0)
				dev__event(d, DEV_EV_REJECT, "batch %s: result %d: %s",
					   p->id, result, err);
		}
		/* resultList[].operType is a MUST (1 or 3) even when the
		 * server's item had none (or a wrong one): anything but a
		 * delete is answered as an add, here with result 2 */
		res[n].has_oper_type = true;
		res[n].oper_type = p->has_oper_type && p->oper_type == 3 ? 3 : 1;
		res[n].id = p->id;
		res[n].has_result = true;
		res[n].result = result;
		n++;
	}
	dev__event(d, DEV_EV_COMMAND, "facelib_batch: %zu results", n);
	memset(&m, 0, sizeof(m));
	m.kind = PROTO_BATCH_RESULT;
	proto_batch_result *r = &m.u.batch_result;
	r->cid = d->cid;
	r->has_type = r->has_time = r->has_facelib_batch = r->has_results = true;
	r->type = 9;
	r->time = dev__now_s(d);
	r->results = res;
	r->n_results = n;
	d->batch_chain = true; /* heartbeats wait until the chain ends */
	dev__send(d, &m, OUT_BATCH, 0, 0);
}

/* ---------------------------------------------------------------- reupload, facelog, control */

static void apply_reupload(dev *d, const proto_reupload_cmd *c,
			   const proto_report *rep)
{
	int secs;

	if (c->has_type && c->type == 2 && !bad_under(rep, "$.reupload.type")) {
		d->queries |= Q_REUPLOAD;
		dev__event(d, DEV_EV_COMMAND, "reupload query: settings at the next slot");
		return;
	}
	if (bad_under(rep, "$.reupload") || !c->has_type || !c->has_seq ||
	    (c->reupload_time && proto_fmt_hms(c->reupload_time, true, &secs) < 0)) {
		dev__event(d, DEV_EV_REJECT, "reupload set refused (errcode 1): %s",
			   first_under(rep, "$.reupload"));
		ack(d, PROTO_REUPLOAD_RESULT, 8, c->has_seq, c->seq, 1);
		return;
	}
	store_begin(d->env->store);
	if (c->has_mode) {
		d->reupload_mode = c->mode;
		dev__save_kv_int(d, "reupload_mode", c->mode);
	}
	if (c->reupload_time) {
		proto_fmt_hms(c->reupload_time, true, &secs);
		d->reupload_secs = secs % 86400;
		dev__save_kv_int(d, "reupload_secs", d->reupload_secs);
	}
	if (store_commit(d->env->store) < 0) {
		store_rollback(d->env->store);
		ack(d, PROTO_REUPLOAD_RESULT, 8, true, c->seq, 1);
		return;
	}
	dev__event(d, DEV_EV_COMMAND, "reupload set: mode %" PRId64 " at %02d:%02d:%02d",
		   d->reupload_mode, d->reupload_secs / 3600,
		   d->reupload_secs / 60 % 60, d->reupload_secs % 60);
	dev__records_changed(d);
	ack(d, PROTO_REUPLOAD_RESULT, 8, true, c->seq, 0);
}

static void apply_facelog(dev *d, const proto_op_cmd *c, const proto_report *rep)
{
	int64_t n = 0;

	if (bad_under(rep, "$.facelog") || !c->has_seq || !c->has_op_type) {
		ack(d, PROTO_LOG_RESULT, 11, c->has_seq, c->seq, 1);
		return;
	}
	/* D44: the log is the device's stored pass records. */
	if (store_rec_clear(d->env->store, d->cid, &n) < 0) {
		dev__event(d, DEV_EV_ERROR, "log clear failed: %s",
			   store_errmsg(d->env->store));
		ack(d, PROTO_LOG_RESULT, 11, true, c->seq, 1);
		return;
	}
	d->n_records = 0;
	dev__events_clear(d);
	dev__event(d, DEV_EV_COMMAND, "log cleared: %" PRId64 " records", n);
	ack(d, PROTO_LOG_RESULT, 11, true, c->seq, 0);
}

static void apply_control(dev *d, const proto_op_cmd *c, const proto_report *rep)
{
	if (bad_under(rep, "$.control") || !c->has_seq || !c->has_op_type) {
		ack(d, PROTO_CONTROL_RESULT, 12, c->has_seq, c->seq, 1);
		return;
	}
	dev__relay_pulse(d, d->cfg.relay.duration, "remote control");
	ack(d, PROTO_CONTROL_RESULT, 12, true, c->seq, 0);
}

/* ---------------------------------------------------------------- server address (D6) */

static void apply_address(dev *d, const proto_reply *r, const proto_report *rep)
{
	bool url_ok = r->http_server_url && !bad_under(rep, "$.http_server_url");
	bool port_ok = r->has_http_server_port &&
		       !bad_under(rep, "$.http_server_port");
	CURLU *u;
	char *out = NULL, port[16];

	if (bad_under(rep, "$.http_server_url")) {
		/* a file:, gopher: or other non-web URL, or no host: the
		 * validator left it out; say so rather than ignore it, and
		 * take no port without its URL */
		dev__event(d, DEV_EV_REJECT, "address change refused: %s; the "
			   "server address stays %s",
			   first_under(rep, "$.http_server_url"), d->url);
		return;
	}
	if (!url_ok && !port_ok)
		return;
	u = curl_url();
	if (!u)
		return;
	if (curl_url_set(u, CURLUPART_URL, url_ok ? r->http_server_url : d->url,
			 CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
		dev__event(d, DEV_EV_REJECT, "http_server_url \"%.60s\" is not a URL",
			   url_ok ? r->http_server_url : d->url);
		goto out;
	}
	if (port_ok) {
		snprintf(port, sizeof(port), "%" PRId64, r->http_server_port);
		curl_url_set(u, CURLUPART_PORT, port, 0);
	}
	if (curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK)
		goto out;
	if (store_kv_set(d->env->store, d->cid, "url", out) < 0) {
		dev__event(d, DEV_EV_ERROR, "new server address not saved: %s",
			   store_errmsg(d->env->store));
		goto out;
	}
	char *copy = strdup(out);
	if (copy) {
		free(d->url);
		d->url = copy;
		dev__event(d, DEV_EV_COMMAND, "server address: %s", d->url);
	}
out:
	curl_free(out);
	curl_url_cleanup(u);
}

/* ---------------------------------------------------------------- upgrade (D27) */

static bool dotted(const char *v)
{
	const char *p = v;
	bool digit = false;

	if (*p == 'V' || *p == 'v')
		p++;
	if (!isdigit((unsigned char)*p))
		return false;
	for (; *p; p++) {
		if (isdigit((unsigned char)*p))
			digit = true;
		else if (*p == '.' && digit)
			digit = false;
		else
			return false;
	}
	return digit && strchr(v, '.');
}

static void upgrade_report(dev *d, int64_t error)
{
	proto_msg m;

	dev__heartbeat_msg(d, &m, error);
	dev__event(d, DEV_EV_UPGRADE, "result %" PRId64, error);
	dev__send(d, &m, OUT_UPGRADE, m.u.heartbeat.seq, error);
}

static void dl_done(void *ud, const loop_http_res *r)
{
	dev *d = ud;
	int64_t error;

	d->dl_http = NULL;
	dev__transcript(d, "GET", "(upgrade package)", "fw_upgrade download",
			false, NULL, 0, r, NULL);
	switch (r->fail) {
	case LOOP_HTTP_OK:
		error = r->status != 200 || r->len == 0 ? 2 : 6;
		break;
	case LOOP_HTTP_CONNECT:
		error = 1;
		break;
	case LOOP_HTTP_TOO_BIG:
		error = 3;
		break;
	default:
		error = 4; /* cut short, timed out mid-transfer */
		break;
	}
	if (error != 6)
		dev__event(d, DEV_EV_UPGRADE, "download failed: %s",
			   r->fail != LOOP_HTTP_OK ? r->error
			   : r->status != 200 ? "status is not 200" : "empty file");
	else
		dev__event(d, DEV_EV_UPGRADE, "downloaded %zu bytes", r->len);
	upgrade_report(d, error);
}

int dev__upgrade_start(dev *d, const proto_upgrade_cmd *u, const char *bad_url)
{
	if (d->state == DEV_UPGRADING) {
		dev__event(d, DEV_EV_REJECT, "fw_upgrade: an upgrade is already running");
		return SIM_ESTATE;
	}
	d->state = DEV_UPGRADING; /* §8: heartbeats and uploads pause */
	loop_timer_stop(d->env->loop, &d->hb_timer);
	d->hb_due = false;
	if (bad_url && *bad_url) {
		/* error 1, the download server cannot be reached: a device
		 * fetches from http(s) servers only (D27), and the URL, not
		 * the version, is what is wrong */
		dev__event(d, DEV_EV_UPGRADE, "download_url refused: %s", bad_url);
		upgrade_report(d, 1);
		return 0;
	}
	if (!u->version || !u->download_url || !dotted(u->version) ||
	    !strcmp(u->version, d->app_version)) {
		dev__event(d, DEV_EV_UPGRADE, "version \"%.40s\" refused (running %s)",
			   u->version ? u->version : "", d->app_version);
		upgrade_report(d, 5);
		return 0;
	}
	snprintf(d->upgrade_version, sizeof(d->upgrade_version), "%s", u->version);
	dev__event(d, DEV_EV_UPGRADE, "downloading %s", u->version);
	loop_http_req req = {
		.url = u->download_url, .method = "GET",
		.timeout_ms = 10 * d->env->http_timeout_ms,
		.connect_timeout_ms = d->env->connect_timeout_ms,
		.max_response = d->env->upgrade_max,
		.source_addr = d->src_addr,
	};
	if (d->net_down || d->quiet ||
	    loop_http_start(d->env->loop, &req, dl_done, d, &d->dl_http) < 0) {
		d->dl_http = NULL;
		upgrade_report(d, 1);
	}
	return 0;
}

/* ---------------------------------------------------------------- queries */

typedef struct list_ctx {
	proto_arena *a;
	proto_person *v;
	size_t n, cap;
	int rc;
} list_ctx;

static char *adup(proto_arena *a, const char *s)
{
	return s ? proto_arena_strndup(a, s, strlen(s)) : NULL;
}

static int list_one(const store_face *f, void *ud)
{
	list_ctx *c = ud;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		proto_person *v = proto_arena_alloc(c->a, cap * sizeof(*v));
		if (!v)
			return SIM_ENOMEM;
		if (c->n)
			memcpy(v, c->v, c->n * sizeof(*v));
		c->v = v;
		c->cap = cap;
	}
	proto_person *p = &c->v[c->n++];
	memset(p, 0, sizeof(*p));
	p->person_id = adup(c->a, f->id);
	p->person_name = adup(c->a, f->name);
	p->sex = adup(c->a, f->sex);
	p->card_no = adup(c->a, f->card_no);
	p->has_age = f->has_age;
	p->age = f->age;
	p->has_strategy_id = true;
	p->strategy_id = f->strategy_id;
	return 0;
}

int dev__build_query(dev *d, unsigned q, proto_msg *m, proto_arena *a)
{
	memset(m, 0, sizeof(*m));
	switch (q) {
	case Q_FACES: {
		list_ctx c = {.a = a};
		int rc = store_face_foreach(d->env->store, d->cid, list_one, &c);
		if (rc < 0)
			return rc;
		m->kind = PROTO_FACE_LIST;
		proto_face_list *l = &m->u.face_list;
		l->cid = d->cid;
		l->has_type = l->has_time = l->has_total_face = l->has_face = true;
		l->type = 4;
		l->time = dev__now_s(d);
		l->total_face = (int64_t)c.n;
		l->face = c.v;
		l->n_face = c.n;
		return 0;
	}
	case Q_STRATEGIES: {
		m->kind = PROTO_STRATEGY_LIST;
		proto_strategy_list *l = &m->u.strategy_list;
		l->cid = d->cid;
		l->has_type = l->has_time = l->has_total_strategy = true;
		l->has_strategies = true;
		l->type = 7;
		l->time = dev__now_s(d);
		l->total_strategy = (int64_t)d->n_strat;
		l->strategies = d->strat;
		l->n_strategies = d->n_strat;
		return 0;
	}
	case Q_CONFIG: {
		m->kind = PROTO_CONFIG_REPORT;
		proto_config_report *r = &m->u.config_report;
		r->cid = d->cid;
		r->has_type = r->has_time = r->has_config = true;
		r->type = 10;
		r->time = dev__now_s(d);
		r->config = d->cfg;
		return 0;
	}
	case Q_REUPLOAD: {
		char *t = proto_arena_alloc(a, 16);
		if (!t)
			return SIM_ENOMEM;
		snprintf(t, 16, "%02d:%02d:%02d", d->reupload_secs / 3600,
			 d->reupload_secs / 60 % 60, d->reupload_secs % 60);
		m->kind = PROTO_REUPLOAD_SETTINGS;
		proto_reupload_settings *r = &m->u.reupload_settings;
		r->cid = d->cid;
		r->has_type = r->has_time = r->has_reupload = true;
		r->type = 8;
		r->time = dev__now_s(d);
		r->reupload.reupload_time = t;
		r->reupload.has_mode = r->reupload.has_recordes_num = true;
		r->reupload.mode = d->reupload_mode;
		r->reupload.recordes_num = d->n_records;
		return 0;
	}
	}
	return SIM_EINVAL;
}

/* ---------------------------------------------------------------- the reply */

void dev__apply_reply(dev *d, const proto_reply *r, const proto_report *rep)
{
	proto_arena a = PROTO_ARENA_INIT;

	if (r->has_time_set && r->time_set.has_time_stamp &&
	    !bad_under(rep, "$.time_set"))
		dev_set_clock(d, r->time_set.time_stamp, r->time_set.has_time_zone,
			      r->time_set.time_zone);
	apply_address(d, r, rep);
	if (r->has_time_interval && !bad_under(rep, "$.time_interval")) {
		d->interval_s = r->time_interval;
		dev__save_kv_int(d, "interval", d->interval_s);
		dev__event(d, DEV_EV_COMMAND, "time_interval %" PRId64 " s",
			   d->interval_s);
		if (d->state == DEV_ON && !d->batch_chain)
			dev__schedule_hb(d, d->interval_s * 1000);
	}
	if (r->has_config)
		apply_config(d, &r->config, rep);
	if (r->has_strategy)
		apply_strategy(d, &r->strategy, rep, &a);
	if (r->has_facelib)
		apply_facelib(d, &r->facelib, rep);
	if (r->has_batch)
		apply_batch(d, &r->batch, rep, &a);
	if (r->has_reupload)
		apply_reupload(d, &r->reupload, rep);
	if (r->has_facelog)
		apply_facelog(d, &r->facelog, rep);
	if (r->has_control)
		apply_control(d, &r->control, rep);
	if (r->has_upgrade && d->state != DEV_OFF)
		dev__upgrade_start(d, &r->upgrade,
				   first_under(rep, "$.fw_upgrade.download_url"));
	if (r->has_reboot && !bad_under(rep, "$.reboot")) {
		dev__event(d, DEV_EV_COMMAND, "reboot");
		d->reboot_pending = true; /* after the confirmations above */
	}
	proto_arena_free(&a);
	dev__pump(d);
}
