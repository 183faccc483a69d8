/* image.c -- decoding (stb_image), the text overlay (stb_easy_font), JPEG
 * encoding (stb_image_write), base64 and SHA-256 (OpenSSL libcrypto).
 * Owns only the pixel buffers it hands out in struct img; touches no global
 * stb setting (flip, JPEG options) and does no I/O beyond img_load_file. */
#include "image.h"
#include "proto.h"
#include "sim_err.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* stb_easy_font.h is header-only, all static; it warns under our flags. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-braces"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_easy_font.h>
#include <stb_image.h>
#include <stb_image_write.h>
#pragma GCC diagnostic pop

/* img_load_file reads at most this much: no picture a scenario or a server
 * hands over comes close. */
#define IMG_FILE_MAX (64u * 1024 * 1024)
/* img_draw_text draws at most this many characters (the overlay is a time
 * stamp); this bounds the vertex buffer and keeps coordinates small. */
#define IMG_TEXT_MAX 4096
/* stb_easy_font draws each character from at most 11 quads of 64 bytes;
 * the buffer is grown if a future font ever needs more. */
#define IMG_TEXT_VBUF_PER_CHAR 1024

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The limits of image.h, in one sentence when broken; 0 when w x h is
 * acceptable. */
static int check_size(int w, int h, char *err, size_t errlen)
{
	unsigned long long n = (unsigned long long)w * (unsigned long long)h;

	if (w > IMG_MAX_SIDE || h > IMG_MAX_SIDE) {
		seterr(err, errlen, "picture is %dx%d pixels; the limit is %d per side",
		       w, h, IMG_MAX_SIDE);
		return SIM_EIMGSIZE;
	}
	if (n > IMG_MAX_PIXELS) {
		seterr(err, errlen,
		       "picture is %dx%d = %llu pixels; the limit is %u pixels",
		       w, h, n, IMG_MAX_PIXELS);
		return SIM_EIMGSIZE;
	}
	return 0;
}

/* ---------------------------------------------------------------- decode */

int img_decode(const void *data, size_t len, img *out, char *err,
	       size_t errlen)
{
	int w, h, comp, rc;
	unsigned char *px = NULL;
	size_t n;

	if (!out)
		return SIM_EINVAL;
	out->w = out->h = 0;
	out->px = NULL;
	if (!data || len == 0) {
		seterr(err, errlen, "no picture: the data is empty");
		return SIM_ENOTIMAGE;
	}
	if (len > INT_MAX) {
		seterr(err, errlen, "picture data is %zu bytes; the limit is %d bytes",
		       len, INT_MAX);
		return SIM_EIMGSIZE;
	}
	/* Header only: the size is judged before any pixel is allocated. */
	if (!stbi_info_from_memory(data, (int)len, &w, &h, &comp)) {
		seterr(err, errlen, "not a decodable picture (stb_image: %s)",
		       stbi_failure_reason());
		return SIM_ENOTIMAGE;
	}
	if (w <= 0 || h <= 0) {
		seterr(err, errlen, "picture claims a size of %dx%d pixels", w, h);
		return SIM_ENOTIMAGE;
	}
	if ((rc = check_size(w, h, err, errlen)))
		return rc;
	px = stbi_load_from_memory(data, (int)len, &w, &h, &comp, 3);
	if (!px) {
		const char *why = stbi_failure_reason();
		bool oom = why && !strcmp(why, "outofmem");
		seterr(err, errlen, "%s (stb_image: %s)",
		       oom ? "out of memory decoding the picture"
			   : "cannot decode the picture",
		       why ? why : "no reason given");
		return oom ? SIM_ENOMEM : SIM_ENOTIMAGE;
	}
	/* The decoder's size should match the header's; judged again anyway. */
	if (w <= 0 || h <= 0) {
		seterr(err, errlen, "picture decodes to %dx%d pixels", w, h);
		rc = SIM_ENOTIMAGE;
		goto out;
	}
	if ((rc = check_size(w, h, err, errlen)))
		goto out;
	/* px of image.h is plain malloc'd memory, whoever allocates it. */
	n = (size_t)w * (size_t)h * 3;
	out->px = malloc(n);
	if (!out->px) {
		seterr(err, errlen, "out of memory for a %dx%d picture", w, h);
		rc = SIM_ENOMEM;
		goto out;
	}
	memcpy(out->px, px, n);
	out->w = w;
	out->h = h;
	rc = 0;
out:
	stbi_image_free(px);
	return rc;
}

int img_load_file(const char *path, img *out, char *err, size_t errlen)
{
	FILE *f = NULL;
	unsigned char *buf = NULL, *nb;
	size_t len = 0, cap = 0, got;
	char why[256];
	int rc;

	if (!out)
		return SIM_EINVAL;
	out->w = out->h = 0;
	out->px = NULL;
	if (!path) {
		seterr(err, errlen, "no path given");
		return SIM_EINVAL;
	}
	f = fopen(path, "rb");
	if (!f) {
		seterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		rc = SIM_EIO;
		goto out;
	}
	/* Read up to one byte beyond the limit, to tell "too large" apart. */
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 64 * 1024;
			if (ncap > (size_t)IMG_FILE_MAX + 1)
				ncap = (size_t)IMG_FILE_MAX + 1;
			if (ncap == cap)
				break;
			nb = realloc(buf, ncap);
			if (!nb) {
				seterr(err, errlen, "%s: out of memory reading it", path);
				rc = SIM_ENOMEM;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		seterr(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		rc = SIM_EIO;
		goto out;
	}
	if (len > IMG_FILE_MAX) {
		seterr(err, errlen, "%s: file is larger than the limit of %u MiB",
		       path, IMG_FILE_MAX / (1024 * 1024));
		rc = SIM_EIMGSIZE;
		goto out;
	}
	rc = img_decode(buf, len, out, why, sizeof why);
	if (rc)
		seterr(err, errlen, "%s: %s", path, why);
out:
	if (f)
		fclose(f);
	free(buf);
	return rc;
}

void img_free(img *im)
{
	if (!im)
		return;
	free(im->px);
	im->px = NULL;
	im->w = im->h = 0;
}

/* ---------------------------------------------------------------- text */

/* Fills the pixels [x0,x1) x [y0,y1) that lie inside the image. */
static void fill_rect(img *im, long long x0, long long y0, long long x1,
		      long long y1, const uint8_t rgb[3])
{
	if (x0 < 0)
		x0 = 0;
	if (y0 < 0)
		y0 = 0;
	if (x1 > im->w)
		x1 = im->w;
	if (y1 > im->h)
		y1 = im->h;
	for (long long y = y0; y < y1; y++) {
		uint8_t *p = im->px + ((size_t)y * (size_t)im->w + (size_t)x0) * 3;
		for (long long x = x0; x < x1; x++, p += 3) {
			p[0] = rgb[0];
			p[1] = rgb[1];
			p[2] = rgb[2];
		}
	}
}

/* Box and glyph placement as image.h says: stb_easy_font's glyphs occupy
 * rows 0..8 of each 12-row line and end within the advance, so a box of
 * (width + 2) x (height - 1) with the glyphs one font pixel in leaves a
 * margin of at least one font pixel all round.  The vertex buffer is
 * allocated before anything is drawn, so running out of memory draws
 * nothing. */
void img_draw_text(img *im, int x, int y, int scale, const char *text)
{
	static const uint8_t box_rgb[3] = {16, 16, 16};
	static const uint8_t ink_rgb[3] = {255, 255, 255};
	char s[IMG_TEXT_MAX + 1], *vbuf = NULL;
	size_t n = 0;
	int vsize, nquads, fw, fh;
	long long ox, oy;

	if (!im || !im->px || im->w <= 0 || im->h <= 0 || !text)
		return;
	if (scale < 1)
		scale = 1;
	if (scale > 16)
		scale = 16;
	/* ASCII only: stb_easy_font indexes its table by c - 32 for c in
	 * 32..126; anything else would read outside it. */
	for (const char *p = text; *p && n < IMG_TEXT_MAX; p++)
		if (*p == '\n' || (*p >= 32 && *p <= 126))
			s[n++] = *p;
	s[n] = '\0';
	fw = stb_easy_font_width(s);
	fh = stb_easy_font_height(s);
	if (n == 0 || fw <= 0 || fh <= 1)
		goto out;
	vsize = (int)(n + 1) * IMG_TEXT_VBUF_PER_CHAR;
	for (;;) {
		vbuf = malloc((size_t)vsize);
		if (!vbuf)
			goto out;
		nquads = stb_easy_font_print(0, 0, s, NULL, vbuf, vsize);
		/* Truncated when a quad no longer fitted: grow and redo. */
		if ((long long)nquads * 64 + 64 <= vsize || vsize > INT_MAX / 2)
			break;
		free(vbuf);
		vbuf = NULL;
		vsize *= 2;
	}
	fill_rect(im, x, y, x + (long long)(fw + 2) * scale,
		  y + (long long)(fh - 1) * scale, box_rgb);
	ox = (long long)x + scale;
	oy = (long long)y + scale;
	for (int q = 0; q < nquads; q++) {
		float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
		for (int v = 0; v < 4; v++) {
			float vx, vy;
			memcpy(&vx, vbuf + q * 64 + v * 16, sizeof vx);
			memcpy(&vy, vbuf + q * 64 + v * 16 + 4, sizeof vy);
			if (v == 0 || vx < x0)
				x0 = vx;
			if (v == 0 || vy < y0)
				y0 = vy;
			if (v == 0 || vx > x1)
				x1 = vx;
			if (v == 0 || vy > y1)
				y1 = vy;
		}
		fill_rect(im, ox + (long long)x0 * scale, oy + (long long)y0 * scale,
			  ox + (long long)x1 * scale, oy + (long long)y1 * scale,
			  ink_rgb);
	}
out:
	free(vbuf);
}

/* ---------------------------------------------------------------- JPEG */

typedef struct jpeg_sink {
	unsigned char *buf;
	size_t len, cap;
	int oom;
} jpeg_sink;

static void jpeg_write(void *ctx, void *data, int size)
{
	jpeg_sink *js = ctx;
	size_t n = size > 0 ? (size_t)size : 0;

	if (js->oom || n == 0)
		return;
	if (js->cap - js->len < n) {
		size_t ncap = js->cap ? js->cap : 16 * 1024;
		unsigned char *nb;
		while (ncap - js->len < n)
			ncap *= 2;
		nb = realloc(js->buf, ncap);
		if (!nb) {
			js->oom = 1;
			return;
		}
		js->buf = nb;
		js->cap = ncap;
	}
	memcpy(js->buf + js->len, data, n);
	js->len += n;
}

int img_encode_jpeg(const img *im, int quality, unsigned char **out,
		    size_t *len)
{
	jpeg_sink js = {NULL, 0, 0, 0};
	int rc;

	if (out)
		*out = NULL;
	if (len)
		*len = 0;
	/* JPEG stores each side in 16 bits. */
	if (!im || !im->px || !out || !len || im->w <= 0 || im->h <= 0 ||
	    im->w > 65535 || im->h > 65535)
		return SIM_EINVAL;
	if (quality < 1)
		quality = 1;
	if (quality > 100)
		quality = 100;
	if (!stbi_write_jpg_to_func(jpeg_write, &js, im->w, im->h, 3, im->px,
				    quality) || js.oom || js.len == 0) {
		rc = SIM_ENOMEM; /* the arguments were checked above */
		goto out;
	}
	*out = js.buf;
	*len = js.len;
	js.buf = NULL;
	rc = 0;
out:
	free(js.buf);
	return rc;
}

/* ---------------------------------------------------------------- base64 */

/* EVP_EncodeBlock/EVP_DecodeBlock take int lengths: longer input goes in
 * chunks of whole 3-byte (4-character) groups, which concatenate. */
#define B64_CHUNK (3u * 1024 * 1024)

char *img_base64_encode(const void *data, size_t len, size_t *outlen)
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

int img_base64_decode(const char *s, size_t len, unsigned char **out,
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
		return SIM_EINVAL;
	/* RFC 4648: the empty string encodes the empty string, though
	 * proto_base64_valid (a protocol check) refuses it.  Validation first:
	 * EVP_DecodeBlock skips white space and does not check padding. */
	if (len && !proto_base64_valid(s, len, &n))
		return SIM_EINVAL;
	/* EVP_DecodeBlock writes 3 bytes per 4 characters, padding included,
	 * so the buffer holds len / 4 * 3 and the length is corrected by the
	 * number of '='. */
	buf = malloc(len ? len / 4 * 3 : 1);
	if (!buf)
		return SIM_ENOMEM;
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
			rc = SIM_EINVAL;
			goto out;
		}
		pos += (size_t)got;
		done += k;
	}
	if (pos < pad || pos - pad != n) {
		rc = SIM_EINVAL;
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

/* ---------------------------------------------------------------- SHA-256 */

void img_sha256_hex(const void *data, size_t len, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	hex[0] = '\0';
	if (!data && len)
		return;
	if (!EVP_Digest(data ? data : "", len, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != 32)
		return;
	for (unsigned int i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}
