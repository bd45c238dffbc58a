/*
 * conn.h - one client connection, and the handler every model drives.
 *
 * The handler knows HTTP and nothing of the I/O model: conn_run() reads, frames,
 * answers and writes as far as it can without blocking, then says what it waits
 * for: CONN_READ (input), CONN_WRITE (room in the socket's send buffer) or
 * CONN_CLOSE. Each model turns that into its own mechanism: a bit in an fd_set,
 * a pollfd's events, an epoll registration, or just calling again (blocking).
 *
 * Back-pressure: while answers are waiting to be written, conn_run() reads
 * nothing more, so a client that sends but never reads fills its own socket
 * buffers and then waits; the server's memory for it stays bounded.
 *
 * With --root, a file's body is not copied into out[]: the head goes out
 * first, then the body with sendfile(2), straight from the page cache. Until
 * the last byte is sent conn_run() says CONN_WRITE and answers nothing else,
 * so pipelined answers stay in order and a 1 GiB file costs no more memory
 * than a 13-byte one.
 */
#ifndef CONN_H
#define CONN_H

#include "files.h"
#include "http.h"
#include "net.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define CONN_IN_SIZE  (16 * 1024) /* above HTTP_MAX_HEAD, so 431 is reached */
#define CONN_OUT_SIZE (16 * 1024) /* answers to about 200 pipelined requests */

enum conn_want { CONN_READ, CONN_WRITE, CONN_CLOSE };

/* How far conn_run() reads, the one thing the trigger mode decides.
   CONN_READ_ONCE: at most one read per call; level-triggered readiness says
   again while input waits. CONN_DRAIN: read until the socket is empty (a read
   shorter than asked proves it, or EAGAIN; once c->peer_hup is set, until EOF):
   what edge-triggered needs, since no new edge comes for bytes already waiting.
   A file body (--root) is sent the same way: one sendfile per call, or until
   the socket's send buffer is full. */
enum conn_reading { CONN_READ_ONCE, CONN_DRAIN };

struct conn {
	int fd;
	bool blocking; /* a blocking socket: EAGAIN means SO_RCVTIMEO expired */
	bool closing;  /* answer what is queued, then close */
	bool linger;   /* an error was answered: input may be left unread */
	bool peer_hup; /* the peer sent FIN (set by a model that learns it from an event):
				   CONN_DRAIN then reads on to EOF */
	struct http_framer framer;
	unsigned long long body_left; /* body bytes of the last request still to discard */
	size_t in_len;		      /* bytes waiting in in[] */
	size_t out_len;		      /* bytes queued in out[] */
	size_t out_sent;	      /* of which already written */
	struct file_body file;	      /* --root: the body to send after out[] (fd -1: none) */

	/* A model keeps its connections on a conn_list, least recently active first,
	   so --idle-timeout finds the expired ones at the front. */
	int64_t last_active; /* now_ms() at the last event */
	struct conn *prev, *next;
	bool on_list;		/* on a conn_list now (kept by conn_list_push and _remove) */
	atomic_bool handed_off; /* for conn_hand_off() and conn_take_over() */

	char in[CONN_IN_SIZE];
	char out[CONN_OUT_SIZE];
};

/* Makes the state for an accepted connection and counts it opened; mode says
   how the socket was accepted. With --idle-timeout a blocking socket gets
   SO_RCVTIMEO and SO_SNDTIMEO. Returns NULL when out of memory (the caller
   refuses the connection). */
struct conn *conn_new(int fd, enum net_mode mode);

/* Closes the socket, frees the state, counts the connection closed. */
void conn_close(struct conn *c);

/* For a connection that cannot be served after all (threads: no thread for it):
   answers 503 with the reason, closes, frees, counts it refused and closed, and
   no longer accepted. */
void conn_refuse(struct conn *c, const char *why);

/* Makes all the progress possible without blocking, reading once or draining
   as asked, and says what to wait for next. On a blocking socket every call
   makes exactly one read(), the one it sleeps in, and answers all it brought:
   the blocking models count a wakeup per call. */
enum conn_want conn_run(struct conn *c, enum conn_reading reading);

/* The protocol step of conn_run(), without I/O, for a model that reads and
   writes by itself (io_uring): answers the complete requests in in[] into out[]
   and consumes them. Returns CONN_WRITE while out[] holds bytes to send (it
   answers nothing more until out_len is 0 again: the back-pressure rule),
   CONN_CLOSE when the connection is done (Connection: close or an error was
   answered and sent), CONN_READ when it needs more input. */
enum conn_want conn_serve(struct conn *c);

/* ---- handing a connection to another thread (epoll_oneshot) ----
   The kernel orders the hand-off: what one thread wrote before re-arming the
   descriptor with epoll_ctl() is visible to the thread that epoll_wait() gives
   it to next. C11's memory model and ThreadSanitizer know nothing of syscalls,
   so these two state the same order in C: a release store and an acquire load
   of c->handed_off (plain moves on x86). They change nothing the kernel does. */

/* Before re-arming c: publishes everything this thread wrote to it. */
void conn_hand_off(struct conn *c);

/* After epoll_wait() gave c to this thread: sees what its last owner wrote. */
void conn_take_over(struct conn *c);

/* ---- a model's connections in order of last activity, least recent first ----
   Every model keeps one (named by_activity), so --idle-timeout closes from its
   front and the wait's timeout is the front's expiry. */

struct conn_list {
	struct conn *head, *tail;
};

/* Puts c at the tail (newest end) and stamps it with now. */
void conn_list_push(struct conn_list *l, struct conn *c, int64_t now);

/* Unlinks c (it must be on l: see c->on_list). */
void conn_list_remove(struct conn_list *l, struct conn *c);

/* Moves c to the tail after activity. A no-op without --idle-timeout. */
void conn_list_touch(struct conn_list *l, struct conn *c, int64_t now);

/* The oldest connection if it has been idle longer than --idle-timeout, else NULL. */
struct conn *conn_list_expired(struct conn_list *l, int64_t now);

/* Milliseconds until the oldest connection expires: the timeout to give
   select/poll/epoll_wait. -1 (wait forever) without --idle-timeout or connections. */
int conn_list_timeout(const struct conn_list *l, int64_t now);

/* Calls drop(c) for every expired connection, oldest first, counting each a
   timeout; drop must take c off the list (and close it). */
void conn_list_expire(struct conn_list *l, int64_t now, void (*drop)(struct conn *));

#endif
