#!/usr/bin/env bash
# labs/lab1.sh: lab 1, one client at a time, one thread per client
# (docs/labs/1-blocking-threads.md). Run it with `make lab N=1`.
#
#   1. blocking.txt   bin/blocking with one idle client connected first, then
#                     two clients that ask for pages: loadgen reports them
#                     starved (exit 3); bin/threads the same, for contrast
#   2. memory.csv/png memory (PSS and RSS) and threads or processes of
#                     threads, fork and epoll_et holding 0 .. 2000 idle
#                     connections, read from /proc
source "$(dirname "$0")/lab.bash"
lab_begin 1 5 22 "$@"

# ---- 1. one idle client in front of the others --------------------------------

SECS=$(size 2 0.1)
: > "$OUT/blocking.txt"
for model in blocking threads; do
	step "$model: an idle client connected first, then loadgen -c 2 -d $SECS" $(( ${SECS%.*} + 2 ))
	server_up_or_die "$model"
	# the idle client: a connection that sends nothing (bash opens it)
	exec 3<> "/dev/tcp/127.0.0.1/$SERVER_PORT"
	load -c 2 -d "$SECS" > "$WORK/load.txt" 2>&1
	rc=$?
	server_snapshot                  # while the idle client is still there
	stats=$SERVER_SNAPSHOT
	exec 3>&-
	server_down
	{
		echo "== $model, one idle connection held, then: loadgen -c 2 -d $SECS (exit status $rc)"
		cat "$WORK/load.txt"
		echo "server, before the idle client left: $stats"
		echo
	} >> "$OUT/blocking.txt"
	reqs=$(stats_value requests "$stats")
	summary "$model, 1 idle client + loadgen -c 2 -d $SECS: $reqs requests answered, loadgen exit status $rc (0 served, 3 starved)"
done

# ---- 2. memory per connection --------------------------------------------------

COUNTS=$(size "0 500 1000 2000" "0 10 20 40")
echo "model,idle,rss_kib,pss_kib,tasks" > "$OUT/memory.csv"
step "memory: threads holding $COUNTS idle connections" 5
for model in threads fork epoll_et; do
	[ "$model" != threads ] && step "memory: $model holding $COUNTS idle connections" 5
	for n in $COUNTS; do
		server_up_or_die "$model"
		if [ "$n" -gt 0 ] && ! hold_idle "$n"; then
			note "$model: $HOLD_WHY"
		fi
		read -r rss pss <<< "$(proc_tree_mem_kb "$SERVER_PID")"   # harness/proc.bash, as the bench
		echo "$model,$n,$rss,$pss,$(proc_tasks "$SERVER_PID")" >> "$OUT/memory.csv"
		release_idle
		server_down
	done
done
max=${COUNTS##* }
awk -F, -v max="$max" 'NR > 1 && $2 == 0 { p0[$1] = $4; r0[$1] = $3; t0[$1] = $5 }
	NR > 1 && $2 == max { printf "%s: %.1f KiB PSS (%.1f KiB RSS) per idle connection, from 0 to %d held; threads+processes %d -> %d\n",
		$1, ($4 - p0[$1]) / max, ($3 - r0[$1]) / max, max, t0[$1], $5 }' "$OUT/memory.csv" |
	while read -r line; do summary "memory, $line"; done
summary "(PSS: proportional set size, shared pages divided among the processes that share them; a thread's kernel stack, 16 KiB, is in neither)"
plot memory

lab_end "blocking.txt|the idle client and the starved ones" "memory.png|memory and threads per connection" \
	"memory.csv|the figures behind memory.png" "summary.txt|every figure above, with units"
