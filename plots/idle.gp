# The headline: what idle descriptors cost, told by the figure that holds on
# a noisy machine. Left: server CPU per request (log scale): the cost of one
# wait grows with N for select and poll and stays flat for epoll, however
# busy the machine is. Right: throughput with its bars, which the machine's
# other work moves too. The grey bands are the run's noise floor.
load plots."/common.gp"
set terminal push
unset key
set multiplot title "Idle connections held vs the server's work (50 active keep-alive clients)"
set logscale x
eval "set xtics ".xts
set xlabel "idle connections held (log scale)"
set lmargin 10
set rmargin 2
set size 0.50, 0.88
set origin 0.0, 0.07
set ylabel "server CPU per request, µs (log scale)"
set logscale y
eval "set ytics ".TICS125
eval noise_band(cpu_lo, cpu_hi)
set label 98 noise_text(cpu_pct) at screen 0.01, 0.06 left font ",10" tc rgb "#444444"
plot for [m in models] dir."/idle.csv" \
        using (ok(m) ? xidle(column("idle")) : NaN):"cpu_us_per_req_med":"cpu_us_per_req_min":"cpu_us_per_req_max" \
        with yerrorlines lt idx(m) title m
unset object 90
unset label 98
unset label 99
unset logscale y
set ytics autofreq
set yrange [0:*]
set format y "%.0s%c"
set ylabel "requests per second (median; bars: min to max)"
set size 0.50, 0.88
set origin 0.50, 0.07
set rmargin 17
set key outside right top vertical Left reverse samplen 2 spacing 1.2
eval noise_band(rps_lo, rps_hi)
plot for [m in models] dir."/idle.csv" \
        using (ok(m) ? xidle(column("idle")) : NaN):"req_per_s_med":"req_per_s_min":"req_per_s_max" \
        with yerrorlines lt idx(m) title m, \
     for [m in models] dir."/idle.csv" \
        using (bad(m) ? xidle(column("idle")) * spread(m) : NaN):(0) \
        with points lt idx(m) pt 2 ps 2.2 lw 3 notitle, \
     NaN with points lc rgb "#444444" pt 2 ps 2 lw 3 title (cannot ne "" ? "× cannot serve" : "")
unset multiplot
