/* b64.h -- standard base64 (RFC 4648: alphabet A-Z a-z 0-9 + /, '='
 * padding, no line breaks or white space): the strict check a picture
 * field gets, encoding and decoding.  Owns no state; no notion of images. */
#ifndef CAMSIM_BASE_B64_H
#define CAMSIM_BASE_B64_H

#include "base_err.h"

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is non-empty standard base64 with its padding
 * (len a multiple of 4, no white space, no data: prefix); *n_out (may be
 * NULL) gets the decoded length.  The empty string is refused here (a
 * picture field that is empty holds no picture); b64_decode takes it. */
bool b64_valid(const char *s, size_t len, size_t *n_out);

/* Standard base64 of data[0..len): a malloc'd NUL-terminated string (the
 * caller frees it), *outlen (may be NULL) its length; NULL when out of
 * memory or data is NULL with len > 0. */
char *b64_encode(const void *data, size_t len, size_t *outlen);

/* Decodes standard base64 (as b64_valid accepts it, and also the empty
 * string, RFC 4648's encoding of nothing) into a malloc'd buffer (the
 * caller's), *outlen (may be NULL) its length.  0; BASE_EINVAL when s is
 * not valid base64 (or out is NULL), BASE_ENOMEM.  On failure *out is
 * NULL. */
int b64_decode(const char *s, size_t len, unsigned char **out,
	       size_t *outlen);

#endif
