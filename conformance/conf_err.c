/* conf_err.c -- conf_strerror(), generated from CONF_ERRNO_MAP; codes of
 * other layers are named by their own strerror, never copied here. */
#include "conf_err.h"

#include "sim_err.h"

const char *conf_strerror(int rc)
{
	switch (rc) {
#define CONF_ERR_CASE(name, code, text) case code: return text;
		CONF_ERRNO_MAP(CONF_ERR_CASE)
#undef CONF_ERR_CASE
	}
	/* sim_strerror names 0, its own range and proto/'s */
	return sim_strerror(rc);
}
