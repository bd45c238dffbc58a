# docs/figures/reuseport.gp: SO_REUSEPORT (socket(7)): N listening sockets
# bound to one port, each with its own accept queue and its own thread; the
# kernel picks one socket per connection by a hash (servers/reuseport.c).
W = 1200; H = 780
load "style.gp"

set label "SO_REUSEPORT: N listening sockets on one port; the kernel picks one per connection" at W/2,755 center @TITLE

xs = "330 640 950"                 # the three listeners and their threads

# ---- the new connections ----------------------------------------------------------
set label "new connections to 127.0.0.1:8080, from four source ports" at 640,712 center @BODY
do for [i = 0:3] {
    set object rect from 400+i*120,650 to 500+i*120,690 @CELL
    set label sprintf("c%d  :%d", i+1, 41001+i*7) at 450+i*120,670 center @BODY
    set arrow from 450+i*120,650 to 640,592 as 1
}

# ---- the kernel ------------------------------------------------------------------
set object rect from 170,300 to 1110,620 @KERNBOX
set label "kernel" at 180,605 left font "sans-serif,11" tc rgb KERN_LN
set object rect from 400,545 to 880,590 @CELL
set label "hash of (saddr, sport, daddr, dport) → one of N" at 640,567 center @CODE
set label "the same 4-tuple always\nlands on the same socket;\nthe spread is statistical,\nblind to load" at 180,565 left @NOTE
i = 0
do for [x in xs] {
    set arrow from 640,545 to x-100,430 as 2       # joins the tail
    do for [k = 0:4] {
        set object rect from x-125+k*50,390 to x-75+k*50,426 fc rgb (k >= 3 ? BYTES : "white") fs solid 1 border lc rgb INK lw 1 front
    }
    set label sprintf("listener %d: own accept queue", i) at x-125,370 left @BODY
    set label "SO_REUSEPORT, 127.0.0.1:8080" at x-125,346 left @NOTE
    i = i + 1
}
set label "c1, c4" at 400,490 center font "sans-serif,12" tc rgb KERN_LN
set label "c2"     at 575,470 center font "sans-serif,12" tc rgb KERN_LN
set label "c3"     at 760,490 center font "sans-serif,12" tc rgb KERN_LN

# ---- the threads -----------------------------------------------------------------
set object rect from 170,90 to 1110,280 @APPBOX
set label "application: one process" at 180,265 left font "sans-serif,11" tc rgb APP_LN
i = 0
do for [x in xs] {
    set arrow from x+100,390 to x+100,235 as 5     # takes the head
    set label "accept4()" at x+92,300 right @CODE
    set object rect from x-130,120 to x+130,230 fc rgb "white" fs solid 1 border lc rgb APP_LN lw 1.5
    set label sprintf("thread %d", i) at x+0,210 center @HEAD
    set label "its own epoll fd and ET loop,\nits connections, by last activity" at x+0,175 center @BODY
    i = i + 1
}
set label "nothing shared but the counters: no lock, no hand-off" at 640,105 center @NOTE

set label "Against one listener shared by N threads: each connection wakes every thread waiting on it, and all but one find nothing\nto accept (the thundering herd); EPOLLEXCLUSIVE wakes one, the most recent waiter first, so a few threads take most\nconnections; and all share one accept queue and its lock." \
    at W/2,62 center @NOTE

plot NaN
