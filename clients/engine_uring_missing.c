/*
 * engine_uring_missing.c - built instead of engine_uring.c when liburing's
 * headers were missing at build time (the Makefile chooses): --engine
 * io_uring then says what to install, in one line, and exits 2.
 */
#include "lg_conn.h"

#include <stdio.h>
#include <stdlib.h>

static void missing_probe(void)
{
	fprintf(stderr,
		"%s: --engine io_uring: built without liburing-dev; "
		"apt-get install liburing-dev, then make\n",
		program_name);
	exit(2);
}

/* Never started: the probe ends the program first. */
const struct engine engine_uring = {
	.name = "io_uring",
	.probe = missing_probe,
};
