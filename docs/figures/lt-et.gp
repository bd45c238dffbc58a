# docs/figures/lt-et.gp: level- and edge-triggered reports against the bytes
# in one socket’s receive buffer (epoll(7), "Level-triggered and
# edge-triggered"). Time runs left to right; the same four moments in every row.
W = 1200; H = 640
load "style.gp"

# The moments: 2 KiB arrive, the app reads 1 KiB, 1 KiB more arrives,
# the app reads until EAGAIN.
t1 = 280; t2 = 480; t3 = 700; t4 = 900; tend = 1160
KIB = 70                        # pixels per KiB in the buffer row
y0 = 380                        # the buffer row's zero line

set label "One socket, two trigger modes: when does epoll_wait() report EPOLLIN?" at W/2,610 center @TITLE

# ---- the bytes in the receive buffer -------------------------------------
set label "bytes waiting in\nthe socket’s\nreceive buffer" at 20,y0+85 left @HEAD
set object rect from t1,y0 to t2,y0+2*KIB @FULL
set object rect from t2,y0 to t3,y0+1*KIB @FULL
set object rect from t3,y0 to t4,y0+2*KIB @FULL
set arrow from 260,y0 to tend,y0 as 1
set label "time" at tend,y0-20 right @NOTE
set label "2 KiB" at 250,y0+2*KIB right @NOTE
set label "1 KiB" at 250,y0+1*KIB right @NOTE
set label "0"     at 250,y0 right @NOTE
set arrow from 260,y0+KIB to tend-20,y0+KIB nohead lc rgb "#dddddd" lw 1 back
set arrow from 260,y0+2*KIB to tend-20,y0+2*KIB nohead lc rgb "#dddddd" lw 1 back

set label "2 KiB arrive"            at t1,y0+2*KIB+40 center @BODY
set label "app reads 1 KiB"         at t2,y0+2*KIB+40 center @BODY
set label "1 KiB more arrives"      at t3,y0+2*KIB+40 center @BODY
set label "app reads until EAGAIN"  at t4,y0+2*KIB+40 center @BODY
do for [t in sprintf("%d %d %d %d", t1, t2, t3, t4)] {
    set arrow from t+0,75 to t+0,y0+2*KIB+25 as 4 back
}

# ---- level-triggered -----------------------------------------------------
yl = 260
set label "level-triggered\n(epoll_lt)" at 20,yl+15 left font "sans-serif,14" tc rgb LT
set object rect from t1,yl to t4,yl+34 fc rgb LT fs solid 1 noborder front
set label "every epoll_wait() reports EPOLLIN, as long as any byte waits" at (t1+t4)/2,yl+17 center font "sans-serif,12" tc rgb "white" front
set label "one read per report is enough:\nwhat is left is reported again" at t4+10,yl+17 left @NOTE

# ---- edge-triggered ------------------------------------------------------
ye = 130
set label "edge-triggered\n(epoll_et)" at 20,ye+15 left font "sans-serif,14" tc rgb ET
set arrow from 200,ye to tend-20,ye nohead lc rgb "#dddddd" lw 1 back
set arrow from t1,ye to t1,ye+60 head filled size 10,25 lw 4 lc rgb ET
set arrow from t3,ye to t3,ye+60 head filled size 10,25 lw 4 lc rgb ET
set label "reported once"  at t1+10,ye+40 left font "sans-serif,12" tc rgb ET
set label "reported once"  at t3+10,ye+40 left font "sans-serif,12" tc rgb ET
set label "1 KiB waits, no report:\nepoll_wait() sleeps" at (t2+t3)/2,ye-25 center font "sans-serif,12" tc rgb LOSS
set label "each arrival is reported,\nnot the bytes waiting" at t4+10,ye+30 left @NOTE

set label "Edge-triggered: after each report, read until EAGAIN or a short read (servers/epoll_et.c);\nbytes left behind wait for an arrival that may never come." \
    at W/2,36 center @BODY

plot NaN
