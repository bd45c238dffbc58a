# docs/figures/oneshot.gp: the EPOLLONESHOT hand-off between two threads that
# wait on one epoll set (servers/epoll_oneshot.c; epoll_ctl(2), EPOLLONESHOT).
# A sequence diagram: time runs down, one column per actor.
W = 1200; H = 820
load "style.gp"

set label "EPOLLONESHOT: one connection, one thread at a time" at W/2,795 center @TITLE

# ---- the columns -------------------------------------------------------------
xs = 130; xe = 400; xa = 800; xb = 1080      # socket, epoll entry, thread A, thread B
top = 700; bot = 110
set object rect from xs-100,top to xs+100,top+45 @KERNBOX
set label "socket fd 7" at xs,top+22 center @HEAD
set object rect from xe-130,top to xe+130,top+45 @KERNBOX
set label "fd 7’s entry in the epoll set" at xe,top+22 center @HEAD
set object rect from xa-90,top to xa+90,top+45 @APPBOX
set label "thread A" at xa,top+22 center @HEAD
set object rect from xb-90,top to xb+90,top+45 @APPBOX
set label "thread B" at xb,top+22 center @HEAD
set arrow from xs,top to xs,bot as 4 back     # the other columns are all bars

# state(x, y1, y2, style): a bar on column x from y1 down to y2.
state(x, y1, y2, s) = sprintf("set object rect from %g,%g to %g,%g %s", x-12, y2, x+12, y1, s)
ARMED    = 'fc rgb ONESHOT fs solid 1 border lc rgb ONESHOT lw 1.5'
DISABLED = 'fc rgb ONESHOT fs transparent pattern 4 border lc rgb ONESHOT lw 1.5'
ASLEEP   = 'fc rgb "white" fs solid 1 border lc rgb QUIET lw 1 dt 2'
SERVING  = 'fc rgb APP fs solid 1 border lc rgb APP_LN lw 1.5'

# The moments, top to bottom.
y1 = 640    # request 1 arrives; reported to A; the entry is disabled
y2 = 520    # request 2 arrives while A serves: no report
y3 = 360    # A re-arms with EPOLL_CTL_MOD; request 2 waits, so B gets it
y4 = 190    # B re-arms

eval state(xe, top, y1, ARMED)
eval state(xe, y1, y3, DISABLED)
eval state(xe, y3, y3-24, ARMED)
eval state(xe, y3-24, y4, DISABLED)
eval state(xe, y4, bot, ARMED)
eval state(xa, top, y1, ASLEEP)
eval state(xa, y1, y3, SERVING)
eval state(xa, y3, bot, ASLEEP)
eval state(xb, top, y3-24, ASLEEP)
eval state(xb, y3-24, y4, SERVING)
eval state(xb, y4, bot, ASLEEP)

# ---- request 1: reported to A, then the entry is disabled ----------------------
set arrow from xs,y1+20 to xe-14,y1+20 as 1
set label "request 1 arrives" at xs+10,y1+32 left @BODY
set arrow from xe+14,y1 to xa-14,y1 as 2
set label "A’s epoll_wait() returns fd 7" at (xe+xa)/2,y1+12 center @BODY
set label "reported once, then disabled:\nit stays in the set, reports nothing" at xe+20,y1-45 left font "sans-serif,12" tc rgb ONESHOT
set label "A reads, answers\nand writes" at xa+20,(y1+y3)/2+40 left @BODY

# ---- request 2 arrives while A still serves ----------------------------------
set arrow from xs,y2 to xe-14,y2 as 1
set label "request 2 arrives" at xs+10,y2+12 left @BODY
set label "no report: B sleeps on.\nWithout EPOLLONESHOT, B would\nget fd 7 now, and two threads\nwould serve one connection." at xe+20,y2-25 left font "sans-serif,12" tc rgb LOSS

# ---- A re-arms; readiness is checked again, and B gets request 2 ---------------
set arrow from xa-14,y3 to xe+14,y3 as 5
set label "A re-arms: epoll_ctl(EPOLL_CTL_MOD,\nfd 7, EPOLLIN | EPOLLONESHOT)" at (xe+xa)/2,y3+32 center @BODY
set arrow from xe+14,y3-24 to xb-14,y3-24 as 2
set label "B’s epoll_wait() returns fd 7" at (xa+xb)/2,y3-12 center @BODY
set label "request 2 waits, so the re-armed\nentry is ready at once: B gets it" at xe+20,y3-60 left font "sans-serif,12" tc rgb ONESHOT
set label "A waits again" at xa-20,y3-130 right @NOTE
set label "B reads, answers\nand writes" at xb-20,(y3+y4)/2-20 right @BODY
set arrow from xb-14,y4 to xe+14,y4 as 5
set label "B re-arms: epoll_ctl(EPOLL_CTL_MOD, ...)" at (xe+xa)/2,y4+12 center @BODY

# ---- the legend ----------------------------------------------------------------
lx = 40; ly = 40
eval sprintf("set object rect from %g,%g to %g,%g %s", lx, ly, lx+24, ly+20, ARMED)
set label "armed: will report" at lx+32,ly+10 left @BODY
eval sprintf("set object rect from %g,%g to %g,%g %s", lx+230, ly, lx+254, ly+20, DISABLED)
set label "disabled (EPOLLONESHOT)" at lx+262,ly+10 left @BODY
eval sprintf("set object rect from %g,%g to %g,%g %s", lx+520, ly, lx+544, ly+20, ASLEEP)
set label "asleep in epoll_wait()" at lx+552,ly+10 left @BODY
eval sprintf("set object rect from %g,%g to %g,%g %s", lx+790, ly, lx+814, ly+20, SERVING)
set label "serving fd 7: owns struct conn" at lx+822,ly+10 left @BODY

plot NaN
