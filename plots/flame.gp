# plots/flame.gp: a flame graph from bench/profile's boxes. bench/profile sets:
#   boxes   the boxes, tab-separated: depth, x0, x1 (in samples), colour
#           (0xRRGGBB), name (kernel names end in _[k]), label ("" if none fits)
#   fmt     "png" or "svg";  out  the file;  title  the graph's title
# Each box is a function on a sampled stack, as wide as the samples that had
# it there; the root (the server's name) at the bottom, what it called above
# it, the function the CPU was in on top. Colours: kernel warm, user cool,
# the functions the labs ask about violet. perf walks a user stack by frame
# pointers: a libc wrapper without one (__poll) sits on main's caller.
if (fmt eq "svg") {
    set terminal svg size 1600,820 dynamic font "Sans,12" background rgb "white"
} else {
    set terminal pngcairo size 1600,820 font "Sans,10" background rgb "white"
}
set output out
set encoding utf8
set termoption noenhanced                # function names hold underscores
set datafile separator "\t"
set title title font ",14"
stats boxes using 3:1 nooutput
set xrange [0:STATS_max_x]
set yrange [0.5:STATS_max_y + 1.5]
unset xtics
unset ytics
unset border
set lmargin 1
set rmargin 1
set bmargin 3
set tmargin 3
set label 1 "width: share of the CPU samples; height: the call stack, the caller below. " \
    ."Orange: kernel.  Blue: the server and libc.  Violet: functions the labs ask about." \
    at screen 0.01, 0.025 left font ",11" tc rgb "#333333"
set style fill solid 1.0 border lc rgb "white"
plot boxes using (($2 + $3) / 2):1:(($3 - $2) / 2):(0.5):4 with boxxyerror lc rgb variable notitle, \
     boxes using ($2 + STATS_max_x / 400):1:6:($4 == 0x7b3fb0 ? 0xffffff : 0x000000) \
        with labels left tc rgb variable font ",9" notitle
