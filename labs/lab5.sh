#!/usr/bin/env bash
# labs/lab5.sh: lab 5, completion I/O: io_uring against epoll
# (docs/labs/5-io-uring.md). Run it with `make lab N=5`.
#
#   1. syscalls.txt/csv/png: syscalls per request of io_uring and epoll_et
#      (io_uring_enter counted like any other), strace -c -f
#   2. cpu.csv/png: server CPU per request and req/s of both, side by side
#      in alternating runs (A B A B ...)
# Where io_uring cannot run (a kernel before 6.1, a container that forbids
# it, no liburing 2.3 or newer at build time) the lab says so in one line and
# measures epoll_et alone.
source "$(dirname "$0")/lab.bash"
lab_begin 5 5 15 "$@"
ROUNDS=$(size 3 1)

MODELS="epoll_et io_uring"
why=""
if [ -e "$BIN/io_uring.missing" ] || [ ! -x "$BIN/io_uring" ]; then
	why=$(cat "$BIN/io_uring.missing" 2>/dev/null || echo "bin/io_uring is not built")
elif ! server_up io_uring -q 2> /dev/null; then
	why="bin/io_uring does not start here: $(head -c 200 "$SERVER_ERR")"
fi
server_down
if [ -n "$why" ]; then
	MODELS="epoll_et"
	summary "io_uring is not available on this machine ($why): this run measures the epoll half only."
fi

# shellcheck disable=SC2034 # step() reads it: the count depends on the rounds
STEPS=$(( $(wc -w <<< "$MODELS") + ROUNDS ))

# ---- 1. syscalls per request -----------------------------------------------------

N=$(size 20000 500)
: > "$OUT/syscalls.txt"
echo "model,syscall,calls,per_request" > "$OUT/syscalls.csv"
if have_strace; then
	for model in $MODELS; do
		step "$model under strace -c -f: $N requests on 50 connections" 6
		syscall_count "$model" "$N"
		syscall_report "$model" "$N" "$model: strace -c -f -- bin/$model (strace starts it), loadgen -c 50 -n $N"
	done
	awk -F, 'NR > 1 && $4 >= 0.005 { printf "syscalls per request, %-8s %-15s %.3f\n", $1, $2, $4 }' "$OUT/syscalls.csv" |
		while read -r line; do summary "$line"; done
	awk -F, 'NR > 1 { t[$1] += $4 } END { for (m in t) printf "syscalls per request, %s, all of them: %.3f\n", m, t[m] }' \
		"$OUT/syscalls.csv" | sort | while read -r line; do summary "$line"; done
	awk -F, 'NR > 1 && $2 == "io_uring_enter" && $4 > 0 { printf "requests per io_uring_enter call: %.1f\n", 1 / $4 }
		NR > 1 && $2 == "epoll_wait" && $4 > 0 { printf "requests per epoll_wait call (%s): %.1f\n", $1, 1 / $4 }' \
		"$OUT/syscalls.csv" | while read -r line; do summary "$line"; done
	syscall_plot "$MODELS" "$N requests, 50 keep-alive connections"
fi

# ---- 2. CPU per request, alternating runs --------------------------------------------

SECS=$(size 1 0.1)
echo "model,round,req_per_s,cpu_us_per_req" > "$OUT/cpu.csv"
for round in $(seq "$ROUNDS"); do
	step "round $round of $ROUNDS: $MODELS, loadgen -c 50 -d $SECS each" 3
	for model in $MODELS; do
		server_up_or_die "$model"
		proc_tree_cpu "$SERVER_PID"; ns0=$PROC_CPU_NS
		load -c 50 -d "$SECS" --format csv --header > "$WORK/load.csv" 2>/dev/null
		proc_tree_cpu "$SERVER_PID"; ns1=$PROC_CPU_NS
		server_down
		awk -v m="$model" -v r="$round" -v ns="$((ns1 - ns0))" -v q="$(csv requests "$WORK/load.csv")" \
			-v s="$(csv seconds "$WORK/load.csv")" 'BEGIN {
			printf "%s,%d,%.0f,%.2f\n", m, r, q / s, q ? ns / 1000 / q : 0 }' >> "$OUT/cpu.csv"
	done
done
awk -F, 'NR > 1 { r[$1] = r[$1] " " $3; u[$1] = u[$1] " " $4; n[$1]++ }
	END { for (m in r) printf "cpu, %-8s req/s:%s   µs server CPU/request:%s   (%d alternating runs of '"$SECS"' s, 50 connections)\n", m, r[m], u[m], n[m] }' \
	"$OUT/cpu.csv" | sort | while read -r line; do summary "$line"; done
plot cpu "bars='$MODELS'; rounds=$ROUNDS"

figures_from_csv "$OUT/cpu.csv" req/s req_per_s model
figures_from_csv "$OUT/cpu.csv" us cpu_us_per_req model
figures_from_csv "$OUT/syscalls.csv" calls per_request model syscall

lab_end "syscalls.png|syscalls per request, by name" "syscalls.txt|strace's tables" "syscalls.csv|the figures behind syscalls.png" \
	"cpu.png|server CPU per request and req/s, run by run" "cpu.csv|the runs behind cpu.png" \
	"summary.txt|every figure above, with units"
