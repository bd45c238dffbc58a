# harness/machine.bash: the machine the bench or a lab measures on: limits,
# tools, CPUs and the optimised build. Sourced by harness/harness.bash.
#
#   raise_limits     descriptors up to the hard limit (towards fs.nr_open); sets
#                    NOFILE, NR_OPEN, PORT_LO, PORT_HI, PORTS, MAX_IDLE (it reads
#                    ACTIVE, the active connections to keep room for)
#   pick_cpus        SERVER_CPU and LOADGEN_CPU, two different CPUs when there are;
#                    the calling shell moves to LOADGEN_CPU (it calls `note`)
#   need_tool CMD PKG    installs CMD's package when CMD is missing and we may
#                    (root, apt-get or dnf, as make setup does): the package
#                    tools/packages names for this distribution, else PKG;
#                    1 if CMD is still missing
#   build_optimised  builds everything with -O2 into build/bench/; sets BIN to
#                    build/bench/bin; 1 if the build failed
#   host_ticks       HOST_STEAL, HOST_IDLE and HOST_TOTAL: ticks of the whole machine
#                    so far (/proc/stat); two readings make a steal or busy share
#   machine_facts    prints the machine as "key: value" lines: kernel, pti,
#                    cpu_model, cpus (the head of a lab's manifest)

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
	# The CPUs we may use (allowed_cpus: our affinity, within our cpuset; on a
	# shared VM not necessarily 0 and 1), remembered as "0,1" for what we
	# start: this shell moves itself to one CPU below, and a bench/run
	# started from here (make lab) must not take that one CPU for all it may use.
	CPUS=${BENCH_CPUS:-$(allowed_cpus | tr ' ' ,)}
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
	local family pkgs
	command -v "$1" >/dev/null && return 0
	family=$(os_family)
	mapfile -t pkgs < <(package_of "$1" "$family")
	((${#pkgs[@]})) || pkgs=("$2")
	if [ "$(id -u)" = 0 ] && [ "$family" != unknown ]; then
		echo "$1 is missing; installing ${pkgs[*]} ..."
		packages_update "$family"
		packages_install "$family" "${pkgs[@]}" 2>/dev/null
	fi
	command -v "$1" >/dev/null
}

# build_optimised: the binaries the bench and the labs measure, built with
# -O2 into build/bench/, apart from make's own build (bin/, build/), so that
# measuring never rebuilds what the tests use, nor the other way round.
build_optimised() {
	echo "building with -O2 into build/bench/ ..."
	make -C "$HARNESS_DIR/.." --no-print-directory -j2 all OPT=-O2 BUILD=build/bench BINDIR=build/bench/bin \
		> /dev/null || return 1
	BIN=$(cd "$HARNESS_DIR/../build/bench/bin" && pwd)
}

# host_ticks: HOST_STEAL, HOST_IDLE and HOST_TOTAL, ticks of the whole machine
# from the cpu line of /proc/stat (user nice system idle iowait irq softirq
# steal ...). Idle counts iowait too: a CPU waiting for a disk is free to run.
host_ticks() {
	local t=() v
	read -r -a t < /proc/stat       # t[0] is "cpu"
	HOST_STEAL=${t[8]:-0} HOST_IDLE=$((${t[4]:-0} + ${t[5]:-0})) HOST_TOTAL=0
	for v in "${t[@]:1}"; do HOST_TOTAL=$((HOST_TOTAL + v)); done
}

# machine_facts: what makes one machine's figures differ from another's, as
# "key: value" lines. pti is "on" when the kernel isolates its page tables
# (Meltdown's mitigation; it makes every syscall dearer), "off" when it
# does not, "unknown" when the kernel does not say.
machine_facts() {
	local meltdown pti=unknown
	meltdown=$(cat /sys/devices/system/cpu/vulnerabilities/meltdown 2>/dev/null)
	case "$meltdown" in
	*PTI*) pti=on ;;
	?*) pti=off ;;
	esac
	echo "kernel: $(uname -r)"
	echo "pti: $pti"
	echo "cpu_model: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "cpus: $(getconf _NPROCESSORS_ONLN)"
}
