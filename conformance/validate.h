/* validate.h -- `camsim validate': checks message files against V1.16 for
 * server vendors and CI.  Owns option parsing and output; the judging is
 * proto/'s, the expectation files fixture.c's. */
#ifndef CAMSIM_VALIDATE_H
#define CAMSIM_VALIDATE_H

#include <stdio.h>

/* Runs the subcommand (argv[0] is "validate").  Reads files and stdin,
 * writes results to out and usage errors to err.  Returns the exit code:
 * 0 no MUST rule broken, 1 one is (or an --expect mismatch), 2 a file
 * cannot be read, is not JSON, or the command line is wrong. */
int validate_main(int argc, char **argv, FILE *out, FILE *err);

/* Prints the rule catalogue: aligned text, or (markdown) the table that
 * docs/protocol.md holds between its rules:begin/end markers. */
void validate_print_rules(FILE *out, int markdown);

#endif
