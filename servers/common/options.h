/*
 * options.h - the command line every server shares.
 *
 *   MODEL [-a ADDR] [-p PORT] [-b BACKLOG] [-t THREADS] [--nodelay] [--cork]
 *         [--max-conns N] [--idle-timeout SECONDS] [--root DIR] [-q] [-h]
 */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <stdbool.h>

struct server_opt {
	const char *addr; /* IPv4 address to listen on; default 127.0.0.1 */
	int port;	  /* default 8080; 0 takes any free port */
	int backlog;	  /* listen(2) backlog; the kernel caps it at net.core.somaxconn */
	int threads; /* worker threads (epoll_oneshot), loops (reuseport); default: the CPUs it may run on */
	bool nodelay;	  /* TCP_NODELAY: send small segments at once (no Nagle) */
	bool cork;	  /* TCP_CORK around each flush of a connection's output */
	bool quiet;	  /* no notes on stderr (the listening and stats lines stay) */
	long max_conns;	  /* refuse (503) past this many open connections; 0: no limit */
	int idle_timeout; /* close a connection idle this many seconds; 0: never */
	const char *root; /* serve the files beneath this directory; NULL: hello world */
};

/* The parsed options; filled by options_parse(), read everywhere after. */
extern struct server_opt server_opt;

/* Parses argv into server_opt. -h prints usage (with the model's summary) to
   stdout and exits 0; a bad option prints usage to stderr and exits 2. */
void options_parse(int argc, char **argv, const char *model, const char *summary);

#endif
