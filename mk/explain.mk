# explain: kida explain (top pathways and key genes per cell type), the embedding clustering
# report of kida evaluate --embedding, and kida report (figures; validation/report.py)
libkida_pipeline_a_SOURCES += src/explain.h src/explain.c src/cmd_explain.c \
	src/embed_eval.h src/embed_eval.c src/cmd_report.c
check_PROGRAMS += tests/test_explain
tests_test_explain_SOURCES = tests/test_explain.c
TESTS += tests/test_explain tests/test_explain_cmd.sh tests/test_embed_eval.sh
EXTRA_DIST += tests/test_explain_cmd.sh tests/test_embed_eval.sh
# kida report runs validation/report.py: from the source tree, or installed here
kidareportdir = $(pkgdatadir)/validation
dist_kidareport_DATA = validation/report.py
