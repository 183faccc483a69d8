/* ui.h -- what the demo window shows (issue 16), as a pure function of
 * the simulated device's events, face passes and exchanges.  No SDL, no
 * I/O, no threads, no clock of its own: the caller passes the time and
 * serialises calls (demo.c holds a mutex); win.c turns a ui_view into
 * pixels.  Owns the protocol log's copies of message bodies. */
#ifndef CAMSIM_UI_H
#define CAMSIM_UI_H

#include "device.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ui_state ui_state;

/* ---- colours: a fixed palette, so tests can find them in pixels ---- */

#define UI_COLOR_MAP(X)                                                       \
	X(NONE, 0x000000)   /* nothing drawn */                              \
	X(BG, 0x101418)     /* the tablet's screen */                        \
	X(PANEL, 0x1c232b)  /* panels */                                     \
	X(TEXT, 0xf2f5f7)   /* normal text */                                \
	X(DIM, 0x8a96a3)    /* secondary text */                             \
	X(GREEN, 0x1fa84f)  /* pass, normal temperature, online */           \
	X(RED, 0xd7263d)    /* denied, fever, offline */                     \
	X(AMBER, 0xf0a202)  /* warnings: no face, mask missing, waiting */   \
	X(BLUE, 0x2d7dd2)   /* heartbeat pulse, selection */                 \
	X(GREY, 0x56606b)   /* idle, off */

typedef enum ui_color {
#define UI_COLOR_ENUM(e, rgb) UI_COL_##e,
	UI_COLOR_MAP(UI_COLOR_ENUM)
#undef UI_COLOR_ENUM
	UI_COL_COUNT
} ui_color;

/* 0xRRGGBB of c (0 for an unknown value). */
uint32_t ui_rgb(ui_color c);

/* ---- actions: what a key, a click or the story asks for ---- */

#define UI_ACTION_MAP(X)                                                      \
	X(NONE, "none")                                                      \
	X(NEXT, "next person from faces/")                                   \
	X(PREV, "previous person from faces/")                               \
	X(STRANGER, "a stranger")                                            \
	X(DROP, "the picture file dropped on the window (arg: its path)")    \
	X(TEMP_UP, "temperature +0.2 °C")                                    \
	X(TEMP_DOWN, "temperature -0.2 °C")                                  \
	X(FEVER, "next person has a fever (38.6 °C)")                        \
	X(MASK, "mask on / off")                                             \
	X(DOOR, "door open / closed")                                        \
	X(NET, "network down / up")                                          \
	X(POWER, "power cycle")                                              \
	X(PAUSE, "pause / resume the story")                                 \
	X(LOG_UP, "select the previous log line")                            \
	X(LOG_DOWN, "select the next log line")                              \
	X(JSON, "show / hide the selected message's JSON")                   \
	X(HELP, "show / hide this help")                                     \
	X(FULLSCREEN, "full screen on / off")                                \
	X(QUIT, "quit")

typedef enum ui_action {
#define UI_ACTION_ENUM(e, help) UI_ACT_##e,
	UI_ACTION_MAP(UI_ACTION_ENUM)
#undef UI_ACTION_ENUM
	UI_ACT_COUNT
} ui_action;

/* Help sentence of a (static storage; "" for an unknown value). */
const char *ui_action_help(ui_action a);

/* The key map: key names as SDL_GetKeyFromName spells them ("Right",
 * "S", "F11", "?"), shown by the help overlay in this order.  An action
 * may have several keys. */
typedef struct ui_key {
	const char *key;
	ui_action action;
} ui_key;
extern const ui_key ui_keys[];
extern const size_t ui_nkeys;

/* ---- layout: a stated grid (docs/demo.md), pure arithmetic ---- */

typedef struct ui_rect {
	int x, y, w, h;
} ui_rect;

/* Where everything goes in a window of w x h output pixels (HiDPI
 * pixels, not points).  Portrait: the tablet's screen is centred with a
 * 9:16 aspect and letterboxed in BG; landscape windows put the protocol
 * log to the right of the tablet.  Every rect lies inside the window;
 * font sizes are in output pixels (they scale with the tablet). */
typedef struct ui_layout {
	ui_rect tablet;   /* the whole simulated screen */
	ui_rect status;   /* top bar: server, network, heartbeat pulse */
	ui_rect camera;   /* camera view (frame letterboxed inside) */
	ui_rect banner;   /* Pass / Denied banner */
	ui_rect identity; /* name and similarity */
	ui_rect readings; /* temperature and mask */
	ui_rect voice;    /* the voice prompt as text */
	ui_rect hw;       /* relay and door */
	ui_rect log;      /* protocol log */
	ui_rect step;     /* story / scenario step caption */
	int font_big, font_mid, font_small; /* pixel heights */
} ui_layout;

void ui_layout_compute(int w, int h, ui_layout *out);

/* ---- the state ---- */

/* server_url is copied.  NULL when out of memory. */
ui_state *ui_new(const char *server_url);
void ui_free(ui_state *s);

/* The device recorded ev; now_ms is the caller's monotonic clock (ms),
 * the time base of every animation (the device clock may be scaled). */
void ui_event(ui_state *s, const dev_event *ev, int64_t now_ms);
/* A face event ended: identity, readings, banner, face box. */
void ui_pass(ui_state *s, const dev_pass *p, int64_t now_ms);
/* An exchange ended: a log line each way (request, reply), with bodies
 * copied (at most UI_BODY_MAX bytes each, marked truncated beyond). */
#define UI_BODY_MAX 16384
void ui_exchange(ui_state *s, const dev_exchange *x, int64_t now_ms);
/* Offline records waiting (sampled by the caller, dev_offline_records). */
void ui_offline(ui_state *s, int64_t records);
/* A new camera frame (w x h) is shown: the old face box goes. */
void ui_frame(ui_state *s, int w, int h, int64_t now_ms);
/* The caption of the story or scenario step ("" for none); copied. */
void ui_step(ui_state *s, const char *text);
/* Actions that change only what is shown (HELP, JSON, LOG_UP, LOG_DOWN,
 * PAUSE's indicator); others are ignored here. */
void ui_local(ui_state *s, ui_action a);

/* ---- the view: everything one frame draws, self-contained ---- */

#define UI_VIEW_LOG 64   /* newest log lines in a view */

typedef struct ui_log_line {
	int64_t t;        /* now_ms when it happened */
	bool up;          /* device -> server (else server -> device) */
	char kind[40];    /* "heartbeat", "snapshot", "add_face reply" ... */
	char summary[96]; /* short: "3 commands", "person 1002 passed" */
	int status;       /* HTTP status, 0 for none / not sent */
	ui_color color;   /* GREEN 2xx, RED failed, AMBER other, TEXT up */
} ui_log_line;

typedef struct ui_view {
	bool powered;
	/* camera */
	uint64_t frame_gen;       /* changes with every ui_frame */
	int frame_w, frame_h;
	bool has_face;
	float box[4];
	float pts[68][2];
	/* identity and readings ("" = nothing to show) */
	char name[64];            /* the person's name, or "Stranger" */
	char similarity[32];      /* "similarity 87 %" */
	char temperature[32];     /* "36.6 °C" */
	ui_color temp_color;      /* GREEN normal, RED high */
	char mask[32];            /* "mask on" / "no mask" */
	ui_color mask_color;      /* GREEN fine, AMBER broken rule */
	/* banner */
	bool banner;
	ui_color banner_color;    /* GREEN pass, RED denied, AMBER no face */
	char banner_title[24];    /* "PASS", "DENIED", "NO FACE" */
	char banner_reason[96];
	double banner_alpha;      /* 1 for 4 s after the pass, fades to 0 */
	char voice[96];           /* the last prompt, "" after 5 s */
	/* relay and door */
	bool relay_on;
	double relay_progress;    /* 0..1 of the pulse elapsed, -1 idle */
	bool door_open;
	/* network */
	char server[128];
	bool online;              /* network up and the last exchange answered */
	ui_color net_color;       /* GREEN online, RED offline, GREY off */
	char net_text[48];        /* "online", "network down", "no answer" */
	char last[96];            /* "heartbeat 200, 1.2 s ago" */
	int64_t offline_records;
	double pulse;             /* 1 at a heartbeat's reply, 0 after 800 ms */
	/* log: the newest lines, oldest first; selected -1 or an index */
	int log_n;
	ui_log_line log[UI_VIEW_LOG];
	int log_selected;
	bool show_json;
	char json[UI_BODY_MAX + 256]; /* the selected message pretty-printed
					 (a header line, the kept body as
					 text when it is not JSON, a note
					 on what was cut) */
	/* overlays and captions */
	bool help;
	bool paused;
	char step[96];
} ui_view;

/* What a frame at now_ms shows.  v is large (about 28 KiB): keep one. */
void ui_view_build(const ui_state *s, int64_t now_ms, ui_view *v);

#endif
