/* demo.h -- `camsim demo`: one simulated tablet in a window (issue 16,
 * docs/demo.md).  Owns the threads (the device's event loop on a second
 * thread, the frame loop on the calling one), the in-process mock and
 * the story; draws nothing itself (win.c) and decides nothing shown
 * (ui.c).  No SDL here. */
#ifndef CAMSIM_DEMO_H
#define CAMSIM_DEMO_H

#include <stdio.h>

/* `camsim demo': argv[0] is "demo".  Exit code: 0 the window was closed
 * or the --screenshot written, 1 a runtime failure (no display, no font,
 * the mock or the device cannot start, espeak-ng missing with --voice),
 * 2 a wrong command line or --state-script.  Prints the frame rate on
 * out at the end; errors on err. */
int demo_main(int argc, char **argv, FILE *out, FILE *err);

#endif
