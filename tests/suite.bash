# tests/suite.bash: what the bats suites share beyond the harness. Load it
# with `load suite`; it sources harness/harness.bash, the library the bench
# and the labs use too, so a test measures as the bench does:
#
#   server_up MODEL [ARGS]     "$BIN/MODEL" -p 0 ARGS; SERVER_PID, SERVER_PORT,
#                              SERVER_OUT, SERVER_ERR (SERVER_WRAP: a command
#                              to run it under, e.g. "taskset -c 0")
#   server_down                SIGTERM, wait; sets SERVER_STATS; strict here: fails
#                              unless exit 0, with a stats line and no sanitizer report
#   server_snapshot            SIGUSR1, waits for the next stats line: SERVER_SNAPSHOT
#   proc_fds PID, proc_sockets PID, proc_children PID, proc_state PID,
#   proc_tree_cpu PID (PROC_CPU_NS), proc_tree_mem_kb PID, wait_exit PID
#
# and its own:
#
#   stat_field NAME            a counter from SERVER_STATS ("requests" -> 12)
#   expect_model_name LINE     LINE is "stats model=$MODEL_NAME ..." (any name if empty)
#   field NAME TEXT            the same from any "a=1 b=2" line (tcpkit -C)
#   csv_field NAME CSV         a column of loadgen's CSV (header row, then a row), by name
#   wait_fd_count PID N [S]    waits up to S seconds for PID to hold N descriptors (proc_fds)
#   tk ARGS                    "$BIN/tcpkit" ARGS $SERVER_PORT, under a timeout
#   tk_bg ARGS                 the same in the background; stop_background ends it
#   expect_eq WANT GOT [WHAT]  equality, printing both when not
#   expect_closed              tcpkit said the server closed (FIN or RST)
#   expect_error CODE          an HTTP CODE answer with Connection: close, closed
#   expect_cheap_refusals      20 connections at EMFILE: 503 each, under 300 ms of server CPU
#   run_expecting N CMD...     bats' run, failing unless CMD exited N (bats 1.5's run -N)
#   run_stderr_apart CMD...    bats' run, stderr kept apart (bats 1.5's --separate-stderr)
#   repeat N TEXT              TEXT N times (pipelines and their answers)
#   ms N, secs N               a timeout, scaled by TIME_SCALE
#   check_leaks                LeakSanitizer on for what is started next (ASan build)
#   plain_build_only REASON    skip in the sanitizer builds (a test that mostly waits)
#
# A suite's teardown calls teardown_server, which stops a server the test left
# running with server_down: so every test also checks that the server exits 0
# with its stats line on SIGTERM (under the sanitizers: without a report).
#
# Times are scaled by TIME_SCALE (tests/run sets it for the sanitizers, which
# make servers several times slower): use ms/secs below for every timeout;
# the harness scales its own bounds by it too.

# ---- bats 1.2.1 and later -----------------------------------------------------
#
# Ubuntu 22.04's bats is 1.2.1, which lacks what later versions added: `run -N`
# and `run --separate-stderr` (1.5), BATS_TEST_TMPDIR and BATS_FILE_TMPDIR
# (1.4). The suites use the helpers here instead, one code path on every
# version; tests/bats_compat.bats fails when a suite uses a newer feature again.

# Bats 1.4 and later make both directories; older ones neither. The
# fallbacks live in the run's own directory, which bats removes at its end.
# A test runs in a process of its own there, re-reading its file: each gets
# a new BATS_TEST_TMPDIR, and every process of a file the same
# BATS_FILE_TMPDIR (setup_file's files are there for the tests).
if [ -z "${BATS_TEST_TMPDIR:-}" ] && [ -z "${BATS_FILE_TMPDIR:-}" ]; then
	BATS_FILE_TMPDIR=$BATS_RUN_TMPDIR/file.${BATS_TEST_FILENAME##*/}
	mkdir -p "$BATS_FILE_TMPDIR"
	BATS_TEST_TMPDIR=$(mktemp -d "$BATS_RUN_TMPDIR/test.XXXXXX")
fi

# run_expecting STATUS CMD...: bats' run (sets status, output, lines), then
# fails unless CMD exited with STATUS, printing the status wanted and got and
# the output.
run_expecting() {
	local want=$1
	shift
	run "$@"
	(( status == want )) && return 0
	echo "want exit status $want, got $status, from: $*" >&2
	printf '%s\n' "output:" "$output" >&2
	return 1
}

# run_stderr_apart CMD...: bats' run with stdout and stderr kept apart:
# output and lines hold only stdout; stderr and stderr_lines its stderr.
run_stderr_apart() {
	local file
	file=$(mktemp "$BATS_TEST_TMPDIR/stderr.XXXXXX")
	run stderr_to "$file" "$@"
	# as $(...) does for output: trailing newlines dropped
	stderr=$(cat "$file")
	IFS=$'\n' read -d '' -r -a stderr_lines <<<"$stderr" || true
	rm -f "$file"
}

# stderr_to FILE CMD...: runs CMD with its stderr into FILE; CMD's status.
stderr_to() {
	local file=$1
	shift
	"$@" 2>"$file"
}

source "$BATS_TEST_DIRNAME/../harness/harness.bash"

BIN=${BIN:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)/bin}
MODEL=${MODEL:-epoll_lt}
# The name the stats line must carry: the model's own. A student's program
# may call itself anything (labs/starter: "mine"), so the grader sets it
# empty, and then any name passes.
MODEL_NAME=${MODEL_NAME-$MODEL}
TIME_SCALE=${TIME_SCALE:-1}
# server_up's options for a test (harness/server.bash): the server's files
# in the test's own directory; LeakSanitizer on in the server (the ASan
# build); server_down fails the test on a missing stats line or a sanitizer
# report, and shows the server's stderr.
SERVER_DIR=$BATS_TEST_TMPDIR
SERVER_LEAKS=1
SERVER_STRICT=1

# Requests and the exact answers, written with the C escapes tcpkit decodes
# (-s) and prints (-x), so a failing comparison shows \r\n where they differ.
GET='GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'
GET_CLOSE='GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'
HEAD='HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n'
OK_HEADERS='HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n'
HELLO='Hello, world!'
RESP="$OK_HEADERS\\r\\n$HELLO"
RESP_CLOSE="${OK_HEADERS}Connection: close\\r\\n\\r\\n$HELLO"
RESP_KEEP="${OK_HEADERS}Connection: keep-alive\\r\\n\\r\\n$HELLO"
RESP_HEAD="$OK_HEADERS\\r\\n"

# ms N / secs N: a timeout of N milliseconds or seconds, scaled.
ms() { echo $(( $1 * TIME_SCALE )); }
secs() { echo $(( $1 * TIME_SCALE )); }

# plain_build_only REASON: skips the test in the sanitizer builds (make
# sanitize, make tsan). For tests that mostly wait, or measure time or CPU:
# they run no code the other tests do not, and instrumented they only cost time.
plain_build_only() {
	if [[ $BIN == */asan/* || $BIN == */tsan/* || ${TSAN:-} == 1 ]]; then
		skip "checked in the plain build (make test): $1"
	fi
}

# check_leaks: the programs started from here on look for leaks at exit
# (LeakSanitizer, in the ASan build). tests/run turns it off for the test
# tools; server_up turns it on for the server (SERVER_LEAKS), the loadgen
# suite this way for loadgen.
check_leaks() {
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1
}

# stop_background: ends the tcpkits this test started with tk_bg.
stop_background() {
	local pid
	for pid in ${BG_PIDS:-}; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null || true
	done
	BG_PIDS=
}

# For a suite's teardown: stops what the test left running. A failure here
# fails the test: a server must survive every test and exit cleanly.
teardown_server() {
	stop_background
	if [ -n "${SERVER_PID:-}" ]; then
		server_down
	fi
}

# field NAME TEXT: prints the number after "NAME=" in TEXT, or fails.
field() {
	stats_value "$1" "$2" || { echo "no $1= in: $2" >&2; return 1; }
}

# stat_field NAME: the same from SERVER_STATS, the server's exit line.
stat_field() {
	field "$1" "$SERVER_STATS"
}

# expect_model_name LINE: LINE is a stats line naming the model under test
# (MODEL_NAME), or any model when MODEL_NAME is empty.
expect_model_name() {
	local got
	got=$(sed -n 's/^stats model=\([^ ]*\) .*/\1/p' <<<"$1")
	[ -n "$got" ] || { echo "not a stats line (stats model=NAME ...): $1" >&2; return 1; }
	[ -z "$MODEL_NAME" ] || expect_eq "$MODEL_NAME" "$got" model=
}

# csv_field NAME CSV: the value in column NAME of loadgen's CSV output (its
# header row, the line starting "url,", and the row: the last line), read by
# name, so a test never breaks when columns are added. Fails without NAME.
csv_field() {
	local name=$1 header row i
	local -a names values
	header=$(grep -m 1 '^url,' <<<"$2") ||
		{ echo "csv_field: no header row (loadgen --header) in: $2" >&2; return 1; }
	row=$(tail -n 1 <<<"$2")
	IFS=, read -ra names <<<"$header"
	IFS=, read -ra values <<<"$row"
	for i in "${!names[@]}"; do
		if [ "${names[$i]}" = "$name" ]; then
			echo "${values[$i]}"
			return 0
		fi
	done
	echo "csv_field: no column $name in: $header" >&2
	return 1
}

# wait_fd_count PID N [SECONDS]: a server closes a connection a moment after
# the client does; give it that moment (default 3 s), then print the count
# of its descriptors (proc_fds: its own, and its children's sockets).
wait_fd_count() {
	local pid=$1 want=$2 tries=$(( $(secs "${3:-3}") * 50 )) n
	while n=$(proc_fds "$pid"); (( n != want && tries-- > 0 )); do
		sleep 0.02
	done
	echo "$n"
	(( n == want ))
}

# ---- clients ---------------------------------------------------------------

# tk ARGS: tcpkit against the server under test. The outer timeout only
# guards against a hung tcpkit; tcpkit's own -t (2 s by default) ends reads.
tk() {
	timeout "$(secs 60)" "$BIN/tcpkit" "$@" "$SERVER_PORT"
}

# tk_bg ARGS: tcpkit in the background, without bats' descriptors, so a test
# can stall a connection and go on. Its output goes to the file $BG_OUT.
tk_bg() {
	BG_OUT=$BATS_TEST_TMPDIR/bg.$(( ${BG_N:=0} + 1 ))
	BG_N=$(( BG_N + 1 ))
	local out=$BG_OUT
	(
		close_inherited_fds
		exec timeout "$(secs 60)" "$BIN/tcpkit" "$@" "$SERVER_PORT" >"$out" 2>&1
	) &
	BG_PIDS="${BG_PIDS:-} $!"
}

# expect_eq WANT GOT [WHAT]: bats reports only the failing line; this says
# what was wanted and what came instead.
expect_eq() {
	[ "$1" = "$2" ] && return 0
	{
		echo "${3:-value} differs"
		echo "  want: $1"
		echo "  got:  $2"
	} >&2
	return 1
}

# expect_closed: tcpkit's status for "the server closed the connection":
# 0 after a FIN; 4 after a RST, which Linux sends instead when the server
# closes with bytes it never read still queued (after a 400 or 431).
expect_closed() {
	(( status == 0 || status == 4 )) && return 0
	echo "want the connection closed (tcpkit exit 0 or 4), got exit $status" >&2
	return 1
}

# expect_cheap_refusals: at the descriptor limit, 20 new connections each get
# a 503, and the server spends under 300 ms of CPU (scaled) on them and the
# second after: it refuses at EMFILE without spinning. The second is the
# window the CPU is measured over, not a wait for something to happen.
expect_cheap_refusals() {
	local t0 t1
	proc_tree_cpu "$SERVER_PID"; t0=$PROC_CPU_NS
	run tk -C 20 -t "$(ms 1500)" -s "$GET"
	sleep 1
	proc_tree_cpu "$SERVER_PID"; t1=$PROC_CPU_NS
	echo "$output; server CPU over the test: $(( (t1 - t0) / 1000000 )) ms"
	expect_eq "conns=20 200=0 503=20 other=0 none=0" "$output" "answers at EMFILE" || return 1
	(( t1 - t0 < 300000000 * TIME_SCALE )) ||
		expect_eq "under $(( 300 * TIME_SCALE )) ms" "$(( (t1 - t0) / 1000000 )) ms" "server CPU at EMFILE"
}

# expect_error CODE: output starts with that status line and carries
# Connection: close; the connection was closed.
expect_error() {
	if [[ $output != "HTTP/1.1 $1 "* ]]; then
		echo "want an HTTP/1.1 $1 answer, got: $output" >&2
		return 1
	fi
	if [[ $output != *'\r\nConnection: close\r\n'* ]]; then
		echo "want Connection: close in the $1 answer, got: $output" >&2
		return 1
	fi
	expect_closed
}

# repeat N TEXT: TEXT N times (pipelined requests and their expected answers).
# (Doubling, not N appends: bash appends slowly, and 9000 x's are needed.)
repeat() {
	local n=$1 piece=$2 out=""
	while (( n > 0 )); do
		(( n & 1 )) && out+=$piece
		piece+=$piece
		n=$(( n >> 1 ))
	done
	printf '%s' "$out"
}
