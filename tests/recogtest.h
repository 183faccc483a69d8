/* recogtest.h -- shared helpers for the recognition core's Check suites
 * and benches (tests/check_recog*.c, tests/bench_recog*.c): the golden
 * JSONL files of fixtures/recog/golden (the TF.js reference's faces, each
 * picture tied to its bytes by sha256 where the file says) and the part of
 * a photo a golden picture is; a model and an arena for a fixture, and a
 * model loaded with one edit to its manifest (the weight-binding
 * refusals); made-up pictures; a test case from a list; the benches' start,
 * clock and min/median.  Header-only, test code only; builds on
 * testutil.h.  What a bench may call returns errors instead of asserting:
 * rt_golden_read and the benches section. */
#ifndef CAMSIM_RECOGTEST_H
#define CAMSIM_RECOGTEST_H

#include "facenet.h"
#include "sha256.h"
#include "image.h"
#include "landmark.h"
#include "model.h"
#include "recog.h"
#include "testutil.h"

#include <cblas.h>
#include <check.h>
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ----------------------------------------------------------- fixture */

/* Model name of recog_model_dir into *m (mdl_free); fails the test when
 * it cannot be loaded. */
static inline void rt_model(const char *name, mdl *m)
{
	char err[256] = "";
	ck_assert_msg(recog_model_load(NULL, name, m, err, sizeof err) == 0,
		      "%s: %s (run `make models`)", name, err);
}

/* An arena of floats floats into *a; returns its buffer (free). */
static inline float *rt_arena(nn_arena *a, size_t floats)
{
	float *buf = malloc(floats * sizeof(float));
	ck_assert_ptr_nonnull(buf);
	nn_arena_init(a, buf, floats);
	return buf;
}

/* ------------------------------------------------------------ golden */

/* Faces one golden picture may hold (the fixtures have at most 5). */
#define RT_MAXF 8

/* A face as the reference found it, in the picture's pixels: box (x, y,
 * w, h) and score, the 68 landmarks, detCrop and alignedCrop (x, y, w, h),
 * the 128-d descriptor. */
typedef struct rt_gface {
	double box[4], score;
	double pts[LMK_N][2];
	int det_crop[4], aligned_crop[4];
	double desc[FNET_DIM];
} rt_gface;

/* A line of a golden file: a picture and its faces in the reference's
 * order (by score). */
typedef struct rt_gimage {
	char image[256];  /* the "image" member: the photo, under the root */
	char path[1024];  /* tu_root()/image */
	int w, h;         /* the picture the reference saw */
	int cut[4];       /* where it lies in the photo: x, y, w (= w), h (= h) */
	int n;
	rt_gface face[RT_MAXF];
} rt_gimage;

/* The reason a golden read failed, into err[0..errlen), cut to fit. */
static inline __attribute__((format(printf, 3, 4))) void
rt_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* a, an array of exactly n numbers, into iv[0..n) as ints or (iv NULL)
 * dv[0..n) as doubles; 0, or -1 when a is anything else (the output then
 * partly written). */
static inline int rt_json_numbers(const cJSON *a, int n, int *iv, double *dv)
{
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n)
		return -1;
	for (int k = 0; k < n; k++) {
		const cJSON *x = cJSON_GetArrayItem(a, k);
		if (!cJSON_IsNumber(x))
			return -1;
		if (iv)
			iv[k] = x->valueint;
		else
			dv[k] = x->valuedouble;
	}
	return 0;
}

/* Face fj of a golden line into *gf; NULL, or the member that is missing
 * or misshapen. */
static inline const char *rt_golden_face(const cJSON *fj, rt_gface *gf)
{
	const cJSON *score = cJSON_GetObjectItem(fj, "score");
	const cJSON *lm = cJSON_GetObjectItem(fj, "landmarks");

	if (rt_json_numbers(cJSON_GetObjectItem(fj, "box"), 4, NULL, gf->box) < 0)
		return "box";
	if (!cJSON_IsNumber(score))
		return "score";
	gf->score = score->valuedouble;
	if (rt_json_numbers(cJSON_GetObjectItem(fj, "detCrop"), 4, gf->det_crop,
			    NULL) < 0)
		return "detCrop";
	if (rt_json_numbers(cJSON_GetObjectItem(fj, "alignedCrop"), 4,
			    gf->aligned_crop, NULL) < 0)
		return "alignedCrop";
	if (rt_json_numbers(cJSON_GetObjectItem(fj, "descriptor"), FNET_DIM, NULL,
			    gf->desc) < 0)
		return "descriptor";
	if (!cJSON_IsArray(lm) || cJSON_GetArraySize(lm) != LMK_N)
		return "landmarks";
	for (int i = 0; i < LMK_N; i++)
		if (rt_json_numbers(cJSON_GetArrayItem(lm, i), 2, NULL, gf->pts[i]) < 0)
			return "landmarks";
	return NULL;
}

/* Line number no (from 1) of golden file file into *gi; cut as for
 * rt_golden_read.  0, or -1 with the reason in err. */
static inline int rt_golden_line(const char *file, int no, const char *line,
				 const int *cut, rt_gimage *gi, char *err,
				 size_t errlen)
{
	cJSON *j = cJSON_Parse(line);
	const cJSON *im = cJSON_GetObjectItem(j, "image");
	const cJSON *w = cJSON_GetObjectItem(j, "width");
	const cJSON *h = cJSON_GetObjectItem(j, "height");
	const cJSON *sha = cJSON_GetObjectItem(j, "sha256");
	const cJSON *cj = cJSON_GetObjectItem(j, "cut");
	const cJSON *faces = cJSON_GetObjectItem(j, "faces");
	const char *bad = NULL;
	int rc = -1;

	if (!j)
		bad = "not JSON";
	else if (!cJSON_IsString(im) ||
		 strlen(im->valuestring) >= sizeof gi->image)
		bad = "no \"image\", or a longer one than rt_gimage holds";
	else if (!cJSON_IsNumber(w) || !cJSON_IsNumber(h))
		bad = "no \"width\" or \"height\"";
	else if (cj && rt_json_numbers(cj, 4, gi->cut, NULL) < 0)
		bad = "\"cut\" is not 4 numbers";
	else if (!cJSON_IsArray(faces) || cJSON_GetArraySize(faces) > RT_MAXF)
		bad = "no \"faces\", or more than RT_MAXF";
	else if (snprintf(gi->path, sizeof gi->path, "%s/%s", tu_root(),
			  im->valuestring) >= (int)sizeof gi->path)
		bad = "the root and \"image\" make too long a path";
	if (bad)
		goto bad;
	snprintf(gi->image, sizeof gi->image, "%s", im->valuestring);
	if (cJSON_IsString(sha)) {
		/* the golden data belongs to these bytes: a regenerated
		 * fixture must not pass for a broken core */
		size_t flen;
		char hex[65], *bytes = tu_read(gi->path, &flen);
		if (!bytes) {
			rt_err(err, errlen, "cannot read %s (run `make faces`)", gi->path);
			goto out;
		}
		sha256_hex(bytes, flen, hex);
		free(bytes);
		if (strcmp(hex, sha->valuestring)) {
			rt_err(err, errlen, "%s changed since fixtures/recog/golden/%s was "
			       "made (sha256 %s, golden %s): regenerate it with "
			       "tools/golden.sh", gi->path, file, hex, sha->valuestring);
			goto out;
		}
	}
	gi->w = w->valueint;
	gi->h = h->valueint;
	if (!cj && cut)
		memcpy(gi->cut, cut, sizeof gi->cut);
	else if (!cj)
		memcpy(gi->cut, (int[4]){0, 0, gi->w, gi->h}, sizeof gi->cut);
	if (gi->cut[2] != gi->w || gi->cut[3] != gi->h) {
		bad = "the cut's size is not width x height";
		goto bad;
	}
	gi->n = cJSON_GetArraySize(faces);
	for (int f = 0; f < gi->n; f++) {
		const char *member = rt_golden_face(cJSON_GetArrayItem(faces, f),
						    &gi->face[f]);
		if (member) {
			rt_err(err, errlen, "fixtures/recog/golden/%s line %d: face %d: "
			       "\"%s\" missing or misshapen", file, no, f, member);
			goto out;
		}
	}
	rc = 0;
	goto out;
bad:
	rt_err(err, errlen, "fixtures/recog/golden/%s line %d: %s", file, no, bad);
out:
	cJSON_Delete(j);
	return rc;
}

/* The first max lines of fixtures/recog/golden/<file> into g (under
 * tu_root(); blank lines skipped).  A line's "cut" member is where its
 * picture lies in the photo; without one, cut (NULL: the whole photo).
 * A line with "sha256" must match its photo's bytes.  The number of
 * pictures read, or -1 with the reason in err (no assertion: the benches
 * use it). */
static inline int rt_golden_read(const char *file, const int *cut,
				 rt_gimage *g, int max, char *err,
				 size_t errlen)
{
	char path[1024], *save = NULL;
	size_t len;
	int n = 0, no = 0;

	snprintf(path, sizeof path, "%s/fixtures/recog/golden/%s", tu_root(), file);
	char *text = tu_read(path, &len);
	if (!text) {
		rt_err(err, errlen, "cannot read %s", path);
		return -1;
	}
	for (char *line = strtok_r(text, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		if (rt_golden_line(file, ++no, line, cut, &g[n], err, errlen) < 0) {
			free(text);
			return -1;
		}
		n++;
	}
	free(text);
	return n;
}

/* rt_golden_read in a Check test: a file that cannot be read, is
 * misshapen or no longer matches its pictures fails the test. */
static inline int rt_golden(const char *file, const int *cut, rt_gimage *g,
			    int max)
{
	char err[3000];
	int n = rt_golden_read(file, cut, g, max, err, sizeof err);
	ck_assert_msg(n >= 0, "%s", err);
	return n;
}

/* The decoded photo of golden picture gi (img_free); *px, *stride: the
 * part of it the reference saw, which must lie inside it. */
static inline img rt_golden_photo(const rt_gimage *gi, const uint8_t **px,
				  int *stride)
{
	char err[256];
	img im;
	ck_assert_msg(img_load_file_trusted(gi->path, &im, err, sizeof err) == 0,
		      "%s (run `make models` and `make faces`)", err);
	ck_assert_int_le(gi->cut[0] + gi->cut[2], im.w);
	ck_assert_int_le(gi->cut[1] + gi->cut[3], im.h);
	*stride = im.w * 3;
	*px = im.px + (size_t)gi->cut[1] * *stride + (size_t)gi->cut[0] * 3;
	return im;
}

/* A w x h RGB picture (free), pixel (x, y) set by pixel(x, y, its 3
 * bytes): a made-up input for the nets' edge cases. */
static inline uint8_t *rt_picture(int w, int h,
				  void (*pixel)(int x, int y, uint8_t *q))
{
	uint8_t *p = malloc((size_t)w * h * 3);
	ck_assert_ptr_nonnull(p);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			pixel(x, y, p + ((size_t)y * w + x) * 3);
	return p;
}

/* ---------------------------------------------------- weight binding */

/* Model name of recog_model_dir (its manifest and the shards the manifest
 * lists) loaded into *m (mdl_free) with the first from in the manifest's
 * text replaced by to: a tensor renamed or reshaped, for the refusals of a
 * net's weight binding.  Fails the test when a file cannot be read, from
 * is not in the manifest or the edited model does not load. */
static inline void rt_model_edited(const char *name, const char *from,
				   const char *to, mdl *m)
{
	char dir[1024], path[2048], err[256] = "";
	size_t mlen, binlen = 0;
	char *bin = NULL;

	ck_assert_int_eq(recog_model_dir(dir, sizeof dir), 0);
	snprintf(path, sizeof path, "%s/%s-weights_manifest.json", dir, name);
	char *man = tu_read(path, &mlen);
	ck_assert_msg(man != NULL, "cannot read %s (run `make models`)", path);
	cJSON *j = cJSON_Parse(man);
	ck_assert_ptr_nonnull(j);
	const cJSON *grp;
	cJSON_ArrayForEach(grp, j) {
		const cJSON *p;
		cJSON_ArrayForEach(p, cJSON_GetObjectItem(grp, "paths")) {
			size_t n;
			snprintf(path, sizeof path, "%s/%s", dir, p->valuestring);
			char *part = tu_read(path, &n);
			ck_assert_msg(part != NULL, "cannot read %s", path);
			bin = realloc(bin, binlen + n);
			ck_assert_ptr_nonnull(bin);
			memcpy(bin + binlen, part, n);
			binlen += n;
			free(part);
		}
	}
	cJSON_Delete(j);
	char *at = strstr(man, from);
	ck_assert_msg(at != NULL, "%s not in the manifest", from);
	size_t pre = (size_t)(at - man), fl = strlen(from), tl = strlen(to);
	char *ed = malloc(mlen - fl + tl + 1);
	ck_assert_ptr_nonnull(ed);
	memcpy(ed, man, pre);
	memcpy(ed + pre, to, tl);
	strcpy(ed + pre + tl, at + fl);
	ck_assert_msg(mdl_load(m, ed, strlen(ed), bin, binlen, err, sizeof err) == 0,
		      "mdl_load of the edited manifest: %s", err);
	free(ed);
	free(man);
	free(bin);
}

/* ------------------------------------------------------------ suites */

/* Adds to s a test case named name: the unchecked fixture setup and
 * teardown (both NULL: none), timeout seconds a test, and tests (ending
 * with NULL) in that order. */
static inline void rt_tcase(Suite *s, const char *name, void (*setup)(void),
			    void (*teardown)(void), double timeout,
			    const TTest *const *tests)
{
	TCase *tc = tcase_create(name);

	if (setup || teardown)
		tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, timeout);
	for (; *tests; tests++)
		tcase_add_test(tc, *tests);
	suite_add_tcase(s, tc);
}

/* ----------------------------------------------------------- benches */

/* A bench's start: OpenBLAS on one thread, and its RUNS argument
 * (argv[1]; def when absent; at least 1). */
static inline int rt_bench_runs(int argc, char **argv, int def)
{
	int runs = argc > 1 ? atoi(argv[1]) : def;
	openblas_set_num_threads(1);
	return runs < 1 ? 1 : runs;
}

/* The time of clock id in milliseconds: CLOCK_MONOTONIC the wall clock,
 * CLOCK_THREAD_CPUTIME_ID this thread's CPU time. */
static inline double rt_clock_ms(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return (double)t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Wall-clock milliseconds from an arbitrary start. */
static inline double rt_now_ms(void)
{
	return rt_clock_ms(CLOCK_MONOTONIC);
}

/* qsort's ascending order of doubles. */
static inline int rt_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

typedef struct rt_stat {
	double min, med;
} rt_stat;

/* v[0..n), n >= 1, sorted ascending in place: its least value and its
 * median (v[n / 2] sorted: the upper one of an even n). */
static inline rt_stat rt_stat_of(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, rt_cmp_double);
	return (rt_stat){v[0], v[n / 2]};
}

#endif
