/* bench_image.c -- picture decoding on one core: the untrusted path
 * (img_decode: libjpeg-turbo, libpng) against the trusted one
 * (img_decode_trusted: stb_image) on a 640x480 JPEG and PNG, and the time
 * each takes to give up on the progressive JPEG of 883 scans.  `make bench'
 * runs it; docs/perf.md keeps the figures.  The pictures are made from the
 * fixtures at run time, so the figures need no `make faces'. */
#include "image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return NULL;
	}
	b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

typedef int (*decoder)(const void *, size_t, img *, char *, size_t);

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The fastest and the median ms of the decodes done in at least 0.5 s
 * (at least 20): the minimum is what the code costs, the median what a
 * shared machine gives.  rc is the decoder's answer. */
static void bench(decoder dec, const unsigned char *buf, size_t len,
		  double *min, double *median, int *rc)
{
	static double t[20000];
	double t0 = now(), t1 = t0;
	int n = 0;
	char err[512];

	while (n < 20000 && (n < 20 || t1 - t0 < 0.5)) {
		img im;
		double a = now();
		*rc = dec(buf, len, &im, err, sizeof err);
		t1 = now();
		img_free(&im);
		t[n++] = (t1 - a) * 1e3;
	}
	qsort(t, (size_t)n, sizeof *t, cmp_double);
	*min = t[0];
	*median = t[n / 2];
}

static void row(const char *name, const unsigned char *buf, size_t len)
{
	int rc_new, rc_stb;
	double min_new, med_new, min_stb, med_stb;

	bench(img_decode, buf, len, &min_new, &med_new, &rc_new);
	bench(img_decode_trusted, buf, len, &min_stb, &med_stb, &rc_stb);
	printf("| %-36s | %6zu | %6.2f / %6.2f%s | %6.2f / %6.2f%s | %4.1f |\n",
	       name, len, min_new, med_new, rc_new ? " refused" : "", min_stb,
	       med_stb, rc_stb ? " refused" : "", min_stb / min_new);
}

int main(int argc, char **argv)
{
	const char *root = argc > 1 ? argv[1] : ".";
	char path[1024], err[512];
	unsigned char *png, *jpg = NULL, *scans;
	size_t png_len, jpg_len = 0, scans_len;
	img tex, frame;

	/* 640x480: the wood texture tiled (natural detail), as the camera's
	 * JPEG at quality 85 */
	snprintf(path, sizeof path, "%s/fixtures/images/noface_texture.png", root);
	if (img_load_file(path, &tex, err, sizeof err) < 0) {
		fprintf(stderr, "bench_image: %s\n", err);
		return 1;
	}
	frame.w = 640;
	frame.h = 480;
	frame.px = malloc((size_t)640 * 480 * 3);
	if (!frame.px)
		return 1;
	for (int y = 0; y < 480; y++)
		for (int x = 0; x < 640; x++)
			memcpy(frame.px + ((size_t)y * 640 + x) * 3,
			       tex.px + ((size_t)(y % tex.h) * tex.w + x % tex.w) * 3, 3);
	if (img_encode_jpeg(&frame, 85, &jpg, &jpg_len) < 0)
		return 1;
	snprintf(path, sizeof path, "%s/fixtures/images/frame_640x480.png", root);
	png = slurp(path, &png_len);
	snprintf(path, sizeof path, "%s/fixtures/images/hostile/many_scans.jpg", root);
	scans = slurp(path, &scans_len);
	if (!png || !scans) {
		fprintf(stderr, "bench_image: cannot read the fixtures under %s\n", root);
		return 1;
	}
	printf("| picture | bytes | libjpeg-turbo / libpng ms, min / median | "
	       "stb_image ms, min / median | stb / new (min) |\n");
	printf("|---|---:|---:|---:|---:|\n");
	row("640x480 JPEG, quality 85", jpg, jpg_len);
	row("640x480 PNG (RGB gradient)", png, png_len);
	row("256x256 progressive JPEG, 883 scans", scans, scans_len);
	img_free(&tex);
	img_free(&frame);
	free(jpg);
	free(png);
	free(scans);
	return 0;
}
