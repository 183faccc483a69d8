/* mkfaces.c -- the face fixtures of faces/ (`make faces`):
 *
 *     build/mkfaces DEMO_DIR PEOPLE_JSON OUT_DIR
 *
 * From the demo photos of @vladmandic/face-api (DEMO_DIR/sampleN.jpg) and
 * the reference detector's boxes and landmarks copied into people.json, it
 * writes into OUT_DIR the enrolment photo person-X-1.jpg and the camera
 * frame person-X-2.jpg of every person, the variants
 * variants/person-X/<variant>.jpg, the scene frames two-faces.jpg,
 * no-face.jpg, small-face.jpg and truncated.jpg, and manifest.json, which
 * lists every file with the faces in it in the file's own pixels.
 * docs/faces.md defines every variant and the virtual camera (vcam.h).
 *
 * Owns only the files it writes into OUT_DIR, each written as NAME.part and
 * renamed; reads the photos and people.json and changes neither.  Every
 * picture is resampled once from the source photo.  Deterministic: no
 * clock, no random numbers, no threads: the same bytes on every run of the
 * same binary.  A missing or undecodable photo or a malformed people.json
 * is reported naming the file and the field, exit status 1.  Build tool
 * only: nothing in the library calls it, and of the library it uses only
 * sim/image.c (decoding, JPEG) and base/ (file reader, SHA-256). */
#include "file.h"
#include "base.h"
#include "sha256.h"
#include "image.h"
#include "vcam.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_image_resize.h>
#pragma GCC diagnostic pop

#define PI 3.14159265358979323846

#define NLANDMARKS 68
#define MAX_PEOPLE 64
#define PEOPLE_MAX_BYTES (4u * 1024 * 1024)

/* The enrolment crop: a square around the face box, the larger side of the
 * box plus this fraction of it on each side, resized to ENROL_SIZE. */
#define ENROL_MARGIN 0.40
#define ENROL_SIZE 320
#define ENROL_QUALITY 92
/* person-X-2.jpg: the camera sees the person at 1 m, head turned +6
 * degrees, 12 % brighter. */
#define CAMERA_DIST_M 1.0
#define CAMERA_ANGLE_DEG 6.0
#define CAMERA_GAIN 1.12
#define CAMERA_QUALITY 85
/* Frames of the scene (variants frame-*, two-faces, no-face, small-face). */
#define FRAME_QUALITY 90
#define SMALL_FACE_PX 24.0
#define TRUNCATED_FRACTION 0.4
/* The patch of photo placed into a frame: an ellipse with semi-axes of
 * PATCH_EXTENT / 2 box sides, opaque up to FEATHER_IN of its radius and
 * fading out (smoothstep) to its edge. */
#define PATCH_EXTENT 3.0
#define FEATHER_IN 0.5
/* Where the photo itself ends, the patch fades out between EDGE_IN box
 * widths inside the photo and EDGE_OUT box widths outside it. */
#define EDGE_IN 0.10
#define EDGE_OUT 0.05
/* The surgical mask: light blue, the jaw line pushed out from the nose tip
 * by this factor so that the band reaches past the chin. */
#define MASK_R 166
#define MASK_G 204
#define MASK_B 228
#define MASK_JAW_PUSH 1.08

typedef struct pt {
	double x, y;
} pt;

/* x' = a x + b y + c, y' = d x + e y + f: source photo pixels to output
 * pixels (continuous coordinates: pixel (i, j) covers [i, i+1) x [j, j+1),
 * as the detector's boxes do). */
typedef struct xform {
	double a, b, c, d, e, f;
} xform;

typedef struct person {
	char name[32];
	char sample[64];
	int face;
	double box[4]; /* x, y, w, h in the source photo */
	pt lm[NLANDMARKS];
	const img *photo;
} person;

/* A face in an output picture: who, and where its source pixels went. */
typedef struct placed {
	const person *p;
	xform t;
} placed;

typedef struct outctx {
	const char *dir;
	cJSON *files; /* the manifest's "files" array */
} outctx;

static const char *prog = "mkfaces";

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "mkfaces: <message>" on stderr; returns -1. */
static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* --------------------------------------------------------------- people */

/* A person's name (a-z, 0-9, '-'), or with file_name also a photo's file
 * name (letters, digits, '.', '_', '-'): never a path, never hidden. */
static bool name_ok(const char *s, size_t max, bool file_name)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		      (file_name && (c == '.' || c == '_' || (c >= 'A' && c <= 'Z')))))
			return false;
	}
	return true;
}

static bool num_ok(const cJSON *v)
{
	return cJSON_IsNumber(v) && isfinite(v->valuedouble);
}

/* n finite numbers of the array v into out. */
static bool nums(const cJSON *v, int n, double *out)
{
	const cJSON *e;
	int i = 0;

	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != n)
		return false;
	cJSON_ArrayForEach(e, v) {
		if (!num_ok(e))
			return false;
		out[i++] = e->valuedouble;
	}
	return true;
}

/* people[i] of people.json into *p; file is the path for messages. */
static int parse_person(const char *file, int i, const cJSON *o, person *p)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
	const cJSON *sample = cJSON_GetObjectItemCaseSensitive(o, "sample");
	const cJSON *face = cJSON_GetObjectItemCaseSensitive(o, "face");
	const cJSON *box = cJSON_GetObjectItemCaseSensitive(o, "box");
	const cJSON *lms = cJSON_GetObjectItemCaseSensitive(o, "landmarks");
	const cJSON *e;
	int k = 0;

	if (!cJSON_IsObject(o))
		return fail("%s: people[%d]: not an object", file, i);
	if (!cJSON_IsString(name) || !name_ok(name->valuestring, sizeof p->name, false))
		return fail("%s: people[%d].name: missing, or not a name of "
			    "a-z, 0-9 and '-' (at most %zu characters)",
			    file, i, sizeof p->name - 1);
	strcpy(p->name, name->valuestring);
	if (!cJSON_IsString(sample) ||
	    !name_ok(sample->valuestring, sizeof p->sample, true))
		return fail("%s: people[%d].sample: missing, or not a plain file "
			    "name (letters, digits, '.', '_', '-')", file, i);
	strcpy(p->sample, sample->valuestring);
	if (!num_ok(face) || face->valuedouble < 0 || face->valuedouble > 1000 ||
	    face->valuedouble != floor(face->valuedouble))
		return fail("%s: people[%d].face: missing, or not a face index "
			    "(a whole number from 0)", file, i);
	p->face = (int)face->valuedouble;
	if (!nums(box, 4, p->box) || p->box[2] < 8 || p->box[3] < 8)
		return fail("%s: people[%d].box: missing, or not [x, y, w, h] "
			    "with w and h of 8 pixels or more", file, i);
	if (!cJSON_IsArray(lms) || cJSON_GetArraySize(lms) != NLANDMARKS)
		return fail("%s: people[%d].landmarks: missing, or not an array "
			    "of %d points", file, i, NLANDMARKS);
	cJSON_ArrayForEach(e, lms) {
		double xy[2];
		if (!nums(e, 2, xy))
			return fail("%s: people[%d].landmarks[%d]: not [x, y]",
				    file, i, k);
		p->lm[k].x = xy[0];
		p->lm[k].y = xy[1];
		k++;
	}
	return 0;
}

/* people.json into people[0..*n): every field checked before any photo is
 * read. */
static int load_people(const char *file, person *people, int *n)
{
	size_t len;
	char *text, err[512];
	cJSON *root, *arr, *o;
	int i = 0, rc = 0;

	if (base_read_file(NULL, file, PEOPLE_MAX_BYTES, &text, &len, err,
			   sizeof err) < 0)
		return fail("%s", err);
	root = cJSON_ParseWithLength(text, len);
	if (!root) {
		const char *at = cJSON_GetErrorPtr();
		size_t line = 1;
		for (const char *q = text; at && q < at && q < text + len; q++)
			line += *q == '\n';
		free(text);
		return fail("%s: not JSON (near line %zu)", file, line);
	}
	free(text);
	arr = cJSON_GetObjectItemCaseSensitive(root, "people");
	if (!cJSON_IsObject(root) || !cJSON_IsArray(arr)) {
		rc = fail("%s: people: missing, or not an array", file);
		goto out;
	}
	if (cJSON_GetArraySize(arr) < 2 || cJSON_GetArraySize(arr) > MAX_PEOPLE) {
		rc = fail("%s: people: %d entries; from 2 (two-faces.jpg shows "
			  "the first two) to %d", file, cJSON_GetArraySize(arr),
			  MAX_PEOPLE);
		goto out;
	}
	cJSON_ArrayForEach(o, arr) {
		if ((rc = parse_person(file, i, o, &people[i])))
			goto out;
		for (int j = 0; j < i; j++)
			if (!strcmp(people[j].name, people[i].name)) {
				rc = fail("%s: people[%d].name: \"%s\" again (as "
					  "people[%d])", file, i, people[i].name, j);
				goto out;
			}
		i++;
	}
	*n = i;
out:
	cJSON_Delete(root);
	return rc;
}

static pt face_centre(const person *p);

/* Each distinct photo once into photos[]; every person's box must lie on
 * its photo. */
static int load_photos(const char *demo, const char *file, person *people,
		       int n, img *photos)
{
	for (int i = 0; i < n; i++) {
		person *p = &people[i];
		char path[4096], err[512];
		int j;

		for (j = 0; j < i; j++)
			if (!strcmp(people[j].sample, p->sample))
				break;
		if (j < i) {
			p->photo = people[j].photo;
			continue;
		}
		if ((size_t)snprintf(path, sizeof path, "%s/%s", demo, p->sample) >=
		    sizeof path)
			return fail("%s: people[%d].sample: path too long", file, i);
		if (img_load_file_trusted(path, &photos[i], err, sizeof err) < 0)
			return fail("%s: people[%d].sample: %s", file, i, err);
		p->photo = &photos[i];
	}
	for (int i = 0; i < n; i++) {
		const person *p = &people[i];
		pt c = face_centre(p);
		if (c.x < 0 || c.y < 0 || c.x >= p->photo->w || c.y >= p->photo->h)
			return fail("%s: people[%d].box: centre (%.1f, %.1f) is "
				    "not on %s (%dx%d)", file, i, c.x, c.y, p->sample,
				    p->photo->w, p->photo->h);
		if (p->box[2] > p->photo->w || p->box[3] > p->photo->h)
			return fail("%s: people[%d].box: %.1f x %.1f is larger "
				    "than %s (%dx%d)", file, i, p->box[2], p->box[3],
				    p->sample, p->photo->w, p->photo->h);
	}
	return 0;
}

/* ------------------------------------------------------------- geometry */

static pt xf_apply(const xform *t, pt p)
{
	pt r = {t->a * p.x + t->b * p.y + t->c, t->d * p.x + t->e * p.y + t->f};
	return r;
}

static xform xf_inverse(const xform *t)
{
	double det = t->a * t->e - t->b * t->d;
	xform r;

	r.a = t->e / det;
	r.b = -t->b / det;
	r.d = -t->d / det;
	r.e = t->a / det;
	r.c = -(r.a * t->c + r.b * t->f);
	r.f = -(r.d * t->c + r.e * t->f);
	return r;
}

static pt face_centre(const person *p)
{
	pt c = {p->box[0] + p->box[2] / 2, p->box[1] + p->box[3] / 2};
	return c;
}

/* Source to output: the face centre goes to (ox, oy), scaled by k and
 * turned by angle_deg, positive counter-clockwise as seen in the picture
 * (y grows downwards). */
static xform xf_face(const person *p, double k, double angle_deg, double ox,
		     double oy)
{
	double r = angle_deg * PI / 180, cs = cos(r) * k, sn = sin(r) * k;
	pt c = face_centre(p);
	xform t;

	t.a = cs;
	t.b = sn;
	t.c = ox - cs * c.x - sn * c.y;
	t.d = -sn;
	t.e = cs;
	t.f = oy + sn * c.x - cs * c.y;
	return t;
}

/* Side in source pixels of the enrolment crop. */
static double enrol_side(const person *p)
{
	return fmax(p->box[2], p->box[3]) * (1 + 2 * ENROL_MARGIN);
}

/* ---------------------------------------------------------------- pixels */

static uint8_t px8(double v)
{
	v = floor(v + 0.5);
	return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)v;
}

static int img_new(img *im, int w, int h)
{
	im->w = w;
	im->h = h;
	im->px = calloc((size_t)w * (size_t)h, 3);
	return im->px ? 0 : fail("out of memory for a %dx%d picture", w, h);
}

static int img_copy(img *dst, const img *src)
{
	if (img_new(dst, src->w, src->h))
		return -1;
	memcpy(dst->px, src->px, (size_t)src->w * (size_t)src->h * 3);
	return 0;
}

/* Pixel (x, y) with the coordinates clamped to the picture: outside it,
 * its edge pixels repeat. */
static const uint8_t *px_at(const img *im, int x, int y)
{
	x = x < 0 ? 0 : x >= im->w ? im->w - 1 : x;
	y = y < 0 ? 0 : y >= im->h ? im->h - 1 : y;
	return im->px + ((size_t)y * (size_t)im->w + (size_t)x) * 3;
}

/* Bilinear colour at the continuous point (x, y) (pixel centres at +0.5). */
static void bilinear(const img *im, double x, double y, double rgb[3])
{
	double sx = x - 0.5, sy = y - 0.5;
	double fx = floor(sx), fy = floor(sy);
	int ix = (int)fx, iy = (int)fy;
	double ax = sx - fx, ay = sy - fy;
	const uint8_t *p00 = px_at(im, ix, iy), *p10 = px_at(im, ix + 1, iy);
	const uint8_t *p01 = px_at(im, ix, iy + 1), *p11 = px_at(im, ix + 1, iy + 1);

	for (int c = 0; c < 3; c++)
		rgb[c] = (p00[c] * (1 - ax) + p10[c] * ax) * (1 - ay) +
			 (p01[c] * (1 - ax) + p11[c] * ax) * ay;
}

/* Samples per side for a map that shrinks by 1/k: enough that every source
 * pixel under an output pixel counts (1 when enlarging). */
static int supersampling(double k)
{
	int n = (int)ceil(1 / k - 1e-9);
	return n < 1 ? 1 : n > 8 ? 8 : n;
}

/* Colour of output pixel (u, v) under inv (output to source): the mean of
 * n x n bilinear samples spread over the pixel. */
static void warp_px(const img *src, const xform *inv, int n, int u, int v,
		    double rgb[3])
{
	rgb[0] = rgb[1] = rgb[2] = 0;
	for (int j = 0; j < n; j++)
		for (int i = 0; i < n; i++) {
			pt o = {u + (i + 0.5) / n, v + (j + 0.5) / n};
			pt s = xf_apply(inv, o);
			double c[3];
			bilinear(src, s.x, s.y, c);
			rgb[0] += c[0];
			rgb[1] += c[1];
			rgb[2] += c[2];
		}
	for (int c = 0; c < 3; c++)
		rgb[c] /= n * n;
}

/* The enrolment square of p in whole source pixels: side *side (the box's
 * larger side plus ENROL_MARGIN of it each way, rounded), its top-left
 * corner (*x0, *y0) placed so that the square is centred on the box
 * centre to within half a pixel. */
static void enrol_square(const person *p, int *x0, int *top, int *side)
{
	pt c = face_centre(p);

	*side = (int)lround(enrol_side(p));
	*x0 = (int)lround(c.x - *side / 2.0);
	*top = (int)lround(c.y - *side / 2.0);
}

/* The enrolment crop of p at size x size: the enrolment square copied out
 * (outside the photo its edge pixels repeat) and resized by
 * stb_image_resize with its default filters (Mitchell when shrinking,
 * Catmull-Rom when enlarging; its triangle filter asserts when shrinking
 * in Debian's stb, and so do some sub-pixel regions: hence whole pixels).
 * *t is the map from source to output. */
static int crop_square(const person *p, int size, img *out, xform *t)
{
	const img *src = p->photo;
	int x0, top, side;
	uint8_t *buf;
	double k;
	int ok;

	enrol_square(p, &x0, &top, &side);
	k = (double)size / side;
	*t = (xform){k, 0, -k * x0, 0, k, -k * top};
	if (!(buf = malloc((size_t)side * (size_t)side * 3)))
		return fail("out of memory for a %dx%d crop", side, side);
	if (img_new(out, size, size)) {
		free(buf);
		return -1;
	}
	for (int y = 0; y < side; y++)
		for (int x = 0; x < side; x++)
			memcpy(buf + ((size_t)y * side + x) * 3, px_at(src, x0 + x, top + y), 3);
	ok = stbir_resize_uint8(buf, side, side, 0, out->px, size, size, 0, 3);
	free(buf);
	if (!ok) {
		img_free(out);
		return fail("stb_image_resize failed on a %dx%d crop", side, side);
	}
	return 0;
}

/* The enrolment crop turned by angle_deg around the face centre: every
 * output pixel from the source photo through the map (one resampling). */
static int crop_rotated(const person *p, double angle_deg, img *out, xform *t)
{
	int x0, top, side;
	double k;
	xform inv;
	int n;

	enrol_square(p, &x0, &top, &side);
	k = (double)ENROL_SIZE / side;
	n = supersampling(k);

	*t = xf_face(p, k, angle_deg, ENROL_SIZE / 2.0, ENROL_SIZE / 2.0);
	inv = xf_inverse(t);
	if (img_new(out, ENROL_SIZE, ENROL_SIZE))
		return -1;
	for (int v = 0; v < out->h; v++)
		for (int u = 0; u < out->w; u++) {
			double rgb[3];
			uint8_t *o = out->px + ((size_t)v * out->w + u) * 3;
			warp_px(p->photo, &inv, n, u, v, rgb);
			for (int c = 0; c < 3; c++)
				o[c] = px8(rgb[c]);
		}
	return 0;
}

/* Multiplies every sample by gain (clamped to 0..255). */
static void apply_gain(img *im, double gain)
{
	size_t n = (size_t)im->w * (size_t)im->h * 3;

	for (size_t i = 0; i < n; i++)
		im->px[i] = px8(im->px[i] * gain);
}

/* Contrast around 128: 128 + k (v - 128), clamped. */
static void apply_contrast(img *im, double k)
{
	size_t n = (size_t)im->w * (size_t)im->h * 3;

	for (size_t i = 0; i < n; i++)
		im->px[i] = px8(128 + k * (im->px[i] - 128.0));
}

/* Separable Gaussian blur of standard deviation sigma pixels, the kernel
 * cut at 3 sigma, edge pixels repeated. */
static int apply_blur(img *im, double sigma)
{
	int r = (int)ceil(3 * sigma), w = im->w, h = im->h;
	double *k = malloc(sizeof *k * (size_t)(2 * r + 1));
	double *tmp = malloc(sizeof *tmp * (size_t)w * (size_t)h * 3);
	double sum = 0;

	if (!k || !tmp) {
		free(k);
		free(tmp);
		return fail("out of memory blurring a %dx%d picture", w, h);
	}
	for (int i = -r; i <= r; i++)
		sum += k[i + r] = exp(-(double)(i * i) / (2 * sigma * sigma));
	for (int i = 0; i <= 2 * r; i++)
		k[i] /= sum;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			for (int c = 0; c < 3; c++) {
				double s = 0;
				for (int i = -r; i <= r; i++)
					s += k[i + r] * px_at(im, x + i, y)[c];
				tmp[((size_t)y * w + x) * 3 + c] = s;
			}
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			for (int c = 0; c < 3; c++) {
				double s = 0;
				for (int i = -r; i <= r; i++) {
					int yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
					s += k[i + r] * tmp[((size_t)yy * w + x) * 3 + c];
				}
				im->px[((size_t)y * w + x) * 3 + c] = px8(s);
			}
	free(k);
	free(tmp);
	return 0;
}

/* Adds the coverage of [xa, xb) times wgt to row[0..w). */
static void span_add(float *row, int w, double xa, double xb, double wgt)
{
	xa = fmax(xa, 0);
	xb = fmin(xb, w);
	for (int x = (int)floor(xa); x < xb; x++)
		row[x] += (float)((fmin(xb, x + 1.0) - fmax(xa, (double)x)) * wgt);
}

/* The surgical mask over the enrolment crop: the polygon from the nose
 * bridge (landmark 29) along the jaw line (points 15 down to 1, pushed out
 * from the nose tip past the chin), filled light blue with anti-aliased
 * edges (4 sub-rows per pixel row, exact coverage along each) and two
 * faint pleats. */
static int draw_mask(img *im, const person *p, const xform *t)
{
	enum { SUB = 4 };
	pt v[16], tip = xf_apply(t, p->lm[30]), top = xf_apply(t, p->lm[29]);
	pt le = {0, 0}, re = {0, 0}, down, chin;
	float *cov = calloc((size_t)im->w * (size_t)im->h, sizeof *cov);
	int nv = 0;
	double len, depth;

	if (!cov)
		return fail("out of memory for the mask of %s", p->name);
	v[nv++] = top;
	for (int k = 15; k >= 1; k--) {
		pt j = xf_apply(t, p->lm[k]);
		v[nv].x = tip.x + MASK_JAW_PUSH * (j.x - tip.x);
		v[nv].y = tip.y + MASK_JAW_PUSH * (j.y - tip.y);
		nv++;
	}
	for (int y = 0; y < im->h; y++)
		for (int s = 0; s < SUB; s++) {
			double yy = y + (s + 0.5) / SUB, xs[16];
			int nx = 0;
			for (int i = 0; i < nv; i++) {
				pt a = v[i], b = v[(i + 1) % nv];
				if ((a.y <= yy) != (b.y <= yy))
					xs[nx++] = a.x + (yy - a.y) * (b.x - a.x) / (b.y - a.y);
			}
			for (int i = 1; i < nx; i++) /* insertion sort, nx <= 16 */
				for (int j = i; j > 0 && xs[j - 1] > xs[j]; j--) {
					double sw = xs[j];
					xs[j] = xs[j - 1];
					xs[j - 1] = sw;
				}
			for (int i = 0; i + 1 < nx; i += 2)
				span_add(cov + (size_t)y * im->w, im->w, xs[i], xs[i + 1],
					 1.0 / SUB);
		}
	/* pleats: bands across the face, perpendicular to the eye line */
	for (int k = 36; k < 42; k++) {
		pt a = xf_apply(t, p->lm[k]), b = xf_apply(t, p->lm[k + 6]);
		le.x += a.x / 6;
		le.y += a.y / 6;
		re.x += b.x / 6;
		re.y += b.y / 6;
	}
	len = hypot(re.x - le.x, re.y - le.y);
	down.x = -(re.y - le.y) / len;
	down.y = (re.x - le.x) / len;
	chin = xf_apply(t, p->lm[8]);
	depth = (chin.x - top.x) * down.x + (chin.y - top.y) * down.y;
	for (int y = 0; y < im->h; y++)
		for (int x = 0; x < im->w; x++) {
			double a = cov[(size_t)y * im->w + x], f;
			double d = ((x + 0.5 - top.x) * down.x + (y + 0.5 - top.y) * down.y) /
				   depth;
			uint8_t *o = im->px + ((size_t)y * im->w + x) * 3;
			if (a <= 0)
				continue;
			a = fmin(a, 1);
			f = (fabs(d - 0.45) < 0.02 || fabs(d - 0.7) < 0.02) ? 0.88 : 1.0;
			o[0] = px8(a * MASK_R * f + (1 - a) * o[0]);
			o[1] = px8(a * MASK_G * f + (1 - a) * o[1]);
			o[2] = px8(a * MASK_B * f + (1 - a) * o[2]);
		}
	free(cov);
	return 0;
}

/* ----------------------------------------------------------------- scene */

/* A small deterministic hash of (x, y): sensor noise of -2..2 levels. */
static int noise(int x, int y)
{
	uint32_t h = (uint32_t)x * 374761393u + (uint32_t)y * 668265263u;
	h = (h ^ (h >> 13)) * 1274126177u;
	h ^= h >> 16;
	return (int)(h % 5) - 2;
}

static void fill_rect(img *im, int x0, int top, int x1, int bottom,
		      const uint8_t rgb[3])
{
	for (int y = top; y < bottom; y++)
		for (int x = x0; x < x1; x++)
			memcpy(im->px + ((size_t)y * im->w + x) * 3, rgb, 3);
}

/* The background of every frame: a wall lit from above (vertical
 * gradient), a skirting board, a wooden floor with board joints, a door
 * in its frame on the right and a picture on the left wall; plus noise. */
static int scene(img *f)
{
	static const uint8_t skirting[3] = {228, 226, 220}, jamb[3] = {118, 90, 64},
			     leaf[3] = {160, 128, 94}, handle[3] = {204, 192, 150},
			     pframe[3] = {70, 60, 50}, sw[3] = {236, 234, 228};

	if (img_new(f, VCAM_W, VCAM_H))
		return -1;
	for (int y = 0; y < VCAM_H; y++) {
		double t = y < 360 ? y / 360.0 : (y - 372) / 108.0;
		for (int x = 0; x < VCAM_W; x++) {
			uint8_t *o = f->px + ((size_t)y * VCAM_W + x) * 3;
			if (y < 360) {
				o[0] = px8(206 - 26 * t);
				o[1] = px8(200 - 28 * t);
				o[2] = px8(188 - 28 * t);
			} else {
				o[0] = px8(128 - 28 * t);
				o[1] = px8(104 - 24 * t);
				o[2] = px8(82 - 20 * t);
			}
		}
	}
	fill_rect(f, 0, 360, VCAM_W, 372, skirting);
	for (int k = 1; k <= 4; k++) { /* board joints, wider apart nearer */
		static const uint8_t joint[3] = {84, 66, 50};
		int y = 372 + 4 * k * (k + 1);
		fill_rect(f, 0, y, VCAM_W, y + 1, joint);
	}
	fill_rect(f, 468, 64, 604, 372, jamb);
	fill_rect(f, 480, 76, 592, 372, leaf);
	fill_rect(f, 568, 224, 584, 232, handle);
	fill_rect(f, 436, 200, 448, 218, sw);
	fill_rect(f, 56, 96, 176, 186, pframe);
	for (int y = 104; y < 178; y++) /* the picture: a hazy landscape */
		for (int x = 64; x < 168; x++) {
			uint8_t *o = f->px + ((size_t)y * VCAM_W + x) * 3;
			bool land = y > 150 - 10 * sin((x - 64) / 17.0);
			o[0] = px8(land ? 96 : 150 + (y - 104) * 0.5);
			o[1] = px8(land ? 120 : 180 + (y - 104) * 0.3);
			o[2] = px8(land ? 84 : 208);
		}
	for (int y = 0; y < VCAM_H; y++)
		for (int x = 0; x < VCAM_W; x++) {
			uint8_t *o = f->px + ((size_t)y * VCAM_W + x) * 3;
			int d = noise(x, y);
			for (int c = 0; c < 3; c++)
				o[c] = px8(o[c] + d);
		}
	return 0;
}

static double smoothstep(double e0, double e1, double x)
{
	double t = (x - e0) / (e1 - e0);
	t = t < 0 ? 0 : t > 1 ? 1 : t;
	return t * t * (3 - 2 * t);
}

/* Places p's face into the frame at distance_m metres, turned by angle_deg,
 * its box centre at (ox, oy): an elliptical patch of the photo (face box x
 * PATCH_EXTENT) blended over the frame with a feathered edge, fading out
 * too where the photo ends.  *t is the map from source to frame. */
static void place_face(img *f, const person *p, double distance_m,
		       double angle_deg, double ox, double oy, xform *t)
{
	const img *src = p->photo;
	double bw = p->box[2], bh = p->box[3];
	double k = vcam_box_width_px(VCAM_W, distance_m) / bw;
	double rx = PATCH_EXTENT / 2 * bw, ry = PATCH_EXTENT / 2 * bh;
	double lo_x = f->w, lo_y = f->h, hi_x = 0, hi_y = 0;
	pt c = face_centre(p);
	xform inv;
	int n = supersampling(k);

	*t = xf_face(p, k, angle_deg, ox, oy);
	inv = xf_inverse(t);
	for (int i = 0; i < 4; i++) { /* the patch's bounding box in the frame */
		pt q = {c.x + (i & 1 ? rx : -rx), c.y + (i & 2 ? ry : -ry)};
		pt o = xf_apply(t, q);
		lo_x = fmin(lo_x, o.x);
		lo_y = fmin(lo_y, o.y);
		hi_x = fmax(hi_x, o.x);
		hi_y = fmax(hi_y, o.y);
	}
	for (int v = (int)fmax(0, floor(lo_y)); v < fmin(f->h, ceil(hi_y)); v++)
		for (int u = (int)fmax(0, floor(lo_x)); u < fmin(f->w, ceil(hi_x)); u++) {
			pt s = xf_apply(&inv, (pt){u + 0.5, v + 0.5});
			double r = hypot((s.x - c.x) / rx, (s.y - c.y) / ry);
			double inside = fmin(fmin(s.x, src->w - s.x), fmin(s.y, src->h - s.y));
			double a = 1 - smoothstep(FEATHER_IN, 1, r), rgb[3];
			uint8_t *o = f->px + ((size_t)v * f->w + u) * 3;

			a *= smoothstep(-EDGE_OUT * bw, EDGE_IN * bw, inside);
			if (a <= 0)
				continue;
			warp_px(src, &inv, n, u, v, rgb);
			for (int ch = 0; ch < 3; ch++)
				o[ch] = px8(a * rgb[ch] + (1 - a) * o[ch]);
		}
}

/* -------------------------------------------------------------- manifest */

static double r2(double v)
{
	v = floor(v * 100 + 0.5) / 100;
	return v == 0 ? 0 : v; /* no "-0" */
}

static cJSON *json_pt(pt p)
{
	cJSON *a = cJSON_CreateArray();
	cJSON_AddItemToArray(a, cJSON_CreateNumber(r2(p.x)));
	cJSON_AddItemToArray(a, cJSON_CreateNumber(r2(p.y)));
	return a;
}

static pt mean_pt(const person *p, const xform *t, int from, int to)
{
	pt m = {0, 0};
	for (int k = from; k < to; k++) {
		pt q = xf_apply(t, p->lm[k]);
		m.x += q.x / (to - from);
		m.y += q.y / (to - from);
	}
	return m;
}

/* {"person", "box" (the bounding box of the mapped reference box), "quad"
 * (its four corners), "eyes", "mouth" (centres of landmarks 36-41, 42-47,
 * 48-67), "transform" (source to output)}. */
static cJSON *json_face(const placed *f, cJSON **box_out)
{
	const person *p = f->p;
	cJSON *o = cJSON_CreateObject(), *box = cJSON_CreateArray();
	cJSON *quad = cJSON_CreateArray(), *eyes = cJSON_CreateArray();
	cJSON *tr = cJSON_CreateArray();
	double lo_x = INFINITY, lo_y = INFINITY, hi_x = -INFINITY, hi_y = -INFINITY;
	static const int corner[4][2] = {{0, 0}, {1, 0}, {1, 1}, {0, 1}};
	double m[6] = {f->t.a, f->t.b, f->t.c, f->t.d, f->t.e, f->t.f};

	for (int i = 0; i < 4; i++) {
		pt q = {p->box[0] + corner[i][0] * p->box[2],
			p->box[1] + corner[i][1] * p->box[3]};
		q = xf_apply(&f->t, q);
		cJSON_AddItemToArray(quad, json_pt(q));
		lo_x = fmin(lo_x, q.x);
		lo_y = fmin(lo_y, q.y);
		hi_x = fmax(hi_x, q.x);
		hi_y = fmax(hi_y, q.y);
	}
	cJSON_AddItemToArray(box, cJSON_CreateNumber(r2(lo_x)));
	cJSON_AddItemToArray(box, cJSON_CreateNumber(r2(lo_y)));
	cJSON_AddItemToArray(box, cJSON_CreateNumber(r2(hi_x - lo_x)));
	cJSON_AddItemToArray(box, cJSON_CreateNumber(r2(hi_y - lo_y)));
	cJSON_AddItemToArray(eyes, json_pt(mean_pt(p, &f->t, 36, 42)));
	cJSON_AddItemToArray(eyes, json_pt(mean_pt(p, &f->t, 42, 48)));
	for (int i = 0; i < 6; i++)
		cJSON_AddItemToArray(tr, cJSON_CreateNumber(m[i]));
	cJSON_AddStringToObject(o, "person", p->name);
	if (box_out)
		*box_out = cJSON_Duplicate(box, true);
	cJSON_AddItemToObject(o, "box", box);
	cJSON_AddItemToObject(o, "quad", quad);
	cJSON_AddItemToObject(o, "eyes", eyes);
	cJSON_AddItemToObject(o, "mouth", json_pt(mean_pt(p, &f->t, 48, 68)));
	cJSON_AddItemToObject(o, "transform", tr);
	return o;
}

static int mkdir_p1(const char *path)
{
	if (mkdir(path, 0777) && errno != EEXIST)
		return fail("%s: cannot create: %s", path, strerror(errno));
	return 0;
}

/* dir/rel written as dir/rel.part, then renamed. */
static int write_file(const char *dir, const char *rel, const void *data,
		      size_t len)
{
	char path[4096], part[4104];
	FILE *f;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, rel) >= sizeof path)
		return fail("%s/%s: path too long", dir, rel);
	snprintf(part, sizeof part, "%s.part", path);
	if (!(f = fopen(part, "wb")))
		return fail("%s: cannot create: %s", part, strerror(errno));
	if (fwrite(data, 1, len, f) != len) {
		fclose(f);
		unlink(part);
		return fail("%s: cannot write: %s", part, strerror(errno));
	}
	if (fclose(f)) {
		unlink(part);
		return fail("%s: cannot write: %s", part, strerror(errno));
	}
	if (rename(part, path)) {
		unlink(part);
		return fail("%s: cannot rename to %s: %s", part, path, strerror(errno));
	}
	return 0;
}

/* Writes data as rel and lists it in the manifest with its faces (for one
 * face, also "person" and "box" at the top) and params (taken over). */
static int emit_bytes(outctx *o, const char *rel, const void *data, size_t len,
		      int w, int h, const char *variant, cJSON *params,
		      const placed *faces, int nfaces)
{
	cJSON *e = cJSON_CreateObject(), *arr = cJSON_CreateArray(), *box = NULL;
	char sha[65];

	if (write_file(o->dir, rel, data, len)) {
		cJSON_Delete(e);
		cJSON_Delete(arr);
		cJSON_Delete(params);
		return -1;
	}
	sha256_hex(data, len, sha);
	for (int i = 0; i < nfaces; i++)
		cJSON_AddItemToArray(arr, json_face(&faces[i], i == 0 ? &box : NULL));
	cJSON_AddStringToObject(e, "path", rel);
	if (nfaces == 1)
		cJSON_AddStringToObject(e, "person", faces[0].p->name);
	else
		cJSON_AddNullToObject(e, "person");
	cJSON_AddStringToObject(e, "variant", variant);
	cJSON_AddItemToObject(e, "params", params ? params : cJSON_CreateObject());
	if (nfaces == 1)
		cJSON_AddItemToObject(e, "box", box);
	else {
		cJSON_Delete(box);
		cJSON_AddNullToObject(e, "box");
	}
	cJSON_AddItemToObject(e, "faces", arr);
	if (w > 0) {
		cJSON_AddNumberToObject(e, "width", w);
		cJSON_AddNumberToObject(e, "height", h);
	} else {
		cJSON_AddNullToObject(e, "width");
		cJSON_AddNullToObject(e, "height");
	}
	cJSON_AddStringToObject(e, "sha256", sha);
	cJSON_AddItemToArray(o->files, e);
	return 0;
}

/* im as a JPEG of the given quality; params gets "quality". */
static int emit(outctx *o, const char *rel, const img *im, int quality,
		const char *variant, cJSON *params, const placed *faces,
		int nfaces)
{
	unsigned char *jpg;
	size_t len;
	int rc;

	if (!params)
		params = cJSON_CreateObject();
	cJSON_AddNumberToObject(params, "quality", quality);
	if (img_encode_jpeg(im, quality, &jpg, &len) < 0) {
		cJSON_Delete(params);
		return fail("%s: cannot encode the JPEG", rel);
	}
	rc = emit_bytes(o, rel, jpg, len, im->w, im->h, variant, params, faces,
			nfaces);
	free(jpg);
	return rc;
}

/* A params object with one number. */
static cJSON *param1(const char *key, double v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, key, v);
	return o;
}

/* ------------------------------------------------------------- fixtures */

/* The frame of p at distance_m (turned by angle_deg, times gain) into *f. */
static int camera_frame(const person *p, double distance_m, double angle_deg,
			double gain, img *f, placed *pl)
{
	if (scene(f))
		return -1;
	pl->p = p;
	place_face(f, p, distance_m, angle_deg, VCAM_FACE_CX, VCAM_FACE_CY, &pl->t);
	if (gain != 1)
		apply_gain(f, gain);
	return 0;
}

static cJSON *frame_params(double distance_m)
{
	cJSON *o = param1("distance_m", distance_m);
	cJSON_AddNumberToObject(o, "box_width_px", r2(vcam_box_width_px(VCAM_W, distance_m)));
	return o;
}

typedef enum { V_SCALE, V_ROT, V_GAIN, V_CONTRAST, V_BLUR, V_JPEG, V_MASK,
	       V_FRAME } vkind;

static const struct variant {
	const char *name;
	vkind kind;
	double arg;
} variants[] = {
	{"scale-0.5", V_SCALE, 0.5},      {"scale-0.75", V_SCALE, 0.75},
	{"scale-1.5", V_SCALE, 1.5},      {"rot-m20", V_ROT, -20},
	{"rot-m10", V_ROT, -10},          {"rot-p10", V_ROT, 10},
	{"rot-p20", V_ROT, 20},           {"bright-m40", V_GAIN, 0.6},
	{"bright-p40", V_GAIN, 1.4},      {"contrast-0.5", V_CONTRAST, 0.5},
	{"contrast-1.5", V_CONTRAST, 1.5}, {"blur-1.5", V_BLUR, 1.5},
	{"blur-3", V_BLUR, 3},            {"jpeg-10", V_JPEG, 10},
	{"jpeg-30", V_JPEG, 30},          {"mask", V_MASK, 0},
	{"frame-0.5m", V_FRAME, 0.5},     {"frame-1.0m", V_FRAME, 1.0},
	{"frame-1.5m", V_FRAME, 1.5},     {"frame-2.0m", V_FRAME, 2.0},
	{"frame-2.5m", V_FRAME, 2.5},
};

/* One variant of p; base is p's enrolment crop (map bt). */
static int make_variant(outctx *o, const person *p, const struct variant *v,
			const img *base, const xform *bt)
{
	char rel[256];
	img im = {0};
	placed pl = {p, *bt};
	cJSON *params = NULL;
	int q = ENROL_QUALITY, rc = -1;

	snprintf(rel, sizeof rel, "variants/%s/%s.jpg", p->name, v->name);
	switch (v->kind) {
	case V_SCALE:
		if (crop_square(p, (int)lround(ENROL_SIZE * v->arg), &im, &pl.t))
			return -1;
		params = param1("scale", v->arg);
		cJSON_AddNumberToObject(params, "size", im.w);
		break;
	case V_ROT:
		if (crop_rotated(p, v->arg, &im, &pl.t))
			return -1;
		params = param1("angle_deg", v->arg);
		break;
	case V_GAIN:
	case V_CONTRAST:
	case V_BLUR:
	case V_MASK:
		if (img_copy(&im, base))
			return -1;
		if (v->kind == V_GAIN) {
			apply_gain(&im, v->arg);
			params = param1("gain", v->arg);
		} else if (v->kind == V_CONTRAST) {
			apply_contrast(&im, v->arg);
			params = param1("contrast", v->arg);
			cJSON_AddNumberToObject(params, "around", 128);
		} else if (v->kind == V_BLUR) {
			if (apply_blur(&im, v->arg))
				goto out;
			params = param1("sigma_px", v->arg);
		} else {
			if (draw_mask(&im, p, bt))
				goto out;
			params = cJSON_CreateObject();
			cJSON_AddItemToObject(params, "rgb", cJSON_CreateIntArray(
				(const int[]){MASK_R, MASK_G, MASK_B}, 3));
		}
		break;
	case V_JPEG:
		q = (int)v->arg;
		return emit(o, rel, base, q, v->name, NULL, &pl, 1);
	case V_FRAME:
		if (camera_frame(p, v->arg, 0, 1, &im, &pl))
			return -1;
		q = FRAME_QUALITY;
		params = frame_params(v->arg);
		break;
	}
	rc = emit(o, rel, &im, q, v->name, params, &pl, 1);
	params = NULL;
out:
	cJSON_Delete(params);
	img_free(&im);
	return rc;
}

/* person-X-1.jpg, person-X-2.jpg and variants/person-X/. */
static int make_person(outctx *o, const person *p)
{
	char rel[256];
	img base = {0}, frame = {0};
	placed pl = {p, {0, 0, 0, 0, 0, 0}};
	xform bt;
	cJSON *params;
	int rc = -1;

	snprintf(rel, sizeof rel, "variants/%s", p->name);
	{
		char dir[4096];
		snprintf(dir, sizeof dir, "%s/%s", o->dir, rel);
		if (mkdir_p1(dir))
			return -1;
	}
	if (crop_square(p, ENROL_SIZE, &base, &bt))
		return -1;
	pl.t = bt;
	params = param1("size", ENROL_SIZE);
	cJSON_AddNumberToObject(params, "margin", ENROL_MARGIN);
	{
		int x0, top, side;
		enrol_square(p, &x0, &top, &side);
		cJSON_AddItemToObject(params, "square_src", cJSON_CreateIntArray(
			(const int[]){x0, top, side, side}, 4));
	}
	snprintf(rel, sizeof rel, "%s-1.jpg", p->name);
	if (emit(o, rel, &base, ENROL_QUALITY, "enrol", params, &pl, 1))
		goto out;
	if (camera_frame(p, CAMERA_DIST_M, CAMERA_ANGLE_DEG, CAMERA_GAIN, &frame, &pl))
		goto out;
	params = frame_params(CAMERA_DIST_M);
	cJSON_AddNumberToObject(params, "angle_deg", CAMERA_ANGLE_DEG);
	cJSON_AddNumberToObject(params, "gain", CAMERA_GAIN);
	snprintf(rel, sizeof rel, "%s-2.jpg", p->name);
	if (emit(o, rel, &frame, CAMERA_QUALITY, "camera", params, &pl, 1))
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(variants); i++)
		if (make_variant(o, p, &variants[i], &base, &bt))
			goto out;
	rc = 0;
out:
	img_free(&base);
	img_free(&frame);
	return rc;
}

/* two-faces.jpg, no-face.jpg, small-face.jpg and truncated.jpg. */
static int make_scenes(outctx *o, const person *people)
{
	img f = {0};
	placed two[2];
	unsigned char *jpg = NULL;
	size_t len;
	cJSON *params;
	int rc = -1;
	double d;

	if (scene(&f))
		return -1;
	two[0].p = &people[0];
	two[1].p = &people[1];
	place_face(&f, two[0].p, 1.0, 0, 180, VCAM_FACE_CY, &two[0].t);
	place_face(&f, two[1].p, 1.0, 0, 460, VCAM_FACE_CY, &two[1].t);
	if (emit(o, "two-faces.jpg", &f, FRAME_QUALITY, "two-faces",
		 param1("distance_m", 1.0), two, 2))
		goto out;
	img_free(&f);

	if (scene(&f))
		return -1;
	if (emit(o, "no-face.jpg", &f, FRAME_QUALITY, "no-face", NULL, NULL, 0))
		goto out;
	/* truncated.jpg: the first 40 % of no-face.jpg's bytes */
	if (img_encode_jpeg(&f, FRAME_QUALITY, &jpg, &len) < 0) {
		fail("truncated.jpg: cannot encode the JPEG");
		goto out;
	}
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "of", "no-face.jpg");
	cJSON_AddNumberToObject(params, "fraction", TRUNCATED_FRACTION);
	cJSON_AddNumberToObject(params, "bytes", (double)(size_t)(len * TRUNCATED_FRACTION));
	if (emit_bytes(o, "truncated.jpg", jpg, (size_t)(len * TRUNCATED_FRACTION),
		       0, 0, "truncated", params, NULL, 0))
		goto out;

	d = vcam_distance_m(VCAM_W, SMALL_FACE_PX);
	img_free(&f);
	if (camera_frame(&people[0], d, 0, 1, &f, &two[0]))
		goto out;
	params = frame_params(d);
	if (emit(o, "small-face.jpg", &f, FRAME_QUALITY, "small-face", params, two, 1))
		goto out;
	rc = 0;
out:
	free(jpg);
	img_free(&f);
	return rc;
}

static int run(const char *demo, const char *people_json, const char *dir)
{
	static person people[MAX_PEOPLE];
	static img photos[MAX_PEOPLE];
	outctx o = {dir, NULL};
	cJSON *root = NULL;
	char path[4096], *text = NULL;
	int n = 0, rc = -1;

	if (load_people(people_json, people, &n) ||
	    load_photos(demo, people_json, people, n, photos))
		goto out;
	snprintf(path, sizeof path, "%s/variants", dir);
	if (mkdir_p1(dir) || mkdir_p1(path))
		goto out;
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "generator", "tools/mkfaces.c");
	cJSON_AddStringToObject(root, "people", "people.json");
	o.files = cJSON_AddArrayToObject(root, "files");
	if (!o.files) {
		fail("out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++)
		if (make_person(&o, &people[i]))
			goto out;
	if (make_scenes(&o, people))
		goto out;
	if (!(text = cJSON_Print(root))) {
		fail("out of memory printing the manifest");
		goto out;
	}
	{
		size_t tl = strlen(text);
		char *nl = realloc(text, tl + 2);
		if (!nl) {
			fail("out of memory printing the manifest");
			goto out;
		}
		text = nl;
		strcpy(text + tl, "\n");
	}
	if (write_file(dir, "manifest.json", text, strlen(text)))
		goto out;
	printf("%s: %d files for %d people in %s\n", prog,
	       cJSON_GetArraySize(o.files), n, dir);
	rc = 0;
out:
	free(text);
	cJSON_Delete(root);
	for (int i = 0; i < MAX_PEOPLE; i++)
		img_free(&photos[i]);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: mkfaces DEMO_DIR PEOPLE_JSON OUT_DIR\n"
				"writes the face fixtures (docs/faces.md) into OUT_DIR\n");
		return 2;
	}
	return run(argv[1], argv[2], argv[3]) ? 1 : 0;
}
