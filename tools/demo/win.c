/* win.c -- the demo's window (win.h): the only file that includes SDL2 and
 * SDL2_ttf.  Owns the window, the renderer, the fonts, the text texture
 * cache and the camera texture; draws a ui_view into an off-screen target
 * that is copied to the window and kept for win_screenshot.  Must not know
 * devices, servers or threads, nor change what a view says. */
#include "win.h"

#include "sim_err.h"

#include <SDL.h>
#include <SDL_ttf.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stb_image_write.h>

/* fonts-dejavu-core's files (make deps installs the package) */
#define WIN_FONT_DIR "/usr/share/fonts/truetype/dejavu/"
#define WIN_FONT_SANS WIN_FONT_DIR "DejaVuSans.ttf"
#define WIN_FONT_BOLD WIN_FONT_DIR "DejaVuSans-Bold.ttf"
#define WIN_FONT_MONO WIN_FONT_DIR "DejaVuSansMono.ttf"

enum { FACE_SANS, FACE_BOLD, FACE_MONO, FACE_COUNT };

/* Open fonts, one per face and pixel size: a resize asks for new sizes,
 * and the least recently used one is closed when the table is full. */
#define WIN_FONTS 16
typedef struct wfont {
	TTF_Font *f;
	int face, px;
	uint64_t used;
} wfont;

/* A rendered text, cached by (text, face, size, colour): a frame whose
 * texts did not change renders none.  Entries not drawn for
 * TEXT_KEEP_FRAMES are freed, so changing texts ("1.2 s ago") do not
 * accumulate. */
#define TEXT_BUCKETS 1024
#define TEXT_KEEP_FRAMES 120
#define TEXT_MAX 4096 /* entries; beyond it the unused ones go at once */
typedef struct wtext {
	struct wtext *next;
	uint32_t hash, rgb;
	int face, px;
	SDL_Texture *tex;
	int w, h;
	uint64_t used;
	char s[];
} wtext;

/* Rows of the log panel: where they are, which line is first. */
typedef struct log_geo {
	int x, y, w, row_h, rows, first, px;
	int n, sel; /* the view's log_n and log_selected, within bounds */
} log_geo;

struct win {
	SDL_Window *sw;
	SDL_Renderer *r;
	SDL_Texture *target;   /* the whole frame, kept for screenshots */
	int tw, th;            /* its size */
	bool drawn;            /* target holds a presented frame */
	bool fullscreen;
	int win_w, win_h;      /* points, before going full screen */
	int pw, ph;            /* output pixels */
	ui_layout L;
	char font_path[FACE_COUNT][1024];
	wfont fonts[WIN_FONTS];
	wtext *text[TEXT_BUCKETS];
	size_t ntext;
	unsigned long renders;
	uint64_t frame;        /* frames drawn */
	SDL_Texture *cam;
	int cam_w, cam_h;
	uint64_t cam_gen;
	/* keys: ui_keys resolved, keycodes or typed text ('?' arrives as
	 * text, whatever the layout's keycode for it is) */
	SDL_Keycode *keycode;
	bool key_acted;        /* the key down being held acted */
	/* JSON overlay scroll, in lines; reset when the text changes */
	int json_scroll;
	uint32_t json_hash;
	int json_rows;         /* lines that fit, for Page Up/Down */
	/* frame intervals for win_stats */
	uint64_t stamp[WIN_STATS_FRAMES + 1];
	int nstamp, stamp_at;
};

/* ---- small helpers ---- */

static void say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint32_t hash_str(const char *s, uint32_t h)
{
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void set_color(win *w, uint32_t rgb, int alpha)
{
	SDL_SetRenderDrawColor(w->r, (rgb >> 16) & 255, (rgb >> 8) & 255,
			       rgb & 255, (Uint8)alpha);
}

static SDL_Rect sdl_rect(ui_rect a)
{
	SDL_Rect s = {a.x, a.y, a.w, a.h};
	return s;
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Whether a coordinate lies on a frame of size n (ends included). */
static bool in_frame(float c, int n)
{
	return isfinite(c) && c >= 0 && c <= (float)n;
}

/* A fraction from a view: NaN and what is outside 0..1 clamped. */
static double unit(double f)
{
	return f > 0 ? (f < 1 ? f : 1) : 0;
}

/* ---- fonts ---- */

/* The font of face at px pixels of line height (the layout's sizes are
 * heights, TTF's are em sizes: DejaVu's line is about 1.16 em). */
static TTF_Font *font_get(win *w, int face, int px)
{
	wfont *slot = &w->fonts[0];
	TTF_Font *f;
	int h;

	px = clampi(px, 4, 1024);
	for (int i = 0; i < WIN_FONTS; i++) {
		wfont *c = &w->fonts[i];
		if (c->f && c->face == face && c->px == px) {
			c->used = w->frame + 1;
			return c->f;
		}
		if (!c->f || (slot->f && c->used < slot->used))
			slot = c;
	}
	f = TTF_OpenFont(w->font_path[face], px);
	if (!f)
		return NULL;
	h = TTF_FontHeight(f);
	if (h > px)
		TTF_SetFontSize(f, px * px / h > 3 ? px * px / h : 3);
	if (slot->f)
		TTF_CloseFont(slot->f);
	slot->f = f;
	slot->face = face;
	slot->px = px;
	slot->used = w->frame + 1;
	return f;
}

/* ---- the text cache ---- */

static void text_free(wtext *t)
{
	if (t->tex)
		SDL_DestroyTexture(t->tex);
	free(t);
}

/* Frees entries not drawn since frame `before`. */
static void text_sweep(win *w, uint64_t before)
{
	for (int b = 0; b < TEXT_BUCKETS; b++) {
		wtext **pp = &w->text[b];
		while (*pp) {
			wtext *t = *pp;
			if (t->used < before) {
				*pp = t->next;
				text_free(t);
				w->ntext--;
			} else {
				pp = &t->next;
			}
		}
	}
}

/* The texture of s in face/px/rgb, rendered on a miss; NULL for "" or on
 * failure (a text that cannot be drawn is left out, the frame goes on). */
static wtext *text_get(win *w, int face, int px, uint32_t rgb, const char *s)
{
	uint32_t h = hash_str(s, 2166136261u ^ (uint32_t)(face * 131 + px) ^
				 (rgb * 2654435761u));
	wtext **head = &w->text[h % TEXT_BUCKETS], *t;
	SDL_Surface *surf;
	SDL_Color c = {(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255, 255};
	TTF_Font *f;
	size_t n;

	if (!s || !*s)
		return NULL;
	for (t = *head; t; t = t->next)
		if (t->hash == h && t->face == face && t->px == px &&
		    t->rgb == rgb && !strcmp(t->s, s)) {
			t->used = w->frame + 1;
			return t;
		}
	if (!(f = font_get(w, face, px)))
		return NULL;
	if (w->ntext >= TEXT_MAX)
		text_sweep(w, w->frame + 1);
	n = strlen(s);
	if (!(t = calloc(1, sizeof *t + n + 1)))
		return NULL;
	memcpy(t->s, s, n + 1);
	t->hash = h;
	t->face = face;
	t->px = px;
	t->rgb = rgb;
	t->used = w->frame + 1;
	surf = TTF_RenderUTF8_Blended(f, s, c);
	w->renders++;
	if (surf) {
		t->tex = SDL_CreateTextureFromSurface(w->r, surf);
		t->w = surf->w;
		t->h = surf->h;
		SDL_FreeSurface(surf);
	}
	if (!t->tex) {
		free(t);
		return NULL;
	}
	SDL_SetTextureBlendMode(t->tex, SDL_BLENDMODE_BLEND);
	t->next = *head;
	*head = t;
	w->ntext++;
	return t;
}

enum { AL_LEFT, AL_CENTER, AL_RIGHT };

/* Draws s with its top at y inside [x, x + maxw), aligned, cut at the
 * right edge when wider; returns the width drawn. */
static int text_draw(win *w, int face, int px, ui_color col, int alpha,
		     const char *s, int x, int y, int maxw, int align)
{
	wtext *t = text_get(w, face, px, ui_rgb(col), s);
	SDL_Rect src, dst;
	int dw;

	if (!t || maxw <= 0)
		return 0;
	dw = t->w < maxw ? t->w : maxw;
	if (align == AL_CENTER)
		x += (maxw - dw) / 2;
	else if (align == AL_RIGHT)
		x += maxw - dw;
	src = (SDL_Rect){0, 0, dw, t->h};
	dst = (SDL_Rect){x, y, dw, t->h};
	SDL_SetTextureAlphaMod(t->tex, (Uint8)clampi(alpha, 0, 255));
	SDL_RenderCopy(w->r, t->tex, &src, &dst);
	return dw;
}

/* The same, vertically centred in r (left edge r.x + pad). */
static int text_in(win *w, int face, int px, ui_color col, const char *s,
		   ui_rect r, int pad, int align)
{
	wtext *t = text_get(w, face, px, ui_rgb(col), s);
	if (!t)
		return 0;
	return text_draw(w, face, px, col, 255, s, r.x + pad,
			 r.y + (r.h - t->h) / 2, r.w - 2 * pad, align);
}

/* The largest size up to px at which s fits in maxw (one re-render per
 * new size; the result is cached like any text). */
static int text_fit(win *w, int face, int px, const char *s, int maxw)
{
	wtext *t = text_get(w, face, px, ui_rgb(UI_COL_TEXT), s);
	if (t && t->w > maxw && maxw > 0)
		px = px * maxw / t->w;
	return px < 4 ? 4 : px;
}

/* ---- primitives ---- */

static void fill(win *w, ui_rect r, ui_color c, int alpha)
{
	SDL_Rect s = sdl_rect(r);
	set_color(w, ui_rgb(c), alpha);
	SDL_RenderFillRect(w->r, &s);
}

static void outline(win *w, ui_rect r, int t, ui_color c)
{
	fill(w, (ui_rect){r.x, r.y, r.w, t}, c, 255);
	fill(w, (ui_rect){r.x, r.y + r.h - t, r.w, t}, c, 255);
	fill(w, (ui_rect){r.x, r.y, t, r.h}, c, 255);
	fill(w, (ui_rect){r.x + r.w - t, r.y, t, r.h}, c, 255);
}

static SDL_Vertex vert(float x, float y, uint32_t rgb, int alpha)
{
	SDL_Vertex v = {{x, y},
			{(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255,
			 (Uint8)alpha},
			{0, 0}};
	return v;
}

/* A ring between radii r0 < r1 from angle a0 to a1 (radians, 0 = right,
 * clockwise on screen); r0 = 0 is a filled disc or sector. */
static void arc(win *w, float cx, float cy, float r0, float r1, float a0,
		float a1, ui_color c, int alpha)
{
	enum { SEG_MAX = 32 };
	SDL_Vertex v[(SEG_MAX + 1) * 2];
	int idx[SEG_MAX * 6], k = 0;
	uint32_t rgb = ui_rgb(c);
	/* segments by size: a landmark dot of 2 pixels needs no 32 */
	int seg = r1 < 4 ? 8 : r1 < 12 ? 16 : SEG_MAX;

	for (int i = 0; i <= seg; i++) {
		float a = a0 + (a1 - a0) * (float)i / seg;
		v[2 * i] = vert(cx + r0 * cosf(a), cy + r0 * sinf(a), rgb, alpha);
		v[2 * i + 1] = vert(cx + r1 * cosf(a), cy + r1 * sinf(a), rgb,
				    alpha);
	}
	for (int i = 0; i < seg; i++) {
		int a = 2 * i, b = a + 1, c2 = a + 2, d = a + 3;
		idx[k++] = a, idx[k++] = b, idx[k++] = d;
		idx[k++] = a, idx[k++] = d, idx[k++] = c2;
	}
	SDL_RenderGeometry(w->r, NULL, v, (seg + 1) * 2, idx, k);
}

static void disc(win *w, float cx, float cy, float rad, ui_color c, int alpha)
{
	arc(w, cx, cy, 0, rad, 0, 2 * (float)M_PI, c, alpha);
}

/* A quadrilateral (corners in order). */
static void quad(win *w, const float p[8], ui_color c, int alpha)
{
	uint32_t rgb = ui_rgb(c);
	SDL_Vertex v[4];
	int idx[6] = {0, 1, 2, 0, 2, 3};
	for (int i = 0; i < 4; i++)
		v[i] = vert(p[2 * i], p[2 * i + 1], rgb, alpha);
	SDL_RenderGeometry(w->r, NULL, v, 4, idx, 6);
}

/* ---- the parts of the tablet ---- */

static void draw_status(win *w, const ui_view *v)
{
	ui_rect s = w->L.status;
	int px = w->L.font_small, pad = px / 2, half = s.h / 2;
	int dot = clampi(px * 3 / 8, 2, 64), x;
	char buf[64];

	fill(w, s, UI_COL_PANEL, 255);
	/* line 1: network dot and state, the server */
	disc(w, (float)(s.x + pad + dot), (float)(s.y + half / 2 + 2),
	     (float)dot, v->net_color, 255);
	x = s.x + pad + 2 * dot + pad;
	x += text_draw(w, FACE_BOLD, px, UI_COL_TEXT, 255, v->net_text, x,
		       s.y + (half - px) / 2 + 2, s.x + s.w - x, AL_LEFT);
	x += pad;
	text_draw(w, FACE_SANS, px, UI_COL_DIM, 255, v->server, x,
		  s.y + (half - px) / 2 + 2, s.x + s.w - x - 3 * dot - pad,
		  AL_LEFT);
	/* line 2: the last exchange, offline records */
	x = s.x + pad;
	x += text_draw(w, FACE_SANS, px, UI_COL_DIM, 255, v->last, x,
		       s.y + half + (half - px) / 2, s.w / 2 + s.w / 8,
		       AL_LEFT);
	snprintf(buf, sizeof buf, "offline records: %lld",
		 (long long)v->offline_records);
	text_draw(w, FACE_SANS, px,
		  v->offline_records > 0 ? UI_COL_AMBER : UI_COL_DIM, 255,
		  buf, x + pad, s.y + half + (half - px) / 2,
		  s.x + s.w - x - 2 * pad, AL_RIGHT);
	/* the heartbeat pulse: a dot that swells and fades with v->pulse */
	{
		float cx = (float)(s.x + s.w - pad - 2 * dot);
		float cy = (float)(s.y + half / 2 + 2);
		double p = unit(v->pulse);
		disc(w, cx, cy, (float)dot, p > 0 ? UI_COL_BLUE : UI_COL_GREY,
		     255);
		if (p > 0)
			arc(w, cx, cy, (float)dot * (float)(1 + 1.2 * (1 - p)),
			    (float)dot * (float)(1.4 + 1.2 * (1 - p)), 0,
			    2 * (float)M_PI, UI_COL_BLUE, (int)(255 * p));
	}
}

/* The letterboxed place of a fw x fh frame in r. */
static ui_rect letterbox(ui_rect r, int fw, int fh)
{
	ui_rect d;
	if (fw <= 0 || fh <= 0 || r.w <= 0 || r.h <= 0)
		return (ui_rect){r.x, r.y, 0, 0};
	if ((int64_t)r.w * fh <= (int64_t)r.h * fw) {
		d.w = r.w;
		d.h = (int)((int64_t)r.w * fh / fw);
	} else {
		d.h = r.h;
		d.w = (int)((int64_t)r.h * fw / fh);
	}
	d.x = r.x + (r.w - d.w) / 2;
	d.y = r.y + (r.h - d.h) / 2;
	return d;
}

/* Uploads the camera frame when its generation or size changed. */
static int cam_upload(win *w, const win_camera *c)
{
	if (w->cam && w->cam_w == c->w && w->cam_h == c->h &&
	    w->cam_gen == c->gen)
		return 0;
	if (!w->cam || w->cam_w != c->w || w->cam_h != c->h) {
		if (w->cam)
			SDL_DestroyTexture(w->cam);
		w->cam = SDL_CreateTexture(w->r, SDL_PIXELFORMAT_RGB24,
					   SDL_TEXTUREACCESS_STREAMING, c->w,
					   c->h);
		if (!w->cam)
			return SIM_ENOMEM;
		w->cam_w = c->w;
		w->cam_h = c->h;
	}
	if (SDL_UpdateTexture(w->cam, NULL, c->rgb, c->stride) < 0)
		return SIM_EIO;
	w->cam_gen = c->gen;
	return 0;
}

static void draw_camera(win *w, const ui_view *v, const win_camera *c)
{
	ui_rect r = w->L.camera, d;
	int px = w->L.font_small, fw, fh, t;
	ui_color bc;

	fill(w, r, UI_COL_NONE, 255);
	if (!c || !c->rgb || c->w <= 0 || c->h <= 0 || c->stride < 3 * c->w ||
	    cam_upload(w, c) < 0) {
		text_in(w, FACE_SANS, px, UI_COL_DIM, "no camera frame", r, 0,
			AL_CENTER);
		return;
	}
	d = letterbox(r, c->w, c->h);
	{
		SDL_Rect s = sdl_rect(d);
		SDL_RenderCopy(w->r, w->cam, NULL, &s);
	}
	if (!v->has_face)
		return;
	/* box and landmarks are in the view's frame pixels */
	fw = v->frame_w > 0 ? v->frame_w : c->w;
	fh = v->frame_h > 0 ? v->frame_h : c->h;
	{
		double sx = (double)d.w / fw, sy = (double)d.h / fh;
		/* dots sized by the face, so a small face is not buried */
		float rad = (float)clampi(isfinite(v->box[2]) ?
					  (int)(fabs(v->box[2] * sx) / 50) : 1,
					  1, 6);
		SDL_Rect clip = sdl_rect(d);

		SDL_RenderSetClipRect(w->r, &clip);
		bc = v->banner ? v->banner_color : UI_COL_BLUE;
		t = clampi(d.w / 160, 2, 8);
		/* a box or point off the frame (or not a number) is a bad
		 * view, left out rather than drawn across the window */
		if (in_frame(v->box[0], fw) && in_frame(v->box[1], fh) &&
		    in_frame(v->box[0] + v->box[2], fw) &&
		    in_frame(v->box[1] + v->box[3], fh))
			outline(w, (ui_rect){d.x + (int)lround(v->box[0] * sx),
					     d.y + (int)lround(v->box[1] * sy),
					     (int)lround(v->box[2] * sx),
					     (int)lround(v->box[3] * sy)},
				t, bc);
		for (int i = 0; i < 68; i++)
			if (in_frame(v->pts[i][0], fw) &&
			    in_frame(v->pts[i][1], fh))
				disc(w, (float)(d.x + v->pts[i][0] * sx),
				     (float)(d.y + v->pts[i][1] * sy), rad,
				     UI_COL_AMBER, 255);
		SDL_RenderSetClipRect(w->r, NULL);
	}
}

static void draw_banner(win *w, const ui_view *v)
{
	ui_rect r = w->L.banner;
	int a = (int)lround(255 * unit(v->banner_alpha));
	int big, small = w->L.font_small;
	wtext *t;

	if (!v->banner || a == 0)
		return;
	fill(w, r, v->banner_color, a);
	/* the title fills most of the banner, the reason under it */
	big = text_fit(w, FACE_BOLD, r.h * 55 / 100, v->banner_title,
		       r.w - small * 2);
	t = text_get(w, FACE_BOLD, big, ui_rgb(UI_COL_TEXT), v->banner_title);
	{
		int th = t ? t->h : 0;
		int rh = v->banner_reason[0] ? small : 0;
		int y = r.y + (r.h - th - rh) / 2;
		text_draw(w, FACE_BOLD, big, UI_COL_TEXT, a, v->banner_title,
			  r.x, y, r.w, AL_CENTER);
		text_draw(w, FACE_SANS, small, UI_COL_TEXT, a,
			  v->banner_reason, r.x + small, y + th,
			  r.w - 2 * small, AL_CENTER);
	}
}

static void draw_identity(win *w, const ui_view *v)
{
	ui_rect r = w->L.identity;
	int pad = w->L.font_small / 2, px;

	/* the name as large as fits, the similarity beside it */
	if (v->similarity[0]) {
		wtext *t = text_get(w, FACE_SANS, w->L.font_small,
				    ui_rgb(UI_COL_DIM), v->similarity);
		int sw = t ? t->w : 0;
		text_in(w, FACE_SANS, w->L.font_small, UI_COL_DIM,
			v->similarity, r, pad, AL_RIGHT);
		r.w -= sw + 2 * pad;
	}
	px = text_fit(w, FACE_BOLD, w->L.font_big, v->name, r.w - 2 * pad);
	text_in(w, FACE_BOLD, px, UI_COL_TEXT, v->name, r, pad, AL_LEFT);
}

static void draw_readings(win *w, const ui_view *v)
{
	ui_rect r = w->L.readings, left = r, right = r;
	int pad = w->L.font_small / 2;

	left.w = r.w / 2;
	right.x = r.x + left.w;
	right.w = r.w - left.w;
	text_in(w, FACE_BOLD, w->L.font_mid, v->temp_color, v->temperature,
		left, pad, AL_LEFT);
	text_in(w, FACE_SANS, w->L.font_mid, v->mask_color, v->mask, right,
		pad, AL_RIGHT);
}

static void draw_voice(win *w, const ui_view *v)
{
	char buf[sizeof v->voice + 16];
	if (!v->voice[0])
		return;
	snprintf(buf, sizeof buf, "\xe2\x80\x9c%s\xe2\x80\x9d", v->voice);
	text_in(w, FACE_SANS, w->L.font_small, UI_COL_DIM, buf, w->L.voice,
		w->L.font_small / 2, AL_CENTER);
}

/* A padlock of size s at (x, y): open (shackle raised) when the relay is
 * on, under a bar that empties as the relay's pulse runs out. */
static void draw_relay(win *w, const ui_view *v, ui_rect r)
{
	int s = clampi(r.h * 6 / 10, 4, 400), px = w->L.font_small;
	float x = (float)(r.x + px / 2), y = (float)(r.y + (r.h - s) / 2);
	float bw = (float)s, bh = (float)s * 0.55f, by = y + (float)s - bh;
	float sr1 = bw * 0.34f, sr0 = bw * 0.22f, cx = x + bw / 2;
	float lift = v->relay_on ? bh * 0.35f : 0, cy = by - bh * 0.35f - lift;
	ui_color c = v->relay_on ? UI_COL_GREEN : UI_COL_GREY;
	ui_rect bar;
	char lab[32];

	/* shackle: a half ring and its legs */
	arc(w, cx, cy, sr0, sr1, (float)M_PI, 2 * (float)M_PI, c, 255);
	{
		float lg[8] = {cx - sr1, cy, cx - sr0, cy, cx - sr0,
			       by - (v->relay_on ? lift : 0), cx - sr1,
			       by - (v->relay_on ? lift : 0)};
		float rg[8] = {cx + sr0, cy, cx + sr1, cy, cx + sr1, by,
			       cx + sr0, by};
		quad(w, lg, c, 255);
		quad(w, rg, c, 255);
	}
	fill(w, (ui_rect){(int)x, (int)by, (int)bw, (int)bh}, c, 255);
	/* label and the pulse's bar */
	snprintf(lab, sizeof lab, "relay %s", v->relay_on ? "on" : "off");
	text_draw(w, FACE_SANS, px, v->relay_on ? UI_COL_TEXT : UI_COL_DIM,
		  255, lab, (int)(x + bw) + px / 2, (int)y,
		  r.w - s - px, AL_LEFT);
	bar = (ui_rect){(int)(x + bw) + px / 2, (int)(y + (float)s) - px / 2,
			r.w - s - 2 * px, clampi(px / 2, 2, 40)};
	if (bar.w > 0) {
		fill(w, bar, UI_COL_PANEL, 255);
		if (v->relay_progress >= 0 && v->relay_progress <= 1) {
			ui_rect left = bar;
			left.w = (int)lround(bar.w * (1 - v->relay_progress));
			fill(w, left, UI_COL_GREEN, 255);
		}
	}
}

/* A door in its frame: a closed leaf, or an open one swung in
 * perspective showing the dark doorway. */
static void draw_door(win *w, const ui_view *v, ui_rect r)
{
	int px = w->L.font_small, s = clampi(r.h * 7 / 10, 4, 400);
	int dw = s * 6 / 10, x = r.x + px / 2, y = r.y + (r.h - s) / 2;
	int t = clampi(s / 16, 1, 8);

	outline(w, (ui_rect){x, y, dw, s}, t, UI_COL_GREY);
	if (v->door_open) {
		float leaf[8] = {(float)(x + t), (float)(y + t),
				 (float)(x + t + dw / 3), (float)(y + t + s / 10),
				 (float)(x + t + dw / 3),
				 (float)(y + s - t - s / 10),
				 (float)(x + t), (float)(y + s - t)};
		fill(w, (ui_rect){x + t, y + t, dw - 2 * t, s - 2 * t},
		     UI_COL_NONE, 255);
		quad(w, leaf, UI_COL_AMBER, 255);
	} else {
		fill(w, (ui_rect){x + t, y + t, dw - 2 * t, s - 2 * t},
		     UI_COL_GREY, 255);
		disc(w, (float)(x + dw - 3 * t), (float)(y + s / 2),
		     (float)clampi(t, 1, 6), UI_COL_BG, 255);
	}
	text_draw(w, FACE_SANS, px, v->door_open ? UI_COL_AMBER : UI_COL_DIM,
		  255, v->door_open ? "door open" : "door closed",
		  x + dw + px / 2, r.y + (r.h - px) / 2, r.x + r.w - x - dw - px,
		  AL_LEFT);
}

static void draw_hw(win *w, const ui_view *v)
{
	ui_rect r = w->L.hw, a = r, b = r;
	a.w = r.w / 2;
	b.x = r.x + a.w;
	b.w = r.w - a.w;
	draw_relay(w, v, a);
	draw_door(w, v, b);
}

static void draw_step(win *w, const ui_view *v)
{
	ui_rect r = w->L.step;
	int pad = w->L.font_small / 2, pw = 0;

	if (v->paused) {
		wtext *t = text_get(w, FACE_BOLD, w->L.font_small,
				    ui_rgb(UI_COL_AMBER), "PAUSED");
		pw = t ? t->w + 2 * pad : 0;
		text_in(w, FACE_BOLD, w->L.font_small, UI_COL_AMBER, "PAUSED",
			r, pad, AL_RIGHT);
	}
	r.w -= pw;
	text_in(w, FACE_SANS, w->L.font_small, UI_COL_DIM, v->step, r, pad,
		AL_LEFT);
}

/* ---- the log panel ---- */

static void log_geometry(const win *w, const ui_view *v, log_geo *g)
{
	ui_rect r = w->L.log;
	int px = w->L.font_small, head;

	g->px = px;
	g->row_h = px + px / 3 > 1 ? px + px / 3 : 1;
	head = g->row_h + px / 4;
	g->x = r.x;
	g->w = r.w;
	g->y = r.y + head;
	g->rows = r.h > head ? (r.h - head) / g->row_h : 0;
	/* the newest lines, scrolled back to keep the selection in view */
	/* a view is data: counts out of range draw as the nearest sane one */
	g->n = clampi(v->log_n, 0, UI_VIEW_LOG);
	g->sel = v->log_selected >= 0 && v->log_selected < g->n ?
			 v->log_selected : -1;
	g->first = g->n > g->rows ? g->n - g->rows : 0;
	if (g->sel >= 0 && g->sel < g->first)
		g->first = g->sel;
}

static void draw_log(win *w, const ui_view *v)
{
	ui_rect r = w->L.log;
	log_geo g;
	int pad;
	char st[16];

	if (r.w <= 0 || r.h <= 0)
		return;
	log_geometry(w, v, &g);
	pad = g.px / 2;
	fill(w, r, UI_COL_PANEL, 255);
	text_draw(w, FACE_BOLD, g.px, UI_COL_DIM, 255, "protocol log",
		  r.x + pad, r.y + pad / 2, r.w - 2 * pad, AL_LEFT);
	for (int i = 0; i < g.rows && g.first + i < g.n; i++) {
		const ui_log_line *l = &v->log[g.first + i];
		int y = g.y + i * g.row_h, x = r.x + pad, ty;
		int stw = 0;
		/* the selected line: on blue, everything in text colour */
		bool sel = g.first + i == g.sel;
		ui_color lc = sel ? UI_COL_TEXT : l->color;
		ty = y + (g.row_h - g.px) / 2;
		if (sel)
			fill(w, (ui_rect){r.x, y, r.w, g.row_h}, UI_COL_BLUE,
			     255);
		/* arrows: U+2191 up (to the server), U+2193 down */
		x += text_draw(w, FACE_BOLD, g.px, lc, 255,
			       l->up ? "\xe2\x86\x91" : "\xe2\x86\x93", x, ty,
			       g.px, AL_LEFT) + pad;
		if (l->status) {
			snprintf(st, sizeof st, "%d", l->status);
			stw = text_draw(w, FACE_MONO, g.px, lc, 255, st,
					r.x, ty, r.w - pad, AL_RIGHT) + pad;
		}
		x += text_draw(w, FACE_BOLD, g.px, UI_COL_TEXT, 255, l->kind,
			       x, ty, r.x + r.w - x - stw - pad, AL_LEFT) + pad;
		text_draw(w, FACE_SANS, g.px, sel ? UI_COL_TEXT : UI_COL_DIM,
			  255, l->summary, x, ty,
			  r.x + r.w - x - stw - pad, AL_LEFT);
	}
}

/* ---- overlays ---- */

static int json_lines(const char *s)
{
	int n = 1;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void draw_json(win *w, const ui_view *v)
{
	int m = w->L.font_small, px = w->L.font_small * 9 / 10, row;
	ui_rect r = {m, m, w->pw - 2 * m, w->ph - 2 * m};
	const char *p = v->json, *e;
	char line[512];
	int n = 0, y, top;
	uint32_t h = hash_str(v->json, 2166136261u);

	if (h != w->json_hash) {
		w->json_hash = h;
		w->json_scroll = 0;
	}
	px = px < 4 ? 4 : px;
	row = px + px / 4;
	fill(w, r, UI_COL_PANEL, 255);
	outline(w, r, clampi(m / 8, 1, 4), UI_COL_BLUE);
	top = r.y + m / 2 + w->L.font_small + m / 2;
	w->json_rows = (r.y + r.h - m / 2 - top) / row;
	if (w->json_rows < 1)
		w->json_rows = 1;
	{
		/* where we are in it, and how to move */
		char where[96];
		int lines = json_lines(v->json), tw;
		int last = w->json_scroll + w->json_rows;
		snprintf(where, sizeof where, "lines %d-%d of %d, wheel / PgUp "
			 "/ PgDn", w->json_scroll + 1, last < lines ? last : lines,
			 lines);
		tw = text_draw(w, FACE_SANS, px, UI_COL_DIM, 255, where, r.x + m,
			       r.y + m / 2, r.w - 2 * m, AL_RIGHT);
		text_draw(w, FACE_BOLD, w->L.font_small, UI_COL_TEXT, 255, "JSON",
			  r.x + m, r.y + m / 2, r.w - 3 * m - tw, AL_LEFT);
	}
	y = top;
	for (; *p; p = *e ? e + 1 : e, n++) {
		size_t k = 0;
		e = strchr(p, '\n');
		if (!e)
			e = p + strlen(p);
		if (n < w->json_scroll)
			continue;
		if (y + row > r.y + r.h)
			break;
		/* cJSON indents with tabs, which fonts draw as boxes */
		for (const char *q = p; q < e && k < sizeof line - 3; q++) {
			if (*q == '\t') {
				line[k++] = ' ';
				line[k++] = ' ';
			} else if (*q != '\r') {
				line[k++] = *q;
			}
		}
		line[k] = '\0';
		text_draw(w, FACE_MONO, px, UI_COL_TEXT, 255, line, r.x + m, y,
			  r.w - 2 * m, AL_LEFT);
		y += row;
	}
}

/* The help's lines: every action with a key, its keys joined ("J,
 * Return"), in ui_keys' order; returns how many. */
static int help_lines(char keys[][96], ui_action act_of[])
{
	bool seen[UI_ACT_COUNT] = {0};
	int n = 0;

	for (size_t i = 0; i < ui_nkeys; i++) {
		ui_action a = ui_keys[i].action;
		size_t k = 0;
		if (a <= UI_ACT_NONE || a >= UI_ACT_COUNT || seen[a])
			continue;
		seen[a] = true;
		keys[n][0] = '\0';
		for (size_t j = i; j < ui_nkeys; j++)
			if (ui_keys[j].action == a && k < sizeof keys[n])
				k += (size_t)snprintf(keys[n] + k,
						      sizeof keys[n] - k, "%s%s",
						      k ? ", " : "",
						      ui_keys[j].key);
		act_of[n++] = a;
	}
	return n;
}

static void draw_help(win *w)
{
	ui_rect r = w->L.tablet;
	char keys[UI_ACT_COUNT][96];
	ui_action act_of[UI_ACT_COUNT];
	int n = help_lines(keys, act_of), px, row, y, kw = 0, hw = 0, pad;

	fill(w, r, UI_COL_PANEL, 255);
	row = (r.h - 2 * w->L.font_mid) / (n + 1);
	row = clampi(row, 1, w->L.font_small * 2);
	px = row * 3 / 4;
	/* one size for every line, so that the widest key list and the
	 * widest help sentence fit side by side */
	for (int i = 0; i < n; i++) {
		wtext *k = text_get(w, FACE_MONO, px, ui_rgb(UI_COL_BLUE), keys[i]);
		wtext *h = text_get(w, FACE_SANS, px, ui_rgb(UI_COL_TEXT),
				    ui_action_help(act_of[i]));
		kw = k && k->w > kw ? k->w : kw;
		hw = h && h->w > hw ? h->w : hw;
	}
	pad = px;
	if (kw + hw + 3 * pad > r.w && kw + hw > 0) {
		int fit = px * (r.w - 3 * pad) / (kw + hw);
		kw = kw * fit / px;
		px = fit < 4 ? 4 : fit;
		pad = px;
	}
	y = r.y + w->L.font_mid / 2;
	text_draw(w, FACE_BOLD, w->L.font_mid, UI_COL_TEXT, 255, "Keys", r.x,
		  y, r.w, AL_CENTER);
	y += w->L.font_mid + w->L.font_mid / 2;
	for (int i = 0; i < n; i++) {
		text_draw(w, FACE_MONO, px, UI_COL_BLUE, 255, keys[i], r.x + pad,
			  y, kw + 1, AL_LEFT);
		text_draw(w, FACE_SANS, px, UI_COL_TEXT, 255,
			  ui_action_help(act_of[i]), r.x + 2 * pad + kw, y,
			  r.w - 3 * pad - kw, AL_LEFT);
		y += row;
	}
}

/* ---- the whole frame ---- */

static void draw(win *w, const ui_view *v, const win_camera *cam)
{
	ui_rect all = {0, 0, w->pw, w->ph};

	fill(w, all, UI_COL_BG, 255);
	/* the tablet's edge, so it reads as a device on a large screen */
	{
		int t = clampi(w->L.tablet.w / 120, 1, 8);
		ui_rect e = {w->L.tablet.x - t, w->L.tablet.y - t,
			     w->L.tablet.w + 2 * t, w->L.tablet.h + 2 * t};
		outline(w, e, t, UI_COL_PANEL);
	}
	if (v->powered) {
		draw_status(w, v);
		draw_camera(w, v, cam);
		draw_banner(w, v);
		draw_identity(w, v);
		draw_readings(w, v);
		draw_voice(w, v);
		draw_hw(w, v);
	} else {
		fill(w, w->L.tablet, UI_COL_NONE, 255);
		text_in(w, FACE_SANS, w->L.font_mid, UI_COL_GREY, "powered off",
			w->L.tablet, 0, AL_CENTER);
	}
	draw_step(w, v);
	draw_log(w, v);
	if (v->show_json && v->json[0])
		draw_json(w, v);
	if (v->help)
		draw_help(w);
}

/* ---- input ---- */

static bool repeats(ui_action a)
{
	return a == UI_ACT_LOG_UP || a == UI_ACT_LOG_DOWN ||
	       a == UI_ACT_TEMP_UP || a == UI_ACT_TEMP_DOWN;
}

/* Desktop full screen and back to the size the window had (without a
 * window manager, X11 keeps the full-screen size otherwise). */
static void toggle_fullscreen(win *w)
{
	w->fullscreen = !w->fullscreen;
	if (w->fullscreen)
		SDL_GetWindowSize(w->sw, &w->win_w, &w->win_h);
	SDL_SetWindowFullscreen(w->sw, w->fullscreen ?
				SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
	if (!w->fullscreen && w->win_w > 0 && w->win_h > 0)
		SDL_SetWindowSize(w->sw, w->win_w, w->win_h);
}

/* An action from a key; returns 1 for quit. */
static int act(win *w, ui_action a, win_action_cb cb, void *ud)
{
	if (a == UI_ACT_QUIT)
		return 1;
	if (a == UI_ACT_FULLSCREEN)
		toggle_fullscreen(w);
	else if (cb)
		cb(ud, a, NULL);
	return 0;
}

/* A click at output pixel (x, y): on a log line, the actions that move
 * the view's selection there; a double click opens its JSON. */
static void click(win *w, const ui_view *v, int x, int y, int clicks,
		  win_action_cb cb, void *ud)
{
	log_geo g;
	int idx, cur;

	log_geometry(w, v, &g);
	if (!cb || x < g.x || x >= g.x + g.w || y < g.y || g.row_h <= 0)
		return;
	idx = g.first + (y - g.y) / g.row_h;
	if ((y - g.y) / g.row_h >= g.rows || idx >= g.n)
		return;
	/* no selection: the newest line counts as the current one */
	cur = g.sel >= 0 ? g.sel : g.n - 1;
	for (; cur > idx; cur--)
		cb(ud, UI_ACT_LOG_UP, NULL);
	for (; cur < idx; cur++)
		cb(ud, UI_ACT_LOG_DOWN, NULL);
	if (clicks >= 2)
		cb(ud, UI_ACT_JSON, NULL);
}

static void json_scroll(win *w, const ui_view *v, int by)
{
	if (!v->show_json)
		return;
	w->json_scroll += by;
	if (w->json_scroll < 0)
		w->json_scroll = 0;
	/* as far as the last line */
	if (w->json_scroll > json_lines(v->json) - 1)
		w->json_scroll = json_lines(v->json) - 1;
}

/* Output pixels of a mouse position in window points (HiDPI). */
static void to_pixels(win *w, int *x, int *y)
{
	int ww, wh;
	SDL_GetWindowSize(w->sw, &ww, &wh);
	if (ww > 0 && wh > 0) {
		*x = (int)((int64_t)*x * w->pw / ww);
		*y = (int)((int64_t)*y * w->ph / wh);
	}
}

static int events(win *w, const ui_view *v, win_action_cb cb, void *ud)
{
	SDL_Event e;
	int quit = 0;

	while (SDL_PollEvent(&e)) {
		switch (e.type) {
		case SDL_QUIT:
			quit = 1;
			break;
		case SDL_WINDOWEVENT:
			if (e.window.event == SDL_WINDOWEVENT_CLOSE)
				quit = 1;
			break;
		case SDL_KEYUP:
			w->key_acted = false;
			break;
		case SDL_KEYDOWN:
			w->key_acted = false;
			if (e.key.keysym.mod & (KMOD_CTRL | KMOD_ALT | KMOD_GUI))
				break;
			if (e.key.keysym.sym == SDLK_PAGEUP)
				json_scroll(w, v, -w->json_rows);
			else if (e.key.keysym.sym == SDLK_PAGEDOWN)
				json_scroll(w, v, w->json_rows);
			for (size_t i = 0; i < ui_nkeys; i++)
				if (w->keycode[i] != SDLK_UNKNOWN &&
				    w->keycode[i] == e.key.keysym.sym &&
				    (!e.key.repeat || repeats(ui_keys[i].action))) {
					quit |= act(w, ui_keys[i].action, cb, ud);
					w->key_acted = true;
					break;
				}
			break;
		case SDL_TEXTINPUT:
			/* the text a key already acted on ("Keypad -" types
			 * "-", itself bound) is not a second press */
			if (w->key_acted) {
				w->key_acted = false;
				break;
			}
			for (size_t i = 0; i < ui_nkeys; i++)
				if (w->keycode[i] == SDLK_UNKNOWN &&
				    !strcmp(ui_keys[i].key, e.text.text)) {
					quit |= act(w, ui_keys[i].action, cb, ud);
					break;
				}
			break;
		case SDL_MOUSEBUTTONDOWN:
			if (e.button.button == SDL_BUTTON_LEFT) {
				int x = e.button.x, y = e.button.y;
				to_pixels(w, &x, &y);
				click(w, v, x, y, e.button.clicks, cb, ud);
			}
			break;
		case SDL_MOUSEWHEEL:
			json_scroll(w, v, -3 * e.wheel.y);
			break;
		case SDL_DROPFILE:
			if (cb && e.drop.file)
				cb(ud, UI_ACT_DROP, e.drop.file);
			SDL_free(e.drop.file);
			break;
		default:
			break;
		}
	}
	return quit;
}

/* Resolves ui_keys: a key SDL names gets its keycode; a single typed
 * character SDL has no stable key for ('?' is Shift+/ on one layout and
 * a key of its own on another) is matched on text input (SDLK_UNKNOWN). */
static int keys_resolve(win *w)
{
	w->keycode = calloc(ui_nkeys ? ui_nkeys : 1, sizeof *w->keycode);
	if (!w->keycode)
		return SIM_ENOMEM;
	for (size_t i = 0; i < ui_nkeys; i++) {
		const char *k = ui_keys[i].key;
		bool typed = k[0] && !k[1] &&
			     !((k[0] >= 'a' && k[0] <= 'z') ||
			       (k[0] >= 'A' && k[0] <= 'Z') ||
			       (k[0] >= '0' && k[0] <= '9'));
		w->keycode[i] = typed ? SDLK_UNKNOWN : SDL_GetKeyFromName(k);
	}
	return 0;
}

/* ---- the public functions ---- */

static void stats_stamp(win *w)
{
	w->stamp[w->stamp_at] = SDL_GetPerformanceCounter();
	w->stamp_at = (w->stamp_at + 1) % (WIN_STATS_FRAMES + 1);
	if (w->nstamp < WIN_STATS_FRAMES + 1)
		w->nstamp++;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

void win_stats(const win *w, double *fps, double *p99_frame_ms)
{
	double iv[WIN_STATS_FRAMES], freq, sum = 0;
	int n = w ? w->nstamp - 1 : 0, oldest;

	*fps = 0;
	*p99_frame_ms = 0;
	if (n < 1)
		return;
	freq = (double)SDL_GetPerformanceFrequency();
	oldest = (w->stamp_at - w->nstamp + WIN_STATS_FRAMES + 1) %
		 (WIN_STATS_FRAMES + 1);
	for (int i = 0; i < n; i++) {
		uint64_t a = w->stamp[(oldest + i) % (WIN_STATS_FRAMES + 1)];
		uint64_t b = w->stamp[(oldest + i + 1) % (WIN_STATS_FRAMES + 1)];
		iv[i] = (double)(b - a) * 1000.0 / freq;
		sum += iv[i];
	}
	qsort(iv, (size_t)n, sizeof *iv, cmp_double);
	*fps = sum > 0 ? n * 1000.0 / sum : 0;
	*p99_frame_ms = iv[(n * 99 + 99) / 100 - 1];
}

unsigned long win_text_renders(const win *w)
{
	return w ? w->renders : 0;
}

void win_size(const win *w, int *pw, int *ph)
{
	*pw = w ? w->pw : 0;
	*ph = w ? w->ph : 0;
}

/* Re-reads the output size; a new size lays out again and gets a new
 * target. */
static int relayout(win *w)
{
	int pw = 0, ph = 0;

	if (SDL_GetRendererOutputSize(w->r, &pw, &ph) < 0 || pw <= 0 || ph <= 0)
		return SIM_EIO;
	w->pw = pw;
	w->ph = ph;
	if (w->target && w->tw == pw && w->th == ph)
		return 0;
	ui_layout_compute(pw, ph, &w->L);
	if (w->target)
		SDL_DestroyTexture(w->target);
	w->drawn = false;
	w->target = SDL_CreateTexture(w->r, SDL_PIXELFORMAT_ARGB8888,
				      SDL_TEXTUREACCESS_TARGET, pw, ph);
	if (!w->target)
		return SIM_ENOMEM;
	/* the copy to the window replaces its pixels, alpha and all */
	SDL_SetTextureBlendMode(w->target, SDL_BLENDMODE_NONE);
	w->tw = pw;
	w->th = ph;
	return 0;
}

int win_frame(win *w, const ui_view *v, const win_camera *cam,
	      win_action_cb cb, void *ud)
{
	int quit, rc;

	if (!w || !v)
		return SIM_EINVAL;
	quit = events(w, v, cb, ud);
	rc = relayout(w);
	if (rc < 0)
		return rc;
	w->frame++;
	if (SDL_SetRenderTarget(w->r, w->target) < 0)
		return SIM_EIO;
	SDL_SetRenderDrawBlendMode(w->r, SDL_BLENDMODE_BLEND);
	draw(w, v, cam);
	SDL_SetRenderTarget(w->r, NULL);
	SDL_RenderCopy(w->r, w->target, NULL, NULL);
	SDL_RenderPresent(w->r);
	w->drawn = true;
	stats_stamp(w);
	if (w->frame % 60 == 0 && w->frame > TEXT_KEEP_FRAMES)
		text_sweep(w, w->frame - TEXT_KEEP_FRAMES);
	return quit;
}

/* stb_image_write's output, to the file the caller opened (so that an
 * open or write failure names errno's reason). */
typedef struct png_out {
	FILE *f;
	int failed;
} png_out;

static void png_write(void *ctx, void *data, int size)
{
	png_out *o = ctx;
	if (size > 0 && fwrite(data, 1, (size_t)size, o->f) != (size_t)size)
		o->failed = errno ? errno : EIO;
}

int win_screenshot(win *w, const char *path, char *err, size_t errlen)
{
	unsigned char *px = NULL;
	png_out o = {NULL, 0};
	int rc = 0, pitch;

	if (!w || !path) {
		say(err, errlen, "screenshot: no window or no path");
		return SIM_EINVAL;
	}
	if (!w->drawn) {
		say(err, errlen, "screenshot %s: no frame drawn yet", path);
		return SIM_ESTATE;
	}
	pitch = w->tw * 3;
	px = malloc((size_t)pitch * (size_t)w->th);
	if (!px) {
		say(err, errlen, "screenshot %s: out of memory for %d x %d "
			"pixels", path, w->tw, w->th);
		return SIM_ENOMEM;
	}
	SDL_SetRenderTarget(w->r, w->target);
	if (SDL_RenderReadPixels(w->r, NULL, SDL_PIXELFORMAT_RGB24, px,
				 pitch) < 0) {
		say(err, errlen, "screenshot %s: cannot read the frame's pixels: "
			"%s", path, SDL_GetError());
		rc = SIM_EIO;
		goto out;
	}
	if (!(o.f = fopen(path, "wb"))) {
		say(err, errlen, "screenshot %s: cannot open for writing: %s",
		    path, strerror(errno));
		rc = SIM_EIO;
		goto out;
	}
	errno = 0;
	if (!stbi_write_png_to_func(png_write, &o, w->tw, w->th, 3, px,
				    pitch)) {
		say(err, errlen, "screenshot %s: PNG encoding failed", path);
		rc = SIM_ENOMEM;
	} else if (o.failed) {
		say(err, errlen, "screenshot %s: write error: %s", path,
		    strerror(o.failed));
		rc = SIM_EIO;
	}
out:
	SDL_SetRenderTarget(w->r, NULL);
	if (o.f && fclose(o.f) != 0 && rc == 0) {
		say(err, errlen, "screenshot %s: write error: %s", path,
		    strerror(errno));
		rc = SIM_EIO;
	}
	free(px);
	return rc;
}

/* The font files: o->font for every face, else DejaVu Sans, its Bold and
 * Mono (a missing Bold or Mono falls back to Sans).  The Sans one must
 * open, or the error names it and the package. */
static int fonts_pick(win *w, const char *font, char *err, size_t errlen)
{
	const char *def[FACE_COUNT] = {WIN_FONT_SANS, WIN_FONT_BOLD,
				       WIN_FONT_MONO};
	TTF_Font *f;

	for (int i = 0; i < FACE_COUNT; i++) {
		const char *p = font ? font : def[i];
		if (i > 0 && !font && access(p, R_OK) != 0)
			p = def[0];
		snprintf(w->font_path[i], sizeof w->font_path[i], "%s", p);
	}
	f = TTF_OpenFont(w->font_path[FACE_SANS], 16);
	if (!f) {
		if (font)
			say(err, errlen, "font %s: cannot be opened as a TTF "
				"font (%s); without a font of its own the demo "
				"draws with DejaVu Sans (fonts-dejavu-core, "
				"make deps)", font, TTF_GetError());
		else
			say(err, errlen, "font %s: cannot be opened (%s): "
				"install fonts-dejavu-core (make deps)",
			    WIN_FONT_SANS, TTF_GetError());
		return SIM_ENOTFOUND;
	}
	TTF_CloseFont(f);
	return 0;
}

int win_open(const win_opts *o, win **out, char *err, size_t errlen)
{
	win_opts d = {0};
	win *w = NULL;
	const char *disp = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
	const char *drv = getenv("SDL_VIDEODRIVER");
	const char *where = disp && *disp ? disp : wl && *wl ? wl : "";
	bool video = false, ttf = false;
	Uint32 flags = SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI;
	int rc = 0;

	*out = NULL;
	if (o)
		d = *o;
	if (d.w <= 0 || d.h <= 0) {
		d.w = 540;
		d.h = 960;
	}
	if (!d.title)
		d.title = "camsim demo";
	if ((!disp || !*disp) && (!wl || !*wl) && (!drv || !*drv)) {
		say(err, errlen, "no display: DISPLAY is not set (run on a "
			"desktop, or under xvfb-run for screenshots)");
		return SIM_ESTATE;
	}
	if (!(w = calloc(1, sizeof *w))) {
		say(err, errlen, "out of memory for the window");
		return SIM_ENOMEM;
	}
	/* an X display and no Wayland one: X11 it is (SDL would also probe
	 * Wayland, which complains on stderr when it finds none) */
	if ((!drv || !*drv) && disp && *disp && (!wl || !*wl))
		SDL_SetHint(SDL_HINT_VIDEODRIVER, "x11");
	else
		SDL_ResetHint(SDL_HINT_VIDEODRIVER); /* an earlier open's */
	if (SDL_InitSubSystem(SDL_INIT_VIDEO) < 0) {
		say(err, errlen, "cannot open the display \"%s\": %s (is the X "
			"server or Xvfb running?)", where, SDL_GetError());
		rc = SIM_ESTATE;
		goto out;
	}
	video = true;
	/* SDL falls back to its offscreen driver when no display answers,
	 * and the window would then show nowhere: only on request */
	{
		const char *got = SDL_GetCurrentVideoDriver();
		if ((!drv || !*drv) && got && (!strcmp(got, "offscreen") ||
					       !strcmp(got, "dummy"))) {
			say(err, errlen, "cannot open the display \"%s\": no X "
				"server or Wayland compositor answers there "
				"(is the X server or Xvfb running?)", where);
			rc = SIM_ESTATE;
			goto out;
		}
	}
	if (TTF_Init() < 0) {
		say(err, errlen, "SDL_ttf: %s", TTF_GetError());
		rc = SIM_EIO;
		goto out;
	}
	ttf = true;
	rc = fonts_pick(w, d.font, err, errlen);
	if (rc < 0)
		goto out;
	rc = keys_resolve(w);
	if (rc < 0) {
		say(err, errlen, "out of memory for the key map");
		goto out;
	}
	if (d.fullscreen)
		flags |= SDL_WINDOW_FULLSCREEN_DESKTOP;
	w->fullscreen = d.fullscreen;
	w->win_w = d.w;
	w->win_h = d.h;
	w->sw = SDL_CreateWindow(d.title, SDL_WINDOWPOS_CENTERED,
				 SDL_WINDOWPOS_CENTERED, d.w, d.h, flags);
	if (!w->sw) {
		say(err, errlen, "cannot create a %d x %d window: %s", d.w, d.h,
		    SDL_GetError());
		rc = SIM_EIO;
		goto out;
	}
	w->r = SDL_CreateRenderer(w->sw, -1, SDL_RENDERER_TARGETTEXTURE);
	if (!w->r) {
		say(err, errlen, "no renderer with target textures for the "
			"window: %s", SDL_GetError());
		rc = SIM_EIO;
		goto out;
	}
	SDL_StartTextInput();
	rc = relayout(w);
	if (rc < 0) {
		say(err, errlen, "cannot size the frame of the window: %s",
		    SDL_GetError());
		goto out;
	}
	*out = w;
	return 0;
out:
	if (w->r)
		SDL_DestroyRenderer(w->r);
	if (w->sw)
		SDL_DestroyWindow(w->sw);
	free(w->keycode);
	free(w);
	if (ttf)
		TTF_Quit();
	if (video) {
		SDL_QuitSubSystem(SDL_INIT_VIDEO);
		if (!SDL_WasInit(SDL_INIT_EVERYTHING))
			SDL_Quit();
	}
	return rc;
}

void win_close(win *w)
{
	if (!w)
		return;
	text_sweep(w, UINT64_MAX);
	for (int i = 0; i < WIN_FONTS; i++)
		if (w->fonts[i].f)
			TTF_CloseFont(w->fonts[i].f);
	if (w->cam)
		SDL_DestroyTexture(w->cam);
	if (w->target)
		SDL_DestroyTexture(w->target);
	SDL_DestroyRenderer(w->r);
	SDL_DestroyWindow(w->sw);
	free(w->keycode);
	free(w);
	TTF_Quit();
	SDL_QuitSubSystem(SDL_INIT_VIDEO);
	if (!SDL_WasInit(SDL_INIT_EVERYTHING))
		SDL_Quit();
}
