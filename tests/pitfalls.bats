#!/usr/bin/env bats
# run: once
# run: alone
#
# The pitfall experiments (pitfalls/, docs/pitfalls.md): each bin/pitfall-NAME
# makes a classic bug happen inside one process and judges what it saw. A test
# passes when the experiment exits 0 (the bug happened as the lesson says, and
# the fix did not show it), fails on 1 (it did not) or 2 (its set-up failed),
# and skips, with the experiment's reason, on 77 (the kernel or the build
# lacks what the lesson needs). Each runs a few seconds at most, under a
# timeout; the experiments judge by counts (wake-ups, reports, signals) and by
# generous margins, so a busy machine does not change the verdict.

load suite

# experiment NAME: runs bin/pitfall-NAME and checks its verdict and report.
experiment() {
	local exe=$BIN/pitfall-$1
	[ -x "$exe" ] || { echo "$exe is not built" >&2; return 1; }
	run timeout "$(secs 30)" "$exe"
	echo "$output"	# shown when the test fails
	if (( status == 77 )); then
		skip "${lines[-1]#skipped: }"
	fi
	expect_eq 0 "$status" "exit status of pitfall-$1"
	expect_eq "pitfall-$1:" "${lines[0]%% *}" "title line"
	[[ $output == *$'\n  observed: '* && $output == *$'\n  why: '* ]] ||
		{ echo "no observed: or why: line" >&2; return 1; }
	[[ ${lines[-1]} == "matched: "* ]] || { echo "no 'matched:' last line" >&2; return 1; }
}

@test "1 edge-triggered without draining: the request stalls; draining reads it" {
	experiment et_drain
}

@test "2 FD_SET past FD_SETSIZE: the fortified child aborts; the clean way refuses" {
	experiment fd_setsize
}

@test "3 the EMFILE spin: thousands of wake-ups a second; the spare descriptor: one" {
	experiment emfile_spin
}

@test "4 the EPOLLOUT busy loop: a wake-up per call; EPOLLOUT on need: one" {
	experiment epollout_busy
}

@test "5 SIGPIPE kills the unguarded writer; SIG_IGN and MSG_NOSIGNAL get EPIPE" {
	experiment sigpipe
}

@test "6 thundering herd: an epoll set per thread wakes all; accept, EPOLLEXCLUSIVE, SO_REUSEPORT one" {
	experiment thundering_herd
}

@test "7 unfair accept: the last epoll waiter takes most; SO_REUSEPORT spreads" {
	experiment accept_lifo
}

@test "8 a closed but still registered descriptor: events go on, DEL fails with EBADF" {
	experiment close_registered
}

@test "9 EPOLLRDHUP: without it the close goes unseen; with it, read to EOF" {
	experiment rdhup
}

@test "10 a blocking handler raises the other clients' p99 to its own length" {
	experiment blocking_handler
}

@test "every experiment takes -h, and refuses an unknown option" {
	local exe n=0
	for exe in "$BIN"/pitfall-*; do
		run -0 "$exe" -h
		[[ ${lines[0]} == "usage: ${exe##*/} [-h]" ]] || { echo "$exe -h: ${lines[0]}" >&2; return 1; }
		run -2 "$exe" --bogus
		n=$((n + 1))
	done
	expect_eq 10 "$n" "pitfall binaries in $BIN"
}

@test "pitfalls/run: one line per experiment and the summary line" {
	run -0 env BIN="$BIN" "$BATS_TEST_DIRNAME/../pitfalls/run" rdhup close_registered
	echo "$output"
	[[ ${lines[0]} == "ok    rdhup "* && ${lines[1]} == "ok    close_registered "* ]]
	[[ ${lines[2]} == "2 matched, 0 not matched, 0 skipped ("* ]]
}
