# Lab 9: Little's law on one server (labs/lab9.sh, little.csv): the rate N
# talking clients achieve against the two the law gives, and how busy the
# server's CPU was. Where the achieved rate leaves N / Z, the server's CPU
# is full and R, the response time, grows instead.
load plots."/common.gp"
set title "Little's law: N clients thinking 10 ms on average, one epoll_et server (lab 9)"
set xlabel "talking connections N (log scale)"
set ylabel "requests per second (log scale)"
set y2label "server CPU busy, % of one CPU"
set logscale xy
set format x "%.0s%c"
set format y "%.0s%c"
set y2range [0:110]
set y2tics 0, 20, 100
set ytics nomirror
f = dir."/little.csv"
good(c) = strcol("status") eq "ok" ? column(c) : NaN
plot f using "conns":(good("req_per_s")) with linespoints lt idx("epoll_et") title "achieved", \
     f using "conns":"offered_rps" with lines lc rgb "#000000" dt 2 lw 1.5 title "N / Z: offered", \
     f using "conns":(good("little_rps")) with lines lc rgb "#777777" dt 3 lw 2 title "N / (Z + R): Little", \
     f using "conns":(good("server_busy_pct")) axes x1y2 with linespoints lc rgb "#d62728" pt 6 dt 4 title "server CPU busy (right)"
