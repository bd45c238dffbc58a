# bench/lib/server.bash: the server under test and its idle connections,
# sourced by bench/run (bench/lib/measure.bash uses them).
#
#   server_start MODEL ARGS   pinned, on a free port: SPID, SPORT
#   server_stop               SIGTERM, then SIGKILL after 5 s
#   catches_usr1              does the server have a SIGUSR1 handler?
#   stats_snapshot            its stats line now, by SIGUSR1
#   nginx_requests            nginx's request count, from stub_status
#   host_ticks                "STEAL TOTAL" ticks of the whole machine
#   hold_idle N, release_idle a second loadgen holding N idle connections
#
# Uses from bench/run: BIN LOADGEN WORK SERVER_CPU LOADGEN_CPU NOFILE ROOT,
# and the PIDS array (stopped on exit).

# ---- the server --------------------------------------------------------------

# server_start MODEL ARGS...: sets SPID and SPORT; 1 if it did not listen in 5 s.
server_start() {
	local model=$1; shift
	: > "$WORK/server.out"; : > "$WORK/server.err"
	[ "$model" = nginx ] && { nginx_start "$@"; return; }
	setsid taskset -c "$SERVER_CPU" "$BIN/$model" -p 0 -q "$@" > "$WORK/server.out" 2> "$WORK/server.err" &
	SPID=$!
	PIDS+=("$SPID")
	local line tries=250
	while (( tries-- > 0 )); do
		read -r line < "$WORK/server.out"
		[[ $line == "listening on "*:* ]] && SPORT=${line##*:} && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.02
	done
	return 1
}

# nginx_start [-b N]: one nginx process (master_process off), the reference.
nginx_start() {
	local dir="$WORK/nginx" backlog=511
	[ "${1:-}" = -b ] && backlog=$2
	mkdir -p "$dir/logs"
	for _ in 1 2 3 4 5; do
		SPORT=$(( 20000 + RANDOM % 10000 ))
		sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$SPORT|" -e "s|@NOFILE@|$NOFILE|g" \
			-e "s|@BACKLOG@|$backlog|" "$ROOT/bench/nginx.conf.in" > "$dir/nginx.conf"
		setsid taskset -c "$SERVER_CPU" nginx -p "$dir" -c "$dir/nginx.conf" > "$WORK/server.out" 2> "$WORK/server.err" &
		SPID=$!
		PIDS+=("$SPID")
		sleep 0.3
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

# server_stop: SIGTERM, 5 s, then SIGKILL; the exit's stats line stays in server.err.
server_stop() {
	[ -z "${SPID:-}" ] && return
	kill -TERM "$SPID" 2>/dev/null
	for _ in $(seq 250); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.02; done
	kill -KILL "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	forget_pid "$SPID"
	SPID=""
}

# catches_usr1: true if the server has a handler for SIGUSR1 (bit 10 of
# SigCgt). Without one, SIGUSR1 would kill it: its default action is to exit.
catches_usr1() {
	local mask
	mask=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$SPID/status" 2>/dev/null)
	[ -n "$mask" ] && (( (16#$mask >> 9) & 1 ))
}

# stats_snapshot: the server's stats line now (SIGUSR1, up to 1 s), or nothing.
stats_snapshot() {
	local before
	before=$(grep -c '^stats ' "$WORK/server.err")
	kill -USR1 "$SPID" 2>/dev/null || return 0
	for _ in $(seq 100); do
		if [ "$(grep -c '^stats ' "$WORK/server.err")" -gt "$before" ]; then
			grep '^stats ' "$WORK/server.err" | tail -1
			return
		fi
		sleep 0.01
	done
}

# host_ticks: "STEAL TOTAL" from the cpu line of /proc/stat, all CPUs.
host_ticks() {
	awk '$1 == "cpu" { for (i = 2; i <= NF; i++) t += $i; print $9, t; exit }' /proc/stat
}

# ---- idle connections --------------------------------------------------------

# hold_idle N: a second loadgen (HPID) opens N idle connections; returns once
# the server holds them all (it counts the sockets of the server and its
# children), or 1 with HOLD_WHY when it stops taking them for 1.5 s.
hold_idle() {
	local n=$1 base have last stall=0 waited=0
	base=$(proc_sockets "$SPID")
	HOLD_BASE=$base
	setsid taskset -c "$LOADGEN_CPU" "$LOADGEN" -c 0 --idle "$n" -d 86400 --timeout 3000 --format csv \
		--tolerate "http://127.0.0.1:$SPORT/" > /dev/null 2> "$WORK/holder.err" &
	HPID=$!
	PIDS+=("$HPID")
	last=$base
	while sleep 0.1; do
		have=$(proc_sockets "$SPID")
		[ "$have" -ge $((base + n)) ] && return 0
		waited=$((waited + 1))
		if [ "$have" -gt "$last" ]; then stall=0 last=$have; else stall=$((stall + 1)); fi
		if [ $stall -ge 15 ] || [ $waited -ge 600 ] || ! kill -0 "$SPID" 2>/dev/null; then
			HOLD_WHY="server accepted $((have - base)) of $n idle connections (then none for ${stall}00 ms)"
			return 1
		fi
	done
}

release_idle() {
	[ -z "${HPID:-}" ] && return
	kill -TERM "$HPID" 2>/dev/null
	for _ in $(seq 500); do kill -0 "$HPID" 2>/dev/null || break; sleep 0.02; done
	kill -KILL "$HPID" 2>/dev/null
	wait "$HPID" 2>/dev/null
	forget_pid "$HPID"
	HPID=""
}

