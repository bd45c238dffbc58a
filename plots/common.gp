# plots/common.gp: what every graph shares. bench/plot sets, before loading it:
#   dir     the results directory (CSV in, images out)
#   fmt     "png" (pngcairo), "svg", or "txt" (the dumb terminal: a graph
#           in characters, for a shell with no screen)
#   name    the output's base name, e.g. "idle-throughput"
#   out     (optional) the output file, instead of dir/name.fmt
#   cols    (optional, txt) the text graph's width in characters (100)
#   models  the models to draw, space-separated, in the order of the legend
#   x0      where idle = 0 is drawn on a log axis (a decade left of the first N)
#   xt      the x tic labels of the idle sweep, as a gnuplot tic list
#   xts     the same, only 0 and the powers of ten (for narrow panels)
#   cannot  one line naming the points a model could not serve ("" if none)
#   cpu_lo, cpu_hi, rps_lo, rps_hi, cpu_pct, rps_pct, noise_what: the A/A
#           control's spread of CPU per request and req/s (NaN if none)
if (fmt eq "svg") {
    set terminal svg size 960,600 dynamic font "Sans,13" background rgb "white"
} else {
    if (fmt eq "txt") {
        if (!exists("cols")) { cols = 100 }
        set terminal dumb nofeed size cols, 32
    } else {
        set terminal pngcairo size 960,600 font "Sans,11" background rgb "white"
    }
}
if (!exists("out")) out = dir."/".name.".".fmt
set output out
set encoding utf8
set termoption noenhanced               # model names hold underscores
set datafile separator ","
set datafile columnheaders
set datafile missing "NA"

# One colour per model, the same in every graph: bench/plot sets the line
# types and MODELS_ALL (servers/MODELS, then nginx) before this file.
idx(m) = sum [i = 1:words(MODELS_ALL)] (word(MODELS_ALL, i) eq m ? i : 0)

# Row filters: a model's measured points, and the points it could not serve.
ok(m)  = strcol("model") eq m && strcol("status") eq "ok"
bad(m) = strcol("model") eq m && strcol("status") ne "ok"
# Idle = 0 cannot sit on a log axis: it is drawn at x0 and labelled "0".
xidle(n) = n == 0 ? x0 : n
# Cannot-serve markers of different models at one x are spread a little apart.
spread(m) = 1 + 0.035 * (idx(m) - 4)

# Labels at 1, 2 and 5 of every decade, for log y axes: eval "set ytics ".TICS125
TICS125 = '("0.0001" 0.0001, "0.0002" 0.0002, "0.0005" 0.0005, "0.001" 0.001, "0.002" 0.002, "0.005" 0.005, "0.01" 0.01, "0.02" 0.02, "0.05" 0.05, "0.1" 0.1, "0.2" 0.2, "0.5" 0.5, "1" 1, "2" 2, "5" 5, "10" 10, "20" 20, "50" 50, "100" 100, "200" 200, "500" 500, "1000" 1000, "2000" 2000, "5000" 5000, "10k" 10000, "20k" 20000, "50k" 50000, "100k" 100000)'

set grid xtics ytics mxtics mytics lc rgb "#dddddd" lw 1
set key outside right top vertical Left reverse samplen 2.5 spacing 1.3
set border lw 1.2
# Ranges end at the data (not at the next power of ten, which leaves half a
# log axis empty), with a margin inside the frame so no point sits on it.
set autoscale fix
set offsets graph 0.04, graph 0.04, graph 0.06, graph 0.02
set bmargin 6
if (cannot ne "") { set label 99 cannot at screen 0.01, 0.03 left font ",10" tc rgb "#444444" }

# The noise floor: the A/A control (one model at one point, run twice every
# round) spans lo..hi over the whole run; a grey band shows it. Two models
# closer than its width differ by no more than the machine's own noise.
noise_band(lo, hi) = (lo == lo && hi == hi) ? \
    sprintf("set object 90 rect from graph 0, first %g to graph 1, first %g behind fc rgb '#d8d8d8' fs solid 0.6 noborder", lo, hi) : ""
noise_text(pct) = pct eq "NA" ? "" : sprintf("grey band: the noise floor, min to max of the A/A control (%s), a spread of %s%% of its median", noise_what, pct)

# The text terminal (fmt "txt": a graph for a shell with no screen) cannot
# turn the y label on its side: it goes above the plot, under the title.
if (fmt eq "txt") {
    unset grid
    set ylabel norotate offset character 30, graph 0.62
    set title offset character 0, 3
    set tmargin 6
    # the key below the graph, not beside it: the plot and its title get
    # the whole width of a terminal
    set key outside below center horizontal Left reverse
}
# A row of n panels under the title t: eval panels(n, t) after "set multiplot"
# would go. Side by side in an image; in text one above the other, each the
# terminal's width (a character cannot be made narrower), on a taller page.
panels(n, t) = fmt eq "txt" ? \
    sprintf("set terminal dumb nofeed size %d, %d; set output out; set multiplot layout %d, 1 title \"%s\"", cols, 26 * n, n, t) : \
    sprintf("set multiplot layout 1, %d title \"%s\"", n, t)
# In text, a bar's key has no sample: its title names the character the bars
# are drawn with instead (the dumb terminal's, by line type: * # $ % @ & =).
bar(t, lt) = fmt eq "txt" ? sprintf("%s [%s]", t, substr("*#$%@&=", (lt - 1) % 7 + 1, (lt - 1) % 7 + 1)) : t
