/*
 * server.h - start and stop, the same for every model; and the headers a model needs.
 */
#ifndef SERVER_H
#define SERVER_H

#include "conn.h"
#include "net.h"
#include "options.h"
#include "stats.h"
#include "util.h"

/* Parses the command line (-h and bad options exit here), raises the descriptor
   limit and installs the signals: all of server_start() but the listening,
   for a model that opens its own listening sockets (bin/reuseport) or must
   check the kernel first (bin/io_uring), then calls net_listen() itself. */
void server_init(int argc, char **argv, const char *model, const char *summary);

/* Parses the command line (-h and bad options exit here), raises the descriptor
   limit, installs the signals, opens the listening socket in the given mode
   and prints "listening on ADDR:PORT". Returns the listening descriptor. */
int server_start(int argc, char **argv, const char *model, const char *summary, enum net_mode mode);

/* Prints the stats line; returns 0, the exit status of a clean stop. */
int server_finish(void);

#endif
