// oor: is a cell of a type the reference has? An out-of-reference score from the cell embedding
// (X_kida): the smallest Mahalanobis distance to the reference types' centroids, with one shared
// covariance (shrunk towards its mean variance), fitted on the reference's training cells. Its
// cut-off is a quantile of the scores of the reference's held-out cells, which the model never
// trained on, so the share of in-reference cells flagged is known in advance.
#ifndef KIDA_OOR_H
#define KIDA_OOR_H
#include <stddef.h>
#include <stdint.h>

#include "mpi/dist.h"

typedef struct {
    size_t K, C;
    double *mean;      // (K,C) centroid of each type (a type without training cells is skipped)
    double *wmean;     // (K,C) the centroids whitened: L^-1 mean
    uint8_t *present;  // (K) the type has training cells
    double *chol;      // (C,C) lower Cholesky factor of the shrunk shared covariance
    double cutoff;     // score above which a cell is out of reference (NAN: no held-out cells)
    size_t n_holdout;  // held-out cells the cut-off was taken from
    float *holdout;    // (n_holdout) their scores, ascending
    float *holdout_conf;  // (n_holdout) their max probabilities, ascending (to calibrate `unknown`)
} OorModel;

// emb: (count, C) embeddings of this rank's reference cells, global rows start..start+count-1;
// y: (n_total) types (-1: unlabelled); holdout: (n_total) 1 = held out. Fits on at most
// `max_fit` training cells (every k-th, the same on any rank count). quantile: the cut-off's
// quantile of the held-out scores (e.g. 0.99). Collective; sums are exact, so any rank count
// gives the same model.
// conf: (count) the model's max probability of each of these cells.
OorModel oor_fit(const float *emb, const float *conf, size_t start, size_t count, size_t C, size_t K, const int32_t *y,
                 const uint8_t *holdout, size_t n_total, double quantile, size_t max_fit, const Dist *d);
// 1 for this rank's rows (of start, count) whose emb and conf oor_fit reads: the rows that fit the
// model and the labelled held-out rows; the others may hold anything.
uint8_t *oor_rows_used(const int32_t *y, const uint8_t *holdout, size_t start, size_t count, size_t n_total,
                       size_t max_fit);
// score (n): the out-of-reference score of each embedding (n, C).
void oor_score(const OorModel *m, const float *emb, size_t n, float *score);
void oor_free(OorModel *m);
#endif
