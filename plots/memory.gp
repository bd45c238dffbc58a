# Memory vs connections: a thread per connection pays a stack and a kernel
# task for each one, idle or not, a process per connection its own pages
# too; an event loop pays its per-connection state only. Left: PSS of the
# server's processes while it holds the idle connections (no load yet), so
# the slope is the memory per connection; right: threads + processes, which
# PSS undercounts (a task's kernel stack is not in it).
load plots."/common.gp"
unset key
set multiplot title "Server memory and threads vs connections held"
set logscale y
set autoscale xfix
set format x "%.0s%c"
set format y "%.0s%c"
set size 0.42, 0.90
set origin 0.0, 0.06
set lmargin 11
set rmargin 2
set ylabel "PSS of the server's processes, MiB (log scale)"
set xlabel "idle connections held"
plot for [m in models] dir."/idle.csv" \
        using (ok(m) ? column("idle") : NaN):(column("pss_kb_med") / 1024.0):(column("pss_kb_min") / 1024.0):(column("pss_kb_max") / 1024.0) \
        with yerrorlines lt idx(m) title m
set logscale x
set xlabel "connections held, 50 active + idle (log scale)"
set size 0.58, 0.90
set origin 0.42, 0.06
set rmargin 20
set key outside right top vertical Left reverse samplen 2.5 spacing 1.3
set ylabel "server threads + child processes, most seen (log scale)"
set yrange [0.8:*]
plot for [m in models] dir."/idle.csv" \
        using (ok(m) ? column("idle") + column("conns") : NaN):"tasks_med" \
        with linespoints lt idx(m) title m
unset multiplot
