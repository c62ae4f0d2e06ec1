// preprocess: scanpy's standard preprocessing, fitted on the reference over row shards and
// applied to any block of rows:
//   normalize_total(target_sum) -> log1p -> highly_variable_genes(flavor="seurat", n_top_genes)
//   -> scale(zero_center=True, max_value=clip)
// Every per-gene sum is exact (an integer superaccumulator over the float32 values), so the
// statistics are bit-identical for any rank count or row split. docs/preprocessing.md lists each
// step's scanpy semantics and the measured agreement.
#ifndef KIDA_PREPROCESS_H
#define KIDA_PREPROCESS_H
#include <stddef.h>
#include <stdint.h>

#include "core/csr.h"
#include "mpi/dist.h"

typedef struct {
    double target_sum;     // normalize_total's target (1e4)
    size_t n_top_genes;    // HVGs to keep (3000); ties at the cutoff are all kept, as scanpy does
    double clip;           // scale's max_value (10); clipping is two-sided, [-clip, clip]
} PrepOptions;

typedef struct {
    size_t G;              // model genes (the HVGs, in reference var order)
    char **gene_names;     // (G)
    int32_t *ref_col;      // (G) column of each model gene in the reference matrix
    float *mean, *std;     // (G) of log1p(normalize_total(x)) over reference cells
                           //     (std: ddof=1, 0 -> 1, as sc.pp.scale)
    float *zero;           // (G) the preprocessed value of a zero count: clip((0-mean)/std)
    double target_sum, clip;
} PrepStats;

// Default options: target_sum 1e4, n_top_genes 3000, clip 10.
PrepOptions prep_options_default(void);

// Fits the preprocessing on the reference rows this rank holds (raw counts; every rank passes
// its own block, n_cols equal on all ranks) with all var names of the reference (n_cols of
// them). Chooses the HVGs (seurat flavor on expm1 of the log data, 20 equal-width mean bins)
// and the scale statistics of those genes. FATAL on NaN/Inf/negative counts (naming the global
// row), fewer than 2 cells in total, or no gene with a finite normalized dispersion. Collective.
PrepStats prep_fit(const Csr *ref_rows, char *const *var_names, const PrepOptions *opt, const Dist *d);

// As prep_fit, with this rank's rows given as n_blocks separate row blocks (sums are exact, so
// any split of the same rows gives bit-identical statistics). prep_fit is the n_blocks == 1 case.
PrepStats prep_fit_blocks(const Csr *const *blocks, size_t n_blocks, char *const *var_names,
                          const PrepOptions *opt, const Dist *d);

// Model input for a block of rows of any matrix. col_to_model (rows->n_cols) maps each input
// column to a model gene or -1. The library size of normalize_total is over ALL input columns
// (as scanpy computes it on the full matrix). Returns a CSR over the G model genes (n_cols = G,
// row_start copied) holding d = x̃ - zero[g] for the model genes whose count is nonzero in the
// row, where x̃ = clip((log1p(x / size * target_sum) - mean) / std); a model gene without a
// nonzero count (or without an input column) is at its "zero" value, i.e. d = 0, not stored.
// Columns ascend within each row. FATAL on NaN/Inf/negative input naming the (global) row.
// Not collective.
Csr prep_transform(const PrepStats *s, const Csr *rows, const int32_t *col_to_model);

// Frees every array of s and zeroes it.
void prep_stats_free(PrepStats *s);

// --- pieces exposed for tests and the scanpy cross-check ---

// Per-gene mean and variance (ddof=1) over all ranks' rows of expm1(log1p(normalize_total(x))),
// the moments highly_variable_genes(flavor="seurat") starts from: mean, var (rows->n_cols).
// Collective.
void prep_hvg_moments(const Csr *rows, const PrepOptions *opt, const Dist *d, double *mean, double *var);

// scanpy's seurat-flavor HVG choice from per-gene mean and variance (ddof=1) of expm1 of the
// log data: dispersion = var/mean (mean 0 -> 1e-12), log; mean -> log1p(mean); 20 equal-width
// bins of the means (pandas.cut); per bin, normalized dispersion = (disp - bin mean) / bin std
// (ddof=1; a bin whose std is undefined, e.g. a single gene, gives disp / bin mean, i.e. 1 for
// a lone gene); genes whose normalized dispersion is >= the n_top-th highest are chosen (NaN
// never). Writes is_hvg (n), disp_norm (n, may be NULL; NaN where undefined). Returns the
// number chosen.
size_t prep_hvg_seurat(const double *mean, const double *var, size_t n, size_t n_top, size_t n_bins,
                       unsigned char *is_hvg, double *disp_norm);
#endif
