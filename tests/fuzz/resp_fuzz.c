/*
 * resp_fuzz.c - a libFuzzer target over loadgen's response parser
 * (clients/resp.c): `make fuzz` builds it with clang and runs it beside the
 * request target (http_fuzz.c).
 *
 * The input is what a server sends on one connection. Its first byte picks
 * the size of the pieces it arrives in (1 to 256 bytes), because loadgen
 * parses answers as they are read, and a head or a body may be cut anywhere.
 *
 * Beyond "does not crash", it checks what loadgen's worker relies on, and
 * aborts (a crash libFuzzer reports and saves) when one does not hold:
 *  - resp_parse() takes at most the bytes it was given, and all of them when
 *    it says RESP_MORE (the worker drops what it was not told about);
 *  - an incomplete head never holds more than RESP_MAX_HEAD bytes;
 *  - a finished response has a status from 200 to 599;
 *  - parsing the bytes as they arrive in pieces gives the same responses
 *    (status, keep-alive, where each ends), the same verdict and the same
 *    state at the end as parsing them all at once.
 *
 * Linked with tests/fuzz/replay.c instead of libFuzzer, the same file is
 * bin/resp_replay: tests/fuzz.bats replays tests/fuzz/resp_corpus/ and
 * tests/fuzz/resp_crashes/ through it in every build.
 */
#include "resp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESPONSES 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What parsing one stream came to: enough to compare two parses. */
struct outcome {
	int n; /* responses finished */
	struct {
		uint16_t status;
		bool keep;
		size_t end;
	} r[MAX_RESPONSES];
	enum resp_result last; /* RESP_MORE, or the error that ended it */
	bool in_body;
	uint32_t body_left;
	uint16_t carry_len;
};

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "resp_fuzz: broken promise: %s\n", what);
		abort();
	}
}

/* Feeds p[0..n) to the parser as loadgen does after one read; `base` is
   where p starts in the stream. Returns false once the stream is bad. */
static bool feed(struct resp *r, const uint8_t *p, size_t n, size_t base, struct outcome *o)
{
	while (n > 0) {
		size_t used = 0;
		enum resp_result res = resp_parse(r, (const char *)p, n, &used);
		check(r->carry_len <= RESP_MAX_HEAD, "a partial head fits RESP_MAX_HEAD");
		if (res == RESP_BAD_STATUS || res == RESP_BAD_HEADER) {
			o->last = res;
			return false;
		}
		check(used <= n, "resp_parse takes no more than it was given");
		if (res == RESP_MORE) {
			check(used == n, "RESP_MORE takes every byte");
			return true;
		}
		check(used > 0, "a finished response took at least one byte");
		check(r->status >= 200 && r->status <= 599, "a finished response is 2xx to 5xx");
		if (o->n < MAX_RESPONSES) {
			o->r[o->n].status = r->status;
			o->r[o->n].keep = r->keep;
			o->r[o->n].end = base + used;
		}
		o->n++;
		p += used;
		n -= used;
		base += used;
	}
	return true;
}

/* Parses data[0..size) arriving `piece` bytes at a time into *o. */
static void parse_all(const uint8_t *data, size_t size, size_t piece, struct outcome *o)
{
	struct resp r;
	memset(&r, 0, sizeof r);
	memset(o, 0, sizeof *o);
	o->last = RESP_MORE;
	for (size_t off = 0; off < size; off += piece) {
		size_t k = size - off < piece ? size - off : piece;
		if (!feed(&r, data + off, k, off, o))
			break;
	}
	o->in_body = r.in_body;
	o->body_left = r.body_left;
	o->carry_len = r.carry_len;
	resp_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct outcome whole, pieces;
	if (size < 1)
		return 0;
	size_t piece = (size_t)data[0] + 1;
	parse_all(data + 1, size - 1, size - 1 ? size - 1 : 1, &whole);
	parse_all(data + 1, size - 1, piece, &pieces);
	check(whole.n == pieces.n, "as many responses, whole or in pieces");
	for (int i = 0; i < whole.n && i < MAX_RESPONSES; i++)
		check(whole.r[i].status == pieces.r[i].status &&
			      whole.r[i].keep == pieces.r[i].keep &&
			      whole.r[i].end == pieces.r[i].end,
		      "the same responses, whole or in pieces");
	check(whole.last == pieces.last, "the same verdict, whole or in pieces");
	if (whole.last == RESP_MORE)
		check(whole.in_body == pieces.in_body && whole.body_left == pieces.body_left &&
			      whole.carry_len == pieces.carry_len,
		      "the same state at the end");
	return 0;
}
