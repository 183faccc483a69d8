/* bench_recog_facenet.c -- the face descriptor (sim/recog/facenet.c) on one
 * core: milliseconds per descriptor (min and median of N runs) for the net
 * alone and for crop + net with each alignment, the multiply-accumulates
 * of one inference and the GFLOP/s they make.  Uses the first demo face
 * of fixtures/recog/golden/demo.jsonl (its golden landmarks); needs `make
 * models`.  Usage: bench_recog_facenet [RUNS] (default 50).  Set
 * OPENBLAS_NUM_THREADS=1 for one core (done here unless already set);
 * OPENBLAS_CORETYPE=SkylakeX selects OpenBLAS's AVX-512 kernels. */
#include "facenet.h"
#include "image.h"
#include "recog.h"
#include "recogtest.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first face of the golden file: its landmarks into pts, and the
 * path of its picture; NULL when there is none. */
static const char *first_face(float pts[LMK_N][2])
{
	static rt_gimage g[1];
	char err[3000];

	if (rt_golden_read("demo.jsonl", NULL, g, 1, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	if (g[0].n < 1)
		return NULL;
	for (int i = 0; i < LMK_N; i++) {
		pts[i][0] = (float)g[0].face[0].pts[i][0];
		pts[i][1] = (float)g[0].face[0].pts[i][1];
	}
	return g[0].path;
}

enum what { NET, FACEAPI, SIMILARITY };

static void run(const char *name, enum what w, const fnet *f, nn_arena *a,
		const img *im, const float pts[LMK_N][2], int runs)
{
	double *t = malloc(sizeof(double) * (size_t)runs);
	float desc[FNET_DIM];
	uint64_t macs = 0;
	nn_t in = {0};

	if (!t)
		exit(1);
	if (w == NET) {
		/* the chip once, then the net alone on it */
		fnet_descriptor(f, a, im->px, im->w, im->h, im->w * 3, pts,
				FNET_ALIGN_FACEAPI, desc, NULL);
		nn_arena_reset(a);
		in = nn_tensor(a, FNET_INPUT, FNET_INPUT, 3);
		for (size_t i = 0; i < (size_t)FNET_INPUT * FNET_INPUT * 3; i++)
			in.d[i] = (float)((i * 2654435761u) % 255) / 255.0f - 0.5f;
	}
	for (int i = -3; i < runs; i++) { /* 3 warm-up runs */
		size_t mark = a->used;
		nn_macs = 0;
		double t0 = rt_now_ms();
		int rc = w == NET ? fnet_forward(f, a, &in, desc) :
				    fnet_descriptor(f, a, im->px, im->w, im->h, im->w * 3,
						    pts, w == FACEAPI ? FNET_ALIGN_FACEAPI :
						    FNET_ALIGN_SIMILARITY, desc, NULL);
		double dt = rt_now_ms() - t0;
		if (rc < 0) {
			fprintf(stderr, "%s: error %d\n", name, rc);
			exit(1);
		}
		a->used = mark;
		macs = nn_macs;
		if (i >= 0)
			t[i] = dt;
	}
	rt_stat st = rt_stat_of(t, runs);
	printf("%-22s min %6.2f ms  median %6.2f ms  %6.1f MMAC  %6.1f GFLOP/s (at min)\n",
	       name, st.min, st.med, macs / 1e6, 2.0 * macs / (st.min * 1e6));
	free(t);
}

int main(int argc, char **argv)
{
	int runs = rt_bench_runs(argc, argv, 50);
	char err[256] = "";
	const char *image;
	float pts[LMK_N][2];
	mdl m;
	img im;
	nn_arena a;
	fnet *f;
	float *buf;

	if (!(image = first_face(pts))) {
		fprintf(stderr, "cannot read fixtures/recog/golden/demo.jsonl (run from the repository root)\n");
		return 1;
	}
	if (recog_model_load(NULL, "face_recognition_model", &m, err, sizeof err) < 0 ||
	    !(f = fnet_new(&m, err, sizeof err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (img_load_file_trusted(image, &im, err, sizeof err) < 0) {
		fprintf(stderr, "%s (run `make models`)\n", err);
		return 1;
	}
	buf = malloc(fnet_arena_floats() * sizeof(float));
	if (!buf)
		return 1;
	nn_arena_init(&a, buf, fnet_arena_floats());
	printf("face recognition net, %d runs, one thread, OpenBLAS %s\n", runs,
	       openblas_get_corename());
	run("net alone", NET, f, &a, &im, pts, runs);
	run("face-api crop + net", FACEAPI, f, &a, &im, pts, runs);
	run("similarity crop + net", SIMILARITY, f, &a, &im, pts, runs);
	free(buf);
	img_free(&im);
	fnet_free(f);
	mdl_free(&m);
	return 0;
}
