// infer: see infer.h.
#include "train/infer.h"

#include <math.h>
#include <string.h>

#include "core/log.h"
#include "kernels/gpu.h"
#include "loss/losses.h"
#include "mpi/exchange.h"

static void infer_cpu(Predictions *pp, size_t at, const ModelConfig *cfg, const PathwayMap *map, const float *gene_zero,
                      const float *params, const Csr *x, size_t batch);
static void finish(Predictions *pp, size_t at, size_t n);

Predictions predictions_alloc(size_t n, const ModelConfig *cfg) {
    size_t K = cfg->K, C = cfg->C, P = cfg->P;
    Predictions p = {.n = n, .K = K, .C = C, .P = P};
    size_t n1 = n ? n : 1;
#define PRED_WHAT "predictions of %zu cells x %zu classes, width %zu, %zu pathways", n, K, C, P
    p.logits = xmalloc_for(szmul(szmul(n1, K), sizeof(float)), PRED_WHAT);
    p.probs = xmalloc_for(szmul(szmul(n1, K), sizeof(float)), PRED_WHAT);
    p.entropy = xmalloc_for(szmul(n1, sizeof(float)), PRED_WHAT);
    p.conf = xmalloc_for(szmul(n1, sizeof(float)), PRED_WHAT);
    p.pred = xmalloc_for(szmul(n1, sizeof(int32_t)), PRED_WHAT);
    p.emb = xmalloc_for(szmul(szmul(n1, C), sizeof(float)), PRED_WHAT);
    p.attn = xmalloc_for(szmul(szmul(n1, P), sizeof(float)), PRED_WHAT);
#undef PRED_WHAT
    return p;
}

void infer_into(Predictions *p, size_t at, const ModelConfig *cfg, const PathwayMap *map, const float *gene_zero,
                const float *params, const Csr *x, size_t batch, int gpu) {
    size_t n = x->n_rows;
    if (at + n > p->n) FATAL("a bug in kida", "infer_into: cells [%zu, %zu) past the %zu outputs", at, at + n, p->n);
    if (n == 0) return;
    if (gpu)
        model_cuda_infer(p->logits + at * p->K, p->emb + at * p->C, p->attn + at * p->P, cfg, map, gene_zero, params, x,
                         INFER_GPU_BATCH, gpu == GPU_TF32);
    else infer_cpu(p, at, cfg, map, gene_zero, params, x, batch);
    finish(p, at, n);
}

Predictions infer_rows(const ModelConfig *cfg, const PathwayMap *map, const float *gene_zero, const float *params,
                       const Csr *x, size_t batch, int gpu) {
    Predictions p = predictions_alloc(x->n_rows, cfg);
    infer_into(&p, 0, cfg, map, gene_zero, params, x, batch, gpu);
    return p;
}

// The CPU loop: model_forward over batches of rows into p's logits, emb and attn from cell at on.
static void infer_cpu(Predictions *pp, size_t at, const ModelConfig *cfg, const PathwayMap *map, const float *gene_zero,
                      const float *params, const Csr *x, size_t batch) {
    Predictions p = *pp;
    p.logits += at * cfg->K;
    p.emb += at * cfg->C;
    p.attn += at * cfg->P;
    size_t n = x->n_rows, K = cfg->K, C = cfg->C, P = cfg->P;
    if (batch > n) batch = n;
    Model m;
    model_init(&m, cfg, map, batch, 0);
    memcpy(m.params, params, m.n_params * sizeof(float));
    memcpy(m.gene_zero, gene_zero, cfg->G * sizeof(float));
    for (size_t s = 0; s < n; s += batch) {
        size_t b = n - s < batch ? n - s : batch;
        Csr xb = csr_slice(x, s, b);
        model_forward(&m, &xb, NULL, 0, 0);
        memcpy(p.logits + s * K, m.logits, b * K * sizeof(float));
        memcpy(p.emb + s * C, m.embedding, b * C * sizeof(float));
        memcpy(p.attn + s * P, m.attn, b * P * sizeof(float));
        csr_free(&xb);
    }
    model_free(&m);
}

// Probabilities, predicted class, confidence and entropy of cells [at, at + n) from p's logits.
static void finish(Predictions *pp, size_t at, size_t n) {
    Predictions p = *pp;
    size_t K = p.K;
    softmax_rows(p.probs + at * K, p.logits + at * K, n, K, 1.0f);
    for (size_t i = at; i < at + n; i++) {
        const float *q = p.probs + i * K;
        size_t best = 0;
        for (size_t k = 1; k < K; k++)
            if (q[k] > q[best]) best = k;
        p.pred[i] = (int32_t)best;
        p.conf[i] = q[best];
        p.entropy[i] = entropy_row(q, K);
    }
}

void predictions_set_probs(Predictions *p, const float *probs) {
    size_t nk = p->n * p->K;
    for (size_t j = 0; j < nk; j++) p->logits[j] = logf(probs[j] > 1e-30f ? probs[j] : 1e-30f);   // softmax gives probs again
    finish(p, 0, p->n);
}

void predictions_blend(Predictions *s, const Predictions *t) {
    size_t nk = s->n * s->K;
    for (size_t j = 0; j < nk; j++) s->probs[j] = 0.5f * (s->probs[j] + t->probs[j]);
    predictions_set_probs(s, s->probs);
}

void predictions_free(Predictions *p) {
    free(p->logits); free(p->probs); free(p->entropy); free(p->conf); free(p->pred); free(p->emb); free(p->attn);
    memset(p, 0, sizeof *p);
}
