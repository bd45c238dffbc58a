/*
 * conn.c - the connection handler: read, frame, answer, write.
 *
 * Non-blocking I/O has three outcomes, and every call here reports one of them
 * (the shape of wrk's net.h): IO_OK, IO_RETRY (EAGAIN: the kernel has nothing
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
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

enum io_result { IO_OK, IO_RETRY, IO_ERROR };

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
	/* close() also removes the descriptor from every epoll set it is in,
	   because no other descriptor refers to the same open socket. */
	close(c->fd);
	free(c);
	stats_conn_closed();
}

void conn_refuse(struct conn *c, const char *why)
{
	net_refuse(c->fd, why);	/* counts it refused */
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

/* Writes what is queued. IO_OK: all of it; IO_RETRY: the socket's send buffer
   is full, the rest waits for writability; IO_ERROR: the peer is gone. */
static enum io_result conn_flush(struct conn *c)
{
	if (server_opt.cork)
		cork(c->fd, 1);
	while (c->out_sent < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_sent, c->out_len - c->out_sent);

		if (n >= 0)
			c->out_sent += (size_t)n;	/* a partial write: go on from there */
		else if (errno == EINTR && !server_stopping)
			continue;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			return would_block(c);
		else
			return IO_ERROR;	/* EPIPE, ECONNRESET (SIGPIPE is ignored) */
	}
	c->out_len = c->out_sent = 0;
	if (server_opt.cork)
		cork(c->fd, 0);		/* uncorking sends the last partial segment now */
	return IO_OK;
}

/* Reads once into in[]. IO_OK: got bytes, and *short_read tells whether fewer
   came than there was room for; IO_RETRY: nothing waiting; IO_ERROR: EOF or error. */
static enum io_result conn_fill(struct conn *c, bool *short_read)
{
	size_t room = CONN_IN_SIZE - c->in_len;

	if (c->blocking) {
		stat_add(&stats->wakeups, 1);
		stat_add(&stats->events, 1);
	}
	for (;;) {
		ssize_t n = read(c->fd, c->in + c->in_len, room);

		if (n > 0) {
			c->in_len += (size_t)n;
			*short_read = (size_t)n < room;
			return IO_OK;
		}
		if (n == 0)	/* EOF: every complete request was answered before we read */
			return IO_ERROR;
		if (errno == EINTR && !server_stopping)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return would_block(c);
		return IO_ERROR;	/* ECONNRESET and friends */
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

	while (pos < c->in_len && !c->closing) {
		struct http_request req;
		size_t used;

		if (c->body_left > 0) {		/* a request body: framed, then dropped */
			size_t n = c->in_len - pos < c->body_left ? c->in_len - pos : c->body_left;

			pos += n;
			c->body_left -= n;
			continue;
		}
		if (CONN_OUT_SIZE - c->out_len < HTTP_MAX_ANSWER)
			break;			/* back-pressure: write before reading on */
		used = http_frame(&c->framer, c->in + pos, c->in_len - pos, &req);
		if (used == 0)
			break;			/* the rest is a partial request */
		pos += used;
		c->out_len += http_answer(&req, c->out + c->out_len);
		if (req.status) {
			failed++;
			c->closing = c->linger = true;	/* after an error the framing cannot be trusted */
		} else {
			served++;
			c->body_left = req.body;
			c->closing = !req.keep_alive;
		}
	}
	consume(c, pos);
	if (served)
		stat_add(&stats->requests, served);
	if (failed)
		stat_add(&stats->errors, failed);
	return served + failed > 0;
}

/* ---------------------------------------------------------------- the handler */

/* After a read that got bytes: read again now, or wait for readiness? */
static bool read_again(const struct conn *c, enum conn_reading reading, bool short_read)
{
	if (reading == CONN_READ_ONCE)
		return false;		/* level-triggered: the next report says if more waits */
	if (c->peer_hup)
		return true;		/* after the FIN: on to EOF, no edge will come for it */
	return !short_read;		/* the short-read rule: less than asked means empty */
}

enum conn_want conn_run(struct conn *c, enum conn_reading reading)
{
	bool may_read = true;

	for (;;) {
		bool short_read = false;

		if (c->out_len > 0) {
			switch (conn_flush(c)) {
			case IO_OK:    break;
			case IO_RETRY: return CONN_WRITE;
			case IO_ERROR: return CONN_CLOSE;
			}
		}
		if (c->closing)
			return CONN_CLOSE;
		if (conn_answer(c))
			continue;		/* answers queued: write them first */
		if (!may_read)
			return CONN_READ;
		switch (conn_fill(c, &short_read)) {
		case IO_OK:    break;
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

/* ---------------------------------------------------------------- idle list */

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
		drop(c);	/* drop() takes c off the list, so the loop moves on */
	}
}
