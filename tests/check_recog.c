/* check_recog.c -- the recognition service the devices use (sim/recog.c):
 * what enrolment accepts and refuses, who a camera frame is identified as,
 * the content cache, the confidence mapping, the library scan, and the
 * `camsim recog` command.  Needs `make models` and `make faces`; under
 * valgrind (VALGRIND set) only the paths that run no network. */
#include "gemm.h"
#include "recog.h"
#include "recog_cli.h"
#include "recogtest.h"
#include "sim_err.h"
#include "testutil.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static recog *rg;

static int valgrind(void)
{
	return getenv("VALGRIND") != NULL;
}

static void setup(void)
{
	char err[600];
	rg = recog_open(NULL, err, sizeof err);
	ck_assert_ptr_nonnull(rg);
	if (!valgrind())
		ck_assert_msg(recog_available(rg), "%s (run `make models`)", err);
}

static void teardown(void)
{
	recog_close(rg);
}

static img load(const char *rel)
{
	char path[1024], err[600];
	img im;
	snprintf(path, sizeof path, "%s/%s", tu_root(), rel);
	ck_assert_msg(img_load_file(path, &im, err, sizeof err) == 0,
		      "%s (run `make faces`)", err);
	return im;
}

static int enrol(const char *rel, recog_desc *d, char *err, size_t n)
{
	img im = load(rel);
	int rc = recog_enroll(rg, &im, d, err, n);
	img_free(&im);
	return rc;
}

START_TEST(enrolment_accepts_one_face_and_refuses_the_rest)
{
	static const struct {
		const char *file;
		int rc;
		const char *says;
	} cases[] = {
		{"faces/person-a-1.jpg", 0, NULL},
		{"faces/person-c-2.jpg", 0, NULL},             /* a camera frame is fine */
		{"faces/no-face.jpg", SIM_ENOFACE, "no face found in the 640x480"},
		{"fixtures/images/frame_640x480.png", SIM_ENOFACE, "no face"},
		{"faces/two-faces.jpg", SIM_EMANYFACES, "2 faces found"},
		/* detected, 44 px wide: under RECOG_MIN_ENROL_PX */
		{"faces/variants/person-c/frame-2.0m.jpg", SIM_ESMALLFACE, "44 px wide"},
	};
	if (valgrind())
		return;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		recog_desc d;
		char err[600] = "";
		int rc = enrol(cases[i].file, &d, err, sizeof err);
		ck_assert_msg(rc == cases[i].rc, "%s: rc %d (%s), want %d", cases[i].file,
			      rc, err, cases[i].rc);
		if (cases[i].says)
			ck_assert_msg(strstr(err, cases[i].says), "%s: \"%s\" does not say "
				      "\"%s\"", cases[i].file, err, cases[i].says);
		if (rc == 0) {
			double norm = 0;
			for (int k = 0; k < RECOG_DIM; k++)
				norm += d.v[k] * d.v[k];
			/* face-api's descriptors are not normalised: ~1.4-1.5 */
			ck_assert_double_gt(sqrt(norm), 1.0);
			ck_assert_double_lt(sqrt(norm), 2.0);
		}
	}
}
END_TEST

/* The scenario persons: each camera photo is identified as its own
 * enrolment photo, with a confidence over the default score of 70. */
START_TEST(camera_photos_are_identified_as_their_person)
{
	static const char *const who[4] = {"a", "b", "c", "d"};
	recog_desc lib[4];
	char err[600], rel[64];
	if (valgrind())
		return;
	for (int i = 0; i < 4; i++) {
		snprintf(rel, sizeof rel, "faces/person-%s-1.jpg", who[i]);
		ck_assert_msg(enrol(rel, &lib[i], err, sizeof err) == 0, "%s", err);
	}
	for (int i = 0; i < 4; i++) {
		recog_match m;
		snprintf(rel, sizeof rel, "faces/person-%s-2.jpg", who[i]);
		img im = load(rel);
		ck_assert_int_eq(recog_identify(rg, &im, lib, 4, 0.70, &m, err, sizeof err), 0);
		ck_assert_msg(m.matched && m.index == (size_t)i, "%s: index %zu, "
			      "distance %.3f, confidence %.3f", rel, m.index, m.distance,
			      m.confidence);
		ck_assert_double_ge(m.confidence, 0.70);
		ck_assert_int_eq(m.n_faces, 1);
		/* 1.0 m from the virtual camera: a box about 89 px wide */
		ck_assert_int_gt(m.face_w, 70);
		ck_assert_int_lt(m.face_w, 110);
		ck_assert_double_gt(m.brightness, 40);
		/* a library without the person: a stranger */
		recog_desc others[3];
		int k = 0;
		for (int j = 0; j < 4; j++)
			if (j != i)
				others[k++] = lib[j];
		ck_assert_int_eq(recog_identify(rg, &im, others, 3, 0.70, &m, err, sizeof err), 0);
		ck_assert_msg(!m.matched, "%s matched another person at %.3f", rel,
			      m.distance);
		ck_assert_double_lt(m.confidence, 0.70);
		img_free(&im);
	}
}
END_TEST

START_TEST(a_frame_without_a_face_is_enoface)
{
	recog_match m;
	recog_desc lib[1] = {{{0}}};
	char err[600];
	if (valgrind())
		return;
	img im = load("faces/no-face.jpg");
	ck_assert_int_eq(recog_identify(rg, &im, lib, 1, 0.7, &m, err, sizeof err),
			 SIM_ENOFACE);
	ck_assert_ptr_nonnull(strstr(err, "no face"));
	ck_assert(!m.matched);
	img_free(&im);
}
END_TEST

/* Enrolling one photo a thousand times runs one inference. */
START_TEST(same_picture_costs_one_inference)
{
	recog_desc d0, d;
	char err[600];
	size_t h0, m0, h1, m1;
	if (valgrind())
		return;
	img im = load("faces/person-b-1.jpg");
	recog_cache_stats(rg, &h0, &m0);
	ck_assert_int_eq(recog_enroll(rg, &im, &d0, err, sizeof err), 0);
	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(recog_enroll(rg, &im, &d, err, sizeof err), 0);
		ck_assert(!memcmp(&d, &d0, sizeof d));
	}
	recog_cache_stats(rg, &h1, &m1);
	ck_assert_uint_eq(m1 - m0, 1);
	ck_assert_uint_eq(h1 - h0, 1000);
	/* one changed pixel is another picture */
	im.px[0] ^= 1;
	ck_assert_int_eq(recog_enroll(rg, &im, &d, err, sizeof err), 0);
	recog_cache_stats(rg, &h1, &m1);
	ck_assert_uint_eq(m1 - m0, 2);
	/* the other alignment is another descriptor, not a cache hit */
	recog_set_align(rg, RECOG_ALIGN_FACEAPI);
	ck_assert_int_eq(recog_enroll(rg, &im, &d, err, sizeof err), 0);
	recog_set_align(rg, RECOG_ALIGN_SIMILARITY);
	recog_cache_stats(rg, &h1, &m1);
	ck_assert_uint_eq(m1 - m0, 3);
	img_free(&im);
}
END_TEST

/* A descriptor remembered by the photo's hash comes back for that hash
 * under that alignment only; nothing for another hash, the other
 * alignment, or no recogniser. */
START_TEST(an_enrolment_is_recalled_by_its_photos_hash_and_alignment)
{
	const char *a = "a3f1000000000000000000000000000000000000000000000000000000000000";
	const char *b = "a3f2000000000000000000000000000000000000000000000000000000000000";
	recog_desc d, got;

	for (int i = 0; i < RECOG_DIM; i++)
		d.v[i] = (float)i / RECOG_DIM;
	ck_assert(!recog_enroll_recall(rg, a, &got));
	recog_enroll_remember(rg, a, &d);
	memset(&got, 0, sizeof got);
	ck_assert(recog_enroll_recall(rg, a, &got));
	ck_assert(!memcmp(&got, &d, sizeof d));
	/* b shares a's slot: a miss, not a's descriptor */
	ck_assert(!recog_enroll_recall(rg, b, &got));
	recog_set_align(rg, RECOG_ALIGN_FACEAPI);
	ck_assert(!recog_enroll_recall(rg, a, &got));
	recog_set_align(rg, RECOG_ALIGN_SIMILARITY);
	ck_assert(recog_enroll_recall(rg, a, &got));
	/* the next picture in the slot takes it */
	recog_enroll_remember(rg, b, &d);
	ck_assert(!recog_enroll_recall(rg, a, &got));
	ck_assert(recog_enroll_recall(rg, b, &got));
	ck_assert(!recog_enroll_recall(NULL, a, &got));
	recog_enroll_remember(NULL, a, &d); /* no crash */
}
END_TEST

START_TEST(confidence_falls_with_distance_and_is_070_at_the_threshold)
{
	ck_assert_double_eq_tol(recog_confidence(RECOG_THRESHOLD), 0.70, 1e-9);
	double prev = 2;
	for (double d = 0; d <= 2.0; d += 0.01) {
		double c = recog_confidence(d);
		ck_assert(c > 0 && c < 1);
		ck_assert_msg(c < prev, "not decreasing at %.2f", d);
		prev = c;
	}
	ck_assert_double_gt(recog_confidence(0.1), 0.98);
	ck_assert_double_lt(recog_confidence(0.9), 0.05);
}
END_TEST

/* The library scan finds what a plain double-precision search finds. */
START_TEST(library_scan_finds_the_nearest_of_ten_thousand)
{
	enum { N = 10000 };
	recog_desc *lib = malloc(N * sizeof(*lib));
	recog_match m;
	char err[600];
	if (valgrind()) {
		free(lib);
		return;
	}
	img im = load("faces/person-d-2.jpg");
	recog_desc probe;
	ck_assert_int_eq(recog_enroll(rg, &im, &probe, err, sizeof err), 0);
	unsigned s = 12345;
	for (int i = 0; i < N; i++)
		for (int k = 0; k < RECOG_DIM; k++) {
			s = s * 1103515245u + 12345u;
			lib[i].v[k] = probe.v[k] + ((float)(s >> 16 & 0x7fff) / 32768.0f - 0.5f) *
				      (0.05f + 0.0001f * (float)(i % 97));
		}
	size_t best = 0;
	double bd = INFINITY;
	for (int i = 0; i < N; i++) {
		double d = recog_distance(probe.v, lib[i].v);
		if (d < bd)
			bd = d, best = (size_t)i;
	}
	ck_assert_int_eq(recog_identify(rg, &im, lib, N, 0.7, &m, err, sizeof err), 0);
	ck_assert_uint_eq(m.index, best);
	ck_assert_double_eq_tol(m.distance, bd, 1e-9);
	img_free(&im);
	free(lib);
}
END_TEST

/* Without models every call says so and how to get them. */
START_TEST(missing_models_are_named_not_guessed)
{
	char err[600];
	recog_desc d;
	recog *r = recog_open("/nonexistent/models", err, sizeof err);
	ck_assert_ptr_nonnull(r);
	ck_assert(!recog_available(r));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/models"));
	ck_assert_ptr_nonnull(strstr(err, "make models"));
	img im = {4, 3, (uint8_t[36]){0}};
	ck_assert_int_eq(recog_enroll(r, &im, &d, err, sizeof err), SIM_EMODEL);
	ck_assert_ptr_nonnull(strstr(err, "unavailable"));
	recog_close(r);
}
END_TEST

/* A weight file the core's parser refuses (a shard 4 bytes short of its
 * tensor) comes out of the service as SIM_EMODEL, the code recog.h
 * promises, not as the core's own RECOG_EMODEL; the message names the
 * manifest and the tensor.  Needs no models. */
START_TEST(a_damaged_weight_file_is_emodel_naming_it)
{
	char dir[] = "/tmp/camsim-recog-XXXXXX", path[256], err[600];
	static const char man[] = "[{\"paths\": [\"bad.bin\"], \"weights\": "
				  "[{\"name\": \"w\", \"shape\": [2], "
				  "\"dtype\": \"float32\"}]}]";
	mdl m;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/bad-weights_manifest.json", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(man, f);
	fclose(f);
	snprintf(path, sizeof path, "%s/bad.bin", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("abcd", f); /* one float of the two */
	fclose(f);
	ck_assert_int_eq(recog_model_load(dir, "bad", &m, err, sizeof err), SIM_EMODEL);
	ck_assert_msg(strstr(err, "bad-weights_manifest.json") &&
			      strstr(err, "w: needs 8 bytes"),
		      "not named: %s", err);
	ck_assert_uint_eq(m.nt, 0);
	unlink(path);
	snprintf(path, sizeof path, "%s/bad-weights_manifest.json", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* A CAMSIM_GEMM that names no kernel is refused by name, not ignored;
 * "blas" is taken.  Needs no models: the variable is read first. */
START_TEST(bad_camsim_gemm_is_named)
{
	char err[600];
	recog *r;

	setenv("CAMSIM_GEMM", "fast", 1);
	r = recog_open("/nonexistent/models", err, sizeof err);
	unsetenv("CAMSIM_GEMM");
	ck_assert_ptr_nonnull(r);
	ck_assert(!recog_available(r));
	ck_assert_msg(strstr(err, "CAMSIM_GEMM") && strstr(err, "\"fast\"") &&
			      strstr(err, "own"), "%s", err);
	recog_close(r);
	setenv("CAMSIM_GEMM", "blas", 1);
	r = recog_open("/nonexistent/models", err, sizeof err);
	unsetenv("CAMSIM_GEMM");
	ck_assert_ptr_nonnull(strstr(err, "make models")); /* got past it */
	ck_assert_int_eq(gemm_resolve(GEMM_AUTO), GEMM_BLAS);
	gemm_set_default(GEMM_AUTO);
	recog_close(r);
}
END_TEST

/* camsim recog: the JSON of detect carries every face's box, score, 68
 * landmarks and 128 values; compare's exit status is the verdict. */
START_TEST(cli_detect_json_and_compare_verdict)
{
	char path[1024], a[1024], b[1024], c[1024];
	if (valgrind())
		return;
	snprintf(path, sizeof path, "%s/faces/two-faces.jpg", tu_root());
	snprintf(a, sizeof a, "%s/faces/person-a-1.jpg", tu_root());
	snprintf(b, sizeof b, "%s/faces/person-a-2.jpg", tu_root());
	snprintf(c, sizeof c, "%s/faces/person-b-2.jpg", tu_root());
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len), *err = fopen("/dev/null", "w");
	char *argv1[] = {"recog", "detect", "--json", path, NULL};
	ck_assert_int_eq(recog_main(4, argv1, out, err), 0);
	fflush(out);
	cJSON *j = cJSON_Parse(buf);
	ck_assert_ptr_nonnull(j);
	cJSON *faces = cJSON_GetObjectItem(j, "faces");
	ck_assert_int_eq(cJSON_GetArraySize(faces), 2);
	cJSON *f0 = cJSON_GetArrayItem(faces, 0);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(f0, "box")), 4);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(f0, "landmarks")), 68);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(f0, "descriptor")), 128);
	ck_assert_double_gt(cJSON_GetObjectItem(f0, "score")->valuedouble, 0.5);
	cJSON_Delete(j);
	char *argv2[] = {"recog", "compare", a, b, NULL};
	ck_assert_int_eq(recog_main(4, argv2, out, err), 0);
	char *argv3[] = {"recog", "compare", a, c, NULL};
	ck_assert_int_eq(recog_main(4, argv3, out, err), 1);
	char *argv4[] = {"recog", "compare", a, NULL};
	ck_assert_int_eq(recog_main(3, argv4, out, err), 2);
	char *argv5[] = {"recog", "detect", "--align", "sideways", a, NULL};
	ck_assert_int_eq(recog_main(5, argv5, out, err), 2);
	fclose(out);
	fclose(err);
	free(buf);
}
END_TEST

/* camsim recog on a picture made to crash stb_image 2.27 (a DHT whose code
 * counts sum over 256): that picture is named with libjpeg-turbo's reason,
 * the next one is still detected, and the exit status is 1. */
START_TEST(cli_names_a_hostile_picture_and_goes_on)
{
	char bad[1024], good[1024], want[1200];
	if (valgrind())
		return;
	snprintf(bad, sizeof bad, "%s/fixtures/images/hostile/dht_overflow.jpg",
		 tu_root());
	snprintf(good, sizeof good, "%s/fixtures/images/frame_640x480.png",
		 tu_root());
	char *obuf = NULL, *ebuf = NULL;
	size_t olen = 0, elen = 0;
	FILE *out = open_memstream(&obuf, &olen), *err = open_memstream(&ebuf, &elen);
	char *argv[] = {"recog", "detect", bad, good, NULL};
	ck_assert_int_eq(recog_main(4, argv, out, err), 1);
	fclose(out);
	fclose(err);
	snprintf(want, sizeof want, "camsim recog: %s: cannot decode the JPEG "
		 "picture (libjpeg-turbo: Bogus Huffman table definition)\n", bad);
	ck_assert_msg(strstr(ebuf, want), "not named: %s", ebuf);
	snprintf(want, sizeof want, "%s: 640x480, 0 faces", good);
	ck_assert_msg(strstr(obuf, want), "not detected: %s", obuf);
	free(obuf);
	free(ebuf);
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		enrolment_accepts_one_face_and_refuses_the_rest,
		camera_photos_are_identified_as_their_person,
		a_frame_without_a_face_is_enoface, same_picture_costs_one_inference,
		an_enrolment_is_recalled_by_its_photos_hash_and_alignment,
		confidence_falls_with_distance_and_is_070_at_the_threshold,
		library_scan_finds_the_nearest_of_ten_thousand,
		missing_models_are_named_not_guessed,
		a_damaged_weight_file_is_emodel_naming_it, bad_camsim_gemm_is_named,
		cli_detect_json_and_compare_verdict,
		cli_names_a_hostile_picture_and_goes_on, NULL};
	Suite *s = suite_create("recog");

	rt_tcase(s, "service", setup, teardown, 300, tests);
	return tu_run(s);
}
