/* base_err.h -- the error codes of base/ (files, strings, encodings, web
 * listeners): one X-macro table, codes -1..-99, that also generates
 * base_strerror().  The layers above have their own ranges (proto -100..,
 * recognition -200.., sim -300.., conformance -400..) and map these. */
#ifndef CAMSIM_BASE_ERR_H
#define CAMSIM_BASE_ERR_H

#define BASE_ERRNO_MAP(X)                                                     \
	X(NOMEM, -1, "out of memory")                                         \
	X(INVAL, -2, "invalid argument")                                      \
	X(IO, -3, "input/output error")                                       \
	X(TOOBIG, -4, "larger than the limit")                                \
	X(NOTFILE, -5, "not a regular file")

enum {
#define BASE_ERR_ENUM(name, code, text) BASE_E##name = (code),
	BASE_ERRNO_MAP(BASE_ERR_ENUM)
#undef BASE_ERR_ENUM
};

/* Text for a BASE_E* code (static storage); "unknown error" otherwise,
 * "success" for 0. */
const char *base_strerror(int rc);

#endif
