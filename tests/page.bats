#!/usr/bin/env bats
# run: once
#
# Each lab's page (labs/page.bash: results/labK/index.html) and make serve
# (labs/serve), for a student on a machine with no screen. The pages are
# made by the real generator from each lab's own closing list (the
# "FILE.png|question" entries of labs/labK.sh), over small PNGs, and served
# by the kit's own server; headless Chromium loads each one and the test
# fails on an image it could not decode. Chromium is optional (tests/deps
# installs it as root on Debian; on Ubuntu it is a snap): without it those
# tests skip with one line. Runs once: it exercises no server code.

load suite

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
source "$ROOT/labs/page.bash"

# A 16 x 8 PNG, grey: small, and a real image a browser decodes.
PNG=iVBORw0KGgoAAAANSUhEUgAAABAAAAAICAAAAADVHSBLAAAAD0lEQVR42mNoQAMMAyMAAAGHQAFsOhHoAAAAAElFTkSuQmCC

teardown() {
	teardown_server
	[ -z "${SERVE_PID:-}" ] || { kill -TERM "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; }
}

# chromium_bin: prints the headless browser's command, or skips the test.
chromium_bin() {
	local c
	for c in chromium chromium-browser google-chrome; do
		command -v "$c" && return 0
	done
	skip "chromium is missing: tests/deps installs it as root (Debian: apt-get install chromium; Ubuntu: a snap)"
}

# fake_lab K DIR: DIR as lab K would leave it, made by the real generator:
# a PNG and an SVG for every graph its closing list names (and its main
# graph), a summary, the text graph, then page_write with those entries.
fake_lab() {
	local k=$1 dir=$2 main entry
	local entries=()
	main=$(awk -F'|' -v k="$k" '$1 == "#L" k { print $5 }' "$ROOT/labs/run")
	mapfile -t entries < <(grep -oE '"[a-z_-]+\.png\|[^"]*"' "$ROOT/labs/lab$k.sh" | tr -d '"')
	[ ${#entries[@]} -gt 0 ] || { echo "labs/lab$k.sh lists no graph"; return 1; }
	mkdir -p "$dir"
	printf 'lab %s: %s\nrun (a test), LAB_SMOKE=1\n\nfigures <with> & "µs"\n' "$k" "title $k" > "$dir/summary.txt"
	echo "a text graph" > "$dir/graph.txt"
	for entry in "${entries[@]}" "$main.png|the main graph"; do
		base64 -d <<< "$PNG" > "$dir/${entry%%.png|*}.png"
		echo '<svg xmlns="http://www.w3.org/2000/svg"/>' > "$dir/${entry%%.png|*}.svg"
	done
	page_write "$dir" "$main" "${entries[@]}" "summary.txt|every figure above"
}

# check_in_chromium URL...: loads each page in headless Chromium and prints,
# per page, 'URL data-checked="images=N broken=SRC..."' (nothing after broken= when every
# image decoded). The page is loaded with a small script added after it
# (check.html beside index.html), which reads each image once the page is
# loaded: an image the browser could not fetch or decode has naturalWidth 0.
check_in_chromium() {
	local chromium url
	chromium=$(chromium_bin) || return
	for url; do
		"$chromium" --headless --disable-gpu --no-sandbox --dump-dom "$url" 2>/dev/null |
			grep -o 'data-checked="[^"]*"' | sed "s|^|$url |" || echo "$url not loaded"
	done
}

# with_check DIR: DIR/check.html, DIR/index.html with the checking script.
with_check() {
	sed 's|</body>|<script>\
window.addEventListener("load", function () {\
	var broken = [];\
	for (var i = 0; i < document.images.length; i++)\
		if (document.images[i].naturalWidth === 0) broken.push(document.images[i].getAttribute("src"));\
	document.body.setAttribute("data-checked", "images=" + document.images.length + " broken=" + broken.join(" "));\
});\
</script></body>|' "$1/index.html" > "$1/check.html"
}

@test "each lab's page: every graph of its list inline, each linked to its SVG, the list and the summary escaped; no script, only relative links" {
	local k dir png n
	for k in 1 2 3 4 5 6 7 8; do
		dir=$BATS_TEST_TMPDIR/lab$k
		fake_lab "$k" "$dir"
		for png in "$dir"/*.png; do
			png=${png##*/}
			grep -q "<img src=\"$png\"" "$dir/index.html" || { echo "lab $k: $png is not on the page"; return 1; }
			grep -q "<a href=\"${png%.png}.svg\">SVG</a>" "$dir/index.html" || { echo "lab $k: no link to ${png%.png}.svg"; return 1; }
		done
		n=$(grep -c '<img ' "$dir/index.html")
		expect_eq "$(ls "$dir"/*.png | wc -l)" "$n" "lab $k: images on the page"
		grep -q '<a href="summary.txt">summary.txt</a></td><td>every figure above' "$dir/index.html"
		grep -q '<a href="graph.txt">graph.txt</a>' "$dir/index.html"
		grep -q 'figures &lt;with&gt; &amp; &quot;µs&quot;' "$dir/index.html"
		grep -q '<meta charset="utf-8">' "$dir/index.html"
		! grep -qiE '<script|(src|href)="(/|[a-z]+:)' "$dir/index.html" || { echo "lab $k: a script or a link that is not relative"; return 1; }
	done
}

@test "a file the list names that the lab did not write is shown as missing, and the page is still written" {
	local dir=$BATS_TEST_TMPDIR/lab1
	fake_lab 1 "$dir"
	page_write "$dir" memory "memory.png|memory" "blocking.txt|the idle client"
	grep -q '<td>blocking.txt</td><td>the idle client <span class="missing">' "$dir/index.html"
}

@test "headless Chromium loads every lab's page, served by the kit's server, and decodes every image; a broken one fails" {
	local results=$BATS_TEST_TMPDIR/results k urls=() out
	chromium_bin > /dev/null
	for k in 1 2 3 4 5 6 7 8; do
		fake_lab "$k" "$results/lab$k"
		with_check "$results/lab$k"
	done
	# the control: an image that is not a PNG must be reported, or the check checks nothing
	mkdir -p "$results/broken"
	cp "$results/lab1/"* "$results/broken/"
	echo "not a png" > "$results/broken/memory.png"
	server_up epoll_et --root "$results"
	for k in 1 2 3 4 5 6 7 8 broken; do
		urls+=("http://127.0.0.1:$SERVER_PORT/${k/#[1-8]/lab$k}/check.html")
	done
	out=$(check_in_chromium "${urls[@]}")
	echo "$out"
	for k in 1 2 3 4 5 6 7 8; do
		grep -qE "/lab$k/check.html data-checked=\"images=[1-9][0-9]* broken=\"$" <<< "$out" ||
			{ echo "lab $k: an image did not load, or the page did not"; return 1; }
	done
	grep -q '/broken/check.html data-checked="images=1 broken=memory.png"$' <<< "$out"
}

@test "labs/serve: results/ on 127.0.0.1, a lab's page and its graphs over HTTP, the ssh -L line; it stops its server" {
	local results=$BATS_TEST_TMPDIR/results port line url
	fake_lab 1 "$results/lab1"
	"$ROOT/labs/serve" --port 0 --bin "$BIN" --results "$results" > "$BATS_TEST_TMPDIR/serve.out" 2>&1 &
	SERVE_PID=$!
	# the banner is whole once its last line, lab 1's address, is there: on
	# a busy machine the ssh line can come well after the "Serving" line
	for _ in $(seq 200); do
		grep -q '^  http://localhost:8080/lab1/ ' "$BATS_TEST_TMPDIR/serve.out" && break
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$BATS_TEST_TMPDIR/serve.out"
	line=$(grep -m1 '^Serving ' "$BATS_TEST_TMPDIR/serve.out")
	[[ $line =~ at\ http://127\.0\.0\.1:([0-9]+)/ ]]
	port=${BASH_REMATCH[1]}
	grep -qE "^  ssh -L 8080:127\.0\.0\.1:$port [^ ]+@[^ ]+$" "$BATS_TEST_TMPDIR/serve.out"
	grep -q '^  http://localhost:8080/lab1/ ' "$BATS_TEST_TMPDIR/serve.out"
	[ "$(ss -Hltn "sport = :$port" | awk '{ print $4 }')" = "127.0.0.1:$port" ]
	url=http://127.0.0.1:$port
	curl -fsS -o /dev/null -w '%{content_type}\n' "$url/lab1/" | grep -qx 'text/html'
	curl -fsS "$url/lab1/" | grep -q '<img src="memory.png"'
	curl -fsS -o /dev/null -w '%{content_type}\n' "$url/lab1/memory.png" | grep -qx 'image/png'
	curl -fsS "$url/" | grep -q '<a href="lab1/index.html">lab 1: title 1</a>'
	kill -TERM "$SERVE_PID"
	wait "$SERVE_PID"
	SERVE_PID=""
	! curl -s -o /dev/null "$url/" || { echo "the server outlived labs/serve"; return 1; }
}
