// test_oor: the out-of-reference model on planted data. Two types as Gaussian blobs in 4
// dimensions: the centroids are the blob means, a cell at a blob's centre scores near 0, a cell
// far from both scores far above the cut-off, which is the held-out cells' quantile; a refit is
// identical; a fit on a subsample stays near the blob means. Exit 0 pass, 1 fail.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "train/oor.h"

static int fails = 0;
#define CHECK(c, ...) do { int ok_ = !!(c); fails |= !ok_; printf("%-4s ", ok_ ? "ok" : "FAIL"); printf(__VA_ARGS__); printf("\n"); } while (0)

enum { N = 400, C = 4 };

int main(int argc, char **argv) {
    Dist solo;
    dist_init(&solo, &argc, &argv);
    static float emb[N * C], conf[N];
    static int32_t y[N];
    static uint8_t ho[N];
    for (size_t i = 0; i < N; i++) {
        y[i] = (int32_t)(i % 2);
        ho[i] = i % 10 == 0;  // 40 held out
        conf[i] = 0.5f + 0.5f * (float)i / N;
        for (size_t c = 0; c < C; c++) {
            // Box-Muller from the counter RNG: unit-variance blobs at +3 / -3 on every axis
            double u1 = rng_uniform(7, 1, i, c) + 1e-12, u2 = rng_uniform(7, 2, i, c);
            double z = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
            emb[i * C + c] = (float)((y[i] ? -3.0 : 3.0) + z);
        }
    }
    OorModel m = oor_fit(emb, conf, 0, N, C, 2, y, ho, N, 0.99, 0, &solo);
    CHECK(m.present[0] && m.present[1], "both types present");
    double err = 0;
    for (size_t c = 0; c < C; c++) err = fmax(err, fmax(fabs(m.mean[c] - 3.0), fabs(m.mean[C + c] + 3.0)));
    CHECK(err < 0.3, "centroids near (+3,..) and (-3,..): worst axis off by %.3f", err);
    CHECK(m.n_holdout == 40 && !isnan(m.cutoff), "cut-off from 40 held-out cells (got %zu, %g)", m.n_holdout, m.cutoff);
    CHECK(m.holdout[0] <= m.holdout[39] && m.cutoff <= m.holdout[39] && m.cutoff >= m.holdout[38],
          "cut-off is the 0.99 quantile of the held-out scores");
    CHECK(m.holdout_conf[0] <= m.holdout_conf[39], "held-out confidences ascending");
    float probe[3 * C] = {3, 3, 3, 3, -3, -3, -3, -3, 30, -30, 30, -30}, s[3];
    oor_score(&m, probe, 3, s);
    CHECK(s[0] < 1 && s[1] < 1, "blob centres score near 0 (%.3f, %.3f)", s[0], s[1]);
    CHECK(s[2] > 10 * m.cutoff, "a far cell scores far above the cut-off (%.1f vs %.2f)", s[2], m.cutoff);
    // a refit: identical model (exact sums)
    OorModel a = oor_fit(emb, conf, 0, N, C, 2, y, ho, N, 0.99, 0, &solo);
    int same = a.cutoff == m.cutoff;
    for (size_t i = 0; i < 2 * C; i++) same &= a.mean[i] == m.mean[i];
    CHECK(same, "refit gives the identical model");
    // max_fit: every k-th training cell; still near the blob means
    OorModel sub = oor_fit(emb, conf, 0, N, C, 2, y, ho, N, 0.99, 90, &solo);
    err = 0;
    for (size_t c = 0; c < C; c++) err = fmax(err, fabs(sub.mean[c] - 3.0));
    CHECK(err < 0.6, "fit on a subsample of 90 cells: centroid within 0.6 (%.3f)", err);
    oor_free(&m);
    oor_free(&a);
    oor_free(&sub);
    dist_finalize(&solo);
    return fails;
}
