/* facenet.c -- the face descriptor of facenet.h: face-api's
 * faceRecognitionNet (a dlib-style ResNet-29 on a 150x150 chip) and the two
 * ways of cutting that chip out of a picture.  Owns the bound weight
 * pointers (into the caller's mdl, which must outlive the fnet); every
 * activation lives in the caller's arena.  Touches no file and allocates
 * nothing per inference. */
#include "facenet.h"
#include "base.h"
#include "core_err.h"

#include <cblas.h>
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

/* One convolution and face-api's affine "scale" layer after it:
 * relu?((conv(x) + bias) * scale + shift), with the weights as loaded.
 * (Folding the scale into the filters would save nothing: the epilogue
 * that applies it is one fused pass; it would only change the rounding.) */
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
#define FNET_NBLOCKS ARRAY_SIZE(fnet_blocks)
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
		return RECOG_EMODEL;
	snprintf(name, sizeof name, "%s/conv/bias", prefix);
	if (!(c->bias = mdl_get(m, name, 1, vs, err, errlen)))
		return RECOG_EMODEL;
	snprintf(name, sizeof name, "%s/scale/weights", prefix);
	if (!(c->scale = mdl_get(m, name, 1, vs, err, errlen)))
		return RECOG_EMODEL;
	snprintf(name, sizeof name, "%s/scale/biases", prefix);
	if (!(c->shift = mdl_get(m, name, 1, vs, err, errlen)))
		return RECOG_EMODEL;
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
		rc = RECOG_EMODEL;
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

/* The im2col scratch of one band of output rows: at most this many floats
 * (one full row of patches when a row alone is larger), so that a band's
 * patches and products stay in L2 while the epilogue runs on them. */
#define FNET_BAND_FLOATS (192 * 1024)

static size_t band_rows(int ow, size_t kdim)
{
	size_t row = (size_t)ow * kdim, n = FNET_BAND_FLOATS / row;
	return n ? n : 1;
}

static size_t band_floats(int oh, int ow, size_t kdim)
{
	size_t n = band_rows(ow, kdim);
	return (n < (size_t)oh ? n : (size_t)oh) * ow * kdim;
}

/* The arena the forward pass takes above its input, walking the same
 * shapes: every layer output stays live (the bump arena frees nothing
 * before the reset) plus the largest im2col band. */
static size_t forward_floats(void)
{
	size_t sum = 0, col, c;
	int s = nn_out_size(FNET_INPUT, FNET_STEM_K, 2, NN_VALID);

	col = band_floats(s, s, FNET_STEM_K * FNET_STEM_K * 3);
	sum += arena_sz((size_t)s * s * FNET_STEM_C);
	s = nn_out_size(s, 3, 2, NN_VALID);
	sum += arena_sz((size_t)s * s * FNET_STEM_C);
	for (size_t i = 0; i < FNET_NBLOCKS; i++) {
		size_t cin = (size_t)fnet_blocks[i].cin, b1, b2;
		int o = fnet_blocks[i].down ? nn_out_size(s, 3, 2, NN_VALID) : s;
		int p = fnet_blocks[i].down ? nn_out_size(s, 2, 2, NN_VALID) : s;
		c = (size_t)fnet_blocks[i].cout;
		b1 = band_floats(o, o, 9 * cin);
		b2 = band_floats(o, o, 9 * c);
		col = b1 > col ? b1 : col;
		col = b2 > col ? b2 : col;
		sum += 2 * arena_sz((size_t)o * o * c); /* conv1, conv2 */
		if (fnet_blocks[i].down)
			sum += arena_sz((size_t)p * p * c); /* block output */
		s = p;
	}
	return sum + arena_sz(col) + 16;
}

size_t fnet_arena_floats(void)
{
	return arena_sz((size_t)FNET_INPUT * FNET_INPUT * 3) + forward_floats();
}

/* Patches of output rows [y0, y1) of a k x k convolution into col, one
 * row of k*k*C floats (the filter's HWI order) per output pixel, zero
 * outside the image.  In NHWC the k pixels of one filter row are
 * contiguous, so each is one copy away from the image. */
static void im2col(const nn_t *x, int k, int stride, int pt, int pl, int ow,
		   int y0, int y1, float *col)
{
	int C = x->c;
	size_t run = (size_t)k * C, kdim = run * k;

	for (int oy = y0; oy < y1; oy++)
		for (int ox = 0; ox < ow; ox++) {
			float *r = col + ((size_t)(oy - y0) * ow + ox) * kdim;
			int ix0 = ox * stride - pl;
			for (int ky = 0; ky < k; ky++, r += run) {
				int iy = oy * stride - pt + ky;
				if (iy < 0 || iy >= x->h) {
					memset(r, 0, run * sizeof(float));
					continue;
				}
				const float *src = x->d + (size_t)iy * x->w * C;
				if (ix0 >= 0 && ix0 + k <= x->w) {
					memcpy(r, src + (size_t)ix0 * C, run * sizeof(float));
					continue;
				}
				for (int kx = 0; kx < k; kx++) {
					int ix = ix0 + kx;
					if (ix < 0 || ix >= x->w)
						memset(r + (size_t)kx * C, 0, C * sizeof(float));
					else
						memcpy(r + (size_t)kx * C, src + (size_t)ix * C,
						       C * sizeof(float));
				}
			}
		}
}

/* o = relu?(((o + bias) * scale + shift) + res) over n pixels of c
 * channels (res may be NULL): face-api's conv + bias, scale layer,
 * residual add and ReLU in their order, in one pass.  c is a multiple of
 * 8; the fixed inner blocks let GCC vectorise at -O2. */
static void epilogue(float *restrict o, size_t n, int c,
		     const float *restrict bias, const float *restrict scale,
		     const float *restrict shift, const float *restrict res,
		     int relu)
{
	for (size_t i = 0; i < n; i++, o += c) {
		for (int k = 0; k < c; k += 8)
			for (int j = 0; j < 8; j++)
				o[k + j] = (o[k + j] + bias[k + j]) * scale[k + j] +
					   shift[k + j];
		if (res) {
			for (int k = 0; k < c; k += 8)
				for (int j = 0; j < 8; j++)
					o[k + j] += res[k + j];
			res += c;
		}
		if (relu)
			for (int k = 0; k < c; k += 8)
				for (int j = 0; j < 8; j++)
					o[k + j] = o[k + j] > 0.0f ? o[k + j] : 0.0f;
	}
}

/* One output pixel (a 1x1 output): each filter row's in-image taps are
 * contiguous both in the NHWC input and in the HWIO filter, so the product
 * is a few matrix-vector products straight from the input, and the taps
 * that only meet padding (all but the centre on a 1x1 'same' input) are
 * skipped.  Returns the multiply-accumulates done. */
static uint64_t conv_pixel(const fnet_conv *c, const nn_t *x, int pt, int pl,
			   float *out)
{
	int cin = x->c, kx0 = pl > 0 ? pl : 0;
	int kx1 = x->w + pl < c->k ? x->w + pl : c->k;
	uint64_t macs = 0;
	float beta = 0.0f;

	memset(out, 0, sizeof(float) * c->cout);
	for (int ky = 0; ky < c->k; ky++) {
		int iy = ky - pt;
		if (iy < 0 || iy >= x->h || kx1 <= kx0)
			continue;
		int rows = (kx1 - kx0) * cin;
		cblas_sgemv(CblasRowMajor, CblasTrans, rows, c->cout, 1.0f,
			    c->filt + (size_t)(ky * c->k + kx0) * cin * c->cout,
			    c->cout,
			    x->d + ((size_t)iy * x->w + (kx0 - pl)) * cin, 1,
			    beta, out, 1);
		beta = 1.0f;
		macs += (uint64_t)rows * c->cout;
	}
	return macs;
}

/* relu?(scale * (conv(x) + bias) + shift [+ res]) as face-api's convLayer
 * (and the residual add of its block when res is given): im2col and one
 * sgemm per band of output rows, the epilogue on each band while it is
 * still in cache.  Returns the output (d NULL when the arena is full). */
static nn_t conv_layer(nn_arena *a, const fnet_conv *c, const nn_t *x,
		       int stride, nn_pad pad, const nn_t *res, int relu)
{
	int oh = nn_out_size(x->h, c->k, stride, pad);
	int ow = nn_out_size(x->w, c->k, stride, pad);
	int pt = nn_pad_before(x->h, c->k, stride, pad);
	int pl = nn_pad_before(x->w, c->k, stride, pad);
	int kdim = c->k * c->k * x->c;
	size_t rows = band_rows(ow, (size_t)kdim);
	nn_t out = nn_tensor(a, oh, ow, c->cout);
	size_t mark = a->used;
	float *col;

	if (!out.d)
		return out;
	if (oh == 1 && ow == 1) {
		nn_macs += conv_pixel(c, x, pt, pl, out.d);
		epilogue(out.d, 1, c->cout, c->bias, c->scale, c->shift,
			 res ? res->d : NULL, relu);
		return out;
	}
	if (rows > (size_t)oh)
		rows = (size_t)oh;
	col = nn_alloc(a, rows * ow * kdim);
	if (!col) {
		out.d = NULL;
		return out;
	}
	for (int y0 = 0; y0 < oh; y0 += (int)rows) {
		int y1 = y0 + (int)rows < oh ? y0 + (int)rows : oh;
		size_t off = (size_t)y0 * ow * c->cout, m = (size_t)(y1 - y0) * ow;
		im2col(x, c->k, stride, pt, pl, ow, y0, y1, col);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m,
			    c->cout, kdim, 1.0f, col, kdim, c->filt, c->cout,
			    0.0f, out.d + off, c->cout);
		epilogue(out.d + off, m, c->cout, c->bias, c->scale, c->shift,
			 res ? res->d + off : NULL, relu);
	}
	nn_macs += (uint64_t)oh * ow * kdim * c->cout;
	a->used = mark; /* the im2col band lay above the output */
	return out;
}

/* x <- block(x).  A plain block is relu(conv2(conv1(x)) + x).  A down
 * block's shortcut is avgpool 2/2 'valid' of x, zero-padded in channels;
 * when the conv branch is smaller (3 vs 4, 1 vs 2) face-api appends one
 * zero row at the bottom and one zero column at the right of it. */
static int run_block(nn_arena *a, const fnet_block *b, nn_t *x)
{
	nn_t t = conv_layer(a, &b->c1, x, b->down ? 2 : 1,
			    b->down ? NN_VALID : NN_SAME, NULL, 1);
	if (!t.d)
		return RECOG_ENOMEM;
	nn_t u = conv_layer(a, &b->c2, &t, 1, NN_SAME, b->down ? NULL : x,
			    !b->down);
	if (!u.d)
		return RECOG_ENOMEM;
	if (!b->down) {
		*x = u;
		return 0;
	}
	int ph = nn_out_size(x->h, 2, 2, NN_VALID);
	int pw = nn_out_size(x->w, 2, 2, NN_VALID);
	if (u.h > ph || u.w > pw || x->c > u.c)
		return RECOG_EINVAL;
	nn_t o = nn_tensor(a, ph, pw, u.c);
	if (!o.d)
		return RECOG_ENOMEM;
	for (int y = 0; y < ph; y++)
		for (int xx = 0; xx < pw; xx++) {
			float *d = o.d + ((size_t)y * pw + xx) * o.c;
			const float *p00 = x->d + ((size_t)(2 * y) * x->w + 2 * xx) * x->c;
			const float *p01 = p00 + x->c;
			const float *p10 = p00 + (size_t)x->w * x->c;
			const float *p11 = p10 + x->c;
			const float *us = y < u.h && xx < u.w ?
				u.d + ((size_t)y * u.w + xx) * u.c : NULL;
			for (int c = 0; c < o.c; c++) {
				float v = c < x->c ?
					(((p00[c] + p01[c]) + p10[c]) + p11[c]) / 4.0f :
					0.0f;
				v += us ? us[c] : 0.0f;
				d[c] = v > 0.0f ? v : 0.0f;
			}
		}
	*x = o;
	return 0;
}

/* maxpool 3/2 'valid', c a multiple of 8. */
static nn_t maxpool3s2(nn_arena *a, const nn_t *x)
{
	int oh = nn_out_size(x->h, 3, 2, NN_VALID);
	int ow = nn_out_size(x->w, 3, 2, NN_VALID);
	int C = x->c;
	nn_t out = nn_tensor(a, oh, ow, C);

	if (!out.d)
		return out;
	for (int oy = 0; oy < oh; oy++)
		for (int ox = 0; ox < ow; ox++) {
			float *restrict o = out.d + ((size_t)oy * ow + ox) * C;
			const float *p = x->d + ((size_t)(2 * oy) * x->w + 2 * ox) * C;
			memcpy(o, p, C * sizeof(float));
			for (int ky = 0; ky < 3; ky++)
				for (int kx = 0; kx < 3; kx++) {
					const float *restrict q =
						p + ((size_t)ky * x->w + kx) * C;
					for (int k = 0; k < C; k += 8)
						for (int j = 0; j < 8; j++)
							o[k + j] = q[k + j] > o[k + j] ?
								q[k + j] : o[k + j];
				}
		}
	return out;
}

int fnet_forward(const fnet *f, nn_arena *a, const nn_t *in,
		 float desc[FNET_DIM])
{
	float avg[FNET_LAST_C];
	int rc;

	if (!f || !a || !in || !in->d || in->h != FNET_INPUT ||
	    in->w != FNET_INPUT || in->c != 3)
		return RECOG_EINVAL;
	nn_t x = conv_layer(a, &f->stem, in, 2, NN_VALID, NULL, 1);
	if (!x.d)
		return RECOG_ENOMEM;
	x = maxpool3s2(a, &x);
	if (!x.d)
		return RECOG_ENOMEM;
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

/* TF's legacy resizeBilinear (src = dst * in / out, no half-pixel
 * offset) of the rw x rh RGB region at px, zero-padded to a side x side
 * square with the region at (pad_x, pad_y), into the 150x150 chip,
 * normalised.  The same float operations in the same order as
 * nn_resize_rgb8 (so the same bits), with the per-column and per-row
 * indices and weights computed once instead of per sample. */
static void legacy_resize(const uint8_t *px, int stride, int rw, int rh,
			  int pad_x, int pad_y, int side, nn_t *in)
{
	int lo[FNET_INPUT], ro[FNET_INPUT]; /* byte offsets, -1 outside */
	float xl[FNET_INPUT];
	int same = side == FNET_INPUT;
	float sc = (float)side / (float)FNET_INPUT;

	for (int x = 0; x < FNET_INPUT; x++) {
		float fx = same ? (float)x : (float)x * sc;
		int left = (int)fx; /* fx >= 0: truncation is floor */
		int right = left + 1 < side ? left + 1 : side - 1;
		xl[x] = fx - (float)left;
		left -= pad_x;
		right -= pad_x;
		lo[x] = left >= 0 && left < rw ? left * 3 : -1;
		ro[x] = right >= 0 && right < rw ? right * 3 : -1;
	}
	for (int y = 0; y < FNET_INPUT; y++) {
		float fy = same ? (float)y : (float)y * sc;
		int top = (int)fy;
		int bot = top + 1 < side ? top + 1 : side - 1;
		float yl = fy - (float)top;
		top -= pad_y;
		bot -= pad_y;
		const uint8_t *tr = top >= 0 && top < rh ? px + (size_t)top * stride : NULL;
		const uint8_t *br = bot >= 0 && bot < rh ? px + (size_t)bot * stride : NULL;
		float *o = in->d + (size_t)y * FNET_INPUT * 3;
		for (int x = 0; x < FNET_INPUT; x++, o += 3) {
			int l = lo[x], r = ro[x];
			for (int c = 0; c < 3; c++) {
				float tl = tr && l >= 0 ? (float)tr[l + c] : 0.0f;
				float tt = tr && r >= 0 ? (float)tr[r + c] : 0.0f;
				float bl = br && l >= 0 ? (float)br[l + c] : 0.0f;
				float bb = br && r >= 0 ? (float)br[r + c] : 0.0f;
				float t = tl + (tt - tl) * xl[x];
				float b = bl + (bb - bl) * xl[x];
				float v = t + (b - t) * yl;
				o[c] = (v - fnet_mean[c]) / FNET_DIV;
			}
		}
	}
}

/* face-api's alignDlib + clipAtImageBorders + padToSquare(centred) +
 * legacy resize: the chip of a floored, clipped, unrotated square.
 * alignDlib returns Rect(x, y, min(size, imageWidth + x), min(size,
 * imageHeight + y)) where the landmarks' "image" is the landmark crop
 * they came from: det (w, h of detCrop; NULL for none) gives that clamp,
 * which only bites for a face at the left or top edge. */
static int chip_faceapi(const uint8_t *rgb, int w, int h, int stride,
			const fnet_geom *g, const int det[4], nn_t *in,
			int crop[4])
{
	if (!isfinite(g->size) || !isfinite(g->ref[0]) || !isfinite(g->ref[1]))
		return RECOG_EINVAL;
	double size = floor(g->size);
	double x = floor(fmax(0.0, g->ref[0] - FNET_REL_X * size));
	double y = floor(fmax(0.0, g->ref[1] - FNET_REL_Y * size));
	double rw = det ? fmin(size, det[2] + x) : size;
	double rh = det ? fmin(size, det[3] + y) : size;
	double cw = fmin(rw, (double)w - x), ch = fmin(rh, (double)h - y);
	if (!(cw >= 1.0 && ch >= 1.0))
		return RECOG_EINVAL;
	int cx = (int)x, cy = (int)y, iw = (int)cw, ih = (int)ch;
	int side = iw > ih ? iw : ih, diff = abs(ih - iw);
	int before = diff - (diff + 1) / 2; /* Math.round(diff / 2) goes after */
	if (crop) {
		crop[0] = cx;
		crop[1] = cy;
		crop[2] = iw;
		crop[3] = ih;
	}
	legacy_resize(rgb + (size_t)cy * stride + (size_t)cx * 3, stride, iw, ih,
		      ih > iw ? before : 0, iw > ih ? before : 0, side, in);
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
	const float inv = 1.0f / FNET_DIV;

	if (!isfinite(s) || !isfinite(ang) || !(s > 0.0) ||
	    !isfinite(g->ref[0]) || !isfinite(g->ref[1]))
		return RECOG_EINVAL;
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
	/* the samples lie within these corners: keep them int-sized */
	if (fmax(fabs(x0), fabs(x1)) > 1e9 || fmax(fabs(y0), fabs(y1)) > 1e9)
		return RECOG_EINVAL;
	x0 = fmax(0.0, floor(x0));
	y0 = fmax(0.0, floor(y0));
	x1 = fmin((double)w, ceil(x1));
	y1 = fmin((double)h, ceil(y1));
	if (!(x1 > x0 && y1 > y0))
		return RECOG_EINVAL;
	if (crop) {
		crop[0] = (int)x0;
		crop[1] = (int)y0;
		crop[2] = (int)(x1 - x0);
		crop[3] = (int)(y1 - y0);
	}
	for (int v = 0; v < FNET_INPUT; v++) {
		float *o = in->d + (size_t)v * FNET_INPUT * 3;
		for (int u = 0; u < FNET_INPUT; u++, o += 3) {
			double fx = ox + s * (u * cs - v * sn);
			double fy = oy + s * (u * sn + v * cs);
			int ix = (int)fx, iy = (int)fy;
			ix -= fx < ix; /* floor: |fx| <= 1e9 (checked above) */
			iy -= fy < iy;
			float ax = (float)(fx - ix), ay = (float)(fy - iy);
			if (ix >= 0 && iy >= 0 && ix + 1 < w && iy + 1 < h) {
				const uint8_t *p = rgb + (size_t)iy * stride + (size_t)ix * 3;
				for (int c = 0; c < 3; c++) {
					float tl = p[c], tr = p[3 + c];
					float bl = p[stride + c], br = p[stride + 3 + c];
					float t = tl + (tr - tl) * ax;
					float b = bl + (br - bl) * ax;
					o[c] = (t + (b - t) * ay - fnet_mean[c]) * inv;
				}
				continue;
			}
			for (int c = 0; c < 3; c++) {
				float tl = px_at(rgb, w, h, stride, ix, iy, c);
				float tr = px_at(rgb, w, h, stride, ix + 1, iy, c);
				float bl = px_at(rgb, w, h, stride, ix, iy + 1, c);
				float br = px_at(rgb, w, h, stride, ix + 1, iy + 1, c);
				float t = tl + (tr - tl) * ax;
				float b = bl + (br - bl) * ax;
				o[c] = (t + (b - t) * ay - fnet_mean[c]) * inv;
			}
		}
	}
	return 0;
}

int fnet_chip(const uint8_t *rgb, int w, int h, int stride,
	      const float pts[LMK_N][2], const int det_crop[4],
	      fnet_align align, nn_t *in, int crop[4])
{
	fnet_geom g;

	if (!rgb || w < 1 || h < 1 || stride < 3 * w || !pts || !in ||
	    !in->d || in->h != FNET_INPUT || in->w != FNET_INPUT || in->c != 3)
		return RECOG_EINVAL;
	geometry(pts, &g);
	if (align == FNET_ALIGN_FACEAPI)
		return chip_faceapi(rgb, w, h, stride, &g, det_crop, in, crop);
	if (align == FNET_ALIGN_SIMILARITY)
		return chip_similarity(rgb, w, h, stride, &g, in, crop);
	return RECOG_EINVAL;
}

int fnet_descriptor_det(const fnet *f, nn_arena *a, const uint8_t *rgb,
			int w, int h, int stride, const float pts[LMK_N][2],
			const int det_crop[4], fnet_align align,
			float desc[FNET_DIM], int crop[4])
{
	int rc;

	if (!f || !a || !desc)
		return RECOG_EINVAL;
	nn_arena_reset(a);
	nn_t in = nn_tensor(a, FNET_INPUT, FNET_INPUT, 3);
	if (!in.d)
		return RECOG_ENOMEM;
	rc = fnet_chip(rgb, w, h, stride, pts, det_crop, align, &in, crop);
	if (rc < 0)
		return rc;
	return fnet_forward(f, a, &in, desc);
}

int fnet_descriptor(const fnet *f, nn_arena *a, const uint8_t *rgb, int w,
		    int h, int stride, const float pts[LMK_N][2],
		    fnet_align align, float desc[FNET_DIM], int crop[4])
{
	return fnet_descriptor_det(f, a, rgb, w, h, stride, pts, NULL, align,
				   desc, crop);
}
