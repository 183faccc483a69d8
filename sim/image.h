/* image.h -- pictures for the simulated camera: decoding what a server, a
 * scenario, the control API or `camsim recog` hands over (libjpeg-turbo,
 * libpng; JPEG and PNG only) and repository files (stb_image), drawing the
 * time overlay (stb_easy_font), encoding the snapshot JPEG
 * (stb_image_write); base64 and SHA-256 are base/'s (b64.h, sha256.h).
 * No file I/O except img_load_file* (through base_read_file).  docs/pictures.md says which decoder sees what, and why. */
#ifndef CAMSIM_IMAGE_H
#define CAMSIM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Largest picture accepted, either side, and in total pixels: bigger ones
 * are refused with SIM_EIMGSIZE before any pixel memory is allocated. */
#define IMG_MAX_SIDE 8192
#define IMG_MAX_PIXELS (40u * 1000u * 1000u)
/* A progressive JPEG is decoded scan by scan over the whole picture, so a
 * crafted one of thousands of tiny scans keeps the decoder busy for
 * minutes (libjpeg-turbo's docs, "progressive JPEG images and DoS"); real
 * encoders write about 10.  More are refused with SIM_ENOTIMAGE. */
#define IMG_JPEG_MAX_SCANS 100

typedef struct img {
	int w, h;       /* pixels */
	uint8_t *px;    /* w*h*3 bytes, RGB, rows top to bottom; malloc'd */
} img;

/* Decodes untrusted data[0..len) -- anything a server, a scenario, the
 * control API or `camsim recog` hands over -- to RGB: JPEG with
 * libjpeg-turbo, PNG with libpng, decoders fuzzed continuously; every other
 * format is refused, naming it.  The size is judged from the header before
 * any pixel memory is allocated; a progressive JPEG of more than
 * IMG_JPEG_MAX_SCANS scans, a truncated or corrupt picture are refused.
 * Returns 0, or SIM_ENOTIMAGE / SIM_EIMGSIZE / SIM_ENOMEM with a sentence in
 * err naming the cause (the format and the rule, libjpeg's or libpng's
 * reason, the size and the limit).  Empty input is SIM_ENOTIMAGE; len >
 * INT_MAX is SIM_EIMGSIZE.  On failure *out is zeroed.  err may be NULL
 * (errlen 0).  Thread-safe. */
int img_decode(const void *data, size_t len, img *out, char *err,
	       size_t errlen);
/* The same contract for pictures camsim trusts: files in the repository or
 * pinned by checksum (the recognition golden tests, make faces' demo
 * photos), whose reference data was made from stb_image's pixels.  Any
 * format stb_image knows (JPEG, PNG, BMP, GIF first frame, ...); stb_image
 * 2.27 has known crashes on crafted input, so never for anything else. */
int img_decode_trusted(const void *data, size_t len, img *out, char *err,
		       size_t errlen);
/* Reads and decodes a file (img_decode: untrusted); SIM_EIO (err names the
 * path and errno) when it cannot be read, SIM_EIMGSIZE when it is over 64
 * MiB; otherwise as img_decode, with err prefixed by the path. */
int img_load_file(const char *path, img *out, char *err, size_t errlen);
/* The same with img_decode_trusted: repository and pinned files only. */
int img_load_file_trusted(const char *path, img *out, char *err,
			  size_t errlen);
void img_free(img *im); /* frees px, zeroes the struct */

/* Draws text (ASCII; others skipped) with its top-left corner at (x, y),
 * each font pixel a scale x scale block (scale clamped to 1..16), white on
 * a dark backing box so that it is legible on any picture; clipped to the
 * image, any x and y allowed.  The box is (stb_easy_font_width + 2) x
 * (stb_easy_font_height - 1) font pixels from (x, y), of the text with the
 * skipped characters removed; the glyphs start one font pixel in, so the
 * box keeps a margin of one font pixel.  Only the first 4096 characters
 * kept are drawn; nothing when none is (or when out of memory). */
void img_draw_text(img *im, int x, int y, int scale, const char *text);

/* JPEG of im at quality 1..100 (clamped): *out malloc'd, *len bytes.  0,
 * SIM_EINVAL (no pixels, a side of 0 or over 65535, NULL out or len) or
 * SIM_ENOMEM. */
int img_encode_jpeg(const img *im, int quality, unsigned char **out,
		    size_t *len);

#endif
