#!/usr/bin/env bats
# run: once
#
# The grader (`make grade SRC=FILE`, tests/grade) and what an LMS runs of it
# (`make autograder`, tests/autograder): it must pass a copy of any shipped
# model and fail the classic bugs, naming the behaviour that broke; stop at
# the first GET when the server cannot answer it; leave nothing running; and
# write formats an LMS reads.
#
# Grading runs the conformance and hostile suites on an ASan build; the whole
# of both takes a minute or two per server, so each test here runs the
# behaviours that matter to it (tests/grade -f, or the quick tier), and one
# copy gets the whole grade. The broken servers are the shipped models with
# one line changed, so the test also shows how small each bug is.

load suite

setup_file() {
	export GRADE_DIR=$BATS_FILE_TMPDIR
	# the grades here write their build and reports apart from a student's
	export GRADE_OUT=$BATS_FILE_TMPDIR/out
}

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

# grade FILE [ARGS...]: tests/grade on FILE, under a timeout.
grade() {
	timeout "$(secs 600)" "$ROOT/tests/grade" "$@"
}

# broken NAME MODEL SED: servers/MODEL.c with one edit, as $GRADE_DIR/NAME.c;
# fails if the edit changed nothing (the model's code has moved on).
broken() {
	local out=$GRADE_DIR/$1.c
	sed "$3" "$ROOT/servers/$2.c" >"$out"
	if cmp -s "$out" "$ROOT/servers/$2.c"; then
		echo "the edit '$3' no longer changes servers/$2.c: update this test" >&2
		return 1
	fi
}

# expect_failed SUITE: NAME: the grade failed, and named that behaviour.
expect_failed() {
	(( status != 0 )) || { echo "the grade passed: $output" >&2; return 1; }
	[[ $output == *"FAIL  $1"* ]] || { echo "want 'FAIL  $1' in: $output" >&2; return 1; }
}

# expect_in TEXT: TEXT is in the output.
expect_in() {
	[[ $output == *"$1"* ]] || { echo "want '$1' in: $output" >&2; return 1; }
}

# need_jq: the formats are checked with jq (tools/packages: the tests need it).
need_jq() {
	command -v jq >/dev/null || skip "jq is missing (tests/deps installs it)"
}

# ---- the formats' schemas, as jq filters ---------------------------------------
# Each is true only for a document of that shape; jq -e fails on false.

# Gradescope's results.json: a score, and tests each with a name, a score
# and max_score, a status, an output and a visibility Gradescope knows.
GRADESCOPE_SCHEMA='(.score | type == "number") and (.tests | type == "array") and
	all(.tests[]; (.name | type == "string") and (.score | type == "number") and
		(.max_score | type == "number") and .score <= .max_score and
		(.status == "passed" or .status == "failed") and (.output | type == "string") and
		(.visibility | IN("visible", "hidden", "after_due_date", "after_published")))'
# Autolab's last line: scores, each a number under a problem's name, and a
# scoreboard row of numbers.
AUTOLAB_SCHEMA='(.scores | type == "object") and all(.scores[]; type == "number") and
	(.scoreboard | type == "array") and all(.scoreboard[]; type == "number")'
# The plain JSON: the program, the model, the score, and each behaviour.
JSON_SCHEMA='(.program | type == "string") and (.model | type == "string") and
	(.score | type == "number") and (.max_score | type == "number") and
	all(.behaviours[]; (.suite | type == "string") and (.name | type == "string") and
		(.status | IN("pass", "fail", "skip")) and (.score | type == "number") and
		(.max_score | type == "number") and (.hidden | type == "boolean") and
		(.where | type == "string") and (.output | type == "string"))'

# valid SCHEMA FILE: FILE is one JSON document that SCHEMA holds for.
valid() {
	jq -e "$1" "$2" >/dev/null || { echo "not of the schema: $(cat "$2")" >&2; return 1; }
}

# ---- stopping early, and saying why ----------------------------------------------

@test "the unmodified starter: the grade stops at the first GET within 30 s, naming the TODO and the program" {
	local t0=${EPOCHREALTIME%.*}
	run grade "$ROOT/labs/starter/server.c"
	echo "$output"
	(( status != 0 ))
	expect_in "FAIL  start: it builds, starts, and answers one GET"
	expect_in "starter: TODO 1 is not done: wait_for_events()"
	expect_in "It stopped at TODO 1:"
	expect_in "the grade stopped at the start"
	# the student's program by its name, not the model it is held to
	[[ $output != *"epoll_lt (pid"* ]]
	(( ${EPOCHREALTIME%.*} - t0 < 30 * TIME_SCALE ))
}

@test "a leak at exit: the report's first frames (conn_new) and what it means, the whole report in a file" {
	broken leaky epoll_lt '/want == CONN_CLOSE/,/return;/s/drop(c);/conn_list_remove(\&by_activity, c), close(c->fd);/'
	run grade -f 'Connection: close is answered' "$GRADE_DIR/leaky.c"
	echo "$output"
	expect_failed "conformance: Connection: close is answered"
	expect_in "leaky (pid"
	expect_in " in conn_new "
	expect_in "was still allocated when the server exited"
	expect_in "the test: tests/conformance.bats:"
	grep -q 'SUMMARY: AddressSanitizer' "$GRADE_OUT"/reports/*.txt
}

# ---- cleanup ---------------------------------------------------------------------

@test "make grade | head: the closed pipe ends the grade, and nothing it started is left" {
	cp "$ROOT/servers/epoll_lt.c" "$GRADE_DIR/piped.c"
	GRADE_RUN=piped.$$ grade -q "$GRADE_DIR/piped.c" | head -n 2
	proc_marked "GRADE_RUN=piped.$$"
	expect_eq "" "${PROC_MARKED[*]}" "processes left running"
}

@test "Ctrl-C mid-run: the grade exits 130, and nothing it started is left" {
	cp "$ROOT/servers/epoll_lt.c" "$GRADE_DIR/interrupted.c"
	local out=$BATS_TEST_TMPDIR/out pid
	# a background job starts with SIGINT ignored, where a terminal's Ctrl-C is not
	: >"$out"
	GRADE_RUN=int.$$ env --default-signal=INT "$ROOT/tests/grade" -q "$GRADE_DIR/interrupted.c" >"$out" 2>&1 &
	pid=$!
	# interrupt it while a suite runs: its bats, a test and a server are up
	until grep -q '^pass  conformance' "$out" || ! proc_alive "$pid"; do nap 0.05; done
	proc_marked "GRADE_RUN=int.$$"
	(( ${#PROC_MARKED[@]} > 0 )) || { echo "nothing was running to interrupt: $(cat "$out")" >&2; return 1; }
	kill -INT "$pid"
	wait "$pid" && status=0 || status=$?
	expect_eq 130 "$status" "exit status after SIGINT"
	proc_marked "GRADE_RUN=int.$$"
	expect_eq "" "${PROC_MARKED[*]}" "processes left running"
}

# ---- formats ---------------------------------------------------------------------

@test "FORMAT=json and autolab: their schemas, weights counted, any text escaped" {
	need_jq
	cp "$ROOT/servers/epoll_lt.c" "$GRADE_DIR/formats.c"
	mkdir -p "$GRADE_DIR/nasty"
	# a hidden test whose output holds what JSON must escape, and a byte that is not UTF-8
	# (written with printf: a line of a heredoc starting with the word @test
	# would be taken by bats for a test of this file)
	printf '%s\n' 'load suite' '@test "nasty output" {' \
		"	printf 'quote \" backslash \\\\ tab \\t bell \\a esc \\033 bad \\377 end\\n'" \
		'	false' '}' >"$GRADE_DIR/nasty/nasty.bats"
	printf '%s\n' '# weights for the test' 'conformance: GET:*  5' 'hidden/*  2' >"$GRADE_DIR/weights"
	run_stderr_apart env GRADE_EXTRA="$GRADE_DIR/nasty" "$ROOT/tests/grade" -o json \
		-w "$GRADE_DIR/weights" -f 'exact response|nasty' "$GRADE_DIR/formats.c" epoll_lt
	echo "$output" >"$BATS_TEST_TMPDIR/grade.json"
	echo "$output"
	valid "$JSON_SCHEMA" "$BATS_TEST_TMPDIR/grade.json"
	# the first GET 1 + GET 5, of those and the hidden test's 2: it failed
	expect_eq "6 8" "$(jq -r '"\(.score) \(.max_score)"' "$BATS_TEST_TMPDIR/grade.json")" "score"
	expect_eq "hidden/nasty true fail" "$(jq -r '.behaviours[] | select(.name == "nasty output") |
		"\(.suite) \(.hidden) \(.status)"' "$BATS_TEST_TMPDIR/grade.json")" "the hidden test"
	jq -r '.behaviours[] | select(.name == "nasty output") | .output' "$BATS_TEST_TMPDIR/grade.json" |
		grep -qF 'quote " backslash \ tab'
	run grade -o autolab -f 'exact response' "$GRADE_DIR/formats.c" epoll_lt
	echo "$output"
	echo "${lines[${#lines[@]} - 1]}" >"$BATS_TEST_TMPDIR/autolab.json"
	valid "$AUTOLAB_SCHEMA" "$BATS_TEST_TMPDIR/autolab.json"
	expect_eq "1 1" "$(jq -r '"\(.scores.start) \(.scores.conformance)"' "$BATS_TEST_TMPDIR/autolab.json")" "scores"
}

# ---- make autograder: run_autograder in Gradescope's layout ----------------------

@test "run_autograder, in Gradescope's directories: a copy of a model scores fully, a broken one partly, hidden tests included" {
	need_jq
	local ag=$BATS_TEST_TMPDIR/autograder out=$BATS_TEST_TMPDIR/made d results
	results=$ag/results/results.json
	mkdir -p "$GRADE_DIR/hidden"
	printf '%s\n' 'load suite' 'setup() { server_up "$MODEL"; }' 'teardown() { teardown_server; }' \
		'@test "two GETs in one write: two answers" {' \
		'	run_expecting 3 tk -x -n 2 -s "$GET$GET"' \
		'	expect_eq "$RESP$RESP" "$output" responses' '}' >"$GRADE_DIR/hidden/extra.bats"
	TIER=quick GRADE_EXTRA=$GRADE_DIR/hidden run "$ROOT/tests/autograder" "$out"
	echo "$output"
	(( status == 0 ))
	valid '(.tests | length == 2) and all(.tests[]; (.run | test("^make grade SRC=")) and
		(.points | type == "number") and (.timeout | type == "number"))' \
		"$out/classroom/.github/classroom/autograding.json"
	# Gradescope unpacks the zip into /autograder/source, and setup.sh builds
	# the kit there; here this checkout's build is copied in with its times,
	# so make finds nothing to do
	mkdir -p "$ag/source" "$ag/submission"
	(cd "$ag/source" && unzip -q "$out/gradescope.zip")
	[ -x "$ag/source/setup.sh" ] && [ -x "$ag/source/run_autograder" ]
	cp -a "$ROOT/bin" "$ag/source/kit/"
	mkdir -p "$ag/source/kit/build"
	for d in "$ROOT"/build/*; do
		case ${d##*/} in grade | autograder) ;; *) cp -a "$d" "$ag/source/kit/build/" ;; esac
	done

	cp "$ROOT/servers/epoll_lt.c" "$ag/submission/server.c"
	AUTOGRADER_ROOT=$ag GRADE_OUT=$ag/out run "$ag/source/run_autograder"
	echo "$output"
	cat "$results"
	valid "$GRADESCOPE_SCHEMA" "$results"
	jq -e '.score > 1 and .score == ([.tests[].max_score] | add) and all(.tests[]; .status == "passed")' "$results"
	jq -e 'any(.tests[]; .name == "hidden/extra: two GETs in one write: two answers" and .visibility == "hidden")' "$results"

	# a repository's worth of files; its one C file is edge-triggered, reading once per edge
	rm -rf "$ag/results" "$ag/submission"/*
	mkdir -p "$ag/submission/src"
	echo "my server" >"$ag/submission/README.md"
	sed 's/conn_run(c, CONN_DRAIN)/conn_run(c, CONN_READ_ONCE)/' "$ROOT/servers/epoll_et.c" >"$ag/submission/src/et_once.c"
	AUTOGRADER_ROOT=$ag GRADE_OUT=$ag/out run "$ag/source/run_autograder"
	echo "$output"
	cat "$results"
	valid "$GRADESCOPE_SCHEMA" "$results"
	jq -e '.score > 0 and .score < ([.tests[].max_score] | add)' "$results"
	jq -e 'any(.tests[]; .status == "failed" and (.name | startswith("hostile: 1,000 pipelined requests, then")))' "$results"
	jq -e 'any(.tests[]; .status == "passed" and .visibility == "hidden")' "$results"
}

@test "a copy of every shipped model passes the behaviours that tell them apart" {
	local m src
	while read -r m _; do
		src=$GRADE_DIR/copy_of_$m.c
		cp "$ROOT/servers/$m.c" "$src"
		run grade -f 'exact response|100 pipelined|idle connections cost|stalled half-request|1,000 pipelined requests, then' "$src" "$m"
		echo "$output"
		(( status == 0 )) || { echo "a copy of $m failed its grade" >&2; return 1; }
		[[ $output == *"held to the lessons of bin/$m"* ]]
	done < <(grep -v '^#' "$ROOT/servers/MODELS")
}

@test "a copy of epoll_et passes the whole grade, its model guessed from its calls" {
	cp "$ROOT/servers/epoll_et.c" "$GRADE_DIR/mine.c"
	run grade "$GRADE_DIR/mine.c"
	echo "$output"
	(( status == 0 ))
	[[ $output == *"held to the lessons of bin/epoll_et (guessed"* ]]
	[[ $output == *" 0 failed"* ]]
}

@test "edge-triggered, reading once per edge: fails 1,000 pipelined requests" {
	broken et_once epoll_et 's/conn_run(c, CONN_DRAIN)/conn_run(c, CONN_READ_ONCE)/'
	run grade -f '1,000 pipelined requests, then|exact response' "$GRADE_DIR/et_once.c"
	echo "$output"
	expect_failed "hostile: 1,000 pipelined requests, then a half-close"
	[[ $output == *"not once per event (CONN_DRAIN, not CONN_READ_ONCE)"* ]]
	[[ $output == *"pass  conformance: GET: exact response bytes"* ]]
}

@test "select without the FD_SETSIZE check: fails the descriptor past FD_SETSIZE" {
	broken select_unchecked select '/if (fd >= FD_SETSIZE) {/,/^\t}/d'
	run grade -f 'past FD_SETSIZE|exact response' "$GRADE_DIR/select_unchecked.c"
	echo "$output"
	expect_failed "hostile: select: a descriptor past FD_SETSIZE gets 503"
}

@test "poll always asking for POLLOUT: fails idle connections cost no CPU" {
	broken poll_pollout poll 's/return want == CONN_WRITE ? POLLOUT : POLLIN;/return POLLIN | POLLOUT;/'
	run grade -f 'idle connections cost|exact response' "$GRADE_DIR/poll_pollout.c"
	echo "$output"
	expect_failed "conformance: idle connections cost no CPU"
}
