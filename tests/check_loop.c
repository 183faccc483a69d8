/* check_loop.c -- the event loop's HTTP side against hostile servers: one
 * budget for reply bytes in flight across every transfer of a process, so
 * a server streaming endless replies to many devices cannot grow memory
 * past it, and the replies it cuts fail with an error that names it. */
#include "loop.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define N_XFER 200
#define BUDGET (8u << 20)

/* A server that answers every connection with 200 and a body that never
 * ends (no Content-Length, so the reply lasts until the connection
 * closes), as fast as the client reads. */
typedef struct flood {
	int lfd, port;
	atomic_bool stop;
	pthread_t th;
} flood;

static void *flood_main(void *ud)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: "
				   "application/json\r\n\r\n";
	static char chunk[65536];
	flood *f = ud;
	struct pollfd p[1 + N_XFER];
	bool sent_head[1 + N_XFER];
	char sink[4096];
	int n = 1;

	memset(chunk, ' ', sizeof chunk);
	chunk[0] = '{';
	p[0] = (struct pollfd){.fd = f->lfd, .events = POLLIN};
	while (!f->stop) {
		if (poll(p, (nfds_t)n, 50) <= 0)
			continue;
		if ((p[0].revents & POLLIN) && n < 1 + N_XFER) {
			int c = accept(f->lfd, NULL, NULL);
			if (c >= 0) {
				sent_head[n] = false;
				p[n++] = (struct pollfd){.fd = c,
							 .events = POLLIN | POLLOUT};
			}
		}
		for (int i = 1; i < n; i++) {
			ssize_t w;
			if (p[i].revents & POLLIN)
				(void)!recv(p[i].fd, sink, sizeof sink, MSG_DONTWAIT);
			if (p[i].revents & (POLLERR | POLLHUP)) {
				close(p[i].fd);
				p[i] = p[--n];
				sent_head[i] = sent_head[n];
				i--;
				continue;
			}
			if (!(p[i].revents & POLLOUT))
				continue;
			if (!sent_head[i]) {
				w = send(p[i].fd, head, sizeof head - 1,
					 MSG_NOSIGNAL | MSG_DONTWAIT);
				sent_head[i] = w > 0;
				continue;
			}
			w = send(p[i].fd, chunk, sizeof chunk,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && errno != EAGAIN) {
				close(p[i].fd);
				p[i] = p[--n];
				sent_head[i] = sent_head[n];
				i--;
			}
		}
	}
	for (int i = 1; i < n; i++)
		close(p[i].fd);
	return NULL;
}

static void flood_start(flood *f)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof a;

	memset(f, 0, sizeof *f);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(f->lfd, 0);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(f->lfd, 512), 0);
	ck_assert_int_eq(getsockname(f->lfd, (struct sockaddr *)&a, &al), 0);
	f->port = ntohs(a.sin_port);
	ck_assert_int_eq(pthread_create(&f->th, NULL, flood_main, f), 0);
}

static void flood_stop(flood *f)
{
	f->stop = true;
	pthread_join(f->th, NULL);
	close(f->lfd);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef struct tally {
	int done, budget, other;
	char first_error[256];
} tally;

static void on_done(void *ud, const loop_http_res *r)
{
	tally *t = ud;

	t->done++;
	if (r->fail == LOOP_HTTP_BUDGET) {
		t->budget++;
		if (!t->first_error[0])
			snprintf(t->first_error, sizeof t->first_error, "%s",
				 r->error);
	} else {
		t->other++;
	}
}

/* 200 devices' uploads, each answered with an endless reply and allowed
 * 16 MiB on its own (3.2 GB together): the loop never holds more than its
 * budget, and every reply it cuts says it was the budget. */
START_TEST(endless_replies_to_many_transfers_stay_within_the_reply_budget)
{
	flood f;
	loop *l;
	tally t = {0};
	char url[64];
	size_t over = 0;

	flood_start(&f);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/api", f.port);
	ck_assert_int_eq(loop_new(LOOP_REAL, 1, 0, &l), 0);
	loop_set_reply_budget(l, BUDGET);
	for (int i = 0; i < N_XFER; i++) {
		loop_http_req q = {.url = url, .body = "{}", .len = 2,
				   .timeout_ms = 60000, .max_response = 16u << 20,
				   .keep_headers = true};
		ck_assert_int_eq(loop_http_start(l, &q, on_done, &t, NULL), 0);
	}
	double deadline = now_s() + 90;
	while (t.done < N_XFER && now_s() < deadline) {
		loop_step(l, 10);
		if (loop_reply_bytes(l) > BUDGET)
			over++;
	}
	ck_assert_msg(t.done == N_XFER, "%d of %d transfers ended", t.done,
		      N_XFER);
	ck_assert_uint_eq(over, 0);
	ck_assert_uint_le(loop_reply_peak(l), BUDGET);
	ck_assert_uint_gt(loop_reply_peak(l), BUDGET / 2); /* it was used */
	ck_assert_uint_eq(loop_reply_bytes(l), 0);        /* and given back */
	ck_assert_msg(t.budget == N_XFER, "%d cut by the budget, %d otherwise",
		      t.budget, t.other);
	ck_assert_msg(strstr(t.first_error, "reply budget spent") &&
		      strstr(t.first_error, "8 MiB"), "%s", t.first_error);
	loop_free(l);
	flood_stop(&f);
}
END_TEST

/* The budget is shared: when a reply ends, its bytes serve the next. */
START_TEST(a_reply_within_the_budget_is_whole_and_its_bytes_come_back)
{
	flood f;
	loop *l;
	tally t = {0};
	char url[64];

	flood_start(&f);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/api", f.port);
	ck_assert_int_eq(loop_new(LOOP_REAL, 1, 0, &l), 0);
	loop_set_reply_budget(l, BUDGET);
	/* one reply capped at 1 MiB: too big, not over budget */
	loop_http_req q = {.url = url, .body = "{}", .len = 2,
			   .timeout_ms = 60000, .max_response = 1u << 20};
	ck_assert_int_eq(loop_http_start(l, &q, on_done, &t, NULL), 0);
	double deadline = now_s() + 30;
	while (t.done < 1 && now_s() < deadline)
		loop_step(l, 10);
	ck_assert_int_eq(t.done, 1);
	ck_assert_int_eq(t.budget, 0);
	ck_assert_uint_eq(loop_reply_bytes(l), 0);
	loop_free(l);
	flood_stop(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("loop");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, endless_replies_to_many_transfers_stay_within_the_reply_budget);
	tcase_add_test(tc, a_reply_within_the_budget_is_whole_and_its_bytes_come_back);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
