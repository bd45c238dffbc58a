/*
 * options.c - parsing the shared command line, and -h.
 */
#include "options.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct server_opt server_opt = {
	.addr = "127.0.0.1",
	.port = 8080,
	.backlog = SOMAXCONN,
};

static void usage(FILE *out, const char *model, const char *summary)
{
	fprintf(out,
		"usage: %s [-a ADDR] [-p PORT] [-b BACKLOG] [-t THREADS] [--nodelay] [--cork]\n"
		"       %*s [--max-conns N] [--idle-timeout SECONDS] [--root DIR] [-q] [-h]\n"
		"\n%s\n\n"
		"  -a ADDR             IPv4 address to listen on (default 127.0.0.1)\n"
		"  -p PORT             port (default 8080; 0 takes any free port)\n"
		"  -b BACKLOG          listen(2) backlog (default %d; capped by net.core.somaxconn)\n"
		"  -t THREADS          worker threads (epoll_oneshot) or loops (reuseport); default:\n"
		"                      one per CPU it may run on, so 1 under taskset -c 0;\n"
		"                      the other models accept and ignore it\n"
		"  --nodelay           set TCP_NODELAY: no Nagle delay on small writes\n"
		"  --cork              set TCP_CORK around each flush of a connection's output\n"
		"  --max-conns N       answer 503 and close past N open connections (default: no limit)\n"
		"  --idle-timeout S    close connections idle for S seconds (default: never)\n"
		"  --root DIR          answer GET and HEAD with the files beneath DIR (a directory:\n"
		"                      its index.html) instead of hello world. It exposes every\n"
		"                      readable regular file beneath DIR, and what symlinks inside\n"
		"                      point to beneath DIR, to anyone who can connect: mind -a\n"
		"  -q                  quiet: no notes on stderr\n"
		"  -h                  this help\n"
		"\n"
		"Prints 'listening on ADDR:PORT' when ready. On SIGINT or SIGTERM prints one line\n"
		"of counters to stderr ('stats model=%s accepted=N requests=N ...') and exits 0;\n"
		"on SIGUSR1 prints the same line and goes on serving.\n"
		"Example: %s -p 8080 &  curl -i http://127.0.0.1:8080/\n",
		model, (int)strlen(model), "", summary, SOMAXCONN, model, model);
}

/* The CPUs this process may run on, as nproc(1) counts them: under
   `taskset -c 0` that is one, however many the machine has. More workers than
   that only take turns on the same CPU, and a connection held by a worker that
   was preempted waits a whole time slice (milliseconds) for its answer. */
static int usable_cpus(void)
{
	cpu_set_t set;
	long online;

	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	online = sysconf(_SC_NPROCESSORS_ONLN);
	return online > 0 ? (int)online : 1;
}

/* Parses a whole decimal number within [min, max], or returns false. */
static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

void options_parse(int argc, char **argv, const char *model, const char *summary)
{
	enum { OPT_NODELAY = 256, OPT_CORK, OPT_MAX_CONNS, OPT_IDLE_TIMEOUT, OPT_ROOT };
	static const struct option longopts[] = {
		{ "nodelay", no_argument, NULL, OPT_NODELAY },
		{ "cork", no_argument, NULL, OPT_CORK },
		{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long v = 0;
	int c;

	server_opt.threads = usable_cpus();

	while ((c = getopt_long(argc, argv, "a:p:b:t:qh", longopts, NULL)) != -1) {
		bool ok = true;

		switch (c) {
		case 'a': server_opt.addr = optarg; break;
		case 'p':
			ok = parse_long(optarg, 0, 65535, &v);
			server_opt.port = (int)v;
			break;
		case 'b':
			ok = parse_long(optarg, 1, INT_MAX, &v);
			server_opt.backlog = (int)v;
			break;
		case 't':
			ok = parse_long(optarg, 1, 1024, &v);
			server_opt.threads = (int)v;
			break;
		case 'q': server_opt.quiet = true; break;
		case OPT_NODELAY: server_opt.nodelay = true; break;
		case OPT_CORK: server_opt.cork = true; break;
		case OPT_MAX_CONNS:
			ok = parse_long(optarg, 1, LONG_MAX, &server_opt.max_conns);
			break;
		case OPT_IDLE_TIMEOUT:
			ok = parse_long(optarg, 1, 86400, &v);
			server_opt.idle_timeout = (int)v;
			break;
		case OPT_ROOT: server_opt.root = optarg; break;
		case 'h': usage(stdout, model, summary); exit(0);
		default: usage(stderr, model, summary); exit(2);
		}
		if (!ok) {
			fprintf(stderr, "%s: bad value '%s' for -%c\n\n", model, optarg,
				c < 256 ? c : '-');
			usage(stderr, model, summary);
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n\n", model, argv[optind]);
		usage(stderr, model, summary);
		exit(2);
	}
}
