/* bench_mock_ingest.c -- what one heartbeat costs the mock's core, without
 * HTTP or threads: mock__ingest through mock_test.h's hooks (an in-memory
 * database), D devices heartbeating in turn, on the lean path (nothing
 * queued anywhere) and on the full path (one command pending for a device
 * that never heartbeats, so every message runs the queue's queries).  The
 * two alternate in one process, so they share the machine's state.
 * docs/perf.md keeps the table. */
#include "mock.h"
#include "mock_test.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 5

static int64_t clock_ms(void *ud)
{
	(void)ud;
	return 1700000000000LL;
}

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* n heartbeats of devices cids in turn; µs of CPU per heartbeat, -1 when
 * one was not answered 200 with an empty body. */
static double beats(mock *m, long n, int devices)
{
	char body[200];
	double t0 = cpu_s();

	for (long i = 0; i < n; i++) {
		mock_test_answer a;
		int len = snprintf(body, sizeof body, "{\"app_version\":"
				   "\"V1.0.0\",\"cid\":\"bench%05d\",\"seq\":0,"
				   "\"uptime\":1700000000,\"type\":3}",
				   (int)(i % devices));
		if (mock_test_request(m, "/api/face", NULL, body, (size_t)len,
				      &a) < 0 || a.status != 200 || a.body) {
			mock_test_answer_free(&a);
			return -1;
		}
		mock_test_answer_free(&a);
	}
	return (cpu_s() - t0) * 1e6 / (double)n;
}

int main(int argc, char **argv)
{
	long n = argc > 1 && atol(argv[1]) > 0 ? atol(argv[1]) : 20000;
	int devices = argc > 2 && atoi(argv[2]) > 0 ? atoi(argv[2]) : 1000;
	double lean[ROUNDS], full[ROUNDS];
	char err[512];
	mock *m[2];

	/* `make bench' passes the source root ("."): defaults then */
	for (int k = 0; k < 2; k++) {
		if (!(m[k] = mock_test_open(clock_ms, NULL, err, sizeof err))) {
			fprintf(stderr, "bench_mock_ingest: %s\n", err);
			return 1;
		}
	}
	/* the full path's mock: one command pending that no heartbeat here
	 * settles or carries */
	cJSON *cmd = cJSON_Parse("{\"control\":{\"opType\":1}}");
	if (!cmd || mock_enqueue(m[1], "never-heartbeats", cmd, err,
				 sizeof err) <= 0) {
		fprintf(stderr, "bench_mock_ingest: enqueue: %s\n", err);
		return 1;
	}
	cJSON_Delete(cmd);
	for (int r = 0; r < ROUNDS; r++) {
		lean[r] = beats(m[0], n, devices);
		full[r] = beats(m[1], n, devices);
		if (lean[r] < 0 || full[r] < 0) {
			fprintf(stderr, "bench_mock_ingest: a heartbeat was not "
				"answered 200 with an empty body\n");
			return 1;
		}
	}
	qsort(lean, ROUNDS, sizeof *lean, cmp);
	qsort(full, ROUNDS, sizeof *full, cmp);
	printf("The mock's core per heartbeat (no HTTP, no threads, in-memory "
	       "database), %d rounds of %ld heartbeats over %d devices:\n\n",
	       ROUNDS, n, devices);
	printf("| path | µs CPU per heartbeat, min | median | heartbeats/s of "
	       "one core (median) |\n|---|---:|---:|---:|\n");
	printf("| lean (nothing queued) | %.1f | %.1f | %.0f |\n", lean[0],
	       lean[ROUNDS / 2], 1e6 / lean[ROUNDS / 2]);
	printf("| full (a command pending elsewhere) | %.1f | %.1f | %.0f |\n",
	       full[0], full[ROUNDS / 2], 1e6 / full[ROUNDS / 2]);
	printf("\nlean / full (median): %.2f\n", lean[ROUNDS / 2] /
	       full[ROUNDS / 2]);
	mock_test_close(m[0]);
	mock_test_close(m[1]);
	return 0;
}
