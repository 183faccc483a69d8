/* camsim.c -- the camsim command: dispatches to the subcommands, each of
 * which lives with the module that owns it.  Nothing else happens here. */
#include "demo.h"
#include "device_cli.h"
#include "load_cli.h"
#include "load_merge.h"
#include "mock_cli.h"
#include "recog.h"
#include "recog_cli.h"
#include "runner.h"
#include "validate.h"
#include "version.h"

#include <stdbool.h>
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
	"  load       load-test a server with many simulated devices (thresholds)\n"
	"  report     merge the load reports of shards (report merge)\n"
	"  recog      the face-recognition core on picture files\n"
	"  demo       one simulated tablet in a window, with a story (SDL2)\n"
	"\n"
	"  help       this text, or `camsim help COMMAND': that command's\n"
	"  version    camsim's version (also --version)\n"
	"\n"
	"camsim <command> --help describes a command.\n";

/* The subcommands; recog marks those that run face recognition, the only
 * ones for which OpenBLAS's kernels are worth a re-executed process
 * (recog_blas_pick_kernels): validate, mock and version start once. */
static const struct cmd {
	const char *name;
	int (*main)(int argc, char **argv, FILE *out, FILE *err);
	bool recog;
} cmds[] = {
	{"validate", validate_main, false},
	{"run", run_main, true},
	{"device", device_main, true},
	{"load", load_main, true},
	{"mock", mock_main, false},
	{"report", load_report_main, false},
	{"recog", recog_main, true},
	{"demo", demo_main, true},
};

static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

/* Runs subcommand argv[0] with its arguments. */
static int dispatch(int argc, char **argv)
{
	const struct cmd *c = find_cmd(argv[0]);

	if (c)
		return c->main(argc, argv, stdout, stderr);
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
	const struct cmd *c = find_cmd(argv[1]);
	if (c && c->recog)
		recog_blas_pick_kernels(argv);
	if (!strcmp(argv[1], "help")) { /* camsim help run = camsim run --help */
		char help[] = "--help";
		char *a[] = {argv[2], help, NULL};
		return dispatch(2, a);
	}
	return dispatch(argc - 1, argv + 1);
}
