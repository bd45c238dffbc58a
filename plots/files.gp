# Serving files from the page cache (--root): 50 keep-alive clients fetch one
# file of 1 KiB, 64 KiB or 1 MiB, over and over. Top: requests and megabytes
# a second; bottom: the server's CPU per request and per megabyte sent (log
# scales). A small file costs what a request costs (parse, headers, a wakeup);
# a big one costs what its bytes cost, which sendfile(2) keeps low: the data
# goes from the page cache to the socket without a copy through user space.
# Input: files.dat (bench/plot), one row per model and file, with kib = the
# file's size in KiB.
load plots."/common.gp"
if (fmt eq "svg") {
    set terminal svg size 1040,760 dynamic font "Sans,13" background rgb "white"
} else {
    set terminal pngcairo size 1040,760 font "Sans,11" background rgb "white"
}
set output dir."/".name.".".fmt
set termoption noenhanced               # a new terminal: model names hold underscores
unset key
set multiplot title "Serving a file from the page cache (--root, 50 keep-alive clients, sendfile)"
f = dir."/files.dat"
set logscale x
set xrange [0.5:2048]
set offsets 0, 0, graph 0.06, graph 0.02
set xtics ("1 KiB" 1, "64 KiB" 64, "1 MiB" 1024)
set xlabel "file size (log scale)"
set lmargin 11
set bmargin 3.5
set rmargin 2
# Cannot-serve markers sit at 0 on the linear panels; spread apart per model.
wide(m) = 1 + 0.06 * (idx(m) - 5)

set size 0.41, 0.45
set origin 0.0, 0.48
set ylabel "requests per second"
set yrange [0:*]
set format y "%.0s%c"
plot for [m in models] f using (ok(m) ? column("kib") : NaN):"req_per_s_med":"req_per_s_min":"req_per_s_max" \
        with yerrorlines lt idx(m) title m, \
     for [m in models] f using (bad(m) ? column("kib") * wide(m) : NaN):(0) \
        with points lt idx(m) pt 2 ps 2 lw 3 notitle

set origin 0.41, 0.48
set size 0.59, 0.45
set rmargin 22
set ylabel "MB per second (of file bodies)"
set format y "%g"
set key outside right top vertical Left reverse samplen 2 spacing 1.2
plot for [m in models] f using (ok(m) ? column("kib") : NaN):"mb_per_s_med":"mb_per_s_min":"mb_per_s_max" \
        with yerrorlines lt idx(m) title m, \
     for [m in models] f using (bad(m) ? column("kib") * wide(m) : NaN):(0) \
        with points lt idx(m) pt 2 ps 2 lw 3 notitle, \
     NaN with points lc rgb "#444444" pt 2 ps 2 lw 3 title (cannot ne "" ? "× cannot serve" : "")
unset key

set logscale y
set format y "%g"
eval "set ytics ".TICS125
set yrange [*:*]
set size 0.41, 0.45
set origin 0.0, 0.04
set rmargin 2
set ylabel "server CPU per request, µs (log)"
plot for [m in models] f using (ok(m) ? column("kib") : NaN):"cpu_us_per_req_med":"cpu_us_per_req_min":"cpu_us_per_req_max" \
        with yerrorlines lt idx(m) title m

set origin 0.41, 0.04
set size 0.59, 0.45
set rmargin 22
set ylabel "server CPU per MB sent, µs (log)"
plot for [m in models] f using (ok(m) ? column("kib") : NaN):"cpu_us_per_mb_med":"cpu_us_per_mb_min":"cpu_us_per_mb_max" \
        with yerrorlines lt idx(m) title m
unset multiplot
