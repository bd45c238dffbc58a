# harness/machine.bash: the machine the bench or a lab measures on: limits,
# tools, CPUs and the optimised build. Sourced by harness/harness.bash.
#
#   raise_limits [CONNS [TASKS]]   the limits of a run that holds CONNS idle
#                    connections (beside ACTIVE active ones, which it reads) in
#                    a server of up to TASKS threads or processes: descriptors up
#                    to the hard limit (towards fs.nr_open) always; as root, also
#                    each sysctl below that is lower than the run needs (never
#                    lowered; never as a normal user). Each limit that still
#                    stops the run: one line (note) naming it and how to raise
#                    it, and status 1. Sets NOFILE, NR_OPEN, PORT_LO, PORT_HI,
#                    PORTS, MAX_IDLE (idle connections the descriptors allow)
#                    and MAX_TASKS (threads or processes the kernel allows)
#   sysctl_at_least NAME VALUE   as root, raises sysctl NAME to VALUE when it is
#                    lower (one note says so); 1, and one note naming the
#                    command, when it stays lower. A NAME this kernel lacks: 0
#   pick_cpus        SERVER_CPU and LOADGEN_CPU, two different CPUs when there are;
#                    the calling shell moves to LOADGEN_CPU (it calls `note`)
#   need_tool CMD PKG    installs CMD's package when CMD is missing and we may
#                    (root, apt-get or dnf, as make setup does): the package
#                    tools/packages names for this distribution, else PKG;
#                    1 if CMD is still missing
#   build_optimised  builds everything with -O2 into build/bench/; sets BIN to
#                    build/bench/bin; 1 if the build failed

sysctl_at_least() {
	local name=$1 want=$2 file have
	file=/proc/sys/${name//.//}
	[ -r "$file" ] || return 0
	have=$(<"$file")
	(( have >= want )) && return 0
	if [ "$(id -u)" = 0 ] && echo "$want" 2>/dev/null >"$file"; then
		note "raised $name from $have to $want for this run (it stays until a reboot)"
		return 0
	fi
	note "$name is $have, the run needs $want: as root, sysctl -w $name=$want"
	return 1
}

# Each idle connection costs a descriptor in the server and one in the load
# generator: RLIMIT_NOFILE is per process, so both fit under one limit, and
# fs.file-max (the whole system's) must hold twice as many. Local ports are
# no limit here: against a loopback server loadgen spreads its connections
# over 127.0.0.1, .2, ... (docs/loadgen.md), each with its own range, so
# the port range is never widened (a wider one would take ports a server
# started later may want). A server with a thread or a process per
# connection needs one task each, and each thread two memory maps (its
# stack and the guard page below it).
raise_limits() {
	local conns=${1:-0} tasks=${2:-0} need short=0 nproc
	need=$(( conns + ${ACTIVE:-0} + 64 ))
	NR_OPEN=$(cat /proc/sys/fs/nr_open 2>/dev/null || echo 1048576)
	if (( need > NR_OPEN )); then
		sysctl_at_least fs.nr_open $(( (need + 1023) / 1024 * 1024 )) || short=1
		NR_OPEN=$(cat /proc/sys/fs/nr_open 2>/dev/null || echo "$NR_OPEN")
	fi
	ulimit -Hn "$NR_OPEN" 2>/dev/null || ulimit -Hn 1048576 2>/dev/null || true
	ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
	NOFILE=$(ulimit -Sn)
	[ "$NOFILE" = unlimited ] && NOFILE=$NR_OPEN
	if (( need > NOFILE )); then
		note "RLIMIT_NOFILE is $NOFILE, $conns connections need $need: as root, or with a higher hard limit (limits.conf nofile), ulimit -n $need"
		short=1
	fi
	sysctl_at_least fs.file-max $(( 2 * need + 65536 )) || short=1
	# one entry per connection; a full table drops SYNs without a word
	[ -r /proc/sys/net/netfilter/nf_conntrack_count ] &&
		{ sysctl_at_least net.netfilter.nf_conntrack_max \
			$(( $(</proc/sys/net/netfilter/nf_conntrack_count) + conns + 4096 )) || short=1; }
	if (( tasks > 0 )); then
		sysctl_at_least kernel.threads-max $(( tasks + 10000 )) || short=1
		sysctl_at_least kernel.pid_max $(( tasks + 10000 < 4194304 ? tasks + 10000 : 4194304 )) || short=1
		sysctl_at_least vm.max_map_count $(( 2 * tasks + 65530 )) || short=1
		ulimit -Su "$(ulimit -Hu)" 2>/dev/null || true
		nproc=$(ulimit -Su)
		if [ "$nproc" != unlimited ] && (( tasks > nproc )); then
			note "RLIMIT_NPROC is $nproc, the run needs $tasks tasks: as root, or with a higher hard limit (limits.conf nproc), ulimit -u $tasks"
			short=1
		fi
	fi
	read -r PORT_LO PORT_HI < /proc/sys/net/ipv4/ip_local_port_range
	PORTS=$((PORT_HI - PORT_LO + 1))
	MAX_IDLE=$(( NOFILE - ${ACTIVE:-0} - 64 )) # a few for the process itself
	MAX_TASKS=$(awk -v t="$(</proc/sys/kernel/threads-max)" -v p="$(</proc/sys/kernel/pid_max)" \
		-v m="$(</proc/sys/vm/max_map_count)" -v u="$(ulimit -Su)" 'BEGIN {
		n = t; if (p < n) n = p; if (m / 2 < n) n = int(m / 2); if (u != "unlimited" && u < n) n = u
		print n }')
	return "$short"
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
