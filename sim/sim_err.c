/* sim_err.c -- sim_strerror(), generated from SIM_ERRNO_MAP; proto/'s codes
 * are named by proto_strerror, never copied here. */
#include "sim_err.h"

#include "proto.h"

const char *sim_strerror(int rc)
{
	switch (rc) {
#define SIM_ERR_CASE(name, code, text) case code: return text;
		SIM_ERRNO_MAP(SIM_ERR_CASE)
#undef SIM_ERR_CASE
	case 0:
		return "success";
	}
	/* a proto/ code passed up unchanged (-100..-199) */
	if (rc <= -100 && rc > -200)
		return proto_strerror(rc);
	return "unknown error";
}
