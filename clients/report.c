/*
 * report.c - loadgen's output: text, CSV and JSON; see report.h.
 *
 * One table, `fields`, defines every number of the CSV row and of the JSON
 * object: its CSV column, its JSON key ("group.key" puts it inside the
 * object "group"), its type and format, and its offset in struct totals.
 * The table is in CSV column order; a field with no CSV name is in the JSON
 * only (the JSON carries a few more, such as the configured timeout), one
 * with no JSON key in the CSV only. JSON objects are written in the order
 * their first field appears in the table.
 *
 * The text summary is laid out for a reader, in wrk's manner, from the same
 * struct totals.
 */
#include "report.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

enum kind { K_STR, K_U64, K_DBL };

struct field {
	const char *csv;  /* column name; NULL: JSON only */
	const char *json; /* "key" or "group.key"; NULL: CSV only */
	enum kind kind;
	const char *fmt; /* printf format of a K_DBL */
	size_t off;	 /* offsetof(struct totals, ...) */
};

#define T(member) offsetof(struct totals, member)

/* A table reads best in aligned columns: */
/* clang-format off */
static const struct field fields[] = {
	{ "url",                 "config.url",          K_STR, NULL,   T(url) },
	{ "threads",             "config.threads",      K_U64, NULL,   T(threads) },
	{ NULL,                  "config.conns",        K_U64, NULL,   T(conns) },
	{ NULL,                  "config.idle",         K_U64, NULL,   T(idle) },
	{ "conns_asked",         "conns.asked",         K_U64, NULL,   T(conns) },
	{ "conns_established",   "conns.established",   K_U64, NULL,   T(established) },
	{ "conns_peak",          "conns.peak",          K_U64, NULL,   T(peak) },
	{ "idle_asked",          "idle.asked",          K_U64, NULL,   T(idle) },
	{ "idle_held",           "idle.held",           K_U64, NULL,   T(idle_held) },
	{ "idle_closed",         "idle.closed",         K_U64, NULL,   T(idle_closed) },
	{ "mode",                "config.mode",         K_STR, NULL,   T(mode) },
	{ "pipeline",            "config.pipeline",     K_U64, NULL,   T(pipeline) },
	{ "rate",                "config.rate",         K_DBL, "%g",   T(rate) },
	{ NULL,                  "config.duration_s",   K_DBL, "%g",   T(duration_s) },
	{ NULL,                  "config.max_requests", K_U64, NULL,   T(max_requests) },
	{ NULL,                  "config.timeout_ms",   K_U64, NULL,   T(timeout_ms) },
	{ NULL,                  "config.warmup_s",     K_DBL, "%g",   T(warmup_s) },
	{ "seconds",             "seconds",             K_DBL, "%.3f", T(seconds) },
	{ "requests",            "requests",            K_U64, NULL,   T(requests) },
	{ "non2xx",              "non2xx",              K_U64, NULL,   T(non2xx) },
	{ "bytes",               "bytes",               K_U64, NULL,   T(bytes) },
	{ "req_per_s",           "req_per_s",           K_DBL, "%.2f", T(req_per_s) },
	{ "err_refused",         "errors.refused",      K_U64, NULL,   T(err[ERR_REFUSED]) },
	{ "err_connect_timeout", "errors.connect_timeout", K_U64, NULL, T(err[ERR_CONNECT_TIMEOUT]) },
	{ "err_addr_unavailable", "errors.addr_unavailable", K_U64, NULL, T(err[ERR_ADDR_UNAVAIL]) },
	{ "err_emfile",          "errors.emfile",       K_U64, NULL,   T(err[ERR_EMFILE]) },
	{ "err_reset",           "errors.reset",        K_U64, NULL,   T(err[ERR_RESET]) },
	{ "err_eof",             "errors.eof",          K_U64, NULL,   T(err[ERR_EOF]) },
	{ "err_timeout",         "errors.timeout",      K_U64, NULL,   T(err[ERR_TIMEOUT]) },
	{ "err_status",          "errors.status",       K_U64, NULL,   T(err[ERR_STATUS]) },
	{ "err_parse",           "errors.parse",        K_U64, NULL,   T(err[ERR_PARSE]) },
	{ NULL,                  "latency_us.count",    K_U64, NULL,   T(lat.count) },
	{ NULL,                  "latency_us.min",      K_DBL, "%.1f", T(lat.min) },
	{ "lat_p50_us",          "latency_us.p50",      K_DBL, "%.1f", T(lat.p50) },
	{ "lat_p90_us",          "latency_us.p90",      K_DBL, "%.1f", T(lat.p90) },
	{ "lat_p99_us",          "latency_us.p99",      K_DBL, "%.1f", T(lat.p99) },
	{ "lat_p999_us",         "latency_us.p999",     K_DBL, "%.1f", T(lat.p999) },
	{ "lat_max_us",          "latency_us.max",      K_DBL, "%.1f", T(lat.max) },
	{ "lat_mean_us",         "latency_us.mean",     K_DBL, "%.1f", T(lat.mean) },
	{ NULL,                  "connect_us.count",    K_U64, NULL,   T(connect.count) },
	{ NULL,                  "connect_us.min",      K_DBL, "%.1f", T(connect.min) },
	{ "connect_p50_us",      "connect_us.p50",      K_DBL, "%.1f", T(connect.p50) },
	{ NULL,                  "connect_us.p90",      K_DBL, "%.1f", T(connect.p90) },
	{ "connect_p99_us",      "connect_us.p99",      K_DBL, "%.1f", T(connect.p99) },
	{ NULL,                  "connect_us.p999",     K_DBL, "%.1f", T(connect.p999) },
	{ "connect_max_us",      "connect_us.max",      K_DBL, "%.1f", T(connect.max) },
	{ NULL,                  "connect_us.mean",     K_DBL, "%.1f", T(connect.mean) },
	{ "cpu_user_s",          "cpu.user_s",          K_DBL, "%.3f", T(cpu_user) },
	{ "cpu_sys_s",           "cpu.sys_s",           K_DBL, "%.3f", T(cpu_sys) },
	{ "err_other",           "errors.other",        K_U64, NULL,   T(err[ERR_OTHER]) },
	{ NULL,                  "errors.total",        K_U64, NULL,   T(errors) },
	{ "conn_req_min",        "conn_req_min",        K_U64, NULL,   T(conn_req_min) },
	{ "conn_req_median",     "conn_req_median",     K_DBL, "%.1f", T(conn_req_median) },
	{ "conn_req_max",        "conn_req_max",        K_U64, NULL,   T(conn_req_max) },
	{ "conns_starved",       "conns_starved",       K_U64, NULL,   T(conns_starved) },
	{ "fairness",            "fairness",            K_DBL, "%.4f", T(fairness) },
	{ "connects_over_1s",    "connects_over_1s",    K_U64, NULL,   T(connects_over_1s) },
	{ "engine",              "config.engine",       K_STR, NULL,   T(engine) },
	{ "think_ms",            "config.think_ms",     K_DBL, "%g",   T(think_ms) },
	{ "think_dist",          "config.think_dist",   K_STR, NULL,   T(think_dist) },
	{ "think_waited_ms",     "think_waited_ms",     K_DBL, "%.3f", T(think_waited_ms) },
	{ "little_req_per_s",    "little_req_per_s",    K_DBL, "%.2f", T(little_req_per_s) },
	{ "sources",             "config.sources",      K_U64, NULL,   T(sources) },
};
/* clang-format on */

#define NFIELDS (sizeof fields / sizeof fields[0])

/* A CSV string: quoted when it holds a comma, a quote or a newline. */
static void csv_str(const char *s)
{
	if (!strpbrk(s, ",\"\n")) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* Prints the value of f in t; strings with `str` (CSV or JSON quoting). */
static void put_value(const struct field *f, const struct totals *t, void (*str)(const char *))
{
	const char *p = (const char *)t + f->off;
	const char *s;
	uint64_t u;
	double d;
	switch (f->kind) {
	case K_STR:
		memcpy(&s, p, sizeof s);
		str(s);
		break;
	case K_U64:
		memcpy(&u, p, sizeof u);
		printf("%" PRIu64, u);
		break;
	case K_DBL:
		memcpy(&d, p, sizeof d);
		printf(f->fmt, d);
		break;
	}
}

static void print_csv(const struct totals *t)
{
	const char *sep = "";
	if (cfg.header) {
		for (size_t i = 0; i < NFIELDS; i++)
			if (fields[i].csv) {
				printf("%s%s", sep, fields[i].csv);
				sep = ",";
			}
		putchar('\n');
	}
	sep = "";
	for (size_t i = 0; i < NFIELDS; i++)
		if (fields[i].csv) {
			fputs(sep, stdout);
			put_value(&fields[i], t, csv_str);
			sep = ",";
		}
	putchar('\n');
}

/* Returns the length of the group of a JSON key ("conns" of "conns.asked"),
   0 for a top-level key. */
static size_t group_len(const char *key)
{
	const char *dot = strchr(key, '.');
	return dot ? (size_t)(dot - key) : 0;
}

/* Returns true if fields[i] is in the same JSON group as fields[j]. */
static bool same_group(size_t i, size_t j)
{
	size_t n = group_len(fields[i].json);
	return n > 0 && n == group_len(fields[j].json) &&
	       strncmp(fields[i].json, fields[j].json, n) == 0;
}

/* Returns true if the group of fields[i] was written with an earlier field. */
static bool group_done(size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (fields[j].json && same_group(i, j))
			return true;
	return false;
}

/* Writes the object of the group of fields[i]: every field of that group. */
static void json_group(size_t i, const struct totals *t)
{
	size_t n = group_len(fields[i].json);
	const char *sep = "";
	printf("\"%.*s\":{", (int)n, fields[i].json);
	for (size_t j = i; j < NFIELDS; j++)
		if (fields[j].json && same_group(i, j)) {
			printf("%s\"%s\":", sep, fields[j].json + n + 1);
			put_value(&fields[j], t, json_str);
			sep = ",";
		}
	putchar('}');
}

static void print_json(const struct totals *t)
{
	const char *sep = "";
	putchar('{');
	for (size_t i = 0; i < NFIELDS; i++) {
		if (!fields[i].json || group_done(i))
			continue;
		fputs(sep, stdout);
		sep = ",";
		if (group_len(fields[i].json)) {
			json_group(i, t);
		} else {
			printf("\"%s\":", fields[i].json);
			put_value(&fields[i], t, json_str);
		}
	}
	puts("}");
}

static void text_summary(const char *name, const struct summary *s)
{
	printf("  %-10s %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f\n", name, s->p50, s->p90, s->p99,
	       s->p999, s->max, s->mean);
}

static void text_errors(const struct totals *t)
{
	const char *sep = "";
	printf("  errors: %" PRIu64 " (", t->errors);
	for (int e = 0; e < NERR; e++)
		if (t->err[e]) {
			printf("%s%s %" PRIu64, sep, err_name[e], t->err[e]);
			sep = ", ";
		}
	printf(")\n");
}

/* --think: the wait, and the rate beside the one Little's law predicts. */
static void text_think(const struct totals *t)
{
	printf("  think:       %s, %g ms%s; waited %.2f ms on average\n", t->think_dist,
	       t->think_ms, strcmp(t->think_dist, "exp") == 0 ? " mean" : "", t->think_waited_ms);
	if (t->little_req_per_s <= 0)
		return;
	printf("  Little's law: %" PRIu64 " connections x %" PRIu64 " / (%g ms think + %.2f ms "
	       "latency) = %.0f req/s predicted; achieved %.1f%%\n",
	       t->established, t->pipeline, t->think_ms, t->lat.mean / 1e3, t->little_req_per_s,
	       100.0 * t->req_per_s / t->little_req_per_s);
}

static void print_text(const struct totals *t)
{
	printf("Running %.1fs test @ %s\n", t->seconds, t->url);
	printf("  %" PRIu64 " threads (%s), %" PRIu64 " connections, mode %s, pipeline %" PRIu64,
	       t->threads, t->engine, t->conns, t->mode, t->pipeline);
	if (t->rate > 0)
		printf(", rate %.0f/s", t->rate);
	printf("\n  connections: %" PRIu64 " asked, %" PRIu64 " established, %" PRIu64 " peak\n",
	       t->conns, t->established, t->peak);
	if (t->idle)
		printf("  idle:        %" PRIu64 " asked, %" PRIu64 " held, %" PRIu64
		       " closed by the server\n",
		       t->idle, t->idle_held, t->idle_closed);
	if (t->sources > 1)
		printf("  sources:     127.0.0.1 to 127.0.0.%" PRIu64 "\n", t->sources);
	printf("  fairness:    %" PRIu64 " / %.1f / %" PRIu64 " requests per connection "
	       "(min / median / max), %" PRIu64 " starved, Jain's index %.4f\n",
	       t->conn_req_min, t->conn_req_median, t->conn_req_max, t->conns_starved, t->fairness);
	printf("  %-10s %9s %9s %9s %9s %9s %9s\n", "(us)", "p50", "p90", "p99", "p99.9", "max",
	       "mean");
	text_summary("latency", &t->lat);
	text_summary("connect", &t->connect);
	if (t->connects_over_1s)
		printf("  connects over 1 s or timed out: %" PRIu64 "\n", t->connects_over_1s);
	printf("  %" PRIu64 " requests in %.2fs, %.2f MB read\n", t->requests, t->seconds,
	       (double)t->bytes / 1e6);
	if (t->non2xx)
		printf("  non-2xx responses: %" PRIu64 "\n", t->non2xx);
	if (t->errors)
		text_errors(t);
	if (strcmp(t->think_dist, "none") != 0)
		text_think(t);
	printf("Requests/sec: %10.2f\n", t->req_per_s);
	printf("Transfer/sec: %10.2f MB\n",
	       t->seconds > 0 ? (double)t->bytes / 1e6 / t->seconds : 0);
	printf("Client CPU:   user %.2fs, sys %.2fs", t->cpu_user, t->cpu_sys);
	if (t->requests)
		printf(", %.2f us per request",
		       (t->cpu_user + t->cpu_sys) * 1e6 / (double)t->requests);
	printf("\n");
}

void report_print(const struct totals *t)
{
	switch (cfg.format) {
	case FMT_TEXT: print_text(t); break;
	case FMT_CSV: print_csv(t); break;
	case FMT_JSON: print_json(t); break;
	}
}
