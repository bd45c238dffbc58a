#!/usr/bin/env bats
# run: per-model
#
# The file suite: --root DIR (issue 10; docs/models.md, "Serving files").
# tests/run runs this file once per model, with MODEL set. setup_file builds
# a tree in $BATS_FILE_TMPDIR: files of every size from 0 B to 100 MiB, one
# sparse file over 2 GiB, an index.html, a FIFO, a device where mknod works,
# an unreadable file, and symlinks that stay inside the root or point out of
# it at a secret that must never be sent. Every test starts its own server
# with --root, and teardown stops it (so each also proves a clean exit).
#
# The escapes are checked twice: through openat2(RESOLVE_BENEATH), and through
# the component-by-component fallback for kernels before 5.6
# (C10K_NO_OPENAT2=1), which refuses every symlink.
#
# Tools: curl (exact bytes, by cmp), tcpkit (exact bytes of hostile targets),
# slowread (a client with a small window that reads slowly), wrk and ab.

load suite

SECRET='TOP SECRET: never served'

setup_file() {
	export ROOT=$BATS_FILE_TMPDIR/www
	local out=$BATS_FILE_TMPDIR
	mkdir -p "$ROOT/sub" "$ROOT/nodir"
	printf '%s\n' "$SECRET" >"$out/secret.txt"
	: >"$ROOT/empty.txt"
	printf x >"$ROOT/one.txt"
	printf 'Hello, world!' >"$ROOT/hello.txt"
	head -c 65536 /dev/urandom >"$ROOT/64k.bin"
	head -c 1048576 /dev/urandom >"$ROOT/1m.bin"
	head -c 104857600 /dev/urandom >"$ROOT/100m.bin"
	# sparse: 2 GiB + 4 KiB + 1 byte of zeros that take no disk, past the
	# 2 GiB a single sendfile call moves at most
	truncate -s $(( (2 << 30) + 4097 )) "$ROOT/huge.bin"
	printf '<h1>root</h1>\n' >"$ROOT/index.html"
	printf '<h1>sub</h1>\n' >"$ROOT/sub/index.html"
	printf 'page\n' >"$ROOT/sub/page.txt"
	local ext
	for ext in css js txt json png jpg jpeg JPG svg htm bin; do
		printf 'data' >"$ROOT/file.$ext"
	done
	printf 'data' >"$ROOT/noext"
	printf 'unreadable\n' >"$ROOT/unreadable.txt"
	chmod 000 "$ROOT/unreadable.txt"
	ln -s hello.txt "$ROOT/inner"               # stays inside: served (openat2)
	ln -s ../secret.txt "$ROOT/escape"          # relative, out
	ln -s "$out/secret.txt" "$ROOT/absolute"    # absolute, out
	ln -s .. "$ROOT/updir"                      # a directory, out
	ln -s /dev/null "$ROOT/devnull"             # a device, out
	ln -s /proc/self/fd/0 "$ROOT/magic"         # a magic link
	mkfifo "$ROOT/fifo"
	# a real device inside the root: only root may mknod, and not in every container
	mknod "$ROOT/null" c 1 3 2>/dev/null || true
}

setup() {
	# ThreadSanitizer looks for data shared between threads: of the threaded
	# models only epoll_oneshot hands a connection (and its file offset) from
	# one thread to another; threads and reuseport keep each in one thread
	if [ "${TSAN:-}" = 1 ] && [ "$MODEL" != epoll_oneshot ]; then
		skip "under TSan only epoll_oneshot shares a connection between threads"
	fi
	BODY=$BATS_TEST_TMPDIR/body            # where fetch puts what it got
	server_up "$MODEL" --root "$ROOT"
}

teardown() {
	teardown_server
	unset C10K_NO_OPENAT2
}

# ---- helpers -------------------------------------------------------------------

# fetch PATH: GET with curl; the body goes to $BODY, and output is
# "CODE SIZE TYPE" (status, bytes received, Content-Type).
fetch() {
	curl -s --path-as-is -m "$(secs 30)" -o "$BODY" \
		-w '%{http_code} %{size_download} %{content_type}' "http://127.0.0.1:$SERVER_PORT$1"
}

# request TARGET [METHOD]: the exact bytes of a request for TARGET that asks to close.
request() {
	printf '%s %s HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' "${2:-GET}" "$1"
}

# refused TARGET STATUS...: TARGET (sent byte for byte) is answered with one
# of the statuses, and not one byte of the secret comes back.
refused() {
	local target=$1 want
	shift
	run tk -x -s "$(request "$target")"
	for want in "$@"; do
		[[ $output == "HTTP/1.1 $want "* ]] && break
	done
	if [[ $output != "HTTP/1.1 $want "* ]]; then
		echo "$target: want HTTP/1.1 $* , got: $output" >&2
		return 1
	fi
	if [[ $output == *"TOP SECRET"* || $output == *"$(head -c 16 /etc/passwd)"* ]]; then
		echo "$target: the answer carries what is outside the root: $output" >&2
		return 1
	fi
	expect_closed
}

# The file header of a 200 answer, as tcpkit -x prints it.
ok_head() {
	printf 'HTTP/1.1 200 OK\\r\\nContent-Type: %s\\r\\nContent-Length: %s\\r\\n' "$1" "$2"
}

# Resident memory of the process, in KiB.
rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# The server's processes: itself and its children (a model that forks
# serves each connection in a child, which then holds the file).
server_pids() {
	echo "$SERVER_PID" $(proc_children "$SERVER_PID")
}

# holders FILE: how many descriptors the server's processes have open on FILE.
holders() {
	local pid n=0
	for pid in $(server_pids); do
		n=$(( n + $(ls -l "/proc/$pid/fd" 2>/dev/null | grep -c -- "$1") ))
	done
	echo "$n"
}

# server_holds FILE: the server has FILE open now (it is sending it).
server_holds() {
	(( $(holders "$1") > 0 ))
}

# wait_holders FILE N: waits (10 s, scaled) until the server has FILE open N times.
wait_holders() {
	local tries=$(( $(secs 10) * 50 ))
	until (( $(holders "$1") == $2 )); do
		(( tries-- > 0 )) || { expect_eq "$2" "$(holders "$1")" "descriptors open on $1"; return 1; }
		sleep 0.02
	done
}

# max_rss_growth BASE: the largest VmRSS among the server's processes, less BASE (KiB).
max_rss_growth() {
	local pid rss max=0
	for pid in $(server_pids); do
		rss=$(rss_kb "$pid")
		(( rss > max )) && max=$rss
	done
	echo $(( max - $1 ))
}

# slowread_bg ARGS: bin/slowread in the background, without bats' descriptors;
# stop_background ends it.
slowread_bg() {
	(
		close_inherited_fds
		exec timeout "$(secs 60)" "$BIN/slowread" "$@" "$SERVER_PORT" >/dev/null 2>&1
	) &
	BG_PIDS="${BG_PIDS:-} $!"
}

needs_concurrency() {
	if [ "$MODEL" = blocking ]; then
		skip "blocking serves one client at a time: $1"
	fi
}

# ---- the bytes -----------------------------------------------------------------------

@test "GET: the exact bytes of files of 0 B, 1 B, 13 B, 64 KiB, 1 MiB and 100 MiB" {
	local f size
	for f in empty.txt one.txt hello.txt 64k.bin 1m.bin 100m.bin; do
		size=$(stat -c %s "$ROOT/$f")
		run -0 fetch "/$f"
		[[ $output == "200 $size "* ]] || expect_eq "200 $size ..." "$output" "$f"
		cmp "$ROOT/$f" "$BODY"
	done
	server_down
	expect_eq 6 "$(stat_field requests)" requests=
}

@test "a 13-byte file is answered with hello world's very bytes" {
	run -3 tk -x -n 1 -s 'GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n'
	expect_eq "$RESP" "$output" response
}

@test "HEAD: the file's headers and length, no body" {
	run -3 tk -x -H -n 1 -s 'HEAD /1m.bin HTTP/1.1\r\nHost: localhost\r\n\r\n'
	expect_eq "$(ok_head application/octet-stream 1048576)\\r\\n" "$output" response
	run -3 tk -x -H -n 1 -s 'HEAD /nothing-here HTTP/1.1\r\nHost: localhost\r\n\r\n'
	[[ $output == 'HTTP/1.1 404 Not Found\r\n'*'\r\n\r\n' ]] ||
		expect_eq "a 404 head without body" "$output" response
}

@test "a sparse file over 2 GiB: every byte sent" {
	plain_build_only "it reads 2 GiB, 7 s, through the same code in every build"
	# offsets past 2 GiB are servers/common/files.c's; the models differ only in
	# how their loop goes on after a partial send, which the 100 MiB tests cover
	# on every model: one model of each kind of loop is enough here
	case $MODEL in
	threads|epoll_et|io_uring) ;;
	*) skip "checked on threads, epoll_et and io_uring (one loop of each kind)" ;;
	esac
	local size
	size=$(stat -c %s "$ROOT/huge.bin")
	run -0 curl -s -m "$(secs 60)" -o /dev/null -w '%{http_code} %{size_download}' \
		"http://127.0.0.1:$SERVER_PORT/huge.bin"
	expect_eq "200 $size" "$output" "status and bytes"
}

@test "POST on a file is answered like GET, its body discarded; PUT is 405 as ever" {
	run -0 tk -x -s 'POST /hello.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello'
	expect_eq "$RESP_CLOSE" "$output" response
	run tk -x -s "$(request /hello.txt PUT)"
	expect_error 405
}

# ---- what is found -------------------------------------------------------------------

@test "404 for what is not there; directories answer their index.html, never a listing" {
	run -0 fetch /nothing-here
	[[ $output == "404 "* ]] || expect_eq "404 ..." "$output" /nothing-here
	run -0 fetch /hello.txt/more
	[[ $output == "404 "* ]] || expect_eq "404 ..." "$output" /hello.txt/more
	run -0 fetch /nodir/
	[[ $output == "404 "* ]] || expect_eq "404 ..." "$output" /nodir/
	local path
	for path in / /sub/ /sub; do
		run -0 fetch "$path"
		[[ $output == "200 "*" text/html" ]] || expect_eq "200 ... text/html" "$output" "$path"
	done
	cmp "$ROOT/sub/index.html" "$BODY"
}

@test "Content-Type follows the extension" {
	local ext type
	for ext in css:text/css js:text/javascript txt:text/plain json:application/json \
		   png:image/png jpg:image/jpeg jpeg:image/jpeg JPG:image/jpeg \
		   svg:image/svg+xml htm:text/html bin:application/octet-stream; do
		type=${ext#*:}
		run -0 fetch "/file.${ext%%:*}"
		expect_eq "200 4 $type" "$output" "file.${ext%%:*}"
	done
	run -0 fetch /noext
	expect_eq "200 4 application/octet-stream" "$output" noext
}

@test "the query string is ignored; percent-escapes are decoded" {
	run -0 fetch '/hello.txt?v=1&x=..%2f..'
	expect_eq "200 13 text/plain" "$output" "with a query"
	run -0 fetch '/hell%6F.txt'
	expect_eq "200 13 text/plain" "$output" "an escaped letter"
	run -0 fetch '/sub%2Fpage.txt'
	expect_eq "200 5 text/plain" "$output" "an escaped slash, inside the root"
}

# ---- no way out ----------------------------------------------------------------------

@test "dot segments are refused, however they are encoded" {
	refused /../secret.txt 400
	refused /sub/../../secret.txt 400
	refused /sub/../hello.txt 400
	refused /./hello.txt 400
	refused /%2e%2e/secret.txt 400
	refused /%2E%2e%2Fsecret.txt 400
	refused /..%2fsecret.txt 400
	refused /sub%2f..%2f..%2fsecret.txt 400
	refused /%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd 400
	refused /.. 400
}

@test "bad percent-escapes and %00 are 400" {
	refused /%zz 400
	refused /hello.txt%2 400
	refused /hello.txt% 400
	refused /%g0.txt 400
	refused /hello.txt%00.png 400
	refused /%00 400
}

@test "targets that are not a path from /, and backslashes, are 400" {
	refused http://localhost/hello.txt 400
	refused hello.txt 400
	refused '*' 400
	refused '/..\\secret.txt' 400
	refused '/sub\\page.txt' 400
	refused '/%5c..%5csecret.txt' 400
}

@test "symlinks out of the root are refused; one that stays inside is followed" {
	refused /escape 403
	refused /absolute 403
	refused /updir/secret.txt 403
	refused /devnull 403
	refused /magic 403
	run -0 fetch /inner
	expect_eq "200 13 application/octet-stream" "$output" "/inner"
}

@test "without openat2 (Linux < 5.6): the component walk refuses every symlink" {
	server_down
	export C10K_NO_OPENAT2=1
	server_up "$MODEL" --root "$ROOT"
	grep -q 'component by component' "$SERVER_ERR"
	refused /escape 403
	refused /absolute 403
	refused /updir/secret.txt 403 404   # O_DIRECTORY on a symlink: ENOTDIR
	refused /devnull 403
	refused /inner 403
	refused /../secret.txt 400
	refused /%2e%2e/secret.txt 400
	run -0 fetch /sub/page.txt
	expect_eq "200 5 text/plain" "$output" /sub/page.txt
	run -0 fetch /
	expect_eq "200 14 text/html" "$output" /
	run -0 fetch /nothing/here
	[[ $output == "404 "* ]] || expect_eq "404 ..." "$output" /nothing/here
}

# ---- what is never read ----------------------------------------------------------------

@test "a FIFO is refused at once, and the server goes on" {
	local start
	start=$(date +%s%N)
	refused /fifo 403
	(( ($(date +%s%N) - start) / 1000000 < $(ms 1000) ))
	run -3 tk -x -n 1 -s 'GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n'
	expect_eq "$RESP" "$output" "the next answer"
}

@test "a device inside the root is refused" {
	[ -c "$ROOT/null" ] || skip "mknod is not allowed here (needs root and CAP_MKNOD)"
	refused /null 403
}

@test "an unreadable file is 403" {
	server_down
	if (( EUID != 0 )); then
		server_up "$MODEL" --root "$ROOT"
	elif command -v setpriv >/dev/null; then
		# root reads a mode-000 file anyway (CAP_DAC_OVERRIDE): run the
		# server without the two capabilities that bypass permissions
		SERVER_WRAP="setpriv --inh-caps=-all --bounding-set=-dac_override,-dac_read_search" \
			server_up "$MODEL" --root "$ROOT"
	else
		skip "running as root, which reads any file, and setpriv is missing to drop that"
	fi
	refused /unreadable.txt 403
	run -0 fetch /hello.txt
	expect_eq "200 13 text/plain" "$output" "a readable file beside it"
}

# ---- connections ------------------------------------------------------------------------

@test "keep-alive: three files, one after the other, on one connection" {
	run -3 tk -x -n 3 -s 'GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n' \
		-s 'GET /one.txt HTTP/1.1\r\nHost: localhost\r\n\r\n' \
		-s 'GET /empty.txt HTTP/1.1\r\nHost: localhost\r\n\r\n'
	expect_eq "$RESP$(ok_head text/plain 1)\\r\\nx$(ok_head text/plain 0)\\r\\n" "$output" responses
	server_down
	expect_eq 1 "$(stat_field accepted)" accepted=
	expect_eq 3 "$(stat_field requests)" requests=
}

@test "pipelined behind a 1 MiB file: every answer, in order" {
	local got=$BATS_TEST_TMPDIR/got want=$BATS_TEST_TMPDIR/want
	local get='GET /1m.bin HTTP/1.1\r\nHost: localhost\r\n\r\n'
	local head='HEAD /64k.bin HTTP/1.1\r\nHost: localhost\r\n\r\n'
	local hello='GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n'
	local miss='GET /missing HTTP/1.1\r\nHost: localhost\r\n\r\n'
	tk -t "$(ms 10000)" -s "$get$hello$head$get$miss$(request /one.txt)" >"$got" && rc=0 || rc=$?
	expect_eq 0 "$rc" "tcpkit exit (0: closed after the last answer)"
	{
		printf "$(ok_head application/octet-stream 1048576)\\r\\n"; cat "$ROOT/1m.bin"
		printf "$RESP"
		printf "$(ok_head application/octet-stream 65536)\\r\\n"
		printf "$(ok_head application/octet-stream 1048576)\\r\\n"; cat "$ROOT/1m.bin"
		printf 'HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 28\r\n\r\n404 Not Found: no such file\n'
		printf "$(ok_head text/plain 1)Connection: close\\r\\n\\r\\nx"
	} >"$want"
	cmp "$want" "$got"
}

@test "slow readers of 1 MiB and 100 MiB do not stall other clients" {
	needs_concurrency "a slow reader holds the one connection it serves"
	slowread_bg -r 1048576 -o "$BATS_TEST_TMPDIR/1m.got" /1m.bin
	# 100 MiB never fits the kernel's buffers (a few MiB): the server is
	# still sending it, waiting for room, while the others are answered
	slowread_bg -r 262144 /100m.bin
	wait_holders 100m.bin 1
	local i start
	for i in 1 2 3 4 5; do
		start=$(date +%s%N)
		run -3 tk -x -n 1 -t "$(ms 2000)" -s 'GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n'
		expect_eq "$RESP" "$output" "answer $i beside the slow readers"
		echo "answer $i in $(( ($(date +%s%N) - start) / 1000000 )) ms"
	done
	server_holds 100m.bin        # still sending: the answers came meanwhile
	local tries=$(( $(secs 10) * 50 ))
	until [ "$(stat -c %s "$BATS_TEST_TMPDIR/1m.got" 2>/dev/null)" -ge 1048576 ] 2>/dev/null; do
		(( tries-- > 0 )) || break
		sleep 0.02
	done
	tail -c 1048576 "$BATS_TEST_TMPDIR/1m.got" | cmp - "$ROOT/1m.bin"
}

@test "slow readers of 100 MiB: memory stays bounded, and leaving mid-file leaks nothing" {
	local readers=10 base_rss base_fds growth limit i
	[ "$MODEL" = blocking ] && readers=1   # it serves one at a time
	base_fds=$(proc_fds "$SERVER_PID")
	base_rss=$(rss_kb "$SERVER_PID")
	for (( i = 0; i < readers; i++ )); do
		slowread_bg -r 65536 /100m.bin
	done
	wait_holders 100m.bin "$readers"         # one open file per reader
	sleep 1                                  # let them read a while
	expect_eq "$readers" "$(holders 100m.bin)" "descriptors open on 100m.bin, still sending"
	growth=$(max_rss_growth "$base_rss")
	echo "server RSS: $base_rss KiB before, $growth KiB more with $readers readers of 100 MiB"
	# a server that read the file into memory would hold 100 MiB per reader;
	# sendfile (or io_uring's reads into out[]) holds nothing but the
	# connection (and threads, a stack)
	limit=$(( 8 * 1024 * TIME_SCALE ))
	(( growth < limit )) || expect_eq "under $limit KiB" "$growth KiB" "RSS growth"
	stop_background                          # they vanish mid-file
	wait_holders 100m.bin 0
	run wait_fd_count "$SERVER_PID" "$base_fds" 10
	expect_eq "$base_fds" "$output" "server descriptors after the readers left"
}

@test "curl, wrk and ab fetch a 64 KiB file with no errors" {
	local conns=8 url="http://127.0.0.1:$SERVER_PORT/64k.bin"
	[ "$MODEL" = blocking ] && conns=1     # the others would wait their turn, and time out
	run -0 curl -s -o /dev/null -o /dev/null -w "%{http_code} %{size_download}" "$url" "$url"
	expect_eq "200 65536200 65536" "$output" "curl, two on one connection"
	if command -v wrk >/dev/null; then
		run -0 timeout "$(secs 30)" wrk -t 1 -c "$conns" -d 1 "$url"
		echo "$output"
		[[ $output != *"Socket errors"* && $output != *"Non-2xx"* ]]
		[[ $output == *" requests in "* ]]
	else
		echo "# wrk is not installed: skipped" >&3
	fi
	if command -v ab >/dev/null; then
		run -0 timeout "$(secs 30)" ab -q -k -n 500 -c "$conns" "$url"
		echo "$output"
		[[ $output == *"Complete requests:      500"* ]]
		[[ $output == *"Failed requests:        0"* ]]
		[[ $output == *"Document Length:        65536 bytes"* ]]
	else
		echo "# ab is not installed: skipped" >&3
	fi
}

# ---- the command line -----------------------------------------------------------------------

@test "--root: -h says what it exposes; a root that is not a directory ends the start" {
	run -0 "$BIN/$MODEL" -h
	[[ $output == *"--root DIR"*"readable regular file beneath DIR"* ]]
	run -1 timeout "$(secs 5)" "$BIN/$MODEL" -p 0 --root "$ROOT/hello.txt"
	[[ $output == *"--root"*"Not a directory"* ]]
	run -1 timeout "$(secs 5)" "$BIN/$MODEL" -p 0 --root "$BATS_FILE_TMPDIR/none"
	[[ $output == *"No such file"* ]]
}
