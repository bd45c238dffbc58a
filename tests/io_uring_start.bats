#!/usr/bin/env bats
#
# bin/io_uring where the kernel will not give it what it needs: it must say
# so in one line on stderr, print nothing on stdout (it never listened), and
# exit 2; never crash, never hang. bin/deny (tests/tools/deny.c) makes one
# syscall fail with a seccomp filter, as a container's profile or an older
# kernel does, so every case runs on a kernel that has everything, without
# root and without touching the machine's settings (kernel.io_uring_disabled
# would disable io_uring for every other process too).
#
# The conformance, clients, hostile and valgrind suites cover the model when
# it runs; this suite covers the start-up probe.

load suite

setup() {
	[ -x "$BIN/io_uring" ] || skip "$(cat "$BIN/io_uring.missing" 2>/dev/null || echo "no $BIN/io_uring")"
	[ -x "$BIN/deny" ] || skip "no $BIN/deny (make)"
}

teardown() {
	teardown_server
}

# refused SYSCALL ERRNO WORDS: bin/io_uring under deny exits 2 with one line
# on stderr that contains WORDS, and nothing on stdout.
refused() {
	run_stderr_apart timeout 10 "$BIN/deny" "$1" "$2" "$BIN/io_uring" -p 0
	echo "status $status; stdout: '$output'; stderr: '$stderr'"
	expect_eq 2 "$status" "exit status"
	expect_eq "" "$output" stdout
	expect_eq 1 "${#stderr_lines[@]}" "lines on stderr"
	[[ $stderr == "io_uring: cannot run here: "*"$3"* ]] ||
		expect_eq "io_uring: cannot run here: ...$3..." "$stderr" stderr
}

@test "deny: runs the program under its filter; an unknown syscall is a usage error" {
	run_expecting 0 "$BIN/deny" io_uring_setup EPERM true
	run_expecting 2 "$BIN/deny" no_such_call EPERM true
}

@test "io_uring forbidden (EPERM, as in a container): one line, exit 2" {
	refused io_uring_setup EPERM "Operation not permitted (kernel.io_uring_disabled="
}

@test "a kernel without io_uring (ENOSYS): one line, exit 2" {
	refused io_uring_setup ENOSYS "Function not implemented"
}

@test "no provided-buffer ring (before Linux 5.19): one line, exit 2" {
	refused io_uring_register:22 EINVAL "provided-buffer ring needs Linux 5.19"
}

@test "-h still works where io_uring cannot run" {
	run_stderr_apart timeout 10 "$BIN/deny" io_uring_setup ENOSYS "$BIN/io_uring" -h
	expect_eq 0 "$status" "exit status"
	[[ $output == *[Uu]sage* ]] || expect_eq "a usage text" "$output" stdout
}

# ---- EMFILE --------------------------------------------------------------------
# hostile.bats lowers a running server's limit with prlimit; a multishot
# accept keeps the limit in force when it was armed, so here the server is
# started under its limit (soft = hard, so it cannot raise it).

@test "EMFILE: 503 from the spare descriptor, no spin, served again afterwards" {
	local limit=24 base hold
	SERVER_WRAP="prlimit --nofile=$limit:$limit" server_up io_uring
	base=$(proc_fds "$SERVER_PID")
	hold=$(( limit - base ))
	tk_bg -I "$hold" -S "$(secs 4)"
	run wait_fd_count "$SERVER_PID" "$limit" 5
	expect_eq "$limit" "$output" "server descriptors"
	expect_cheap_refusals
	stop_background
	run wait_fd_count "$SERVER_PID" "$base" 5
	run_expecting 3 tk -x -n 1 -s "$GET"
	expect_eq "$RESP" "$output" "answer once descriptors are free"
	server_down
	expect_eq 20 "$(stat_field refused)" refused=
}
