/* run_cli.c -- `camsim run': option parsing, choosing the scenarios (files,
 * directories, names and patterns of the suite, sections), loading every
 * one before anything runs, the preflight against a real server, signals,
 * progress, checkpoint reports, the summary and the exit code.  The running
 * is runner.c's, the files report.c's. */
#include "adapter.h"
#include "base.h"
#include "datadir.h"
#include "report.h"
#include "runner.h"
#include "version.h"
#include "proto.h"
#include "config.h"

#include "recog.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
	"usage: camsim run [--server mock|URL] [--adapter FILE] [--interactive]\n"
	"                  [--clock jump|real|scale:N] [--timeout DURATION]\n"
	"                  [--scenario-timeout DURATION] [--state-wait DURATION]\n"
	"                  [--report-dir DIR]\n"
	"                  [--fail-on-warning] [--fail-on-skip] [--jobs N]\n"
	"                  [--profile strict|as-printed] [--slow-ms MS]\n"
	"                  [--cid-prefix P] [--stable-cids] [--keep-alive]\n"
	"                  [--section S]... [--exclude PATTERN]... [--list]\n"
	"                  [--no-preflight] [--color auto|always|never] [--quiet]\n"
	"                  [--config FILE | --no-config]\n"
	"                  [SCENARIO|DIR|NAME|PATTERN]...\n"
	"\n"
	"Runs conformance scenarios (default: the whole suite) with simulated\n"
	"devices against camsim's reference mock server (in-process) or your\n"
	"server's device URL, checks every exchange against protocol V1.16, and\n"
	"writes junit.xml, report.json and report.html into the report\n"
	"directory (also every 5 s while it runs, and when it is interrupted).\n"
	"\n"
	"  --server mock|URL     the server under test (default mock)\n"
	"  --adapter FILE        how operator steps reach your server\n"
	"                        (docs/adapters.md)\n"
	"  --interactive         operator steps without an adapter entry prompt\n"
	"                        at the terminal (one scenario at a time)\n"
	"  --clock C             jump (default: idle device time is skipped),\n"
	"                        real, or scale:N (N times real speed)\n"
	"  --timeout D           stop the whole run after D (30s, 5m, 1h)\n"
	"  --scenario-timeout D  one scenario's hard cap of wall time\n"
	"  --state-wait D        how long to ask a server whether it gave up a\n"
	"                        command whose result was lost (30s)\n"
	"  --report-dir DIR      where reports go (default reports)\n"
	"  --fail-on-warning     SHOULD checks fail the run too\n"
	"  --fail-on-skip        a skipped scenario fails the run\n"
	"  --jobs N              scenarios at once (default 2)\n"
	"  --profile NAME        judging profile (default strict)\n"
	"  --slow-ms MS          reply-latency warning limit (default 1000)\n"
	"  --cid-prefix P        derived device cids start with P (default cs)\n"
	"  --stable-cids         the same cids in every run (default: unique per\n"
	"                        run, so a rerun meets a clean server)\n"
	"  --keep-alive          devices reuse connections (default: one per\n"
	"                        message, V1.16's short connection)\n"
	"  --section S           only scenarios covering section S of V1.16\n"
	"  --exclude PATTERN     leave out scenarios whose name matches\n"
	"  --list                list the chosen scenarios and exit\n"
	"  --no-preflight        do not probe the server before running\n"
	"  --color WHEN          colours on a terminal (auto; NO_COLOR is obeyed)\n"
	"  --quiet               no progress output\n"
	"  --config FILE         settings from FILE (default: camsim.json here,\n"
	"                        if any; CAMSIM_CONFIG); CAMSIM_<KEY> variables\n"
	"                        for the same keys; the command line wins\n"
	"                        (docs/config.md)\n"
	"  --no-config           read no config file\n"
	"\n"
	"A scenario is a file, a directory of files, or a name or pattern of the\n"
	"suite's (heartbeat, 'facelib-*').\n"
	"\n"
	"Exit status: 0 every MUST check passed; 1 one failed (or, with the\n"
	"options above, a SHOULD check or a skip); 2 bad input, or the server or\n"
	"adapter cannot be used (preflight); 124 --timeout passed; 128+N stopped\n"
	"by signal N (130 Ctrl-C, 143 SIGTERM).  Reports are written in every\n"
	"case except bad input.\n";

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
			return CONF_ENOMEM;
		l->v = nv;
		l->cap = nc;
	}
	if (!(l->v[l->n] = strdup(s)))
		return CONF_ENOMEM;
	l->n++;
	return 0;
}

static void list_free(list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory stands for its *.json files, in name order. */
static int expand_dir(list *l, const char *arg, FILE *err)
{
	DIR *d;
	struct dirent *e;
	size_t first = l->n;

	if (!(d = opendir(arg))) {
		fprintf(err, "camsim run: %s: %s\n", arg, strerror(errno));
		return CONF_EREAD;
	}
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char *p;
		int rc;
		if (n < 6 || strcmp(e->d_name + n - 5, ".json") ||
		    e->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", arg, e->d_name) < 0) {
			closedir(d);
			return CONF_ENOMEM;
		}
		rc = list_add(l, p);
		free(p); /* list_add keeps a copy, or nothing */
		if (rc < 0) {
			closedir(d);
			return rc;
		}
	}
	closedir(d);
	qsort(l->v + first, l->n - first, sizeof *l->v, cmp_str);
	return 0;
}

static bool is_dir(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* ---------------------------------------------------------------- durations */

/* "90", "90s", "5m", "1h", "1.5h" in seconds; false when it is none. */
static bool duration(const char *v, double *s)
{
	char *end;
	double d = strtod(v, &end);

	if (end == v || !(d > 0))
		return false;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		*s = d;
	else if (!strcmp(end, "m"))
		*s = d * 60;
	else if (!strcmp(end, "h"))
		*s = d * 3600;
	else
		return false;
	return *s < 1e9;
}

/* ---------------------------------------------------------------- output */

typedef struct ui {
	FILE *out, *err;
	bool quiet, tty, color;
	const char *report_dir;
	double last_line;      /* when a non-tty progress line was printed */
	size_t last_done;
	bool drawn;            /* a tty progress line is on screen */
} ui;

static const char *col(const ui *u, const char *code)
{
	return u->color ? code : "";
}

#define RED "\033[31m"
#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define BOLD "\033[1m"
#define DIM "\033[2m"
#define RESET "\033[0m"

static const char *status_color(const ui *u, const char *st)
{
	return !strcmp(st, "pass") ? col(u, GREEN)
	       : !strcmp(st, "skip") ? col(u, YELLOW) : col(u, RED);
}

static void on_done(void *ud, const cJSON *sc, size_t done, size_t total)
{
	ui *u = ud;
	const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(sc, "status"));
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(sc, "name"));
	double ms = cJSON_GetNumberValue(cJSON_GetObjectItem(sc, "duration_ms"));

	if (u->quiet)
		return;
	if (u->tty) {
		/* passes show in the progress line; the rest get a line */
		if (!strcmp(st, "pass"))
			return;
		fprintf(u->err, "\r\033[K%s%-5s%s %s (%.1f s)\n",
			status_color(u, st), st, col(u, RESET), name, ms / 1000);
	} else {
		fprintf(u->err, "[%zu/%zu] %s %s (%.1f s)\n", done, total, st,
			name, ms / 1000);
	}
	fflush(u->err);
}

static void on_tick(void *ud, const char *const *names, const double *secs,
		    size_t n, size_t done, size_t total, double elapsed)
{
	ui *u = ud;
	char line[400];
	size_t used;

	if (u->quiet)
		return;
	used = (size_t)snprintf(line, sizeof line, "[%zu/%zu] %.0f s", done,
				total, elapsed);
	for (size_t i = 0; i < n && used < sizeof line; i++)
		used += (size_t)snprintf(line + used, sizeof line - used,
					 "%s%s (%.0f s)", i ? ", " : "; running: ",
					 names[i], secs[i]);
	if (u->tty) {
		fprintf(u->err, "\r\033[K%.*s", 110, line);
		u->drawn = true;
	} else if (done == u->last_done && elapsed - u->last_line >= 30) {
		/* a CI log still hears from a long scenario */
		fprintf(u->err, "%s\n", line);
		u->last_line = elapsed;
	}
	if (done != u->last_done) {
		u->last_done = done;
		u->last_line = elapsed;
	}
	fflush(u->err);
}

static void on_checkpoint(void *ud, const cJSON *doc)
{
	ui *u = ud;
	char e[600];

	if (rep_write(doc, u->report_dir, e, sizeof e) < 0)
		fprintf(u->err, "\ncamsim run: checkpoint reports: %s\n", e);
}

/* The first failing check of a scenario: id, name and message. */
static void first_failure(const cJSON *sc, const char **id, const char **name,
			  const char **msg)
{
	const cJSON *c;

	*id = *name = *msg = NULL;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(sc, "checks")) {
		const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(c,
									  "status"));
		if (st && (!strcmp(st, "fail") || !strcmp(st, "error"))) {
			*id = cJSON_GetStringValue(cJSON_GetObjectItem(c, "id"));
			*name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
			*msg = cJSON_GetStringValue(cJSON_GetObjectItem(c, "message"));
			return;
		}
	}
}

/* The end: counts, then each failed, errored and skipped scenario with
 * its first reason, then the verdict. */
static void summary(const ui *u, const cJSON *doc, const char *server)
{
	const cJSON *s = cJSON_GetObjectItem(doc, "summary"), *sc;
	const char *verdict = cJSON_GetStringValue(cJSON_GetObjectItem(doc,
								       "verdict"));
	const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(doc,
								   "interrupted"));
	FILE *f = u->out;
#define N(k) (int)cJSON_GetNumberValue(cJSON_GetObjectItem(s, k))

	fprintf(f, "camsim run: %d scenarios against %s: %d passed, %d failed, "
		"%d skipped, %d errors; %d checks, %d failed, %d warnings, %d "
		"n/a; %.1f s; reports in %s/ (junit.xml, report.json, "
		"report.html)\n", N("scenarios"), server, N("passed"), N("failed"),
		N("skipped"), N("errors"), N("checks"), N("checks_failed"),
		N("warnings"), N("not_applicable"),
		cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "duration_ms")) / 1000,
		u->report_dir);
	for (int pass = 0; pass < 3; pass++) {
		static const char *const which[] = {"fail", "error", "skip"};
		static const char *const head[] = {"Failed", "Not finished",
						   "Skipped"};
		bool any = false;
		cJSON_ArrayForEach(sc, cJSON_GetObjectItem(doc, "scenarios")) {
			const char *st = cJSON_GetStringValue(
				cJSON_GetObjectItem(sc, "status"));
			const char *name = cJSON_GetStringValue(
				cJSON_GetObjectItem(sc, "name"));
			const char *reason = cJSON_GetStringValue(
				cJSON_GetObjectItem(sc, "reason"));
			const char *id, *cname, *msg;
			if (strcmp(st, which[pass]))
				continue;
			if (!any)
				fprintf(f, "\n%s%s:%s\n", status_color(u, st),
					head[pass], col(u, RESET));
			any = true;
			first_failure(sc, &id, &cname, &msg);
			/* msg and reason quote what a server sent */
			if (pass == 0 && id) {
				char *m = proto_esc_dup(msg, false);
				fprintf(f, "  %s%s%s  %s (%s)\n      %.400s\n",
					col(u, BOLD), name, col(u, RESET), id,
					cname, m ? m : "(out of memory)");
				free(m);
			} else {
				char *r = proto_esc_dup(reason, false);
				fprintf(f, "  %s%s%s  %.400s\n", col(u, BOLD), name,
					col(u, RESET), r ? r : "");
				free(r);
			}
		}
	}
	fprintf(f, "\n%s%s%s", verdict && !strcmp(verdict, "pass")
		? col(u, GREEN) : col(u, RED), col(u, BOLD),
		verdict && !strcmp(verdict, "pass") ? "PASS" : "FAIL");
	if (why)
		fprintf(f, " (%s)", why);
	else if (N("skipped") && verdict && !strcmp(verdict, "pass"))
		fprintf(f, " with %d scenario%s skipped: not tested (--fail-on-skip "
			"fails the run for them)", N("skipped"),
			N("skipped") == 1 ? "" : "s");
	fprintf(f, "%s\n", col(u, RESET));
#undef N
}

/* ---------------------------------------------------------------- preflight */

static size_t sink(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return sz * n;
}

/* Sends one heartbeat from the probe cid: 0 when the server answered
 * HTTP (a status other than 200 is reported in note), CONF_ESERVER with a
 * sentence in err when it refused, timed out, or did not speak HTTP
 * (CONF_ENOMEM when libcurl cannot start). */
static int probe(const char *url, const char *cid, char *note, size_t nn,
		 char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char body[300], cerr[CURL_ERROR_SIZE] = "";
	long status = 0;
	double total = 0;
	time_t now = time(NULL);
	CURLcode cc;

	if (!c) {
		snprintf(err, errlen, "libcurl cannot start");
		return CONF_ENOMEM;
	}
	snprintf(body, sizeof body, "{\"app_version\":\"V1.0.0\",\"cid\":\"%s\","
		 "\"seq\":%lld,\"uptime\":%lld,\"type\":3}", cid, (long long)now,
		 (long long)now);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "camsim-preflight/1");
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &total);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK || status < 100) {
		snprintf(err, errlen, "%s did not answer a heartbeat: %s%s%s",
			 url, cc == CURLE_OK ? "no HTTP answer"
			 : cerr[0] ? cerr : curl_easy_strerror(cc),
			 cc == CURLE_OPERATION_TIMEDOUT ? " (waited 10 s)" : "",
			 cc == CURLE_WEIRD_SERVER_REPLY ||
			 cc == CURLE_UNSUPPORTED_PROTOCOL ? " (is it an HTTP "
			 "server?)" : "");
		return CONF_ESERVER;
	}
	if (status != 200)
		snprintf(note, nn, "%s answered a heartbeat from the probe device "
			 "%s with HTTP %ld, not 200 (does it accept only "
			 "registered devices? then see --stable-cids)", url, cid,
			 status);
	else
		snprintf(note, nn, "%s answered a heartbeat with 200 in %.0f ms",
			 url, total * 1000);
	return 0;
}

/* Every operator action the scenarios need that the adapter lacks, named
 * in err; false when there is one. */
static bool adapter_covers(const adapter *adp, bool interactive,
			   scenario *const *sc, size_t n, char *err,
			   size_t errlen)
{
	size_t used = 0, missing = 0;

	err[0] = '\0';
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sc[i]->n_steps; k++) {
			const scn_step *st = &sc[i]->steps[k];
			char pat[80];
			if (st->kind != SCN_OPERATOR || interactive ||
			    adp_has(adp, st->action))
				continue;
			snprintf(pat, sizeof pat, "\"%s\"", st->action);
			if (strstr(err, pat))
				continue;
			missing++;
			used += (size_t)snprintf(err + used, used < errlen ?
						 errlen - used : 0, "%s%s (%s)",
						 used ? ", " : "", pat, sc[i]->name);
		}
	return missing == 0;
}

/* ---------------------------------------------------------------- signals */

static atomic_int g_stop;
static volatile sig_atomic_t g_signo;

static void on_signal(int signo)
{
	g_signo = signo;
	atomic_store(&g_stop, RUN_STOP_INTERRUPTED);
}

/* ---------------------------------------------------------------- main */

static bool member_of(const list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!fnmatch(l->v[i], s, 0))
			return true;
	return false;
}

static bool has_section(const scenario *s, const list *sections)
{
	if (!sections->n)
		return true;
	for (size_t i = 0; i < s->n_sections; i++)
		for (size_t k = 0; k < sections->n; k++)
			if (!strcmp(s->sections[i], sections->v[k]))
				return true;
	return false;
}

/* The reports of a run that did not start (preflight refused): every
 * scenario an error with why. */
static cJSON *unrun_doc(const run_opts *o, scenario *const *sc, size_t n,
			const char *why)
{
	cJSON *d = cJSON_CreateObject(), *arr, *sum;
	char when[32];
	struct tm tm;

	gmtime_r(&o->started, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(d, "schema", "camsim-report/2");
	cJSON_AddStringToObject(d, "tool", "camsim");
	cJSON_AddStringToObject(d, "version", o->version);
	cJSON_AddStringToObject(d, "started", when);
	cJSON_AddNumberToObject(d, "duration_ms", 0);
	cJSON_AddStringToObject(d, "server", o->server);
	cJSON_AddStringToObject(d, "clock", o->clock_text);
	cJSON_AddStringToObject(d, "profile", o->prof->name);
	cJSON_AddBoolToObject(d, "fail_on_warning", o->fail_on_warning);
	cJSON_AddBoolToObject(d, "fail_on_skip", o->fail_on_skip);
	cJSON_AddFalseToObject(d, "complete");
	cJSON_AddStringToObject(d, "interrupted", why);
	sum = cJSON_AddObjectToObject(d, "summary");
	arr = cJSON_AddArrayToObject(d, "scenarios");
	for (size_t i = 0; i < n; i++) {
		cJSON *j = cJSON_CreateObject(), *secs = cJSON_CreateArray();
		for (size_t k = 0; k < sc[i]->n_sections; k++)
			cJSON_AddItemToArray(secs, cJSON_CreateString(
						     sc[i]->sections[k]));
		cJSON_AddStringToObject(j, "name", sc[i]->name);
		cJSON_AddStringToObject(j, "file", sc[i]->path);
		cJSON_AddStringToObject(j, "title", sc[i]->title);
		cJSON_AddItemToObject(j, "sections", secs);
		cJSON_AddStringToObject(j, "status", "error");
		cJSON_AddStringToObject(j, "reason", why);
		cJSON_AddNumberToObject(j, "duration_ms", 0);
		cJSON_AddNumberToObject(j, "virtual_ms", 0);
		cJSON_AddArrayToObject(j, "devices");
		cJSON_AddArrayToObject(j, "checks");
		cJSON_AddArrayToObject(j, "exchanges");
		cJSON_AddArrayToObject(j, "events");
		cJSON_AddItemToArray(arr, j);
	}
	cJSON_AddNumberToObject(sum, "scenarios", (double)n);
	cJSON_AddNumberToObject(sum, "passed", 0);
	cJSON_AddNumberToObject(sum, "failed", 0);
	cJSON_AddNumberToObject(sum, "skipped", 0);
	cJSON_AddNumberToObject(sum, "errors", (double)n);
	cJSON_AddNumberToObject(sum, "checks", 0);
	cJSON_AddNumberToObject(sum, "checks_failed", 0);
	cJSON_AddNumberToObject(sum, "warnings", 0);
	cJSON_AddNumberToObject(sum, "not_applicable", 0);
	cJSON_AddStringToObject(d, "verdict", "fail");
	return d;
}

/* Removes the report files of an earlier run, so that none of them can be
 * read as this run's. */
static int clear_reports(const char *dir, FILE *err)
{
	static const char *const files[] = {"junit.xml", "report.json",
					    "report.html"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		if (unlink(p) < 0 && errno != ENOENT) {
			fprintf(err, "camsim run: cannot remove the earlier "
				"report %s: %s\n", p, strerror(errno));
			return CONF_EWRITE;
		}
	}
	return 0;
}

/* `camsim run' on its command line after cfg_apply put the configured
 * options before the user's. */
static int run_cmd(int argc, char **argv, FILE *out, FILE *err)
{
	run_opts o = {.server = "mock", .prof = &proto_profile_strict,
		      .jobs = 2, .slow_ms = 1000, .clock = RUN_CLOCK_JUMP,
		      .scale = 1, .clock_text = "jump", .state_wait_s = 30};
	const char *report_dir = "reports", *adapter_file = NULL,
		   *color = "auto";
	bool quiet = false, listing = false, preflight = true;
	list files = {0}, suite = {0}, names = {0}, sections = {0},
	     excludes = {0};
	scenario **sc = NULL;
	adapter *adp = NULL;
	cJSON *doc = NULL;
	char e[4096], run_id[8], dir[PATH_MAX + 1200];
	size_t bad = 0, n_sc = 0, n_all = 0;
	int rc = 2;
	ui u = {.out = out, .err = err};
	struct sigaction sa = {0}, old_int, old_term;
	bool handlers = false;

	atomic_store(&g_stop, 0);
	g_signo = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		static const char *const valued[] = {
			"--server", "--adapter", "--report-dir", "--jobs",
			"--profile", "--slow-ms", "--cid-prefix", "--clock",
			"--timeout", "--scenario-timeout", "--state-wait",
			"--section",
			"--exclude", "--color", NULL};
		bool takes = false;
		for (size_t k = 0; valued[k]; k++)
			takes |= !strcmp(a, valued[k]);
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
		else if (!strcmp(a, "--color"))
			color = v;
		else if (!strcmp(a, "--section")) {
			if (list_add(&sections, v) < 0)
				goto oom;
		} else if (!strcmp(a, "--exclude")) {
			if (list_add(&excludes, v) < 0)
				goto oom;
		} else if (!strcmp(a, "--jobs")) {
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
		} else if (!strcmp(a, "--clock")) {
			char *end = NULL;
			o.clock_text = v;
			if (!strcmp(v, "jump"))
				o.clock = RUN_CLOCK_JUMP;
			else if (!strcmp(v, "real"))
				o.clock = RUN_CLOCK_REAL;
			else if (!strncmp(v, "scale:", 6) &&
				 (o.scale = strtod(v + 6, &end)) > 0 && !*end &&
				 o.scale <= 1e6)
				o.clock = RUN_CLOCK_SCALE;
			else {
				fprintf(err, "camsim run: --clock \"%s\": jump, "
					"real, or scale:N with N a factor > 0 "
					"(scale:10 runs ten times faster than "
					"real time)\n", v);
				goto out;
			}
		} else if (!strcmp(a, "--timeout") ||
			   !strcmp(a, "--scenario-timeout") ||
			   !strcmp(a, "--state-wait")) {
			double s;
			if (!duration(v, &s)) {
				fprintf(err, "camsim run: %s \"%s\": a duration "
					"such as 90s, 5m or 1h\n", a, v);
				goto out;
			}
			*(!strcmp(a, "--timeout") ? &o.timeout_s
			  : !strcmp(a, "--state-wait") ? &o.state_wait_s
			  : &o.scenario_timeout_s) = s;
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
		else if (!strcmp(a, "--fail-on-skip"))
			o.fail_on_skip = true;
		else if (!strcmp(a, "--stable-cids"))
			o.stable_cids = true;
		else if (!strcmp(a, "--keep-alive"))
			o.keep_alive = true;
		else if (!strcmp(a, "--list"))
			listing = true;
		else if (!strcmp(a, "--no-preflight"))
			preflight = false;
		else if (!strcmp(a, "--quiet"))
			quiet = true;
		else if (a[0] == '-' && a[1]) {
			fprintf(err, "camsim run: unknown option %s\n\n%s", a, usage);
			goto out;
		} else if (is_dir(a)) {
			if (expand_dir(&files, a, err) < 0)
				goto out;
		} else if (access(a, F_OK) == 0 || strchr(a, '/') ||
			   (strlen(a) > 5 && !strcmp(a + strlen(a) - 5, ".json"))) {
			if (list_add(&files, a) < 0)
				goto oom;
		} else if (list_add(&names, a) < 0) {
			goto oom;
		}
		if (takes)
			i++;
	}
	if (strcmp(o.server, "mock") && strncmp(o.server, "http://", 7) &&
	    strncmp(o.server, "https://", 8)) {
		fprintf(err, "camsim run: --server \"%s\": \"mock\" or the device "
			"URL of your server (http://host:port/path)\n", o.server);
		goto out;
	}
	if (strcmp(color, "auto") && strcmp(color, "always") &&
	    strcmp(color, "never")) {
		fprintf(err, "camsim run: --color \"%s\": auto, always or never\n",
			color);
		goto out;
	}
	/* no file given, or names to find: the suite */
	if (!files.n || names.n) {
		if (data_find("scenarios", NULL, dir, sizeof dir) < 0) {
			fprintf(err, "camsim run: the scenario suite is not found "
				"(looked in %s; install camsim (docs/install.md), "
				"set CAMSIM_DATA to the directory holding "
				"scenarios/, or name scenario files)\n", dir);
			goto out;
		}
		if (expand_dir(&suite, dir, err) < 0)
			goto out;
	}
	if (adapter_file && adp_load(adapter_file, &adp, e, sizeof e) < 0) {
		fprintf(err, "camsim run: %s\n", e);
		goto out;
	}
	o.adp = adp;
	if (!(sc = calloc(files.n + suite.n + 1, sizeof *sc)))
		goto oom;
	for (size_t i = 0; i < files.n + suite.n; i++) {
		bool from_suite = i >= files.n;
		const char *path = from_suite ? suite.v[i - files.n] : files.v[i];
		scenario *s = NULL;
		bool dup = false;
		if (scn_load(path, &s, e, sizeof e) < 0) {
			fprintf(err, "camsim run: %s\n", e);
			bad++;
			continue;
		}
		n_all++;
		/* the suite's files count only when named (or nothing was) */
		if ((from_suite && names.n && !member_of(&names, s->name)) ||
		    !has_section(s, &sections) || member_of(&excludes, s->name)) {
			scn_free(s);
			continue;
		}
		for (size_t k = 0; k < n_sc; k++)
			if (!strcmp(sc[k]->name, s->name)) {
				char ra[PATH_MAX], rb[PATH_MAX];
				dup = true; /* the same file twice runs once */
				if (!realpath(sc[k]->path, ra) ||
				    !realpath(s->path, rb) || strcmp(ra, rb)) {
					fprintf(err, "camsim run: %s: name \"%s\" "
						"is also the name of %s\n", path,
						s->name, sc[k]->path);
					bad++;
				}
			}
		if (dup) {
			scn_free(s);
			continue;
		}
		sc[n_sc++] = s;
	}
	if (bad) {
		fprintf(err, "camsim run: %zu scenario file%s cannot be used; "
			"nothing was run\n", bad, bad == 1 ? "" : "s");
		goto out;
	}
	for (size_t k = 0; k < names.n; k++) {
		bool hit = false;
		for (size_t i = 0; i < n_sc; i++)
			hit |= !fnmatch(names.v[k], sc[i]->name, 0);
		if (!hit) {
			fprintf(err, "camsim run: \"%s\" names no scenario of the "
				"suite (camsim run --list shows them)\n",
				names.v[k]);
			goto out;
		}
	}
	if (!n_sc) {
		fprintf(err, "camsim run: no scenario is left to run (%zu loaded, "
			"none chosen by the names, --section and --exclude)\n",
			n_all);
		goto out;
	}
	if (listing) {
		for (size_t i = 0; i < n_sc; i++) {
			char secs[64] = "";
			size_t used = 0;
			for (size_t k = 0; k < sc[i]->n_sections; k++)
				used += (size_t)snprintf(secs + used, used < sizeof secs
						 ? sizeof secs - used : 0, "%s§%s",
						 k ? "," : "", sc[i]->sections[k]);
			fprintf(out, "%-30s %-12s %s%s\n", sc[i]->name, secs,
				sc[i]->title, sc[i]->needs_recognition
				? " [recognition]" : "");
		}
		rc = 0;
		goto out;
	}

	o.version = camsim_version();
	o.started = time(NULL);
	snprintf(run_id, sizeof run_id, "%04lx",
		 (unsigned long)((o.started ^ (getpid() << 7)) & 0xffff));
	o.run_id = run_id;
	u.quiet = quiet;
	u.tty = !quiet && isatty(fileno(err));
	u.color = !strcmp(color, "always") ||
		  (!strcmp(color, "auto") && isatty(fileno(out)) &&
		   !(getenv("NO_COLOR") && *getenv("NO_COLOR")));
	u.report_dir = report_dir;
	if (clear_reports(report_dir, err) < 0)
		goto out;

	if (strcmp(o.server, "mock")) {
		char note[600], probe_cid[48];
		if (!adapter_covers(adp, o.interactive, sc, n_sc, e, sizeof e)) {
			char why[4200];
			fprintf(err, "camsim run: the adapter%s%s has no entry for "
				"these operator actions, which the chosen scenarios "
				"need: %s.  Add them (docs/adapters.md), give "
				"--interactive, or leave those scenarios out with "
				"--exclude.\n", adapter_file ? " " : "",
				adapter_file ? adapter_file : "", e);
			snprintf(why, sizeof why, "not run: the adapter lacks "
				 "operator actions: %s", e);
			doc = unrun_doc(&o, sc, n_sc, why);
			goto report2;
		}
		if (!quiet && !o.interactive)
			fprintf(err, "camsim run: server-state checks: %s, %s\n",
				adp_has(adp, "command_state") ? "command_state "
				"through the adapter" : "no command_state action "
				"(outcomes judged from the exchanges only)",
				adp_has(adp, "records") ? "records through the "
				"adapter" : "no records action (records-stored "
				"n/a)");
		snprintf(probe_cid, sizeof probe_cid, "%.8sprobe%s",
			 o.cid_prefix ? o.cid_prefix : "cs",
			 o.stable_cids ? "" : run_id);
		if (preflight && probe(o.server, probe_cid, note, sizeof note, e,
				       sizeof e) < 0) {
			char why[700];
			fprintf(err, "camsim run: preflight: %s\n", e);
			snprintf(why, sizeof why, "not run: preflight failed: %.600s",
				 e);
			doc = unrun_doc(&o, sc, n_sc, why);
			goto report2;
		}
		if (preflight && !quiet)
			fprintf(err, "camsim run: preflight: %s\n", note);
	}
	{
		char mdir[PATH_MAX];
		size_t need = 0;
		for (size_t i = 0; i < n_sc; i++)
			need += sc[i]->needs_recognition;
		if (need && recog_model_dir(mdir, sizeof mdir) < 0)
			fprintf(err, "camsim run: %zu scenario%s need%s face "
				"recognition, whose models are not found (%s); "
				"they will be skipped%s\n", need, need == 1 ? "" :
				"s", need == 1 ? "s" : "", mdir,
				o.fail_on_skip ? ", which fails the run" :
				" (--fail-on-skip fails the run for them)");
	}

	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESETHAND; /* a second signal ends it at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	handlers = true;
	o.stop = &g_stop;
	o.on_done = on_done;
	o.on_tick = on_tick;
	o.on_checkpoint = on_checkpoint;
	o.ud = &u;
	e[0] = '\0';
	if (run_all(&o, sc, n_sc, &doc, e, sizeof e) < 0) {
		fprintf(err, "\ncamsim run: %s\n", e);
		goto out;
	}
	if (u.tty)
		fprintf(err, "\r\033[K");
	if (e[0])
		fprintf(err, "camsim run: %s\n", e);
	if (rep_write(doc, report_dir, e, sizeof e) < 0) {
		fprintf(err, "camsim run: reports: %s\n", e);
		goto out;
	}
	summary(&u, doc, o.server);
	if (g_signo)
		rc = 128 + g_signo;
	else if (cJSON_GetObjectItem(doc, "interrupted") &&
		 cJSON_IsString(cJSON_GetObjectItem(doc, "interrupted")))
		rc = 124;
	else
		rc = strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(doc,
					"verdict")), "pass") ? 1 : 0;
	goto out;
report2:
	if (rep_write(doc, report_dir, e, sizeof e) < 0)
		fprintf(err, "camsim run: reports: %s\n", e);
	rc = 2;
	goto out;
oom:
	fprintf(err, "camsim run: out of memory\n");
out:
	if (handlers) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	for (size_t i = 0; i < n_sc; i++)
		scn_free(sc[i]);
	free(sc);
	list_free(&files);
	list_free(&suite);
	list_free(&names);
	list_free(&sections);
	list_free(&excludes);
	adp_free(adp);
	cJSON_Delete(doc);
	return rc;
}

int run_main(int argc, char **argv, FILE *out, FILE *err)
{
	return cfg_main("run", run_cmd, argc, argv, out, err);
}
