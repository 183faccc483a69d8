/* sim_file.c -- whole-file reads of files a user named: regular files only,
 * opened non-blocking so that a FIFO or a device given by mistake is an
 * error at once instead of a hang past every timeout. */
#include "sim_file.h"
#include "sim_err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


static const char *kind_of(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO"
	       : S_ISSOCK(m) ? "a socket" : S_ISCHR(m) ? "a character device"
	       : S_ISBLK(m) ? "a block device" : "not a regular file";
}

int sim_read_file(const char *what, const char *path, size_t limit,
		  char **buf, size_t *len, char *err, size_t errlen)
{
	const char *w = what ? what : "", *sp = what ? " " : "";
	struct stat st;
	char *b = NULL;
	size_t n = 0;
	int fd, rc = SIM_EIO;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s%s%s: cannot be opened: %s", w, sp, path,
			 strerror(errno));
		return SIM_EIO;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s%s%s: %s", w, sp, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s%s%s: is %s; a file is needed here", w,
			 sp, path, kind_of(st.st_mode));
		rc = SIM_EINVAL;
		goto out;
	}
	if ((unsigned long long)st.st_size > limit) {
		snprintf(err, errlen, "%s%s%s: %lld bytes, larger than the limit of "
			 "%zu", w, sp, path, (long long)st.st_size, limit);
		rc = SIM_EINVAL;
		goto out;
	}
	/* the size may change while we read: read to the end, within limit */
	for (size_t cap = (size_t)st.st_size + 1;;) {
		ssize_t got;
		if (!b || n + 1 >= cap) {
			char *nb;
			if (b)
				cap = cap * 2 > limit + 2 ? limit + 2 : cap * 2;
			if (!(nb = realloc(b, cap))) {
				snprintf(err, errlen, "%s%s%s: out of memory", w,
					 sp, path);
				rc = SIM_ENOMEM;
				goto out;
			}
			b = nb;
		}
		got = read(fd, b + n, cap - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errlen, "%s%s%s: read error: %s", w, sp, path,
				 strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > limit) {
			snprintf(err, errlen, "%s%s%s: larger than the limit of %zu "
				 "bytes", w, sp, path, limit);
			rc = SIM_EINVAL;
			goto out;
		}
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
	rc = 0;
out:
	free(b);
	close(fd);
	return rc;
}
