// attention: multi-head self-attention, one (cell, head) block at a time (see layers.h).
// The (T,T) probabilities live only in a per-thread scratch; backward recomputes them from qkv,
// which keeps training memory at O(B·T·C) per layer instead of O(B·NH·T²).
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"
#include "log.h"

// a (Tq,T) = softmax over rows of scale · q kᵀ for one (cell, head).
static void attention_probs(float *a, const float *q, const float *k, size_t Tq, size_t T, size_t HS,
                            size_t ld, float scale) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Tq, (int)T, (int)HS, scale, q, (int)ld, k, (int)ld,
                0.0f, a, (int)T);
    for (size_t i = 0; i < Tq; i++) {
        float *row = a + i * T;  // (T)
        float mx = row[0];
        for (size_t j = 1; j < T; j++) mx = row[j] > mx ? row[j] : mx;
        float sum = 0.0f;
        for (size_t j = 0; j < T; j++) {
            row[j] = expf(row[j] - mx);
            sum += row[j];
        }
        float inv = 1.0f / sum;
        for (size_t j = 0; j < T; j++) row[j] *= inv;
    }
}

void attention_forward(float *out, float *attn_cls, const float *qkv, size_t B, size_t T, size_t C, size_t NH,
                       size_t q0) {
    size_t HS = C / NH, Tq = T - q0, ld = 3 * C;
    float scale = 1.0f / sqrtf((float)HS);
#pragma omp parallel
    {
        float *a = xmalloc(Tq * T * sizeof(float));  // (Tq,T)
#pragma omp for schedule(static)
        for (size_t b = 0; b < B; b++) {
            const float *base = qkv + b * T * ld;  // (T,3C)
            float *ac = attn_cls ? attn_cls + b * (T - 1) : NULL;  // (T-1)
            if (ac) memset(ac, 0, (T - 1) * sizeof(float));
            for (size_t n = 0; n < NH; n++) {
                const float *q = base + q0 * ld + n * HS, *k = base + C + n * HS, *v = base + 2 * C + n * HS;
                attention_probs(a, q, k, Tq, T, HS, ld, scale);
                // y (Tq,HS) = a (Tq,T) · v (T,HS)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Tq, (int)HS, (int)T, 1.0f, a, (int)T, v,
                            (int)ld, 0.0f, out + b * Tq * C + n * HS, (int)C);
                if (ac) {
                    const float *last = a + (Tq - 1) * T;  // (T) the cls query row
                    for (size_t j = 0; j + 1 < T; j++) ac[j] += last[j] / (float)NH;
                }
            }
        }
        free(a);
    }
}

void attention_backward(float *dqkv, const float *dout, const float *qkv, size_t B, size_t T, size_t C, size_t NH,
                        size_t q0) {
    size_t HS = C / NH, Tq = T - q0, ld = 3 * C;
    float scale = 1.0f / sqrtf((float)HS);
#pragma omp parallel
    {
        float *a = xmalloc(2 * Tq * T * sizeof(float));  // (Tq,T) probabilities
        float *da = a + Tq * T;                           // (Tq,T) their gradient, then the scores'
#pragma omp for schedule(static)
        for (size_t b = 0; b < B; b++) {
            const float *base = qkv + b * T * ld;  // (T,3C)
            float *dbase = dqkv + b * T * ld;      // (T,3C)
            for (size_t n = 0; n < NH; n++) {
                size_t qo = q0 * ld + n * HS, ko = C + n * HS, vo = 2 * C + n * HS;
                const float *dy = dout + b * Tq * C + n * HS;  // (Tq,HS) row stride C
                attention_probs(a, base + qo, base + ko, Tq, T, HS, ld, scale);
                // da = dy vᵀ ; dv += aᵀ dy
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Tq, (int)T, (int)HS, 1.0f, dy, (int)C,
                            base + vo, (int)ld, 0.0f, da, (int)T);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)T, (int)HS, (int)Tq, 1.0f, a, (int)T, dy,
                            (int)C, 1.0f, dbase + vo, (int)ld);
                // softmax backward: ds = a ⊙ (da − Σ_j a da)
                for (size_t i = 0; i < Tq; i++) {
                    float *ar = a + i * T, *dr = da + i * T;  // (T), (T)
                    float dot = 0.0f;
                    for (size_t j = 0; j < T; j++) dot += ar[j] * dr[j];
                    for (size_t j = 0; j < T; j++) dr[j] = ar[j] * (dr[j] - dot);
                }
                // dq += scale ds k ; dk += scale dsᵀ q
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Tq, (int)HS, (int)T, scale, da, (int)T,
                            base + ko, (int)ld, 1.0f, dbase + qo, (int)ld);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)T, (int)HS, (int)Tq, scale, da, (int)T,
                            base + qo, (int)ld, 1.0f, dbase + ko, (int)ld);
            }
        }
        free(a);
    }
}
