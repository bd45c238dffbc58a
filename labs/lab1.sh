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
#   3. limits.txt     the limits on this user's threads and processes, the
#                     smallest named
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
		echo "== $model, one idle connection held, then: loadgen -c 2 -d $SECS (exit status $rc: $(loadgen_status "$rc"))"
		cat "$WORK/load.txt"
		echo "server, before the idle client left: $stats"
		echo
	} >> "$OUT/blocking.txt"
	reqs=$(stats_value requests "$stats")
	figure "$model" requests_answered_beside_idle "${reqs:-0}" requests
	summary "$model, 1 idle client + loadgen -c 2 -d $SECS: $reqs requests answered; loadgen exit status $rc: $(loadgen_status "$rc")"
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
awk -F, -v max="$max" 'NR > 1 && $2 == 0 { p0[$1] = $4; r0[$1] = $3 }
	NR > 1 && $2 == max { printf "%s %.1f %.1f\n", $1, ($4 - p0[$1]) / max, ($3 - r0[$1]) / max }' "$OUT/memory.csv" |
	while read -r model pss rss; do
		figure "$model" pss_kib_per_idle_conn "$pss" KiB
		figure "$model" rss_kib_per_idle_conn "$rss" KiB
	done
summary "(PSS: proportional set size; RSS: resident set size; both read from /proc, see the handout)"
plot memory

# ---- 3. the limits on threads and processes -----------------------------------

# task_limits: "NAME VALUE" lines, every limit on how many threads and
# processes this user may start here; "unlimited" where there is none.
# pids.max is the cgroup's (systemd's TasksMax for a login's user slice),
# the smallest on the way from this process's cgroup up to the root.
task_limits() {
	local cg dir v min=""
	echo "ulimit-u $(ulimit -u)"
	echo "kernel.threads-max $(cat /proc/sys/kernel/threads-max)"
	echo "kernel.pid_max $(cat /proc/sys/kernel/pid_max)"
	cg=$(awk -F: '$1 == 0 { print $3 }' /proc/self/cgroup)
	dir=/sys/fs/cgroup$cg
	while [ -n "$cg" ] && [ "${dir#/sys/fs/cgroup}" != "$dir" ]; do
		v=$(cat "$dir/pids.max" 2>/dev/null) && [ "$v" != max ] &&
			{ [ -z "$min" ] || [ "$v" -lt "$min" ]; } && min=$v
		[ "$dir" = /sys/fs/cgroup ] && break
		dir=${dir%/*}
	done
	echo "cgroup-pids.max ${min:-unlimited}"
}
task_limits > "$WORK/limits"
{
	echo "The limits on the threads and processes this user may start, read now:"
	awk '{ printf "  %-20s %s\n", $1, $2 }' "$WORK/limits"
	awk '$2 != "unlimited" && (min == "" || $2 + 0 < min + 0) { min = $2; name = $1 }
		END { printf "the smallest: %s, %s\n", name, min }' "$WORK/limits"
} > "$OUT/limits.txt"
summary "tasks limit, $(tail -1 "$OUT/limits.txt") (every limit in limits.txt)"

lab_end "blocking.txt|the idle client and the starved ones" "memory.png|memory and threads per connection" \
	"memory.csv|the figures behind memory.png" "limits.txt|the limits on threads and processes here" \
	"summary.txt|every figure above, with units"
