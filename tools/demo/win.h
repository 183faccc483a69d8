/* win.h -- the demo's window: the only code that touches SDL2 and
 * SDL2_ttf.  Turns a ui_view (ui.h) and a camera frame into one whole
 * frame presented once, and SDL's input into ui_actions.  Knows nothing
 * of devices, servers or threads: demo.c calls it from the main thread. */
#ifndef CAMSIM_WIN_H
#define CAMSIM_WIN_H

#include "ui.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct win win;

typedef struct win_opts {
	int w, h;          /* initial size in points (default 540 x 960) */
	bool fullscreen;
	const char *title; /* default "camsim demo" */
	const char *font;  /* a TTF file; NULL: the DejaVu Sans that
			      fonts-dejavu-core installs */
} win_opts;

/* The camera frame, RGB24 rows of stride bytes; owned by the caller and
 * read only during win_frame.  gen changes when the pixels change (the
 * texture is uploaded again only then).  rgb NULL: no frame yet. */
typedef struct win_camera {
	const unsigned char *rgb;
	int w, h, stride;
	uint64_t gen;
} win_camera;

/* An action from the keyboard, the mouse or a dropped file.  arg is the
 * dropped file's path for UI_ACT_DROP (valid during the call), else NULL. */
typedef void (*win_action_cb)(void *ud, ui_action a, const char *arg);

/* Opens the window (resizable, HiDPI-aware).  SIM_E* with a sentence in
 * err: SIM_ESTATE no display (DISPLAY unset, or nothing answers on it),
 * SIM_ENOTFOUND the font cannot be opened (its path; make deps),
 * SIM_EIO / SIM_ENOMEM an SDL failure.  One window at a time. */
int win_open(const win_opts *o, win **out, char *err, size_t errlen);

/* One frame: handles pending input (calling cb for each action, F11 and
 * resizes handled here too), draws v and cam whole, presents once.
 * Returns 1 when the user closed the window or asked to quit, 0, or
 * SIM_E* on failure.  UI_ACT_FULLSCREEN and UI_ACT_QUIT are handled here
 * and not passed to cb; a click on a log line passes the LOG_UP/LOG_DOWN
 * actions that move v's selection there (a double click JSON after them);
 * the mouse wheel and Page Up/Down scroll the JSON overlay. */
int win_frame(win *w, const ui_view *v, const win_camera *cam,
	      win_action_cb cb, void *ud);

/* The last presented frame as a PNG file at output-pixel size.  SIM_E*
 * with a sentence in err naming the path: SIM_ESTATE before the first
 * frame, SIM_EIO when it cannot be read or written. */
int win_screenshot(win *w, const char *path, char *err, size_t errlen);

/* Output size in pixels (HiDPI pixels). */
void win_size(const win *w, int *pw, int *ph);

/* The frame rate over the last frames (up to WIN_STATS_FRAMES intervals
 * between presents): frames per second, and the 99th percentile of those
 * intervals in ms.  0 and 0 before two frames. */
#define WIN_STATS_FRAMES 240
void win_stats(const win *w, double *fps, double *p99_frame_ms);

/* Test hook: text textures rendered since win_open (the text cache's
 * misses); a steady frame adds none. */
unsigned long win_text_renders(const win *w);

void win_close(win *w);

#endif
