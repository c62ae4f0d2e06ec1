// matmul: see matmul.h.
#include "model/matmul.h"

#include <cblas.h>

void mm_forward(float *out, const float *a, const float *w, size_t R, size_t K, size_t N, int acc) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)R, (int)N, (int)K, 1.0f, a, (int)K, w, (int)K,
                acc ? 1.0f : 0.0f, out, (int)N);
}

void mm_backward_data(float *out, const float *d, const float *w, size_t R, size_t N, size_t K, int acc) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)R, (int)K, (int)N, 1.0f, d, (int)N, w, (int)K,
                acc ? 1.0f : 0.0f, out, (int)K);
}

void mm_backward_weight(float *out, const float *d, const float *x, size_t R, size_t N, size_t K) {
    if (R == 1) {  // an outer product (the cls-only last layer, the head)
        for (size_t n = 0; n < N; n++)
            for (size_t k = 0; k < K; k++) out[n * K + k] = d[n] * x[k];
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)N, (int)K, (int)R, 1.0f, d, (int)N, x, (int)K, 0.0f, out,
                (int)K);
}
