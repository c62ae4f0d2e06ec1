// sources: see sources.h.
#include "train/sources.h"

#include <string.h>

#include "core/log.h"
#include "core/strmap.h"
#include "io/h5ad.h"
#include "train/varnames.h"
#include "train/xchoice.h"

static const char *const MODALITIES[] = {"rna", "atac", "spatial"};

static char **split_list(const char *list, size_t *n) {
    char **v = NULL;
    *n = 0;
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t')) p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
        v = xrealloc(v, (*n + 1) * sizeof(char *));
        v[*n] = xmalloc(len + 1);
        memcpy(v[*n], p, len);
        v[(*n)++][len] = '\0';
        if (!comma) break;
        p = comma + 1;
    }
    return v;
}

static void check_modality(const char *m, const char *opt) {
    for (size_t k = 0; k < sizeof MODALITIES / sizeof *MODALITIES; k++)
        if (!strcmp(m, MODALITIES[k])) return;
    FATAL("use rna, atac or spatial for each file, comma-separated in the order of the files",
          "bad value in %s: got `%s`, want rna, atac or spatial", opt, m);
}

static void check_paths(char **path, size_t n, const char *opt, const char *list) {
    for (size_t i = 0; i < n; i++) {
        if (!*path[i])
            FATAL("separate file names with single commas and leave no empty entries",
                  "%s `%s`: entry %zu is empty", opt, list, i + 1);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(path[i], path[j]))
                FATAL("list each file once", "%s: %s is listed twice (entries %zu and %zu)", opt, path[i], j + 1, i + 1);
    }
}

Sources sources_open(const char *list, const char *modalities, const char *fallback, const char *opt,
                     const char *mod_opt, const char *layer, const char *layer_opt, const Config *c, const Dist *d) {
    Sources s = {0};
    s.path = split_list(list, &s.n);
    check_paths(s.path, s.n, opt, list);
    if (modalities && *modalities) {
        size_t nm = 0;
        s.modality = split_list(modalities, &nm);
        if (nm != s.n)
            FATAL("give one modality per file, in the order of the files (or none: --modality applies to all)",
                  "%s has %zu value(s) but %s lists %zu file(s)", mod_opt, nm, opt, s.n);
    } else {
        s.modality = xmalloc(s.n * sizeof(char *));
        for (size_t i = 0; i < s.n; i++) s.modality[i] = xstrdup(fallback && *fallback ? fallback : "rna");
    }
    for (size_t i = 0; i < s.n; i++) check_modality(s.modality[i], mod_opt);
    s.first = xcalloc(s.n + 1, sizeof(size_t));
    s.layer = xcalloc(s.n, sizeof(char *));
    s.values = xcalloc(s.n, sizeof(XValues));
    s.var_column = xcalloc(s.n, sizeof(char *));
    const char *role = !strcmp(opt, "--reference") ? "reference" : "query";
    for (size_t i = 0; i < s.n; i++) {
        XChoice x = xchoice_make(s.path[i], layer, c->use_gene_ids, role, layer_opt, d);
        s.layer[i] = x.layer;
        s.values[i] = x.values;
        H5ad *h = h5ad_open(s.path[i], s.layer[i], c->use_gene_ids, d);
        s.var_column[i] = varnames_choose(h, c->var_names_column, role);
        size_t n = h5ad_n_obs(h);
        h5ad_close(h);
        if (n == 0)
            FATAL("give a file with at least one cell (`kida inspect` shows its shape)", "%s: X has no cells (0 rows)",
                  s.path[i]);
        s.first[i + 1] = s.first[i] + n;
    }
    return s;
}

void sources_free(Sources *s) {
    strv_free(s->path, s->n);
    strv_free(s->modality, s->n);
    for (size_t i = 0; i < s->n && s->layer; i++) free(s->layer[i]);
    free(s->layer);
    for (size_t i = 0; i < s->n && s->var_column; i++) free(s->var_column[i]);
    free(s->var_column);
    free(s->values);
    free(s->first);
    memset(s, 0, sizeof *s);
}

char *sources_describe(const Sources *s, size_t f) {
    char where[300], names[300], *out = xmalloc(strlen(s->path[f]) + 1024);
    const XValues *v = &s->values[f];
    int back = v->kind == XV_LOG1P || v->kind == XV_NORMALISED;
    if (s->var_column[f]) snprintf(names, sizeof names, "var['%s']", s->var_column[f]);
    else snprintf(names, sizeof names, "the var index");
    sprintf(out, "%s: %s (%s%s); gene names: %s", s->path[f], xchoice_where(s->layer[f], where, sizeof where),
            xvalues_name(v->kind), back ? ", turned back into counts" : "", names);
    return out;
}

char **sources_var_names(const Sources *s, size_t f, H5ad *h, const Config *c) {
    return varnames_read(h, s->var_column[f], c);
}

size_t sources_file_of(const Sources *s, size_t i) {
    size_t lo = 0, hi = s->n;   // the f with first[f] <= i < first[f+1]
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (s->first[mid] <= i) lo = mid;
        else hi = mid;
    }
    return lo;
}

const char *sources_label(const Sources *s, char *buf, size_t len) {
    if (s->n == 1) {
        snprintf(buf, len, "%s", s->path[0]);
        return buf;
    }
    size_t used = (size_t)snprintf(buf, len, "%zu files (", s->n);
    for (size_t i = 0; i < s->n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s %s", i ? ", " : "", s->path[i], s->modality[i]);
    if (used < len) snprintf(buf + used, len - used, ")");
    return buf;
}

int32_t *sources_read_column(const Sources *s, const char *key, const Config *c, const Dist *d, char ***cats,
                             size_t *n_cats) {
    size_t N = s->first[s->n];
    int32_t *codes = xcalloc_for(N ? N : 1, sizeof(int32_t), "labels '%s' of %zu cells", key, N);
    StrMap index = strmap_new(64);
    char **all = NULL;
    size_t n_all = 0;
    for (size_t f = 0; f < s->n; f++) {
        H5ad *h = h5ad_open(s->path[f], s->layer[f], c->use_gene_ids, d);
        size_t n = h5ad_n_obs(h), nc = 0;
        char **fc = NULL;
        int32_t *fcodes = h5ad_obs_labels(h, key, 0, n, &fc, &nc);
        h5ad_close(h);
        int32_t *to = xcalloc_for(nc ? nc : 1, sizeof(int32_t), "%s: labels '%s' of %zu categories", s->path[f], key, nc);
        for (size_t k = 0; k < nc; k++) {
            int64_t at = strmap_get(&index, fc[k], -1);
            if (at < 0) {
                all = xrealloc_for(all, szmul(n_all + 1, sizeof(char *)), "labels '%s': %zu categories", key, n_all + 1);
                all[n_all] = xstrdup(fc[k]);
                strmap_put(&index, fc[k], (int64_t)n_all, NULL);
                at = (int64_t)n_all++;
            }
            to[k] = (int32_t)at;
        }
        for (size_t i = 0; i < n; i++) codes[s->first[f] + i] = fcodes[i] >= 0 ? to[fcodes[i]] : -1;
        free(to);
        free(fcodes);
        strv_free(fc, nc);
    }
    strmap_free(&index);
    *cats = all;
    *n_cats = n_all;
    return codes;
}
