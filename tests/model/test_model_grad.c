// test_model_grad: the whole network (L = 2) against a double re-implementation.
// 1. Forward: logits, embedding and attention of the float model (whose last layer computes only
//    the cls row) match tests/model/model_ref.h, which computes every token of every layer: 1e-5 relative.
// 2. Backward: with a random dlogits and a random demb, every element of every parameter tensor
//    is compared with central differences (step 1e-5) of the double model's
//    Σ dlogits·logits + Σ demb·embedding. Error per tensor = max |analytic − numeric| / max
//    |numeric|; pass if <= 1e-4 (float rounding through two layers). Done with dropout 0 and
//    again with dropout 0.2, where the double model draws its masks from the spec's formula, and
//    with L = 1 (the first layer is also the last, cls-only one), and with head size 8 (tiled attention).
//    Forward and backward are checked on every vector path this CPU has (src/core/cpu.h), the
//    portable one included, against one set of numeric gradients.
// 3. A second backward without zeroing doubles the gradients (they accumulate).
// Shapes: B=3 cells, G=17 genes, P=5 (T=6), C=12, NH=3 (HS 4; and C=16, NH=2), L=2, K=4;
// gene_zero is nonzero.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "model/model.h"
#include "tests/model/model_fixtures.h"
#include "tests/model/model_ref.h"

#define TOL_FWD 1e-5
#define TOL_GRAD 1e-4
#define FD_STEP 1e-5

static int failures = 0;

static void verdict(const char *what, double err, double tol) {
    int ok = err <= tol;
    printf("%-28s rel err %.2e %s\n", what, err, ok ? "ok" : "FAIL");
    if (!ok) failures++;
}

static double rel_diff_d(const float *a, const double *b, size_t n) {
    double num = 0, den = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        if (d > num || isnan(d)) num = isnan(d) ? INFINITY : d;
        if (fabs(b[i]) > den) den = fabs(b[i]);
    }
    return num / den;
}

typedef struct {
    const ModelConfig *c;
    const PathwayMap *map;
    const Csr *x;
    const double *zero;
    const int64_t *cells;
    double *params, *logits, *emb;
    const float *dlogits, *demb;
    double p;
} Ctx;

static double loss(const Ctx *t) {
    ref_model_forward(t->logits, t->emb, NULL, t->params, t->c, t->map, t->x, t->zero, t->cells, 7, 31, t->p);
    double s = 0;
    for (size_t i = 0; i < t->x->n_rows * t->c->K; i++) s += t->dlogits[i] * t->logits[i];
    for (size_t i = 0; i < t->x->n_rows * t->c->C; i++) s += t->demb[i] * t->emb[i];
    return s;
}

static void run(float dropout, size_t L, size_t C, size_t NH) {
    printf("---- dropout %.2f, L = %zu, C = %zu, NH = %zu\n", (double)dropout, L, C, NH);
    size_t B = 3, G = 17, P = 5, K = 4;
    PathwayMap map = fixture_map(P, G, 0.3, 101);
    Csr x = fixture_batch(B, G, 0.35, 102, 40);
    int64_t cells[3] = {40, 41, 42};
    ModelConfig c = fixture_config(&map, C, NH, L, K, dropout);
    Model m;
    model_init(&m, &c, &map, 4, 1);
    model_init_weights(&m, 5);
    // move every parameter off its initial value (biases 0, LayerNorm 1) so all paths are exercised
    for (size_t i = 0; i < m.n_params; i++) m.params[i] += 0.1f * rng_normal(103, 1, i, 0);
    fixture_fill(m.gene_zero, G, 0.5f, 104, 1);

    size_t n = m.n_params;
    double *pd = xmalloc(n * sizeof(double)), *zd = xmalloc(G * sizeof(double));
    for (size_t i = 0; i < n; i++) pd[i] = m.params[i];
    for (size_t g = 0; g < G; g++) zd[g] = m.gene_zero[g];
    double *rl = xmalloc(B * K * sizeof(double)), *re = xmalloc(B * C * sizeof(double)), *ra = xmalloc(B * P * sizeof(double));
    ref_model_forward(rl, re, ra, pd, &c, &map, &x, zd, cells, 7, 31, dropout);
    float *dlogits = xmalloc(B * K * sizeof(float)), *demb = xmalloc(B * C * sizeof(float));
    fixture_fill(dlogits, B * K, 1.0f, 105, 1);
    fixture_fill(demb, B * C, 1.0f, 105, 2);
    // the numeric gradient once (double model); then every vector path's analytic gradient against it
    Ctx t = {&c, &map, &x, zd, cells, pd, rl, re, dlogits, demb, dropout};
    double *fd = xmalloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        double keep = pd[i];
        pd[i] = keep + FD_STEP;
        double lp = loss(&t);
        pd[i] = keep - FD_STEP;
        double lm = loss(&t);
        pd[i] = keep;
        fd[i] = (lp - lm) / (2 * FD_STEP);
    }
    ref_model_forward(rl, re, ra, pd, &c, &map, &x, zd, cells, 7, 31, dropout);
    size_t sizes[N_PARAM_TENSORS];
    model_param_shapes(&c, sizes);
    float *g1 = xmalloc(n * sizeof(float));
    for (int path = 0; path <= (int)cpu_path_best(); path++) {
        cpu_path_set((CpuPath)path);
        printf("  vector path %s\n", cpu_path_name((CpuPath)path));
        model_forward(&m, &x, cells, 7, 31);
        verdict("logits vs full double", rel_diff_d(m.logits, rl, B * K), TOL_FWD);
        verdict("embedding vs full double", rel_diff_d(m.embedding, re, B * C), TOL_FWD);
        verdict("attn vs full double", rel_diff_d(m.attn, ra, B * P), TOL_FWD);
        model_zero_grad(&m);
        model_backward(&m, dlogits, demb);
        double worst = 0;
        size_t off = 0;
        for (size_t k = 0; k < N_PARAM_TENSORS; k++) {
            double num = 0, den = 1e-30;
            size_t at = 0;
            for (size_t i = off; i < off + sizes[k]; i++) {
                double d = fabs(fd[i] - m.grads[i]);
                if (d > num || isnan(d)) num = isnan(d) ? INFINITY : d, at = i - off;
                if (fabs(fd[i]) > den) den = fabs(fd[i]);
            }
            double rel = num / den;
            printf("  d%-8s (%5zu elements) rel err %.2e (worst element %zu, max |grad| %.3g)\n", MODEL_PARAM_NAMES[k],
                   sizes[k], rel, at, den);
            if (rel > worst || isnan(rel)) worst = isnan(rel) ? INFINITY : rel;
            off += sizes[k];
        }
        verdict("WORST parameter gradient", worst, TOL_GRAD);

        // gradients accumulate: a second backward adds the same amount again
        memcpy(g1, m.grads, n * sizeof(float));
        model_backward(&m, dlogits, demb);
        for (size_t i = 0; i < n; i++) g1[i] *= 2.0f;
        verdict("second backward accumulates", fixture_rel_diff(m.grads, g1, n), 1e-6);
    }
    cpu_path_set(cpu_path_best());
    free(fd);
    free(g1), free(pd), free(zd), free(rl), free(re), free(ra), free(dlogits), free(demb);
    model_free(&m);
    csr_free(&x);
    pathmap_free(&map);
}

int main(void) {
    run(0.0f, 2, 12, 3);
    run(0.2f, 2, 12, 3);
    run(0.0f, 1, 12, 3);  // the only layer is also the cls-only last layer
    run(0.1f, 2, 16, 2);  // head size 8: the register-tiled attention kernels
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
