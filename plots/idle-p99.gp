# Tail latency vs idle descriptors: an O(N) wait makes every request wait
# for the scan of every idle descriptor, so p99 climbs with N.
load plots."/common.gp"
set title "p99 latency while idle connections are held (50 active keep-alive clients)"
set xlabel "idle connections held (log scale)"
set ylabel "p99 latency, ms (log scale; bars: min to max)"
set logscale xy
eval "set xtics ".xt
eval "set ytics ".TICS125
plot for [m in models] dir."/idle.csv" \
        using (ok(m) ? xidle(column("idle")) : NaN):(column("lat_p99_us_med") / 1000):(column("lat_p99_us_min") / 1000):(column("lat_p99_us_max") / 1000) \
        with yerrorlines lt idx(m) title m
