/* landmark.c -- face-api's face_landmark_68 net (FaceLandmark68Net on its
 * FaceFeatureExtractor) and the crop geometry around it (landmark.h).
 * Owns the weight binding and the forward pass; the weights belong to the
 * caller's mdl and every activation to the caller's arena.  No I/O, no
 * heap use after lmk_new.
 *
 * The net: four dense blocks of four convolutions each (dense0 conv0 a
 * plain 3x3 stride-2 convolution, every other one depthwise-separable:
 * 3x3 depthwise without bias, 1x1 pointwise, bias), 'same' padding, the
 * first of each block with stride 2:
 *   out1 = relu(conv0(x)); out2 = conv1(out1);
 *   out3 = conv2(relu(out1 + out2)); out4 = conv3(relu(out1 + out2 + out3));
 *   block = relu(out1 + out2 + out3 + out4)
 * 112 -> 56 -> 28 -> 14 -> 7 pixels, 32 -> 64 -> 128 -> 256 channels, then
 * avgpool 7x7 'valid' (the mean of the 49 pixels) and fc 256 -> 136. */
#include "landmark.h"
#include "core_err.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LMK_BLOCKS 4
#define LMK_FC_IN 256
#define LMK_OUT (2 * LMK_N)

/* One depthwise-separable convolution (or dense0's plain conv0: dw NULL,
 * pw the [3][3][3][32] filter). */
typedef struct lmk_conv {
	const float *dw;   /* [3][3][cin] */
	const float *pw;   /* [cin][cout] */
	const float *bias; /* [cout] */
	int cin, cout;
} lmk_conv;

struct lmk {
	lmk_conv conv[LMK_BLOCKS][4];
	const float *fc_w; /* [256][136] */
	const float *fc_b; /* [136] */
};

static const int blk_cin[LMK_BLOCKS] = {3, 32, 64, 128};
static const int blk_cout[LMK_BLOCKS] = {32, 64, 128, 256};

/* The mean face-api subtracts before dividing by 255 (FaceFeatureExtractor
 * forwardInput). */
static const float lmk_mean[3] = {122.782f, 117.001f, 104.298f};

static const float *bind(const mdl *m, const char *name, int rank, int s0,
			 int s1, int s2, int s3, char *err, size_t errlen)
{
	const int shape[4] = {s0, s1, s2, s3};
	return mdl_get(m, name, rank, shape, err, errlen);
}

lmk *lmk_new(const mdl *m, char *err, size_t errlen)
{
	lmk *l = calloc(1, sizeof(*l));
	char name[64];

	if (!l) {
		if (err && errlen)
			snprintf(err, errlen, "landmark net: out of memory");
		return NULL;
	}
	for (int b = 0; b < LMK_BLOCKS; b++)
		for (int k = 0; k < 4; k++) {
			lmk_conv *c = &l->conv[b][k];
			c->cin = k == 0 ? blk_cin[b] : blk_cout[b];
			c->cout = blk_cout[b];
			if (b == 0 && k == 0) {
				snprintf(name, sizeof name, "dense0/conv0/filters");
				c->pw = bind(m, name, 4, 3, 3, c->cin, c->cout, err, errlen);
			} else {
				snprintf(name, sizeof name, "dense%d/conv%d/depthwise_filter", b, k);
				c->dw = bind(m, name, 4, 3, 3, c->cin, 1, err, errlen);
				if (!c->dw)
					goto fail;
				snprintf(name, sizeof name, "dense%d/conv%d/pointwise_filter", b, k);
				c->pw = bind(m, name, 4, 1, 1, c->cin, c->cout, err, errlen);
			}
			if (!c->pw)
				goto fail;
			snprintf(name, sizeof name, "dense%d/conv%d/bias", b, k);
			c->bias = bind(m, name, 1, c->cout, 0, 0, 0, err, errlen);
			if (!c->bias)
				goto fail;
		}
	l->fc_w = bind(m, "fc/weights", 2, LMK_FC_IN, LMK_OUT, 0, 0, err, errlen);
	if (!l->fc_w)
		goto fail;
	l->fc_b = bind(m, "fc/bias", 1, LMK_OUT, 0, 0, 0, err, errlen);
	if (!l->fc_b)
		goto fail;
	return l;
fail:
	free(l);
	return NULL;
}

void lmk_free(lmk *l)
{
	free(l);
}

/* Floats nn_alloc takes for n, with its 64-byte rounding. */
static size_t al(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

size_t lmk_arena_floats(void)
{
	/* the 112x112x3 input stays live (lmk_detect puts it in the arena),
	 * so does each block's output while the next block runs; inside a
	 * block: its output S, the relu'd sum T and the depthwise output D
	 * (dense0: conv0's im2col matrix instead, before T and D exist) */
	size_t peak = 0, live = al((size_t)LMK_INPUT * LMK_INPUT * 3);
	int side = LMK_INPUT;
	for (int b = 0; b < LMK_BLOCKS; b++) {
		int o = side / 2;
		size_t s = al((size_t)o * o * blk_cout[b]);
		size_t d0 = b == 0 ? al((size_t)o * o * 27) : al((size_t)o * o * blk_cin[b]);
		size_t d = al((size_t)o * o * blk_cout[b]);
		size_t in_block = s + (d0 > 2 * d ? d0 : 2 * d);
		if (live + in_block > peak)
			peak = live + in_block;
		live += s;
		side = o;
	}
	return peak;
}

/* Channels per step of the element-wise loops: a constant trip count
 * GCC vectorises at -O2; every channel count of the net is a multiple. */
#define LANES 16

/* One output pixel of the depthwise 3x3 convolution at a border: the
 * taps inside the input only (TF's zero padding), in filter order. */
static void dw3x3_edge(const float *restrict in, int ih, int iw, int C,
		       const float *restrict f, int y0, int x0,
		       float *restrict o)
{
	int ky0 = y0 < 0 ? -y0 : 0, ky1 = y0 + 3 > ih ? ih - y0 : 3;
	int kx0 = x0 < 0 ? -x0 : 0, kx1 = x0 + 3 > iw ? iw - x0 : 3;
	for (int c0 = 0; c0 < C; c0 += LANES) {
		float acc[LANES] = {0};
		for (int ky = ky0; ky < ky1; ky++)
			for (int kx = kx0; kx < kx1; kx++) {
				const float *p = in + ((size_t)(y0 + ky) * iw + x0 + kx) * C + c0;
				const float *w = f + (ky * 3 + kx) * C + c0;
				for (int c = 0; c < LANES; c++)
					acc[c] += p[c] * w[c];
			}
		memcpy(o + c0, acc, sizeof acc);
	}
}

/* out = depthwise 3x3 'same' convolution of in (ih x iw x C, C a multiple
 * of LANES) at stride, no bias: TF's depthwiseConv2d, the taps summed in
 * filter order.  Interior pixels take all nine taps in one expression
 * (kept in registers), border ones dw3x3_edge. */
static void dw3x3(const float *restrict in, int ih, int iw, int C,
		  const float *restrict f, int stride, float *restrict out,
		  int oh, int ow)
{
	int pt = nn_pad_before(ih, 3, stride, NN_SAME);
	int pl = nn_pad_before(iw, 3, stride, NN_SAME);
	size_t row = (size_t)iw * C;

	for (int oy = 0; oy < oh; oy++) {
		int y0 = oy * stride - pt;
		int yin = y0 >= 0 && y0 + 3 <= ih;
		for (int ox = 0; ox < ow; ox++) {
			int x0 = ox * stride - pl;
			float *o = out + ((size_t)oy * ow + ox) * C;
			if (!yin || x0 < 0 || x0 + 3 > iw) {
				dw3x3_edge(in, ih, iw, C, f, y0, x0, o);
				continue;
			}
			const float *p = in + ((size_t)y0 * iw + x0) * C;
			for (int c0 = 0; c0 < C; c0 += LANES) {
				const float *r0 = p + c0, *r1 = r0 + row, *r2 = r1 + row;
				const float *w = f + c0;
				for (int c = 0; c < LANES; c++)
					o[c0 + c] = r0[c] * w[c] + r0[C + c] * w[C + c] +
						    r0[2 * C + c] * w[2 * C + c] +
						    r1[c] * w[3 * C + c] +
						    r1[C + c] * w[4 * C + c] +
						    r1[2 * C + c] * w[5 * C + c] +
						    r2[c] * w[6 * C + c] +
						    r2[C + c] * w[7 * C + c] +
						    r2[2 * C + c] * w[8 * C + c];
			}
		}
	}
	nn_macs += (uint64_t)oh * ow * C * 9;
}

/* s = s * beta + separable(in) without the bias: the depthwise 3x3 'same'
 * convolution of in at stride, then the 1x1 pointwise one (TF's
 * separableConv2d); the caller adds the bias.  Scratch from a, given
 * back. */
static int sep_conv(nn_arena *a, const nn_t *in, const lmk_conv *c,
		    int stride, nn_t *s, float beta)
{
	size_t mark = a->used;
	int M = s->h * s->w;
	float *d = nn_alloc(a, (size_t)M * c->cin);
	if (!d)
		return RECOG_ENOMEM;
	dw3x3(in->d, in->h, in->w, c->cin, c->dw, stride, d, s->h, s->w);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, c->cout,
		    c->cin, 1.0f, d, c->cin, c->pw, c->cout, beta, s->d, c->cout);
	nn_macs += (uint64_t)M * c->cin * c->cout;
	a->used = mark;
	return 0;
}

/* One pass over the running sum s (n pixels of C channels): t = relu(s)
 * and s += b (the next conv's bias: face-api adds each conv's bias to its
 * output before the sum; adding it to the sum first differs only in float
 * rounding). */
static void sum_pass(float *restrict s, float *restrict t, size_t n, int C,
		     const float *restrict b)
{
	for (size_t i = 0; i < n; i++) {
		float *sp = s + i * C, *tp = t + i * C;
		for (int c0 = 0; c0 < C; c0 += LANES)
			for (int c = 0; c < LANES; c++) {
				float v = sp[c0 + c];
				tp[c0 + c] = v > 0.0f ? v : 0.0f;
				sp[c0 + c] = v + b[c0 + c];
			}
	}
}

/* out1 = relu(s + b0) into t (the next conv's input) and s, then
 * s += b1. */
static void first_pass(float *restrict s, float *restrict t, size_t n,
		       int C, const float *restrict b0,
		       const float *restrict b1)
{
	for (size_t i = 0; i < n; i++) {
		float *sp = s + i * C, *tp = t + i * C;
		for (int c0 = 0; c0 < C; c0 += LANES)
			for (int c = 0; c < LANES; c++) {
				float v = sp[c0 + c] + b0[c0 + c];
				v = v > 0.0f ? v : 0.0f;
				tp[c0 + c] = v;
				sp[c0 + c] = v + b1[c0 + c];
			}
	}
}

/* s = relu(s), n a multiple of LANES. */
static void relu(float *restrict s, size_t n)
{
	for (size_t i = 0; i < n; i += LANES)
		for (int c = 0; c < LANES; c++)
			s[i + c] = s[i + c] > 0.0f ? s[i + c] : 0.0f;
}

/* One dense block on x into *out (allocated from a below its scratch,
 * which is given back).  s keeps the running sum out1 + ... + out_k with
 * the next conv's bias already added; t the relu'd input of the next
 * conv. */
static int dense_block(const lmk *l, nn_arena *a, const nn_t *x, int b,
		       nn_t *out)
{
	const lmk_conv *cv = l->conv[b];
	nn_t s, t;
	int rc;

	if (b == 0) {
		/* conv0 is a plain convolution (its bias added below);
		 * nn_conv2d returns its im2col scratch, leaving s at the
		 * arena's top */
		s = nn_conv2d(a, x, cv[0].pw, 3, 3, cv[0].cout, NULL, 2, NN_SAME);
		if (!s.d)
			return RECOG_ENOMEM;
	} else {
		s = nn_tensor(a, nn_out_size(x->h, 3, 2, NN_SAME),
			      nn_out_size(x->w, 3, 2, NN_SAME), cv[0].cout);
		if (!s.d)
			return RECOG_ENOMEM;
		rc = sep_conv(a, x, &cv[0], 2, &s, 0.0f);
		if (rc < 0)
			return rc;
	}
	size_t mark = a->used, n = (size_t)s.h * s.w;
	t = nn_tensor(a, s.h, s.w, s.c);
	if (!t.d)
		return RECOG_ENOMEM;
	/* out1 = relu(conv0 + b0) into t (conv1's input) and s */
	first_pass(s.d, t.d, n, s.c, cv[0].bias, cv[1].bias);
	for (int k = 1; k < 4; k++) {
		rc = sep_conv(a, &t, &cv[k], 1, &s, 1.0f);
		if (rc < 0)
			return rc;
		if (k < 3)
			sum_pass(s.d, t.d, n, s.c, cv[k + 1].bias);
	}
	relu(s.d, n * s.c);
	a->used = mark;
	*out = s;
	return 0;
}

int lmk_forward_stages(const lmk *l, nn_arena *a, const nn_t *in,
		       float raw[136], double ms[LMK_STAGES])
{
	nn_t x, y;
	float pooled[LMK_FC_IN], out[LMK_OUT];
	size_t mark;
	double t0 = ms ? nn_clock_ms(CLOCK_MONOTONIC) : 0.0, t1;
	int rc = 0;

	if (!l || !a || !in || !in->d || in->h != LMK_INPUT ||
	    in->w != LMK_INPUT || in->c != 3)
		return RECOG_EINVAL;
	x = *in;
	mark = a->used;
	for (int b = 0; b < LMK_BLOCKS; b++) {
		rc = dense_block(l, a, &x, b, &y);
		if (rc < 0)
			goto out;
		x = y;
		if (ms) {
			t1 = nn_clock_ms(CLOCK_MONOTONIC);
			ms[b] = t1 - t0;
			t0 = t1;
		}
	}
	/* avgPool 7x7 stride 2 'valid' on 7x7: the mean of all 49 pixels */
	y = nn_avgpool(a, &x, 7, 2, NN_VALID);
	if (!y.d) {
		rc = RECOG_ENOMEM;
		goto out;
	}
	memcpy(pooled, y.d, sizeof pooled);
	nn_fc(pooled, LMK_FC_IN, l->fc_w, LMK_OUT, l->fc_b, out);
	if (raw)
		memcpy(raw, out, sizeof out);
	if (ms)
		ms[LMK_BLOCKS] = nn_clock_ms(CLOCK_MONOTONIC) - t0;
out:
	a->used = mark;
	return rc;
}

int lmk_forward(const lmk *l, nn_arena *a, const nn_t *in, float raw[136])
{
	return lmk_forward_stages(l, a, in, raw, NULL);
}

int lmk_crop(int w, int h, const face_box *box, int crop[4])
{
	/* Box.clipAtImageBorders in double: clip x, y to 0, the width and
	 * height to the image, then floor each of the four separately */
	double x = box->x, y = box->y, bw = box->w, bh = box->h;
	if (!isfinite(x) || !isfinite(y) || !isfinite(bw) || !isfinite(bh) ||
	    w <= 0 || h <= 0)
		return RECOG_EINVAL;
	double cx = x > 0.0 ? x : 0.0, cy = y > 0.0 ? y : 0.0;
	double cw = x + bw - cx, ch = y + bh - cy;
	if (cw > w - cx)
		cw = w - cx;
	if (ch > h - cy)
		ch = h - cy;
	/* extractFaceTensors drops a crop with a floored side of 0 */
	if (cw < 1.0 || ch < 1.0)
		return RECOG_EINVAL;
	crop[0] = (int)floor(cx);
	crop[1] = (int)floor(cy);
	crop[2] = (int)floor(cw);
	crop[3] = (int)floor(ch);
	return 0;
}

int lmk_detect(const lmk *l, nn_arena *a, const uint8_t *rgb, int w, int h,
	       int stride, const face_box *box, float pts[LMK_N][2],
	       int crop[4])
{
	int c[4], rc;
	float raw[LMK_OUT];

	if (!l || !a || !rgb || !box || !pts || w < 1 || h < 1 || stride < 3 * w)
		return RECOG_EINVAL;
	nn_arena_reset(a);
	rc = lmk_crop(w, h, box, c);
	if (rc < 0)
		return rc;
	/* padToSquare(isCenterImage): round(diff / 2) zero rows or columns
	 * appended after the crop, the rest before it */
	int cw = c[2], ch = c[3], side = cw > ch ? cw : ch;
	int diff = side - (cw < ch ? cw : ch);
	int before = diff - (diff + 1) / 2;
	int px = cw < ch ? before : 0, py = ch < cw ? before : 0;
	nn_t in = nn_tensor(a, LMK_INPUT, LMK_INPUT, 3);
	if (!in.d)
		return RECOG_ENOMEM;
	nn_resize_rgb8(rgb, stride, c[0], c[1], cw, ch, px, py, side, side,
		       &in, lmk_mean, 255.0f);
	rc = lmk_forward(l, a, &in, raw);
	if (rc < 0)
		return rc;
	/* FaceLandmark68NetBase.postProcess, in float32 as TF.js computes it:
	 * the crop scaled to fit 112, un-padded by |w - h| / 2 (unrounded),
	 * divided by the scaled size; then FaceLandmarks scales by the crop
	 * size and shifts by the unfloored box origin (in double, as JS) */
	double scale = (double)LMK_INPUT / side;
	double sw = cw * scale, sh = ch * scale;
	float padx = (float)(cw < ch ? fabs(sw - sh) / 2 : 0.0);
	float pady = (float)(ch < cw ? fabs(sw - sh) / 2 : 0.0);
	for (int i = 0; i < LMK_N; i++) {
		float rx = (raw[2 * i] * (float)LMK_INPUT - padx) / (float)sw;
		float ry = (raw[2 * i + 1] * (float)LMK_INPUT - pady) / (float)sh;
		pts[i][0] = (float)((double)rx * cw + (double)box->x);
		pts[i][1] = (float)((double)ry * ch + (double)box->y);
	}
	if (crop)
		memcpy(crop, c, sizeof c);
	return 0;
}
