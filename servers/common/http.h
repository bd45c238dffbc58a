/*
 * http.h - HTTP/1.x request framing and the answers, for a per-connection buffer.
 *
 * Framing is incremental: http_frame() remembers how far it has scanned, so a
 * request that arrives one byte per read costs one pass over its bytes, not one
 * pass per read. Once the blank line that ends the head is found, the head is
 * parsed once. A body (Content-Length) is framed here and discarded by the caller.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_HEAD	8192 /* request line + headers; a longer head is answered 431 */
#define HTTP_MAX_ANSWER 512  /* room one answer needs in the output buffer, at most */

struct http_request {
	int status;		 /* 0: serve it; otherwise the error status to answer */
	const char *why;	 /* with an error: what was wrong, for the answer's body */
	const char *target;	 /* the request-target, as sent: it points into the */
	size_t target_len;	 /* caller's buffer, so it lives as long as those bytes */
	bool head;		 /* HEAD: the headers without the body */
	bool keep_alive;	 /* the connection stays open after the answer (never
				   after an error found while framing) */
	bool http10;		 /* HTTP/1.0: keep-alive has to be announced */
	unsigned long long body; /* Content-Length: body bytes that follow the head */
};

/* Framing state of one connection; zero it before the first request. */
struct http_framer {
	size_t start;	/* where the request line starts (empty lines before it are skipped) */
	size_t line;	/* where the line being scanned starts */
	size_t scanned; /* bytes already looked at */
};

/* Looks for a complete request head at the start of buf[0..len), scanning only
   bytes it has not seen; buf must hold what the last call was given, and more.
   Returns the number of bytes the head took (empty lines before it included)
   and fills *req, whose status may be an error; returns 0 when more bytes are
   needed. A head over HTTP_MAX_HEAD (the empty lines before it count) is an
   error: status 431, returns len. So 0 is returned only while len <= HTTP_MAX_HEAD. */
size_t http_frame(struct http_framer *f, const char *buf, size_t len, struct http_request *req);

/* Writes the answer to req into out (room: at least HTTP_MAX_ANSWER bytes):
   status 0, hello world; an error status with keep_alive (a 404 from --root),
   a short answer that keeps the connection; any other error, http_error().
   Returns the number of bytes written. */
size_t http_answer(const struct http_request *req, char *out);

/* Writes the head of a 200 answer whose body, length bytes of the given
   Content-Type, the caller sends itself (room: HTTP_MAX_ANSWER). Returns the
   number of bytes written. */
size_t http_file_head(const struct http_request *req, const char *type, unsigned long long length,
		      char *out);

/* Writes an error answer (status 400..599, with Connection: close) into out
   (room: HTTP_MAX_ANSWER). Returns the number of bytes written. */
size_t http_error(int status, const char *why, char *out);

#endif
