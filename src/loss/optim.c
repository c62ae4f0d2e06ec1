// optim: see optim.h.
#include "loss/optim.h"

#include <math.h>

AdamOptions adam_defaults(void) {
    AdamOptions o = {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                     .weight_decay = 0.01f, .adamw = 0, .clip_norm = 0.0f};
    return o;
}

double grad_clip(float *grads, size_t n, float clip_norm) {
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (double)grads[i] * (double)grads[i];
    double norm = sqrt(ss);
    if (clip_norm > 0.0f && norm > (double)clip_norm) {
        float f = (float)((double)clip_norm / (norm + 1e-6));
        for (size_t i = 0; i < n; i++) grads[i] *= f;
    }
    return norm;
}

void adam_step(float *params, const float *grads, float *m, float *v, size_t n,
               const AdamOptions *o, float lr, uint64_t step, const uint8_t *decay_mask) {
    double b1 = o->beta1, b2 = o->beta2, t = (double)(step ? step : 1);
    double bc1 = 1.0 - pow(b1, t), bc2 = 1.0 - pow(b2, t);
    float step_size = (float)((double)lr / bc1);
    float inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
    float decay = o->adamw ? lr * o->weight_decay : 0.0f;
    float fb1 = o->beta1, fb2 = o->beta2, eps = o->eps;
    for (size_t i = 0; i < n; i++) {
        float g = grads[i];
        if (decay != 0.0f && (!decay_mask || decay_mask[i])) params[i] -= decay * params[i];
        m[i] = fb1 * m[i] + (1.0f - fb1) * g;
        v[i] = fb2 * v[i] + (1.0f - fb2) * g * g;
        params[i] -= step_size * m[i] / (sqrtf(v[i]) * inv_sqrt_bc2 + eps);
    }
}

float lr_at(LrSchedule s, float base_lr, uint64_t step, uint64_t warmup, uint64_t total) {
    if (step == 0) step = 1;
    if (warmup > 0 && step <= warmup) return (float)((double)base_lr * (double)step / (double)warmup);
    if (s == LR_CONSTANT || total <= warmup) return base_lr;
    if (step > total) step = total;
    double progress = (double)(step - warmup - 1) / (double)(total - warmup);
    return (float)((double)base_lr * 0.5 * (1.0 + cos(M_PI * progress)));
}
