/* check_proto_hostile.c -- bytes no peer should send: truncated JSON,
 * wrong types in every field, 10 MB strings, deep nesting, NUL bytes,
 * invalid UTF-8, huge lists, random corruption.  Each must give a clear
 * error (never a crash, a hang or a silent acceptance); the sanitizer pass
 * of `make test' runs this suite under ASan+UBSan. */
#include "proto.h"
#include "testutil.h"

#include <cJSON.h>

/* Decodes buf in both directions; returns the exit class camsim validate
 * would give (0, 1, 2) for dir. */
static int judge(const char *buf, size_t len, proto_dir dir, proto_report *rep)
{
	proto_arena a = PROTO_ARENA_INIT;
	proto_msg m;
	cJSON *j;
	char err[256];
	int rc = proto_json_parse(buf, len, &j, err, sizeof err);

	if (rc < 0) {
		ck_assert_int_eq(rc, PROTO_ENOTJSON);
		ck_assert_msg(!strncmp(err, "line ", 5), "error without position: %s", err);
		return 2;
	}
	rc = proto_decode(j, dir, &proto_profile_strict, &a, &m, rep);
	ck_assert_int_ne(rc, PROTO_ENOMEM);
	cJSON_Delete(j);
	proto_arena_free(&a);
	return rc < 0 ? 1 : 0;
}

static int judge_msg(const char *buf, size_t len, char *err, size_t errlen)
{
	cJSON *j = NULL;
	int rc = proto_json_parse(buf, len, &j, err, errlen);
	cJSON_Delete(j);
	return rc;
}

START_TEST(every_truncation_of_every_fixture_is_an_error)
{
	const char *dirs[] = {"fixtures/protocol/spec", "fixtures/protocol/valid"};
	size_t cuts = 0;

	for (size_t d = 0; d < 2; d++) {
		tu_list l = tu_ls(dirs[d], ".json");
		for (size_t i = 0; i < l.n; i++) {
			size_t len;
			char *buf = tu_read(l.path[i], &len);
			/* drop trailing white space so that every cut loses data */
			while (len && strchr(" \r\n\t", buf[len - 1]))
				len--;
			for (size_t cut = 0; cut < len; cut++) {
				char *copy = malloc(cut ? cut : 1);
				memcpy(copy, buf, cut);
				ck_assert_msg(judge_msg(copy, cut, (char[64]){0}, 64) ==
						      PROTO_ENOTJSON,
					      "%s cut at %zu was accepted", l.path[i], cut);
				free(copy);
				cuts++;
			}
			free(buf);
		}
		tu_ls_free(&l);
	}
	ck_assert_uint_gt(cuts, 5000);
}
END_TEST

/* Replaces the value at every path of every valid fixture with values of
 * other JSON types; the validator must name that path with a json_type
 * rule each time. */
typedef struct mut_ctx {
	const char *file;
	proto_dir dir;
	size_t tried, missed;
} mut_ctx;

static bool reported(const proto_report *rep, const char *path)
{
	for (size_t i = 0; i < rep->n; i++) {
		size_t rl = strlen(rep->v[i].rule);
		if (!strcmp(rep->v[i].path, path) && rl > 10 &&
		    !strcmp(rep->v[i].rule + rl - 10, ".json_type"))
			return true;
	}
	return false;
}

/* The k-th (0..4) of five values whose JSON type differs from orig's. */
static cJSON *other_types(const cJSON *orig, int k)
{
	/* candidates by type: string, number, null, bool, array, object */
	enum { STR, NUM, NUL, BOOL, ARR, OBJ } skip =
		cJSON_IsString(orig) ? STR : cJSON_IsNumber(orig) ? NUM :
		cJSON_IsArray(orig) ? ARR : OBJ;
	int t = 0;
	for (int i = STR; i <= OBJ; i++) {
		if (i == (int)skip || t++ != k)
			continue;
		switch (i) {
		case STR: return cJSON_CreateString("1");
		case NUM: return cJSON_CreateNumber(1);
		case NUL: return cJSON_CreateNull();
		case BOOL: return cJSON_CreateTrue();
		case ARR: return cJSON_CreateArray();
		default: return cJSON_CreateObject();
		}
	}
	return NULL;
}

static void mutate_all(mut_ctx *c, cJSON *root, cJSON *node, char *path)
{
	size_t plen = strlen(path), idx = 0;
	cJSON *child;

	cJSON_ArrayForEach(child, node)
	{
		if (cJSON_IsArray(node))
			sprintf(path + plen, "[%zu]", idx++);
		else
			sprintf(path + plen, ".%s", child->string);
		/* cJSON frees the replacement's old key before copying the new
		 * one, so the key must not be the replacement's own string */
		char *key = child->string ? strdup(child->string) : NULL;
		for (int k = 0; k < 5; k++) {
			proto_report rep = {0};
			cJSON *saved = cJSON_Duplicate(child, 1);
			cJSON *rep_val = other_types(child, k);
			char *text;
			if (cJSON_IsArray(node))
				cJSON_ReplaceItemInArray(node, (int)idx - 1, rep_val);
			else
				cJSON_ReplaceItemInObjectCaseSensitive(node, key, rep_val);
			text = cJSON_PrintUnformatted(root);
			ck_assert_int_eq(judge(text, strlen(text), c->dir, &rep), 1);
			c->tried++;
			if (!reported(&rep, path)) {
				c->missed++;
				fprintf(stderr, "%s: %s replaced by %s: no json_type rule "
					"at that path\n", c->file, path, text);
			}
			free(text);
			proto_report_free(&rep);
			/* put the original back and find it again */
			if (cJSON_IsArray(node))
				cJSON_ReplaceItemInArray(node, (int)idx - 1, saved);
			else
				cJSON_ReplaceItemInObjectCaseSensitive(node, key, saved);
			child = saved;
		}
		free(key);
		if (cJSON_IsObject(child) || cJSON_IsArray(child))
			mutate_all(c, root, child, path);
		path[plen] = '\0';
	}
}

START_TEST(a_wrong_type_in_any_field_is_named_with_its_path)
{
	const char *dirs[] = {"fixtures/protocol/spec", "fixtures/protocol/valid"};
	mut_ctx c = {0};

	for (size_t d = 0; d < 2; d++) {
	tu_list l = tu_ls(dirs[d], ".json");
	for (size_t i = 0; i < l.n; i++) {
		size_t len;
		char *buf = tu_read(l.path[i], &len), path[512] = "$", err[128];
		cJSON *j = NULL;
		if (proto_json_parse(buf, len, &j, err, sizeof err) == 0 &&
		    cJSON_GetArraySize(j) > 0) {
			c.file = l.path[i];
			c.dir = cJSON_HasObjectItem(j, "type") ||
						cJSON_HasObjectItem(j, "alarm")
					? PROTO_TO_SERVER
					: PROTO_TO_DEVICE;
			mutate_all(&c, j, j, path);
		}
		cJSON_Delete(j);
		free(buf);
	}
	tu_ls_free(&l);
	}
	ck_assert_uint_gt(c.tried, 1000);
	ck_assert_msg(c.missed == 0, "%zu of %zu wrong types went unnamed",
		      c.missed, c.tried);
}
END_TEST

static char *ten_mb(const char *pre, const char *post, char fill, size_t *len)
{
	size_t n = 10u << 20, a = strlen(pre), b = strlen(post);
	char *s = malloc(a + n + b + 1);
	memcpy(s, pre, a);
	memset(s + a, fill, n);
	memcpy(s + a + n, post, b + 1);
	*len = a + n + b;
	return s;
}

START_TEST(ten_megabyte_strings_are_judged_not_crashed)
{
	proto_report rep = {0};
	size_t len;
	/* a 10 MB person name: max_len, reported once with its size */
	char *s = ten_mb("{\"facelib_manage\":{\"type\":1,\"seq\":7,\"face\":{\"id\":\"a\",\"name\":\"",
			 "\"}}}", 'x', &len);
	ck_assert_int_eq(judge(s, len, PROTO_TO_DEVICE, &rep), 1);
	ck_assert_str_eq(rep.v[0].rule, "facelib_add.face.name.max_len");
	ck_assert_ptr_nonnull(strstr(rep.v[0].msg, "10485760 bytes"));
	proto_report_free(&rep);
	free(s);
	/* a 10 MB picture that is valid base64 but not an image: SHOULD */
	s = ten_mb("{\"facelib_manage\":{\"type\":1,\"seq\":7,\"face\":{\"id\":\"a\",\"image\":[\"",
		   "\"]}}}", 'A', &len);
	ck_assert_int_eq(judge(s, len, PROTO_TO_DEVICE, &rep), 0);
	ck_assert_str_eq(rep.v[0].rule, "facelib_add.face.image.image");
	proto_report_free(&rep);
	free(s);
	/* a 10 MB key */
	s = ten_mb("{\"", "\":1}", 'k', &len);
	ck_assert_int_eq(judge(s, len, PROTO_TO_DEVICE, &rep), 0);
	ck_assert_str_eq(rep.v[0].rule, "reply.unknown_key");
	ck_assert_uint_lt(strlen(rep.v[0].path), 100); /* path stays short */
	proto_report_free(&rep);
	free(s);
}
END_TEST

START_TEST(deep_nesting_is_refused_with_a_position)
{
	size_t depth = 200000, len = 2 * depth;
	char *s = malloc(len), err[256];
	memset(s, '[', depth);
	memset(s + depth, ']', depth);
	ck_assert_int_eq(judge_msg(s, len, err, sizeof err), PROTO_ENOTJSON);
	ck_assert_msg(strstr(err, "line 1, column") != NULL, "%s", err);
	/* the message names the limit, not a syntax error */
	ck_assert_msg(strstr(err, "nested deeper than 1000 levels"), "%s", err);
	/* nesting inside a known field is still bounded */
	memcpy(s, "{\"config\":", 10);
	ck_assert_int_eq(judge_msg(s, len, err, sizeof err), PROTO_ENOTJSON);
	ck_assert_msg(strstr(err, "nested deeper than 1000 levels"), "%s", err);
	free(s);
	/* 900 levels are JSON (cJSON allows 1000) and must decode safely */
	{
		char *t = malloc(2000), *p = t;
		proto_report rep = {0};
		p += sprintf(p, "{\"control\":");
		for (int i = 0; i < 900; i++)
			*p++ = '[';
		for (int i = 0; i < 900; i++)
			*p++ = ']';
		*p++ = '}';
		ck_assert_int_eq(judge(t, (size_t)(p - t), PROTO_TO_DEVICE, &rep), 1);
		ck_assert_str_eq(rep.v[0].rule, "reply.control.json_type");
		proto_report_free(&rep);
		free(t);
	}
}
END_TEST

START_TEST(nul_bytes_and_control_characters_are_not_json)
{
	char err[256];
	ck_assert_int_eq(judge_msg("{\"a\":\"x\0y\"}", 11, err, sizeof err), PROTO_ENOTJSON);
	ck_assert_str_eq(err, "line 1, column 8: NUL byte (0x00) in the body");
	ck_assert_int_eq(judge_msg("{\"a\":1}\0", 8, err, sizeof err), PROTO_ENOTJSON);
	ck_assert_int_eq(judge_msg("{\"a\":\"x\\u0000y\"}", 16, err, sizeof err), PROTO_ENOTJSON);
	ck_assert_ptr_nonnull(strstr(err, "\\u0000"));
	ck_assert_int_eq(judge_msg("{\"a\":\"x\ty\"}", 11, err, sizeof err), PROTO_ENOTJSON);
	ck_assert_ptr_nonnull(strstr(err, "control character 0x09"));
	/* escaped forms are fine */
	ck_assert_int_eq(judge_msg("{\"a\":\"x\\ty\\u0001\"}", 18, err, sizeof err), 0);
}
END_TEST

START_TEST(invalid_utf8_is_not_json)
{
	static const char *bad[] = {
		"\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", /* surrogate */
		"\xf4\x90\x80\x80",                               /* > U+10FFFF */
		"\xc3", "\xe2\x82", "\x80",
	};
	char buf[64], err[256];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int n = snprintf(buf, sizeof buf, "{\"name\":\"a%sb\"}", bad[i]);
		ck_assert_int_eq(judge_msg(buf, (size_t)n, err, sizeof err), PROTO_ENOTJSON);
		ck_assert_msg(strstr(err, "invalid UTF-8") != NULL, "case %zu: %s", i, err);
	}
	/* valid multi-byte text passes, and counts bytes for lengths */
	proto_report rep = {0};
	const char *ok = "{\"facelib_manage\":{\"type\":1,\"seq\":7,\"face\":{\"id\":\"a\","
			 "\"name\":\"\xe5\xbc\xa0\xe4\xb8\x89\xe5\xbc\xa0\xe4\xb8\x89\xe5\xbc\xa0"
			 "\xe4\xb8\x89\xe5\xbc\xa0\xe4\xb8\x89\xe5\xbc\xa0\xe4\xb8\x89\xe5\xbc\xa0"
			 "\xe4\xb8\x89\"}}}"; /* 12 CJK characters, 36 bytes > 35 */
	ck_assert_int_eq(judge(ok, strlen(ok), PROTO_TO_DEVICE, &rep), 1);
	ck_assert_str_eq(rep.v[0].rule, "facelib_add.face.name.max_len");
	ck_assert_ptr_nonnull(strstr(rep.v[0].msg, "36 bytes"));
	proto_report_free(&rep);
}
END_TEST

START_TEST(huge_lists_are_cut_at_their_limit)
{
	/* 1,000,000 strategies: one max_items, decoding stops at 16 */
	size_t n = 1000000, cap = n * 3 + 64, len = 0;
	char *s = malloc(cap);
	proto_report rep = {0};
	len += (size_t)sprintf(s, "{\"strategy_manage\":{\"strategyList\":[");
	for (size_t i = 0; i < n; i++) {
		memcpy(s + len, i ? ",{}" : "{}", i ? 3 : 2);
		len += i ? 3 : 2;
	}
	len += (size_t)sprintf(s + len, "]}}");
	ck_assert_int_eq(judge(s, len, PROTO_TO_DEVICE, &rep), 1);
	ck_assert_str_eq(rep.v[0].rule, "strategy_delivery.strategyList.max_items");
	ck_assert_uint_le(rep.n, PROTO_REPORT_MAX);
	proto_report_free(&rep);
	free(s);

	/* 200,000 unknown keys: every one counted, the list capped */
	n = 200000;
	s = malloc(n * 16 + 16);
	len = 0;
	s[len++] = '{';
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "%s\"k%zu\":0", i ? "," : "", i);
	s[len++] = '}';
	ck_assert_int_eq(judge(s, len, PROTO_TO_DEVICE, &rep), 0);
	ck_assert_uint_eq(rep.n, PROTO_REPORT_MAX);
	ck_assert_uint_eq(rep.n + rep.dropped, n);
	ck_assert_uint_eq(rep.n_should, n);
	proto_report_free(&rep);
	free(s);
}
END_TEST

START_TEST(numbers_out_of_range_are_refused)
{
	char err[256];
	proto_report rep = {0};
	ck_assert_int_eq(judge_msg("{\"time_interval\":1e999}", 23, err, sizeof err),
			 PROTO_ENOTJSON);
	ck_assert_ptr_nonnull(strstr(err, "too large"));
	/* integral but beyond 2^53: not an exact integer */
	const char *big = "{\"time_interval\":18446744073709551616}";
	ck_assert_int_eq(judge(big, strlen(big), PROTO_TO_DEVICE, &rep), 1);
	ck_assert_str_eq(rep.v[0].rule, "reply.time_interval.json_type");
	proto_report_free(&rep);
	const char *frac = "{\"time_interval\":3.5}";
	ck_assert_int_eq(judge(frac, strlen(frac), PROTO_TO_DEVICE, &rep), 1);
	ck_assert_str_eq(rep.v[0].rule, "reply.time_interval.json_type");
	proto_report_free(&rep);
}
END_TEST

/* Random corruption of valid messages: whatever comes out, the parser and
 * decoder answer (deterministic seed; the sanitizer pass checks memory). */
START_TEST(random_corruption_never_crashes)
{
	tu_list l = tu_ls("fixtures/protocol/spec", ".json");
	unsigned long long x = 0x9E3779B97F4A7C15ull;
	size_t runs = 0;

	for (size_t i = 0; i < l.n; i++) {
		size_t len;
		char *buf = tu_read(l.path[i], &len);
		for (int r = 0; r < 400; r++) {
			char *copy = malloc(len + 1);
			proto_report rep = {0};
			memcpy(copy, buf, len);
			for (int k = 0; k < 1 + r % 4; k++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				copy[x % len] = (char)(x >> 32);
			}
			int c1 = judge(copy, len, PROTO_ANY, &rep);
			ck_assert(c1 >= 0 && c1 <= 2);
			proto_report_free(&rep);
			free(copy);
			runs++;
		}
		free(buf);
	}
	tu_ls_free(&l);
	ck_assert_uint_gt(runs, 10000);
}
END_TEST

START_TEST(empty_body_is_nothing_to_do_for_the_device_only)
{
	proto_arena a = PROTO_ARENA_INIT;
	proto_msg m;
	char err[256];
	ck_assert_int_eq(proto_parse("", 0, PROTO_TO_DEVICE, NULL, &a, &m, err, sizeof err), 0);
	ck_assert_int_eq(m.kind, PROTO_REPLY);
	ck_assert_int_eq(proto_parse(" \r\n", 3, PROTO_TO_DEVICE, NULL, &a, &m, err, sizeof err), 0);
	ck_assert_int_eq(proto_parse("", 0, PROTO_TO_SERVER, NULL, &a, &m, err, sizeof err),
			 PROTO_ENOTJSON);
	ck_assert_str_eq(err, "line 1, column 1: empty body: no JSON value");
	proto_arena_free(&a);
}
END_TEST

/* What a hostile peer puts in a value never reaches a terminal as a
 * control: each input, escaped, is exactly the expected text. */
static const struct {
	const char *in;
	size_t len;
	bool keep_nl;
	const char *want;
} esc_cases[] = {
	{"plain \xC3\xA9t\xC3\xA9 \xE2\x82\xAC", 0, false, "plain \xC3\xA9t\xC3\xA9 \xE2\x82\xAC"},
	{"\x1B[2J\x07", 0, false, "\\x1B[2J\\x07"},
	{"a\nb\rc\td", 0, false, "a\\nb\\rc\\td"},
	{"a\nb\r", 0, true, "a\nb\\r"},
	{"del\x7F", 0, false, "del\\x7F"},
	{"c1 \xC2\x9B" "31m", 0, false, "c1 \\u009B31m"},
	{"nbsp \xC2\xA0", 0, false, "nbsp \xC2\xA0"},
	{"bad \xFF\xC3", 0, false, "bad \\xFF\\xC3"},
	{"over \xC0\xAF", 0, false, "over \\xC0\\xAF"},
	{"nul\0x", 5, false, "nul\\x00x"},
	{"back\\slash", 0, false, "back\\slash"},
	{"", 0, false, ""},
};

START_TEST(control_characters_are_escaped_for_terminals_and_logs)
{
	for (size_t i = 0; i < sizeof esc_cases / sizeof *esc_cases; i++) {
		const char *in = esc_cases[i].in;
		size_t n = esc_cases[i].len ? esc_cases[i].len : strlen(in);
		char out[128], small[6];
		size_t need = proto_esc_text(out, sizeof out, in, n,
					     esc_cases[i].keep_nl);
		ck_assert_msg(!strcmp(out, esc_cases[i].want),
			      "case %zu: got [%s], want [%s]", i, out,
			      esc_cases[i].want);
		ck_assert_uint_eq(need, strlen(esc_cases[i].want));
		/* a short buffer holds whole escapes only, NUL-terminated */
		proto_esc_text(small, sizeof small, in, n, esc_cases[i].keep_nl);
		ck_assert_msg(!strncmp(small, esc_cases[i].want, strlen(small)),
			      "case %zu: truncated to [%s]", i, small);
		ck_assert_uint_le(strlen(small), sizeof small - 1);
	}
	{
		char *d = proto_esc_dup("x\x1By", false);
		ck_assert_str_eq(d, "x\\x1By");
		free(d);
	}
	ck_assert_uint_eq(proto_esc_text(NULL, 0, NULL, 3, false), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto hostile input");
	TCase *tc = tcase_create("hostile");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_truncation_of_every_fixture_is_an_error);
	tcase_add_test(tc, a_wrong_type_in_any_field_is_named_with_its_path);
	tcase_add_test(tc, ten_megabyte_strings_are_judged_not_crashed);
	tcase_add_test(tc, deep_nesting_is_refused_with_a_position);
	tcase_add_test(tc, nul_bytes_and_control_characters_are_not_json);
	tcase_add_test(tc, invalid_utf8_is_not_json);
	tcase_add_test(tc, huge_lists_are_cut_at_their_limit);
	tcase_add_test(tc, numbers_out_of_range_are_refused);
	tcase_add_test(tc, random_corruption_never_crashes);
	tcase_add_test(tc, empty_body_is_nothing_to_do_for_the_device_only);
	tcase_add_test(tc, control_characters_are_escaped_for_terminals_and_logs);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
