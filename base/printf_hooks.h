/* printf_hooks.h -- keeps glibc's printf on its fast path in every camsim
 * binary.  OpenBLAS (the recognition core's BLAS) loads libgfortran, which
 * loads libquadmath, whose constructor registers printf hooks for
 * __float128 ("%Qf"); once any hook is registered glibc formats every
 * printf of the process, its own inet_ntop's included, on its slow
 * positional path: 1.6-1.8 times the time (docs/perf.md).  camsim never
 * formats a __float128, so it refuses the registration.  Owns no state
 * but a count; touches nothing else of libc. */
#ifndef CAMSIM_BASE_PRINTF_HOOKS_H
#define CAMSIM_BASE_PRINTF_HOOKS_H

#include <printf.h>

/* glibc's register_printf_type, defined in the executable so that it
 * interposes libc's for every library loaded (the Makefile links this
 * file with -Wl,--undefined=register_printf_type, since nothing calls
 * it): registers nothing and returns -1, which libquadmath takes as
 * "no hooks" (it then registers no modifier and no specifier either). */
int register_printf_type(printf_va_arg_function *fct);

/* How many registrations were refused in this process so far. */
unsigned printf_hooks_refused(void);

#endif
