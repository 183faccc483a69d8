/* b64.c -- standard base64 (RFC 4648): the strict check, and encoding and
 * decoding through OpenSSL's EVP blocks.  Owns no state; knows nothing of
 * pictures or of the protocol's fields. */
#include "b64.h"
#include "base_err.h"

#include <stdint.h>
#include <stdlib.h>

#include <openssl/evp.h>

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

bool b64_valid(const char *s, size_t len, size_t *n_out)
{
	size_t pad = 0;
	if (len == 0 || len % 4)
		return false;
	if (s[len - 1] == '=')
		pad++;
	if (s[len - 2] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++)
		if (b64val((unsigned char)s[i]) < 0)
			return false;
	if (n_out)
		*n_out = len / 4 * 3 - pad;
	return true;
}

/* EVP_EncodeBlock/EVP_DecodeBlock take int lengths: longer input goes in
 * chunks of whole 3-byte (4-character) groups, which concatenate. */
#define B64_CHUNK (3u * 1024 * 1024)

char *b64_encode(const void *data, size_t len, size_t *outlen)
{
	const unsigned char *in = data;
	char *s;
	size_t n, done = 0, pos = 0;

	if (outlen)
		*outlen = 0;
	if (!data && len)
		return NULL;
	if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	n = (len + 2) / 3 * 4;
	s = malloc(n + 1);
	if (!s)
		return NULL;
	while (done < len) {
		size_t k = len - done < B64_CHUNK ? len - done : B64_CHUNK;
		pos += (size_t)EVP_EncodeBlock((unsigned char *)s + pos, in + done,
					       (int)k);
		done += k;
	}
	s[pos] = '\0';
	if (outlen)
		*outlen = pos;
	return s;
}

int b64_decode(const char *s, size_t len, unsigned char **out,
		      size_t *outlen)
{
	unsigned char *buf = NULL;
	size_t n = 0, pad = 0, done = 0, pos = 0;
	int rc;

	if (out)
		*out = NULL;
	if (outlen)
		*outlen = 0;
	if (!out || (!s && len))
		return BASE_EINVAL;
	/* RFC 4648: the empty string encodes the empty string, though
	 * b64_valid (a check of a picture) refuses it.  Validation first:
	 * EVP_DecodeBlock skips white space and does not check padding. */
	if (len && !b64_valid(s, len, &n))
		return BASE_EINVAL;
	/* EVP_DecodeBlock writes 3 bytes per 4 characters, padding included,
	 * so the buffer holds len / 4 * 3 and the length is corrected by the
	 * number of '='. */
	buf = malloc(len ? len / 4 * 3 : 1);
	if (!buf)
		return BASE_ENOMEM;
	if (len && s[len - 1] == '=')
		pad++;
	if (len && s[len - 2] == '=')
		pad++;
	while (done < len) {
		size_t k = len - done < B64_CHUNK / 3 * 4 ? len - done
							  : B64_CHUNK / 3 * 4;
		int got = EVP_DecodeBlock(buf + pos, (const unsigned char *)s + done,
					  (int)k);
		if (got < 0) {
			rc = BASE_EINVAL;
			goto out;
		}
		pos += (size_t)got;
		done += k;
	}
	if (pos < pad || pos - pad != n) {
		rc = BASE_EINVAL;
		goto out;
	}
	*out = buf;
	if (outlen)
		*outlen = n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	return rc;
}
