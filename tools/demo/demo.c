/* demo.c -- `camsim demo` (demo.h): options, the in-process mock and its
 * set-up commands, the device on its event loop (a second thread), the
 * frame loop (this thread), the story and --state-script, --voice, the
 * screenshot and the frame rate.  The device is touched only on the loop
 * thread (loop_post); the UI state only under D->mu.  No SDL here. */
#include "demo.h"

#include "b64.h"
#include "base.h"
#include "datadir.h"
#include "demo_script.h"
#include "device.h"
#include "file.h"
#include "hist.h"
#include "image.h"
#include "mock.h"
#include "operator.h"
#include "runner.h"
#include "scenario.h"
#include "sim_err.h"
#include "ui.h"
#include "win.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define DEMO_CID "camsim-demo"
#define ENROL_N 4             /* person-a .. person-d: docs/faces.md */
#define STRANGER "person-h"   /* detected, far from all four enrolled */
#define NORMAL_TEMP 36.6
#define FEVER_TEMP 38.6
#define THRESHOLD_TEMP 37.3
#define POWER_OFF_MS 1500     /* a power cycle's dark time */
#define IDLE_REUPLOAD_MS 5000 /* the story's retransmission wait (D26: 3 min) */
#define READY_LIMIT_MS 90000  /* the story starts anyway after this */
#define FRAME_US 16667        /* 60 fps */
#define JOBS 32               /* actions waiting for the loop thread */
#define VOICES 8              /* espeak-ng processes at once */
#define PICTURE_MAX (64u << 20)

static const char usage[] =
	"usage: camsim demo [--server URL | --scenario FILE] [--faces DIR]\n"
	"                   [--voice] [--screenshot FILE --after SECONDS]\n"
	"                   [--state-script FILE] [--size WxH] [--fullscreen]\n"
	"\n"
	"One simulated tablet in a window that looks and acts like it: camera\n"
	"view, name, temperature, Pass / Denied banner, relay and door, network\n"
	"and the protocol log (docs/demo.md).  Without --server or --scenario\n"
	"it runs against the in-process mock, enrols person-a .. person-d of\n"
	"faces/ and plays a story that loops; keys work at any time (? lists\n"
	"them).\n"
	"  --server URL        a real server (http://host:port/path): no enrolment,\n"
	"                      no story, keys only\n"
	"  --scenario FILE     play a scenario file in the window, the current step\n"
	"                      as caption\n"
	"  --faces DIR         the face pictures (default: faces/ of camsim's\n"
	"                      data, the build tree's or the installed one)\n"
	"  --voice             speak every voice prompt with espeak-ng\n"
	"  --screenshot FILE   write the window as a PNG --after SECONDS after the\n"
	"  --after SECONDS     set-up (the story's time 0) and exit 0\n"
	"  --state-script FILE timed actions in place of the story: a JSON array of\n"
	"                      {\"at\": s, \"action\": \"next\", \"arg\": ..., \"caption\": ...}\n"
	"  --size WxH          window size in points (default 540x960)\n"
	"  --fullscreen        start full screen (F11 toggles)\n"
	"Exit: 0 closed or screenshot written, 1 a runtime failure (no display,\n"
	"no font, ...), 2 a wrong command line or state script.\n";

typedef struct demo_opts {
	const char *server, *scenario, *faces, *screenshot, *state_script;
	char faces_found[PATH_MAX + 200]; /* the data directory's faces/ */
	double after;
	bool has_after, voice, fullscreen;
	int w, h;
} demo_opts;

typedef struct person {
	char name[64];      /* "person-a", as the manifest says */
	char *enrol;        /* the enrolment photo's path, or NULL */
	char *camera;       /* what the camera sees of them, or NULL */
} person;

typedef struct job {
	struct demo *D;
	bool used;          /* under D->mu */
	ui_action a;
	char arg[PATH_MAX]; /* a dropped file's path */
} job;

typedef struct demo {
	demo_opts o;
	/* ---- shared: under mu ---- */
	pthread_mutex_t mu;
	ui_state *ui;
	img cam;                  /* the picture on the camera */
	uint64_t cam_gen;
	job jobs[JOBS];
	pid_t voices[VOICES];
	atomic_bool ready;        /* set-up done: the timeline may start */
	atomic_bool batch_done;   /* the device applied the batch import */
	atomic_int pending;       /* actions posted and not yet carried out */
	/* ---- the loop thread's (and set-up's) ---- */
	loop *l;
	store *st;
	recog *rg;
	mock *m;
	dev *d;
	dev_env env;
	char dir[PATH_MAX];       /* temporary: device state, mock db */
	char url[256];
	person *people;
	size_t n_people, cur, stranger;
	size_t n_enrol;
	double temp;              /* the thermal sensor's next reading */
	double fever;             /* > 0: the next person's reading */
	bool mask, net_up;
	char *last;               /* the picture shown last (re-shown when
				     temperature or mask change) */
	loop_timer power_t, tick_t;
	int64_t ready_limit;      /* loop ms */
	int ticks;
} demo;

static atomic_int stop_signal;

/* Also the scenario runner's stop flag (run_opts.stop). */
static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_signal, RUN_STOP_INTERRUPTED);
}

static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int64_t mono_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* ---------------------------------------------------------------- options */

static int bad(FILE *err, const char *opt, const char *v, const char *rule)
{
	fprintf(err, "camsim demo: %s is \"%s\"; it must be %s\n", opt, v, rule);
	return 2;
}

/* Returns -1 to go on, or an exit code (0 after --help). */
static int parse_args(int argc, char **argv, FILE *out, FILE *err,
		      demo_opts *o)
{
	*o = (demo_opts){.w = 540, .h = 960};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, out);
			return 0;
		}
		if (!strcmp(a, "--voice")) {
			o->voice = true;
			continue;
		}
		if (!strcmp(a, "--fullscreen")) {
			o->fullscreen = true;
			continue;
		}
		if (strcmp(a, "--server") && strcmp(a, "--scenario") &&
		    strcmp(a, "--faces") && strcmp(a, "--screenshot") &&
		    strcmp(a, "--after") && strcmp(a, "--state-script") &&
		    strcmp(a, "--size")) {
			fprintf(err, "camsim demo: %s \"%s\"\n%s",
				strncmp(a, "--", 2) ? "unexpected argument"
						    : "unknown option", a, usage);
			return 2;
		}
		if (!v) {
			fprintf(err, "camsim demo: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--server")) {
			if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
				return bad(err, a, v, "an http:// or https:// URL");
			o->server = v;
		} else if (!strcmp(a, "--scenario"))
			o->scenario = v;
		else if (!strcmp(a, "--faces"))
			o->faces = v;
		else if (!strcmp(a, "--screenshot"))
			o->screenshot = v;
		else if (!strcmp(a, "--state-script"))
			o->state_script = v;
		else if (!strcmp(a, "--after")) {
			errno = 0;
			o->after = strtod(v, &end);
			if (!*v || *end || errno || !isfinite(o->after) ||
			    o->after < 0 || o->after > 3600)
				return bad(err, a, v, "a number of seconds from 0 "
					   "to 3600");
			o->has_after = true;
		} else {
			long w, h;
			errno = 0;
			w = strtol(v, &end, 10);
			h = *end == 'x' ? strtol(end + 1, &end, 10) : 0;
			if (*end || errno || w < 160 || h < 160 || w > 8192 ||
			    h > 8192)
				return bad(err, a, v, "WxH, each from 160 to 8192 "
					   "(540x960)");
			o->w = (int)w;
			o->h = (int)h;
		}
	}
	if (!!o->screenshot != o->has_after) {
		fprintf(err, "camsim demo: %s needs %s\n", o->screenshot ?
			"--screenshot" : "--after", o->screenshot ? "--after "
			"SECONDS" : "--screenshot FILE");
		return 2;
	}
	if (o->scenario && o->state_script) {
		fprintf(err, "camsim demo: --scenario and --state-script do not "
			"combine (the scenario is the script)\n");
		return 2;
	}
	return -1;
}

/* ---------------------------------------------------------------- faces */

/* The people of DIR/manifest.json, in file order. */
static int load_people(demo *D, char *err, size_t errlen)
{
	char path[PATH_MAX], *text = NULL;
	size_t len;
	cJSON *j = NULL;
	const cJSON *f;
	int rc;

	snprintf(path, sizeof path, "%s/manifest.json", D->o.faces);
	rc = base_read_file("faces manifest", path, 16u << 20, &text, &len, err,
			    errlen);
	if (rc < 0) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, " (make faces writes it; --faces "
			 "names another folder)");
		return SIM_EIO;
	}
	rc = SIM_EINVAL;
	if (!(j = cJSON_Parse(text))) {
		snprintf(err, errlen, "%.900s: not JSON", path);
		goto out;
	}
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(j, "files")) {
		const char *p = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(f, "path"));
		const char *who = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(f, "person"));
		const char *var = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(f, "variant"));
		person *ps;
		char **slot;
		size_t i;

		if (!p || !who || !var ||
		    (strcmp(var, "enrol") && strcmp(var, "camera")))
			continue;
		for (i = 0; i < D->n_people; i++)
			if (!strcmp(D->people[i].name, who))
				break;
		if (i == D->n_people) {
			if (!(ps = realloc(D->people, (i + 1) * sizeof *ps))) {
				rc = SIM_ENOMEM;
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			D->people = ps;
			memset(&ps[i], 0, sizeof ps[i]);
			snprintf(ps[i].name, sizeof ps[i].name, "%s", who);
			D->n_people++;
		}
		slot = !strcmp(var, "enrol") ? &D->people[i].enrol
					     : &D->people[i].camera;
		free(*slot);
		if (asprintf(slot, "%s/%s", D->o.faces, p) < 0) {
			*slot = NULL;
			rc = SIM_ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	if (!D->n_people) {
		snprintf(err, errlen, "%.900s: lists no enrolment or camera picture "
			 "(\"files\" with variant enrol / camera)", path);
		goto out;
	}
	D->stranger = D->n_people - 1;
	for (size_t i = 0; i < D->n_people; i++)
		if (!strcmp(D->people[i].name, STRANGER))
			D->stranger = i;
	rc = 0;
out:
	cJSON_Delete(j);
	free(text);
	return rc;
}

static void free_people(demo *D)
{
	for (size_t i = 0; i < D->n_people; i++) {
		free(D->people[i].enrol);
		free(D->people[i].camera);
	}
	free(D->people);
	D->people = NULL;
	D->n_people = 0;
}

/* "person-a" is shown as "Person A". */
static void display_name(const char *who, char *out, size_t n)
{
	if (!strncmp(who, "person-", 7) && who[7] && !who[8])
		snprintf(out, n, "Person %c", who[7] - 'a' + 'A');
	else
		snprintf(out, n, "%s", who);
}

/* ---------------------------------------------------------------- voice */

static bool espeak_found(void)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		snprintf(buf, sizeof buf, "%.*s/espeak-ng", (int)n, p);
		if (n && access(buf, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/* Starts espeak-ng saying text, without waiting (reap_voices collects it).
 * Called under D->mu. */
static void say(demo *D, const char *text)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = {"espeak-ng", "-s", "150", (char *)text, NULL};
	size_t i;
	pid_t pid;

	if (text[0] == '-' || !text[0])
		return; /* would be an option, or nothing */
	for (i = 0; i < VOICES && D->voices[i]; i++)
		;
	if (i == VOICES)
		return; /* still speaking: this prompt is only shown */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "espeak-ng", &fa, NULL, argv, environ) == 0)
		D->voices[i] = pid;
	posix_spawn_file_actions_destroy(&fa);
}

/* Collects the voices that ended; all of them (waiting) when wait. */
static void reap_voices(demo *D, bool wait)
{
	pthread_mutex_lock(&D->mu);
	for (size_t i = 0; i < VOICES; i++)
		if (D->voices[i] &&
		    waitpid(D->voices[i], NULL, wait ? 0 : WNOHANG) != 0)
			D->voices[i] = 0;
	pthread_mutex_unlock(&D->mu);
}

/* ---------------------------------------------------------------- device side
 * Everything below runs on the loop thread. */

static void on_event(void *ud, dev *d, const dev_event *ev)
{
	demo *D = ud;

	(void)d;
	/* applied, whatever the results: without models nothing is
	 * enrolled, and waiting longer would not change that */
	if (ev->kind == DEV_EV_COMMAND && !strncmp(ev->text, "facelib_batch", 13))
		atomic_store(&D->batch_done, true);
	pthread_mutex_lock(&D->mu);
	ui_event(D->ui, ev, mono_ms());
	if (ev->kind == DEV_EV_VOICE && D->o.voice)
		say(D, ev->text);
	pthread_mutex_unlock(&D->mu);
}

static void on_exchange(void *ud, dev *d, const dev_exchange *x)
{
	demo *D = ud;

	(void)d;
	pthread_mutex_lock(&D->mu);
	ui_exchange(D->ui, x, mono_ms());
	pthread_mutex_unlock(&D->mu);
}

static void on_pass(void *ud, dev *d, const dev_pass *p)
{
	demo *D = ud;

	(void)d;
	pthread_mutex_lock(&D->mu);
	ui_pass(D->ui, p, mono_ms());
	pthread_mutex_unlock(&D->mu);
}

/* An error line in the window's log (what a user did wrong, or what
 * failed outside the device). */
static void __attribute__((format(printf, 2, 3)))
show_error(demo *D, const char *fmt, ...)
{
	dev_event ev = {.kind = DEV_EV_ERROR};
	va_list ap;

	ev.t = D->d ? dev_now_ms(D->d) : loop_now(D->l);
	va_start(ap, fmt);
	vsnprintf(ev.text, sizeof ev.text, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&D->mu);
	ui_event(D->ui, &ev, mono_ms());
	pthread_mutex_unlock(&D->mu);
}

/* Decodes the picture for the camera view (not on the UI thread) and
 * hands the pixels over; a picture that does not decode leaves the view
 * as it was (the device says why). */
static void show_picture(demo *D, const char *data, size_t len)
{
	img im;
	img old;

	if (img_decode(data, len, &im, NULL, 0) < 0)
		return;
	pthread_mutex_lock(&D->mu);
	old = D->cam;
	D->cam = im;
	D->cam_gen++;
	ui_frame(D->ui, im.w, im.h, mono_ms());
	pthread_mutex_unlock(&D->mu);
	img_free(&old);
}

/* The person or picture at path steps in front of the camera. */
static void face(demo *D, const char *path)
{
	char err[512], *buf = NULL;
	size_t len;
	dev_face_in in = {0};
	int rc;

	if (D->last != path) {
		free(D->last);
		D->last = strdup(path);
	}
	rc = base_read_file("picture", path, PICTURE_MAX, &buf, &len, err,
			    sizeof err);
	if (rc < 0) {
		show_error(D, "%s", err);
		return;
	}
	show_picture(D, buf, len);
	/* The reading goes with the event, not through dev_thermal_script:
	 * a scripted reading stays queued when no face is measured and
	 * would go to the next person. */
	in.image = buf;
	in.image_len = len;
	in.has_temperature = true;
	in.temperature = D->fever > 0 ? D->fever : D->temp;
	in.has_mask = true;
	in.mask = D->mask;
	D->fever = 0;
	rc = dev_face(D->d, &in, err, sizeof err);
	/* the device reports a bad picture and failed recognition itself */
	if (rc == SIM_ESTATE)
		show_error(D, "%s", err);
	free(buf);
}

static void show_person(demo *D, size_t i)
{
	const person *p = &D->people[i];

	D->cur = i;
	if (!p->camera && !p->enrol) {
		show_error(D, "%s has no picture in %s/manifest.json", p->name,
			   D->o.faces);
		return;
	}
	face(D, p->camera ? p->camera : p->enrol);
}

static void power_on(loop_timer *t)
{
	demo *D = container_of(t, demo, power_t);
	char err[256];

	if (!dev_is_on(D->d) && dev_power_on(D->d, err, sizeof err) < 0)
		show_error(D, "power on: %s", err);
}

/* Is arg the "on" word, the "off" word, or neither (toggle)? */
static bool pick(const char *arg, const char *on, bool cur)
{
	if (!*arg)
		return !cur;
	return !strcmp(arg, on);
}

static void act(demo *D, ui_action a, const char *arg)
{
	size_t i;

	if (!D->d)
		return; /* a scenario's device is the runner's */
	switch (a) {
	case UI_ACT_NEXT:
	case UI_ACT_PREV:
		if (*arg) {
			for (i = 0; i < D->n_people; i++)
				if (!strcmp(D->people[i].name, arg))
					break;
			if (i == D->n_people) {
				show_error(D, "%s: no person \"%s\" in %s/"
					   "manifest.json", a == UI_ACT_NEXT ?
					   "next" : "prev", arg, D->o.faces);
				return;
			}
		} else {
			i = (D->cur + (a == UI_ACT_NEXT ? 1 : D->n_people - 1)) %
			    D->n_people;
		}
		show_person(D, i);
		return;
	case UI_ACT_STRANGER:
		show_person(D, D->stranger);
		return;
	case UI_ACT_DROP:
		face(D, arg);
		return;
	case UI_ACT_TEMP_UP:
	case UI_ACT_TEMP_DOWN:
		D->temp += a == UI_ACT_TEMP_UP ? 0.2 : -0.2;
		D->temp = D->temp < 30 ? 30 : D->temp > 45 ? 45 : D->temp;
		D->temp = round(D->temp * 10) / 10;
		if (D->last)
			face(D, D->last);
		return;
	case UI_ACT_FEVER:
		D->fever = *arg ? strtod(arg, NULL) : FEVER_TEMP;
		return;
	case UI_ACT_MASK:
		D->mask = pick(arg, "on", D->mask);
		if (D->last)
			face(D, D->last);
		return;
	case UI_ACT_DOOR:
		dev_door(D->d, pick(arg, "open", dev_door_open(D->d)));
		return;
	case UI_ACT_NET:
		D->net_up = pick(arg, "up", D->net_up);
		dev_network(D->d, D->net_up);
		return;
	case UI_ACT_POWER:
		if (dev_is_on(D->d)) {
			dev_power_off(D->d);
			loop_timer_at(D->l, &D->power_t,
				      loop_now(D->l) + POWER_OFF_MS);
		} else {
			power_on(&D->power_t);
		}
		return;
	default:
		return;
	}
}

static void run_job(void *ud)
{
	job *j = ud;
	demo *D = j->D;
	int64_t n;

	act(D, j->a, j->arg);
	/* a pass may have stored a record: counted at once, not at the
	 * next second's sample (before the action counts as done) */
	n = D->d ? dev_offline_records(D->d) : 0;
	pthread_mutex_lock(&D->mu);
	ui_offline(D->ui, n);
	j->used = false;
	pthread_mutex_unlock(&D->mu);
	atomic_fetch_sub(&D->pending, 1);
}

/* Every 250 ms: is the set-up done; every second: the offline records. */
static void tick(loop_timer *t)
{
	demo *D = container_of(t, demo, tick_t);

	if (!atomic_load(&D->ready) &&
	    (dev_library_size(D->d) >= (int64_t)D->n_enrol ||
	     atomic_load(&D->batch_done) ||
	     loop_now(D->l) >= D->ready_limit)) {
		if (dev_library_size(D->d) < (int64_t)D->n_enrol)
			show_error(D, "set-up: %" PRId64 " of %zu people enrolled; "
				   "the story starts anyway",
				   dev_library_size(D->d), D->n_enrol);
		atomic_store(&D->ready, true);
	}
	if (D->ticks++ % 4 == 0) {
		int64_t n = dev_offline_records(D->d);
		pthread_mutex_lock(&D->mu);
		ui_offline(D->ui, n);
		pthread_mutex_unlock(&D->mu);
	}
	loop_timer_at(D->l, t, loop_now(D->l) + 250);
}

static void *loop_main(void *arg)
{
	loop_run(arg);
	return NULL;
}

/* ---------------------------------------------------------------- set-up */

/* One operator step (operator.h) into the mock's queue for the device. */
static int enqueue(demo *D, cJSON *step, char *err, size_t errlen)
{
	op_ctx ctx = {0};
	cJSON *cmd = NULL;
	int64_t id;
	int rc;

	if (!step) {
		snprintf(err, errlen, "out of memory");
		return SIM_ENOMEM;
	}
	if ((rc = op_check(step, "camsim demo", "set-up", err, errlen)) < 0 ||
	    (rc = op_command(step, &ctx, &cmd, err, errlen)) < 0)
		goto out;
	id = mock_enqueue(D->m, DEMO_CID, cmd, err, errlen);
	rc = id < 0 ? SIM_EINVAL : 0;
out:
	cJSON_Delete(cmd);
	cJSON_Delete(step);
	return rc;
}

/* The config, the strategy and the people, queued before the device's
 * first heartbeat so that its reply carries them all: in the device's
 * apply order (protocol.md D5), since the mock never lets a command
 * overtake one queued before it, and the people as one batch import (a
 * reply holds one facelib_manage: single enrolments would take a
 * heartbeat each).  People last, so a full library means the rest was
 * applied too. */
static int queue_setup(demo *D, char *err, size_t errlen)
{
	static const char strategy[] =
		"{\"operator\":\"strategies\",\"strategies\":[{\"strategyId\":1,"
		"\"name\":\"staff, every day\",\"state\":1,\"strategyRuleList\":"
		"[{\"ruleId\":1,\"begDate\":\"2020/01/01\",\"endDate\":"
		"\"2099/12/31\",\"timeRange\":\"00:00:00-23:59:59\",\"week\":"
		"\"1,2,3,4,5,6,7\",\"type\":1}]}]}";
	char config[512];
	cJSON *batch = cJSON_CreateObject(), *list;
	int rc;

	snprintf(config, sizeof config,
		 "{\"operator\":\"config\",\"config\":{\"face_rec\":{\"enable\":1,"
		 "\"voice\":1,\"relay\":1,\"score\":70},\"temperature\":{\"enable\""
		 ":1,\"high_threshold\":%.1f,\"relay\":1},\"facemask\":{\"enable\":"
		 "1,\"mode\":1}}}", THRESHOLD_TEMP);
	if (!batch || !cJSON_AddStringToObject(batch, "operator", "batch") ||
	    !(list = cJSON_AddArrayToObject(batch, "persons")))
		goto oom;
	for (size_t i = 0; i < D->n_people && D->n_enrol < ENROL_N; i++) {
		const person *p = &D->people[i];
		char *buf = NULL, *b64, name[64], id[80];
		size_t len;
		cJSON *e;

		if (!p->enrol)
			continue;
		if (!(e = cJSON_CreateObject()))
			goto oom;
		if (!cJSON_AddItemToArray(list, e)) {
			cJSON_Delete(e);
			goto oom;
		}
		rc = base_read_file("enrolment photo", p->enrol, PICTURE_MAX, &buf,
				    &len, err, errlen);
		if (rc < 0) {
			cJSON_Delete(batch);
			return SIM_EIO;
		}
		b64 = b64_encode(buf, len, NULL);
		free(buf);
		display_name(p->name, name, sizeof name);
		snprintf(id, sizeof id, "demo-%s", p->name);
		if (!b64 || !cJSON_AddStringToObject(e, "op", "add") ||
		    !cJSON_AddStringToObject(e, "id", id) ||
		    !cJSON_AddStringToObject(e, "name", name) ||
		    !cJSON_AddNumberToObject(e, "strategy_id", 1) ||
		    !cJSON_AddStringToObject(e, "photo_base64", b64)) {
			free(b64);
			goto oom;
		}
		free(b64);
		D->n_enrol++;
	}
	if ((rc = enqueue(D, cJSON_Parse(config), err, errlen)) < 0 ||
	    (rc = enqueue(D, cJSON_Parse(strategy), err, errlen)) < 0) {
		cJSON_Delete(batch);
		return rc;
	}
	return enqueue(D, batch, err, errlen);
oom:
	cJSON_Delete(batch);
	snprintf(err, errlen, "out of memory");
	return SIM_ENOMEM;
}

static int rm_entry(const char *p, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	remove(p);
	return 0;
}

/* The mock (unless --server), the store, the recogniser and the device,
 * powered on; the loop thread not started yet. */
static int setup_device(demo *D, char *err, size_t errlen)
{
	dev_opts dop = {.cid = DEMO_CID, .interval_s = 3,
			.app_version = "V1.0.0"};
	int rc;

	if ((rc = loop_new(LOOP_REAL, 1.0, 0, &D->l)) < 0) {
		snprintf(err, errlen, "cannot create the event loop");
		return rc;
	}
	if (!D->o.server) {
		char db[PATH_MAX + 16];
		mock_opts mo = {.listen = "127.0.0.1:0", .path = "/api/face",
				.db = db, .prof = &proto_profile_strict};
		snprintf(db, sizeof db, "%s/mock.db", D->dir);
		if ((rc = mock_start(&mo, &D->m, err, errlen)) < 0)
			return rc;
		snprintf(D->url, sizeof D->url, "http://127.0.0.1:%d/api/face",
			 mock_port(D->m));
	} else {
		snprintf(D->url, sizeof D->url, "%s", D->o.server);
	}
	if ((rc = store_open(D->dir, &D->st, err, errlen)) < 0)
		return rc;
	err[0] = '\0';
	if (!(D->rg = recog_open(NULL, err, errlen))) {
		snprintf(err, errlen, "out of memory starting the recogniser");
		return SIM_ENOMEM;
	}
	if (!recog_available(D->rg)) /* shown in the log, not fatal */
		show_error(D, "recognition off: %s", err);
	D->env = (dev_env){.loop = D->l, .store = D->st, .recog = D->rg,
			   .prof = &proto_profile_strict,
			   .on_event = on_event, .event_ud = D,
			   .on_exchange = on_exchange, .exchange_ud = D,
			   .on_pass = on_pass, .pass_ud = D,
			   .idle_reupload_ms = IDLE_REUPLOAD_MS};
	dev_env_defaults(&D->env);
	dop.server_url = D->url;
	if ((rc = dev_new(&D->env, &dop, &D->d, err, errlen)) < 0)
		return rc;
	if (D->m && (rc = queue_setup(D, err, errlen)) < 0)
		return rc;
	if ((rc = dev_power_on(D->d, err, errlen)) < 0)
		return rc;
	D->ready_limit = loop_now(D->l) + READY_LIMIT_MS;
	atomic_store(&D->ready, !D->m);
	D->tick_t.fn = tick;
	D->power_t.fn = power_on;
	return loop_timer_at(D->l, &D->tick_t, loop_now(D->l));
}

/* ---------------------------------------------------------------- scenario */

static void obs_step(void *ud, const scenario *s, const scn_step *st)
{
	demo *D = ud;
	char cap[96];
	const cJSON *pic = cJSON_GetObjectItemCaseSensitive(st->obj, "image");
	const char *what = st->note ? st->note : st->action;

	snprintf(cap, sizeof cap, "%s %zu/%zu: %s %s", s->name, st->index + 1,
		 s->n_steps, st->kind == SCN_EXPECT ? "expect" :
		 st->kind == SCN_OPERATOR ? "operator" : st->kind == SCN_DEVICE
		 ? "device" : "wait", what);
	pthread_mutex_lock(&D->mu);
	ui_step(D->ui, cap);
	pthread_mutex_unlock(&D->mu);
	if (st->kind == SCN_DEVICE && !strcmp(st->action, "face") &&
	    cJSON_IsString(pic)) {
		char *p = scn_path(s, pic->valuestring), *buf = NULL, e[256];
		size_t len;

		if (p && base_read_file("picture", p, PICTURE_MAX, &buf, &len, e,
					sizeof e) == 0)
			show_picture(D, buf, len);
		free(buf);
		free(p);
	}
}

typedef struct scn_run {
	demo *D;
	scenario *s;
	cJSON *doc;
	int rc;
	char err[512];
} scn_run;

static void *scenario_main(void *arg)
{
	scn_run *R = arg;
	demo *D = R->D;
	run_observer obs = {.on_step = obs_step, .on_event = on_event,
			    .on_exchange = on_exchange, .on_pass = on_pass,
			    .ud = D};
	run_opts ro = {.server = D->o.server ? D->o.server : "mock",
		       .prof = &proto_profile_strict, .jobs = 1,
		       .slow_ms = 1000, .clock = RUN_CLOCK_REAL, .scale = 1,
		       .clock_text = "real", .cid_prefix = "demo",
		       .run_id = "demo", .version = "demo", .started = time(NULL),
		       .stop = &stop_signal, .observe = &obs};

	const cJSON *sc;
	const char *st;
	char cap[96];

	R->rc = run_all(&ro, &R->s, 1, &R->doc, R->err, sizeof R->err);
	/* the verdict stays up as the last caption */
	sc = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(R->doc,
								 "scenarios"), 0);
	st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sc,
								  "status"));
	snprintf(cap, sizeof cap, "%.40s: %.50s", R->s->name, R->rc < 0 ? R->err :
		 st ? st : "ended");
	pthread_mutex_lock(&D->mu);
	ui_step(D->ui, cap);
	pthread_mutex_unlock(&D->mu);
	return NULL;
}

/* ---------------------------------------------------------------- frames */

typedef struct fl {
	demo *D;
	bool quit, paused;
} fl;

/* Hands an action to the loop thread (never calls the device here). */
static void post(demo *D, ui_action a, const char *arg)
{
	job *j = NULL;

	if (!D->l)
		return;
	pthread_mutex_lock(&D->mu);
	for (size_t i = 0; i < JOBS && !j; i++)
		if (!D->jobs[i].used)
			j = &D->jobs[i];
	if (j) {
		j->used = true;
		j->D = D;
		j->a = a;
		/* a path too long for the system is too long here too */
		snprintf(j->arg, sizeof j->arg, "%s", arg ? arg : "");
	}
	pthread_mutex_unlock(&D->mu);
	if (!j)
		return;
	atomic_fetch_add(&D->pending, 1);
	if (loop_post(D->l, run_job, j) < 0) {
		atomic_fetch_sub(&D->pending, 1);
		pthread_mutex_lock(&D->mu);
		j->used = false;
		pthread_mutex_unlock(&D->mu);
	}
}

/* A key, a click, a dropped file or a beat: what only changes the view
 * is done here, the rest on the loop thread. */
static void on_action(void *ud, ui_action a, const char *arg)
{
	fl *F = ud;
	demo *D = F->D;

	switch (a) {
	case UI_ACT_QUIT:
		F->quit = true;
		return;
	case UI_ACT_PAUSE:
		F->paused = !F->paused;
		/* fall through */
	case UI_ACT_HELP:
	case UI_ACT_JSON:
	case UI_ACT_LOG_UP:
	case UI_ACT_LOG_DOWN:
		pthread_mutex_lock(&D->mu);
		ui_local(D->ui, a);
		pthread_mutex_unlock(&D->mu);
		return;
	case UI_ACT_NONE:
	case UI_ACT_FULLSCREEN: /* win.c's */
		return;
	default:
		post(D, a, arg);
	}
}

static void caption(demo *D, const char *text)
{
	pthread_mutex_lock(&D->mu);
	ui_step(D->ui, text);
	pthread_mutex_unlock(&D->mu);
}

/* The timeline (story or script) from the moment the set-up is done. */
typedef struct timeline {
	demo_script sc;
	size_t next;
	double t;         /* seconds played */
	bool started;
	int64_t start_us; /* when the set-up was done */
} timeline;

static void play(fl *F, timeline *T, double dt)
{
	demo *D = F->D;

	if (!atomic_load(&D->ready))
		return;
	if (!T->started) { /* the set-up's caption goes */
		T->started = true;
		T->start_us = mono_us();
		caption(D, "");
	}
	if (F->paused)
		return;
	T->t += dt;
	while (T->next < T->sc.n && T->sc.beats[T->next].at <= T->t) {
		const demo_beat *b = &T->sc.beats[T->next++];
		if (b->caption[0]) {
			pthread_mutex_lock(&D->mu);
			ui_step(D->ui, b->caption);
			pthread_mutex_unlock(&D->mu);
		}
		if (b->action != UI_ACT_NONE)
			on_action(F, b->action, b->arg);
	}
	if (T->sc.loop_s > 0 && T->t >= T->sc.loop_s) {
		T->t -= T->sc.loop_s;
		T->next = 0;
	}
}

/* Copies the camera picture when it changed (under the lock: the loop
 * thread swaps it). */
static int grab_camera(demo *D, win_camera *cam, unsigned char **px,
		       size_t *cap)
{
	size_t need = (size_t)D->cam.w * (size_t)D->cam.h * 3;

	if (!D->cam.px || cam->gen == D->cam_gen)
		return 0;
	if (need > *cap) {
		unsigned char *n = realloc(*px, need);
		if (!n)
			return SIM_ENOMEM;
		*px = n;
		*cap = need;
	}
	memcpy(*px, D->cam.px, need);
	*cam = (win_camera){.rgb = *px, .w = D->cam.w, .h = D->cam.h,
			    .stride = D->cam.w * 3, .gen = D->cam_gen};
	return 0;
}

static int frames(demo *D, win *w, timeline *T, FILE *out, FILE *err)
{
	fl F = {.D = D};
	ui_view *v = malloc(sizeof *v);
	hist *h = calloc(1, sizeof *h);
	unsigned char *px = NULL;
	size_t cap = 0;
	win_camera cam = {0};
	int64_t next = mono_us(), last = 0, first = 0, played = 0;
	char e[512];
	int rc = SIM_ENOMEM, n = 0;
	bool settled;

	if (!v || !h)
		goto out;
	while (!F.quit && !atomic_load(&stop_signal)) {
		int64_t now = mono_us();

		play(&F, T, played ? (double)(now - played) / 1e6 : 0);
		played = now;
		/* read before the view is built: an action that ends while
		 * this frame is drawn is not in it */
		settled = atomic_load(&D->pending) == 0;
		pthread_mutex_lock(&D->mu);
		ui_view_build(D->ui, now / 1000, v);
		rc = grab_camera(D, &cam, &px, &cap);
		pthread_mutex_unlock(&D->mu);
		if (rc < 0)
			goto out;
		rc = win_frame(w, v, &cam, on_action, &F);
		if (rc < 0) {
			fprintf(err, "camsim demo: drawing failed: %s\n",
				sim_strerror(rc));
			goto out;
		}
		if (rc == 1)
			break;
		now = mono_us();
		if (last)
			hist_add(h, (uint64_t)(now - last));
		else
			first = now;
		last = now;
		n++;
		reap_voices(D, false);
		/* a settled picture: what was asked for so far is done (a face
		 * takes seconds on a sanitizer build) */
		if (D->o.screenshot && T->started &&
		    now - T->start_us >= (int64_t)(D->o.after * 1e6) && settled) {
			if ((rc = win_screenshot(w, D->o.screenshot, e,
						 sizeof e)) < 0) {
				fprintf(err, "camsim demo: --screenshot: %s\n", e);
				goto out;
			}
			break;
		}
		next += FRAME_US;
		if (next < now - FRAME_US)
			next = now; /* late: do not race to catch up */
		struct timespec ts = {.tv_sec = next / 1000000,
				      .tv_nsec = (next % 1000000) * 1000};
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	rc = 0;
	if (n > 1)
		fprintf(out, "camsim demo: %d frames in %.1f s: mean %.1f fps, "
			"p99 frame time %.1f ms\n", n, (double)(last - first) / 1e6,
			(double)(n - 1) * 1e6 / (double)(last - first),
			(double)hist_quantile(h, 0.99) / 1000);
out:
	if (rc == SIM_ENOMEM)
		fprintf(err, "camsim demo: out of memory\n");
	free(px);
	free(v);
	free(h);
	return rc;
}

/* ---------------------------------------------------------------- main */

int demo_main(int argc, char **argv, FILE *out, FILE *err)
{
	demo *D = calloc(1, sizeof *D);
	timeline T = {0};
	win *w = NULL;
	pthread_t th;
	bool thread = false;
	scn_run R = {0};
	struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
	char e[1024];
	int rc;

	if (!D) {
		fprintf(err, "camsim demo: out of memory\n");
		return 1;
	}
	pthread_mutex_init(&D->mu, NULL);
	if ((rc = parse_args(argc, argv, out, err, &D->o)) >= 0)
		goto out;
	/* the faces camsim found its suite beside (installed or the build
	 * tree, docs/install.md), not whatever ./faces the working directory
	 * has; "faces" (and its error) when there are none */
	if (!D->o.faces)
		D->o.faces = data_find("faces", NULL, D->o.faces_found,
				       sizeof D->o.faces_found) == 0
			     ? D->o.faces_found : "faces";
	rc = 2;
	if (D->o.state_script &&
	    demo_script_load(D->o.state_script, &T.sc, e, sizeof e) < 0) {
		fprintf(err, "camsim demo: --state-script: %s\n", e);
		goto out;
	}
	if (D->o.scenario && scn_load(D->o.scenario, &R.s, e, sizeof e) < 0) {
		fprintf(err, "camsim demo: --scenario: %s\n", e);
		goto out;
	}
	rc = 1;
	if (D->o.voice && !espeak_found()) {
		fprintf(err, "camsim demo: --voice needs espeak-ng, which is not "
			"in PATH (make deps installs it)\n");
		goto out;
	}
	if (!D->o.state_script && !D->o.server && !D->o.scenario &&
	    demo_story(&T.sc) < 0) {
		fprintf(err, "camsim demo: out of memory\n");
		goto out;
	}
	if (!(D->ui = ui_new(D->o.scenario ? (D->o.server ? D->o.server :
			     "in-process mock (scenario)") : D->o.server ?
			     D->o.server : "in-process mock"))) {
		fprintf(err, "camsim demo: out of memory\n");
		goto out;
	}
	if (!D->o.scenario && load_people(D, e, sizeof e) < 0) {
		fprintf(err, "camsim demo: %s\n", e);
		goto out;
	}
	D->temp = NORMAL_TEMP;
	D->net_up = true;
	if (win_open(&(win_opts){.w = D->o.w, .h = D->o.h,
				 .fullscreen = D->o.fullscreen}, &w, e,
		     sizeof e) < 0) {
		fprintf(err, "camsim demo: %s\n", e);
		goto out;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	if (D->o.scenario) {
		R.D = D;
		atomic_store(&D->ready, true); /* --after counts from now */
		caption(D, "starting the scenario");
		if (pthread_create(&th, NULL, scenario_main, &R)) {
			fprintf(err, "camsim demo: cannot start a thread\n");
			goto sigs;
		}
		thread = true;
	} else {
		snprintf(D->dir, sizeof D->dir, "%s/camsim-demo-XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!mkdtemp(D->dir)) {
			fprintf(err, "camsim demo: cannot make a temporary "
				"directory in %.*s: %s\n", (int)(strlen(D->dir) - 20),
				D->dir, strerror(errno));
			D->dir[0] = '\0';
			goto sigs;
		}
		caption(D, D->o.server ? "keys only: press ? for the key map"
			: "setting up: the mock enrols person-a .. person-d");
		if (setup_device(D, e, sizeof e) < 0) {
			fprintf(err, "camsim demo: %s\n", e);
			goto sigs;
		}
		if (pthread_create(&th, NULL, loop_main, D->l)) {
			fprintf(err, "camsim demo: cannot start a thread\n");
			goto sigs;
		}
		thread = true;
	}
	rc = frames(D, w, &T, out, err) < 0 ? 1 : 0;
sigs:
	if (thread && D->o.scenario) {
		atomic_store(&stop_signal, RUN_STOP_INTERRUPTED);
		pthread_join(th, NULL);
	} else if (thread) {
		loop_stop(D->l);
		pthread_join(th, NULL);
	}
	atomic_store(&stop_signal, 0);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
out:
	win_close(w);
	reap_voices(D, true);
	dev_free(D->d);
	mock_stop(D->m);
	store_close(D->st);
	loop_free(D->l);
	recog_close(D->rg);
	if (D->dir[0])
		nftw(D->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	cJSON_Delete(R.doc);
	scn_free(R.s);
	demo_script_free(&T.sc);
	free_people(D);
	free(D->last);
	img_free(&D->cam);
	ui_free(D->ui);
	pthread_mutex_destroy(&D->mu);
	free(D);
	return rc;
}
