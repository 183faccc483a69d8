/* stb2png.c -- writes the pixels camsim's trusted decoder (sim/image.c,
 * img_load_file_trusted: stb_image) sees in a picture as a lossless PNG, so
 * that the TF.js reference (tools/golden.sh) and the C core's golden tests
 * are fed identical pixels: libjpeg and stb_image decode the same JPEG a
 * few levels apart.  Build tool only. */
#include "image.h"

#include <stb_image_write.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	char err[512];
	img im = {0};
	if (argc != 3) {
		fprintf(stderr, "usage: stb2png IMAGE OUT.png\n");
		return 2;
	}
	if (img_load_file_trusted(argv[1], &im, err, sizeof err) < 0) {
		fprintf(stderr, "stb2png: %s\n", err);
		return 1;
	}
	int ok = stbi_write_png(argv[2], im.w, im.h, 3, im.px, im.w * 3);
	img_free(&im);
	if (!ok) {
		fprintf(stderr, "stb2png: %s: cannot write\n", argv[2]);
		return 1;
	}
	return 0;
}
