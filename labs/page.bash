# labs/page.bash: a lab's results as one web page, for a machine with no
# screen. Sourced by labs/lab.bash (lab_end) and labs/serve; it defines
# functions only.
#
#   page_write DIR MAIN "FILE|QUESTION"...   DIR/index.html: graphs, summary, list
#   page_root DIR                            DIR/index.html: a link to each DIR/labK/
#   page_ssh_target                          user@host, for the ssh -L line
#
# The page is plain HTML with its style inline: no script, nothing fetched
# from elsewhere, and every link relative, so it reads the same opened from
# a file browser, served by `make serve` (labs/serve) or copied off the VM.
# It reads summary.txt's first two lines (the lab's title, the run) and
# embeds the whole of it; the graphs are the PNGs in DIR, the main one
# first, and each links to its SVG.

# The style every page shares: readable on a laptop and on a phone, graphs
# at most their drawn width (960 px), and the summary's long lines wrapped
# (on a phone, a line cut off at the edge looks like a line that ends there).
PAGE_STYLE='body { font: 16px/1.45 sans-serif; max-width: 62rem; margin: 1rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
.run { color: #555; margin-top: 0; }
table { border-collapse: collapse; }
td { padding: 0.15rem 0.8rem 0.15rem 0; vertical-align: top; }
td:first-child { font-family: monospace; white-space: nowrap; }
.missing { color: #b00; font-weight: bold; }
figure { margin: 1.5rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { color: #444; }
pre { background: #f6f6f6; padding: 0.6rem; white-space: pre-wrap; font-size: 0.85rem; line-height: 1.3; }'

# page_escape: stdin with &, < and > written as HTML entities, on stdout.
page_escape() {
	sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g'
}

# page_head TITLE: the document's head and the opening of its body.
page_head() {
	printf '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
	printf '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
	printf '<title>%s</title>\n<style>\n%s\n</style>\n</head>\n<body>\n' "$(page_escape <<< "$1")" "$PAGE_STYLE"
}

# page_write DIR MAIN "FILE|QUESTION"...: DIR/index.html from what the lab
# left in DIR. MAIN is the lab's main graph (a name, e.g. memory), drawn
# first; the entries are lab_end's list of which file answers which question.
# A file the list names that is not there is shown as missing. Returns
# non-zero only when the page cannot be written.
page_write() {
	local dir=$1 main=$2 entry file what png name
	shift 2
	local -A question=()
	local order=()
	for entry; do
		file=${entry%%|*}
		question[$file]=${entry#*|}
		order+=("$file")
	done
	{
		page_head "$(head -1 "$dir/summary.txt" 2>/dev/null || echo results)"
		printf '<h1>%s</h1>\n' "$(head -1 "$dir/summary.txt" 2>/dev/null | page_escape)"
		printf '<p class="run">%s</p>\n' "$(sed -n 2p "$dir/summary.txt" 2>/dev/null | page_escape)"

		echo '<h2>Which file answers which question</h2>'
		echo '<table>'
		for file in "${order[@]}"; do
			what=$(page_escape <<< "${question[$file]}")
			if [ -s "$dir/$file" ]; then
				printf '<tr><td><a href="%s">%s</a></td><td>%s</td></tr>\n' "$file" "$file" "$what"
			else
				printf '<tr><td>%s</td><td>%s <span class="missing">(missing: the step that writes it failed)</span></td></tr>\n' \
					"$file" "$what"
			fi
		done
		[ -s "$dir/graph.txt" ] &&
			printf '<tr><td><a href="graph.txt">graph.txt</a></td><td>%s.png drawn in text, for a terminal</td></tr>\n' "$main"
		echo '</table>'

		echo '<h2>Graphs</h2>'
		# the main graph first, then the others in the list's order, then any
		# the list does not name; each PNG inline, its SVG (sharper, zooms) linked
		local -A drawn=()
		for png in "$main.png" "${order[@]}" "$dir"/*.png; do
			png=${png##*/}
			[[ $png == *.png ]] && [ -s "$dir/$png" ] && [ -z "${drawn[$png]:-}" ] || continue
			drawn[$png]=1
			name=${png%.png}
			what=$(page_escape <<< "${question[$png]:-$name}")
			printf '<figure id="%s">\n<img src="%s" alt="%s">\n<figcaption>%s: %s' "$name" "$png" "$what" "$png" "$what"
			[ -s "$dir/$name.svg" ] && printf ' (<a href="%s.svg">SVG</a>)' "$name"
			printf '</figcaption>\n</figure>\n'
		done
		[ ${#drawn[@]} -gt 0 ] || echo '<p>This run drew no graph: the summary below says why.</p>'

		echo '<h2>Summary (<a href="summary.txt">summary.txt</a>)</h2>'
		printf '<pre>%s</pre>\n' "$(page_escape < "$dir/summary.txt" 2>/dev/null)"
		echo '</body>'
		echo '</html>'
	} > "$dir/index.html.new" && mv "$dir/index.html.new" "$dir/index.html"
}

# page_root DIR: DIR/index.html, a link to each lab's page under DIR
# (DIR/labK/index.html), with the lab's title and when it ran.
page_root() {
	local dir=$1 lab k
	{
		page_head "c10k-lab results"
		echo '<h1>c10k-lab results</h1>'
		echo '<ul>'
		for lab in "$dir"/lab[1-9]; do
			[ -s "$lab/index.html" ] || continue
			k=${lab##*/}
			printf '<li><a href="%s/index.html">%s</a> <span class="run">%s</span></li>\n' "$k" \
				"$(head -1 "$lab/summary.txt" | page_escape)" "$(sed -n 2p "$lab/summary.txt" | page_escape)"
		done
		echo '</ul>'
		echo '<p>Each lab writes its page at the end of <code>make lab N=K</code>.</p>'
		echo '</body>'
		echo '</html>'
	} > "$dir/index.html.new" && mv "$dir/index.html.new" "$dir/index.html"
}

# page_ssh_target: "user@host" for the ssh -L line that reaches this
# machine: the address this ssh session came in by (SSH_CONNECTION's third
# field), or the host's name outside ssh.
page_ssh_target() {
	local host
	host=$(awk '{ print $3 }' <<< "${SSH_CONNECTION:-}")
	echo "${USER:-$(id -un)}@${host:-$(hostname)}"
}
