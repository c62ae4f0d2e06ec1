# fuzz: the fuzz suite (tests/fuzz/). libFuzzer targets for the GMT, GTF, BED, config and h5ad
# readers, built with clang and run by `make fuzz` (FUZZ_TIME seconds each, default 60; needs
# clang: tools/install-deps --fuzz); and the regression corpus (tests/fuzz/regress/), every input
# that ever crashed or hung a reader, replayed by `make check` under the normal build.
check_PROGRAMS += tests/fuzz/fuzz_replay tests/fuzz/make_seeds tests/fuzz/make_hostile
tests_fuzz_fuzz_replay_SOURCES = tests/fuzz/replay_main.c tests/fuzz/targets.c tests/fuzz/targets.h
tests_fuzz_make_seeds_SOURCES = tests/fuzz/make_seeds.c tests/io/h5fix.c tests/io/h5fix.h
tests_fuzz_make_hostile_SOURCES = tests/fuzz/make_hostile.c tests/io/h5fix.c tests/io/h5fix.h
TESTS += tests/fuzz/replay.sh
EXTRA_DIST += tests/fuzz/replay.sh tests/fuzz/fuzz.sh tests/fuzz/fuzz_main.c tests/fuzz/README.md \
	tests/fuzz/seed tests/fuzz/regress
FUZZ_TIME = 60
FUZZ_TARGETS = gmt gtf bed config h5ad
fuzz: tests/fuzz/make_seeds$(EXEEXT) tests/io/make_bad_h5ad$(EXEEXT)
	FUZZ_CC='$(FUZZ_CC)' FUZZ_TIME='$(FUZZ_TIME)' FUZZ_TARGETS='$(FUZZ_TARGETS)' HDF5_CFLAGS='$(HDF5_CFLAGS)' \
	HDF5_LIBS='$(HDF5_LIBS)' TOP_SRCDIR='$(abs_top_srcdir)' TOP_BUILDDIR='$(abs_top_builddir)' \
	$(SHELL) $(srcdir)/tests/fuzz/fuzz.sh
