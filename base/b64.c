/* b64.c -- standard base64 (RFC 4648): the strict check, and encoding and
 * decoding through OpenSSL's EVP blocks.  Owns no state; knows nothing of
 * pictures or of the protocol's fields. */
#include "b64.h"
#include "base_err.h"

#include <stdint.h>
#include <stdlib.h>

#include <openssl/evp.h>

/* 1 for the 64 characters of the alphabet: a load per character instead of
 * a chain of compares per character, since the check runs over every photo a
 * device or the mock handles (45 KB each, thousands a second under load) */
static const unsigned char b64_alpha[256] = {
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['+'] = 1, ['/'] = 1,
};

bool b64_valid(const char *s, size_t len, size_t *n_out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t pad = 0;
	unsigned ok = 1;

	if (len == 0 || len % 4)
		return false;
	if (s[len - 1] == '=')
		pad++;
	if (s[len - 2] == '=')
		pad++;
	/* no early exit: a branch-free AND the compiler can vectorise;
	 * invalid input is rare and costs the same */
	for (size_t i = 0; i < len - pad; i++)
		ok &= b64_alpha[u[i]];
	if (!ok)
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
