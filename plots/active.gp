# Throughput vs active connections, nothing idle.
load plots."/common.gp"
set title "Throughput vs active keep-alive connections (no idle connections)"
set xlabel "active connections (log scale)"
set ylabel "requests per second (median of runs; bars: min to max)"
set logscale x
set yrange [0:*]
set format y "%.0s%c"
plot for [m in models] dir."/active.csv" \
        using (ok(m) ? column("conns") : NaN):"req_per_s_med":"req_per_s_min":"req_per_s_max" \
        with yerrorlines lt idx(m) title m, \
     for [m in models] dir."/active.csv" \
        using (bad(m) ? column("conns") * spread(m) : NaN):(0) \
        with points lt idx(m) pt 2 ps 2.2 lw 3 notitle, \
     NaN with points lc rgb "#444444" pt 2 ps 2 lw 3 title (cannot ne "" ? "× cannot serve" : "")
