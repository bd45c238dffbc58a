#!/usr/bin/env bats
# run: once
#
# harness/sharing.bash: one VM, several students. The CPUs a process may use,
# its scratch directory, and the machine-wide lock that makes a second lab
# wait, saying for whom, until the first has ended, however it ended. Each
# test takes a second or less: the lock is taken by small shells, no lab
# runs. Its lock is a directory of the test's own (MEASURE_LOCK_DIR), so a
# lab running on the machine at the same time neither waits nor is waited
# for.

load suite

SHARING=$BATS_TEST_DIRNAME/../harness/sharing.bash

setup() {
	export MEASURE_LOCK_DIR=$BATS_TEST_TMPDIR/lock
	HELD=$BATS_TEST_TMPDIR/held SECOND=$BATS_TEST_TMPDIR/second
	exec {NAP}<> <(:)           # read -t on it: a pause without a process
}

# hold_lock WHAT: a shell in the background that takes the lock as WHAT,
# writes "held" to $HELD, and keeps the lock until its stdin (a fifo) is
# closed. Sets HOLDER (its PID) and RELEASE (a descriptor: close it to end).
hold_lock() {
	mkfifo "$BATS_TEST_TMPDIR/release"
	bash -c 'source "$1"; measure_lock "$2" || exit 1; echo held > "$3"; read -r _ || exit 0' \
		_ "$SHARING" "$1" "$HELD" < "$BATS_TEST_TMPDIR/release" &
	HOLDER=$!
	exec {RELEASE}> "$BATS_TEST_TMPDIR/release"
	wait_for_file "$HELD" held
}

# second_lock: a second shell that asks for the lock in the background; it
# writes "got" to $SECOND once it holds it, its stderr into $SECOND.err.
second_lock() {
	# without the fifo's write end: while any process holds it open, the
	# first holder never sees its end and never lets go
	bash -c 'source "$1"; measure_lock lab9 && echo got > "$2"' _ "$SHARING" "$SECOND" 2> "$SECOND.err" {RELEASE}>&- &
	SECOND_PID=$!
}

# wait_for_file FILE TEXT: waits up to 5 s (scaled) until FILE holds TEXT.
wait_for_file() {
	local tries=$(( $(secs 5) * 100 ))
	while ((tries-- > 0)); do
		grep -q "$2" "$1" 2> /dev/null && return 0
		read -r -t 0.01 -u "$NAP" _ || true
	done
	echo "$1 never held '$2': $(cat "$1" 2> /dev/null)"
	return 1
}

@test "allowed_cpus: the CPUs of this process's affinity, and one under taskset -c 1" {
	command -v taskset > /dev/null || skip "no taskset (util-linux)"
	[ "$(nproc --all)" -ge 2 ] || skip "one CPU: no CPU 1 to pin to"
	run_expecting 0 taskset -c 1 bash -c 'source "$1"; allowed_cpus' _ "$SHARING"
	expect_eq 1 "$output" "allowed_cpus under taskset -c 1"
	# the kernel's own list, expanded ("0-1" is "0 1")
	run_expecting 0 bash -c 'source "$1"; allowed_cpus' _ "$SHARING"
	want=$(taskset -pc $$ | sed 's/.*: //' | awk -F, '{ for (i = 1; i <= NF; i++) { n = split($i, r, "-")
		for (c = r[1]; c <= r[n]; c++) printf "%s%d", (o++ ? " " : ""), c } }')
	expect_eq "$want" "$output" "allowed_cpus unpinned"
}

@test "scratch_dir: this user's own directory, mode 0700, the same each time" {
	run_expecting 0 bash -c 'source "$1"; scratch_dir' _ "$SHARING"
	dir=$output
	[ -d "$dir" ] && [ -O "$dir" ] && [ ! -L "$dir" ]
	expect_eq 700 "$(stat -c %a "$dir")" "its mode"
	run_expecting 0 bash -c 'source "$1"; scratch_dir' _ "$SHARING"
	expect_eq "$dir" "$output" "a second call"
}

@test "measure_lock: the second waits, names the holder in one line, and runs once the first has ended" {
	hold_lock lab2
	run_expecting 0 bash -c 'source "$1"; measure_lock_holder' _ "$SHARING"
	[[ $output =~ ^$(id -un)\ lab2\ [0-9]+\ since\ [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]] ||
		{ echo "holder line: '$output'"; return 1; }
	second_lock
	wait_for_file "$SECOND.err" "waiting for it"
	expect_eq 1 "$(wc -l < "$SECOND.err")" "lines the waiting one printed"
	grep -q "$(id -un) lab2 $HOLDER since" "$SECOND.err" || { cat "$SECOND.err"; return 1; }
	[ ! -e "$SECOND" ] || { echo "the second took the lock while the first held it"; return 1; }
	exec {RELEASE}>&-
	wait "$HOLDER"
	wait_for_file "$SECOND" got
	wait "$SECOND_PID"
	run_expecting 0 bash -c 'source "$1"; measure_lock_holder' _ "$SHARING"
	expect_eq "" "$output" "the holder once both have ended"
}

@test "measure_lock: a holder killed with SIGKILL releases the lock; a stale holder file is ignored" {
	# what a holder killed before it could remove its file leaves: a PID
	# that no longer runs (or runs, but started at another time)
	mkdir -m 1777 "$MEASURE_LOCK_DIR"
	printf 'ghost lab1 %s since 2026-01-01T00:00:00Z\n1\n' "$$" > "$MEASURE_LOCK_DIR/holder.stale"
	run_expecting 0 bash -c 'source "$1"; measure_lock_holder' _ "$SHARING"
	expect_eq "" "$output" "the holder, with only a stale file"
	hold_lock lab2
	second_lock
	wait_for_file "$SECOND.err" "waiting for it"
	kill -KILL "$HOLDER"
	wait_for_file "$SECOND" got
	wait "$SECOND_PID"
	exec {RELEASE}>&-
	run_expecting 0 bash -c 'source "$1"; measure_lock_holder' _ "$SHARING"
	expect_eq "" "$output" "the holder after a SIGKILL"
}

@test "measure_lock refuses a lock directory that not every user may use, in one line" {
	mkdir -m 0755 "$MEASURE_LOCK_DIR"
	run_expecting 1 bash -c 'source "$1"; measure_lock lab2' _ "$SHARING"
	[[ $output == *"not a directory every user may lock"* ]] || { echo "$output"; return 1; }
	expect_eq 1 "${#lines[@]}" "lines"
}
