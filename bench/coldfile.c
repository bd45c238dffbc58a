/*
 * coldfile: what reading a file from disk does to an event loop, and to threads.
 *
 *   bin/coldfile [-s MIB] [-c KIB] [FILE]
 *
 * An event loop owes every client a turn every few milliseconds. Here a timer
 * due every millisecond stands for those clients, and we measure how late it
 * runs while FILE is read in chunks of KIB KiB (default 64). FILE (default
 * /var/tmp/coldfile.dat: /var/tmp is on disk, where /tmp is often tmpfs, whose
 * pages are never "cold") is created with MIB MiB (default 64) of
 * pseudo-random bytes when missing, and left there for the next run.
 * Three ways, one line each:
 *
 *   cold-loop    the file's pages are dropped from the page cache first
 *                (fdatasync, then posix_fadvise POSIX_FADV_DONTNEED, which
 *                drops clean pages only); then ONE thread reads a chunk,
 *                looks at its timer, reads the next: a server that read()s
 *                files in its only thread. Each read from the disk sleeps,
 *                and no other client is looked at meanwhile.
 *   warm-loop    the same, the file now in the page cache: reads are copies.
 *   cold-thread  pages dropped again; another thread reads, and the loop's
 *                thread only keeps its timer: what bin/threads gets for
 *                free, and what nginx's "aio threads" buys an event loop.
 *
 *   way=cold-loop mib=64 read_ms=N read_max_us=N ticks=N late_p99_us=N late_max_us=N
 *
 * read_ms: how long reading the whole file took; read_max_us: the longest
 * single read; late_*: how long after its due time the timer ran (p99 and
 * worst). Why this matters: epoll cannot watch a regular file (EPERM), and
 * select/poll always call it ready, so a readiness loop never learns that a
 * read will sleep (docs/models.md, "Serving files").
 *
 * The figures depend on the storage: a local SSD answers in tens of
 * microseconds, a spinning disk or a network volume in milliseconds; a
 * virtual machine's disk may be cached by its host, which makes "cold" warm
 * and this program inconclusive. bench/slowdisk makes the disk slow for real
 * (a block-I/O control group throttles its reads; root):
 *   bench/slowdisk -r 8388608 -- bin/coldfile -s 16
 * then the loop's timer runs about a second late, cold-thread's on time.
 * Syscalls: pread, fdatasync, posix_fadvise (POSIX.1-2001), clock_nanosleep.
 */
#include "toolkit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TICK_NS 1000000ULL /* the timer: due every millisecond */

struct run {
	int fd;
	off_t size;
	size_t chunk;
	uint64_t read_ns, read_max_ns; /* the reading: in all, and the longest read */
	atomic_bool done;	       /* the reader has reached the end */
	uint64_t *late;		       /* how late each tick ran, ns */
	size_t ticks, cap;
};

/* ---------------------------------------------------------------- the file */

/* Makes FILE of size bytes of pseudo-random data (no filesystem could
   compress or share it) unless it exists with that size. */
static void make_file(const char *path, off_t size)
{
	static char buf[1 << 20];
	unsigned long long x = 88172645463325252ULL; /* xorshift64 */
	struct stat st;
	int fd;

	if (stat(path, &st) == 0 && st.st_size == size)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		die("open %s", path);
	for (off_t done = 0; done < size; done += (off_t)sizeof buf) {
		for (size_t i = 0; i < sizeof buf; i += sizeof x) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			memcpy(buf + i, &x, sizeof x);
		}
		if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
			die("write %s", path);
	}
	close(fd);
}

/* Takes the file's pages out of the page cache: written back first, since
   POSIX_FADV_DONTNEED drops only clean pages. */
static void drop_cache(int fd)
{
	int err;

	if (fdatasync(fd) == -1)
		die("fdatasync");
	err = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (err != 0)
		die_en(err, "posix_fadvise(POSIX_FADV_DONTNEED)");
}

/* Reads the chunk at *offset and moves it on; false at the end. */
static bool read_chunk(struct run *r, off_t *offset, char *buf)
{
	uint64_t t0 = now_ns(), took;
	ssize_t n = pread(r->fd, buf, r->chunk, *offset);

	if (n == -1)
		die("pread");
	took = now_ns() - t0;
	r->read_ns += took;
	if (took > r->read_max_ns)
		r->read_max_ns = took;
	*offset += n;
	return n > 0 && *offset < r->size;
}

/* ---------------------------------------------------------------- the timer */

/* Records a tick that ran at now, due at *due; the next one is due at the
   first millisecond after now (ticks missed while blocked are not queued). */
static void tick(struct run *r, uint64_t now, uint64_t *due)
{
	if (r->ticks == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 4096;
		r->late = realloc(r->late, r->cap * sizeof *r->late);
		if (r->late == NULL)
			die("realloc");
	}
	r->late[r->ticks++] = now - *due;
	while (*due <= now)
		*due += TICK_NS;
}

static void sleep_until(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* ---------------------------------------------------------------- the three ways */

/* One thread: read a chunk, look at the timer, read on. */
static void in_the_loop(struct run *r)
{
	char *buf = malloc(r->chunk);
	uint64_t due = now_ns() + TICK_NS;
	off_t offset = 0;
	bool more = true;

	if (buf == NULL)
		die("malloc");
	while (more) {
		uint64_t now = now_ns();

		if (now >= due)
			tick(r, now, &due);
		more = read_chunk(r, &offset, buf);
	}
	free(buf);
}

static void *reader(void *arg)
{
	struct run *r = arg;
	char *buf = malloc(r->chunk);
	off_t offset = 0;

	if (buf == NULL)
		die("malloc");
	while (read_chunk(r, &offset, buf))
		;
	free(buf);
	atomic_store(&r->done, true);
	return NULL;
}

/* Two threads: one reads, this one only keeps the timer. */
static void in_a_thread(struct run *r)
{
	uint64_t due = now_ns() + TICK_NS;
	pthread_t tid;
	int err = pthread_create(&tid, NULL, reader, r);

	if (err != 0)
		die_en(err, "pthread_create");
	while (!atomic_load(&r->done)) {
		sleep_until(due);
		tick(r, now_ns(), &due);
	}
	err = pthread_join(tid, NULL);
	if (err != 0)
		die_en(err, "pthread_join");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *way, struct run *r)
{
	uint64_t p99 = 0, max = 0;

	if (r->ticks > 0) {
		qsort(r->late, r->ticks, sizeof *r->late, cmp_u64);
		p99 = r->late[r->ticks * 99 / 100];
		max = r->late[r->ticks - 1];
	}
	printf("way=%s mib=%lld read_ms=%llu read_max_us=%llu ticks=%zu late_p99_us=%llu late_max_us=%llu\n",
	       way, (long long)(r->size >> 20), (unsigned long long)(r->read_ns / 1000000),
	       (unsigned long long)(r->read_max_ns / 1000), r->ticks,
	       (unsigned long long)(p99 / 1000), (unsigned long long)(max / 1000));
	fflush(stdout);
	free(r->late);
}

static void run_way(const char *way, int fd, off_t size, size_t chunk, bool cold, bool thread)
{
	struct run r;

	memset(&r, 0, sizeof r);
	r.fd = fd;
	r.size = size;
	r.chunk = chunk;
	if (cold)
		drop_cache(fd);
	if (thread)
		in_a_thread(&r);
	else
		in_the_loop(&r);
	report(way, &r);
}

int main(int argc, char **argv)
{
	long mib = 64, kib = 64;
	const char *path = "/var/tmp/coldfile.dat";
	int opt, fd;

	program_name = "coldfile";
	while ((opt = getopt(argc, argv, "s:c:h")) != -1) {
		switch (opt) {
		case 's': mib = atol(optarg); break;
		case 'c': kib = atol(optarg); break;
		case 'h':
			printf("usage: coldfile [-s MIB] [-c KIB] [FILE]\n"
			       "How late a 1 ms timer runs while FILE (made with MIB MiB when missing,\n"
			       "default 64, at /var/tmp/coldfile.dat) is read in KIB KiB chunks (default 64):\n"
			       "cold in the loop's thread, warm in it, cold in another thread.\n");
			return 0;
		default: return 2;
		}
	}
	if (optind < argc)
		path = argv[optind];
	if (mib < 1 || mib > 65536 || kib < 1 || kib > 65536) {
		fprintf(stderr, "coldfile: -s 1..65536 MiB, -c 1..65536 KiB\n");
		return 2;
	}
	make_file(path, (off_t)mib << 20);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		die("open %s", path);
	run_way("cold-loop", fd, (off_t)mib << 20, (size_t)kib << 10, true, false);
	run_way("warm-loop", fd, (off_t)mib << 20, (size_t)kib << 10, false, false);
	run_way("cold-thread", fd, (off_t)mib << 20, (size_t)kib << 10, true, true);
	close(fd);
	return 0;
}
