// test_layers_grad: every CPU layer's backward against central finite differences.
// For each layer: random float inputs; the float forward must match a double re-implementation
// (tests/model/model_ref.h) within 1e-5 relative; the loss is Σ w ⊙ out with a fixed random w, so the
// float backward gets dout = w; its gradients are compared with central differences of the
// DOUBLE forward (step 1e-5, truncation and rounding error ~1e-10), so the only error left is
// the float rounding of the analytic backward. Error = max |analytic − numeric| / max |numeric|
// per gradient tensor; pass if <= 1e-4. Shapes are small and odd: B=3, P=5 (T=6), C=12, NH=3,
// K=4, 17 genes; attention also at head sizes 5, 8, 16, 24 and T = 21. Every layer on every vector
// path this CPU has (src/core/cpu.h), the portable one included.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "model/layers.h"
#include "model/vecmath.h"
#include "tests/model/model_fixtures.h"
#include "tests/model/model_ref.h"

#define TOL_FWD 1e-5
#define TOL_GRAD 1e-5
#define FD_STEP 1e-5

typedef struct {
    const char *name;
    double *x;          // (n) input of the double forward, perturbed in place
    size_t n;
    const float *grad;  // (n) analytic float gradient
} Wrt;

typedef double (*LossFn)(void *ctx);

static int failures = 0;

static double *to_double(const float *x, size_t n) {
    double *d = xmalloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}

static double dot(const double *a, const float *w, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * w[i];
    return s;
}

static void check_forward(const char *layer, const float *out, const double *ref, size_t n) {
    double num = 0, den = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(out[i] - ref[i]);
        if (d > num || isnan(d)) num = isnan(d) ? INFINITY : d;
        if (fabs(ref[i]) > den) den = fabs(ref[i]);
    }
    double rel = num / den;
    int ok = rel <= TOL_FWD;
    printf("%-12s forward vs double: rel err %.2e %s\n", layer, rel, ok ? "ok" : "FAIL");
    if (!ok) failures++;
}

// Central differences of f over every element of every wrt; prints and returns the worst error.
static double check_grads(const char *layer, LossFn f, void *ctx, Wrt *w, size_t nw) {
    double worst = 0;
    for (size_t k = 0; k < nw; k++) {
        double num = 0, den = 1e-30;
        size_t at = 0;
        for (size_t i = 0; i < w[k].n; i++) {
            double keep = w[k].x[i];
            w[k].x[i] = keep + FD_STEP;
            double lp = f(ctx);
            w[k].x[i] = keep - FD_STEP;
            double lm = f(ctx);
            w[k].x[i] = keep;
            double fd = (lp - lm) / (2 * FD_STEP);
            double d = fabs(fd - w[k].grad[i]);
            if (d > num || isnan(d)) num = isnan(d) ? INFINITY : d, at = i;
            if (fabs(fd) > den) den = fabs(fd);
        }
        double rel = num / den;
        printf("%-12s d%-8s rel err %.2e (worst element %zu, max |grad| %.3g)\n", layer, w[k].name, rel, at, den);
        if (rel > worst || isnan(rel)) worst = isnan(rel) ? INFINITY : rel;
    }
    int ok = worst <= TOL_GRAD;
    printf("%-12s WORST gradient rel err %.2e %s\n", layer, worst, ok ? "ok" : "FAIL");
    if (!ok) failures++;
    return worst;
}

// ---------------------------------------------------------------- pathway embedding
typedef struct {
    const Csr *x;
    const PathwayMap *map;
    size_t C;
    double *zero, *emb_w, *emb_b, *cls, *out;
    const float *w;
} PathembCtx;

static double pathemb_loss(void *p) {
    PathembCtx *c = p;
    ref_pathemb(c->out, c->x, c->zero, c->emb_w, c->emb_b, c->cls, c->map, c->C);
    return dot(c->out, c->w, c->x->n_rows * (c->map->P + 1) * c->C);
}

static void test_pathemb(void) {
    size_t B = 4, G = 17, P = 5, C = 12, T = P + 1;
    PathwayMap map = fixture_map(P, G, 0.35, 11);
    Csr x = fixture_batch(B, G, 0.4, 12, 0);
    x.indptr[B] = x.indptr[B - 1];  // the last cell has no nonzero gene
    size_t M = map.M;
    float *zero = xmalloc(G * sizeof(float)), *emb_w = xmalloc(M * C * sizeof(float));
    float *emb_b = xmalloc(P * C * sizeof(float)), *cls = xmalloc(C * sizeof(float));
    fixture_fill(zero, G, 0.7f, 13, 1);
    fixture_fill(emb_w, M * C, 0.5f, 13, 2);
    fixture_fill(emb_b, P * C, 0.5f, 13, 3);
    fixture_fill(cls, C, 0.5f, 13, 4);
    float *zemb = xmalloc(P * C * sizeof(float)), *out = xmalloc(B * T * C * sizeof(float));
    float *w = xmalloc(B * T * C * sizeof(float));
    fixture_fill(w, B * T * C, 1.0f, 13, 5);
    pathemb_zero_forward(zemb, zero, emb_w, &map, C);
    pathemb_forward(out, &x, zemb, emb_w, emb_b, cls, &map, C);
    float *dw = xcalloc(M * C, sizeof(float)), *db = xcalloc(P * C, sizeof(float)), *dc = xcalloc(C, sizeof(float));
    pathemb_backward(dw, db, dc, w, &x, zero, &map, C);

    PathembCtx c = {&x, &map, C, to_double(zero, G), to_double(emb_w, M * C), to_double(emb_b, P * C),
                    to_double(cls, C), xmalloc(B * T * C * sizeof(double)), w};
    pathemb_loss(&c);
    check_forward("pathemb", out, c.out, B * T * C);
    Wrt wrt[] = {{"emb_w", c.emb_w, M * C, dw}, {"emb_b", c.emb_b, P * C, db}, {"cls", c.cls, C, dc}};
    printf("pathemb      M = %zu memberships, nnz = %zu, zero vector nonzero\n", M, csr_nnz(&x));
    check_grads("pathemb", pathemb_loss, &c, wrt, 3);
    free(c.zero), free(c.emb_w), free(c.emb_b), free(c.cls), free(c.out);
    free(zero), free(emb_w), free(emb_b), free(cls), free(zemb), free(out), free(w), free(dw), free(db), free(dc);
    csr_free(&x);
    pathmap_free(&map);
}

// ---------------------------------------------------------------- LayerNorm
typedef struct {
    size_t N, C;
    double *in, *lw, *lb, *out;
    const float *w;
} LnCtx;

static double ln_loss(void *p) {
    LnCtx *c = p;
    ref_layernorm(c->out, c->in, c->lw, c->lb, c->N, c->C);
    return dot(c->out, c->w, c->N * c->C);
}

static void test_layernorm(void) {
    size_t N = 7, C = 12;
    float *in = xmalloc(N * C * sizeof(float)), *lw = xmalloc(C * sizeof(float)), *lb = xmalloc(C * sizeof(float));
    fixture_fill(in, N * C, 2.0f, 21, 1);
    for (size_t i = 0; i < N * C; i++) in[i] += (float)(i / C);  // rows with different means
    fixture_fill(lw, C, 1.0f, 21, 2);
    fixture_fill(lb, C, 1.0f, 21, 3);
    float *out = xmalloc(N * C * sizeof(float)), *mean = xmalloc(N * sizeof(float)), *rstd = xmalloc(N * sizeof(float));
    float *w = xmalloc(N * C * sizeof(float));
    fixture_fill(w, N * C, 1.0f, 21, 4);
    layernorm_forward(out, mean, rstd, in, lw, lb, N, C);
    float *din = xcalloc(N * C, sizeof(float)), *dlw = xcalloc(C, sizeof(float)), *dlb = xcalloc(C, sizeof(float));
    layernorm_backward(din, dlw, dlb, w, in, mean, rstd, lw, N, C);
    LnCtx c = {N, C, to_double(in, N * C), to_double(lw, C), to_double(lb, C), xmalloc(N * C * sizeof(double)), w};
    ln_loss(&c);
    check_forward("layernorm", out, c.out, N * C);
    Wrt wrt[] = {{"in", c.in, N * C, din}, {"w", c.lw, C, dlw}, {"b", c.lb, C, dlb}};
    check_grads("layernorm", ln_loss, &c, wrt, 3);
    free(c.in), free(c.lw), free(c.lb), free(c.out);
    free(in), free(lw), free(lb), free(out), free(mean), free(rstd), free(w), free(din), free(dlw), free(dlb);
}

// ---------------------------------------------------------------- linear
typedef struct {
    size_t N, IC, OC;
    double *in, *lw, *lb, *out;
    const float *w;
} LinCtx;

static double lin_loss(void *p) {
    LinCtx *c = p;
    ref_linear(c->out, c->in, c->lw, c->lb, c->N, c->IC, c->OC);
    return dot(c->out, c->w, c->N * c->OC);
}

static void test_linear(void) {
    size_t N = 7, IC = 12, OC = 9;
    float *in = xmalloc(N * IC * sizeof(float)), *lw = xmalloc(OC * IC * sizeof(float));
    float *lb = xmalloc(OC * sizeof(float)), *w = xmalloc(N * OC * sizeof(float));
    fixture_fill(in, N * IC, 1.0f, 31, 1);
    fixture_fill(lw, OC * IC, 0.5f, 31, 2);
    fixture_fill(lb, OC, 0.5f, 31, 3);
    fixture_fill(w, N * OC, 1.0f, 31, 4);
    float *out = xmalloc(N * OC * sizeof(float));
    linear_forward(out, in, lw, lb, N, IC, OC);
    float *din = xcalloc(N * IC, sizeof(float)), *dlw = xcalloc(OC * IC, sizeof(float)), *dlb = xcalloc(OC, sizeof(float));
    linear_backward(din, dlw, dlb, w, in, lw, N, IC, OC);
    LinCtx c = {N, IC, OC, to_double(in, N * IC), to_double(lw, OC * IC), to_double(lb, OC),
                xmalloc(N * OC * sizeof(double)), w};
    lin_loss(&c);
    check_forward("linear", out, c.out, N * OC);
    Wrt wrt[] = {{"in", c.in, N * IC, din}, {"w", c.lw, OC * IC, dlw}, {"b", c.lb, OC, dlb}};
    check_grads("linear", lin_loss, &c, wrt, 3);
    free(c.in), free(c.lw), free(c.lb), free(c.out);
    free(in), free(lw), free(lb), free(w), free(out), free(din), free(dlw), free(dlb);
}

// ---------------------------------------------------------------- attention
typedef struct {
    size_t B, T, C, NH, q0;
    double *qkv, *out;
    const float *w;
} AttCtx;

static double att_loss(void *p) {
    AttCtx *c = p;
    ref_attention(c->out, NULL, c->qkv, c->B, c->T, c->C, c->NH, c->q0);
    return dot(c->out, c->w, c->B * (c->T - c->q0) * c->C);
}

static void test_attention(size_t T, size_t C, size_t NH, size_t q0, const char *name) {
    size_t B = 3, Tq = T - q0;
    float *qkv = xmalloc(B * T * 3 * C * sizeof(float)), *w = xmalloc(B * Tq * C * sizeof(float));
    fixture_fill(qkv, B * T * 3 * C, 1.0f, 41, 1);
    fixture_fill(w, B * Tq * C, 1.0f, 41, 2);
    float *out = xmalloc(B * Tq * C * sizeof(float)), *acls = xmalloc(B * (T - 1) * sizeof(float));
    attention_forward(out, acls, qkv, B, T, C, NH, q0);
    float *dqkv = xcalloc(B * T * 3 * C, sizeof(float));
    attention_backward(dqkv, w, qkv, B, T, C, NH, q0);
    AttCtx c = {B, T, C, NH, q0, to_double(qkv, B * T * 3 * C), xmalloc(B * Tq * C * sizeof(double)), w};
    double *racls = xmalloc(B * (T - 1) * sizeof(double));
    ref_attention(c.out, racls, c.qkv, B, T, C, NH, q0);
    check_forward(name, out, c.out, B * Tq * C);
    check_forward(name, acls, racls, B * (T - 1));
    Wrt wrt[] = {{"qkv", c.qkv, B * T * 3 * C, dqkv}};
    check_grads(name, att_loss, &c, wrt, 1);
    free(c.qkv), free(c.out), free(racls);
    free(qkv), free(w), free(out), free(acls), free(dqkv);
}

// ---------------------------------------------------------------- GELU
typedef struct {
    size_t N;
    double *in, *out;
    const float *w;
} GeluCtx;

static double gelu_loss(void *p) {
    GeluCtx *c = p;
    ref_gelu(c->out, c->in, c->N);
    return dot(c->out, c->w, c->N);
}

static void test_gelu(void) {
    size_t N = 61;
    float *in = xmalloc(N * sizeof(float)), *w = xmalloc(N * sizeof(float)), *out = xmalloc(N * sizeof(float));
    for (size_t i = 0; i < N; i++) in[i] = -6.0f + 12.0f * (float)i / (float)(N - 1) + 0.013f;
    fixture_fill(w, N, 1.0f, 51, 1);
    gelu_forward(out, in, N);
    float *din = xcalloc(N, sizeof(float));
    gelu_backward(din, w, in, N);
    GeluCtx c = {N, to_double(in, N), xmalloc(N * sizeof(double)), w};
    gelu_loss(&c);
    check_forward("gelu", out, c.out, N);
    Wrt wrt[] = {{"in", c.in, N, din}};
    check_grads("gelu", gelu_loss, &c, wrt, 1);
    free(c.in), free(c.out), free(in), free(w), free(out), free(din);
}

// ---------------------------------------------------------------- residual with dropout
typedef struct {
    size_t B, N, i0;
    const int64_t *cells;
    uint64_t seed, stream;
    double p, *res, *y, *out;
    const float *w;
} ResCtx;

// The spec's mask, recomputed from the generator, not from the layer's saved mask.
static void ref_residual(ResCtx *c) {
    for (size_t b = 0; b < c->B; b++)
        for (size_t i = 0; i < c->N; i++) {
            int keep = !(rng_uniform(c->seed, c->stream, (uint64_t)c->cells[b], c->i0 + i) < c->p);
            size_t k = b * c->N + i;
            c->out[k] = c->res[k] + (keep ? c->y[k] / (1.0 - c->p) : 0.0);
        }
}

static double res_loss(void *p) {
    ResCtx *c = p;
    ref_residual(c);
    return dot(c->out, c->w, c->B * c->N);
}

static void test_residual(float p, const char *name) {
    size_t B = 3, N = 2 * 12, i0 = 5 * 12;
    int64_t cells[3] = {7, 1003, 42};
    float *res = xmalloc(B * N * sizeof(float)), *y = xmalloc(B * N * sizeof(float)), *w = xmalloc(B * N * sizeof(float));
    fixture_fill(res, B * N, 1.0f, 61, 1);
    fixture_fill(y, B * N, 1.0f, 61, 2);
    fixture_fill(w, B * N, 1.0f, 61, 3);
    float *out = xmalloc(B * N * sizeof(float));
    uint8_t *keep = xmalloc(B * N);
    residual_forward(out, keep, res, y, cells, 99, 1234, p, B, N, i0);
    float *dres = xcalloc(B * N, sizeof(float)), *dy = xcalloc(B * N, sizeof(float));
    residual_backward(dres, dy, w, keep, p, B, N);
    size_t dropped = 0;
    if (p > 0)
        for (size_t k = 0; k < B * N; k++) dropped += !keep[k];
    ResCtx c = {B, N, i0, cells, 99, 1234, p, to_double(res, B * N), to_double(y, B * N),
                xmalloc(B * N * sizeof(double)), w};
    res_loss(&c);
    printf("%-12s p = %.2f, %zu of %zu dropped\n", name, (double)p, dropped, B * N);
    if (p > 0 && (dropped == 0 || dropped == B * N)) {
        printf("%-12s FAIL: mask is all-%s\n", name, dropped ? "dropped" : "kept");
        failures++;
    }
    check_forward(name, out, c.out, B * N);
    Wrt wrt[] = {{"res", c.res, B * N, dres}, {"y", c.y, B * N, dy}};
    check_grads(name, res_loss, &c, wrt, 2);
    free(c.res), free(c.y), free(c.out), free(res), free(y), free(w), free(out), free(keep), free(dres), free(dy);
}

// ---------------------------------------------------------------- head: GELU(e W1ᵀ + b1) W2ᵀ + b2
typedef struct {
    size_t B, C, K;
    double *e, *w1, *b1, *w2, *b2, *h, *out;
    const float *w;
} HeadCtx;

static double head_loss(void *p) {
    HeadCtx *c = p;
    ref_linear(c->h, c->e, c->w1, c->b1, c->B, c->C, c->C);
    ref_gelu(c->h, c->h, c->B * c->C);
    ref_linear(c->out, c->h, c->w2, c->b2, c->B, c->C, c->K);
    return dot(c->out, c->w, c->B * c->K);
}

static void test_head(void) {
    size_t B = 3, C = 12, K = 4;
    float *e = xmalloc(B * C * sizeof(float)), *w1 = xmalloc(C * C * sizeof(float)), *b1 = xmalloc(C * sizeof(float));
    float *w2 = xmalloc(K * C * sizeof(float)), *b2 = xmalloc(K * sizeof(float)), *w = xmalloc(B * K * sizeof(float));
    fixture_fill(e, B * C, 1.0f, 71, 1);
    fixture_fill(w1, C * C, 0.3f, 71, 2);
    fixture_fill(b1, C, 0.3f, 71, 3);
    fixture_fill(w2, K * C, 0.3f, 71, 4);
    fixture_fill(b2, K, 0.3f, 71, 5);
    fixture_fill(w, B * K, 1.0f, 71, 6);
    float *h = xmalloc(B * C * sizeof(float)), *hg = xmalloc(B * C * sizeof(float)), *out = xmalloc(B * K * sizeof(float));
    linear_forward(h, e, w1, b1, B, C, C);
    gelu_forward(hg, h, B * C);
    linear_forward(out, hg, w2, b2, B, C, K);
    float *dhg = xcalloc(B * C, sizeof(float)), *dh = xcalloc(B * C, sizeof(float)), *de = xcalloc(B * C, sizeof(float));
    float *dw1 = xcalloc(C * C, sizeof(float)), *db1 = xcalloc(C, sizeof(float));
    float *dw2 = xcalloc(K * C, sizeof(float)), *db2 = xcalloc(K, sizeof(float));
    linear_backward(dhg, dw2, db2, w, hg, w2, B, C, K);
    gelu_backward(dh, dhg, h, B * C);
    linear_backward(de, dw1, db1, dh, e, w1, B, C, C);
    HeadCtx c = {B, C, K, to_double(e, B * C), to_double(w1, C * C), to_double(b1, C), to_double(w2, K * C),
                 to_double(b2, K), xmalloc(B * C * sizeof(double)), xmalloc(B * K * sizeof(double)), w};
    head_loss(&c);
    check_forward("head", out, c.out, B * K);
    Wrt wrt[] = {{"e", c.e, B * C, de},     {"head1_w", c.w1, C * C, dw1}, {"head1_b", c.b1, C, db1},
                 {"head2_w", c.w2, K * C, dw2}, {"head2_b", c.b2, K, db2}};
    check_grads("head", head_loss, &c, wrt, 5);
    free(c.e), free(c.w1), free(c.b1), free(c.w2), free(c.b2), free(c.h), free(c.out);
    free(e), free(w1), free(b1), free(w2), free(b2), free(w), free(h), free(hg), free(out);
    free(dhg), free(dh), free(de), free(dw1), free(db1), free(dw2), free(db2);
}

// The vectorisable exp and normal CDF against libm in double: exp relative error over [-87, 0],
// Φ absolute error over [-12, 12] (the documented bounds are 2e-7 and 3e-7).
static void test_vecmath(void) {
    double e_exp = 0, e_cdf = 0, e_pdf = 0;
    for (int i = 0; i <= 200000; i++) {
        float x = -87.0f + 87.0f * (float)i / 200000.0f;
        double want = exp((double)x);
        double rel = fabs(vm_expf(x) - want) / want;
        if (rel > e_exp || isnan(rel)) e_exp = isnan(rel) ? INFINITY : rel;
        float z = -12.0f + 24.0f * (float)i / 200000.0f, phi;
        double cdf = vm_normcdf(z, &phi);
        double d = fabs(cdf - 0.5 * erfc(-(double)z / sqrt(2.0)));
        double dp = fabs(phi - exp(-0.5 * (double)z * z) / sqrt(2.0 * M_PI));
        if (d > e_cdf || isnan(d)) e_cdf = isnan(d) ? INFINITY : d;
        if (dp > e_pdf || isnan(dp)) e_pdf = isnan(dp) ? INFINITY : dp;
    }
    int ok = e_exp <= 2e-7 && e_cdf <= 3e-7 && e_pdf <= 1e-7;
    printf("%-12s exp rel err %.2e, normal cdf abs err %.2e, pdf abs err %.2e %s\n", "vecmath", e_exp, e_cdf, e_pdf,
           ok ? "ok" : "FAIL");
    if (!ok) failures++;
}

int main(void) {
    test_vecmath();
    for (int path = 0; path <= (int)cpu_path_best(); path++) {  // every vector path of this CPU
        cpu_path_set((CpuPath)path);
        printf("==== vector path %s\n", cpu_path_name((CpuPath)path));
        test_pathemb();
        test_layernorm();
        test_linear();
        // head sizes 4 and 5 take the BLAS path, multiples of 8 the register-tiled kernels
        test_attention(6, 12, 3, 0, "attention");
        test_attention(6, 12, 3, 5, "attn_clsrow");
        test_attention(6, 15, 3, 0, "attn_hs5");
        test_attention(6, 16, 2, 0, "attn_hs8");
        test_attention(21, 32, 2, 0, "attn_hs16");     // T = 21: two 16-key tiles, 6 query blocks
        test_attention(21, 48, 2, 20, "attn_hs24cls"); // 16 + 8 columns, cls row only
        test_attention(21, 32, 2, 20, "attn_hs16cls"); // one query row in a block of 4 or 8
        test_gelu();
        test_residual(0.0f, "residual");
        test_residual(0.3f, "dropout");
        test_head();
    }
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
