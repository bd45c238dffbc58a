/*
 * epollout_busy.c - the EPOLLOUT busy loop: asking for writability when
 * there is nothing to write.
 *
 *   bin/pitfall-epollout_busy
 *
 * The bug. A connected socket is writable whenever its send buffer has room,
 * which is nearly always. Level-triggered epoll reports a state, so code that
 * registers EPOLLIN | EPOLLOUT for good is told "writable" on every call, at
 * once: epoll_wait() never sleeps, and an idle server burns a CPU.
 *
 * The fix (watch() in servers/epoll_lt.c): ask for EPOLLOUT only while output
 * waits, with EPOLL_CTL_MOD when an answer could not be written whole, and
 * drop it again once the answer is out.
 *
 * The experiment: one idle loopback connection (the client sends nothing),
 * one answer of ANSWER_SIZE bytes queued at the start; each loop runs for
 * RUN_MS, counting epoll_wait() returns and the thread's CPU time.
 *
 *   always:   EPOLLIN | EPOLLOUT  ─ writable! ─ writable! ─ writable! ─ ...
 *   on need:  EPOLLIN | EPOLLOUT  ─ writable: write, MOD to EPOLLIN ─ (sleep)
 */
#include "experiment.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define RUN_MS	    1000
#define ANSWER_SIZE 64

static const char help[] =
	"Level-triggered epoll that always asks for EPOLLOUT on an idle connection:\n"
	"counts wake-ups and CPU for one second, against asking only while an\n"
	"answer waits to be written.\n";

enum want_out { ALWAYS, WHILE_OUTPUT_WAITS };

struct run {
	long wakeups, writes;
	double cpu_share;
};

/* A level-triggered loop over one idle connection with one answer pending. */
static struct run serve(int fd, enum want_out mode)
{
	struct run r = { 0, 0, 0 };
	struct epoll_event ev;
	char answer[ANSWER_SIZE];
	size_t pending = sizeof answer;
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	uint64_t cpu0 = exp_thread_cpu_ns(), t0 = now_ns();

	if (epfd == -1)
		die("epoll_create1");
	memset(answer, 'a', sizeof answer);
	exp_watch(epfd, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLOUT);
	while (now_ns() - t0 < RUN_MS * 1000000ull) {
		if (epoll_wait(epfd, &ev, 1, 100) <= 0)
			continue;
		r.wakeups++;
		if ((ev.events & EPOLLOUT) && pending > 0) {
			if (write(fd, answer, pending) != (ssize_t)pending)
				die("write");
			pending = 0;
			r.writes++;
			if (mode == WHILE_OUTPUT_WAITS)
				exp_watch(epfd, EPOLL_CTL_MOD, fd, EPOLLIN);
		}
	}
	r.cpu_share = (double)(exp_thread_cpu_ns() - cpu0) / (double)(now_ns() - t0);
	close(epfd);
	return r;
}

int main(int argc, char **argv)
{
	struct run busy, fixed;
	int srv, cli;

	exp_start(argc, argv, help);
	exp_tcp_pair(&srv, &cli, SOCK_NONBLOCK);
	busy = serve(srv, ALWAYS);
	fixed = serve(srv, WHILE_OUTPUT_WAITS);
	close(srv), close(cli);

	exp_title("the EPOLLOUT busy loop");
	exp_say("did",
		"one idle connection, one %d-byte answer to send, level-triggered, %d ms each",
		ANSWER_SIZE, RUN_MS);
	exp_say("observed", "EPOLLOUT always:  %ld wake-ups, %ld write, CPU %.0f%%", busy.wakeups,
		busy.writes, 100 * busy.cpu_share);
	exp_say("observed", "EPOLLOUT on need: %ld wake-up,  %ld write, CPU %.1f%%", fixed.wakeups,
		fixed.writes, 100 * fixed.cpu_share);
	exp_say("expected", "always: a wake-up per call, most of a CPU; on need: 1, near 0%%");
	exp_say("why",
		"a socket with room in its send buffer is writable: level-triggered says so");
	return exp_verdict(busy.wakeups >= 1000 && fixed.wakeups <= 2 && fixed.writes == 1 &&
				   busy.cpu_share > 20 * fixed.cpu_share,
			   "always: %ld wake-ups/s, CPU %.0f%%; on need: %ld wake-up, CPU %.1f%%",
			   busy.wakeups, 100 * busy.cpu_share, fixed.wakeups,
			   100 * fixed.cpu_share);
}
