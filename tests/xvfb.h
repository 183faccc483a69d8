/* xvfb.h -- a private X server for the window tests (check_win,
 * check_demo): starts Debian's Xvfb on a free display number it picks
 * itself (-displayfd), points DISPLAY at it, kills it at the end.
 * Header-only, test code only; never skips: a missing Xvfb is an error
 * naming the package. */
#ifndef CAMSIM_XVFB_H
#define CAMSIM_XVFB_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct xvfb {
	pid_t pid;        /* 0: not running */
	char display[16]; /* ":N" */
} xvfb;

/* Whether PROG is an executable file on PATH. */
static inline int xvfb_on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char dir[4096];

	while (path && *path) {
		size_t n = strcspn(path, ":");
		if (n > 0 && n < sizeof dir - 64) {
			snprintf(dir, sizeof dir, "%.*s/%s", (int)n, path, prog);
			if (access(dir, X_OK) == 0)
				return 1;
		}
		path += n + (path[n] == ':');
	}
	return 0;
}

/* Starts Xvfb with one screen of w x h x 24 and sets DISPLAY to it.
 * Returns 0, or -1 with a sentence in err (Xvfb not installed, did not
 * start within 20 s, exited).  The server writes its display number to a
 * pipe once it accepts clients, so no display number is guessed and no
 * sleep is needed. */
static inline int xvfb_start(xvfb *x, int w, int h, char *err, size_t errlen)
{
	int fds[2], st;
	char num[16], geom[32], buf[32];
	size_t got = 0;
	struct timespec t0, t1;

	memset(x, 0, sizeof *x);
	if (!xvfb_on_path("Xvfb")) {
		snprintf(err, errlen, "Xvfb is not installed (not on PATH): "
			 "install the xvfb package (make deps)");
		return -1;
	}
	if (pipe(fds) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	snprintf(num, sizeof num, "%d", fds[1]);
	snprintf(geom, sizeof geom, "%dx%dx24", w, h);
	x->pid = fork();
	if (x->pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		x->pid = 0;
		return -1;
	}
	if (x->pid == 0) {
		int null = open("/dev/null", O_RDWR);
		close(fds[0]);
		/* Xvfb's start-up chatter (fonts, xkb) is not the test's */
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execlp("Xvfb", "Xvfb", "-displayfd", num, "-screen", "0", geom,
		       "-nolisten", "tcp", "-noreset", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = {.fd = fds[0], .events = POLLIN};
		ssize_t n;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 20) {
			snprintf(err, errlen, "Xvfb did not report a display "
				 "within 20 s");
			break;
		}
		if (poll(&p, 1, 1000) <= 0)
			continue;
		n = read(fds[0], buf + got, sizeof buf - 1 - got);
		if (n <= 0) {
			snprintf(err, errlen, "Xvfb exited before it reported "
				 "a display (run it by hand: Xvfb -displayfd 1)");
			break;
		}
		got += (size_t)n;
		buf[got] = '\0';
		if (strchr(buf, '\n') || got == sizeof buf - 1) {
			close(fds[0]);
			snprintf(x->display, sizeof x->display, ":%d", atoi(buf));
			setenv("DISPLAY", x->display, 1);
			/* the X server is the only display the test may use */
			unsetenv("WAYLAND_DISPLAY");
			return 0;
		}
	}
	close(fds[0]);
	kill(x->pid, SIGKILL);
	waitpid(x->pid, &st, 0);
	x->pid = 0;
	return -1;
}

/* Stops the server started by xvfb_start (nothing when none runs). */
static inline void xvfb_stop(xvfb *x)
{
	int st;

	if (x->pid > 0) {
		kill(x->pid, SIGTERM);
		waitpid(x->pid, &st, 0);
	}
	x->pid = 0;
}

#endif
