/* check_image.c -- sim/image.c: decoding the fixtures of fixtures/images
 * (exact pixels, refusals and their codes), the hostile pictures of
 * fixtures/images/hostile refused with their reasons on the untrusted path,
 * the trusted (stb_image) path, the JPEG round trip, the text overlay (its
 * box, skipping, clipping).  base64 and SHA-256: check_base. */
#include "image.h"
#include "sim_err.h"
#include "testutil.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-braces"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

/* fixtures/images/<name> under the repository root. */
static const char *fx(const char *name)
{
	static char path[1024];
	snprintf(path, sizeof path, "%s/fixtures/images/%s", tu_root(), name);
	return path;
}

/* Decodes a fixture from memory; returns img_decode's code. */
static int decode_fixture(const char *name, img *im, char *err, size_t errlen)
{
	size_t len;
	char *buf = tu_read(fx(name), &len);
	int rc;

	ck_assert_msg(buf != NULL, "cannot read %s", fx(name));
	rc = img_decode(buf, len, im, err, errlen);
	free(buf);
	return rc;
}

/* The pixels make.py writes into rgb_4x3.png and rgb_4x3.bmp. */
static void rgb_pixel(int x, int y, uint8_t p[3])
{
	p[0] = (uint8_t)(10 + 60 * x);
	p[1] = (uint8_t)(20 + 100 * y);
	p[2] = (uint8_t)(250 - 40 * x - 30 * y);
}

static void assert_rgb_4x3(const img *im, const char *what)
{
	ck_assert_int_eq(im->w, 4);
	ck_assert_int_eq(im->h, 3);
	for (int y = 0; y < 3; y++)
		for (int x = 0; x < 4; x++) {
			uint8_t want[3];
			const uint8_t *p = im->px + (y * 4 + x) * 3;
			rgb_pixel(x, y, want);
			ck_assert_msg(!memcmp(p, want, 3),
				      "%s (%d,%d): got %u,%u,%u want %u,%u,%u", what,
				      x, y, p[0], p[1], p[2], want[0], want[1], want[2]);
		}
}

static void assert_refused(int rc, int want, const img *im, const char *err)
{
	ck_assert_int_eq(rc, want);
	ck_assert_ptr_null(im->px);
	ck_assert_int_eq(im->w, 0);
	ck_assert_int_eq(im->h, 0);
	ck_assert_msg(strlen(err) > 10, "no sentence in err: \"%s\"", err);
}

/* ---------------------------------------------------------------- decode */

START_TEST(png_decodes_to_its_known_pixel_values)
{
	img im;
	char err[256] = "";

	ck_assert_int_eq(decode_fixture("rgb_4x3.png", &im, err, sizeof err), 0);
	assert_rgb_4x3(&im, "rgb_4x3.png");
	img_free(&im);
	ck_assert_ptr_null(im.px);
	ck_assert_int_eq(im.w, 0);
}
END_TEST

/* The rule every refusal of a format states (image.c's IMG_RULE). */
#define RULE "only JPEG and PNG pictures are accepted from a server, a " \
	     "scenario, the control API or camsim recog"

START_TEST(bmp_decodes_on_the_trusted_path_only)
{
	img im;
	char err[512] = "";

	ck_assert_int_eq(img_load_file_trusted(fx("rgb_4x3.bmp"), &im, err,
					       sizeof err), 0);
	assert_rgb_4x3(&im, "rgb_4x3.bmp, trusted");
	img_free(&im);
	assert_refused(decode_fixture("rgb_4x3.bmp", &im, err, sizeof err),
		       SIM_ENOTIMAGE, &im, err);
	ck_assert_str_eq(err, "a BMP picture is refused: " RULE);
}
END_TEST

START_TEST(grayscale_png_expands_to_rgb)
{
	static const uint8_t gray[6] = {0, 128, 255, 17, 34, 51};
	img im;
	char err[256] = "";

	ck_assert_int_eq(decode_fixture("gray_3x2.png", &im, err, sizeof err), 0);
	ck_assert_int_eq(im.w, 3);
	ck_assert_int_eq(im.h, 2);
	for (int i = 0; i < 6; i++) {
		ck_assert_uint_eq(im.px[i * 3], gray[i]);
		ck_assert_uint_eq(im.px[i * 3 + 1], gray[i]);
		ck_assert_uint_eq(im.px[i * 3 + 2], gray[i]);
	}
	img_free(&im);
}
END_TEST

START_TEST(truncated_png_is_not_an_image)
{
	img im;
	char err[256] = "";

	assert_refused(decode_fixture("truncated.png", &im, err, sizeof err),
		       SIM_ENOTIMAGE, &im, err);
	ck_assert_str_eq(err, "cannot decode the PNG picture (libpng: the data "
			      "ends early: the file is truncated)");
}
END_TEST

START_TEST(text_file_named_jpg_is_not_an_image)
{
	img im;
	char err[512] = "";

	assert_refused(img_load_file(fx("photo.jpg"), &im, err, sizeof err),
		       SIM_ENOTIMAGE, &im, err);
	ck_assert_msg(strstr(err, fx("photo.jpg")), "path not named: %s", err);
	ck_assert_msg(strstr(err, ": not a JPEG or PNG picture (its first bytes "
			      "are 54 68 69 73): " RULE), "no reason in: %s", err);
}
END_TEST

START_TEST(empty_input_is_not_an_image)
{
	img im;
	char err[512] = "";

	assert_refused(img_load_file(fx("empty.jpg"), &im, err, sizeof err),
		       SIM_ENOTIMAGE, &im, err);
	err[0] = '\0';
	assert_refused(img_decode("x", 0, &im, err, sizeof err), SIM_ENOTIMAGE,
		       &im, err);
	err[0] = '\0';
	assert_refused(img_decode(NULL, 10, &im, err, sizeof err), SIM_ENOTIMAGE,
		       &im, err);
	/* No room for a sentence is not an error of its own. */
	ck_assert_int_eq(img_decode(NULL, 0, &im, NULL, 0), SIM_ENOTIMAGE);
}
END_TEST

START_TEST(oversize_pictures_are_refused_by_their_header)
{
	img im;
	char err[256] = "";

	/* Header-only PNGs: no IDAT, so a decode attempt would say "not an
	 * image"; SIM_EIMGSIZE proves the size was judged first. */
	assert_refused(decode_fixture("huge_9000x9000.png", &im, err, sizeof err),
		       SIM_EIMGSIZE, &im, err);
	ck_assert_str_eq(err, "picture is 9000x9000 pixels; the limit is 8192 per side");
	assert_refused(decode_fixture("wide_8193x1.png", &im, err, sizeof err),
		       SIM_EIMGSIZE, &im, err);
	ck_assert_str_eq(err, "picture is 8193x1 pixels; the limit is 8192 per side");
	assert_refused(decode_fixture("many_8000x6000.png", &im, err, sizeof err),
		       SIM_EIMGSIZE, &im, err);
	ck_assert_str_eq(err, "picture is 8000x6000 = 48000000 pixels; the limit "
			      "is 40000000 pixels");
	/* More bytes than stb_image can address: refused before reading. */
	assert_refused(img_decode("x", (size_t)INT_MAX + 1, &im, err, sizeof err),
		       SIM_EIMGSIZE, &im, err);
}
END_TEST

START_TEST(load_file_decodes_a_fixture)
{
	img im;
	char err[256] = "";

	ck_assert_int_eq(img_load_file(fx("rgb_4x3.png"), &im, err, sizeof err), 0);
	assert_rgb_4x3(&im, "rgb_4x3.png via img_load_file");
	img_free(&im);
	img_free(&im); /* twice is harmless */
	img_free(NULL);
}
END_TEST

START_TEST(load_file_of_a_missing_path_is_an_io_error_naming_it)
{
	const char *path = "fixtures/images/no-such-picture.png";
	img im;
	char err[512] = "";

	assert_refused(img_load_file(path, &im, err, sizeof err), SIM_EIO, &im, err);
	ck_assert_msg(strstr(err, path), "path not named: %s", err);
	ck_assert_msg(strstr(err, strerror(ENOENT)), "errno not named: %s", err);
}
END_TEST

/* ---------------------------------------------------------------- JPEG */

static img gradient(int w, int h)
{
	img im = {w, h, malloc((size_t)w * (size_t)h * 3)};
	ck_assert_ptr_nonnull(im.px);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *p = im.px + ((size_t)y * (size_t)w + (size_t)x) * 3;
			p[0] = (uint8_t)(x * 255 / (w - 1));
			p[1] = (uint8_t)(y * 255 / (h - 1));
			p[2] = (uint8_t)(128 + (x - y) / 2);
		}
	return im;
}

START_TEST(jpeg_round_trip_keeps_size_and_colours)
{
	img src = gradient(64, 48), back;
	unsigned char *jpg = NULL;
	size_t len = 0;
	char err[256] = "";
	double sum = 0;

	ck_assert_int_eq(img_encode_jpeg(&src, 90, &jpg, &len), 0);
	ck_assert_uint_gt(len, 4);
	ck_assert_uint_eq(jpg[0], 0xFF);
	ck_assert_uint_eq(jpg[1], 0xD8); /* SOI */
	ck_assert_uint_eq(jpg[len - 2], 0xFF);
	ck_assert_uint_eq(jpg[len - 1], 0xD9); /* EOI */
	ck_assert_int_eq(img_decode(jpg, len, &back, err, sizeof err), 0);
	ck_assert_int_eq(back.w, 64);
	ck_assert_int_eq(back.h, 48);
	for (size_t i = 0; i < (size_t)64 * 48 * 3; i++)
		sum += abs((int)src.px[i] - (int)back.px[i]);
	ck_assert_msg(sum / (64 * 48 * 3) < 3.0, "mean abs error %.2f",
		      sum / (64 * 48 * 3));
	img_free(&back);
	free(jpg);
	img_free(&src);
}
END_TEST

START_TEST(jpeg_quality_is_clamped_and_empty_images_refused)
{
	img src = gradient(16, 16), back, empty = {0, 0, NULL};
	unsigned char *jpg = (unsigned char *)"x";
	size_t len = 1;
	char err[256] = "";
	uint8_t one[3] = {1, 2, 3};
	img zero_w = {0, 1, one};

	for (int q = -5; q <= 1000; q += 1005) {
		ck_assert_int_eq(img_encode_jpeg(&src, q, &jpg, &len), 0);
		ck_assert_int_eq(img_decode(jpg, len, &back, err, sizeof err), 0);
		ck_assert_int_eq(back.w, 16);
		img_free(&back);
		free(jpg);
	}
	ck_assert_int_eq(img_encode_jpeg(&empty, 90, &jpg, &len), SIM_EINVAL);
	ck_assert_ptr_null(jpg);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(img_encode_jpeg(&zero_w, 90, &jpg, &len), SIM_EINVAL);
	ck_assert_int_eq(img_encode_jpeg(NULL, 90, &jpg, &len), SIM_EINVAL);
	img_free(&src);
}
END_TEST

/* ---------------------------------------------------------------- hostile */

/* Pictures made to crash or exhaust a decoder (fixtures/images/hostile,
 * make.py there): each is refused on the untrusted path, in its own
 * words, and the process lives on. */

START_TEST(jpeg_whose_huffman_counts_overflow_is_refused)
{
	img im;
	char err[512] = "";

	/* stb_image 2.27 dies of this one with SIGSEGV */
	assert_refused(decode_fixture("hostile/dht_overflow.jpg", &im, err,
				      sizeof err), SIM_ENOTIMAGE, &im, err);
	ck_assert_str_eq(err, "cannot decode the JPEG picture (libjpeg-turbo: "
			      "Bogus Huffman table definition)");
	/* the picture it is made from, with a sane table, is fine */
	ck_assert_int_eq(decode_fixture("hostile/grey_8x8.jpg", &im, err,
					sizeof err), 0);
	ck_assert_int_eq(im.w, 8);
	ck_assert_int_eq(im.h, 8);
	for (int i = 0; i < 8 * 8 * 3; i++)
		ck_assert_uint_eq(im.px[i], 128);
	img_free(&im);
}
END_TEST

START_TEST(pnm_of_16_bit_samples_is_refused_naming_the_format)
{
	img im;
	char err[512] = "";

	/* stb_image 2.27 reads past its buffer converting it */
	assert_refused(decode_fixture("hostile/pnm16_64x64.pgm", &im, err,
				      sizeof err), SIM_ENOTIMAGE, &im, err);
	ck_assert_str_eq(err, "a PNM (PBM, PGM, PPM or PAM) picture is refused: "
			      RULE);
}
END_TEST

START_TEST(formats_other_than_jpeg_and_png_are_refused_by_name)
{
	static const struct {
		const char *bytes;
		size_t len;
		const char *name;
	} cases[] = {
		{"GIF89a\x01\0\x01\0\0\0\0", 13, "GIF"},
		{"BM\x3a\0\0\0\0\0\0\0", 10, "BMP"},
		{"P6\n1 1\n255\n\0\0\0", 14, "PNM (PBM, PGM, PPM or PAM)"},
		{"8BPS\0\x01", 6, "Photoshop (PSD)"},
		{"#?RADIANCE\n", 11, "Radiance HDR"},
		{"II*\0\x08\0\0\0", 8, "TIFF"},
		{"MM\0*\0\0\0\x08", 8, "TIFF"},
		{"RIFF\x10\0\0\0WEBPVP8 ", 16, "WebP"},
		{"\0\0\0\x1c" "ftypavif", 12, "AVIF"},
		{"\0\0\1\0\1\0", 6, "Windows icon (ICO)"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		img im;
		char err[512] = "", want[512];

		assert_refused(img_decode(cases[i].bytes, cases[i].len, &im, err,
					  sizeof err), SIM_ENOTIMAGE, &im, err);
		snprintf(want, sizeof want, "a %s picture is refused: " RULE,
			 cases[i].name);
		ck_assert_str_eq(err, want);
	}
}
END_TEST

START_TEST(progressive_jpeg_of_too_many_scans_is_refused)
{
	img im;
	char err[512] = "";

	/* 883 valid scans: each a pass over the whole picture */
	assert_refused(decode_fixture("hostile/many_scans.jpg", &im, err,
				      sizeof err), SIM_ENOTIMAGE, &im, err);
	ck_assert_msg(strstr(err, "progressive JPEG with more than 100 scans; "
			      "the limit is 100"), "%s", err);
	ck_assert_int_eq(IMG_JPEG_MAX_SCANS, 100);
}
END_TEST

/* The sample value make.py gives block (bx, by) of gradient_64x64.jpg. */
static int gradient_block(int bx, int by)
{
	return (bx * 37 + by * 53) % 256;
}

START_TEST(truncated_jpeg_is_refused_and_the_whole_one_decodes)
{
	img im;
	char err[512] = "";

	assert_refused(decode_fixture("hostile/truncated.jpg", &im, err,
				      sizeof err), SIM_ENOTIMAGE, &im, err);
	ck_assert_str_eq(err, "cannot decode the JPEG picture (libjpeg-turbo: "
			      "Premature end of JPEG file)");
	ck_assert_int_eq(decode_fixture("hostile/gradient_64x64.jpg", &im, err,
					sizeof err), 0);
	ck_assert_int_eq(im.w, 64);
	ck_assert_int_eq(im.h, 64);
	for (int y = 0; y < 64; y++)
		for (int x = 0; x < 64; x++) {
			const uint8_t *p = im.px + (y * 64 + x) * 3;
			int v = gradient_block(x / 8, y / 8);
			ck_assert_msg(abs(p[0] - v) <= 1 && p[0] == p[1] &&
					      p[1] == p[2],
				      "(%d,%d) is %u,%u,%u, want %d", x, y, p[0], p[1],
				      p[2], v);
		}
	img_free(&im);
}
END_TEST

START_TEST(png_claiming_two_billion_pixels_a_side_is_refused_by_its_header)
{
	img im;
	char err[512] = "";

	assert_refused(decode_fixture("hostile/huge_claim.png", &im, err,
				      sizeof err), SIM_EIMGSIZE, &im, err);
	ck_assert_str_eq(err, "picture is 2147483647x2147483647 pixels; the "
			      "limit is 8192 per side");
}
END_TEST

START_TEST(cmyk_jpeg_converts_to_rgb)
{
	img im;
	char err[512] = "";

	/* Adobe CMYK: left block cyan ink, right block half black */
	ck_assert_int_eq(decode_fixture("hostile/cmyk_adobe_16x8.jpg", &im, err,
					sizeof err), 0);
	ck_assert_int_eq(im.w, 16);
	ck_assert_int_eq(im.h, 8);
	for (int y = 0; y < 8; y++)
		for (int x = 0; x < 16; x++) {
			const uint8_t *p = im.px + (y * 16 + x) * 3;
			int r = x < 8 ? 0 : 128, gb = x < 8 ? 255 : 128;
			ck_assert_msg(abs(p[0] - r) <= 1 && abs(p[1] - gb) <= 1 &&
					      abs(p[2] - gb) <= 1,
				      "(%d,%d) is %u,%u,%u, want %d,%d,%d", x, y, p[0],
				      p[1], p[2], r, gb, gb);
		}
	img_free(&im);
}
END_TEST

START_TEST(png_16_bit_alpha_and_palette_give_stb_images_pixels)
{
	static const uint8_t rgba16[6] = {0x12, 0x56, 0x9a, 0xfe, 0x00, 0x80};
	static const uint8_t pal[9] = {255, 0, 0, 0, 255, 0, 0, 0, 255};
	img im, st;
	char err[512] = "";

	/* high bytes, alpha dropped: what the trusted path gives too */
	ck_assert_int_eq(decode_fixture("hostile/rgba16_2x1.png", &im, err,
					sizeof err), 0);
	ck_assert_int_eq(im.w, 2);
	ck_assert_int_eq(im.h, 1);
	ck_assert_mem_eq(im.px, rgba16, 6);
	ck_assert_int_eq(img_load_file_trusted(fx("hostile/rgba16_2x1.png"), &st,
					       err, sizeof err), 0);
	ck_assert_mem_eq(st.px, rgba16, 6);
	img_free(&st);
	img_free(&im);
	/* 4-bit palette with transparency: the palette's colours */
	ck_assert_int_eq(decode_fixture("hostile/palette_trns_3x1.png", &im, err,
					sizeof err), 0);
	ck_assert_int_eq(im.w, 3);
	ck_assert_mem_eq(im.px, pal, 9);
	img_free(&im);
}
END_TEST

START_TEST(trusted_path_keeps_stb_image_for_repository_files)
{
	img a, b;
	unsigned char *jpg = NULL;
	size_t len = 0;
	char err[512] = "";
	double sum = 0;

	/* its refusals (it decodes rgb_4x3.bmp above; the hostile fixtures
	 * are never given to it: stb_image 2.27 crashes or over-reads) */
	ck_assert_int_eq(img_load_file_trusted(fx("no-such.png"), &a, err,
					       sizeof err), SIM_EIO);
	ck_assert_int_eq(img_decode_trusted("x", 0, &a, err, sizeof err),
			 SIM_ENOTIMAGE);
	/* the two decoders agree on a JPEG to within a level or so: the
	 * golden data made from stb's pixels stays stb's */
	a = gradient(96, 64);
	ck_assert_int_eq(img_encode_jpeg(&a, 85, &jpg, &len), 0);
	img_free(&a);
	ck_assert_int_eq(img_decode(jpg, len, &a, err, sizeof err), 0);
	ck_assert_int_eq(img_decode_trusted(jpg, len, &b, err, sizeof err), 0);
	ck_assert_int_eq(a.w, b.w);
	ck_assert_int_eq(a.h, b.h);
	for (size_t i = 0; i < (size_t)a.w * a.h * 3; i++)
		sum += abs((int)a.px[i] - (int)b.px[i]);
	ck_assert_msg(sum / (a.w * a.h * 3) < 2.0, "mean difference %.2f",
		      sum / (a.w * a.h * 3));
	img_free(&a);
	img_free(&b);
	free(jpg);
}
END_TEST

/* ---------------------------------------------------------------- text */

/* A w x h image filled with v, allocated to the byte so that ASan sees
 * any write outside it. */
static img plain(int w, int h, uint8_t v)
{
	img im = {w, h, malloc((size_t)w * (size_t)h * 3)};
	ck_assert_ptr_nonnull(im.px);
	memset(im.px, v, (size_t)w * (size_t)h * 3);
	return im;
}

static size_t changed(const img *im, uint8_t v)
{
	size_t n = 0;
	for (size_t i = 0; i < (size_t)im->w * (size_t)im->h; i++)
		if (im->px[i * 3] != v || im->px[i * 3 + 1] != v ||
		    im->px[i * 3 + 2] != v)
			n++;
	return n;
}

START_TEST(text_changes_pixels_inside_its_box_and_none_outside)
{
	char text[] = "Hello 12:34\nline 2";
	const int x0 = 10, y0 = 5, scale = 2;
	/* The box image.h documents: (width + 2) x (height - 1) font pixels. */
	const int bw = (stb_easy_font_width(text) + 2) * scale;
	const int bh = (stb_easy_font_height(text) - 1) * scale;
	img im = plain(240, 80, 128);
	size_t dark = 0, ink = 0;

	ck_assert_int_le(x0 + bw, im.w);
	ck_assert_int_le(y0 + bh, im.h);
	img_draw_text(&im, x0, y0, scale, text);
	for (int y = 0; y < im.h; y++)
		for (int x = 0; x < im.w; x++) {
			const uint8_t *p = im.px + (y * im.w + x) * 3;
			bool inside = x >= x0 && x < x0 + bw && y >= y0 && y < y0 + bh;
			if (!inside) {
				ck_assert_msg(p[0] == 128 && p[1] == 128 && p[2] == 128,
					      "(%d,%d) outside the box changed", x, y);
				continue;
			}
			ck_assert_msg(p[0] != 128, "(%d,%d) inside the box unchanged",
				      x, y);
			ck_assert_msg(p[0] == p[1] && p[1] == p[2] &&
					      (p[0] < 64 || p[0] == 255),
				      "(%d,%d) neither backing nor text: %u", x, y, p[0]);
			if (p[0] == 255)
				ink++;
			else
				dark++;
			/* The margin of one font pixel holds no text. */
			if (x < x0 + scale || y < y0 + scale || x >= x0 + bw - scale ||
			    y >= y0 + bh - scale)
				ck_assert_msg(p[0] != 255, "text in the margin at (%d,%d)",
					      x, y);
		}
	ck_assert_uint_gt(ink, 100);
	ck_assert_uint_gt(dark, ink);
	img_free(&im);
}
END_TEST

START_TEST(text_skips_non_ascii_and_control_characters)
{
	img a = plain(80, 20, 128), b = plain(80, 20, 128);

	img_draw_text(&a, 2, 2, 1, "AB");
	img_draw_text(&b, 2, 2, 1, "\x01" "A\xff\xc3\xa9\t\x7f" "B\r");
	ck_assert_uint_gt(changed(&a, 128), 0);
	ck_assert_mem_eq(a.px, b.px, (size_t)80 * 20 * 3);
	/* Nothing printable: nothing drawn, not even the box. */
	img_draw_text(&b, 2, 2, 1, "\x01\x02\xff");
	img_draw_text(&b, 2, 2, 1, "");
	img_draw_text(&b, 2, 2, 1, NULL);
	img_draw_text(NULL, 2, 2, 1, "AB");
	ck_assert_mem_eq(a.px, b.px, (size_t)80 * 20 * 3);
	img_free(&a);
	img_free(&b);
}
END_TEST

START_TEST(text_scale_is_clamped_to_1_through_16)
{
	img a = plain(60, 40, 128), b = plain(60, 40, 128);

	img_draw_text(&a, 0, 0, 1, "8");
	img_draw_text(&b, 0, 0, -7, "8");
	ck_assert_mem_eq(a.px, b.px, (size_t)60 * 40 * 3);
	img_free(&a);
	img_free(&b);
	a = plain(300, 200, 128);
	b = plain(300, 200, 128);
	img_draw_text(&a, 3, 3, 16, "8");
	img_draw_text(&b, 3, 3, INT_MAX, "8");
	ck_assert_mem_eq(a.px, b.px, (size_t)300 * 200 * 3);
	img_free(&a);
	img_free(&b);
}
END_TEST

START_TEST(text_is_clipped_at_every_edge)
{
	static const int pos[][2] = {
		{-10, 5}, {30, 5}, {5, -8}, {5, 25}, {-10, -8}, {35, 27},
		{-1000, -1000}, {1000, 1000}, {INT_MIN, INT_MIN}, {INT_MAX, INT_MAX},
		{INT_MIN, 0}, {0, INT_MIN}, {INT_MAX, 0}, {0, INT_MAX},
		{INT_MAX - 1, INT_MIN + 1}, {-39, -29}, {39, 29},
	};
	static const int scales[] = {INT_MIN, -1, 0, 1, 2, 3, 16, 17, INT_MAX};
	const char *text = "12:34:56 Camsim\nWWWWWWWW\n@@@@";

	for (size_t i = 0; i < sizeof pos / sizeof *pos; i++)
		for (size_t k = 0; k < sizeof scales / sizeof *scales; k++) {
			img im = plain(40, 30, 128);
			img_draw_text(&im, pos[i][0], pos[i][1], scales[k], text);
			img_free(&im);
		}
	/* Partly outside: the visible part is drawn. */
	for (size_t i = 0; i < 6; i++) {
		img im = plain(40, 30, 128);
		img_draw_text(&im, pos[i][0], pos[i][1], 2, text);
		ck_assert_msg(changed(&im, 128) > 0, "nothing drawn at (%d,%d)",
			      pos[i][0], pos[i][1]);
		img_free(&im);
	}
	/* Wholly outside: nothing is. */
	for (size_t i = 6; i < 14; i++) {
		img im = plain(40, 30, 128);
		img_draw_text(&im, pos[i][0], pos[i][1], 1, text);
		ck_assert_msg(changed(&im, 128) == 0, "drawn from (%d,%d)",
			      pos[i][0], pos[i][1]);
		img_free(&im);
	}
	/* A one-pixel picture. */
	{
		img im = plain(1, 1, 128);
		img_draw_text(&im, 0, 0, 1, text);
		ck_assert_uint_eq(changed(&im, 128), 1);
		img_free(&im);
	}
}
END_TEST

START_TEST(long_text_is_drawn_without_overrun)
{
	size_t n = 10000;
	char *text = malloc(n + 1);
	img im = plain(64, 64, 128);

	for (size_t i = 0; i < n; i++)
		text[i] = (char)(i % 97 == 96 ? '\n' : 32 + i % 95);
	text[n] = '\0';
	img_draw_text(&im, -5, -5, 1, text);
	ck_assert_uint_gt(changed(&im, 128), 0);
	free(text);
	img_free(&im);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("image");
	TCase *dec = tcase_create("decode");
	TCase *hos = tcase_create("hostile");
	TCase *enc = tcase_create("jpeg");
	TCase *txt = tcase_create("text");

	tcase_add_test(dec, png_decodes_to_its_known_pixel_values);
	tcase_add_test(dec, bmp_decodes_on_the_trusted_path_only);
	tcase_add_test(dec, grayscale_png_expands_to_rgb);
	tcase_add_test(dec, truncated_png_is_not_an_image);
	tcase_add_test(dec, text_file_named_jpg_is_not_an_image);
	tcase_add_test(dec, empty_input_is_not_an_image);
	tcase_add_test(dec, oversize_pictures_are_refused_by_their_header);
	tcase_add_test(dec, load_file_decodes_a_fixture);
	tcase_add_test(dec, load_file_of_a_missing_path_is_an_io_error_naming_it);
	tcase_add_test(hos, jpeg_whose_huffman_counts_overflow_is_refused);
	tcase_add_test(hos, pnm_of_16_bit_samples_is_refused_naming_the_format);
	tcase_add_test(hos, formats_other_than_jpeg_and_png_are_refused_by_name);
	tcase_add_test(hos, progressive_jpeg_of_too_many_scans_is_refused);
	tcase_add_test(hos, truncated_jpeg_is_refused_and_the_whole_one_decodes);
	tcase_add_test(hos, png_claiming_two_billion_pixels_a_side_is_refused_by_its_header);
	tcase_add_test(hos, cmyk_jpeg_converts_to_rgb);
	tcase_add_test(hos, png_16_bit_alpha_and_palette_give_stb_images_pixels);
	tcase_add_test(hos, trusted_path_keeps_stb_image_for_repository_files);
	tcase_add_test(enc, jpeg_round_trip_keeps_size_and_colours);
	tcase_add_test(enc, jpeg_quality_is_clamped_and_empty_images_refused);
	tcase_set_timeout(txt, 60);
	tcase_add_test(txt, text_changes_pixels_inside_its_box_and_none_outside);
	tcase_add_test(txt, text_skips_non_ascii_and_control_characters);
	tcase_add_test(txt, text_scale_is_clamped_to_1_through_16);
	tcase_add_test(txt, text_is_clipped_at_every_edge);
	tcase_add_test(txt, long_text_is_drawn_without_overrun);
	suite_add_tcase(s, dec);
	suite_add_tcase(s, hos);
	suite_add_tcase(s, enc);
	suite_add_tcase(s, txt);
	return tu_run(s);
}
