/* check_base.c -- base/: the whole-file reader's refusals (missing, a
 * directory, a FIFO, too big; each message names the path) and reads (empty,
 * larger than a first buffer, standard input), the string builder, the
 * UTF-8 decoder's edge cases, base64 and SHA-256 known vectors, the listen
 * address parser and web_start/web_stop, the common macros and error texts,
 * libquadmath's printf hooks refused; freed heap given back to the system;
 * the data directory's lookup order (CAMSIM_DATA alone, the build tree from
 * any working directory, every place named when nothing is found). */
#include "b64.h"
#include "datadir.h"
#include "base.h"
#include "base_err.h"
#include "file.h"
#include "mem.h"
#include "printf_hooks.h"
#include "sha256.h"
#include "srcaddr.h"
#include "strbuf.h"
#include "utf8.h"
#include "web.h"
#include "testutil.h"

#include <civetweb.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

/* ---------------------------------------------------------------- file */

/* A fresh scratch directory for one test (removed by rm_tree). */
static void scratch(char dir[64])
{
	snprintf(dir, 64, "/tmp/check_base.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rm_tree(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void write_bytes(const char *path, const char *s, size_t n)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(s, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(read_file_of_a_missing_path_is_an_io_error_naming_it)
{
	char *buf = (char *)"x", err[256] = "";
	size_t len = 9;

	ck_assert_int_eq(base_read_file("scenario", "/nonexistent/a.json", 100,
					&buf, &len, err, sizeof err), BASE_EIO);
	ck_assert_msg(strstr(err, "scenario /nonexistent/a.json: cannot open: "),
		      "%s", err);
	ck_assert_ptr_null(buf);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(base_read_file(NULL, NULL, 100, &buf, &len, err,
					sizeof err), BASE_EINVAL);
	ck_assert_str_eq(err, "no path given");
}
END_TEST

START_TEST(read_file_refuses_a_directory_naming_it)
{
	char dir[64], *buf = NULL, err[256] = "";
	size_t len;

	scratch(dir);
	ck_assert_int_eq(base_read_file("adapter", dir, 100, &buf, &len, err,
					sizeof err), BASE_ENOTFILE);
	ck_assert_ptr_nonnull(strstr(err, "adapter "));
	ck_assert_ptr_nonnull(strstr(err, dir));
	ck_assert_msg(strstr(err, ": is a directory; a file is needed here"),
		      "%s", err);
	ck_assert_ptr_null(buf);
	rm_tree(dir);
}
END_TEST

START_TEST(read_file_refuses_a_fifo_at_once_without_a_writer)
{
	char dir[64], path[128], *buf = NULL, err[256] = "";
	size_t len;
	struct timespec t0, t1;

	scratch(dir);
	snprintf(path, sizeof path, "%s/x.fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(base_read_file(NULL, path, 100, &buf, &len, err,
					sizeof err), BASE_ENOTFILE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* no writer ever comes: a blocking open would never return */
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 5);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_msg(strstr(err, ": is a FIFO"), "%s", err);
	ck_assert_ptr_null(buf);
	rm_tree(dir);
}
END_TEST

START_TEST(read_file_over_the_limit_is_refused_naming_path_and_limit)
{
	char dir[64], path[128], *buf = NULL, err[256] = "";
	char data[100];
	size_t len = 0;

	scratch(dir);
	snprintf(path, sizeof path, "%s/big.json", dir);
	memset(data, 'a', sizeof data);
	write_bytes(path, data, sizeof data);
	ck_assert_int_eq(base_read_file("photo", path, 99, &buf, &len, err,
					sizeof err), BASE_ETOOBIG);
	ck_assert_ptr_nonnull(strstr(err, "photo "));
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_msg(strstr(err, "100 bytes, larger than the limit of 99"),
		      "%s", err);
	ck_assert_ptr_null(buf);
	/* exactly at the limit is fine, NUL-terminated */
	ck_assert_int_eq(base_read_file("photo", path, 100, &buf, &len, err,
					sizeof err), 0);
	ck_assert_uint_eq(len, 100);
	ck_assert_int_eq(buf[100], '\0');
	ck_assert_mem_eq(buf, data, 100);
	free(buf);
	rm_tree(dir);
}
END_TEST

START_TEST(read_file_reads_empty_and_large_files_whole)
{
	char dir[64], path[128], *buf = NULL, err[256] = "";
	size_t len = 9, big = 300000;
	char *data = malloc(big);

	ck_assert_ptr_nonnull(data);
	scratch(dir);
	snprintf(path, sizeof path, "%s/empty", dir);
	write_bytes(path, "", 0);
	ck_assert_int_eq(base_read_file(NULL, path, 10, &buf, &len, err,
					sizeof err), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(buf, "");
	free(buf);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)(i * 31 + 7);
	snprintf(path, sizeof path, "%s/big", dir);
	write_bytes(path, data, big);
	ck_assert_int_eq(base_read_file(NULL, path, big, &buf, &len, err,
					sizeof err), 0);
	ck_assert_uint_eq(len, big);
	ck_assert_mem_eq(buf, data, big);
	ck_assert_int_eq(buf[big], '\0');
	free(buf);
	free(data);
	rm_tree(dir);
}
END_TEST

START_TEST(read_fd_reads_a_pipe_to_its_end_within_the_limit)
{
	int fds[2];
	char *buf = NULL, err[256] = "";
	size_t len = 0;

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(write(fds[1], "{\"a\":1}", 7), 7);
	close(fds[1]);
	ck_assert_int_eq(base_read_fd(NULL, "stdin", fds[0], 100, &buf, &len,
				      err, sizeof err), 0);
	ck_assert_uint_eq(len, 7);
	ck_assert_str_eq(buf, "{\"a\":1}");
	free(buf);
	close(fds[0]);

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(write(fds[1], "0123456789", 10), 10);
	close(fds[1]);
	ck_assert_int_eq(base_read_fd("input", "stdin", fds[0], 9, &buf, &len,
				      err, sizeof err), BASE_ETOOBIG);
	ck_assert_msg(strstr(err, "input stdin: larger than the limit of 9 "
			     "bytes"), "%s", err);
	ck_assert_ptr_null(buf);
	ck_assert_uint_eq(len, 0);
	close(fds[0]);
}
END_TEST

/* ---------------------------------------------------------------- strbuf */

START_TEST(strbuf_appends_grow_and_stay_nul_terminated)
{
	strbuf b = {0};
	char big[2000];

	strbuf_add(&b, "ab", 2);
	strbuf_str(&b, "cd");
	strbuf_printf(&b, "-%d-%s", 42, "x");
	ck_assert_str_eq(b.p, "abcd-42-x");
	ck_assert_uint_eq(b.n, 9);
	/* printf output longer than its first buffer (512) */
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	strbuf_printf(&b, "[%s]", big);
	ck_assert_uint_eq(b.n, 9 + 2 + sizeof big - 1);
	ck_assert_int_eq(b.p[b.n], '\0');
	ck_assert_int_eq(b.p[9], '[');
	ck_assert_int_eq(b.p[b.n - 1], ']');
	ck_assert_uint_eq(strlen(b.p), b.n);
	ck_assert(!b.oom);
	free(b.p);
}
END_TEST

START_TEST(strbuf_html_escapes_the_five_characters)
{
	strbuf b = {0};

	strbuf_html(&b, "a<b>&\"c'd");
	strbuf_html(&b, NULL);
	strbuf_html(&b, "");
	ck_assert_str_eq(b.p, "a&lt;b&gt;&amp;&quot;c&#39;d");
	free(b.p);
}
END_TEST

START_TEST(strbuf_after_oom_every_append_is_a_no_op)
{
	strbuf b = {0};

	strbuf_str(&b, "kept");
	b.oom = true; /* as after a failed realloc */
	strbuf_str(&b, "lost");
	strbuf_printf(&b, "%d", 7);
	strbuf_html(&b, "<");
	ck_assert_str_eq(b.p, "kept");
	ck_assert_uint_eq(b.n, 4);
	free(b.p);
}
END_TEST

/* ---------------------------------------------------------------- utf8 */

START_TEST(utf8_decodes_one_to_four_byte_characters)
{
	static const struct { const char *s; size_t len; uint32_t cp; } ok[] = {
		{"A", 1, 0x41},           {"\x7F", 1, 0x7F},
		{"\xC2\x80", 2, 0x80},    {"\xC3\xA9", 2, 0xE9},
		{"\xDF\xBF", 2, 0x7FF},   {"\xE0\xA0\x80", 3, 0x800},
		{"\xE2\x82\xAC", 3, 0x20AC}, {"\xED\x9F\xBF", 3, 0xD7FF},
		{"\xEE\x80\x80", 3, 0xE000}, {"\xEF\xBF\xBF", 3, 0xFFFF},
		{"\xF0\x90\x80\x80", 4, 0x10000},
		{"\xF0\x9F\x98\x80", 4, 0x1F600},
		{"\xF4\x8F\xBF\xBF", 4, 0x10FFFF},
	};

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		uint32_t cp = 0;
		const unsigned char *p = (const unsigned char *)ok[i].s;
		ck_assert_msg(utf8_decode(p, strlen(ok[i].s), &cp) == ok[i].len &&
			      cp == ok[i].cp, "row %zu: U+%04X", i, (unsigned)cp);
		ck_assert_uint_eq(utf8_decode(p, strlen(ok[i].s), NULL), ok[i].len);
	}
}
END_TEST

START_TEST(utf8_refuses_overlong_surrogate_truncated_and_out_of_range)
{
	static const struct { const char *s; size_t left; } bad[] = {
		{"\x80", 1},             /* stray continuation */
		{"\xBF", 1},
		{"\xC0\x80", 2},         /* overlong NUL */
		{"\xC1\xBF", 2},         /* overlong 0x7F */
		{"\xE0\x80\x80", 3},     /* overlong */
		{"\xE0\x9F\xBF", 3},     /* overlong 0x7FF */
		{"\xF0\x80\x80\x80", 4}, /* overlong */
		{"\xF0\x8F\xBF\xBF", 4}, /* overlong 0xFFFF */
		{"\xED\xA0\x80", 3},     /* U+D800 */
		{"\xED\xBF\xBF", 3},     /* U+DFFF */
		{"\xF4\x90\x80\x80", 4}, /* U+110000 */
		{"\xF5\x80\x80\x80", 4},
		{"\xF8\x88\x80\x80\x80", 5},
		{"\xFF", 1},
		{"\xC3", 1},             /* cut by the end */
		{"\xE2\x82", 2},
		{"\xE2\x82\xAC", 2},     /* cut by left, bytes beyond unread */
		{"\xF0\x9F\x98", 3},
		{"\xC3\x41", 2},         /* cut by an ASCII byte */
		{"\xE2\xC3\xA9", 3},
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		uint32_t cp = 0;
		ck_assert_msg(utf8_decode((const unsigned char *)bad[i].s,
					  bad[i].left, &cp) == 0 &&
			      cp == UTF8_BAD, "row %zu accepted", i);
	}
}
END_TEST

START_TEST(utf8_copy_cuts_before_a_character_that_does_not_fit)
{
	/* "Zoë 😀" is Z o (C3 AB) space (F0 9F 98 80): 9 bytes */
	static const struct { size_t size; const char *want; } rows[] = {
		{1, ""}, {2, "Z"}, {3, "Zo"}, {4, "Zo"}, {5, "Zo\xC3\xAB"},
		{6, "Zo\xC3\xAB "}, {7, "Zo\xC3\xAB "}, {9, "Zo\xC3\xAB "},
		{10, "Zo\xC3\xAB \xF0\x9F\x98\x80"},
		{64, "Zo\xC3\xAB \xF0\x9F\x98\x80"},
	};
	char buf[64];

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		memset(buf, 'x', sizeof buf);
		ck_assert_uint_eq(utf8_copy(buf, rows[i].size,
					    "Zo\xC3\xAB \xF0\x9F\x98\x80"),
				  strlen(rows[i].want));
		ck_assert_msg(!strcmp(buf, rows[i].want), "size %zu: \"%s\"",
			      rows[i].size, buf);
	}
	/* a stray byte is the caller's text: copied, one byte */
	ck_assert_uint_eq(utf8_copy(buf, 3, "\xFF\xFFz"), 2);
	ck_assert_str_eq(buf, "\xFF\xFF");
	buf[0] = 'x';
	ck_assert_uint_eq(utf8_copy(buf, 0, "abc"), 0);
	ck_assert_int_eq(buf[0], 'x');
}
END_TEST

/* ---------------------------------------------------------------- base64 */

START_TEST(base64_rfc4648_vectors_both_ways)
{
	static const char *const vec[][2] = {
		{"", ""},         {"f", "Zg=="},       {"fo", "Zm8="},
		{"foo", "Zm9v"},  {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
		{"foobar", "Zm9vYmFy"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(vec); i++) {
		size_t n = 99;
		char *enc = b64_encode(vec[i][0], strlen(vec[i][0]), &n);
		unsigned char *dec = NULL;

		ck_assert_ptr_nonnull(enc);
		ck_assert_str_eq(enc, vec[i][1]);
		ck_assert_uint_eq(n, strlen(vec[i][1]));
		n = 99;
		ck_assert_int_eq(b64_decode(vec[i][1], strlen(vec[i][1]), &dec, &n),
				 0);
		ck_assert_ptr_nonnull(dec);
		ck_assert_uint_eq(n, strlen(vec[i][0]));
		ck_assert_mem_eq(dec, vec[i][0], n);
		free(dec);
		free(enc);
	}
}
END_TEST

START_TEST(base64_round_trips_every_byte_value)
{
	unsigned char data[300];

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof data; len++) {
		size_t n, m = 0;
		char *enc = b64_encode(data, len, &n);
		unsigned char *dec = NULL;

		ck_assert_ptr_nonnull(enc);
		ck_assert_uint_eq(n, (len + 2) / 3 * 4);
		ck_assert_int_eq(b64_decode(enc, n, &dec, &m), 0);
		ck_assert_uint_eq(m, len);
		ck_assert_mem_eq(dec, data, len);
		free(dec);
		free(enc);
	}
}
END_TEST

START_TEST(base64_invalid_input_is_refused)
{
	static const char *const bad[] = {
		"Zm9",      "Zm9vY",   "Zm9v!A==", "Zm=v",   "Zm9v\n",
		" Zm9v",    "====",    "Z===",     "Zg=a",   "Zm9vYmFy=",
		"Zm9v-_==", "Zg==Zg==",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		unsigned char *dec = (unsigned char *)"x";
		size_t n = 99;
		ck_assert_msg(b64_decode(bad[i], strlen(bad[i]), &dec, &n) ==
			      BASE_EINVAL,
			      "\"%s\" accepted", bad[i]);
		ck_assert_ptr_null(dec);
		ck_assert_uint_eq(n, 0);
	}
	{
		unsigned char *dec;
		/* A NUL inside the given length is not base64 either. */
		ck_assert_int_eq(b64_decode("Zm\0v", 4, &dec, NULL), BASE_EINVAL);
		ck_assert_int_eq(b64_decode(NULL, 4, &dec, NULL), BASE_EINVAL);
		ck_assert_int_eq(b64_decode("Zm9v", 4, NULL, NULL), BASE_EINVAL);
	}
}
END_TEST

/* ---------------------------------------------------------------- SHA-256 */

START_TEST(sha256_known_vectors)
{
	char hex[65];

	sha256_hex("abc", 3, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223"
			      "b00361a396177a9cb410ff61f20015ad");
	sha256_hex("", 0, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb924"
			      "27ae41e4649b934ca495991b7852b855");
	sha256_hex(NULL, 0, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb924"
			      "27ae41e4649b934ca495991b7852b855");
}
END_TEST

/* ---------------------------------------------------------------- web */

START_TEST(listen_addresses_parse_to_civetweb_form_and_poke_address)
{
	static const struct { const char *in, *opt; bool loopback; } ok[] = {
		{"8080", "127.0.0.1:8080", true},
		{":0", "127.0.0.1:0", true},
		{"localhost:80", "127.0.0.1:80", true},
		{"127.1.2.3:65535", "127.1.2.3:65535", true},
		{"0.0.0.0:9", "0.0.0.0:9", false},
		{"192.168.1.5:8090", "192.168.1.5:8090", false},
		{"[::1]:0", "[::1]:0", true},
		{"[::]:7", "[::]:7", false},
	};
	char why[256];

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		web_addr a;
		ck_assert_msg(web_addr_parse("listen address", ok[i].in, &a, why,
					     sizeof why) == 0, "%s: %s", ok[i].in,
			      why);
		ck_assert_str_eq(a.opt, ok[i].opt);
		ck_assert_msg(a.loopback == ok[i].loopback, "%s", ok[i].in);
	}
	{
		/* a wildcard is poked on loopback, where it also listens */
		web_addr a;
		ck_assert_int_eq(web_addr_parse("x", "0.0.0.0:9", &a, why,
						sizeof why), 0);
		ck_assert_int_eq(a.addr.ss_family, AF_INET);
		ck_assert_uint_eq(ntohl(((struct sockaddr_in *)&a.addr)
					->sin_addr.s_addr), INADDR_LOOPBACK);
		ck_assert_int_eq(web_addr_parse("x", "[::]:9", &a, why,
						sizeof why), 0);
		ck_assert_int_eq(a.addr.ss_family, AF_INET6);
		ck_assert(IN6_IS_ADDR_LOOPBACK(
			&((struct sockaddr_in6 *)&a.addr)->sin6_addr));
	}
}
END_TEST

START_TEST(listen_addresses_that_are_not_host_port_are_refused_naming_them)
{
	static const char *const bad[] = {
		"", "example.com:80", "1.2.3.4:65536", "1.2.3.4:-1",
		"1.2.3.4:+1", "1.2.3.4:", "1.2.3.4:8x", "[::1]80", "[::1",
		"[127.0.0.1]:80", "::1:80", "1.2.3:80",
		"99999999999999999999999999999999999999999999999999999999999999999999:1",
	};
	char why[512];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		web_addr a;
		ck_assert_msg(web_addr_parse("control address", bad[i], &a, why,
					     sizeof why) == BASE_EINVAL,
			      "\"%s\" accepted", bad[i]);
		ck_assert_msg(!strncmp(why, "control address \"", 17) &&
			      strstr(why, "is not HOST:PORT (HOST an IPv4 "
				     "address, [IPv6] or localhost"), "%s", why);
	}
	ck_assert_int_eq(web_addr_parse("x", NULL, &(web_addr){0}, why,
					sizeof why), BASE_EINVAL);
}
END_TEST

/* True when nothing listens on 127.0.0.1:port any more. */
static bool refused(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	ck_assert_int_ge(fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&a, sizeof a);
	close(fd);
	return rc < 0;
}

static int hello(struct mg_connection *c, void *ud)
{
	mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
		  "Connection: close\r\n\r\n%s", strlen(ud), (char *)ud);
	return 200;
}

/* A listener on a free loopback port answering every request "hi there". */
static struct mg_context *hello_listener(web_addr *a, web_site *site)
{
	char why[256];
	struct mg_context *ctx;

	ck_assert_int_eq(web_addr_parse("x", "127.0.0.1:0", a, why,
					sizeof why), 0);
	ctx = web_start(a, "2", "/", hello, "hi there", site, why, sizeof why);
	ck_assert_msg(ctx, "%s", why);
	return ctx;
}

START_TEST(web_start_serves_its_handler_on_a_free_port_until_web_stop)
{
	web_addr a;
	web_site site;
	char why[256], buf[512];
	struct mg_context *ctx = hello_listener(&a, &site);

	ck_assert_int_gt(site.port, 0);
	ck_assert(site.loopback);
	ck_assert_str_eq(site.addr, "127.0.0.1");
	ck_assert_int_eq(ntohs(((struct sockaddr_in *)&a.addr)->sin_port),
			 site.port);
	tu_ask(site.port, "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", buf,
	       sizeof buf, 10000);
	ck_assert_msg(!strncmp(buf, "HTTP/1.1 200", 12) &&
		      strstr(buf, "\r\n\r\nhi there"), "%s", buf);
	{
		/* the port is taken now: a second listener says so */
		web_addr b;
		char opt[32];
		snprintf(opt, sizeof opt, "127.0.0.1:%d", site.port);
		ck_assert_int_eq(web_addr_parse("x", opt, &b, why, sizeof why), 0);
		ck_assert_ptr_null(web_start(&b, "2", "/", hello, "no", NULL, why,
					     sizeof why));
		ck_assert_msg(strstr(why, "cannot listen on ") &&
			      strstr(why, opt), "%s", why);
	}
	web_stop(ctx, &a.addr);
	ck_assert(refused(site.port));
}
END_TEST

/* A request CivetWeb cannot read is answered by web.c's own small
 * writer (its default one overflowed a worker's stack, web.c): a whole
 * HTTP/1.1 reply with its length, and the listener serves on. */
START_TEST(a_request_civetweb_cannot_read_gets_a_whole_400_and_the_listener_lives)
{
	web_addr a;
	web_site site;
	char buf[512];
	struct mg_context *ctx = hello_listener(&a, &site);

	tu_ask(site.port, "GARBAGE\r\n\r\n", buf, sizeof buf, 10000);
	ck_assert_msg(!strncmp(buf, "HTTP/1.1 400 Bad Request\r\n", 26) &&
		      strstr(buf, "\r\nContent-Length: 11\r\n") &&
		      strstr(buf, "\r\n\r\nBad request"), "%s", buf);
	tu_ask(site.port, "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", buf,
	       sizeof buf, 10000);
	ck_assert_msg(!strncmp(buf, "HTTP/1.1 200", 12), "%s", buf);
	web_stop(ctx, &a.addr);
}
END_TEST

/* ---------------------------------------------------------------- common */

struct outer {
	int a;
	double b;
	char tag[3];
};

STATIC_ASSERT(sizeof(struct outer) >= sizeof(double), "the macro compiles at file scope");

START_TEST(container_of_and_array_size_find_the_whole)
{
	struct outer o = {0};
	int ten[10];
	const char *names[] = {"a", "b", "c"};

	ck_assert_ptr_eq(container_of(&o.b, struct outer, b), &o);
	ck_assert_ptr_eq(container_of(&o.tag[0], struct outer, tag), &o);
	ck_assert_uint_eq(ARRAY_SIZE(ten), 10);
	ck_assert_uint_eq(ARRAY_SIZE(names), 3);
	ck_assert_uint_eq(ARRAY_SIZE(o.tag), 3);
}
END_TEST

START_TEST(base_error_codes_are_distinct_with_their_own_text)
{
	static const int codes[] = {
#define CODE(name, code, text) BASE_E##name,
		BASE_ERRNO_MAP(CODE)
#undef CODE
	};

	for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
		ck_assert_int_lt(codes[i], 0);
		ck_assert_int_gt(codes[i], -100);
		ck_assert_str_ne(base_strerror(codes[i]), "unknown error");
		for (size_t j = 0; j < i; j++)
			ck_assert_int_ne(codes[i], codes[j]);
	}
	ck_assert_str_eq(base_strerror(BASE_ETOOBIG), "larger than the limit");
	ck_assert_str_eq(base_strerror(0), "success");
	ck_assert_str_eq(base_strerror(-100), "unknown error");
}
END_TEST

START_TEST(source_address_ranges_parse_name_round_robin_and_probe)
{
	srcaddr_range r;
	char why[300], a[SRCADDR_LEN];

	ck_assert_int_eq(srcaddr_parse("--x", "127.0.0.2-127.0.0.9", &r, why,
				       sizeof why), 0);
	ck_assert_uint_eq(r.count, 8);
	srcaddr_nth(&r, 0, a);
	ck_assert_str_eq(a, "127.0.0.2");
	srcaddr_nth(&r, 7, a);
	ck_assert_str_eq(a, "127.0.0.9");
	srcaddr_nth(&r, 8, a); /* round-robin */
	ck_assert_str_eq(a, "127.0.0.2");
	ck_assert_int_eq(srcaddr_parse("--x", "10.1.2.0-10.1.2.255", &r, why,
				       sizeof why), 0);
	ck_assert_uint_eq(r.count, SRCADDR_MAX);
	ck_assert_int_eq(srcaddr_parse("--x", "127.0.0.7", &r, why,
				       sizeof why), 0);
	ck_assert_uint_eq(r.count, 1);
	srcaddr_nth(&r, 5, a);
	ck_assert_str_eq(a, "127.0.0.7");
	ck_assert_int_eq(srcaddr_check("--x", &r, why, sizeof why), 0);

	ck_assert_int_eq(srcaddr_parse("--x", "10.1.2.9-10.1.2.8", &r, why,
				       sizeof why), BASE_EINVAL);
	ck_assert_uint_eq(r.count, 0);
	srcaddr_nth(&r, 3, a); /* an empty range names no address */
	ck_assert_str_eq(a, "");
	ck_assert_msg(strstr(why, "--x is \"10.1.2.9-10.1.2.8\"; the first "
			     "address is above the last"), "%s", why);
	ck_assert_int_eq(srcaddr_parse("--x", "10.1.2.9-10.1.3.1", &r, why,
				       sizeof why), BASE_EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "not in one /24"));
	const char *bad[] = {"", "-", "1.2.3", "1.2.3.4.5", "1.2.3.256",
			     "1.2.3.4-", "-1.2.3.4", "1.2.3.4--1.2.3.5",
			     "localhost", "::1", " 1.2.3.4", "1.2.3.4-1.2.3.5 "};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert_msg(srcaddr_parse("--x", bad[i], &r, why, sizeof why)
			      == BASE_EINVAL, "\"%s\" accepted", bad[i]);
		ck_assert_ptr_nonnull(strstr(why, "an IPv4 address or a range"));
	}
	/* TEST-NET-1 (RFC 5737) is no address of this machine */
	ck_assert_int_eq(srcaddr_parse("--x", "192.0.2.1-192.0.2.2", &r, why,
				       sizeof why), 0);
	ck_assert_int_eq(srcaddr_check("--x", &r, why, sizeof why), BASE_EIO);
	ck_assert_msg(strstr(why, "--x: 192.0.2.1 cannot be bound"), "%s", why);
}
END_TEST

/* ---------------------------------------------------------------- datadir */

/* Restores CAMSIM_DATA and the working directory (the suite may run
 * without fork: CK_FORK=no under valgrind). */
static char *saved_env, saved_cwd[PATH_MAX];

static void env_save(void)
{
	const char *e = getenv("CAMSIM_DATA");
	saved_env = e ? strdup(e) : NULL;
	ck_assert_ptr_nonnull(getcwd(saved_cwd, sizeof saved_cwd));
}

static void env_restore(void)
{
	if (saved_env)
		setenv("CAMSIM_DATA", saved_env, 1);
	else
		unsetenv("CAMSIM_DATA");
	free(saved_env);
	saved_env = NULL;
	ck_assert_int_eq(chdir(saved_cwd), 0);
}

START_TEST(data_find_with_camsim_data_looks_there_only_and_says_so)
{
	char dir[64], sub[128], out[PATH_MAX + 200];

	env_save();
	scratch(dir);
	snprintf(sub, sizeof sub, "%s/scenarios", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	setenv("CAMSIM_DATA", dir, 1);
	ck_assert_int_eq(data_find("scenarios", NULL, out, sizeof out), 0);
	ck_assert_str_eq(out, sub);
	/* the build tree has models, but an explicit choice is not passed over */
	ck_assert_int_eq(data_find("models/model", "build/models/model", out,
				   sizeof out), BASE_EIO);
	ck_assert_msg(strstr(out, "CAMSIM_DATA=") && strstr(out, dir) &&
		      strstr(out, "has no models/model/"), "%s", out);
	env_restore();
	rm_tree(dir);
}
END_TEST

START_TEST(data_find_takes_the_binarys_build_tree_not_the_working_directory)
{
	char dir[64], decoy[128], out[PATH_MAX + 200], mk[PATH_MAX + 300];
	struct stat st;

	env_save();
	unsetenv("CAMSIM_DATA");
	scratch(dir);
	/* a directory of the user's own that happens to hold scenarios/ */
	snprintf(decoy, sizeof decoy, "%s/scenarios", dir);
	ck_assert_int_eq(mkdir(decoy, 0755), 0);
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_int_eq(data_find("scenarios", NULL, out, sizeof out), 0);
	ck_assert_msg(!strstr(out, dir), "took the working directory: %s", out);
	/* build/tests/check_base belongs to the tree holding the Makefile */
	snprintf(mk, sizeof mk, "%.*s/Makefile", (int)(strlen(out) - 10), out);
	ck_assert_msg(strcmp(out + strlen(out) - 10, "/scenarios") == 0 &&
		      stat(mk, &st) == 0, "%s", out);
	env_restore();
	rm_tree(dir);
}
END_TEST

START_TEST(data_find_names_every_place_it_looked_in)
{
	char out[PATH_MAX + 2048];

	env_save();
	unsetenv("CAMSIM_DATA");
	ck_assert_int_eq(data_find("no-such-data", NULL, out, sizeof out),
			 BASE_EIO);
	/* the tree, beside the binary as installed, the compiled-in path */
	ck_assert_msg(strstr(out, "/no-such-data, ") &&
		      strstr(out, "/../share/camsim/no-such-data") &&
		      strstr(out, data_compiled_dir()), "%s", out);
	ck_assert_ptr_nonnull(strstr(data_compiled_dir(), "/camsim"));
	env_restore();
}
END_TEST

/* ---------------------------------------------------------------- printf */

/* OpenBLAS brings libquadmath, whose constructor registers printf hooks
 * for __float128; glibc then formats every printf of the process on its
 * slow path.  camsim refuses them: libquadmath (loaded, or loaded here,
 * which runs its constructor again) registered nothing, and printf does
 * not know "%Qf" (ASan's printf interceptor says once that it does not
 * either: expected). */
START_TEST(libquadmaths_printf_hooks_are_refused)
{
	char buf[32];
	const char *fmt = "%Qf"; /* not a literal: -Wformat would refuse it */
	void *q = dlopen("libquadmath.so.0", RTLD_NOW);

	ck_assert_msg(q, "libquadmath.so.0 (OpenBLAS's): %s", dlerror());
	ck_assert_uint_gt(printf_hooks_refused(), 0);
	snprintf(buf, sizeof buf, fmt, (__float128)1.5);
	ck_assert_str_ne(buf, "1.500000");
	dlclose(q);
}
END_TEST

/* Freed heap below a live chunk stays resident (free gives back only the
 * heap's top), as a load run's requests do after a stall of the server;
 * mem_give_back hands those pages back.  Measurable only where glibc's
 * allocator serves malloc: under ASan or valgrind the chunks come from
 * theirs, and the test says so instead of asserting. */
START_TEST(freed_heap_below_a_live_chunk_is_given_back)
{
	enum { N = 8192, SZ = 4096 }; /* 32 MiB, each below mmap's threshold */
	char **p = malloc(N * sizeof *p);
	struct mallinfo2 a = mallinfo2(), b;
	uint64_t held, now;

	ck_assert_ptr_nonnull(p);
	for (int i = 0; i < N; i++) {
		p[i] = malloc(SZ);
		ck_assert_ptr_nonnull(p[i]);
		memset(p[i], 0x5a, SZ);
	}
	b = mallinfo2();
	/* the last one stays: above the others, free cannot trim them off
	 * the heap's top */
	for (int i = 0; i < N - 1; i++)
		free(p[i]);
	if (tu_valgrind() || b.uordblks < a.uordblks + N * SZ / 2) {
		fprintf(stderr, "check_base: freed_heap_below_a_live_chunk_is_"
			"given_back: not glibc's allocator here (a sanitizer's "
			"or valgrind's), nothing to measure\n");
		free(p[N - 1]);
		free(p);
		return;
	}
	held = mem_rss_kb();
	ck_assert_uint_gt(held, 0);
	ck_assert(mem_give_back());
	now = mem_rss_kb();
	ck_assert_msg(now + 16 * 1024 <= held, "resident %llu KiB before, "
		      "%llu KiB after giving back 32 MiB of freed heap",
		      (unsigned long long)held, (unsigned long long)now);
	free(p[N - 1]);
	free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("base");
	TCase *file = tcase_create("file");
	TCase *sb = tcase_create("strbuf");
	TCase *u8 = tcase_create("utf8");
	TCase *b64 = tcase_create("base64 and sha256");
	TCase *web = tcase_create("web");
	TCase *com = tcase_create("common");
	TCase *data = tcase_create("datadir");

	tcase_add_test(file, read_file_of_a_missing_path_is_an_io_error_naming_it);
	tcase_add_test(file, read_file_refuses_a_directory_naming_it);
	tcase_add_test(file, read_file_refuses_a_fifo_at_once_without_a_writer);
	tcase_add_test(file, read_file_over_the_limit_is_refused_naming_path_and_limit);
	tcase_add_test(file, read_file_reads_empty_and_large_files_whole);
	tcase_add_test(file, read_fd_reads_a_pipe_to_its_end_within_the_limit);
	tcase_add_test(sb, strbuf_appends_grow_and_stay_nul_terminated);
	tcase_add_test(sb, strbuf_html_escapes_the_five_characters);
	tcase_add_test(sb, strbuf_after_oom_every_append_is_a_no_op);
	tcase_add_test(u8, utf8_decodes_one_to_four_byte_characters);
	tcase_add_test(u8, utf8_refuses_overlong_surrogate_truncated_and_out_of_range);
	tcase_add_test(u8, utf8_copy_cuts_before_a_character_that_does_not_fit);
	tcase_add_test(b64, base64_rfc4648_vectors_both_ways);
	tcase_add_test(b64, base64_round_trips_every_byte_value);
	tcase_add_test(b64, base64_invalid_input_is_refused);
	tcase_add_test(b64, sha256_known_vectors);
	tcase_add_test(web, listen_addresses_parse_to_civetweb_form_and_poke_address);
	tcase_add_test(web, listen_addresses_that_are_not_host_port_are_refused_naming_them);
	tcase_add_test(web, web_start_serves_its_handler_on_a_free_port_until_web_stop);
	tcase_add_test(web, a_request_civetweb_cannot_read_gets_a_whole_400_and_the_listener_lives);
	tcase_add_test(web, source_address_ranges_parse_name_round_robin_and_probe);
	tcase_add_test(com, container_of_and_array_size_find_the_whole);
	tcase_add_test(com, base_error_codes_are_distinct_with_their_own_text);
	tcase_add_test(com, libquadmaths_printf_hooks_are_refused);
	tcase_add_test(com, freed_heap_below_a_live_chunk_is_given_back);
	suite_add_tcase(s, file);
	suite_add_tcase(s, sb);
	suite_add_tcase(s, u8);
	suite_add_tcase(s, b64);
	suite_add_tcase(s, web);
	tcase_add_test(data, data_find_with_camsim_data_looks_there_only_and_says_so);
	tcase_add_test(data, data_find_takes_the_binarys_build_tree_not_the_working_directory);
	tcase_add_test(data, data_find_names_every_place_it_looked_in);
	suite_add_tcase(s, com);
	suite_add_tcase(s, data);
	return tu_run(s);
}
