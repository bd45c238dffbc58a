#!/usr/bin/env bash
# labs/lab9.sh: lab 9, talking clients: Little's law measured
# (docs/labs/9-talking-clients.md). Run it with `make lab N=9`.
#
#   1. the bench's talk sweep (quick) of epoll_et: N keep-alive clients that
#      each think 10 ms on average (exponential) after every answer, N = 10
#      .. 2,000: the rate achieved against N / Z (what the clients offer) and
#      N / (Z + R) (Little's law), and the server's CPU busy -> little.csv,
#      little.png (the bench's own files in little/)
#   2. the same clients, N = 100 and 1,000, against threads, poll and
#      epoll_et: CPU, context switches and events per wakeup per request,
#      p99, memory -> cost.csv, talk.png (the bench's files in cost/)
source "$(dirname "$0")/lab.bash"
lab_begin 9 2 75 "$@"
Z=10                    # ms of think time, the handout's question

# talk_sweep DIR MODELS "N ...": the bench's talk sweep at Z, quick, into OUT/DIR.
talk_sweep() {
	# shellcheck disable=SC2046 # the smoke options are words of their own
	"$ROOT/bench/run" --quick --bin "$BIN" --out "$OUT/$1" --models "$2" --sweeps talk --think "$Z" \
		--talk "$3" --thinks "" $(size "" "--rounds 1 --duration 0.1") 2>&1 | sed 's/^/    /'
	[ -s "$OUT/$1/talk.csv" ] || die "the bench wrote no $1/talk.csv (its lines above say why)"
}

# ---- 1. Little's law, one server ---------------------------------------------------

NS=$(size "10 50 100 200 500 1000 2000" "10 200")
step "bench/run: epoll_et, N = $NS clients thinking $Z ms" 30
talk_sweep little epoll_et "$NS"
# per N: what was achieved, offered and predicted, and how busy the server's CPU was
awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i
		print "conns,think_ms,status,req_per_s,offered_rps,little_rps,little_ratio,lat_mean_us,lat_p99_us,cpu_us_per_req,server_busy_pct"; next }
	{ z = $c["option"]; sub(/^think=/, "", z)
	  busy = $c["req_per_s_med"] != "NA" && $c["cpu_us_per_req_med"] != "NA" ? sprintf("%.1f", $c["req_per_s_med"] * $c["cpu_us_per_req_med"] / 1e4) : "NA"
	  print $c["conns"], z, $c["status"], $c["req_per_s_med"], $c["offered_rps_med"], $c["little_rps_med"], $c["little_ratio_med"],
		$c["lat_mean_us_med"], $c["lat_p99_us_med"], $c["cpu_us_per_req_med"], busy }' "$OUT/little/talk.csv" > "$OUT/little.csv"
awk -F, 'NR > 1 && $3 == "ok" { printf "little, epoll_et, N=%-5d Z=%s ms: %7.0f req/s achieved, N/Z %7.0f, N/(Z+R) %7.0f (achieved/that %.3f), mean R %.0f µs, p99 %.0f µs, server CPU busy %s%%\n",
		$1, $2, $4, $5, $6, $7, $8, $9, $11 }
	NR > 1 && $3 != "ok" { printf "little, epoll_et, N=%-5d Z=%s ms: cannot serve\n", $1, $2 }' "$OUT/little.csv" |
	while read -r line; do summary "$line"; done
summary "(the bench's talk sweep, quick: loadgen --think exp:$Z, medians of $(size 2 1) rounds; busy = req/s x CPU per request, % of one CPU)"
plot little

# ---- 2. what it costs each model -------------------------------------------------

NS=$(size "100 1000" "10 200")
step "bench/run: threads, poll, epoll_et at N = $NS, Z = $Z ms" 40
talk_sweep cost "threads poll epoll_et" "$NS"
cp "$OUT/cost/talk.csv" "$OUT/cost.csv"
cp "$OUT/cost/talk.png" "$OUT/cost/talk.svg" "$OUT/" 2>/dev/null || note "the bench drew no talk graph"
awk -F, 'function f(v, p) { return v == "NA" ? "n/a" : sprintf(p, v) }
	NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	$c["status"] == "ok" { printf "cost, %-8s N=%-5d Z=%s: %s req/s, %s µs CPU/request, %s context switches/request, %s events/wakeup, p99 %s µs, %s MiB\n",
		$c["model"], $c["conns"], substr($c["option"], 7), f($c["req_per_s_med"], "%.0f"), f($c["cpu_us_per_req_med"], "%.1f"),
		f($c["switches_per_req_med"], "%.3f"), f($c["events_per_wakeup_med"], "%.2f"), f($c["lat_p99_us_med"], "%.0f"),
		f($c["pss_load_kb_med"] / 1024, "%.1f") }
	$c["status"] != "ok" { printf "cost, %-8s N=%-5d cannot serve: %s\n", $c["model"], $c["conns"], $c["reason"] }' \
	"$OUT/cost.csv" | while read -r line; do summary "$line"; done
summary "(medians; context switches of every thread of the server, read in the middle of the run; memory: PSS with the connections open)"

lab_end "little.png|Little's law: achieved, offered and predicted rates, server CPU busy" \
	"little.csv|the figures behind little.png" "talk.png|each model's costs at N = 100 and 1,000" \
	"cost.csv|the figures behind talk.png" "summary.txt|every figure above, with units"
