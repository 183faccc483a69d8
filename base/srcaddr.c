/* srcaddr.c -- local IPv4 source address ranges: parsing with messages
 * that name the value and the rule, round-robin naming, the bind probe.
 * Owns nothing beyond one probe socket at a time. */
#include "srcaddr.h"

#include "base_err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RULE "an IPv4 address or a range A-B of them (e.g. " \
	     "127.0.0.2-127.0.0.9), A <= B, in one /24 (the first three " \
	     "numbers equal: at most 256 addresses)"

/* One dotted quad of n bytes; inet_pton alone takes nothing shorter. */
static int quad(const char *s, size_t n, uint32_t *out)
{
	char b[SRCADDR_LEN];
	struct in_addr a;

	if (n == 0 || n >= sizeof b)
		return -1;
	memcpy(b, s, n);
	b[n] = '\0';
	if (inet_pton(AF_INET, b, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

int srcaddr_parse(const char *what, const char *s, srcaddr_range *r,
		  char *why, size_t whylen)
{
	const char *dash = s ? strchr(s, '-') : NULL;
	uint32_t a, b;

	r->first = r->count = 0;
	if (!s || quad(s, dash ? (size_t)(dash - s) : strlen(s), &a) < 0 ||
	    (dash && quad(dash + 1, strlen(dash + 1), &b) < 0)) {
		snprintf(why, whylen, "%s is \"%s\"; it must be %s", what,
			 s ? s : "(none)", RULE);
		return BASE_EINVAL;
	}
	if (!dash)
		b = a;
	if (b < a || (a >> 8) != (b >> 8)) {
		snprintf(why, whylen, "%s is \"%s\"; %s: it must be %s", what, s,
			 b < a ? "the first address is above the last"
			       : "the addresses are not in one /24", RULE);
		return BASE_EINVAL;
	}
	r->first = a;
	r->count = b - a + 1;
	return 0;
}

void srcaddr_nth(const srcaddr_range *r, size_t i, char buf[SRCADDR_LEN])
{
	struct in_addr a;

	if (!r->count) { /* no range: no address */
		buf[0] = '\0';
		return;
	}
	a.s_addr = htonl(r->first + (uint32_t)(i % r->count));
	inet_ntop(AF_INET, &a, buf, SRCADDR_LEN);
}

int srcaddr_check(const char *what, const srcaddr_range *r, char *why,
		  size_t whylen)
{
	for (uint32_t i = 0; i < r->count; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(r->first + i)};
		char name[SRCADDR_LEN];
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc, e;

		rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sa, sizeof sa);
		e = errno;
		if (fd >= 0)
			close(fd);
		if (rc < 0) {
			srcaddr_nth(r, i, name);
			snprintf(why, whylen, "%s: %s cannot be bound on this "
				 "machine: %s (a source address must be one of "
				 "its own; on Linux all of 127.0.0.0/8 is)", what,
				 name, strerror(e));
			return BASE_EIO;
		}
	}
	return 0;
}
