/* adapter.c -- runs operator actions against a vendor's server: shell
 * commands (posix_spawn with a timeout, standard output kept as the result),
 * HTTP calls (libcurl easy, in the caller's thread) and terminal prompts.
 * Values reach a shell command as positional parameters of sh -c, never
 * as its text, so a person's name can never become shell syntax.  Knows nothing of V1.16. */
#include "adapter.h"
#include "scenario.h"
#include "sim_err.h"
#include "base.h"
#include "file.h"
#include "strbuf.h"

#include <cJSON.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OUT_MAX (4u << 20) /* bytes kept of an action's output */
#define ERR_MAX 16384      /* bytes kept of a shell command's stderr */

struct adapter {
	cJSON *root;
	const cJSON *actions;
	double timeout_s;
	double settle_ms;
	char *dir; /* the adapter file's directory: {adapter_dir} */
};

static const char *const queries[] = {"command_state", "records", NULL};

bool adp_is_query(const char *action)
{
	for (size_t i = 0; action && queries[i]; i++)
		if (!strcmp(queries[i], action))
			return true;
	return false;
}

double adp_settle_ms(const adapter *a)
{
	return a ? a->settle_ms : 0;
}

void adp_result_free(adp_result *r)
{
	if (!r)
		return;
	free(r->evidence);
	free(r->output);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof *r);
}

void adp_free(adapter *a)
{
	if (!a)
		return;
	cJSON_Delete(a->root);
	free(a->dir);
	free(a);
}

int adp_load(const char *path, adapter **out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len;
	int rc;

	*out = NULL;
	rc = base_read_file("adapter", path, 64u << 10, &buf, &len, err, errlen);
	if (rc < 0)
		return rc == BASE_ENOMEM ? CONF_ENOMEM
		       : rc == BASE_EIO ? CONF_EREAD : CONF_EFORMAT;
	rc = adp_parse(buf, len, path, out, err, errlen);
	free(buf);
	return rc;
}

int adp_parse(const char *text, size_t len, const char *path, adapter **out,
	      char *err, size_t errlen)
{
	adapter *a = NULL;
	const cJSON *e, *t;
	int rc = CONF_EFORMAT;

	*out = NULL;
	if (!(a = calloc(1, sizeof *a)))
		return CONF_ENOMEM;
	{
		char *real = realpath(path, NULL), *slash;
		if (!(a->dir = strdup(real ? real : path))) {
			free(real);
			adp_free(a);
			return CONF_ENOMEM;
		}
		free(real);
		slash = strrchr(a->dir, '/');
		if (slash)
			*(slash == a->dir ? slash + 1 : slash) = '\0';
		else
			snprintf(a->dir, strlen(a->dir) + 1, ".");
	}
	if (!(a->root = cJSON_ParseWithLength(text, len))) {
		snprintf(err, errlen, "adapter %s: not JSON", path);
		rc = CONF_ENOTJSON;
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
	t = cJSON_GetObjectItemCaseSensitive(a->root, "settle_ms");
	if (t && (!cJSON_IsNumber(t) || !(t->valuedouble >= 0) ||
		  t->valuedouble > 60000)) {
		snprintf(err, errlen, "adapter %s: settle_ms: must be a number of "
			 "milliseconds, 0..60000", path);
		goto fail;
	}
	a->settle_ms = t ? t->valuedouble : 0;
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
		if (in && adp_is_query(e->string)) {
			snprintf(err, errlen, "adapter %s: actions.%s: a query "
				 "action's output is read by camsim: it must be a "
				 "\"shell\" command or an \"http\" call",
				 path, e->string);
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
	if (e || adp_is_query(action))
		return e;
	return cJSON_GetObjectItemCaseSensitive(a->actions, "*");
}

bool adp_has(const adapter *a, const char *action)
{
	return entry(a, action) != NULL;
}

bool adp_interactive(const adapter *a, const char *action)
{
	return cJSON_GetObjectItemCaseSensitive(entry(a, action),
						"interactive") != NULL;
}

/* ---------------------------------------------------------------- templates */

typedef enum quoting { Q_SHELL, Q_URL, Q_RAW } quoting;

/* The text of value v: a string as it is, anything else as JSON.  NULL
 * when out of memory; *own is what the caller frees (cJSON_free). */
static const char *value_text(const cJSON *v, char **own)
{
	*own = NULL;
	if (cJSON_IsString(v))
		return v->valuestring;
	return (*own = cJSON_PrintUnformatted(v));
}

/* Appends value v for q (not Q_SHELL: shell values are never text of the
 * command, see shell_ref). */
static void put_value(strbuf *b, const cJSON *v, quoting q)
{
	char *own;
	const char *s = value_text(v, &own);

	if (!s) {
		b->oom = true;
		return;
	}
	if (q == Q_URL) {
		char *e = curl_easy_escape(NULL, s, 0);
		if (e)
			strbuf_str(b, e);
		else
			b->oom = true;
		curl_free(e);
	} else {
		strbuf_str(b, s);
	}
	cJSON_free(own);
}

/* Where a shell template stands at a placeholder; tracked so that the
 * reference to the value is right in any quoting the author chose. */
typedef enum shq { SH_OUT, SH_SQ, SH_DQ } shq;

/* Advances the quoting state over template character c (*esc: the
 * previous character was a backslash that escapes this one). */
static shq sh_step(shq st, char c, bool *esc)
{
	if (*esc) {
		*esc = false;
		return st;
	}
	if (st == SH_SQ)
		return c == '\'' ? SH_OUT : SH_SQ;
	if (c == '\\') {
		*esc = true;
		return st;
	}
	if (c == '"')
		return st == SH_DQ ? SH_OUT : SH_DQ;
	if (c == '\'' && st == SH_OUT)
		return SH_SQ;
	return st;
}

/* Appends a reference to positional parameter n for quoting state st: the
 * value itself is an argument of sh -c, so no quote, $(...) or backquote
 * in it is ever read as syntax (docs/adapters.md). */
static void shell_ref(strbuf *b, int n, shq st)
{
	char ref[32];

	if (st == SH_DQ)
		snprintf(ref, sizeof ref, "${%d}", n);
	else if (st == SH_SQ) /* close, the value double-quoted, reopen */
		snprintf(ref, sizeof ref, "'\"${%d}\"'", n);
	else
		snprintf(ref, sizeof ref, "\"${%d}\"", n);
	strbuf_str(b, ref);
}

/* The value a placeholder names: "params" (everything), "env.NAME" (an
 * environment variable: *own is set to a string the caller deletes), or a
 * member path "a.b.c" into params.  NULL when there is none. */
static const cJSON *lookup(const adapter *a, const char *name,
			   const cJSON *params, cJSON **own)
{
	const cJSON *v = params;
	char buf[128], *tok, *save = NULL;

	*own = NULL;
	if (!strcmp(name, "params"))
		return params;
	if (!strcmp(name, "adapter_dir"))
		return (*own = cJSON_CreateString(a->dir));
	if (!strncmp(name, "env.", 4)) {
		const char *e = getenv(name + 4);
		return e ? (*own = cJSON_CreateString(e)) : NULL;
	}
	snprintf(buf, sizeof buf, "%s", name);
	for (tok = strtok_r(buf, ".", &save); tok && v;
	     tok = strtok_r(NULL, ".", &save))
		v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, tok)
				      : NULL;
	return cJSON_IsNull(v) ? NULL : v;
}

/* Replaces {name} by lookup's value.  An unknown name is an error: a typo
 * must not run a command with a hole in it.  Configuration ({env.NAME},
 * {adapter_dir}) goes into a URL as it is: it is the URL's own text.  For
 * Q_SHELL, args (not NULL) receives the values, and the command refers to
 * them as "${1}", "${2}", ...; *args and its strings are the caller's
 * (free_args), also on failure. */
static char *expand(const adapter *a, const char *tpl, const cJSON *params,
		    quoting q, char ***args, int *nargs, char *err,
		    size_t errlen)
{
	strbuf b = {0};
	shq st = SH_OUT;
	bool esc = false;

	for (const char *p = tpl; *p;) {
		const char *close;
		char name[128];
		const cJSON *v;
		cJSON *own;
		size_t k = 1;
		while (p[0] == '{' && (isalnum((unsigned char)p[k]) ||
				       p[k] == '_' || (p[k] == '.' && k > 1)))
			k++;
		close = p + k;
		if (*p != '{' || *close != '}' || k == 1 || k - 1 >= sizeof name ||
		    close[-1] == '.') {
			if (q == Q_SHELL)
				st = sh_step(st, *p, &esc);
			strbuf_add(&b, p, 1);
			p++;
			continue;
		}
		memcpy(name, p + 1, (size_t)(close - p - 1));
		name[close - p - 1] = '\0';
		if (!(v = lookup(a, name, params, &own))) {
			if (!strncmp(name, "env.", 4))
				snprintf(err, errlen, "the template names {%s}, but "
					 "the environment variable %s is not set",
					 name, name + 4);
			else
				snprintf(err, errlen, "the template names {%s}, "
					 "which this step does not have (it has: "
					 "{params}, {env.NAME} and its members)",
					 name);
			free(b.p);
			return NULL;
		}
		if (q == Q_SHELL) {
			char *txt, **na;
			const char *s = value_text(v, &txt);
			na = s ? realloc(*args, (size_t)(*nargs + 1) * sizeof *na)
			       : NULL;
			if (na) {
				*args = na;
				if ((na[*nargs] = strdup(s)))
					shell_ref(&b, ++*nargs, st);
				else
					b.oom = true;
			} else {
				b.oom = true;
			}
			cJSON_free(txt);
			esc = false;
		} else {
			put_value(&b, v, q == Q_URL && own ? Q_RAW : q);
		}
		cJSON_Delete(own);
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

static void free_args(char **args, int n)
{
	for (int i = 0; i < n; i++)
		free(args[i]);
	free(args);
}

static bool cancelled(const atomic_bool *cancel)
{
	return cancel && atomic_load(cancel);
}

static double since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Keeps what the action printed as its output, parsed when it is JSON. */
static void keep_output(adp_result *res, char *text)
{
	const char *p = text;

	res->output = text;
	if (!text)
		return;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p == '{' || *p == '[')
		res->json = cJSON_Parse(p);
}

/* ---------------------------------------------------------------- shell */

/* params printed without the pictures (members ending in "_base64"), for
 * CAMSIM_PARAMS. */
static void drop_pictures(cJSON *o)
{
	cJSON *e = o ? o->child : NULL, *next;

	for (; e; e = next) {
		size_t n = e->string ? strlen(e->string) : 0;
		next = e->next;
		if (n > 7 && !strcmp(e->string + n - 7, "_base64"))
			cJSON_Delete(cJSON_DetachItemViaPointer(o, e));
		else if (cJSON_IsObject(e) || cJSON_IsArray(e))
			drop_pictures(e);
	}
}

static char *light_params(const cJSON *params)
{
	cJSON *c = cJSON_Duplicate(params, true);
	char *s;

	drop_pictures(c);
	s = c ? cJSON_PrintUnformatted(c) : NULL;
	cJSON_Delete(c);
	return s;
}

/* What ran, for the report: the command, each positional value, then what
 * it printed.  NULL when out of memory. */
static char *shell_evidence(const char *cmd, char **args, int nargs,
			    const char *out, const char *errs)
{
	strbuf b = {0};
	char num[32];

	strbuf_str(&b, "$ ");
	strbuf_str(&b, cmd);
	strbuf_str(&b, "\n");
	for (int i = 0; i < nargs; i++) {
		snprintf(num, sizeof num, "  ${%d} = ", i + 1);
		strbuf_str(&b, num);
		strbuf_str(&b, args[i]);
		strbuf_str(&b, "\n");
	}
	if (out)
		strbuf_str(&b, out);
	if (errs && out)
		strbuf_str(&b, "\n");
	if (errs)
		strbuf_str(&b, errs);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* sh -c CMD NAME ARG1 ARG2 ...: $0 is NAME.  The strings stay the
 * caller's; free the array only.  NULL when out of memory. */
static char **shell_argv(char *cmd, char **args, int nargs)
{
	char **argv = calloc((size_t)nargs + 5, sizeof *argv);

	if (!argv)
		return NULL;
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = cmd;
	argv[3] = "camsim-adapter";
	for (int i = 0; i < nargs; i++)
		argv[4 + i] = args[i];
	return argv;
}

static void free_env(char **envp)
{
	if (!envp)
		return;
	for (char **e = envp; *e; e++)
		free(*e);
	free(envp);
}

static const char *const child_vars[] = {"CAMSIM_PARAMS", "CAMSIM_CID",
					 "CAMSIM_ACTION", "CAMSIM_ADAPTER_DIR"};

/* The child's environment: this process's, less any CAMSIM_PARAMS,
 * CAMSIM_CID, CAMSIM_ACTION and CAMSIM_ADAPTER_DIR, plus this call's
 * (docs/adapters.md).  light is the parameters without the pictures.
 * Every string is owned by the array (free_env); NULL when out of
 * memory. */
static char **child_env(const cJSON *params, const char *light,
			const char *dir)
{
	extern char **environ;
	const cJSON *cid = cJSON_GetObjectItemCaseSensitive(params, "cid");
	const cJSON *act = cJSON_GetObjectItemCaseSensitive(params, "action");
	const char *val[ARRAY_SIZE(child_vars)] = {
		light, cJSON_IsString(cid) ? cid->valuestring : NULL,
		cJSON_IsString(act) ? act->valuestring : NULL, dir};
	size_t n = 0, k = 0;
	char **envp;

	while (environ[n])
		n++;
	if (!(envp = calloc(n + ARRAY_SIZE(child_vars) + 1, sizeof *envp)))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		bool ours = false;
		for (size_t v = 0; v < ARRAY_SIZE(child_vars); v++) {
			size_t len = strlen(child_vars[v]);
			ours |= !strncmp(environ[i], child_vars[v], len) &&
				environ[i][len] == '=';
		}
		if (!ours && !(envp[k++] = strdup(environ[i])))
			goto oom;
	}
	for (size_t v = 0; v < ARRAY_SIZE(child_vars); v++) {
		if (!val[v])
			continue;
		if (!(envp[k] = malloc(strlen(child_vars[v]) + strlen(val[v]) + 2)))
			goto oom;
		sprintf(envp[k++], "%s=%s", child_vars[v], val[v]);
	}
	return envp;
oom:
	free_env(envp);
	return NULL;
}

static int run_shell(const adapter *a, const char *tpl, const cJSON *params,
		     const atomic_bool *cancel, adp_result *res, char *err,
		     size_t errlen)
{
	char **args = NULL;
	int nargs = 0;
	char *cmd = expand(a, tpl, params, Q_SHELL, &args, &nargs, err, errlen);
	char *json = NULL;
	char infile[] = "/tmp/camsim-params-XXXXXX";
	int in = -1;
	strbuf out = {0}, errs = {0};
	int po[2] = {-1, -1}, pe[2] = {-1, -1}, status = 0, rc = CONF_EADAPTER;
	pid_t pid = -1;
	struct timespec t0;
	bool timed_out = false, stopped = false, fa_ok = false, sa_ok = false;
	char **argv = NULL, **envp = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;

	if (!cmd) {
		free_args(args, nargs);
		return CONF_EADAPTER;
	}
	/* the whole parameters, pictures included, on standard input; the
	 * environment has a per-string limit (128 KiB) that photos pass */
	json = cJSON_PrintUnformatted(params);
	/* close-on-exec: calls run on several threads at once, and a pipe
	 * end inherited by another call's child would hold this one's EOF
	 * back until that child exits */
	if (!json || (in = mkostemp(infile, O_CLOEXEC)) < 0 ||
	    write(in, json, strlen(json)) != (ssize_t)strlen(json) ||
	    lseek(in, 0, SEEK_SET) < 0 || pipe2(po, O_CLOEXEC) < 0 ||
	    pipe2(pe, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot start the adapter command: %s",
			 json ? strerror(errno) : "out of memory");
		goto out;
	}
	cJSON_free(json);
	json = light_params(params);
	if (!json) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	argv = shell_argv(cmd, args, nargs);
	envp = child_env(params, json, a->dir);
	if (!argv || !envp) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* posix_spawn, not fork: the child of a threaded process may only
	 * make async-signal-safe calls before exec, and setenv/malloc there
	 * could block forever on a lock another thread held at the fork
	 * (seen under ASan: an adapter call that exits at once was still
	 * "running" 3 s later).  Everything is built here, before. */
	if ((errno = posix_spawn_file_actions_init(&fa)) == 0) {
		fa_ok = true;
		errno = posix_spawn_file_actions_adddup2(&fa, in, 0);
		if (!errno)
			errno = posix_spawn_file_actions_adddup2(&fa, po[1], 1);
		if (!errno)
			errno = posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	}
	if (!errno && (errno = posix_spawnattr_init(&sa)) == 0) {
		sa_ok = true;
		/* its own process group: a timeout kills the whole pipeline */
		errno = posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETPGROUP);
		if (!errno)
			errno = posix_spawnattr_setpgroup(&sa, 0);
	}
	if (!errno)
		errno = posix_spawn(&pid, "/bin/sh", &fa, &sa, argv, envp);
	if (errno) {
		pid = -1;
		snprintf(err, errlen, "cannot start the adapter command: %s",
			 strerror(errno));
		goto out;
	}
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (po[0] >= 0 || pe[0] >= 0) {
		struct pollfd pf[2] = {{.fd = po[0], .events = POLLIN},
				       {.fd = pe[0], .events = POLLIN}};
		double left = a->timeout_s - since(&t0);
		if (left <= 0 || cancelled(cancel)) {
			timed_out = left <= 0;
			stopped = !timed_out;
			kill(-pid, SIGKILL);
			break;
		}
		if (poll(pf, ARRAY_SIZE(pf), left > 0.1 ? 100
			 : (int)(left * 1000) + 1) <= 0)
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(pf); k++) {
			char tmp[4096];
			ssize_t n;
			if (pf[k].fd < 0 || !(pf[k].revents & (POLLIN | POLLHUP |
							       POLLERR)))
				continue;
			n = read(pf[k].fd, tmp, sizeof tmp);
			if (n <= 0) {
				close(pf[k].fd);
				*(k ? &pe[0] : &po[0]) = -1;
				continue;
			}
			if ((k ? errs.n : out.n) + (size_t)n <= (k ? ERR_MAX : OUT_MAX))
				strbuf_add(k ? &errs : &out, tmp, (size_t)n);
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	res->evidence = shell_evidence(cmd, args, nargs, out.p, errs.p);
	if (timed_out)
		snprintf(err, errlen, "the adapter command did not finish within "
			 "%.0f s and was killed", a->timeout_s);
	else if (stopped)
		snprintf(err, errlen, "the adapter command was killed: the run "
			 "was interrupted");
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		snprintf(err, errlen, "the adapter command failed (%s %d): %.300s",
			 WIFEXITED(status) ? "exit status" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			 errs.p ? errs.p : out.p ? out.p : "");
	else
		rc = 0;
	keep_output(res, out.p);
	out.p = NULL;
out:
	for (int k = 0; k < 2; k++) {
		if (po[k] >= 0)
			close(po[k]);
		if (pe[k] >= 0)
			close(pe[k]);
	}
	if (in >= 0) {
		close(in);
		unlink(infile);
	}
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	if (sa_ok)
		posix_spawnattr_destroy(&sa);
	free(argv);
	free_env(envp);
	free(out.p);
	free(errs.p);
	free(cmd);
	free_args(args, nargs);
	cJSON_free(json);
	return rc;
}

/* ---------------------------------------------------------------- http */

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
	strbuf *b = ud;
	size_t n = sz * nm;

	if (b->n + n <= OUT_MAX)
		strbuf_add(b, p, n);
	return n;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c,
		       curl_off_t d)
{
	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return cancelled(ud) ? 1 : 0; /* non-zero aborts the transfer */
}

static int run_http(const adapter *a, const cJSON *h, const cJSON *params,
		    const atomic_bool *cancel, adp_result *res, char *err,
		    size_t errlen)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(h, "method");
	const cJSON *hd = cJSON_GetObjectItemCaseSensitive(h, "headers"), *e;
	const cJSON *bt = cJSON_GetObjectItemCaseSensitive(h, "body");
	const char *method = cJSON_IsString(m) ? m->valuestring : "POST";
	char *url = NULL, *body = NULL, *btpl = NULL;
	struct curl_slist *hl = NULL;
	strbuf resp = {0};
	CURL *c = NULL;
	long status = 0;
	int rc = CONF_EADAPTER;
	CURLcode cc;

	url = expand(a, cJSON_GetObjectItemCaseSensitive(h, "url")->valuestring,
		     params, Q_URL, NULL, NULL, err, errlen);
	if (!url)
		goto out;
	if (bt) {
		/* a JSON body template may be an object: printed, then
		 * expanded with values as JSON text */
		btpl = cJSON_IsString(bt) ? strdup(bt->valuestring)
					  : cJSON_PrintUnformatted(bt);
		if (!btpl || !(body = expand(a, btpl, params, Q_RAW, NULL,
					     NULL, err, errlen)))
			goto out;
	}
	cJSON_ArrayForEach(e, hd) {
		char *v, *line;
		if (!cJSON_IsString(e))
			continue;
		if (!(v = expand(a, e->valuestring, params, Q_RAW, NULL, NULL,
				 err, errlen)))
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
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)cancel);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (asprintf(&res->evidence, "%s %s\n%.2000s%s-> %ld\n%.4000s", method,
		     url, body ? body : "", body ? "\n" : "", status,
		     resp.p ? resp.p : "") < 0)
		res->evidence = NULL;
	if (cc == CURLE_ABORTED_BY_CALLBACK)
		snprintf(err, errlen, "adapter call %s %s abandoned: the run was "
			 "interrupted", method, url);
	else if (cc != CURLE_OK)
		snprintf(err, errlen, "adapter call %s %s failed: %s", method, url,
			 curl_easy_strerror(cc));
	else if (status < 200 || status > 299)
		snprintf(err, errlen, "adapter call %s %s answered %ld: %.300s",
			 method, url, status, resp.p ? resp.p : "");
	else
		rc = 0;
	keep_output(res, resp.p);
	resp.p = NULL;
out:
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(hl);
	free(resp.p);
	free(url);
	free(body);
	free(btpl);
	return rc;
}

/* ---------------------------------------------------------------- prompt */

static int run_prompt(const char *action, const cJSON *params,
		      const atomic_bool *cancel, adp_result *res, char *err,
		      size_t errlen)
{
	char *p = cJSON_Print(params), line[256] = "";
	FILE *tty = fopen("/dev/tty", "r+");
	FILE *in = tty ? tty : stdin, *out = tty ? tty : stderr;
	int rc = CONF_EADAPTER, fd = fileno(in);
	bool got = false;

	fprintf(out, "\n== operator action: %s\n%s\nDo it on your server, then "
		"press Enter (or type \"fail\" and Enter if it cannot be done): ",
		action, p ? p : "");
	fflush(out);
	while (!cancelled(cancel)) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (poll(&pf, 1, 100) <= 0)
			continue;
		got = fgets(line, sizeof line, in) != NULL;
		break;
	}
	if (cancelled(cancel))
		snprintf(err, errlen, "the run was interrupted at the prompt");
	else if (!got)
		snprintf(err, errlen, "no answer at the terminal");
	else if (!strncmp(line, "fail", 4))
		snprintf(err, errlen, "the operator could not do it");
	else
		rc = 0;
	if (asprintf(&res->evidence, "asked at the terminal: %s; answer: %s",
		     action, rc ? "fail" : "done") < 0)
		res->evidence = NULL;
	if (tty)
		fclose(tty);
	cJSON_free(p);
	return rc;
}

int adp_run(const adapter *a, bool interactive, const char *action,
	    const cJSON *params, const atomic_bool *cancel, adp_result *res,
	    char *err, size_t errlen)
{
	const cJSON *e = entry(a, action);

	memset(res, 0, sizeof *res);
	if (!e && interactive && !adp_is_query(action))
		return run_prompt(action, params, cancel, res, err, errlen);
	if (!e) {
		snprintf(err, errlen, "no adapter entry for %s action \"%s\" "
			 "(give --adapter FILE with an \"actions\".\"%s\" "
			 "entry%s)", adp_is_query(action) ? "query" : "operator",
			 action, action,
			 adp_is_query(action) ? "" : ", or --interactive");
		return CONF_EADAPTER;
	}
	if (cJSON_GetObjectItemCaseSensitive(e, "interactive"))
		return run_prompt(action, params, cancel, res, err, errlen);
	if (cJSON_GetObjectItemCaseSensitive(e, "shell"))
		return run_shell(a, cJSON_GetObjectItemCaseSensitive(e, "shell")
					->valuestring, params, cancel, res, err,
				 errlen);
	return run_http(a, cJSON_GetObjectItemCaseSensitive(e, "http"), params,
			cancel, res, err, errlen);
}
