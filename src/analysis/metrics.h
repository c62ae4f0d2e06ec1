// metrics: how good an annotation is (accuracy, per-class precision/recall/F1, macro-F1,
// confusion matrix), how well two labelings agree (NMI, ARI), and what an embedding says
// (Leiden clusters of its kNN graph, kNN batch-mixing entropy). Everything here works on data
// already gathered on one process; definitions and choices are in docs/metrics.md.
#ifndef KIDA_METRICS_H
#define KIDA_METRICS_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

// Name of the prediction that means "no call". A prediction category with exactly this name is
// treated like a negative prediction code.
#define METRICS_UNKNOWN "unknown"

typedef struct {
    size_t n, n_labelled, n_unknown;          // cells, cells with a truth label, predicted unknown
    double accuracy, macro_f1, unknown_rate;  // accuracy over labelled cells (unknown is wrong);
                                              // unknown_rate = n_unknown / n (all cells)
    size_t K;                                 // classes in the union of truth and prediction names
    char **classes;                           // (K)
    double *precision, *recall, *f1;          // (K)
    size_t *support;                          // (K) truth counts
    size_t *confusion;                        // (K, K+1) truth rows x predicted cols, last = unknown
} ClassMetrics;

// Scores predictions against truth. truth and pred are codes into their own category arrays
// (truth_cats, pred_cats), matched by name. truth < 0 marks an unlabelled cell: it is skipped
// everywhere except n, n_unknown and unknown_rate. pred < 0 (or a prediction category named
// METRICS_UNKNOWN) marks "unknown": it counts as wrong and is never a true or false positive of
// any class. Classes are the names used by at least one cell (as truth or prediction), truth
// categories first in their order, then prediction-only names in theirs; unused categories are
// dropped. Precision, recall and F1 are 0 where their denominator is 0 (sklearn zero_division=0).
// macro_f1 averages F1 over the classes present in the truth (support > 0) only, so a predicted
// class absent from the truth lowers the precision of nothing but itself and is not averaged.
// With no labelled cell, accuracy and macro_f1 are NAN. Codes out of range and duplicate names
// are fatal. The result owns its arrays: release with metrics_free.
ClassMetrics metrics_classify(const int32_t *truth, char *const *truth_cats, size_t n_truth_cats,
                              const int32_t *pred, char *const *pred_cats, size_t n_pred_cats,
                              size_t n);
void metrics_free(ClassMetrics *m);

// Human-readable summary and per-class table (support > 0 or predicted classes), with title.
void metrics_print_table(const ClassMetrics *m, const char *title, FILE *out);
// The confusion matrix as a text table: one row per truth class (support > 0), one numbered
// column per class that is a truth or a prediction, and a last column u for unknown.
void metrics_print_confusion(const ClassMetrics *m, FILE *out);
// One JSON object on one line: title, counts, accuracy, macro_f1, unknown_rate, per-class
// arrays and the confusion matrix. NAN is written as null.
void metrics_write_json(const ClassMetrics *m, const char *title, FILE *out);
// Tab-separated: a per-class table (class precision recall f1 support), an empty line, then the
// confusion matrix (first column truth class, header = predicted classes + unknown).
void metrics_write_tsv(const ClassMetrics *m, FILE *out);

// Agreement of two labelings of n items (any int32 values are labels, negatives included: drop
// unlabelled items first). NMI uses the arithmetic mean of the entropies (sklearn's default
// average_method="arithmetic"); both are 1 for identical partitions up to renaming, NMI is 0 and
// ARI about 0 for independent ones. Two single-cluster labelings give 1, as sklearn does.
double metrics_nmi(const int32_t *a, const int32_t *b, size_t n);
double metrics_ari(const int32_t *a, const int32_t *b, size_t n);
// Renames the values of v (n) to dense ids 0..r-1 in increasing value order, into ids (n);
// returns r, the number of distinct values.
size_t metrics_dense_ids(uint32_t *ids, const int32_t *v, size_t n);

typedef enum { METRICS_EUCLIDEAN = 0, METRICS_COSINE = 1 } MetricsDistance;

// Exact k nearest neighbours of every row of x (n,d) among the other rows (the row itself is
// excluded; exact duplicates are kept), nearest first, into nbr (n,k). Cosine ranks by angle
// (rows are L2-normalised first; an all-zero row is at equal distance from every row).
// Needs 1 <= k < n. Cost O(n^2 d) through BLAS, in row blocks (OpenMP across blocks).
void metrics_knn(size_t *nbr, const float *x, size_t n, size_t d, size_t k, MetricsDistance dist);

// Leiden clusters of the embedding x (n,d): the exact kNN graph (k neighbours, k = 0 means 15,
// Euclidean), made undirected and unweighted, then igraph_community_leiden with the modularity
// objective at the given resolution (<= 0 means 1), iterated to convergence, with igraph's RNG
// seeded by seed (the caller's RNG state is restored). Returns the cluster ids (n), numbered
// 0.. by decreasing cluster size, and their count in *n_clusters; free with free().
// Needs igraph (HAVE_IGRAPH); without it the call is fatal with a hint.
int32_t *metrics_leiden(const float *x, size_t n, size_t d, size_t k, double resolution,
                        uint64_t seed, size_t *n_clusters);
// The same with a choice of distance for the kNN graph.
int32_t *metrics_leiden_dist(const float *x, size_t n, size_t d, size_t k, MetricsDistance dist,
                             double resolution, uint64_t seed, size_t *n_clusters);

// kNN batch-mixing entropy of the embedding x (n,d): for each cell the Shannon entropy of the
// batch labels among its k Euclidean neighbours (k = 0 means 15), divided by log(B) with B the
// number of distinct batches over all cells, averaged over cells. 1 = every neighbourhood holds
// all batches equally (reachable only when k >= B), 0 = every neighbourhood is one batch.
// Returns NAN when there is a single batch.
double metrics_batch_entropy(const float *x, size_t n, size_t d, const int32_t *batch, size_t k);
#endif
