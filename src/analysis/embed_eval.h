// embed_eval: how well an embedding groups cells by type and mixes batches (kida evaluate
// --embedding). kida's X_kida is set beside a baseline on the same cells: PCA of the cells' own
// preprocessed genes (scanpy's normalize_total, log1p, HVG, scale, PCA 50). For each: Leiden
// clusters of the 15-NN graph against the true labels (NMI, ARI), kNN batch-mixing entropy, and
// the kNN mixing of modalities within each cell type.
#ifndef KIDA_EMBED_EVAL_H
#define KIDA_EMBED_EVAL_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/csr.h"

// The default of --modality-key (options.c): the obs column kida annotate writes for a query of
// several modalities. Only this key may be missing from the file without an error.
#define EMBED_EVAL_MODALITY_KEY "kida_modality"

// Reads obsm X_kida, obs truth_key (may be absent: clusters only), obs batch_key (NULL or ""
// for none), obs modality_key (NULL or "" for none) and X (raw counts) of the annotated file
// pred_path on this process alone, and prints a side-by-side table to out. The PCA baseline is
// left out, with a note, when X is not non-negative finite counts. Leiden: 15 neighbours,
// Euclidean, resolution 1, seed 0. When the cells hold >= 2 modalities, a second table gives the
// kNN mixing of modality within each type (obs truth_key, else the predicted obs kida_label),
// measured on that type's cells alone, for X_kida and the PCA baseline, beside the value of
// neighbours drawn at random (H of the type's modality shares / log of their number), and the
// cell-weighted mean over types. FATAL when the file has no X_kida, or lacks obs batch_key or
// obs modality_key (unless that is the default EMBED_EVAL_MODALITY_KEY).
void embed_eval_report(const char *pred_path, const char *truth_key, const char *batch_key, const char *modality_key,
                       FILE *out);

// Principal components of the dense matrix X = 1 zᵀ + D with D (n,G) sparse (any z: PCA centres
// the columns, so only D matters), by randomized subspace iteration (Halko, Martinsson & Tropp
// 2011) on 2k columns (at least k + 10) with 20 power iterations, each step re-orthonormalised,
// then an exact eigen-decomposition of the small projected problem. On the bundled query the 50
// components hold 27.85% of the variance, as scanpy's arpack PCA (docs/explain.md). Writes the
// scores of the k leading components into scores (n,k) (sign: the largest-magnitude score of
// each component is positive, as sklearn's svd_flip) and their variances (ddof=1) into var (k);
// returns the total variance of the centred matrix, Σ_g var(column g). Needs 1 <= k < min(n, G).
// Cost: about 2 × 42 sparse products of D with 2k columns. seed fixes the start.
double embed_eval_pca(float *scores, double *var, const Csr *D, size_t k, uint64_t seed);
#endif
