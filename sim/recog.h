/* recog.h -- the face-recognition service the simulated devices share:
 * loads the three face-api networks once, enrols a photo into a 128-d
 * descriptor, identifies a camera frame against a device's library, and
 * caches descriptors by picture content so that ten thousand devices
 * enrolling one photo cost one inference.  The arithmetic lives in the pure
 * core under sim/recog/ (ssd, landmark, facenet, face); this module owns
 * the files, the threads' arenas and the cache. */
#ifndef CAMSIM_RECOG_H
#define CAMSIM_RECOG_H

#include "image.h"

#include <stdbool.h>
#include <stddef.h>

#define RECOG_DIM 128

/* Enrolment refuses a face whose detection box is narrower than this
 * (batch result 3, "wrong picture"): 48 px is where the descriptors of the
 * fixtures' scaled-down faces start to drift (docs/recognition.md). */
#define RECOG_MIN_ENROL_PX 48

/* Default L2 distance threshold of a match, calibrated on the fixtures
 * (docs/recognition.md: 0.6 % false accepts, 3 % false rejects with the
 * similarity alignment); recog_confidence maps it to 0.70, the protocol's
 * default face_rec.score of 70. */
#define RECOG_THRESHOLD 0.50

typedef struct recog recog; /* shared by every device of a process */

/* A weight set of the core (sim/recog/model.h); opaque here, so that the
 * core's headers stay out of every includer of recog.h. */
struct mdl;

typedef struct recog_desc {
	float v[RECOG_DIM];
} recog_desc;

/* How the face chip is cut before the descriptor net (sim/recog/facenet.h):
 * rotation-aligned (the default) or exactly as face-api does it. */
typedef enum recog_align {
	RECOG_ALIGN_SIMILARITY = 0,
	RECOG_ALIGN_FACEAPI = 1,
} recog_align;

/* One face found in a camera frame, matched against a library. */
typedef struct recog_match {
	bool matched;      /* best confidence at least min_confidence */
	size_t index;      /* index into the library when matched */
	double confidence; /* 0..1, the protocol's confidence of the best entry */
	double distance;   /* L2 distance to the best library entry (-1: empty library) */
	int face_w, face_h; /* face box size in pixels (distance estimate) */
	double brightness; /* mean luma of the face box, 0..255 */
	int n_faces;       /* faces in the frame; the largest one is matched */
	float box[4];      /* the largest face: x, y, w, h in frame pixels */
	float pts[68][2];  /* its landmarks, frame pixels (iBUG-300W order) */
} recog_match;

/* Every face of a picture, for the CLI and the calibration tools. */
typedef struct recog_face {
	float box[4];          /* x, y, w, h in image pixels (face-api's box) */
	float score;           /* detector score 0..1 */
	float pts[68][2];      /* landmarks, image pixels, iBUG-300W order */
	int det_crop[4];       /* landmark-net crop */
	int aligned_crop[4];   /* descriptor chip bounds */
	float desc[RECOG_DIM];
	double brightness;     /* mean luma of the box, 0..255 */
} recog_face;

typedef struct recog_timing {
	double detect_ms, landmarks_ms, descriptors_ms; /* wall, this call */
} recog_timing;

/* The shared recogniser.  It always returns one (NULL only when out of
 * memory); when the models cannot be loaded recog_available is false and
 * err says why (and how to get them: `make models`).  model_dir may be
 * NULL for recog_model_dir's choice.  OpenBLAS is set to one thread: each
 * inference runs on its caller's thread. */
recog *recog_open(const char *model_dir, char *err, size_t errlen);
void recog_close(recog *r);

/* True when the models are loaded. */
bool recog_available(const recog *r);

/* The alignment used from now on by enrol and identify (default
 * similarity).  Descriptors of the two alignments do not mix: switch
 * before enrolling. */
void recog_set_align(recog *r, recog_align a);
recog_align recog_get_align(const recog *r);

/* Descriptor of the one face in im.  SIM_ENOFACE, SIM_EMANYFACES,
 * SIM_ESMALLFACE (enrolment refused, batch result 3), SIM_EMODEL (models
 * not loaded); err names the cause with the numbers (faces found, box
 * width and the minimum).  Cached by picture content. */
int recog_enroll(recog *r, const img *im, recog_desc *out, char *err,
		 size_t errlen);

/* The enrolment descriptor remembered for the encoded picture whose
 * SHA-256 is sha_hex (sha256_hex's 64 lower-case hex digits) under the
 * current alignment: true and *out filled when found.  A photo sent to
 * thousands of devices (camsim load --propagate) is then decoded and
 * enrolled once, not once per device.  r may be NULL (never found). */
bool recog_enroll_recall(recog *r, const char *sha_hex, recog_desc *out);
/* Remembers d as the descriptor of the encoded picture sha_hex, after a
 * recog_enroll of it succeeded (a refused photo is not remembered: it is
 * decoded again and refused again, with its message).  A small direct-
 * mapped table: a later picture may take the slot.  r may be NULL. */
void recog_enroll_remember(recog *r, const char *sha_hex,
			   const recog_desc *d);

/* Finds the largest face in im and the nearest of lib[0..n) (a vectorised
 * scan); matched when its confidence is at least min_confidence (0..1,
 * from face_rec.score / 100).  SIM_ENOFACE when im holds no face,
 * SIM_EMODEL; err names the cause.  The frame's descriptor is cached by
 * content like an enrolment's. */
int recog_identify(recog *r, const img *im, const recog_desc *lib, size_t n,
		   double min_confidence, recog_match *out, char *err,
		   size_t errlen);

/* Every face in im (at most max into out, score-descending), with
 * descriptors when want_desc; the number found, or SIM_EMODEL / SIM_ENOMEM.
 * t (may be NULL) receives the stage timings.  Not cached. */
int recog_faces(recog *r, const img *im, bool want_desc, recog_face *out,
		int max, recog_timing *t, char *err, size_t errlen);

/* L2 distance of two descriptors (in double, as face-api computes it). */
double recog_distance(const float *a, const float *b);

/* The protocol's confidence (0..1) of a descriptor distance: a logistic
 * curve, monotonically decreasing, 0.70 at RECOG_THRESHOLD (formula and
 * calibration in docs/recognition.md). */
double recog_confidence(double distance);

/* Cache statistics: lookups that found a descriptor, and inferences run. */
void recog_cache_stats(const recog *r, size_t *hits, size_t *misses);

/* OpenBLAS 0.3.21 (Debian 12) predates AMD Zen 4/5 and gives them its AVX2
 * Haswell kernels although the CPU has AVX-512; its SkylakeX kernels run
 * the landmark and descriptor nets' sgemms about 1.3x faster here (the
 * detector has its own AVX-512 kernel, gemm.h; docs/perf.md).  OpenBLAS reads
 * OPENBLAS_CORETYPE once, when it is loaded, so this re-executes the
 * program (argv, via /proc/self/exe) with it set, when the CPU has
 * AVX-512 F/BW/DQ/VL and OpenBLAS chose Haswell or Zen.  An explicit
 * OPENBLAS_CORETYPE is always respected.  Returns only when nothing is to
 * be done or the exec failed.  Call first thing in main, and only in a
 * program or subcommand that runs recognition (tools/camsim.c: run, device,
 * recog), so that the others start as one process. */
void recog_blas_pick_kernels(char **argv);

/* The face-model directory: $CAMSIM_MODELS (and only it, when set), else
 * share/camsim/models/model beside an installed bin/, models/model next to
 * the binary or up to two levels above it (build/camsim ->
 * build/models/model), else build/models/model under the working
 * directory.  buf receives the path; SIM_EMODEL when none exists (buf then
 * names every place looked in, for the user). */
int recog_model_dir(char *buf, size_t len);

/* Reads dir/name-weights_manifest.json and its shards and parses them into
 * m (mdl_free).  dir NULL: recog_model_dir.  0, SIM_EMODEL (err names the
 * file and says to run `make models`), SIM_ENOMEM. */
int recog_model_load(const char *dir, const char *name, struct mdl *m,
		     char *err, size_t errlen);

#endif
