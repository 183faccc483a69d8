/* check_errors.c -- the error tables of proto/, sim/ and conformance/
 * (docs/errors.md): each layer's codes stay in its own range, no two codes
 * share a number, each strerror names its own codes and those of the layers
 * below, and conformance/ functions that used to return a bare -1 or NULL
 * say which cause it was. */
#include "base_err.h"
#include "conf_err.h"
#include "core_err.h"
#include "fixture.h"
#include "pkgsrv.h"
#include "proto.h"
#include "sim_err.h"
#include "testutil.h"

#include <string.h>

typedef struct code {
	const char *layer, *name, *text;
	int rc, lo, hi; /* the layer's range, lo <= rc <= hi */
} code;

static const code codes[] = {
#define BASE_ROW(name, rc, text) {"base", "BASE_E" #name, text, rc, -99, -1},
	BASE_ERRNO_MAP(BASE_ROW)
#undef BASE_ROW
#define RECOG_ROW(name, rc, text) {"recog", "RECOG_E" #name, text, rc, -299, -200},
	RECOG_ERRNO_MAP(RECOG_ROW)
#undef RECOG_ROW
#define PROTO_ROW(name, rc, text) {"proto", "PROTO_E" #name, text, rc, -199, -100},
	PROTO_ERRNO_MAP(PROTO_ROW)
#undef PROTO_ROW
#define SIM_ROW(name, rc, text) {"sim", "SIM_E" #name, text, rc, -399, -300},
	SIM_ERRNO_MAP(SIM_ROW)
#undef SIM_ROW
#define CONF_ROW(name, rc, text) {"conformance", "CONF_E" #name, text, rc, -499, -400},
	CONF_ERRNO_MAP(CONF_ROW)
#undef CONF_ROW
};

#define N_CODES (sizeof codes / sizeof *codes)

START_TEST(each_layer_keeps_to_its_range_and_no_number_is_shared)
{
	for (size_t i = 0; i < N_CODES; i++) {
		const code *c = &codes[i];
		ck_assert_msg(c->rc >= c->lo && c->rc <= c->hi,
			      "%s = %d is outside %s's range %d..%d", c->name,
			      c->rc, c->layer, c->lo, c->hi);
		for (size_t j = 0; j < i; j++)
			ck_assert_msg(codes[j].rc != c->rc, "%s and %s are both %d",
				      codes[j].name, c->name, c->rc);
	}
}
END_TEST

/* A code passes up unchanged, so the top layer's strerror must still name
 * it; a layer never names the codes of a layer above it. */
START_TEST(strerror_names_its_own_codes_and_those_below)
{
	for (size_t i = 0; i < N_CODES; i++) {
		const code *c = &codes[i];
		/* who may name whom: the include graph of docs/build.md */
		bool in_proto = !strcmp(c->layer, "base") ||
				!strcmp(c->layer, "proto");
		bool in_sim = in_proto || !strcmp(c->layer, "recog") ||
			      !strcmp(c->layer, "sim");
		ck_assert_msg(!strcmp(conf_strerror(c->rc), c->text),
			      "conf_strerror(%s) is \"%s\", not \"%s\"", c->name,
			      conf_strerror(c->rc), c->text);
		ck_assert_msg(!strcmp(sim_strerror(c->rc),
				      in_sim ? c->text : "unknown error"),
			      "sim_strerror(%s) is \"%s\"", c->name,
			      sim_strerror(c->rc));
		ck_assert_msg(!strcmp(proto_strerror(c->rc),
				      in_proto ? c->text : "unknown error"),
			      "proto_strerror(%s) is \"%s\"", c->name,
			      proto_strerror(c->rc));
		ck_assert_msg(!strcmp(base_strerror(c->rc),
				      !strcmp(c->layer, "base") ? c->text
				      : "unknown error"),
			      "base_strerror(%s) is \"%s\"", c->name,
			      base_strerror(c->rc));
		ck_assert_msg(!strcmp(recog_core_strerror(c->rc),
				      !strcmp(c->layer, "recog") ? c->text
				      : "unknown error"),
			      "recog_core_strerror(%s) is \"%s\"", c->name,
			      recog_core_strerror(c->rc));
	}
	ck_assert_str_eq(conf_strerror(0), "success");
	ck_assert_str_eq(sim_strerror(0), "success");
	ck_assert_str_eq(conf_strerror(1), "unknown error");
	ck_assert_str_eq(conf_strerror(-500), "unknown error");
	ck_assert_str_eq(conf_strerror(-12345), "unknown error");
}
END_TEST

/* The old tables shared one IO code for three causes. */
START_TEST(listen_send_read_and_write_failures_have_distinct_codes)
{
	const int rc[] = {CONF_ELISTEN, CONF_ESEND, CONF_EREAD, CONF_EWRITE,
			  CONF_EMKDIR, CONF_EADAPTER, CONF_ESERVER, CONF_EINVAL,
			  CONF_EFORMAT};
	for (size_t i = 0; i < sizeof rc / sizeof *rc; i++)
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(conf_strerror(rc[i]), conf_strerror(rc[j]));
}
END_TEST

START_TEST(fixture_failures_name_their_cause)
{
	fx_expect e;
	char err[128];

	ck_assert_int_eq(fx_expect_parse("exit: 7\n", 8, &e, err, sizeof err),
			 CONF_EFORMAT);
	ck_assert_str_eq(err, "line 1: exit is 0, 1 or 2");
}
END_TEST

START_TEST(package_server_start_gives_a_code_and_the_server)
{
	pkgsrv *s = (pkgsrv *)1;
	char err[200] = "";

	ck_assert_int_eq(pkgsrv_start(&s, err, sizeof err), 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(!strncmp(pkgsrv_base(s), "http://127.0.0.1:", 17),
		      "base is \"%s\"", pkgsrv_base(s));
	pkgsrv_stop(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("errors");
	TCase *tc = tcase_create("errors");

	tcase_add_test(tc, each_layer_keeps_to_its_range_and_no_number_is_shared);
	tcase_add_test(tc, strerror_names_its_own_codes_and_those_below);
	tcase_add_test(tc, listen_send_read_and_write_failures_have_distinct_codes);
	tcase_add_test(tc, fixture_failures_name_their_cause);
	tcase_add_test(tc, package_server_start_gives_a_code_and_the_server);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
