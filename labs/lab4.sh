#!/usr/bin/env bash
# labs/lab4.sh: lab 4, many cores: EPOLLONESHOT workers and SO_REUSEPORT
# loops (docs/labs/4-many-cores.md). Run it with `make lab N=4`.
#
#   1. scaling.csv/png: req/s, p99 and server CPU per request of epoll_et
#      (one loop), epoll_oneshot -t 1 and -t 2 on the server's CPU, and
#      reuseport -t 2 on the server's and loadgen's, where it shares the
#      second with loadgen (a 2-core machine has no third CPU); in rounds,
#      each its own order. The CPUs are the first two this process may use
#      (CPUs 0 and 1 on a VM of its own).
#   2. spread.txt: reuseport with 2 loops, 100 connections: how many each
#      loop accepted (loopN_accepted), and Jain's fairness index
#   3. syscalls.txt: epoll_ctl per request of epoll_oneshot (the re-arm)
#      against epoll_et, by strace -c -f
#   4. thundering_herd.txt, accept_lifo.txt: the two pitfalls
source "$(dirname "$0")/lab.bash"
lab_begin 4 7 20 "$@"

# ---- 1. scaling over two CPUs ------------------------------------------------------

# "server CPUs|model and options": the server's CPU, and for reuseport
# loadgen's too (on a one-CPU machine, pick_cpus makes them the same)
BOTH=$SERVER_CPU
[ "$LOADGEN_CPU" = "$SERVER_CPU" ] || BOTH=$SERVER_CPU,$LOADGEN_CPU
CONFIGS=("$SERVER_CPU|epoll_et" "$SERVER_CPU|epoll_oneshot -t 1" "$SERVER_CPU|epoll_oneshot -t 2" "$BOTH|reuseport -t 2")
ROUNDS=$(size 3 1) SECS=$(size 1 0.1)
# shellcheck disable=SC2034 # step() reads it: the count depends on the rounds
STEPS=$((ROUNDS + 4))
echo "config,server_cpus,round,req_per_s,lat_p99_us,cpu_us_per_req,cpu_pct" > "$OUT/scaling.csv"
for round in $(seq "$ROUNDS"); do
	step "round $round of $ROUNDS: ${#CONFIGS[@]} servers, loadgen -c 50 -d $SECS on CPU $LOADGEN_CPU" $(( ${#CONFIGS[@]} * 2 ))
	# each round in another order: a slow stretch of a shared machine
	# should not always fall on the same server
	for i in $(seq 0 $(( ${#CONFIGS[@]} - 1 )) | shuf); do
		cpus=${CONFIGS[$i]%%|*} config=${CONFIGS[$i]#*|}
		# shellcheck disable=SC2086 # the config is a model and its options
		SERVER_CPU=$cpus server_up_or_die $config
		proc_tree_cpu "$SERVER_PID"; ns0=$PROC_CPU_NS
		load -c 50 -d "$SECS" --format csv --header > "$WORK/load.csv" 2>/dev/null
		proc_tree_cpu "$SERVER_PID"; ns1=$PROC_CPU_NS
		server_down
		awk -v c="$config" -v cpus="${cpus/,/+}" -v r="$round" -v ns="$((ns1 - ns0))" -v q="$(csv requests "$WORK/load.csv")" \
			-v s="$(csv seconds "$WORK/load.csv")" -v p99="$(csv lat_p99_us "$WORK/load.csv")" 'BEGIN {
			printf "%s,%s,%d,%.0f,%s,%.2f,%.0f\n", c, cpus, r, q / s, p99, q ? ns / 1000 / q : 0, ns / 1e7 / s }' >> "$OUT/scaling.csv"
	done
done
awk -F, 'NR > 1 { n[$1]++; cpus[$1] = $2; r[$1] = r[$1] " " $4; l[$1] = l[$1] " " $5; u[$1] = u[$1] " " $6; p[$1] = p[$1] " " $7
	}
	function med(list,   a, m, i, j, t) { m = split(list, a, " ")
		for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
	END { k = split("epoll_et|epoll_oneshot -t 1|epoll_oneshot -t 2|reuseport -t 2", name, "|")
	      for (i = 1; i <= k; i++) { c = name[i]
		printf "scaling, %-19s on CPU %-3s %8.0f req/s  p99 %6.0f µs  %6.2f µs server CPU/request  %4.0f%% of one CPU (medians of %d runs; req/s%s)\n",
			c, cpus[c], med(r[c]), med(l[c]), med(u[c]), med(p[c]), n[c], r[c] } }' "$OUT/scaling.csv" |
	while read -r line; do summary "$line"; done
# the hand-in's figures: each configuration's medians over the rounds
figures_from_csv "$OUT/scaling.csv" req/s req_per_s config
figures_from_csv "$OUT/scaling.csv" us lat_p99_us config
figures_from_csv "$OUT/scaling.csv" us cpu_us_per_req config
summary "(loadgen -c 50 -d $SECS a run, on CPU $LOADGEN_CPU; each server on the CPUs its line names)"
plot scaling

# ---- 2. how reuseport spreads connections over its loops ---------------------------

CONNS=$(size 100 10)
step "reuseport -t 2: $CONNS connections, one request each" 2
SERVER_CPU=$BOTH server_up_or_die reuseport -t 2
load -c 4 -n "$CONNS" --close > /dev/null 2>&1
server_down
line=$SERVER_STATS
{
	echo "reuseport -t 2 (server on CPUs $BOTH), loadgen -c 4 -n $CONNS --close: $CONNS connections, one request each"
	echo "server: $line"
	grep -o 'loop[0-9]*_accepted=[0-9]*' <<< "$line" | awk -F= '{ x[NR] = $2; s += $2; q += $2 * $2; printf "  %s\n", $0 }
		END { printf "Jain'"'"'s fairness index: (sum x)^2 / (n * sum x^2) = %.3f (1: all alike; %.2f: one loop took all)\n",
			q ? s * s / (NR * q) : 0, 1 / NR }'
} > "$OUT/spread.txt"
summary "spread, reuseport -t 2 over $CONNS connections: $(grep -o 'loop[0-9]*_accepted=[0-9]*' <<< "$line" | tr '\n' ' ')$(grep -o 'index.*= [0-9.]*' "$OUT/spread.txt" | sed 's/.*= /Jain index /')"

# ---- 3. the re-arm: epoll_ctl per request ---------------------------------------

N=$(size 10000 500)
: > "$OUT/syscalls.txt"
echo "model,syscall,calls,per_request" > "$OUT/syscalls.csv"
if have_strace; then
	for config in "epoll_oneshot -t 2" "epoll_et"; do
		model=${config%% *}
		step "$config under strace -c -f: $N requests on 50 connections" 5
		# shellcheck disable=SC2086
		syscall_count "$model" "$N" ${config#"$model"}
		syscall_report "$model" "$N" "$config: strace -c -f -- bin/$model (strace starts it), loadgen -c 50 -n $N"
	done
	awk -F, 'NR > 1 && $2 == "epoll_ctl" { printf "epoll_ctl per request, %s: %.3f\n", $1, $4 }' "$OUT/syscalls.csv" |
		while read -r line; do summary "$line"; done
fi

# ---- 4. the pitfalls -------------------------------------------------------------

step "bin/pitfall-thundering_herd and bin/pitfall-accept_lifo" 1
pitfall thundering_herd accept_lifo

lab_end "scaling.png|req/s, p99 and CPU per request of each" "scaling.csv|the runs behind scaling.png" \
	"spread.txt|how reuseport spreads connections over its loops" "syscalls.txt|epoll_ctl per request: the re-arm" \
	"thundering_herd.txt|how many threads one connection wakes" "accept_lifo.txt|which worker gets the next connection" \
	"summary.txt|every figure above, with units"
