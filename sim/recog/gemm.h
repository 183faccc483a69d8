/* gemm.h -- C = act(A . B + bias) for the detector's convolutions, with B
 * (a layer's weights) packed once when the net is built.  Two kernels:
 * camsim's own AVX-512 one, which also does the bias and activation while
 * the tile is in registers, and OpenBLAS's cblas_sgemm followed by a pass
 * for the epilogue.  Pure: no I/O; packed weights live in memory the caller
 * owns.  The AVX-512 kernel exists because the sgemm kernels a machine's
 * OpenBLAS settings pick may leave half the core unused (docs/perf.md). */
#ifndef CAMSIM_GEMM_H
#define CAMSIM_GEMM_H

#include <stddef.h>

typedef enum gemm_kernel {
	GEMM_AUTO, /* the process default: gemm_set_default, else GEMM_OWN
		    * where the CPU has AVX-512F, else GEMM_BLAS */
	GEMM_OWN,  /* camsim's AVX-512 kernel */
	GEMM_BLAS, /* cblas_sgemm, then the epilogue */
} gemm_kernel;

typedef enum gemm_act {
	GEMM_LINEAR, /* A . B + bias */
	GEMM_RELU6,  /* min(max(A . B + bias, 0), 6): TF's clipByValue(0, 6) */
} gemm_act;

/* Packed weights: K x N, for one kernel.  p points into the caller's
 * buffer (gemm_pack). */
typedef struct gemm_b {
	const float *p;
	int k, n;
	gemm_kernel kern; /* GEMM_OWN or GEMM_BLAS, never GEMM_AUTO */
} gemm_b;

/* The kernel that want stands for on this CPU: GEMM_AUTO becomes the
 * default; GEMM_OWN becomes GEMM_BLAS where the CPU lacks AVX-512F (or
 * under valgrind, whose CPU has none).  Thread-safe. */
gemm_kernel gemm_resolve(gemm_kernel want);

/* Sets what GEMM_AUTO means from now on (GEMM_AUTO: back to choosing by
 * the CPU).  Process-wide; call before nets are built, not while other
 * threads pack or run. */
void gemm_set_default(gemm_kernel k);

/* "own" or "blas". */
const char *gemm_kernel_name(gemm_kernel k);

/* Floats gemm_pack needs for a k x n weight matrix for kernel kern
 * (resolved as gemm_resolve does).  k, n >= 1. */
size_t gemm_pack_floats(int k, int n, gemm_kernel kern);

/* Packs w (k x n, row-major: TF's HWIO filters flattened to [kh*kw*cin]
 * [cout]) into dst (gemm_pack_floats(k, n, kern) floats, caller-owned,
 * kept as long as b is used) and describes it in b; b->kern is
 * gemm_resolve(kern).  For GEMM_OWN: panels of up to 64 columns, each k
 * rows of its width (a multiple of 16, zero-padded); for GEMM_BLAS a
 * plain copy.  w is not kept. */
void gemm_pack(gemm_b *b, float *dst, const float *w, int k, int n,
	       gemm_kernel kern);

/* c[i][j] = act(sum_k a[i][k] * B[k][j] + bias[j]) for i < m, j < b->n;
 * a is m x b->k with row stride lda, c m x b->n with row stride ldc (both
 * in floats); bias may be NULL (0).  The sum is formed in k order, then
 * the bias added, as TF.js adds a layer's bias after its matmul.  a and c
 * must not overlap.  m may be 0. */
void gemm_run(const gemm_b *b, int m, const float *a, int lda, float *c,
	      int ldc, const float *bias, gemm_act act);

#endif
