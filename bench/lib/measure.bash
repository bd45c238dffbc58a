# bench/lib/measure.bash: one run of one point, sourced by bench/run.
#
#   run_once MODEL IDLE CONNS MODE PIPELINE OPTION   fills ROW (bench/lib/schema.bash)
#
# One run, in order:
#
#   start the server, pinned       wait for "listening on"
#   hold N idle connections        a second loadgen; wait until the server has them
#   BEFORE: stats line (SIGUSR1), CPU time, /proc/stat
#   the measuring loadgen          warm-up, then the measured seconds;
#                                  threads and children counted meanwhile
#   AFTER:  the same three, then the descriptors still open   <- when loadgen exits
#   stop the server and the idle holder
#
# Every figure of the server is AFTER - BEFORE from one process, so what the
# idle connections cost to accept is not in it. A server that does not catch
# SIGUSR1 is read once, at its exit (counters_from = since_start), and its
# CPU time is then counted since its start too. nginx has no stats line: its
# request count comes from its stub_status page, before and after.
# (BEFORE comes before loadgen starts, not at the end of its warm-up: on a
# busy machine a shell's sleep and forks can take longer than a short run.)
#
# Uses bench/lib/server.bash, and from bench/run: WORK WARMUP DURATION
# BACKLOG_RUN CLK_TCK LOADGEN LOADGEN_CPU and the PIDS array.

# ---- one run -------------------------------------------------------------------

# Why a model fails where it does; added to the reason.
model_hint() {
	case "$1" in
	blocking) echo "blocking serves one connection at a time; the others wait for it to close" ;;
	select)   echo "select refuses descriptors >= FD_SETSIZE (1024) with 503" ;;
	threads)  echo "one thread per connection: creating them failed or fell behind" ;;
	fork)     echo "one process per connection, up to its limit of children" ;;
	esac
}

# fail REASON [MODEL]: the run failed, and why (with the model's hint).
fail() {
	local hint
	hint=$(model_hint "${2:-}")
	row_set status failed
	row_set reason "$1${hint:+ ($hint)}"
}

run_once() {
	local model=$1 idle=$2 conns=$3 mode=$4 pipeline=$5 option=$6
	local sargs=() largs=() duration=$DURATION warmup limit
	HPID=""
	case "$option" in
	backlog=*) sargs+=(-b "${option#backlog=}")
		   # a SYN dropped at a full accept queue is retried after 1 s, then 3 s
		   duration=$(awk -v d="$DURATION" -v b="$BACKLOG_RUN" 'BEGIN { print d < b ? b : d }') ;;
	nodelay)   sargs+=(--nodelay) ;;
	cork)      sargs+=(--cork) ;;
	esac
	[ "$mode" = close ] && largs+=(--close)
	[ "$pipeline" -gt 1 ] && largs+=(--pipeline "$pipeline")
	# the warm-up is long enough for every connection to be accepted: by a
	# server that accepts one per wakeup, and after a SYN-ACK retried at 1 s
	# when a burst of connects overflows the accept queue on a busy machine
	read -r warmup limit <<< "$(awk -v w="$WARMUP" -v c="$conns" -v d="$duration" 'BEGIN { print w + c / 700, int(d + w + c / 700 + 15) }')"
	row_set status ok
	row_set reason ""
	row_set loadavg1 "$(cut -d' ' -f1 /proc/loadavg)"

	if [ "$model" != nginx ] && [ ! -x "$BIN/$model" ]; then
		fail "not built: $BIN/$model is missing"
	elif ! server_start "$model" "${sargs[@]}"; then
		fail "server did not start: $(head -c 200 "$WORK/server.err")"
	elif [ "$idle" -gt 0 ] && ! hold_idle "$idle"; then
		fail "$HOLD_WHY" "$model"
	else
		measure "$model" "$idle" "$conns" "$duration" "$warmup" "$limit" "${largs[@]}"
	fi
	server_stop
	release_idle
	[ "${ROW[counters_from]}" = since_start ] && read_counters "" "$(grep '^stats ' "$WORK/server.err" | tail -1)"
	[ "${ROW[status]}" = ok ] && judge "$model" "$idle" "$conns" "$mode" "$option"
}

# measure MODEL IDLE CONNS DURATION WARMUP LIMIT LOADGEN_ARGS...: the measured
# loadgen run, between the BEFORE and AFTER samples of the server.
measure() {
	local model=$1 idle=$2 conns=$3 duration=$4 warmup=$5 limit=$6; shift 6
	local lpid rc cpu0=0 cpu1 ns0=0 ns1 snap0="" host0 host1 peak=0 usr1=0 ng0="" ng1
	if catches_usr1; then usr1=1 snap0=$(stats_snapshot); fi
	[ "$model" = nginx ] && ng0=$(nginx_requests)
	# without a snapshot the counters are since the start: so is the CPU time
	if [ -n "$snap0" ] || [ -n "$ng0" ]; then read -r cpu0 ns0 <<< "$(proc_cpu "$SPID")"; fi
	host0=$(host_ticks)
	setsid taskset -c "$LOADGEN_CPU" timeout -k 2 "$limit" "$LOADGEN" -c "$conns" -t 1 -d "$duration" \
		--warmup "$warmup" --timeout 2000 --format csv --header \
		"$@" "http://127.0.0.1:$SPORT/" > "$WORK/loadgen.csv" 2> "$WORK/loadgen.err" &
	lpid=$!
	PIDS+=("$lpid")
	# threads and children end with their connections: count them meanwhile
	count_tasks
	while kill -0 "$lpid" 2>/dev/null; do count_tasks; sleep 0.1; done
	wait "$lpid"; rc=$?
	forget_pid "$lpid"
	if ! kill -0 "$SPID" 2>/dev/null || [ "$(proc_state "$SPID")" = Z ]; then
		fail "the server exited during the run: $(tail -c 200 "$WORK/server.err")" "$model"
		return
	fi
	read -r cpu1 ns1 <<< "$(proc_cpu "$SPID")"
	host1=$(host_ticks)
	if [ $usr1 = 1 ] && [ -n "$snap0" ]; then
		row_set counters_from snapshot
		read_counters "$snap0" "$(stats_snapshot)"
	elif [ -n "$ng0" ] && ng1=$(nginx_requests) && [ -n "$ng1" ]; then
		row_set counters_from snapshot
		row_set srv_requests $(( ng1 - ng0 - 1 ))   # less the status request itself
	elif [ "$model" != nginx ]; then
		row_set counters_from since_start    # read from the exit line, in run_once
	fi
	server_cpu "$cpu0" "$cpu1" "$ns0" "$ns1"
	row_set steal_pct "$(echo "$host0 $host1" | awk '{ printf "%.2f", ($4 > $2 ? 100 * ($3 - $1) / ($4 - $2) : 0) }')"
	row_set srv_rss_kb "$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$SPID/status")"
	count_tasks
	row_set srv_tasks "$peak"
	[ "$idle" -gt 0 ] && row_set idle_open $(( $(proc_sockets "$SPID") - HOLD_BASE ))
	read_loadgen "$WORK/loadgen.csv"
	if [ $rc -ge 124 ]; then
		fail "time limit of ${limit}s exceeded"
	elif [ $rc = 3 ] || [ "${ROW[conns_starved]:-NA}" != NA -a "${ROW[conns_starved]}" != 0 ]; then
		fail "${ROW[conns_starved]} of ${ROW[conns_established]} established connections were never answered (starved)" "$model"
	elif [ "${ROW[requests]}" = NA ]; then
		fail "loadgen exit $rc: $(head -c 200 "$WORK/loadgen.err")"
	fi
}

# count_tasks: raises peak to the server's threads + live children now.
count_tasks() {
	local n
	n=$(proc_tasks "$SPID")
	[ "$n" -gt "$peak" ] && peak=$n
}

# server_cpu TICKS0 TICKS1 NS0 NS1: srv_cpu_s from the nanosecond count
# when it agrees with the tick count to 2 ticks (no thread or child ended
# in between), else from the ticks, which count the ended ones too.
server_cpu() {
	local out
	out=$(awk -v a="$1" -v b="$2" -v x="$3" -v y="$4" -v t="$CLK_TCK" 'BEGIN {
		ticks = (b - a) / t; ns = (y - x) / 1e9; d = ticks - ns
		if (d < 0) d = -d
		if (d <= 2 / t) printf "%.6f schedstat\n", ns; else printf "%.2f ticks\n", ticks }')
	row_set srv_cpu_s "${out% *}"
	row_set cpu_from "${out#* }"
}

# read_counters BEFORE AFTER: each srv_ counter as AFTER - BEFORE (BEFORE
# empty: since the start). srv_peak is the peak itself, not a difference.
read_counters() {
	local name a b
	[ -z "$2" ] && return
	for name in requests accepted wakeups events refused errors; do
		b=$(stats_value "$name" "$2") || continue
		a=$(stats_value "$name" "$1") || a=0
		row_set "srv_$name" $((b - a))
	done
	row_set srv_peak "$(stats_value peak "$2")"
}

# read_loadgen CSV: the loadgen columns of the schema, by name; the err_*
# columns, whichever there are, summed into errors and listed in error_causes.
read_loadgen() {
	local names values i causes="" sum=0
	{ IFS=, read -r -a names; IFS=, read -r -a values; } < "$1" || return 0
	[ "${#values[@]}" -gt 0 ] || return 0
	for i in "${!names[@]}"; do
		case "${names[$i]}" in
		err_*) sum=$((sum + ${values[$i]:-0}))
		       [ "${values[$i]:-0}" != 0 ] && causes+="${causes:+ }${names[$i]#err_}=${values[$i]}" ;;
		*)     [[ " $LOADGEN_COLUMNS " == *" ${names[$i]} "* ]] && row_set "${names[$i]}" "${values[$i]}" ;;
		esac
	done
	row_set errors "$sum"
	row_set error_causes "$causes"
}

# judge MODEL IDLE CONNS MODE OPTION: a run that went through is still not
# "ok" unless every client was served. Under a listen backlog of 1, connects
# time out by design: there errors are the result (status errors).
judge() {
	local model=$1 idle=$2 conns=$3 mode=$4 option=$5 why=()
	[ "${ROW[requests]}" = 0 ] && why+=("no responses at all")
	[ "${ROW[conns_established]}" -lt "${ROW[conns_asked]}" ] 2>/dev/null &&
		why+=("${ROW[conns_established]} of ${ROW[conns_asked]} active connections established")
	# a connection waiting in the listen backlog is established for the
	# client, but its request waits unanswered: the server's peak tells
	[ "$mode" = keepalive ] && [ "${ROW[srv_peak]}" != NA ] && [ "${ROW[srv_peak]}" -lt $((idle + conns)) ] &&
		why+=("server held at most ${ROW[srv_peak]} of $((idle + conns)) connections at once")
	[ "$idle" -gt 0 ] && [ "${ROW[idle_open]}" != NA ] && [ "${ROW[idle_open]}" -lt "$idle" ] &&
		why+=("${ROW[idle_open]} of $idle idle connections still open at the end")
	[ "${ROW[errors]}" != 0 ] && [ "${ROW[errors]}" != NA ] && why+=("errors ${ROW[error_causes]}")
	[ "${ROW[non2xx]}" != 0 ] && [ "${ROW[non2xx]}" != NA ] && why+=("non2xx=${ROW[non2xx]}")
	[ "${ROW[srv_refused]}" != 0 ] && [ "${ROW[srv_refused]}" != NA ] && why+=("server refused ${ROW[srv_refused]}")
	[ ${#why[@]} = 0 ] && return
	local IFS=';'
	fail "$(echo "${why[*]}" | sed 's/;/; /g')" "$model"
	[[ $option == backlog=* ]] && [ "${ROW[requests]}" != 0 ] && row_set status errors
	return 0
}
