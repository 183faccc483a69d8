/* recog_cli.c -- `camsim recog detect|enroll|identify|compare`: the
 * recognition core on picture files, for people checking what the
 * simulated camera will see.  Owns argument parsing and printing only;
 * every decision is recog.c's. */
#include "recog_cli.h"
#include "nn.h"
#include "recog.h"
#include "sim_err.h"
#include "file.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define CLI_MAX_FACES 64

static const char usage[] =
	"usage: camsim recog detect   [options] IMAGE...\n"
	"       camsim recog enroll   [options] IMAGE...\n"
	"       camsim recog identify [options] --lib IMAGE|DIR [--lib ...] FRAME...\n"
	"       camsim recog compare  [options] A B\n"
	"       camsim recog eval     [options] faces/manifest.json\n"
	"\n"
	"detect    every face: box, score, 68 landmarks, 128-d descriptor, timings\n"
	"enroll    whether each picture is accepted as an enrolment photo (one face,\n"
	"          at least %d px wide) or refused (batch import result 3)\n"
	"identify  enrols the --lib pictures (named by file name) and matches the\n"
	"          largest face of each FRAME against them\n"
	"compare   the L2 distance of the largest faces of A and B, the confidence\n"
	"          and the verdict at the threshold\n"
	"eval      genuine and impostor distance distributions of both alignments\n"
	"          over make faces' fixtures (enrolment photo vs every variant), as\n"
	"          Markdown: error rates by threshold, identification by variant\n"
	"\n"
	"options:\n"
	"  --json             one JSON object per picture (detect: every face with its\n"
	"                     box, score, landmarks and descriptor)\n"
	"  --align MODE       similarity (default: rotation-aligned chip) or faceapi\n"
	"                     (exactly face-api 1.7.15's unrotated crop)\n"
	"  --threshold D      match distance (default %.2f); or\n"
	"  --score S          face_rec.score 0..100: match when confidence >= S/100\n"
	"  --models DIR       model directory (default: make models' build/models/model)\n"
	"\n"
	"exit status: 0 done (compare: same person), 1 a picture failed or\n"
	"(compare) different persons, 2 usage error or models missing.\n";

typedef struct cli {
	bool json;
	double min_conf;
	const char *models;
	recog_align align;
	FILE *out, *err;
	recog *r;
} cli;

static void print_json(cli *c, cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	if (s)
		fprintf(c->out, "%s\n", s);
	free(s);
	cJSON_Delete(o);
}

static int load(cli *c, const char *path, img *im)
{
	char e[600];
	int rc = img_load_file(path, im, e, sizeof e);
	if (rc < 0)
		fprintf(c->err, "camsim recog: %s\n", e);
	return rc;
}

static int cmd_detect(cli *c, int n, char **files)
{
	int status = 0;
	recog_face *faces = calloc(CLI_MAX_FACES, sizeof(*faces));
	if (!faces)
		return 1;
	for (int i = 0; i < n; i++) {
		img im = {0};
		char e[600];
		recog_timing t;
		if (load(c, files[i], &im) < 0) {
			status = 1;
			continue;
		}
		double t0 = nn_clock_ms(CLOCK_MONOTONIC);
		int k = recog_faces(c->r, &im, true, faces, CLI_MAX_FACES, &t, e, sizeof e);
		double ms = nn_clock_ms(CLOCK_MONOTONIC) - t0;
		if (k < 0) {
			fprintf(c->err, "camsim recog: %s: %s\n", files[i], e);
			img_free(&im);
			status = 1;
			continue;
		}
		if (c->json) {
			cJSON *o = cJSON_CreateObject(), *fa = cJSON_CreateArray();
			cJSON_AddStringToObject(o, "image", files[i]);
			cJSON_AddNumberToObject(o, "width", im.w);
			cJSON_AddNumberToObject(o, "height", im.h);
			cJSON_AddNumberToObject(o, "ms", ms);
			for (int f = 0; f < k; f++) {
				cJSON *x = cJSON_CreateObject(), *lm = cJSON_CreateArray();
				cJSON_AddItemToObject(x, "box",
						      cJSON_CreateFloatArray(faces[f].box, 4));
				cJSON_AddNumberToObject(x, "score", faces[f].score);
				for (int p = 0; p < 68; p++)
					cJSON_AddItemToArray(
						lm, cJSON_CreateFloatArray(faces[f].pts[p], 2));
				cJSON_AddItemToObject(x, "landmarks", lm);
				cJSON_AddItemToObject(
					x, "descriptor",
					cJSON_CreateFloatArray(faces[f].desc, RECOG_DIM));
				cJSON_AddItemToObject(x, "detCrop",
						      cJSON_CreateIntArray(faces[f].det_crop, 4));
				cJSON_AddItemToObject(
					x, "alignedCrop",
					cJSON_CreateIntArray(faces[f].aligned_crop, 4));
				cJSON_AddNumberToObject(x, "brightness", faces[f].brightness);
				cJSON_AddItemToArray(fa, x);
			}
			cJSON_AddItemToObject(o, "faces", fa);
			cJSON_AddStringToObject(o, "align", c->align == RECOG_ALIGN_FACEAPI
							     ? "faceapi" : "similarity");
			cJSON *tm = cJSON_AddObjectToObject(o, "timing");
			cJSON_AddNumberToObject(tm, "detectMs", t.detect_ms);
			cJSON_AddNumberToObject(tm, "landmarksMs", t.landmarks_ms);
			cJSON_AddNumberToObject(tm, "descriptorsMs", t.descriptors_ms);
			print_json(c, o);
		} else {
			fprintf(c->out, "%s: %dx%d, %d face%s, %.1f ms (detect %.1f, "
				"landmarks %.1f, descriptors %.1f)\n", files[i], im.w, im.h,
				k, k == 1 ? "" : "s", ms, t.detect_ms, t.landmarks_ms,
				t.descriptors_ms);
			for (int f = 0; f < k; f++) {
				const recog_face *x = &faces[f];
				fprintf(c->out, "  face %d: box %.1f,%.1f %.1fx%.1f score %.3f "
					"eyes %.1f,%.1f %.1f,%.1f nose %.1f,%.1f brightness %.0f "
					"descriptor %.4f %.4f %.4f ...\n", f, x->box[0], x->box[1],
					x->box[2], x->box[3], x->score, x->pts[36][0], x->pts[36][1],
					x->pts[45][0], x->pts[45][1], x->pts[30][0], x->pts[30][1],
					x->brightness, x->desc[0], x->desc[1], x->desc[2]);
			}
		}
		img_free(&im);
	}
	free(faces);
	return status;
}

static int enrol_file(cli *c, const char *path, recog_desc *d, char *e,
		      size_t elen)
{
	img im = {0};
	int rc = img_load_file(path, &im, e, elen);
	if (rc == 0)
		rc = recog_enroll(c->r, &im, d, e, elen);
	img_free(&im);
	return rc;
}

static int cmd_enroll(cli *c, int n, char **files)
{
	int status = 0;
	for (int i = 0; i < n; i++) {
		recog_desc d;
		char e[600] = "";
		int rc = enrol_file(c, files[i], &d, e, sizeof e);
		if (rc < 0)
			status = 1;
		if (c->json) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "image", files[i]);
			cJSON_AddBoolToObject(o, "accepted", rc == 0);
			if (rc == 0)
				cJSON_AddItemToObject(
					o, "descriptor",
					cJSON_CreateFloatArray(d.v, RECOG_DIM));
			else {
				cJSON_AddStringToObject(o, "error", sim_strerror(rc));
				cJSON_AddStringToObject(o, "reason", e);
			}
			print_json(c, o);
		} else if (rc == 0) {
			fprintf(c->out, "%s: accepted\n", files[i]);
		} else {
			fprintf(c->out, "%s: refused: %s: %s\n", files[i],
				sim_strerror(rc), e);
		}
	}
	return status;
}

typedef struct libent {
	char *name;
	recog_desc d;
} libent;

static int add_lib(cli *c, const char *path, libent **lib, size_t *n)
{
	char e[600];
	recog_desc d;
	int rc = enrol_file(c, path, &d, e, sizeof e);
	if (rc < 0) {
		fprintf(c->err, "camsim recog: --lib %s: %s\n", path, e);
		return rc;
	}
	libent *nl = realloc(*lib, (*n + 1) * sizeof(**lib));
	if (!nl)
		return SIM_ENOMEM;
	*lib = nl;
	const char *base = strrchr(path, '/');
	nl[*n].name = strdup(base ? base + 1 : path);
	nl[*n].d = d;
	(*n)++;
	return 0;
}

static int add_lib_arg(cli *c, const char *arg, libent **lib, size_t *n)
{
	DIR *dir = opendir(arg);
	if (!dir)
		return add_lib(c, arg, lib, n);
	struct dirent *de;
	char **names = NULL;
	size_t k = 0;
	int rc = 0;
	while ((de = readdir(dir))) {
		const char *dot = strrchr(de->d_name, '.');
		if (de->d_name[0] == '.' || !dot || (strcmp(dot, ".jpg") &&
		    strcmp(dot, ".jpeg") && strcmp(dot, ".png")))
			continue;
		char **nn = realloc(names, (k + 1) * sizeof(*names));
		if (!nn)
			break;
		names = nn;
		names[k] = malloc(strlen(arg) + strlen(de->d_name) + 2);
		if (names[k])
			sprintf(names[k++], "%s/%s", arg, de->d_name);
	}
	closedir(dir);
	qsort(names, k, sizeof(*names), (int (*)(const void *, const void *))strcmp);
	for (size_t i = 0; i < k; i++) {
		/* a picture that cannot be enrolled is reported and skipped */
		if (add_lib(c, names[i], lib, n) == SIM_ENOMEM)
			rc = SIM_ENOMEM;
		free(names[i]);
	}
	free(names);
	return rc;
}

static int cmd_identify(cli *c, int n_lib_args, char **lib_args, int n,
			char **files)
{
	libent *lib = NULL;
	recog_desc *descs = NULL;
	size_t nl = 0;
	int status = 0;
	for (int i = 0; i < n_lib_args; i++)
		if (add_lib_arg(c, lib_args[i], &lib, &nl) == SIM_ENOMEM) {
			status = 2;
			goto out;
		}
	if (!(descs = malloc((nl ? nl : 1) * sizeof(*descs)))) {
		status = 2;
		goto out;
	}
	for (size_t i = 0; i < nl; i++)
		descs[i] = lib[i].d;
	for (int i = 0; i < n; i++) {
		img im = {0};
		char e[600];
		recog_match m;
		if (load(c, files[i], &im) < 0) {
			status = 1;
			continue;
		}
		double t0 = nn_clock_ms(CLOCK_MONOTONIC);
		int rc = recog_identify(c->r, &im, descs, nl, c->min_conf, &m, e, sizeof e);
		double ms = nn_clock_ms(CLOCK_MONOTONIC) - t0;
		img_free(&im);
		if (rc < 0 && rc != SIM_ENOFACE) {
			fprintf(c->err, "camsim recog: %s: %s\n", files[i], e);
			status = 1;
			continue;
		}
		const char *who = rc == 0 && m.matched ? lib[m.index].name : NULL;
		const char *near = rc == 0 && nl ? lib[m.index].name : NULL;
		if (c->json) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "image", files[i]);
			cJSON_AddNumberToObject(o, "faces", rc == 0 ? m.n_faces : 0);
			if (who)
				cJSON_AddStringToObject(o, "match", who);
			else
				cJSON_AddNullToObject(o, "match");
			if (near) {
				cJSON_AddStringToObject(o, "nearest", near);
				cJSON_AddNumberToObject(o, "distance", m.distance);
				cJSON_AddNumberToObject(o, "confidence", m.confidence);
			}
			cJSON_AddNumberToObject(o, "ms", ms);
			print_json(c, o);
		} else if (rc == SIM_ENOFACE) {
			fprintf(c->out, "%s: no face (%.1f ms)\n", files[i], ms);
		} else if (!near) {
			fprintf(c->out, "%s: face found, library empty\n", files[i]);
		} else {
			fprintf(c->out, "%s: %s (nearest %s, distance %.4f, confidence "
				"%.3f, %.1f ms)\n", files[i], who ? who : "stranger", near,
				m.distance, m.confidence, ms);
		}
	}
out:
	for (size_t i = 0; i < nl; i++)
		free(lib[i].name);
	free(lib);
	free(descs);
	return status;
}

static int cmd_compare(cli *c, char *a, char *b)
{
	recog_desc da, db;
	char e[600];
	if (enrol_file(c, a, &da, e, sizeof e) < 0 && !strstr(e, "faces found")) {
		fprintf(c->err, "camsim recog: %s\n", e);
		return 1;
	}
	/* compare tolerates several faces: it takes the largest (identify) */
	img im = {0};
	recog_match m;
	if (load(c, b, &im) < 0)
		return 1;
	int rc = recog_identify(c->r, &im, &da, 1, c->min_conf, &m, e, sizeof e);
	img_free(&im);
	if (rc < 0) {
		fprintf(c->err, "camsim recog: %s: %s\n", b, e);
		return 1;
	}
	(void)db;
	if (c->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "a", a);
		cJSON_AddStringToObject(o, "b", b);
		cJSON_AddNumberToObject(o, "distance", m.distance);
		cJSON_AddNumberToObject(o, "confidence", m.confidence);
		cJSON_AddBoolToObject(o, "same", m.matched);
		print_json(c, o);
	} else {
		fprintf(c->out, "distance %.4f, confidence %.3f: %s (match when "
			"confidence >= %.2f)\n", m.distance, m.confidence,
			m.matched ? "same person" : "different persons", c->min_conf);
	}
	return m.matched ? 0 : 1;
}


/* ------------------------------------------------------------------ eval */

typedef struct probe {
	const char *person, *variant, *path;
	bool found;
	float desc[2][RECOG_DIM]; /* by alignment */
} probe;

static bool enrolled_person(const probe *pr, size_t np, const char *person)
{
	for (size_t i = 0; i < np; i++)
		if (!strcmp(pr[i].variant, "enrol") && !strcmp(pr[i].person, person))
			return pr[i].found;
	return false;
}

static int cmp_f(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
	if (!n)
		return NAN;
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

/* Genuine: a person's enrolment photo against each of their variants;
 * impostor: against every other person's variants -- the device's case
 * (library = enrolment photos, probes = camera pictures). */
static int cmd_eval(cli *c, const char *manifest)
{
	char e[600], dir[1024];
	size_t len = 0, np = 0;
	char *text = NULL;
	cJSON *root = NULL;
	probe *pr = NULL;
	int status = 1;
	if (base_read_file(NULL, manifest, 16u << 20, &text, &len, e,
			   sizeof e) < 0) {
		fprintf(c->err, "camsim recog eval: %s (run `make faces`)\n", e);
		return 1;
	}
	root = cJSON_ParseWithLength(text, len);
	cJSON *files = cJSON_GetObjectItemCaseSensitive(root, "files");
	if (!cJSON_IsArray(files)) {
		fprintf(c->err, "camsim recog eval: %s: no \"files\" array\n", manifest);
		goto out;
	}
	snprintf(dir, sizeof dir, "%s", manifest);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(dir, sizeof dir, ".");
	pr = calloc((size_t)cJSON_GetArraySize(files), sizeof(*pr));
	if (!pr)
		goto out;
	cJSON *it;
	cJSON_ArrayForEach(it, files)
	{
		cJSON *pe = cJSON_GetObjectItemCaseSensitive(it, "person");
		cJSON *va = cJSON_GetObjectItemCaseSensitive(it, "variant");
		cJSON *pa = cJSON_GetObjectItemCaseSensitive(it, "path");
		if (!cJSON_IsString(pe) || !cJSON_IsString(va) || !cJSON_IsString(pa))
			continue;
		pr[np].person = pe->valuestring;
		pr[np].variant = va->valuestring;
		pr[np].path = pa->valuestring;
		np++;
	}
	recog_face faces[8];
	for (size_t i = 0; i < np; i++) {
		char path[2048];
		img im = {0};
		snprintf(path, sizeof path, "%s/%s", dir, pr[i].path);
		if (img_load_file(path, &im, e, sizeof e) < 0) {
			fprintf(c->err, "camsim recog eval: %s\n", e);
			goto out;
		}
		pr[i].found = true;
		for (int al = 0; al < 2 && pr[i].found; al++) {
			recog_set_align(c->r, al ? RECOG_ALIGN_FACEAPI : RECOG_ALIGN_SIMILARITY);
			int n = recog_faces(c->r, &im, true, faces, 8, NULL, e, sizeof e);
			if (n <= 0) {
				pr[i].found = false;
				break;
			}
			int best = 0;
			for (int k = 1; k < n; k++)
				if (faces[k].box[2] > faces[best].box[2])
					best = k;
			memcpy(pr[i].desc[al], faces[best].desc, sizeof(pr[i].desc[al]));
		}
		img_free(&im);
	}
	size_t cap = np * np;
	double *gen = malloc(cap * sizeof(double)), *imp = malloc(cap * sizeof(double));
	if (!gen || !imp) {
		free(gen);
		free(imp);
		goto out;
	}
	static const char *const names[2] = {"similarity (default)", "faceapi-compatible"};
	size_t enrolled = 0, persons = 0;
	fprintf(c->out, "Pictures of known persons: %zu.\n\n", np);
	for (size_t i = 0; i < np; i++) {
		if (strcmp(pr[i].variant, "enrol"))
			continue;
		persons++;
		if (pr[i].found)
			enrolled++;
		else
			fprintf(c->out, "- enrolment photo %s: no face found, the person "
				"cannot be enrolled\n", pr[i].path);
	}
	fprintf(c->out, "\nEnrolled: %zu of %zu persons; pairs and identification "
		"below are over the enrolled ones.\n\n", enrolled, persons);
	for (int al = 0; al < 2; al++) {
		size_t ng = 0, ni = 0, missed = 0;
		for (size_t i = 0; i < np; i++) {
			if (!pr[i].found)
				missed += al == 0;
			if (strcmp(pr[i].variant, "enrol") || !pr[i].found)
				continue;
			for (size_t j = 0; j < np; j++) {
				if (j == i || !pr[j].found || !strcmp(pr[j].variant, "enrol"))
					continue;
				double d = recog_distance(pr[i].desc[al], pr[j].desc[al]);
				if (!strcmp(pr[i].person, pr[j].person))
					gen[ng++] = d;
				else
					imp[ni++] = d;
			}
		}
		qsort(gen, ng, sizeof(double), cmp_f);
		qsort(imp, ni, sizeof(double), cmp_f);
		fprintf(c->out, "### Alignment: %s\n\n", names[al]);
		if (al == 0)
			fprintf(c->out, "Pictures where the detector found no face: %zu.\n\n", missed);
		fprintf(c->out, "| pairs | n | min | 5 %% | median | 95 %% | max |\n|---|---|---|---|---|---|---|\n");
		fprintf(c->out, "| genuine | %zu | %.3f | %.3f | %.3f | %.3f | %.3f |\n", ng,
			pct(gen, ng, 0), pct(gen, ng, 0.05), pct(gen, ng, 0.5),
			pct(gen, ng, 0.95), pct(gen, ng, 1));
		fprintf(c->out, "| impostor | %zu | %.3f | %.3f | %.3f | %.3f | %.3f |\n\n", ni,
			pct(imp, ni, 0), pct(imp, ni, 0.05), pct(imp, ni, 0.5),
			pct(imp, ni, 0.95), pct(imp, ni, 1));
		fprintf(c->out, "| threshold | false rejects (genuine > t) | false accepts (impostor <= t) |\n|---|---|---|\n");
		for (int k = 0; k <= 8; k++) {
			double t = 0.40 + 0.05 * k;
			size_t fr = 0, fa = 0;
			for (size_t i = 0; i < ng; i++)
				fr += gen[i] > t;
			for (size_t i = 0; i < ni; i++)
				fa += imp[i] <= t;
			fprintf(c->out, "| %.2f | %.1f %% (%zu) | %.2f %% (%zu) |\n", t,
				ng ? 100.0 * fr / ng : 0, fr, ni ? 100.0 * fa / ni : 0, fa);
		}
		/* equal error rate on a fine grid */
		double eer = 1, eer_t = 0;
		for (double t = 0.2; t < 1.0; t += 0.0025) {
			size_t fr = 0, fa = 0;
			for (size_t i = 0; i < ng; i++)
				fr += gen[i] > t;
			for (size_t i = 0; i < ni; i++)
				fa += imp[i] <= t;
			double a = ng ? (double)fr / ng : 0, b = ni ? (double)fa / ni : 0;
			double m = a > b ? a : b;
			if (m < eer)
				eer = m, eer_t = t;
		}
		fprintf(c->out, "\nEqual error rate: %.1f %% at distance %.3f.\n\n", 100 * eer, eer_t);
		/* rank-1 identification of each variant against the 22 enrolments */
		fprintf(c->out, "| variant | face detected | median genuine distance | identified (nearest enrolment is the person, within %.2f) |\n|---|---|---|---|\n",
			RECOG_THRESHOLD);
		const char *seen[64];
		size_t nseen = 0;
		for (size_t j = 0; j < np; j++) {
			bool dup = false;
			for (size_t k = 0; k < nseen; k++)
				dup |= !strcmp(seen[k], pr[j].variant);
			if (dup || !strcmp(pr[j].variant, "enrol") || nseen == 64)
				continue;
			seen[nseen++] = pr[j].variant;
			size_t tot = 0, ok = 0, ng2 = 0, det = 0;
			for (size_t q = 0; q < np; q++) {
				if (strcmp(pr[q].variant, pr[j].variant) ||
				    !enrolled_person(pr, np, pr[q].person))
					continue;
				tot++;
				if (!pr[q].found)
					continue;
				det++;
				double bd = INFINITY;
				const char *who = NULL;
				for (size_t i = 0; i < np; i++) {
					if (strcmp(pr[i].variant, "enrol") || !pr[i].found)
						continue;
					double d = recog_distance(pr[i].desc[al], pr[q].desc[al]);
					if (!strcmp(pr[i].person, pr[q].person))
						gen[ng2++] = d;
					if (d < bd)
						bd = d, who = pr[i].person;
				}
				ok += who && !strcmp(who, pr[q].person) && bd <= RECOG_THRESHOLD;
			}
			qsort(gen, ng2, sizeof(double), cmp_f);
			fprintf(c->out, "| %s | %zu of %zu | %.3f | %zu of %zu |\n", pr[j].variant,
				det, tot, pct(gen, ng2, 0.5), ok, tot);
		}
		fprintf(c->out, "\n");
	}
	free(gen);
	free(imp);
	status = 0;
out:
	cJSON_Delete(root);
	free(text);
	free(pr);
	return status;
}

int recog_main(int argc, char **argv, FILE *out, FILE *err)
{
	cli c = {.out = out, .err = err, .min_conf = recog_confidence(RECOG_THRESHOLD)};
	char **lib = NULL, **files = NULL;
	int nlib = 0, nfiles = 0, status = 2;
	char e[600];

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fprintf(argc < 2 ? err : out, usage, RECOG_MIN_ENROL_PX, RECOG_THRESHOLD);
		return argc < 2 ? 2 : 0;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "detect") && strcmp(cmd, "enroll") &&
	    strcmp(cmd, "identify") && strcmp(cmd, "compare") &&
	    strcmp(cmd, "eval")) {
		fprintf(err, "camsim recog: unknown command \"%s\"\n\n", cmd);
		fprintf(err, usage, RECOG_MIN_ENROL_PX, RECOG_THRESHOLD);
		return 2;
	}
	lib = calloc((size_t)argc, sizeof(*lib));
	files = calloc((size_t)argc, sizeof(*files));
	if (!lib || !files)
		goto out;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
		if (!strcmp(a, "--json")) {
			c.json = true;
		} else if (!strcmp(a, "--align") && v) {
			if (!strcmp(v, "faceapi"))
				c.align = RECOG_ALIGN_FACEAPI;
			else if (!strcmp(v, "similarity"))
				c.align = RECOG_ALIGN_SIMILARITY;
			else {
				fprintf(err, "camsim recog: --align \"%s\": faceapi or similarity\n", v);
				goto out;
			}
			i++;
		} else if (!strcmp(a, "--threshold") && v) {
			double d = strtod(v, &end);
			if (*end || !(d > 0 && d < 4)) {
				fprintf(err, "camsim recog: --threshold \"%s\": a distance "
					"between 0 and 4\n", v);
				goto out;
			}
			c.min_conf = recog_confidence(d);
			i++;
		} else if (!strcmp(a, "--score") && v) {
			double s = strtod(v, &end);
			if (*end || !(s >= 0 && s <= 100)) {
				fprintf(err, "camsim recog: --score \"%s\": 0..100\n", v);
				goto out;
			}
			c.min_conf = s / 100;
			i++;
		} else if (!strcmp(a, "--models") && v) {
			c.models = v;
			i++;
		} else if (!strcmp(a, "--lib") && v) {
			lib[nlib++] = argv[++i];
		} else if (a[0] == '-' && a[1]) {
			fprintf(err, "camsim recog: unknown option \"%s\" (or its value "
				"is missing)\n", a);
			goto out;
		} else {
			files[nfiles++] = argv[i];
		}
	}
	if (nfiles == 0 || (!strcmp(cmd, "compare") && nfiles != 2)) {
		fprintf(err, "camsim recog %s: %s\n", cmd, !strcmp(cmd, "compare")
			? "needs exactly two pictures" : "needs at least one picture");
		goto out;
	}
	if (nlib && strcmp(cmd, "identify")) {
		fprintf(err, "camsim recog %s: --lib belongs to identify\n", cmd);
		goto out;
	}
	c.r = recog_open(c.models, e, sizeof e);
	if (!c.r || !recog_available(c.r)) {
		fprintf(err, "camsim recog: %s\n", c.r ? e : "out of memory");
		goto out;
	}
	recog_set_align(c.r, c.align);
	if (!strcmp(cmd, "detect"))
		status = cmd_detect(&c, nfiles, files);
	else if (!strcmp(cmd, "enroll"))
		status = cmd_enroll(&c, nfiles, files);
	else if (!strcmp(cmd, "identify"))
		status = cmd_identify(&c, nlib, lib, nfiles, files);
	else if (!strcmp(cmd, "eval"))
		status = cmd_eval(&c, files[0]);
	else
		status = cmd_compare(&c, files[0], files[1]);
	if (!c.json) {
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		fprintf(err, "camsim recog: peak memory %.1f MB\n", ru.ru_maxrss / 1024.0);
	}
out:
	recog_close(c.r);
	free(lib);
	free(files);
	return status;
}
