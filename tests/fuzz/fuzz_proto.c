/* fuzz_proto.c -- libFuzzer harness for proto/: the JSON reader, the
 * decoder/validator in both directions (and the guess) under both
 * profiles, the encoder on whatever decoded cleanly, and the value-format
 * helpers.  Owns no project state. */
#include "fuzz.h"
#include "b64.h"
#include "proto.h"

#include <cJSON.h>
#include <string.h>

static const proto_dir dirs[] = {PROTO_ANY, PROTO_TO_SERVER, PROTO_TO_DEVICE};

/* A message that decoded without a MUST violation, encoded again, must
 * decode without one too; under strict (no float32 widening of confidence)
 * it must come back equal. */
static void round_trip(const proto_msg *m, const proto_profile *prof)
{
	proto_arena a = PROTO_ARENA_INIT;
	proto_msg back;
	char err[512];
	char *s = proto_build(m, prof);
	proto_dir dir = m->kind == PROTO_REPLY ? PROTO_TO_DEVICE : PROTO_TO_SERVER;
	int rc;

	FUZZ_CHECK(s, "proto_build failed on a valid %s", proto_kind_name(m->kind));
	rc = proto_parse(s, strlen(s), dir, prof, &a, &back, err, sizeof err);
	FUZZ_CHECK(rc == 0, "%s encoded under %s no longer decodes: %s\n%s",
		   proto_kind_name(m->kind), prof->name, err, s);
	FUZZ_CHECK(back.kind == m->kind, "kind %s came back as %s",
		   proto_kind_name(m->kind), proto_kind_name(back.kind));
	if (!prof->confidence_float32)
		FUZZ_CHECK(proto_msg_equal(m, &back), "%s changed in a round "
			   "trip under %s:\n%s", proto_kind_name(m->kind),
			   prof->name, s);
	free(s);
	proto_arena_free(&a);
}

static void formats(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	int y, mo, d, secs;
	size_t bad, n;

	if (!s)
		return;
	memcpy(s, data, size);
	s[size] = '\0'; /* the helpers take C strings: stop at the first NUL */
	(void)proto_fmt_date(s, false, &y, &mo, &d);
	(void)proto_fmt_date(s, true, &y, &mo, &d);
	(void)proto_fmt_hms(s, false, &secs);
	(void)proto_fmt_hms(s, true, &secs);
	(void)proto_list_count(s, &bad);
	(void)b64_valid(s, strlen(s), &n);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const proto_profile *profs[] = {&proto_profile_strict,
					&proto_profile_as_printed};
	cJSON *j = NULL;
	char err[256] = "";
	int rc;

	formats(data, size);
	rc = proto_json_parse((const char *)data, size, &j, err, sizeof err);
	if (rc < 0) {
		FUZZ_CHECK(rc == PROTO_ENOTJSON || rc == PROTO_ENOMEM,
			   "proto_json_parse returned %d", rc);
		FUZZ_CHECK(rc != PROTO_ENOTJSON || !strncmp(err, "line ", 5),
			   "a JSON error without its position: \"%s\"", err);
		return 0;
	}
	for (size_t p = 0; p < 2; p++)
		for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
			proto_arena a = PROTO_ARENA_INIT;
			proto_report rep = {0};
			proto_msg m;

			rc = proto_decode(j, dirs[i], profs[p], &a, &m, &rep);
			FUZZ_CHECK(rc == 0 || rc == PROTO_EBADMSG ||
					   rc == PROTO_EUNKNOWN,
				   "proto_decode returned %d", rc);
			FUZZ_CHECK((rc == 0) == (rep.n_must == 0) ||
					   rc == PROTO_EUNKNOWN,
				   "return %d with %zu MUST violations", rc,
				   rep.n_must);
			for (size_t k = 0; k < rep.n; k++)
				FUZZ_CHECK(rep.v[k].rule && rep.v[k].path &&
						   rep.v[k].msg && rep.v[k].msg[0],
					   "violation %zu without rule, path or "
					   "message", k);
			if (rc == 0)
				round_trip(&m, profs[p]);
			proto_report_free(&rep);
			proto_arena_free(&a);
		}
	cJSON_Delete(j);
	return 0;
}
