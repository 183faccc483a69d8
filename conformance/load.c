/* load.c -- `camsim load''s run: set-up (scratch state, mock, store,
 * devices), the ramp, arrivals, progress ticks, the drain that lets every
 * request in flight end so that counts reconcile, the summary, report.json
 * and the exit code.  Owns every resource of one run and the signal
 * handlers while it runs; measures only through load_metrics. */
#include "load.h"

#include "load_adapter.h"
#include "load_report.h"

#include "base.h"
#include "conf_err.h"
#include "device.h"
#include "device_cli.h"
#include "file.h"
#include "hist.h"
#include "image.h"
#include "mem.h"
#include "mock.h"
#include "version.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SET_UP_BATCH 1000 /* devices set up per store transaction */
#define DRAIN_MS 15000 /* longest wait for requests in flight at the end */
#define LOAD_MOCK_RETAIN_BYTES (32ll << 20) /* --server mock's database */
#define GIVE_BACK_S 5 /* seconds between giving freed heap back */

typedef struct load load;

typedef struct load_dev {
	loop_timer arrive; /* the next person */
	dev *d;
	load *L;
	uint32_t busy;     /* messages sent whose exchange has not ended */
	int32_t late_ms;   /* the heartbeat under way's lateness (on_slot),
			      -1: none; counted when it has left */
	bool off;          /* powered off by the drain */
} load_dev;

struct load {
	const load_opts *o;
	loop *l;
	store *st;
	recog *rg;
	mock *m;
	dev_env env;
	load_dev *devs;
	size_t made, up;
	load_metrics met;
	load_kind *late;       /* "lateness(heartbeat)": slot to send, us */
	load_prop *prop;       /* --propagate, NULL without */
	load_adp *adp;         /* --adapter: prop's calls, NULL without */
	bool prop_started;
	/* the enqueueing thread: prop is its own until prop_join */
	pthread_t prop_th;
	bool prop_th_on;
	atomic_bool prop_busy;
	uint64_t offline_total, offline_max; /* records waiting at the end */
	loop_timer ramp_t, tick_t;
	int64_t t0, t_end, t_stop;
	uint64_t last_requests;
	uint64_t faces_shown, face_errors;
	unsigned char **img;
	size_t *img_len, nimg;
	uint64_t rng;
	char face_err[256];    /* the first dev_face refusal */
	char (*src)[SRCADDR_LEN]; /* --source-addrs by name, count of them */
	bool aborted, progress_open;
	char url[512], dir[64];
};

static loop *_Atomic sig_loop;
static atomic_int sig_hit;

static void on_signal(int sig)
{
	loop *l = atomic_load(&sig_loop);

	(void)sig;
	atomic_store(&sig_hit, 1);
	if (l)
		loop_stop(l);
}

static double rand01(load *L)
{
	uint64_t x = L->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	L->rng = x;
	return ((double)(x >> 11) + 0.5) / 9007199254740992.0;
}

/* ---- set-up helpers ---- */

/* Whether a TCP connection to the URL's host and port opens (from src
 * when given, so that a server loopback source addresses cannot reach is
 * found here): a server that is down at the start makes the run
 * meaningless, so it does not start. */
static bool reachable(const char *url, const char *src, char *err,
		      size_t errlen)
{
	struct sockaddr_in from = {.sin_family = AF_INET};
	char host[256], port[8] = "80";
	const char *h = strstr(url, "://"), *e, *colon;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL, *a;
	struct timeval tv = {5, 0};
	int rc, fd, last = 0;

	h = h ? h + 3 : url;
	if (!strncmp(url, "https", 5))
		snprintf(port, sizeof port, "443");
	e = h + strcspn(h, "/?#");
	colon = memchr(h, ':', (size_t)(e - h));
	if ((size_t)((colon ? colon : e) - h) >= sizeof host) {
		snprintf(err, errlen, "host name too long");
		return false;
	}
	snprintf(host, sizeof host, "%.*s", (int)((colon ? colon : e) - h), h);
	if (colon)
		snprintf(port, sizeof port, "%.*s", (int)(e - colon - 1), colon + 1);
	if ((rc = getaddrinfo(host, port, &hints, &ai))) {
		snprintf(err, errlen, "%s:%s does not resolve: %s", host, port,
			 gai_strerror(rc));
		return false;
	}
	for (a = ai; a; a = a->ai_next) {
		if ((fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol)) < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		rc = 0;
		/* the source addresses are IPv4: an IPv6 server address
		 * cannot be reached from them */
		if (src && a->ai_family != AF_INET) {
			errno = EAFNOSUPPORT;
			rc = -1;
		} else if (src && (inet_pton(AF_INET, src, &from.sin_addr) != 1 ||
				   bind(fd, (struct sockaddr *)&from,
					sizeof from) < 0))
			rc = -1;
		if (!rc)
			rc = connect(fd, a->ai_addr, a->ai_addrlen);
		last = errno;
		close(fd);
		if (!rc)
			break;
	}
	freeaddrinfo(ai);
	if (!a)
		snprintf(err, errlen, "no connection to %s:%s%s%s: %s", host,
			 port, src ? " from --source-addrs' " : "", src ? src : "",
			 strerror(last));
	return a != NULL;
}

/* The scratch directory's files, then the directory. */
static void rm_scratch(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[320];

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(dir);
}

static int read_faces(load *L, char *err, size_t errlen)
{
	const char *dir = L->o->faces_dir ? L->o->faces_dir : "faces";
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		snprintf(err, errlen, "--faces \"%s\": %s", dir, strerror(errno));
		return CONF_EREAD;
	}
	while ((e = readdir(d)) && rc >= 0) {
		size_t n = strlen(e->d_name);
		char path[512];
		void *p;

		/* the people only: faces/ also holds a picture without a face
		 * and a truncated one (docs/faces.md) */
		if (n < 5 || strcmp(e->d_name + n - 4, ".jpg") ||
		    strncmp(e->d_name, "person-", 7))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (!(p = realloc(L->img, (L->nimg + 1) * sizeof *L->img)) ||
		    !(L->img = p, p = realloc(L->img_len, (L->nimg + 1) *
					       sizeof *L->img_len))) {
			rc = CONF_ENOMEM;
			break;
		}
		L->img_len = p;
		rc = base_read_file("picture", path, 16u << 20,
				    (char **)&L->img[L->nimg],
				    &L->img_len[L->nimg], err, errlen);
		if (rc >= 0)
			L->nimg++;
		else
			rc = CONF_EREAD;
	}
	closedir(d);
	if (rc >= 0 && !L->nimg) {
		snprintf(err, errlen, "--faces \"%s\" holds no person-*.jpg "
			 "picture (make faces builds faces/)", dir);
		rc = CONF_EREAD;
	}
	return rc;
}

/* ---- on the loop ---- */

/* The load_dev of d: the cids are load-00001, ... (setup), so the number
 * is the index + 1; no lookup table for 100,000 devices. */
static load_dev *dev_of(load *L, const dev *d)
{
	unsigned long k = strtoul(dev_cid(d) + 5, NULL, 10), n = L->o->shards;

	/* shard s of n runs the devices k with k mod n == s (load.h) */
	if (k < 1 || (k - 1) % n != (unsigned long)L->o->shard)
		return NULL;
	k = (k - 1) / n;
	return k < L->made ? &L->devs[k] : NULL;
}

/* SEND and RESEND pair with the exchange that ends each message (also one
 * that never left), so busy says whether d has a request in flight. */
static void on_event(void *ud, dev *d, const dev_event *ev)
{
	load_dev *ld;

	load_metrics_event(&((load *)ud)->met, d, ev);
	if ((ev->kind == DEV_EV_SEND || ev->kind == DEV_EV_RESEND) &&
	    (ld = dev_of(ud, d)))
		ld->busy++;
}

static void on_exchange(void *ud, dev *d, const dev_exchange *x)
{
	load *L = ud;
	load_dev *ld = dev_of(L, d);

	/* an upgrade's download has no SEND event */
	if (ld && ld->busy && strcmp(x->kind, "fw_upgrade download"))
		ld->busy--;
	/* a slot counts once its heartbeat was a request: one the drain
	 * takes back never left (unsent), so lateness and requests agree */
	if (ld && ld->late_ms >= 0 && !strcmp(x->kind, "heartbeat")) {
		if (x->res)
			hist_add(&L->late->lat_us, (uint64_t)ld->late_ms * 1000);
		L->late->requests += x->res != NULL;
		L->late->answered += x->res != NULL;
		ld->late_ms = -1;
	}
	L->met.now_s = (loop_now(L->l) - L->t0) / 1000;
	load_metrics_exchange(&L->met, d, x);
	if (L->adp && ld)
		load_adp_exchange(L->adp, (size_t)(ld - L->devs), x);
}

/* How late each heartbeat left against its slot: the devices' own
 * scheduling delay on a busy loop, which a server never sees. */
static void on_slot(void *ud, dev *d, int64_t late_ms)
{
	load_dev *ld = dev_of(ud, d);

	/* held until its heartbeat's exchange ends (on_exchange) */
	if (ld)
		ld->late_ms = late_ms <= 0 ? 0 : late_ms > INT32_MAX ? INT32_MAX
			      : (int32_t)late_ms;
}

/* Queues the command for every device.  Off the loop thread: at 10,000
 * devices with a 45 KB photo each the mock's checks and database writes
 * take seconds, and on the loop thread every device's heartbeat waited for
 * them (the slowest device was confirmed only after the last enqueue).
 * Each device's time is counted from its own queued_at, so the order in
 * which they are queued does not flatter the figures. */
static void *prop_enqueue_all(void *arg)
{
	load *L = arg;
	char cid[80], err[512];
	size_t bad = 0;

	for (size_t i = 0; i < L->made; i++) {
		snprintf(cid, sizeof cid, "%s", dev_cid(L->devs[i].d));
		if (load_prop_enqueue(L->prop, L->m, i, cid, err, sizeof err) < 0
		    && !bad++)
			fprintf(L->o->progress, "camsim load: --propagate: the "
				"mock refused the command for %s: %s\n", cid, err);
	}
	if (bad > 1)
		fprintf(L->o->progress, "camsim load: --propagate: refused for "
			"%zu devices in all\n", bad);
	atomic_store(&L->prop_busy, false);
	return NULL;
}

/* Once every device is up: the vendor's question is how long a change
 * takes to reach a fleet that is running, not one still booting. */
static void prop_start(load *L)
{
	L->prop_started = true;
	if (L->adp) {
		for (size_t i = 0; i < L->made; i++)
			load_adp_cid(L->adp, i, dev_cid(L->devs[i].d));
		load_adp_start(L->adp); /* its own threads call the adapter */
		return;
	}
	atomic_store(&L->prop_busy, true);
	L->prop_th_on = !pthread_create(&L->prop_th, NULL, prop_enqueue_all, L);
	if (!L->prop_th_on)
		prop_enqueue_all(L); /* no thread: on the loop, slower */
}

/* Waits for the enqueueing thread: load_prop is the loop thread's again. */
static void prop_join(load *L)
{
	if (L->prop_th_on)
		pthread_join(L->prop_th, NULL);
	L->prop_th_on = false;
}

static void arrive_next(load_dev *ld)
{
	load *L = ld->L;
	/* Poisson process: exponential gaps with mean 60 s / rate */
	double gap = -log(rand01(L)) * 60000.0 / L->o->arrivals;

	loop_timer_at(L->l, &ld->arrive, loop_now(L->l) + (int64_t)gap + 1);
}

static void arrive_fire(loop_timer *t)
{
	load_dev *ld = container_of(t, load_dev, arrive);
	load *L = ld->L;
	size_t i = (size_t)(rand01(L) * (double)L->nimg) % L->nimg;
	dev_face_in in = {.image = L->img[i], .image_len = L->img_len[i]};
	char err[256];

	L->faces_shown++;
	if (dev_face(ld->d, &in, err, sizeof err) < 0 && !L->face_errors++)
		snprintf(L->face_err, sizeof L->face_err, "%s", err);
	arrive_next(ld);
}

static void ramp_fire(loop_timer *t)
{
	load *L = container_of(t, load, ramp_t);
	int64_t now = loop_now(L->l), ramp = L->o->ramp_ms;
	size_t want = ramp <= 0 ? L->made : (size_t)((double)(now - L->t0) *
			(double)L->made / (double)ramp) + 1;
	char err[256];

	if (want > L->made)
		want = L->made;
	for (; L->up < want; L->up++) {
		load_dev *ld = &L->devs[L->up];
		if (dev_power_on(ld->d, err, sizeof err) < 0) {
			fprintf(L->o->progress, "camsim load: device %s cannot "
				"power on: %s\n", dev_cid(ld->d), err);
			continue;
		}
		if (L->o->arrivals > 0)
			arrive_next(ld);
	}
	if (L->up < L->made)
		loop_timer_at(L->l, t, L->t0 + (int64_t)((double)L->up *
			      (double)ramp / (double)L->made));
	else if (L->prop && !L->prop_started)
		prop_start(L);
}

static bool thresholds_hold(load *L, double elapsed_s, bool only_with_data)
{
	for (size_t i = 0; i < L->o->nth; i++) {
		bool has;
		load_threshold_value(&L->o->th[i], &L->met, elapsed_s, &has);
		if (only_with_data && !has)
			continue;
		if (!load_threshold_holds(&L->o->th[i], &L->met, elapsed_s))
			return false;
	}
	return true;
}

/* Offline records over every device and the resident set, filed under
 * the current second: the backlog a failing server leaves behind as it
 * grows and drains, and whether memory stays flat.  Returns the
 * records; *rss gets the resident set (KiB). */
static uint64_t sample(load *L, uint64_t *rss)
{
	uint64_t off = 0;

	for (size_t i = 0; i < L->made; i++)
		off += (uint64_t)dev_offline_records(L->devs[i].d);
	*rss = mem_rss_kb();
	load_metrics_sample(&L->met, (loop_now(L->l) - L->t0) / 1000, off,
			    *rss);
	return off;
}

static void tick_fire(loop_timer *t)
{
	load *L = container_of(t, load, tick_t);
	int64_t now = loop_now(L->l);
	double el = (double)(now - L->t0) / 1000.0;
	double left = (double)(L->t_end - now) / 1000.0;
	load_kind *all;
	uint64_t fails, rss, off;

	/* Before the sample, so that it counts what the run holds: a stall
	 * of the server leaves thousands of requests waiting, and the heap
	 * they were freed from stays resident, each new peak a step up in
	 * RSS that a user watching for a leak cannot tell from one.  The
	 * transfer handles of such a peak go first (a stall of the mock's
	 * first retention pass kept a hundred, 0.9 MB, for the run). */
	if ((now - L->t0) / 1000 % GIVE_BACK_S == 0) {
		loop_trim(L->l);
		mem_give_back();
	}
	all = malloc(sizeof *all);
	off = sample(L, &rss);

	if (!all)
		goto rearm;
	load_metrics_total(&L->met, all);
	fails = load_kind_failed(all);
	fprintf(L->o->progress, "%sload: %zu/%zu devices up  %.0f req/s  p50 "
		"%.1fms p99 %.1fms  errors %llu (%.2f%%, %llu violations)  "
		"offline %llu  rss %.0fMB  %.0fs elapsed, %.0fs "
		"left%s", L->o->progress_tty ? "\r" : "", L->up, L->made,
		(double)(all->requests - L->last_requests),
		(double)hist_quantile(&all->lat_us, 0.5) / 1e3,
		(double)hist_quantile(&all->lat_us, 0.99) / 1e3,
		(unsigned long long)fails, all->requests ? 100.0 *
		(double)fails / (double)all->requests : 0.0,
		(unsigned long long)all->failed[LOAD_F_VIOLATION],
		(unsigned long long)off, (double)rss / 1024, el,
		left > 0 ? left : 0, L->o->progress_tty ? "\033[K" : "\n");
	fflush(L->o->progress);
	L->progress_open = L->o->progress_tty;
	L->last_requests = all->requests;
	free(all);
	/* after the ramp only, and only on thresholds that have data: an
	 * empty kind a second in is no failure yet */
	/* not while the enqueueing thread fills propagation's counts */
	if (L->o->abort_on_fail && L->up == L->made &&
	    !atomic_load(&L->prop_busy) && !thresholds_hold(L, el, true)) {
		L->aborted = true;
		loop_stop(L->l);
		return;
	}
rearm:
	/* on the run's whole seconds: a tick late by a busy loop must not
	 * push the next ones late too, or seconds would go unsampled */
	loop_timer_at(L->l, t, L->t0 + ((now - L->t0) / 1000 + 1) * 1000);
}

/* ---- the end ---- */

/* The summary's lines for the rules replies broke, the commands the
 * devices applied, and the samples of offline records and memory. */
static void print_measures(load *L, FILE *f)
{
	const load_metrics *m = &L->met;
	uint64_t rss_max = 0, rss_first = 0, rss_last = 0;
	bool any = false;

	for (size_t i = 0; i < m->n; i++) {
		const load_kind *k = m->k[i];
		if (!k->n_rules)
			continue;
		fprintf(f, "rules broken by %s replies:", k->name);
		for (size_t r = 0; r < k->n_rules; r++)
			fprintf(f, "%s %s %llu", r ? "," : "", k->rules[r].id,
				(unsigned long long)k->rules[r].n);
		if (k->rules_other)
			fprintf(f, ", other %llu",
				(unsigned long long)k->rules_other);
		fprintf(f, "\n");
	}
	for (int c = 0; c < LOAD_C_COUNT; c++) {
		if (!m->cmd[c].received)
			continue;
		if (!any)
			fprintf(f, "%-22s %9s %9s %7s\n", "command", "received",
				"applied", "failed");
		any = true;
		fprintf(f, "%-22s %9llu %9llu %7llu\n", load_cmd_name(c),
			(unsigned long long)m->cmd[c].received,
			(unsigned long long)m->cmd[c].applied,
			(unsigned long long)m->cmd[c].failed);
	}
	for (size_t t = 0; t < m->nsec; t++) {
		if (!m->sec[t].sampled)
			continue;
		if (!rss_first)
			rss_first = m->sec[t].rss_kb;
		rss_last = m->sec[t].rss_kb;
		if (rss_last > rss_max)
			rss_max = rss_last;
	}
	fprintf(f, "offline records: at most %llu waiting at once (sampled "
		"each second)\n", (unsigned long long)load_series_offline_peak(m));
	fprintf(f, "resident memory: %.1f MB at the start, %.1f MB at most, "
		"%.1f MB at the end\n", (double)rss_first / 1024,
		(double)rss_max / 1024, (double)rss_last / 1024);
}

static void print_summary(load *L, double el, const bool *ok,
			  const double *val, const bool *has)
{
	FILE *f = L->o->out;
	load_kind *all = malloc(sizeof *all);

	fprintf(f, "\n%-22s %9s %9s %7s %9s %9s %9s %9s\n", "kind", "requests",
		"answered", "failed", "p50", "p90", "p99", "max");
	for (size_t i = 0; i <= L->met.n; i++) {
		const load_kind *k = i < L->met.n ? L->met.k[i] : all;
		if (i == L->met.n) {
			if (!all)
				break;
			load_metrics_total(&L->met, all);
		}
		fprintf(f, "%-22s %9llu %9llu %7llu %7.1fms %7.1fms %7.1fms "
			"%7.1fms\n", k->name, (unsigned long long)k->requests,
			(unsigned long long)k->answered,
			(unsigned long long)load_kind_failed(k),
			(double)hist_quantile(&k->lat_us, 0.5) / 1e3,
			(double)hist_quantile(&k->lat_us, 0.9) / 1e3,
			(double)hist_quantile(&k->lat_us, 0.99) / 1e3,
			(double)k->lat_us.max / 1e3);
	}
	if (all && load_kind_failed(all)) {
		fprintf(f, "failures:");
		for (int i = 0; i < LOAD_F_COUNT; i++)
			if (all->failed[i])
				fprintf(f, " %s %llu", load_fail_name(i),
					(unsigned long long)all->failed[i]);
		fprintf(f, "\n");
	}
	free(all);
	fprintf(f, "%zu devices, %.1f s%s%s", L->up, el,
		atomic_load(&sig_hit) ? ", interrupted" : "",
		L->aborted ? ", aborted: a threshold failed" : "");
	if (L->o->arrivals > 0)
		fprintf(f, ", %llu people shown (%llu refused by the device%s%s)",
			(unsigned long long)L->faces_shown,
			(unsigned long long)L->face_errors,
			L->face_errors ? "; the first: " : "", L->face_err);
	fprintf(f, "\n");
	if (L->late->requests)
		fprintf(f, "heartbeat lateness: %llu slots, p50 %.1fms p99 %.1fms "
			"max %.1fms\n", (unsigned long long)L->late->requests,
			(double)hist_quantile(&L->late->lat_us, 0.5) / 1e3,
			(double)hist_quantile(&L->late->lat_us, 0.99) / 1e3,
			(double)L->late->lat_us.max / 1e3);
	fprintf(f, "offline records waiting at the end: %llu (most on one "
		"device: %llu)\n", (unsigned long long)L->offline_total,
		(unsigned long long)L->offline_max);
	if (L->met.unsent)
		fprintf(f, "unsent: %llu messages never left (queued when the "
			"run ended, or the network down); not requests\n",
			(unsigned long long)L->met.unsent);
	print_measures(L, f);
	if (L->prop)
		load_prop_print(L->prop, f);
	if (L->adp)
		load_adp_print(L->adp, f);
	if (L->o->nth)
		fprintf(f, "thresholds:\n");
	for (size_t i = 0; i < L->o->nth; i++) {
		char v[64];
		load_threshold_format(&L->o->th[i], val[i], has[i], v, sizeof v);
		fprintf(f, "  %-4s %-32s %s\n", ok[i] ? "ok" : "FAIL",
			L->o->th[i].expr, v);
	}
	fflush(f);
}

/* report.json (docs/load.md), written to a temporary name and renamed so
 * that a reader never sees half a report. */
static int write_report(load *L, double el, int code, const bool *ok,
			const double *val, const bool *has, size_t abandoned,
			char *err, size_t errlen)
{
	cJSON *r = cJSON_CreateObject(), *o, *k, *th;
	load_kind *all = malloc(sizeof *all);
	int rc = CONF_ENOMEM;

	if (!r || !all)
		goto out;
	load_metrics_total(&L->met, all);
	cJSON_AddStringToObject(r, "schema", "camsim-load/1");
	cJSON_AddStringToObject(r, "camsim", camsim_version());
	cJSON_AddStringToObject(r, "server", L->o->server ? L->url : "mock");
	cJSON_AddNumberToObject(r, "started_ms", (double)L->t0);
	cJSON_AddNumberToObject(r, "elapsed_s", el);
	cJSON_AddBoolToObject(r, "interrupted", atomic_load(&sig_hit));
	cJSON_AddBoolToObject(r, "aborted", L->aborted);
	cJSON_AddNumberToObject(r, "exit_code", code);
	o = cJSON_AddObjectToObject(r, "options");
	if (o) {
		cJSON_AddNumberToObject(o, "devices", (double)L->o->devices);
		cJSON_AddNumberToObject(o, "ramp_s", (double)L->o->ramp_ms / 1e3);
		cJSON_AddNumberToObject(o, "duration_s",
					(double)L->o->duration_ms / 1e3);
		cJSON_AddNumberToObject(o, "interval_s", (double)L->o->interval_s);
		cJSON_AddNumberToObject(o, "jitter", L->o->jitter);
		cJSON_AddNumberToObject(o, "arrivals", L->o->arrivals);
		cJSON_AddBoolToObject(o, "keep_alive", L->o->keep_alive);
		cJSON_AddNumberToObject(o, "connections", L->o->connections ?
					(double)L->o->connections :
					LOOP_ACTIVE_MAX);
	}
	o = cJSON_AddObjectToObject(r, "shard");
	if (o) {
		cJSON_AddNumberToObject(o, "index", (double)L->o->shard);
		cJSON_AddNumberToObject(o, "count", (double)L->o->shards);
	}
	cJSON_AddNumberToObject(r, "devices_up", (double)L->up);
	cJSON_AddNumberToObject(r, "unsent", (double)L->met.unsent);
	cJSON_AddNumberToObject(r, "abandoned", (double)abandoned);
	cJSON_AddNumberToObject(r, "faces_shown", (double)L->faces_shown);
	cJSON_AddNumberToObject(r, "face_errors", (double)L->face_errors);
	cJSON_AddItemToObject(r, "totals", load_kind_json(all));
	if ((o = cJSON_AddObjectToObject(r, "offline_records"))) {
		cJSON_AddNumberToObject(o, "total", (double)L->offline_total);
		cJSON_AddNumberToObject(o, "max", (double)L->offline_max);
		cJSON_AddNumberToObject(o, "peak", (double)
					load_series_offline_peak(&L->met));
	}
	cJSON_AddItemToObject(r, "commands", load_cmds_json(&L->met));
	/* lateness keeps latency_us's shape so that reports merge alike */
	if ((k = load_kind_json(L->late)) &&
	    (o = cJSON_AddObjectToObject(r, "lateness")))
		cJSON_AddItemToObject(o, "heartbeat", cJSON_DetachItemFromObject(
					      k, "latency_us"));
	cJSON_Delete(k);
	if (L->prop && (o = load_prop_json(L->prop))) {
		if (L->adp)
			cJSON_AddItemToObject(o, "adapter", load_adp_json(L->adp));
		cJSON_AddItemToObject(r, "propagation", o);
	}
	k = cJSON_AddObjectToObject(r, "kinds");
	for (size_t i = 0; k && i < L->met.n; i++)
		cJSON_AddItemToObject(k, L->met.k[i]->name,
				      load_kind_json(L->met.k[i]));
	th = cJSON_AddArrayToObject(r, "thresholds");
	for (size_t i = 0; th && i < L->o->nth; i++) {
		cJSON *t = cJSON_CreateObject();
		char v[64];
		if (!t || !cJSON_AddItemToArray(th, t))
			break;
		load_threshold_format(&L->o->th[i], val[i], has[i], v, sizeof v);
		cJSON_AddStringToObject(t, "expr", L->o->th[i].expr);
		cJSON_AddBoolToObject(t, "ok", ok[i]);
		if (has[i])
			cJSON_AddNumberToObject(t, "value", val[i]);
		else
			cJSON_AddNullToObject(t, "value");
		cJSON_AddStringToObject(t, "shown", v);
	}
	if (!cJSON_AddItemToObject(r, "series", load_series_json(&L->met)))
		goto out;
	rc = load_report_write(r, L->o->report_dir, err, errlen);
out:
	if (rc == CONF_ENOMEM)
		snprintf(err, errlen, "out of memory building report.json");
	free(all);
	cJSON_Delete(r);
	return rc;
}

/* The end of the run, clean also when the devices had more due than the
 * loop could send: every device stops starting anything (dev_quiesce:
 * what had not left is reported unsent, never a request), the requests
 * on the network end (the server saw them; so must the counts) or time
 * out, and each device is powered off as soon as it has none.  Without
 * the quiesce a saturated device starts its next heartbeat in the
 * callback that ends its last one and never goes idle.  Returns how
 * many requests were abandoned after DRAIN_MS (the devices' own timeout
 * ends each before: a loop that hung). */
static size_t drain(load *L)
{
	struct timespec a, b;
	size_t left;
	int64_t ms;

	loop_timer_stop(L->l, &L->ramp_t);
	loop_timer_stop(L->l, &L->tick_t);
	for (size_t i = 0; i < L->made; i++)
		loop_timer_stop(L->l, &L->devs[i].arrive);
	for (size_t i = 0; i < L->up; i++)
		dev_quiesce(L->devs[i].d);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (;;) {
		left = 0;
		for (size_t i = 0; i < L->up; i++) {
			load_dev *ld = &L->devs[i];
			if (!ld->off && !ld->busy) {
				dev_power_off(ld->d);
				ld->off = true;
			}
			left += ld->busy;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
		if (!left || ms > DRAIN_MS)
			break;
		loop_step(L->l, 20);
	}
	for (size_t i = 0; i < L->up; i++)
		if (!L->devs[i].off)
			dev_power_off(L->devs[i].d);
	return left;
}

/* Offline records waiting on every device: the backlog a server that
 * failed leaves behind (devices retransmit them later, docs/load.md). */
static void offline_count(load *L)
{
	uint64_t rss;

	for (size_t i = 0; i < L->made; i++) {
		uint64_t n = (uint64_t)dev_offline_records(L->devs[i].d);

		L->offline_total += n;
		if (n > L->offline_max)
			L->offline_max = n;
	}
	sample(L, &rss); /* the series ends on the end's figures */
}

/* The propagation's photo enrolled once before the devices start: every
 * device then finds it in the recogniser's cache (by content), so the run
 * measures the path to the devices, not one first inference on the loop
 * thread they share -- seconds under a sanitizer on a busy machine, long
 * enough for heartbeats to pass the devices' 10 s timeout and lose the
 * replies that carry the command.  A failure here is the devices' to
 * report, each in its result. */
static void warm_recog(load *L)
{
	const char *path = L->prop ? load_prop_photo(L->prop) : NULL;
	char *buf = NULL, err[256];
	size_t len;
	img im = {0};
	recog_desc desc;

	if (!L->rg || !path || base_read_file("picture", path, 16u << 20, &buf,
					      &len, err, sizeof err) < 0)
		return;
	if (img_decode(buf, len, &im, err, sizeof err) >= 0)
		(void)recog_enroll(L->rg, &im, &desc, err, sizeof err);
	img_free(&im);
	free(buf);
}

static int setup(load *L, char *err, size_t errlen)
{
	const load_opts *o = L->o;
	char cid[80], why[400];
	int rc;

	err[0] = '\0'; /* a failure that writes nothing gets its code's text */
	if (o->propagate.cmd && o->server && !o->adapter) {
		snprintf(err, errlen, "--propagate with a server given by URL "
			 "needs --adapter FILE to queue the command on it");
		return CONF_EINVAL;
	}
	if (!(L->late = calloc(1, sizeof *L->late)))
		return CONF_ENOMEM;
	snprintf(L->late->name, sizeof L->late->name, "lateness(heartbeat)");
	L->met.extra[L->met.n_extra++] = L->late;
	if (o->src.count) {
		if (srcaddr_check("--source-addrs", &o->src, err, errlen) < 0)
			return CONF_EINVAL;
		if (!(L->src = calloc(o->src.count, sizeof *L->src)))
			return CONF_ENOMEM;
		for (uint32_t i = 0; i < o->src.count; i++)
			srcaddr_nth(&o->src, i, L->src[i]);
	}
	if (o->server && !reachable(o->server, L->src ? L->src[0] : NULL, why,
				    sizeof why)) {
		snprintf(err, errlen, "the server %s is unreachable at the start: "
			 "%s", o->server, why);
		return CONF_ESERVER;
	}
	/* TMPDIR as mktemp(1) reads it: CI runners point it at their scratch */
	const char *tmp = getenv("TMPDIR");
	bool made = false;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if ((size_t)snprintf(L->dir, sizeof L->dir, "%s/camsim-load.XXXXXX",
			     tmp) >= sizeof L->dir)
		errno = ENAMETOOLONG;
	else
		made = mkdtemp(L->dir) != NULL;
	if (!made) {
		snprintf(err, errlen, "no scratch directory in %s: %s", tmp,
			 strerror(errno));
		L->dir[0] = '\0';
		return CONF_EMKDIR;
	}
	if (o->arrivals > 0 && (rc = read_faces(L, err, errlen)) < 0)
		return rc;
	/* enrolments need the recogniser too: a device computes each
	 * enrolled photo's embedding */
	if (o->arrivals > 0 || o->propagate.cmd == LOAD_PROP_ENROL ||
	    o->propagate.cmd == LOAD_PROP_BATCH) {
		if (!(L->rg = recog_open(NULL, err, errlen)))
			return CONF_ENOMEM;
		err[0] = '\0'; /* models missing: devices say so per face */
	}
	if (loop_new(LOOP_REAL, 1.0, 0, &L->l) < 0) {
		snprintf(err, errlen, "cannot create the event loop");
		return CONF_ENOMEM;
	}
	atomic_store(&sig_loop, L->l);
	if (!o->server) {
		char db[128];
		/* a scratch database nobody reads after the run: kept small,
		 * and written without fsync, since a mock under load that
		 * waits on the disk at each checkpoint falls behind
		 * (docs/load.md, --server; docs/perf.md) */
		mock_opts mo = {.listen = "127.0.0.1:0", .path = "/api/face",
				.db = db, .prof = o->prof,
				.retain_bytes = LOAD_MOCK_RETAIN_BYTES,
				.scratch = true};
		snprintf(db, sizeof db, "%s/mock.db", L->dir);
		if ((rc = mock_start(&mo, &L->m, err, errlen)) < 0)
			return rc;
		snprintf(L->url, sizeof L->url, "http://127.0.0.1:%d/api/face",
			 mock_port(L->m));
	} else {
		snprintf(L->url, sizeof L->url, "%s", o->server);
	}
	if ((rc = store_open(L->dir, &L->st, err, errlen)) < 0)
		return rc;
	L->env.loop = L->l;
	L->env.store = L->st;
	L->env.recog = L->rg;
	L->env.prof = o->prof;
	L->env.on_exchange = on_exchange;
	L->env.on_event = on_event;
	L->env.event_ud = L;
	L->env.exchange_ud = L;
	L->env.on_slot = on_slot;
	L->env.idle_reupload_ms = o->idle_reupload_ms;
	L->env.keep_alive = o->keep_alive;
	loop_set_active_max(L->l, (size_t)o->connections);
	dev_env_defaults(&L->env);
	L->met.prof = L->env.prof; /* replies judged as the devices judge */
	if (!(L->devs = calloc((size_t)o->devices, sizeof *L->devs)))
		return CONF_ENOMEM;
	/* Each dev_new reads and writes about 20 rows of the store, each
	 * statement a transaction with its locks when alone: grouped by
	 * SET_UP_BATCH devices, 100,000 devices are set up in a fraction of
	 * the time (docs/perf.md) */
	if ((rc = store_begin(L->st)) < 0)
		goto set_up_failed;
	for (L->made = 0; (long)L->made * o->shards + o->shard < o->devices;
	     L->made++) {
		load_dev *ld = &L->devs[L->made];
		size_t k = L->made * (size_t)o->shards + (size_t)o->shard;
		dev_opts dop = {.cid = cid, .server_url = L->url,
				.interval_s = o->interval_s,
				.app_version = "V1.0.0", .jitter = o->jitter,
				.source_addr = L->src ? L->src[k % o->src.count]
						      : NULL};
		device_cid_derive("load", k, cid, sizeof cid);
		if ((rc = dev_new(&L->env, &dop, &ld->d, err, errlen)) < 0) {
			store_rollback(L->st);
			return rc;
		}
		ld->L = L;
		ld->late_ms = -1;
		ld->arrive.fn = arrive_fire;
		if ((L->made + 1) % SET_UP_BATCH == 0 &&
		    ((rc = store_commit(L->st)) < 0 ||
		     (rc = store_begin(L->st)) < 0))
			goto set_up_failed;
	}
	if ((rc = store_commit(L->st)) < 0)
		goto set_up_failed;
	if (o->propagate.cmd) {
		if ((rc = load_prop_new(&o->propagate, o->faces_dir, L->made,
					&L->prop, err, errlen)) < 0)
			return rc;
		L->met.extra[L->met.n_extra++] = load_prop_kind(L->prop);
		warm_recog(L);
		if (o->adapter && (rc = load_adp_new(o->adapter, L->prop, L->made,
				o->adapter_concurrency ? o->adapter_concurrency
				: LOAD_ADP_CONCURRENCY, L->l, o->progress,
				o->progress_tty, &L->adp, err, errlen)) < 0)
			return rc;
	}
	return 0;
set_up_failed:
	snprintf(err, errlen, "saving the devices' state while setting them "
		 "up: %s", store_errmsg(L->st));
	store_rollback(L->st);
	return rc;
}

int load_run(const load_opts *opts)
{
	load_opts oc = *opts; /* shards 0 (a zeroed load_opts) is unsharded */
	const load_opts *o = &oc;
	load *L = calloc(1, sizeof *L);
	struct sigaction sa, old_int, old_term;
	char err[1024] = "";
	bool sigs = false, *ok = NULL, *has = NULL;
	double *val = NULL, el;
	size_t abandoned;
	int code = LOAD_EXIT_CANNOT_RUN, rc;

	if (!L || !(ok = calloc(o->nth + 1, sizeof *ok)) ||
	    !(has = calloc(o->nth + 1, sizeof *has)) ||
	    !(val = calloc(o->nth + 1, sizeof *val))) {
		fprintf(o->progress, "camsim load: out of memory\n");
		goto out;
	}
	if (!oc.shards)
		oc.shards = 1;
	if (o->shards < 1 || o->shard < 0 || o->shard >= o->shards) {
		fprintf(o->progress, "camsim load: shard %ld of %ld: the index "
			"must be from 0 to the count - 1\n", o->shard, o->shards);
		goto out;
	}
	L->o = o;
	L->rng = 0x9E3779B97F4A7C15ULL;
	/* before the set-up, which takes a while for many devices: a signal
	 * during it ends the run as soon as it is done, with its report */
	atomic_store(&sig_hit, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigs = true;
	if ((rc = setup(L, err, sizeof err)) < 0) {
		fprintf(o->progress, "camsim load: %s\n", err[0] ? err :
			conf_strerror(rc));
		goto out;
	}
	/* the series sized once for the whole run, drain included, so that
	 * it does not grow in steps as the run goes on (docs/load.md) */
	if (load_metrics_reserve(&L->met, (o->ramp_ms + o->duration_ms +
					    DRAIN_MS) / 1000 + 2) < 0) {
		fprintf(o->progress, "camsim load: out of memory for the "
			"series of a %.0f s run\n", (double)(o->ramp_ms +
			o->duration_ms) / 1e3);
		goto out;
	}
	/* each second's buckets written to the scratch directory once it is
	 * closed and read back for the report, so that memory does not grow
	 * with the run's length by what it charts (docs/load.md); without
	 * the file they stay in memory */
	char sp[sizeof L->dir + 16];
	int fd;
	snprintf(sp, sizeof sp, "%s/series.bin", L->dir);
	if ((fd = open(sp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) >= 0) {
		unlink(sp); /* gone with the process, whatever happens */
		load_metrics_spill(&L->met, fd);
	}

	fprintf(o->progress, "camsim load: %zu devices -> %s, ramp %.1fs, "
		"duration %.1fs, interval %lds\n", L->made,
		o->server ? L->url : "the in-process mock",
		(double)o->ramp_ms / 1e3, (double)o->duration_ms / 1e3,
		o->interval_s);
	L->t0 = loop_now(L->l);
	L->t_end = L->t0 + o->ramp_ms + o->duration_ms;
	L->ramp_t.fn = ramp_fire;
	L->tick_t.fn = tick_fire;
	loop_timer_at(L->l, &L->ramp_t, L->t0);
	loop_timer_at(L->l, &L->tick_t, L->t0 + 1000);
	sample(L, &(uint64_t){0}); /* second 0: memory before any traffic */
	if (!atomic_load(&sig_hit))
		loop_run_until(L->l, L->t_end);
	L->t_stop = loop_now(L->l);
	el = (double)(L->t_stop - L->t0) / 1000.0;
	if (L->progress_open)
		fputc('\n', o->progress);
	/* no adapter call may queue a command the drain would not wait for */
	load_adp_stop(L->adp);
	/* its threads are joined: the calls can be judged ("adapter") */
	if (L->adp)
		L->met.extra[L->met.n_extra++] = load_adp_calls(L->adp);
	abandoned = drain(L);
	/* once, at the end: the times are the mock's own, and reading the
	 * commands back (photos included) while devices run would load the
	 * loop thread the devices share */
	if (L->prop) {
		if (L->adp) {
			load_adp_settle(L->adp, L->prop);
		} else {
			prop_join(L);
			load_prop_poll(L->prop, L->m);
		}
		load_prop_end(L->prop);
	}
	offline_count(L);

	code = LOAD_EXIT_OK;
	for (size_t i = 0; i < o->nth; i++) {
		val[i] = load_threshold_value(&o->th[i], &L->met, el, &has[i]);
		ok[i] = load_threshold_holds(&o->th[i], &L->met, el);
		if (!ok[i])
			code = LOAD_EXIT_THRESHOLD;
	}
	print_summary(L, el, ok, val, has);
	if (abandoned)
		fprintf(o->progress, "camsim load: %zu requests still in flight "
			"after %d s were abandoned (not counted)\n", abandoned,
			DRAIN_MS / 1000);
	if (o->report_dir && (rc = write_report(L, el, code, ok, val, has,
						abandoned, err, sizeof err)) < 0) {
		fprintf(o->progress, "camsim load: %s\n", err);
		code = LOAD_EXIT_CANNOT_RUN;
	}
out:
	if (sigs) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		atomic_store(&sig_loop, NULL);
	}
	if (L) {
		prop_join(L); /* before the mock and the devices go */
		for (size_t i = 0; i < L->made; i++)
			dev_free(L->devs[i].d);
		free(L->devs);
		load_adp_free(L->adp); /* its timer is the loop's */
		mock_stop(L->m);
		store_close(L->st);
		loop_free(L->l);
		recog_close(L->rg);
		for (size_t i = 0; i < L->nimg; i++)
			free(L->img[i]);
		free(L->img);
		free(L->img_len);
		load_metrics_free(&L->met);
		load_prop_free(L->prop);
		free(L->late);
		free(L->src);
		if (L->dir[0])
			rm_scratch(L->dir);
	}
	free(L);
	free(ok);
	free(has);
	free(val);
	return code;
}
