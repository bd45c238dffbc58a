#!/usr/bin/env bash
# labs/lab8.sh: lab 8, serving files: sendfile, and the disk that readiness
# cannot see (docs/labs/8-files.md). Run it with `make lab N=8`.
#
#   1. filewatch.txt: what select, poll and epoll_ctl say about a regular file
#   2. trace.txt: strace -f of epoll_et serving one 1 MiB file, call by call
#      (strace starts the server: nothing attaches to a running process);
#      syscalls.txt/csv: strace -c -f over many (calls per file, bytes per
#      sendfile call)
#   3. cpu.csv: server CPU per MB sent of epoll_et (sendfile, no copy through
#      the server) and io_uring (a read into out[], then a send: two copies),
#      1 MiB from the page cache, alternating runs
#   4. coldserve.csv/txt/png: bench/coldserve: one client downloads a file
#      that is not in the page cache from a disk throttled to 8 MiB/s
#      (bench/slowdisk), and the hello page's latency meanwhile, per model
# Step 4 needs root (a control group throttles the disk); without it the
# lab says so in one line and does the rest. Without io_uring, step 3 and 4
# measure the others and say so.
source "$(dirname "$0")/lab.bash"
lab_begin 8 5 60 "$@"
ROUNDS=$(size 2 1)

FILES=$WORK/files
mkdir -p "$FILES"
head -c 1048576 /dev/urandom > "$FILES/f1m.bin"
URL=/f1m.bin

have_uring=1
if [ -e "$BIN/io_uring.missing" ] || [ ! -x "$BIN/io_uring" ] || ! server_up io_uring -q 2> /dev/null; then
	have_uring=0
	summary "io_uring is not available on this machine ($(cat "$BIN/io_uring.missing" 2>/dev/null || head -c 200 "$SERVER_ERR")): steps 3 and 4 measure the other models only."
fi
server_down

# ---- 1. readiness and a regular file ------------------------------------------------

step "select, poll and epoll_ctl asked about a regular file" 1
"$BIN/filewatch" "$FILES/f1m.bin" > "$OUT/filewatch.txt" 2>&1
sed 's/^/filewatch: /' "$OUT/filewatch.txt" | while read -r line; do summary "$line"; done

# ---- 2. sendfile's syscalls -------------------------------------------------------------

# trace_one_fetch FILE: epoll_et started by strace -f -tt (epoll_wait left
# out), one connection fetches the 1 MiB file once; FILE holds the calls
# of that fetch, from the accept to the close, without the start-up and
# the shutdown around them.
trace_one_fetch() {
	under_strace "$WORK/trace.raw" "-tt -e trace=!epoll_wait" epoll_et --root "$FILES"
	timeout -k 2 60 taskset -c "$LOADGEN_CPU" "$LOADGEN" -c 1 -n 1 "http://127.0.0.1:$SERVER_PORT$URL" > /dev/null 2>&1
	strace_down
	{
		echo "# strace -f -tt -e 'trace=!epoll_wait' -o FILE -- bin/epoll_et --root DIR; one GET $URL."
		echo "# strace started the server, so FILE began with its start-up: the lines before the"
		echo "# first accept, and the shutdown (from the stats line it writes on SIGTERM), are left out here."
		awk '/accept/ { on = 1 } /--- SIGTERM|write\(2, "stats / { on = 0 } on' "$WORK/trace.raw"
	} > "$1"
}

N=$(size 50 5)
: > "$OUT/syscalls.txt"
echo "model,syscall,calls,per_request" > "$OUT/syscalls.csv"
if have_strace; then
	step "epoll_et under strace: one fetch traced, then $N counted (-c)" 5
	trace_one_fetch "$OUT/trace.txt"
	SYSCALL_CONNS=1 URL_PATH=$URL syscall_count epoll_et "$N" --root "$FILES"
	syscall_report epoll_et "$N" "epoll_et --root: strace -c -f -- bin/epoll_et (strace starts it), loadgen -c 1 -n $N, GET $URL (1 MiB)"
	awk -F, 'NR > 1 && $4 >= 0.005 { printf "syscalls per 1 MiB file, epoll_et %-12s %.2f\n", $2, $4 }' "$OUT/syscalls.csv" |
		while read -r line; do summary "$line"; done
	awk -F, '$2 == "sendfile" && $4 > 0 { printf "bytes per sendfile call: %d KiB on average\n", 1024 / $4 }' "$OUT/syscalls.csv" |
		while read -r line; do summary "$line"; done
fi

# ---- 3. CPU per MB: sendfile against read and send -----------------------------------------

MODELS="epoll_et"
[ "$have_uring" = 1 ] && MODELS="epoll_et io_uring"
SECS=$(size 1 0.2)
echo "model,round,mb_per_s,cpu_us_per_mb" > "$OUT/cpu.csv"
for round in $(seq "$ROUNDS"); do
	step "round $round of $ROUNDS: $MODELS send $URL to 10 clients, $SECS s each" 3
	for model in $MODELS; do
		server_up_or_die "$model" --root "$FILES"
		proc_tree_cpu "$SERVER_PID"; ns0=$PROC_CPU_NS
		timeout -k 2 60 taskset -c "$LOADGEN_CPU" "$LOADGEN" -c 10 -d "$SECS" --format csv --header \
			"http://127.0.0.1:$SERVER_PORT$URL" > "$WORK/load.csv" 2>/dev/null
		proc_tree_cpu "$SERVER_PID"; ns1=$PROC_CPU_NS
		server_down
		awk -v m="$model" -v r="$round" -v ns="$((ns1 - ns0))" -v q="$(csv requests "$WORK/load.csv")" \
			-v s="$(csv seconds "$WORK/load.csv")" 'BEGIN {
			mb = q * 1.048576; printf "%s,%d,%.0f,%.1f\n", m, r, mb / s, mb ? ns / 1000 / mb : 0 }' >> "$OUT/cpu.csv"
	done
done
awk -F, 'NR > 1 { r[$1] = r[$1] " " $3; u[$1] = u[$1] " " $4; n[$1]++ }
	END { for (m in r) printf "cpu, %-8s MB/s:%s   µs server CPU per MB:%s   (%d alternating runs of '"$SECS"' s, 10 clients, 1 MiB file)\n", m, r[m], u[m], n[m] }' \
	"$OUT/cpu.csv" | sort | while read -r line; do summary "$line"; done

# ---- 4. a cold file from a slow disk ---------------------------------------------------------

COLD_MODELS="poll epoll_et threads"
[ "$have_uring" = 1 ] && COLD_MODELS="$COLD_MODELS io_uring"
MIB=$(size 32 4) HELLO_SECS=$(size 3 0.3)
step "a cold $MIB MiB file from a disk throttled to 8 MiB/s: $COLD_MODELS" 40
figures_from_csv "$OUT/cpu.csv" MB/s mb_per_s model
figures_from_csv "$OUT/cpu.csv" us cpu_us_per_mb model
figures_from_csv "$OUT/syscalls.csv" calls per_request model syscall
ends=("filewatch.txt|question 1" "trace.txt|question 2: one 1 MiB file, call by call" "syscalls.txt|questions 2 and 3" "cpu.csv|question 4")
if "$ROOT/bench/coldserve" -m "$COLD_MODELS" -s "$MIB" -t "$HELLO_SECS" --bin "$BIN" -o "$OUT/coldserve.csv" \
	> "$OUT/coldserve.txt" 2> "$WORK/coldserve.err"; then
	summary "coldserve: bench/coldserve -m '$COLD_MODELS' -s $MIB -t $HELLO_SECS (server under bench/slowdisk at 8 MiB/s, CPU $SERVER_CPU; curl and loadgen -c 1, CPU $LOADGEN_CPU):"
	while read -r line; do summary "  $line"; done < "$OUT/coldserve.txt"
	awk -F, 'NR > 1 { k = $2; p99[$1, k] = $8 / 1000; mx[$1, k] = $9 / 1000; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
		END { print "model,cold_p99_ms,cold_max_ms,warm_p99_ms,warm_max_ms"
		      for (i = 1; i <= n; i++) { m = order[i]; printf "%s,%.3f,%.3f,%.3f,%.3f\n", m, p99[m, "cold"], mx[m, "cold"], p99[m, "warm"], mx[m, "warm"] } }' \
		"$OUT/coldserve.csv" > "$WORK/coldserve-wide.csv"
	plot coldserve "data='$WORK/coldserve-wide.csv'; what='$MIB MiB at 8 MiB/s, loadgen -c 1'"
	ends+=("coldserve.png|questions 5 to 7: hello latency, cold and warm, per model" "coldserve.csv|the runs behind coldserve.png")
else
	# coldserve says what is missing in one line (not root, no controller ...)
	summary "the slow-disk step (4) needs root and a block-I/O controller; skipped: $(grep -v '^slowdisk: reads' "$WORK/coldserve.err" | head -1)"
	grep -v '^slowdisk: reads' "$WORK/coldserve.err" > "$OUT/coldserve.txt"
fi
ends+=("coldserve.txt|the slow-disk runs, one line each (or why they did not run)")

lab_end "${ends[@]}" "summary.txt|every figure above, with units"
