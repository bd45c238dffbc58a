# plots/calls.gp: the time of one waiting call (poll, select, epoll_wait,
# io_uring_enter) against the descriptors it was given, from bench/profile's
# calls-summary.csv. bench/profile sets dir, fmt ("png" or "svg"), out, conns.
# The median call of each run, with a bar from its 10th to its 90th
# percentile; time on the CPU only: the wait for an event is not counted.
if (fmt eq "svg") {
    set terminal svg size 960,600 dynamic font "Sans,13" background rgb "white"
} else {
    set terminal pngcairo size 960,600 font "Sans,11" background rgb "white"
}
set output out
set encoding utf8
set termoption noenhanced
set datafile separator ","
set datafile columnheaders
set title "Time of one call against the descriptors it watches (kernel tracepoints, ".conns." busy connections)"
set xlabel "descriptors watched (idle connections + busy ones + the listener)"
set ylabel "time on the CPU per call, µs (median; bar: 10th to 90th percentile)"
set grid lc rgb "#dddddd"
set key top left
set autoscale fix
set offsets graph 0.03, graph 0.03, graph 0.05, graph 0
set yrange [0:*]
models = system("awk -F, 'NR > 1 && !seen[$1]++ { printf \"%s \", $1 }' ".dir."/calls-summary.csv")
set label 1 "the cost of the wait itself is left out: poll's grows with what it is given, epoll_wait's with what is ready" \
    at screen 0.01, 0.02 left font ",10" tc rgb "#444444"
set bmargin 5
plot for [k = 1:words(models)] dir."/calls-summary.csv" \
        using (strcol("model") eq word(models, k) ? column("given") : NaN):($7 / 1000):($6 / 1000):($8 / 1000) \
        with yerrorlines lw 2 pt 7 title word(models, k)
