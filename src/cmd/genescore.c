// cmd_genescore: `kida genescore` — a peaks x cells count file to a gene activity .h5ad.
//   kida genescore --peaks ATAC.h5ad --genes GENES --out OUT.h5ad       (coordinates from var names)
//   kida genescore ATAC.h5ad --peaks PEAKS.bed --genes GENES --out OUT.h5ad   (coordinates from a BED)
// Every rank reads and converts its block of cells and writes its rows of the output (parallel
// HDF5): X the gene counts (CSR float32); var names the genes; obs (with the names) copied from
// the input by rank 0, obsm by the ranks; and uns/kida_genescore what was done. The output
// appears atomically.
#include <string.h>
#include <strings.h>

#include "cmd/commands.h"
#include "core/log.h"
#include "core/runstats.h"
#include "io/h5ad.h"
#include "prep/genescore.h"
#include "train/fit.h"

static int is_counts_file(const char *path) {
    size_t n = strlen(path);
    return (n > 5 && !strcasecmp(path + n - 5, ".h5ad")) || (n > 3 && !strcasecmp(path + n - 3, ".h5"));
}

// Writes this rank's gene rows g (taken: freed by the writer) to c->out, with obs and obsm of the
// counts file when it has them (a 10x .h5 has none: its barcodes become the obs names).
static void write_output(Csr *g, const GeneScorer *s, const char *counts, int tenx, const char *bed, const Config *c,
                         const Dist *d) {
    H5adWriter *w = h5ad_writer_create_rows(c->out, c->overwrite, d, g->n_rows);
    h5ad_write_X_csr_take(w, g);
    h5ad_write_var_names(w, s->gene_names, s->n_genes);
    if (tenx) h5ad_write_obs_names_of(w, counts);
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
    PhaseClock p0 = phase_clock();

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
    int tenx = !strcmp(h5ad_x_encoding(h), "10x");
    h5ad_close(h);
    size_t nnz = dist_sum_size(d, csr_nnz(&g));
    phase_since("read + convert", p0, count);
    PhaseClock p1 = phase_clock();
    write_output(&g, &s, counts, tenx, bed, c, d);
    phase_since("write", p1, count);
    log_info("wrote %s: %zu cells x %zu genes, %zu nonzeros (%.1f%%), %.2f s", c->out, n_total, s.n_genes, nnz,
             n_total && s.n_genes ? 100.0 * (double)nnz / ((double)n_total * (double)s.n_genes) : 0.0, wall_time() - t0);
    strv_free(var, n_vars);
    genescore_free(&s);
    return 0;
}
