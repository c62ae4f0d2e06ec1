// optim: Adam / AdamW over one flat parameter buffer, global-norm gradient clipping and the
// learning-rate schedule. Every function is elementwise or a plain reduction over the buffer
// given, so ranks holding the same (all-reduced) gradients take bit-identical steps.
#ifndef KIDA_OPTIM_H
#define KIDA_OPTIM_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
    int adamw;        // 1: AdamW (decoupled decay on masked elements); 0: Adam, no weight decay
    float clip_norm;  // global-norm clipping threshold, 0 = off
} AdamOptions;

// The defaults of docs/model.md: lr 1e-3, betas 0.9/0.999, eps 1e-8, AdamW off (decay 0.01 when
// switched on), no clipping.
AdamOptions adam_defaults(void);

// Global L2 norm of grads (n elements, double accumulation). When clip_norm > 0 and the norm
// exceeds it, scales grads in place by clip_norm / (norm + 1e-6) (as torch clip_grad_norm_).
// Returns the norm before clipping.
double grad_clip(float *grads, size_t n, float clip_norm);

// One Adam/AdamW step (torch.optim.Adam / AdamW semantics) over n elements; step counts from 1.
//   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//   AdamW, decay_mask[i] != 0 (or mask NULL):  p -= lr * weight_decay * p      (before the update)
//   p -= (lr / (1 - b1^step)) * m / (sqrt(v) / sqrt(1 - b2^step) + eps)
// `lr` is this step's rate (from lr_at); o->lr is ignored here. decay_mask: n bytes or NULL
// (NULL = every element decays). Adam (o->adamw == 0) applies no weight decay at all.
void adam_step(float *params, const float *grads, float *m, float *v, size_t n,
               const AdamOptions *o, float lr, uint64_t step, const uint8_t *decay_mask);

typedef enum { LR_CONSTANT, LR_COSINE } LrSchedule;
// Learning rate of step `step` (1-based) of `total`. Both schedules warm up linearly over the
// first `warmup` steps (step s <= warmup gets base_lr * s / warmup, so step `warmup` has base_lr).
// LR_CONSTANT: base_lr afterwards. LR_COSINE: step warmup+1 has base_lr, then half a cosine
// base_lr * 0.5 (1 + cos(pi (s - warmup - 1) / (total - warmup))), so the last step (s = total)
// is small but nonzero; steps past total stay at the step-total value.
float lr_at(LrSchedule s, float base_lr, uint64_t step, uint64_t warmup, uint64_t total);
#endif
