// layers: the CPU layers of the kida network as forward/backward pairs (docs/model.md).
// Argument order: outputs, saved-for-backward, inputs, weights, dimensions. Every backward
// ACCUMULATES (+=) into its input and parameter gradients, so callers zero them first; inputs
// and outputs of one call never overlap unless a comment says so. Work is split over OpenMP
// threads; BLAS calls inside a thread are expected to run single-threaded (model_init arranges it).
//
// These are the whole-batch forms (tests, the benchmark's profile, the CUDA tests' references).
// The model itself runs one cell at a time through the vector path's kernels (kern.h) and the
// per-cell products of matmul.h, with parameter gradients per cell for an exact sum
// (model/gradsum.h).
#ifndef KIDA_LAYERS_H
#define KIDA_LAYERS_H
#include <stddef.h>
#include <stdint.h>

#include "core/csr.h"
#include "model/gradsum.h"
#include "model/kern.h"
#include "model/pathmap.h"

// ---- pathway embedding: tokens from sparse genes (x[P] = cls)
// The zero-count term of every token, once per forward: zemb[j] = Σ_{r∈rows(j)} zero[g_r] emb_w[r].
void pathemb_zero_forward(float *zemb,          // (P,C)
                          const float *zero,    // (G)
                          const float *emb_w,   // (M,C)
                          const PathwayMap *map, size_t C);
// out[b,j] = emb_b[j] + zemb[j] + Σ_{nonzero g of cell b} x[b,g] Σ_{r∈gene_rows(g)} emb_w[r] into
// token row_token[r]; out[b,P] = cls. Cost: nnz × memberships-per-gene × C.
void pathemb_forward(float *out,            // (B,T,C), B = x->n_rows, T = P+1
                     const Csr *x,          // (B,G) values d = x̃ - z
                     const float *zemb,     // (P,C)
                     const float *emb_w,    // (M,C)
                     const float *emb_b,    // (P,C)
                     const float *cls,      // (C)
                     const PathwayMap *map, size_t C);
// The same for row b of x alone, into ob (T,C).
void pathemb_cell_forward(float *ob, const Csr *x, size_t b, const float *zemb, const float *emb_w,
                          const float *emb_b, const float *cls, const PathwayMap *map, size_t C);
void pathemb_backward(float *demb_w,        // (M,C)
                      float *demb_b,        // (P,C)
                      float *dcls,          // (C)
                      const float *dout,    // (B,T,C)
                      const Csr *x,         // (B,G)
                      const float *zero,    // (G)
                      const PathwayMap *map, size_t C);
// The gradient of the B cells' tokens summed exactly (model/gradsum.h), in two steps around the
// collective gradsum_open of the blocks emb_w, emb_b, cls (in that order in lmax, off, scale):
// pathemb_backward_max gives each block's largest |contribution| here, pathemb_backward_add adds
// emb_b, cls and the nonzero genes' part of emb_w. The zero-count part of emb_w is linear in
// emb_b's gradient: pathemb_zero_backward adds it after the sum is complete. x is not read when B = 0.
void pathemb_backward_max(double lmax[3],
                          const float *dout,    // (B,T,C)
                          const Csr *x,         // (B,G)
                          const PathwayMap *map, size_t B, size_t C);
void pathemb_backward_add(GradSum *s, const size_t off[3], const double scale[3],
                          const float *dout,    // (B,T,C)
                          const Csr *x,         // (B,G)
                          const PathwayMap *map, size_t B, size_t C);
// demb_w[r] += zero[g_r] · demb_b[token of r]: the zero-count term's gradient, from the summed demb_b.
void pathemb_zero_backward(float *demb_w,        // (M,C)
                           const float *demb_b,  // (P,C)
                           const float *zero,    // (G)
                           const PathwayMap *map, size_t C);

// ---- LayerNorm over the last dimension, eps 1e-5, biased variance
void layernorm_forward(float *out,          // (N,C)
                       float *mean,         // (N)
                       float *rstd,         // (N)
                       const float *in,     // (N,C)
                       const float *w,      // (C)
                       const float *b,      // (C)
                       size_t N, size_t C);
void layernorm_backward(float *din,         // (N,C)
                        float *dw,          // (C)
                        float *db,          // (C)
                        const float *dout,  // (N,C)
                        const float *in,    // (N,C)
                        const float *mean,  // (N)
                        const float *rstd,  // (N)
                        const float *w,     // (C)
                        size_t N, size_t C);

// ---- linear: out = in wᵀ + b (torch.nn.Linear layout); b may be NULL
void linear_forward(float *out,             // (N,OC)
                    const float *in,        // (N,IC)
                    const float *w,         // (OC,IC)
                    const float *b,         // (OC)
                    size_t N, size_t IC, size_t OC);
// din may be NULL (no input gradient wanted); db may be NULL.
void linear_backward(float *din,            // (N,IC)
                     float *dw,             // (OC,IC)
                     float *db,             // (OC)
                     const float *dout,     // (N,OC)
                     const float *in,       // (N,IC)
                     const float *w,        // (OC,IC)
                     size_t N, size_t IC, size_t OC);

// ---- GELU, exact erf form. gelu_forward may run in place (out == in).
void gelu_forward(float *out, const float *in, size_t N);                 // (N), (N)
void gelu_backward(float *din, const float *dout, const float *in, size_t N);  // (N) each

// ---- multi-head self-attention without mask, queries restricted to token rows q0..T-1
// (q0 = 0: every token; q0 = T-1: the cls row only). qkv rows hold q | k | v, head n uses columns
// n·HS .. n·HS+HS-1 of each. If attn_cls is not NULL it receives the mean over heads of the
// attention of query row T-1 over keys 0..T-2 (the cls -> pathway attention).
void attention_forward(float *out,          // (B,T-q0,C)
                       float *attn_cls,     // (B,T-1) or NULL
                       const float *qkv,    // (B,T,3C)
                       size_t B, size_t T, size_t C, size_t NH, size_t q0);
// Recomputes the attention probabilities from qkv (nothing (B,NH,T,T) is stored).
// Rows < q0 of the q part of dqkv are left untouched.
void attention_backward(float *dqkv,        // (B,T,3C)
                        const float *dout,  // (B,T-q0,C)
                        const float *qkv,   // (B,T,3C)
                        size_t B, size_t T, size_t C, size_t NH, size_t q0);
// One cell, in the calling thread, with a scratch from attn_scratch_alloc(T, T - q0, C / NH, ...):
// the forward as above; the backward WRITES the cell's dqkv (rows < q0 of its q part become 0).
typedef struct {
    size_t T, Tq, HS;
    int tiled;          // the vector path's tiled kernels (HS % 8 == 0), else the BLAS path
    TileScratch tiles;
    float *q, *k, *v;   // BLAS path: (Tq,HS) scaled queries, (T,HS) keys, values
    float *a, *da;      // BLAS path: (Tq,T) probabilities and their gradient (backward)
    float *cls;         // (T) the last query row's probabilities of one head
} AttnScratch;
AttnScratch attn_scratch_alloc(size_t T, size_t Tq, size_t HS, int backward);
void attn_scratch_free(AttnScratch *s);
void attention_cell_forward(float *out,         // (Tq,C)
                            float *attn_cls,    // (T-1) or NULL
                            const float *qkv,   // (T,3C)
                            size_t C, size_t NH, size_t q0, AttnScratch *s);
void attention_cell_backward(float *dqkv,       // (T,3C)
                             const float *dout, // (Tq,C)
                             const float *qkv,  // (T,3C)
                             size_t C, size_t NH, size_t q0, AttnScratch *s);

// ---- residual with inverted dropout: out = res + keep ⊙ y / (1-p), per cell b a block of N
// elements whose index inside the cell's (T,C) tensor starts at i0. keep[b,i] = 1 unless
// rng_uniform(seed, stream, cell_ids[b], i0 + i) < p. With p == 0: no mask, keep and cell_ids
// unused (may be NULL). out may equal res.
void residual_forward(float *out,             // (B,N)
                      uint8_t *keep,          // (B,N) or NULL when p == 0
                      const float *res,       // (B,N)
                      const float *y,         // (B,N)
                      const int64_t *cell_ids,// (B)
                      uint64_t seed, uint64_t stream, float p,
                      size_t B, size_t N, size_t i0);
// dres may be NULL (the caller keeps dout as the residual gradient).
void residual_backward(float *dres,           // (B,N)
                       float *dy,             // (B,N)
                       const float *dout,     // (B,N)
                       const uint8_t *keep,   // (B,N) or NULL when p == 0
                       float p, size_t B, size_t N);

// ---- gather / scatter of one token row per cell (the cls row, for the last layer)
void rows_gather(float *dst,          // (B,C)
                 const float *src,    // (B,T,C)
                 size_t B, size_t T, size_t C, size_t t);
void rows_scatter_add(float *dst,     // (B,T,C)
                      const float *src,  // (B,C)
                      size_t B, size_t T, size_t C, size_t t);
#endif
