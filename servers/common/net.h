/*
 * net.h - the listening socket, accepting, and refusing a connection.
 */
#ifndef NET_H
#define NET_H

/* How a socket waits: a blocking call sleeps until it can go on; a non-blocking
   one returns EAGAIN at once and the model's readiness API says when to retry.
   (Our names, not the kernel's SOCK_NONBLOCK flag, which net.c derives from them.) */
enum net_mode { NET_BLOCKING, NET_NONBLOCKING };

/* What net_accept() returns instead of a descriptor. Only NET_AGAIN ends an
   accept loop; after the other two the next connection may be waiting. */
#define NET_AGAIN   (-1) /* nothing more to accept now: wait for readiness */
#define NET_REFUSED (-2) /* one connection was answered 503, closed and counted refused */
#define NET_LOST    (-3) /* one connection was gone before it was ours: nothing sent or counted */

/* Opens the listening socket from server_opt (address, port, backlog, SO_REUSEADDR,
   TCP_NODELAY, which Linux copies to every accepted socket) in the given mode,
   and prints "listening on ADDR:PORT" to stdout. Returns the descriptor;
   dies on failure. */
int net_listen(enum net_mode mode);

/* For a model with several listening sockets on one port (bin/reuseport):
   opens one, non-blocking, with SO_REUSEPORT, on port (0: any free port), and
   stores the port it got in *bound; prints nothing. Dies on failure. */
int net_listen_shared(int port, int *bound);

/* Readies accepting (the spare descriptor below) and prints "listening on
   ADDR:PORT" to stdout: net_listen() calls it; a model that opens its own
   listening sockets calls it once they all listen. Dies on failure. */
void net_listening(int port);

/* Accepts one connection. Returns its descriptor (close-on-exec, in the given
   mode), NET_AGAIN when none is waiting (or the call was interrupted), or
   NET_REFUSED when one was refused: past --max-conns, or the process is out of
   descriptors (EMFILE/ENFILE), when a spare descriptor is given up to accept it,
   answer 503 and close it, so a level-triggered loop does not spin on a backlog
   it cannot empty. NET_LOST when the kernel reports a connection that ended
   in the backlog (ECONNABORTED: reset by its client), a protocol error
   (EPROTO) or one a firewall rule forbids (EPERM): there is nothing to answer
   or close. Thread-safe: at EMFILE one thread at a time gives up the
   spare, and no other thread accepts meanwhile (they wait for a lock that is
   otherwise only ever shared). */
int net_accept(int listen_fd, enum net_mode mode);

/* For a connection accepted some other way (io_uring's accept): past
   --max-conns answers 503, closes it and returns NET_REFUSED; else returns fd. */
int net_admit(int fd);

/* Answers 503 with the reason on a connection not yet served (no struct conn),
   closes it, counts it refused. */
void net_refuse(int fd, const char *why);

#endif
