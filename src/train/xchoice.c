// xchoice: see xchoice.h.
#include "train/xchoice.h"

#include <string.h>

#include "core/log.h"
#include "io/h5ad.h"

#define HINT_KEEP_COUNTS "give kida the counts: in scanpy keep them before normalising (adata.layers['counts'] = " \
                         "adata.X.copy()) and write the file again; scaled values cannot be turned back into counts"

typedef struct {
    char *layer;
    XValues v;
    size_t n_vars;
} Cand;

const char *xchoice_where(const char *layer, char *buf, size_t n) {
    if (!layer || !*layer || !strcmp(layer, "X")) snprintf(buf, n, "X");
    else if (!strcmp(layer, "raw")) snprintf(buf, n, "raw/X");
    else snprintf(buf, n, "layers/%s", layer);
    return buf;
}

static Cand probe(const char *path, const char *layer, int ids, const Dist *d) {
    H5ad *h = h5ad_open(path, layer, ids, d);
    Cand c = {layer ? xstrdup(layer) : NULL, xvalues_detect(h), h5ad_n_vars(h)};
    h5ad_close(h);
    return c;
}

// Every matrix of the file after X (already probed): its layers, a layer named "counts" first,
// then raw/X. *n counts X too (c[0] is left for it).
static Cand *probe_others(const char *path, int ids, const Dist *d, size_t *n) {
    H5ad *h = h5ad_open(path, NULL, ids, d);
    size_t nl = 0;
    char **layers = h5ad_layers(h, &nl);
    int raw = h5ad_has_raw(h);
    h5ad_close(h);
    Cand *c = xcalloc(nl + 2, sizeof *c);
    *n = 1;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < nl; i++)
            if ((pass == 0) == !strcmp(layers[i], "counts")) c[(*n)++] = probe(path, layers[i], ids, d);
    if (raw) c[(*n)++] = probe(path, "raw", ids, d);
    strv_free(layers, nl);
    return c;
}

// The counts matrix with the most genes (first on ties), else the usable one; -1 if none.
static long pick(const Cand *c, size_t n) {
    for (int want_counts = 1; want_counts >= 0; want_counts--) {
        long best = -1;
        for (size_t i = 0; i < n; i++) {
            int ok = want_counts ? c[i].v.kind == XV_COUNTS : xvalues_usable(&c[i].v);
            if (ok && (best < 0 || c[i].n_vars > c[best].n_vars)) best = (long)i;
        }
        if (best >= 0) return best;
    }
    return -1;
}

// "X: ...; layers/counts: integer counts (2000 genes); ..." in buf.
static const char *summary(const Cand *c, size_t n, char *buf, size_t len) {
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n && used < len; i++) {
        char w[300];
        used += (size_t)snprintf(buf + used, len - used, "%s%s: %s (%zu genes)", i ? "; " : "",
                                 xchoice_where(c[i].layer, w, sizeof w), xvalues_name(c[i].v.kind), c[i].n_vars);
    }
    if (n == 1 && used < len) snprintf(buf + used, len - used, "; no layers, no raw/X");
    return buf;
}

// The log line for a chosen matrix that is not integer counts; others: what the file's other
// matrices hold (NULL when the user chose the matrix).
static void say_transform(const char *role, const char *path, const char *where, const XValues *v, const char *others) {
    char desc[512], why[2100] = "";
    xvalues_describe(v, desc, sizeof desc);
    if (others) snprintf(why, sizeof why, "; no matrix of the file holds integer counts (%s)", others);
    if (v->kind == XV_FRACTIONAL)
        log_warn("%s %s: reading %s, which holds %s%s; kida uses them as counts (normalize_total, log1p)", role, path,
                 where, desc, why);
    else if (v->kind == XV_LOG1P || v->kind == XV_NORMALISED)
        log_info("%s %s: reading %s, which holds %s%s; kida turns them back into counts: %seach cell divided by its "
                 "smallest value (its size factor; rounded where whole), then normalize_total and log1p as for counts",
                 role, path, where, desc, why, v->kind == XV_LOG1P ? "expm1, then " : "");
}

static void free_cands(Cand *c, size_t n, size_t keep) {
    for (size_t i = 0; i < n; i++)
        if (i != keep) free(c[i].layer);
    free(c);
}

XChoice xchoice_make(const char *path, const char *asked, int use_gene_ids, const char *role, const char *opt,
                     const Dist *d) {
    int is_auto = !asked || !*asked || !strcmp(asked, "auto");
    Cand first = probe(path, is_auto ? NULL : asked, use_gene_ids, d);
    char w[300], desc[512];
    xchoice_where(first.layer, w, sizeof w);
    if (first.v.kind == XV_COUNTS || (!is_auto && xvalues_usable(&first.v))) {
        if (first.v.kind == XV_COUNTS) log_info("%s %s: reading %s (integer counts, %zu genes)", role, path, w, first.n_vars);
        else say_transform(role, path, w, &first.v, NULL);
        return (XChoice){first.layer, first.v};
    }
    size_t n = 0;
    Cand *c = probe_others(path, use_gene_ids, d, &n);
    c[0] = is_auto ? first : probe(path, NULL, use_gene_ids, d);   // the asked matrix is among the others
    char all[2048];
    summary(c, n, all, sizeof all);
    xvalues_describe(&first.v, desc, sizeof desc);
    long best = pick(c, n);
    if (!is_auto) {   // the matrix asked for holds scaled values
        char hint[768];
        if (best >= 0 && c[best].v.kind == XV_COUNTS)
            snprintf(hint, sizeof hint, "read the counts instead: %s %s (%s holds integer counts)", opt,
                     c[best].layer ? c[best].layer : "X", xchoice_where(c[best].layer, w, sizeof w));
        else snprintf(hint, sizeof hint, "%s", HINT_KEEP_COUNTS);
        FATAL(hint, "%s %s: %s %s holds %s, which kida cannot use (it needs counts; the file holds %s)", role, path, opt,
              asked, desc, all);
    }
    if (best < 0)
        FATAL(HINT_KEEP_COUNTS, "%s %s: X holds %s; no matrix of the file holds counts or normalised values (%s)", role,
              path, desc, all);
    char wb[300];
    xchoice_where(c[best].layer, wb, sizeof wb);
    if (c[best].v.kind == XV_COUNTS)
        log_info("%s %s: X holds %s; reading %s instead, which holds integer counts (%zu genes; %s X reads X)", role,
                 path, desc, wb, c[best].n_vars, opt);
    else say_transform(role, path, wb, &c[best].v, all);
    XChoice out = {c[best].layer, c[best].v};
    free_cands(c, n, (size_t)best);
    return out;
}
