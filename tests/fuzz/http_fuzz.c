/*
 * http_fuzz.c - a libFuzzer target over the request framing and parsing
 * (servers/common/http.c): `make fuzz` builds it with clang and runs it.
 *
 * libFuzzer calls LLVMFuzzerTestOneInput() with byte strings it mutates,
 * keeping those that reach new code; ASan and UBSan turn a stray read or an
 * overflow into a crash. The input is what a client sends on one connection.
 * Its first byte picks the size of the pieces it arrives in (1 to 256 bytes),
 * because a server frames requests incrementally, one read at a time.
 *
 * Beyond "does not crash", it checks what the servers rely on, and aborts
 * (a crash libFuzzer reports and saves) when one does not hold:
 *  - http_frame() consumes at most what it was given, and asks for more only
 *    while it holds no more than HTTP_MAX_HEAD bytes (else a connection's
 *    buffer could fill with no verdict: conn.h sizes it on that promise);
 *  - the status is one the servers answer with, and every answer fits
 *    HTTP_MAX_ANSWER and starts with a status line;
 *  - framing the bytes as they arrive in pieces gives the same requests as
 *    framing them all at once (up to the first error, after which the
 *    connection closes and the rest is never looked at).
 *
 * The same file, linked with tests/fuzz/replay.c instead of libFuzzer, is
 * bin/http_replay: tests/fuzz.bats replays the seed corpus and every input
 * that ever crashed (tests/fuzz/crashes/) through it in every build.
 */
#include "http.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_SIZE     (2 * HTTP_MAX_HEAD) /* like a connection's input buffer */
#define MAX_REQUESTS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What one framed request came to: enough to compare two framings. */
struct framed {
	int status;
	size_t used; /* 0 for an error: the bytes it took depend on the pieces */
	bool head, keep_alive, http10;
	unsigned long long body;
};

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "http_fuzz: broken promise: %s\n", what);
		abort();
	}
}

static bool same(const struct framed *a, const struct framed *b)
{
	return a->status == b->status && a->used == b->used && a->head == b->head &&
	       a->keep_alive == b->keep_alive && a->http10 == b->http10 && a->body == b->body;
}

static void check_answer(const struct http_request *req)
{
	char out[HTTP_MAX_ANSWER];
	size_t n;

	check(req->status == 0 || req->status == 400 || req->status == 405 || req->status == 431 ||
		      req->status == 501 || req->status == 505,
	      "a status the servers answer with");
	n = http_answer(req, out);
	check(n > 0 && n < HTTP_MAX_ANSWER, "the answer fits HTTP_MAX_ANSWER");
	check(memcmp(out, "HTTP/1.1 ", 9) == 0, "the answer starts with a status line");
}

/* Frames data the way conn.c does: requests one after another, bodies skipped,
   bytes arriving `piece` at a time into a buffer of BUF_SIZE. Fills out[] and
   returns how many requests were framed, stopping after the first error. */
static int frame_all(const uint8_t *data, size_t size, size_t piece, struct framed *out)
{
	static char buf[BUF_SIZE];
	struct http_framer f;
	size_t len = 0, fed = 0; /* bytes in buf; bytes of data taken so far */
	unsigned long long body_left = 0;
	int n = 0;

	memset(&f, 0, sizeof f);
	while (n < MAX_REQUESTS) {
		struct http_request req;
		size_t used;

		if (body_left > 0 && len > 0) { /* drop body bytes */
			size_t k = len < body_left ? len : body_left;

			memmove(buf, buf + k, len - k);
			len -= k;
			body_left -= k;
			continue;
		}
		used = len > 0 && body_left == 0 ? http_frame(&f, buf, len, &req) : 0;
		check(used <= len, "http_frame consumes no more than it was given");
		if (used == 0) { /* a read: as much as arrived and fits */
			size_t k = size - fed < piece ? size - fed : piece;

			check(len <= HTTP_MAX_HEAD,
			      "http_frame asks for more only within HTTP_MAX_HEAD");
			if (k > BUF_SIZE - len)
				k = BUF_SIZE - len;
			if (k == 0)
				break; /* all of it sent */
			memcpy(buf + len, data + fed, k);
			len += k;
			fed += k;
			continue;
		}
		check_answer(&req);
		out[n++] = (struct framed){ req.status, req.status ? 0 : used,
					    req.head,	req.keep_alive,
					    req.http10, req.body };
		if (req.status)
			break; /* a server answers the error and closes */
		body_left = req.body;
		memmove(buf, buf + used, len - used);
		len -= used;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct framed whole[MAX_REQUESTS], pieces[MAX_REQUESTS];
	size_t piece;
	int n_whole, n_pieces;

	if (size < 1)
		return 0;
	piece = (size_t)data[0] + 1;
	data++;
	size--;
	n_whole = frame_all(data, size, BUF_SIZE, whole);
	n_pieces = frame_all(data, size, piece, pieces);
	/* the same requests, however the bytes arrived (a shorter run is one whose
	   buffer would have overflowed first, or that hit MAX_REQUESTS) */
	for (int i = 0; i < n_whole && i < n_pieces; i++)
		check(same(&whole[i], &pieces[i]),
		      "the same requests, whether the bytes come at once or in pieces");
	return 0;
}
