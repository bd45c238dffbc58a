#!/usr/bin/env bats
# run: once
#
# The grader (`make grade SRC=FILE`, tests/grade): it must pass a copy of any
# shipped model and fail the classic bugs, naming the behaviour that broke.
#
# Grading runs the conformance and hostile suites on an ASan build; the whole
# of both takes a minute or two per server, so each test here runs the
# behaviours that matter to it (tests/grade -f), and one copy gets the whole
# grade. The broken servers are the shipped models with one line changed, so
# the test also shows how small each bug is.

load suite

setup_file() {
	export GRADE_DIR=$BATS_FILE_TMPDIR
}

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

# grade FILE [ARGS...]: tests/grade on FILE, under a timeout.
grade() {
	timeout "$(secs 600)" "$ROOT/tests/grade" "$@"
}

# broken NAME MODEL SED: servers/MODEL.c with one edit, as $GRADE_DIR/NAME.c;
# fails if the edit changed nothing (the model's code has moved on).
broken() {
	local out=$GRADE_DIR/$1.c
	sed "$3" "$ROOT/servers/$2.c" >"$out"
	if cmp -s "$out" "$ROOT/servers/$2.c"; then
		echo "the edit '$3' no longer changes servers/$2.c: update this test" >&2
		return 1
	fi
}

# expect_failed SUITE: NAME: the grade failed, and named that behaviour.
expect_failed() {
	(( status != 0 )) || { echo "the grade passed: $output" >&2; return 1; }
	[[ $output == *"FAIL  $1"* ]] || { echo "want 'FAIL  $1' in: $output" >&2; return 1; }
}

@test "the starter builds, and its grade names the TODO left to write" {
	run grade -f 'GET: exact response bytes' "$ROOT/labs/starter/server.c"
	echo "$output"
	expect_failed "conformance: GET: exact response bytes"
	[[ $output == *"starter: TODO 1 is not done: wait_for_events()"* ]]
	[[ $output == *"held to the lessons of bin/epoll_lt"* ]]
}

@test "a copy of every shipped model passes the behaviours that tell them apart" {
	local m src
	while read -r m _; do
		src=$GRADE_DIR/copy_of_$m.c
		cp "$ROOT/servers/$m.c" "$src"
		run grade -f 'exact response|100 pipelined|idle connections cost|stalled half-request|1,000 pipelined requests, then' "$src" "$m"
		echo "$output"
		(( status == 0 )) || { echo "a copy of $m failed its grade" >&2; return 1; }
		[[ $output == *"held to the lessons of bin/$m"* ]]
	done < <(grep -v '^#' "$ROOT/servers/MODELS")
}

@test "a copy of epoll_et passes the whole grade, its model guessed from its calls" {
	cp "$ROOT/servers/epoll_et.c" "$GRADE_DIR/mine.c"
	run grade "$GRADE_DIR/mine.c"
	echo "$output"
	(( status == 0 ))
	[[ $output == *"held to the lessons of bin/epoll_et (guessed"* ]]
	[[ $output == *" 0 failed"* ]]
}

@test "edge-triggered, reading once per edge: fails 1,000 pipelined requests" {
	broken et_once epoll_et 's/conn_run(c, CONN_DRAIN)/conn_run(c, CONN_READ_ONCE)/'
	run grade -f '1,000 pipelined requests, then|exact response' "$GRADE_DIR/et_once.c"
	echo "$output"
	expect_failed "hostile: 1,000 pipelined requests, then a half-close"
	[[ $output == *"not once per event (CONN_DRAIN, not CONN_READ_ONCE)"* ]]
	[[ $output == *"pass  conformance: GET: exact response bytes"* ]]
}

@test "select without the FD_SETSIZE check: fails the descriptor past FD_SETSIZE" {
	broken select_unchecked select '/if (fd >= FD_SETSIZE) {/,/^\t}/d'
	run grade -f 'past FD_SETSIZE|exact response' "$GRADE_DIR/select_unchecked.c"
	echo "$output"
	expect_failed "hostile: select: a descriptor past FD_SETSIZE gets 503"
}

@test "poll always asking for POLLOUT: fails idle connections cost no CPU" {
	broken poll_pollout poll 's/return want == CONN_WRITE ? POLLOUT : POLLIN;/return POLLIN | POLLOUT;/'
	run grade -f 'idle connections cost|exact response' "$GRADE_DIR/poll_pollout.c"
	echo "$output"
	expect_failed "conformance: idle connections cost no CPU"
}
