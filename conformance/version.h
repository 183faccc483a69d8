/* version.h -- camsim's version, as `camsim --version' prints it and every
 * report records it: the release in the Makefile, and the commit it was
 * built from when the tree is a git checkout ("0.6.0+g936969f"). */
#ifndef CAMSIM_VERSION_H
#define CAMSIM_VERSION_H

/* Static storage. */
const char *camsim_version(void);

#endif
