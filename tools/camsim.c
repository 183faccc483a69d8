/* camsim.c -- the camsim command: dispatches to the subcommands, each of
 * which lives with the module that owns it.  Nothing else happens here. */
#include "device_cli.h"
#include "mock_cli.h"
#include "recog_cli.h"
#include "runner.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *openblas_get_corename(void);

/* OpenBLAS 0.3.21 (Debian 12) predates AMD Zen 4/5 and gives them its
 * AVX2 Haswell kernels although the CPU has AVX-512; its SkylakeX kernels
 * then run the recognition nets' sgemms about 1.8x faster (docs/perf.md).
 * OpenBLAS reads OPENBLAS_CORETYPE once, when it is loaded, so the choice
 * needs a re-exec; an explicit OPENBLAS_CORETYPE is always respected. */
static void blas_pick_kernels(char **argv)
{
	const char *core = openblas_get_corename();
	if (getenv("OPENBLAS_CORETYPE") || !core ||
	    (strcmp(core, "Haswell") && strcmp(core, "Zen")))
		return;
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
	    !__builtin_cpu_supports("avx512dq") || !__builtin_cpu_supports("avx512vl"))
		return;
	setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
	execv("/proc/self/exe", argv);
	/* exec failed: carry on with the kernels we have */
}

static const char usage[] =
	"usage: camsim <command> [options]\n"
	"\n"
	"camsim simulates face-recognition / body-temperature tablet cameras that\n"
	"speak the HTTP docking protocol V1.16, and checks servers against it.\n"
	"\n"
	"commands:\n"
	"  validate   check message files against protocol V1.16\n"
	"  device     run simulated devices against a server (control API optional)\n"
	"  mock       run the reference mock server (admin API, HTML page)\n"
	"  run        run conformance scenarios against the mock or a real server\n"
	"  recog      the face-recognition core on picture files\n"
	"\n"
	"camsim <command> --help describes a command.\n";

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	blas_pick_kernels(argv);
	if (!strcmp(argv[1], "validate"))
		return validate_main(argc - 1, argv + 1, stdout, stderr);
	if (!strcmp(argv[1], "run"))
		return run_main(argc - 1, argv + 1, stdout, stderr);
	if (!strcmp(argv[1], "device"))
		return device_main(argc - 1, argv + 1, stdout, stderr);
	if (!strcmp(argv[1], "mock"))
		return mock_main(argc - 1, argv + 1, stdout, stderr);
	if (!strcmp(argv[1], "recog"))
		return recog_main(argc - 1, argv + 1, stdout, stderr);
	fprintf(stderr, "camsim: unknown command \"%s\"\n\n%s", argv[1], usage);
	return 2;
}
