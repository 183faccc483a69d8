/* check_proto_codec.c -- building messages from C structs: the exact wire
 * bytes (pinned in fixtures/protocol/wire/), the profiles' quirks, and the
 * format helpers the device and the mock share with the validator. */
#include "proto.h"
#include "b64.h"
#include "testutil.h"

#include <cJSON.h>

/* Builds m with prof, compares with the pinned file, and checks that what
 * was built validates with no MUST violation. */
static void pinned(const proto_msg *m, const proto_profile *prof,
		   const char *file, size_t want_should)
{
	char path[512], err[256];
	char *built = proto_build(m, prof), *want;
	size_t len;
	cJSON *j;
	proto_arena a = PROTO_ARENA_INIT;
	proto_msg back;
	proto_report rep = {0};

	ck_assert_ptr_nonnull(built);
	snprintf(path, sizeof path, "%s/fixtures/protocol/wire/%s", tu_root(), file);
	want = tu_read(path, &len);
	ck_assert_msg(want != NULL, "missing %s; built: %s", path, built);
	while (len && (want[len - 1] == '\n'))
		want[--len] = '\0';
	ck_assert_str_eq(built, want);
	ck_assert_int_eq(proto_json_parse(built, strlen(built), &j, err, sizeof err), 0);
	ck_assert_int_eq(proto_decode(j, PROTO_ANY, prof, &a, &back, &rep), 0);
	ck_assert_uint_eq(rep.n_must, 0);
	ck_assert_uint_eq(rep.n_should, want_should);
	ck_assert(proto_msg_equal(m, &back) || want_should);
	proto_report_free(&rep);
	proto_arena_free(&a);
	cJSON_Delete(j);
	free(want);
	free(built);
}

START_TEST(heartbeat_is_built_in_document_key_order)
{
	proto_msg m = {.kind = PROTO_HEARTBEAT};
	proto_heartbeat *h = &m.u.heartbeat;
	h->app_version = "1.0.1.1";
	h->cid = "0012b516a202";
	h->has_seq = h->has_uptime = h->has_type = true;
	h->seq = 1569497378;
	h->uptime = 1569497378;
	h->type = 3;
	pinned(&m, &proto_profile_strict, "heartbeat.json", 0);
}
END_TEST

static const char *jpeg_b64 = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8U";

static void snapshot(proto_msg *m)
{
	static const char *faces[1];
	proto_snapshot *s = &m->u.snapshot;
	memset(m, 0, sizeof *m);
	m->kind = PROTO_SNAPSHOT;
	faces[0] = jpeg_b64;
	s->cid = "294300000111";
	s->has_type = s->has_time = s->has_faces = s->has_result = true;
	s->type = 1;
	s->time = 1568101332;
	s->faces = faces;
	s->n_faces = 1;
	s->result.person_id = "1567910643_dgQdv2x9";
	s->result.person_name = "Huhao";
	s->result.has_age = s->result.has_confidence = s->result.has_person_type = true;
	s->result.has_temperature = s->result.has_facemask = true;
	s->result.age = 0;
	s->result.sex = "male";
	s->result.confidence = 0.93;
	s->result.person_type = 1;
	s->result.temperature = 36.5;
	s->result.facemask = 1;
}

START_TEST(snapshot_strict_writes_plain_values)
{
	proto_msg m;
	snapshot(&m);
	pinned(&m, &proto_profile_strict, "snapshot-strict.json", 0);
}
END_TEST

START_TEST(snapshot_as_printed_reproduces_the_documents_quirks)
{
	proto_msg m;
	snapshot(&m);
	/* " male" and 0.9300000071525574, as §4's example prints them; the
	 * padded sex is then a SHOULD for the as-printed validator */
	pinned(&m, &proto_profile_as_printed, "snapshot-as-printed.json", 1);
}
END_TEST

START_TEST(reply_carries_several_commands_in_application_order)
{
	static const char *img[1];
	proto_msg m = {.kind = PROTO_REPLY};
	proto_reply *r = &m.u.reply;
	img[0] = jpeg_b64;
	r->has_time_set = r->has_time_interval = r->has_facelib = r->has_config = true;
	r->time_set.has_time_stamp = r->time_set.has_time_zone = true;
	r->time_set.time_stamp = 1700000000;
	r->time_set.time_zone = 28800;
	r->time_interval = 3;
	r->facelib.has_type = r->facelib.has_seq = r->facelib.has_face = true;
	r->facelib.type = 1;
	r->facelib.seq = 42;
	r->facelib.face.id = "p1";
	r->facelib.face.name = "LILEI";
	r->facelib.face.has_image = true;
	r->facelib.face.image = img;
	r->facelib.face.n_image = 1;
	r->config.has_op_type = r->config.has_seq = true;
	r->config.op_type = 0;
	r->config.seq = 43;
	r->config.cfg.has_relay = true;
	r->config.cfg.relay.has_duration = true;
	r->config.cfg.relay.duration = 5;
	pinned(&m, &proto_profile_strict, "reply-multi.json", 0);
}
END_TEST

START_TEST(alarm_names_its_device_only_in_strict)
{
	proto_msg m = {.kind = PROTO_ALARM};
	proto_alarm *a = &m.u.alarm;
	a->has_alarm = a->has_seq = a->has_time = a->has_alarmtype = true;
	a->seq = 12123;
	a->time = 1700000000;
	a->alarmtype = 1;
	a->alarmdata = "";
	pinned(&m, &proto_profile_as_printed, "alarm-as-printed.json", 0);
	a->cid = "0012b516a202"; /* what a strict device adds */
	pinned(&m, &proto_profile_strict, "alarm-strict.json", 0);
	ck_assert(proto_profile_strict.alarm_cid);
	ck_assert(!proto_profile_as_printed.alarm_cid);
}
END_TEST

START_TEST(an_empty_kind_builds_nothing)
{
	proto_msg m = {0};
	ck_assert_ptr_null(proto_build(&m, NULL));
}
END_TEST

START_TEST(dates_are_calendar_dates_padded_unless_lenient)
{
	int y, mo, d;
	ck_assert_int_eq(proto_fmt_date("2019/01/01", false, &y, &mo, &d), 0);
	ck_assert_int_eq(y * 10000 + mo * 100 + d, 20190101);
	ck_assert_int_eq(proto_fmt_date("2020/02/29", false, &y, &mo, &d), 0);
	ck_assert_int_eq(proto_fmt_date("2019/02/29", false, &y, &mo, &d), -1);
	ck_assert_int_eq(proto_fmt_date("2100/02/29", false, &y, &mo, &d), -1);
	ck_assert_int_eq(proto_fmt_date("2019/6/30", false, &y, &mo, &d), -1);
	ck_assert_int_eq(proto_fmt_date("2019/6/30", true, &y, &mo, &d), 1);
	ck_assert_int_eq(proto_fmt_date("2019-06-30", true, &y, &mo, &d), -1);
	ck_assert_int_eq(proto_fmt_date("2019/06/30/", true, &y, &mo, &d), -1);
	ck_assert_int_eq(proto_fmt_date("2019/13/01", true, &y, &mo, &d), -1);
	ck_assert_int_eq(proto_fmt_date("", true, &y, &mo, &d), -1);
}
END_TEST

START_TEST(times_are_hh_mm_ss_within_a_day)
{
	int s;
	ck_assert_int_eq(proto_fmt_hms("19:45:10", false, &s), 0);
	ck_assert_int_eq(s, 19 * 3600 + 45 * 60 + 10);
	ck_assert_int_eq(proto_fmt_hms("8:59:00", false, &s), -1);
	ck_assert_int_eq(proto_fmt_hms("8:59:00", true, &s), 1);
	ck_assert_int_eq(proto_fmt_hms("24:00:00", true, &s), -1); /* ends only */
	ck_assert_int_eq(proto_fmt_hms("23:60:00", true, &s), -1);
	ck_assert_int_eq(proto_fmt_hms("23:59", true, &s), -1);
}
END_TEST

START_TEST(base64_needs_alphabet_length_and_padding)
{
	size_t n;
	ck_assert(b64_valid("QUJD", 4, &n));
	ck_assert_uint_eq(n, 3);
	ck_assert(b64_valid("QUI=", 4, &n));
	ck_assert_uint_eq(n, 2);
	ck_assert(!b64_valid("QUI", 3, &n));
	ck_assert(!b64_valid("QU=I", 4, &n));
	ck_assert(!b64_valid("QU I", 4, &n));
	ck_assert(!b64_valid("", 0, &n));
}
END_TEST

START_TEST(comma_lists_count_entries_and_find_empty_ones)
{
	size_t bad;
	ck_assert_uint_eq(proto_list_count("1,2,6,7", &bad), 4);
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(proto_list_count("a, b", &bad), 2);
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(proto_list_count("a,,b", &bad), 3);
	ck_assert_uint_eq(bad, 2);
	ck_assert_uint_eq(proto_list_count("", &bad), 1);
	ck_assert_uint_eq(bad, 1);
}
END_TEST

START_TEST(errors_and_profiles_have_names)
{
	ck_assert_str_eq(proto_strerror(PROTO_ENOTJSON), "not JSON");
	ck_assert_str_eq(proto_strerror(PROTO_EBADMSG),
			 "message breaks a MUST rule of protocol V1.16");
	ck_assert_str_eq(proto_strerror(12345), "unknown error");
	ck_assert_ptr_eq(proto_profile_find("strict"), &proto_profile_strict);
	ck_assert_ptr_eq(proto_profile_find("as-printed"), &proto_profile_as_printed);
	ck_assert_ptr_null(proto_profile_find("lenient"));
	ck_assert_str_eq(proto_kind_name(PROTO_CONFIG_REPORT), "config_report");
}
END_TEST

START_TEST(the_arena_serves_large_and_small_blocks)
{
	proto_arena a = PROTO_ARENA_INIT;
	char *small = proto_arena_alloc(&a, 10);
	char *big = proto_arena_alloc(&a, 1 << 20);
	char *after = proto_arena_alloc(&a, 10);
	ck_assert_ptr_nonnull(small);
	ck_assert_ptr_nonnull(big);
	memset(big, 1, 1 << 20);
	/* the big block does not displace the chunk small requests use */
	ck_assert_int_lt((int)(after - small), 1024);
	ck_assert_str_eq(proto_arena_strndup(&a, "abcdef", 3), "abc");
	proto_arena_free(&a);
	ck_assert_ptr_null(a.head);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto codec");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, heartbeat_is_built_in_document_key_order);
	tcase_add_test(tc, snapshot_strict_writes_plain_values);
	tcase_add_test(tc, snapshot_as_printed_reproduces_the_documents_quirks);
	tcase_add_test(tc, reply_carries_several_commands_in_application_order);
	tcase_add_test(tc, alarm_names_its_device_only_in_strict);
	tcase_add_test(tc, an_empty_kind_builds_nothing);
	tcase_add_test(tc, dates_are_calendar_dates_padded_unless_lenient);
	tcase_add_test(tc, times_are_hh_mm_ss_within_a_day);
	tcase_add_test(tc, base64_needs_alphabet_length_and_padding);
	tcase_add_test(tc, comma_lists_count_entries_and_find_empty_ones);
	tcase_add_test(tc, errors_and_profiles_have_names);
	tcase_add_test(tc, the_arena_serves_large_and_small_blocks);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
