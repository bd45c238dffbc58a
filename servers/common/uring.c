/*
 * uring.c - making an io_uring and its pool, and checking that this kernel
 * can run them; the one io_uring_enter of a turn (uring.h says what each
 * call promises).
 *
 * One check stands for many. IORING_SETUP_DEFER_TASKRUN came in Linux 6.1,
 * after everything else both programs use: FEAT_NODROP (5.5), FEAT_EXT_ARG
 * (5.11), registering the ring's descriptor (5.18), the provided-buffer ring
 * and multishot accept (5.19), multishot recv (6.0). So a kernel that takes
 * the flag has them all, and one line, "needs Linux 6.1", is the whole
 * answer. What can still fail on a 6.1 kernel is a refusal: a seccomp filter
 * (containers) or kernel.io_uring_disabled; the line says so.
 */
#include "uring.h"

#include "toolkit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifndef IORING_FEAT_MIN_TIMEOUT
#define IORING_FEAT_MIN_TIMEOUT (1U << 15) /* Linux 6.12; newer than liburing 2.3 */
#endif

void uring_unsupported(const struct uring *u, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: cannot run here: ", u->who);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* io_uring_setup failed with err: say why, with the likely cause. */
static _Noreturn void setup_failed(const struct uring *u, int err)
{
	int disabled = -1; /* kernel.io_uring_disabled: Linux 6.6 and newer */
	FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");

	if (f != NULL) {
		if (fscanf(f, "%d", &disabled) != 1)
			disabled = -1;
		fclose(f);
	}
	if (err == EINVAL)
		uring_unsupported(u, "io_uring_setup(IORING_SETUP_DEFER_TASKRUN) needs Linux 6.1");
	if (err == ENOSYS)
		uring_unsupported(u,
				  "io_uring_setup: %s (a kernel without io_uring, or a seccomp filter)",
				  strerror(err));
	if (err == EPERM)
		uring_unsupported(u,
				  "io_uring_setup: %s (kernel.io_uring_disabled=%d, or a seccomp "
				  "filter, as in containers)",
				  strerror(err), disabled);
	uring_unsupported(u, "io_uring_setup: %s", strerror(err));
}

void uring_lend(struct uring *u, int bid)
{
	io_uring_buf_ring_add(u->lent, uring_buffer(u, bid), URING_BUF_SIZE, (unsigned short)bid,
			      io_uring_buf_ring_mask(URING_BUFS), 0);
	io_uring_buf_ring_advance(u->lent, 1); /* the kernel sees it from now on */
}

/* Step 1 of a buffer's life: the ring of lent buffers first, page-aligned
   (mmap) because the kernel maps it too, then the buffers themselves. */
static void pool_start(struct uring *u)
{
	size_t ring_bytes = URING_BUFS * sizeof(struct io_uring_buf);
	struct io_uring_buf_reg reg;
	char *mem;
	int ret;

	u->map_bytes = ring_bytes + (size_t)URING_BUFS * URING_BUF_SIZE;
	mem = mmap(NULL, u->map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap(%d buffers)", URING_BUFS);
	u->lent = (struct io_uring_buf_ring *)mem;
	u->bufs = mem + ring_bytes;
	io_uring_buf_ring_init(u->lent);
	memset(&reg, 0, sizeof reg);
	reg.ring_addr = (unsigned long)u->lent;
	reg.ring_entries = URING_BUFS;
	reg.bgid = URING_GROUP;
	ret = io_uring_register_buf_ring(&u->ring, &reg, 0);
	if (ret < 0)
		uring_unsupported(u, "a provided-buffer ring needs Linux 5.19 (%s)",
				  strerror(-ret));
	for (int bid = 0; bid < URING_BUFS; bid++)
		uring_lend(u, bid);
}

void uring_start(struct uring *u, unsigned sq_entries, unsigned cq_entries)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof p);
	/* SINGLE_ISSUER: only this thread touches the ring. DEFER_TASKRUN: the
	   kernel finishes our requests' work, and posts their completions, only
	   when we enter to wait, instead of interrupting us as packets land. */
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	p.cq_entries = cq_entries;
	ret = io_uring_queue_init_params(sq_entries, &u->ring, &p);
	if (ret < 0)
		setup_failed(u, -ret);
	u->features = p.features;
	/* registered, the ring's descriptor is not looked up on every enter */
	ret = io_uring_register_ring_fd(&u->ring);
	if (ret < 0)
		uring_unsupported(u, "registering the ring's descriptor needs Linux 5.18 (%s)",
				  strerror(-ret));
	pool_start(u);
}

void uring_stop(struct uring *u)
{
	io_uring_queue_exit(&u->ring); /* first: the kernel may still write to the pool */
	munmap(u->lent, u->map_bytes);
}

/* Is min-wait (Linux 6.12) there, for uring_enter to bound a batch? */
static bool has_min_wait(const struct uring *u)
{
	return u->features & IORING_FEAT_MIN_TIMEOUT;
}

struct io_uring_sqe *uring_request(struct uring *u, uint64_t data)
{
	struct io_uring_sqe *sqe;

	while ((sqe = io_uring_get_sqe(&u->ring)) == NULL) {
		int ret = io_uring_submit(&u->ring);

		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			die_en(-ret, "io_uring_submit");
	}
	io_uring_sqe_set_data64(sqe, data);
	return sqe;
}

void uring_select_buffer(struct io_uring_sqe *sqe)
{
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = URING_GROUP;
}

/* io_uring_enter's extended argument (IORING_ENTER_EXT_ARG) as Linux 6.12
   defines it; liburing 2.3 still calls min_wait_usec "pad". */
struct wait_arg {
	uint64_t sigmask;
	uint32_t sigmask_sz;
	uint32_t min_wait_usec;
	uint64_t ts; /* a struct __kernel_timespec *: the longest wait */
};

/* liburing 2.8 has this call (io_uring_submit_and_wait_min_timeout); 2.3 has
   none with min-wait, so we publish the submission queue's new tail
   ourselves, as its io_uring_submit does, and enter once. */
int uring_enter(struct uring *u, unsigned wait_nr, uint64_t timeout_ns)
{
	struct __kernel_timespec ts = { .tv_sec = (long long)(timeout_ns / 1000000000),
					.tv_nsec = (long long)(timeout_ns % 1000000000) };
	struct wait_arg arg = { .ts = (uint64_t)(uintptr_t)&ts };
	struct io_uring_sq *sq = &u->ring.sq;
	unsigned to_submit;

	if (wait_nr > 1 && u->min_wait_us > 0 && has_min_wait(u))
		arg.min_wait_usec = u->min_wait_us;
	else if (wait_nr > 1 && u->min_wait_us > 0)
		wait_nr = 1; /* a batch with no bound on the first would stall a lone client */
	io_uring_smp_store_release(sq->ktail, sq->sqe_tail); /* the kernel sees them now */
	sq->sqe_head = sq->sqe_tail;
	to_submit = sq->sqe_tail - io_uring_smp_load_acquire(sq->khead);
	return io_uring_enter2(u->ring.enter_ring_fd, to_submit, wait_nr,
			       IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG |
				       IORING_ENTER_REGISTERED_RING,
			       (sigset_t *)&arg, sizeof arg);
}

bool uring_spill_add(struct uring_spill *s, const char *bytes, size_t n)
{
	size_t need = s->len + n, cap = s->cap ? s->cap : URING_BUF_SIZE;

	if (need > URING_SPILL_MAX)
		return false;
	while (cap < need) /* a flood costs a few reallocations, not one per completion */
		cap *= 2;  /* stops at URING_SPILL_MAX at most: BUF_SIZE times a power of two */
	if (cap != s->cap) {
		char *p = realloc(s->bytes, cap);

		if (p == NULL)
			return false;
		s->bytes = p;
		s->cap = cap;
	}
	memcpy(s->bytes + s->len, bytes, n);
	s->len = need;
	return true;
}

size_t uring_spill_take(struct uring_spill *s, char *dst, size_t room)
{
	size_t n = s->len < room ? s->len : room;

	if (n == 0)
		return 0;
	memcpy(dst, s->bytes, n);
	s->len -= n;
	memmove(s->bytes, s->bytes + n, s->len);
	return n;
}

void uring_spill_free(struct uring_spill *s)
{
	free(s->bytes);
	memset(s, 0, sizeof *s);
}
