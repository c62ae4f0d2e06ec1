# prep: preprocessing as scanpy does it (normalise, log1p, highly variable genes, scale), gene
# matching, pathway selection, ATAC peaks -> gene activity scores (src/prep/); and their tests
libkida_prep_a_SOURCES += src/prep/preprocess.h src/prep/preprocess.c src/prep/hvg.c \
	src/prep/genematch.h src/prep/genematch.c src/prep/pathways.h src/prep/pathways.c \
	src/prep/genescore.h src/prep/genescore.c src/prep/markers.h src/prep/markers.c src/prep/profiles.h src/prep/profiles.c
EXTRA_DIST += tests/prep/prep_testutil.h
check_PROGRAMS += tests/prep/test_genematch
tests_prep_test_genematch_SOURCES = tests/prep/test_genematch.c
TESTS += tests/prep/test_genematch
check_PROGRAMS += tests/prep/test_pathways
tests_prep_test_pathways_SOURCES = tests/prep/test_pathways.c
TESTS += tests/prep/test_pathways
check_PROGRAMS += tests/prep/test_markers
tests_prep_test_markers_SOURCES = tests/prep/test_markers.c
TESTS += tests/prep/test_markers
check_PROGRAMS += tests/prep/test_preprocess
tests_prep_test_preprocess_SOURCES = tests/prep/test_preprocess.c
TESTS += tests/prep/test_preprocess
check_PROGRAMS += tests/prep/test_genescore
tests_prep_test_genescore_SOURCES = tests/prep/test_genescore.c
TESTS += tests/prep/test_genescore
# drivers for the shell tests (built by make check, not installed)
check_PROGRAMS += tests/prep/prep_check tests/prep/prep_dump
tests_prep_prep_check_SOURCES = tests/prep/prep_check.c
tests_prep_prep_dump_SOURCES = tests/prep/prep_dump.c
TESTS += tests/prep/bad_inputs_prep.sh tests/prep/scanpy_check.sh tests/prep/prep_ranks.sh
EXTRA_DIST += tests/prep/bad_inputs_prep.sh tests/prep/scanpy_check.sh tests/prep/prep_ranks.sh
# the default gene sets, installed under $(pkgdatadir)/gene_sets (options.c's --gmt default
# gene_sets/reactome.gmt resolves there, or in the source tree's data/)
genesetsdir = $(pkgdatadir)/gene_sets
dist_genesets_DATA = data/gene_sets/reactome.gmt data/gene_sets/c8.gmt data/gene_sets/hallmark.gmt data/gene_sets/go_bp_human.gmt.gz \
	data/gene_sets/README.md
# gene coordinates for --genes hg38 / hg19 (installed under $(pkgdatadir)/gene_annotation;
# --genes resolves the names there, in $KIDA_DATADIR or in the source tree's data/)
geneannodir = $(pkgdatadir)/gene_annotation
dist_geneanno_DATA = data/gene_annotation/hg38_genes.bed.gz data/gene_annotation/hg19_genes.bed.gz \
	data/gene_annotation/hg38_ncbi_genes.gtf.gz data/gene_annotation/README.md
EXTRA_DIST += src/prep/README.md
