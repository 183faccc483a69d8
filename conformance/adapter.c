/* adapter.c -- runs operator actions against a vendor's server: shell
 * commands (fork/exec with a timeout, output kept as evidence), HTTP calls
 * (libcurl easy, in the caller's thread) and terminal prompts.  Values are
 * substituted into templates quoted for where they land, so a person's
 * name can never become shell syntax. */
#include "adapter.h"
#include "scenario.h"

#include <cJSON.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct adapter {
	cJSON *root;
	const cJSON *actions;
	double timeout_s;
};

void adp_free(adapter *a)
{
	if (!a)
		return;
	cJSON_Delete(a->root);
	free(a);
}

int adp_load(const char *path, adapter **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char buf[1 << 16];
	size_t len;
	adapter *a = NULL;
	const cJSON *e, *t;
	int rc = SCN_EINVAL;

	*out = NULL;
	if (!f) {
		snprintf(err, errlen, "adapter %s cannot be opened: %s", path,
			 strerror(errno));
		return SCN_EIO;
	}
	len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	if (len == sizeof buf) {
		snprintf(err, errlen, "adapter %s: larger than 64 KiB", path);
		return SCN_EINVAL;
	}
	if (!(a = calloc(1, sizeof *a)))
		return SCN_ENOMEM;
	if (!(a->root = cJSON_ParseWithLength(buf, len))) {
		snprintf(err, errlen, "adapter %s: not JSON", path);
		rc = SCN_ENOTJSON;
		goto fail;
	}
	a->actions = cJSON_GetObjectItemCaseSensitive(a->root, "actions");
	if (!cJSON_IsObject(a->actions)) {
		snprintf(err, errlen, "adapter %s: \"actions\" must be an object "
			 "mapping operator actions to {\"shell\": ...}, "
			 "{\"http\": {...}} or {\"interactive\": true}", path);
		goto fail;
	}
	t = cJSON_GetObjectItemCaseSensitive(a->root, "timeout");
	a->timeout_s = cJSON_IsNumber(t) && t->valuedouble > 0 ? t->valuedouble
								: 60;
	cJSON_ArrayForEach(e, a->actions) {
		const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shell");
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(e, "http");
		const cJSON *in = cJSON_GetObjectItemCaseSensitive(e, "interactive");
		int n = !!sh + !!h + !!in;
		if (!cJSON_IsObject(e) || n != 1 || (sh && !cJSON_IsString(sh)) ||
		    (in && !cJSON_IsTrue(in)) ||
		    (h && (!cJSON_IsObject(h) ||
			   !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(h, "url"))))) {
			snprintf(err, errlen, "adapter %s: actions.%s: must be "
				 "{\"shell\": \"command\"}, {\"http\": {\"url\": "
				 "..., \"method\", \"headers\", \"body\"}} or "
				 "{\"interactive\": true}", path, e->string);
			goto fail;
		}
	}
	*out = a;
	return 0;
fail:
	adp_free(a);
	return rc;
}

static const cJSON *entry(const adapter *a, const char *action)
{
	const cJSON *e;

	if (!a)
		return NULL;
	e = cJSON_GetObjectItemCaseSensitive(a->actions, action);
	return e ? e : cJSON_GetObjectItemCaseSensitive(a->actions, "*");
}

bool adp_has(const adapter *a, const char *action)
{
	return entry(a, action) != NULL;
}

/* ---------------------------------------------------------------- templates */

typedef enum quoting { Q_SHELL, Q_URL, Q_RAW } quoting;

typedef struct sbuf {
	char *p;
	size_t n, cap;
	bool oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* Appends value v quoted for q. */
static void put_value(sbuf *b, const cJSON *v, quoting q)
{
	char *own = NULL;
	const char *s;

	if (cJSON_IsString(v))
		s = v->valuestring;
	else
		s = own = cJSON_PrintUnformatted(v);
	if (!s) {
		b->oom = true;
		return;
	}
	if (q == Q_SHELL) {
		sb_add(b, "'", 1);
		for (const char *p = s; *p; p++)
			if (*p == '\'')
				sb_str(b, "'\\''");
			else
				sb_add(b, p, 1);
		sb_add(b, "'", 1);
	} else if (q == Q_URL) {
		char *e = curl_easy_escape(NULL, s, 0);
		if (e)
			sb_str(b, e);
		else
			b->oom = true;
		curl_free(e);
	} else {
		sb_str(b, s);
	}
	cJSON_free(own);
}

/* Replaces {name} by params' member name ({params}: the whole object as
 * JSON).  An unknown name is an error: a typo must not run a command with
 * a hole in it. */
static char *expand(const char *tpl, const cJSON *params, quoting q,
		    char *err, size_t errlen)
{
	sbuf b = {0};

	for (const char *p = tpl; *p;) {
		const char *close;
		char name[64];
		const cJSON *v;
		size_t k = 1;
		while (p[0] == '{' && (isalnum((unsigned char)p[k]) || p[k] == '_'))
			k++;
		close = p + k;
		if (*p != '{' || *close != '}' || k == 1 || k - 1 >= sizeof name) {
			sb_add(&b, p, 1);
			p++;
			continue;
		}
		memcpy(name, p + 1, (size_t)(close - p - 1));
		name[close - p - 1] = '\0';
		v = !strcmp(name, "params") ? params
		    : cJSON_GetObjectItemCaseSensitive(params, name);
		if (!v) {
			snprintf(err, errlen, "the template names {%s}, which this "
				 "step does not have (it has: {params}, and its "
				 "members)", name);
			free(b.p);
			return NULL;
		}
		put_value(&b, v, q);
		p = close + 1;
	}
	if (b.oom || !b.p) {
		if (b.oom)
			snprintf(err, errlen, "out of memory expanding a template");
		free(b.p);
		return b.oom ? NULL : strdup("");
	}
	return b.p;
}

/* ---------------------------------------------------------------- shell */

static int run_shell(const adapter *a, const char *tpl, const cJSON *params,
		     char **evidence, char *err, size_t errlen)
{
	char *cmd = expand(tpl, params, Q_SHELL, err, errlen), *json = NULL;
	char out[4096];
	size_t n_out = 0;
	int fds[2] = {-1, -1}, status = 0, rc = SCN_EADAPTER;
	pid_t pid = -1;
	struct timespec t0, t1;
	bool timed_out = false;

	if (!cmd)
		return SCN_EADAPTER;
	json = cJSON_PrintUnformatted(params);
	if (!json || pipe(fds) < 0) {
		snprintf(err, errlen, "cannot start the adapter command: %s",
			 json ? strerror(errno) : "out of memory");
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "cannot start the adapter command: %s",
			 strerror(errno));
		goto out;
	}
	if (pid == 0) {
		const cJSON *cid = cJSON_GetObjectItemCaseSensitive(params, "cid");
		const cJSON *act = cJSON_GetObjectItemCaseSensitive(params,
								   "action");
		setpgid(0, 0);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		setenv("CAMSIM_PARAMS", json, 1);
		if (cJSON_IsString(cid))
			setenv("CAMSIM_CID", cid->valuestring, 1);
		if (cJSON_IsString(act))
			setenv("CAMSIM_ACTION", act->valuestring, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	fds[1] = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pf = {.fd = fds[0], .events = POLLIN};
		double left;
		ssize_t k;
		char tmp[1024];
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = a->timeout_s - (double)(t1.tv_sec - t0.tv_sec) -
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (left <= 0) {
			timed_out = true;
			kill(-pid, SIGKILL);
			break;
		}
		if (poll(&pf, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		k = read(fds[0], tmp, sizeof tmp);
		if (k <= 0)
			break;
		if (n_out < sizeof out - 1) {
			size_t take = (size_t)k < sizeof out - 1 - n_out ? (size_t)k
					: sizeof out - 1 - n_out;
			memcpy(out + n_out, tmp, take);
			n_out += take;
		}
	}
	out[n_out] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (asprintf(evidence, "$ %s\n%s", cmd, out) < 0)
		*evidence = NULL;
	if (timed_out)
		snprintf(err, errlen, "the adapter command did not finish within "
			 "%.0f s and was killed", a->timeout_s);
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		snprintf(err, errlen, "the adapter command failed (%s %d): %.300s",
			 WIFEXITED(status) ? "exit status" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			 out);
	else
		rc = 0;
out:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	free(cmd);
	cJSON_free(json);
	return rc;
}

/* ---------------------------------------------------------------- http */

typedef struct body_buf {
	char p[4096];
	size_t n;
} body_buf;

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
	body_buf *b = ud;
	size_t n = sz * nm, take = n < sizeof b->p - 1 - b->n ? n
				    : sizeof b->p - 1 - b->n;
	memcpy(b->p + b->n, p, take);
	b->n += take;
	b->p[b->n] = '\0';
	return n;
}

static int run_http(const adapter *a, const cJSON *h, const cJSON *params,
		    char **evidence, char *err, size_t errlen)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(h, "method");
	const cJSON *hd = cJSON_GetObjectItemCaseSensitive(h, "headers"), *e;
	const cJSON *bt = cJSON_GetObjectItemCaseSensitive(h, "body");
	const char *method = cJSON_IsString(m) ? m->valuestring : "POST";
	char *url = NULL, *body = NULL, *btpl = NULL;
	struct curl_slist *hl = NULL;
	body_buf resp = {.n = 0};
	CURL *c = NULL;
	long status = 0;
	int rc = SCN_EADAPTER;
	CURLcode cc;

	url = expand(cJSON_GetObjectItemCaseSensitive(h, "url")->valuestring,
		     params, Q_URL, err, errlen);
	if (!url)
		goto out;
	if (bt) {
		/* a JSON body template may be an object: printed, then
		 * expanded with values as JSON text */
		btpl = cJSON_IsString(bt) ? strdup(bt->valuestring)
					  : cJSON_PrintUnformatted(bt);
		if (!btpl || !(body = expand(btpl, params, Q_RAW, err, errlen)))
			goto out;
	}
	cJSON_ArrayForEach(e, hd) {
		char *v, *line;
		if (!cJSON_IsString(e))
			continue;
		if (!(v = expand(e->valuestring, params, Q_RAW, err, errlen)))
			goto out;
		if (asprintf(&line, "%s: %s", e->string, v) >= 0) {
			hl = curl_slist_append(hl, line);
			free(line);
		}
		free(v);
	}
	if (body)
		hl = curl_slist_append(hl, "Content-Type: application/json");
	if (!(c = curl_easy_init())) {
		snprintf(err, errlen, "libcurl cannot start");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(a->timeout_s * 1000));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (asprintf(evidence, "%s %s\n%s\n-> %ld\n%s", method, url,
		     body ? body : "", status, resp.p) < 0)
		*evidence = NULL;
	if (cc != CURLE_OK)
		snprintf(err, errlen, "adapter call %s %s failed: %s", method, url,
			 curl_easy_strerror(cc));
	else if (status < 200 || status > 299)
		snprintf(err, errlen, "adapter call %s %s answered %ld: %.300s",
			 method, url, status, resp.p);
	else
		rc = 0;
out:
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(hl);
	free(url);
	free(body);
	free(btpl);
	return rc;
}

/* ---------------------------------------------------------------- prompt */

static int run_prompt(const char *action, const cJSON *params,
		      char **evidence, char *err, size_t errlen)
{
	char *p = cJSON_Print(params), line[256];
	FILE *tty = fopen("/dev/tty", "r+");
	FILE *in = tty ? tty : stdin, *out = tty ? tty : stderr;
	int rc = SCN_EADAPTER;

	fprintf(out, "\n== operator action: %s\n%s\nDo it on your server, then "
		"press Enter (or type \"fail\" and Enter if it cannot be done): ",
		action, p ? p : "");
	fflush(out);
	if (!fgets(line, sizeof line, in))
		snprintf(err, errlen, "no answer at the terminal");
	else if (!strncmp(line, "fail", 4))
		snprintf(err, errlen, "the operator could not do it");
	else
		rc = 0;
	if (asprintf(evidence, "asked at the terminal: %s; answer: %s", action,
		     rc ? "fail" : "done") < 0)
		*evidence = NULL;
	if (tty)
		fclose(tty);
	cJSON_free(p);
	return rc;
}

int adp_run(const adapter *a, bool interactive, const char *action,
	    const cJSON *params, char **evidence, char *err, size_t errlen)
{
	const cJSON *e = entry(a, action);

	*evidence = NULL;
	if (!e && interactive)
		return run_prompt(action, params, evidence, err, errlen);
	if (!e) {
		snprintf(err, errlen, "no adapter entry for operator action "
			 "\"%s\" (give --adapter FILE with an \"actions\".\"%s\" "
			 "entry, or --interactive)", action, action);
		return SCN_EADAPTER;
	}
	if (cJSON_GetObjectItemCaseSensitive(e, "interactive"))
		return run_prompt(action, params, evidence, err, errlen);
	if (cJSON_GetObjectItemCaseSensitive(e, "shell"))
		return run_shell(a, cJSON_GetObjectItemCaseSensitive(e, "shell")
					->valuestring, params, evidence, err,
				 errlen);
	return run_http(a, cJSON_GetObjectItemCaseSensitive(e, "http"), params,
			evidence, err, errlen);
}
