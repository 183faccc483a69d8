/* camsim.c -- the camsim command: dispatches to the subcommands, each of
 * which lives with the module that owns it.  Nothing else happens here. */
#include "device_cli.h"
#include "mock_cli.h"
#include "recog.h"
#include "recog_cli.h"
#include "runner.h"
#include "validate.h"
#include "version.h"

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
	"  help       this text, or `camsim help COMMAND': that command's\n"
	"  version    camsim's version (also --version)\n"
	"\n"
	"camsim <command> --help describes a command.\n";

/* Runs subcommand argv[0] with its arguments. */
static int dispatch(int argc, char **argv)
{
	if (!strcmp(argv[0], "validate"))
		return validate_main(argc, argv, stdout, stderr);
	if (!strcmp(argv[0], "run"))
		return run_main(argc, argv, stdout, stderr);
	if (!strcmp(argv[0], "device"))
		return device_main(argc, argv, stdout, stderr);
	if (!strcmp(argv[0], "mock"))
		return mock_main(argc, argv, stdout, stderr);
	if (!strcmp(argv[0], "recog"))
		return recog_main(argc, argv, stdout, stderr);
	if (!strcmp(argv[0], "version") || !strcmp(argv[0], "--version")) {
		printf("camsim %s\n", camsim_version());
		return 0;
	}
	fprintf(stderr, "camsim: unknown command \"%s\"\n\n%s", argv[0], usage);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    (!strcmp(argv[1], "help") && argc == 2)) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	recog_blas_pick_kernels(argv);
	if (!strcmp(argv[1], "help")) { /* camsim help run = camsim run --help */
		char help[] = "--help";
		char *a[] = {argv[2], help, NULL};
		return dispatch(2, a);
	}
	return dispatch(argc - 1, argv + 1);
}
