// metrics_agree: agreement of two labelings (normalised mutual information, adjusted Rand
// index), computed from their sparse contingency table as scikit-learn does.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/metrics.h"
#include "core/log.h"

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

size_t metrics_dense_ids(uint32_t *ids, const int32_t *v, size_t n) {
    int32_t *u = xmalloc((n + 1) * sizeof(int32_t));
    memcpy(u, v, n * sizeof(int32_t));
    qsort(u, n, sizeof(int32_t), cmp_i32);
    size_t r = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || u[i] != u[r - 1]) u[r++] = u[i];
    for (size_t i = 0; i < n; i++) {
        size_t lo = 0, hi = r;  // binary search: u[lo] == v[i]
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (u[mid] <= v[i]) lo = mid; else hi = mid;
        }
        ids[i] = (uint32_t)lo;
    }
    free(u);
    return r;
}

// The contingency table of a and b: row sums (ra), column sums (rb) and its nnz nonzero cells
// (count, row id, column id). Arrays are allocated here.
typedef struct {
    size_t ra, rb, nnz;
    double *row, *col, *cell;  // (ra) (rb) (nnz)
    uint32_t *cell_row, *cell_col;  // (nnz)
} Contingency;

static Contingency contingency(const int32_t *a, const int32_t *b, size_t n) {
    Contingency c = {0};
    uint32_t *ia = xmalloc((n + 1) * sizeof(uint32_t)), *ib = xmalloc((n + 1) * sizeof(uint32_t));
    c.ra = metrics_dense_ids(ia, a, n);
    c.rb = metrics_dense_ids(ib, b, n);
    c.row = xcalloc(c.ra + 1, sizeof(double));
    c.col = xcalloc(c.rb + 1, sizeof(double));
    uint64_t *pair = xmalloc((n + 1) * sizeof(uint64_t));
    for (size_t i = 0; i < n; i++) {
        c.row[ia[i]] += 1.0;
        c.col[ib[i]] += 1.0;
        pair[i] = ((uint64_t)ia[i] << 32) | ib[i];
    }
    free(ia);
    free(ib);
    qsort(pair, n, sizeof(uint64_t), cmp_u64);
    c.cell = xmalloc((n + 1) * sizeof(double));
    c.cell_row = xmalloc((n + 1) * sizeof(uint32_t));
    c.cell_col = xmalloc((n + 1) * sizeof(uint32_t));
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || pair[i] != pair[i - 1]) {
            c.cell_row[c.nnz] = (uint32_t)(pair[i] >> 32);
            c.cell_col[c.nnz] = (uint32_t)(pair[i] & 0xffffffffu);
            c.cell[c.nnz++] = 0.0;
        }
        c.cell[c.nnz - 1] += 1.0;
    }
    free(pair);
    return c;
}

static void contingency_free(Contingency *c) {
    free(c->row);
    free(c->col);
    free(c->cell);
    free(c->cell_row);
    free(c->cell_col);
}

// Shannon entropy (nats) of counts v (k) summing to n.
static double entropy_of(const double *v, size_t k, double n) {
    double h = 0.0;
    for (size_t i = 0; i < k; i++)
        if (v[i] > 0.0) h -= v[i] / n * log(v[i] / n);
    return h;
}

double metrics_nmi(const int32_t *a, const int32_t *b, size_t n) {
    if (n == 0) return 1.0;
    Contingency c = contingency(a, b, n);
    double result;
    if (c.ra == 1 && c.rb == 1) {
        result = 1.0;  // both one cluster: a perfect match by sklearn's convention
    } else {
        // MI = sum_ij n_ij/N log(N n_ij / (a_i b_j))
        double N = (double)n, mi = 0.0;
        for (size_t k = 0; k < c.nnz; k++) {
            double nij = c.cell[k];
            mi += nij / N * log(N * nij / (c.row[c.cell_row[k]] * c.col[c.cell_col[k]]));
        }
        if (mi < 0.0) mi = 0.0;
        if (mi == 0.0) {
            result = 0.0;
        } else {
            double ha = entropy_of(c.row, c.ra, N), hb = entropy_of(c.col, c.rb, N);
            result = mi / (0.5 * (ha + hb));
        }
    }
    contingency_free(&c);
    return result;
}

double metrics_ari(const int32_t *a, const int32_t *b, size_t n) {
    if (n == 0) return 1.0;
    Contingency c = contingency(a, b, n);
    // pair confusion counts (ordered pairs), as sklearn.metrics.cluster.pair_confusion_matrix
    long double N = (long double)n, ss = 0.0L, sa = 0.0L, sb = 0.0L;
    for (size_t i = 0; i < c.nnz; i++) ss += (long double)c.cell[i] * c.cell[i];
    for (size_t i = 0; i < c.ra; i++) sa += (long double)c.row[i] * c.row[i];
    for (size_t j = 0; j < c.rb; j++) sb += (long double)c.col[j] * c.col[j];
    contingency_free(&c);
    long double tp = ss - N;  // pairs together in both
    long double fp = sb - ss;  // together in b only (a = truth, b = prediction)
    long double fn = sa - ss;  // together in a only
    long double tn = N * N - fp - fn - ss;
    if (fn == 0.0L && fp == 0.0L) return 1.0;
    return (double)(2.0L * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn)));
}
