/* printf_hooks.c -- refuses libquadmath's printf hooks, so that glibc's
 * printf keeps its fast path (printf_hooks.h says why).  Owns one
 * counter; must not format anything itself. */
#include "printf_hooks.h"

#include <stdatomic.h>

static atomic_uint refused;

int register_printf_type(printf_va_arg_function *fct)
{
	(void)fct;
	atomic_fetch_add(&refused, 1);
	return -1;
}

unsigned printf_hooks_refused(void)
{
	return atomic_load(&refused);
}
