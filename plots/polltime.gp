# TLPI Table 63-9 redone: one select/poll/epoll_wait call with N watched
# descriptors of which one is ready. Ours solid, the book's (Linux 2.6.25) dashed.
load plots."/common.gp"
unset label 99
set title "Cost of one call with N descriptors watched, one ready (TLPI Table 63-9)"
set xlabel "descriptors watched, N (log scale)"
set ylabel "time per call (log scale)"
set logscale xy
set xtics ("10" 10, "100" 100, "1000" 1000, "10000" 10000)
set xrange [7:14000]
set ytics ("10 ns" 10, "100 ns" 100, "1 µs" 1e3, "10 µs" 1e4, "100 µs" 1e5, "1 ms" 1e6, "10 ms" 1e7, "100 ms" 1e8)
set label 1 "select stops at N = 1000: it cannot watch descriptors >= FD_SETSIZE (1024)" at screen 0.01, 0.03 left font ",10" tc rgb "#444444"
mech = "select poll epoll"
mc(k) = idx(word("select poll epoll_lt", k))   # the select, poll and epoll_lt colours
pick(k) = strcol("mechanism") eq word(mech, k)
# our runs: min, median, max over the repeats, from stats in bench/plot's polltime-summary.csv
plot for [k = 1:3] dir."/polltime-summary.csv" \
        using (pick(k) ? column("nfds") : NaN):"ns_med":"ns_min":"ns_max" \
        with yerrorlines lt mc(k) title word(mech, k)." (this machine)", \
     for [k = 1:3] tlpi \
        using (pick(k) ? column("nfds") : NaN):"ns_per_call" \
        with linespoints lt mc(k) dt 2 pt 6 lw 1.5 title word(mech, k)." (TLPI, 2.6.25)"
