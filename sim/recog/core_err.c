/* core_err.c -- recog_core_strerror(), generated from RECOG_ERRNO_MAP.
 * Owns only the core's error texts. */
#include "core_err.h"

const char *recog_core_strerror(int rc)
{
	switch (rc) {
#define RECOG_ERR_CASE(name, code, text) case code: return text;
		RECOG_ERRNO_MAP(RECOG_ERR_CASE)
#undef RECOG_ERR_CASE
	case 0:
		return "success";
	}
	return "unknown error";
}
