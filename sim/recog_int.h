/* recog_int.h -- private to the recog module (recog.c, recog_io.c): the
 * boundary where the pure core's RECOG_E* codes (sim/recog/core_err.h)
 * become the SIM_E* codes recog.h promises.  Include nowhere else. */
#ifndef CAMSIM_RECOG_INT_H
#define CAMSIM_RECOG_INT_H

#include "core_err.h"
#include "model.h"
#include "recog.h"
#include "sim_err.h"

/* The SIM_E* code of a core result: RECOG_Ex becomes SIM_Ex of the same
 * name (same text, so messages read as before); 0 and counts pass
 * through.  A core code without a SIM namesake does not compile. */
int recog_from_core(int rc);

#endif
