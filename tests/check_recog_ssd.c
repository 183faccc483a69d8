/* check_recog_ssd.c -- sim/recog/ssd.c against the TF.js reference
 * (fixtures/recog/golden/demo.jsonl): the six demo photos as camsim decodes
 * them give the reference's faces (count, boxes, scores, order); a picture
 * without a face gives none; tiny, thin and padded-stride pictures; the
 * argument and arena contracts; the weight binding's refusals.  Needs
 * `make models`. */
#include "image.h"
#include "recog.h"
#include "sim_err.h"
#include "ssd.h"
#include "testutil.h"

#include <cjson/cJSON.h>
#include <math.h>

/* Boxes within this of the reference, in pixels, scores within TOL_SCORE
 * (the reference's own wasm and cpu backends differ by 2.3e-4 px and
 * 8e-7). */
#define TOL_PX 0.01
#define TOL_SCORE 1e-4
#define MAXF 16

static mdl model;
static ssd *net;
static nn_arena arena;
static float *arena_buf;

static void setup(void)
{
	char err[256] = "";
	int rc = recog_model_load(NULL, "ssd_mobilenetv1_model", &model, err,
				  sizeof err);
	ck_assert_msg(rc == 0, "model: %s (run `make models`)", err);
	net = ssd_new(&model, err, sizeof err);
	ck_assert_msg(net != NULL, "ssd_new: %s", err);
	arena_buf = malloc(ssd_arena_floats() * sizeof(float));
	ck_assert_ptr_nonnull(arena_buf);
	nn_arena_init(&arena, arena_buf, ssd_arena_floats());
}

static void teardown(void)
{
	ssd_free(net);
	net = NULL;
	mdl_free(&model);
	free(arena_buf);
	arena_buf = NULL;
}

/* ------------------------------------------------------------ golden */

typedef struct gimage {
	char path[256];
	int w, h, n;
	double box[MAXF][4];
	double score[MAXF];
} gimage;

static int load_golden(gimage *g, int max)
{
	size_t len;
	char path[1024];
	snprintf(path, sizeof path, "%s/fixtures/recog/golden/demo.jsonl", tu_root());
	char *text = tu_read(path, &len);
	ck_assert_msg(text != NULL, "cannot read %s", path);
	int n = 0;
	for (char *line = strtok(text, "\n"); line && n < max;
	     line = strtok(NULL, "\n")) {
		cJSON *j = cJSON_Parse(line);
		ck_assert_ptr_nonnull(j);
		gimage *gi = &g[n++];
		snprintf(gi->path, sizeof gi->path, "%s/%s", tu_root(),
			 cJSON_GetObjectItem(j, "image")->valuestring);
		gi->w = cJSON_GetObjectItem(j, "width")->valueint;
		gi->h = cJSON_GetObjectItem(j, "height")->valueint;
		const cJSON *faces = cJSON_GetObjectItem(j, "faces");
		gi->n = cJSON_GetArraySize(faces);
		ck_assert_int_le(gi->n, MAXF);
		for (int f = 0; f < gi->n; f++) {
			const cJSON *fj = cJSON_GetArrayItem(faces, f);
			for (int k = 0; k < 4; k++)
				gi->box[f][k] = cJSON_GetArrayItem(cJSON_GetObjectItem(fj, "box"), k)->valuedouble;
			gi->score[f] = cJSON_GetObjectItem(fj, "score")->valuedouble;
		}
		cJSON_Delete(j);
	}
	free(text);
	return n;
}

/* Detects on golden image gi and compares face by face; the largest
 * box and score differences go to *dbox, *dscore. */
static void check_image(const gimage *gi, double *dbox, double *dscore)
{
	char err[256];
	img im;
	face_box f[MAXF + 4];

	ck_assert_msg(img_load_file(gi->path, &im, err, sizeof err) == 0,
		      "%s (run `make models`)", err);
	ck_assert_int_eq(im.w, gi->w);
	ck_assert_int_eq(im.h, gi->h);
	int n = ssd_detect(net, &arena, im.px, im.w, im.h, im.w * 3, 0.5f, f,
			   MAXF + 4);
	ck_assert_msg(n == gi->n, "%s: %d faces, golden %d", gi->path, n, gi->n);
	for (int i = 0; i < n; i++) {
		const float got[4] = {f[i].x, f[i].y, f[i].w, f[i].h};
		for (int k = 0; k < 4; k++) {
			double d = fabs(got[k] - gi->box[i][k]);
			ck_assert_msg(d < TOL_PX, "%s face %d box[%d]: %.6f, golden %.6f",
				      gi->path, i, k, got[k], gi->box[i][k]);
			*dbox = fmax(*dbox, d);
		}
		double ds = fabs(f[i].score - gi->score[i]);
		ck_assert_msg(ds < TOL_SCORE, "%s face %d score %.7f, golden %.7f",
			      gi->path, i, f[i].score, gi->score[i]);
		*dscore = fmax(*dscore, ds);
		if (i > 0)
			ck_assert(f[i].score <= f[i - 1].score);
	}
	ck_assert_msg(arena.peak <= ssd_arena_floats(), "peak %zu > %zu",
		      arena.peak, ssd_arena_floats());
	img_free(&im);
}

/* ------------------------------------------------------------- tests */

/* One photo (also under valgrind). */
START_TEST(sample1_matches_the_reference)
{
	static gimage g[6];
	double dbox = 0, dscore = 0;
	ck_assert_int_ge(load_golden(g, 1), 1);
	check_image(&g[0], &dbox, &dscore);
	printf("  sample1: %d faces, max box diff %.2e px, max score diff %.2e\n",
	       g[0].n, dbox, dscore);
}
END_TEST

START_TEST(all_demo_photos_match_the_reference)
{
	static gimage g[6];
	double dbox = 0, dscore = 0;
	int faces = 0;

	if (getenv("VALGRIND"))
		return; /* sample1 covers the net under valgrind */
	ck_assert_int_eq(load_golden(g, 6), 6);
	for (int i = 0; i < 6; i++) {
		check_image(&g[i], &dbox, &dscore);
		faces += g[i].n;
	}
	ck_assert_int_eq(faces, 22);
	printf("  6 photos, 22 faces: max box diff %.2e px, max score diff %.2e,"
	       " arena peak %zu floats\n", dbox, dscore, arena.peak);
}
END_TEST

/* fixtures/images/frame_640x480.png is a gradient with a few shapes. */
START_TEST(no_face_in_a_picture_without_one)
{
	char path[1024], err[256];
	img im;
	face_box f[4];

	snprintf(path, sizeof path, "%s/fixtures/images/frame_640x480.png", tu_root());
	ck_assert_msg(img_load_file(path, &im, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(ssd_detect(net, &arena, im.px, im.w, im.h, im.w * 3,
				    0.5f, f, 4), 0);
	img_free(&im);
}
END_TEST

/* A synthetic picture: stripes and a gradient. */
static uint8_t *pattern(int w, int h)
{
	uint8_t *p = malloc((size_t)w * h * 3);
	ck_assert_ptr_nonnull(p);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *q = p + ((size_t)y * w + x) * 3;
			q[0] = (uint8_t)(x * 7);
			q[1] = (uint8_t)(y * 5);
			q[2] = (uint8_t)((x / 3 + y / 2) % 2 ? 200 : 30);
		}
	return p;
}

static void check_sane(const face_box *f, int n, int w, int h)
{
	for (int i = 0; i < n; i++) {
		ck_assert(isfinite(f[i].x) && isfinite(f[i].y));
		ck_assert(isfinite(f[i].w) && isfinite(f[i].h));
		ck_assert(f[i].x >= 0 && f[i].y >= 0 && f[i].w >= 0 && f[i].h >= 0);
		ck_assert(f[i].x <= w && f[i].y <= h);
		ck_assert(f[i].score > 0.5f && f[i].score <= 1.0f);
	}
}

/* ssd_input is nn_resize_rgb8 on the padded square, then minus 1, to the
 * bit, for every shape of square and resize. */
START_TEST(input_is_the_legacy_resize_of_the_padded_square)
{
	static const int sz[][2] = {{1, 1}, {3, 2}, {2, 3}, {2000, 10},
				    {10, 2000}, {512, 512}, {512, 300},
				    {300, 512}, {511, 511}, {513, 200},
				    {1920, 1280}, {1000, 1537}};
	size_t n = (size_t)SSD_INPUT * SSD_INPUT * 3;
	float *got = malloc(n * sizeof(float)), *want = malloc(n * sizeof(float));
	ck_assert(got && want);

	for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++) {
		int w = sz[i][0], h = sz[i][1], side = w > h ? w : h;
		int stride = w * 3 + 7; /* rows with slack */
		uint8_t *p = malloc((size_t)stride * h);
		ck_assert_ptr_nonnull(p);
		for (size_t k = 0; k < (size_t)stride * h; k++)
			p[k] = (uint8_t)((k * 2654435761u) >> 13);
		nn_t t = {SSD_INPUT, SSD_INPUT, 3, want};
		nn_resize_rgb8(p, stride, 0, 0, w, h, 0, 0, side, side, &t, NULL,
			       127.5f);
		for (size_t k = 0; k < n; k++)
			want[k] -= 1.0f;
		ssd_input(p, w, h, stride, got);
		ck_assert_msg(memcmp(got, want, n * sizeof(float)) == 0, "%dx%d", w, h);
		free(p);
	}
	free(got);
	free(want);
}
END_TEST

START_TEST(tiny_and_thin_pictures)
{
	static const int sz[][2] = {{1, 1}, {3, 2}, {2, 3}, {2000, 10},
				    {10, 2000}, {1, 5000}, {5000, 1}, {512, 1}};
	face_box f[MAXF];

	for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++) {
		int w = sz[i][0], h = sz[i][1];
		uint8_t *p = pattern(w, h);
		int n = ssd_detect(net, &arena, p, w, h, w * 3, 0.5f, f, MAXF);
		ck_assert_msg(n >= 0, "%dx%d: %d", w, h, n);
		check_sane(f, n, w, h);
		free(p);
	}
}
END_TEST

/* A 512 x 512 picture skips the resize; a padded stride changes nothing. */
START_TEST(stride_and_exact_size)
{
	static gimage g[1];
	char err[256];
	img im;
	face_box a[MAXF], b[MAXF];

	if (getenv("VALGRIND"))
		return;
	ck_assert_int_eq(load_golden(g, 1), 1);
	ck_assert_msg(img_load_file(g[0].path, &im, err, sizeof err) == 0, "%s", err);
	/* the 512 x 512 region at (300, 250) of sample1, tight and with a
	 * stride of the whole photo */
	int w = 512, h = 512, x0 = 300, y0 = 250;
	uint8_t *tight = malloc((size_t)w * h * 3);
	ck_assert_ptr_nonnull(tight);
	for (int y = 0; y < h; y++)
		memcpy(tight + (size_t)y * w * 3,
		       im.px + ((size_t)(y0 + y) * im.w + x0) * 3, (size_t)w * 3);
	int na = ssd_detect(net, &arena, tight, w, h, w * 3, 0.5f, a, MAXF);
	int nb = ssd_detect(net, &arena, im.px + ((size_t)y0 * im.w + x0) * 3, w, h,
			    im.w * 3, 0.5f, b, MAXF);
	ck_assert_int_ge(na, 1);
	ck_assert_int_eq(na, nb);
	ck_assert_mem_eq(a, b, sizeof(face_box) * (size_t)na);
	check_sane(a, na, w, h);
	/* max keeps the first faces of the full answer */
	face_box one;
	ck_assert_int_eq(ssd_detect(net, &arena, tight, w, h, w * 3, 0.5f, &one, 1), 1);
	ck_assert_mem_eq(&one, &a[0], sizeof one);
	ck_assert_int_eq(ssd_detect(net, &arena, tight, w, h, w * 3, 0.5f, NULL, 0), 0);
	/* a higher threshold keeps a prefix */
	int nc = ssd_detect(net, &arena, tight, w, h, w * 3, a[0].score - 1e-3f,
			    b, MAXF);
	ck_assert_int_ge(nc, 1);
	ck_assert_int_le(nc, na);
	ck_assert_mem_eq(&b[0], &a[0], sizeof(face_box));
	free(tight);
	img_free(&im);
}
END_TEST

START_TEST(bad_arguments_are_einval)
{
	uint8_t px[3 * 4 * 4] = {0};
	face_box f[2];

	ck_assert_int_eq(ssd_detect(NULL, &arena, px, 4, 4, 12, 0.5f, f, 2), SIM_EINVAL);
	ck_assert_int_eq(ssd_detect(net, &arena, NULL, 4, 4, 12, 0.5f, f, 2), SIM_EINVAL);
	ck_assert_int_eq(ssd_detect(net, &arena, px, 0, 4, 12, 0.5f, f, 2), SIM_EINVAL);
	ck_assert_int_eq(ssd_detect(net, &arena, px, 4, -1, 12, 0.5f, f, 2), SIM_EINVAL);
	ck_assert_int_eq(ssd_detect(net, &arena, px, 4, 4, 11, 0.5f, f, 2), SIM_EINVAL);
	ck_assert_int_eq(ssd_detect(net, &arena, px, 4, 4, 12, 0.5f, NULL, 2), SIM_EINVAL);
	ck_assert_int_eq(ssd_detect(net, &arena, px, 4, 4, 12, 0.5f, f, -1), SIM_EINVAL);
}
END_TEST

START_TEST(small_arena_is_enomem)
{
	uint8_t px[3 * 8 * 8] = {0};
	face_box f[2];
	nn_arena small;

	nn_arena_init(&small, arena_buf, ssd_arena_floats() - 1);
	ck_assert_int_eq(ssd_detect(net, &small, px, 8, 8, 24, 0.5f, f, 2),
			 SIM_ENOMEM);
	nn_arena_init(&small, arena_buf, ssd_arena_floats());
	ck_assert_int_eq(ssd_detect(net, &small, px, 8, 8, 24, 0.5f, f, 2), 0);
	/* the contract's size is the peak */
	ck_assert_int_eq(small.peak, ssd_arena_floats());
}
END_TEST

/* ----------------------------------------------------- weight binding */

/* The manifest text and the concatenated shards of the SSD model. */
static char *read_model(char **bin, size_t *binlen, size_t *mlen)
{
	char dir[1024], path[2048];
	ck_assert_int_eq(recog_model_dir(dir, sizeof dir), 0);
	snprintf(path, sizeof path, "%s/ssd_mobilenetv1_model-weights_manifest.json", dir);
	char *man = tu_read(path, mlen);
	ck_assert_ptr_nonnull(man);
	cJSON *j = cJSON_Parse(man);
	ck_assert_ptr_nonnull(j);
	*bin = NULL;
	*binlen = 0;
	const cJSON *grp;
	cJSON_ArrayForEach(grp, j) {
		const cJSON *p;
		cJSON_ArrayForEach(p, cJSON_GetObjectItem(grp, "paths")) {
			size_t n;
			snprintf(path, sizeof path, "%s/%s", dir, p->valuestring);
			char *part = tu_read(path, &n);
			ck_assert_ptr_nonnull(part);
			*bin = realloc(*bin, *binlen + n);
			memcpy(*bin + *binlen, part, n);
			*binlen += n;
			free(part);
		}
	}
	cJSON_Delete(j);
	return man;
}

/* ssd_new on the manifest with the first from replaced by to. */
static ssd *new_from_edited(const char *from, const char *to, char *err,
			    size_t errlen)
{
	char *bin;
	size_t binlen, mlen;
	char *man = read_model(&bin, &binlen, &mlen);
	char *at = strstr(man, from);
	ck_assert_msg(at != NULL, "%s not in the manifest", from);
	size_t fl = strlen(from), tl = strlen(to);
	char *ed = malloc(mlen - fl + tl + 1);
	ck_assert_ptr_nonnull(ed);
	memcpy(ed, man, (size_t)(at - man));
	memcpy(ed + (at - man), to, tl);
	strcpy(ed + (at - man) + tl, at + fl);
	mdl m;
	char lerr[256];
	ck_assert_msg(mdl_load(&m, ed, strlen(ed), bin, binlen, lerr, sizeof lerr) == 0,
		      "%s", lerr);
	ssd *s = ssd_new(&m, err, errlen);
	mdl_free(&m);
	free(ed);
	free(man);
	free(bin);
	return s;
}

START_TEST(missing_or_misshapen_tensors_are_named)
{
	char err[256] = "";
	ssd *s = new_from_edited("\"Output/extra_dim\"", "\"Output/extra_dix\"",
				 err, sizeof err);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, "Output/extra_dim") && strstr(err, "missing"),
		      "%s", err);

	err[0] = '\0';
	s = new_from_edited("\"MobilenetV1/Conv2d_7_depthwise/BatchNorm/moving_variance\"",
			    "\"MobilenetV1/Conv2d_7_depthwise/BatchNorm/moving_var\"",
			    err, sizeof err);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, "MobilenetV1/Conv2d_7_depthwise/BatchNorm/moving_variance"),
		      "%s", err);

	/* same element count, another shape: a shape error naming the
	 * tensor (Prediction/Conv2d_7_pointwise/weights is [3,3,64,128]) */
	err[0] = '\0';
	s = new_from_edited("[3,3,64,128]", "[3,3,128,64]", err, sizeof err);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, "Prediction/Conv2d_7_pointwise/weights"), "%s", err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("recog_ssd");
	TCase *net_tc = tcase_create("net");
	TCase *edge = tcase_create("edges");
	TCase *bind_tc = tcase_create("binding");

	tcase_add_unchecked_fixture(net_tc, setup, teardown);
	tcase_add_unchecked_fixture(edge, setup, teardown);
	tcase_set_timeout(net_tc, 300);
	tcase_set_timeout(edge, 300);
	tcase_set_timeout(bind_tc, 120);
	tcase_add_test(net_tc, sample1_matches_the_reference);
	tcase_add_test(net_tc, all_demo_photos_match_the_reference);
	tcase_add_test(net_tc, no_face_in_a_picture_without_one);
	tcase_add_test(edge, input_is_the_legacy_resize_of_the_padded_square);
	tcase_add_test(edge, tiny_and_thin_pictures);
	tcase_add_test(edge, stride_and_exact_size);
	tcase_add_test(edge, bad_arguments_are_einval);
	tcase_add_test(edge, small_arena_is_enomem);
	tcase_add_test(bind_tc, missing_or_misshapen_tensors_are_named);
	suite_add_tcase(s, net_tc);
	suite_add_tcase(s, edge);
	suite_add_tcase(s, bind_tc);
	return tu_run(s);
}
