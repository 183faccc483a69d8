/* recog_cli.h -- `camsim recog`: detect, enroll, identify, compare. */
#ifndef CAMSIM_RECOG_CLI_H
#define CAMSIM_RECOG_CLI_H

#include <stdio.h>

/* argv[0] is "recog".  Returns the exit status (0, 1 a picture failed or
 * compare found different persons, 2 usage or models missing). */
int recog_main(int argc, char **argv, FILE *out, FILE *err);

#endif
