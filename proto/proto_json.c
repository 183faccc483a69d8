/* proto_json.c -- turns bytes into a cJSON tree, refusing what the
 * protocol's peers cannot take: NUL bytes, invalid UTF-8, raw control
 * characters and \u0000 inside strings, non-finite numbers, trailing data.
 * Errors say where (line, column) and what.  No I/O. */
#include "proto_int.h"
#include "utf8.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

static void where(const char *buf, size_t off, size_t *line, size_t *col)
{
	size_t l = 1, c = 1;
	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
			c++; /* count characters, not continuation bytes */
		}
	}
	*line = l;
	*col = c;
}

static int fail(char *err, size_t errlen, const char *buf, size_t off,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(char *err, size_t errlen, const char *buf, size_t off,
		const char *fmt, ...)
{
	size_t line, col;
	va_list ap;
	int n;

	if (!err || !errlen)
		return PROTO_ENOTJSON;
	where(buf, off, &line, &col);
	n = snprintf(err, errlen, "line %zu, column %zu: ", line, col);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return PROTO_ENOTJSON;
}

/* How many arrays and objects are open at buf[off] (strings skipped), so
 * that a parse that stopped at the nesting limit says so. */
static size_t nesting_at(const char *buf, size_t off)
{
	size_t depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < off; i++) {
		char c = buf[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			depth++;
		} else if ((c == ']' || c == '}') && depth) {
			depth--;
		}
	}
	return depth;
}

static int precheck(const char *buf, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)buf;
	bool in_str = false;

	for (size_t i = 0; i < len;) {
		unsigned c = p[i];
		if (c == 0)
			return fail(err, errlen, buf, i, "NUL byte (0x00) in the body");
		if (c >= 0x80) {
			size_t n = utf8_decode(p + i, len - i, NULL);
			if (!n)
				return fail(err, errlen, buf, i,
					    "invalid UTF-8 (byte 0x%02X); JSON text "
					    "must be UTF-8",
					    c);
			i += n;
			continue;
		}
		if (in_str) {
			if (c < 0x20)
				return fail(err, errlen, buf, i,
					    "raw control character 0x%02X inside a "
					    "string; it must be escaped",
					    c);
			if (c == '\\') {
				if (i + 5 < len && p[i + 1] == 'u' &&
				    !memcmp(p + i + 2, "0000", 4))
					return fail(err, errlen, buf, i,
						    "\\u0000 inside a string: a NUL "
						    "character cuts the string short "
						    "on the device");
				i += 2;
				continue;
			}
			if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		}
		i++;
	}
	return 0;
}

bool proto_json_blank(const char *buf, size_t from, size_t len)
{
	for (size_t i = from; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' && buf[i] != '\n')
			return false;
	return true;
}

/* What probably went wrong at buf[off], from the characters around it. */
static const char *hint(const char *buf, size_t len, size_t *offp)
{
	size_t off = *offp, p = off;
	char at = off < len ? buf[off] : '\0', before;

	if (off > len)
		return "";

	/* cJSON sometimes stops one past the character it rejected */
	if (off > 0 && (buf[off - 1] == '}' || buf[off - 1] == ']' ||
			buf[off - 1] == '\'') &&
	    at != '}' && at != ']') {
		at = buf[--p];
		*offp = p;
	}
	while (p > 0 && strchr(" \t\r\n", buf[p - 1]))
		p--;
	before = p > 0 ? buf[p - 1] : '\0';
	if ((at == '}' || at == ']') && before == ',')
		return ": a comma before the closing bracket (trailing comma)";
	if (at == '"' && before && strchr("\"0123456789el}]", before))
		return ": a comma is missing before this member";
	if (at == '\'' )
		return ": strings take double quotes";
	if (before == '{' || before == ',')
		return ": a member name in double quotes was expected";
	return "";
}

/* cJSON reads 1e999 as infinity and prints it as null. */
static const cJSON *non_finite(const cJSON *j)
{
	for (; j; j = j->next) {
		if (cJSON_IsNumber(j) && !isfinite(j->valuedouble))
			return j;
		if (j->child) {
			const cJSON *bad = non_finite(j->child);
			if (bad)
				return bad;
		}
	}
	return NULL;
}

int proto_json_parse(const char *buf, size_t len, cJSON **out, char *err,
		     size_t errlen)
{
	const char *end = NULL;
	cJSON *j;
	size_t i;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (proto_json_blank(buf, 0, len))
		return fail(err, errlen, buf, len, "empty body: no JSON value");
	if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
		return fail(err, errlen, buf, 0,
			    "a UTF-8 byte order mark before the JSON (RFC 8259 "
			    "§8.1: senders must not add one)");
	rc = precheck(buf, len, err, errlen);
	if (rc < 0)
		return rc;
	j = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (!j) {
		size_t off = end && end >= buf && end <= buf + len ? (size_t)(end - buf) : 0;
		size_t at = off;
		const char *why = hint(buf, len, &at);
		/* only white space after the failure: the text ends early */
		off = at == off && proto_json_blank(buf, off, len) ? len : at;
		if (nesting_at(buf, off) >= CJSON_NESTING_LIMIT)
			return fail(err, errlen, buf, off, "nested deeper than "
				    "%d levels of arrays and objects, the limit "
				    "camsim reads", CJSON_NESTING_LIMIT);
		if (off >= len)
			return fail(err, errlen, buf, len,
				    "the JSON text ends too early (truncated)");
		return fail(err, errlen, buf, off, "not valid JSON here%s", why);
	}
	if (!proto_json_blank(buf, (size_t)(end - buf), len)) {
		for (i = (size_t)(end - buf); strchr(" \t\r\n", buf[i]); i++)
			; /* stops at the first non-blank, which exists */
		cJSON_Delete(j);
		return fail(err, errlen, buf, i,
			    "data after the end of the JSON value (a second "
			    "value, or a missing comma before it?)");
	}
	if (non_finite(j)) {
		cJSON_Delete(j);
		return fail(err, errlen, buf, 0,
			    "a number is too large to represent (e.g. 1e999)");
	}
	*out = j;
	return 0;
}
