// h5ad_labels: obs columns as labels (codes + categories), in every encoding anndata has used:
//   categorical group {codes, categories} (anndata >= 0.8);
//   codes dataset with a "categories" object-reference attribute to obs/__categories/<key> (0.7);
//   integer codes with uns/<key>_categories (0.6);
//   nullable-integer / nullable-boolean / nullable-string-array groups {values, mask};
//   plain string, bool, integer and float columns (categories = distinct values, sorted).
// Values "", "nan", "NaN", "NA", "<NA>" (and NaN, masked entries) are missing: code -1.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/strmap.h"
#include "io/h5ad_impl.h"
#include "io/h5util.h"

#define HINT_LAYOUT "the file does not follow the AnnData layout; re-write it with anndata (adata.write_h5ad)"

static char *joinp(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = xmalloc(n);
    snprintf(s, n, "%s/%s", a, b);
    return s;
}

typedef struct {
    char **v;
    size_t n;
    const char *skip;
} KeyList;

static herr_t keys_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    KeyList *l = data;
    if ((l->skip && strcmp(name, l->skip) == 0) || strcmp(name, "__categories") == 0) return 0;
    l->v = xrealloc(l->v, (l->n + 1) * sizeof(char *));
    l->v[l->n++] = xstrdup(name);
    return 0;
}

char **h5ad_obs_keys(H5ad *h, size_t *n) {
    *n = 0;
    if (h->kind == XK_10X || h5u_obj_type(h->file, "obs") != H5O_TYPE_GROUP) return xcalloc(1, sizeof(char *));
    hid_t g = h5u_open_group(h->file, "obs", h->path, HINT_LAYOUT);
    char **v = NULL;
    if (H5Aexists(g, "column-order") > 0) {
        v = h5u_attr_strings(g, "column-order", n);   // NULL when empty (or stored as an empty float array)
        if (!v) v = xcalloc(1, sizeof(char *));
    } else {
        KeyList l = {NULL, 0, h->obs_index};
        hsize_t idx = 0;
        H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, keys_cb, &l);
        *n = l.n;
        v = l.v ? l.v : xcalloc(1, sizeof(char *));
    }
    H5Gclose(g);
    return v;
}

int h5ad_has_obs(H5ad *h, const char *key) {
    if (h->kind == XK_10X || !key || !*key || strchr(key, '/')) return 0;
    if (strcmp(key, "__categories") == 0 || (h->obs_index && strcmp(key, h->obs_index) == 0)) return 0;
    char *p = joinp("obs", key);
    int r = h5u_exists(h->file, p);
    free(p);
    return r;
}

int h5ad_obs_is_text(H5ad *h, const char *key) {
    if (!h5ad_has_obs(h, key)) return 0;
    char *name = joinp("obs", key);
    int text = 0;
    H5O_type_t t = h5u_obj_type(h->file, name);
    if (t == H5O_TYPE_GROUP) {
        hid_t g = h5u_open_group(h->file, name, h->path, HINT_LAYOUT);
        char *enc = h5u_attr_string(g, "encoding-type");
        text = enc && (!strcmp(enc, "categorical") || !strcmp(enc, "nullable-string-array"));
        free(enc);
        H5Gclose(g);
    } else if (t == H5O_TYPE_DATASET) {
        hid_t ds = h5u_open_dset(h->file, name, h->path, HINT_LAYOUT);
        text = h5u_dtype_class(ds) == H5T_STRING || H5Aexists(ds, "categories") > 0;
        H5Dclose(ds);
    }
    free(name);
    return text;
}

static int is_na(const char *s) {
    return !s[0] || !strcmp(s, "nan") || !strcmp(s, "NaN") || !strcmp(s, "NA") || !strcmp(s, "<NA>");
}

// Reads a category array (strings or numbers) as strings; *n set. Two categories with one name
// would silently merge two classes: FATAL (anndata refuses them too).
static char **read_cats(H5ad *h, hid_t ds, const char *name, size_t *n) {
    *n = h5u_dset_len(ds, h->path, name);
    if (*n > INT32_MAX)
        FATAL(HINT_LAYOUT, "%s: '%s' has %zu categories (want < 2^31)", h->path, name, *n);
    char **v = h5u_read_strings(ds, 0, *n, h->path, name);
    StrMap seen = strmap_new(*n);
    for (size_t k = 0; k < *n; k++) {
        int64_t first = -1;
        if (!strmap_put(&seen, v[k], (int64_t)k, &first))
            FATAL("give every category its own name: merge the two in the file (e.g. with pandas "
                  "rename_categories / set_categories) and write it again",
                  "%s: '%s' names category '%s' twice (categories %lld and %zu), which would merge two classes",
                  h->path, name, v[k], (long long)first, k);
    }
    strmap_free(&seen);
    return v;
}

// Reads codes [start, start+count) as int32 and checks them against n_cats.
static int32_t *read_codes(H5ad *h, hid_t ds, const char *name, size_t start, size_t count, size_t n_cats) {
    if (h5u_dtype_class(ds) != H5T_INTEGER)
        FATAL(HINT_LAYOUT, "%s: categorical codes '%s' are %s (want integers)", h->path, name, h5u_dtype_name(ds));
    size_t len = h5u_dset_len(ds, h->path, name);
    if (len != h->n_obs)
        FATAL(HINT_LAYOUT, "%s: '%s' has %zu entries but the file has %zu cells (got %zu, want %zu)", h->path, name, len,
              h->n_obs, len, h->n_obs);
    int32_t *c = xmalloc((count ? count : 1) * sizeof *c);
    h5u_read_1d(ds, H5T_NATIVE_INT32, start, count, c, h->path, name);
    for (size_t i = 0; i < count; i++)
        if (c[i] < -1 || c[i] >= (int32_t)n_cats)
            FATAL(HINT_LAYOUT, "%s: '%s' has code %d at row %zu, outside [-1, %zu)", h->path, name, c[i], start + i,
                  n_cats);
    return c;
}

// Turns NA-like categories into code -1 and drops them from the list.
static void drop_na_cats(int32_t *codes, size_t count, char **cats, size_t *n_cats) {
    size_t n = *n_cats, w = 0;
    int32_t *map = xmalloc((n ? n : 1) * sizeof *map);
    for (size_t k = 0; k < n; k++) {
        if (is_na(cats[k])) {
            map[k] = -1;
            free(cats[k]);
        } else {
            map[k] = (int32_t)w;
            cats[w++] = cats[k];
        }
    }
    if (w != n)
        for (size_t i = 0; i < count; i++) codes[i] = codes[i] < 0 ? -1 : map[codes[i]];
    *n_cats = w;
    free(map);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static int cmp_num(const void *a, const void *b) {
    double x = strtod(*(char *const *)a, NULL), y = strtod(*(char *const *)b, NULL);
    return x < y ? -1 : x > y;
}

// Labels from a plain column given as all n_obs values (strings; mask may be NULL, 1 = missing).
static int32_t *labels_from_values(char **all, const uint8_t *mask, size_t n_all, int numeric, size_t start,
                                   size_t count, char ***cats, size_t *n_cats) {
    char **sorted = xmalloc((n_all ? n_all : 1) * sizeof(char *));
    size_t m = 0;
    for (size_t i = 0; i < n_all; i++)
        if (!(mask && mask[i]) && !is_na(all[i])) sorted[m++] = all[i];
    int (*cmp)(const void *, const void *) = numeric ? cmp_num : cmp_str;
    qsort(sorted, m, sizeof(char *), cmp);
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (u == 0 || cmp(&sorted[u - 1], &sorted[i]) != 0) sorted[u++] = sorted[i];
    int32_t *codes = xmalloc((count ? count : 1) * sizeof *codes);
    for (size_t i = 0; i < count; i++) {
        char *s = all[start + i];
        if ((mask && mask[start + i]) || is_na(s)) {
            codes[i] = -1;
            continue;
        }
        char **hit = bsearch(&s, sorted, u, sizeof(char *), cmp);
        codes[i] = (int32_t)(hit - sorted);
    }
    char **out = xmalloc((u ? u : 1) * sizeof(char *));
    for (size_t k = 0; k < u; k++) out[k] = xstrdup(sorted[k]);
    free(sorted);
    *cats = out;
    *n_cats = u;
    return codes;
}

static _Noreturn void missing_key(H5ad *h, const char *key) {
    size_t n = 0;
    char **keys = h5ad_obs_keys(h, &n);
    size_t len = 16;
    for (size_t i = 0; i < n; i++) len += strlen(keys[i]) + 4;
    char *list = xmalloc(len);
    list[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strcat(list, i ? ", '" : "'");
        strcat(list, keys[i]);
        strcat(list, "'");
    }
    FATAL("choose one of the obs columns listed (the label/batch column option), or add the column to the file",
          "%s: obs column '%s' not found (obs has %zu columns: %s)", h->path, key, n, n ? list : "none");
}

int32_t *h5ad_obs_labels(H5ad *h, const char *key, size_t start, size_t count, char ***cats, size_t *n_cats) {
    if (!h5ad_has_obs(h, key)) missing_key(h, key);
    if (start + count > h->n_obs || start + count < start)
        FATAL("a bug in kida: rows asked past the end", "%s: obs rows [%zu, %zu) asked, file has %zu", h->path, start,
              start + count, h->n_obs);
    char *name = joinp("obs", key);
    log_push_context("%s: reading obs column '%s'", h->path, name);
    int32_t *codes = NULL;
    H5O_type_t t = h5u_obj_type(h->file, name);
    if (t == H5O_TYPE_GROUP) {
        hid_t g = h5u_open_group(h->file, name, h->path, HINT_LAYOUT);
        char *enc = h5u_attr_string(g, "encoding-type");
        char *cn = joinp(name, "codes"), *kn = joinp(name, "categories");
        char *vn = joinp(name, "values"), *mn = joinp(name, "mask");
        if (enc && strcmp(enc, "categorical") == 0) {
            if (!h5u_exists(h->file, cn) || !h5u_exists(h->file, kn))
                FATAL(HINT_LAYOUT, "%s: categorical '%s' needs datasets 'codes' and 'categories'", h->path, name);
            hid_t cd = h5u_open_dset(h->file, cn, h->path, HINT_LAYOUT), kd = h5u_open_dset(h->file, kn, h->path, HINT_LAYOUT);
            *cats = read_cats(h, kd, kn, n_cats);
            codes = read_codes(h, cd, cn, start, count, *n_cats);
            H5Dclose(cd);
            H5Dclose(kd);
        } else if (enc && strncmp(enc, "nullable-", 9) == 0 && h5u_exists(h->file, vn) && h5u_exists(h->file, mn)) {
            hid_t vd = h5u_open_dset(h->file, vn, h->path, HINT_LAYOUT), md = h5u_open_dset(h->file, mn, h->path, HINT_LAYOUT);
            size_t n = h5u_dset_len(vd, h->path, vn);
            if (n != h->n_obs || h5u_dset_len(md, h->path, mn) != n)
                FATAL(HINT_LAYOUT, "%s: '%s' values/mask lengths differ from the %zu cells", h->path, name, h->n_obs);
            char **all = h5u_read_strings(vd, 0, n, h->path, vn);
            uint8_t *mask = xmalloc(n ? n : 1);
            hid_t bt = h5u_bool_type();
            if (h5u_dtype_class(md) == H5T_ENUM) h5u_read_1d(md, bt, 0, n, mask, h->path, mn);
            else h5u_read_1d(md, H5T_NATIVE_UINT8, 0, n, mask, h->path, mn);
            H5Tclose(bt);
            int numeric = h5u_dtype_class(vd) == H5T_INTEGER || h5u_dtype_class(vd) == H5T_FLOAT;
            codes = labels_from_values(all, mask, n, numeric, start, count, cats, n_cats);
            strv_free(all, n);
            free(mask);
            H5Dclose(vd);
            H5Dclose(md);
        } else {
            FATAL("store labels as a categorical, string, bool or integer column (pandas .astype('category'))",
                  "%s: obs column '%s' has encoding-type '%s', which kida cannot read as labels", h->path, name,
                  enc ? enc : "(none)");
        }
        free(enc);
        free(cn);
        free(kn);
        free(vn);
        free(mn);
        H5Gclose(g);
    } else {
        hid_t ds = h5u_open_dset(h->file, name, h->path, HINT_LAYOUT);
        char *uns_cats = joinp("uns", key);
        uns_cats = xrealloc(uns_cats, strlen(uns_cats) + 16);
        strcat(uns_cats, "_categories");
        hid_t kd = -1;
        char *kname = NULL;
        if (H5Aexists(ds, "categories") > 0) {   // anndata 0.7: reference to obs/__categories/<key>
            int np = h5u_attr_points(ds, "categories", 1);   // read into one reference below
            if (np != 1)
                FATAL(HINT_LAYOUT, "%s: '%s' has a 'categories' attribute of %d elements (want one reference to "
                      "its categories array)", h->path, name, np);
            hid_t a = H5Aopen(ds, "categories", H5P_DEFAULT);
            hid_t at = a >= 0 ? H5Aget_type(a) : -1;
            hobj_ref_t ref;
            if (at < 0 || H5Tget_class(at) != H5T_REFERENCE || H5Tget_size(at) != sizeof ref ||
                H5Aread(a, H5T_STD_REF_OBJ, &ref) < 0 ||
                (kd = H5Rdereference2(ds, H5P_DEFAULT, H5R_OBJECT, &ref)) < 0 || H5Iget_type(kd) != H5I_DATASET)
                FATAL(HINT_LAYOUT, "%s: '%s' has a 'categories' attribute that does not lead to a categories array",
                      h->path, name);
            H5Tclose(at);
            H5Aclose(a);
            kname = joinp("obs/__categories", key);
            h5u_check_dset_storage(kd, h->path, kname);
        } else if (h5u_dtype_class(ds) == H5T_INTEGER && h5u_obj_type(h->file, uns_cats) == H5O_TYPE_DATASET) {
            kd = h5u_open_dset(h->file, uns_cats, h->path, HINT_LAYOUT);   // anndata 0.6
            kname = xstrdup(uns_cats);
        }
        if (kd >= 0) {
            *cats = read_cats(h, kd, kname, n_cats);
            codes = read_codes(h, ds, name, start, count, *n_cats);
            H5Dclose(kd);
        } else {
            H5T_class_t c = h5u_dtype_class(ds);
            size_t n = h5u_dset_len(ds, h->path, name);
            if (n != h->n_obs)
                FATAL(HINT_LAYOUT, "%s: '%s' has %zu entries but the file has %zu cells (got %zu, want %zu)", h->path,
                      name, n, h->n_obs, n, h->n_obs);
            char **all = h5u_read_strings(ds, 0, n, h->path, name);
            codes = labels_from_values(all, NULL, n, c == H5T_INTEGER || c == H5T_FLOAT, start, count, cats, n_cats);
            strv_free(all, n);
        }
        free(kname);
        free(uns_cats);
        H5Dclose(ds);
    }
    free(name);
    drop_na_cats(codes, count, *cats, n_cats);
    log_pop_context();
    return codes;
}
