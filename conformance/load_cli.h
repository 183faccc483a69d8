/* load_cli.h -- `camsim load': parses the command line (durations such as
 * 30s, 5m, 1h; thresholds) into load_opts and runs load_run.  Owns only
 * option parsing and its messages; the run is load.c's. */
#ifndef CAMSIM_LOAD_CLI_H
#define CAMSIM_LOAD_CLI_H

#include <stdint.h>
#include <stdio.h>

/* Runs the subcommand (argv[0] is "load").  The summary goes to out,
 * progress and errors to err.  Returns LOAD_EXIT_* (load.h): 0 every
 * threshold held (or --help), 99 a threshold failed, 2 the run could not
 * run (wrong command line, server unreachable, set-up failure). */
int load_main(int argc, char **argv, FILE *out, FILE *err);

/* A duration: a non-negative number with a unit ms, s, m or h (none:
 * seconds) -> *ms.  0, or -1 when s is not one.  Exported for its test. */
int load_parse_duration(const char *s, int64_t *ms);

#endif
