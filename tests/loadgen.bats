#!/usr/bin/env bats
# The load generator's own suite: loadgen is a measuring instrument, so each
# test checks it against something it cannot fake: the server's stats line,
# the server's descriptor table in /proc, the clock, or a server that
# misbehaves on purpose (tests/tools/badserver.c).
#
#   bats tests/loadgen.bats            (or through tests/run, which sets BIN)
#
# Tests that need a real server use bin/epoll_et and are skipped, saying so,
# only when it is not built. JSON is read with jq, or python3 without it.
#
# The suite runs once per engine of loadgen: tests/loadgen-io_uring.bats is a
# link to this file, and the name it runs under picks --engine. Every run of
# loadgen below goes through $LG ... --engine "$ENGINE".

load suite

case ${BATS_TEST_FILENAME##*/} in
loadgen-io_uring.bats) ENGINE=io_uring ;;
*) ENGINE=epoll ;;
esac

setup() {
	check_leaks # loadgen is the program under test here
	LG="$BIN/loadgen"
	[ -x "$LG" ] || { echo "$LG is not built (make)" >&2; return 1; }
	if [ "$ENGINE" = io_uring ] && [ "${TSAN:-}" = 1 ]; then
		# the data threads share (the counters, the report) is the same code
		# for both engines, and each thread's ring is its own
		skip "under TSan the epoll engine's run checks what the threads share"
	fi
	if [ "$ENGINE" = io_uring ]; then
		# a kernel (or a build) without it: loadgen says so and exits 2
		local why rc=0
		why=$("$LG" --engine io_uring -c 1 -n 1 --timeout 100 http://127.0.0.1:1/ 2>&1 >/dev/null) ||
			rc=$?
		(( rc != 2 )) || skip "$why"
	fi
}

teardown() {
	teardown_server
}

need_epoll_et() {
	[ -x "$BIN/epoll_et" ] || skip "bin/epoll_et is not built yet"
	server_up epoll_et
	URL=http://127.0.0.1:$SERVER_PORT/
}

# lg ARGS: loadgen under a timeout, so a hung run fails instead of hanging.
lg() {
	timeout "$(secs 30)" "$LG" --engine "$ENGINE" "$@"
}

# jget JSON EXPR: one value from a JSON object (EXPR in jq's dotted syntax).
jget() {
	if command -v jq >/dev/null; then
		jq -er "$2" <<<"$1"
	else
		python3 -c 'import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2].lstrip(".").split("."):
    v = v[k]
print(v)' "$1" "$2"
	fi
}

CSV_COLUMNS="url,threads,conns_asked,conns_established,conns_peak,idle_asked,idle_held,idle_closed,mode,pipeline,rate,seconds,requests,non2xx,bytes,req_per_s,err_refused,err_connect_timeout,err_addr_unavailable,err_emfile,err_reset,err_eof,err_timeout,err_status,err_parse,lat_p50_us,lat_p90_us,lat_p99_us,lat_p999_us,lat_max_us,lat_mean_us,connect_p50_us,connect_p99_us,connect_max_us,cpu_user_s,cpu_sys_s,err_other,conn_req_min,conn_req_median,conn_req_max,conns_starved,fairness,connects_over_1s,engine,think_ms,think_dist,think_waited_ms,little_req_per_s,sources"

ERRORS="refused connect_timeout addr_unavailable emfile reset eof timeout status parse other"

# expect_only_error JSON CAUSE N: N errors of CAUSE, none of any other cause,
# no successes.
expect_only_error() {
	local json=$1 cause=$2 want=$3 e
	for e in $ERRORS; do
		if [ "$e" = "$cause" ]; then
			expect_eq "$want" "$(jget "$json" ".errors.$e")" "err_$e"
		else
			expect_eq 0 "$(jget "$json" ".errors.$e")" "err_$e"
		fi
	done
	expect_eq 0 "$(jget "$json" .requests)" "requests counted as successes"
}

# ---- the command line --------------------------------------------------------

@test "-h explains every option with an example; usage errors exit 2" {
	run "$LG" -h
	(( status == 0 ))
	for opt in -c -t -d -n --idle --close --pipeline --rate --think --sources --timeout \
		   --warmup --format --header --tolerate --engine; do
		[[ $output == *" $opt "* ]] || { echo "-h does not explain $opt" >&2; return 1; }
	done
	[[ $output == *"loadgen -c "*"http://127.0.0.1"* ]]
	[[ $output == *"; 3 "*"starved"* ]] || { echo "-h does not explain exit status 3" >&2; return 1; }
	run "$LG" --bogus http://127.0.0.1:1/
	expect_eq 2 "$status" "exit status for an unknown option"
	run "$LG" -d 1 -n 5 http://127.0.0.1:1/
	expect_eq 2 "$status" "exit status for -d with -n"
	run "$LG" -c 10 ftp://127.0.0.1/
	expect_eq 2 "$status" "exit status for a non-http URL"
	run "$LG" --engine kqueue http://127.0.0.1:1/
	expect_eq 2 "$status" "exit status for an unknown engine"
}

# ---- counts agree with the server ---------------------------------------------

@test "-n stops at exactly N, and the server's stats agree" {
	need_epoll_et
	run lg -c 7 -t 2 -n 5000 --format json "$URL"
	(( status == 0 )) || { echo "$output" >&2; return 1; }
	expect_eq 5000 "$(jget "$output" .requests)" "loadgen requests"
	expect_eq 7 "$(jget "$output" .conns.established)" "established"
	server_down
	expect_eq 5000 "$(stat_field requests)" "server requests"
	expect_eq 7 "$(stat_field accepted)" "server accepted"
}

@test "-n is exact with --pipeline and with --close too" {
	need_epoll_et
	run lg -c 3 -n 1001 --pipeline 8 --format json "$URL"
	(( status == 0 )) || { echo "$output" >&2; return 1; }
	expect_eq 1001 "$(jget "$output" .requests)" "pipelined requests"
	run lg -c 3 -n 300 --close --format json "$URL"
	(( status == 0 )) || { echo "$output" >&2; return 1; }
	expect_eq 300 "$(jget "$output" .requests)" "--close requests"
	expect_eq 300 "$(jget "$output" .connect_us.count)" "--close connects"
	server_down
	expect_eq 1301 "$(stat_field requests)" "server requests"
	expect_eq 303 "$(stat_field accepted)" "server accepted: 3 + one per --close request"
}

@test "a timed run: the server answered what loadgen counted, plus at most one in flight per connection" {
	need_epoll_et
	run lg -c 10 -d 1 --format json "$URL"
	(( status == 0 )) || { echo "$output" >&2; return 1; }
	local got; got=$(jget "$output" .requests)
	(( got > 100 )) || { echo "only $got requests in 1 s" >&2; return 1; }
	server_down
	local served; served=$(stat_field requests)
	(( served >= got && served <= got + 10 )) ||
		{ echo "server answered $served, loadgen counted $got" >&2; return 1; }
	expect_eq 10 "$(stat_field accepted)" "server accepted"
}

# ---- idle connections ---------------------------------------------------------

@test "--idle holds exactly N descriptors in the server, then lets them go" {
	need_epoll_et
	local base; base=$(proc_fds "$SERVER_PID")
	"$LG" --engine "$ENGINE" -c 2 --idle 300 -d "$(secs 3)" --format json "$URL" >"$BATS_TEST_TMPDIR/lg.json" &
	local lg_pid=$!
	wait_fd_count "$SERVER_PID" $(( base + 302 )) 3 >/dev/null ||
		{ kill "$lg_pid"; echo "server never held $base + 302 descriptors" >&2; return 1; }
	sleep 0.5
	expect_eq $(( base + 302 )) "$(proc_fds "$SERVER_PID")" "server descriptors mid-run"
	wait "$lg_pid"
	local json; json=$(cat "$BATS_TEST_TMPDIR/lg.json")
	expect_eq 300 "$(jget "$json" .idle.held)" "idle held"
	expect_eq 0 "$(jget "$json" .idle.closed)" "idle closed"
	wait_fd_count "$SERVER_PID" "$base" >/dev/null
	expect_eq "$base" "$(proc_fds "$SERVER_PID")" "server descriptors after the run"
}

@test "--idle: connections the server closes are counted as closed, and the run fails" {
	[ -x "$BIN/epoll_et" ] || skip "bin/epoll_et is not built yet"
	server_up epoll_et --idle-timeout 1
	run lg -c 1 --idle 20 -d "$(secs 2)" --format json "http://127.0.0.1:$SERVER_PORT/"
	expect_eq 1 "$status" "exit status"
	expect_eq 20 "$(jget "$output" .idle.closed)" "idle closed by the server"
	expect_eq 0 "$(jget "$output" .idle.held)" "idle held"
}

# ---- errors are classified, never counted as successes --------------------------

@test "nothing listening: err_refused, exit 1; --tolerate: exit 0" {
	local port; port=$(free_port)
	# with -n a slot whose connect fails is retired: one attempt per slot
	run lg -c 2 -n 10 --format json "http://127.0.0.1:$port/"
	expect_eq 1 "$status" "exit status"
	expect_only_error "$output" refused 2
	expect_eq 0 "$(jget "$output" .conns.established)" "established"
	run lg -c 2 -d 0.3 --tolerate --format json "http://127.0.0.1:$port/"
	expect_eq 0 "$status" "exit status with --tolerate"
	(( $(jget "$output" .errors.refused) > 0 ))
}

# bad_server MODE CAUSE [LOADGEN ARGS]: 5 requests to a server misbehaving in
# MODE make exactly 5 errors of CAUSE (each failed request uses up its ticket).
bad_server() {
	local mode=$1 cause=$2
	shift 2
	server_up badserver "$mode"
	run lg -c 1 -n 5 "$@" --format json "http://127.0.0.1:$SERVER_PORT/"
	expect_eq 1 "$status" "exit status"
	expect_only_error "$output" "$cause" 5
}

@test "a server that closes without answering: err_eof" {
	bad_server close eof
}

@test "a body shorter than its Content-Length: err_eof" {
	bad_server short eof
}

@test "a reset connection: err_reset" {
	bad_server reset reset
}

@test "a bad status line: err_status" {
	bad_server garbage status
}

@test "no Content-Length: err_parse" {
	bad_server nolength parse
}

@test "a server that never answers: err_timeout" {
	bad_server silent timeout --timeout 200
}

@test "404 answers are valid but counted apart as non2xx, and fail the run" {
	server_up badserver 404
	run lg -c 2 -n 100 --format json "http://127.0.0.1:$SERVER_PORT/"
	expect_eq 1 "$status" "exit status"
	expect_eq 0 "$(jget "$output" .requests)" "2xx requests"
	expect_eq 100 "$(jget "$output" .non2xx)" "non2xx"
	expect_eq 0 "$(jget "$output" .errors.total)" "errors"
}

@test "an answer written one byte at a time is reassembled and counted" {
	server_up badserver split
	run lg -c 2 -n 6 --format json "http://127.0.0.1:$SERVER_PORT/"
	(( status == 0 )) || { echo "$output" >&2; return 1; }
	expect_eq 6 "$(jget "$output" .requests)" "requests"
	expect_eq 0 "$(jget "$output" .errors.total)" "errors"
}

# ---- open loop ------------------------------------------------------------------

@test "--rate achieves the asked rate within 5%" {
	need_epoll_et
	# Each connection has one request in flight, so -c N caps the rate at
	# N / latency: with 8, a busy machine's 4 ms answers would cap it at
	# 2,000/s and the test would judge the machine, not the pacing. 64
	# connections leave room up to 32 ms.
	run lg -c 64 -t 2 --rate 2000 -d 2 --format json "$URL"
	(( status == 0 )) || { echo "$output" >&2; return 1; }
	local rps; rps=$(jget "$output" .req_per_s)
	rps=${rps%.*}
	(( rps >= 1900 && rps <= 2100 )) || { echo "asked 2000/s, got $rps/s: $output" >&2; return 1; }
	expect_eq open "$(jget "$output" .config.mode)" mode
}

# ---- think time -------------------------------------------------------------------

@test "--think takes MS or exp:MS; a bad value, or with --rate or --close, exits 2 naming it" {
	local bad
	for bad in abc -5 exp:0 exp: exp:-1 10ms nan 1e9; do
		run_stderr_apart "$LG" --think "$bad" http://127.0.0.1:1/
		expect_eq 2 "$status" "exit status for --think '$bad'"
		[[ ${stderr_lines[0]} == *"--think"*"'$bad'"* ]] ||
			{ echo "--think '$bad': the first line does not name it: $stderr" >&2; return 1; }
	done
	run_stderr_apart "$LG" --think 10 --rate 100 http://127.0.0.1:1/
	expect_eq 2 "$status" "exit status for --think with --rate"
	[[ $stderr == *"--think"*"--rate"* ]] || { echo "$stderr" >&2; return 1; }
	run_stderr_apart "$LG" --think exp:10 --close http://127.0.0.1:1/
	expect_eq 2 "$status" "exit status for --think with --close"
	[[ $stderr == *"--think"*"--close"* ]] || { echo "$stderr" >&2; return 1; }
}

@test "--think 200, -c 4 -d 1: each connection asks at most 1/0.2 + 1 times, and waited 200 ms" {
	need_epoll_et
	# a count, not a timing: a connection that thinks 200 ms after each
	# answer cannot send more than 1 + 1 s / 200 ms requests in a second,
	# however fast the server; a slow machine only makes it fewer
	run lg -c 4 --think 200 -d 1 --format json "$URL"
	(( status == 0 )) || { echo "$output" >&2; return 1; }
	local got max waited
	got=$(jget "$output" .requests)
	max=$(jget "$output" .conn_req_max)
	waited=$(jget "$output" .think_waited_ms)
	(( got >= 4 && got <= 4 * 6 )) || expect_eq "4 to 24" "$got" requests
	(( max <= 6 )) || expect_eq "at most 6" "$max" conn_req_max
	# a wait ends early by at most its slack (think.c: a 200th of it)
	awk -v w="$waited" 'BEGIN { exit !(w >= 199) }' || expect_eq ">= 199" "$waited" think_waited_ms
	expect_eq fixed "$(jget "$output" .config.think_dist)" think_dist
	server_down
	local served; served=$(stat_field requests)
	(( served >= got && served <= got + 4 )) ||
		{ echo "server answered $served, loadgen counted $got" >&2; return 1; }
}

# little_ok CSV: little_req_per_s is conns_established * pipeline / (think +
# mean latency), to the rounding of the printed fields (0.5%).
little_ok() {
	local csv=$1 c
	declare -A v
	for c in conns_established pipeline think_ms lat_mean_us little_req_per_s; do
		v[$c]=$(csv_field "$c" "$csv")
	done
	awk -v n="${v[conns_established]}" -v d="${v[pipeline]}" -v z="${v[think_ms]}" \
		-v r="${v[lat_mean_us]}" -v got="${v[little_req_per_s]}" 'BEGIN {
		want = n * d / (z / 1e3 + r / 1e6)
		exit !(got > 0 && got >= want * 0.995 && got <= want * 1.005) }' ||
		{ echo "little_req_per_s ${v[little_req_per_s]} is not ${v[conns_established]} x" \
			"${v[pipeline]} / (${v[think_ms]} ms + ${v[lat_mean_us]} us)" >&2; return 1; }
}

@test "--think exp:20 in every format: the think time, the rate, and Little's law's rate from them" {
	need_epoll_et
	run lg -c 4 --pipeline 2 --think exp:20 -n 80 --format csv --header "$URL"
	(( status == 0 )) || { echo "$output" >&2; return 1; }
	expect_eq 20 "$(csv_field think_ms "$output")" think_ms
	expect_eq exp "$(csv_field think_dist "$output")" think_dist
	little_ok "$output"
	run lg -c 4 --think exp:20 -n 40 --format json "$URL"
	(( status == 0 )) || { echo "$output" >&2; return 1; }
	expect_eq 20 "$(jget "$output" .config.think_ms)" "config.think_ms"
	expect_eq exp "$(jget "$output" .config.think_dist)" "config.think_dist"
	jget "$output" .think_waited_ms >/dev/null
	jget "$output" .little_req_per_s >/dev/null
	run lg -c 4 --think 20 -n 40 "$URL"
	(( status == 0 )) || { echo "$output" >&2; return 1; }
	[[ $output == *"think:       fixed, 20 ms; waited "*" ms on average"* ]] ||
		{ echo "text: no think line: $output" >&2; return 1; }
	[[ $output == *"Little's law: 4 connections x 1 / (20 ms think + "*" req/s predicted; achieved "*"%"* ]] ||
		{ echo "text: no Little's law line: $output" >&2; return 1; }
	# without think time: 0 ms, "none", and still the closed loop's prediction
	run lg -c 2 -n 100 --format csv --header "$URL"
	expect_eq 0 "$(csv_field think_ms "$output")" "think_ms without --think"
	expect_eq none "$(csv_field think_dist "$output")" "think_dist without --think"
	little_ok "$output"
}

# ---- source addresses ----------------------------------------------------------------

@test "--sources 2: the connections come from 127.0.0.1 and 127.0.0.2" {
	need_epoll_et
	local base; base=$(proc_fds "$SERVER_PID")
	"$LG" --engine "$ENGINE" -c 2 --idle 4 --sources 2 -d "$(secs 3)" --format json "$URL" \
		>"$BATS_TEST_TMPDIR/lg.json" &
	local lg_pid=$!
	wait_fd_count "$SERVER_PID" $(( base + 6 )) 3 >/dev/null ||
		{ kill "$lg_pid"; echo "server never held $base + 6 descriptors" >&2; return 1; }
	local sources
	sources=$(ss -Htn state established "( dport = :$SERVER_PORT )" |
		awk '{ sub(/:[0-9]+$/, "", $3); print $3 }' | sort | uniq -c | awk '{ print $2 "=" $1 }' | xargs)
	kill "$lg_pid"
	wait "$lg_pid" || true
	expect_eq "127.0.0.1=3 127.0.0.2=3" "$sources" "established connections by source address"
	run "$LG" --sources 2 -n 1 http://192.0.2.1:1/
	expect_eq 2 "$status" "exit status for --sources to a remote address"
	run "$LG" --sources 0 -n 1 "$URL"
	expect_eq 2 "$status" "exit status for --sources 0"
}

# ---- output formats ---------------------------------------------------------------

@test "CSV: the fixed columns in order, one row carrying every field" {
	need_epoll_et
	run lg -c 3 --idle 5 -n 200 --format csv --header "$URL"
	(( status == 0 )) || { echo "$output" >&2; return 1; }
	local header row
	header=$(sed -n 1p <<<"$output")
	row=$(sed -n 2p <<<"$output")
	expect_eq 2 "$(wc -l <<<"$output")" "lines"
	expect_eq "$CSV_COLUMNS" "$header" "header (new columns go at the end, and into this list)"
	local -a names values
	IFS=, read -ra names <<<"$header"
	IFS=, read -ra values <<<"$row"
	expect_eq "${#names[@]}" "${#values[@]}" "fields in the row"
	declare -A v
	for i in "${!names[@]}"; do
		v[${names[$i]}]=${values[$i]}
		[ -n "${values[$i]}" ] || { echo "empty ${names[$i]}" >&2; return 1; }
		case ${names[$i]} in url | mode | engine | think_dist) continue ;; esac
		[[ ${values[$i]} =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
			{ echo "${names[$i]} is not a number: ${values[$i]}" >&2; return 1; }
	done
	expect_eq "$URL" "${v[url]}" url
	expect_eq 200 "${v[requests]}" requests
	expect_eq 3 "${v[conns_established]}" conns_established
	expect_eq 5 "${v[idle_held]}" idle_held
	expect_eq closed "${v[mode]}" mode
	expect_eq "$ENGINE" "${v[engine]}" engine
	run lg -c 1 -n 10 --format csv "$URL"
	expect_eq 1 "$(wc -l <<<"$output")" "lines without --header"
}

@test "JSON: one object carrying every field" {
	need_epoll_et
	run lg -c 3 --idle 5 -n 200 --format json "$URL"
	(( status == 0 )) || { echo "$output" >&2; return 1; }
	expect_eq 1 "$(wc -l <<<"$output")" "lines"
	local f
	for f in config.url config.threads config.mode config.pipeline config.rate \
		 conns.asked conns.established conns.peak idle.asked idle.held idle.closed \
		 requests non2xx seconds req_per_s bytes errors.total \
		 latency_us.p50 latency_us.p90 latency_us.p99 latency_us.p999 latency_us.max \
		 latency_us.mean connect_us.p50 connect_us.p99 connect_us.max \
		 cpu.user_s cpu.sys_s conn_req_min conn_req_median conn_req_max conns_starved \
		 fairness connects_over_1s config.engine config.think_ms config.think_dist \
		 config.sources think_waited_ms little_req_per_s; do
		jget "$output" ".$f" >/dev/null || { echo "no $f in $output" >&2; return 1; }
	done
	for f in $ERRORS; do
		jget "$output" ".errors.$f" >/dev/null || { echo "no errors.$f" >&2; return 1; }
	done
	expect_eq 200 "$(jget "$output" .requests)" requests
	expect_eq 200 "$(jget "$output" .latency_us.count)" "latency count"
	expect_eq 5 "$(jget "$output" .idle.held)" "idle held"
	# 200 answers of the contract's exact size, 78 bytes
	expect_eq $(( 200 * 78 )) "$(jget "$output" .bytes)" bytes
}

# ---- the response parser -------------------------------------------------------------

@test "Connection is a list of case-insensitive tokens: 'Upgrade, Keep-Alive' keeps an HTTP/1.0 line" {
	server_up badserver keepalive10
	run lg -c 2 -n 50 --format json "http://127.0.0.1:$SERVER_PORT/"
	(( status == 0 )) || { echo "$output" >&2; return 1; }
	expect_eq 50 "$(jget "$output" .requests)" requests
	# a missed keep-alive makes loadgen close after every answer and reconnect
	expect_eq 2 "$(jget "$output" .connect_us.count)" "connects (one per connection)"
}

# ---- connects that fail at once ----------------------------------------------------------

@test "--close --rate -n ends by itself when connects fail at once (EMFILE)" {
	need_epoll_et
	local json
	# 4 descriptors: stdio and the epoll fd, so every socket() fails with
	# EMFILE. Each failed ticket must be released, or the 15 connections that
	# never got one keep the run waiting for 5 answers that will never come.
	lg_limited 4 -c 20 --close --rate 1000 -n 5
	expect_eq 1 "$status" "exit status (EMFILE errors)"
	expect_eq 5 "$(jget "$output" .errors.emfile)" "err_emfile"
	# 10 descriptors: 6 sockets for 20 connections, and the 200 tickets all
	# claimed at once (1,000,000/s): connections that fail are retired, the
	# rest carry every ticket, none lost in the backlog
	lg_limited 10 -c 20 --close --rate 1000000 -n 200
	expect_eq 1 "$status" "exit status (EMFILE errors)"
	json=$output
	(( $(jget "$json" .errors.emfile) > 0 )) || { echo "no EMFILE: $json" >&2; return 1; }
	expect_eq 200 $(( $(jget "$json" .requests) + $(jget "$json" .errors.total) )) \
		"requests + errors (with -n a failed request uses up its ticket)"
}

# lg_limited FDS ARGS: loadgen with a descriptor limit of FDS (soft and hard),
# none inherited from bats, for at most 10 s; sets status and output (stdout).
lg_limited() {
	local fds=$1 limit
	shift
	limit=$(secs 10)        # before the ulimit: a command substitution needs a pipe
	(
		close_inherited_fds
		ulimit -n "$fds"
		exec timeout "$limit" "$LG" --engine "$ENGINE" "$@" --format json "$URL"
	) >"$BATS_TEST_TMPDIR/lg.out" 2>"$BATS_TEST_TMPDIR/lg.err" && status=0 || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/lg.out")
	cat "$BATS_TEST_TMPDIR/lg.err"
	(( status != 124 )) || { echo "loadgen never ended (killed by timeout)" >&2; return 1; }
}

# ---- fairness ----------------------------------------------------------------------

@test "blocking, -c 2 -d 2: one connection starved, reported in every format, exit 3" {
	server_up blocking
	run_stderr_apart lg -c 2 -d 2 --format json "http://127.0.0.1:$SERVER_PORT/"
	expect_eq 3 "$status" "exit status"
	expect_eq 2 "$(jget "$output" .conns.established)" "established (the kernel completes both)"
	expect_eq 1 "$(jget "$output" .conns_starved)" conns_starved
	expect_eq 0 "$(jget "$output" .conn_req_min)" conn_req_min
	expect_eq 0 "$(jget "$output" .errors.total)" "errors"
	# the server serves the next connection only when this run closes its first
	run_stderr_apart lg -c 2 -d 1 --format csv --header --tolerate "http://127.0.0.1:$SERVER_PORT/"
	expect_eq 0 "$status" "exit status with --tolerate"
	expect_eq 1 "$(csv_field conns_starved "$output")" "CSV conns_starved"
	run lg -c 2 -d 1 "http://127.0.0.1:$SERVER_PORT/"
	expect_eq 3 "$status" "exit status, text"
	[[ $output == *"1 starved"* ]] || { echo "text: $output" >&2; return 1; }
}

@test "epoll_et, -c 2 -d 2: no connection starved, Jain's index above 0.9" {
	need_epoll_et
	run lg -c 2 -d 2 --format csv --header "$URL"
	(( status == 0 )) || { echo "$output" >&2; return 1; }
	expect_eq 0 "$(csv_field conns_starved "$output")" conns_starved
	local fairness min
	fairness=$(csv_field fairness "$output")
	min=$(csv_field conn_req_min "$output")
	awk -v f="$fairness" 'BEGIN { exit !(f > 0.9 && f <= 1) }' ||
		{ echo "fairness $fairness" >&2; return 1; }
	(( min > 0 )) || { echo "conn_req_min $min" >&2; return 1; }
}

# ---- connect times -----------------------------------------------------------------------

@test "a connect that times out counts at its timeout, and in connects_over_1s" {
	# blocking serves one connection and accepts no other: with a backlog of
	# 1 the kernel queues two more and drops the SYNs of the rest
	server_up blocking -b 1
	# a timeout below the SYN's first retransmission (1 s) makes them time out
	run_stderr_apart lg -c 6 -d 2 --timeout 800 --format json --tolerate \
		"http://127.0.0.1:$SERVER_PORT/"
	(( status == 0 )) || { echo "$output" >&2; return 1; }
	local timeouts over max
	timeouts=$(jget "$output" .errors.connect_timeout)
	over=$(jget "$output" .connects_over_1s)
	max=$(jget "$output" .connect_us.max)
	(( timeouts > 0 )) || { echo "no connect timed out: $output" >&2; return 1; }
	(( over >= timeouts )) || expect_eq ">= $timeouts" "$over" connects_over_1s
	(( ${max%.*} >= 800000 )) || expect_eq ">= 800000" "$max" "connect_us.max"
}
