/* loop.c -- the event loop: a min-heap of timers on the virtual clock, one
 * libcurl multi handle for every transfer (curl_multi_poll waits on their
 * sockets), and a mutex-guarded job queue that other threads feed through
 * loop_post (curl_multi_wakeup interrupts the wait).  Nothing here knows
 * what the bytes mean. */
#include "loop.h"
#include "base.h"
#include "sim_err.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ACTIVE_MAX LOOP_ACTIVE_MAX /* transfers handed to curl at once
				       (loop_set_active_max); more wait */
/* Idle easy handles kept for reuse: as many as can be active, since a
 * saturated loop ends (and then starts) up to all of them in one round,
 * and each handle the pool could not take was cleaned up and another made
 * (4 % of camsim load's CPU kept alive with 64). */
#define POOL_MAX ACTIVE_MAX
#define REPLY_BUDGET (128u << 20) /* default loop_set_reply_budget */
#define FIRE_MAX 256 /* timers fired per round before the sockets' turn */
#define LOOP_USER_AGENT "camsim-device/1"
#define URLS_MAX 8   /* POST URLs kept parsed; more are parsed per transfer */

struct loop_http {
	loop *l;
	CURL *easy;
	const struct curl_slist *hdrs; /* one of the loop's post_hdrs */
	char *body;
	char *resp, *hdr;
	size_t rlen, rcap, rmax, hlen, hcap;
	bool keep_headers, too_big, over_budget, got_100;
	loop_http_cb cb;
	void *ud;
	int64_t started;
	loop_http *prev, *next;
	char *url;
	bool get, expect_100, keep_alive;
	size_t len;
	long cto, to;
	char iface[52];   /* curl's "host!ADDR", "" without source_addr */
	loop_http *wnext, *wprev; /* the wait queue, both ways: cancelling
				     20,000 waiting transfers (a load run's
				     end) must not walk it each time */
	bool waiting;
	char err[CURL_ERROR_SIZE];
};

typedef struct job {
	loop_post_cb fn;
	void *ud;
	struct job *next;
} job;

/* A heap entry holds its timer's key, so that comparisons read the heap's
 * own contiguous array: with 100,000 devices the timers lie scattered over
 * their owners' memory, and a heap of pointers cost a cache miss for every
 * comparison (a third of `camsim load''s CPU per request, docs/perf.md). */
typedef struct heap_ent {
	int64_t due;
	uint64_t order;
	loop_timer *t;
} heap_ent;

struct loop {
	loop_clock mode;
	double scale;
	int64_t start_v, start_mono;
	_Atomic int64_t jump_off; /* read by loop_now from any thread */
	heap_ent *heap;
	size_t n_heap, cap_heap;
	uint64_t order;
	CURLM *multi;
	loop_http *flight;
	size_t n_flight;
	loop_http *wait_head, *wait_tail;
	size_t n_active;
	CURL *pool[POOL_MAX];
	int pool_setup[POOL_MAX]; /* each pooled handle's setup(), or 0 */
	size_t n_pool;
	size_t active_peak; /* most transfers active at once since loop_trim */
	/* A POST's request headers, by expect_100 + 2 * keep_alive: the same
	 * few lists for every transfer, built once (a list per transfer cost
	 * three allocations and frees per message at thousands a second) */
	struct curl_slist *post_hdrs[4];
	/* The POST URLs seen, parsed once: curl parses a URL given as text
	 * for every transfer (5 % of a kept-alive request's instructions,
	 * docs/perf.md).  A CURLU is never changed once here, and lives
	 * until loop_free, so no transfer outlives its own. */
	struct {
		char *text;
		CURLU *u;
	} urls[URLS_MAX];
	int n_urls;
	/* No proxy variable in the environment: each handle is told "no
	 * proxy" once, where curl would read five variables per transfer
	 * to find that out.  With one set, curl's own lookup is kept. */
	bool no_proxy_env;
	pthread_mutex_t mu;
	job *jobs, *jobs_tail;
	atomic_bool stop;
	int holds; /* loop_hold: the jump clock stands still while > 0 */
	int pauses;                /* loop_pause nesting */
	int64_t pause_mono;        /* monotonic ms when the pause began */
	_Atomic int64_t paused_at; /* virtual ms while paused, else 0 */
	size_t reply_budget;       /* loop_set_reply_budget */
	size_t active_max;         /* loop_set_active_max */
	size_t reply_bytes;        /* buffers of replies in flight */
	size_t reply_peak;
};

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A POST's request headers for i = expect_100 + 2 * keep_alive; NULL
 * without memory. */
static struct curl_slist *post_headers(int i)
{
	const char *line[] = {
		"Content-Type: application/json",
		/* the user agent here, not as CURLOPT_USERAGENT: curl 7.88
		 * formats that one twice per request, a character at a time
		 * (3k instructions, docs/perf.md) */
		"User-Agent: " LOOP_USER_AGENT,
		i & 1 ? "Expect: 100-continue" : "Expect:",
		/* the short connection says so (V1.16, D57) */
		i & 2 ? NULL : "Connection: close",
	};
	struct curl_slist *s = NULL, *t;

	for (size_t k = 0; k < ARRAY_SIZE(line); k++) {
		if (!line[k])
			continue;
		if (!(t = curl_slist_append(s, line[k]))) {
			curl_slist_free_all(s);
			return NULL;
		}
		s = t;
	}
	return s;
}

static const char *const proxy_vars[] = {
	"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
};

int loop_new(loop_clock mode, double scale, int64_t start_ms, loop **out)
{
	loop *l;

	*out = NULL;
	if (mode != LOOP_SCALED)
		scale = 1.0;
	if (!(scale > 0) || scale > 1e6)
		return SIM_EINVAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return SIM_ENOMEM;
	l = calloc(1, sizeof(*l));
	if (!l)
		return SIM_ENOMEM;
	l->mode = mode;
	l->scale = scale;
	l->reply_budget = REPLY_BUDGET;
	l->active_max = ACTIVE_MAX;
	l->start_mono = clock_ms(CLOCK_MONOTONIC);
	l->start_v = start_ms ? start_ms : clock_ms(CLOCK_REALTIME);
	l->multi = curl_multi_init();
	if (!l->multi) {
		free(l);
		return SIM_ENOMEM;
	}
	/* Many devices, one server: reuse connections instead of opening one
	 * per request, and cap them so a load test cannot exhaust ports. */
	curl_multi_setopt(l->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
	curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, 64L);
	for (int i = 0; i < 4; i++) {
		if (!(l->post_hdrs[i] = post_headers(i))) {
			while (i-- > 0)
				curl_slist_free_all(l->post_hdrs[i]);
			curl_multi_cleanup(l->multi);
			free(l);
			return SIM_ENOMEM;
		}
	}
	/* the variables curl 7.88 reads for http and https (not
	 * HTTP_PROXY: httpoxy) */
	l->no_proxy_env = true;
	for (size_t i = 0; i < ARRAY_SIZE(proxy_vars); i++)
		if (getenv(proxy_vars[i]))
			l->no_proxy_env = false;
	pthread_mutex_init(&l->mu, NULL);
	*out = l;
	return 0;
}

/* The options a POST's handle keeps from one transfer to the next, as a
 * number: 1 short connection, 2 kept alive; 0 for any other transfer (a
 * GET, a source address), whose handle is reset and set up in full. */
static int setup(const loop_http *h)
{
	if (h->get || h->iface[0])
		return 0;
	return h->keep_alive ? 2 : 1;
}

static void http_free(loop_http *h, bool pool_it)
{
	loop *l = h->l;

	if (h->easy) {
		curl_multi_remove_handle(l->multi, h->easy);
		if (pool_it && l->n_pool < POOL_MAX) {
			/* h's buffer goes: curl must not write to it later */
			curl_easy_setopt(h->easy, CURLOPT_ERRORBUFFER, NULL);
			l->pool_setup[l->n_pool] = setup(h);
			l->pool[l->n_pool++] = h->easy;
		} else {
			curl_easy_cleanup(h->easy);
		}
		l->n_active--;
	} else if (h->waiting) {
		if (h->wprev)
			h->wprev->wnext = h->wnext;
		else
			l->wait_head = h->wnext;
		if (h->wnext)
			h->wnext->wprev = h->wprev;
		else
			l->wait_tail = h->wprev;
	}
	free(h->url);
	if (h->prev)
		h->prev->next = h->next;
	else if (l->flight == h)
		l->flight = h->next;
	if (h->next)
		h->next->prev = h->prev;
	l->n_flight--;
	free(h->body);
	l->reply_bytes -= h->rcap + h->hcap;
	free(h->resp);
	free(h->hdr);
	free(h);
}

void loop_free(loop *l)
{
	job *j, *n;

	if (!l)
		return;
	while (l->flight)
		http_free(l->flight, false);
	for (size_t i = 0; i < l->n_pool; i++)
		curl_easy_cleanup(l->pool[i]);
	for (j = l->jobs; j; j = n) {
		n = j->next;
		free(j);
	}
	for (size_t i = 0; i < l->n_heap; i++)
		l->heap[i].t->slot = 0;
	free(l->heap);
	for (int i = 0; i < 4; i++)
		curl_slist_free_all(l->post_hdrs[i]);
	for (int i = 0; i < l->n_urls; i++) {
		curl_url_cleanup(l->urls[i].u);
		free(l->urls[i].text);
	}
	curl_multi_cleanup(l->multi);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

int64_t loop_now(const loop *l)
{
	int64_t paused = atomic_load(&l->paused_at);
	if (paused)
		return paused;
	int64_t mono = clock_ms(CLOCK_MONOTONIC) - l->start_mono;
	return l->start_v + (int64_t)((double)mono * l->scale) +
	       atomic_load(&l->jump_off);
}

loop_clock loop_mode(const loop *l)
{
	return l->mode;
}

/* ---------------------------------------------------------------- timers */

void loop_pause(loop *l, bool on)
{
	if (l->mode != LOOP_JUMP)
		return;
	if (on && l->pauses++ == 0) {
		atomic_store(&l->paused_at, loop_now(l));
		l->pause_mono = clock_ms(CLOCK_MONOTONIC);
	} else if (!on && l->pauses > 0 && --l->pauses == 0) {
		/* the time spent paused never happened to the devices */
		atomic_fetch_sub(&l->jump_off, clock_ms(CLOCK_MONOTONIC) -
				 l->pause_mono);
		atomic_store(&l->paused_at, 0);
	}
}

void loop_hold(loop *l, bool on)
{
	l->holds += on ? 1 : l->holds > 0 ? -1 : 0;
}

static bool before(const heap_ent *a, const heap_ent *b)
{
	return a->due < b->due || (a->due == b->due && a->order < b->order);
}

/* Four children a node: half the levels of a binary heap, and a node's
 * children share a cache line or two. */
#define HEAP_K 4

static void heap_set(loop *l, size_t i, heap_ent e)
{
	l->heap[i] = e;
	e.t->slot = i + 1;
}

static void sift_up(loop *l, size_t i)
{
	heap_ent e = l->heap[i];
	while (i > 0) {
		size_t p = (i - 1) / HEAP_K;
		if (!before(&e, &l->heap[p]))
			break;
		heap_set(l, i, l->heap[p]);
		i = p;
	}
	heap_set(l, i, e);
}

static void sift_down(loop *l, size_t i)
{
	heap_ent e = l->heap[i];
	for (;;) {
		size_t c = HEAP_K * i + 1, end = c + HEAP_K;
		if (c >= l->n_heap)
			break;
		if (end > l->n_heap)
			end = l->n_heap;
		for (size_t k = c + 1; k < end; k++)
			if (before(&l->heap[k], &l->heap[c]))
				c = k;
		if (!before(&l->heap[c], &e))
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, e);
}

void loop_timer_stop(loop *l, loop_timer *t)
{
	size_t i;

	if (!t->slot)
		return;
	i = t->slot - 1;
	t->slot = 0;
	if (i == --l->n_heap)
		return;
	heap_set(l, i, l->heap[l->n_heap]);
	if (i > 0 && before(&l->heap[i], &l->heap[(i - 1) / HEAP_K]))
		sift_up(l, i);
	else
		sift_down(l, i);
}

int loop_timer_at(loop *l, loop_timer *t, int64_t due)
{
	loop_timer_stop(l, t);
	if (l->n_heap == l->cap_heap) {
		size_t cap = l->cap_heap ? l->cap_heap * 2 : 64;
		heap_ent *h = realloc(l->heap, cap * sizeof(*h));
		if (!h)
			return SIM_ENOMEM;
		l->heap = h;
		l->cap_heap = cap;
	}
	t->due = due;
	t->order = l->order++;
	heap_set(l, l->n_heap++, (heap_ent){due, t->order, t});
	sift_up(l, l->n_heap - 1);
	return 0;
}

/* Fires the due timers, at most max of them: a round that fired max
 * leaves the rest due, and the next round comes after the sockets were
 * served (step waits 0 ms).  Without the cap, 25,000 devices powered on
 * in one tick fire in one round every interval, and their quarter of a
 * second of work leaves the open connections idle: camsim load's
 * kept-alive rate halved (docs/perf.md). */
static void fire_due(loop *l, size_t max)
{
	int64_t now = loop_now(l);
	/* Bounded: a timer re-armed for "now" inside its callback waits for
	 * the next round, so a careless owner cannot spin the loop. */
	uint64_t limit = l->order;

	while (max-- && l->n_heap && l->heap[0].due <= now &&
	       l->heap[0].order < limit) {
		loop_timer *t = l->heap[0].t;
		loop_timer_stop(l, t);
		t->fn(t);
	}
}

/* ---------------------------------------------------------------- HTTP */

/* Grows a reply buffer *buf of *cap bytes to hold need, within the
 * loop's budget for reply bytes in flight: doubling when the budget has
 * room for it, else exactly need.  False when even that does not fit
 * (or memory is out). */
static bool reply_grow(loop *l, char **buf, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 1024;
	size_t others = l->reply_bytes - *cap;
	char *r;

	while (c < need)
		c *= 2;
	if (others + c > l->reply_budget)
		c = need;
	if (others + c > l->reply_budget)
		return false;
	r = realloc(*buf, c);
	if (!r)
		return false;
	*buf = r;
	l->reply_bytes = others + c;
	*cap = c;
	if (l->reply_bytes > l->reply_peak)
		l->reply_peak = l->reply_bytes;
	return true;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
	loop_http *h = ud;
	size_t n = sz * nm;

	if (h->rlen + n > h->rmax) {
		h->too_big = true;
		return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
	}
	if (h->rlen + n + 1 > h->rcap &&
	    !reply_grow(h->l, &h->resp, &h->rcap, h->rlen + n + 1)) {
		/* one budget for the whole process: 200 devices each
		 * fed an endless reply must not take gigabytes */
		h->over_budget = true;
		return 0;
	}
	memcpy(h->resp + h->rlen, p, n);
	h->rlen += n;
	h->resp[h->rlen] = '\0';
	return n;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
	loop_http *h = ud;
	size_t n = sz * nm;

	if (n > 9 && !strncasecmp(p, "HTTP/", 5)) {
		const char *sp = memchr(p, ' ', n);
		if (sp && (size_t)(sp - p) + 4 <= n && !strncmp(sp + 1, "100", 3))
			h->got_100 = true;
	}
	if (!h->keep_headers || h->hlen + n > 65536)
		return n;
	/* over the budget the transcript just lacks the headers */
	if (h->hlen + n + 1 > h->hcap &&
	    !reply_grow(h->l, &h->hdr, &h->hcap, h->hlen + n + 1))
		return n;
	memcpy(h->hdr + h->hlen, p, n);
	h->hlen += n;
	h->hdr[h->hlen] = '\0';
	return n;
}

/* The options every transfer of h's setup() sets alike, on a handle new
 * or reset. */
static void setup_handle(CURL *e, const loop_http *h)
{
	if (h->l->no_proxy_env) {
		curl_easy_setopt(e, CURLOPT_PROXY, "");
		curl_easy_setopt(e, CURLOPT_NOPROXY, "");
	}
	if (!h->get) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_EXPECT_100_TIMEOUT_MS, 1000L);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
	}
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	if (h->get) /* a POST's is in its header list */
		curl_easy_setopt(e, CURLOPT_USERAGENT, LOOP_USER_AGENT);
	if (h->iface[0])
		curl_easy_setopt(e, CURLOPT_INTERFACE, h->iface);
	if (!h->keep_alive) {
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	}
}

/* A pooled handle whose last transfer had h's setup() keeps its options
 * (curl_easy_reset and setting them again were 5 % of a kept-alive
 * request's instructions, docs/perf.md); any other is reset.  Every
 * option either setup_handle sets for this setup or activate sets for
 * every transfer, so nothing of another transfer's survives. */
static CURL *take_handle(loop *l, const loop_http *h)
{
	CURL *e;
	int want = setup(h);

	if (!l->n_pool) {
		e = curl_easy_init();
		if (e)
			setup_handle(e, h);
		return e;
	}
	e = l->pool[--l->n_pool];
	if (!want || l->pool_setup[l->n_pool] != want) {
		curl_easy_reset(e);
		setup_handle(e, h);
	}
	return e;
}

/* url parsed once for this loop, as curl would parse it (the flags its
 * CURLOPT_URL path uses); NULL when it does not parse or the loop keeps
 * URLS_MAX already: then curl parses the text, and says what is wrong. */
static CURLU *parsed_url(loop *l, const char *url)
{
	CURLU *u;
	char *text;

	for (int i = 0; i < l->n_urls; i++)
		if (!strcmp(l->urls[i].text, url))
			return l->urls[i].u;
	if (l->n_urls == URLS_MAX)
		return NULL;
	u = curl_url();
	text = strdup(url);
	if (!u || !text ||
	    curl_url_set(u, CURLUPART_URL, url,
			 CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) !=
		    CURLUE_OK) {
		curl_url_cleanup(u);
		free(text);
		return NULL;
	}
	l->urls[l->n_urls].text = text;
	l->urls[l->n_urls++].u = u;
	return u;
}

static int activate(loop *l, loop_http *h)
{
	CURL *e = take_handle(l, h);
	CURLU *u;

	if (!e)
		return SIM_ENOMEM;
	if (!h->get) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, h->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)h->len);
		/* curl only reads the list */
		curl_easy_setopt(e, CURLOPT_HTTPHEADER,
				 (struct curl_slist *)h->hdrs);
	} else {
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->rmax);
	}
	/* a GET's URLs are many (photos, packages) and it may follow a
	 * redirect: given as text */
	u = h->get ? NULL : parsed_url(l, h->url);
	curl_easy_setopt(e, CURLOPT_CURLU, u); /* NULL: the text below */
	if (!u)
		curl_easy_setopt(e, CURLOPT_URL, h->url);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->cto);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->to);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->err);
	curl_easy_setopt(e, CURLOPT_PRIVATE, h);
	if (curl_multi_add_handle(l->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		return SIM_ENOMEM;
	}
	h->easy = e;
	h->waiting = false;
	if (++l->n_active > l->active_peak)
		l->active_peak = l->n_active;
	return 0;
}

static void pump_waiting(loop *l)
{
	while (l->wait_head && l->n_active < l->active_max) {
		loop_http *h = l->wait_head;
		if (activate(l, h) < 0)
			return; /* tried again next round */
		l->wait_head = h->wnext;
		if (l->wait_head)
			l->wait_head->wprev = NULL;
		else
			l->wait_tail = NULL;
		h->wnext = NULL;
	}
}

int loop_http_start(loop *l, const loop_http_req *req, loop_http_cb cb,
		    void *ud, loop_http **out)
{
	loop_http *h;
	bool get = req->method && !strcmp(req->method, "GET");

	if (out)
		*out = NULL;
	if (!req->url || !*req->url ||
	    (req->source_addr && strlen(req->source_addr) > 45))
		return SIM_EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return SIM_ENOMEM;
	/* "host!": an address to bind, never an interface name curl would
	 * look up */
	if (req->source_addr && *req->source_addr)
		snprintf(h->iface, sizeof h->iface, "host!%s", req->source_addr);
	h->l = l;
	h->cb = cb;
	h->ud = ud;
	h->rmax = req->max_response ? req->max_response : 16u << 20;
	h->keep_headers = req->keep_headers;
	h->started = loop_now(l);
	h->get = get;
	h->keep_alive = req->keep_alive;
	h->len = req->len;
	h->cto = req->connect_timeout_ms ? req->connect_timeout_ms : 5000L;
	h->to = req->timeout_ms ? req->timeout_ms : 10000L;
	if (!(h->url = strdup(req->url)))
		goto fail;
	if (!get) {
		h->body = malloc(req->len + 1);
		if (!h->body)
			goto fail;
		if (req->len)
			memcpy(h->body, req->body, req->len);
		h->body[req->len] = '\0';
		h->hdrs = l->post_hdrs[req->expect_100 + 2 * req->keep_alive];
	}
	if (!l->wait_head && l->n_active < l->active_max) {
		if (activate(l, h) < 0)
			goto fail;
	} else {
		h->waiting = true;
		h->wprev = l->wait_tail;
		if (l->wait_tail)
			l->wait_tail->wnext = h;
		else
			l->wait_head = h;
		l->wait_tail = h;
	}
	h->next = l->flight;
	if (l->flight)
		l->flight->prev = h;
	l->flight = h;
	l->n_flight++;
	if (out)
		*out = h;
	return 0;
fail:
	free(h->url);
	free(h->body);
	free(h);
	return SIM_ENOMEM;
}

void loop_http_cancel(loop *l, loop_http *h)
{
	(void)l;
	if (h)
		http_free(h, false);
}

bool loop_http_waiting(const loop_http *h)
{
	return h && h->waiting;
}

size_t loop_http_in_flight(const loop *l)
{
	return l->n_flight;
}

void loop_set_reply_budget(loop *l, size_t bytes)
{
	l->reply_budget = bytes ? bytes : REPLY_BUDGET;
}

void loop_set_active_max(loop *l, size_t n)
{
	l->active_max = n < 1 || n > ACTIVE_MAX ? ACTIVE_MAX : n;
}

size_t loop_trim(loop *l)
{
	size_t keep = l->active_peak - l->n_active;
	size_t n = l->n_pool > keep ? l->n_pool - keep : 0;

	/* the oldest returned go: the pool is taken from its top */
	for (size_t i = 0; i < n; i++)
		curl_easy_cleanup(l->pool[i]);
	l->n_pool -= n;
	memmove(l->pool, l->pool + n, l->n_pool * sizeof *l->pool);
	memmove(l->pool_setup, l->pool_setup + n,
		l->n_pool * sizeof *l->pool_setup);
	l->active_peak = l->n_active;
	return n;
}

size_t loop_reply_bytes(const loop *l)
{
	return l->reply_bytes;
}

size_t loop_reply_peak(const loop *l)
{
	return l->reply_peak;
}

static loop_http_fail classify(CURLcode cc, loop_http *h)
{
	double connect = 0;

	switch (cc) {
	case CURLE_OK:
		return LOOP_HTTP_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return LOOP_HTTP_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		curl_easy_getinfo(h->easy, CURLINFO_CONNECT_TIME, &connect);
		return connect > 0 ? LOOP_HTTP_TIMEOUT : LOOP_HTTP_CONNECT;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		if (h->over_budget)
			return LOOP_HTTP_BUDGET;
		return h->too_big || cc == CURLE_FILESIZE_EXCEEDED
			       ? LOOP_HTTP_TOO_BIG : LOOP_HTTP_OTHER;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
		return LOOP_HTTP_CUT;
	default:
		return LOOP_HTTP_OTHER;
	}
}

static void finish(loop *l, CURL *e, CURLcode cc)
{
	loop_http *h = NULL;
	loop_http_res r;
	double t;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&h);
	if (!h)
		return;
	memset(&r, 0, sizeof(r));
	r.fail = classify(cc, h);
	r.error = r.fail == LOOP_HTTP_OK ? NULL
		  : h->err[0] ? h->err : curl_easy_strerror(cc);
	if (r.fail == LOOP_HTTP_TOO_BIG)
		r.error = "the answer is larger than the limit";
	char budget[200];
	if (r.fail == LOOP_HTTP_BUDGET) {
		snprintf(budget, sizeof budget, "reply budget spent: the replies "
			 "in flight to this process's devices passed %zu MiB; "
			 "this one was cut after %zu bytes",
			 l->reply_budget >> 20, h->rlen);
		r.error = budget;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r.status);
	r.body = h->resp ? h->resp : "";
	r.len = h->rlen;
	r.headers = h->hdr ? h->hdr : "";
	r.got_100 = h->got_100;
	if (curl_easy_getinfo(e, CURLINFO_CONNECT_TIME, &t) == CURLE_OK)
		r.t_connect_ms = t * 1000;
	if (curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME, &t) == CURLE_OK)
		r.t_first_byte_ms = t * 1000;
	if (curl_easy_getinfo(e, CURLINFO_TOTAL_TIME, &t) == CURLE_OK)
		r.t_total_ms = t * 1000;
	r.started = h->started;
	/* Take the transfer off the books before the callback, which may
	 * start the next one at once. */
	curl_multi_remove_handle(l->multi, e);
	loop_http_cb cb = h->cb;
	void *ud = h->ud;
	cb(ud, &r);
	http_free(h, true);
}

static void drive(loop *l)
{
	int running, left;
	CURLMsg *m;

	curl_multi_perform(l->multi, &running);
	while ((m = curl_multi_info_read(l->multi, &left)))
		if (m->msg == CURLMSG_DONE)
			finish(l, m->easy_handle, m->data.result);
	if (l->wait_head && l->n_active < l->active_max) {
		pump_waiting(l);
		curl_multi_perform(l->multi, &running);
	}
}

/* ---------------------------------------------------------------- jobs */

int loop_post(loop *l, loop_post_cb fn, void *ud)
{
	job *j = malloc(sizeof(*j));

	if (!j)
		return SIM_ENOMEM;
	j->fn = fn;
	j->ud = ud;
	j->next = NULL;
	pthread_mutex_lock(&l->mu);
	if (l->jobs_tail)
		l->jobs_tail->next = j;
	else
		l->jobs = j;
	l->jobs_tail = j;
	pthread_mutex_unlock(&l->mu);
	curl_multi_wakeup(l->multi);
	return 0;
}

static bool run_jobs(loop *l)
{
	job *j;

	pthread_mutex_lock(&l->mu);
	j = l->jobs;
	l->jobs = l->jobs_tail = NULL;
	pthread_mutex_unlock(&l->mu);
	if (!j)
		return false;
	while (j) {
		job *n = j->next;
		j->fn(j->ud);
		free(j);
		j = n;
	}
	return true;
}

void loop_stop(loop *l)
{
	atomic_store(&l->stop, true);
	curl_multi_wakeup(l->multi);
}

/* ---------------------------------------------------------------- run */

/* One round; in jump mode the clock jumps no further than limit. */
static void step(loop *l, int max_ms, int64_t limit)
{
	long curl_ms = -1;
	int wait = max_ms;

	run_jobs(l);
	fire_due(l, FIRE_MAX);
	drive(l);
	if (l->mode == LOOP_JUMP && l->n_flight == 0 && l->n_heap &&
	    !l->holds) {
		bool queued;
		pthread_mutex_lock(&l->mu);
		queued = l->jobs != NULL;
		pthread_mutex_unlock(&l->mu);
		int64_t now = loop_now(l);
		int64_t to = l->heap[0].due < limit ? l->heap[0].due : limit;
		if (!queued && to > now)
			atomic_fetch_add(&l->jump_off, to - now); /* nothing can happen
							     before it */
		if (!queued)
			return;
	}
	if (l->n_heap) {
		int64_t gap = l->heap[0].due - loop_now(l);
		double real = gap <= 0 ? 0 : (double)gap / l->scale;
		if (real < wait)
			wait = (int)(real + (real > (int)real));
	}
	curl_multi_timeout(l->multi, &curl_ms);
	if (curl_ms >= 0 && curl_ms < wait)
		wait = (int)curl_ms;
	if (wait < 0)
		wait = 0;
	curl_multi_poll(l->multi, NULL, 0, wait, NULL);
	drive(l);
}

void loop_step(loop *l, int max_ms)
{
	step(l, max_ms, INT64_MAX);
}

int loop_run(loop *l)
{
	while (!atomic_load(&l->stop))
		loop_step(l, 1000);
	atomic_store(&l->stop, false);
	return 0;
}

int loop_run_until(loop *l, int64_t t)
{
	while (!atomic_load(&l->stop)) {
		int64_t now = loop_now(l);
		if (now >= t) {
			fire_due(l, SIZE_MAX); /* all that are due by t */
			return 0;
		}
		if (l->mode == LOOP_JUMP && l->n_flight == 0 && !l->holds &&
		    (!l->n_heap || l->heap[0].due > t)) {
			bool queued;
			pthread_mutex_lock(&l->mu);
			queued = l->jobs != NULL;
			pthread_mutex_unlock(&l->mu);
			if (!queued) {
				atomic_fetch_add(&l->jump_off, t - now);
				continue;
			}
		}
		int64_t gap = (int64_t)((double)(t - now) / l->scale) + 1;
		step(l, gap > 1000 ? 1000 : (int)gap, t);
	}
	atomic_store(&l->stop, false);
	return 1;
}
