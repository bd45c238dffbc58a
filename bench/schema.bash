# bench/schema.bash: the one definition of a bench row. bench/run writes
# runs.csv with these columns, bench/aggregate reads them by name and writes
# the point CSVs from them; docs/bench.md explains each. Sourced; defines
# variables and three functions.
#
#   row_reset           every column of the row being built back to NA
#   row_set NAME VALUE  one column (a comma or newline in VALUE becomes ";")
#   row_csv             the row as one CSV line, columns in schema order

# ---- runs.csv: one row per run ---------------------------------------------
# name               (meaning; the source is in brackets)
RUN_SCHEMA='
round                the round, 1..R: every point runs once per round
seq                  place in the round: the order is shuffled each round
role                 point, or control: the A/A control, run twice a round
model                the server model (servers/MODELS), or nginx
idle                 idle connections held by a second loadgen
conns                active connections of the measuring loadgen
mode                 keepalive, or close (a new connection per request)
pipeline             requests in flight per connection
option               default, nodelay, cork, backlog=N, file=SIZE (files), think=MS (talk: mean wait after an answer)
status               ok, errors (a result: sockopt only), failed, not_run
reason               why not ok, in words
steal_pct            [/proc/stat] host CPU stolen from this VM during the run, % of all CPU time
loadavg1             [/proc/loadavg] one-minute load average at the start of the run
file_bytes           the size of the file served (file=SIZE), else NA
idle_open            idle connections still open after the run [/proc/PID/fd]
conns_asked          [loadgen]
conns_established    [loadgen]
seconds              [loadgen] measured seconds (after the warm-up)
requests             [loadgen] answers in the measured seconds
bytes                [loadgen] bytes received in the measured seconds, headers included
req_per_s            [loadgen]
non2xx               [loadgen]
errors               [loadgen] the sum of every err_* column
error_causes         [loadgen] each err_* column that is not 0, as name=N
lat_p50_us           [loadgen]
lat_p99_us           [loadgen]
lat_p999_us          [loadgen]
lat_max_us           [loadgen]
lat_mean_us          [loadgen] the mean response time: R in N = X (Z + R), the law of Little
connect_p99_us       [loadgen]
connect_max_us       [loadgen]
connects_over_1s     [loadgen] connects that took over 1 s or timed out (a SYN retried)
conn_req_min         [loadgen] requests served on the least served connection
conn_req_median      [loadgen]
conn_req_max         [loadgen]
conns_starved        [loadgen] established connections never answered
fairness             [loadgen] Jain index of requests per connection, 1 = even
counters_from        snapshot (SIGUSR1 before and after), or since_start
srv_cpu_s            [/proc] server CPU in the interval: its threads, its children and theirs
srv_requests         [stats] requests answered in the interval
srv_accepted         [stats]
srv_wakeups          [stats] calls of the waiting syscall
srv_events           [stats] descriptors those calls reported ready
srv_refused          [stats]
srv_errors           [stats]
srv_peak             [stats] most connections open at once since start
srv_pss_kb           [/proc] PSS of the server and its children, holding the idle connections only
srv_tasks            [/proc] most threads + child processes seen during the run
srv_switches         [/proc] context switches of every thread and process of the server in the interval
srv_pss_load_kb      [/proc] PSS of the server and its children midway through the measured seconds
'
RUN_COLUMNS=$(awk 'NF { printf "%s%s", sep, $1; sep = " " }' <<< "$RUN_SCHEMA")
# the columns copied, by name, from loadgen's CSV
LOADGEN_COLUMNS=$(awk '$2 == "[loadgen]" && $1 != "errors" && $1 != "error_causes" { printf "%s%s", sep, $1; sep = " " }' <<< "$RUN_SCHEMA")

# ---- the point CSVs (idle.csv, active.csv, ...): one row per point ---------
POINT_KEY="model idle conns mode pipeline option"
# Each metric becomes NAME_min, NAME_med, NAME_max over the point's runs.
# bench/aggregate derives the per-request ones (docs/bench.md: the formulas).
POINT_METRICS="req_per_s lat_p50_us lat_p99_us lat_p999_us connect_p99_us connect_max_us connects_over_1s
cpu_us_per_req wakeups_per_req events_per_wakeup fairness pss_kb tasks steal_pct mb_per_s cpu_us_per_mb
switches_per_req pss_load_kb lat_mean_us offered_rps little_rps little_ratio"
POINT_METRICS=$(echo $POINT_METRICS)
# (mb_per_s and cpu_us_per_mb: the files sweep only, NA elsewhere; offered_rps,
# little_rps and little_ratio: the talk sweep only, where there is a think time.)
# The metrics the A/A control's spread is given for (noise.csv).
NOISE_METRICS="req_per_s cpu_us_per_req lat_p99_us"

# ---- building a row ----------------------------------------------------------
declare -A ROW

row_reset() {
	local c
	ROW=()
	for c in $RUN_COLUMNS; do ROW[$c]=NA; done
}

row_set() {
	local v=${2//,/;}
	v=${v//$'\n'/;}
	ROW[$1]=$v
}

row_csv() {
	local c out="" sep=""
	for c in $RUN_COLUMNS; do out+="$sep${ROW[$c]}"; sep=,; done
	echo "$out"
}
