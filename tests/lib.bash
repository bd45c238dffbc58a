# tests/lib.bash: what every bats suite shares. Load it with `load lib`.
#
#   start_server MODEL [ARGS]  runs "$BIN/MODEL" -p 0 ARGS; sets PORT, SERVER_PID
#                              (under $SERVER_WRAP when set, e.g. "taskset -c 0")
#   stop_server                SIGTERM, wait; sets STATS; fails unless exit 0
#   snapshot_stats             SIGUSR1, waits for the next stats line; sets SNAPSHOT
#   stat_field NAME            a counter from STATS ("requests" -> 12)
#   field NAME TEXT            the same from any "a=1 b=2" line (tcpkit -C)
#   csv_field NAME CSV         a column of loadgen's CSV (header row, then a row), by name
#   fd_count PID               open descriptors of PID, and the sockets of its children
#   child_pids PID             its child processes (bin/fork: one per connection)
#   cpu_ticks PID              CPU used by PID (all threads) and its children, user +
#                              system, in 1/100 s
#   wait_fd_count PID N [S]    waits up to S seconds for PID to hold N descriptors
#   wait_exit PID              waits for a signalled child; its exit status
#   tk ARGS                    "$BIN/tcpkit" ARGS $PORT, under a timeout
#   tk_bg ARGS                 the same in the background; stop_background ends it
#   expect_eq WANT GOT [WHAT]  equality, printing both when not
#   expect_closed              tcpkit said the server closed (FIN or RST)
#   expect_error CODE          an HTTP CODE answer with Connection: close, closed
#   repeat N TEXT              TEXT N times (pipelines and their answers)
#   ms N, secs N               a timeout, scaled by TIME_SCALE
#   check_leaks                LeakSanitizer on for what is started next (ASan build)
#   plain_build_only REASON    skip in the sanitizer builds (a test that mostly waits)
#
# A suite's teardown calls teardown_server, which stops a server the test left
# running with stop_server: so every test also checks that the server exits 0
# with its stats line on SIGTERM (under the sanitizers: without a report).
#
# Times are scaled by TIME_SCALE (tests/run sets it for the sanitizers, which
# make servers several times slower): use ms/secs below for every timeout.

bats_require_minimum_version 1.5.0

# stats_value, proc_state, proc_cpu_ticks, ...: shared with bench/run
source "$BATS_TEST_DIRNAME/../harness/proc.bash"

BIN=${BIN:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)/bin}
MODEL=${MODEL:-epoll_lt}
TIME_SCALE=${TIME_SCALE:-1}

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
# tools; start_server turns it on for the server, the loadgen suite for loadgen.
check_leaks() {
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1
}

# ---- the server under test --------------------------------------------------

# Closes every descriptor above 2 in this (sub)shell. bats keeps several open
# (its TAP pipe on 3, logs, ...); a server must not inherit them, or its own
# descriptor numbers shift (select's FD_SETSIZE test counts on them) and a
# background process holding bats' pipe makes bats wait for it forever.
close_inherited_fds() {
	local path fd
	for path in /proc/"$BASHPID"/fd/*; do
		fd=${path##*/}
		(( fd > 2 )) && { exec {fd}>&-; } 2>/dev/null
	done
	return 0
}

# start_server MODEL [ARGS...]: starts it on a free port and waits (5 s,
# scaled) for its "listening on 127.0.0.1:PORT" line. Sets PORT, SERVER_PID,
# SERVER_OUT and SERVER_ERR (its stdout and stderr, kept in files).
start_server() {
	local model=$1 line="" deadline
	shift
	SERVER_MODEL=$model
	# new files for each start: a restarted server must not be taken for
	# the previous one, whose "listening on" line is still in the old file
	SERVER_STARTS=$(( ${SERVER_STARTS:-0} + 1 ))
	SERVER_OUT=$BATS_TEST_TMPDIR/server.$SERVER_STARTS.out
	SERVER_ERR=$BATS_TEST_TMPDIR/server.$SERVER_STARTS.err
	if [ ! -x "$BIN/$model" ]; then
		echo "start_server: $BIN/$model is not built" >&2
		return 1
	fi
	(
		close_inherited_fds
		check_leaks
		# shellcheck disable=SC2086 # SERVER_WRAP is a command and its words
		exec ${SERVER_WRAP:-} "$BIN/$model" -p 0 "$@" >"$SERVER_OUT" 2>"$SERVER_ERR" </dev/null
	) &
	SERVER_PID=$!
	deadline=$(( SECONDS + $(secs 5) ))
	while (( SECONDS <= deadline )); do
		{ read -r line <"$SERVER_OUT"; } 2>/dev/null || true
		[[ $line == "listening on 127.0.0.1:"* ]] && break
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			echo "start_server: $model exited before listening:" >&2
			cat "$SERVER_ERR" >&2
			SERVER_PID=
			return 1
		fi
		sleep 0.02
	done
	if [[ $line != "listening on 127.0.0.1:"* ]]; then
		echo "start_server: no 'listening on 127.0.0.1:PORT' line from $model" \
		     "within $(secs 5) s; stdout: '$line'" >&2
		return 1
	fi
	PORT=${line##*:}
}

# stop_server: SIGTERM, then waits (5 s, scaled) for the exit. Fails if the
# server is gone already (it crashed), hangs, exits non-zero, prints no stats
# line, or printed a sanitizer report; its stderr is shown then.
stop_server() {
	local pid=$SERVER_PID rc
	SERVER_PID=
	if ! kill -TERM "$pid" 2>/dev/null; then
		echo "stop_server: $SERVER_MODEL (pid $pid) was already gone" >&2
		wait "$pid"; echo "exit status $?; stderr:" >&2
		cat "$SERVER_ERR" >&2
		return 1
	fi
	wait_exit "$pid" && rc=0 || rc=$?
	STATS=$(grep '^stats model=' "$SERVER_ERR" | tail -n 1)
	# UBSan reports and goes on (exit 0) unless told otherwise: look too
	if (( rc != 0 )) || [ -z "$STATS" ] ||
	   grep -qE 'runtime error:|Sanitizer' "$SERVER_ERR"; then
		echo "stop_server: $SERVER_MODEL exited with status $rc; stderr:" >&2
		cat "$SERVER_ERR" >&2
		return 1
	fi
}

# snapshot_stats: sends SIGUSR1 and waits (5 s, scaled) for one more complete
# stats line on the server's stderr; sets SNAPSHOT to it. The server goes on.
snapshot_stats() {
	local before count tries=$(( $(secs 5) * 50 ))
	before=$(grep -c '^stats model=' "$SERVER_ERR") || true
	kill -USR1 "$SERVER_PID" || return 1
	# done when a new line is there and ends with its newline ($(...) drops it)
	until count=$(grep -c '^stats model=' "$SERVER_ERR") || true
	      (( count > before )) && [ -z "$(tail -c 1 "$SERVER_ERR")" ]; do
		if (( tries-- == 0 )) || ! kill -0 "$SERVER_PID" 2>/dev/null ||
		   [ "$(stat_of "$SERVER_PID")" = Z ]; then
			echo "snapshot_stats: no stats line after SIGUSR1 (within $(secs 5) s," \
			     "or the server died of it); stderr:" >&2
			cat "$SERVER_ERR" >&2
			return 1
		fi
		sleep 0.02
	done
	SNAPSHOT=$(grep '^stats model=' "$SERVER_ERR" | tail -n 1)
}

# wait_exit PID: waits (5 s, scaled) for a child that was sent a signal to
# exit, and returns its exit status; SIGKILLs it and fails if it does not.
# (A plain `wait` would hang the suite on a server that ignores signals.)
wait_exit() {
	local pid=$1 tries=$(( $(secs 5) * 50 ))
	# kill -0 still succeeds on a zombie: exited, but not yet waited for
	while kill -0 "$pid" 2>/dev/null && [ "$(stat_of "$pid")" != Z ]; do
		if (( tries-- == 0 )); then
			echo "wait_exit: pid $pid still running after $(secs 5) s" >&2
			kill -KILL "$pid"
			wait "$pid"
			return 125
		fi
		sleep 0.02
	done
	wait "$pid"
}

# The one-letter state of a process (Z: a zombie).
stat_of() {
	proc_state "$1"
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
		stop_server
	fi
}

# field NAME TEXT: prints the number after "NAME=" in TEXT, or fails.
field() {
	stats_value "$1" "$2" || { echo "no $1= in: $2" >&2; return 1; }
}

stat_field() {
	field "$1" "$STATS"
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

# child_pids PID: the processes whose parent is PID, zombies included.
child_pids() {
	pgrep -P "$1" || true
}

# fd_count PID: descriptors held by PID, plus the sockets its children hold:
# bin/fork serves each connection in a child, whose other descriptors are
# copies of the parent's. So N connections are N more, in every model (the
# others have no children).
fd_count() {
	local n pid link
	n=$(ls "/proc/$1/fd" | wc -l)
	for pid in $(child_pids "$1"); do
		for link in /proc/"$pid"/fd/*; do
			[[ $(readlink "$link" 2>/dev/null) == socket:* ]] && n=$(( n + 1 ))
		done
	done
	echo "$n"
}

# cpu_ticks PID: CPU used by PID and its live children (bin/fork), in 1/100 s.
cpu_ticks() {
	local rest pid n=0
	for pid in "$1" $(child_pids "$1"); do
		rest=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		rest=${rest##*) }            # fields from the 3rd on; comm may hold spaces
		set -- $rest
		n=$(( n + ${12} + ${13} ))   # utime and stime: fields 14 and 15
	done
	echo "$n"
}

# wait_fd_count PID N [SECONDS]: a server closes a connection a moment after
# the client does; give it that moment (default 3 s), then print the count.
wait_fd_count() {
	local pid=$1 want=$2 tries=$(( $(secs "${3:-3}") * 50 )) n
	while n=$(fd_count "$pid"); (( n != want && tries-- > 0 )); do
		sleep 0.02
	done
	echo "$n"
	(( n == want ))
}

# ---- clients ---------------------------------------------------------------

# tk ARGS: tcpkit against the server under test. The outer timeout only
# guards against a hung tcpkit; tcpkit's own -t (2 s by default) ends reads.
tk() {
	timeout "$(secs 60)" "$BIN/tcpkit" "$@" "$PORT"
}

# tk_bg ARGS: tcpkit in the background, without bats' descriptors, so a test
# can stall a connection and go on. Its output goes to the file $BG_OUT.
tk_bg() {
	BG_OUT=$BATS_TEST_TMPDIR/bg.$(( ${BG_N:=0} + 1 ))
	BG_N=$(( BG_N + 1 ))
	local out=$BG_OUT
	(
		close_inherited_fds
		exec timeout "$(secs 60)" "$BIN/tcpkit" "$@" "$PORT" >"$out" 2>&1
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
