/* bench_rate.c -- camsim's maximum request rate against a fixed server,
 * beside wrk's against the same server in the same run, with the same
 * connection policy, under both policies: a new connection per request,
 * "Connection: close" (V1.16's short connection, as `camsim load' runs
 * its devices by default), then connections kept alive (wrk's default,
 * `camsim load --keep-alive').  Each policy has its server: CivetWeb in a
 * child process answering every POST 200 with "{}" and counting its
 * answers in shared memory; every rate here is that count over the steady
 * part of a phase, so wrk and camsim are measured alike.  A third client,
 * bare libcurl (the same multi interface camsim's loop drives, doing
 * nothing but the POSTs), shows what any libcurl client reaches here.
 * The compared phases run in ROUNDS rounds, each round's clients one
 * after the other: a virtual machine's speed drifts by a third within
 * minutes, and a ratio of two phases minutes apart measured the drift.
 * Exits 1 when the median over the rounds of camsim / wrk is below 0.8
 * under either policy (docs/perf.md). */
#include "bench_util.h"
#include "load.h"

#include <civetweb.h>
#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TARGET 0.8
/* the heartbeat wrk and bare libcurl POST */
#define HB_BODY "{\"type\":3,\"cid\":\"load-00001\",\"seq\":0," \
		"\"uptime\":1796287405,\"app_version\":\"V1.0.0\"}"
#define SAMPLE_MS 100
#define SAMPLES_MAX 20000    /* 2000 s at 10 a second */
#define WARMUP_S 2.0         /* after the first answer: connection ramp */
#define CONNS 128            /* wrk's connections: the loop's ACTIVE_MAX */
#define ROUNDS_MAX 9

/* ---------------------------------------------------------------- server */

static atomic_long *answered; /* shared with the child (MAP_SHARED) */

static int srv_handler(struct mg_connection *c, void *ud)
{
	/* one write: header lines sent apart meet Nagle and delayed ACK */
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: "
				 "application/json\r\nContent-Length: 2\r\n"
				 "Connection: close\r\n\r\n{}";
	static const char ok_ka[] = "HTTP/1.1 200 OK\r\nContent-Type: "
				    "application/json\r\nContent-Length: 2"
				    "\r\n\r\n{}";
	bool keep = ud != NULL;
	char buf[4096];

	while (mg_read(c, buf, sizeof buf) > 0)
		;
	if (keep)
		mg_write(c, ok_ka, sizeof ok_ka - 1);
	else
		mg_write(c, ok, sizeof ok - 1);
	atomic_fetch_add(answered, 1);
	return 200;
}

/* The child: serves until its parent closes quit_fd; its port on out_fd.
 * keep: connections kept alive, a worker thread for each of wrk's (and
 * the loop's) 128 connections, since CivetWeb holds a thread per open
 * connection. */
static void server_main(int out_fd, int quit_fd, bool keep)
{
	const char *opts[] = {"listening_ports", "127.0.0.1:0",
			      "num_threads", keep ? "160" : "64",
			      "enable_keep_alive", keep ? "yes" : "no",
			      "tcp_nodelay", "1", "request_timeout_ms", "10000",
			      "listen_backlog", "1024", NULL};
	struct mg_server_port ports[2];
	struct mg_context *ctx;
	int port = 0;
	char ch;

	mg_init_library(0);
	ctx = mg_start(NULL, NULL, opts);
	if (ctx && mg_get_server_ports(ctx, 2, ports) >= 1) {
		mg_set_request_handler(ctx, "/", srv_handler,
				       keep ? (void *)1 : NULL);
		port = ports[0].port;
	}
	if (write(out_fd, &port, sizeof port) != sizeof port || !port)
		_exit(1);
	while (read(quit_fd, &ch, 1) < 0 && errno == EINTR)
		;
	mg_stop(ctx);
	_exit(0);
}

/* ---------------------------------------------------------------- sampling */

typedef struct sample {
	double t;
	long n;
	double cpu_cli, cpu_srv;
} sample;

/* A sampler thread: every SAMPLE_MS the server's count and the CPU time
 * of the client and the server, until stop. */
typedef struct sampler {
	pthread_t th;
	atomic_bool stop;
	_Atomic pid_t client[2]; /* 0: none */
	pid_t server[2];  /* the two policies' servers (CPU summed: one
			     at a time is busy) */
	sample *s;
	size_t n;
} sampler;

static void *sampler_main(void *ud)
{
	sampler *sm = ud;
	/* a shard reaped before the other (or before the window's end) reads
	 * 0 from /proc: its last reading stands for it until a new client
	 * takes its slot, or the window's difference loses its CPU */
	double last[2] = {0, 0};
	pid_t last_pid[2] = {0, 0};

	while (!atomic_load(&sm->stop) && sm->n < SAMPLES_MAX) {
		sample *x = &sm->s[sm->n];
		x->t = mono();
		x->n = atomic_load(answered);
		x->cpu_cli = 0;
		for (int i = 0; i < 2; i++) {
			pid_t pid = atomic_load(&sm->client[i]);
			double c = pid ? cpu_pid(pid) : 0;

			if (pid && pid != last_pid[i]) {
				last_pid[i] = pid;
				last[i] = 0;
			}
			if (c > last[i])
				last[i] = c;
			x->cpu_cli += last[i];
		}
		x->cpu_srv = cpu_pid(sm->server[0]) + cpu_pid(sm->server[1]);
		sm->n++;
		usleep(SAMPLE_MS * 1000);
	}
	return NULL;
}

typedef struct phase {
	char name[64];
	double rate;        /* answers/s over the steady window */
	double window_s;
	long answers;       /* in the window */
	double us_cli, us_srv; /* CPU µs per answer in the window */
	double peak;        /* best one-second rate */
} phase;

/* The steady window of samples [from, to): from WARMUP_S after the first
 * answer to the last sample before the answers stopped growing. */
static int judge(const sampler *sm, size_t from, size_t to, phase *p)
{
	size_t a = from, b;

	while (a < to && sm->s[a].n == sm->s[from].n)
		a++;
	if (a >= to)
		return -1;
	double t0 = sm->s[a].t + WARMUP_S;
	while (a < to && sm->s[a].t < t0)
		a++;
	b = to - 1;
	while (b > a && sm->s[b - 1].n == sm->s[b].n)
		b--;
	if (b > a + 1)
		b--; /* the last growing sample may be the run's tail */
	if (b <= a)
		return -1;
	p->window_s = sm->s[b].t - sm->s[a].t;
	p->answers = sm->s[b].n - sm->s[a].n;
	p->rate = (double)p->answers / p->window_s;
	p->us_cli = (sm->s[b].cpu_cli - sm->s[a].cpu_cli) * 1e6 /
		    (double)(p->answers ? p->answers : 1);
	p->us_srv = (sm->s[b].cpu_srv - sm->s[a].cpu_srv) * 1e6 /
		    (double)(p->answers ? p->answers : 1);
	p->peak = 0;
	for (size_t i = a; i + 1000 / SAMPLE_MS <= b; i++) {
		size_t j = i + 1000 / SAMPLE_MS;
		double r = (double)(sm->s[j].n - sm->s[i].n) /
			   (sm->s[j].t - sm->s[i].t);
		if (r > p->peak)
			p->peak = r;
	}
	return 0;
}

/* ---------------------------------------------------------------- clients */

/* wrk -t threads -c CONNS, POSTing a heartbeat as camsim's devices do. */
static int run_wrk(sampler *sm, const char *url, const char *lua, int threads,
		   int secs, bool keep, phase *p)
{
	char t[16], c[16], d[16];
	size_t from = sm->n;
	int status;
	pid_t pid;

	snprintf(t, sizeof t, "%d", threads);
	snprintf(c, sizeof c, "%d", CONNS);
	snprintf(d, sizeof d, "%ds", secs);
	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 1);
		if (keep)
			execlp("wrk", "wrk", "-t", t, "-c", c, "-d", d, "-s",
			       lua, url, (char *)NULL);
		else
			execlp("wrk", "wrk", "-t", t, "-c", c, "-d", d, "-s",
			       lua, "-H", "Connection: close", url, (char *)NULL);
		_exit(127);
	}
	atomic_store(&sm->client[0], pid);
	waitpid(pid, &status, 0);
	atomic_store(&sm->client[0], 0);
	usleep(300 * 1000);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "bench_rate: wrk failed (exit %d): is it "
			"installed? (make deps)\n", WIFEXITED(status) ?
			WEXITSTATUS(status) : -1);
		return -1;
	}
	snprintf(p->name, sizeof p->name, "wrk -t%d -c%d%s", threads, CONNS,
		 keep ? ", keep-alive" : "");
	return judge(sm, from, sm->n, p);
}

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return sz * n;
}

/* Bare libcurl in this (forked) process: conns transfers always in
 * flight on one multi handle, each easy handle set up once and re-added
 * as soon as it finishes (the least work a libcurl client can do per
 * request), the heartbeat body and headers camsim sends, driven as
 * camsim's loop drives curl (curl_multi_poll, curl_multi_perform).  For
 * secs seconds; exits 0, or 2 when curl cannot be set up. */
static void curl_child(const char *url, const char *body, int conns, int secs,
		       bool keep)
{
	CURLM *m = curl_global_init(CURL_GLOBAL_DEFAULT) ? NULL
		   : curl_multi_init();
	struct curl_slist *h = NULL;
	double end = mono() + secs;
	int running;

	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	if (!keep)
		h = curl_slist_append(h, "Connection: close");
	if (!m || !h)
		_exit(2);
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 64L);
	/* the URL parsed once and no proxy looked up, as camsim's loop does
	 * (sim/loop.c): the least work per request includes those */
	CURLU *u = curl_url();
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		_exit(2);
	for (int i = 0; i < conns; i++) {
		CURL *e = curl_easy_init();
		if (!e)
			_exit(2);
		curl_easy_setopt(e, CURLOPT_CURLU, u);
		curl_easy_setopt(e, CURLOPT_PROXY, "");
		curl_easy_setopt(e, CURLOPT_NOPROXY, "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
		if (!keep) {
			curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
			curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
		}
		curl_multi_add_handle(m, e);
	}
	while (mono() < end) {
		CURLMsg *msg;
		int left;
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left))) {
			CURL *e = msg->easy_handle;
			curl_multi_remove_handle(m, e);
			curl_multi_add_handle(m, e);
		}
		curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	_exit(0);
}

/* One shard of camsim load in this (forked) process: n devices over all
 * shards, one heartbeat a second each, no jitter, all powered on at once:
 * more than the loop can send, so its backlog never empties and the rate
 * is the most it sends.  Exits with load_run's code. */
static void camsim_child(const char *url, long n, long shard, long shards,
			 int secs, const char *src, bool keep)
{
	FILE *null = fopen("/dev/null", "w");
	load_opts o = {.server = url, .devices = n, .shard = shard,
		       .shards = shards, .duration_ms = (int64_t)secs * 1000,
		       .interval_s = 1, .out = null, .progress = null,
		       .keep_alive = keep, .prof = &proto_profile_strict,
		       /* wrk -c128 holds 128 connections over all its
			* threads: the shards share 128 the same way */
		       .connections = CONNS / shards};
	char why[300];

	if (!null)
		_exit(2);
	if (src && srcaddr_parse("--source-addrs", src, &o.src, why,
				 sizeof why) < 0) {
		fprintf(stderr, "bench_rate: %s\n", why);
		_exit(2);
	}
	_exit(load_run(&o));
}

/* camsim load as `shards' processes at once (--shard i/shards): how
 * camsim uses more than one core of a machine; with body, bare libcurl
 * POSTing it instead (curl_child), as many processes. */
static int run_camsim(sampler *sm, const char *url, long n, int secs,
		      const char *src, int shards, bool keep, const char *body,
		      phase *p)
{
	size_t from = sm->n;
	pid_t pid[2];
	int bad = 0, status;

	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < shards; i++) {
		if ((pid[i] = fork()) < 0)
			return -1;
		if (pid[i] == 0 && body)
			curl_child(url, body, CONNS / shards, secs, keep);
		if (pid[i] == 0)
			camsim_child(url, n, i, shards, secs, src, keep);
		atomic_store(&sm->client[i], pid[i]);
	}
	for (int i = 0; i < shards; i++) {
		waitpid(pid[i], &status, 0);
		atomic_store(&sm->client[i], 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != LOAD_EXIT_OK) {
			fprintf(stderr, "bench_rate: %s %d of %d "
				"ended with %d\n", body ? "bare libcurl process"
				: "camsim load shard", i, shards, WIFEXITED(status)
				? WEXITSTATUS(status) : -1);
			bad = 1;
		}
	}
	usleep(300 * 1000);
	if (bad)
		return -1;
	if (body)
		snprintf(p->name, sizeof p->name, "bare libcurl multi%s%s",
			 shards > 1 ? " (2 processes)" : "",
			 keep ? ", keep-alive" : "");
	else
		snprintf(p->name, sizeof p->name, "camsim load%s, %ld devices%s"
			 "%s%s", shards > 1 ? " (2 shards)" : "", n,
			 src ? ", " : "", src ? src : "",
			 keep ? ", keep-alive" : "");
	return judge(sm, from, sm->n, p);
}

/* A round's phases in order: one thread / process, then two of each
 * (the machine's cores), under each connection policy; the phases marked
 * once run in the first round only (they are not compared). */
enum { WRK, CAMSIM, BARE };
static const struct plan {
	int who;
	int n;           /* wrk threads, camsim shards, curl processes */
	bool keep;
	const char *src; /* camsim's --source-addrs */
	bool once;
} plan[] = {
	{WRK, 1, false, NULL, true},  {CAMSIM, 1, false, NULL, true},
	{WRK, 2, false, NULL, false}, {CAMSIM, 2, false, NULL, false},
	{CAMSIM, 1, false, "127.0.0.2-127.0.0.9", true},
	{BARE, 2, false, NULL, false},
	{WRK, 2, true, NULL, false},  {CAMSIM, 2, true, NULL, false},
	{BARE, 2, true, NULL, false},
};
#define NPLAN (sizeof plan / sizeof plan[0])

/* Server child for one policy, serving until quit[1] is closed: its
 * pid, its URL in url. */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The median of v[0..n), n >= 1 (v is sorted). */
static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static pid_t start_server(bool keep, const int quit[2], char *url,
			  size_t len)
{
	int p[2], port = 0;
	pid_t pid;

	if (pipe(p) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		close(p[0]);
		close(quit[1]); /* or the child waits for itself to quit */
		server_main(p[1], quit[0], keep);
	}
	close(p[1]);
	if (read(p[0], &port, sizeof port) != sizeof port || !port) {
		close(p[0]);
		return -1;
	}
	close(p[0]);
	snprintf(url, len, "http://127.0.0.1:%d/api/face", port);
	return pid;
}

int main(int argc, char **argv)
{
	static const char lua_text[] =
		"wrk.method = \"POST\"\n"
		"wrk.headers[\"Content-Type\"] = \"application/json\"\n"
		"wrk.body = '" HB_BODY "'\n";
	char lua[] = "/tmp/bench_rate.XXXXXX", url[2][64], load[16];
	int secs = 10, p_quit[2], bad = 0;
	/* "camsim", "camsim-keep", "camsim-keep1": one camsim phase alone
	 * (short connections; kept alive in 2 shards; kept alive in one
	 * process), no wrk phase: for a profiler */
	bool only_camsim = false;
	size_t only_phase = 1;
	int only_shards = 0; /* 0: the plan's */
	long devices = 20000;
	int rounds = 1;
	phase ph[NPLAN * ROUNDS_MAX];
	int nph = 0, fd, ran[NPLAN * ROUNDS_MAX], rnd[NPLAN * ROUNDS_MAX];
	sampler sm = {0};
	/* per round and policy: the best rate of each client in the round */
	double best_wrk[ROUNDS_MAX][2] = {{0}}, best_cam[ROUNDS_MAX][2] = {{0}},
	       best_curl[ROUNDS_MAX][2] = {{0}};
	const char *body = HB_BODY; /* wrk's heartbeat, for bare libcurl */
	bool met = true;

	/* `make bench' passes the source root ("."): defaults then */
	if (argc > 1 && numeric(argv[1])) {
		secs = atoi(argv[1]);
		if (argc > 2 && numeric(argv[2]))
			devices = atol(argv[2]);
		only_camsim = argc > 3 && !strncmp(argv[3], "camsim", 6);
		if (argc > 3 && numeric(argv[3]))
			rounds = atoi(argv[3]);
		else if (argc > 3 && !only_camsim)
			secs = 0; /* neither a count nor a phase: the usage */
		if (only_camsim && !strcmp(argv[3], "camsim-keep"))
			only_phase = NPLAN - 2;
		else if (only_camsim && !strcmp(argv[3], "camsim-keep1"))
			only_phase = NPLAN - 2, only_shards = 1;
		else if (only_camsim && strcmp(argv[3], "camsim"))
			secs = 0; /* an unknown word: the usage below */
	}
	if (secs < 4 || secs > 600 || devices < 1 || devices > 100000 ||
	    rounds < 1 || rounds > ROUNDS_MAX) {
		fprintf(stderr, "usage: bench_rate [SECONDS (4..600) [DEVICES "
			"(1..100000) [ROUNDS (1..%d)|camsim|camsim-keep|"
			"camsim-keep1]]]\n", ROUNDS_MAX);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	{
		FILE *f = fopen("/proc/loadavg", "r");
		if (!f || fscanf(f, "%15s", load) != 1)
			snprintf(load, sizeof load, "?");
		if (f)
			fclose(f);
	}
	answered = mmap(NULL, sizeof *answered, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (answered == MAP_FAILED || pipe(p_quit) < 0) {
		perror("bench_rate");
		return 1;
	}
	if ((fd = mkstemp(lua)) < 0 ||
	    write(fd, lua_text, sizeof lua_text - 1) != sizeof lua_text - 1) {
		perror("bench_rate: the wrk script");
		return 1;
	}
	close(fd);
	for (int k = 0; k < 2; k++) {
		sm.server[k] = start_server(k == 1, p_quit, url[k],
					    sizeof url[k]);
		if (sm.server[k] < 0) {
			fprintf(stderr, "bench_rate: the server did not start\n");
			return 1;
		}
	}
	close(p_quit[0]);
	sm.s = calloc(SAMPLES_MAX, sizeof *sm.s);
	if (!sm.s || pthread_create(&sm.th, NULL, sampler_main, &sm)) {
		fprintf(stderr, "bench_rate: no sampler\n");
		return 1;
	}
	fprintf(stderr, "bench_rate: %d s per phase, %ld devices for camsim, "
		"%d round%s: short connections (wrk -t2, camsim in 2 shards, "
		"bare libcurl in 2 processes; in the first round also wrk -t1, "
		"camsim in one process, camsim with 8 source addresses), then "
		"kept alive (wrk -t2, camsim in 2 shards, bare libcurl in 2 "
		"processes) ...\n", secs, devices, rounds, rounds > 1 ? "s" : "");
	for (size_t k = 0; k < NPLAN * (size_t)rounds && !bad; k++) {
		size_t i = k % NPLAN;
		int r = (int)(k / NPLAN);
		const struct plan *q = &plan[i];
		const char *u = url[q->keep];
		int rc;

		if ((only_camsim && (i != only_phase || r > 0)) ||
		    (q->once && r > 0))
			continue;
		if (i == 0 || (r > 0 && i == 2))
			fprintf(stderr, "bench_rate: round %d of %d\n", r + 1,
				rounds);
		if (q->who == WRK)
			rc = run_wrk(&sm, u, lua, q->n, secs, q->keep, &ph[nph]);
		else if (q->who == BARE)
			rc = run_camsim(&sm, u, 0, secs, NULL, q->n, q->keep,
					body, &ph[nph]);
		else
			/* kept alive, a request costs a fraction: 20,000
			 * devices at 1/s would offer less than camsim can
			 * send, and since 2026-12-04 so would 50,000 (its
			 * rate was the offer's, 51,000 a second, in every
			 * round); 100,000 offer more.  Powering them on counts
			 * against --duration (and takes seconds), so the
			 * phase runs twice as long: the steady window
			 * starts at the first answer anyway */
			rc = run_camsim(&sm, u, q->keep ? 100000 : devices,
					q->keep ? 2 * secs : secs,
					q->src, only_shards ? only_shards : q->n,
					q->keep, NULL, &ph[nph]);
		if (rc == 0) {
			rnd[nph] = r;
			ran[nph++] = (int)i;
		} else {
			fprintf(stderr, "bench_rate: phase %zu (%s, %d %s%s) gave "
				"no steady window: too few answers, or it failed "
				"(above)\n", i + 1, q->who == WRK ? "wrk" :
				q->who == BARE ? "bare libcurl" : "camsim",
				q->n, q->who == WRK ? "threads" : "processes",
				q->keep ? ", keep-alive" : "");
			bad = 1;
		}
	}
	atomic_store(&sm.stop, true);
	pthread_join(sm.th, NULL);
	close(p_quit[1]);
	waitpid(sm.server[0], NULL, 0);
	waitpid(sm.server[1], NULL, 0);
	unlink(lua);

	printf("Fixed servers: CivetWeb 1.15 in a child process, every POST "
	       "answered 200 \"{}\" in one write; short connections: 64 "
	       "threads, no keep-alive, every client sends Connection: close; "
	       "kept alive: 160 threads, keep-alive on, wrk's default and camsim "
	       "load --keep-alive.  %d s per client, rates counted by the server "
	       "from %.0f s after its first answer; %ld CPUs; load average "
	       "before the run %s.\n\n", secs, WARMUP_S,
	       sysconf(_SC_NPROCESSORS_ONLN), load);
	printf("| round | client | requests/s | best second | CPU µs/request "
	       "client | server | answered in window |\n");
	printf("|---:|---|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < nph; i++) {
		const struct plan *q = &plan[ran[i]];
		printf("| %d | %s | %.0f | %.0f | %.1f | %.1f | %ld in %.1f s |\n",
		       rnd[i] + 1, ph[i].name, ph[i].rate, ph[i].peak,
		       ph[i].us_cli, ph[i].us_srv, ph[i].answers, ph[i].window_s);
		double *best = q->who == WRK ? best_wrk[rnd[i]] : q->who == BARE
			       ? best_curl[rnd[i]] : best_cam[rnd[i]];
		if (ph[i].rate > best[q->keep])
			best[q->keep] = ph[i].rate;
	}
	if (bad || only_camsim) {
		printf("\n%s\n", bad ? "TARGET NOT MEASURED: a phase failed "
		       "(see above)" : "camsim only: no verdict without wrk");
		return bad;
	}
	printf("\nshort connections, one thread / process each: camsim / wrk "
	       "-t1 = %.2f; two: camsim in 2 shards / wrk -t2 = %.2f\n",
	       ph[1].rate / ph[0].rate, ph[3].rate / ph[2].rate);
	for (int k = 0; k < 2; k++) {
		double cw[ROUNDS_MAX], bw[ROUNDS_MAX], cb[ROUNDS_MAX];

		printf("%s, each round's best of each client:",
		       k ? "kept alive" : "short connections");
		for (int r = 0; r < rounds; r++) {
			cw[r] = best_cam[r][k] / best_wrk[r][k];
			bw[r] = best_curl[r][k] / best_wrk[r][k];
			cb[r] = best_cam[r][k] / best_curl[r][k];
			printf("%s %.0f / %.0f = %.2f", r ? ";" : "",
			       best_cam[r][k], best_wrk[r][k], cw[r]);
		}
		double m = median(cw, rounds);
		bool ok = m >= TARGET;
		printf("\n%s: camsim / wrk, median of %d round%s: %.2f (target "
		       ">= %.1f): %s; bare libcurl / wrk = %.2f, camsim / bare "
		       "libcurl = %.2f (medians)\n", k ? "kept alive" :
		       "short connections", rounds, rounds > 1 ? "s" : "", m,
		       TARGET, ok ? "met" : "TARGET MISSED", median(bw, rounds),
		       median(cb, rounds));
		met = met && ok;
	}
	return met ? 0 : 1;
}
