// model: the kida network on the CPU (docs/model.md is the exact definition).
// llm.c-style memory: parameters, gradients, Adam m and v are each one flat buffer in the order of
// MODEL_PARAM_NAMES, reached through a pointer table; activations are one more buffer with their
// own table. Threads: OpenMP everywhere, with OpenBLAS single-threaded inside each OpenMP thread
// (model_init calls openblas_set_num_threads(1)); set OMP_NUM_THREADS to choose the core count.
#ifndef KIDA_MODEL_H
#define KIDA_MODEL_H
#include <stddef.h>
#include <stdint.h>

#include "core/csr.h"
#include "core/rng.h"
#include "model/gradsum.h"
#include "model/pathmap.h"

typedef struct {
    size_t G;       // model genes
    size_t P;       // pathway tokens
    size_t T;       // tokens, P + 1 (cls is the last token, index P)
    size_t M;       // memberships (rows of emb_w), must equal the map's M
    size_t C;       // width
    size_t NH;      // heads, C % NH == 0
    size_t L;       // transformer layers
    size_t F;       // MLP hidden width, 4 C
    size_t K;       // classes
    float dropout;  // dropout probability in training, [0, 1)
} ModelConfig;

enum { N_PARAM_TENSORS = 21 };
extern const char *const MODEL_PARAM_NAMES[N_PARAM_TENSORS];  // "emb_w", "emb_b", "cls", ...

typedef struct {
    float *emb_w;    // (M,C)
    float *emb_b;    // (P,C)
    float *cls;      // (C)
    float *ln1_w;    // (L,C)
    float *ln1_b;    // (L,C)
    float *qkv_w;    // (L,3C,C)
    float *qkv_b;    // (L,3C)
    float *proj_w;   // (L,C,C)
    float *proj_b;   // (L,C)
    float *ln2_w;    // (L,C)
    float *ln2_b;    // (L,C)
    float *fc1_w;    // (L,F,C)
    float *fc1_b;    // (L,F)
    float *fc2_w;    // (L,C,F)
    float *fc2_b;    // (L,C)
    float *lnf_w;    // (C)
    float *lnf_b;    // (C)
    float *head1_w;  // (C,C)
    float *head1_b;  // (C)
    float *head2_w;  // (K,C)
    float *head2_b;  // (K)
} ParamTensors;

// Dropout stream (src/core/rng.h) of site s (0: after attention, 1: after the MLP) in layer l at optimiser
// step t; element i of cell c is dropped when rng_uniform(seed, stream, c, i) < p, i = token·C + channel.
static inline uint64_t model_dropout_stream(uint64_t t, size_t l, size_t s) {
    return (uint64_t)RNG_STREAM_DROPOUT + (t << 12) + 2 * (uint64_t)l + s;  // L < 2048
}

// Element count of every parameter tensor, in MODEL_PARAM_NAMES order.
void model_param_shapes(const ModelConfig *c, size_t sizes[N_PARAM_TENSORS]);
// Shape of tensor i as in docs/model.md (e.g. qkv_w -> {L, 3C, C}); returns the rank (1..3).
size_t model_param_dims(const ModelConfig *c, size_t i, size_t dims[3]);
// 1 for the weight matrices that AdamW decays (emb_w, qkv_w, proj_w, fc1_w, fc2_w, head1_w,
// head2_w), 0 for biases, LayerNorm parameters and cls.
int model_param_is_matrix(size_t i);

// Activations (private to the model code; tests may read them). Shapes are for training, which
// keeps one slot per layer for what backward needs; inference keeps a single slot (L = 1 below)
// that every layer reuses, and no backward scratch. Cell b owns rows b·T .. b·T+T-1 of every
// (B,T,·) tensor; the last layer stores its rows after the attention for the cls token only, in
// the first of the cell's rows, and its output in the cls row (P) of the cell's rows of resid's
// last slot.
typedef struct {
    float *zemb;      // (P,C) Σ_r z[g_r] emb_w[r] per token, once per forward
    float *resid;     // (L+1,B,T,C) residual stream entering each layer, then the output (cls rows)
    float *mid;       // (L,B,T,C) residual stream after attention (last layer: the cls row only)
    float *ln1;       // (L,B,T,C)
    float *ln1_mean;  // (L,B,T)
    float *ln1_rstd;  // (L,B,T)
    float *qkv;       // (L,B,T,3C)
    float *atty;      // (L,B,T,C) attention output before proj
    float *ln2;       // (L,B,T,C)
    float *ln2_mean;  // (L,B,T)
    float *ln2_rstd;  // (L,B,T)
    float *fch;       // (L,B,T,F) fc1 output before GELU
    float *fch_gelu;  // (L,B,T,F); the same buffer as fch in inference (GELU in place)
    float *proj;      // (B,T,C) scratch: proj or fc2 output before dropout and residual
    float *lnf_mean;  // (B)
    float *lnf_rstd;  // (B)
    float *h1;        // (B,C) head1 output before GELU
    float *h1_gelu;   // (B,C)
    float *embedding; // (B,C) = Model.embedding
    float *logits;    // (B,K) = Model.logits
    float *attn;      // (B,P) = Model.attn
    uint8_t *mask;    // (L,2,B,T,C) dropout keep masks, training with dropout > 0 only
    // backward scratch, training only
    float *dresid;    // (B,T,C)
    float *dc1;       // (B,T,C)
    float *dc2;       // (B,T,C)
    float *dqkv;      // (B,T,3C)
    float *dfch;      // (B,T,F)
    float *dfch_gelu; // (B,T,F)
    float *dhead;     // (2,B,C) head gradients
    float *dcls;      // (B,C) gradient of the cls rows in the last layer
} ActTensors;

typedef struct {
    ModelConfig cfg;
    const PathwayMap *map;   // borrowed; must outlive the model
    float *gene_zero;        // (G) preprocessed value of a zero count; zeros after model_init
    size_t n_params;
    float *params;           // (n_params)
    ParamTensors p;
    float *grads;            // (n_params) training only, else NULL
    ParamTensors g;
    float *adam_m, *adam_v;  // (n_params) zeroed, training only, else NULL
    size_t max_B;
    int training;            // 1: backward buffers exist, activations kept, dropout on
    float *logits;           // (max_B,K) outputs of the last forward
    float *embedding;        // (max_B,C) final-LayerNorm cls vector (obsm X_kida)
    float *attn;             // (max_B,P) last layer cls -> pathway attention, mean over heads
    // private
    size_t B;                // rows of the last forward
    uint64_t step, seed;     // dropout keys of the last forward
    const int64_t *cell_ids; // (B) borrowed from the last forward (backward recomputes nothing from it)
    const Csr *x;            // borrowed input of the last forward (backward needs it)
    size_t n_acts;
    float *acts_mem;
    uint8_t *mask_mem;
    ActTensors a;
    GradSum gsum;            // training: the exact sum of the batch's per-cell gradients
    float *cell_g;           // training: (max_B, cell_ld) per-cell gradients of every parameter from ln1_w on
    size_t cell_ld;
    GradPart *cell_parts;    // training: the blocks of cell_g, one per tensor and layer
    size_t n_cell_parts;
} Model;

// Points the tables at consecutive tensors of `base` (host or device memory: pointer arithmetic
// only) in the layout every copy of the model shares; with base NULL only counts. Return the
// total element count.
size_t model_param_layout(ParamTensors *t, float *base, const ModelConfig *c);
size_t model_act_layout(ActTensors *a, float *base, const ModelConfig *c, size_t B, int training);

// Allocates parameters (zeroed; call model_init_weights or load a checkpoint), gradients and Adam
// buffers when training, and activations for batches of up to max_B cells. FATAL on an
// inconsistent config (T != P+1, C % NH != 0, M or P or G not matching the map, dropout not in [0,1)).
void model_init(Model *m, const ModelConfig *cfg, const PathwayMap *map, size_t max_B, int training);
// Initial weights of docs/model.md, a pure function of seed (src/core/rng.h, RNG_STREAM_INIT).
void model_init_weights(Model *m, uint64_t seed);
void model_free(Model *m);

// Forward over a batch. x: B <= max_B rows over the G model genes holding d = x̃ - z (docs/model.md
// "Input"); the model keeps pointers to x until the next forward, so x must stay alive until
// model_backward. cell_ids (B): global cell indices, the dropout keys (may be NULL when not
// training or dropout is 0); step: optimiser step, seed: run seed (dropout streams).
// Fills m->logits, m->embedding, m->attn. A cell's outputs do not depend on the other cells of
// the batch, on its place in it or on the thread count (the layers' _cells forms).
void model_forward(Model *m, const Csr *x, const int64_t *cell_ids, uint64_t step, uint64_t seed);
// Sets every gradient to zero (one memset).
void model_zero_grad(Model *m);
// Accumulates (+=) parameter gradients of the last forward from dlogits (B,K) and, if not NULL,
// demb (B,C), the gradient with respect to m->embedding. Training models only. The gradient is
// the exact sum over the cells of each cell's contribution (model/gradsum.h): it does not depend
// on how the same cells are grouped into batches, nor on the thread count.
void model_backward(Model *m, const float *dlogits, const float *demb);
// The same for a batch split over processes, bit-identical to model_backward on the whole batch
// for every split. Each process calls, in this order:
//   model_backward_begin(m, n_cells, max, ctx)  n_cells: the global batch; max: the collective max
//   model_backward_part(m, dlogits, demb, B)     its own cells: B = the last forward's B, or 0 if it
//                                                has none (it still joins every collective)
//   an integer all-reduce (sum) of m->gsum.acc (m->n_params values)
//   model_backward_end(m)                        grads += the batch's gradient
void model_backward_begin(Model *m, size_t n_cells, GradMaxFn max, void *ctx);
void model_backward_part(Model *m, const float *dlogits, const float *demb, size_t B);
void model_backward_end(Model *m);

// Floating-point operations per cell of one forward (training = 0) or forward + backward
// (training = 1), counting multiply and add as 2, for the work actually done (the last layer
// computes only the cls row after its qkv projection). Excludes the sparse embedding.
size_t model_flops_per_cell(const ModelConfig *c, int training);
#endif
