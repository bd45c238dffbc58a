#!/usr/bin/env bats
#
# The harness's own suite (harness/): the readings of a process tree that
# the bench publishes and the tests assert with, on trees built here whose
# CPU time is known; and the one server_up, server_down and server_snapshot,
# on a real model. Runs once, not per model.

load suite

teardown() {
	teardown_server
	# the tree of a /proc test: its children, then itself
	if [ -n "${TREE_PID:-}" ]; then
		kill -KILL $(proc_children "$TREE_PID") "$TREE_PID" 2>/dev/null || true
		wait "$TREE_PID" 2>/dev/null || true    # reaped, without the shell's "Killed"
	fi
}

# ---- the CPU time and memory of a process tree ------------------------------

# comm PID: the command name of PID ("sleep" once it has exec'd sleep).
comm() {
	cat "/proc/$1/comm" 2>/dev/null || true
}

# wait_for DESCRIPTION COMMAND...: waits (10 s, scaled) until COMMAND is true.
wait_for() {
	local what=$1 tries=$(( $(secs 10) * 50 )); shift
	until "$@"; do
		(( tries-- > 0 )) || { echo "gave up waiting for: $what" >&2; return 1; }
		sleep 0.02
	done
}

# tree_cpu_ms PID: proc_tree_cpu in milliseconds.
tree_cpu_ms() {
	proc_tree_cpu "$1"
	echo $(( PROC_CPU_NS / 1000000 ))
}

cpu_at_least() { (( $(tree_cpu_ms "$1") >= $2 )); }
is_sleep() { [ "$(comm "$1")" = sleep ]; }
no_children() { [ -z "$(proc_children "$1")" ]; }

@test "proc_tree_cpu: a busy child still alive is counted, and counted once after it is reaped" {
	local stop="$BATS_TEST_TMPDIR/stop" child a own b
	# a shell whose child spins until $stop exists, then sleeps (its CPU time
	# stops moving); the shell waits for the child, then sleeps too
	bash -c 'bash -c "while [ ! -e $0 ]; do :; done; exec sleep 60" "$0" & wait; exec sleep 60' "$stop" &
	TREE_PID=$!
	wait_for "300 ms of CPU in the tree" cpu_at_least "$TREE_PID" 300
	child=$(proc_children "$TREE_PID")
	touch "$stop"
	wait_for "the child to stop spinning" is_sleep "$child"
	a=$(tree_cpu_ms "$TREE_PID")
	read -r own _ < "/proc/$child/schedstat"
	own=$(( own / 1000000 ))
	echo "tree $a ms, of which the live child $own ms"
	# the old reading (utime + stime of the parent, cutime + cstime) saw
	# nothing of a child still alive
	(( own >= 300 && a >= own )) || expect_eq ">= $own (the live child's)" "$a" "tree's CPU ms"

	kill "$child"
	wait_for "the shell to reap its child" is_sleep "$TREE_PID"
	no_children "$TREE_PID"
	b=$(tree_cpu_ms "$TREE_PID")
	echo "after the reap: tree $b ms"
	# now in the shell's cutime + cstime, rounded down to 10 ms each; counted
	# twice it would be 300 ms more
	(( b >= a - 30 && b <= a + 100 )) || expect_eq "$((a - 30)) .. $((a + 100))" "$b" "tree's CPU ms after the reap"
}

@test "proc_tree_mem_kb: the PSS of a parent and its children, each shared page counted once" {
	local rss pss one
	# a shell and 5 children of the same program: their pages are shared
	bash -c 'for i in 1 2 3 4 5; do sleep 60 & done; wait' &
	TREE_PID=$!
	wait_for "5 children" eval '[ "$(proc_children "$TREE_PID" | wc -l)" = 5 ]'
	read -r rss pss <<< "$(proc_tree_mem_kb "$TREE_PID")"
	read -r one _ <<< "$(proc_tree_mem_kb "$(proc_children "$TREE_PID" | head -n 1)")"
	echo "tree: RSS $rss KiB, PSS $pss KiB; one child's RSS $one KiB"
	# RSS counts the shared pages in each of the 6 processes; PSS once
	(( pss > 0 && rss >= 5 * one && pss < rss )) || expect_eq "0 < PSS < RSS, RSS >= 5 x $one" "$rss $pss" "RSS PSS"
}

@test "proc_tree_switches: every thread's and every child's switches, not only the first thread's" {
	local own sum
	# 4 worker threads, each blocked in epoll_wait, and a tree of 3 sleeping children
	server_up epoll_oneshot -t 4
	wait_for "5 threads" eval '[ "$(proc_tasks "$SERVER_PID")" -ge 5 ]'
	run_expecting 3 tk -x -n 1 -s "$GET"
	own=$(awk '/ctxt_switches:/ { n += $2 } END { print n }' "/proc/$SERVER_PID/status")
	proc_tree_switches "$SERVER_PID"
	sum=$(cat /proc/"$SERVER_PID"/task/*/status | awk '/ctxt_switches:/ { n += $2 } END { print n }')
	echo "first thread $own, proc_tree_switches $PROC_SWITCHES, every thread (read after) $sum"
	# counts only grow: between the first thread's alone before, plus a
	# switch at least for each worker that blocked, and every thread's after
	(( PROC_SWITCHES >= own + 4 && PROC_SWITCHES <= sum )) ||
		expect_eq "between $own + 4 and $sum" "$PROC_SWITCHES" "switches of every thread"
	server_down
	bash -c 'for i in 1 2 3; do sleep 60 & done; wait' &
	TREE_PID=$!
	wait_for "3 children asleep" eval '[ "$(proc_children "$TREE_PID" | wc -l)" = 3 ] && [ "$(for p in $(proc_children "$TREE_PID"); do comm "$p"; done | sort -u)" = sleep ]'
	proc_tree_switches "$TREE_PID"
	own=$(awk '/ctxt_switches:/ { n += $2 } END { print n }' "/proc/$TREE_PID/status")
	(( PROC_SWITCHES >= own + 3 )) || expect_eq "at least $own + 3 (a switch a sleeping child)" "$PROC_SWITCHES" switches
}

@test "proc_tree_cpu: a child reaped during a reading is counted once, not twice or never" {
	plain_build_only "it measures CPU time over 3 s"
	local n=0 last=0 drop=0 worst=0
	# a shell that starts a child spinning 100 ms of CPU, reaps it, and again:
	# each reap moves 100 ms from a child's own fields to the shell's cutime,
	# while the readings below go on back to back. Read as a child and again
	# in the cutime, a child would show as a step up of 100 ms and back down;
	# read in neither, as a step down and back up.
	bash -c 'while :; do bash -c "t=\$((\${EPOCHREALTIME/./} + 100000)); while ((\${EPOCHREALTIME/./} < t)); do :; done"; done' &
	TREE_PID=$!
	while (( n++ < 400 )); do
		proc_tree_cpu "$TREE_PID"
		drop=$(( last - PROC_CPU_NS ))
		(( drop > worst )) && worst=$drop
		last=$PROC_CPU_NS
	done
	echo "400 readings, the tree at $(( last / 1000000 )) ms; largest step down $(( worst / 1000000 )) ms"
	# a step down of up to 20 ms is the rounding of cutime + cstime to ticks
	(( last > 300000000 )) || expect_eq "> 300 ms" "$(( last / 1000000 )) ms" "the tree's CPU time"
	(( worst <= 40000000 )) || expect_eq "<= 40 ms" "$(( worst / 1000000 )) ms" "largest step down between readings"
}

# ---- the server under test ----------------------------------------------------

@test "server_up, server_snapshot, server_down: a real model, its port, its stats lines" {
	server_up epoll_et
	[[ $SERVER_PORT =~ ^[0-9]+$ ]] || expect_eq "a port number" "$SERVER_PORT" SERVER_PORT
	proc_alive "$SERVER_PID"
	run_expecting 3 tk -x -n 1 -s "$GET"
	expect_eq "$RESP" "$output" response
	server_snapshot
	expect_eq 1 "$(field requests "$SERVER_SNAPSHOT")" "requests= at SIGUSR1"
	server_down
	expect_eq "" "$SERVER_PID" "SERVER_PID after server_down"
	expect_eq 1 "$(stat_field requests)" "requests= at exit"
	expect_eq "stats model=epoll_et " "${SERVER_STATS:0:21}" "the stats line"
}

@test "server_down: a server that crashed is reported with its status, and its last stats line" {
	local pid
	server_up epoll_et
	server_snapshot
	pid=$SERVER_PID
	kill -KILL "$SERVER_PID"
	wait_for "the server to die" eval '! proc_alive "$pid"'
	SERVER_STRICT=0 server_down && return 1
	expect_eq "was gone already (exit status 137)" "$SERVER_WHY" SERVER_WHY
	expect_eq "$SERVER_SNAPSHOT" "$SERVER_STATS" "the last stats line, the one of SIGUSR1"
	expect_eq "" "$SERVER_PID" "SERVER_PID after server_down"
}

@test "server_down: a server that ignores SIGTERM is killed after the bound, and fails" {
	plain_build_only "it waits out the 5 s bound"
	server_up epoll_et
	kill -STOP "$SERVER_PID"        # SIGTERM stays pending while it is stopped
	SERVER_STRICT=0 server_down && return 1
	expect_eq "did not exit within 5 s of SIGTERM (killed)" "$SERVER_WHY" SERVER_WHY
}

@test "server_up: a server that exits before listening: status 1, the reason, no SERVER_PID" {
	run server_up epoll_et --no-such-option
	expect_eq 1 "$status" "server_up's status"
	[[ $output == "server_up: epoll_et exited (status "*") before listening; stderr:"* ]] ||
		expect_eq "server_up: epoll_et exited (status N) before listening; stderr: ..." "$output" "server_up's reason"
	server_up epoll_et --no-such-option 2>/dev/null && return 1
	expect_eq "" "$SERVER_PID" SERVER_PID
}

@test "server_up: SERVER_CPU pins the server, SERVER_WRAP runs it under a command" {
	SERVER_CPU=0 SERVER_WRAP="prlimit --nofile=64:64" server_up epoll_et
	expect_eq 0 "$(taskset -pc "$SERVER_PID" | sed 's/.*: //')" "the server's CPUs"
	expect_eq 64 "$(prlimit --pid "$SERVER_PID" --nofile --output SOFT --noheadings | tr -d ' ')" "its descriptor limit"
	# its descriptors are its own: stdin, stdout, stderr, and what it opened,
	# none of bats' or the harness's
	expect_eq "" "$(find /proc/"$SERVER_PID"/fd -lname 'pipe:*' -printf '%f ')" "pipes the server inherited"
}

@test "server_up: the server leads a process group of its own, in the caller's session" {
	server_up epoll_et
	# /proc/PID/stat after "(comm)": state ppid pgrp session
	local -a own ours
	read -r -a own <<<"$(sed 's/.*) //' "/proc/$SERVER_PID/stat")"
	read -r -a ours <<<"$(sed 's/.*) //' "/proc/$BASHPID/stat")"
	expect_eq "$SERVER_PID" "${own[2]}" "the server's process group"
	# a session of its own would be a scheduling group of its own (autogroup)
	expect_eq "${ours[3]}" "${own[3]}" "the server's session"
	# the idle connections' loadgen likewise
	LOADGEN=$BIN/loadgen LOADGEN_CPU=$(taskset -pc $$ | sed 's/.*: //')
	hold_idle 3
	read -r -a own <<<"$(sed 's/.*) //' "/proc/$HPID/stat")"
	expect_eq "$HPID" "${own[2]}" "hold_idle's loadgen's process group"
	expect_eq "${ours[3]}" "${own[3]}" "hold_idle's loadgen's session"
	release_idle
}

@test "nothing the harness, bench, labs or grader start runs under setsid" {
	local r=$BATS_TEST_DIRNAME/..
	# the code, not its comments: start_group (harness/server.bash) instead
	run grep -nE --exclude=harness.bats '^[^#]*\bsetsid\b' "$r"/harness/*.bash "$r"/bench/run "$r"/bench/*.bash \
		"$r"/bench/profile "$r"/bench/vs-* "$r"/labs/*.sh "$r"/labs/*.bash "$r"/labs/serve "$r"/labs/run \
		"$r"/labs/reference "$r"/tests/grade "$r"/tests/run "$r"/tests/*.bats "$r"/tests/*.bash
	expect_eq "" "$output" "setsid in"
}

@test "free_port: a port nothing listens on, that a server can take" {
	local port
	port=$(free_port)
	[[ $port =~ ^[0-9]+$ ]] || expect_eq "a port number" "$port" free_port
	if ( exec 3<>"/dev/tcp/127.0.0.1/$port" ) 2>/dev/null; then
		expect_eq refused accepted "a connection to the free port"
	fi
	server_up epoll_et -p "$port"       # the last -p counts
	expect_eq "$port" "$SERVER_PORT" "the port the server listens on"
}

# ---- the machine's limits ----------------------------------------------------

@test "raise_limits as a normal user: a line for each limit that stops the run, status 1, no sysctl changed" {
	[ "$(id -u)" = 0 ] || skip "runs raise_limits as student1, which needs root to switch to"
	id student1 >/dev/null 2>&1 || skip "no user student1 to run it as"
	local dir before after sysctls="fs.nr_open kernel.threads-max kernel.pid_max vm.max_map_count"
	dir=$(mktemp -d /tmp/c10k-raise.XXXXXX)
	cp -r "$HARNESS_DIR" "$dir/"
	chmod -R a+rX "$dir"
	before=$(sysctl -n $sysctls)
	# 2,000,000 connections in a server of 10,000,000 threads: more than any
	# of these limits allows, and a normal user may raise none of them
	run runuser -u student1 -- bash -c 'source "$1/harness/harness.bash"
		note() { echo "note: $*"; }
		ACTIVE=50 raise_limits 2000000 10000000; echo "status $?"' _ "$dir"
	after=$(sysctl -n $sysctls)
	rm -rf "$dir"
	expect_eq "$before" "$after" "the sysctls after raise_limits as student1"
	local want
	for want in "fs.nr_open is "*", the run needs 2000896: as root, sysctl -w fs.nr_open=2000896" \
		"RLIMIT_NOFILE is "*", 2000000 connections need 2000114: "*"ulimit -n 2000114" \
		"kernel.threads-max is "*"sysctl -w kernel.threads-max=10010000" \
		"kernel.pid_max is "*"sysctl -w kernel.pid_max=4194304" \
		"vm.max_map_count is "*"sysctl -w vm.max_map_count=20065530"; do
		[[ $output == *"note: "$want* ]] || { echo "no line '$want' in: $output" >&2; return 1; }
	done
	[[ $output == *"status 1" ]] || { echo "want status 1: $output" >&2; return 1; }
}
