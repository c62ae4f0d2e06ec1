// novelty: see novelty.h.
#include "analysis/novelty.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/majority.h"
#include "analysis/metrics.h"
#include "config.h"
#include "core/log.h"

static int cmp_f32(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

double novelty_cutoff(double cutoff, const float *holdout_conf, size_t n, double q) {
    if (n == 0 || !(q > 0)) return cutoff;
    double pos = q * (double)(n - 1), v = holdout_conf[(size_t)pos];
    size_t lo = (size_t)pos;
    if (lo + 1 < n) v += (pos - (double)lo) * ((double)holdout_conf[lo + 1] - (double)holdout_conf[lo]);
    return v < cutoff ? v : cutoff;
}

void novelty_cluster_medians(float *med, const float *conf, const int32_t *cl, size_t n, size_t n_clusters) {
    size_t *start = xcalloc_for(n_clusters + 1, sizeof(size_t), "novelty: %zu clusters", n_clusters);
    for (size_t i = 0; i < n; i++) start[cl[i] + 1]++;
    for (size_t k = 0; k < n_clusters; k++) start[k + 1] += start[k];
    float *v = xmalloc_for((n ? n : 1) * sizeof(float), "novelty: confidences of %zu cells", n);
    size_t *at = xmalloc_for((n_clusters ? n_clusters : 1) * sizeof(size_t), "novelty: %zu clusters", n_clusters);
    memcpy(at, start, n_clusters * sizeof(size_t));
    for (size_t i = 0; i < n; i++) v[at[cl[i]]++] = conf[i];
    for (size_t k = 0; k < n_clusters; k++) {
        size_t lo = start[k], m = start[k + 1] - lo;
        if (m == 0) {
            med[k] = 1.0f;
            continue;
        }
        qsort(v + lo, m, sizeof(float), cmp_f32);
        med[k] = m % 2 ? v[lo + m / 2] : 0.5f * (v[lo + m / 2 - 1] + v[lo + m / 2]);
    }
    free(at);
    free(v);
    free(start);
}

void novelty_nearest(int32_t *cl, const float *x, size_t n, const double *centroid, size_t k, size_t C) {
    for (size_t i = 0; i < n; i++) {
        double best = INFINITY;
        int32_t arg = 0;
        for (size_t c = 0; c < k; c++) {
            double s = 0;
            for (size_t j = 0; j < C; j++) {
                double t = (double)x[i * C + j] - centroid[c * C + j];
                s += t * t;
            }
            if (s < best) {
                best = s;
                arg = (int32_t)c;
            }
        }
        cl[i] = arg;
    }
}

// The sampled cells (every step-th in global order) of this rank's rows [start, start + n),
// packed: their emb rows into *e, their conf into *f and, when score is given, their score into
// *s; returns how many.
static size_t pack_sample(const float *emb, const float *conf, const float *score, size_t start, size_t n, size_t C,
                          size_t step, float **e, float **f, float **s) {
    size_t first = (start + step - 1) / step * step, m = 0;
    for (size_t g = first; g < start + n; g += step) m++;
    *e = xmalloc_for((m ? m : 1) * C * sizeof(float), "novelty: %zu cells x width %zu", m, C);
    *f = xmalloc_for((m ? m : 1) * sizeof(float), "novelty: %zu cells", m);
    if (score) *s = xmalloc_for((m ? m : 1) * sizeof(float), "novelty: %zu cells", m);
    size_t j = 0;
    for (size_t g = first; g < start + n; g += step, j++) {
        memcpy(*e + j * C, emb + (g - start) * C, C * sizeof(float));
        (*f)[j] = conf[g - start];
        if (score) (*s)[j] = score[g - start];
    }
    return m;
}

Novelty novelty_find(const float *emb, const float *conf, const float *score, size_t n, size_t C, double resolution,
                     double cutoff, double score_cutoff, size_t max_cells, uint64_t seed, const Dist *d) {
    Novelty v = {0};
    size_t N = 0, start = dist_offset(d, n, &N);
    v.cluster = xcalloc_for(n ? n : 1, sizeof(int32_t), "novelty: %zu cells", n);
    v.cluster_conf = xcalloc_for(n ? n : 1, sizeof(float), "novelty: %zu cells", n);
    v.novel = xcalloc_for(n ? n : 1, 1, "novelty: %zu cells", n);
    int far = score && !isnan(score_cutoff);
    if (far) v.cluster_score = xcalloc_for(n ? n : 1, sizeof(float), "novelty: %zu cells", n);
#ifndef HAVE_IGRAPH
    (void)emb; (void)conf; (void)score; (void)C; (void)resolution; (void)cutoff; (void)score_cutoff; (void)max_cells;
    (void)seed; (void)start;
    log_warn("novel types: this build has no igraph (apt-get install libigraph-dev, re-run configure); no cell is "
             "in kida_out_of_reference");
    for (size_t i = 0; i < n; i++) v.cluster_conf[i] = 1.0f;
    v.n_clusters = N ? 1 : 0;
    return v;
#else
    double t0 = wall_time();
    if (max_cells == 0) max_cells = NOVELTY_MAX_CELLS;
    size_t step = N > max_cells ? (N + max_cells - 1) / max_cells : 1;
    float *se = NULL, *sf = NULL, *ss = NULL, *S = NULL;
    size_t m = pack_sample(emb, conf, far ? score : NULL, start, n, C, step, &se, &sf, &ss), M = dist_sum_size(d, m);
    float *E = xmalloc_for((M ? M : 1) * C * sizeof(float), "novelty: %zu cells x width %zu", M, C);
    float *F = xmalloc_for((M ? M : 1) * sizeof(float), "novelty: %zu cells", M);
    dist_allgatherv_f32(d, se, m * C, E, NULL);
    dist_allgatherv_f32(d, sf, m, F, NULL);
    if (far) {  // the distances travel only for the distance rule
        S = xmalloc_for((M ? M : 1) * sizeof(float), "novelty: %zu cells", M);
        dist_allgatherv_f32(d, ss, m, S, NULL);
    }
    free(se);
    free(sf);
    free(ss);
    // rank 0 clusters the sample; its codes go to every rank
    int32_t *cl = NULL;
    int64_t nc = 0;
    if (d->rank == 0 && M > 0) {
        size_t k = 0;
        cl = metrics_leiden(E, M, C, MAJORITY_K, resolution, seed, &k);
        nc = (int64_t)k;
    }
    dist_bcast(d, &nc, sizeof nc, 0);
    if (!cl) cl = xcalloc_for(M ? M : 1, sizeof(int32_t), "novelty: %zu cells", M);
    dist_bcast(d, cl, M * sizeof(int32_t), 0);
    size_t K = (size_t)nc;
    float *med = xmalloc_for((K ? K : 1) * sizeof(float), "novelty: %zu clusters", K);
    float *mds = xcalloc_for(K ? K : 1, sizeof(float), "novelty: %zu clusters", K);
    novelty_cluster_medians(med, F, cl, M, K);
    if (far) novelty_cluster_medians(mds, S, cl, M, K);
    uint8_t *is_novel = xcalloc_for(K ? K : 1, 1, "novelty: %zu clusters", K);
    size_t by_conf = 0, by_far = 0;
    for (size_t k = 0; k < K; k++) {
        int u = med[k] < cutoff, f = far && mds[k] > score_cutoff;
        is_novel[k] = u || f;
        by_conf += u;
        by_far += f && !u;
    }
    if (step == 1) {
        memcpy(v.cluster, cl + start, n * sizeof(int32_t));
    } else {  // the centroids of the clustered cells; every cell joins the nearest
        double *cen = xcalloc_for(K ? K * C : 1, sizeof(double), "novelty: %zu centroids x width %zu", K, C);
        size_t *cnt = xcalloc_for(K ? K : 1, sizeof(size_t), "novelty: %zu clusters", K);
        for (size_t i = 0; i < M; i++) {
            cnt[cl[i]]++;
            for (size_t j = 0; j < C; j++) cen[(size_t)cl[i] * C + j] += E[i * C + j];
        }
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < C; j++) cen[k * C + j] /= (double)(cnt[k] ? cnt[k] : 1);
        novelty_nearest(v.cluster, emb, n, cen, K, C);
        free(cnt);
        free(cen);
    }
    size_t n_novel = 0;
    for (size_t i = 0; i < n; i++) {
        v.cluster_conf[i] = med[v.cluster[i]];
        if (far) v.cluster_score[i] = mds[v.cluster[i]];
        v.novel[i] = is_novel[v.cluster[i]];
        n_novel += v.novel[i];
    }
    v.n_novel_clusters = by_conf + by_far;
    v.n_clusters = K;
    v.n_clustered = M;
    v.n_novel = dist_sum_size(d, n_novel);
    char why[128] = "";
    if (far) snprintf(why, sizeof why, ", %zu more with median distance above %.4g", by_far, score_cutoff);
    log_info("novel types: %zu clusters of %zu cells (Leiden, resolution %g, %d-NN graph of the embedding%s); %zu with "
             "median confidence below %g%s; %zu cells in them (%.1f s)",
             K, M, resolution, MAJORITY_K, step > 1 ? ", a sample; the rest by nearest centroid" : "", by_conf, cutoff, why,
             v.n_novel, wall_time() - t0);
    free(is_novel);
    free(mds);
    free(S);
    free(med);
    free(cl);
    free(E);
    free(F);
    return v;
#endif
}

void novelty_free(Novelty *v) {
    free(v->cluster);
    free(v->cluster_conf);
    free(v->cluster_score);
    free(v->cluster_r);
    free(v->novel);
    memset(v, 0, sizeof *v);
}
