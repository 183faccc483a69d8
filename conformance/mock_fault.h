/* mock_fault.h -- the mock's fault specs ("status=500:10%", "delay=12s:5%",
 * "reset:1%", "no-100", ...): parsing, printing, and deciding per exchange
 * with a seeded RNG which of them hit.  Pure: no sockets, no database, no
 * clock, no locks (the caller serialises a shared mock_fault_rng).  What a
 * fault does on the wire is mock_inject.c's; docs/mock.md, "Faults". */
#ifndef CAMSIM_MOCK_FAULT_H
#define CAMSIM_MOCK_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MOCK_FAULT_PPM 1000000u   /* probabilities in parts per million */
#define MOCK_FAULT_DELAY_MAX 600000 /* ms: 10 minutes */
#define MOCK_FAULT_MAX 32         /* faults in one list */

typedef enum mock_fault_kind {
	MOCK_FAULT_STATUS,   /* answer this HTTP status, message not processed */
	MOCK_FAULT_DELAY,    /* answer (as usual) this many ms late */
	MOCK_FAULT_RESET,    /* close with a TCP RST, no answer, not processed */
	MOCK_FAULT_CLOSE,    /* close (FIN) without an answer, not processed */
	MOCK_FAULT_TRUNCATE, /* processed; the answer cut off half way */
	MOCK_FAULT_NOT_JSON, /* processed, no command taken; 200 with a body
				that is not JSON */
	MOCK_FAULT_NO_100,   /* no 100 Continue to Expect: 100-continue */
	MOCK_FAULT_N
} mock_fault_kind;

typedef struct mock_fault {
	mock_fault_kind kind;
	int64_t arg;  /* the status code, or the delay in ms; 0 otherwise */
	uint32_t ppm; /* chance per exchange, 1..MOCK_FAULT_PPM */
} mock_fault;

/* Parses one spec NAME[=VALUE][:P%] into *out.  0, or -1 with a sentence
 * in err that names the spec, the part that is wrong and the rule. */
int mock_fault_parse(const char *spec, mock_fault *out, char *err,
		     size_t errlen);

/* The canonical spec of f ("status=500:10%", "no-100") into out[n]. */
void mock_fault_format(const mock_fault *f, char *out, size_t n);

/* A small deterministic generator (splitmix64): the same seed and the same
 * exchanges give the same faults. */
typedef struct mock_fault_rng {
	uint64_t s;
} mock_fault_rng;

void mock_fault_seed(mock_fault_rng *r, uint64_t seed);

/* When in an exchange the faults are drawn: no-100 once the headers are
 * in (before the body is read); the rest once the body named the device. */
typedef enum mock_fault_phase {
	MOCK_FAULT_HEADERS,
	MOCK_FAULT_BODY
} mock_fault_phase;

/* What hit one exchange.  answer is MOCK_FAULT_N when the answer is the
 * usual one; otherwise the first answer fault drawn (status, reset,
 * close, truncate, not-json) -- later ones drawn lose.  label lists what
 * applied, comma-separated in canonical spec form without the chance
 * ("status=500,delay=12s"), "" for none. */
typedef struct mock_fault_hit {
	bool no_100;
	int64_t delay_ms;
	mock_fault_kind answer;
	int status;
	char label[160];
} mock_fault_hit;

/* Clears *h: nothing hit. */
void mock_fault_none(mock_fault_hit *h);

/* Draws every fault of list[0..n) that belongs to phase, in order, one
 * number of r each, and adds those that hit to *h (which may already hold
 * hits of another list or phase). */
void mock_fault_draw(const mock_fault *list, size_t n, mock_fault_phase phase,
		     mock_fault_rng *r, mock_fault_hit *h);

#endif
