/* bench_mock.c -- the rate of heartbeats the reference mock sustains, and
 * the mock's CPU time per heartbeat: the mock in a process of its own (so
 * that its CPU time is its own) on loopback, T client threads, each
 * heartbeat on a short connection of its own (as the device sends them), D
 * devices heartbeating in turn.  Prints one line of figures, and with
 * "views" the time and size of the admin views at that many devices;
 * docs/perf.md keeps them.  Owns no part of the mock; talks to it only
 * over HTTP. */
#include "mock.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

typedef struct job {
	int port, id, nthreads, devices;
	double until;
	atomic_long *ok, *bad;
} job;

/* Connects to the mock; -1 on failure. */
static int dial(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	/* no TIME_WAIT left behind: a long run would exhaust the ports */
	struct linger lg = {1, 0};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* GET path: prints its time and size; false unless 200. */
static bool get_timed(int port, const char *path)
{
	char req[256], buf[65536];
	size_t total = 0;
	ssize_t n;
	bool ok = false;
	double t0 = now_s();
	int fd = dial(port), rl;

	rl = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		      "Connection: close\r\n\r\n", path);
	if (fd < 0 || write(fd, req, (size_t)rl) != rl) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		if (!total)
			ok = n >= 12 && !strncmp(buf, "HTTP/1.1 200", 12);
		total += (size_t)n;
	}
	close(fd);
	printf("  GET %-28s %7.1f ms, %zu bytes\n", path, (now_s() - t0) * 1e3,
	       total);
	return ok;
}

/* One heartbeat on a new connection; true on a 200. */
static bool beat(int port, const char *cid, long seq)
{
	char body[200], req[512], buf[2048];
	int fd, bl, rl;
	size_t got = 0;
	ssize_t n;

	bl = snprintf(body, sizeof body, "{\"app_version\":\"V1.0.0\",\"cid\":"
		      "\"%s\",\"seq\":%ld,\"uptime\":1700000000,\"type\":3}",
		      cid, seq);
	rl = snprintf(req, sizeof req, "POST /api/face HTTP/1.1\r\nHost: "
		      "127.0.0.1\r\nContent-Type: application/json\r\n"
		      "Connection: close\r\nContent-Length: %d\r\n\r\n%s", bl,
		      body);
	if ((fd = dial(port)) < 0)
		return false;
	if (write(fd, req, (size_t)rl) != rl) {
		close(fd);
		return false;
	}
	while (got < sizeof buf - 1 &&
	       (n = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fd);
	return !strncmp(buf, "HTTP/1.1 200", 12);
}

static void *client(void *ud)
{
	job *j = ud;
	char cid[32];
	long seq = 0;

	for (int d = j->id; now_s() < j->until; d += j->nthreads) {
		snprintf(cid, sizeof cid, "bench%06d", d % j->devices);
		if (beat(j->port, cid, ++seq))
			atomic_fetch_add(j->ok, 1);
		else
			atomic_fetch_add(j->bad, 1);
	}
	return NULL;
}

static double cpu_s(void)
{
	struct rusage u;

	getrusage(RUSAGE_SELF, &u);
	return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 +
	       (double)u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

/* The mock's own process, so that its CPU time is its own: sends its port
 * up `up', then on each byte read from `down' the CPU seconds it used
 * since it started listening; stops at EOF. */
static int serve(int up, int down)
{
	char dir[] = "/tmp/camsim-bench-mock-XXXXXX", db[64], err[512], cmd[96];
	char line[64], c;
	mock *m = NULL;
	double c0;
	int n;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(db, sizeof db, "%s/mock.db", dir);
	if (mock_start(&(mock_opts){.listen = "127.0.0.1:0", .db = db}, &m, err,
		       sizeof err) < 0) {
		fprintf(stderr, "bench_mock: %s\n", err);
		return 1;
	}
	c0 = cpu_s();
	n = snprintf(line, sizeof line, "%d\n", mock_port(m));
	if (write(up, line, (size_t)n) != n)
		return 1;
	while (read(down, &c, 1) == 1) {
		n = snprintf(line, sizeof line, "%.3f\n", cpu_s() - c0);
		if (write(up, line, (size_t)n) != n)
			break;
	}
	mock_stop(m);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}

/* A line from fd. */
static bool read_line(int fd, char *buf, size_t n)
{
	size_t k = 0;

	while (k + 1 < n && read(fd, buf + k, 1) == 1 && buf[k] != '\n')
		k++;
	buf[k] = '\0';
	return k > 0;
}

int main(int argc, char **argv)
{
	static const char *const views[] = {
		"/admin/stats", "/admin/devices?limit=100",
		"/admin/devices?prefix=bench05&offset=500&limit=100",
		"/?offset=50000"};
	int threads = argc > 1 ? atoi(argv[1]) : 8;
	double secs = argc > 2 ? atof(argv[2]) : 5;
	int devices = argc > 3 ? atoi(argv[3]) : 1000;
	int up[2], down[2], port, status = 1;
	char line[64];
	atomic_long ok = 0, bad = 0;
	pthread_t th[256];
	job jobs[256];
	double t0, t1, cpu;
	pid_t pid;

	if (threads < 1 || threads > 256 || secs <= 0 || devices < 1) {
		fprintf(stderr, "usage: bench_mock [THREADS 1-256] [SECONDS] "
			"[DEVICES] [views]\n");
		return 2;
	}
	if (pipe(up) < 0 || pipe(down) < 0 || (pid = fork()) < 0) {
		perror("bench_mock");
		return 1;
	}
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		_exit(serve(up[1], down[0]));
	}
	close(up[1]);
	close(down[0]);
	if (!read_line(up[0], line, sizeof line) || (port = atoi(line)) <= 0) {
		fprintf(stderr, "bench_mock: the mock did not start\n");
		return 1;
	}
	t0 = now_s();
	for (int i = 0; i < threads; i++) {
		jobs[i] = (job){.port = port, .id = i, .nthreads = threads,
				.devices = devices, .until = t0 + secs, .ok = &ok,
				.bad = &bad};
		pthread_create(&th[i], NULL, client, &jobs[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	t1 = now_s();
	if (write(down[1], "c", 1) != 1 || !read_line(up[0], line, sizeof line))
		return 1;
	cpu = atof(line);
	printf("mock heartbeats: %d threads, %d devices, %.1f s: %ld answered "
	       "200, %ld failed: %.0f heartbeats/s; the mock's CPU %.2f s, %.0f "
	       "us per heartbeat\n", threads, devices, t1 - t0, (long)ok,
	       (long)bad, (double)ok / (t1 - t0), cpu,
	       ok ? cpu * 1e6 / (double)ok : 0.0);
	/* the admin views at this many devices (a base that predates them
	 * answers 404: printed, not a failure of the run) */
	if (argc > 4 && !strcmp(argv[4], "views"))
		for (size_t i = 0; i < sizeof views / sizeof *views; i++)
			(void)get_timed(port, views[i]);
	close(down[1]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "bench_mock: the mock's process failed\n");
		return 1;
	}
	return bad ? 1 : 0;
}
