// test_novelty: the novel-type rule on planted data. Three Gaussian blobs in 8 dimensions: two
// known types with confident cells (and a few unsure ones among them) and one "missing" type
// whose cells are unsure. The missing blob must be flagged whole, no known cell flagged, by its
// low confidence or (all confident) by its median distance from the reference; the same holds
// when only a sample is clustered and the rest join the nearest centroid. The two
// helpers (cluster medians, nearest centroid) and the hold-out bound of the cut-off are checked
// on hand-worked values.
// Exit 0 pass, 1 fail, 77 without igraph.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/novelty.h"
#include "config.h"
#include "core/rng.h"

static int fails = 0;
#define CHECK(c, ...) do { int ok_ = !!(c); fails |= !ok_; printf("%-4s ", ok_ ? "ok" : "FAIL"); printf(__VA_ARGS__); printf("\n"); } while (0)

enum { PER = 150, N = 3 * PER, C = 8 };

static void check_helpers(void) {
    // medians: cluster 0 {0.9, 0.1, 0.5} -> 0.5; cluster 1 {0.2, 0.8} -> 0.5; cluster 2 empty -> 1
    const float conf[5] = {0.9f, 0.2f, 0.1f, 0.8f, 0.5f};
    const int32_t cl[5] = {0, 1, 0, 1, 0};
    float med[3];
    novelty_cluster_medians(med, conf, cl, 5, 3);
    CHECK(med[0] == 0.5f && med[1] == 0.5f && med[2] == 1.0f, "cluster medians (odd, even, empty): %g %g %g", med[0],
          med[1], med[2]);
    // nearest of centroids (0,0) and (2,0): (0.9,5) -> 0, (1.1,-5) -> 1, (1,0) is a tie -> 0
    const double cen[4] = {0, 0, 2, 0};
    const float x[6] = {0.9f, 5, 1.1f, -5, 1, 0};
    // the cut-off in use: min(cut-off, hold-out confidence quantile 0.1): 0.5 .. 1.0 -> 0.55
    const float held[6] = {0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1.0f};
    double c1 = novelty_cutoff(0.8, held, 6, 0.1), c2 = novelty_cutoff(0.3, held, 6, 0.1), c3 = novelty_cutoff(0.8, held, 0, 0.1),
           c4 = novelty_cutoff(0.8, held, 6, 0);
    CHECK(fabs(c1 - 0.55) < 1e-6 && c2 == 0.3 && c3 == 0.8 && c4 == 0.8,
          "cut-off bounded by the hold-out's 0.1 quantile (none without hold-out or at 0): %g %g %g %g", c1, c2, c3, c4);
    int32_t near[3];
    novelty_nearest(near, x, 3, cen, 2, 2);
    CHECK(near[0] == 0 && near[1] == 1 && near[2] == 0, "nearest centroid, ties to the lower code: %d %d %d", near[0],
          near[1], near[2]);
}

int main(int argc, char **argv) {
    Dist solo;
    dist_init(&solo, &argc, &argv);
    check_helpers();
#ifndef HAVE_IGRAPH
    printf("skip: this build has no igraph\n");
    dist_finalize(&solo);
    return 77;
#else
    static float emb[N * C], conf[N];
    for (size_t i = 0; i < N; i++) {
        size_t b = i / PER;  // blob 0 and 1: known types; blob 2: the missing type
        for (size_t c = 0; c < C; c++) {
            double u1 = rng_uniform(11, 1, i, c) + 1e-12, u2 = rng_uniform(11, 2, i, c);
            double z = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
            emb[i * C + c] = (float)(6.0 * (c == b) + z);
        }
        double u = rng_uniform(11, 3, i, 0);
        conf[i] = b < 2 ? (float)(0.95 + 0.05 * u) : (float)(0.4 + 0.3 * u);
        if (b < 2 && i % 25 == 0) conf[i] = 0.3f;   // a few unsure cells of a known type
        if (b == 2 && i % 30 == 0) conf[i] = 0.99f; // and a few confident ones of the missing type
    }
    for (int sampled = 0; sampled < 2; sampled++) {
        size_t max_cells = sampled ? 100 : N;
        Novelty v = novelty_find(emb, conf, NULL, N, C, 1.0, 0.8, NAN, max_cells, 5, &solo);
        size_t missed = 0, wrong = 0;
        for (size_t i = 0; i < N; i++) {
            if (i / PER == 2) missed += !v.novel[i];
            else wrong += v.novel[i];
        }
        const char *how = sampled ? "100 of 450 cells clustered" : "all 450 cells clustered";
        CHECK(v.n_clusters >= 3, "%s: %zu clusters (want >= 3 for 3 blobs)", how, v.n_clusters);
        CHECK(missed == 0, "%s: every cell of the missing type flagged (%zu missed)", how, missed);
        CHECK(wrong == 0, "%s: no cell of a known type flagged, unsure ones included (%zu flagged)", how, wrong);
        CHECK(v.n_novel == PER && v.n_clustered == (sampled ? 90 : (size_t)N), "%s: %zu cells novel, %zu clustered", how,
              v.n_novel, v.n_clustered);
        int consistent = 1;
        for (size_t i = 0; i < N; i++) consistent &= v.novel[i] == (v.cluster_conf[i] < 0.8f);
        CHECK(consistent, "%s: kida_novel is exactly cluster confidence < cut-off", how);
        novelty_free(&v);
    }
    // nothing unsure: no cluster is novel
    for (size_t i = 0; i < N; i++) conf[i] = 0.97f;
    Novelty v = novelty_find(emb, conf, NULL, N, C, 1.0, 0.8, NAN, N, 5, &solo);
    CHECK(v.n_novel == 0 && v.n_novel_clusters == 0 && !v.cluster_score, "all confident: no cell flagged (%zu)", v.n_novel);
    novelty_free(&v);
    // all confident, but the missing type lies far from the reference (distance 50 against 5; a
    // few far cells of the known types): the far cluster alone is novel
    static float dist[N];
    for (size_t i = 0; i < N; i++) dist[i] = i / PER == 2 ? 50.0f : (i % 20 == 0 ? 80.0f : 5.0f);
    v = novelty_find(emb, conf, dist, N, C, 1.0, 0.8, 20.0, N, 5, &solo);
    size_t hit = 0, wrong = 0;
    for (size_t i = 0; i < N; i++) {
        if (i / PER == 2) hit += v.novel[i];
        else wrong += v.novel[i];
    }
    CHECK(hit == PER && wrong == 0 && v.cluster_score && v.cluster_score[2 * PER] == 50.0f,
          "far cluster novel by its median distance (%zu of %d), far single cells not (%zu)", hit, PER, wrong);
    novelty_free(&v);
    v = novelty_find(emb, conf, dist, N, C, 1.0, 0.8, NAN, N, 5, &solo);
    CHECK(v.n_novel == 0 && !v.cluster_score, "no distance cut-off (NAN): the distances are not used");
    novelty_free(&v);
    dist_finalize(&solo);
    printf("%s\n", fails ? "FAIL" : "PASS");
    return fails;
#endif
}
