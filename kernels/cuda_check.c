// cuda_check: see cuda_check.h.
#include "kernels/cuda_check.h"

#include <string.h>

void cuda_check_fail(const char *file, int line, const char *lib, const char *call, int code, const char *msg) {
    const char *hint = "this is a GPU or driver fault or a kida bug; rerun with --device cpu to compare, "
                       "and report the line above";
    if (!strcmp(lib, "CUDA")) {
        if (code == (int)cudaErrorMemoryAllocation)
            hint = "the GPU ran out of memory: lower --batch, or use more GPUs (mpirun -np N)";
        else if (code == (int)cudaErrorNoDevice || code == (int)cudaErrorInvalidDevice)
            hint = "no usable GPU is visible to this rank: check nvidia-smi and CUDA_VISIBLE_DEVICES, "
                   "or run with --device cpu";
        else if (code == (int)cudaErrorInsufficientDriver)
            hint = "the NVIDIA driver is older than the CUDA runtime kida was built with: update the driver "
                   "or rebuild kida against the installed CUDA";
        else if (code == (int)cudaErrorNoKernelImageForDevice)
            hint = "kida was not compiled for this GPU's architecture: reconfigure with CUDA_ARCHS including "
                   "it (e.g. ./configure CUDA_ARCHS=\"80 90\") and rebuild";
    } else if (!strcmp(lib, "cuBLAS") && code == (int)CUBLAS_STATUS_ALLOC_FAILED) {
        hint = "cuBLAS could not allocate GPU memory: lower --batch";
    } else if (!strcmp(lib, "NCCL")) {
        hint = "NCCL failed: check that every rank has its own GPU (one rank per GPU), that the nodes can reach "
               "each other (NCCL_DEBUG=INFO shows why), or build without NCCL (--without-nccl) to reduce "
               "gradients through MPI";
    }
    fatal_at(file, line, hint, "%s call failed: %s: %s (code %d)", lib, call, msg ? msg : "?", code);
}
