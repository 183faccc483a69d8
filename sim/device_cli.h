/* device_cli.h -- `camsim device': runs simulated devices against a server
 * until told to stop.  Owns option parsing, the process's loop, store,
 * recogniser and control API, signal handling and the exit code; the
 * devices' behaviour is device.c's, the control API control.c's. */
#ifndef CAMSIM_DEVICE_CLI_H
#define CAMSIM_DEVICE_CLI_H

#include <stddef.h>
#include <stdio.h>

/* Runs the subcommand (argv[0] is "device").  Writes progress to out and
 * errors to err.  Returns the exit code: 0 stopped as asked (--duration,
 * SIGINT, SIGTERM) or --help, 1 a runtime failure (state directory, port,
 * transcript file, a device that cannot start), 2 a wrong command line.
 * Installs SIGINT/SIGTERM handlers while running and restores the previous
 * ones before returning; not reentrant (one run per process at a time). */
int device_main(int argc, char **argv, FILE *out, FILE *err);

/* Exported only as a TEST HOOK (tests/check_control.c); device_main is
 * its one product caller.
 * The cid of the i-th (0-based) of --count devices derived from base:
 * when base ends in digits, that number plus i at the same width
 * (cam000001, cam000002, ...); otherwise base, "-" and i + 1 in at least
 * five digits (lobby-00001, ...).  Returns 0 and the cid in out, or
 * SIM_EINVAL when base is empty, the number would need more digits than
 * base has (cam99 + 1), or out[0..outlen) is too small. */
int device_cid_derive(const char *base, size_t i, char *out, size_t outlen);

#endif
