// model_ref: a plain double-precision re-implementation of docs/model.md for the gradient tests.
// Written for clarity, not speed: every layer is the textbook loop, the pathway embedding works
// token by token over a dense copy of the cell, and the last layer is computed for every token.
#ifndef KIDA_MODEL_REF_H
#define KIDA_MODEL_REF_H
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/csr.h"
#include "core/log.h"
#include "core/rng.h"
#include "model/model.h"
#include "model/pathmap.h"

static inline void ref_layernorm(double *out, const double *in, const double *w, const double *b, size_t N, size_t C) {
    for (size_t n = 0; n < N; n++) {
        const double *x = in + n * C;
        double m = 0, v = 0;
        for (size_t c = 0; c < C; c++) m += x[c];
        m /= (double)C;
        for (size_t c = 0; c < C; c++) v += (x[c] - m) * (x[c] - m);
        v /= (double)C;
        for (size_t c = 0; c < C; c++) out[n * C + c] = (x[c] - m) / sqrt(v + 1e-5) * w[c] + b[c];
    }
}

static inline void ref_linear(double *out, const double *in, const double *w, const double *b, size_t N, size_t IC,
                       size_t OC) {
    for (size_t n = 0; n < N; n++)
        for (size_t o = 0; o < OC; o++) {
            double s = b ? b[o] : 0.0;
            for (size_t i = 0; i < IC; i++) s += in[n * IC + i] * w[o * IC + i];
            out[n * OC + o] = s;
        }
}

static inline void ref_gelu(double *out, const double *in, size_t N) {
    for (size_t i = 0; i < N; i++) out[i] = 0.5 * in[i] * (1.0 + erf(in[i] / sqrt(2.0)));
}

// out (B,T-q0,C); attn_cls (B,T-1) or NULL
static inline void ref_attention(double *out, double *attn_cls, const double *qkv, size_t B, size_t T, size_t C,
                          size_t NH, size_t q0) {
    size_t HS = C / NH, Tq = T - q0;
    double *s = xmalloc(T * sizeof(double));
    if (attn_cls) memset(attn_cls, 0, B * (T - 1) * sizeof(double));
    for (size_t b = 0; b < B; b++)
        for (size_t n = 0; n < NH; n++)
            for (size_t i = q0; i < T; i++) {
                const double *q = qkv + (b * T + i) * 3 * C + n * HS;
                double mx = -INFINITY, sum = 0;
                for (size_t j = 0; j < T; j++) {
                    const double *k = qkv + (b * T + j) * 3 * C + C + n * HS;
                    double d = 0;
                    for (size_t h = 0; h < HS; h++) d += q[h] * k[h];
                    s[j] = d / sqrt((double)HS);
                    if (s[j] > mx) mx = s[j];
                }
                for (size_t j = 0; j < T; j++) sum += (s[j] = exp(s[j] - mx));
                for (size_t j = 0; j < T; j++) s[j] /= sum;
                for (size_t h = 0; h < HS; h++) {
                    double y = 0;
                    for (size_t j = 0; j < T; j++) y += s[j] * qkv[(b * T + j) * 3 * C + 2 * C + n * HS + h];
                    out[(b * Tq + i - q0) * C + n * HS + h] = y;
                }
                if (attn_cls && i == T - 1)
                    for (size_t j = 0; j + 1 < T; j++) attn_cls[b * (T - 1) + j] += s[j] / (double)NH;
            }
    free(s);
}

// out (B,T,C): token j = emb_b[j] + Σ_{r∈rows(j)} (zero[g_r] + d[b,g_r]) emb_w[r]; token P = cls.
static inline void ref_pathemb(double *out, const Csr *x, const double *zero, const double *emb_w, const double *emb_b,
                        const double *cls, const PathwayMap *map, size_t C) {
    size_t B = x->n_rows, P = map->P, T = P + 1;
    double *dense = xmalloc(map->G * sizeof(double));
    for (size_t b = 0; b < B; b++) {
        memset(dense, 0, map->G * sizeof(double));
        for (int64_t k = x->indptr[b]; k < x->indptr[b + 1]; k++) dense[x->indices[k]] = x->data[k];
        for (size_t j = 0; j < P; j++)
            for (size_t c = 0; c < C; c++) {
                double s = emb_b[j * C + c];
                for (size_t r = map->path_ptr[j]; r < map->path_ptr[j + 1]; r++) {
                    size_t g = (size_t)map->member_gene[r];
                    s += (zero[g] + dense[g]) * emb_w[r * C + c];
                }
                out[(b * T + j) * C + c] = s;
            }
        for (size_t c = 0; c < C; c++) out[(b * T + P) * C + c] = cls[c];
    }
    free(dense);
}

// Keep flag of element i (index in the cell's (T,C) tensor) of cell c, from the spec's formula.
static inline int ref_keep(uint64_t seed, uint64_t step, size_t l, size_t site, int64_t cell, size_t i, double p) {
    return !(rng_uniform(seed, model_dropout_stream(step, l, site), (uint64_t)cell, i) < p);
}

// The whole network for B cells, every token of every layer. params: the flat buffer in double.
// Outputs logits (B,K), emb (B,C), attn (B,P); any may be NULL.
static inline void ref_model_forward(double *logits, double *emb, double *attn, const double *params, const ModelConfig *c,
                              const PathwayMap *map, const Csr *x, const double *zero, const int64_t *cell_ids,
                              uint64_t step, uint64_t seed, double p) {
    size_t sizes[N_PARAM_TENSORS], off[N_PARAM_TENSORS], o = 0;
    model_param_shapes(c, sizes);
    for (size_t i = 0; i < N_PARAM_TENSORS; i++) off[i] = o, o += sizes[i];
    const double *W[N_PARAM_TENSORS];
    for (size_t i = 0; i < N_PARAM_TENSORS; i++) W[i] = params + off[i];
    size_t B = x->n_rows, T = c->T, C = c->C, F = c->F, P = c->P, BT = B * T;
    double *xs = xmalloc(BT * C * sizeof(double)), *h = xmalloc(BT * C * sizeof(double));
    double *qkv = xmalloc(BT * 3 * C * sizeof(double)), *y = xmalloc(BT * C * sizeof(double));
    double *z = xmalloc(BT * C * sizeof(double)), *f = xmalloc(BT * F * sizeof(double));
    double *at = xmalloc(B * P * sizeof(double));
    ref_pathemb(xs, x, zero, W[0], W[1], W[2], map, C);
    for (size_t l = 0; l < c->L; l++) {
        ref_layernorm(h, xs, W[3] + l * C, W[4] + l * C, BT, C);
        ref_linear(qkv, h, W[5] + l * 3 * C * C, W[6] + l * 3 * C, BT, C, 3 * C);
        ref_attention(y, at, qkv, B, T, C, c->NH, 0);
        ref_linear(z, y, W[7] + l * C * C, W[8] + l * C, BT, C, C);
        for (size_t b = 0; b < B; b++)
            for (size_t i = 0; i < T * C; i++) {
                double s = p > 0 ? (ref_keep(seed, step, l, 0, cell_ids[b], i, p) ? 1.0 / (1.0 - p) : 0.0) : 1.0;
                xs[b * T * C + i] += s * z[b * T * C + i];
            }
        ref_layernorm(h, xs, W[9] + l * C, W[10] + l * C, BT, C);
        ref_linear(f, h, W[11] + l * F * C, W[12] + l * F, BT, C, F);
        ref_gelu(f, f, BT * F);
        ref_linear(z, f, W[13] + l * C * F, W[14] + l * C, BT, F, C);
        for (size_t b = 0; b < B; b++)
            for (size_t i = 0; i < T * C; i++) {
                double s = p > 0 ? (ref_keep(seed, step, l, 1, cell_ids[b], i, p) ? 1.0 / (1.0 - p) : 0.0) : 1.0;
                xs[b * T * C + i] += s * z[b * T * C + i];
            }
    }
    double *e = xmalloc(B * C * sizeof(double)), *cl = xmalloc(B * C * sizeof(double));
    double *h1 = xmalloc(B * C * sizeof(double));
    for (size_t b = 0; b < B; b++) memcpy(cl + b * C, xs + (b * T + P) * C, C * sizeof(double));
    ref_layernorm(e, cl, W[15], W[16], B, C);
    ref_linear(h1, e, W[17], W[18], B, C, C);
    ref_gelu(h1, h1, B * C);
    if (logits) ref_linear(logits, h1, W[19], W[20], B, C, c->K);
    if (emb) memcpy(emb, e, B * C * sizeof(double));
    if (attn) memcpy(attn, at, B * P * sizeof(double));
    free(xs), free(h), free(qkv), free(y), free(z), free(f), free(at), free(e), free(cl), free(h1);
}
#endif
