/* sim_err.h -- the error codes of everything under sim/ (device, engine,
 * state store, images, recognition interface): one X-macro table that also
 * generates sim_strerror().  Codes are negative, in -300..-399 (each layer
 * has its own range, docs/errors.md); 0 is success. */
#ifndef CAMSIM_SIM_ERR_H
#define CAMSIM_SIM_ERR_H

#define SIM_ERRNO_MAP(X)                                                      \
	X(NOMEM, -301, "out of memory")                                       \
	X(INVAL, -302, "invalid argument")                                    \
	X(IO, -303, "input/output error")                                     \
	X(DB, -304, "state database error")                                   \
	X(CORRUPT, -305, "state database holds data camsim did not write")    \
	X(NOTIMAGE, -306, "not a decodable image (JPEG or PNG)")              \
	X(IMGSIZE, -307, "image too large")                                   \
	X(NOFACE, -309, "no face in the picture")                             \
	X(MANYFACES, -310, "more than one face in the picture")               \
	X(SMALLFACE, -311, "face too small to enrol")                         \
	X(FULL, -312, "face library full")                                    \
	X(NOTFOUND, -313, "no such item")                                     \
	X(HTTP, -314, "HTTP transfer failed")                                 \
	X(STATE, -315, "not possible in the device's current state")          \
	X(EXISTS, -316, "already exists")                                     \
	X(MODEL, -317, "face model files missing or invalid")

enum {
#define SIM_ERR_ENUM(name, code, text) SIM_E##name = (code),
	SIM_ERRNO_MAP(SIM_ERR_ENUM)
#undef SIM_ERR_ENUM
};

/* Text for rc (static storage, never NULL): a SIM_E* code's own text, a
 * PROTO_E* code through proto_strerror (sim/ passes proto/'s codes up
 * unchanged), "success" for 0, "unknown error" otherwise. */
const char *sim_strerror(int rc);

#endif
