/*
 * close_registered.c - the closed but still registered descriptor.
 *
 *   bin/pitfall-close_registered
 *
 * The catch. epoll watches an open file (the socket), not a descriptor number;
 * the number is only the key the registration was made with. close(fd)
 * removes the registration only when fd was the LAST descriptor referring to
 * that open socket. If a dup() (or a fork()ed child) still holds it, the
 * registration survives, and epoll goes on reporting events under the number
 * we closed, which may by then belong to another file. Nor can we remove it:
 * EPOLL_CTL_DEL looks the number up in our descriptor table first, and it is
 * not there (EBADF); the duplicate has another number, so it is not the key
 * (ENOENT).
 *
 * The fix: EPOLL_CTL_DEL before close() whenever a duplicate may exist. The
 * servers never duplicate a socket, so close() is enough (conn_close()).
 *
 *   fd ─┐                        epoll: { key fd -> socket }
 *       ├──> socket <── dup ──   close(fd): the socket lives on, so does the key
 *   dup ┘
 */
#include "experiment.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define POLLS 3 /* epoll_wait calls after the close */

static const char help[] =
	"Registers a socket with epoll, dup()s it, closes the original: epoll goes on\n"
	"reporting events for the closed number, and EPOLL_CTL_DEL on it fails with\n"
	"EBADF. Deleting before closing is the fix.\n";

enum order { CLOSE_ONLY, DEL_THEN_CLOSE };

struct run {
	int reports, reported_fd, del_errno, del_dup_errno;
};

static struct run try_order(enum order order)
{
	struct run r = { 0, -1, 0, 0 };
	struct epoll_event ev;
	int srv, cli, dup_fd, epfd = epoll_create1(EPOLL_CLOEXEC);

	if (epfd == -1)
		die("epoll_create1");
	exp_tcp_pair(&srv, &cli, SOCK_NONBLOCK);
	dup_fd = dup(srv);
	if (dup_fd == -1)
		die("dup");
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN; /* level-triggered: reported while data waits */
	ev.data.fd = srv;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, srv, &ev) == -1)
		die("epoll_ctl(ADD)");
	if (order == DEL_THEN_CLOSE && epoll_ctl(epfd, EPOLL_CTL_DEL, srv, NULL) == -1)
		die("epoll_ctl(DEL)");
	close(srv);
	if (write(cli, "ping", 4) != 4)
		die("write");
	for (int i = 0; i < POLLS; i++)
		if (epoll_wait(epfd, &ev, 1, 100) == 1)
			r.reports++, r.reported_fd = ev.data.fd;
	if (order == CLOSE_ONLY) {
		if (epoll_ctl(epfd, EPOLL_CTL_DEL, srv, NULL) == -1)
			r.del_errno = errno;
		if (epoll_ctl(epfd, EPOLL_CTL_DEL, dup_fd, NULL) == -1)
			r.del_dup_errno = errno;
	}
	close(dup_fd), close(cli), close(epfd);
	return r;
}

int main(int argc, char **argv)
{
	struct run bug, fixed;

	exp_start(argc, argv, help);
	bug = try_order(CLOSE_ONLY);
	fixed = try_order(DEL_THEN_CLOSE);

	exp_title("the closed-but-still-registered descriptor");
	exp_say("did", "registered a socket (LT, EPOLLIN), dup()ed it, closed it, sent it 4 bytes");
	exp_say("observed", "close only: %d of %d epoll_wait calls reported fd %d, which is closed",
		bug.reports, POLLS, bug.reported_fd);
	exp_say("observed", "EPOLL_CTL_DEL(closed fd): %s; DEL(the dup): %s",
		bug.del_errno ? strerrorname_np(bug.del_errno) : "succeeded",
		bug.del_dup_errno ? strerrorname_np(bug.del_dup_errno) : "succeeded");
	exp_say("observed", "DEL, then close: %d reports", fixed.reports);
	exp_say("expected", "reports for a closed number, DEL failing with EBADF; none after DEL");
	exp_say("why",
		"epoll registers the open socket; close() ends it only with the last reference");
	return exp_verdict(bug.reports == POLLS && bug.del_errno == EBADF && fixed.reports == 0,
			   "%d reports for closed fd %d, DEL gave %s; DEL before close: %d reports",
			   bug.reports, bug.reported_fd,
			   bug.del_errno ? strerrorname_np(bug.del_errno) : "success",
			   fixed.reports);
}
