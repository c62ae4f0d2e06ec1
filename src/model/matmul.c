// matmul: see matmul.h.
#include "model/matmul.h"

#include <cblas.h>
#include <string.h>

#include "core/cpu.h"
#include "core/log.h"
#include "model/matmul_bf16.h"

static MmPrecision g_prec = MM_FP32;

int mm_bf16_ok(void) { return mm_bf16_build() && cpu_bf16() >= 1; }

void mm_set_precision(MmPrecision p) {
    if (p == MM_BF16 && !mm_bf16_ok())
        FATAL(mm_bf16_build() ? "run with --precision fp32: this CPU has neither AMX-BF16 nor AVX512-BF16"
                              : "rebuild kida with oneDNN (apt-get install libdnnl-dev, then ./configure) or run "
                                "with --precision fp32",
              "--precision bf16 is not available on this %s", mm_bf16_build() ? "CPU" : "build");
    if (p != MM_BF16 && g_prec == MM_BF16) mm_bf16_release();
    g_prec = p;
}

MmPrecision mm_precision(void) { return g_prec; }

void mm_choose_precision(const char *precision, const Dist *d) {
    int want_bf16 = !strcmp(precision, "bf16"), want_auto = !strcmp(precision, "auto");
    // per rank: can it run bf16 products, and has it AMX (where bf16 pays)
    double lack[2] = {mm_bf16_ok() ? 0.0 : 1.0, mm_bf16_ok() && cpu_bf16() == 2 ? 0.0 : 1.0};
    if (want_bf16 || want_auto) dist_allreduce_max_f64(d, lack, 2);
    if (want_bf16 && lack[0] > 0.0 && mm_bf16_ok())
        FATAL("run with --precision fp32 or auto: every rank must run bf16 products to compute the same bits",
              "--precision bf16: some rank has no bf16 products (a CPU without AMX-BF16/AVX512-BF16, or a "
              "build without oneDNN)");
    mm_set_precision(want_bf16 || (want_auto && lack[1] == 0.0) ? MM_BF16 : MM_FP32);
    log_info("CPU products: %s", mm_precision_desc());
}

const char *mm_precision_desc(void) {
    if (g_prec == MM_FP32) return "fp32 (OpenBLAS sgemm)";
    return cpu_bf16() == 2 ? "bf16 inputs, fp32 accumulation (oneDNN, AMX-BF16)"
                              : "bf16 inputs, fp32 accumulation (oneDNN, AVX512-BF16)";
}

void mm_weights_changed(const float *base, size_t n) {
    if (g_prec == MM_BF16) mm_bf16_weights(base, n);
}

// The BLAS int form of a product's sizes: FATAL naming the product when one does not fit.
#define MM_INTS(fn)                                                                                       \
    int r = szint_for(R, "%s: rows (R = %zu, N = %zu, K = %zu)", fn, R, N, K),                           \
        n = szint_for(N, "%s: outputs (R = %zu, N = %zu, K = %zu)", fn, R, N, K),                        \
        k = szint_for(K, "%s: inputs (R = %zu, N = %zu, K = %zu)", fn, R, N, K)

void mm_forward(float *out, const float *a, const float *w, size_t R, size_t K, size_t N, int acc) {
    if (g_prec == MM_BF16 && R > 1) {
        mm_bf16_forward(out, a, w, R, K, N, acc);
        return;
    }
    MM_INTS("mm_forward");
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r, n, k, 1.0f, a, k, w, k, acc ? 1.0f : 0.0f, out, n);
}

void mm_backward_data(float *out, const float *d, const float *w, size_t R, size_t N, size_t K, int acc) {
    MM_INTS("mm_backward_data");
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r, k, n, 1.0f, d, n, w, k, acc ? 1.0f : 0.0f, out, k);
}

void mm_backward_weight(float *out, const float *d, const float *x, size_t R, size_t N, size_t K) {
    if (R == 1) {  // an outer product (the cls-only last layer, the head)
        for (size_t n = 0; n < N; n++)
            for (size_t k = 0; k < K; k++) out[n * K + k] = d[n] * x[k];
        return;
    }
    MM_INTS("mm_backward_weight");
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, k, r, 1.0f, d, n, x, k, 0.0f, out, k);
}

void mm_backward_linear(float *din, float *dw, const float *d, const float *x, const float *w, size_t R, size_t N,
                        size_t K) {
    if (g_prec == MM_BF16 && R > 1) {
        mm_bf16_backward_linear(din, dw, d, x, w, R, N, K);
        return;
    }
    mm_backward_weight(dw, d, x, R, N, K);
    mm_backward_data(din, d, w, R, N, K, 0);
}
