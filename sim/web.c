/* web.c -- the fast CivetWeb stop shared by every listener of camsim: a
 * poking thread beside mg_stop.  Touches nothing but the one context and
 * a socket of its own per poke. */
#include "web.h"

#include <civetweb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

typedef struct poker {
	atomic_bool done;
	const struct sockaddr_storage *addr;
} poker;

static void *poke(void *ud)
{
	poker *p = ud;
	socklen_t n = p->addr->ss_family == AF_INET6 ?
			      sizeof(struct sockaddr_in6) :
			      sizeof(struct sockaddr_in);

	while (!atomic_load(&p->done)) {
		int fd = socket(p->addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0) {
			(void)connect(fd, (const struct sockaddr *)p->addr, n);
			close(fd);
		}
		nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
	}
	return NULL;
}

static int port_of(const struct sockaddr_storage *a)
{
	if (!a)
		return 0;
	if (a->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	if (a->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	return 0;
}

void web_stop(struct mg_context *ctx, const struct sockaddr_storage *addr)
{
	poker pk = {.addr = addr};
	pthread_t th;
	bool poking;

	if (!ctx)
		return;
	atomic_init(&pk.done, false);
	poking = port_of(addr) > 0 && !pthread_create(&th, NULL, poke, &pk);
	mg_stop(ctx);
	if (poking) {
		atomic_store(&pk.done, true);
		pthread_join(th, NULL);
	}
}

typedef struct web_job {
	int (*fn)(struct mg_connection *, void *);
	struct mg_connection *conn;
	void *ud;
	int rc;
} web_job;

static void *web_job_main(void *arg)
{
	web_job *j = arg;
	j->rc = j->fn(j->conn, j->ud);
	return NULL;
}

int web_call(int (*fn)(struct mg_connection *, void *),
	     struct mg_connection *conn, void *ud)
{
	web_job j = {fn, conn, ud, -1};
	pthread_attr_t a;
	pthread_t t;
	int ok;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, WEB_STACK);
	ok = !pthread_create(&t, &a, web_job_main, &j);
	pthread_attr_destroy(&a);
	if (!ok)
		return -1;
	pthread_join(t, NULL);
	return j.rc;
}
