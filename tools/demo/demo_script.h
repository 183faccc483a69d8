/* demo_script.h -- the demo's timelines: the built-in story and the
 * --state-script files, as lists of timed beats (an action, its argument,
 * a caption).  Pure: parses JSON text and names errors; knows nothing of
 * windows, threads or devices (demo.c plays the beats). */
#ifndef CAMSIM_DEMO_SCRIPT_H
#define CAMSIM_DEMO_SCRIPT_H

#include "ui.h"

#include <stdbool.h>
#include <stddef.h>

#define DEMO_ARG_MAX 512

typedef struct demo_beat {
	double at;               /* seconds from the timeline's start */
	ui_action action;        /* UI_ACT_NONE: only the caption changes */
	char arg[DEMO_ARG_MAX];  /* next/prev: a person ("person-b");
				    drop: a picture file; fever: a reading
				    in °C; net: "down" / "up"; mask: "on" /
				    "off"; door: "open" / "closed"; "" none */
	char caption[96];        /* ui_step's text; "" keeps the shown one */
} demo_beat;

typedef struct demo_script {
	demo_beat *beats;        /* at ascending; malloc'd */
	size_t n;
	double loop_s;           /* the timeline starts over after this many
				    seconds; 0: it plays once */
} demo_script;

/* The action whose ui.h name in lower case is name ("next", "temp_up",
 * "net"), else UI_ACT_NONE ("none" too). */
ui_action demo_action_find(const char *name);

/* Parses a --state-script: a JSON array of {"at": seconds >= 0,
 * "action": name, "arg": string or number (optional), "caption": string
 * (optional)}, sorted here by at (stable).  path only names the file in
 * errors.  0, or SIM_EINVAL with a sentence naming the file, the entry
 * (index), the member, its value and the rule; SIM_ENOMEM. */
int demo_script_parse(const char *path, const char *text, demo_script *out,
		      char *err, size_t errlen);
/* Reads path (at most 1 MiB) and parses it.  SIM_EIO when it cannot be
 * read (err names the path), else as demo_script_parse. */
int demo_script_load(const char *path, demo_script *out, char *err,
		     size_t errlen);

/* The built-in story (docs/demo.md, "Running the demo"): a known person
 * passes, a stranger is denied, a fever is denied, the network drops, a
 * person passes offline, the network returns and the record is sent
 * again; then it loops.  SIM_ENOMEM or 0. */
int demo_story(demo_script *out);

void demo_script_free(demo_script *s);

#endif
