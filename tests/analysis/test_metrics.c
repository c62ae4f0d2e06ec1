// test_metrics: classification scores, NMI/ARI and the kNN lists against values computed
// independently with scikit-learn 1.2.1 (Debian /usr/bin/python3; the calls are named at each
// case), plus Leiden recovering planted clusters and the batch-mixing entropy at its two ends.
// Exit 0 pass, 1 fail.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/metrics.h"
#include "config.h"
#include "core/log.h"
#include "core/rng.h"

static int g_fail = 0;

static void check(const char *what, double got, double want, double tol) {
    double err = fabs(got - want);
    int ok = err <= tol && !isnan(got);
    if (!ok) g_fail = 1;
    printf("%-48s got % .10f want % .10f err %.1e %s\n", what, got, want, err, ok ? "ok" : "FAIL");
}

static void check_true(const char *what, int cond) {
    if (!cond) g_fail = 1;
    printf("%-48s %s\n", what, cond ? "ok" : "FAIL");
}

// Truth with an unlabelled cell, an unused truth category (Mono), prediction categories in a
// different order with a class absent from the truth (DC), a category named "unknown" and
// negative (unknown) codes. With y_true/y_pred the labelled cells' names (unknown -> "unknown"):
//   accuracy_score(y_true, y_pred)
//   precision_recall_fscore_support(y_true, y_pred, labels=["B","T","NK","DC"], zero_division=0)
//   f1_score(y_true, y_pred, labels=["B","T","NK"], average="macro", zero_division=0)
//   confusion_matrix(y_true, y_pred, labels=["B","T","NK","DC","unknown"])
static void check_classify(void) {
    char *truth_cats[] = {"B", "T", "NK", "Mono"};
    char *pred_cats[] = {"T", "B", "DC", "unknown", "NK"};
    const int32_t truth[20] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, -1, -1, 0, 1, 2, 1, 0};
    const int32_t pred[20] = {0, 1, 1, 3, 0, 0, 0, 2, -1, 4, 4, 4, 1, 0, -1, 1, 0, 3, 0, 2};
    ClassMetrics m = metrics_classify(truth, truth_cats, 4, pred, pred_cats, 5, 20);
    check("classify: n", (double)m.n, 20, 0);
    check("classify: n_labelled", (double)m.n_labelled, 18, 0);
    check("classify: n_unknown (codes -1 and 'unknown')", (double)m.n_unknown, 4, 0);
    check("classify: unknown_rate = 4/20", m.unknown_rate, 0.2, 1e-12);
    check("classify: accuracy (sklearn)", m.accuracy, 0.5555555555555556, 1e-12);
    check("classify: macro-F1 over truth classes (sklearn)", m.macro_f1, 0.6285714285714286, 1e-12);
    check("classify: K (Mono unused, DC prediction-only)", (double)m.K, 4, 0);
    const char *want_classes[4] = {"B", "T", "NK", "DC"};
    const double want_p[4] = {0.75, 0.8333333333333334, 0.6666666666666666, 0.0};
    const double want_r[4] = {0.5, 0.625, 0.5, 0.0};
    const double want_f[4] = {0.6, 0.7142857142857143, 0.5714285714285715, 0.0};
    const size_t want_s[4] = {6, 8, 4, 0};
    const size_t want_conf[4][5] = {{3, 1, 0, 1, 1}, {0, 5, 1, 1, 1}, {1, 0, 2, 0, 1}, {0, 0, 0, 0, 0}};
    for (size_t k = 0; k < 4 && k < m.K; k++) {
        char name[64];
        snprintf(name, sizeof name, "classify: class %zu is %s", k, want_classes[k]);
        check_true(name, strcmp(m.classes[k], want_classes[k]) == 0);
        snprintf(name, sizeof name, "classify: precision %s", want_classes[k]);
        check(name, m.precision[k], want_p[k], 1e-12);
        snprintf(name, sizeof name, "classify: recall %s", want_classes[k]);
        check(name, m.recall[k], want_r[k], 1e-12);
        snprintf(name, sizeof name, "classify: f1 %s", want_classes[k]);
        check(name, m.f1[k], want_f[k], 1e-12);
        snprintf(name, sizeof name, "classify: support %s", want_classes[k]);
        check(name, (double)m.support[k], (double)want_s[k], 0);
    }
    int conf_ok = m.K == 4;
    for (size_t t = 0; conf_ok && t < 4; t++)
        for (size_t p = 0; p < 5; p++) conf_ok &= m.confusion[t * 5 + p] == want_conf[t][p];
    check_true("classify: confusion matrix (sklearn)", conf_ok);

    // reports: JSON carries the numbers, TSV the confusion header with the unknown column
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    metrics_write_json(&m, "unit \"case\"", f);
    fclose(f);
    check_true("json: one line, escaped title, accuracy, confusion",
               strstr(buf, "\"title\":\"unit \\\"case\\\"\"") && strstr(buf, "\"n_labelled\":18") &&
                   strstr(buf, "\"accuracy\":0.55555555555555558") &&
                   strstr(buf, "\"confusion\":[[3,1,0,1,1],[0,5,1,1,1],[1,0,2,0,1],[0,0,0,0,0]]") &&
                   strchr(buf, '\n') == buf + len - 1);
    free(buf);
    f = open_memstream(&buf, &len);
    metrics_write_tsv(&m, f);
    fclose(f);
    check_true("tsv: per-class row and confusion header",
               strstr(buf, "T\t0.833333\t0.625000\t0.714286\t8\n") &&
                   strstr(buf, "truth\\predicted\tB\tT\tNK\tDC\tunknown\n") &&
                   strstr(buf, "\nNK\t1\t0\t2\t0\t1\n"));
    free(buf);
    f = open_memstream(&buf, &len);
    metrics_print_confusion(&m, f);
    fclose(f);
    fputs(buf, stdout);
    check_true("printed confusion: header, truth rows, unknown column, DC a column only",
               strstr(buf, "\n             1    2    3    4    u\n") &&
                   strstr(buf, "\n  1 B        3    1    0    1    1\n") &&
                   strstr(buf, "\n  3 NK       1    0    2    0    1\n") && !strstr(buf, "  4 DC    ") &&
                   strstr(buf, "\n  4 DC (predicted only, not in the truth)\n"));
    free(buf);
    metrics_print_table(&m, "unit case", stdout);
    metrics_free(&m);
    check_true("metrics_free zeroes the struct", m.K == 0 && m.classes == NULL);

    // every class present, no unknowns: plain macro average.
    //   f1_score(t, p, average="macro") = 0.6031746031746033, accuracy_score = 0.6
    char *cats[] = {"a", "b", "c"};
    const int32_t t2[10] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 2}, p2[10] = {0, 1, 1, 0, 2, 2, 1, 1, 2, 0};
    m = metrics_classify(t2, cats, 3, p2, cats, 3, 10);
    check("classify all present: accuracy (sklearn)", m.accuracy, 0.6, 1e-12);
    check("classify all present: macro-F1 (sklearn)", m.macro_f1, 0.6031746031746033, 1e-12);
    check("classify all present: no unknowns", (double)m.n_unknown, 0, 0);
    metrics_free(&m);

    // no labelled cell: accuracy is undefined, JSON writes null
    const int32_t t3[2] = {-1, -1}, p3[2] = {0, -1};
    m = metrics_classify(t3, cats, 3, p3, cats, 3, 2);
    check_true("classify unlabelled: accuracy is NAN", isnan(m.accuracy) && m.n_labelled == 0);
    f = open_memstream(&buf, &len);
    metrics_write_json(&m, "none", f);
    fclose(f);
    check_true("json: NAN written as null", strstr(buf, "\"accuracy\":null") != NULL);
    free(buf);
    metrics_free(&m);
}

// normalized_mutual_info_score(a, b) (average_method="arithmetic") and adjusted_rand_score(a, b)
static void check_agreement(void) {
    const int32_t a[30] = {0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 5, 5, 5,
                           -1, -1, 0, 1, 2, 3, 5, 0, 1, 2, 2, 2, 1, 0, 3};
    const int32_t b[30] = {1, 1, 0, 0, 2, 2, 2, 2, 7, 7, 7, 3, 3, 3, 1,
                           1, 0, 0, 2, 2, 2, 7, 3, 3, 3, 1, 1, 1, 0, 0};
    check("nmi (sklearn)", metrics_nmi(a, b, 30), 0.25343032435913393, 1e-12);
    check("ari (sklearn)", metrics_ari(a, b, 30), 0.004354379500921119, 1e-12);
    check("nmi symmetric", metrics_nmi(b, a, 30), 0.25343032435913393, 1e-12);
    const int32_t c[10] = {4, 4, 9, 9, 9, 1, 1, 1, 1, 0}, d[10] = {2, 2, 0, 0, 0, 5, 5, 5, 5, 1};
    check("nmi identical up to renaming", metrics_nmi(c, d, 10), 1.0, 1e-12);
    check("ari identical up to renaming", metrics_ari(c, d, 10), 1.0, 1e-12);
    const int32_t e[4] = {0, 0, 1, 1}, g[4] = {0, 1, 0, 1}, h[4] = {3, 3, 3, 3};
    check("nmi independent (sklearn 0)", metrics_nmi(e, g, 4), 0.0, 1e-12);
    check("ari independent (sklearn -0.5)", metrics_ari(e, g, 4), -0.5, 1e-12);
    check("nmi vs one cluster (sklearn 0)", metrics_nmi(e, h, 4), 0.0, 1e-12);
    check("ari vs one cluster (sklearn 0)", metrics_ari(e, h, 4), 0.0, 1e-12);
    check("nmi one cluster both (sklearn 1)", metrics_nmi(h, h, 4), 1.0, 1e-12);
    check("ari one cluster both (sklearn 1)", metrics_ari(h, h, 4), 1.0, 1e-12);
}

// 40 points in 3-D, x[i][j] = (float)sin(1.3 i + 0.7 j^2 + 0.1 i j), batch = i % 3, k = 5.
// sklearn NearestNeighbors(n_neighbors=6, metric=..., algorithm="brute") on the float32 values,
// dropping each point itself; entropy = mean_i H(batch of the 5 neighbours) / log(3).
static void check_knn(void) {
    enum { N = 40, D = 3, K = 5 };
    float x[N * D];
    int32_t batch[N];
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++) x[i * D + j] = (float)sin(1.3 * i + 0.7 * j * j + 0.1 * i * j);
        batch[i] = i % 3;
    }
    const size_t want[2][3][K] = {{{36, 19, 24, 15, 32}, {34, 38, 29, 2, 7}, {26, 34, 30, 35, 2}},
                                  {{36, 32, 37, 19, 28}, {34, 3, 7, 38, 12}, {26, 34, 2, 30, 35}}};
    const int rows[3] = {0, 17, 39};
    size_t nbr[N * K];
    for (int metric = 0; metric < 2; metric++) {
        metrics_knn(nbr, x, N, D, K, metric ? METRICS_COSINE : METRICS_EUCLIDEAN);
        int ok = 1;
        for (int r = 0; r < 3; r++)
            for (int j = 0; j < K; j++) ok &= nbr[rows[r] * K + j] == want[metric][r][j];
        check_true(metric ? "knn cosine rows 0,17,39 (sklearn)" : "knn euclidean rows 0,17,39 (sklearn)", ok);
    }
    check("batch entropy, sklearn neighbours", metrics_batch_entropy(x, N, D, batch, K),
          0.8503435611821963, 1e-9);
    int32_t one[N] = {0};
    check_true("batch entropy, one batch is NAN", isnan(metrics_batch_entropy(x, N, D, one, K)));
}

// Planted clusters: 5 Gaussian blobs (sd 1) around 8 e_c in 10-D, 60 points each.
static float *make_blobs(size_t n_per, size_t n_clusters, size_t d, float sep, int32_t *truth,
                         uint64_t seed) {
    size_t n = n_per * n_clusters;
    float *x = xmalloc(n * d * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        size_t c = i % n_clusters;  // interleaved, so clusters are not contiguous in the input
        truth[i] = (int32_t)c;
        for (size_t j = 0; j < d; j++)
            x[i * d + j] = rng_normal(seed, 7, i, j) + (j == c ? sep : 0.0f);
    }
    return x;
}

static void check_embedding(void) {
    enum { PER = 60, C = 5, D = 10 };
    int32_t truth[PER * C];
    float *x = make_blobs(PER, C, D, 8.0f, truth, 42);
#ifdef HAVE_IGRAPH
    for (int metric = 0; metric < 2; metric++) {
        size_t nc = 0;
        int32_t *cl = metric ? metrics_leiden_dist(x, PER * C, D, 15, METRICS_COSINE, 1.0, 1, &nc)
                             : metrics_leiden(x, PER * C, D, 0, 0.0, 1, &nc);
        double ari = metrics_ari(truth, cl, PER * C);
        printf("leiden %s: %zu clusters, ARI %.4f, NMI %.4f\n", metric ? "cosine" : "euclidean", nc,
               ari, metrics_nmi(truth, cl, PER * C));
        check_true(metric ? "leiden cosine recovers blobs (ARI > 0.95)"
                          : "leiden euclidean recovers blobs (ARI > 0.95)", ari > 0.95);
        int sorted = 1;  // ids by decreasing size
        size_t cnt[PER * C] = {0};
        for (size_t i = 0; i < PER * C; i++) cnt[cl[i]]++;
        for (size_t c = 1; c < nc; c++) sorted &= cnt[c] <= cnt[c - 1];
        check_true("leiden ids numbered by decreasing size", sorted && nc >= 1);
        size_t nc2 = 0;
        int32_t *cl2 = metric ? metrics_leiden_dist(x, PER * C, D, 15, METRICS_COSINE, 1.0, 1, &nc2)
                              : metrics_leiden(x, PER * C, D, 0, 0.0, 1, &nc2);
        check_true("leiden same seed, same clusters",
                   nc2 == nc && memcmp(cl, cl2, PER * C * sizeof(int32_t)) == 0);
        free(cl);
        free(cl2);
    }
#else
    printf("leiden: skipped (built without igraph)\n");
#endif
    // batch mixing: batch = cluster (separated) gives 0; batches drawn independently of the
    // position (mixed) approach 1 (k = 50, two batches: the binomial spread costs ~1.5%)
    check("batch entropy, batch = blob", metrics_batch_entropy(x, PER * C, D, truth, 15), 0.0, 1e-12);
    int32_t mixed[PER * C];
    for (size_t i = 0; i < PER * C; i++) mixed[i] = (int32_t)(rng_u64(3, 9, i, 0) & 1);
    double h = metrics_batch_entropy(x, PER * C, D, mixed, 50);
    printf("batch entropy, random batches, k=50: %.4f\n", h);
    check_true("batch entropy, random batches > 0.95", h > 0.95 && h <= 1.0);
    free(x);
}

int main(void) {
    check_classify();
    check_agreement();
    check_knn();
    check_embedding();
    printf(g_fail ? "FAIL\n" : "PASS\n");
    return g_fail;
}
