/* utf8.h -- the one UTF-8 decoder (RFC 3629) that the JSON checks, the
 * text sanitiser and the report writers share.  Pure functions; no
 * allocation, no notion of JSON, XML or terminals. */
#ifndef CAMSIM_BASE_UTF8_H
#define CAMSIM_BASE_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_BAD UINT32_MAX /* *cp of a byte that starts no valid sequence */

/* Length (1..4) of the valid UTF-8 sequence at p, with its code point in
 * *cp (cp may be NULL); left > 0 bytes are readable at p.  0, with *cp =
 * UTF8_BAD, when p[0] does not start one: a stray continuation byte, a
 * sequence cut short (by a wrong byte or by left), an overlong form, a
 * surrogate (U+D800..U+DFFF) or a code point beyond U+10FFFF.  A caller
 * that resynchronises skips that one byte. */
size_t utf8_decode(const unsigned char *p, size_t left, uint32_t *cp);

/* Copies the NUL-terminated src into dst (size > 0 bytes, always
 * NUL-terminated), cut before the first character that does not fit, so
 * a fixed-size field never ends inside a character.  A byte that starts
 * no valid sequence is copied as one byte (it is the caller's text, not
 * ours to judge).  Returns the bytes copied (without the NUL). */
size_t utf8_copy(char *dst, size_t size, const char *src);

#endif
