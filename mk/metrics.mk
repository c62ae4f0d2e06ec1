# metrics: classification scores, NMI/ARI, kNN + Leiden clustering of embeddings, batch mixing
libkida_pipeline_a_SOURCES += src/metrics.h src/metrics.c src/metrics_agree.c src/metrics_embed.c
check_PROGRAMS += tests/test_metrics
tests_test_metrics_SOURCES = tests/test_metrics.c
TESTS += tests/test_metrics
