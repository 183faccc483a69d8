/* bench_recog_ssd.c -- the SSD MobileNetV1 face detector (sim/recog/ssd.c)
 * on one core: milliseconds per detection (min and median of N runs, wall
 * clock and the thread's CPU time, which other processes on the machine
 * do not inflate) on a 512x512 picture (the net's own size: no resize)
 * with the CPU time of each stage, the multiply-accumulates of one
 * detection and the GFLOP/s they make, the arena's peak, then whole demo
 * photos (resize included).
 * Needs `make models`; run from the repository root.  Usage:
 * bench_recog_ssd [RUNS] (default 20).  The matrix kernel is the one
 * camsim picks (gemm.h); CAMSIM_GEMM=blas runs the products on OpenBLAS
 * (one thread; OPENBLAS_CORETYPE=SkylakeX selects its AVX-512 kernels). */
#include "gemm.h"
#include "image.h"
#include "recog.h"
#include "recogtest.h"
#include "ssd.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPHOTOS 6

/* CPU time of this thread: what a detection costs when other processes
 * share the cores (OpenBLAS has one thread, in this one) */
static double cpu_ms(void)
{
	return rt_clock_ms(CLOCK_THREAD_CPUTIME_ID);
}

int main(int argc, char **argv)
{
	int runs = rt_bench_runs(argc, argv, 20);
	char err[256] = "", path[64];
	img ims[NPHOTOS];
	mdl m;
	nn_arena a;
	ssd *s;
	face_box faces[100];

	for (int i = 0; i < NPHOTOS; i++) {
		snprintf(path, sizeof path, "build/models/demo/sample%d.jpg", i + 1);
		if (img_load_file_trusted(path, &ims[i], err, sizeof err) < 0) {
			fprintf(stderr, "%s: %s (run `make models`)\n", path, err);
			return 1;
		}
	}
	if (getenv("CAMSIM_GEMM") && !strcmp(getenv("CAMSIM_GEMM"), "blas"))
		gemm_set_default(GEMM_BLAS);
	printf("matrix kernel: %s\n", gemm_kernel_name(GEMM_AUTO));
	if (recog_model_load(NULL, "ssd_mobilenetv1_model", &m, err, sizeof err) < 0 ||
	    !(s = ssd_new(&m, err, sizeof err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	float *buf = malloc(ssd_arena_floats() * sizeof(float));
	double *t = malloc(sizeof(double) * (size_t)runs * NPHOTOS);
	double *c = malloc(sizeof(double) * (size_t)runs * NPHOTOS);
	double (*st)[SSD_STAGES] = malloc(sizeof(*st) * (size_t)runs);
	uint8_t *sq = malloc((size_t)SSD_INPUT * SSD_INPUT * 3);
	if (!buf || !t || !c || !st || !sq)
		return 1;
	nn_arena_init(&a, buf, ssd_arena_floats());
	printf("SSD MobileNetV1 face detector, %d runs, one thread, OpenBLAS %s,"
	       " arena %zu KiB\n", runs, openblas_get_corename(),
	       ssd_arena_floats() * sizeof(float) / 1024);

	/* a 512 x 512 picture: the region at (300, 250) of sample1 */
	for (int y = 0; y < SSD_INPUT; y++)
		memcpy(sq + (size_t)y * SSD_INPUT * 3,
		       ims[0].px + ((size_t)(250 + y) * ims[0].w + 300) * 3,
		       (size_t)SSD_INPUT * 3);
	uint64_t macs = 0;
	int n = 0;
	for (int i = -3; i < runs; i++) {
		double ms[SSD_STAGES];
		nn_macs = 0;
		double t0 = rt_now_ms(), c0 = cpu_ms();
		n = ssd_detect_stages(s, &a, sq, SSD_INPUT, SSD_INPUT,
				      SSD_INPUT * 3, 0.5f, faces, 100, ms);
		double dt = rt_now_ms() - t0, dc = cpu_ms() - c0;
		if (n < 0) {
			fprintf(stderr, "ssd_detect failed: %d\n", n);
			return 1;
		}
		macs = nn_macs;
		if (i >= 0) {
			t[i] = dt;
			c[i] = dc;
			memcpy(st[i], ms, sizeof ms);
		}
	}
	rt_stat wall = rt_stat_of(t, runs), cpu = rt_stat_of(c, runs);
	printf("%-24s wall min %7.3f ms  median %7.3f ms;  cpu min %7.3f ms"
	       "  median %7.3f ms\n%-24s %7.1f MMAC  %6.1f GFLOP/s (at the"
	       " cpu min), %d faces, arena peak %zu KiB\n",
	       "detect 512x512", wall.min, wall.med, cpu.min, cpu.med, "",
	       macs / 1e6, 2.0 * macs / (cpu.min * 1e6), n,
	       a.peak * sizeof(float) / 1024);
	double *v = malloc(sizeof(double) * (size_t)runs);
	if (!v)
		return 1;
	for (int k = 0; k < SSD_STAGES; k++) {
		for (int i = 0; i < runs; i++)
			v[i] = st[i][k];
		rt_stat sc = rt_stat_of(v, runs);
		printf("  %-22s cpu min %7.3f ms  median %7.3f ms\n", ssd_stage_name[k],
		       sc.min, sc.med);
	}
	free(v);

	/* whole photos, the resize from about 1920 x 1400 included */
	n = 0;
	double rs[NPHOTOS] = {0};
	for (int i = -1; i < runs; i++)
		for (int k = 0; k < NPHOTOS; k++) {
			double ms[SSD_STAGES];
			double t0 = rt_now_ms(), c0 = cpu_ms();
			if (ssd_detect_stages(s, &a, ims[k].px, ims[k].w, ims[k].h,
					      ims[k].w * 3, 0.5f, faces, 100, ms) < 0) {
				fprintf(stderr, "ssd_detect failed\n");
				return 1;
			}
			if (i >= 0) {
				c[n] = cpu_ms() - c0;
				t[n++] = rt_now_ms() - t0;
				if (i == 0 || ms[0] < rs[k])
					rs[k] = ms[0];
			}
		}
	wall = rt_stat_of(t, n);
	cpu = rt_stat_of(c, n);
	printf("%-24s wall min %7.3f ms  median %7.3f ms;  cpu min %7.3f ms"
	       "  median %7.3f ms\n%-24s (%d photos x %d runs; resize alone cpu"
	       " min %.3f ms)\n", "detect demo photo", wall.min, wall.med, cpu.min,
	       cpu.med, "", NPHOTOS, runs, rt_stat_of(rs, NPHOTOS).min);

	free(sq);
	free(st);
	free(c);
	free(t);
	free(buf);
	for (int i = 0; i < NPHOTOS; i++)
		img_free(&ims[i]);
	ssd_free(s);
	mdl_free(&m);
	return 0;
}
