/*
 * net.c - listening, accepting and refusing.
 */
#include "net.h"
#include "http.h"
#include "options.h"
#include "stats.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Held open so that at EMFILE one descriptor can be freed to accept and refuse.
   The dance must be one thread's at a time, and no other thread may accept
   meanwhile: accept4() takes the lowest free number, so a loop accepting on its
   own listener (bin/reuseport) would take the number the spare just freed, and
   the spare would be lost. So a non-blocking accept4() holds accept_lock for
   reading (loops never wait for each other), the dance holds it for writing.
   A blocking accept4() sleeps: the models that use one accept in one thread. */
static int spare_fd = -1;
static pthread_rwlock_t accept_lock = PTHREAD_RWLOCK_INITIALIZER;

/* Passed from one net_accept() call to the next, for ThreadSanitizer: see below. */
static atomic_bool accept_turn;

static void set_opt(int fd, int level, int name, const char *what)
{
	int one = 1;

	if (setsockopt(fd, level, name, &one, sizeof one) == -1)
		die("setsockopt(%s)", what);
}

/* The kernel's flag for our mode, for socket() and accept4(). */
static int sock_flags(enum net_mode mode)
{
	return SOCK_CLOEXEC | (mode == NET_NONBLOCKING ? SOCK_NONBLOCK : 0);
}

/* Whether other sockets may listen on the same port (SO_REUSEPORT). */
enum port_use { PORT_OWN, PORT_SHARED };

/* socket, options, bind, listen. Returns the descriptor and the port bound. */
static int open_listener(int port, enum net_mode mode, enum port_use use, int *bound)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, server_opt.addr, &sa.sin_addr) != 1) {
		errno = EINVAL;
		die("inet_pton('%s'): not an IPv4 address", server_opt.addr);
	}

	fd = socket(AF_INET, SOCK_STREAM | sock_flags(mode), 0);
	if (fd == -1)
		die("socket");
	/* Lets a restarted server bind while old connections sit in TIME_WAIT. */
	set_opt(fd, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR");
	/* Lets several sockets of this user bind the same address and port; set
	   on each of them, the first included, before bind. */
	if (use == PORT_SHARED)
		set_opt(fd, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT");
	if (server_opt.nodelay)
		set_opt(fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY");
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1)
		die("bind(%s:%d)", server_opt.addr, port);
	if (listen(fd, server_opt.backlog) == -1)
		die("listen");
	if (getsockname(fd, (struct sockaddr *)&sa, &len) == -1)
		die("getsockname");
	*bound = ntohs(sa.sin_port);
	return fd;
}

int net_listen(enum net_mode mode)
{
	int port;
	int fd = open_listener(server_opt.port, mode, PORT_OWN, &port);

	net_listening(port);
	return fd;
}

int net_listen_shared(int port, int *bound)
{
	return open_listener(port, NET_NONBLOCKING, PORT_SHARED, bound);
}

void net_listening(int port)
{
	spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (spare_fd == -1)
		die("open(/dev/null) for the spare descriptor");

	printf("listening on %s:%d\n", server_opt.addr, port);
	fflush(stdout);
}

void net_refuse(int fd, const char *why)
{
	char out[HTTP_MAX_ANSWER];
	size_t n = http_error(503, why, out);

	/* One try, non-blocking in effect: a fresh socket's send buffer has room. */
	if (send(fd, out, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		(void)0; /* the client is gone already; nothing to tell it */
	close(fd);
	stat_add(&stats->refused, 1);
}

/* Out of descriptors: free the spare, accept the waiting connection, take the
   spare back, and refuse the connection. Without this a level-triggered loop
   would be woken for the same pending connection again and again: 100% CPU,
   nothing served. A blocking listener sleeps in this accept() until a client
   comes (accept4 says EMFILE before it waits, not after); by then a connection
   may have closed and freed a descriptor: then the spare comes back and the
   client is served after all, not refused. */
static int refuse_at_emfile(int listen_fd, int flags)
{
	static int64_t last_note = -1000;
	int fd;

	close(spare_fd);
	fd = accept4(listen_fd, NULL, NULL, flags);
	spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && spare_fd >= 0)
		return fd; /* room again: serve it */
	if (fd >= 0)
		net_refuse(fd, "server out of file descriptors");
	if (spare_fd == -1) /* the refused one's descriptor is free now */
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (now_ms() - last_note >= 1000) { /* one note a second, not one per client */
		last_note = now_ms();
		note("accept: out of descriptors; refusing connections with 503%s",
		     spare_fd == -1 ? " (and could not take the spare back)" : "");
	}
	return fd >= 0 ? NET_REFUSED : NET_AGAIN;
}

/* net_accept() without the hand-off of accept_turn (below). */
static int accept_one(int listen_fd, enum net_mode mode)
{
	/* accept4 sets both flags in the same call that creates the descriptor:
	   one syscall instead of three (accept, fcntl F_SETFL, fcntl F_SETFD), and
	   no window in which a fork+exec elsewhere could inherit it. */
	int flags = sock_flags(mode);
	int fd, err;

	if (mode == NET_NONBLOCKING)
		pthread_rwlock_rdlock(&accept_lock);
	fd = accept4(listen_fd, NULL, NULL, flags);
	err = errno; /* before the unlock, which may make a syscall of its own */
	if (mode == NET_NONBLOCKING)
		pthread_rwlock_unlock(&accept_lock);

	if (fd == -1) {
		switch (err) {
		case EMFILE:
		case ENFILE:
			pthread_rwlock_wrlock(&accept_lock);
			if (spare_fd == -1) /* lost earlier: a descriptor may be free again */
				spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			fd = spare_fd == -1 ? NET_AGAIN : refuse_at_emfile(listen_fd, flags);
			pthread_rwlock_unlock(&accept_lock);
			if (fd < 0)
				return fd; /* NET_REFUSED or NET_AGAIN */
			break;		   /* a descriptor came free meanwhile: serve it */
		case ECONNABORTED: /* that one connection died in the backlog: take the next */
		case EPROTO:
		case EPERM: return NET_LOST;
		case EAGAIN:
		case EINTR: return NET_AGAIN;
		default: /* ENOBUFS, ENOMEM: wait for the next readiness */
			note("accept4: %s", strerror(err));
			return NET_AGAIN;
		}
	}
	return net_admit(fd);
}

int net_admit(int fd)
{
	if (server_opt.max_conns && (long)atomic_load(&stats->open) >= server_opt.max_conns) {
		net_refuse(fd, "too many connections (--max-conns)");
		return NET_REFUSED;
	}
	return fd;
}

/* Callers take turns (epoll_oneshot: the one-shot listening socket goes to one
   worker at a time), ordered by the kernel; the release and acquire of
   accept_turn state that order in C, as conn_hand_off() does, so that
   ThreadSanitizer sees the spare descriptor passed from turn to turn. */
int net_accept(int listen_fd, enum net_mode mode)
{
	int fd;

	(void)atomic_load_explicit(&accept_turn, memory_order_acquire);
	fd = accept_one(listen_fd, mode);
	atomic_store_explicit(&accept_turn, true, memory_order_release);
	return fd;
}
