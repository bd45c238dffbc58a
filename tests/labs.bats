#!/usr/bin/env bats
# run: once
#
# make lab N=K (labs/run): what the handouts do not exercise. The
# handouts' own commands, `make lab N=K` for every lab included, run in
# tests/doccmds.bats; here: the list of labs, the errors, the files each lab
# promises (docs/labs/ and docs/teacher/ quote them by name), and one whole
# lab at its smallest size. Runs once: nothing here differs under a sanitizer.

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
load suite

teardown() {
	teardown_server
}

# The files each lab writes, as the shared spec of the lab kit names them.
declare -A SPEC=(
	[1]="blocking.txt memory.png memory.svg memory.csv limits.txt summary.txt"
	[2]="polltime.png idle-cpu.png idle-throughput.png idle-events.png fd_setsize.txt summary.txt"
	[3]="syscalls.txt syscalls.csv syscalls.png et_drain.txt rdhup.txt summary.txt"
	[4]="scaling.csv scaling.png spread.txt syscalls.txt thundering_herd.txt accept_lifo.txt summary.txt"
	[5]="syscalls.txt syscalls.png cpu.csv cpu.png summary.txt"
	[6]="sockopt.png sockopt.csv summary.txt"
	[7]="loops.txt loops.png noise.txt bottleneck.txt idle-throughput.png summary.txt"
	[8]="filewatch.txt trace.txt syscalls.txt cpu.csv coldserve.txt summary.txt"
	[9]="little.png little.csv talk.png cost.csv summary.txt"
)

@test "labs/run -h and make lab list the nine labs, with their handouts and times" {
	local k
	for cmd in "labs/run -h" "make --no-print-directory -s lab"; do
		run bash -c "cd '$ROOT' && $cmd"
		echo "$output"
		[ "$status" -eq 0 ]
		for k in 1 2 3 4 5 6 7 8 9; do
			grep -qE "^  $k  .*(about|min|s)" <<< "$output" || { echo "lab $k is not listed by $cmd"; return 1; }
		done
		[[ $output == *docs/labs/1-blocking-threads.md* && $output == *docs/labs/9-talking-clients.md* ]]
	done
}

@test "a lab that does not exist, or an unknown option, exits 2 with the list" {
	local n
	for n in 0 10 x; do
		run "$ROOT/labs/run" "$n"
		[ "$status" -eq 2 ] || { echo "labs/run $n: exit $status"; return 1; }
		[[ $output == *"the labs are 1 to 9"* && $output == *"1-blocking-threads"* ]]
	done
	run "$ROOT/labs/run" 3 --no-such-option
	[ "$status" -eq 2 ]
	[[ $output == *"unknown option"* ]]
}

@test "each lab's closing list names every file the spec promises" {
	local k f
	for k in 1 2 3 4 5 6 7 8 9; do
		for f in ${SPEC[$k]}; do
			grep -q "\"$f|" "$ROOT/labs/lab$k.sh" ||
				{ echo "labs/lab$k.sh: lab_end does not list $f"; return 1; }
		done
	done
}

@test "labs/free-port prints a port that a server can then listen on" {
	local port
	port=$("$ROOT/labs/free-port")
	[[ $port =~ ^[0-9]+$ ]] && [ "$port" -gt 0 ] && [ "$port" -lt 65536 ]
	server_up epoll_et -p "$port"        # the last -p counts
	expect_eq "$port" "$SERVER_PORT" "the port the server listens on"
	server_down
}

@test "LAB_SMOKE=1 labs/run 3 --out DIR: progress lines with an ETA, every file, the closing list, the page and the text graph" {
	local out=$BATS_TEST_TMPDIR/lab3 f
	run env LAB_SMOKE=1 "$ROOT/labs/run" 3 --out "$out"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qE '^\[lab3 1/[0-9]+\] .* ETA [0-9]+m[0-9]{2}s$' <<< "$output"
	[ "$(grep -cE '^\[lab3 [0-9]+/[0-9]+\]' <<< "$output")" -ge 4 ]
	for f in ${SPEC[3]} syscalls.svg; do
		[ -s "$out/$f" ] || { echo "missing: $f"; return 1; }
		grep -qE "^  $out/$f +[a-z]" <<< "$output" || [[ $f == *.svg ]] || { echo "$f not in the closing list"; return 1; }
	done
	head -c 8 "$out/syscalls.png" | od -An -c | grep -q 'P   N   G'
	grep -q '</svg>' "$out/syscalls.svg"
	grep -q 'LAB_SMOKE=1' "$out/summary.txt"
	grep -qE 'syscalls per request, epoll_et +write +[0-9.]+' "$out/summary.txt"
	grep -q 'matched' "$out/et_drain.txt"
	# the page and the text graph (labs/page.bash; tests/page.bats renders pages)
	grep -q '<img src="syscalls.png"' "$out/index.html"
	grep -q "^The main graph, syscalls.png, in text" <<< "$output"
	grep -q 'calls per request' "$out/graph.txt"
}

@test "LAB_SMOKE=1 labs/run 9: Little's law per N, each model's costs, no empty field in its tables" {
	local out=$BATS_TEST_TMPDIR/lab9 f
	run env LAB_SMOKE=1 "$ROOT/labs/run" 9 --out "$out"
	echo "$output"
	[ "$status" -eq 0 ]
	for f in ${SPEC[9]} little.svg talk.svg graph.txt; do
		[ -s "$out/$f" ] || { echo "missing: $f"; return 1; }
	done
	head -c 8 "$out/little.png" | od -An -c | grep -q 'P   N   G'
	# a row per N, each with every figure: an empty field or NA is a step that measured nothing
	[ "$(grep -c . "$out/little.csv")" -eq 3 ]
	run awk -F, 'NR > 1 && ($3 != "ok" || /,,|,$|NA/)' "$out/little.csv"
	expect_eq "" "$output" "rows of little.csv with an empty field"
	# three models at two N, each with its switches and memory; no field left empty
	[ "$(grep -c ',think=10,' "$out/cost.csv")" -eq 6 ]
	run awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c["status"] != "ok" || $c["switches_per_req_med"] == "NA" || $c["pss_load_kb_med"] == "NA" || $c["cpu_us_per_req_med"] == "NA" { print }
		/,,,/ { print "empty fields: " $0 }' "$out/cost.csv"
	expect_eq "" "$output" "rows of cost.csv without a figure"
	grep -qE '^little, epoll_et, N=10 +Z=10 ms: +[0-9]+ req/s achieved' "$out/summary.txt"
	grep -qE '^cost, threads +N=200 +Z=10: [0-9]+ req/s, [0-9.]+ µs CPU/request, [0-9.]+ context switches/request' "$out/summary.txt"
	grep -q 'N / Z' "$out/graph.txt"
}

# ---- bench/slowdisk (lab 8's slow disk) ----------------------------------------

@test "bench/slowdisk -h prints its usage; without a command it exits 2" {
	run "$ROOT/bench/slowdisk" -h
	[ "$status" -eq 0 ]
	[[ $output == *"slowdisk [-r BYTES_PER_S] [-d DIR] -- COMMAND"* ]]
	run "$ROOT/bench/slowdisk"
	[ "$status" -eq 2 ]
	[[ $output == *"no command to run"* ]]
}

@test "bench/slowdisk refuses a directory on tmpfs, and a user who is not root, with exit 2 and one line" {
	local tmpfs
	tmpfs=$(findmnt -n -o TARGET -t tmpfs | grep -m1 -E '^/(dev/shm|run)$') ||
		skip "no tmpfs mounted at /dev/shm or /run"
	if [ "$(id -u)" = 0 ]; then
		run "$ROOT/bench/slowdisk" -d "$tmpfs" -- true
		echo "$output"
		[ "$status" -eq 2 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ $output == *"is on tmpfs, which has no block device"* ]]
		command -v setpriv > /dev/null || skip "setpriv (util-linux) is missing: cannot run as nobody"
		run setpriv --reuid=65534 --regid=65534 --clear-groups "$ROOT/bench/slowdisk" -- true
	else
		run "$ROOT/bench/slowdisk" -- true
	fi
	echo "$output"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *"needs root"* ]]
}

@test "bench/slowdisk: 4 MiB read cold at 4 MiB/s take at least 0.5 s, and its control group is gone after" {
	[ "$(id -u)" = 0 ] || skip "needs root (a control group throttles the disk)"
	local f t0 t1 cg pid
	run "$ROOT/bench/slowdisk" -d /var/tmp -- true
	[ "$status" -eq 0 ] || skip "slowdisk cannot throttle here: $output"
	f=$(mktemp /var/tmp/c10k-slowdisk-test.XXXXXX)
	head -c 4194304 /dev/urandom > "$f"
	sync "$f"
	dd if="$f" iflag=nocache count=0 status=none        # out of the page cache
	t0=$(date +%s%N)
	"$ROOT/bench/slowdisk" -r 4194304 -d /var/tmp -- cat "$f" > /dev/null &
	pid=$!
	wait "$pid"
	t1=$(date +%s%N)
	rm -f "$f"
	echo "took $(( (t1 - t0) / 1000000 )) ms"
	# a lower bound only: a busy machine can make it slower, never faster
	[ $(( t1 - t0 )) -ge 500000000 ]
	# its group is named after its PID
	for cg in "/sys/fs/cgroup/blkio/c10k-slowdisk.$pid" "/sys/fs/cgroup/c10k-slowdisk.$pid"; do
		[ -e "$cg" ] && { echo "left behind: $cg"; return 1; }
	done
	return 0
}

# ---- labs/class (make class) ---------------------------------------------------

# The fixtures in tests/class/ are real lab 4 hand-in files made on one
# 2-CPU VM under different conditions (tests/class/README.md says how):
# two quiet runs, one in a cgroup capped at half a CPU, one beside a niced
# CPU hog, and the committed reference run of docs/results/labs/lab4.

@test "labs/class names the capped machine an outlier, with its CPU quota as the cause" {
	local out=$BATS_TEST_TMPDIR/class
	run "$ROOT/labs/class" -o "$out" "$ROOT"/tests/class/handin-lab4-*.txt
	echo "$output"
	[ "$status" -eq 0 ]
	# the odd one out, and why
	grep -E '^OUTLIER +vm-student2 ' "$out/outliers.txt"
	grep -A1 -E '^OUTLIER +vm-student2 ' "$out/outliers.txt" | grep -q 'cause: CPU quota 0.50 CPUs (cgroup)'
	# the quiet machines are not named
	grep -E '^ok +vm-root ' "$out/outliers.txt"
	grep -E '^ok +vm-student1 ' "$out/outliers.txt"
	# every machine and figure merged; a graph per figure, the outlier named in it
	[ "$(cut -d, -f1 "$out/class.csv" | sort -u | grep -vc machine)" -eq 5 ]
	grep -qE '^4 +epoll_et +req_per_s +5 ' "$out/spread.txt"
	head -c 8 "$out/lab4-lat_p99_us.png" | od -An -c | grep -q 'P   N   G'
	grep -q 'vm-student2' "$out/lab4-lat_p99_us.svg"
}

@test "labs/class refuses a file that is not a hand-in file, and needs one" {
	run "$ROOT/labs/class" -o "$BATS_TEST_TMPDIR/class" "$ROOT/README.md"
	[ "$status" -eq 2 ]
	[[ $output == *"is not a hand-in file"* ]]
	run "$ROOT/labs/class"
	[ "$status" -eq 2 ]
}
