/* check_ui.c -- tools/demo/ui: the palette and key map the window draws
 * and reads, the layout grid over many window sizes (nothing negative,
 * nothing outside, no overlaps, fonts scaling), and what the view shows
 * after given events, passes and exchanges at given times.  No SDL. */
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
	suite_add_tcase(s, t);
	return tu_run(s);
}
