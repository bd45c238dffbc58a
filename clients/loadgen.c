/*
 * loadgen.c - the HTTP/1.1 load generator of c10k-lab: options, threads,
 * the merge of their results, the exit status.
 *
 *   bin/loadgen [-c CONNS] [-t THREADS] [-d SECONDS | -n REQUESTS] [--idle N]
 *               [--close] [--pipeline DEPTH] [--rate RPS] [--think MS|exp:MS]
 *               [--sources N] [--timeout MS] [--warmup SECONDS]
 *               [--format text|csv|json] [--header] [--tolerate]
 *               [--engine epoll|io_uring] URL
 *
 *   bin/loadgen -c 50 -d 10 --idle 5000 http://127.0.0.1:8080/
 *
 * What it measures, and how:
 *   - Closed loop (default): each connection sends its next request when the
 *     answer to the last one arrives. Latency runs from the write.
 *   - Open loop (--rate): every request has an intended send time on a fixed
 *     schedule; a late request still counts its latency from that time, so a
 *     stalled server cannot hide its stall ("coordinated omission").
 *   - Think time (--think): in closed loop, each connection waits MS (or an
 *     exponential time of mean MS) after an answer, as a user would; the
 *     report puts the rate beside the one Little's law predicts.
 *   - Keep-alive (default) or a new connection per request (--close): a
 *     choice of its own, made with either loop.
 *   - --idle N connections are opened first, send nothing, and are held for
 *     the whole run: the descriptors a readiness loop must carry.
 *   - Every response is parsed and checked; errors are counted by cause and
 *     never as successes; connections that were never answered are counted as
 *     starved. The exit status says whether the run was clean.
 *
 * Where things are: loadgen.h lists the modules. This file parses the options
 * into `cfg` (--engine picks engine_epoll.c or engine_uring.c and probes the
 * kernel for it), starts one worker thread per -t (worker.c), joins them, merges
 * their counters and histograms into struct totals and hands it to report.c.
 *
 * Syscalls relied on here: setrlimit(RLIMIT_NOFILE) through raise_nofile
 * (lib/toolkit.h), one descriptor per connection; getrusage(RUSAGE_SELF)
 * for the client's own CPU time, all threads together.
 */
#include "engine.h"
#include "loadgen.h"
#include "lg_net.h"
#include "report.h"
#include "worker.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define SPARE_FDS    32 /* stdio, the engines' descriptors, a margin */
#define EXIT_STARVED 3

struct config cfg;

const char *const err_name[NERR] = {
	"refused", "connect_timeout", "addr_unavailable", "emfile", "reset",
	"eof",	   "timeout",	      "status",		  "parse",  "other",
};

const char *mode_name(void)
{
	if (cfg.use == USE_CONN_PER_REQUEST)
		return "close-per-request"; /* the CSV value, kept for old readers */
	return cfg.loop == LOOP_OPEN ? "open" : "closed";
}

static void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(0, fmt, ap);
	va_end(ap);
	fprintf(stderr, "(%s -h explains every option)\n", program_name);
	exit(2);
}

/* ---------------------------------------------------------------- set-up */
/* Descriptors, the request, the URL. */

/* One descriptor per connection, idle ones included, and a few more. The
   warning matters: a capped run would open fewer connections than asked,
   and say so only in its counts. */
static void make_room(void)
{
	long need = (long)cfg.conns + cfg.idle + SPARE_FDS + 2L * cfg.threads;
	long have = raise_nofile(need);
	if (have < need)
		fprintf(stderr,
			"%s: WARNING: the descriptor limit (%ld) caps this run: "
			"%d connections asked, at most %ld can open; raise it with "
			"`ulimit -n` or run as root\n",
			program_name, have, cfg.conns + cfg.idle,
			have > SPARE_FDS ? have - SPARE_FDS : 0);
}

/* How many connections share a source address: as many as its ports hold
   (lg_net_per_source), or an even share of --sources N. */
static int per_source(void)
{
	int total = cfg.conns + cfg.idle;
	if (cfg.sources > 0)
		return (total + cfg.sources - 1) / cfg.sources;
	return lg_net_per_source();
}

/* The request, written once: pipeline + 1 copies back to back. */
static void build_request(void)
{
	char one[2048];
	int n = snprintf(one, sizeof one, "GET %s HTTP/1.1\r\nHost: %s%s%.0d\r\n%s\r\n", cfg.path,
			 cfg.host, cfg.port == 80 ? "" : ":", cfg.port == 80 ? 0 : cfg.port,
			 cfg.use == USE_CONN_PER_REQUEST ? "Connection: close\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof one)
		usage_error("URL too long: %s", cfg.url);
	cfg.req_len = (size_t)n;
	cfg.req = calloc((size_t)cfg.pipeline + 1, cfg.req_len);
	if (!cfg.req)
		die("calloc");
	for (int i = 0; i <= cfg.pipeline; i++)
		memcpy(cfg.req + (size_t)i * cfg.req_len, one, cfg.req_len);
}

/* http://HOST[:PORT][/PATH] into cfg.host, cfg.port, cfg.path and cfg.dst. */
static void parse_url(const char *url)
{
	cfg.url = url;
	if (strncmp(url, "http://", 7) != 0)
		usage_error("URL must start with http:// (got '%s')", url);
	const char *h = url + 7;
	size_t hlen = strcspn(h, ":/");
	if (hlen == 0 || hlen >= sizeof cfg.host)
		usage_error("no host in URL '%s'", url);
	memcpy(cfg.host, h, hlen);
	cfg.host[hlen] = '\0';
	const char *rest = h + hlen;
	cfg.port = 80;
	if (*rest == ':') {
		char *end;
		long p = strtol(rest + 1, &end, 10);
		if (end == rest + 1 || p < 1 || p > 65535 || (*end && *end != '/'))
			usage_error("bad port in URL '%s'", url);
		cfg.port = (int)p;
		rest = end;
	}
	cfg.path = *rest ? rest : "/";

	struct addrinfo hints, *ai;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(cfg.host, NULL, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "%s: getaddrinfo(%s): %s\n", program_name, cfg.host,
			gai_strerror(rc));
		exit(2);
	}
	memcpy(&cfg.dst, ai->ai_addr, sizeof cfg.dst);
	cfg.dst.sin_port = htons((uint16_t)cfg.port);
	freeaddrinfo(ai);
	cfg.loopback = (ntohl(cfg.dst.sin_addr.s_addr) >> 24) == 127;
}

/* ---------------------------------------------------------------- options */

static void usage(void)
{
	printf("usage: loadgen [options] URL            URL is http://HOST[:PORT][/PATH]\n"
	       "\n"
	       "  -c CONNS          active connections (default %d), spread evenly over threads\n"
	       "  -t THREADS        threads, one event loop each (default 1)\n"
	       "  -d SECONDS        measure for this long (default %.0f; decimals allowed)\n"
	       "  -n REQUESTS       instead of -d: send exactly this many requests, then stop\n"
	       "  --idle N          open N more connections first; they send nothing and are\n"
	       "                    held for the whole run (idle descriptors for the server)\n"
	       "  --close           a new connection per request (Connection: close); the\n"
	       "                    connect time is reported apart\n"
	       "  --pipeline D      keep D requests in flight on each connection (default 1)\n"
	       "  --rate RPS        open loop: RPS requests per second in total on a fixed\n"
	       "                    schedule; latency counts from each request's intended send\n"
	       "                    time, so a stalled server cannot hide (coordinated omission)\n"
	       "  --think MS        closed loop with think time: after each answer a connection\n"
	       "                    waits MS milliseconds (decimals allowed), or with exp:MS an\n"
	       "                    exponentially distributed time of mean MS, before its next\n"
	       "                    request; the report adds the rate Little's law predicts,\n"
	       "                    connections / (think + mean latency). Not with --rate, --close\n"
	       "  --sources N       spread the connections over N loopback source addresses,\n"
	       "                    127.0.0.1 to 127.0.0.N (default: as many as the local port\n"
	       "                    range needs, one per %d connections); loopback URLs only\n"
	       "  --timeout MS      a connect or an answer slower than this is an error (default %d)\n"
	       "  --warmup SECONDS  run this long before measuring; not with -n\n"
	       "  --format F        text (default), csv (one row) or json (one object)\n"
	       "  --header          with --format csv: print the header row first\n"
	       "  --tolerate        exit 0 even when errors occurred, connections fell short or\n"
	       "                    one was starved\n"
	       "  --engine E        how each thread does its I/O: epoll (default; readiness,\n"
	       "                    a send and a read per request) or io_uring (completions,\n"
	       "                    Linux 6.1+: one io_uring_enter per turn for all of them)\n"
	       "  -h, --help        this help\n"
	       "\n"
	       "Exit status: 0 a clean run; 1 errors, non-2xx answers or fewer connections than\n"
	       "asked; 3 no such fault, but an established connection was sent a request and\n"
	       "got no answer at all in the measured time (starved); --tolerate turns 1 and 3\n"
	       "into 0; 2 a usage error.\n"
	       "\n"
	       "Examples:\n"
	       "  loadgen -c 50 -d 10 http://127.0.0.1:8080/\n"
	       "  loadgen -c 100 --idle 10000 -d 10 --warmup 1 --format csv --header http://127.0.0.1:8080/\n"
	       "  loadgen -c 20 --rate 5000 -d 10 http://127.0.0.1:8080/\n"
	       "  loadgen -c 2000 --think exp:100 -d 10 http://127.0.0.1:8080/\n"
	       "  loadgen -c 4 -n 1000 --close http://127.0.0.1:8080/\n"
	       "  loadgen --engine io_uring -c 50 -d 10 http://127.0.0.1:8080/\n",
	       DEFAULT_CONNS, DEFAULT_SECONDS, lg_net_per_source(), DEFAULT_TIMEOUT);
}

static long parse_int(const char *opt, const char *s, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		usage_error("%s: expected an integer from %ld to %ld, got '%s'", opt, min, max, s);
	return v;
}

static double parse_num(const char *opt, const char *s, double min)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min) || v > 1e9)
		usage_error("%s: expected a number >= %g, got '%s'", opt, min, s);
	return v;
}

enum {
	OPT_IDLE = 256,
	OPT_CLOSE,
	OPT_PIPELINE,
	OPT_RATE,
	OPT_TIMEOUT,
	OPT_WARMUP,
	OPT_FORMAT,
	OPT_HEADER,
	OPT_TOLERATE,
	OPT_ENGINE,
	OPT_THINK,
	OPT_SOURCES
};

/* --think MS or exp:MS, in milliseconds; 0 (fixed) is no think time. */
static void parse_think(const char *arg)
{
	const char *ms = arg;
	char *end;
	cfg.think = THINK_FIXED;
	if (strncmp(arg, "exp:", 4) == 0) {
		cfg.think = THINK_EXP;
		ms = arg + 4;
	}
	errno = 0;
	double v = strtod(ms, &end);
	if (errno || end == ms || *end || !(v >= 0) || v > 3600000 ||
	    (cfg.think == THINK_EXP && v <= 0))
		usage_error("--think: expected MS or exp:MS, milliseconds from 0 to 3600000 "
			    "(above 0 after exp:), got '%s'",
			    arg);
	cfg.think_ns = (uint64_t)(v * MS);
	if (cfg.think_ns == 0)
		cfg.think = THINK_NONE;
}

static void check_args(bool have_d)
{
	if (have_d && cfg.max_requests)
		usage_error("-d and -n exclude each other");
	if (cfg.max_requests && cfg.warmup > 0)
		usage_error("--warmup does not combine with -n (every request counts)");
	if (cfg.use == USE_CONN_PER_REQUEST && cfg.pipeline > 1)
		usage_error("--close sends one request per connection: no --pipeline");
	if (cfg.conns == 0 && cfg.idle == 0)
		usage_error("nothing to do: -c 0 and no --idle");
	if (cfg.conns == 0 && (cfg.rate > 0 || cfg.max_requests))
		usage_error("--rate and -n need active connections (-c)");
	if (cfg.threads > cfg.conns + cfg.idle)
		usage_error("-t %d: more threads than connections", cfg.threads);
	if (cfg.think != THINK_NONE && cfg.rate > 0)
		usage_error("--think waits after each answer (closed loop); --rate sends on a "
			    "schedule (open loop): one or the other");
	if (cfg.think != THINK_NONE && cfg.use == USE_CONN_PER_REQUEST)
		usage_error("--think waits on a kept-alive connection: not with --close");
	cfg.loop = cfg.rate > 0 ? LOOP_OPEN : LOOP_CLOSED;
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "idle", required_argument, NULL, OPT_IDLE },
		{ "close", no_argument, NULL, OPT_CLOSE },
		{ "pipeline", required_argument, NULL, OPT_PIPELINE },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "warmup", required_argument, NULL, OPT_WARMUP },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "header", no_argument, NULL, OPT_HEADER },
		{ "tolerate", no_argument, NULL, OPT_TOLERATE },
		{ "engine", required_argument, NULL, OPT_ENGINE },
		{ "think", required_argument, NULL, OPT_THINK },
		{ "sources", required_argument, NULL, OPT_SOURCES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_d = false;
	int o;
	cfg.conns = DEFAULT_CONNS;
	cfg.threads = 1;
	cfg.seconds = DEFAULT_SECONDS;
	cfg.pipeline = 1;
	cfg.timeout_ms = DEFAULT_TIMEOUT;
	cfg.engine = &engine_epoll;
	while ((o = getopt_long(argc, argv, "c:t:d:n:h", longopts, NULL)) != -1) {
		switch (o) {
		case 'c': cfg.conns = (int)parse_int("-c", optarg, 0, 10000000); break;
		case 't': cfg.threads = (int)parse_int("-t", optarg, 1, 1024); break;
		case 'd':
			cfg.seconds = parse_num("-d", optarg, 0.001);
			have_d = true;
			break;
		case 'n': cfg.max_requests = (uint64_t)parse_int("-n", optarg, 1, LONG_MAX); break;
		case 'h': usage(); exit(0);
		case OPT_IDLE: cfg.idle = (int)parse_int("--idle", optarg, 0, 10000000); break;
		case OPT_CLOSE: cfg.use = USE_CONN_PER_REQUEST; break;
		case OPT_PIPELINE:
			cfg.pipeline = (int)parse_int("--pipeline", optarg, 1, MAX_PIPELINE);
			break;
		case OPT_RATE: cfg.rate = parse_num("--rate", optarg, 0.001); break;
		case OPT_THINK: parse_think(optarg); break;
		case OPT_SOURCES: cfg.sources = (int)parse_int("--sources", optarg, 1, 254); break;
		case OPT_TIMEOUT:
			cfg.timeout_ms = (int)parse_int("--timeout", optarg, 1, 3600000);
			break;
		case OPT_WARMUP: cfg.warmup = parse_num("--warmup", optarg, 0); break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") == 0)
				cfg.format = FMT_TEXT;
			else if (strcmp(optarg, "csv") == 0)
				cfg.format = FMT_CSV;
			else if (strcmp(optarg, "json") == 0)
				cfg.format = FMT_JSON;
			else
				usage_error("--format: text, csv or json, not '%s'", optarg);
			break;
		case OPT_HEADER: cfg.header = true; break;
		case OPT_TOLERATE: cfg.tolerate = true; break;
		case OPT_ENGINE:
			if (strcmp(optarg, engine_epoll.name) == 0)
				cfg.engine = &engine_epoll;
			else if (strcmp(optarg, engine_uring.name) == 0)
				cfg.engine = &engine_uring;
			else
				usage_error("--engine: epoll or io_uring, not '%s'", optarg);
			break;
		default: usage_error("unknown option");
		}
	}
	if (optind != argc - 1)
		usage_error(optind == argc ? "no URL given" : "one URL only");
	check_args(have_d);
	parse_url(argv[optind]);
	if (cfg.sources > 0 && !cfg.loopback)
		usage_error("--sources spreads over 127.0.0.x: only for a loopback URL");
}

/* ---------------------------------------------------------------- results */
/* Every thread's counters merged into one struct totals. */

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void summarize(struct summary *s, const struct hist *h)
{
	s->count = hist_count(h);
	s->min = (double)hist_min(h) / US;
	s->p50 = (double)hist_percentile(h, 50) / US;
	s->p90 = (double)hist_percentile(h, 90) / US;
	s->p99 = (double)hist_percentile(h, 99) / US;
	s->p999 = (double)hist_percentile(h, 99.9) / US;
	s->max = (double)hist_max(h) / US;
	s->mean = hist_mean(h) / US;
}

static int by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Requests per connection, over the established active connections that
   were sent a request: min, median, max, how many got no answer at all,
   and Jain's index (sum x)^2 / (n * sum x^2), 1 when all got the same
   share, 1/n when one got everything; 0 when nothing was answered. */
static void fairness(const struct worker *ws, struct totals *t)
{
	uint64_t *x = calloc((size_t)cfg.conns + 1, sizeof *x);
	size_t n = 0;
	double sum = 0, squares = 0;
	if (!x)
		die("calloc");
	for (int i = 0; i < cfg.threads; i++)
		for (int k = ws[i].nidle; k < ws[i].nidle + ws[i].nactive; k++) {
			const struct lg_conn *c = &ws[i].conns[k];
			if (!c->ever || !c->asked)
				continue;
			x[n++] = c->answered;
			sum += (double)c->answered;
			squares += (double)c->answered * (double)c->answered;
			t->conns_starved += c->answered == 0;
		}
	if (n > 0) {
		qsort(x, n, sizeof *x, by_value);
		t->conn_req_min = x[0];
		t->conn_req_max = x[n - 1];
		t->conn_req_median =
			n % 2 ? (double)x[n / 2] : ((double)x[n / 2 - 1] + (double)x[n / 2]) / 2;
		t->fairness = squares > 0 ? sum * sum / ((double)n * squares) : 0;
	}
	free(x);
}

/* The run as asked, for the report. */
static void describe(struct totals *t)
{
	t->url = cfg.url;
	t->mode = mode_name();
	t->engine = cfg.engine->name;
	t->threads = (uint64_t)cfg.threads;
	t->conns = (uint64_t)cfg.conns;
	t->idle = (uint64_t)cfg.idle;
	t->pipeline = (uint64_t)cfg.pipeline;
	t->max_requests = cfg.max_requests;
	t->timeout_ms = (uint64_t)cfg.timeout_ms;
	t->rate = cfg.rate;
	t->duration_s = cfg.max_requests ? 0 : cfg.seconds;
	t->warmup_s = cfg.warmup;
	t->think_ms = (double)cfg.think_ns / MS;
	t->think_dist = cfg.think == THINK_EXP	   ? "exp"
			: cfg.think == THINK_FIXED ? "fixed"
						   : "none";
	long total = (long)cfg.conns + cfg.idle, per = per_source(), n = (total + per - 1) / per;
	t->sources = cfg.loopback ? (uint64_t)(n < 254 ? n : 254) : 1;
}

/* The rate Little's law predicts for a closed loop of kept-alive
   connections: each one has `pipeline` requests out for the mean latency,
   then waits the think time, so rate = established * pipeline / (think +
   mean latency). 0 where it does not apply: open loop (--rate sets the
   rate), --close (a connect and a close are in every cycle too), or no
   answer to measure a latency from. */
static double little_rate(const struct totals *t)
{
	if (cfg.loop != LOOP_CLOSED || cfg.use != USE_KEEP_ALIVE || t->lat.count == 0)
		return 0;
	double cycle_s = t->think_ms / 1e3 + t->lat.mean / 1e6;
	return cycle_s > 0 ? (double)t->established * (double)cfg.pipeline / cycle_s : 0;
}

static void merge(const struct worker *ws, struct totals *t)
{
	struct hist *lat = hist_new(), *conn_lat = hist_new();
	if (!lat || !conn_lat)
		die("hist_new");
	double think_waited = 0;
	uint64_t thinks = 0;
	memset(t, 0, sizeof *t);
	describe(t);
	for (int i = 0; i < cfg.threads; i++) {
		const struct worker *w = &ws[i];
		t->requests += w->requests;
		t->non2xx += w->non2xx;
		t->bytes += w->bytes;
		t->established += w->established;
		t->connects_over_1s += w->connects_over_1s;
		for (int e = 0; e < NERR; e++)
			t->err[e] += w->err[e];
		t->idle_held += (uint64_t)w->idle_held;
		t->idle_closed += (uint64_t)w->idle_closed;
		think_waited += (double)w->think_waited_ns;
		thinks += w->thinks;
		if (w->window_s > t->seconds)
			t->seconds = w->window_s;
		hist_merge(lat, w->lat);
		hist_merge(conn_lat, w->conn_lat);
	}
	for (int e = 0; e < NERR; e++)
		t->errors += t->err[e];
	t->peak = (uint64_t)workers_peak();
	t->req_per_s = t->seconds > 0 ? (double)t->requests / t->seconds : 0.0;
	summarize(&t->lat, lat);
	summarize(&t->connect, conn_lat);
	t->think_waited_ms = thinks ? think_waited / (double)thinks / MS : 0;
	t->little_req_per_s = little_rate(t);
	hist_free(lat);
	hist_free(conn_lat);
	fairness(ws, t);
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) < 0)
		die("getrusage");
	t->cpu_user = tv_s(ru.ru_utime);
	t->cpu_sys = tv_s(ru.ru_stime);
}

/* 0 for a clean run; 1 when anything fell short (errors explain missing
   answers, so they come first); else 3 when a connection was starved: a run
   that looks clean in its totals while a connection waited the whole time
   (blocking serves one at a time). With --close a slot connects only when it
   has a request to send, so there a shortfall shows as connect errors. */
static int exit_status(const struct totals *t)
{
	bool conns_ok = cfg.use == USE_CONN_PER_REQUEST || t->established == (uint64_t)cfg.conns;
	bool clean =
		t->errors == 0 && t->non2xx == 0 && conns_ok && t->idle_held == (uint64_t)cfg.idle;
	const char *tolerated = cfg.tolerate ? "; tolerated" : "";
	int status = !clean ? 1 : t->conns_starved > 0 ? EXIT_STARVED : 0;
	if (status == 1 && cfg.format == FMT_TEXT)
		fprintf(stderr,
			"%s: the run was not clean (errors, non-2xx answers, or "
			"fewer connections than asked)%s\n",
			program_name, tolerated);
	if (status == EXIT_STARVED) /* in every format: nothing else shows it */
		fprintf(stderr,
			"%s: %" PRIu64 " established connection(s) got no answer "
			"at all (starved)%s\n",
			program_name, t->conns_starved, tolerated);
	return cfg.tolerate ? 0 : status;
}

/* ---------------------------------------------------------------- main */

static void on_signal(int sig)
{
	(void)sig;
	workers_stop();
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		die("sigaction");
}

/* Starts one worker per thread, each with its share of the connections,
   and waits for all of them. */
static void run_workers(struct worker *ws)
{
	int first = 0, per_src = per_source(), rc;
	workers_setup(cfg.threads);
	for (int i = 0; i < cfg.threads; i++) {
		worker_init(&ws[i], i, first, per_src);
		first += ws[i].nidle + ws[i].nactive;
	}
	for (int i = 0; i < cfg.threads; i++)
		if ((rc = pthread_create(&ws[i].tid, NULL, worker_main, &ws[i])) != 0)
			die_en(rc, "pthread_create");
	for (int i = 0; i < cfg.threads; i++)
		if ((rc = pthread_join(ws[i].tid, NULL)) != 0)
			die_en(rc, "pthread_join");
	workers_teardown();
}

int main(int argc, char **argv)
{
	program_name = "loadgen";
	parse_args(argc, argv);
	cfg.engine->probe(); /* a kernel without it: one line, exit 2 */
	build_request();
	make_room();
	install_signals();

	struct worker *ws = calloc((size_t)cfg.threads, sizeof *ws);
	if (!ws)
		die("calloc");
	run_workers(ws);

	struct totals t;
	merge(ws, &t);
	report_print(&t);
	int status = exit_status(&t);
	for (int i = 0; i < cfg.threads; i++)
		worker_free(&ws[i]);
	free(ws);
	free(cfg.req);
	return status;
}
