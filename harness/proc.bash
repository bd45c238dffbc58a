# harness/proc.bash: what the bench, the labs and the tests read about a
# server process, written once. Sourced by harness/harness.bash; it defines
# functions only.
#
#   stats_value NAME LINE   the number after "NAME=" in a "stats model=..." line
#   proc_state PID          the one-letter state of PID (Z: a zombie), or nothing
#   proc_alive PID          true while PID runs (not ended, not a zombie)
#   proc_children PID       the PIDs of PID's live children, one a line
#   proc_tasks PID          threads of PID + its live children (no fork: polled often)
#   proc_tree PID           PROC_TREE: PID and its live descendants
#   proc_tree_cpu PID       PROC_CPU_NS: CPU time of the whole tree, in ns
#   proc_tree_mem_kb PID    "RSS PSS" of the whole tree, in KiB
#   proc_tree_switches PID  PROC_SWITCHES: context switches of the tree's live tasks
#   proc_sockets PID        sockets open in PID and its children
#   proc_fds PID            descriptors open in PID, plus its children's sockets
#   proc_marked NAME=VALUE  PROC_MARKED: this user's live processes whose
#                           environment holds NAME=VALUE (a run's own marker)
#
# Everything is read from /proc (Linux 3.5 or later for .../children). Safe
# under `set -e` (bats runs its tests so).

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
	read -r rest 2>/dev/null < "/proc/$1/stat" || return 0
	rest=${rest##*) }
	echo "${rest%% *}"
}

# proc_alive PID: true while PID runs. A zombie (ended, not yet waited for)
# has ended, though kill -0 still succeeds on it. Builtins only: the waits
# for a server to start and stop poll it every 10 ms.
proc_alive() {
	local rest
	read -r rest 2>/dev/null < "/proc/$1/stat" || return 1
	rest=${rest##*) }
	[ "${rest%% *}" != Z ]
}

# proc_children PID: every thread's children file lists the processes it
# forked that are still alive (or zombies not yet reaped). Builtins only:
# the bench calls it twice a run, where each fork costs time on a busy machine.
proc_children() {
	local f kids=()
	for f in /proc/"$1"/task/*/children; do
		kids=()
		read -r -a kids 2>/dev/null < "$f" || :    # no newline at the end: read says 1
		[ ${#kids[@]} -gt 0 ] && printf '%s\n' "${kids[@]}"
	done
	return 0
}

# proc_tasks PID: builtins only, since it runs every 50 ms beside a measurement.
proc_tasks() {
	local f line n=0 kids=()
	while read -r f line; do [ "$f" = Threads: ] && n=$line && break; done 2>/dev/null < "/proc/$1/status" || :
	for f in /proc/"$1"/task/*/children; do
		kids=()
		read -r -a kids 2>/dev/null < "$f" || :
		n=$((n + ${#kids[@]}))
	done
	echo "$n"
}

# ---- CPU time and memory of a whole process tree ------------------------------
#
# A server is a process tree: bin/fork makes a process per connection, nginx
# a master and workers; the others are one process of threads. Its CPU time
# and memory are those of the whole tree, read the same way for every model.

# proc_tree PID: PROC_TREE, an array of PID and its live descendants (its
# children, theirs, ...), each after its parent. A zombie (ended, not yet
# reaped) is still listed. Builtins only: the bench calls it every run.
proc_tree() {
	local i=0 f kids=()
	PROC_TREE=("$1")
	while ((i < ${#PROC_TREE[@]})); do
		for f in /proc/"${PROC_TREE[i]}"/task/*/children; do
			kids=()
			read -r -a kids 2>/dev/null < "$f" || :    # no newline at the end: read says 1
			PROC_TREE+=("${kids[@]}")
		done
		i=$((i + 1))
	done
}

# Nanoseconds in a clock tick, the unit of the times in /proc/PID/stat.
PROC_TICK_NS=$((1000000000 / $(getconf CLK_TCK)))

# proc_tree_cpu PID: PROC_CPU_NS, the CPU time (user + system) the tree of
# PID has used so far, in nanoseconds; the ended parts of it included.
#
# Where the time of each task is kept, by proc(5):
#   - a live thread: the first field of /proc/PID/task/TID/schedstat, in ns;
#   - the threads of a process, the ended ones included: utime + stime,
#     fields 14 and 15 of /proc/PID/stat, in clock ticks (10 ms);
#   - its children that it has reaped (waited for), and theirs: cutime +
#     cstime, fields 16 and 17. A zombie is not there yet: it is still listed
#     by proc_tree, with its own fields.
# Each process of the tree adds the larger of its live threads' ns and its
# utime + stime (larger when threads ended), plus its cutime + cstime.
#
# Why not utime + stime alone: the kernel rounds each field down to a tick,
# so a process loses up to 20 ms at every reading. One server process loses
# 20 ms once; 50 children serving keep-alive connections lose up to 1 s,
# more than they used in a short run (bin/fork looked cheaper than threads).
# cutime + cstime are rounded once, whatever the number of children.
#
# Counted once: a child reaped while the tree is read moves its time from
# its own fields to its parent's cutime + cstime, so it would be counted
# twice (read as a child, then in the parent's cutime) or not at all (the
# parent read first, the child gone by its turn). So each parent's cutime +
# cstime is read again once its children are read; if it moved, a child
# was reaped meanwhile and the whole tree is read again (up to 10 times;
# a reading is a millisecond or two, children end far less often).
proc_tree_cpu() {
	local tries=10 i p v live f n stat=() reaped=()
	while ((tries-- > 0)); do
		PROC_CPU_NS=0
		proc_tree "$1"
		for i in "${!PROC_TREE[@]}"; do
			p=${PROC_TREE[i]}
			reaped[i]=""
			read -r v 2>/dev/null < "/proc/$p/stat" || continue   # reaped: in its parent's cutime
			read -r -a stat <<< "${v##*) }"    # the fields after the command name: 14 is stat[11]
			live=0
			for f in /proc/"$p"/task/*/schedstat; do
				read -r n _ 2>/dev/null < "$f" && live=$((live + n))
			done
			v=$(((stat[11] + stat[12]) * PROC_TICK_NS))
			((v > live)) && live=$v
			reaped[i]=$((stat[13] + stat[14]))
			PROC_CPU_NS=$((PROC_CPU_NS + live + reaped[i] * PROC_TICK_NS))
		done
		proc_tree_unchanged && return 0
	done
	return 0    # still moving: the last reading, off by a child's time at most
}

# proc_tree_unchanged: true when no process of PROC_TREE that was read has
# a different cutime + cstime now (proc_tree_cpu's reaped[]).
proc_tree_unchanged() {
	local i v stat=()
	for i in "${!PROC_TREE[@]}"; do
		[ -n "${reaped[i]}" ] || continue
		read -r v 2>/dev/null < "/proc/${PROC_TREE[i]}/stat" || continue
		read -r -a stat <<< "${v##*) }"
		(( stat[13] + stat[14] == reaped[i] )) || return 1
	done
}

# proc_tree_mem_kb PID: "RSS PSS" of PID's tree, in KiB: VmRSS from
# /proc/P/status and Pss from /proc/P/smaps_rollup (Linux 4.14), summed over
# the tree. RSS counts a page every process maps, so a page shared by 2000
# forked children (copy-on-write, not yet written) counts 2000 times; PSS
# (proportional set size) divides each page among the processes that map
# it, so the tree's PSS counts it once, as its memory does. Neither counts
# the kernel's part: a task's kernel stack (16 KiB), its page tables.
proc_tree_mem_kb() {
	local p files=()
	proc_tree "$1"
	for p in "${PROC_TREE[@]}"; do files+=("/proc/$p/status" "/proc/$p/smaps_rollup"); done
	awk '$1 == "VmRSS:" { rss += $2 } $1 == "Pss:" { pss += $2 }
		END { printf "%d %d\n", rss, pss }' "${files[@]}" 2>/dev/null
}

# proc_tree_switches PID: PROC_SWITCHES, the context switches that every
# live thread of PID's tree has made so far, voluntary (it blocked: a read
# with nothing to read, a wait with nothing ready) plus involuntary (the
# scheduler took the CPU from it), from the *ctxt_switches lines of
# /proc/P/task/T/status. /proc/P/status has the first thread's only, so
# every task is read (one awk for them all: 10,000 threads are 10,000
# files, through cat, which goes on past a file gone meanwhile where mawk
# stops). A task that has ended takes its count with it: a difference of
# two readings is exact only while the tasks live through both, as a
# keep-alive connection's thread or process does.
proc_tree_switches() {
	local p files=()
	proc_tree "$1"
	for p in "${PROC_TREE[@]}"; do files+=(/proc/"$p"/task/*/status); done
	PROC_SWITCHES=$(cat "${files[@]}" 2>/dev/null | awk '$1 ~ /ctxt_switches:$/ { n += $2 } END { printf "%d", n }')
	: "${PROC_SWITCHES:=0}"
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

# proc_fds PID: the descriptors open in PID, plus the sockets of its live
# children, each socket once: what a server holds, whatever its model. A
# forking server's connections are in its children, whose other descriptors
# are copies of the parent's; so N connections are N more in every model,
# and a descriptor leaked by the server itself (a file, a pipe) shows too.
proc_fds() {
	local others
	others=$(find "/proc/$1/fd" -mindepth 1 ! -lname 'socket:*' -printf . 2>/dev/null) || :
	echo $(( ${#others} + $(proc_sockets "$1") ))
}

# proc_marked NAME=VALUE: PROC_MARKED, the PIDs of this user's live processes
# whose environment holds exactly NAME=VALUE. A run exports a marker of its
# own to what it starts; a process that left its process group or its
# parent (a program in a group of its own, such as a server, or a child
# re-parented to PID 1) still carries it, so this finds what a process
# group or a tree walk would miss. Builtins only:
# it reads every process's environ, and a fork each would cost seconds.
proc_marked() {
	local dir pid var vars
	PROC_MARKED=()
	for dir in /proc/[0-9]*; do
		pid=${dir#/proc/}
		[ -O "$dir" ] && [ "$pid" != "$$" ] && [ "$pid" != "$BASHPID" ] || continue
		mapfile -d '' vars 2>/dev/null < "$dir/environ" || continue
		for var in "${vars[@]}"; do
			[ "$var" = "$1" ] || continue
			proc_alive "$pid" && PROC_MARKED+=("$pid")
			break
		done
	done
	return 0
}
