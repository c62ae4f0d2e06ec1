# core: logging and fatal errors, the option table, string maps, atomic writes, exact sums, random
# streams, stop signals, the CSR matrix and the CPU's vector path (src/core/). With mpi/ (mk/mpi.mk)
# it is libkida_core.a, the bottom of the link line.
libkida_core_a_SOURCES += src/core/log.c src/core/log.h src/core/options.c src/core/options.h \
	src/core/csr.c src/core/csr.h src/core/rng.h src/core/strmap.h src/core/strmap.c \
	src/core/atomic.c src/core/atomic.h src/core/exactsum.h src/core/exactsum.c \
	src/core/signals.c src/core/signals.h src/core/runstats.c src/core/runstats.h \
	src/core/cpu.c src/core/cpu.h src/core/confpath.c src/core/confpath.h src/core/ranked.h
EXTRA_DIST += src/core/README.md
