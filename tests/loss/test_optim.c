// test_optim: Adam / AdamW, gradient clipping and the learning-rate schedule against values
// computed independently. Exit 0 pass, 1 fail.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "loss/optim.h"

static int g_fail = 0;

static void check(const char *what, double got, double want, double tol) {
    double err = fabs(got - want) / (fabs(want) > 1e-9 ? fabs(want) : 1e-9);
    int ok = err <= tol && !isnan(got);
    if (!ok) g_fail = 1;
    printf("%-40s got % .10f want % .10f rel err %.2e %s\n", what, got, want, err, ok ? "ok" : "FAIL");
}

// Three steps on 6 parameters with fixed gradients, lr 0.01, betas (0.9, 0.999), eps 1e-8.
// Expected values from torch 1.13 (Debian python3-torch), float64 tensors:
//   Adam:  torch.optim.Adam([a, b], lr=0.01)
//   AdamW: torch.optim.AdamW([{params: masked, weight_decay: 0.1}, {params: rest, weight_decay: 0}],
//          lr=0.01)   (two groups reproduce the decay mask)
// then three opt.step() calls with p.grad set to the rows of `grads` (script: the comment block
// at the end of this file).
static void check_adam(void) {
    const float p0[6] = {0.5f, -1.25f, 2.0f, 0.0f, -0.3f, 1.7f};
    const float grads[3][6] = {{0.1f, -0.2f, 0.3f, 1e-3f, -2.0f, 0.05f},
                               {-0.4f, 0.1f, 0.25f, 0.0f, -1.5f, 0.05f},
                               {0.2f, 0.2f, -0.1f, -1e-3f, 0.5f, -0.6f}};
    const uint8_t mask[6] = {1, 1, 0, 1, 0, 1};
    const double want_adam[6] = {0.4966967723, -1.2400635980, 1.9742522161,
                                 -0.0158417211, -0.2739804520, 1.6854402376};
    const double want_adamw[6] = {0.4952126668, -1.2363400001, 1.9742522161,
                                  -0.0158150308, -0.2739804520, 1.6803753259};
    for (int w = 0; w < 2; w++) {
        AdamOptions o = adam_defaults();
        o.adamw = w;
        o.weight_decay = 0.1f;
        float p[6], m[6] = {0}, v[6] = {0};
        memcpy(p, p0, sizeof p);
        for (uint64_t t = 1; t <= 3; t++) adam_step(p, grads[t - 1], m, v, 6, &o, 0.01f, t, mask);
        for (int i = 0; i < 6; i++) {
            char name[64];
            snprintf(name, sizeof name, "%s param %d after 3 steps", w ? "AdamW" : "Adam", i);
            check(name, p[i], w ? want_adamw[i] : want_adam[i], 2e-6);
        }
    }
    // Adam ignores weight_decay entirely; a NULL mask means every element decays under AdamW
    AdamOptions o = adam_defaults();
    o.adamw = 1;
    o.weight_decay = 0.5f;
    float p[1] = {2.0f}, g[1] = {0.0f}, m[1] = {0}, v[1] = {0};
    adam_step(p, g, m, v, 1, &o, 0.1f, 1, NULL);
    check("AdamW, zero grad, NULL mask: p(1-lr wd)", p[0], 2.0 * (1.0 - 0.1 * 0.5), 1e-7);
    o.adamw = 0;
    p[0] = 2.0f;
    adam_step(p, g, m, v, 1, &o, 0.1f, 2, NULL);
    check("Adam, zero grad: no decay", p[0], 2.0, 0.0);
}

// torch.nn.utils.clip_grad_norm_([x], 6.5) with x.grad = [3, 4, 0, 12] gives norm 13 and
// grad * 6.5 / (13 + 1e-6).
static void check_clip(void) {
    float g[4] = {3.0f, 4.0f, 0.0f, 12.0f};
    double n = grad_clip(g, 4, 0.0f);
    check("grad_clip off: norm", n, 13.0, 1e-12);
    check("grad_clip off: untouched", g[3], 12.0, 0.0);
    n = grad_clip(g, 4, 6.5f);
    check("grad_clip 6.5: norm before", n, 13.0, 1e-12);
    check("grad_clip 6.5: g[0]", g[0], 1.4999998808, 1e-7);
    check("grad_clip 6.5: g[3]", g[3], 5.9999995232, 1e-7);
    check("grad_clip 6.5: new norm", grad_clip(g, 4, 0.0f), 6.5, 1e-6);
    n = grad_clip(g, 4, 100.0f);
    check("grad_clip below threshold: untouched", g[1], 1.9999998808, 1e-7);
}

static void check_lr(void) {
    check("constant, no warmup, step 1", lr_at(LR_CONSTANT, 1e-3f, 1, 0, 100), 1e-3, 1e-7);
    check("constant, warmup 10, step 1", lr_at(LR_CONSTANT, 1e-3f, 1, 10, 100), 1e-4, 1e-6);
    check("constant, warmup 10, step 5", lr_at(LR_CONSTANT, 1e-3f, 5, 10, 100), 5e-4, 1e-6);
    check("constant, warmup 10, step 10", lr_at(LR_CONSTANT, 1e-3f, 10, 10, 100), 1e-3, 1e-7);
    check("constant, step 100", lr_at(LR_CONSTANT, 1e-3f, 100, 10, 100), 1e-3, 1e-7);
    check("cosine, warmup 10, step 10", lr_at(LR_COSINE, 1e-3f, 10, 10, 100), 1e-3, 1e-7);
    check("cosine, warmup 10, step 11 (peak)", lr_at(LR_COSINE, 1e-3f, 11, 10, 100), 1e-3, 1e-7);
    // half way: s - w - 1 = 45 of 90
    check("cosine, step 56 (half)", lr_at(LR_COSINE, 1e-3f, 56, 10, 100), 0.5e-3, 1e-6);
    double last = 1e-3 * 0.5 * (1.0 + cos(M_PI * 89.0 / 90.0));
    check("cosine, last step 100", lr_at(LR_COSINE, 1e-3f, 100, 10, 100), last, 1e-5);
    int pos = lr_at(LR_COSINE, 1e-3f, 100, 10, 100) > 0.0f;
    check("cosine, last step > 0", pos, 1, 0.0);
    check("cosine, past the end holds", lr_at(LR_COSINE, 1e-3f, 500, 10, 100), last, 1e-5);
    check("cosine, no warmup, step 1", lr_at(LR_COSINE, 2e-3f, 1, 0, 50), 2e-3, 1e-7);
    int mono = 1;
    for (uint64_t s = 11; s < 100; s++)
        if (lr_at(LR_COSINE, 1e-3f, s + 1, 10, 100) > lr_at(LR_COSINE, 1e-3f, s, 10, 100)) mono = 0;
    check("cosine, non-increasing after warmup", mono, 1, 0.0);
}

int main(void) {
    check_adam();
    check_clip();
    check_lr();
    printf("%s\n", g_fail ? "FAIL" : "PASS");
    return g_fail ? 1 : 0;
}

/* The reference values came from this script (run with /usr/bin/python3, torch 1.13):
import torch
p0 = [0.5, -1.25, 2.0, 0.0, -0.3, 1.7]
grads = [[0.1, -0.2, 0.3, 1e-3, -2.0, 0.05], [-0.4, 0.1, 0.25, 0.0, -1.5, 0.05],
         [0.2, 0.2, -0.1, -1e-3, 0.5, -0.6]]
mask = [1, 1, 0, 1, 0, 1]
def run(adamw):
    p = torch.tensor(p0, dtype=torch.float64)
    ia = [i for i in range(6) if mask[i]]; ib = [i for i in range(6) if not mask[i]]
    a = torch.nn.Parameter(p[ia].clone()); b = torch.nn.Parameter(p[ib].clone())
    if adamw:
        opt = torch.optim.AdamW([{'params': [a], 'weight_decay': 0.1},
                                 {'params': [b], 'weight_decay': 0.0}], lr=0.01)
    else:
        opt = torch.optim.Adam([a, b], lr=0.01)
    for g in grads:
        g = torch.tensor(g, dtype=torch.float64); a.grad = g[ia].clone(); b.grad = g[ib].clone()
        opt.step()
    out = [0.0] * 6
    for k, i in enumerate(ia): out[i] = a.data[k].item()
    for k, i in enumerate(ib): out[i] = b.data[k].item()
    return out
print(run(False)); print(run(True))
*/
