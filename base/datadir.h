/* datadir.h -- where camsim's data lives (the scenario suite, the faces and
 * image fixtures it names, the schemas, the models): one lookup order for
 * every layer.  Owns no state; reads the environment and /proc/self/exe,
 * never what the files hold. */
#ifndef CAMSIM_BASE_DATADIR_H
#define CAMSIM_BASE_DATADIR_H

#include "base_err.h"

#include <stddef.h>

/* The data directory the build compiled in ($(datadir)/camsim of the
 * Makefile, /usr/local/share/camsim by default).  Static storage. */
const char *data_compiled_dir(void);

/* Finds the directory sub of camsim's data ("scenarios", "models/model")
 * and writes its path into out (n bytes).  Looked up in this order, the
 * first that is a directory wins:
 *   1. $CAMSIM_DATA/sub when CAMSIM_DATA is set and not empty: then the only
 *      place looked in (an explicit choice is never silently passed over);
 *   2. the build tree the running binary belongs to: the nearest of the
 *      three directories above the binary's that holds a Makefile and
 *      scenarios/, then tree_sub under it (build/camsim, build/san/camsim,
 *      build/tests/check_x); tree_sub NULL: sub;
 *   3. ../share/camsim/sub beside the binary's directory (an installed
 *      bin/camsim, also when the whole tree was moved: dpkg -x, DESTDIR);
 *   4. data_compiled_dir()/sub.
 * The working directory is not looked in: `camsim run` means the same suite
 * from any directory.  Returns 0, or BASE_EIO with out holding the places
 * tried, comma-separated, for the caller's message ("CAMSIM_DATA=... has
 * no sub" when the variable is set).  out is always NUL-terminated. */
int data_find(const char *sub, const char *tree_sub, char *out, size_t n);

#endif
