// varnames: see varnames.h.
#include "train/varnames.h"

#include <string.h>

#include "core/log.h"
#include "prep/genematch.h"

// Columns that hold gene symbols in the files users have, in the order they are tried.
static const char *const SYMBOL_COLUMNS[] = {"feature_name", "gene_symbols", "gene_symbol", "gene_name",
                                             "gene_names", "symbol", "symbols", "feature_names"};

static char *keys_text(H5ad *h) {
    size_t n = 0, len = 8;
    char **k = h5ad_var_keys(h, &n);
    for (size_t i = 0; i < n; i++) len += strlen(k[i]) + 2;
    char *s = xmalloc(len);
    s[0] = 0;
    for (size_t i = 0; i < n; i++) strcat(strcat(s, i ? ", " : ""), k[i]);
    if (!n) strcpy(s, "none");
    strv_free(k, n);
    return s;
}

char *varnames_choose(H5ad *h, const char *asked, const char *role) {
    size_t miss = 0;
    if (asked && *asked) {
        if (!strcmp(h5ad_x_encoding(h), "10x"))
            FATAL("10x files name genes by symbol, or by Ensembl ID with --use-gene-ids; leave out --var-names-column",
                  "%s: --var-names-column %s given for a 10x file", h5ad_path(h), asked);
        char **v = h5ad_var_column(h, asked, &miss);
        if (!v) {
            char *keys = keys_text(h);
            FATAL("name one of the var columns listed with --var-names-column, or leave it out to use the var index",
                  "%s: var column '%s' not found (var columns: %s)", h5ad_path(h), asked, keys);
        }
        strv_free(v, h5ad_n_vars(h));
        log_info("%s %s: gene names from var['%s']%s", role, h5ad_path(h), asked,
                 miss ? " (genes without one keep their var index name)" : "");
        return xstrdup(asked);
    }
    if (!strcmp(h5ad_x_encoding(h), "10x")) return NULL;
    char **index = h5ad_var_names(h);
    size_t n = h5ad_n_vars(h);
    double ens = genes_frac_ensembl(index, n);
    strv_free(index, n);
    if (ens < 0.5) return NULL;
    for (size_t k = 0; k < sizeof SYMBOL_COLUMNS / sizeof *SYMBOL_COLUMNS; k++) {
        char **v = h5ad_var_column(h, SYMBOL_COLUMNS[k], &miss);
        if (!v) continue;
        double e = genes_frac_ensembl(v, n);
        strv_free(v, n);
        if (e >= 0.5) continue;
        log_info("%s %s: the var index holds Ensembl IDs (%.0f%%); gene names from var['%s'], which holds symbols "
                 "(--var-names-column chooses another column)", role, h5ad_path(h), 100 * ens, SYMBOL_COLUMNS[k]);
        return xstrdup(SYMBOL_COLUMNS[k]);
    }
    return NULL;
}

char **varnames_read(H5ad *h, const char *column, const Config *c) {
    size_t miss = 0, n = h5ad_n_vars(h);
    char **v = column ? h5ad_var_column(h, column, &miss) : h5ad_var_names(h);
    if (!v) FATAL("a bug in kida", "%s: var column '%s' vanished", h5ad_path(h), column);
    if (c->gene_map && *c->gene_map) genes_translate(v, n, c->gene_map);
    return v;
}
