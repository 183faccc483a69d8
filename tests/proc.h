/* proc.h -- child processes for the tests that drive camsim as a user does
 * (camsim run, camsim mock, the Python test doubles): start one with
 * arguments and extra environment, its output in a log file; wait for it
 * with a limit; read what it wrote.  Header-only, test code only. */
#ifndef CAMSIM_PROC_H
#define CAMSIM_PROC_H

#include "testutil.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The camsim binary beside the test binaries ($(BUILD)/tests/x ->
 * $(BUILD)/camsim), or $CAMSIM_BIN. */
static char pr_camsim[PATH_MAX];

static inline void pr_find_camsim(const char *argv0)
{
	const char *env = getenv("CAMSIM_BIN");
	const char *slash = strrchr(argv0, '/');

	if (env && *env)
		snprintf(pr_camsim, sizeof pr_camsim, "%s", env);
	else if (slash)
		snprintf(pr_camsim, sizeof pr_camsim, "%.*s/../camsim",
			 (int)(slash - argv0), argv0);
	else
		snprintf(pr_camsim, sizeof pr_camsim, "build/camsim");
}

static inline double pr_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Starts argv (NULL-terminated) with env (NULL or "NAME=value" strings,
 * NULL-terminated) added, stdout and stderr into log (stdout alone into
 * out, when out is not NULL).  Returns the pid. */
static inline pid_t pr_spawn(const char *const argv[], const char *const env[],
			     const char *log, const char *out)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if (out && (fd = open(out, O_WRONLY | O_CREAT | O_TRUNC,
				      0644)) >= 0) {
			dup2(fd, 1);
			close(fd);
		}
		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		setpgid(0, 0);
		/* a test that fails half-way leaves no server behind */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Waits at most limit_s seconds; then kills the child's group and fails
 * the test.  Returns the wait status. */
static inline int pr_wait(pid_t pid, double limit_s, const char *what)
{
	double t0 = pr_now();
	int status = 0;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			ck_abort_msg("%s: waitpid: %s", what, strerror(errno));
		if (pr_now() - t0 > limit_s) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			ck_abort_msg("%s: still running after %.0f s", what,
				     limit_s);
		}
		usleep(20000);
	}
}

/* The exit code of a wait status; 128 + N for a death by signal N. */
static inline int pr_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status)
	       : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

/* Ends a server child: SIGTERM, then SIGKILL after 3 s. */
static inline void pr_stop(pid_t pid)
{
	double t0 = pr_now();
	int status;

	kill(pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (pr_now() - t0 > 3) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			return;
		}
		usleep(10000);
	}
}

/* The file's text once it exists and is not empty (waits up to limit_s). */
static inline char *pr_read_when(const char *path, double limit_s)
{
	double t0 = pr_now();
	char *t;

	while (!(t = tu_read(path, NULL)) || !*t) {
		free(t);
		if (pr_now() - t0 > limit_s)
			return NULL;
		usleep(20000);
	}
	return t;
}

#define PR_DIR 256 /* a test directory's path: short, so paths built on it fit */

/* A fresh directory /tmp/camsim-NAME-XXXXXX into dir[PR_DIR]. */
static inline void pr_tmpdir(char *dir, const char *name)
{
	snprintf(dir, PR_DIR, "/tmp/camsim-%.40s-XXXXXX", name);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline void pr_rmdir(const char *dir)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%.3000s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Starts camsim mock on a free port in a process of its own (a separately
 * started server, as a vendor's is), its database in dir; its base URL
 * (http://HOST:PORT) into base.  Returns the pid (pr_stop). */
static inline pid_t pr_start_mock(const char dir[PR_DIR], char *base, size_t n)
{
	char db[PATH_MAX], log[PATH_MAX], out[PATH_MAX], *line, *p;
	pid_t pid;

	snprintf(db, sizeof db, "%.200s/mock.db", dir);
	snprintf(log, sizeof log, "%.200s/mock.log", dir);
	snprintf(out, sizeof out, "%.200s/mock.out", dir);
	/* a short command timeout: a command whose result is lost is given
	 * up within seconds of wall time (lost-config-result); long enough
	 * for a batch's recognition under ASan, or the mock gives up on a
	 * command the device is still carrying out */
	const char *argv[] = {pr_camsim, "mock", "--listen", "127.0.0.1:0",
			      "--db", db, "--cmd-timeout", "10", "--quiet", NULL};
	pid = pr_spawn(argv, NULL, log, out);
	line = pr_read_when(out, 20);
	ck_assert_msg(line && (p = strstr(line, "http://")), "camsim mock did "
		      "not start: %s", line ? line : "(no output)");
	/* http://HOST:PORT, up to the path */
	snprintf(base, n, "%.*s", 7 + (int)strcspn(p + 7, "/\n"), p);
	free(line);
	return pid;
}

/* report.json of dir, parsed (the test fails when it is missing). */
static inline cJSON *pr_report(const char *dir, size_t *bytes)
{
	char path[PATH_MAX];
	char *t;
	cJSON *d;

	snprintf(path, sizeof path, "%.3000s/report.json", dir);
	t = tu_read(path, bytes);
	ck_assert_msg(t, "%s is missing", path);
	d = cJSON_Parse(t);
	ck_assert_msg(d, "%s is not JSON", path);
	free(t);
	return d;
}

#endif
