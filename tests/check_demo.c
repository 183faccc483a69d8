/* check_demo.c -- `camsim demo` as a user runs it: under a private Xvfb
 * (tests/xvfb.h) with --state-script and --screenshot --after, the PNG
 * decoded and its regions (ui_layout_compute) checked for what the state
 * demands: a green Pass banner and a name for an enrolled person, a red
 * Denied banner for the same person with a fever, the offline indicator
 * while the network is down.  Also: --state-script errors (parsed here
 * and through the command), and no display. */
#include "proc.h"
#include "xvfb.h"

#include "demo_script.h"
#include "image.h"
#include "sim_err.h"
#include "ui.h"

#include <stdlib.h>

static xvfb X;
static char tmpdir[] = "/tmp/camsim-check-demo-XXXXXX";

static void x_up(void)
{
	char e[256];

	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	if (xvfb_start(&X, 1280, 1024, e, sizeof e) < 0)
		ck_abort_msg("%s", e);
}

static void x_down(void)
{
	char cmd[128];

	xvfb_stop(&X);
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Seconds from the end of the set-up to the screenshot (CAMSIM_DEMO_AFTER
 * overrides); the banner of a face at 0.1 s is up for 4 s. */
static double after_s(void)
{
	const char *v = getenv("CAMSIM_DEMO_AFTER");

	return v && atof(v) > 0 ? atof(v) : 2.5;
}

/* A script that shows `who` once, after pre (a JSON entry without "at",
 * or NULL).  The screenshot waits until the face is handled, so its
 * banner is fresh however long recognition takes. */
static void face_script(const char *path, const char *who, const char *pre)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "[%s%s%s{\"at\": 0.1, \"action\": \"next\", \"arg\": "
		"\"%s\"}]\n", pre ? "{\"at\": 0, " : "", pre ? pre : "",
		pre ? "}, " : "", who);
	ck_assert_int_eq(fclose(f), 0);
}

/* Runs camsim demo with args (NULL-terminated, after "demo") and env;
 * returns the exit code; the output is in tmpdir/name.log. */
static int demo(const char *name, const char *const *args,
		const char *const *env, double limit_s)
{
	const char *argv[24] = {pr_camsim, "demo"};
	char log[PATH_MAX];
	size_t n = 2;

	for (; args[n - 2] && n < 23; n++)
		argv[n] = args[n - 2];
	argv[n] = NULL;
	snprintf(log, sizeof log, "%s/%s.log", tmpdir, name);
	return pr_code(pr_wait(pr_spawn(argv, env, log, NULL), limit_s, name));
}

static char *log_of(const char *name)
{
	char log[PATH_MAX];
	char *t;

	snprintf(log, sizeof log, "%s/%s.log", tmpdir, name);
	t = tu_read(log, NULL);
	ck_assert_ptr_nonnull(t);
	return t;
}

/* The environment of a camsim that opens a window (env[3]). */
static void window_env(const char *env[3])
{
	const char *models = getenv("CAMSIM_MODELS");

	/* Under ASan, SDL's X11 and GL libraries (libdbus, and code that is
	 * dlclosed before LeakSanitizer reports: "<unknown module>") leave
	 * about 1.3 KB at exit that no suppression can name; the runs that
	 * open no window keep leak detection. */
	env[0] = "ASAN_OPTIONS=detect_leaks=0";
	env[1] = env[2] = NULL;
	/* tests/run.sh hides the models from suites under valgrind (it would
	 * take minutes per frame); camsim here is a child valgrind does not
	 * follow, so it gets them back (putenv of a bare name unsets). */
	if (models && access(models, F_OK) != 0)
		env[1] = "CAMSIM_MODELS";
}

/* The screenshot of a run of script at tmpdir/name.png, decoded. */
static void shot(const char *name, const char *script, img *im)
{
	char png[PATH_MAX], after[32], e[512];
	const char *args[] = {"--state-script", script, "--screenshot", png,
			      "--after", after, "--size", "540x960", NULL};
	int code;

	snprintf(png, sizeof png, "%s/%s.png", tmpdir, name);
	snprintf(after, sizeof after, "%g", after_s());
	const char *env[3];

	window_env(env);
	code = demo(name, args, env, after_s() + 180);
	if (code != 0) {
		char *t = log_of(name);
		ck_abort_msg("%s: exit %d: %s", name, code, t);
	}
	ck_assert_msg(img_load_file(png, im, e, sizeof e) == 0, "%s", e);
}

/* Pixels of r within tol per channel of colour c. */
static long count(const img *im, ui_rect r, ui_color c, int tol)
{
	uint32_t rgb = ui_rgb(c);
	int cr = (int)(rgb >> 16), cg = (int)(rgb >> 8 & 255),
	    cb = (int)(rgb & 255);
	long n = 0;

	for (int y = r.y; y < r.y + r.h && y < im->h; y++)
		for (int x = r.x; x < r.x + r.w && x < im->w; x++) {
			const uint8_t *p = im->px + ((size_t)y * (size_t)im->w +
						     (size_t)x) * 3;
			n += abs(p[0] - cr) <= tol && abs(p[1] - cg) <= tol &&
			     abs(p[2] - cb) <= tol;
		}
	return n;
}

/* Asserts that lo <= (pixels of r within tol of c) <= hi. */
static void expect_px(const img *im, ui_rect r, const char *what, ui_color c,
		      int tol, long lo, long hi)
{
	long n = count(im, r, c, tol);

	ck_assert_msg(n >= lo && n <= hi, "%ld pixels of colour %06x in %s; "
		      "expected %ld to %ld", n, (unsigned)ui_rgb(c), what, lo, hi);
}

/* The banner is mostly c (over a quarter of it) and has none of other. */
static void expect_banner(const img *im, const ui_layout *L, ui_color c,
			  ui_color other)
{
	long area = (long)L->banner.w * L->banner.h;

	expect_px(im, L->banner, "the banner", c, 24, area / 4, area);
	expect_px(im, L->banner, "the banner", other, 24, 0, area / 50);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* ---------------------------------------------------------------- windows */

START_TEST(an_enrolled_person_inside_the_strategy_passes_green_with_a_name)
{
	char script[PATH_MAX];
	ui_layout L;
	img im;

	snprintf(script, sizeof script, "%s/pass.json", tmpdir);
	face_script(script, "person-a", NULL);
	shot("pass", script, &im);
	ui_layout_compute(im.w, im.h, &L);
	expect_banner(&im, &L, UI_COL_GREEN, UI_COL_RED);
	/* the name is drawn in the text colour */
	expect_px(&im, L.identity, "the name area", UI_COL_TEXT, 40, 31, LONG_MAX);
	/* online: the status bar has no red */
	expect_px(&im, L.status, "the status bar", UI_COL_RED, 24, 0, 9);
	img_free(&im);
}
END_TEST

/* The same person at the same moments, only hotter: the banner turns. */
START_TEST(the_same_person_with_a_fever_is_denied_red)
{
	char script[PATH_MAX];
	ui_layout L;
	img im;

	snprintf(script, sizeof script, "%s/fever.json", tmpdir);
	face_script(script, "person-a", "\"action\": \"fever\", \"arg\": 38.6");
	shot("fever", script, &im);
	ui_layout_compute(im.w, im.h, &L);
	expect_banner(&im, &L, UI_COL_RED, UI_COL_GREEN);
	img_free(&im);
}
END_TEST

START_TEST(the_offline_indicator_shows_while_the_network_is_down)
{
	char script[PATH_MAX];
	ui_layout L;
	img im;

	snprintf(script, sizeof script, "%s/offline.json", tmpdir);
	write_text(script, "[{\"at\": 0, \"action\": \"net\", \"arg\": "
		   "\"down\", \"caption\": \"network down\"}]\n");
	shot("offline", script, &im);
	ui_layout_compute(im.w, im.h, &L);
	expect_px(&im, L.status, "the status bar", UI_COL_RED, 24, 10, LONG_MAX);
	/* nobody was shown: no name */
	expect_px(&im, L.identity, "the name area", UI_COL_TEXT, 40, 0, 4);
	img_free(&im);
}
END_TEST

/* The story's offline part, scripted: a pass while the network is down
 * is stored (the status bar counts it in amber), and once the network is
 * back the device sends it again after its idle wait (5 s in the demo),
 * and the count is gone. */
START_TEST(an_offline_pass_waits_as_a_record_and_is_resent_when_the_network_returns)
{
	static const char text[] =
		"[{\"at\": 0, \"action\": \"net\", \"arg\": \"down\"},"
		" {\"at\": 0.5, \"action\": \"next\", \"arg\": \"person-a\"},"
		" {\"at\": 4, \"action\": \"net\", \"arg\": \"up\"}]\n";
	char script[PATH_MAX], png[PATH_MAX], e[512];
	/* 3 s: down, the record stored (the count is sampled every second);
	 * 14 s: the resend was due at about 5.6 s (later on a sanitizer
	 * build, where the face takes seconds) */
	const char *after[] = {"3", "14"};
	ui_layout L;
	img im;

	snprintf(script, sizeof script, "%s/resend.json", tmpdir);
	write_text(script, text);
	for (int i = 0; i < 2; i++) {
		const char *args[] = {"--state-script", script, "--screenshot",
				      png, "--after", after[i], NULL};
		const char *env[3];
		char name[32];

		window_env(env);

		snprintf(name, sizeof name, "resend%d", i);
		snprintf(png, sizeof png, "%s/%s.png", tmpdir, name);
		ck_assert_int_eq(demo(name, args, env, 240), 0);
		ck_assert_msg(img_load_file(png, &im, e, sizeof e) == 0, "%s", e);
		ui_layout_compute(im.w, im.h, &L);
		/* the first shot's network state is not asserted: it waits
		 * for the face, which under ASan ends after the 4 s "up" */
		if (i == 0) {
			expect_px(&im, L.status, "the status bar", UI_COL_AMBER,
				  24, 10, LONG_MAX);
		} else {
			expect_px(&im, L.status, "the status bar", UI_COL_AMBER,
				  24, 0, 9);
			expect_px(&im, L.status, "the status bar", UI_COL_RED,
				  24, 0, 9);
		}
		img_free(&im);
	}
}
END_TEST

/* A picture that does not decode and a file that is not there: the
 * demo goes on (exit 0 at the screenshot), the camera view stays empty,
 * and the log shows the errors in red (the network is up, so no failed
 * exchange is red). */
START_TEST(bad_dropped_pictures_are_error_lines_in_the_log_never_a_crash)
{
	char script[PATH_MAX];
	ui_layout L;
	img im;
	FILE *f;

	snprintf(script, sizeof script, "%s/drop.json", tmpdir);
	ck_assert_ptr_nonnull(f = fopen(script, "w"));
	/* every second, so that heartbeats never push them out of view */
	for (int i = 0; i < 60; i++)
		fprintf(f, "%s{\"at\": %d, \"action\": \"drop\", \"arg\": "
			"\"faces/truncated.jpg\"}, {\"at\": %d.2, \"action\": "
			"\"drop\", \"arg\": \"/nonexistent/x.jpg\"}, {\"at\": "
			"%d.4, \"action\": \"drop\", \"arg\": \"tests\"}",
			i ? "," : "[", i, i, i);
	fputs("]\n", f);
	ck_assert_int_eq(fclose(f), 0);
	shot("drop", script, &im);
	ui_layout_compute(im.w, im.h, &L);
	expect_px(&im, L.log, "the log", UI_COL_RED, 24, 10, LONG_MAX);
	expect_px(&im, L.banner, "the banner", UI_COL_GREEN, 24, 0, 100);
	expect_px(&im, L.banner, "the banner", UI_COL_RED, 24, 0, 100);
	img_free(&im);
}
END_TEST

/* --scenario: the runner plays the file with the window watching; the
 * screenshot at 3 s (of a 40 s scenario) stops the run at once and exits
 * 0, with the device online in the status bar and nothing red there. */
START_TEST(a_scenario_plays_in_the_window_and_stops_with_it)
{
	char png[PATH_MAX], e[512];
	const char *args[] = {"--scenario", "scenarios/heartbeat.json",
			      "--screenshot", png, "--after", "3", NULL};
	const char *env[3];
	ui_layout L;
	img im;
	double t0 = pr_now();

	window_env(env);
	snprintf(png, sizeof png, "%s/scenario.png", tmpdir);
	ck_assert_int_eq(demo("scenario", args, env, 120), 0);
	ck_assert_msg(pr_now() - t0 < 30, "took %.0f s", pr_now() - t0);
	ck_assert_msg(img_load_file(png, &im, e, sizeof e) == 0, "%s", e);
	ui_layout_compute(im.w, im.h, &L);
	expect_px(&im, L.status, "the status bar", UI_COL_GREEN, 24, 10,
		  LONG_MAX);
	expect_px(&im, L.status, "the status bar", UI_COL_RED, 24, 0, 9);
	img_free(&im);
}
END_TEST

START_TEST(no_display_is_a_clear_error_and_exit_1)
{
	const char *args[] = {"--screenshot", "/dev/null", "--after", "1", NULL};
	/* putenv of a bare name removes it (glibc) */
	const char *env[] = {"DISPLAY", "WAYLAND_DISPLAY", NULL};
	char *t;

	ck_assert_int_eq(demo("nodisplay", args, env, 60), 1);
	t = log_of("nodisplay");
	ck_assert_msg(strstr(t, "camsim demo: ") && strstr(t, "display"),
		      "%s", t);
	free(t);
}
END_TEST

START_TEST(bad_options_are_refused_naming_the_option_and_rule_exit_2)
{
	static const struct {
		const char *args[5], *want;
	} bad[] = {
		{{"--size", "10x10", NULL}, "--size is \"10x10\"; it must be WxH"},
		{{"--size", "540", NULL}, "--size is \"540\""},
		{{"--after", "3", NULL}, "--after needs --screenshot FILE"},
		{{"--screenshot", "x.png", NULL}, "--screenshot needs --after"},
		{{"--screenshot", "x.png", "--after", "-1", NULL}, "--after is \"-1\""},
		{{"--server", "ftp://h/x", NULL}, "--server is \"ftp://h/x\""},
		{{"--bogus", NULL}, "unknown option \"--bogus\""},
		{{"--faces", NULL}, "--faces needs a value"},
		{{"--scenario", "a.json", "--state-script", "b.json", NULL},
		 "do not combine"},
	};
	char name[32], *t;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(name, sizeof name, "badopt%zu", i);
		ck_assert_msg(demo(name, bad[i].args, NULL, 30) == 2, "case %zu", i);
		t = log_of(name);
		ck_assert_msg(strstr(t, bad[i].want), "case %zu: %s", i, t);
		free(t);
	}
}
END_TEST

START_TEST(voice_without_espeak_ng_is_a_clear_error_at_start)
{
	const char *args[] = {"--voice", NULL};
	const char *env[] = {"PATH=/nonexistent", NULL};
	char *t;

	ck_assert_int_eq(demo("novoice", args, env, 30), 1);
	t = log_of("novoice");
	ck_assert_msg(strstr(t, "--voice needs espeak-ng"), "%s", t);
	free(t);
}
END_TEST

/* ---------------------------------------------------------------- scripts */

START_TEST(a_bad_state_script_names_the_file_entry_and_rule_exit_2)
{
	char script[PATH_MAX], *t;
	const char *args[] = {"--state-script", script, NULL};

	snprintf(script, sizeof script, "%s/bad.json", tmpdir);
	write_text(script, "[{\"at\": 0, \"action\": \"next\"}, {\"at\": 1, "
		   "\"action\": \"jump\"}]\n");
	ck_assert_int_eq(demo("badscript", args, NULL, 30), 2);
	t = log_of("badscript");
	ck_assert_msg(strstr(t, script) && strstr(t, "entry 1") &&
		      strstr(t, "\"jump\"") && strstr(t, "temp_up"), "%s", t);
	free(t);
}
END_TEST

START_TEST(state_scripts_parse_sorted_and_refuse_what_they_cannot_do)
{
	static const struct {
		const char *text, *want[3];
	} bad[] = {
		{"{}", {"s.json: must be a JSON array", NULL}},
		{"[1]", {"entry 0: must be an object", NULL}},
		{"[{\"action\": \"next\"}]", {"entry 0", "\"at\"", NULL}},
		{"[{\"at\": -1, \"action\": \"next\"}]", {"\"at\"", "from 0", NULL}},
		{"[{\"at\": 0}]", {"\"action\" is missing", NULL}},
		{"[{\"at\": 0, \"action\": \"next\"}, {\"at\": 0, \"action\": "
		 "\"drop\"}]", {"entry 1", "arg", "required"}},
		{"[{\"at\": 0, \"action\": \"net\", \"arg\": \"sideways\"}]",
		 {"\"sideways\"", "\"down\" or \"up\"", NULL}},
		{"[{\"at\": 0, \"action\": \"fever\", \"arg\": 200}]",
		 {"fever", "0 to 120", NULL}},
		{"[{\"at\": 0, \"action\": \"stranger\", \"arg\": \"x\"}]",
		 {"takes none", NULL}},
		{"[{\"at\": 0, \"action\": \"next\", \"when\": 1}]",
		 {"unknown member \"when\"", NULL}},
		{"[{\"at\": 0, \"action\": \"next\"", {"not JSON", NULL}},
	};
	demo_script s;
	char e[512];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_int_eq(demo_script_parse("s.json", bad[i].text, &s, e,
						   sizeof e), SIM_EINVAL);
		ck_assert_ptr_null(s.beats);
		for (size_t k = 0; k < 3 && bad[i].want[k]; k++)
			ck_assert_msg(strstr(e, bad[i].want[k]), "case %zu: \"%s\" "
				      "lacks \"%s\"", i, e, bad[i].want[k]);
	}
	ck_assert_int_eq(demo_script_parse("s.json",
		"[{\"at\": 2, \"action\": \"NET\", \"arg\": \"up\"},"
		" {\"at\": 1, \"action\": \"fever\", \"arg\": 39},"
		" {\"at\": 1, \"action\": \"next\", \"caption\": \"hi\"},"
		" {\"at\": 0.5, \"action\": \"none\", \"caption\": \"c\"}]",
		&s, e, sizeof e), 0);
	ck_assert_uint_eq(s.n, 4);
	ck_assert_int_eq(s.beats[0].action, UI_ACT_NONE);
	ck_assert_str_eq(s.beats[0].caption, "c");
	/* one moment keeps file order */
	ck_assert_int_eq(s.beats[1].action, UI_ACT_FEVER);
	ck_assert_str_eq(s.beats[1].arg, "39");
	ck_assert_int_eq(s.beats[2].action, UI_ACT_NEXT);
	ck_assert_int_eq(s.beats[3].action, UI_ACT_NET);
	ck_assert_double_eq(s.loop_s, 0);
	demo_script_free(&s);
	ck_assert_int_eq(demo_action_find("temp_up"), UI_ACT_TEMP_UP);
	ck_assert_int_eq(demo_action_find("bogus"), UI_ACT_NONE);
}
END_TEST

/* The story: the first beat shows a known person at once (the README's
 * screenshot at 5 s depends on it), it holds the six parts the issue
 * names in order, and it loops within the first minute. */
START_TEST(the_story_starts_with_a_known_person_and_loops_within_a_minute)
{
	demo_script s;
	ui_action want[] = {UI_ACT_NEXT, UI_ACT_STRANGER, UI_ACT_FEVER,
			    UI_ACT_NEXT, UI_ACT_NET, UI_ACT_NEXT, UI_ACT_NET};
	size_t k = 0;

	ck_assert_int_eq(demo_story(&s), 0);
	/* its banner is still up 5 s after the set-up (4 s at full colour) */
	ck_assert_double_le(s.beats[0].at, 2);
	ck_assert_str_eq(s.beats[0].arg, "person-a");
	for (size_t i = 0; i < s.n; i++) {
		if (i)
			ck_assert_double_ge(s.beats[i].at, s.beats[i - 1].at);
		if (s.beats[i].action != UI_ACT_NONE) {
			ck_assert_uint_lt(k, sizeof want / sizeof want[0]);
			ck_assert_int_eq(s.beats[i].action, want[k++]);
		}
	}
	ck_assert_uint_eq(k, sizeof want / sizeof want[0]);
	ck_assert_double_gt(s.loop_s, s.beats[s.n - 1].at);
	ck_assert_double_le(s.loop_s, 60);
	demo_script_free(&s);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *su = suite_create("demo");
	TCase *t = tcase_create("demo");
	SRunner *sr;
	int failed;

	(void)argc;
	pr_find_camsim(argv[0]);
	tcase_add_unchecked_fixture(t, x_up, x_down);
	tcase_add_test(t, state_scripts_parse_sorted_and_refuse_what_they_cannot_do);
	tcase_add_test(t, the_story_starts_with_a_known_person_and_loops_within_a_minute);
	tcase_add_test(t, a_bad_state_script_names_the_file_entry_and_rule_exit_2);
	tcase_add_test(t, no_display_is_a_clear_error_and_exit_1);
	tcase_add_test(t, bad_options_are_refused_naming_the_option_and_rule_exit_2);
	tcase_add_test(t, voice_without_espeak_ng_is_a_clear_error_at_start);
	tcase_set_timeout(t, 300);
	tcase_add_test(t, an_enrolled_person_inside_the_strategy_passes_green_with_a_name);
	tcase_add_test(t, the_same_person_with_a_fever_is_denied_red);
	tcase_add_test(t, the_offline_indicator_shows_while_the_network_is_down);
	tcase_add_test(t, an_offline_pass_waits_as_a_record_and_is_resent_when_the_network_returns);
	tcase_add_test(t, bad_dropped_pictures_are_error_lines_in_the_log_never_a_crash);
	tcase_add_test(t, a_scenario_plays_in_the_window_and_stops_with_it);
	suite_add_tcase(su, t);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
