/* strbuf.h -- a growing NUL-terminated string for answers, logs and
 * templates.  Owns only its buffer; knows nothing of what is written (no
 * JSON, no protocol); HTML escaping is the one encoding it offers. */
#ifndef CAMSIM_BASE_STRBUF_H
#define CAMSIM_BASE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

/* Zero-initialise ({0}) to start.  Every append is a no-op after an
 * allocation failure, which oom records, so a builder checks once at the
 * end.  p is NUL-terminated whenever it is not NULL; the caller frees p. */
typedef struct strbuf {
	char *p;
	size_t n, cap; /* bytes used (NUL not counted), allocated */
	bool oom;
} strbuf;

/* Appends s[0..n) (may hold NUL bytes; s may be NULL when n is 0). */
void strbuf_add(strbuf *b, const char *s, size_t n);
/* Appends the C string s. */
void strbuf_str(strbuf *b, const char *s);
/* Appends printf's output. */
void strbuf_printf(strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends s with & < > " ' as HTML entities (NULL: nothing). */
void strbuf_html(strbuf *b, const char *s);

#endif
