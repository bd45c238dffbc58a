#!/usr/bin/env bash
# labs/lab3.sh: lab 3, epoll level- and edge-triggered (docs/labs/3-epoll.md).
# Run it with `make lab N=3`.
#
#   1. syscalls per request of epoll_lt and epoll_et serving 50 keep-alive
#      clients for a fixed number of requests, counted by strace -c -f,
#      which starts the server (less a run with no requests: start-up, shutdown) -> syscalls.txt, syscalls.csv, syscalls.png
#   2. events per wakeup of each, from the stats line, without strace
#   3. et_drain.txt, rdhup.txt: the two edge-triggered pitfalls
#   4. where epoll_et's time goes in the kernel beside poll's, when perf may
#      sample it here: flame-epoll_et.png, flame-poll.png (flame graphs),
#      their top functions in profile/ and, as root, calls.png (bench/profile)
source "$(dirname "$0")/lab.bash"
lab_begin 3 6 20 "$@"

# ---- 1. syscalls per request -----------------------------------------------------

N=$(size 20000 500)
: > "$OUT/syscalls.txt"
echo "model,syscall,calls,per_request" > "$OUT/syscalls.csv"
if have_strace; then
	for model in epoll_lt epoll_et; do
		step "$model under strace -c -f: $N requests on 50 connections" 6
		syscall_count "$model" "$N"
		syscall_report "$model" "$N" "$model: strace -c -f -- bin/$model (strace starts it), loadgen -c 50 -n $N"
	done
	awk -F, 'NR > 1 && $4 >= 0.005 { printf "syscalls per request, %-8s %-14s %.3f\n", $1, $2, $4 }' "$OUT/syscalls.csv" |
		while read -r line; do summary "$line"; done
	awk -F, 'NR > 1 && $4 >= 0.005 { print $1, $2, $4 }' "$OUT/syscalls.csv" |
		while read -r model call per; do figure "$model" "${call}_per_request_strace" "$per" calls; done
	summary "(strace -c -f over $N keep-alive requests on 50 connections; calls under 0.005 a request left out)"
	# strace stops the server at every call, which changes the timing: the
	# calls made once per request keep their count, the wakeups do not
	summary "(under strace, read and write per request are what they are without it; epoll_wait per request is not: it depends on how many ready requests each wakeup finds, which strace's slowing changes; the lines below measure it without strace)"
	syscall_plot "epoll_lt epoll_et" "$N requests, 50 keep-alive connections"
fi

# ---- 2. events per wakeup, without strace --------------------------------------

SECS=$(size 1 0.1)
for model in epoll_lt epoll_et; do
	step "$model: loadgen -c 50 -d $SECS, events per wakeup" 2
	server_up_or_die "$model"
	load -c 50 -d "$SECS" > /dev/null 2>&1
	server_down
	line=$SERVER_STATS
	w=$(stats_value wakeups "$line") e=$(stats_value events "$line") r=$(stats_value requests "$line")
	figure "$model" req_per_s "$(awk -v r="$r" -v s="$SECS" 'BEGIN { printf "%.0f", r / s }')" req/s
	figure "$model" epoll_wait_per_request "$(awk -v w="$w" -v r="$r" 'BEGIN { printf "%.3f", r ? w / r : 0 }')" calls
	figure "$model" events_per_wakeup "$(awk -v w="$w" -v e="$e" 'BEGIN { printf "%.2f", w ? e / w : 0 }')" events
	summary "$(awk -v m="$model" -v w="$w" -v e="$e" -v r="$r" -v s="$SECS" 'BEGIN {
		printf "%s, 50 connections for %s s, no strace: %d requests, %d epoll_wait calls, %.3f epoll_wait per request, %.2f events per wakeup, %.2f requests per wakeup",
			m, s, r, w, r ? w / r : 0, w ? e / w : 0, w ? r / w : 0 }')"
done

# ---- 3. the pitfalls ---------------------------------------------------------------

step "bin/pitfall-et_drain and bin/pitfall-rdhup" 1
pitfall et_drain rdhup

# ---- 4. the kernel's view ------------------------------------------------------------

step "bench/profile: epoll_et and poll under perf, $(size 5000 500) idle connections" 12
kernel_view "$(size 5000 500)" "$(size "0 2500 5000" none)" epoll_et poll

lab_end "syscalls.png|syscalls per request, by name" "syscalls.txt|strace's tables" \
	"syscalls.csv|the figures behind syscalls.png" "et_drain.txt|edge-triggered without draining" \
	"rdhup.txt|EPOLLRDHUP and the short read" "summary.txt|every figure above, events per wakeup" \
	"${KERNEL_VIEW[@]}"
