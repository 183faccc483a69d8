/* load_report.c -- renders a `camsim load' report.json tree as JUnit XML and
 * as one self-contained HTML page with inline SVG charts, and writes the
 * three files atomically.  Reads the tree only; never measures or merges. */
#include "load_report.h"

#include "conf_err.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const cJSON *at(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static double num_or(const cJSON *o, const char *key, double dflt)
{
	const cJSON *j = at(o, key);

	return cJSON_IsNumber(j) ? j->valuedouble : dflt;
}

static const char *str_or(const cJSON *o, const char *key, const char *dflt)
{
	const cJSON *j = at(o, key);

	return cJSON_IsString(j) ? j->valuestring : dflt;
}

/* Why the run itself failed, or NULL: it could not run (exit 2) or a
 * threshold stopped it early.  An interrupted run is judged on what it
 * measured (docs/load.md), so it is no failure of the run. */
static const char *run_failure(const cJSON *r)
{
	if (num_or(at(r, "shard"), "missing", 0) > 0)
		return "shards are missing from this merge: its counts are not "
		       "the whole run (exit 2)";
	if (num_or(r, "exit_code", 0) == 2)
		return "the run could not run or its report could not be "
		       "written (exit 2)";
	if (cJSON_IsTrue(at(r, "aborted")))
		return "aborted: a threshold failed during the run "
		       "(--abort-on-fail)";
	return NULL;
}

void load_report_junit(const cJSON *r, strbuf *b)
{
	const cJSON *ths = at(r, "thresholds"), *t;
	const char *why = run_failure(r);
	int n = 1, fails = why != NULL;

	cJSON_ArrayForEach(t, ths) {
		n++;
		fails += !cJSON_IsTrue(at(t, "ok"));
	}
	strbuf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		      "<testsuites name=\"camsim load\" tests=\"%d\" "
		      "failures=\"%d\">\n<testsuite name=\"camsim load ", n, fails);
	strbuf_html(b, str_or(r, "server", "?"));
	strbuf_printf(b, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" "
		      "time=\"%.3f\">\n", n, fails, num_or(r, "elapsed_s", 0));
	strbuf_printf(b, "  <testcase classname=\"load\" name=\"run\" "
		      "time=\"%.3f\">", num_or(r, "elapsed_s", 0));
	if (why) {
		strbuf_str(b, "<failure message=\"");
		strbuf_html(b, why);
		strbuf_str(b, "\"/>");
	}
	strbuf_str(b, "</testcase>\n");
	cJSON_ArrayForEach(t, ths) {
		const char *e = str_or(t, "expr", "?"), *v = str_or(t, "shown", "?");
		strbuf_str(b, "  <testcase classname=\"load.thresholds\" name=\"");
		strbuf_html(b, e);
		strbuf_str(b, "\">");
		if (!cJSON_IsTrue(at(t, "ok"))) {
			strbuf_str(b, "<failure message=\"");
			strbuf_html(b, e);
			strbuf_str(b, " does not hold: measured ");
			strbuf_html(b, v);
			strbuf_str(b, "\">");
			strbuf_html(b, e);
			strbuf_str(b, "\nmeasured: ");
			strbuf_html(b, v);
			strbuf_str(b, "</failure>");
		} else {
			strbuf_str(b, "<system-out>measured: ");
			strbuf_html(b, v);
			strbuf_str(b, "</system-out>");
		}
		strbuf_str(b, "</testcase>\n");
	}
	strbuf_str(b, "</testsuite>\n</testsuites>\n");
}

/* ---- HTML ---- */

typedef struct line {
	const char *name, *color;
	double *x, *y;
	size_t n;
} line;

/* A round step for an axis of span v: 1, 2 or 5 times a power of 10. */
static double nice_step(double v)
{
	double p = pow(10, floor(log10(v > 0 ? v : 1))), f = v / p;

	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/* One chart: lines over a shared x axis, axes with round ticks. */
static void svg_chart(strbuf *b, const char *title, const char *xl,
		      const char *yl, const line *ls, size_t nl)
{
	const double W = 640, H = 240, L = 60, R = 10, T = 24, B = 36;
	double xmax = 0, ymax = 0, xs, ys;

	for (size_t i = 0; i < nl; i++)
		for (size_t j = 0; j < ls[i].n; j++) {
			xmax = fmax(xmax, ls[i].x[j]);
			ymax = fmax(ymax, ls[i].y[j]);
		}
	xs = nice_step(xmax / 5);
	ys = nice_step(ymax / 4);
	xmax = ceil(xmax / xs) * xs;
	ymax = ceil(ymax / ys) * ys;
	if (xmax <= 0)
		xmax = xs;
	if (ymax <= 0)
		ymax = ys;
	strbuf_printf(b, "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" "
		      "class=\"chart\" width=\"%.0f\" height=\"%.0f\" "
		      "viewBox=\"0 0 %.0f %.0f\" role=\"img\"><title>", W, H, W, H);
	strbuf_html(b, title);
	strbuf_printf(b, "</title><text x=\"%.0f\" y=\"16\" class=\"t\">", L);
	strbuf_html(b, title);
	strbuf_str(b, "</text>");
	for (double v = 0; v <= ymax + ys / 2; v += ys) {
		double y = T + (H - T - B) * (1 - v / ymax);
		strbuf_printf(b, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" "
			      "y2=\"%.1f\" class=\"g\"/><text x=\"%.0f\" "
			      "y=\"%.1f\" class=\"a\" text-anchor=\"end\">%g"
			      "</text>", L, W - R, y, y, L - 4, y + 4, v);
	}
	for (double v = 0; v <= xmax + xs / 2; v += xs)
		strbuf_printf(b, "<text x=\"%.1f\" y=\"%.0f\" class=\"a\" "
			      "text-anchor=\"middle\">%g</text>", L + (W - L - R) *
			      v / xmax, H - B + 16, v);
	strbuf_printf(b, "<text x=\"%.0f\" y=\"%.0f\" class=\"a\" "
		      "text-anchor=\"middle\">", (L + W - R) / 2, H - 4);
	strbuf_html(b, xl);
	strbuf_printf(b, "</text><text x=\"12\" y=\"%.0f\" class=\"a\" "
		      "transform=\"rotate(-90 12 %.0f)\" text-anchor=\"middle\">",
		      (T + H - B) / 2, (T + H - B) / 2);
	strbuf_html(b, yl);
	strbuf_str(b, "</text>");
	for (size_t i = 0; i < nl; i++) {
		strbuf_printf(b, "<polyline class=\"series\" data-name=\"%s\" "
			      "fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
			      "points=\"", ls[i].name, ls[i].color);
		for (size_t j = 0; j < ls[i].n; j++)
			strbuf_printf(b, "%s%.1f,%.1f", j ? " " : "",
				      L + (W - L - R) * ls[i].x[j] / xmax,
				      T + (H - T - B) * (1 - ls[i].y[j] / ymax));
		strbuf_printf(b, "\"/><text x=\"%.0f\" y=\"16\" fill=\"%s\" "
			      "class=\"a\" text-anchor=\"end\">%s</text>",
			      W - R - 90.0 * (double)(nl - 1 - i), ls[i].color,
			      ls[i].name);
	}
	strbuf_str(b, "</svg></figure>\n");
}

/* Of each element of array a: member key (scaled by mul), or with key
 * NULL the idx-th item of a pair; a new array, NULL when a is empty or
 * out of memory. */
static double *column(const cJSON *a, const char *key, int idx, double mul,
		      size_t *n)
{
	size_t len = (size_t)cJSON_GetArraySize(a), i = 0;
	double *v = len ? malloc(len * sizeof *v) : NULL;
	const cJSON *e;

	*n = 0;
	if (!v)
		return NULL;
	cJSON_ArrayForEach(e, a) {
		const cJSON *x = key ? at(e, key) : cJSON_GetArrayItem(e, idx);
		v[i++] = cJSON_IsNumber(x) ? x->valuedouble * mul : 0;
	}
	*n = i;
	return v;
}

/* The seconds of array a that carry key (the sampled ones, docs/load.md
 * "series"): their t in *x and key's value times mul in *y; false when
 * none does or out of memory (both freed). */
static bool sampled(const cJSON *a, const char *key, double mul, double **x,
		    double **y, size_t *n)
{
	size_t len = (size_t)cJSON_GetArraySize(a);
	const cJSON *e;

	*n = 0;
	*x = len ? malloc(len * sizeof **x) : NULL;
	*y = len ? malloc(len * sizeof **y) : NULL;
	if (*x && *y)
		cJSON_ArrayForEach(e, a) {
			const cJSON *v = at(e, key);
			if (!cJSON_IsNumber(v))
				continue;
			(*x)[*n] = num_or(e, "t", 0);
			(*y)[(*n)++] = v->valuedouble * mul;
		}
	if (!*n) {
		free(*x);
		free(*y);
		*x = *y = NULL;
	}
	return *n > 0;
}

/* The samples: offline records waiting over every device and the
 * resident memory, each second. */
static void html_samples(strbuf *b, const cJSON *secs)
{
	double *x, *y;
	size_t n;

	if (sampled(secs, "offline", 1, &x, &y, &n)) {
		line l = {"offline", "#ff7f0e", x, y, n};
		svg_chart(b, "Offline queue: snapshot records waiting for "
			  "retransmission, over every device",
			  "seconds since the start", "records", &l, 1);
		free(x);
		free(y);
	}
	if (sampled(secs, "rss_kb", 1.0 / 1024, &x, &y, &n)) {
		line l = {"rss", "#8c564b", x, y, n};
		svg_chart(b, "Resident memory of camsim (summed over shards)",
			  "seconds since the start", "MB", &l, 1);
		free(x);
		free(y);
	}
}

static void html_series(strbuf *b, const cJSON *r)
{
	const cJSON *secs = at(at(r, "series"), "seconds");
	size_t n, n2;
	double *t = column(secs, "t", 0, 1, &n),
	       *q = column(secs, "requests", 0, 1, &n2),
	       *p50 = column(secs, "p50", 0, 1e-3, &n2),
	       *p99 = column(secs, "p99", 0, 1e-3, &n2),
	       *f = column(secs, "failed", 0, 1, &n2);

	if (!t || !q || !p50 || !p99 || !f) {
		strbuf_str(b, "<p>No time series in this report (no request "
			   "ended, or a report of an older camsim).</p>\n");
	} else {
		line thr = {"requests/s", "#1f77b4", t, q, n},
		     lat[] = {{"p50", "#2ca02c", t, p50, n},
			      {"p99", "#d62728", t, p99, n}},
		     err = {"failed/s", "#d62728", t, f, n};
		svg_chart(b, "Throughput: requests ended per second",
			  "seconds since the start", "requests/s", &thr, 1);
		svg_chart(b, "Latency per second (p50, p99)",
			  "seconds since the start", "ms", lat, 2);
		svg_chart(b, "Errors: failed requests per second",
			  "seconds since the start", "failed/s", &err, 1);
		html_samples(b, secs);
	}
	free(t);
	free(q);
	free(p50);
	free(p99);
	free(f);
}

static void html_propagation(strbuf *b, const cJSON *p)
{
	const cJSON *curve = at(p, "curve");
	size_t n, n2;
	/* [[ms_since_enqueue, confirmed_so_far], ...], charted in seconds */
	double *x = column(curve, NULL, 0, 1e-3, &n),
	       *y = column(curve, NULL, 1, 1, &n2);

	strbuf_str(b, "<h2>Propagation</h2>\n<p>Command ");
	strbuf_html(b, str_or(p, "command", "?"));
	strbuf_printf(b, ": confirmed by %.0f of %.0f devices.</p>\n",
		      num_or(p, "confirmed", 0), num_or(p, "devices", 0));
	if (x && y && n == n2) {
		line c = {"confirmed", "#9467bd", x, y, n};
		svg_chart(b, "Propagation: devices confirmed since the enqueue",
			  "seconds since the enqueue", "devices", &c, 1);
	} else {
		strbuf_str(b, "<p>No propagation curve in this report.</p>\n");
	}
	free(x);
	free(y);
}

static const char css[] =
	"body{font:14px sans-serif;margin:1.5em;color:#222}"
	"table{border-collapse:collapse;margin:.5em 0}"
	"td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
	"th:first-child,td:first-child{text-align:left}"
	".ok{background:#dfd}.fail{background:#fdd;font-weight:bold}"
	".chart .g{stroke:#eee}.chart .a{font-size:11px;fill:#555}"
	".chart .t{font-size:13px;font-weight:bold}"
	"figure{margin:.5em 0}";

static void row(strbuf *b, const char *k, const char *v)
{
	strbuf_str(b, "<tr><th>");
	strbuf_html(b, k);
	strbuf_str(b, "</th><td>");
	strbuf_html(b, v);
	strbuf_str(b, "</td></tr>\n");
}

static void kind_row(strbuf *b, const char *name, const cJSON *k)
{
	const cJSON *l = at(k, "latency_us");

	strbuf_str(b, "<tr><td>");
	strbuf_html(b, name);
	strbuf_printf(b, "</td><td>%.0f</td><td>%.0f</td><td>%.0f</td>"
		      "<td>%.0f</td><td>%.1f</td><td>%.1f</td><td>%.1f</td>"
		      "<td>%.1f</td></tr>\n",
		      num_or(k, "requests", 0), num_or(k, "answered", 0),
		      num_or(k, "failed", 0),
		      num_or(at(k, "failures"), "violation", 0),
		      num_or(l, "p50", 0) / 1e3,
		      num_or(l, "p90", 0) / 1e3, num_or(l, "p99", 0) / 1e3,
		      num_or(l, "max", 0) / 1e3);
}

/* The rules each kind's replies broke (the protocol's rule ids). */
static void html_rules(strbuf *b, const cJSON *kinds)
{
	const cJSON *k, *e;
	bool any = false;

	cJSON_ArrayForEach(k, kinds) {
		if (!cJSON_GetArraySize(at(k, "rules")))
			continue;
		if (!any)
			strbuf_str(b, "<h2>Rules the replies broke</h2>\n<table "
				   "class=\"rules\"><tr><th>kind</th><th>rule"
				   "</th><th>replies</th></tr>\n");
		any = true;
		cJSON_ArrayForEach(e, at(k, "rules")) {
			strbuf_str(b, "<tr><td>");
			strbuf_html(b, k->string);
			strbuf_str(b, "</td><td>");
			strbuf_html(b, e->string);
			strbuf_printf(b, "</td><td>%.0f</td></tr>\n",
				      cJSON_IsNumber(e) ? e->valuedouble : 0);
		}
	}
	if (any)
		strbuf_str(b, "</table>\n");
}

/* The commands the replies carried and how the devices applied them. */
static void html_commands(strbuf *b, const cJSON *cmds)
{
	const cJSON *c;

	if (!cJSON_GetArraySize(cmds))
		return;
	strbuf_str(b, "<h2>Commands</h2>\n<table class=\"commands\"><tr><th>"
		   "command</th><th>received</th><th>applied</th><th>failed"
		   "</th></tr>\n");
	cJSON_ArrayForEach(c, cmds) {
		strbuf_str(b, "<tr><td>");
		strbuf_html(b, c->string);
		strbuf_printf(b, "</td><td>%.0f</td><td>%.0f</td><td>%.0f</td>"
			      "</tr>\n", num_or(c, "received", 0),
			      num_or(c, "applied", 0), num_or(c, "failed", 0));
	}
	strbuf_str(b, "</table>\n");
}

void load_report_html(const cJSON *r, strbuf *b)
{
	const cJSON *ths = at(r, "thresholds"), *t, *k, *sh = at(r, "shard");
	const char *why = run_failure(r);
	char v[160];

	strbuf_str(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
		   "charset=\"utf-8\"><title>camsim load: ");
	strbuf_html(b, str_or(r, "server", "?"));
	strbuf_printf(b, "</title><style>%s</style></head><body>\n"
		      "<h1>camsim load: ", css);
	strbuf_html(b, str_or(r, "server", "?"));
	strbuf_str(b, "</h1>\n<table class=\"summary\">\n");
	snprintf(v, sizeof v, "%.0f%s", num_or(r, "exit_code", 0),
		 why ? " (the run failed)" : num_or(r, "exit_code", 0) == 99
		 ? " (a threshold failed)" : " (every threshold held)");
	row(b, "exit code", v);
	if (why)
		row(b, "run", why);
	snprintf(v, sizeof v, "%.3f s%s", num_or(r, "elapsed_s", 0),
		 cJSON_IsTrue(at(r, "interrupted")) ? ", interrupted" : "");
	row(b, "elapsed", v);
	snprintf(v, sizeof v, "%.0f up of %.0f", num_or(r, "devices_up", 0),
		 num_or(at(r, "options"), "devices", 0));
	row(b, "devices", v);
	if (cJSON_IsArray(at(sh, "merged"))) {
		snprintf(v, sizeof v, "%d of %.0f", cJSON_GetArraySize(at(sh,
			 "merged")), num_or(sh, "count", 1));
		row(b, "shards merged", v);
	} else if (num_or(sh, "count", 1) > 1) {
		snprintf(v, sizeof v, "%.0f of %.0f (0-based)",
			 num_or(sh, "index", 0), num_or(sh, "count", 1));
		row(b, "shard", v);
	}
	snprintf(v, sizeof v, "%.0f (%.0f answered, %.0f failed)",
		 num_or(at(r, "totals"), "requests", 0),
		 num_or(at(r, "totals"), "answered", 0),
		 num_or(at(r, "totals"), "failed", 0));
	row(b, "requests", v);
	row(b, "camsim", str_or(r, "camsim", "?"));
	strbuf_str(b, "</table>\n<h2>Thresholds</h2>\n");
	if (!cJSON_GetArraySize(ths))
		strbuf_str(b, "<p>None given.</p>\n");
	else
		strbuf_str(b, "<table class=\"thresholds\"><tr><th>threshold"
			   "</th><th>result</th><th>measured</th></tr>\n");
	cJSON_ArrayForEach(t, ths) {
		bool ok = cJSON_IsTrue(at(t, "ok"));
		strbuf_printf(b, "<tr class=\"%s\"><td>", ok ? "ok" : "fail");
		strbuf_html(b, str_or(t, "expr", "?"));
		strbuf_printf(b, "</td><td>%s</td><td>", ok ? "ok" : "FAIL");
		strbuf_html(b, str_or(t, "shown", "?"));
		strbuf_str(b, "</td></tr>\n");
	}
	if (cJSON_GetArraySize(ths))
		strbuf_str(b, "</table>\n");
	strbuf_str(b, "<h2>Requests by kind</h2>\n<table class=\"kinds\"><tr>"
		   "<th>kind</th><th>requests</th><th>answered</th><th>failed"
		   "</th><th>of which rule violations</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>max ms"
		   "</th></tr>\n");
	cJSON_ArrayForEach(k, at(r, "kinds"))
		kind_row(b, k->string, k);
	kind_row(b, "all", at(r, "totals"));
	strbuf_str(b, "</table>\n");
	html_rules(b, at(r, "kinds"));
	html_commands(b, at(r, "commands"));
	strbuf_str(b, "<h2>Over time</h2>\n");
	html_series(b, r);
	if (cJSON_IsObject(at(r, "propagation")))
		html_propagation(b, at(r, "propagation"));
	strbuf_str(b, "</body></html>\n");
}

/* ---- files ---- */

static int write_atomic(const char *dir, const char *name, const char *txt,
			char *err, size_t errlen)
{
	char path[1024], tmp[1040];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (!(f = fopen(tmp, "w")) || fputs(txt, f) < 0 || fclose(f) ||
	    (f = NULL, rename(tmp, path) < 0)) {
		snprintf(err, errlen, "%s cannot be written: %s", path,
			 strerror(errno));
		if (f)
			fclose(f);
		unlink(tmp);
		return CONF_EWRITE;
	}
	return 0;
}

int load_report_write(const cJSON *r, const char *dir, char *err,
		      size_t errlen)
{
	strbuf j = {0}, x = {0}, h = {0};
	char *txt = cJSON_Print(r);
	int rc = CONF_ENOMEM;

	if (!txt)
		goto out;
	strbuf_str(&j, txt);
	strbuf_str(&j, "\n");
	load_report_junit(r, &x);
	load_report_html(r, &h);
	if (j.oom || x.oom || h.oom)
		goto out;
	if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "--report-dir \"%s\" cannot be created: %s",
			 dir, strerror(errno));
		rc = CONF_EMKDIR;
		goto out;
	}
	if ((rc = write_atomic(dir, "report.json", j.p, err, errlen)) < 0 ||
	    (rc = write_atomic(dir, "junit.xml", x.p, err, errlen)) < 0)
		goto out;
	rc = write_atomic(dir, "report.html", h.p, err, errlen);
out:
	if (rc == CONF_ENOMEM)
		snprintf(err, errlen, "out of memory building the report");
	free(txt);
	free(j.p);
	free(x.p);
	free(h.p);
	return rc;
}
