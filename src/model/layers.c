// layers: the plain (whole-batch) forms of LayerNorm, linear, GELU, residual with dropout and the
// row gather/scatter (see layers.h), over the vector path's kernels (kern.h). The model runs the
// same kernels cell by cell (model.c); these forms serve the layer tests, the benchmark's
// per-layer profile and the CPU side of the CUDA tests. The pathway embedding lives in pathemb.c,
// attention in attention.c.
#include "model/layers.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "model/kern.h"

enum { ROWS = 64 };  // rows per parallel chunk

// ---- LayerNorm

void layernorm_forward(float *out, float *mean, float *rstd, const float *in, const float *w, const float *b,
                       size_t N, size_t C) {
    const Kern *k = kern();
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < N; r += ROWS) {
        size_t n = N - r < ROWS ? N - r : ROWS;
        k->ln_forward(out + r * C, mean + r, rstd + r, in + r * C, w, b, n, C);
    }
}

void layernorm_backward(float *din, float *dw, float *db, const float *dout, const float *in, const float *mean,
                        const float *rstd, const float *w, size_t N, size_t C) {
    kern()->ln_backward(din, dw, db, dout, in, mean, rstd, w, N, C);
}

// ---- linear

// The BLAS int form of a linear layer's sizes: FATAL naming the layer when one does not fit.
#define LINEAR_INTS(fn)                                                                          \
    int n = szint_for(N, "%s: rows (N = %zu, IC = %zu, OC = %zu)", fn, N, IC, OC),              \
        ic = szint_for(IC, "%s: inputs (N = %zu, IC = %zu, OC = %zu)", fn, N, IC, OC),          \
        oc = szint_for(OC, "%s: outputs (N = %zu, IC = %zu, OC = %zu)", fn, N, IC, OC)

void linear_forward(float *out, const float *in, const float *w, const float *b, size_t N, size_t IC, size_t OC) {
    LINEAR_INTS("linear_forward");
    if (b)
        for (size_t r = 0; r < N; r++) memcpy(out + r * OC, b, OC * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, oc, ic, 1.0f, in, ic, w, ic, b ? 1.0f : 0.0f, out, oc);
}

void linear_backward(float *din, float *dw, float *db, const float *dout, const float *in, const float *w,
                     size_t N, size_t IC, size_t OC) {
    LINEAR_INTS("linear_backward");
    if (din)  // din (N,IC) += dout (N,OC) · w (OC,IC)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, ic, oc, 1.0f, dout, oc, w, ic, 1.0f, din, ic);
    // dw (OC,IC) += doutᵀ · in
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, oc, ic, n, 1.0f, dout, oc, in, ic, 1.0f, dw, ic);
    if (db) {
        float *s = xcalloc_for(OC, sizeof(float), "linear_backward: bias gradient of %zu outputs", OC);
        kern()->col_sums(s, dout, N, OC);
        for (size_t o = 0; o < OC; o++) db[o] += s[o];
        free(s);
    }
}

// ---- GELU

void gelu_forward(float *out, const float *in, size_t N) {
    const Kern *k = kern();
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < N; i += 4096) k->gelu_forward(out + i, in + i, N - i < 4096 ? N - i : 4096);
}

void gelu_backward(float *din, const float *dout, const float *in, size_t N) {
    const Kern *k = kern();
#pragma omp parallel
    {
        float *t = xmalloc(4096 * sizeof(float));
#pragma omp for schedule(static)
        for (size_t i = 0; i < N; i += 4096) {
            size_t n = N - i < 4096 ? N - i : 4096;
            k->gelu_backward(t, dout + i, in + i, n);
            for (size_t j = 0; j < n; j++) din[i + j] += t[j];
        }
        free(t);
    }
}

// ---- residual with inverted dropout

void residual_forward(float *out, uint8_t *keep, const float *res, const float *y, const int64_t *cell_ids,
                      uint64_t seed, uint64_t stream, float p, size_t B, size_t N, size_t i0) {
    const Kern *k = kern();
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < B; b++)
        k->residual(out + b * N, p > 0.0f ? keep + b * N : NULL, res + b * N, y + b * N, NULL,
                    p > 0.0f ? (uint64_t)cell_ids[b] : 0, seed, stream, p, 1, N, i0, NULL, NULL, NULL, NULL, NULL);
}

void residual_backward(float *dres, float *dy, const float *dout, const uint8_t *keep, float p, size_t B,
                       size_t N) {
    float scale = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
#pragma omp parallel for schedule(static)
    for (size_t k = 0; k < B * N; k++) {
        if (dres) dres[k] += dout[k];
        if (p <= 0.0f) dy[k] += dout[k];
        else if (keep[k]) dy[k] += dout[k] * scale;
    }
}

// ---- one token row per cell

void rows_gather(float *dst, const float *src, size_t B, size_t T, size_t C, size_t t) {
    for (size_t b = 0; b < B; b++) memcpy(dst + b * C, src + (b * T + t) * C, C * sizeof(float));
}

void rows_scatter_add(float *dst, const float *src, size_t B, size_t T, size_t C, size_t t) {
    for (size_t b = 0; b < B; b++)
        for (size_t c = 0; c < C; c++) dst[(b * T + t) * C + c] += src[b * C + c];
}
