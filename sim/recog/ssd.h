/* ssd.h -- face detection with face-api's SSD MobileNetV1 (ssd_mobilenetv1
 * weights): the whole image zero-padded bottom/right to a square, legacy
 * bilinear resize to 512x512, x/127.5 - 1, MobileNetV1 + SSD heads, box
 * decoding with the model's anchors, face-api's NMS, boxes rescaled to
 * image pixels exactly as face-api reports detection.box.  Pure: no I/O. */
#ifndef CAMSIM_SSD_H
#define CAMSIM_SSD_H

#include "model.h"
#include "nn.h"

#define SSD_INPUT 512
/* Boxes the net scores: 32x32 pixels x 3 anchors + (16^2 + 8^2 + 4^2 +
 * 2^2 + 1) pixels x 6 anchors. */
#define SSD_ANCHORS 5118

/* A face as the detector reports it, in image pixels (floats, face-api's
 * detection.box: x, y of the top-left corner, width, height). */
typedef struct face_box {
	float x, y, w, h;
	float score; /* 0..1 */
} face_box;

typedef struct ssd ssd; /* the net's parameters; see ssd.c */

/* Checks every tensor of m the net uses and copies it into the ssd, the
 * convolution weights packed for gemm_run's kernel (gemm_resolve
 * (GEMM_AUTO) at this call), so that m may be freed afterwards; NULL with
 * err naming the tensor when one is missing or wrong, or when memory runs
 * out. */
ssd *ssd_new(const mdl *m, char *err, size_t errlen);
void ssd_free(ssd *s);

/* Floats of arena one ssd_detect needs, exactly its peak: two activation
 * regions (the first holding the row windows of the layers that run
 * streamed), the band scratch and the output buffers (about 9.2 MiB). */
size_t ssd_arena_floats(void);

/* Detects faces in an RGB image (w x h pixels, stride bytes per row):
 * boxes with score > min_score (face-api default 0.5) after NMS (IoU 0.5),
 * score-descending, at most max of them into out (max plays face-api's
 * maxResults, default 100).  As in face-api, a box is clipped to the
 * padded square, not to the image: a face that the bottom or right border
 * cuts may get one reaching past the image.  Returns the
 * number written (0..max), RECOG_ENOMEM when the arena is too small, or
 * RECOG_EINVAL (s or rgb NULL, w or h under 1, stride under 3 * w, max
 * negative, out NULL with max > 0).  The arena is reset on entry. */
int ssd_detect(const ssd *s, nn_arena *a, const uint8_t *rgb, int w, int h,
	       int stride, float min_score, face_box *out, int max);

/* The net's input (in: 512 x 512 x 3 floats) from an RGB image, as
 * face-api's toBatchTensor(512, false) and x / 127.5 - 1: the image padded
 * with zeros at the bottom and right to a square, TF's legacy bilinear
 * resize to 512 x 512 (none when the square is 512), in float.  Equal to
 * nn_resize_rgb8(rgb, stride, 0, 0, w, h, 0, 0, S, S, in, NULL, 127.5)
 * minus 1, S = max(w, h); faster.  For ssd_detect and the tests. */
void ssd_input(const uint8_t *rgb, int w, int h, int stride, float *in);

/* The output stage of ssd_detect on the net's raw outputs for a w x h
 * image: enc[SSD_ANCHORS][4] the box encodings (dy, dx, dh, dw; the
 * candidates' are overwritten by their decoded corners), logits
 * [SSD_ANCHORS][3] the class logits; scratch 3 * SSD_ANCHORS floats.
 * Decoding with the anchors and variances 10, 10, 5, 5, score = sigmoid of
 * logit 1, face-api's NMS (score > min_score, score-descending with ties
 * in anchor order, IoU > 0.5 suppresses, at most max kept), then the box
 * clamped to [0, 1] of the padded square and scaled to image pixels as
 * face-api's locateFaces and FaceDetection do (in double).  A box face-api
 * would refuse (a negative side: wholly outside the square) or whose
 * scaling is not finite is dropped.  Returns the number written, or
 * RECOG_EINVAL.  For ssd_detect and the tests. */
int ssd_decode(const ssd *s, float *enc, const float *logits, int w, int h,
	       float min_score, face_box *out, int max, float *scratch);

/* ssd_detect that also times its stages (ms may be NULL), in
 * milliseconds of the calling thread's CPU time (all of it when OpenBLAS
 * runs on one thread): ms[0] the resize and normalisation, ms[1] conv_0,
 * ms[2..14] the separable pairs conv_1..conv_13, ms[15] the prediction
 * layer's eight convolutions, ms[16] the six box predictors, ms[17] the
 * decoding, NMS and rescaling; ssd_stage_name[k] names stage k.  For the
 * benchmark. */
#define SSD_STAGES 18
extern const char *const ssd_stage_name[SSD_STAGES];
int ssd_detect_stages(const ssd *s, nn_arena *a, const uint8_t *rgb, int w,
		      int h, int stride, float min_score, face_box *out,
		      int max, double ms[SSD_STAGES]);

#endif
