/* control_int.h -- what control.c (routing, jobs, answers, the server)
 * and control_req.c (parsing each request's path, query and body into a
 * job) share.  Not for use outside sim/control*.c. */
#ifndef CAMSIM_CONTROL_INT_H
#define CAMSIM_CONTROL_INT_H

#include "control.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define THERMAL_MAX 64   /* dev_thermal_script's queue */
#define EVENTS_DEFAULT 100
#define EVENTS_MAX 1000

typedef struct job job;

typedef enum job_op {
	OP_LIST,
	OP_STATUS,
	OP_EVENTS,
	OP_ASIDE,
	OP_FACE,
	OP_DOOR,
	OP_NETWORK,
	OP_POWER,
	OP_CLOCK,
	OP_THERMAL,
} job_op;

typedef enum job_state { J_QUEUED, J_RUNNING, J_DONE } job_state;

enum { POWER_OFF, POWER_ON, POWER_CYCLE };

/* One request handed to the loop thread.  Lives in the registry below from
 * posting until the handler collects it (or gives up on it); the loop is
 * given only its id, so a job freed before the loop reaches it is simply
 * not found. */
struct job {
	uint64_t id;
	ctl *c;
	job *prev, *next; /* registry */
	job_state state;  /* under reg_mu */
	bool abandoned;   /* the handler left; whoever finishes frees */

	job_op op;
	dev *d;
	const char *cid;
	/* parameters, by op */
	dev_face_in face;
	unsigned char *image; /* owned; face.image points here */
	bool flag;            /* door open, network up */
	int power;
	int64_t utc_s, zone_s;
	bool has_zone;
	double readings[THERMAL_MAX];
	size_t n_readings;
	size_t limit;

	/* the answer, filled on the loop thread */
	int status;
	cJSON *answer;
	cJSON *events; /* what d emitted while the job ran */
};

/* ---- control_req.c (handler threads; never touches a device) ---- */

/* Parses body[0..len) for button j->op into j's parameters (reading or
 * decoding the picture of a face into j->image, owned by j).  Returns 0,
 * or the HTTP status (400, 413, 500) with a sentence in err naming the
 * field, its value and the rule. */
int ctl__parse_body(job *j, const char *body, size_t len, char *err,
		    size_t errlen);
/* Copies the URL-decoded path segment starting at *p (raw, at a '/') into
 * seg[n] and moves *p past it; false when there is none or it does not
 * fit. */
bool ctl__next_segment(const char **p, char *seg, size_t n);
/* ?limit=N of query q (NULL or "": EVENTS_DEFAULT) into *limit; 0, or -1
 * with a sentence in err. */
int ctl__parse_limit(const char *q, size_t *limit, char *err, size_t errlen);

#endif
