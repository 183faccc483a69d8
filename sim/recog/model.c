/* model.c -- TF.js weight manifests and shards to float32 tensors.  Owns
 * the model memory; touches no file and no network (recog.c reads them). */
#include "model.h"
#include "core_err.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#include <stdarg.h>
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

void mdl_free(mdl *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nt; i++)
		free(m->t[i].name);
	free(m->t);
	free(m->data);
	memset(m, 0, sizeof(*m));
}

/* Bytes per stored element of a manifest entry, and how to decode it. */
enum kind { K_F32, K_I32, K_U8Q, K_U16Q };

static int entry_kind(const cJSON *w, enum kind *k, double *scale,
		      double *min, int *to_int, char *why, size_t whylen)
{
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(w, "dtype");
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(w, "quantization");
	if (!cJSON_IsString(dt)) {
		snprintf(why, whylen, "dtype missing");
		return -1;
	}
	*to_int = !strcmp(dt->valuestring, "int32");
	if (strcmp(dt->valuestring, "float32") && !*to_int) {
		snprintf(why, whylen, "dtype \"%s\" (float32 or int32 expected)",
			 dt->valuestring);
		return -1;
	}
	if (!q) {
		*k = *to_int ? K_I32 : K_F32;
		return 0;
	}
	const cJSON *qd = cJSON_GetObjectItemCaseSensitive(q, "dtype");
	const cJSON *sc = cJSON_GetObjectItemCaseSensitive(q, "scale");
	const cJSON *mn = cJSON_GetObjectItemCaseSensitive(q, "min");
	if (!cJSON_IsString(qd) || !cJSON_IsNumber(sc) || !cJSON_IsNumber(mn)) {
		snprintf(why, whylen,
			 "quantization needs dtype, scale and min (affine uint8/uint16)");
		return -1;
	}
	if (!strcmp(qd->valuestring, "uint8"))
		*k = K_U8Q;
	else if (!strcmp(qd->valuestring, "uint16"))
		*k = K_U16Q;
	else {
		snprintf(why, whylen, "quantization dtype \"%s\" (uint8 or uint16 expected)",
			 qd->valuestring);
		return -1;
	}
	*scale = sc->valuedouble;
	*min = mn->valuedouble;
	return 0;
}

int mdl_load(mdl *m, const char *manifest, size_t mlen, const void *bin,
	     size_t binlen, char *err, size_t errlen)
{
	int rc = 0;
	char why[160];
	cJSON *root = NULL;
	const unsigned char *b = bin;
	size_t pos = 0, nfl = 0, cap = 0;
	memset(m, 0, sizeof(*m));

	root = cJSON_ParseWithLength(manifest, mlen);
	if (!cJSON_IsArray(root)) {
		rc = fail(err, errlen, RECOG_EMODEL,
			  "weights manifest: not a JSON array of weight groups");
		goto out;
	}
	/* first pass: count tensors and floats */
	const cJSON *g, *w;
	cJSON_ArrayForEach(g, root)
	{
		const cJSON *ws = cJSON_GetObjectItemCaseSensitive(g, "weights");
		if (!cJSON_IsArray(ws)) {
			rc = fail(err, errlen, RECOG_EMODEL,
				  "weights manifest: a group has no \"weights\" array");
			goto out;
		}
		cJSON_ArrayForEach(w, ws) cap++;
	}
	m->t = calloc(cap ? cap : 1, sizeof(*m->t));
	if (!m->t) {
		rc = RECOG_ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(g, root)
	{
		cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(g, "weights"))
		{
			mdl_tensor *t = &m->t[m->nt];
			const cJSON *nm = cJSON_GetObjectItemCaseSensitive(w, "name");
			const cJSON *sh = cJSON_GetObjectItemCaseSensitive(w, "shape");
			if (!cJSON_IsString(nm)) {
				rc = fail(err, errlen, RECOG_EMODEL,
					  "weights manifest: weights[%zu]: name missing", m->nt);
				goto out;
			}
			if (!(t->name = strdup(nm->valuestring))) {
				rc = RECOG_ENOMEM;
				goto out;
			}
			m->nt++;
			int rank = cJSON_GetArraySize(sh);
			if (!cJSON_IsArray(sh) || rank > 4) {
				rc = fail(err, errlen, RECOG_EMODEL,
					  "weights manifest: %s: shape must be an array of at most 4 sizes",
					  t->name);
				goto out;
			}
			t->rank = rank;
			t->n = 1;
			for (int i = 0; i < rank; i++) {
				const cJSON *d = cJSON_GetArrayItem(sh, i);
				if (!cJSON_IsNumber(d) || d->valuedouble < 1 ||
				    d->valuedouble > 1e7 || d->valuedouble != floor(d->valuedouble)) {
					rc = fail(err, errlen, RECOG_EMODEL,
						  "weights manifest: %s: shape[%d] is not a size 1..10000000",
						  t->name, i);
					goto out;
				}
				t->shape[i] = (int)d->valuedouble;
				t->n *= (size_t)t->shape[i];
				if (t->n > 100u * 1000u * 1000u) {
					rc = fail(err, errlen, RECOG_EMODEL,
						  "weights manifest: %s: over 100 million elements",
						  t->name);
					goto out;
				}
			}
			nfl += t->n;
		}
	}
	m->data = malloc((nfl ? nfl : 1) * sizeof(float));
	if (!m->data) {
		rc = RECOG_ENOMEM;
		goto out;
	}
	m->nfloats = nfl;
	/* second pass: decode in manifest order */
	size_t ti = 0, fo = 0;
	cJSON_ArrayForEach(g, root)
	{
		cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(g, "weights"))
		{
			mdl_tensor *t = &m->t[ti++];
			enum kind k;
			double scale = 0, min = 0;
			int to_int;
			if (entry_kind(w, &k, &scale, &min, &to_int, why, sizeof why) < 0) {
				rc = fail(err, errlen, RECOG_EMODEL, "weights manifest: %s: %s",
					  t->name, why);
				goto out;
			}
			size_t bpe = k == K_U8Q ? 1 : k == K_U16Q ? 2 : 4;
			if (binlen - pos < t->n * bpe || pos > binlen) {
				rc = fail(err, errlen, RECOG_EMODEL,
					  "weights: %s: needs %zu bytes at offset %zu, the shards hold %zu in all",
					  t->name, t->n * bpe, pos, binlen);
				goto out;
			}
			float *d = m->data + fo;
			const unsigned char *p = b + pos;
			for (size_t i = 0; i < t->n; i++) {
				double v;
				switch (k) {
				case K_U8Q:
					v = p[i] * scale + min;
					break;
				case K_U16Q:
					v = (p[2 * i] | p[2 * i + 1] << 8) * scale + min;
					break;
				case K_I32: {
					int32_t q;
					memcpy(&q, p + 4 * i, 4);
					v = q;
					break;
				}
				default: {
					float f;
					memcpy(&f, p + 4 * i, 4);
					v = f;
					break;
				}
				}
				/* TF.js rounds quantised int32 weights */
				if (to_int && k != K_I32)
					v = round(v);
				d[i] = (float)v;
			}
			t->d = d;
			fo += t->n;
			pos += t->n * bpe;
		}
	}
	if (pos != binlen) {
		rc = fail(err, errlen, RECOG_EMODEL,
			  "weights: the manifest describes %zu bytes, the shards hold %zu",
			  pos, binlen);
		goto out;
	}
out:
	cJSON_Delete(root);
	if (rc < 0)
		mdl_free(m);
	return rc;
}

const mdl_tensor *mdl_find(const mdl *m, const char *name)
{
	for (size_t i = 0; i < m->nt; i++)
		if (!strcmp(m->t[i].name, name))
			return &m->t[i];
	return NULL;
}

static void shape_str(char *buf, size_t len, int rank, const int *shape)
{
	size_t o = 0;
	o += (size_t)snprintf(buf + o, len - o, "[");
	for (int i = 0; i < rank && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%d", i ? "," : "", shape[i]);
	if (o < len)
		snprintf(buf + o, len - o, "]");
}

const float *mdl_get(const mdl *m, const char *name, int rank,
		     const int shape[4], char *err, size_t errlen)
{
	const mdl_tensor *t = mdl_find(m, name);
	if (!t) {
		fail(err, errlen, RECOG_EMODEL, "weights: tensor %s missing", name);
		return NULL;
	}
	int ok = t->rank == rank;
	for (int i = 0; ok && i < rank; i++)
		ok = shape[i] < 0 || shape[i] == t->shape[i];
	if (!ok) {
		char want[64], got[64];
		shape_str(want, sizeof want, rank, shape);
		shape_str(got, sizeof got, t->rank, t->shape);
		fail(err, errlen, RECOG_EMODEL, "weights: %s has shape %s, %s expected",
		     name, got, want);
		return NULL;
	}
	return t->d;
}
