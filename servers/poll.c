/*
 * poll.c - one thread, poll(2) readiness loop.
 *
 *   bin/poll [-p PORT] ...            (bin/poll -h for every option)
 *
 * The model. We keep an array of struct pollfd, one per descriptor, with the
 * events we want; poll() fills in revents and returns how many are ready, and
 * we walk the array to find them. No bitmap, so no FD_SETSIZE limit: the array
 * has room for as many descriptors as the process may open.
 *
 *   i  pfds[i]: fd events  revents   conns[i]        index_of[fd] = i
 *   0           3  POLLIN   .         NULL (listen)
 *   1           5  POLLIN   .         conn of fd 5  <-+ each call: the whole
 *   2           9  POLLOUT  .         conn of fd 9    | array copied in, every
 *   3           7  POLLIN   POLLIN    conn of fd 7  <-+ fd asked, revents out
 *   npfds = 4; closing fd 5 moves entry 3 into entry 1, npfds = 3
 *
 * Level-triggered: a descriptor stays ready until we act, so one read per
 * report is enough, and we ask for POLLOUT only while answers wait to be
 * written (a socket is writable almost always).
 *
 * The cost: every call copies the whole array into the kernel, which asks
 * every descriptor whether it is ready, and copies it back; then we walk it
 * again. O(connections) per call, however few are ready: 10,000 idle
 * connections make every request pay for them.
 *
 * Closing a connection: the last entry moves into its place, so removal is
 * O(1) and the array stays dense (and its moved entry, whose revents came
 * from this same call, is looked at next).
 *
 * Syscalls: poll (SVR3, 1986; Linux 2.1.23), accept4 (Linux 2.6.28).
 */
#include "server.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

/* What this model is, in -h. */
#define SUMMARY "One thread; poll(2) readiness loop."

/* Connections accepted per report of the listening socket: on_accept() says why. */
#define ACCEPT_BATCH 64

static struct pollfd *pfds; /* pfds[0] is the listening socket */
static struct conn **conns; /* conns[i] owns pfds[i] */
static nfds_t *index_of;    /* by descriptor: its entry in pfds[] */
static nfds_t npfds, capacity;
/* Every connection, least recently active first: --idle-timeout closes from the front. */
static struct conn_list by_activity;

static short events_for(enum conn_want want)
{
	return want == CONN_WRITE ? POLLOUT : POLLIN;
}

/* O(1) removal: the last entry fills the hole. */
static void drop(struct conn *c)
{
	nfds_t i = index_of[c->fd], last = npfds - 1;

	pfds[i] = pfds[last];
	conns[i] = conns[last];
	index_of[pfds[i].fd] = i;
	npfds--;
	conn_list_remove(&by_activity, c);
	conn_close(c);
}

/* Level-triggered, one connection would be enough per report; but every poll()
   costs O(connections), so accepting one per call would make opening n
   connections cost O(n^2): 10,000 clients would wait many seconds in the
   backlog. So take up to ACCEPT_BATCH of those waiting per report. */
static void on_accept(int listen_fd, int64_t now)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = net_accept(listen_fd, NET_NONBLOCKING);
		struct conn *c;

		if (fd == NET_AGAIN)
			return;
		if (fd < 0)
			continue; /* one was refused: take the next */
		if (npfds == capacity || (c = conn_new(fd, NET_NONBLOCKING)) == NULL) {
			net_refuse(fd, npfds == capacity ? "poll array full" : "out of memory");
			continue;
		}
		index_of[fd] = npfds;
		conns[npfds] = c;
		pfds[npfds++] = (struct pollfd){ .fd = fd, .events = POLLIN, .revents = 0 };
		conn_list_push(&by_activity, c, now);
	}
}

/* Returns true if c is still open (in its entry), false if it was dropped. */
static bool on_ready(struct conn *c, int64_t now)
{
	enum conn_want want = conn_run(c, CONN_READ_ONCE); /* level: one read is enough */

	if (want == CONN_CLOSE) {
		drop(c);
		return false;
	}
	conn_list_touch(&by_activity, c, now);
	pfds[index_of[c->fd]].events = events_for(want);
	return true;
}

int main(int argc, char **argv)
{
	int listen_fd = server_start(argc, argv, "poll", SUMMARY, NET_NONBLOCKING);

	capacity = (nfds_t)raise_nofile(0); /* every descriptor is below the limit */
	pfds = malloc(capacity * sizeof *pfds);
	conns = malloc(capacity * sizeof *conns);
	index_of = malloc(capacity * sizeof *index_of);
	if (pfds == NULL || conns == NULL || index_of == NULL)
		die("malloc(%lu pollfds)", (unsigned long)capacity);
	pfds[0] = (struct pollfd){ .fd = listen_fd, .events = POLLIN, .revents = 0 };
	conns[0] = NULL;
	npfds = 1;

	while (!server_stopping) {
		int n = poll(pfds, npfds, conn_list_timeout(&by_activity, now_ms()));
		int64_t now = now_ms();

		if (n == -1) {
			if (errno == EINTR)
				continue; /* a signal: the loop condition decides */
			die("poll");
		}
		stat_add(&stats->wakeups, 1);
		stat_add(&stats->events, (unsigned long)n);
		if (pfds[0].revents) {
			on_accept(listen_fd, now); /* new entries join with revents 0 */
			n--;
		}
		for (nfds_t i = 1; i < npfds && n > 0;) { /* O(connections): the cost of poll */
			if (pfds[i].revents == 0) {
				i++;
				continue;
			}
			n--;
			pfds[i].revents = 0;
			if (on_ready(conns[i], now))
				i++; /* else entry i now holds the last one: look at it next */
		}
		conn_list_expire(&by_activity, now, drop);
	}
	return server_finish();
}
