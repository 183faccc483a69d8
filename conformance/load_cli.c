/* load_cli.c -- `camsim load''s command line: each option's parser and the
 * messages naming the option, the value and the rule.  Hands load_opts to
 * load_run; touches nothing else. */
#include "load_cli.h"

#include "config.h"
#include "datadir.h"
#include "load.h"
#include "load_adapter.h"
#include "loop.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEVICES_MAX 100000
#define THRESHOLDS_MAX 64

static const char usage[] =
	"usage: camsim load --server URL|mock --devices N [--ramp DUR]\n"
	"                   [--duration DUR] [--interval S] [--jitter FRACTION]\n"
	"                   [--arrivals RATE] [--faces DIR] [--profile P]\n"
	"                   [--threshold EXPR]... [--abort-on-fail]\n"
	"                   [--report-dir DIR] [--shard I/N | --shards N]\n"
	"                   [--source-addrs A-B] [--keep-alive] [--connections N]\n"
	"                   [--dry-run]\n"
	"                   [--propagate enrol|batch[:N]|strategy|config]\n"
	"                   [--adapter FILE [--adapter-concurrency N]]\n"
	"                   [--config FILE | --no-config]\n"
	"\n"
	"Runs N simulated tablets against a server and measures it: requests,\n"
	"latency and errors per message kind, a line a second on stderr, a\n"
	"summary table at the end, thresholds that gate CI (docs/load.md).\n"
	"  --server URL|mock   http://host:port/path, or mock: the in-process mock\n"
	"  --devices N         1-100000 devices (cids load-00001, ...)\n"
	"  --ramp DUR          power the devices on evenly over DUR (default 0)\n"
	"  --duration DUR      run DUR after the ramp (default 30s)\n"
	"                      DUR: a number with ms, s, m or h (30s, 5m, 1h)\n"
	"  --interval S        heartbeat interval, 1-86400 s (default 3)\n"
	"  --jitter FRACTION   heartbeat drift, 0-0.5 of the interval (default 0.1)\n"
	"  --arrivals RATE     people per device per minute, a Poisson process\n"
	"                      (default 0); pictures from --faces (default:\n"
	"                      faces/ of camsim's data, docs/install.md)\n"
	"  --profile P         strict (default) or as-printed\n"
	"  --threshold EXPR    e.g. 'p99(heartbeat)<200ms', 'errors<0.1%',\n"
	"                      'rate(heartbeat)>10' (repeatable, at most 64)\n"
	"  --abort-on-fail     stop as soon as a threshold fails (checked each\n"
	"                      second after the ramp)\n"
	"  --report-dir DIR    write DIR/report.json, junit.xml, report.html (also\n"
	"                      when interrupted)\n"
	"  --shard I/N         run shard I (0-based) of N: the devices k with\n"
	"                      k mod N == I of --devices (merge the reports with\n"
	"                      camsim report merge)\n"
	"  --shards N          N shards, this one's index from JOB_COMPLETION_INDEX\n"
	"                      (a Kubernetes Indexed Job); also CAMSIM_SHARDS\n"
	"  --source-addrs A-B  spread the devices' connections round-robin over\n"
	"                      these local IPv4 addresses, one /24 (e.g.\n"
	"                      127.0.0.2-127.0.0.9): more ephemeral ports\n"
	"  --keep-alive        reuse connections (default: a new connection per\n"
	"                      message, V1.16's short connection)\n"
	"  --connections N     at most N exchanges on the network at once in\n"
	"                      this process, 1-128 (default 128); the rest wait\n"
	"  --dry-run           check the command line, print the plan, run nothing\n"
	"  --propagate CMD     after the ramp, queue CMD for every device on the\n"
	"                      mock and time each until confirmed (enrol, batch:N\n"
	"                      people (1000), strategy, config)\n"
	"  --adapter FILE      with --server URL and --propagate: queue the\n"
	"                      command on your server through the adapter's\n"
	"                      operator action (docs/adapters.md)\n"
	"  --adapter-concurrency N  adapter calls at a time, 1-256 (default 16)\n"
	"  --config FILE       settings from FILE (default: camsim.json here, if\n"
	"                      any; CAMSIM_CONFIG); CAMSIM_<KEY> variables for\n"
	"                      the same keys; the command line wins\n"
	"                      (docs/config.md)\n"
	"  --no-config         read no config file\n"
	"Exit: 0 every threshold held, 99 a threshold failed, 2 the run could\n"
	"not run (wrong command line, server unreachable at start).\n";

int load_parse_duration(const char *s, int64_t *ms)
{
	char *end;
	double x, mul;

	errno = 0;
	x = strtod(s, &end);
	if (end == s || errno || !isfinite(x) || x < 0 || *s == '+' || *s == '-')
		return -1;
	mul = !*end || !strcmp(end, "s") ? 1000 : !strcmp(end, "ms") ? 1
	      : !strcmp(end, "m") ? 60000 : !strcmp(end, "h") ? 3600000 : -1;
	if (mul < 0 || x * mul > 365.0 * 86400000)
		return -1;
	*ms = (int64_t)(x * mul + 0.5);
	return 0;
}

static int bad(FILE *err, const char *opt, const char *v, const char *rule)
{
	fprintf(err, "camsim load: %s is \"%s\"; it must be %s\n", opt, v, rule);
	return LOAD_EXIT_CANNOT_RUN;
}

/* A number in [lo, hi]. */
static int num(FILE *err, const char *opt, const char *v, double lo,
	       double hi, const char *rule, double *out)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	if (end == v || *end || errno || !isfinite(x) || x < lo || x > hi)
		return bad(err, opt, v, rule);
	*out = x;
	return 0;
}

static bool url_ok(const char *u)
{
	const char *h = !strncmp(u, "http://", 7) ? u + 7 : NULL;

	if (!h || !*h || *h == '/' || *h == ':')
		return false;
	for (; *u; u++)
		if ((unsigned char)*u <= 0x20 || (unsigned char)*u >= 0x7F)
			return false;
	return true;
}

/* An integer in [lo, hi] written in decimal digits only. */
static bool int_in(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
		return false;
	v = strtol(s, &end, 10);
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* --shard I/N, or --shards N (else CAMSIM_SHARDS) with the index from
 * JOB_COMPLETION_INDEX, a Kubernetes Indexed Job's; -1 to go on. */
static int parse_shard(FILE *err, const char *shard, const char *shards,
		       load_opts *o)
{
	const char *env = getenv("CAMSIM_SHARDS"), *idx;
	char i_s[16], *slash;

	if (shard && shards)
		return bad(err, "--shard", shard, "given without --shards (the "
			   "count is its N)");
	if (shard) {
		slash = strchr(shard, '/');
		if (!slash || (size_t)(slash - shard) >= sizeof i_s)
			return bad(err, "--shard", shard, "I/N: a 0-based index "
				   "below a count, e.g. 0/4");
		memcpy(i_s, shard, (size_t)(slash - shard));
		i_s[slash - shard] = '\0';
		if (!int_in(slash + 1, 1, o->devices, &o->shards) ||
		    !int_in(i_s, 0, o->shards - 1, &o->shard))
			return bad(err, "--shard", shard, "I/N: N from 1 to "
				   "--devices, I from 0 to N - 1, e.g. 0/4");
		return -1;
	}
	if (!shards && !(shards = env))
		return -1;
	if (!int_in(shards, 1, o->devices, &o->shards))
		return bad(err, shards == env ? "CAMSIM_SHARDS" : "--shards",
			   shards, "an integer from 1 to --devices");
	if (!(idx = getenv("JOB_COMPLETION_INDEX")))
		return o->shards == 1 ? -1 : bad(err, "JOB_COMPLETION_INDEX",
			"(unset)", "set with --shards or CAMSIM_SHARDS (a "
			"Kubernetes Indexed Job sets it), or use --shard I/N");
	if (!int_in(idx, 0, o->shards - 1, &o->shard))
		return bad(err, "JOB_COMPLETION_INDEX", idx, "an integer from "
			   "0 to the shard count - 1");
	return -1;
}

/* --adapter and --propagate together, or neither (docs/load.md): the
 * adapter is read by --propagate only, and an adapter that is never
 * called would look like operator actions that never happened.  The
 * action --propagate needs is checked now, before any device starts.
 * -1 to go on, else an exit code. */
static int check_adapter(FILE *err, const load_opts *o)
{
	char e[600];

	if (o->adapter_concurrency && !o->adapter) {
		fprintf(err, "camsim load: --adapter-concurrency is the number of "
			"adapter calls at a time: it needs --adapter FILE\n");
		return LOAD_EXIT_CANNOT_RUN;
	}
	if (o->propagate.cmd && o->server && !o->adapter) {
		fprintf(err, "camsim load: --propagate against a server given by "
			"URL needs --adapter FILE: the command is queued on your "
			"server through the adapter's \"%s\" action "
			"(docs/adapters.md); --server mock queues it on the "
			"in-process mock\n", load_adp_action(o->propagate.cmd));
		return LOAD_EXIT_CANNOT_RUN;
	}
	if (!o->adapter)
		return -1;
	if (!o->server) {
		fprintf(err, "camsim load: --adapter \"%s\" is for a server given "
			"by URL; with --server mock the command is queued on "
			"the in-process mock directly: leave --adapter out\n",
			o->adapter);
		return LOAD_EXIT_CANNOT_RUN;
	}
	if (!o->propagate.cmd) {
		fprintf(err, "camsim load: --adapter \"%s\" is used only by "
			"--propagate (its operator action queues the command): "
			"without --propagate no adapter action would run; add "
			"--propagate enrol|batch[:N]|strategy|config or leave "
			"--adapter out\n", o->adapter);
		return LOAD_EXIT_CANNOT_RUN;
	}
	if (load_adp_check(o->adapter, o->propagate.cmd, e, sizeof e) < 0) {
		fprintf(err, "camsim load: --adapter: %s\n", e);
		return LOAD_EXIT_CANNOT_RUN;
	}
	return -1;
}

/* -1 to go on, else an exit code. */
static int parse_args(int argc, char **argv, FILE *out, FILE *err,
		      load_opts *o, load_threshold *th, bool *dry)
{
	double x;
	bool has_devices = false;
	const char *server = NULL, *shard = NULL, *shards = NULL;
	char e[400];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = 0;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, out);
			return 0;
		}
		if (!strcmp(a, "--abort-on-fail")) {
			o->abort_on_fail = true;
			continue;
		}
		if (!strcmp(a, "--dry-run")) {
			*dry = true;
			continue;
		}
		if (!strcmp(a, "--keep-alive")) {
			o->keep_alive = true;
			continue;
		}
		if (strcmp(a, "--server") && strcmp(a, "--devices") &&
		    strcmp(a, "--ramp") && strcmp(a, "--duration") &&
		    strcmp(a, "--interval") && strcmp(a, "--jitter") &&
		    strcmp(a, "--arrivals") && strcmp(a, "--faces") &&
		    strcmp(a, "--profile") && strcmp(a, "--threshold") &&
		    strcmp(a, "--report-dir") && strcmp(a, "--shard") &&
		    strcmp(a, "--shards") && strcmp(a, "--propagate") &&
		    strcmp(a, "--adapter") && strcmp(a, "--adapter-concurrency") &&
		    strcmp(a, "--source-addrs") && strcmp(a, "--connections")) {
			fprintf(err, "camsim load: unknown option \"%s\"\n%s", a,
				usage);
			return LOAD_EXIT_CANNOT_RUN;
		}
		if (!v) {
			fprintf(err, "camsim load: %s needs a value\n", a);
			return LOAD_EXIT_CANNOT_RUN;
		}
		i++;
		if (!strcmp(a, "--server"))
			server = v;
		else if (!strcmp(a, "--faces"))
			o->faces_dir = v;
		else if (!strcmp(a, "--report-dir"))
			o->report_dir = v;
		else if (!strcmp(a, "--shard"))
			shard = v;
		else if (!strcmp(a, "--shards"))
			shards = v;
		else if (!strcmp(a, "--adapter"))
			o->adapter = v;
		else if (!strcmp(a, "--connections")) {
			rc = num(err, a, v, 1, LOOP_ACTIVE_MAX, "an integer from "
				 "1 to 128", &x);
			if (!rc && x != floor(x))
				rc = bad(err, a, v, "an integer from 1 to 128");
			o->connections = (long)x;
		}
		else if (!strcmp(a, "--adapter-concurrency")) {
			rc = num(err, a, v, 1, LOAD_ADP_CONCURRENCY_MAX, "an integer "
				 "from 1 to 256", &x);
			if (!rc && x != floor(x))
				rc = bad(err, a, v, "an integer from 1 to 256");
			o->adapter_concurrency = (long)x;
		}
		else if (!strcmp(a, "--source-addrs")) {
			if (srcaddr_parse(a, v, &o->src, e, sizeof e) < 0) {
				fprintf(err, "camsim load: %s\n", e);
				rc = LOAD_EXIT_CANNOT_RUN;
			}
		} else if (!strcmp(a, "--propagate")) {
			if (load_prop_parse(v, &o->propagate, e, sizeof e) < 0) {
				fprintf(err, "camsim load: %s\n", e);
				rc = LOAD_EXIT_CANNOT_RUN;
			}
		}
		else if (!strcmp(a, "--devices")) {
			rc = num(err, a, v, 1, DEVICES_MAX, "an integer from 1 to "
				 "100000", &x);
			if (!rc && x != floor(x))
				rc = bad(err, a, v, "an integer from 1 to 100000");
			o->devices = (long)x;
			has_devices = true;
		} else if (!strcmp(a, "--interval")) {
			rc = num(err, a, v, 1, 86400, "an integer from 1 to 86400 "
				 "(seconds)", &x);
			if (!rc && x != floor(x))
				rc = bad(err, a, v, "an integer from 1 to 86400 "
					 "(seconds)");
			o->interval_s = (long)x;
		} else if (!strcmp(a, "--jitter"))
			rc = num(err, a, v, 0, 0.5, "a fraction from 0 to 0.5",
				 &o->jitter);
		else if (!strcmp(a, "--arrivals"))
			rc = num(err, a, v, 0, 600, "a number of people per device "
				 "per minute from 0 to 600", &o->arrivals);
		else if (!strcmp(a, "--ramp") || !strcmp(a, "--duration")) {
			if (load_parse_duration(v, !strcmp(a, "--ramp") ? &o->ramp_ms
						: &o->duration_ms) < 0)
				rc = bad(err, a, v, "a duration: a number with ms, "
					 "s, m or h (30s, 5m, 1h), at most a year");
		} else if (!strcmp(a, "--profile")) {
			if (!(o->prof = proto_profile_find(v)))
				rc = bad(err, a, v, "strict or as-printed");
		} else { /* --threshold */
			if (o->nth == THRESHOLDS_MAX)
				rc = bad(err, a, v, "one of at most 64 thresholds");
			else if (load_threshold_parse(v, &th[o->nth], e,
						      sizeof e) < 0) {
				fprintf(err, "camsim load: %s\n", e);
				rc = LOAD_EXIT_CANNOT_RUN;
			} else
				o->nth++;
		}
		if (rc)
			return rc;
	}
	if (!server || !has_devices) {
		fprintf(err, "camsim load: %s is required\n%s", !server ?
			"--server URL|mock" : "--devices N", usage);
		return LOAD_EXIT_CANNOT_RUN;
	}
	if (strcmp(server, "mock")) {
		if (!url_ok(server))
			return bad(err, "--server", server, "mock or an http:// URL "
				   "with a host, without spaces");
		o->server = server;
	}
	int code = check_adapter(err, o);

	if (code >= 0)
		return code;
	return parse_shard(err, shard, shards, o);
}

/* `camsim load' on its command line after cfg_apply put the configured
 * options before the user's. */
static int load_args(int argc, char **argv, FILE *out, FILE *err)
{
	load_threshold *th = calloc(THRESHOLDS_MAX, sizeof *th);
	load_opts o = {.duration_ms = 30000, .interval_s = 3, .jitter = 0.1,
		       .shards = 1,
		       .prof = &proto_profile_strict, .out = out,
		       .progress = err, .th = th};
	bool dry = false;
	int rc;

	if (!th) {
		fprintf(err, "camsim load: out of memory\n");
		return LOAD_EXIT_CANNOT_RUN;
	}
	o.progress_tty = isatty(fileno(err));
	if ((rc = parse_args(argc, argv, out, err, &o, th, &dry)) < 0 && dry) {
		fprintf(out, "camsim load: would run shard %ld of %ld: %ld of %ld "
			"devices against %s, %zu threshold(s)%s%s\n", o.shard,
			o.shards, (o.devices - o.shard + o.shards - 1) / o.shards,
			o.devices, o.server ? o.server : "the in-process mock",
			o.nth, o.report_dir ? ", reports in " : "",
			o.report_dir ? o.report_dir : "");
		rc = LOAD_EXIT_OK;
	} else if (rc < 0) {
		/* the faces camsim found its suite beside (installed or the
		 * build tree), not whatever ./faces the working directory has */
		char faces[PATH_MAX + 200];
		if (!o.faces_dir && data_find("faces", NULL, faces,
					      sizeof faces) == 0)
			o.faces_dir = faces;
		rc = load_run(&o);
	}
	free(th);
	return rc;
}

int load_main(int argc, char **argv, FILE *out, FILE *err)
{
	return cfg_main("load", load_args, argc, argv, out, err);
}
