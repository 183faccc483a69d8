/* sim_err.h -- the error codes of everything under sim/ (device, engine,
 * state store, images, recognition interface): one X-macro table that also
 * generates sim_strerror().  Codes are negative; 0 is success. */
#ifndef CAMSIM_SIM_ERR_H
#define CAMSIM_SIM_ERR_H

#define SIM_ERRNO_MAP(X)                                                      \
	X(NOMEM, -1, "out of memory")                                         \
	X(INVAL, -2, "invalid argument")                                      \
	X(IO, -3, "input/output error")                                       \
	X(DB, -4, "state database error")                                     \
	X(CORRUPT, -5, "state database holds data camsim did not write")      \
	X(NOTIMAGE, -6, "not a decodable image (JPEG or PNG)")                \
	X(IMGSIZE, -7, "image too large")                                     \
	X(NOFACE, -9, "no face in the picture")                               \
	X(MANYFACES, -10, "more than one face in the picture")                \
	X(SMALLFACE, -11, "face too small to enrol")                          \
	X(FULL, -12, "face library full")                                     \
	X(NOTFOUND, -13, "no such item")                                      \
	X(HTTP, -14, "HTTP transfer failed")                                  \
	X(STATE, -15, "not possible in the device's current state")           \
	X(EXISTS, -16, "already exists")                                      \
	X(MODEL, -17, "face model files missing or invalid")

enum {
#define SIM_ERR_ENUM(name, code, text) SIM_E##name = (code),
	SIM_ERRNO_MAP(SIM_ERR_ENUM)
#undef SIM_ERR_ENUM
};

/* Text for a SIM_E* code (static storage); "unknown error" otherwise. */
const char *sim_strerror(int rc);

#endif
