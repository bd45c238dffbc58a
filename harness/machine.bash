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
#   host_ticks [FILE]  HOST_STEAL HOST_IDLE HOST_TOTAL: the whole machine's ticks
#   machine_pti [FILE] on, off or unknown: kernel page-table isolation
#   cpu_quota        the CPUs this process's cgroup may use (cpu.max), or none
#   perf_refusal [calls]  status 0, silent, when perf can sample the kernel's
#                    frames of our own child (with calls: read the syscall
#                    tracepoints too); else 1 and one line on stdout saying
#                    what stops it and the exact fix (make profile, labs, doctor)

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

# ---- what makes one machine's figures differ from another's ------------------

# host_ticks [FILE]: HOST_STEAL, HOST_IDLE (idle + iowait) and HOST_TOTAL,
# ticks of the whole machine so far, from the cpu line of /proc/stat (or
# FILE, a copy of it: the doctor's tests) (user nice system idle iowait irq
# softirq steal ...). Two readings give shares of a span.
host_ticks() {
	local t=() v
	read -r -a t < "${1:-/proc/stat}"       # t[0] is "cpu"
	HOST_STEAL=${t[8]:-0} HOST_IDLE=$((${t[4]:-0} + ${t[5]:-0})) HOST_TOTAL=0
	for v in "${t[@]:1}"; do HOST_TOTAL=$((HOST_TOTAL + v)); done
}

# machine_pti [FILE]: "on" when the kernel isolates its page tables from
# user space (PTI, the Meltdown mitigation: every syscall and interrupt
# switches page tables, so every request costs more), "off" when it does
# not, "unknown" when the kernel does not say. FILE stands for
# /sys/devices/system/cpu/vulnerabilities/meltdown (the doctor's tests).
machine_pti() {
	local m
	m=$(cat "${1:-/sys/devices/system/cpu/vulnerabilities/meltdown}" 2>/dev/null) || { echo unknown; return; }
	case "$m" in
	*PTI*) echo on ;;
	*) echo off ;;
	esac
}

# cpu_quota: the CPUs this process may use by its cgroup's CPU bandwidth
# limit, the smallest on the way up to the root, as "0.50"; "none" when
# nothing caps it. cgroup v2 (Ubuntu 22.04 and later): cpu.max, "QUOTA
# PERIOD" or "max PERIOD"; cgroup v1 (older systems, some containers):
# cpu.cfs_quota_us (-1: none) over cpu.cfs_period_us in the cpu hierarchy.
cpu_quota() {
	local cg dir root q p best=""
	if cg=$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ { print $3; exit }' /proc/self/cgroup 2>/dev/null) && [ -n "$cg" ]; then
		root=$(awk '$3 == "cgroup" && $4 ~ /(^|,)cpu(,|$)/ { print $2; exit }' /proc/mounts)
	else
		cg=$(awk -F: '$1 == 0 { print $3 }' /proc/self/cgroup 2>/dev/null)
		root=/sys/fs/cgroup
	fi
	[ -n "$cg" ] && [ -n "$root" ] || { echo none; return; }
	dir=$root${cg%/}
	while :; do
		q="" p=""
		if [ -r "$dir/cpu.max" ]; then
			read -r q p < "$dir/cpu.max"
		elif [ -r "$dir/cpu.cfs_quota_us" ]; then
			q=$(cat "$dir/cpu.cfs_quota_us") p=$(cat "$dir/cpu.cfs_period_us")
		fi
		if [ -n "$q" ] && [ "$q" != max ] && [ "$q" != -1 ]; then
			best=$(awk -v q="$q" -v p="$p" -v b="$best" 'BEGIN { v = q / p; print (b == "" || v < b) ? v : b }')
		fi
		[ "$dir" = "$root" ] && break
		dir=${dir%/*}
	done
	if [ -n "$best" ]; then printf '%.2f\n' "$best"; else echo none; fi
}

# perf_refusal [calls]: can this user see the kernel's side of a server it
# starts? perf_event_open(2) decides by kernel.perf_event_paranoid: at 2 (the
# kernel's default) a normal user samples only user space, at 1 the kernel
# too, and Debian's and Ubuntu's kernels add 3 (their default there): no perf
# at all for a normal user; and the kernel's frames have names for a normal
# user only at kernel.kptr_restrict=0 (Ubuntu sets 1). Root may always, unless a container's seccomp
# profile refuses the call. The per-call times (calls) read tracepoints,
# which need root and tracefs (the caller mounts it: we only say so here).
# Asked of perf itself, each answer a cheap `perf stat` of `true`.
perf_refusal() {
	local paranoid kptr err where="" persist sysctl="" pkgs=()
	paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo "?")
	persist="printf 'kernel.perf_event_paranoid = 1\\nkernel.kptr_restrict = 0\\n' | sudo tee /etc/sysctl.d/60-perf.conf"
	if [ -f /.dockerenv ] || [ -f /run/.containerenv ]; then where=" (in a container)"; fi
	if ! tool_present perf; then
		mapfile -t pkgs < <(package_of perf "$(os_family)")
		echo "perf is not installed$where; fix: $(install_command "$(os_family)" "${pkgs[@]}" 2>/dev/null ||
			echo "install perf")"
		return 1
	fi
	kptr=$(cat /proc/sys/kernel/kptr_restrict 2>/dev/null || echo 0)
	if [ "$(id -u)" != 0 ] && [ "$paranoid" != "?" ] && [ "$paranoid" -gt 1 ]; then
		[ "$kptr" = 0 ] || sysctl+=" kernel.kptr_restrict=0"
		echo "kernel.perf_event_paranoid=$paranoid lets a normal user sample no kernel frames;" \
			"fix: sudo sysctl kernel.perf_event_paranoid=1$sysctl (until reboot; to keep it: $persist)"
		return 1
	fi
	# kallsyms shows a normal user zeros for the kernel's addresses unless
	# kptr_restrict is 0: perf would sample kernel frames it cannot name
	if [ "$(id -u)" != 0 ] && [ "$kptr" != 0 ]; then
		echo "kernel.kptr_restrict=$kptr hides the kernel's symbols from a normal user;" \
			"fix: sudo sysctl kernel.kptr_restrict=0 (until reboot; to keep it: $persist)"
		return 1
	fi
	if ! err=$(perf stat -e cpu-clock:k -x, -o /dev/null -- true 2>&1); then
		err=$(grep -m 1 -v '^$' <<< "$err")
		if [ -n "$where" ]; then
			echo "perf cannot sample$where: ${err:-refused}; fix: start the container with" \
				"--cap-add PERFMON --security-opt seccomp=unconfined, or profile on the host"
		else
			echo "perf cannot sample the kernel (kernel.perf_event_paranoid=$paranoid): ${err:-refused};" \
				"fix: sudo sysctl kernel.perf_event_paranoid=1"
		fi
		return 1
	fi
	[ "${1:-}" = calls ] || return 0
	if [ "$(id -u)" != 0 ]; then
		echo "the per-call times read the kernel's syscall tracepoints, which only root may;" \
			"fix: run it with sudo (the flame graphs need no root)"
		return 1
	fi
	if ! err=$(perf stat -e syscalls:sys_enter_poll -x, -o /dev/null -- true 2>&1); then
		echo "perf cannot read the syscall tracepoints$where ($(grep -m 1 -v '^$' <<< "$err"));" \
			"fix: sudo mount -t tracefs nodev /sys/kernel/tracing"
		return 1
	fi
}
