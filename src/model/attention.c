// attention: multi-head self-attention, one (cell, head) at a time (see layers.h).
// Head sizes that are a multiple of 8 (HS = 16 at paper shapes) use the register-tiled kernels of
// the vector path (kern.h: head_forward / head_backward). Other sizes take the BLAS path below:
// each head's q, k, v are first copied into a small contiguous scratch (BLAS packs strided operands
// slowly when the inner dimension is HS = 16); the products are single-threaded sgemm calls and
// the softmax is the vector path's. The (T,T) probabilities live only in that scratch: backward
// recomputes them, which keeps training memory at O(B·T·C) per layer instead of O(B·NH·T²).
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "model/kern.h"
#include "model/layers.h"

// What the size errors of one (cell, head) name.
#define HEAD_FMT "attention: %zu tokens (%zu query rows) x head size %zu"
#define HEAD_WHAT HEAD_FMT, T, Tq, HS

AttnScratch attn_scratch_alloc(size_t T, size_t Tq, size_t HS, int backward) {
    AttnScratch s = {.T = T, .Tq = Tq, .HS = HS, .tiled = tiles_supported(HS)};
    // T, Tq and HS are BLAS int arguments below ((int) casts after this check)
    szint_for(T, HEAD_WHAT), szint_for(Tq, HEAD_WHAT), szint_for(HS, HEAD_WHAT);
    s.cls = xcalloc_for(T, sizeof(float), HEAD_WHAT);
    if (s.tiled) {
        s.tiles = tiles_alloc(T, Tq, HS);
    } else {
        size_t n = szadd(szmul(szadd(Tq, szmul(2, T)), HS), szmul(backward ? 2 : 1, szmul(Tq, T)));  // q k v | a (da)
        float *mem = xmalloc_for(szmul(n, sizeof(float)), HEAD_FMT " (BLAS scratch)", T, Tq, HS);
        s.q = mem, s.k = mem + Tq * HS, s.v = mem + (Tq + T) * HS, s.a = mem + (Tq + 2 * T) * HS;
        s.da = backward ? s.a + Tq * T : NULL;
    }
    return s;
}

void attn_scratch_free(AttnScratch *s) {
    if (s->tiled) tiles_free(&s->tiles);
    else free(s->q);
    free(s->cls);
    memset(s, 0, sizeof *s);
}

// Copies head n of one cell's qkv (T,3C) into the scratch: q rows q0.. (scaled), all k and v rows.
static void head_load(AttnScratch *s, const float *qkv, size_t C, size_t n, size_t q0) {
    size_t T = s->T, HS = s->HS;
    float scale = 1.0f / sqrtf((float)HS);
    for (size_t t = 0; t < T; t++) {
        const float *row = qkv + t * 3 * C + n * HS;  // (HS) of q; k at +C, v at +2C
        memcpy(s->k + t * HS, row + C, HS * sizeof(float));
        memcpy(s->v + t * HS, row + 2 * C, HS * sizeof(float));
        if (t >= q0)
            for (size_t h = 0; h < HS; h++) s->q[(t - q0) * HS + h] = row[h] * scale;
    }
}

// a (Tq,T) = softmax(q kᵀ) of the loaded head.
static void head_probs(AttnScratch *s, const Kern *k) {
    size_t T = s->T, Tq = s->Tq, HS = s->HS;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Tq, (int)T, (int)HS, 1.0f, s->q, (int)HS, s->k, (int)HS,
                0.0f, s->a, (int)T);
    k->softmax_rows(s->a, Tq, T);
}

void attention_cell_forward(float *out, float *attn_cls, const float *qkv, size_t C, size_t NH, size_t q0,
                            AttnScratch *s) {
    const Kern *k = kern();
    size_t T = s->T, Tq = s->Tq, HS = s->HS;
    int iC = szint_for(C, "attention: width %zu", C);
    if (attn_cls) memset(attn_cls, 0, (T - 1) * sizeof(float));
    for (size_t n = 0; n < NH; n++) {
        float *y = out + n * HS;  // (Tq,HS) row stride C
        if (s->tiled) {
            k->head_forward(y, C, attn_cls ? s->cls : NULL, &s->tiles, qkv, C, n, q0);
        } else {
            head_load(s, qkv, C, n, q0);
            head_probs(s, k);
            // y (Tq,HS) = a (Tq,T) · v (T,HS), straight into the output rows
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Tq, (int)HS, (int)T, 1.0f, s->a, (int)T, s->v,
                        (int)HS, 0.0f, y, iC);
            memcpy(s->cls, s->a + (Tq - 1) * T, T * sizeof(float));
        }
        if (attn_cls)
            for (size_t j = 0; j + 1 < T; j++) attn_cls[j] += s->cls[j] / (float)NH;
    }
}

void attention_cell_backward(float *dqkv, const float *dout, const float *qkv, size_t C, size_t NH, size_t q0,
                             AttnScratch *s) {
    const Kern *k = kern();
    size_t T = s->T, Tq = s->Tq, HS = s->HS, ld = 3 * C;
    int iC = szint_for(C, "attention: width %zu", C), ild = szint_for(ld, "attention: qkv row of 3 x width %zu", C);
    float scale = 1.0f / sqrtf((float)HS);
    if (!s->tiled) memset(dqkv, 0, T * ld * sizeof(float));  // the BLAS path accumulates
    for (size_t n = 0; n < NH; n++) {
        const float *dy = dout + n * HS;  // (Tq,HS) row stride C
        if (s->tiled) {
            k->head_backward(dqkv, dy, C, &s->tiles, qkv, C, n, q0);
            continue;
        }
        float *dq = dqkv + q0 * ld + n * HS, *dk = dqkv + C + n * HS, *dv = dqkv + 2 * C + n * HS;  // stride 3C
        head_load(s, qkv, C, n, q0);
        head_probs(s, k);
        // da = dy vᵀ ; dv += aᵀ dy
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Tq, (int)T, (int)HS, 1.0f, dy, iC, s->v, (int)HS,
                    0.0f, s->da, (int)T);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)T, (int)HS, (int)Tq, 1.0f, s->a, (int)T, dy, iC,
                    1.0f, dv, ild);
        k->softmax_backward_rows(s->da, s->a, Tq, T);
        // dq += scale ds k ; dk += dsᵀ (scale q)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Tq, (int)HS, (int)T, scale, s->da, (int)T, s->k,
                    (int)HS, 1.0f, dq, ild);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)T, (int)HS, (int)Tq, 1.0f, s->da, (int)T, s->q,
                    (int)HS, 1.0f, dk, ild);
    }
}

void attention_forward(float *out, float *attn_cls, const float *qkv, size_t B, size_t T, size_t C, size_t NH,
                       size_t q0) {
    size_t Tq = T - q0;
#pragma omp parallel
    {
        AttnScratch s = attn_scratch_alloc(T, Tq, C / NH, 0);
#pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < B; b++)
            attention_cell_forward(out + b * Tq * C, attn_cls ? attn_cls + b * (T - 1) : NULL, qkv + b * T * 3 * C, C,
                                   NH, q0, &s);
        attn_scratch_free(&s);
    }
}

void attention_backward(float *dqkv, const float *dout, const float *qkv, size_t B, size_t T, size_t C, size_t NH,
                        size_t q0) {
    size_t Tq = T - q0;
#pragma omp parallel
    {
        AttnScratch s = attn_scratch_alloc(T, Tq, C / NH, 1);
        float *g = xmalloc_for(szmul(szmul(T, 3 * C), sizeof(float)),  // (T,3C) one cell's gradient: the plain form accumulates
                               "attention_backward: %zu tokens x 3 x width %zu", T, C);
#pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < B; b++) {
            float *d = dqkv + b * T * 3 * C;
            attention_cell_backward(g, dout + b * Tq * C, qkv + b * T * 3 * C, C, NH, q0, &s);
            for (size_t i = 0; i < T * 3 * C; i++) {
                size_t t = i / (3 * C);
                if (t >= q0 || i % (3 * C) >= C) d[i] += g[i];  // rows < q0 of q: untouched, as documented
            }
        }
        free(g);
        attn_scratch_free(&s);
    }
}
