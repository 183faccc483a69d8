/* fuzz_image.c -- libFuzzer harness for sim/image.c's img_decode: any
 * bytes a server may send as a face photo.  A picture decodes to a sane
 * size or is refused with a sentence; never a crash. */
#include "fuzz.h"
#include "image.h"
#include "sim_err.h"

#include <string.h>

static volatile uint8_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	img im;
	char err[256] = "";
	int rc = img_decode(data, size, &im, err, sizeof err);

	if (rc == 0) {
		FUZZ_CHECK(im.px && im.w > 0 && im.h > 0 && im.w <= IMG_MAX_SIDE &&
				   im.h <= IMG_MAX_SIDE &&
				   (uint64_t)im.w * (uint64_t)im.h <= IMG_MAX_PIXELS,
			   "decoded to %dx%d", im.w, im.h);
		/* read the first and last byte: ASan sees a buffer shorter
		 * than w*h*3 */
		sink = im.px[0] ^ im.px[(size_t)im.w * (size_t)im.h * 3 - 1];
		img_free(&im);
		return 0;
	}
	FUZZ_CHECK(rc == SIM_ENOTIMAGE || rc == SIM_EIMGSIZE || rc == SIM_ENOMEM,
		   "img_decode returned %d (%s)", rc, err);
	FUZZ_CHECK(err[0], "img_decode failed (%d) without a sentence", rc);
	FUZZ_CHECK(!im.px && !im.w && !im.h, "a failed decode left *out set");
	return 0;
}
