/* srcaddr.h -- a range of local IPv4 source addresses for client
 * connections ("127.0.0.2-127.0.0.9"), spread round-robin over many
 * devices so that short connections at high rates do not run out of
 * ephemeral ports (each address has its own ~28,000).  Parses, names and
 * probes the addresses; connecting from them is the caller's (curl). */
#ifndef CAMSIM_BASE_SRCADDR_H
#define CAMSIM_BASE_SRCADDR_H

#include <stddef.h>
#include <stdint.h>

#define SRCADDR_MAX 256 /* one /24 */
#define SRCADDR_LEN 16  /* "255.255.255.255" and its NUL */

/* count 0: no range (the system picks the address). */
typedef struct srcaddr_range {
	uint32_t first; /* host byte order */
	uint32_t count; /* 1..SRCADDR_MAX */
} srcaddr_range;

/* Parses "A" or "A-B": dotted-quad IPv4 addresses, A <= B, both in one
 * /24 (the first three numbers equal), so at most 256 addresses.
 * BASE_EINVAL with why = the value and the rule ("what" names the option
 * in it), else 0. */
int srcaddr_parse(const char *what, const char *s, srcaddr_range *r,
		  char *why, size_t whylen);

/* The i-th address (i taken modulo the count: round-robin) into buf; ""
 * for an empty range. */
void srcaddr_nth(const srcaddr_range *r, size_t i, char buf[SRCADDR_LEN]);

/* Whether every address of r can be bound on this machine (a TCP socket
 * bound to ADDR:0, then closed): an address that is not the machine's
 * fails every connection, so it is refused before a run.  BASE_EIO with
 * why naming the first address that cannot and the reason, else 0. */
int srcaddr_check(const char *what, const srcaddr_range *r, char *why,
		  size_t whylen);

#endif
