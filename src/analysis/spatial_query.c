// spatial_query: --spatial-smooth on a query's predictions (the coordinates of its spatial files,
// all cells' probabilities gathered on every rank, each rank averaging its own spots).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/spatial.h"
#include "core/log.h"
#include "io/h5ad.h"

// Coordinates of every query cell (x, y; NAN where its file is not spatial or lacks them) and
// each cell's group (its file, -1: not smoothed). Returns how many files have coordinates.
static size_t read_coords(const Dataset *q, const Config *c, const Dist *d, float *xy, int32_t *group) {
    const Sources *s = &q->src;
    size_t files = 0;
    for (size_t i = 0; i < q->n_total; i++) xy[2 * i] = xy[2 * i + 1] = NAN, group[i] = -1;
    for (size_t f = 0; f < s->n; f++) {
        if (strcmp(s->modality[f], "spatial")) continue;
        size_t lo = s->first[f], n = s->first[f + 1] - lo, cols = 0;
        H5ad *h = h5ad_open(s->path[f], NULL, c->use_gene_ids, d);
        float *v = h5ad_obsm(h, "spatial", 0, n, &cols);
        h5ad_close(h);
        if (!v || cols < 2) {
            log_warn("%s: modality spatial, but no obsm[\"spatial\"] with x and y columns: its spots are not smoothed "
                     "(--spatial-smooth)", s->path[f]);
            free(v);
            continue;
        }
        size_t bad = 0;
        float x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            float x = v[i * cols], y = v[i * cols + 1];
            xy[2 * (lo + i)] = x;
            xy[2 * (lo + i) + 1] = y;
            group[lo + i] = (int32_t)f;
            if (!isfinite(x) || !isfinite(y)) {
                bad++;
                continue;
            }
            x0 = fminf(x0, x), x1 = fmaxf(x1, x), y0 = fminf(y0, y), y1 = fmaxf(y1, y);
        }
        if (bad) log_warn("%s: %zu spots have no finite coordinates in obsm[\"spatial\"]; they keep their own labels", s->path[f], bad);
        if (n - bad > 1 && x0 == x1 && y0 == y1) {   // one position for all: no neighbourhood to speak of
            log_warn("%s: every spot has the same obsm[\"spatial\"] position; its spots are not smoothed", s->path[f]);
            for (size_t i = 0; i < n; i++) group[lo + i] = -1;
            free(v);
            continue;
        }
        free(v);
        files++;
    }
    return files;
}

size_t spatial_smooth_query(const Dataset *q, const Config *c, const Dist *d, Predictions *const *p, size_t n_p) {
    size_t k = c->spatial_smooth > 1 ? (size_t)c->spatial_smooth : 0, n = q->n_total;
    if (!k || !n_p) return 0;
    int any = 0;
    for (size_t f = 0; f < q->src.n; f++) any |= !strcmp(q->src.modality[f], "spatial");
    if (!any) {   // coordinates without --modality spatial: say what would use them
        size_t cols = 0;
        H5ad *h = h5ad_open(q->src.path[0], NULL, c->use_gene_ids, d);
        float *v = h5ad_obsm(h, "spatial", 0, q->src.first[1] > 0 ? 1 : 0, &cols);
        h5ad_close(h);
        if (v && cols >= 2)
            log_info("%s holds obsm[\"spatial\"]: with --modality spatial its labels are smoothed over "
                     "neighbouring spots (--spatial-smooth %ld)", q->src.path[0], c->spatial_smooth);
        free(v);
        return 0;
    }
    float *xy = xmalloc_for(szmul(n, 2 * sizeof(float)), "spatial smoothing: coordinates of %zu spots", n);
    int32_t *group = xmalloc_for((n ? n : 1) * sizeof(int32_t), "spatial smoothing: %zu spots", n);
    if (!read_coords(q, c, d, xy, group)) {
        free(xy);
        free(group);
        return 0;
    }
    size_t m = q->count, K = p[0]->K;
    int64_t *nbr = xmalloc_for(szmul(m ? m : 1, k * sizeof(int64_t)), "spatial smoothing: neighbours of %zu spots", m);
    spatial_knn(xy, group, n, q->start, q->start + m, k, nbr);
    float *all = xmalloc_for(szmul(n ? n : 1, K * sizeof(float)), "spatial smoothing: probabilities of %zu spots", n);
    float *out = xmalloc_for(szmul(m ? m : 1, K * sizeof(float)), "spatial smoothing: %zu spots", m);
    for (size_t j = 0; j < n_p; j++) {
        dist_allgatherv_f32(d, p[j]->probs, m * K, all, NULL);
        spatial_mean_rows(all, K, nbr, m, k, q->start, out);
        predictions_set_probs(p[j], out);
    }
    size_t smoothed = 0;
    for (size_t i = 0; i < m; i++) smoothed += nbr[i * k + 1] >= 0;
    smoothed = dist_sum_size(d, smoothed);
    log_info("spatial: the probabilities of %zu spots are the means over their %zu nearest spots (obsm spatial; "
             "--spatial-smooth)", smoothed, k);
    free(out);
    free(all);
    free(nbr);
    free(group);
    free(xy);
    return smoothed ? k : 0;
}
