#!/usr/bin/env bats
# run: per-model
#
# Real clients against the model named by $MODEL: curl, ab (with and without
# keep-alive), wrk, h2load --h1 (plain and pipelined) and httperf. The
# conformance suite checks bytes with our own client; this one checks that
# the servers also satisfy the tools a student will point at them, each in a
# short bounded run, with zero errors and zero non-2xx answers, and that the
# server's own count of requests agrees with the tool's.
#
# blocking serves one connection at a time, so its runs use one connection:
# with more, every connection but the first waits for the whole run.
# A tool that is not installed makes its test skip, naming the package.

load suite

setup() {
	CONNS=8
	[ "$MODEL" = blocking ] && CONNS=1
	server_up "$MODEL"
	URL=http://127.0.0.1:$SERVER_PORT/
}

teardown() {
	teardown_server
}

# need TOOL PACKAGE: skip the test when the tool is missing.
need() {
	command -v "$1" >/dev/null || skip "$1 not installed (apt-get install $2)"
}

# line_field TEXT REGEX: the first number captured by REGEX in TEXT.
line_field() {
	[[ $1 =~ $2 ]] || { echo "no match for '$2' in the tool's output" >&2; return 1; }
	echo "${BASH_REMATCH[1]}"
}

# expect_requests N: stops the server and checks that it counted N requests.
expect_requests() {
	server_down
	expect_eq "$1" "$(stat_field requests)" "server's requests="
}

@test "curl: GET, HEAD and HTTP/1.0" {
	need curl curl
	run -0 timeout "$(secs 10)" curl -sS --max-time 5 "$URL"
	expect_eq "$HELLO" "$output" "curl body"
	run -0 timeout "$(secs 10)" curl -sS --max-time 5 -o /dev/null -w '%{http_code} %{size_download}' -I "$URL"
	expect_eq "200 0" "$output" "HEAD status and body size"
	run -0 timeout "$(secs 10)" curl -sS --max-time 5 -0 -D - "$URL"
	[[ $output == *$'Connection: close\r\n'* ]] || expect_eq "Connection: close" "$output" "HTTP/1.0 answer"
	expect_requests 3
}

@test "curl: two URLs reuse one connection" {
	need curl curl
	run -0 timeout "$(secs 10)" curl -sS --max-time 5 "$URL" "$URL"
	expect_eq "$HELLO$HELLO" "$output" "two bodies"
	server_down
	expect_eq 1 "$(stat_field accepted)" "accepted="
	expect_eq 2 "$(stat_field requests)" "requests="
}

@test "ab: 2000 requests, a connection each (HTTP/1.0)" {
	need ab apache2-utils
	run -0 timeout "$(secs 30)" ab -q -s 5 -n 2000 -c "$CONNS" "$URL"
	expect_eq 2000 "$(line_field "$output" 'Complete requests: +([0-9]+)')" "complete"
	expect_eq 0 "$(line_field "$output" 'Failed requests: +([0-9]+)')" "failed"
	[[ $output != *"Non-2xx responses"* ]] || expect_eq "no Non-2xx line" "$output" ab
	expect_requests 2000
}

@test "ab -k: 2000 requests over keep-alive connections" {
	need ab apache2-utils
	run -0 timeout "$(secs 30)" ab -q -k -s 5 -n 2000 -c "$CONNS" "$URL"
	expect_eq 2000 "$(line_field "$output" 'Complete requests: +([0-9]+)')" "complete"
	expect_eq 0 "$(line_field "$output" 'Failed requests: +([0-9]+)')" "failed"
	expect_eq 2000 "$(line_field "$output" 'Keep-Alive requests: +([0-9]+)')" "kept alive"
	[[ $output != *"Non-2xx responses"* ]] || expect_eq "no Non-2xx line" "$output" ab
	server_down
	expect_eq 2000 "$(stat_field requests)" "requests="
	(( $(stat_field accepted) <= CONNS )) ||
		expect_eq "at most $CONNS" "$(stat_field accepted)" "accepted="
}

@test "wrk: one second of keep-alive load" {
	need wrk wrk
	local counted served
	run -0 timeout "$(secs 30)" wrk -t 1 -c "$CONNS" -d 1s --timeout 2s "$URL"
	echo "$output"
	counted=$(line_field "$output" '([0-9]+) requests in')
	(( counted > 0 )) || expect_eq "some" "$counted" "wrk requests"
	[[ $output != *"Socket errors"* ]] || expect_eq "no socket errors" "$output" wrk
	[[ $output != *"Non-2xx"* ]] || expect_eq "no non-2xx" "$output" wrk
	server_down
	# wrk stops counting at the deadline: answers still in flight then
	# (at most one per connection) reached wrk but are not in its count
	served=$(stat_field requests)
	(( served >= counted && served <= counted + CONNS )) ||
		expect_eq "$counted .. $((counted + CONNS))" "$served" "server's requests="
}

@test "h2load --h1: 2000 requests" {
	need h2load nghttp2-client
	run -0 timeout "$(secs 30)" h2load --h1 -n 2000 -c "$CONNS" -N 5 "$URL"
	expect_eq 2000 "$(line_field "$output" '([0-9]+) succeeded')" "succeeded"
	expect_eq 2000 "$(line_field "$output" 'status codes: ([0-9]+) 2xx')" "2xx"
	expect_requests 2000
}

@test "h2load --h1 -m 8: 2000 requests, pipelined 8 deep" {
	need h2load nghttp2-client
	run -0 timeout "$(secs 30)" h2load --h1 -n 2000 -c "$CONNS" -m 8 -N 5 "$URL"
	expect_eq 2000 "$(line_field "$output" '([0-9]+) succeeded')" "succeeded"
	expect_eq 2000 "$(line_field "$output" 'status codes: ([0-9]+) 2xx')" "2xx"
	expect_requests 2000
}

@test "httperf: 100 connections, 5 calls each" {
	need httperf httperf
	run -0 timeout "$(secs 30)" httperf --server 127.0.0.1 --port "$SERVER_PORT" \
		--num-conns 100 --num-calls 5 --timeout 5
	echo "$output"
	expect_eq 500 "$(line_field "$output" 'Reply status: 1xx=[0-9]+ 2xx=([0-9]+)')" "2xx replies"
	expect_eq 0 "$(line_field "$output" 'Errors: total ([0-9]+)')" "errors"
	expect_requests 500
}
