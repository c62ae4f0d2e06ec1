// anchors: the query cells the student learns from. For each class the teacher predicts, the
// given fraction of that class's cells with the lowest prediction entropy, chosen over ALL
// ranks' cells: entropies and predicted classes (not expression) are gathered, and ties are
// broken by global cell index, so the choice does not depend on the rank count.
#ifndef KIDA_ANCHORS_H
#define KIDA_ANCHORS_H
#include <stddef.h>
#include <stdint.h>

#include "mpi/dist.h"

// pred/entropy: this rank's block of n_local cells starting at global row row_start (blocks in
// rank order cover 0..n_total-1). Per class with n_a cells, max(ceil(fraction * n_a), min_per_type)
// anchors, at most n_a: the cells of lowest entropy.
// Returns the anchors' global rows in ascending order (same on every rank). Collective.
int64_t *anchors_select(const Dist *d, const int32_t *pred, const float *entropy, size_t n_local, size_t n_total,
                        size_t K, double fraction, size_t min_per_type, size_t *n_anchor);
#endif
