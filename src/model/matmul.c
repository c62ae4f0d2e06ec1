// matmul: see matmul.h.
#include "model/matmul.h"

#include <cblas.h>

#include "core/log.h"

// The BLAS int form of a product's sizes: FATAL naming the product when one does not fit.
#define MM_INTS(fn)                                                                                       \
    int r = szint_for(R, "%s: rows (R = %zu, N = %zu, K = %zu)", fn, R, N, K),                           \
        n = szint_for(N, "%s: outputs (R = %zu, N = %zu, K = %zu)", fn, R, N, K),                        \
        k = szint_for(K, "%s: inputs (R = %zu, N = %zu, K = %zu)", fn, R, N, K)

void mm_forward(float *out, const float *a, const float *w, size_t R, size_t K, size_t N, int acc) {
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
