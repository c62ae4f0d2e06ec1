# prep: gene sets, gene coordinates, preprocessing as scanpy does it, gene matching, pathway
# selection (owned by the prep work)
libkida_prep_a_SOURCES += src/gzline.h src/gzline.c src/strmap.h src/strmap.c src/gmt.h src/gmt.c \
	src/genes_annot.h src/genes_annot.c src/exactsum.h src/exactsum.c \
	src/preprocess.h src/preprocess.c src/hvg.c src/genematch.h src/genematch.c \
	src/pathways.h src/pathways.c
EXTRA_DIST += tests/prep_testutil.h
check_PROGRAMS += tests/test_gmt
tests_test_gmt_SOURCES = tests/test_gmt.c
TESTS += tests/test_gmt
check_PROGRAMS += tests/test_genes_annot
tests_test_genes_annot_SOURCES = tests/test_genes_annot.c
TESTS += tests/test_genes_annot
check_PROGRAMS += tests/test_genematch
tests_test_genematch_SOURCES = tests/test_genematch.c
TESTS += tests/test_genematch
check_PROGRAMS += tests/test_pathways
tests_test_pathways_SOURCES = tests/test_pathways.c
TESTS += tests/test_pathways
