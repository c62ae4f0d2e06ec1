// cmd_genescore: `kida genescore` — a peaks x cells count file to a gene activity .h5ad.
//   kida genescore --peaks ATAC.h5ad --genes GENES --out OUT.h5ad       (coordinates from var names)
//   kida genescore ATAC.h5ad --peaks PEAKS.bed --genes GENES --out OUT.h5ad   (coordinates from a BED)
// Every rank reads and converts its block of cells; the gene blocks are gathered onto rank 0
// (integer counts, one float per value, index and row length), which writes the output: X the
// gene counts (CSR float32), var names the genes, obs and obsm copied from the input, and
// uns/kida_genescore what was done. The output appears atomically.
#include <string.h>
#include <strings.h>

#include "cmd/commands.h"
#include "core/log.h"
#include "io/h5ad.h"
#include "prep/genescore.h"
#include "train/fit.h"

static int is_counts_file(const char *path) {
    size_t n = strlen(path);
    return (n > 5 && !strcasecmp(path + n - 5, ".h5ad")) || (n > 3 && !strcasecmp(path + n - 3, ".h5"));
}

// Gathers every rank's gene block onto rank 0 as the whole matrix (n_total rows); other ranks
// get an empty Csr. Values, column indices and row lengths travel as float32, exact for counts
// and indices below 2^24 (checked).
static Csr gather_rows(const Csr *b, size_t n_total, const Dist *d) {
    size_t nnz = csr_nnz(b), nnz_total = dist_sum_size(d, nnz);
    if (b->n_cols >= (1u << 24))
        FATAL("gather more than 16.7M genes is not supported; split the gene table", "genescore: %zu genes (want < 2^24)",
              b->n_cols);
    float *len = xmalloc((b->n_rows ? b->n_rows : 1) * sizeof(float));
    float *col = xmalloc((nnz ? nnz : 1) * sizeof(float));
    for (size_t i = 0; i < b->n_rows; i++) len[i] = (float)(b->indptr[i + 1] - b->indptr[i]);
    for (size_t k = 0; k < nnz; k++) col[k] = (float)b->indices[k];
    Csr m = {0};
    float *all_len = NULL, *all_col = NULL, *all_val = NULL;
    if (d->rank == 0) {
        m = csr_alloc(n_total, b->n_cols, nnz_total);
        all_len = xmalloc((n_total ? n_total : 1) * sizeof(float));
        all_col = xmalloc((nnz_total ? nnz_total : 1) * sizeof(float));
        all_val = m.data;
    }
    dist_gatherv_f32(d, len, b->n_rows, all_len, 0);
    dist_gatherv_f32(d, col, nnz, all_col, 0);
    dist_gatherv_f32(d, b->data, nnz, all_val, 0);
    if (d->rank == 0) {
        m.indptr[0] = 0;
        for (size_t i = 0; i < n_total; i++) m.indptr[i + 1] = m.indptr[i] + (int64_t)all_len[i];
        for (size_t k = 0; k < nnz_total; k++) m.indices[k] = (int32_t)all_col[k];
        free(all_len);
        free(all_col);
    }
    free(len);
    free(col);
    return m;
}

// Rank 0: writes the gene matrix m to c->out (through a temporary next to it), with obs and obsm
// of the counts file when it has them (a 10x .h5 has none: the obs names written stay).
static void write_output(const Csr *m, const GeneScorer *s, const char *counts, const char *bed, const Config *c) {
    H5adWriter *w = h5ad_writer_create(c->out, c->overwrite);
    h5ad_write_X_csr(w, m);
    h5ad_write_var_names(w, s->gene_names, s->n_genes);
    H5ad *h = h5ad_open(counts, NULL, 0, NULL);
    char **obs = h5ad_obs_names(h, 0, m->n_rows);
    h5ad_write_obs_names(w, obs, m->n_rows);
    strv_free(obs, m->n_rows);
    h5ad_close(h);
    h5ad_write_uns_string(w, "kida_genescore/counts", counts);
    h5ad_write_uns_string(w, "kida_genescore/peaks", bed ? bed : "var names");
    h5ad_write_uns_string(w, "kida_genescore/genes", c->genes);
    h5ad_write_uns_f64(w, "kida_genescore/window", (double)c->window);
    h5ad_write_uns_string(w, "kida_genescore/gene_types", c->gene_types ? c->gene_types : "");
    h5ad_write_uns_f64(w, "kida_genescore/peaks_used", (double)s->n_peaks_used);
    h5ad_write_uns_f64(w, "kida_genescore/n_peaks", (double)s->n_peaks);
    char *cfg = config_to_text(c);
    h5ad_write_uns_string(w, "kida_genescore/config", cfg);
    free(cfg);
    static const char *const parts[] = {"obs", "obsm"};
    h5ad_writer_copy_parts(w, counts, parts, 2);
    h5ad_writer_commit(w);
}

int cmd_genescore(const Config *c, const Dist *d) {
    const char *usage = "kida genescore --peaks ATAC.h5ad --genes hg38|GENES.gtf|GENES.bed --out GENES.h5ad "
                        "(or: kida genescore ATAC.h5ad --peaks PEAKS.bed ...)";
    const char *counts = NULL, *bed = NULL;
    int peaks_given = c->peaks && *c->peaks;
    if (peaks_given && is_counts_file(c->peaks)) {
        if (c->input)
            FATAL(usage, "two count files given (--peaks %s and argument %s); give one, and peak coordinates as a BED",
                  c->peaks, c->input);
        counts = c->peaks;
    } else {
        if (!c->input)
            FATAL(usage, peaks_given ? "--peaks %s is a BED of peak coordinates: give the count file (.h5ad) as the "
                                       "argument"
                                     : "kida genescore needs the peak counts (--peaks ATAC.h5ad)%s",
                  peaks_given ? c->peaks : "");
        counts = c->input;
        bed = peaks_given ? c->peaks : NULL;
    }
    if (!c->out || !*c->out) FATAL(usage, "kida genescore needs --out");
    fit_check_output(c->out, c->overwrite, "--out");
    GeneScoreOptions o = genescore_options_from_config(c);
    double t0 = wall_time();

    const char *layer = c->layer && *c->layer ? c->layer : NULL;
    H5ad *h = h5ad_open(counts, layer, 0, d);
    size_t n_total = h5ad_n_obs(h), n_vars = h5ad_n_vars(h), start, count;
    if (n_total == 0) FATAL("give a file with at least one cell (`kida inspect` shows its shape)", "%s: X has no cells (0 rows)", counts);
    char **var = h5ad_var_names(h);
    GeneScorer s = genescore_for_file(counts, var, n_vars, bed, c->genes, &o,
                                      "give the peak coordinates as a BED (one line per var row, or var names in "
                                      "column 4): kida genescore ATAC.h5ad --peaks PEAKS.bed ...");
    dist_block(n_total, d->rank, d->size, &start, &count);
    Csr rows = h5ad_read_rows(h, start, count);
    h5ad_require_counts(h, &rows);
    genescore_require_integer(&rows, var, counts);
    Csr g = genescore_apply(&s, &rows);
    csr_free(&rows);
    h5ad_close(h);
    size_t nnz = dist_sum_size(d, csr_nnz(&g));
    Csr all = gather_rows(&g, n_total, d);
    csr_free(&g);
    if (d->rank == 0) write_output(&all, &s, counts, bed, c);
    csr_free(&all);
    dist_barrier(d);
    log_info("wrote %s: %zu cells x %zu genes, %zu nonzeros (%.1f%%), %.2f s", c->out, n_total, s.n_genes, nnz,
             n_total && s.n_genes ? 100.0 * (double)nnz / ((double)n_total * (double)s.n_genes) : 0.0, wall_time() - t0);
    strv_free(var, n_vars);
    genescore_free(&s);
    return 0;
}
