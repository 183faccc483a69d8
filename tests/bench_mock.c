/* bench_mock.c -- the rate of heartbeats the reference mock sustains: the
 * mock in-process on loopback, T client threads, each heartbeat on a short
 * connection of its own (as the device sends them), D devices heartbeating
 * in turn.  Prints one line of figures; docs/perf.md keeps them.  Owns no
 * part of the mock; talks to it only over HTTP. */
#include "mock.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

/* One heartbeat on a new connection; true on a 200. */
static bool beat(int port, const char *cid, long seq)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port)};
	char body[200], req[512], buf[2048];
	int fd, bl, rl;
	size_t got = 0;
	ssize_t n;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bl = snprintf(body, sizeof body, "{\"app_version\":\"V1.0.0\",\"cid\":"
		      "\"%s\",\"seq\":%ld,\"uptime\":1700000000,\"type\":3}",
		      cid, seq);
	rl = snprintf(req, sizeof req, "POST /api/face HTTP/1.1\r\nHost: "
		      "127.0.0.1\r\nContent-Type: application/json\r\n"
		      "Connection: close\r\nContent-Length: %d\r\n\r\n%s", bl,
		      body);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return false;
	/* no TIME_WAIT left behind: a long run would exhaust the ports */
	struct linger lg = {1, 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    write(fd, req, (size_t)rl) != rl) {
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

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 8;
	double secs = argc > 2 ? atof(argv[2]) : 5;
	int devices = argc > 3 ? atoi(argv[3]) : 1000;
	char dir[] = "/tmp/camsim-bench-mock-XXXXXX", db[64], err[512], cmd[96];
	atomic_long ok = 0, bad = 0;
	pthread_t th[256];
	job jobs[256];
	mock *m = NULL;
	double t0, t1;

	if (threads < 1 || threads > 256 || secs <= 0 || devices < 1) {
		fprintf(stderr, "usage: bench_mock [THREADS 1-256] [SECONDS] "
			"[DEVICES]\n");
		return 2;
	}
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
	t0 = now_s();
	for (int i = 0; i < threads; i++) {
		jobs[i] = (job){.port = mock_port(m), .id = i, .nthreads = threads,
				.devices = devices, .until = t0 + secs, .ok = &ok,
				.bad = &bad};
		pthread_create(&th[i], NULL, client, &jobs[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	t1 = now_s();
	mock_stop(m);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_mock: could not remove %s\n", dir);
	printf("mock heartbeats: %d threads, %d devices, %.1f s: %ld answered "
	       "200, %ld failed: %.0f heartbeats/s\n", threads, devices,
	       t1 - t0, (long)ok, (long)bad, (double)ok / (t1 - t0));
	return bad ? 1 : 0;
}
