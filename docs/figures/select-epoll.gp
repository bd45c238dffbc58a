# docs/figures/select-epoll.gp: what one wait costs. select(2) and poll(2)
# take the whole list from the application on every call and hand it all
# back; epoll(7) keeps the interest list in the kernel, registered once with
# epoll_ctl(), and epoll_wait() copies out only the ready list.
W = 1200; H = 700
load "style.gp"

set label "Watching n descriptors: what every wait copies and checks" at W/2,672 center @TITLE

# ---- the two halves: application above, kernel below ----------------------
do for [x in "20 610"] {
    set object rect from x+0,410 to x+570,610 @APPBOX
    set object rect from x+0,90 to x+570,390 @KERNBOX
    set label "application" at x+10,595 left font "sans-serif,11" tc rgb APP_LN
    set label "kernel" at x+10,375 left font "sans-serif,11" tc rgb KERN_LN
}

# cells(x, y, w, ready1, ready2, colour): eight descriptors 3..10 as boxes of
# width w from x; the two ready ones filled with colour.
cells(x, y, w, r1, r2, c) = sprintf("do for [i = 0:7] { set object rect from %g+i*%g,%g to %g+(i+1)*%g,%g fc rgb (i+3 == %d || i+3 == %d ? '%s' : 'white') fs solid 1 border lc rgb INK lw 1 front; set label sprintf('%%d', i+3) at %g+(i+0.5)*%g,%g center front font 'sans-serif,12' tc rgb INK }; set label '… n' at %g,%g left front font 'sans-serif,12' tc rgb INK", x, w, y, x, w, y+36, r1, r2, c, x, w, y+18, x+8*w+8, y+18)

# ---- select() and poll() ----------------------------------------------------
set label "select() and poll(): all n, on every call" at 305,635 center font "sans-serif,15" tc rgb SCAN
eval cells(70, 500, 50, 0, 0, "white")
set label "the app’s list: fd_set bits, or one struct pollfd each" at 70,550 left @BODY
eval cells(70, 220, 50, 5, 9, SCAN)
set arrow from 95,495 to 95,262 as 1
set label "① copy in: all n" at 105,400 left @BODY
set arrow from 445,262 to 445,495 as 2
set label "③ copy out: all n" at 435,400 right @BODY
set label "select() overwrites the sets,\npoll() writes every revents" at 435,325 right @NOTE
set label "② the kernel asks each one: ready?\nif none is, it waits on all n, then asks again" at 70,180 left @BODY
set label "④ the app tests all n\nto find the ready ones" at 270,460 center @NOTE
set label "per call: O(n) in both directions (select: n = highest fd + 1)" at 305,60 center font "sans-serif,13" tc rgb SCAN

# ---- epoll --------------------------------------------------------------------
set label "epoll: registered once; only the ready come back" at 895,635 center font "sans-serif,15" tc rgb LT
set label "① epoll_ctl(EPOLL_CTL_ADD),\n  once per descriptor" at 640,540 left @CODE
set arrow from 660,505 to 660,302 as 1
eval cells(640, 262, 40, 5, 9, LT)
set label "interest list (a red-black tree): all n,\nkept in the kernel between calls" at 675,330 left @BODY
set object rect from 990,140 to 1030,176 fc rgb LT fs solid 1 border lc rgb INK lw 1 front
set object rect from 1030,140 to 1070,176 fc rgb LT fs solid 1 border lc rgb INK lw 1 front
set label "5" at 1010,158 center front @BODY
set label "9" at 1050,158 center front @BODY
set label "ready list: only the ready" at 1070,120 right @BODY
set arrow from 740,260 to 990,165 as 2
set arrow from 900,260 to 1040,178 as 2
set label "② data arrives: the socket’s\ncallback links it here" at 640,200 left @BODY
set arrow from 1100,178 to 1100,480 as 2
set object rect from 990,485 to 1030,521 @CELL
set object rect from 1030,485 to 1070,521 @CELL
set label "5" at 1010,503 center @BODY
set label "9" at 1050,503 center @BODY
set label "③ epoll_wait() copies out\nthe ready only (≤ maxevents)" at 1090,445 right @BODY
set label "struct epoll_event[]" at 1030,560 center @CODE
set label "per call: O(ready); an epoll_ctl() only when interest changes" at 895,60 center font "sans-serif,13" tc rgb LT

plot NaN
