# docs/figures/fork.gp: one process per connection (servers/fork.c): the
# parent accepts and forks, each child serves one connection and exits, and
# SIGCHLD has the parent reap it (fork(2), waitpid(2), signal(7)).
# A sequence diagram: time runs down, one column per process.
W = 1200; H = 820
load "style.gp"

set label "fork: the parent accepts, a child per connection, SIGCHLD reaps it" at W/2,795 center @TITLE

xp = 340; x1 = 720; x2 = 1030                  # parent, child 1, child 2
top = 700; bot = 140
set object rect from xp-110,top to xp+110,top+45 @APPBOX
set label "parent" at xp,top+22 center @HEAD

BLOCKED = 'fc rgb "white" fs solid 1 border lc rgb QUIET lw 1 dt 2'
WORKING = 'fc rgb APP fs solid 1 border lc rgb APP_LN lw 1.5'
ZOMBIE  = 'fc rgb BYTES fs transparent pattern 4 border lc rgb INK lw 1'
bar(x, y1, y2, s) = sprintf("set object rect from %g,%g to %g,%g %s", x-12, y2, x+12, y1, s)

# the children appear when they are forked
child(x, y, n) = sprintf("set object rect from %g,%g to %g,%g @APPBOX; set label 'child %d' at %g,%g center font 'sans-serif,14' tc rgb INK", x-90, y, x+90, y+40, n, x, y+20)

# ---- connection 1 ------------------------------------------------------------------
ya = 660; yf1 = 620; ye1 = 400; yr1 = 370
eval bar(xp, top, ya, BLOCKED)
set label "accept() → fd 4" at xp-20,ya+8 right @CODE
eval bar(xp, ya, yf1-30, WORKING)
set arrow from xp+12,yf1 to x1-90,yf1 as 5
set label "fork(): the child gets copies of\nthe listener (fd 3) and fd 4" at (xp+x1)/2-20,yf1+45 center @BODY
eval child(x1, yf1-20, 1)
set label "close(4): the FIN waits\nfor the last close" at xp-20,yf1-15 right @NOTE
eval bar(x1, yf1-20, ye1, WORKING)
set label "close(3); serves fd 4:\nblocking read(), write()" at x1+20,yf1-60 left @BODY
eval bar(xp, yf1-30, 510, BLOCKED)
set label "accept() again" at xp-20,yf1-60 right @CODE

# ---- connection 2, while child 1 still serves --------------------------------------
yf2 = 490
eval bar(xp, 510, yf2-20, WORKING)
set arrow from xp+12,yf2 to x2-90,yf2 as 5
set label "accept(), fork()" at xp+30,yf2+12 left @BODY
eval child(x2, yf2-20, 2)
eval bar(x2, yf2-20, 230, WORKING)
set label "serves its\nconnection" at x2+20,yf2-60 left @BODY
eval bar(xp, yf2-20, yr1+10, BLOCKED)

# ---- child 1 exits: a zombie until the parent waits for it ----------------------------
set label "_exit(0)" at x1+20,ye1 left @CODE
eval bar(x1, ye1, yr1-10, ZOMBIE)
set label "zombie: exited, not yet\nwaited for (keeps its pid\nand exit status)" at x1+20,ye1-25 left @NOTE
set arrow from x1-12,ye1-5 to xp+12,yr1+5 as 3
set label "SIGCHLD" at (xp+x1)/2+30,(ye1+yr1)/2+22 center font "sans-serif,13" tc rgb LOSS
eval bar(xp, yr1+10, yr1-60, WORKING)
set label "handler reap():\nwhile (waitpid(-1, &st,\n    WNOHANG) > 0) ...\nthen accept() goes on\n(SA_RESTART)" at xp-20,yr1+20 right @CODE
set arrow from xp+12,yr1-10 to x1-12,yr1-10 as 5
set label "reaped: gone" at (xp+x1)/2+60,yr1-25 center font "sans-serif,12" tc rgb APP_LN
eval bar(xp, yr1-60, 205, BLOCKED)
eval bar(xp, 205, 175, WORKING)
eval bar(xp, 175, bot, BLOCKED)

# ---- child 2 exits in turn ----------------------------------------------------------
set label "_exit(0)" at x2+20,230 left @CODE
eval bar(x2, 230, 200, ZOMBIE)
set arrow from x2-12,225 to xp+12,195 as 3
set label "SIGCHLD, reap()" at (xp+x2)/2+80,228 center font "sans-serif,12" tc rgb LOSS

# ---- the legend and the lesson --------------------------------------------------------
lx = 40; ly = 85
eval sprintf("set object rect from %g,%g to %g,%g %s", lx, ly, lx+24, ly+20, BLOCKED)
set label "blocked in a system call" at lx+32,ly+10 left @BODY
eval sprintf("set object rect from %g,%g to %g,%g %s", lx+280, ly, lx+304, ly+20, WORKING)
set label "running" at lx+312,ly+10 left @BODY
eval sprintf("set object rect from %g,%g to %g,%g %s", lx+430, ly, lx+454, ly+20, ZOMBIE)
set label "zombie" at lx+462,ly+10 left @BODY
set label "Signals do not queue: two children that end together may bring one SIGCHLD, so reap() loops until waitpid() finds none.\nEach connection owns a process (copy-on-write pages, page tables, a kernel stack); the counters live in one MAP_SHARED page." \
    at W/2,45 center @NOTE

plot NaN
