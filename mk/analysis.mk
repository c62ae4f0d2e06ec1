# analysis: metrics (classification scores, NMI/ARI, kNN + Leiden clustering of embeddings, batch
# mixing), the embedding report of kida evaluate --embedding, and kida explain's ranking of
# pathways and genes (src/analysis/); and their tests
libkida_analysis_a_SOURCES += src/analysis/metrics.h src/analysis/metrics.c src/analysis/metrics_agree.c src/analysis/metrics_confusion.c \
	src/analysis/metrics_embed.c src/analysis/embed_eval.h src/analysis/embed_eval.c \
	src/analysis/explain.h src/analysis/explain.c src/analysis/majority.h src/analysis/majority.c \
	src/analysis/novelty.h src/analysis/novelty.c src/analysis/novelty_profile.c \
	src/analysis/spatial.h src/analysis/spatial.c src/analysis/spatial_query.c
check_PROGRAMS += tests/analysis/test_metrics
tests_analysis_test_metrics_SOURCES = tests/analysis/test_metrics.c
TESTS += tests/analysis/test_metrics
check_PROGRAMS += tests/analysis/test_novelty
tests_analysis_test_novelty_SOURCES = tests/analysis/test_novelty.c
TESTS += tests/analysis/test_novelty
check_PROGRAMS += tests/analysis/test_novelty_profile
tests_analysis_test_novelty_profile_SOURCES = tests/analysis/test_novelty_profile.c
TESTS += tests/analysis/test_novelty_profile
check_PROGRAMS += tests/analysis/test_explain
tests_analysis_test_explain_SOURCES = tests/analysis/test_explain.c
TESTS += tests/analysis/test_explain
EXTRA_DIST += src/analysis/README.md
check_PROGRAMS += tests/analysis/test_spatial
tests_analysis_test_spatial_SOURCES = tests/analysis/test_spatial.c
TESTS += tests/analysis/test_spatial
