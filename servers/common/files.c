/*
 * files.c - --root DIR: finding a request's file beneath DIR, and nothing else.
 *
 * Every request-target goes through these steps, in order:
 *   1. the query ('?' and what follows) is dropped; what is left must start
 *      with '/': an absolute-form "http://host/x", or "*", is refused (400);
 *   2. percent-decoding is strict: '%' takes exactly two hex digits (else
 *      400), and %00 is refused (400): a NUL would end the path early;
 *   3. the DECODED path is judged: a backslash, or a "." or ".." segment, is
 *      refused (400), so no encoding (%2e%2e, ..%2f) smuggles one through;
 *   4. the kernel opens the path beneath the root's descriptor, taken at
 *      start-up, and refuses any way out, a symlink included (403);
 *   5. fstat on what was opened: a regular file is served, a directory answers
 *      its index.html (no listing: 404 without one), anything else (a FIFO, a
 *      device, a socket) is refused (403) without a byte read.
 *
 * Step 4 is openat2(2) (Linux 5.6) with RESOLVE_BENEATH: the kernel walks the
 * path and fails with EXDEV the moment it would leave the root, by ".." or by
 * a symlink, absolute or relative. RESOLVE_NO_MAGICLINKS also refuses the
 * /proc/PID/fd kind of link, which names an open file rather than a path.
 * Symlinks that stay beneath the root are followed. Where openat2 is missing
 * (ENOSYS: Linux < 5.6, or a seccomp filter that predates it) we walk the path
 * ourselves, one component at a time with openat(O_NOFOLLOW): stricter, since
 * then every symlink is refused, even one that stays inside. The tests run
 * both: the environment variable C10K_NO_OPENAT2=1 forces the walk.
 *
 * Step 5 opens with O_NONBLOCK | O_NOCTTY and checks with fstat before any
 * read: opening a FIFO for reading would otherwise sleep until a writer came
 * (and freeze an event loop with it), and opening a terminal could make it
 * our controlling tty. On a regular file O_NONBLOCK means nothing: reading a
 * cold disk blocks regardless (docs/models.md, "Serving files").
 *
 * 404: nothing is there. 403: something is there that is not served
 * (unreadable, special, or outside the root).
 */
#include "files.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

/* How every file is opened: see step 5 above. */
#define OPEN_FLAGS (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

static int root_fd = -1; /* DIR, opened O_PATH: a place to resolve beneath */
static bool use_openat2; /* false: the component walk */

/* ---------------------------------------------------------------- opening beneath the root */

/* openat2 beneath the root; ENOSYS where the kernel (or libc headers) lack it. */
static int open_openat2(const char *path)
{
#ifdef SYS_openat2
	struct open_how how;

	memset(&how, 0, sizeof how); /* the kernel refuses fields it does not know unless 0 */
	how.flags = OPEN_FLAGS;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof how);
#else
	(void)path;
	errno = ENOSYS;
	return -1;
#endif
}

/* The fallback: each component opened beneath the last with O_NOFOLLOW, so
   no symlink is followed (a symlink directory fails O_DIRECTORY with ENOTDIR,
   a final symlink fails with ELOOP), and ".." never gets here (step 3).
   Directories on the way are opened O_PATH: search permission is enough. */
static int open_walk(const char *path)
{
	char name[NAME_MAX + 1];
	int dir = root_fd, fd, err;

	for (;;) {
		size_t n = strcspn(path, "/");
		const char *rest = path + n;
		bool last;

		while (*rest == '/')
			rest++;
		last = *rest == '\0';
		if (n > NAME_MAX) {
			fd = -1;
			errno = ENAMETOOLONG;
		} else {
			memcpy(name, path, n);
			name[n] = '\0';
			fd = openat(dir, name,
				    last ? OPEN_FLAGS | O_NOFOLLOW
					 : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		err = errno;
		if (dir != root_fd)
			close(dir);
		errno = err;
		if (fd == -1 || last)
			return fd;
		dir = fd;
		path = rest;
	}
}

/* Opens path (relative, decoded, judged) beneath the root. Returns the
   descriptor, or -1 with errno set. */
static int open_beneath(const char *path)
{
	if (*path == '\0')
		path = "."; /* "/" names the root itself */
	return use_openat2 ? open_openat2(path) : open_walk(path);
}

void files_init(const char *dir)
{
	int fd;

	root_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd == -1)
		die("--root %s", dir);
	use_openat2 = getenv("C10K_NO_OPENAT2") == NULL;
	if (use_openat2) {
		fd = open_openat2(".");
		if (fd == -1 && errno == ENOSYS)
			use_openat2 = false;
		else if (fd == -1)
			die("--root %s: openat2", dir);
		else
			close(fd);
	}
	note("serving the files beneath %s (%s)", dir,
	     use_openat2 ? "openat2, RESOLVE_BENEATH"
			 : "openat, component by component, O_NOFOLLOW");
}

/* ---------------------------------------------------------------- judging the target */

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Steps 1 and 2: decodes the path of t[0..n) into path (room bytes), without
   its leading '/'. Returns 0, or the status to answer (*why says why). */
static int decode_target(const char *t, size_t n, char *path, size_t room, const char **why)
{
	const char *q = memchr(t, '?', n);
	size_t len = 0;

	if (q != NULL)
		n = (size_t)(q - t); /* the query means nothing to a file */
	if (n == 0 || t[0] != '/') {
		*why = "the target must be a path starting with /";
		return 400;
	}
	for (size_t i = 1; i < n; i++) {
		char ch = t[i];

		if (ch == '%') {
			int hi = i + 2 < n ? hex_value(t[i + 1]) : -1;
			int lo = hi >= 0 ? hex_value(t[i + 2]) : -1;

			if (lo < 0) {
				*why = "bad percent-escape (% takes two hex digits)";
				return 400;
			}
			ch = (char)(hi * 16 + lo);
			i += 2;
			if (ch == '\0') {
				*why = "%00 in the path";
				return 400;
			}
		}
		if (len + 1 >= room) {
			*why = "no such file (the path is too long)";
			return 404;
		}
		path[len++] = ch;
	}
	path[len] = '\0';
	return 0;
}

/* Step 3: no backslash, no "." or ".." segment in the decoded path. */
static bool path_is_plain(const char *path)
{
	if (strchr(path, '\\') != NULL)
		return false;
	for (;;) {
		size_t n = strcspn(path, "/");

		if ((n == 1 && path[0] == '.') || (n == 2 && path[0] == '.' && path[1] == '.'))
			return false;
		if (path[n] == '\0')
			return true;
		path += n + 1;
	}
}

/* ---------------------------------------------------------------- finding the file */

/* The status for an open() that failed with err. */
static int open_status(int err, const char **why)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG: *why = "no such file"; return 404;
	case EACCES:
	case EPERM: *why = "the file is not readable"; return 403;
	case EXDEV:
	case ELOOP:
		*why = "the path leads outside the root (or through a refused symlink)";
		return 403;
	case ENXIO:
	case ENODEV: *why = "not a regular file"; return 403;
	case EMFILE:
	case ENFILE:
	case ENOMEM: *why = "out of descriptors or memory"; return 503;
	default: *why = "the file cannot be opened"; return 500;
	}
}

/* Opens path beneath the root and fstats it into *st. Returns the descriptor,
   or -1 with the status to answer in *status. */
static int open_and_stat(const char *path, struct stat *st, int *status, const char **why)
{
	int fd = open_beneath(path);

	if (fd == -1) {
		*status = open_status(errno, why);
		return -1;
	}
	if (fstat(fd, st) == -1) {
		*status = open_status(errno, why);
		close(fd);
		return -1;
	}
	return fd;
}

/* Steps 4 and 5 for path (room bytes; a directory's "index.html" is appended
   to it). Returns 200 with the open regular file in *fd and its stat in *st,
   or the status to answer. */
static int find_file(char *path, size_t room, int *fd, struct stat *st, const char **why)
{
	static const char index_name[] = "index.html";
	size_t len = strlen(path);
	int status = 200;

	*fd = open_and_stat(path, st, &status, why);
	if (*fd >= 0 && S_ISDIR(st->st_mode)) {
		close(*fd);
		if (len > 0 && path[len - 1] != '/')
			path[len++] = '/';
		if (len + sizeof index_name > room) {
			*why = "no such file";
			return 404;
		}
		memcpy(path + len, index_name, sizeof index_name);
		*fd = open_and_stat(path, st, &status, why);
		if (status == 404)
			*why = "no index.html here (directories are not listed)";
	}
	if (*fd == -1)
		return status;
	if (!S_ISREG(st->st_mode)) { /* a FIFO, a device, a socket: never read */
		close(*fd);
		*why = "not a regular file";
		return 403;
	}
	return 200;
}

/* Content-Type from the file name's extension. */
static const char *content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ "html", "text/html" },  { "htm", "text/html" },
		{ "css", "text/css" },	  { "js", "text/javascript" },
		{ "txt", "text/plain" },  { "json", "application/json" },
		{ "png", "image/png" },	  { "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" }, { "svg", "image/svg+xml" },
	};
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');

	if (dot != NULL && (slash == NULL || dot > slash))
		for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

/* ---------------------------------------------------------------- the answer */

size_t files_answer(struct http_request *req, char *out, struct file_body *body)
{
	char path[PATH_MAX];
	const char *why = NULL;
	struct stat st;
	int fd = -1;
	int status = decode_target(req->target, req->target_len, path, sizeof path, &why);

	if (status == 0 && !path_is_plain(path)) {
		why = "no . or .. segments or backslashes in the path";
		status = 400;
	}
	if (status == 0)
		status = find_file(path, sizeof path, &fd, &st, &why);
	if (status != 200) {
		req->status = status;
		req->why = why;
		if (status == 400 || status >= 500)
			req->keep_alive = false; /* bad input, or a server in trouble */
		return http_answer(req, out);
	}
	if (req->head || st.st_size == 0) {
		close(fd); /* nothing to send after the head */
	} else {
		body->fd = fd;
		body->offset = 0;
		body->end = st.st_size;
	}
	return http_file_head(req, content_type(path), (unsigned long long)st.st_size, out);
}
