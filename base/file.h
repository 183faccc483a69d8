/* file.h -- reading a whole file that a user named (a scenario, an adapter,
 * a picture, a model manifest): only regular files, never blocking on a
 * FIFO or a device, with a size limit; and standard input ("-") for the
 * tools that take it.  Owns no state; knows nothing of what the bytes mean. */
#ifndef CAMSIM_BASE_FILE_H
#define CAMSIM_BASE_FILE_H

#include "base_err.h"

#include <stddef.h>

/* Reads the regular file at path into *buf (malloc'd, the caller's; NUL-
 * terminated, the NUL not counted in *len).  Refused without blocking and
 * without reading: what is not a regular file (a directory, a FIFO, a
 * device, a socket: BASE_ENOTFILE, err names which), a file over limit
 * bytes (BASE_ETOOBIG; also when it grows past limit while read).
 * BASE_EIO when it cannot be opened or read (err has the system's reason:
 * "cannot open: ..." / "read error: ..."), BASE_ENOMEM.  err is
 * "WHAT PATH: reason" (what names the file's role, e.g. "image"; NULL:
 * "PATH: reason").  On failure *buf is NULL and *len 0. */
int base_read_file(const char *what, const char *path, size_t limit,
		   char **buf, size_t *len, char *err, size_t errlen);

/* As base_read_file for an open descriptor the caller chose deliberately
 * (standard input: a pipe is fine, and reading may block until the writer
 * closes it); name stands for the path in err ("stdin").  Reads to the end;
 * fd stays open.  BASE_ETOOBIG past limit bytes, BASE_EIO, BASE_ENOMEM. */
int base_read_fd(const char *what, const char *name, int fd, size_t limit,
		 char **buf, size_t *len, char *err, size_t errlen);

#endif
