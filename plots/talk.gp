# Talking clients: N connections that each wait a think time Z after every
# answer (bench/run's talk sweep). Six panels against one x axis, set by
# bench/plot: talk.png against N at one think time (input talk-conns.dat),
# talk-think.png (plots/talk-think.gp) against Z at the largest N
# (talk-think.dat). Reading them beside the idle sweep: an idle connection
# costs poll a scan on every call; a talking one is also an answer that
# shares the call with every other one found ready.
#   input   the .dat file, xcol its x column, xlab the x axis, ttl the title
load plots."/common.gp"
if (!exists("input")) { input = "talk-conns.dat"; xcol = "conns"; xlab = "talking connections N (log scale)" }
if (!exists("ttl")) { ttl = "Talking clients: N connections, each thinking 100 ms on average between requests" }
f = dir."/".input
x(m) = ok(m) ? column(xcol) : NaN
set logscale x
set format x "%.0s%c"
# in an image two rows of three panels, larger than the other graphs, the
# key once, right of them; in text one panel above the other (panels() in
# common.gp)
if (fmt eq "png") { set terminal pngcairo size 1320,780 font "Sans,11" background rgb "white" }
if (fmt eq "svg") { set terminal svg size 1320,780 dynamic font "Sans,13" background rgb "white" }
if (fmt ne "txt") { set output out; set termoption noenhanced }
if (fmt eq "txt") { eval panels(6, ttl) } else {
    set multiplot layout 2, 3 title ttl margins 0.06, 0.84, 0.12, 0.92 spacing 0.085, 0.13 }
eval "set ytics ".TICS125
# six models' reasons make a long line: smaller than common.gp's
if (cannot ne "") { set label 99 cannot at screen 0.01, 0.02 left font ",8" tc rgb "#444444" }
unset key
set logscale y
set ylabel "server CPU per request, µs"
set xlabel xlab
plot for [m in models] f using (x(m)):"cpu_us_per_req_med":"cpu_us_per_req_min":"cpu_us_per_req_max" \
        with yerrorlines lt idx(m) title m
set ylabel "events per wakeup (ready per call)"
plot for [m in models] f using (x(m)):"events_per_wakeup_med" with linespoints lt idx(m) title m
set ylabel "context switches per request"
plot for [m in models] f using (x(m)):"switches_per_req_med" with linespoints lt idx(m) title m
set ylabel "p99 latency, µs"
set ytics autofreq
set format y "%.0s%c"
plot for [m in models] f using (x(m)):"lat_p99_us_med":"lat_p99_us_min":"lat_p99_us_max" \
        with yerrorlines lt idx(m) title m
set ylabel "server memory under load (PSS), MiB"
set format y "%g"
eval "set ytics ".TICS125
set yrange [0.5:*]      # at one N every model's is alike: a range that narrow has no tic
plot for [m in models] f using (x(m)):(column("pss_load_kb_med") / 1024.0) with linespoints lt idx(m) title m
set ylabel "requests per second"
set yrange [*:*]
set ytics autofreq
set format y "%.0s%c"
if (fmt ne "txt") { set key at screen 0.86, 0.6 left top vertical Left reverse samplen 2.5 spacing 1.4 }
else { set key below }
plot for [m in models] f using (x(m)):"req_per_s_med":"req_per_s_min":"req_per_s_max" \
        with yerrorlines lt idx(m) title m, \
     f using (column(xcol)):"offered_rps_med" with lines lc rgb "#000000" dt 2 lw 1.5 title "N / Z, offered"
unset multiplot
