# genescore: ATAC peaks -> gene activity scores (`kida genescore`, --modality atac), the shipped
# gene coordinate tables, and their tests (owned by the genescore work)
libkida_pipeline_a_SOURCES += src/genescore.h src/genescore.c src/cmd_genescore.c
check_PROGRAMS += tests/test_genescore
tests_test_genescore_SOURCES = tests/test_genescore.c
TESTS += tests/test_genescore tests/test_genescore_check.sh tests/test_genescore_bad.sh
EXTRA_DIST += tests/test_genescore_check.sh tests/test_genescore_bad.sh
# gene coordinates for --genes hg38 / hg19 (installed under $(pkgdatadir)/gene_annotation;
# --genes resolves the names there, in $KIDA_DATADIR or in the source tree's data/)
geneannodir = $(pkgdatadir)/gene_annotation
dist_geneanno_DATA = data/gene_annotation/hg38_genes.bed.gz data/gene_annotation/hg19_genes.bed.gz \
	data/gene_annotation/hg38_ncbi_genes.gtf.gz data/gene_annotation/README.md
