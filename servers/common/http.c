/*
 * http.c - framing, parsing and answering HTTP/1.0 and HTTP/1.1 requests.
 *
 * The parser is strict where leniency hides a bug or invites request smuggling
 * (folded header lines, conflicting Content-Length, a Transfer-Encoding we do
 * not implement, HTTP/1.1 without Host or with two, a control character in a
 * header value) and plain elsewhere: a bare LF ends a
 * line as well as CRLF, and empty lines before a request are skipped (RFC 9112
 * section 2.2 asks servers to be robust to a stray CRLF after a body).
 */
#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- parsing */

/* A token character (RFC 9110 section 5.6.2): what method and header names are made of. */
static bool is_tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* May a field value hold c? Visible characters, space, horizontal tab and
   obs-text (bytes 0x80-0xff), RFC 9110 section 5.5; never another control
   character. A NUL in particular would end the value for any code that reads
   it as a C string, so "Connection: close\0..." could mean close to one
   reader and not to another: reject the request instead. */
static bool is_field_char(unsigned char c)
{
	return c == '\t' || (c >= ' ' && c != 0x7f);
}

/* Records an error answer; returns false so a parse step can end with it. */
static bool fail(struct http_request *req, int status, const char *why)
{
	req->status = status;
	req->why = why;
	return false;
}

/* Does the comma-separated list v[0..n) hold the token tok (any case)? */
static bool list_has(const char *v, size_t n, const char *tok)
{
	size_t tlen = strlen(tok);

	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && v[j] != ',')
			j++;
		size_t a = i, b = j; /* trim blanks around the element */
		while (a < b && (v[a] == ' ' || v[a] == '\t'))
			a++;
		while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
			b--;
		if (b - a == tlen && strncasecmp(v + a, tok, tlen) == 0)
			return true;
		i = j + 1;
	}
	return false;
}

static bool parse_length(const char *v, size_t n, unsigned long long *out)
{
	unsigned long long x = 0;

	if (n == 0 || n > 15) /* 15 digits: under a petabyte, and no overflow */
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)v[i]))
			return false;
		x = x * 10 + (unsigned)(v[i] - '0');
	}
	*out = x;
	return true;
}

/* The method decides between serving (GET, HEAD, POST), 405 and 501. An
   unsupported method is remembered, not answered at once: a malformed line
   after it still earns the 400 it deserves. */
static void check_method(const char *m, size_t n, struct http_request *req)
{
	static const char *const known[] = {
		"PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"
	};

	if ((n == 3 && memcmp(m, "GET", 3) == 0) || (n == 4 && memcmp(m, "POST", 4) == 0))
		return;
	if (n == 4 && memcmp(m, "HEAD", 4) == 0) {
		req->head = true;
		return;
	}
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (n == strlen(known[i]) && memcmp(m, known[i], n) == 0) {
			fail(req, 405, "this server answers GET, HEAD and POST only");
			return;
		}
	fail(req, 501, "unknown method");
}

/* "METHOD SP TARGET SP HTTP/1.x"; line[0..n) without its line end.
   Returns false when the line is malformed (req->status says how). */
static bool parse_request_line(const char *line, size_t n, struct http_request *req)
{
	const char *end = line + n, *p = line, *sp;

	while (p < end && is_tchar((unsigned char)*p))
		p++;
	if (p == line || p == end || *p != ' ')
		return fail(req, 400, "malformed request line");
	check_method(line, (size_t)(p - line), req);

	sp = memchr(p + 1, ' ', (size_t)(end - p - 1));
	if (sp == NULL || sp == p + 1)
		return fail(req, 400, "malformed request line");
	for (const char *t = p + 1; t < sp; t++)
		if (!isgraph((unsigned char)*t))
			return fail(req, 400, "malformed request target");
	req->target = p + 1;
	req->target_len = (size_t)(sp - p - 1);

	sp++;
	if (end - sp != 8 || memcmp(sp, "HTTP/", 5) != 0 || !isdigit((unsigned char)sp[5]) ||
	    sp[6] != '.' || !isdigit((unsigned char)sp[7]))
		return fail(req, 400, "malformed HTTP version");
	if (sp[5] != '1')
		return fail(req, 505, "only HTTP/1.0 and HTTP/1.1 are served");
	req->http10 = sp[7] == '0';
	return true;
}

/* What the headers told us, gathered while they are parsed. */
struct head_facts {
	bool host, length, close, keep_alive;
};

/* "Name: value" in line[0..n). Returns false when the line is malformed. */
static bool parse_header(const char *line, size_t n, struct http_request *req,
			 struct head_facts *facts)
{
	const char *colon = memchr(line, ':', n), *v, *ve = line + n;
	size_t name_len, vn;
	unsigned long long cl;

	if (*line == ' ' || *line == '\t')
		return fail(req, 400, "folded header line (obsolete, RFC 9112 5.2)");
	if (colon == NULL || colon == line)
		return fail(req, 400, "malformed header line");
	name_len = (size_t)(colon - line);
	for (size_t i = 0; i < name_len; i++)
		if (!is_tchar((unsigned char)line[i]))
			return fail(req, 400, "malformed header name");
	for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t'); v++)
		;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	vn = (size_t)(ve - v);
	for (size_t i = 0; i < vn; i++)
		if (!is_field_char((unsigned char)v[i]))
			return fail(req, 400, "control character in a header value");

#define IS(name) (name_len == sizeof name - 1 && strncasecmp(line, name, name_len) == 0)
	if (IS("Host")) {
		/* Two Host lines could name two hosts, and a proxy in front of us
		   might pick the other one: RFC 9112 section 3.2 says MUST be 400. */
		if (facts->host)
			return fail(req, 400, "more than one Host header");
		facts->host = true;
	} else if (IS("Connection")) {
		facts->close |= list_has(v, vn, "close");
		facts->keep_alive |= list_has(v, vn, "keep-alive");
	} else if (IS("Content-Length")) {
		if (!parse_length(v, vn, &cl) || (facts->length && cl != req->body))
			return fail(req, 400, "bad or conflicting Content-Length");
		facts->length = true;
		req->body = cl;
	} else if (IS("Transfer-Encoding")) {
		return fail(req, 501, "Transfer-Encoding is not implemented; send Content-Length");
	}
#undef IS
	return true;
}

/* Parses a complete head once: the request line, then one header per line. */
static void parse_head(const char *buf, size_t len, struct http_request *req)
{
	const char *p = buf, *end = buf + len;
	struct head_facts facts = { false, false, false, false };
	bool ok = true;

	memset(req, 0, sizeof *req);
	for (bool first = true; ok && p < end; first = false) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)(nl - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0) /* the blank line that ends the head */
			break;
		ok = first ? parse_request_line(p, n, req) : parse_header(p, n, req, &facts);
		p = nl + 1;
	}
	if (ok && req->status == 0 && !req->http10 && !facts.host)
		fail(req, 400, "HTTP/1.1 request without Host header");
	/* After an error the framing cannot be trusted: the answer closes. */
	req->keep_alive =
		req->status == 0 && (req->http10 ? facts.keep_alive && !facts.close : !facts.close);
}

/* ---------------------------------------------------------------- framing */

static void too_long(struct http_request *req)
{
	memset(req, 0, sizeof *req);
	fail(req, 431, "request head over 8192 bytes");
}

size_t http_frame(struct http_framer *f, const char *buf, size_t len, struct http_request *req)
{
	while (f->scanned < len) {
		const char *nl = memchr(buf + f->scanned, '\n', len - f->scanned);
		size_t line_len;

		if (nl == NULL) {
			f->scanned = len;
			break;
		}
		line_len = (size_t)(nl - buf) - f->line; /* without the LF */
		f->scanned = (size_t)(nl - buf) + 1;
		if (line_len == 0 || (line_len == 1 && buf[f->line] == '\r')) {
			if (f->line == f->start) { /* empty line before a request: skip it */
				f->start = f->line = f->scanned;
				continue;
			}
			size_t used = f->scanned;

			if (used > HTTP_MAX_HEAD) /* complete, but too long */
				too_long(req);
			else
				parse_head(buf + f->start, used - f->start, req);
			memset(f, 0, sizeof *f);
			return used;
		}
		f->line = f->scanned;
	}
	/* Counted from buf[0], skipped empty lines included: else a client sending
	   nothing but CRLFs would be skipped forever and fill its buffer. */
	if (f->scanned > HTTP_MAX_HEAD) { /* incomplete, and too long already */
		too_long(req);
		memset(f, 0, sizeof *f);
		return len;
	}
	return 0;
}

/* ---------------------------------------------------------------- answers */

static const char *reason(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

size_t http_error(int status, const char *why, char *out)
{
	char body[256];
	int blen = snprintf(body, sizeof body, "%d %s: %s\n", status, reason(status), why);

	return (size_t)
		snprintf(out, HTTP_MAX_ANSWER,
			 "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
			 "%sConnection: close\r\n\r\n%s",
			 status, reason(status), blen,
			 status == 405 ? "Allow: GET, HEAD, POST\r\n" : "", body);
}

/* "Connection: close" or "Connection: keep-alive" when the client needs to be
   told (HTTP/1.1 keeps by default, HTTP/1.0 closes by default), else "". */
static const char *connection_header(const struct http_request *req)
{
	if (!req->keep_alive)
		return "Connection: close\r\n";
	return req->http10 ? "Connection: keep-alive\r\n" : "";
}

/* An error the connection survives (403, 404): the framing is intact, so the
   client may go on; a HEAD gets the headers only. */
static size_t answer_kept_error(const struct http_request *req, char *out)
{
	char body[256];
	int blen = snprintf(body, sizeof body, "%d %s: %s\n", req->status, reason(req->status),
			    req->why);

	return (size_t)
		snprintf(out, HTTP_MAX_ANSWER,
			 "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s\r\n%s",
			 req->status, reason(req->status), blen, connection_header(req),
			 req->head ? "" : body);
}

size_t http_file_head(const struct http_request *req, const char *type, unsigned long long length,
		      char *out)
{
	return (size_t)
		snprintf(out, HTTP_MAX_ANSWER,
			 "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %llu\r\n%s\r\n",
			 type, length, connection_header(req));
}

size_t http_answer(const struct http_request *req, char *out)
{
	static const char head[] =
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n";
	static const char body[] = "Hello, world!";
	size_t n = sizeof head - 1;

	if (req->status)
		return req->keep_alive ? answer_kept_error(req, out)
				       : http_error(req->status, req->why, out);
	memcpy(out, head, n);
	if (!req->keep_alive)
		n += (size_t)sprintf(out + n, "Connection: close\r\n");
	else if (req->http10)
		n += (size_t)sprintf(out + n, "Connection: keep-alive\r\n");
	memcpy(out + n, "\r\n", 2);
	n += 2;
	if (!req->head) {
		memcpy(out + n, body, sizeof body - 1);
		n += sizeof body - 1;
	}
	return n;
}
