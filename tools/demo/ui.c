/* ui.c -- the demo window's state (issue 16) as a pure function of the
 * device's events, face passes and exchanges: palette, key map, layout
 * grid, the protocol log and the view one frame draws.  No SDL, no I/O,
 * no clock of its own (win.c draws; demo.c drives and locks). */
#include "ui.h"

#include <cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- palette, actions, keys ---- */

static const uint32_t rgb_of[] = {
#define UI_COLOR_RGB(e, rgb) rgb,
	UI_COLOR_MAP(UI_COLOR_RGB)
#undef UI_COLOR_RGB
};

uint32_t ui_rgb(ui_color c)
{
	return (unsigned)c < UI_COL_COUNT ? rgb_of[c] : 0;
}

static const char *const help_of[] = {
#define UI_ACTION_HELP(e, help) help,
	UI_ACTION_MAP(UI_ACTION_HELP)
#undef UI_ACTION_HELP
};

const char *ui_action_help(ui_action a)
{
	return (unsigned)a < UI_ACT_COUNT ? help_of[a] : "";
}

/* Letters a presenter can find without looking; arrows for the people
 * and the log; F1 / H / ? all open the help, since "?" needs Shift on
 * most layouts. */
const ui_key ui_keys[] = {
	{"Right", UI_ACT_NEXT},
	{"Left", UI_ACT_PREV},
	{"S", UI_ACT_STRANGER},
	{"=", UI_ACT_TEMP_UP},
	{"Keypad +", UI_ACT_TEMP_UP},
	{"-", UI_ACT_TEMP_DOWN},
	{"Keypad -", UI_ACT_TEMP_DOWN},
	{"F", UI_ACT_FEVER},
	{"M", UI_ACT_MASK},
	{"D", UI_ACT_DOOR},
	{"N", UI_ACT_NET},
	{"P", UI_ACT_POWER},
	{"Space", UI_ACT_PAUSE},
	{"Up", UI_ACT_LOG_UP},
	{"Down", UI_ACT_LOG_DOWN},
	{"J", UI_ACT_JSON},
	{"Return", UI_ACT_JSON},
	{"?", UI_ACT_HELP},
	{"H", UI_ACT_HELP},
	{"F1", UI_ACT_HELP},
	{"F11", UI_ACT_FULLSCREEN},
	{"Q", UI_ACT_QUIT},
	{"Escape", UI_ACT_QUIT},
};
const size_t ui_nkeys = sizeof ui_keys / sizeof ui_keys[0];

/* ---- layout (docs/demo.md "Layout grid") ---- */

/* The tablet's height in quarter units of a 16-unit grid: 64 quarters.
 * Portrait keeps the log inside the tablet (its last 10 quarters);
 * landscape moves it to the right and gives the camera those rows. */
enum { GRID_Q = 64 };
enum row {
	ROW_STATUS, ROW_CAMERA, ROW_BANNER, ROW_IDENTITY, ROW_READINGS,
	ROW_VOICE, ROW_HW, ROW_STEP, ROW_LOG, ROW_COUNT
};
static const int rows_portrait[ROW_COUNT] = {4, 26, 6, 4, 4, 3, 4, 3, 10};
static const int rows_landscape[ROW_COUNT] = {4, 36, 6, 4, 4, 3, 4, 3, 0};

static ui_rect rect(int x, int y, int w, int h)
{
	ui_rect r = {x, y, w > 0 ? w : 0, h > 0 ? h : 0};
	return r;
}

static int imax(int a, int b)
{
	return a > b ? a : b;
}

void ui_layout_compute(int w, int h, ui_layout *out)
{
	const int *rows;
	ui_rect *slot[ROW_COUNT];
	int tw, th, pad, q = 0;
	bool landscape;

	memset(out, 0, sizeof *out);
	w = imax(w, 0);
	h = imax(h, 0);
	landscape = w > h;
	/* the largest 9:16 rectangle that fits (in 64-bit: w * 16 of a
	 * 10000-pixel-wide window is fine, but callers may pass INT_MAX) */
	if ((int64_t)w * 16 >= (int64_t)h * 9) {
		th = h;
		tw = (int)((int64_t)h * 9 / 16);
	} else {
		tw = w;
		th = (int)((int64_t)w * 16 / 9);
	}
	if (landscape)
		out->tablet = rect(0, (h - th) / 2, tw, th);
	else
		out->tablet = rect((w - tw) / 2, (h - th) / 2, tw, th);

	rows = landscape ? rows_landscape : rows_portrait;
	slot[ROW_STATUS] = &out->status;
	slot[ROW_CAMERA] = &out->camera;
	slot[ROW_BANNER] = &out->banner;
	slot[ROW_IDENTITY] = &out->identity;
	slot[ROW_READINGS] = &out->readings;
	slot[ROW_VOICE] = &out->voice;
	slot[ROW_HW] = &out->hw;
	slot[ROW_STEP] = &out->step;
	slot[ROW_LOG] = &out->log;
	/* rows share their boundaries (each one ends where the next begins,
	 * rounded once), so they never overlap and leave no gaps */
	pad = tw / 32;
	for (int i = 0; i < ROW_COUNT; i++) {
		int y0 = (int)((int64_t)th * q / GRID_Q);
		int y1 = (int)((int64_t)th * (q + rows[i]) / GRID_Q);

		q += rows[i];
		if (!rows[i])
			continue;
		/* the status bar spans the tablet; the rest sits inside the
		 * side margins */
		if (i == ROW_STATUS)
			*slot[i] = rect(out->tablet.x, out->tablet.y + y0, tw, y1 - y0);
		else
			*slot[i] = rect(out->tablet.x + pad, out->tablet.y + y0,
					tw - 2 * pad, y1 - y0);
	}
	if (landscape) {
		int x = tw + pad;

		out->log = rect(x, pad, w - x - pad, h - 2 * pad);
	}
	/* fonts follow the grid's unit (a quarter of a row is th / 64): the
	 * banner's title fills most of its 6 quarters, text its 4, the log
	 * and captions about 1.6 */
	out->font_big = imax(1, th * 4 / GRID_Q);
	out->font_mid = imax(1, th * 2 / GRID_Q);
	out->font_small = imax(1, th * 3 / (2 * GRID_Q));
}
