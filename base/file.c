/* file.c -- whole-file reads of files a user named: regular files only,
 * opened non-blocking so that a FIFO or a device given by mistake is an
 * error at once instead of a hang past every timeout.  Every message names
 * the file's role and path; nothing here knows what the bytes are. */
#include "file.h"
#include "base_err.h"

#include <errno.h>
#include <stdint.h>
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

/* Reads fd to its end (hint: the expected size, 0 unknown) within limit;
 * the messages as for base_read_file. */
static int read_all(const char *w, const char *sp, const char *path, int fd,
		    size_t hint, size_t limit, char **buf, size_t *len,
		    char *err, size_t errlen)
{
	char *b = NULL;
	size_t n = 0;
	int rc = BASE_EIO;

	size_t cap = hint < 4096 ? 4096 : hint + 1;

	if (limit > SIZE_MAX / 2)
		limit = SIZE_MAX / 2;
	if (cap > limit + 2)
		cap = limit + 2; /* room for limit + 1 bytes: "too large" shows */
	/* the size may change while we read: read to the end, within limit */
	for (;;) {
		ssize_t got;
		if (!b || n + 1 >= cap) {
			char *nb;
			if (b)
				cap = cap * 2 > limit + 2 ? limit + 2 : cap * 2;
			if (!(nb = realloc(b, cap))) {
				snprintf(err, errlen, "%s%s%s: out of memory", w,
					 sp, path);
				rc = BASE_ENOMEM;
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
			rc = BASE_ETOOBIG;
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
	return rc;
}

int base_read_fd(const char *what, const char *name, int fd, size_t limit,
		 char **buf, size_t *len, char *err, size_t errlen)
{
	*buf = NULL;
	*len = 0;
	return read_all(what ? what : "", what ? " " : "", name, fd, 0, limit,
			buf, len, err, errlen);
}

int base_read_file(const char *what, const char *path, size_t limit,
		   char **buf, size_t *len, char *err, size_t errlen)
{
	const char *w = what ? what : "", *sp = what ? " " : "";
	struct stat st;
	int fd, rc = BASE_EIO;

	*buf = NULL;
	*len = 0;
	if (!path) {
		snprintf(err, errlen, "%s%sno path given", w, sp);
		return BASE_EINVAL;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s%s%s: cannot open: %s", w, sp, path,
			 strerror(errno));
		return BASE_EIO;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s%s%s: %s", w, sp, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s%s%s: is %s; a file is needed here", w,
			 sp, path, kind_of(st.st_mode));
		rc = BASE_ENOTFILE;
		goto out;
	}
	if ((unsigned long long)st.st_size > limit) {
		snprintf(err, errlen, "%s%s%s: %lld bytes, larger than the limit of "
			 "%zu", w, sp, path, (long long)st.st_size, limit);
		rc = BASE_ETOOBIG;
		goto out;
	}
	rc = read_all(w, sp, path, fd, (size_t)st.st_size, limit, buf, len,
		      err, errlen);
out:
	close(fd);
	return rc;
}
