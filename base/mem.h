/* mem.h -- the process's memory as the system sees it: the resident set,
 * and heap the allocator holds freed but resident, given back.  Owns no
 * state; touches no allocation of its callers. */
#ifndef CAMSIM_BASE_MEM_H
#define CAMSIM_BASE_MEM_H

#include <stdbool.h>
#include <stdint.h>

/* The process's resident set in KiB (/proc/self/statm); 0 when it cannot
 * be read. */
uint64_t mem_rss_kb(void);

/* Gives the system back the pages of freed heap that glibc's allocator
 * keeps resident (malloc_trim(0): every arena, free chunks inside the
 * heap too, not only its top).  Returns true when some memory went back;
 * false when there was none, or the process's allocator is not glibc's
 * (a sanitizer's, valgrind's).  Takes each arena's lock in turn: other
 * threads allocating meanwhile wait for that arena (camsim load, median
 * and most: 0.26 and 0.99 ms at 10,000 devices, 0.13 and 0.33 ms at
 * 100,000: docs/perf.md). */
bool mem_give_back(void);

#endif
