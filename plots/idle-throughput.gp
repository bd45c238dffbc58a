# Throughput vs idle descriptors: the headline of the suite. Every model
# serves the same 50 busy clients; only the number of idle connections grows.
load plots."/common.gp"
set title "Throughput while idle connections are held (50 active keep-alive clients)"
set xlabel "idle connections held (log scale)"
set ylabel "requests per second (median of runs; bars: min to max)"
set logscale x
eval "set xtics ".xt
set yrange [0:*]
set format y "%.0s%c"
eval noise_band(rps_lo, rps_hi)
set label 98 noise_text(rps_pct) at screen 0.01, 0.06 left font ",10" tc rgb "#444444"
plot for [m in models] dir."/idle.csv" \
        using (ok(m) ? xidle(column("idle")) : NaN):"req_per_s_med":"req_per_s_min":"req_per_s_max" \
        with yerrorlines lt idx(m) title m, \
     for [m in models] dir."/idle.csv" \
        using (bad(m) ? xidle(column("idle")) * spread(m) : NaN):(0) \
        with points lt idx(m) pt 2 ps 2.2 lw 3 notitle, \
     NaN with points lc rgb "#444444" pt 2 ps 2 lw 3 title (cannot ne "" ? "× cannot serve" : "")
