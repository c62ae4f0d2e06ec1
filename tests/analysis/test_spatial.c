// test_spatial: the spatial neighbours of --spatial-smooth against brute force, and the mean of
// their probabilities. Points: a hexagonal Visium-like grid (many equal distances, so the tie
// rule matters), a cloud of random points in a second file with duplicated coordinates, and a
// few points that have no neighbours (no group, NaN coordinates). Every point's list must equal
// the brute-force list sorted by (distance, index) with the point itself first, whatever block
// [lo, hi) asks for it; a group smaller than k gives all its points and -1 after.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/spatial.h"
#include "core/rng.h"

static int fails = 0;
#define CHECK(c, ...) do { int ok_ = !!(c); fails |= !ok_; printf("%-4s ", ok_ ? "ok" : "FAIL"); printf(__VA_ARGS__); printf("\n"); } while (0)

enum { HEX = 30 * 24, CLOUD = 500, TINY = 3, ODD = 4, N = HEX + CLOUD + TINY + ODD };

static const float *P;
static int64_t SELF;
static double d2(int64_t i) {   // in double, as the grid search
    double dx = (double)P[2 * i] - (double)P[2 * SELF], dy = (double)P[2 * i + 1] - (double)P[2 * SELF + 1];
    return dx * dx + dy * dy;
}
static int by_dist(const void *a, const void *b) {
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    double di = i == SELF ? -1 : d2(i), dj = j == SELF ? -1 : d2(j);
    return di < dj ? -1 : di > dj ? 1 : (i > j) - (i < j);
}

// brute force: the k nearest of p among its group, (distance, index) order, itself first
static void brute(const float *xy, const int32_t *g, int64_t p, size_t k, int64_t *row) {
    int64_t *all = malloc(N * sizeof(int64_t));
    size_t m = 0;
    for (int64_t i = 0; i < N; i++)
        if (g[i] == g[p] && g[i] >= 0 && isfinite(xy[2 * i]) && isfinite(xy[2 * i + 1])) all[m++] = i;
    P = xy, SELF = p;
    qsort(all, m, sizeof(int64_t), by_dist);
    for (size_t j = 0; j < k; j++) row[j] = j < m ? all[j] : -1;
    free(all);
}

int main(void) {
    float *xy = malloc(2 * N * sizeof(float));
    int32_t *g = malloc(N * sizeof(int32_t));
    size_t i = 0;
    for (int r = 0; r < 24; r++)   // hex grid, spacing 100 (a Visium array in pixels)
        for (int c = 0; c < 30; c++, i++) {
            xy[2 * i] = (float)(100 * c + (r % 2) * 50);
            xy[2 * i + 1] = (float)(r * 86.6025);
            g[i] = 0;
        }
    for (size_t j = 0; j < CLOUD; j++, i++) {   // file 2: random points, every tenth a duplicate
        xy[2 * i] = j % 10 == 9 ? xy[2 * (i - 1)] : 1000 * rng_uniform(7, 1, j, 0);
        xy[2 * i + 1] = j % 10 == 9 ? xy[2 * (i - 1) + 1] : 300 * rng_uniform(7, 2, j, 0);
        g[i] = 2;
    }
    for (size_t j = 0; j < TINY; j++, i++) xy[2 * i] = (float)j, xy[2 * i + 1] = 0, g[i] = 5;   // a 3-spot file
    float odd[ODD][2] = {{1, 1}, {NAN, 2}, {3, INFINITY}, {4, 4}};
    int32_t oddg[ODD] = {-1, 0, 2, -1};
    for (size_t j = 0; j < ODD; j++, i++) xy[2 * i] = odd[j][0], xy[2 * i + 1] = odd[j][1], g[i] = oddg[j];

    const size_t ks[3] = {7, 19, 1};
    for (size_t t = 0; t < 3; t++) {
        size_t k = ks[t], bad = 0, checked = 0;
        int64_t *nbr = malloc(N * k * sizeof(int64_t)), *want = malloc(k * sizeof(int64_t));
        // two blocks, as two ranks would ask: each point's list must not depend on the block
        spatial_knn(xy, g, N, 0, 400, k, nbr);
        spatial_knn(xy, g, N, 400, N, k, nbr + 400 * k);
        for (int64_t p = 0; p < N; p++) {
            int none = g[p] < 0 || !isfinite(xy[2 * p]) || !isfinite(xy[2 * p + 1]);
            if (none) for (size_t j = 0; j < k; j++) want[j] = -1;
            else brute(xy, g, p, k, want);
            bad += memcmp(want, nbr + p * k, k * sizeof(int64_t)) != 0;
            checked++;
        }
        CHECK(bad == 0, "k = %zu: %zu of %zu neighbour lists differ from brute force", k, bad, checked);
        if (k == 7) {
            // a hex point inside the grid: itself and its six neighbours at distance 100
            int64_t p = 5 * 30 + 10, *row = nbr + p * k;
            double far = 0;
            for (size_t j = 1; j < k; j++)
                far = fmax(far, hypot(xy[2 * row[j]] - xy[2 * p], xy[2 * row[j] + 1] - xy[2 * p + 1]));
            CHECK(row[0] == p && fabs(far - 100) < 0.01, "inner hex spot: itself first, its ring of six at 100 (farthest %.3f)", far);
            int64_t *tiny = nbr + (HEX + CLOUD) * k;
            CHECK(tiny[0] == HEX + CLOUD && tiny[3] == -1 && tiny[2] >= 0, "a 3-spot file gives its 3 spots and -1 after");
            // mean of probabilities: one-hot rows, so the mean counts the neighbours' classes
            enum { K = 3 };
            float *pr = calloc(N * K, sizeof(float)), *out = malloc(N * K * sizeof(float));
            for (int64_t q = 0; q < N; q++) pr[q * K + q % K] = 1;
            spatial_mean_rows(pr, K, nbr, N, k, 0, out);
            int64_t q = 5 * 30 + 10;
            double cnt[K] = {0};
            for (size_t j = 0; j < k; j++) cnt[nbr[q * k + j] % K] += 1.0 / k;
            int ok = 1;
            for (size_t c = 0; c < K; c++) ok &= fabs(out[q * K + c] - cnt[c]) < 1e-6;
            int64_t lone = HEX + CLOUD + TINY;   // no neighbours: its own row
            for (size_t c = 0; c < K; c++) ok &= out[lone * K + c] == pr[lone * K + c];
            float s = 0;
            for (size_t c = 0; c < K; c++) s += out[(HEX + CLOUD + 1) * K + c];
            CHECK(ok && fabs(s - 1) < 1e-6, "mean of the neighbours' probabilities; a spot without neighbours keeps its own");
            free(pr), free(out);
        }
        free(nbr), free(want);
    }
    free(xy), free(g);
    return fails;
}
