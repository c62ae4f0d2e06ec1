# model: the kida network on the CPU (src/model.h), forward and backward, and its tests
libkida_model_a_SOURCES += src/pathmap.c src/pathmap.h src/model.c src/model.h \
	src/layers.c src/layers.h src/pathemb.c src/attention.c src/attention_tiles.c src/attention_tiles.h \
	src/vecmath.h
# -fno-trapping-math lets the vectoriser if-convert the selects in src/vecmath.h; -ffp-contract=fast
# allows fused multiply-add (-std=c11 turns it off)
libkida_model_a_CFLAGS = $(AM_CFLAGS) -fno-trapping-math -ffp-contract=fast
EXTRA_DIST += tests/model_fixtures.h tests/model_ref.h
check_PROGRAMS += tests/test_layers_grad tests/test_model_grad tests/test_token_deps \
	tests/test_dropout tests/test_inference
tests_test_layers_grad_SOURCES = tests/test_layers_grad.c
tests_test_model_grad_SOURCES = tests/test_model_grad.c
tests_test_token_deps_SOURCES = tests/test_token_deps.c
tests_test_dropout_SOURCES = tests/test_dropout.c
tests_test_inference_SOURCES = tests/test_inference.c
TESTS += tests/test_layers_grad tests/test_model_grad tests/test_token_deps \
	tests/test_dropout tests/test_inference
# benchmark (not a test): make bench-model, or make validation/bench_model && validation/bench_model.sh
EXTRA_PROGRAMS = validation/bench_model  # lead: move "EXTRA_PROGRAMS =" to Makefile.am if another area needs one
validation_bench_model_SOURCES = validation/bench_model.c validation/bench_common.c validation/bench_common.h
CLEANFILES += validation/bench_model
bench-model: validation/bench_model
	$(SHELL) $(srcdir)/validation/bench_model.sh
