/* check_recog_gemm.c -- sim/recog/gemm.c: both kernels against a plain
 * double-precision product on the shapes that exercise every edge of the
 * AVX-512 kernel's blocking (row tails 1..5 and the 192-row block, column
 * tails inside a 16-lane vector and past a 64-column panel, k tails and
 * several 256-deep k blocks, whose partial sums go through C), strided
 * operands, bias and relu6, and that nothing outside the m x n block of C
 * is written.  Where the CPU has no AVX-512 (or under valgrind) GEMM_OWN
 * resolves to GEMM_BLAS, and the suite says which kernels it ran.  No
 * models needed. */
#include "gemm.h"
#include "testutil.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a value C must keep where the product must not write */
#define GUARD -12345.0f

/* m, k, n: each exercises one blocking edge (see the file comment) */
static const int shapes[][3] = {
	{1, 1, 1},     {5, 3, 17},     {6, 27, 32},    {7, 32, 64},
	{13, 64, 65},  {192, 128, 128}, {193, 100, 12}, {200, 257, 130},
	{37, 600, 18}, {64, 1024, 9},  {11, 513, 200},
};

/* Deterministic values in about [-1, 1) (a small LCG: the test must
 * not depend on the C library's rand). */
static float val(unsigned *s)
{
	*s = *s * 1664525u + 1013904223u;
	return (float)((int)(*s >> 9) - (1 << 22)) / (float)(1 << 22);
}

/* One product of shape m x k x n through kernel kern, with lda = k + pa
 * and ldc = n + pc, checked element by element against the product in
 * double: within 1e-5 of the sum of |a b| (float rounding of a k-term
 * sum) plus 1e-6.  Columns and rows of C outside the block keep GUARD. */
static void check_shape(gemm_kernel kern, int m, int k, int n, int pa, int pc,
			int with_bias, gemm_act act)
{
	unsigned seed = (unsigned)(m * 7919 + k * 104729 + n * 13 + pa + pc);
	int lda = k + pa, ldc = n + pc;
	float *a = malloc(sizeof(float) * (size_t)m * lda);
	float *w = malloc(sizeof(float) * (size_t)k * n);
	float *bias = malloc(sizeof(float) * (size_t)n);
	float *c = malloc(sizeof(float) * ((size_t)m + 1) * ldc);
	size_t pf = gemm_pack_floats(k, n, kern);
	float *packed = aligned_alloc(64, (pf * sizeof(float) + 63) & ~(size_t)63);
	gemm_b b;

	ck_assert(a && w && bias && c && packed);
	for (size_t i = 0; i < (size_t)m * lda; i++)
		a[i] = val(&seed);
	for (size_t i = 0; i < (size_t)k * n; i++)
		w[i] = val(&seed) * 4.0f; /* sums reach past 0 and 6 for relu6 */
	for (int j = 0; j < n; j++)
		bias[j] = val(&seed) * 3.0f;
	for (size_t i = 0; i < ((size_t)m + 1) * ldc; i++)
		c[i] = GUARD;
	gemm_pack(&b, packed, w, k, n, kern);
	memset(w, 0, sizeof(float) * (size_t)k * n); /* w is not kept */
	ck_assert_int_eq(b.kern, gemm_resolve(kern));
	gemm_run(&b, m, a, lda, c, ldc, with_bias ? bias : NULL, act);

	seed = (unsigned)(m * 7919 + k * 104729 + n * 13 + pa + pc);
	for (size_t i = 0; i < (size_t)m * lda; i++)
		a[i] = val(&seed);
	for (size_t i = 0; i < (size_t)k * n; i++)
		w[i] = val(&seed) * 4.0f;
	for (int i = 0; i < m; i++)
		for (int j = 0; j < ldc; j++) {
			float got = c[(size_t)i * ldc + j];
			if (j >= n) {
				ck_assert_msg(got == GUARD, "%s %dx%dx%d: c[%d][%d] written",
					      gemm_kernel_name(kern), m, k, n, i, j);
				continue;
			}
			double s = 0, mag = 0;
			for (int q = 0; q < k; q++) {
				double p = (double)a[(size_t)i * lda + q] * w[(size_t)q * n + j];
				s += p;
				mag += fabs(p);
			}
			if (with_bias)
				s += bias[j];
			if (act == GEMM_RELU6)
				s = s < 0 ? 0 : s > 6 ? 6 : s;
			ck_assert_msg(fabs(got - s) <= 1e-5 * (mag + fabs(bias[j])) + 1e-6,
				      "%s %dx%dx%d (lda %d, ldc %d, bias %d, act %d): "
				      "c[%d][%d] = %.7g, expected %.7g",
				      gemm_kernel_name(kern), m, k, n, lda, ldc,
				      with_bias, (int)act, i, j, got, s);
		}
	for (int j = 0; j < ldc; j++)
		ck_assert_msg(c[(size_t)m * ldc + j] == GUARD, "row %d written", m);
	free(a);
	free(w);
	free(bias);
	free(c);
	free(packed);
}

static void all_shapes(gemm_kernel kern)
{
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		const int *s = shapes[i];
		check_shape(kern, s[0], s[1], s[2], 0, 0, 1, GEMM_RELU6);
		check_shape(kern, s[0], s[1], s[2], 3, 5, 0, GEMM_LINEAR);
		check_shape(kern, s[0], s[1], s[2], 1, 16, 1, GEMM_LINEAR);
	}
}

START_TEST(own_kernel_equals_the_product_on_every_blocking_edge)
{
	printf("  GEMM_OWN runs as %s on this CPU\n", gemm_kernel_name(GEMM_OWN));
	all_shapes(GEMM_OWN);
}
END_TEST

START_TEST(blas_kernel_equals_the_product_on_every_blocking_edge)
{
	all_shapes(GEMM_BLAS);
}
END_TEST

/* The relu6 clamp is exact: values below 0 become 0, above 6 become 6,
 * whatever the kernel. */
START_TEST(relu6_clamps_exactly_at_0_and_6)
{
	const gemm_kernel kerns[] = {GEMM_OWN, GEMM_BLAS};
	float w[3] = {1.0f, 1.0f, 1.0f}, a[4] = {-2.0f, 0.5f, 7.0f, 6.0f};
	float packed[64], c[12];
	gemm_b b;

	for (int i = 0; i < 2; i++) {
		gemm_pack(&b, packed, w, 1, 3, kerns[i]);
		gemm_run(&b, 4, a, 1, c, 3, NULL, GEMM_RELU6);
		ck_assert_float_eq(c[0], 0.0f);
		ck_assert_float_eq(c[3], 0.5f);
		ck_assert_float_eq(c[6], 6.0f);
		ck_assert_float_eq(c[11], 6.0f);
	}
}
END_TEST

/* Sizes the nets rely on: the packed matrix of the own kernel is k rows
 * of whole 64-column panels plus the last panel rounded to 16; the BLAS
 * one is the plain matrix.  m = 0 writes nothing. */
START_TEST(packed_sizes_and_empty_products)
{
	float c[4] = {GUARD, GUARD, GUARD, GUARD}, w[2] = {1, 2}, p[64];
	gemm_b b;

	ck_assert_uint_eq(gemm_pack_floats(10, 7, GEMM_BLAS), 70);
	if (gemm_resolve(GEMM_OWN) == GEMM_OWN) {
		ck_assert_uint_eq(gemm_pack_floats(10, 7, GEMM_OWN), 160);
		ck_assert_uint_eq(gemm_pack_floats(10, 64, GEMM_OWN), 640);
		ck_assert_uint_eq(gemm_pack_floats(10, 65, GEMM_OWN), 800);
		ck_assert_uint_eq(gemm_pack_floats(3, 1024, GEMM_OWN), 3072);
	} else {
		ck_assert_uint_eq(gemm_pack_floats(10, 7, GEMM_OWN), 70);
	}
	gemm_pack(&b, p, w, 1, 2, GEMM_AUTO);
	gemm_run(&b, 0, w, 1, c, 2, NULL, GEMM_RELU6);
	ck_assert_float_eq(c[0], GUARD);
}
END_TEST

/* gemm_set_default steers GEMM_AUTO, and GEMM_AUTO goes back to the
 * CPU's choice. */
START_TEST(default_kernel_follows_gemm_set_default)
{
	gemm_kernel cpu = gemm_resolve(GEMM_AUTO);

	gemm_set_default(GEMM_BLAS);
	ck_assert_int_eq(gemm_resolve(GEMM_AUTO), GEMM_BLAS);
	ck_assert_str_eq(gemm_kernel_name(GEMM_AUTO), "blas");
	gemm_set_default(GEMM_OWN);
	ck_assert_int_eq(gemm_resolve(GEMM_AUTO), gemm_resolve(GEMM_OWN));
	gemm_set_default(GEMM_AUTO);
	ck_assert_int_eq(gemm_resolve(GEMM_AUTO), cpu);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("recog_gemm");
	TCase *tc = tcase_create("gemm");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, own_kernel_equals_the_product_on_every_blocking_edge);
	tcase_add_test(tc, blas_kernel_equals_the_product_on_every_blocking_edge);
	tcase_add_test(tc, relu6_clamps_exactly_at_0_and_6);
	tcase_add_test(tc, packed_sizes_and_empty_products);
	tcase_add_test(tc, default_kernel_follows_gemm_set_default);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
