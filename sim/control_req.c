/* control_req.c -- the control API's request parsing: a button's JSON
 * body into a job's parameters (reading or decoding a face's picture),
 * and the path segments and ?limit= of a URL.  Runs on handler threads;
 * never routes, answers or touches a device (control.c does). */
#include "control_int.h"

#include "b64.h"
#include "file.h"
#include "image.h"
#include "proto.h"
#include "sim_err.h"

#include <civetweb.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z */

/* A short description of a JSON value for error sentences. */
static void describe(const cJSON *v, char *out, size_t n)
{
	if (!v) {
		snprintf(out, n, "missing");
	} else if (cJSON_IsString(v)) {
		size_t len = strlen(v->valuestring);
		snprintf(out, n, "\"%.40s%s\", a string", v->valuestring,
			 len > 40 ? "..." : "");
	} else if (cJSON_IsBool(v)) {
		snprintf(out, n, "%s, a boolean", cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNull(v)) {
		snprintf(out, n, "null");
	} else if (cJSON_IsNumber(v)) {
		/* shortest form that reads back the same: 136.6, not
		 * 136.59999999999999 */
		if (v->valuedouble == floor(v->valuedouble) &&
		    fabs(v->valuedouble) < 1e15)
			snprintf(out, n, "%.0f", v->valuedouble);
		else for (int prec = 1; prec <= 17; prec++) {
			snprintf(out, n, "%.*g", prec, v->valuedouble);
			if (strtod(out, NULL) == v->valuedouble)
				break;
		}
	} else if (cJSON_IsArray(v)) {
		snprintf(out, n, "an array");
	} else {
		snprintf(out, n, "an object");
	}
}

/* Every key of o must be in keys (NULL-terminated). */
static int only_keys(const cJSON *o, const char *const *keys, char *err,
		     size_t errlen)
{
	const cJSON *k;

	for (k = o->child; k; k = k->next) {
		const char *const *p;
		for (p = keys; *p && strcmp(*p, k->string); p++)
			;
		if (!*p) {
			char list[256] = "";
			for (p = keys; *p; p++) {
				strncat(list, list[0] ? ", " : "",
					sizeof list - strlen(list) - 1);
				strncat(list, *p, sizeof list - strlen(list) - 1);
			}
			snprintf(err, errlen, "unknown field \"%.60s\"; this "
				 "endpoint takes %s", k->string, list);
			return -1;
		}
	}
	return 0;
}

/* o[key] as a number in lo..hi (integer when integral).  0 with *has set
 * (false when absent and not required), or -1 with a sentence. */
static int get_number(const cJSON *o, const char *key, bool required,
		      double lo, double hi, bool integral, const char *unit,
		      bool *has, double *v, char *err, size_t errlen)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	char what[96];

	*has = false;
	if (!it && !required)
		return 0;
	if (it && cJSON_IsNumber(it) && it->valuedouble >= lo &&
	    it->valuedouble <= hi &&
	    (!integral || it->valuedouble == floor(it->valuedouble))) {
		*has = true;
		*v = it->valuedouble;
		return 0;
	}
	describe(it, what, sizeof what);
	if (integral && hi - lo == 1)
		snprintf(err, errlen, "%s is %s; it must be %.0f or %.0f%s", key,
			 what, lo, hi, unit);
	else
		snprintf(err, errlen, "%s is %s; it must be %s from %.17g to "
			 "%.17g%s", key, what, integral ? "an integer" : "a number",
			 lo, hi, unit);
	return -1;
}

static int get_bool(const cJSON *o, const char *key, bool *v, char *err,
		    size_t errlen)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	char what[96];

	if (cJSON_IsBool(it)) {
		*v = cJSON_IsTrue(it);
		return 0;
	}
	describe(it, what, sizeof what);
	snprintf(err, errlen, "%s is %s; it must be true or false", key, what);
	return -1;
}

/* Why a picture file was refused goes to stderr only: the caller learns
 * nothing about the file system (whether /etc/shadow exists, is readable,
 * a directory or large) beyond what every refusal says. */
static void image_log(const char *path, const char *what)
{
	char safe[320];
	size_t i = 0;

	for (; path[i] && i + 1 < sizeof safe; i++)
		safe[i] = (unsigned char)path[i] < 0x20 || path[i] == 0x7f ?
				  '?' : path[i];
	safe[i] = '\0';
	fprintf(stderr, "camsim: control API: image \"%s\": %s\n", safe, what);
}

/* Reads the picture file into j->image (handler thread).  Opened without
 * blocking so that a FIFO or device path cannot hang the handler.  Returns
 * 0, or the HTTP status with a sentence; every refusal of a path reads
 * the same (image_log has the reason). */
static int read_image(job *j, const char *path, char *err, size_t errlen)
{
	char why[512], *buf = NULL;
	size_t len = 0, pl = strlen(path);
	int rc;

	if (!*path) {
		snprintf(err, errlen, "image is \"\", an empty path; it must "
			 "name a picture file (JPEG or PNG)");
		return 400;
	}
	rc = base_read_file(NULL, path, CTL_IMAGE_MAX, &buf, &len, why,
			    sizeof why);
	if (rc == BASE_ENOMEM) {
		snprintf(err, errlen, "out of memory reading image \"%.300s\"",
			 path);
		return 500;
	}
	if (rc < 0) {
		/* why is "PATH: reason"; image_log writes the path safely */
		image_log(path, strncmp(why, path, pl) || strncmp(why + pl, ": ", 2)
				? why : why + pl + 2);
		snprintf(err, errlen, "image \"%.300s\" cannot be used: it must "
			 "name a regular picture file that camsim may read, of at "
			 "most %u bytes (32 MiB); camsim's standard error says why "
			 "this one is not", path, CTL_IMAGE_MAX);
		return 400;
	}
	j->image = (unsigned char *)buf;
	j->face.image = j->image;
	j->face.image_len = len;
	return 0;
}

static int parse_face(const cJSON *o, job *j, char *err, size_t errlen)
{
	static const char *const keys[] = {"image", "image_base64", "temperature",
					   "mask", "stay", "liveness", "quality",
					   "blur", NULL};
	const cJSON *im = cJSON_GetObjectItemCaseSensitive(o, "image");
	const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(o, "image_base64");
	dev_face_in *f = &j->face;
	bool has;
	double v;

	if (only_keys(o, keys, err, errlen))
		return 400;
	if (get_number(o, "temperature", false, 0, 120, false, " (°C)",
		       &f->has_temperature, &f->temperature, err, errlen) ||
	    get_number(o, "mask", false, 0, 1, true, " (1 wearing a mask)",
		       &f->has_mask, &v, err, errlen))
		return 400;
	f->mask = f->has_mask ? (int)v : 0;
	if (get_number(o, "stay", false, 0, 3600, false, " (seconds)", &has,
		       &f->stay_s, err, errlen) ||
	    get_number(o, "liveness", false, 0, 1, false, "", &f->has_liveness,
		       &f->liveness, err, errlen) ||
	    get_number(o, "quality", false, 0, 1, false, "", &f->has_quality,
		       &f->quality, err, errlen) ||
	    get_number(o, "blur", false, 0, 1, false, "", &f->has_blur,
		       &f->blur, err, errlen))
		return 400;
	if (!has)
		f->stay_s = 0;
	if ((im != NULL) == (b64 != NULL)) {
		snprintf(err, errlen, "%s; a face needs exactly one of \"image\" "
			 "(a path to a picture file) and \"image_base64\" (the "
			 "picture itself, standard base64)",
			 im ? "both image and image_base64 are given" :
			      "image and image_base64 are both missing");
		return 400;
	}
	if (im) {
		char what[96];
		if (!cJSON_IsString(im)) {
			describe(im, what, sizeof what);
			snprintf(err, errlen, "image is %s; it must be a string "
				 "naming a picture file", what);
			return 400;
		}
		return read_image(j, im->valuestring, err, errlen);
	}
	if (!cJSON_IsString(b64)) {
		char what[96];
		describe(b64, what, sizeof what);
		snprintf(err, errlen, "image_base64 is %s; it must be a string "
			 "of standard base64", what);
		return 400;
	}
	{
		size_t len = strlen(b64->valuestring), n = 0;
		int rc;
		if (!len || !b64_valid(b64->valuestring, len, &n)) {
			snprintf(err, errlen, "image_base64 (%zu characters) is not "
				 "standard base64 (RFC 4648: A-Z a-z 0-9 + /, '=' "
				 "padding, no white space)%s", len,
				 len ? "" : ": it is empty");
			return 400;
		}
		if (n > CTL_IMAGE_MAX) {
			snprintf(err, errlen, "image_base64 decodes to %zu bytes; "
				 "the limit is %u bytes (32 MiB)", n, CTL_IMAGE_MAX);
			return 413;
		}
		rc = b64_decode(b64->valuestring, len, &j->image,
				       &j->face.image_len);
		if (rc) {
			snprintf(err, errlen, "image_base64 cannot be decoded: %s",
				 base_strerror(rc));
			return rc == BASE_ENOMEM ? 500 : 400;
		}
		j->face.image = j->image;
	}
	return 0;
}

static int parse_power(const cJSON *o, job *j, char *err, size_t errlen)
{
	static const char *const keys[] = {"action", NULL};
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "action");
	char what[96];

	if (only_keys(o, keys, err, errlen))
		return 400;
	if (cJSON_IsString(a)) {
		if (!strcmp(a->valuestring, "on"))
			j->power = POWER_ON;
		else if (!strcmp(a->valuestring, "off"))
			j->power = POWER_OFF;
		else if (!strcmp(a->valuestring, "cycle"))
			j->power = POWER_CYCLE;
		else
			goto bad;
		return 0;
	}
bad:
	describe(a, what, sizeof what);
	snprintf(err, errlen, "action is %s; it must be \"on\", \"off\" or "
		 "\"cycle\"", what);
	return 400;
}

static int parse_clock(const cJSON *o, job *j, char *err, size_t errlen)
{
	static const char *const keys[] = {"time", "zone", NULL};
	bool has;
	double t, z = 0;

	if (only_keys(o, keys, err, errlen) ||
	    get_number(o, "time", true, 0, (double)TIME_MAX, true,
		       " (UTC seconds, 1970 to 9999)", &has, &t, err, errlen) ||
	    get_number(o, "zone", false, -43200, 50400, true,
		       " (seconds east of UTC, UTC-12 to UTC+14)", &j->has_zone,
		       &z, err, errlen))
		return 400;
	j->utc_s = (int64_t)t;
	j->zone_s = (int64_t)z;
	return 0;
}

static int parse_thermal(const cJSON *o, job *j, char *err, size_t errlen)
{
	static const char *const keys[] = {"readings", NULL};
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "readings");
	const cJSON *e;
	char what[96];
	int n;

	if (only_keys(o, keys, err, errlen))
		return 400;
	n = cJSON_IsArray(r) ? cJSON_GetArraySize(r) : -1;
	if (n < 1 || n > THERMAL_MAX) {
		if (n >= 0)
			snprintf(what, sizeof what, "an array of %d", n);
		else
			describe(r, what, sizeof what);
		snprintf(err, errlen, "readings is %s; it must be an array of 1 "
			 "to %d temperatures (°C)", what, THERMAL_MAX);
		return 400;
	}
	j->n_readings = 0;
	cJSON_ArrayForEach(e, r) {
		if (!cJSON_IsNumber(e) || e->valuedouble < 0 ||
		    e->valuedouble > 120) {
			describe(e, what, sizeof what);
			snprintf(err, errlen, "readings[%zu] is %s; it must be a "
				 "number from 0 to 120 (°C)", j->n_readings, what);
			return 400;
		}
		j->readings[j->n_readings++] = e->valuedouble;
	}
	return 0;
}

/* Contract in control_int.h. */
int ctl__parse_body(job *j, const char *body, size_t len, char *err,
		    size_t errlen)
{
	cJSON *o = NULL;
	char jerr[256];
	int status = 400;

	if (proto_json_blank(body, 0, len)) {
		snprintf(err, errlen, "the request body is empty; this endpoint "
			 "takes a JSON object (docs/device.md, Control API)");
		goto out;
	}
	switch (proto_json_parse(body, len, &o, jerr, sizeof jerr)) {
	case 0:
		break;
	case PROTO_ENOMEM:
		snprintf(err, errlen, "out of memory parsing the request body");
		status = 500;
		goto out;
	default:
		snprintf(err, errlen, "the request body is not JSON: %s", jerr);
		goto out;
	}
	if (!cJSON_IsObject(o)) {
		char what[96];
		describe(o, what, sizeof what);
		snprintf(err, errlen, "the request body is %s; it must be a JSON "
			 "object", what);
		goto out;
	}
	switch (j->op) {
	case OP_FACE:
		status = parse_face(o, j, err, errlen);
		break;
	case OP_DOOR:
	case OP_NETWORK: {
		const char *key = j->op == OP_DOOR ? "open" : "up";
		const char *const keys[] = {key, NULL};
		status = only_keys(o, keys, err, errlen) ||
			 get_bool(o, key, &j->flag, err, errlen) ? 400 : 0;
		break;
	}
	case OP_POWER:
		status = parse_power(o, j, err, errlen);
		break;
	case OP_CLOCK:
		status = parse_clock(o, j, err, errlen);
		break;
	case OP_THERMAL:
		status = parse_thermal(o, j, err, errlen);
		break;
	default:
		status = 0;
		break;
	}
out:
	cJSON_Delete(o);
	return status;
}

/* Contract in control_int.h. */
bool ctl__next_segment(const char **p, char *seg, size_t n)
{
	const char *s = *p, *e;
	int r;

	if (*s != '/')
		return false;
	s++;
	e = strchr(s, '/');
	if (!e)
		e = s + strlen(s);
	if ((size_t)(e - s) >= n)
		return false;
	r = mg_url_decode(s, (int)(e - s), seg, (int)n, 0);
	if (r < 0)
		return false;
	*p = e;
	return true;
}

/* Contract in control_int.h. */
int ctl__parse_limit(const char *q, size_t *limit, char *err, size_t errlen)
{
	char v[32];
	char *end;
	long n;

	*limit = EVENTS_DEFAULT;
	if (!q || !*q)
		return 0;
	if (mg_get_var(q, strlen(q), "limit", v, sizeof v) < 0 ||
	    strncmp(q, "limit=", 6) || strchr(q, '&')) {
		snprintf(err, errlen, "unknown query \"%.60s\"; this endpoint "
			 "takes only ?limit=N (1 to %d)", q, EVENTS_MAX);
		return -1;
	}
	errno = 0;
	n = strtol(v, &end, 10);
	if (!*v || *end || errno || n < 1 || n > EVENTS_MAX) {
		snprintf(err, errlen, "limit is \"%.30s\"; it must be an integer "
			 "from 1 to %d", v, EVENTS_MAX);
		return -1;
	}
	*limit = (size_t)n;
	return 0;
}
