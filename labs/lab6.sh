#!/usr/bin/env bash
# labs/lab6.sh: lab 6, socket options: the listen backlog, TCP_NODELAY,
# TCP_CORK (docs/labs/6-socket-options.md). Run it with `make lab N=6`.
#
#   1. the bench's sockopt sweep (quick), epoll_lt: a burst of 100 connects
#      against a listen backlog of 1 and of 128 (connect-time percentiles,
#      connects that took over 1 s: a SYN dropped and sent again); latency
#      p50/p99 with no option, --nodelay and --cork, 1 and 8 requests
#      pipelined -> sockopt.png, sockopt.csv (the bench's files in bench/)
source "$(dirname "$0")/lab.bash"
lab_begin 6 1 40 "$@"

step "bench/run: the sockopt sweep of epoll_lt" 40
# shellcheck disable=SC2046 # the smoke options are words of their own
PLOT_TEXT=$(lab_main) "$ROOT/bench/run" --quick --bin "$BIN" --out "$OUT/bench" --models epoll_lt --sweeps sockopt \
	$(size "" "--rounds 1 --duration 0.1") 2>&1 | sed 's/^/    /'
cp "$OUT/bench/sockopt.png" "$OUT/bench/sockopt.svg" "$OUT/" ||
	note "the bench drew no sockopt graph"
# the bench leaves a point's reason empty when it was served; here NA (not
# applicable), so that no field of a lab's CSV is blank
[ -s "$OUT/bench/sockopt.csv" ] &&
	awk 'BEGIN { FS = OFS = "," } { for (i = 1; i <= NF; i++) if ($i == "") $i = "NA"; print }' \
		"$OUT/bench/sockopt.csv" > "$OUT/sockopt.csv"

awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	$c["option"] ~ /^backlog/ { printf "backlog, %s, %d connects at once: connect p99 %.0f µs, slowest %.0f µs, %.1f%% of connects over 1 s, %.0f req/s (medians)\n",
		$c["option"], $c["conns"], $c["connect_p99_us_med"], $c["connect_max_us_med"], $c["connects_over_1s_med"] * 100, $c["req_per_s_med"] }
	$c["option"] !~ /^backlog/ { printf "latency, %-7s pipeline %d, %d connections: p50 %.0f µs, p99 %.0f µs, %.0f req/s (medians)\n",
		$c["option"] == "default" ? "none" : $c["option"], $c["pipeline"], $c["conns"], $c["lat_p50_us_med"], $c["lat_p99_us_med"], $c["req_per_s_med"] }' \
	"$OUT/sockopt.csv" | while read -r line; do summary "$line"; done
for col in lat_p99_us_med req_per_s_med connects_over_1s_med; do
	figures_from_csv "$OUT/sockopt.csv" "$([ $col = req_per_s_med ] && echo req/s || { [ $col = lat_p99_us_med ] && echo us || echo share; })" "$col" option pipeline
done
summary "(the bench's sockopt sweep, quick: medians of $(size 2 1) rounds; over 1 s: a SYN dropped and sent again after 1 s, as a share of the connections accepted)"

lab_end "sockopt.png|the backlog under a burst; Nagle and corking" "sockopt.csv|the figures behind sockopt.png" \
	"summary.txt|every figure above, with units"
