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
 * (batch(), below). Measured: 0.16 syscalls per request with 50 keep-alive
 * connections, against about 2 for the epoll engine and 4 for wrk
 * (docs/loadgen.md).
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
 *     ring); it picks one only when bytes arrive, so an idle connection
 *     holds none. The completion hands the buffer to us: we parse it (the
 *     parser copies what it must keep) and lend it back before the next
 *     completion, so the pool never runs dry for long.
 *   - A connection's struct stays in w->conns for the whole run, but its
 *     descriptor changes. So a completion carries, in user_data, the
 *     connection, what it was (enum op) and a generation: closing bumps
 *     c->gen, and a completion of an earlier generation is stale. Its buffer
 *     still goes back to the pool; nothing else is done with it.
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
 * What each feature needs (checked once by uring_probe; a missing one is
 * named in one line on stderr, and loadgen exits 2):
 *   io_uring_setup                   5.1  (EPERM: kernel.io_uring_disabled,
 *                                          or a seccomp filter, as in containers)
 *   FEAT_EXT_ARG: wait with a timeout in the same io_uring_enter   5.11
 *   SETUP_SINGLE_ISSUER, DEFER_TASKRUN   6.1: completions are produced only
 *        when this thread enters, not by interrupting it; one ring per thread
 *   provided-buffer ring             5.19 (IORING_REGISTER_PBUF_RING)
 *   multishot recv                   6.0  (a kernel that takes DEFER_TASKRUN
 *        has it; servers/io_uring.c, which asks for less, tries it instead)
 *   IORING_OP_CONNECT 5.5, IORING_OP_CLOSE 5.6, ASYNC_CANCEL 5.5
 * The probe opens no socket: it must pass under a descriptor limit of 4.
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

#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#define SQ_ENTRIES 256	      /* requests prepared per turn before we must submit */
#define CQ_ENTRIES 4096	      /* completions waiting to be reaped */
#define BUF_COUNT  256	      /* buffers in the pool, a power of two */
#define BUF_SIZE   2048	      /* bytes each: many answers of this suite */
#define BUF_GROUP  0	      /* the pool's id, named by every receive */
#define BATCH_MAX  32	      /* closed loop: completions waited for at once, at most */
#define BATCH_NS   (100 * US) /* ... and never longer than this */

/* What a request is; also the bits of c->in_kernel. */
enum op {
	OP_CONNECT = 1,
	OP_RECV = 2,
	OP_SEND = 4,
	OP_CANCEL = 8, /* its completion says nothing we need */
	OP_CLOSE = 16,
};

struct uring_loop {
	struct io_uring ring;
	struct io_uring_buf_ring *pool; /* shared with the kernel */
	char *bufs;			/* BUF_COUNT buffers of BUF_SIZE */
	size_t pool_bytes;		/* the mapping of both */
	bool batch_missed;		/* the last batched wait timed out empty */
};

/* The flags every ring of this engine is made with. */
#define SETUP_FLAGS (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE)

static struct uring_loop *loop_of(struct worker *w)
{
	return w->loop;
}

static _Noreturn void unsupported(const char *what)
{
	fprintf(stderr, "%s: --engine io_uring cannot run here: %s\n", program_name, what);
	exit(2);
}

/* ---------------------------------------------------------------- requests */

/* user_data: connection index (32 bits), generation (24 bits), op (8 bits). */
static uint64_t tag(struct worker *w, struct lg_conn *c, enum op op)
{
	uint64_t index = (uint64_t)(c - w->conns);
	return index << 32 | (uint64_t)(c->gen & 0xffffff) << 8 | (uint64_t)op;
}

/* A free submission entry tagged for (c, op); when all are taken, the ones
   prepared so far are submitted to make room (one more io_uring_enter). */
static struct io_uring_sqe *new_request(struct worker *w, struct lg_conn *c, enum op op)
{
	struct io_uring *ring = &loop_of(w)->ring;
	struct io_uring_sqe *sqe;
	while ((sqe = io_uring_get_sqe(ring)) == NULL) {
		int ret = io_uring_submit(ring);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			die_en(-ret, "io_uring_submit");
	}
	io_uring_sqe_set_data64(sqe, tag(w, c, op));
	return sqe;
}

static void arm_recv(struct worker *w, struct lg_conn *c)
{
	struct io_uring_sqe *sqe = new_request(w, c, OP_RECV);
	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT; /* the kernel picks a buffer from the pool */
	sqe->buf_group = BUF_GROUP;
	c->in_kernel |= OP_RECV;
}

/* ---------------------------------------------------------------- the pool */

static char *buffer(struct uring_loop *l, unsigned bid)
{
	return l->bufs + (size_t)bid * BUF_SIZE;
}

/* Lends buffer bid to the kernel (again): visible to it at once, no syscall. */
static void give_back(struct uring_loop *l, unsigned bid)
{
	io_uring_buf_ring_add(l->pool, buffer(l, bid), BUF_SIZE, (unsigned short)bid,
			      io_uring_buf_ring_mask(BUF_COUNT), 0);
	io_uring_buf_ring_advance(l->pool, 1);
}

/* Maps the pool (page-aligned: the kernel shares it) and registers it with
   `ring`. Returns 0 or -errno (a kernel before 5.19: -EINVAL). */
static int pool_start(struct uring_loop *l)
{
	size_t ring_bytes = BUF_COUNT * sizeof(struct io_uring_buf);
	struct io_uring_buf_reg reg;
	l->pool_bytes = ring_bytes + (size_t)BUF_COUNT * BUF_SIZE;
	char *mem = mmap(NULL, l->pool_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	if (mem == MAP_FAILED)
		die("mmap(%d buffers)", BUF_COUNT);
	l->pool = (struct io_uring_buf_ring *)mem;
	l->bufs = mem + ring_bytes;
	io_uring_buf_ring_init(l->pool);
	memset(&reg, 0, sizeof reg);
	reg.ring_addr = (unsigned long)l->pool;
	reg.ring_entries = BUF_COUNT;
	reg.bgid = BUF_GROUP;
	int ret = io_uring_register_buf_ring(&l->ring, &reg, 0);
	if (ret < 0)
		return ret;
	for (unsigned bid = 0; bid < BUF_COUNT; bid++)
		give_back(l, bid);
	return 0;
}

/* Makes the ring and its pool. Returns 0, or -errno naming what failed in
   *what (for the probe's one line). */
static int loop_init(struct uring_loop *l, const char **what)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	p.flags = SETUP_FLAGS;
	p.cq_entries = CQ_ENTRIES;
	int ret = io_uring_queue_init_params(SQ_ENTRIES, &l->ring, &p);
	if (ret < 0) {
		*what = ret == -EINVAL
				? "io_uring_setup(SINGLE_ISSUER | DEFER_TASKRUN) needs Linux 6.1"
				: "io_uring_setup";
		return ret;
	}
	if (!(p.features & IORING_FEAT_EXT_ARG)) {
		*what = "waiting with a timeout in io_uring_enter (FEAT_EXT_ARG) needs Linux 5.11";
		io_uring_queue_exit(&l->ring);
		return -EINVAL;
	}
	if ((ret = pool_start(l)) < 0) {
		*what = "a provided-buffer ring needs Linux 5.19";
		io_uring_queue_exit(&l->ring);
		munmap(l->pool, l->pool_bytes);
		return ret;
	}
	return 0;
}

/* Completions before the pool: the kernel holds no request then. */
static void loop_free(struct uring_loop *l)
{
	io_uring_queue_exit(&l->ring); /* cancels what is still in flight */
	munmap(l->pool, l->pool_bytes);
}

/* ------------------------------------------------------------- what lg_conn.c asks */

static int uring_connect(struct worker *w, struct lg_conn *c)
{
	int fd = lg_net_socket(c->src);
	if (fd < 0)
		return -fd; /* EMFILE: nothing opened, nothing submitted */
	c->fd = fd;
	/* cfg.dst is copied by the kernel when the request is prepared */
	io_uring_prep_connect(new_request(w, c, OP_CONNECT), fd, (struct sockaddr *)&cfg.dst,
			      sizeof cfg.dst);
	c->in_kernel |= OP_CONNECT;
	return 0;
}

static void uring_send(struct worker *w, struct lg_conn *c)
{
	if ((c->in_kernel & OP_SEND) || c->out_off == c->out_len)
		return; /* one send in flight: its completion sends the rest */
	/* MSG_NOSIGNAL: a peer that is gone makes it fail with EPIPE, no SIGPIPE */
	io_uring_prep_send(new_request(w, c, OP_SEND), c->fd, cfg.req + c->out_off,
			   c->out_len - c->out_off, MSG_NOSIGNAL);
	c->in_kernel |= OP_SEND;
}

static void uring_close(struct worker *w, struct lg_conn *c)
{
	for (unsigned op = OP_CONNECT; op <= OP_SEND; op <<= 1)
		if (c->in_kernel & op) /* cancel it, or it keeps the socket open */
			io_uring_prep_cancel64(new_request(w, c, OP_CANCEL), tag(w, c, (enum op)op),
					       0);
	io_uring_prep_close(new_request(w, c, OP_CLOSE), c->fd);
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
		lg_conn_received(w, c, buffer(loop_of(w), cqe->flags >> IORING_CQE_BUFFER_SHIFT),
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
		uring_send(w, c); /* a short send, or requests queued meanwhile */
}

static void on_completion(struct worker *w, const struct io_uring_cqe *cqe)
{
	uint64_t data = io_uring_cqe_get_data64(cqe);
	struct lg_conn *c = &w->conns[data >> 32];
	enum op op = (enum op)(data & 0xff);
	bool stale = ((data >> 8) & 0xffffff) != (c->gen & 0xffffff);

	if (stale || op == OP_CANCEL || op == OP_CLOSE) {
		if (cqe->flags & IORING_CQE_F_BUFFER) /* a stale receive's buffer */
			give_back(loop_of(w), cqe->flags >> IORING_CQE_BUFFER_SHIFT);
		return;
	}
	switch (op) {
	case OP_CONNECT: on_connect(w, c, cqe->res); break;
	case OP_RECV: on_recv(w, c, cqe); break;
	case OP_SEND: on_send(w, c, cqe->res); break;
	default: break;
	}
	if (op == OP_RECV && (cqe->flags & IORING_CQE_F_BUFFER)) /* parsed: lend it again */
		give_back(loop_of(w), cqe->flags >> IORING_CQE_BUFFER_SHIFT);
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
   us wake every BATCH_NS). Linux 6.12's min_wait does this in the kernel. */
static unsigned batch(struct worker *w, uint64_t *wait_ns)
{
	struct uring_loop *l = loop_of(w);
	uint64_t want = w->pending / 4;
	if (cfg.loop != LOOP_CLOSED || l->batch_missed || want < 2)
		return 1;
	if (*wait_ns > BATCH_NS)
		*wait_ns = BATCH_NS;
	return want < BATCH_MAX ? (unsigned)want : BATCH_MAX;
}

/* One io_uring_enter: submits every request this turn prepared, and waits
   for the completions batch() asks for, or until `until`. Then reaps all
   that are there. */
static void uring_wait(struct worker *w, uint64_t now, uint64_t until)
{
	struct uring_loop *l = loop_of(w);
	uint64_t d = until > now ? until - now : 0;
	unsigned want = batch(w, &d), head, reaped = 0;
	struct __kernel_timespec ts = { .tv_sec = (long long)(d / SEC),
					.tv_nsec = (long long)(d % SEC) };
	struct io_uring_cqe *cqe;

	int ret = io_uring_submit_and_wait_timeout(&l->ring, &cqe, want, &ts, NULL);
	if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
		die_en(-ret, "io_uring_enter");
	io_uring_for_each_cqe(&l->ring, head, cqe)
	{
		on_completion(w, cqe);
		reaped++;
	}
	io_uring_cq_advance(&l->ring, reaped);
	l->batch_missed = want > 1 && reaped == 0;
}

/* ---------------------------------------------------------------- set-up */

/* io_uring_setup failed: say why in one line (kernel.io_uring_disabled is 6.6+). */
static _Noreturn void setup_failed(int err, const char *what)
{
	char line[256];
	if (err == ENOSYS || err == EPERM)
		snprintf(line, sizeof line,
			 "%s: %s (no io_uring in this kernel, kernel.io_uring_disabled, "
			 "or a seccomp filter, as in containers)",
			 what, strerror(err));
	else
		snprintf(line, sizeof line, "%s (%s)", what, strerror(err));
	unsupported(line);
}

/* Once, in the main thread: can this kernel run every thread's ring? */
static void uring_probe(void)
{
	struct uring_loop l;
	const char *what = NULL;
	int ret = loop_init(&l, &what);
	if (ret < 0)
		setup_failed(-ret, what);
	struct io_uring_probe *probe = io_uring_get_probe_ring(&l.ring);
	bool ops = probe && io_uring_opcode_supported(probe, IORING_OP_CONNECT) &&
		   io_uring_opcode_supported(probe, IORING_OP_CLOSE) &&
		   io_uring_opcode_supported(probe, IORING_OP_ASYNC_CANCEL);
	io_uring_free_probe(probe);
	if (!ops)
		unsupported("IORING_OP_CONNECT, CLOSE or ASYNC_CANCEL missing (Linux 5.6)");
	loop_free(&l);
}

static void uring_start(struct worker *w)
{
	struct uring_loop *l = calloc(1, sizeof *l);
	const char *what = NULL;
	if (!l)
		die("calloc");
	int ret = loop_init(l, &what); /* here: the probe saw the same succeed */
	if (ret < 0)
		die_en(-ret, "%s", what);
	w->loop = l;
}

/* The last closes were only prepared: submit them, so that the server sees
   every FIN before we exit, then take the ring down. */
static void uring_stop(struct worker *w)
{
	struct uring_loop *l = loop_of(w);
	int ret;
	do
		ret = io_uring_submit(&l->ring);
	while (ret == -EINTR);
	loop_free(l);
	free(l);
	w->loop = NULL;
}

const struct engine engine_uring = {
	.name = "io_uring",
	.probe = uring_probe,
	.start = uring_start,
	.stop = uring_stop,
	.connect = uring_connect,
	.send = uring_send,
	.close = uring_close,
	.wait = uring_wait,
};
