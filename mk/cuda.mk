# cuda: GPU code in kernels/, built with nvcc only when configure found CUDA (docs/gpu.md).
# libkida_cuda.a exists in every build: with CUDA it holds the CUDA twins of the layers, losses
# and Adam, the device model and the NCCL communicator; without, kernels/gpu_stub.c, so CPU code
# calls the functions of kernels/gpu.h with no #ifdef. It uses libkida_model.a (the parameter
# layout) and libkida_core.a (log, dist): on a link line it goes after libkida_train.a and
# before libkida_model.a. The CPU vs GPU tests are in tests/kernels/.
SUFFIXES = .cu
EXTRA_DIST += kernels/cuda_device.cu kernels/cuda_device.h \
	kernels/cuda_check.c kernels/cuda_check.h \
	kernels/layers_cuda.cu kernels/attention_cuda.cu kernels/layers_cuda.h \
	kernels/losses_cuda.cu kernels/losses_cuda.h kernels/optim_cuda.cu kernels/optim_cuda.h \
	kernels/model_cuda.c kernels/model_cuda.h kernels/nccl_comm.c kernels/nccl_comm.h \
	kernels/gpu.h kernels/gpu_stub.c tests/kernels/cuda_testutil.h
noinst_LIBRARIES += libkida_cuda.a
if HAVE_CUDA
libkida_core_a_SOURCES += kernels/cuda_device.cu kernels/cuda_device.h
libkida_cuda_a_SOURCES = kernels/gpu.h kernels/cuda_check.c kernels/cuda_check.h \
	kernels/layers_cuda.cu kernels/attention_cuda.cu kernels/layers_cuda.h \
	kernels/losses_cuda.cu kernels/losses_cuda.h kernels/optim_cuda.cu kernels/optim_cuda.h \
	kernels/model_cuda.c kernels/model_cuda.h
if HAVE_NCCL
libkida_cuda_a_SOURCES += kernels/nccl_comm.c kernels/nccl_comm.h
endif
# CPU vs GPU tests: they build everywhere CUDA does and exit 77 where no GPU is visible
KIDA_CUDA_TEST_LIBS = libkida_cuda.a $(LDADD)
check_PROGRAMS += tests/kernels/test_cuda_layers tests/kernels/test_cuda_model tests/kernels/test_cuda_nccl
tests_kernels_test_cuda_layers_SOURCES = tests/kernels/test_cuda_layers.c tests/kernels/cuda_testutil.h
tests_kernels_test_cuda_layers_LDADD = $(KIDA_CUDA_TEST_LIBS)
tests_kernels_test_cuda_model_SOURCES = tests/kernels/test_cuda_model.c tests/kernels/cuda_testutil.h
tests_kernels_test_cuda_model_LDADD = $(KIDA_CUDA_TEST_LIBS)
tests_kernels_test_cuda_nccl_SOURCES = tests/kernels/test_cuda_nccl.c
tests_kernels_test_cuda_nccl_LDADD = $(KIDA_CUDA_TEST_LIBS)
TESTS += tests/kernels/test_cuda_layers tests/kernels/test_cuda_model tests/kernels/test_cuda_nccl
else
libkida_cuda_a_SOURCES = kernels/gpu.h kernels/gpu_stub.c
endif
