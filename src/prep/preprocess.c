// preprocess: see preprocess.h. The scanpy calls this reproduces, and how:
//   sc.pp.normalize_total(target_sum): size = float32(sum of the row's counts, accumulated in
//     double) over all columns; x / float32(size / target_sum) in float32 (a size of 0 divides by 1)
//   sc.pp.log1p: log1pf (float32, as scanpy keeps X float32)
//   sc.pp.highly_variable_genes(flavor="seurat"): expm1f of the log data; per gene mean and
//     variance from sums of x and of float32(x*x) (scanpy's numba kernel squares in float32),
//     var = (sum2/n - mean^2) * n/(n-1); then hvg.c
//   sc.pp.scale(max_value=clip) on the HVGs: mean and var of the log data the same way,
//     std = sqrt(var), std == 0 -> 1; (x - mean) / std clipped to [-clip, clip] (two-sided: with
//     zero_center=True scanpy 1.11 clips both ends). A negative variance (round-off on a constant
//     gene) gives std 1 here, NaN in scanpy.
// The sums are exact (exactsum.h), hence identical for any rank count; scanpy's float64 sums
// differ from them by rounding only.
#include "prep/preprocess.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/exactsum.h"
#include "core/log.h"

PrepOptions prep_options_default(void) { return (PrepOptions){.target_sum = 1e4, .n_top_genes = 3000, .clip = 10}; }

// FATAL unless v is a finite, non-negative count; names the global row and the column.
static inline void prep_check_value(float v, const Csr *m, size_t r, int32_t col) {
    if (isfinite(v) && v >= 0) return;
    FATAL("expression input must be raw counts: finite and >= 0 (not log-transformed or scaled data)",
          "bad expression value in row %zu (0-based), column %d: got %g, want a finite count >= 0",
          m->row_start + r, (int)col, (double)v);
}

// normalize_total's divisor for row r: float32(size / target), 1 for an empty row.
static inline float prep_row_factor(const Csr *m, size_t r, float target32) {
    double size = 0;
    for (int64_t k = m->indptr[r]; k < m->indptr[r + 1]; k++) {
        prep_check_value(m->data[k], m, r, m->indices[k]);
        size += m->data[k];
    }
    float f = (float)size / target32;
    return f == 0 ? 1.0f : f;
}

// Per-column exact sums, PREP_NSUM of them interleaved digit by digit (slot digit*PREP_NSUM + sum)
// so that the digits one value touches lie together: PREP_W slots per column.
enum { PREP_E = 0, PREP_E2 = 1, PREP_L = 2, PREP_L2 = 3, PREP_NSUM = 4, PREP_W = PREP_NSUM * EXACT_NDIG };

// Adds one block's values to acc (n_cols * PREP_W, normalized on return): per column the sums of
// e = expm1(log x) and e^2 (float32, as scanpy squares), and of the log value v and v^2.
static void prep_accumulate(const Csr *m, float target32, int64_t *acc) {
    for (size_t r = 0; r < m->n_rows; r++) {
        float f = prep_row_factor(m, r, target32);
        for (int64_t k = m->indptr[r]; k < m->indptr[r + 1]; k++) {
            int32_t c = m->indices[k];
            if (c < 0 || (size_t)c >= m->n_cols)
                FATAL("a bug in the matrix reader", "row %zu: column %d out of range [0, %zu)", m->row_start + r, (int)c,
                      m->n_cols);
            float v = log1pf(m->data[k] / f), e = expm1f(v);
            int64_t *a = acc + (size_t)c * PREP_W;
            exact_add_f32(a + PREP_E, PREP_NSUM, e);
            exact_add_f32(a + PREP_E2, PREP_NSUM, e * e);
            exact_add_f32(a + PREP_L, PREP_NSUM, v);
            exact_add_f32(a + PREP_L2, PREP_NSUM, v * v);
        }
        if ((r + 1) % EXACT_MAX_ADDS == 0 || r + 1 == m->n_rows)   // keep the slots from overflowing
            for (size_t i = 0; i < m->n_cols * PREP_NSUM; i++)
                exact_normalize(acc + (i / PREP_NSUM) * PREP_W + i % PREP_NSUM, PREP_NSUM);
    }
}

// scanpy's _get_mean_var from the exact sums of x (sum index si) and x^2 (si + 1) of one column
// (a: its PREP_W slots) over n rows.
static void prep_mean_var(const int64_t *a, int si, size_t n, double *mean, double *var) {
    double m = exact_to_double(a + si, PREP_NSUM) / (double)n;
    double v = exact_to_double(a + si + 1, PREP_NSUM) / (double)n - m * m;
    if (n != 1) v *= (double)n / (double)(n - 1);
    *mean = m;
    *var = v;
}

// The preprocessed value of log-value v of gene g: clip((v - mean) / std).
static inline float prep_scale(const PrepStats *s, size_t g, float v) {
    double x = ((double)v - (double)s->mean[g]) / (double)s->std[g];
    if (x > s->clip) x = s->clip;
    else if (x < -s->clip) x = -s->clip;
    return (float)x;
}

PrepStats prep_fit_blocks(const Csr *const *blocks, size_t n_blocks, char *const *var_names,
                          const PrepOptions *opt, const Dist *d) {
    if (n_blocks == 0) FATAL("a bug in kida", "prep_fit_blocks: no row block given");
    if (!(opt->target_sum > 0) || opt->n_top_genes == 0 || !(opt->clip > 0))
        FATAL("set --target-sum > 0, --n-top-genes >= 1 and --clip > 0",
              "bad preprocessing options (got target_sum %g, n_top_genes %zu, clip %g)", opt->target_sum,
              opt->n_top_genes, opt->clip);
    size_t n_cols = blocks[0]->n_cols, n_local = 0;
    for (size_t b = 0; b < n_blocks; b++) {
        if (blocks[b]->n_cols != n_cols)
            FATAL("a bug in kida", "prep_fit_blocks: blocks differ in columns (got %zu, want %zu)", blocks[b]->n_cols, n_cols);
        n_local += blocks[b]->n_rows;
    }
    double cols_mm[2] = {(double)n_cols, -(double)n_cols};
    dist_allreduce_max_f64(d, cols_mm, 2);
    if (cols_mm[0] != (double)n_cols || -cols_mm[1] != (double)n_cols)
        FATAL("a bug in kida: every rank must read the same matrix", "ranks disagree on the reference's gene count");
    size_t n = dist_sum_size(d, n_local);
    if (n < 2)
        FATAL("give a reference with at least 2 cells", "reference has %zu cell(s) (want >= 2)", n);
    if (n_cols == 0) FATAL("give a reference with genes", "reference has 0 genes");
    float target32 = (float)opt->target_sum;
    int64_t *acc = xcalloc_for(szmul(n_cols, PREP_W), sizeof *acc, "preprocessing: exact sums of %zu genes", n_cols);
    for (size_t b = 0; b < n_blocks; b++) prep_accumulate(blocks[b], target32, acc);
    dist_allreduce_sum_i64(d, acc, n_cols * PREP_W);

    // highly variable genes on expm1 of the log data
    double *mean = xcalloc_for(n_cols, sizeof *mean, "preprocessing: means of %zu genes", n_cols);
    double *var = xcalloc_for(n_cols, sizeof *var, "preprocessing: variances of %zu genes", n_cols);
    for (size_t c = 0; c < n_cols; c++)
        prep_mean_var(acc + c * PREP_W, PREP_E, n, &mean[c], &var[c]);
    unsigned char *hvg = xcalloc_for(n_cols, 1, "preprocessing: gene choice of %zu genes", n_cols);
    size_t G = prep_hvg_seurat(mean, var, n_cols, opt->n_top_genes, 20, hvg, NULL);
    if (G > opt->n_top_genes)
        log_info("highly variable genes: %zu chosen (%zu asked; genes tied at the cutoff are all kept, as scanpy does)",
                 G, opt->n_top_genes);
    else
        log_info("highly variable genes: %zu chosen of %zu genes over %zu reference cells", G, n_cols, n);

    // scale statistics of the chosen genes on the log data
    PrepStats s = {.G = G, .target_sum = opt->target_sum, .clip = opt->clip};
    s.gene_names = xcalloc_for(G, sizeof *s.gene_names, "preprocessing: %zu model genes", G);
    s.ref_col = xcalloc_for(G, sizeof *s.ref_col, "preprocessing: %zu model genes", G);
    s.mean = xcalloc_for(G, sizeof *s.mean, "preprocessing: %zu model genes", G);
    s.std = xcalloc_for(G, sizeof *s.std, "preprocessing: %zu model genes", G);
    s.zero = xcalloc_for(G, sizeof *s.zero, "preprocessing: %zu model genes", G);
    for (size_t c = 0, g = 0; c < n_cols; c++) {
        if (!hvg[c]) continue;
        s.ref_col[g] = (int32_t)c;
        s.gene_names[g] = xstrdup(var_names[c]);
        g++;
    }
    size_t n_const = 0;
    for (size_t g = 0; g < G; g++) {
        double m, v;
        prep_mean_var(acc + (size_t)s.ref_col[g] * PREP_W, PREP_L, n, &m, &v);
        double sd = v > 0 ? sqrt(v) : 1.0;
        if (!(v > 0)) n_const++;
        s.mean[g] = (float)m;
        s.std[g] = (float)sd;
        if (s.std[g] == 0) s.std[g] = 1;   // a tiny std that underflows float32
        s.zero[g] = prep_scale(&s, g, 0.0f);
    }
    if (n_const) log_warn("%zu highly variable gene(s) are constant over the reference; their std is set to 1", n_const);
    free(acc); free(mean); free(var); free(hvg);
    return s;
}

void prep_hvg_moments(const Csr *rows, const PrepOptions *opt, const Dist *d, double *mean, double *var) {
    size_t n_cols = rows->n_cols, n = dist_sum_size(d, rows->n_rows);
    if (n == 0) FATAL("give a matrix with cells", "no rows on any rank");
    int64_t *acc = xcalloc_for(szmul(n_cols, PREP_W), sizeof *acc, "preprocessing: exact sums of %zu genes", n_cols);
    prep_accumulate(rows, (float)opt->target_sum, acc);
    dist_allreduce_sum_i64(d, acc, n_cols * PREP_W);
    for (size_t c = 0; c < n_cols; c++) prep_mean_var(acc + c * PREP_W, PREP_E, n, &mean[c], &var[c]);
    free(acc);
}

PrepStats prep_fit(const Csr *ref_rows, char *const *var_names, const PrepOptions *opt, const Dist *d) {
    const Csr *blocks[1] = {ref_rows};
    return prep_fit_blocks(blocks, 1, var_names, opt, d);
}

Csr prep_transform(const PrepStats *s, const Csr *rows, const int32_t *col_to_model) {
    float target32 = (float)s->target_sum;
    size_t nnz_in = csr_nnz(rows);
    for (size_t k = 0; k < nnz_in; k++) {
        int32_t c = rows->indices[k];
        if (c < 0 || (size_t)c >= rows->n_cols)
            FATAL("a bug in the matrix reader", "column %d out of range [0, %zu)", (int)c, rows->n_cols);
        int32_t g = col_to_model[c];
        if (g >= (int32_t)s->G) FATAL("a bug in kida", "col_to_model maps column %d to gene %d (G = %zu)", (int)c, (int)g, s->G);
    }
    // the model genes' counts in model order, then each value normalised with its row's total
    // over all genes, log1p, scaled
    Csr out = csr_map_columns(rows, col_to_model, s->G);
    for (size_t r = 0; r < out.n_rows; r++) {
        float f = prep_row_factor(rows, r, target32);
        for (int64_t k = out.indptr[r]; k < out.indptr[r + 1]; k++) {
            int32_t g = out.indices[k];
            if (k > out.indptr[r] && out.indices[k - 1] == g)
                FATAL("a bug in kida: map each model gene from one column", "row %zu: model gene %d has two input columns",
                      rows->row_start + r, (int)g);
            out.data[k] = prep_scale(s, (size_t)g, log1pf(out.data[k] / f)) - s->zero[g];
        }
    }
    return out;
}

void prep_stats_free(PrepStats *s) {
    for (size_t g = 0; g < s->G && s->gene_names; g++) free(s->gene_names[g]);
    free(s->gene_names);
    free(s->ref_col);
    free(s->mean);
    free(s->std);
    free(s->zero);
    memset(s, 0, sizeof *s);
}
