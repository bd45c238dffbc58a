# Socket options. Left: the listen backlog under a burst of concurrent
# connects; a full accept queue drops SYNs and the client retries after 1 s.
# Right: TCP_NODELAY and TCP_CORK against latency (median, whisker to p99), one request at a time and
# eight pipelined (where Nagle's algorithm can hold a small response back).
load plots."/common.gp"
unset label 99
set terminal push
unset key
# two panels side by side; in text one above the other (see panels() in common.gp)
txt = fmt eq "txt"
if (txt) { set terminal dumb nofeed size cols, 64; set output out }
set multiplot
set style fill solid 0.85 border lc rgb "#333333"
set boxwidth 0.36
set logscale y
set grid noxtics nomxtics
set offsets 0.5, 0.5, 0, 0
set size (txt ? 1 : 0.5), (txt ? 0.47 : 0.94)
set origin 0.0, (txt ? 0.51 : 0.04)
set tmargin 3
set title "listen backlog, 100 clients connecting at once\n(labels: share of connects over 1 s, a retried SYN)"
set ylabel "connect time, ms (log scale)"
set xlabel "model, and listen backlog" offset 0,-0.8
set yrange [0.01:5000]
eval "set ytics ".TICS125
if (txt) { set key outside below horizontal } else { set key inside right top opaque }
b = dir."/backlog.dat"
plot b using ($0 - 0.19):(column("connect_p99_med") / 1000.0):xtic(sprintf("%s\n%s", strcol("model"), strcol("backlog"))) with boxes lc rgb "#1f77b4" title bar("p99", 1), \
     b using ($0 + 0.19):(column("connect_max_med") / 1000.0) with boxes lc rgb "#d62728" title bar("max", 2), \
     b using ($0):(2000):(strcol("over_1s_med") eq "NA" ? "over 1 s: n/a" : sprintf("over 1 s: %.0f%%", 100 * column("over_1s_med"))) \
        with labels font ",10" notitle
set origin (txt ? 0 : 0.5), (txt ? 0.02 : 0.04)
set title "TCP_NODELAY, TCP_CORK: epoll_lt, 10 keep-alive clients"
set ylabel "median latency (bar) and p99 (whisker), µs (log scale)"
set xlabel "server socket option"
if (txt) { set key outside below horizontal } else { set key inside left top opaque }
o = dir."/nodelay.dat"
# room above the tallest whisker for the key: autoscale stops at the bars
# (stats keeps to the current range: the left panel's must not clip it)
set yrange [*:*]
stats o using "p99_pipe1" name "P1" nooutput
stats o using "p99_pipe8" name "P8" nooutput
set yrange [10:4 * (P1_max > P8_max ? P1_max : P8_max)]
plot o using ($0 - 0.19):"p50_pipe1":xtic(1) with boxes lc rgb "#2ca02c" title bar("one request at a time", 1), \
     o using ($0 - 0.19):"p50_pipe1":"p50_pipe1":"p99_pipe1" with yerrorbars lc rgb "#000000" pt 7 ps 0.4 notitle, \
     o using ($0 + 0.19):"p50_pipe8" with boxes lc rgb "#9467bd" title bar("8 pipelined requests", 3), \
     o using ($0 + 0.19):"p50_pipe8":"p50_pipe8":"p99_pipe8" with yerrorbars lc rgb "#000000" pt 7 ps 0.4 title "whisker: up to p99"
unset multiplot
