/* ui.c -- the demo window's state (issue 16) as a pure function of the
 * device's events, face passes and exchanges: palette, key map, layout
 * grid, the protocol log and the view one frame draws.  No SDL, no I/O,
 * no clock of its own (win.c draws; demo.c drives and locks). */
#include "ui.h"

#include "utf8.h"

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

/* ---- the state ---- */

#define UI_RING 200          /* log lines kept (bodies up to 2 x 16 KiB) */
#define BANNER_HOLD_MS 4000  /* the banner stays whole this long ... */
#define BANNER_FADE_MS 1000  /* ... then fades out over this */
#define VOICE_MS 5000
#define PULSE_MS 800
#define LONG_STRING 120      /* longer JSON strings are shortened in a
				body kept for display (a snapshot's base64
				picture) */

typedef struct ui_entry {
	ui_log_line line;
	char *body;              /* NUL-terminated copy, or NULL */
	size_t len;              /* bytes in body */
	size_t full_len;         /* bytes the message had */
	bool truncated;          /* cut at UI_BODY_MAX */
	bool shortened;          /* long strings shortened to fit */
} ui_entry;

struct ui_state {
	char server[128];
	bool powered;
	/* camera and the last pass */
	uint64_t frame_gen;
	int frame_w, frame_h;
	bool has_face;
	float box[4];
	float pts[68][2];
	bool has_pass;
	dev_pass pass;
	int64_t pass_ms;
	char voice[96];
	int64_t voice_ms;
	/* relay and door */
	bool relay_on;
	int64_t relay_ms, relay_len_ms; /* len 0: no duration known */
	bool door_open;
	/* network */
	bool net_down;
	bool answered;               /* the last exchange got its 200 */
	char net_text[48];
	bool has_last;
	char last_kind[40];
	int last_status;             /* 0: failed */
	int64_t last_ms;
	int64_t offline;
	bool has_beat;
	int64_t beat_ms;
	/* the log: ring[i % UI_RING] for i in [total - n, total) */
	ui_entry ring[UI_RING];
	uint64_t total;
	int64_t selected;            /* absolute index, -1: the newest */
	bool show_json, help, paused;
	char step[96];
};

/* Text for one line of the window: cut on a character, control bytes
 * (a server's keys may hold newlines) as '?'. */
static void put_text(char *dst, size_t size, const char *src)
{
	utf8_copy(dst, size, src ? src : "");
	for (char *p = dst; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

ui_state *ui_new(const char *server_url)
{
	ui_state *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	put_text(s->server, sizeof(s->server), server_url);
	s->selected = -1;
	snprintf(s->net_text, sizeof(s->net_text), "connecting");
	return s;
}

static void entry_clear(ui_entry *e)
{
	free(e->body);
	memset(e, 0, sizeof(*e));
}

void ui_free(ui_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < UI_RING; i++)
		entry_clear(&s->ring[i]);
	free(s);
}

/* ---- events ---- */

static ui_entry *log_add(ui_state *s, int64_t now_ms);

void ui_event(ui_state *s, const dev_event *ev, int64_t now_ms)
{
	long long n;

	switch (ev->kind) {
	case DEV_EV_BOOT:
		s->powered = true;
		s->answered = false;
		snprintf(s->net_text, sizeof(s->net_text), "connecting");
		break;
	case DEV_EV_OFF:
		s->powered = false;
		s->relay_on = false;
		break;
	case DEV_EV_NET:
		s->net_down = !strcmp(ev->text, "down");
		s->answered = false;
		snprintf(s->net_text, sizeof(s->net_text), "%s",
			 s->net_down ? "network down" : "connecting");
		break;
	case DEV_EV_REPLY: /* only a 200 is a reply (device.c) */
		s->answered = true;
		snprintf(s->net_text, sizeof(s->net_text), "online");
		break;
	case DEV_EV_FAIL: {
		const char *st = strstr(ev->text, ": status ");

		s->answered = false;
		if (s->net_down)
			break;
		if (st && sscanf(st, ": status %lld", &n) == 1)
			snprintf(s->net_text, sizeof(s->net_text),
				 "server said %lld", n);
		else
			snprintf(s->net_text, sizeof(s->net_text), "no answer");
		break;
	}
	case DEV_EV_RELAY:
		s->relay_on = strncmp(ev->text, "off", 3) != 0;
		s->relay_ms = now_ms;
		s->relay_len_ms = 0;
		if (s->relay_on && sscanf(ev->text, "on for %lld ms", &n) == 1 &&
		    n > 0)
			s->relay_len_ms = n;
		break;
	case DEV_EV_VOICE:
		put_text(s->voice, sizeof(s->voice), ev->text);
		s->voice_ms = now_ms;
		break;
	case DEV_EV_DOOR:
		s->door_open = !strcmp(ev->text, "open");
		break;
	case DEV_EV_ERROR: { /* a bad picture, a failed recognition: shown */
		ui_entry *e = log_add(s, now_ms);

		e->line.color = UI_COL_RED;
		snprintf(e->line.kind, sizeof(e->line.kind), "error");
		put_text(e->line.summary, sizeof(e->line.summary), ev->text);
		break;
	}
	default:
		break;
	}
}

void ui_pass(ui_state *s, const dev_pass *p, int64_t now_ms)
{
	s->pass = *p;
	s->has_pass = true;
	s->pass_ms = now_ms;
	s->has_face = p->has_face;
	if (p->has_face) {
		memcpy(s->box, p->box, sizeof(s->box));
		memcpy(s->pts, p->pts, sizeof(s->pts));
	}
	if (p->frame_w > 0 && p->frame_h > 0) {
		s->frame_w = p->frame_w;
		s->frame_h = p->frame_h;
	}
}

void ui_frame(ui_state *s, int w, int h, int64_t now_ms)
{
	(void)now_ms;
	s->frame_gen++;
	s->frame_w = w > 0 ? w : 0;
	s->frame_h = h > 0 ? h : 0;
	s->has_face = false;
}

void ui_offline(ui_state *s, int64_t records)
{
	s->offline = records < 0 ? 0 : records;
}

void ui_step(ui_state *s, const char *text)
{
	put_text(s->step, sizeof(s->step), text);
}

/* ---- the protocol log ---- */

/* Shortens every string longer than LONG_STRING in j (in place). */
static void shorten_strings(cJSON *j)
{
	cJSON *c;

	if (cJSON_IsString(j) && strlen(j->valuestring) > LONG_STRING) {
		char note[64];

		snprintf(note, sizeof(note), "(%zu characters)",
			 strlen(j->valuestring));
		cJSON_SetValuestring(j, note);
		return;
	}
	cJSON_ArrayForEach(c, j)
		shorten_strings(c);
}

/* The body as the log keeps it: a copy up to UI_BODY_MAX; a longer JSON
 * body whose bulk is long strings (a snapshot's picture) is kept with
 * them shortened, so its JSON can still be shown. */
static void keep_body(ui_entry *e, const char *body, size_t len, cJSON *j)
{
	char *small = NULL;

	e->full_len = len;
	if (!body)
		return;
	if (len > UI_BODY_MAX && j) {
		shorten_strings(j);
		small = cJSON_PrintUnformatted(j);
		if (small && strlen(small) <= UI_BODY_MAX) {
			e->body = small;
			e->len = strlen(small);
			e->shortened = true;
			return;
		}
		free(small);
	}
	e->len = len > UI_BODY_MAX ? UI_BODY_MAX : len;
	e->truncated = len > UI_BODY_MAX;
	e->body = malloc(e->len + 1);
	if (!e->body) {
		e->len = 0;
		return;
	}
	memcpy(e->body, body, e->len);
	e->body[e->len] = '\0';
}

static ui_entry *log_add(ui_state *s, int64_t now_ms)
{
	ui_entry *e = &s->ring[s->total % UI_RING];

	entry_clear(e);
	s->total++;
	e->line.t = now_ms;
	return e;
}

static cJSON *parse(const char *body, size_t len)
{
	return body && len ? cJSON_ParseWithLength(body, len) : NULL;
}

/* "seq N" for a heartbeat, the person for a snapshot, else the size. */
static void request_summary(char *out, size_t size, const char *kind,
			    const cJSON *j, size_t len, const char *url)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "result");
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(j, "seq");

	if (!strcmp(kind, "heartbeat") && cJSON_IsNumber(seq)) {
		snprintf(out, size, "seq %.0f", seq->valuedouble);
	} else if (!strncmp(kind, "snapshot", 8) && cJSON_IsObject(r)) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(r, "person_name");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "person_id");
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(r, "person_type");
		const char *who = cJSON_IsString(name) && *name->valuestring
				  ? name->valuestring : cJSON_IsString(id) &&
				  *id->valuestring ? id->valuestring : "stranger";
		int t = cJSON_IsNumber(type) ? type->valueint : -1;
		char buf[160];

		snprintf(buf, sizeof(buf), "%s %s", who, t == 1 ? "passed" :
			 t == 0 ? "denied" : t == 2 ? "captured" : "seen");
		put_text(out, size, buf);
	} else if (len) {
		snprintf(out, size, "%zu bytes", len);
	} else {
		put_text(out, size, url);
	}
}

/* The reply's command keys ("config, facelib_manage"), "no commands",
 * "not JSON", or why it failed. */
static void reply_summary(char *out, size_t size, const loop_http_res *res,
			  const cJSON *j, const char *fault)
{
	char buf[256] = "";
	const cJSON *c;
	size_t n = 0;

	if (!res) {
		put_text(out, size, fault ? fault : "not sent");
		return;
	}
	if (res->fail != LOOP_HTTP_OK) {
		put_text(out, size, res->error ? res->error : "failed");
		return;
	}
	if (res->len && !j) {
		snprintf(out, size, "not JSON, %zu bytes", res->len);
		return;
	}
	cJSON_ArrayForEach(c, j) {
		if (!c->string)
			continue;
		n += (size_t)snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0,
				      "%s%s", n ? ", " : "", c->string);
		if (n >= sizeof(buf))
			break;
	}
	put_text(out, size, n ? buf : "no commands");
}

void ui_exchange(ui_state *s, const dev_exchange *x, int64_t now_ms)
{
	const loop_http_res *res = x->res;
	const char *kind = x->kind ? x->kind : "message";
	bool ok = res && res->fail == LOOP_HTTP_OK;
	int status = ok ? (int)res->status : 0;
	const cJSON *dj;
	cJSON *j;
	ui_entry *e;

	/* the request */
	e = log_add(s, now_ms);
	e->line.up = true;
	e->line.color = UI_COL_TEXT;
	put_text(e->line.kind, sizeof(e->line.kind), kind);
	j = parse(x->body, x->len);
	request_summary(e->line.summary, sizeof(e->line.summary), kind, j,
			x->body ? x->len : 0, x->url);
	keep_body(e, x->body, x->len, j);
	cJSON_Delete(j);

	/* the reply (or why there is none) */
	e = log_add(s, now_ms);
	e->line.up = false;
	e->line.status = status;
	e->line.color = !ok || !status ? UI_COL_RED
			: status >= 200 && status < 300 ? UI_COL_GREEN
							 : UI_COL_AMBER;
	snprintf(e->line.kind, sizeof(e->line.kind), "%.30s reply", kind);
	/* the device's own reading of a 200 when it made one (a reply can be
	 * megabytes of photos: not parsed twice under the caller's lock);
	 * a copy only when keep_body must shorten it */
	dj = ok && x->reply ? x->reply->json : NULL;
	j = !ok ? NULL : !dj ? parse(res->body, res->len)
	    : res->len > UI_BODY_MAX ? cJSON_Duplicate(dj, true) : NULL;
	reply_summary(e->line.summary, sizeof(e->line.summary), res,
		      j ? j : dj, x->fault);
	if (ok)
		keep_body(e, res->body, res->len, j);
	cJSON_Delete(j);

	s->has_last = true;
	put_text(s->last_kind, sizeof(s->last_kind), kind);
	s->last_status = status;
	s->last_ms = now_ms;
	if (ok && status == 200 && !strcmp(kind, "heartbeat")) {
		s->has_beat = true;
		s->beat_ms = now_ms;
	}
}

/* ---- local actions ---- */

static uint64_t log_oldest(const ui_state *s)
{
	return s->total > UI_RING ? s->total - UI_RING : 0;
}

/* The selected line's absolute index (the newest while following);
 * meaningless with an empty log. */
static uint64_t log_sel(const ui_state *s)
{
	if (s->selected < 0 || (uint64_t)s->selected >= s->total)
		return s->total ? s->total - 1 : 0;
	if ((uint64_t)s->selected < log_oldest(s))
		return log_oldest(s); /* the ring overwrote it */
	return (uint64_t)s->selected;
}

void ui_local(ui_state *s, ui_action a)
{
	uint64_t sel = log_sel(s);

	switch (a) {
	case UI_ACT_HELP:
		s->help = !s->help;
		break;
	case UI_ACT_JSON:
		s->show_json = !s->show_json;
		break;
	case UI_ACT_PAUSE:
		s->paused = !s->paused;
		break;
	case UI_ACT_LOG_UP:
		if (s->total)
			s->selected = (int64_t)(sel > log_oldest(s) ? sel - 1 : sel);
		break;
	case UI_ACT_LOG_DOWN:
		/* reaching the newest line follows the log again */
		if (s->total)
			s->selected = sel + 1 >= s->total ? -1 : (int64_t)(sel + 1);
		break;
	default:
		break;
	}
}

/* ---- the view ---- */

/* Appends src to out[*n..size), cut on a character. */
static void append(char *out, size_t size, size_t *n, const char *src)
{
	if (*n + 1 < size)
		*n += utf8_copy(out + *n, size - *n, src);
}

/* The selected message for the JSON panel: a header line, then the body
 * pretty-printed when it parses (tabs as two spaces), else as text with
 * control bytes shown as '.'; a last line says what was cut. */
static void json_text(const ui_entry *e, char *out, size_t size)
{
	char line[160], *pretty = NULL;
	cJSON *j = parse(e->body, e->len);
	size_t n = 0, room = size - 96; /* the cut notes fit below */
	bool cut = false;

	out[0] = '\0';
	snprintf(line, sizeof(line), "%s %s, %zu bytes%s\n",
		 e->line.up ? "->" : "<-", e->line.kind, e->full_len,
		 e->shortened ? " (long strings shortened)" : "");
	append(out, room, &n, line);
	if (!e->body) {
		append(out, room, &n, e->full_len ? "(not kept: out of memory)"
						  : "(no body)");
		goto out;
	}
	if (j && (pretty = cJSON_Print(j))) {
		/* cJSON indents with tabs and puts one after a colon */
		bool indent = true;

		for (const char *p = pretty; *p; p++) {
			if (n + 3 > room) {
				cut = true;
				break;
			}
			if (*p == '\t' && indent) {
				out[n++] = ' ';
				out[n++] = ' ';
			} else {
				out[n++] = *p == '\t' ? ' ' : *p;
				indent = *p == '\n';
			}
		}
	} else {
		append(out, room, &n, e->truncated ? "(cut short: shown as "
		       "text)\n" : "(not JSON)\n");
		for (size_t i = 0; i < e->len; i++) {
			unsigned char c = (unsigned char)e->body[i];

			if (n + 2 > room) {
				cut = true;
				break;
			}
			out[n++] = (c < 0x20 && c != '\n') || c == 0x7f ? '.' : c;
		}
	}
	/* a cut (here, or the log's at UI_BODY_MAX) never ends inside a
	 * character: an incomplete last one goes */
	if (cut || e->truncated) {
		size_t lead = n;

		while (lead > 0 && ((unsigned char)out[lead - 1] & 0xC0) == 0x80)
			lead--;
		if (lead > 0 && utf8_decode((unsigned char *)out + lead - 1,
					    n - lead + 1, NULL) != n - lead + 1)
			n = lead - 1;
	}
	out[n] = '\0';
	if (cut)
		append(out, size, &n, "\n... (cut to fit the window)");
	if (e->truncated) {
		snprintf(line, sizeof(line), "\n... (truncated: %zu of %zu bytes "
			 "kept)", e->len, e->full_len);
		append(out, size, &n, line);
	}
out:
	cJSON_Delete(j);
	free(pretty);
}

static double clamp01(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* Identity, readings and banner from the last pass. */
static void view_pass(const ui_state *s, int64_t now_ms, ui_view *v)
{
	const dev_pass *p = &s->pass;
	int64_t age = now_ms - s->pass_ms;

	if (!s->has_pass)
		return;
	if (p->known)
		put_text(v->name, sizeof(v->name), *p->name ? p->name : p->person_id);
	else if (p->has_face && p->recognition)
		snprintf(v->name, sizeof(v->name), "Stranger");
	if (p->has_face && p->recognition)
		snprintf(v->similarity, sizeof(v->similarity), "similarity %.0f %%",
			 p->similarity * 100);
	if (p->has_temperature) {
		snprintf(v->temperature, sizeof(v->temperature), "%.1f %s",
			 p->temperature, p->unit);
		v->temp_color = p->temperature_high ? UI_COL_RED : UI_COL_GREEN;
	}
	if (p->has_mask) {
		snprintf(v->mask, sizeof(v->mask), "%s", p->mask ? "mask on"
								 : "no mask");
		v->mask_color = p->mask_bad ? UI_COL_AMBER : UI_COL_GREEN;
	}
	if (age < 0 || age >= BANNER_HOLD_MS + BANNER_FADE_MS)
		return;
	v->banner = true;
	v->banner_alpha = age <= BANNER_HOLD_MS ? 1.0
			  : 1.0 - (double)(age - BANNER_HOLD_MS) / BANNER_FADE_MS;
	switch (p->verdict) {
	case DEV_PASS_PASSED:
		v->banner_color = UI_COL_GREEN;
		snprintf(v->banner_title, sizeof(v->banner_title), "PASS");
		break;
	case DEV_PASS_DENIED:
		v->banner_color = UI_COL_RED;
		snprintf(v->banner_title, sizeof(v->banner_title), "DENIED");
		break;
	default:
		v->banner_color = UI_COL_AMBER;
		snprintf(v->banner_title, sizeof(v->banner_title), "%s",
			 p->has_face ? "TRY AGAIN" : "NO FACE");
		break;
	}
	put_text(v->banner_reason, sizeof(v->banner_reason), p->reason);
}

static void view_net(const ui_state *s, int64_t now_ms, ui_view *v)
{
	snprintf(v->server, sizeof(v->server), "%s", s->server);
	v->offline_records = s->offline;
	v->online = s->powered && !s->net_down && s->answered;
	v->net_color = !s->powered ? UI_COL_GREY
		       : v->online ? UI_COL_GREEN : UI_COL_RED;
	snprintf(v->net_text, sizeof(v->net_text), "%s",
		 !s->powered ? "off" : s->net_text);
	if (s->has_last) {
		char st[16];

		if (s->last_status)
			snprintf(st, sizeof(st), "%d", s->last_status);
		else
			snprintf(st, sizeof(st), "failed");
		snprintf(v->last, sizeof(v->last), "%s %s, %.1f s ago",
			 s->last_kind, st, (double)(now_ms - s->last_ms) / 1000);
	}
	if (s->has_beat && now_ms >= s->beat_ms && now_ms - s->beat_ms < PULSE_MS)
		v->pulse = 1.0 - (double)(now_ms - s->beat_ms) / PULSE_MS;
}

static void view_log(const ui_state *s, ui_view *v)
{
	uint64_t oldest = log_oldest(s), sel = log_sel(s), from, to;

	v->log_selected = -1;
	if (!s->total)
		return;
	/* the newest UI_VIEW_LOG lines, or the window that starts at the
	 * selection when the user went further back */
	to = s->total;
	from = to - oldest > UI_VIEW_LOG ? to - UI_VIEW_LOG : oldest;
	if (sel < from) {
		from = sel;
		to = from + UI_VIEW_LOG;
	}
	for (uint64_t i = from; i < to; i++)
		v->log[v->log_n++] = s->ring[i % UI_RING].line;
	v->log_selected = (int)(sel - from);
	if (s->show_json)
		json_text(&s->ring[sel % UI_RING], v->json, sizeof(v->json));
}

void ui_view_build(const ui_state *s, int64_t now_ms, ui_view *v)
{
	memset(v, 0, sizeof(*v));
	v->powered = s->powered;
	v->frame_gen = s->frame_gen;
	v->frame_w = s->frame_w;
	v->frame_h = s->frame_h;
	v->has_face = s->has_face;
	memcpy(v->box, s->box, sizeof(v->box));
	memcpy(v->pts, s->pts, sizeof(v->pts));
	view_pass(s, now_ms, v);
	if (*s->voice && now_ms >= s->voice_ms && now_ms - s->voice_ms < VOICE_MS)
		snprintf(v->voice, sizeof(v->voice), "%s", s->voice);
	v->relay_on = s->relay_on;
	v->relay_progress = -1;
	if (s->relay_on)
		v->relay_progress = s->relay_len_ms > 0
			? clamp01((double)(now_ms - s->relay_ms) / s->relay_len_ms)
			: 0;
	v->door_open = s->door_open;
	view_net(s, now_ms, v);
	view_log(s, v);
	v->show_json = s->show_json;
	v->help = s->help;
	v->paused = s->paused;
	snprintf(v->step, sizeof(v->step), "%s", s->step);
}
