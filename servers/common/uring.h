/*
 * uring.h - the io_uring plumbing that bin/io_uring (servers/io_uring.c) and
 * loadgen's --engine io_uring (clients/engine_uring.c) share: making a ring
 * and checking that this kernel can run it, the pool of provided buffers,
 * getting a submission entry, and the one io_uring_enter of a turn. The two
 * programs keep what is their model: the loop, the handlers, who owns what.
 *
 * It needs liburing 2.3 or newer at build time (buffer rings, multishot
 * recv, the SINGLE_ISSUER and DEFER_TASKRUN flags; the Makefile probes for
 * exactly these), and Linux 6.1 at run time, checked by uring_start.
 *
 * user_data, the 64 bits a request carries to its completion:
 *
 *   63            32 31                  8 7        0
 *   +---------------+---------------------+----------+
 *   |     owner     |     generation      |    op    |
 *   +---------------+---------------------+----------+
 *   owner: the server's descriptor, or loadgen's connection index;
 *   generation: loadgen counts a connection's closes, so a completion for
 *   its previous descriptor is told apart (the server's is always 0);
 *   op: what the request was, each program's own enum op.
 *
 * The life of a provided buffer (the pool, URING_BUFS of URING_BUF_SIZE):
 *   1. uring_start maps the pool in memory the kernel shares, registers it
 *      as group URING_GROUP, and lends it every buffer.
 *   2. A recv with IOSQE_BUFFER_SELECT names no buffer; when bytes arrive,
 *      the kernel takes the next lent one and fills it.
 *   3. The completion says which (IORING_CQE_F_BUFFER, uring_cqe_buffer):
 *      from now on the buffer is ours, and the kernel will not touch it.
 *   4. We copy or parse its bytes, at once.
 *   5. uring_lend gives it back: a store in shared memory, no syscall.
 *   While every buffer is ours, a recv ends with -ENOBUFS; the bytes wait
 *   in the socket until it is armed again.
 */
#ifndef URING_H
#define URING_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#define URING_BUFS     256  /* provided buffers in the pool, a power of two */
#define URING_BUF_SIZE 2048 /* bytes each */
#define URING_GROUP    0    /* the pool's id, named by every recv */

struct uring {
	struct io_uring ring;
	const char *who;		/* starts the line uring_unsupported prints */
	unsigned min_wait_us;		/* a batch waits this long at most once one is there */
	unsigned features;		/* IORING_FEAT_* this kernel reported */
	struct io_uring_buf_ring *lent; /* the pool's ring, shared with the kernel */
	char *bufs;			/* URING_BUFS buffers of URING_BUF_SIZE */
	size_t map_bytes;		/* the mapping of both */
};

/* Prints "WHO: cannot run here: WHAT" on stderr, one line, and exits 2. */
_Noreturn void uring_unsupported(const struct uring *u, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Makes u's ring (sq_entries, cq_entries; one thread submits, and completions
   are posted only when it enters), registers its descriptor and the pool, and
   lends the pool. Where this kernel cannot, calls uring_unsupported: the
   line names what is missing and the Linux version that has it. Set u->who
   first. */
void uring_start(struct uring *u, unsigned sq_entries, unsigned cq_entries);

/* Takes the ring and the pool down; requests still in flight are cancelled. */
void uring_stop(struct uring *u);

/* Returns a free submission entry, its user_data set to `data`; when every
   entry is taken, first submits them to make room (one io_uring_enter). */
struct io_uring_sqe *uring_request(struct uring *u, uint64_t data);

/* Prepares sqe as a recv into a buffer of the pool, the kernel's pick. */
void uring_select_buffer(struct io_uring_sqe *sqe);

/* One io_uring_enter: submits every request prepared since the last, then
   waits until wait_nr completions are there, or timeout_ns has passed. With
   u->min_wait_us set, a batch (wait_nr > 1) waits that long at most once the
   first is there; where the kernel has no min-wait (before 6.12), it waits
   for the first only. Returns what io_uring_enter returns: >= 0, -EINTR (a
   signal), -ETIME (timed out). */
int uring_enter(struct uring *u, unsigned wait_nr, uint64_t timeout_ns);

/* Returns the user_data of a request: owner, generation (24 bits), op. */
static inline uint64_t uring_tag(uint32_t owner, uint32_t gen, unsigned op)
{
	return (uint64_t)owner << 32 | (uint64_t)(gen & 0xffffff) << 8 | (op & 0xff);
}

/* Return the three fields of a tag, as uring_tag packed them. */
static inline uint32_t uring_tag_owner(uint64_t tag)
{
	return (uint32_t)(tag >> 32);
}
static inline uint32_t uring_tag_gen(uint64_t tag)
{
	return (uint32_t)(tag >> 8) & 0xffffff;
}
static inline unsigned uring_tag_op(uint64_t tag)
{
	return (unsigned)(tag & 0xff);
}

/* Returns the buffer a recv completion filled, or -1 when it filled none. */
static inline int uring_cqe_buffer(const struct io_uring_cqe *cqe)
{
	return cqe->flags & IORING_CQE_F_BUFFER ? (int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT) : -1;
}

/* Returns the memory of buffer bid. */
static inline char *uring_buffer(const struct uring *u, int bid)
{
	return u->bufs + (size_t)bid * URING_BUF_SIZE;
}

/* Lends buffer bid to the kernel again (step 5 above). */
void uring_lend(struct uring *u, int bid);

/* Bytes a completion brought that the connection cannot take yet: a
   completion cannot be refused, as a readiness loop refuses by not reading. */
struct uring_spill {
	char *bytes;
	size_t len, cap; /* cap doubles as needed, up to URING_SPILL_MAX */
};

#define URING_SPILL_MAX (2 * URING_BUFS * URING_BUF_SIZE) /* one burst fills the pool at most */

/* Appends n bytes to s. Returns false, keeping nothing, past URING_SPILL_MAX
   or out of memory. */
bool uring_spill_add(struct uring_spill *s, const char *bytes, size_t n);

/* Moves up to room of s's oldest bytes to dst. Returns how many it moved. */
size_t uring_spill_take(struct uring_spill *s, char *dst, size_t room);

/* Frees what s holds; s is empty again. */
void uring_spill_free(struct uring_spill *s);

#endif
