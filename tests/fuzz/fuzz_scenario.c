/* fuzz_scenario.c -- libFuzzer harness for conformance/scenario.c: a
 * scenario file's text through scn_parse, and every parsed step's object
 * through scn_match (patterns against themselves must match).  Reads no
 * files: scn_parse works on the text in memory. */
#include "fuzz.h"
#include "scenario.h"

#include <cJSON.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	scenario *s = NULL;
	char err[512] = "", why[256];
	int rc = scn_parse((const char *)data, size, "fuzz/scenario.json", &s,
			   err, sizeof err);

	if (rc < 0) {
		FUZZ_CHECK(!s, "scn_parse failed (%d) but gave a scenario", rc);
		FUZZ_CHECK(rc == CONF_ENOTJSON || rc == CONF_EFORMAT ||
				   rc == CONF_ENOMEM || rc == CONF_EREAD,
			   "scn_parse returned %d: %s", rc, err);
		FUZZ_CHECK(err[0], "scn_parse failed (%d) without a sentence", rc);
		return 0;
	}
	FUZZ_CHECK(s, "scn_parse succeeded without a scenario");
	for (size_t i = 0; i < s->n_steps; i++) {
		const scn_step *st = &s->steps[i];
		FUZZ_CHECK(st->dev < s->n_devs || s->n_devs == 0,
			   "steps[%zu].dev %zu of %zu devices", i, st->dev,
			   s->n_devs);
		/* a pattern without $-operators matches itself; with them it
		 * may not, but must answer */
		(void)scn_match(st->obj, st->obj, why, sizeof why);
	}
	(void)scn_allowed(s, "heartbeat.seq.required");
	free(scn_path(s, "photo.jpg"));
	scn_free(s);
	return 0;
}
