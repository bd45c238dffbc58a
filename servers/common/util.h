/*
 * util.h - what every server needs and no I/O model is about: fatal errors,
 * the clock, and the signals that stop a server cleanly.
 *
 * Start-up errors end the program (die); a connection's errors end only that
 * connection, and never reach these functions.
 */
#ifndef UTIL_H
#define UTIL_H

#include <signal.h>
#include <stdint.h>

/* The model's name, set by server_start(); prefixes every message. */
extern const char *program_name;

/* Set by SIGINT or SIGTERM; every loop checks it after a call returns EINTR. */
extern volatile sig_atomic_t server_stopping;

/* Prints "NAME: <message>: strerror(errno)" to stderr and exits 1. */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Like die() for pthread calls, which return the error number instead of setting errno. */
_Noreturn void die_en(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "NAME: <message>" to stderr unless -q was given; for events worth a note. */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Milliseconds on the monotonic clock (cheap: CLOCK_MONOTONIC_COARSE, read in the vDSO). */
int64_t now_ms(void);

/* SIGPIPE ignored (a write to a closed socket returns EPIPE instead of killing us);
   SIGINT and SIGTERM set server_stopping, without SA_RESTART so a blocked call returns EINTR. */
void signals_install(void);

/* The set {SIGINT, SIGTERM}: threaded models block it in their workers. */
void signals_stop_set(sigset_t *set);

#endif
