#!/usr/bin/env bats
# run: once
#
# The teacher's side cannot rot. The keys (docs/teacher/) are what their
# templates (docs/teacher/src/) make from the labs' reference runs
# (docs/results/labs/), every run has its manifest and all come from one
# commit, the machine times the handouts state agree with those runs, and
# the student copy (make student-copy) holds no key, no reference run, no
# link to either and no figure a key quotes, and still builds, runs a lab
# and grades a server.
#
# Reading files is cheap; the student copy's build, its smallest lab 1
# and one graded behaviour take about 20 s. Nothing here is about a
# server's memory or threads: it runs once, not under the sanitizers.

load suite

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
REFS=$ROOT/docs/results/labs

# labs: the labs of labs/run's list, one number a line.
labs() {
	sed -n 's/^#L\([0-9][0-9]*\)|.*/\1/p' "$ROOT/labs/run"
}

# manifest_value LAB KEY: KEY's value in lab LAB's reference manifest.
manifest_value() {
	sed -n "s/^$2: *//p" "$REFS/lab$1/manifest.txt"
}

# seconds TEXT: "about 25 s", "about 1 min", "about 1 minute" -> 25, 60, 60.
seconds() {
	awk '{ for (i = 1; i < NF; i++) if ($i ~ /^[0-9]+$/) {
		u = $(i + 1); print (u ~ /^min/ ? $i * 60 : $i); exit } }' <<< "$1"
}

# copy_made: the student copy of HEAD in $BATS_FILE_TMPDIR/copy, made once.
copy_made() {
	COPY=$BATS_FILE_TMPDIR/copy
	[ -d "$COPY" ] || "$ROOT/tools/student-copy" "$COPY" > /dev/null 2>&1
}

# figures_in DIR FILE...: "FILE:LINE: FIGURE" for each figure of the list
# FILE found as a whole number (not inside a longer one) in the text files
# of DIR.
figures_in() {
	local dir=$1 list=$2
	find "$dir" -type f \( -name '*.md' -o -name '*.txt' -o -name '*.sh' -o -name '*.bash' -o -name '*.c' -o -name '*.h' \) \
		-not -path '*/docs/results/*' -print0 |
		xargs -0 awk 'NR == FNR { want[$0] = 1; next }
			{ for (x in want) { s = $0; off = 0
			    while ((i = index(s, x)) > 0) {
				pre = i > 1 ? substr(s, i - 1, 1) : " "
				post = substr(s, i + length(x), 1); post2 = substr(s, i + length(x) + 1, 1)
				if (pre !~ /[0-9.,]/ && post !~ /[0-9]/ && !(post ~ /[.,]/ && post2 ~ /[0-9]/)) {
					print FILENAME ":" FNR ": " x; break }
				s = substr(s, i + length(x)) } } }' "$list"
}

@test "every key is what its template makes from the reference runs (make keys)" {
	run "$ROOT/tools/keys" --check
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "every key has its template, and every template its key" {
	local f missing=""
	for f in "$ROOT"/docs/teacher/*.md; do
		[ -f "$ROOT/docs/teacher/src/${f##*/}" ] || missing+=" ${f##*/} (no template)"
	done
	for f in "$ROOT"/docs/teacher/src/*.md; do
		[ -f "$ROOT/docs/teacher/${f##*/}" ] || missing+=" ${f##*/} (no key)"
	done
	[ -z "$missing" ] || { echo "unpaired:$missing"; return 1; }
}

@test "make keys fails, naming the line, on a missing line, a missing row, a false check or a name used before it is defined" {
	local src=$BATS_TEST_TMPDIR/src out=$BATS_TEST_TMPDIR/out
	mkdir -p "$src" "$out"
	printf '%s\n' 'good: {{n = lab3/summary.txt | epoll_lt, 50 connections | before events per wakeup}}' \
		'{{lab3/summary.txt | no such line in the file | field 1}}' \
		'{{lab3/syscalls.csv | model=no_such_model | calls}}' \
		'{{? n > 1000}}' '{{= later / 2}}' '{{later := lab3/summary.txt | epoll_lt, 50 connections | field 1}}' > "$src/9-test.md"
	KEYS_SRC=$src KEYS_OUT=$out run_expecting 1 "$ROOT/tools/keys"
	echo "$output"
	[[ $output == *"9-test.md:2: lab3/summary.txt: no line holds 'no such line in the file'"* ]]
	[[ $output == *"9-test.md:3: lab3/syscalls.csv: no row model=no_such_model"* ]]
	[[ $output == *"9-test.md:4: check false"* ]]
	[[ $output == *"9-test.md:5: 'later' in"*"is not named before it is used"* ]]
	[ ! -e "$out/9-test.md" ]
	# the same template, its broken lines gone, makes a key with the figure in it
	sed -i '2,6d' "$src/9-test.md"
	KEYS_SRC=$src KEYS_OUT=$out run_expecting 0 "$ROOT/tools/keys"
	grep -q "^good: $(awk '/^epoll_lt, 50 connections/ { for (i = 1; i <= NF; i++) if ($(i + 1) == "events") { print $i; exit } }' "$REFS/lab3/summary.txt")\$" "$out/9-test.md"
}

@test "make keys finds a line's text as whole words: 'poll' is not in 'epoll_et'" {
	local src=$BATS_TEST_TMPDIR/src out=$BATS_TEST_TMPDIR/out file
	mkdir -p "$src" "$out"
	printf '%s\n' 'epoll_et 0.35 ns' 'poll 582 ns' 'tcp_sendmsg_locked 67' 'x tcp_sendmsg 69' > "$BATS_TEST_TMPDIR/figures.txt"
	file=$(realpath --relative-to="$ROOT" "$BATS_TEST_TMPDIR/figures.txt")
	printf '%s\n' "{{$file | poll | field 2}} {{$file | tcp_sendmsg | field 3}}" > "$src/9-test.md"
	KEYS_SRC=$src KEYS_OUT=$out run_expecting 0 "$ROOT/tools/keys"
	expect_eq "582 69" "$(tail -n 1 "$out/9-test.md")" "the figures"
}

@test "every lab's reference run has its manifest, and all come from one commit" {
	local k key commits="" bad=""
	for k in $(labs); do
		[ -s "$REFS/lab$k/manifest.txt" ] || { bad+=" lab$k: no manifest.txt;"; continue; }
		for key in date commit kernel pti cpu_model cpus steal_pct busy_pct took_s; do
			[ -n "$(manifest_value "$k" "$key")" ] || bad+=" lab$k: no $key;"
		done
		[ "$(manifest_value "$k" smoke)" = 0 ] || bad+=" lab$k: made with LAB_SMOKE=1;"
		commits+=" $(manifest_value "$k" commit)"
	done
	[ -z "$bad" ] || { echo "$bad"; return 1; }
	[ "$(tr ' ' '\n' <<< "$commits" | grep . | sort -u | wc -l)" -eq 1 ] ||
		{ echo "the reference runs come from several commits:$commits (make reference)"; return 1; }
}

@test "the machine times that labs/run, the handouts and the labs' table state agree with the reference runs" {
	# A stated time is what a student waits for on a 2-core VM: at least the
	# reference run's time, and at most twice it plus 15 s (a busier VM, PTI).
	local k took stated where bad=""
	for k in $(labs); do
		took=$(manifest_value "$k" took_s)
		while IFS='|' read -r where stated; do
			stated=$(seconds "$stated")
			[ -n "$stated" ] || { bad+=$'\n'"  lab $k, $where: no time found"; continue; }
			((stated >= took && stated <= 2 * took + 15)) ||
				bad+=$'\n'"  lab $k, $where: $stated s stated, the reference run took $took s (state $took to $((2 * took + 15)) s)"
		done < <(
			awk -F'|' -v k="$k" '$1 == "#L" k { print "labs/run|" $4 }' "$ROOT/labs/run"
			sed -n "s/.*(\`make lab N=$k\`: \(about [^)]*\)).*/docs\/labs\/$k-*.md line 3|\1/p" "$ROOT"/docs/labs/"$k"-*.md | head -1
			# the table of the eight labs: its rows link a handout
			awk -F'|' -v k=" $k " '$2 == k && $3 ~ /[.]md[)]/ { print "docs/labs/README.md|" $5 }' "$ROOT/docs/labs/README.md"
		)
	done
	[ -z "$bad" ] || { echo "stated machine times that disagree:$bad"; return 1; }
}

@test "the student copy has no keys, no reference runs of the labs and no link to them" {
	copy_made
	[ -f "$COPY/Makefile" ]
	[ ! -e "$COPY/docs/teacher" ]
	[ ! -e "$COPY/docs/results/labs" ]
	[ ! -e "$COPY/tests/keys.bats" ]
	run grep -rn -e 'docs/teacher' -e 'teacher/README' -e 'results/labs' -e '<!-- /\{0,1\}teacher -->' \
		--include='*.md' "$COPY"
	[ "$status" -ne 0 ] || { echo "the copy still points at answers:"; echo "$output"; return 1; }
	# the full tree has those links: the copy lost them, they were there
	grep -rq 'docs/teacher' "$ROOT/README.md" "$ROOT/docs/labs/README.md"
}

@test "no figure a key quotes from a lab's reference run, and no answer sentence, is in the student copy" {
	local figures=$BATS_TEST_TMPDIR/figures phrases=$BATS_TEST_TMPDIR/phrases
	copy_made
	# Figures of four significant digits or more (1,442, 0.0213, 105189): a
	# shorter or rounder one (100, 512, 20,000) is in many files for reasons
	# of its own.
	"$ROOT/tools/keys" --figures |
		awk '{ d = $0; gsub(/[^0-9]/, "", d); sub(/^0+/, "", d); sub(/0+$/, "", d) } length(d) >= 4 && $0 !~ /[A-Za-z]/' > "$figures"
	[ "$(wc -l < "$figures")" -gt 50 ]
	# the search finds them where they are: in the keys
	[ -n "$(figures_in "$ROOT/docs/teacher" "$figures" 2> /dev/null | head -1)" ]
	run figures_in "$COPY" "$figures"
	[ -z "$output" ] || { echo "figures of the keys found in the student copy:"; echo "$output"; return 1; }
	# Each answer's first sentence, when it is long enough to be the key's own words.
	awk '/^\*\*[0-9]+\.\*\* / { s = $0; sub(/^\*\*[0-9]+\.\*\* /, "", s); answer = 1 }
	     answer && !/^\*\*[0-9]+\.\*\* / { s = s " " $0 }
	     answer && /\.( |$)/ { sub(/\. .*/, "", s); sub(/\.$/, "", s); gsub(/[[:space:]]+/, " ", s)
		if (length(s) >= 40) print s; answer = 0 }' "$ROOT"/docs/teacher/[0-9]*.md > "$phrases"
	[ "$(wc -l < "$phrases")" -gt 20 ]
	run bash -c 'find "$1" -type f -name "*.md" -print0 | xargs -0 awk -v list="$2" "
		BEGIN { while ((getline p < list) > 0) want[p] = 1 }
		FNR == 1 && text != \"\" { check(); text = \"\" }
		{ name = FILENAME; text = text \" \" \$0 }
		END { check() }
		function check(  p, t) { t = text; gsub(/[[:space:]]+/, \" \", t)
			for (p in want) if (index(t, p)) print name \": \" p }"' _ "$COPY" "$phrases"
	[ -z "$output" ] || { echo "answer sentences of the keys found in the student copy:"; echo "$output"; return 1; }
}

@test "in the student copy, make builds, make lab N=1 runs (LAB_SMOKE=1) and make grade grades" {
	copy_made
	run make -C "$COPY" -j2
	[ "$status" -eq 0 ] || { echo "$output" | tail -20; return 1; }
	LAB_SMOKE=1 run make -C "$COPY" --no-print-directory lab N=1
	[ "$status" -eq 0 ] || { echo "$output" | tail -20; return 1; }
	[ -s "$COPY/results/lab1/summary.txt" ]
	# one behaviour of the grader is enough to show it works here
	run tests_grade_one
	echo "$output" | tail -5
	[ "$status" -eq 0 ]
	[[ $output == *"score: "* ]]
}

# tests_grade_one: make grade's script in the copy, on a shipped server, one test.
tests_grade_one() {
	(cd "$COPY" && tests/grade -f 'pipelined GET' servers/epoll_et.c epoll_et)
}
