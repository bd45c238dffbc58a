/*
 * toolkit.h - the few helpers every program here needs and none is about:
 * fatal errors that name the syscall, the monotonic clock, the descriptor limit,
 * and the three outcomes of non-blocking I/O.
 *
 * Written once and linked into the servers, the load generator, polltime, the
 * pitfall experiments and the test tools (the Makefile links build/lib/toolkit.o).
 * Start-up errors end the program (die); a connection's errors never reach here.
 */
#ifndef TOOLKIT_H
#define TOOLKIT_H

#include <stdarg.h>
#include <stdint.h>

/* What a read or a write on a non-blocking socket came to (the shape of wrk's
   net.h): IO_OK, it moved bytes; IO_RETRY, EAGAIN: the kernel has nothing for
   us, or no room, until readiness says otherwise; IO_ERROR, it failed. Each
   function that returns it says where EOF falls. */
enum io_result { IO_OK, IO_RETRY, IO_ERROR };

/* Prefixes every message ("epoll_et: ..."); set it first thing in main. */
extern const char *program_name;

/* The exit status of die() and die_en(); 1 unless a program needs another. */
extern int die_status;

/* Prints "NAME: <message>: strerror(errno)" to stderr and exits die_status. */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The same for calls that return their error number instead of setting errno
   (every pthread_* function): "NAME: <message>: strerror(err)". */
_Noreturn void die_en(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "NAME: <message>" (and ": strerror(err)" when err is not 0) to stderr. */
void vmessage(int err, const char *fmt, va_list ap);

/* Nanoseconds on CLOCK_MONOTONIC: for measuring (read in the vDSO, no syscall). */
uint64_t now_ns(void);

/* Milliseconds on CLOCK_MONOTONIC_COARSE: cheaper still, to the last timer
   tick (1 to 4 ms); good enough for timeouts, not for latencies. */
int64_t now_ms(void);

/* Raises the soft RLIMIT_NOFILE to the hard limit and, when the process may
   (root, CAP_SYS_RESOURCE), the hard limit towards need (capped by
   /proc/sys/fs/nr_open). Returns the soft limit now in force; dies only if
   getrlimit fails. need 0: just soft up to hard. */
long raise_nofile(long need);

#endif
