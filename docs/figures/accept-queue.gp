# docs/figures/accept-queue.gp: the listening socket's two queues (listen(2),
# NOTES; tcp(7), tcp_max_syn_backlog, tcp_syncookies, tcp_syn_retries) and what
# a client sees when the accept queue is full. Above: the handshake and the
# queues. Below: a timeline of a connect() that meets a full queue.
W = 1200; H = 800
load "style.gp"

set label "Before accept(): the listening socket’s two queues" at W/2,775 center @TITLE

# ---- the actors ----------------------------------------------------------------
xc = 120; xapp = 1080
set object rect from xc-90,690 to xc+90,735 @APPBOX
set label "client" at xc,712 center @HEAD
set arrow from xc,690 to xc,525 as 4 back
set label "connect() returns\nafter ③: connected\nbefore any accept()" at xc,480 center @NOTE
set object rect from 250,440 to 950,735 @KERNBOX
set label "server kernel: the listening socket" at 260,720 left font "sans-serif,11" tc rgb KERN_LN
set object rect from xapp-90,690 to xapp+90,735 @APPBOX
set label "server application" at xapp,712 center @HEAD
set arrow from xapp,690 to xapp,440 as 4 back

# queue(x, y, n, filled): n cells of 50 pixels from x, the `filled` rightmost
# grey. Entries join at the left (the tail) and leave at the right (the head).
queue(x, y, n, f) = sprintf("do for [i = 0:%d] { set object rect from %g+i*50,%g to %g+(i+1)*50,%g fc rgb (i >= %d ? BYTES : 'white') fs solid 1 border lc rgb INK lw 1 front }", n-1, x, y, x, y+36, n-f)

# ---- the two queues ------------------------------------------------------------
eval queue(300, 600, 4, 2)
set label "SYN queue:\nhalf-open (SYN_RECV)" at 300,682 left @HEAD
# Since Linux 4.4 the SYN queue is full at the same backlog as the accept
# queue; tcp_max_syn_backlog, which listen(2) still names, only drops SYNs
# from unknown peers when SYN cookies are off.
set label "full at the backlog too; then\nSYN cookies (tcp_syncookies = 1,\nthe default) answer without an\nentry. tcp_max_syn_backlog counts\nonly with SYN cookies off." at 300,530 left @NOTE
eval queue(600, 600, 6, 4)
set label "accept queue: established,\nnot yet accepted" at 600,682 left @HEAD
set label "bounded by the backlog of listen(fd,\nbacklog), cut to net.core.somaxconn;\nLinux holds backlog + 1" at 600,560 left @NOTE
set label "tail" at 600,585 left @NOTE
set label "head" at 900,585 right @NOTE
set arrow from 505,618 to 595,618 as 2
set label "complete" at 550,636 center font "sans-serif,11" tc rgb KERN_LN

# ---- the handshake -------------------------------------------------------------
set arrow from xc,660 to 296,628 as 1
set label "① SYN" at xc+10,668 left @BODY
set arrow from 296,606 to xc,584 as 2
set label "② SYN-ACK" at xc+10,608 left font "sans-serif,12" tc rgb KERN_LN
set arrow from xc,560 to 395,597 as 1
set label "③ ACK" at xc+10,545 left @BODY
set arrow from 905,618 to xapp,618 as 5
set label "④ accept() takes\nthe head: a new fd" at 1000,575 center font "sans-serif,12" tc rgb APP_LN

# ---- when the accept queue is full -----------------------------------------------------
set label "When the accept queue is full, a SYN is dropped: no answer, no error. The client’s TCP sends it again." at W/2,385 center @HEAD
yc = 310; ys = 150                       # the client's line and the server's
t0 = 250; PX = 210                       # where time 0 is, pixels per second
set label "client" at t0-30,yc right @HEAD
set label "server" at t0-30,ys right @HEAD
set arrow from t0,yc to 1160,yc nohead lw 1.5 lc rgb INK back
set arrow from t0,ys to 1160,ys nohead lw 1.5 lc rgb INK back
set label "time" at 1160,ys-25 right @NOTE
do for [s = 0:4] {
    set arrow from t0+s*PX,ys-8 to t0+s*PX,ys+8 nohead lw 1 lc rgb INK
    set label sprintf("%d s", s) at t0+s*PX,ys-25 center @NOTE
}
# a SYN at 0 s and at 1 s, both dropped
do for [s in "0 1"] {
    set arrow from t0+s*PX,yc to t0+s*PX+30,ys+22 as 3
    set label "✕" at t0+s*PX+34,ys+18 center font "sans-serif,18" tc rgb LOSS
    set label "SYN" at t0+s*PX+4,yc+16 left @BODY
}
set label "dropped: the\nqueue is full" at t0+PX/2+10,ys+50 center font "sans-serif,12" tc rgb LOSS
set label "resent after 1 s" at t0+PX/2,yc+40 center @NOTE
set label "then 2 s" at t0+2*PX,yc+40 center @NOTE
# the app accepted meanwhile; the SYN at 3 s finds room
set label "meanwhile the app accept()s:\nthere is room again" at t0+2*PX,ys+45 center font "sans-serif,12" tc rgb APP_LN
set arrow from t0+3*PX,yc to t0+3*PX+30,ys as 1
set label "SYN" at t0+3*PX+4,yc+16 left @BODY
set arrow from t0+3*PX+40,ys to t0+3*PX+70,yc as 2
set label "SYN-ACK" at t0+3*PX+75,yc+16 left font "sans-serif,12" tc rgb KERN_LN
set arrow from t0+3*PX+90,yc to t0+3*PX+120,ys as 1
set label "ACK" at t0+3*PX+125,ys+16 left @BODY
set label "connected after 3 s, not in\na fraction of a millisecond" at t0+3*PX-20,yc-55 right @BODY
set label "The wait doubles: 1, 2, 4, 8 ... s, for tcp_syn_retries (6) resends, about 127 s in all.\nA handshake’s last ACK that finds the queue full is dropped too, and the server resends its SYN-ACK." \
    at W/2,45 center @BODY

plot NaN
