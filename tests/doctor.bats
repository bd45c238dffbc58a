#!/usr/bin/env bats
# tests/doctor.bats: make doctor and make setup (tools/doctor, tools/setup).
# Each FAIL of the doctor is made to happen here without touching the
# machine: a PATH without the tool, a lower descriptor limit in a subshell,
# a fake /proc/sys (DOCTOR_SYSCTL), a fake kernel release (DOCTOR_KERNEL),
# an empty BIN; and make setup is asked for its command on each family
# through a fake os-release (OS_RELEASE).
# run: once

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
BIN=${BIN:-$ROOT/bin}
export BIN

setup() {
	SCRATCH=$(mktemp -d)
}

teardown() {
	# a test that took the measuring lock gives it back even when it failed
	if declare -F measure_unlock >/dev/null; then measure_unlock; fi
	rm -rf "$SCRATCH"
}

# path_without CMD...: a directory of links to every command on PATH but
# these; prints it, for PATH=.
path_without() {
	local farm=$SCRATCH/path dir skip=()
	mkdir -p "$farm"
	for cmd in "$@"; do skip+=(! -name "$cmd"); done
	# find walks PATH's directories in order and ln keeps the first of a
	# name, so each command resolves as it does on PATH
	IFS=: read -ra dirs <<<"$PATH"
	for dir in "${dirs[@]}"; do
		[ -d "$dir" ] || continue
		find "$dir" -maxdepth 1 \( -type f -o -type l \) "${skip[@]}" \
			-exec ln -s -t "$farm" {} + 2>/dev/null
	done
	echo "$farm"
}

# line NAME: the doctor's line for check NAME, from $output.
line() {
	grep -E "^(ok|warn|FAIL) +$1 " <<<"$output"
}

# fake_sysctl KEY=VALUE...: a directory standing for /proc/sys; prints it.
fake_sysctl() {
	local dir=$SCRATCH/sys kv
	mkdir -p "$dir/kernel" "$dir/fs"
	for kv in "$@"; do
		echo "${kv#*=}" >"$dir/${kv%%=*}"
	done
	echo "$dir"
}

@test "on this machine every line is ok or warn, one a check, in under 30 s" {
	local start=$SECONDS
	run "$ROOT/tools/doctor"
	echo "$output"
	# the contract is 30 s; a check takes well under one here
	[ $((SECONDS - start)) -lt 30 ]
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 18 ]
	# (`! cmd` fails a bats test only as its last command: compare instead)
	[ -z "$(grep -v -E '^(ok  |warn) +[a-z_]+ +.' <<<"$output" || true)" ]
}

@test "no gnuplot on PATH is a FAIL that names the package" {
	PATH=$(path_without gnuplot) run "$ROOT/tools/doctor"
	echo "$output"
	[ "$status" -eq 1 ]
	line gnuplot | grep -E '^FAIL .*not installed.*fix: .*install -y gnuplot'
}

@test "a hard descriptor limit below lab 2's need is a FAIL; below the bench's, a warning" {
	run bash -c 'ulimit -n 1000 && exec "$0"' "$ROOT/tools/doctor"
	echo "$output"
	[ "$status" -eq 1 ]
	line nofile | grep -E '^FAIL .*hard 1000 .*needs 5114; fix: '
	run bash -c 'ulimit -n 10000 && exec "$0"' "$ROOT/tools/doctor"
	line nofile | grep -E '^warn .*hard 10000 .*make bench needs 20000'
}

@test "kernel.io_uring_disabled=2 is a FAIL with the sysctl that fixes it" {
	DOCTOR_SYSCTL=$(fake_sysctl kernel/io_uring_disabled=2) run "$ROOT/tools/doctor"
	echo "$output"
	[ "$status" -eq 1 ]
	line io_uring | grep -F 'FAIL  io_uring  kernel.io_uring_disabled=2: io_uring is off for everyone: labs 5 and 8 measure epoll only; fix: sudo sysctl -w kernel.io_uring_disabled=0'
}

@test "kernel.io_uring_disabled=1 lets root and the group through, no one else" {
	DOCTOR_SYSCTL=$(fake_sysctl kernel/io_uring_disabled=1 kernel/io_uring_group=-1) run "$ROOT/tools/doctor"
	echo "$output"
	if [ "$(id -u)" = 0 ]; then
		[ -z "$(line io_uring | grep -F io_uring_disabled || true)" ]
	else
		line io_uring | grep -F 'FAIL  io_uring  kernel.io_uring_disabled=1: only root and group -1 may use io_uring: labs 5 and 8 measure epoll only; fix: sudo sysctl'
	fi
}

@test "a kernel before loadgen's 5.11 fails; before io_uring's 6.1, only io_uring fails" {
	DOCTOR_KERNEL=5.4.0-150-generic run "$ROOT/tools/doctor"
	echo "$output"
	[ "$status" -eq 1 ]
	line kernel | grep -F 'FAIL  kernel    5.4.0-150-generic: loadgen needs 5.11'
	DOCTOR_KERNEL=5.15.0-91-generic run "$ROOT/tools/doctor"
	echo "$output"
	[ "$status" -eq 1 ]
	line kernel | grep -E '^ok '
	line io_uring | grep -F 'FAIL  io_uring  kernel 5.15.0-91-generic, the io_uring model needs 6.1: labs 5 and 8 measure epoll only; fix: a 6.1 or later kernel'
}

@test "an io_uring server that refuses to start (a container's seccomp) is a FAIL with its reason" {
	mkdir "$SCRATCH/bin"
	ln -s "$BIN"/* "$SCRATCH/bin/"
	rm -f "$SCRATCH/bin/io_uring" "$SCRATCH/bin/io_uring.missing"
	# what bin/io_uring prints when a seccomp filter refuses io_uring_setup
	printf '#!/bin/sh\necho "io_uring: io_uring_setup: Operation not permitted" >&2\nexit 2\n' >"$SCRATCH/bin/io_uring"
	chmod +x "$SCRATCH/bin/io_uring"
	BIN=$SCRATCH/bin run "$ROOT/tools/doctor"
	echo "$output"
	[ "$status" -eq 1 ]
	line io_uring | grep -F 'FAIL  io_uring  bin/io_uring refuses: io_uring: io_uring_setup: Operation not permitted; fix: '
}

@test "perf that cannot sample the kernel is a profile warning with the fix; as a normal user at paranoid 2, the sysctl" {
	mkdir -p "$SCRATCH/fake"
	# what perf says at kernel.perf_event_paranoid=2 when asked for :k
	printf '#!/bin/sh\n[ "$1" = --version ] && { echo "perf version 6.1"; exit 0; }\necho "Access to performance monitoring and observability operations is limited." >&2\nexit 255\n' \
		>"$SCRATCH/fake/perf"
	chmod +x "$SCRATCH/fake/perf"
	PATH=$SCRATCH/fake:$PATH run "$ROOT/tools/doctor"
	echo "$output"
	line profile | grep -E '^warn +profile +perf cannot sample.*Access to performance monitoring.*fix: .*labs 2 and 3 skip'
	[ "$(id -u)" = 0 ] && id student1 >/dev/null 2>&1 || skip "the normal-user half needs root and the user student1"
	[ "$(cat /proc/sys/kernel/perf_event_paranoid)" -ge 2 ] || skip "kernel.perf_event_paranoid is below 2 here"
	local copy
	copy=$(mktemp -d /tmp/doctor-test.XXXXXX)
	cp -r "$ROOT/harness" "$ROOT/tools" "$copy" && chmod -R a+rX "$copy"
	run runuser -u student1 -- "$copy/tools/doctor"
	rm -rf "$copy"
	echo "$output"
	line profile | grep -E '^warn +profile +kernel.perf_event_paranoid=[2-9] .*fix: sudo sysctl kernel.perf_event_paranoid=1 '
}

@test "a kit not built is a FAIL that says make" {
	mkdir "$SCRATCH/bin"
	BIN=$SCRATCH/bin run "$ROOT/tools/doctor"
	echo "$output"
	[ "$status" -eq 1 ]
	line kit | grep -E '^FAIL .* has no blocking threads .* loadgen; fix: make$'
}

@test "a lab measuring now is a warning that names whose" {
	source "$ROOT/harness/sharing.bash"
	export MEASURE_LOCK_DIR=$SCRATCH/lock
	run "$ROOT/tools/doctor"
	line measuring | grep -E '^ok '
	measure_lock lab2
	run "$ROOT/tools/doctor"
	echo "$output"
	line measuring | grep -E "^warn  measuring $(id -un) lab2 $$ since [0-9T:-]+Z: "
}

# proc_stat USER IDLE STEAL: a /proc/stat whose cpu line has these ticks
# (nice, system, iowait, irq and softirq 0); prints its path.
proc_stat() {
	local f=$SCRATCH/stat.$1.$2.$3
	printf 'cpu  %s 0 0 %s 0 0 0 %s 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n' "$1" "$2" "$3" > "$f"
	echo "$f"
}

@test "noise: steal, a CPU quota and a busy machine are warnings that say which; a quiet one is ok" {
	local quiet busy stolen
	quiet="$(proc_stat 0 0 0) $(proc_stat 10 90 0)"
	busy="$(proc_stat 0 0 0) $(proc_stat 80 20 0)"
	stolen="$(proc_stat 0 0 0) $(proc_stat 20 70 10)"
	DOCTOR_STAT=$quiet DOCTOR_CPU_QUOTA=none run "$ROOT/tools/doctor"
	line noise | grep -E '^ok    noise     10% busy, steal 0%, no CPU quota'
	DOCTOR_STAT=$busy DOCTOR_CPU_QUOTA=none run "$ROOT/tools/doctor"
	line noise | grep -E '^warn  noise     the machine is 80% busy before any lab'
	DOCTOR_STAT=$stolen DOCTOR_CPU_QUOTA=none run "$ROOT/tools/doctor"
	line noise | grep -E '^warn  noise     steal 10%: the host gives'
	DOCTOR_STAT=$quiet DOCTOR_CPU_QUOTA=0.50 run "$ROOT/tools/doctor"
	echo "$output"
	line noise | grep -E '^warn  noise     this user.s cgroup may use 0.50 CPUs \(cpu.max\)'
}

@test "pti: the kernel's Meltdown line decides on or off, and either is ok" {
	echo "Mitigation: PTI" > "$SCRATCH/meltdown"
	DOCTOR_MELTDOWN=$SCRATCH/meltdown run "$ROOT/tools/doctor"
	line pti | grep -E '^ok    pti       on \(Meltdown mitigation\)'
	echo "Not affected" > "$SCRATCH/meltdown"
	DOCTOR_MELTDOWN=$SCRATCH/meltdown run "$ROOT/tools/doctor"
	line pti | grep -E '^ok    pti       off'
}

@test "doctor --brief: one line for the machine, with the first FAIL's name" {
	run "$ROOT/tools/doctor" --brief
	[ "${#lines[@]}" -eq 1 ]
	[[ ${lines[0]} =~ ^$(hostname):\ [0-9]+\ ok,\ [0-9]+\ warn,\ 0\ FAIL$ ]]
	DOCTOR_KERNEL=5.4 run "$ROOT/tools/doctor" --brief
	echo "$output"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ ${lines[0]} =~ \ 2\ FAIL\ \(first\ FAIL:\ kernel\)$ ]]
	# make's own BRIEF=1 prints that line alone, and exits 0: the line is the answer
	DOCTOR_KERNEL=5.4 run make -s -C "$ROOT" --no-print-directory doctor BRIEF=1
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
}

# os_release ID [ID_LIKE]: a fake /etc/os-release; prints its path.
os_release() {
	printf 'PRETTY_NAME="%s test"\nID=%s\nID_LIKE="%s"\n' "$1" "$1" "${2:-}" >"$SCRATCH/os-release"
	echo "$SCRATCH/os-release"
}

@test "setup --print: the one command for each family, the missing packages only" {
	local path
	path=$(path_without strace)
	OS_RELEASE=$(os_release debian) PATH=$path run "$ROOT/tools/setup" --print
	echo "$output"
	[ "$status" -eq 0 ]
	[[ ${lines[-1]} =~ apt-get\ update\ \&\&\ (sudo\ )?apt-get\ install\ -y\ strace$ ]]
	OS_RELEASE=$(os_release linuxmint "ubuntu debian") PATH=$path run "$ROOT/tools/setup" --print
	[[ ${lines[-1]} =~ apt-get\ install\ -y\ strace$ ]]
	OS_RELEASE=$(os_release rocky "rhel centos fedora") PATH=$path run "$ROOT/tools/setup" --print
	[[ ${lines[-1]} =~ ^(sudo\ )?dnf\ install\ -y\ strace$ ]]
	OS_RELEASE=$(os_release arch) PATH=$path run "$ROOT/tools/setup" --print
	[ "$status" -eq 1 ]
	[[ ${lines[-1]} =~ install\ by\ hand.*strace ]]
}

@test "setup --print on Ubuntu: perf for a kernel Ubuntu does not package is named, and left out" {
	command -v apt-cache >/dev/null || skip "apt-cache: a Debian or Ubuntu machine"
	OS_RELEASE=$(os_release ubuntu debian) PATH=$(path_without perf) run "$ROOT/tools/setup" --print
	echo "$output"
	grep -F "perf: no package linux-tools-$(uname -r) here (Ubuntu builds perf per kernel" <<<"$output"
	[[ ${lines[-1]} =~ apt-get\ install\ -y\ linux-tools-common$ ]]
}

@test "setup: nothing missing, nothing installed" {
	# a list of what every machine that runs the suites has
	grep -E '^(#|cc |make )' "$ROOT/tools/packages" >"$SCRATCH/packages"
	PACKAGES_LIST=$SCRATCH/packages run "$ROOT/tools/setup"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"everything the labs use is installed" ]]
}
