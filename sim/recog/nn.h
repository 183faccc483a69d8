/* nn.h -- the neural-network layers the three face networks use, on
 * single-image NHWC float32 tensors, with TensorFlow's conventions (HWIO
 * filters, 'same'/'valid' padding, legacy bilinear resize) so that results
 * match TF.js to float rounding.  Pure: no I/O, no malloc after the caller
 * has sized the arena; matrix products go to OpenBLAS (cblas_sgemm). */
#ifndef CAMSIM_NN_H
#define CAMSIM_NN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* One image's activations: h rows of w pixels of c channels, row-major,
 * channels innermost (TF's NHWC with N = 1).  d points into an arena. */
typedef struct nn_t {
	int h, w, c;
	float *d;
} nn_t;

/* A bump allocator over one caller-owned block.  Every layer output and
 * scratch buffer of one inference comes from it; nn_arena_reset between
 * inferences.  Not thread-safe: one arena per thread. */
typedef struct nn_arena {
	float *base;
	size_t cap;   /* floats */
	size_t used;  /* floats */
	size_t peak;  /* floats, high-water mark since init */
	int oom;      /* set when an allocation did not fit */
} nn_arena;

typedef enum nn_pad { NN_SAME, NN_VALID } nn_pad;

/* Points a at buf[0..cap) floats (caller owns buf). */
void nn_arena_init(nn_arena *a, float *buf, size_t cap);
void nn_arena_reset(nn_arena *a);
/* n floats, 64-byte aligned, uninitialised; NULL (and a->oom set) when the
 * arena is full.  Freed only by nn_arena_reset. */
float *nn_alloc(nn_arena *a, size_t n);
/* A tensor of h x w x c from the arena; t->d NULL when it does not fit. */
nn_t nn_tensor(nn_arena *a, int h, int w, int c);

/* Output side of a TF convolution or pool along one axis, and the padding
 * TF puts before the first input element ('same': half of the total,
 * rounded down; 'valid': 0). */
int nn_out_size(int in, int k, int stride, nn_pad pad);
int nn_pad_before(int in, int k, int stride, nn_pad pad);

/* out = conv2d(in, filt) + bias (bias may be NULL).  filt is HWIO:
 * [kh][kw][in->c][cout].  im2col into the arena, then one sgemm; 1x1
 * stride-1 convolutions skip the im2col.  Returns the output tensor (d NULL
 * when the arena is full). */
nn_t nn_conv2d(nn_arena *a, const nn_t *in, const float *filt, int kh,
	       int kw, int cout, const float *bias, int stride, nn_pad pad);

/* out = depthwise_conv2d(in, filt) + bias (bias may be NULL); filt is
 * [kh][kw][c] (TF's [kh][kw][c][1]). */
nn_t nn_depthwise(nn_arena *a, const nn_t *in, const float *filt, int kh,
		  int kw, const float *bias, int stride, nn_pad pad);

/* Pools over k x k windows; average pooling divides by the number of
 * in-image elements of the window (TF's 'same' behaviour). */
nn_t nn_maxpool(nn_arena *a, const nn_t *in, int k, int stride, nn_pad pad);
nn_t nn_avgpool(nn_arena *a, const nn_t *in, int k, int stride, nn_pad pad);

/* In-place element-wise operations on t (c channels per pixel). */
void nn_relu(nn_t *t);
void nn_clip(nn_t *t, float lo, float hi);              /* relu6: 0, 6 */
void nn_scale_bias(nn_t *t, const float *scale, const float *bias); /* per channel; either may be NULL */
void nn_add(nn_t *t, const nn_t *u);                    /* same shape */

/* y[0..n) = x[0..k) . w[k][n] + b (b may be NULL): a fully connected
 * layer. */
void nn_fc(const float *x, int k, const float *w, int n, const float *b,
	   float *y);

/* TF's legacy resizeBilinear (alignCorners false, halfPixelCenters
 * false: src = dst * in / out) of an 8-bit RGB picture region into a
 * float tensor, in place of the pixels: the region is (x0, y0, rw, rh) of
 * an image w pixels wide with stride bytes per row; it is first padded
 * with zeros to a square side pw x ph at offsets (px, py) (set pw = rw,
 * ph = rh, px = py = 0 for no padding), then resized to out->h x out->w.
 * Channels are then mapped to (v - mean[c]) / div (mean may be NULL for
 * 0), as face-api normalises.  Interpolation in float, TF's order:
 * top = tl + (tr - tl) * xl, bottom likewise, v = top + (bottom - top) * yl.
 * When out is pw x ph the pixels are copied (TF skips the resize). */
void nn_resize_rgb8(const uint8_t *px, int stride, int x0, int y0, int rw,
		    int rh, int pad_x, int pad_y, int pw, int ph, nn_t *out,
		    const float *mean, float div);

/* Milliseconds on clock id (CLOCK_MONOTONIC for wall time,
 * CLOCK_THREAD_CPUTIME_ID for the calling thread's CPU time): what the
 * nets' stage timings read. */
double nn_clock_ms(clockid_t id);

/* Multiply-accumulate count of the last operations, for the benchmark's
 * FLOP figures: each layer adds its own; reset by the caller. */
extern _Thread_local uint64_t nn_macs;

/* Output rows [y0, y1) of the 3x3 depthwise convolution of in ('same'
 * padding, stride 1 or 2, no bias; filt is [3][3][in->c]) into out: y1 - y0
 * rows of nn_out_size(in->w, 3, stride, NN_SAME) pixels of in->c channels,
 * contiguous.  The same sums in the same order as nn_depthwise (the taps
 * in row-major order; those outside the image add 0 * f, which changes no
 * sum), computed channels innermost so that the compiler vectorises them;
 * for a caller that works in bands of rows. */
void nn_dw3x3_rows(const nn_t *in, const float *filt, int stride, int y0,
		   int y1, float *out);

/* One output row of the same convolution from its three input rows:
 * rows[k] is the input row (w pixels of c channels) that tap row k reads,
 * NULL for a padding row; out gets nn_out_size(w, 3, stride, NN_SAME)
 * pixels.  For a caller that streams rows through a small buffer. */
void nn_dw3x3_row(const float *const rows[3], int w, int c,
		  const float *filt, int stride, float *out);

#endif
