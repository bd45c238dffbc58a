# Keep-alive on vs off: the same 50 clients, either reusing one connection
# for every request or opening a new one for each (Connection: close).
load plots."/common.gp"
set title "Keep-alive on vs off (50 clients; off: connect, one request, close)"
set ylabel "requests per second (median; bars: min to max)"
set xlabel "server model"
set style fill solid 0.85 border lc rgb "#333333"
set boxwidth 0.38
set yrange [0:*]
set offsets 0.6, 0.6, 0, 0
set format y "%.0s%c"
set grid noxtics nomxtics
set key inside right top
f = dir."/keepalive.dat"
plot f using ($0 - 0.2):"ka_med":xtic(1) with boxes lc rgb "#1f77b4" title "keep-alive on", \
     f using ($0 - 0.2):"ka_med":"ka_min":"ka_max" with yerrorbars lc rgb "#000000" pt 7 ps 0.4 notitle, \
     f using ($0 + 0.2):"cl_med" with boxes lc rgb "#ff7f0e" title "keep-alive off", \
     f using ($0 + 0.2):"cl_med":"cl_min":"cl_max" with yerrorbars lc rgb "#000000" pt 7 ps 0.4 notitle, \
     f using ($0 - 0.2):(0):(strcol("ka_status") eq "ok" ? "" : "cannot serve") with labels rotate left offset 0,0.6 font ",10" notitle, \
     f using ($0 + 0.2):(0):(strcol("cl_status") eq "ok" ? "" : "cannot serve") with labels rotate left offset 0,0.6 font ",10" notitle
