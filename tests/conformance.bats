#!/usr/bin/env bats
# run: per-model
#
# The conformance suite: what every server promises (docs/testing.md, and the
# contract in docs/contract.md), checked byte for byte against the model named by
# $MODEL. tests/run runs this file once per model. Every test starts its own
# server on a free port, and teardown stops it: each test also proves that
# the server exits 0 with its stats line on SIGTERM.
#
# Where the models differ on purpose, the test says so: blocking serves one
# client at a time (a stalled client stalls everyone, the lesson of that
# model), and select refuses descriptors past FD_SETSIZE with a 503.

load suite

setup() {
	server_up "$MODEL"
}

teardown() {
	teardown_server
}

# ---- the answer --------------------------------------------------------------

@test "GET: exact response bytes, connection stays open" {
	run_expecting 3 tk -x -n 1 -s "$GET"
	expect_eq "$RESP" "$output" response
}

@test "HEAD: the same headers, no body" {
	run_expecting 3 tk -x -H -n 1 -s "$HEAD"
	expect_eq "$RESP_HEAD" "$output" response
}

@test "POST: answered like GET, its body discarded" {
	run_expecting 0 tk -x -s 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello'
	expect_eq "$RESP_CLOSE" "$output" response
}

# ---- connection management --------------------------------------------------

@test "HTTP/1.1 keep-alive: two requests, one after the other, on one connection" {
	run_expecting 3 tk -x -n 2 -s "$GET" -s "$GET"
	expect_eq "$RESP$RESP" "$output" responses
	server_down
	expect_eq 1 "$(stat_field accepted)" accepted=
	expect_eq 2 "$(stat_field requests)" requests=
}

@test "Connection: close is answered with Connection: close, then closed" {
	run_expecting 0 tk -x -s "$GET_CLOSE"
	expect_eq "$RESP_CLOSE" "$output" response
}

@test "nothing is answered after a Connection: close request" {
	# the GET pipelined behind it must be dropped, not answered
	run tk -x -s "$GET_CLOSE$GET"
	expect_eq "$RESP_CLOSE" "$output" response
	expect_closed
}

@test "HTTP/1.0 closes after the answer" {
	run_expecting 0 tk -x -s 'GET / HTTP/1.0\r\n\r\n'
	expect_eq "$RESP_CLOSE" "$output" response
}

@test "HTTP/1.0 with Connection: keep-alive is answered so and stays open" {
	local req='GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'
	run_expecting 3 tk -x -n 2 -s "$req" -s "$req"
	expect_eq "$RESP_KEEP$RESP_KEEP" "$output" responses
}

@test "100 pipelined requests in one write: 100 answers, in order" {
	# GET and HEAD alternate, so an answer out of order breaks the framing;
	# the last one asks to close, so the answers end exactly there
	local reqs answers
	reqs=$(repeat 49 "$GET$HEAD")$GET$GET_CLOSE
	answers=$(repeat 49 "$RESP$RESP_HEAD")$RESP$RESP_CLOSE
	run_expecting 0 tk -x -t "$(ms 5000)" -s "$reqs"
	expect_eq "$answers" "$output" "100 answers"
	server_down
	expect_eq 100 "$(stat_field requests)" requests=
}

@test "10 pipelined requests arriving in 7-byte pieces: 10 answers" {
	# request boundaries fall inside writes: a parser must keep the rest
	run_expecting 0 tk -x -k 7 -d 1 -s "$(repeat 9 "$GET")$GET_CLOSE"
	expect_eq "$(repeat 9 "$RESP")$RESP_CLOSE" "$output" "10 answers"
}

@test "a request sent one byte per write is answered" {
	run_expecting 3 tk -x -k 1 -d 1 -n 1 -s "$GET"
	expect_eq "$RESP" "$output" response
}

@test "a header block of 8000 bytes is still served" {
	local pad
	pad=$(repeat 7900 x)
	run_expecting 3 tk -x -n 1 -s "GET / HTTP/1.1\\r\\nHost: localhost\\r\\nX-Pad: $pad\\r\\n\\r\\n"
	expect_eq "$RESP" "$output" response
}

@test "half-close after a full request: still answered, then closed" {
	# tcpkit -w sends the request and the FIN in one segment: one report
	# holds both, and a loop that stops at the short read never sees the FIN
	run tk -x -w -s "$GET"
	if ((status != 0)); then
		echo "sent: one GET and the FIN (a half-close) in one segment"
		echo "came back: '$output', then tcpkit exit $status (3: still open, 4: reset)"
		((status == 3)) && echo "the peer half-closed and your loop never read to EOF: an edge-triggered" \
			"loop must read until 0 after EPOLLRDHUP (set c->peer_hup)"
		return 1
	fi
	# the server may or may not have seen the FIN when it wrote the answer
	[[ $output == "$RESP" || $output == "$RESP_CLOSE" ]] ||
		expect_eq "$RESP" "$output" response
}

# ---- bad input: a clear status, then the connection is closed ----------------

@test "malformed request line: 400 and close" {
	run tk -x -s 'HELLO\r\n\r\n'
	expect_error 400
	run tk -x -s 'GET / HTTP/1.1 extra\r\nHost: localhost\r\n\r\n'
	expect_error 400
}

@test "malformed header line: 400 and close" {
	run tk -x -s 'GET / HTTP/1.1\r\nHost localhost\r\n\r\n'
	expect_error 400
}

@test "HTTP/1.1 without Host: 400 and close" {
	run tk -x -s 'GET / HTTP/1.1\r\n\r\n'
	expect_error 400
}

@test "two Host headers: 400 and close (RFC 9112 section 3.2)" {
	run tk -x -s 'GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n'
	expect_error 400
}

@test "a control character in a header value: 400 and close, nothing else answered" {
	# "close" then a NUL: a reader that stops at the NUL sees "close", one that
	# does not sees something else; neither may answer the GET behind it
	run tk -x -s "GET / HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\0x\\r\\n\\r\\n$GET"
	expect_error 400
	[[ $output != *'200 OK'* ]] || { echo "answered a request after the bad one: $output" >&2; false; }
	run tk -x -s 'GET / HTTP/1.1\r\nHost: localhost\r\nX-Bell: ring\x07\r\n\r\n'
	expect_error 400
	run tk -x -s 'GET / HTTP/1.1\r\nHost: localhost\r\nX-Cr: a\rb\r\n\r\n'
	expect_error 400
}

@test "a horizontal tab and obs-text in a header value are allowed" {
	run_expecting 3 tk -x -n 1 -s 'GET / HTTP/1.1\r\nHost: localhost\r\nX-Tab: a\tb\xe9\r\n\r\n'
	expect_eq "$RESP" "$output" response
}

@test "header block over 8 KiB: 431 and close" {
	local pad
	pad=$(repeat 9000 x)
	run tk -x -s "GET / HTTP/1.1\\r\\nHost: localhost\\r\\nX-Pad: $pad\\r\\n\\r\\n"
	expect_error 431
}

@test "header block over 8 KiB that never ends: 431 and close" {
	# no blank line at all: the server must not wait for one forever
	local pad
	pad=$(repeat 9000 x)
	run tk -x -s "GET / HTTP/1.1\\r\\nHost: localhost\\r\\nX-Pad: $pad"
	expect_error 431
}

@test "PUT, DELETE, PATCH, OPTIONS, TRACE, CONNECT: 405 with Allow, and close" {
	local method
	for method in PUT DELETE PATCH OPTIONS TRACE CONNECT; do
		run tk -x -s "$method / HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Length: 0\\r\\n\\r\\n"
		expect_error 405
		[[ $output == *'\r\nAllow: GET, HEAD, POST\r\n'* ]] ||
			expect_eq "an Allow header" "$output" "$method answer"
	done
}

@test "header names and the close token are case-insensitive" {
	run_expecting 0 tk -x -s 'GET / HTTP/1.1\r\nhost: localhost\r\nconnection: Close\r\n\r\n'
	expect_eq "$RESP_CLOSE" "$output" response
}

@test "a Content-Length that is not a number: 400 and close" {
	run tk -x -s 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n'
	expect_error 400
	run tk -x -s 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: -5\r\n\r\n'
	expect_error 400
}

@test "unknown method token: 501 and close" {
	run tk -x -s 'BREW / HTTP/1.1\r\nHost: localhost\r\n\r\n'
	expect_error 501
}

@test "Transfer-Encoding (chunked body): 501 and close" {
	run tk -x -s 'POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'
	expect_error 501
}

@test "errors are counted in errors=, not in requests=" {
	run tk -x -s 'HELLO\r\n\r\n'
	expect_error 400
	run_expecting 3 tk -x -n 1 -s "$GET"
	server_down
	expect_eq 1 "$(stat_field requests)" requests=
	expect_eq 1 "$(stat_field errors)" errors=
}

# ---- bodies are framed by Content-Length and discarded ---------------------

# A POST whose body is itself a request (the body counted after decoding the
# escapes, as tcpkit sends it).
post_with_body() {
	local body='GET /body HTTP/1.1\r\nHost: x\r\n\r\n' len
	len=$(printf '%b' "$body" | wc -c)
	printf '%s' "POST / HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Length: $len\\r\\n\\r\\n$body"
}

@test "POST with a body, then a pipelined GET: two 200s" {
	# the body looks like a request: a server that does not skip it answers 3
	run_expecting 0 tk -x -s "$(post_with_body)$GET_CLOSE"
	expect_eq "$RESP$RESP_CLOSE" "$output" responses
	server_down
	expect_eq 2 "$(stat_field requests)" requests=
}

@test "a POST body arriving in pieces, then a pipelined GET: two 200s" {
	run_expecting 0 tk -x -k 7 -d 2 -s "$(post_with_body)$GET_CLOSE"
	expect_eq "$RESP$RESP_CLOSE" "$output" responses
}

# ---- misbehaving clients -------------------------------------------------------

@test "resets mid-request do not hurt the server or leak a descriptor" {
	local before
	before=$(proc_fds "$SERVER_PID")
	run_expecting 0 tk -r 0 -s "$GET"                 # connect, reset
	run_expecting 0 tk -r 10 -s "$GET"                # half a request line, reset
	run_expecting 0 tk -r 1000 -s "$GET"              # a whole request, reset unread
	run_expecting 3 tk -x -n 1 -s "$GET"
	expect_eq "$RESP" "$output" "answer after the resets"
	run wait_fd_count "$SERVER_PID" "$before"
	expect_eq "$before" "$output" "server descriptors"
}

@test "a stalled half-request: others still served (blocking: they wait)" {
	tk_bg -t "$(ms 4000)" -s 'GET / HTTP/1.1\r\nHo'
	sleep 0.3
	run tk -x -n 1 -g 0 -t "$(ms 1000)" -s "$GET"
	if [ "$MODEL" = blocking ]; then
		# the lesson: one client at a time, so the second waits its turn
		expect_eq "" "$output" "second client's answer while the first stalls"
		stop_background
		run_expecting 3 tk -x -n 1 -t "$(ms 2000)" -s "$GET"
	fi
	expect_eq "$RESP" "$output" "second client's answer"
}

# ---- scale -----------------------------------------------------------------------

@test "1,000 concurrent connections are all answered (select: 503 past FD_SETSIZE)" {
	local n=1000 req=$GET counts answered peak
	case $MODEL in
	select)   n=1100 ;;             # some past FD_SETSIZE (1024)
	blocking) req=$GET_CLOSE ;;     # served one after another
	esac
	run tk -C "$n" -t "$(ms 20000)" -s "$req"
	counts=$output
	echo "$counts"
	answered=$(field 200 "$counts")
	expect_eq 0 "$(field none "$counts")" "connections without an answer"
	expect_eq 0 "$(field other "$counts")" "answers neither 200 nor 503"
	if [ "$MODEL" = select ]; then
		(( answered >= 1000 )) ||
			expect_eq "at least 1000" "$answered" "200 answers"
		(( $(field 503 "$counts") > 0 )) ||
			expect_eq "some" "$(field 503 "$counts")" "503 refusals"
	else
		expect_eq "$n" "$answered" "200 answers"
	fi
	run_expecting 3 tk -x -n 1 -s "$GET"
	expect_eq "$RESP" "$output" "answer afterwards"
	# peak= is the most connections open at once: every one answered, as
	# tcpkit holds them all open until the last answer (blocking: just one)
	peak=$answered
	[ "$MODEL" = blocking ] && peak=1
	server_down
	expect_eq "$peak" "$(stat_field peak)" peak=
}

@test "no descriptor leak after ~500 connections opened and closed" {
	local before round req=$GET
	[ "$MODEL" = blocking ] && req=$GET_CLOSE   # keep-alive would hold it
	before=$(proc_fds "$SERVER_PID")
	for round in 1 2 3 4; do
		run_expecting 0 tk -I 40 -S 0                  # connect, close at once
		run_expecting 0 tk -C 40 -s "$GET_CLOSE"       # the server closes
		run_expecting 0 tk -C 40 -s "$req"             # the client closes
		run_expecting 0 tk -r 5 -s "$GET"              # a reset
	done
	run wait_fd_count "$SERVER_PID" "$before"
	expect_eq "$before" "$output" "server descriptors"
	run_expecting 3 tk -x -n 1 -s "$GET"
	expect_eq "$RESP" "$output" "answer afterwards"
}

@test "idle connections cost no CPU: one answered and kept alive, one mid-request" {
	# A loop that asks for what it does not want (POLLOUT or EPOLLOUT on a
	# socket that is almost always writable, level-triggered) is woken at once,
	# again and again: 100% of a CPU for a connection that does nothing.
	plain_build_only "it measures CPU time over 1.5 s of nothing"
	local base conns=2 t0 t1
	base=$(proc_fds "$SERVER_PID")
	tk_bg -n 1 -g "$(ms 4000)" -t "$(ms 5000)" -x -s "$GET"
	if [ "$MODEL" = blocking ]; then
		conns=1                      # it holds one connection at a time
	else
		tk_bg -t "$(ms 5000)" -s 'GET / HTTP/1.1\r\nHo'
	fi
	run_expecting 0 wait_fd_count "$SERVER_PID" $(( base + conns ))
	proc_tree_cpu "$SERVER_PID"; t0=$PROC_CPU_NS
	sleep 1                              # the window in which CPU is measured
	proc_tree_cpu "$SERVER_PID"; t1=$PROC_CPU_NS
	echo "server CPU over 1 s with its connections idle: $(( (t1 - t0) / 1000000 )) ms"
	(( t1 - t0 < 200000000 )) || expect_eq "under 200 ms" "$(( (t1 - t0) / 1000000 )) ms" "CPU while idle"
}

@test "--max-conns 3: of 5 connections at once, 3 served, 2 refused with 503" {
	server_down
	server_up "$MODEL" --max-conns 3
	if [ "$MODEL" = blocking ]; then
		# one connection open at a time: the limit is never reached
		run_expecting 0 tk -C 5 -t "$(ms 5000)" -s "$GET_CLOSE"
		expect_eq "conns=5 200=5 503=0 other=0 none=0" "$output" counts
		return
	fi
	# keep-alive: the first three stay open while the last two arrive
	run tk -C 5 -t "$(ms 5000)" -s "$GET"
	expect_eq "conns=5 200=3 503=2 other=0 none=0" "$output" counts
	server_down
	expect_eq 2 "$(stat_field refused)" refused=
	expect_eq 3 "$(stat_field peak)" peak=
}

@test "--idle-timeout 1: idle connections are closed and counted" {
	server_down
	server_up "$MODEL" --idle-timeout 1
	# blocking reaches the second one only after the first timed out
	run_expecting 0 tk -I 2 -S "$(secs 5)"
	expect_eq "conns=2 established=2 closed_by_server=2" "${lines[1]}" counts
	run_expecting 3 tk -x -n 1 -s "$GET"
	expect_eq "$RESP" "$output" "answer afterwards"
	server_down
	expect_eq 2 "$(stat_field timeouts)" timeouts=
}

# ---- counters and command line ---------------------------------------------------

@test "stats: accepted= and requests= count what was sent" {
	run_expecting 3 tk -x -n 3 -s "$GET" -s "$GET" -s "$GET"
	run_expecting 0 tk -x -s "$(repeat 4 "$GET")$GET_CLOSE"
	run_expecting 0 tk -x -s 'GET / HTTP/1.0\r\n\r\n'
	server_down
	expect_model_name "$SERVER_STATS"
	expect_eq 3 "$(stat_field accepted)" accepted=
	expect_eq 9 "$(stat_field requests)" requests=
	expect_eq 0 "$(stat_field errors)" errors=
}

@test "SIGUSR1: the stats line now, and the server goes on serving" {
	run_expecting 3 tk -x -n 3 -s "$GET" -s "$GET" -s "$GET"
	expect_eq "$RESP$RESP$RESP" "$output" responses
	server_snapshot
	expect_model_name "$SERVER_SNAPSHOT"
	# every answer was counted before it was written, so before tk saw it
	expect_eq 1 "$(field accepted "$SERVER_SNAPSHOT")" "accepted= at SIGUSR1"
	expect_eq 3 "$(field requests "$SERVER_SNAPSHOT")" "requests= at SIGUSR1"
	expect_eq 0 "$(field errors "$SERVER_SNAPSHOT")" "errors= at SIGUSR1"
	run_expecting 0 tk -x -s "$GET_CLOSE"
	expect_eq "$RESP_CLOSE" "$output" "answer after SIGUSR1"
	server_down
	expect_eq 2 "$(stat_field accepted)" accepted=
	expect_eq 4 "$(stat_field requests)" requests=
	# counters only grow: the snapshot is an earlier state of the same ones
	(( $(field wakeups "$SERVER_SNAPSHOT") <= $(stat_field wakeups) )) ||
		expect_eq "at most $(stat_field wakeups)" "$(field wakeups "$SERVER_SNAPSHOT")" "wakeups= at SIGUSR1"
}

@test "SIGUSR1 again and again while a request trickles in: it is still answered" {
	# blocking and threads sleep in read() between the pieces: the signal
	# must not break that read (it returns EINTR and is retried) or the request
	local snapshots=0 client
	tk_bg -x -k 6 -d 100 -t "$(ms 5000)" -s "$GET_CLOSE"   # 9 pieces, 0.8 s
	client=${BG_PIDS##* }
	# (a client that has exited but not been waited for is a zombie: Z)
	while kill -0 "$client" 2>/dev/null && [ "$(proc_state "$client")" != Z ]; do
		server_snapshot
		snapshots=$(( snapshots + 1 ))
		sleep 0.05
	done
	(( snapshots >= 2 )) || expect_eq "at least 2" "$snapshots" "snapshots while the request trickled in"
	expect_eq "$RESP_CLOSE" "$(cat "$BG_OUT")" "answer to the trickled request"
	server_down
	expect_eq 1 "$(stat_field requests)" requests=
}

@test "SIGINT stops the server like SIGTERM" {
	local pid=$SERVER_PID rc
	SERVER_PID=
	kill -INT "$pid"
	wait_exit "$pid" && rc=0 || rc=$?
	expect_eq 0 "$rc" "exit status after SIGINT"
	expect_model_name "$(grep -m 1 '^stats model=' "$SERVER_ERR")"
}

# pinned_threads ARGS...: restarts the server on CPU 0 alone with ARGS, has
# one request answered, and sets THREADS to its thread count (from
# /proc/PID/status, a moment later, so every worker has started).
pinned_threads() {
	server_down
	SERVER_WRAP="taskset -c 0" server_up "$MODEL" "$@"
	run_expecting 0 tk -x -s "$GET_CLOSE"
	expect_eq "$RESP_CLOSE" "$output" response
	sleep 0.2
	THREADS=$(awk '/^Threads:/ { print $2 }' "/proc/$SERVER_PID/status")
}

@test "-t: epoll_oneshot and reuseport run one thread per CPU they may run on, or -t N" {
	case $MODEL in
	epoll_oneshot|reuseport) ;;
	*) skip "$MODEL has no worker threads (-t is ignored)" ;;
	esac
	command -v taskset >/dev/null || skip "no taskset (util-linux)"
	local default one
	pinned_threads; default=$THREADS
	pinned_threads -t 1; one=$THREADS
	expect_eq "$one" "$default" "threads under taskset -c 0, default -t vs -t 1"
	pinned_threads -t 3
	expect_eq $(( one + 2 )) "$THREADS" "threads with -t 3"
}

@test "-h prints usage on stdout and exits 0" {
	run_stderr_apart timeout 5 "$BIN/$MODEL" -h
	expect_eq 0 "$status" "exit status"
	[[ $output == *[Uu]sage* ]] || expect_eq "a usage text" "$output" stdout
	expect_eq "" "$stderr" stderr
}

@test "a bad option exits 2 with usage on stderr" {
	run_stderr_apart timeout 5 "$BIN/$MODEL" --no-such-option
	expect_eq 2 "$status" "exit status"
	[[ $stderr == *[Uu]sage* ]] || expect_eq "a usage text" "$stderr" stderr
	expect_eq "" "$output" stdout
}
