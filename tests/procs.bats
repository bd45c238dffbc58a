#!/usr/bin/env bats
#
# What bin/fork and bin/reuseport promise beyond the shared suites:
# fork reaps every child, limits them with --max-conns, counts across its
# processes and takes its children with it when it stops; reuseport opens one
# listening socket per loop on one port and the kernel spreads connections
# over them, which its per-loop counters show. And the readings of a process
# tree in lib/proc.bash that the bench measures them with. Runs once, not per
# model.

load lib

teardown() {
	teardown_server
	# the tree of a /proc test: its children, then itself
	if [ -n "${TREE_PID:-}" ]; then
		kill -KILL $(child_pids "$TREE_PID") "$TREE_PID" 2>/dev/null || true
		wait "$TREE_PID" 2>/dev/null || true    # reaped, without the shell's "Killed"
	fi
}

# loadgen_csv ARGS: bin/loadgen against the server, one CSV row (no header).
loadgen_csv() {
	timeout "$(secs 60)" "$BIN/loadgen" --timeout "$(ms 5000)" --format csv --header "$@" \
		"http://127.0.0.1:$PORT/"
}

# Seen under ThreadSanitizer: fork's SIGCHLD handler runs late (4 zombies
# still there after 20 s), and fork has no threads for TSan to check anyway.
skip_fork_under_tsan() {
	[ "${TSAN:-}" != 1 ] || skip "under ThreadSanitizer SIGCHLD is handled late; fork has no threads to check"
}

# zombies PID: how many of its children are zombies (exited, not waited for).
zombies() {
	local pid n=0
	for pid in $(child_pids "$1"); do
		[ "$(stat_of "$pid")" = Z ] && n=$(( n + 1 ))
	done
	echo "$n"
}

# wait_children PID N: waits (5 s, scaled) until PID has N children; prints it.
wait_children() {
	local tries=$(( $(secs 5) * 50 )) n
	while n=$(child_pids "$1" | wc -l); (( n != $2 && tries-- > 0 )); do
		sleep 0.02
	done
	echo "$n"
	(( n == $2 ))
}

# gone PIDS: true when none of them is alive (a zombie left to another
# parent, such as a container's init that does not reap, is not alive).
gone() {
	local pid
	for pid in "$@"; do
		[ -d "/proc/$pid" ] && [ "$(stat_of "$pid")" != Z ] && return 1
	done
	return 0
}

# wait_gone PIDS: waits (5 s, scaled) until none of them is alive.
wait_gone() {
	local tries=$(( $(secs 5) * 50 ))
	until gone "$@"; do
		(( tries-- > 0 )) || { echo "still alive: $*" >&2; return 1; }
		sleep 0.02
	done
}

# ---- fork --------------------------------------------------------------------

@test "fork: 200 connections opened and closed leave no zombie, and the counts agree" {
	skip_fork_under_tsan
	local row requests
	start_server fork
	row=$(loadgen_csv --close -c 10 -n 200)
	echo "$row"
	requests=$(csv_field requests "$row")
	expect_eq 200 "$requests" "requests loadgen counted"
	# every child ends after its connection; a child not reaped stays a zombie
	run wait_children "$SERVER_PID" 0
	expect_eq 0 "$(zombies "$SERVER_PID")" "zombie children"
	expect_eq 0 "$output" "children left"
	stop_server
	expect_eq "$requests" "$(stat_field requests)" "server's requests= (counted in the children)"
	expect_eq 200 "$(stat_field accepted)" "server's accepted="
}

@test "fork: keep-alive requests counted in the children reach the stats line" {
	skip_fork_under_tsan
	local row counted served
	start_server fork
	row=$(loadgen_csv -c 10 -d 1)
	echo "$row"
	counted=$(csv_field requests "$row")
	stop_server
	# loadgen stops counting at the deadline: answers still in flight then (at
	# most one per connection) were served but not counted
	served=$(stat_field requests)
	(( counted > 0 && served >= counted && served <= counted + 10 )) ||
		expect_eq "$counted .. $(( counted + 10 ))" "$served" "server's requests= (counted in the children)"
	expect_eq 10 "$(stat_field accepted)" "server's accepted="
}

@test "fork: --max-conns 5: 5 children, 503 beyond, served again when they end" {
	skip_fork_under_tsan
	start_server fork --max-conns 5
	tk_bg -I 5 -S "$(secs 4)"
	run wait_children "$SERVER_PID" 5
	expect_eq 5 "$output" "children holding the idle connections"
	run tk -C 3 -s "$GET"
	expect_eq "conns=3 200=0 503=3 other=0 none=0" "$output" "answers past the limit"
	expect_eq 5 "$(child_pids "$SERVER_PID" | wc -l)" "children after the refusals"
	stop_background
	run wait_children "$SERVER_PID" 0
	run_expecting 3 tk -x -n 1 -s "$GET"
	expect_eq "$RESP" "$output" "answer below the limit"
	stop_server
	expect_eq 3 "$(stat_field refused)" refused=
	expect_eq 5 "$(stat_field peak)" peak=
}

@test "fork: a child killed by a signal is counted closed: --max-conns is not worn down" {
	skip_fork_under_tsan
	local victim
	start_server fork --max-conns 2
	tk_bg -I 2 -S "$(secs 4)"
	run wait_children "$SERVER_PID" 2
	expect_eq 2 "$output" "children"
	victim=$(child_pids "$SERVER_PID" | head -n 1)
	kill -KILL "$victim"
	run wait_children "$SERVER_PID" 1
	expect_eq 1 "$output" "children after one was killed"
	# one place free again: a server that never counted the killed one closed
	# would refuse this with 503
	run_expecting 3 tk -x -n 1 -s "$GET"
	expect_eq "$RESP" "$output" "answer after the kill"
}

@test "fork: SIGTERM to the parent ends every child" {
	skip_fork_under_tsan
	local children
	start_server fork
	tk_bg -I 5 -S "$(secs 10)"
	run wait_children "$SERVER_PID" 5
	expect_eq 5 "$output" "children"
	children=$(child_pids "$SERVER_PID")
	stop_server
	wait_gone $children
}

@test "fork: SIGKILL to the parent ends every child too (PR_SET_PDEATHSIG)" {
	skip_fork_under_tsan
	local children pid
	start_server fork
	tk_bg -I 3 -S "$(secs 10)"
	run wait_children "$SERVER_PID" 3
	expect_eq 3 "$output" "children"
	children=$(child_pids "$SERVER_PID")
	pid=$SERVER_PID
	SERVER_PID=
	kill -KILL "$pid"
	wait "$pid" || true
	wait_gone $children
}

# ---- reuseport -----------------------------------------------------------------

# listeners PORT: sockets listening on 127.0.0.1:PORT (state 0A in /proc/net/tcp).
listeners() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v want="0100007F:$hex" '$2 == want && $4 == "0A"' /proc/net/tcp | wc -l
}

@test "reuseport -t 3 -p 0: three sockets listen on the one port printed" {
	start_server reuseport -t 3
	expect_eq 3 "$(listeners "$PORT")" "listening sockets on $PORT"
	run_expecting 3 tk -x -n 1 -s "$GET"
	expect_eq "$RESP" "$output" response
}

@test "reuseport -t 2: 100 connections spread over both loops (Jain's index >= 0.9)" {
	local a b jain
	start_server reuseport -t 2
	run_expecting 0 loadgen_csv --close -c 10 -n 100
	stop_server
	echo "$STATS"
	a=$(stat_field loop0_accepted)
	b=$(stat_field loop1_accepted)
	expect_eq "$(stat_field accepted)" "$(( a + b ))" "loop0_accepted + loop1_accepted vs accepted="
	expect_eq 100 "$(stat_field accepted)" accepted=
	# Jain's index: (sum x)^2 / (n * sum x^2); 1 is even, 1/n is all on one.
	# By a hash of random source ports, 100 split 50/50 give or take a few;
	# 0.9 fails a split worse than 34/66, about once in a thousand runs.
	jain=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", (a + b)^2 / (2 * (a^2 + b^2)) }')
	echo "loop0=$a loop1=$b jain=$jain"
	(( a > 0 && b > 0 )) || expect_eq "both > 0" "$a, $b" "per-loop accepted"
	awk -v j="$jain" 'BEGIN { exit !(j >= 0.9) }' || expect_eq ">= 0.9" "$jain" "Jain's index"
}

# ---- the CPU time and memory of a process tree (lib/proc.bash) ----------------

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
no_children() { [ -z "$(child_pids "$1")" ]; }

@test "proc_tree_cpu: a busy child still alive is counted, and counted once after it is reaped" {
	local stop="$BATS_TEST_TMPDIR/stop" child a own b
	# a shell whose child spins until $stop exists, then sleeps (its CPU time
	# stops moving); the shell waits for the child, then sleeps too
	bash -c 'bash -c "while [ ! -e $0 ]; do :; done; exec sleep 60" "$0" & wait; exec sleep 60' "$stop" &
	TREE_PID=$!
	wait_for "300 ms of CPU in the tree" cpu_at_least "$TREE_PID" 300
	child=$(child_pids "$TREE_PID")
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
	wait_for "5 children" eval '[ "$(child_pids "$TREE_PID" | wc -l)" = 5 ]'
	read -r rss pss <<< "$(proc_tree_mem_kb "$TREE_PID")"
	read -r one _ <<< "$(proc_tree_mem_kb "$(child_pids "$TREE_PID" | head -n 1)")"
	echo "tree: RSS $rss KiB, PSS $pss KiB; one child's RSS $one KiB"
	# RSS counts the shared pages in each of the 6 processes; PSS once
	(( pss > 0 && rss >= 5 * one && pss < rss )) || expect_eq "0 < PSS < RSS, RSS >= 5 x $one" "$rss $pss" "RSS PSS"
}
