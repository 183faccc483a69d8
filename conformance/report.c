/* report.c -- turns a run document into junit.xml, report.json and
 * report.html (docs/report.md).  Owns escaping and the files' atomic
 * creation; does not run anything, does not read scenarios, and never
 * recomputes a verdict: the document's statuses are the truth. */
#include "report.h"
#include "base.h"
#include "utf8.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What the JUnit evidence keeps of a request or reply body. */
#define JUNIT_BODY_MAX 400
/* Images larger than this are not embedded: the runner writes thumbnails,
 * anything bigger is a mistake that would bloat the page. */
#define HTML_IMAGE_MAX (512u * 1024u)

/* ------------------------------------------------ reading the document */

/* Every accessor treats a member of the wrong type as absent, so that a
 * malformed document degrades to a sparser report, never to a crash. */

static const cJSON *mem(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key)
				 : NULL;
}

/* The string member, or NULL; an empty string says nothing either, so it
 * is absent too (a check's "" message falls back to the scenario's reason). */
static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = mem(o, key);
	return cJSON_IsString(v) && v->valuestring && *v->valuestring
		       ? v->valuestring
		       : NULL;
}

static const char *str_or(const cJSON *o, const char *key, const char *dflt)
{
	const char *s = str(o, key);
	return s ? s : dflt;
}

/* True and *out when the member is a finite number. */
static bool num(const cJSON *o, const char *key, double *out)
{
	const cJSON *v = mem(o, key);
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return false;
	*out = v->valuedouble;
	return true;
}

/* A duration in ms as seconds for JUnit: absent or negative is 0. */
static double secs(const cJSON *o, const char *key)
{
	double ms = 0;
	return num(o, key, &ms) && ms > 0 ? ms / 1000.0 : 0.0;
}

/* The array member, or NULL (which cJSON_ArrayForEach skips). */
static const cJSON *arr(const cJSON *o, const char *key)
{
	const cJSON *v = mem(o, key);
	return cJSON_IsArray(v) ? v : NULL;
}

typedef enum {
	ST_NONE, ST_PASS, ST_FAIL, ST_WARN, ST_SKIP, ST_NA, ST_ERROR
} rep_status;
static const char *const st_word[] = {"unknown", "pass", "fail", "warn",
				      "skip", "n/a", "error"};
/* the CSS class of each (no slash) */
static const char *const st_class[] = {"unknown", "pass", "fail", "warn",
				       "skip", "na", "error"};

static rep_status status_of(const cJSON *o)
{
	const char *s = str(o, "status");
	for (int i = ST_PASS; s && i <= ST_ERROR; i++)
		if (!strcmp(s, st_word[i]))
			return (rep_status)i;
	return ST_NONE;
}

/* A check of a skipped scenario that says nothing was not run either. */
static rep_status check_status(const cJSON *check, const cJSON *scn)
{
	rep_status st = status_of(check);
	return st == ST_NONE && status_of(scn) == ST_SKIP ? ST_SKIP : st;
}

/* The index-th exchange of the scenario, or NULL when idx is not a valid
 * index (the check's "exchanges" holds positions, not "i" values). */
static const cJSON *exchange_at(const cJSON *scn, const cJSON *idx)
{
	const cJSON *xs = arr(scn, "exchanges");
	if (!xs || !cJSON_IsNumber(idx) || !(idx->valuedouble >= 0) ||
	    idx->valuedouble >= cJSON_GetArraySize(xs) ||
	    idx->valuedouble != floor(idx->valuedouble))
		return NULL;
	return cJSON_GetArrayItem(xs, (int)idx->valuedouble);
}

/* ------------------------------------------------ UTF-8 and escaping */

/* XML 1.0's Char production, minus the C1 controls and DEL that XML
 * discourages and HTML calls parse errors: one rule for both outputs. */
static bool markup_char_ok(uint32_t cp)
{
	if (cp < 0x20)
		return cp == 0x9 || cp == 0xA || cp == 0xD;
	if (cp >= 0x7F && cp <= 0x9F)
		return false;
	return cp <= 0xD7FF || (cp >= 0xE000 && cp <= 0xFFFD) ||
	       (cp >= 0x10000 && cp <= 0x10FFFF);
}

#define REPLACEMENT "\xEF\xBF\xBD"

/* Writes s escaped for XML or HTML text; attr also writes tab and line
 * breaks as references so that an attribute value keeps them.  Characters
 * the markup cannot carry become U+FFFD.  At most max bytes of s (0: no
 * limit), cut at a character boundary; returns true when s was cut. */
static bool esc(FILE *f, const char *s, size_t max, bool attr)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), i = 0;

	while (i < n) {
		uint32_t cp;
		size_t len = utf8_decode(p + i, n - i, &cp);

		len += !len; /* a bad byte goes alone */
		if (max && i + len > max)
			return true;
		if (cp == UTF8_BAD || !markup_char_ok(cp))
			fputs(REPLACEMENT, f);
		else if (cp == '&')
			fputs("&amp;", f);
		else if (cp == '<')
			fputs("&lt;", f);
		else if (cp == '>')
			fputs("&gt;", f);
		else if (cp == '"')
			fputs("&quot;", f);
		else if (cp == '\'')
			fputs("&#39;", f);
		else if (attr && cp < 0x20)
			fprintf(f, "&#%u;", (unsigned)cp);
		else
			fwrite(p + i, 1, len, f);
		i += len;
	}
	return false;
}

/* ------------------------------------------------ JSON */

static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	for (size_t i = 0, len; i < n; i += len)
		if (!(len = utf8_decode(p + i, n - i, NULL)))
			return false;
	return true;
}

/* A cJSON-allocated copy of s with U+FFFD for each invalid byte. */
static char *utf8_fixed(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), o = 0;
	char *out = cJSON_malloc(3 * n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = utf8_decode(p + i, n - i, &cp);
		len += !len; /* a bad byte goes alone */
		if (cp == UTF8_BAD)
			memcpy(out + o, REPLACEMENT, 3), o += 3;
		else
			memcpy(out + o, p + i, len), o += len;
		i += len;
	}
	out[o] = '\0';
	return out;
}

static bool tree_utf8_valid(const cJSON *node)
{
	for (const cJSON *c = node; c; c = c->next) {
		if (c->string && !utf8_valid(c->string))
			return false;
		if (cJSON_IsString(c) && c->valuestring &&
		    !utf8_valid(c->valuestring))
			return false;
		if (c->child && !tree_utf8_valid(c->child))
			return false;
	}
	return true;
}

/* Repairs every key and string value of the list starting at node. */
static int tree_utf8_fix(cJSON *node)
{
	for (cJSON *c = node; c; c = c->next) {
		char *s;

		if (c->string && !utf8_valid(c->string)) {
			if (!(s = utf8_fixed(c->string)))
				return CONF_ENOMEM;
			if (!(c->type & cJSON_StringIsConst))
				cJSON_free(c->string);
			c->type &= ~cJSON_StringIsConst;
			c->string = s;
		}
		if (cJSON_IsString(c) && c->valuestring &&
		    !utf8_valid(c->valuestring)) {
			if (!(s = utf8_fixed(c->valuestring)))
				return CONF_ENOMEM;
			cJSON_free(c->valuestring);
			c->valuestring = s;
		}
		if (c->child && tree_utf8_fix(c->child) < 0)
			return CONF_ENOMEM;
	}
	return 0;
}

int rep_json(const cJSON *run, FILE *f)
{
	cJSON *copy = NULL;
	char *text = NULL;
	int rc = 0;

	if (!run || !f)
		return CONF_EINVAL;
	/* The copy is only paid for when the document needs repair. */
	if (!tree_utf8_valid(run->child) ||
	    (run->string && !utf8_valid(run->string)) ||
	    (cJSON_IsString(run) && run->valuestring &&
	     !utf8_valid(run->valuestring))) {
		copy = cJSON_Duplicate(run, 1);
		if (!copy) {
			rc = CONF_ENOMEM;
			goto out;
		}
		rc = tree_utf8_fix(copy);
		if (rc < 0)
			goto out;
	}
	text = cJSON_Print(copy ? copy : run);
	if (!text) {
		rc = CONF_ENOMEM;
		goto out;
	}
	fputs(text, f);
	fputc('\n', f);
	rc = ferror(f) ? CONF_EWRITE : 0;
out:
	cJSON_free(text);
	cJSON_Delete(copy);
	return rc;
}

/* ------------------------------------------------ shared text */

/* "kind from device at N ms" sep "METHOD url": an exchange's first line
 * in both the JUnit evidence and the HTML transcript. */
static void exchange_line(FILE *f, const cJSON *x, const char *sep)
{
	double d;

	esc(f, str_or(x, "kind", "message"), 0, false);
	if (str(x, "device")) {
		fputs(" from ", f);
		esc(f, str(x, "device"), 0, false);
	}
	if (num(x, "at_ms", &d))
		fprintf(f, " at %.0f ms", d);
	fputs(sep, f);
	esc(f, str_or(x, "method", "POST"), 0, false);
	fputs(" ", f);
	esc(f, str(x, "url"), 0, false);
}

/* "must" and "should" as the legend writes them; anything else as is. */
static const char *sev_word(const char *sev)
{
	return !strcmp(sev, "must") ? "MUST" : !strcmp(sev, "should") ? "SHOULD" : sev;
}

/* "MUST rule at $.path: message" */
static void violation_text(FILE *f, const cJSON *v)
{
	esc(f, sev_word(str_or(v, "severity", "must")), 0, false);
	fputs(" ", f);
	esc(f, str_or(v, "rule", "?"), 0, false);
	fputs(" at ", f);
	esc(f, str_or(v, "path", "$"), 0, false);
	fputs(": ", f);
	esc(f, str(v, "message"), 0, false);
}

/* ------------------------------------------------ JUnit XML */

/* How one testcase is written: TC_WARN is a passing testcase that carries
 * its warning in system-out; TC_SKIP a skipped or not applicable check
 * (never a pass: nothing was judged); TC_ERROR one that could not run to
 * its end (interrupted, timed out) or has no valid status. */
typedef enum { TC_PASS, TC_WARN, TC_FAIL, TC_SKIP, TC_ERROR } tc_kind;

static tc_kind tc_of(rep_status st, bool fail_on_warning)
{
	switch (st) {
	case ST_PASS:
		return TC_PASS;
	case ST_FAIL:
		return TC_FAIL;
	case ST_WARN:
		return fail_on_warning ? TC_FAIL : TC_WARN;
	case ST_SKIP:
	case ST_NA:
		return TC_SKIP;
	default:
		return TC_ERROR;
	}
}

typedef struct junit_counts {
	unsigned long tests, failures, errors, skipped;
} junit_counts;

static void count_case(junit_counts *c, tc_kind k)
{
	c->tests++;
	c->failures += k == TC_FAIL;
	c->errors += k == TC_ERROR;
	c->skipped += k == TC_SKIP;
}

/* The testcases of a scenario are its checks, plus one testcase
 * "scenario" with the scenario's own status and reason when no check
 * says it: a scenario without checks, or one that failed (an adapter
 * error, a crash) while none of its checks did.  Without it CI would show
 * green for a scenario that made the run fail. */
static bool scenario_case(const cJSON *scn, bool fow)
{
	const cJSON *checks = arr(scn, "checks"), *ck;

	if (cJSON_GetArraySize(checks) == 0)
		return true;
	if (status_of(scn) != ST_FAIL && status_of(scn) != ST_ERROR)
		return false;
	cJSON_ArrayForEach(ck, checks)
		if (tc_of(check_status(ck, scn), fow) ==
		    (status_of(scn) == ST_ERROR ? TC_ERROR : TC_FAIL))
			return false;
	return true;
}

static void count_scenario(const cJSON *scn, bool fow, junit_counts *c)
{
	const cJSON *ck;

	cJSON_ArrayForEach(ck, arr(scn, "checks"))
		count_case(c, tc_of(check_status(ck, scn), fow));
	if (scenario_case(scn, fow))
		count_case(c, tc_of(status_of(scn), fow));
}

static void junit_counts_attrs(FILE *f, const junit_counts *c)
{
	fprintf(f, " tests=\"%lu\" failures=\"%lu\" errors=\"%lu\" skipped=\"%lu\"",
		c->tests, c->failures, c->errors, c->skipped);
}

/* The JUnit schema's timestamp has no zone: run.started's first 19
 * characters when it is a UTC time ("...Z", fraction allowed), else none. */
static void junit_timestamp(FILE *f, const char *started)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;

	if (!started || strlen(started) < 20)
		return;
	for (i = 0; i < sizeof shape - 1; i++)
		if (shape[i] == 'd' ? (started[i] < '0' || started[i] > '9')
				    : started[i] != shape[i])
			return;
	if (started[i] == '.')
		while (started[++i] >= '0' && started[i] <= '9')
			;
	if (strcmp(started + i, "Z"))
		return;
	fprintf(f, " timestamp=\"%.19s\"", started);
}

/* The strings of an array member joined by ", " (others skipped). */
static void esc_list(FILE *f, const cJSON *o, const char *key, bool attr)
{
	const cJSON *v;
	bool first = true;

	cJSON_ArrayForEach(v, arr(o, key))
	{
		if (!cJSON_IsString(v) || !*v->valuestring)
			continue;
		fputs(first ? "" : ", ", f);
		esc(f, v->valuestring, 0, attr);
		first = false;
	}
}

/* A property from a string member, or (list) from an array of strings. */
static void junit_property(FILE *f, const char *name, const cJSON *o,
			   const char *key, bool list)
{
	if (list ? cJSON_GetArraySize(arr(o, key)) == 0 : !str(o, key))
		return;
	fprintf(f, "      <property name=\"%s\" value=\"", name);
	if (list)
		esc_list(f, o, key, true);
	else
		esc(f, str(o, key), 0, true);
	fputs("\"/>\n", f);
}

static void junit_body(FILE *f, const char *label, const char *body)
{
	if (!body || !*body)
		return;
	fprintf(f, "\n  %s: ", label);
	if (esc(f, body, JUNIT_BODY_MAX, false))
		fprintf(f, " [... %zu bytes in all; report.json has it]",
			strlen(body));
}

/* The failure text: message, rule ids, then each referenced exchange
 * abbreviated, so that a CI log alone says what went wrong. */
static void junit_evidence(FILE *f, const cJSON *scn, const cJSON *check,
			   const char *message)
{
	const cJSON *ref, *v;
	double d;

	esc(f, message, 0, false);
	if (cJSON_GetArraySize(arr(check, "rules")) > 0) {
		fputs("\nrules: ", f);
		esc_list(f, check, "rules", false);
	}
	cJSON_ArrayForEach(ref, arr(check, "exchanges"))
	{
		const cJSON *x = exchange_at(scn, ref);
		if (!x)
			continue;
		fprintf(f, "\nexchange %.0f: ", ref->valuedouble);
		exchange_line(f, x, ": ");
		if (num(x, "status", &d) && d > 0)
			fprintf(f, " -> %.0f", d);
		else
			fputs(" -> no HTTP status", f);
		if (str(x, "error")) {
			fputs(" (", f);
			esc(f, str(x, "error"), 0, false);
			fputs(")", f);
		}
		junit_body(f, "request", str(x, "request"));
		junit_body(f, "reply", str(x, "reply"));
		cJSON_ArrayForEach(v, arr(x, "violations"))
		{
			if (!cJSON_IsObject(v))
				continue;
			fputs("\n  ", f);
			violation_text(f, v);
		}
	}
}

/* One testcase; check is NULL for the scenario's own testcase. */
static void junit_case(FILE *f, const cJSON *scn, const char *sname,
		       const cJSON *check, int ci, bool fow)
{
	rep_status st = check ? check_status(check, scn) : status_of(scn);
	tc_kind k = tc_of(st, fow);
	const char *msg = check ? str(check, "message") : NULL;

	if (!msg)
		msg = str(scn, "reason");
	fputs("    <testcase classname=\"camsim.", f);
	esc(f, sname, 0, true);
	fputs("\" name=\"", f);
	if (!check) {
		fputs("scenario", f);
	} else {
		if (str(check, "id"))
			esc(f, str(check, "id"), 0, true);
		else
			fprintf(f, "check-%d", ci + 1);
		if (str(check, "name")) {
			fputs(": ", f);
			esc(f, str(check, "name"), 0, true);
		}
	}
	/* wall time: what CI sums up; simulated time is report.json's */
	fprintf(f, "\" time=\"%.3f\"", secs(check ? check : scn,
					   check ? "wall_ms" : "duration_ms"));
	if (k == TC_PASS) {
		fputs("/>\n", f);
		return;
	}
	fputs(">\n      ", f);
	switch (k) {
	case TC_FAIL:
		fputs("<failure message=\"", f);
		esc(f, msg ? msg : "failed", 0, true);
		fprintf(f, "\" type=\"%s\">", st == ST_WARN ? "should" : "must");
		junit_evidence(f, scn, check, msg ? msg : "failed");
		fputs("</failure>\n", f);
		break;
	case TC_WARN:
		fputs("<system-out>WARNING: ", f);
		junit_evidence(f, scn, check, msg ? msg : "a SHOULD check did not hold");
		fputs("</system-out>\n", f);
		break;
	case TC_SKIP:
		fputs("<skipped message=\"", f);
		esc(f, msg ? msg : "skipped", 0, true);
		fputs("\"/>\n", f);
		break;
	default:
		if (st != ST_ERROR) {
			fputs("<error type=\"status\" message=\"the report gives "
			      "this check no status of pass, fail, warn, skip, n/a "
			      "or error\"/>\n", f);
			break;
		}
		fputs("<error type=\"unfinished\" message=\"", f);
		esc(f, msg ? msg : "did not run to its end", 0, true);
		fputs("\">", f);
		junit_evidence(f, scn, check, msg ? msg : "did not run to its end");
		fputs("</error>\n", f);
		break;
	}
	fputs("    </testcase>\n", f);
}

static void junit_suite(FILE *f, const cJSON *run, const cJSON *scn, int si,
			bool fow)
{
	const cJSON *ck;
	junit_counts c = {0};
	char fallback[32];
	const char *sname = str(scn, "name");
	int ci = 0;

	if (!sname) {
		snprintf(fallback, sizeof fallback, "scenario-%d", si + 1);
		sname = fallback;
	}
	count_scenario(scn, fow, &c);
	fputs("  <testsuite name=\"", f);
	esc(f, sname, 0, true);
	fprintf(f, "\" id=\"%d\"", si);
	junit_counts_attrs(f, &c);
	fprintf(f, " time=\"%.3f\"", secs(scn, "duration_ms"));
	junit_timestamp(f, str(run, "started"));
	fputs(">\n    <properties>\n", f);
	junit_property(f, "title", scn, "title", false);
	junit_property(f, "file", scn, "file", false);
	junit_property(f, "sections", scn, "sections", true);
	junit_property(f, "devices", scn, "devices", true);
	junit_property(f, "status", scn, "status", false);
	junit_property(f, "reason", scn, "reason", false);
	junit_property(f, "server", run, "server", false);
	junit_property(f, "profile", run, "profile", false);
	junit_property(f, "clock", run, "clock", false);
	junit_property(f, "camsim_version", run, "version", false);
	junit_property(f, "interrupted", run, "interrupted", false);
	{
		double v;
		if (num(scn, "virtual_ms", &v))
			fprintf(f, "      <property name=\"simulated_ms\" "
				"value=\"%.0f\"/>\n", v);
	}
	fputs("    </properties>\n", f);
	cJSON_ArrayForEach(ck, arr(scn, "checks"))
		junit_case(f, scn, sname, ck, ci++, fow);
	if (scenario_case(scn, fow))
		junit_case(f, scn, sname, NULL, 0, fow);
	fputs("  </testsuite>\n", f);
}

int rep_junit(const cJSON *run, FILE *f)
{
	const cJSON *scn;
	junit_counts all = {0};
	bool fow;
	int si = 0;

	if (!run || !f)
		return CONF_EINVAL;
	fow = cJSON_IsTrue(mem(run, "fail_on_warning"));
	cJSON_ArrayForEach(scn, arr(run, "scenarios"))
		count_scenario(scn, fow, &all);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	      "<testsuites name=\"camsim\"", f);
	junit_counts_attrs(f, &all);
	fprintf(f, " time=\"%.3f\">\n", secs(run, "duration_ms"));
	cJSON_ArrayForEach(scn, arr(run, "scenarios"))
		junit_suite(f, run, scn, si++, fow);
	fputs("</testsuites>\n", f);
	return ferror(f) ? CONF_EWRITE : 0;
}

/* ------------------------------------------------ HTML */

static const char html_css[] =
	"body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;"
	"padding:1em;color:#222}"
	"h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin-top:1.5em}"
	"table{border-collapse:collapse;margin:.5em 0}"
	"th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;"
	"vertical-align:top}th{background:#f3f3f3}"
	"pre{background:#f7f7f7;border:1px solid #ddd;padding:.4em;margin:.2em 0;"
	"white-space:pre-wrap;word-break:break-all;max-height:30em;overflow:auto}"
	".st{display:inline-block;min-width:3.5em;text-align:center;"
	"font-weight:bold;border-radius:3px;padding:0 .3em;color:#fff}"
	".st.pass{background:#2e7d32}.st.fail{background:#c62828}"
	".st.warn{background:#ef6c00}.st.skip{background:#757575}"
	".st.na{background:#9e9e9e}.st.error{background:#6d1b1b}"
	".banner{background:#fff3e0;border:2px solid #ef6c00;padding:.5em;"
	"font-weight:bold}"
	".st.unknown{background:#6a1b9a}"
	".verdict{font-size:1.1em;padding:.1em .6em}"
	"details{margin:.4em 0}details>summary{cursor:pointer}"
	"details.scenario{border:1px solid #ccc;border-left:6px solid #757575;"
	"padding:.3em .6em}"
	"details.scenario.pass{border-left-color:#2e7d32}"
	"details.scenario.fail{border-left-color:#c62828}"
	"details.scenario>summary{font-weight:bold}"
	".ex{border-left:3px solid #90a4ae;padding-left:.6em;margin:.5em 0}"
	".exh{font-family:monospace;font-weight:bold}"
	".meta th{width:12em}.note{color:#666;font-style:italic}"
	"img.thumb{max-width:160px;max-height:160px;border:1px solid #ccc;"
	"margin:.2em}figure{display:inline-block;margin:.2em .5em .2em 0}"
	"figcaption{font-size:.85em;color:#555}"
	".viol{color:#c62828}.viol.should{color:#ef6c00}"
	".legend dt{font-weight:bold}.legend dd{margin:0 0 .4em 1.5em}";

/* The document's own section titles (docs/protocol.md numbering: both
 * "4." chapters are §4). */
static const char *const section_title[] = {
	NULL,
	"Protocol communication (web settings)",
	"Heartbeat command",
	"Tablet camera operating (server address, heartbeat period, time)",
	"Face database; snap upload of picture information",
	"Pass strategy",
	"Pass record failure timing retransmission",
	"Person batch import",
	"Software upgrade push",
	"Parameter configuration",
	"Log operations",
	"Tablet camera reboot",
	"Tablet camera control instruction",
	"Alarm report",
};

static void html_status(FILE *f, rep_status st)
{
	static const char *const label[] = {"?", "PASS", "FAIL", "WARN", "SKIP",
					    "N/A", "ERROR"};
	fprintf(f, "<span class=\"st %s\">%s</span>", st_class[st], label[st]);
}

/* A number member as text, or "–" when absent. */
static void html_num(FILE *f, const cJSON *o, const char *key,
		     const char *fmt)
{
	double d;

	if (num(o, key, &d))
		fprintf(f, fmt, d);
	else
		fputs("\xE2\x80\x93", f);
}

static void html_sections(FILE *f, const cJSON *scn, bool titles)
{
	const cJSON *v;
	bool first = true;

	cJSON_ArrayForEach(v, arr(scn, "sections"))
	{
		long n;

		if (!cJSON_IsString(v))
			continue;
		fputs(first ? "\xC2\xA7" : ", \xC2\xA7", f);
		esc(f, v->valuestring, 0, false);
		n = strtol(v->valuestring, NULL, 10);
		if (titles && n > 0 &&
		    n < (long)ARRAY_SIZE(section_title)) {
			fputs(" ", f);
			esc(f, section_title[n], 0, false);
		}
		first = false;
	}
}

/* " <code>name</code>" when the scenario has a name. */
static void html_name(FILE *f, const cJSON *scn)
{
	if (!str(scn, "name"))
		return;
	fputs(" <code>", f);
	esc(f, str(scn, "name"), 0, false);
	fputs("</code>", f);
}

/* A body in <pre>, cut at REP_HTML_BODY_MAX with a note. */
static void html_body(FILE *f, const char *label, const char *body)
{
	fprintf(f, "<div>%s:</div>", label);
	if (!body || !*body) {
		fputs("<div class=\"note\">(empty)</div>", f);
		return;
	}
	fputs("<pre>", f);
	if (esc(f, body, REP_HTML_BODY_MAX, false)) {
		fprintf(f, "</pre><div class=\"note\">cut after %d of %zu bytes; "
			"report.json holds the whole body</div>", REP_HTML_BODY_MAX,
			strlen(body));
		return;
	}
	fputs("</pre>", f);
}

static bool base64_ok(const char *s)
{
	size_t n = strlen(s), pad = 0;

	if (n == 0 || n % 4 || n > HTML_IMAGE_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return false;
	}
	return true;
}

static void html_images(FILE *f, const cJSON *x)
{
	static const char *const allowed[] = {"image/jpeg", "image/png",
					      "image/bmp"};
	const cJSON *img;

	cJSON_ArrayForEach(img, arr(x, "images"))
	{
		const char *mime = str(img, "mime"), *data = str(img, "data");
		const char *label = str_or(img, "label", "image");
		bool ok = false;

		if (!cJSON_IsObject(img))
			continue;

		for (size_t i = 0; mime && i < ARRAY_SIZE(allowed); i++)
			ok |= !strcmp(mime, allowed[i]);
		fputs("<figure>", f);
		if (ok && data && base64_ok(data)) {
			/* mime and data are checked above: nothing to escape. */
			fprintf(f, "<img class=\"thumb\" src=\"data:%s;base64,%s\" alt=\"",
				mime, data);
			esc(f, label, 0, true);
			fputs("\">", f);
		} else {
			fputs("<div class=\"note\">not shown: ", f);
			if (!ok) {
				fputs("type ", f);
				esc(f, mime ? mime : "(none)", 0, false);
				fputs(" is not JPEG, PNG or BMP", f);
			} else {
				fputs("the data is not base64 of a small image", f);
			}
			fputs("</div>", f);
		}
		fputs("<figcaption>", f);
		esc(f, label, 0, false);
		fputs("</figcaption></figure>", f);
	}
}

static void html_exchange(FILE *f, const cJSON *x, const char *ref)
{
	const cJSON *v;
	double d;

	fputs("<div class=\"ex\"><div class=\"exh\">exchange ", f);
	esc(f, ref, 0, false);
	fputs(" \xC2\xB7 ", f);
	exchange_line(f, x, "</div><div>");
	fprintf(f, " \xC2\xB7 Expect: 100-continue %s",
		cJSON_IsTrue(mem(x, "expect_100")) ? "sent" : "not sent");
	if (cJSON_IsTrue(mem(x, "expect_100")))
		fprintf(f, ", 100 Continue %s",
			cJSON_IsTrue(mem(x, "got_100")) ? "received"
							 : "NOT received");
	fputs("</div>", f);
	html_body(f, "request", str(x, "request"));
	html_images(f, x);
	fputs("<div>HTTP status: <b>", f);
	if (num(x, "status", &d) && d > 0)
		fprintf(f, "%.0f", d);
	else
		fputs("none", f);
	fputs("</b>", f);
	if (str(x, "error")) {
		fputs(" \xC2\xB7 error: ", f);
		esc(f, str(x, "error"), 0, false);
	}
	fputs(" \xC2\xB7 connect ", f);
	html_num(f, x, "t_connect_ms", "%.1f ms");
	fputs(", first byte ", f);
	html_num(f, x, "t_first_byte_ms", "%.1f ms");
	fputs(", total ", f);
	html_num(f, x, "t_total_ms", "%.1f ms");
	fputs("</div>", f);
	html_body(f, "reply", str(x, "reply"));
	if (cJSON_GetArraySize(arr(x, "violations")) > 0)
		fputs("<ul>", f);
	cJSON_ArrayForEach(v, arr(x, "violations"))
	{
		const char *sev = str_or(v, "severity", "must");

		if (!cJSON_IsObject(v))
			continue;
		fprintf(f, "<li class=\"viol %s\">",
			strcmp(sev, "should") ? "must" : "should");
		violation_text(f, v);
		fputs("</li>", f);
	}
	if (cJSON_GetArraySize(arr(x, "violations")) > 0)
		fputs("</ul>", f);
	fputs("</div>\n", f);
}

static void html_check(FILE *f, const cJSON *scn, const cJSON *ck, int ci)
{
	rep_status st = check_status(ck, scn);
	const cJSON *ref;
	double d;

	fputs("<tr><td>", f);
	html_status(f, st);
	fputs("</td><td><code>", f);
	if (str(ck, "id"))
		esc(f, str(ck, "id"), 0, false);
	else
		fprintf(f, "check-%d", ci + 1);
	fputs("</code></td><td>", f);
	esc(f, sev_word(str_or(ck, "severity", "")), 0, false);
	fputs("</td><td>", f);
	esc(f, str(ck, "name"), 0, false);
	if (str(ck, "message")) {
		fputs("<br><i>", f);
		esc(f, str(ck, "message"), 0, false);
		fputs("</i>", f);
	}
	fputs("</td><td>", f);
	esc_list(f, ck, "rules", false);
	fputs("</td><td>", f);
	if (num(ck, "at_ms", &d))
		fprintf(f, "%.0f", d);
	fputs("</td></tr>\n", f);
	if (cJSON_GetArraySize(arr(ck, "exchanges")) == 0)
		return;
	/* The evidence of what did not hold is open; a pass keeps it folded. */
	fprintf(f, "<tr><td></td><td colspan=\"5\"><details%s><summary>evidence: "
		"%d exchange(s)</summary>\n", st == ST_FAIL || st == ST_WARN ||
		st == ST_ERROR ? " open" : "",
		cJSON_GetArraySize(arr(ck, "exchanges")));
	cJSON_ArrayForEach(ref, arr(ck, "exchanges"))
	{
		const cJSON *x = exchange_at(scn, ref);
		char label[32];

		if (!x) {
			fputs("<div class=\"note\">a reference to an exchange the "
			      "scenario does not hold</div>", f);
			continue;
		}
		snprintf(label, sizeof label, "%.0f", ref->valuedouble);
		html_exchange(f, x, label);
	}
	fputs("</details></td></tr>\n", f);
}

static void html_scenario(FILE *f, const cJSON *scn, int si)
{
	rep_status st = status_of(scn);
	const cJSON *ck, *x, *ev;
	int ci = 0, xi = 0;

	fprintf(f, "<details class=\"scenario %s\" id=\"s%d\"%s><summary>",
		st_class[st], si + 1, st == ST_FAIL || st == ST_ERROR ||
		st == ST_NONE ? " open" : "");
	html_status(f, st);
	fputs(" ", f);
	esc(f, str_or(scn, "title", str_or(scn, "name", "(untitled scenario)")), 0,
	    false);
	html_name(f, scn);
	fputs("</summary>\n", f);
	if (str(scn, "description")) {
		fputs("<p>", f);
		esc(f, str(scn, "description"), 0, false);
		fputs("</p>\n", f);
	}
	fputs("<table class=\"meta\">", f);
	if (str(scn, "reason")) {
		fputs("<tr><th>Reason</th><td>", f);
		esc(f, str(scn, "reason"), 0, false);
		fputs("</td></tr>", f);
	}
	fputs("<tr><th>Sections</th><td>", f);
	html_sections(f, scn, true);
	fputs("</td></tr><tr><th>Scenario file</th><td>", f);
	esc(f, str(scn, "file"), 0, false);
	fputs("</td></tr><tr><th>Devices</th><td>", f);
	esc_list(f, scn, "devices", false);
	fputs("</td></tr><tr><th>Duration</th><td>", f);
	html_num(f, scn, "duration_ms", "%.0f ms wall time");
	fputs(", ", f);
	html_num(f, scn, "virtual_ms", "%.0f ms");
	fputs(" simulated</td></tr>", f);
	{
		double om;
		if (num(scn, "exchanges_omitted", &om) && om > 0)
			fprintf(f, "<tr><th>Exchanges left out</th><td>%.0f, after "
				"the first %d (the checks judged every one)</td>"
				"</tr>", om, cJSON_GetArraySize(arr(scn,
								  "exchanges")));
	}
	fputs("</table>\n", f);

	fputs("<table class=\"checks\"><tr><th>status</th><th>check</th>"
	      "<th>level</th><th>what is checked</th><th>rules</th>"
	      "<th>at (ms)</th></tr>\n", f);
	cJSON_ArrayForEach(ck, arr(scn, "checks"))
		html_check(f, scn, ck, ci++);
	if (ci == 0)
		fputs("<tr><td colspan=\"6\" class=\"note\">no checks were "
		      "recorded</td></tr>", f);
	fputs("</table>\n", f);

	fprintf(f, "<details><summary>all exchanges (%d)</summary>\n",
		cJSON_GetArraySize(arr(scn, "exchanges")));
	cJSON_ArrayForEach(x, arr(scn, "exchanges"))
	{
		char label[32];
		snprintf(label, sizeof label, "%d", xi++);
		html_exchange(f, x, label);
	}
	fprintf(f, "</details>\n<details><summary>events (%d)</summary>\n"
		"<table><tr><th>at (ms)</th><th>device</th><th>kind</th>"
		"<th>what</th></tr>\n", cJSON_GetArraySize(arr(scn, "events")));
	cJSON_ArrayForEach(ev, arr(scn, "events"))
	{
		if (!cJSON_IsObject(ev))
			continue;
		fputs("<tr><td>", f);
		html_num(f, ev, "at_ms", "%.0f");
		fputs("</td><td>", f);
		esc(f, str(ev, "device"), 0, false);
		fputs("</td><td>", f);
		esc(f, str(ev, "kind"), 0, false);
		fputs("</td><td>", f);
		esc(f, str(ev, "text"), 0, false);
		fputs("</td></tr>\n", f);
	}
	fputs("</table></details>\n</details>\n", f);
}

static const char html_legend[] =
	"<details class=\"legend\" open><summary>How to read this report</summary>"
	"<dl>"
	"<dt>Verdict</dt><dd>FAIL when a MUST check failed (and, when the run "
	"was told to fail on warnings, when a SHOULD check did not hold); PASS "
	"otherwise.</dd>"
	"<dt>MUST and SHOULD</dt><dd>A MUST check tests a requirement of the "
	"vendor document &ldquo;HTTP docking protocol V1.16&rdquo; (or camsim's "
	"documented reading of it where the document is unclear); when it does "
	"not hold it is a failure (FAIL). A SHOULD check tests a recommendation "
	"or a risk; when it does not hold it is a warning (WARN). SKIP: not "
	"run, with the reason. N/A: there was nothing for the check to judge "
	"in this scenario (no snapshot for expect-100, say): neither a pass "
	"nor a failure. ERROR: the scenario did not run to its end (the run "
	"was interrupted or timed out, or it could not be set up).</dd>"
	"<dt>Exchange</dt><dd>One HTTP request that a simulated tablet camera "
	"sent to the server and the server's answer: the JSON the camera "
	"POSTed, whether it asked <code>Expect: 100-continue</code> and got "
	"<code>100 Continue</code>, the HTTP status, the reply body and the "
	"timings (connect, first byte, total). Pictures in a request are shown "
	"as thumbnails and replaced by a marker in the text. Each check lists "
	"the exchanges that are its evidence.</dd>"
	"<dt>Sections</dt><dd>The chapters of the vendor document that a "
	"scenario exercises, by the document's own numbers (its two chapters "
	"numbered 4 are both &sect;4).</dd>"
	"<dt>Rules</dt><dd>Rule ids from camsim's rule catalogue "
	"(docs/protocol.md); a violation names the rule and the JSON path of "
	"the field, e.g. <code>$.facelib_manage.face.id</code>.</dd>"
	"<dt>Times</dt><dd>&ldquo;at&rdquo; is simulated time in milliseconds "
	"since the scenario started (whatever the device clock was set to); "
	"durations are wall time unless marked simulated. The devices' clock "
	"jumps over idle time unless the run was told otherwise (Clock).</dd>"
	"</dl></details>\n";

int rep_html(const cJSON *run, FILE *f)
{
	static const char *const sum_keys[] = {
		"scenarios", "passed", "failed", "skipped", "errors",
		"checks", "checks_failed", "warnings", "not_applicable"};
	static const char *const sum_heads[] = {
		"scenarios", "passed", "failed", "skipped", "not finished",
		"checks", "checks failed", "warnings", "n/a"};
	const cJSON *sum = mem(run, "summary"), *scn;
	const char *verdict = str(run, "verdict");
	rep_status vst;
	int si = 0;

	if (!run || !f)
		return CONF_EINVAL;
	vst = verdict && !strcmp(verdict, "pass")   ? ST_PASS
	      : verdict && !strcmp(verdict, "fail") ? ST_FAIL
						    : ST_NONE;
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width\">"
		"<title>camsim conformance report: %s</title>\n<style>%s</style>"
		"</head>\n<body>\n<header>\n<h1>Protocol V1.16 conformance: ",
		vst == ST_PASS ? "PASS" : vst == ST_FAIL ? "FAIL" : "no verdict",
		html_css);
	fprintf(f, "<span class=\"st verdict %s\">%s</span></h1>\n",
		st_class[vst],
		vst == ST_PASS ? "PASS" : vst == ST_FAIL ? "FAIL" : "NO VERDICT");
	if (str(run, "interrupted")) {
		fputs("<p class=\"banner\">This run did not finish: ", f);
		esc(f, str(run, "interrupted"), 0, false);
		fputs(". Scenarios that did not run to their end are marked "
		      "ERROR.</p>\n", f);
	}
	fputs("<table class=\"meta\"><tr><th>Server</th><td>", f);
	esc(f, str(run, "server"), 0, false);
	fputs("</td></tr><tr><th>Profile</th><td>", f);
	esc(f, str(run, "profile"), 0, false);
	fputs("</td></tr><tr><th>Clock</th><td>", f);
	esc(f, str(run, "clock"), 0, false);
	fputs("</td></tr><tr><th>Started</th><td>", f);
	esc(f, str(run, "started"), 0, false);
	fputs("</td></tr><tr><th>Duration</th><td>", f);
	html_num(f, run, "duration_ms", "%.0f ms");
	fprintf(f, "</td></tr><tr><th>Warnings fail the run</th><td>%s</td></tr>"
		"<tr><th>Tool</th><td>", cJSON_IsTrue(mem(run, "fail_on_warning"))
		? "yes" : "no");
	esc(f, str(run, "tool"), 0, false);
	fputs(" ", f);
	esc(f, str(run, "version"), 0, false);
	fputs(", ", f);
	esc(f, str(run, "schema"), 0, false);
	fputs("</td></tr></table>\n<table class=\"summary\"><tr>", f);
	for (size_t i = 0; i < ARRAY_SIZE(sum_keys); i++)
		fprintf(f, "<th>%s</th>", sum_heads[i]);
	fputs("</tr><tr>", f);
	for (size_t i = 0; i < ARRAY_SIZE(sum_keys); i++) {
		fputs("<td>", f);
		html_num(f, sum, sum_keys[i], "%.0f");
		fputs("</td>", f);
	}
	fputs("</tr></table>\n", f);
	fputs(html_legend, f);
	fputs("</header>\n<h2>Scenarios</h2>\n<table class=\"scenarios\"><tr>"
	      "<th>status</th><th>scenario</th><th>sections</th>"
	      "<th>duration</th></tr>\n", f);
	cJSON_ArrayForEach(scn, arr(run, "scenarios"))
	{
		fputs("<tr><td>", f);
		html_status(f, status_of(scn));
		fprintf(f, "</td><td><a href=\"#s%d\">", ++si);
		esc(f, str_or(scn, "title", str_or(scn, "name", "(untitled scenario)")),
		    0, false);
		fputs("</a>", f);
		html_name(f, scn);
		fputs("</td><td>", f);
		html_sections(f, scn, false);
		fputs("</td><td>", f);
		html_num(f, scn, "duration_ms", "%.0f ms");
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n<h2>Scenario details</h2>\n", f);
	si = 0;
	cJSON_ArrayForEach(scn, arr(run, "scenarios"))
		html_scenario(f, scn, si++);
	fputs("</body></html>\n", f);
	return ferror(f) ? CONF_EWRITE : 0;
}

/* ------------------------------------------------ files */

/* err = "<what> <path>: <cause>", the one shape of rep_write's errors. */
static void set_err(char *err, size_t errlen, const char *what,
		    const char *path, const char *cause)
{
	if (err && errlen)
		snprintf(err, errlen, "%s %s: %s", what, path, cause);
}

/* mkdir -p: dir and its missing parents. */
static int make_dirs(const char *dir, char *err, size_t errlen)
{
	size_t n = strlen(dir);
	char *p = malloc(n + 1);
	struct stat sb;
	int rc = 0;

	if (!p) {
		set_err(err, errlen, "cannot create", dir, strerror(ENOMEM));
		return CONF_ENOMEM;
	}
	memcpy(p, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0777) < 0 && errno != EEXIST) {
			set_err(err, errlen, "cannot create the report directory", p,
				strerror(errno));
			rc = CONF_EMKDIR;
			goto out;
		}
		p[i] = i < n ? '/' : '\0';
	}
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		set_err(err, errlen, "cannot use the report directory", dir,
			stat(dir, &sb) < 0 ? strerror(errno) : "not a directory");
		rc = CONF_EMKDIR;
	}
out:
	free(p);
	return rc;
}

typedef int (*rep_writer)(const cJSON *run, FILE *f);

/* Writes dir/name through writer via a temporary file in dir (same file
 * system, so the rename is atomic), synced before the rename. */
static int write_one(const cJSON *run, const char *dir, const char *name,
		     rep_writer writer, char *err, size_t errlen)
{
	static atomic_uint serial;
	size_t n = strlen(dir) + strlen(name) + 64;
	char *path = malloc(n), *tmp = malloc(n);
	const char *cause = NULL;
	FILE *f = NULL;
	int fd = -1, rc = 0;

	if (!path || !tmp) {
		rc = CONF_ENOMEM;
		set_err(err, errlen, "cannot write", name, conf_strerror(rc));
		goto out;
	}
	snprintf(path, n, "%s/%s", dir, name);
	/* O_EXCL with a per-process serial: no clash between threads or
	 * concurrent runs, and the mode follows the umask unlike mkstemp. */
	snprintf(tmp, n, "%s/.%s.tmp-%ld-%u", dir, name, (long)getpid(),
		 atomic_fetch_add(&serial, 1));
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 || !(f = fdopen(fd, "w")))
		goto fail;
	fd = -1;
	errno = 0;
	rc = writer(run, f);
	if (rc < 0) {
		cause = rc == CONF_EWRITE && errno ? strerror(errno) : conf_strerror(rc);
		goto fail;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) < 0)
		goto fail;
	rc = fclose(f);
	f = NULL;
	if (rc != 0 || rename(tmp, path) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	set_err(err, errlen, "cannot write", path, cause ? cause : strerror(errno));
	if (rc >= 0)
		rc = CONF_EWRITE;
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (rc < 0 && tmp)
		unlink(tmp);
	free(path);
	free(tmp);
	return rc;
}

int rep_write(const cJSON *run, const char *dir, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		rep_writer writer;
	} files[] = {
		{"junit.xml", rep_junit},
		{"report.json", rep_json},
		{"report.html", rep_html},
	};
	int rc = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!run || !dir || !*dir) {
		if (err && errlen)
			snprintf(err, errlen, "cannot write the reports: no run "
				 "document or no directory");
		return CONF_EINVAL;
	}
	rc = make_dirs(dir, err, errlen);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		rc = write_one(run, dir, files[i].name, files[i].writer, err,
			       errlen);
		if (rc < 0)
			goto out;
	}
out:
	return rc;
}
