/*
 * uring_probe.c - does the liburing this compiler finds have what uring.c
 * uses? servers/common/uring-config compiles and links this file, never runs
 * it: each line names one feature, and a liburing without it fails the build
 * here, where the answer is one line, instead of in uring.c.
 */
#include <liburing.h>

int main(void)
{
	struct io_uring ring;
	struct io_uring_sqe sqe;
	struct io_uring_buf_reg reg = { .ring_entries = 1 };
	struct io_uring_buf_ring *lent = (struct io_uring_buf_ring *)0;

	/* set-up flags (liburing 2.3), the registered ring's descriptor (2.2) */
	if (io_uring_queue_init(1, &ring, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN))
		return 1;
	io_uring_register_ring_fd(&ring);
	/* the provided-buffer ring (2.2) */
	io_uring_register_buf_ring(&ring, &reg, 0);
	io_uring_buf_ring_add(lent, 0, 0, 0, io_uring_buf_ring_mask(1), 0);
	/* multishot accept (2.2) and recv (2.3), cancel by descriptor (2.3) */
	io_uring_prep_multishot_accept(&sqe, 0, 0, 0, 0);
	io_uring_prep_recv_multishot(&sqe, 0, 0, 0, 0);
	io_uring_prep_cancel_fd(&sqe, 0, IORING_ASYNC_CANCEL_ALL);
	/* one enter with an extended argument, through the registered ring (2.3) */
	return io_uring_enter2(ring.enter_ring_fd, 0, 0,
			       IORING_ENTER_EXT_ARG | IORING_ENTER_REGISTERED_RING, 0, 0);
}
