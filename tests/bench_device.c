/* bench_device.c -- N simulated devices heartbeating once a second on one
 * loop against a CivetWeb server in a child process: how late heartbeat
 * slots start, failures, CPU, memory per device (RSS, malloc, dev_mem_bytes).
 * Exits 1 when p99 lateness passes 100 ms or a device costs over 16 KiB.
 * `bench_device scale [--interval S] N...`: how much an idle device costs
 * at 10,000 to 100,000 devices in one process; exits 1 over 10 KiB RSS per
 * device or when an exchange failed. */
#include "bench_util.h"
#include "base.h" /* container_of */
#include "device.h"
#include "device_test.h" /* dev_mem_bytes */
#include "loop.h"
#include "mem.h"
#include "recog.h"
#include "store.h"

#include <civetweb.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WARMUP_S 5          /* the power-on burst and its echo: not measured */
#define HIST_MS 100000      /* lateness histogram, 1 ms buckets */
#define TARGET_P99_MS 100
#define TARGET_MEM 16384

/* ---------------------------------------------------------------- server */

static atomic_long srv_requests, srv_closed;

static int srv_handler(struct mg_connection *c, void *ud)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: "
				 "application/json\r\nContent-Length: 0\r\n\r\n";
	char buf[4096];

	(void)ud;
	while (mg_read(c, buf, sizeof(buf)) > 0)
		;
	/* One write: mg_send_http_ok sends each header line on its own, and
	 * Nagle's algorithm against the client's delayed ACK then holds every
	 * answer ~40 ms (measured: 64 connections gave ~1,500 answers/s). */
	mg_write(c, ok, sizeof(ok) - 1);
	atomic_fetch_add(&srv_requests, 1);
	return 200;
}

static void srv_close(const struct mg_connection *c)
{
	(void)c;
	atomic_fetch_add(&srv_closed, 1);
}

typedef struct srv_stats {
	int port;
	long requests, closed;
} srv_stats;

/* The child: serves until the parent closes quit_fd, then reports how many
 * requests it answered and connections it closed on out_fd. */
static void server_main(int out_fd, int quit_fd)
{
	const char *opts[] = {
		"listening_ports", "127.0.0.1:0",
		"num_threads", "128",
		"enable_keep_alive", "yes",
		"tcp_nodelay", "1",
		"keep_alive_timeout_ms", "30000",
		"request_timeout_ms", "30000",
		NULL,
	};
	struct mg_callbacks cb;
	struct mg_server_port ports[2];
	struct mg_context *ctx;
	srv_stats st = {0};
	char c;

	memset(&cb, 0, sizeof(cb));
	cb.connection_close = srv_close;
	mg_init_library(0);
	ctx = mg_start(&cb, NULL, opts);
	if (ctx && mg_get_server_ports(ctx, 2, ports) >= 1) {
		mg_set_request_handler(ctx, "/", srv_handler, NULL);
		st.port = ports[0].port;
	}
	if (write(out_fd, &st, sizeof(st)) != sizeof(st) || !st.port)
		_exit(1);
	while (read(quit_fd, &c, 1) < 0 && errno == EINTR)
		;
	mg_stop(ctx);
	st.requests = atomic_load(&srv_requests);
	st.closed = atomic_load(&srv_closed);
	if (write(out_fd, &st, sizeof(st)) != sizeof(st))
		_exit(1);
	_exit(0);
}

/* ---------------------------------------------------------------- measuring */

typedef struct result {
	char err[256];
	int n, secs;
	double create_s, poweron_s;
	long expected, slots, missed, replies, fails, fails_window;
	long hook_negative;          /* on_slot said late_ms < 0 */
	double per_s;
	long late_p50, late_p90, late_p99, late_max;
	long reply_p50, reply_p99, reply_max;
	size_t max_flight, max_flight_all;
	double cpu_dev, cpu_srv;     /* fraction of one core, in the window */
	long rss0, rss_idle, rss_run, rss_peak; /* kB */
	long heap0, heap_run;        /* bytes malloc'd and in use */
	double mem_idle, mem_run;    /* sum of dev_mem_bytes / N */
	long srv_requests, srv_closed;
} result;

/* Lateness is computed here from each device's power-on time, not taken
 * from on_slot's late_ms: a device's slots are power-on plus whole
 * intervals (fixed rate), and a slot whose heartbeat never left because the
 * previous exchange was still going (the device then sends one heartbeat
 * for the latest slot) is counted as missed, not as on time. */
typedef struct slots {
	int64_t first;               /* loop ms of the first slot (power-on;
					a ms early at most, never late) */
	int64_t last_due;            /* the last slot sent: its time */
} slots;

typedef struct bench {
	loop *l;
	int64_t win_start, win_end, interval_ms;
	slots *s;                    /* per device, by cid number */
	long *late, *reply;          /* histograms, HIST_MS + 1 buckets */
	result *r;
} bench;

/* Bytes the program holds from malloc (glibc's count, main arena and
 * mmap'd blocks): what RSS would be without freed-but-kept pages. */
static long heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();
	return (long)(mi.uordblks + mi.hblkhd);
}

static double cpu_self(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The q quantile of h over total samples; those not in h (missed slots)
 * are later than any: MISSED when the quantile falls among them. */
#define MISSED LONG_MAX
static long pct(const long *h, long total, double q)
{
	long want = (long)(q * (double)total + 0.999999), seen = 0;

	if (total <= 0)
		return -1;
	if (want < 1)
		want = 1;
	for (long i = 0; i <= HIST_MS; i++)
		if ((seen += h[i]) >= want)
			return i;
	return MISSED;
}

static long top(const long *h)
{
	for (long i = HIST_MS; i >= 0; i--)
		if (h[i])
			return i;
	return -1;
}

static long dev_index(const dev *d)
{
	return strtol(dev_cid(d) + 3, NULL, 10); /* "dev00042" */
}

static void on_slot(void *ud, dev *d, int64_t late_ms)
{
	bench *b = ud;
	slots *s = &b->s[dev_index(d)];
	int64_t now = loop_now(b->l), k, due, late;
	size_t fl = loop_http_in_flight(b->l);

	if (late_ms < 0)
		b->r->hook_negative++;
	k = (now - s->first) / b->interval_ms;
	due = s->first + k * b->interval_ms;
	late = now - due;
	s->last_due = due;
	if (fl > b->r->max_flight_all)
		b->r->max_flight_all = fl;
	if (due < b->win_start || due >= b->win_end)
		return;
	b->r->slots++;
	b->late[late > HIST_MS ? HIST_MS : late]++;
	if (fl > b->r->max_flight)
		b->r->max_flight = fl;
}

static void on_event(void *ud, dev *d, const dev_event *ev)
{
	bench *b = ud;

	if (ev->kind == DEV_EV_FAIL) {
		int64_t now = loop_now(b->l);
		b->r->fails++;
		if (now >= b->win_start && now < b->win_end)
			b->r->fails_window++;
		if (b->r->fails <= 3)
			fprintf(stderr, "bench_device: %s: %s\n", dev_cid(d), ev->text);
	} else if (ev->kind == DEV_EV_REPLY) {
		int64_t due = b->s[dev_index(d)].last_due;
		int64_t took = loop_now(b->l) - due;
		if (due < b->win_start || due >= b->win_end)
			return;
		b->r->replies++;
		b->reply[took < 0 ? 0 : took > HIST_MS ? HIST_MS : took]++;
	}
}

static void rm_dir(const char *dir)
{
	static const char *const files[] = {
		"camsim-state.db", "camsim-state.db-wal", "camsim-state.db-shm",
		"camsim-state.lock",
	};
	char p[512];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

/* What both measurements stand on: the CivetWeb server in a child process
 * (its port and counters come through the up pipe; closing quit stops it),
 * the loop, a store in a temporary directory and the recogniser. */
typedef struct rig {
	int up[2], quit[2];
	pid_t srv;
	int port;
	char dir[40], url[96];
	loop *l;
	store *sto;
	recog *rg;
} rig;

/* Starts the server and opens the rest; dir_tmpl is mkdtemp's pattern.
 * 0, or -1 with the reason in err.  rig_down undoes what was done, also
 * after a failure. */
static int rig_up(rig *g, const char *dir_tmpl, char *err, size_t errlen)
{
	srv_stats st;

	memset(g, 0, sizeof(*g));
	g->up[0] = g->up[1] = g->quit[0] = g->quit[1] = -1;
	g->srv = -1;
	snprintf(g->dir, sizeof(g->dir), "%s", dir_tmpl);
	if (pipe(g->up) < 0 || pipe(g->quit) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	g->srv = fork();
	if (g->srv < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (g->srv == 0) {
		close(g->up[0]);
		close(g->quit[1]);
		server_main(g->up[1], g->quit[0]);
	}
	close(g->up[1]);
	close(g->quit[0]);
	g->up[1] = g->quit[0] = -1;
	if (read(g->up[0], &st, sizeof(st)) != sizeof(st) || !st.port) {
		snprintf(err, errlen, "the CivetWeb server did not start");
		return -1;
	}
	g->port = st.port;
	snprintf(g->url, sizeof(g->url), "http://127.0.0.1:%d/api/face", st.port);
	if (loop_new(LOOP_REAL, 1, 0, &g->l) < 0 || !mkdtemp(g->dir) ||
	    store_open(g->dir, &g->sto, err, errlen) < 0 ||
	    !(g->rg = recog_open(NULL, err, errlen))) {
		if (!err[0])
			snprintf(err, errlen, "loop or temp dir: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Closes what rig_up opened, stops the server and reads its counters. */
static void rig_down(rig *g, long *srv_requests_out, long *srv_closed_out)
{
	srv_stats st;

	recog_close(g->rg);
	store_close(g->sto);
	loop_free(g->l);
	if (strcmp(g->dir + strlen(g->dir) - 6, "XXXXXX"))
		rm_dir(g->dir);
	if (g->quit[1] >= 0)
		close(g->quit[1]); /* the server stops and reports */
	if (g->up[0] >= 0 && read(g->up[0], &st, sizeof(st)) == sizeof(st)) {
		*srv_requests_out = st.requests;
		*srv_closed_out = st.closed;
	}
	g->quit[1] = -1;
	for (int i = 0; i < 2; i++) {
		if (g->up[i] >= 0)
			close(g->up[i]);
		if (g->quit[i] >= 0)
			close(g->quit[i]);
	}
	if (g->srv > 0)
		waitpid(g->srv, NULL, 0);
}

/* One configuration, in its own process so that its RSS starts clean. */
static void run(int n, int secs, result *r)
{
	rig g;
	char cid[16];
	loop *l = NULL;
	store *sto = NULL;
	recog *rg = NULL;
	dev **devs = NULL;
	bench b;
	dev_env env;
	double t, c0 = 0, s0 = 0;
	int made = 0;
	int64_t start;

	memset(r, 0, sizeof(*r));
	memset(&b, 0, sizeof(b));
	r->n = n;
	r->secs = secs;
	if (rig_up(&g, "/tmp/bench_device.XXXXXX", r->err, sizeof(r->err)) < 0)
		goto out;
	l = g.l;
	sto = g.sto;
	rg = g.rg;
	b.l = l;
	b.r = r;
	b.win_start = b.win_end = INT64_MAX;
	b.interval_ms = 1000;
	b.s = calloc((size_t)n + 1, sizeof(*b.s));
	b.late = calloc(HIST_MS + 1, sizeof(long));
	b.reply = calloc(HIST_MS + 1, sizeof(long));
	devs = calloc((size_t)n, sizeof(*devs));
	if (!b.s || !b.late || !b.reply || !devs) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		goto out;
	}
	memset(&env, 0, sizeof(env));
	env.loop = l;
	env.store = sto;
	env.recog = rg;
	env.on_event = on_event;
	env.on_slot = on_slot;
	env.event_ud = &b;
	dev_env_defaults(&env);
	r->rss0 = (long)mem_rss_kb();
	r->heap0 = heap_used();

	t = mono();
	for (made = 0; made < n; made++) {
		dev_opts o = {.cid = cid, .server_url = g.url, .interval_s = 1};
		snprintf(cid, sizeof(cid), "dev%05d", made + 1);
		if (dev_new(&env, &o, &devs[made], r->err, sizeof(r->err)) < 0)
			goto out;
	}
	r->create_s = mono() - t;
	r->rss_idle = (long)mem_rss_kb();
	for (int i = 0; i < n; i++)
		r->mem_idle += (double)dev_mem_bytes(devs[i]);
	r->mem_idle /= n;

	t = mono();
	start = loop_now(l);
	for (int i = 0; i < n; i++) {
		b.s[i + 1].first = loop_now(l);
		if (dev_power_on(devs[i], r->err, sizeof(r->err)) < 0)
			goto out;
	}
	r->poweron_s = mono() - t;
	b.win_start = start + WARMUP_S * 1000;
	b.win_end = b.win_start + (int64_t)secs * 1000;

	loop_run_until(l, b.win_start);
	c0 = cpu_self();
	s0 = cpu_pid(g.srv);
	for (int64_t tick = b.win_start + 1000; tick <= b.win_end; tick += 1000) {
		long kb;
		loop_run_until(l, tick);
		if ((kb = (long)mem_rss_kb()) > r->rss_peak)
			r->rss_peak = kb;
	}
	r->cpu_dev = (cpu_self() - c0) / secs;
	r->cpu_srv = (cpu_pid(g.srv) - s0) / secs;
	r->rss_run = (long)mem_rss_kb();
	r->heap_run = heap_used();
	for (int i = 0; i < n; i++)
		r->mem_run += (double)dev_mem_bytes(devs[i]);
	r->mem_run /= n;
	/* let the last slots of the window get their answers */
	loop_run_until(l, b.win_end + 2000);

	for (int i = 1; i <= n; i++) {
		int64_t f = b.s[i].first, k0;
		/* slots f + k * interval inside [win_start, win_end) */
		k0 = f >= b.win_start ? 0 : (b.win_start - f + b.interval_ms - 1)
						/ b.interval_ms;
		for (int64_t k = k0; f + k * b.interval_ms < b.win_end; k++)
			r->expected++;
	}
	r->missed = r->expected - r->slots;
	r->per_s = (double)r->slots / secs;
	r->late_p50 = pct(b.late, r->expected, 0.50);
	r->late_p90 = pct(b.late, r->expected, 0.90);
	r->late_p99 = pct(b.late, r->expected, 0.99);
	r->late_max = r->missed > 0 ? MISSED : top(b.late);
	r->reply_p50 = pct(b.reply, r->slots, 0.50);
	r->reply_p99 = pct(b.reply, r->slots, 0.99);
	r->reply_max = top(b.reply);
out:
	for (int i = 0; i < made; i++)
		dev_free(devs[i]);
	free(devs);
	free(b.s);
	free(b.late);
	free(b.reply);
	rig_down(&g, &r->srv_requests, &r->srv_closed);
}

/* ---------------------------------------------------------------- scale */

/* `bench_device scale N...`: how many idle devices one process holds.
 * Each N runs in its own process: N devices (cids dev000001 ...), short
 * connections (one per message, as the real device), heartbeat every
 * SCALE_INTERVAL_S (or --interval) with 10 % jitter, powered on over a
 * ramp of
 * N / SCALE_RAMP_RATE s, against the child server.  Measured once every
 * device has had a heartbeat answered and nothing is in flight: before the
 * next slots (at least 0.9 x the interval after power-on), so every device
 * is idle. */
#define SCALE_INTERVAL_S 60     /* the default */
#define SCALE_RAMP_RATE 2000   /* power-ons (and first heartbeats) per s */
#define SCALE_TARGET_B 10240   /* RSS per idle device */

typedef struct scale_result {
	char err[256];
	int n;
	double create_s, ramp_s, settle_s, cpu_dev, cpu_srv;
	long rss0, rss_created, rss_idle;     /* kB */
	long heap0, heap_created, heap_idle;  /* bytes in use */
	double mem_idle;                      /* mean dev_mem_bytes */
	long exchanges, answered, failed, heartbeated, never;
	size_t max_flight;
	long tw_client, tw_server, fds;       /* at the measurement */
	long srv_requests, srv_closed;
	char first_fail[160];
} scale_result;

typedef struct scale {
	loop *l;
	dev **devs;
	int n, up;
	int64_t t0, ramp_ms;
	unsigned char *seen;      /* per device: a heartbeat was answered */
	loop_timer ramp;
	scale_result *r;
} scale;

static void scale_exchange(void *ud, dev *d, const dev_exchange *x)
{
	scale *s = ud;
	long i = dev_index(d);
	size_t fl = loop_http_in_flight(s->l);

	s->r->exchanges++;
	if (fl > s->r->max_flight)
		s->r->max_flight = fl;
	if (x->res && x->res->fail == LOOP_HTTP_OK && x->res->status == 200) {
		s->r->answered++;
		if (!strcmp(x->kind, "heartbeat") && i > 0 && i <= s->n &&
		    !s->seen[i]) {
			s->seen[i] = 1;
			s->r->heartbeated++;
		}
		return;
	}
	if (!s->r->failed++)
		snprintf(s->r->first_fail, sizeof s->r->first_fail, "%s: %s: %s",
			 dev_cid(d), x->kind, !x->res ? "not sent"
			 : x->res->fail != LOOP_HTTP_OK ? x->res->error
			 : "status not 200");
}

static void scale_ramp(loop_timer *t)
{
	scale *s = container_of(t, scale, ramp);
	int64_t now = loop_now(s->l);
	int want = (int)((double)(now - s->t0) * s->n / (double)s->ramp_ms) + 1;
	char err[256];

	if (want > s->n)
		want = s->n;
	for (; s->up < want; s->up++)
		if (dev_power_on(s->devs[s->up], err, sizeof err) < 0 &&
		    !s->r->err[0])
			snprintf(s->r->err, sizeof s->r->err, "%s", err);
	if (s->up < s->n)
		loop_timer_at(s->l, t, s->t0 + (int64_t)((double)s->up *
			      (double)s->ramp_ms / s->n));
}

/* Sockets in TIME_WAIT to or from port (state 06 in /proc/net/tcp*):
 * *client those of the devices' side (remote port = port), *server the
 * server's (local port = port). */
static void time_wait_count(int port, long *client, long *server)
{
	static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	char line[512];

	*client = *server = 0;
	for (size_t k = 0; k < 2; k++) {
		FILE *f = fopen(files[k], "r");
		unsigned st;
		int lp, rp;
		if (!f)
			continue;
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "%*s %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%x %x",
				   &lp, &rp, &st) == 3 && st == 6) {
				*client += rp == port;
				*server += lp == port;
			}
		fclose(f);
	}
}

static long fd_count(void)
{
	char p[64];
	long n = 0;

	for (int fd = 0; fd < 65536; fd++) {
		snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
		if (access(p, F_OK) == 0)
			n++;
		else if (fd > 4096)
			break;
	}
	return n;
}

static void run_scale(int n, int interval_s, scale_result *r)
{
	rig g;
	char cid[16];
	loop *l = NULL;
	store *sto = NULL;
	recog *rg = NULL;
	scale s;
	dev_env env;
	double t, c0, s0;
	int made = 0;

	memset(r, 0, sizeof(*r));
	memset(&s, 0, sizeof(s));
	r->n = n;
	if (rig_up(&g, "/tmp/bench_scale.XXXXXX", r->err, sizeof(r->err)) < 0)
		goto out;
	l = g.l;
	sto = g.sto;
	rg = g.rg;
	r->err[0] = 0; /* recognition off is fine: no faces here */
	s.l = l;
	s.r = r;
	s.n = n;
	s.devs = calloc((size_t)n, sizeof(*s.devs));
	s.seen = calloc((size_t)n + 1, 1);
	if (!s.devs || !s.seen) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		goto out;
	}
	memset(&env, 0, sizeof(env));
	env.loop = l;
	env.store = sto;
	env.recog = rg;
	env.on_exchange = scale_exchange;
	env.exchange_ud = &s;
	dev_env_defaults(&env);
	mem_give_back();
	r->rss0 = (long)mem_rss_kb();
	r->heap0 = heap_used();

	t = mono();
	for (made = 0; made < n; made++) {
		dev_opts o = {.cid = cid, .server_url = g.url,
			      .interval_s = interval_s, .jitter = 0.1};
		snprintf(cid, sizeof(cid), "dev%06d", made + 1);
		if (dev_new(&env, &o, &s.devs[made], r->err, sizeof(r->err)) < 0)
			goto out;
	}
	r->create_s = mono() - t;
	r->rss_created = (long)mem_rss_kb();
	r->heap_created = heap_used();

	c0 = cpu_self();
	s0 = cpu_pid(g.srv);
	t = mono();
	s.ramp_ms = (int64_t)n * 1000 / SCALE_RAMP_RATE;
	s.t0 = loop_now(l);
	s.ramp.fn = scale_ramp;
	loop_timer_at(l, &s.ramp, s.t0);
	/* every device heartbeated, nothing in flight; the earliest second
	 * slot is 0.9 x the interval after the first */
	int64_t limit = s.t0 + s.ramp_ms + interval_s * 900 - 1000;
	while (loop_now(l) < limit && !r->err[0] &&
	       (r->heartbeated < n || loop_http_in_flight(l) > 0))
		loop_step(l, 100);
	r->ramp_s = (double)s.ramp_ms / 1000;
	r->settle_s = mono() - t;
	r->cpu_dev = cpu_self() - c0;
	r->cpu_srv = cpu_pid(g.srv) - s0;
	r->never = n - r->heartbeated;
	r->rss_idle = (long)mem_rss_kb();
	r->heap_idle = heap_used();
	for (int i = 0; i < n; i++)
		r->mem_idle += (double)dev_mem_bytes(s.devs[i]);
	r->mem_idle /= n;
	time_wait_count(g.port, &r->tw_client, &r->tw_server);
	r->fds = fd_count();
out:
	for (int i = 0; i < made; i++)
		dev_free(s.devs[i]);
	free(s.devs);
	free(s.seen);
	rig_down(&g, &r->srv_requests, &r->srv_closed);
}

static int main_scale(int argc, char **argv, const char *load)
{
	int ns[8] = {10000, 50000, 100000}, n_ns = 3, bad = 0;
	int interval_s = SCALE_INTERVAL_S;
	scale_result res[8];

	if (argc > 1 && !strcmp(argv[0], "--interval")) {
		interval_s = numeric(argv[1]) ? atoi(argv[1]) : 0;
		if (interval_s < 2 || interval_s > 86400) {
			fprintf(stderr, "bench_device scale: --interval \"%s\": "
				"2..86400 s\n", argv[1]);
			return 2;
		}
		argc -= 2;
		argv += 2;
	}
	if (argc > 0) {
		n_ns = 0;
		for (int i = 0; i < argc && n_ns < 8; i++) {
			if (!numeric(argv[i]) || atoi(argv[i]) < 1 ||
			    atoi(argv[i]) > 1000000) {
				fprintf(stderr, "bench_device scale: N \"%s\": "
					"1..1000000 devices\n", argv[i]);
				return 2;
			}
			ns[n_ns++] = atoi(argv[i]);
		}
	}
	for (int k = 0; k < n_ns; k++) {
		int p[2];
		pid_t pid;
		scale_result *r = &res[k];

		fprintf(stderr, "bench_device scale: %d devices, ramp %d s ...\n",
			ns[k], ns[k] / SCALE_RAMP_RATE);
		if (pipe(p) < 0 || (pid = fork()) < 0) {
			perror("bench_device");
			return 1;
		}
		if (pid == 0) {
			close(p[0]);
			run_scale(ns[k], interval_s, r);
			_exit(write(p[1], r, sizeof(*r)) == sizeof(*r) ? 0 : 1);
		}
		close(p[1]);
		memset(r, 0, sizeof(*r));
		if (read(p[0], r, sizeof(*r)) != sizeof(*r))
			snprintf(r->err, sizeof(r->err), "the run for %d devices "
				 "died", ns[k]);
		close(p[0]);
		waitpid(pid, NULL, 0);
		if (r->err[0]) {
			fprintf(stderr, "bench_device scale: %d devices: %s\n",
				ns[k], r->err);
			return 1;
		}
	}
	printf("Idle devices in one process: short connections, heartbeat every "
	       "%d s (jitter 0.1), powered on at %d/s; server: CivetWeb in a "
	       "child process; %ld CPUs, load average before the runs %s.  "
	       "Measured when every device has had a heartbeat answered and "
	       "nothing is in flight.\n\n", interval_s, SCALE_RAMP_RATE,
	       sysconf(_SC_NPROCESSORS_ONLN), load);
	printf("| devices | RSS before | created (off) | idle, all heartbeated "
	       "| per device: RSS created | RSS idle | malloc'd idle | "
	       "dev_mem_bytes | exchanges | failed | CPU devices | CPU server "
	       "| TIME_WAIT devices' side | server's side | fds |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	       "---:|---:|---:|\n");
	for (int k = 0; k < n_ns; k++) {
		scale_result *r = &res[k];
		printf("| %d | %ld kB | %ld kB | %ld kB | %.0f B | %.0f B | %.0f B "
		       "| %.0f B | %ld | %ld | %.1f s | %.1f s | %ld | %ld | %ld |\n",
		       r->n, r->rss0, r->rss_created, r->rss_idle,
		       (double)(r->rss_created - r->rss0) * 1024 / r->n,
		       (double)(r->rss_idle - r->rss0) * 1024 / r->n,
		       (double)(r->heap_idle - r->heap0) / r->n, r->mem_idle,
		       r->exchanges, r->failed, r->cpu_dev, r->cpu_srv,
		       r->tw_client, r->tw_server, r->fds);
	}
	printf("\n");
	for (int k = 0; k < n_ns; k++) {
		scale_result *r = &res[k];
		double per = (double)(r->rss_idle - r->rss0) * 1024 / r->n;
		printf("%d devices: created in %.1f s, ramp %.0f s, all "
		       "heartbeated and idle after %.1f s; at most %zu transfers "
		       "in flight; the server answered %ld requests and closed "
		       "%ld connections.\n", r->n, r->create_s, r->ramp_s,
		       r->settle_s, r->max_flight, r->srv_requests,
		       r->srv_closed);
		if (per > SCALE_TARGET_B) {
			printf("TARGET MISSED: %d devices: %.0f B RSS per idle "
			       "device > %d B\n", r->n, per, SCALE_TARGET_B);
			bad = 1;
		}
		if (r->failed || r->never) {
			printf("TARGET MISSED: %d devices: %ld exchanges failed "
			       "(first: %s), %ld devices never had a heartbeat "
			       "answered\n", r->n, r->failed, r->first_fail,
			       r->never);
			bad = 1;
		}
	}
	if (!bad)
		printf("target met: <= %d B RSS per idle device at %d devices, "
		       "no failure\n", SCALE_TARGET_B, ns[n_ns - 1]);
	return bad;
}

int main(int argc, char **argv)
{
	int ns[2] = {1000, 5000}, n_ns = 2, secs = 30, bad = 0;
	result res[2];
	char load[16];

	/* `make bench' passes the source root ("."): defaults then. */
	if (argc > 1 && numeric(argv[1])) {
		ns[0] = atoi(argv[1]);
		n_ns = 1;
		if (argc > 2 && numeric(argv[2]))
			secs = atoi(argv[2]);
	}
	if (ns[0] < 1 || ns[0] > 99999 || secs < 1) {
		fprintf(stderr, "usage: bench_device [N (1..99999)] [seconds]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	{
		FILE *f = fopen("/proc/loadavg", "r");
		if (!f || fscanf(f, "%15s", load) != 1)
			snprintf(load, sizeof(load), "?");
		if (f)
			fclose(f);
	}
	if (argc > 1 && !strcmp(argv[1], "scale"))
		return main_scale(argc - 2, argv + 2, load);
	for (int k = 0; k < n_ns; k++) {
		int p[2];
		pid_t pid;
		result *r = &res[k];

		fprintf(stderr, "bench_device: %d devices, %d s + %d s warm-up "
			"...\n", ns[k], secs, WARMUP_S);
		fflush(stdout);
		if (pipe(p) < 0 || (pid = fork()) < 0) {
			perror("bench_device");
			return 1;
		}
		if (pid == 0) {
			close(p[0]);
			run(ns[k], secs, r);
			_exit(write(p[1], r, sizeof(*r)) == sizeof(*r) ? 0 : 1);
		}
		close(p[1]);
		memset(r, 0, sizeof(*r));
		if (read(p[0], r, sizeof(*r)) != sizeof(*r))
			snprintf(r->err, sizeof(r->err), "the run for %d devices "
				 "died", ns[k]);
		close(p[0]);
		waitpid(pid, NULL, 0);
		if (r->err[0]) {
			fprintf(stderr, "bench_device: %d devices: %s\n", ns[k],
				r->err);
			return 1;
		}
	}

	printf("%d s measured after %d s of warm-up, 1 heartbeat per device per "
	       "second; server: CivetWeb (128 threads, keep-alive) in a child "
	       "process; %ld CPUs, load average before the runs %s.  Late: slot "
	       "start against the slot's time; a slot that never got its "
	       "heartbeat counts as missed (later than any).\n\n", secs,
	       WARMUP_S, sysconf(_SC_NPROCESSORS_ONLN), load);
	printf("| devices | slots | sent | missed | heartbeats/s | late p50 ms | "
	       "p90 | p99 | max | slot to reply p50 ms | p99 | max | failures | "
	       "CPU devices | CPU server |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	       "---:|---:|---:|\n");
	for (int k = 0; k < n_ns; k++) {
		result *r = &res[k];
		char f[7][24];
		long v[7] = {r->late_p50, r->late_p90, r->late_p99, r->late_max,
			     r->reply_p50, r->reply_p99, r->reply_max};
		for (int i = 0; i < 7; i++)
			if (v[i] == MISSED)
				snprintf(f[i], sizeof(f[i]), "missed");
			else
				snprintf(f[i], sizeof(f[i]), "%ld", v[i]);
		printf("| %d | %ld | %ld | %ld | %.0f | %s | %s | %s | %s | %s | "
		       "%s | %s | %ld | %.0f %% | %.0f %% |\n", r->n, r->expected,
		       r->slots, r->missed, r->per_s, f[0], f[1], f[2], f[3], f[4],
		       f[5], f[6], r->fails, r->cpu_dev * 100, r->cpu_srv * 100);
	}
	printf("\n| devices | RSS before devices | created (off) | running | "
	       "per device: RSS created | RSS running | malloc'd running | "
	       "dev_mem_bytes off | running |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int k = 0; k < n_ns; k++) {
		result *r = &res[k];
		printf("| %d | %ld kB | %ld kB | %ld kB | %.0f B | %.0f B | %.0f B "
		       "| %.0f B | %.0f B |\n", r->n, r->rss0, r->rss_idle,
		       r->rss_run, (double)(r->rss_idle - r->rss0) * 1024 / r->n,
		       (double)(r->rss_run - r->rss0) * 1024 / r->n,
		       (double)(r->heap_run - r->heap0) / r->n, r->mem_idle,
		       r->mem_run);
	}
	printf("\n");
	for (int k = 0; k < n_ns; k++) {
		result *r = &res[k];
		double run_b = (double)(r->rss_run - r->rss0) * 1024 / r->n;
		printf("%d devices: created in %.2f s, powered on in %.2f s; "
		       "failures %ld (%ld in the window); at most %zu transfers in "
		       "flight (%zu in the window); RSS peak %ld kB; the server "
		       "answered %ld requests and closed %ld connections.\n",
		       r->n, r->create_s, r->poweron_s, r->fails, r->fails_window,
		       r->max_flight_all, r->max_flight, r->rss_peak,
		       r->srv_requests, r->srv_closed);
		if (r->hook_negative)
			printf("note: on_slot reported late_ms < 0 for %ld slots: "
			       "the device's slot time is one interval ahead "
			       "(sim/device.c hb_fire reads t->due after re-arming "
			       "t); lateness here is computed from each device's "
			       "first slot instead.\n", r->hook_negative);
		if (r->late_p99 > TARGET_P99_MS) {
			if (r->late_p99 == MISSED)
				printf("TARGET MISSED: %d devices: p99 lateness: "
				       "%ld of %ld slots (%.1f %%) never got their "
				       "heartbeat\n", r->n, r->missed, r->expected,
				       100.0 * (double)r->missed / (double)r->expected);
			else
				printf("TARGET MISSED: %d devices: p99 lateness %ld "
				       "ms > %d ms\n", r->n, r->late_p99,
				       TARGET_P99_MS);
			bad = 1;
		}
		if (run_b > TARGET_MEM || r->mem_run > TARGET_MEM) {
			printf("TARGET MISSED: %d devices: %.0f B (RSS) / %.0f B "
			       "(dev_mem_bytes) per running device > %d B\n",
			       r->n, run_b, r->mem_run, TARGET_MEM);
			bad = 1;
		}
		if (r->fails_window) {
			printf("TARGET MISSED: %d devices: %ld failed exchanges in "
			       "the window (the server must keep up)\n", r->n,
			       r->fails_window);
			bad = 1;
		}
	}
	if (!bad)
		printf("targets met: p99 lateness <= %d ms, <= %d B per device, "
		       "no failures\n", TARGET_P99_MS, TARGET_MEM);
	return bad;
}
