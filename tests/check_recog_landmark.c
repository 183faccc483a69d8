/* check_recog_landmark.c -- sim/recog/landmark.c against the TF.js
 * reference (fixtures/recog/golden/demo.jsonl): the net alone on the three
 * exact landmark-net crops of fixtures/recog/crops, the whole landmark
 * stage (detCrop, padding, resize, net, un-padding) on all 22 faces of the
 * six demo photos and on 6 faces cut by the picture's border
 * (clip.jsonl) from their golden boxes, the clipping edges, the arena
 * contract and the weight binding's refusals.  Needs `make models`. */
#include "image.h"
#include "landmark.h"
#include "recog.h"
#include "recogtest.h"
#include "core_err.h"
#include "testutil.h"

#include <math.h>

/* Landmarks within this of the reference, in pixels (the reference's
 * own wasm vs cpu backends differ by 1.5e-4). */
#define TOL_PX 0.01

/* Under valgrind (tests/run.sh sets VALGRIND) each forward pass costs
 * about 2.5 s, so the tests run the net on fewer inputs there. */
static int valgrind(void)
{
	return getenv("VALGRIND") != NULL;
}

static mdl model;
static lmk *net;
static nn_arena arena;
static float *arena_buf;

static void setup(void)
{
	char err[256] = "";
	rt_model("face_landmark_68_model", &model);
	net = lmk_new(&model, err, sizeof err);
	ck_assert_msg(net != NULL, "lmk_new: %s", err);
	arena_buf = rt_arena(&arena, lmk_arena_floats());
}

static void teardown(void)
{
	lmk_free(net);
	net = NULL;
	mdl_free(&model);
	free(arena_buf);
	arena_buf = NULL;
}

/* ------------------------------------------------------------ golden */

/* fixtures/recog/golden/<file>; a "cut" member (clip.jsonl) is the part
 * of the photo the reference saw: here always its top rows. */
static int load_golden_file(const char *file, rt_gimage *g, int max)
{
	int n = rt_golden(file, NULL, g, max);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(g[i].cut[0], 0);
		ck_assert_int_eq(g[i].cut[1], 0);
	}
	return n;
}

static int load_golden(rt_gimage *g, int max)
{
	return load_golden_file("demo.jsonl", g, max);
}

static const rt_gface *golden_face(const rt_gimage *g, int n,
				   const char *stem, int k)
{
	for (int i = 0; i < n; i++)
		if (strstr(g[i].path, stem))
			return k < g[i].n ? &g[i].face[k] : NULL;
	return NULL;
}

static double max_diff(float pts[LMK_N][2], const double want[LMK_N][2],
		       double dx, double dy)
{
	double m = 0;
	for (int i = 0; i < LMK_N; i++) {
		double ex = fabs(pts[i][0] + dx - want[i][0]);
		double ey = fabs(pts[i][1] + dy - want[i][1]);
		m = fmax(m, fmax(ex, ey));
	}
	return m;
}

/* ------------------------------------------------------------- tests */

/* The net alone: each exact det crop as a whole image with the box
 * covering it, so the crop, padding and resize are the reference's; the
 * crop-relative landmarks shifted by the golden box origin are the golden
 * landmarks. */
START_TEST(net_on_the_exact_crops_matches_the_reference)
{
	static rt_gimage g[6];
	int ng = load_golden(g, 6);
	static const struct {
		const char *stem;
		int face;
	} crops[] = {{"sample1", 0}, {"sample3", 2}, {"sample6", 3}};
	double worst = 0;

	size_t ncrops = valgrind() ? 1 : sizeof crops / sizeof crops[0];
	for (size_t c = 0; c < ncrops; c++) {
		char path[1024], err[256];
		img im;
		snprintf(path, sizeof path,
			 "%s/fixtures/recog/crops/demo__%s_face%d_det.png", tu_root(),
			 crops[c].stem, crops[c].face);
		ck_assert_msg(img_load_file_trusted(path, &im, err, sizeof err) == 0, "%s", err);
		const rt_gface *gf = golden_face(g, ng, crops[c].stem, crops[c].face);
		ck_assert_ptr_nonnull(gf);
		ck_assert_int_eq(im.w, gf->det_crop[2]);
		ck_assert_int_eq(im.h, gf->det_crop[3]);
		face_box box = {0, 0, (float)im.w, (float)im.h, 1};
		float pts[LMK_N][2];
		int crop[4];
		ck_assert_int_eq(lmk_detect(net, &arena, im.px, im.w, im.h, im.w * 3,
					    &box, pts, crop), 0);
		ck_assert_int_eq(crop[0], 0);
		ck_assert_int_eq(crop[1], 0);
		ck_assert_int_eq(crop[2], im.w);
		ck_assert_int_eq(crop[3], im.h);
		double d = max_diff(pts, gf->pts, gf->box[0], gf->box[1]);
		printf("  crop %s_face%d: max landmark diff %.2e px\n",
		       crops[c].stem, crops[c].face, d);
		ck_assert_msg(d < TOL_PX, "%s face %d: %g px", crops[c].stem,
			      crops[c].face, d);
		worst = fmax(worst, d);
		img_free(&im);
	}
	printf("  crops: max landmark diff %.2e px\n", worst);
}
END_TEST

/* The whole stage on the pictures of a golden file from the golden boxes
 * (as floats, as the detector hands them over): detCrop exact, landmarks
 * within TOL_PX.  Returns the worst difference. */
static double check_file(const char *file, int nimages, int nfaces)
{
	static rt_gimage g[8];
	int ng = load_golden_file(file, g, 8), faces = 0;
	double worst = 0;

	ck_assert_int_eq(ng, nimages);
	for (int i = 0; i < ng; i++) {
		const uint8_t *px;
		int stride;
		/* the picture: the photo's top g[i].h rows */
		img im = rt_golden_photo(&g[i], &px, &stride);
		ck_assert_int_eq(im.w, g[i].w);
		for (int f = 0; f < g[i].n; f++) {
			const rt_gface *gf = &g[i].face[f];
			face_box box = {(float)gf->box[0], (float)gf->box[1],
					(float)gf->box[2], (float)gf->box[3], 1};
			float pts[LMK_N][2];
			int crop[4];
			ck_assert_int_eq(lmk_detect(net, &arena, px, im.w, g[i].h,
						    stride, &box, pts, crop), 0);
			for (int k = 0; k < 4; k++)
				ck_assert_msg(crop[k] == gf->det_crop[k],
					      "%s %s face %d: detCrop[%d] %d, golden %d",
					      file, g[i].path, f, k, crop[k], gf->det_crop[k]);
			double d = max_diff(pts, gf->pts, 0, 0);
			ck_assert_msg(d < TOL_PX, "%s %s face %d: %g px", file,
				      g[i].path, f, d);
			worst = fmax(worst, d);
			faces++;
		}
		img_free(&im);
	}
	ck_assert_int_eq(faces, nfaces);
	ck_assert_msg(arena.peak <= lmk_arena_floats(), "peak %zu > %zu",
		      arena.peak, lmk_arena_floats());
	return worst;
}

START_TEST(all_demo_faces_match_the_reference)
{
	if (valgrind())
		return; /* the crops test covers the net under valgrind */
	double d = check_file("demo.jsonl", 6, 22);
	printf("  22 faces: detCrop exact, max landmark diff %.2e px\n", d);
}
END_TEST

/* clip.jsonl: sample1's top 560 and 600 rows, where boxes reach below the
 * picture and detCrop is clipped. */
START_TEST(clipped_faces_match_the_reference)
{
	if (valgrind())
		return;
	double d = check_file("clip.jsonl", 2, 6);
	printf("  6 faces cut by the border: detCrop exact, max landmark diff %.2e px\n", d);
}
END_TEST

/* A small synthetic picture for the edges. */
static void test_pixel(int x, int y, uint8_t *q)
{
	q[0] = (uint8_t)(x * 4);
	q[1] = (uint8_t)(y * 5);
	q[2] = (uint8_t)((x + y) * 3);
}

static uint8_t *test_picture(int w, int h)
{
	return rt_picture(w, h, test_pixel);
}

START_TEST(box_partly_outside_is_clipped_then_floored)
{
	int w = 64, h = 48, crop[4];
	uint8_t *px = test_picture(w, h);
	float pts[LMK_N][2];

	/* x: clipped to 0, width -10.5 + 40.7 = 30.2 -> 30; y: 5.25 -> 5,
	 * height min(100, 48 - 5.25) = 42.75 -> 42 */
	face_box b = {-10.5f, 5.25f, 40.7f, 100.0f, 1};
	ck_assert_int_eq(lmk_detect(net, &arena, px, w, h, w * 3, &b, pts, crop), 0);
	ck_assert_int_eq(crop[0], 0);
	ck_assert_int_eq(crop[1], 5);
	ck_assert_int_eq(crop[2], 30);
	ck_assert_int_eq(crop[3], 42);
	for (int i = 0; i < LMK_N; i++)
		ck_assert(isfinite(pts[i][0]) && isfinite(pts[i][1]));
	/* right and bottom: 50.5 + 30 -> width 13.5 -> 13 */
	face_box r = {50.5f, 40.9f, 30.0f, 30.0f, 1};
	ck_assert_int_eq(lmk_crop(w, h, &r, crop), 0);
	ck_assert_int_eq(crop[0], 50);
	ck_assert_int_eq(crop[1], 40);
	ck_assert_int_eq(crop[2], 13);
	ck_assert_int_eq(crop[3], 7);
	free(px);
}
END_TEST

START_TEST(box_outside_or_under_a_pixel_is_einval)
{
	int w = 64, h = 48, crop[4] = {-7, -7, -7, -7};
	uint8_t *px = test_picture(w, h);
	float pts[LMK_N][2];
	const face_box bad[] = {
		{100, 10, 20, 20, 1},   /* right of the image */
		{-50, 10, 20, 20, 1},   /* left of it */
		{10, -40, 20, 20, 1},   /* above */
		{10, 48, 20, 20, 1},    /* starts on the bottom edge */
		{63.5f, 10, 5, 5, 1},   /* 0.5 px left inside */
		{10, 10, 0.9f, 20, 1},  /* under a pixel wide */
		{10, 10, 20, -3, 1},    /* negative height */
		{NAN, 10, 20, 20, 1},
		{10, 10, INFINITY, 20, 1},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(lmk_detect(net, &arena, px, w, h, w * 3, &bad[i], pts,
					 crop) == RECOG_EINVAL, "box %zu", i);
		ck_assert_int_eq(crop[0], -7);
	}
	free(px);
}
END_TEST

START_TEST(one_pixel_boxes_give_finite_points)
{
	int w = 64, h = 48, crop[4];
	uint8_t *px = test_picture(w, h);
	float pts[LMK_N][2];
	const face_box one[] = {
		{0, 0, 1, 1, 1}, {0, 0, 1, 48, 1}, {63, 47, 1, 1, 1},
		{20.5f, 30.2f, 1.2f, 1.9f, 1}, {0, 10, 64, 1, 1},
	};
	size_t n = valgrind() ? 2 : sizeof one / sizeof one[0];
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(lmk_detect(net, &arena, px, w, h, w * 3, &one[i],
					    pts, crop), 0);
		ck_assert_int_ge(crop[2], 1);
		ck_assert_int_ge(crop[3], 1);
		for (int k = 0; k < LMK_N; k++)
			ck_assert(isfinite(pts[k][0]) && isfinite(pts[k][1]));
	}
	/* a 112 x 112 crop is fed unresized; a padded stride works */
	int s = 112 * 3 + 5;
	uint8_t *wide = calloc((size_t)s * 120, 1);
	ck_assert_ptr_nonnull(wide);
	face_box b = {0, 0, 112, 112, 1};
	ck_assert_int_eq(lmk_detect(net, &arena, wide, 112, 120, s, &b,
				    pts, crop), 0);
	ck_assert_int_eq(crop[2], 112);
	free(wide);
	free(px);
}
END_TEST

START_TEST(bad_arguments_are_einval)
{
	uint8_t px[8 * 8 * 3] = {0};
	float pts[LMK_N][2], raw[136];
	face_box b = {1, 1, 4, 4, 1};
	nn_t in = nn_tensor(&arena, LMK_INPUT, LMK_INPUT, 3), bad = in;

	ck_assert_int_eq(lmk_detect(NULL, &arena, px, 8, 8, 24, &b, pts, NULL), RECOG_EINVAL);
	ck_assert_int_eq(lmk_detect(net, NULL, px, 8, 8, 24, &b, pts, NULL), RECOG_EINVAL);
	ck_assert_int_eq(lmk_detect(net, &arena, NULL, 8, 8, 24, &b, pts, NULL), RECOG_EINVAL);
	ck_assert_int_eq(lmk_detect(net, &arena, px, 8, 8, 24, NULL, pts, NULL), RECOG_EINVAL);
	ck_assert_int_eq(lmk_detect(net, &arena, px, 8, 8, 24, &b, NULL, NULL), RECOG_EINVAL);
	ck_assert_int_eq(lmk_detect(net, &arena, px, 0, 8, 24, &b, pts, NULL), RECOG_EINVAL);
	ck_assert_int_eq(lmk_detect(net, &arena, px, 8, 0, 24, &b, pts, NULL), RECOG_EINVAL);
	ck_assert_int_eq(lmk_detect(net, &arena, px, 8, 8, 23, &b, pts, NULL), RECOG_EINVAL);
	bad.w = 111;
	ck_assert_int_eq(lmk_forward(net, &arena, &bad, raw), RECOG_EINVAL);
	bad = in;
	bad.c = 1;
	ck_assert_int_eq(lmk_forward(net, &arena, &bad, raw), RECOG_EINVAL);
	ck_assert_int_eq(lmk_forward(net, &arena, NULL, raw), RECOG_EINVAL);
	nn_arena_reset(&arena);
}
END_TEST

START_TEST(small_arena_is_enomem)
{
	int w = 64, h = 48, crop[4];
	uint8_t *px = test_picture(w, h);
	float pts[LMK_N][2];
	face_box b = {4, 4, 40, 40, 1};
	nn_arena small;

	nn_arena_init(&small, arena_buf, lmk_arena_floats() / 2);
	ck_assert_int_eq(lmk_detect(net, &small, px, w, h, w * 3, &b, pts, crop),
			 RECOG_ENOMEM);
	if (valgrind()) {
		free(px);
		return; /* the other tests run with an arena of that size */
	}
	nn_arena_init(&small, arena_buf, lmk_arena_floats());
	ck_assert_int_eq(lmk_detect(net, &small, px, w, h, w * 3, &b, pts, crop), 0);
	ck_assert_int_le(small.peak, lmk_arena_floats());
	/* the contract's size is the peak, not a guess far above it */
	ck_assert_int_ge(small.peak + 64, lmk_arena_floats());
	free(px);
}
END_TEST

/* ----------------------------------------------------- weight binding */

/* lmk_new on the model with the first from in its manifest replaced by
 * to. */
static lmk *new_from_edited(const char *from, const char *to, char *err,
			    size_t errlen)
{
	mdl m;
	rt_model_edited("face_landmark_68_model", from, to, &m);
	lmk *l = lmk_new(&m, err, errlen);
	mdl_free(&m);
	return l;
}

START_TEST(missing_or_misshapen_tensors_are_named)
{
	char err[256] = "";
	lmk *l = new_from_edited("\"fc/bias\"", "\"fc/biax\"", err, sizeof err);
	ck_assert_ptr_null(l);
	ck_assert_msg(strstr(err, "fc/bias") && strstr(err, "missing"), "%s", err);

	err[0] = '\0';
	l = new_from_edited("\"dense2/conv1/pointwise_filter\"",
			    "\"dense2/conv1/pointwisefilter\"", err, sizeof err);
	ck_assert_ptr_null(l);
	ck_assert_msg(strstr(err, "dense2/conv1/pointwise_filter"), "%s", err);

	/* same element count, transposed: a shape error naming the tensor */
	err[0] = '\0';
	l = new_from_edited("[256,136]", "[136,256]", err, sizeof err);
	if (!l)
		ck_assert_msg(strstr(err, "fc/weights") && strstr(err, "136"), "%s", err);
	else
		ck_abort_msg("transposed fc/weights accepted");
}
END_TEST

int main(void)
{
	const TTest *net_tests[] = {
		net_on_the_exact_crops_matches_the_reference,
		all_demo_faces_match_the_reference,
		clipped_faces_match_the_reference, NULL};
	const TTest *edge_tests[] = {
		box_partly_outside_is_clipped_then_floored,
		box_outside_or_under_a_pixel_is_einval,
		one_pixel_boxes_give_finite_points, bad_arguments_are_einval,
		small_arena_is_enomem, NULL};
	const TTest *bind_tests[] = {missing_or_misshapen_tensors_are_named, NULL};
	Suite *s = suite_create("recog_landmark");

	rt_tcase(s, "net", setup, teardown, 120, net_tests);
	rt_tcase(s, "edges", setup, teardown, 120, edge_tests);
	rt_tcase(s, "binding", NULL, NULL, 60, bind_tests);
	return tu_run(s);
}
