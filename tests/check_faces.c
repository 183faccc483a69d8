/* check_faces.c -- the face fixtures of faces/ (tools/mkfaces.c, `make
 * faces`, which make test runs first): the manifest lists every file with
 * its sha256, size and face boxes; every picture decodes to its size; the
 * boxes follow the variants' geometry (scale, rotation, the virtual
 * camera's distances); two runs of build/mkfaces write the same bytes as
 * faces/; a malformed people.json (fixtures/faces/bad-*.json, the expected
 * message in bad-*.err) or an undecodable photo is refused with exit
 * status 1, naming the file and the field, before anything is written.
 *
 * Runs build/mkfaces relative to the repository root (CAMSIM_MKFACES
 * overrides it), with the demo photos of build/models/demo. */
#include "image.h"
#include "sim_err.h"
#include "testutil.h"
#include "vcam.h"

#include <cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define VARIANTS_PER_PERSON 21
#define SCENES 4 /* two-faces, no-face, truncated, small-face */

static const char *path_in(const char *dir, const char *rel)
{
	static char buf[4][1024];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s/%s", tu_root(), dir, rel);
	return buf[k];
}

static const char *mkfaces_bin(void)
{
	static char buf[1024];
	const char *env = getenv("CAMSIM_MKFACES");
	if (env && *env)
		return env;
	snprintf(buf, sizeof buf, "%s/build/mkfaces", tu_root());
	return buf;
}

static cJSON *load_json(const char *path)
{
	size_t len;
	char *text = tu_read(path, &len);
	cJSON *j;

	ck_assert_msg(text != NULL, "cannot read %s (run `make faces' first)", path);
	j = cJSON_ParseWithLength(text, len);
	free(text);
	ck_assert_msg(j != NULL, "%s is not JSON", path);
	return j;
}

static cJSON *manifest(void)
{
	return load_json(path_in("faces", "manifest.json"));
}

/* The manifest entry of path (fails the test when missing). */
static const cJSON *entry(const cJSON *m, const char *path)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(m, "files")) {
		const cJSON *p = cJSON_GetObjectItem(e, "path");
		if (cJSON_IsString(p) && !strcmp(p->valuestring, path))
			return e;
	}
	ck_abort_msg("manifest.json does not list %s", path);
	return NULL;
}

/* The number at index i of the array member key of o. */
static double num_at(const cJSON *o, const char *key, int i)
{
	const cJSON *a = cJSON_GetObjectItem(o, key), *v;
	ck_assert_msg(cJSON_IsArray(a), "no array \"%s\"", key);
	v = cJSON_GetArrayItem(a, i);
	ck_assert_msg(cJSON_IsNumber(v), "\"%s\"[%d] is not a number", key, i);
	return v->valuedouble;
}

/* Eye line angle in degrees (y grows downwards) of a manifest face. */
static double eye_angle(const cJSON *face)
{
	const cJSON *eyes = cJSON_GetObjectItem(face, "eyes");
	const cJSON *l = cJSON_GetArrayItem(eyes, 0), *r = cJSON_GetArrayItem(eyes, 1);
	ck_assert_ptr_nonnull(l);
	ck_assert_ptr_nonnull(r);
	return atan2(cJSON_GetArrayItem(r, 1)->valuedouble -
			     cJSON_GetArrayItem(l, 1)->valuedouble,
		     cJSON_GetArrayItem(r, 0)->valuedouble -
			     cJSON_GetArrayItem(l, 0)->valuedouble) * 180 / M_PI;
}

/* "person" of faces[i] of a manifest entry. */
static const char *face_person(const cJSON *e, int i)
{
	const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItem(e, "faces"), i);
	const cJSON *p = cJSON_GetObjectItem(f, "person");
	ck_assert_msg(cJSON_IsString(p), "faces[%d] has no person", i);
	return p->valuestring;
}

static int people_count(void)
{
	cJSON *p = load_json(path_in("faces", "people.json"));
	int n = cJSON_GetArraySize(cJSON_GetObjectItem(p, "people"));
	cJSON_Delete(p);
	return n;
}

/* Runs mkfaces on demo, people and out; returns its exit status, its
 * stderr in *err (malloc'd). */
static int run_mkfaces(const char *demo, const char *people, const char *out,
		       char **err)
{
	char cmd[4096], errfile[] = "/tmp/camsim-mkfaces-err-XXXXXX";
	int fd = mkstemp(errfile), st;

	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(cmd, sizeof cmd, "'%s' '%s' '%s' '%s' >/dev/null 2>'%s'",
		 mkfaces_bin(), demo, people, out, errfile);
	st = system(cmd);
	*err = tu_read(errfile, NULL);
	unlink(errfile);
	ck_assert_ptr_nonnull(*err);
	ck_assert_msg(WIFEXITED(st), "mkfaces did not exit normally: %s", cmd);
	return WEXITSTATUS(st);
}

static void rm_rf(const char *dir)
{
	char cmd[1100];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* ------------------------------------------------------------- manifest */

START_TEST(manifest_lists_every_file_with_its_sha256)
{
	cJSON *m = manifest();
	const cJSON *files = cJSON_GetObjectItem(m, "files"), *e;
	int n = people_count(), count = 0;

	ck_assert_msg(cJSON_IsArray(files), "manifest.json has no \"files\" array");
	ck_assert_int_eq(cJSON_GetArraySize(files), n * (2 + VARIANTS_PER_PERSON) + SCENES);
	cJSON_ArrayForEach(e, files) {
		const cJSON *path = cJSON_GetObjectItem(e, "path");
		const cJSON *sha = cJSON_GetObjectItem(e, "sha256");
		char *data, hex[65];
		size_t len;

		ck_assert(cJSON_IsString(path));
		ck_assert(cJSON_IsString(cJSON_GetObjectItem(e, "variant")));
		ck_assert(cJSON_IsObject(cJSON_GetObjectItem(e, "params")));
		ck_assert(cJSON_IsArray(cJSON_GetObjectItem(e, "faces")));
		ck_assert_msg(cJSON_IsString(sha) && strlen(sha->valuestring) == 64,
			      "%s: no sha256", path->valuestring);
		data = tu_read(path_in("faces", path->valuestring), &len);
		ck_assert_msg(data != NULL, "faces/%s is listed but cannot be read",
			      path->valuestring);
		img_sha256_hex(data, len, hex);
		ck_assert_msg(!strcmp(hex, sha->valuestring), "faces/%s: sha256 %s, manifest says %s",
			      path->valuestring, hex, sha->valuestring);
		free(data);
		count++;
	}
	ck_assert_int_eq(count, cJSON_GetArraySize(files));
	cJSON_Delete(m);
}
END_TEST

START_TEST(every_picture_decodes_to_its_stated_size)
{
	cJSON *m = manifest();
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItem(m, "files")) {
		const char *path = cJSON_GetObjectItem(e, "path")->valuestring;
		const cJSON *w = cJSON_GetObjectItem(e, "width");
		const cJSON *h = cJSON_GetObjectItem(e, "height");
		char err[512] = "";
		img im;
		int rc = img_load_file(path_in("faces", path), &im, err, sizeof err);

		if (!strcmp(path, "truncated.jpg")) {
			ck_assert_msg(rc == SIM_ENOTIMAGE, "truncated.jpg: rc %d", rc);
			ck_assert(cJSON_IsNull(w) && cJSON_IsNull(h));
			continue;
		}
		ck_assert_msg(rc == 0, "faces/%s: %s", path, err);
		ck_assert_msg(cJSON_IsNumber(w) && cJSON_IsNumber(h), "%s: no size", path);
		ck_assert_msg(im.w == w->valueint && im.h == h->valueint,
			      "faces/%s decodes to %dx%d, manifest says %dx%d", path,
			      im.w, im.h, w->valueint, h->valueint);
		img_free(&im);
	}
	cJSON_Delete(m);
}
END_TEST

/* What the conformance scenarios use. */
START_TEST(scenario_files_are_there)
{
	cJSON *m = manifest();
	static const char *const who[] = {"person-a", "person-b", "person-c", "person-d"};
	const cJSON *e;

	for (int i = 0; i < 4; i++) {
		char one[64], two[64];
		snprintf(one, sizeof one, "%s-1.jpg", who[i]);
		snprintf(two, sizeof two, "%s-2.jpg", who[i]);
		e = entry(m, one);
		ck_assert_str_eq(cJSON_GetObjectItem(e, "person")->valuestring, who[i]);
		ck_assert_str_eq(cJSON_GetObjectItem(e, "variant")->valuestring, "enrol");
		ck_assert_int_eq(cJSON_GetObjectItem(e, "width")->valueint, 320);
		ck_assert_int_eq(cJSON_GetObjectItem(e, "height")->valueint, 320);
		e = entry(m, two);
		ck_assert_str_eq(cJSON_GetObjectItem(e, "variant")->valuestring, "camera");
		ck_assert_int_eq(cJSON_GetObjectItem(e, "width")->valueint, VCAM_W);
		ck_assert_int_eq(cJSON_GetObjectItem(e, "height")->valueint, VCAM_H);
	}
	e = entry(m, "two-faces.jpg");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(e, "person")));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(e, "faces")), 2);
	ck_assert_str_ne(face_person(e, 0), face_person(e, 1));
	e = entry(m, "no-face.jpg");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(e, "faces")), 0);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(e, "box")));
	e = entry(m, "small-face.jpg");
	ck_assert_double_eq_tol(num_at(e, "box", 2), 24, 0.011);
	cJSON_Delete(m);
}
END_TEST

/* ------------------------------------------------------------- geometry */

/* Variants of every person against its enrolment photo: scale-* scales the
 * box, rot-* turns the eye line by the angle (counter-clockwise in the
 * picture) around the same centre and widens the box to the rotated
 * rectangle's bounds, the photometric variants keep it, frame-* sizes it
 * by the virtual camera with its centre at (320, 200). */
START_TEST(variant_boxes_follow_their_geometry)
{
	cJSON *m = manifest();
	cJSON *pj = load_json(path_in("faces", "people.json"));
	const cJSON *p;

	cJSON_ArrayForEach(p, cJSON_GetObjectItem(pj, "people")) {
		const char *name = cJSON_GetObjectItem(p, "name")->valuestring;
		char rel[256];
		const cJSON *en, *e;
		double bx, by, bw, bh, ang;

		snprintf(rel, sizeof rel, "%s-1.jpg", name);
		en = entry(m, rel);
		bx = num_at(en, "box", 0);
		by = num_at(en, "box", 1);
		bw = num_at(en, "box", 2);
		bh = num_at(en, "box", 3);
		ang = eye_angle(cJSON_GetArrayItem(cJSON_GetObjectItem(en, "faces"), 0));
		/* the box lies in the crop, with its margin */
		ck_assert(bx > 0 && by > 0 && bx + bw < 320 && by + bh < 320);

		static const double scales[] = {0.5, 0.75, 1.5};
		static const char *const sname[] = {"scale-0.5", "scale-0.75", "scale-1.5"};
		for (int i = 0; i < 3; i++) {
			snprintf(rel, sizeof rel, "variants/%s/%s.jpg", name, sname[i]);
			e = entry(m, rel);
			ck_assert_int_eq(cJSON_GetObjectItem(e, "width")->valueint,
					 (int)(320 * scales[i]));
			for (int k = 0; k < 4; k++)
				ck_assert_double_eq_tol(num_at(e, "box", k),
							num_at(en, "box", k) * scales[i], 0.02);
		}

		static const double angles[] = {-20, -10, 10, 20};
		static const char *const rname[] = {"rot-m20", "rot-m10", "rot-p10", "rot-p20"};
		for (int i = 0; i < 4; i++) {
			double a = angles[i] * M_PI / 180, rw, rh;
			snprintf(rel, sizeof rel, "variants/%s/%s.jpg", name, rname[i]);
			e = entry(m, rel);
			rw = num_at(e, "box", 2);
			rh = num_at(e, "box", 3);
			ck_assert_double_eq_tol(rw, bw * cos(fabs(a)) + bh * sin(fabs(a)), 0.05);
			ck_assert_double_eq_tol(rh, bw * sin(fabs(a)) + bh * cos(fabs(a)), 0.05);
			/* same centre: the enrolment square is centred to half a
			 * source pixel, under a pixel of the crop */
			ck_assert_double_eq_tol(num_at(e, "box", 0) + rw / 2, bx + bw / 2, 1.0);
			ck_assert_double_eq_tol(num_at(e, "box", 1) + rh / 2, by + bh / 2, 1.0);
			ck_assert_double_eq_tol(
				eye_angle(cJSON_GetArrayItem(cJSON_GetObjectItem(e, "faces"), 0)),
				ang - angles[i], 0.5);
		}

		static const char *const same[] = {"bright-m40", "bright-p40", "contrast-0.5",
			"contrast-1.5", "blur-1.5", "blur-3", "jpeg-10", "jpeg-30", "mask"};
		for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
			snprintf(rel, sizeof rel, "variants/%s/%s.jpg", name, same[i]);
			e = entry(m, rel);
			for (int k = 0; k < 4; k++)
				ck_assert_double_eq(num_at(e, "box", k), num_at(en, "box", k));
		}

		static const double dist[] = {0.5, 1.0, 1.5, 2.0, 2.5};
		static const char *const fname[] = {"frame-0.5m", "frame-1.0m",
			"frame-1.5m", "frame-2.0m", "frame-2.5m"};
		for (int i = 0; i < 5; i++) {
			double w;
			snprintf(rel, sizeof rel, "variants/%s/%s.jpg", name, fname[i]);
			e = entry(m, rel);
			w = num_at(e, "box", 2);
			ck_assert_double_eq_tol(w, vcam_box_width_px(dist[i]), 0.011);
			ck_assert_double_eq_tol(vcam_distance_m(w), dist[i], 0.001);
			ck_assert_double_eq_tol(num_at(e, "box", 0) + w / 2, VCAM_FACE_CX, 0.011);
			ck_assert_double_eq_tol(num_at(e, "box", 1) + num_at(e, "box", 3) / 2,
						VCAM_FACE_CY, 0.011);
		}
		/* person-X-2: 1 m, head turned +6 degrees */
		snprintf(rel, sizeof rel, "%s-2.jpg", name);
		e = entry(m, rel);
		ck_assert_double_eq_tol(
			eye_angle(cJSON_GetArrayItem(cJSON_GetObjectItem(e, "faces"), 0)),
			ang - 6, 0.5);
	}
	cJSON_Delete(pj);
	cJSON_Delete(m);
}
END_TEST

START_TEST(virtual_camera_constants)
{
	ck_assert_double_eq_tol(VCAM_FOCAL_PX, (VCAM_W / 2) / tan(VCAM_HFOV_DEG / 2 * M_PI / 180),
				1e-9);
	ck_assert_int_eq((int)lround(vcam_box_width_px(0.5)), 177);
	ck_assert_int_eq((int)lround(vcam_box_width_px(1.0)), 89);
	ck_assert_int_eq((int)lround(vcam_box_width_px(2.5)), 35);
}
END_TEST

/* ----------------------------------------------------------------- runs */

static bool same_file(const char *a, const char *b)
{
	size_t la, lb;
	char *da = tu_read(a, &la), *db = tu_read(b, &lb);
	bool same = da && db && la == lb && !memcmp(da, db, la);
	free(da);
	free(db);
	return same;
}

START_TEST(two_runs_write_the_same_bytes_as_faces)
{
	char d1[] = "/tmp/camsim-faces-XXXXXX", d2[] = "/tmp/camsim-faces-XXXXXX";
	char *err;
	cJSON *m = manifest();
	const cJSON *e;
	int n = 0;

	ck_assert_ptr_nonnull(mkdtemp(d1));
	ck_assert_ptr_nonnull(mkdtemp(d2));
	ck_assert_int_eq(run_mkfaces(path_in("build", "models/demo"),
				     path_in("faces", "people.json"), d1, &err), 0);
	free(err);
	ck_assert_int_eq(run_mkfaces(path_in("build", "models/demo"),
				     path_in("faces", "people.json"), d2, &err), 0);
	free(err);
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(m, "files")) {
		const char *rel = cJSON_GetObjectItem(e, "path")->valuestring;
		char a[1024], b[1024];
		struct stat st;
		snprintf(a, sizeof a, "%s/%s", d1, rel);
		snprintf(b, sizeof b, "%s/%s", d2, rel);
		ck_assert_msg(same_file(a, b), "%s differs between two runs", rel);
		ck_assert_msg(same_file(a, path_in("faces", rel)),
			      "%s differs from faces/%s (faces/ out of date?)", a, rel);
		strcat(a, ".part");
		ck_assert_msg(stat(a, &st) != 0, "%s left behind", a);
		n++;
	}
	ck_assert_int_gt(n, 0);
	{
		char a[1024], b[1024];
		snprintf(a, sizeof a, "%s/manifest.json", d1);
		snprintf(b, sizeof b, "%s/manifest.json", d2);
		ck_assert(same_file(a, b));
		ck_assert_msg(same_file(a, path_in("faces", "manifest.json")),
			      "faces/manifest.json is not what mkfaces writes now: run `make faces'");
	}
	rm_rf(d1);
	rm_rf(d2);
	cJSON_Delete(m);
}
END_TEST

/* Each fixtures/faces/bad-*.json: exit 1, one line on stderr holding each
 * line of bad-*.err and the file's path, nothing written. */
START_TEST(malformed_people_json_is_refused_naming_the_field)
{
	tu_list l = tu_ls("fixtures/faces", ".json");

	ck_assert_int_ge(l.n, 10);
	for (size_t i = 0; i < l.n; i++) {
		char errp[1100], out[] = "/tmp/camsim-faces-XXXXXX", *want, *err, *nl;
		struct stat st;
		char mf[1100];
		int rc;

		snprintf(errp, sizeof errp, "%.*s.err", (int)(strlen(l.path[i]) - 5), l.path[i]);
		want = tu_read(errp, NULL);
		ck_assert_msg(want != NULL, "%s has no .err beside it", l.path[i]);
		ck_assert_ptr_nonnull(mkdtemp(out));
		rc = run_mkfaces(path_in("build", "models/demo"), l.path[i], out, &err);
		ck_assert_msg(rc == 1, "%s: exit %d, want 1 (stderr: %s)", l.path[i], rc, err);
		for (char *line = want; line && *line; line = nl) { /* each line appears */
			if ((nl = strchr(line, '\n')))
				*nl++ = '\0';
			ck_assert_msg(strstr(err, line), "%s: stderr \"%s\" lacks \"%s\"",
				      l.path[i], err, line);
		}
		ck_assert_msg(strstr(err, l.path[i]), "%s: stderr \"%s\" does not name the file",
			      l.path[i], err);
		ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1,
			      "%s: not one line: \"%s\"", l.path[i], err);
		snprintf(mf, sizeof mf, "%s/manifest.json", out);
		ck_assert_msg(stat(mf, &st) != 0, "%s: a manifest was written", l.path[i]);
		rm_rf(out);
		free(err);
		free(want);
	}
	tu_ls_free(&l);
}
END_TEST

START_TEST(undecodable_photo_is_refused_naming_the_person)
{
	char demo[] = "/tmp/camsim-demo-XXXXXX", out[] = "/tmp/camsim-faces-XXXXXX";
	char *err, cmd[2048];
	int rc;

	ck_assert_ptr_nonnull(mkdtemp(demo));
	ck_assert_ptr_nonnull(mkdtemp(out));
	for (int i = 1; i <= 6; i++) {
		snprintf(cmd, sizeof cmd, "cp '%s' '%s/sample%d.jpg'",
			 path_in("fixtures", "images/photo.jpg"), demo, i);
		ck_assert_int_eq(system(cmd), 0);
	}
	rc = run_mkfaces(demo, path_in("faces", "people.json"), out, &err);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(err, "people[0].sample: ") && strstr(err, "not a decodable picture"),
		      "stderr: %s", err);
	free(err);
	rm_rf(demo);
	rm_rf(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("faces");
	TCase *files = tcase_create("files"), *runs = tcase_create("mkfaces");

	tcase_add_test(files, manifest_lists_every_file_with_its_sha256);
	tcase_add_test(files, every_picture_decodes_to_its_stated_size);
	tcase_add_test(files, scenario_files_are_there);
	tcase_add_test(files, variant_boxes_follow_their_geometry);
	tcase_add_test(files, virtual_camera_constants);
	tcase_set_timeout(files, 60);
	suite_add_tcase(s, files);
	tcase_add_test(runs, two_runs_write_the_same_bytes_as_faces);
	tcase_add_test(runs, malformed_people_json_is_refused_naming_the_field);
	tcase_add_test(runs, undecodable_photo_is_refused_naming_the_person);
	tcase_set_timeout(runs, 180);
	suite_add_tcase(s, runs);
	return tu_run(s);
}
