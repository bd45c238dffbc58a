#!/usr/bin/env bats
#
# The fuzzer's findings as regression tests: bin/http_replay (the libFuzzer
# target of tests/fuzz/http_fuzz.c, linked with a plain main instead of
# libFuzzer) runs every input in tests/fuzz/ through the request framing and
# checks the same promises the fuzzer does; bin/resp_replay does the same for
# loadgen's response parser (tests/fuzz/resp_fuzz.c, resp_corpus/,
# resp_crashes/). They run in every build, so under `make sanitize` ASan and
# UBSan watch them too. `make fuzz` looks for new ones.

load suite
check_leaks # the replayed code (the parsers) is what is under test

FUZZ=$BATS_TEST_DIRNAME/fuzz

# replay_each DIR [REPLAY]: every input of DIR through REPLAY (http_replay),
# one at a time, so a failure names the file.
replay_each() {
	local file n=0 replay=${2:-http_replay}
	for file in "$1"/*; do
		[ -e "$file" ] || continue      # an empty directory: the glob itself
		run "$BIN/$replay" "$file"
		if (( status != 0 )); then
			echo "$replay $file: exit status $status" >&2
			echo "$output" >&2
			return 1
		fi
		n=$(( n + 1 ))
	done
	echo "$n inputs replayed from $1"
}

@test "every input that ever crashed the fuzz target passes now" {
	[ -x "$BIN/http_replay" ] || { echo "$BIN/http_replay is not built" >&2; return 1; }
	replay_each "$FUZZ/crashes"
	(( $(ls "$FUZZ/crashes" | wc -l) > 0 ))
}

@test "the seed corpus passes" {
	[ -x "$BIN/http_replay" ] || { echo "$BIN/http_replay is not built" >&2; return 1; }
	run -0 "$BIN/http_replay" "$FUZZ/corpus"
	expect_eq "replayed $(ls "$FUZZ/corpus" | wc -l) inputs" "$output" "http_replay"
}

@test "resp_replay: every input that ever crashed loadgen's response parser passes now" {
	[ -x "$BIN/resp_replay" ] || { echo "$BIN/resp_replay is not built" >&2; return 1; }
	replay_each "$FUZZ/resp_crashes" resp_replay
}

@test "resp_replay: the response parser's seed corpus passes" {
	[ -x "$BIN/resp_replay" ] || { echo "$BIN/resp_replay is not built" >&2; return 1; }
	run -0 "$BIN/resp_replay" "$FUZZ/resp_corpus"
	expect_eq "replayed $(ls "$FUZZ/resp_corpus" | wc -l) inputs" "$output" "resp_replay"
}
