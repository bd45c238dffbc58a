# bench/measure.bash: one run of one point, sourced by bench/run.
#
#   run_once MODEL IDLE CONNS MODE PIPELINE OPTION   fills ROW (bench/schema.bash)
#   nginx_up [-b N] [--root DIR], nginx_requests     the nginx reference line
#   (host_ticks, the machine's steal and total ticks, is harness/machine.bash's)
#   write_manifest FILE        the machine and the run's parameters
#
# One run, in order:
#
#   start the server, pinned       wait for "listening on"
#   hold N idle connections        a second loadgen; wait until the server has them
#   memory (PSS) of the server's processes, holding the idle connections
#   BEFORE: stats line (SIGUSR1), CPU time, /proc/stat
#   the measuring loadgen          warm-up, then the measured seconds;
#                                  threads and children counted meanwhile
#   AFTER:  the same three, then the descriptors still open   <- when loadgen exits
#   stop the server and the idle holder
#
# Every figure of the server is AFTER - BEFORE from one server (its process,
# and its children: harness/proc.bash reads the whole tree), so what the
# idle connections cost to accept is not in it. A server that does not catch
# SIGUSR1 is read once, at its exit (counters_from = since_start), and its
# CPU time is then counted since its start too. nginx has no stats line: its
# request count comes from its stub_status page, before and after.
# (BEFORE comes before loadgen starts, not at the end of its warm-up: on a
# busy machine a shell's sleep and forks can take longer than a short run.)
#
# Uses harness/ (server_up, hold_idle, proc_tree_cpu ...), and from bench/run: WORK WARMUP DURATION
# BACKLOG_RUN ACCEPT_RATE PER_CONN_MODELS SOMAXCONN FILES_DIR LOADGEN LOADGEN_CPU
# and the PIDS array.

# ---- one run -------------------------------------------------------------------

# bench_server_up MODEL ARGS: the server of a run, quiet (-q: no line per
# connection), by harness/server.bash's server_up; or nginx, the reference.
bench_server_up() {
	if [ "$1" = nginx ]; then nginx_up "${@:2}"; else server_up "$1" -q "${@:2}"; fi
}

# file_bytes SIZE: BYTES, those of a files-sweep file: 1k -> 1024, 1m -> 1048576.
file_bytes() {
	local n=${1%[km]}
	case "$1" in
	*k) BYTES=$((n * 1024)) ;;
	*m) BYTES=$((n * 1048576)) ;;
	*)  BYTES=$n ;;
	esac
}

# Why a model fails where it does; added to the reason.
model_hint() {
	case "$1" in
	blocking) echo "blocking serves one connection at a time; the others wait for it to close" ;;
	select)   echo "select refuses descriptors >= FD_SETSIZE (1024) with 503" ;;
	threads)  echo "one thread per connection: creating them failed or fell behind; this machine allows ${MAX_TASKS:-?} tasks (the least of kernel.threads-max, pid_max, vm.max_map_count / 2, ulimit -u)" ;;
	fork)     echo "one process per connection, forked at accept; this machine allows ${MAX_TASKS:-?} tasks (the least of kernel.threads-max, pid_max, ulimit -u)" ;;
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
	local sargs=() largs=() duration=$DURATION path=/ warmup limit load starve_ok=0 _
	HPID=""
	case "$option" in
	backlog=*) sargs+=(-b "${option#backlog=}")
		   # a SYN dropped at a full accept queue is retried after 1 s, then 3 s
		   duration=$BACKLOG_DURATION ;;
	nodelay)   sargs+=(--nodelay) ;;
	cork)      sargs+=(--cork) ;;
	file=*)    sargs+=(--root "$FILES_DIR") path="/f${option#file=}.bin"
		   file_bytes "${option#file=}"
		   row_set file_bytes "$BYTES" ;;
	think=*)   # exponential waits, as independent users make: their
		   # requests arrive spread out, not in waves of N at once
		   largs+=(--think "exp:${option#think=}")
		   talk_duration "${option#think=}" "$conns" "$([[ " $PER_CONN_MODELS " == *" $model "* ]] && echo 1)" ;;
	esac
	[ "$mode" = close ] && largs+=(--close)
	[ "$pipeline" -gt 1 ] && largs+=(--pipeline "$pipeline")
	# The warm-up is long enough for every connection to be accepted, by a
	# server that forks or starts a thread per connection (ACCEPT_RATE a
	# second at worst); when the burst of connects is bigger than the accept
	# queue can hold (net.core.somaxconn), the dropped SYNs are sent again
	# after 1 s, and the warm-up waits for them too.
	# More than twice the queue's worth, and some SYNs are dropped twice:
	# their second try comes 3 s after the first (10,000 talking clients).
	local ms=$((WARMUP_MS + (conns > SOMAXCONN ? 1200 : 0) + (conns > 2 * SOMAXCONN ? 3000 : 0)))
	[[ " $PER_CONN_MODELS " == *" $model "* ]] && ms=$((ms + conns * 1000 / ACCEPT_RATE))
	printf -v warmup '%d.%03d' $((ms / 1000)) $((ms % 1000))
	WARMUP_RUN_MS=$ms
	limit=$(( (ms + ${duration%.*} * 1000) / 1000 + 16 ))
	row_set status ok
	row_set reason ""
	read -r load _ < /proc/loadavg
	row_set loadavg1 "$load"

	if [ "$model" != nginx ] && [ ! -x "$BIN/$model" ]; then
		fail "not built: $BIN/$model is missing"
	elif ! bench_server_up "$model" "${sargs[@]}" 2> /dev/null; then
		fail "server did not start: $(head -c 200 "$SERVER_ERR")"
	elif [ "$idle" -gt 0 ] && ! hold_idle "$idle"; then
		fail "$HOLD_WHY" "$model"
	else
		measure "$model" "$idle" "$conns" "$duration" "$warmup" "$limit" "http://127.0.0.1:$SERVER_PORT$path" "${largs[@]}"
	fi
	server_down
	release_idle
	[ "${ROW[counters_from]}" = since_start ] && read_counters "" "$SERVER_STATS"
	[ "${ROW[status]}" = ok ] && judge "$model" "$idle" "$conns" "$mode" "$option"
}

# talk_duration THINK_MS CONNS TASKS: duration, at least DURATION, 0.5 s and
# five mean think times, and with TASKS (a model of a thread or a process
# per connection: mid_run reads every one of them, 1.3 s for 10,000, on a
# CPU loadgen keeps busy: 3 s or more for 10,000) 1 s per 1,000
# connections, 1 s at least; starve_ok,
# how many of CONNS may go unanswered by chance. A client whose waits are
# exponential with mean Z sends nothing for D seconds with probability
# e^(-D/Z) (0.7% at D = 5 Z): of 10,000 such clients about 67 are not
# served in the measured seconds, and that is no fault of the server. Twice that, and 3 more, are allowed; a server that
# leaves more unanswered did not keep up with them.
talk_duration() {
	local ms
	read -r ms starve_ok <<< "$(awk -v d="$duration" -v t="$1" -v n="$2" -v tasks="$3" 'BEGIN {
		ms = d * 1000 > 5 * t ? d * 1000 : 5 * t
		if (ms < 500) ms = 500
		if (tasks && ms < 1000) ms = 1000
		if (tasks && ms < n) ms = n
		printf "%d %d\n", ms, 2 * n * exp(-ms / t) + 3 }')"
	printf -v duration '%d.%03d' $((ms / 1000)) $((ms % 1000))
}

# measure MODEL IDLE CONNS DURATION WARMUP LIMIT URL LOADGEN_ARGS...: the
# measured loadgen run, between the BEFORE and AFTER samples of the server.
measure() {
	local model=$1 idle=$2 conns=$3 duration=$4 warmup=$5 limit=$6 url=$7; shift 7
	local lpid rc ns0=0 snap0="" steal0 total0 peak=0 usr1=0 ng0="" ng1 sampler mid pss _
	# Memory while the server holds the idle connections and nothing else:
	# PSS of its whole tree (harness/proc.bash), so a process per connection and
	# a thread per connection are measured alike.
	read -r _ pss <<< "$(proc_tree_mem_kb "$SERVER_PID")"
	row_set srv_pss_kb "${pss:-NA}"
	if catches_usr1; then usr1=1; server_snapshot; snap0=$SERVER_SNAPSHOT; fi
	[ "$model" = nginx ] && ng0=$(nginx_requests)
	# without a snapshot the counters are since the start: so is the CPU time
	if [ -n "$snap0" ] || [ -n "$ng0" ]; then proc_tree_cpu "$SERVER_PID"; ns0=$PROC_CPU_NS; fi
	host_ticks
	steal0=$HOST_STEAL total0=$HOST_TOTAL
	start_group taskset -c "$LOADGEN_CPU" timeout -k 2 "$limit" "$LOADGEN" -c "$conns" -t 1 -d "$duration" \
		--warmup "$warmup" --timeout 2000 --format csv --header \
		"$@" "$url" > "$WORK/loadgen.csv" 2> "$WORK/loadgen.err"
	lpid=$GROUP_PID
	PIDS+=("$lpid")
	# Threads and children end with their connections: a sampler counts them
	# meanwhile, every 0.1 s, appending each new peak to a file, so that this
	# shell waits for loadgen itself and goes on the moment it exits. It also
	# takes what must be read while the connections are open (mid_run).
	: > "$WORK/tasks"
	: > "$WORK/mid"
	( while :; do count_tasks && echo "$peak" >> "$WORK/tasks"; nap 0.1; done ) &
	sampler=$!
	mid_run "$duration" &
	mid=$!
	wait "$lpid"; rc=$?
	forget_pid "$lpid"
	kill "$sampler" "$mid" 2>/dev/null; wait "$sampler" "$mid" 2>/dev/null
	while read -r ng1; do [ "${ng1:-0}" -gt "$peak" ] && peak=$ng1; done < "$WORK/tasks"
	if ! proc_alive "$SERVER_PID"; then
		fail "the server exited during the run: $(tail -c 200 "$SERVER_ERR")" "$model"
		return
	fi
	proc_tree_cpu "$SERVER_PID"
	host_ticks
	if [ $usr1 = 1 ] && [ -n "$snap0" ]; then
		row_set counters_from snapshot
		server_snapshot
		read_counters "$snap0" "$SERVER_SNAPSHOT"
	elif [ -n "$ng0" ] && ng1=$(nginx_requests) && [ -n "$ng1" ]; then
		row_set counters_from snapshot
		row_set srv_requests $(( ng1 - ng0 - 1 ))   # less the status request itself
	elif [ "$model" != nginx ]; then
		row_set counters_from since_start    # read from the exit line, in run_once
	fi
	server_cpu "$ns0" "$PROC_CPU_NS"
	# stolen time in hundredths of a per cent, by integer arithmetic
	local st=0
	[ "$HOST_TOTAL" -gt "$total0" ] && st=$(( 10000 * (HOST_STEAL - steal0) / (HOST_TOTAL - total0) ))
	printf -v st '%d.%02d' $((st / 100)) $((st % 100))
	row_set steal_pct "$st"
	count_tasks
	row_set srv_tasks "$peak"
	[ "$idle" -gt 0 ] && row_set idle_open $(( $(proc_sockets "$SERVER_PID") - HOLD_BASE ))
	read_loadgen "$WORK/loadgen.csv"
	mid_read
	if [ $rc -ge 124 ]; then
		fail "time limit of ${limit}s exceeded"
	elif { [ $rc = 3 ] || [ "${ROW[conns_starved]:-NA}" != NA -a "${ROW[conns_starved]}" != 0 ]; } &&
		! [ "${ROW[conns_starved]}" -le "$starve_ok" ] 2>/dev/null; then
		fail "${ROW[conns_starved]} of ${ROW[conns_established]} established connections were never answered (starved)" "$model"
	elif [ "${ROW[requests]}" = NA ]; then
		fail "loadgen exit $rc: $(head -c 200 "$WORK/loadgen.err")"
	fi
}

# mid_run DURATION: from the start of the measuring loadgen, what is read
# while its connections are open, into $WORK/mid: the server's context
# switches at 5% and at 50% of the measured seconds, each with the middle
# of the time its reading took ("switches S USEC"), and its memory after
# them ("pss KB"). Read at the end instead, the threads and the processes of
# a connection would have ended with it, and their counts with them; the
# second half of the seconds leaves time for a slow reading to end before
# loadgen does (and with it, the connections).
mid_run() {
	local start=${EPOCHREALTIME/./} dur_us at left dt pss t0 _
	dur_us=$(awk -v d="$1" 'BEGIN { printf "%d", d * 1e6 }')
	for at in 5 50 51; do
		left=$(( start + WARMUP_RUN_MS * 1000 + dur_us * at / 100 - ${EPOCHREALTIME/./} ))
		printf -v dt '%d.%06d' $((left / 1000000)) $((left % 1000000))
		((left > 0)) && nap "$dt"
		if [ $at = 51 ]; then
			read -r _ pss <<< "$(proc_tree_mem_kb "$SERVER_PID")"
			echo "pss ${pss:-NA}" >> "$WORK/mid"
		else
			t0=${EPOCHREALTIME/./}
			proc_tree_switches "$SERVER_PID"
			echo "switches $PROC_SWITCHES $(( (t0 + ${EPOCHREALTIME/./}) / 2 ))" >> "$WORK/mid"
		fi
	done
}

# mid_read: srv_switches and srv_pss_load_kb from mid_run's readings: the
# switches a second between its two readings, times the measured seconds
# (NA when the run ended before the second reading).
mid_read() {
	local what a b s0="" t0 s1="" t1
	while read -r what a b; do
		case "$what" in
		pss) row_set srv_pss_load_kb "$a" ;;
		switches) if [ -z "$s0" ]; then s0=$a t0=$b; else s1=$a t1=$b; fi ;;
		esac
	done < "$WORK/mid"
	[ -n "$s1" ] && [ "$t1" -gt "$t0" ] &&
		row_set srv_switches "$(awk -v n=$((s1 - s0)) -v us=$((t1 - t0)) -v s="${ROW[seconds]}" 'BEGIN { printf "%.0f", n / us * 1e6 * s }')"
	return 0
}

# count_tasks: raises peak to the server's threads + live children now;
# false when it did not rise.
count_tasks() {
	local n
	n=$(proc_tasks "$SERVER_PID")
	[ "$n" -gt "$peak" ] && peak=$n
}

# server_cpu NS0 NS1: srv_cpu_s, the server's CPU time between two readings
# of proc_tree_cpu (harness/proc.bash), to the microsecond.
server_cpu() {
	local ns=$(($2 - $1)) d
	printf -v d '%d.%06d' $((ns / 1000000000)) $((ns / 1000 % 1000000))
	row_set srv_cpu_s "$d"
}

# read_counters BEFORE AFTER: each srv_ counter as AFTER - BEFORE (BEFORE
# empty: since the start). srv_peak is the peak itself, not a difference.
read_counters() {
	local name a b re
	[ -z "$2" ] && return
	for name in requests accepted wakeups events refused errors peak; do
		re="(^| )$name=([0-9]+)"
		[[ $2 =~ $re ]] || continue
		b=${BASH_REMATCH[2]} a=0
		[[ $1 =~ $re ]] && a=${BASH_REMATCH[2]}
		if [ $name = peak ]; then row_set srv_peak "$b"; else row_set "srv_$name" $((b - a)); fi
	done
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

# ---- nginx, the reference ------------------------------------------------------

# nginx_up [-b N] [--root DIR]: one nginx process (master_process off), the
# reference, as server_up starts a model: SERVER_PID, SERVER_PORT,
# SERVER_OUT, SERVER_ERR; 1 if it does not take a connection within 5 s. It
# serves the files of FILES_DIR always (bench/nginx.conf.in).
nginx_up() {
	local dir="$WORK/nginx" backlog=511 deadline fd
	[ "${1:-}" = -b ] && backlog=$2
	mkdir -p "$dir/logs"
	SERVER_MODEL=nginx SERVER_PORT=$(free_port) SERVER_STATS="" SERVER_SNAPSHOT=""
	SERVER_OUT=$WORK/nginx.out SERVER_ERR=$WORK/nginx.err
	sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$SERVER_PORT|" -e "s|@NOFILE@|$NOFILE|g" \
		-e "s|@BACKLOG@|$backlog|" -e "s|@FILES@|$FILES_DIR|" "$ROOT/bench/nginx.conf.in" > "$dir/nginx.conf"
	start_group taskset -c "$SERVER_CPU" nginx -p "$dir" -c "$dir/nginx.conf" > "$SERVER_OUT" 2> "$SERVER_ERR"
	SERVER_PID=$GROUP_PID
	PIDS+=("$SERVER_PID")
	# ready when it takes a connection (bash's /dev/tcp: nothing forked)
	usec_now
	deadline=$(( USEC_NOW + 5000000 ))
	until { exec {fd}<> "/dev/tcp/127.0.0.1/$SERVER_PORT"; } 2> /dev/null; do
		usec_now
		proc_alive "$SERVER_PID" && (( USEC_NOW < deadline )) || return 1
		nap 0.01
	done
	exec {fd}>&-
}

# nginx_requests: the requests nginx has answered, from its stub_status page
# (bench/nginx.conf.in), asked over bash's /dev/tcp.
nginx_requests() {
	local reply
	reply=$( exec 3<>"/dev/tcp/127.0.0.1/$SERVER_PORT" && printf 'GET /c10k-status HTTP/1.0\r\n\r\n' >&3 && timeout 2 cat <&3 ) 2>/dev/null
	awk '/server accepts handled requests/ { getline; print $3; exit }' <<< "$reply"
}
# ---- the machine -----------------------------------------------------------------

# write_manifest FILE: the machine and the run's parameters, for report.md.
write_manifest() {
	local gov="not readable" mit
	[ -r /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor ] &&
		gov=$(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor)
	mit=$(grep -H . /sys/devices/system/cpu/vulnerabilities/* 2>/dev/null | sed 's|.*/||; s/^/    /')
	{
		echo "c10k-lab bench manifest"
		echo "date:            $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
		echo "git commit:      $(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- servers clients bench harness lib 2>/dev/null || echo ' (with uncommitted changes)')"
		echo "kernel:          $(uname -srvm)"
		echo "cpu model:       $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
		echo "cpus online:     $(nproc --all) (this run may use: $CPUS)"
		echo "pinning:         server on CPU $SERVER_CPU, loadgen on CPU $LOADGEN_CPU"
		echo "memory:          $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
		echo "governor:        $gov"
		echo "load average:    $(cut -d' ' -f1-3 /proc/loadavg) (at start)"
		echo "descriptors:     soft $(ulimit -Sn), hard $(ulimit -Hn), fs.nr_open $NR_OPEN"
		echo "port range:      $PORT_LO-$PORT_HI ($PORTS ports)"
		echo "somaxconn:       $(cat /proc/sys/net/core/somaxconn)"
		echo "tcp_tw_reuse:    $(cat /proc/sys/net/ipv4/tcp_tw_reuse)"
		echo "compiler:        $(${CC:-cc} --version 2>/dev/null | head -1), built with -O2"
		echo "gnuplot:         $(gnuplot --version)"
		echo "bash:            $BASH_VERSION"
		[ "$REF" = nginx ] && echo "nginx:           $(nginx -v 2>&1 | sed 's/.*: //'), one process (master_process off)"
		echo "binaries:        $BIN"
		echo "mode:            $([ "$QUICK" = 1 ] && echo quick || echo full), $ROUNDS rounds, ${DURATION}s measured + ${WARMUP}s warm-up"
		echo "shuffle seed:    $SEED"
		echo "control:         $CONTROL_RUNS runs a round of each sweep's A/A control"
		echo "models:          $MODELS${REF:+ + $REF}"
		echo "sweeps:          $SWEEPS"
		echo "idle counts:     $IDLE_LIST (largest possible here: $MAX_IDLE)"
		echo "active counts:   $ACTIVE_LIST"
		echo "mitigations:"
		echo "${mit:-    not readable}"
	} > "$1"
}
