/* check_win.c -- tools/demo/win: real windows on a private Xvfb, checked
 * through their screenshots against ui_layout_compute's rects and the
 * palette's exact colours (banner, name area, network dot, help overlay,
 * camera frame and face box, in a portrait and a landscape window); the
 * errors (no display, a dead display, a missing font, an unwritable
 * screenshot); input turned into actions; the text cache; frame stats.
 * SDL is included here only to push synthetic input events. */
#include "image.h"
#include "sim_err.h"
#include "testutil.h"
#include "ui.h"
#include "win.h"
#include "xvfb.h"

#include <SDL.h>
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>

/* The X server every test draws on, started once in main (test processes
 * forked by Check inherit DISPLAY); a failure to start fails every test
 * that needs it, naming why. */
static xvfb X;
static char xvfb_err[256];

static void need_display(void)
{
	ck_assert_msg(X.pid > 0, "no X server for the window tests: %s",
		      xvfb_err);
}

/* Two windows: the default portrait tablet and a landscape one (log to
 * the right of the tablet). */
static const int sizes[][2] = {{540, 960}, {1280, 720}};
#define NSIZES (int)(sizeof sizes / sizeof sizes[0])

static ui_view V; /* about 20 KiB: not on the stack */

/* A powered, online tablet with nothing to show yet. */
static void view_base(ui_view *v)
{
	memset(v, 0, sizeof *v);
	v->powered = true;
	v->online = true;
	v->net_color = UI_COL_GREEN;
	snprintf(v->net_text, sizeof v->net_text, "online");
	snprintf(v->server, sizeof v->server, "http://127.0.0.1:8080");
	snprintf(v->last, sizeof v->last, "heartbeat 200, 1.2 s ago");
	v->temp_color = UI_COL_GREEN;
	v->mask_color = UI_COL_GREEN;
	v->relay_progress = -1;
	v->log_selected = -1;
	v->banner_alpha = 1;
}

static win *open_win(int w, int h)
{
	win_opts o = {.w = w, .h = h};
	win *wp = NULL;
	char err[512] = "";
	int pw, ph;

	need_display();
	ck_assert_msg(win_open(&o, &wp, err, sizeof err) == 0, "win_open: %s",
		      err);
	win_size(wp, &pw, &ph);
	/* no window manager and no HiDPI scaling on Xvfb: points = pixels */
	ck_assert_int_eq(pw, w);
	ck_assert_int_eq(ph, h);
	return wp;
}

/* Draws v (and cam) once and reads the screenshot back. */
static void shot(win *wp, const ui_view *v, const win_camera *cam, img *out)
{
	char dir[] = "/tmp/check_win.XXXXXX", path[64], err[512] = "";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/s.png", dir);
	ck_assert_int_eq(win_frame(wp, v, cam, NULL, NULL), 0);
	ck_assert_msg(win_screenshot(wp, path, err, sizeof err) == 0,
		      "screenshot: %s", err);
	ck_assert_msg(img_load_file(path, out, err, sizeof err) == 0,
		      "the screenshot does not decode: %s", err);
	unlink(path);
	rmdir(dir);
}

static uint32_t px_at(const img *im, int x, int y)
{
	const uint8_t *p = im->px + ((size_t)y * im->w + x) * 3;
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Pixels of r that are exactly rgb (is) or are not (!is). */
static long count(const img *im, ui_rect r, uint32_t rgb, bool is)
{
	long n = 0;
	for (int y = r.y; y < r.y + r.h; y++)
		for (int x = r.x; x < r.x + r.w; x++)
			n += (px_at(im, x, y) == rgb) == is;
	return n;
}

static double share(const img *im, ui_rect r, ui_color c)
{
	return (double)count(im, r, ui_rgb(c), true) / ((double)r.w * r.h);
}

/* Runs fn in a window of each size (the layout, the size, V reset by
 * view_base), closing the window after. */
typedef void (*sized_fn)(win *wp, const ui_layout *lp, int W, int H);
static void each_size(sized_fn fn)
{
	for (int s = 0; s < NSIZES; s++) {
		win *wp = open_win(sizes[s][0], sizes[s][1]);
		ui_layout L;

		ui_layout_compute(sizes[s][0], sizes[s][1], &L);
		view_base(&V);
		fn(wp, &L, sizes[s][0], sizes[s][1]);
		win_close(wp);
	}
}

static void banner_colours(win *wp, const ui_layout *lp, int W, int H)
{
	ui_layout L = *lp;
	img im;

	V.banner = true;
	V.banner_color = UI_COL_RED;
	snprintf(V.banner_title, sizeof V.banner_title, "DENIED");
	snprintf(V.banner_reason, sizeof V.banner_reason,
		 "temperature 38.6 °C above 37.3 °C");
	shot(wp, &V, NULL, &im);
	/* the banner's colour fills it but for its text */
	ck_assert_msg(share(&im, L.banner, UI_COL_RED) > 0.5,
		      "%dx%d: %.2f of the banner is red", W,
		      H, share(&im, L.banner, UI_COL_RED));
	ck_assert_int_eq(count(&im, L.banner, ui_rgb(UI_COL_GREEN), true), 0);
	/* and the title is drawn on it */
	ck_assert_int_gt(count(&im, L.banner, ui_rgb(UI_COL_TEXT), true), 100);
	img_free(&im);

	V.banner_color = UI_COL_GREEN;
	snprintf(V.banner_title, sizeof V.banner_title, "PASS");
	snprintf(V.banner_reason, sizeof V.banner_reason, "welcome");
	shot(wp, &V, NULL, &im);
	ck_assert_double_gt(share(&im, L.banner, UI_COL_GREEN), 0.5);
	ck_assert_int_eq(count(&im, L.banner, ui_rgb(UI_COL_RED), true), 0);
	img_free(&im);

	/* faded out: no banner */
	V.banner_alpha = 0;
	shot(wp, &V, NULL, &im);
	ck_assert_int_eq(count(&im, L.banner, ui_rgb(UI_COL_GREEN), true), 0);
	ck_assert_int_eq(count(&im, L.banner, ui_rgb(UI_COL_BG), false), 0);
	img_free(&im);
}

START_TEST(banner_is_red_for_denied_and_green_for_pass_in_its_rect)
{
	each_size(banner_colours);
}
END_TEST

static void name_area(win *wp, const ui_layout *lp, int W, int H)
{
	ui_layout L = *lp;
	img im;
	long n;

	snprintf(V.name, sizeof V.name, "Ada Lovelace");
	snprintf(V.similarity, sizeof V.similarity, "similarity 87 %%");
	shot(wp, &V, NULL, &im);
	n = count(&im, L.identity, ui_rgb(UI_COL_BG), false);
	ck_assert_msg(n > L.identity.w * L.identity.h / 50,
		      "%dx%d: %ld pixels of text in the name area",
		      W, H, n);
	ck_assert_int_gt(count(&im, L.identity, ui_rgb(UI_COL_TEXT), true), 50);
	img_free(&im);

	view_base(&V);
	shot(wp, &V, NULL, &im);
	ck_assert_int_eq(count(&im, L.identity, ui_rgb(UI_COL_BG), false), 0);
	img_free(&im);
}

START_TEST(name_area_has_text_pixels_only_when_a_name_is_set)
{
	each_size(name_area);
}
END_TEST

static void network_dot(win *wp, const ui_layout *lp, int W, int H)
{
	ui_layout L = *lp;
	img im;

	shot(wp, &V, NULL, &im);
	ck_assert_int_gt(count(&im, L.status, ui_rgb(UI_COL_GREEN), true), 20);
	ck_assert_int_eq(count(&im, L.status, ui_rgb(UI_COL_RED), true), 0);
	img_free(&im);

	V.online = false;
	V.net_color = UI_COL_RED;
	snprintf(V.net_text, sizeof V.net_text, "network down");
	V.offline_records = 3;
	shot(wp, &V, NULL, &im);
	ck_assert_msg(count(&im, L.status, ui_rgb(UI_COL_RED), true) > 20,
		      "%dx%d: no red dot in the status bar while offline", W, H);
	ck_assert_int_eq(count(&im, L.status, ui_rgb(UI_COL_GREEN), true), 0);
	/* the records waiting are written in amber */
	ck_assert_int_gt(count(&im, L.status, ui_rgb(UI_COL_AMBER), true), 10);
	img_free(&im);
}

/* Temperature and mask in their colours; the heartbeat dot blue only
 * while it pulses. */
static void readings_and_pulse(win *wp, const ui_layout *lp, int W, int H)
{
	ui_layout L = *lp;
	img im;

	snprintf(V.temperature, sizeof V.temperature, "38.6 °C");
	V.temp_color = UI_COL_RED;
	snprintf(V.mask, sizeof V.mask, "no mask");
	V.mask_color = UI_COL_AMBER;
	shot(wp, &V, NULL, &im);
	ck_assert_msg(count(&im, L.readings, ui_rgb(UI_COL_RED), true) > 50,
		      "%dx%d: a high temperature is not red", W, H);
	ck_assert_int_gt(count(&im, L.readings, ui_rgb(UI_COL_AMBER), true), 50);
	ck_assert_int_eq(count(&im, L.readings, ui_rgb(UI_COL_GREEN), true), 0);
	ck_assert_int_eq(count(&im, L.status, ui_rgb(UI_COL_BLUE), true), 0);
	img_free(&im);

	V.temp_color = UI_COL_GREEN;
	V.pulse = 1;
	shot(wp, &V, NULL, &im);
	ck_assert_int_gt(count(&im, L.readings, ui_rgb(UI_COL_GREEN), true), 50);
	ck_assert_int_eq(count(&im, L.readings, ui_rgb(UI_COL_RED), true), 0);
	ck_assert_int_gt(count(&im, L.status, ui_rgb(UI_COL_BLUE), true), 20);
	img_free(&im);
}

START_TEST(readings_take_their_colours_and_the_pulse_is_blue)
{
	each_size(readings_and_pulse);
}
END_TEST

START_TEST(network_dot_is_red_offline_and_green_online)
{
	each_size(network_dot);
}
END_TEST

static void help_overlay(win *wp, const ui_layout *lp, int W, int H)
{
	ui_layout L = *lp;
	img im;
	double without;

	snprintf(V.name, sizeof V.name, "Ada Lovelace");
	shot(wp, &V, NULL, &im);
	without = share(&im, L.tablet, UI_COL_PANEL);
	img_free(&im);

	V.help = true;
	shot(wp, &V, NULL, &im);
	ck_assert_msg(share(&im, L.tablet, UI_COL_PANEL) > 0.8 &&
		      without < 0.5, "%dx%d: panel share %.2f with help, "
		      "%.2f without", W, H,
		      share(&im, L.tablet, UI_COL_PANEL), without);
	/* key names in blue, their help in text colour */
	ck_assert_int_gt(count(&im, L.tablet, ui_rgb(UI_COL_BLUE), true), 50);
	ck_assert_int_gt(count(&im, L.tablet, ui_rgb(UI_COL_TEXT), true), 500);
	img_free(&im);
}

START_TEST(help_overlay_covers_the_tablet_and_lists_the_keys)
{
	each_size(help_overlay);
}
END_TEST

/* A frame whose left half is magenta and right half cyan. */
static void two_colours(unsigned char *rgb, int w, int h, uint32_t a,
			uint32_t b)
{
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint32_t c = x < w / 2 ? a : b;
			unsigned char *p = rgb + ((size_t)y * w + x) * 3;
			p[0] = c >> 16, p[1] = (c >> 8) & 255, p[2] = c & 255;
		}
}

enum { FW = 320, FH = 240 };
static unsigned char cam_rgb[FW * FH * 3];

static void camera_frame(win *wp, const ui_layout *lp, int W, int H)
{
	ui_layout L = *lp;
	win_camera cam = {cam_rgb, FW, FH, FW * 3, 1};
	ui_rect c, d;
	img im;
	int cy;

	c = L.camera;
	/* where a 4:3 frame goes: full width or full height */
	if ((int64_t)c.w * FH <= (int64_t)c.h * FW)
		d = (ui_rect){c.x, c.y + (c.h - c.w * FH / FW) / 2, c.w,
			      c.w * FH / FW};
	else
		d = (ui_rect){c.x + (c.w - c.h * FW / FH) / 2, c.y,
			      c.h * FW / FH, c.h};
	cy = d.y + d.h / 2;
	two_colours(cam_rgb, FW, FH, 0xff00ff, 0x00ffff);
	V.frame_w = FW;
	V.frame_h = FH;
	shot(wp, &V, &cam, &im);
	ck_assert_msg(px_at(&im, d.x + d.w / 4, cy) == 0xff00ff,
		      "%dx%d: %06x where the frame's left half belongs", W, H,
		      px_at(&im, d.x + d.w / 4, cy));
	ck_assert_uint_eq(px_at(&im, d.x + 3 * d.w / 4, cy), 0x00ffff);
	ck_assert_uint_eq(px_at(&im, d.x + 2, d.y + 2), 0xff00ff);
	ck_assert_uint_eq(px_at(&im, d.x + d.w - 3, d.y + d.h - 3), 0x00ffff);
	/* the bars beside or above the frame are black, and nothing
	 * of the frame is outside the camera rect */
	if (d.y > c.y + 1)
		ck_assert_uint_eq(px_at(&im, c.x + c.w / 2, c.y), 0);
	if (d.x > c.x + 1)
		ck_assert_uint_eq(px_at(&im, c.x, cy), 0);
	ck_assert_int_eq(count(&im, (ui_rect){0, 0, im.w, c.y}, 0xff00ff,
			       true), 0);
	img_free(&im);

	/* new pixels under the same generation are not uploaded ... */
	two_colours(cam_rgb, FW, FH, 0x00ff00, 0x00ff00);
	shot(wp, &V, &cam, &im);
	ck_assert_uint_eq(px_at(&im, d.x + d.w / 4, cy), 0xff00ff);
	img_free(&im);
	/* ... a new generation is */
	cam.gen = 2;
	shot(wp, &V, &cam, &im);
	ck_assert_uint_eq(px_at(&im, d.x + d.w / 4, cy), 0x00ff00);
	ck_assert_uint_eq(px_at(&im, d.x + 3 * d.w / 4, cy), 0x00ff00);
	img_free(&im);

	/* the face box, in frame pixels, is scaled onto the frame */
	V.has_face = true;
	V.box[0] = 80, V.box[1] = 60, V.box[2] = 160, V.box[3] = 120;
	for (int i = 0; i < 68; i++)
		V.pts[i][0] = 160, V.pts[i][1] = 120;
	shot(wp, &V, &cam, &im);
	{
		int bx = d.x + 80 * d.w / FW, by = d.y + 60 * d.h / FH;
		ck_assert_uint_eq(px_at(&im, bx + 1, cy), ui_rgb(UI_COL_BLUE));
		ck_assert_uint_eq(px_at(&im, d.x + d.w / 2, by + 1),
				  ui_rgb(UI_COL_BLUE));
		/* the landmarks (all at the centre here) */
		ck_assert_uint_eq(px_at(&im, d.x + d.w / 2, cy),
				  ui_rgb(UI_COL_AMBER));
		/* inside the box the frame shows through */
		ck_assert_uint_eq(px_at(&im, bx + d.w / 8, cy), 0x00ff00);
	}
	img_free(&im);
}

START_TEST(camera_frame_is_letterboxed_in_the_camera_rect_and_uploaded_per_generation)
{
	each_size(camera_frame);
}
END_TEST

START_TEST(landscape_window_draws_the_log_right_of_the_tablet)
{
	win *wp = open_win(1280, 720);
	ui_layout L;
	img im;

	ui_layout_compute(1280, 720, &L);
	ck_assert_int_ge(L.log.x, L.tablet.x + L.tablet.w);
	view_base(&V);
	V.log_n = 3;
	for (int i = 0; i < 3; i++) {
		V.log[i].up = i % 2 == 0;
		snprintf(V.log[i].kind, sizeof V.log[i].kind, "heartbeat");
		snprintf(V.log[i].summary, sizeof V.log[i].summary, "seq %d", i);
		V.log[i].status = i % 2 ? 200 : 0;
		V.log[i].color = i % 2 ? UI_COL_GREEN : UI_COL_TEXT;
	}
	V.log_selected = 0;
	shot(wp, &V, NULL, &im);
	ck_assert_double_gt(share(&im, L.log, UI_COL_PANEL), 0.5);
	/* the selected line's background, the reply's status in green */
	ck_assert_int_gt(count(&im, L.log, ui_rgb(UI_COL_BLUE), true), 500);
	ck_assert_int_gt(count(&im, L.log, ui_rgb(UI_COL_GREEN), true), 10);
	/* nothing of the log on the tablet */
	ck_assert_int_eq(count(&im, L.tablet, ui_rgb(UI_COL_BLUE), true), 0);
	img_free(&im);
	win_close(wp);
}
END_TEST

START_TEST(json_overlay_shows_the_start_of_the_message_and_pages_through_it)
{
	win *wp = open_win(540, 960);
	img im;
	char *p;

	view_base(&V);
	V.show_json = true;
	p = V.json;
	p += sprintf(p, "{\n\t\"cmd\":\t\"heartbeat\",\n");
	for (int i = 0; i < 300; i++)
		p += sprintf(p, "\t\"k%d\":\t%d,\n", i, i);
	sprintf(p, "\t\"end\":\ttrue\n}");
	shot(wp, &V, NULL, &im);
	/* it covers the window, its first lines drawn at the top */
	ck_assert_double_gt(share(&im, (ui_rect){0, 0, 540, 960}, UI_COL_PANEL),
			    0.6);
	ck_assert_int_gt(count(&im, (ui_rect){0, 40, 540, 120},
			       ui_rgb(UI_COL_TEXT), true), 50);

	/* Page Down shows other lines, Page Up the start again */
	{
		img down, up;
		SDL_Event e = {0};
		e.type = SDL_KEYDOWN;
		e.key.keysym.sym = SDLK_PAGEDOWN;
		ck_assert_int_ge(SDL_PushEvent(&e), 0);
		shot(wp, &V, NULL, &down);
		e.key.keysym.sym = SDLK_PAGEUP;
		ck_assert_int_ge(SDL_PushEvent(&e), 0);
		shot(wp, &V, NULL, &up);
		ck_assert(memcmp(im.px, down.px, (size_t)im.w * im.h * 3) != 0);
		ck_assert(memcmp(im.px, up.px, (size_t)im.w * im.h * 3) == 0);
		img_free(&down);
		img_free(&up);
	}
	img_free(&im);
	win_close(wp);
}
END_TEST

START_TEST(powered_off_tablet_is_black)
{
	win *wp = open_win(540, 960);
	ui_layout L;
	img im;

	ui_layout_compute(540, 960, &L);
	view_base(&V);
	snprintf(V.name, sizeof V.name, "Ada Lovelace");
	V.powered = false;
	shot(wp, &V, NULL, &im);
	ck_assert_double_gt(share(&im, L.camera, UI_COL_NONE), 0.99);
	ck_assert_int_eq(count(&im, L.identity, ui_rgb(UI_COL_NONE), false), 0);
	img_free(&im);
	win_close(wp);
}
END_TEST

START_TEST(steady_frame_renders_no_text_and_a_changed_text_renders_again)
{
	win *wp = open_win(540, 960);
	unsigned long r1, r2;

	view_base(&V);
	snprintf(V.name, sizeof V.name, "Ada Lovelace");
	V.help = true;
	ck_assert_int_eq(win_frame(wp, &V, NULL, NULL, NULL), 0);
	r1 = win_text_renders(wp);
	ck_assert_uint_gt(r1, 10);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(win_frame(wp, &V, NULL, NULL, NULL), 0);
	ck_assert_uint_eq(win_text_renders(wp), r1);
	snprintf(V.name, sizeof V.name, "Grace Hopper");
	ck_assert_int_eq(win_frame(wp, &V, NULL, NULL, NULL), 0);
	r2 = win_text_renders(wp);
	ck_assert_uint_gt(r2, r1);
	ck_assert_uint_le(r2, r1 + 3); /* the name, maybe at a fitted size */
	win_close(wp);
}
END_TEST

START_TEST(hostile_view_values_draw_without_harm)
{
	enum { HW = 64, HH = 48 };
	static unsigned char rgb[HW * HH * 3];
	win *wp = open_win(540, 960);
	win_camera bad = {rgb, HW, HH, HW, 1}; /* stride shorter than a row */
	win_camera cam = {rgb, HW, HH, HW * 3, 1};
	ui_layout L;
	img im;

	ui_layout_compute(540, 960, &L);
	view_base(&V);
	V.log_n = 100000;
	V.log_selected = 99999;
	V.banner = true;
	V.banner_color = UI_COL_RED;
	V.banner_alpha = NAN;
	V.pulse = -7;
	V.relay_on = true;
	V.relay_progress = 9;
	V.has_face = true;
	V.frame_w = HW;
	V.frame_h = HH;
	V.box[0] = NAN, V.box[1] = 1e30f, V.box[2] = -1e30f, V.box[3] = INFINITY;
	for (int i = 0; i < 68; i++)
		V.pts[i][0] = i % 2 ? NAN : -1e9f, V.pts[i][1] = 1e9f;
	V.show_json = true;
	memset(V.json, 'x', sizeof V.json - 1); /* one line, never ending */
	V.json[sizeof V.json - 1] = '\0';
	ck_assert_int_eq(win_frame(wp, &V, &bad, NULL, NULL), 0);
	V.show_json = false;
	shot(wp, &V, &cam, &im);
	/* nothing of the face is drawn, the camera shows the frame (black) */
	ck_assert_int_eq(count(&im, L.camera, ui_rgb(UI_COL_BLUE), true), 0);
	ck_assert_int_eq(count(&im, L.camera, ui_rgb(UI_COL_AMBER), true), 0);
	/* NaN alpha: no banner */
	ck_assert_int_eq(count(&im, L.banner, ui_rgb(UI_COL_RED), true), 0);
	img_free(&im);
	win_close(wp);
}
END_TEST

/* ---- input ---- */

#define MAX_ACTS 64
typedef struct acts {
	int n;
	ui_action a[MAX_ACTS];
	char arg[256];
} acts;

static void record(void *ud, ui_action a, const char *arg)
{
	acts *r = ud;
	if (r->n < MAX_ACTS)
		r->a[r->n++] = a;
	if (arg)
		snprintf(r->arg, sizeof r->arg, "%s", arg);
}

static void push_key(SDL_Keycode k, int repeat)
{
	SDL_Event e = {0};
	e.type = SDL_KEYDOWN;
	e.key.keysym.sym = k;
	e.key.repeat = (Uint8)repeat;
	ck_assert_int_ge(SDL_PushEvent(&e), 0);
}

static void push_key_up(SDL_Keycode k)
{
	SDL_Event e = {0};
	e.type = SDL_KEYUP;
	e.key.keysym.sym = k;
	ck_assert_int_ge(SDL_PushEvent(&e), 0);
}

static void push_text(const char *t)
{
	SDL_Event e = {0};
	e.type = SDL_TEXTINPUT;
	snprintf(e.text.text, sizeof e.text.text, "%s", t);
	ck_assert_int_ge(SDL_PushEvent(&e), 0);
}

static void push_click(int x, int y, int clicks)
{
	SDL_Event e = {0};
	e.type = SDL_MOUSEBUTTONDOWN;
	e.button.button = SDL_BUTTON_LEFT;
	e.button.x = x;
	e.button.y = y;
	e.button.clicks = (Uint8)clicks;
	ck_assert_int_ge(SDL_PushEvent(&e), 0);
}

START_TEST(keys_text_and_dropped_files_become_actions)
{
	win *wp = open_win(540, 960);
	acts r = {0};
	SDL_Event e = {0};

	view_base(&V);
	push_key(SDLK_RIGHT, 0);
	push_key(SDLK_s, 0);
	push_key(SDLK_s, 1);      /* a held toggle key does not repeat */
	push_key(SDLK_DOWN, 1);   /* a held log key does */
	push_key_up(SDLK_DOWN);
	push_text("?");           /* typed, whatever the layout's key */
	push_text("s");           /* a letter's text is not a second press */
	push_text("=");
	e.type = SDL_DROPFILE;
	e.drop.file = SDL_strdup("/tmp/some picture.jpg");
	ck_assert_int_ge(SDL_PushEvent(&e), 0);
	ck_assert_int_eq(win_frame(wp, &V, NULL, record, &r), 0);
	ck_assert_int_eq(r.n, 6);
	ck_assert_int_eq(r.a[0], UI_ACT_NEXT);
	ck_assert_int_eq(r.a[1], UI_ACT_STRANGER);
	ck_assert_int_eq(r.a[2], UI_ACT_LOG_DOWN);
	ck_assert_int_eq(r.a[3], UI_ACT_HELP);
	ck_assert_int_eq(r.a[4], UI_ACT_TEMP_UP);
	ck_assert_int_eq(r.a[5], UI_ACT_DROP);
	ck_assert_str_eq(r.arg, "/tmp/some picture.jpg");

	/* a bound key whose text is bound too acts once ("Keypad -" types
	 * "-"); a key that typed nothing does not swallow the next text */
	r.n = 0;
	push_key(SDLK_KP_MINUS, 0);
	push_text("-");
	push_key_up(SDLK_KP_MINUS);
	push_key(SDLK_RIGHT, 0);
	push_key_up(SDLK_RIGHT);
	push_text("?");
	ck_assert_int_eq(win_frame(wp, &V, NULL, record, &r), 0);
	ck_assert_int_eq(r.n, 3);
	ck_assert_int_eq(r.a[0], UI_ACT_TEMP_DOWN);
	ck_assert_int_eq(r.a[1], UI_ACT_NEXT);
	ck_assert_int_eq(r.a[2], UI_ACT_HELP);

	/* Q asks to quit; so does closing the window */
	r.n = 0;
	push_key(SDLK_q, 0);
	ck_assert_int_eq(win_frame(wp, &V, NULL, record, &r), 1);
	ck_assert_int_eq(r.n, 0);
	memset(&e, 0, sizeof e);
	e.type = SDL_QUIT;
	ck_assert_int_ge(SDL_PushEvent(&e), 0);
	ck_assert_int_eq(win_frame(wp, &V, NULL, record, &r), 1);
	win_close(wp);
}
END_TEST

START_TEST(click_on_a_log_line_moves_the_selection_there_and_double_click_opens_json)
{
	win *wp = open_win(1280, 720);
	ui_layout L;
	acts r = {0};
	int px, row_h, y0;

	ui_layout_compute(1280, 720, &L);
	view_base(&V);
	V.log_n = 10;
	for (int i = 0; i < 10; i++) {
		snprintf(V.log[i].kind, sizeof V.log[i].kind, "line %d", i);
		V.log[i].color = UI_COL_TEXT;
	}
	V.log_selected = 7;
	/* rows as docs/demo.md "Window" states: a header, then lines of
	 * font_small * 4 / 3 from the oldest shown */
	px = L.font_small;
	row_h = px + px / 3;
	y0 = L.log.y + row_h + px / 4;
	push_click(L.log.x + 20, y0 + 2 * row_h + row_h / 2, 1);
	ck_assert_int_eq(win_frame(wp, &V, NULL, record, &r), 0);
	ck_assert_int_eq(r.n, 5); /* from line 7 to line 2 */
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(r.a[i], UI_ACT_LOG_UP);

	r.n = 0;
	V.log_selected = 2;
	push_click(L.log.x + 20, y0 + 4 * row_h + row_h / 2, 2);
	ck_assert_int_eq(win_frame(wp, &V, NULL, record, &r), 0);
	ck_assert_int_eq(r.n, 3);
	ck_assert_int_eq(r.a[0], UI_ACT_LOG_DOWN);
	ck_assert_int_eq(r.a[1], UI_ACT_LOG_DOWN);
	ck_assert_int_eq(r.a[2], UI_ACT_JSON);

	/* a click outside the log or below its last line does nothing */
	r.n = 0;
	push_click(L.tablet.x + 10, L.tablet.y + 10, 1);
	push_click(L.log.x + 20, y0 + 12 * row_h, 1);
	ck_assert_int_eq(win_frame(wp, &V, NULL, record, &r), 0);
	ck_assert_int_eq(r.n, 0);
	win_close(wp);
}
END_TEST

START_TEST(f11_makes_the_window_fill_the_screen_laid_out_anew_and_back)
{
	win *wp = open_win(540, 960);
	acts r = {0};
	int pw = 0, ph = 0;

	view_base(&V);
	push_key(SDLK_F11, 0);
	/* the X server answers the resize asynchronously */
	for (int i = 0; i < 200 && !(pw == 1280 && ph == 1024); i++) {
		ck_assert_int_eq(win_frame(wp, &V, NULL, record, &r), 0);
		win_size(wp, &pw, &ph);
		SDL_Delay(10);
	}
	ck_assert_int_eq(pw, 1280);
	ck_assert_int_eq(ph, 1024);
	ck_assert_int_eq(r.n, 0); /* handled by the window, not passed on */
	/* the new size is laid out: a landscape frame, its banner where
	 * the layout of 1280 x 1024 puts it */
	{
		ui_layout L;
		img im;
		ui_layout_compute(1280, 1024, &L);
		V.banner = true;
		V.banner_color = UI_COL_RED;
		V.banner_alpha = 1;
		snprintf(V.banner_title, sizeof V.banner_title, "DENIED");
		shot(wp, &V, NULL, &im);
		ck_assert_int_eq(im.w, 1280);
		ck_assert_int_eq(im.h, 1024);
		ck_assert_double_gt(share(&im, L.banner, UI_COL_RED), 0.5);
		img_free(&im);
		V.banner = false;
	}
	push_key(SDLK_F11, 0);
	for (int i = 0; i < 200 && !(pw == 540 && ph == 960); i++) {
		ck_assert_int_eq(win_frame(wp, &V, NULL, record, &r), 0);
		win_size(wp, &pw, &ph);
		SDL_Delay(10);
	}
	ck_assert_int_eq(pw, 540);
	ck_assert_int_eq(ph, 960);
	win_close(wp);
}
END_TEST

START_TEST(stats_report_the_frame_rate_of_the_last_frames)
{
	win *wp = open_win(540, 960);
	double fps, p99;

	view_base(&V);
	win_stats(wp, &fps, &p99);
	ck_assert(fps == 0 && p99 == 0);
	for (int i = 0; i < 12; i++) {
		ck_assert_int_eq(win_frame(wp, &V, NULL, NULL, NULL), 0);
		SDL_Delay(20);
	}
	win_stats(wp, &fps, &p99);
	/* 20 ms apart at least: at most 50 frames a second */
	ck_assert_msg(fps > 0 && fps <= 50.5, "fps %.1f", fps);
	ck_assert_msg(p99 >= 20 && p99 >= 1000 / fps - 0.5, "p99 %.1f ms", p99);
	win_close(wp);
}
END_TEST

/* ---- errors ---- */

START_TEST(missing_font_is_an_error_naming_the_path_and_make_deps)
{
	win_opts o = {.font = "/nonexistent/camsim/NoSuchFont.ttf"};
	win *wp = (win *)1;
	char err[512] = "";

	need_display();
	ck_assert_int_eq(win_open(&o, &wp, err, sizeof err), SIM_ENOTFOUND);
	ck_assert_ptr_null(wp);
	ck_assert_msg(strstr(err, "/nonexistent/camsim/NoSuchFont.ttf") &&
		      strstr(err, "make deps"), "%s", err);
}
END_TEST

START_TEST(no_display_is_an_error_saying_so)
{
	win *wp = (win *)1;
	char err[512] = "", *saved = strdup(getenv("DISPLAY") ? getenv("DISPLAY") : "");
	int rc;

	unsetenv("DISPLAY");
	unsetenv("WAYLAND_DISPLAY");
	unsetenv("SDL_VIDEODRIVER");
	rc = win_open(NULL, &wp, err, sizeof err);
	ck_assert_int_eq(rc, SIM_ESTATE);
	ck_assert_ptr_null(wp);
	ck_assert_msg(strstr(err, "DISPLAY is not set") && strstr(err, "xvfb-run"),
		      "%s", err);
	/* a display nobody serves */
	setenv("DISPLAY", ":64999", 1);
	rc = win_open(NULL, &wp, err, sizeof err);
	ck_assert_int_eq(rc, SIM_ESTATE);
	ck_assert_msg(strstr(err, ":64999") && strstr(err, "Xvfb"), "%s", err);
	/* a Wayland display nobody serves: SDL would fall back to its
	 * offscreen driver and show the window nowhere */
	unsetenv("DISPLAY");
	setenv("WAYLAND_DISPLAY", "camsim-no-such-wayland", 1);
	rc = win_open(NULL, &wp, err, sizeof err);
	ck_assert_int_eq(rc, SIM_ESTATE);
	ck_assert_ptr_null(wp);
	ck_assert_msg(strstr(err, "camsim-no-such-wayland") &&
		      strstr(err, "cannot open the display"), "%s", err);
	unsetenv("WAYLAND_DISPLAY");
	setenv("DISPLAY", saved, 1);
	free(saved);
}
END_TEST

START_TEST(screenshot_errors_name_the_path)
{
	win *wp = open_win(540, 960);
	char err[512] = "";

	ck_assert_int_eq(win_screenshot(wp, "/tmp/never.png", err, sizeof err),
			 SIM_ESTATE);
	ck_assert_msg(strstr(err, "/tmp/never.png"), "%s", err);
	view_base(&V);
	ck_assert_int_eq(win_frame(wp, &V, NULL, NULL, NULL), 0);
	ck_assert_int_eq(win_screenshot(wp, "/nonexistent/dir/s.png", err,
					sizeof err), SIM_EIO);
	ck_assert_msg(strstr(err, "/nonexistent/dir/s.png") &&
		      strstr(err, "No such file"), "%s", err);
	win_close(wp);
}
END_TEST

/* Under ASan (LeakSanitizer): D-Bus keeps its connection's buffers to
 * the end (SDL leaves dbus_shutdown to the application, which must not
 * call it if anything else uses D-Bus); that library's allocations only
 * are not reported.  Ours are: the pattern names no camsim code. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libdbus-1.so\n";
}

/* SDL loads the X11, GL and D-Bus libraries itself and unloads them when
 * it quits; what they still held then was reported as leaked from an
 * unknown module, ours or not.  Loaded here once with RTLD_NODELETE, they
 * stay, and what they hold stays reachable. */
static void libs_keep(void)
{
	static const char *libs[] = {"libX11.so.6", "libXext.so.6",
				     "libXcursor.so.1", "libXi.so.6",
				     "libXfixes.so.3", "libXrandr.so.2",
				     "libXss.so.1", "libdbus-1.so.3",
				     "libGL.so.1", "libGLX_mesa.so.0",
				     "libglapi.so.0",
				     "/usr/lib/x86_64-linux-gnu/dri/swrast_dri.so"};
	for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++)
		dlopen(libs[i], RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE);
}

int main(void)
{
	Suite *s = suite_create("win");
	TCase *d = tcase_create("draw");
	TCase *in = tcase_create("input");
	TCase *e = tcase_create("errors");
	int rc;

	libs_keep();
	/* Mesa's llvmpipe (OpenGL on Xvfb) rasterises on threads of its own
	 * and keeps a shader cache thread; LeakSanitizer's stop-the-world at
	 * a test's exit crashed now and then while they ran ("Tracer caught
	 * signal 11").  One thread and no disk cache render the same pixels. */
	setenv("LP_NUM_THREADS", "0", 0);
	setenv("MESA_SHADER_CACHE_DISABLE", "true", 0);
	if (xvfb_start(&X, 1280, 1024, xvfb_err, sizeof xvfb_err) < 0)
		fprintf(stderr, "check_win: %s\n", xvfb_err);
	/* SDL and X11 start slowly under ASan and valgrind */
	tcase_set_timeout(d, 120);
	tcase_set_timeout(in, 120);
	tcase_set_timeout(e, 120);
	tcase_add_test(d, banner_is_red_for_denied_and_green_for_pass_in_its_rect);
	tcase_add_test(d, name_area_has_text_pixels_only_when_a_name_is_set);
	tcase_add_test(d, network_dot_is_red_offline_and_green_online);
	tcase_add_test(d, readings_take_their_colours_and_the_pulse_is_blue);
	tcase_add_test(d, help_overlay_covers_the_tablet_and_lists_the_keys);
	tcase_add_test(d, camera_frame_is_letterboxed_in_the_camera_rect_and_uploaded_per_generation);
	tcase_add_test(d, landscape_window_draws_the_log_right_of_the_tablet);
	tcase_add_test(d, json_overlay_shows_the_start_of_the_message_and_pages_through_it);
	tcase_add_test(d, powered_off_tablet_is_black);
	tcase_add_test(d, steady_frame_renders_no_text_and_a_changed_text_renders_again);
	tcase_add_test(d, hostile_view_values_draw_without_harm);
	tcase_add_test(in, keys_text_and_dropped_files_become_actions);
	tcase_add_test(in, click_on_a_log_line_moves_the_selection_there_and_double_click_opens_json);
	tcase_add_test(in, f11_makes_the_window_fill_the_screen_laid_out_anew_and_back);
	tcase_add_test(in, stats_report_the_frame_rate_of_the_last_frames);
	tcase_add_test(e, missing_font_is_an_error_naming_the_path_and_make_deps);
	tcase_add_test(e, no_display_is_an_error_saying_so);
	tcase_add_test(e, screenshot_errors_name_the_path);
	suite_add_tcase(s, d);
	suite_add_tcase(s, in);
	suite_add_tcase(s, e);
	rc = tu_run(s);
	xvfb_stop(&X);
	return rc;
}
