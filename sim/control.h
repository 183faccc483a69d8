/* control.h -- the device control API: a local HTTP server (CivetWeb) that
 * lets a person, a script or a scenario press the simulated devices'
 * buttons (face, door, network, power, clock, thermal) and read their state.
 * Owns the server, its threads and the hand-over of each request to the
 * loop thread; never touches a device from any other thread, never owns the
 * devices, the loop or the store.  Endpoints: docs/device.md, "Control API". */
#ifndef CAMSIM_CONTROL_H
#define CAMSIM_CONTROL_H

#include "device.h"
#include "loop.h"

#include <stddef.h>

typedef struct ctl ctl;

/* Largest request body (413 beyond), largest face picture (file or
 * decoded base64; 413 beyond), and how long a request waits for the loop
 * thread to run it (503 after). */
#define CTL_BODY_MAX (48u << 20)
#define CTL_IMAGE_MAX (32u << 20)
#define CTL_JOB_TIMEOUT_MS 10000L

/* Starts the server on listen ("HOST:PORT", ":PORT" or "PORT"; HOST an
 * IPv4 address, "[IPv6]" or "localhost"; 127.0.0.1 when omitted; PORT 0
 * picks a free port, see ctl_port).  devs[0..n) are the devices it serves,
 * looked up by dev_cid, which is read here once: call before the loop
 * thread runs, or from it.  The array is copied; the devices and l stay the
 * caller's and must outlive ctl_stop.  Returns 0 and *out, or SIM_EINVAL
 * (listen malformed, two devices with one cid), SIM_EIO (the port cannot
 * be bound), SIM_ENOMEM, with a sentence naming the value in err. */
int ctl_start(const char *listen, loop *l, dev **devs, size_t n, ctl **out,
	      char *err, size_t errlen);

/* Stops the server and frees c (NULL is fine).  Safe whether or not the
 * loop still runs: requests waiting for the loop give up with 503, jobs
 * already posted but not yet run become no-ops (the loop may run them
 * after this returns, or loop_free may drop them), a job running on the
 * loop thread is waited for.  Must not be called on the loop thread while
 * a job of c runs (it never is: jobs do not call back into the caller).
 * The caller detaches ctl_event first (env->event_ud = NULL; on the loop
 * thread, e.g. through loop_post, when the loop still runs). */
void ctl_stop(ctl *c);

/* The TCP port the server listens on (useful after asking for port 0). */
int ctl_port(const ctl *c);

/* How long a request waits for the loop thread (default
 * CTL_JOB_TIMEOUT_MS); for tests and slow machines.  Any thread. */
void ctl_set_job_timeout(ctl *c, long ms);

/* Each request's body must have arrived this long after its headers
 * (default WEB_DEADLINE_MS, 30 s; 408 after, see web.h); for tests.  Any
 * thread; requests that already began keep theirs. */
void ctl_set_deadline(ctl *c, long ms);

/* A dev_env.on_event hook (ud = the ctl, or NULL to do nothing): lets a
 * button's answer list the events its device emitted while the button was
 * pressed.  Without it the "events" arrays of the answers stay empty.
 * Loop thread only. */
void ctl_event(void *ud, dev *d, const dev_event *ev);

#endif
