/* check_ui.c -- tools/demo/ui: the palette and key map the window draws
 * and reads, the layout grid over many window sizes (nothing negative,
 * nothing outside, no overlaps, fonts scaling), and what the view shows
 * after given events, passes and exchanges at given times (tables of
 * inputs and expected view fields): banner, fading, identity, relay,
 * voice, pulse, the log and its JSON panel, selection, toggles, network.
 * No SDL. */
#include "testutil.h"
#include "ui.h"

#include <stdint.h>

/* ---- palette, actions, keys ---- */

START_TEST(palette_colours_are_distinct_and_unknown_ones_are_black)
{
	ck_assert_uint_eq(ui_rgb(UI_COL_GREEN), 0x1fa84f);
	ck_assert_uint_eq(ui_rgb(UI_COL_RED), 0xd7263d);
	ck_assert_uint_eq(ui_rgb(UI_COL_GREY), 0x56606b);
	ck_assert_uint_eq(ui_rgb(UI_COL_COUNT), 0);
	ck_assert_uint_eq(ui_rgb((ui_color)-1), 0);
	/* screenshot tests find a banner by its colour: two equal colours
	 * would make them pass on the wrong one */
	for (int a = 0; a < UI_COL_COUNT; a++)
		for (int b = a + 1; b < UI_COL_COUNT; b++)
			ck_assert_msg(ui_rgb(a) != ui_rgb(b), "colours %d and %d "
				      "are both %06x", a, b, ui_rgb(a));
}
END_TEST

START_TEST(every_action_but_none_and_drop_has_a_key_and_a_help_line)
{
	ck_assert_str_eq(ui_action_help(UI_ACT_HELP), "show / hide this help");
	ck_assert_str_eq(ui_action_help(UI_ACT_COUNT), "");
	ck_assert_str_eq(ui_action_help((ui_action)-3), "");
	for (int a = UI_ACT_NONE + 1; a < UI_ACT_COUNT; a++) {
		size_t n = 0;

		ck_assert_msg(*ui_action_help(a), "action %d has no help", a);
		for (size_t k = 0; k < ui_nkeys; k++)
			n += ui_keys[k].action == (ui_action)a;
		if (a == UI_ACT_DROP)
			ck_assert_uint_eq(n, 0); /* a file dropped, not a key */
		else
			ck_assert_msg(n > 0, "%s: no key", ui_action_help(a));
	}
	ck_assert_uint_ge(ui_nkeys, UI_ACT_COUNT - 2);
}
END_TEST

START_TEST(key_names_are_unique_and_help_has_question_mark_and_f11)
{
	bool q = false, f11 = false;

	for (size_t k = 0; k < ui_nkeys; k++) {
		ck_assert_ptr_nonnull(ui_keys[k].key);
		ck_assert_uint_gt(strlen(ui_keys[k].key), 0);
		ck_assert_int_gt(ui_keys[k].action, UI_ACT_NONE);
		ck_assert_int_lt(ui_keys[k].action, UI_ACT_COUNT);
		for (size_t j = k + 1; j < ui_nkeys; j++)
			ck_assert_msg(strcmp(ui_keys[k].key, ui_keys[j].key),
				      "key %s bound twice", ui_keys[k].key);
		q |= !strcmp(ui_keys[k].key, "?") && ui_keys[k].action == UI_ACT_HELP;
		f11 |= !strcmp(ui_keys[k].key, "F11") &&
		       ui_keys[k].action == UI_ACT_FULLSCREEN;
	}
	ck_assert(q);
	ck_assert(f11);
}
END_TEST

/* ---- layout ---- */

#define NRECTS 10
static void rects_of(const ui_layout *l, const ui_rect *r[NRECTS],
		     const char *names[NRECTS])
{
	static const char *n[NRECTS] = {"tablet", "status", "camera", "banner",
					"identity", "readings", "voice", "hw",
					"log", "step"};
	r[0] = &l->tablet, r[1] = &l->status, r[2] = &l->camera;
	r[3] = &l->banner, r[4] = &l->identity, r[5] = &l->readings;
	r[6] = &l->voice, r[7] = &l->hw, r[8] = &l->log, r[9] = &l->step;
	memcpy(names, n, sizeof n);
}

static bool overlap(const ui_rect *a, const ui_rect *b)
{
	return a->x < b->x + b->w && b->x < a->x + a->w &&
	       a->y < b->y + b->h && b->y < a->y + a->h;
}

static bool inside(const ui_rect *in, const ui_rect *out)
{
	return in->w == 0 || in->h == 0 ||
	       (in->x >= out->x && in->y >= out->y &&
		in->x + in->w <= out->x + out->w &&
		in->y + in->h <= out->y + out->h);
}

static void check_layout(int w, int h)
{
	ui_layout l;
	const ui_rect *r[NRECTS];
	const char *name[NRECTS];
	ui_rect win = {0, 0, w, h};

	ui_layout_compute(w, h, &l);
	rects_of(&l, r, name);
	for (int i = 0; i < NRECTS; i++) {
		ck_assert_msg(r[i]->x >= 0 && r[i]->y >= 0 && r[i]->w >= 0 &&
			      r[i]->h >= 0, "%dx%d: %s is %d,%d %dx%d", w, h,
			      name[i], r[i]->x, r[i]->y, r[i]->w, r[i]->h);
		ck_assert_msg(inside(r[i], &win), "%dx%d: %s %d,%d %dx%d is "
			      "outside the window", w, h, name[i], r[i]->x,
			      r[i]->y, r[i]->w, r[i]->h);
		/* everything but a landscape log is on the tablet */
		if (i > 0 && !(i == 8 && w > h))
			ck_assert_msg(inside(r[i], &l.tablet), "%dx%d: %s is "
				      "off the tablet", w, h, name[i]);
		for (int j = 1; j < i; j++)
			ck_assert_msg(!overlap(r[i], r[j]), "%dx%d: %s overlaps %s",
				      w, h, name[i], name[j]);
	}
	if (w > h)
		ck_assert_msg(!overlap(&l.log, &l.tablet), "%dx%d: the "
			      "landscape log covers the tablet", w, h);
	ck_assert_int_ge(l.font_small, 1);
	ck_assert_int_ge(l.font_mid, l.font_small);
	ck_assert_int_ge(l.font_big, l.font_mid);
	/* the tablet keeps 9:16 (within a pixel of rounding) */
	ck_assert_msg(llabs((long long)l.tablet.w * 16 - (long long)l.tablet.h * 9) <= 16,
		      "%dx%d: tablet %dx%d is not 9:16", w, h, l.tablet.w, l.tablet.h);
}

START_TEST(layout_keeps_every_rect_inside_and_apart_at_any_size)
{
	static const int sizes[][2] = {
		{1, 1}, {0, 0}, {-5, 40}, {2, 1}, {1, 2}, {9, 16}, {540, 960},
		{1080, 1920}, {960, 540}, {1920, 1080}, {10000, 300},
		{300, 10000}, {801, 800}, {800, 801}, {3840, 2160}, {123, 457},
		{17, 3}, {100000, 100000},
	};

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		check_layout(sizes[i][0], sizes[i][1]);
	for (int w = 1; w < 700; w += 37)
		for (int h = 1; h < 700; h += 41)
			check_layout(w, h);
}
END_TEST

START_TEST(layout_portrait_has_the_grid_rows_in_order_and_the_log_inside)
{
	ui_layout l;

	ui_layout_compute(540, 960, &l);
	ck_assert_int_eq(l.tablet.x, 0);
	ck_assert_int_eq(l.tablet.w, 540);
	ck_assert_int_eq(l.tablet.h, 960);
	/* rows of 64 quarters: status 4, camera 26, banner 6, identity 4,
	 * readings 4, voice 3, hw 4, step 3, log 10 (docs/demo.md) */
	ck_assert_int_eq(l.status.y, 0);
	ck_assert_int_eq(l.status.h, 60);
	ck_assert_int_eq(l.camera.y, 60);
	ck_assert_int_eq(l.camera.h, 390);
	ck_assert_int_eq(l.banner.y, 450);
	ck_assert_int_eq(l.banner.h, 90);
	ck_assert_int_lt(l.identity.y, l.readings.y);
	ck_assert_int_lt(l.readings.y, l.voice.y);
	ck_assert_int_lt(l.voice.y, l.hw.y);
	ck_assert_int_lt(l.hw.y, l.step.y);
	ck_assert_int_lt(l.step.y, l.log.y);
	ck_assert_int_eq(l.log.y + l.log.h, 960);
	ck_assert_int_le(l.font_big, l.banner.h);
	ck_assert_int_le(l.font_mid, l.identity.h);

	/* a tall window letterboxes the tablet vertically */
	ui_layout_compute(540, 1200, &l);
	ck_assert_int_eq(l.tablet.h, 960);
	ck_assert_int_eq(l.tablet.y, 120);
}
END_TEST

START_TEST(layout_landscape_puts_the_log_right_of_the_tablet)
{
	ui_layout l, big;

	ui_layout_compute(1920, 1080, &l);
	ck_assert_int_eq(l.tablet.h, 1080);
	ck_assert_int_eq(l.tablet.w, 607);
	ck_assert_int_gt(l.log.x, l.tablet.x + l.tablet.w - 1);
	ck_assert_int_gt(l.log.w, 1000);
	ck_assert_int_gt(l.log.h, 1000);
	/* the camera takes the rows the log left */
	ck_assert_int_eq(l.camera.h, 1080 * 40 / 64 - 1080 * 4 / 64);

	/* fonts scale with the window (HiDPI: twice the pixels) */
	ui_layout_compute(3840, 2160, &big);
	ck_assert_int_ge(big.font_big, 2 * l.font_big - 1);
	ck_assert_int_ge(big.font_small, 2 * l.font_small - 1);
	ck_assert_int_gt(big.font_mid, l.font_mid);
}
END_TEST

/* ---- the state: inputs at given times -> what the view shows ---- */

static ui_view view; /* large: one, static */

static const ui_view *at(const ui_state *s, int64_t now)
{
	ui_view_build(s, now, &view);
	return &view;
}

static void event(ui_state *s, int64_t t, dev_event_kind k, const char *text)
{
	dev_event ev = {.t = 1700000000000LL + t, .kind = k};
	snprintf(ev.text, sizeof ev.text, "%s", text);
	ui_event(s, &ev, t);
}

/* One exchange: status 0 with sent: a transfer failure ("timed out");
 * !sent: never left (network down). */
static void exchange(ui_state *s, int64_t t, const char *kind,
		     const char *body, size_t body_len, bool sent, long status,
		     const char *reply, size_t reply_len)
{
	loop_http_res res = {.fail = status ? LOOP_HTTP_OK : LOOP_HTTP_TIMEOUT,
			     .error = status ? NULL : "timed out after 10000 ms",
			     .status = status, .body = reply, .len = reply_len};
	dev_exchange x = {.method = body ? "POST" : "GET",
			  .url = "http://127.0.0.1:8080/cam", .kind = kind,
			  .body = body, .len = body_len,
			  .res = sent ? &res : NULL};
	ui_exchange(s, &x, t);
}

static void exchange_s(ui_state *s, int64_t t, const char *kind,
		       const char *body, long status, const char *reply)
{
	exchange(s, t, kind, body, body ? strlen(body) : 0, true, status,
		 reply, reply ? strlen(reply) : 0);
}

static dev_pass a_pass(dev_pass_verdict v, dev_deny_why why, const char *reason)
{
	dev_pass p = {.verdict = v, .why = why, .frame_w = 640, .frame_h = 480,
		      .has_face = true, .box = {200, 100, 120, 160},
		      .recognition = true, .known = true, .person_id = "p1",
		      .name = "Alice", .similarity = 0.874,
		      .has_temperature = true, .temperature = 36.5,
		      .unit = "°C", .has_mask = true, .mask = 1};
	snprintf(p.reason, sizeof p.reason, "%s", reason);
	return p;
}

START_TEST(banner_colour_and_title_follow_the_verdict)
{
	static const struct {
		dev_pass_verdict verdict;
		dev_deny_why why;
		bool has_face;
		const char *reason;
		ui_color color;
		const char *title;
	} rows[] = {
		{DEV_PASS_PASSED, DEV_DENY_NONE, true, "strategyId 0: not restricted",
		 UI_COL_GREEN, "PASS"},
		{DEV_PASS_DENIED, DEV_DENY_NOT_IN_LIBRARY, true, "not in library",
		 UI_COL_RED, "DENIED"},
		{DEV_PASS_DENIED, DEV_DENY_TEMPERATURE, true,
		 "temperature 38.6 °C above 37.3 °C", UI_COL_RED, "DENIED"},
		{DEV_PASS_DENIED, DEV_DENY_MASK, true, "no mask", UI_COL_RED, "DENIED"},
		{DEV_PASS_NONE, DEV_DENY_NONE, false, "no face in the frame",
		 UI_COL_AMBER, "NO FACE"},
		{DEV_PASS_NONE, DEV_DENY_NONE, true, "face too dark",
		 UI_COL_AMBER, "TRY AGAIN"},
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		ui_state *s = ui_new("http://127.0.0.1:8080/");
		dev_pass p = a_pass(rows[i].verdict, rows[i].why, rows[i].reason);
		const ui_view *v;

		ck_assert_ptr_nonnull(s);
		p.has_face = rows[i].has_face;
		ck_assert(!at(s, 0)->banner); /* nothing before a pass */
		ui_pass(s, &p, 1000);
		v = at(s, 1000);
		ck_assert_msg(v->banner && v->banner_color == rows[i].color &&
			      !strcmp(v->banner_title, rows[i].title), "row %zu: "
			      "%d %s", i, v->banner_color, v->banner_title);
		ck_assert_str_eq(v->banner_reason, rows[i].reason);
		ck_assert_double_eq(v->banner_alpha, 1.0);
		ck_assert_int_eq(v->has_face, rows[i].has_face);
		ui_free(s);
	}
}
END_TEST

START_TEST(banner_holds_4_s_then_fades_within_a_second)
{
	static const struct { int64_t dt; bool shown; double alpha; } rows[] = {
		{0, true, 1}, {2000, true, 1}, {4000, true, 1}, {4250, true, 0.75},
		{4500, true, 0.5}, {4900, true, 0.1}, {5000, false, 0},
		{60000, false, 0}, {-1, false, 0}, /* a clock before the pass */
	};
	ui_state *s = ui_new("u");
	dev_pass p = a_pass(DEV_PASS_PASSED, DEV_DENY_NONE, "ok");

	ui_pass(s, &p, 10000);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const ui_view *v = at(s, 10000 + rows[i].dt);
		ck_assert_msg(v->banner == rows[i].shown, "+%lld ms: banner %d",
			      (long long)rows[i].dt, v->banner);
		ck_assert_double_eq_tol(v->banner_alpha, rows[i].alpha, 1e-9);
		/* who it was stays after the banner goes */
		ck_assert_str_eq(v->name, "Alice");
	}
	/* a new pass shows the banner whole again */
	p = a_pass(DEV_PASS_DENIED, DEV_DENY_NOT_IN_LIBRARY, "not in library");
	ui_pass(s, &p, 20000);
	ck_assert_double_eq(at(s, 20000)->banner_alpha, 1.0);
	ck_assert_int_eq(view.banner_color, UI_COL_RED);
	ui_free(s);
}
END_TEST

START_TEST(identity_and_readings_show_name_similarity_colours_and_units)
{
	static const struct {
		bool known, has_face, recognition, high, has_mask, mask_bad;
		int mask;
		double temp;
		const char *unit, *name, *similarity, *temperature, *mask_text;
		ui_color temp_color, mask_color;
	} rows[] = {
		{true, true, true, false, true, false, 1, 36.5, "°C", "Alice",
		 "similarity 87 %", "36.5 °C", "mask on", UI_COL_GREEN, UI_COL_GREEN},
		{false, true, true, false, true, true, 0, 36.6, "°C", "Stranger",
		 "similarity 87 %", "36.6 °C", "no mask", UI_COL_GREEN, UI_COL_AMBER},
		{true, true, true, true, false, false, 0, 38.6, "°C", "Alice",
		 "similarity 87 %", "38.6 °C", "", UI_COL_RED, UI_COL_NONE},
		{false, false, false, true, true, false, 1, 101.3, "°F", "", "",
		 "101.3 °F", "mask on", UI_COL_RED, UI_COL_GREEN},
		{false, false, true, false, true, false, 1, 97.7, "°F", "", "",
		 "97.7 °F", "mask on", UI_COL_GREEN, UI_COL_GREEN},
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		ui_state *s = ui_new("u");
		dev_pass p = a_pass(DEV_PASS_DENIED, DEV_DENY_MASK, "x");
		const ui_view *v;

		p.known = rows[i].known;
		p.has_face = rows[i].has_face;
		p.recognition = rows[i].recognition;
		p.temperature_high = rows[i].high;
		p.temperature = rows[i].temp;
		snprintf(p.unit, sizeof p.unit, "%s", rows[i].unit);
		p.has_mask = rows[i].has_mask;
		p.mask = rows[i].mask;
		p.mask_bad = rows[i].mask_bad;
		ui_pass(s, &p, 0);
		v = at(s, 10);
		ck_assert_msg(!strcmp(v->name, rows[i].name), "row %zu: name %s",
			      i, v->name);
		ck_assert_str_eq(v->similarity, rows[i].similarity);
		ck_assert_str_eq(v->temperature, rows[i].temperature);
		ck_assert_int_eq(v->temp_color, rows[i].temp_color);
		ck_assert_str_eq(v->mask, rows[i].mask_text);
		ck_assert_int_eq(v->mask_color, rows[i].mask_color);
		ui_free(s);
	}
}
END_TEST

START_TEST(face_box_goes_with_a_new_frame_and_comes_with_the_pass)
{
	ui_state *s = ui_new("u");
	dev_pass p = a_pass(DEV_PASS_PASSED, DEV_DENY_NONE, "ok");
	uint64_t gen;

	p.pts[30][0] = 260, p.pts[30][1] = 180;
	ui_frame(s, 640, 480, 0);
	gen = at(s, 0)->frame_gen;
	ck_assert(!view.has_face);
	ui_pass(s, &p, 5);
	ck_assert(at(s, 5)->has_face);
	ck_assert_double_eq(view.box[2], 120);
	ck_assert_double_eq(view.pts[30][0], 260);
	ck_assert_int_eq(view.frame_w, 640);
	ui_frame(s, 320, 240, 100);
	ck_assert(!at(s, 100)->has_face);
	ck_assert_uint_ne(view.frame_gen, gen);
	ck_assert_int_eq(view.frame_w, 320);
	ck_assert_int_eq(view.frame_h, 240);
	ui_free(s);
}
END_TEST

START_TEST(relay_progress_runs_over_the_pulse_and_idles_after_off)
{
	static const struct { int64_t t; bool on; double progress; } rows[] = {
		{999, false, -1}, {1000, true, 0}, {1500, true, 0.25},
		{2000, true, 0.5}, {3000, true, 1}, {3400, true, 1},
		{3500, false, -1},
	};
	ui_state *s = ui_new("u");

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		if (rows[i].t == 1000)
			event(s, 1000, DEV_EV_RELAY, "on for 2000 ms (pass)");
		if (rows[i].t == 3500)
			event(s, 3500, DEV_EV_RELAY, "off");
		const ui_view *v = at(s, rows[i].t);
		ck_assert_msg(v->relay_on == rows[i].on, "t %lld", (long long)rows[i].t);
		ck_assert_double_eq_tol(v->relay_progress, rows[i].progress, 1e-9);
	}
	event(s, 4000, DEV_EV_DOOR, "open");
	ck_assert(at(s, 4000)->door_open);
	event(s, 4100, DEV_EV_DOOR, "closed");
	ck_assert(!at(s, 4100)->door_open);
	/* power off releases the relay on the screen too */
	event(s, 5000, DEV_EV_RELAY, "on for 500 ms (pass)");
	event(s, 5100, DEV_EV_OFF, "powered off");
	ck_assert(!at(s, 5100)->relay_on);
	ck_assert_double_eq(view.relay_progress, -1);
	ui_free(s);
}
END_TEST

START_TEST(voice_text_shows_for_5_s)
{
	ui_state *s = ui_new("u");

	event(s, 2000, DEV_EV_VOICE, "authorized");
	ck_assert_str_eq(at(s, 2000)->voice, "authorized");
	ck_assert_str_eq(at(s, 6999)->voice, "authorized");
	ck_assert_str_eq(at(s, 7000)->voice, "");
	event(s, 8000, DEV_EV_VOICE, "please wear mask");
	ck_assert_str_eq(at(s, 8001)->voice, "please wear mask");
	ui_free(s);
}
END_TEST

START_TEST(heartbeat_pulse_decays_over_800_ms_and_only_for_answered_beats)
{
	static const struct { int64_t dt; double pulse; } rows[] = {
		{0, 1}, {200, 0.75}, {400, 0.5}, {799, 1.0 / 800}, {800, 0},
		{5000, 0},
	};
	ui_state *s = ui_new("u");

	ck_assert_double_eq(at(s, 0)->pulse, 0);
	exchange_s(s, 1000, "heartbeat", "{\"seq\":1}", 200, "{}");
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		ck_assert_double_eq_tol(at(s, 1000 + rows[i].dt)->pulse,
					rows[i].pulse, 1e-9);
	/* a failed heartbeat and a snapshot's 200 give no pulse */
	exchange_s(s, 10000, "heartbeat", "{\"seq\":2}", 0, NULL);
	ck_assert_double_eq(at(s, 10000)->pulse, 0);
	exchange_s(s, 11000, "snapshot", "{\"type\":1}", 200, "{}");
	ck_assert_double_eq(at(s, 11000)->pulse, 0);
	ui_free(s);
}
END_TEST

START_TEST(log_lines_each_way_with_kind_summary_status_and_colour)
{
	static const struct {
		const char *kind, *body;
		bool sent;
		long status;
		const char *reply;
		const char *up_summary, *down_kind, *down_summary;
		ui_color down_color;
	} rows[] = {
		{"heartbeat", "{\"cid\":\"cam1\",\"seq\":1700000000,\"type\":3}", true,
		 200, "{\"config\":{\"opType\":0},\"facelib_manage\":{\"type\":1}}",
		 "seq 1700000000", "heartbeat reply", "config, facelib_manage",
		 UI_COL_GREEN},
		{"heartbeat", "{\"seq\":5}", true, 200, "{}", "seq 5",
		 "heartbeat reply", "no commands", UI_COL_GREEN},
		{"heartbeat", "{\"seq\":5}", true, 200, "", "seq 5",
		 "heartbeat reply", "no commands", UI_COL_GREEN},
		{"snapshot", "{\"type\":1,\"result\":{\"person_id\":\"p1\","
		 "\"person_name\":\"Alice\",\"person_type\":1}}", true, 200, "{}",
		 "Alice passed", "snapshot reply", "no commands", UI_COL_GREEN},
		{"snapshot (resend)", "{\"type\":1,\"result\":{\"person_type\":0}}",
		 true, 500, "oops", "stranger denied", "snapshot (resend) reply",
		 "not JSON, 4 bytes", UI_COL_AMBER},
		{"heartbeat", "{\"seq\":6}", true, 0, NULL, "seq 6",
		 "heartbeat reply", "timed out after 10000 ms", UI_COL_RED},
		{"heartbeat", "{\"seq\":7}", false, 0, NULL, "seq 7",
		 "heartbeat reply", "not sent", UI_COL_RED},
		{"fw_upgrade download", NULL, true, 200, "PK\x03\x04",
		 "http://127.0.0.1:8080/cam", "fw_upgrade download reply",
		 "not JSON, 4 bytes", UI_COL_GREEN},
		{"heartbeat", "{\"seq\":8}", true, 200, "{\"a\\nb\":1}", "seq 8",
		 "heartbeat reply", "a?b", UI_COL_GREEN},
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		ui_state *s = ui_new("u");
		const ui_view *v;

		exchange(s, 500, rows[i].kind, rows[i].body,
			 rows[i].body ? strlen(rows[i].body) : 0, rows[i].sent,
			 rows[i].status, rows[i].reply,
			 rows[i].reply ? strlen(rows[i].reply) : 0);
		v = at(s, 1700);
		ck_assert_int_eq(v->log_n, 2);
		ck_assert(v->log[0].up && !v->log[1].up);
		ck_assert_str_eq(v->log[0].kind, rows[i].kind);
		ck_assert_msg(!strcmp(v->log[0].summary, rows[i].up_summary),
			      "row %zu: up \"%s\"", i, v->log[0].summary);
		ck_assert_int_eq(v->log[0].color, UI_COL_TEXT);
		ck_assert_int_eq(v->log[0].t, 500);
		ck_assert_str_eq(v->log[1].kind, rows[i].down_kind);
		ck_assert_msg(!strcmp(v->log[1].summary, rows[i].down_summary),
			      "row %zu: down \"%s\"", i, v->log[1].summary);
		ck_assert_int_eq(v->log[1].status, rows[i].status);
		ck_assert_int_eq(v->log[1].color, rows[i].down_color);
		/* the status bar's last exchange */
		char last[96];
		snprintf(last, sizeof last, "%s %s, 1.2 s ago", rows[i].kind,
			 rows[i].status == 500 ? "500" : rows[i].status ? "200"
			 : "failed");
		ck_assert_str_eq(v->last, last);
		ui_free(s);
	}
}
END_TEST

/* The JSON panel of the newest line after n exchanges of body. */
static const char *json_of(ui_state *s, const char *body, size_t len)
{
	exchange(s, 0, "heartbeat", "{\"seq\":1}", 9, true, 200, body, len);
	if (!at(s, 0)->show_json)
		ui_local(s, UI_ACT_JSON);
	return at(s, 0)->json;
}

START_TEST(json_of_the_selected_line_is_pretty_printed_or_shown_as_text)
{
	ui_state *s = ui_new("u");
	const char *j;

	ck_assert_str_eq(at(s, 0)->json, ""); /* hidden until asked */
	j = json_of(s, "{\"config\":{\"opType\":0,\"face_rec\":{\"score\":70}}}",
		    47);
	ck_assert(view.show_json);
	ck_assert_msg(strstr(j, "<- heartbeat reply, 47 bytes\n{\n  \"config\": {\n"
			     "    \"opType\": 0,\n    \"face_rec\": {\n"
			     "      \"score\": 70\n"), "%s", j);
	ck_assert_ptr_null(strchr(j, '\t'));
	/* not JSON: the text, control bytes as '.' */
	j = json_of(s, "hello\x01world\nbye", 15);
	ck_assert_msg(strstr(j, "(not JSON)\nhello.world\nbye"), "%s", j);
	/* a NUL inside is a byte like others */
	j = json_of(s, "ab\0cd", 5);
	ck_assert_msg(strstr(j, "(not JSON)\nab.cd"), "%s", j);
	/* the request line too */
	ui_local(s, UI_ACT_LOG_UP);
	ck_assert_msg(strstr(at(s, 0)->json, "-> heartbeat, 9 bytes\n{\n  "
			     "\"seq\": 1\n}"), "%s", view.json);
	/* JSON off: nothing built */
	ui_local(s, UI_ACT_JSON);
	ck_assert_str_eq(at(s, 0)->json, "");
	ui_free(s);
}
END_TEST

START_TEST(long_bodies_are_cut_at_16_kib_and_say_so)
{
	ui_state *s = ui_new("u");
	size_t n = 20000;
	char *big = malloc(40000);
	const char *j;

	/* text beyond the limit: cut, marked */
	memset(big, 'x', n);
	big[n] = '\0';
	j = json_of(s, big, n);
	ck_assert_msg(strstr(j, "(cut short: shown as text)\nxxx"), "%.80s", j);
	ck_assert_msg(strstr(j, "(truncated: 16384 of 20000 bytes kept)"), "%s",
		      j + strlen(j) - 100);
	ck_assert_uint_lt(strlen(j), sizeof view.json);
	/* a cut inside a character drops the part: 16383 'a' then "é" */
	memset(big, 'a', 16383);
	memcpy(big + 16383, "\xC3\xA9zz", 5);
	j = json_of(s, big, 16387);
	ck_assert_ptr_null(strstr(j, "\xC3\n"));
	ck_assert_ptr_nonnull(strstr(j, "aaa\n... (truncated: 16384 of 16387"));
	/* JSON too long to keep whole, cut: shown as text, marked */
	for (int i = 0; i < 15000; i++)
		memcpy(big + 2 * i, ",1", 2);
	big[0] = '[';
	memcpy(big + 30000, "]", 2);
	j = json_of(s, big, 30001);
	ck_assert_msg(strstr(j, "(cut short: shown as text)\n[1,1,1"), "%.80s", j);
	ck_assert_ptr_nonnull(strstr(j, "truncated: 16384 of 30001 bytes kept"));
	/* a snapshot's picture is shortened instead, so its JSON shows */
	n = (size_t)snprintf(big, 40000, "{\"type\":1,\"faces\":[\"");
	memset(big + n, 'Q', 30000);
	n += 30000;
	n += (size_t)snprintf(big + n, 40000 - n, "\"],\"result\":{\"person_name\":"
			      "\"Alice\",\"person_type\":1}}");
	exchange(s, 0, "snapshot", big, n, true, 200, "{}", 2);
	ui_local(s, UI_ACT_LOG_UP);
	j = at(s, 0)->json;
	ck_assert_str_eq(view.log[view.log_selected].summary, "Alice passed");
	ck_assert_msg(strstr(j, "long strings shortened"), "%s", j);
	ck_assert_msg(strstr(j, "\"faces\": [\"(30000 characters)\"]"), "%s", j);
	ck_assert_ptr_nonnull(strstr(j, "\"person_name\": \"Alice\""));
	ck_assert_ptr_null(strstr(j, "truncated"));
	free(big);
	ui_free(s);
}
END_TEST

START_TEST(selection_follows_the_newest_until_moved_and_stays_in_the_ring)
{
	ui_state *s = ui_new("u");

	ck_assert_int_eq(at(s, 0)->log_selected, -1);
	ui_local(s, UI_ACT_LOG_UP); /* nothing to select: no effect */
	ui_local(s, UI_ACT_LOG_DOWN);
	for (int i = 0; i < 3; i++)
		exchange_s(s, i, "heartbeat", "{\"seq\":1}", 200, "{}");
	ck_assert_int_eq(at(s, 0)->log_n, 6);
	ck_assert_int_eq(view.log_selected, 5);
	exchange_s(s, 3, "heartbeat", "{\"seq\":1}", 200, "{}");
	ck_assert_int_eq(at(s, 0)->log_selected, 7); /* followed */
	ui_local(s, UI_ACT_LOG_UP);
	ck_assert_int_eq(at(s, 0)->log_selected, 6);
	exchange_s(s, 4, "heartbeat", "{\"seq\":1}", 200, "{}");
	ck_assert_int_eq(at(s, 0)->log_selected, 6); /* stays put */
	ck_assert_int_eq(view.log_n, 10);
	ui_local(s, UI_ACT_LOG_DOWN);
	ck_assert_int_eq(at(s, 0)->log_selected, 7);
	ui_local(s, UI_ACT_LOG_DOWN);
	ui_local(s, UI_ACT_LOG_DOWN);
	ui_local(s, UI_ACT_LOG_DOWN); /* the newest: follows again */
	ck_assert_int_eq(at(s, 0)->log_selected, 9);
	exchange_s(s, 5, "heartbeat", "{\"seq\":1}", 200, "{}");
	ck_assert_int_eq(at(s, 0)->log_selected, 11);
	/* many lines: the view holds the newest 64 ... */
	for (int i = 0; i < 300; i++)
		exchange_s(s, 10 + i, "heartbeat", "{\"seq\":1}", 200, "{}");
	ck_assert_int_eq(at(s, 0)->log_n, UI_VIEW_LOG);
	ck_assert_int_eq(view.log_selected, UI_VIEW_LOG - 1);
	ck_assert_int_eq(view.log[UI_VIEW_LOG - 1].t, 309);
	/* ... or starts at the selection when the user went back further;
	 * the oldest kept line is as far as one goes */
	for (int i = 0; i < 1000; i++)
		ui_local(s, UI_ACT_LOG_UP);
	at(s, 0);
	ck_assert_int_eq(view.log_selected, 0);
	ck_assert_int_eq(view.log_n, UI_VIEW_LOG);
	ck_assert(view.log[0].t > 10 && view.log[0].t < 309);
	ck_assert(view.log[0].up);
	ui_free(s);
}
END_TEST

START_TEST(help_json_and_pause_toggle_and_other_actions_change_nothing)
{
	ui_state *s = ui_new("u");

	ck_assert(!at(s, 0)->help && !view.paused && !view.show_json);
	ui_local(s, UI_ACT_HELP);
	ck_assert(at(s, 0)->help);
	ui_local(s, UI_ACT_PAUSE);
	ck_assert(at(s, 0)->paused);
	ui_local(s, UI_ACT_HELP);
	ui_local(s, UI_ACT_PAUSE);
	ck_assert(!at(s, 0)->help && !view.paused);
	for (int a = 0; a < UI_ACT_COUNT; a++)
		if (a != UI_ACT_HELP && a != UI_ACT_PAUSE && a != UI_ACT_JSON &&
		    a != UI_ACT_LOG_UP && a != UI_ACT_LOG_DOWN)
			ui_local(s, a);
	ui_local(s, (ui_action)-1);
	ui_local(s, UI_ACT_COUNT);
	ck_assert(!at(s, 0)->help && !view.paused && !view.show_json);
	ui_step(s, "step 2: a stranger\nis denied");
	ck_assert_str_eq(at(s, 0)->step, "step 2: a stranger?is denied");
	ui_step(s, NULL);
	ck_assert_str_eq(at(s, 0)->step, "");
	ui_free(s);
	ui_free(NULL);
}
END_TEST

START_TEST(network_state_from_power_net_events_and_replies)
{
	static const struct {
		dev_event_kind k;
		const char *text;
		bool online;
		ui_color color;
		const char *net_text;
	} rows[] = {
		{DEV_EV_COUNT, "", false, UI_COL_GREY, "off"}, /* before boot */
		{DEV_EV_BOOT, "V1.0.0", false, UI_COL_RED, "connecting"},
		{DEV_EV_REPLY, "200 to heartbeat", true, UI_COL_GREEN, "online"},
		{DEV_EV_NET, "down", false, UI_COL_RED, "network down"},
		{DEV_EV_FAIL, "snapshot of 1700000000: network down", false,
		 UI_COL_RED, "network down"},
		{DEV_EV_NET, "up", false, UI_COL_RED, "connecting"},
		{DEV_EV_REPLY, "200 to snapshot of 1700000000", true,
		 UI_COL_GREEN, "online"},
		{DEV_EV_FAIL, "heartbeat: status 500 (only 200 is success; body "
		 "not read)", false, UI_COL_RED, "server said 500"},
		{DEV_EV_FAIL, "heartbeat: Connection refused", false, UI_COL_RED,
		 "no answer"},
		{DEV_EV_REPLY, "200 to heartbeat", true, UI_COL_GREEN, "online"},
		{DEV_EV_OFF, "powered off", false, UI_COL_GREY, "off"},
		{DEV_EV_BOOT, "V1.0.0", false, UI_COL_RED, "connecting"},
	};
	ui_state *s = ui_new("http://10.0.0.5:8080/api");

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const ui_view *v;

		if (rows[i].k != DEV_EV_COUNT)
			event(s, (int64_t)i, rows[i].k, rows[i].text);
		v = at(s, (int64_t)i);
		ck_assert_msg(v->online == rows[i].online &&
			      v->net_color == rows[i].color &&
			      !strcmp(v->net_text, rows[i].net_text),
			      "row %zu: online %d colour %d \"%s\"", i, v->online,
			      v->net_color, v->net_text);
		ck_assert_int_eq(v->powered, rows[i].color != UI_COL_GREY);
		ck_assert_str_eq(v->server, "http://10.0.0.5:8080/api");
	}
	ui_offline(s, 3);
	ck_assert_int_eq(at(s, 0)->offline_records, 3);
	ui_offline(s, -2);
	ck_assert_int_eq(at(s, 0)->offline_records, 0);
	ui_free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ui");
	TCase *t = tcase_create("ui");

	tcase_add_test(t, palette_colours_are_distinct_and_unknown_ones_are_black);
	tcase_add_test(t, every_action_but_none_and_drop_has_a_key_and_a_help_line);
	tcase_add_test(t, key_names_are_unique_and_help_has_question_mark_and_f11);
	tcase_add_test(t, layout_keeps_every_rect_inside_and_apart_at_any_size);
	tcase_add_test(t, layout_portrait_has_the_grid_rows_in_order_and_the_log_inside);
	tcase_add_test(t, layout_landscape_puts_the_log_right_of_the_tablet);
	tcase_add_test(t, banner_colour_and_title_follow_the_verdict);
	tcase_add_test(t, banner_holds_4_s_then_fades_within_a_second);
	tcase_add_test(t, identity_and_readings_show_name_similarity_colours_and_units);
	tcase_add_test(t, face_box_goes_with_a_new_frame_and_comes_with_the_pass);
	tcase_add_test(t, relay_progress_runs_over_the_pulse_and_idles_after_off);
	tcase_add_test(t, voice_text_shows_for_5_s);
	tcase_add_test(t, heartbeat_pulse_decays_over_800_ms_and_only_for_answered_beats);
	tcase_add_test(t, log_lines_each_way_with_kind_summary_status_and_colour);
	tcase_add_test(t, json_of_the_selected_line_is_pretty_printed_or_shown_as_text);
	tcase_add_test(t, long_bodies_are_cut_at_16_kib_and_say_so);
	tcase_add_test(t, selection_follows_the_newest_until_moved_and_stays_in_the_ring);
	tcase_add_test(t, help_json_and_pause_toggle_and_other_actions_change_nothing);
	tcase_add_test(t, network_state_from_power_net_events_and_replies);
	suite_add_tcase(s, t);
	return tu_run(s);
}
