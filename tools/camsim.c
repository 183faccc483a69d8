/* camsim.c -- the camsim command: dispatches to the subcommands, each of
 * which lives with the module that owns it.  Nothing else happens here. */
#include "device_cli.h"
#include "mock_cli.h"
#include "recog.h"
#include "recog_cli.h"
#include "runner.h"
#include "validate.h"

#include <stdio.h>
#include <string.h>

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
	recog_blas_pick_kernels(argv);
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
