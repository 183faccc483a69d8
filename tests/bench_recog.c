/* bench_recog.c -- the recognition core's speed and memory on one core:
 * SSD detection at 512x512, landmarks per face, descriptor per face, the
 * whole pipeline on a 640x480 camera frame with one face, identification
 * over a 10,000-person library, the peak memory with every model loaded,
 * each network's multiply-accumulates and the fraction of the core's
 * measured sgemm peak they reach.  Figures go to docs/perf.md; the TF.js
 * reference is timed beside it by tools/bench-recog.sh.
 *   usage: bench_recog [FRAME [PHOTO]]   (defaults: faces/person-a-2.jpg,
 *          build/models/demo/sample1.jpg) */
#include "facenet.h"
#include "gemm.h"
#include "landmark.h"
#include "nn.h"
#include "recog.h"
#include "recogtest.h"
#include "core_err.h"
#include "ssd.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

char *openblas_get_corename(void);

#define RUNS 30

static double peak_mb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024.0;
}

/* The best single-thread rate of a 1024^3 product with kernel kern
 * (gemm.h; GEMM_BLAS is OpenBLAS's cblas_sgemm as this process's
 * OpenBLAS settings have it): the faster of the two is the practical
 * peak the nets' efficiency is measured against. */
static double sgemm_peak_gflops(gemm_kernel kern)
{
	int n = 1024;
	float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
	      *c = malloc(sizeof(float) * n * n);
	float *p = aligned_alloc(64, sizeof(float) * gemm_pack_floats(n, n, kern));
	gemm_b gb;
	double best = 0;
	if (!a || !b || !c || !p)
		goto out;
	for (int i = 0; i < n * n; i++)
		a[i] = (float)(i % 7), b[i] = (float)(i % 5);
	gemm_pack(&gb, p, b, n, n, kern);
	for (int r = 0; r < 5; r++) {
		double t0 = rt_now_ms();
		gemm_run(&gb, n, a, n, c, n, NULL, GEMM_LINEAR);
		double g = 2.0 * n * n * n / ((rt_now_ms() - t0) * 1e6);
		best = g > best ? g : best;
	}
out:
	free(a);
	free(b);
	free(c);
	free(p);
	return best;
}

/* Median ms of RUNS detections of the photo with det. */
static rt_stat time_ssd(const ssd *det, nn_arena *a, const img *photo,
			face_box *boxes, int *nb)
{
	double t[RUNS];

	for (int i = 0; i < RUNS; i++) {
		nn_macs = 0;
		double t0 = rt_now_ms();
		*nb = ssd_detect(det, a, photo->px, photo->w, photo->h, photo->w * 3,
				 0.5f, boxes, 64);
		t[i] = rt_now_ms() - t0;
	}
	return rt_stat_of(t, RUNS);
}


int main(int argc, char **argv)
{
	const char *frame_path = argc > 1 ? argv[1] : "faces/person-a-2.jpg";
	const char *photo_path = argc > 2 ? argv[2] : "build/models/demo/sample1.jpg";
	char err[600];
	img frame = {0}, photo = {0};
	double t[RUNS];
	int rc = 1;
	recog *r = NULL;
	mdl ms = {0}, ml = {0}, mf = {0};
	ssd *det = NULL;
	lmk *lm = NULL;
	fnet *fn = NULL;
	float *buf = NULL;
	nn_arena a;

	recog_blas_pick_kernels(argv);
	openblas_set_num_threads(1);
	double rss0 = peak_mb();
	printf("OpenBLAS kernels: %s, 1 thread\n", openblas_get_corename());
	if (img_load_file(frame_path, &frame, err, sizeof err) < 0 ||
	    img_load_file(photo_path, &photo, err, sizeof err) < 0) {
		fprintf(stderr, "bench_recog: %s\n", err);
		goto out;
	}
	/* the whole pipeline through the service, cache bypassed (recog_faces
	 * does not cache) */
	if (!(r = recog_open(NULL, err, sizeof err)) || !recog_available(r)) {
		fprintf(stderr, "bench_recog: %s\n", err);
		goto out;
	}
	recog_face faces[8];
	int nf = 0;
	for (int i = 0; i < RUNS; i++) {
		double t0 = rt_now_ms();
		nf = recog_faces(r, &frame, true, faces, 8, NULL, err, sizeof err);
		t[i] = rt_now_ms() - t0;
	}
	rt_stat s_all = rt_stat_of(t, RUNS);
	printf("whole pipeline, %dx%d frame (%s, %d face%s): min %.1f ms, median "
	       "%.1f ms\n", frame.w, frame.h, frame_path, nf, nf == 1 ? "" : "s",
	       s_all.min, s_all.med);

	/* identification over 10,000 persons: the scan after the (cached)
	 * descriptor of the frame */
	size_t nlib = 10000;
	recog_desc *lib = malloc(nlib * sizeof(*lib));
	recog_match m;
	if (!lib)
		goto out;
	for (size_t i = 0; i < nlib; i++)
		for (int k = 0; k < RECOG_DIM; k++)
			lib[i].v[k] = (float)sin((double)(i * 131 + k * 7)) * 0.12f;
	recog_identify(r, &frame, lib, nlib, 0.7, &m, err, sizeof err); /* warm the cache */
	for (int i = 0; i < RUNS; i++) {
		double t0 = rt_now_ms();
		recog_identify(r, &frame, lib, nlib, 0.7, &m, err, sizeof err);
		t[i] = rt_now_ms() - t0;
	}
	rt_stat s_id = rt_stat_of(t, RUNS);
	size_t hits, misses;
	recog_cache_stats(r, &hits, &misses);
	printf("identify against 10,000 persons (cached frame): min %.2f ms, median "
	       "%.2f ms (cache: %zu hits, %zu inferences)\n", s_id.min, s_id.med, hits,
	       misses);
	free(lib);
	double rss_service = peak_mb();

	if (recog_model_load(NULL, "ssd_mobilenetv1_model", &ms, err, sizeof err) < 0 ||
	    recog_model_load(NULL, "face_landmark_68_model", &ml, err, sizeof err) < 0 ||
	    recog_model_load(NULL, "face_recognition_model", &mf, err, sizeof err) < 0 ||
	    !(det = ssd_new(&ms, err, sizeof err)) || !(lm = lmk_new(&ml, err, sizeof err)) ||
	    !(fn = fnet_new(&mf, err, sizeof err))) {
		fprintf(stderr, "bench_recog: %s\n", err);
		goto out;
	}
	size_t cap = ssd_arena_floats();
	cap = lmk_arena_floats() > cap ? lmk_arena_floats() : cap;
	cap = fnet_arena_floats() > cap ? fnet_arena_floats() : cap;
	if (!(buf = aligned_alloc(64, (cap * sizeof(float) + 63) & ~(size_t)63)))
		goto out;
	nn_arena_init(&a, buf, cap);
	double peak_blas = sgemm_peak_gflops(GEMM_BLAS);
	double peak_own = sgemm_peak_gflops(GEMM_OWN);
	double peak = peak_own > peak_blas ? peak_own : peak_blas;
	printf("1024^3 product (practical peak of one core): OpenBLAS sgemm (%s "
	       "kernels) %.1f GFLOP/s, camsim's gemm (%s) %.1f GFLOP/s\n",
	       openblas_get_corename(), peak_blas, gemm_kernel_name(GEMM_OWN),
	       peak_own);

	/* detection on the photo: the net always sees 512x512; the detector
	 * with the matrix kernel recog uses (GEMM_AUTO), then with OpenBLAS */
	face_box boxes[64];
	int nb = 0;
	rt_stat s_ssd = time_ssd(det, &a, &photo, boxes, &nb);
	uint64_t mac_ssd = nn_macs;
	if (nb <= 0) {
		fprintf(stderr, "bench_recog: no face in %s\n", photo_path);
		goto out;
	}
	printf("ssd detection 512x512 (%s gemm): min %.1f ms, median %.1f ms; %.2f "
	       "G MAC, %.1f GFLOP/s = %.0f %% of peak (%d faces)\n",
	       gemm_kernel_name(GEMM_AUTO), s_ssd.min, s_ssd.med, mac_ssd / 1e9,
	       2.0 * mac_ssd / (s_ssd.min * 1e6),
	       100.0 * 2.0 * mac_ssd / (s_ssd.min * 1e6) / peak, nb);
	if (gemm_resolve(GEMM_AUTO) == GEMM_OWN) {
		int nb2 = 0;
		gemm_set_default(GEMM_BLAS);
		ssd *det_blas = ssd_new(&ms, err, sizeof err);
		gemm_set_default(GEMM_AUTO);
		if (!det_blas) {
			fprintf(stderr, "bench_recog: %s\n", err);
			goto out;
		}
		rt_stat s_blas = time_ssd(det_blas, &a, &photo, boxes, &nb2);
		ssd_free(det_blas);
		printf("ssd detection 512x512 (OpenBLAS sgemm, %s kernels): min %.1f "
		       "ms, median %.1f ms (%d faces)\n", openblas_get_corename(),
		       s_blas.min, s_blas.med, nb2);
	}

	float pts[LMK_N][2];
	for (int i = 0; i < RUNS; i++) {
		nn_macs = 0;
		double t0 = rt_now_ms();
		lmk_detect(lm, &a, photo.px, photo.w, photo.h, photo.w * 3, &boxes[0], pts, NULL);
		t[i] = rt_now_ms() - t0;
	}
	uint64_t mac_lmk = nn_macs;
	rt_stat s_lmk = rt_stat_of(t, RUNS);
	printf("landmarks per face: min %.2f ms, median %.2f ms; %.3f G MAC, "
	       "%.1f GFLOP/s = %.0f %% of peak\n", s_lmk.min, s_lmk.med, mac_lmk / 1e9,
	       2.0 * mac_lmk / (s_lmk.min * 1e6),
	       100.0 * 2.0 * mac_lmk / (s_lmk.min * 1e6) / peak);

	float desc[FNET_DIM];
	rt_stat s_desc[2];
	uint64_t mac_desc = 0;
	for (int al = 0; al < 2; al++) {
		for (int i = 0; i < RUNS; i++) {
			nn_macs = 0;
			double t0 = rt_now_ms();
			fnet_descriptor(fn, &a, photo.px, photo.w, photo.h, photo.w * 3,
					(const float(*)[2])pts, al ? FNET_ALIGN_FACEAPI
							   : FNET_ALIGN_SIMILARITY, desc, NULL);
			t[i] = rt_now_ms() - t0;
		}
		mac_desc = nn_macs;
		s_desc[al] = rt_stat_of(t, RUNS);
	}
	printf("descriptor per face (similarity alignment): min %.2f ms, median "
	       "%.2f ms; (faceapi alignment): min %.2f ms, median %.2f ms; %.3f G "
	       "MAC, %.1f GFLOP/s = %.0f %% of peak\n", s_desc[0].min, s_desc[0].med,
	       s_desc[1].min, s_desc[1].med, mac_desc / 1e9,
	       2.0 * mac_desc / (s_desc[1].min * 1e6),
	       100.0 * 2.0 * mac_desc / (s_desc[1].min * 1e6) / peak);

	printf("peak memory (RSS) with every model loaded, after the pipeline and "
	       "the 10,000-person scan: %.1f MB (process start %.1f MB)\n",
	       rss_service, rss0);
	rc = 0;
out:
	recog_close(r);
	free(buf);
	ssd_free(det);
	lmk_free(lm);
	fnet_free(fn);
	mdl_free(&ms);
	mdl_free(&ml);
	mdl_free(&mf);
	img_free(&frame);
	img_free(&photo);
	return rc;
}
