# Lab 8: the hello page's latency (p99 and worst) while another client
# downloads a file, cold (read from a throttled disk) and warm (page cache),
# per model. The lab sets data (a table "model,cold_p99_ms,cold_max_ms,
# warm_p99_ms,warm_max_ms", one row per model) and what (the run, for the title).
load plots."/common.gp"
set title "The hello page's latency while one client downloads a file (".what.")"
set ylabel "hello latency, ms (log scale)"
set logscale y
set yrange [0.01:5000]
eval "set ytics ".TICS125
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics nomirror
plot data using "cold_max_ms":xtic(1) lc rgb "#d62728" title bar("worst, file cold", 1), \
     data using "cold_p99_ms" lc rgb "#ff9896" title bar("p99, file cold", 2), \
     data using "warm_max_ms" lc rgb "#1f77b4" title bar("worst, file warm", 3), \
     data using "warm_p99_ms" lc rgb "#aec7e8" title bar("p99, file warm", 4)
