/*
 * resp.h - the HTTP/1.x response parser of loadgen: fed the bytes of one
 * connection as they arrive, in pieces of any size; does no I/O.
 *
 * It checks what loadgen counts on before it calls a response valid: a status
 * line "HTTP/1.0 NNN" or "HTTP/1.1 NNN" with 200 <= NNN <= 599, a head that
 * ends within RESP_MAX_HEAD bytes, one numeric Content-Length (none only for
 * 204 and 304), and a body of exactly that length. Chunked bodies are refused:
 * the servers of this suite never send them. Whether the server keeps the
 * connection comes from the version and the tokens of the Connection header.
 *
 *   bytes ──> resp_parse ──> RESP_DONE   one response complete: status, keep
 *                 │          RESP_MORE   every byte taken, the response goes on
 *                 │          RESP_BAD_*  not a valid response: close the line
 *                 └── an incomplete head is copied into `carry` (malloc'd once,
 *                     RESP_MAX_HEAD bytes) and finished from the next piece.
 */
#ifndef RESP_H
#define RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESP_MAX_HEAD 8192 /* a longer head is RESP_BAD_HEADER */

enum resp_result {
	RESP_DONE,	 /* a whole response ended after *used bytes */
	RESP_MORE,	 /* all n bytes taken; the response is not over yet */
	RESP_BAD_STATUS, /* not an "HTTP/1.x NNN" status line, or a 1xx */
	RESP_BAD_HEADER, /* bad header, no Content-Length, head too long */
};

/* One connection's parse state; zero it (or resp_reset) before the first byte. */
struct resp {
	bool in_body;	    /* the head is parsed, body_left bytes to go */
	bool keep;	    /* the server keeps the connection after this answer */
	uint16_t status;    /* of the response being read (or just done) */
	uint16_t carry_len; /* bytes of an incomplete head waiting in carry */
	uint32_t body_left;
	char *carry;
};

/* Parses p[0..n), n > 0. Returns RESP_DONE with *used = the bytes of the
   response that just ended (status and keep then describe it; the rest of p
   is the next response's), RESP_MORE with *used = n, or a RESP_BAD_* with
   *used unspecified (the connection cannot be parsed any further). */
enum resp_result resp_parse(struct resp *r, const char *p, size_t n, size_t *used);

/* Returns true between responses: no byte of a next one has arrived yet. */
bool resp_between(const struct resp *r);

/* Forgets a response in progress (the connection closed); keeps the carry buffer. */
void resp_reset(struct resp *r);

/* Frees the carry buffer; the parser may be used again after resp_reset. */
void resp_free(struct resp *r);

#endif
