/*
 * files.h - --root DIR: answering GET and HEAD with the files beneath DIR.
 *
 * A request-target is percent-decoded strictly, judged (no dot segments, no
 * backslash, no NUL), then opened beneath a descriptor of DIR taken at
 * start-up, so that no path, encoding or symlink reaches outside DIR; only
 * regular files are served (a directory answers its index.html). The answer's
 * head goes into the connection's out[]; its body is left open in a struct
 * file_body, which conn.c sends with sendfile(2) once the head is written.
 */
#ifndef FILES_H
#define FILES_H

#include "http.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A response body still to send: bytes [offset, end) of an open file. */
struct file_body {
	int fd;	      /* the open file; -1: no body pending */
	off_t offset; /* the next byte to send (sendfile advances it) */
	off_t end;    /* the file's size when it was opened */
};

/* Opens DIR (from --root) as the root every path is resolved beneath, and
   says which resolver is in use. Dies if DIR is not a directory we can open. */
void files_init(const char *dir);

/* Answers req (status 0, GET/HEAD/POST) from the files beneath the root:
   writes the answer's head, or a whole error answer, into out (room:
   HTTP_MAX_ANSWER) and returns its length. On 200 with a body to send,
   body->fd is the open file (the caller closes it); otherwise body is left
   as it was. An error sets req->status and req->why: 403 and 404 keep the
   connection, 400 (a bad target) and 5xx close it (req->keep_alive false). */
size_t files_answer(struct http_request *req, char *out, struct file_body *body);

#endif
