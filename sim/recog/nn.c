/* nn.c -- the layers of nn.h.  Owns the arithmetic only: buffers come from
 * the caller's arena, weights from the caller's model; nothing here reads
 * files or allocates from the heap. */
#include "nn.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

_Thread_local uint64_t nn_macs;

void nn_arena_init(nn_arena *a, float *buf, size_t cap)
{
	a->base = buf;
	a->cap = cap;
	a->used = 0;
	a->peak = 0;
	a->oom = 0;
}

void nn_arena_reset(nn_arena *a)
{
	a->used = 0;
}

float *nn_alloc(nn_arena *a, size_t n)
{
	/* 16 floats = 64 bytes: whole cache lines, AVX-512 friendly */
	size_t start = (a->used + 15) & ~(size_t)15;
	if (!a->base || start > a->cap || n > a->cap - start) {
		a->oom = 1;
		return NULL;
	}
	a->used = start + n;
	if (a->used > a->peak)
		a->peak = a->used;
	return a->base + start;
}

nn_t nn_tensor(nn_arena *a, int h, int w, int c)
{
	nn_t t = {h, w, c, NULL};
	if (h > 0 && w > 0 && c > 0)
		t.d = nn_alloc(a, (size_t)h * w * c);
	return t;
}

int nn_out_size(int in, int k, int stride, nn_pad pad)
{
	if (pad == NN_SAME)
		return (in + stride - 1) / stride;
	return in < k ? 0 : (in - k) / stride + 1;
}

int nn_pad_before(int in, int k, int stride, nn_pad pad)
{
	if (pad == NN_VALID)
		return 0;
	int out = (in + stride - 1) / stride;
	int total = (out - 1) * stride + k - in;
	return total > 0 ? total / 2 : 0;
}

static void add_bias(nn_t *t, const float *bias)
{
	if (!bias)
		return;
	size_t n = (size_t)t->h * t->w;
	for (size_t i = 0; i < n; i++) {
		float *p = t->d + i * t->c;
		for (int c = 0; c < t->c; c++)
			p[c] += bias[c];
	}
}

nn_t nn_conv2d(nn_arena *a, const nn_t *in, const float *filt, int kh,
	       int kw, int cout, const float *bias, int stride, nn_pad pad)
{
	int oh = nn_out_size(in->h, kh, stride, pad);
	int ow = nn_out_size(in->w, kw, stride, pad);
	int pt = nn_pad_before(in->h, kh, stride, pad);
	int pl = nn_pad_before(in->w, kw, stride, pad);
	nn_t out = nn_tensor(a, oh, ow, cout);
	if (!out.d || !in->d)
		return (nn_t){oh, ow, cout, NULL};
	int cin = in->c, K = kh * kw * cin, M = oh * ow;
	const float *A = in->d;
	size_t mark = a->used;
	if (!(kh == 1 && kw == 1 && stride == 1)) {
		/* im2col: row m = output pixel, columns (ky, kx, ci) in the
		 * filter's HWI order; outside the image is zero */
		float *col = nn_alloc(a, (size_t)M * K);
		if (!col)
			return (nn_t){oh, ow, cout, NULL};
		for (int oy = 0; oy < oh; oy++)
			for (int ox = 0; ox < ow; ox++) {
				float *r = col + ((size_t)oy * ow + ox) * K;
				for (int ky = 0; ky < kh; ky++) {
					int iy = oy * stride - pt + ky;
					for (int kx = 0; kx < kw; kx++) {
						int ix = ox * stride - pl + kx;
						float *dst = r + (ky * kw + kx) * cin;
						if (iy < 0 || iy >= in->h || ix < 0 ||
						    ix >= in->w)
							memset(dst, 0, sizeof(float) * cin);
						else
							memcpy(dst,
							       in->d + ((size_t)iy * in->w + ix) * cin,
							       sizeof(float) * cin);
					}
				}
			}
		A = col;
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, cout, K, 1.0f,
		    A, K, filt, cout, 0.0f, out.d, cout);
	nn_macs += (uint64_t)M * K * cout;
	/* the im2col buffer lay above the output: give it back */
	a->used = mark;
	add_bias(&out, bias);
	return out;
}

nn_t nn_depthwise(nn_arena *a, const nn_t *in, const float *filt, int kh,
		  int kw, const float *bias, int stride, nn_pad pad)
{
	int oh = nn_out_size(in->h, kh, stride, pad);
	int ow = nn_out_size(in->w, kw, stride, pad);
	int pt = nn_pad_before(in->h, kh, stride, pad);
	int pl = nn_pad_before(in->w, kw, stride, pad);
	int C = in->c;
	nn_t out = nn_tensor(a, oh, ow, C);
	if (!out.d || !in->d)
		return (nn_t){oh, ow, C, NULL};
	for (int oy = 0; oy < oh; oy++)
		for (int ox = 0; ox < ow; ox++) {
			float *o = out.d + ((size_t)oy * ow + ox) * C;
			for (int c = 0; c < C; c++)
				o[c] = bias ? bias[c] : 0.0f;
			for (int ky = 0; ky < kh; ky++) {
				int iy = oy * stride - pt + ky;
				if (iy < 0 || iy >= in->h)
					continue;
				for (int kx = 0; kx < kw; kx++) {
					int ix = ox * stride - pl + kx;
					if (ix < 0 || ix >= in->w)
						continue;
					const float *p = in->d + ((size_t)iy * in->w + ix) * C;
					const float *f = filt + (size_t)(ky * kw + kx) * C;
					for (int c = 0; c < C; c++)
						o[c] += p[c] * f[c];
				}
			}
		}
	nn_macs += (uint64_t)oh * ow * C * kh * kw;
	return out;
}

static nn_t pool(nn_arena *a, const nn_t *in, int k, int stride, nn_pad pad,
		 int is_max)
{
	int oh = nn_out_size(in->h, k, stride, pad);
	int ow = nn_out_size(in->w, k, stride, pad);
	int pt = nn_pad_before(in->h, k, stride, pad);
	int pl = nn_pad_before(in->w, k, stride, pad);
	int C = in->c;
	nn_t out = nn_tensor(a, oh, ow, C);
	if (!out.d || !in->d)
		return (nn_t){oh, ow, C, NULL};
	for (int oy = 0; oy < oh; oy++)
		for (int ox = 0; ox < ow; ox++) {
			float *o = out.d + ((size_t)oy * ow + ox) * C;
			int n = 0;
			for (int c = 0; c < C; c++)
				o[c] = is_max ? -FLT_MAX : 0.0f;
			for (int ky = 0; ky < k; ky++) {
				int iy = oy * stride - pt + ky;
				if (iy < 0 || iy >= in->h)
					continue;
				for (int kx = 0; kx < k; kx++) {
					int ix = ox * stride - pl + kx;
					if (ix < 0 || ix >= in->w)
						continue;
					const float *p = in->d + ((size_t)iy * in->w + ix) * C;
					n++;
					if (is_max) {
						for (int c = 0; c < C; c++)
							o[c] = p[c] > o[c] ? p[c] : o[c];
					} else {
						for (int c = 0; c < C; c++)
							o[c] += p[c];
					}
				}
			}
			if (!is_max && n > 0)
				for (int c = 0; c < C; c++)
					o[c] /= (float)n;
		}
	return out;
}

nn_t nn_maxpool(nn_arena *a, const nn_t *in, int k, int stride, nn_pad pad)
{
	return pool(a, in, k, stride, pad, 1);
}

nn_t nn_avgpool(nn_arena *a, const nn_t *in, int k, int stride, nn_pad pad)
{
	return pool(a, in, k, stride, pad, 0);
}

void nn_relu(nn_t *t)
{
	size_t n = (size_t)t->h * t->w * t->c;
	for (size_t i = 0; i < n; i++)
		t->d[i] = t->d[i] > 0.0f ? t->d[i] : 0.0f;
}

void nn_clip(nn_t *t, float lo, float hi)
{
	size_t n = (size_t)t->h * t->w * t->c;
	for (size_t i = 0; i < n; i++) {
		float v = t->d[i];
		t->d[i] = v < lo ? lo : v > hi ? hi : v;
	}
}

void nn_scale_bias(nn_t *t, const float *scale, const float *bias)
{
	size_t n = (size_t)t->h * t->w;
	for (size_t i = 0; i < n; i++) {
		float *p = t->d + i * t->c;
		if (scale)
			for (int c = 0; c < t->c; c++)
				p[c] *= scale[c];
		if (bias)
			for (int c = 0; c < t->c; c++)
				p[c] += bias[c];
	}
}

void nn_add(nn_t *t, const nn_t *u)
{
	size_t n = (size_t)t->h * t->w * t->c;
	for (size_t i = 0; i < n; i++)
		t->d[i] += u->d[i];
}

void nn_fc(const float *x, int k, const float *w, int n, const float *b,
	   float *y)
{
	cblas_sgemv(CblasRowMajor, CblasTrans, k, n, 1.0f, w, n, x, 1, 0.0f, y,
		    1);
	if (b)
		for (int j = 0; j < n; j++)
			y[j] += b[j];
	nn_macs += (uint64_t)k * n;
}

/* Pixel (x, y) of the padded region, channel c: 0 outside the region. */
static inline float padded_px(const uint8_t *px, int stride, int x0, int y0,
			      int rw, int rh, int pad_x, int pad_y, int x,
			      int y, int c)
{
	x -= pad_x;
	y -= pad_y;
	if (x < 0 || y < 0 || x >= rw || y >= rh)
		return 0.0f;
	return (float)px[(size_t)(y0 + y) * stride + (size_t)(x0 + x) * 3 + c];
}

void nn_resize_rgb8(const uint8_t *px, int stride, int x0, int y0, int rw,
		    int rh, int pad_x, int pad_y, int pw, int ph, nn_t *out,
		    const float *mean, float div)
{
	int OH = out->h, OW = out->w;
	int same = OH == ph && OW == pw;
	float sy = (float)ph / (float)OH, sx = (float)pw / (float)OW;
	for (int y = 0; y < OH; y++) {
		float fy = same ? (float)y : (float)y * sy;
		int top = (int)floorf(fy);
		int bot = top + 1 < ph ? top + 1 : ph - 1;
		float yl = fy - (float)top;
		for (int x = 0; x < OW; x++) {
			float fx = same ? (float)x : (float)x * sx;
			int left = (int)floorf(fx);
			int right = left + 1 < pw ? left + 1 : pw - 1;
			float xl = fx - (float)left;
			float *o = out->d + ((size_t)y * OW + x) * 3;
			for (int c = 0; c < 3; c++) {
				float tl = padded_px(px, stride, x0, y0, rw, rh, pad_x, pad_y, left, top, c);
				float tr = padded_px(px, stride, x0, y0, rw, rh, pad_x, pad_y, right, top, c);
				float bl = padded_px(px, stride, x0, y0, rw, rh, pad_x, pad_y, left, bot, c);
				float br = padded_px(px, stride, x0, y0, rw, rh, pad_x, pad_y, right, bot, c);
				float t = tl + (tr - tl) * xl;
				float b = bl + (br - bl) * xl;
				float v = t + (b - t) * yl;
				o[c] = (v - (mean ? mean[c] : 0.0f)) / div;
			}
		}
	}
}
