/*
 * util.h - what every server needs and no I/O model is about: notes, and the
 * signals that stop a server cleanly or ask it for its counters. Fatal errors and the clock come from
 * lib/toolkit.h, which the load generator and the tools share.
 *
 * Start-up errors end the program (die); a connection's errors end only that
 * connection, and never reach these functions.
 */
#ifndef UTIL_H
#define UTIL_H

#include "toolkit.h" /* die, die_en, now_ms, raise_nofile: lib/, shared with the clients */

#include <signal.h>
#include <stdint.h>

/* Set by SIGINT or SIGTERM; every loop checks it after a call returns EINTR. */
extern volatile sig_atomic_t server_stopping;

/* Prints "NAME: <message>" to stderr unless -q was given; for events worth a note. */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* SIGPIPE ignored (a write to a closed socket returns EPIPE instead of killing us);
   SIGINT and SIGTERM set server_stopping, without SA_RESTART so a blocked call
   returns EINTR; SIGUSR1 prints the stats line from its handler, and the
   server goes on (also without SA_RESTART: the loops retry after EINTR). */
void signals_install(void);

/* The set {SIGINT, SIGTERM}: threaded models block it in their workers. */
void signals_stop_set(sigset_t *set);

#endif
