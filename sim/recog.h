/* recog.h -- the face-recognition interface the simulated device uses:
 * enrol a photo into a 128-d descriptor, identify a camera frame against
 * the enrolled descriptors.  The recognition core itself (issue 5) lives
 * behind this interface; until it is built every call fails with
 * SIM_ENOTBUILT and a sentence saying so -- never a made-up match. */
#ifndef CAMSIM_RECOG_H
#define CAMSIM_RECOG_H

#include "image.h"
#include "model.h"

#include <stdbool.h>
#include <stddef.h>

#define RECOG_DIM 128

typedef struct recog recog; /* shared by every device of a process */

typedef struct recog_desc {
	float v[RECOG_DIM];
} recog_desc;

/* One face found in a camera frame, matched against a library. */
typedef struct recog_match {
	bool matched;      /* best distance within the threshold */
	size_t index;      /* index into the library when matched */
	double confidence; /* 0..1, the protocol's confidence; 0 unmatched */
	double distance;   /* L2 distance to the best library entry */
	int face_w, face_h; /* face box size in pixels (distance estimate) */
	double brightness; /* mean luma of the face box, 0..255 */
} recog_match;

/* The shared recogniser, or NULL with a reason in err.  model_dir may be
 * NULL for the default location. */
recog *recog_open(const char *model_dir, char *err, size_t errlen);
void recog_close(recog *r);

/* True when the core is built and its models are loaded. */
bool recog_available(const recog *r);

/* Descriptor of the one face in im.  SIM_ENOFACE, SIM_EMANYFACES,
 * SIM_ESMALLFACE (enrolment refused, batch result 3), SIM_ENOTBUILT;
 * err names the cause. */
int recog_enroll(recog *r, const img *im, recog_desc *out, char *err,
		 size_t errlen);

/* Finds the face in im and the nearest of lib[0..n) whose confidence is at
 * least min_confidence (0..1, from face_rec.score / 100).  SIM_ENOFACE when
 * im holds no face, SIM_ENOTBUILT; err names the cause. */
int recog_identify(recog *r, const img *im, const recog_desc *lib, size_t n,
		   double min_confidence, recog_match *out, char *err,
		   size_t errlen);

/* The face-model directory: $CAMSIM_MODELS, else models/model next to the
 * binary or up to two levels above it (build/camsim -> build/models/model),
 * else build/models/model under the working directory.  buf receives the
 * path; SIM_EMODEL when none exists (buf holds the last one tried). */
int recog_model_dir(char *buf, size_t len);

/* Reads dir/name-weights_manifest.json and its shards and parses them into
 * m (mdl_free).  dir NULL: recog_model_dir.  0, SIM_EMODEL (err names the
 * file and says to run `make models`), SIM_ENOMEM. */
int recog_model_load(const char *dir, const char *name, mdl *m, char *err,
		     size_t errlen);

#endif
