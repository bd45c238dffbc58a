# Labs 3, 4, 5: syscalls per request by name, one bar per model. The lab
# sets data (a table "syscall,MODEL1,MODEL2...", one row per syscall: what
# syscall_plot in labs/lab.bash makes of syscalls.csv), bars (the models, in
# order) and what (the load, for the title).
load plots."/common.gp"
if (!exists("bars")) bars = "epoll_lt epoll_et"
if (!exists("what")) what = "50 keep-alive connections"
set title "Syscalls per request, by name (strace -c -f; ".what.")"
set ylabel "calls per request"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -30 nomirror
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
plot for [i = 1:words(bars)] data using (column(i + 1)):xtic(1) \
        lt idx(word(bars, i)) title bar(word(bars, i), idx(word(bars, i)))
