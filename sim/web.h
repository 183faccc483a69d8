/* web.h -- what every CivetWeb listener of camsim needs alike (the device's
 * control API, the mock server, the runner's package server): stopping
 * without CivetWeb 1.15's two-second wait, and handlers with room on their
 * stack.  Owns no listener itself. */
#ifndef CAMSIM_WEB_H
#define CAMSIM_WEB_H

#include <sys/socket.h>

struct mg_context;
struct mg_connection;

/* mg_stop(ctx), made fast: CivetWeb's listener notices the stop only when
 * its poll() returns, which without traffic takes up to 2 s, so a thread
 * connects to addr (the bound address and port; NULL or port 0: no
 * poking) every 10 ms until mg_stop has returned.  Returns once every
 * handler has returned, as mg_stop does. */
void web_stop(struct mg_context *ctx, const struct sockaddr_storage *addr);

/* CivetWeb 1.15 gives its workers 100 KiB stacks (a build-time constant),
 * and every thread of a process that links OpenBLAS carries OpenBLAS's
 * 60 KiB of static TLS inside its stack: what is left overflows under
 * ASan.  A request handler therefore runs its work through this: fn(conn,
 * ud) on a thread with a WEB_STACK stack, joined before returning; its
 * result, or -1 when no thread could be started (the caller answers 503). */
#define WEB_STACK (2u << 20)
int web_call(int (*fn)(struct mg_connection *, void *),
	     struct mg_connection *conn, void *ud);

#endif
