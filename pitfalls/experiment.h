/*
 * experiment.h - what every pitfall experiment stands on: loopback sockets on
 * port 0, a thread's CPU clock and sleep state, and the way each experiment
 * reports what it saw. Its names carry the prefix exp_ (an experiment's), not
 * lab_: a lab is one of labs/, whose shell library has its own lab_title.
 *
 * Every experiment is one process holding both ends: its server and its
 * client talk over 127.0.0.1 on a port the kernel picks (port 0), so two
 * students on one machine never collide. Each prints
 *
 *   pitfall-NAME: the title
 *     did:      what it set up
 *     observed: what happened, with numbers
 *     expected: what the lesson predicts  (these two lines are left out
 *     why:      the kernel's reason        under PITFALL_FACTS_ONLY=1)
 *   matched: a one-line summary          (or NOT matched: / skipped:)
 *
 * and exits EXP_MATCHED (0), EXP_NOT_MATCHED (1), EXP_SKIPPED (77, the kernel
 * or the build lacks what the lesson needs) or 2 when its set-up failed (die).
 * pitfalls/run prints the last line of each.
 */
#ifndef EXPERIMENT_H
#define EXPERIMENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "toolkit.h"

enum { EXP_MATCHED = 0, EXP_NOT_MATCHED = 1, EXP_SKIPPED = 77 };

/* Sets program_name and die_status (2: a failed set-up is not a verdict);
   prints help and exits 0 on -h, a usage line and exits 2 on anything else. */
void exp_start(int argc, char **argv, const char *help);

/* Prints the title line, "pitfall-NAME: title". */
void exp_title(const char *title);

/* Prints one indented, labelled line: exp_say("observed", "%d wakeups", n).
   "expected" and "why" lines are left out when PITFALL_FACTS_ONLY is set
   (not 0): the labs set it, since their questions ask for both. */
void exp_say(const char *label, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "matched: ..." or "NOT matched: ..."; returns the exit status. */
int exp_verdict(bool matched, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "skipped: ..." and exits EXP_SKIPPED. */
_Noreturn void exp_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A TCP listener on 127.0.0.1, port 0 unless port is given, with backlog 128.
   flags: SOCK_NONBLOCK or 0. reuseport: SO_REUSEPORT before bind. Dies on error. */
int exp_listen(uint16_t port, int flags, bool reuseport);

/* The port a bound socket got. */
uint16_t exp_port(int fd);

/* Connects the blocking socket fd to 127.0.0.1:port. Dies on error. */
void exp_connect_fd(int fd, uint16_t port);

/* A blocking client socket connected to 127.0.0.1:port. Dies on error. */
int exp_connect(uint16_t port);

/* Both ends of one loopback TCP connection; the server end gets flags
   (SOCK_NONBLOCK or 0), the client end is blocking. Dies on error. */
void exp_tcp_pair(int *server, int *client, int flags);

/* Makes fd non-blocking. Dies on error. */
void exp_nonblock(int fd);

/* Adds (op EPOLL_CTL_ADD) or changes (EPOLL_CTL_MOD) fd in the epoll set epfd
   for events, with data.fd = fd. Dies on error; skips the experiment when the
   kernel does not know EPOLLEXCLUSIVE (before Linux 4.5). */
void exp_watch(int epfd, int op, int fd, uint32_t events);

/* A new epoll set watching fd, edge-triggered, for EPOLLIN | extra. Dies on error. */
int exp_watch_et(int fd, uint32_t extra);

/* CPU time consumed by the calling thread, in nanoseconds. */
uint64_t exp_thread_cpu_ns(void);

/* The calling thread's id, for exp_thread_state() from another thread. */
pid_t exp_gettid(void);

/* The scheduler state of thread tid of this process: 'R' running or
   runnable, 'S' asleep (in a blocking call), ...; '?' when unreadable. */
char exp_thread_state(pid_t tid);

/* How many times thread tid has gone to sleep (voluntary_ctxt_switches in
   /proc): every wake-up of a thread that sleeps again adds one, even a
   wake-up the kernel swallowed and that never returned to user space. */
long exp_thread_sleeps(pid_t tid);

/* Waits up to timeout_ms for all n threads to be asleep ('S'); true if so. */
bool exp_wait_asleep(const pid_t *tids, int n, int timeout_ms);

/* Opens one connection to 127.0.0.1:port, waits until *accepted reaches want
   and the n threads in tids are all asleep again, then closes it: one
   connection's wake-ups, and nothing else, between two readings. Dies when
   that takes over 5 s. */
void exp_one_connection(uint16_t port, atomic_int *accepted, int want, const pid_t *tids, int n);

#endif
