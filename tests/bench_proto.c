/* bench_proto.c -- protocol module throughput: parse + validate and build,
 * per message kind, on one core.  `make bench' runs it; docs/perf.md keeps
 * the figures.  The mock server and thousands of devices parse and build
 * every message through this code, so it must stay far from a bottleneck. */
#include "proto.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc(*len + 1);
	if (fread(b, 1, *len, f) != *len) {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

/* A snapshot whose picture is n bytes of base64 ("/9j/" + filler). */
static char *snapshot_with(size_t n, size_t *len)
{
	char *s = malloc(n + 512);
	int k = sprintf(s, "{\"cid\":\"294300000111\",\"type\":1,\"time\":1700000000,"
			   "\"faces\":[\"/9j/");
	memset(s + k, 'A', n - 4);
	k += (int)n - 4;
	k += sprintf(s + k, "\"],\"result\":{\"person_id\":\"p1\",\"person_name\":\"A\","
			    "\"confidence\":0.93,\"person_type\":1,\"temperature\":36.5,"
			    "\"facemask\":1}}");
	*len = (size_t)k;
	return s;
}

static void bench(const char *name, const char *buf, size_t len, proto_dir dir)
{
	proto_msg m;
	char err[256];
	int n = 0;
	double t0 = now(), t1, parse_s, build_s;
	size_t built_len = 0;

	do {
		/* the whole validation, violations reported and all */
		proto_arena a = PROTO_ARENA_INIT;
		proto_report rep = {0};
		cJSON *j;
		if (proto_json_parse(buf, len, &j, err, sizeof err) < 0 ||
		    proto_decode(j, dir, NULL, &a, &m, &rep) == PROTO_ENOMEM) {
			fprintf(stderr, "bench %s: %s\n", name, err);
			exit(1);
		}
		cJSON_Delete(j);
		proto_report_free(&rep);
		proto_arena_free(&a);
		n++;
	} while ((t1 = now()) - t0 < 0.5);
	parse_s = (t1 - t0) / n;

	proto_arena a = PROTO_ARENA_INIT;
	cJSON *j;
	proto_json_parse(buf, len, &j, err, sizeof err);
	proto_decode(j, dir, NULL, &a, &m, NULL);
	cJSON_Delete(j);
	n = 0;
	t0 = now();
	do {
		char *out = proto_build(&m, NULL);
		built_len = strlen(out);
		free(out);
		n++;
	} while ((t1 = now()) - t0 < 0.5);
	build_s = (t1 - t0) / n;
	proto_arena_free(&a);
	printf("| %-30s | %9zu | %10.1f | %12.0f | %10.1f | %12.0f |\n", name, len,
	       parse_s * 1e6, 1 / parse_s, build_s * 1e6, 1 / build_s);
	(void)built_len;
}

int main(int argc, char **argv)
{
	const char *root = argc > 1 ? argv[1] : ".";
	static const struct {
		const char *name, *file;
		proto_dir dir;
	} files[] = {
		{"heartbeat (type 3)", "fixtures/protocol/spec/s02-heartbeat.json", PROTO_TO_SERVER},
		{"face list, 2 persons (type 4)", "fixtures/protocol/spec/s04-facelib-query-result.json", PROTO_TO_SERVER},
		{"config report (type 10)", "fixtures/protocol/spec/s09-config-report.json", PROTO_TO_SERVER},
		{"strategy list (type 7)", "fixtures/protocol/spec/s05-strategy-list.json", PROTO_TO_SERVER},
		{"reply: config set", "fixtures/protocol/spec/s09-config-set.json", PROTO_TO_DEVICE},
		{"reply: strategy delivery", "fixtures/protocol/spec/s05-strategy-delivery.json", PROTO_TO_DEVICE},
	};
	char path[512];

	printf("| message | bytes | parse+validate us | per second | build us | per second |\n");
	printf("|---|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		size_t len;
		char *b;
		snprintf(path, sizeof path, "%s/%s", root, files[i].file);
		if (!(b = slurp(path, &len))) {
			fprintf(stderr, "bench: cannot read %s\n", path);
			return 1;
		}
		bench(files[i].name, b, len, files[i].dir);
		free(b);
	}
	{
		size_t len;
		char *s = snapshot_with(100000, &len);
		bench("snapshot, 100 kB picture", s, len, PROTO_TO_SERVER);
		free(s);
		s = snapshot_with(1000000, &len);
		bench("snapshot, 1 MB picture", s, len, PROTO_TO_SERVER);
		free(s);
	}
	return 0;
}
