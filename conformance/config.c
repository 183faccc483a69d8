/* config.c -- camsim.json and CAMSIM_* for `camsim run' and `camsim load':
 * the key table, reading and checking the file (lines computed from the
 * text, since cJSON keeps none), the environment, and the options they
 * become.  Parses no option itself beyond checking a value's rule; what an
 * option does stays with run_cli.c and load_cli.c. */
#include "config.h"

#include "base.h"
#include "conf_err.h"
#include "file.h"
#include "load_cli.h"
#include "load_prop.h"
#include "load_threshold.h"
#include "srcaddr.h"

#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CFG_FILE_MAX (1 << 20)   /* a team's settings, not data */
#define CFG_DEFAULT "camsim.json"
#define CFG_LIST_MAX 64          /* load's --threshold limit, for all lists */

extern char **environ;

typedef enum ktype {
	K_STR,    /* a string, lo..hi characters when hi > 0 */
	K_PATH,   /* a file or directory; relative to the config file */
	K_SERVER, /* mock or an http(s) URL */
	K_INT,    /* an integer in [lo, hi] */
	K_NUM,    /* a number in [lo, hi] (above lo when .above) */
	K_BOOL,   /* true gives the option (false, with .neg) */
	K_DUR,    /* run's durations: 90, 90s, 5m, 1h; above 0 */
	K_DURMS,  /* load's: also ms, 0 allowed, at most a year */
	K_ENUM,   /* one of rule's words, '|' between them */
	K_LIST,   /* strings, each one the option once */
} ktype;

/* A further check of a string; 0, or < 0 with the broken rule in why. */
typedef int (*kcheck)(const char *v, char *why, size_t n);

typedef struct key {
	const char *name;  /* the JSON key; CAMSIM_<NAME> in capitals */
	const char *cmd;   /* "run", "load", or NULL: both (top level) */
	const char *opt;   /* the option it stands for */
	ktype type;
	double lo, hi;
	const char *rule;  /* what a value must be, for messages */
	kcheck check;
	bool above, neg;
	const char *load_needs; /* load takes the key only with this option
				   in effect (an adapter load would not use
				   is refused there, docs/load.md) */
} key;

static int clock_ok(const char *v, char *why, size_t n);
static int threshold_ok(const char *v, char *why, size_t n);
static int propagate_ok(const char *v, char *why, size_t n);
static int srcaddr_ok(const char *v, char *why, size_t n);

/* The settings (docs/config.md has the same table for people). */
static const key keys[] = {
	{"server", NULL, "--server", K_SERVER, 0, 0, "\"mock\" or the device "
	 "URL of your server (http://host:port/path)", NULL, false, false, NULL},
	{"adapter", NULL, "--adapter", K_PATH, 0, 0, "the path of an adapter "
	 "file", NULL, false, false, "--propagate"},
	{"report_dir", NULL, "--report-dir", K_PATH, 0, 0, "a directory path",
	 NULL, false, false, NULL},
	{"profile", NULL, "--profile", K_ENUM, 0, 0, "strict|as-printed", NULL,
	 false, false, NULL},
	{"keep_alive", NULL, "--keep-alive", K_BOOL, 0, 0, "true or false",
	 NULL, false, false, NULL},

	{"cid_prefix", "run", "--cid-prefix", K_STR, 1, 8, "1 to 8 characters "
	 "(derived cids keep only 8)", NULL, false, false, NULL},
	{"jobs", "run", "--jobs", K_INT, 1, 16, "an integer from 1 to 16", NULL,
	 false, false, NULL},
	{"slow_ms", "run", "--slow-ms", K_NUM, 0, 1e9, "a number of milliseconds "
	 "above 0", NULL, true, false, NULL},
	{"clock", "run", "--clock", K_STR, 0, 0, "jump, real, or scale:N with N "
	 "a factor above 0", clock_ok, false, false, NULL},
	{"timeout", "run", "--timeout", K_DUR, 0, 0, "a duration such as 90s, "
	 "5m or 1h", NULL, false, false, NULL},
	{"scenario_timeout", "run", "--scenario-timeout", K_DUR, 0, 0,
	 "a duration such as 90s, 5m or 1h", NULL, false, false, NULL},
	{"state_wait", "run", "--state-wait", K_DUR, 0, 0, "a duration such as "
	 "90s, 5m or 1h", NULL, false, false, NULL},
	{"fail_on_skip", "run", "--fail-on-skip", K_BOOL, 0, 0, "true or false",
	 NULL, false, false, NULL},
	{"fail_on_warning", "run", "--fail-on-warning", K_BOOL, 0, 0, "true or "
	 "false", NULL, false, false, NULL},
	{"stable_cids", "run", "--stable-cids", K_BOOL, 0, 0, "true or false",
	 NULL, false, false, NULL},
	{"preflight", "run", "--no-preflight", K_BOOL, 0, 0, "true or false",
	 NULL, false, true, NULL},
	{"color", "run", "--color", K_ENUM, 0, 0, "auto|always|never", NULL,
	 false, false, NULL},
	{"quiet", "run", "--quiet", K_BOOL, 0, 0, "true or false", NULL, false,
	 false, NULL},
	{"sections", "run", "--section", K_LIST, 0, 0, "a list of section "
	 "numbers of V1.16", NULL, false, false, NULL},
	{"exclude", "run", "--exclude", K_LIST, 0, 0, "a list of scenario names "
	 "or patterns", NULL, false, false, NULL},

	{"devices", "load", "--devices", K_INT, 1, 100000, "an integer from 1 "
	 "to 100000", NULL, false, false, NULL},
	{"ramp", "load", "--ramp", K_DURMS, 0, 0, "a duration: a number with "
	 "ms, s, m or h (30s, 5m, 1h), at most a year", NULL, false, false,
	 NULL},
	{"duration", "load", "--duration", K_DURMS, 0, 0, "a duration: a number "
	 "with ms, s, m or h (30s, 5m, 1h), at most a year", NULL, false, false,
	 NULL},
	{"interval", "load", "--interval", K_INT, 1, 86400, "an integer from 1 "
	 "to 86400 (seconds)", NULL, false, false, NULL},
	{"jitter", "load", "--jitter", K_NUM, 0, 0.5, "a fraction from 0 to "
	 "0.5", NULL, false, false, NULL},
	{"arrivals", "load", "--arrivals", K_NUM, 0, 600, "a number of people "
	 "per device per minute from 0 to 600", NULL, false, false, NULL},
	{"faces", "load", "--faces", K_PATH, 0, 0, "a directory path", NULL,
	 false, false, NULL},
	{"thresholds", "load", "--threshold", K_LIST, 0, 0, "a list of "
	 "threshold expressions such as \"p99(heartbeat)<200ms\"",
	 threshold_ok, false, false, NULL},
	{"abort_on_fail", "load", "--abort-on-fail", K_BOOL, 0, 0, "true or "
	 "false", NULL, false, false, NULL},
	{"propagate", "load", "--propagate", K_STR, 0, 0, "enrol, batch[:N], "
	 "strategy or config", propagate_ok, false, false, NULL},
	{"connections", "load", "--connections", K_INT, 1, 128,
	 "an integer from 1 to 128", NULL, false, false, NULL},
	{"adapter_concurrency", "load", "--adapter-concurrency", K_INT, 1, 256,
	 "an integer from 1 to 256", NULL, false, false, NULL},
	{"source_addrs", "load", "--source-addrs", K_STR, 0, 0, "A or A-B: "
	 "IPv4 addresses of one /24", srcaddr_ok, false, false, NULL},
};

/* CAMSIM_ variables that are not settings (camsim's own, the adapter's
for its commands, the tests'): never reported as misspelt. */
static const char *const other_env[] = {
	"CONFIG", "DATA", "MODELS", "SHARDS", "CID", "ACTION", "PARAMS", "MOCK",
	"MOCK_TOKEN", "BIN", "ROOT", "REF_URL", "TEST_JOBS"};

/* ---------------------------------------------------------------- checks */

static int clock_ok(const char *v, char *why, size_t n)
{
	char *end;
	double f;

	if (!strcmp(v, "jump") || !strcmp(v, "real"))
		return 0;
	if (!strncmp(v, "scale:", 6)) {
		f = strtod(v + 6, &end);
		if (end != v + 6 && !*end && f > 0 && f <= 1e6)
			return 0;
	}
	snprintf(why, n, "it must be jump, real, or scale:N with N a factor "
		 "above 0 (scale:10 runs ten times faster than real time)");
	return -1;
}

static int threshold_ok(const char *v, char *why, size_t n)
{
	load_threshold t;

	return load_threshold_parse(v, &t, why, n) < 0 ? -1 : 0;
}

static int propagate_ok(const char *v, char *why, size_t n)
{
	load_prop_spec p;

	return load_prop_parse(v, &p, why, n) < 0 ? -1 : 0;
}

static int srcaddr_ok(const char *v, char *why, size_t n)
{
	srcaddr_range r;

	return srcaddr_parse("source_addrs", v, &r, why, n) < 0 ? -1 : 0;
}

static bool enum_has(const char *words, const char *v)
{
	size_t n = strlen(v);

	for (const char *p = words; *p;) {
		size_t w = strcspn(p, "|");
		if (w == n && !strncmp(p, v, n))
			return true;
		p += w + (p[w] == '|');
	}
	return false;
}

/* Whether v satisfies k's rule (for a list: one element); the rule broken
 * in why.  0 or -1. */
static int check_value(const key *k, const char *v, char *why, size_t n)
{
	char *end;
	double x;
	int64_t ms;

	switch (k->type) {
	case K_INT:
	case K_NUM:
		errno = 0;
		x = strtod(v, &end);
		if (end == v || *end || errno || !isfinite(x) || x < k->lo ||
		    x > k->hi || (k->above && x <= k->lo) ||
		    (k->type == K_INT && x != floor(x)))
			break;
		return 0;
	case K_SERVER:
		if (!strcmp(v, "mock") ||
		    (!strncmp(v, "http://", 7) && v[7] && v[7] != '/') ||
		    (!strncmp(v, "https://", 8) && v[8] && v[8] != '/'))
			return 0;
		break;
	case K_DUR:
		x = strtod(v, &end);
		if (end == v || !(x > 0) || (*end && strcmp(end, "s") &&
		    strcmp(end, "m") && strcmp(end, "h")))
			break;
		return 0;
	case K_DURMS:
		if (load_parse_duration(v, &ms) < 0)
			break;
		return 0;
	case K_ENUM:
		if (!enum_has(k->rule, v))
			break;
		return 0;
	case K_STR:
	case K_PATH:
	case K_LIST:
	case K_BOOL:
		if (!*v) {
			snprintf(why, n, "it must not be empty: %s", k->rule);
			return -1;
		}
		if (k->hi > 0 && (strlen(v) < k->lo || strlen(v) > k->hi))
			break;
		if (k->check)
			return k->check(v, why, n);
		return 0;
	}
	if (k->type == K_ENUM) {
		/* "a|b|c" -> "a, b or c" */
		char words[200];
		const char *last = strrchr(k->rule, '|');
		size_t j = 0;
		for (const char *p = k->rule; *p && j + 8 < sizeof words; p++) {
			if (*p != '|')
				words[j++] = *p;
			else
				j += (size_t)snprintf(words + j, sizeof words - j,
						      p == last ? " or " : ", ");
		}
		words[j] = '\0';
		snprintf(why, n, "it must be %s", words);
	} else {
		snprintf(why, n, "it must be %s", k->rule);
	}
	return -1;
}

/* ---------------------------------------------------------------- lines */

/* Every object member of the file in document order with its line: cJSON
 * keeps members in the order of the text, so the n-th member met walking
 * the tree depth-first is the n-th key of the text. */
typedef struct where {
	const char *file;
	const cJSON **item;
	int *line;
	size_t n;
} where;

static size_t count_members(const cJSON *j)
{
	size_t n = 0;
	const cJSON *c;

	cJSON_ArrayForEach(c, j)
		n += (cJSON_IsObject(j) ? 1 : 0) + count_members(c);
	return n;
}

static void list_members(const cJSON *j, where *w, size_t *i)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, j) {
		if (cJSON_IsObject(j) && *i < w->n)
			w->item[(*i)++] = c;
		list_members(c, w, i);
	}
}

/* The line of the text's n-th key, a string followed by ':' outside
 * any other string (the text is valid JSON by now). */
static int key_lines(const char *t, int *line, size_t max)
{
	size_t n = 0;
	int ln = 1;

	for (const char *p = t; *p; p++) {
		const char *q;
		int at = ln;
		if (*p == '\n')
			ln++;
		if (*p != '"')
			continue;
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '\n')
				ln++;
		}
		if (!*p)
			break;
		for (q = p + 1; *q == ' ' || *q == '\t' || *q == '\r' ||
		     *q == '\n'; q++)
			;
		if (*q != ':')
			continue;
		if (n < max)
			line[n] = at;
		n++;
	}
	return n == max ? 0 : -1;
}

static int line_of(const where *w, const cJSON *item)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->item[i] == item)
			return w->line[i];
	return 0;
}

/* "FILE:LINE: " or "FILE: " when the line is unknown */
static int fail(const where *w, const cJSON *item, char *err, size_t errlen,
		const char *fmt, ...)
{
	va_list ap;
	int ln = item ? line_of(w, item) : 0;
	size_t used;

	if (ln > 0)
		used = (size_t)snprintf(err, errlen, "%s:%d: ", w->file, ln);
	else
		used = (size_t)snprintf(err, errlen, "%s: ", w->file);
	va_start(ap, fmt);
	if (used < errlen)
		vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
	return CONF_EFORMAT;
}

/* ---------------------------------------------------------------- keys */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (lb >= ARRAY_SIZE(row) || la >= 64)
		return 64;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t sub = diag + (a[i - 1] != b[j - 1]);
			size_t best = up + 1 < row[j - 1] + 1 ? up + 1
				      : row[j - 1] + 1;
			row[j] = sub < best ? sub : best;
			diag = up;
		}
	}
	return row[lb];
}

static const key *find_key(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

/* The known name nearest to name among the keys allowed in section sect
 * (NULL: the top level, where "run" and "load" are names too); NULL when
 * none is close enough to be a misspelling. */
static const char *nearest(const char *name, const char *sect)
{
	static const char *const sections[] = {"run", "load"};
	const char *best = NULL;
	size_t bd = 3 + strlen(name) / 4;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		size_t d;
		if (keys[i].cmd && (!sect || strcmp(keys[i].cmd, sect)))
			continue;
		if ((d = edit_distance(name, keys[i].name)) < bd) {
			bd = d;
			best = keys[i].name;
		}
	}
	for (size_t i = 0; !sect && i < ARRAY_SIZE(sections); i++)
		if (edit_distance(name, sections[i]) < bd) {
			bd = edit_distance(name, sections[i]);
			best = sections[i];
		}
	return best;
}

static void json_kind(const cJSON *v, char *out, size_t n)
{
	if (cJSON_IsString(v))
		snprintf(out, n, "a string (\"%.60s\")", v->valuestring);
	else if (cJSON_IsNumber(v))
		snprintf(out, n, "a number (%.15g)", v->valuedouble);
	else if (cJSON_IsBool(v))
		snprintf(out, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsNull(v))
		snprintf(out, n, "null");
	else if (cJSON_IsArray(v))
		snprintf(out, n, "a list");
	else
		snprintf(out, n, "an object");
}

/* A value of the file as the text an option takes (numbers as written). */
static void scalar_text(const cJSON *v, char *out, size_t n)
{
	if (cJSON_IsString(v))
		snprintf(out, n, "%s", v->valuestring);
	else
		snprintf(out, n, "%.15g", v->valuedouble);
}

/* Checks member m (key k, in section sect or at the top) of the file. */
static int check_member(const where *w, const key *k, const cJSON *m,
			const char *sect, char *err, size_t errlen)
{
	char why[600], kind[100], v[1024], full[64];
	const cJSON *e;
	size_t i = 0;
	bool want_num = k->type == K_INT || k->type == K_NUM;

	snprintf(full, sizeof full, "%s%s%s", sect ? sect : "", sect ? "." : "",
		 k->name);
	json_kind(m, kind, sizeof kind);
	if (k->type == K_BOOL) {
		if (!cJSON_IsBool(m))
			return fail(w, m, err, errlen, "key \"%s\" must be true "
				    "or false, not %s", full, kind);
		return 0;
	}
	if (k->type == K_LIST) {
		if (!cJSON_IsArray(m))
			return fail(w, m, err, errlen, "key \"%s\" must be a list "
				    "of strings ([\"...\"]): %s; not %s", full,
				    k->rule, kind);
		if (cJSON_GetArraySize(m) > CFG_LIST_MAX)
			return fail(w, m, err, errlen, "key \"%s\" has %d "
				    "entries; at most %d are allowed", full,
				    cJSON_GetArraySize(m), CFG_LIST_MAX);
		cJSON_ArrayForEach(e, m) {
			if (!cJSON_IsString(e)) {
				json_kind(e, kind, sizeof kind);
				return fail(w, m, err, errlen, "key \"%s\", entry "
					    "%zu: must be a string, not %s", full,
					    i + 1, kind);
			}
			if (check_value(k, e->valuestring, why, sizeof why) < 0)
				return fail(w, m, err, errlen, "key \"%s\", entry "
					    "%zu (\"%.100s\"): %s", full, i + 1,
					    e->valuestring, why);
			i++;
		}
		return 0;
	}
	if (want_num ? !cJSON_IsNumber(m) : !cJSON_IsString(m))
		return fail(w, m, err, errlen, "key \"%s\" must be %s (%s), not "
			    "%s", full, want_num ? "a number" : "a string",
			    k->rule, kind);
	scalar_text(m, v, sizeof v);
	if (check_value(k, v, why, sizeof why) < 0)
		return fail(w, m, err, errlen, "key \"%s\" is %s: %s", full,
			    kind, why);
	return 0;
}

/* Checks the members of object o (sect: "run", "load", or NULL for the
 * top level): each known, allowed here, given once, with a valid value. */
static int check_object(const where *w, const cJSON *o, const char *sect,
			char *err, size_t errlen)
{
	const cJSON *m, *p;
	int rc;

	cJSON_ArrayForEach(m, o) {
		const key *k = find_key(m->string);
		const char *near;
		for (p = o->child; p != m; p = p->next)
			if (!strcmp(p->string, m->string))
				return fail(w, m, err, errlen, "key \"%s\" is "
					    "given twice (also on line %d)",
					    m->string, line_of(w, p));
		if (!sect && (!strcmp(m->string, "run") ||
			      !strcmp(m->string, "load"))) {
			if (!cJSON_IsObject(m))
				return fail(w, m, err, errlen, "key \"%s\" must "
					    "be an object ({...}) of camsim %s's "
					    "settings", m->string, m->string);
			if ((rc = check_object(w, m, m->string, err, errlen)) < 0)
				return rc;
			continue;
		}
		if (k && k->cmd && (!sect || strcmp(k->cmd, sect)))
			return fail(w, m, err, errlen, "key \"%s\"%s%s%s is a "
				    "setting of camsim %s: put it in the \"%s\" "
				    "object", m->string, sect ? " in \"" : "",
				    sect ? sect : "", sect ? "\"" : "", k->cmd,
				    k->cmd);
		if (!k) {
			near = nearest(m->string, sect);
			return fail(w, m, err, errlen, "unknown key \"%.100s\"%s%s"
				    "%s%s%s%s (docs/config.md lists the keys)",
				    m->string, sect ? " in \"" : "", sect ? sect
				    : "", sect ? "\"" : "", near ? "; did you "
				    "mean \"" : "", near ? near : "",
				    near ? "\"?" : "");
		}
		if ((rc = check_member(w, k, m, sect, err, errlen)) < 0)
			return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- file */

typedef struct file_cfg {
	char *dir;       /* its directory with '/', "" for the working one */
	char *text;
	cJSON *root;
} file_cfg;

static void file_free(file_cfg *f)
{
	free(f->dir);
	free(f->text);
	cJSON_Delete(f->root);
	memset(f, 0, sizeof *f);
}

/* Reads and checks path. */
static int file_load(file_cfg *f, const char *path, char *err, size_t errlen)
{
	const char *end = NULL, *slash = strrchr(path, '/');
	where w = {.file = path};
	size_t len, i = 0;
	int rc;

	if (!(f->dir = strndup(path, slash ? (size_t)(slash - path) + 1 : 0)))
		return CONF_ENOMEM;
	rc = base_read_file("config file", path, CFG_FILE_MAX, &f->text, &len,
			    err, errlen);
	if (rc < 0)
		return rc == BASE_ENOMEM ? CONF_ENOMEM : CONF_EREAD;
	if (strlen(f->text) != len) {
		/* cJSON would stop at the NUL and drop what follows */
		snprintf(err, errlen, "%s: byte %zu is a NUL: not a text file",
			 path, strlen(f->text) + 1);
		return CONF_ENOTJSON;
	}
	f->root = cJSON_ParseWithOpts(f->text, &end, true);
	if (!f->root) {
		size_t off = end ? (size_t)(end - f->text) : 0, bol = off, nx;
		int ln = 1;
		for (size_t k = 0; k < off && k < len; k++)
			ln += f->text[k] == '\n';
		while (bol > 0 && f->text[bol - 1] != '\n')
			bol--;
		/* what follows, the line's or (at its end) the next one's */
		nx = off + strspn(f->text + off, " \t\r\n");
		snprintf(err, errlen, "%s:%d:%zu: not valid JSON %s \"%.*s\" (a "
			 "camsim config is one JSON object; no comments, no "
			 "trailing commas)", path, ln, off - bol + 1,
			 f->text[off + strspn(f->text + off, " \t\r")] == '\n'
			 ? "at the end of the line; next comes" : "here:",
			 (int)(strcspn(f->text + nx, "\n") > 40 ? 40
			       : strcspn(f->text + nx, "\n")), f->text + nx);
		return CONF_ENOTJSON;
	}
	if (!cJSON_IsObject(f->root)) {
		snprintf(err, errlen, "%s:1: the file must hold one JSON object "
			 "({\"server\": ..., \"run\": {...}}), not this", path);
		return CONF_EFORMAT;
	}
	w.n = count_members(f->root);
	w.item = calloc(w.n + 1, sizeof *w.item);
	w.line = calloc(w.n + 1, sizeof *w.line);
	if (!w.item || !w.line) {
		rc = CONF_ENOMEM;
		goto out;
	}
	list_members(f->root, &w, &i);
	if (key_lines(f->text, w.line, w.n) < 0)
		memset(w.line, 0, (w.n + 1) * sizeof *w.line); /* no lines */
	rc = check_object(&w, f->root, NULL, err, errlen);
out:
	free(w.item);
	free(w.line);
	return rc;
}

/* The file's member for key k of command cmd: the command's section
 * first, then the top level. */
static const cJSON *file_get(const file_cfg *f, const key *k, const char *cmd)
{
	const cJSON *m;

	if (!f->root)
		return NULL;
	if ((m = cJSON_GetObjectItemCaseSensitive(
		     cJSON_GetObjectItemCaseSensitive(f->root, cmd), k->name)))
		return m;
	return k->cmd ? NULL : cJSON_GetObjectItemCaseSensitive(f->root,
								k->name);
}

/* ---------------------------------------------------------------- argv */

typedef struct vec {
	char **v;
	size_t n, cap;
	bool oom;
} vec;

static void push(vec *a, const char *s)
{
	char *d;

	if (a->oom)
		return;
	if (a->n + 2 > a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 32;
		char **nv = realloc(a->v, nc * sizeof *nv);
		if (!nv) {
			a->oom = true;
			return;
		}
		a->v = nv;
		a->cap = nc;
	}
	if (!(d = strdup(s))) {
		a->oom = true;
		return;
	}
	a->v[a->n++] = d;
	a->v[a->n] = NULL;
}

static void env_name(const key *k, char *out, size_t n)
{
	size_t j = (size_t)snprintf(out, n, "CAMSIM_");

	for (const char *p = k->name; *p && j + 1 < n; p++)
		out[j++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	out[j] = '\0';
}

static bool has_arg(int argc, char **argv, const char *opt)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], opt))
			return true;
	return false;
}

/* "1", "true", "yes", "on" -> 1; "0", "false", "no", "off" -> 0; else -1 */
static int env_bool(const char *v)
{
	static const char *const t[] = {"1", "true", "yes", "on"};
	static const char *const f[] = {"0", "false", "no", "off"};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		if (!strcasecmp(v, t[i]))
			return 1;
		if (!strcasecmp(v, f[i]))
			return 0;
	}
	return -1;
}

/* Key k's options from variable name=v (comma-separated for a list). */
static int from_env(const key *k, const char *name, const char *v, vec *a,
		    char *err, size_t errlen)
{
	char why[600];
	int b;

	if (k->type == K_BOOL) {
		if ((b = env_bool(v)) < 0) {
			snprintf(err, errlen, "environment %s=\"%.100s\": it must "
				 "be 1 or 0 (true/false, yes/no, on/off)", name, v);
			return CONF_EFORMAT;
		}
		if (b != k->neg)
			push(a, k->opt);
		return 0;
	}
	if (k->type == K_LIST) {
		char *copy = strdup(v), *save = NULL;
		size_t i = 0;
		if (!copy)
			return CONF_ENOMEM;
		for (char *t = strtok_r(copy, ",", &save); t;
		     t = strtok_r(NULL, ",", &save), i++) {
			if (i == CFG_LIST_MAX ||
			    check_value(k, t, why, sizeof why) < 0) {
				snprintf(err, errlen, "environment %s=\"%.100s\", "
					 "entry %zu: %s", name, v, i + 1,
					 i == CFG_LIST_MAX ? "at most 64 entries "
					 "are allowed" : why);
				free(copy);
				return CONF_EFORMAT;
			}
			push(a, k->opt);
			push(a, t);
		}
		free(copy);
		return 0;
	}
	if (check_value(k, v, why, sizeof why) < 0) {
		snprintf(err, errlen, "environment %s=\"%.100s\": %s", name, v,
			 why);
		return CONF_EFORMAT;
	}
	push(a, k->opt);
	push(a, v);
	return 0;
}

/* Key k's options from the file's member m (already checked). */
static void from_file(const key *k, const cJSON *m, const file_cfg *f, vec *a)
{
	char v[1024], joined[PATH_MAX + 1024];
	const cJSON *e;

	if (k->type == K_BOOL) {
		if (cJSON_IsTrue(m) != k->neg)
			push(a, k->opt);
		return;
	}
	if (k->type == K_LIST) {
		cJSON_ArrayForEach(e, m) {
			push(a, k->opt);
			push(a, e->valuestring);
		}
		return;
	}
	scalar_text(m, v, sizeof v);
	push(a, k->opt);
	if (k->type == K_PATH && v[0] != '/' && f->dir[0]) {
		/* a committed file's paths mean the same from any directory */
		snprintf(joined, sizeof joined, "%s%s", f->dir, v);
		push(a, joined);
	} else {
		push(a, v);
	}
}

/* A CAMSIM_ variable a key's name is close to: likely misspelt. */
static void env_typos(const char *cmd, char *note, size_t n)
{
	size_t used = strlen(note);

	for (char **e = environ; e && *e; e++) {
		char name[64], best[64] = "";
		size_t len = strcspn(*e, "="), bd = 3;
		bool known = false;
		if (strncmp(*e, "CAMSIM_", 7) || len >= sizeof name)
			continue;
		memcpy(name, *e, len);
		name[len] = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(other_env); i++)
			known |= !strcmp(name + 7, other_env[i]);
		for (size_t i = 0; !known && i < ARRAY_SIZE(keys); i++) {
			char k[64];
			size_t d;
			env_name(&keys[i], k, sizeof k);
			if (!(d = edit_distance(name, k)))
				known = true;
			else if (d < bd) {
				bd = d;
				snprintf(best, sizeof best, "%s", k);
			}
		}
		if (!known && best[0] && used < n)
			used += (size_t)snprintf(note + used, n - used, "camsim %s: "
				"warning: environment %s is not a setting and is "
				"ignored; did you mean %s?\n", cmd, name, best);
	}
}

/* ---------------------------------------------------------------- api */

void cfg_args_free(cfg_args *a)
{
	if (a->argv)
		for (int i = 0; i < a->argc; i++)
			free(a->argv[i]);
	free(a->argv);
	memset(a, 0, sizeof *a);
}

/* The file to read into *path (NULL: none); -1 with err when --config
 * lacks its value. */
static int pick_file(int argc, char **argv, const char **path, char *err,
		     size_t errlen)
{
	const char *env = getenv("CAMSIM_CONFIG");
	struct stat sb;

	*path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-config")) {
			*path = NULL;
			return 0;
		}
		if (!strcmp(argv[i], "--config")) {
			if (i + 1 == argc) {
				snprintf(err, errlen, "--config needs a file "
					 "(docs/config.md)");
				return -1;
			}
			*path = argv[++i];
		}
	}
	if (!*path && env && *env)
		*path = env;
	else if (!*path && lstat(CFG_DEFAULT, &sb) == 0)
		*path = CFG_DEFAULT;
	return 0;
}

int cfg_apply(const char *cmd, int argc, char **argv, cfg_args *out,
	      char *err, size_t errlen)
{
	file_cfg f = {0};
	vec a = {0};
	const char *path;
	bool propagating = false;
	int rc = 0;

	memset(out, 0, sizeof *out);
	err[0] = '\0';
	push(&a, argv[0]);
	if (has_arg(argc, argv, "-h") || has_arg(argc, argv, "--help"))
		goto user; /* help reads nothing, so a broken file cannot hide it */
	if (pick_file(argc, argv, &path, err, errlen) < 0) {
		rc = CONF_EINVAL;
		goto out;
	}
	if (path && (rc = file_load(&f, path, err, errlen)) < 0)
		goto out;
	/* keys that apply only with another option in effect need to know it
	 * before the table reaches that option */
	propagating = has_arg(argc, argv, "--propagate") ||
		      (getenv("CAMSIM_PROPAGATE") && *getenv("CAMSIM_PROPAGATE")) ||
		      file_get(&f, find_key("propagate"), cmd);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const key *k = &keys[i];
		const cJSON *m;
		const char *v;
		char name[64];

		if (k->cmd && strcmp(k->cmd, cmd))
			continue;
		if (has_arg(argc, argv, k->opt))
			continue; /* the command line wins */
		if (k->load_needs && !strcmp(cmd, "load") && !propagating)
			continue;
		env_name(k, name, sizeof name);
		m = file_get(&f, k, cmd);
		v = getenv(name);
		if (v && *v) {
			if ((rc = from_env(k, name, v, &a, err, errlen)) < 0)
				goto out;
		} else if (m) {
			from_file(k, m, &f, &a);
		}
	}
	if (path) /* read without being asked: say so, it changes the run */
		snprintf(out->note, sizeof out->note, "camsim %s: settings from "
			 "%.300s\n", cmd, path);
	env_typos(cmd, out->note, sizeof out->note);
user:
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-config"))
			continue;
		if (!strcmp(argv[i], "--config")) {
			i++;
			continue;
		}
		push(&a, argv[i]);
	}
	if (a.oom) {
		rc = CONF_ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	out->argc = (int)a.n;
	out->argv = a.v;
	a.v = NULL;
	a.n = 0;
out:
	for (size_t i = 0; i < a.n; i++)
		free(a.v[i]);
	free(a.v);
	file_free(&f);
	if (rc < 0)
		out->note[0] = '\0';
	return rc;
}

int cfg_main(const char *cmd, int (*fn)(int, char **, FILE *, FILE *),
	     int argc, char **argv, FILE *out, FILE *err)
{
	cfg_args a;
	char e[1500];
	int rc;

	if (cfg_apply(cmd, argc, argv, &a, e, sizeof e) < 0) {
		fprintf(err, "camsim %s: %s\n", cmd, e);
		return 2;
	}
	fputs(a.note, err);
	rc = fn(a.argc, a.argv, out, err);
	cfg_args_free(&a);
	return rc;
}
