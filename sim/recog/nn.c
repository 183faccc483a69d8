/* nn.c -- the layers of nn.h.  Owns the arithmetic only: buffers come from
 * the caller's arena, weights from the caller's model; nothing here reads
 * files or allocates from the heap. */
#include "nn.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

_Thread_local uint64_t nn_macs;

double nn_clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

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

/* 16 channels of one output pixel whose 9 taps all lie in the image: the
 * tap pointers a0..c2 in row-major order, fp the filter of these channels
 * packed as [9][16]; the products summed in tap order. */
static inline void dw16(const float *restrict a0, const float *restrict a1,
			const float *restrict a2, const float *restrict b0,
			const float *restrict b1, const float *restrict b2,
			const float *restrict c0, const float *restrict c1,
			const float *restrict c2, const float *restrict fp,
			float *restrict o)
{
#pragma GCC unroll 16
	for (int k = 0; k < 16; k++)
		o[k] = a0[k] * fp[k] + a1[k] * fp[16 + k] + a2[k] * fp[32 + k] +
		       b0[k] * fp[48 + k] + b1[k] * fp[64 + k] +
		       b2[k] * fp[80 + k] + c0[k] * fp[96 + k] +
		       c1[k] * fp[112 + k] + c2[k] * fp[128 + k];
}

/* Zeros standing in for the taps outside the image (as XNNPACK's padding
 * does): adding 0 * f leaves a sum unchanged. */
#define NN_DW_ZEROS 2048
static const float nn_dw_zeros[NN_DW_ZEROS];

/* n consecutive output pixels of one row whose taps lie inside the row:
 * row[k] points at the first one's top-left tap in input row k, or is
 * NULL for a padding row (zeros); C a multiple of 16 and at most
 * NN_DW_ZEROS.  Block of 16 channels by block, the block's filter
 * packed. */
static void dw_run(const float *const row[3], const float *f, int n, int C,
		   int stride, float *o)
{
	float fp[9 * 16];

	for (int c = 0; c < C; c += 16) {
		const float *p[3];
		size_t off[3], step[3];
		for (int k = 0; k < 3; k++) {
			/* a padding row: the zeros, which do not move */
			p[k] = row[k] ? row[k] + c : nn_dw_zeros;
			off[k] = row[k] ? (size_t)C : 0;
			step[k] = row[k] ? (size_t)stride * C : 0;
		}
		for (int t = 0; t < 9; t++)
			memcpy(fp + 16 * t, f + (size_t)t * C + c, sizeof(float) * 16);
		float *q = o + c;
		for (int x = 0; x < n; x++, q += C) {
			const float *a = p[0] + x * step[0], *b = p[1] + x * step[1];
			const float *d = p[2] + x * step[2];
			dw16(a, a + off[0], a + 2 * off[0], b, b + off[1],
			     b + 2 * off[1], d, d + off[2], d + 2 * off[2], fp, q);
		}
	}
}

/* o[0..C) = the sum of tap[t][c] * f[t][c] over the 9 taps, in tap order;
 * blocks of 16 channels, a size the compiler vectorises without a scalar
 * remainder loop. */
static void dw_pixel9(const float *const *tap, const float *const *f, int C,
		      float *restrict o)
{
	const float *restrict p0 = tap[0], *restrict p1 = tap[1];
	const float *restrict p2 = tap[2], *restrict p3 = tap[3];
	const float *restrict p4 = tap[4], *restrict p5 = tap[5];
	const float *restrict p6 = tap[6], *restrict p7 = tap[7];
	const float *restrict p8 = tap[8];
	const float *restrict q0 = f[0], *restrict q1 = f[1];
	const float *restrict q2 = f[2], *restrict q3 = f[3];
	const float *restrict q4 = f[4], *restrict q5 = f[5];
	const float *restrict q6 = f[6], *restrict q7 = f[7];
	const float *restrict q8 = f[8];
	int c = 0;

#define NN_DW9(i)                                                           \
	(p0[i] * q0[i] + p1[i] * q1[i] + p2[i] * q2[i] + p3[i] * q3[i] +    \
	 p4[i] * q4[i] + p5[i] * q5[i] + p6[i] * q6[i] + p7[i] * q7[i] +    \
	 p8[i] * q8[i])
	for (; c + 16 <= C; c += 16)
		for (int k = 0; k < 16; k++)
			o[c + k] = NN_DW9(c + k);
	for (; c < C; c++)
		o[c] = NN_DW9(c);
#undef NN_DW9
}

/* The same for any subset of taps (n of them), for channel counts above
 * NN_DW_ZEROS at the borders. */
static void dw_pixel(const float *const *tap, const float *const *f, int n,
		     int C, float *restrict o)
{
	for (int c = 0; c < C; c++) {
		float s = 0.0f;
		for (int t = 0; t < n; t++)
			s += tap[t][c] * f[t][c];
		o[c] = s;
	}
}

void nn_dw3x3_row(const float *const rows[3], int W, int C,
		  const float *filt, int stride, float *out)
{
	int ow = nn_out_size(W, 3, stride, NN_SAME);
	int pl = nn_pad_before(W, 3, stride, NN_SAME);
	const float *f9[9];
	float *o = out;

	for (int k = 0; k < 9; k++)
		f9[k] = filt + (size_t)k * C;
	/* output columns [xa, xb) have all their taps inside the row */
	int xa = (pl + stride - 1) / stride;
	int xb = W - 3 + pl < 0 ? 0 : (W - 3 + pl) / stride + 1;
	if (xb > ow)
		xb = ow;
	if (xa > xb)
		xa = xb;
	int fast = C % 16 == 0 && C <= NN_DW_ZEROS;
	if (fast && xb > xa) {
		size_t off = (size_t)(xa * stride - pl) * C;
		const float *r[3];
		for (int k = 0; k < 3; k++)
			r[k] = rows[k] ? rows[k] + off : NULL;
		dw_run(r, filt, xb - xa, C, stride, o + (size_t)xa * C);
	}
	for (int ox = 0; ox < ow; ox++, o += C) {
		int ix0 = ox * stride - pl, n = 0, all = 1;
		if (fast && ox >= xa && ox < xb)
			continue;
		const float *tap[9], *ft[9];
		for (int k = 0; k < 9; k++) {
			int ix = ix0 + k % 3;
			if (rows[k / 3] && ix >= 0 && ix < W) {
				tap[n] = rows[k / 3] + (size_t)ix * C;
				ft[n++] = f9[k];
			} else if (C <= NN_DW_ZEROS) {
				tap[n] = nn_dw_zeros;
				ft[n++] = f9[k];
			} else {
				all = 0;
			}
		}
		if (all)
			dw_pixel9(tap, ft, C, o);
		else
			dw_pixel(tap, ft, n, C, o);
	}
	nn_macs += (uint64_t)ow * C * 9;
}

void nn_dw3x3_rows(const nn_t *in, const float *filt, int stride, int y0,
		   int y1, float *out)
{
	int H = in->h, W = in->w, C = in->c;
	int ow = nn_out_size(W, 3, stride, NN_SAME);
	int pt = nn_pad_before(H, 3, stride, NN_SAME);

	for (int oy = y0; oy < y1; oy++) {
		const float *row[3];
		for (int k = 0; k < 3; k++) {
			int iy = oy * stride - pt + k;
			row[k] = iy >= 0 && iy < H ? in->d + (size_t)iy * W * C : NULL;
		}
		nn_dw3x3_row(row, W, C, filt, stride,
			     out + (size_t)(oy - y0) * ow * C);
	}
}
