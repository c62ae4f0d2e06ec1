# core: logging, options, distributed context, command dispatch
libkida_core_a_SOURCES += src/log.c src/log.h src/csr.c src/csr.h mpi/dist.c mpi/dist.h
libkida_core_a_SOURCES += src/rng.h
libkida_core_a_SOURCES += src/cli.c src/cli.h
