/* fuzz_adapter.c -- libFuzzer harness for conformance/adapter.c: an
 * adapter file's text through adp_parse and the look-ups the runner makes
 * before running anything.  Runs no action (no process, no HTTP). */
#include "fuzz.h"
#include "adapter.h"
#include "scenario.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const actions[] = {"enroll", "delete", "command_state",
					      "records", "*", ""};
	adapter *a = NULL;
	char err[512] = "";
	int rc = adp_parse((const char *)data, size, "fuzz/adapter.json", &a, err,
			   sizeof err);

	if (rc < 0) {
		FUZZ_CHECK(!a, "adp_parse failed (%d) but gave an adapter", rc);
		FUZZ_CHECK(rc == CONF_ENOTJSON || rc == CONF_EFORMAT || rc == CONF_ENOMEM,
			   "adp_parse returned %d: %s", rc, err);
		FUZZ_CHECK(rc == CONF_ENOMEM || err[0],
			   "adp_parse failed (%d) without a sentence", rc);
		return 0;
	}
	FUZZ_CHECK(a, "adp_parse succeeded without an adapter");
	for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
		(void)adp_has(a, actions[i]);
	FUZZ_CHECK(adp_settle_ms(a) >= 0 && adp_settle_ms(a) <= 60000,
		   "settle_ms %g accepted", adp_settle_ms(a));
	adp_free(a);
	return 0;
}
