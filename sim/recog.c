/* recog.c -- the recognition interface while the core (issue 5) is not
 * built: every call fails with SIM_ENOTBUILT and says so.  Nothing here
 * pretends to detect or match a face. */
#include "recog.h"
#include "sim_err.h"

#include <stdio.h>
#include <stdlib.h>

struct recog {
	int unused;
};

static const char notbuilt[] =
	"recognition core not built: face detection and descriptors arrive "
	"with issue 5; no photo can be enrolled or identified yet";

recog *recog_open(const char *model_dir, char *err, size_t errlen)
{
	(void)model_dir;
	(void)err;
	(void)errlen;
	return calloc(1, sizeof(recog));
}

void recog_close(recog *r)
{
	free(r);
}

bool recog_available(const recog *r)
{
	(void)r;
	return false;
}

int recog_enroll(recog *r, const img *im, recog_desc *out, char *err,
		 size_t errlen)
{
	(void)r;
	(void)im;
	(void)out;
	snprintf(err, errlen, "%s", notbuilt);
	return SIM_ENOTBUILT;
}

int recog_identify(recog *r, const img *im, const recog_desc *lib, size_t n,
		   double min_confidence, recog_match *out, char *err,
		   size_t errlen)
{
	(void)r;
	(void)im;
	(void)lib;
	(void)n;
	(void)min_confidence;
	(void)out;
	snprintf(err, errlen, "%s", notbuilt);
	return SIM_ENOTBUILT;
}
