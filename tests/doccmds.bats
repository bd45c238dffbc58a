#!/usr/bin/env bats
# run: once
#
# The docs cannot rot. Every ```sh block of README.md and of each
# handout in docs/labs/ holds commands a student types from the repository
# root: this suite runs them, file by file, in order, in one bash per file
# (a fresh free port in $PORT), with LAB_SMOKE=1 in the environment (so
# `make lab N=K` runs every step at its smallest size) and a time limit. A
# failure names the file, the line and the command, and shows its output.
# Blocks that are not to be run use ```text, ```console or ```c.
#
# Also: no doc links a repository file that does not exist, and no teacher's
# key still holds a [[REF ...]] placeholder.
#
# It runs the shipped binaries in bin/ and builds build/bench/ (make lab),
# so it runs once, not again under the sanitizers (run: once).

load suite

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
LIMIT=${DOCCMDS_LIMIT:-150}     # seconds per file; the slowest handout takes about 30

# Commands that cannot run here, each with the reason; the block line is
# replaced by a note in the output.
#   make test, make sanitize, make tsan, make valgrind: the whole suite, minutes
#   make bench: 11 minutes (QUICK=1: 2)
#   make fuzz: a minute by design
#   make grade: the conformance and hostile suites, a minute or more
#   an editor: a student's own work
SKIP_RE='^[[:space:]]*(make (test|sanitize|tsan|valgrind|bench|fuzz|grade)([[:space:]]|$)|(vi|vim|nano|emacs|\$EDITOR)[[:space:]])'

# doc_script DOC SCRIPT MAP: the sh blocks of DOC as one bash script, and
# MAP: for each script line, the DOC line it came from (0: added here).
doc_script() {
	local doc=$1 script=$2 map=$3
	{
		echo 'cd "$DOC_ROOT" || exit 1'
		echo 'export LAB_SMOKE=1'
		echo 'PORT=$(labs/free-port)'
		# the line that runs now, for a report after a timeout
		echo 'trap '\''printf "%s\n" "$LINENO" > "$DOC_CUR"'\'' DEBUG'
		# A server the file left running is stopped with SIGKILL, which
		# cannot be lost: a SIGTERM that lands between the fork and the exec
		# of `bin/MODEL &` is caught by bash's own handler and gone after the
		# exec, and the server, holding bats' output pipe, hangs the suite.
		echo 'stop_jobs() { local p; p=$(jobs -rp); [ -z "$p" ] || { kill -KILL $p; wait $p; } 2>/dev/null; }'
		echo 'set -E'
		echo 'trap '\''rc=$?; printf "%s %s %s\n" "$LINENO" "$rc" "$BASH_COMMAND" > "$DOC_FAIL"; stop_jobs; exit 1'\'' ERR'
	} > "$script"
	printf '0\n0\n0\n0\n0\n0\n0\n' > "$map"
	awk -v skip="$SKIP_RE" -v map="$map" '
		/^```sh[[:space:]]*$/ { inblock = 1; next }
		/^```/ { inblock = 0; next }
		inblock {
			if ($0 ~ skip) print ": skipped by tests/doccmds.bats: " $0
			else print
			print FNR >> map
		}' "$doc" >> "$script"
	# every server a file starts, it stops
	echo 'trap - DEBUG ERR' >> "$script"
	echo 'if [ -n "$(jobs -rp)" ]; then echo "still running at the end:"; jobs -r; stop_jobs; printf "%s\n" "still-running" > "$DOC_FAIL"; exit 1; fi' >> "$script"
}

# run_doc DOC: runs DOC's commands; on failure prints what and where.
run_doc() {
	local doc=$1 dir=$BATS_TEST_TMPDIR rc line fail cmd
	[[ $doc == /* ]] || doc=$ROOT/$1
	[ -f "$doc" ] || skip "$1 does not exist yet"
	grep -q '^```sh' "$doc" || skip "$1 has no sh block"
	doc_script "$doc" "$dir/script" "$dir/map"
	: > "$dir/fail"; : > "$dir/cur"
	rc=0
	DOC_ROOT=$ROOT DOC_CUR=$dir/cur DOC_FAIL=$dir/fail \
		timeout -k 5 "$LIMIT" bash "$dir/script" > "$dir/out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] && return 0
	if [ "$rc" -ge 124 ] && [ ! -s "$dir/fail" ]; then
		line=$(cat "$dir/cur")
		echo "$1: no end within $LIMIT s; it was running line $(sed -n "${line}p" "$dir/map"):"
		echo "  $(sed -n "${line}p" "$dir/script")"
	elif [ "$(cat "$dir/fail")" = still-running ]; then
		echo "$1: a command left a process running (start a server with & and stop it with kill %1 in the same file)"
	else
		read -r line rc cmd < "$dir/fail"
		echo "$1, line $(sed -n "${line}p" "$dir/map"): the command failed (exit $rc):"
		echo "  $(sed -n "${line}p" "$dir/script")"
	fi
	echo "its output, the last 40 lines:"
	tail -n 40 "$dir/out" | sed 's/^/  | /'
	return 1
}

# ---- the commands ---------------------------------------------------------------

# expect_true_outputs DIR: every file a lab wrote into DIR (its .txt and
# .csv, the hand-in file included) holds figures, not stand-ins for them.
# Prints each offence as FILE:LINE: TEXT and fails when there is one:
#   - an empty CSV field (",," or a comma at either end of a row);
#   - a "label:" with nothing after it at the end of a paragraph;
#   - a placeholder (TODO, XXX, {{, [[, nan, inf) where a figure belongs;
#   - a legend of exit codes beside an exit status ("exit status 3 (0 served,
#     3 starved)"), which reads like a count;
#   - in the hand-in file, a manifest key with no value or a figure that is
#     not a number.
# Runs on what the handouts' `make lab N=K` leave in results/labK (the labs
# run once, at their smallest size, in the tests above).
expect_true_outputs() {
	local dir=$1 bad
	[ -d "$dir" ] || { echo "$dir: no lab outputs (did make lab run?)"; return 1; }
	bad=$(
		for f in "$dir"/*.csv; do
			[ -f "$f" ] && awk '/(^|,)(,|$)/ { printf "%s:%d: empty field: %s\n", FILENAME, FNR, $0 }' "$f"
		done
		for f in "$dir"/*.txt "$dir"/*.csv; do
			[ -f "$f" ] || continue
			awk 'prev != "" && (NF == 0) { printf "%s:%d: a label with no value: %s\n", FILENAME, FNR - 1, prev }
				{ prev = ($0 ~ /:[[:space:]]*$/ && $0 !~ /^#/) ? $0 : "" }
				/(^|[^A-Za-z])(TODO|XXX|FIXME|placeholder)([^A-Za-z]|$)|\{\{|\[\[/ { printf "%s:%d: placeholder: %s\n", FILENAME, FNR, $0 }
				/(^|[ =:,(])-?(nan|inf)([ ,)%]|$)/ { printf "%s:%d: not a number: %s\n", FILENAME, FNR, $0 }
				/exit status [0-9]+ \([0-9]+ [a-z]+, [0-9]+ [a-z]+\)/ { printf "%s:%d: a legend of exit codes: %s\n", FILENAME, FNR, $0 }
				END { if (prev != "") printf "%s:%d: a label with no value: %s\n", FILENAME, FNR, prev }' "$f"
		done
		for f in "$dir"/handin-*.txt; do
			[ -f "$f" ] || { echo "$dir: no hand-in file"; continue; }
			awk -F, 'NR > 1 && !csv && /^[a-z_]+:/ && !/^[a-z_]+: [^ ]/ { printf "%s:%d: manifest key with no value: %s\n", FILENAME, FNR, $0 }
				/^# figures$/ { csv = 1; next } /^$/ || /^# / { csv = 0 }
				csv && $1 != "lab" && $4 !~ /^-?[0-9]+(\.[0-9]+)?$/ { printf "%s:%d: a figure that is not a number: %s\n", FILENAME, FNR, $0 }' "$f"
		done
	)
	[ -z "$bad" ] && return 0
	echo "$bad"
	return 1
}

@test "README.md: every sh block runs" {
	run_doc README.md
}

@test "docs/labs/README.md: every sh block runs" {
	run_doc docs/labs/README.md
}

@test "docs/labs/1-blocking-threads.md: every sh block runs, and the lab's outputs hold figures" {
	run_doc docs/labs/1-blocking-threads.md
	expect_true_outputs "$ROOT/results/lab1"
}

@test "docs/labs/2-select-poll.md: every sh block runs, and the lab's outputs hold figures" {
	run_doc docs/labs/2-select-poll.md
	expect_true_outputs "$ROOT/results/lab2"
}

@test "docs/labs/3-epoll.md: every sh block runs, and the lab's outputs hold figures" {
	run_doc docs/labs/3-epoll.md
	expect_true_outputs "$ROOT/results/lab3"
}

@test "docs/labs/4-many-cores.md: every sh block runs, and the lab's outputs hold figures" {
	run_doc docs/labs/4-many-cores.md
	expect_true_outputs "$ROOT/results/lab4"
}

@test "docs/labs/5-io-uring.md: every sh block runs, and the lab's outputs hold figures" {
	run_doc docs/labs/5-io-uring.md
	expect_true_outputs "$ROOT/results/lab5"
}

@test "docs/labs/6-socket-options.md: every sh block runs, and the lab's outputs hold figures" {
	run_doc docs/labs/6-socket-options.md
	expect_true_outputs "$ROOT/results/lab6"
}

@test "docs/labs/7-measuring.md: every sh block runs, and the lab's outputs hold figures" {
	run_doc docs/labs/7-measuring.md
	expect_true_outputs "$ROOT/results/lab7"
}

@test "docs/labs/8-files.md: every sh block runs, and the lab's outputs hold figures" {
	run_doc docs/labs/8-files.md
	expect_true_outputs "$ROOT/results/lab8"
}

@test "docs/labs/9-talking-clients.md: every sh block runs" {
	run_doc docs/labs/9-talking-clients.md
}

@test "every handout in docs/labs/ is one of the above" {
	[ -d "$ROOT/docs/labs" ] || skip "docs/labs/ does not exist yet"
	local f known="README.md 1-blocking-threads.md 2-select-poll.md 3-epoll.md 4-many-cores.md 5-io-uring.md 6-socket-options.md 7-measuring.md 8-files.md 9-talking-clients.md"
	for f in "$ROOT"/docs/labs/*.md; do
		[[ " $known " == *" ${f##*/} "* ]] || { echo "docs/labs/${f##*/}: add a test for it to tests/doccmds.bats"; return 1; }
	done
}

@test "the runner reports the file, the line and the output of a failing command" {
	local doc=$BATS_TEST_TMPDIR/sample.md
	printf '%s\n' '# A sample handout' '' '```sh' 'PORT=$(labs/free-port)' 'bin/epoll_et -p "$PORT" &' \
		'echo served' '```' '' '```text' 'false' '```' '' '```sh' 'kill %1; wait' 'echo one more; false' 'echo never' '```' > "$doc"
	run run_doc "$doc"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"sample.md, line 15: the command failed (exit 1):"* ]]
	[[ $output == *"echo one more; false"* ]]
	[[ $output == *"| served"* && $output == *"| one more"* ]]
	[[ $output != *never* ]]
}

@test "expect_true_outputs fails on an empty field, a bare label, a placeholder and an exit-code legend" {
	local d=$BATS_TEST_TMPDIR/outs kind
	for kind in csv label todo legend handin; do
		rm -rf "$d"; mkdir -p "$d"
		printf 'model,value\nepoll_et,3\n' > "$d/a.csv"
		printf 'c10k-lab hand-in: lab 1\nlab: 1\nhost: h\n\n# figures\nlab,model,figure,value,unit\n1,epoll_et,x,2.5,us\n' > "$d/handin-lab1-h-u.txt"
		printf 'requests answered: 12\n' > "$d/summary.txt"
		case $kind in
		csv)    printf 'poll,\n' >> "$d/a.csv" ;;
		label)  printf 'server, before the idle client left: \n\n' >> "$d/summary.txt" ;;
		todo)   printf 'p99: TODO\n' >> "$d/summary.txt" ;;
		legend) printf 'loadgen exit status 3 (0 served, 3 starved)\n' >> "$d/summary.txt" ;;
		handin) printf '1,poll,x,,us\n' >> "$d/handin-lab1-h-u.txt" ;;
		esac
		run expect_true_outputs "$d"
		echo "$kind: $output"
		[ "$status" -eq 1 ] || { echo "$kind passed"; return 1; }
	done
	rm -f "$d/summary.txt" "$d/a.csv" "$d/handin-lab1-h-u.txt"
	printf 'model,value\nepoll_et,3\n' > "$d/a.csv"
	run expect_true_outputs "$d"
	[ "$status" -eq 1 ] && [[ $output == *"no hand-in file"* ]]
}

@test "the runner fails a file that leaves a server running" {
	printf '%s\n' '```sh' 'bin/epoll_et -p 0 > /dev/null &' '```' > "$BATS_TEST_TMPDIR/sample.md"
	run run_doc "$BATS_TEST_TMPDIR/sample.md"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"left a process running"* ]]
}

# ---- the links --------------------------------------------------------------------

# docs: every doc a student or teacher reads, relative to ROOT.
# (not the keys' templates, docs/teacher/src/: their links are those of the
# keys tools/keys makes from them, one directory up, and checked there)
docs() {
	cd "$ROOT" && { echo README.md; [ -f labs/README.md ] && echo labs/README.md
		find docs -name '*.md' -not -path 'docs/teacher/src/*' | sort; }
}

# TOP: the repository's top-level names (tracked), for telling a path such
# as `servers/epoll_et.c` from words with a slash (`read/recv`).
top_names() {
	git -C "$ROOT" ls-files | sed 's|/.*||' | sort -u | tr '\n' ' '
}

# broken_links DOC: each relative markdown link and each backticked
# repository path of DOC that names nothing, as "DOC: path".
# Not checked: URLs, anchors, paths of generated files (results/, bin/,
# build/: git-ignored, not top-level names here), and paths with a
# placeholder (MODEL, K, N, NAME, FILE, DIR, <...>, *).
broken_links() {
	local doc=$1 dir top target
	dir=$(dirname "$doc")
	top=" $(top_names)"
	{
		# [text](target) and ![alt](target), one a line, the target alone
		grep -oE '\]\([^) ]+\)' "$ROOT/$doc" | sed 's/^](//; s/)$//' |
			grep -vE '^(https?:|mailto:|#)' | sed 's/#.*//' | sed "s|^|link $dir/|"
		# `path`: inside backticks, no space, a slash
		grep -oE '`[A-Za-z0-9_.][A-Za-z0-9_./-]*/[A-Za-z0-9_./-]*`' "$ROOT/$doc" | tr -d '`' | sed 's|^|code |'
	} | sort -u | while read -r kind target; do
		[ -n "$target" ] || continue
		if [ "$kind" = code ]; then
			[[ $top == *" ${target%%/*} "* ]] || continue
			[[ $target =~ (^|[/_.-])(MODEL|NAME|FILE|DIR|K|N|X|SUITE|PATTERN)([/_.-]|$)|labK|\.\.\. ]] && continue
			# a program may be named by its source without the .c (`tests/tools/tcpkit`)
			[ -e "$ROOT/$target" ] || [ -e "$ROOT/$target.c" ] || [ -e "$ROOT/$dir/$target" ] ||
				echo "$doc: \`$target\`"
		else
			# the handouts and keys are written in another branch: until it
			# lands, a link into them is not checked (their own tests skip)
			[[ $target =~ ^(\./)?docs/(labs|teacher)/ ]] && [ ! -d "$ROOT/docs/${BASH_REMATCH[2]}" ] && continue
			[ -e "$ROOT/$target" ] || echo "$doc: ${target#"$dir/"} (a link)"
		fi
	done
}

@test "no doc links or names a repository file that does not exist" {
	local doc bad=""
	for doc in $(docs); do
		bad+=$(broken_links "$doc")
		bad+=${bad:+$'\n'}
	done
	[ -z "$bad" ] || { echo "these name files that do not exist:"; echo -n "$bad"; return 1; }
}

@test "the link check catches a broken link and a missing path, and leaves generated ones alone" {
	mkdir -p "$ROOT/results"
	printf '%s\n' '[ok](../README.md) [gone](../docs/nothing-here.md) [web](https://example.com/x) [top](#top)' \
		'`servers/epoll_et.c` `servers/no_such.c` `results/lab3/summary.txt` `bin/epoll_et` `read/recv`' \
		'`servers/MODEL.c` `docs/results/labs/labK/summary.txt`' > "$ROOT/results/.doccmds-links.md"
	run broken_links results/.doccmds-links.md
	rm -f "$ROOT/results/.doccmds-links.md"
	echo "$output"
	[ "$(grep -c . <<< "$output")" -eq 2 ]
	[[ $output == *"nothing-here.md (a link)"* ]]
	[[ $output == *'`servers/no_such.c`'* ]]
}

@test "no teacher's key still holds a [[REF placeholder" {
	[ -d "$ROOT/docs/teacher" ] || skip "docs/teacher/ does not exist yet"
	run grep -n -F '[[REF' "$ROOT"/docs/teacher/*.md
	[ "$status" -ne 0 ] || { echo "figures still to fill in from the reference runs:"; echo "$output"; return 1; }
}
