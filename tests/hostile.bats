#!/usr/bin/env bats
# run: per-model
#
# The hostile-input suite: what real networks send, and the limits that keep a
# server standing (docs/hostile.md lists every case and what each
# model does with it). tests/run runs this file once per model, with MODEL set.
#
# Each test starts its own server with the options it needs, and teardown
# stops it, so each also proves the server still exits 0 with its stats line
# afterwards (under the sanitizers: without a report). Where a model cannot
# survive a case by design, the test says so and skips: blocking serves one
# client at a time, so it cannot hold idle or stalled clients beside others.
#
# Tools: tcpkit (exact bytes, resets, half-closes, idle connections), flood
# (pipelined requests that are never read), loadgen (the 10,000-connection
# test). Times go through secs/ms, which the sanitizer runs scale up.

load suite

teardown() {
	teardown_server
	if [ -n "${CGROUP:-}" ]; then
		rmdir "$CGROUP" 2>/dev/null || true
	fi
}

# ---- helpers -----------------------------------------------------------------

# The number of threads of a process.
task_count() {
	ls "/proc/$1/task" | wc -l
}

# wait_task_count PID N: waits (5 s, scaled) until PID has at most N threads.
wait_task_count() {
	local tries=$(( $(secs 5) * 50 ))
	while (( $(task_count "$1") > $2 && tries-- > 0 )); do
		sleep 0.02
	done
	(( $(task_count "$1") <= $2 )) || { echo "pid $1 still has $(task_count "$1") threads, want <= $2" >&2; return 1; }
}

# The server's memory, in KiB: the PSS of its whole process tree
# (proc_tree_mem_kb in harness/proc.bash, the bench's definition too). bin/fork's
# connections live in its children, and PSS divides the pages they still
# share with the parent among them, so each page counts once in every model.
mem_kb() {
	local rss pss
	read -r rss pss <<< "$(proc_tree_mem_kb "$1")"
	echo "$pss"
}

# wait_for_fds N: waits until the server holds N descriptors (its connections
# are accepted), failing after 5 s (scaled).
wait_for_fds() {
	run wait_fd_count "$SERVER_PID" "$1" 5
	expect_eq "$1" "$output" "server descriptors"
}

# flood ARGS: bin/flood against the server under test, under a timeout.
flood() {
	timeout "$(secs 60)" "$BIN/flood" "$@" "$SERVER_PORT"
}

# wait_for_line FILE: waits (10 s, scaled) until FILE has a line, prints it.
wait_for_line() {
	local tries=$(( $(secs 10) * 50 ))
	until [ -f "$1" ] && [ "$(wc -l <"$1")" -gt 0 ]; do
		(( tries-- > 0 )) || { echo "no line in $1 after $(secs 10) s" >&2; return 1; }
		sleep 0.02
	done
	head -n 1 "$1"
}

needs_concurrency() {
	if [ "$MODEL" = blocking ]; then
		skip "blocking serves one client at a time: $1"
	fi
}

# ---- bounded input -------------------------------------------------------------

@test "endless empty lines before a request: 431 and close, never buffered" {
	# RFC 9112 asks servers to skip a stray CRLF before a request; 10,000 of
	# them is a client that sends without ever completing a request.
	server_up "$MODEL"
	run tk -x -s "$(repeat 10000 '\r\n')"
	expect_error 431
	run_expecting 3 tk -x -n 1 -s "$GET"
	expect_eq "$RESP" "$output" "answer afterwards"
	server_down
	expect_eq 1 "$(stat_field errors)" errors=
}

@test "some empty lines before a request are skipped, and it is served" {
	server_up "$MODEL"
	run_expecting 3 tk -x -n 1 -s "$(repeat 100 '\r\n')$GET"
	expect_eq "$RESP" "$output" "answer"
}

# ---- faults --------------------------------------------------------------------

@test "10,000 pipelined requests never read: reading stops, memory stays bounded" {
	local conns=10 base_mem mem line limit
	[ "$MODEL" = blocking ] && conns=1   # it serves one; the rest would wait unseen
	server_up "$MODEL"
	base_mem=$(mem_kb "$SERVER_PID")
	(
		close_inherited_fds
		exec timeout "$(secs 60)" "$BIN/flood" -c "$conns" -n 10000 -t "$(ms 20000)" \
			-S "$(secs 1)" "$SERVER_PORT" >"$BATS_TEST_TMPDIR/flood" 2>&1
	) &
	local flood_pid=$!
	line=$(wait_for_line "$BATS_TEST_TMPDIR/flood")
	echo "$line"
	# stalled: the client's writes stopped fitting, so the server stopped
	# reading (a server that read on would have to keep the answers somewhere)
	expect_eq "$conns" "$(field stalled "$line")" "flooding connections that stalled"
	expect_eq 0 "$(field closed "$line")" "flooding connections the server closed"
	(( $(field sent "$line") >= 10000 * conns ))
	mem=$(mem_kb "$SERVER_PID")
	echo "server memory (PSS): $base_mem KiB before, $mem KiB while flooded"
	# 32 KiB of buffers per connection (and a 64 KiB stack in threads); a server
	# that kept what it read would hold several MiB per connection by now. The
	# sanitizers add shadow memory and per-thread state: scaled like the times.
	limit=$(( 8 * 1024 * TIME_SCALE ))
	(( mem - base_mem < limit )) ||
		expect_eq "under $limit KiB" "$(( mem - base_mem )) KiB" "memory (PSS) growth"
	if [ "$MODEL" != blocking ]; then
		run_expecting 3 tk -x -n 1 -s "$GET"
		expect_eq "$RESP" "$output" "another client's answer during the flood"
	fi
	wait "$flood_pid"
}

@test "a reset in mid-response, with answers still queued: survived, nothing leaked" {
	local before
	server_up "$MODEL"
	before=$(proc_fds "$SERVER_PID")
	# each reads 1000 bytes of its answers, then resets with the rest unread
	run_expecting 0 flood -c 5 -n 2000 -b 200 -m 1000
	echo "$output"
	run wait_fd_count "$SERVER_PID" "$before"
	expect_eq "$before" "$output" "server descriptors"
	run_expecting 3 tk -x -n 1 -s "$GET"
	expect_eq "$RESP" "$output" "answer afterwards"
}

@test "a half-close in mid-request: closed without an answer, nothing leaked" {
	local before
	server_up "$MODEL"
	before=$(proc_fds "$SERVER_PID")
	run_expecting 0 tk -x -w -s 'GET / HTTP/1.1\r\nHo'
	expect_eq "" "$output" "answer to half a request"
	run wait_fd_count "$SERVER_PID" "$before"
	expect_eq "$before" "$output" "server descriptors"
	server_down
	expect_eq 0 "$(stat_field requests)" requests=
}

@test "1,000 pipelined requests, then a half-close: all answered, then closed" {
	server_up "$MODEL"
	# 37 KB: more than one read takes, all of it waiting before the FIN. A
	# loop that reads once per edge never sees the rest (no new edge comes).
	run tk -c -w -t "$(ms 10000)" -s "$(repeat 1000 "$GET")"
	if [[ $output != "responses=1000 closed=yes "* ]]; then
		echo "sent: 1,000 pipelined GETs in one write (37 KB), then a half-close (FIN)"
		echo "came back: ${output%% status=*} (want responses=1000 closed=yes)"
		echo "the peer half-closed and your loop never read to EOF: an edge-triggered" \
			"loop must read until 0 after EPOLLRDHUP (set c->peer_hup)"
		echo "or it stopped reading with bytes waiting: read until EAGAIN, not once" \
			"per event (CONN_DRAIN, not CONN_READ_ONCE)"
		return 1
	fi
	(( status == 0 )) || expect_eq "tcpkit exit 0 (closed)" "exit $status" "tcpkit"
	server_down
	expect_eq 1000 "$(stat_field requests)" requests=
}

@test "SIGTERM under load: a clean stop, with the stats line" {
	local pid load_pid
	server_up "$MODEL"
	(
		close_inherited_fds
		exec timeout "$(secs 30)" "$BIN/loadgen" -c 20 --idle 50 -d 20 --tolerate \
			"http://127.0.0.1:$SERVER_PORT/" >/dev/null 2>&1
	) &
	load_pid=$!
	sleep 1
	pid=$SERVER_PID
	server_down                        # fails unless exit 0 with the stats line
	kill "$load_pid" 2>/dev/null || true
	wait "$load_pid" || true
	(( $(stat_field accepted) >= 1 ))
	if [ "$MODEL" != blocking ]; then
		(( $(stat_field requests) > 0 ))
	fi
}

# ---- the idle timeout --------------------------------------------------------------

@test "--idle-timeout: a client that vanishes mid-request is closed and counted" {
	local start elapsed
	server_up "$MODEL" --idle-timeout 1
	start=$(date +%s%N)
	# half a request, then silence: tcpkit waits up to 5 s for the server to close
	run_expecting 0 tk -x -t "$(ms 5000)" -s 'GET / HTTP/1.1\r\nHo'
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	echo "closed after $elapsed ms"
	(( elapsed >= 900 && elapsed < $(ms 3500) ))
	server_down
	expect_eq 1 "$(stat_field timeouts)" timeouts=
}

@test "--idle-timeout: a client that stops reading mid-response is closed" {
	server_up "$MODEL" --idle-timeout 1
	# -b 8000: go on trying to write long after stalling, so the close is seen
	run_expecting 0 flood -c 1 -n 10000 -b "$(ms 8000)" -t "$(ms 10000)"
	echo "$output"
	expect_eq 1 "$(field closed "$output")" "flooding connections closed by the server"
	server_down
	expect_eq 1 "$(stat_field timeouts)" timeouts=
}

@test "--idle-timeout: activity keeps a connection; a kept-alive one is closed when idle" {
	server_up "$MODEL" --idle-timeout 1
	# one byte every 100 ms: 1.8 s in all, never idle for a second
	run_expecting 0 tk -x -k 1 -d 100 -t "$(ms 6000)" -s 'GET / HTTP/1.0\r\n\r\n'
	[[ $output == 'HTTP/1.1 200 OK\r\n'* ]] || expect_eq "a 200 answer" "$output" answer
	# answered, kept alive, then idle: closed within the timeout and a bit
	run_expecting 0 tk -c -n 1 -g "$(ms 3000)" -s "$GET"
	expect_eq "responses=1 closed=yes status=200" "$output" "tcpkit"
	server_down
	expect_eq 1 "$(stat_field timeouts)" timeouts=
}

@test "without --idle-timeout an idle connection stays open" {
	plain_build_only "it waits 2 s for nothing to happen"
	server_up "$MODEL"
	run_expecting 0 tk -I 1 -S 2
	expect_eq 0 "$(field closed_by_server "$output")" "idle connections closed by the server"
	server_down
	expect_eq 0 "$(stat_field timeouts)" timeouts=
}

# ---- limits ------------------------------------------------------------------------

@test "--max-conns: 503 past the limit, counted in refused=, served again below it" {
	needs_concurrency "it never has more than one connection open"
	local base
	server_up "$MODEL" --max-conns 5
	base=$(proc_fds "$SERVER_PID")
	tk_bg -I 5 -S "$(secs 3)"
	wait_for_fds $(( base + 5 ))
	run tk -C 3 -s "$GET"
	echo "$output"
	expect_eq "conns=3 200=0 503=3 other=0 none=0" "$output" "answers past the limit"
	stop_background
	wait_for_fds "$base"
	run_expecting 3 tk -x -n 1 -s "$GET"
	expect_eq "$RESP" "$output" "answer below the limit"
	server_down
	expect_eq 3 "$(stat_field refused)" refused=
}

@test "EMFILE: 503 from the spare descriptor, no spin, served again afterwards" {
	# reuseport: several loops accept at once, each on its own listener; the
	# spare must not be lost to one of them (accept_lock in servers/common/net.c)
	local base hold=5 full soft
	[ "$MODEL" = io_uring ] &&
		skip "io_uring's accept uses the limit in force when it was armed (tests/io_uring_start.bats lowers it first)"
	case $MODEL in                       # it holds no connection while it accepts
	blocking|fork) hold=0 ;;             # (fork: its children hold them)
	esac
	server_up "$MODEL"
	base=$(proc_fds "$SERVER_PID")
	soft=$(prlimit --pid "$SERVER_PID" --nofile --output SOFT --noheadings)
	# the soft limit: as many as are open now, plus room for $hold connections
	prlimit --pid "$SERVER_PID" --nofile=$(( base + hold )):
	# One request first: a server asleep in accept4() took its descriptor when it
	# went to sleep, under the old limit; this wakes it, and it is served.
	run_expecting 0 tk -x -s "$GET_CLOSE"
	expect_eq "$RESP_CLOSE" "$output" "answer to the first request"
	full=$(( base + hold ))
	case $MODEL in
	blocking|threads|fork)
		# A blocking accept4() fails with EMFILE at once, even with nobody
		# waiting; the server then gives up the spare and sleeps in accept().
		full=$(( full - 1 )) ;;
	esac
	if (( hold > 0 )); then
		tk_bg -I "$hold" -S "$(secs 4)"
	fi
	wait_for_fds "$full"
	# without the spare descriptor these would wait in the backlog, and a
	# level-triggered loop would be woken for them again and again
	expect_cheap_refusals
	# descriptors come free: the idle clients leave (blocking: the limit goes
	# back up). The next client may find the server asleep in accept() without
	# its spare: it must be served, not refused.
	if (( hold > 0 )); then
		stop_background
		wait_for_fds "$(( full - hold ))"
	else
		prlimit --pid "$SERVER_PID" --nofile="$soft":
	fi
	run_expecting 3 tk -x -n 1 -s "$GET"
	expect_eq "$RESP" "$output" "answer once descriptors are free"
	prlimit --pid "$SERVER_PID" --nofile="$soft":   # room for a sanitizer's report
	server_down
	expect_eq 20 "$(stat_field refused)" refused=
}

@test "select: a descriptor past FD_SETSIZE gets 503, counted in refused=" {
	[ "$MODEL" = select ] || skip "only select has a fixed-size descriptor set"
	local base hold
	server_up "$MODEL"
	base=$(proc_fds "$SERVER_PID")
	hold=$(( 1024 - base ))              # fills every descriptor below FD_SETSIZE
	tk_bg -I "$hold" -S "$(secs 4)"
	wait_for_fds 1024
	run tk -C 5 -s "$GET"
	expect_eq "conns=5 200=0 503=5 other=0 none=0" "$output" "answers past FD_SETSIZE"
	stop_background
	wait_for_fds "$base"
	run_expecting 3 tk -x -n 1 -s "$GET"
	expect_eq "$RESP" "$output" "answer afterwards"
	server_down
	expect_eq 5 "$(stat_field refused)" refused=
}

@test "threads, fork: when no thread or process can be created, 503, counted in refused=" {
	case $MODEL in
	threads|fork) ;;
	*) skip "only threads and fork create a task per connection" ;;
	esac
	local tasks base
	CGROUP=/sys/fs/cgroup/pids/c10k-hostile-$$
	mkdir "$CGROUP" 2>/dev/null || skip "needs a pids cgroup (root, cgroup v1 pids controller)"
	server_up "$MODEL"
	base=$(proc_fds "$SERVER_PID")
	tasks=$(task_count "$SERVER_PID")
	# one request first: ThreadSanitizer starts a thread of its own at the
	# first pthread_create(), which must not take the room counted below
	run_expecting 0 tk -x -s 'GET / HTTP/1.0\r\n\r\n'
	wait_for_fds "$base"
	# the connection's thread ends just after its connection closes
	wait_task_count "$SERVER_PID" $(( tasks + ${TSAN:-0} ))
	tasks=$(task_count "$SERVER_PID")
	# room for 3 connection threads (or processes); pthread_create (or fork)
	# fails with EAGAIN after that
	echo $(( tasks + 3 )) >"$CGROUP/pids.max"
	echo "$SERVER_PID" >"$CGROUP/cgroup.procs"
	tk_bg -I 3 -S "$(secs 3)"
	wait_for_fds $(( base + 3 ))
	run tk -C 4 -s "$GET"
	expect_eq "conns=4 200=0 503=4 other=0 none=0" "$output" "answers out of threads"
	stop_background
	wait_for_fds "$base"
	run_expecting 3 tk -x -n 1 -s "$GET"
	expect_eq "$RESP" "$output" "answer once threads are free"
	server_down
	expect_eq 4 "$(stat_field refused)" refused=
	# served: the first request, the 3 held, the last; a refusal is not "accepted"
	expect_eq 5 "$(stat_field accepted)" accepted=
}

# ---- scale ---------------------------------------------------------------------------

@test "10,000 connections (9,950 idle, 50 active): no error, no descriptor left behind" {
	case $MODEL in
	blocking) skip "blocking: one idle client stalls every other" ;;
	threads)  skip "threads: not an event model (10,000 threads is the next lesson)" ;;
	fork)     skip "fork: not an event model (10,000 processes)" ;;
	select)   skip "select: limited to FD_SETSIZE (1024) descriptors" ;;
	esac
	plain_build_only "the conformance suite's 1,000 connections run the same code instrumented"
	[ -x "$BIN/loadgen" ] || skip "no $BIN/loadgen"
	local base holder requests idle
	ulimit -n 20000 2>/dev/null || { ulimit -Hn 65536 && ulimit -n 20000; } ||
		skip "cannot raise the descriptor limit to 20,000"
	server_up "$MODEL"
	base=$(proc_fds "$SERVER_PID")
	# The idle connections first, held by a loadgen of their own, and the
	# active load only once the server has accepted every one of them: the
	# kernel completes handshakes into the backlog long before a slow server
	# (an instrumented build) accepts them, and then the measured run would
	# time the accepting, not the serving.
	(
		close_inherited_fds
		exec timeout "$(secs 120)" "$BIN/loadgen" -c 0 --idle 9950 -d "$(secs 100)" \
			--timeout "$(ms 10000)" --format csv --header "http://127.0.0.1:$SERVER_PORT/" \
			>"$BATS_TEST_TMPDIR/idle.csv" 2>"$BATS_TEST_TMPDIR/idle.err"
	) &
	holder=$!
	BG_PIDS="${BG_PIDS:-} $holder"      # so teardown stops it if an assertion fails first
	run wait_fd_count "$SERVER_PID" $(( base + 9950 )) 30
	expect_eq $(( base + 9950 )) "$output" "server descriptors with the idle connections held"
	run timeout "$(secs 60)" "$BIN/loadgen" -c 50 -d 2 --timeout "$(ms 5000)" \
		--format csv --header "http://127.0.0.1:$SERVER_PORT/"
	echo "$output"
	expect_eq 0 "$status" "loadgen exit status (non-zero: errors or short connections)"
	requests=$(csv_field requests "$output")
	(( requests > 0 )) || expect_eq "> 0" "$requests" "requests answered to the active clients"
	kill -TERM "$holder"
	wait "$holder" || true
	cat "$BATS_TEST_TMPDIR/idle.csv" "$BATS_TEST_TMPDIR/idle.err"
	# the holder stopped by a signal must report cleanly (a sanitizer report fails it)
	expect_eq "" "$(grep -E 'runtime error:|Sanitizer' "$BATS_TEST_TMPDIR/idle.err")" "holder's stderr"
	idle=$(cat "$BATS_TEST_TMPDIR/idle.csv")
	expect_eq "9950,9950,0" \
		"$(csv_field idle_asked "$idle"),$(csv_field idle_held "$idle"),$(csv_field idle_closed "$idle")" \
		"idle connections asked,held,closed by the server"
	run wait_fd_count "$SERVER_PID" "$base" 10
	expect_eq "$base" "$output" "server descriptors afterwards"
	server_down
	(( $(stat_field peak) >= 10000 )) || expect_eq ">= 10000" "$(stat_field peak)" peak=
}

# ---- the bugs students make ------------------------------------------------------
#
# Each behaviour here is named after a bug written in students' own servers
# that every behaviour above let pass; tests/mutants.bats puts each bug, one
# line long, into a shipped model and checks that its behaviour fails.

# tool NAME: a test tool from $BIN, or from the plain build when $BIN holds
# only the server and the tools the grader links (tests/grade).
tool() {
	if [ -x "$BIN/$1" ]; then
		echo "$BIN/$1"
	else
		echo "$BATS_TEST_DIRNAME/../bin/$1"
	fi
}

# big_root: a --root directory with big.bin, 16 MiB of zeros (sparse: no
# disk, no time to write), more than a loopback socket takes in one call
# (its send buffer grows to net.ipv4.tcp_wmem's 4 MiB), so its answer is
# written in parts; and hello.txt, whose answer is hello world's very bytes.
BIG=$((16 << 20))
big_root() {
	WWW=$BATS_TEST_TMPDIR/www
	mkdir -p "$WWW"
	truncate -s "$BIG" "$WWW/big.bin"
	printf '%s' "$HELLO" >"$WWW/hello.txt"
}

# fetch_big [SLOWREAD ARGS]: big.bin through slowread; fails unless every
# byte arrived and the server closed, saying what that usually means.
fetch_big() {
	local got=$BATS_TEST_TMPDIR/big.got
	run timeout "$(secs 30)" "$(tool slowread)" -t "$(ms 10000)" -o "$got" "$@" /big.bin "$SERVER_PORT"
	echo "slowread: $output"
	if ! tail -c "$BIG" "$got" | cmp -s - "$WWW/big.bin" || [[ $output != *"closed=yes"* ]]; then
		echo "sent: GET /big.bin ($BIG bytes, Connection: close); came back: $output" >&2
		echo "the answer stopped part way: a write that took only part of it was" \
			"never resumed. When conn_run() says CONN_WRITE the loop must wait for" \
			"room to write (EPOLLOUT, POLLOUT, the write set) and call it again" >&2
		return 1
	fi
}

@test "a large answer to a slow reader is written in parts: every byte arrives" {
	big_root
	server_up "$MODEL" --root "$WWW"
	# a 64 KiB receive window read at 64 MiB/s: a quarter of a second
	fetch_big -b 65536 -r $((64 << 20))
}

@test "a descriptor number reused after close: the new connection is served afresh" {
	local before
	big_root
	server_up "$MODEL" --root "$WWW"
	before=$(proc_fds "$SERVER_PID")
	# the first client leaves mid-answer, while the server waits for room
	# to write; its descriptor number is closed, then the next accept's
	run timeout "$(secs 10)" "$(tool slowread)" -b 4096 -r 65536 -t "$(ms 300)" /big.bin "$SERVER_PORT"
	run wait_fd_count "$SERVER_PID" "$before"
	expect_eq "$before" "$output" "server descriptors after the first client left"
	fetch_big -b 65536 -r $((64 << 20)) || {
		echo "the first connection on this descriptor number ended while waiting to" \
			"write; state kept by descriptor (watched[fd], want[fd]) must be" \
			"written afresh for every new connection, not only when it changes" >&2
		echo "or a connection was freed while still registered: the kernel still" \
			"held a request or registration for it, and its event reached the next" \
			"connection on that number" >&2
		return 1
	}
}

@test "a slow reader beside fast ones: the fast ones are still served" {
	needs_concurrency "a slow reader holds the one connection it serves"
	local i slow hello='GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n'
	big_root
	server_up "$MODEL" --root "$WWW"
	# 16 MiB at 64 KiB/s: still reading for the whole test
	(
		close_inherited_fds
		exec timeout "$(secs 20)" "$(tool slowread)" -b 4096 -r 65536 /big.bin "$SERVER_PORT" >/dev/null 2>&1
	) &
	slow=$!
	BG_PIDS="${BG_PIDS:-} $slow"
	for i in 1 2 3; do
		run_expecting 3 tk -x -n 1 -t "$(ms 2000)" -s "$hello"
		[ "$output" = "$RESP" ] || {
			echo "sent: $hello beside a client reading a 16 MiB answer slowly; came back: '$output'" >&2
			echo "a slow reader stalled the others: the loop blocked in a write," \
				"or went on writing to one socket until it was all sent" >&2
			return 1
		}
	done
}

# resources SERVER_PID: "FDS TASKS PSS_KB" of the server's process tree.
resources() {
	local rss pss
	read -r rss pss <<<"$(proc_tree_mem_kb "$1")"
	echo "$(proc_fds "$1") $(proc_tasks "$1") $pss"
}

@test "resources do not grow with connections served: descriptors, threads, processes, memory" {
	local fds0 tasks0 mem0 fds tasks mem tries limit
	# freed memory goes back to the allocator at once (AddressSanitizer
	# otherwise holds it in quarantine, and PSS would grow without a leak)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 server_up "$MODEL"
	# the first connections grow the allocator's pools: measure after them
	run_expecting 0 timeout "$(secs 60)" "$BIN/loadgen" -c 4 -n 200 --close "http://127.0.0.1:$SERVER_PORT/"
	read -r fds0 tasks0 mem0 <<<"$(resources "$SERVER_PID")"
	run_expecting 0 timeout "$(secs 60)" "$BIN/loadgen" -c 4 -n 600 --close "http://127.0.0.1:$SERVER_PORT/"
	# threads and processes end a moment after their client: wait for it
	tries=$(( $(secs 5) * 50 ))
	while read -r fds tasks mem <<<"$(resources "$SERVER_PID")"; (( (fds > fds0 || tasks > tasks0) && tries-- > 0 )); do
		sleep 0.02
	done
	echo "after 200 connections: $fds0 descriptors, $tasks0 threads and processes, $mem0 KiB (PSS)"
	echo "after 600 more:        $fds descriptors, $tasks threads and processes, $mem KiB (PSS)"
	# 600 connections' state (32 KiB each) is over 18 MiB: a leak is far past this
	limit=$(( 4096 * TIME_SCALE ))
	if (( fds > fds0 || tasks > tasks0 || mem - mem0 > limit )); then
		echo "600 connections opened and closed left the server bigger:" \
			"something is made per connection and never ended: a descriptor" \
			"not closed, a thread not joined or detached, a child not reaped, or" \
			"a struct conn never freed (every path that ends a connection must" \
			"call conn_close)" >&2
		return 1
	fi
}
