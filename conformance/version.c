/* version.c -- the version string; the build writes build_version.h (the
 * Makefile's VERSION and the git commit, rewritten only when it changes). */
#include "version.h"

#include "build_version.h"

const char *camsim_version(void)
{
	return CAMSIM_VERSION;
}
