# cuda: GPU code in kernels/, built with nvcc only when configure found CUDA
SUFFIXES = .cu
EXTRA_DIST += kernels/cuda_device.cu kernels/cuda_device.h
if HAVE_CUDA
libkida_core_a_SOURCES += kernels/cuda_device.cu kernels/cuda_device.h
endif
