# docs/figures/readiness-completion.gp: readiness (epoll(7)) against
# completion (io_uring(7)) for one receive, and who owns the buffer when.
# Two sequence diagrams side by side; time runs down. (A label of several
# lines has its first line at the y it is given.)
W = 1280; H = 880
load "style.gp"

set label "Readiness or completion: who moves the bytes, and who owns the buffer when" at W/2,855 center @TITLE

top = 740; bot = 285
# lane(x, w, title, style): a header box and a lifeline.
lane(x, w, t, st) = sprintf("set object rect from %g,%g to %g,%g %s; set label '%s' at %g,%g center front font 'sans-serif,14' tc rgb INK; set arrow from %g,%g to %g,%g as 4 back", x-w/2, top, x+w/2, top+42, st, t, x, top+21, x, top, x, bot)
# owner(x, y1, y2, fill, line): the buffer's lane from y1 down to y2, in its owner's colours.
owner(x, y1, y2, f, l) = sprintf("set object rect from %g,%g to %g,%g fc rgb '%s' fs solid 1 border lc rgb '%s' lw 1.5", x-14, y2, x+14, y1, f, l)

# ---- readiness: epoll ----------------------------------------------------------
set label "Readiness (epoll): the kernel says “ready”, the app reads" at 320,812 center font "sans-serif,15" tc rgb LT
xa = 80; xb = 200; xk = 460                   # application, buf, kernel
eval lane(xa, 130, "application", APPBOX)
eval lane(xb, 60, "buf", CELL)
eval lane(xk, 130, "kernel", KERNBOX)
eval owner(xb, top, bot, APP, APP_LN)
set arrow from xa,700 to xk,700 as 1
set label "epoll_wait()" at (xb+xk)/2,712 center @CODE
set label "bytes arrive\nin fd 7’s\nsocket" at xk+12,660 left font "sans-serif,12" tc rgb KERN_LN
set arrow from xk,620 to xa,620 as 2
set label "“fd 7 is readable”:\nno data moved" at (xb+xk)/2,652 center @BODY
set arrow from xa,540 to xk,540 as 1
set label "read(7, buf, len)" at (xb+xk)/2,552 center @CODE
set arrow from xk,490 to xb+16,490 as 2
set label "copies the bytes into\nbuf, inside the call" at (xb+xk)/2+10,470 center font "sans-serif,12" tc rgb KERN_LN
set arrow from xk,400 to xa,400 as 2
set label "returns n (or EAGAIN)" at (xb+xk)/2,412 center @BODY
set label "two system calls\nper receive; the\nbytes wait in the\nkernel until the\napp asks for them" at xk+12,530 left @NOTE
set label "buf is the app’s all along" at xb+22,330 left font "sans-serif,12" tc rgb APP_LN

# ---- completion: io_uring ------------------------------------------------------
set label "Completion (io_uring): the app asks, the kernel does the I/O" at 960,812 center font "sans-serif,15" tc rgb URING
xa2 = 720; xb2 = 840; xr = 1020; xk2 = 1200  # application, buf, the rings, kernel
eval lane(xa2, 130, "application", APPBOX)
eval lane(xb2, 60, "buf", CELL)
eval lane(xk2, 120, "kernel", KERNBOX)
ysub = 600; ydone = 360                       # submitted; the CQE is read
eval owner(xb2, top, ysub, APP, APP_LN)
eval owner(xb2, ysub, ydone, KERN, KERN_LN)
eval owner(xb2, ydone, bot, APP, APP_LN)
# the two rings
set object rect from xr-100,630 to xr+100,670 @CELL
set label "submission queue (SQ)" at xr,650 center @BODY
set object rect from xr-100,ydone-20 to xr+100,ydone+20 @CELL
set label "completion queue (CQ)" at xr,ydone center @BODY
set label "SQ, CQ: rings that app and kernel both map" at xk2-10,293 right @NOTE

set arrow from xa2,650 to xr-102,650 as 5
set label "① the app writes an SQE:\nRECV, fd 7, buf, len, user_data" at xr,712 center font "sans-serif,12" tc rgb APP_LN
set arrow from xa2,ysub to xk2,ysub as 1
set label "io_uring_enter() submits\n(one call for many SQEs)" at xr+20,ysub-22 center @BODY
set label "from here buf is\nthe kernel’s: the app\nmust not touch it" at xb2+20,545 left font "sans-serif,12" tc rgb KERN_LN
set label "② bytes arrive: the\nkernel copies them\ninto buf" at xk2-12,525 right font "sans-serif,12" tc rgb KERN_LN
set arrow from xk2,450 to xb2+16,450 as 2
set arrow from xk2,ydone to xr+102,ydone as 2
set label "③ the kernel posts a CQE:\nuser_data, res = n" at xr+30,415 center font "sans-serif,12" tc rgb KERN_LN
set arrow from xr-102,ydone to xa2,ydone as 5
set label "④ the app reads the CQE;\nbuf is its own again" at xb2+20,337 left font "sans-serif,12" tc rgb APP_LN

# ---- below: the difference, and multishot --------------------------------------
set object rect from 20,30 to 620,240 @KERNBOX
set label "The difference" at 35,218 left font "sans-serif,14" tc rgb INK
set label "• epoll: the app owns its buffers. The kernel says when\n  a read would not block; the app makes the call.\n• io_uring: the app hands a buffer over with its request;\n  the kernel does the I/O and says when it is done.\n  Many requests per system call; completions are read\n  from the CQ without one." \
    at 35,185 left @BODY
set object rect from 660,30 to 1260,240 @KERNBOX
set label "Multishot (servers/io_uring.c uses it)" at 675,218 left font "sans-serif,14" tc rgb URING
set label "• One SQE, many CQEs, each with IORING_CQE_F_MORE while\n  the request stays armed; without it, submit it again.\n• recv takes provided buffers: the app lends a pool first; the\n  kernel picks one per CQE (IORING_CQE_F_BUFFER, the id in\n  cqe->flags), and the app gives it back when done with it.\n• accept: one CQE per new connection (Linux 5.19; recv 6.0)." \
    at 675,185 left @BODY

plot NaN
