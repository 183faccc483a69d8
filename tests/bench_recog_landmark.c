/* bench_recog_landmark.c -- the 68-landmark net (sim/recog/landmark.c) on
 * one core: milliseconds per face (min and median of N runs) for the net
 * alone (with the time of each dense block) and for the whole landmark
 * stage (detCrop, padding, resize, net, un-padding) over the 22 golden
 * boxes of fixtures/recog/golden/demo.jsonl, the multiply-accumulates of
 * one inference and the GFLOP/s they make.  Needs `make models`; run from
 * the repository root.  Usage: bench_recog_landmark [RUNS] (default 50).
 * One OpenBLAS thread; OPENBLAS_CORETYPE=SkylakeX selects the AVX-512
 * kernels. */
#include "image.h"
#include "landmark.h"
#include "recog.h"
#include "recogtest.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FACES 32

typedef struct face {
	int image;
	face_box box;
} face;

/* The photos of the golden file (at most maxim) and every golden box. */
static int load(img *ims, int maxim, int *nim, face *faces, int *nf)
{
	static rt_gimage g[6];
	char err[3000];
	int ng = rt_golden_read("demo.jsonl", NULL, g, maxim < 6 ? maxim : 6,
				err, sizeof err);

	*nim = *nf = 0;
	if (ng < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	for (; *nim < ng; (*nim)++) {
		if (img_load_file_trusted(g[*nim].path, &ims[*nim], err, sizeof err) < 0) {
			fprintf(stderr, "%s (run `make models`)\n", err);
			break;
		}
		for (int k = 0; k < g[*nim].n && *nf < MAX_FACES; k++, (*nf)++) {
			const double *b = g[*nim].face[k].box;
			faces[*nf].image = *nim;
			faces[*nf].box = (face_box){(float)b[0], (float)b[1],
						    (float)b[2], (float)b[3], 1};
		}
	}
	return *nf > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	int runs = rt_bench_runs(argc, argv, 50), nim, nf;
	char err[256] = "";
	img ims[6];
	face faces[MAX_FACES];
	mdl m;
	nn_arena a;
	lmk *l;
	float *buf, raw[136], pts[LMK_N][2];
	static const char *stage[LMK_STAGES] = {"dense0 (56x56x32)", "dense1 (28x28x64)",
		"dense2 (14x14x128)", "dense3 (7x7x256)", "avgpool + fc"};

	if (load(ims, 6, &nim, faces, &nf) < 0) {
		fprintf(stderr, "cannot read fixtures/recog/golden/demo.jsonl and its photos\n");
		return 1;
	}
	if (recog_model_load(NULL, "face_landmark_68_model", &m, err, sizeof err) < 0 ||
	    !(l = lmk_new(&m, err, sizeof err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	buf = malloc(lmk_arena_floats() * sizeof(float));
	double *t = malloc(sizeof(double) * (size_t)runs * (size_t)nf);
	double (*st)[LMK_STAGES] = malloc(sizeof(*st) * (size_t)runs);
	if (!buf || !t || !st)
		return 1;
	nn_arena_init(&a, buf, lmk_arena_floats());
	printf("face landmark net, %d runs, one thread, OpenBLAS %s, arena %zu KiB\n",
	       runs, openblas_get_corename(), lmk_arena_floats() * sizeof(float) / 1024);

	/* the net alone, on a deterministic input */
	nn_t in = nn_tensor(&a, LMK_INPUT, LMK_INPUT, 3);
	for (size_t i = 0; i < (size_t)LMK_INPUT * LMK_INPUT * 3; i++)
		in.d[i] = (float)((i * 2654435761u) % 255) / 255.0f - 0.5f;
	uint64_t macs = 0;
	for (int i = -3; i < runs; i++) {
		double ms[LMK_STAGES];
		nn_macs = 0;
		double t0 = rt_now_ms();
		if (lmk_forward_stages(l, &a, &in, raw, ms) < 0) {
			fprintf(stderr, "forward failed\n");
			return 1;
		}
		double dt = rt_now_ms() - t0;
		macs = nn_macs;
		if (i >= 0) {
			t[i] = dt;
			memcpy(st[i], ms, sizeof ms);
		}
	}
	rt_stat net_ms = rt_stat_of(t, runs);
	printf("%-24s min %6.3f ms  median %6.3f ms  %6.1f MMAC  %6.1f GFLOP/s (at min)\n",
	       "net alone", net_ms.min, net_ms.med, macs / 1e6,
	       2.0 * macs / (net_ms.min * 1e6));
	for (int s = 0; s < LMK_STAGES; s++) {
		double *v = malloc(sizeof(double) * (size_t)runs);
		if (!v)
			return 1;
		for (int i = 0; i < runs; i++)
			v[i] = st[i][s];
		rt_stat sm = rt_stat_of(v, runs);
		printf("  %-22s min %6.3f ms  median %6.3f ms\n", stage[s], sm.min,
		       sm.med);
		free(v);
	}

	/* the whole stage on every golden face */
	int n = 0;
	for (int i = -1; i < runs; i++)
		for (int k = 0; k < nf; k++) {
			const img *im = &ims[faces[k].image];
			double t0 = rt_now_ms();
			if (lmk_detect(l, &a, im->px, im->w, im->h, im->w * 3,
				       &faces[k].box, pts, NULL) < 0) {
				fprintf(stderr, "lmk_detect failed\n");
				return 1;
			}
			if (i >= 0)
				t[n++] = rt_now_ms() - t0;
		}
	rt_stat face_ms = rt_stat_of(t, n);
	printf("%-24s min %6.3f ms  median %6.3f ms  (%d faces x %d runs)\n",
	       "crop + net per face", face_ms.min, face_ms.med, nf, runs);

	free(st);
	free(t);
	free(buf);
	for (int i = 0; i < nim; i++)
		img_free(&ims[i]);
	lmk_free(l);
	mdl_free(&m);
	return 0;
}
