# labs/lab.bash: what the eight lab scripts (labs/labK.sh) share. Sourced;
# it defines functions and, in lab_begin, the variables below.
#
#   lab_begin K STEPS SECONDS "$@"   options, build, limits, CPUs, results/labK/
#   step WHAT SECONDS          one progress line: [lab3 2/6] WHAT ... ETA
#   size FULL SMOKE            FULL, or SMOKE under LAB_SMOKE=1
#   server_up_or_die MODEL [ARGS]  server_up MODEL -q ARGS, or the lab ends saying why
#   load [LOADGEN ARGS]        loadgen pinned to the client CPU, against SERVER_PORT
#   loadgen_status RC          loadgen's exit status RC in words
#   csv COLUMN FILE            a column of loadgen's CSV (header, then a row)
#   syscall_count MODEL N ...  strace -c -f over N requests: $WORK/strace.MODEL
#   under_strace FILE OPTS MODEL [ARGS]   MODEL started as strace's child
#   strace_down                the server under strace stopped, FILE written
#   kernel_view IDLE CALLS MODEL...  flame graphs (bench/profile) into profile/,
#                              or one line why not; KERNEL_VIEW: lab_end's entries
#   summary TEXT               a line of results/labK/summary.txt (and stdout)
#   pitfall NAME...            bin/pitfall-NAME into NAME.txt (facts only), its verdict in the summary
#   plot NAME                  labs/plots/labK-NAME.gp -> NAME.png and NAME.svg
#   figure MODEL NAME VALUE UNIT   one figure of the run, for the hand-in file
#   figures_from_csv FILE UNIT VALUE KEY [KEY2]  figures: medians of a CSV's column
#   lab_manifest               the machine and the run, "key: value" lines
#   lab_end "FILE questions"...  the hand-in file, the list of which file answers
#                              which question, the lab's page (index.html) and
#                              its main graph in text
#
# The rest comes from the harness the bench and the tests use too
# (harness/harness.bash): server_up, server_down and server_snapshot (the
# pinned server: SERVER_PID, SERVER_PORT, SERVER_STATS ...), hold_idle,
# proc_tree_cpu and the other /proc readings, limits and CPUs.
# harness/sharing.bash gives what a VM that several students share needs: the
# CPUs we may use, a scratch directory of our own, and the lock that lets
# one lab measure at a time.
#
# Every lab runs as a normal user on a distribution's default settings.
# Ubuntu's kernel.yama.ptrace_scope=1 lets a process trace only its own
# children, so nothing here attaches to a running process (strace -p):
# a server to be traced is started by strace, as its child.
#
# Variables set for a lab: ROOT OUT BIN LOADGEN WORK SMOKE SERVER_CPU
# LOADGEN_CPU (and the bench's NOFILE, MAX_IDLE ...).

set -uo pipefail
export LC_ALL=C                 # decimal points and sort order the same everywhere
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/harness/harness.bash"
source "$ROOT/labs/page.bash"

# The text graph (graph.txt) as wide as the terminal the lab runs in, from
# 80 columns (an ssh window's default) to 160; 100 when it is not a terminal.
# Exported: the bench draws the text graphs of labs 2 and 6.
PLOT_TEXT_COLS=$( { [ -t 1 ] && tput cols 2>/dev/null; } || echo 100)
PLOT_TEXT_COLS=$(( PLOT_TEXT_COLS < 80 ? 80 : PLOT_TEXT_COLS > 160 ? 160 : PLOT_TEXT_COLS ))
export PLOT_TEXT_COLS

die()  { echo "lab$LAB: $*" >&2; exit 1; }
note() { echo "lab$LAB: $*" >&2; }

# ---- start and progress ----------------------------------------------------

# lab_begin K STEPS SECONDS [OPTIONS]: reads the options (--out DIR, --bin DIR),
# builds the optimised binaries as bench/run does, and prepares OUT.
# SECONDS is the whole lab's estimate, for the ETA.
lab_begin() {
	LAB=$1 STEPS=$2 EST_TOTAL=$3
	shift 3
	PIDS=() STEP=0 DONE_EST=0 STEP_EST=0 SERVER_PID="" HPID="" WORK=""
	OUT=${OUT:-$ROOT/results/lab$LAB} BIN=""
	SMOKE=${LAB_SMOKE:-0}
	[ "$SMOKE" = 0 ] || SMOKE=1
	while [ $# -gt 0 ]; do
		case "$1" in
		--out) OUT=${2:?--out needs a directory}; shift ;;
		--bin) BIN=${2:?--bin needs a directory}; shift ;;
		*)     echo "lab$LAB: unknown option '$1' (labs/run -h)" >&2; exit 2 ;;
		esac
		shift
	done
	echo "lab $LAB: $(lab_title "$LAB")$([ "$SMOKE" = 1 ] && echo "  (LAB_SMOKE=1: every step at its smallest size)")"
	if [ -z "$BIN" ]; then
		build_optimised || die "the build failed; run 'make' to see why"
	fi
	BIN=$(cd "$BIN" && pwd) || die "no such directory: $BIN"
	LOADGEN=$BIN/loadgen
	[ -x "$LOADGEN" ] || die "$LOADGEN is missing"
	need_tool gnuplot gnuplot-nox ||
		die "gnuplot is missing: install the package gnuplot-nox (Debian, Ubuntu) or gnuplot (Fedora, Arch)"
	# shellcheck disable=SC2034 # raise_limits reads it
	ACTIVE=50                   # raise_limits keeps room for the bench's 50 active connections
	raise_limits
	# build first, then wait for our turn: only measuring needs the machine alone
	trap lab_cleanup EXIT
	measure_lock "lab$LAB" || note "measuring without the machine-wide lock: another lab could run beside this one"
	pick_cpus
	mkdir -p "$OUT" || die "cannot create $OUT"
	OUT=$(cd "$OUT" && pwd)
	# a new run replaces the old one's files, never mixes with them
	rm -f "$OUT"/*.txt "$OUT"/*.csv "$OUT"/*.png "$OUT"/*.svg "$OUT"/index.html
	WORK=$(mktemp -d "$(scratch_dir)/lab$LAB.XXXXXX") || die "no scratch directory"
	: > "$WORK/figures.csv"
	machine_before
	# servers run in process groups of their own (server_up): Ctrl-C
	# reaches this script only, and its trap stops them
	trap 'echo; note "interrupted"; exit 130' INT TERM HUP
	echo "  results    $OUT"
	echo "  pinning    server on CPU $SERVER_CPU, loadgen on CPU $LOADGEN_CPU"
	{
		echo "lab $LAB: $(lab_title "$LAB")"
		echo "run $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $(getconf _NPROCESSORS_ONLN) CPUs online (this run may use $BENCH_CPUS), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$([ "$SMOKE" = 1 ] && echo ', LAB_SMOKE=1 (smallest sizes: the figures mean nothing)')"
		echo "server on CPU $SERVER_CPU, loadgen on CPU $LOADGEN_CPU unless a line says otherwise"
		echo
	} > "$OUT/summary.txt"
	START=$SECONDS LAB_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
}

# machine_before: how busy the machine is before the lab measures (BUSY_PCT,
# other users and jobs: half a second of /proc/stat while this lab waits),
# and the ticks the lab's steal share counts from (STEAL0 TOTAL0).
machine_before() {
	local idle0 total0
	host_ticks; idle0=$HOST_IDLE total0=$HOST_TOTAL
	nap "$(size 0.5 0.1)"
	host_ticks
	BUSY_PCT=$(awk -v i="$((HOST_IDLE - idle0))" -v t="$((HOST_TOTAL - total0))" \
		'BEGIN { printf "%.1f", (t > 0 ? 100 * (t - i) / t : 0) }')
	STEAL0=$HOST_STEAL TOTAL0=$HOST_TOTAL
}

lab_cleanup() {
	stop_all
	[ -n "$WORK" ] && rm -rf "$WORK"
	measure_unlock
}

# lab_title K: the lab's title, from the table in labs/run.
lab_title() {
	awk -F'|' -v k="$1" '$1 == "#L" k { print $2 }' "$ROOT/labs/run"
}

# lab_main: this lab's main graph (a name, e.g. memory), from the table in
# labs/run; plot draws it in text too, as graph.txt.
lab_main() {
	awk -F'|' -v k="$LAB" '$1 == "#L" k { print $5 }' "$ROOT/labs/run"
}

# step WHAT SECONDS: the progress line of the step that starts now. The
# ETA is what is left of the estimate, scaled by how the estimate has done
# so far on this machine.
step() {
	DONE_EST=$((DONE_EST + STEP_EST)) STEP=$((STEP + 1)) STEP_EST=$2
	awk -v lab="$LAB" -v n="$STEP" -v all="$STEPS" -v what="$1" -v spent="$((SECONDS - START))" \
		-v done="$DONE_EST" -v total="$EST_TOTAL" 'BEGIN {
		rate = done > 0 && spent > 0 ? spent / done : 1; left = (total - done) * rate
		if (left < 0) left = 0
		printf "[lab%s %d/%d] %-58s ETA %dm%02ds\n", lab, n, all, what, left / 60, left % 60 }'
}

# size FULL SMOKE: the classroom size, or the smallest one under LAB_SMOKE=1.
size() {
	if [ "$SMOKE" = 1 ]; then echo "$2"; else echo "$1"; fi
}

# ---- servers and load ------------------------------------------------------

# server_up_or_die MODEL [ARGS]: server_up (harness/server.bash), quiet (-q): a server
# on a free port, pinned to SERVER_CPU (set SERVER_CPU=0,1 before the call
# for two CPUs); SERVER_PID and SERVER_PORT. The lab ends if it does not
# start (server_up said why). server_down stops it and sets SERVER_STATS.
server_up_or_die() {
	server_up "$1" -q "${@:2}" || die "$1 did not start"
}

# load [ARGS]: loadgen on the client CPU against the running server (the
# path $URL_PATH, by default /); it is
# bounded by its own -d or -n, and by a timeout should it hang.
load() {
	timeout -k 2 120 taskset -c "$LOADGEN_CPU" "$LOADGEN" "$@" "http://127.0.0.1:$SERVER_PORT${URL_PATH:-/}"
}

# loadgen_status RC: what loadgen's exit status RC means, in words
# (docs/loadgen.md, "Exit status"), to print beside the number: a bare
# legend of codes reads like a count.
loadgen_status() {
	case "$1" in
	0) echo "every connection was answered, no errors" ;;
	1) echo "errors, or fewer connections than asked" ;;
	3) echo "an established connection got no answer at all (starved)" ;;
	124 | 137) echo "loadgen did not finish in time and was stopped" ;;
	*) echo "loadgen failed (see its output)" ;;
	esac
}

# csv COLUMN FILE: the value of COLUMN in loadgen's CSV (a header, then a row).
csv() {
	awk -F, -v col="$1" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		NR == 2 { print (col in c) ? $c[col] : "NA" }' "$2"
}

# ---- syscalls ----------------------------------------------------------------

# have_strace: strace is there (or installed now, as root) and may trace
# its own child here; else the lab says why in one line and goes on
# without counting.
have_strace() {
	need_tool strace strace ||
		{ note "strace is missing: install the package strace (apt-get install strace) to count syscalls"; return 1; }
	# a container's seccomp profile can forbid ptrace even of a child
	strace -f -c -o /dev/null -- true 2> "$WORK/strace.err" ||
		{ note "strace cannot trace here ($(head -1 "$WORK/strace.err")): syscalls are not counted"; return 1; }
}

# under_strace FILE "STRACE OPTIONS" MODEL [ARGS]: MODEL started as strace's
# child, strace -f OPTIONS -o FILE -- bin/MODEL ..., on a free port and
# pinned like any server (server_up_or_die). SERVER_PID is strace's, SERVED the server's.
# Started, not attached: Yama's ptrace_scope=1 (Ubuntu's default) lets a
# normal user trace a child, never a process already running.
under_strace() {
	local file=$1 opts=$2; shift 2
	SERVER_WRAP="strace -f $opts -o $file --" server_up_or_die "$@"
	SERVED=$(proc_children "$SERVER_PID")
	[ -n "$SERVED" ] || die "strace started no server"
}

# strace_down: stops the server that under_strace started. strace, which
# started it with -o, ignores SIGTERM and SIGINT (-I3: it would lose its
# table); the server is sent SIGTERM, and strace writes FILE and exits
# after its last tracee has.
strace_down() {
	local tries=1000
	kill -TERM "$SERVED" 2>/dev/null
	while ((tries-- > 0)) && proc_alive "$SERVER_PID"; do nap 0.01; done
	# strace has exited: server_down only collects it (and says "was gone
	# already", which is what we want here)
	server_down || :
}

# syscall_count MODEL REQUESTS [SERVER ARGS]: MODEL started under strace -c
# -f (every thread, and every child it will make), REQUESTS keep-alive
# requests over $SYSCALL_CONNS connections (default 50) to $URL_PATH
# (default /). The table is in $WORK/strace.MODEL, loadgen's CSV in
# $WORK/strace-load.MODEL. Counting from the start counts the start-up and
# shutdown too; a run of the same server with no requests counts those
# alone, into $WORK/strace-idle.MODEL, and syscall_table subtracts it.
syscall_count() {
	local model=$1 n=$2; shift 2
	under_strace "$WORK/strace-idle.$model" -c "$model" "$@"
	strace_down
	under_strace "$WORK/strace.$model" -c "$model" "$@"
	load -c "${SYSCALL_CONNS:-50}" -n "$n" --format csv --header > "$WORK/strace-load.$model" 2> /dev/null
	strace_down
}

# syscall_idle MODEL: the calls of MODEL's run with no requests (start-up
# and shutdown), summed over strace's rows as syscall_table reads them.
syscall_idle() {
	awk '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" { n += $4 } END { print n + 0 }' \
		"$WORK/strace-idle.$1"
}

# syscall_report MODEL REQUESTS TITLE: strace's table of MODEL into
# syscalls.txt under TITLE, each call per request after it, and the rows
# into syscalls.csv.
syscall_report() {
	{
		echo "== $3"
		cat "$WORK/strace.$1"
		echo "per request ($2 requests; the $(syscall_idle "$1") calls of a run with no requests, start-up and shutdown, subtracted):"
		syscall_table "$1" "$2" | awk -F, '{ printf "  %-16s %8.3f\n", $2, $4 }'
		echo
	} >> "$OUT/syscalls.txt"
	syscall_table "$1" "$2" >> "$OUT/syscalls.csv"
	summary "$(awk -v m="$1" -v k="$(syscall_idle "$1")" -v n="$2" 'BEGIN {
		printf "%s under strace from its start: start-up and shutdown alone (a run with no requests) make %d calls, %.4f a request here; subtracted", m, k, k / n }')"
}

# syscall_table MODEL REQUESTS: "model,syscall,calls,per_request" rows from
# strace's table (its last column is the name; calls is the 4th field),
# less the calls of the run with no requests (syscall_count).
syscall_table() {
	awk -v m="$1" -v n="$2" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" {
		if (FILENAME ~ /strace-idle/) { idle[$NF] = $4; next }
		c = $4 - idle[$NF]; if (c > 0) printf "%s,%s,%d,%.3f\n", m, $NF, c, c / n }' \
		"$WORK/strace-idle.$1" "$WORK/strace.$1"
}

# syscall_plot "MODEL..." WHAT: syscalls.png from syscalls.csv, the calls
# of at least 0.005 a request, the most frequent first.
syscall_plot() {
	awk -F, -v models="$1" 'NR > 1 { v[$2, $1] = $4; if ($4 > top[$2]) top[$2] = $4 }
		END { n = split(models, m, " "); printf "syscall"; for (i = 1; i <= n; i++) printf ",%s", m[i]; print ""
		      for (s in top) if (top[s] >= 0.005) { printf "%s", s; for (i = 1; i <= n; i++) printf ",%s", v[s, m[i]] + 0; print "" } }' \
		"$OUT/syscalls.csv" | { read -r head; echo "$head"; sort -t, -k2,2gr; } > "$WORK/syscalls-wide.csv"
	plot syscalls "bars='$1'; what='$2'; data='$WORK/syscalls-wide.csv'"
}

# ---- the kernel's view -----------------------------------------------------------

# kernel_view IDLE "CALLS" MODEL...: bench/profile of each MODEL at IDLE idle
# and 20 busy connections, into $OUT/profile/ (flame graphs, top functions;
# and, as root, the time of each call at the idle counts CALLS), the graphs
# copied to $OUT (flame-MODEL.png, calls.png) for the lab's page; each
# model's kernel share and poll-scan share into the summary. Where perf
# cannot sample the kernel's frames (a normal user at Debian's and Ubuntu's
# kernel.perf_event_paranoid), one line says why and the fix, and the lab
# goes on without it. KERNEL_VIEW is the list of its files for lab_end
# (empty when none was drawn).
kernel_view() {
	local idle=$1 calls=$2 why m
	shift 2
	KERNEL_VIEW=()
	if ! why=$(perf_refusal); then
		summary "no flame graphs: $why"
		return 0
	fi
	"$ROOT/bench/profile" --models "$*" --idle "$idle" --conns 20 --seconds "$(size 2 0.5)" \
		--calls "$calls" --call-seconds "$(size 1 0.2)" --out "$OUT/profile" --bin "$BIN" 2>&1 | sed 's/^/    /'
	for m in "$@"; do
		[ -s "$OUT/profile/$m.png" ] || { note "bench/profile drew no flame graph of $m"; continue; }
		# beside the lab's other graphs, so that its page shows them inline
		cp "$OUT/profile/$m.png" "$OUT/flame-$m.png" && cp "$OUT/profile/$m.svg" "$OUT/flame-$m.svg"
		KERNEL_VIEW+=("flame-$m.png|$m's flame graph: where its CPU time goes" "profile/$m.txt|$m's top functions, self and total")
		summary "flame graph, $m, $idle idle + 20 busy: $(sed -n '2s/^# //p' "$OUT/profile/$m.txt")"
		summary "flame graph, $m, $idle idle + 20 busy: $(sed -n '3s/^# //p' "$OUT/profile/$m.txt")"
	done
	if [ -s "$OUT/profile/calls.png" ]; then
		cp "$OUT/profile/calls.png" "$OUT/profile/calls.svg" "$OUT/"
		KERNEL_VIEW+=("calls.png|the time of one call against the descriptors it watches")
		sed 1d "$OUT/profile/slopes.txt" | while read -r line; do summary "call time, $line"; done
	fi
	return 0
}

# ---- results -------------------------------------------------------------------

# summary TEXT...: one line of summary.txt, echoed.
summary() {
	echo "$*" >> "$OUT/summary.txt"
	echo "  $*"
}

# pitfall NAME...: runs each bin/pitfall-NAME (pitfalls/: each judges its own
# run in its last line) into OUT/NAME.txt, and puts that line in the summary.
# Facts only (PITFALL_FACTS_ONLY=1): the experiment's "expected:" and "why:"
# lines are what the lab's questions ask the student to find.
pitfall() {
	local name
	for name; do
		PITFALL_FACTS_ONLY=1 "$BIN/pitfall-$name" > "$OUT/$name.txt" 2>&1
		summary "$name: $(tail -1 "$OUT/$name.txt")"
	done
}

# plot NAME [gnuplot assignments]: labs/plots/labK-NAME.gp (or, shared by
# several labs, labs/plots/NAME.gp) draws NAME.png
# and NAME.svg in OUT (UTF-8 for the "µs" of labels), in the style of the bench's graphs (plots/common.gp).
# The lab's main graph (lab_main) is drawn a third time, in text, as graph.txt.
plot() {
	local name=$1 fmt gp out; shift
	gp=$ROOT/labs/plots/lab$LAB-$name.gp
	[ -f "$gp" ] || gp=$ROOT/labs/plots/$name.gp
	for fmt in png svg $([ "$name" = "$(lab_main)" ] && echo txt); do
		out=$OUT/$name.$fmt
		[ "$fmt" = txt ] && out=$OUT/graph.txt
		LC_ALL=C.UTF-8 gnuplot -e "dir='$OUT'; plots='$ROOT/plots'; fmt='$fmt'; name='$name'; out='$out'; cols=$PLOT_TEXT_COLS; cannot=''" \
			-e "MODELS_ALL='$(lab_models)'; $(lab_linetypes)" -e "${*:-}" \
			"$gp" 2> "$WORK/plot.log" ||
			{ cat "$WORK/plot.log" >&2; die "drawing $name.$fmt failed"; }
		[ -s "$WORK/plot.log" ] && sed "s|^|  $name.$fmt: |" "$WORK/plot.log" >&2
	done
}

# The models in the legend's order, and one colour each: the colours of
# bench/plot's linetypes(), so a model looks the same in every graph.
lab_models() {
	sed -n 's/^\([a-z_0-9]*\)[[:space:]].*/\1/p' "$ROOT/servers/MODELS" | tr '\n' ' '
}
lab_linetypes() {
	local i=0 m col pt
	local -A colour=([blocking]="#7f7f7f 4" [threads]="#d62728 6" [select]="#ff7f0e 8" [poll]="#8c564b 10"
		[epoll_lt]="#1f77b4 5" [epoll_et]="#2ca02c 7" [epoll_oneshot]="#9467bd 9" [fork]="#e377c2 12"
		[reuseport]="#17becf 13" [io_uring]="#bcbd22 11")
	for m in $(lab_models); do
		i=$((i + 1))
		read -r col pt <<< "${colour[$m]:-#393b79 14}"
		printf 'set linetype %d lc rgb "%s" lw 2 pt %d ps 1.2; ' "$i" "$col" "$pt"
	done
}

# figure MODEL NAME VALUE UNIT: one figure the lab measured, a row of the
# hand-in file (labs/class compares them across a class). VALUE must be a
# number taken from the run; MODEL names the server (or the run) it is of.
figure() {
	printf '%s,%s,%s,%s,%s\n' "$LAB" "$1" "$2" "$3" "$4" >> "$WORK/figures.csv"
}

# figures_from_csv FILE UNIT VALUE KEY [KEY2]: a figure per distinct KEY (and
# KEY2) of the CSV FILE: the median of its column VALUE over the rows (the
# rounds) that share them; figure KEY's value (spaces dropped), named VALUE,
# or VALUE.KEY2=its value. Rows whose VALUE is not a number are left out.
figures_from_csv() {
	local file=$1 unit=$2 value=$3 key=$4 key2=${5:-}
	[ -s "$file" ] || return 0
	awk -F, -v val="$value" -v k1="$key" -v k2="$key2" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		(val in c) && $c[val] ~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/ {
			k = $c[k1] SUBSEP (k2 == "" ? "" : $c[k2]); n[k]++; v[k, n[k]] = $c[val] + 0 }
		END { for (k in n) { m = n[k]; for (i = 1; i <= m; i++) a[i] = v[k, i]
			for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			split(k, p, SUBSEP); gsub(/[ ,]/, "", p[1]); gsub(/[ ,]/, "", p[2])
			printf "%s %s%s %g\n", p[1], val, p[2] == "" ? "" : "." k2 "=" p[2], m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 } }' "$file" |
		sort | while read -r model name v; do figure "$model" "$name" "$v" "$unit"; done
}

# lab_manifest: the machine and the run as "key: value" lines, the head of
# the hand-in file; what labs/class reads to explain an odd machine.
lab_manifest() {
	host_ticks
	cat <<-EOF
	lab: $LAB
	host: $(hostname -s 2>/dev/null || uname -n)
	user: $(id -un)
	date: $LAB_DATE
	commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- servers clients labs harness lib 2>/dev/null || echo -dirty)
	kernel: $(uname -r)
	pti: $(machine_pti)
	cpu_model: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	cpus: $(getconf _NPROCESSORS_ONLN)
	cpu_quota: $(cpu_quota)
	steal_pct: $(awk -v s="$((HOST_STEAL - STEAL0))" -v t="$((HOST_TOTAL - TOTAL0))" 'BEGIN { printf "%.1f", (t > 0 ? 100 * s / t : 0) }')
	busy_pct: $BUSY_PCT
	smoke: $SMOKE
	took_s: $((SECONDS - START))
	EOF
}

# handin_write: OUT/handin-labK-HOST-USER.txt, the one small file a student
# hands in: the manifest, the figures, and the lab's CSV files; prints its path.
handin_write() {
	local who file csv
	who=$(printf '%s-%s' "$(hostname -s 2>/dev/null || uname -n)" "$(id -un)" | tr -c 'A-Za-z0-9._\n-' _)
	file=$OUT/handin-lab$LAB-$who.txt
	{
		echo "c10k-lab hand-in: lab $LAB, $(lab_title "$LAB")"
		lab_manifest
		echo
		echo "# figures"
		echo "lab,model,figure,value,unit"
		cat "$WORK/figures.csv"
		for csv in "$OUT"/*.csv; do
			[ -s "$csv" ] || continue
			echo
			echo "# ${csv##*/}"
			cat "$csv"
		done
	} > "$file"
	echo "$file"
}

# lab_end "FILE|QUESTIONS"...: checks that every file is there and prints
# which file answers which question, the lab's last lines.
lab_end() {
	local entry file what missing=0 handin
	measure_unlock              # the measuring is over: the next lab may start
	echo "took $((SECONDS - START)) s" | tee -a "$OUT/summary.txt" > /dev/null
	handin=$(handin_write) || die "cannot write the hand-in file"
	echo
	echo "lab $LAB done in $((SECONDS - START)) s. Which file answers which question (docs/labs/):"
	for entry in "$@"; do
		file=${entry%%|*} what=${entry#*|}
		[ -s "$OUT/$file" ] || { missing=1; what="$what  (MISSING: the step above failed)"; }
		printf '  %-40s %s\n' "$(display_path "$OUT/$file")" "$what"
	done
	lab_show "$@"
	echo "To hand in: $(display_path "$handin") (the figures and the machine, for labs/class)."
	[ "$missing" = 0 ] || die "some files are missing"
}

# lab_show "FILE|QUESTIONS"...: the lab's page (index.html, labs/page.bash),
# its main graph drawn in text (graph.txt) on the terminal, and how to see
# the page from a machine with a screen. Written even when a file is
# missing: the page shows which.
lab_show() {
	local main
	main=$(lab_main)
	# a graph the bench drew (labs 2 and 6) has its text form in bench/
	[ -s "$OUT/graph.txt" ] || [ ! -s "$OUT/bench/graph.txt" ] || cp "$OUT/bench/graph.txt" "$OUT/"
	page_write "$OUT" "$main" "$@" || die "cannot write $OUT/index.html"
	[ "$OUT" = "$ROOT/results/lab$LAB" ] && page_root "$ROOT/results"
	echo
	if [ -s "$OUT/graph.txt" ]; then
		# the dumb terminal pads every line, and the page's head and foot, with blanks
		sed 's/[[:space:]]*$//' "$OUT/graph.txt" |
			awk 'NF { for (; blank > 0 && seen; blank--) print ""; print; seen = 1; blank = 0; next } { blank++ }' \
				> "$WORK/graph.txt" &&
			cp "$WORK/graph.txt" "$OUT/graph.txt"
		echo "The main graph, $main.png, in text ($(display_path "$OUT/graph.txt")):"
		cat "$OUT/graph.txt"
	else
		echo "No text graph: $main.png was not drawn in this run (the lines above say why)."
	fi
	echo "Every graph, the summary and this list: $(display_path "$OUT/index.html")."
	if [ "$OUT" = "$ROOT/results/lab$LAB" ]; then
		echo "To see it from your own computer: run 'make serve' here (it prints the port it took, 8000 if"
		echo "free), then on your computer: ssh -L 8080:127.0.0.1:8000 $(page_ssh_target)"
		echo "and open http://localhost:8080/lab$LAB/"
	else
		echo "To see it from your own computer: copy $OUT off this machine and open index.html."
	fi
}

# display_path FILE: relative to the repository when it lies inside it.
display_path() {
	case "$1" in
	"$ROOT"/*) echo "${1#"$ROOT"/}" ;;
	*) echo "$1" ;;
	esac
}
