# mpi: the distributed context (mpi/): ranks, sharding, collectives, gathers, abort. It is part of
# libkida_core.a: it uses src/core/ (log, csr) and src/core/ uses it (signals).
libkida_core_a_SOURCES += mpi/dist.c mpi/dist.h mpi/exchange.c mpi/exchange.h
check_PROGRAMS += tests/mpi/test_dist_chunks
tests_mpi_test_dist_chunks_SOURCES = tests/mpi/test_dist_chunks.c
TESTS += tests/mpi/dist_chunks.sh
EXTRA_DIST += tests/mpi/dist_chunks.sh
