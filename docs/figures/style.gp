# docs/figures/style.gp: what every figure shares. A figure sets W and H (its
# size in pixels; the coordinates are pixels too, (0,0) bottom left) and
# `make docs` sets fmt ("svg" or "png") and out (the file to write), then
# loads this file, then draws with `set object`, `set label` and `set arrow`.
#
# The colours are the bench graphs' colours (plots/common.gp) where a figure
# shows a model: select and poll warm, the epoll family cool. Beside them, one
# fill for the application, one for the kernel, grey for bytes, red for loss.

if (fmt eq "svg") {
    set terminal svg size W,H dynamic font "sans-serif,12" fontscale 1.333 background rgb "white"
} else {
    set terminal pngcairo size W,H font "sans-serif,12" background rgb "white"
}
set output out
set encoding utf8
set termoption noenhanced          # names hold underscores: epoll_wait, EPOLL_CTL_MOD

# A blank canvas whose units are pixels.
unset border; unset tics; unset key
set lmargin at screen 0; set rmargin at screen 1
set bmargin at screen 0; set tmargin at screen 1
set xrange [0:W]; set yrange [0:H]

# ---- colours -----------------------------------------------------------
APP      = "#fdf0d5"    # application (user space): fill
APP_LN   = "#a86b00"    #   and its outlines and text
KERN     = "#e2ecf7"    # kernel: fill
KERN_LN  = "#2b5d8a"    #   and its outlines and text
BYTES    = "#bdbdbd"    # bytes in a buffer
INK      = "#222222"    # ordinary text and lines
QUIET    = "#666666"    # notes
LOSS     = "#d62728"    # dropped, wrong, lost
SCAN     = "#ff7f0e"    # select / poll (as in the bench graphs)
LT       = "#1f77b4"    # epoll_lt
ET       = "#2ca02c"    # epoll_et
ONESHOT  = "#9467bd"    # epoll_oneshot
URING    = "#17becf"    # io_uring

# ---- fonts (points; 12 points are 16 pixels in PNG and SVG alike) -------
TITLE = 'font "sans-serif,17" tc rgb INK'
HEAD  = 'font "sans-serif,14" tc rgb INK'
BODY  = 'font "sans-serif,12" tc rgb INK'
NOTE  = 'font "sans-serif,11" tc rgb QUIET'
CODE  = 'font "monospace,12" tc rgb INK'

# ---- boxes: `set object rect from x1,y1 to x2,y2 @APPBOX` ----------------------
APPBOX  = 'fc rgb APP  fs solid 1 border lc rgb APP_LN  lw 1.5 back'
KERNBOX = 'fc rgb KERN fs solid 1 border lc rgb KERN_LN lw 1.5 back'
CELL    = 'fc rgb "white" fs solid 1 border lc rgb INK lw 1 back'
FULL    = 'fc rgb BYTES fs solid 1 border lc rgb INK lw 1 back'

# ---- arrows: `set arrow from x1,y1 to x2,y2 as 1` ------------------------------
set style arrow 1 head filled size 10,25 lw 2   lc rgb INK       # a call, a packet
set style arrow 2 head filled size 10,25 lw 2   lc rgb KERN_LN   # the kernel acts
set style arrow 3 head filled size 10,25 lw 2   lc rgb LOSS      # lost
set style arrow 4 nohead                 lw 1.5 lc rgb QUIET dt 2 # a lifeline
set style arrow 5 head filled size 10,25 lw 2   lc rgb APP_LN    # the application acts
