/* loop.h -- the one event loop that drives every simulated device of a
 * process: timers on a virtual clock, HTTP transfers through one libcurl
 * multi handle, and jobs posted from other threads (the control API).
 * Owns the clock, sockets and timers; knows nothing of the protocol.
 * Every function except loop_now, loop_post and loop_stop runs on the loop
 * thread. */
#ifndef CAMSIM_LOOP_H
#define CAMSIM_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct loop loop;

/* How the virtual clock moves.  REAL: it is the system clock.  SCALED: it
 * runs `scale` times faster than real time from the moment the loop was
 * made.  JUMP: it runs at real speed, and whenever nothing is in flight and
 * no job is queued it jumps straight to the next timer, so hours of device
 * life (3-minute idle retransmission, the daily schedule) pass in
 * milliseconds.  Times are UTC milliseconds on this clock. */
typedef enum loop_clock { LOOP_REAL, LOOP_SCALED, LOOP_JUMP } loop_clock;

/* start_ms: the virtual time at creation (0 = the system clock's now). */
int loop_new(loop_clock mode, double scale, int64_t start_ms, loop **out);
/* Aborts transfers in flight (their callbacks are not called), frees the
 * loop.  Timers are not touched: their owners outlive or forget them. */
void loop_free(loop *l);

/* Virtual UTC ms.  Thread-safe: a mock server on other threads may
 * stamp what it receives with the devices' clock. */
int64_t loop_now(const loop *l);
loop_clock loop_mode(const loop *l);

/* ---- timers: embedded in their owner, no allocation ---- */

typedef struct loop_timer loop_timer;

/* A timer is due: runs on the loop thread, once per arming, with t already
 * disarmed, so it may re-arm t, disarm or arm others, or free t's owner
 * (the loop does not touch t after the call).  Finds its owner with
 * container_of; must not block (the virtual clock waits for it). */
typedef void (*loop_timer_cb)(loop_timer *t);

struct loop_timer {
	int64_t due;  /* virtual ms */
	size_t slot;  /* heap position + 1; 0 when not armed */
	uint64_t order; /* ties fire in arming order */
	loop_timer_cb fn;
};

/* Holds the jump clock still (on) or lets it jump again (off); holds
 * nest.  For work outside the loop that the devices must not outrun, such
 * as an operator's call into a server under test.  Other clocks ignore it. */
void loop_hold(loop *l, bool on);

/* On the jump clock: stops the virtual clock (on) while the loop thread
 * computes for a device (recognition), and lets it go on from where it
 * stood (off), so that device time does not depend on how fast the host
 * is (a sanitizer build, a loaded CI machine).  Pauses nest.  Other
 * clocks ignore it: real time is real. */
void loop_pause(loop *l, bool on);

/* Arms (or re-arms) t to fire at virtual time due.  SIM_ENOMEM or 0. */
int loop_timer_at(loop *l, loop_timer *t, int64_t due);
void loop_timer_stop(loop *l, loop_timer *t); /* disarmed is fine */
static inline bool loop_timer_armed(const loop_timer *t) { return t->slot != 0; }

/* ---- HTTP: one POST or GET, owned by the loop while in flight ---- */

typedef struct loop_http loop_http;

typedef struct loop_http_req {
	const char *url;
	const char *method;     /* "POST" (default) or "GET" */
	const char *body;       /* copied; NULL for GET */
	size_t len;
	bool expect_100;        /* send Expect: 100-continue (wait <= 1 s) */
	long connect_timeout_ms; /* 0: 5000 */
	long timeout_ms;        /* whole transfer; 0: 10000 */
	size_t max_response;    /* bytes kept of the body; more = error */
	bool keep_headers;      /* collect response headers for transcripts */
	bool keep_alive;        /* may reuse a connection (default: a new
				   connection per request, closed after it,
				   with Connection: close: V1.16's "short
				   connection", and no client-side retry a
				   server could not see) */
	const char *source_addr; /* local IP address the connection leaves
				    from (copied; at most 45 characters, an
				    address of this machine: docs/load.md
				    --source-addrs), NULL: the system's
				    choice */
} loop_http_req;

typedef enum loop_http_fail {
	LOOP_HTTP_OK = 0,     /* a final status arrived (any code) */
	LOOP_HTTP_CONNECT,    /* could not resolve or connect */
	LOOP_HTTP_TIMEOUT,    /* no complete answer within the timeout */
	LOOP_HTTP_TOO_BIG,    /* the body passed max_response */
	LOOP_HTTP_CUT,        /* connection reset or closed mid-answer */
	LOOP_HTTP_BUDGET,     /* the loop's budget for reply bytes in flight
				 was spent: error says so */
	LOOP_HTTP_OTHER,      /* anything else curl reports */
} loop_http_fail;

typedef struct loop_http_res {
	loop_http_fail fail;
	const char *error;    /* curl's sentence when fail != OK */
	long status;          /* HTTP status; 0 when none */
	const char *body;     /* NUL-terminated; valid during the callback */
	size_t len;
	const char *headers;  /* raw response headers when keep_headers */
	bool got_100;         /* a 100 Continue was received */
	double t_connect_ms, t_first_byte_ms, t_total_ms;
	int64_t started;      /* virtual ms at start */
} loop_http_res;

typedef void (*loop_http_cb)(void *ud, const loop_http_res *res);

/* Starts a transfer; cb runs on the loop thread exactly once when it ends
 * (unless loop_http_cancel or loop_free come first).  *out (may be NULL)
 * gets a handle for cancelling, valid until cb starts.  SIM_ENOMEM,
 * SIM_EINVAL (no URL, a source address too long) or 0. */
int loop_http_start(loop *l, const loop_http_req *req, loop_http_cb cb,
		    void *ud, loop_http **out);
/* Aborts a transfer in flight; its callback is never called. */
void loop_http_cancel(loop *l, loop_http *h);
/* Whether h still waits for one of the loop's transfer slots: none of it
 * has reached the network, so cancelling it loses nothing a server saw
 * (a load run's end takes such transfers back, dev_quiesce). */
bool loop_http_waiting(const loop_http *h);
size_t loop_http_in_flight(const loop *l);

/* One budget, per loop (so per process), for the bytes of reply bodies
 * and kept headers of all transfers in flight (default 128 MiB; 0 sets
 * the default).  max_response caps one reply; this caps them together,
 * so many devices fed endless replies by a hostile server cannot take
 * gigabytes.  A reply that would pass it ends with LOOP_HTTP_BUDGET.
 * loop_reply_bytes: the bytes held now; loop_reply_peak: the most ever
 * held at once (never above the budget). */
void loop_set_reply_budget(loop *l, size_t bytes);

/* At most n transfers on the network at once (1..LOOP_ACTIVE_MAX; 0 or
 * more: LOOP_ACTIVE_MAX); the others wait for a slot in start order.  A
 * load run's connections in flight (camsim load --connections), like a
 * load tool's -c.  Lowering it leaves transfers already running alone. */
#define LOOP_ACTIVE_MAX 128
void loop_set_active_max(loop *l, size_t n);
size_t loop_reply_bytes(const loop *l);
size_t loop_reply_peak(const loop *l);

/* Frees the idle transfer handles beyond the most transfers that were
 * active at once since the last call (or since loop_new), and starts
 * counting that peak again; returns how many it freed.  The loop keeps a
 * finished transfer's handle (about 8 KiB with curl's buffers) for the
 * next, up to LOOP_ACTIVE_MAX: a server that stalls once fills every
 * slot, and without this the handles kept after it stay for the run
 * (camsim load calls it every few seconds).  On the loop thread. */
size_t loop_trim(loop *l);

/* ---- running ---- */

/* Runs until loop_stop, then returns 0. */
int loop_run(loop *l);
/* Runs until the virtual clock reaches t (timers due at t have fired) or
 * loop_stop; returns 0, or 1 when stopped first. */
int loop_run_until(loop *l, int64_t t);
/* One round: fires due timers, drives transfers, waits at most max_ms
 * real milliseconds for something to happen. */
void loop_step(loop *l, int max_ms);

/* Thread-safe: makes loop_run return soon. */
void loop_stop(loop *l);

/* Work handed to the loop thread by loop_post: runs there exactly once,
 * in posting order, with the ud given to loop_post (still the poster's
 * until then: the poster must keep it alive).  Posts left when the loop is
 * freed are dropped uncalled.  Must not block. */
typedef void (*loop_post_cb)(void *ud);

/* Thread-safe: runs fn(ud) on the loop thread soon, in posting order.
 * SIM_ENOMEM or 0. */
int loop_post(loop *l, loop_post_cb fn, void *ud);

#endif
