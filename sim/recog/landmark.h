/* landmark.h -- the 68 face landmarks (iBUG-300W order) with face-api's
 * face_landmark_68 net: the detection box clipped and floored into an
 * integer crop, padded to a centred square, legacy bilinear resize to
 * 112x112, (x - mean) / 255, four dense blocks, avgpool, fc -> 136, and the
 * un-padding back to image pixels with face-api's unfloored-origin quirk.
 * Pure: no I/O. */
#ifndef CAMSIM_LANDMARK_H
#define CAMSIM_LANDMARK_H

#include "model.h"
#include "nn.h"
#include "ssd.h"

#define LMK_N 68
#define LMK_INPUT 112

typedef struct lmk lmk;

/* As ssd_new, for face_landmark_68 weights. */
lmk *lmk_new(const mdl *m, char *err, size_t errlen);
void lmk_free(lmk *l);
size_t lmk_arena_floats(void);

/* The 68 points of the face in box, in image pixels, into pts; crop (may
 * be NULL) receives face-api's integer detCrop x, y, w, h.  Returns 0,
 * RECOG_EINVAL when the clipped box is empty (see lmk_crop) or an argument
 * is wrong (NULL, a side < 1, stride < 3 * w), RECOG_ENOMEM when the arena
 * is too small.  The arena is reset on entry. */
int lmk_detect(const lmk *l, nn_arena *a, const uint8_t *rgb, int w, int h,
	       int stride, const face_box *box, float pts[LMK_N][2],
	       int crop[4]);

/* The net alone on a 112x112x3 input already normalised; raw (may be
 * NULL) receives the 136 outputs.  The arena is not reset (in may live in
 * it): the pass allocates above what is in use and gives it back.
 * Returns 0, RECOG_EINVAL (not a 112x112x3 input), RECOG_ENOMEM.  For tests
 * and the layer comparison. */
int lmk_forward(const lmk *l, nn_arena *a, const nn_t *in, float raw[136]);

/* lmk_forward that also times its stages (ms may be NULL): ms[0..3] the
 * four dense blocks, ms[4] avgpool + fc, in milliseconds.  For the
 * benchmark. */
#define LMK_STAGES 5
int lmk_forward_stages(const lmk *l, nn_arena *a, const nn_t *in,
		       float raw[136], double ms[LMK_STAGES]);

/* face-api's detCrop of box in a w x h image (Box.clipAtImageBorders:
 * x, y clipped to 0, width and height to the image, then each of the four
 * floored) into crop x, y, w, h.  0, or RECOG_EINVAL when a floored side is
 * 0 (the box lies outside the image or is under a pixel) or a member of
 * box is not finite. */
int lmk_crop(int w, int h, const face_box *box, int crop[4]);

#endif
