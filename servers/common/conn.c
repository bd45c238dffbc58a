/*
 * conn.c - the connection handler: read, frame, answer, write.
 *
 * Non-blocking I/O has three outcomes, and every call here reports one of them
 * (enum io_result, toolkit.h): IO_OK, IO_RETRY (EAGAIN: the kernel has nothing
 * for us, or no room, until readiness says otherwise) and IO_ERROR.
 */
#include "conn.h"
#include "net.h"
#include "options.h"
#include "stats.h"
#include "util.h"

#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- lifetime */

struct conn *conn_new(int fd, enum net_mode mode)
{
	/* malloc, not calloc: the 32 KiB of buffers stay untouched (and so take no
	   physical memory) until a client fills them; only the header is set. */
	struct conn *c = malloc(sizeof *c);

	if (c == NULL)
		return NULL;
	memset(c, 0, offsetof(struct conn, in));
	c->fd = fd;
	c->file.fd = -1;
	c->blocking = mode == NET_BLOCKING;
	stats_conn_opened();
	if (c->blocking && server_opt.idle_timeout) {
		/* A blocking model has no event loop to keep time: the kernel does it.
		   read() and write() return EAGAIN once this long passes with no progress. */
		struct timeval tv = { .tv_sec = server_opt.idle_timeout };

		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1 ||
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == -1)
			note("setsockopt(SO_RCVTIMEO/SO_SNDTIMEO): %s", strerror(errno));
	}
	return c;
}

/* Closing a socket whose receive buffer still holds bytes makes the kernel send
   RST instead of FIN, and a client that gets the RST may throw away our answer
   before reading it. After an error answer the client may well be mid-send, so
   say FIN first, then drop what has arrived (without waiting), then close. */
static void linger_close(int fd)
{
	char sink[4096];
	size_t total = 0;
	ssize_t n;

	shutdown(fd, SHUT_WR);
	while (total < 64 * 1024 && (n = recv(fd, sink, sizeof sink, MSG_DONTWAIT)) > 0)
		total += (size_t)n;
}

void conn_close(struct conn *c)
{
	if (c->linger)
		linger_close(c->fd);
	if (c->file.fd >= 0)
		close(c->file.fd); /* the client left in the middle of a file */
	/* close() also removes the descriptor from every epoll set it is in,
	   because no other descriptor refers to the same open socket. */
	close(c->fd);
	free(c);
	stats_conn_closed();
}

void conn_refuse(struct conn *c, const char *why)
{
	net_refuse(c->fd, why); /* counts it refused */
	free(c);
	stats_conn_closed();
	/* conn_new() counted it accepted, but it was never served: take that back,
	   so accepted= and refused= stay disjoint, as in the models that refuse
	   before they make the state. */
	atomic_fetch_sub_explicit(&stats->accepted, 1, memory_order_relaxed);
}

/* ---------------------------------------------------------------- I/O */

/* A blocking socket answers EAGAIN only when SO_RCVTIMEO/SO_SNDTIMEO expired. */
static enum io_result would_block(struct conn *c)
{
	if (!c->blocking)
		return IO_RETRY;
	stat_add(&stats->timeouts, 1);
	return IO_ERROR;
}

static void cork(int fd, int on)
{
	if (setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on) == -1)
		note("setsockopt(TCP_CORK): %s", strerror(errno));
}

/* One write of what is left in out[]. When a file's body follows, MSG_MORE
   asks TCP to hold the last partial segment for it: else the head would
   leave alone, and Nagle would hold a small body until the client's delayed
   ACK of the head (up to 40 ms per small file). sendfile pushes at its end. */
static ssize_t write_out(struct conn *c)
{
	const char *p = c->out + c->out_sent;
	size_t n = c->out_len - c->out_sent;

	if (c->file.fd >= 0)
		return send(c->fd, p, n, MSG_MORE);
	return write(c->fd, p, n);
}

/* Writes what is queued. IO_OK: all of it; IO_RETRY: the socket's send buffer
   is full, the rest waits for writability; IO_ERROR: the peer is gone. */
static enum io_result conn_flush(struct conn *c)
{
	if (server_opt.cork)
		cork(c->fd, 1);
	while (c->out_sent < c->out_len) {
		ssize_t n = write_out(c);

		if (n >= 0)
			c->out_sent += (size_t)n; /* a partial write: go on from there */
		else if (errno == EINTR && !server_stopping)
			continue;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			return would_block(c);
		else
			return IO_ERROR; /* EPIPE, ECONNRESET (SIGPIPE is ignored) */
	}
	c->out_len = c->out_sent = 0;
	if (server_opt.cork && c->file.fd < 0)
		cork(c->fd, 0); /* uncorking sends the last partial segment now */
	return IO_OK;
}

/* Sends the file body with sendfile(2): the kernel copies from the page cache
   to the socket, and the bytes never visit out[]. once: one call, for a
   level-triggered loop, which hears again while the socket stays writable;
   else until the body is sent or the send buffer is full (an edge-triggered
   loop gets no new edge otherwise; a blocking socket just sleeps in the call).
   IO_OK: all sent, file closed; IO_RETRY: wait for writability; IO_ERROR:
   the peer is gone, or the file shrank under us (its Content-Length is a lie). */
static enum io_result conn_send_file(struct conn *c, bool once)
{
	struct file_body *f = &c->file;

	while (f->offset < f->end) {
		ssize_t n = sendfile(c->fd, f->fd, &f->offset, (size_t)(f->end - f->offset));

		if (n > 0 && once && f->offset < f->end)
			return IO_RETRY;
		if (n > 0)
			continue; /* sendfile moved f->offset on */
		if (n == 0)
			return IO_ERROR; /* end of file before f->end: truncated */
		if (errno == EINTR && !server_stopping)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return would_block(c);
		return IO_ERROR;
	}
	close(f->fd);
	f->fd = -1;
	if (server_opt.cork)
		cork(c->fd, 0);
	return IO_OK;
}

/* Reads once into in[]. IO_OK: got bytes, and *short_read tells whether fewer
   came than there was room for; IO_RETRY: nothing waiting; IO_ERROR: EOF or error. */
static enum io_result conn_fill(struct conn *c, bool *short_read)
{
	size_t room = CONN_IN_SIZE - c->in_len;

	for (;;) {
		ssize_t n = read(c->fd, c->in + c->in_len, room);

		if (n > 0) {
			c->in_len += (size_t)n;
			*short_read = (size_t)n < room;
			return IO_OK;
		}
		if (n == 0) /* EOF: every complete request was answered before we read */
			return IO_ERROR;
		if (errno == EINTR && !server_stopping)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return would_block(c);
		return IO_ERROR; /* ECONNRESET and friends */
	}
}

/* ---------------------------------------------------------------- HTTP */

/* Drops the first n bytes of in[]; what is left (a partial request) moves to the front. */
static void consume(struct conn *c, size_t n)
{
	c->in_len -= n;
	if (c->in_len > 0 && n > 0)
		memmove(c->in, c->in + n, c->in_len);
}

/* Answers every complete request waiting in in[], in order, while out[] has
   room for another answer. Returns true if it queued anything to write. */
static bool conn_answer(struct conn *c)
{
	size_t pos = 0;
	unsigned long served = 0, failed = 0;

	/* A file still being sent holds the answers behind it back: they are in order. */
	while (pos < c->in_len && !c->closing && c->file.fd < 0) {
		struct http_request req;
		size_t used;

		if (c->body_left > 0) { /* a request body: framed, then dropped */
			size_t n = c->in_len - pos < c->body_left ? c->in_len - pos : c->body_left;

			pos += n;
			c->body_left -= n;
			continue;
		}
		if (CONN_OUT_SIZE - c->out_len < HTTP_MAX_ANSWER)
			break; /* back-pressure: write before reading on */
		used = http_frame(&c->framer, c->in + pos, c->in_len - pos, &req);
		if (used == 0)
			break; /* the rest is a partial request */
		pos += used;
		if (server_opt.root != NULL && req.status == 0)
			c->out_len += files_answer(&req, c->out + c->out_len, &c->file);
		else
			c->out_len += http_answer(&req, c->out + c->out_len);
		if (req.status)
			failed++;
		else
			served++;
		c->body_left = req.body;
		c->closing = !req.keep_alive;	      /* always after a framing error (http.h) */
		c->linger = req.status && c->closing; /* the client may be mid-send */
	}
	consume(c, pos);
	if (served)
		stat_add(&stats->requests, served);
	if (failed)
		stat_add(&stats->errors, failed);
	return served + failed > 0;
}

/* ---------------------------------------------------------------- the handler */

enum conn_want conn_serve(struct conn *c)
{
	if (c->out_len > 0 || c->file.fd >= 0)
		return CONN_WRITE; /* back-pressure: what is queued goes out first */
	if (c->closing)
		return CONN_CLOSE;
	return conn_answer(c) ? CONN_WRITE : CONN_READ;
}

/* After a read that got bytes: read again now, or wait for readiness? */
static bool read_again(const struct conn *c, enum conn_reading reading, bool short_read)
{
	if (reading == CONN_READ_ONCE)
		return false; /* level-triggered: the next report says if more waits */
	if (c->peer_hup)
		return true; /* after the FIN: on to EOF, no edge will come for it */
	return !short_read;  /* the short-read rule: less than asked means empty */
}

enum conn_want conn_run(struct conn *c, enum conn_reading reading)
{
	bool may_read = true;

	for (;;) {
		bool short_read = false;

		if (c->out_len > 0) {
			switch (conn_flush(c)) {
			case IO_OK: break;
			case IO_RETRY: return CONN_WRITE;
			case IO_ERROR: return CONN_CLOSE;
			}
		}
		if (c->file.fd >= 0) { /* --root: the body after its head */
			switch (conn_send_file(c, reading == CONN_READ_ONCE && !c->blocking)) {
			case IO_OK: break;
			case IO_RETRY: return CONN_WRITE;
			case IO_ERROR: return CONN_CLOSE;
			}
		}
		switch (conn_serve(c)) {
		case CONN_WRITE: continue; /* answers queued: write them first */
		case CONN_CLOSE: return CONN_CLOSE;
		case CONN_READ: break;
		}
		if (!may_read)
			return CONN_READ;
		switch (conn_fill(c, &short_read)) {
		case IO_OK: break;
		case IO_RETRY: return CONN_READ;
		case IO_ERROR: return CONN_CLOSE;
		}
		may_read = read_again(c, reading, short_read);
	}
}

/* ---------------------------------------------------------------- hand-off */

void conn_hand_off(struct conn *c)
{
	atomic_store_explicit(&c->handed_off, true, memory_order_release);
}

void conn_take_over(struct conn *c)
{
	(void)atomic_load_explicit(&c->handed_off, memory_order_acquire);
}

/* ---------------------------------------------------------------- by activity */

void conn_list_push(struct conn_list *l, struct conn *c, int64_t now)
{
	c->last_active = now;
	c->on_list = true;
	c->next = NULL;
	c->prev = l->tail;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
}

void conn_list_remove(struct conn_list *l, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
	c->on_list = false;
}

void conn_list_touch(struct conn_list *l, struct conn *c, int64_t now)
{
	if (!server_opt.idle_timeout)
		return;
	conn_list_remove(l, c);
	conn_list_push(l, c, now);
}

struct conn *conn_list_expired(struct conn_list *l, int64_t now)
{
	if (!server_opt.idle_timeout || l->head == NULL)
		return NULL;
	return now - l->head->last_active >= server_opt.idle_timeout * 1000LL ? l->head : NULL;
}

int conn_list_timeout(const struct conn_list *l, int64_t now)
{
	int64_t left;

	if (!server_opt.idle_timeout || l->head == NULL)
		return -1;
	left = l->head->last_active + server_opt.idle_timeout * 1000LL - now;
	return left < 0 ? 0 : (int)left;
}

void conn_list_expire(struct conn_list *l, int64_t now, void (*drop)(struct conn *))
{
	struct conn *c;

	while ((c = conn_list_expired(l, now)) != NULL) {
		stat_add(&stats->timeouts, 1);
		drop(c); /* drop() takes c off the list, so the loop moves on */
	}
}
