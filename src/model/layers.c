// layers: LayerNorm, linear, GELU, residual with dropout, row gather/scatter (see layers.h).
// The pathway embedding lives in pathemb.c, attention in attention.c.
#include "model/layers.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/log.h"
#include "core/rng.h"
#include "model/vecmath.h"

// This thread's share [*lo, *hi) of n items, inside a parallel region.
static void thread_range(size_t n, size_t *lo, size_t *hi) {
#ifdef _OPENMP
    size_t nt = (size_t)omp_get_num_threads(), t = (size_t)omp_get_thread_num();
#else
    size_t nt = 1, t = 0;
#endif
    *lo = n * t / nt;
    *hi = n * (t + 1) / nt;
}

// ---- LayerNorm

void layernorm_forward(float *out, float *mean, float *rstd, const float *in, const float *w, const float *b,
                       size_t N, size_t C) {
#pragma omp parallel for schedule(static)
    for (size_t n = 0; n < N; n++) {
        const float *x = in + n * C;  // (C)
        float *o = out + n * C;       // (C)
        float m = 0.0f;
        for (size_t c = 0; c < C; c++) m += x[c];
        m /= (float)C;
        float v = 0.0f;
        for (size_t c = 0; c < C; c++) v += (x[c] - m) * (x[c] - m);
        v /= (float)C;
        float s = 1.0f / sqrtf(v + 1e-5f);
        for (size_t c = 0; c < C; c++) o[c] = (x[c] - m) * s * w[c] + b[c];
        mean[n] = m;
        rstd[n] = s;
    }
}

void layernorm_backward_cells(float *din, float *dw, float *db, size_t ldc, const float *dout, const float *in,
                              const float *mean, const float *rstd, const float *w, size_t B, size_t R, size_t C) {
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t cell = 0; cell < B; cell++) {
        float *pdw = dw + cell * ldc, *pdb = db + cell * ldc;  // (C), (C)
        memset(pdw, 0, C * sizeof(float));
        memset(pdb, 0, C * sizeof(float));
        for (size_t n = cell * R; n < (cell + 1) * R; n++) {
            const float *x = in + n * C, *dy = dout + n * C;  // (C), (C)
            float *dx = din + n * C;                          // (C)
            float m = mean[n], s = rstd[n];
            // xhat = (x - m) s; dxhat = dy w; dx = s (dxhat - mean(dxhat) - xhat mean(dxhat xhat))
            float mdx = 0.0f, mdxx = 0.0f;
            for (size_t c = 0; c < C; c++) {
                float xh = (x[c] - m) * s, dxh = dy[c] * w[c];
                mdx += dxh;
                mdxx += dxh * xh;
                pdw[c] += dy[c] * xh;
                pdb[c] += dy[c];
            }
            mdx /= (float)C;
            mdxx /= (float)C;
            for (size_t c = 0; c < C; c++) {
                float xh = (x[c] - m) * s;
                dx[c] += s * (dy[c] * w[c] - mdx - xh * mdxx);
            }
        }
    }
}

void layernorm_backward(float *din, float *dw, float *db, const float *dout, const float *in, const float *mean,
                        const float *rstd, const float *w, size_t N, size_t C) {
    float *part = xmalloc(2 * C * sizeof(float));  // (2,C) dw | db of the N rows as one cell
    layernorm_backward_cells(din, part, part + C, 2 * C, dout, in, mean, rstd, w, 1, N, C);
    for (size_t c = 0; c < C; c++) {
        dw[c] += part[c];
        db[c] += part[C + c];
    }
    free(part);
}

// ---- linear: one single-threaded sgemm per cell and product, cells handed out to the threads
// dynamically. Every call for a cell has the same shape whatever the batch, so a cell's rows do not
// depend on the other cells (OpenBLAS picks different kernels for different row counts, and those
// round differently), on the thread count or on which thread runs it.

void linear_forward_cells(float *out, const float *in, const float *w, const float *b, size_t B, size_t R, size_t IC,
                          size_t OC) {
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t cell = 0; cell < B; cell++) {
        float *o = out + cell * R * OC;  // (R,OC)
        if (b)
            for (size_t n = 0; n < R; n++) memcpy(o + n * OC, b, OC * sizeof(float));
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)R, (int)OC, (int)IC, 1.0f, in + cell * R * IC, (int)IC,
                    w, (int)IC, b ? 1.0f : 0.0f, o, (int)OC);
    }
}

void linear_forward(float *out, const float *in, const float *w, const float *b, size_t N, size_t IC, size_t OC) {
    linear_forward_cells(out, in, w, b, 1, N, IC, OC);
}

void linear_backward_cells(float *din, float *dw, float *db, size_t ldc, const float *dout, const float *in,
                           const float *w, size_t B, size_t R, size_t IC, size_t OC) {
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t cell = 0; cell < B; cell++) {
        const float *dy = dout + cell * R * OC, *x = in + cell * R * IC;  // (R,OC), (R,IC)
        if (din)  // din (R,IC) += dy (R,OC) · w (OC,IC)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)R, (int)IC, (int)OC, 1.0f, dy, (int)OC, w,
                        (int)IC, 1.0f, din + cell * R * IC, (int)IC);
        // dw (OC,IC) = dyᵀ · x
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)OC, (int)IC, (int)R, 1.0f, dy, (int)OC, x, (int)IC,
                    0.0f, dw + cell * ldc, (int)IC);
        if (db) {
            float *g = db + cell * ldc;  // (OC)
            memcpy(g, dy, OC * sizeof(float));
            for (size_t n = 1; n < R; n++)
                for (size_t o = 0; o < OC; o++) g[o] += dy[n * OC + o];
        }
    }
}

void linear_backward(float *din, float *dw, float *db, const float *dout, const float *in, const float *w,
                     size_t N, size_t IC, size_t OC) {
    float *part = xmalloc((OC * IC + OC) * sizeof(float));  // dw | db of the N rows as one cell
    linear_backward_cells(din, part, db ? part + OC * IC : NULL, OC * IC + OC, dout, in, w, 1, N, IC, OC);
    for (size_t i = 0; i < OC * IC; i++) dw[i] += part[i];
    if (db)
        for (size_t o = 0; o < OC; o++) db[o] += part[OC * IC + o];
    free(part);
}

// ---- GELU (exact): x Φ(x) = 0.5 x (1 + erf(x / sqrt 2)); derivative Φ(x) + x φ(x)

VEC_CLONES static void gelu_forward_span(float *out, const float *in, size_t n) {  // may run in place
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float phi, x = in[i];
        out[i] = x * vm_normcdf(x, &phi);
    }
}

VEC_CLONES static void gelu_backward_span(float *restrict din, const float *restrict dout, const float *restrict in,
                                          size_t n) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float phi, x = in[i];
        float cdf = vm_normcdf(x, &phi);
        din[i] += dout[i] * (cdf + x * phi);
    }
}

void gelu_forward(float *out, const float *in, size_t N) {
#pragma omp parallel
    {
        size_t i0, i1;
        thread_range(N, &i0, &i1);
        gelu_forward_span(out + i0, in + i0, i1 - i0);
    }
}

void gelu_backward(float *din, const float *dout, const float *in, size_t N) {
#pragma omp parallel
    {
        size_t i0, i1;
        thread_range(N, &i0, &i1);
        gelu_backward_span(din + i0, dout + i0, in + i0, i1 - i0);
    }
}

// ---- residual with inverted dropout

void residual_forward(float *out, uint8_t *keep, const float *res, const float *y, const int64_t *cell_ids,
                      uint64_t seed, uint64_t stream, float p, size_t B, size_t N, size_t i0) {
    if (p <= 0.0f) {
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < B * N; i++) out[i] = res[i] + y[i];
        return;
    }
    float scale = 1.0f / (1.0f - p);
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < B; b++) {
        uint64_t cell = (uint64_t)cell_ids[b];
        for (size_t i = 0; i < N; i++) {
            size_t k = b * N + i;
            uint8_t kp = rng_uniform(seed, stream, cell, i0 + i) >= p;
            keep[k] = kp;
            out[k] = res[k] + (kp ? y[k] * scale : 0.0f);
        }
    }
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
