/* mock_inject.c -- the running mock's faults: the --fault list, each
 * device's list set through the admin API, the seeded generator, and what
 * a fault does to a connection (delay, reset, close, truncate).  Parsing
 * and drawing are mock_fault.c's; storing the exchange is mock_ingest.c's. */
#include "mock_int.h"

#include <cJSON.h>
#include <civetweb.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* One device's faults. */
typedef struct mock__devfault {
	char cid[65];
	mock_fault f[MOCK_FAULT_MAX];
	size_t n;
} mock__devfault;

/* Parses specs[0..n) into out (MOCK_FAULT_MAX at most).  per_device
 * refuses no-100: it is drawn before the body names the device. */
static int parse_list(const char *const *specs, size_t n, bool per_device,
		      mock_fault *out, char *err, size_t errlen)
{
	if (n > MOCK_FAULT_MAX) {
		snprintf(err, errlen, "%zu faults given; at most %d", n,
			 MOCK_FAULT_MAX);
		return CONF_EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (mock_fault_parse(specs[i], &out[i], err, errlen) < 0)
			return CONF_EINVAL;
		if (per_device && out[i].kind == MOCK_FAULT_NO_100) {
			snprintf(err, errlen, "fault \"%.80s\": no-100 cannot be set "
				 "per device: it is drawn when the headers are in, "
				 "before the body names the device; give it to "
				 "--fault", specs[i]);
			return CONF_EINVAL;
		}
	}
	return 0;
}

int mock__inject_init(mock *m, const mock_opts *o, char *err, size_t errlen)
{
	int rc;

	mock_fault_seed(&m->rng, o->fault_seed);
	if ((rc = parse_list(o->faults, o->nfaults, false, m->faults, err,
			     errlen)) < 0)
		return rc;
	m->nfaults = o->nfaults;
	pthread_mutex_init(&m->fmu, NULL);
	return 0;
}

void mock__inject_free(mock *m)
{
	pthread_mutex_destroy(&m->fmu);
	free(m->dev);
	m->dev = NULL;
	m->ndev = 0;
}

int mock_set_faults(mock *m, const char *cid, const char *const *specs,
		    size_t n, char *err, size_t errlen)
{
	mock_fault f[MOCK_FAULT_MAX];
	mock__devfault *d = NULL;
	size_t i;
	int rc;

	if (!m || !cid || !*cid || strlen(cid) > 64) {
		snprintf(err, errlen, "cid \"%.80s\" is not 1 to 64 characters",
			 cid ? cid : "(null)");
		return CONF_EINVAL;
	}
	if ((rc = parse_list(specs, n, true, f, err, errlen)) < 0)
		return rc;
	pthread_mutex_lock(&m->fmu);
	for (i = 0; i < m->ndev && strcmp(m->dev[i].cid, cid); i++)
		;
	if (i < m->ndev) {
		d = &m->dev[i];
	} else if (n) {
		mock__devfault *nd = realloc(m->dev, (m->ndev + 1) * sizeof *nd);
		if (!nd) {
			pthread_mutex_unlock(&m->fmu);
			snprintf(err, errlen, "out of memory");
			return CONF_ENOMEM;
		}
		m->dev = nd;
		d = &m->dev[m->ndev++];
		snprintf(d->cid, sizeof d->cid, "%s", cid);
	}
	if (d && n) {
		memcpy(d->f, f, n * sizeof *f);
		d->n = n;
	} else if (d) { /* cleared: the entry goes */
		*d = m->dev[--m->ndev];
	}
	pthread_mutex_unlock(&m->fmu);
	return 0;
}

static cJSON *list_json(const mock_fault *f, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	char s[64];

	for (size_t i = 0; a && i < n; i++) {
		mock_fault_format(&f[i], s, sizeof s);
		cJSON_AddItemToArray(a, cJSON_CreateString(s));
	}
	return a;
}

cJSON *mock_faults_json(mock *m, const char *cid)
{
	cJSON *o = cJSON_CreateObject(), *devs;

	if (!o || !m)
		return o;
	pthread_mutex_lock(&m->fmu);
	if (cid) {
		size_t i;
		for (i = 0; i < m->ndev && strcmp(m->dev[i].cid, cid); i++)
			;
		cJSON_AddStringToObject(o, "cid", cid);
		cJSON_AddItemToObject(o, "faults", i < m->ndev ?
				      list_json(m->dev[i].f, m->dev[i].n) :
				      cJSON_CreateArray());
	} else {
		cJSON_AddItemToObject(o, "faults", list_json(m->faults,
							     m->nfaults));
		devs = cJSON_AddObjectToObject(o, "devices");
		for (size_t i = 0; devs && i < m->ndev; i++)
			cJSON_AddItemToObject(devs, m->dev[i].cid,
					      list_json(m->dev[i].f, m->dev[i].n));
	}
	pthread_mutex_unlock(&m->fmu);
	return o;
}

void mock__inject_draw(mock *m, mock_fault_phase phase, const char *cid,
		       mock_fault_hit *h)
{
	pthread_mutex_lock(&m->fmu);
	mock_fault_draw(m->faults, m->nfaults, phase, &m->rng, h);
	for (size_t i = 0; cid && i < m->ndev; i++)
		if (!strcmp(m->dev[i].cid, cid))
			mock_fault_draw(m->dev[i].f, m->dev[i].n, phase, &m->rng, h);
	pthread_mutex_unlock(&m->fmu);
}

/* ---------------------------------------------------------------- wire */

/* The socket of connection c.  CivetWeb 1.15 does not give it out, so it
 * is the descriptor whose local port is the mock's and whose peer port is
 * the client's; -1 when none is found. */
static int conn_fd(mock *m, struct mg_connection *c)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fd = -1;

	while (d && (e = readdir(d))) {
		struct sockaddr_storage a, p;
		socklen_t al = sizeof a, pl = sizeof p;
		struct stat sb;
		int f = atoi(e->d_name);

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || f == dirfd(d) ||
		    fstat(f, &sb) < 0 || !S_ISSOCK(sb.st_mode) ||
		    getsockname(f, (struct sockaddr *)&a, &al) < 0 ||
		    getpeername(f, (struct sockaddr *)&p, &pl) < 0)
			continue;
		int lp = a.ss_family == AF_INET6 ?
			 ntohs(((struct sockaddr_in6 *)&a)->sin6_port) :
			 ntohs(((struct sockaddr_in *)&a)->sin_port);
		int pp = p.ss_family == AF_INET6 ?
			 ntohs(((struct sockaddr_in6 *)&p)->sin6_port) :
			 ntohs(((struct sockaddr_in *)&p)->sin_port);
		if (lp == m->port && pp == ri->remote_port) {
			fd = f;
			break;
		}
	}
	if (d)
		closedir(d);
	return fd;
}

/* Takes the socket away from CivetWeb: the descriptor number is kept (now
 * /dev/null) so that it is not reused before CivetWeb closes it; the
 * socket closes here, with an RST when linger is 0. */
static void drop_socket(int fd, bool rst)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (rst) {
		struct linger l = {.l_onoff = 1, .l_linger = 0};
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	} else {
		shutdown(fd, SHUT_RDWR);
	}
	if (null >= 0) {
		dup2(null, fd);
		close(null);
	}
}

/* Sleeps ms, waking early when the mock stops. */
static void nap(mock *m, int64_t ms)
{
	while (ms > 0 && !atomic_load(&m->stopping)) {
		int64_t step = ms < 50 ? ms : 50;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = step * 1000000};
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

bool mock__inject_answer(mock *m, struct mg_connection *c,
			 const mock__exchange *x)
{
	const mock_fault_hit *h = &x->fault;
	char *wire;
	size_t n;
	int fd;

	if (h->delay_ms)
		nap(m, h->delay_ms);
	switch (h->answer) {
	case MOCK_FAULT_RESET:
	case MOCK_FAULT_CLOSE:
		if ((fd = conn_fd(m, c)) >= 0)
			drop_socket(fd, h->answer == MOCK_FAULT_RESET);
		return true; /* no answer, whether or not the socket was found */
	case MOCK_FAULT_TRUNCATE:
		if (!(wire = mock__wire(x, NULL, &n)))
			return false;
		mg_write(c, wire, n / 2);
		free(wire);
		if ((fd = conn_fd(m, c)) >= 0)
			drop_socket(fd, false);
		return true;
	default:
		return false;
	}
}
