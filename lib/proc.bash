# lib/proc.bash: what the bench and the tests read about a server process,
# written once. Source it from bash; it defines functions only.
#
#   stats_value NAME LINE   the number after "NAME=" in a "stats model=..." line
#   proc_state PID          the one-letter state of PID (Z: a zombie), or nothing
#   proc_children PID       the PIDs of PID's live children, one a line
#   proc_tasks PID          threads of PID + its live children (no fork: polled often)
#   proc_cpu_ticks PID      CPU time of PID and its children, in clock ticks
#   proc_cpu_ns PID         the same to the nanosecond, live threads only
#   proc_cpu PID            both at once: "TICKS NS"
#   proc_sockets PID        sockets open in PID and its children
#
# Everything is read from /proc (Linux 3.5 or later for .../children).

# stats_value NAME LINE: prints the number after "NAME=" in LINE; returns 1,
# printing nothing, when LINE has no such field.
stats_value() {
	local re="(^| )$1=([0-9]+)"
	[[ $2 =~ $re ]] || return 1
	echo "${BASH_REMATCH[2]}"
}

# proc_state PID: the state letter from /proc/PID/stat. The command name, in
# parentheses, may hold spaces: the fields are counted after its last ")".
proc_state() {
	local rest
	rest=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	rest=${rest##*) }
	echo "${rest%% *}"
}

# proc_children PID: every thread's children file lists the processes it
# forked that are still alive (or zombies not yet reaped). Builtins only:
# the bench calls it twice a run, where each fork costs time on a busy machine.
proc_children() {
	local f kids=()
	for f in /proc/"$1"/task/*/children; do
		kids=()
		read -r -a kids 2>/dev/null < "$f"    # no newline at the end: read says 1
		[ ${#kids[@]} -gt 0 ] && printf '%s\n' "${kids[@]}"
	done
	return 0
}

# proc_tasks PID: builtins only, since it runs every 50 ms beside a measurement.
proc_tasks() {
	local f line n=0 kids=()
	while read -r f line; do [ "$f" = Threads: ] && n=$line && break; done 2>/dev/null < "/proc/$1/status"
	for f in /proc/"$1"/task/*/children; do
		kids=()
		read -r -a kids 2>/dev/null < "$f"
		n=$((n + ${#kids[@]}))
	done
	echo "$n"
}

# proc_cpu_ticks PID: user + system time of the whole thread group (the
# stat file of a process covers all its threads, the exited ones included),
# of the children it has reaped (cutime + cstime) and of those still alive
# (their own four fields), so a server that forks a process per connection
# is charged for its children's work too. Divide by `getconf CLK_TCK`
# (usually 100: the figure moves in steps of 10 ms).
proc_cpu_ticks() {
	local files
	files=$( { echo "$1"; proc_children "$1"; } | sed 's|.*|/proc/&/stat|')
	# shellcheck disable=SC2086 # one file name per word
	awk '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { print t + 0 }' $files 2>/dev/null
}

# proc_cpu_ns PID: nanoseconds on a CPU of every live thread of PID and of
# its live children (the first field of each task's schedstat). Precise, but
# blind to threads and children that ended: compare it with proc_cpu_ticks.
proc_cpu_ns() {
	local files
	files=$( { echo "$1"; proc_children "$1"; } | sed 's|.*|/proc/&/task/*/schedstat|')
	# shellcheck disable=SC2086 # the globs are meant
	awk '{ t += $1 } END { printf "%.0f\n", t }' $files 2>/dev/null
}

# proc_cpu PID: "TICKS NS", proc_cpu_ticks and proc_cpu_ns in one awk (the
# file names gathered with builtins: one process started, not six).
proc_cpu() {
	local f p kids=() pids=("$1") files=()
	for f in /proc/"$1"/task/*/children; do
		kids=()
		read -r -a kids 2>/dev/null < "$f"    # a thread may end meanwhile
		pids+=("${kids[@]}")
	done
	for p in "${pids[@]}"; do files+=("/proc/$p/stat" /proc/"$p"/task/*/schedstat); done
	awk 'FILENAME ~ /schedstat$/ { ns += $1; next }
		{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { printf "%d %.0f\n", t, ns }' \
		"${files[@]}" 2>/dev/null
}

# proc_sockets PID: the distinct sockets open in PID and its live children.
# A forking server's connections are in its children; a socket both hold
# (the listener, inherited) is counted once.
proc_sockets() {
	local dirs
	dirs=$( { echo "$1"; proc_children "$1"; } | sed 's|.*|/proc/&/fd|')
	# shellcheck disable=SC2086
	find $dirs -lname 'socket:*' -printf '%l\n' 2>/dev/null | awk '!seen[$0]++ { n++ } END { print n + 0 }'
}
