#!/usr/bin/env bash
# labs/lab7.sh: lab 7, measuring a server honestly (docs/labs/7-measuring.md).
# Run it with `make lab N=7`.
#
#   1. loops.txt/csv/png: closed loop against open loop (loadgen --rate)
#      while the server stalls now and then (this script stops it with
#      SIGSTOP for 100 ms every half second): coordinated omission in the p99
#   2. noise.txt: the A/A control, the same point measured several times
#   3. bottleneck.txt: loadgen with one thread on one CPU against the
#      server's CPU use: which side limits the figure?
#   4. idle-throughput.png: a tiny idle sweep of poll and epoll_et, with the
#      error bars (min to max over rounds) and the noise band to read
source "$(dirname "$0")/lab.bash"
lab_begin 7 7 75 "$@"

# ---- 1. closed loop, open loop, and a server that stalls ------------------------

SECS=$(size 3 0.1) RATE=5000
# stall_server: the server runs 400 ms, is stopped (SIGSTOP) for 100 ms,
# and again, until killed (lab_cleanup sends SIGCONT to the server anyway)
stall_server() {
	while sleep 0.4; do
		kill -STOP "$SERVER_PID" 2>/dev/null || return
		sleep 0.1
		kill -CONT "$SERVER_PID" 2>/dev/null
	done
}
echo "run,req_per_s,lat_p50_us,lat_p90_us,lat_p99_us,lat_p999_us,lat_max_us" > "$OUT/loops.csv"
: > "$OUT/loops.txt"
# loop_run NAME STALL LOADGEN-ARGS...: one run of epoll_et, stalled or not
loop_run() {
	local name=$1 stall=$2 spid; shift 2
	server_up_or_die epoll_et
	if [ "$stall" = stall ]; then stall_server & spid=$!; PIDS+=("$spid"); fi
	load "$@" --format csv --header > "$WORK/load.csv" 2>/dev/null
	if [ "$stall" = stall ]; then kill "$spid"; wait "$spid" 2>/dev/null; forget_pid "$spid"; kill -CONT "$SERVER_PID"; fi
	server_down
	awk -F, -v n="$name" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{ printf "%s,%s,%s,%s,%s,%s,%s\n", n, $c["req_per_s"], $c["lat_p50_us"], $c["lat_p90_us"], $c["lat_p99_us"], $c["lat_p999_us"], $c["lat_max_us"] }' \
		"$WORK/load.csv" >> "$OUT/loops.csv"
	echo "$name: loadgen $* ($( [ "$stall" = stall ] && echo "server stopped 100 ms every 0.5 s" || echo "no stalls"))" >> "$OUT/loops.txt"
}
step "closed loop, no stalls: loadgen -c 10 -d $SECS" 4
loop_run "closed loop" none -c 10 -d "$SECS"
step "closed loop, server stalls: loadgen -c 10 -d $SECS" 4
loop_run "closed loop + stalls" stall -c 10 -d "$SECS"
step "open loop, server stalls: loadgen -c 10 --rate $RATE -d $SECS" 4
loop_run "open loop $RATE/s + stalls" stall -c 10 --rate "$RATE" -d "$SECS"
{
	echo
	awk -F, 'NR > 1 { printf "%-26s %8.0f req/s   p50 %8.0f µs   p99 %8.0f µs   p99.9 %8.0f µs   max %8.0f µs\n", $1, $2, $3, $5, $6, $7 }' "$OUT/loops.csv"
} >> "$OUT/loops.txt"
awk -F, 'NR > 1 { printf "loops, %-26s %8.0f req/s, p50 %.0f µs, p99 %.0f µs, max %.0f µs\n", $1, $2, $3, $5, $7 }' "$OUT/loops.csv" |
	while read -r line; do summary "$line"; done
plot loops

# ---- 2. the A/A control: one point, measured again and again -----------------------

RUNS=$(size 5 2) SECS=$(size 0.5 0.1)
step "the A/A control: epoll_et, loadgen -c 50 -d $SECS, $RUNS times" $((RUNS + 1))
echo "run,req_per_s,cpu_us_per_req" > "$WORK/noise.csv"
for run in $(seq "$RUNS"); do
	server_up_or_die epoll_et
	proc_tree_cpu "$SERVER_PID"; ns0=$PROC_CPU_NS
	load -c 50 -d "$SECS" --format csv --header > "$WORK/load.csv" 2>/dev/null
	proc_tree_cpu "$SERVER_PID"; ns1=$PROC_CPU_NS
	server_down
	awk -v r="$run" -v ns="$((ns1 - ns0))" -v q="$(csv requests "$WORK/load.csv")" -v s="$(csv seconds "$WORK/load.csv")" \
		'BEGIN { printf "%d,%.0f,%.2f\n", r, q / s, q ? ns / 1000 / q : 0 }' >> "$WORK/noise.csv"
done
{
	echo "The A/A control: epoll_et, 50 keep-alive connections, loadgen -c 50 -d $SECS, the same point $RUNS times"
	echo
	awk -F, '{ printf "  %-5s %12s %16s\n", $1, $2, $3 }' "$WORK/noise.csv"
	echo
	awk -F, 'function spread(col, what, unit,   i, j, t, a, m) {
			for (i = 1; i <= n; i++) a[i] = v[col, i]
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			m = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
			printf "%s: min %.2f, median %.2f, max %.2f %s: a spread of %.1f%% of the median\n", what, a[1], m, a[n], unit, m ? (a[n] - a[1]) * 100 / m : 0 }
		NR > 1 { n++; v[2, n] = $2; v[3, n] = $3 }
		END { spread(2, "req/s", "req/s"); spread(3, "server CPU per request", "µs") }' "$WORK/noise.csv"
} > "$OUT/noise.txt"
grep -E '^(req/s|server CPU)' "$OUT/noise.txt" | while read -r line; do summary "noise, A/A control over $RUNS runs: $line"; done
# the hand-in's figures: the medians, and the spread as noise.txt states it
awk -F, 'function med(x, m,   i, j, t) {
		for (i = 2; i <= m; i++) for (j = i; j > 1 && x[j - 1] > x[j]; j--) { t = x[j]; x[j] = x[j - 1]; x[j - 1] = t }
		return m % 2 ? x[(m + 1) / 2] : (x[m / 2] + x[m / 2 + 1]) / 2 }
	NR > 1 { n++; r[n] = $2; u[n] = $3 }
	END { rm = med(r, n); um = med(u, n)
		printf "%.0f %.1f %.2f %.1f\n", rm, rm ? (r[n] - r[1]) * 100 / rm : 0, um, um ? (u[n] - u[1]) * 100 / um : 0 }' "$WORK/noise.csv" |
	while read -r rps rspread cpu cspread; do
		figure epoll_et aa_req_per_s "$rps" req/s
		figure epoll_et aa_req_per_s_spread_pct "$rspread" %
		figure epoll_et aa_cpu_us_per_req "$cpu" us
		figure epoll_et aa_cpu_us_per_req_spread_pct "$cspread" %
	done

# ---- 3. is the client the bottleneck? ----------------------------------------------

SECS=$(size 2 0.1)
: > "$OUT/bottleneck.txt"
for conns in 50 1000; do
	step "loadgen -t 1 -c $conns -d $SECS on CPU $LOADGEN_CPU: client and server CPU" 3
	server_up_or_die epoll_et
	# both CPU figures over the same wall-clock time: loadgen's whole life,
	# connecting included
	proc_tree_cpu "$SERVER_PID"; ns0=$PROC_CPU_NS t0=$EPOCHREALTIME
	load -t 1 -c "$conns" -d "$SECS" --format csv --header > "$WORK/load.csv" 2>/dev/null
	proc_tree_cpu "$SERVER_PID"; ns1=$PROC_CPU_NS t1=$EPOCHREALTIME
	server_down
	line=$(awk -v c="$conns" -v ns="$((ns1 - ns0))" -v q="$(csv requests "$WORK/load.csv")" -v s="$(csv seconds "$WORK/load.csv")" \
		-v u="$(csv cpu_user_s "$WORK/load.csv")" -v y="$(csv cpu_sys_s "$WORK/load.csv")" -v w="$t0 $t1" 'BEGIN {
		split(w, t, " "); wall = t[2] - t[1]
		printf "loadgen -t 1 -c %d: %.0f req/s; over its %.2f s, client CPU %.0f%% of its one CPU, server CPU %.0f%% of its one CPU",
			c, q / s, wall, (u + y) * 100 / wall, ns / 1e7 / wall }')
	echo "$line" >> "$OUT/bottleneck.txt"
	summary "bottleneck, $line"
done

# ---- 4. error bars: a tiny idle sweep ---------------------------------------------

IDLE=$(size "0 1000" "0 100")
step "bench/run: poll and epoll_et at idle $IDLE, 3 rounds" 30
# shellcheck disable=SC2046 # the smoke options are words of their own
"$ROOT/bench/run" --quick --bin "$BIN" --out "$OUT/bench" --models "poll epoll_et" --sweeps idle \
	--idle "$IDLE" $(size "--rounds 3" "--rounds 1 --duration 0.1") 2>&1 | sed 's/^/    /'
cp "$OUT/bench/idle-throughput.png" "$OUT/bench/idle-throughput.svg" "$OUT/" || note "the bench drew no idle-throughput graph"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	{ printf "idle sweep, %-8s idle=%-5s req/s min %.0f, median %.0f, max %.0f (%d runs)\n", $c["model"], $c["idle"],
		$c["req_per_s_min"], $c["req_per_s_med"], $c["req_per_s_max"], $c["runs"] }' "$OUT/bench/idle.csv" |
	while read -r line; do summary "$line"; done
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } $c["metric"] == "req_per_s" {
	printf "idle sweep, the A/A control (%s idle=%s): req/s %.0f to %.0f, a spread of %s%%\n", $c["model"], $c["idle"], $c["min"], $c["max"], $c["spread_pct"] }' \
	"$OUT/bench/noise.csv" | while read -r line; do summary "$line"; done

lab_end "loops.png|closed vs open loop: coordinated omission" "loops.txt|the three runs, side by side" \
	"loops.csv|the figures behind loops.png" "noise.txt|the A/A control: one point, measured again" \
	"bottleneck.txt|the client as the bottleneck" "idle-throughput.png|error bars and the noise band" \
	"summary.txt|every figure above, with units"
