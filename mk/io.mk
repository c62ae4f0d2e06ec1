# io: sources and tests (owned by the io work)
libkida_io_a_SOURCES += src/h5util.c src/h5util.h src/atomic.c src/atomic.h
libkida_io_a_SOURCES += src/h5ad.h src/h5ad_impl.h src/h5ad_read.c src/h5ad_labels.c src/h5ad_write.c
libkida_io_a_SOURCES += src/inspect.c src/inspect.h
check_PROGRAMS += tests/io_driver
tests_io_driver_SOURCES = tests/io_driver.c
