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
#include "sim_err.h"

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

/* s (+)= separable(in): the depthwise 3x3 'same' convolution of in at
 * stride, then the 1x1 pointwise one and the bias, added to s when acc
 * (TF's separableConv2d + bias; the sum is kept by the caller).  Scratch
 * from a, given back. */
static int sep_conv(nn_arena *a, const nn_t *in, const lmk_conv *c,
		    int stride, nn_t *s, int acc)
{
	size_t mark = a->used;
	nn_t d = nn_depthwise(a, in, c->dw, 3, 3, NULL, stride, NN_SAME);
	if (!d.d)
		return SIM_ENOMEM;
	int M = d.h * d.w;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, c->cout,
		    c->cin, 1.0f, d.d, c->cin, c->pw, c->cout, acc ? 1.0f : 0.0f,
		    s->d, c->cout);
	nn_macs += (uint64_t)M * c->cin * c->cout;
	for (int i = 0; i < M; i++) {
		float *p = s->d + (size_t)i * c->cout;
		for (int k = 0; k < c->cout; k++)
			p[k] += c->bias[k];
	}
	a->used = mark;
	return 0;
}

static void relu_to(const nn_t *s, nn_t *t)
{
	size_t n = (size_t)s->h * s->w * s->c;
	for (size_t i = 0; i < n; i++)
		t->d[i] = s->d[i] > 0.0f ? s->d[i] : 0.0f;
}

/* One dense block on x into *out (allocated from a below its scratch,
 * which is given back). */
static int dense_block(const lmk *l, nn_arena *a, const nn_t *x, int b,
		       nn_t *out)
{
	const lmk_conv *cv = l->conv[b];
	nn_t s, t;
	int rc;

	if (b == 0) {
		/* conv0 is a plain convolution; nn_conv2d returns its im2col
		 * scratch, leaving the output at the top of the arena */
		s = nn_conv2d(a, x, cv[0].pw, 3, 3, cv[0].cout, cv[0].bias, 2,
			      NN_SAME);
		if (!s.d)
			return SIM_ENOMEM;
	} else {
		s = nn_tensor(a, nn_out_size(x->h, 3, 2, NN_SAME),
			      nn_out_size(x->w, 3, 2, NN_SAME), cv[0].cout);
		if (!s.d)
			return SIM_ENOMEM;
		rc = sep_conv(a, x, &cv[0], 2, &s, 0);
		if (rc < 0)
			return rc;
	}
	nn_relu(&s);
	size_t mark = a->used;
	t = nn_tensor(a, s.h, s.w, s.c);
	if (!t.d)
		return SIM_ENOMEM;
	for (int k = 1; k < 4; k++) {
		/* s holds out1 + ... + out_k; conv_k's input is relu of it
		 * (out1 itself, already relu'd, for k = 1) */
		const nn_t *in = &s;
		if (k > 1) {
			relu_to(&s, &t);
			in = &t;
		}
		rc = sep_conv(a, in, &cv[k], 1, &s, 1);
		if (rc < 0)
			return rc;
	}
	nn_relu(&s);
	a->used = mark;
	*out = s;
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int lmk_forward_stages(const lmk *l, nn_arena *a, const nn_t *in,
		       float raw[136], double ms[LMK_STAGES])
{
	nn_t x = *in, y;
	float pooled[LMK_FC_IN], out[LMK_OUT];
	size_t mark = a->used;
	double t0 = ms ? now_ms() : 0.0, t1;
	int rc = 0;

	if (!in->d || in->h != LMK_INPUT || in->w != LMK_INPUT || in->c != 3)
		return SIM_EINVAL;
	for (int b = 0; b < LMK_BLOCKS; b++) {
		rc = dense_block(l, a, &x, b, &y);
		if (rc < 0)
			goto out;
		x = y;
		if (ms) {
			t1 = now_ms();
			ms[b] = t1 - t0;
			t0 = t1;
		}
	}
	/* avgPool 7x7 stride 2 'valid' on 7x7: the mean of all 49 pixels */
	y = nn_avgpool(a, &x, 7, 2, NN_VALID);
	if (!y.d) {
		rc = SIM_ENOMEM;
		goto out;
	}
	memcpy(pooled, y.d, sizeof pooled);
	nn_fc(pooled, LMK_FC_IN, l->fc_w, LMK_OUT, l->fc_b, out);
	if (raw)
		memcpy(raw, out, sizeof out);
	if (ms)
		ms[LMK_BLOCKS] = now_ms() - t0;
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
		return SIM_EINVAL;
	double cx = x > 0.0 ? x : 0.0, cy = y > 0.0 ? y : 0.0;
	double cw = x + bw - cx, ch = y + bh - cy;
	if (cw > w - cx)
		cw = w - cx;
	if (ch > h - cy)
		ch = h - cy;
	/* extractFaceTensors drops a crop with a floored side of 0 */
	if (cw < 1.0 || ch < 1.0)
		return SIM_EINVAL;
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

	nn_arena_reset(a);
	if (!rgb || !box || stride < 3 * w)
		return SIM_EINVAL;
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
		return SIM_ENOMEM;
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
