# validation: the check against the PyTorch reference (tests/validation/) and the benchmarks built
# from validation/. The C model + losses + Adam against validation/torch_kida.py
# (paper-shape variant: validation/torch_ref_paper.sh, not run by make check).
check_PROGRAMS += tests/validation/test_torch_ref
tests_validation_test_torch_ref_SOURCES = tests/validation/test_torch_ref.c
TESTS += tests/validation/torch_ref.sh
EXTRA_DIST += tests/validation/torch_ref.sh
# the integration benchmark (validation/integration/run.sh, docs/integration.md; not run by make
# check); its scoring and report on a tiny fixture (skips without a python with scib-metrics)
TESTS += tests/validation/integration_score.sh
EXTRA_DIST += tests/validation/integration_score.sh validation/integration/run.sh \
	validation/integration/sets.py validation/integration/kida_embed.py validation/integration/peers.py \
	validation/integration/score.py validation/integration/figures.py validation/integration/report.py
# benchmark (not a test): make bench-model, or make validation/bench_model && validation/bench_model.sh
EXTRA_PROGRAMS = validation/bench_model validation/bench_train
validation_bench_model_SOURCES = validation/bench_model.c validation/bench_common.c validation/bench_common.h
# the whole training step on N ranks: mpirun -np N validation/bench_train (docs/scaling.md)
validation_bench_train_SOURCES = validation/bench_train.c validation/bench_common.c validation/bench_common.h
CLEANFILES += validation/bench_model validation/bench_train
bench-model: validation/bench_model
	$(SHELL) $(srcdir)/validation/bench_model.sh
EXTRA_DIST += validation/bench_gpu.sh validation/bench_gpu_torch.py
if HAVE_CUDA
# GPU benchmark (not a test; built by make check so it keeps compiling): validation/bench_gpu.sh
check_PROGRAMS += validation/bench_gpu
validation_bench_gpu_SOURCES = validation/bench_gpu.c validation/bench_common.c validation/bench_common.h
validation_bench_gpu_LDADD = $(KIDA_CUDA_TEST_LIBS)
bench-gpu: validation/bench_gpu
	$(SHELL) $(srcdir)/validation/bench_gpu.sh
.PHONY: bench-gpu
endif
