/* run_cli.c -- `camsim run': option parsing, loading every scenario before
 * anything runs (so a typo in the 30th file costs no time), the summary
 * line and the exit code.  The running is runner.c's, the files
 * report.c's. */
#include "adapter.h"
#include "report.h"
#include "runner.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
	"usage: camsim run [--server mock|URL] [--adapter FILE] [--interactive]\n"
	"                  [--report-dir DIR] [--fail-on-warning] [--jobs N]\n"
	"                  [--profile strict|as-printed] [--slow-ms MS]\n"
	"                  [--cid-prefix P] [--quiet] [SCENARIO|DIR]...\n"
	"\n"
	"Runs scenario files (default: every scenarios/*.json) with simulated\n"
	"devices against camsim's reference mock server (in-process, on a\n"
	"clock that jumps over idle time) or a real server's device URL, checks\n"
	"every exchange against protocol V1.16, and writes junit.xml,\n"
	"report.json and report.html into the report directory.\n"
	"\n"
	"  --server mock|URL   the server under test (default mock)\n"
	"  --adapter FILE      how operator steps reach a real server\n"
	"                      (docs/scenarios.md, \"Adapters\")\n"
	"  --interactive       operator steps without an adapter entry prompt\n"
	"                      at the terminal (runs one scenario at a time)\n"
	"  --report-dir DIR    where reports go (default reports)\n"
	"  --fail-on-warning   SHOULD checks fail the run too\n"
	"  --jobs N            scenarios at once (default 2)\n"
	"  --profile NAME      judging profile (default strict)\n"
	"  --slow-ms MS        reply-latency warning limit (default 1000)\n"
	"  --cid-prefix P      derived device cids start with P (default cs)\n"
	"  --quiet             no progress output\n"
	"\n"
	"Exit status: 0 every MUST check passed, 1 one failed, 2 bad input.\n";

typedef struct list {
	char **v;
	size_t n, cap;
} list;

static int list_add(list *l, const char *s)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 32;
		char **nv = realloc(l->v, nc * sizeof *nv);
		if (!nv)
			return -1;
		l->v = nv;
		l->cap = nc;
	}
	if (!(l->v[l->n] = strdup(s)))
		return -1;
	l->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory stands for its *.json files, in name order. */
static int expand_arg(list *l, const char *arg, FILE *err)
{
	struct stat sb;
	DIR *d;
	struct dirent *e;
	size_t first = l->n;

	if (stat(arg, &sb) < 0) {
		fprintf(err, "camsim run: %s: %s\n", arg, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode))
		return list_add(l, arg);
	if (!(d = opendir(arg))) {
		fprintf(err, "camsim run: %s: %s\n", arg, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char *p;
		if (n < 6 || strcmp(e->d_name + n - 5, ".json") ||
		    e->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", arg, e->d_name) < 0 ||
		    list_add(l, p) < 0) {
			closedir(d);
			return -1;
		}
		free(p);
	}
	closedir(d);
	qsort(l->v + first, l->n - first, sizeof *l->v, cmp_str);
	return 0;
}

int run_main(int argc, char **argv, FILE *out, FILE *err)
{
	run_opts o = {.server = "mock", .prof = &proto_profile_strict,
		      .jobs = 2, .slow_ms = 1000};
	const char *report_dir = "reports", *adapter_file = NULL;
	bool quiet = false;
	list files = {0};
	scenario **sc = NULL;
	adapter *adp = NULL;
	cJSON *doc = NULL;
	char e[1024];
	size_t bad = 0, n_sc = 0;
	int rc = 2;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = !strcmp(a, "--server") || !strcmp(a, "--adapter") ||
			     !strcmp(a, "--report-dir") || !strcmp(a, "--jobs") ||
			     !strcmp(a, "--profile") || !strcmp(a, "--slow-ms") ||
			     !strcmp(a, "--cid-prefix");
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, out);
			rc = 0;
			goto out;
		}
		if (takes && !v) {
			fprintf(err, "camsim run: %s needs a value\n\n%s", a, usage);
			goto out;
		}
		if (!strcmp(a, "--server"))
			o.server = v;
		else if (!strcmp(a, "--adapter"))
			adapter_file = v;
		else if (!strcmp(a, "--report-dir"))
			report_dir = v;
		else if (!strcmp(a, "--cid-prefix"))
			o.cid_prefix = v;
		else if (!strcmp(a, "--jobs")) {
			char *end;
			long j = strtol(v, &end, 10);
			if (*end || j < 1 || j > 16) {
				fprintf(err, "camsim run: --jobs \"%s\": must be "
					"1..16\n", v);
				goto out;
			}
			o.jobs = (int)j;
		} else if (!strcmp(a, "--slow-ms")) {
			char *end;
			double ms = strtod(v, &end);
			if (*end || !(ms > 0)) {
				fprintf(err, "camsim run: --slow-ms \"%s\": must be "
					"a number of milliseconds > 0\n", v);
				goto out;
			}
			o.slow_ms = ms;
		} else if (!strcmp(a, "--profile")) {
			if (!(o.prof = proto_profile_find(v))) {
				fprintf(err, "camsim run: --profile \"%s\": strict "
					"or as-printed\n", v);
				goto out;
			}
		} else if (!strcmp(a, "--interactive"))
			o.interactive = true;
		else if (!strcmp(a, "--fail-on-warning"))
			o.fail_on_warning = true;
		else if (!strcmp(a, "--quiet"))
			quiet = true;
		else if (a[0] == '-' && a[1]) {
			fprintf(err, "camsim run: unknown option %s\n\n%s", a, usage);
			goto out;
		} else if (expand_arg(&files, a, err) < 0)
			goto out;
		if (takes)
			i++;
	}
	if (strcmp(o.server, "mock") && strncmp(o.server, "http://", 7) &&
	    strncmp(o.server, "https://", 8)) {
		fprintf(err, "camsim run: --server \"%s\": \"mock\" or the device "
			"URL of your server (http://host:port/path)\n", o.server);
		goto out;
	}
	if (!files.n && expand_arg(&files, "scenarios", err) < 0)
		goto out;
	if (!files.n) {
		fprintf(err, "camsim run: no scenario files\n");
		goto out;
	}
	if (adapter_file && adp_load(adapter_file, &adp, e, sizeof e) < 0) {
		fprintf(err, "camsim run: %s\n", e);
		goto out;
	}
	o.adp = adp;
	if (!(sc = calloc(files.n, sizeof *sc)))
		goto oom;
	for (size_t i = 0; i < files.n; i++) {
		if (scn_load(files.v[i], &sc[n_sc], e, sizeof e) < 0) {
			fprintf(err, "camsim run: %s\n", e);
			bad++;
			continue;
		}
		for (size_t k = 0; k < n_sc; k++)
			if (!strcmp(sc[k]->name, sc[n_sc]->name)) {
				fprintf(err, "camsim run: %s: name \"%s\" is also "
					"the name of %s\n", files.v[i],
					sc[n_sc]->name, sc[k]->path);
				bad++;
			}
		n_sc++;
	}
	if (bad) {
		fprintf(err, "camsim run: %zu scenario file%s cannot be used; "
			"nothing was run\n", bad, bad == 1 ? "" : "s");
		goto out;
	}
	o.progress = quiet ? NULL : err;
	o.tty = !quiet && isatty(fileno(err));
	e[0] = '\0';
	if (run_all(&o, sc, n_sc, &doc, e, sizeof e) < 0) {
		fprintf(err, "camsim run: %s\n", e);
		goto out;
	}
	if (e[0])
		fprintf(err, "camsim run: %s\n", e);
	if (rep_write(doc, report_dir, e, sizeof e) < 0) {
		fprintf(err, "camsim run: reports: %s\n", e);
		goto out;
	}
	{
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, "summary");
#define N(k) (int)cJSON_GetObjectItemCaseSensitive(s, k)->valuedouble
		fprintf(out, "camsim run: %d scenarios against %s: %d passed, %d "
			"failed, %d skipped; %d checks, %d failed, %d warnings; "
			"%.1f s; reports in %s/ (junit.xml, report.json, "
			"report.html)\n", N("scenarios"), o.server, N("passed"),
			N("failed"), N("skipped"), N("checks"), N("checks_failed"),
			N("warnings"),
			cJSON_GetObjectItemCaseSensitive(doc, "duration_ms")
					->valuedouble / 1000, report_dir);
		rc = N("failed") ? 1 : 0;
#undef N
	}
	goto out;
oom:
	fprintf(err, "camsim run: out of memory\n");
out:
	for (size_t i = 0; i < n_sc; i++)
		scn_free(sc[i]);
	free(sc);
	for (size_t i = 0; i < files.n; i++)
		free(files.v[i]);
	free(files.v);
	adp_free(adp);
	cJSON_Delete(doc);
	return rc;
}
