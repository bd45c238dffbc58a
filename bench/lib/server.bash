# bench/lib/server.bash: the server under test and its idle connections,
# sourced by bench/run (bench/lib/measure.bash uses them).
#
#   nap SECONDS               sleep without starting a process
#   server_start MODEL ARGS   pinned, on a free port: SPID, SPORT
#   server_stop               SIGTERM, then SIGKILL after 5 s
#   catches_usr1              does the server have a SIGUSR1 handler?
#   stats_snapshot            its stats line now, by SIGUSR1, into SNAP
#   nginx_requests            nginx's request count, from stub_status
#   host_ticks                "STEAL TOTAL" ticks of the whole machine
#   hold_idle N, release_idle a second loadgen holding N idle connections
#
# Uses from bench/run: BIN LOADGEN WORK SERVER_CPU LOADGEN_CPU NOFILE ROOT,
# and the PIDS array (stopped on exit).

# A run is a few tenths of a second; on a busy 2-core machine every process
# the bench starts (sleep, grep, sed) costs 5 to 20 ms of it, so the waits
# and readings here use bash builtins. nap sleeps by waiting to read from a
# pipe that never delivers: `read -t` times out, and nothing is forked.
exec {NAP_FD}<> <(:)
nap() { read -r -t "$1" -u "$NAP_FD" _; return 0; }

# ---- the server --------------------------------------------------------------

# server_start MODEL ARGS...: sets SPID and SPORT; 1 if it did not listen in 5 s.
# Under $SERVER_WRAP when set (a command and its options, e.g. strace's):
# then SPID is that command's, the server its child.
server_start() {
	local model=$1; shift
	: > "$WORK/server.out"; : > "$WORK/server.err"
	[ "$model" = nginx ] && { nginx_start "$@"; return; }
	# shellcheck disable=SC2086 # SERVER_WRAP is a command and its options
	setsid taskset -c "$SERVER_CPU" ${SERVER_WRAP:-} "$BIN/$model" -p 0 -q "$@" > "$WORK/server.out" 2> "$WORK/server.err" &
	SPID=$!
	PIDS+=("$SPID")
	local line tries=500
	while (( tries-- > 0 )); do
		read -r line < "$WORK/server.out"
		[[ $line == "listening on "*:* ]] && SPORT=${line##*:} && return 0
		kill -0 "$SPID" 2>/dev/null || break
		nap 0.01
	done
	return 1
}

# nginx_start [-b N] [--root DIR]: one nginx process (master_process off), the
# reference; it serves the files of FILES_DIR always (bench/nginx.conf.in).
nginx_start() {
	local dir="$WORK/nginx" backlog=511
	[ "${1:-}" = -b ] && backlog=$2
	mkdir -p "$dir/logs"
	for _ in 1 2 3 4 5; do
		SPORT=$(( 20000 + RANDOM % 10000 ))
		sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$SPORT|" -e "s|@NOFILE@|$NOFILE|g" \
			-e "s|@BACKLOG@|$backlog|" -e "s|@FILES@|$FILES_DIR|" "$ROOT/bench/nginx.conf.in" > "$dir/nginx.conf"
		setsid taskset -c "$SERVER_CPU" nginx -p "$dir" -c "$dir/nginx.conf" > "$WORK/server.out" 2> "$WORK/server.err" &
		SPID=$!
		PIDS+=("$SPID")
		nap 0.3
		kill -0 "$SPID" 2>/dev/null && return 0
	done
	return 1
}

# nginx_requests: the requests nginx has answered, from its stub_status page
# (bench/nginx.conf.in), asked over bash's /dev/tcp.
nginx_requests() {
	local reply
	reply=$( exec 3<>"/dev/tcp/127.0.0.1/$SPORT" && printf 'GET /c10k-status HTTP/1.0\r\n\r\n' >&3 && timeout 2 cat <&3 ) 2>/dev/null
	awk '/server accepts handled requests/ { getline; print $3; exit }' <<< "$reply"
}

# server_stop: SIGTERM, 5 s, then SIGKILL; the exit's stats line stays in
# server.err. Then up to 10 s more until its children are gone too: fork's
# follow their parent (PR_SET_PDEATHSIG), and 5,000 of them exiting on the
# server's CPU would otherwise be part of the next run's measurement. They
# are in the server's process group (setsid made it the leader), which
# kill -0 asks about.
server_stop() {
	[ -z "${SPID:-}" ] && return
	local tries=500
	kill -TERM "$SPID" 2>/dev/null
	while (( tries-- > 0 )) && kill -0 "$SPID" 2>/dev/null; do nap 0.01; done
	kill -KILL "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	forget_pid "$SPID"
	tries=1000
	while (( tries-- > 0 )) && kill -0 -- -"$SPID" 2>/dev/null; do nap 0.01; done
	SPID=""
}

# catches_usr1: true if the server has a handler for SIGUSR1 (bit 10 of
# SigCgt). Without one, SIGUSR1 would kill it: its default action is to exit.
catches_usr1() {
	local name mask=""
	while read -r name mask; do [ "$name" = SigCgt: ] && break; done 2>/dev/null < "/proc/$SPID/status"
	[ -n "$mask" ] && (( (16#$mask >> 9) & 1 ))
}

# stats_scan: STATS_N, the stats lines in server.err so far, and STATS_LAST.
stats_scan() {
	local line
	STATS_N=0 STATS_LAST=""
	while IFS= read -r line; do
		[[ $line == "stats "* ]] && STATS_N=$((STATS_N + 1)) STATS_LAST=$line
	done < "$WORK/server.err"
}

# stats_snapshot: SNAP, the server's stats line now (SIGUSR1, up to 1 s), or "".
stats_snapshot() {
	local before tries=200
	SNAP=""
	stats_scan
	before=$STATS_N
	kill -USR1 "$SPID" 2>/dev/null || return 0
	while (( tries-- > 0 )); do
		stats_scan
		[ "$STATS_N" -gt "$before" ] && { SNAP=$STATS_LAST; return 0; }
		nap 0.005
	done
}

# host_ticks: HOST_STEAL and HOST_TOTAL, ticks of the whole machine from the
# cpu line of /proc/stat (user nice system idle iowait irq softirq steal ...).
host_ticks() {
	local t=() v
	read -r -a t < /proc/stat       # t[0] is "cpu"
	HOST_STEAL=${t[8]:-0} HOST_TOTAL=0
	for v in "${t[@]:1}"; do HOST_TOTAL=$((HOST_TOTAL + v)); done
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
	base=$(proc_sockets "$SPID")
	HOLD_BASE=$base
	setsid taskset -c "$LOADGEN_CPU" "$LOADGEN" -c 0 --idle "$n" -d 86400 --timeout 3000 --format csv \
		--tolerate "http://127.0.0.1:$SPORT/" > /dev/null 2> "$WORK/holder.err" &
	HPID=$!
	PIDS+=("$HPID")
	last=$base
	# Counted every 50 ms, or less often when one count takes longer: with
	# 10,000 connections it reads 10,000 descriptors (and, of threads, 10,000
	# children files) on the CPU the holder opens its connections on, and
	# counting back to back would slow the holder down. Times in µs.
	while printf -v dt '0.%06d' "$step" && nap "$dt"; do
		t0=${EPOCHREALTIME/./}
		have=$(proc_sockets "$SPID")
		us=$(( ${EPOCHREALTIME/./} - t0 ))
		[ "$have" -ge $((base + n)) ] && return 0
		waited=$((waited + step + us))
		if [ "$have" -gt "$last" ]; then stalled=0 last=$have; else stalled=$((stalled + step + us)); fi
		# after 2 s, a server taking them too slowly to have them all in
		# the limit is given up on at once
		if [ $stalled -ge 1500000 ] || [ $waited -ge $limit ] || ! kill -0 "$SPID" 2>/dev/null ||
			{ [ $waited -ge 2000000 ] && [ $(( (have - base) * limit )) -lt $(( n * waited )) ]; }; then
			HOLD_WHY="server accepted $((have - base)) of $n idle connections"
			if [ $stalled -ge 1500000 ]; then HOLD_WHY+=" (then none for $((stalled / 1000)) ms)"
			else HOLD_WHY+=" in $((waited / 1000000)) s (too slow for the limit of $((limit / 1000000)) s)"; fi
			return 1
		fi
		step=$(( us > 50000 ? (us < 500000 ? us : 500000) : 50000 ))
	done
}

release_idle() {
	[ -z "${HPID:-}" ] && return
	local tries=1000
	kill -TERM "$HPID" 2>/dev/null
	while (( tries-- > 0 )) && kill -0 "$HPID" 2>/dev/null; do nap 0.01; done
	kill -KILL "$HPID" 2>/dev/null
	wait "$HPID" 2>/dev/null
	forget_pid "$HPID"
	HPID=""
}

