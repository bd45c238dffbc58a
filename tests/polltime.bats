#!/usr/bin/env bats
# bench/polltime's own checks: the select guard looks at the descriptors it
# actually opened. Descriptors inherited from the caller (a shell's
# redirections, a harness's pipes) push its eventfds up; FD_SET on one at or
# above FD_SETSIZE writes past the fd_set, on the stack: polltime once printed
# a row for nfds=128 when asked for 1020, its own variables overwritten.

load suite

setup() {
	[ -x "$BIN/polltime" ] || { echo "$BIN/polltime is not built (make)" >&2; return 1; }
}

# polltime_with_fds K ARGS: polltime with descriptors 3 .. K+2 left open.
polltime_with_fds() {
	local k=$1 fd
	shift
	(
		close_inherited_fds
		for (( fd = 3; fd < 3 + k; fd++ )); do
			eval "exec $fd</dev/null"
		done
		exec timeout "$(secs 30)" "$BIN/polltime" "$@"
	)
}

@test "select past FD_SETSIZE because of inherited descriptors: skipped, no row" {
	run --separate-stderr polltime_with_fds 8 -m select -n 1020 -c 1000
	expect_eq 0 "$status" "exit status"
	expect_eq "" "$output" "rows on stdout"
	[[ $stderr == "skip select nfds=1020: descriptors up to 1030"* ]] ||
		expect_eq "skip select nfds=1020: descriptors up to 1030 ..." "$stderr" stderr
}

@test "select just below FD_SETSIZE: measured, one row with the asked nfds" {
	run --separate-stderr polltime_with_fds 8 -m select -n 1000 -c 1000
	expect_eq 0 "$status" "exit status"
	[[ $output == "select,1000,1000,"* ]] || expect_eq "select,1000,1000,..." "$output" row
}
