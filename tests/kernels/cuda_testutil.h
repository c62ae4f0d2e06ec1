// cuda_testutil: helpers of the CPU-vs-GPU tests: skip without a device, device copies, and a
// comparison that prints the worst element. A difference is measured as max_i |gpu_i - cpu_i|
// divided by max_i |cpu_i| (the tensor's scale), the measure of tests/model/model_fixtures.h.
#ifndef KIDA_CUDA_TESTUTIL_H
#define KIDA_CUDA_TESTUTIL_H
#include <cuda_runtime_api.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cuda_check.h"
#include "kernels/cuda_device.h"

// Exits 77 (skip) when no CUDA device is visible; otherwise makes device 0 current and says which.
static inline void tu_require_gpu(const char *prog) {
    int n = cuda_device_count();
    if (n <= 0) {
        printf("%s: SKIP: no CUDA device visible (cudaGetDeviceCount reports none)\n", prog);
        exit(77);
    }
    char name[256];
    cuda_device_name(0, name, sizeof name);
    CUDA_CHECK(cudaSetDevice(0));
    printf("%s: device 0 of %d: %s\n", prog, n, name);
}

// Device copy of n bytes of host memory (host may be NULL: zeroed), complete on return (models
// run on non-blocking streams, which do not wait for the default stream's copies).
static inline void *tu_dev(const void *host, size_t bytes) {
    void *d = NULL;
    CUDA_CHECK(cudaMalloc(&d, bytes ? bytes : 1));
    if (host) CUDA_CHECK(cudaMemcpy(d, host, bytes, cudaMemcpyHostToDevice));
    else CUDA_CHECK(cudaMemset(d, 0, bytes ? bytes : 1));
    CUDA_CHECK(cudaDeviceSynchronize());
    return d;
}

static inline float *tu_devf(const float *host, size_t n) { return (float *)tu_dev(host, n * sizeof(float)); }

// Host copy of a device buffer, after the device has finished (malloc'd; caller frees).
static inline float *tu_hostf(const float *dev, size_t n) {
    float *h = (float *)xmalloc((n ? n : 1) * sizeof(float));
    CUDA_CHECK(cudaDeviceSynchronize());
    CUDA_CHECK(cudaMemcpy(h, dev, n * sizeof(float), cudaMemcpyDeviceToHost));
    return h;
}

// Compares n floats of gpu (HOST copy) against cpu; prints one line; returns 1 on failure.
static inline int tu_check(const char *what, const float *gpu, const float *cpu, size_t n, double tol) {
    double worst = -1.0, scale = 1e-30;
    size_t wi = 0;
    int bad_value = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)gpu[i] - (double)cpu[i]);
        if (isnan(d) || isinf(d)) {
            if (!bad_value) wi = i;
            bad_value = 1;
            continue;
        }
        if (d > worst) {
            worst = d;
            if (!bad_value) wi = i;
        }
        if (fabs((double)cpu[i]) > scale) scale = fabs((double)cpu[i]);
    }
    double rel = bad_value ? INFINITY : (worst < 0 ? 0.0 : worst / scale);
    int fail = !(rel <= tol);
    printf("  %-44s n=%-9zu rel %.2e (tol %.0e)  worst [%zu] gpu %.9g cpu %.9g  %s\n", what, n, rel, tol, wi,
           n ? (double)gpu[wi] : 0.0, n ? (double)cpu[wi] : 0.0, fail ? "FAIL" : "ok");
    return fail;
}

// As tu_check for a device buffer.
static inline int tu_check_dev(const char *what, const float *gpu_dev, const float *cpu, size_t n, double tol) {
    float *g = tu_hostf(gpu_dev, n);
    int f = tu_check(what, g, cpu, n, tol);
    free(g);
    return f;
}

// Relative difference of two doubles (scale max(|b|, 1e-300)); prints; returns 1 on failure.
static inline int tu_check_scalar(const char *what, double gpu, double cpu, double tol) {
    double rel = fabs(gpu - cpu) / (fabs(cpu) > 1e-300 ? fabs(cpu) : 1e-300);
    int fail = !(rel <= tol);
    printf("  %-44s gpu %.15g cpu %.15g rel %.2e (tol %.0e)  %s\n", what, gpu, cpu, rel, tol, fail ? "FAIL" : "ok");
    return fail;
}

// Counts elements whose bits differ; prints the first; returns 1 if any does.
static inline int tu_check_bitwise(const char *what, const float *gpu, const float *cpu, size_t n) {
    size_t diff = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (memcmp(gpu + i, cpu + i, sizeof(float)) != 0) {
            if (!diff) first = i;
            diff++;
        }
    printf("  %-44s n=%-9zu %zu element(s) differ in bits%s", what, n, diff, diff ? "" : "  ok\n");
    if (diff) printf(", first [%zu] gpu %.9g cpu %.9g  FAIL\n", first, (double)gpu[first], (double)cpu[first]);
    return diff != 0;
}
#endif
