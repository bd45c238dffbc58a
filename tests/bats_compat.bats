#!/usr/bin/env bats
# run: once
#
# The suites run on bats 1.2.1 (Ubuntu 22.04's) and every later bats. What
# bats added since is easy to reach for and fails only on the old one, where
# few of us run the tests: this suite finds it by reading the code, on any
# bats. tests/suite.bash has what the suites use instead (its section "bats 1.2.1 and later").

load suite

TESTS=$(cd "$BATS_TEST_DIRNAME" && pwd)

# Features of bats newer than 1.2.1, one extended regex each, then a tab and
# what to use instead. Comment lines are not read.
NEWER=$(
	cat <<'EOF'
(^|[[:space:];&|(])run[[:space:]]+(-[0-9]|!|--)	run -N, run ! and run --flags (1.5): run_expecting N, run_stderr_apart
bats_require_minimum_version	bats_require_minimum_version (1.5): not needed, write for 1.2.1
BATS_SUITE_TMPDIR	BATS_SUITE_TMPDIR (1.4): BATS_FILE_TMPDIR (tests/suite.bash makes it on 1.2.1)
BATS_TEST_RETRIES|BATS_TEST_TIMEOUT|BATS_TEST_NAME_PREFIX	BATS_TEST_RETRIES, _TIMEOUT, _NAME_PREFIX (1.6, 1.7): not on 1.2.1
setup_suite|teardown_suite	setup_suite (1.7): setup_file in the suite
bats_load_library|bats_load_safe|bats_pipe|bats::on_failure	bats_load_library, bats_pipe, bats::on_failure (1.7 and later): load, a pipe in a function
EOF
)

# Options of bats newer than 1.2.1, for the scripts that start bats.
NEWER_OPTIONS='--(print-output-on-failure|show-output-of-passing-tests|verbose-run|gather-test-outputs-in|filter-status|filter-tags|code-quote-style|line-reference-format|abort|setup-suite-file|no-parallelize-across-files|no-parallelize-within-files|report-formatter)'

# newer_features FILE...: prints "FILE:LINE: what: the line" for each use of a
# feature of bats newer than 1.2.1 in the suite files given; status 0 when
# there was none.
newer_features() {
	local regex instead found=0
	while IFS=$'\t' read -r regex instead; do
		if grep -nHE "$regex" "$@" | grep -vE '^[^:]*:[0-9]+:[[:space:]]*#' |
			sed "s|\$| ($instead)|" | grep .; then
			found=1
		fi
	done <<<"$NEWER"
	(( found == 0 ))
}

# newer_options FILE...: the same for bats' command-line options.
newer_options() {
	! grep -nHE -- "$NEWER_OPTIONS" "$@"
}

# suite_files: the suites and their library, each file once (a symlinked
# suite, loadgen-io_uring, is its target) and not this one, whose patterns
# and samples are the features themselves.
suite_files() {
	local f
	for f in "$TESTS"/*.bats "$TESTS"/*.bash; do
		[ -L "$f" ] || [ "$f" -ef "$BATS_TEST_FILENAME" ] || echo "$f"
	done
}

@test "the suites and their library use nothing bats 1.2.1 lacks" {
	local files
	mapfile -t files < <(suite_files)
	run newer_features "${files[@]}"
	expect_eq "" "$output" "uses of features newer than bats 1.2.1"
}

@test "every suite that uses BATS_TEST_TMPDIR or BATS_FILE_TMPDIR loads the library, which makes them on 1.2.1" {
	local f missing=()
	while IFS= read -r f; do
		case $f in
		*.bats)
			grep -qE 'BATS_(TEST|FILE)_TMPDIR' "$f" && ! grep -qE '^load [a-z_]+$' "$f" &&
				missing+=("${f##*/}") ;;
		esac
	done < <(suite_files)
	expect_eq "" "${missing[*]}" "suites without a load line"
}

@test "tests/run, tests/grade and the Makefile start bats with 1.2.1's options only" {
	run newer_options "$TESTS/run" "$TESTS/grade" "$TESTS/../Makefile"
	expect_eq "" "$output" "options newer than bats 1.2.1"
}

@test "the check finds each newer feature it knows (it can fail)" {
	local sample=$BATS_TEST_TMPDIR/sample.bats
	printf '%s\n' \
		'	run -0 true' \
		'	[ 1 ] && run ! false' \
		'	run --separate-stderr true' \
		'bats_require_minimum_version 1.5.0' \
		'	bats_pipe true \| cat' \
		'	# run -0 in a comment is no use' \
		'	run_expecting 0 true' \
		'	tests/run -j 1 conformance' >"$sample"
	run newer_features "$sample"
	expect_eq 1 "$status" "newer_features' status"
	expect_eq 5 "${#lines[@]}" "lines found in: $output"
	run newer_options <(echo 'bats --print-output-on-failure x.bats')
	expect_eq 1 "$status" "newer_options' status"
}
