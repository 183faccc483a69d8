/* base_err.c -- base_strerror(), generated from BASE_ERRNO_MAP.  Owns no
 * state; knows no other layer's codes. */
#include "base_err.h"

const char *base_strerror(int rc)
{
	switch (rc) {
#define BASE_ERR_CASE(name, code, text) case code: return text;
		BASE_ERRNO_MAP(BASE_ERR_CASE)
#undef BASE_ERR_CASE
	case 0:
		return "success";
	}
	return "unknown error";
}
