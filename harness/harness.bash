# harness/harness.bash: the one shell library of c10k-lab. bench/run, the
# labs (labs/labK.sh), the bats suites (tests/suite.bash) and the tools
# source this file, and so start, read and stop a server the same way: a
# figure the bench publishes and a test's assertion measure the same thing.
#
#   harness/proc.bash     /proc readings: a process tree's CPU time, memory,
#                         sockets, threads and children; stats_value
#   harness/server.bash   the server under test: server_up, server_down,
#                         server_snapshot, free_port; idle connections; nap
#   harness/machine.bash  limits, tools, CPUs, the optimised build
#
# Each part opens with its functions and their contracts. Sourcing defines
# functions, NAP_FD (nap's pipe), PIDS=() and HARNESS_DIR; it starts nothing.
# Needs bash 5.0 (EPOCHREALTIME) and Linux 4.14 (smaps_rollup).

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HARNESS_DIR/proc.bash"
source "$HARNESS_DIR/server.bash"
source "$HARNESS_DIR/machine.bash"
