/* sim_err.c -- sim_strerror(), generated from SIM_ERRNO_MAP. */
#include "sim_err.h"

const char *sim_strerror(int rc)
{
	switch (rc) {
#define SIM_ERR_CASE(name, code, text) case code: return text;
		SIM_ERRNO_MAP(SIM_ERR_CASE)
#undef SIM_ERR_CASE
	case 0:
		return "success";
	}
	return "unknown error";
}
