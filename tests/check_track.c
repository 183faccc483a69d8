/* check_track.c -- following commands through exchanges (conformance/
 * track.c on outcome.c's rules): the cases of fixtures/track (one runner,
 * the data in files), and the rules they rest on: a command is found in a
 * reply whatever seq the server chose and however it packed the reply, a
 * confirmed one delivered again is a duplicate, one changed on the way
 * says how it differs, and only what the server received settles. */
#include "testutil.h"

#include "outcome.h"
#include "track.h"

#include <cJSON.h>

typedef struct notes {
	char what[64][16];
	size_t n;
} notes;

static void on_note(void *ud, const track_note *n)
{
	static const char *const names[] = {"new", "resent", "retry",
					    "duplicate", "unsolicited"};
	notes *ns = ud;

	if (ns->n < 64)
		snprintf(ns->what[ns->n++], sizeof ns->what[0], "%s",
			 names[n->what]);
}

static int num(const cJSON *o, const char *k, int def)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsNumber(v) ? (int)v->valuedouble : def;
}

/* Every ref of want holds what it says. */
static void expect(const char *file, const track *t, const cJSON *want,
		   size_t at)
{
	const cJSON *w;

	cJSON_ArrayForEach(w, want) {
		track_view v;
		const cJSON *f;
		ck_assert_msg(track_get(t, w->string, &v), "%s: no intent %s",
			      file, w->string);
		ck_assert_msg(!strcmp(track_state_name(v.state),
				      cJSON_GetObjectItem(w, "state")->valuestring),
			      "%s (event %zu): %s is %s, not %s: %s", file, at,
			      w->string, track_state_name(v.state),
			      cJSON_GetObjectItem(w, "state")->valuestring, v.detail);
		if ((f = cJSON_GetObjectItem(w, "seq")))
			ck_assert_msg(v.has_seq && v.seq == (int64_t)f->valuedouble,
				      "%s: %s has seq %lld", file, w->string,
				      (long long)v.seq);
		if ((f = cJSON_GetObjectItem(w, "deliveries")))
			ck_assert_msg(v.deliveries == (int)f->valuedouble,
				      "%s: %s delivered %d times", file, w->string,
				      v.deliveries);
		if ((f = cJSON_GetObjectItem(w, "detail")))
			ck_assert_msg(strstr(v.detail, f->valuestring),
				      "%s: %s: \"%s\" lacks \"%s\"", file,
				      w->string, v.detail, f->valuestring);
	}
}

static void run_case(const char *path)
{
	char *text = tu_read(path, NULL);
	cJSON *c = text ? cJSON_Parse(text) : NULL, *e;
	track *t = track_new();
	notes ns = {0};
	size_t i = 0;
	int key = 0;

	ck_assert_msg(c, "%s is not JSON", path);
	ck_assert_ptr_nonnull(t);
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(c, "events")) {
		size_t dev = (size_t)num(e, "dev", 0);
		const cJSON *v;
		if ((v = cJSON_GetObjectItem(e, "intent"))) {
			ck_assert_int_eq(track_intent(t, key++, dev, v->valuestring,
						      cJSON_GetObjectItem(e, "reply")),
					 0);
		} else if ((v = cJSON_GetObjectItem(e, "delivered"))) {
			ck_assert_int_eq(track_reply(t, dev, i, num(e, "end_ms",
							       (int)i * 1000),
						     v, on_note, &ns), 0);
		} else if ((v = cJSON_GetObjectItem(e, "message"))) {
			proto_arena a = PROTO_ARENA_INIT;
			proto_msg g;
			const cJSON *ser = cJSON_GetObjectItem(e, "serial");
			ck_assert_msg(proto_decode(v, PROTO_TO_SERVER,
						   &proto_profile_strict, &a, &g,
						   NULL) == 0,
				      "%s: event %zu is no valid message", path, i);
			track_message(t, dev, i, !ser || cJSON_IsTrue(ser),
				      num(e, "start_ms", (int)i * 1000), &g);
			proto_arena_free(&a);
		} else if ((v = cJSON_GetObjectItem(e, "check"))) {
			expect(path, t, v, i);
		} else {
			ck_abort_msg("%s: event %zu has no known member", path, i);
		}
		i++;
	}
	expect(path, t, cJSON_GetObjectItem(c, "expect"), i);
	if ((e = cJSON_GetObjectItem(c, "notes"))) {
		const cJSON *n;
		size_t k = 0;
		ck_assert_msg((size_t)cJSON_GetArraySize(e) == ns.n,
			      "%s: %zu notes, expected %d", path, ns.n,
			      cJSON_GetArraySize(e));
		cJSON_ArrayForEach(n, e) {
			ck_assert_msg(!strcmp(ns.what[k], n->valuestring),
				      "%s: note %zu is %s, not %s", path, k,
				      ns.what[k], n->valuestring);
			k++;
		}
	}
	track_free(t);
	cJSON_Delete(c);
	free(text);
}

START_TEST(every_tracking_case_holds)
{
	tu_list l = tu_ls("fixtures/track", ".json");

	ck_assert_uint_ge(l.n, 15);
	for (size_t i = 0; i < l.n; i++)
		run_case(l.path[i]);
	tu_ls_free(&l);
}
END_TEST

/* The mock and the tracker read the same rules: a reply splits into one
 * command per member, the server's URL and port together. */
START_TEST(a_reply_splits_into_its_commands)
{
	cJSON *r = cJSON_Parse("{\"time_interval\":5,\"http_server_url\":"
			       "\"http://x/api\",\"config\":{\"opType\":1},"
			       "\"http_server_port\":81,\"bogus\":1}");
	cJSON *out = cJSON_CreateArray();
	char *s;

	ck_assert_int_eq(outcome_split(r, out), 3);
	s = cJSON_PrintUnformatted(out);
	ck_assert_str_eq(s, "[{\"time_interval\":5},{\"http_server_url\":"
			 "\"http://x/api\",\"http_server_port\":81},"
			 "{\"config\":{\"opType\":1}}]");
	cJSON_free(s);
	cJSON_Delete(out);
	cJSON_Delete(r);
}
END_TEST

START_TEST(an_unknown_ref_is_not_found)
{
	track *t = track_new();
	track_view v;
	cJSON *r = cJSON_Parse("{\"reboot\":1}");

	ck_assert_int_eq(track_intent(t, 0, 0, "rb", r), 0);
	ck_assert(!track_get(t, "other", &v));
	ck_assert(track_get(t, "rb", &v));
	ck_assert_str_eq(track_state_name(v.state), "pending");
	ck_assert_int_eq(v.sent_ex, -1);
	cJSON_Delete(r);
	track_free(t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("track");
	TCase *t = tcase_create("track");

	tcase_add_test(t, every_tracking_case_holds);
	tcase_add_test(t, a_reply_splits_into_its_commands);
	tcase_add_test(t, an_unknown_ref_is_not_found);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
