/* check_recog_face.c -- sim/recog/face.c, the whole pipeline (detector,
 * landmarks, descriptor with face-api's alignment) against the TF.js
 * reference (fixtures/recog/golden): the six demo photos as camsim decodes
 * them give the reference's 22 faces with their boxes, scores, landmarks,
 * detCrop, alignedCrop and descriptors, and so do pictures cut through
 * faces (clip.jsonl, edge.jsonl); the options
 * (face limit, no descriptor, threshold), a picture without a face, the
 * argument and arena contracts.  Under valgrind (VALGRIND set) only the
 * contracts run: one detector pass costs minutes there (each net's own
 * test runs it under valgrind); ASan+UBSan run everything.  Needs `make
 * models`. */
#include "face.h"
#include "image.h"
#include "recog.h"
#include "recogtest.h"
#include "core_err.h"
#include "testutil.h"

#include <math.h>

/* Within this of the reference: boxes and landmarks in pixels, scores,
 * descriptors as L2 distance (the reference's own wasm and cpu backends
 * differ by 2.3e-4 px, 1.5e-4 px, 8e-7 and 1.4e-6). */
#define TOL_BOX 0.01
#define TOL_PTS 0.01
#define TOL_SCORE 1e-4
#define TOL_DESC 1e-4
#define MAXF 8

static mdl m_det, m_lm, m_fn;
static face_core core;
static nn_arena arena;
static float *arena_buf;

static int valgrind(void)
{
	return getenv("VALGRIND") != NULL;
}

static void setup(void)
{
	char err[256] = "";
	rt_model("ssd_mobilenetv1_model", &m_det);
	rt_model("face_landmark_68_model", &m_lm);
	rt_model("face_recognition_model", &m_fn);
	core.det = ssd_new(&m_det, err, sizeof err);
	ck_assert_msg(core.det != NULL, "ssd_new: %s", err);
	core.lm = lmk_new(&m_lm, err, sizeof err);
	ck_assert_msg(core.lm != NULL, "lmk_new: %s", err);
	core.fn = fnet_new(&m_fn, err, sizeof err);
	ck_assert_msg(core.fn != NULL, "fnet_new: %s", err);
	arena_buf = rt_arena(&arena, face_arena_floats());
}

static void teardown(void)
{
	ssd_free((ssd *)core.det);
	lmk_free((lmk *)core.lm);
	fnet_free((fnet *)core.fn);
	memset(&core, 0, sizeof core);
	mdl_free(&m_det);
	mdl_free(&m_lm);
	mdl_free(&m_fn);
	free(arena_buf);
	arena_buf = NULL;
}

/* ------------------------------------------------------------ golden */

typedef struct worst {
	double box, score, pts, desc;
	int faces;
} worst;

/* Face r against golden face gf: every member within its tolerance. */
static void check_face(const char *what, const face_res *r,
		       const rt_gface *gf, worst *w)
{
	const float box[4] = {r->box.x, r->box.y, r->box.w, r->box.h};
	for (int k = 0; k < 4; k++) {
		double d = fabs(box[k] - gf->box[k]);
		ck_assert_msg(d < TOL_BOX, "%s box[%d] %.5f, golden %.5f", what, k,
			      box[k], gf->box[k]);
		w->box = fmax(w->box, d);
	}
	double ds = fabs(r->box.score - gf->score);
	ck_assert_msg(ds < TOL_SCORE, "%s score %.7f, golden %.7f", what,
		      r->box.score, gf->score);
	w->score = fmax(w->score, ds);
	for (int k = 0; k < 4; k++) {
		ck_assert_msg(r->det_crop[k] == gf->det_crop[k],
			      "%s detCrop[%d] %d, golden %d", what, k, r->det_crop[k],
			      gf->det_crop[k]);
		ck_assert_msg(r->aligned_crop[k] == gf->aligned_crop[k],
			      "%s alignedCrop[%d] %d, golden %d", what, k,
			      r->aligned_crop[k], gf->aligned_crop[k]);
	}
	for (int i = 0; i < LMK_N; i++)
		for (int k = 0; k < 2; k++) {
			double d = fabs(r->pts[i][k] - gf->pts[i][k]);
			ck_assert_msg(d < TOL_PTS, "%s landmark %d[%d] %.5f, golden %.5f",
				      what, i, k, r->pts[i][k], gf->pts[i][k]);
			w->pts = fmax(w->pts, d);
		}
	ck_assert(r->has_desc);
	double s = 0;
	for (int k = 0; k < FNET_DIM; k++) {
		double d = r->desc[k] - gf->desc[k];
		s += d * d;
	}
	ck_assert_msg(sqrt(s) < TOL_DESC, "%s descriptor at L2 %g", what, sqrt(s));
	w->desc = fmax(w->desc, sqrt(s));
	w->faces++;
}

/* The golden face nearest to box r (face-api's order is by score; two
 * faces of sample5 score within 1e-4 of each other). */
static const rt_gface *nearest(const rt_gimage *gi, const face_box *r)
{
	const rt_gface *best = NULL;
	double bd = INFINITY;
	for (int f = 0; f < gi->n; f++) {
		double d = fabs(r->x - gi->face[f].box[0]) + fabs(r->y - gi->face[f].box[1]);
		if (d < bd) {
			bd = d;
			best = &gi->face[f];
		}
	}
	return best;
}

static face_opts faceapi_opts(void)
{
	face_opts o = face_opts_default();
	o.align = FNET_ALIGN_FACEAPI;
	return o;
}

/* ------------------------------------------------------------- tests */

/* Every picture of golden file against the pipeline with face-api's
 * alignment; the worst differences into w. */
static void check_file(const char *file, const int *cut, int nimages,
		       worst *w)
{
	static rt_gimage g[24];
	int ng = rt_golden(file, cut, g, 24);
	face_opts o = faceapi_opts();
	face_times tm;

	ck_assert_int_eq(ng, nimages);
	for (int i = 0; i < ng; i++) {
		const uint8_t *px;
		int stride;
		img im = rt_golden_photo(&g[i], &px, &stride);
		face_res r[MAXF + 4];
		int n = face_detect_all_timed(&core, &arena, px, g[i].w, g[i].h,
					      stride, &o, r, MAXF + 4, &tm);
		ck_assert_msg(n == g[i].n, "%s %s: %d faces, golden %d", file,
			      g[i].path, n, g[i].n);
		for (int f = 0; f < n; f++) {
			char what[300];
			snprintf(what, sizeof what, "%s %.200s face %d", file,
				 g[i].path, f);
			if (f > 0)
				ck_assert(r[f].box.score <= r[f - 1].box.score);
			check_face(what, &r[f], nearest(&g[i], &r[f].box), w);
		}
		printf("  %s %s (%dx%d): %d faces, detect %.1f ms, landmarks %.1f ms, "
		       "descriptors %.1f ms\n", file, g[i].path, g[i].w, g[i].h, n,
		       tm.detect_ms, tm.landmarks_ms, tm.descriptors_ms);
		ck_assert(tm.detect_ms > 0 && (n == 0 || (tm.landmarks_ms > 0 &&
							  tm.descriptors_ms > 0)));
		img_free(&im);
	}
	ck_assert_msg(arena.peak <= face_arena_floats(), "peak %zu > %zu",
		      arena.peak, face_arena_floats());
}

static void print_worst(const char *what, const worst *w)
{
	printf("  %s: %d faces, crops exact, max box diff %.2e px, score %.2e, "
	       "landmarks %.2e px, descriptor L2 %.2e\n", what, w->faces, w->box,
	       w->score, w->pts, w->desc);
}

START_TEST(demo_photos_match_the_reference)
{
	worst w = {0};

	if (valgrind())
		return;
	check_file("demo.jsonl", NULL, 6, &w);
	ck_assert_int_eq(w.faces, 22);
	print_worst("demo photos", &w);
}
END_TEST

/* Faces the picture's border cuts: clip.jsonl (sample1's top 560 and 600
 * rows: boxes reach below the picture, so detCrop and alignedCrop are
 * clipped, one alignedCrop is not square) and edge.jsonl (sample6 from
 * x = 600: alignDlib's clamp to the landmark crop). */
START_TEST(faces_at_the_border_match_the_reference)
{
	static const int edge_cut[4] = {600, 0, 1320, 1537};
	worst w = {0};

	if (valgrind())
		return;
	check_file("clip.jsonl", NULL, 2, &w);
	ck_assert_int_eq(w.faces, 6);
	check_file("edge.jsonl", edge_cut, 1, &w);
	ck_assert_int_eq(w.faces, 9);
	print_worst("border pictures", &w);
}
END_TEST

/* The project's own fixtures (make faces): enrolment crops, camera frames,
 * two faces, no face, rotated, masked, shrunk, blurred and JPEG-10 faces,
 * near and far; faces.jsonl holds each file's sha256. */
START_TEST(face_fixtures_match_the_reference)
{
	worst w = {0};

	if (valgrind())
		return;
	check_file("faces.jsonl", NULL, 18, &w);
	ck_assert_int_eq(w.faces, 20);
	print_worst("face fixtures", &w);
}
END_TEST

/* Options: the face limit keeps the best scores, no descriptor needs no
 * descriptor net, a threshold above every score finds nothing, the
 * similarity alignment gives another crop and descriptor. */
START_TEST(options_limit_and_skip_stages)
{
	static rt_gimage g[1];
	const uint8_t *px0;
	int stride0;
	ck_assert_int_eq(rt_golden("demo.jsonl", NULL, g, 1), 1);
	img im = rt_golden_photo(&g[0], &px0, &stride0);
	face_res r[MAXF];
	face_opts o = faceapi_opts();
	face_core nodesc = {core.det, core.lm, NULL};
	worst w = {0};

	if (valgrind()) {
		img_free(&im);
		return;
	}
	o.max_faces = 2;
	ck_assert_int_eq(face_detect_all(&core, &arena, px0, im.w, im.h, stride0,
					 &o, r, MAXF), 2);
	check_face("limit 2, face 0", &r[0], &g[0].face[0], &w);
	check_face("limit 2, face 1", &r[1], &g[0].face[1], &w);
	/* max below max_faces wins */
	o.max_faces = 0;
	ck_assert_int_eq(face_detect_all(&core, &arena, px0, im.w, im.h, stride0,
					 &o, r, 1), 1);
	check_face("max 1", &r[0], &g[0].face[0], &w);

	o.want_desc = 0;
	ck_assert_int_eq(face_detect_all(&nodesc, &arena, px0, im.w, im.h,
					 stride0, &o, r, MAXF), g[0].n);
	for (int f = 0; f < g[0].n; f++) {
		ck_assert_int_eq(r[f].has_desc, 0);
		ck_assert_int_eq(r[f].det_crop[2], g[0].face[f].det_crop[2]);
		ck_assert_int_eq(r[f].aligned_crop[2], 0);
	}

	o.min_score = 0.999f;
	ck_assert_int_eq(face_detect_all(&nodesc, &arena, px0, im.w, im.h,
					 stride0, &o, r, MAXF), 0);

	/* the default: similarity alignment, descriptors on */
	ck_assert_int_eq(face_detect_all(&core, &arena, px0, im.w, im.h, stride0,
					 NULL, r, MAXF), g[0].n);
	for (int f = 0; f < g[0].n; f++) {
		ck_assert(r[f].has_desc);
		double s = 0;
		for (int k = 0; k < FNET_DIM; k++) {
			double d = r[f].desc[k] - g[0].face[f].desc[k];
			s += d * d;
		}
		/* another chip, so another descriptor (how far it lies is
		 * facenet's business, not the pipeline's) */
		printf("  similarity vs face-api alignment, face %d: L2 %.3f\n", f,
		       sqrt(s));
		ck_assert_msg(sqrt(s) > 1e-3 && isfinite(s), "face %d: %g", f, sqrt(s));
	}
	img_free(&im);
}
END_TEST

START_TEST(picture_without_a_face_gives_none)
{
	int w = 320, h = 240;
	uint8_t *px = malloc((size_t)w * h * 3);
	face_res r[MAXF];

	ck_assert_ptr_nonnull(px);
	if (valgrind()) {
		free(px);
		return;
	}
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w * 3; x++)
			px[(size_t)y * w * 3 + x] = (uint8_t)(96 + (x / 3 + y) % 32);
	ck_assert_int_eq(face_detect_all(&core, &arena, px, w, h, w * 3, NULL, r,
					 MAXF), 0);
	free(px);
}
END_TEST

START_TEST(bad_arguments_are_einval)
{
	uint8_t px[4 * 4 * 3] = {0};
	face_res r[2];
	face_opts o = face_opts_default();
	face_core nodet = {NULL, core.lm, core.fn};
	face_core nolm = {core.det, NULL, core.fn};
	face_core nofn = {core.det, core.lm, NULL};

	ck_assert_int_eq(face_detect_all(NULL, &arena, px, 4, 4, 12, &o, r, 2), RECOG_EINVAL);
	ck_assert_int_eq(face_detect_all(&nodet, &arena, px, 4, 4, 12, &o, r, 2), RECOG_EINVAL);
	ck_assert_int_eq(face_detect_all(&nolm, &arena, px, 4, 4, 12, &o, r, 2), RECOG_EINVAL);
	ck_assert_int_eq(face_detect_all(&nofn, &arena, px, 4, 4, 12, &o, r, 2), RECOG_EINVAL);
	ck_assert_int_eq(face_detect_all(&core, NULL, px, 4, 4, 12, &o, r, 2), RECOG_EINVAL);
	ck_assert_int_eq(face_detect_all(&core, &arena, NULL, 4, 4, 12, &o, r, 2), RECOG_EINVAL);
	ck_assert_int_eq(face_detect_all(&core, &arena, px, 0, 4, 12, &o, r, 2), RECOG_EINVAL);
	ck_assert_int_eq(face_detect_all(&core, &arena, px, 4, 0, 12, &o, r, 2), RECOG_EINVAL);
	ck_assert_int_eq(face_detect_all(&core, &arena, px, 4, 4, 11, &o, r, 2), RECOG_EINVAL);
	ck_assert_int_eq(face_detect_all(&core, &arena, px, 4, 4, 12, &o, NULL, 2), RECOG_EINVAL);
	ck_assert_int_eq(face_detect_all(&core, &arena, px, 4, 4, 12, &o, r, -1), RECOG_EINVAL);
	o.align = (fnet_align)7;
	ck_assert_int_eq(face_detect_all(&core, &arena, px, 4, 4, 12, &o, r, 2), RECOG_EINVAL);
	/* nothing asked: nothing run, no output needed */
	o = face_opts_default();
	ck_assert_int_eq(face_detect_all(&core, &arena, px, 4, 4, 12, &o, NULL, 0), 0);
}
END_TEST

START_TEST(small_arena_is_enomem)
{
	uint8_t px[8 * 8 * 3] = {0};
	face_res r[2];
	nn_arena small;

	ck_assert_int_eq(face_arena_floats(), ssd_arena_floats() > lmk_arena_floats() ?
			 (ssd_arena_floats() > fnet_arena_floats() ? ssd_arena_floats() :
			  fnet_arena_floats()) :
			 (lmk_arena_floats() > fnet_arena_floats() ? lmk_arena_floats() :
			  fnet_arena_floats()));
	nn_arena_init(&small, arena_buf, 1000);
	ck_assert_int_eq(face_detect_all(&core, &small, px, 8, 8, 24, NULL, r, 2),
			 RECOG_ENOMEM);
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		demo_photos_match_the_reference,
		faces_at_the_border_match_the_reference,
		face_fixtures_match_the_reference, options_limit_and_skip_stages,
		picture_without_a_face_gives_none, bad_arguments_are_einval,
		small_arena_is_enomem, NULL};
	Suite *s = suite_create("recog_face");

	rt_tcase(s, "pipeline", setup, teardown, 300, tests);
	return tu_run(s);
}
