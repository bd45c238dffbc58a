#!/usr/bin/env bats
# run: per-model
#
# A short client session against the model under valgrind's memcheck: every
# kind of request, error, reset and half-close the servers see, then SIGTERM.
# memcheck reports invalid reads and writes, uses of uninitialised memory and,
# at exit, every block no pointer leads to any more; --error-exitcode turns
# any of that into exit status 99, which server_down fails on, showing the
# report. `make valgrind` runs only this suite.
#
# Leaks counted: "definitely" and "indirectly lost". Not "possibly lost": a
# thread still running at exit (epoll_oneshot's workers, the thread of a
# connection open at SIGTERM) holds its TLS block (glibc's dtv) by a pointer
# into its middle, which memcheck can only call possible.
#
# Skipped on sanitizer builds (valgrind cannot run ASan or TSan binaries) and
# where valgrind is not installed.

load suite

setup() {
	if [[ $BIN == */asan/* || $BIN == */tsan/* || ${TSAN:-} == 1 ]]; then
		skip "valgrind cannot run a sanitizer build"
	fi
	command -v valgrind >/dev/null || skip "valgrind is not installed (apt-get install valgrind)"
	# Seen with valgrind 3.19: it hands a signal to the program only inside a
	# syscall it knows may block, and io_uring_enter is not one; a server that
	# makes no other syscall never gets SIGTERM (nor SIGUSR1) and cannot stop.
	[ "$MODEL" = io_uring ] &&
		skip "valgrind never delivers a signal to a loop that only calls io_uring_enter"
	# valgrind runs the server some 20-50 times slower: give start and stop room
	TIME_SCALE=$(( TIME_SCALE * 6 ))
}

teardown() {
	teardown_server
}

# start_under_valgrind ARGS: server_up, with the server wrapped in memcheck.
start_under_valgrind() {
	local wrap=$BATS_TEST_TMPDIR/vg
	mkdir -p "$wrap"
	cat >"$wrap/$MODEL" <<-WRAP
	#!/bin/sh
	exec valgrind --quiet --error-exitcode=99 --leak-check=full \\
		--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \\
		"$BIN/$MODEL" "\$@"
	WRAP
	chmod +x "$wrap/$MODEL"
	BIN=$wrap server_up "$MODEL" "$@"
}

@test "memcheck: a short session, no invalid access, no leak" {
	start_under_valgrind
	run_expecting 3 tk -x -n 2 -s "$GET" -s "$HEAD"
	[[ $output == "$RESP$RESP_HEAD" ]] || expect_eq "$RESP$RESP_HEAD" "$output" "GET, HEAD"
	run_expecting 0 tk -c -s "$(repeat 20 "$GET")$GET_CLOSE"
	expect_eq "responses=21 closed=yes status=$(repeat 20 200,)200" "$output" "pipelined"
	run_expecting 0 tk -x -s 'POST / HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello'
	run_expecting 0 tk -x -k 3 -s 'GET / HTTP/1.0\r\n\r\n'             # in pieces
	run tk -x -s 'GET /\r\n\r\n';                   expect_error 400
	run tk -x -s 'DELETE / HTTP/1.1\r\nHost: x\r\n\r\n'; expect_error 405
	run tk -x -s "GET / HTTP/1.1\\r\\nX: $(head -c 9000 /dev/zero | tr '\0' a)\\r\\n\\r\\n"
	expect_error 431
	run_expecting 0 tk -r 10 -s "$GET"                                 # reset mid-request
	run_expecting 0 tk -w -s 'GET / HTTP/1.1\r\nHo'                     # half-close mid-request
	run_expecting 0 "$BIN/flood" -c 1 -n 500 -b 100 -m 100 "$SERVER_PORT"     # reset mid-response
	# A connection open at SIGTERM, kept alive. It also bounds a race every
	# model has: a SIGTERM that lands after the loop checked server_stopping
	# and before its next call (accept, read, epoll_wait) goes to sleep is
	# handled, but the call sleeps on until the next event. valgrind, which
	# hands a signal over only inside a call that may block, widens that
	# window from nanoseconds to the time between two calls; here the event
	# comes at the latest when this client gives up, well inside server_down's
	# bound. (Without it, blocking, back in accept after the flood, once
	# slept on through the whole bound on a busy machine.)
	local base tries=$(( $(secs 5) * 50 ))
	base=$(proc_fds "$SERVER_PID")
	tk_bg -t "$(ms 2000)" -s "$GET"
	# until the server holds it (one descriptor more), not for a time
	while (( $(proc_fds "$SERVER_PID") <= base && tries-- > 0 )); do sleep 0.02; done
	server_down
	expect_eq 3 "$(stat_field errors)" "errors= (400, 405, 431)"
	# bin/fork's children run under memcheck too, and their reports (--quiet:
	# nothing else) reach the same stderr without changing the parent's status
	expect_eq "" "$(grep -E '^==[0-9]+==' "$SERVER_ERR")" "memcheck reports on stderr"
}
