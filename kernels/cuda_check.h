// cuda_check: checked calls into the CUDA runtime, cuBLAS and NCCL, usable from C and CUDA C++.
// A failure is fatal on every rank with kida's error format (src/core/log.h):
//   [rank r] ERROR file:line: CUDA call failed: cudaMalloc(...): out of memory (code 2)
//   HINT: ...
// The hint depends on the error (out of memory, no device, driver too old, anything else).
#ifndef KIDA_CUDA_CHECK_H
#define KIDA_CUDA_CHECK_H
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <stddef.h>

#ifdef __cplusplus
// log.h is C11; g++ does not know the _Noreturn keyword, so spell it as the GNU attribute there.
#define _Noreturn __attribute__((noreturn))
extern "C" {
#include "core/log.h"
}
#undef _Noreturn
extern "C" {
#else
#include "core/log.h"
#endif

// Fatal error for a failed call of library lib ("CUDA", "cuBLAS", "NCCL"); never returns.
__attribute__((noreturn)) void cuda_check_fail(const char *file, int line, const char *lib, const char *call,
                                               int code, const char *msg);

#ifdef __cplusplus
}
#endif

#define CUDA_CHECK(call)                                                                              \
    do {                                                                                              \
        cudaError_t cuda_e_ = (call);                                                                 \
        if (cuda_e_ != cudaSuccess)                                                                   \
            cuda_check_fail(__FILE__, __LINE__, "CUDA", #call, (int)cuda_e_, cudaGetErrorString(cuda_e_)); \
    } while (0)

#define CUBLAS_CHECK(call)                                                                            \
    do {                                                                                              \
        cublasStatus_t cublas_s_ = (call);                                                            \
        if (cublas_s_ != CUBLAS_STATUS_SUCCESS)                                                       \
            cuda_check_fail(__FILE__, __LINE__, "cuBLAS", #call, (int)cublas_s_,                       \
                            cublasGetStatusString(cublas_s_));                                        \
    } while (0)

// After a kernel launch: a bad launch configuration is reported here, at the launch site.
#define CUDA_LAUNCH_CHECK() CUDA_CHECK(cudaGetLastError())

// Blocks of `threads` covering n items, at least 1 (kernels loop with a grid stride past the cap).
static inline unsigned cuda_blocks(size_t n, unsigned threads) {
    size_t b = (n + threads - 1) / threads;
    if (b < 1) b = 1;
    if (b > 65535u * 16u) b = 65535u * 16u;
    return (unsigned)b;
}
#endif
