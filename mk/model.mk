# model: the kida network on the CPU (src/model/): pathway map, layers, attention, forward and
# backward of the whole model; and its tests
libkida_model_a_SOURCES += src/model/pathmap.c src/model/pathmap.h src/model/model.c src/model/model.h \
	src/model/layers.c src/model/layers.h src/model/pathemb.c src/model/attention.c \
	src/model/vecmath.h src/model/matmul.c src/model/matmul.h \
	src/model/matmul_bf16.c src/model/matmul_bf16.h \
	src/model/gradsum.c src/model/gradsum.h src/model/kern.c src/model/kern.h src/model/kern_body.h \
	src/model/kern_portable.c src/model/kern_avx2.c src/model/kern_avx512.c
# -fno-trapping-math lets the vectoriser if-convert the selects in src/model/vecmath.h;
# -ffp-contract=fast allows fused multiply-add (-std=c11 turns it off)
libkida_model_a_CFLAGS = $(AM_CFLAGS) -fno-trapping-math -ffp-contract=fast
EXTRA_DIST += tests/model/model_fixtures.h tests/model/model_ref.h
check_PROGRAMS += tests/model/test_layers_grad tests/model/test_model_grad tests/model/test_token_deps \
	tests/model/test_dropout tests/model/test_inference tests/model/test_batch_invariance tests/model/test_gradsum \
	tests/model/test_size_checks tests/model/test_bf16
tests_model_test_layers_grad_SOURCES = tests/model/test_layers_grad.c
tests_model_test_model_grad_SOURCES = tests/model/test_model_grad.c
tests_model_test_token_deps_SOURCES = tests/model/test_token_deps.c
tests_model_test_dropout_SOURCES = tests/model/test_dropout.c
tests_model_test_inference_SOURCES = tests/model/test_inference.c
tests_model_test_batch_invariance_SOURCES = tests/model/test_batch_invariance.c
tests_model_test_gradsum_SOURCES = tests/model/test_gradsum.c
tests_model_test_size_checks_SOURCES = tests/model/test_size_checks.c
tests_model_test_bf16_SOURCES = tests/model/test_bf16.c
TESTS += tests/model/test_layers_grad tests/model/test_model_grad tests/model/test_token_deps \
	tests/model/test_dropout tests/model/test_inference tests/model/test_batch_invariance tests/model/test_gradsum \
	tests/model/test_size_checks tests/model/test_bf16
EXTRA_DIST += src/model/README.md
