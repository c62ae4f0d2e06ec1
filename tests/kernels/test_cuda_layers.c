// test_cuda_layers: every CUDA layer, loss and optimiser kernel against its CPU twin, at odd shapes
// (B=3, P=5, G=17, C=12, NH=3, K=4) and at production shapes (B=64, P=300, G=3000, C=128, NH=8,
// K=7, 8% nonzero). Exit 77 when no GPU is visible.
//
// Measure: max |gpu - cpu| / max |cpu| per tensor (tests/kernels/cuda_testutil.h), worst element printed.
// fp32 tolerances (the GPU sums in a different order and contracts multiply-adds):
//   exact (0)  the batch densified, dropout masks, row gather
//   1e-6       elementwise: GELU, residual + dropout, row scatter
//   1e-5       forward reductions over one row or one token: LayerNorm, pathway embedding, linear,
//              attention, softmax probabilities
//   1e-4       backward reductions over the batch (weight, bias and embedding gradients sum over up
//              to B·T = 19264 rows), attention backward
//   1e-12      losses, whose rows are computed in double as on the CPU
//   1e-6       the clustering loss gradients (double inside, float out)
//   bitwise    Adam (same constants, every float operation rounded on its own)
// Backward tests start from nonzero gradients to check that the GPU accumulates (+=).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/layers_cuda.h"
#include "kernels/losses_cuda.h"
#include "kernels/optim_cuda.h"
#include "loss/losses.h"
#include "loss/optim.h"
#include "model/layers.h"
#include "tests/kernels/cuda_testutil.h"
#include "tests/model/model_fixtures.h"

typedef struct {
    const char *name;
    size_t B, P, G, C, NH, K;
    double map_frac, density;
} Shape;

static cublasHandle_t g_blas;  // test-local: one handle for the whole run

static float *rnd(size_t n, float sd, uint64_t stream) {
    float *x = xmalloc((n ? n : 1) * sizeof(float));
    fixture_fill(x, n, sd, 12345, stream);
    return x;
}

static float *copyf(const float *x, size_t n) {
    float *y = xmalloc((n ? n : 1) * sizeof(float));
    memcpy(y, x, n * sizeof(float));
    return y;
}

// ---- the batch and the pathway embedding

static int test_pathemb(const Shape *s, const PathwayMap *map, const Csr *x) {
    size_t B = s->B, P = s->P, T = P + 1, G = s->G, C = s->C, M = map->M;
    int fails = 0;
    PathwayMapCuda dmap;
    pathmap_cuda_upload(&dmap, map);
    // densify
    float *dense = xcalloc(B * G, sizeof(float));
    for (size_t b = 0; b < B; b++)
        for (int64_t k = x->indptr[b]; k < x->indptr[b + 1]; k++) dense[b * G + (size_t)x->indices[k]] = x->data[k];
    int64_t *d_ptr = tu_dev(x->indptr, (B + 1) * sizeof(int64_t));
    int32_t *d_idx = tu_dev(x->indices, csr_nnz(x) * sizeof(int32_t));
    float *d_val = tu_devf(x->data, csr_nnz(x));
    float *d_xd = tu_devf(NULL, B * G);
    csr_densify_cuda(d_xd, d_ptr, d_idx, d_val, B, G, 0);
    fails += tu_check_dev("csr_densify", d_xd, dense, B * G, 0.0);

    float *zero = rnd(G, 0.5f, 1), *emb_w = rnd(M * C, 0.3f, 2), *emb_b = rnd(P * C, 0.1f, 3), *cls = rnd(C, 0.1f, 4);
    for (size_t g = 0; g < G; g += 3) zero[g] = 0.0f;  // some genes have a zero z
    float *d_zero = tu_devf(zero, G), *d_w = tu_devf(emb_w, M * C), *d_b = tu_devf(emb_b, P * C), *d_cls = tu_devf(cls, C);
    float *zemb = xmalloc(P * C * sizeof(float)), *d_zemb = tu_devf(NULL, P * C);
    pathemb_zero_forward(zemb, zero, emb_w, map, C);
    pathemb_zero_forward_cuda(d_zemb, d_zero, d_w, &dmap, C, 0);
    fails += tu_check_dev("pathemb_zero_forward", d_zemb, zemb, P * C, 1e-5);

    float *out = xmalloc(B * T * C * sizeof(float)), *d_out = tu_devf(NULL, B * T * C);
    pathemb_forward(out, x, zemb, emb_w, emb_b, cls, map, C);
    pathemb_forward_cuda(d_out, d_xd, d_zemb, d_w, d_b, d_cls, &dmap, B, C, 0);
    fails += tu_check_dev("pathemb_forward", d_out, out, B * T * C, 1e-5);

    float *dout = rnd(B * T * C, 1.0f, 5);
    float *dw = rnd(M * C, 0.1f, 6), *db = rnd(P * C, 0.1f, 7), *dcls = rnd(C, 0.1f, 8);
    float *d_dout = tu_devf(dout, B * T * C), *d_dw = tu_devf(dw, M * C), *d_db = tu_devf(db, P * C),
          *d_dcls = tu_devf(dcls, C);
    pathemb_backward(dw, db, dcls, dout, x, zero, map, C);
    pathemb_backward_cuda(d_dw, d_db, d_dcls, d_dout, d_xd, d_zero, &dmap, B, C, 0);
    fails += tu_check_dev("pathemb_backward demb_w", d_dw, dw, M * C, 1e-4);
    fails += tu_check_dev("pathemb_backward demb_b", d_db, db, P * C, 1e-4);
    fails += tu_check_dev("pathemb_backward dcls", d_dcls, dcls, C, 1e-4);

    void *dev[] = {d_ptr, d_idx, d_val, d_xd, d_zero, d_w, d_b, d_cls, d_zemb, d_out, d_dout, d_dw, d_db, d_dcls};
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) cudaFree(dev[i]);
    free(dense), free(zero), free(emb_w), free(emb_b), free(cls), free(zemb), free(out), free(dout), free(dw), free(db);
    free(dcls);
    pathmap_cuda_free(&dmap);
    return fails;
}

// ---- LayerNorm, linear, GELU

static int test_dense_layers(const Shape *s) {
    size_t N = s->B * (s->P + 1), C = s->C, F = 4 * C;
    int fails = 0;
    // LayerNorm
    float *in = rnd(N * C, 2.0f, 10), *w = rnd(C, 0.5f, 11), *b = rnd(C, 0.5f, 12);
    for (size_t i = 0; i < C; i++) w[i] += 1.0f;
    float *out = xmalloc(N * C * sizeof(float)), *mean = xmalloc(N * sizeof(float)), *rstd = xmalloc(N * sizeof(float));
    float *d_in = tu_devf(in, N * C), *d_w = tu_devf(w, C), *d_b = tu_devf(b, C);
    float *d_out = tu_devf(NULL, N * C), *d_mean = tu_devf(NULL, N), *d_rstd = tu_devf(NULL, N);
    layernorm_forward(out, mean, rstd, in, w, b, N, C);
    layernorm_forward_cuda(d_out, d_mean, d_rstd, d_in, d_w, d_b, N, C, 0);
    fails += tu_check_dev("layernorm_forward out", d_out, out, N * C, 1e-5);
    fails += tu_check_dev("layernorm_forward mean", d_mean, mean, N, 1e-5);
    fails += tu_check_dev("layernorm_forward rstd", d_rstd, rstd, N, 1e-5);
    float *dout = rnd(N * C, 1.0f, 13), *din = rnd(N * C, 0.1f, 14), *dw = rnd(C, 0.1f, 15), *db = rnd(C, 0.1f, 16);
    float *d_dout = tu_devf(dout, N * C), *d_din = tu_devf(din, N * C), *d_dw = tu_devf(dw, C), *d_db = tu_devf(db, C);
    layernorm_backward(din, dw, db, dout, in, mean, rstd, w, N, C);
    layernorm_backward_cuda(d_din, d_dw, d_db, d_dout, d_in, d_mean, d_rstd, d_w, N, C, 0);
    fails += tu_check_dev("layernorm_backward din", d_din, din, N * C, 1e-4);
    fails += tu_check_dev("layernorm_backward dw", d_dw, dw, C, 1e-4);
    fails += tu_check_dev("layernorm_backward db", d_db, db, C, 1e-4);
    void *dev1[] = {d_in, d_w, d_b, d_out, d_mean, d_rstd, d_dout, d_din, d_dw, d_db};
    for (size_t i = 0; i < sizeof dev1 / sizeof dev1[0]; i++) cudaFree(dev1[i]);
    free(in), free(w), free(b), free(out), free(mean), free(rstd), free(dout), free(din), free(dw), free(db);

    // linear: (IC -> OC) = (C -> 3C) with bias, (F -> C) with bias, (C -> F) without
    size_t dims[3][2] = {{C, 3 * C}, {F, C}, {C, F}};
    for (int t = 0; t < 3; t++) {
        size_t IC = dims[t][0], OC = dims[t][1];
        int bias = t < 2, want_din = t != 1;
        char label[96];
        float *x = rnd(N * IC, 1.0f, 20 + t), *wt = rnd(OC * IC, 0.05f, 30 + t), *bb = rnd(OC, 0.1f, 40 + t);
        float *y = xmalloc(N * OC * sizeof(float));
        float *d_x = tu_devf(x, N * IC), *d_wt = tu_devf(wt, OC * IC), *d_bb = tu_devf(bb, OC), *d_y = tu_devf(NULL, N * OC);
        linear_forward(y, x, wt, bias ? bb : NULL, N, IC, OC);
        linear_forward_cuda(d_y, d_x, d_wt, bias ? d_bb : NULL, N, IC, OC, g_blas, 0);
        snprintf(label, sizeof label, "linear_forward %zu->%zu%s", IC, OC, bias ? " +b" : "");
        fails += tu_check_dev(label, d_y, y, N * OC, 1e-5);
        float *dy = rnd(N * OC, 1.0f, 50 + t), *dx = rnd(N * IC, 0.1f, 60 + t), *dwt = rnd(OC * IC, 0.1f, 70 + t),
              *dbb = rnd(OC, 0.1f, 80 + t);
        float *d_dy = tu_devf(dy, N * OC), *d_dx = tu_devf(dx, N * IC), *d_dwt = tu_devf(dwt, OC * IC),
              *d_dbb = tu_devf(dbb, OC);
        linear_backward(want_din ? dx : NULL, dwt, bias ? dbb : NULL, dy, x, wt, N, IC, OC);
        linear_backward_cuda(want_din ? d_dx : NULL, d_dwt, bias ? d_dbb : NULL, d_dy, d_x, d_wt, N, IC, OC, g_blas, 0);
        snprintf(label, sizeof label, "linear_backward %zu->%zu din%s", IC, OC, want_din ? "" : " (NULL)");
        fails += tu_check_dev(label, d_dx, dx, N * IC, 1e-4);
        snprintf(label, sizeof label, "linear_backward %zu->%zu dw", IC, OC);
        fails += tu_check_dev(label, d_dwt, dwt, OC * IC, 1e-4);
        snprintf(label, sizeof label, "linear_backward %zu->%zu db%s", IC, OC, bias ? "" : " (NULL)");
        fails += tu_check_dev(label, d_dbb, dbb, OC, 1e-4);
        void *dev2[] = {d_x, d_wt, d_bb, d_y, d_dy, d_dx, d_dwt, d_dbb};
        for (size_t i = 0; i < sizeof dev2 / sizeof dev2[0]; i++) cudaFree(dev2[i]);
        free(x), free(wt), free(bb), free(y), free(dy), free(dx), free(dwt), free(dbb);
    }

    // GELU (also in place)
    size_t n = N * F;
    float *gx = rnd(n, 2.0f, 90), *gy = xmalloc(n * sizeof(float)), *gd = rnd(n, 1.0f, 91), *gdin = rnd(n, 0.1f, 92);
    float *d_gx = tu_devf(gx, n), *d_gy = tu_devf(NULL, n), *d_gd = tu_devf(gd, n), *d_gdin = tu_devf(gdin, n);
    gelu_forward(gy, gx, n);
    gelu_forward_cuda(d_gy, d_gx, n, 0);
    fails += tu_check_dev("gelu_forward", d_gy, gy, n, 1e-6);
    gelu_backward(gdin, gd, gx, n);
    gelu_backward_cuda(d_gdin, d_gd, d_gx, n, 0);
    fails += tu_check_dev("gelu_backward", d_gdin, gdin, n, 1e-6);
    gelu_forward_cuda(d_gx, d_gx, n, 0);
    fails += tu_check_dev("gelu_forward in place", d_gx, gy, n, 1e-6);
    cudaFree(d_gx), cudaFree(d_gy), cudaFree(d_gd), cudaFree(d_gdin);
    free(gx), free(gy), free(gd), free(gdin);
    return fails;
}

// ---- residual + dropout, row gather / scatter

static int test_residual(const Shape *s) {
    size_t B = s->B, T = s->P + 1, C = s->C, q0 = s->P, N = T * C;
    int fails = 0;
    int64_t *ids = xmalloc(B * sizeof(int64_t));
    for (size_t b = 0; b < B; b++) ids[b] = (int64_t)(1000 + 7 * b);  // global cell ids, not the slots
    int64_t *d_ids = tu_dev(ids, B * sizeof(int64_t));
    float *res = rnd(B * N, 1.0f, 100), *y = rnd(B * N, 1.0f, 101), *out = xmalloc(B * N * sizeof(float));
    float *d_res = tu_devf(res, B * N), *d_y = tu_devf(y, B * N), *d_out = tu_devf(NULL, B * N);
    uint8_t *keep = xmalloc(B * N), *d_keep = tu_dev(NULL, B * N), *g_keep = xmalloc(B * N);
    float ps[2] = {0.0f, 0.1f};
    for (int t = 0; t < 2; t++) {
        float p = ps[t];
        char label[96];
        // the full (B,T,C) and the last layer's cls rows only (i0 = q0·C, N = C)
        for (int part = 0; part < 2; part++) {
            size_t n = part ? C : N, i0 = part ? q0 * C : 0;
            residual_forward(out, p > 0 ? keep : NULL, res, y, ids, 7, 1234, p, B, n, i0);
            residual_forward_cuda(d_out, p > 0 ? d_keep : NULL, d_res, d_y, d_ids, 7, 1234, p, B, n, i0, 0);
            snprintf(label, sizeof label, "residual_forward p=%.1f %s", (double)p, part ? "cls rows" : "all rows");
            fails += tu_check_dev(label, d_out, out, B * n, 1e-6);
            if (p > 0) {
                CUDA_CHECK(cudaMemcpy(g_keep, d_keep, B * n, cudaMemcpyDeviceToHost));
                size_t diff = 0, kept = 0;
                for (size_t i = 0; i < B * n; i++) {
                    diff += g_keep[i] != keep[i];
                    kept += keep[i];
                }
                int f = diff != 0;
                printf("  %-44s n=%-9zu %zu mask element(s) differ (kept %.3f)  %s\n", "dropout mask vs CPU rng", B * n,
                       diff, (double)kept / (double)(B * n), f ? "FAIL" : "ok");
                fails += f;
            }
            float *dout = rnd(B * n, 1.0f, 110), *dres = rnd(B * n, 0.1f, 111), *dy = rnd(B * n, 0.1f, 112);
            float *d_dout = tu_devf(dout, B * n), *d_dres = tu_devf(dres, B * n), *d_dy = tu_devf(dy, B * n);
            residual_backward(dres, dy, dout, p > 0 ? keep : NULL, p, B, n);
            residual_backward_cuda(d_dres, d_dy, d_dout, p > 0 ? d_keep : NULL, p, B, n, 0);
            snprintf(label, sizeof label, "residual_backward p=%.1f dres", (double)p);
            fails += tu_check_dev(label, d_dres, dres, B * n, 1e-6);
            snprintf(label, sizeof label, "residual_backward p=%.1f dy", (double)p);
            fails += tu_check_dev(label, d_dy, dy, B * n, 1e-6);
            cudaFree(d_dout), cudaFree(d_dres), cudaFree(d_dy);
            free(dout), free(dres), free(dy);
        }
    }
    // gather / scatter of the cls row
    float *g = xmalloc(B * C * sizeof(float)), *d_g = tu_devf(NULL, B * C);
    rows_gather(g, res, B, T, C, q0);
    rows_gather_cuda(d_g, d_res, B, T, C, q0, 0);
    fails += tu_check_dev("rows_gather", d_g, g, B * C, 0.0);
    rows_scatter_add(res, g, B, T, C, q0);
    rows_scatter_add_cuda(d_res, d_g, B, T, C, q0, 0);
    fails += tu_check_dev("rows_scatter_add", d_res, res, B * N, 1e-6);
    cudaFree(d_ids), cudaFree(d_res), cudaFree(d_y), cudaFree(d_out), cudaFree(d_keep), cudaFree(d_g);
    free(ids), free(res), free(y), free(out), free(keep), free(g_keep), free(g);
    return fails;
}

// ---- attention

static int test_attention(const Shape *s) {
    size_t B = s->B, T = s->P + 1, C = s->C, NH = s->NH;
    int fails = 0;
    float *qkv = rnd(B * T * 3 * C, 1.0f, 200);
    float *d_qkv = tu_devf(qkv, B * T * 3 * C);
    float *d_att = tu_devf(NULL, B * NH * T * T), *d_datt = tu_devf(NULL, B * NH * T * T);
    size_t q0s[2] = {0, T - 1};
    for (int t = 0; t < 2; t++) {
        size_t q0 = q0s[t], Tq = T - q0;
        char label[96];
        float *out = xmalloc(B * Tq * C * sizeof(float)), *ac = xmalloc(B * (T - 1) * sizeof(float));
        float *d_out = tu_devf(NULL, B * Tq * C), *d_ac = tu_devf(NULL, B * (T - 1));
        attention_forward(out, q0 ? ac : NULL, qkv, B, T, C, NH, q0);
        attention_forward_cuda(d_out, q0 ? d_ac : NULL, d_att, d_qkv, B, T, C, NH, q0, g_blas, 0);
        snprintf(label, sizeof label, "attention_forward q0=%zu out", q0);
        fails += tu_check_dev(label, d_out, out, B * Tq * C, 1e-5);
        if (q0) fails += tu_check_dev("attention_forward cls->pathway attn", d_ac, ac, B * (T - 1), 1e-5);
        float *dout = rnd(B * Tq * C, 1.0f, 210 + t), *dqkv = rnd(B * T * 3 * C, 0.1f, 220 + t);
        float *d_dout = tu_devf(dout, B * Tq * C), *d_dqkv = tu_devf(dqkv, B * T * 3 * C);
        attention_backward(dqkv, dout, qkv, B, T, C, NH, q0);
        attention_backward_cuda(d_dqkv, d_att, d_datt, d_dout, d_qkv, B, T, C, NH, q0, g_blas, 0);
        snprintf(label, sizeof label, "attention_backward q0=%zu dqkv", q0);
        fails += tu_check_dev(label, d_dqkv, dqkv, B * T * 3 * C, 1e-4);
        cudaFree(d_out), cudaFree(d_ac), cudaFree(d_dout), cudaFree(d_dqkv);
        free(out), free(ac), free(dout), free(dqkv);
    }
    cudaFree(d_qkv), cudaFree(d_att), cudaFree(d_datt);
    free(qkv);
    return fails;
}

// ---- losses

static int test_losses(const Shape *s) {
    size_t B = s->B, K = s->K, C = s->C;
    int fails = 0;
    float tau = 3.0f, scale = 1.0f / (float)B;
    float *logits = rnd(B * K, 2.0f, 300), *teacher = rnd(B * K, 2.0f, 301), *emb = rnd(B * C, 0.05f, 302);
    int32_t *labels = xmalloc(B * sizeof(int32_t));
    for (size_t i = 0; i < B; i++) labels[i] = (int32_t)((i * 5 + 1) % K);
    labels[B / 2] = -1;  // an unlabelled row is skipped
    float *d_logits = tu_devf(logits, B * K), *d_teacher = tu_devf(teacher, B * K), *d_emb = tu_devf(emb, B * C);
    int32_t *d_labels = tu_dev(labels, B * sizeof(int32_t));
    float *probs = xmalloc(B * K * sizeof(float)), *d_probs = tu_devf(NULL, B * K);

    softmax_rows(probs, logits, B, K, tau);
    softmax_rows_cuda(d_probs, d_logits, B, K, tau, 0);
    fails += tu_check_dev("softmax_rows tau=3", d_probs, probs, B * K, 1e-6);

    double ce = ce_forward(probs, logits, labels, B, K);
    double gce = ce_forward_cuda(d_probs, d_logits, d_labels, B, K, 0);
    fails += tu_check_scalar("ce_forward (sum)", gce, ce, 1e-12);
    fails += tu_check_dev("ce_forward probs", d_probs, probs, B * K, 1e-6);
    float *dl = rnd(B * K, 0.01f, 303), *d_dl = tu_devf(dl, B * K);
    ce_backward(dl, probs, labels, B, K, scale);
    ce_backward_cuda(d_dl, d_probs, d_labels, B, K, scale, 0);
    fails += tu_check_dev("ce_backward", d_dl, dl, B * K, 1e-6);

    double kd = kd_forward(logits, teacher, B, K, tau);
    double gkd = kd_forward_cuda(d_logits, d_teacher, B, K, tau, 0);
    fails += tu_check_scalar("kd_forward (sum)", gkd, kd, 1e-12);
    kd_backward(dl, logits, teacher, B, K, tau, scale);
    kd_backward_cuda(d_dl, d_logits, d_teacher, B, K, tau, scale, 0);
    fails += tu_check_dev("kd_backward", d_dl, dl, B * K, 1e-6);

    softmax_rows(probs, logits, B, K, 1.0f);
    CUDA_CHECK(cudaMemcpy(d_probs, probs, B * K * sizeof(float), cudaMemcpyHostToDevice));  // the same q on both
    double ada = ada_forward(emb, probs, B, C, K);
    double gada = ada_forward_cuda(d_emb, d_probs, B, C, K, 0);
    fails += tu_check_scalar("ada_forward", gada, ada, 1e-10);
    float *de = rnd(B * C, 0.01f, 304), *d_de = tu_devf(de, B * C);
    ada_backward(de, dl, emb, probs, B, C, K, 0.2f);
    ada_backward_cuda(d_de, d_dl, d_emb, d_probs, B, C, K, 0.2f, 0);
    fails += tu_check_dev("ada_backward demb", d_de, de, B * C, 1e-6);
    fails += tu_check_dev("ada_backward dlogits", d_dl, dl, B * K, 1e-6);

    void *dev[] = {d_logits, d_teacher, d_emb, d_labels, d_probs, d_dl, d_de};
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) cudaFree(dev[i]);
    free(logits), free(teacher), free(emb), free(labels), free(probs), free(dl), free(de);
    return fails;
}

// ---- Adam and clipping

static int test_optim(size_t n) {
    int fails = 0;
    float *p = rnd(n, 0.5f, 400), *g = rnd(n, 0.01f, 401), *m = xcalloc(n, sizeof(float)), *v = xcalloc(n, sizeof(float));
    uint8_t *mask = xmalloc(n);
    for (size_t i = 0; i < n; i++) mask[i] = (uint8_t)(i % 3 != 0);
    float *d_p = tu_devf(p, n), *d_g = tu_devf(g, n), *d_m = tu_devf(m, n), *d_v = tu_devf(v, n);
    uint8_t *d_mask = tu_dev(mask, n);
    AdamOptions o = adam_defaults();
    o.adamw = 1;
    for (uint64_t step = 1; step <= 3; step++) {
        float lr = lr_at(LR_COSINE, 1e-3f, step, 1, 3);
        adam_step(p, g, m, v, n, &o, lr, step, mask);
        adam_step_cuda(d_p, d_g, d_m, d_v, n, &o, lr, step, d_mask, 0);
        for (size_t i = 0; i < n; i++) g[i] = 0.9f * g[i] + 0.001f;  // a new gradient on both sides
        CUDA_CHECK(cudaMemcpy(d_g, g, n * sizeof(float), cudaMemcpyHostToDevice));
    }
    float *hp = tu_hostf(d_p, n), *hm = tu_hostf(d_m, n), *hv = tu_hostf(d_v, n);
    fails += tu_check_bitwise("adamw x3 params", hp, p, n);
    fails += tu_check_bitwise("adamw x3 m", hm, m, n);
    fails += tu_check_bitwise("adamw x3 v", hv, v, n);
    // clipping: a norm well above the threshold
    float *gc = copyf(g, n);
    double norm = grad_clip(gc, n, 0.01f);
    double gnorm = grad_clip_cuda(d_g, n, 0.01f, 0);
    fails += tu_check_scalar("grad_clip norm", gnorm, norm, 1e-12);
    fails += tu_check_dev("grad_clip scaled grads", d_g, gc, n, 1e-6);
    cudaFree(d_p), cudaFree(d_g), cudaFree(d_m), cudaFree(d_v), cudaFree(d_mask);
    free(p), free(g), free(m), free(v), free(mask), free(hp), free(hm), free(hv), free(gc);
    return fails;
}

static int run_shape(const Shape *s) {
    printf("shape %s: B=%zu P=%zu T=%zu G=%zu C=%zu NH=%zu K=%zu\n", s->name, s->B, s->P, s->P + 1, s->G, s->C, s->NH,
           s->K);
    PathwayMap map = fixture_map(s->P, s->G, s->map_frac, 3);
    Csr x = fixture_batch(s->B, s->G, s->density, 4, 0);
    printf("  (M=%zu memberships, %zu nonzeros)\n", map.M, csr_nnz(&x));
    int fails = 0;
    fails += test_pathemb(s, &map, &x);
    fails += test_dense_layers(s);
    fails += test_residual(s);
    fails += test_attention(s);
    fails += test_losses(s);
    fails += test_optim(s->B * s->C * 37 + 5);
    csr_free(&x);
    pathmap_free(&map);
    return fails;
}

int main(void) {
    tu_require_gpu("test_cuda_layers");
    CUBLAS_CHECK(cublasCreate(&g_blas));
    Shape shapes[2] = {
        {"odd", 3, 5, 17, 12, 3, 4, 0.3, 0.4},
        {"production", 64, 300, 3000, 128, 8, 7, 0.022, 0.08},
    };
    int fails = 0;
    for (int i = 0; i < 2; i++) fails += run_shape(&shapes[i]);
    cublasDestroy(g_blas);
    printf("test_cuda_layers: %s (%d check(s) failed)\n", fails ? "FAIL" : "PASS", fails);
    return fails ? 1 : 0;
}
