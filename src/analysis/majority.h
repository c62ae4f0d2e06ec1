// majority: CellTypist's majority voting. The query is over-clustered (Leiden on the kNN graph
// of the embedding, or an obs column the user gives) and every cell takes the label most of its
// cluster has. Collective over the ranks: the embedding is gathered on rank 0, which clusters;
// the clusters go to every rank and the votes are summed over ranks, so 1 and N ranks give the
// same columns.
#ifndef KIDA_MAJORITY_H
#define KIDA_MAJORITY_H
#include <stddef.h>
#include <stdint.h>

#include "mpi/dist.h"

// Neighbours of a cell in the over-clustering graph (scanpy's and CellTypist's default).
#define MAJORITY_K 15

typedef struct {
    int32_t *cluster;   // (n) this rank's cells' over-cluster (codes of cats), -1: none
    char **cats;        // (n_cats) cluster names ("0", "1", ... for Leiden, largest first)
    size_t n_cats;
    int32_t *label;     // (n) the majority label of the cell's cluster (its own label without one)
    double resolution;  // Leiden's resolution (0 for a given column)
} Majority;

// CellTypist's Leiden resolution for n cells: 5 below 5,000 cells, 10 below 20,000, 15 below
// 40,000, 20 below 100,000, 25 below 200,000, else 30.
double majority_resolution(size_t n);
// The largest embedding gathered on rank 0 (cells x width, floats): one MPI message.
#define MAJORITY_MAX_VALUES ((size_t)2147483647)
// Over-clusters the query from this rank's n cells of its embedding emb (n, C): gathered on rank
// 0 (FATAL past MAJORITY_MAX_VALUES values), exact kNN (MAJORITY_K, Euclidean) and Leiden
// (modularity, majority_resolution of the cell count, igraph's RNG seeded by seed), clusters
// sent to every rank. The cost is rank 0's exact kNN: O(cells^2 x C).
Majority majority_leiden(const float *emb, size_t n, size_t C, uint64_t seed, const Dist *d);
// The names "0", "1", ... of k Leiden clusters (free with strv_free(cats, k)).
char **majority_cluster_names(size_t k);
// Over-clusters by given codes (this rank's n cells, -1: none; the cats are copied).
Majority majority_given(const int32_t *codes, size_t n, char *const *cats, size_t n_cats);
// The vote: label (n) codes in [0, n_labels) of this rank's cells; each cluster's most frequent
// label over all ranks (ties: the lower code) into m->label. Collective.
void majority_vote(Majority *m, const int32_t *label, size_t n, size_t n_labels, const Dist *d);
void majority_free(Majority *m);
#endif
