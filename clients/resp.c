/*
 * resp.c - the HTTP/1.x response parser of loadgen; the contract is in resp.h.
 *
 * A response is a head (status line, header lines, a blank line: CRLF CRLF)
 * and then exactly Content-Length bytes of body. The head is parsed only once
 * it is whole: most heads arrive in one read and are parsed where they lie;
 * a head split over reads is gathered in r->carry first. Header names are
 * case-insensitive (RFC 9110, 5.1), and so are the tokens of Connection, a
 * comma-separated list (RFC 9110, 7.6.1): "Connection: keep-alive, Upgrade"
 * keeps the line open, and a substring match would also take "closed" for
 * "close".
 */
#include "resp.h"
#include "toolkit.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Returns the length of the head (through the blank line) if p[0..n) holds
   a whole one, else 0. */
static size_t head_length(const char *p, size_t n)
{
	const char *end = memmem(p, n, "\r\n\r\n", 4);
	return end ? (size_t)(end - p) + 4 : 0;
}

/* Returns true if [p, e) equals the token `tok`, ignoring case. */
static bool token_is(const char *p, const char *e, const char *tok)
{
	size_t n = strlen(tok);
	return (size_t)(e - p) == n && strncasecmp(p, tok, n) == 0;
}

/* Applies the tokens of a Connection value [v, e) to r->keep: "close"
   anywhere wins, else "keep-alive" keeps; other tokens say nothing. */
static void connection_tokens(struct resp *r, const char *v, const char *e)
{
	bool keep_alive = false, close = false;
	while (v < e) {
		const char *comma = memchr(v, ',', (size_t)(e - v));
		const char *end = comma ? comma : e;
		const char *a = v, *b = end;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		close |= token_is(a, b, "close");
		keep_alive |= token_is(a, b, "keep-alive");
		v = comma ? comma + 1 : e;
	}
	if (close)
		r->keep = false;
	else if (keep_alive)
		r->keep = true;
}

/* Parses the value [v, e) of Content-Length: digits, then only blanks.
   Returns true with *len set, or false. */
static bool content_length(const char *v, const char *e, uint32_t *len)
{
	uint64_t n = 0;
	const char *d = v;
	for (; d < e && *d >= '0' && *d <= '9'; d++) {
		n = n * 10 + (uint64_t)(*d - '0');
		if (n > UINT32_MAX)
			return false;
	}
	if (d == v)
		return false;
	for (; d < e; d++)
		if (*d != ' ' && *d != '\t')
			return false;
	*len = (uint32_t)n;
	return true;
}

/* Parses one header line [p, e). Returns RESP_MORE (fine) or RESP_BAD_HEADER. */
static enum resp_result parse_response_header(struct resp *r, const char *p, const char *e,
					      bool *have_len)
{
	const char *colon = memchr(p, ':', (size_t)(e - p));
	if (!colon || colon == p)
		return RESP_BAD_HEADER;
	const char *v = colon + 1;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	if (token_is(p, colon, "Content-Length")) {
		/* two lengths are how request smuggling starts: refuse, even equal ones */
		if (*have_len || !content_length(v, e, &r->body_left))
			return RESP_BAD_HEADER;
		*have_len = true;
	} else if (token_is(p, colon, "Transfer-Encoding")) {
		return RESP_BAD_HEADER; /* chunked bodies: not what we test */
	} else if (token_is(p, colon, "Connection")) {
		connection_tokens(r, v, e);
	}
	return RESP_MORE;
}

/* Returns true if h[0..len) starts with "HTTP/1.0 NNN" or "HTTP/1.1 NNN",
   NNN from 100 to 599, then a space or the end of the line. */
static bool status_line(const char *h, size_t len)
{
	return len >= 17 && memcmp(h, "HTTP/1.", 7) == 0 && (h[7] == '0' || h[7] == '1') &&
	       h[8] == ' ' && h[9] >= '1' && h[9] <= '5' && h[10] >= '0' && h[10] <= '9' &&
	       h[11] >= '0' && h[11] <= '9' && (h[12] == ' ' || h[12] == '\r');
}

/* Parses a whole head h[0..len); sets status, keep, body_left and in_body.
   Returns RESP_MORE (fine) or a RESP_BAD_*. */
static enum resp_result parse_response_head(struct resp *r, const char *h, size_t len)
{
	const char *end = h + len - 2; /* the CRLF of the blank line */
	if (!status_line(h, len))
		return RESP_BAD_STATUS;
	r->status = (uint16_t)((h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0'));
	if (r->status < 200)
		return RESP_BAD_STATUS; /* we never send Expect: no 1xx is owed */
	r->keep = h[7] == '1';		/* HTTP/1.1 keeps by default, 1.0 closes */
	bool have_len = false;
	const char *p = (const char *)memchr(h, '\n', len) + 1;
	while (p < end) {
		const char *e = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
		if (parse_response_header(r, p, e, &have_len) != RESP_MORE)
			return RESP_BAD_HEADER;
		p = e + 2;
	}
	if (!have_len) {
		/* without a length the body would run to the FIN: not HTTP/1.1 keep-alive */
		if (r->status != 204 && r->status != 304)
			return RESP_BAD_HEADER;
		r->body_left = 0;
	}
	r->in_body = true;
	return RESP_MORE;
}

/* Takes the bytes of a head from p[0..n): sets *used and returns RESP_MORE
   (the head is parsed when in_body is now set, else it waits in carry) or a
   RESP_BAD_*. */
static enum resp_result take_head(struct resp *r, const char *p, size_t n, size_t *used)
{
	if (r->carry_len == 0) { /* the usual case: a whole head in p */
		size_t len = head_length(p, n);
		if (len) {
			*used = len;
			return len > RESP_MAX_HEAD ? RESP_BAD_HEADER
						   : parse_response_head(r, p, len);
		}
	}
	if (!r->carry && !(r->carry = malloc(RESP_MAX_HEAD)))
		die("malloc");
	size_t old = r->carry_len;
	size_t k = n < RESP_MAX_HEAD - old ? n : RESP_MAX_HEAD - old;
	memcpy(r->carry + old, p, k);
	r->carry_len = (uint16_t)(old + k);
	/* the blank line was not in the first `old` bytes: it ends after them */
	size_t from = old > 3 ? old - 3 : 0;
	size_t len = head_length(r->carry + from, r->carry_len - from);
	if (!len) {
		*used = k;
		return r->carry_len == RESP_MAX_HEAD ? RESP_BAD_HEADER : RESP_MORE;
	}
	len += from;
	r->carry_len = 0;
	*used = len - old;
	return parse_response_head(r, r->carry, len);
}

enum resp_result resp_parse(struct resp *r, const char *p, size_t n, size_t *used)
{
	size_t head = 0;
	if (!r->in_body) {
		enum resp_result res = take_head(r, p, n, &head);
		if (res != RESP_MORE || !r->in_body) {
			*used = head;
			return res;
		}
	}
	size_t k = n - head < r->body_left ? n - head : r->body_left;
	r->body_left -= (uint32_t)k;
	*used = head + k;
	if (r->body_left > 0)
		return RESP_MORE;
	r->in_body = false;
	return RESP_DONE;
}

bool resp_between(const struct resp *r)
{
	return !r->in_body && r->carry_len == 0;
}

void resp_reset(struct resp *r)
{
	r->in_body = false;
	r->carry_len = 0;
	r->body_left = 0;
}

void resp_free(struct resp *r)
{
	free(r->carry);
	r->carry = NULL;
	resp_reset(r);
}
