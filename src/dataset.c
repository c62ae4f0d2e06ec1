// dataset: see dataset.h.
#include "dataset.h"

#include <string.h>

#include "genematch.h"
#include "genescore.h"
#include "h5ad.h"
#include "log.h"

static const char *layer_of(const Config *c) { return c->layer && *c->layer ? c->layer : NULL; }

Labels labels_read(const char *path, const char *key, const Config *c, const Dist *d) {
    H5ad *h = h5ad_open(path, layer_of(c), c->use_gene_ids, d);
    size_t n = h5ad_n_obs(h), n_cats = 0;
    char **cats = NULL;
    int32_t *codes = h5ad_obs_labels(h, key, 0, n, &cats, &n_cats);
    h5ad_close(h);
    // keep categories that have cells; renumber
    size_t *count = xcalloc(n_cats ? n_cats : 1, sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        if (codes[i] >= 0) count[codes[i]]++;
    int32_t *remap = xmalloc((n_cats ? n_cats : 1) * sizeof(int32_t));
    Labels l = {0};
    l.classes = xmalloc((n_cats ? n_cats : 1) * sizeof(char *));
    for (size_t k = 0; k < n_cats; k++) {
        remap[k] = -1;
        if (count[k]) {
            remap[k] = (int32_t)l.K;
            l.classes[l.K++] = xstrdup(cats[k]);
        }
    }
    l.y = codes;
    for (size_t i = 0; i < n; i++) {
        if (codes[i] >= 0) codes[i] = remap[codes[i]];
        l.n_labelled += codes[i] >= 0;
    }
    strv_free(cats, n_cats);
    free(count);
    free(remap);
    return l;
}

void labels_free(Labels *l) {
    if (l->classes)
        for (size_t k = 0; k < l->K; k++) free(l->classes[k]);
    free(l->classes);
    free(l->y);
    memset(l, 0, sizeof *l);
}

static void check_labels(const Labels *l, const char *path, const char *key) {
    char hint[256];
    snprintf(hint, sizeof hint, "choose a column with cell types via --label-key (see `kida inspect %s`)", path);
    if (l->n_labelled == 0) FATAL(hint, "%s: obs[\"%s\"] has no labelled cell (all NA)", path, key);
    if (l->K < 2) FATAL(hint, "%s: obs[\"%s\"] has a single class (\"%s\"); annotation needs at least 2", path, key, l->classes[0]);
}

static void warn_small_classes(const Labels *l, size_t n_total, const char *path, const char *key) {
    size_t *cnt = xcalloc(l->K, sizeof(size_t));
    for (size_t i = 0; i < n_total; i++)
        if (l->y[i] >= 0) cnt[l->y[i]]++;
    for (size_t k = 0; k < l->K; k++)
        if (cnt[k] < 2)
            log_warn("%s: obs[\"%s\"] class \"%s\" has %zu cell(s); kept, but it cannot be learned reliably", path, key,
                     l->classes[k], cnt[k]);
    if (l->n_labelled < n_total)
        log_warn("%s: %zu of %zu cells have no label in obs[\"%s\"]; they are not trained on", path, n_total - l->n_labelled,
                 n_total, key);
    free(cnt);
}

// ATAC (--modality atac): the block's peak counts become gene activity counts (src/genescore.h)
// with the genes as var names; the rows stay the same. The mapping is built by every rank from
// the peak names (cheap), so nothing is exchanged.
static void atac_to_genes(const char *path, const Config *c, Csr *counts, char ***var, size_t *n_vars) {
    GeneScoreOptions o = genescore_options_from_config(c);
    char hint[512];
    snprintf(hint, sizeof hint,
             "name the peaks chrom:start-end in var, or convert first: kida genescore %s --peaks PEAKS.bed --genes %s "
             "--out GENES.h5ad, then annotate that file with --modality rna",
             path, c->genes && *c->genes ? c->genes : "GENES");
    GeneScorer s = genescore_for_file(path, *var, *n_vars, NULL, c->genes, &o, hint);
    genescore_require_integer(counts, *var, path);
    Csr g = genescore_apply(&s, counts);
    csr_free(counts);
    *counts = g;
    strv_free(*var, *n_vars);
    *var = s.gene_names;   // handed over: freed by the caller with strv_free
    *n_vars = s.n_genes;
    s.gene_names = NULL;
    genescore_free(&s);
}

// Opens path, reads this rank's block of counts and the var names (n_vars of them); ATAC peak
// counts are turned into gene counts here.
static H5ad *open_block(const char *path, const Config *c, const Dist *d, Dataset *ds, Csr *counts, char ***var,
                        size_t *n_vars) {
    H5ad *h = h5ad_open(path, layer_of(c), c->use_gene_ids, d);
    memset(ds, 0, sizeof *ds);
    ds->path = xstrdup(path);
    ds->n_total = h5ad_n_obs(h);
    if (ds->n_total == 0)
        FATAL("give a file with at least one cell (`kida inspect` shows its shape)", "%s: X has no cells (0 rows)", path);
    dist_block(ds->n_total, d->rank, d->size, &ds->start, &ds->count);
    *counts = h5ad_read_rows(h, ds->start, ds->count);
    h5ad_require_counts(h, counts);
    *var = h5ad_var_names(h);
    *n_vars = h5ad_n_vars(h);
    if (c->modality && !strcmp(c->modality, "atac")) atac_to_genes(path, c, counts, var, n_vars);
    return h;
}

void dataset_load_reference(Dataset *ds, Labels *lab, PrepStats *prep, const Config *c, const Dist *d) {
    *lab = labels_read(c->reference, c->label_key, c, d);
    check_labels(lab, c->reference, c->label_key);
    Csr counts;
    char **var;
    size_t n_vars;
    H5ad *h = open_block(c->reference, c, d, ds, &counts, &var, &n_vars);
    warn_small_classes(lab, ds->n_total, c->reference, c->label_key);
    PrepOptions po = prep_options_default();
    po.target_sum = c->target_sum;
    po.n_top_genes = (size_t)c->n_top_genes;
    po.clip = c->scale_clip;
    if (po.n_top_genes > n_vars) po.n_top_genes = n_vars;
    *prep = prep_fit(&counts, var, &po, d);
    int32_t *col = xmalloc(n_vars * sizeof(int32_t));
    for (size_t j = 0; j < n_vars; j++) col[j] = -1;
    for (size_t g = 0; g < prep->G; g++) col[prep->ref_col[g]] = (int32_t)g;
    ds->x = prep_transform(prep, &counts, col);
    ds->x.row_start = ds->start;
    free(col);
    strv_free(var, n_vars);
    csr_free(&counts);
    h5ad_close(h);
}

void dataset_load_query(Dataset *ds, const char *path, const PrepStats *prep, const Config *c, const Dist *d) {
    Csr counts;
    char **var;
    size_t n_vars, matched = 0;
    H5ad *h = open_block(path, c, d, ds, &counts, &var, &n_vars);
    MatchOptions mo = match_options_default();
    mo.case_insensitive = c->gene_case_insensitive;
    mo.map_path = c->gene_map && *c->gene_map ? c->gene_map : NULL;
    mo.min_overlap = c->min_gene_overlap;
    int32_t *col = genes_match(prep->gene_names, prep->G, var, n_vars, &mo, path, &matched);
    ds->x = prep_transform(prep, &counts, col);
    ds->x.row_start = ds->start;
    free(col);
    strv_free(var, n_vars);
    csr_free(&counts);
    h5ad_close(h);
}

void dataset_free(Dataset *ds) {
    free(ds->path);
    csr_free(&ds->x);
    memset(ds, 0, sizeof *ds);
}
