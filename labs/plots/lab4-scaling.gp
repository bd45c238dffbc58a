# Lab 4: req/s, p99 and server CPU per request of each configuration over
# the rounds (scaling.csv: config,server_cpus,round,req_per_s,lat_p99_us,
# cpu_us_per_req,cpu_pct); one point per run, the configurations side by side.
load plots."/common.gp"
unset key
eval panels(3, "One loop, EPOLLONESHOT workers, SO_REUSEPORT loops (lab 4; one point a run; loadgen on CPU 1)")
# four names side by side in a third of the width: one line each, slanted
set xtics ("epoll_et" 0, "oneshot -t 1" 1, "oneshot -t 2" 2, "reuseport -t 2" 3) font ",9" rotate by -30 left
set xlabel "server on CPU 0 (reuseport: CPUs 0+1)" font ",9"
set xrange [-0.5:3.5]
set offsets 0, 0, graph 0.1, 0
conf(s) = s eq "epoll_et" ? 0 : s eq "epoll_oneshot -t 1" ? 1 : s eq "epoll_oneshot -t 2" ? 2 : 3
colour(s) = s eq "epoll_et" ? idx("epoll_et") : s eq "reuseport -t 2" ? idx("reuseport") : idx("epoll_oneshot")
set ylabel "requests per second"
set yrange [0:*]
plot dir."/scaling.csv" using (conf(strcol("config"))):"req_per_s":(colour(strcol("config"))) with points pt 7 ps 1.5 lc variable
set ylabel "latency p99, µs"
plot dir."/scaling.csv" using (conf(strcol("config"))):"lat_p99_us":(colour(strcol("config"))) with points pt 7 ps 1.5 lc variable
set ylabel "server CPU per request, µs (user + system)"
plot dir."/scaling.csv" using (conf(strcol("config"))):"cpu_us_per_req":(colour(strcol("config"))) with points pt 7 ps 1.5 lc variable
unset multiplot
