// losses: the objectives of kida (docs/model.md, "Losses") as forward/backward pairs over logits.
// Every loss is a mean over the GLOBAL batch of N cells. The per-row losses (ce, kd) return the
// SUM over this rank's rows so the caller can all-reduce and divide by N once; their backward
// passes take `scale` (= 1/N) and accumulate into the gradient with +=. The clustering loss does
// not decompose over cells: the caller gathers every rank's rows and each rank evaluates it whole.
// Sums over rows and classes accumulate in double.
#ifndef KIDA_LOSSES_H
#define KIDA_LOSSES_H
#include <stddef.h>
#include <stdint.h>

// Row softmax with temperature: probs (B,K) = softmax(logits/tau). Max-subtracted, so any finite
// logits are safe. probs may alias logits.
void softmax_rows(float *probs, const float *logits, size_t B, size_t K, float tau);
// Entropy -Σ p log p of one probability row (0 log 0 = 0), in nats.
float entropy_row(const float *probs, size_t K);

// Cross-entropy. Returns loss_sum = Σ_i -log softmax(logits_i)[y_i] over this rank's B rows
// (the caller divides by the global N); rows with labels[i] < 0 are skipped. probs (B,K) out,
// filled for every row (needed by ce_backward). Fatal if a label is >= K.
double ce_forward(float *probs, const float *logits, const int32_t *labels, size_t B, size_t K);
// dlogits (B,K) += scale * (probs - onehot(y)) for rows with labels >= 0 (scale = 1/N_global).
void ce_backward(float *dlogits, const float *probs, const int32_t *labels, size_t B, size_t K,
                 float scale);
// Class weights: scales row i of dlogits (holding ce_backward's gradient only) and its loss
// rowloss[i] (ce_forward of that row) by w[labels[i]].
void ce_weight_rows(float *dlogits, double *rowloss, const int32_t *labels, size_t B, size_t K, const float *w);

// Distillation, Hinton direction: tau^2 · Σ_i KL(softmax(teacher_i/tau) || softmax(student_i/tau)),
// the SUM over this rank's B rows (caller divides by N). The tau^2 factor is applied here and in
// kd_backward, nowhere else.
double kd_forward(const float *student_logits, const float *teacher_logits, size_t B, size_t K,
                  float tau);
// dlogits (B,K) += scale * tau * (softmax(student/tau) - softmax(teacher/tau)), the gradient of
// kd_forward's value times scale.
void kd_backward(float *dlogits, const float *student_logits, const float *teacher_logits,
                 size_t B, size_t K, float tau, float scale);

// Adaptive clustering loss over the WHOLE global batch (all ranks' rows gathered by the caller):
// emb (N,C) the cell embeddings, probs (N,K) = softmax(student logits).
//   S_ij = exp(-||e_i - e_j||^2),  n_ab = q_a^T S q_b,  L_ada = (1/K) Σ_{a<b} n_ab / sqrt(n_aa n_bb)
// Returns L_ada itself (not a sum; no division by N). Works in double on an N x N matrix S
// (8 N^2 bytes, allocated and freed inside: 8 MiB at N = 1024; N in the tens of thousands is
// not what this is for). A diagonal n_aa below 1e-300 is clamped there (only reachable when a
// class has probability underflowing to 0 for every cell).
double ada_forward(const float *emb, const float *probs, size_t N, size_t C, size_t K);
// Gradients of L_ada: demb (N,C) += scale * dL/demb and dlogits (N,K) += scale * dL/dlogits,
// the latter through the softmax q = softmax(logits) (so probs must be exactly that softmax).
// Either output may be NULL to skip it. Workspace as ada_forward plus N·C doubles.
// Both split rows over OpenMP threads; results are bit-identical for any thread count.
void ada_backward(float *demb, float *dlogits, const float *emb, const float *probs, size_t N,
                  size_t C, size_t K, float scale);
// The same loss split by rows, for many ranks: a rank owning rows [r0, r0+c) of the gathered
// batch (emb (N,C), probs (N,K) hold every rank's rows) computes its c rows of S and U (memory
// c·N doubles, work c·N·(C+K)); the caller gathers every rank's U rows in row order (N·K
// doubles) and hands them to ada_block_sum, which forms n in a fixed order (so every rank, and
// every split, gets the same n bit for bit); then the loss and its rows' gradients: demb (c,C),
// dlogits (c,K), each += scale * grad.
typedef struct {
    size_t N, C, K, r0, c;
    double *S;  // (c,N)
    double *U;  // (c,K) this block's rows of S Q
    double *n;  // (K,K) Q^T S Q, set by ada_block_sum
} AdaBlock;
void ada_block_begin(AdaBlock *b, const float *emb, const float *probs, size_t N, size_t C, size_t K, size_t r0,
                     size_t c);
// n = Σ_i q_iᵀ U_all[i] over all N rows in order; U_all (N,K) is every block's U, in row order.
void ada_block_sum(AdaBlock *b, const float *probs, const double *U_all);
double ada_block_loss(const AdaBlock *b);
void ada_block_backward(const AdaBlock *b, float *demb, float *dlogits, const float *emb, const float *probs,
                        float scale);
void ada_block_free(AdaBlock *b);
#endif
