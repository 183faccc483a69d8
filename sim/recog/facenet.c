/* facenet.c -- the face descriptor of facenet.h: face-api's
 * faceRecognitionNet (a dlib-style ResNet-29 on a 150x150 chip) and the two
 * ways of cutting that chip out of a picture.  Owns the bound weight
 * pointers (into the caller's mdl, which must outlive the fnet); every
 * activation lives in the caller's arena.  Touches no file and allocates
 * nothing per inference. */
#include "facenet.h"
#include "sim_err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* face-api's normalisation: (v - mean) / 255 per RGB channel */
static const float fnet_mean[3] = {122.782f, 117.001f, 104.298f};
#define FNET_DIV 255.0f

/* dlib's alignment constants (face-api FaceLandmarks.ts): the reference
 * point (mean of the eye and mouth centres) sits at (0.5, 0.43) of the chip
 * whose side is the mean eye-to-mouth distance / 0.45 */
#define FNET_REL_X 0.5
#define FNET_REL_Y 0.43
#define FNET_REL_SCALE 0.45

/* One convolution with its affine "scale" layer: relu?(conv(x) * s + t),
 * where the conv's own bias is already folded in.  The folded filters and
 * shift belong to the fnet. */
typedef struct fnet_conv {
	int k, cin, cout;
	const float *filt;  /* HWIO [k][k][cin][cout] */
	const float *bias;  /* [cout] conv bias */
	const float *scale; /* [cout] scale/weights */
	const float *shift; /* [cout] scale/biases */
} fnet_conv;

/* A residual block: conv1 (relu), conv2 (no relu), shortcut, relu.  Down
 * blocks run conv1 3x3/2 'valid' and shortcut through avgpool 2/2. */
typedef struct fnet_block {
	fnet_conv c1, c2;
	int down;
} fnet_block;

/* The blocks in face-api's order, with their channel counts. */
static const struct {
	const char *name;
	int cin, cout, down;
} fnet_blocks[] = {
	{"conv32_1", 32, 32, 0},        {"conv32_2", 32, 32, 0},
	{"conv32_3", 32, 32, 0},        {"conv64_down", 32, 64, 1},
	{"conv64_1", 64, 64, 0},        {"conv64_2", 64, 64, 0},
	{"conv64_3", 64, 64, 0},        {"conv128_down", 64, 128, 1},
	{"conv128_1", 128, 128, 0},     {"conv128_2", 128, 128, 0},
	{"conv256_down", 128, 256, 1},  {"conv256_1", 256, 256, 0},
	{"conv256_2", 256, 256, 0},     {"conv256_down_out", 256, 256, 1},
};
#define FNET_NBLOCKS (sizeof fnet_blocks / sizeof fnet_blocks[0])
#define FNET_STEM_C 32
#define FNET_STEM_K 7
#define FNET_LAST_C 256

struct fnet {
	fnet_conv stem; /* conv32_down: 7x7/2 'valid', 3 -> 32 */
	fnet_block blk[FNET_NBLOCKS];
	const float *fc; /* [256][128], no bias */
};

/* ---- binding ---- */

static int bind_conv(fnet_conv *c, const mdl *m, const char *prefix, int k,
		     int cin, int cout, char *err, size_t errlen)
{
	char name[96];
	const int fs[4] = {k, k, cin, cout}, vs[4] = {cout, 0, 0, 0};

	c->k = k;
	c->cin = cin;
	c->cout = cout;
	snprintf(name, sizeof name, "%s/conv/filters", prefix);
	if (!(c->filt = mdl_get(m, name, 4, fs, err, errlen)))
		return SIM_EMODEL;
	snprintf(name, sizeof name, "%s/conv/bias", prefix);
	if (!(c->bias = mdl_get(m, name, 1, vs, err, errlen)))
		return SIM_EMODEL;
	snprintf(name, sizeof name, "%s/scale/weights", prefix);
	if (!(c->scale = mdl_get(m, name, 1, vs, err, errlen)))
		return SIM_EMODEL;
	snprintf(name, sizeof name, "%s/scale/biases", prefix);
	if (!(c->shift = mdl_get(m, name, 1, vs, err, errlen)))
		return SIM_EMODEL;
	return 0;
}

fnet *fnet_new(const mdl *m, char *err, size_t errlen)
{
	int rc;
	char prefix[64];
	const int fcs[4] = {FNET_LAST_C, FNET_DIM, 0, 0};
	fnet *f = calloc(1, sizeof(*f));

	if (!f) {
		if (err && errlen)
			snprintf(err, errlen, "face recognition net: out of memory");
		return NULL;
	}
	rc = bind_conv(&f->stem, m, "conv32_down", FNET_STEM_K, 3, FNET_STEM_C,
		       err, errlen);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < FNET_NBLOCKS; i++) {
		fnet_block *b = &f->blk[i];
		b->down = fnet_blocks[i].down;
		snprintf(prefix, sizeof prefix, "%s/conv1", fnet_blocks[i].name);
		rc = bind_conv(&b->c1, m, prefix, 3, fnet_blocks[i].cin,
			       fnet_blocks[i].cout, err, errlen);
		if (rc < 0)
			goto out;
		snprintf(prefix, sizeof prefix, "%s/conv2", fnet_blocks[i].name);
		rc = bind_conv(&b->c2, m, prefix, 3, fnet_blocks[i].cout,
			       fnet_blocks[i].cout, err, errlen);
		if (rc < 0)
			goto out;
	}
	if (!(f->fc = mdl_get(m, "fc", 2, fcs, err, errlen)))
		rc = SIM_EMODEL;
out:
	if (rc < 0) {
		fnet_free(f);
		return NULL;
	}
	return f;
}

void fnet_free(fnet *f)
{
	free(f);
}

/* ---- the net ---- */

/* Arena floats of one tensor as nn_alloc rounds it (64-byte starts). */
static size_t arena_sz(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

/* The arena the forward pass takes above its input, walking the same
 * shapes: every layer output stays live (the bump arena frees nothing
 * before the reset) plus the largest im2col scratch. */
static size_t forward_floats(void)
{
	size_t sum = 0, col = 0, c;
	int s = nn_out_size(FNET_INPUT, FNET_STEM_K, 2, NN_VALID);

	col = (size_t)s * s * FNET_STEM_K * FNET_STEM_K * 3;
	sum += arena_sz((size_t)s * s * FNET_STEM_C);
	s = nn_out_size(s, 3, 2, NN_VALID);
	sum += arena_sz((size_t)s * s * FNET_STEM_C);
	for (size_t i = 0; i < FNET_NBLOCKS; i++) {
		int cin = fnet_blocks[i].cin;
		c = (size_t)fnet_blocks[i].cout;
		if (!fnet_blocks[i].down) {
			size_t n = (size_t)s * s * c;
			sum += 2 * arena_sz(n);
			if (n * 9 > col)
				col = n * 9;
			continue;
		}
		int o = nn_out_size(s, 3, 2, NN_VALID);
		int p = nn_out_size(s, 2, 2, NN_VALID);
		if ((size_t)o * o * 9 * cin > col)
			col = (size_t)o * o * 9 * cin;
		if ((size_t)o * o * 9 * c > col)
			col = (size_t)o * o * 9 * c;
		sum += 2 * arena_sz((size_t)o * o * c); /* conv1, conv2 */
		sum += arena_sz((size_t)p * p * cin);   /* avgpool */
		sum += arena_sz((size_t)p * p * c);     /* block output */
		s = p;
	}
	return sum + arena_sz(col) + 16;
}

size_t fnet_arena_floats(void)
{
	return arena_sz((size_t)FNET_INPUT * FNET_INPUT * 3) + forward_floats();
}

/* relu?(conv(x) + bias) * scale + shift, as face-api's convLayer. */
static nn_t conv_layer(nn_arena *a, const fnet_conv *c, const nn_t *x,
		       int stride, nn_pad pad, int relu)
{
	nn_t t = nn_conv2d(a, x, c->filt, c->k, c->k, c->cout, c->bias, stride,
			   pad);
	if (!t.d)
		return t;
	nn_scale_bias(&t, c->scale, c->shift);
	if (relu)
		nn_relu(&t);
	return t;
}

/* x <- block(x).  A down block's shortcut is avgpool 2/2 'valid' of x,
 * zero-padded in channels; when the conv branch is smaller (3 vs 4, 1 vs
 * 2) face-api appends one zero row at the bottom and one zero column at
 * the right of it. */
static int run_block(nn_arena *a, const fnet_block *b, nn_t *x)
{
	nn_t t = conv_layer(a, &b->c1, x, b->down ? 2 : 1,
			    b->down ? NN_VALID : NN_SAME, 1);
	if (!t.d)
		return SIM_ENOMEM;
	nn_t u = conv_layer(a, &b->c2, &t, 1, NN_SAME, 0);
	if (!u.d)
		return SIM_ENOMEM;
	if (!b->down) {
		nn_add(&u, x);
		nn_relu(&u);
		*x = u;
		return 0;
	}
	nn_t p = nn_avgpool(a, x, 2, 2, NN_VALID);
	if (!p.d)
		return SIM_ENOMEM;
	if (u.h > p.h || u.w > p.w || p.c > u.c)
		return SIM_EINVAL;
	nn_t o = nn_tensor(a, p.h, p.w, u.c);
	if (!o.d)
		return SIM_ENOMEM;
	for (int y = 0; y < o.h; y++)
		for (int xx = 0; xx < o.w; xx++) {
			float *d = o.d + ((size_t)y * o.w + xx) * o.c;
			const float *ps = p.d + ((size_t)y * p.w + xx) * p.c;
			const float *us = y < u.h && xx < u.w ?
				u.d + ((size_t)y * u.w + xx) * u.c : NULL;
			for (int c = 0; c < o.c; c++) {
				float v = (c < p.c ? ps[c] : 0.0f) +
					  (us ? us[c] : 0.0f);
				d[c] = v > 0.0f ? v : 0.0f;
			}
		}
	*x = o;
	return 0;
}

int fnet_forward(const fnet *f, nn_arena *a, const nn_t *in,
		 float desc[FNET_DIM])
{
	float avg[FNET_LAST_C];
	int rc;

	if (!f || !a || !in || !in->d || in->h != FNET_INPUT ||
	    in->w != FNET_INPUT || in->c != 3)
		return SIM_EINVAL;
	nn_t x = conv_layer(a, &f->stem, in, 2, NN_VALID, 1);
	if (!x.d)
		return SIM_ENOMEM;
	x = nn_maxpool(a, &x, 3, 2, NN_VALID);
	if (!x.d)
		return SIM_ENOMEM;
	for (size_t i = 0; i < FNET_NBLOCKS; i++) {
		rc = run_block(a, &f->blk[i], &x);
		if (rc < 0)
			return rc;
	}
	/* mean over H, W */
	size_t n = (size_t)x.h * x.w;
	for (int c = 0; c < x.c; c++)
		avg[c] = 0.0f;
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < x.c; c++)
			avg[c] += x.d[i * x.c + c];
	for (int c = 0; c < x.c; c++)
		avg[c] /= (float)n;
	nn_fc(avg, FNET_LAST_C, f->fc, FNET_DIM, NULL, desc);
	return 0;
}

/* ---- alignment ---- */

typedef struct fnet_geom {
	double le[2], re[2], mo[2]; /* eye and mouth centres */
	double ref[2];              /* their mean */
	double size;                /* mean eye-mouth distance / 0.45 */
} fnet_geom;

static void centre(const float pts[LMK_N][2], int from, int to, double c[2])
{
	c[0] = c[1] = 0.0;
	for (int i = from; i < to; i++) {
		c[0] += pts[i][0];
		c[1] += pts[i][1];
	}
	c[0] /= to - from;
	c[1] /= to - from;
}

static void geometry(const float pts[LMK_N][2], fnet_geom *g)
{
	centre(pts, 36, 42, g->le);
	centre(pts, 42, 48, g->re);
	centre(pts, 48, 68, g->mo);
	double dl = hypot(g->mo[0] - g->le[0], g->mo[1] - g->le[1]);
	double dr = hypot(g->mo[0] - g->re[0], g->mo[1] - g->re[1]);
	g->size = (dl + dr) / 2.0 / FNET_REL_SCALE;
	for (int k = 0; k < 2; k++)
		g->ref[k] = (g->le[k] + g->re[k] + g->mo[k]) / 3.0;
}

/* face-api's alignDlib + clipAtImageBorders + padToSquare(centred) +
 * legacy resize: the chip of a floored, clipped, unrotated square. */
static int chip_faceapi(const uint8_t *rgb, int w, int h, int stride,
			const fnet_geom *g, nn_t *in, int crop[4])
{
	if (!isfinite(g->size) || !isfinite(g->ref[0]) || !isfinite(g->ref[1]))
		return SIM_EINVAL;
	double size = floor(g->size);
	double x = floor(fmax(0.0, g->ref[0] - FNET_REL_X * size));
	double y = floor(fmax(0.0, g->ref[1] - FNET_REL_Y * size));
	double cw = fmin(size, (double)w - x), ch = fmin(size, (double)h - y);
	if (!(cw >= 1.0 && ch >= 1.0))
		return SIM_EINVAL;
	int cx = (int)x, cy = (int)y, iw = (int)cw, ih = (int)ch;
	int side = iw > ih ? iw : ih, diff = abs(ih - iw);
	int before = diff - (diff + 1) / 2; /* Math.round(diff / 2) goes after */
	if (crop) {
		crop[0] = cx;
		crop[1] = cy;
		crop[2] = iw;
		crop[3] = ih;
	}
	nn_resize_rgb8(rgb, stride, cx, cy, iw, ih, ih > iw ? before : 0,
		       iw > ih ? before : 0, side, side, in, fnet_mean,
		       FNET_DIV);
	return 0;
}

/* Pixel channel value, zero outside the image. */
static inline float px_at(const uint8_t *rgb, int w, int h, int stride, int x,
			  int y, int c)
{
	if (x < 0 || y < 0 || x >= w || y >= h)
		return 0.0f;
	return (float)rgb[(size_t)y * stride + (size_t)x * 3 + c];
}

/* The similarity chip: chip pixel (u, v) samples the image at
 * o + u s e1 + v s e2 (bilinear, zero outside), e1 along the eye line,
 * e2 perpendicular, s = size / 150, o placing ref at (0.5, 0.43) of the
 * chip.  Sampling at u s (not (u + 0.5) s - 0.5) follows TF's legacy
 * resize, so that an upright face gives face-api's chip up to its
 * flooring. */
static int chip_similarity(const uint8_t *rgb, int w, int h, int stride,
			   const fnet_geom *g, nn_t *in, int crop[4])
{
	double ang = atan2(g->re[1] - g->le[1], g->re[0] - g->le[0]);
	double cs = cos(ang), sn = sin(ang);
	double s = g->size / FNET_INPUT;
	double ox, oy, x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY,
		       y1 = -INFINITY;

	if (!isfinite(s) || !isfinite(ang) || !(s > 0.0) ||
	    !isfinite(g->ref[0]) || !isfinite(g->ref[1]))
		return SIM_EINVAL;
	ox = g->ref[0] - FNET_REL_X * g->size * cs + FNET_REL_Y * g->size * sn;
	oy = g->ref[1] - FNET_REL_X * g->size * sn - FNET_REL_Y * g->size * cs;
	for (int k = 0; k < 4; k++) {
		double u = (k & 1) ? g->size : 0.0, v = (k & 2) ? g->size : 0.0;
		double px = ox + u * cs - v * sn, py = oy + u * sn + v * cs;
		x0 = fmin(x0, px);
		y0 = fmin(y0, py);
		x1 = fmax(x1, px);
		y1 = fmax(y1, py);
	}
	x0 = fmax(0.0, floor(x0));
	y0 = fmax(0.0, floor(y0));
	x1 = fmin((double)w, ceil(x1));
	y1 = fmin((double)h, ceil(y1));
	if (!(x1 > x0 && y1 > y0))
		return SIM_EINVAL;
	if (crop) {
		crop[0] = (int)x0;
		crop[1] = (int)y0;
		crop[2] = (int)(x1 - x0);
		crop[3] = (int)(y1 - y0);
	}
	for (int v = 0; v < FNET_INPUT; v++)
		for (int u = 0; u < FNET_INPUT; u++) {
			double fx = ox + s * (u * cs - v * sn);
			double fy = oy + s * (u * sn + v * cs);
			double flx = floor(fx), fly = floor(fy);
			int ix = (int)flx, iy = (int)fly;
			float ax = (float)(fx - flx), ay = (float)(fy - fly);
			float *o = in->d + ((size_t)v * FNET_INPUT + u) * 3;
			for (int c = 0; c < 3; c++) {
				float tl = px_at(rgb, w, h, stride, ix, iy, c);
				float tr = px_at(rgb, w, h, stride, ix + 1, iy, c);
				float bl = px_at(rgb, w, h, stride, ix, iy + 1, c);
				float br = px_at(rgb, w, h, stride, ix + 1, iy + 1, c);
				float t = tl + (tr - tl) * ax;
				float b = bl + (br - bl) * ax;
				o[c] = (t + (b - t) * ay - fnet_mean[c]) / FNET_DIV;
			}
		}
	return 0;
}

int fnet_descriptor(const fnet *f, nn_arena *a, const uint8_t *rgb, int w,
		    int h, int stride, const float pts[LMK_N][2],
		    fnet_align align, float desc[FNET_DIM], int crop[4])
{
	fnet_geom g;
	int rc;

	if (!f || !a || !rgb || w < 1 || h < 1 || stride < 3 * w || !pts ||
	    !desc)
		return SIM_EINVAL;
	nn_arena_reset(a);
	nn_t in = nn_tensor(a, FNET_INPUT, FNET_INPUT, 3);
	if (!in.d)
		return SIM_ENOMEM;
	geometry(pts, &g);
	if (align == FNET_ALIGN_FACEAPI)
		rc = chip_faceapi(rgb, w, h, stride, &g, &in, crop);
	else if (align == FNET_ALIGN_SIMILARITY)
		rc = chip_similarity(rgb, w, h, stride, &g, &in, crop);
	else
		rc = SIM_EINVAL;
	if (rc < 0)
		return rc;
	return fnet_forward(f, a, &in, desc);
}
