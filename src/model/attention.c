// attention: multi-head self-attention, one (cell, head) block at a time (see layers.h).
// Head sizes that are a multiple of 8 (HS = 16 at paper shapes) use the register-tiled kernels of
// attention_tiles.c. Other sizes take the BLAS path below: each head's q, k, v are first copied into a small contiguous scratch (BLAS packs strided
// operands slowly when the inner dimension is HS = 16); the products are single-threaded sgemm
// calls and the softmax is a vectorised loop (libm's expf, one call per element, used to be
// most of the time). The (T,T) probabilities live only in that scratch: backward recomputes
// them, which keeps training memory at O(B·T·C) per layer instead of O(B·NH·T²).
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "model/attention_tiles.h"
#include "model/layers.h"
#include "model/vecmath.h"

// Per-thread scratch for one (cell, head).
typedef struct {
    float *q;   // (Tq,HS) queries, scaled by 1/sqrt(HS)
    float *k;   // (T,HS)
    float *v;   // (T,HS)
    float *a;   // (Tq,T) probabilities
    float *da;  // (Tq,T) their gradient, then the scores' (backward only)
} HeadScratch;

static HeadScratch scratch_alloc(size_t T, size_t Tq, size_t HS, int backward) {
    float *mem = xmalloc(((Tq + 2 * T) * HS + (backward ? 2 : 1) * Tq * T) * sizeof(float));
    HeadScratch s = {.q = mem, .k = mem + Tq * HS, .v = mem + (Tq + T) * HS, .a = mem + (Tq + 2 * T) * HS};
    s.da = backward ? s.a + Tq * T : NULL;
    return s;
}

// Copies head n of one cell's qkv (T,3C) into the scratch: q rows q0.. (scaled), all k and v rows.
static void head_load(HeadScratch *s, const float *qkv, size_t T, size_t C, size_t HS, size_t n, size_t q0,
                      float scale) {
    for (size_t t = 0; t < T; t++) {
        const float *row = qkv + t * 3 * C + n * HS;  // (HS) of q; k at +C, v at +2C
        memcpy(s->k + t * HS, row + C, HS * sizeof(float));
        memcpy(s->v + t * HS, row + 2 * C, HS * sizeof(float));
        if (t >= q0)
            for (size_t h = 0; h < HS; h++) s->q[(t - q0) * HS + h] = row[h] * scale;
    }
}

// In place: every row of a (rows,T) becomes its softmax.
VEC_CLONES static void softmax_rows(float *a, size_t rows, size_t T) {
    for (size_t i = 0; i < rows; i++) {
        float *row = a + i * T;  // (T)
        float mx = row[0];
#pragma omp simd reduction(max : mx)
        for (size_t j = 1; j < T; j++) mx = row[j] > mx ? row[j] : mx;
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (size_t j = 0; j < T; j++) {
            row[j] = vm_expf(row[j] - mx);
            sum += row[j];
        }
        float inv = 1.0f / sum;
#pragma omp simd
        for (size_t j = 0; j < T; j++) row[j] *= inv;
    }
}

// In place: da (rows,T), the gradient of softmax outputs a, becomes the scores' gradient
// a ⊙ (da − Σ_j a da), row by row.
VEC_CLONES static void softmax_backward_rows(float *da, const float *a, size_t rows, size_t T) {
    for (size_t i = 0; i < rows; i++) {
        float *d = da + i * T;
        const float *p = a + i * T;
        float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (size_t j = 0; j < T; j++) dot += p[j] * d[j];
#pragma omp simd
        for (size_t j = 0; j < T; j++) d[j] = p[j] * (d[j] - dot);
    }
}

// a (Tq,T) = softmax(q kᵀ) of the loaded head.
static void head_probs(HeadScratch *s, size_t T, size_t Tq, size_t HS) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Tq, (int)T, (int)HS, 1.0f, s->q, (int)HS, s->k, (int)HS,
                0.0f, s->a, (int)T);
    softmax_rows(s->a, Tq, T);
}

void attention_forward(float *out, float *attn_cls, const float *qkv, size_t B, size_t T, size_t C, size_t NH,
                       size_t q0) {
    size_t HS = C / NH, Tq = T - q0;
    float scale = 1.0f / sqrtf((float)HS);
    int tiled = tiles_supported(HS);
#pragma omp parallel
    {
        HeadScratch s = {0};
        TileScratch ts = {0};
        if (tiled) ts = tiles_alloc(T, Tq, HS);
        else s = scratch_alloc(T, Tq, HS, 0);
        float *cls = xmalloc(T * sizeof(float));  // (T) probabilities of the cls query row
#pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < B; b++) {
            float *ac = attn_cls ? attn_cls + b * (T - 1) : NULL;  // (T-1)
            if (ac) memset(ac, 0, (T - 1) * sizeof(float));
            for (size_t n = 0; n < NH; n++) {
                float *y = out + b * Tq * C + n * HS;  // (Tq,HS) row stride C
                if (tiled) {
                    tiles_head_forward(y, C, ac ? cls : NULL, &ts, qkv + b * T * 3 * C, C, n, q0);
                } else {
                    head_load(&s, qkv + b * T * 3 * C, T, C, HS, n, q0, scale);
                    head_probs(&s, T, Tq, HS);
                    // y (Tq,HS) = a (Tq,T) · v (T,HS), straight into the output rows
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Tq, (int)HS, (int)T, 1.0f, s.a,
                                (int)T, s.v, (int)HS, 0.0f, y, (int)C);
                    memcpy(cls, s.a + (Tq - 1) * T, T * sizeof(float));
                }
                if (ac)
                    for (size_t j = 0; j + 1 < T; j++) ac[j] += cls[j] / (float)NH;
            }
        }
        if (tiled) tiles_free(&ts);
        else free(s.q);
        free(cls);
    }
}

void attention_backward(float *dqkv, const float *dout, const float *qkv, size_t B, size_t T, size_t C, size_t NH,
                        size_t q0) {
    size_t HS = C / NH, Tq = T - q0, ld = 3 * C;
    float scale = 1.0f / sqrtf((float)HS);
    int tiled = tiles_supported(HS);
#pragma omp parallel
    {
        HeadScratch s = {0};
        TileScratch ts = {0};
        if (tiled) ts = tiles_alloc(T, Tq, HS);
        else s = scratch_alloc(T, Tq, HS, 1);
#pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < B; b++) {
            float *db = dqkv + b * T * ld;                      // (T,3C)
            for (size_t n = 0; n < NH; n++) {
                const float *dy = dout + b * Tq * C + n * HS;  // (Tq,HS) row stride C
                if (tiled) {
                    tiles_head_backward(db, dy, C, &ts, qkv + b * T * ld, C, n, q0);
                    continue;
                }
                float *dq = db + q0 * ld + n * HS, *dk = db + C + n * HS, *dv = db + 2 * C + n * HS;  // stride 3C
                head_load(&s, qkv + b * T * ld, T, C, HS, n, q0, scale);
                head_probs(&s, T, Tq, HS);
                // da = dy vᵀ ; dv += aᵀ dy
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Tq, (int)T, (int)HS, 1.0f, dy, (int)C, s.v,
                            (int)HS, 0.0f, s.da, (int)T);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)T, (int)HS, (int)Tq, 1.0f, s.a, (int)T, dy,
                            (int)C, 1.0f, dv, (int)ld);
                softmax_backward_rows(s.da, s.a, Tq, T);
                // dq += scale ds k ; dk += dsᵀ (scale q)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Tq, (int)HS, (int)T, scale, s.da, (int)T,
                            s.k, (int)HS, 1.0f, dq, (int)ld);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)T, (int)HS, (int)Tq, 1.0f, s.da, (int)T, s.q,
                            (int)HS, 1.0f, dk, (int)ld);
            }
        }
        if (tiled) tiles_free(&ts);
        else free(s.q);
    }
}
