// spatial: smoothing of a spatial query's class probabilities over neighbouring spots. Tissue
// layers and regions are contiguous, and one spot's counts are noisy: the mean of a spot's and its
// nearest neighbours' probabilities is a better guess of its label than its own (docs/results.md,
// "Spatial spots"). Neighbours are the k nearest spots of the same file by the coordinates of
// obsm["spatial"] (Euclidean, ties by lower index), the spot itself included.
#ifndef KIDA_SPATIAL_H
#define KIDA_SPATIAL_H
#include <stddef.h>
#include <stdint.h>

#include "core/options.h"
#include "mpi/dist.h"
#include "train/dataset.h"
#include "train/infer.h"

// The k nearest points (x, y interleaved in xy) of each of the points [lo, hi) among the points
// [0, n) of the same group (group[i] < 0 or a non-finite coordinate: a point that has no
// neighbours and is nobody's neighbour). nbr (hi - lo, k) gets global indices, nearest first (the
// point itself first); a point with fewer than k points in its group gets them all and -1 after.
// The result is the same whatever [lo, hi) is (each point's list depends on the points only).
void spatial_knn(const float *xy, const int32_t *group, size_t n, size_t lo, size_t hi, size_t k, int64_t *nbr);

// out (m, K) = for each of m points the mean of the rows of probs (n, K) named in its nbr row
// (-1 ends a row; a row with no neighbour keeps its own probabilities, row lo + i of probs), summed
// in list order.
void spatial_mean_rows(const float *probs, size_t K, const int64_t *nbr, size_t m, size_t k, size_t lo, float *out);

// --spatial-smooth: replaces the probabilities of every Predictions in p (n_p of them, this
// rank's cells of q) by their means over each spot's c->spatial_smooth nearest spots of the same
// file, for the files of modality spatial that hold obsm["spatial"] (a spatial file without it is
// warned about and left alone); labels, confidences and entropies follow. Collective. Returns
// the number of spots averaged over (0: nothing smoothed).
size_t spatial_smooth_query(const Dataset *q, const Config *c, const Dist *d, Predictions *const *p, size_t n_p);
#endif
