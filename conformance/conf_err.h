/* conf_err.h -- the error codes of everything under conformance/ (mock
 * server, scenarios, operator steps, adapters, runner, reports, fixtures):
 * one X-macro table in -400..-499 that also generates conf_strerror().
 * Owns no lower layer's codes: those pass through unchanged (docs/errors.md). */
#ifndef CAMSIM_CONF_ERR_H
#define CAMSIM_CONF_ERR_H

/* Distinct causes get distinct names even where the old per-module tables
 * shared one ("cannot listen" / "cannot read" / "cannot write" were all IO);
 * a code's number is never shown to users, only its text. */
#define CONF_ERRNO_MAP(X)                                                     \
	X(NOMEM, -401, "out of memory")                                       \
	X(INVAL, -402, "invalid argument")                                    \
	X(LISTEN, -403, "cannot listen")                                      \
	X(SEND, -404, "the connection broke while the answer was sent")       \
	X(DB, -405, "mock database error")                                    \
	X(BADCMD, -406, "command breaks protocol V1.16")                      \
	X(NOTFOUND, -407, "no such device or command")                        \
	X(READ, -408, "cannot read the file")                                 \
	X(NOTJSON, -409, "not JSON")                                          \
	X(FORMAT, -410, "breaks the file's format (scenario, adapter or "     \
			"expectation file)")                                  \
	X(ADAPTER, -411, "the adapter failed")                                \
	X(SERVER, -412, "the server under test cannot be used")               \
	X(MKDIR, -413, "cannot create the report directory")                  \
	X(WRITE, -414, "cannot write a report file")

enum {
#define CONF_ERR_ENUM(name, code, text) CONF_E##name = (code),
	CONF_ERRNO_MAP(CONF_ERR_ENUM)
#undef CONF_ERR_ENUM
};

/* Text for rc (static storage, never NULL): a CONF_E* code's own text, a
 * code of a lower layer's range through that layer's strerror (sim/ and,
 * through it, proto/), "success" for 0, "unknown error" otherwise. */
const char *conf_strerror(int rc);

#endif
