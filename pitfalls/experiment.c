/*
 * experiment.c - what every pitfall experiment stands on (see experiment.h).
 */
#include "experiment.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void exp_start(int argc, char **argv, const char *help)
{
	const char *slash = strrchr(argv[0], '/');

	program_name = slash != NULL ? slash + 1 : argv[0];
	die_status = 2;
	if (argc == 2 && strcmp(argv[1], "-h") == 0) {
		printf("usage: %s [-h]\n\n%s", program_name, help);
		exit(0);
	}
	if (argc > 1) {
		fprintf(stderr, "usage: %s [-h]\n", program_name);
		exit(2);
	}
	/* one line at a time, even into a pipe: a child we fork must not
	   inherit unwritten output and print it a second time */
	setvbuf(stdout, NULL, _IOLBF, 0);
}

void exp_title(const char *title)
{
	printf("%s: %s\n", program_name, title);
}

/* PITFALL_FACTS_ONLY=1 (set by the labs) keeps what the experiment did and
   saw and drops its "expected:" and "why:" lines: in a lab the prediction
   and the reason are what the student's question asks (fd_setsize's
   "expected" names what happens without glibc's check). make pitfalls, run
   alone, explains. */
static bool facts_only(void)
{
	const char *v = getenv("PITFALL_FACTS_ONLY");

	return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

void exp_say(const char *label, const char *fmt, ...)
{
	char tag[16];
	va_list ap;

	if ((strcmp(label, "why") == 0 || strcmp(label, "expected") == 0) && facts_only())
		return;
	snprintf(tag, sizeof tag, "%s:", label);
	printf("  %-9s ", tag);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

int exp_verdict(bool matched, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", matched ? "matched" : "NOT matched");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return matched ? EXP_MATCHED : EXP_NOT_MATCHED;
}

void exp_skip(const char *fmt, ...)
{
	va_list ap;

	printf("skipped: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(EXP_SKIPPED);
}

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	return sa;
}

int exp_listen(uint16_t port, int flags, bool reuseport)
{
	struct sockaddr_in sa = loopback(port);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);

	if (fd == -1)
		die("socket");
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == -1)
		die("setsockopt(SO_REUSEPORT)");
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1)
		die("bind(127.0.0.1:%u)", port);
	if (listen(fd, 128) == -1)
		die("listen");
	return fd;
}

uint16_t exp_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;

	if (getsockname(fd, (struct sockaddr *)&sa, &len) == -1)
		die("getsockname");
	return ntohs(sa.sin_port);
}

void exp_connect_fd(int fd, uint16_t port)
{
	struct sockaddr_in sa = loopback(port);

	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1)
		die("connect(127.0.0.1:%u)", port);
}

int exp_connect(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd == -1)
		die("socket");
	exp_connect_fd(fd, port);
	return fd;
}

void exp_tcp_pair(int *server, int *client, int flags)
{
	int listener = exp_listen(0, 0, false);

	*client = exp_connect(exp_port(listener));
	*server = accept4(listener, NULL, NULL, SOCK_CLOEXEC | flags);
	if (*server == -1)
		die("accept4");
	close(listener);
}

void exp_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		die("fcntl(O_NONBLOCK)");
}

void exp_watch(int epfd, int op, int fd, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	ev.events = events;
	ev.data.fd = fd;
	if (epoll_ctl(epfd, op, fd, &ev) == -1) {
		if (errno == EINVAL && (events & EPOLLEXCLUSIVE))
			exp_skip("EPOLLEXCLUSIVE is not supported (Linux 4.5 or later)");
		die("epoll_ctl(fd %d)", fd);
	}
}

int exp_watch_et(int fd, uint32_t extra)
{
	int epfd = epoll_create1(EPOLL_CLOEXEC);

	if (epfd == -1)
		die("epoll_create1");
	exp_watch(epfd, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLET | extra);
	return epfd;
}

uint64_t exp_thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == -1)
		die("clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

pid_t exp_gettid(void)
{
	return gettid();
}

/* Reads /proc/self/task/TID/NAME into buf; false when it cannot. */
static bool read_task_file(pid_t tid, const char *name, char *buf, size_t size)
{
	char path[64];
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/self/task/%d/%s", (int)tid, name);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n > 0;
}

char exp_thread_state(pid_t tid)
{
	char buf[512];
	const char *paren;

	/* "TID (comm) S ...": the state follows the last ')' */
	if (!read_task_file(tid, "stat", buf, sizeof buf))
		return '?';
	paren = strrchr(buf, ')');
	return paren != NULL && paren[1] == ' ' ? paren[2] : '?';
}

long exp_thread_sleeps(pid_t tid)
{
	char buf[2048];
	const char *line;

	if (!read_task_file(tid, "status", buf, sizeof buf))
		die("/proc/self/task/%d/status", (int)tid);
	line = strstr(buf, "\nvoluntary_ctxt_switches:");
	if (line == NULL)
		die("no voluntary_ctxt_switches in /proc/self/task/%d/status", (int)tid);
	return strtol(line + strlen("\nvoluntary_ctxt_switches:"), NULL, 10);
}

static bool all_asleep(const pid_t *tids, int n)
{
	for (int i = 0; i < n; i++)
		if (exp_thread_state(tids[i]) != 'S')
			return false;
	return true;
}

bool exp_wait_asleep(const pid_t *tids, int n, int timeout_ms)
{
	const struct timespec tick = { 0, 200 * 1000 };
	int64_t deadline = now_ms() + timeout_ms;

	/* twice in a row, a tick apart: a thread just woken is 'R' at once,
	   but one that was never asleep may only be passing through */
	while (now_ms() < deadline) {
		if (all_asleep(tids, n)) {
			nanosleep(&tick, NULL);
			if (all_asleep(tids, n))
				return true;
		}
		nanosleep(&tick, NULL);
	}
	return false;
}

void exp_one_connection(uint16_t port, atomic_int *accepted, int want, const pid_t *tids, int n)
{
	int fd = exp_connect(port);
	int64_t deadline = now_ms() + 5000;

	while (atomic_load(accepted) < want && now_ms() < deadline)
		usleep(100);
	if (atomic_load(accepted) < want || !exp_wait_asleep(tids, n, 5000))
		die("connection %d was not accepted within 5 s", want);
	close(fd);
}
