/* datadir.c -- the lookup order of camsim's data directory (datadir.h).
 * The compiled-in directory comes from the Makefile (CAMSIM_DATADIR, set on
 * this object only, so a new PREFIX recompiles one file). */
#include "datadir.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CAMSIM_DATADIR
#define CAMSIM_DATADIR "/usr/local/share/camsim"
#endif

const char *data_compiled_dir(void)
{
	return CAMSIM_DATADIR;
}

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Adds cand to the comma-separated list of places tried. */
static void note(char *tried, size_t tn, size_t *used, const char *cand)
{
	int k = snprintf(tried + *used, *used < tn ? tn - *used : 0, "%s%s",
			 *used ? ", " : "", cand);
	if (k > 0)
		*used += (size_t)k;
	if (*used >= tn)
		*used = tn - 1;
}

/* A source tree: a Makefile beside scenarios/, so that a stray scenarios/
 * above an installed binary (/usr/scenarios) is never taken for one. */
static bool is_tree(const char *d)
{
	char p[PATH_MAX];

	snprintf(p, sizeof p, "%.4000s/Makefile", d);
	if (!is_file(p))
		return false;
	snprintf(p, sizeof p, "%.4000s/scenarios", d);
	return is_dir(p);
}

int data_find(const char *sub, const char *tree_sub, char *out, size_t n)
{
	const char *env = getenv("CAMSIM_DATA");
	char exe[PATH_MAX], cand[PATH_MAX + 64], tried[2048] = "";
	size_t used = 0;
	ssize_t k;

	if (env && *env) {
		snprintf(cand, sizeof cand, "%.3000s/%s", env, sub);
		if (is_dir(cand)) {
			snprintf(out, n, "%s", cand);
			return 0;
		}
		snprintf(out, n, "CAMSIM_DATA=%.1000s, which has no %s/", env,
			 sub);
		return BASE_EIO;
	}
	k = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (k > 0) {
		char *slash, bin[PATH_MAX];
		exe[k] = '\0';
		if ((slash = strrchr(exe, '/')))
			*slash = '\0';
		snprintf(bin, sizeof bin, "%s", exe);
		/* the build tree: build/camsim is 1 level down, build/san/tests/x 3 */
		for (int up = 0; up < 3 && (slash = strrchr(exe, '/')); up++) {
			*slash = '\0';
			if (!*exe || !is_tree(exe))
				continue;
			snprintf(cand, sizeof cand, "%.3000s/%s", exe,
				 tree_sub ? tree_sub : sub);
			if (is_dir(cand))
				goto found;
			note(tried, sizeof tried, &used, cand);
			break;
		}
		snprintf(cand, sizeof cand, "%.3000s/../share/camsim/%s", bin, sub);
		if (is_dir(cand))
			goto found;
		note(tried, sizeof tried, &used, cand);
	}
	snprintf(cand, sizeof cand, "%.3000s/%s", data_compiled_dir(), sub);
	if (is_dir(cand))
		goto found;
	note(tried, sizeof tried, &used, cand);
	snprintf(out, n, "%s", tried);
	return BASE_EIO;
found:
	/* canonical, so reports name scenario files without bin/../ */
	if (realpath(cand, exe))
		snprintf(out, n, "%s", exe);
	else
		snprintf(out, n, "%s", cand);
	return 0;
}
