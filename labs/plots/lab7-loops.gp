# Lab 7: latency percentiles of three runs (loops.csv: run,req_per_s,
# lat_p50_us,...): closed loop, closed loop with stalls, open loop with stalls.
load plots."/common.gp"
set title "Closed loop vs open loop while the server stalls 100 ms every 0.5 s (lab 7)"
set ylabel "latency, µs (log scale)"
set logscale y
eval "set ytics ".TICS125
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics nomirror
set autoscale y
set offsets 0, 0, 0, 0
set linetype 101 lc rgb "#9ecae1"
set linetype 102 lc rgb "#3182bd"
set linetype 103 lc rgb "#d62728"
set linetype 104 lc rgb "#7f7f7f"
plot dir."/loops.csv" using "lat_p50_us":xtic(1) lt 101 title bar("p50", 101), \
     ''               using "lat_p99_us" lt 102 title bar("p99", 102), \
     ''               using "lat_p999_us" lt 103 title bar("p99.9", 103), \
     ''               using "lat_max_us" lt 104 title bar("max", 104)
