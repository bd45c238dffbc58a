# What one wakeup buys: events per wakeup (left) and wakeups per request
# (right), from the servers' stats lines. The blocking models count their
# blocking accept and read calls as wakeups.
load plots."/common.gp"
set terminal push
unset key
set multiplot layout 1,2 title "Readiness calls, from the servers' stats line (50 active clients, idle connections held)"
set logscale x
eval "set xtics ".xts   # the short list: these panels are narrow
set xlabel "idle connections held (log scale)"
set ylabel "events (ready descriptors) per wakeup"
set yrange [0:*]
set lmargin 11
set rmargin 2
set size 0.40, 0.92
set origin 0.0, 0.05
plot for [m in models] dir."/idle.csv" \
        using (ok(m) ? xidle(column("idle")) : NaN):"events_per_wakeup_med":"events_per_wakeup_min":"events_per_wakeup_max" \
        with yerrorlines lt idx(m) title m
set ylabel "wakeups per request (log scale)"
set logscale y
set yrange [*:*]
eval "set ytics ".TICS125
set key outside right top vertical Left reverse samplen 2.5 spacing 1.3
set rmargin 20
set size 0.60, 0.92
set origin 0.40, 0.05
plot for [m in models] dir."/idle.csv" \
        using (ok(m) ? xidle(column("idle")) : NaN):"wakeups_per_req_med":"wakeups_per_req_min":"wakeups_per_req_max" \
        with yerrorlines lt idx(m) title m
unset multiplot
