/* web.h -- what every CivetWeb listener of camsim needs alike (the device's
 * control API, the mock server, the runner's package server): stopping
 * without CivetWeb 1.15's two-second wait.  Owns no listener itself. */
#ifndef CAMSIM_WEB_H
#define CAMSIM_WEB_H

#include <sys/socket.h>

struct mg_context;

/* mg_stop(ctx), made fast: CivetWeb's listener notices the stop only when
 * its poll() returns, which without traffic takes up to 2 s, so a thread
 * connects to addr (the bound address and port; NULL or port 0: no
 * poking) every 10 ms until mg_stop has returned.  Returns once every
 * handler has returned, as mg_stop does. */
void web_stop(struct mg_context *ctx, const struct sockaddr_storage *addr);

#endif
