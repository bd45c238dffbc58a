#!/usr/bin/env bats
# run: once
#
# The bugs students make, each one line in a shipped model: the grade
# (tests/grade) must fail the behaviour named after the bug, and say in
# words what went wrong. tests/grade.bats has the first three mutants
# (read once in epoll_et, select without FD_SETSIZE, poll always asking for
# POLLOUT); these are the rest. Each grade runs only the behaviour it is
# about, and GET's exact bytes (which every mutant must still pass).

load suite

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

# mutant NAME MODEL SED: servers/MODEL.c with one line changed, as
# $BATS_FILE_TMPDIR/NAME.c; fails if the edit changed nothing, or more
# than one line (the model's code has moved on: update the edit).
mutant() {
	local out=$BATS_FILE_TMPDIR/$1.c
	sed "$3" "$ROOT/servers/$2.c" >"$out"
	local changed
	changed=$(diff "$ROOT/servers/$2.c" "$out" | grep -c '^>')
	(( changed == 1 )) || {
		echo "the edit '$3' changes $changed lines of servers/$2.c, not 1: update this test" >&2
		return 1
	}
}

# grade_mutant NAME MODEL PATTERN: grades the mutant, held to MODEL, on
# the behaviours matching PATTERN and GET's exact bytes.
grade_mutant() {
	MODEL_NAME="" run timeout "$(secs 600)" "$ROOT/tests/grade" -f "$3|exact response bytes" \
		"$BATS_FILE_TMPDIR/$1.c" "$2"
	echo "$output"
}

# expect_failed BEHAVIOUR WORDS: the grade failed that behaviour (its
# "FAIL  suite: name" line), and its message has WORDS.
expect_failed() {
	(( status != 0 )) || { echo "the grade passed the mutant" >&2; return 1; }
	[[ $output == *"FAIL  $1"* ]] || { echo "want 'FAIL  $1' in the grade" >&2; return 1; }
	[[ $output == *"$2"* ]] || { echo "want the words '$2' in the grade's message" >&2; return 1; }
}

# expect_get_passed: the rest of the server works (the bug is that one line).
expect_get_passed() {
	[[ $output == *"pass  conformance: GET: exact response bytes"* ]] ||
		{ echo "the mutant should still pass GET's exact bytes" >&2; return 1; }
}

# The request and the FIN in one segment: the mutant's one short read holds
# the last bytes and the FIN is never read. (Its 1,000-pipelined-requests
# test is no sure catch: when its last read happens to fill the buffer
# exactly, the next read finds the EOF; a busy machine made it pass once.)
@test "epoll_et without EPOLLRDHUP: fails a request and a half-close in one segment, naming the missed FIN" {
	mutant et_no_rdhup epoll_et 's/EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET/EPOLLIN | EPOLLOUT | EPOLLET/'
	grade_mutant et_no_rdhup epoll_et 'half-close after a full request'
	expect_failed "conformance: half-close after a full request: still answered, then closed" \
		"the peer half-closed and your loop never read to EOF: an edge-triggered loop must read until 0 after EPOLLRDHUP"
	expect_get_passed
}

@test "epoll_lt keeping watched[fd] only on a change: fails a descriptor number reused" {
	mutant lt_fd_state epoll_lt 's/^\twatched\[c->fd\] = want;.*/\tif (op == EPOLL_CTL_MOD) watched[c->fd] = want;/'
	grade_mutant lt_fd_state epoll_lt 'descriptor number reused'
	expect_failed "hostile: a descriptor number reused after close" "must be written afresh for every new connection"
	expect_get_passed
}

@test "epoll_lt never asking for EPOLLOUT: fails a large answer written in parts" {
	mutant lt_no_epollout epoll_lt 's/ev.events = want == CONN_WRITE ? EPOLLOUT : EPOLLIN;/ev.events = EPOLLIN;/'
	grade_mutant lt_no_epollout epoll_lt 'large answer to a slow reader'
	expect_failed "hostile: a large answer to a slow reader is written in parts" "never resumed"
	expect_get_passed
}

@test "epoll_lt closing a connection without freeing it: fails resources per connection, naming the leak" {
	mutant lt_leak epoll_lt 's/^\tconn_close(c);$/\tclose(c->fd);/'
	grade_mutant lt_leak epoll_lt 'resources do not grow'
	expect_failed "hostile: resources do not grow with connections served" "leaked memory at exit (LeakSanitizer)"
	# every connection leaks, so every behaviour fails at exit: GET's too
	expect_failed "conformance: GET: exact response bytes" "usually a struct conn ended without conn_close()"
}

@test "io_uring freeing a connection while the kernel still holds its requests: fails a descriptor number reused" {
	mutant uring_early io_uring 's/if (l->state != L_ENDING || l->in_kernel)/if (l->state != L_ENDING)/'
	grade_mutant uring_early io_uring 'descriptor number reused'
	# which shows first depends on when the freed connection's completion
	# arrives: the old connection's answer on the new one, or the
	# sanitizer catching the server reading the freed memory
	expect_failed "hostile: a descriptor number reused after close" ""
	[[ $output == *"the first connection on this descriptor number"* || $output == *"heap-use-after-free"* ||
		$output == *"runtime error: member access within null pointer"* ]] ||
		{ echo "want the reused descriptor's words, or the sanitizer's report of the freed connection" >&2; return 1; }
	expect_get_passed
}
