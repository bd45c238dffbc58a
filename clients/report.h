/*
 * report.h - the results of a run, merged from every thread, and the three
 * ways loadgen prints them: a wrk-like text summary, one CSV row (with
 * --header, the header row first), or one JSON object.
 *
 * CSV and JSON are written from one table of fields in report.c (name,
 * format, where the value lies in struct totals), so a field cannot be in
 * one format and missing from the other. New CSV columns are only ever
 * added at the end of the row.
 */
#ifndef REPORT_H
#define REPORT_H

#include "loadgen.h"

/* A distribution, in microseconds, with its exact count. */
struct summary {
	uint64_t count;
	double min, p50, p90, p99, p999, max, mean;
};

/* Everything a report prints: the run as asked, then what happened. */
struct totals {
	const char *url, *mode, *engine;
	uint64_t threads, conns, idle, pipeline, max_requests, timeout_ms;
	double rate, duration_s, warmup_s;

	uint64_t established, peak, idle_held, idle_closed;
	uint64_t requests, non2xx, bytes, err[NERR], errors;
	double seconds, req_per_s, cpu_user, cpu_sys;
	struct summary lat, connect;
	uint64_t connects_over_1s; /* connects that took over 1 s or timed out */

	/* fairness, over the established active connections that were sent a
	   request: valid answers per connection in the measured window */
	uint64_t conn_req_min, conn_req_max, conns_starved;
	double conn_req_median;
	double fairness; /* Jain's index: 1 all equal, 1/n one got all */

	/* --think: the mean asked for, its distribution ("none", "fixed",
	   "exp"), and the mean of the waits that ended in the window */
	double think_ms, think_waited_ms;
	const char *think_dist;
	double little_req_per_s; /* the rate Little's law predicts; 0: n/a */
	uint64_t sources;	 /* source addresses the connections spread over */
};

/* Prints t to stdout in cfg.format (with cfg.header for CSV). */
void report_print(const struct totals *t);

#endif
