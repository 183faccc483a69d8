/* model.h -- a TF.js layers-model weight set (weights_manifest.json plus
 * its concatenated .bin shards) dequantised exactly as tf.io.decodeWeights
 * does.  Parses bytes the caller read; opens no file. */
#ifndef CAMSIM_MODEL_H
#define CAMSIM_MODEL_H

#include <stddef.h>
#include <stdint.h>

typedef struct mdl_tensor {
	char *name;      /* as in the manifest, e.g. "conv32_1/conv1/conv/filters" */
	int rank;        /* 0..4 */
	int shape[4];
	size_t n;        /* elements */
	const float *d;  /* into mdl.data */
} mdl_tensor;

typedef struct mdl {
	mdl_tensor *t;
	size_t nt;
	float *data;     /* every tensor, in manifest order */
	size_t nfloats;
} mdl;

/* Parses manifest (JSON text, mlen bytes) and bin (every shard of every
 * group, concatenated in manifest order, binlen bytes) into m, which the
 * caller frees with mdl_free.  Quantised uint8/uint16 weights become
 * float32(q * scale + min) computed in double; int32 ones are rounded as
 * TF.js does; raw float32 and int32 are copied.  Returns 0, RECOG_EMODEL
 * (err names the tensor and what is wrong: unknown dtype, shape, the bin
 * being too short or too long) or RECOG_ENOMEM.  On failure m is empty. */
int mdl_load(mdl *m, const char *manifest, size_t mlen, const void *bin,
	     size_t binlen, char *err, size_t errlen);
void mdl_free(mdl *m);

/* The tensor called name, checked against rank and shape (a shape entry
 * of -1 matches any size); NULL with err naming the tensor, the expected
 * and the found shape otherwise.  The pointer lives as long as m. */
const float *mdl_get(const mdl *m, const char *name, int rank,
		     const int shape[4], char *err, size_t errlen);
/* Like mdl_get without a shape check; NULL when absent (no error text). */
const mdl_tensor *mdl_find(const mdl *m, const char *name);

#endif
