/*
 * lg_net.c - loadgen's socket operations; the contracts are in lg_net.h.
 *
 * Syscalls and what they promise:
 *   socket(SOCK_NONBLOCK) + connect   returns at once with EINPROGRESS; the
 *       handshake completes in the kernel, which then reports EPOLLOUT, and
 *       the outcome is read with getsockopt(SO_ERROR) (engine_epoll.c).
 *       The io_uring engine takes a blocking socket from lg_net_socket and
 *       hands the connect to the kernel (engine_uring.c).
 *   send(MSG_NOSIGNAL)   a peer that has gone away gives EPIPE, not a SIGPIPE
 *       that would kill loadgen.
 *   bind(127.0.0.x) + IP_BIND_ADDRESS_NO_PORT (Linux 4.2)   a source address
 *       without a port: the port is chosen at connect() time, per destination,
 *       so one address still serves 28,000 ports per server (a plain bind()
 *       would reserve a port for every destination at once).
 */
#include "lg_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static atomic_int src_shift; /* sources skipped after EADDRNOTAVAIL */
static atomic_bool warned_other;

enum io_result io_read(int fd, char *buf, size_t size, size_t *n)
{
	ssize_t r;
	do
		r = read(fd, buf, size);
	while (r < 0 && errno == EINTR);
	if (r >= 0) {
		*n = (size_t)r;
		return IO_OK;
	}
	return errno == EAGAIN ? IO_RETRY : IO_ERROR;
}

enum io_result io_write(int fd, const char *buf, size_t len, size_t *n)
{
	ssize_t r;
	do
		r = send(fd, buf, len, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r >= 0) {
		*n = (size_t)r;
		return IO_OK;
	}
	return errno == EAGAIN ? IO_RETRY : IO_ERROR;
}

enum err lg_net_classify(int en, bool connecting)
{
	switch (en) {
	case ECONNREFUSED: return ERR_REFUSED;
	case ETIMEDOUT: return connecting ? ERR_CONNECT_TIMEOUT : ERR_TIMEOUT;
	case EADDRNOTAVAIL: return ERR_ADDR_UNAVAIL;
	case EMFILE:
	case ENFILE: return ERR_EMFILE;
	case ECONNRESET:
	case EPIPE:
	case ECONNABORTED: return ERR_RESET;
	default:
		if (!atomic_exchange(&warned_other, true))
			fprintf(stderr, "%s: warning: %s (counted as err_other)\n", program_name,
				strerror(en));
		return ERR_OTHER;
	}
}

/* Binds fd to source address 127.0.0.(src + 1), the port left to connect(). */
static int bind_source(int fd, int src)
{
	struct sockaddr_in a;
	int one = 1;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)src);
	if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0)
		return -1;
	return bind(fd, (struct sockaddr *)&a, sizeof a);
}

/* Opens a socket bound to source 127.0.0.(s + 1) (s 0: the kernel's
   choice); returns it or -errno. */
static int open_socket(int s, int flags)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	if (fd < 0)
		return -errno; /* EMFILE: no descriptor was opened */
	if (s != 0 && bind_source(fd, s) < 0) {
		int en = errno;
		close(fd);
		return -en;
	}
	return fd;
}

int lg_net_socket(int src)
{
	return open_socket((src + atomic_load(&src_shift)) % 254, 0);
}

int lg_net_connect(int *fdp, int src)
{
	for (;;) {
		int shift = atomic_load(&src_shift);
		int fd = open_socket((src + shift) % 254, SOCK_NONBLOCK);
		int en;
		if (fd < 0) {
			en = -fd;
		} else if (connect(fd, (struct sockaddr *)&cfg.dst, sizeof cfg.dst) == 0 ||
			   errno == EINPROGRESS) {
			*fdp = fd;
			return 0;
		} else {
			en = errno;
			close(fd);
		}
		if (en != EADDRNOTAVAIL || !cfg.loopback || shift >= 253)
			return en;
		/* one thread moves everyone on; the others see the new shift */
		atomic_compare_exchange_strong(&src_shift, &shift, shift + 1);
	}
}

/* Linux gives connect() the ports of one parity first (bind() gets the
   others); once those are taken, every connect() scans the whole range and
   slows down a hundredfold. So we stop at half of ip_local_port_range, less a
   margin for other programs, and move on to the next 127.0.0.x. */
int lg_net_per_source(void)
{
	int lo = 32768, hi = 60999;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (f) {
		if (fscanf(f, "%d %d", &lo, &hi) != 2)
			lo = 32768, hi = 60999;
		fclose(f);
	}
	int n = (hi - lo + 1) / 2 - 1000;
	return n > 1000 ? n : 1000;
}
