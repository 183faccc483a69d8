/* recog.c -- the recognition service of recog.h: loads the three face-api
 * networks, lends each calling thread an inference arena, caches results
 * by picture content, and turns distances into the protocol's confidence.
 * The networks' arithmetic is the pure core's (sim/recog/); the device's
 * decisions (thresholds, times, distance gates) are the device's. */
#include "recog_int.h"
#include "face.h"
#include "gemm.h"

#include <cblas.h>
#include <math.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *openblas_get_corename(void);

void recog_blas_pick_kernels(char **argv)
{
	const char *core = openblas_get_corename();
	if (getenv("OPENBLAS_CORETYPE") || !core ||
	    (strcmp(core, "Haswell") && strcmp(core, "Zen")))
		return;
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
	    !__builtin_cpu_supports("avx512dq") || !__builtin_cpu_supports("avx512vl"))
		return;
	setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
	execv("/proc/self/exe", argv);
	/* exec failed: carry on with the kernels we have */
}

#define MAX_FACES 32
#define CACHE_SLOTS 4096 /* direct-mapped; ~2.5 MB when full */
#define ENROL_SLOTS 64   /* recog_enroll_remember's, ~36 KB */

/* What one picture holds, as enrol and identify need it. */
typedef struct cache_ent {
	unsigned char key[32]; /* SHA-256 of size, alignment and pixels */
	bool used;
	int n_faces;
	int rc;                /* 0, or SIM_ENOFACE */
	recog_face face;       /* the largest face */
} cache_ent;

/* An enrolment descriptor by the encoded picture's SHA-256. */
typedef struct enrol_ent {
	char sha[65];
	recog_align align;
	bool used;
	recog_desc d;
} enrol_ent;

typedef struct arena_node {
	struct arena_node *next;
	nn_arena a;
} arena_node;

struct recog {
	bool ok;
	mdl m_lmk, m_fnet; /* the ssd copies its weights; its mdl is freed */
	ssd *det;
	lmk *lm;
	fnet *fn;
	recog_align align;
	size_t arena_floats;
	pthread_mutex_t mu;    /* arenas, cache, stats */
	arena_node *free_arenas;
	cache_ent *cache;
	enrol_ent enrol[ENROL_SLOTS]; /* under mu */
	size_t hits, misses;
};

/* CAMSIM_GEMM=own|blas chooses the detector's matrix kernel (gemm.h);
 * unset, the CPU decides.  For the benchmark and for a machine where one
 * wants OpenBLAS's numbers. */
int recog_from_core(int rc)
{
	switch (rc) {
#define RECOG_TO_SIM(name, code, text) case RECOG_E##name: return SIM_E##name;
		RECOG_ERRNO_MAP(RECOG_TO_SIM)
#undef RECOG_TO_SIM
	}
	return rc;
}

static int pick_gemm(char *e, size_t elen)
{
	const char *v = getenv("CAMSIM_GEMM");

	if (!v || !*v)
		return 0;
	if (!strcmp(v, "own"))
		gemm_set_default(GEMM_OWN);
	else if (!strcmp(v, "blas"))
		gemm_set_default(GEMM_BLAS);
	else {
		snprintf(e, elen, "CAMSIM_GEMM is \"%.40s\"; it must be \"own\" or \"blas\"", v);
		return SIM_EINVAL;
	}
	return 0;
}

recog *recog_open(const char *model_dir, char *err, size_t errlen)
{
	recog *r = calloc(1, sizeof(*r));
	char e[512];
	mdl m_ssd = {0};
	int rc;
	if (!r)
		return NULL;
	pthread_mutex_init(&r->mu, NULL);
	if (err && errlen)
		err[0] = 0;
	/* each inference runs on its caller's thread; OpenBLAS's own pool
	 * would fight the devices' threads for the cores */
	openblas_set_num_threads(1);
	rc = pick_gemm(e, sizeof e);
	if (rc == 0)
		rc = recog_model_load(model_dir, "ssd_mobilenetv1_model", &m_ssd, e, sizeof e);
	/* the detector's weights, packed, replace the model's (22 MB) before
	 * the next model comes in: the peak stays one copy */
	if (rc == 0 && !(r->det = ssd_new(&m_ssd, e, sizeof e)))
		rc = SIM_EMODEL;
	mdl_free(&m_ssd);
	if (rc == 0)
		rc = recog_model_load(model_dir, "face_landmark_68_model", &r->m_lmk, e, sizeof e);
	if (rc == 0)
		rc = recog_model_load(model_dir, "face_recognition_model", &r->m_fnet, e, sizeof e);
	if (rc == 0 && !(r->lm = lmk_new(&r->m_lmk, e, sizeof e)))
		rc = SIM_EMODEL;
	if (rc == 0 && !(r->fn = fnet_new(&r->m_fnet, e, sizeof e)))
		rc = SIM_EMODEL;
	if (rc == 0 && !(r->cache = calloc(CACHE_SLOTS, sizeof(*r->cache))))
		rc = SIM_ENOMEM;
	if (rc < 0) {
		if (err && errlen)
			snprintf(err, errlen, "face recognition unavailable: %s", e);
		return r; /* usable with recognition off; recog_available false */
	}
	r->arena_floats = face_arena_floats();
	r->ok = true;
	return r;
}

void recog_close(recog *r)
{
	if (!r)
		return;
	while (r->free_arenas) {
		arena_node *n = r->free_arenas;
		r->free_arenas = n->next;
		free(n->a.base);
		free(n);
	}
	ssd_free(r->det);
	lmk_free(r->lm);
	fnet_free(r->fn);
	mdl_free(&r->m_lmk);
	mdl_free(&r->m_fnet);
	free(r->cache);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

bool recog_available(const recog *r)
{
	return r && r->ok;
}

void recog_set_align(recog *r, recog_align a)
{
	pthread_mutex_lock(&r->mu);
	r->align = a;
	pthread_mutex_unlock(&r->mu);
}

recog_align recog_get_align(const recog *r)
{
	return r->align;
}

/* The slot of a hex digest: its first two digits. */
static size_t enrol_slot(const char *sha_hex)
{
	size_t v = 0;

	for (int i = 0; i < 2 && sha_hex[i]; i++)
		v = v * 16 + (size_t)(sha_hex[i] <= '9' ? sha_hex[i] - '0'
				      : (sha_hex[i] | 0x20) - 'a' + 10);
	return v % ENROL_SLOTS;
}

bool recog_enroll_recall(recog *r, const char *sha_hex, recog_desc *out)
{
	const enrol_ent *e;
	bool found;

	if (!r || !sha_hex)
		return false;
	pthread_mutex_lock(&r->mu);
	e = &r->enrol[enrol_slot(sha_hex)];
	found = e->used && e->align == r->align && !strcmp(e->sha, sha_hex);
	if (found)
		*out = e->d;
	pthread_mutex_unlock(&r->mu);
	return found;
}

void recog_enroll_remember(recog *r, const char *sha_hex,
			   const recog_desc *d)
{
	enrol_ent *e;

	if (!r || !sha_hex || strlen(sha_hex) != 64)
		return;
	pthread_mutex_lock(&r->mu);
	e = &r->enrol[enrol_slot(sha_hex)];
	memcpy(e->sha, sha_hex, 65);
	e->align = r->align;
	e->d = *d;
	e->used = true;
	pthread_mutex_unlock(&r->mu);
}

void recog_cache_stats(const recog *r, size_t *hits, size_t *misses)
{
	pthread_mutex_lock((pthread_mutex_t *)&r->mu);
	if (hits)
		*hits = r->hits;
	if (misses)
		*misses = r->misses;
	pthread_mutex_unlock((pthread_mutex_t *)&r->mu);
}

/* An arena for this call: a free one, or a new one (they are kept until
 * recog_close, at most one per thread that ran an inference at once). */
static arena_node *arena_get(recog *r)
{
	arena_node *n;
	pthread_mutex_lock(&r->mu);
	n = r->free_arenas;
	if (n)
		r->free_arenas = n->next;
	pthread_mutex_unlock(&r->mu);
	if (n)
		return n;
	if (!(n = calloc(1, sizeof(*n))))
		return NULL;
	float *buf = aligned_alloc(64, ((r->arena_floats * sizeof(float)) + 63) & ~(size_t)63);
	if (!buf) {
		free(n);
		return NULL;
	}
	nn_arena_init(&n->a, buf, r->arena_floats);
	return n;
}

static void arena_put(recog *r, arena_node *n)
{
	pthread_mutex_lock(&r->mu);
	n->next = r->free_arenas;
	r->free_arenas = n;
	pthread_mutex_unlock(&r->mu);
}

static double box_luma(const img *im, const float box[4])
{
	int x0 = (int)fmaxf(0, floorf(box[0])), y0 = (int)fmaxf(0, floorf(box[1]));
	int x1 = (int)fminf((float)im->w, ceilf(box[0] + box[2]));
	int y1 = (int)fminf((float)im->h, ceilf(box[1] + box[3]));
	double sum = 0;
	size_t n = 0;
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++) {
			const uint8_t *p = im->px + ((size_t)y * im->w + x) * 3;
			sum += 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
			n++;
		}
	return n ? sum / n : 0;
}

static void to_recog_face(const face_res *f, const img *im, recog_face *o)
{
	o->box[0] = f->box.x;
	o->box[1] = f->box.y;
	o->box[2] = f->box.w;
	o->box[3] = f->box.h;
	o->score = f->box.score;
	memcpy(o->pts, f->pts, sizeof(o->pts));
	memcpy(o->det_crop, f->det_crop, sizeof(o->det_crop));
	memcpy(o->aligned_crop, f->aligned_crop, sizeof(o->aligned_crop));
	if (f->has_desc)
		memcpy(o->desc, f->desc, sizeof(o->desc));
	else
		memset(o->desc, 0, sizeof(o->desc));
	o->brightness = box_luma(im, o->box);
}

/* Runs the pipeline: every face, or (largest_only) just the largest face's
 * descriptor, saving the two other nets' work on the rest. */
static int run_pipeline(recog *r, const img *im, bool want_desc,
			recog_align align, recog_face *out, int max,
			recog_timing *t, char *err, size_t errlen)
{
	face_res *res = NULL;
	arena_node *an = NULL;
	face_core core = {r->det, r->lm, r->fn};
	face_opts o = {0.5f, align == RECOG_ALIGN_FACEAPI ? FNET_ALIGN_FACEAPI
							   : FNET_ALIGN_SIMILARITY,
		       want_desc ? 1 : 0, max};
	int n = 0, rc = 0;

	if (!r->ok) {
		snprintf(err, errlen, "face recognition unavailable: the models are "
			 "not loaded (run `make models`)");
		return SIM_EMODEL;
	}
	if (!(res = calloc((size_t)max, sizeof(*res))) || !(an = arena_get(r))) {
		rc = SIM_ENOMEM;
		goto out;
	}
	face_times ft = {0};
	n = face_detect_all_timed(&core, &an->a, im->px, im->w, im->h, im->w * 3,
				  &o, res, max, &ft);
	if (n < 0) {
		rc = recog_from_core(n);
		snprintf(err, errlen, "face pipeline: %s", sim_strerror(rc));
		goto out;
	}
	for (int i = 0; i < n; i++)
		to_recog_face(&res[i], im, &out[i]);
	if (t) {
		t->detect_ms = ft.detect_ms;
		t->landmarks_ms = ft.landmarks_ms;
		t->descriptors_ms = ft.descriptors_ms;
	}
out:
	if (an)
		arena_put(r, an);
	free(res);
	return rc < 0 ? rc : n;
}

int recog_faces(recog *r, const img *im, bool want_desc, recog_face *out,
		int max, recog_timing *t, char *err, size_t errlen)
{
	return run_pipeline(r, im, want_desc, r->align, out, max, t, err, errlen);
}

static void content_key(const img *im, recog_align align, unsigned char key[32])
{
	unsigned int len = 32;
	int hdr[3] = {im->w, im->h, (int)align};
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	memset(key, 0, 32);
	if (!c)
		return;
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	EVP_DigestUpdate(c, hdr, sizeof hdr);
	EVP_DigestUpdate(c, im->px, (size_t)im->w * im->h * 3);
	EVP_DigestFinal_ex(c, key, &len);
	EVP_MD_CTX_free(c);
}

/* The largest face of im and the number of faces, from the cache or a
 * fresh inference. */
static int largest_face(recog *r, const img *im, cache_ent *e, char *err,
			size_t errlen)
{
	unsigned char key[32];
	recog_align align = r->align;
	recog_face faces[MAX_FACES];
	size_t slot;
	int n;

	if (!r->ok) {
		snprintf(err, errlen, "face recognition unavailable: the models are "
			 "not loaded (run `make models`)");
		return SIM_EMODEL;
	}
	content_key(im, align, key);
	memcpy(&slot, key, sizeof slot);
	slot %= CACHE_SLOTS;
	pthread_mutex_lock(&r->mu);
	if (r->cache[slot].used && !memcmp(r->cache[slot].key, key, 32)) {
		*e = r->cache[slot];
		r->hits++;
		pthread_mutex_unlock(&r->mu);
		return 0;
	}
	r->misses++;
	pthread_mutex_unlock(&r->mu);

	/* detection and landmarks for all, a descriptor for the largest */
	n = run_pipeline(r, im, false, align, faces, MAX_FACES, NULL, err, errlen);
	if (n < 0)
		return n;
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, 32);
	e->used = true;
	e->n_faces = n;
	e->rc = n ? 0 : SIM_ENOFACE;
	if (n) {
		int best = 0;
		for (int i = 1; i < n; i++)
			if (faces[i].box[2] * faces[i].box[3] >
			    faces[best].box[2] * faces[best].box[3])
				best = i;
		e->face = faces[best];
		arena_node *an = arena_get(r);
		if (!an)
			return SIM_ENOMEM;
		int rc = fnet_descriptor(r->fn, &an->a, im->px, im->w, im->h, im->w * 3,
					 (const float(*)[2])e->face.pts,
					 align == RECOG_ALIGN_FACEAPI ? FNET_ALIGN_FACEAPI
								      : FNET_ALIGN_SIMILARITY,
					 e->face.desc, e->face.aligned_crop);
		arena_put(r, an);
		rc = recog_from_core(rc);
		if (rc < 0) {
			snprintf(err, errlen, "descriptor of the face at %.0f,%.0f "
				 "(%.0fx%.0f px): %s", e->face.box[0], e->face.box[1],
				 e->face.box[2], e->face.box[3], sim_strerror(rc));
			return rc;
		}
	}
	pthread_mutex_lock(&r->mu);
	r->cache[slot] = *e;
	pthread_mutex_unlock(&r->mu);
	return 0;
}

int recog_enroll(recog *r, const img *im, recog_desc *out, char *err,
		 size_t errlen)
{
	cache_ent e;
	int rc = largest_face(r, im, &e, err, errlen);
	if (rc < 0)
		return rc;
	if (e.n_faces == 0) {
		snprintf(err, errlen, "no face found in the %dx%d picture", im->w, im->h);
		return SIM_ENOFACE;
	}
	if (e.n_faces > 1) {
		snprintf(err, errlen, "%d faces found in the %dx%d picture; an "
			 "enrolment photo must show one person", e.n_faces, im->w, im->h);
		return SIM_EMANYFACES;
	}
	if (e.face.box[2] < RECOG_MIN_ENROL_PX) {
		snprintf(err, errlen, "the face is %.0f px wide, under the %d px an "
			 "enrolment photo needs", e.face.box[2], RECOG_MIN_ENROL_PX);
		return SIM_ESMALLFACE;
	}
	memcpy(out->v, e.face.desc, sizeof(out->v));
	return 0;
}

double recog_distance(const float *a, const float *b)
{
	double s = 0;
	for (int i = 0; i < RECOG_DIM; i++) {
		double d = (double)a[i] - (double)b[i];
		s += d * d;
	}
	return sqrt(s);
}

/* Logistic in the distance: 0.70 at RECOG_THRESHOLD, slope RECOG_SLOPE per
 * unit of distance (docs/recognition.md shows the calibration). */
#define RECOG_SLOPE 12.0

double recog_confidence(double distance)
{
	double mid = RECOG_THRESHOLD + log(7.0 / 3.0) / RECOG_SLOPE;
	return 1.0 / (1.0 + exp(RECOG_SLOPE * (distance - mid)));
}

/* Squared distances of q to lib[0..n): float accumulation in blocks the
 * compiler vectorises; the winner is re-measured in double. */
static size_t nearest(const float *q, const recog_desc *lib, size_t n)
{
	size_t best = 0;
	float bd = INFINITY;
	for (size_t i = 0; i < n; i++) {
		const float *v = lib[i].v;
		float acc[8] = {0};
		for (int k = 0; k < RECOG_DIM; k += 8)
			for (int j = 0; j < 8; j++) {
				float d = q[k + j] - v[k + j];
				acc[j] += d * d;
			}
		float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
			  ((acc[4] + acc[5]) + (acc[6] + acc[7]));
		if (s < bd) {
			bd = s;
			best = i;
		}
	}
	return best;
}

int recog_identify(recog *r, const img *im, const recog_desc *lib, size_t n,
		   double min_confidence, recog_match *out, char *err,
		   size_t errlen)
{
	cache_ent e;
	int rc;
	memset(out, 0, sizeof(*out));
	out->distance = -1;
	rc = largest_face(r, im, &e, err, errlen);
	if (rc < 0)
		return rc;
	if (e.n_faces == 0) {
		snprintf(err, errlen, "no face found in the %dx%d frame", im->w, im->h);
		return SIM_ENOFACE;
	}
	out->n_faces = e.n_faces;
	out->face_w = (int)lroundf(e.face.box[2]);
	out->face_h = (int)lroundf(e.face.box[3]);
	out->brightness = e.face.brightness;
	memcpy(out->box, e.face.box, sizeof(out->box));
	memcpy(out->pts, e.face.pts, sizeof(out->pts));
	if (n == 0)
		return 0;
	size_t i = nearest(e.face.desc, lib, n);
	out->index = i;
	out->distance = recog_distance(e.face.desc, lib[i].v);
	out->confidence = recog_confidence(out->distance);
	out->matched = out->confidence >= min_confidence;
	return 0;
}
