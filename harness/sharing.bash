# harness/sharing.bash: one machine, several users. Sourced; defines
# functions only. A class shares small VMs: two students may run a lab at
# the same minute, under a cpuset that gives them one CPU, with /tmp shared.
#
#   allowed_cpus          the CPUs this process may run on, as "0 1"
#   scratch_dir           a directory only this user can use, created 0700
#   measure_lock WHAT     waits until no other lab or bench measures on this
#                         machine (one line names the one it waits for)
#   measure_unlock        lets the next one measure
#   measure_lock_holder   "USER WHAT PID since TIME" of the holder, or nothing
#
# The lock is machine-wide, across users, and a few rules of a shared /tmp
# shape it:
#   a. /tmp is sticky, and fs.protected_regular=1 (Debian's and Ubuntu's
#      default) makes an open with O_CREAT of a regular file that another
#      user created there fail, even when the file is mode 0666. flock(1)
#      opens with O_CREAT; so the lock is a directory, made mode 1777 by
#      whoever comes first, and flock(2) on a directory needs only read.
#   b. A lock lives as long as any process holds its open file. A lab's
#      servers inherit every descriptor of the shell that starts them, and
#      one that outlived the lab would keep the lock. So the lab's shell never
#      opens it: a small holder process does, and holds it until the lab's
#      shell is gone (Ctrl-C, exit, or SIGKILL: nothing has to run a trap).
#   c. Who holds it is written by the holder into a file of its own in the
#      directory (mktemp: a name no other user can take first), mode 0644;
#      a file whose process is gone, or is another process now (its start
#      time differs), is stale and ignored.
#
# MEASURE_LOCK_DIR overrides the directory (the tests use their own).

# allowed_cpus: prints the CPUs this process may run on, ascending, one space
# between ("0 1"): its affinity, which the kernel keeps within its cpuset.
allowed_cpus() {
	local key list
	while read -r key list; do
		[ "$key" = Cpus_allowed_list: ] && break
	done < "/proc/$BASHPID/status"
	awk -v list="$list" 'BEGIN { n = split(list, part, ",")
		for (i = 1; i <= n; i++) { m = split(part[i], r, "-"); for (c = r[1]; c <= r[m]; c++) out = out (out == "" ? "" : " ") c }
		print out }'
}

# scratch_dir: prints a directory that only this user can read and write,
# creating it: $XDG_RUNTIME_DIR/c10k-lab when the login made one, else
# /tmp/c10k-lab-USER; should another user own that name already, a new
# one from mktemp (with a note on stderr). Status 1 if none can be made.
scratch_dir() {
	local dir user
	user=$(id -un)
	if [ -n "${XDG_RUNTIME_DIR:-}" ] && [ -d "$XDG_RUNTIME_DIR" ] && [ -O "$XDG_RUNTIME_DIR" ]; then
		dir=$XDG_RUNTIME_DIR/c10k-lab
	else
		dir=${TMPDIR:-/tmp}/c10k-lab-$user
	fi
	mkdir -m 0700 "$dir" 2> /dev/null   # exists already: checked below
	# a name anyone can guess: use it only if it is our own directory
	if [ -d "$dir" ] && [ ! -L "$dir" ] && [ -O "$dir" ]; then
		chmod 0700 "$dir" && echo "$dir" && return 0
	fi
	echo "scratch_dir: $dir is not $user's own directory; using a new one" >&2
	mktemp -d "${TMPDIR:-/tmp}/c10k-lab-$user.XXXXXX"
}

# measure_lock_dir: prints the lock's directory, made mode 1777 when it is
# missing; status 1 with a reason on stderr if it is not usable by all.
measure_lock_dir() {
	local dir=${MEASURE_LOCK_DIR:-/tmp/c10k-lab.lock}
	[ -d "$dir" ] || { mkdir -m 1777 "$dir" 2> /dev/null && chmod 1777 "$dir"; }
	# anything else there (a file, a symlink, a private directory) is a
	# mistake or a trap: refuse it rather than follow it
	if [ -L "$dir" ] || [ ! -d "$dir" ] || [ "$(stat -c %a "$dir")" != 1777 ]; then
		echo "$dir is not a directory every user may lock (mode 1777); its owner, $(stat -c %U "$dir" 2> /dev/null || echo nobody), can remove it" >&2
		return 1
	fi
	echo "$dir"
}

# proc_start_time PID: the process's start time in clock ticks since boot
# (field 22 of /proc/PID/stat; the name in field 2 may hold spaces).
proc_start_time() {
	local stat field
	stat=$(cat "/proc/$1/stat" 2> /dev/null) || return 1
	read -r -a field <<< "${stat##*) }"   # field[0] is field 3, the state
	echo "${field[19]}"
}

# measure_lock_holder: prints "USER WHAT PID since TIME" of the one that
# measures now (TIME in UTC, ISO 8601), or nothing when no one does.
measure_lock_holder() {
	local dir file line ticks pid
	dir=$(measure_lock_dir 2> /dev/null) || return 0
	for file in "$dir"/holder.*; do
		[ -f "$file" ] || continue
		{ read -r line && read -r ticks; } < "$file" 2> /dev/null || continue
		pid=$(awk '{ print $3 }' <<< "$line")
		[ "$(proc_start_time "$pid")" = "$ticks" ] && echo "$line" && return 0
	done
	return 0
}

# measure_lock WHAT: returns once this shell holds the machine's measuring
# lock; while another holds it, prints one line naming the holder and waits.
# The lock is released by measure_unlock, or when this shell ends however
# it ends. WHAT names the work ("lab2", "bench"). Status 1, with a reason on
# stderr, when there is no usable lock: the caller measures without it.
measure_lock() {
	local what=$1 dir reply holder tries=100
	dir=$(measure_lock_dir) || return 1
	exec {MEASURE_LOCK_FD}< <(measure_lock_hold "$dir" "$what" "$$")
	MEASURE_LOCK_PID=$!
	read -r reply <&"$MEASURE_LOCK_FD"
	if [ "$reply" = busy ]; then
		# the holder writes its file just after it takes the lock
		while holder=$(measure_lock_holder) && [ -z "$holder" ] && ((tries-- > 0)); do
			read -r -t 0.02 -u "$MEASURE_LOCK_FD" reply && break
		done
		[ "$reply" = busy ] && echo "another run measures on this machine: ${holder:-(its owner is not known)}; waiting for it to end (Ctrl-C to give up) ..." >&2
		[ "$reply" = locked ] || read -r reply <&"$MEASURE_LOCK_FD"
	fi
	[ "$reply" = locked ] || { echo "measure_lock: the lock's holder process failed" >&2; return 1; }
}

# measure_unlock: releases the lock that measure_lock took (none: nothing).
measure_unlock() {
	[ -n "${MEASURE_LOCK_PID:-}" ] || return 0
	kill -TERM "$MEASURE_LOCK_PID" 2> /dev/null
	# the holder's end of the pipe closes when it and its tail are gone
	read -r -u "$MEASURE_LOCK_FD" _ 2> /dev/null
	exec {MEASURE_LOCK_FD}<&-
	MEASURE_LOCK_PID=""
}

# measure_lock_hold DIR WHAT PID: the holder process (run by measure_lock,
# its stdout a pipe to it). Prints "busy" when it must wait, "locked" once
# it holds the lock; then holds it until PID ends or it is sent SIGTERM,
# removes its holder file, and exits, which releases the lock.
measure_lock_hold() {
	local dir=$1 what=$2 owner=$3 fd file waiter
	exec {fd}< "$dir" || exit 1
	flock -n "$fd" || { echo busy; flock "$fd" || exit 1; }
	file=$(mktemp "$dir/holder.XXXXXX") || exit 1
	trap 'rm -f "$file"; kill "$waiter" 2> /dev/null; exit 0' TERM INT HUP
	chmod 0644 "$file"
	printf '%s %s %s since %s\n%s\n' "$(id -un)" "$what" "$owner" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		"$(proc_start_time "$owner")" > "$file"
	echo locked
	# tail, not a loop here: it notices the owner's end within 0.2 s
	# without a process a tick; its stdout is not the pipe, so the waiting
	# reader in measure_unlock sees the end of it when this shell exits
	tail --pid="$owner" -s 0.2 -f /dev/null > /dev/null {fd}<&- &
	waiter=$!
	wait "$waiter"
	rm -f "$file"
	exit 0
}
