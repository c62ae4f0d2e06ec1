// metrics_embed: what an embedding says about cells: exact k-nearest-neighbour lists, Leiden
// clusters of the kNN graph (igraph), and the kNN batch-mixing entropy.
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "analysis/metrics.h"
#include "config.h"
#include "core/log.h"
#ifdef HAVE_IGRAPH
#include <igraph.h>
#endif

enum { KNN_ROW_BLOCK = 256, KNN_COL_BLOCK = 2048, METRICS_DEFAULT_K = 15 };

// Squared L2 norm of each row of x (n,d) into nrm (n).
static void row_sqnorms(float *nrm, const float *x, size_t n, size_t d) {
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (size_t j = 0; j < d; j++) s += (double)x[i * d + j] * x[i * d + j];
        nrm[i] = (float)s;
    }
}

// Inserts candidate (dist, idx) into the sorted top-k list (best first); ties keep the earlier.
static void topk_insert(float *bd, size_t *bi, size_t k, float dist, size_t idx) {
    if (!(dist < bd[k - 1])) return;
    size_t p = k - 1;
    while (p > 0 && dist < bd[p - 1]) {
        bd[p] = bd[p - 1];
        bi[p] = bi[p - 1];
        p--;
    }
    bd[p] = dist;
    bi[p] = idx;
}

void metrics_knn(size_t *nbr, const float *x, size_t n, size_t d, size_t k, MetricsDistance dist) {
    if (k < 1 || k >= n)
        FATAL("use fewer neighbours than cells (k < n)",
              "cannot find %zu neighbours among %zu cells (want 1 <= k < n)", k, n);
    if (d == 0) FATAL("pass an embedding with at least one dimension", "embedding width is 0");
    int di = szint_for(d, "neighbours: embedding of %zu cells x width %zu", n, d);   // a BLAS dimension below
    const float *y = x;  // the rows compared (unit rows for cosine)
    float *unit = NULL;
    if (dist == METRICS_COSINE) {
        unit = xmalloc_for(szmul(szmul(n, d), sizeof(float)), "neighbours: embedding of %zu cells x width %zu", n, d);
        for (size_t i = 0; i < n; i++) {
            double s = 0.0;
            for (size_t j = 0; j < d; j++) s += (double)x[i * d + j] * x[i * d + j];
            float inv = s > 0.0 ? (float)(1.0 / sqrt(s)) : 0.0f;
            for (size_t j = 0; j < d; j++) unit[i * d + j] = x[i * d + j] * inv;
        }
        y = unit;
    }
    float *nrm = xmalloc(n * sizeof(float));  // (n)
    row_sqnorms(nrm, y, n, d);
    size_t n_blocks = (n + KNN_ROW_BLOCK - 1) / KNN_ROW_BLOCK;
#ifdef _OPENMP
#pragma omp parallel
#endif
    {
        float *gram = xmalloc((size_t)KNN_ROW_BLOCK * KNN_COL_BLOCK * sizeof(float));  // (rb,cb)
        float *bd = xmalloc((size_t)KNN_ROW_BLOCK * k * sizeof(float));               // (rb,k)
#ifdef _OPENMP
#pragma omp for schedule(dynamic)
#endif
        for (size_t blk = 0; blk < n_blocks; blk++) {
            size_t r0 = blk * KNN_ROW_BLOCK, rb = n - r0 < KNN_ROW_BLOCK ? n - r0 : KNN_ROW_BLOCK;
            for (size_t t = 0; t < rb * k; t++) bd[t] = FLT_MAX;
            for (size_t t = 0; t < rb * k; t++) nbr[r0 * k + t] = (size_t)-1;
            for (size_t c0 = 0; c0 < n; c0 += KNN_COL_BLOCK) {
                size_t cb = n - c0 < KNN_COL_BLOCK ? n - c0 : KNN_COL_BLOCK;
                // gram = y[r0:r0+rb] . y[c0:c0+cb]^T
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rb, (int)cb, di,
                            1.0f, y + r0 * d, di, y + c0 * d, di, 0.0f, gram, (int)cb);
                for (size_t i = 0; i < rb; i++) {
                    size_t gi = r0 + i;
                    for (size_t j = 0; j < cb; j++) {
                        size_t gj = c0 + j;
                        if (gj == gi) continue;
                        float dd = nrm[gi] + nrm[gj] - 2.0f * gram[i * cb + j];
                        if (dd < 0.0f) dd = 0.0f;
                        topk_insert(bd + i * k, nbr + gi * k, k, dd, gj);
                    }
                }
            }
        }
        free(gram);
        free(bd);
    }
    free(nrm);
    free(unit);
}

double metrics_batch_entropy(const float *x, size_t n, size_t d, const int32_t *batch, size_t k) {
    if (k == 0) k = METRICS_DEFAULT_K;
    if (k >= n) k = n - 1;
    uint32_t *id = xmalloc((n + 1) * sizeof(uint32_t));  // (n) dense batch ids
    size_t n_batches = metrics_dense_ids(id, batch, n);
    if (n_batches < 2) {
        free(id);
        return NAN;
    }
    size_t *nbr = xmalloc(n * k * sizeof(size_t));  // (n,k)
    metrics_knn(nbr, x, n, d, k, METRICS_EUCLIDEAN);
    size_t *count = xcalloc(n_batches, sizeof(size_t));
    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < k; j++) count[id[nbr[i * k + j]]]++;
        double h = 0.0;
        for (size_t j = 0; j < k; j++) {  // each batch once: clear its count after use
            size_t *c = &count[id[nbr[i * k + j]]];
            if (*c) {
                double p = (double)*c / (double)k;
                h -= p * log(p);
                *c = 0;
            }
        }
        total += h;
    }
    free(count);
    free(nbr);
    free(id);
    return total / (double)n / log((double)n_batches);
}

int32_t *metrics_leiden(const float *x, size_t n, size_t d, size_t k, double resolution,
                        uint64_t seed, size_t *n_clusters) {
    return metrics_leiden_dist(x, n, d, k, METRICS_EUCLIDEAN, resolution, seed, n_clusters);
}

#ifdef HAVE_IGRAPH
static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    size_t id, size;
} ClusterSize;

static int cmp_cluster_size(const void *a, const void *b) {
    const ClusterSize *x = a, *y = b;
    if (x->size != y->size) return x->size > y->size ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

// Fatal on an igraph error code, naming the call.
static void igraph_check(igraph_error_t rc, const char *what) {
    if (rc != IGRAPH_SUCCESS)
        FATAL("this is an igraph failure on a valid graph; report it with the input sizes",
              "%s failed: %s", what, igraph_strerror(rc));
}

int32_t *metrics_leiden_dist(const float *x, size_t n, size_t d, size_t k, MetricsDistance dist,
                             double resolution, uint64_t seed, size_t *n_clusters) {
    if (k == 0) k = METRICS_DEFAULT_K;
    if (resolution <= 0.0) resolution = 1.0;
    if (n < 2) {
        int32_t *one = xcalloc(n + 1, sizeof(int32_t));
        *n_clusters = n;
        return one;
    }
    if (k >= n) k = n - 1;
    if (n >= ((size_t)1 << 31))
        FATAL("cluster a subsample of the cells", "%zu cells are too many for one kNN graph "
              "(want < 2^31)", n);
    size_t *nbr = xmalloc(n * k * sizeof(size_t));  // (n,k)
    metrics_knn(nbr, x, n, d, k, dist);
    // undirected edge set: (min,max) pairs, sorted and deduplicated
    uint64_t *pair = xmalloc(n * k * sizeof(uint64_t));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++) {
            uint64_t a = i, b = nbr[i * k + j];
            pair[i * k + j] = a < b ? (a << 32) | b : (b << 32) | a;
        }
    free(nbr);
    qsort(pair, n * k, sizeof(uint64_t), cmp_u64);
    size_t m = 0;
    for (size_t e = 0; e < n * k; e++)
        if (e == 0 || pair[e] != pair[m - 1]) pair[m++] = pair[e];

    igraph_error_handler_t *old_handler = igraph_set_error_handler(igraph_error_handler_ignore);
    igraph_rng_t rng, *old_rng = igraph_rng_default();
    igraph_check(igraph_rng_init(&rng, &igraph_rngtype_pcg32), "igraph_rng_init");
    igraph_check(igraph_rng_seed(&rng, (igraph_uint_t)seed), "igraph_rng_seed");
    igraph_rng_set_default(&rng);

    igraph_vector_int_t edges, membership;
    igraph_check(igraph_vector_int_init(&edges, (igraph_integer_t)(2 * m)), "igraph_vector_int_init");
    for (size_t e = 0; e < m; e++) {
        VECTOR(edges)[2 * e] = (igraph_integer_t)(pair[e] >> 32);
        VECTOR(edges)[2 * e + 1] = (igraph_integer_t)(pair[e] & 0xffffffffu);
    }
    free(pair);
    igraph_t graph;
    igraph_check(igraph_create(&graph, &edges, (igraph_integer_t)n, IGRAPH_UNDIRECTED), "igraph_create");
    igraph_vector_int_destroy(&edges);
    // modularity = CPM with node weights = degrees and resolution / (2 m)
    igraph_vector_t degree;
    igraph_check(igraph_vector_init(&degree, 0), "igraph_vector_init");
    igraph_check(igraph_strength(&graph, &degree, igraph_vss_all(), IGRAPH_ALL, IGRAPH_LOOPS, NULL),
                 "igraph_strength");
    igraph_check(igraph_vector_int_init(&membership, (igraph_integer_t)n), "igraph_vector_int_init");
    igraph_integer_t nc = 0;
    igraph_real_t quality = 0.0;
    igraph_check(igraph_community_leiden(&graph, NULL, &degree, resolution / (2.0 * (double)m),
                                         0.01, 0, -1, &membership, &nc, &quality),
                 "igraph_community_leiden");

    // renumber by decreasing size (ties: lower igraph id first)
    size_t C = (size_t)nc;
    ClusterSize *cs = xcalloc(C + 1, sizeof(ClusterSize));
    for (size_t c = 0; c < C; c++) cs[c].id = c;
    for (size_t i = 0; i < n; i++) cs[VECTOR(membership)[i]].size++;
    qsort(cs, C, sizeof(ClusterSize), cmp_cluster_size);
    size_t *rank = xmalloc((C + 1) * sizeof(size_t));
    for (size_t c = 0; c < C; c++) rank[cs[c].id] = c;
    int32_t *labels = xmalloc(n * sizeof(int32_t));
    for (size_t i = 0; i < n; i++) labels[i] = (int32_t)rank[VECTOR(membership)[i]];
    free(cs);
    free(rank);

    igraph_vector_int_destroy(&membership);
    igraph_vector_destroy(&degree);
    igraph_destroy(&graph);
    igraph_rng_set_default(old_rng);
    igraph_rng_destroy(&rng);
    igraph_set_error_handler(old_handler);
    *n_clusters = C;
    return labels;
}
#else
int32_t *metrics_leiden_dist(const float *x, size_t n, size_t d, size_t k, MetricsDistance dist,
                             double resolution, uint64_t seed, size_t *n_clusters) {
    FATAL("install the igraph C library (apt-get install libigraph-dev) and re-run configure",
          "Leiden clustering of %zu cells needs igraph, and this build has none", n);
}
#endif
