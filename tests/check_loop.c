/* check_loop.c -- the event loop's HTTP side against hostile servers: one
 * budget for reply bytes in flight across every transfer of a process, so
 * a server streaming endless replies to many devices cannot grow memory
 * past it, and the replies it cuts fail with an error that names it;
 * transfers waiting for a slot cancelled anywhere in the queue while the
 * rest complete once each, with the request headers they asked for; the
 * idle handles a burst left behind freed once no burst needs them;
 * timers, many of them armed, stopped and re-armed anywhere in the heap
 * (also from inside a firing timer), fire once each in due order, ties in
 * arming order. */
#include "base.h"
#include "loop.h"
#include "testsrv.h"
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

#define N_QUEUE 300 /* more than the loop hands curl at once (128) */

typedef struct queued {
	int done[N_QUEUE + 1];
	int ok;
} queued;

static queued *q_of;

static void on_queued(void *ud, const loop_http_res *r)
{
	int i = (int)(intptr_t)ud;

	q_of->done[i]++;
	if (r->fail == LOOP_HTTP_OK && r->status == 200)
		q_of->ok++;
}

/* 300 transfers started at once: the first 128 go to curl, the rest wait.
 * Waiting ones cancelled at the head, in the middle and at the tail of the
 * queue never run, one started after the tail was cancelled still does,
 * and every other completes exactly once. */
START_TEST(waiting_transfers_cancel_anywhere_in_the_queue_and_the_rest_complete)
{
	static const int cancel[] = {128, 129, 200, N_QUEUE - 1};
	loop_http *h[N_QUEUE + 1];
	queued qd = {0};
	testsrv s;
	loop *l;
	size_t close_hdr = 0, expect = 0;

	q_of = &qd;
	ck_assert_int_eq(ts_start(&s), 0);
	ck_assert_int_eq(loop_new(LOOP_REAL, 1, 0, &l), 0);
	for (int i = 0; i < N_QUEUE; i++) {
		loop_http_req q = {.url = s.url, .body = "{}", .len = 2,
				   .expect_100 = i % 2, .keep_alive = i % 3 == 0};
		ck_assert_int_eq(loop_http_start(l, &q, on_queued,
						 (void *)(intptr_t)i, &h[i]), 0);
	}
	for (size_t k = 0; k < ARRAY_SIZE(cancel); k++)
		loop_http_cancel(l, h[cancel[k]]);
	loop_http_req last = {.url = s.url, .body = "{}", .len = 2};
	ck_assert_int_eq(loop_http_start(l, &last, on_queued,
					 (void *)(intptr_t)N_QUEUE, NULL), 0);
	double deadline = now_s() + 60;
	while (loop_http_in_flight(l) && now_s() < deadline)
		loop_step(l, 10);
	ck_assert_uint_eq(loop_http_in_flight(l), 0);
	for (int i = 0; i <= N_QUEUE; i++) {
		bool cancelled = false;
		for (size_t k = 0; k < ARRAY_SIZE(cancel); k++)
			cancelled |= cancel[k] == i;
		ck_assert_msg(qd.done[i] == !cancelled, "transfer %d ended %d "
			      "times%s", i, qd.done[i], cancelled ?
			      " though cancelled while waiting" : "");
	}
	ck_assert_int_eq(qd.ok, N_QUEUE + 1 - (int)ARRAY_SIZE(cancel));
	pthread_mutex_lock(&s.mu);
	ck_assert_uint_eq(s.n_req, N_QUEUE + 1 - ARRAY_SIZE(cancel));
	for (size_t i = 0; i < s.n_req; i++) {
		close_hdr += s.req[i].conn_close;
		expect += s.req[i].expect_100;
	}
	pthread_mutex_unlock(&s.mu);
	/* the short connection says so; keep-alive (every third) does not */
	ck_assert_uint_eq(close_hdr, 200 - 3 + 1); /* 128, 200, 299 cancelled */
	ck_assert_uint_eq(expect, 150 - 2);        /* odd: 129, 299 cancelled */
	loop_free(l);
	ts_stop(&s);
}
END_TEST

/* loop_set_active_max(3): of 10 transfers started at once 3 reach the
 * network and 7 wait, and all 10 complete; the default lets 10 go. */
START_TEST(active_max_caps_the_transfers_on_the_network)
{
	for (int cap = 0; cap <= 3; cap += 3) {
		loop_http *h[10];
		queued qd = {0};
		testsrv s;
		loop *l;
		size_t waiting = 0;

		q_of = &qd;
		ck_assert_int_eq(ts_start(&s), 0);
		ck_assert_int_eq(loop_new(LOOP_REAL, 1, 0, &l), 0);
		if (cap)
			loop_set_active_max(l, (size_t)cap);
		for (int i = 0; i < 10; i++) {
			loop_http_req q = {.url = s.url, .body = "{}", .len = 2};
			ck_assert_int_eq(loop_http_start(l, &q, on_queued,
							 (void *)(intptr_t)i,
							 &h[i]), 0);
		}
		for (int i = 0; i < 10; i++)
			waiting += loop_http_waiting(h[i]);
		ck_assert_uint_eq(waiting, cap ? 7 : 0);
		double deadline = now_s() + 30;
		while (loop_http_in_flight(l) && now_s() < deadline)
			loop_step(l, 10);
		ck_assert_int_eq(qd.ok, 10);
		loop_free(l);
		ts_stop(&s);
	}
}
END_TEST

/* n transfers to s started at once, run until each is answered 200. */
static void run_at_once(loop *l, const testsrv *s, int n)
{
	queued qd = {0};

	q_of = &qd;
	for (int i = 0; i < n; i++) {
		loop_http_req q = {.url = s->url, .body = "{}", .len = 2};
		loop_http *h;
		ck_assert_int_eq(loop_http_start(l, &q, on_queued,
						 (void *)(intptr_t)i, &h), 0);
	}
	double deadline = now_s() + 30;
	while (loop_http_in_flight(l) && now_s() < deadline)
		loop_step(l, 10);
	ck_assert_int_eq(qd.ok, n);
}

/* The handles a burst of 10 left behind stay while a burst of 10 can
 * come again; once the busiest moment since the last trim was 3 at once,
 * 7 go; after a quiet spell the rest; and transfers still run after. */
START_TEST(trim_frees_the_idle_handles_beyond_the_recent_peak)
{
	testsrv s;
	loop *l;

	ck_assert_int_eq(ts_start(&s), 0);
	ck_assert_int_eq(loop_new(LOOP_REAL, 1, 0, &l), 0);
	ck_assert_uint_eq(loop_trim(l), 0);
	run_at_once(l, &s, 10);
	ck_assert_uint_eq(loop_trim(l), 0);
	run_at_once(l, &s, 3);
	ck_assert_uint_eq(loop_trim(l), 7);
	ck_assert_uint_eq(loop_trim(l), 3);
	run_at_once(l, &s, 2);
	ck_assert_uint_eq(loop_trim(l), 0);
	ck_assert_uint_eq(loop_trim(l), 2);
	loop_free(l);
	ts_stop(&s);
}
END_TEST

/* ---- timers ---- */

#define N_TIMERS 3000

typedef struct tfx {
	loop *l;
	loop_timer t[N_TIMERS];
	int64_t due[N_TIMERS];
	uint64_t armed_at[N_TIMERS]; /* arming sequence, the tie-break */
	bool armed[N_TIMERS];
	uint64_t seq;
	int fired[2 * N_TIMERS]; /* re-arms inside firings add some */
	int64_t fired_late[2 * N_TIMERS]; /* now - due as it fired */
	size_t n_fired;
	uint64_t rng;
	int64_t t0;
} tfx;

static tfx *tf_cur;

static uint64_t tf_rand(tfx *f)
{
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	return f->rng;
}

static void tf_arm(tfx *f, int i, int64_t due)
{
	ck_assert_int_eq(loop_timer_at(f->l, &f->t[i], due), 0);
	f->due[i] = due;
	f->armed_at[i] = f->seq++;
	f->armed[i] = true;
}

static void tf_stop(tfx *f, int i)
{
	loop_timer_stop(f->l, &f->t[i]);
	f->armed[i] = false;
}

/* Fires: records itself, and every third firing stops another timer at
 * random (anywhere in the heap) and re-arms a fourth one later. */
static void tf_fire(loop_timer *t)
{
	tfx *f = tf_cur;
	int i = (int)(t - f->t);

	ck_assert(f->armed[i]);
	ck_assert(!loop_timer_armed(t));
	f->armed[i] = false;
	/* the first of every timer still armed, by (due, arming); no
	 * ck_assert per pair: each costs a write to check's pipe */
	for (int j = 0; j < N_TIMERS; j++)
		if (f->armed[j] && !(f->due[i] < f->due[j] ||
				     (f->due[i] == f->due[j] &&
				      f->armed_at[i] < f->armed_at[j])))
			ck_abort_msg("firing %zu: timer %d (due +%lld, armed "
				     "#%llu) before timer %d (due +%lld, armed "
				     "#%llu)", f->n_fired, i,
				     (long long)(f->due[i] - f->t0),
				     (unsigned long long)f->armed_at[i], j,
				     (long long)(f->due[j] - f->t0),
				     (unsigned long long)f->armed_at[j]);
	f->fired_late[f->n_fired] = loop_now(f->l) - f->due[i];
	f->fired[f->n_fired++] = i;
	if (f->n_fired % 3 == 0) {
		tf_stop(f, (int)(tf_rand(f) % N_TIMERS));
		tf_arm(f, (int)(tf_rand(f) % N_TIMERS),
		       loop_now(f->l) + 1 + (int64_t)(tf_rand(f) % 50));
	}
}

START_TEST(many_timers_fire_once_each_in_due_order_ties_in_arming_order)
{
	static tfx f;
	int64_t t0;

	memset(&f, 0, sizeof f);
	tf_cur = &f;
	f.rng = 0x9E3779B97F4A7C15ULL;
	ck_assert_int_eq(loop_new(LOOP_JUMP, 1, 1000000, &f.l), 0);
	t0 = f.t0 = loop_now(f.l);
	for (int i = 0; i < N_TIMERS; i++) {
		f.t[i].fn = tf_fire;
		/* few distinct times: many ties */
		tf_arm(&f, i, t0 + 10 + (int64_t)(tf_rand(&f) % 200));
	}
	for (int k = 0; k < N_TIMERS; k++) {
		int i = (int)(tf_rand(&f) % N_TIMERS);
		if (k % 2)
			tf_stop(&f, i);
		else /* re-armed: its old place goes, a new tie order comes */
			tf_arm(&f, i, t0 + 10 + (int64_t)(tf_rand(&f) % 200));
	}
	/* until every timer fired (those armed in firings come later) */
	for (int round = 0; round < 100; round++) {
		int64_t last = 0;
		for (int i = 0; i < N_TIMERS; i++)
			if (f.armed[i] && f.due[i] > last)
				last = f.due[i];
		if (!last)
			break;
		loop_run_until(f.l, last);
	}
	for (int i = 0; i < N_TIMERS; i++)
		ck_assert_msg(!f.armed[i], "timer %d armed for %lld never fired",
			      i, (long long)(f.due[i] - t0));
	ck_assert_uint_gt(f.n_fired, N_TIMERS / 2);
	for (size_t k = 0; k < f.n_fired; k++)
		ck_assert_int_ge(f.fired_late[k], 0);
	loop_free(f.l);
}
END_TEST

#define N_CROWD 20000

typedef struct crowd {
	loop_timer t[N_CROWD];
	int fired;
	int fired_at_reply; /* timers fired when the reply came: -1 none */
} crowd;

static crowd *cr_of;

/* A device's slot costs time: 20 µs each, 0.4 s for the crowd. */
static void crowd_fire(loop_timer *t)
{
	double until = now_s() + 20e-6;

	(void)t;
	while (now_s() < until)
		;
	cr_of->fired++;
}

static void crowd_reply(void *ud, const loop_http_res *r)
{
	(void)ud;
	(void)r;
	cr_of->fired_at_reply = cr_of->fired;
}

/* 20,000 timers due at once (devices powered on in one tick), each
 * taking 20 µs, beside a transfer whose answer comes 100 ms later: the
 * reply is handed over between rounds of timers, not after the last of
 * them, and every timer still fires exactly once. */
START_TEST(a_crowd_of_due_timers_does_not_hold_the_network_back)
{
	static crowd c;
	testsrv s;
	loop *l;
	int64_t now;
	queued qd = {0};

	memset(&c, 0, sizeof c);
	c.fired_at_reply = -1;
	cr_of = &c;
	q_of = &qd;
	ck_assert_int_eq(ts_start(&s), 0);
	s.dflt.delay_ms = 100;
	ck_assert_int_eq(loop_new(LOOP_REAL, 1, 0, &l), 0);
	loop_http_req q = {.url = s.url, .body = "{}", .len = 2};
	ck_assert_int_eq(loop_http_start(l, &q, crowd_reply, NULL, NULL), 0);
	/* the request reaches the server, whose answer is 100 ms away */
	double deadline = now_s() + 10;
	while (now_s() < deadline) {
		loop_step(l, 10);
		pthread_mutex_lock(&s.mu);
		size_t n = s.n_req;
		pthread_mutex_unlock(&s.mu);
		if (n)
			break;
	}
	ck_assert_int_eq(c.fired_at_reply, -1);
	now = loop_now(l);
	for (int i = 0; i < N_CROWD; i++) {
		c.t[i].fn = crowd_fire;
		ck_assert_int_eq(loop_timer_at(l, &c.t[i], now), 0);
	}
	deadline = now_s() + 30;
	while ((c.fired < N_CROWD || c.fired_at_reply < 0) &&
	       now_s() < deadline)
		loop_step(l, 10);
	ck_assert_int_eq(c.fired, N_CROWD);
	ck_assert_msg(c.fired_at_reply >= 0 && c.fired_at_reply < N_CROWD,
		      "the reply came after %d of %d due timers",
		      c.fired_at_reply, N_CROWD);
	loop_free(l);
	ts_stop(&s);
}
END_TEST

static int n_ended;

static void on_ended(void *ud, const loop_http_res *r)
{
	int *ok = ud;

	n_ended++;
	if (r->fail == LOOP_HTTP_OK && r->status == 200)
		(*ok)++;
}

/* POSTs to more URLs than the loop keeps parsed (8), each URL twice and
 * interleaved: every request reaches its own path, those whose URL the
 * loop parsed once and those curl parses from the text. */
START_TEST(posts_to_many_urls_each_reach_their_own_path)
{
	enum { N_URL = 11, ROUNDS = 2 };
	char url[N_URL][160];
	int per_path[N_URL] = {0}, ok = 0;
	testsrv s;
	loop *l;

	ck_assert_int_eq(ts_start(&s), 0);
	ck_assert_int_eq(loop_new(LOOP_REAL, 1, 0, &l), 0);
	n_ended = 0;
	for (int k = 0; k < ROUNDS; k++)
		for (int i = 0; i < N_URL; i++) {
			snprintf(url[i], sizeof url[i], "%s/u%d", s.url, i);
			loop_http_req q = {.url = url[i], .body = "{}", .len = 2,
					   .keep_alive = i % 2};
			ck_assert_int_eq(loop_http_start(l, &q, on_ended, &ok,
							 NULL), 0);
		}
	double deadline = now_s() + 30;
	while (n_ended < N_URL * ROUNDS && now_s() < deadline)
		loop_step(l, 10);
	ck_assert_int_eq(ok, N_URL * ROUNDS);
	pthread_mutex_lock(&s.mu);
	ck_assert_uint_eq(s.n_req, N_URL * ROUNDS);
	for (size_t r = 0; r < s.n_req; r++) {
		int i = -1;
		ck_assert_msg(sscanf(s.req[r].uri, "/api/face/u%d", &i) == 1 &&
				      i >= 0 && i < N_URL,
			      "request %zu went to %s", r, s.req[r].uri);
		per_path[i]++;
	}
	pthread_mutex_unlock(&s.mu);
	for (int i = 0; i < N_URL; i++)
		ck_assert_msg(per_path[i] == ROUNDS, "/api/face/u%d got %d "
			      "requests, not %d", i, per_path[i], ROUNDS);
	loop_free(l);
	ts_stop(&s);
}
END_TEST

/* A proxy: accepts one connection, keeps the request's first line and
 * answers 200 "{}". */
typedef struct proxy {
	int lfd, port;
	char line[256];
	pthread_t th;
} proxy;

static void *proxy_main(void *ud)
{
	static const char ans[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
				  "Connection: close\r\n\r\n{}";
	proxy *p = ud;
	char buf[4096];
	size_t len = 0;
	struct pollfd pl = {.fd = p->lfd, .events = POLLIN};
	int c;

	/* a loop that went around the proxy never comes */
	if (poll(&pl, 1, 10000) <= 0 || (c = accept(p->lfd, NULL, NULL)) < 0)
		return NULL;
	/* the head, then the two bytes of body */
	while (len < sizeof buf - 1) {
		struct pollfd pf = {.fd = c, .events = POLLIN};
		ssize_t n;
		char *end;
		if (poll(&pf, 1, 10000) <= 0)
			break;
		n = recv(c, buf + len, sizeof buf - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end && (size_t)(end + 4 - buf) + 2 <= len)
			break;
	}
	buf[len] = '\0';
	snprintf(p->line, sizeof p->line, "%.*s", (int)strcspn(buf, "\r\n"),
		 buf);
	(void)!send(c, ans, sizeof ans - 1, MSG_NOSIGNAL);
	close(c);
	return NULL;
}

/* The loop tells curl "no proxy" once per handle when the environment
 * names none; with http_proxy set a POST still goes through that proxy,
 * as curl's own lookup sends it. */
START_TEST(a_proxy_named_in_the_environment_carries_the_posts)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof a;
	char env[64];
	int ok = 0;
	proxy p = {0};
	loop *l;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p.lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(p.lfd, 0);
	ck_assert_int_eq(bind(p.lfd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(p.lfd, 8), 0);
	ck_assert_int_eq(getsockname(p.lfd, (struct sockaddr *)&a, &al), 0);
	p.port = ntohs(a.sin_port);
	ck_assert_int_eq(pthread_create(&p.th, NULL, proxy_main, &p), 0);
	snprintf(env, sizeof env, "http://127.0.0.1:%d", p.port);
	ck_assert_int_eq(setenv("http_proxy", env, 1), 0);
	ck_assert_int_eq(loop_new(LOOP_REAL, 1, 0, &l), 0);
	/* TEST-NET-1: reached directly it never answers */
	loop_http_req q = {.url = "http://192.0.2.1:9/api/face", .body = "{}",
			   .len = 2, .connect_timeout_ms = 3000,
			   .timeout_ms = 5000};
	n_ended = 0;
	ck_assert_int_eq(loop_http_start(l, &q, on_ended, &ok, NULL), 0);
	double deadline = now_s() + 15;
	while (!n_ended && now_s() < deadline)
		loop_step(l, 10);
	pthread_join(p.th, NULL);
	close(p.lfd);
	loop_free(l);
	unsetenv("http_proxy");
	ck_assert_int_eq(ok, 1);
	ck_assert_str_eq(p.line, "POST http://192.0.2.1:9/api/face HTTP/1.1");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("loop");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, endless_replies_to_many_transfers_stay_within_the_reply_budget);
	tcase_add_test(tc, a_reply_within_the_budget_is_whole_and_its_bytes_come_back);
	tcase_add_test(tc, waiting_transfers_cancel_anywhere_in_the_queue_and_the_rest_complete);
	tcase_add_test(tc, active_max_caps_the_transfers_on_the_network);
	tcase_add_test(tc, trim_frees_the_idle_handles_beyond_the_recent_peak);
	tcase_add_test(tc, many_timers_fire_once_each_in_due_order_ties_in_arming_order);
	tcase_add_test(tc, a_crowd_of_due_timers_does_not_hold_the_network_back);
	tcase_add_test(tc, posts_to_many_urls_each_reach_their_own_path);
	tcase_add_test(tc, a_proxy_named_in_the_environment_carries_the_posts);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
