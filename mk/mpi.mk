# mpi: the distributed context (mpi/): ranks, sharding, collectives, gathers, abort. It is part of
# libkida_core.a: it uses src/core/ (log, csr) and src/core/ uses it (signals).
libkida_core_a_SOURCES += mpi/dist.c mpi/dist.h mpi/exchange.c mpi/exchange.h
