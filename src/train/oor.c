// oor: see oor.h.
#include "train/oor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/exactsum.h"
#include "core/log.h"

// shrinkage of the shared covariance towards (mean variance) x identity
#define OOR_SHRINK 0.1

// Exact sums of n values, EXACT_NDIG digits each (stride 1), then all-reduced.
static int64_t *exact_new(size_t n) {
    return xcalloc_for(n > 0 ? szmul(n, EXACT_NDIG) : 1, sizeof(int64_t), "out-of-reference model: exact sums of %zu values", n);
}
static void exact_finish(int64_t *acc, size_t n, double *out, const Dist *d) {
    for (size_t i = 0; i < n; i++) exact_normalize(acc + i * EXACT_NDIG, 1);
    dist_allreduce_sum_i64(d, acc, n * EXACT_NDIG);
    for (size_t i = 0; i < n; i++) {
        exact_normalize(acc + i * EXACT_NDIG, 1);
        out[i] = exact_to_double(acc + i * EXACT_NDIG, 1);
    }
}

// In-place Cholesky of the (C,C) symmetric positive definite a (lower triangle); 0 on failure.
static int cholesky(double *a, size_t C) {
    for (size_t j = 0; j < C; j++) {
        double s = a[j * C + j];
        for (size_t k = 0; k < j; k++) s -= a[j * C + k] * a[j * C + k];
        if (!(s > 0)) return 0;
        a[j * C + j] = sqrt(s);
        for (size_t i = j + 1; i < C; i++) {
            double t = a[i * C + j];
            for (size_t k = 0; k < j; k++) t -= a[i * C + k] * a[j * C + k];
            a[i * C + j] = t / a[j * C + j];
        }
        for (size_t i = 0; i < j; i++) a[i * C + j] = 0;
    }
    return 1;
}

// L^-1 v in place (forward substitution with the lower factor L).
static void whiten(const double *L, double *v, size_t C) {
    for (size_t i = 0; i < C; i++) {
        double t = v[i];
        for (size_t k = 0; k < i; k++) t -= L[i * C + k] * v[k];
        v[i] = t / L[i * C + i];
    }
}

static int cmp_f32(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

// This rank's rows that fit the model: every k-th training cell in global order, at most max_fit.
static uint8_t *fit_rows(const int32_t *y, const uint8_t *holdout, size_t start, size_t count, size_t n_total,
                         size_t max_fit) {
    size_t n_fit = 0;
    for (size_t i = 0; i < n_total; i++) n_fit += y[i] >= 0 && !holdout[i];
    size_t every = n_fit > max_fit && max_fit ? (n_fit + max_fit - 1) / max_fit : 1;
    uint8_t *use = xcalloc_for(count ? count : 1, 1, "out-of-reference model: %zu cells", count);
    for (size_t i = 0, t = 0; i < n_total; i++) {
        if (y[i] < 0 || holdout[i]) continue;
        if (t++ % every == 0 && i >= start && i < start + count) use[i - start] = 1;
    }
    return use;
}

uint8_t *oor_rows_used(const int32_t *y, const uint8_t *holdout, size_t start, size_t count, size_t n_total,
                       size_t max_fit) {
    uint8_t *use = fit_rows(y, holdout, start, count, n_total, max_fit);
    for (size_t i = 0; i < count; i++) use[i] |= holdout[start + i] && y[start + i] >= 0;
    return use;
}

OorModel oor_fit(const float *emb, const float *conf, size_t start, size_t count, size_t C, size_t K, const int32_t *y,
                 const uint8_t *holdout, size_t n_total, double quantile, size_t max_fit, const Dist *d) {
    OorModel m = {.K = K, .C = C, .cutoff = NAN};
#define OOR_WHAT "out-of-reference model: %zu classes x width %zu, %zu cells", K, C, count
    size_t KC = szmul_for(K, C, OOR_WHAT), CC = szmul_for(C, C, OOR_WHAT), KCK = szadd_for(KC, K, OOR_WHAT);
    uint8_t *use = fit_rows(y, holdout, start, count, n_total, max_fit);
    // centroids: exact per-type sums of the embeddings and the type sizes
    int64_t *acc = exact_new(KCK);
    for (size_t r = 0; r < count; r++) {
        if (!use[r]) continue;
        size_t k = (size_t)y[start + r];
        for (size_t c = 0; c < C; c++) exact_add_f32(acc + (k * C + c) * EXACT_NDIG, 1, emb[r * C + c]);
        exact_add_f32(acc + (K * C + k) * EXACT_NDIG, 1, 1.0f);
    }
    double *sums = xcalloc_for(KCK, sizeof(double), OOR_WHAT);
    exact_finish(acc, KCK, sums, d);
    free(acc);
    m.mean = xcalloc_for(KC, sizeof(double), OOR_WHAT);
    m.present = xcalloc_for(K ? K : 1, 1, OOR_WHAT);
    double n_used = 0;
    for (size_t k = 0; k < K; k++) {
        double nk = sums[K * C + k];
        n_used += nk;
        if (nk <= 0) continue;
        m.present[k] = 1;
        for (size_t c = 0; c < C; c++) m.mean[k * C + c] = sums[k * C + c] / nk;
    }
    free(sums);
    // shared covariance: exact sums of the centred products (lower triangle and diagonal)
    acc = exact_new(CC);
    float *v = xcalloc_for(C, sizeof(float), OOR_WHAT);
    for (size_t r = 0; r < count; r++) {
        if (!use[r]) continue;
        size_t k = (size_t)y[start + r];
        for (size_t c = 0; c < C; c++) v[c] = (float)((double)emb[r * C + c] - m.mean[k * C + c]);
        for (size_t a = 0; a < C; a++)
            for (size_t b = 0; b <= a; b++) exact_add_f32(acc + (a * C + b) * EXACT_NDIG, 1, v[a] * v[b]);
    }
    free(v);
    free(use);
    m.chol = xcalloc_for(CC, sizeof(double), OOR_WHAT);
    exact_finish(acc, CC, m.chol, d);
    free(acc);
    double tr = 0, dn = n_used > 1 ? n_used - 1 : 1;
    for (size_t a = 0; a < C; a++)
        for (size_t b = 0; b <= a; b++) m.chol[a * C + b] /= dn;
    for (size_t a = 0; a < C; a++) tr += m.chol[a * C + a];
    double floor_var = tr > 0 ? tr / (double)C : 1.0;
    for (size_t a = 0; a < C; a++)
        for (size_t b = 0; b <= a; b++)
            m.chol[a * C + b] = (1 - OOR_SHRINK) * m.chol[a * C + b] + (a == b ? OOR_SHRINK * floor_var : 0);
    if (!cholesky(m.chol, C)) FATAL("a bug in kida", "oor_fit: the shrunk covariance is not positive definite");
    m.wmean = xcalloc_for(KC, sizeof(double), OOR_WHAT);
    memcpy(m.wmean, m.mean, KC * sizeof(double));
    for (size_t k = 0; k < K; k++) whiten(m.chol, m.wmean + k * C, C);
    // the cut-off: a quantile of the held-out cells' scores, gathered in global order
    size_t n_ho = 0;
    for (size_t i = 0; i < count; i++) n_ho += holdout[start + i] && y[start + i] >= 0;
    float *e = xcalloc_for(szmul(n_ho ? n_ho : 1, C), sizeof(float), OOR_WHAT);
    float *s = xcalloc_for(n_ho ? n_ho : 1, sizeof(float), OOR_WHAT);
    for (size_t i = 0, j = 0; i < count; i++)
        if (holdout[start + i] && y[start + i] >= 0) memcpy(e + j++ * C, emb + i * C, C * sizeof(float));
    oor_score(&m, e, n_ho, s);
    size_t n_all = dist_sum_size(d, n_ho);
    float *all = xcalloc_for(n_all ? n_all : 1, sizeof(float), OOR_WHAT);
    dist_allgatherv_f32(d, s, n_ho, all, NULL);
    qsort(all, n_all, sizeof(float), cmp_f32);
    m.n_holdout = n_all;
    if (n_all) {
        double pos = quantile * (double)(n_all - 1);
        size_t lo = (size_t)floor(pos), hi = lo + 1 < n_all ? lo + 1 : lo;
        m.cutoff = all[lo] + (pos - (double)lo) * (all[hi] - all[lo]);
    }
    m.holdout = all;
    for (size_t i = 0, j = 0; i < count; i++)
        if (holdout[start + i] && y[start + i] >= 0) s[j++] = conf[i];
    m.holdout_conf = xcalloc_for(n_all ? n_all : 1, sizeof(float), OOR_WHAT);
#undef OOR_WHAT
    dist_allgatherv_f32(d, s, n_ho, m.holdout_conf, NULL);
    qsort(m.holdout_conf, n_all, sizeof(float), cmp_f32);
    free(e); free(s);
    return m;
}

void oor_score(const OorModel *m, const float *emb, size_t n, float *score) {
    size_t C = m->C;
    double *v = xcalloc_for(C, sizeof(double), "out-of-reference score: width %zu", C);
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < C; c++) v[c] = (double)emb[i * C + c];
        whiten(m->chol, v, C);
        double best = INFINITY;
        for (size_t k = 0; k < m->K; k++) {
            if (!m->present[k]) continue;
            const double *w = m->wmean + k * C;
            double s = 0;
            for (size_t c = 0; c < C; c++) s += (v[c] - w[c]) * (v[c] - w[c]);
            if (s < best) best = s;
        }
        score[i] = (float)best;
    }
    free(v);
}

void oor_free(OorModel *m) {
    free(m->mean);
    free(m->wmean);
    free(m->present);
    free(m->chol);
    free(m->holdout);
    free(m->holdout_conf);
    memset(m, 0, sizeof *m);
}
