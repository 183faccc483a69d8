/* proto_fmt.c -- the value formats of V1.16 (dates, times, time ranges,
 * weekday and id lists, base64 pictures, URLs, versions, ...) and the rules
 * each can break.  Pure functions of their input and the profile. */
#include "proto_int.h"
#include "base.h"
#include "b64.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- numbers */

/* Integers never in exponent form.  Digits by hand, not "%.0f": every
 * heartbeat carries three integers, and glibc formats a double through
 * its multi-precision path (and every printf through the slow positional
 * one once libquadmath, loaded with OpenBLAS, has registered its hooks):
 * half of a heartbeat's encoding time (docs/perf.md). */
static void fmt_integral(char *buf, size_t n, double d)
{
	char tmp[24], *p = tmp + sizeof tmp;
	bool neg = signbit(d); /* "-0", as "%.0f" writes it */
	unsigned long long v = (unsigned long long)fabs(d); /* < 1e17 */

	*--p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (neg)
		*--p = '-';
	if (n) { /* cut to n, as snprintf did */
		size_t len = strlen(p) < n ? strlen(p) : n - 1;
		memcpy(buf, p, len);
		buf[len] = '\0';
	}
}

void proto__fmt_double(char *buf, size_t n, double d)
{
	if (d == floor(d) && fabs(d) < 1e17) {
		fmt_integral(buf, n, d);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

/* ---------------------------------------------------------------- dates */

/* 1..9 decimal digits: ten could overflow int (a URL's port of 200
 * digits did, and "4294967376" wrapped to port 80). */
static bool digits(const char *p, size_t n, int *out)
{
	int v = 0;
	if (n == 0 || n > 9)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return true;
}

static int days_in(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

/* Splits p[0..n) at sep into exactly k parts of 1..maxw digits each. */
static int split_num(const char *p, size_t n, char sep, int k, const int *maxw,
		     int *vals, bool *padded)
{
	const char *end = p + n;
	*padded = true;
	for (int i = 0; i < k; i++) {
		const char *q = p;
		while (q < end && *q != sep)
			q++;
		if ((i < k - 1) != (q < end))
			return -1;
		size_t w = (size_t)(q - p);
		if (w == 0 || w > (size_t)maxw[i] || !digits(p, w, &vals[i]))
			return -1;
		if (w != (size_t)maxw[i])
			*padded = false;
		p = q + 1;
	}
	return 0;
}

int proto_fmt_date(const char *s, bool allow_lenient, int *y, int *m, int *d)
{
	static const int w[] = {4, 2, 2};
	int v[3];
	bool padded;

	if (split_num(s, strlen(s), '/', 3, w, v, &padded) < 0 || v[0] < 1970 ||
	    v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > days_in(v[0], v[1]))
		return -1;
	if (!padded && !allow_lenient)
		return -1;
	*y = v[0];
	*m = v[1];
	*d = v[2];
	return padded ? 0 : 1;
}

/* hh:mm:ss in p[0..n); end_of_day admits 24:00:00. */
static int hms_span(const char *p, size_t n, bool allow_lenient,
		    bool end_of_day, int *secs)
{
	static const int w[] = {2, 2, 2};
	int v[3];
	bool padded;

	if (split_num(p, n, ':', 3, w, v, &padded) < 0)
		return -1;
	if (!padded && !allow_lenient)
		return -1;
	if (v[1] > 59 || v[2] > 59 || v[0] > 24 ||
	    (v[0] == 24 && (!end_of_day || v[1] || v[2])))
		return -1;
	*secs = v[0] * 3600 + v[1] * 60 + v[2];
	return padded ? 0 : 1;
}

int proto_fmt_hms(const char *s, bool allow_lenient, int *secs)
{
	return hms_span(s, strlen(s), allow_lenient, false, secs);
}

size_t proto_list_count(const char *s, size_t *bad)
{
	size_t n = 1, len = 0;
	*bad = 0;
	for (const char *p = s;; p++) {
		if (*p == ',' || !*p) {
			if (len == 0 && !*bad)
				*bad = n;
			if (!*p)
				break;
			n++;
			len = 0;
		} else if (*p != ' ') {
			len++;
		}
	}
	return n;
}

/* ---------------------------------------------------------------- base64 */

/* The first up to 9 decoded bytes of s, valid base64 of len characters
 * (the first 12 characters of it are valid base64 too). */
static size_t b64_head(const char *s, size_t len, unsigned char out[9])
{
	unsigned char *d = NULL;
	size_t n = 0;

	if (b64_decode(s, len < 12 ? len : 12, &d, &n) < 0)
		return 0;
	memcpy(out, d, n);
	free(d);
	return n;
}

/* ---------------------------------------------------------------- rules */

static const proto_fmt_rule r_date[] = {
	{"format", PROTO_MUST, "a calendar date written YYYY/MM/DD, e.g. 2019/01/01"},
	{"padding", PROTO_SHOULD, "month and day have two digits (2019/06/30, not 2019/6/30)"},
};
static const proto_fmt_rule r_hms[] = {
	{"format", PROTO_MUST, "a time of day written hh:mm:ss, e.g. 19:45:10"},
	{"padding", PROTO_SHOULD, "hours, minutes and seconds have two digits"},
};
static const proto_fmt_rule r_ranges[] = {
	{"format", PROTO_MUST, "hh:mm:ss-hh:mm:ss ranges joined by ','"},
	{"max_items", PROTO_MUST, "at most 16 ranges"},
	{"empty_range", PROTO_MUST, "a range does not start where it ends"},
	{"padding", PROTO_SHOULD, "times have two-digit fields"},
	{"duplicate", PROTO_SHOULD, "each range appears once"},
};
static const proto_fmt_rule r_week[] = {
	{"format", PROTO_MUST, "weekdays 1-7 (7 = Sunday) joined by ','"},
	{"duplicate", PROTO_SHOULD, "each weekday appears once"},
};
static const proto_fmt_rule r_idlist[] = {
	{"format", PROTO_MUST, "person ids joined by ',', none empty"},
	{"max_items", PROTO_MUST, "at most 20 ids at a time"},
	{"item_len", PROTO_MUST, "each id at most 35 bytes"},
	{"spacing", PROTO_SHOULD, "no spaces around the commas (the device trims them)"},
	{"duplicate", PROTO_SHOULD, "each id appears once"},
};
static const proto_fmt_rule r_base64[] = {
	{"format", PROTO_MUST, "standard base64 (A-Z a-z 0-9 + /, '=' padding), no prefix, no line breaks"},
	{"image", PROTO_SHOULD, "decodes to a JPEG or PNG picture"},
};
static const proto_fmt_rule r_url[] = {
	{"format", PROTO_MUST, "an http:// or https:// URL with a host and no spaces"},
};
static const proto_fmt_rule r_sex[] = {
	{"enum", PROTO_MUST, "\"male\" or \"female\""},
	{"padding", PROTO_SHOULD, "no spaces around the word (the as-printed profile accepts \" male\")"},
};
static const proto_fmt_rule r_version[] = {
	{"empty", PROTO_MUST, "a version is not empty"},
	{"format", PROTO_SHOULD, "dotted numbers, optionally after a V: 1.0.1.1, V1.2.1.2"},
};
static const proto_fmt_rule r_fwversion[] = {
	{"empty", PROTO_MUST, "a version is not empty"},
	{"format", PROTO_MUST, "dotted numbers, optionally after a V: V1.2.1.2 (the device cannot compare anything else and answers error 5)"},
};
static const proto_fmt_rule r_cid[] = {
	{"format", PROTO_MUST, "1-64 printable ASCII characters, no spaces"},
};
static const proto_fmt_rule r_id[] = {
	{"format", PROTO_MUST, "a person id is not empty and holds no ',' (person_ids could not name it)"},
};
static const proto_fmt_rule r_utc[] = {
	{"plausible", PROTO_SHOULD, "a UTC time between 2000-01-01 and 2100-01-01"},
};
static const proto_fmt_rule r_tz[] = {
	{"granularity", PROTO_SHOULD, "a whole number of quarter hours (multiple of 900 s)"},
};
static const proto_fmt_rule r_deci[] = {
	{"precision", PROTO_SHOULD, "accurate to one decimal place"},
};
static const proto_fmt_rule r_seq[] = {
	{"hazard", PROTO_SHOULD, "not in the range of current UNIX times: a heartbeat sent at that second would report a false success"},
};
static const proto_fmt_rule r_percent[] = {
	{"fraction", PROTO_SHOULD, "a value on the 0-100 scale, not a fraction of 1 (70, not 0.7)"},
};
static const proto_fmt_rule r_reupmode[] = {
	{"enum", PROTO_MUST, "1 (scheduled) or 2 (idle)"},
	{"alias", PROTO_SHOULD, "§6's 1 and 2 rather than §7's table's 3 and 4"},
};

size_t proto__fmt_rules(px_fmt fmt, const proto_fmt_rule **out)
{
#define R(x) (*out = x, ARRAY_SIZE(x))
	switch (fmt) {
	case PX_DATE: return R(r_date);
	case PX_HMS: return R(r_hms);
	case PX_RANGES: return R(r_ranges);
	case PX_WEEK: return R(r_week);
	case PX_IDLIST: return R(r_idlist);
	case PX_BASE64: return R(r_base64);
	case PX_URL: return R(r_url);
	case PX_SEX: return R(r_sex);
	case PX_VERSION: return R(r_version);
	case PX_FWVERSION: return R(r_fwversion);
	case PX_CID: return R(r_cid);
	case PX_ID: return R(r_id);
	case PX_UTC: return R(r_utc);
	case PX_TZ: return R(r_tz);
	case PX_DECI: return R(r_deci);
	case PX_SEQ: return R(r_seq);
	case PX_REUPMODE: return R(r_reupmode);
	case PX_PERCENT: return R(r_percent);
	default: *out = NULL; return 0;
	}
#undef R
}

/* ---------------------------------------------------------------- checks */

#define RULE(sfx) rid(id, sizeof id, s, f, sfx)

static const char *rid(char *buf, size_t n, const proto_schema *s,
		       const proto_field *f, const char *sfx)
{
	snprintf(buf, n, "%s.%s.%s", s->name, f->key, sfx);
	return buf;
}

static proto_severity sev_of(px_fmt fmt, const char *sfx)
{
	const proto_fmt_rule *r;
	size_t n = proto__fmt_rules(fmt, &r);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(r[i].suffix, sfx))
			return r[i].sev;
	return PROTO_MUST;
}

#define REPORT(sfx, ...)                                                      \
	proto__viol(v, sev_of((px_fmt)f->fmt, sfx), RULE(sfx), NULL, __VA_ARGS__)

/* Walks the comma list s calling fn(entry, len, index) for each entry,
 * after trimming spaces; notes whether any spaces were trimmed. */
typedef struct list_walk {
	const char *e[64]; /* first entries kept for duplicate checks */
	size_t len[64];
	size_t n;
	bool spaced;
} list_walk;

static size_t walk(const char *s, list_walk *w)
{
	size_t n = 0;
	w->n = 0;
	w->spaced = false;
	for (const char *p = s;;) {
		const char *q = p + strcspn(p, ",");
		const char *a = p, *b = q;
		while (a < b && *a == ' ')
			a++;
		while (b > a && b[-1] == ' ')
			b--;
		if (a != p || b != q)
			w->spaced = true;
		if (w->n < 64) {
			w->e[w->n] = a;
			w->len[w->n] = (size_t)(b - a);
			w->n++;
		}
		n++;
		if (!*q)
			break;
		p = q + 1;
	}
	return n;
}

static long dup_of(const list_walk *w, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (w->len[j] == w->len[i] && !memcmp(w->e[j], w->e[i], w->len[i]))
			return (long)j;
	return -1;
}

static void check_ranges(proto_vctx *v, const proto_schema *s,
			 const proto_field *f, const char *str)
{
	char id[128];
	list_walk w;
	size_t n = walk(str, &w);
	bool lenient = v->prof->lenient_datetime, used_lenient = false;

	if (n > 16)
		REPORT("max_items", "%s holds %zu ranges; at most 16 allowed (%s)",
		       f->key, n, s->section);
	for (size_t i = 0; i < w.n; i++) {
		const char *e = w.e[i];
		const char *dash = memchr(e, '-', w.len[i]);
		int a, b, ra = -1, rb = -1;
		if (dash) {
			ra = hms_span(e, (size_t)(dash - e), lenient, false, &a);
			rb = hms_span(dash + 1, w.len[i] - (size_t)(dash - e) - 1,
				      lenient, true, &b);
		}
		if (ra < 0 || rb < 0 || w.spaced) {
			REPORT("format",
			       "%s entry %zu \"%.*s\" is not a range hh:mm:ss-hh:mm:ss "
			       "(e.g. 08:00:00-08:15:00; hours 00-23, minutes and "
			       "seconds 00-59, 24:00:00 only as an end%s)",
			       f->key, i + 1, (int)(w.len[i] > 40 ? 40 : w.len[i]), e,
			       w.spaced ? "; no spaces" :
			       !lenient ? "; two digits each" : "");
			return;
		}
		if (ra || rb)
			used_lenient = true;
		if (a == b) {
			REPORT("empty_range",
			       "%s entry %zu \"%.*s\" starts where it ends: it covers "
			       "no time (00:00:00-23:59:59 covers a whole day)",
			       f->key, i + 1, (int)w.len[i], e);
			return;
		}
	}
	if (used_lenient)
		REPORT("padding",
		       "%s \"%.60s\" has one-digit time fields; §5's format is "
		       "08:00:00-08:15:00",
		       f->key, str);
	for (size_t i = 0; i < w.n; i++) {
		long j = dup_of(&w, i);
		if (j >= 0) {
			REPORT("duplicate", "%s repeats \"%.*s\" (entries %ld and %zu)",
			       f->key, (int)w.len[i], w.e[i], j + 1, i + 1);
			break;
		}
	}
}

static void check_week(proto_vctx *v, const proto_schema *s,
		       const proto_field *f, const char *str)
{
	char id[128];
	list_walk w;
	size_t n = walk(str, &w);
	unsigned seen = 0;

	for (size_t i = 0; i < w.n; i++)
		if (w.spaced || w.len[i] != 1 || w.e[i][0] < '1' || w.e[i][0] > '7' ||
		    n > 7 * 4) {
			REPORT("format",
			       "%s \"%.40s\" is not a list of weekdays 1-7 joined by "
			       "',' (1 Monday .. 7 Sunday, e.g. 1,2,6,7)",
			       f->key, str);
			return;
		}
	for (size_t i = 0; i < w.n; i++) {
		unsigned bit = 1u << (w.e[i][0] - '0');
		if (seen & bit) {
			REPORT("duplicate", "%s \"%s\" lists day %c twice", f->key,
			       str, w.e[i][0]);
			return;
		}
		seen |= bit;
	}
}

static void check_idlist(proto_vctx *v, const proto_schema *s,
			 const proto_field *f, const char *str)
{
	char id[128];
	list_walk w;
	size_t n = walk(str, &w);

	if (n > 20)
		REPORT("max_items", "%s names %zu ids; at most 20 at a time (%s)",
		       f->key, n, s->section);
	for (size_t i = 0; i < w.n; i++) {
		if (w.len[i] == 0) {
			REPORT("format", "%s has an empty id at position %zu "
			       "(two commas in a row, or a comma at an end)",
			       f->key, i + 1);
			return;
		}
		if (w.len[i] > 35) {
			REPORT("item_len", "%s: id %zu is %zu bytes; ids are at "
			       "most 35 bytes (§4)",
			       f->key, i + 1, w.len[i]);
			return;
		}
	}
	if (w.spaced)
		REPORT("spacing", "%s \"%.60s\" has spaces around its commas; the "
		       "device trims them, other readers may not",
		       f->key, str);
	for (size_t i = 0; i < w.n; i++) {
		long j = dup_of(&w, i);
		if (j >= 0) {
			REPORT("duplicate", "%s names \"%.*s\" twice", f->key,
			       (int)w.len[i], w.e[i]);
			return;
		}
	}
}

static bool url_ok(const char *u)
{
	const char *h;
	if (!strncasecmp(u, "http://", 7))
		h = u + 7;
	else if (!strncasecmp(u, "https://", 8))
		h = u + 8;
	else
		return false;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	size_t hl = strcspn(h, "/?#");
	if (hl == 0)
		return false;
	const char *colon = NULL;
	for (const char *p = h; p < h + hl; p++)
		if (*p == ':' && *h != '[')
			colon = p;
	if (colon) {
		int port;
		if (!digits(colon + 1, (size_t)(h + hl - colon - 1), &port) ||
		    port < 1 || port > 65535 || colon == h)
			return false;
	}
	return true;
}

static bool version_ok(const char *s)
{
	int parts = 0;
	if (*s == 'V' || *s == 'v')
		s++;
	for (;;) {
		size_t n = strspn(s, "0123456789");
		if (n == 0 || n > 9)
			return false;
		parts++;
		s += n;
		if (!*s)
			return parts >= 1 && parts <= 6;
		if (*s++ != '.')
			return false;
	}
}

/* Three groups of digits joined by sep: the shape is right, so a failure
 * is a value that does not exist (2019/02/30, 25:00:00). */
static bool shaped(const char *s, char sep)
{
	int groups = 1;
	if (!*s)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == sep) {
			if (p == s || p[1] == '\0' || p[1] == sep)
				return false;
			groups++;
		} else if (*p < '0' || *p > '9') {
			return false;
		}
	}
	return groups == 3;
}

void proto__check_fmt(proto_vctx *v, const proto_schema *s,
		      const proto_field *f, const cJSON *it)
{
	char id[128], num[40];
	const char *str = cJSON_IsString(it) ? it->valuestring : NULL;
	double d = cJSON_IsNumber(it) ? it->valuedouble : 0;
	int a, b, c, r;
	size_t n;

	switch ((px_fmt)f->fmt) {
	case PX_NONE:
		return;
	case PX_DATE:
		r = proto_fmt_date(str, true, &a, &b, &c);
		if (r < 0 && shaped(str, '/'))
			REPORT("format", "%s \"%.40s\" names no calendar day (month "
			       "01-12, a day the month has, year 1970 or later)",
			       f->key, str);
		else if (r < 0 || (r == 1 && !v->prof->lenient_datetime))
			REPORT("format",
			       "%s \"%.40s\" is not a date written YYYY/MM/DD (e.g. "
			       "2019/01/01)%s",
			       f->key, str,
			       r == 1 ? "; month and day need two digits" : "");
		else if (r == 1)
			REPORT("padding",
			       "%s \"%s\" has a one-digit month or day; §5's format "
			       "is 2019/01/01",
			       f->key, str);
		return;
	case PX_HMS:
		r = proto_fmt_hms(str, true, &a);
		if (r < 0 && shaped(str, ':'))
			REPORT("format", "%s \"%.40s\" is no time of day (hours 00-23, "
			       "minutes and seconds 00-59)",
			       f->key, str);
		else if (r < 0 || (r == 1 && !v->prof->lenient_datetime))
			REPORT("format",
			       "%s \"%.40s\" is not a time written hh:mm:ss (e.g. "
			       "19:45:10)",
			       f->key, str);
		else if (r == 1)
			REPORT("padding", "%s \"%s\" has one-digit fields; write "
			       "hh:mm:ss", f->key, str);
		return;
	case PX_RANGES:
		check_ranges(v, s, f, str);
		return;
	case PX_WEEK:
		check_week(v, s, f, str);
		return;
	case PX_IDLIST:
		check_idlist(v, s, f, str);
		return;
	case PX_BASE64: {
		unsigned char h[9];
		size_t len = strlen(str);
		if (!b64_valid(str, len, &n)) {
			REPORT("format",
			       "%s is not standard base64 (%zu characters%s); a "
			       "picture is sent as plain base64 with '=' padding",
			       f->key, len,
			       !strncmp(str, "data:", 5) ? ", starts with a data: URI prefix" :
			       strpbrk(str, "\r\n") ? ", contains line breaks" :
			       len % 4 ? ", length not a multiple of 4" :
				       ", characters outside A-Z a-z 0-9 + /");
			return;
		}
		size_t hn = b64_head(str, len, h);
		if (!(hn >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF) &&
		    !(hn >= 4 && !memcmp(h, "\x89PNG", 4)))
			REPORT("image",
			       "%s decodes to %zu bytes that are neither JPEG nor "
			       "PNG; the device cannot use it as a face picture",
			       f->key, n);
		return;
	}
	case PX_URL:
		if (!url_ok(str))
			REPORT("format",
			       "%s \"%.60s\" is not an http:// or https:// URL with a "
			       "host (e.g. http://ccdcam.com/api/face)",
			       f->key, str);
		return;
	case PX_SEX: {
		const char *t = str;
		while (*t == ' ')
			t++;
		size_t tl = strlen(t);
		while (tl && t[tl - 1] == ' ')
			tl--;
		bool word = (tl == 4 && !strncmp(t, "male", 4)) ||
			    (tl == 6 && !strncmp(t, "female", 6));
		if (word && t == str && tl == strlen(str))
			return;
		if (word && v->prof->sex_leading_space)
			REPORT("padding", "%s \"%s\" has spaces around the word "
			       "(as printed in §4's example); write \"%.*s\"",
			       f->key, str, (int)tl, t);
		else
			REPORT("enum", "%s is \"%.40s\"; allowed: \"male\", \"female\"",
			       f->key, str);
		return;
	}
	case PX_VERSION:
	case PX_FWVERSION:
		if (!str[0])
			REPORT("empty", "%s is empty", f->key);
		else if (!version_ok(str))
			REPORT("format", "%s \"%.40s\" is not a dotted version (e.g. "
			       "1.0.1.1 or V1.2.1.2); the device cannot compare it",
			       f->key, str);
		return;
	case PX_CID: {
		size_t len = strlen(str);
		bool ok = len >= 1 && len <= 64;
		for (size_t i = 0; ok && i < len; i++)
			ok = str[i] > ' ' && str[i] < 0x7f;
		if (!ok)
			REPORT("format", "%s \"%.40s\" is not a device id: 1-64 "
			       "printable ASCII characters without spaces",
			       f->key, str);
		return;
	}
	case PX_ID:
		if (!str[0] || strchr(str, ','))
			REPORT("format", "%s %s; a person id must be non-empty and "
			       "free of ',' so that a delete's person_ids can name it",
			       f->key, str[0] ? "contains ','" : "is empty");
		return;
	case PX_UTC:
		if (d < 946684800.0 || d > 4102444800.0) {
			proto__fmt_double(num, sizeof num, d);
			REPORT("plausible", "%s %s is not a plausible UTC time in "
			       "seconds (before 2000 or after 2100)",
			       f->key, num);
		}
		return;
	case PX_TZ:
		if (fmod(d, 900.0) != 0) {
			proto__fmt_double(num, sizeof num, d);
			REPORT("granularity", "%s %s s is not a whole number of "
			       "quarter hours; time zones are multiples of 900 s "
			       "(28800 = UTC+8)",
			       f->key, num);
		}
		return;
	case PX_DECI:
		if (fabs(d * 10 - round(d * 10)) > 1e-6) {
			proto__fmt_double(num, sizeof num, d);
			REPORT("precision", "%s %s has more than one decimal place "
			       "(§4: accurate to one decimal place)",
			       f->key, num);
		}
		return;
	case PX_SEQ:
		if (d >= 946684800.0 && d <= 4102444800.0) {
			proto__fmt_double(num, sizeof num, d);
			REPORT("hazard", "%s %s looks like a UNIX time. §4's result "
			       "mechanism compares the next heartbeat's seq with "
			       "this one, and a heartbeat's seq is its send time: "
			       "if one is ever sent at that second, a failed "
			       "operation reads as a success. A counter below "
			       "946684800 avoids it",
			       f->key, num);
		}
		return;
	case PX_PERCENT:
		if (d > 0 && d < 1) {
			proto__fmt_double(num, sizeof num, d);
			REPORT("fraction", "%s %s is on the 0-100 scale (§9): %s "
			       "means %s of 100, not %.0f %%; a threshold of 70 %% "
			       "is written 70", f->key, num, num, num, d * 100);
		}
		return;
	case PX_REUPMODE:
		if (d == 1 || d == 2)
			return;
		if ((d == 3 || d == 4) && v->prof->reupload_mode_3_4)
			REPORT("alias", "%s %g is §7's table's code; §6 defines 1 "
			       "(scheduled) and 2 (idle)", f->key, d);
		else
			REPORT("enum", "%s is %g; allowed: 1 (scheduled), 2 (idle)%s",
			       f->key, d,
			       d == 3 || d == 4 ? " (3 and 4 appear in §7's table; "
						  "the as-printed profile accepts them)" : "");
		return;
	}
}
