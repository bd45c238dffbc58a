# Talking clients at the largest N, against their think time Z (plots/talk.gp
# draws the panels). Short thinks: many connections ready at each wakeup;
# long ones: few, and a scan of all N is paid for each of those few.
if (!exists("input")) { input = "talk-think.dat"; xcol = "think_ms"; xlab = "mean think time Z, ms (log scale)" }
load plots."/talk.gp"
