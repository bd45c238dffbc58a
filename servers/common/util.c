/*
 * util.c - notes and the signals.
 */
#include "util.h"
#include "options.h"
#include "stats.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

volatile sig_atomic_t server_stopping;

void note(const char *fmt, ...)
{
	va_list ap;

	if (server_opt.quiet)
		return;
	va_start(ap, fmt);
	vmessage(0, fmt, ap);
	va_end(ap);
}

static void on_stop_signal(int sig)
{
	(void)sig;
	server_stopping = 1;
}

/* SIGUSR1 prints the stats line from the handler itself. A flag for the loops
   to check would need every loop to notice it: blocking and threads sleep in
   accept() and read(), in any thread the kernel picks to take the signal, and
   the thread that took it is not always the one that would look. Writing here
   works in every model and every thread, and stats_print() is safe in a
   handler: lock-free atomic loads and one write(2). */
static void on_stats_signal(int sig)
{
	(void)sig;
	stats_print(program_name);
}

void signals_stop_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
}

void signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		die("sigaction(SIGPIPE)");

	/* No SA_RESTART: accept(), read() and the waiting calls must return EINTR
	   so the loop sees server_stopping instead of sleeping on. */
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = 0;
	if (sigaction(SIGINT, &sa, NULL) == -1 || sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction(SIGINT/SIGTERM)");

	/* No SA_RESTART here either: every loop handles EINTR already, and under
	   ThreadSanitizer (which runs a handler only when the interrupted call
	   returns) a restarted accept() would hold the line back until the next
	   client came. A blocking model counts the interrupted accept() as one
	   more wakeup. */
	sa.sa_handler = on_stats_signal;
	sa.sa_flags = 0;
	if (sigaction(SIGUSR1, &sa, NULL) == -1)
		die("sigaction(SIGUSR1)");
}
