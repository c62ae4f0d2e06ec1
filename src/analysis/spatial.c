// spatial: k nearest spots on a bucket grid per file, and the mean of their probabilities.
#include "analysis/spatial.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define GRID_MAX 4096   // buckets per side at most

typedef struct {
    double d;   // squared distance (-1: the point itself, always first)
    int64_t i;
} Cand;

static int valid(const float *xy, const int32_t *group, size_t i) {
    return group[i] >= 0 && isfinite(xy[2 * i]) && isfinite(xy[2 * i + 1]);
}

// The points of one group on a grid of square buckets of side s; each bucket's points in index order.
typedef struct {
    double x0, y0, s;
    size_t nx, ny;
    size_t *start;    // (nx * ny + 1)
    int64_t *item;    // the group's points, bucket by bucket
} Grid;

static size_t cell_of(double v, double v0, double s, size_t n) {
    double c = floor((v - v0) / s);
    return c < 0 ? 0 : c >= (double)n ? n - 1 : (size_t)c;
}

static Grid grid_build(const float *xy, const int64_t *pts, size_t m) {
    Grid g = {0};
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (size_t j = 0; j < m; j++) {
        double x = xy[2 * pts[j]], y = xy[2 * pts[j] + 1];
        x0 = fmin(x0, x), x1 = fmax(x1, x), y0 = fmin(y0, y), y1 = fmax(y1, y);
    }
    double w = x1 - x0, h = y1 - y0;
    // about two points a bucket, at most GRID_MAX buckets a side
    double s = sqrt(2.0 * fmax(w * h, 0) / (double)(m ? m : 1));
    s = fmax(s, fmax(w, h) / GRID_MAX);
    if (!(s > 0)) s = 1;
    g.x0 = x0, g.y0 = y0, g.s = s;
    g.nx = (size_t)floor(w / s) + 1, g.ny = (size_t)floor(h / s) + 1;
    size_t nb = g.nx * g.ny;
    g.start = xcalloc_for(nb + 1, sizeof(size_t), "spatial grid: %zu buckets", nb);
    g.item = xmalloc_for((m ? m : 1) * sizeof(int64_t), "spatial grid: %zu spots", m);
    size_t *b = xmalloc_for((m ? m : 1) * sizeof(size_t), "spatial grid: %zu spots", m);
    for (size_t j = 0; j < m; j++) {
        size_t i = (size_t)pts[j];
        b[j] = cell_of(xy[2 * i + 1], y0, s, g.ny) * g.nx + cell_of(xy[2 * i], x0, s, g.nx);
        g.start[b[j] + 1]++;
    }
    for (size_t c = 0; c < nb; c++) g.start[c + 1] += g.start[c];
    size_t *fill = xmalloc_for(nb * sizeof(size_t), "spatial grid: %zu buckets", nb);
    memcpy(fill, g.start, nb * sizeof(size_t));
    for (size_t j = 0; j < m; j++) g.item[fill[b[j]]++] = pts[j];   // pts ascending: buckets in index order
    free(fill);
    free(b);
    return g;
}

static void grid_free(Grid *g) {
    free(g->start);
    free(g->item);
}

// Inserts c into best (sorted by distance, then index), which holds *have of at most k.
static void keep(Cand *best, size_t *have, size_t k, Cand c) {
    size_t at = *have;
    if (at == k) {
        const Cand *w = &best[k - 1];
        if (c.d > w->d || (c.d == w->d && c.i > w->i)) return;
        at = k - 1;
    } else {
        (*have)++;
    }
    while (at > 0 && (best[at - 1].d > c.d || (best[at - 1].d == c.d && best[at - 1].i > c.i))) {
        best[at] = best[at - 1];
        at--;
    }
    best[at] = c;
}

static void scan_bucket(const Grid *g, const float *xy, size_t bx, size_t by, int64_t self, Cand *best, size_t *have,
                        size_t k) {
    size_t c = by * g->nx + bx;
    double px = xy[2 * self], py = xy[2 * self + 1];
    for (size_t j = g->start[c]; j < g->start[c + 1]; j++) {
        int64_t i = g->item[j];
        double dx = xy[2 * i] - px, dy = xy[2 * i + 1] - py;
        keep(best, have, k, (Cand){i == self ? -1.0 : dx * dx + dy * dy, i});
    }
}

static void knn_one(const Grid *g, const float *xy, int64_t p, size_t k, Cand *best, int64_t *row) {
    size_t have = 0;
    long cx = (long)cell_of(xy[2 * p], g->x0, g->s, g->nx), cy = (long)cell_of(xy[2 * p + 1], g->y0, g->s, g->ny);
    long rmax = (long)(g->nx > g->ny ? g->nx : g->ny);
    for (long r = 0; r <= rmax; r++) {
        for (long by = cy - r; by <= cy + r; by++) {
            if (by < 0 || by >= (long)g->ny) continue;
            int edge = by == cy - r || by == cy + r;
            for (long bx = cx - r; bx <= cx + r; bx += edge ? 1 : 2 * r) {
                if (bx >= 0 && bx < (long)g->nx) scan_bucket(g, xy, (size_t)bx, (size_t)by, p, best, &have, k);
                if (r == 0) break;
            }
        }
        // every point not yet seen lies in ring r + 1 or beyond: at least r bucket sides away
        double reach = (double)r * g->s;
        if (have == k && best[k - 1].d <= reach * reach) break;
    }
    for (size_t j = 0; j < k; j++) row[j] = j < have ? best[j].i : -1;
}

void spatial_knn(const float *xy, const int32_t *group, size_t n, size_t lo, size_t hi, size_t k, int64_t *nbr) {
    for (size_t j = 0; j < (hi - lo) * k; j++) nbr[j] = -1;
    if (k == 0 || hi <= lo) return;
    Cand *best = xmalloc_for(k * sizeof(Cand), "spatial neighbours: %zu", k);
    int64_t *pts = xmalloc_for((n ? n : 1) * sizeof(int64_t), "spatial neighbours: %zu spots", n);
    uint8_t *done = xcalloc_for(hi - lo, 1, "spatial neighbours: %zu spots", hi - lo);
    for (size_t a = lo; a < hi; a++) {
        if (done[a - lo]) continue;
        if (!valid(xy, group, a)) {   // no neighbours: its own probabilities stay
            done[a - lo] = 1;
            continue;
        }
        int32_t gid = group[a];
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (group[i] == gid && valid(xy, group, i)) pts[m++] = (int64_t)i;
        Grid g = grid_build(xy, pts, m);
        for (size_t b = a; b < hi; b++) {
            if (done[b - lo] || group[b] != gid || !valid(xy, group, b)) continue;
            knn_one(&g, xy, (int64_t)b, k, best, nbr + (b - lo) * k);
            done[b - lo] = 1;
        }
        grid_free(&g);
    }
    free(done);
    free(pts);
    free(best);
}

void spatial_mean_rows(const float *probs, size_t K, const int64_t *nbr, size_t m, size_t k, size_t lo, float *out) {
    double *acc = xmalloc_for((K ? K : 1) * sizeof(double), "spatial smoothing: %zu classes", K);
    for (size_t i = 0; i < m; i++) {
        const int64_t *row = nbr + i * k;
        size_t c = 0;
        memset(acc, 0, K * sizeof(double));
        for (size_t j = 0; j < k && row[j] >= 0; j++, c++)
            for (size_t q = 0; q < K; q++) acc[q] += probs[(size_t)row[j] * K + q];
        const float *own = probs + (lo + i) * K;
        for (size_t q = 0; q < K; q++) out[i * K + q] = c ? (float)(acc[q] / (double)c) : own[q];
    }
    free(acc);
}
