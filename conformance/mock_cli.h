/* mock_cli.h -- `camsim mock': runs the reference mock server until
 * SIGINT or SIGTERM.  Owns option parsing, the token file, the signal
 * handlers and the exit code; the server itself is mock.c's. */
#ifndef CAMSIM_MOCK_CLI_H
#define CAMSIM_MOCK_CLI_H

#include <stdio.h>

/* Runs the subcommand (argv[0] is "mock").  Writes the start line and,
 * unless --quiet, one line per exchange and violation to out; errors to
 * err.  Returns the exit code: 0 stopped by SIGINT/SIGTERM (or --help), 1
 * the server cannot start (address in use, database refused), 2 a wrong
 * command line.  Installs SIGINT/SIGTERM handlers while it runs and
 * restores the previous ones; one run per process at a time. */
int mock_main(int argc, char **argv, FILE *out, FILE *err);

#endif
