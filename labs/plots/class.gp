# labs/class: one figure across a class's machines, one point per machine
# per model, the odd machines (labs/class's outliers) in red and named.
# Set before loading: dat (rows "X VALUE MACHINE MODEL"), out, fmt (png or
# svg), title, odd (the outlier machines, space-separated), logy (1: a log
# axis, when the values span more than a factor of 10).
if (fmt eq "svg") {
    set terminal svg size 960,600 dynamic font "Sans,13" background rgb "white"
} else {
    set terminal pngcairo size 960,600 font "Sans,11" background rgb "white"
}
set output out
set encoding utf8
set termoption noenhanced               # model and machine names hold underscores
set title title
set grid ytics lc rgb "#dddddd"
set xlabel "model (or configuration)"
set ylabel "value, one point per machine"
set offsets 0.5, 0.9, 0, 0
if (logy) { set logscale y; set ylabel "value, one point per machine (log scale)" } else { set yrange [0:*] }
set key below horizontal
isodd(m) = strstrt(" ".odd." ", " ".m." ") > 0
plot dat using 1:(isodd(strcol(3)) ? NaN : $2):xtic(4) with points pt 7 ps 1.3 lc rgb "#1f77b4" title "machines", \
     dat using 1:(isodd(strcol(3)) ? $2 : NaN) with points pt 9 ps 1.8 lc rgb "#d62728" title "outliers (labs/class)", \
     dat using ($1 + 0.06):(isodd(strcol(3)) ? $2 : NaN):3 with labels left offset 0.8, 0 font ",9" tc rgb "#d62728" notitle
