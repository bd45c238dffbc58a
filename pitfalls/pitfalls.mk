# pitfalls/pitfalls.mk: the pitfall experiments, included by the top Makefile.
# Each pitfalls/NAME.c but experiment.c becomes $(BINDIR)/pitfall-NAME, linked
# with experiment.o (what every experiment shares) and $(LIB) by the top
# Makefile's link rule; `make pitfalls` builds them and runs them all through
# pitfalls/run.

PITFALLS = $(patsubst pitfalls/%.c,$(BINDIR)/pitfall-%,$(filter-out pitfalls/experiment.c,$(wildcard pitfalls/*.c)))

# The FD_SETSIZE lesson is glibc's _FORTIFY_SOURCE check inside FD_SET, which
# exists only when optimising: so this one file gets -O2 and the macro
# whatever the global flags (a later -O wins over OPT's -O0 or -O1).
$(BUILD)/pitfalls/fd_setsize.o: ALL_CFLAGS += -O2 -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2

pitfalls: all
	$(Q)BIN=$(abspath $(BINDIR)) pitfalls/run
