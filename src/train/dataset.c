// dataset: see dataset.h.
#include "train/dataset.h"

#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/strmap.h"
#include "io/h5ad.h"
#include "io/xvalues.h"
#include "prep/genematch.h"
#include "prep/genescore.h"

// The layer option of a role: its own (--reference-layer, --query-layer), else --layer.
static const char *layer_for(const char *own, const Config *c) { return own && *own ? own : c->layer; }

Labels labels_read(const Sources *s, const char *key, const Config *c, const Dist *d) {
    size_t n = s->first[s->n], n_cats = 0;
    char **cats = NULL;
    int32_t *codes = sources_read_column(s, key, c, d, &cats, &n_cats);
    // keep categories that have cells; renumber
    size_t *count = xcalloc_for(n_cats ? n_cats : 1, sizeof(size_t), "labels '%s': %zu categories", key, n_cats);
    for (size_t i = 0; i < n; i++)
        if (codes[i] >= 0) count[codes[i]]++;
    int32_t *remap = xcalloc_for(n_cats ? n_cats : 1, sizeof(int32_t), "labels '%s': %zu categories", key, n_cats);
    Labels l = {0};
    l.classes = xcalloc_for(n_cats ? n_cats : 1, sizeof(char *), "labels '%s': %zu categories", key, n_cats);
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
    char hint[1280];
    snprintf(hint, sizeof hint, "choose a column with cell types via --label-key (see `kida inspect %s`)", path);
    if (l->n_labelled == 0) FATAL(hint, "%s: obs[\"%s\"] has no labelled cell (all NA)", path, key);
    if (l->K < 2) FATAL(hint, "%s: obs[\"%s\"] has a single class (\"%s\"); annotation needs at least 2", path, key, l->classes[0]);
    for (size_t k = 0; k < l->K; k++)
        if (!strcasecmp(l->classes[k], "unknown"))   // `Unknown` too: the two would read as one in plots and tables
            FATAL("kida labels unsure cells `unknown`, so a class may not have that name in any case: mark those cells "
                  "as missing (NaN) or rename the class (e.g. adata.obs[key].cat.rename_categories({'Unknown': "
                  "'unlabelled'})); the kida_label column of a kida output has it, use another column or drop its "
                  "`unknown` cells",
                  "%s: obs[\"%s\"] has a class named `%s`, a name kida reserves for unsure cells", path, key,
                  l->classes[k]);
}

// Two reference genes with one name would be two model genes that a query gene cannot tell apart.
static void check_unique_genes(char *const *names, size_t n, const char *path) {
    StrMap seen = strmap_new(n);
    for (size_t j = 0; j < n; j++) {
        int64_t first = -1;
        if (!strmap_put(&seen, names[j], (int64_t)j, &first))
            FATAL("make the gene names unique first (adata.var_names_make_unique(), as scanpy suggests) and write the "
                  "file again",
                  "%s: var name '%s' is used by genes %lld and %zu (gene names of a reference must be unique)", path,
                  names[j], (long long)first, j);
    }
    strmap_free(&seen);
}

static void warn_small_classes(const Labels *l, size_t n_total, const char *path, const char *key) {
    size_t *cnt = xcalloc_for(l->K, sizeof(size_t), "%s: labels '%s' of %zu classes", path, key, l->K);
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


// The peak -> gene mapping of an ATAC file (src/prep/genescore.h), built by every rank from the
// peak names (cheap), so nothing is exchanged.
static GeneScorer atac_scorer(const char *path, char *const *var, size_t n_vars, const Config *c) {
    GeneScoreOptions o = genescore_options_from_config(c);
    char hint[512];
    snprintf(hint, sizeof hint,
             "name the peaks chrom:start-end in var, or convert first: kida genescore %s --peaks PEAKS.bed --genes %s "
             "--out GENES.h5ad, then annotate that file as rna",
             path, c->genes && *c->genes ? c->genes : "GENES");
    return genescore_for_file(path, var, n_vars, NULL, c->genes, &o, hint);
}

// ATAC: the block's peak counts become gene activity counts with the genes as var names; the
// rows stay the same.
static void atac_to_genes(const char *path, const Config *c, Csr *counts, char ***var, size_t *n_vars) {
    GeneScorer s = atac_scorer(path, *var, *n_vars, c);
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

// The rows of file f that fall in the global block [start, start+count), as counts with the file's
// var names (genes; ATAC peaks become gene activity). Every rank opens every file (the MPI-IO
// open is collective); d NULL reads on this process alone.
static Csr read_part(const Sources *s, size_t f, size_t start, size_t count, const Config *c, const Dist *d,
                     char ***var, size_t *n_vars) {
    H5ad *h = h5ad_open(s->path[f], s->layer[f], c->use_gene_ids, d);
    size_t lo = start > s->first[f] ? start : s->first[f];
    size_t hi = start + count < s->first[f + 1] ? start + count : s->first[f + 1];
    *n_vars = h5ad_n_vars(h);
    Csr m = hi > lo ? h5ad_read_rows(h, lo - s->first[f], hi - lo) : csr_alloc(0, *n_vars, 1);
    xvalues_to_counts(&s->values[f], &m);
    h5ad_require_counts(h, &m);
    *var = sources_var_names(s, f, h, c);
    h5ad_close(h);
    if (!strcmp(s->modality[f], "atac")) atac_to_genes(s->path[f], c, &m, var, n_vars);
    return m;
}

static MatchOptions match_options(const Config *c) {
    MatchOptions mo = match_options_default();
    mo.case_insensitive = c->gene_case_insensitive;
    mo.map_path = c->gene_map && *c->gene_map ? c->gene_map : NULL;
    mo.min_overlap = c->min_gene_overlap;
    return mo;
}

// A reference list after preprocessing: each later file must hold enough of the model genes.
static void check_reference_genes(const Sources *s, uint8_t *const *present, const PrepStats *prep, const Config *c) {
    for (size_t f = 1; f < s->n; f++) {
        size_t have = 0;
        for (size_t g = 0; g < prep->G; g++) have += present[f][prep->ref_col[g]];
        double frac = prep->G ? (double)have / (double)prep->G : 0.0;
        log_info("reference %s (%s): %zu/%zu model genes present", s->path[f], s->modality[f], have, prep->G);
        if (frac < c->min_gene_overlap)
            FATAL("a file of ATAC peaks needs its modality (e.g. --reference-modality rna,atac) and --genes; otherwise list "
                  "first the file whose genes the others share (it sets the gene space), translate names with --gene-map, "
                  "or lower --min-gene-overlap",
                  "too few model genes in reference %s: got %zu/%zu (%.1f%%), want >= %.1f%% (--min-gene-overlap)",
                  s->path[f], have, prep->G, 100.0 * frac, 100.0 * c->min_gene_overlap);
    }
}

void dataset_load_reference(Dataset *ds, Labels *lab, PrepStats *prep, const Config *c, const Dist *d) {
    memset(ds, 0, sizeof *ds);
    ds->src = sources_open(c->reference, c->reference_modality, c->modality, "--reference", "--reference-modality",
                           layer_for(c->reference_layer, c), *c->reference_layer ? "--reference-layer" : "--layer", c, d);
    const Sources *s = &ds->src;
    char what[1024];
    sources_label(s, what, sizeof what);
    *lab = labels_read(s, c->label_key, c, d);
    check_labels(lab, what, c->label_key);
    ds->n_total = s->first[s->n];
    dist_block(ds->n_total, d->rank, d->size, &ds->start, &ds->count);
    warn_small_classes(lab, ds->n_total, what, c->label_key);
    Csr *part = xcalloc(s->n, sizeof(Csr));
    uint8_t **present = xcalloc(s->n, sizeof(uint8_t *));   // later files: which first-file genes they have
    char **var = NULL;
    size_t n_vars = 0;
    for (size_t f = 0; f < s->n; f++) {
        char **fv;
        size_t nf;
        Csr m = read_part(s, f, ds->start, ds->count, c, d, &fv, &nf);
        if (f == 0) {
            check_unique_genes(fv, nf, s->path[0]);
            part[0] = m;
            var = fv;
            n_vars = nf;
            continue;
        }
        MatchOptions mo = match_options(c);
        mo.min_overlap = 0;   // checked on the model genes once they are chosen
        char target[1100];
        snprintf(target, sizeof target, "genes of %s", s->path[0]);
        mo.target = target;
        int32_t *col = genes_match(var, n_vars, fv, nf, &mo, s->path[f], NULL);
        present[f] = xcalloc_for(n_vars ? n_vars : 1, 1, "%s: %zu genes", s->path[0], n_vars);
        for (size_t j = 0; j < nf; j++)
            if (col[j] >= 0) present[f][col[j]] = 1;
        part[f] = csr_map_columns(&m, col, n_vars);
        csr_free(&m);
        free(col);
        strv_free(fv, nf);
    }
    Csr counts = s->n == 1 ? part[0] : csr_vstack(part, s->n, n_vars);
    if (s->n > 1)
        for (size_t f = 0; f < s->n; f++) csr_free(&part[f]);
    counts.row_start = ds->start;
    PrepOptions po = prep_options_default();
    po.target_sum = c->target_sum;
    po.n_top_genes = (size_t)c->n_top_genes;
    po.clip = c->scale_clip;
    if (po.n_top_genes > n_vars) po.n_top_genes = n_vars;
    *prep = prep_fit(&counts, var, &po, d);
    check_reference_genes(s, present, prep, c);
    int32_t *col = xcalloc_for(n_vars, sizeof(int32_t), "%s: %zu genes", s->path[0], n_vars);
    for (size_t j = 0; j < n_vars; j++) col[j] = -1;
    for (size_t g = 0; g < prep->G; g++) col[prep->ref_col[g]] = (int32_t)g;
    ds->x = prep_transform(prep, &counts, col);
    ds->x.row_start = ds->start;
    for (size_t f = 0; f < s->n; f++) free(present[f]);
    free(present);
    free(part);
    free(col);
    strv_free(var, n_vars);
    csr_free(&counts);
}

// For the low-overlap error: a query file whose matrix has few genes (an HVG subset?) while its
// raw/X has more is named, with the option that reads raw/X. NULL otherwise.
static const char *subset_hint(const Sources *s, size_t f, size_t n_vars, const Config *c, const Dist *d, char *buf,
                               size_t n) {
    if (n_vars >= 5000 || (s->layer[f] && !strcmp(s->layer[f], "raw"))) return NULL;
    H5ad *h = h5ad_open(s->path[f], NULL, c->use_gene_ids, d);
    int raw = h5ad_has_raw(h);
    h5ad_close(h);
    if (!raw) return NULL;
    h = h5ad_open(s->path[f], "raw", c->use_gene_ids, d);
    size_t nr = h5ad_n_vars(h);
    h5ad_close(h);
    if (nr <= n_vars) return NULL;
    snprintf(buf, n, "%s holds only %zu genes (highly variable genes?) and its .raw %zu: read .raw with --query-layer raw",
             s->path[f], n_vars, nr);
    return buf;
}

struct QueryFiles {
    H5ad **h;           // (n) open collectively over the query's Dist
    GeneScorer *score;  // (n) ATAC files: peaks -> genes (n_genes 0 for the others)
    char ***peaks;      // (n) ATAC files: the peak names (for messages), else NULL
    size_t *n_peaks;
};

void dataset_open_query(Dataset *ds, const PrepStats *prep, const Config *c, const Dist *d) {
    memset(ds, 0, sizeof *ds);
    ds->src = sources_open(c->query, c->query_modality, c->modality, "--query", "--query-modality",
                           layer_for(c->query_layer, c), *c->query_layer ? "--query-layer" : "--layer", c, d);
    const Sources *s = &ds->src;
    ds->n_total = s->first[s->n];
    dist_block(ds->n_total, d->rank, d->size, &ds->start, &ds->count);
    ds->col = xcalloc(s->n, sizeof(int32_t *));
    QueryFiles *q = ds->files = xcalloc(1, sizeof *q);
    q->h = xcalloc(s->n, sizeof *q->h);
    q->score = xcalloc(s->n, sizeof *q->score);
    q->peaks = xcalloc(s->n, sizeof *q->peaks);
    q->n_peaks = xcalloc(s->n, sizeof *q->n_peaks);
    MatchOptions mo = match_options(c);
    for (size_t f = 0; f < s->n; f++) {
        q->h[f] = h5ad_open(s->path[f], s->layer[f], c->use_gene_ids, d);
        size_t n_vars = h5ad_n_vars(q->h[f]);
        char **var = sources_var_names(s, f, q->h[f], c);
        if (!strcmp(s->modality[f], "atac")) {   // the model sees gene activity
            q->score[f] = atac_scorer(s->path[f], var, n_vars, c);
            q->peaks[f] = var;
            q->n_peaks[f] = n_vars;
            ds->col[f] = genes_match(prep->gene_names, prep->G, q->score[f].gene_names, q->score[f].n_genes, &mo,
                                     s->path[f], NULL);
        } else {
            char extra[512];
            mo.extra_hint = subset_hint(s, f, n_vars, c, d, extra, sizeof extra);
            ds->col[f] = genes_match(prep->gene_names, prep->G, var, n_vars, &mo, s->path[f], NULL);
            strv_free(var, n_vars);
        }
    }
}

Csr dataset_query_rows(const Dataset *ds, const PrepStats *prep, size_t start, size_t count, int transform) {
    const Sources *s = &ds->src;
    const QueryFiles *q = ds->files;
    Csr *part = xcalloc(s->n, sizeof(Csr));
    for (size_t f = 0; f < s->n; f++) {
        size_t lo = start > s->first[f] ? start : s->first[f];
        size_t hi = start + count < s->first[f + 1] ? start + count : s->first[f + 1];
        if (hi <= lo) {
            part[f] = csr_alloc(0, prep->G, 1);
            continue;
        }
        Csr m = h5ad_read_rows(q->h[f], lo - s->first[f], hi - lo);
        xvalues_to_counts(&s->values[f], &m);
        h5ad_require_counts(q->h[f], &m);
        if (q->peaks[f]) {
            genescore_require_integer(&m, q->peaks[f], s->path[f]);
            Csr g = genescore_apply(&q->score[f], &m);
            csr_free(&m);
            m = g;
        }
        part[f] = transform ? prep_transform(prep, &m, ds->col[f]) : csr_map_columns(&m, ds->col[f], prep->G);
        csr_free(&m);
    }
    Csr x = s->n == 1 ? part[0] : csr_vstack(part, s->n, prep->G);
    if (s->n > 1)
        for (size_t f = 0; f < s->n; f++) csr_free(&part[f]);
    free(part);
    x.row_start = start;
    return x;
}

void dataset_load_query(Dataset *ds, const PrepStats *prep, const Config *c, const Dist *d) {
    dataset_open_query(ds, prep, c, d);
    size_t n_blocks = (ds->count + DATASET_BLOCK - 1) / DATASET_BLOCK;
    Csr *part = xcalloc(n_blocks ? n_blocks : 1, sizeof(Csr));
    for (size_t b = 0; b < n_blocks; b++) {
        size_t lo = b * DATASET_BLOCK, n = ds->count - lo < DATASET_BLOCK ? ds->count - lo : DATASET_BLOCK;
        part[b] = dataset_query_rows(ds, prep, ds->start + lo, n, 1);
    }
    if (n_blocks == 1) ds->x = part[0];
    else {
        ds->x = csr_vstack(part, n_blocks, prep->G);
        for (size_t b = 0; b < n_blocks; b++) csr_free(&part[b]);
    }
    if (!n_blocks) ds->x = csr_alloc(0, prep->G, 1);
    ds->x.row_start = ds->start;
    free(part);
}

void dataset_free(Dataset *ds) {
    QueryFiles *q = ds->files;
    if (q) {
        for (size_t f = 0; f < ds->src.n; f++) {
            h5ad_close(q->h[f]);
            if (q->peaks[f]) {
                strv_free(q->peaks[f], q->n_peaks[f]);
                genescore_free(&q->score[f]);
            }
        }
        free(q->h); free(q->score); free(q->peaks); free(q->n_peaks); free(q);
    }
    if (ds->col)
        for (size_t f = 0; f < ds->src.n; f++) free(ds->col[f]);
    free(ds->col);
    sources_free(&ds->src);
    csr_free(&ds->x);
    memset(ds, 0, sizeof *ds);
}
