#!/usr/bin/env bats
#
# The fuzzer's findings as regression tests: bin/http_replay (the libFuzzer
# target of tests/fuzz/http_fuzz.c, linked with a plain main instead of
# libFuzzer) runs every input in tests/fuzz/ through the request framing and
# checks the same promises the fuzzer does. It runs in every build, so under
# `make sanitize` ASan and UBSan watch it too. `make fuzz` looks for new ones.

load lib

FUZZ=$BATS_TEST_DIRNAME/fuzz

# replay_each DIR: every input of DIR through http_replay, one at a time, so
# a failure names the file.
replay_each() {
	local file n=0
	for file in "$1"/*; do
		run "$BIN/http_replay" "$file"
		if (( status != 0 )); then
			echo "http_replay $file: exit status $status" >&2
			echo "$output" >&2
			return 1
		fi
		n=$(( n + 1 ))
	done
	echo "$n inputs replayed from $1"
	(( n > 0 ))
}

@test "every input that ever crashed the fuzz target passes now" {
	[ -x "$BIN/http_replay" ] || { echo "$BIN/http_replay is not built" >&2; return 1; }
	replay_each "$FUZZ/crashes"
}

@test "the seed corpus passes" {
	[ -x "$BIN/http_replay" ] || { echo "$BIN/http_replay is not built" >&2; return 1; }
	run -0 "$BIN/http_replay" "$FUZZ/corpus"
	expect_eq "replayed $(ls "$FUZZ/corpus" | wc -l) inputs" "$output" "http_replay"
}
