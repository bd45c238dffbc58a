#!/usr/bin/env bash
# labs/lab2.sh: lab 2, select and poll: every descriptor, every call
# (docs/labs/2-select-poll.md). Run it with `make lab N=2`.
#
#   1. the bench's idle sweep (quick) of select, poll and epoll_lt at 0, 1000
#      and 5000 idle connections, and its polltime microbenchmark: one
#      select/poll/epoll_wait call against N watched descriptors
#      -> idle-cpu.png, idle-throughput.png, idle-events.png, polltime.png
#      (the bench's own files, CSV and report.md, are in bench/)
#   2. fd_setsize.txt: bin/pitfall-fd_setsize, FD_SET past FD_SETSIZE
#   3. where poll's time goes in the kernel, when perf may sample it here:
#      flame-poll.png (flame graph), profile/poll.txt (top functions) and,
#      as root, calls.png (the time of each poll() call against its
#      descriptors; bench/profile)
source "$(dirname "$0")/lab.bash"
lab_begin 2 3 50 "$@"

# ---- 1. the idle sweep and polltime, by the bench --------------------------------

IDLE=$(size "0 1000 5000" "0 100")
step "bench/run: select, poll, epoll_lt at idle $IDLE; polltime" 55
# shellcheck disable=SC2046 # the smoke options are words of their own
PLOT_TEXT=$(lab_main) "$ROOT/bench/run" --quick --bin "$BIN" --out "$OUT/bench" --models "select poll epoll_lt" \
	--sweeps "idle polltime" --idle "$IDLE" $(size "" "--rounds 1 --duration 0.1") 2>&1 |
	sed 's/^/    /'
for g in idle-cpu idle-throughput idle-events polltime; do
	cp "$OUT/bench/$g.png" "$OUT/bench/$g.svg" "$OUT/" 2>/dev/null || note "the bench drew no $g graph"
done

# the figures: per model and idle count, the median over the rounds
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	$c["status"] == "ok" { printf "idle sweep, %-8s idle=%-5s %8.0f req/s  %6.2f µs server CPU/request  %6.2f events per wakeup\n",
		$c["model"], $c["idle"], $c["req_per_s_med"], $c["cpu_us_per_req_med"], $c["events_per_wakeup_med"] }
	$c["status"] != "ok" { printf "idle sweep, %-8s idle=%-5s cannot serve: %s\n", $c["model"], $c["idle"], $c["reason"] }' \
	"$OUT/bench/idle.csv" | while read -r line; do summary "$line"; done
for col in req_per_s_med cpu_us_per_req_med events_per_wakeup_med; do
	figures_from_csv "$OUT/bench/idle.csv" "$([ $col = req_per_s_med ] && echo req/s || { [ $col = cpu_us_per_req_med ] && echo us || echo events; })" "$col" model idle
done
figures_from_csv "$OUT/bench/polltime-summary.csv" ns ns_med mechanism nfds
summary "(50 active keep-alive connections; medians of $(size 2 1) rounds of $(size 0.25 0.1) s; server on CPU $SERVER_CPU)"
awk -F, 'NR > 1 { printf "polltime, one %s call watching %5d descriptors (one ready): %9.0f ns (median of %d)\n",
	$1 == "epoll" ? "epoll_wait" : $1, $2, $5, $3 }' "$OUT/bench/polltime-summary.csv" |
	while read -r line; do summary "$line"; done

# ---- 2. FD_SETSIZE ---------------------------------------------------------------

step "bin/pitfall-fd_setsize: FD_SET past FD_SETSIZE" 1
pitfall fd_setsize

# ---- 3. the kernel's view ------------------------------------------------------------

step "bench/profile: poll under perf, $(size 5000 500) idle connections" 10
kernel_view "$(size 5000 500)" "$(size "0 1000 2500 5000" none)" poll

lab_end "idle-cpu.png|server CPU per request vs idle connections" \
	"idle-throughput.png|requests per second vs idle connections" \
	"idle-events.png|events per wakeup vs idle connections" \
	"polltime.png|the cost of one call vs descriptors watched" \
	"fd_setsize.txt|FD_SET past FD_SETSIZE" "summary.txt|every figure above, with units" \
	"${KERNEL_VIEW[@]}"
