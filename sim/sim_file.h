/* sim_file.h -- reading a whole file that a user named (a scenario, an
 * adapter, a picture): only regular files, never blocking on a FIFO or a
 * device, with a size limit.  Owns no state. */
#ifndef CAMSIM_SIM_FILE_H
#define CAMSIM_SIM_FILE_H

#include <stddef.h>

/* Reads the regular file at path into *buf (malloc'd, the caller's; NUL-
 * terminated, the NUL not counted in *len).  Refused without blocking and
 * without reading: what is not a regular file (a directory, a FIFO, a
 * device, a socket: SIM_EINVAL, err names which), a file over limit bytes
 * (SIM_EINVAL).  SIM_EIO when it cannot be opened or read (err has the
 * system's reason), SIM_ENOMEM.  err is "WHAT PATH: reason" (what names
 * the file's role, e.g. "image"; NULL: "PATH: reason").  On failure *buf is
 * NULL and *len 0. */
int sim_read_file(const char *what, const char *path, size_t limit,
		  char **buf, size_t *len, char *err, size_t errlen);

#endif
