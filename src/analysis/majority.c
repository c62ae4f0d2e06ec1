// majority: see majority.h.
#include "analysis/majority.h"

#include <stdio.h>
#include <string.h>

#include "analysis/metrics.h"
#include "core/log.h"
#include "io/h5ad.h"

double majority_resolution(size_t n) {
    return n < 5000 ? 5 : n < 20000 ? 10 : n < 40000 ? 15 : n < 100000 ? 20 : n < 200000 ? 25 : 30;
}

// Rank 0: every rank's rows of emb (n, C) in rank order (NULL elsewhere); *n_total: all cells.
static float *gather_rows(const float *emb, size_t n, size_t C, size_t *n_total, const Dist *d) {
    dist_offset(d, n, n_total);
    if ((double)*n_total * (double)C > (double)MAJORITY_MAX_VALUES)
        FATAL("give --over-clustering an obs column of clusters instead (no embedding is gathered then)",
              "--majority-voting: the embedding of %zu cells x width %zu is more than the %zu values rank 0 gathers", *n_total,
              C, MAJORITY_MAX_VALUES);
    int mine = (int)(n * C), *counts = NULL, *displs = NULL;
    float *all = NULL;
    if (d->rank == 0) {
        counts = xmalloc((size_t)d->size * sizeof(int));
        displs = xmalloc((size_t)d->size * sizeof(int));
        all = xmalloc((*n_total ? *n_total : 1) * C * sizeof(float));
    }
    MPI_CHECK(MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, 0, d->comm));
    if (d->rank == 0)
        for (int r = 0, at = 0; r < d->size; r++) {
            displs[r] = at;
            at += counts[r];
        }
    MPI_CHECK(MPI_Gatherv(emb, mine, MPI_FLOAT, all, counts, displs, MPI_FLOAT, 0, d->comm));
    free(counts);
    free(displs);
    return all;
}

Majority majority_leiden(const float *emb, size_t n, size_t C, uint64_t seed, const Dist *d) {
    size_t N = 0, start = dist_offset(d, n, NULL);
    float *all = gather_rows(emb, n, C, &N, d);
    Majority m = {.resolution = majority_resolution(N)};
    int32_t *cl = NULL;
    int64_t n_cl = 0;
    if (d->rank == 0) {
        double t0 = wall_time();
        size_t nc = 0;
        cl = metrics_leiden(all, N, C, MAJORITY_K, m.resolution, seed, &nc);
        n_cl = (int64_t)nc;
        log_info("majority voting: %zu over-clusters of %zu cells (Leiden, resolution %g, %d-NN graph of X_kida, %.1f s)",
                 nc, N, m.resolution, MAJORITY_K, wall_time() - t0);
    }
    free(all);
    dist_bcast(d, &n_cl, sizeof n_cl, 0);
    if (d->rank != 0) cl = xmalloc((N ? N : 1) * sizeof(int32_t));
    dist_bcast(d, cl, N * sizeof(int32_t), 0);
    m.cluster = xmalloc((n ? n : 1) * sizeof(int32_t));
    memcpy(m.cluster, cl + start, n * sizeof(int32_t));
    free(cl);
    m.n_cats = (size_t)n_cl;
    m.cats = majority_cluster_names(m.n_cats);
    return m;
}

char **majority_cluster_names(size_t k) {
    char **cats = xmalloc((k ? k : 1) * sizeof(char *));
    for (size_t i = 0; i < k; i++) {
        char b[32];
        snprintf(b, sizeof b, "%zu", i);
        cats[i] = xstrdup(b);
    }
    return cats;
}

Majority majority_given(const int32_t *codes, size_t n, char *const *cats, size_t n_cats) {
    Majority m = {.n_cats = n_cats};
    m.cluster = xmalloc((n ? n : 1) * sizeof(int32_t));
    memcpy(m.cluster, codes, n * sizeof(int32_t));
    m.cats = xmalloc((n_cats ? n_cats : 1) * sizeof(char *));
    for (size_t k = 0; k < n_cats; k++) m.cats[k] = xstrdup(cats[k]);
    return m;
}

void majority_vote(Majority *m, const int32_t *label, size_t n, size_t n_labels, const Dist *d) {
    size_t M = m->n_cats;
    int64_t *votes = xcalloc((M ? M : 1) * n_labels, sizeof(int64_t));   // (M, n_labels)
    for (size_t i = 0; i < n; i++)
        if (m->cluster[i] >= 0) votes[(size_t)m->cluster[i] * n_labels + (size_t)label[i]]++;
    dist_allreduce_sum_i64(d, votes, M * n_labels);
    int32_t *best = xmalloc((M ? M : 1) * sizeof(int32_t));
    for (size_t c = 0; c < M; c++) {
        size_t b = 0;
        for (size_t k = 1; k < n_labels; k++)
            if (votes[c * n_labels + k] > votes[c * n_labels + b]) b = k;
        best[c] = (int32_t)b;
    }
    free(m->label);
    m->label = xmalloc((n ? n : 1) * sizeof(int32_t));
    for (size_t i = 0; i < n; i++) m->label[i] = m->cluster[i] >= 0 ? best[m->cluster[i]] : label[i];
    free(best);
    free(votes);
}

void majority_free(Majority *m) {
    free(m->cluster);
    strv_free(m->cats, m->n_cats);
    free(m->label);
    memset(m, 0, sizeof *m);
}
