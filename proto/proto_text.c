/* proto_text.c -- text from outside (a device, a server, a file) made safe
 * for a terminal or a log: control characters and broken UTF-8 become
 * visible escapes.  Pure; knows nothing of where the text is printed. */
#include "proto.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t proto_esc_text(char *out, size_t outlen, const char *s, size_t n,
		      bool keep_nl)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t need = 0, w = 0;
	bool full = false;

	if (!s)
		n = 0;
	for (size_t i = 0; i < n;) {
		char esc[8];
		const char *piece = esc;
		size_t len, adv;
		unsigned c = p[i];
		size_t u = utf8_decode(p + i, n - i, NULL);

		if (c == '\n' && keep_nl) {
			piece = "\n", len = 1, adv = 1;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			esc[0] = '\\';
			esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			len = 2, adv = 1;
		} else if (c < 0x20 || c == 0x7F || !u) {
			len = (size_t)snprintf(esc, sizeof esc, "\\x%02X", c);
			adv = 1;
		} else if (u == 2 && c == 0xC2 && p[i + 1] < 0xA0) {
			len = (size_t)snprintf(esc, sizeof esc, "\\u%04X",
					       (unsigned)p[i + 1]);
			adv = 2;
		} else {
			piece = (const char *)p + i, len = u, adv = u;
		}
		if (!full && outlen && w + len < outlen) {
			memcpy(out + w, piece, len);
			w += len;
		} else {
			full = true;
		}
		need += len;
		i += adv;
	}
	if (outlen)
		out[w] = '\0';
	return need;
}

char *proto_esc_dup(const char *s, bool keep_nl)
{
	size_t n = s ? strlen(s) : 0;
	size_t need = proto_esc_text(NULL, 0, s, n, keep_nl);
	char *out = malloc(need + 1);

	if (out)
		proto_esc_text(out, need + 1, s, n, keep_nl);
	return out;
}
