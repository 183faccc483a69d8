/* load_prop.c -- `camsim load --propagate': builds the command, enqueues it
 * for every device on the in-process mock, and reads back from the mock
 * when each device's command was confirmed (docs/load.md, Propagation).
 * Measures with the mock's own timestamps; does not touch the devices, the
 * loop or load_metrics' exchange counts. */
#include "load_prop.h"

#include "b64.h"
#include "base.h"
#include "conf_err.h"
#include "file.h"
#include "hist.h"
#include "strbuf.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_PER_CMD 20   /* V1.16 section 7: at most 20 people a batch */
#define POLL_PAGE 500     /* commands read back at once (each with its
			     photos: an enrolment is ~45 KB) */
#define STORE_MAX (4ull << 30) /* commands' bytes the mock may store */
#define CURVE_POINTS 200

typedef struct prop_dev {
	int64_t queued, done;  /* mock clock, UTC ms; first queued, last done */
	uint32_t ncmd, nconf;
	bool failed, timeout;
} prop_dev;

/* every command enqueued, in id order (the mock numbers them ascending) */
typedef struct prop_cmd {
	int64_t id;
	uint32_t dev;
	bool settled;
} prop_cmd;

struct load_prop {
	load_prop_spec spec;
	cJSON **cmd;           /* the commands every device gets, in order */
	size_t ncmd;
	prop_dev *dev;
	size_t ndev;
	prop_cmd *ids;
	size_t nids, cap, low; /* ids[0..low) are settled */
	load_kind k;           /* "propagation" */
	char first_fail[256];  /* the mock's detail of the first failure */
	char *photo;           /* the photo's absolute path (enrol, batch) */
	bool recorded;         /* outcomes came from load_prop_record: the
				  refusals are the adapter's, not the mock's */
};

static const char *const names[] = {"", "enrol", "batch", "strategy",
				    "config"};

const char *load_prop_name(load_prop_cmd c)
{
	return names[c];
}

int load_prop_parse(const char *s, load_prop_spec *p, char *err,
		    size_t errlen)
{
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	char *end;

	memset(p, 0, sizeof *p);
	for (int c = LOAD_PROP_ENROL; c <= LOAD_PROP_CONFIG; c++)
		if (strlen(names[c]) == n && !strncmp(s, names[c], n))
			p->cmd = c;
	if (!p->cmd || (colon && p->cmd != LOAD_PROP_BATCH)) {
		snprintf(err, errlen, "--propagate \"%s\": expected enrol, "
			 "batch, batch:N, strategy or config", s);
		return CONF_EINVAL;
	}
	p->n = LOAD_PROP_BATCH_DEFAULT;
	if (colon) {
		errno = 0;
		p->n = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || *end || errno || p->n < 1 ||
		    p->n > LOAD_PROP_BATCH_MAX) {
			snprintf(err, errlen, "--propagate \"%s\": N in batch:N "
				 "is a number of people from 1 to %d", s,
				 LOAD_PROP_BATCH_MAX);
			return CONF_EINVAL;
		}
	}
	return 0;
}

/* The enrolment photos (person-*-1.jpg) of dir in base64, at most max of
 * them, in name order so that runs are repeatable; *first: the first
 * one's absolute path (an adapter's shell command runs elsewhere). */
static int read_photos(const char *dir, char ***out, size_t *n, size_t max,
		       char **first, char *err, size_t errlen)
{
	struct dirent **ents = NULL;
	int ne = scandir(dir, &ents, NULL, alphasort), rc = 0;

	*n = 0;
	if (ne < 0) {
		snprintf(err, errlen, "--faces \"%s\": %s", dir, strerror(errno));
		return CONF_EREAD;
	}
	if (!(*out = calloc((size_t)ne + 1, sizeof **out)))
		rc = CONF_ENOMEM;
	for (int i = 0; i < ne; i++) {
		const char *nm = ents[i]->d_name;
		size_t len = strlen(nm), blen;
		char path[512], *buf = NULL;

		if (rc >= 0 && *n < max && len > 13 && !strncmp(nm, "person-", 7) &&
		    !strcmp(nm + len - 6, "-1.jpg")) {
			snprintf(path, sizeof path, "%s/%s", dir, nm);
			if (base_read_file("picture", path, 16u << 20, &buf, &blen,
					   err, errlen) < 0)
				rc = CONF_EREAD;
			else if (!*n && !(*first = realpath(path, NULL))) {
				snprintf(err, errlen, "--faces: %s: %s", path,
					 strerror(errno));
				rc = CONF_EREAD;
			} else if (!((*out)[*n] = b64_encode(buf, blen, NULL)))
				rc = CONF_ENOMEM;
			else
				(*n)++;
			free(buf);
		}
		free(ents[i]);
	}
	free(ents);
	if (rc >= 0 && !*n) {
		snprintf(err, errlen, "--faces \"%s\" holds no person-*-1.jpg "
			 "enrolment photo (make faces builds faces/)", dir);
		rc = CONF_EREAD;
	}
	return rc;
}

static cJSON *build_enrol(const char *photo)
{
	cJSON *r = cJSON_CreateObject(), *fm, *face, *pics;

	if (!r || !(fm = cJSON_AddObjectToObject(r, "facelib_manage")) ||
	    !cJSON_AddNumberToObject(fm, "type", 1) ||
	    !(face = cJSON_AddObjectToObject(fm, "face")) ||
	    !cJSON_AddStringToObject(face, "id", "prop-00001") ||
	    !cJSON_AddStringToObject(face, "name", "PROPAGATION") ||
	    !(pics = cJSON_AddArrayToObject(face, "image")) ||
	    !cJSON_AddItemToArray(pics, cJSON_CreateString(photo))) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

/* People from..to-1 of the batch, all with the one photo: the recogniser's
 * cache computes it once for every device, and the run measures the
 * path to the devices, not which photos the recogniser accepts (some
 * enrolment photos of faces/ are refused, docs/load.md). */
static cJSON *build_batch(long from, long to, const char *photo)
{
	cJSON *r = cJSON_CreateObject(), *b, *list;
	char id[32];

	if (!r || !(b = cJSON_AddObjectToObject(r, "facelib_batch")) ||
	    !(list = cJSON_AddArrayToObject(b, "personList")))
		goto oom;
	for (long i = from; i < to; i++) {
		cJSON *p = cJSON_CreateObject();
		if (!p || !cJSON_AddItemToArray(list, p))
			goto oom_p;
		snprintf(id, sizeof id, "prop-%05ld", i + 1);
		if (!cJSON_AddNumberToObject(p, "operType", 1) ||
		    !cJSON_AddStringToObject(p, "id", id) ||
		    !cJSON_AddStringToObject(p, "name", id) ||
		    !cJSON_AddNumberToObject(p, "strategyId", 0) ||
		    !cJSON_AddStringToObject(p, "image", photo))
			goto oom;
		continue;
oom_p:
		cJSON_Delete(p);
		goto oom;
	}
	return r;
oom:
	cJSON_Delete(r);
	return NULL;
}

static const char strategy_json[] =
	"{\"strategy_manage\":{\"strategyList\":[{\"strategyId\":7,\"name\":"
	"\"propagation\",\"state\":1,\"strategyRuleList\":[{\"ruleId\":1,"
	"\"begDate\":\"2020/01/01\",\"endDate\":\"2030/01/01\",\"timeRange\":"
	"\"08:00:00-18:00:00\",\"week\":\"1,2,3,4,5\",\"type\":1}]}]}}";
/* a relay pulse of 3 s: a harmless change every device accepts */
static const char config_json[] =
	"{\"config\":{\"opType\":0,\"relay\":{\"duration\":3}}}";

int load_prop_new(const load_prop_spec *spec, const char *faces_dir,
		  size_t ndev, load_prop **out, char *err, size_t errlen)
{
	load_prop *p = calloc(1, sizeof *p);
	char **photos = NULL;
	size_t nphotos = 0;
	long people;
	int rc = CONF_ENOMEM;

	*out = NULL;
	if (!p || !(p->dev = calloc(ndev ? ndev : 1, sizeof *p->dev)))
		goto out;
	p->spec = *spec;
	p->ndev = ndev;
	snprintf(p->k.name, sizeof p->k.name, "propagation");
	if (spec->cmd == LOAD_PROP_ENROL || spec->cmd == LOAD_PROP_BATCH) {
		rc = read_photos(faces_dir ? faces_dir : "faces", &photos,
				 &nphotos, 1, &p->photo, err, errlen);
		if (rc < 0)
			goto out;
		rc = CONF_ENOMEM;
	}
	/* the mock stores every device's copy: refuse what would fill the
	 * disk rather than find out halfway */
	people = spec->cmd == LOAD_PROP_BATCH ? spec->n : 1;
	if (photos && (double)strlen(photos[0]) * (double)people *
	    (double)ndev > (double)STORE_MAX) {
		snprintf(err, errlen, "--propagate %s to %zu devices would store "
			 "%.1f GB of photos in the mock (%ld people x a %zu-byte "
			 "photo x %zu devices); at most %.1f GB: fewer people or "
			 "devices", load_prop_name(spec->cmd), ndev,
			 (double)strlen(photos[0]) * (double)people *
			 (double)ndev / 1e9, people, strlen(photos[0]), ndev,
			 (double)STORE_MAX / 1e9);
		rc = CONF_EINVAL;
		goto out;
	}
	p->ncmd = spec->cmd == LOAD_PROP_BATCH
		  ? (size_t)((spec->n + BATCH_PER_CMD - 1) / BATCH_PER_CMD) : 1;
	if (!(p->cmd = calloc(p->ncmd, sizeof *p->cmd)))
		goto out;
	for (size_t i = 0; i < p->ncmd; i++) {
		long from = (long)i * BATCH_PER_CMD;
		long to = from + BATCH_PER_CMD < spec->n ? from + BATCH_PER_CMD
			  : spec->n;
		p->cmd[i] = spec->cmd == LOAD_PROP_ENROL ? build_enrol(photos[0])
			    : spec->cmd == LOAD_PROP_BATCH
			    ? build_batch(from, to, photos[0])
			    : cJSON_Parse(spec->cmd == LOAD_PROP_STRATEGY
					  ? strategy_json : config_json);
		if (!p->cmd[i])
			goto out;
	}
	rc = 0;
	*out = p;
	p = NULL;
out:
	if (rc == CONF_ENOMEM)
		snprintf(err, errlen, "out of memory building the --propagate "
			 "command");
	for (size_t i = 0; photos && i < nphotos; i++)
		free(photos[i]);
	free(photos);
	load_prop_free(p);
	return rc;
}

void load_prop_free(load_prop *p)
{
	if (!p)
		return;
	for (size_t i = 0; p->cmd && i < p->ncmd; i++)
		cJSON_Delete(p->cmd[i]);
	free(p->cmd);
	free(p->dev);
	free(p->ids);
	free(p->photo);
	free(p);
}

size_t load_prop_ncmd(const load_prop *p)
{
	return p->ncmd;
}

const cJSON *load_prop_command(const load_prop *p, size_t c)
{
	return c < p->ncmd ? p->cmd[c] : NULL;
}

const char *load_prop_photo(const load_prop *p)
{
	return p->photo;
}

void load_prop_record(load_prop *p, size_t i, load_prop_outcome o,
		      int64_t from_ms, int64_t to_ms, const char *why)
{
	prop_dev *d = &p->dev[i];

	p->recorded = true;
	p->k.requests++;
	d->ncmd = 1;
	d->queued = from_ms;
	if (o == LOAD_PROP_CONFIRMED) {
		d->nconf = 1;
		/* a confirmation seen before the call returned is 0 ms */
		d->done = to_ms > from_ms ? to_ms : from_ms;
		p->k.answered++;
		hist_add(&p->k.lat_us, (uint64_t)(d->done - d->queued) * 1000);
	} else if (o == LOAD_PROP_FAILED) {
		d->failed = true;
		p->k.failed[LOAD_F_STATUS]++;
	} else if (o == LOAD_PROP_REFUSED) {
		d->failed = true;
		p->k.failed[LOAD_F_OTHER]++;
	}
	if (why && o != LOAD_PROP_CONFIRMED && !p->first_fail[0])
		snprintf(p->first_fail, sizeof p->first_fail, "%s", why);
}

int load_prop_enqueue(load_prop *p, mock *m, size_t i, const char *cid,
		      char *err, size_t errlen)
{
	prop_dev *d = &p->dev[i];
	int64_t id = 0;

	p->k.requests++;
	for (size_t c = 0; c < p->ncmd; c++) {
		id = mock_enqueue(m, cid, p->cmd[c], err, errlen);
		if (id < 0)
			goto refused;
		if (p->nids == p->cap) {
			size_t nc = p->cap ? p->cap * 2 : 1024;
			prop_cmd *np = realloc(p->ids, nc * sizeof *np);
			if (!np) {
				snprintf(err, errlen, "out of memory");
				id = CONF_ENOMEM;
				goto refused;
			}
			p->ids = np;
			p->cap = nc;
		}
		p->ids[p->nids++] = (prop_cmd){.id = id, .dev = (uint32_t)i};
		d->ncmd++;
	}
	return 0;
refused:
	/* its commands enqueued before stay on the mock; the device counts
	 * as refused, never as confirmed */
	d->failed = true;
	p->k.failed[LOAD_F_OTHER]++;
	return (int)id;
}

static prop_cmd *find_cmd(load_prop *p, int64_t id)
{
	size_t lo = p->low, hi = p->nids;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->ids[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->nids && p->ids[lo].id == id ? &p->ids[lo] : NULL;
}

static int64_t num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* Command c settled in state st (a mock_state_name) at done: a device is
 * confirmed once all its commands are, at its last confirmation. */
static void settle(load_prop *p, prop_cmd *c, const char *st, int64_t queued,
		   int64_t done)
{
	prop_dev *d = &p->dev[c->dev];

	c->settled = true;
	if (!d->queued || queued < d->queued)
		d->queued = queued;
	if (!strcmp(st, "confirmed")) {
		if (done > d->done)
			d->done = done;
		if (++d->nconf == d->ncmd && !d->failed && !d->timeout) {
			p->k.answered++;
			hist_add(&p->k.lat_us, (uint64_t)(d->done > d->queued
					? d->done - d->queued : 0) * 1000);
		}
	} else if (!d->failed && !d->timeout) {
		bool late = !strcmp(st, "timeout");
		d->failed = !late;
		d->timeout = late;
		p->k.failed[late ? LOAD_F_TIMEOUT : LOAD_F_STATUS]++;
		/* a device already confirmed cannot be: all its commands
		 * must be */
	}
}

void load_prop_poll(load_prop *p, mock *m)
{
	int64_t after;

	if (p->low >= p->nids)
		return;
	after = p->ids[p->low].id - 1;
	for (;;) {
		cJSON *arr = mock_commands_json(m, NULL, after, POLL_PAGE), *e;
		size_t got = 0;

		if (!arr)
			return;
		cJSON_ArrayForEach(e, arr) {
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "state");
			int64_t id = num(e, "id");
			prop_cmd *c = find_cmd(p, id);

			got++;
			after = id;
			if (!c || c->settled || !cJSON_IsString(st) ||
			    !strcmp(st->valuestring, "pending") ||
			    !strcmp(st->valuestring, "sent"))
				continue;
			settle(p, c, st->valuestring, num(e, "queued_at"),
			       num(e, "done_at"));
			if (strcmp(st->valuestring, "confirmed") &&
			    !p->first_fail[0]) {
				const cJSON *dt = cJSON_GetObjectItemCaseSensitive(
					e, "detail");
				snprintf(p->first_fail, sizeof p->first_fail,
					 "%s: %s", cJSON_GetStringValue(
					 cJSON_GetObjectItemCaseSensitive(e, "cid")),
					 cJSON_IsString(dt) ? dt->valuestring
					 : st->valuestring);
			}
		}
		cJSON_Delete(arr);
		if (got < POLL_PAGE)
			break;
	}
	while (p->low < p->nids && p->ids[p->low].settled)
		p->low++;
}

static uint64_t unsettled(const load_prop *p);

void load_prop_end(load_prop *p)
{
	p->k.failed[LOAD_F_TIMEOUT] += unsettled(p);
}

const load_kind *load_prop_kind(const load_prop *p)
{
	return &p->k;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Devices not settled by the end are reported as timed out: the run gave
 * them no more time. */
static uint64_t unsettled(const load_prop *p)
{
	uint64_t n = p->k.requests - p->k.answered;

	for (int i = 0; i < LOAD_F_COUNT; i++)
		n -= p->k.failed[i];
	return n;
}

cJSON *load_prop_json(const load_prop *p)
{
	cJSON *o = cJSON_CreateObject(), *curve;
	int64_t *t = calloc(p->ndev ? p->ndev : 1, sizeof *t);
	size_t n = 0, step;
	strbuf b = {0};

	if (!o || !t)
		goto oom;
	cJSON_AddStringToObject(o, "command", load_prop_name(p->spec.cmd));
	if (p->spec.cmd == LOAD_PROP_BATCH)
		cJSON_AddNumberToObject(o, "people", (double)p->spec.n);
	cJSON_AddNumberToObject(o, "devices", (double)p->k.requests);
	cJSON_AddNumberToObject(o, "confirmed", (double)p->k.answered);
	cJSON_AddNumberToObject(o, "failed", (double)p->k.failed[LOAD_F_STATUS]);
	cJSON_AddNumberToObject(o, "refused", (double)p->k.failed[LOAD_F_OTHER]);
	cJSON_AddNumberToObject(o, "timeout", (double)(p->k.failed[LOAD_F_TIMEOUT]
						       + unsettled(p)));
	hist_to_json(&p->k.lat_us, &b);
	if (b.oom || !cJSON_AddRawToObject(o, "hist", b.p))
		goto oom;
	if (!(curve = cJSON_AddArrayToObject(o, "curve")))
		goto oom;
	for (size_t i = 0; i < p->ndev; i++) {
		const prop_dev *d = &p->dev[i];
		if (d->ncmd && d->nconf == d->ncmd && !d->failed && !d->timeout)
			t[n++] = d->done - d->queued;
	}
	qsort(t, n, sizeof *t, cmp_i64);
	/* at most about CURVE_POINTS points, the last one always: the curve
	 * ends at the confirmed count */
	step = n / CURVE_POINTS + 1;
	for (size_t i = 0; i < n; i++) {
		/* one point per time, with its final count */
		if (i + 1 < n && (t[i + 1] == t[i] || (i + 1) % step))
			continue;
		cJSON *pt = cJSON_CreateArray();
		if (!pt || !cJSON_AddItemToArray(curve, pt)) {
			cJSON_Delete(pt);
			goto oom;
		}
		cJSON_AddItemToArray(pt, cJSON_CreateNumber((double)t[i]));
		cJSON_AddItemToArray(pt, cJSON_CreateNumber((double)(i + 1)));
	}
	free(b.p);
	free(t);
	return o;
oom:
	free(b.p);
	free(t);
	cJSON_Delete(o);
	return NULL;
}

void load_prop_print(const load_prop *p, FILE *f)
{
	const hist *h = &p->k.lat_us;

	fprintf(f, "propagation (%s", load_prop_name(p->spec.cmd));
	if (p->spec.cmd == LOAD_PROP_BATCH)
		fprintf(f, " of %ld people", p->spec.n);
	fprintf(f, "): %llu of %llu devices confirmed",
		(unsigned long long)p->k.answered,
		(unsigned long long)p->k.requests);
	if (h->count)
		fprintf(f, ", p50 %.1fms p99 %.1fms max %.1fms",
			(double)hist_quantile(h, 0.5) / 1e3,
			(double)hist_quantile(h, 0.99) / 1e3,
			(double)h->max / 1e3);
	if (p->k.failed[LOAD_F_STATUS])
		fprintf(f, ", %llu failed", (unsigned long long)
			p->k.failed[LOAD_F_STATUS]);
	if (p->k.failed[LOAD_F_OTHER])
		fprintf(f, ", %llu refused by the %s", (unsigned long long)
			p->k.failed[LOAD_F_OTHER], p->recorded ? "adapter"
			: "mock");
	if (p->k.failed[LOAD_F_TIMEOUT] + unsettled(p))
		fprintf(f, ", %llu not confirmed in time", (unsigned long long)
			(p->k.failed[LOAD_F_TIMEOUT] + unsettled(p)));
	if (p->first_fail[0])
		fprintf(f, " (the first: %s)", p->first_fail);
	fprintf(f, "\n");
}
