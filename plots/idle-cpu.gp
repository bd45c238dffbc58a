# Server CPU per request vs idle descriptors: the cost of the wait itself.
load plots."/common.gp"
set title "Server CPU time per request while idle connections are held"
set xlabel "idle connections held (log scale)"
set ylabel "server CPU per request, µs (user + system; log scale)"
set logscale xy
eval "set xtics ".xt
eval "set ytics ".TICS125
eval noise_band(cpu_lo, cpu_hi)
set label 98 noise_text(cpu_pct) at screen 0.01, 0.06 left font ",10" tc rgb "#444444"
plot for [m in models] dir."/idle.csv" \
        using (ok(m) ? xidle(column("idle")) : NaN):"cpu_us_per_req_med":"cpu_us_per_req_min":"cpu_us_per_req_max" \
        with yerrorlines lt idx(m) title m
