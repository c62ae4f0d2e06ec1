// inspect: see inspect.h. Reads the file through the h5ad reader (so every structural check of
// h5ad_open and h5ad_read_rows applies), serially, and prints a summary.
#include "io/inspect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "io/h5ad_impl.h"
#include "io/h5util.h"
#include "io/xvalues.h"

#define TOP_CATS 8
#define SHOW_NAMES 5

static int cmp_f64(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

// Value statistics over the whole matrix: reads it in row blocks.
static void print_values(H5ad *h, FILE *out) {
    size_t n = h->n_obs;
    if (n == 0 || h->n_vars == 0) {
        fprintf(out, "values:     (empty matrix)\n");
        return;
    }
    size_t block = h->kind == XK_CSC ? n : 4096;   // CSC costs a full scan per block
    double *tot = xcalloc(n, sizeof *tot);
    double vmin = INFINITY, vmax = -INFINITY;
    size_t stored = 0, negative = 0, nonint = 0;
    for (size_t r0 = 0; r0 < n; r0 += block) {
        size_t c = n - r0 < block ? n - r0 : block;
        Csr m = h5ad_read_rows(h, r0, c);
        for (size_t i = 0; i < c; i++)
            for (int64_t k = m.indptr[i]; k < m.indptr[i + 1]; k++) {
                double v = m.data[k];
                tot[r0 + i] += v;
                vmin = v < vmin ? v : vmin;
                vmax = v > vmax ? v : vmax;
                negative += v < 0;
                nonint += v != floor(v);
            }
        stored += csr_nnz(&m);
        csr_free(&m);
    }
    if (h->kind == XK_DENSE && stored < h->n_obs * h->n_vars) {
        vmin = vmin < 0 ? vmin : 0;   // dense zeros were dropped by the reader
        fprintf(out, "nonzeros:   %zu (density %.4f%%)\n", stored, 100.0 * stored / ((double)h->n_obs * h->n_vars));
    }
    if (!stored) vmin = vmax = 0;
    qsort(tot, n, sizeof *tot, cmp_f64);
    fprintf(out, "values:     min %g, max %g, %s%s\n", vmin, vmax,
            nonint ? "not all integers" : "all integers",
            negative ? " (has negative values: not raw counts)" : (nonint ? "" : " (looks like raw counts)"));
    fprintf(out, "cell sums:  min %g, median %g, max %g\n", tot[0], tot[n / 2], tot[n - 1]);
    free(tot);
}

typedef struct {
    size_t code;
    size_t count;
} CatCount;

static int cmp_cc(const void *a, const void *b) {
    const CatCount *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : (x->code > y->code) - (x->code < y->code);
}

static void print_labels(H5ad *h, const char *key, const char *type, FILE *out) {
    char **cats = NULL;
    size_t nc = 0;
    int32_t *codes = h5ad_obs_labels(h, key, 0, h->n_obs, &cats, &nc);
    CatCount *cc = xcalloc(nc ? nc : 1, sizeof *cc);
    size_t na = 0;
    for (size_t k = 0; k < nc; k++) cc[k].code = k;
    for (size_t i = 0; i < h->n_obs; i++) {
        if (codes[i] < 0) na++;
        else cc[codes[i]].count++;
    }
    qsort(cc, nc, sizeof *cc, cmp_cc);
    fprintf(out, "  %-20s %s, %zu categor%s, %zu NA:", key, type, nc, nc == 1 ? "y" : "ies", na);
    for (size_t k = 0; k < nc && k < TOP_CATS; k++)
        fprintf(out, "%s %s (%zu)", k ? "," : "", cats[cc[k].code], cc[k].count);
    if (nc > TOP_CATS) fprintf(out, ", ... %zu more", nc - TOP_CATS);
    fprintf(out, "\n");
    free(cc);
    free(codes);
    strv_free(cats, nc);
}

static void print_numeric(H5ad *h, const char *key, hid_t ds, const char *type, FILE *out) {
    char name[512];
    snprintf(name, sizeof name, "obs/%s", key);
    size_t n = h5u_dset_len(ds, h->path, name);
    double *v = xmalloc((n ? n : 1) * sizeof *v);
    h5u_read_1d(ds, H5T_NATIVE_DOUBLE, 0, n, v, h->path, name);
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    size_t nan = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i])) {
            nan++;
            continue;
        }
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
        sum += v[i];
    }
    if (n == nan) lo = hi = NAN;
    fprintf(out, "  %-20s %s, min %g, mean %g, max %g, %zu NaN\n", key, type, lo, n > nan ? sum / (double)(n - nan) : NAN,
            hi, nan);
    free(v);
}

static void print_obs(H5ad *h, FILE *out) {
    size_t nk = 0;
    char **keys = h5ad_obs_keys(h, &nk);
    fprintf(out, "obs:        %zu column%s\n", nk, nk == 1 ? "" : "s");
    for (size_t i = 0; i < nk; i++) {
        char name[512];
        snprintf(name, sizeof name, "obs/%s", keys[i]);
        H5O_type_t t = h5u_obj_type(h->file, name);
        if (t == H5O_TYPE_GROUP) {
            hid_t g = h5u_open_group(h->file, name, h->path, "re-write the file with anndata");
            char *enc = h5u_attr_string(g, "encoding-type");
            H5Gclose(g);
            print_labels(h, keys[i], enc ? enc : "group", out);
            free(enc);
        } else if (t == H5O_TYPE_DATASET) {
            hid_t ds = h5u_open_dset(h->file, name, h->path, "re-write the file with anndata");
            H5T_class_t c = h5u_dtype_class(ds);
            const char *type = h5u_dtype_name(ds);
            int coded = H5Aexists(ds, "categories") > 0;
            if (c == H5T_FLOAT) print_numeric(h, keys[i], ds, type, out);
            else if (c == H5T_INTEGER && !coded) {
                // integers: labels when few distinct values, else a numeric summary
                char **cats = NULL;
                size_t nc = 0;
                int32_t *codes = h5ad_obs_labels(h, keys[i], 0, 0, &cats, &nc);
                free(codes);
                strv_free(cats, nc);
                if (nc <= 32) print_labels(h, keys[i], type, out);
                else print_numeric(h, keys[i], ds, type, out);
            } else print_labels(h, keys[i], coded ? "categorical (old encoding)" : type, out);
            H5Dclose(ds);
        } else fprintf(out, "  %-20s (listed in column-order but missing)\n", keys[i]);
    }
    strv_free(keys, nk);
}

static void print_names(const char *what, char **v, size_t shown, size_t total, FILE *out) {
    fprintf(out, "%s", what);
    for (size_t i = 0; i < shown; i++) fprintf(out, "%s %s", i ? "," : "", v[i]);
    if (total > shown) fprintf(out, ", ... (%zu total)", total);
    fprintf(out, "\n");
}

typedef struct {
    char **v;
    size_t n;
} Names;

static Names group_members(hid_t file, const char *group) {
    Names l = {0};
    l.v = h5u_group_names(file, group, &l.n);
    return l;
}

// Shape of group/name as "a x b" (datasets) or the sparse shape attribute.
static void shape_text(hid_t file, const char *name, char *buf, size_t n) {
    snprintf(buf, n, "?");
    H5O_type_t t = h5u_obj_type(file, name);
    if (t == H5O_TYPE_DATASET) {
        hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
        hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
        hsize_t d[8];
        int r = sp >= 0 ? H5Sget_simple_extent_dims(sp, d, NULL) : -1;
        if (r == 1) snprintf(buf, n, "%llu, %s", (unsigned long long)d[0], h5u_dtype_name(ds));
        else if (r == 2) snprintf(buf, n, "%llu x %llu, %s", (unsigned long long)d[0], (unsigned long long)d[1], h5u_dtype_name(ds));
        if (sp >= 0) H5Sclose(sp);
        if (ds >= 0) H5Dclose(ds);
    } else if (t == H5O_TYPE_GROUP) {
        hid_t g = H5Gopen2(file, name, H5P_DEFAULT);
        int64_t s[2];
        char *enc = h5u_attr_string(g, "encoding-type");
        if (h5u_attr_i64(g, "shape", s, 2) == 2)
            snprintf(buf, n, "%lld x %lld, %s", (long long)s[0], (long long)s[1], enc ? enc : "group");
        else snprintf(buf, n, "%s", enc ? enc : "group");
        free(enc);
        H5Gclose(g);
    }
}

static void print_group(hid_t file, const char *group, FILE *out) {
    Names l = group_members(file, group);
    fprintf(out, "%-11s %zu\n", group, l.n);
    for (size_t i = 0; i < l.n; i++) {
        char name[512], shape[128];
        snprintf(name, sizeof name, "%s/%s", group, l.v[i]);
        shape_text(file, name, shape, sizeof shape);
        fprintf(out, "  %-20s %s\n", l.v[i], shape);
    }
    strv_free(l.v, l.n);
}

// What the other matrices (X when a layer is shown, the layers, raw/X) hold (xvalues_detect on a
// sample), so a user sees where the counts are: "others:     layers/counts: integer counts".
static void print_others(const char *path, H5ad *h, const char *layer, FILE *out) {
    size_t nl = 0, shown = 0;
    char **layers = h5ad_layers(h, &nl);
    int raw = h5ad_has_raw(h);
    for (size_t i = 0; i < nl + 2; i++) {   // X, the layers, raw
        const char *name = i == 0 ? (layer ? "X" : NULL) : i <= nl ? layers[i - 1] : raw ? "raw" : NULL;
        if (!name || (layer && !strcmp(layer, name))) continue;
        H5ad *o = h5ad_open(path, name, 0, NULL);
        XValues v = xvalues_detect(o);
        h5ad_close(o);
        fprintf(out, "%s%s%s: %s", shown++ ? "; " : "others:     ", i && i <= nl ? "layers/" : "",
                i > nl ? "raw/X" : name, xvalues_name(v.kind));
    }
    if (shown) fprintf(out, "\n");
    strv_free(layers, nl);
}

void inspect_print(const char *path, const char *layer, FILE *out) {
    log_push_context("%s: kida inspect", path);
    H5ad *h = h5ad_open(path, layer, 0, NULL);
    h5ad_check_copy_source(path);   // and what an output copied from the file reads
    fprintf(out, "file:       %s\n", path);
    if (h->kind == XK_10X)
        fprintf(out, "format:     10x CellRanger %s .h5 (group '%s')\n", h->tenx_v2 ? "2" : "3", h->xname);
    else {
        hid_t root = H5Gopen2(h->file, "/", H5P_DEFAULT);
        char *et = h5u_attr_string(root, "encoding-type"), *ev = h5u_attr_string(root, "encoding-version");
        H5Gclose(root);
        fprintf(out, "format:     AnnData .h5ad (%s %s)\n", et ? et : "no encoding attribute", ev ? ev : "");
        free(et);
        free(ev);
    }
    fprintf(out, "matrix:     %s, %zu cells x %zu %s\n", h->xname, h->n_obs, h->n_vars,
            h->kind == XK_10X ? "features" : "genes");
    double cells = (double)h->n_obs * (double)h->n_vars;
    if (h->kind == XK_DENSE) fprintf(out, "X:          array (dense), %s\n", h->dtype);
    else
        fprintf(out, "X:          %s, %s, nnz %zu (density %.4f%%)\n", h5ad_x_encoding(h), h->dtype, h->nnz,
                cells > 0 ? 100.0 * (double)h->nnz / cells : 0.0);
    print_values(h, out);
    XValues xv = xvalues_detect(h);
    char desc[512];
    fprintf(out, "holds:      %s\n", xvalues_describe(&xv, desc, sizeof desc));
    if (h->kind != XK_10X) print_others(path, h, layer && *layer && strcmp(layer, "X") ? layer : NULL, out);
    print_obs(h, out);
    if (h->kind != XK_10X) {
        print_group(h->file, "obsm", out);
        print_group(h->file, "layers", out);
        if (h5u_exists(h->file, "raw/X")) {
            char shape[128];
            shape_text(h->file, "raw/X", shape, sizeof shape);
            fprintf(out, "raw:        present (%s)\n", shape);
        } else fprintf(out, "raw:        absent\n");
        Names u = group_members(h->file, "uns");
        fprintf(out, "uns:        %zu key%s", u.n, u.n == 1 ? "" : "s");
        for (size_t i = 0; i < u.n; i++) fprintf(out, "%s %s", i ? "," : ":", u.v[i]);
        fprintf(out, "\n");
        strv_free(u.v, u.n);
    }
    char **vn = h5ad_var_names(h);
    print_names("var names: ", vn, h->n_vars < SHOW_NAMES ? h->n_vars : SHOW_NAMES, h->n_vars, out);
    strv_free(vn, h->n_vars);
    size_t k = h->n_obs < SHOW_NAMES ? h->n_obs : SHOW_NAMES;
    char **on = h5ad_obs_names(h, 0, k);
    print_names("obs names: ", on, k, h->n_obs, out);
    strv_free(on, k);
    h5ad_close(h);
    log_pop_context();
}
