/* fuzz.h -- what the libFuzzer harnesses in tests/fuzz/ share: the entry
 * point's prototype and a check that aborts (so libFuzzer, ASan and
 * tests/check_fuzz.c all see a broken property as a crash).  The harnesses
 * own no project code; they only call it. */
#ifndef CAMSIM_FUZZ_H
#define CAMSIM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* In the fuzz build this is libFuzzer's entry; the normal build renames it
 * per harness (-DLLVMFuzzerTestOneInput=fuzz_<target>_one) so that
 * check_fuzz can link every harness at once.  Returns 0 (libFuzzer's
 * contract); a broken property aborts instead. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property every input must keep; on failure names it and aborts. */
#define FUZZ_CHECK(cond, ...)                                                 \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: fuzz property broken: %s: ",  \
				__FILE__, __LINE__, #cond);                   \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
			abort();                                              \
		}                                                             \
	} while (0)

#endif
