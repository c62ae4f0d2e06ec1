// test_inference: an inference model (training = 0: one activation slot reused by every layer,
// no gradient, Adam or backward buffers, dropout off even if configured) gives the same logits,
// embedding and attention as a training model with dropout 0, batch by batch (batches of 5, 1,
// 8 and 3 cells through one model sized for 8). Tolerance 1e-6 relative.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "tests/model/model_fixtures.h"

static int failures = 0;

static void verdict(const char *what, double err, double tol) {
    int ok = err <= tol;
    printf("%-40s %.2e %s\n", what, err, ok ? "ok" : "FAIL");
    if (!ok) failures++;
}

int main(void) {
    size_t G = 31, P = 11, C = 24, NH = 4, L = 3, K = 6, maxB = 8;
    PathwayMap map = fixture_map(P, G, 0.2, 401);
    ModelConfig ct = fixture_config(&map, C, NH, L, K, 0.0f);
    ModelConfig ci = fixture_config(&map, C, NH, L, K, 0.5f);  // dropout must not act in inference
    Model tr, inf;
    model_init(&tr, &ct, &map, maxB, 1);
    model_init(&inf, &ci, &map, maxB, 0);
    model_init_weights(&tr, 11);
    for (size_t i = 0; i < tr.n_params; i++) tr.params[i] += 0.05f * rng_normal(402, 1, i, 0);
    fixture_fill(tr.gene_zero, G, 0.4f, 403, 1);
    memcpy(inf.params, tr.params, tr.n_params * sizeof(float));
    memcpy(inf.gene_zero, tr.gene_zero, G * sizeof(float));

    int lean = !inf.grads && !inf.adam_m && !inf.adam_v && !inf.a.mask && !inf.a.dresid && !inf.a.dqkv &&
               !inf.a.dfch && inf.a.fch_gelu == inf.a.fch;
    printf("activations: training %zu floats, inference %zu floats\n", tr.n_acts, inf.n_acts);
    verdict("inference has no backward buffers (0 = yes)", lean ? 0.0 : 1.0, 0.0);
    verdict("inference activations / training (< 0.5)", (double)inf.n_acts / (double)tr.n_acts, 0.5);

    size_t sizes[4] = {5, 1, 8, 3}, start = 0;
    for (size_t k = 0; k < 4; k++) {
        size_t B = sizes[k];
        Csr x = fixture_batch(B, G, 0.25, 404, start);
        int64_t ids[8];
        for (size_t b = 0; b < B; b++) ids[b] = (int64_t)(start + b);
        model_forward(&tr, &x, ids, 3, 5);
        model_forward(&inf, &x, ids, 3, 5);
        char what[64];
        snprintf(what, sizeof what, "batch %zu (B=%zu) logits", k, B);
        verdict(what, fixture_rel_diff(inf.logits, tr.logits, B * K), 1e-6);
        snprintf(what, sizeof what, "batch %zu (B=%zu) embedding", k, B);
        verdict(what, fixture_rel_diff(inf.embedding, tr.embedding, B * C), 1e-6);
        snprintf(what, sizeof what, "batch %zu (B=%zu) attn", k, B);
        verdict(what, fixture_rel_diff(inf.attn, tr.attn, B * P), 1e-6);
        csr_free(&x);
        start += B;
    }
    model_free(&tr);
    model_free(&inf);
    pathmap_free(&map);
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
