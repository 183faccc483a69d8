/* facenet.h -- the 128-d face descriptor with face-api's
 * face_recognition_model (a dlib-style ResNet): the face is aligned from
 * its 68 landmarks into a 150x150 chip, normalised (x - mean) / 255, and
 * run through the net.  Two alignments: FNET_ALIGN_FACEAPI reproduces
 * face-api exactly (an unrotated square around eyes and mouth, floored,
 * clipped, padded, resized); FNET_ALIGN_SIMILARITY (the default) also
 * removes the head's roll, with a similarity transform (rotation + scale)
 * from the eye and mouth centres, sampled once.  Pure: no I/O. */
#ifndef CAMSIM_FACENET_H
#define CAMSIM_FACENET_H

#include "landmark.h"
#include "model.h"
#include "nn.h"

#define FNET_DIM 128
#define FNET_INPUT 150

typedef enum fnet_align {
	FNET_ALIGN_SIMILARITY = 0,
	FNET_ALIGN_FACEAPI = 1,
} fnet_align;

typedef struct fnet fnet;

fnet *fnet_new(const mdl *m, char *err, size_t errlen);
void fnet_free(fnet *f);
size_t fnet_arena_floats(void);

/* Descriptor of the face with landmarks pts (image pixels) in the RGB
 * image.  crop (may be NULL) receives, for FNET_ALIGN_FACEAPI, face-api's
 * integer alignedCrop x, y, w, h; for the similarity alignment the
 * axis-aligned bounds of the rotated chip (integers, clipped to the
 * image).  Returns 0, RECOG_EINVAL when the alignment square is empty (or
 * off the picture, or the points are not finite), RECOG_ENOMEM when the
 * arena is too small.  The arena is reset on entry.  For a face at the
 * left or top edge face-api also needs the landmark crop:
 * fnet_descriptor_det. */
int fnet_descriptor(const fnet *f, nn_arena *a, const uint8_t *rgb, int w,
		    int h, int stride, const float pts[LMK_N][2],
		    fnet_align align, float desc[FNET_DIM], int crop[4]);

/* fnet_descriptor with the landmark crop the points came from (det_crop:
 * lmk_detect's crop; only its w and h are used; NULL for none).  face-api's
 * alignDlib clamps its square to (det w + x) x (det h + y), because its
 * landmarks take the landmark crop's size for the image size; that only
 * bites for a face at the left or top edge of the picture, and only
 * FNET_ALIGN_FACEAPI uses it.  fnet_descriptor is this with NULL. */
int fnet_descriptor_det(const fnet *f, nn_arena *a, const uint8_t *rgb,
			int w, int h, int stride, const float pts[LMK_N][2],
			const int det_crop[4], fnet_align align,
			float desc[FNET_DIM], int crop[4]);

/* The chip alone: the normalised net input of the face into in (caller's
 * 150x150x3 tensor), crop and det_crop as above.  0 or RECOG_EINVAL. */
int fnet_chip(const uint8_t *rgb, int w, int h, int stride,
	      const float pts[LMK_N][2], const int det_crop[4],
	      fnet_align align, nn_t *in, int crop[4]);

/* The net alone on a 150x150x3 normalised input.  The arena is not reset
 * (in may live in it); the pass allocates above what is in use.  Returns
 * 0, RECOG_EINVAL (not a 150x150x3 input), RECOG_ENOMEM. */
int fnet_forward(const fnet *f, nn_arena *a, const nn_t *in,
		 float desc[FNET_DIM]);

#endif
