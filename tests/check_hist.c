/* check_hist.c -- base/hist: quantiles within 1 % of the exact order
 * statistic on known distributions, merge equal to the histogram of both
 * streams, the JSON array form read back to the same histogram, and the
 * refusals of a malformed array naming where. */
#include "base_err.h"
#include "hist.h"
#include "testutil.h"

#include <math.h>
#include <stdint.h>

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The exact ceil(q*n)-th smallest of sorted v[0..n). */
static uint64_t exact_q(const uint64_t *v, size_t n, double q)
{
	size_t r = (size_t)ceil(q * (double)n);
	return v[r ? r - 1 : 0];
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void check_quantiles(uint64_t *v, size_t n)
{
	static const double qs[] = {0.01, 0.1, 0.5, 0.9, 0.99, 0.999};
	hist *h = calloc(1, sizeof *h);

	ck_assert_ptr_nonnull(h);
	for (size_t i = 0; i < n; i++)
		hist_add(h, v[i]);
	qsort(v, n, sizeof *v, cmp_u64);
	ck_assert_uint_eq(h->count, n);
	ck_assert_uint_eq(h->min, v[0]);
	ck_assert_uint_eq(h->max, v[n - 1]);
	for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
		uint64_t want = exact_q(v, n, qs[k]), got = hist_quantile(h, qs[k]);
		double rel = want ? fabs((double)got - (double)want) / (double)want
			     : (double)got;
		ck_assert_msg(rel <= 0.01, "q%g: histogram says %llu, exact %llu "
			      "(%.3f %% off)", qs[k], (unsigned long long)got,
			      (unsigned long long)want, rel * 100);
	}
	free(h);
}

START_TEST(quantiles_are_within_one_percent_on_uniform_and_log_normal)
{
	enum { N = 200000 };
	uint64_t *v = malloc(N * sizeof *v);

	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < N; i++) /* uniform 0 .. 10 s in us */
		v[i] = next_rand() % 10000000;
	check_quantiles(v, N);
	for (size_t i = 0; i < N; i++) { /* log-normal around 2 ms, heavy tail */
		double u1 = ((double)(next_rand() >> 11) + 1) / 9007199254740993.0;
		double u2 = (double)(next_rand() >> 11) / 9007199254740992.0;
		double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
		v[i] = (uint64_t)exp(log(2000.0) + 1.5 * z);
	}
	check_quantiles(v, N);
	for (size_t i = 0; i < N; i++) /* small values are exact */
		v[i] = next_rand() % 100;
	check_quantiles(v, N);
	free(v);
}
END_TEST

START_TEST(every_value_lands_in_a_bucket_whose_low_is_within_1_64)
{
	for (uint64_t v = 0; v < 5000000; v += 1 + v / 1000) {
		size_t i = hist_bucket_of(v);
		uint64_t lo = hist_bucket_lo(i);
		ck_assert_uint_le(lo, v);
		ck_assert_msg(v - lo <= lo / 64, "%llu in bucket %zu from %llu",
			      (unsigned long long)v, i, (unsigned long long)lo);
		ck_assert_uint_lt(v, hist_bucket_lo(i + 1));
	}
	ck_assert_uint_eq(hist_bucket_of(HIST_MAX), HIST_BUCKETS - 1);
	ck_assert_uint_eq(hist_bucket_of(UINT64_MAX), HIST_BUCKETS - 1);
}
END_TEST

START_TEST(merge_of_two_streams_equals_the_histogram_of_both)
{
	hist *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b),
	     *both = calloc(1, sizeof *both);

	ck_assert(a && b && both);
	for (int i = 0; i < 50000; i++) {
		uint64_t x = next_rand() % 300000, y = 1000 + next_rand() % 9000000;
		hist_add(a, x);
		hist_add(both, x);
		hist_add(b, y);
		hist_add(both, y);
	}
	hist_merge(a, b);
	ck_assert_mem_eq(a, both, sizeof *a);
	ck_assert_uint_eq(hist_quantile(a, 0.99), hist_quantile(both, 0.99));
	free(a);
	free(b);
	free(both);
}
END_TEST

START_TEST(json_array_form_reads_back_to_the_same_buckets)
{
	hist *h = calloc(1, sizeof *h), *r = calloc(1, sizeof *r);
	strbuf sb = {0};
	char err[200];

	ck_assert(h && r);
	hist_to_json(h, &sb);
	ck_assert_str_eq(sb.p, "[]");
	ck_assert_int_eq(hist_from_json(r, sb.p, err, sizeof err), 0);
	ck_assert_uint_eq(r->count, 0);
	sb.n = 0;
	hist_add(h, 5);
	hist_add_n(h, 1000, 3);
	hist_add(h, 123456789);
	hist_to_json(h, &sb);
	ck_assert_str_eq(sb.p, "[[5,1],[1000,3],[122683392,1]]");
	ck_assert_int_eq(hist_from_json(r, sb.p, err, sizeof err), 0);
	ck_assert_mem_eq(r->n, h->n, sizeof h->n);
	ck_assert_uint_eq(r->count, 5);
	ck_assert_uint_eq(hist_quantile(r, 0.5), hist_quantile(h, 0.5));
	free(sb.p);
	free(h);
	free(r);
}
END_TEST

START_TEST(malformed_json_arrays_are_refused_naming_where)
{
	hist *h = calloc(1, sizeof *h);
	char err[200];

	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(hist_from_json(h, "[[5,1],[3,1]]", err, sizeof err),
			 BASE_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "pair 2: 3 does not come after"));
	ck_assert_int_eq(hist_from_json(h, "[[129,1]]", err, sizeof err),
			 BASE_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "129 is not the lowest value"));
	ck_assert_int_eq(hist_from_json(h, "[[5,1.5]]", err, sizeof err),
			 BASE_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "at character"));
	ck_assert_int_eq(hist_from_json(h, "[[5,1]] x", err, sizeof err),
			 BASE_EINVAL);
	ck_assert_int_eq(hist_from_json(h, "{}", err, sizeof err), BASE_EINVAL);
	ck_assert_uint_eq(h->count, 0);
	free(h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hist");
	TCase *t = tcase_create("hist");

	tcase_add_test(t, quantiles_are_within_one_percent_on_uniform_and_log_normal);
	tcase_add_test(t, every_value_lands_in_a_bucket_whose_low_is_within_1_64);
	tcase_add_test(t, merge_of_two_streams_equals_the_histogram_of_both);
	tcase_add_test(t, json_array_form_reads_back_to_the_same_buckets);
	tcase_add_test(t, malformed_json_arrays_are_refused_naming_where);
	suite_add_tcase(s, t);
	return tu_run(s);
}
