/* check_recog_ssd.c -- sim/recog/ssd.c against the TF.js reference
 * (fixtures/recog/golden/): the six demo photos as camsim decodes them
 * give the reference's faces (count, boxes, scores, order), and so do
 * the clip, edge and face-fixture sets; a picture without a face gives
 * none; tiny, thin and padded-stride pictures; the input stage against
 * nn_resize_rgb8, the output stage (decoding, NMS, rescaling) on made-up
 * net outputs, nn_dw3x3_rows against nn_depthwise; the argument and arena
 * contracts; the weight binding's refusals.  One detection takes minutes
 * under valgrind, so with VALGRIND set (tests/run.sh --valgrind) only the
 * stages around the net, the small layers and the contracts run.  Needs
 * `make models` (and `make faces` for faces.jsonl). */
#include "gemm.h"
#include "image.h"
#include "recog.h"
#include "recogtest.h"
#include "core_err.h"
#include "ssd.h"
#include "testutil.h"

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
	rt_model("ssd_mobilenetv1_model", &model);
	net = ssd_new(&model, err, sizeof err);
	ck_assert_msg(net != NULL, "ssd_new: %s", err);
	arena_buf = rt_arena(&arena, ssd_arena_floats());
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

/* Detects on golden picture gi (its cut of the decoded photo, with the
 * photo's stride) and compares face by face; the largest box and score
 * differences go to *dbox, *dscore. */
static void check_image(const rt_gimage *gi, double *dbox, double *dscore)
{
	const uint8_t *px;
	int stride;
	face_box f[MAXF + 4];

	img im = rt_golden_photo(gi, &px, &stride);
	int n = ssd_detect(net, &arena, px, gi->w, gi->h, stride, 0.5f, f,
			   MAXF + 4);
	ck_assert_msg(n == gi->n, "%s: %d faces, golden %d", gi->path, n, gi->n);
	for (int i = 0; i < n; i++) {
		const float got[4] = {f[i].x, f[i].y, f[i].w, f[i].h};
		for (int k = 0; k < 4; k++) {
			double d = fabs(got[k] - gi->face[i].box[k]);
			ck_assert_msg(d < TOL_PX, "%s face %d box[%d]: %.6f, golden %.6f",
				      gi->path, i, k, got[k], gi->face[i].box[k]);
			*dbox = fmax(*dbox, d);
		}
		double ds = fabs(f[i].score - gi->face[i].score);
		ck_assert_msg(ds < TOL_SCORE, "%s face %d score %.7f, golden %.7f",
			      gi->path, i, f[i].score, gi->face[i].score);
		*dscore = fmax(*dscore, ds);
		if (i > 0)
			ck_assert(f[i].score <= f[i - 1].score);
	}
	ck_assert_msg(arena.peak <= ssd_arena_floats(), "peak %zu > %zu",
		      arena.peak, ssd_arena_floats());
	img_free(&im);
}

/* ------------------------------------------------------------- tests */

/* One photo. */
START_TEST(sample1_matches_the_reference)
{
	static rt_gimage g[6];
	double dbox = 0, dscore = 0;
	if (getenv("VALGRIND"))
		return; /* a detection takes minutes under valgrind */
	ck_assert_int_ge(rt_golden("demo.jsonl", NULL, g, 1), 1);
	check_image(&g[0], &dbox, &dscore);
	printf("  sample1: %d faces, max box diff %.2e px, max score diff %.2e\n",
	       g[0].n, dbox, dscore);
}
END_TEST

/* With each matrix kernel (gemm.h): the net built while it is the
 * default packs its weights for it. */
START_TEST(all_demo_photos_match_the_reference)
{
	static rt_gimage g[6];
	static const gemm_kernel kerns[] = {GEMM_OWN, GEMM_BLAS};
	ssd *built = net;

	if (getenv("VALGRIND"))
		return;
	ck_assert_int_eq(rt_golden("demo.jsonl", NULL, g, 6), 6);
	for (int k = 0; k < 2; k++) {
		double dbox = 0, dscore = 0;
		char err[256] = "";
		int faces = 0;

		gemm_set_default(kerns[k]);
		net = ssd_new(&model, err, sizeof err);
		gemm_set_default(GEMM_AUTO);
		ck_assert_msg(net != NULL, "ssd_new: %s", err);
		for (int i = 0; i < 6; i++) {
			check_image(&g[i], &dbox, &dscore);
			faces += g[i].n;
		}
		ssd_free(net);
		ck_assert_int_eq(faces, 22);
		printf("  6 photos, 22 faces, %s kernel: max box diff %.2e px, max "
		       "score diff %.2e, arena peak %zu floats\n",
		       gemm_kernel_name(kerns[k]), dbox, dscore, arena.peak);
	}
	net = built;
}
END_TEST

/* The other golden sets: pictures whose bottom border cuts faces (their
 * boxes reach below the picture: clip.jsonl), a face at the left border
 * (edge.jsonl: sample6 from x = 600 on), the project's face fixtures with
 * a picture without a face, two faces, rotated, masked, small, blurred and
 * low-quality ones (faces.jsonl; `make faces`), scores down to 0.52. */
START_TEST(other_golden_sets_match_the_reference)
{
	static rt_gimage g[24];
	static const int edge_cut[4] = {600, 0, 1320, 1537};
	static const struct {
		const char *file;
		const int *cut;
		int images, faces;
	} sets[] = {{"clip.jsonl", NULL, 2, 6}, {"edge.jsonl", edge_cut, 1, 3},
		    {"faces.jsonl", NULL, 18, 20}};
	double dbox = 0, dscore = 0;

	if (getenv("VALGRIND"))
		return;
	for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
		int n = rt_golden(sets[k].file, sets[k].cut, g, 24), faces = 0;
		ck_assert_int_eq(n, sets[k].images);
		for (int i = 0; i < n; i++) {
			check_image(&g[i], &dbox, &dscore);
			faces += g[i].n;
		}
		ck_assert_int_eq(faces, sets[k].faces);
	}
	printf("  clip, edge, faces: 21 pictures, 29 faces: max box diff %.2e px,"
	       " max score diff %.2e\n", dbox, dscore);
}
END_TEST

/* fixtures/images/frame_640x480.png is a gradient with a few shapes. */
START_TEST(no_face_in_a_picture_without_one)
{
	char path[1024], err[256];
	img im;
	face_box f[4];

	if (getenv("VALGRIND"))
		return;
	snprintf(path, sizeof path, "%s/fixtures/images/frame_640x480.png", tu_root());
	ck_assert_msg(img_load_file(path, &im, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(ssd_detect(net, &arena, im.px, im.w, im.h, im.w * 3,
				    0.5f, f, 4), 0);
	img_free(&im);
}
END_TEST

/* A synthetic picture: stripes and a gradient. */
static void pattern_pixel(int x, int y, uint8_t *q)
{
	q[0] = (uint8_t)(x * 7);
	q[1] = (uint8_t)(y * 5);
	q[2] = (uint8_t)((x / 3 + y / 2) % 2 ? 200 : 30);
}

static uint8_t *pattern(int w, int h)
{
	return rt_picture(w, h, pattern_pixel);
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
	static const int sz[][2] = {{3, 2}, {2000, 10}, {300, 512}, {1, 1},
				    {2, 3}, {10, 2000}, {512, 512}, {512, 300},
				    {511, 511}, {513, 200}, {1920, 1280},
				    {1000, 1537}};
	size_t n = (size_t)SSD_INPUT * SSD_INPUT * 3;
	float *got = malloc(n * sizeof(float)), *want = malloc(n * sizeof(float));
	ck_assert(got && want);

	/* under valgrind, the thin one (a resize of a padded square) */
	int vg = getenv("VALGRIND") != NULL;
	for (size_t i = vg; i < (vg ? 2 : sizeof sz / sizeof sz[0]); i++) {
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

	if (getenv("VALGRIND"))
		return;
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
	static rt_gimage g[1];
	char err[256];
	img im;
	face_box a[MAXF], b[MAXF];

	if (getenv("VALGRIND"))
		return;
	ck_assert_int_eq(rt_golden("demo.jsonl", NULL, g, 1), 1);
	ck_assert_msg(img_load_file_trusted(g[0].path, &im, err, sizeof err) == 0, "%s", err);
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

/* ------------------------------------------------- the output stage */

/* The anchors, [SSD_ANCHORS][4]: ymin, xmin, ymax, xmax. */
static const float *anchors(void)
{
	const mdl_tensor *t = mdl_find(&model, "Output/extra_dim");
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(t->n, SSD_ANCHORS * 4);
	return t->d;
}

static double iou(const float *a, const float *b)
{
	double ih = fmin(a[2], b[2]) - fmax(a[0], b[0]);
	double iw = fmin(a[3], b[3]) - fmax(a[1], b[1]);
	double in = fmax(ih, 0) * fmax(iw, 0);
	double aa = ((double)a[2] - a[0]) * ((double)a[3] - a[1]);
	double ab = ((double)b[2] - b[0]) * ((double)b[3] - b[1]);
	return in / (aa + ab - in);
}

/* face-api's box for anchor a with encoding e in a w x h image, from the
 * formulas of outputLayer.ts and locateFaces in double. */
static void expect_box(const float *a, const float *e, int w, int h,
		       double out[4])
{
	double sy = a[2] - a[0], sx = a[3] - a[1];
	double cy = a[0] + sy / 2 + e[0] / 10.0 * sy;
	double cx = a[1] + sx / 2 + e[1] / 10.0 * sx;
	double hy = exp(e[2] / 5.0) * sy / 2, hx = exp(e[3] / 5.0) * sx / 2;
	double s = 512.0 / (w > h ? w : h);
	double px = 512.0 / floor(w * s + 0.5), py = 512.0 / floor(h * s + 0.5);
	double top = fmax(0, cy - hy) * py, bottom = fmin(1, cy + hy) * py;
	double left = fmax(0, cx - hx) * px, right = fmin(1, cx + hx) * px;
	out[0] = left * w;
	out[1] = top * h;
	out[2] = (right - left) * w;
	out[3] = (bottom - top) * h;
}

static float logit(double p)
{
	return (float)log(p / (1 - p));
}

/* Made-up net outputs: every score low but a few anchors'; the strongest
 * suppresses its most overlapping neighbour, a tie keeps anchor order,
 * max and min_score cut the list, a box over the square's edge is
 * clamped, a wide picture's boxes scale by its reshaped height. */
START_TEST(decoding_and_nms_follow_face_api)
{
	const float *an = anchors();
	static float enc[SSD_ANCHORS][4], lg[SSD_ANCHORS][3];
	static float scratch[3 * SSD_ANCHORS];
	face_box f[8];
	int w = 1000, h = 600;

	/* a: a middle anchor of the 32x32 map; b: the anchor overlapping it
	 * most; c, d: two anchors far from a and from each other, d before
	 * c in anchor order */
	int a = (16 * 32 + 16) * 3 + 1, b = -1, c = -1, d = -1;
	double best = 0;
	for (int i = 0; i < SSD_ANCHORS; i++)
		if (i != a && iou(an + 4 * i, an + 4 * a) > best) {
			best = iou(an + 4 * i, an + 4 * a);
			b = i;
		}
	ck_assert_msg(best > 0.5, "no anchor overlaps anchor %d by more than half", a);
	for (int i = 0; i < 32 * 32 * 3 && (c < 0 || d < 0); i++) {
		if (an[4 * i] < 0 || an[4 * i + 1] < 0 || an[4 * i + 2] > 0.55 ||
		    an[4 * i + 3] > 0.55 || iou(an + 4 * i, an + 4 * a) > 0)
			continue;
		if (d < 0)
			d = i;
		else if (iou(an + 4 * i, an + 4 * d) == 0)
			c = i;
	}
	ck_assert(c > d && d >= 0);

	for (int pass = 0; pass < 6; pass++) {
		memset(enc, 0, sizeof enc);
		for (int i = 0; i < SSD_ANCHORS; i++) {
			lg[i][0] = 5;
			lg[i][1] = -9; /* score 1.2e-4 */
			lg[i][2] = 0;
		}
		const float ea[4] = {0.5f, -0.8f, 0.9f, -0.3f};
		memcpy(enc[a], ea, sizeof ea);
		lg[a][1] = logit(0.95);
		lg[b][1] = logit(0.9);
		lg[c][1] = lg[d][1] = logit(0.7);
		float min = 0.5f;
		int max = 8, want = 3;
		if (pass == 1)
			max = 1, want = 1;
		if (pass == 2)
			min = 0.8f, want = 1;
		if (pass == 3)
			min = 0.96f, want = 0;
		if (pass == 4)
			max = 0, want = 0;
		if (pass == 5) { /* b no longer overlaps a: kept, second */
			/* 0.8 of its size down and right */
			const float far[4] = {8, 8, 0, 0};
			memcpy(enc[b], far, sizeof far);
			want = 4;
		}
		int n = ssd_decode(net, &enc[0][0], &lg[0][0], w, h, min,
				   max ? f : NULL, max, scratch);
		ck_assert_msg(n == want, "pass %d: %d faces, want %d", pass, n, want);
		if (n == 0)
			continue;
		/* a first, with its decoded encoding; then (b,) d, c */
		float a0[4];
		memcpy(a0, an + 4 * a, sizeof a0);
		double e[4];
		expect_box(a0, ea, w, h, e);
		ck_assert_float_eq_tol(f[0].x, e[0], 1e-3);
		ck_assert_float_eq_tol(f[0].y, e[1], 1e-3);
		ck_assert_float_eq_tol(f[0].w, e[2], 1e-3);
		ck_assert_float_eq_tol(f[0].h, e[3], 1e-3);
		ck_assert_float_eq_tol(f[0].score, 0.95, 1e-6);
		if (n < 3)
			continue;
		int k = pass == 5 ? 2 : 1;
		if (pass == 5)
			ck_assert_float_eq_tol(f[1].score, 0.9, 1e-6);
		const float zero[4] = {0, 0, 0, 0};
		expect_box(an + 4 * d, zero, w, h, e);
		ck_assert_float_eq_tol(f[k].x, e[0], 1e-3);
		ck_assert_float_eq_tol(f[k].y, e[1], 1e-3);
		expect_box(an + 4 * c, zero, w, h, e);
		ck_assert_float_eq_tol(f[k + 1].x, e[0], 1e-3);
		ck_assert_float_eq_tol(f[k + 1].h, e[3], 1e-3);
		ck_assert(f[k].score == f[k + 1].score);
	}

	/* the first anchor reaches over the top-left corner: clamped to 0;
	 * a square picture: no reshaping */
	memset(enc, 0, sizeof enc);
	for (int i = 0; i < SSD_ANCHORS; i++)
		lg[i][1] = -9;
	lg[0][1] = 3;
	ck_assert_int_eq(ssd_decode(net, &enc[0][0], &lg[0][0], 640, 640, 0.5f,
				    f, 8, scratch), 1);
	double e[4];
	expect_box(an, (const float[4]){0, 0, 0, 0}, 640, 640, e);
	ck_assert_float_eq_tol(f[0].x, e[0], 1e-3);
	ck_assert_float_eq_tol(f[0].w, e[2], 1e-3);
	if (an[0] < 0)
		ck_assert(f[0].y == 0);
	if (an[1] < 0)
		ck_assert(f[0].x == 0);
	/* a box wholly below the square (face-api's Rect would throw) is
	 * dropped */
	enc[0][0] = 200;
	ck_assert_int_eq(ssd_decode(net, &enc[0][0], &lg[0][0], 640, 640, 0.5f,
				    f, 8, scratch), 0);
	ck_assert_int_eq(ssd_decode(net, &enc[0][0], &lg[0][0], 0, 640, 0.5f,
				    f, 8, scratch), RECOG_EINVAL);
	ck_assert_int_eq(ssd_decode(net, &enc[0][0], &lg[0][0], 640, 640, 0.5f,
				    f, 8, NULL), RECOG_EINVAL);
}
END_TEST

/* nn_dw3x3_rows (the separable pairs' depthwise layer) against
 * nn_depthwise, bit for bit, on the shapes of the net and on small and
 * odd ones (borders, channels not a multiple of 16). */
START_TEST(depthwise_rows_equal_nn_depthwise)
{
	static const int L[][4] = {{32, 32, 512, 1}, {16, 16, 1024, 2},
				   {17, 9, 48, 1},  {9, 6, 17, 2},
				   {2, 2, 16, 2},   {1, 1, 32, 1},
				   {3, 2, 32, 2},   {1, 3, 16, 2},
				   {5, 5, 16, 2},   {6, 7, 3, 1},
				   {4, 5, 2064, 1}};
	size_t cap = (size_t)1 << 22;
	float *buf = malloc(cap * sizeof(float));
	nn_arena a;
	ck_assert_ptr_nonnull(buf);
	nn_arena_init(&a, buf, cap);
	/* under valgrind, the small shapes only */
	for (size_t l = getenv("VALGRIND") ? 2 : 0; l < sizeof L / sizeof L[0]; l++) {
		nn_arena_reset(&a);
		nn_t in = nn_tensor(&a, L[l][0], L[l][1], L[l][2]);
		float *f = nn_alloc(&a, 9 * (size_t)L[l][2]);
		ck_assert(in.d && f);
		size_t n = (size_t)L[l][0] * L[l][1] * L[l][2];
		for (size_t i = 0; i < n; i++)
			in.d[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
		for (int i = 0; i < 9 * L[l][2]; i++)
			f[i] = (float)((i * 40503u) % 777) / 300.0f - 1.3f;
		nn_t ref = nn_depthwise(&a, &in, f, 3, 3, NULL, L[l][3], NN_SAME);
		float *o = nn_alloc(&a, (size_t)ref.h * ref.w * ref.c);
		ck_assert(ref.d && o);
		/* in two calls: the row range is honoured */
		nn_dw3x3_rows(&in, f, L[l][3], 0, ref.h / 2, o);
		nn_dw3x3_rows(&in, f, L[l][3], ref.h / 2, ref.h,
			      o + (size_t)(ref.h / 2) * ref.w * ref.c);
		for (size_t i = 0; i < (size_t)ref.h * ref.w * ref.c; i++)
			ck_assert_msg(o[i] == ref.d[i], "%dx%dx%d stride %d: element %zu"
				      " %g, nn_depthwise %g", L[l][0], L[l][1],
				      L[l][2], L[l][3], i, o[i], ref.d[i]);
	}
	free(buf);
}
END_TEST

START_TEST(bad_arguments_are_einval)
{
	uint8_t px[3 * 4 * 4] = {0};
	face_box f[2];

	ck_assert_int_eq(ssd_detect(NULL, &arena, px, 4, 4, 12, 0.5f, f, 2), RECOG_EINVAL);
	ck_assert_int_eq(ssd_detect(net, &arena, NULL, 4, 4, 12, 0.5f, f, 2), RECOG_EINVAL);
	ck_assert_int_eq(ssd_detect(net, &arena, px, 0, 4, 12, 0.5f, f, 2), RECOG_EINVAL);
	ck_assert_int_eq(ssd_detect(net, &arena, px, 4, -1, 12, 0.5f, f, 2), RECOG_EINVAL);
	ck_assert_int_eq(ssd_detect(net, &arena, px, 4, 4, 11, 0.5f, f, 2), RECOG_EINVAL);
	ck_assert_int_eq(ssd_detect(net, &arena, px, 4, 4, 12, 0.5f, NULL, 2), RECOG_EINVAL);
	ck_assert_int_eq(ssd_detect(net, &arena, px, 4, 4, 12, 0.5f, f, -1), RECOG_EINVAL);
}
END_TEST

START_TEST(small_arena_is_enomem)
{
	uint8_t px[3 * 8 * 8] = {0};
	face_box f[2];
	nn_arena small;

	nn_arena_init(&small, arena_buf, ssd_arena_floats() - 1);
	ck_assert_int_eq(ssd_detect(net, &small, px, 8, 8, 24, 0.5f, f, 2),
			 RECOG_ENOMEM);
	if (getenv("VALGRIND"))
		return;
	nn_arena_init(&small, arena_buf, ssd_arena_floats());
	ck_assert_int_eq(ssd_detect(net, &small, px, 8, 8, 24, 0.5f, f, 2), 0);
	/* the contract's size is the peak */
	ck_assert_int_eq(small.peak, ssd_arena_floats());
}
END_TEST

/* ----------------------------------------------------- weight binding */

/* ssd_new on the model with the first from in its manifest replaced by
 * to. */
static ssd *new_from_edited(const char *from, const char *to, char *err,
			    size_t errlen)
{
	mdl m;
	rt_model_edited("ssd_mobilenetv1_model", from, to, &m);
	ssd *s = ssd_new(&m, err, errlen);
	mdl_free(&m);
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
	const TTest *net_tests[] = {
		sample1_matches_the_reference, all_demo_photos_match_the_reference,
		other_golden_sets_match_the_reference,
		no_face_in_a_picture_without_one, NULL};
	const TTest *edge_tests[] = {
		input_is_the_legacy_resize_of_the_padded_square,
		tiny_and_thin_pictures, stride_and_exact_size,
		decoding_and_nms_follow_face_api, depthwise_rows_equal_nn_depthwise,
		bad_arguments_are_einval, small_arena_is_enomem, NULL};
	const TTest *bind_tests[] = {missing_or_misshapen_tensors_are_named, NULL};
	Suite *s = suite_create("recog_ssd");

	rt_tcase(s, "net", setup, teardown, 300, net_tests);
	rt_tcase(s, "edges", setup, teardown, 300, edge_tests);
	rt_tcase(s, "binding", NULL, NULL, 120, bind_tests);
	return tu_run(s);
}
