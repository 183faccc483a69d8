/* bench_win.c -- what drawing one demo frame costs (tools/demo/win.c): a
 * full view (camera picture, face box and landmarks, banner, readings,
 * relay animation, heartbeat pulse, 64 log lines) drawn unpaced on a
 * private Xvfb at three window sizes; prints frames per second, the p99
 * frame time (win_stats) and text renders per frame.  No target: the demo
 * is paced to about 60 fps, so the figure says how much of a frame's
 * 16.7 ms the drawing takes here.  Usage: bench_win [FRAMES] */
#include "image.h"
#include "ui.h"
#include "win.h"
#include "xvfb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static ui_view V;

static void view_full(ui_view *v, const img *im)
{
	memset(v, 0, sizeof *v);
	v->powered = true;
	v->online = true;
	v->net_color = UI_COL_GREEN;
	snprintf(v->net_text, sizeof v->net_text, "online");
	snprintf(v->server, sizeof v->server, "http://127.0.0.1:8080");
	v->frame_w = im->w;
	v->frame_h = im->h;
	v->has_face = true;
	v->box[0] = im->w * 0.3f, v->box[1] = im->h * 0.25f;
	v->box[2] = im->w * 0.4f, v->box[3] = im->h * 0.45f;
	for (int i = 0; i < 68; i++) {
		v->pts[i][0] = v->box[0] + v->box[2] * (0.1f + 0.05f * (i % 17));
		v->pts[i][1] = v->box[1] + v->box[3] * (0.3f + 0.15f * (i / 17));
	}
	snprintf(v->name, sizeof v->name, "Ada Lovelace");
	snprintf(v->similarity, sizeof v->similarity, "similarity 87 %%");
	snprintf(v->temperature, sizeof v->temperature, "36.6 °C");
	v->temp_color = UI_COL_GREEN;
	snprintf(v->mask, sizeof v->mask, "mask on");
	v->mask_color = UI_COL_GREEN;
	v->banner = true;
	v->banner_color = UI_COL_GREEN;
	snprintf(v->banner_title, sizeof v->banner_title, "PASS");
	snprintf(v->banner_reason, sizeof v->banner_reason, "welcome");
	v->banner_alpha = 1;
	snprintf(v->voice, sizeof v->voice, "Welcome, Ada");
	v->relay_on = true;
	v->log_n = UI_VIEW_LOG;
	v->log_selected = -1;
	for (int i = 0; i < UI_VIEW_LOG; i++) {
		ui_log_line *l = &v->log[i];
		l->up = i % 2 == 0;
		snprintf(l->kind, sizeof l->kind, l->up ? "heartbeat" :
			 "heartbeat reply");
		snprintf(l->summary, sizeof l->summary, "seq %d", i / 2);
		l->status = l->up ? 0 : 200;
		l->color = l->up ? UI_COL_TEXT : UI_COL_GREEN;
	}
	snprintf(v->step, sizeof v->step, "1/4 a known person passes");
}

/* This process's CPU time (all its threads: Mesa's llvmpipe renders on
 * several): on a shared machine a steadier figure than the wall clock. */
static double cpu_ms(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
	       (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	static const int sizes[][2] = {{540, 960}, {1080, 1920}, {1920, 1080}};
	int frames = argc > 1 ? atoi(argv[1]) : 600;
	char err[512];
	xvfb x;
	img im = {0};

	if (frames < 10) {
		fprintf(stderr, "bench_win: FRAMES \"%s\": at least 10\n", argv[1]);
		return 2;
	}
	if (img_load_file_trusted("faces/person-a-1.jpg", &im, err, sizeof err) < 0) {
		fprintf(stderr, "bench_win: %s (run from the repository, make faces)\n",
			err);
		return 1;
	}
	if (xvfb_start(&x, 2048, 2048, err, sizeof err) < 0) {
		fprintf(stderr, "bench_win: %s\n", err);
		img_free(&im);
		return 1;
	}
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		win_opts o = {.w = sizes[s][0], .h = sizes[s][1]};
		win_camera cam = {im.px, im.w, im.h, im.w * 3, 1};
		win *w;
		unsigned long r0;
		double t0, c0, fps, p99;

		if (win_open(&o, &w, err, sizeof err) < 0) {
			fprintf(stderr, "bench_win: %s\n", err);
			break;
		}
		view_full(&V, &im);
		for (int i = 0; i < 30; i++) /* warm: fonts, texts, texture */
			win_frame(w, &V, &cam, NULL, NULL);
		r0 = win_text_renders(w);
		t0 = now_ms();
		c0 = cpu_ms();
		for (int i = 0; i < frames; i++) {
			/* what changes at 60 fps: the animations every frame,
			 * "N s ago" every 6 frames, the picture every 120 */
			V.pulse = 1.0 - (i % 48) / 48.0;
			V.relay_progress = (i % 180) / 180.0;
			snprintf(V.last, sizeof V.last,
				 "heartbeat 200, %.1f s ago", (i / 6 % 50) / 10.0);
			cam.gen = 1 + (uint64_t)(i / 120);
			win_frame(w, &V, &cam, NULL, NULL);
		}
		win_stats(w, &fps, &p99);
		printf("bench_win %dx%d: %d frames in %.0f ms, %.1f fps (%.2f ms "
		       "a frame, %.2f ms CPU), last %d: %.1f fps, p99 %.2f ms; "
		       "%.2f text renders a frame\n", sizes[s][0], sizes[s][1],
		       frames, now_ms() - t0, frames * 1e3 / (now_ms() - t0),
		       (now_ms() - t0) / frames, (cpu_ms() - c0) / frames,
		       WIN_STATS_FRAMES, fps, p99,
		       (double)(win_text_renders(w) - r0) / frames);
		win_close(w);
	}
	xvfb_stop(&x);
	img_free(&im);
	return 0;
}
