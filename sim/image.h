/* image.h -- pictures for the simulated camera: decoding what a server or
 * a scenario hands over (stb_image), drawing the time overlay
 * (stb_easy_font), encoding the snapshot JPEG (stb_image_write), and the
 * base64 wrapping of §4.  No file I/O except img_load_file. */
#ifndef CAMSIM_IMAGE_H
#define CAMSIM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Largest picture accepted, either side, and in total pixels: bigger ones
 * are refused with SIM_EIMGSIZE before any pixel memory is allocated. */
#define IMG_MAX_SIDE 8192
#define IMG_MAX_PIXELS (40u * 1000u * 1000u)

typedef struct img {
	int w, h;       /* pixels */
	uint8_t *px;    /* w*h*3 bytes, RGB, rows top to bottom; malloc'd */
} img;

/* Decodes data[0..len) (JPEG, PNG, BMP, GIF first frame, ...) to RGB.
 * Returns 0, or SIM_ENOTIMAGE / SIM_EIMGSIZE / SIM_ENOMEM with a sentence
 * in err naming the cause (stb_image's reason, the size and the limit). */
int img_decode(const void *data, size_t len, img *out, char *err,
	       size_t errlen);
/* Reads and decodes a file; SIM_EIO (err names the path and errno) when it
 * cannot be read. */
int img_load_file(const char *path, img *out, char *err, size_t errlen);
void img_free(img *im); /* frees px, zeroes the struct */

/* Draws text (ASCII; others skipped) with its top-left corner at (x, y),
 * each font pixel a scale x scale block, on a dark backing box so that it
 * is legible on any picture; clipped to the image. */
void img_draw_text(img *im, int x, int y, int scale, const char *text);

/* JPEG of im at quality 1..100: *out malloc'd, *len bytes.  0 or
 * SIM_ENOMEM. */
int img_encode_jpeg(const img *im, int quality, unsigned char **out,
		    size_t *len);

/* Standard base64 (RFC 4648, '=' padding, no line breaks) of data: a
 * malloc'd NUL-terminated string, *outlen (may be NULL) its length; NULL
 * when out of memory. */
char *img_base64_encode(const void *data, size_t len, size_t *outlen);
/* Decodes standard base64 (as proto_base64_valid accepts it) into a
 * malloc'd buffer; SIM_EINVAL when s is not valid base64. */
int img_base64_decode(const char *s, size_t len, unsigned char **out,
		      size_t *outlen);

/* Lower-case hex SHA-256 of data into hex[65]; identifies a photo for the
 * descriptor cache. */
void img_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
