// test_novelty_profile: the profile rule of the novel-type search on hand-built data.
// - profiles_means: means on the log scale ((zero + mean d) * std + mean) against values worked
//   by hand, a group without cells NAN, the same bits when the rows come in two blocks;
// - the marker genes: each type's genes of largest profile minus the other types' mean;
// - the centred correlation: 1 for a cluster that is its label's profile plus a shift shared by
//   every cluster (a technology effect), below 0 for a cluster labelled as another type, 0 for a
//   cluster flat over the known types' markers;
// - novelty_by_profile: a cluster of a missing type (its own marker genes) labelled confidently
//   as a known type is made novel, the clusters of known types are not, and -1 turns it off.
// Exit 0 pass, 1 fail.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/novelty.h"
#include "prep/profiles.h"

static int fails = 0;
#define CHECK(c, ...) do { int ok_ = !!(c); fails |= !ok_; printf("%-4s ", ok_ ? "ok" : "FAIL"); printf(__VA_ARGS__); printf("\n"); } while (0)

// A Csr of dense rows (n, G), zeros left out.
static Csr dense_to_csr(const float *x, size_t n, size_t G) {
    size_t nnz = 0;
    for (size_t i = 0; i < n * G; i++) nnz += x[i] != 0;
    Csr m = csr_alloc(n, G, nnz);
    size_t k = 0;
    for (size_t r = 0; r < n; r++) {
        for (size_t g = 0; g < G; g++)
            if (x[r * G + g] != 0) {
                m.indices[k] = (int32_t)g;
                m.data[k++] = x[r * G + g];
            }
        m.indptr[r + 1] = (int64_t)k;
    }
    return m;
}

static void check_means(const Dist *d) {
    // G = 2: mean (1, 2), std (2, 0.5), zero (-0.5, -4)
    float mean[2] = {1, 2}, sd[2] = {2, 0.5f}, zero[2] = {-0.5f, -4};
    PrepStats ps = {.G = 2, .mean = mean, .std = sd, .zero = zero};
    // rows: group 0 {d = (1, 0), (3, 2)}, group 2 {(0, 4)}, one row of no group
    const float x[8] = {1, 0, 0, 4, 3, 2, 7, 7};
    const int32_t grp[4] = {0, 2, 0, -1};
    Csr m = dense_to_csr(x, 4, 2);
    int64_t cnt[3];
    float *p = profiles_means(&m, grp, 3, &ps, cnt, d);
    // group 0: d mean (2, 1) -> x̃ (1.5, -3) -> log (1.5*2+1, -3*0.5+2) = (4, 0.5); group 2: (0, 4)
    // -> x̃ (-0.5, 0) -> (0, 2); group 1: NAN
    CHECK(p[0] == 4 && p[1] == 0.5f && isnan(p[2]) && isnan(p[3]) && p[4] == 0 && p[5] == 2,
          "profiles: log-scale means worked by hand (%g %g | %g %g | %g %g)", p[0], p[1], p[2], p[3], p[4], p[5]);
    CHECK(cnt[0] == 2 && cnt[1] == 0 && cnt[2] == 1, "profiles: cells per group %lld %lld %lld", (long long)cnt[0],
          (long long)cnt[1], (long long)cnt[2]);
    // the same rows in two blocks give the same bits
    Csr a = dense_to_csr(x, 1, 2), b = dense_to_csr(x + 2, 3, 2);
    ProfileSums s = profiles_begin(3, 2);
    profiles_add(&s, &a, grp);
    profiles_add(&s, &b, grp + 1);
    float *q = profiles_finish(&s, &ps, NULL, d);
    CHECK(!memcmp(p, q, 6 * sizeof(float)), "profiles: rows in two blocks give the same bits");
    free(p);
    free(q);
    csr_free(&m);
    csr_free(&a);
    csr_free(&b);
}

enum { K = 3, G = 12, NC = 4, PER = 5 };

// Type k's profile: 1 everywhere, 4 on genes 3k..3k+2 (its markers); gene 9..11: the missing
// type's markers (4 in the missing type only).
static void type_profile(float *p, int k) {
    for (size_t g = 0; g < G; g++) p[g] = (g / 3 == (size_t)k) ? 4.0f : 1.0f;
}

int main(int argc, char **argv) {
    Dist solo;
    dist_init(&solo, &argc, &argv);
    check_means(&solo);
    float prof[K * G];
    for (int k = 0; k < K; k++) type_profile(prof + k * G, k);
    uint8_t mask[G];
    size_t nm = novelty_profile_markers(mask, prof, K, G, 3);
    int ok = nm == 9;
    for (size_t g = 0; g < G; g++) ok &= mask[g] == (g < 9);
    CHECK(ok, "markers: the 3 genes of each type that it alone has (%zu set)", nm);
    float nanrow[2 * G];
    memcpy(nanrow, prof, G * sizeof(float));
    for (size_t g = 0; g < G; g++) nanrow[G + g] = NAN;
    nm = novelty_profile_markers(mask, nanrow, 2, G, 3);
    CHECK(nm == 0, "markers: none with a single type that has cells (%zu)", nm);

    // clusters 0..2: the types with a shift of +0.7 on every gene (a technology); cluster 3: the
    // missing type (4 on genes 9..11), shifted too
    float cl[NC * G];
    for (int c = 0; c < NC; c++) {
        type_profile(cl + c * G, c);
        for (size_t g = 0; g < G; g++) cl[c * G + g] += 0.7f;
    }
    double r[NC];
    int32_t lab[NC] = {0, 1, 2, 0};
    nm = novelty_profile_markers(mask, prof, K, G, 3);
    novelty_profile_r(r, cl, lab, NC, prof, K, G, mask);
    CHECK(fabs(r[0] - r[1]) < 1e-12 && fabs(r[1] - r[2]) < 1e-12 && r[0] > 0.8, "r: the known clusters alike and high (%.4f %.4f %.4f)",
          r[0], r[1], r[2]);
    CHECK(r[3] == 0, "r: the missing type (flat over the known markers) labelled as type 0 is 0 (%.4f)", r[3]);
    lab[0] = 1;
    novelty_profile_r(r, cl, lab, NC, prof, K, G, mask);
    CHECK(r[0] < 0, "r: the cluster of type 0 labelled as type 1 is below 0 (%.4f)", r[0]);
    lab[0] = 0;
    int32_t lab2[NC] = {0, -1, 2, 0};
    float clnan[NC * G];
    memcpy(clnan, cl, sizeof cl);
    for (size_t g = 0; g < G; g++) clnan[2 * G + g] = NAN;
    novelty_profile_r(r, clnan, lab2, NC, prof, K, G, mask);
    CHECK(isnan(r[1]) && isnan(r[2]) && !isnan(r[0]), "r: NAN without a label or without cells");
    novelty_profile_r(r, cl, lab, 1, prof, K, G, mask);
    CHECK(isnan(r[0]), "r: NAN for a single cluster (a build without igraph), never novel");

    // the whole rule: PER cells per cluster, cluster 3 confident and labelled type 0
    Novelty v = {.n_clusters = NC};
    size_t n = NC * PER;
    v.cluster = malloc(n * sizeof(int32_t));
    v.novel = calloc(n, 1);
    int32_t pred[NC * PER];
    for (size_t i = 0; i < n; i++) {
        v.cluster[i] = (int32_t)(i / PER);
        pred[i] = lab[i / PER];
    }
    pred[3 * PER] = 2;  // a minority label in the missing cluster
    size_t added = novelty_by_profile(&v, n, cl, pred, prof, K, G, 0.25, &solo);
    size_t hit = 0, wrong = 0;
    for (size_t i = 0; i < n; i++) {
        if (i / PER == 3) hit += v.novel[i];
        else wrong += v.novel[i];
    }
    CHECK(added == 1 && hit == PER && wrong == 0 && v.n_novel == PER && v.n_novel_clusters == 1,
          "rule: the missing type's cluster novel (%zu of %d), no known cell (%zu), 1 cluster added (%zu)", hit, PER, wrong,
          added);
    CHECK(v.cluster_r && v.cluster_r[3 * PER] == 0 && v.cluster_r[0] > 0.8f, "rule: kida_cluster_profile_r per cell (%g, %g)",
          v.cluster_r[3 * PER], v.cluster_r[0]);
    memset(v.novel, 0, n);
    v.novel[0] = 1;  // cluster 0 already novel (by confidence): flagged as before, not counted again
    v.n_novel_clusters = 1;
    added = novelty_by_profile(&v, n, cl, pred, prof, K, G, 0.25, &solo);
    CHECK(added == 1 && v.n_novel_clusters == 2 && v.n_novel == PER + 1, "rule: a cluster novel already is not counted twice (%zu added)", added);
    memset(v.novel, 0, n);
    v.n_novel_clusters = 0;
    added = novelty_by_profile(&v, n, cl, pred, prof, K, G, -1, &solo);
    CHECK(added == 0 && v.n_novel == 0, "rule: r_min -1 flags nothing (%zu)", v.n_novel);
    novelty_free(&v);
    dist_finalize(&solo);
    printf("%s\n", fails ? "FAIL" : "PASS");
    return fails;
}
