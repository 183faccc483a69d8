/* sim_err.c -- sim_strerror(), generated from SIM_ERRNO_MAP; the codes of
 * the layers below (base/, proto/, the recognition core) are named by their
 * own strerror, never copied here (docs/errors.md). */
#include "sim_err.h"

#include "core_err.h"
#include "proto.h"

const char *sim_strerror(int rc)
{
	switch (rc) {
#define SIM_ERR_CASE(name, code, text) case code: return text;
		SIM_ERRNO_MAP(SIM_ERR_CASE)
#undef SIM_ERR_CASE
	}
	/* a recognition-core code passed up unchanged (-200..-299) */
	if (rc <= -200 && rc > -300)
		return recog_core_strerror(rc);
	/* proto/'s (-100..-199), and through it base/'s (-1..-99) and 0 */
	return proto_strerror(rc);
}
