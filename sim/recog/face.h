/* face.h -- the face pipeline: the three nets composed as face-api's
 * detectAllFaces().withFaceLandmarks().withFaceDescriptors() does it:
 * detection (ssd.h) on the whole picture, then per face, in the detector's
 * order, the 68 landmarks from its box (landmark.h) and the 128-d
 * descriptor from its landmarks (facenet.h).  Pure: no I/O, no heap; the
 * nets are borrowed and every activation lives in the caller's arena. */
#ifndef CAMSIM_FACE_H
#define CAMSIM_FACE_H

#include "facenet.h"
#include "landmark.h"
#include "nn.h"
#include "ssd.h"

#include <stdint.h>

/* Most faces one call detects (face-api's NMS keeps at most 100). */
#define FACE_MAX 100

/* The three nets, borrowed (they must outlive every call); fn may be NULL
 * when no descriptor is asked for. */
typedef struct face_core {
	const ssd *det;
	const lmk *lm;
	const fnet *fn;
} face_core;

typedef struct face_opts {
	float min_score;  /* detector threshold, score > min_score; face-api 0.5 */
	fnet_align align; /* descriptor alignment */
	int want_desc;    /* 0: detection and landmarks only */
	int max_faces;    /* at most this many faces, the best scores; <= 0: no
			   * limit but max and FACE_MAX */
} face_opts;

/* min_score 0.5, the similarity alignment, descriptors, no face limit. */
face_opts face_opts_default(void);

typedef struct face_res {
	face_box box;               /* the detector's box and score */
	float pts[LMK_N][2];        /* landmarks, image pixels */
	int det_crop[4];            /* face-api's detCrop x, y, w, h */
	int aligned_crop[4];        /* fnet_descriptor's crop (see facenet.h) */
	float desc[FNET_DIM];       /* when has_desc */
	int has_desc;               /* 0: not asked, or alignment square empty */
} face_res;

/* Milliseconds of each stage of one face_detect_all call (all faces). */
typedef struct face_times {
	double detect_ms, landmarks_ms, descriptors_ms;
} face_times;

/* Floats of arena one call needs: the largest of the three nets' (each
 * stage resets the arena on entry, nothing is kept in it between them). */
size_t face_arena_floats(void);

/* Every face of an RGB picture (w x h pixels, stride bytes per row) into
 * out[0..max), score-descending: box, landmarks, detCrop and (when
 * o->want_desc) descriptor and its crop.  o NULL: face_opts_default().  A
 * face whose clipped box is empty (a detection under a pixel wide) is left
 * out, as face-api's extractFaceTensors drops it; a face whose alignment
 * square is empty is kept with has_desc 0 (face-api would fail on it).  t
 * (may be NULL) receives the time of each stage.  Returns the number of
 * faces written, RECOG_EINVAL (NULL core or net, no picture, a side < 1,
 * stride < 3 * w, want_desc without fn, out NULL with max > 0) or
 * RECOG_ENOMEM (arena smaller than face_arena_floats()). */
int face_detect_all(const face_core *c, nn_arena *a, const uint8_t *rgb,
		    int w, int h, int stride, const face_opts *o,
		    face_res *out, int max);
int face_detect_all_timed(const face_core *c, nn_arena *a,
			  const uint8_t *rgb, int w, int h, int stride,
			  const face_opts *o, face_res *out, int max,
			  face_times *t);

#endif
