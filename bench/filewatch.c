/*
 * filewatch: what select, poll and epoll say about a regular file.
 *
 *   bin/filewatch [FILE]        (default: /etc/hostname, any regular file will do)
 *
 * It asks each readiness API about FILE, opened for reading and writing
 * when it may (else for reading), and prints one line each:
 *
 *   select:    readable and writable at once, every time
 *   poll:      revents POLLIN|POLLOUT, every time
 *   epoll_ctl: EPOLL_CTL_ADD fails with EPERM
 *
 * Why: readiness means "a read will not wait for someone else": a peer's
 * bytes on a socket, a writer on a pipe. A file has no one else; its bytes
 * are always there, only perhaps not in memory yet, and readiness has no
 * word for "the disk is slow". So select(2) and poll(2) report a regular file
 * always ready (their man pages: "always ready"), and epoll_ctl(2) refuses
 * one: "EPERM: The target file fd does not support epoll. This error can
 * occur if fd refers to, for example, a regular file or a directory."
 * O_NONBLOCK does nothing to a regular file's read(2) either. A loop that
 * reads a file that is not in the page cache sleeps in that read, and the
 * loop's other clients wait (docs/labs/8-files.md; bench/coldserve shows it).
 * Syscalls: select, poll, epoll_create1, epoll_ctl (Linux 2.6).
 */
#include "toolkit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/etc/hostname";
	program_name = "filewatch";
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: filewatch [FILE]   what select, poll and epoll say about a regular file\n");
		return 0;
	}
	int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		die("open %s", path);
	if (fd >= FD_SETSIZE)
		die("descriptor %d is past FD_SETSIZE", fd);

	fd_set rd, wr;
	struct timeval zero = { 0, 0 };
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(fd, &rd);
	FD_SET(fd, &wr);
	if (select(fd + 1, &rd, &wr, NULL, &zero) == -1)
		die("select");
	printf("select:    %s is %sreadable and %swritable, without waiting\n", path,
	       FD_ISSET(fd, &rd) ? "" : "not ", FD_ISSET(fd, &wr) ? "" : "not ");

	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };
	if (poll(&p, 1, 0) == -1)
		die("poll");
	printf("poll:      revents%s%s\n", p.revents & POLLIN ? " POLLIN" : "",
	       p.revents & POLLOUT ? " POLLOUT" : "");

	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	if (ep == -1)
		die("epoll_create1");
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		printf("epoll_ctl: EPOLL_CTL_ADD fails: %s (%s)\n", errno == EPERM ? "EPERM" : "?",
		       strerror(errno));
	else
		printf("epoll_ctl: EPOLL_CTL_ADD succeeded: %s is not a regular file\n", path);
	close(ep);
	close(fd);
	return 0;
}
