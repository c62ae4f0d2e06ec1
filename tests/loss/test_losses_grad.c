// test_losses_grad: the loss functions of src/loss/losses.c against an independent double-precision
// re-implementation written from docs/model.md, and their backward passes against central finite
// differences of that re-implementation. Prints the worst relative error per check.
// Exit 0 pass, 1 fail.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/rng.h"
#include "loss/losses.h"
#ifdef _OPENMP
#include <omp.h>
#endif

static int g_fail = 0;

// Relative error with a floor: |a - b| / max(|b|, floor).
static double rel_err(double a, double b, double floor) {
    double d = fabs(b) > floor ? fabs(b) : floor;
    return fabs(a - b) / d;
}

static void report(const char *what, double worst, double tol) {
    int ok = worst <= tol && !isnan(worst);
    printf("%-44s worst rel err %.3e (tol %.0e) %s\n", what, worst, tol, ok ? "ok" : "FAIL");
    if (!ok) g_fail = 1;
}

// ---- double reference implementations (straight from the formulas)
static void ref_softmax(double *p, const double *x, size_t K, double tau) {
    double mx = x[0] / tau, s = 0.0;
    for (size_t a = 1; a < K; a++) if (x[a] / tau > mx) mx = x[a] / tau;
    for (size_t a = 0; a < K; a++) s += (p[a] = exp(x[a] / tau - mx));
    for (size_t a = 0; a < K; a++) p[a] /= s;
}

static double ref_ce(const double *logits, const int32_t *y, size_t B, size_t K) {
    double p[64], L = 0.0;
    for (size_t i = 0; i < B; i++) {
        if (y[i] < 0) continue;
        ref_softmax(p, logits + i * K, K, 1.0);
        L -= log(p[y[i]]);
    }
    return L;
}

static double ref_kd(const double *z, const double *t, size_t B, size_t K, double tau) {
    double p[64], s[64], L = 0.0;
    for (size_t i = 0; i < B; i++) {
        ref_softmax(s, z + i * K, K, tau);
        ref_softmax(p, t + i * K, K, tau);
        for (size_t a = 0; a < K; a++) L += p[a] * (log(p[a]) - log(s[a]));
    }
    return tau * tau * L;
}

// L_ada from embeddings and LOGITS (the softmax is part of the function being differentiated).
static double ref_ada(const double *e, const double *logits, size_t N, size_t C, size_t K) {
    double *q = malloc(N * K * sizeof(double)), *S = malloc(N * N * sizeof(double));
    for (size_t i = 0; i < N; i++) ref_softmax(q + i * K, logits + i * K, K, 1.0);
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++) {
            double d2 = 0.0;
            for (size_t c = 0; c < C; c++) d2 += (e[i * C + c] - e[j * C + c]) * (e[i * C + c] - e[j * C + c]);
            S[i * N + j] = exp(-d2);
        }
    double n[64 * 64];
    for (size_t a = 0; a < K; a++)
        for (size_t b = 0; b < K; b++) {
            double s = 0.0;
            for (size_t i = 0; i < N; i++)
                for (size_t j = 0; j < N; j++) s += q[i * K + a] * S[i * N + j] * q[j * K + b];
            n[a * K + b] = s;
        }
    double L = 0.0;
    for (size_t a = 0; a < K; a++)
        for (size_t b = a + 1; b < K; b++) L += n[a * K + b] / sqrt(n[a * K + a] * n[b * K + b]);
    free(q); free(S);
    return L / (double)K;
}

// ---- helpers
static void fill_normal(float *x, size_t n, float sd, uint64_t seed) {
    for (size_t i = 0; i < n; i++) x[i] = sd * rng_normal(seed, 77, i, 0);
}
static void to_double(double *d, const float *f, size_t n) { for (size_t i = 0; i < n; i++) d[i] = f[i]; }

// Central difference of f at x[k], step h (relative to |x| + 1).
#define FD_H 1e-5

static void check_softmax_entropy(void) {
    size_t B = 5, K = 7;
    float x[35], p[35];
    fill_normal(x, B * K, 3.0f, 1);
    x[3] = 200.0f;  // a dominant logit: max subtraction must keep it finite
    double worst = 0.0, worst_h = 0.0;
    for (int t = 0; t < 2; t++) {
        float tau = t ? 3.0f : 1.0f;
        softmax_rows(p, x, B, K, tau);
        for (size_t i = 0; i < B; i++) {
            double xd[7], pd[7], h = 0.0;
            to_double(xd, x + i * K, K);
            ref_softmax(pd, xd, K, tau);
            for (size_t a = 0; a < K; a++) {
                double e = fabs((double)p[i * K + a] - pd[a]);
                if (e > worst) worst = e;
                if (pd[a] > 0) h -= pd[a] * log(pd[a]);
            }
            double eh = fabs((double)entropy_row(p + i * K, K) - h);
            if (eh > worst_h) worst_h = eh;
        }
    }
    report("softmax_rows (abs err, tau 1 and 3)", worst, 1e-6);
    report("entropy_row (abs err)", worst_h, 1e-5);
    float one[3] = {1.0f, 0.0f, 0.0f};
    report("entropy_row of one-hot is 0 (abs)", fabs(entropy_row(one, 3)), 0.0);
}

static void check_ce(void) {
    size_t B = 9, K = 6;
    float x[54], p[54], g[54];
    int32_t y[9] = {0, 5, 2, -1, 3, 3, 1, -1, 4};
    fill_normal(x, B * K, 2.0f, 2);
    double xd[54];
    to_double(xd, x, B * K);
    double L = ce_forward(p, x, y, B, K), Lr = ref_ce(xd, y, B, K);
    report("ce_forward vs double reference", rel_err(L, Lr, 1e-12), 1e-6);
    memset(g, 0, sizeof g);
    float scale = 1.0f / 7.0f;
    ce_backward(g, p, y, B, K, scale);
    double worst = 0.0;
    for (size_t k = 0; k < B * K; k++) {
        double h = FD_H * (fabs(xd[k]) + 1.0), s = xd[k];
        xd[k] = s + h; double lp = ref_ce(xd, y, B, K);
        xd[k] = s - h; double lm = ref_ce(xd, y, B, K);
        xd[k] = s;
        double fd = scale * (lp - lm) / (2 * h);
        double e = rel_err(g[k], fd, 1e-4);
        if (e > worst) worst = e;
    }
    report("ce_backward vs finite differences", worst, 1e-4);
    // ignored rows get no gradient
    int zero = 1;
    for (size_t a = 0; a < K; a++) if (g[3 * K + a] != 0.0f || g[7 * K + a] != 0.0f) zero = 0;
    report("ce_backward: labels < 0 give zero rows", zero ? 0.0 : 1.0, 0.0);
}

static void check_kd(void) {
    size_t B = 7, K = 5;
    float z[35], t[35], g[35];
    fill_normal(z, B * K, 2.0f, 3);
    fill_normal(t, B * K, 4.0f, 4);
    double zd[35], td[35];
    to_double(zd, z, B * K);
    to_double(td, t, B * K);
    float taus[2] = {1.0f, 3.0f};
    for (int it = 0; it < 2; it++) {
        float tau = taus[it];
        double L = kd_forward(z, t, B, K, tau), Lr = ref_kd(zd, td, B, K, tau);
        char name[64];
        snprintf(name, sizeof name, "kd_forward vs double reference (tau %g)", tau);
        report(name, rel_err(L, Lr, 1e-12), 1e-6);
        memset(g, 0, sizeof g);
        float scale = 0.25f;
        kd_backward(g, z, t, B, K, tau, scale);
        double worst = 0.0;
        for (size_t k = 0; k < B * K; k++) {
            double h = FD_H * (fabs(zd[k]) + 1.0), s = zd[k];
            zd[k] = s + h; double lp = ref_kd(zd, td, B, K, tau);
            zd[k] = s - h; double lm = ref_kd(zd, td, B, K, tau);
            zd[k] = s;
            double e = rel_err(g[k], scale * (lp - lm) / (2 * h), 1e-4);
            if (e > worst) worst = e;
        }
        snprintf(name, sizeof name, "kd_backward vs finite differences (tau %g)", tau);
        report(name, worst, 1e-4);
    }
    // KL of identical distributions is 0, and it is never negative
    report("kd_forward(t, t) == 0 (abs)", fabs(kd_forward(t, t, B, K, 3.0f)), 1e-9);
}

// One ada case: analytic (float) vs FD of the double reference, w.r.t. emb and logits.
static void check_ada_case(const char *label, const float *e, const float *x, size_t N, size_t C,
                           size_t K, double tol) {
    float *p = xmalloc(N * K * sizeof(float)), *de = xcalloc(N * C, sizeof(float));
    float *dx = xcalloc(N * K, sizeof(float));
    double *ed = xmalloc(N * C * sizeof(double)), *xd = xmalloc(N * K * sizeof(double));
    to_double(ed, e, N * C);
    to_double(xd, x, N * K);
    softmax_rows(p, x, N, K, 1.0f);
    double L = ada_forward(e, p, N, C, K), Lr = ref_ada(ed, xd, N, C, K);
    char name[96];
    snprintf(name, sizeof name, "ada_forward %s", label);
    report(name, rel_err(L, Lr, 1e-6), 1e-5);
    float scale = 0.5f;
    ada_backward(de, dx, e, p, N, C, K, scale);
    // floors: 1e-3 of the largest FD gradient of each kind, so elements that are ~0 do not
    // dominate the relative error
    double *fe = xmalloc(N * C * sizeof(double)), *fx = xmalloc(N * K * sizeof(double));
    double me = 0.0, mx = 0.0;
    for (size_t k = 0; k < N * C; k++) {
        double h = FD_H * (fabs(ed[k]) + 1.0), s = ed[k];
        ed[k] = s + h; double lp = ref_ada(ed, xd, N, C, K);
        ed[k] = s - h; double lm = ref_ada(ed, xd, N, C, K);
        ed[k] = s;
        fe[k] = scale * (lp - lm) / (2 * h);
        if (fabs(fe[k]) > me) me = fabs(fe[k]);
    }
    for (size_t k = 0; k < N * K; k++) {
        double h = FD_H * (fabs(xd[k]) + 1.0), s = xd[k];
        xd[k] = s + h; double lp = ref_ada(ed, xd, N, C, K);
        xd[k] = s - h; double lm = ref_ada(ed, xd, N, C, K);
        xd[k] = s;
        fx[k] = scale * (lp - lm) / (2 * h);
        if (fabs(fx[k]) > mx) mx = fabs(fx[k]);
    }
    double we = 0.0, wx = 0.0;
    for (size_t k = 0; k < N * C; k++) we = fmax(we, rel_err(de[k], fe[k], 1e-3 * me + 1e-12));
    for (size_t k = 0; k < N * K; k++) wx = fmax(wx, rel_err(dx[k], fx[k], 1e-3 * mx + 1e-12));
    snprintf(name, sizeof name, "ada_backward d/demb %s", label);
    report(name, we, tol);
    snprintf(name, sizeof name, "ada_backward d/dlogits %s", label);
    report(name, wx, tol);
    printf("    (L_ada %.6f, max|dL/demb| %.3e, max|dL/dlogits| %.3e)\n", L, me, mx);
    // accumulation: a second call adds the same amount again
    float *de2 = xmalloc(N * C * sizeof(float));
    memcpy(de2, de, N * C * sizeof(float));
    ada_backward(de2, NULL, e, p, N, C, K, scale);
    double wa = 0.0;
    for (size_t k = 0; k < N * C; k++)
        wa = fmax(wa, rel_err(de2[k], 2.0 * de[k], 1e-6 * (me + 1e-12)));
    snprintf(name, sizeof name, "ada_backward accumulates (+=) %s", label);
    report(name, wa, 1e-5);
    free(p); free(de); free(dx); free(ed); free(xd); free(fe); free(fx); free(de2);
}

static void check_ada(void) {
    size_t N = 7, C = 5, K = 4;
    float e[35], x[28];
    // generic: distances O(1) so S is neither identity nor all ones
    fill_normal(e, N * C, 0.4f, 5);
    fill_normal(x, N * K, 1.5f, 6);
    check_ada_case("(N=7 C=5 K=4, generic)", e, x, N, C, K, 2e-3);
    // near-degenerate: cells 1 and 2 almost identical (S_12 ≈ 1), cell 4 far from all
    // (S ≈ 0), near one-hot rows (probabilities ~1e-6), one class rare everywhere
    fill_normal(e, N * C, 0.4f, 7);
    for (size_t c = 0; c < C; c++) e[2 * C + c] = e[1 * C + c] + 1e-3f * (float)c;
    for (size_t c = 0; c < C; c++) e[4 * C + c] += 4.0f;
    fill_normal(x, N * K, 1.0f, 8);
    x[0 * K + 1] += 12.0f;
    x[5 * K + 2] += 14.0f;
    for (size_t i = 0; i < N; i++) x[i * K + 3] -= 6.0f;
    check_ada_case("(near-degenerate)", e, x, N, C, K, 5e-3);
    // the clustering loss is symmetric in the cells: permuting rows leaves L unchanged
    float e2[35], x2[28], p[28], p2[28];
    size_t perm[7] = {3, 0, 6, 1, 5, 2, 4};
    for (size_t i = 0; i < N; i++) {
        memcpy(e2 + i * C, e + perm[i] * C, C * sizeof(float));
        memcpy(x2 + i * K, x + perm[i] * K, K * sizeof(float));
    }
    softmax_rows(p, x, N, K, 1.0f);
    softmax_rows(p2, x2, N, K, 1.0f);
    report("ada_forward invariant under row permutation",
           rel_err(ada_forward(e2, p2, N, C, K), ada_forward(e, p, N, C, K), 1e-12), 1e-12);
}

// ada_forward/ada_backward give bit-identical results with 1 and 2 OpenMP threads.
static void check_ada_threads(void) {
#ifdef _OPENMP
    size_t N = 150, C = 16, K = 5;
    float *e = xmalloc(N * C * sizeof(float)), *x = xmalloc(N * K * sizeof(float));
    float *p = xmalloc(N * K * sizeof(float));
    float *de[2] = {xcalloc(N * C, sizeof(float)), xcalloc(N * C, sizeof(float))};
    float *dx[2] = {xcalloc(N * K, sizeof(float)), xcalloc(N * K, sizeof(float))};
    fill_normal(e, N * C, 0.2f, 9);
    fill_normal(x, N * K, 1.0f, 10);
    softmax_rows(p, x, N, K, 1.0f);
    double L[2];
    int saved = omp_get_max_threads();
    for (int t = 0; t < 2; t++) {
        omp_set_num_threads(t + 1);
        L[t] = ada_forward(e, p, N, C, K);
        ada_backward(de[t], dx[t], e, p, N, C, K, 1.0f);
    }
    omp_set_num_threads(saved);
    int same = L[0] == L[1] && memcmp(de[0], de[1], N * C * sizeof(float)) == 0 &&
               memcmp(dx[0], dx[1], N * K * sizeof(float)) == 0;
    report("ada 1 vs 2 threads bit-identical (N=150)", same ? 0.0 : 1.0, 0.0);
    free(e); free(x); free(p); free(de[0]); free(de[1]); free(dx[0]); free(dx[1]);
#endif
}

int main(void) {
    check_softmax_entropy();
    check_ce();
    check_kd();
    check_ada();
    check_ada_threads();
    printf("%s\n", g_fail ? "FAIL" : "PASS");
    return g_fail ? 1 : 0;
}
