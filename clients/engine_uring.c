/*
 * engine_uring.c - loadgen's completion engine (--engine io_uring): we hand
 * the kernel the I/O itself, and it tells us when each piece is DONE.
 *
 *   bin/loadgen --engine io_uring -c 50 -d 10 http://127.0.0.1:8080/
 *
 * Readiness against completion, from the client's side. The epoll engine
 * (engine_epoll.c) asks "which sockets may I read?", then calls read() and
 * send() itself: two syscalls per request, plus its share of epoll_pwait2.
 * Here a connection asks once, "receive everything that arrives on this
 * socket, into buffers from my pool", and sends are requests too. Each turn
 * of the loop makes ONE syscall, io_uring_enter, which submits the turn's
 * sends (and connects and closes) for every connection and waits for the
 * next completions. The more connections are busy, the more requests share
 * that one call; in closed loop we also wait for several answers at once
 * (batch(), below); docs/loadgen.md has the syscalls per request it saves.
 *
 *     this thread                                  the kernel
 *   +---------------------+   submission queue   +--------------------------+
 *   | lg_conn.c: a request|  [send][send][close] | connects, sends, closes  |
 *   |  is owed -> SQE   ------------------------>| when it can; receives    |
 *   | io_uring_enter      |                      | into a buffer it takes   |
 *   | reap CQEs: parse  <------------------------| from the pool            |
 *   +---------------------+   completion queue   +--------------------------+
 *          |            [sent 40][78 B in buf 3]          ^
 *          +---- buffer 3 back to the pool at once --------+
 *                (the provided-buffer ring, shared memory)
 *
 * Who owns a buffer, and when. A request names memory, and from submission
 * to completion that memory is the kernel's: it may read or write it at any
 * moment.
 *   - Sends read cfg.req, the request written once before the threads start
 *     and never changed: the kernel may read it whenever it likes. One send
 *     per connection is in flight at a time (in_kernel & OP_SEND), so bytes
 *     go out in order; more requests due meanwhile wait in out_len.
 *   - Receives name no buffer. We lend the kernel a pool (a provided-buffer
 *     ring, servers/common/uring.h numbers a buffer's life); it picks one
 *     only when bytes arrive, so an idle connection holds none. We parse
 *     the buffer (the parser copies what it must keep) and lend it back
 *     before the next completion, so the pool never runs dry for long.
 *   - A connection's struct stays in w->conns for the whole run, but its
 *     descriptor changes. So a completion carries, in user_data (uring.h
 *     draws its bits), the connection's index, what it was (enum op) and a
 *     generation: closing bumps c->gen, and a completion of an earlier
 *     generation is stale. Its buffer still goes back to the pool; nothing
 *     else is done with it.
 *
 * Multishot: one receive request yields a completion per arrival, each
 * flagged IORING_CQE_F_MORE while it stays armed. One without F_MORE ended
 * it: at EOF (res 0), an error, or -ENOBUFS (bytes came while the pool was
 * empty; they stay in the socket, and the re-armed request takes them).
 *
 * Closing. close(fd) alone would not close the socket: an armed receive
 * holds the file, so the server would never see our FIN. We cancel the
 * requests we know the kernel holds (by their user_data), then close with an
 * IORING_OP_CLOSE in the same submission. The descriptor number stays taken
 * until that submission, so a socket opened meanwhile cannot receive a
 * request meant for the old one.
 *
 * Connects: a blocking socket (lg_net_socket) and IORING_OP_CONNECT; the kernel
 * waits for the handshake, and the completion says how it went. (A socket
 * with O_NONBLOCK would have some kernels answer -EAGAIN instead of
 * waiting.) Unlike lg_net_connect, a connect that fails with EADDRNOTAVAIL is
 * only counted: it does not move the threads on to the next 127.0.0.x.
 *
 * Needs Linux 6.1 (checked once, before any thread starts, by making one
 * ring as every thread will: servers/common/uring.c says why that one check
 * covers IORING_OP_CONNECT 5.5, CLOSE 5.6, buffer rings 5.19 and the rest;
 * a kernel without it gets one line on stderr, and loadgen exits 2), and
 * liburing 2.3 or newer at build time. The check opens no socket: it must
 * pass under a descriptor limit of 4.
 *
 * Left out on purpose: registered files (io_uring_register_files). They save
 * the kernel a file lookup per request, but each connect would need a
 * register call of its own (or direct descriptors throughout): less to gain
 * than to explain, for a keep-alive load.
 *
 * Compare: engine_epoll.c (readiness) and servers/io_uring.c (the server
 * side of the same lesson).
 */
#include "lg_conn.h"
#include "lg_net.h"
#include "uring.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#define SQ_ENTRIES 256	      /* requests prepared per turn before we must submit */
#define CQ_ENTRIES 4096	      /* completions waiting to be reaped */
#define BATCH_MAX  32	      /* closed loop: completions waited for at once, at most */
#define BATCH_NS   (100 * US) /* ... and never longer than this */

/* What a request is (the op of its tag, uring.h); also the bits of c->in_kernel. */
enum op {
	OP_CONNECT = 1,
	OP_RECV = 2,
	OP_SEND = 4,
	OP_CANCEL = 8, /* its completion says nothing we need */
	OP_CLOSE = 16,
};

/* A thread's ring, its pool, and whether its last batched wait came back empty. */
struct uring_loop {
	struct uring u;
	bool batch_missed;
};

static struct uring *ring_of(struct worker *w)
{
	return &((struct uring_loop *)w->loop)->u;
}

/* ---------------------------------------------------------------- requests */

static uint64_t tag(struct worker *w, struct lg_conn *c, enum op op)
{
	return uring_tag((uint32_t)(c - w->conns), c->gen, op);
}

static struct io_uring_sqe *request(struct worker *w, struct lg_conn *c, enum op op)
{
	return uring_request(ring_of(w), tag(w, c, op));
}

static void arm_recv(struct worker *w, struct lg_conn *c)
{
	struct io_uring_sqe *sqe = request(w, c, OP_RECV);

	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	uring_select_buffer(sqe);
	c->in_kernel |= OP_RECV;
}

/* ---------------------------------------------------------------- what lg_conn.c asks */

static int ring_connect(struct worker *w, struct lg_conn *c)
{
	int fd = lg_net_socket(c->src);

	if (fd < 0)
		return -fd; /* EMFILE: nothing opened, nothing submitted */
	c->fd = fd;
	/* cfg.dst is copied by the kernel when the request is prepared */
	io_uring_prep_connect(request(w, c, OP_CONNECT), fd, (struct sockaddr *)&cfg.dst,
			      sizeof cfg.dst);
	c->in_kernel |= OP_CONNECT;
	return 0;
}

static void ring_send(struct worker *w, struct lg_conn *c)
{
	if ((c->in_kernel & OP_SEND) || c->out_off == c->out_len)
		return; /* one send in flight: its completion sends the rest */
	/* MSG_NOSIGNAL: a peer that is gone makes it fail with EPIPE, no SIGPIPE */
	io_uring_prep_send(request(w, c, OP_SEND), c->fd, cfg.req + c->out_off,
			   c->out_len - c->out_off, MSG_NOSIGNAL);
	c->in_kernel |= OP_SEND;
}

static void ring_close(struct worker *w, struct lg_conn *c)
{
	for (unsigned op = OP_CONNECT; op <= OP_SEND; op <<= 1)
		if (c->in_kernel & op) /* cancel it, or it keeps the socket open */
			io_uring_prep_cancel64(request(w, c, OP_CANCEL), tag(w, c, (enum op)op), 0);
	io_uring_prep_close(request(w, c, OP_CLOSE), c->fd);
	c->in_kernel = 0;
	c->gen++; /* completions still to come for this descriptor are stale */
}

/* ---------------------------------------------------------------- completions */

static void on_connect(struct worker *w, struct lg_conn *c, int res)
{
	c->in_kernel &= ~OP_CONNECT;
	if (res == 0)
		arm_recv(w, c); /* before the first request goes out */
	lg_conn_connected(w, c, -res);
}

static void on_recv(struct worker *w, struct lg_conn *c, const struct io_uring_cqe *cqe)
{
	uint32_t gen = c->gen;

	if (!(cqe->flags & IORING_CQE_F_MORE))
		c->in_kernel &= ~OP_RECV; /* the request ended */
	if (cqe->res > 0)
		lg_conn_received(w, c, uring_buffer(ring_of(w), uring_cqe_buffer(cqe)),
				 (size_t)cqe->res);
	if (c->gen != gen || c->state != S_OPEN)
		return; /* the answer closed it */
	if (cqe->res == 0)
		lg_conn_received(w, c, NULL, 0); /* EOF */
	else if (cqe->res < 0 && cqe->res != -ENOBUFS)
		lg_conn_failed(w, c, -cqe->res); /* ECONNRESET and friends */
	else if (!(c->in_kernel & OP_RECV))
		arm_recv(w, c); /* -ENOBUFS, or ended for room: the pool is full again */
}

static void on_send(struct worker *w, struct lg_conn *c, int res)
{
	c->in_kernel &= ~OP_SEND;
	if (res < 0) {
		lg_conn_failed(w, c, -res); /* EPIPE, ECONNRESET */
		return;
	}
	c->out_off += (uint32_t)res;
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	else
		ring_send(w, c); /* a short send, or requests queued meanwhile */
}

static void on_completion(struct worker *w, const struct io_uring_cqe *cqe)
{
	uint64_t data = io_uring_cqe_get_data64(cqe);
	struct lg_conn *c = &w->conns[uring_tag_owner(data)];
	enum op op = (enum op)uring_tag_op(data);
	bool stale = uring_tag_gen(data) != (c->gen & 0xffffff);
	int bid = uring_cqe_buffer(cqe);

	if (!stale) {
		switch (op) {
		case OP_CONNECT: on_connect(w, c, cqe->res); break;
		case OP_RECV: on_recv(w, c, cqe); break;
		case OP_SEND: on_send(w, c, cqe->res); break;
		case OP_CANCEL: /* say nothing we need */
		case OP_CLOSE: break;
		}
	}
	if (bid >= 0) /* parsed, or stale: lend it again */
		uring_lend(ring_of(w), bid);
}

/* How many completions to wait for. In closed loop every connection has a
   request at the server, which answers them one at a time: waking for each
   answer would cost an io_uring_enter per request. Waiting for a quarter of
   them (BATCH_MAX at most, BATCH_NS at the longest) costs one per several,
   and neither the server nor the throughput waits meanwhile: the server
   has the other requests to answer, and in a closed loop the mean latency
   is connections / throughput (Little's law) however we reap. In open loop
   latency counts from the schedule, so every answer is taken at once; so
   too after a batched wait came back empty (a stalled server must not make
   us wake every BATCH_NS). With --think the server is not kept busy:
   waiting for other answers would only add to this one's latency, so every
   answer is taken at once there too. Linux 6.12's min_wait does this in the
   kernel. */
static unsigned batch(struct worker *w, uint64_t *wait_ns)
{
	struct uring_loop *l = w->loop;
	uint64_t want = w->pending / 4;

	if (cfg.loop != LOOP_CLOSED || cfg.think != THINK_NONE || l->batch_missed || want < 2)
		return 1;
	if (*wait_ns > BATCH_NS)
		*wait_ns = BATCH_NS;
	return want < BATCH_MAX ? (unsigned)want : BATCH_MAX;
}

/* One io_uring_enter: submits every request this turn prepared, and waits
   for the completions batch() asks for, or until `until`. Then reaps all
   that are there. */
static void ring_wait(struct worker *w, uint64_t now, uint64_t until)
{
	struct uring_loop *l = w->loop;
	uint64_t d = until > now ? until - now : 0;
	unsigned want = batch(w, &d), head, reaped = 0;
	struct io_uring_cqe *cqe;
	int ret = uring_enter(&l->u, want, d);

	if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
		die_en(-ret, "io_uring_enter");
	io_uring_for_each_cqe(&l->u.ring, head, cqe)
	{
		on_completion(w, cqe);
		reaped++;
	}
	io_uring_cq_advance(&l->u.ring, reaped);
	l->batch_missed = want > 1 && reaped == 0;
}

/* ---------------------------------------------------------------- set-up */

static char who[64]; /* "loadgen: --engine io_uring": starts the line of a refusal */

/* Once, in the main thread: can this kernel run every thread's ring? */
static void ring_probe(void)
{
	struct uring u = { .who = who };

	snprintf(who, sizeof who, "%s: --engine io_uring", program_name);
	uring_start(&u, SQ_ENTRIES, CQ_ENTRIES); /* or one line, and exit 2 */
	uring_stop(&u);
}

static void ring_start(struct worker *w)
{
	struct uring_loop *l = calloc(1, sizeof *l);

	if (l == NULL)
		die("calloc");
	l->u.who = who;
	uring_start(&l->u, SQ_ENTRIES, CQ_ENTRIES); /* the probe saw the same succeed */
	w->loop = l;
}

/* The last closes were only prepared: submit them, so that the server sees
   every FIN before we exit, then take the ring down. */
static void ring_stop(struct worker *w)
{
	struct uring_loop *l = w->loop;
	int ret;

	do
		ret = io_uring_submit(&l->u.ring);
	while (ret == -EINTR);
	uring_stop(&l->u);
	free(l);
	w->loop = NULL;
}

const struct engine engine_uring = {
	.name = "io_uring",
	.probe = ring_probe,
	.start = ring_start,
	.stop = ring_stop,
	.connect = ring_connect,
	.send = ring_send,
	.close = ring_close,
	.wait = ring_wait,
};
