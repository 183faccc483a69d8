/* image.c -- decoding (libjpeg-turbo and libpng for untrusted pictures,
 * stb_image for trusted files), the text overlay (stb_easy_font), JPEG
 * encoding (stb_image_write).
 * Owns only the pixel buffers it hands out in struct img; touches no global
 * stb setting (flip, JPEG options) and does no I/O beyond img_load_file*. */
#include "image.h"
#include "base.h"
#include "proto.h"
#include "sim_err.h"
#include "file.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

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
 * acceptable.  Unsigned: a PNG header may claim up to 2^32 - 1 per side. */
static int check_size(unsigned long w, unsigned long h, char *err,
		      size_t errlen)
{
	unsigned long long n = (unsigned long long)w * (unsigned long long)h;

	if (w > IMG_MAX_SIDE || h > IMG_MAX_SIDE) {
		seterr(err, errlen, "picture is %lux%lu pixels; the limit is %d per side",
		       w, h, IMG_MAX_SIDE);
		return SIM_EIMGSIZE;
	}
	if (n > IMG_MAX_PIXELS) {
		seterr(err, errlen,
		       "picture is %lux%lu = %llu pixels; the limit is %u pixels",
		       w, h, n, IMG_MAX_PIXELS);
		return SIM_EIMGSIZE;
	}
	return 0;
}

/* Zeroes *out and refuses what no decoder is given: NULL, empty input and
 * more bytes than the decoders' int-sized lengths.  1 when data may go on
 * to a decoder. */
static int decode_start(const void *data, size_t len, img *out, char *err,
			size_t errlen)
{
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
	return 1;
}

/* ------------------------------------------------ decode: trusted (stb) */

int img_decode_trusted(const void *data, size_t len, img *out, char *err,
		       size_t errlen)
{
	int w, h, comp, rc;
	unsigned char *px = NULL;
	size_t n;

	if ((rc = decode_start(data, len, out, err, errlen)) <= 0)
		return rc;
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
	if ((rc = check_size((unsigned long)w, (unsigned long)h, err, errlen)))
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
	if ((rc = check_size((unsigned long)w, (unsigned long)h, err, errlen)))
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

/* ------------------------------------------ decode: untrusted (JPEG, PNG) */

/* The rule every refusal of a format states. */
#define IMG_RULE "only JPEG and PNG pictures are accepted from a server, a " \
		 "scenario, the control API or camsim recog"

/* The state of one libjpeg decode.  It lives in img_decode's frame and
 * jpeg_run, which calls setjmp, changes it only through a pointer, so
 * nothing it holds is indeterminate after the longjmp. */
typedef struct jpeg_job {
	struct jpeg_decompress_struct ci;
	struct jpeg_error_mgr jerr;
	struct jpeg_progress_mgr prog;
	jmp_buf jb;
	int rc;         /* the code a longjmp returns with */
	char why[JMSG_LENGTH_MAX + 80];
	const unsigned char *data;
	size_t len;
	uint8_t *px;    /* the RGB picture being filled; the caller frees it */
	uint8_t *row;   /* one CMYK row; the caller frees it */
} jpeg_job;

/* Ends the decode with libjpeg's message for the current msg_code. */
static void jpeg_fail(j_common_ptr c)
{
	jpeg_job *j = c->client_data;
	char msg[JMSG_LENGTH_MAX];

	(*c->err->format_message)(c, msg);
	snprintf(j->why, sizeof j->why, "cannot decode the JPEG picture "
		 "(libjpeg-turbo: %s)", msg);
	j->rc = c->err->msg_code == JERR_OUT_OF_MEMORY ? SIM_ENOMEM
						       : SIM_ENOTIMAGE;
	longjmp(j->jb, 1);
}

/* Warnings (level < 0) mean lost or invented pixels -- a truncated file
 * decodes with a grey bottom, a bad Huffman code with smeared blocks -- so
 * they refuse the picture like errors; only those that leave every pixel
 * intact pass.  Trace messages are dropped: libjpeg would print them on
 * stderr. */
static void jpeg_warn(j_common_ptr c, int level)
{
	int code = c->err->msg_code;

	if (level >= 0 || code == JWRN_EXTRANEOUS_DATA ||
	    code == JWRN_ADOBE_XFORM || code == JWRN_JFIF_MAJOR)
		return;
	jpeg_fail(c);
}

static void jpeg_quiet(j_common_ptr c)
{
	(void)c;
}

/* libjpeg calls this before each chunk of input it absorbs, so a file that
 * goes on scan after scan is stopped at the first scan over the limit. */
static void jpeg_progress(j_common_ptr c)
{
	jpeg_job *j = c->client_data;

	if (!c->is_decompressor ||
	    ((j_decompress_ptr)c)->input_scan_number <= IMG_JPEG_MAX_SCANS)
		return;
	snprintf(j->why, sizeof j->why, "progressive JPEG with more than %d "
		 "scans; the limit is %d (each scan is a pass over the whole "
		 "picture, so many of them only cost time)", IMG_JPEG_MAX_SCANS,
		 IMG_JPEG_MAX_SCANS);
	j->rc = SIM_ENOTIMAGE;
	longjmp(j->jb, 1);
}

/* libjpeg gives CMYK as stored.  Adobe's applications (the APP14 marker)
 * store it inverted, 255 meaning no ink; everyone else plainly. */
static void cmyk_row(const uint8_t *in, uint8_t *out, size_t w, bool adobe)
{
	for (size_t x = 0; x < w; x++, in += 4, out += 3) {
		unsigned k = adobe ? in[3] : 255u - in[3];
		for (int c = 0; c < 3; c++) {
			unsigned v = adobe ? in[c] : 255u - in[c];
			out[c] = (uint8_t)((v * k + 127) / 255);
		}
	}
}

/* Decodes j->data into j->px; 0, or a SIM_E code with j->why set. */
static int jpeg_run(jpeg_job *j, img *out)
{
	j_decompress_ptr ci = &j->ci;
	bool cmyk;
	size_t w, h;
	int rc;

	if (setjmp(j->jb))
		return j->rc;
	ci->err = jpeg_std_error(&j->jerr);
	j->jerr.error_exit = jpeg_fail;
	j->jerr.emit_message = jpeg_warn;
	j->jerr.output_message = jpeg_quiet;
	ci->client_data = j;
	jpeg_create_decompress(ci);
	j->prog.progress_monitor = jpeg_progress;
	ci->progress = &j->prog;
	jpeg_mem_src(ci, j->data, (unsigned long)j->len);
	jpeg_read_header(ci, TRUE);
	rc = check_size(ci->image_width, ci->image_height, j->why, sizeof j->why);
	if (rc)
		return rc;
	switch (ci->jpeg_color_space) {
	case JCS_GRAYSCALE:
	case JCS_YCbCr:
	case JCS_RGB:
		ci->out_color_space = JCS_RGB;
		cmyk = false;
		break;
	case JCS_CMYK:
	case JCS_YCCK:
		ci->out_color_space = JCS_CMYK;
		cmyk = true;
		break;
	default:
		snprintf(j->why, sizeof j->why, "JPEG picture of %d colour "
			 "components in no colour space libjpeg-turbo knows; "
			 "grey, RGB (YCbCr) and CMYK are accepted",
			 ci->num_components);
		return SIM_ENOTIMAGE;
	}
	jpeg_start_decompress(ci);
	w = ci->output_width;
	h = ci->output_height;
	j->px = malloc(w * h * 3);
	if (!j->px || (cmyk && !(j->row = malloc(w * 4)))) {
		snprintf(j->why, sizeof j->why, "out of memory for a %zux%zu "
			 "picture", w, h);
		return SIM_ENOMEM;
	}
	while (ci->output_scanline < h) {
		uint8_t *dst = j->px + (size_t)ci->output_scanline * w * 3;
		JSAMPROW row = cmyk ? j->row : dst;
		/* The memory source never suspends: 0 rows cannot happen. */
		if (jpeg_read_scanlines(ci, &row, 1) != 1) {
			snprintf(j->why, sizeof j->why, "cannot decode the JPEG "
				 "picture (libjpeg-turbo: no row %zu)",
				 (size_t)ci->output_scanline);
			return SIM_ENOTIMAGE;
		}
		if (cmyk)
			cmyk_row(j->row, dst, w, ci->saw_Adobe_marker);
	}
	/* Reads on to EOI, so that a picture cut after its last row is
	 * refused like any other truncated one. */
	jpeg_finish_decompress(ci);
	out->w = (int)w;
	out->h = (int)h;
	out->px = j->px;
	j->px = NULL;
	return 0;
}

static int decode_jpeg(const void *data, size_t len, img *out, char *err,
		       size_t errlen)
{
	jpeg_job *j = calloc(1, sizeof *j);
	int rc;

	if (!j) {
		seterr(err, errlen, "out of memory decoding a JPEG picture");
		return SIM_ENOMEM;
	}
	j->data = data;
	j->len = len;
	rc = jpeg_run(j, out);
	if (rc)
		seterr(err, errlen, "%s", j->why);
	/* Safe on a half-created decompressor: it frees only what it has. */
	jpeg_destroy_decompress(&j->ci);
	free(j->px);
	free(j->row);
	free(j);
	return rc;
}

/* The state of one libpng decode; as jpeg_job, kept out of the frame of the
 * function that calls setjmp. */
typedef struct png_job {
	png_structp png;
	png_infop info;
	int rc;
	char why[320];
	const unsigned char *data;
	size_t len, pos;
	uint8_t *px;            /* the caller frees it */
	png_bytep *rows;        /* the caller frees it */
} png_job;

static void png_fail(png_structp p, png_const_charp msg)
{
	png_job *j = png_get_error_ptr(p);

	snprintf(j->why, sizeof j->why, "cannot decode the PNG picture "
		 "(libpng: %s)", msg);
	png_longjmp(p, 1);
}

/* libpng warns of things it has recovered from (a bad ancillary chunk);
 * the pixels are whole.  Its default would print on stderr. */
static void png_quiet(png_structp p, png_const_charp msg)
{
	(void)p;
	(void)msg;
}

static void png_read_mem(png_structp p, png_bytep dst, size_t n)
{
	png_job *j = png_get_io_ptr(p);

	if (j->len - j->pos < n)
		png_error(p, "the data ends early: the file is truncated");
	memcpy(dst, j->data + j->pos, n);
	j->pos += n;
}

/* Decodes j->data into j->px; 0, or a SIM_E code with j->why set. */
static int png_run(png_job *j, img *out)
{
	png_uint_32 w, h;
	int depth, type;

	j->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, j, png_fail,
					png_quiet);
	if (!j->png || !(j->info = png_create_info_struct(j->png))) {
		snprintf(j->why, sizeof j->why, "out of memory decoding a PNG picture");
		return SIM_ENOMEM;
	}
	if (setjmp(png_jmpbuf(j->png)))
		return j->rc ? j->rc : SIM_ENOTIMAGE;
	png_set_read_fn(j->png, j, png_read_mem);
	/* img_decode judged the IHDR already; this bounds libpng by itself. */
	png_set_user_limits(j->png, IMG_MAX_SIDE, IMG_MAX_SIDE);
	png_read_info(j->png, j->info);
	png_get_IHDR(j->png, j->info, &w, &h, &depth, &type, NULL, NULL, NULL);
	if ((j->rc = check_size(w, h, j->why, sizeof j->why)))
		return j->rc;
	/* The pixels stb_image gives for the same file: 8-bit RGB, 16-bit
	 * samples cut to their high byte, alpha dropped, no gamma applied. */
	png_set_palette_to_rgb(j->png);
	png_set_expand_gray_1_2_4_to_8(j->png);
	png_set_strip_16(j->png);
	png_set_strip_alpha(j->png);
	png_set_gray_to_rgb(j->png);
	(void)png_set_interlace_handling(j->png);
	png_read_update_info(j->png, j->info);
	if (png_get_channels(j->png, j->info) != 3 ||
	    png_get_bit_depth(j->png, j->info) != 8 ||
	    png_get_rowbytes(j->png, j->info) != (size_t)w * 3)
		png_error(j->png, "the picture does not convert to 8-bit RGB");
	j->px = malloc((size_t)w * h * 3);
	j->rows = malloc((size_t)h * sizeof *j->rows);
	if (!j->px || !j->rows) {
		j->rc = SIM_ENOMEM;
		png_error(j->png, "out of memory for the pixels");
	}
	for (size_t y = 0; y < h; y++)
		j->rows[y] = j->px + y * (size_t)w * 3;
	png_read_image(j->png, j->rows);
	/* Reads on to IEND: a file cut after its image data is truncated
	 * too, and the CRCs of the chunks after it are checked. */
	png_read_end(j->png, NULL);
	out->w = (int)w;
	out->h = (int)h;
	out->px = j->px;
	j->px = NULL;
	return 0;
}

static int decode_png(const void *data, size_t len, img *out, char *err,
		      size_t errlen)
{
	const unsigned char *p = data;
	png_job *j;
	int rc;

	/* PNG puts IHDR first (bytes 8..32): the size is judged from it
	 * before libpng reads anything, so a header that claims a huge
	 * picture is refused for its size whatever follows. */
	if (len >= 24 && !memcmp(p + 12, "IHDR", 4)) {
		unsigned long w = (unsigned long)p[16] << 24 | p[17] << 16 |
				  p[18] << 8 | p[19];
		unsigned long h = (unsigned long)p[20] << 24 | p[21] << 16 |
				  p[22] << 8 | p[23];
		if ((rc = check_size(w, h, err, errlen)))
			return rc;
	}
	if (!(j = calloc(1, sizeof *j))) {
		seterr(err, errlen, "out of memory decoding a PNG picture");
		return SIM_ENOMEM;
	}
	j->data = data;
	j->len = len;
	rc = png_run(j, out);
	if (rc)
		seterr(err, errlen, "%s", j->why);
	png_destroy_read_struct(&j->png, &j->info, NULL);
	free(j->px);
	free(j->rows);
	free(j);
	return rc;
}

/* The format data's first bytes announce, for the refusal; NULL when they
 * announce none camsim knows of. */
static const char *format_name(const unsigned char *p, size_t len)
{
#define MAGIC(at, lit, name) {at, lit, sizeof(lit) - 1, name}
	static const struct {
		size_t at;
		const char *magic;
		size_t n;
		const char *name;
	} known[] = {
		MAGIC(0, "BM", "BMP"),
		MAGIC(0, "GIF8", "GIF"),
		MAGIC(0, "8BPS", "Photoshop (PSD)"),
		MAGIC(0, "#?RADIANCE", "Radiance HDR"),
		MAGIC(0, "#?RGBE", "Radiance HDR"),
		MAGIC(0, "\x53\x80\xf6\x34", "Softimage PIC"),
		MAGIC(0, "II*\0", "TIFF"),
		MAGIC(0, "MM\0*", "TIFF"),
		MAGIC(8, "WEBP", "WebP"),
		MAGIC(4, "ftypavif", "AVIF"),
		MAGIC(4, "ftyphei", "HEIF"),
		MAGIC(4, "ftypmif1", "HEIF"),
		MAGIC(0, "\xff\x0a", "JPEG XL"),
		MAGIC(4, "JXL ", "JPEG XL"),
		MAGIC(4, "jP  ", "JPEG 2000"),
		MAGIC(0, "\xff\x4f\xff\x51", "JPEG 2000"),
		MAGIC(0, "\0\0\1\0", "Windows icon (ICO)"),
	};
#undef MAGIC

	/* PNM: P1..P7 and a white-space character. */
	if (len >= 3 && p[0] == 'P' && p[1] >= '1' && p[1] <= '7' &&
	    (p[2] == ' ' || p[2] == '\t' || p[2] == '\n' || p[2] == '\r'))
		return "PNM (PBM, PGM, PPM or PAM)";
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (len >= known[i].at + known[i].n &&
		    !memcmp(p + known[i].at, known[i].magic, known[i].n))
			return known[i].name;
	return NULL;
}

int img_decode(const void *data, size_t len, img *out, char *err,
	       size_t errlen)
{
	const unsigned char *p = data;
	const char *name;
	int rc;

	if ((rc = decode_start(data, len, out, err, errlen)) <= 0)
		return rc;
	/* SOI and the first byte of a marker; libjpeg explains the rest. */
	if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
		return decode_jpeg(data, len, out, err, errlen);
	/* The first half of the signature: a damaged rest is libpng's to
	 * name ("PNG file corrupted by ASCII conversion"). */
	if (len >= 4 && !memcmp(p, "\x89PNG", 4))
		return decode_png(data, len, out, err, errlen);
	name = format_name(p, len);
	if (name) {
		seterr(err, errlen, "a %s picture is refused: " IMG_RULE, name);
	} else {
		char hex[3 * 4 + 1] = "";
		for (size_t i = 0, at = 0; i < len && i < 4; i++)
			at += (size_t)snprintf(hex + at, sizeof hex - at, "%s%02x",
					       i ? " " : "", p[i]);
		seterr(err, errlen, "not a JPEG or PNG picture (its first bytes "
		       "are %s): " IMG_RULE, hex);
	}
	return SIM_ENOTIMAGE;
}

/* The whole file at path, at most IMG_FILE_MAX bytes, into *buf (malloc'd,
 * the caller frees it, also on failure); base_read_file's codes as SIM_E*. */
static int read_file(const char *path, unsigned char **buf, size_t *len,
		     char *err, size_t errlen)
{
	char *b;
	int rc = base_read_file(NULL, path, IMG_FILE_MAX, &b, len, err, errlen);

	*buf = (unsigned char *)b;
	if (rc == BASE_ETOOBIG)
		seterr(err, errlen, "%s: file is larger than the limit of %u MiB",
		       path, IMG_FILE_MAX / (1024 * 1024));
	return rc == 0 ? 0 : rc == BASE_ENOMEM ? SIM_ENOMEM
	       : rc == BASE_ETOOBIG ? SIM_EIMGSIZE
	       : rc == BASE_EINVAL ? SIM_EINVAL : SIM_EIO;
}

typedef int (*img_decoder)(const void *, size_t, img *, char *, size_t);

static int load_file(const char *path, img_decoder dec, img *out, char *err,
		     size_t errlen)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	char why[600];
	int rc;

	if (!out)
		return SIM_EINVAL;
	out->w = out->h = 0;
	out->px = NULL;
	rc = read_file(path, &buf, &len, err, errlen);
	if (rc < 0)
		goto out;
	rc = dec(buf, len, out, why, sizeof why);
	if (rc)
		seterr(err, errlen, "%s: %s", path, why);
out:
	free(buf);
	return rc;
}

int img_load_file(const char *path, img *out, char *err, size_t errlen)
{
	return load_file(path, img_decode, out, err, errlen);
}

int img_load_file_trusted(const char *path, img *out, char *err,
			  size_t errlen)
{
	return load_file(path, img_decode_trusted, out, err, errlen);
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
