# Lab 5: req/s and server CPU per request, one point per run, io_uring
# beside epoll_et in alternating runs (cpu.csv: model,round,req_per_s,cpu_us_per_req).
load plots."/common.gp"
eval panels(2, "io_uring against epoll_et, alternating runs (lab 5; server on one CPU, 50 connections)")
set xlabel "run (round)"
set xtics 1
set xrange [0.5:rounds + 0.5]
set offsets 0, 0, graph 0.1, 0
set yrange [0:*]
unset key
set ylabel "requests per second"
plot for [m in bars] dir."/cpu.csv" using (strcol("model") eq m ? column("round") : NaN):"req_per_s" \
        with linespoints lt idx(m) title m
set key outside right top vertical Left reverse samplen 2.5 spacing 1.3
set ylabel "server CPU per request, µs (user + system)"
plot for [m in bars] dir."/cpu.csv" using (strcol("model") eq m ? column("round") : NaN):"cpu_us_per_req" \
        with linespoints lt idx(m) title m
unset multiplot
