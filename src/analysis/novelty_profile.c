// novelty_profile: the profile rule of novelty.h; evidence in docs/results.md, "Novel cell types".
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/novelty.h"
#include "core/log.h"
#include "core/ranked.h"

// mean (G) of the rows of p (n,G) that are not NAN (row 0 of a row says it); returns how many.
static size_t mean_rows(double *mean, const float *p, size_t n, size_t G) {
    size_t m = 0;
    memset(mean, 0, G * sizeof(double));
    for (size_t k = 0; k < n; k++) {
        if (isnan(p[k * G])) continue;
        m++;
        for (size_t g = 0; g < G; g++) mean[g] += p[k * G + g];
    }
    for (size_t g = 0; g < G; g++) mean[g] = m ? mean[g] / (double)m : 0;
    return m;
}

size_t novelty_profile_markers(uint8_t *mask, const float *profile, size_t K, size_t G, size_t n) {
    memset(mask, 0, G);
    double *sum = xcalloc_for(G ? G : 1, sizeof(double), "novelty: %zu genes", G);
    size_t m = mean_rows(sum, profile, K, G);
    for (size_t g = 0; g < G; g++) sum[g] *= (double)m;
    Ranked *v = xcalloc_for(G ? G : 1, sizeof(Ranked), "novelty: %zu genes", G);
    for (size_t k = 0; k < K && m >= 2; k++) {
        const float *p = profile + k * G;
        if (isnan(p[0])) continue;
        for (size_t g = 0; g < G; g++) v[g] = (Ranked){p[g] - (sum[g] - p[g]) / (double)(m - 1), g};
        ranked_sort_desc(v, G);
        for (size_t j = 0; j < n && j < G; j++) mask[v[j].i] = 1;
    }
    size_t set = 0;
    for (size_t g = 0; g < G; g++) set += mask[g];
    free(v);
    free(sum);
    return set;
}

void novelty_profile_r(double *r, const float *cluster, const int32_t *lab, size_t nc, const float *profile, size_t K,
                       size_t G, const uint8_t *mask) {
    double *cm = xcalloc_for(G ? G : 1, sizeof(double), "novelty: %zu genes", G);
    double *tm = xcalloc_for(G ? G : 1, sizeof(double), "novelty: %zu genes", G);
    size_t with_cells = mean_rows(cm, cluster, nc, G);
    mean_rows(tm, profile, K, G);
    for (size_t c = 0; c < nc; c++) {
        r[c] = NAN;
        // one cluster alone (a build without igraph) centres to nothing: no comparison
        if (with_cells < 2 || lab[c] < 0 || (size_t)lab[c] >= K) continue;
        const float *a = cluster + c * G, *b = profile + (size_t)lab[c] * G;
        if (isnan(a[0]) || isnan(b[0])) continue;
        double n = 0, sa = 0, sb = 0;
        for (size_t g = 0; g < G; g++)
            if (mask[g]) {
                n++;
                sa += a[g] - cm[g];
                sb += b[g] - tm[g];
            }
        if (n < 2) continue;
        sa /= n;
        sb /= n;
        double saa = 0, sbb = 0, sab = 0;
        for (size_t g = 0; g < G; g++)
            if (mask[g]) {
                double u = a[g] - cm[g] - sa, w = b[g] - tm[g] - sb;
                saa += u * u;
                sbb += w * w;
                sab += u * w;
            }
        // a cluster flat over the markers (no trace of any known type) resembles none: 0
        if (sbb > 0) r[c] = saa > 1e-12 * sbb ? sab / sqrt(saa * sbb) : 0;
    }
    free(tm);
    free(cm);
}

size_t novelty_by_profile(Novelty *v, size_t n, const float *cp, const int32_t *pred, const float *profile, size_t K,
                          size_t G, double r_min, const Dist *d) {
    size_t nc = v->n_clusters;
    // each cluster's most frequent label (ties: the lower code)
    int64_t *votes = xcalloc_for(szmul(nc ? nc : 1, K ? K : 1), sizeof(int64_t), "novelty: %zu clusters x %zu types", nc, K);
    for (size_t i = 0; i < n; i++)
        if (pred[i] >= 0 && (size_t)pred[i] < K) votes[(size_t)v->cluster[i] * K + (size_t)pred[i]]++;
    dist_allreduce_sum_i64(d, votes, nc * K);
    int32_t *lab = xcalloc_for(nc ? nc : 1, sizeof(int32_t), "novelty: %zu clusters", nc);
    for (size_t c = 0; c < nc; c++) {
        lab[c] = -1;
        for (size_t k = 0; k < K; k++)
            if (votes[c * K + k] > 0 && (lab[c] < 0 || votes[c * K + k] > votes[c * K + (size_t)lab[c]])) lab[c] = (int32_t)k;
    }
    uint8_t *mask = xcalloc_for(G ? G : 1, 1, "novelty: %zu genes", G);
    size_t n_mask = novelty_profile_markers(mask, profile, K, G, NOVELTY_MARKERS);
    double *r = xcalloc_for(nc ? nc : 1, sizeof(double), "novelty: %zu clusters", nc);
    novelty_profile_r(r, cp, lab, nc, profile, K, G, mask);
    // which clusters were novel already (by confidence or distance): from this rank's cells, then all
    int64_t *was = xcalloc_for(nc ? nc : 1, sizeof(int64_t), "novelty: %zu clusters", nc);
    for (size_t i = 0; i < n; i++)
        if (v->novel[i]) was[v->cluster[i]] = 1;
    dist_allreduce_sum_i64(d, was, nc);
    size_t added = 0;
    for (size_t c = 0; c < nc; c++) added += !was[c] && r[c] < r_min;
    if (!v->cluster_r) v->cluster_r = xcalloc_for(n ? n : 1, sizeof(float), "novelty: %zu cells", n);
    size_t n_novel = 0;
    for (size_t i = 0; i < n; i++) {
        double ri = r[v->cluster[i]];
        v->cluster_r[i] = (float)ri;
        if (ri < r_min) v->novel[i] = 1;
        n_novel += v->novel[i];
    }
    v->n_novel = dist_sum_size(d, n_novel);
    v->n_novel_clusters += added;
    log_info("novel types: %zu more clusters whose expression profile correlates below %g with their label's (over %zu "
             "marker genes); %zu cells in novel clusters now",
             added, r_min, n_mask, v->n_novel);
    free(was);
    free(r);
    free(mask);
    free(lab);
    free(votes);
    return added;
}
