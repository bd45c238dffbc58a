/*
 * deny: runs a program with one syscall made to fail, as a seccomp filter in
 * a container or an older kernel would make it fail.
 *
 *   deny SYSCALL[:OPCODE] ERRNO PROGRAM [ARGS...]
 *
 *   deny io_uring_setup EPERM bin/io_uring -p 0        io_uring forbidden (Docker's profile)
 *   deny io_uring_setup ENOSYS bin/io_uring -p 0       a kernel without io_uring
 *   deny io_uring_register:22 EINVAL bin/io_uring      no provided-buffer ring (before 5.19):
 *                                                      only register opcode 22 fails
 *
 * SYSCALL is one of io_uring_setup, io_uring_enter, io_uring_register; ERRNO
 * one of EPERM, ENOSYS, EINVAL. The test suites use it to reach a server's
 * "cannot run here" path on a kernel that has everything (tests/io_uring_start.bats).
 *
 * How: prctl(PR_SET_NO_NEW_PRIVS) lets an unprivileged process install a
 * seccomp filter (seccomp(2)); the filter, a small classic-BPF program, reads
 * the syscall number (and the second argument) from struct seccomp_data and
 * returns SECCOMP_RET_ERRNO for the one syscall, SECCOMP_RET_ALLOW for the
 * rest. The filter survives execve, so PROGRAM runs under it. Linux 3.5+.
 * (A filter should also check seccomp_data.arch; this one runs programs
 * built on the same machine, with the native syscall numbers.)
 */
#include "toolkit.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
	const char *name;
	long nr;
} syscalls[] = {
	{ "io_uring_setup", SYS_io_uring_setup },
	{ "io_uring_enter", SYS_io_uring_enter },
	{ "io_uring_register", SYS_io_uring_register },
};

static const struct {
	const char *name;
	int err;
} errnos[] = {
	{ "EPERM", EPERM },
	{ "ENOSYS", ENOSYS },
	{ "EINVAL", EINVAL },
};

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: deny SYSCALL[:OPCODE] ERRNO PROGRAM [ARGS...]\n"
			"  SYSCALL: io_uring_setup, io_uring_enter, io_uring_register\n"
			"  ERRNO:   EPERM, ENOSYS, EINVAL\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long nr = -1, opcode = -1;
	int err = 0;
	char *colon;

	program_name = "deny";
	if (argc < 4)
		usage();
	colon = strchr(argv[1], ':');
	if (colon != NULL) {
		*colon = '\0';
		opcode = atol(colon + 1);
	}
	for (size_t i = 0; i < sizeof syscalls / sizeof syscalls[0]; i++)
		if (strcmp(argv[1], syscalls[i].name) == 0)
			nr = syscalls[i].nr;
	for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
		if (strcmp(argv[2], errnos[i].name) == 0)
			err = errnos[i].err;
	if (nr < 0 || err == 0)
		usage();

	/* if (nr == NR && (opcode < 0 || args[1] == OPCODE)) fail with err; else allow */
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)opcode, 0, opcode < 0 ? 0 : 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof code / sizeof code[0], .filter = code };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		die("prctl(PR_SET_NO_NEW_PRIVS)");
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1)
		die("prctl(PR_SET_SECCOMP)");
	execvp(argv[3], argv + 3);
	die("execvp(%s)", argv[3]);
}
