/*
 * io_uring.c - one thread, io_uring(7): completions instead of readiness.
 *
 *   bin/io_uring [-p PORT] ...        (bin/io_uring -h for every option)
 *
 * The model. Every other model asks the kernel "which sockets are READY?" and
 * then does the I/O itself with read() and write(). Here we hand the kernel
 * the I/O itself, as requests in a shared ring, and it tells us when each one
 * is DONE: "accepted fd 7", "received 78 bytes into buffer 12", "sent 89
 * bytes". One io_uring_enter() both submits this turn's requests and waits
 * for the next completions, many at a time; no read, write or accept syscall
 * remains.
 *
 *        our thread                            the kernel
 *    +-----------------+   submission queue   +---------------------------+
 *    | loop:           |  [accept][send][...] | takes each request and    |
 *    |  prepare SQEs ---------------------->  | does it when it can:      |
 *    |  io_uring_enter |                      |  accept, recv into a      |
 *    |  reap CQEs <-----------------------    |  provided buffer, send    |
 *    +-----------------+   completion queue   +---------------------------+
 *             |          [fd 7][78 B, buf 12]         ^
 *             +-- return buffer 12 --> provided-buffer ring (ours, shared)
 *
 * Who owns a buffer, and when. A request names memory; from submission until
 * its completion that memory is the kernel's, and it may read or write it at
 * any moment. So a send's out[] is not touched until the send completes (that
 * is the back-pressure rule of conn.h, here enforced by ownership), and a
 * connection is freed only when the kernel holds no request naming it.
 * Receives use provided buffers: we lend the kernel a pool, and it picks one
 * only when bytes actually arrive, so 10,000 idle connections hold no buffer.
 * We copy the bytes into the connection's in[] (a request may span buffers;
 * the buffer must go back to the pool at once, for every connection to use)
 * and return the buffer.
 *
 * Multishot: one accept request yields a completion per client, one recv per
 * arrival, each flagged IORING_CQE_F_MORE while the request stays armed. A
 * completion without F_MORE ends it, and we re-arm it: after EOF (res 0), an
 * error, a cancel, or -ENOBUFS (data came while the pool was empty; the bytes
 * stay in the socket, and the re-armed request takes them). A completion
 * cannot be refused: a client that sends faster than it reads our answers
 * gets its recv cancelled, what arrived before the cancel took effect waits
 * in spill[] until in[] has room, and from then on it is read one buffer per
 * (single-shot) recv, armed only while no send is in flight.
 *
 * Files (--root), and why they are this model's lesson. Readiness cannot wait
 * for a disk: a regular file is always "ready" (epoll_ctl refuses one with
 * EPERM; select and poll report it ready), so in a readiness loop a read() of
 * a file not in the page cache sleeps in the loop's one thread, and every
 * client waits (docs/models.md, "Serving files"). A completion API has no such
 * gap: a file read is one more request, and a cold disk makes that request
 * wait, in the kernel, while the loop goes on. So the body is read with
 * IORING_OP_READ into out[] (behind the head, the first time), up to 16 KiB at
 * c->file.offset (the offset is ours: the request names it), then sent like
 * any answer; the next read is asked only when that send has completed. A
 * 1 GiB file costs out[] and nothing more, and a slow reader holds only its
 * own connection. The price is the copy sendfile saves (page cache to out[],
 * out[] to the socket); IORING_OP_SPLICE through a pipe would save it, at two
 * descriptors per connection. Opening the file (files.c: openat2, fstat) is
 * still a syscall in the loop; IORING_OP_OPENAT2 could take that off it too.
 *
 * Fewer trips into the kernel. With SINGLE_ISSUER (only this thread touches
 * the ring) and DEFER_TASKRUN, the kernel finishes our requests' work and
 * posts their completions only when we enter to wait, in our thread, instead
 * of interrupting the loop whenever a packet lands; and a waiter sleeps until
 * WAIT_BATCH completions are ready rather than waking at the first. Min-wait
 * (Linux 6.12) bounds the cost: once one completion is there we wait
 * WAIT_MIN_US more at most. We ask for a batch only after a turn that found
 * more than one completion, so a lone client waits for nothing, and 50 busy
 * ones are served about ten per io_uring_enter (bench/vs-nginx -m io_uring
 * -b epoll_et: 0.1 syscall per request, against epoll_et's 2.5). Registering
 * the ring's descriptor spares each enter looking it up. Without min-wait we
 * wait for one completion, as a readiness loop does.
 *
 * Descriptor limit: an accept request uses the RLIMIT_NOFILE in force when it
 * was armed; lowering the limit later (prlimit) does not reach it.
 *
 * What each feature needs (checked at start-up; a missing one is named in one
 * line on stderr, and we exit 2):
 *   io_uring_setup, FEAT_NODROP    5.5   (EPERM: kernel.io_uring_disabled, or a
 *                                          seccomp filter, as in containers)
 *   IORING_OP_TIMEOUT              5.4   --idle-timeout, kept by the kernel
 *   IORING_OP_READ                 5.6   --root: file bodies
 *   register the ring's descriptor 5.18
 *   SETUP_SINGLE_ISSUER,           6.1   completions posted when we enter,
 *     SETUP_DEFER_TASKRUN                not by interrupting our loop
 *   provided-buffer ring           5.19  (IORING_REGISTER_PBUF_RING)
 *   multishot accept, cancel by fd 5.19
 *   multishot recv                 6.0   (tried: older kernels do it once)
 *   min-wait (FEAT_MIN_TIMEOUT)    6.12  (else: no batch, one completion per wait)
 * Per request on a kept-alive connection: one recv completion, one send
 * request and its completion, and a share of one io_uring_enter per turn.
 *
 * Compare: servers/epoll_et.c (readiness, drained) with this file.
 */
#include "server.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IORING_FEAT_MIN_TIMEOUT
#define IORING_FEAT_MIN_TIMEOUT (1U << 15) /* Linux 6.12; newer than our headers */
#endif

#define SQ_ENTRIES  1024 /* requests submitted per io_uring_enter, at most */
#define CQ_ENTRIES  8192 /* completions waiting to be reaped (more go on a kernel list) */
#define BUF_COUNT   256	 /* provided buffers in the pool, a power of two */
#define BUF_SIZE    2048 /* bytes each */
#define BUF_GROUP   0	 /* the pool's id, named by every recv */
#define SPILL_MAX   (2 * BUF_COUNT * BUF_SIZE) /* a safety net: one burst is at most the pool */
#define WAIT_BATCH  32 /* completions one io_uring_enter waits for, at most ... */
#define WAIT_MIN_US 20 /* ... and for no longer than this once one is there */

/* What a completion is about: user_data carries the descriptor and the operation. */
enum op { OP_ACCEPT, OP_LISTENER_READY, OP_RECV, OP_SEND, OP_READ, OP_CANCEL, OP_TIMER, OP_PROBE };

/* A connection as the ring sees it; links[fd]. */
struct link {
	struct conn *conn;
	unsigned in_kernel; /* requests the kernel holds that name this connection */
	bool receiving;	    /* the multishot recv is armed */
	bool sending;	    /* a send is in flight: out[] is the kernel's until it completes */
	bool reading;	/* --root: a file read into out[] is in flight, out[] the kernel's too */
	bool peer_done; /* EOF: the client sends nothing more */
	bool ending;	/* closing: freed when in_kernel reaches 0 */
	bool ahead;	/* it once sent more than in[] could take: one buffer per recv */
	char *spill;	/* bytes that came when in[] was full */
	size_t spill_len;
	size_t spill_cap; /* room in spill[]: doubled as needed, up to SPILL_MAX */
};

static struct io_uring ring;
static struct io_uring_buf_ring *pool; /* the provided-buffer ring, shared with the kernel */
static char *pool_bufs;		       /* BUF_COUNT buffers of BUF_SIZE */
static struct link *links;	       /* indexed by descriptor */
static long links_size;
static int listen_fd;
/* Every connection, least recently active first: --idle-timeout closes from the front. */
static struct conn_list by_activity;
static bool timer_armed;    /* a timeout request is in the kernel */
static unsigned wait_batch; /* WAIT_BATCH, or 1 where the kernel has no min-wait */

/* ---------------------------------------------------------------- requests */

static uint64_t tag(int fd, enum op op)
{
	return (uint64_t)fd << 32 | op;
}

/* A free submission entry; when all are taken, submit them to make room. */
static struct io_uring_sqe *new_request(int fd, enum op op)
{
	struct io_uring_sqe *sqe;

	while ((sqe = io_uring_get_sqe(&ring)) == NULL) {
		int ret = io_uring_submit(&ring);

		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			die_en(-ret, "io_uring_submit");
	}
	io_uring_sqe_set_data64(sqe, tag(fd, op));
	return sqe;
}

static void arm_accept(void)
{
	/* Blocking sockets: io_uring never blocks on them (it tries without
	   waiting, then waits inside the kernel), and some kernels answer a
	   request on an O_NONBLOCK socket with -EAGAIN instead of waiting. */
	io_uring_prep_multishot_accept(new_request(listen_fd, OP_ACCEPT), listen_fd, NULL, NULL,
				       SOCK_CLOEXEC);
}

static void arm_recv(struct link *l)
{
	struct io_uring_sqe *sqe = new_request(l->conn->fd, OP_RECV);

	if (l->ahead) /* one buffer at most, then wait: conn_run's back-pressure */
		io_uring_prep_recv(sqe, l->conn->fd, NULL, BUF_SIZE, 0);
	else /* every arrival, until it ends */
		io_uring_prep_recv_multishot(sqe, l->conn->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT; /* the kernel picks a buffer from the pool */
	sqe->buf_group = BUF_GROUP;
	l->receiving = true;
	l->in_kernel++;
}

static void stop_recv(struct link *l)
{
	io_uring_prep_cancel64(new_request(l->conn->fd, OP_CANCEL), tag(l->conn->fd, OP_RECV), 0);
}

static void send_out(struct link *l)
{
	struct conn *c = l->conn;
	/* MSG_NOSIGNAL: a peer that is gone makes it fail with EPIPE, no SIGPIPE.
	   MSG_MORE while a file has more to come: TCP holds a partial last
	   segment for the next chunk, as conn.c does for a head before sendfile. */
	int flags = MSG_NOSIGNAL | (c->file.fd >= 0 ? MSG_MORE : 0);

	io_uring_prep_send(new_request(c->fd, OP_SEND), c->fd, c->out + c->out_sent,
			   c->out_len - c->out_sent, flags);
	l->sending = true;
	l->in_kernel++;
}

/* --root: reads the file's next bytes into out[], behind what waits there (the
   head, the first time), as many as fit. The kernel does the reading: a cold
   disk makes this one request wait, never the loop. */
static void read_file(struct link *l)
{
	struct conn *c = l->conn;
	size_t room = CONN_OUT_SIZE - c->out_len;
	off_t left = c->file.end - c->file.offset;
	unsigned n = (unsigned)(left < (off_t)room ? left : (off_t)room);

	io_uring_prep_read(new_request(c->fd, OP_READ), c->file.fd, c->out + c->out_len, n,
			   (uint64_t)c->file.offset); /* the offset is ours: c->file.offset */
	l->reading = true;
	l->in_kernel++;
}

/* conn_serve said CONN_WRITE: send out[], or first fill it from the file. */
static void write_next(struct link *l)
{
	struct conn *c = l->conn;

	if (c->file.fd >= 0 && c->out_sent == 0 && c->out_len < CONN_OUT_SIZE)
		read_file(l);
	else
		send_out(l); /* what out[] holds, or the rest of a short send */
}

/* ---------------------------------------------------------------- the pool */

static char *buffer(unsigned bid)
{
	return pool_bufs + (size_t)bid * BUF_SIZE;
}

/* Lends buffer bid to the kernel (again). */
static void give_back(unsigned bid)
{
	io_uring_buf_ring_add(pool, buffer(bid), BUF_SIZE, (unsigned short)bid,
			      io_uring_buf_ring_mask(BUF_COUNT), 0);
	io_uring_buf_ring_advance(pool, 1);
}

/* Makes room for need bytes in spill[], doubling it (so a flood costs a few
   reallocations, not one per completion). Returns false when out of memory. */
static bool grow_spill(struct link *l, size_t need)
{
	size_t cap = l->spill_cap ? l->spill_cap : BUF_SIZE;
	char *p;

	while (cap < need)
		cap *= 2;
	if (cap > SPILL_MAX)
		cap = SPILL_MAX;
	p = realloc(l->spill, cap);
	if (p == NULL)
		return false;
	l->spill = p;
	l->spill_cap = cap;
	return true;
}

/* Copies received bytes into in[]; what does not fit waits in spill[], the
   recv is cancelled, and from then on the connection gets one buffer per
   recv: a multishot recv re-armed on a socket holding megabytes would take
   them all at once, as far as the pool goes. Returns false past SPILL_MAX or
   out of memory. */
static bool take(struct link *l, const char *bytes, size_t n)
{
	struct conn *c = l->conn;

	if (l->spill_len == 0) {
		size_t room = CONN_IN_SIZE - c->in_len, fit = n < room ? n : room;

		memcpy(c->in + c->in_len, bytes, fit);
		c->in_len += fit;
		bytes += fit;
		n -= fit;
		if (n == 0)
			return true;
		if (l->receiving)
			stop_recv(l);
		l->ahead = true;
	}
	if (l->spill_len + n > SPILL_MAX)
		return false;
	if (l->spill_len + n > l->spill_cap && !grow_spill(l, l->spill_len + n))
		return false;
	memcpy(l->spill + l->spill_len, bytes, n);
	l->spill_len += n;
	return true;
}

/* Moves spilled bytes into in[] as far as it has room. */
static void unspill(struct link *l)
{
	struct conn *c = l->conn;
	size_t room = CONN_IN_SIZE - c->in_len, n = l->spill_len < room ? l->spill_len : room;

	if (n == 0)
		return;
	memcpy(c->in + c->in_len, l->spill, n);
	c->in_len += n;
	l->spill_len -= n;
	memmove(l->spill, l->spill + n, l->spill_len);
}

/* ---------------------------------------------------------------- connections */

static void end(struct link *l)
{
	if (l->ending)
		return;
	l->ending = true;
	conn_list_remove(&by_activity, l->conn);
	if (l->in_kernel > 0) /* freed when the last of them completes */
		io_uring_prep_cancel_fd(new_request(l->conn->fd, OP_CANCEL), l->conn->fd,
					IORING_ASYNC_CANCEL_ALL);
}

/* Frees l once it is ending and the kernel holds nothing of it. */
static void release(struct link *l)
{
	if (!l->ending || l->in_kernel > 0)
		return;
	free(l->spill);
	conn_close(l->conn);
	memset(l, 0, sizeof *l);
}

static void drop(struct conn *c)
{
	end(&links[c->fd]);
	release(&links[c->fd]);
}

/* Serves what has arrived, as far as it can while no send is in flight. */
static void advance(struct link *l)
{
	enum conn_want want;

	if (l->ending || l->sending || l->reading)
		return; /* out[] is the kernel's until that request completes */
	do {
		unspill(l);
		want = conn_serve(l->conn);
	} while (want == CONN_READ && l->spill_len > 0);
	if (want == CONN_WRITE)
		write_next(l);
	else if (want == CONN_CLOSE || l->peer_done)
		end(l); /* after EOF, a partial request is never completed */
	else if (!l->receiving)
		arm_recv(l);
}

static void add(int fd, int64_t now)
{
	struct conn *c;

	if (fd >= links_size) { /* the limit was raised under us (prlimit) */
		net_refuse(fd, "descriptor past the table");
		return;
	}
	if (net_admit(fd) < 0)
		return; /* past --max-conns: refused with 503 */
	c = conn_new(fd, NET_BLOCKING);
	if (c == NULL) {
		net_refuse(fd, "out of memory");
		return;
	}
	links[fd].conn = c;
	conn_list_push(&by_activity, c, now);
	arm_recv(&links[fd]);
}

/* ---------------------------------------------------------------- completions */

static _Noreturn void unsupported(const char *what)
{
	fprintf(stderr, "io_uring: cannot run here: %s\n", what);
	exit(2);
}

static void on_accept(const struct io_uring_cqe *cqe, int64_t now)
{
	if (cqe->res >= 0)
		add(cqe->res, now);
	if (cqe->flags & IORING_CQE_F_MORE)
		return;
	if (cqe->res == -EINVAL)
		unsupported("multishot accept needs Linux 5.19");
	if (cqe->res >= 0) {
		arm_accept();
		return;
	}
	/* -EMFILE and the like: the request ended, and re-arming it now would
	   fail again at once (the descriptor is taken before a client is). So wait
	   until a client is really there, and accept it by hand, as net_accept
	   does for every model: at EMFILE, with the spare descriptor, to refuse it. */
	io_uring_prep_poll_add(new_request(listen_fd, OP_LISTENER_READY), listen_fd, POLLIN);
}

static void on_listener_ready(const struct io_uring_cqe *cqe, int64_t now)
{
	if (cqe->res > 0) { /* readable: a client waits, so accept4 will not block */
		int fd = net_accept(listen_fd, NET_BLOCKING);

		if (fd >= 0)
			add(fd, now);
	}
	arm_accept();
}

static void on_recv(struct link *l, const struct io_uring_cqe *cqe, int64_t now)
{
	bool ok = true;

	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;

		if (cqe->res > 0 && !l->ending)
			ok = take(l, buffer(bid), (size_t)cqe->res);
		give_back(bid);
	}
	if (!(cqe->flags & IORING_CQE_F_MORE)) { /* the request ended */
		l->receiving = false;
		l->in_kernel--;
		if (cqe->res == 0)
			l->peer_done = true;
		else if (cqe->res < 0 && cqe->res != -ENOBUFS && cqe->res != -ECANCELED)
			ok = false; /* ECONNRESET and friends */
	}
	if (!ok)
		end(l);
	if (!l->ending)
		conn_list_touch(&by_activity, l->conn, now);
	advance(l); /* -ENOBUFS: re-armed here, and the pool is full again by then */
	release(l);
}

static void on_send(struct link *l, const struct io_uring_cqe *cqe, int64_t now)
{
	struct conn *c = l->conn;

	l->sending = false;
	l->in_kernel--;
	if (cqe->res < 0) {
		end(l); /* EPIPE, ECONNRESET, or cancelled */
	} else {
		c->out_sent += (size_t)cqe->res; /* a short send: advance sends the rest */
		if (c->out_sent == c->out_len)
			c->out_len = c->out_sent = 0;
		if (!l->ending)
			conn_list_touch(&by_activity, c, now);
		advance(l);
	}
	release(l);
}

/* A chunk of the file is in out[]: count it, close the file after its last
   byte, and send. res 0 before the end: the file shrank under us, and the
   Content-Length we sent is a lie; the connection ends (as with sendfile). */
static void on_read(struct link *l, const struct io_uring_cqe *cqe)
{
	struct conn *c = l->conn;

	l->reading = false;
	l->in_kernel--;
	if (cqe->res <= 0) {
		end(l);
	} else {
		c->out_len += (size_t)cqe->res;
		c->file.offset += cqe->res;
		if (c->file.offset == c->file.end) {
			close(c->file.fd);
			c->file.fd = -1;
		}
		advance(l);
	}
	release(l);
}

static void on_completion(const struct io_uring_cqe *cqe, int64_t now)
{
	uint64_t data = io_uring_cqe_get_data64(cqe);
	int fd = (int)(data >> 32);

	switch ((enum op)(data & 0xff)) {
	case OP_ACCEPT: on_accept(cqe, now); break;
	case OP_LISTENER_READY: on_listener_ready(cqe, now); break;
	case OP_RECV: on_recv(&links[fd], cqe, now); break;
	case OP_SEND: on_send(&links[fd], cqe, now); break;
	case OP_READ: on_read(&links[fd], cqe); break;
	case OP_CANCEL: break;			   /* the cancelled request completes on its own */
	case OP_TIMER: timer_armed = false; break; /* expiry follows the reaping */
	case OP_PROBE: break;
	}
}

/* ---------------------------------------------------------------- start-up */

/* io_uring_setup failed: say why in one line (kernel.io_uring_disabled is Linux 6.6+). */
static _Noreturn void setup_failed(int err)
{
	char line[256];
	int disabled = 0;
	FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");

	if (f != NULL) {
		if (fscanf(f, "%d", &disabled) != 1)
			disabled = 0;
		fclose(f);
	}
	if (err == ENOSYS)
		snprintf(line, sizeof line,
			 "io_uring_setup: %s (a kernel without io_uring, or "
			 "a seccomp filter)",
			 strerror(err));
	else if (err == EPERM)
		snprintf(line, sizeof line,
			 "io_uring_setup: %s (kernel.io_uring_disabled=%d, or "
			 "a seccomp filter, as in containers)",
			 strerror(err), disabled);
	else
		snprintf(line, sizeof line, "io_uring_setup: %s", strerror(err));
	unsupported(line);
}

/* The pool: BUF_COUNT entries the kernel takes buffers from, in memory we
   share with it (page-aligned, so mmap), then the buffers themselves. */
static void pool_start(void)
{
	size_t ring_bytes = BUF_COUNT * sizeof(struct io_uring_buf);
	struct io_uring_buf_reg reg;
	char *mem = mmap(NULL, ring_bytes + (size_t)BUF_COUNT * BUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ret;

	if (mem == MAP_FAILED)
		die("mmap(%d buffers)", BUF_COUNT);
	pool = (struct io_uring_buf_ring *)mem;
	pool_bufs = mem + ring_bytes;
	io_uring_buf_ring_init(pool);
	memset(&reg, 0, sizeof reg);
	reg.ring_addr = (unsigned long)pool;
	reg.ring_entries = BUF_COUNT;
	reg.bgid = BUF_GROUP;
	ret = io_uring_register_buf_ring(&ring, &reg, 0);
	if (ret < 0) {
		char line[128];

		snprintf(line, sizeof line, "a provided-buffer ring needs Linux 5.19 (%s)",
			 strerror(-ret));
		unsupported(line);
	}
	for (unsigned bid = 0; bid < BUF_COUNT; bid++)
		give_back(bid);
}

/* Multishot recv cannot be asked about, only tried: a kernel before 6.0 fails
   it with -EINVAL or quietly does it once. One byte on a socket pair, then EOF:
   a kernel that knows it answers "1 byte, F_MORE", then "0". */
static bool recv_multishot_works(void)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	bool works = false, first = true, more = true;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		die("socketpair");
	if (write(sv[1], "x", 1) != 1)
		die("write(socketpair)");
	close(sv[1]);
	sqe = new_request(sv[0], OP_PROBE);
	io_uring_prep_recv_multishot(sqe, sv[0], NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BUF_GROUP;
	io_uring_submit(&ring);
	while (more) {
		int ret = io_uring_wait_cqe(&ring, &cqe);

		if (ret == -EINTR)
			continue;
		if (ret < 0)
			die_en(-ret, "io_uring_wait_cqe");
		if (first)
			works = cqe->res == 1 && (cqe->flags & IORING_CQE_F_MORE);
		first = false;
		if (cqe->flags & IORING_CQE_F_BUFFER)
			give_back(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
		more = cqe->flags & IORING_CQE_F_MORE;
		io_uring_cqe_seen(&ring, cqe);
	}
	close(sv[0]);
	return works;
}

static void ring_start(void)
{
	struct io_uring_params p;
	struct rlimit lim;
	int ret;

	memset(&p, 0, sizeof p);
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	p.cq_entries = CQ_ENTRIES;
	ret = io_uring_queue_init_params(SQ_ENTRIES, &ring, &p);
	if (ret == -EINVAL)
		unsupported("io_uring_setup(IORING_SETUP_DEFER_TASKRUN) needs Linux 6.1");
	if (ret < 0)
		setup_failed(-ret);
	if (!(p.features & IORING_FEAT_NODROP))
		unsupported("io_uring needs Linux 5.5 (IORING_FEAT_NODROP)");
	ret = io_uring_register_ring_fd(&ring);
	if (ret < 0)
		unsupported("registering the ring's descriptor needs Linux 5.18");
	wait_batch = p.features & IORING_FEAT_MIN_TIMEOUT ? WAIT_BATCH : 1;
	pool_start();
	if (!recv_multishot_works())
		unsupported("multishot recv needs Linux 6.0");

	if (getrlimit(RLIMIT_NOFILE, &lim) == -1)
		die("getrlimit");
	links_size = lim.rlim_cur == RLIM_INFINITY ? 1L << 20 : (long)lim.rlim_cur;
	links = calloc((size_t)links_size, sizeof *links); /* untouched pages cost nothing */
	if (links == NULL)
		die("calloc(%ld connections)", links_size);
}

/* ---------------------------------------------------------------- the loop */

/* io_uring_enter's extended argument (IORING_ENTER_EXT_ARG) as Linux 6.12
   defines it: liburing 2.3 (Debian 12) still calls min_wait_usec "pad". */
struct wait_arg {
	uint64_t sigmask;
	uint32_t sigmask_sz;
	uint32_t min_wait_usec;
	uint64_t ts; /* a struct __kernel_timespec *: the longest wait */
};

/* One io_uring_enter for the whole turn: submits the requests prepared since
   the last one, then waits for wait_nr completions, or, once the first is
   there, for WAIT_MIN_US at most. (liburing 2.8's
   io_uring_submit_and_wait_min_timeout; 2.3 has no call for it, so we publish
   the new tail of the submission queue ourselves, as its io_uring_submit does.) */
static int enter(unsigned wait_nr)
{
	static struct __kernel_timespec forever = { .tv_sec = 3600 }; /* -ETIME: once an hour */
	struct wait_arg arg = { .ts = (uint64_t)(uintptr_t)&forever };
	struct io_uring_sq *sq = &ring.sq;
	unsigned to_submit;

	if (wait_nr > 1)
		arg.min_wait_usec = WAIT_MIN_US;
	io_uring_smp_store_release(sq->ktail, sq->sqe_tail); /* the kernel sees them now */
	sq->sqe_head = sq->sqe_tail;
	to_submit = sq->sqe_tail - io_uring_smp_load_acquire(sq->khead);
	return io_uring_enter2(ring.enter_ring_fd, to_submit, wait_nr,
			       IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG |
				       IORING_ENTER_REGISTERED_RING,
			       (sigset_t *)&arg, sizeof arg);
}

/* With --idle-timeout the kernel keeps time too: one timeout request, armed
   for the moment the oldest connection expires, completes then and wakes the
   loop (a connection touched since only makes it early: it is armed again). */
static void arm_timer(void)
{
	static struct __kernel_timespec ts; /* read at submission: it must outlive this call */
	int ms = conn_list_timeout(&by_activity, now_ms());

	if (timer_armed || ms < 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000LL;
	io_uring_prep_timeout(new_request(0, OP_TIMER), &ts, 0, 0);
	timer_armed = true;
}

int main(int argc, char **argv)
{
	unsigned reaped = 0; /* completions the last turn found */

	server_init(argc, argv, "io_uring",
		    "One thread; io_uring(7) completions: multishot accept and recv into a\n"
		    "provided-buffer pool, sends batched, one io_uring_enter per turn (Linux 6.1+).\n"
		    "--root files are read by the kernel (IORING_OP_READ), 16 KiB at a time, then\n"
		    "sent. -t and --cork are ignored.");
	ring_start();
	listen_fd = net_listen(NET_BLOCKING);
	arm_accept();

	while (!server_stopping) {
		struct io_uring_cqe *cqe;
		unsigned head;
		int64_t now;
		int ret;

		arm_timer();
		/* One io_uring_enter: submits this turn's requests, waits for a batch
		   of completions (or a signal: then server_stopping says what to do). */
		ret = enter(reaped > 1 ? wait_batch : 1); /* one at a time while it is quiet */
		reaped = 0;
		if (ret < 0 && ret != -EINTR && ret != -ETIME)
			die_en(-ret, "io_uring_enter");
		stat_add(&stats->wakeups, 1);
		now = now_ms();
		io_uring_for_each_cqe(&ring, head, cqe)
		{
			on_completion(cqe, now);
			reaped++;
		}
		io_uring_cq_advance(&ring, reaped);
		stat_add(&stats->events, reaped);
		conn_list_expire(&by_activity, now, drop);
	}
	io_uring_queue_exit(&ring);
	return server_finish();
}
