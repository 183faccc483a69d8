/* mock_fault.c -- parsing, printing and drawing the mock's fault specs.
 * Pure (no I/O, no clock, no locks); what a fault does to a connection
 * is mock_inject.c's. */
#include "mock_fault.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[MOCK_FAULT_N] = {
	[MOCK_FAULT_STATUS] = "status",     [MOCK_FAULT_DELAY] = "delay",
	[MOCK_FAULT_RESET] = "reset",       [MOCK_FAULT_CLOSE] = "close",
	[MOCK_FAULT_TRUNCATE] = "truncate", [MOCK_FAULT_NOT_JSON] = "not-json",
	[MOCK_FAULT_NO_100] = "no-100",
};

static const char rule[] = "a fault is NAME[=VALUE][:P%] with NAME one of "
	"status=CODE, delay=DURATION, reset, close, truncate, not-json, no-100";

/* "10", "0.5", "100" (percent, at most 4 decimals) into parts per million. */
static bool parse_pct(const char *s, size_t n, uint32_t *ppm)
{
	uint64_t whole = 0, frac = 0;
	int fd = 0;
	size_t i = 0;

	if (!n || n > 12)
		return false;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		whole = whole * 10 + (uint64_t)(s[i] - '0');
	if (i == 0)
		return false;
	if (i < n && s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, fd++)
			if (fd < 4)
				frac = frac * 10 + (uint64_t)(s[i] - '0');
			else if (s[i] != '0')
				return false; /* finer than 1 ppm */
		if (!fd)
			return false;
	}
	if (i != n)
		return false;
	for (; fd < 4; fd++)
		frac *= 10;
	if (whole > 100)
		return false;
	*ppm = (uint32_t)(whole * 10000 + frac);
	return *ppm >= 1 && *ppm <= MOCK_FAULT_PPM;
}

/* "12s", "500ms", "2m" into ms, 1..MOCK_FAULT_DELAY_MAX. */
static bool parse_duration(const char *s, size_t n, int64_t *ms)
{
	char buf[32], *end;
	double v, mul;

	if (!n || n >= sizeof buf)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (buf[0] < '0' || buf[0] > '9')
		return false;
	errno = 0;
	v = strtod(buf, &end);
	if (errno)
		return false;
	if (!strcmp(end, "ms"))
		mul = 1;
	else if (!strcmp(end, "s"))
		mul = 1000;
	else if (!strcmp(end, "m"))
		mul = 60000;
	else
		return false;
	v *= mul;
	if (!(v >= 1 && v <= MOCK_FAULT_DELAY_MAX))
		return false;
	*ms = (int64_t)(v + 0.5);
	return true;
}

int mock_fault_parse(const char *spec, mock_fault *out, char *err,
		     size_t errlen)
{
	const char *s = spec ? spec : "", *colon, *eq, *val = NULL;
	size_t nlen, vlen = 0;
	int k;

	memset(out, 0, sizeof *out);
	out->ppm = MOCK_FAULT_PPM;
	colon = strchr(s, ':');
	if (colon) {
		size_t plen = strlen(colon + 1);
		if (!plen || colon[plen] != '%' ||
		    !parse_pct(colon + 1, plen - 1, &out->ppm)) {
			snprintf(err, errlen, "fault \"%.80s\": the chance \"%.20s\" "
				 "must be a percentage above 0 and at most 100, "
				 "with a %% sign and at most 4 decimals (\"10%%\", "
				 "\"0.5%%\")", s, colon + 1);
			return -1;
		}
	}
	nlen = colon ? (size_t)(colon - s) : strlen(s);
	eq = memchr(s, '=', nlen);
	if (eq) {
		val = eq + 1;
		vlen = nlen - (size_t)(val - s);
		nlen = (size_t)(eq - s);
	}
	for (k = 0; k < MOCK_FAULT_N; k++)
		if (strlen(names[k]) == nlen && !memcmp(s, names[k], nlen))
			break;
	if (k == MOCK_FAULT_N) {
		snprintf(err, errlen, "fault \"%.80s\": \"%.*s\" is no fault name; "
			 "%s", s, (int)(nlen > 40 ? 40 : nlen), s, rule);
		return -1;
	}
	out->kind = (mock_fault_kind)k;
	if (k == MOCK_FAULT_STATUS || k == MOCK_FAULT_DELAY) {
		if (!val) {
			snprintf(err, errlen, "fault \"%.80s\": %s needs a value "
				 "(%s)", s, names[k], k == MOCK_FAULT_STATUS ?
				 "status=500" : "delay=12s");
			return -1;
		}
	} else if (val) {
		snprintf(err, errlen, "fault \"%.80s\": %s takes no value (\"=%.*s\" "
			 "is extra); %s", s, names[k], (int)(vlen > 40 ? 40 : vlen),
			 val, rule);
		return -1;
	}
	if (k == MOCK_FAULT_STATUS) {
		int code = 0;
		size_t i;
		for (i = 0; i < vlen && i < 4 && val[i] >= '0' && val[i] <= '9'; i++)
			code = code * 10 + (val[i] - '0');
		if (vlen != 3 || i != 3 || code < 200 || code > 599) {
			snprintf(err, errlen, "fault \"%.80s\": the status \"%.*s\" "
				 "must be an HTTP status code from 200 to 599", s,
				 (int)(vlen > 40 ? 40 : vlen), val);
			return -1;
		}
		out->arg = code;
	} else if (k == MOCK_FAULT_DELAY && !parse_duration(val, vlen, &out->arg)) {
		snprintf(err, errlen, "fault \"%.80s\": the delay \"%.*s\" must be a "
			 "number with the unit ms, s or m, from 1 ms to 10 m "
			 "(\"12s\", \"500ms\")", s, (int)(vlen > 40 ? 40 : vlen),
			 val);
		return -1;
	}
	return 0;
}

/* The spec without its chance. */
static void format_bare(const mock_fault *f, char *out, size_t n)
{
	const char *name = (unsigned)f->kind < MOCK_FAULT_N ? names[f->kind] : "?";

	if (f->kind == MOCK_FAULT_STATUS)
		snprintf(out, n, "%s=%lld", name, (long long)f->arg);
	else if (f->kind == MOCK_FAULT_DELAY && f->arg % 1000)
		snprintf(out, n, "%s=%lldms", name, (long long)f->arg);
	else if (f->kind == MOCK_FAULT_DELAY)
		snprintf(out, n, "%s=%llds", name, (long long)(f->arg / 1000));
	else
		snprintf(out, n, "%s", name);
}

void mock_fault_format(const mock_fault *f, char *out, size_t n)
{
	char bare[48];
	uint32_t w = f->ppm / 10000, d = f->ppm % 10000;

	format_bare(f, bare, sizeof bare);
	if (f->ppm >= MOCK_FAULT_PPM) {
		snprintf(out, n, "%s", bare);
		return;
	}
	if (!d) {
		snprintf(out, n, "%s:%u%%", bare, w);
		return;
	}
	char frac[8];
	snprintf(frac, sizeof frac, "%04u", d);
	for (int i = 3; i > 0 && frac[i] == '0'; i--)
		frac[i] = '\0';
	snprintf(out, n, "%s:%u.%s%%", bare, w, frac);
}

void mock_fault_seed(mock_fault_rng *r, uint64_t seed)
{
	r->s = seed;
}

static uint64_t next(mock_fault_rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

void mock_fault_none(mock_fault_hit *h)
{
	memset(h, 0, sizeof *h);
	h->answer = MOCK_FAULT_N;
}

static void add_label(mock_fault_hit *h, const mock_fault *f)
{
	char bare[48];
	size_t used = strlen(h->label);

	format_bare(f, bare, sizeof bare);
	snprintf(h->label + used, sizeof h->label - used, "%s%s",
		 used ? "," : "", bare);
}

void mock_fault_draw(const mock_fault *list, size_t n, mock_fault_phase phase,
		     mock_fault_rng *r, mock_fault_hit *h)
{
	for (size_t i = 0; i < n; i++) {
		const mock_fault *f = &list[i];
		bool early = f->kind == MOCK_FAULT_NO_100;

		if (early != (phase == MOCK_FAULT_HEADERS))
			continue;
		/* one number per fault, hit or not: the sequence of draws
		 * depends only on the seed and the exchanges */
		if (next(r) % MOCK_FAULT_PPM >= f->ppm)
			continue;
		switch (f->kind) {
		case MOCK_FAULT_NO_100:
			if (h->no_100)
				continue;
			h->no_100 = true;
			break;
		case MOCK_FAULT_DELAY:
			if (h->delay_ms)
				continue;
			h->delay_ms = f->arg;
			break;
		default:
			if (h->answer != MOCK_FAULT_N)
				continue;
			h->answer = f->kind;
			h->status = f->kind == MOCK_FAULT_STATUS ? (int)f->arg : 0;
			break;
		}
		add_label(h, f);
	}
}
