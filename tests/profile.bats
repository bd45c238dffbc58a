#!/usr/bin/env bats
# make profile (bench/profile): the shape of what the kernel shows, by
# function names and shares with wide margins, never by timings. One small
# run (3,000 idle connections, 1 s sampled, the call times at 0 and 3,000
# idle) serves the first two tests; the refusals need no run.
# run: once

load suite

PROFILE=$BATS_TEST_DIRNAME/../bench/profile

# small_run: bench/profile once per file, into $BATS_FILE_TMPDIR/out; its
# output in run.log, its status in status. Skips (every test that needs it)
# when perf cannot sample the kernel here, saying why.
small_run() {
	local why dir=$BATS_FILE_TMPDIR
	why=$(perf_refusal) || skip "perf cannot sample the kernel here: $why"
	if [ ! -f "$dir/status" ]; then
		"$PROFILE" --models "poll epoll_et" --idle 3000 --conns 20 --seconds 1 \
			--calls "0 3000" --call-seconds 0.5 --out "$dir/out" --bin "$BIN" > "$dir/run.log" 2>&1
		echo $? > "$dir/status"
	fi
	cat "$dir/run.log"
	expect_eq 0 "$(cat "$dir/status")" "bench/profile's exit status"
	OUT=$dir/out
}

# scan_share FILE: poll's scan, the whole % of samples on the table's third
# line ("# poll's scan (...): 54.3% of samples" -> 54).
scan_share() {
	awk '/^# poll.s scan/ && match($0, /[0-9.]+% of samples/) { print int(substr($0, RSTART)) }' "$1"
}

@test "poll's flame graph is its scan of every descriptor; epoll_et's is not" {
	small_run
	local poll epoll
	poll=$(scan_share "$OUT/poll.txt")
	epoll=$(scan_share "$OUT/epoll_et.txt")
	echo "poll's scan: $poll%, epoll_et's: $epoll% of samples"
	# here 54 to 70% and 1% at 3,000 idle; issue 22 asks at least 40% and
	# under 5% at 10,000 idle (78.5% and 1.2% in docs/results/profile)
	[ "$poll" -ge 30 ]
	[ "$epoll" -lt 5 ]
	grep -E '^ +[0-9.]+ +[0-9.]+ +kernel +sock_poll$' "$OUT/poll.txt"
	grep -E '^ +[0-9.]+ +[0-9.]+ +kernel +tcp_poll$' "$OUT/poll.txt"
	# epoll's own work is there, only small: its wait is a call among others
	grep -q 'do_epoll_wait_\[k\]' "$OUT/epoll_et.folded"
	for m in poll epoll_et; do
		[ -s "$OUT/$m.png" ] && [ -s "$OUT/$m.folded" ]
		grep -q '</svg>' "$OUT/$m.svg"
	done
}

@test "poll's call time grows with the descriptors it is given; epoll_wait's does not" {
	small_run
	perf_refusal calls > /dev/null || skip "no call times here: $(perf_refusal calls)"
	local poll epoll
	cat "$OUT/calls-summary.csv" "$OUT/slopes.txt"
	poll=$(awk '$1 == "poll" { print int($2) }' "$OUT/slopes.txt")
	epoll=$(awk '$1 == "epoll_et" { printf "%d", $2 < 0 ? -$2 : $2 }' "$OUT/slopes.txt")
	# here about 350 ns per descriptor against 0.1; bench/polltime's
	# one-ready call, 32 ns: the threshold sits below both
	[ "$poll" -ge 10 ]
	[ $((epoll * 10)) -lt "$poll" ]
	[ -s "$OUT/calls.png" ]
}

@test "without perf: one line naming it and the fix, exit 2" {
	mkdir -p "$BATS_TEST_TMPDIR/fake"
	# Ubuntu's /usr/bin/perf without the kernel's own perf fails just so
	printf '#!/bin/sh\necho "WARNING: perf not found for kernel" >&2\nexit 2\n' > "$BATS_TEST_TMPDIR/fake/perf"
	chmod +x "$BATS_TEST_TMPDIR/fake/perf"
	PATH=$BATS_TEST_TMPDIR/fake:$PATH run_expecting 2 "$PROFILE" --out "$BATS_TEST_TMPDIR/out" --bin "$BIN"
	expect_eq 1 "${#lines[@]}" "lines"
	[[ $output == "profile: perf is not installed"*"; fix: "*"install"* ]]
}

@test "perf refusing to sample the kernel: one line with the sysctl that fixes it, exit 2" {
	mkdir -p "$BATS_TEST_TMPDIR/fake"
	# what perf says at kernel.perf_event_paranoid=2 when asked for :k
	printf '#!/bin/sh\n[ "$1" = --version ] && { echo "perf version 6.1"; exit 0; }\necho "Access to performance monitoring and observability operations is limited." >&2\nexit 255\n' \
		> "$BATS_TEST_TMPDIR/fake/perf"
	chmod +x "$BATS_TEST_TMPDIR/fake/perf"
	PATH=$BATS_TEST_TMPDIR/fake:$PATH run_expecting 2 "$PROFILE" --out "$BATS_TEST_TMPDIR/out" --bin "$BIN"
	expect_eq 1 "${#lines[@]}" "lines"
	[[ $output == "profile: perf cannot sample"*"Access to performance monitoring"*"fix: "* ]]
}

@test "a normal user at kernel.perf_event_paranoid=2 is told the sysctl and how to keep it" {
	[ "$(id -u)" = 0 ] && id student1 > /dev/null 2>&1 || skip "needs root and the user student1"
	[ "$(cat /proc/sys/kernel/perf_event_paranoid)" -ge 2 ] || skip "kernel.perf_event_paranoid is below 2 here"
	# a copy the user can read, outside any worktree of root's
	local copy
	copy=$(mktemp -d /tmp/profile-test.XXXXXX)
	cp -r "$BATS_TEST_DIRNAME/../bench" "$BATS_TEST_DIRNAME/../harness" "$BATS_TEST_DIRNAME/../tools" "$copy"
	chmod -R a+rX "$copy"
	run_expecting 2 runuser -u student1 -- "$copy/bench/profile" --out "$copy/out" --bin "$BIN"
	rm -rf "$copy"
	expect_eq 1 "${#lines[@]}" "lines"
	[[ $output == *"kernel.perf_event_paranoid="*"fix: sudo sysctl kernel.perf_event_paranoid=1"*"/etc/sysctl.d/"* ]]
}
