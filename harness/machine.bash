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
#   perf_refusal [calls]  status 0, silent, when perf can sample the kernel's
#                    frames of our own child (with calls: read the syscall
#                    tracepoints too); else 1 and one line on stdout saying
#                    what stops it and the exact fix (make profile, labs, doctor)

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
