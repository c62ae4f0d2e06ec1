// output_list: the base of the annotated file when the query is a list of files (see output.h).
#include <string.h>

#include "core/log.h"
#include "io/h5ad.h"
#include "train/output.h"

// Obs names of every file, one after the other, made unique the way anndata does. Rank 0 alone
// (strings are written by one rank): it holds every name for the uniqueness.
static void write_names(H5adWriter *w, const Sources *s, const Config *c, const Dist *d) {
    if (d->rank != 0) return;
    size_t N = s->first[s->n];
    char **names = xcalloc_for(N ? N : 1, sizeof(char *), "output: obs names of %zu cells", N);
    for (size_t f = 0; f < s->n; f++) {
        H5ad *h = h5ad_open(s->path[f], NULL, c->use_gene_ids, NULL);
        char **v = h5ad_obs_names(h, 0, h5ad_n_obs(h));
        memcpy(&names[s->first[f]], v, h5ad_n_obs(h) * sizeof(char *));
        free(v);   // the strings moved into names
        h5ad_close(h);
    }
    h5ad_make_unique(names, N);
    h5ad_write_obs_names(w, names, N);
    strv_free(names, N);
}

// kida_source (the file) and kida_modality of this rank's cells [start, start + n), as categoricals.
static void write_origin(H5adWriter *w, const Sources *s, size_t start, size_t n) {
    size_t n_mod = 0;
    int32_t *src = xcalloc_for(n ? n : 1, sizeof(int32_t), "output: kida_source of %zu cells", n);
    int32_t *mod = xcalloc_for(n ? n : 1, sizeof(int32_t), "output: kida_modality of %zu cells", n);
    char **mods = xmalloc(s->n * sizeof(char *));
    for (size_t f = 0; f < s->n; f++) {
        size_t m = 0;
        while (m < n_mod && strcmp(mods[m], s->modality[f])) m++;
        if (m == n_mod) mods[n_mod++] = s->modality[f];
        for (size_t i = s->first[f]; i < s->first[f + 1]; i++)
            if (i >= start && i < start + n) {
                src[i - start] = (int32_t)f;
                mod[i - start] = (int32_t)m;
            }
    }
    h5ad_write_obs_categorical(w, "kida_source", src, n, s->path, s->n);
    h5ad_write_obs_categorical(w, "kida_modality", mod, n, mods, n_mod);
    free(src);
    free(mod);
    free(mods);
}

// 1 when every file has obs[key] as text. Collective.
static int text_in_all(const Sources *s, const char *key, const Config *c, const Dist *d) {
    int ok = 1;
    for (size_t f = 0; f < s->n && ok; f++) {
        H5ad *h = h5ad_open(s->path[f], NULL, c->use_gene_ids, d);
        ok = h5ad_obs_is_text(h, key);
        h5ad_close(h);
    }
    return ok;
}

// The text obs columns (labels, batches, ...) that every file has, categories united by name.
// kida_* columns of an earlier run are left out: this run writes its own. Every rank reads a
// column's codes for all cells (4 bytes a cell, as the reference labels are read) and writes
// those of its rows [start, start + n).
static void write_common_obs(H5adWriter *w, const Sources *s, const Config *c, const Dist *d, size_t start, size_t n) {
    H5ad *h = h5ad_open(s->path[0], NULL, c->use_gene_ids, d);
    size_t n_keys = 0;
    char **keys = h5ad_obs_keys(h, &n_keys);
    h5ad_close(h);
    for (size_t k = 0; k < n_keys; k++) {
        if (!strncmp(keys[k], "kida_", 5) || !text_in_all(s, keys[k], c, d)) continue;
        size_t n_cats = 0;
        char **cats = NULL;
        int32_t *codes = sources_read_column(s, keys[k], c, d, &cats, &n_cats);
        h5ad_write_obs_categorical(w, keys[k], codes + start, n, cats, n_cats);
        free(codes);
        strv_free(cats, n_cats);
    }
    strv_free(keys, n_keys);
}

// The obsm arrays (e.g. spatial) that every file has with the same width, copied by the ranks.
static void write_common_obsm(H5adWriter *w, const Sources *s, const Config *c, const Dist *d) {
    H5ad *h0 = h5ad_open(s->path[0], NULL, c->use_gene_ids, d);
    size_t n_keys = 0;
    char **keys = h5ad_obsm_keys(h0, &n_keys);
    h5ad_close(h0);
    for (size_t k = 0; k < n_keys; k++)
        if (strcmp(keys[k], "X_kida") && strncmp(keys[k], "kida_", 5))   // this run writes its own
            h5ad_write_obsm_copy(w, keys[k], s->path, s->first, s->n);
    if (keys) strv_free(keys, n_keys);
}

H5adWriter *output_list_base(const char *out_path, int overwrite, const Dataset *q, const ModelSpec *spec,
                             const Config *c, const Dist *d) {
    const Sources *s = &q->src;
    H5adWriter *w = h5ad_writer_create_rows(out_path, overwrite, d, q->count);
    Csr x = dataset_query_rows(q, &spec->prep, q->start, q->count, 0);
    h5ad_write_X_csr_take(w, &x);
    h5ad_write_var_names(w, spec->prep.gene_names, spec->prep.G);
    write_names(w, s, c, d);
    write_origin(w, s, q->start, q->count);
    write_common_obs(w, s, c, d, q->start, q->count);
    write_common_obsm(w, s, c, d);
    return w;
}
