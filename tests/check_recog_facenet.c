/* check_recog_facenet.c -- sim/recog/facenet.c against the TF.js
 * reference's golden data (fixtures/recog/golden/demo.jsonl, made on
 * camsim-decoded pixels, and edge.jsonl: sample6 cut so that a face sits at
 * the left edge): the net alone on the exact recognition-net crops,
 * face-api's alignment (crop rectangles and chip pixels, descriptors of the
 * 22 demo faces from their golden landmarks, alignDlib's clamp at the
 * edge), the similarity alignment (close to face-api's on upright faces,
 * and far less moved by a rolled head), weight binding errors, and the
 * arena contract.  Needs `make models`.  Under valgrind (VALGRIND set) at
 * most one face per test goes through the net; the chips are still
 * checked. */
#include "facenet.h"
#include "image.h"
#include "recog.h"
#include "recogtest.h"
#include "core_err.h"
#include "testutil.h"

#include <math.h>
#include <stdint.h>

#define MAXFACES 32

typedef struct gface {
	char image[256]; /* build/models/demo/sampleN.jpg */
	char stem[32];   /* sampleN */
	int k;           /* face index in its image */
	float pts[LMK_N][2];
	float desc[FNET_DIM];
	int crop[4];     /* alignedCrop */
	int det[4];      /* detCrop */
} gface;

static gface gf[MAXFACES];
static int ngf;
static gface edge[8]; /* edge.jsonl */
static int nedge;

static int under_valgrind(void)
{
	return getenv("VALGRIND") != NULL;
}

static double l2(const float *a, const float *b)
{
	double s = 0;
	for (int i = 0; i < FNET_DIM; i++)
		s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
	return sqrt(s);
}

/* Reads fixtures/recog/golden/<name> into out[0..max), *n faces. */
static void read_golden(const char *name, gface *out, int max, int *n)
{
	static rt_gimage g[24];
	int ng = rt_golden(name, NULL, g, 24);

	for (int i = 0; i < ng; i++)
		for (int k = 0; k < g[i].n; k++) {
			const rt_gface *rf = &g[i].face[k];
			const char *im = g[i].image, *slash = strrchr(im, '/'), *dot;
			ck_assert_int_lt(*n, max);
			gface *o = &out[(*n)++];
			snprintf(o->image, sizeof o->image, "%.255s", im);
			snprintf(o->stem, sizeof o->stem, "%.31s", slash ? slash + 1 : im);
			if ((dot = strchr(o->stem, '.')))
				*(char *)(o->stem + (dot - o->stem)) = 0;
			o->k = k;
			for (int p = 0; p < LMK_N; p++) {
				o->pts[p][0] = (float)rf->pts[p][0];
				o->pts[p][1] = (float)rf->pts[p][1];
			}
			for (int d = 0; d < FNET_DIM; d++)
				o->desc[d] = (float)rf->desc[d];
			memcpy(o->crop, rf->aligned_crop, sizeof o->crop);
			memcpy(o->det, rf->det_crop, sizeof o->det);
		}
}

static void load_golden(void)
{
	if (ngf)
		return;
	read_golden("demo.jsonl", gf, MAXFACES, &ngf);
	ck_assert_int_eq(ngf, 22);
}

static const gface *golden_face(const char *stem, int k)
{
	load_golden();
	for (int i = 0; i < ngf; i++)
		if (!strcmp(gf[i].stem, stem) && gf[i].k == k)
			return &gf[i];
	ck_abort_msg("no golden face %s_face%d", stem, k);
	return NULL;
}

/* The model, the net and an arena of fnet_arena_floats(). */
typedef struct rig {
	mdl m;
	fnet *f;
	float *buf;
	nn_arena a;
} rig;

static void rig_open(rig *r)
{
	char err[256] = "";
	rt_model("face_recognition_model", &r->m);
	r->f = fnet_new(&r->m, err, sizeof err);
	ck_assert_msg(r->f != NULL, "fnet_new: %s", err);
	r->buf = rt_arena(&r->a, fnet_arena_floats());
}

static void rig_close(rig *r)
{
	fnet_free(r->f);
	mdl_free(&r->m);
	free(r->buf);
}

static void load_image(const char *rel, img *im)
{
	char path[1024], err[256] = "";
	snprintf(path, sizeof path, "%s/%s", tu_root(), rel);
	int rc = img_load_file_trusted(path, im, err, sizeof err);
	ck_assert_msg(rc == 0, "%s (run `make models`)", err);
}

/* The net alone on the reference's exact recognition-net input crops. */
START_TEST(forward_matches_reference_on_aligned_crops)
{
	static const struct {
		const char *stem;
		int k;
	} crops[] = {{"sample1", 0}, {"sample3", 2}, {"sample6", 3}};
	int n = under_valgrind() ? 1 : 3;
	double worst = 0;
	rig r;

	rig_open(&r);
	for (int i = 0; i < n; i++) {
		char rel[256];
		img im;
		float desc[FNET_DIM];
		const gface *g = golden_face(crops[i].stem, crops[i].k);
		snprintf(rel, sizeof rel, "fixtures/recog/crops/demo__%s_face%d_aligned.png",
			 crops[i].stem, crops[i].k);
		load_image(rel, &im);
		ck_assert_int_eq(im.w, g->crop[2]);
		ck_assert_int_eq(im.h, g->crop[3]);
		nn_arena_reset(&r.a);
		nn_t in = nn_tensor(&r.a, FNET_INPUT, FNET_INPUT, 3);
		ck_assert_ptr_nonnull(in.d);
		const float mean[3] = {122.782f, 117.001f, 104.298f};
		nn_resize_rgb8(im.px, im.w * 3, 0, 0, im.w, im.h, 0, 0, im.w,
			       im.h, &in, mean, 255.0f);
		ck_assert_int_eq(fnet_forward(r.f, &r.a, &in, desc), 0);
		double d = l2(desc, g->desc);
		if (d > worst)
			worst = d;
		ck_assert_msg(d < 1e-3, "%s_face%d: L2 %g to the reference",
			      crops[i].stem, crops[i].k, d);
		img_free(&im);
	}
	printf("facenet: net alone on %d reference crops: max L2 %.3g\n", n, worst);
	rig_close(&r);
}
END_TEST

/* Faces of one picture after another: im holds g->image's pixels. */
static void image_of(const gface *g, img *im, const char **cur)
{
	if (*cur && !strcmp(*cur, g->image))
		return;
	img_free(im);
	load_image(g->image, im);
	*cur = g->image;
}

/* The number of demo faces a test runs: sample1's three under valgrind. */
static int demo_faces(void)
{
	load_golden();
	return under_valgrind() ? 3 : ngf;
}

/* face-api's alignedCrop from the golden landmarks: the rectangle of every
 * face, and for the three fixture crops the pixels and the chip (the same
 * bits as the net input made from the reference's crop PNG). */
START_TEST(aligned_crop_matches_reference)
{
	static const char *fixtures[] = {"sample1_face0", "sample3_face2",
					 "sample6_face3"};
	static float buf[2][FNET_INPUT * FNET_INPUT * 3];
	const float mean[3] = {122.782f, 117.001f, 104.298f};
	int n = demo_faces(), done = 0;
	img im = {0};
	const char *cur = NULL;

	for (int i = 0; i < n; i++) {
		const gface *g = &gf[i];
		nn_t chip = {FNET_INPUT, FNET_INPUT, 3, buf[0]};
		nn_t ref = {FNET_INPUT, FNET_INPUT, 3, buf[1]};
		int crop[4] = {-1, -1, -1, -1};
		char name[64];
		image_of(g, &im, &cur);
		ck_assert_int_eq(fnet_chip(im.px, im.w, im.h, im.w * 3, g->pts,
					   NULL, FNET_ALIGN_FACEAPI, &chip, crop), 0);
		ck_assert_msg(!memcmp(crop, g->crop, sizeof crop),
			      "%s_face%d: crop %d,%d %dx%d, reference %d,%d %dx%d",
			      g->stem, g->k, crop[0], crop[1], crop[2], crop[3],
			      g->crop[0], g->crop[1], g->crop[2], g->crop[3]);
		snprintf(name, sizeof name, "%s_face%d", g->stem, g->k);
		for (size_t fx = 0; fx < sizeof fixtures / sizeof *fixtures; fx++) {
			char rel[256];
			img c;
			if (strcmp(name, fixtures[fx]))
				continue;
			snprintf(rel, sizeof rel, "fixtures/recog/crops/demo__%s_aligned.png", name);
			load_image(rel, &c);
			ck_assert_int_eq(c.w, crop[2]);
			ck_assert_int_eq(c.h, crop[3]);
			for (int y = 0; y < c.h; y++)
				ck_assert_msg(!memcmp(c.px + (size_t)y * c.w * 3,
						      im.px + ((size_t)(crop[1] + y) * im.w + crop[0]) * 3,
						      (size_t)c.w * 3),
					      "%s: crop row %d differs from the reference's", name, y);
			nn_resize_rgb8(c.px, c.w * 3, 0, 0, c.w, c.h, 0, 0, c.w, c.h,
				       &ref, mean, 255.0f);
			ck_assert_msg(!memcmp(buf[0], buf[1], sizeof buf[0]),
				      "%s: chip differs from the reference crop's", name);
			img_free(&c);
			done++;
		}
	}
	ck_assert_int_eq(done, under_valgrind() ? 1 : 3);
	img_free(&im);
}
END_TEST

/* The whole face-api path from the golden landmarks: every demo face's
 * descriptor within 1e-3 L2 of the reference's. */
START_TEST(descriptor_matches_reference_on_demo_faces)
{
	int n = under_valgrind() ? 1 : demo_faces();
	double worst = 0, worst_el = 0;
	rig r;
	img im = {0};
	const char *cur = NULL;

	load_golden();
	rig_open(&r);
	for (int i = 0; i < n; i++) {
		const gface *g = &gf[i];
		float desc[FNET_DIM];
		image_of(g, &im, &cur);
		ck_assert_int_eq(fnet_descriptor(r.f, &r.a, im.px, im.w, im.h,
						 im.w * 3, g->pts, FNET_ALIGN_FACEAPI,
						 desc, NULL), 0);
		double d = l2(desc, g->desc);
		for (int j = 0; j < FNET_DIM; j++)
			worst_el = fmax(worst_el, fabs((double)desc[j] - g->desc[j]));
		ck_assert_msg(d < 1e-3, "%s_face%d: L2 %g to the reference",
			      g->stem, g->k, d);
		if (d > worst)
			worst = d;
	}
	printf("facenet: face-api alignment on %d demo faces: max L2 %.3g, max element %.3g\n",
	       n, worst, worst_el);
	img_free(&im);
	rig_close(&r);
}
END_TEST

/* edge.jsonl: sample6 cut to 1320x1537 from (600, 0), so that face 1 sits
 * at the left edge.  face-api's alignDlib clamps that face's square to
 * detCrop.w + x wide (179 of 267); fnet_descriptor_det reproduces it from
 * the landmark crop, fnet_descriptor (no landmark crop) keeps the square. */
START_TEST(left_edge_face_matches_reference_with_landmark_crop)
{
	static float buf[FNET_INPUT * FNET_INPUT * 3];
	int clamped = 0;
	double worst = 0;
	rig r;
	img full, im;

	read_golden("edge.jsonl", edge, 8, &nedge);
	ck_assert_int_eq(nedge, 3);
	load_image("build/models/demo/sample6.jpg", &full);
	im.w = 1320;
	im.h = 1537;
	ck_assert_int_eq(full.h, im.h);
	im.px = full.px + 600 * 3; /* rows keep the full picture's stride */
	if (!under_valgrind())
		rig_open(&r);
	for (int i = 0; i < nedge; i++) {
		const gface *g = &edge[i];
		nn_t chip = {FNET_INPUT, FNET_INPUT, 3, buf};
		float desc[FNET_DIM];
		int crop[4], plain[4];
		ck_assert_int_eq(fnet_chip(im.px, im.w, im.h, full.w * 3, g->pts,
					   g->det, FNET_ALIGN_FACEAPI, &chip, crop), 0);
		ck_assert_msg(!memcmp(crop, g->crop, sizeof crop),
			      "face%d: crop %d,%d %dx%d, reference %d,%d %dx%d", g->k,
			      crop[0], crop[1], crop[2], crop[3], g->crop[0],
			      g->crop[1], g->crop[2], g->crop[3]);
		ck_assert_int_eq(fnet_chip(im.px, im.w, im.h, full.w * 3, g->pts,
					   NULL, FNET_ALIGN_FACEAPI, &chip, plain), 0);
		if (memcmp(plain, crop, sizeof crop)) {
			clamped++;
			ck_assert_int_eq(plain[2], plain[3]); /* the square */
			ck_assert_int_lt(crop[2], plain[2]);
		}
		if (under_valgrind())
			continue;
		ck_assert_int_eq(fnet_descriptor_det(r.f, &r.a, im.px, im.w, im.h,
						     full.w * 3, g->pts, g->det,
						     FNET_ALIGN_FACEAPI, desc, NULL), 0);
		double d = l2(desc, g->desc);
		worst = fmax(worst, d);
		ck_assert_msg(d < 1e-3, "face%d: L2 %g to the reference", g->k, d);
	}
	ck_assert_int_eq(clamped, 1);
	if (!under_valgrind()) {
		printf("facenet: left-edge picture, 3 faces (one clamped): max L2 %.3g\n",
		       worst);
		rig_close(&r);
	}
	img_free(&full);
}
END_TEST

static double roll_deg(const float pts[LMK_N][2])
{
	double lx = 0, ly = 0, rx = 0, ry = 0;
	for (int i = 36; i < 42; i++) {
		lx += pts[i][0];
		ly += pts[i][1];
		rx += pts[i + 6][0];
		ry += pts[i + 6][1];
	}
	return atan2(ry - ly, rx - lx) * 180.0 / M_PI;
}

/* On a face with little roll the similarity chip is face-api's up to the
 * flooring of its square, so the descriptors nearly agree; the similarity
 * crop holds face-api's square whatever the roll.  Under valgrind only the
 * crops. */
START_TEST(similarity_is_close_to_faceapi_on_upright_faces)
{
	static float buf[FNET_INPUT * FNET_INPUT * 3];
	int n = demo_faces(), upright = 0;
	double worst_up = 0;
	rig r;
	img im = {0};
	const char *cur = NULL;

	if (!under_valgrind())
		rig_open(&r);
	for (int i = 0; i < n; i++) {
		const gface *g = &gf[i];
		nn_t chip = {FNET_INPUT, FNET_INPUT, 3, buf};
		float ds[FNET_DIM], da[FNET_DIM];
		int cs[4], ca[4];
		double roll = roll_deg(g->pts);
		image_of(g, &im, &cur);
		ck_assert_int_eq(fnet_chip(im.px, im.w, im.h, im.w * 3, g->pts, NULL,
					   FNET_ALIGN_FACEAPI, &chip, ca), 0);
		ck_assert_int_eq(fnet_chip(im.px, im.w, im.h, im.w * 3, g->pts, NULL,
					   FNET_ALIGN_SIMILARITY, &chip, cs), 0);
		/* the rotated chip's bounds hold face-api's square, give or
		 * take its flooring */
		ck_assert_int_le(cs[0], ca[0] + 1);
		ck_assert_int_le(cs[1], ca[1] + 1);
		ck_assert_int_ge(cs[0] + cs[2], ca[0] + ca[2] - 1);
		ck_assert_int_ge(cs[1] + cs[3], ca[1] + ca[3] - 1);
		if (under_valgrind())
			continue;
		ck_assert_int_eq(fnet_descriptor(r.f, &r.a, im.px, im.w, im.h,
						 im.w * 3, g->pts, FNET_ALIGN_FACEAPI,
						 da, NULL), 0);
		ck_assert_int_eq(fnet_descriptor(r.f, &r.a, im.px, im.w, im.h,
						 im.w * 3, g->pts,
						 FNET_ALIGN_SIMILARITY, ds, NULL), 0);
		double d = l2(ds, da);
		printf("facenet: %s_face%d roll %6.1f deg: similarity vs face-api L2 %.4f, crop %d,%d %dx%d vs %d,%d %dx%d\n",
		       g->stem, g->k, roll, d, cs[0], cs[1], cs[2], cs[3], ca[0],
		       ca[1], ca[2], ca[3]);
		if (fabs(roll) < 2.0) {
			upright++;
			worst_up = fmax(worst_up, d);
			ck_assert_msg(d < 0.15, "%s_face%d (roll %.1f): similarity "
				      "vs face-api L2 %g", g->stem, g->k, roll, d);
		}
	}
	if (!under_valgrind()) {
		ck_assert_int_eq(upright, 5);
		printf("facenet: %d upright faces (|roll| < 2 deg): similarity vs face-api max L2 %.4f\n",
		       upright, worst_up);
		rig_close(&r);
	}
	img_free(&im);
}
END_TEST

/* im rotated by deg around (cx, cy) (bilinear, zero outside) into out,
 * computed within radius rad of the centre only (zero beyond); a point p of
 * im goes to c + R (p - c). */
static void rotate_image(const img *im, double cx, double cy, double deg,
			 double rad, img *out)
{
	double t = deg * M_PI / 180.0, c = cos(t), s = sin(t);
	int x0 = (int)fmax(0, cx - rad), x1 = (int)fmin(im->w, cx + rad);
	int y0 = (int)fmax(0, cy - rad), y1 = (int)fmin(im->h, cy + rad);
	out->w = im->w;
	out->h = im->h;
	out->px = calloc((size_t)im->w * im->h, 3);
	ck_assert_ptr_nonnull(out->px);
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++) {
			/* source = c + R^-1 (p - c) */
			double dx = x - cx, dy = y - cy;
			double sx = cx + c * dx + s * dy, sy = cy - s * dx + c * dy;
			int ix = (int)floor(sx), iy = (int)floor(sy);
			double ax = sx - ix, ay = sy - iy;
			for (int ch = 0; ch < 3; ch++) {
				double v[4];
				for (int k = 0; k < 4; k++) {
					int xx = ix + (k & 1), yy = iy + (k >> 1);
					v[k] = xx < 0 || yy < 0 || xx >= im->w || yy >= im->h ? 0.0 :
						im->px[((size_t)yy * im->w + xx) * 3 + ch];
				}
				double top = v[0] + (v[1] - v[0]) * ax;
				double bot = v[2] + (v[3] - v[2]) * ax;
				double r = top + (bot - top) * ay;
				out->px[((size_t)y * im->w + x) * 3 + ch] =
					(uint8_t)lround(r < 0 ? 0 : r > 255 ? 255 : r);
			}
		}
}

/* Mean absolute difference of two chips, in normalised units (1/255). */
static double chip_diff(const float *a, const float *b)
{
	double s = 0;
	for (int i = 0; i < FNET_INPUT * FNET_INPUT * 3; i++)
		s += fabs((double)a[i] - b[i]);
	return s / (FNET_INPUT * FNET_INPUT * 3);
}

/* An upright face and the same picture rolled 20 degrees around the face
 * (landmarks rotated likewise): the similarity chip and descriptor barely
 * move, face-api's move much more.  Under valgrind one face, chips only. */
START_TEST(similarity_alignment_is_rotation_invariant)
{
	static const struct {
		const char *stem;
		int k;
	} faces[] = {{"sample1", 0}, {"sample6", 1}, {"sample5", 1}};
	static float chips[4][FNET_INPUT * FNET_INPUT * 3];
	int n = under_valgrind() ? 1 : 3;
	rig r;

	if (!under_valgrind())
		rig_open(&r);
	for (int i = 0; i < n; i++) {
		const gface *g = golden_face(faces[i].stem, faces[i].k);
		float rp[LMK_N][2], d[4][FNET_DIM];
		double cx = 0, cy = 0, t = 20.0 * M_PI / 180.0;
		nn_t ch[4];
		img im, rot;

		load_image(g->image, &im);
		for (int p = 36; p < 68; p++) {
			cx += g->pts[p][0] / 32.0;
			cy += g->pts[p][1] / 32.0;
		}
		rotate_image(&im, cx, cy, 20.0, 2.0 * g->crop[2], &rot);
		for (int p = 0; p < LMK_N; p++) {
			double dx = g->pts[p][0] - cx, dy = g->pts[p][1] - cy;
			rp[p][0] = (float)(cx + cos(t) * dx - sin(t) * dy);
			rp[p][1] = (float)(cy + sin(t) * dx + cos(t) * dy);
		}
		ck_assert_double_lt(fabs(roll_deg(rp) - roll_deg(g->pts) - 20.0), 1e-3);
		/* 0, 1: similarity before and after; 2, 3: face-api */
		for (int k = 0; k < 4; k++) {
			const img *src = k & 1 ? &rot : &im;
			ch[k] = (nn_t){FNET_INPUT, FNET_INPUT, 3, chips[k]};
			ck_assert_int_eq(fnet_chip(src->px, src->w, src->h, src->w * 3,
						   k & 1 ? (const float(*)[2])rp : g->pts,
						   NULL, k < 2 ? FNET_ALIGN_SIMILARITY :
						   FNET_ALIGN_FACEAPI, &ch[k], NULL), 0);
		}
		double cs = chip_diff(chips[0], chips[1]), ca = chip_diff(chips[2], chips[3]);
		printf("facenet: %s_face%d rolled 20 deg: chips move %.4f (similarity), %.4f (face-api)\n",
		       g->stem, g->k, cs, ca);
		ck_assert_msg(cs < 0.25 * ca, "%s_face%d: similarity chip moved %g, face-api's %g",
			      g->stem, g->k, cs, ca);
		if (!under_valgrind()) {
			for (int k = 0; k < 4; k++) {
				nn_arena_reset(&r.a);
				ck_assert_int_eq(fnet_forward(r.f, &r.a, &ch[k], d[k]), 0);
			}
			double ds = l2(d[0], d[1]), da = l2(d[2], d[3]);
			printf("facenet: %s_face%d rolled 20 deg: descriptor moves %.4f (similarity), %.4f (face-api)\n",
			       g->stem, g->k, ds, da);
			ck_assert_msg(ds < 0.25 * da && ds < 0.1,
				      "%s_face%d rolled 20 deg: similarity moved %g, face-api %g",
				      g->stem, g->k, ds, da);
		}
		img_free(&rot);
		img_free(&im);
	}
	if (!under_valgrind())
		rig_close(&r);
}
END_TEST

/* The recognition model with one edit to its manifest. */
static void load_edited(const char *from, const char *to, mdl *m)
{
	rt_model_edited("face_recognition_model", from, to, m);
}

START_TEST(missing_tensor_is_named)
{
	mdl m;
	char err[256] = "";

	load_edited("\"conv128_1/conv2/scale/biases\"",
		    "\"conv128_1/conv2/scale/biasez\"", &m);
	ck_assert_ptr_null(fnet_new(&m, err, sizeof err));
	ck_assert_msg(strstr(err, "conv128_1/conv2/scale/biases") &&
			      strstr(err, "missing"),
		      "error: %s", err);
	mdl_free(&m);
}
END_TEST

START_TEST(wrong_shape_is_named_with_both_shapes)
{
	mdl m;
	char err[256] = "";

	/* same element count, so the bin still fits */
	load_edited("\"name\":\"fc\",\"shape\":[256,128]",
		    "\"name\":\"fc\",\"shape\":[128,256]", &m);
	ck_assert_ptr_null(fnet_new(&m, err, sizeof err));
	ck_assert_msg(strstr(err, "fc") && strstr(err, "128") && strstr(err, "256"),
		      "error: %s", err);
	mdl_free(&m);
	load_edited("\"name\":\"conv32_down/conv/filters\",\"shape\":[7,7,3,32]",
		    "\"name\":\"conv32_down/conv/filters\",\"shape\":[7,7,32,3]", &m);
	ck_assert_ptr_null(fnet_new(&m, err, sizeof err));
	ck_assert_msg(strstr(err, "conv32_down/conv/filters"), "error: %s", err);
	mdl_free(&m);
}
END_TEST

/* fnet_arena_floats is enough (and the peak stays within it); a smaller
 * arena is RECOG_ENOMEM, not a crash; degenerate landmarks (one spot, far
 * outside the picture, NaN) are RECOG_EINVAL. */
START_TEST(arena_and_degenerate_faces)
{
	rig r;
	img im;
	float desc[FNET_DIM], pts[LMK_N][2];
	const gface *g = golden_face("sample1", 0);
	size_t need = fnet_arena_floats();

	rig_open(&r);
	load_image(g->image, &im);
	size_t peak = need, last = 200000;
	if (!under_valgrind()) { /* a whole pass is ~20 s there */
		ck_assert_int_eq(fnet_descriptor(r.f, &r.a, im.px, im.w, im.h,
						 im.w * 3, g->pts, FNET_ALIGN_SIMILARITY,
						 desc, NULL), 0);
		ck_assert_uint_le(r.a.peak, need);
		printf("facenet: arena %zu floats (%.1f MiB), peak %zu\n", need,
		       need * 4.0 / 1048576.0, r.a.peak);
		peak = r.a.peak;
		last = peak - 1;
	}
	/* any arena short of the peak fails cleanly (under valgrind only
	 * the short ones that stop before the net's bulk) */
	for (size_t cap = 1000;; cap = cap * 2 < last ? cap * 2 : last) {
		nn_arena small;
		nn_arena_init(&small, r.buf, cap);
		ck_assert_int_eq(fnet_descriptor(r.f, &small, im.px, im.w, im.h,
						 im.w * 3, g->pts, FNET_ALIGN_FACEAPI,
						 desc, NULL), RECOG_ENOMEM);
		if (cap == last)
			break;
	}
	/* every point at one spot: an empty square */
	for (int i = 0; i < LMK_N; i++)
		pts[i][0] = pts[i][1] = 100.0f;
	ck_assert_int_eq(fnet_descriptor(r.f, &r.a, im.px, im.w, im.h, im.w * 3,
					 (const float(*)[2])pts, FNET_ALIGN_FACEAPI,
					 desc, NULL), RECOG_EINVAL);
	ck_assert_int_eq(fnet_descriptor(r.f, &r.a, im.px, im.w, im.h, im.w * 3,
					 (const float(*)[2])pts, FNET_ALIGN_SIMILARITY,
					 desc, NULL), RECOG_EINVAL);
	/* the face moved far outside the picture */
	for (int i = 0; i < LMK_N; i++) {
		pts[i][0] = g->pts[i][0] + 5000.0f;
		pts[i][1] = g->pts[i][1];
	}
	ck_assert_int_eq(fnet_descriptor(r.f, &r.a, im.px, im.w, im.h, im.w * 3,
					 (const float(*)[2])pts, FNET_ALIGN_FACEAPI,
					 desc, NULL), RECOG_EINVAL);
	ck_assert_int_eq(fnet_descriptor(r.f, &r.a, im.px, im.w, im.h, im.w * 3,
					 (const float(*)[2])pts, FNET_ALIGN_SIMILARITY,
					 desc, NULL), RECOG_EINVAL);
	pts[0][0] = NAN;
	ck_assert_int_eq(fnet_descriptor(r.f, &r.a, im.px, im.w, im.h, im.w * 3,
					 (const float(*)[2])pts, FNET_ALIGN_SIMILARITY,
					 desc, NULL), RECOG_EINVAL);
	img_free(&im);
	rig_close(&r);
}
END_TEST

int main(void)
{
	const TTest *net_tests[] = {forward_matches_reference_on_aligned_crops,
				    arena_and_degenerate_faces, NULL};
	const TTest *align_tests[] = {
		aligned_crop_matches_reference,
		descriptor_matches_reference_on_demo_faces,
		left_edge_face_matches_reference_with_landmark_crop,
		similarity_is_close_to_faceapi_on_upright_faces,
		similarity_alignment_is_rotation_invariant, NULL};
	const TTest *bind_tests[] = {missing_tensor_is_named,
				     wrong_shape_is_named_with_both_shapes, NULL};
	Suite *s = suite_create("recog_facenet");

	rt_tcase(s, "net", NULL, NULL, 120, net_tests);
	rt_tcase(s, "alignment", NULL, NULL, 120, align_tests);
	rt_tcase(s, "binding", NULL, NULL, 60, bind_tests);
	return tu_run(s);
}
