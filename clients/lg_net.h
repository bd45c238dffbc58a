/*
 * lg_net.h - loadgen's socket operations: non-blocking reads and writes with a
 * three-state result (enum io_result, toolkit.h), non-blocking connects spread
 * over source addresses, and errno sorted into the causes loadgen counts.
 */
#ifndef LG_NET_H
#define LG_NET_H

#include "loadgen.h"

#include <stddef.h>

/* Reads up to size bytes: IO_OK with *n bytes (0: the peer closed), IO_RETRY
   on EAGAIN, IO_ERROR with errno set. Retries EINTR. */
enum io_result io_read(int fd, char *buf, size_t size, size_t *n);

/* Sends up to len bytes without SIGPIPE: IO_OK with *n written (maybe fewer
   than len), IO_RETRY on EAGAIN, IO_ERROR with errno set. Retries EINTR. */
enum io_result io_write(int fd, const char *buf, size_t len, size_t *n);

/* Returns the cause errno `en` is counted under; `connecting` tells a connect
   timeout from an answer timeout. Names an unexpected errno on stderr once. */
enum err lg_net_classify(int en, bool connecting);

/* Opens a non-blocking socket and starts connecting it to cfg.dst from source
   address 127.0.0.(src + 1) (src 0: the kernel's choice). On EADDRNOTAVAIL it
   moves every thread on to the next source and tries again. Returns 0 with
   *fdp set (the connect in progress or done) or an errno, *fdp untouched. */
int lg_net_connect(int *fdp, int src);

/* Opens a blocking socket from source address 127.0.0.(src + 1), as
   lg_net_connect would, for an engine that connects by itself (io_uring).
   Returns the descriptor or -errno (EMFILE: nothing opened). */
int lg_net_socket(int src);

/* Returns how many connections to one destination should share a source
   address (half of ip_local_port_range, less a margin; at least 1000). */
int lg_net_per_source(void);

#endif
