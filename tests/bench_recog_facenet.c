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

#include <cJSON.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The first face of the golden file: its picture path and landmarks. */
static int first_face(char *image, size_t len, float pts[LMK_N][2])
{
	FILE *f = fopen("fixtures/recog/golden/demo.jsonl", "r");
	char *line = NULL;
	size_t cap = 0;
	int rc = -1;
	cJSON *j = NULL;

	if (!f)
		return -1;
	if (getline(&line, &cap, f) <= 0)
		goto out;
	j = cJSON_Parse(line);
	const cJSON *im = cJSON_GetObjectItem(j, "image");
	const cJSON *face = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "faces"), 0);
	const cJSON *lm = cJSON_GetObjectItem(face, "landmarks");
	if (!cJSON_IsString(im) || cJSON_GetArraySize(lm) != LMK_N)
		goto out;
	snprintf(image, len, "%s", im->valuestring);
	for (int i = 0; i < LMK_N; i++) {
		const cJSON *p = cJSON_GetArrayItem(lm, i);
		pts[i][0] = (float)cJSON_GetArrayItem(p, 0)->valuedouble;
		pts[i][1] = (float)cJSON_GetArrayItem(p, 1)->valuedouble;
	}
	rc = 0;
out:
	cJSON_Delete(j);
	free(line);
	fclose(f);
	return rc;
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
		double t0 = now_ms();
		int rc = w == NET ? fnet_forward(f, a, &in, desc) :
				    fnet_descriptor(f, a, im->px, im->w, im->h, im->w * 3,
						    pts, w == FACEAPI ? FNET_ALIGN_FACEAPI :
						    FNET_ALIGN_SIMILARITY, desc, NULL);
		double dt = now_ms() - t0;
		if (rc < 0) {
			fprintf(stderr, "%s: error %d\n", name, rc);
			exit(1);
		}
		a->used = mark;
		macs = nn_macs;
		if (i >= 0)
			t[i] = dt;
	}
	qsort(t, (size_t)runs, sizeof(double), cmp_double);
	printf("%-22s min %6.2f ms  median %6.2f ms  %6.1f MMAC  %6.1f GFLOP/s (at min)\n",
	       name, t[0], t[runs / 2], macs / 1e6, 2.0 * macs / (t[0] * 1e6));
	free(t);
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 50;
	char err[256] = "", image[256];
	float pts[LMK_N][2];
	mdl m;
	img im;
	nn_arena a;
	fnet *f;
	float *buf;

	openblas_set_num_threads(1);
	if (runs < 1)
		runs = 1;
	if (first_face(image, sizeof image, pts) < 0) {
		fprintf(stderr, "cannot read fixtures/recog/golden/demo.jsonl (run from the repository root)\n");
		return 1;
	}
	if (recog_model_load(NULL, "face_recognition_model", &m, err, sizeof err) < 0 ||
	    !(f = fnet_new(&m, err, sizeof err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (img_load_file(image, &im, err, sizeof err) < 0) {
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
