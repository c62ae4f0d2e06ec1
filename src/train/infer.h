// infer: run a model over this rank's cells in batches, keeping the per-cell outputs that the
// anchors, the output file and the explanations need. No gradients, no communication.
#ifndef KIDA_INFER_H
#define KIDA_INFER_H
#include <stddef.h>
#include <stdint.h>

#include "core/csr.h"
#include "model/model.h"

typedef struct {
    size_t n, K, C, P;
    float *logits;    // (n,K)
    float *probs;     // (n,K)
    float *entropy;   // (n)
    float *conf;      // (n) max probability
    int32_t *pred;    // (n) argmax class
    float *emb;       // (n,C) embedding (obsm X_kida)
    float *attn;      // (n,P) cls -> pathway attention
} Predictions;

// params: the trained weights (n_params floats, layout of cfg). batch: cells per forward on the
// CPU. gpu: GPU_NONE, or GPU_FP32 / GPU_TF32 (kernels/gpu.h) to run on this rank's GPU, in batches
// of INFER_GPU_BATCH.
Predictions infer_rows(const ModelConfig *cfg, const PathwayMap *map, const float *gene_zero, const float *params,
                       const Csr *x, size_t batch, int gpu);
// Space for n cells' outputs, to be filled block by block with infer_into.
Predictions predictions_alloc(size_t n, const ModelConfig *cfg);
// Runs the model over x's rows into cells [at, at + x->n_rows) of p (a query streamed through
// the model a block at a time: only the block's input is in memory besides p).
void infer_into(Predictions *p, size_t at, const ModelConfig *cfg, const PathwayMap *map, const float *gene_zero,
                const float *params, const Csr *x, size_t batch, int gpu);
#define INFER_GPU_BATCH 512
// The two models together (--final blend): s's probabilities become the mean of s's and t's
// (same cells, same classes), and its logits, label, confidence and entropy follow; the embedding
// and attention stay s's.
void predictions_blend(Predictions *s, const Predictions *t);
// Replaces p's probabilities by probs (n,K), rows summing to 1; logits, label, confidence and
// entropy follow (spatial smoothing, analysis/spatial.h).
void predictions_set_probs(Predictions *p, const float *probs);
void predictions_free(Predictions *p);
#endif
