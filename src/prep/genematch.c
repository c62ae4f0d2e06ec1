// genematch: see genematch.h.
#include "prep/genematch.h"

#include <ctype.h>
#include <string.h>

#include "core/log.h"
#include "core/strmap.h"
#include "io/gzline.h"
#include "io/h5ad.h"

MatchOptions match_options_default(void) { return (MatchOptions){.case_insensitive = 0, .map_path = NULL, .min_overlap = 0.5, .target = "model genes"}; }

// An id -> symbol table read from a 2-column file (column 1 id, column 2 symbol).
typedef struct { StrMap idx; char **sym; size_t n; } GeneMap;

static GeneMap genemap_read(const char *path) {
    GeneMap m = {.idx = strmap_new(1 << 16)};
    size_t cap = 0, len;
    GzLines *f = gzlines_open(path, "gene map");
    char *line, *fl[2];
    while ((line = gzlines_next(f, &len))) {
        if (str_is_blank(line) || line[0] == '#') continue;
        size_t nf = str_split(line, '\t', fl, 2);
        char *id = nf >= 1 ? str_trim(fl[0]) : NULL, *sym = nf >= 2 ? str_trim(fl[1]) : NULL;
        if (nf < 2 || !*id || !*sym)
            FATAL("the gene map has one gene per line: ID<TAB>SYMBOL",
                  "gene map '%s' line %zu: want 2 non-empty tab-separated fields (id, symbol), got %zu field(s)", path,
                  gzlines_lineno(f), nf);
        if (!strmap_put(&m.idx, id, (int64_t)m.n, NULL)) continue;  // a repeated id keeps its first symbol
        if (m.n == cap) {
            cap = cap ? szmul(2, cap) : 1 << 14;
            m.sym = xrealloc_for(m.sym, szmul(cap, sizeof *m.sym), "gene map '%s': %zu lines", path, cap);
        }
        m.sym[m.n++] = xstrdup(sym);
    }
    gzlines_close(f);
    if (m.n == 0) FATAL("give a gene map with lines ID<TAB>SYMBOL", "gene map '%s' has no entries", path);
    return m;
}

static void genemap_free(GeneMap *m) {
    for (size_t i = 0; i < m->n; i++) free(m->sym[i]);
    free(m->sym);
    strmap_free(&m->idx);
}

// The matching key of name: translated through the map (when given), lower-cased when ci.
static char *match_key(const char *name, const GeneMap *map, int ci) {
    if (map) {
        int64_t i = strmap_get(&map->idx, name, -1);
        if (i >= 0) name = map->sym[i];
    }
    char *k = xstrdup(name);
    if (ci)
        for (char *p = k; *p; p++) *p = (char)tolower((unsigned char)*p);
    return k;
}

// 1 if name looks like an Ensembl gene ID (ENSG00000121410, ENSMUSG..., optional .version).
static int looks_ensembl(const char *s) {
    if (strncmp(s, "ENS", 3) != 0) return 0;
    s += 3;
    while (*s >= 'A' && *s <= 'Z') s++;
    if (s[-1] != 'G') return 0;
    size_t digits = 0;
    while (*s >= '0' && *s <= '9') s++, digits++;
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9') s++;
    }
    return digits >= 6 && *s == '\0';
}

double genes_frac_ensembl(char *const *v, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += looks_ensembl(v[i]);
    return n ? (double)k / (double)n : 0;
}

// Matches names onto model genes; col (n_cols) receives the model index or -1. Returns the
// number of model genes matched; *n_dup counts columns whose model gene was already taken.
static size_t match_run(char *const *model, size_t G, char *const *names, size_t n_cols, const GeneMap *map, int ci,
                        int32_t *col, size_t *n_dup) {
    StrMap mm = strmap_new(G);
    for (size_t g = 0; g < G; g++) {
        char *k = match_key(model[g], map, ci);
        strmap_put(&mm, k, (int64_t)g, NULL);  // a repeated model name maps to its first gene
        free(k);
    }
    unsigned char *taken = xcalloc_for(G ? G : 1, 1, "gene matching: %zu model genes", G);
    size_t matched = 0;
    *n_dup = 0;
    for (size_t c = 0; c < n_cols; c++) {
        char *k = match_key(names[c], map, ci);
        int64_t g = strmap_get(&mm, k, -1);
        free(k);
        col[c] = -1;
        if (g < 0) continue;
        if (taken[g]) { (*n_dup)++; continue; }
        taken[g] = 1;
        col[c] = (int32_t)g;
        matched++;
    }
    free(taken);
    strmap_free(&mm);
    return matched;
}

int32_t *genes_match(char *const *model_genes, size_t G, char *const *names, size_t n_cols,
                     const MatchOptions *opt, const char *file_for_messages, size_t *n_matched) {
    const char *file = file_for_messages ? file_for_messages : "the query";
    if (G == 0) FATAL("a bug in kida", "genes_match: the model has no genes");
    GeneMap map = {0}, *mp = NULL;
    if (opt->map_path && *opt->map_path) {
        map = genemap_read(opt->map_path);
        mp = &map;
    }
    int32_t *col = xcalloc_for(n_cols ? n_cols : 1, sizeof *col, "%s: gene matching of %zu columns", file, n_cols);
    size_t n_dup = 0, matched = match_run(model_genes, G, names, n_cols, mp, opt->case_insensitive, col, &n_dup);
    double frac = (double)matched / (double)G;
    log_info("genes matched: %zu/%zu %s (%.1f%%) in %s", matched, G, opt->target ? opt->target : "model genes",
             100.0 * frac, file);
    if (n_dup)
        log_warn("%s: %zu column(s) repeat a gene name already matched; only the first column of each is used", file, n_dup);
    if (frac < opt->min_overlap) {
        char hint[1536] = "";
        double qe = genes_frac_ensembl(names, n_cols), me = genes_frac_ensembl(model_genes, G);
        if (!mp && qe > 0.5 && me < 0.5)
            snprintf(hint, sizeof hint,
                     "most names in %s look like Ensembl IDs (ENSG...) while the model's genes are symbols: "
                     "pass --gene-map FILE (lines ID<TAB>SYMBOL) to translate them", file);
        else if (!mp && qe < 0.5 && me > 0.5)
            snprintf(hint, sizeof hint,
                     "the model's genes look like Ensembl IDs (ENSG...) while the names in %s are symbols: "
                     "pass --gene-map FILE (lines ID<TAB>SYMBOL) to translate them", file);
        if (!opt->case_insensitive) {
            int32_t *tmp = xcalloc_for(n_cols ? n_cols : 1, sizeof *tmp, "%s: gene matching of %zu columns", file, n_cols);
            size_t d2, ci_matched = match_run(model_genes, G, names, n_cols, mp, 1, tmp, &d2);
            free(tmp);
            if ((double)ci_matched / (double)G >= opt->min_overlap) {
                size_t l = strlen(hint);
                snprintf(hint + l, sizeof hint - l,
                         "%signoring case, %zu/%zu model genes would match: pass --gene-case-insensitive", l ? "; " : "",
                         ci_matched, G);
            }
        }
        if (!*hint)
            snprintf(hint, sizeof hint,
                     "check that %s is the same species and gene naming as the reference (symbols vs IDs); "
                     "translate names with --gene-map FILE, or lower --min-gene-overlap (now %.2f) at your own risk",
                     file, opt->min_overlap);
        if (opt->extra_hint) {
            size_t l = strlen(hint);
            snprintf(hint + l, sizeof hint - l, "; %s", opt->extra_hint);
        }
        FATAL(hint, "too few model genes found in %s: got %zu/%zu (%.1f%%), want >= %.1f%%", file, matched, G, 100.0 * frac,
              100.0 * opt->min_overlap);
    }
    if (mp) genemap_free(mp);
    if (n_matched) *n_matched = matched;
    return col;
}

size_t genes_translate(char **names, size_t n, const char *map_path) {
    GeneMap map = genemap_read(map_path);
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t k = strmap_get(&map.idx, names[i], -1);
        if (k < 0 || !strcmp(names[i], map.sym[k])) continue;
        free(names[i]);
        names[i] = xstrdup(map.sym[k]);
        done++;
    }
    genemap_free(&map);
    h5ad_make_unique(names, n);
    return done;
}
