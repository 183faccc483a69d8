/* check_report.c -- the report writer (conformance/report.c), data-driven:
 * every run document under fixtures/reports/ is written and its junit.xml
 * and report.html are summarised by fixtures/reports/summarize.py (Python's
 * xml.etree and html.parser: python3 is required, never a skip), then
 * compared with the hand-written NAME.expect beside it. */
#include "report.h"
#include "testutil.h"

#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[64];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/check_report.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

static cJSON *load_json(const char *path)
{
	char *buf = tu_read(path, NULL);
	cJSON *doc;

	ck_assert_msg(buf != NULL, "cannot read %s", path);
	doc = cJSON_Parse(buf);
	ck_assert_msg(doc != NULL, "%s is not JSON", path);
	free(buf);
	return doc;
}

/* A fixture of fixtures/reports by name. */
static cJSON *load_fixture(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/fixtures/reports/%s", tu_root(), name);
	return load_json(path);
}

/* path with its ".json" replaced by ext (malloc'd). */
static char *sibling(const char *path, const char *ext)
{
	size_t n = strlen(path) - strlen(".json");
	char *p = malloc(n + strlen(ext) + 1);

	memcpy(p, path, n);
	strcpy(p + n, ext);
	return p;
}

/* Runs summarize.py MODE over files; one parsed JSON line per file, in an
 * array the caller frees. */
static cJSON *summarize(const char *mode, const char *files)
{
	char cmd[70 * 1024], out_path[128], *out, *line, *save = NULL;
	cJSON *all = cJSON_CreateArray();
	int st;

	snprintf(out_path, sizeof out_path, "%s/summary.out", tmpdir);
	snprintf(cmd, sizeof cmd,
		 "python3 '%s/fixtures/reports/summarize.py' %s %s >'%s' 2>&1",
		 tu_root(), mode, files, out_path);
	st = system(cmd);
	out = tu_read(out_path, NULL);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 && out,
		      "summarize.py failed (is python3 installed? it is "
		      "required): %.400s", out ? out : "no output");
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		cJSON *j = cJSON_Parse(line);
		ck_assert_msg(j != NULL, "summarize.py printed %.300s", line);
		cJSON_AddItemToArray(all, j);
	}
	free(out);
	return all;
}

static cJSON *summarize_one(const char *mode, const char *file)
{
	char quoted[PATH_MAX + 2];
	cJSON *all, *one;

	snprintf(quoted, sizeof quoted, "'%s'", file);
	all = summarize(mode, quoted);
	ck_assert_int_eq(cJSON_GetArraySize(all), 1);
	one = cJSON_DetachItemFromArray(all, 0);
	cJSON_Delete(all);
	return one;
}

typedef int (*writer_fn)(const cJSON *, FILE *);

/* Writes run with writer to tmpdir/name; returns the path (static). */
static const char *write_with(writer_fn w, const cJSON *run, const char *name)
{
	static char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(w(run, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* What writer w makes of run, NUL-terminated (free it). */
static char *render(writer_fn w, const cJSON *run)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(w(run, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return out;
}

static void assert_same(const cJSON *got, const cJSON *want, const char *what)
{
	if (!cJSON_Compare(got, want, 1)) {
		char *g = cJSON_PrintUnformatted(got),
		     *w = cJSON_PrintUnformatted(want);
		ck_abort_msg("%s:\n got  %s\n want %s", what, g, w);
	}
}

/* The JUnit summary of run (fail_on_warning forced to fow) against the
 * .expect's member key. */
static void check_junit(cJSON *run, bool fow, const cJSON *expect,
			const char *key, const char *fixture)
{
	cJSON *sum;
	char what[PATH_MAX + 64];

	cJSON_DeleteItemFromObjectCaseSensitive(run, "fail_on_warning");
	cJSON_AddBoolToObject(run, "fail_on_warning", fow);
	sum = summarize_one("junit", write_with(rep_junit, run, "junit.xml"));
	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(sum, "wellformed")),
		      "%s: junit.xml is not well-formed: %s", fixture,
		      cJSON_GetStringValue(cJSON_GetObjectItem(sum, "why")));
	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(sum, "consistent")),
		      "%s: a count attribute disagrees with the testcases "
		      "under it, or a classname with its suite", fixture);
	snprintf(what, sizeof what, "%s %s", fixture, key);
	assert_same(cJSON_GetObjectItem(sum, "summary"),
		    cJSON_GetObjectItem(expect, key), what);
	cJSON_Delete(sum);
}

/* Calls fn with every run document of fixtures/reports and its .expect. */
typedef void (*fixture_fn)(size_t i, const char *path, cJSON *run,
			   const cJSON *expect);

static void each_fixture(fixture_fn fn)
{
	tu_list l = tu_ls("fixtures/reports", ".json");

	ck_assert_msg(l.n >= 3, "fixtures/reports holds %zu run documents", l.n);
	for (size_t i = 0; i < l.n; i++) {
		char *ep = sibling(l.path[i], ".expect");
		cJSON *run = load_json(l.path[i]), *expect = load_json(ep);

		fn(i, l.path[i], run, expect);
		cJSON_Delete(run);
		cJSON_Delete(expect);
		free(ep);
	}
	tu_ls_free(&l);
}

static void junit_one(size_t i, const char *path, cJSON *run,
		      const cJSON *expect)
{
	(void)i;
	check_junit(run, false, expect, "junit", path);
	check_junit(run, true, expect, "junit_fail_on_warning", path);
}

START_TEST(junit_counts_per_fixture)
{
	each_fixture(junit_one);
}
END_TEST

/* Asserts that text holds every string of want and none of lack (both
 * NULL-terminated). */
static void assert_text(const char *text, const char *what,
			const char *const *want, const char *const *lack)
{
	for (; want && *want; want++)
		ck_assert_msg(strstr(text, *want), "%s lacks \"%s\"", what, *want);
	for (; lack && *lack; lack++)
		ck_assert_msg(!strstr(text, *lack), "%s holds \"%s\"", what, *lack);
}

/* Renders fixture name with w and checks the text. */
static void assert_rendered(writer_fn w, const char *name,
			    const char *const *want, const char *const *lack)
{
	cJSON *run = load_fixture(name);
	char *text = render(w, run);

	assert_text(text, name, want, lack);
	free(text);
	cJSON_Delete(run);
}

START_TEST(junit_evidence_and_escaping)
{
	/* The failure carries the message, its rules and the exchange. */
	static const char *const fail_want[] = {
		"type=\"must\">no type 3 result with seq 7",
		"rules: facelib.result",
		"exchange 1: heartbeat from cam01 at 3010 ms: "
		"POST http://127.0.0.1:8080/api/face -> 500",
		"reply: Internal Server Error",
		"MUST id.length at $.facelib_manage.face.id: longer than 20 characters",
		"<system-out>WARNING: seq 7 was sent twice",
		"<skipped message=\"needs a door sensor",
		"timestamp=\"2026-11-24T10:00:00\"",
		NULL};
	/* A long reply is abbreviated; markup stays text. */
	static const char *const hostile_want[] = {
		"&lt;/pre&gt;&lt;script&gt;", "bytes in all; report.json has it]",
		NULL};
	static const char *const hostile_lack[] = {"]]>", "<script", "\x01",
						   "\xff", NULL};

	assert_rendered(rep_junit, "fail.json", fail_want, NULL);
	assert_rendered(rep_junit, "hostile.json", hostile_want, hostile_lack);
}
END_TEST

static void html_one(size_t i, const char *fixture, cJSON *run,
		     const cJSON *expect)
{
	const cJSON *want = cJSON_GetObjectItem(expect, "html");
	const char *path = write_with(rep_html, run, "report.html");
	char *page = tu_read(path, NULL);
	cJSON *sum;

	(void)i;
	ck_assert_ptr_nonnull(page);
	ck_assert_msg(!strcasestr(page, "<script"),
		      "%s: the page holds a <script", fixture);
	sum = summarize_one("html", path);
	ck_assert_msg(!cJSON_GetObjectItem(sum, "exception"),
		      "%s: %s", fixture, cJSON_GetStringValue(
			      cJSON_GetObjectItem(sum, "exception")));
	ck_assert_int_eq(cJSON_GetObjectItem(sum, "scripts")->valueint, 0);
	ck_assert_int_eq(cJSON_GetObjectItem(sum, "external")->valueint, 0);
	ck_assert_msg(cJSON_GetObjectItem(sum, "unbalanced")->valueint == 0,
		      "%s: %d tags unbalanced (escaping broke the page)",
		      fixture,
		      cJSON_GetObjectItem(sum, "unbalanced")->valueint);
	ck_assert_int_eq(cJSON_GetObjectItem(sum, "blocks")->valueint,
			 cJSON_GetObjectItem(want, "blocks")->valueint);
	ck_assert_int_eq(cJSON_GetObjectItem(sum, "open")->valueint,
			 cJSON_GetObjectItem(want, "open")->valueint);
	assert_same(cJSON_GetObjectItem(sum, "images"),
		    cJSON_GetObjectItem(want, "images"), fixture);
	free(page);
	cJSON_Delete(sum);
}

START_TEST(html_per_fixture)
{
	each_fixture(html_one);
}
END_TEST

START_TEST(html_escapes_and_explains)
{
	static const char *const hostile_want[] = {
		"&lt;/pre&gt;&lt;script&gt;alert(1)",
		"type text/html is not JPEG, PNG or BMP",
		"type image/svg+xml is not JPEG",
		"the data is not base64",
		"a reference to an exchange the scenario does not hold",
		NULL};
	static const char *const hostile_lack[] = {"\x01", "\xff", NULL};
	/* The header, legend and transcript a PDF reader needs. */
	static const char *const fail_want[] = {
		"conformance: <span class=\"st verdict fail\">FAIL</span>",
		"How to read this report",
		"\xC2\xA7" "8 Software upgrade push",
		"first byte 2.1 ms",
		"<th>Server</th><td>mock</td>",
		NULL};
	static const char *const pass_want[] = {
		"Expect: 100-continue sent, 100 Continue received",
		NULL};

	assert_rendered(rep_html, "hostile.json", hostile_want, hostile_lack);
	assert_rendered(rep_html, "fail.json", fail_want, NULL);
	assert_rendered(rep_html, "pass.json", pass_want, NULL);
}
END_TEST

START_TEST(html_cuts_long_bodies)
{
	cJSON *run = cJSON_CreateObject(), *scn = cJSON_CreateObject(),
	      *x = cJSON_CreateObject();
	size_t n = 3 * REP_HTML_BODY_MAX;
	char *body = malloc(n + 4), *page, *json;

	memset(body, 'x', n);
	/* A multibyte character across the cut must not be split. */
	memcpy(body + REP_HTML_BODY_MAX - 1, "\xC3\xA9", 2);
	strcpy(body + n, "END");
	cJSON_AddStringToObject(x, "reply", body);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(scn, "exchanges"), x);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(run, "scenarios"), scn);

	page = render(rep_html, run);
	ck_assert_ptr_null(strstr(page, "END"));
	ck_assert_ptr_null(strstr(page, "x\xC3</pre>"));
	ck_assert_ptr_nonnull(strstr(page, "cut after 8192 of 24579 bytes"));
	json = render(rep_json, run);
	ck_assert_ptr_nonnull(strstr(json, "xxxEND"));
	free(json);
	free(page);
	free(body);
	cJSON_Delete(run);
}
END_TEST

static size_t count_entries(const char *dir, char *names, size_t cap)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	names[0] = '\0';
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		strncat(names, e->d_name, cap - strlen(names) - 2);
		strcat(names, " ");
	}
	closedir(d);
	return n;
}

static void round_trip_one(size_t i, const char *fixture, cJSON *run,
			   const cJSON *expect)
{
	char dir[PATH_MAX + 32], path[PATH_MAX + 64], err[256], names[512];
	const cJSON *name0;
	cJSON *back, *sum;

	/* Two missing levels: rep_write creates both. */
	snprintf(dir, sizeof dir, "%s/r%zu/nested/", tmpdir, i);
	ck_assert_msg(rep_write(run, dir, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(count_entries(dir, names, sizeof names) == 3,
		      "%s holds %s", dir, names);
	snprintf(path, sizeof path, "%s/report.json", dir);
	back = load_json(path);
	if (cJSON_IsTrue(cJSON_GetObjectItem(expect, "json_equal")))
		ck_assert_msg(cJSON_Compare(back, run, 1),
			      "%s: report.json differs from the input",
			      fixture);
	name0 = cJSON_GetObjectItem(expect, "json_name0");
	if (name0)
		ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(
			cJSON_GetArrayItem(cJSON_GetObjectItem(back, "scenarios"), 0),
			"name")), name0->valuestring);
	sum = summarize_one("json", path);
	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(sum, "ok")),
		      "%s: report.json is not strict UTF-8 JSON: %s",
		      fixture, cJSON_GetStringValue(
			      cJSON_GetObjectItem(sum, "exception")));
	/* Writing again replaces the files and adds nothing. */
	ck_assert_int_eq(rep_write(run, dir, err, sizeof err), 0);
	ck_assert_int_eq(count_entries(dir, names, sizeof names), 3);
	cJSON_Delete(sum);
	cJSON_Delete(back);
}

START_TEST(write_round_trips_json)
{
	each_fixture(round_trip_one);
}
END_TEST

START_TEST(write_reports_errors)
{
	cJSON *run = load_fixture("pass.json");
	char dir[PATH_MAX + 32], sub[PATH_MAX + 64], err[512], names[512];
	FILE *f;

	/* Under a regular file: the directory cannot be created (root too). */
	snprintf(dir, sizeof dir, "%s/plain", tmpdir);
	f = fopen(dir, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(sub, sizeof sub, "%s/reports", dir);
	ck_assert_int_eq(rep_write(run, sub, err, sizeof err), CONF_EMKDIR);
	ck_assert_msg(strstr(err, sub) && strstr(err, "Not a directory"), "%s", err);
	ck_assert_int_eq(rep_write(run, dir, err, sizeof err), CONF_EMKDIR);
	ck_assert_msg(strstr(err, dir) && strstr(err, "not a directory"), "%s", err);

	/* junit.xml is a directory: the rename fails, the error names the
	 * file, and the temporary file is gone. */
	snprintf(dir, sizeof dir, "%s/busy", tmpdir);
	snprintf(sub, sizeof sub, "%s/junit.xml", dir);
	ck_assert_int_eq(mkdir(dir, 0777), 0);
	ck_assert_int_eq(mkdir(sub, 0777), 0);
	ck_assert_int_eq(rep_write(run, dir, err, sizeof err), CONF_EWRITE);
	ck_assert_msg(strstr(err, sub) && strstr(err, "Is a directory"), "%s", err);
	ck_assert_msg(count_entries(dir, names, sizeof names) == 1, "left: %s", names);

	/* The writers report a failing stream. */
	f = fopen("/dev/full", "w");
	ck_assert_ptr_nonnull(f);
	setvbuf(f, NULL, _IONBF, 0);
	ck_assert_int_eq(rep_junit(run, f), CONF_EWRITE);
	ck_assert_int_eq(rep_html(run, f), CONF_EWRITE);
	ck_assert_int_eq(rep_json(run, f), CONF_EWRITE);
	fclose(f);

	ck_assert_int_eq(rep_write(NULL, tmpdir, err, sizeof err), CONF_EINVAL);
	ck_assert_int_eq(rep_write(run, NULL, err, sizeof err), CONF_EINVAL);
	ck_assert_int_eq(rep_write(run, "", NULL, 0), CONF_EINVAL);
	ck_assert_int_eq(rep_junit(NULL, stdout), CONF_EINVAL);
	ck_assert_int_eq(rep_html(run, NULL), CONF_EINVAL);
	ck_assert_str_eq(conf_strerror(CONF_EMKDIR), "cannot create the report directory");
	ck_assert_str_eq(conf_strerror(CONF_EWRITE), "cannot write a report file");
	ck_assert_str_eq(conf_strerror(1), "unknown error");
	cJSON_Delete(run);
}
END_TEST

/* ---- every member of a valid document replaced by every other type */

static int count_nodes(const cJSON *n)
{
	int c = 0;
	for (const cJSON *ch = n ? n->child : NULL; ch; ch = ch->next)
		c += 1 + count_nodes(ch);
	return c;
}

/* The k-th node below root in pre-order (k counts down), with its parent. */
static cJSON *nth_node(cJSON *root, int *k, cJSON **parent)
{
	for (cJSON *ch = root->child; ch; ch = ch->next) {
		cJSON *hit;
		if ((*k)-- == 0) {
			*parent = root;
			return ch;
		}
		if ((hit = nth_node(ch, k, parent)))
			return hit;
	}
	return NULL;
}

static cJSON *odd_value(int kind)
{
	switch (kind) {
	case 0:
		return cJSON_CreateNumber(-1e308);
	case 1:
		return cJSON_CreateString("]]></x><script>\x02\xfe");
	case 2:
		return cJSON_CreateArray();
	case 3:
		return cJSON_Parse("{\"status\":\"fail\",\"exchanges\":[0]}");
	case 4:
		return cJSON_CreateNull();
	default:
		return cJSON_CreateTrue();
	}
}

START_TEST(any_member_of_any_type)
{
	cJSON *orig = load_fixture("fail.json");
	int nodes = count_nodes(orig), files = 0;
	char list[64 * 1024] = "", *page, *json;
	cJSON *sums, *s, *back;

	for (int k = 0; k < nodes; k++) {
		/* 6 replacements and one removal of node k */
		for (int kind = 0; kind < 7; kind++) {
			cJSON *run = cJSON_Duplicate(orig, 1), *parent = NULL, *node;
			int idx = k;
			char name[32];

			node = nth_node(run, &idx, &parent);
			ck_assert_ptr_nonnull(node);
			if (kind < 6)
				cJSON_ReplaceItemViaPointer(parent, node, odd_value(kind));
			else
				cJSON_Delete(cJSON_DetachItemViaPointer(parent, node));
			page = render(rep_html, run);
			ck_assert(!strstr(page, "<script"));
			free(page);
			/* report.json still parses whatever the document held */
			json = render(rep_json, run);
			back = cJSON_Parse(json);
			ck_assert_ptr_nonnull(back);
			cJSON_Delete(back);
			free(json);
			/* JUnit of every tenth mutation goes to Python: well-
			 * formedness is what can break here, and one Python run
			 * over a few hundred files stays fast. */
			if ((k * 7 + kind) % 10 == 0 && strlen(list) < sizeof list - 64) {
				snprintf(name, sizeof name, "m%d.xml", files++);
				strcat(list, " '");
				strcat(list, write_with(rep_junit, run, name));
				strcat(list, "'");
			} else {
				free(render(rep_junit, run));
			}
			cJSON_Delete(run);
		}
	}
	ck_assert_int_gt(files, 50);
	sums = summarize("junit", list);
	ck_assert_int_eq(cJSON_GetArraySize(sums), files);
	cJSON_ArrayForEach(s, sums)
	{
		ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(s, "wellformed")),
			      "not well-formed: %s", cJSON_PrintUnformatted(s));
		ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(s, "consistent")),
			      "counts disagree: %s", cJSON_PrintUnformatted(s));
	}
	cJSON_Delete(sums);
	cJSON_Delete(orig);
}
END_TEST

START_TEST(any_root)
{
	static const char *const roots[] = {"[1,2]", "\"run\"", "null", "3",
					    "{}", "{\"scenarios\":{}}"};
	for (size_t i = 0; i < sizeof roots / sizeof *roots; i++) {
		cJSON *run = cJSON_Parse(roots[i]), *sum, *want;
		char err[256];

		ck_assert_ptr_nonnull(run);
		ck_assert_msg(rep_write(run, tmpdir, err, sizeof err) == 0, "%s", err);
		sum = summarize_one("junit", write_with(rep_junit, run, "j.xml"));
		want = cJSON_Parse("{\"tests\":0,\"failures\":0,\"errors\":0,"
				   "\"skipped\":0,\"suites\":[]}");
		assert_same(cJSON_GetObjectItem(sum, "summary"), want, roots[i]);
		cJSON_Delete(want);
		cJSON_Delete(sum);
		cJSON_Delete(run);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");

	tcase_set_timeout(tc, 120); /* valgrind over the type sweep */
	tcase_add_checked_fixture(tc, make_tmpdir, remove_tmpdir);
	tcase_add_test(tc, junit_counts_per_fixture);
	tcase_add_test(tc, junit_evidence_and_escaping);
	tcase_add_test(tc, html_per_fixture);
	tcase_add_test(tc, html_escapes_and_explains);
	tcase_add_test(tc, html_cuts_long_bodies);
	tcase_add_test(tc, write_round_trips_json);
	tcase_add_test(tc, write_reports_errors);
	tcase_add_test(tc, any_member_of_any_type);
	tcase_add_test(tc, any_root);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
