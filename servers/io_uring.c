/*
 * io_uring.c - one thread, io_uring(7): completions instead of readiness.
 *
 *   bin/io_uring [-p PORT] ...        (bin/io_uring -h for every option)
 *
 * The model. Every other model asks the kernel "which sockets are READY?" and
 * then does the I/O itself. Here we hand the kernel the I/O itself, as
 * requests in a ring we share with it, and it tells us when each is DONE:
 * "accepted fd 7", "received 78 bytes into buffer 12", "sent 89 bytes".
 *
 *        our thread                             the kernel
 *    +-----------------+   submission queue   +---------------------------+
 *    | loop:           |  [send 5][recv 7]    | holds each request until  |
 *    |  prepare SQEs -----------------------> | it can be done: accept,   |
 *    |  io_uring_enter |                      | recv into a buffer it     |
 *    |  reap CQEs <-------------------------- | takes from the pool, send |
 *    +-----------------+   completion queue   +---------------------------+
 *            |           [fd 7][78 B, buf 12]              ^
 *            +--- buffer 12 lent again ---> the pool (shared memory)
 *
 * One request served, side by side with servers/epoll_et.c:
 *   epoll_et: epoll_wait says fd 5 is readable; read(); write().
 *   here:     the recv armed once per connection (multishot) completes with
 *             the bytes; conn_serve answers; the send is a request, submitted
 *             with every other in the next io_uring_enter, the one syscall.
 *
 * Who owns memory, and when. From submission until its completion, the
 * memory a request names is the kernel's: it may read or write it at any
 * moment. So out[] is not touched while a send (or a file read into it) is
 * in flight, and a connection is freed only when the kernel holds no request
 * naming it (in_kernel == 0). Receives name no memory: the kernel picks a
 * buffer from the pool only when bytes arrive, so 10,000 idle connections
 * hold none; we copy the bytes into in[] and lend the buffer again at once
 * (its numbered life cycle is in common/uring.h).
 *
 * Multishot: one accept yields a completion per client, one recv one per
 * arrival, each flagged IORING_CQE_F_MORE while the request stays armed. One
 * without F_MORE ended it, and we arm it again: after an error, a cancel, or
 * -ENOBUFS (the pool was empty; the bytes wait in the socket). A completion
 * cannot be refused, so a client that sends faster than it reads its answers
 * has its recv cancelled; what came meanwhile waits in its spill, and from
 * then on it gets one buffer per single-shot recv, armed only when in[] has
 * room. And a multishot accept keeps the descriptor limit in force when it
 * was armed: lowering it later (prlimit) does not reach it.
 *
 * Files (--root). A regular file is always "ready", so in a readiness loop a
 * read() from a cold disk sleeps in the loop's one thread. Here the read is
 * one more request (IORING_OP_READ into out[], 16 KiB at a time, then sent):
 * a cold disk makes that request wait, in the kernel, while the loop goes on.
 *
 * Syscalls and kernels: io_uring_setup (5.1) with SINGLE_ISSUER and
 * DEFER_TASKRUN (6.1: completions are posted only when we enter, not by
 * interrupting the loop), provided-buffer ring and multishot accept (5.19),
 * multishot recv (6.0), IORING_OP_READ (5.6), timeouts (5.4), io_uring_enter
 * with min-wait (6.12, optional: a turn that found several completions waits
 * for a batch, at most WAIT_MIN_US after the first). So: Linux 6.1, checked
 * at start-up by common/uring.c; a kernel without it gets one line, exit 2.
 * Built with liburing 2.3 or newer. Per request on a kept-alive connection:
 * one recv completion, one send and its completion, a share of one enter.
 *
 * Compare: servers/epoll_et.c, and clients/engine_uring.c (the client side).
 */
#include "server.h"
#include "uring.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define SQ_ENTRIES  1024 /* requests submitted per io_uring_enter, at most */
#define CQ_ENTRIES  8192 /* completions waiting to be reaped (more go on a kernel list) */
#define WAIT_BATCH  32	 /* completions one io_uring_enter waits for, at most ... */
#define WAIT_MIN_US 20	 /* ... and for no longer than this once one is there */
#define FOREVER_NS  (3600 * 1000000000ULL) /* -ETIME once an hour: harmless */

/* What a request is (the op of its tag, uring.h); also the bits of in_kernel. */
enum op {
	OP_ACCEPT = 1,
	OP_LISTENER_READY = 2, /* poll: a client waits (after -EMFILE ended the accept) */
	OP_RECV = 4,
	OP_SEND = 8,
	OP_READ = 16, /* --root: a file's bytes into out[] */
	OP_CANCEL = 32,
	OP_TIMER = 64, /* --idle-timeout */
};

/*
 * A connection as the ring sees it (links[fd]); what moves it:
 *
 *   from      event                                        to
 *   OPEN      accepted: a multishot recv armed             OPEN
 *   OPEN      bytes: served; an answer is sent (or a       OPEN
 *             file read first), never two at once
 *   OPEN      more bytes than in[] holds: recv cancelled,  OPEN, one_by_one
 *             the rest kept in spill[]
 *   OPEN      recv completes with 0 (the client's FIN)     PEER_DONE
 *   PEER_DONE what is complete is answered                 ENDING
 *   any       error, Connection: close, idle timeout       ENDING: what the
 *                                                          kernel holds cancelled
 *   ENDING    its last request completes (in_kernel 0)     freed, fd closed
 */
enum link_state { L_OPEN, L_PEER_DONE, L_ENDING };

struct link {
	struct conn *conn;
	uint8_t state;		  /* enum link_state */
	uint8_t in_kernel;	  /* requests the kernel holds for it: OP_RECV, OP_SEND, OP_READ */
	bool one_by_one;	  /* it once sent more than in[] took: one buffer per recv */
	struct uring_spill spill; /* bytes that came when in[] was full */
};

static struct uring u = { .who = "io_uring", .min_wait_us = WAIT_MIN_US };
static struct link *links; /* indexed by descriptor */
static long links_size;
static int listen_fd;
/* Every connection, least recently active first: --idle-timeout closes from the front. */
static struct conn_list by_activity;
static bool timer_armed; /* a timeout request is in the kernel */

/* ---------------------------------------------------------------- requests */

static struct io_uring_sqe *request(int fd, enum op op)
{
	return uring_request(&u, uring_tag((uint32_t)fd, 0, op));
}

static void arm_accept(void)
{
	/* Blocking sockets: io_uring never blocks on them (it tries, then waits
	   in the kernel), and some kernels answer a request on an O_NONBLOCK
	   socket with -EAGAIN instead of waiting. */
	io_uring_prep_multishot_accept(request(listen_fd, OP_ACCEPT), listen_fd, NULL, NULL,
				       SOCK_CLOEXEC);
}

static void arm_recv(struct link *l)
{
	struct io_uring_sqe *sqe = request(l->conn->fd, OP_RECV);

	if (l->one_by_one) /* one buffer at most, then wait: conn_run's back-pressure */
		io_uring_prep_recv(sqe, l->conn->fd, NULL, URING_BUF_SIZE, 0);
	else /* every arrival, until it ends */
		io_uring_prep_recv_multishot(sqe, l->conn->fd, NULL, 0, 0);
	uring_select_buffer(sqe);
	l->in_kernel |= OP_RECV;
}

static void send_out(struct link *l)
{
	struct conn *c = l->conn;
	/* MSG_NOSIGNAL: a peer that is gone makes it fail with EPIPE, no SIGPIPE.
	   MSG_MORE while a file has more to come: TCP holds a partial last
	   segment for the next chunk, as conn.c does for a head before sendfile. */
	int flags = MSG_NOSIGNAL | (c->file.fd >= 0 ? MSG_MORE : 0);

	io_uring_prep_send(request(c->fd, OP_SEND), c->fd, c->out + c->out_sent,
			   c->out_len - c->out_sent, flags);
	l->in_kernel |= OP_SEND;
}

/* --root: the file's next bytes into out[], behind what waits there (the
   head, the first time), as many as fit; the offset is ours to name. */
static void read_file(struct link *l)
{
	struct conn *c = l->conn;
	size_t room = CONN_OUT_SIZE - c->out_len;
	off_t left = c->file.end - c->file.offset;
	unsigned n = (unsigned)(left < (off_t)room ? left : (off_t)room);

	io_uring_prep_read(request(c->fd, OP_READ), c->file.fd, c->out + c->out_len, n,
			   (uint64_t)c->file.offset);
	l->in_kernel |= OP_READ;
}

/* Copies received bytes into in[]; what does not fit is spilled, and the
   recv goes one buffer at a time (a multishot recv on a socket holding
   megabytes would take the whole pool). Returns false when the spill does. */
static bool take(struct link *l, const char *bytes, size_t n)
{
	struct conn *c = l->conn;

	if (l->spill.len == 0) {
		size_t room = CONN_IN_SIZE - c->in_len, fit = n < room ? n : room;

		memcpy(c->in + c->in_len, bytes, fit);
		c->in_len += fit;
		if (fit == n)
			return true;
		bytes += fit;
		n -= fit;
		if (l->in_kernel & OP_RECV)
			io_uring_prep_cancel64(request(c->fd, OP_CANCEL),
					       uring_tag((uint32_t)c->fd, 0, OP_RECV), 0);
		l->one_by_one = true;
	}
	return uring_spill_add(&l->spill, bytes, n);
}

/* ---------------------------------------------------------------- connections */

static void end(struct link *l)
{
	if (l->state == L_ENDING)
		return;
	l->state = L_ENDING;
	conn_list_remove(&by_activity, l->conn);
	if (l->in_kernel) /* freed when the last of them completes */
		io_uring_prep_cancel_fd(request(l->conn->fd, OP_CANCEL), l->conn->fd,
					IORING_ASYNC_CANCEL_ALL);
}

/* Frees l once it is ending and the kernel holds nothing of it. */
static void release(struct link *l)
{
	if (l->state != L_ENDING || l->in_kernel)
		return;
	uring_spill_free(&l->spill);
	conn_close(l->conn);
	memset(l, 0, sizeof *l);
}

static void drop(struct conn *c)
{
	end(&links[c->fd]);
	release(&links[c->fd]);
}

/* Serves what has arrived, as far as it can while out[] is ours. */
static void advance(struct link *l)
{
	struct conn *c = l->conn;
	enum conn_want want;

	if (l->state == L_ENDING || (l->in_kernel & (OP_SEND | OP_READ)))
		return; /* out[] is the kernel's until that request completes */
	/* spilled bytes go into in[] first, as far as it has room */
	do {
		size_t room = CONN_IN_SIZE - c->in_len;

		c->in_len += uring_spill_take(&l->spill, c->in + c->in_len, room);
		want = conn_serve(c);
	} while (want == CONN_READ && l->spill.len > 0);
	if (want == CONN_WRITE && c->file.fd >= 0 && c->out_sent == 0 && c->out_len < CONN_OUT_SIZE)
		read_file(l); /* --root: fill out[] from the file first */
	else if (want == CONN_WRITE)
		send_out(l); /* what out[] holds, or the rest of a short send */
	else if (want == CONN_CLOSE || l->state == L_PEER_DONE)
		end(l); /* after the FIN, a partial request is never completed */
	else if (!(l->in_kernel & OP_RECV))
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

static void on_accept(const struct io_uring_cqe *cqe, int64_t now)
{
	if (cqe->res >= 0)
		add(cqe->res, now);
	if (cqe->flags & IORING_CQE_F_MORE)
		return;
	if (cqe->res >= 0) {
		arm_accept();
		return;
	}
	/* -EMFILE ended it, and would again at once: wait for a client, and
	   accept it by hand (net_accept refuses it with the spare descriptor). */
	io_uring_prep_poll_add(request(listen_fd, OP_LISTENER_READY), listen_fd, POLLIN);
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

/* Bytes arrived (or the recv ended): take them, give the buffer back at once,
   and serve; -ENOBUFS or a cancel only ends the recv, and advance re-arms it. */
static void on_recv(struct link *l, const struct io_uring_cqe *cqe, int64_t now)
{
	int bid = uring_cqe_buffer(cqe);
	bool ok = true;

	if (bid >= 0) {
		if (cqe->res > 0 && l->state != L_ENDING)
			ok = take(l, uring_buffer(&u, bid), (size_t)cqe->res);
		uring_lend(&u, bid);
	}
	if (!(cqe->flags & IORING_CQE_F_MORE)) { /* the request ended */
		l->in_kernel &= ~OP_RECV;
		if (cqe->res == 0 && l->state == L_OPEN)
			l->state = L_PEER_DONE;
		else if (cqe->res < 0 && cqe->res != -ENOBUFS && cqe->res != -ECANCELED)
			ok = false; /* ECONNRESET and friends */
	}
	if (!ok)
		end(l);
	if (l->state != L_ENDING)
		conn_list_touch(&by_activity, l->conn, now);
	advance(l);
	release(l);
}

static void on_send(struct link *l, const struct io_uring_cqe *cqe, int64_t now)
{
	struct conn *c = l->conn;

	l->in_kernel &= ~OP_SEND;
	if (cqe->res < 0) {
		end(l); /* EPIPE, ECONNRESET, or cancelled */
	} else {
		c->out_sent += (size_t)cqe->res; /* a short send: advance sends the rest */
		if (c->out_sent == c->out_len)
			c->out_len = c->out_sent = 0;
		if (l->state != L_ENDING)
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

	l->in_kernel &= ~OP_READ;
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
	uint64_t tag = io_uring_cqe_get_data64(cqe);
	struct link *l = &links[uring_tag_owner(tag)];

	switch ((enum op)uring_tag_op(tag)) {
	case OP_ACCEPT: on_accept(cqe, now); break;
	case OP_LISTENER_READY: on_listener_ready(cqe, now); break;
	case OP_RECV: on_recv(l, cqe, now); break;
	case OP_SEND: on_send(l, cqe, now); break;
	case OP_READ: on_read(l, cqe); break;
	case OP_CANCEL: break;			   /* the cancelled request completes on its own */
	case OP_TIMER: timer_armed = false; break; /* expiry follows the reaping */
	}
}

/* ---------------------------------------------------------------- the loop */

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
	io_uring_prep_timeout(request(0, OP_TIMER), &ts, 0, 0);
	timer_armed = true;
}

/* The connection table, one link per possible descriptor. */
static void links_start(void)
{
	struct rlimit lim;

	if (getrlimit(RLIMIT_NOFILE, &lim) == -1)
		die("getrlimit");
	links_size = lim.rlim_cur == RLIM_INFINITY ? 1L << 20 : (long)lim.rlim_cur;
	links = calloc((size_t)links_size, sizeof *links); /* untouched pages cost nothing */
	if (links == NULL)
		die("calloc(%ld connections)", links_size);
}

int main(int argc, char **argv)
{
	unsigned reaped = 0; /* completions the last turn found */

	server_init(argc, argv, "io_uring",
		    "One thread; io_uring(7) completions: multishot accept and recv into a\n"
		    "provided-buffer pool, sends batched, one io_uring_enter per turn (Linux 6.1+).\n"
		    "--root files are read by the kernel (IORING_OP_READ), 16 KiB at a time, then\n"
		    "sent. -t and --cork are ignored.");
	uring_start(&u, SQ_ENTRIES, CQ_ENTRIES);
	links_start();
	listen_fd = net_listen(NET_BLOCKING);
	arm_accept();

	while (!server_stopping) {
		struct io_uring_cqe *cqe;
		unsigned head;
		int64_t now;
		int ret;

		arm_timer();
		/* Submit this turn's requests and wait: for one completion while it
		   is quiet, for a batch after a busy turn (or for a signal: then
		   server_stopping says what to do). */
		ret = uring_enter(&u, reaped > 1 ? WAIT_BATCH : 1, FOREVER_NS);
		reaped = 0;
		if (ret < 0 && ret != -EINTR && ret != -ETIME)
			die_en(-ret, "io_uring_enter");
		stat_add(&stats->wakeups, 1);
		now = now_ms();
		io_uring_for_each_cqe(&u.ring, head, cqe)
		{
			on_completion(cqe, now);
			reaped++;
		}
		io_uring_cq_advance(&u.ring, reaped);
		stat_add(&stats->events, reaped);
		conn_list_expire(&by_activity, now, drop);
	}
	uring_stop(&u);
	return server_finish();
}
