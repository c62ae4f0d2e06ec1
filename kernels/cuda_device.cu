// cuda_device: see cuda_device.h. Lives in libkida_core.a (the banner uses it), so it reports
// errors through log.h directly rather than cuda_check.h (which is in libkida_cuda.a).
#include <cuda_runtime.h>
#include <string.h>

#define _Noreturn __attribute__((noreturn))  // log.h is C11
extern "C" {
#include "core/log.h"
}
#undef _Noreturn

#include "kernels/cuda_device.h"

extern "C" int cuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();  // clear the sticky "no driver" error
        return 0;
    }
    return n;
}

extern "C" void cuda_device_name(int i, char *buf, int len) {
    cudaDeviceProp p;
    if (len <= 0) return;
    buf[0] = 0;
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) return;
    strncpy(buf, p.name, (size_t)len - 1);
    buf[len - 1] = 0;
}

extern "C" int cuda_device_select(int local_rank, int local_size) {
    int n = cuda_device_count();
    if (n <= 0)
        FATAL("no GPU is visible: check nvidia-smi and CUDA_VISIBLE_DEVICES, or run with --device cpu",
              "cuda_device_select: no CUDA device (got 0, want >= 1)");
    int dev = (local_rank < 0 ? 0 : local_rank) % n;
    cudaError_t e = cudaSetDevice(dev);
    if (e != cudaSuccess)
        FATAL("check that the GPU is healthy (nvidia-smi) and not in exclusive use by another job",
              "cudaSetDevice(%d) failed: %s", dev, cudaGetErrorString(e));
    if (local_size > n && local_rank == 0)
        log_warn("%d ranks on this node share %d GPU(s): run one rank per GPU for full speed", local_size, n);
    return dev;
}
