// markers: see markers.h.
#include "prep/markers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/exactsum.h"
#include "core/log.h"
#include "core/ranked.h"

// Two exact sums (x and x^2) per (type, gene), digits interleaved as in preprocess.c.
enum { MK_S1 = 0, MK_S2 = 1, MK_NSUM = 2, MK_W = MK_NSUM * EXACT_NDIG };


// Welch t of the in-type values (n1 cells, sums s1, q1) against the rest (n0, s0, q0).
static double welch_t(double n1, double s1, double q1, double n0, double s0, double q0) {
    double m1 = s1 / n1, m0 = s0 / n0;
    double v1 = (q1 - n1 * m1 * m1) / (n1 - 1), v0 = (q0 - n0 * m0 * m0) / (n0 - 1);
    if (v1 < 0) v1 = 0;
    if (v0 < 0) v0 = 0;
    double se = sqrt(v1 / n1 + v0 / n0);
    return se > 0 ? (m1 - m0) / se : 0;
}

Markers markers_find(const Csr *x, const int32_t *y, size_t K, size_t n, const Dist *d) {
    size_t G = x->n_cols;
    Markers mk = {.K = K, .G = G, .n = n};
#define MK_WHAT "marker genes: %zu types x %zu genes (%zu markers each)", K, G, n
    mk.count = xcalloc_for(K ? K : 1, sizeof(size_t), MK_WHAT);
    size_t kn = szmul_for(K, n, MK_WHAT);
    mk.gene = xcalloc_for(kn ? kn : 1, sizeof(int32_t), MK_WHAT);
    // per type and gene: exact sums of x and x^2 over this rank's cells; plus the type sizes
    size_t slots = szmul_for(szmul_for(szadd_for(K, 1, MK_WHAT), G, MK_WHAT), MK_W, MK_WHAT);  // type K: the totals
    int64_t *acc = xcalloc_for(szadd_for(slots, K + 1, MK_WHAT), sizeof(int64_t), MK_WHAT), *size = acc + slots;
    for (size_t r = 0; r < x->n_rows; r++) {
        int32_t k = y[x->row_start + r];
        if (k < 0) continue;
        if ((size_t)k >= K) FATAL("a bug in kida", "markers_find: type %d of cell %zu >= K %zu", (int)k, x->row_start + r, K);
        size[k]++;
        size[K]++;
        for (int64_t j = x->indptr[r]; j < x->indptr[r + 1]; j++) {
            float v = x->data[j];
            size_t g = (size_t)x->indices[j];
            int64_t *a = acc + ((size_t)k * G + g) * MK_W, *t = acc + (K * G + g) * MK_W;
            exact_add_f32(a + MK_S1, MK_NSUM, v);
            exact_add_f32(a + MK_S2, MK_NSUM, v * v);
            exact_add_f32(t + MK_S1, MK_NSUM, v);
            exact_add_f32(t + MK_S2, MK_NSUM, v * v);
        }
        if ((r + 1) % EXACT_MAX_ADDS == 0 || r + 1 == x->n_rows)
            for (size_t i = 0; i < (K + 1) * G * MK_NSUM; i++)
                exact_normalize(acc + (i / MK_NSUM) * MK_W + i % MK_NSUM, MK_NSUM);
    }
    dist_allreduce_sum_i64(d, acc, slots + K + 1);
    for (size_t i = 0; i < (K + 1) * G * MK_NSUM; i++) exact_normalize(acc + (i / MK_NSUM) * MK_W + i % MK_NSUM, MK_NSUM);
    Ranked *t = xcalloc_for(G ? G : 1, sizeof(Ranked), MK_WHAT);
#undef MK_WHAT
    double nt = (double)size[K];
    for (size_t k = 0; k < K; k++) {
        double n1 = (double)size[k], n0 = nt - n1;
        if (n1 < 2 || n0 < 2) continue;
        size_t m = 0;
        for (size_t g = 0; g < G; g++) {
            const int64_t *a = acc + (k * G + g) * MK_W, *tot = acc + (K * G + g) * MK_W;
            double s1 = exact_to_double(a + MK_S1, MK_NSUM), q1 = exact_to_double(a + MK_S2, MK_NSUM);
            double st = exact_to_double(tot + MK_S1, MK_NSUM), qt = exact_to_double(tot + MK_S2, MK_NSUM);
            double tv = welch_t(n1, s1, q1, n0, st - s1, qt - q1);
            if (tv > 0) t[m++] = (Ranked){tv, g};
        }
        ranked_sort_desc(t, m);
        mk.count[k] = m < n ? m : n;
        for (size_t j = 0; j < mk.count[k]; j++) mk.gene[k * n + j] = (int32_t)t[j].i;
    }
    free(t);
    free(acc);
    return mk;
}

void markers_free(Markers *m) {
    free(m->count);
    free(m->gene);
    memset(m, 0, sizeof *m);
}
