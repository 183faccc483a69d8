/* face.c -- the face pipeline of face.h: detector, landmarks and
 * descriptor composed per face in the detector's order.  Owns only the
 * composition (which face goes on, what is kept, the stage clocks); the
 * arithmetic is the nets', the nets and the arena the caller's.  No I/O,
 * no heap. */
#include "face.h"
#include "core_err.h"

#include <string.h>
#include <time.h>

face_opts face_opts_default(void)
{
	face_opts o = {0.5f, FNET_ALIGN_SIMILARITY, 1, 0};
	return o;
}

static size_t max3(size_t a, size_t b, size_t c)
{
	size_t m = a > b ? a : b;
	return m > c ? m : c;
}

size_t face_arena_floats(void)
{
	return max3(ssd_arena_floats(), lmk_arena_floats(), fnet_arena_floats());
}

int face_detect_all_timed(const face_core *c, nn_arena *a,
			  const uint8_t *rgb, int w, int h, int stride,
			  const face_opts *o, face_res *out, int max,
			  face_times *t)
{
	face_opts def = face_opts_default();
	face_box box[FACE_MAX];
	int n, kept = 0, rc;
	double t0, t1;

	if (t)
		memset(t, 0, sizeof(*t));
	if (!o)
		o = &def;
	if (!c || !c->det || !c->lm || !a || !rgb || w < 1 || h < 1 ||
	    stride < 3 * w || max < 0 || (max > 0 && !out) ||
	    (o->want_desc && !c->fn) ||
	    (o->align != FNET_ALIGN_SIMILARITY && o->align != FNET_ALIGN_FACEAPI))
		return RECOG_EINVAL;
	int limit = max < FACE_MAX ? max : FACE_MAX;
	if (o->max_faces > 0 && o->max_faces < limit)
		limit = o->max_faces;
	if (limit == 0)
		return 0;

	t0 = nn_clock_ms(CLOCK_MONOTONIC);
	n = ssd_detect(c->det, a, rgb, w, h, stride, o->min_score, box, limit);
	if (n < 0)
		return n;
	t1 = nn_clock_ms(CLOCK_MONOTONIC);
	if (t)
		t->detect_ms = t1 - t0;

	for (int i = 0; i < n; i++) {
		face_res *r = &out[kept];
		memset(r, 0, sizeof(*r));
		r->box = box[i];
		t0 = nn_clock_ms(CLOCK_MONOTONIC);
		rc = lmk_detect(c->lm, a, rgb, w, h, stride, &box[i], r->pts,
				r->det_crop);
		t1 = nn_clock_ms(CLOCK_MONOTONIC);
		if (t)
			t->landmarks_ms += t1 - t0;
		if (rc == RECOG_EINVAL)
			continue; /* empty detCrop: face-api drops the face */
		if (rc < 0)
			return rc;
		if (o->want_desc) {
			/* with the detCrop: face-api's alignDlib clamps
			 * its square to the landmark crop's size */
			rc = fnet_descriptor_det(c->fn, a, rgb, w, h, stride,
						 (const float(*)[2])r->pts,
						 r->det_crop, o->align, r->desc,
						 r->aligned_crop);
			if (t)
				t->descriptors_ms += nn_clock_ms(CLOCK_MONOTONIC) - t1;
			/* the arguments were checked: EINVAL is an empty
			 * alignment square */
			if (rc < 0 && rc != RECOG_EINVAL)
				return rc;
			r->has_desc = rc == 0;
			if (!r->has_desc)
				memset(r->aligned_crop, 0, sizeof r->aligned_crop);
		}
		kept++;
	}
	return kept;
}

int face_detect_all(const face_core *c, nn_arena *a, const uint8_t *rgb,
		    int w, int h, int stride, const face_opts *o,
		    face_res *out, int max)
{
	return face_detect_all_timed(c, a, rgb, w, h, stride, o, out, max,
				     NULL);
}
