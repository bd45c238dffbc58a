#!/usr/bin/env bats
# run: once
#
# The build where liburing is missing, too old, installed or removed.
# make asks servers/common/uring-config whether the liburing it finds
# has what servers/common/uring.c uses; the answer is a file that the
# programs using liburing depend on. Here a fake liburing.h, a header of
# liburing 2.1's age (no buffer ring, no multishot recv, no DEFER_TASKRUN),
# stands for the old one; an include directory without liburing.h for none.
# Each make builds into the test's own directory, a few programs only.
#
# The last test needs a real liburing 2.3 or newer, found with the CFLAGS and
# LDFLAGS of the environment (as make would find it); without one it skips.

load suite

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

setup() {
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/old" "$T/none"
	# what liburing 2.1 offers of what the probe asks: the ring, no more
	cat >"$T/old/liburing.h" <<-'EOF'
		struct io_uring { int ring_fd; };
		int io_uring_queue_init(unsigned entries, struct io_uring *ring, unsigned flags);
	EOF
}

# config CFLAGS: runs the probe as the Makefile does, into $T/uring.config;
# prints its one line.
config() {
	CC=${CC:-cc} CFLAGS="-std=gnu11 $1" LDFLAGS=${LDFLAGS:-} \
		"$ROOT/servers/common/uring-config" "$T/uring.config"
}

# kit CFLAGS TARGETS...: make in the repository, building into $T; its output
# in $output, its status in $status.
kit() {
	local flags=$1
	shift
	run make -C "$ROOT" --no-print-directory -j2 BUILD="$T/build" BINDIR="$T/bin" \
		CFLAGS="$flags" "${@/#/$T/bin/}"
}

@test "the probe: one line for a missing and for a too old liburing; the file changes only with the answer" {
	run_expecting 0 config "-isystem $T/none -isystem $T/old"
	[[ $output == "io_uring: liburing here is older than 2.3 "* ]] || expect_eq "older than 2.3" "$output"
	expect_eq 1 "${#lines[@]}" "lines"
	touch -d @1 "$T/uring.config" # as old as can be: any rewrite shows
	run_expecting 0 config "-isystem $T/old"
	expect_eq 1 "$(stat -c %Y "$T/uring.config")" "mtime after the same answer"
	# none: only where the compiler finds no liburing.h of its own
	[ ! -e /usr/include/liburing.h ] || return 0
	run_expecting 0 config "-isystem $T/none"
	[[ $output == "io_uring: liburing-dev missing; "* ]] || expect_eq "liburing-dev missing" "$output"
	[ "$(stat -c %Y "$T/uring.config")" != 1 ] || { echo "the file kept the old answer"; return 1; }
}

@test "a liburing too old: one line; loadgen and the other servers still build" {
	kit "-isystem $T/old" io_uring loadgen epoll_et
	echo "$output"
	expect_eq 0 "$status" "make's status"
	expect_eq 1 "$(grep -c 'older than 2.3' <<<"$output")" "lines that say what is missing"
	[ -x "$T/bin/loadgen" ] && [ -x "$T/bin/epoll_et" ] && [ ! -e "$T/bin/io_uring" ]
	grep -q 'older than 2.3' "$T/bin/io_uring.missing"
	run_stderr_apart "$T/bin/loadgen" --engine io_uring -n 1 http://127.0.0.1:1/
	expect_eq 2 "$status" "loadgen's status"
	expect_eq 1 "${#stderr_lines[@]}" "lines on stderr"
	[[ $stderr == *"--engine io_uring: liburing here is older than 2.3"* ]] ||
		expect_eq "loadgen: --engine io_uring: ...older than 2.3..." "$stderr"
}

# mtime FILE: its modification time, to the nanosecond
mtime() { stat -c %y "$1"; }

@test "installing liburing rebuilds loadgen and io_uring, and the stale marker goes; removing it, the reverse" {
	local real=${CFLAGS:-} lg et
	[ "$(config "$real")" = yes ] || skip "no liburing 2.3 or newer here (CFLAGS, LDFLAGS) to install"
	kit "-isystem $T/old $real" io_uring loadgen epoll_et
	[ -e "$T/bin/io_uring.missing" ] && [ ! -e "$T/bin/io_uring" ]
	lg=$(mtime "$T/bin/loadgen") et=$(mtime "$T/bin/epoll_et")

	kit "$real" io_uring loadgen epoll_et # "installed"
	expect_eq 0 "$status" "make's status"
	[ -x "$T/bin/io_uring" ] && [ ! -e "$T/bin/io_uring.missing" ]
	[ "$(mtime "$T/bin/loadgen")" != "$lg" ] || { echo "loadgen was not rebuilt"; return 1; }
	expect_eq "$et" "$(mtime "$T/bin/epoll_et")" "epoll_et's mtime (it uses no liburing)"
	run "$T/bin/loadgen" --engine io_uring -c 1 -n 1 --timeout 100 http://127.0.0.1:1/
	[[ $output != *"older than"* && $output != *missing* ]]

	lg=$(mtime "$T/bin/loadgen")
	kit "$real" loadgen # the same liburing: nothing to rebuild
	expect_eq "$lg" "$(mtime "$T/bin/loadgen")" "loadgen's mtime"

	kit "-isystem $T/old $real" io_uring loadgen # "removed"
	[ -e "$T/bin/io_uring.missing" ] && [ ! -e "$T/bin/io_uring" ]
	[ "$(mtime "$T/bin/loadgen")" != "$lg" ] || { echo "loadgen was not rebuilt"; return 1; }
	run_expecting 2 "$T/bin/loadgen" --engine io_uring -n 1 http://127.0.0.1:1/
}
