/* device_cli.c -- `camsim device': parses the options, builds the loop,
 * store, recogniser, devices and control API, runs until --duration or a
 * signal, then takes it all down in order.  Owns the exit code and the
 * signal handlers; touches devices only through device.h, on this thread. */
#include "device_cli.h"

#include "control.h"
#include "device.h"
#include "sim_err.h"
#include "srcaddr.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COUNT_MAX 100000
#define CID_MAX 64 /* docs/protocol.md D33: 1-64 of 0x21-0x7E */

static const char usage[] =
	"usage: camsim device --server URL --cid CID --state DIR [--count N]\n"
	"                     [--interval S] [--profile strict|as-printed]\n"
	"                     [--control HOST:PORT] [--transcript FILE]\n"
	"                     [--time-scale X] [--clock real|jump] [--capacity N]\n"
	"                     [--duration S] [--keep-alive] [--source-addrs A-B]\n"
	"\n"
	"Runs simulated tablet cameras against a server speaking protocol V1.16\n"
	"until --duration passes or SIGINT/SIGTERM arrives.\n"
	"  --server URL        where the devices send heartbeats (http://host:port/path);\n"
	"                      a server's reply may move them, and that is remembered\n"
	"  --cid CID           the device's cid (1-64 printable ASCII, no spaces)\n"
	"  --state DIR         state directory (DIR/camsim-state.db, created if missing);\n"
	"                      a device restarted with the same DIR and cid resumes\n"
	"  --count N           N devices (1-100000), cids derived from CID: cam000001 gives\n"
	"                      cam000001, cam000002, ...; lobby gives lobby-00001, ...\n"
	"  --interval S        heartbeat interval of a device seen for the first time\n"
	"                      (1-86400 s, default 3)\n"
	"  --profile P         strict (default) or as-printed (docs/protocol.md, Profiles)\n"
	"  --control HOST:PORT serve the control API there (127.0.0.1 if HOST is omitted;\n"
	"                      docs/device.md, Control API)\n"
	"  --transcript FILE   append every HTTP exchange to FILE\n"
	"  --time-scale X      the device clock runs X times real time (0 < X <= 1000000)\n"
	"  --clock real|jump   jump: skip idle time to the next timer (default real)\n"
	"  --capacity N        face library capacity (1-10000000, default 10000)\n"
	"  --duration S        stop after S seconds of wall time (default: run until a\n"
	"                      signal)\n"
	"  --keep-alive        reuse connections (default: one per message, with\n"
	"                      Connection: close: V1.16's short connection, D57)\n"
	"  --source-addrs A-B  spread the devices' connections round-robin over\n"
	"                      these local IPv4 addresses, one /24 (e.g.\n"
	"                      127.0.0.2-127.0.0.9; docs/load.md)\n"
	"Exit: 0 stopped as asked, 1 a runtime failure, 2 a wrong command line.\n";

typedef struct cli_opts {
	const char *server, *cid, *state, *control, *transcript;
	const proto_profile *prof;
	long count;
	bool has_count;
	long interval, capacity;
	double scale, duration;
	bool jump, keep_alive;
	srcaddr_range src;
} cli_opts;

/* ---- cid derivation ---- */

int device_cid_derive(const char *base, size_t i, char *out, size_t outlen)
{
	size_t len, d;
	unsigned long long v = 0, lim = 1;
	int n;

	if (!base || !out || !(len = strlen(base)))
		return SIM_EINVAL;
	for (d = len; d > 0 && base[d - 1] >= '0' && base[d - 1] <= '9'; d--)
		;
	if (d == len) { /* no trailing digits: base-00001, ... */
		if (i >= 999999999)
			return SIM_EINVAL;
		n = snprintf(out, outlen, "%s-%05zu", base, i + 1);
		return n < 0 || (size_t)n >= outlen ? SIM_EINVAL : 0;
	}
	if (len - d > 18)
		return SIM_EINVAL; /* keeps the arithmetic in 64 bits */
	for (size_t k = d; k < len; k++) {
		v = v * 10 + (unsigned long long)(base[k] - '0');
		lim *= 10;
	}
	if (i >= lim || v >= lim - i)
		return SIM_EINVAL; /* v + i needs more digits */
	n = snprintf(out, outlen, "%.*s%0*llu", (int)d, base, (int)(len - d),
		     v + i);
	return n < 0 || (size_t)n >= outlen ? SIM_EINVAL : 0;
}

static bool cid_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > CID_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7E)
			return false;
	return true;
}

/* ---- option parsing ---- */

static int bad_number(FILE *err, const char *opt, const char *v,
		      const char *rule)
{
	fprintf(err, "camsim device: %s is \"%s\"; it must be %s\n", opt, v, rule);
	return 2;
}

static int parse_long(FILE *err, const char *opt, const char *v, long lo,
		      long hi, long *out)
{
	char *end;
	long n;
	char rule[96];

	errno = 0;
	n = strtol(v, &end, 10);
	if (!*v || *end || errno || n < lo || n > hi) {
		snprintf(rule, sizeof rule, "an integer from %ld to %ld", lo, hi);
		return bad_number(err, opt, v, rule);
	}
	*out = n;
	return 0;
}

/* A finite number in (lo, hi] (lo excluded). */
static int parse_pos(FILE *err, const char *opt, const char *v, double hi,
		     double *out)
{
	char *end;
	double x;
	char rule[96];

	errno = 0;
	x = strtod(v, &end);
	if (!*v || *end || errno || !isfinite(x) || x <= 0 || x > hi) {
		snprintf(rule, sizeof rule, "a number greater than 0 and at "
			 "most %g", hi);
		return bad_number(err, opt, v, rule);
	}
	*out = x;
	return 0;
}

static bool url_ok(const char *u)
{
	const char *h = !strncmp(u, "http://", 7) ? u + 7 :
			!strncmp(u, "https://", 8) ? u + 8 : NULL;

	if (!h || !*h || *h == '/' || *h == ':')
		return false;
	for (; *u; u++)
		if ((unsigned char)*u <= 0x20 || (unsigned char)*u >= 0x7F)
			return false;
	return true;
}

/* Returns -1 to go on, or an exit code (0 after --help). */
static int parse_args(int argc, char **argv, FILE *out, FILE *err,
		      cli_opts *o)
{
	const char *clk = NULL;

	*o = (cli_opts){.prof = &proto_profile_strict, .count = 1,
			.interval = 3, .capacity = 10000};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = 0;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, out);
			return 0;
		}
		if (!strcmp(a, "--keep-alive")) {
			o->keep_alive = true;
			continue;
		}
		if (strncmp(a, "--", 2) || !a[2]) {
			fprintf(err, "camsim device: unexpected argument \"%s\"\n%s",
				a, usage);
			return 2;
		}
		if (strcmp(a, "--server") && strcmp(a, "--cid") &&
		    strcmp(a, "--state") && strcmp(a, "--count") &&
		    strcmp(a, "--interval") && strcmp(a, "--profile") &&
		    strcmp(a, "--control") && strcmp(a, "--transcript") &&
		    strcmp(a, "--time-scale") && strcmp(a, "--clock") &&
		    strcmp(a, "--capacity") && strcmp(a, "--duration") &&
		    strcmp(a, "--source-addrs")) {
			fprintf(err, "camsim device: unknown option \"%s\"\n%s", a,
				usage);
			return 2;
		}
		if (!v) {
			fprintf(err, "camsim device: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--server"))
			o->server = v;
		else if (!strcmp(a, "--cid"))
			o->cid = v;
		else if (!strcmp(a, "--state"))
			o->state = v;
		else if (!strcmp(a, "--control"))
			o->control = v;
		else if (!strcmp(a, "--transcript"))
			o->transcript = v;
		else if (!strcmp(a, "--clock"))
			clk = v;
		else if (!strcmp(a, "--source-addrs")) {
			char why[300];
			if (srcaddr_parse(a, v, &o->src, why, sizeof why) < 0 ||
			    srcaddr_check(a, &o->src, why, sizeof why) < 0) {
				fprintf(err, "camsim device: %s\n", why);
				return 2;
			}
		}
		else if (!strcmp(a, "--count")) {
			rc = parse_long(err, a, v, 1, COUNT_MAX, &o->count);
			o->has_count = true;
		} else if (!strcmp(a, "--interval"))
			rc = parse_long(err, a, v, 1, 86400, &o->interval);
		else if (!strcmp(a, "--capacity"))
			rc = parse_long(err, a, v, 1, 10000000, &o->capacity);
		else if (!strcmp(a, "--time-scale"))
			rc = parse_pos(err, a, v, 1e6, &o->scale);
		else if (!strcmp(a, "--duration"))
			rc = parse_pos(err, a, v, 1e9, &o->duration);
		else if (!(o->prof = proto_profile_find(v))) {
			fprintf(err, "camsim device: --profile is \"%s\"; it must "
				"be strict or as-printed\n", v);
			return 2;
		}
		if (rc)
			return rc;
	}
	if (!o->server || !o->cid || !o->state) {
		fprintf(err, "camsim device: %s is required\n%s",
			!o->server ? "--server URL" : !o->cid ? "--cid CID" :
			"--state DIR", usage);
		return 2;
	}
	if (!url_ok(o->server)) {
		fprintf(err, "camsim device: --server is \"%s\"; it must be an "
			"http:// or https:// URL with a host, without spaces\n",
			o->server);
		return 2;
	}
	if (!*o->state) {
		fprintf(err, "camsim device: --state is \"\"; it must name a "
			"directory\n");
		return 2;
	}
	if (clk && strcmp(clk, "real") && strcmp(clk, "jump")) {
		fprintf(err, "camsim device: --clock is \"%s\"; it must be real "
			"or jump\n", clk);
		return 2;
	}
	o->jump = clk && !strcmp(clk, "jump");
	if (o->jump && o->scale > 0) {
		fprintf(err, "camsim device: --time-scale %g and --clock jump do "
			"not combine (jump runs at real speed between jumps)\n",
			o->scale);
		return 2;
	}
	if (!cid_valid(o->cid)) {
		fprintf(err, "camsim device: --cid is \"%s\"; a cid is 1 to %d "
			"printable ASCII characters without spaces\n", o->cid,
			CID_MAX);
		return 2;
	}
	if (o->has_count) {
		/* the last cid is the longest: one check covers them all */
		char c[CID_MAX + 32];
		int d = device_cid_derive(o->cid, (size_t)o->count - 1, c,
					  sizeof c);
		if (d || strlen(c) > CID_MAX) {
			fprintf(err, "camsim device: --count %ld does not fit --cid "
				"\"%s\": device %ld would need %s\n", o->count,
				o->cid, o->count, d ? "more digits than CID ends "
				"with (give CID leading zeros)" : "a cid longer "
				"than 64 characters");
			return 2;
		}
	}
	return -1;
}

/* ---- stopping: signals and --duration ---- */

static loop *_Atomic sig_loop;

static void on_signal(int sig)
{
	loop *l = atomic_load(&sig_loop);

	(void)sig;
	if (l)
		loop_stop(l);
}

typedef struct timer_thread {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	double seconds;
	loop *l;
} timer_thread;

static void *timer_main(void *arg)
{
	timer_thread *t = arg;
	struct timespec dl;
	double whole = floor(t->seconds);

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += (time_t)whole;
	dl.tv_nsec += (long)((t->seconds - whole) * 1e9);
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&t->mu);
	while (!t->done)
		if (pthread_cond_timedwait(&t->cv, &t->mu, &dl) == ETIMEDOUT)
			break;
	if (!t->done)
		loop_stop(t->l);
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* Starts the --duration thread; false (errno) when it cannot. */
static bool timer_start(timer_thread *t, loop *l, double seconds)
{
	pthread_condattr_t a;

	t->done = false;
	t->seconds = seconds;
	t->l = l;
	pthread_mutex_init(&t->mu, NULL);
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cv, &a);
	pthread_condattr_destroy(&a);
	if (pthread_create(&t->th, NULL, timer_main, t)) {
		pthread_cond_destroy(&t->cv);
		pthread_mutex_destroy(&t->mu);
		return false;
	}
	return true;
}

static void timer_end(timer_thread *t)
{
	pthread_mutex_lock(&t->mu);
	t->done = true;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->th, NULL);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
}

/* ---- the run ---- */

int device_main(int argc, char **argv, FILE *out, FILE *err)
{
	cli_opts o;
	char e[512], cid[CID_MAX + 2];
	loop *l = NULL;
	store *st = NULL;
	recog *rg = NULL;
	FILE *tr = NULL;
	dev **devs = NULL;
	ctl *c = NULL;
	dev_env env = {0};
	size_t made = 0;
	char (*src)[SRCADDR_LEN] = NULL; /* --source-addrs by name */
	struct sigaction sa, old_int, old_term;
	timer_thread tt;
	bool timer = false, sigs = false;
	int rc = 1;

	if ((rc = parse_args(argc, argv, out, err, &o)) >= 0)
		return rc;
	rc = 1;
	if (loop_new(o.jump ? LOOP_JUMP : o.scale > 0 ? LOOP_SCALED : LOOP_REAL,
		     o.scale > 0 ? o.scale : 1.0, 0, &l)) {
		fprintf(err, "camsim device: cannot create the event loop (out of "
			"memory or no libcurl multi handle)\n");
		goto out;
	}
	/* from here a signal makes loop_run return at once: a long start-up
	 * (many devices) can be interrupted and still shuts down cleanly */
	atomic_store(&sig_loop, l);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigs = true;
	if (store_open(o.state, &st, e, sizeof e)) {
		fprintf(err, "camsim device: --state \"%s\": %s\n", o.state, e);
		goto out;
	}
	e[0] = '\0';
	if (!(rg = recog_open(NULL, e, sizeof e))) {
		fprintf(err, "camsim device: the recogniser cannot start: %s\n",
			e[0] ? e : "unknown reason");
		goto out;
	}
	if (o.transcript && !(tr = fopen(o.transcript, "a"))) {
		fprintf(err, "camsim device: --transcript \"%s\" cannot be opened "
			"for appending: %s\n", o.transcript, strerror(errno));
		goto out;
	}
	env.loop = l;
	env.store = st;
	env.recog = rg;
	env.prof = o.prof;
	env.transcript = tr;
	env.capacity = o.capacity;
	env.keep_alive = o.keep_alive;
	env.on_event = ctl_event;
	env.event_ud = NULL; /* the ctl, once started */
	dev_env_defaults(&env);

	if (o.src.count && !(src = calloc(o.src.count, sizeof *src))) {
		fprintf(err, "camsim device: out of memory\n");
		goto out;
	}
	for (uint32_t i = 0; i < o.src.count; i++)
		srcaddr_nth(&o.src, i, src[i]);
	if (!(devs = calloc((size_t)o.count, sizeof *devs))) {
		fprintf(err, "camsim device: out of memory for %ld devices\n",
			o.count);
		goto out;
	}
	for (made = 0; made < (size_t)o.count; made++) {
		dev_opts dop = {.cid = cid, .server_url = o.server,
				.interval_s = o.interval, .app_version = "V1.0.0",
				.source_addr = src ? src[made % o.src.count]
						   : NULL};
		if (!o.has_count)
			snprintf(cid, sizeof cid, "%s", o.cid);
		else
			device_cid_derive(o.cid, made, cid, sizeof cid);
		if (dev_new(&env, &dop, &devs[made], e, sizeof e)) {
			fprintf(err, "camsim device: device %s: %s\n", cid, e);
			goto out;
		}
	}
	if (o.control) {
		if (ctl_start(o.control, l, devs, made, &c, e, sizeof e)) {
			fprintf(err, "camsim device: --control: %s\n", e);
			goto out;
		}
		env.event_ud = c;
	}
	for (size_t i = 0; i < made; i++)
		if (dev_power_on(devs[i], e, sizeof e)) {
			fprintf(err, "camsim device: device %s cannot power on: %s\n",
				dev_cid(devs[i]), e);
			goto out;
		}

	fprintf(out, "camsim device: %zu device%s (%s%s%s) -> %s, state in %s",
		made, made == 1 ? "" : "s", dev_cid(devs[0]),
		made > 1 ? " .. " : "", made > 1 ? dev_cid(devs[made - 1]) : "",
		o.server, o.state);
	if (c)
		fprintf(out, ", control API on port %d", ctl_port(c));
	fprintf(out, "\n");
	fflush(out);

	if (o.duration > 0) {
		if (!(timer = timer_start(&tt, l, o.duration))) {
			fprintf(err, "camsim device: cannot start the --duration "
				"timer thread\n");
			goto out;
		}
	}
	loop_run(l);
	fprintf(out, "camsim device: stopping\n");
	fflush(out);
	rc = 0;
out:
	if (timer)
		timer_end(&tt);
	if (sigs) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		atomic_store(&sig_loop, NULL);
	}
	env.event_ud = NULL;
	ctl_stop(c);
	for (size_t i = 0; i < made; i++)
		dev_free(devs[i]);
	free(devs);
	free(src);
	store_close(st);
	loop_free(l);
	recog_close(rg);
	if (tr && fclose(tr) && rc == 0) {
		fprintf(err, "camsim device: --transcript \"%s\": %s\n",
			o.transcript, strerror(errno));
		rc = 1;
	}
	return rc;
}
