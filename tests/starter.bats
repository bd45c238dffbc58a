#!/usr/bin/env bats
# run: once
#
# The starters (labs/starter/server.c, level-triggered; server_et.c, the
# edge-triggered path) lead to a full score: their TODOs, done as their
# comments say, pass the grade. tests/starter/complete does each TODO the
# way a student would, from tests/starter/NAME.answers, and fails when a
# TODO and its answer no longer fit. Every code fragment a TODO quotes
# between backquotes must be code the finished server compiles, so the
# texts cannot drift from what builds.
#
# The whole grade of one finished starter takes about 35 s here, so make
# test grades the behaviours that tell the trigger modes apart (GRADE_ONLY);
# STARTER_FULL_GRADE=1 grades everything.

load suite

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
STARTERS="server server_et"
# What distinguishes a loop that reads once, misses the FIN, watches
# EPOLLOUT for ever, forgets the idle list or reuses a descriptor's state.
GRADE_ONLY='exact response|100 pipelined|1,000 pipelined requests, then|idle connections cost|stalled half-request|idle-timeout 1:|stats: accepted|descriptor number reused'

# cc_server OUT FILES...: builds a server against servers/common/ with the
# project's warnings as errors (the grader shows them; here none may exist).
cc_server() {
	local out=$1 common=() f
	shift
	for f in "$ROOT"/servers/common/*.c; do
		case ${f##*/} in uring.c | uring_probe.c) ;; *) common+=("$f") ;; esac
	done
	cc -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -pedantic -Werror -O1 -pthread \
		-I"$ROOT/lib" -I"$ROOT/servers/common" -o "$out" "$@" "${common[@]}" "$ROOT"/lib/*.c -lm
}

# finished NAME: the starter NAME.c with every TODO done, as $BATS_FILE_TMPDIR/mine_NAME.c.
finished() {
	"$ROOT/tests/starter/complete" "$ROOT/labs/starter/$1.c" "$ROOT/tests/starter/$1.answers" \
		>"$BATS_FILE_TMPDIR/mine_$1.c"
}

# quoted_code FILE: the fragments the TODO comments of FILE quote between
# backquotes, one a line, their white space squeezed to single spaces.
quoted_code() {
	awk '/\/\* TODO [0-9]+:/, /\*\//' "$1" | tr '\n\t' '  ' | tr -s ' ' |
		grep -o '`[^`]*`' | tr -d '`'
}

@test "each starter, and each with its TODOs done, builds without a warning" {
	local name
	for name in $STARTERS; do
		finished "$name"
		cc_server "$BATS_TEST_TMPDIR/$name" "$ROOT/labs/starter/$name.c"
		cc_server "$BATS_TEST_TMPDIR/mine_$name" "$BATS_FILE_TMPDIR/mine_$name.c"
		# the finished file has no todo() call left
		if grep -n '^[[:space:]]*todo(' "$BATS_FILE_TMPDIR/mine_$name.c"; then
			echo "$name.c: a todo() call is left after every TODO was done" >&2
			return 1
		fi
	done
}

@test "every fragment of code a TODO quotes is code the finished starter compiles" {
	local name fragment code n
	for name in $STARTERS; do
		finished "$name"
		code=$(tr '\n\t' '  ' <"$BATS_FILE_TMPDIR/mine_$name.c" | tr -s ' ')
		n=0
		while IFS= read -r fragment; do
			n=$((n + 1))
			[[ $code == *"$fragment"* ]] ||
				{ echo "$name.c: a TODO quotes '$fragment', which its answer does not contain" >&2; return 1; }
		done < <(quoted_code "$ROOT/labs/starter/$name.c")
		echo "$name.c: $n fragments quoted, each in the finished file"
		(( n >= 5 ))
	done
}

@test "each starter as it is stops at once, naming TODO 1 in one line on stderr" {
	local name
	for name in $STARTERS; do
		cc_server "$BATS_TEST_TMPDIR/$name" "$ROOT/labs/starter/$name.c"
		run_stderr_apart timeout "$(secs 10)" "$BATS_TEST_TMPDIR/$name" -p 0
		expect_eq 3 "$status" "$name: exit status"
		expect_eq "starter: TODO 1 is not done: wait_for_events(): call epoll_wait and count it" \
			"$stderr" "$name: its stderr"
		[[ $output == "listening on 127.0.0.1:"* ]]
	done
}

# grade_finished NAME MODEL: grades the finished NAME.c, held to MODEL, and
# wants a full score.
grade_finished() {
	local filter=$GRADE_ONLY
	[ "${STARTER_FULL_GRADE:-0}" = 1 ] && filter=""
	finished "$1"
	# the student's program names itself "mine": any name is fine
	MODEL_NAME="" run timeout "$(secs 600)" "$ROOT/tests/grade" ${filter:+-f "$filter"} \
		"$BATS_FILE_TMPDIR/mine_$1.c"
	echo "$output"
	[[ $output == *"held to the lessons of bin/$2 (guessed"* ]]
	(( status == 0 )) || { echo "the finished $1.c did not pass its grade" >&2; return 1; }
	[[ $output == *" 0 failed"* ]]
}

@test "labs/starter/server.c, its TODOs done as they say, passes the grade of epoll_lt" {
	grade_finished server epoll_lt
}

@test "labs/starter/server_et.c, its TODOs done as they say, passes the grade of epoll_et" {
	grade_finished server_et epoll_et
}
