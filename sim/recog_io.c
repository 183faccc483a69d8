/* recog_io.c -- the file edge of the recognition core: finds the model
 * directory and reads a TF.js manifest with its shards for model.c to
 * parse.  The core under sim/recog/ never opens a file itself. */
#include "recog_int.h"
#include "datadir.h"
#include "file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* True (buf set) when cand is a directory; else cand is added to the
 * list of places tried. */
static bool try_dir(const char *cand, char *buf, size_t len, char *tried,
		    size_t tlen, size_t *used)
{
	if (is_dir(cand)) {
		snprintf(buf, len, "%s", cand);
		return true;
	}
	*used += (size_t)snprintf(tried + *used, *used < tlen ? tlen - *used : 0,
				  "%s%.400s", *used ? ", " : "", cand);
	return false;
}

int recog_model_dir(char *buf, size_t len)
{
	const char *env = getenv("CAMSIM_MODELS"), *data = getenv("CAMSIM_DATA");
	char exe[PATH_MAX], tried[2048] = "", cand[PATH_MAX + 64];
	size_t used = 0;
	ssize_t n;

	if (env && *env) {
		/* an explicit choice is the only place looked in */
		snprintf(buf, len, "%s", env);
		if (is_dir(buf))
			return 0;
		snprintf(buf, len, "CAMSIM_MODELS=%.400s, which is not a "
			 "directory", env);
		return SIM_EMODEL;
	}
	/* CAMSIM_DATA, the build tree, the install beside the binary, the
	 * compiled-in data directory (datadir.h) */
	if (data_find("models/model", "build/models/model", buf, len) == 0)
		return 0;
	if (data && *data) {
		char why[600];
		snprintf(why, sizeof why, "%.560s", buf);
		snprintf(buf, len, "%s (CAMSIM_MODELS is not set)", why);
		return SIM_EMODEL;
	}
	snprintf(tried, sizeof tried, "%.1500s", buf);
	used = strlen(tried);
	/* a build directory other than the tree's build/ (build/san/camsim
	 * finds build/san/models/model) */
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		char *slash;
		exe[n] = 0;
		for (int up = 0; up < 3 && (slash = strrchr(exe, '/')); up++) {
			*slash = 0;
			snprintf(cand, sizeof cand, "%s/models/model", exe);
			if (try_dir(cand, buf, len, tried, sizeof tried, &used))
				return 0;
		}
	}
	if (try_dir("build/models/model", buf, len, tried, sizeof tried, &used))
		return 0;
	snprintf(buf, len, "%s (CAMSIM_MODELS is not set)", tried);
	return SIM_EMODEL;
}

/* Whole file (a manifest or a weight shard; the largest is a few MiB) into
 * a malloc'd buffer; SIM_EIO with err naming the path, SIM_ENOMEM. */
static int slurp(const char *path, char **out, size_t *len, char *err,
		 size_t errlen)
{
	int rc = base_read_file(NULL, path, 256u << 20, out, len, err, errlen);

	return rc == 0 ? 0 : rc == BASE_ENOMEM ? SIM_ENOMEM : SIM_EIO;
}

int recog_model_load(const char *dir, const char *name, mdl *m, char *err,
		     size_t errlen)
{
	char path[PATH_MAX], d[PATH_MAX], e[512];
	char *man = NULL, *bin = NULL, *shard = NULL;
	size_t mlen = 0, blen = 0, slen;
	cJSON *root = NULL, *g, *p;
	int rc;

	memset(m, 0, sizeof(*m));
	if (!dir) {
		if (recog_model_dir(d, sizeof d) < 0) {
			snprintf(err, errlen, "face models not found (looked in "
				 "%s): run `make models`, or set CAMSIM_MODELS to "
				 "the directory holding the model files", d);
			return SIM_EMODEL;
		}
		dir = d;
	}
	if ((size_t)snprintf(path, sizeof path, "%s/%s-weights_manifest.json",
			     dir, name) >= sizeof path) {
		snprintf(err, errlen, "model directory path too long");
		return SIM_EMODEL;
	}
	rc = slurp(path, &man, &mlen, e, sizeof e);
	if (rc < 0) {
		snprintf(err, errlen, "%s (run `make models`)", e);
		rc = rc == SIM_EIO ? SIM_EMODEL : rc;
		goto out;
	}
	root = cJSON_ParseWithLength(man, mlen);
	/* shards in manifest order, concatenated */
	cJSON_ArrayForEach(g, root)
	{
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(g, "paths"))
		{
			if (!cJSON_IsString(p) || strchr(p->valuestring, '/')) {
				snprintf(err, errlen, "%s: a path is not a plain file name", path);
				rc = SIM_EMODEL;
				goto out;
			}
			char sp[PATH_MAX + 256];
			if ((size_t)snprintf(sp, sizeof sp, "%s/%s", dir,
					     p->valuestring) >= sizeof sp) {
				snprintf(err, errlen, "%s: shard path too long", path);
				rc = SIM_EMODEL;
				goto out;
			}
			rc = slurp(sp, &shard, &slen, err, errlen);
			if (rc < 0) {
				rc = rc == SIM_EIO ? SIM_EMODEL : rc;
				goto out;
			}
			char *nb = realloc(bin, blen + slen + 1);
			if (!nb) {
				rc = SIM_ENOMEM;
				goto out;
			}
			bin = nb;
			memcpy(bin + blen, shard, slen);
			blen += slen;
			free(shard);
			shard = NULL;
		}
	}
	rc = recog_from_core(mdl_load(m, man, mlen, bin ? bin : "", blen, e, sizeof e));
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", path, e);
out:
	cJSON_Delete(root);
	free(man);
	free(bin);
	free(shard);
	return rc;
}
