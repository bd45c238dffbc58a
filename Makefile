# c10k-lab: one HTTP "Hello, world!" server per Linux I/O model.
#
#   make               build every server, the load generator and the tools into bin/
#   make setup         install the packages the labs need (as root; else it
#                      prints the command for this distribution: tools/setup)
#   make doctor        is this machine ready for the labs? one line a check,
#                      in 30 s (BRIEF=1: one line for the machine; tools/doctor)
#   make test          install missing test tools (when root), build, run every bats suite
#   make bench         the sweep of every model; CSV, PNG and a report in results/
#   make sanitize      build with ASan+UBSan into build/asan/ and run the suite there
#   make tsan          build with ThreadSanitizer into build/tsan/ and run the suite there
#   make fuzz          fuzz the request framing and loadgen's response parser with
#                      libFuzzer (clang), FUZZ_SECONDS (60) in all
#   make valgrind      a short client session per model under valgrind memcheck
#   make grade SRC=F   grade your own server F.c (labs/starter/) against the suites
#                      (TIER=quick: a minute, to iterate; FORMAT=json|gradescope|autolab;
#                      WEIGHTS=FILE points; GRADE_EXTRA=DIR a teacher's hidden tests)
#   make autograder    Gradescope's autograder zip and a GitHub Classroom config, in
#                      build/autograder/ (MODEL=, WEIGHTS=, GRADE_EXTRA= built in)
#   make format-check  is every C file laid out as .clang-format says? (CI runs it)
#   make format        lay them out so (clang-format -i)
#   make docs          redraw the figures of docs/ from docs/figures/*.gp (SVG and PNG)
#   make pitfalls      build and run the ten pitfall experiments (pitfalls/run)
#   make lab N=K       lab K's experiments at classroom size into results/labK/
#                      (OUT=DIR elsewhere); `make lab` lists the nine labs
#   make class FILES=  a class's hand-in files (results/labK/handin-*.txt) side by
#                      side: spread per figure, the odd machines and why (labs/class)
#   make serve         results/ over HTTP on 127.0.0.1 (port 8000, or any free one),
#                      and the ssh -L line to see the labs' pages; ADDR=0.0.0.0 opens it
#   make clean         remove bin/, build/ and results/
#
# Variables: CFLAGS is appended to ours, never replaces them; V=1 shows the
# commands; SANITIZE=address,undefined or SANITIZE=thread builds instrumented.

CC      ?= cc
# gnu11, not c11: the servers use Linux and POSIX interfaces (accept4, SOCK_NONBLOCK,
# pipe2, MSG_NOSIGNAL), which glibc declares only with _GNU_SOURCE. The feature
# macro lives here, once, so no source file can place it after its includes.
STD      = -std=gnu11 -D_GNU_SOURCE
WARN     = -Wall -Wextra -pedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT     ?= -O2 -g
SANITIZE ?=
ifneq ($(SANITIZE),)
  OPT      = -O1 -g -fno-omit-frame-pointer
  SANFLAGS = -fsanitize=$(SANITIZE)
endif
ALL_CFLAGS  = $(STD) $(WARN) $(OPT) $(SANFLAGS) -MMD -MP -Ilib -Iservers/common -Iclients $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) -pthread $(LDFLAGS)
LDLIBS      = -lm

BUILD  ?= build
# the test targets build with one compiler per CPU first (tests/run then
# runs one suite per CPU the same way)
JOBS   := $(shell nproc 2>/dev/null || echo 1)
BINDIR ?= bin

ifeq ($(V),1)
  Q =
else
  Q = @
endif

# The models: the first word of each line of servers/MODELS (the one list).
MODELS  = $(shell sed -n 's/^\([a-z_0-9]*\)[[:space:]].*/\1/p' servers/MODELS)
# lib/: die, the clock, the descriptor limit; linked into every program.
LIB     = $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(wildcard lib/*.c))
SERVERS = $(addprefix $(BINDIR)/,$(MODELS))
# servers/common/ but its io_uring plumbing, which only io_uring and loadgen link
COMMON  = $(patsubst servers/common/%.c,$(BUILD)/common/%.o,\
	    $(filter-out servers/common/uring%.c,$(wildcard servers/common/*.c)))
TOOLS   = $(patsubst tests/tools/%.c,$(BINDIR)/%,$(wildcard tests/tools/*.c))
CLIENTS = $(if $(wildcard clients/loadgen.c),$(BINDIR)/loadgen)
BENCHES = $(if $(wildcard bench/polltime.c),$(BINDIR)/polltime) \
          $(if $(wildcard bench/coldfile.c),$(BINDIR)/coldfile) \
          $(if $(wildcard bench/filewatch.c),$(BINDIR)/filewatch)
# the fuzz targets' replayers: see "hostile input" below
REPLAYS = $(BINDIR)/http_replay $(BINDIR)/resp_replay
include pitfalls/pitfalls.mk
# rules come before `all` below; it is the goal all the same
.DEFAULT_GOAL := all

# ---- liburing ----------------------------------------------------------------
# bin/io_uring and loadgen's io_uring engine use servers/common/uring.c, which
# needs liburing 2.3 or newer. servers/common/uring-config compiles a probe of
# exactly what it uses (with CC, CFLAGS and LDFLAGS as given here) and writes
# its answer to $(URING_CONFIG), only when the answer changes; what uses
# liburing depends on that file, so installing, upgrading or removing liburing
# rebuilds those programs and nothing else. Without a usable liburing the other
# programs still build, loadgen without its io_uring engine (it says so), and
# make prints one line, also left in bin/io_uring.missing: tests/run reads it
# to skip the model with that reason.
URING_CONFIG = $(BUILD)/uring.config
URING       := $(shell CC='$(CC)' CFLAGS='$(STD) $(CFLAGS)' LDFLAGS='$(LDFLAGS)' \
		 servers/common/uring-config $(URING_CONFIG))
URING_USERS  = $(BUILD)/common/uring.o $(BUILD)/servers/io_uring.o \
	       $(BUILD)/clients/engine_uring.o $(BUILD)/clients/engine_uring_missing.o
$(URING_USERS) $(BINDIR)/io_uring $(BINDIR)/loadgen: $(URING_CONFIG)
# loadgen: every clients/*.c (loadgen.h lists the modules), with one of the
# two files for --engine io_uring: the engine, or the stub that says why not.
ifeq ($(URING),yes)
LOADGEN_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(filter-out clients/engine_uring_missing.c,$(wildcard clients/*.c))) \
	      $(BUILD)/common/uring.o
$(BINDIR)/io_uring: $(BUILD)/common/uring.o
$(BINDIR)/io_uring $(BINDIR)/loadgen: LDLIBS += -luring
else
LOADGEN_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(filter-out clients/engine_uring.c,$(wildcard clients/*.c)))
$(BUILD)/clients/engine_uring_missing.o: ALL_CFLAGS += -DURING_MISSING='"$(URING)"'
SERVERS := $(filter-out $(BINDIR)/io_uring,$(SERVERS))
.PHONY: $(BINDIR)/io_uring
$(BINDIR)/io_uring: | $(BINDIR)
	@echo "$(URING)"
	@rm -f $@; echo "$(URING)" >$@.missing
endif

# ---- programs ----------------------------------------------------------------
# Each program's objects; the one link rule below makes them all.
PROGRAMS = $(SERVERS) $(CLIENTS) $(BENCHES) $(TOOLS) $(REPLAYS) $(PITFALLS)

.PHONY: all test bench sanitize tsan fuzz valgrind clean format format-check grade pitfalls lab serve
# Keep the objects: they are intermediates of a chain, which make would delete.
.SECONDARY:
all: $(PROGRAMS) $(BINDIR)/io_uring

$(SERVERS): $(BINDIR)/%: $(BUILD)/servers/%.o $(COMMON) $(LIB)
$(BINDIR)/loadgen: $(LOADGEN_OBJ) $(LIB)
$(BINDIR)/polltime: $(BUILD)/bench/polltime.o $(LIB)
$(BINDIR)/coldfile: $(BUILD)/bench/coldfile.o $(LIB)
$(BINDIR)/filewatch: $(BUILD)/bench/filewatch.o $(LIB)
$(TOOLS): $(BINDIR)/%: $(BUILD)/tests/tools/%.o $(LIB)
$(BINDIR)/http_replay: $(BUILD)/tests/fuzz/http_fuzz.o $(BUILD)/tests/fuzz/replay.o $(BUILD)/common/http.o $(LIB)
$(BINDIR)/resp_replay: $(BUILD)/tests/fuzz/resp_fuzz.o $(BUILD)/tests/fuzz/replay.o $(BUILD)/clients/resp.o $(LIB)
$(PITFALLS): $(BINDIR)/pitfall-%: $(BUILD)/pitfalls/%.o $(BUILD)/pitfalls/experiment.o $(LIB)

# The link rule. A program built is no longer missing: its .missing marker,
# left while it could not be built (io_uring without liburing), goes.
$(PROGRAMS): | $(BINDIR)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS)
	@rm -f $@.missing

$(BUILD)/common/%.o: servers/common/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BINDIR):
	@mkdir -p $@

# ---- the machine -----------------------------------------------------------
# tools/packages is the one list of packages; tools/setup installs the labs'
# share of it, tests/deps the suites'. make doctor BRIEF=1 prints its one
# line and exits 0 (the line says FAIL), so a loop over 30 VMs reads one
# line each; tools/doctor --brief keeps the exit status.
.PHONY: setup doctor
setup:
	$(Q)tools/setup

doctor:
	$(Q)BIN=$(abspath $(BINDIR)) tools/doctor $(if $(BRIEF),--brief || true)

# ---- tests ---------------------------------------------------------------
# tests/deps installs what the suites need when it may (root + apt-get) and
# otherwise names the packages; tests/run runs every suite and ends with the
# line "N passed, N failed".
test:
	$(Q)tests/deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all
	$(Q)BIN=$(abspath $(BINDIR)) tests/run

sanitize:
	$(Q)tests/deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all SANITIZE=address,undefined BUILD=build/asan BINDIR=build/asan/bin
	$(Q)BIN=$(abspath build/asan/bin) tests/run

tsan:
	$(Q)tests/deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all SANITIZE=thread BUILD=build/tsan BINDIR=build/tsan/bin
	$(Q)BIN=$(abspath build/tsan/bin) TSAN=1 tests/run

# ---- bench ---------------------------------------------------------------
# QUICK=1 runs the same sweeps, smaller; REF=nginx adds a one-worker nginx.
bench:
	$(Q)bench/run $(if $(QUICK),--quick) $(if $(REF),--ref $(REF))

# make profile [MODEL=poll | MODELS="poll epoll_et"] [IDLE=10000] [CONNS=20]
# [SECONDS=2] [CALLS="0 2000 4000" | CALLS=none]: each model under perf, its
# flame graph, stacks and top functions, and the time of each waiting call at
# each idle count of CALLS (root only), into results/profile/ (bench/profile).
# (MODELS names every model above: here only MODELS given on the command line counts.)
PROFILE_MODELS = $(if $(filter command line,$(origin MODELS)),$(MODELS),$(MODEL))
.PHONY: profile
profile:
	$(Q)bench/profile $(if $(PROFILE_MODELS),--models "$(PROFILE_MODELS)") \
		$(if $(IDLE),--idle $(IDLE)) $(if $(CONNS),--conns $(CONNS)) \
		$(if $(SECONDS),--seconds $(SECONDS)) $(if $(CALLS),--calls "$(CALLS)")

# make lab N=3 [OUT=DIR]: labs/run builds like bench/run and runs lab 3;
# without N it lists the labs. LAB_SMOKE=1 runs every step at its smallest.
lab:
	$(Q)labs/run $(N) $(if $(OUT),--out $(OUT))

# make serve [ADDR=0.0.0.0] [PORT=N]: results/ by bin/epoll_et --root, each
# lab's index.html among them; labs/serve says how to reach it over ssh.
serve: $(BINDIR)/epoll_et
	$(Q)labs/serve --bin $(BINDIR) $(if $(ADDR),--addr $(ADDR)) $(if $(PORT),--port $(PORT))

# make class FILES='handins/*.txt' [OUT=DIR]: labs/class merges a class's
# hand-in files into results/class/ (or DIR); the outliers' table on stdout.
.PHONY: class
class:
	$(Q)labs/class $(if $(OUT),-o $(OUT)) $(FILES)

clean:
	rm -rf bin build results

format-check:
	$(Q)tests/format-check

# make grade SRC=mine.c [MODEL=epoll_lt] [TIER=quick] [FORMAT=json] [WEIGHTS=F]:
# tests/grade -h says what each line means.
grade:
	$(Q)tests/deps >&2 # stdout may be FORMAT's JSON
	$(Q)GRADE_EXTRA=$(GRADE_EXTRA) tests/grade $(if $(filter quick,$(TIER)),-q) \
		$(if $(FORMAT),-o $(FORMAT)) $(if $(WEIGHTS),-w $(WEIGHTS)) \
		$(if $(SRC),$(SRC),$(error make grade needs SRC=FILE.c, e.g. SRC=labs/starter/server.c)) $(MODEL)

# make autograder [MODEL=epoll_lt] [WEIGHTS=F] [GRADE_EXTRA=DIR] [TIER=quick]: tests/autograder.
.PHONY: autograder
autograder:
	$(Q)MODEL=$(MODEL) WEIGHTS=$(WEIGHTS) GRADE_EXTRA=$(GRADE_EXTRA) TIER=$(TIER) tests/autograder build/autograder

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')


-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- hostile input: fuzzing and leaks -------------------------------------
# bin/http_replay (the servers' request framing) and bin/resp_replay
# (loadgen's response parser) run their fuzz target over its seed corpus and
# every input that ever crashed, without libFuzzer, in every build
# (tests/fuzz.bats). `make fuzz` builds both targets with clang's libFuzzer
# and fuzzes them for FUZZ_SECONDS in all; `make valgrind` runs a short
# session under memcheck per model.
FUZZ_SECONDS ?= 60

fuzz:
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run

valgrind:
	$(Q)tests/deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all
	$(Q)BIN=$(abspath $(BINDIR)) tests/run valgrind

# ---- figures -----------------------------------------------------------------
# docs/figures/NAME.gp becomes NAME.svg and NAME.png beside it (gnuplot);
# the outputs are committed. docs/figures/draw names the package if missing.
.PHONY: docs
docs:
	$(Q)docs/figures/draw

# ---- the teacher's side: keys, reference runs, the student copy ----------------
# make keys: docs/teacher/*.md from their templates in docs/teacher/src/, every
# figure filled from the reference runs (tools/keys). make reference [LABS="3 5"]
# re-makes those runs in docs/results/labs/ (labs/reference), then the keys.
.PHONY: keys
keys:
	$(Q)tools/keys

.PHONY: reference
reference:
	$(Q)labs/reference $(LABS)

# make student-copy DIR=../handout: the tree a teacher hands out (tools/student-copy):
# HEAD without the keys, the labs' reference runs, and the links to them.
.PHONY: student-copy
student-copy:
	$(Q)tools/student-copy $(if $(DIR),$(DIR),$(error make student-copy needs DIR=, a new directory))
