#!/usr/bin/env bats
# run: once
#
# The figures of the docs: every figure a page names is committed,
# every source in docs/figures/ has its SVG and PNG beside it, and
# docs/figures/draw (what `make docs` runs) draws them all without error.
# Drawing needs gnuplot with pngcairo (package gnuplot-nox); without it those
# tests skip. Nothing here needs the servers, so the sanitizer builds do not
# run it again (run: once).

load suite

ROOT="$BATS_TEST_DIRNAME/.."
FIGS="$ROOT/docs/figures"

# figures_named: every docs/figures/ image that README.md or a docs page links,
# as a bare file name, once each.
figures_named() {
	grep -rhoE 'figures/[A-Za-z0-9_.-]+\.(svg|png)' "$ROOT/README.md" "$ROOT/docs" --include='*.md' |
		sed 's|.*/||' | sort -u
}

# sources: the figures' names, docs/figures/NAME.gp but the shared style.gp.
sources() {
	local src
	for src in "$FIGS"/*.gp; do
		[ "${src##*/}" = style.gp ] || basename "$src" .gp
	done
}

need_gnuplot() {
	command -v gnuplot >/dev/null || skip "no gnuplot (package gnuplot-nox)"
	gnuplot -e 'set terminal' 2>&1 | grep -qw pngcairo ||
		skip "gnuplot has no pngcairo terminal (package gnuplot-nox)"
}

@test "every figure a page names is in docs/figures/" {
	local f missing=()
	run figures_named
	[ -n "$output" ] || { echo "no page links a figure"; return 1; }
	for f in $output; do
		[ -s "$FIGS/$f" ] || missing+=("$f")
	done
	(( ${#missing[@]} == 0 )) || { echo "named but missing: ${missing[*]}"; return 1; }
}

@test "every figure source has its SVG and PNG committed beside it, and is named in the docs" {
	local name named bad=()
	named=$(figures_named)
	for name in $(sources); do
		[ -s "$FIGS/$name.svg" ] || bad+=("$name.svg missing")
		[ -s "$FIGS/$name.png" ] || bad+=("$name.png missing")
		grep -qx "$name.svg" <<<"$named" || bad+=("$name.svg not linked from any page")
	done
	(( ${#bad[@]} == 0 )) || { printf '%s\n' "${bad[@]}"; return 1; }
}

@test "make docs draws every figure, SVG and PNG, without error" {
	need_gnuplot
	local out="$BATS_TEST_TMPDIR/figures" name
	run "$FIGS/draw" "$out"
	echo "$output"
	[ "$status" -eq 0 ]
	# gnuplot reports a mistake in a script on stderr and may still exit 0
	! grep -E 'line [0-9]+:|warning' <<<"$output"
	for name in $(sources); do
		head -c 8 "$out/$name.png" | od -An -c | grep -q 'P   N   G' ||
			{ echo "$name.png is not a PNG"; return 1; }
		grep -q '</svg>' "$out/$name.svg" || { echo "$name.svg is not a whole SVG"; return 1; }
	done
}

@test "the committed SVGs are what their sources draw (when this gnuplot drew them)" {
	need_gnuplot
	local out="$BATS_TEST_TMPDIR/figures" name version stale=()
	"$FIGS/draw" "$out" >/dev/null
	version=$(gnuplot -V | awk '{ print $2 " patchlevel " $4 }')
	for name in $(sources); do
		# another gnuplot version writes other numbers: compare only like with like
		grep -q "GNUPLOT $version " "$FIGS/$name.svg" ||
			skip "$name.svg was drawn by another gnuplot than $version"
		cmp -s "$out/$name.svg" "$FIGS/$name.svg" || stale+=("$name")
	done
	(( ${#stale[@]} == 0 )) || { echo "run make docs and commit: ${stale[*]}"; return 1; }
}
