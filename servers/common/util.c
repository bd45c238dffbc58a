/*
 * util.c - notes and the stop signals.
 */
#include "util.h"
#include "options.h"

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
}
