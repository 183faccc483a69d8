/* base.h -- the few macros every layer writes alike (as libuv's
 * uv-common.h): container_of, ARRAY_SIZE, STATIC_ASSERT.  Private to
 * camsim's sources; includes nothing of proto/, sim/ or conformance/. */
#ifndef CAMSIM_BASE_H
#define CAMSIM_BASE_H

#include <stddef.h>

/* The struct of type holding member at p (p must point at that member of a
 * live type object; no check is possible). */
#define container_of(p, type, member) \
	((type *)(void *)((char *)(p) - offsetof(type, member)))

/* Elements of an array (not a pointer: sizeof would lie, so only use it on
 * arrays whose definition is in sight). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof *(a))

/* A compile-time check at file or block scope; msg says what broke. */
#define STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)

#endif
