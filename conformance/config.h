/* config.h -- the settings a team commits for `camsim run' and `camsim load'
 * (camsim.json, or --config FILE) and the CAMSIM_* environment variables for
 * the same keys, turned into command-line options placed before the user's
 * own.  Owns the key table, the file's checks and their messages (file, line,
 * key, rule); the options' meaning stays with run_cli.c and load_cli.c. */
#ifndef CAMSIM_CONFIG_H
#define CAMSIM_CONFIG_H

#include <stddef.h>
#include <stdio.h>

/* The command line a subcommand parses after its configuration is applied:
 * argv[0], the options coming from the file and the environment, then the
 * user's arguments without --config FILE / --no-config.  NULL-terminated;
 * every string is owned by the struct (cfg_args_free). */
typedef struct cfg_args {
	int argc;
	char **argv;
	char note[512]; /* for the user ("" or lines ending "\n"): which file
			   was read, a CAMSIM_ variable that looks like a
			   misspelt key; never a reason to stop */
} cfg_args;

/* Applies the configuration of cmd ("run" or "load") to argv[0..argc).
 * The file is the one given with --config FILE, else $CAMSIM_CONFIG, else
 * camsim.json in the working directory when it exists (--no-config: none).
 * Precedence, per key: the command line, then the environment
 * (CAMSIM_<KEY>), then the file, then the command's defaults (docs/config.md).
 * With -h/--help in argv nothing is read and argv is passed on as it is.
 * Returns 0 with *out filled, or CONF_EREAD (the file cannot be read),
 * CONF_ENOTJSON, CONF_EFORMAT (a key or value breaks a rule), CONF_EINVAL
 * (--config without a file), CONF_ENOMEM; err then names the file, the line
 * and the key (or the variable) and the rule.  *out is empty on failure. */
int cfg_apply(const char *cmd, int argc, char **argv, cfg_args *out,
	      char *err, size_t errlen);

/* Frees what cfg_apply filled (also an empty or zeroed one). */
void cfg_args_free(cfg_args *a);

/* A subcommand's main with its configuration: fn (the subcommand's own
 * parsing and run) is called with cfg_apply's argv, its warnings printed
 * to err first.  A configuration mistake is printed to err as "camsim CMD:
 * MESSAGE" and returns 2, bad input for both run and load, without calling
 * fn.  Returns fn's exit code otherwise. */
int cfg_main(const char *cmd, int (*fn)(int, char **, FILE *, FILE *),
	     int argc, char **argv, FILE *out, FILE *err);

#endif
