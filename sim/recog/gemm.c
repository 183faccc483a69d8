/* gemm.c -- the packed-weight matrix products of gemm.h.  Owns the
 * packing layout and the AVX-512 kernel; the weights and every output
 * buffer are the caller's.  No I/O, no allocation.
 *
 * The kernel is the BLIS layout without packing A: the activations are
 * read in place (the nets' bands are already contiguous rows), B is
 * packed into panels of NR = 64 columns, and a GEMM_MR x 64 tile of C
 * lives in 24 zmm accumulators while k runs over a GEMM_KC block: per k,
 * four loads of B and six broadcasts of A feed 24 FMAs.  Blocking: a
 * GEMM_KC x 64 panel of B (64 KiB) is reused from L2 by every row tile of
 * a GEMM_MC-row block of A (GEMM_MC x GEMM_KC floats, 192 KiB) that stays
 * in L2 across the panels. */
#include "gemm.h"

#include <cblas.h>
#include <stdint.h>
#include <string.h>

#define GEMM_NR 64
#define GEMM_MR 6
#define GEMM_KC 256
#define GEMM_MC 192

#if defined(__x86_64__) && defined(__GNUC__)
#define GEMM_HAVE_OWN 1
#include <immintrin.h>
#else
#define GEMM_HAVE_OWN 0
#endif

static gemm_kernel gemm_default = GEMM_AUTO;

static int cpu_has_avx512(void)
{
#if GEMM_HAVE_OWN
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f");
#else
	return 0;
#endif
}

gemm_kernel gemm_resolve(gemm_kernel want)
{
	if (want == GEMM_AUTO)
		want = gemm_default;
	if (want == GEMM_BLAS)
		return GEMM_BLAS;
	return cpu_has_avx512() ? GEMM_OWN : GEMM_BLAS;
}

void gemm_set_default(gemm_kernel k)
{
	gemm_default = k;
}

const char *gemm_kernel_name(gemm_kernel k)
{
	return gemm_resolve(k) == GEMM_OWN ? "own" : "blas";
}

/* Width of panel j of an n-column matrix: 64, or the last panel's
 * remaining columns rounded up to 16. */
static int panel_width(int n, int j)
{
	int rem = n - j * GEMM_NR;
	if (rem >= GEMM_NR)
		return GEMM_NR;
	return (rem + 15) & ~15;
}

size_t gemm_pack_floats(int k, int n, gemm_kernel kern)
{
	int np = (n + GEMM_NR - 1) / GEMM_NR;

	if (gemm_resolve(kern) != GEMM_OWN)
		return (size_t)k * n;
	return (size_t)k * ((size_t)(np - 1) * GEMM_NR + panel_width(n, np - 1));
}

void gemm_pack(gemm_b *b, float *dst, const float *w, int k, int n,
	       gemm_kernel kern)
{
	b->p = dst;
	b->k = k;
	b->n = n;
	b->kern = gemm_resolve(kern);
	if (b->kern == GEMM_BLAS) {
		memcpy(dst, w, sizeof(float) * (size_t)k * n);
		return;
	}
	for (int j = 0; j * GEMM_NR < n; j++) {
		int pw = panel_width(n, j), cols = n - j * GEMM_NR;
		float *p = dst + (size_t)j * GEMM_NR * k;
		if (cols > pw)
			cols = pw;
		for (int r = 0; r < k; r++) {
			memcpy(p + (size_t)r * pw, w + (size_t)r * n + (size_t)j * GEMM_NR,
			       sizeof(float) * cols);
			memset(p + (size_t)r * pw + cols, 0, sizeof(float) * (pw - cols));
		}
	}
}

/* v + b, then relu6 when clip: one element of the epilogue. */
static inline float epi1(float v, float b, int clip)
{
	v += b;
	if (clip) {
		v = v > 0.0f ? v : 0.0f;
		v = v < 6.0f ? v : 6.0f;
	}
	return v;
}

/* 16 elements with a fixed count and restrict pointers: GCC -O2's cheap
 * vectoriser takes these, and not loops of unknown length. */
static inline void epi16(float *restrict q, const float *restrict b, int clip)
{
	for (int j = 0; j < 16; j++)
		q[j] = epi1(q[j], b[j], clip);
}

/* The epilogue on an m x n block after cblas_sgemm. */
static void epilogue(float *c, int m, int n, int ldc, const float *bias,
		     gemm_act act)
{
	static const float zeros[16];
	int clip = act == GEMM_RELU6;

	for (int i = 0; i < m; i++) {
		float *q = c + (size_t)i * ldc;
		int j = 0;
		for (; j + 16 <= n; j += 16)
			epi16(q + j, bias ? bias + j : zeros, clip);
		for (; j < n; j++)
			q[j] = epi1(q[j], bias ? bias[j] : 0.0f, clip);
	}
}

#if GEMM_HAVE_OWN
/* One mr x (16 nv) tile of C over kc steps of k.  b: the panel at this k
 * block, pw floats a row.  first: C is written, not added to; last: the
 * k block is the final one, so the bias and activation are applied.
 * mask: the columns of the last vector that exist.  Inlined with
 * constant mr and nv so that acc[][] is registers. */
__attribute__((target("avx512f"), always_inline)) static inline void
tile(int mr, int nv, int kc, const float *a, int lda, const float *b, int pw,
     float *c, int ldc, __mmask16 mask, int first, int last,
     const float *bias, gemm_act act)
{
	__m512 acc[GEMM_MR][4];

	_Pragma("GCC unroll 8") for (int r = 0; r < mr; r++)
		_Pragma("GCC unroll 4") for (int v = 0; v < nv; v++)
			acc[r][v] = _mm512_setzero_ps();
	for (int k = 0; k < kc; k++) {
		__m512 bv[4];
		_Pragma("GCC unroll 4") for (int v = 0; v < nv; v++)
			bv[v] = _mm512_loadu_ps(b + (size_t)k * pw + v * 16);
		_Pragma("GCC unroll 8") for (int r = 0; r < mr; r++) {
			__m512 av = _mm512_set1_ps(a[(size_t)r * lda + k]);
			_Pragma("GCC unroll 4") for (int v = 0; v < nv; v++)
				acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
		}
	}
	const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6.0f);
	_Pragma("GCC unroll 8") for (int r = 0; r < mr; r++)
		_Pragma("GCC unroll 4") for (int v = 0; v < nv; v++) {
			__mmask16 m = v == nv - 1 ? mask : (__mmask16)0xffff;
			float *q = c + (size_t)r * ldc + v * 16;
			__m512 x = acc[r][v];
			if (!first)
				x = _mm512_add_ps(_mm512_maskz_loadu_ps(m, q), x);
			if (last) {
				if (bias)
					x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m, bias + v * 16));
				if (act == GEMM_RELU6)
					x = _mm512_min_ps(_mm512_max_ps(x, zero), six);
			}
			_mm512_mask_storeu_ps(q, m, x);
		}
}

#define GEMM_TILE(mr, nv)                                                   \
	tile(mr, nv, kc, a, lda, b, pw, c, ldc, mask, first, last, bias, act)
#define GEMM_ROW(mr)                                                        \
	case (mr) * 4 + 0: GEMM_TILE(mr, 1); break;                         \
	case (mr) * 4 + 1: GEMM_TILE(mr, 2); break;                         \
	case (mr) * 4 + 2: GEMM_TILE(mr, 3); break;                         \
	case (mr) * 4 + 3: GEMM_TILE(mr, 4); break;

/* tile() with mr (1..GEMM_MR) and nv (1..4) as constants. */
__attribute__((target("avx512f"))) static void
tile_any(int mr, int nv, int kc, const float *a, int lda, const float *b,
	 int pw, float *c, int ldc, __mmask16 mask, int first, int last,
	 const float *bias, gemm_act act)
{
	switch (mr * 4 + nv - 1) {
		GEMM_ROW(1)
		GEMM_ROW(2)
		GEMM_ROW(3)
		GEMM_ROW(4)
		GEMM_ROW(5)
		GEMM_ROW(6)
	}
}

static void run_own(const gemm_b *B, int m, const float *a, int lda, float *c,
		    int ldc, const float *bias, gemm_act act)
{
	int K = B->k, N = B->n;
	int np = (N + GEMM_NR - 1) / GEMM_NR;

	for (int pc = 0; pc < K; pc += GEMM_KC) {
		int kc = K - pc < GEMM_KC ? K - pc : GEMM_KC;
		int first = pc == 0, last = pc + kc == K;
		for (int ic = 0; ic < m; ic += GEMM_MC) {
			int mc = m - ic < GEMM_MC ? m - ic : GEMM_MC;
			for (int j = 0; j < np; j++) {
				int pw = panel_width(N, j);
				int cols = N - j * GEMM_NR < pw ? N - j * GEMM_NR : pw;
				int nv = (cols + 15) / 16, tail = cols - (nv - 1) * 16;
				__mmask16 mask = (__mmask16)(tail == 16 ? 0xffffu :
							     (1u << tail) - 1);
				const float *b = B->p + (size_t)j * GEMM_NR * K +
						 (size_t)pc * pw;
				const float *bj = bias ? bias + j * GEMM_NR : NULL;
				for (int ir = 0; ir < mc; ir += GEMM_MR) {
					int mr = mc - ir < GEMM_MR ? mc - ir : GEMM_MR;
					size_t row = (size_t)(ic + ir);
					tile_any(mr, nv, kc, a + row * lda + pc, lda, b, pw,
						 c + row * ldc + (size_t)j * GEMM_NR, ldc,
						 mask, first, last, bj, act);
				}
			}
		}
	}
}
#endif

void gemm_run(const gemm_b *b, int m, const float *a, int lda, float *c,
	      int ldc, const float *bias, gemm_act act)
{
	if (m <= 0)
		return;
#if GEMM_HAVE_OWN
	if (b->kern == GEMM_OWN) {
		run_own(b, m, a, lda, c, ldc, bias, act);
		return;
	}
#endif
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, b->n, b->k,
		    1.0f, a, lda, b->p, b->n, 0.0f, c, ldc);
	epilogue(c, m, b->n, ldc, bias, act);
}
