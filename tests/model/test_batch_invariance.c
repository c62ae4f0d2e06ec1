// test_batch_invariance: the unit of work is one cell, so a cell's results must not depend on the
// batch around it. Checked bit for bit (no tolerance):
// 1. Forward: logits, embedding and attention of each cell are the same in the full batch of 7,
//    in batches of 1, 2 and 3 cells, in a permuted batch (other slots), with 1 and 2 threads,
//    and in an inference model (batches of up to 8 cells).
// 2. Backward: the gradient of the batch equals the gradient of the same cells permuted, and of
//    the batch split into parts as ranks would hold them ({3, 4}, {1, 6}, {0, 7}: one part
//    empty): each part runs model_backward_part with the maxima the parts agree on (recorded in a
//    first pass, then replayed, as the collective max would return them), the integer sums are
//    added, and model_backward_end converts them.
// Shapes: G = 40, P = 12 (T = 13), K = 5, dropout 0.1; C = 32, NH = 4 (tiled attention), L = 2;
// C = 16, NH = 1 (head size 16), L = 2; and C = 12, NH = 3 (head size 4: the BLAS attention
// path), L = 1. Each on every vector path this CPU has (the bits differ between paths, not
// within one).
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "model/model.h"
#include "mpi/exchange.h"
#include "tests/model/model_fixtures.h"

enum { NB = 7 };

static int failures = 0;

static void verdict(const char *what, size_t n_diff) {
    printf("%-58s %zu differing %s\n", what, n_diff, n_diff ? "FAIL" : "ok");
    if (n_diff) failures++;
}

static size_t n_diff(const float *a, const float *b, size_t n) {
    size_t d = 0;
    for (size_t i = 0; i < n; i++) d += memcmp(&a[i], &b[i], sizeof(float)) != 0;
    return d;
}

typedef struct {
    const Csr *x;      // the full batch
    const int64_t *ids;
    size_t K, C, P;
} Batch;

static Csr g_input;  // the last forward's input: the model reads it again in backward

// Forward of cells sel[0..n) of the batch as one batch; their outputs land at their rows of the full batch.
static void forward_subset(Model *m, const Batch *bt, const size_t *sel, size_t n, float *lo, float *em, float *at) {
    Csr parts[NB] = {{0}};
    int64_t ids[NB];
    for (size_t i = 0; i < n; i++) {
        parts[i] = csr_slice(bt->x, sel[i], 1);
        ids[i] = bt->ids[sel[i]];
    }
    csr_free(&g_input);
    g_input = csr_vstack(parts, n, bt->x->n_cols);
    model_forward(m, &g_input, m->training ? ids : NULL, 3, 9);
    for (size_t i = 0; i < n; i++) {
        memcpy(lo + sel[i] * bt->K, m->logits + i * bt->K, bt->K * sizeof(float));
        memcpy(em + sel[i] * bt->C, m->embedding + i * bt->C, bt->C * sizeof(float));
        memcpy(at + sel[i] * bt->P, m->attn + i * bt->P, bt->P * sizeof(float));
    }
    for (size_t i = 0; i < n; i++) csr_free(&parts[i]);
}

// GradMaxFn of a simulated split: records every call's values, or hands back the recorded maxima.
typedef struct {
    double *v;
    size_t n, at, replay;
} MaxLog;

static void max_log(void *ctx, double *v, size_t n) {
    MaxLog *g = ctx;
    if (!g->replay) {
        g->v = xrealloc(g->v, (g->n + n) * sizeof(double));
        memcpy(g->v + g->n, v, n * sizeof(double));
        g->n += n;
    } else {
        if (g->at + n > g->n) FATAL("test", "max_log: more calls than recorded");
        memcpy(v, g->v + g->at, n * sizeof(double));
        g->at += n;
    }
}

// Gradient of the batch split into two parts (cells [0, cut) and [cut, NB)), into grads.
static void split_gradient(Model *m, const Batch *bt, size_t cut, const float *dl, const float *de, float *grads) {
    size_t sel[NB], K = bt->K, C = bt->C;
    for (size_t i = 0; i < NB; i++) sel[i] = i;
    float *lo = xmalloc(NB * K * sizeof(float)), *em = xmalloc(NB * C * sizeof(float));
    float *at = xmalloc(NB * bt->P * sizeof(float));
    int64_t *sum = xcalloc(m->n_params, sizeof(int64_t));
    MaxLog log[2] = {{0}, {0}};
    for (int pass = 0; pass < 2; pass++) {  // pass 0 records each part's maxima, pass 1 replays the max of both
        if (pass == 1) {
            if (log[0].n != log[1].n) FATAL("test", "parts made different numbers of max calls (%zu, %zu)", log[0].n, log[1].n);
            for (size_t i = 0; i < log[0].n; i++) log[0].v[i] = log[1].v[i] = log[0].v[i] > log[1].v[i] ? log[0].v[i] : log[1].v[i];
            log[0].replay = log[1].replay = 1;
        }
        for (int part = 0; part < 2; part++) {
            size_t s0 = part ? cut : 0, n = part ? NB - cut : cut;
            if (n) forward_subset(m, bt, sel + s0, n, lo, em, at);
            model_backward_begin(m, NB, max_log, &log[part]);
            model_backward_part(m, n ? dl + s0 * K : NULL, n ? de + s0 * C : NULL, n);
            if (pass == 1)
                for (size_t i = 0; i < m->n_params; i++) sum[i] += m->gsum.acc[i];  // the integer all-reduce
        }
    }
    memcpy(m->gsum.acc, sum, m->n_params * sizeof(int64_t));
    model_zero_grad(m);
    model_backward_end(m);
    memcpy(grads, m->grads, m->n_params * sizeof(float));
    free(lo), free(em), free(at), free(sum), free(log[0].v), free(log[1].v);
}

static void run(size_t C, size_t NH, size_t L) {
    printf("---- C = %zu, NH = %zu, L = %zu\n", C, NH, L);
    size_t G = 40, P = 12, K = 5;
    PathwayMap map = fixture_map(P, G, 0.25, 501);
    Csr x = fixture_batch(NB, G, 0.4, 502, 100);
    int64_t ids[NB];
    for (size_t i = 0; i < NB; i++) ids[i] = 100 + (int64_t)i;
    ModelConfig cfg = fixture_config(&map, C, NH, L, K, 0.1f);
    Model m, inf;
    model_init(&m, &cfg, &map, NB, 1);
    model_init(&inf, &cfg, &map, 8, 0);
    model_init_weights(&m, 5);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] += 0.1f * rng_normal(503, 1, i, 0);
    fixture_fill(m.gene_zero, G, 0.5f, 504, 1);
    memcpy(inf.params, m.params, m.n_params * sizeof(float));
    memcpy(inf.gene_zero, m.gene_zero, G * sizeof(float));
    Batch bt = {&x, ids, K, C, P};
    size_t nl = NB * K, ne = NB * C, na = NB * P;
    float *lo0 = xmalloc(nl * 4), *em0 = xmalloc(ne * 4), *at0 = xmalloc(na * 4);
    float *lo = xmalloc(nl * 4), *em = xmalloc(ne * 4), *at = xmalloc(na * 4);
    size_t all[NB] = {0, 1, 2, 3, 4, 5, 6}, perm[NB] = {5, 2, 6, 0, 3, 1, 4};

    // 1. forward: the full batch (no dropout in the inference model) as the reference
    omp_set_num_threads(1);
    forward_subset(&m, &bt, all, NB, lo0, em0, at0);
    forward_subset(&m, &bt, perm, NB, lo, em, at);
    verdict("forward: permuted batch", n_diff(lo, lo0, nl) + n_diff(em, em0, ne) + n_diff(at, at0, na));
    for (size_t s = 0; s < NB; s++) forward_subset(&m, &bt, all + s, 1, lo, em, at);
    verdict("forward: one cell at a time", n_diff(lo, lo0, nl) + n_diff(em, em0, ne) + n_diff(at, at0, na));
    size_t groups[3][2] = {{0, 2}, {2, 3}, {5, 2}};  // cells 0-1, 2-4, 5-6
    for (size_t k = 0; k < 3; k++) forward_subset(&m, &bt, perm + groups[k][0], groups[k][1], lo, em, at);
    verdict("forward: batches of 2, 3, 2 (permuted)", n_diff(lo, lo0, nl) + n_diff(em, em0, ne) + n_diff(at, at0, na));
    omp_set_num_threads(2);
    forward_subset(&m, &bt, all, NB, lo, em, at);
    verdict("forward: 2 threads", n_diff(lo, lo0, nl) + n_diff(em, em0, ne) + n_diff(at, at0, na));
    omp_set_num_threads(1);
    float *lo1 = xmalloc(nl * 4), *em1 = xmalloc(ne * 4), *at1 = xmalloc(na * 4);
    forward_subset(&inf, &bt, all, NB, lo1, em1, at1);
    forward_subset(&inf, &bt, perm, 3, lo, em, at);
    forward_subset(&inf, &bt, perm + 3, 4, lo, em, at);
    verdict("inference: batches of 3 and 4 vs 7", n_diff(lo, lo1, nl) + n_diff(em, em1, ne) + n_diff(at, at1, na));

    // 2. backward
    float *dl = xmalloc(nl * 4), *de = xmalloc(ne * 4), *dlp = xmalloc(nl * 4), *dep = xmalloc(ne * 4);
    fixture_fill(dl, nl, 1.0f, 505, 1);
    fixture_fill(de, ne, 1.0f, 505, 2);
    size_t n = m.n_params;
    float *g0 = xmalloc(n * 4), *g = xmalloc(n * 4);
    forward_subset(&m, &bt, all, NB, lo, em, at);
    model_zero_grad(&m);
    model_backward(&m, dl, de);
    memcpy(g0, m.grads, n * 4);
    size_t nz = 0;
    for (size_t i = 0; i < n; i++) nz += g0[i] != 0.0f;
    printf("gradient: %zu of %zu elements nonzero\n", nz, n);
    if (nz < n / 2) verdict("gradient mostly nonzero (setup)", n - nz);
    for (size_t i = 0; i < NB; i++) {
        memcpy(dlp + i * K, dl + perm[i] * K, K * 4);
        memcpy(dep + i * C, de + perm[i] * C, C * 4);
    }
    forward_subset(&m, &bt, perm, NB, lo, em, at);
    model_zero_grad(&m);
    model_backward(&m, dlp, dep);
    verdict("backward: permuted batch", n_diff(m.grads, g0, n));
    omp_set_num_threads(2);
    forward_subset(&m, &bt, all, NB, lo, em, at);
    model_zero_grad(&m);
    model_backward(&m, dl, de);
    verdict("backward: 2 threads", n_diff(m.grads, g0, n));
    omp_set_num_threads(1);
    size_t cuts[3] = {3, 1, 0};
    for (size_t k = 0; k < 3; k++) {
        char what[64];
        split_gradient(&m, &bt, cuts[k], dl, de, g);
        snprintf(what, sizeof what, "backward: split into %zu + %zu cells", cuts[k], NB - cuts[k]);
        verdict(what, n_diff(g, g0, n));
    }
    free(lo0), free(em0), free(at0), free(lo), free(em), free(at), free(lo1), free(em1), free(at1);
    free(dl), free(de), free(dlp), free(dep), free(g0), free(g);
    model_free(&m);
    model_free(&inf);
    csr_free(&x);
    csr_free(&g_input);
    pathmap_free(&map);
}

int main(void) {
    for (int path = 0; path <= (int)cpu_path_best(); path++) {  // each vector path on its own
        cpu_path_set((CpuPath)path);
        printf("==== vector path %s\n", cpu_path_name((CpuPath)path));
        run(32, 4, 2);
        run(16, 1, 2);  // head size 16: one register on the avx512 path
        run(12, 3, 1);
    }
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
