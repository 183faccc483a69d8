/* core_err.h -- the error codes of the pure recognition core (sim/recog/:
 * model, nn, ssd, landmark, facenet, face): one X-macro table in -200..-299
 * that also generates recog_core_strerror().  The core knows nothing of
 * sim/: sim/recog.c maps these to the SIM_E* codes its callers expect. */
#ifndef CAMSIM_CORE_ERR_H
#define CAMSIM_CORE_ERR_H

#define RECOG_ERRNO_MAP(X)                                                    \
	X(NOMEM, -201, "out of memory")                                       \
	X(INVAL, -202, "invalid argument")                                    \
	X(MODEL, -203, "face model files missing or invalid")

enum {
#define RECOG_ERR_ENUM(name, code, text) RECOG_E##name = (code),
	RECOG_ERRNO_MAP(RECOG_ERR_ENUM)
#undef RECOG_ERR_ENUM
};

/* Text for a RECOG_E* code (static storage); "unknown error" otherwise.
 * Named apart from recog.h's service API, which is sim/'s. */
const char *recog_core_strerror(int rc);

#endif
