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

static int n_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
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

void layernorm_backward(float *din, float *dw, float *db, const float *dout, const float *in, const float *mean,
                        const float *rstd, const float *w, size_t N, size_t C) {
    int nt = n_threads();
    float *part = xcalloc((size_t)nt * 2 * C, sizeof(float));  // (nt,2,C) per-thread dw | db
#pragma omp parallel
    {
#ifdef _OPENMP
        float *pdw = part + (size_t)omp_get_thread_num() * 2 * C;  // (C)
#else
        float *pdw = part;
#endif
        float *pdb = pdw + C;  // (C)
        size_t n0, n1;
        thread_range(N, &n0, &n1);
        for (size_t n = n0; n < n1; n++) {
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
    for (int t = 0; t < nt; t++)  // fixed order: the sum does not depend on scheduling
        for (size_t c = 0; c < C; c++) {
            dw[c] += part[(size_t)t * 2 * C + c];
            db[c] += part[(size_t)t * 2 * C + C + c];
        }
    free(part);
}

// ---- linear: rows are cut into chunks, each a single-threaded sgemm. About four chunks per thread,
// handed out dynamically, so a thread that loses its core for a while does not hold the others at
// the barrier; a chunk's result does not depend on which thread computes it.

// Number of chunks for n items, at least min items each.
static size_t n_chunks(size_t n, size_t min) {
    size_t k = 4 * (size_t)n_threads();
    if (n / min < k) k = n / min;
    return k ? k : 1;
}

void linear_forward(float *out, const float *in, const float *w, const float *b, size_t N, size_t IC, size_t OC) {
    size_t nc = n_chunks(N, 256);
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t k = 0; k < nc; k++) {
        size_t n0 = N * k / nc, n1 = N * (k + 1) / nc;
        if (n1 == n0) continue;
        if (b)
            for (size_t n = n0; n < n1; n++) memcpy(out + n * OC, b, OC * sizeof(float));
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(n1 - n0), (int)OC, (int)IC, 1.0f, in + n0 * IC,
                    (int)IC, w, (int)IC, b ? 1.0f : 0.0f, out + n0 * OC, (int)OC);
    }
}

void linear_backward(float *din, float *dw, float *db, const float *dout, const float *in, const float *w,
                     size_t N, size_t IC, size_t OC) {
    size_t nc = din ? n_chunks(N, 256) : 0, oc = n_chunks(OC, 16);
#pragma omp parallel
    {
#pragma omp for schedule(dynamic, 1) nowait
        for (size_t k = 0; k < nc; k++) {  // din (N,IC) += dout (N,OC) · w (OC,IC), by rows
            size_t n0 = N * k / nc, n1 = N * (k + 1) / nc;
            if (n1 > n0)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(n1 - n0), (int)IC, (int)OC, 1.0f,
                            dout + n0 * OC, (int)OC, w, (int)IC, 1.0f, din + n0 * IC, (int)IC);
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t k = 0; k < oc; k++) {  // dw[o0:o1] (.,IC) += dout[:, o0:o1]ᵀ · in (N,IC), by output rows
            size_t o0 = OC * k / oc, o1 = OC * (k + 1) / oc;
            if (o1 == o0) continue;
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(o1 - o0), (int)IC, (int)N, 1.0f, dout + o0,
                        (int)OC, in, (int)IC, 1.0f, dw + o0 * IC, (int)IC);
            if (db)
                for (size_t n = 0; n < N; n++) {
                    const float *d = dout + n * OC;  // (OC)
                    for (size_t o = o0; o < o1; o++) db[o] += d[o];
                }
        }
    }
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
