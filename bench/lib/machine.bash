# bench/lib/machine.bash: the machine a run is on, sourced by bench/run.
#
#   raise_limits     descriptors up to the hard limit (towards fs.nr_open); sets
#                    NOFILE, NR_OPEN, PORT_LO, PORT_HI, PORTS, MAX_IDLE
#   pick_cpus        SERVER_CPU and LOADGEN_CPU, two different CPUs when there are;
#                    the harness moves to LOADGEN_CPU
#   need_tool CMD PKG    installs PKG when CMD is missing and we may (root with
#                    apt-get, as tests/deps does); 1 if CMD is still missing
#   write_manifest FILE  the machine and the run's parameters

raise_limits() {
	# Each idle connection costs a descriptor in the server, one in the load
	# generator and a local port.
	NR_OPEN=$(cat /proc/sys/fs/nr_open 2>/dev/null || echo 1048576)
	ulimit -Hn "$NR_OPEN" 2>/dev/null || ulimit -Hn 1048576 2>/dev/null || true
	ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
	NOFILE=$(ulimit -Sn)
	[ "$NOFILE" = unlimited ] && NOFILE=$NR_OPEN
	read -r PORT_LO PORT_HI < /proc/sys/net/ipv4/ip_local_port_range
	PORTS=$((PORT_HI - PORT_LO + 1))
	# a few descriptors for the process itself, ports left for everyone else
	MAX_IDLE=$(( NOFILE - ACTIVE - 64 < PORTS - ACTIVE - 2000 ? NOFILE - ACTIVE - 64 : PORTS - ACTIVE - 2000 ))
}

pick_cpus() {
	# The CPUs we were given (e.g. "0,1" or "0-3"), remembered for what we start:
	# this shell moves itself to one CPU below, and a bench/run started from
	# here (make lab) must not take that one CPU for all it may use.
	CPUS=${BENCH_CPUS:-$(taskset -pc $$ | sed 's/.*: //')}
	export BENCH_CPUS=$CPUS
	read -r SERVER_CPU LOADGEN_CPU _ <<< "$(echo "$CPUS" | awk -F, '{ for (i = 1; i <= NF; i++) {
		n = split($i, r, "-"); for (c = r[1]; c <= r[n]; c++) printf "%d ", c } }')"
	if [ -z "$LOADGEN_CPU" ]; then
		LOADGEN_CPU=$SERVER_CPU
		note "only one CPU: server and load generator share CPU $SERVER_CPU, so every"
		note "figure includes the load generator's own cost; compare models, not absolute numbers"
	else
		# The harness itself (this shell, its /proc readings, the sampler that
		# counts threads every 0.1 s) stays off the server's CPU: there it would
		# take turns with the server and, by evicting its caches, raise the
		# server's CPU per request by a noisy amount. On the load generator's
		# CPU it costs the client a little, alike for every model.
		taskset -pc "$LOADGEN_CPU" $$ > /dev/null
	fi
}

need_tool() {
	command -v "$1" >/dev/null && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "$1 is missing; installing $2 ..."
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$2"; } >/dev/null 2>&1
	fi
	command -v "$1" >/dev/null
}

write_manifest() {
	local gov="not readable" mit
	[ -r /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor ] &&
		gov=$(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor)
	mit=$(grep -H . /sys/devices/system/cpu/vulnerabilities/* 2>/dev/null | sed 's|.*/||; s/^/    /')
	{
		echo "c10k-lab bench manifest"
		echo "date:            $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
		echo "git commit:      $(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- servers clients bench lib 2>/dev/null || echo ' (with uncommitted changes)')"
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
