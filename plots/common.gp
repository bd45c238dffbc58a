# plots/common.gp: what every graph shares. bench/plot sets, before loading it:
#   dir     the results directory (CSV in, images out)
#   fmt     "png" (pngcairo) or "svg"
#   name    the output's base name, e.g. "idle-throughput"
#   models  the models to draw, space-separated, in the order of the legend
#   x0      where idle = 0 is drawn on a log axis (a decade left of the first N)
#   xt      the x tic labels of the idle sweep, as a gnuplot tic list
#   xts     the same, only 0 and the powers of ten (for narrow panels)
#   cannot  one line naming the points a model could not serve ("" if none)
if (fmt eq "svg") {
    set terminal svg size 960,600 dynamic font "Sans,13" background rgb "white"
} else {
    set terminal pngcairo size 960,600 font "Sans,11" background rgb "white"
}
set output dir."/".name.".".fmt
set encoding utf8
set termoption noenhanced               # model names hold underscores
set datafile separator ","
set datafile columnheaders
set datafile missing "NA"

# One colour per model, the same in every graph: the O(N) scanners (select,
# poll) warm, the epoll family cool, threads red, blocking grey, nginx black.
MODELS_ALL = "blocking threads select poll epoll_lt epoll_et epoll_oneshot nginx"
set linetype 1 lc rgb "#7f7f7f" lw 2 pt 4  ps 1.2   # blocking
set linetype 2 lc rgb "#d62728" lw 2 pt 6  ps 1.2   # threads
set linetype 3 lc rgb "#ff7f0e" lw 2 pt 8  ps 1.2   # select
set linetype 4 lc rgb "#8c564b" lw 2 pt 10 ps 1.2   # poll
set linetype 5 lc rgb "#1f77b4" lw 2 pt 5  ps 1.2   # epoll_lt
set linetype 6 lc rgb "#2ca02c" lw 2 pt 7  ps 1.2   # epoll_et
set linetype 7 lc rgb "#9467bd" lw 2 pt 9  ps 1.2   # epoll_oneshot
set linetype 8 lc rgb "#000000" lw 2 pt 3  ps 1.2 dt 2   # nginx (reference)
idx(m) = sum [i = 1:words(MODELS_ALL)] (word(MODELS_ALL, i) eq m ? i : 0)

# Row filters: a model's measured points, and the points it could not serve.
ok(m)  = strcol("model") eq m && strcol("status") eq "ok"
bad(m) = strcol("model") eq m && strcol("status") ne "ok"
# Idle = 0 cannot sit on a log axis: it is drawn at x0 and labelled "0".
xidle(n) = n == 0 ? x0 : n
# Cannot-serve markers of different models at one x are spread a little apart.
spread(m) = 1 + 0.035 * (idx(m) - 4)

# Labels at 1, 2 and 5 of every decade, for log y axes: eval "set ytics ".TICS125
TICS125 = '("0.01" 0.01, "0.02" 0.02, "0.05" 0.05, "0.1" 0.1, "0.2" 0.2, "0.5" 0.5, "1" 1, "2" 2, "5" 5, "10" 10, "20" 20, "50" 50, "100" 100, "200" 200, "500" 500, "1000" 1000, "2000" 2000, "5000" 5000, "10k" 10000, "20k" 20000, "50k" 50000, "100k" 100000)'

set grid xtics ytics mxtics mytics lc rgb "#dddddd" lw 1
set key outside right top vertical Left reverse samplen 2.5 spacing 1.3
set border lw 1.2
# Ranges end at the data (not at the next power of ten, which leaves half a
# log axis empty), with a margin inside the frame so no point sits on it.
set autoscale fix
set offsets graph 0.04, graph 0.04, graph 0.06, graph 0.02
set bmargin 6
if (cannot ne "") { set label 99 cannot at screen 0.01, 0.03 left font ",10" tc rgb "#444444" }
