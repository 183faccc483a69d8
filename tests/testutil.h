/* testutil.h -- shared helpers for the Check suites: reading fixture files
 * and listing fixture folders.  Header-only, test code only. */
#ifndef CAMSIM_TESTUTIL_H
#define CAMSIM_TESTUTIL_H

#include <arpa/inet.h>
#include <cJSON.h>
#include <check.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Whether tests/run.sh --valgrind runs this suite (make valgrind sets
 * VALGRIND; set it too when running valgrind by hand).  Only there are the
 * recognition models out of reach on purpose (CAMSIM_MODELS points
 * nowhere); elsewhere a suite asserts they load, so that broken model
 * loading fails a normal run instead of passing as "unavailable". */
static inline int tu_valgrind(void)
{
	return getenv("VALGRIND") != NULL;
}

/* Fixtures live under the repository root; tests run from there (make
 * test) unless CAMSIM_ROOT says otherwise. */
static inline const char *tu_root(void)
{
	const char *r = getenv("CAMSIM_ROOT");
	return r && *r ? r : ".";
}

/* The whole file, NUL-terminated; NULL when it cannot be read. */
static inline char *tu_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (len)
		*len = 0;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		if (len)
			*len = (size_t)n;
	}
	return buf;
}

/* The JSON document in path (a test's report), parsed; the test fails
 * naming the file when it is missing or not JSON.  Free with cJSON_Delete. */
static inline cJSON *tu_read_json(const char *path)
{
	char *txt = tu_read(path, NULL);
	cJSON *j;

	ck_assert_msg(txt != NULL, "no %s", path);
	j = cJSON_Parse(txt);
	free(txt);
	ck_assert_msg(j != NULL, "%s is not JSON", path);
	return j;
}

typedef struct tu_list {
	char **path;
	size_t n;
} tu_list;

static int tu_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted paths of the files in root/dir whose names end in suffix. */
static inline tu_list tu_ls(const char *dir, const char *suffix)
{
	tu_list l = {0};
	char full[1024];
	DIR *d;
	struct dirent *e;

	snprintf(full, sizeof full, "%s/%s", tu_root(), dir);
	d = opendir(full);
	if (!d)
		return l;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name), s = strlen(suffix);
		if (n <= s || strcmp(e->d_name + n - s, suffix))
			continue;
		l.path = realloc(l.path, (l.n + 1) * sizeof *l.path);
		l.path[l.n] = malloc(strlen(full) + n + 2);
		sprintf(l.path[l.n], "%s/%s", full, e->d_name);
		l.n++;
	}
	closedir(d);
	if (l.n)
		qsort(l.path, l.n, sizeof *l.path, tu_cmp);
	return l;
}

static inline void tu_ls_free(tu_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->path[i]);
	free(l->path);
	l->path = NULL;
	l->n = 0;
}

/* Runs suite s; returns the process exit status. */
static inline int tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* What a subcommand's main printed and returned. */
typedef struct tu_cli_result {
	int rc;
	char *out, *err;
} tu_cli_result;

/* Runs main_fn(argc, argv, out, err) as "NAME ARGS..." (args ends with
 * NULL, at most 60), capturing both streams; free with tu_cli_free. */
static inline tu_cli_result tu_cli(int (*main_fn)(int, char **, FILE *, FILE *),
			    const char *name, const char **args)
{
	const char *argv[64];
	int argc = 0;
	tu_cli_result r;
	size_t on, en;
	FILE *out, *err;

	argv[argc++] = name;
	while (*args && argc < 63)
		argv[argc++] = *args++;
	argv[argc] = NULL;
	out = open_memstream(&r.out, &on);
	err = open_memstream(&r.err, &en);
	r.rc = main_fn(argc, (char **)argv, out, err);
	fclose(out);
	fclose(err);
	return r;
}

static inline void tu_cli_free(tu_cli_result *r)
{
	free(r->out);
	free(r->err);
}

/* A TCP connection to 127.0.0.1:port; fails the test when there is none. */
static inline int tu_connect(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	return fd;
}

/* Sends req (raw HTTP) on a new connection and reads the answer until the
 * server closes or ms pass without a byte; the answer in buf (n bytes,
 * NUL-terminated), and its HTTP/1.1 status (0 when there is none). */
static inline int tu_ask(int port, const char *req, char *buf, size_t n,
			 int ms)
{
	int fd = tu_connect(port);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t got = 0;
	int st = 0;

	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (got + 1 < n && poll(&p, 1, ms) == 1) {
		ssize_t r = read(fd, buf + got, n - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	close(fd);
	sscanf(buf, "HTTP/1.1 %d", &st);
	return st;
}

#endif
