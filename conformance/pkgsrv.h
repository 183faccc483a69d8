/* pkgsrv.h -- the upgrade-package server of a run against the mock: one
 * CivetWeb listener on loopback whose few URLs make a device reach each of
 * its upgrade outcomes (docs/scenarios.md, "Upgrade packages").  Serves
 * nothing else and keeps no state. */
#ifndef CAMSIM_PKGSRV_H
#define CAMSIM_PKGSRV_H

#include "conf_err.h"

#include <stddef.h>

typedef struct pkgsrv pkgsrv;

/* Listens on 127.0.0.1 (any free port) and serves under /pkg/:
 *   ok       200, a 4096-byte package
 *   missing  404
 *   empty    200 with no body
 *   too-big  200, 2 MiB (over a device whose upgrade_max is smaller)
 *   cut      200 claiming 100000 bytes, then the connection closes early
 * 0 with the server in *out (the caller's: pkgsrv_stop), or, with *out
 * NULL and a sentence in err, CONF_ELISTEN (it cannot listen) or
 * CONF_ENOMEM. */
int pkgsrv_start(pkgsrv **out, char *err, size_t errlen);
/* "http://127.0.0.1:PORT/pkg/" (owned by s). */
const char *pkgsrv_base(const pkgsrv *s);
void pkgsrv_stop(pkgsrv *s); /* NULL is fine */

#endif
