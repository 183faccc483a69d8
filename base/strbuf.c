/* strbuf.c -- the growing string of strbuf.h: doubling growth, a sticky
 * out-of-memory flag.  Owns nothing but the buffer it grows. */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_add(strbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (n > (size_t)-1 / 2 - b->n) {
		b->oom = true; /* cannot be allocated; doubling would wrap */
		return;
	}
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;
		while (cap < b->n + n + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void strbuf_str(strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}

void strbuf_printf(strbuf *b, const char *fmt, ...)
{
	char small[512], *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		strbuf_add(b, small, (size_t)n);
		return;
	}
	if (!(big = malloc((size_t)n + 1))) {
		b->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	strbuf_add(b, big, (size_t)n);
	free(big);
}

void strbuf_html(strbuf *b, const char *s)
{
	const char *run = s;

	for (; s && *s; s++) {
		const char *ent = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" :
				  *s == '>' ? "&gt;" : *s == '"' ? "&quot;" :
				  *s == '\'' ? "&#39;" : NULL;
		if (!ent)
			continue;
		strbuf_add(b, run, (size_t)(s - run));
		strbuf_str(b, ent);
		run = s + 1;
	}
	if (s)
		strbuf_add(b, run, (size_t)(s - run));
}
