# harness/server.bash: the server under test, started, read and stopped the
# same way by the bench, the labs and the tests; and idle connections held
# open to it. Sourced by harness/harness.bash (after harness/proc.bash).
#
#   nap SECONDS             sleeps without starting a process
#   server_up MODEL [ARGS]  "$BIN/MODEL" -p 0 ARGS in a process group of its own; sets
#                           SERVER_PID SERVER_PORT SERVER_OUT SERVER_ERR; status 1,
#                           the reason on stderr, when it prints no "listening on"
#   server_down             SIGTERM, wait, SIGKILL after a bound; sets SERVER_STATS
#                           (the last stats line); non-zero, SERVER_WHY saying why,
#                           if it was gone already, hung, or exited non-zero
#   server_snapshot         SIGUSR1; sets SERVER_SNAPSHOT to the new stats line
#   catches_usr1            true if the server has a SIGUSR1 handler
#   wait_exit PID [SECONDS] waits for a signalled child; its exit status
#   start_group CMD [ARGS]  CMD in the background, leading a process group of its
#                           own in the caller's session (not setsid); sets GROUP_PID
#   close_inherited_fds     closes descriptors above 2 (in a child, before exec)
#   free_port               prints a TCP port of 127.0.0.1 that is free now
#   hold_idle N             a second loadgen holds N idle connections; release_idle
#   forget_pid PID          PID was waited for: out of PIDS
#   stop_all                ends every process still in PIDS (for an exit trap)
#
# Every function here is safe under `set -e` (bats runs its tests so): a
# command that may fail is tested or followed by `|| :`.
#
# What the caller sets (the bench and the labs set the first ones; the tests
# the options in tests/suite.bash):
#   BIN               the directory of the binaries
#   SERVER_DIR        where SERVER_OUT and SERVER_ERR are written (default $WORK)
#   SERVER_CPU        CPUs to pin the server to (taskset -c), when set
#   SERVER_WRAP       a command to run it under, when set ("prlimit --nofile=64")
#   SERVER_NAME       what messages call the server (default MODEL: the grader
#                     gives the student's file name, not the model it is held to)
#   SERVER_LEAKS=1    LeakSanitizer on in the server (the ASan build)
#   SERVER_STRICT=1   server_down also fails when there is no stats line or a
#                     sanitizer reported, and shows the server's stderr on failure
#   TIME_SCALE        multiplies every bound here (sanitized servers are slower)
#   PIDS              what is started here is added to this array, for stop_all;
#                     hold_idle uses LOADGEN and LOADGEN_CPU too

# A run is a few tenths of a second; on a busy 2-core machine every process
# the bench starts (sleep, grep, sed) costs 5 to 20 ms of it, so the waits
# and readings here use bash builtins. nap sleeps by waiting to read from a
# pipe that never delivers: `read -t` times out, and nothing is forked.
exec {NAP_FD}<> <(:)
nap() { read -r -t "$1" -u "$NAP_FD" _ || return 0; }

PIDS=()

# usec_now: USEC_NOW, the time in microseconds (a builtin clock for bounds).
usec_now() { USEC_NOW=${EPOCHREALTIME/./}; }

# ---- the server --------------------------------------------------------------

# server_up MODEL [ARGS...]: starts "$BIN/MODEL" -p 0 ARGS with new files for
# its stdout and stderr, and waits (5 s, scaled) for its "listening on
# 127.0.0.1:PORT" line. Status 1 with the reason and its stderr on stderr when
# it exits first (SERVER_PID is then empty) or stays silent (it is left
# running, for server_down).
server_up() {
	local model=$1 line="" why="" rc deadline
	shift
	SERVER_MODEL=$model SERVER_PID="" SERVER_PORT="" SERVER_STATS="" SERVER_SNAPSHOT=""
	# new files for each start: a restarted server must not be taken for
	# the previous one, whose "listening on" line is still in the old file
	SERVER_STARTS=$(( ${SERVER_STARTS:-0} + 1 ))
	SERVER_OUT=${SERVER_DIR:-$WORK}/server.$SERVER_STARTS.out
	SERVER_ERR=${SERVER_DIR:-$WORK}/server.$SERVER_STARTS.err
	: > "$SERVER_OUT" && : > "$SERVER_ERR" || return 1
	if [ ! -x "$BIN/$model" ]; then
		echo "server_up: $BIN/$model is not built" >&2
		return 1
	fi
	start_group server_exec "$model" "$@"
	SERVER_PID=$GROUP_PID
	PIDS+=("$SERVER_PID")
	usec_now
	deadline=$(( USEC_NOW + 5000000 * ${TIME_SCALE:-1} ))
	# the line is complete when read finds its newline
	until { read -r line < "$SERVER_OUT"; } 2>/dev/null && [[ $line == "listening on "*:* ]]; do
		if ! proc_alive "$SERVER_PID"; then
			wait "$SERVER_PID" && rc=0 || rc=$?
			why="exited (status $rc) before listening"
			forget_pid "$SERVER_PID"
			SERVER_PID=""
			break
		fi
		usec_now
		(( USEC_NOW < deadline )) || { why="printed no 'listening on' line within $((5 * ${TIME_SCALE:-1})) s"; break; }
		nap 0.01
	done
	if [ -n "$why" ]; then
		echo "server_up: ${SERVER_NAME:-$model} $why; stderr:" >&2
		head -c 2000 "$SERVER_ERR" >&2
		return 1
	fi
	SERVER_PORT=${line##*:}
}

# start_group CMD [ARGS...]: runs CMD in the background as the leader of a
# process group of its own, in the caller's session; GROUP_PID is its PID
# (and the group's ID). A Ctrl-C at the terminal then reaches only the
# caller, whose trap stops the group, and what CMD forks stays in the group.
# Not setsid: with kernel.sched_autogroup_enabled (the default of Debian
# and Ubuntu) a new session is also a new scheduling group, and on a busy
# machine the kernel left such a group waiting for over a second while the
# caller's session ran; a test's answers stopped for as long. In the
# caller's session a server competes as its load generator does.
start_group() {
	# job control on for one job: bash gives it a process group of its own
	set -m
	"$@" &
	GROUP_PID=$!
	set +m
}

# server_exec MODEL ARGS: run in the background (start_group), it becomes
# the server, leading its process group: the server's children are that
# group.
server_exec() {
	local cmd=() wrap=()
	close_inherited_fds
	[ "${SERVER_LEAKS:-0}" = 1 ] && export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1
	[ -n "${SERVER_CPU:-}" ] && cmd+=(taskset -c "$SERVER_CPU")
	read -r -a wrap <<< "${SERVER_WRAP:-}"
	exec "${cmd[@]}" "${wrap[@]}" "$BIN/$1" -p 0 "${@:2}" > "$SERVER_OUT" 2> "$SERVER_ERR" < /dev/null
}

# close_inherited_fds: closes every descriptor above 2 in this (sub)shell,
# before it becomes a server or a client. bats keeps several open (its TAP
# pipe, logs; the harness its nap pipe): a background process holding bats'
# pipe makes bats wait for it forever, and a server's descriptor numbers
# must not depend on who started it (select's FD_SETSIZE test counts on them).
close_inherited_fds() {
	local path fd
	for path in /proc/"$BASHPID"/fd/*; do
		fd=${path##*/}
		(( fd > 2 )) && { exec {fd}>&-; } 2>/dev/null
	done
	return 0
}

# server_down: SIGTERM, then waits (5 s, scaled) for the exit, SIGKILL after
# that; then up to 10 s more until its children are gone too: fork's follow
# their parent (PR_SET_PDEATHSIG), and 5,000 of them exiting on the server's
# CPU would otherwise be part of the next run's measurement. They are in the
# server's process group (server_up made it the leader), which kill -0 asks
# about. SERVER_STATS is then the last stats line of its stderr. Status 1,
# SERVER_WHY saying why, when it was gone before the SIGTERM (it crashed),
# hung, or exited non-zero; 0 when there was no server.
server_down() {
	local pid=${SERVER_PID:-} rc=0 deadline
	SERVER_WHY="" SERVER_PID=""
	[ -n "$pid" ] || return 0
	if ! proc_alive "$pid"; then
		wait "$pid" && rc=0 || rc=$?
		SERVER_WHY="was gone already (exit status $rc)"
		[ "$rc" = 0 ] && rc=1
	elif kill -TERM "$pid" 2>/dev/null; wait_exit "$pid"; then
		rc=0
	else
		rc=$?
		SERVER_WHY="exited with status $rc after SIGTERM"
		[ "$rc" = 125 ] && SERVER_WHY="did not exit within $((5 * ${TIME_SCALE:-1})) s of SIGTERM (killed)"
	fi
	forget_pid "$pid"
	usec_now
	deadline=$(( USEC_NOW + 10000000 * ${TIME_SCALE:-1} ))
	while kill -0 -- -"$pid" 2>/dev/null && usec_now && (( USEC_NOW < deadline )); do nap 0.01; done
	stats_scan
	SERVER_STATS=$STATS_LAST
	[ "${SERVER_STRICT:-0}" = 1 ] || return $(( rc != 0 ))
	# UBSan reports and goes on (exit 0) unless told otherwise: look too
	if [ "$rc" = 0 ] && [ -z "$SERVER_STATS" ]; then
		SERVER_WHY="printed no stats line" rc=1
	elif [ "$rc" = 0 ] && grep -qE 'runtime error:|Sanitizer' "$SERVER_ERR"; then
		SERVER_WHY="exited 0, but a sanitizer reported" rc=1
	fi
	# LeakSanitizer's report is long and its first lines say little: say what
	# it usually means in a student's loop first
	if [ "$rc" != 0 ] && grep -q 'LeakSanitizer: detected memory leaks' "$SERVER_ERR"; then
		SERVER_WHY="leaked memory at exit (LeakSanitizer): a block it allocated was reachable"
		SERVER_WHY+=" from nothing; usually a struct conn ended without conn_close(), or one"
		SERVER_WHY+=" known only to epoll's data.ptr, a copy in the kernel that LeakSanitizer"
		SERVER_WHY+=" cannot see: keep every open connection on a list (by_activity)"
	fi
	[ "$rc" = 0 ] && return 0
	echo "server_down: ${SERVER_NAME:-$SERVER_MODEL} (pid $pid) $SERVER_WHY; stderr:" >&2
	cat "$SERVER_ERR" >&2
	return 1
}

# wait_exit PID [SECONDS]: waits (5 s by default, scaled) for a child that
# was sent a signal to exit, and returns its exit status; SIGKILLs it and
# returns 125 when it does not. (A plain `wait` would hang on a process that
# ignores signals.)
wait_exit() {
	local pid=$1 deadline
	usec_now
	deadline=$(( USEC_NOW + ${2:-5} * 1000000 * ${TIME_SCALE:-1} ))
	while proc_alive "$pid"; do
		usec_now
		if (( USEC_NOW >= deadline )); then
			kill -KILL "$pid" 2>/dev/null || :
			wait "$pid" 2>/dev/null || :
			return 125
		fi
		nap 0.01
	done
	wait "$pid"
}

# stats_scan: STATS_N, the complete stats lines in SERVER_ERR so far, and
# STATS_LAST, the last of them. (read fails on a line without its newline
# yet: a line being written is not counted.)
stats_scan() {
	local line
	STATS_N=0 STATS_LAST=""
	while IFS= read -r line; do
		[[ $line == "stats model="* ]] && STATS_N=$((STATS_N + 1)) STATS_LAST=$line
	done 2>/dev/null < "$SERVER_ERR"
}

# server_snapshot: sends SIGUSR1 and waits (5 s, scaled) for one more stats
# line on the server's stderr; sets SERVER_SNAPSHOT to it. The server goes
# on. Status 1, the reason on stderr and SERVER_SNAPSHOT empty, when no line
# came or the server died of the signal.
server_snapshot() {
	local before deadline
	SERVER_SNAPSHOT=""
	stats_scan
	before=$STATS_N
	usec_now
	deadline=$(( USEC_NOW + 5000000 * ${TIME_SCALE:-1} ))
	kill -USR1 "${SERVER_PID:-}" 2>/dev/null || { echo "server_snapshot: no server running" >&2; return 1; }
	while stats_scan; (( STATS_N <= before )); do
		usec_now
		if (( USEC_NOW >= deadline )) || ! proc_alive "$SERVER_PID"; then
			echo "server_snapshot: no stats line after SIGUSR1 (within $((5 * ${TIME_SCALE:-1})) s," \
			     "or the server died of it)" >&2
			return 1
		fi
		nap 0.005
	done
	SERVER_SNAPSHOT=$STATS_LAST
}

# catches_usr1: true if the server has a handler for SIGUSR1 (bit 10 of
# SigCgt). Without one, SIGUSR1 would kill it: its default action is to exit.
catches_usr1() {
	local name mask=""
	while read -r name mask; do [ "$name" = SigCgt: ] && break; done 2>/dev/null < "/proc/$SERVER_PID/status"
	[ -n "$mask" ] && (( (16#$mask >> 9) & 1 ))
}

# free_port: prints a TCP port of 127.0.0.1 that is free now. It binds port
# 0 (the kernel picks a free port), prints the number and closes; another
# program could take the port before the caller binds it, which is rare.
# perl, not python: perl-base is on every Debian and Ubuntu system.
free_port() {
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Proto => "tcp")
			or die "free_port: $!\n";
		print $s->sockport, "\n";'
}

# forget_pid PID: a process that was waited for leaves PIDS: its number may
# soon be another's.
forget_pid() {
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# stop_all: ends every process still in PIDS: SIGCONT (a lab may have
# stopped one), SIGTERM, up to 2 s for them to end, then SIGKILL.
stop_all() {
	local pid deadline
	for pid in "${PIDS[@]}"; do kill -CONT "$pid" 2>/dev/null || :; kill -TERM "$pid" 2>/dev/null || :; done
	usec_now
	deadline=$(( USEC_NOW + 2000000 ))
	for pid in "${PIDS[@]}"; do
		while proc_alive "$pid" && usec_now && (( USEC_NOW < deadline )); do nap 0.01; done
		kill -KILL "$pid" 2>/dev/null || :
		wait "$pid" 2>/dev/null || :
	done
	PIDS=()
}

# ---- idle connections --------------------------------------------------------

# hold_idle N: a second loadgen (HPID) opens N idle connections; returns once
# the server holds them all (it counts the sockets of the server and its
# children), or 1 with HOLD_WHY when it stops taking them for 1.5 s, or has
# not taken them all in 2 s + 1 ms per connection (12 s for 10,000: fork
# took over a minute for 7,000 processes, the event loops take a second),
# or, from 2 s on, takes them too slowly to make that limit.
hold_idle() {
	local n=$1 base have last t0 us dt step=50000 stalled=0 waited=0 limit=$((2000000 + $1 * 1000))
	base=$(proc_sockets "$SERVER_PID")
	HOLD_BASE=$base
	start_group taskset -c "$LOADGEN_CPU" "$LOADGEN" -c 0 --idle "$n" -d 86400 --timeout 3000 --format csv \
		--tolerate "http://127.0.0.1:$SERVER_PORT/" > /dev/null 2> "${SERVER_DIR:-$WORK}/holder.err"
	HPID=$GROUP_PID
	PIDS+=("$HPID")
	last=$base
	# Counted every 50 ms, or less often when one count takes longer: with
	# 10,000 connections it reads 10,000 descriptors (and, of threads, 10,000
	# children files) on the CPU the holder opens its connections on, and
	# counting back to back would slow the holder down. Times in µs.
	while printf -v dt '0.%06d' "$step" && nap "$dt"; do
		t0=${EPOCHREALTIME/./}
		have=$(proc_sockets "$SERVER_PID")
		us=$(( ${EPOCHREALTIME/./} - t0 ))
		[ "$have" -ge $((base + n)) ] && return 0
		waited=$((waited + step + us))
		if [ "$have" -gt "$last" ]; then stalled=0 last=$have; else stalled=$((stalled + step + us)); fi
		# after 2 s, a server taking them too slowly to have them all in
		# the limit is given up on at once
		if [ $stalled -ge 1500000 ] || [ $waited -ge $limit ] || ! kill -0 "$SERVER_PID" 2>/dev/null ||
			{ [ $waited -ge 2000000 ] && [ $(( (have - base) * limit )) -lt $(( n * waited )) ]; }; then
			HOLD_WHY="server accepted $((have - base)) of $n idle connections"
			if [ $stalled -ge 1500000 ]; then HOLD_WHY+=" (then none for $((stalled / 1000)) ms)"
			else HOLD_WHY+=" in $((waited / 1000000)) s (too slow for the limit of $((limit / 1000000)) s)"; fi
			return 1
		fi
		step=$(( us > 50000 ? (us < 500000 ? us : 500000) : 50000 ))
	done
}

# release_idle: ends hold_idle's loadgen, and its connections.
release_idle() {
	[ -z "${HPID:-}" ] && return
	local tries=1000
	kill -TERM "$HPID" 2>/dev/null || :
	while (( tries-- > 0 )) && kill -0 "$HPID" 2>/dev/null; do nap 0.01; done
	kill -KILL "$HPID" 2>/dev/null || :
	wait "$HPID" 2>/dev/null || :
	forget_pid "$HPID"
	HPID=""
}

