# Lab 1: memory and tasks vs idle connections held (labs/lab1.sh, memory.csv).
load plots."/common.gp"
# two panels side by side; in text one above the other (see panels() in common.gp)
txt = fmt eq "txt"
if (txt) { set terminal dumb nofeed size cols, 60; set output out }
set multiplot title "Server memory and tasks vs idle connections held (lab 1)"
set xlabel "idle connections held"
set size (txt ? 1 : 0.45), (txt ? 0.44 : 0.92)
set origin 0.0, (txt ? 0.48 : 0.04)
set rmargin 2
unset key
set ylabel "server memory, MiB: PSS solid, RSS dashed"
# RSS beside PSS, in the same colour: the handout compares fork's two lines
plot for [m in "threads fork epoll_et"] dir."/memory.csv" \
        using (strcol("model") eq m ? column("idle") : NaN):(column("pss_kib") / 1024.0) \
        with linespoints lt idx(m) title m, \
     for [m in "threads fork epoll_et"] dir."/memory.csv" \
        using (strcol("model") eq m ? column("idle") : NaN):(column("rss_kib") / 1024.0) \
        with lines lt idx(m) dt 2 notitle
set size (txt ? 1 : 0.55), (txt ? 0.44 : 0.92)
set origin (txt ? 0 : 0.45), 0.04
set rmargin 16
set key outside right top vertical Left reverse samplen 2.5 spacing 1.3
set ylabel "threads + child processes of the server"
plot for [m in "threads fork epoll_et"] dir."/memory.csv" \
        using (strcol("model") eq m ? column("idle") : NaN):"tasks" \
        with linespoints lt idx(m) title m
unset multiplot
