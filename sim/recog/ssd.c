/* ssd.c -- face-api's SSD MobileNetV1 face detector (ssd.h): the weight
 * binding, the forward pass, the box decoding, face-api's NMS and the
 * conversion to image pixels.  The weights belong to the caller's mdl and
 * every activation to the caller's arena; no I/O, no heap use after
 * ssd_new.
 *
 * The net (face-api src/ssdMobilenetv1): the 512x512x3 input in -1..1;
 * MobileNetV1: conv_0 3x3/2 3 -> 32, then 13 depthwise-separable pairs
 * (3x3 depthwise, batch norm, relu6; 1x1 pointwise, offset, relu6), the
 * depthwise ones of pairs 2, 4, 6 and 12 at stride 2, everything 'same':
 * 256 -> 128 -> 64 -> 32 -> 16 pixels, 32 -> 1024 channels.  The
 * prediction layer adds four pairs of 1x1 and 3x3/2 convolutions (offset,
 * relu6) on the 16x16x1024 output: 8, 4, 2, 1 pixels.  Six box predictors
 * (1x1 convolutions with bias) on pair 11's output (32x32, 3 anchors a
 * pixel), the MobileNet output (16x16) and the four 3x3/2 outputs (6
 * anchors a pixel) give 5118 box encodings and class scores, in that
 * order, pixel by pixel, anchor by anchor.
 *
 * Each separable pair runs in bands of output rows: the depthwise rows of
 * a band go to a scratch block, then one gemm_run makes the band's pointwise
 * output, so no full depthwise output is ever stored; the 3x3 ordinary
 * convolutions likewise im2col one band at a time.  The largest layers,
 * the input to conv_3 (512 down to 128 pixels a side), are never stored
 * whole: they run as a chain that makes conv_4's output SSD_CHUNK rows at
 * a time, each layer keeping in a window only the rows its consumer still
 * needs (ssd_link).  From conv_4 on, two activation regions take turns as
 * a layer's input and output. */
#include "ssd.h"
#include "gemm.h"
#include "core_err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SSD_PAIRS 13
#define SSD_EXTRA 8
#define SSD_HEADS 6
/* scratch floats for one band (depthwise rows or im2col rows), at least */
#define SSD_BAND (1u << 18)
/* The chain: the input, conv_0, conv_1 .. conv_4; conv_4's output rows
 * SSD_CHUNK at a time */
#define SSD_CHAIN 6
#define SSD_CHUNK 4
/* face-api's nonMaxSuppression: IoU above this suppresses */
#define SSD_IOU 0.5
/* face-api mobileNetV1.ts: batchNorm's epsilon */
#define SSD_BN_EPS 0.0010000000474974513f

/* A convolution: filters [k][k][cin][cout] packed for gemm_run, the bias
 * added after it (batch_norm_offset or biases). */
typedef struct ssd_conv {
	gemm_b w;
	const float *b;
	int k, cin, cout, stride;
} ssd_conv;

/* A depthwise 3x3 convolution and the batch norm after it; nf[c] is
 * sqrt(variance + epsilon), which TF.js divides by. */
typedef struct ssd_dw {
	const float *w, *gamma, *beta, *mean;
	float *nf;
	int c, stride;
} ssd_dw;

struct ssd {
	ssd_conv conv0;
	ssd_dw dw[SSD_PAIRS];
	ssd_conv pw[SSD_PAIRS];
	ssd_conv extra[SSD_EXTRA];
	ssd_conv box[SSD_HEADS], cls[SSD_HEADS];
	const float *anchors; /* [5118][4]: ymin, xmin, ymax, xmax */
	float *nf;            /* every ssd_dw's nf */
	/* every parameter above lives in blocks the ssd owns (ssd_room), so
	 * that the mdl can be freed once the ssd is built; each block starts
	 * with the link to the next */
	void *own;
};

static const int pair_cin[SSD_PAIRS] = {32, 64, 128, 128, 256, 256, 512,
					512, 512, 512, 512, 512, 1024};
static const int pair_cout[SSD_PAIRS] = {64, 128, 128, 256, 256, 512, 512,
					 512, 512, 512, 512, 1024, 1024};
/* prediction_layer conv_0..7: kernel, channels in and out, stride */
static const int extra_k[SSD_EXTRA] = {1, 3, 1, 3, 1, 3, 1, 3};
static const int extra_cin[SSD_EXTRA] = {1024, 256, 512, 128, 256, 128, 256, 64};
static const int extra_cout[SSD_EXTRA] = {256, 512, 128, 256, 128, 256, 64, 128};
/* box predictors: input channels, side of the feature map, anchors a
 * pixel */
static const int head_cin[SSD_HEADS] = {512, 1024, 512, 256, 256, 128};
static const int head_side[SSD_HEADS] = {32, 16, 8, 4, 2, 1};
static const int head_anchors[SSD_HEADS] = {3, 6, 6, 6, 6, 6};

const char *const ssd_stage_name[SSD_STAGES] = {
	"input", "conv_0", "conv_1", "conv_2", "conv_3", "conv_4", "conv_5",
	"conv_6", "conv_7", "conv_8", "conv_9", "conv_10", "conv_11", "conv_12",
	"conv_13", "prediction", "box heads", "decode+nms",
};

/* n floats, 64-byte aligned, owned by s until ssd_free; NULL when out of
 * memory. */
static float *ssd_room(ssd *s, size_t n)
{
	/* the link takes a 64-byte header, so the floats stay aligned */
	void **blk = aligned_alloc(64, 64 + ((n * sizeof(float) + 63) & ~(size_t)63));

	if (!blk)
		return NULL;
	*blk = s->own;
	s->own = blk;
	return (float *)((char *)blk + 64);
}

/* A copy of the tensor called name of m, checked against rank and shape,
 * owned by s; NULL with err set (shape, or out of memory). */
static const float *bind(ssd *s, const mdl *m, const char *name, int rank,
			 int s0, int s1, int s2, int s3, char *err,
			 size_t errlen)
{
	const int shape[4] = {s0, s1, s2, s3};
	const float *src = mdl_get(m, name, rank, shape, err, errlen);
	const mdl_tensor *t = src ? mdl_find(m, name) : NULL;
	float *dst = t ? ssd_room(s, t->n) : NULL;

	if (!dst) {
		if (src && err && errlen)
			snprintf(err, errlen, "ssd: out of memory for %s", name);
		return NULL;
	}
	memcpy(dst, src, sizeof(float) * t->n);
	return dst;
}

/* A conv with its bias: prefix/weights_name and prefix/bias_name; the
 * weights packed for the kernel gemm_resolve(GEMM_AUTO) names now. */
static int bind_conv(ssd *s, const mdl *m, ssd_conv *c, const char *prefix,
		     const char *wname, const char *bname, int k, int cin,
		     int cout, int stride, char *err, size_t errlen)
{
	char name[128];
	const float *w;
	float *p;
	int K = k * k * cin;

	c->k = k;
	c->cin = cin;
	c->cout = cout;
	c->stride = stride;
	snprintf(name, sizeof name, "%s/%s", prefix, wname);
	{
		const int shape[4] = {k, k, cin, cout};
		w = mdl_get(m, name, 4, shape, err, errlen);
	}
	if (!w)
		return RECOG_EMODEL;
	p = ssd_room(s, gemm_pack_floats(K, cout, GEMM_AUTO));
	if (!p) {
		if (err && errlen)
			snprintf(err, errlen, "ssd: out of memory for %s", name);
		return RECOG_ENOMEM;
	}
	gemm_pack(&c->w, p, w, K, cout, GEMM_AUTO);
	snprintf(name, sizeof name, "%s/%s", prefix, bname);
	c->b = bind(s, m, name, 1, cout, 0, 0, 0, err, errlen);
	return c->b ? 0 : RECOG_EMODEL;
}

static int bind_dw(ssd *s, const mdl *m, ssd_dw *d, int idx, float *nf,
		   char *err, size_t errlen)
{
	char name[128];
	const float *var;
	int c = d->c;

	snprintf(name, sizeof name, "MobilenetV1/Conv2d_%d_depthwise/depthwise_weights", idx);
	d->w = bind(s, m, name, 4, 3, 3, c, 1, err, errlen);
	if (!d->w)
		return RECOG_EMODEL;
	const char *const bn[3] = {"gamma", "beta", "moving_mean"};
	const float **to[3] = {&d->gamma, &d->beta, &d->mean};
	for (int k = 0; k < 3; k++) {
		snprintf(name, sizeof name,
			 "MobilenetV1/Conv2d_%d_depthwise/BatchNorm/%s", idx, bn[k]);
		*to[k] = bind(s, m, name, 1, c, 0, 0, 0, err, errlen);
		if (!*to[k])
			return RECOG_EMODEL;
	}
	snprintf(name, sizeof name, "MobilenetV1/Conv2d_%d_depthwise/BatchNorm/moving_variance", idx);
	{
		const int shape[4] = {c, 0, 0, 0};
		var = mdl_get(m, name, 1, shape, err, errlen); /* folded into nf */
	}
	if (!var)
		return RECOG_EMODEL;
	/* TF.js FusedBatchNorm: sqrt(variance + epsilon) in float */
	for (int i = 0; i < c; i++)
		nf[i] = sqrtf(var[i] + SSD_BN_EPS);
	d->nf = nf;
	return 0;
}

ssd *ssd_new(const mdl *m, char *err, size_t errlen)
{
	ssd *s = calloc(1, sizeof(*s));
	char prefix[96];
	size_t nnf = 0;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!s)
		goto nomem;
	for (int i = 0; i < SSD_PAIRS; i++)
		nnf += (size_t)pair_cin[i];
	s->nf = malloc(nnf * sizeof(float));
	if (!s->nf)
		goto nomem;
	rc = bind_conv(s, m, &s->conv0, "MobilenetV1/Conv2d_0_pointwise", "weights",
		       "convolution_bn_offset", 3, 3, 32, 2, err, errlen);
	if (rc < 0)
		goto fail;
	nnf = 0;
	for (int i = 0; i < SSD_PAIRS; i++) {
		int idx = i + 1;
		s->dw[i].c = pair_cin[i];
		s->dw[i].stride = idx == 2 || idx == 4 || idx == 6 || idx == 12 ? 2 : 1;
		rc = bind_dw(s, m, &s->dw[i], idx, s->nf + nnf, err, errlen);
		if (rc < 0)
			goto fail;
		nnf += (size_t)pair_cin[i];
		snprintf(prefix, sizeof prefix, "MobilenetV1/Conv2d_%d_pointwise", idx);
		rc = bind_conv(s, m, &s->pw[i], prefix, "weights", "convolution_bn_offset",
			       1, pair_cin[i], pair_cout[i], 1, err, errlen);
		if (rc < 0)
			goto fail;
	}
	for (int i = 0; i < SSD_EXTRA; i++) {
		snprintf(prefix, sizeof prefix, "Prediction/Conv2d_%d_pointwise", i);
		rc = bind_conv(s, m, &s->extra[i], prefix, "weights",
			       "convolution_bn_offset", extra_k[i], extra_cin[i],
			       extra_cout[i], extra_k[i] == 3 ? 2 : 1, err, errlen);
		if (rc < 0)
			goto fail;
	}
	for (int i = 0; i < SSD_HEADS; i++) {
		int a = head_anchors[i];
		snprintf(prefix, sizeof prefix, "Prediction/BoxPredictor_%d/BoxEncodingPredictor", i);
		rc = bind_conv(s, m, &s->box[i], prefix, "weights", "biases", 1,
			       head_cin[i], 4 * a, 1, err, errlen);
		if (rc < 0)
			goto fail;
		snprintf(prefix, sizeof prefix, "Prediction/BoxPredictor_%d/ClassPredictor", i);
		rc = bind_conv(s, m, &s->cls[i], prefix, "weights", "biases", 1,
			       head_cin[i], 3 * a, 1, err, errlen);
		if (rc < 0)
			goto fail;
	}
	s->anchors = bind(s, m, "Output/extra_dim", 3, 1, SSD_ANCHORS, 4, 0, err,
			  errlen);
	if (!s->anchors)
		goto fail;
	return s;
nomem:
	if (err && errlen)
		snprintf(err, errlen, "ssd: out of memory");
fail:
	ssd_free(s);
	return NULL;
}

void ssd_free(ssd *s)
{
	if (!s)
		return;
	while (s->own) {
		void **blk = s->own;
		s->own = *blk;
		free(blk);
	}
	free(s->nf);
	free(s);
}

/* ------------------------------------------------------------- arena */

/* Floats nn_alloc takes for n, with its 64-byte rounding. */
static size_t al(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

/* The chain's layers: output side and channels, and how each reads its
 * input (the layer before): kernel side and stride. */
static const int chain_side[SSD_CHAIN] = {512, 256, 256, 128, 128, 64};
static const int chain_c[SSD_CHAIN] = {3, 32, 64, 128, 128, 256};
static const int chain_k[SSD_CHAIN] = {0, 3, 3, 3, 3, 3};
static const int chain_stride[SSD_CHAIN] = {0, 2, 1, 2, 1, 2};
/* input floats of one output row a chain layer's band holds: conv_0's
 * im2col row, a pair's depthwise row */
static const int chain_band_c[SSD_CHAIN] = {0, 27, 32, 64, 128, 128};

/* The rows each chain layer's window holds (cap[0..4]; cap[5] is conv_4's
 * chunk): what its consumer reads for its largest production, which is
 * the consumer's whole window (its first fill) or chunk.  Returns the
 * windows' floats (rounded as nn_alloc would) and sets *band to the
 * scratch the layers' productions need. */
static size_t chain_plan(int cap[SSD_CHAIN], size_t *band)
{
	size_t win = 0;

	cap[SSD_CHAIN - 1] = SSD_CHUNK;
	*band = 0;
	for (int i = SSD_CHAIN - 1; i >= 0; i--) {
		if (i < SSD_CHAIN - 1) {
			int need = (cap[i + 1] - 1) * chain_stride[i + 1] + chain_k[i + 1];
			cap[i] = need < chain_side[i] ? need : chain_side[i];
			win += al((size_t)cap[i] * chain_side[i] * chain_c[i]);
		}
		size_t b = (size_t)cap[i] * chain_side[i] * chain_band_c[i];
		*band = b > *band ? b : *band;
	}
	return win;
}

/* The two activation regions: region 0 holds conv_4's output (64 x 64 x
 * 256), conv_6's, ...; region 1 the chain's windows, then conv_5's
 * output (64 x 64 x 256), conv_7's, ... */
#define SSD_R0 ((size_t)64 * 64 * 256)

typedef struct ssd_layout {
	size_t r1, band;
	int cap[SSD_CHAIN];
} ssd_layout;

static void layout(ssd_layout *l)
{
	size_t win = chain_plan(l->cap, &l->band);
	l->r1 = win > SSD_R0 ? win : SSD_R0;
	if (l->band < SSD_BAND)
		l->band = SSD_BAND;
}

size_t ssd_arena_floats(void)
{
	ssd_layout l;

	layout(&l);
	/* regions, band scratch, box encodings, class logits and
	 * ssd_decode's scratch, allocated in this order (the last one
	 * unrounded: the peak is where it ends) */
	return al(SSD_R0) + al(l.r1) + al(l.band) + al((size_t)SSD_ANCHORS * 4) +
	       al((size_t)SSD_ANCHORS * 3) + (size_t)SSD_ANCHORS * 3;
}

/* ------------------------------------------------------------ layers */

/* CPU time of the calling thread: stage times that a busy machine does
 * not inflate (OpenBLAS runs in the caller when it has one thread) */
static inline double cpu_ms(void)
{
	return nn_clock_ms(CLOCK_THREAD_CPUTIME_ID);
}

/* relu6 (tf.clipByValue(v, 0, 6)), written so that GCC vectorises it */
#define SSD_RELU6(v)                                                        \
	do {                                                                \
		v = v > 0.0f ? v : 0.0f;                                    \
		v = v < 6.0f ? v : 6.0f;                                    \
	} while (0)

/* Element-wise kernel on 16 channels: restrict parameters and a fixed
 * count, which GCC vectorises at -O2. */
static inline void bn_relu6_16(float *restrict q, const float *restrict mean,
			       const float *restrict sc,
			       const float *restrict off,
			       const float *restrict nf)
{
	for (int k = 0; k < 16; k++) {
		float v = off[k] + (q[k] - mean[k]) * sc[k] / nf[k];
		SSD_RELU6(v);
		q[k] = v;
	}
}

/* x / 127.5 - 1 as TF.js's div and sub, each rounded */
static inline void norm16(float *restrict q)
{
	for (int k = 0; k < 16; k++)
		q[k] = q[k] / 127.5f - 1.0f;
}

/* TF.js FusedBatchNorm then clipByValue(0, 6) on npx pixels of d->c
 * channels: offset + (x - mean) * scale / sqrt(variance + eps). */
static void bn_clip(float *p, size_t npx, const ssd_dw *d)
{
	int C = d->c;

	for (size_t i = 0; i < npx; i++) {
		float *q = p + i * C;
		int c = 0;
		for (; c + 16 <= C; c += 16)
			bn_relu6_16(q + c, d->mean + c, d->gamma + c, d->beta + c,
				    d->nf + c);
		for (; c < C; c++) {
			float v = d->beta[c] + (q[c] - d->mean[c]) * d->gamma[c] / d->nf[c];
			SSD_RELU6(v);
			q[c] = v;
		}
	}
}

/* Rows [base, base + n) of an h x w x c tensor, stored from d on: a
 * whole tensor (base 0, n = h) or the window of it a streamed layer
 * keeps. */
typedef struct ssd_rows {
	const float *d;
	int base, h, w, c;
} ssd_rows;

/* Output rows [y0, y1) of relu6(pointwise(relu6(bn(depthwise(in))))),
 * one separable pair, into dst (contiguous rows); the depthwise rows go
 * through band.  The input rows they read must be in the window. */
static void pair_rows(const ssd_dw *d, const ssd_conv *pw, const ssd_rows *in,
		      int y0, int y1, float *dst, float *band)
{
	int ow = nn_out_size(in->w, 3, d->stride, NN_SAME);
	int pt = nn_pad_before(in->h, 3, d->stride, NN_SAME);
	int M = (y1 - y0) * ow;
	size_t row = (size_t)in->w * in->c;

	/* row by row, so that the batch norm finds the row in cache */
	for (int y = y0; y < y1; y++) {
		const float *r[3];
		float *o = band + (size_t)(y - y0) * ow * d->c;
		for (int k = 0; k < 3; k++) {
			int iy = y * d->stride - pt + k;
			r[k] = iy >= 0 && iy < in->h ? in->d + (iy - in->base) * row : NULL;
		}
		nn_dw3x3_row(r, in->w, in->c, d->w, d->stride, o);
		bn_clip(o, (size_t)ow, d);
	}
	gemm_run(&pw->w, M, band, pw->cin, dst, pw->cout, pw->b, GEMM_RELU6);
	nn_macs += (uint64_t)M * pw->cin * pw->cout;
}

/* One separable pair on the whole of in, in bands of output rows. */
static void sep_pair(const ssd_dw *d, const ssd_conv *pw, const nn_t *in,
		     nn_t *out, float *band, size_t bandlen)
{
	ssd_rows win = {in->d, 0, in->h, in->w, in->c};
	int oh = nn_out_size(in->h, 3, d->stride, NN_SAME);
	int ow = nn_out_size(in->w, 3, d->stride, NN_SAME);
	int rows = (int)(bandlen / ((size_t)ow * d->c));

	if (rows < 1)
		rows = 1;
	*out = (nn_t){oh, ow, pw->cout, out->d};
	for (int y0 = 0; y0 < oh; y0 += rows) {
		int y1 = y0 + rows < oh ? y0 + rows : oh;
		pair_rows(d, pw, &win, y0, y1, out->d + (size_t)y0 * ow * pw->cout,
			  band);
	}
}

/* Output rows [y0, y1) of conv(in) + bias ('same'), relu6 when clip,
 * into dst: im2col of the rows into band, one gemm_run.  The input rows
 * they read must be in the window. */
static void conv_rows(const ssd_conv *cv, const ssd_rows *in, int y0, int y1,
		      float *dst, float *band, int clip)
{
	int k = cv->k, st = cv->stride, cin = in->c;
	int ow = nn_out_size(in->w, k, st, NN_SAME);
	int pt = nn_pad_before(in->h, k, st, NN_SAME);
	int pl = nn_pad_before(in->w, k, st, NN_SAME);
	int K = k * k * cin, M = (y1 - y0) * ow;
	size_t row = (size_t)in->w * cin;

	for (int oy = y0; oy < y1; oy++)
		for (int ky = 0; ky < k; ky++) {
			int iy = oy * st - pt + ky;
			const float *r = iy >= 0 && iy < in->h ?
					 in->d + (size_t)(iy - in->base) * row : NULL;
			for (int ox = 0; ox < ow; ox++)
				for (int kx = 0; kx < k; kx++) {
					int ix = ox * st - pl + kx;
					float *d = band + ((size_t)(oy - y0) * ow + ox) * K +
						   (size_t)(ky * k + kx) * cin;
					int inside = r && ix >= 0 && ix < in->w;
					const float *src = inside ? r + (size_t)ix * cin : NULL;
					if (cin > 8) {
						if (inside)
							memcpy(d, src, sizeof(float) * cin);
						else
							memset(d, 0, sizeof(float) * cin);
					} else {
						/* conv_0's 3 channels: no calls */
						for (int c = 0; c < cin; c++)
							d[c] = inside ? src[c] : 0.0f;
					}
				}
		}
	gemm_run(&cv->w, M, band, K, dst, cv->cout, cv->b,
		 clip ? GEMM_RELU6 : GEMM_LINEAR);
	nn_macs += (uint64_t)M * K * cv->cout;
}

/* out = conv(in) + bias ('same'), relu6 when clip, on the whole of in: a
 * k x k convolution in bands of output rows, a 1x1 stride-1 one as a
 * single gemm_run.  out->d is set by the caller. */
static void conv(const ssd_conv *cv, const nn_t *in, nn_t *out, float *band,
		 size_t bandlen, int clip)
{
	int k = cv->k, st = cv->stride;
	int oh = nn_out_size(in->h, k, st, NN_SAME);
	int ow = nn_out_size(in->w, k, st, NN_SAME);
	int K = k * k * in->c;

	*out = (nn_t){oh, ow, cv->cout, out->d};
	if (k == 1 && st == 1) {
		int M = oh * ow;
		gemm_run(&cv->w, M, in->d, K, out->d, cv->cout, cv->b,
			 clip ? GEMM_RELU6 : GEMM_LINEAR);
		nn_macs += (uint64_t)M * K * cv->cout;
		return;
	}
	ssd_rows win = {in->d, 0, in->h, in->w, in->c};
	int rows = (int)(bandlen / ((size_t)ow * K));
	if (rows < 1)
		rows = 1;
	for (int y0 = 0; y0 < oh; y0 += rows) {
		int y1 = y0 + rows < oh ? y0 + rows : oh;
		conv_rows(cv, &win, y0, y1, out->d + (size_t)y0 * ow * cv->cout,
			  band, clip);
	}
}

/* Anchor index of the first anchor of head i. */
static int head_base(int i)
{
	int n = 0;
	for (int j = 0; j < i; j++)
		n += head_side[j] * head_side[j] * head_anchors[j];
	return n;
}

/* Box predictor i on x: box encodings and class logits of its anchors,
 * in place in the concatenated outputs. */
static void head(const ssd *s, int i, const nn_t *x, float *box, float *cls)
{
	int base = head_base(i);
	nn_t ob = {x->h, x->w, s->box[i].cout, box + (size_t)base * 4};
	nn_t oc = {x->h, x->w, s->cls[i].cout, cls + (size_t)base * 3};
	conv(&s->box[i], x, &ob, NULL, 0, 0);
	conv(&s->cls[i], x, &oc, NULL, 0, 0);
}

/* ------------------------------------------------------------ output */

/* face-api outputLayer.decodeBoxesLayer for anchor i, in float32 as TF.js
 * computes it: enc (dy, dx, dh, dw) in place becomes ymin, xmin, ymax,
 * xmax relative to the padded square. */
static void decode_box(const float *anchor, float *enc)
{
	float sy = anchor[2] - anchor[0], sx = anchor[3] - anchor[1];
	float cy = anchor[0] + sy / 2.0f, cx = anchor[1] + sx / 2.0f;
	float hy = expf(enc[2] / 5.0f) * sy / 2.0f;
	float yc = enc[0] / 10.0f * sy + cy;
	float hx = expf(enc[3] / 5.0f) * sx / 2.0f;
	float xc = enc[1] / 10.0f * sx + cx;
	enc[0] = yc - hy;
	enc[1] = xc - hx;
	enc[2] = yc + hy;
	enc[3] = xc + hx;
}

/* face-api nonMaxSuppression's IOU, in double on the float corners. */
static double iou(const float *a, const float *b)
{
	double ay0 = fmin(a[0], a[2]), ax0 = fmin(a[1], a[3]);
	double ay1 = fmax(a[0], a[2]), ax1 = fmax(a[1], a[3]);
	double by0 = fmin(b[0], b[2]), bx0 = fmin(b[1], b[3]);
	double by1 = fmax(b[0], b[2]), bx1 = fmax(b[1], b[3]);
	double area_a = (ay1 - ay0) * (ax1 - ax0);
	double area_b = (by1 - by0) * (bx1 - bx0);
	if (area_a <= 0 || area_b <= 0)
		return 0.0;
	double iy0 = fmax(ay0, by0), ix0 = fmax(ax0, bx0);
	double iy1 = fmin(ay1, by1), ix1 = fmin(ax1, bx1);
	double inter = fmax(iy1 - iy0, 0.0) * fmax(ix1 - ix0, 0.0);
	return inter / (area_a + area_b - inter);
}

/* Candidates are (score, index) float pairs; the index is exact in a
 * float (< 2^24).  Score-descending, ties in index order (the stable
 * Array.prototype.sort face-api relies on). */
static int cmp_cand(const void *pa, const void *pb)
{
	const float *a = pa, *b = pb;
	if (a[0] != b[0])
		return a[0] > b[0] ? -1 : 1;
	return a[1] < b[1] ? -1 : a[1] > b[1];
}

/* Scores, face-api's NMS, then SsdMobilenetv1.locateFaces and
 * FaceDetection's rescale to image pixels (in double, as JS). */
int ssd_decode(const ssd *s, float *box, const float *cls, int w, int h,
	       float min_score, face_box *out, int max, float *scratch)
{
	float *cand = scratch, *sel = scratch + 2 * SSD_ANCHORS;
	int nc = 0, ns = 0, n = 0;

	if (!s || !box || !cls || !scratch || w < 1 || h < 1 || max < 0 ||
	    (max > 0 && !out))
		return RECOG_EINVAL;
	if (max > SSD_ANCHORS)
		max = SSD_ANCHORS;

	for (int i = 0; i < SSD_ANCHORS; i++) {
		/* sigmoid of the class-1 logit */
		float sc = 1.0f / (1.0f + expf(-cls[i * 3 + 1]));
		if (sc > min_score) {
			cand[2 * nc] = sc;
			cand[2 * nc + 1] = (float)i;
			nc++;
		}
	}
	qsort(cand, (size_t)nc, 2 * sizeof(float), cmp_cand);
	for (int c = 0; c < nc; c++)
		decode_box(s->anchors + (size_t)cand[2 * c + 1] * 4,
			   box + (size_t)cand[2 * c + 1] * 4);
	for (int c = 0; c < nc && ns < max; c++) {
		const float *bc = box + (size_t)cand[2 * c + 1] * 4;
		double score = cand[2 * c], orig = score;
		for (int j = ns - 1; j >= 0; j--) {
			double v = iou(bc, box + (size_t)sel[j] * 4);
			if (v == 0.0)
				continue;
			score *= v <= SSD_IOU ? 1.0 : 0.0;
			if (score <= min_score)
				break;
		}
		if (orig == score)
			sel[ns++] = cand[2 * c + 1];
	}
	/* the box relative to the resized image, then times the image size:
	 * padX = inputSize / the reshaped width (Math.round), likewise y */
	double scale = (double)SSD_INPUT / (w > h ? w : h);
	double rw = floor(w * scale + 0.5), rh = floor(h * scale + 0.5);
	double pad_x = SSD_INPUT / rw, pad_y = SSD_INPUT / rh;
	for (int j = 0; j < ns; j++) {
		int i = (int)sel[j];
		const float *b = box + (size_t)i * 4;
		double top = fmax(0.0, b[0]) * pad_y;
		double bottom = fmin(1.0, b[2]) * pad_y;
		double left = fmax(0.0, b[1]) * pad_x;
		double right = fmin(1.0, b[3]) * pad_x;
		double bx = left * w, by = top * h;
		double bw = (right - left) * w, bh = (bottom - top) * h;
		/* face-api's Rect throws on a negative side (a box wholly
		 * outside the square); a reshaped side of 0 makes NaNs */
		if (!(bw >= 0 && bh >= 0) || !isfinite(bx) || !isfinite(by) ||
		    !isfinite(bw) || !isfinite(bh))
			continue;
		out[n++] = (face_box){(float)bx, (float)by, (float)bw, (float)bh,
				      1.0f / (1.0f + expf(-cls[i * 3 + 1]))};
	}
	return n;
}

/* ------------------------------------------------------------- input */

/* Rows [y0, y1) of ssd_input's tensor into out. */
static void input_rows(const uint8_t *rgb, int w, int h, int stride, int y0,
		       int y1, float *out)
{
	/* nn_resize_rgb8's arithmetic (TF's legacy resize: src = dst * in /
	 * out, floor, the next pixel clamped to the square, interpolation in
	 * float in TF's order) on the square of side S whose pixels right of
	 * w or below h are 0, with per-column tables; then TF.js's div and
	 * sub, each rounded */
	int S = w > h ? w : h, same = S == SSD_INPUT;
	float sc = (float)S / (float)SSD_INPUT;
	int left[SSD_INPUT], right[SSD_INPUT];
	float xl[SSD_INPUT];

	for (int x = 0; x < SSD_INPUT; x++) {
		float fx = same ? (float)x : (float)x * sc;
		int l = (int)fx; /* floor: fx >= 0 */
		left[x] = l;
		right[x] = l + 1 < S ? l + 1 : S - 1;
		xl[x] = fx - (float)l;
	}
	for (int y = y0; y < y1; y++) {
		float fy = same ? (float)y : (float)y * sc;
		int top = (int)fy, bot = top + 1 < S ? top + 1 : S - 1;
		float yl = fy - (float)top;
		const uint8_t *rt = top < h ? rgb + (size_t)top * stride : NULL;
		const uint8_t *rb = bot < h ? rgb + (size_t)bot * stride : NULL;
		float *o = out + (size_t)(y - y0) * SSD_INPUT * 3;
		for (int x = 0; x < SSD_INPUT; x++, o += 3) {
			int l = left[x], r = right[x];
			const uint8_t *ptl = rt && l < w ? rt + 3 * l : NULL;
			const uint8_t *ptr = rt && r < w ? rt + 3 * r : NULL;
			const uint8_t *pbl = rb && l < w ? rb + 3 * l : NULL;
			const uint8_t *pbr = rb && r < w ? rb + 3 * r : NULL;
			for (int c = 0; c < 3; c++) {
				float tl = ptl ? (float)ptl[c] : 0.0f;
				float tr = ptr ? (float)ptr[c] : 0.0f;
				float bl = pbl ? (float)pbl[c] : 0.0f;
				float br = pbr ? (float)pbr[c] : 0.0f;
				float t = tl + (tr - tl) * xl[x];
				float b = bl + (br - bl) * xl[x];
				o[c] = t + (b - t) * yl;
			}
		}
		o = out + (size_t)(y - y0) * SSD_INPUT * 3;
		for (int i = 0; i < SSD_INPUT * 3; i += 16)
			norm16(o + i);
	}
}

void ssd_input(const uint8_t *rgb, int w, int h, int stride, float *in)
{
	input_rows(rgb, w, h, stride, 0, SSD_INPUT, in);
}

/* ------------------------------------------------------------- chain */

/* A layer of the chain: the input, conv_0 or a separable pair, with the
 * window of its output rows that the next layer reads. */
typedef struct ssd_link {
	const ssd_conv *cv; /* conv_0 or the pair's pointwise half; NULL: input */
	const ssd_dw *dw;   /* the pair's depthwise half; NULL: conv_0, input */
	ssd_rows win;       /* rows [win.base, win.base + n) held */
	float *buf;         /* win.d, writable */
	int n;
	int stage;          /* ms[] slot */
} ssd_link;

typedef struct ssd_chain {
	ssd_link l[SSD_CHAIN];
	const uint8_t *rgb;
	int w, h, stride;
	float *band;
	double *ms;
} ssd_chain;

static void ensure(ssd_chain *ch, int i, int lo, int hi);

/* Rows [r0, r1) of layer i into dst: the rows of layer i - 1 they read
 * are brought into its window first (which may run the layers below). */
static void produce(ssd_chain *ch, int i, int r0, int r1, float *dst)
{
	const ssd_link *L = &ch->l[i];
	double t0;

	if (!L->cv) {
		t0 = ch->ms ? cpu_ms() : 0.0;
		input_rows(ch->rgb, ch->w, ch->h, ch->stride, r0, r1, dst);
	} else {
		const ssd_link *P = &ch->l[i - 1];
		int k = L->dw ? 3 : L->cv->k;
		int st = L->dw ? L->dw->stride : L->cv->stride;
		int pt = nn_pad_before(P->win.h, k, st, NN_SAME);
		int lo = r0 * st - pt, hi = (r1 - 1) * st - pt + k;
		ensure(ch, i - 1, lo > 0 ? lo : 0, hi < P->win.h ? hi : P->win.h);
		t0 = ch->ms ? cpu_ms() : 0.0;
		if (L->dw)
			pair_rows(L->dw, L->cv, &P->win, r0, r1, dst, ch->band);
		else
			conv_rows(L->cv, &P->win, r0, r1, dst, ch->band, 1);
	}
	if (ch->ms)
		ch->ms[L->stage] += cpu_ms() - t0;
}

/* Makes layer i's window hold rows [lo, hi): the rows below lo are
 * dropped (the consumer has moved past them), the missing ones made. */
static void ensure(ssd_chain *ch, int i, int lo, int hi)
{
	ssd_link *L = &ch->l[i];
	size_t row = (size_t)L->win.w * L->win.c;

	if (lo > L->win.base) {
		int keep = L->win.base + L->n - lo;
		keep = keep > 0 ? keep : 0;
		if (keep)
			memmove(L->buf, L->buf + (size_t)(lo - L->win.base) * row,
				sizeof(float) * row * keep);
		L->win.base = lo;
		L->n = keep;
	}
	if (hi > L->win.base + L->n) {
		produce(ch, i, L->win.base + L->n, hi, L->buf + (size_t)L->n * row);
		L->n = hi - L->win.base;
	}
}

/* conv_4's output (64 x 64 x 256) into out from the picture, through the
 * chain, its windows carved from win. */
static void chain_run(const ssd *s, const ssd_layout *lay, const uint8_t *rgb,
		      int w, int h, int stride, float *win, float *band,
		      double *ms, float *out)
{
	ssd_chain ch = {.rgb = rgb, .w = w, .h = h, .stride = stride,
			.band = band, .ms = ms};

	for (int i = 0; i < SSD_CHAIN; i++) {
		ssd_link *L = &ch.l[i];
		L->cv = i == 0 ? NULL : i == 1 ? &s->conv0 : &s->pw[i - 2];
		L->dw = i < 2 ? NULL : &s->dw[i - 2];
		L->win = (ssd_rows){win, 0, chain_side[i], chain_side[i], chain_c[i]};
		L->buf = win;
		L->n = 0;
		/* input, conv_0, conv_1 ...: stages 0, 1, 2 ... */
		L->stage = i;
		if (i < SSD_CHAIN - 1)
			win += al((size_t)lay->cap[i] * chain_side[i] * chain_c[i]);
	}
	size_t row = (size_t)chain_side[SSD_CHAIN - 1] * chain_c[SSD_CHAIN - 1];
	for (int y0 = 0; y0 < chain_side[SSD_CHAIN - 1]; y0 += SSD_CHUNK) {
		int y1 = y0 + SSD_CHUNK;
		if (y1 > chain_side[SSD_CHAIN - 1])
			y1 = chain_side[SSD_CHAIN - 1];
		produce(&ch, SSD_CHAIN - 1, y0, y1, out + (size_t)y0 * row);
	}
}

/* ----------------------------------------------------------- forward */

int ssd_detect_stages(const ssd *s, nn_arena *a, const uint8_t *rgb, int w,
		      int h, int stride, float min_score, face_box *out,
		      int max, double ms[SSD_STAGES])
{
	float *r0, *r1, *band, *box, *cls, *cand;
	nn_t x, y;
	ssd_layout lay;
	double t0;

#define STAGE(k)                                                            \
	do {                                                                \
		if (ms) {                                                   \
			double t1_ = cpu_ms();                              \
			ms[k] += t1_ - t0;                                  \
			t0 = t1_;                                           \
		}                                                           \
	} while (0)

	nn_arena_reset(a);
	if (ms)
		for (int k = 0; k < SSD_STAGES; k++)
			ms[k] = 0.0;
	if (!s || !rgb || w < 1 || h < 1 || stride < 3 * w || max < 0 ||
	    (max > 0 && !out))
		return RECOG_EINVAL;
	layout(&lay);
	r0 = nn_alloc(a, SSD_R0);
	r1 = nn_alloc(a, lay.r1);
	band = nn_alloc(a, lay.band);
	box = nn_alloc(a, (size_t)SSD_ANCHORS * 4);
	cls = nn_alloc(a, (size_t)SSD_ANCHORS * 3);
	cand = nn_alloc(a, (size_t)SSD_ANCHORS * 3);
	if (!cand)
		return RECOG_ENOMEM;

	/* the input .. conv_4, streamed (timed stage by stage inside) */
	chain_run(s, &lay, rgb, w, h, stride, r1, band, ms, r0);
	x = (nn_t){64, 64, 256, r0};
	t0 = ms ? cpu_ms() : 0.0;
	for (int i = 4; i < SSD_PAIRS; i++) {
		y.d = x.d == r0 ? r1 : r0;
		sep_pair(&s->dw[i], &s->pw[i], &x, &y, band, lay.band);
		x = y;
		STAGE(2 + i);
		if (i == 10) {
			/* conv_11's output feeds box predictor 0 */
			head(s, 0, &x, box, cls);
			STAGE(16);
		}
	}
	head(s, 1, &x, box, cls);
	STAGE(16);
	/* prediction_layer: conv_1, 3, 5, 7 feed box predictors 2..5 */
	for (int i = 0; i < SSD_EXTRA; i++) {
		y.d = x.d == r0 ? r1 : r0;
		conv(&s->extra[i], &x, &y, band, lay.band, 1);
		x = y;
		STAGE(15);
		if (i % 2) {
			head(s, 2 + i / 2, &x, box, cls);
			STAGE(16);
		}
	}
	int rc = ssd_decode(s, box, cls, w, h, min_score, out, max, cand);
	STAGE(17);
#undef STAGE
	return rc;
}

int ssd_detect(const ssd *s, nn_arena *a, const uint8_t *rgb, int w, int h,
	       int stride, float min_score, face_box *out, int max)
{
	return ssd_detect_stages(s, a, rgb, w, h, stride, min_score, out, max,
				 NULL);
}
