# core: logging, options, distributed context, command dispatch
libkida_core_a_SOURCES += src/log.c src/log.h src/csr.c src/csr.h mpi/dist.c mpi/dist.h
libkida_core_a_SOURCES += src/rng.h
kida_SOURCES += src/cli.c src/cli.h
libkida_core_a_SOURCES += src/options.c src/options.h
libkida_core_a_SOURCES += mpi/exchange.c mpi/exchange.h
configsdir = $(pkgdatadir)/configs
dist_configs_DATA = configs/demo.conf configs/rna-atlas.conf configs/atac.conf configs/spatial.conf configs/multimodal.conf
