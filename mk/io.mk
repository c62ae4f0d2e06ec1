# io: the file formats (src/io/): .h5ad and 10x .h5 read and write, the HDF5 helpers, kida
# inspect's summary, gene sets (.gmt), gene coordinates (BED/GTF), gzip line reading; and their tests
libkida_io_a_SOURCES += src/io/h5util.c src/io/h5util.h src/io/h5vlen.c src/io/h5filters.c src/io/h5filters.h
libkida_io_a_SOURCES += src/io/h5ad.h src/io/h5ad_impl.h src/io/h5ad_read.c src/io/h5ad_labels.c src/io/h5ad_write.c \
	src/io/h5ad_wimpl.h src/io/h5ad_rows.c src/io/h5ad_copy.c src/io/h5ad_wframe.c
libkida_io_a_SOURCES += src/io/inspect.c src/io/inspect.h src/io/xvalues.c src/io/xvalues.h
libkida_io_a_SOURCES += src/io/gzline.h src/io/gzline.c src/io/gmt.h src/io/gmt.c \
	src/io/genes_annot.h src/io/genes_annot.c
check_PROGRAMS += tests/io/io_driver
tests_io_io_driver_SOURCES = tests/io/io_driver.c
check_PROGRAMS += tests/io/test_h5ad
tests_io_test_h5ad_SOURCES = tests/io/test_h5ad.c tests/io/h5fix.c tests/io/h5fix.h tests/io/check.h
TESTS += tests/io/test_h5ad
check_PROGRAMS += tests/io/test_h5ad_write
tests_io_test_h5ad_write_SOURCES = tests/io/test_h5ad_write.c tests/io/check.h tests/io/run_child.h
TESTS += tests/io/test_h5ad_write
TESTS += tests/io/roundtrip.sh
EXTRA_DIST += tests/io/roundtrip.sh
check_PROGRAMS += tests/io/make_bad_h5ad
tests_io_make_bad_h5ad_SOURCES = tests/io/make_bad_h5ad.c tests/io/h5fix.c tests/io/h5fix.h
TESTS += tests/io/bad_inputs_io.sh
EXTRA_DIST += tests/io/bad_inputs_io.sh
TESTS += tests/io/io_mpi.sh
EXTRA_DIST += tests/io/io_mpi.sh
# an out-of-memory error names the file and field (uses the fuzz suite's replayer, mk/fuzz.mk)
TESTS += tests/io/oom_named.sh
EXTRA_DIST += tests/io/oom_named.sh
check_PROGRAMS += tests/io/test_h5ad_pwrite
tests_io_test_h5ad_pwrite_SOURCES = tests/io/test_h5ad_pwrite.c tests/io/h5fix.c tests/io/h5fix.h
TESTS += tests/io/pwrite.sh
EXTRA_DIST += tests/io/pwrite.sh
# the gene set and gene coordinate readers' unit tests use the prep tests' helpers
check_PROGRAMS += tests/io/test_gmt
tests_io_test_gmt_SOURCES = tests/io/test_gmt.c
TESTS += tests/io/test_gmt
check_PROGRAMS += tests/io/test_genes_annot
tests_io_test_genes_annot_SOURCES = tests/io/test_genes_annot.c
TESTS += tests/io/test_genes_annot
EXTRA_DIST += data/README.md data/pbmc_v2_ref.h5ad data/pbmc_v3_query.h5ad data/pbmc_v2_10x.h5 data/granja_atac.h5ad
EXTRA_DIST += src/io/README.md
check_PROGRAMS += tests/io/test_xvalues
tests_io_test_xvalues_SOURCES = tests/io/test_xvalues.c tests/io/h5fix.c tests/io/h5fix.h tests/io/check.h
TESTS += tests/io/test_xvalues
TESTS += tests/io/compressed.sh
EXTRA_DIST += tests/io/compressed.sh
