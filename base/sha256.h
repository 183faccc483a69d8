/* sha256.h -- SHA-256 of a buffer as lower-case hex (libcrypto does the
 * hashing).  Owns no state; used to identify pictures and files. */
#ifndef CAMSIM_BASE_SHA256_H
#define CAMSIM_BASE_SHA256_H

#include <stddef.h>

/* Lower-case hex SHA-256 of data[0..len) into hex[65] (NUL-terminated);
 * data may be NULL when len is 0.  hex is "" if libcrypto fails (it
 * should not) or data is NULL with len > 0. */
void sha256_hex(const void *data, size_t len, char hex[65]);

#endif
