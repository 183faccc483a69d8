/* utf8.c -- utf8_decode: strict RFC 3629 decoding of one character;
 * utf8_copy: a copy cut on a character boundary.  Owns
 * no state; what a caller does with a bad byte is the caller's rule. */
#include "utf8.h"

#include <string.h>

size_t utf8_decode(const unsigned char *p, size_t left, uint32_t *cp)
{
	uint32_t v, min;
	size_t len;

	if (p[0] < 0x80) {
		v = p[0];
		len = 1;
		goto ok;
	}
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		len = 2, v = p[0] & 0x1Fu, min = 0x80;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		len = 3, v = p[0] & 0x0Fu, min = 0x800;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		len = 4, v = p[0] & 0x07u, min = 0x10000;
	else
		goto bad;
	if (left < len)
		goto bad;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			goto bad;
		v = v << 6 | (p[i] & 0x3Fu);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		goto bad;
ok:
	if (cp)
		*cp = v;
	return len;
bad:
	if (cp)
		*cp = UTF8_BAD;
	return 0;
}

size_t utf8_copy(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t n = 0, left = strlen(src);

	if (!size)
		return 0;
	while (left) {
		size_t len = utf8_decode(s + n, left, NULL);

		if (!len)
			len = 1;
		if (n + len >= size)
			break;
		n += len;
		left -= len;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
	return n;
}
