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
check_PROGRAMS += tests/test_preprocess
tests_test_preprocess_SOURCES = tests/test_preprocess.c
TESTS += tests/test_preprocess
# drivers for the shell tests (built by make check, not installed)
check_PROGRAMS += tests/prep_check tests/prep_dump
tests_prep_check_SOURCES = tests/prep_check.c
tests_prep_dump_SOURCES = tests/prep_dump.c
TESTS += tests/bad_inputs_prep.sh tests/scanpy_check.sh tests/prep_ranks.sh
EXTRA_DIST += tests/bad_inputs_prep.sh tests/scanpy_check.sh tests/prep_ranks.sh
# the default gene sets, installed under $(pkgdatadir)/gene_sets (options.c's --gmt default
# gene_sets/reactome.gmt resolves there, or in the source tree's data/)
genesetsdir = $(pkgdatadir)/gene_sets
dist_genesets_DATA = data/gene_sets/reactome.gmt data/gene_sets/hallmark.gmt data/gene_sets/go_bp_human.gmt.gz \
	data/gene_sets/README.md
