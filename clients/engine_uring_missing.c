/*
 * engine_uring_missing.c - built instead of engine_uring.c when no usable
 * liburing (2.3 or newer) was found at build time: the Makefile's probe,
 * servers/common/uring-config, chose, and passed its one line here as
 * URING_MISSING. --engine io_uring then prints that line and exits 2.
 */
#include "lg_conn.h"

#include <stdio.h>
#include <stdlib.h>

#ifndef URING_MISSING
#define URING_MISSING "io_uring: built without liburing"
#endif

static void missing_probe(void)
{
	fprintf(stderr, "%s: --engine %s\n", program_name, URING_MISSING);
	exit(2);
}

/* Never started: the probe ends the program first. */
const struct engine engine_uring = {
	.name = "io_uring",
	.probe = missing_probe,
};
