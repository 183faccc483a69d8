/* mock_cli.c -- `camsim mock': parses the options, reads the token file,
 * starts the mock, waits for SIGINT/SIGTERM on a self-pipe, stops it.
 * Owns the exit code and the signal handlers; the server is mock.c's. */
#include "mock_cli.h"
#include "base.h"

#include "mock.h"
#include "mock_fault.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The default retention (docs/mock.md, "Retention"): a month, and a
 * database of at most 1 GiB, so that a mock left running does not fill
 * the disk. */
#define RETAIN_AGE_DEFAULT (30ll * 86400 * 1000)
#define RETAIN_BYTES_DEFAULT (1ll << 30)

static const char usage[] =
	"usage: camsim mock [--listen ADDR:PORT] [--path P] [--db FILE]\n"
	"                   [--token T | --token-file F] [--profile strict|as-printed]\n"
	"                   [--cmd-timeout S] [--retain AGE|SIZE|none]...\n"
	"                   [--fault SPEC]... [--fault-seed N] [--quiet]\n"
	"\n"
	"Runs camsim's reference server for protocol V1.16 until SIGINT/SIGTERM:\n"
	"devices POST to it, it judges and stores every message, and it sends the\n"
	"commands queued through its admin API (docs/mock.md).\n"
	"  --listen ADDR:PORT  default 127.0.0.1:8080; port 0 picks a free one; an\n"
	"                      address that is not loopback needs a token\n"
	"  --path P            the device endpoint (default /api/face)\n"
	"  --db FILE           SQLite file, created when missing (default\n"
	"                      camsim-mock.db); a restart keeps everything in it\n"
	"  --token T           admin API bearer token (Authorization: Bearer T)\n"
	"  --token-file F      the token is F's first line\n"
	"  --profile P         strict (default) or as-printed (docs/protocol.md)\n"
	"  --cmd-timeout S     a sent command without outcome after S seconds is\n"
	"                      timed out (default 60)\n"
	"  --retain AGE|SIZE   delete messages (with their records) older than AGE\n"
	"                      (30s, 90m, 12h, 7d) and the oldest beyond SIZE of\n"
	"                      database (500MB, 2GiB); settled commands older than\n"
	"                      AGE too, unsettled ones never; give both kinds, or\n"
	"                      none to keep everything (default 30d and 1GiB)\n"
	"  --fault SPEC        inject a fault into device exchanges, repeatable:\n"
	"                      status=CODE, delay=DURATION, reset, close, truncate,\n"
	"                      not-json, no-100, each with an optional chance :P%\n"
	"                      (default 100%), e.g. --fault status=500:10%\n"
	"  --fault-seed N      seed of the fault draws (default: from the clock;\n"
	"                      the start line names it)\n"
	"  --quiet             no line per exchange\n"
	"Exit: 0 stopped by a signal, 1 cannot start, 2 a wrong command line.\n";

typedef struct cli {
	mock_opts o;
	const char *faults[MOCK_FAULT_MAX];
	bool has_seed;
	const char *token_file;
	char token[260];
	bool quiet;
} cli;

static int bad(FILE *err, const char *fmt, const char *a, const char *b)
{
	fprintf(err, "camsim mock: ");
	fprintf(err, fmt, a, b);
	fprintf(err, "\n");
	return 2;
}

/* The first line of path, without its line end, into c->token. */
static int read_token(cli *c, FILE *err)
{
	FILE *f = fopen(c->token_file, "r");
	size_t n;

	if (!f)
		return bad(err, "--token-file \"%s\": %s", c->token_file,
			   strerror(errno));
	if (!fgets(c->token, sizeof c->token, f))
		c->token[0] = '\0';
	fclose(f);
	n = strcspn(c->token, "\r\n");
	c->token[n] = '\0';
	if (!n)
		return bad(err, "--token-file \"%s\": the first line is empty%s",
			   c->token_file, "");
	c->o.token = c->token;
	return 0;
}

/* "12h" (s, m, h, d) into o->retain_age_ms, "500MB" (kB, MB, GB decimal;
 * KiB, MiB, GiB binary) into o->retain_bytes, "none": both 0.  Nonzero
 * (with the message printed) when v is neither. */
static int parse_retain(const char *v, mock_opts *o, FILE *err)
{
	static const struct { const char *u; double mul; bool age; } units[] = {
		{"s", 1e3, true}, {"m", 60e3, true}, {"h", 3600e3, true},
		{"d", 86400e3, true}, {"kB", 1e3, false}, {"MB", 1e6, false},
		{"GB", 1e9, false}, {"KiB", 1024.0, false},
		{"MiB", 1048576.0, false}, {"GiB", 1073741824.0, false}};
	char *end;
	double n;

	if (!strcmp(v, "none")) {
		o->retain_age_ms = o->retain_bytes = 0;
		return 0;
	}
	errno = 0;
	n = strtod(v, &end);
	if (*v >= '0' && *v <= '9' && !errno && isfinite(n) && n > 0)
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			double x = n * units[i].mul;
			if (strcmp(end, units[i].u))
				continue;
			if (units[i].age && x >= 1000 && x <= 3650 * 86400e3) {
				o->retain_age_ms = (int64_t)x;
				return 0;
			}
			if (!units[i].age && x >= 1e6 && x <= 1e15) {
				o->retain_bytes = (int64_t)x;
				return 0;
			}
		}
	return bad(err, "--retain is \"%s\"; it must be an age from 1 s to 3650 d "
		   "with the unit s, m, h or d (\"12h\"), a database size from 1 MB "
		   "with the unit kB, MB, GB, KiB, MiB or GiB (\"500MB\"), or "
		   "none%s", v, "");
}

/* -1 to go on, or an exit code. */
static int parse(int argc, char **argv, FILE *out, FILE *err, cli *c)
{
	static const char *const with_value[] = {
		"--listen", "--path", "--db", "--token", "--token-file",
		"--profile", "--cmd-timeout", "--retain", "--fault",
		"--fault-seed"};

	c->o = (mock_opts){.listen = "127.0.0.1:8080", .path = "/api/face",
			   .db = "camsim-mock.db", .prof = &proto_profile_strict,
			   .cmd_timeout_ms = 60000, .faults = c->faults,
			   .retain_age_ms = RETAIN_AGE_DEFAULT,
			   .retain_bytes = RETAIN_BYTES_DEFAULT};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		bool takes = false;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, out);
			return 0;
		}
		if (!strcmp(a, "--quiet")) {
			c->quiet = true;
			continue;
		}
		for (size_t k = 0; k < ARRAY_SIZE(with_value); k++)
			takes |= !strcmp(a, with_value[k]);
		if (!takes) {
			fprintf(err, "camsim mock: unknown option \"%s\"\n%s", a,
				usage);
			return 2;
		}
		if (i + 1 >= argc)
			return bad(err, "%s needs a value%s", a, "");
		v = argv[++i];
		if (!strcmp(a, "--listen"))
			c->o.listen = v;
		else if (!strcmp(a, "--path"))
			c->o.path = v;
		else if (!strcmp(a, "--db"))
			c->o.db = v;
		else if (!strcmp(a, "--token"))
			c->o.token = v;
		else if (!strcmp(a, "--token-file"))
			c->token_file = v;
		else if (!strcmp(a, "--retain")) {
			if (parse_retain(v, &c->o, err))
				return 2;
		} else if (!strcmp(a, "--fault")) {
			mock_fault f;
			char e[400];
			if (c->o.nfaults == MOCK_FAULT_MAX)
				return bad(err, "--fault \"%s\": at most %s faults",
					   v, "32");
			if (mock_fault_parse(v, &f, e, sizeof e) < 0)
				return bad(err, "--fault: %s%s", e, "");
			c->faults[c->o.nfaults++] = v;
		} else if (!strcmp(a, "--fault-seed")) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(v, &end, 10);
			if (!*v || *end || errno || *v == '-')
				return bad(err, "--fault-seed is \"%s\"; it must be an "
					   "unsigned integer below 2^64%s", v, "");
			c->o.fault_seed = n;
			c->has_seed = true;
		} else if (!strcmp(a, "--profile")) {
			if (!(c->o.prof = proto_profile_find(v)))
				return bad(err, "--profile is \"%s\"; it must be "
					   "strict or as-printed%s", v, "");
		} else {
			char *end;
			double s = strtod(v, &end);
			if (!*v || *end || !isfinite(s) || s <= 0 || s > 31536000)
				return bad(err, "--cmd-timeout is \"%s\"; it must be "
					   "a number of seconds above 0 and at most "
					   "31536000%s", v, "");
			c->o.cmd_timeout_ms = (int64_t)ceil(s * 1000);
		}
	}
	if (c->o.token && c->token_file)
		return bad(err, "--token and --token-file both given; use one%s%s",
			   "", "");
	if (c->token_file)
		return read_token(c, err) ? 2 : -1;
	return -1;
}

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	char b = (char)sig;
	int saved = errno;

	if (write(sig_pipe[1], &b, 1) < 0) {
		/* the pipe is full: a stop is already on its way */
	}
	errno = saved;
}

int mock_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct sigaction sa, old_int, old_term;
	char e[600], b;
	mock *m = NULL;
	cli c = {0};
	int rc;

	if ((rc = parse(argc, argv, out, err, &c)) >= 0)
		return rc;
	c.o.log = c.quiet ? NULL : out;
	if (!c.has_seed)
		c.o.fault_seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		fprintf(err, "camsim mock: cannot create a pipe: %s\n",
			strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	rc = mock_start(&c.o, &m, e, sizeof e);
	if (rc < 0) {
		fprintf(err, "camsim mock: %s\n", e);
		rc = rc == CONF_EINVAL ? 2 : 1;
		goto out;
	}
	{
		/* the address as bound: port 0 became a free one */
		char host[128];
		const char *colon = strrchr(c.o.listen, ':');
		snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - c.o.listen)
			 : (int)strlen(c.o.listen), c.o.listen);
		fprintf(out, "camsim mock: devices POST to http://%s:%d%s (port %d), "
			"admin API and page at /admin/, database %s%s\n", host,
			mock_port(m), c.o.path, mock_port(m), c.o.db,
			c.o.token ? ", admin token required" : "");
		if (c.o.nfaults) {
			fprintf(out, "camsim mock: faults");
			for (size_t i = 0; i < c.o.nfaults; i++)
				fprintf(out, " %s", c.faults[i]);
			fprintf(out, ", --fault-seed %llu\n",
				(unsigned long long)c.o.fault_seed);
		}
	}
	fflush(out);
	for (;;) {
		fd_set fds;
		FD_ZERO(&fds);
		FD_SET(sig_pipe[0], &fds);
		if (select(sig_pipe[0] + 1, &fds, NULL, NULL, NULL) > 0 &&
		    read(sig_pipe[0], &b, 1) == 1)
			break;
	}
	fprintf(out, "camsim mock: stopping\n");
	fflush(out);
	mock_stop(m);
	rc = 0;
out:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	sig_pipe[0] = sig_pipe[1] = -1;
	return rc;
}
