// h5ad_read: opening an .h5ad / 10x .h5 matrix and reading its rows, names and obsm.
// Layouts read (see docs/io.md):
//   .h5ad  X (or raw/X, layers/<name>) as a group {data, indices, indptr} with encoding-type
//          csr_matrix / csc_matrix (or the older h5sparse_format attribute), or a 2-D dataset;
//          obs/var are dataframe groups whose "_index" attribute names the index dataset.
//   10x 3  group "matrix" {data, indices, indptr, shape=[genes, cells], barcodes,
//          features/{id,name}}: a genes x cells CSC, i.e. a cells x genes CSR.
//   10x 2  one group per genome {data, indices, indptr, shape, barcodes, genes, gene_names}.
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/log.h"
#include "io/h5ad_impl.h"
#include "io/h5util.h"

// Largest number of elements moved by one H5Dread (MPI-IO counts are int).
#define READ_CHUNK ((size_t)1 << 26)

#define HINT_LAYOUT "the file does not follow the AnnData layout; re-write it with anndata (adata.write_h5ad)"
#define HINT_SPARSE "the sparse matrix arrays are inconsistent (damaged file or a writer bug); re-write " \
                    "the file with anndata, e.g. adata.X = scipy.sparse.csr_matrix(adata.X); adata.write_h5ad(...)"

void strv_free(char **v, size_t n) {
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

const char *h5ad_path(const H5ad *h) { return h->path; }
size_t h5ad_n_obs(const H5ad *h) { return h->n_obs; }
size_t h5ad_n_vars(const H5ad *h) { return h->n_vars; }
const char *h5ad_x_dtype(const H5ad *h) { return h->dtype; }
size_t h5ad_x_nnz(const H5ad *h) { return h->nnz; }

const char *h5ad_x_encoding(const H5ad *h) {
    switch (h->kind) {
    case XK_CSR: return "csr_matrix";
    case XK_CSC: return "csc_matrix";
    case XK_DENSE: return "array";
    default: return "10x";
    }
}

static char *joinp(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = xmalloc(n);
    snprintf(s, n, "%s/%s", a, b);
    return s;
}

// Reads a long 1-D range in pieces of at most READ_CHUNK elements.
static void read_1d_chunked(hid_t ds, hid_t memtype, size_t elem, size_t start, size_t count, void *out,
                            const char *path, const char *name) {
    for (size_t done = 0; done < count;) {
        size_t c = count - done < READ_CHUNK ? count - done : READ_CHUNK;
        h5u_read_1d(ds, memtype, start + done, c, (char *)out + done * elem, path, name);
        done += c;
    }
}

// Names of the members of group name (for "did you mean" lists), comma separated, new string.
static herr_t list_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    char **acc = data;
    size_t n = strlen(*acc) + strlen(name) + 3;
    char *s = xmalloc(n);
    snprintf(s, n, "%s%s%s", *acc, **acc ? ", " : "", name);
    free(*acc);
    *acc = s;
    return 0;
}

static char *list_members(hid_t file, const char *group) {
    char *acc = xstrdup("");
    hid_t g = h5u_obj_type(file, group) == H5O_TYPE_GROUP ? H5Gopen2(file, group, H5P_DEFAULT) : -1;
    if (g >= 0) {
        hsize_t idx = 0;
        H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, list_cb, &acc);
        H5Gclose(g);
    }
    if (!*acc) {
        free(acc);
        acc = xstrdup("none");
    }
    return acc;
}

// Finds the 10x CellRanger 2 genome group (a root group with indptr and gene_names); NULL if none.
static herr_t find_v2_cb(hid_t root, const char *name, const H5L_info_t *info, void *data) {
    char **out = data;
    char *a = joinp(name, "indptr"), *b = joinp(name, "gene_names");
    int hit = h5u_exists(root, a) && h5u_exists(root, b);
    free(a);
    free(b);
    if (hit) {
        *out = xstrdup(name);
        return 1;
    }
    return 0;
}

static void open_sparse_arrays(H5ad *h, const char *base) {
    snprintf(h->data_name, sizeof h->data_name, "%s/data", base);
    snprintf(h->indices_name, sizeof h->indices_name, "%s/indices", base);
    snprintf(h->indptr_name, sizeof h->indptr_name, "%s/indptr", base);
    const char *names[3] = {h->data_name, h->indices_name, h->indptr_name};
    hid_t *ids[3] = {&h->data, &h->indices, &h->indptr};
    for (int i = 0; i < 3; i++) {
        if (h5u_obj_type(h->file, names[i]) != H5O_TYPE_DATASET)
            FATAL(HINT_SPARSE, "%s: sparse matrix '%s' has no dataset '%s' (it needs data, indices and indptr)",
                  h->path, base, names[i]);
        *ids[i] = h5u_open_dset(h->file, names[i], h->path, HINT_SPARSE);
    }
    H5T_class_t c = h5u_dtype_class(h->data);
    if (c != H5T_INTEGER && c != H5T_FLOAT && !(c == H5T_ENUM && strcmp(h5u_dtype_name(h->data), "bool") == 0))
        FATAL("expression values must be numbers (float or integer)", "%s: dataset '%s' holds %s values", h->path,
              h->data_name, h5u_dtype_name(h->data));
    if (h5u_dtype_class(h->indices) != H5T_INTEGER || h5u_dtype_class(h->indptr) != H5T_INTEGER)
        FATAL(HINT_SPARSE, "%s: '%s' and '%s' must hold integers (got %s and %s)", h->path, h->indices_name,
              h->indptr_name, h5u_dtype_name(h->indices), h5u_dtype_name(h->indptr));
    snprintf(h->dtype, sizeof h->dtype, "%s", h5u_dtype_name(h->data));
    size_t nd = h5u_dset_len(h->data, h->path, h->data_name);
    size_t ni = h5u_dset_len(h->indices, h->path, h->indices_name);
    size_t np = h5u_dset_len(h->indptr, h->path, h->indptr_name);
    if (nd != ni)
        FATAL(HINT_SPARSE, "%s: '%s' has %zu values but '%s' has %zu (got %zu, want %zu)", h->path, h->data_name, nd,
              h->indices_name, ni, ni, nd);
    size_t minor = h->kind == XK_CSC ? h->n_obs : h->n_vars;
    h->major = h->kind == XK_CSC ? h->n_vars : h->n_obs;
    if (np != h->major + 1)
        FATAL(HINT_SPARSE, "%s: '%s' has length %zu but the shape (%zu x %zu) needs %zu (got %zu, want %zu)",
              h->path, h->indptr_name, np, h->n_obs, h->n_vars, h->major + 1, np, h->major + 1);
    (void)minor;
    h->nnz = nd;
    int64_t ends[2];
    h5u_read_1d(h->indptr, H5T_NATIVE_INT64, 0, 1, &ends[0], h->path, h->indptr_name);
    h5u_read_1d(h->indptr, H5T_NATIVE_INT64, h->major, 1, &ends[1], h->path, h->indptr_name);
    if (ends[0] != 0 || ends[1] != (int64_t)nd)
        FATAL(HINT_SPARSE, "%s: '%s' must start at 0 and end at the number of stored values (got %lld ... %lld, want 0 ... %zu)",
              h->path, h->indptr_name, (long long)ends[0], (long long)ends[1], nd);
    // each rank checks that its share of indptr never decreases
    int rank = h->d ? h->d->rank : 0, size = h->d ? h->d->size : 1;
    size_t s, cnt;
    dist_block(h->major, rank, size, &s, &cnt);
    for (size_t done = 0; done < cnt;) {
        size_t k = cnt - done < READ_CHUNK ? cnt - done : READ_CHUNK;
        int64_t *ip = xmalloc((k + 1) * sizeof *ip);
        h5u_read_1d(h->indptr, H5T_NATIVE_INT64, s + done, k + 1, ip, h->path, h->indptr_name);
        for (size_t i = 0; i < k; i++)
            if (ip[i + 1] < ip[i])
                FATAL(HINT_SPARSE, "%s: '%s' decreases at %s %zu (got %lld then %lld; it must never decrease)", h->path,
                      h->indptr_name, h->kind == XK_CSC ? "column" : "row", s + done + i, (long long)ip[i],
                      (long long)ip[i + 1]);
        free(ip);
        done += k;
    }
}

static void open_10x(H5ad *h, const char *group, int v2, int use_gene_ids) {
    h->kind = XK_10X;
    h->tenx_v2 = v2;
    h->xname = xstrdup(group);
    char *shp = joinp(group, "shape");
    if (h5u_obj_type(h->file, shp) != H5O_TYPE_DATASET)
        FATAL("the 10x file is incomplete; use CellRanger's filtered_feature_bc_matrix.h5 as written",
              "%s: 10x matrix has no dataset '%s'", h->path, shp);
    hid_t ds = h5u_open_dset(h->file, shp, h->path, HINT_LAYOUT);
    int64_t sh[2] = {0, 0};
    if (h5u_dset_len(ds, h->path, shp) != 2)
        FATAL("the 10x file is damaged; use CellRanger's .h5 as written", "%s: '%s' must hold 2 numbers", h->path, shp);
    h5u_read_1d(ds, H5T_NATIVE_INT64, 0, 2, sh, h->path, shp);
    H5Dclose(ds);
    free(shp);
    if (sh[0] < 0 || sh[1] < 0)
        FATAL("the 10x file is damaged", "%s: 10x shape is negative (got %lld x %lld)", h->path, (long long)sh[0],
              (long long)sh[1]);
    h->n_vars = (size_t)sh[0];   // stored genes x cells
    h->n_obs = (size_t)sh[1];
    open_sparse_arrays(h, group);
    const char *vn = v2 ? (use_gene_ids ? "genes" : "gene_names") : (use_gene_ids ? "features/id" : "features/name");
    h->var_names_ds = joinp(group, vn);
    h->obs_names_ds = joinp(group, "barcodes");
    h->unique_vars = !use_gene_ids;
}

// Reads X's shape attribute ("shape", or "h5sparse_shape" in old files).
static void sparse_shape(H5ad *h, hid_t g) {
    int64_t sh[4];
    int n = h5u_attr_i64(g, "shape", sh, 4);
    if (n == -1) n = h5u_attr_i64(g, "h5sparse_shape", sh, 4);
    if (n == -1)
        FATAL(HINT_LAYOUT, "%s: sparse matrix '%s' has no 'shape' attribute (want [n_obs, n_vars])", h->path, h->xname);
    if (n == -2)
        FATAL(HINT_LAYOUT, "%s: sparse matrix '%s' has a 'shape' attribute of floats that are not whole numbers "
              "(NaN, infinite, fractional or beyond 2^63; want [n_obs, n_vars])", h->path, h->xname);
    if (n != 2 || sh[0] < 0 || sh[1] < 0)
        FATAL(HINT_LAYOUT, "%s: sparse matrix '%s' has an invalid 'shape' attribute (got %d numbers, want 2 non-negative)",
              h->path, h->xname, n);
    h->n_obs = (size_t)sh[0];
    h->n_vars = (size_t)sh[1];
}

static void open_anndata(H5ad *h, const char *layer) {
    const char *var_group = "var";
    if (!layer) h->xname = xstrdup("X");
    else if (strcmp(layer, "raw") == 0) {
        h->xname = xstrdup("raw/X");
        var_group = "raw/var";
        if (!h5u_exists(h->file, "raw/X"))
            FATAL("this file has no raw layer: leave out the raw layer option, or pick a layer that exists",
                  "%s: layer 'raw' asked for, but there is no 'raw/X' (layers: %s)", h->path,
                  list_members(h->file, "layers"));
    } else {
        h->xname = joinp("layers", layer);
        if (!h5u_exists(h->file, h->xname))
            FATAL("pick one of the layers listed (or leave the layer option out to use X)",
                  "%s: layer '%s' not found: there is no '%s' (layers: %s%s)", h->path, layer, h->xname,
                  list_members(h->file, "layers"), h5u_exists(h->file, "raw/X") ? ", and 'raw'" : "");
    }
    H5O_type_t t = h5u_obj_type(h->file, h->xname);
    if (t == H5O_TYPE_UNKNOWN) {
        char *top = list_members(h->file, "/");
        FATAL("the file has no expression matrix X: re-write it with anndata, or pick a layer that exists",
              "%s: no '%s' in the file (top-level entries: %s)", h->path, h->xname, top);
    }
    if (t == H5O_TYPE_DATASET) {
        h->kind = XK_DENSE;
        h->x = h5u_open_dset(h->file, h->xname, h->path, HINT_LAYOUT);
        hsize_t dims[8];
        int r = h5u_dset_dims(h->x, dims, h->path, h->xname);
        if (r != 2)
            FATAL(HINT_LAYOUT, "%s: dense matrix '%s' has %d dimensions (want 2: cells x genes)", h->path, h->xname, r);
        H5T_class_t c = h5u_dtype_class(h->x);
        if (c != H5T_INTEGER && c != H5T_FLOAT)
            FATAL("expression values must be numbers (float or integer)", "%s: dataset '%s' holds %s values",
                  h->path, h->xname, h5u_dtype_name(h->x));
        h->n_obs = dims[0];
        h->n_vars = dims[1];
        h->nnz = h->n_obs * h->n_vars;
        snprintf(h->dtype, sizeof h->dtype, "%s", h5u_dtype_name(h->x));
    } else {
        h->x = h5u_open_group(h->file, h->xname, h->path, HINT_LAYOUT);
        char *enc = h5u_attr_string(h->x, "encoding-type");
        char *old = enc ? NULL : h5u_attr_string(h->x, "h5sparse_format");
        if (enc && strcmp(enc, "csr_matrix") == 0) h->kind = XK_CSR;
        else if (enc && strcmp(enc, "csc_matrix") == 0) h->kind = XK_CSC;
        else if (old && strcmp(old, "csr") == 0) h->kind = XK_CSR;
        else if (old && strcmp(old, "csc") == 0) h->kind = XK_CSC;
        else
            FATAL("kida reads X stored as csr_matrix, csc_matrix or a dense array; convert with scipy.sparse.csr_matrix "
                  "and re-write with anndata",
                  "%s: '%s' is a group with encoding-type '%s' (want csr_matrix or csc_matrix)", h->path, h->xname,
                  enc ? enc : old ? old : "(none)");
        free(enc);
        free(old);
        sparse_shape(h, h->x);
        open_sparse_arrays(h, h->xname);
    }
    // names: var/obs dataframes keep the index dataset's name in the "_index" attribute
    h->var_group = xstrdup(var_group);
    if (h5u_obj_type(h->file, var_group) == H5O_TYPE_GROUP) {
        hid_t g = h5u_open_group(h->file, var_group, h->path, HINT_LAYOUT);
        char *ix = h5u_attr_string(g, "_index");
        H5Gclose(g);
        h->var_names_ds = joinp(var_group, ix ? ix : "_index");
        free(ix);
    } else if (h5u_obj_type(h->file, var_group) == H5O_TYPE_DATASET)
        FATAL("this file uses the anndata < 0.7 layout (var as a table); open and re-save it with a recent anndata",
              "%s: '%s' is a dataset, not a dataframe group", h->path, var_group);
    if (h5u_obj_type(h->file, "obs") == H5O_TYPE_GROUP) {
        hid_t g = h5u_open_group(h->file, "obs", h->path, HINT_LAYOUT);
        char *ix = h5u_attr_string(g, "_index");
        H5Gclose(g);
        h->obs_index = xstrdup(ix ? ix : "_index");
        h->obs_names_ds = joinp("obs", h->obs_index);
        free(ix);
    } else if (h5u_obj_type(h->file, "obs") == H5O_TYPE_DATASET)
        FATAL("this file uses the anndata < 0.7 layout (obs as a table); open and re-save it with a recent anndata",
              "%s: 'obs' is a dataset, not a dataframe group", h->path);
}

// Checks that a names dataset (if present) has the length the matrix needs.
static void check_names_len(H5ad *h, const char *ds_name, size_t want, const char *what, int required) {
    if (!ds_name) return;
    if (h5u_obj_type(h->file, ds_name) != H5O_TYPE_DATASET) {
        if (required)
            FATAL(HINT_LAYOUT, "%s: no %s names: dataset '%s' is missing", h->path, what, ds_name);
        return;
    }
    hid_t ds = h5u_open_dset(h->file, ds_name, h->path, HINT_LAYOUT);
    size_t n = h5u_dset_len(ds, h->path, ds_name);
    H5Dclose(ds);
    if (n != want)
        FATAL("obs/var tables must have one row per matrix row/column; re-write the file with anndata",
              "%s: '%s' has %zu %s names but the matrix '%s' has %zu (got %zu, want %zu)", h->path, ds_name, n, what,
              h->xname, want, n, want);
}

// Rows of CSC and columns of CSR have no stored array with one entry each, unless obs/var names
// exist (their length is checked with the names). Without names such a dimension may not exceed
// the file's size in bytes: a tiny file must not make readers allocate 2^31 rows.
static void check_unbacked_dims(H5ad *h) {
    hsize_t fsize = 0;
    H5Fget_filesize(h->file, &fsize);
    int obs_named = h->obs_names_ds && h5u_obj_type(h->file, h->obs_names_ds) == H5O_TYPE_DATASET;
    int var_named = h->var_names_ds && h5u_obj_type(h->file, h->var_names_ds) == H5O_TYPE_DATASET;
    size_t dims[2] = {h->n_obs, h->n_vars};
    int unbacked[2] = {h->kind == XK_CSC && !obs_named, h->kind == XK_CSR && !var_named};
    for (int i = 0; i < 2; i++)
        if (unbacked[i] && dims[i] > (size_t)fsize)
            FATAL(HINT_LAYOUT, "%s: '%s' declares %zu %s but the file (%llu bytes) stores no %s names for them "
                  "(want an %s index, or a shape that the file's size can hold)", h->path, h->xname, dims[i],
                  i ? "columns" : "rows", (unsigned long long)fsize, i ? "var" : "obs", i ? "var" : "obs");
}

H5ad *h5ad_open(const char *path, const char *layer, int use_gene_ids, const Dist *d) {
    if (layer && (!*layer || !strcmp(layer, "X"))) layer = NULL;
    H5ad *h = xcalloc(1, sizeof *h);
    h->path = xstrdup(path);
    h->d = d;
    h->x = h->data = h->indices = h->indptr = -1;
    log_push_context("%s: opening the expression matrix", path);
    h->file = h5u_open_read(path, d);
    int has_x = h5u_exists(h->file, "X");
    char *v2 = NULL;
    if (!has_x && h5u_obj_type(h->file, "matrix") == H5O_TYPE_GROUP && h5u_exists(h->file, "matrix/indptr")) {
        if (layer) FATAL("10x .h5 files hold one matrix: leave out the layer option", "%s: layer '%s' asked for a 10x file", path, layer);
        open_10x(h, "matrix", 0, use_gene_ids);
    } else if (!has_x && !h5u_exists(h->file, "obs") &&
               (H5Literate(h->file, H5_INDEX_NAME, H5_ITER_INC, NULL, find_v2_cb, &v2), v2)) {
        if (layer) FATAL("10x .h5 files hold one matrix: leave out the layer option", "%s: layer '%s' asked for a 10x file", path, layer);
        open_10x(h, v2, 1, use_gene_ids);
        free(v2);
    } else {
        open_anndata(h, layer);
    }
    check_names_len(h, h->var_names_ds, h->n_vars, "var", h->kind == XK_10X);
    check_names_len(h, h->obs_names_ds, h->n_obs, "obs", h->kind == XK_10X);
    check_unbacked_dims(h);
    if (h->n_vars > INT32_MAX)
        FATAL("kida supports up to 2^31-1 genes/features", "%s: matrix has %zu columns", path, h->n_vars);
    log_pop_context();
    return h;
}

void h5ad_close(H5ad *h) {
    if (!h) return;
    hid_t ids[4] = {h->data, h->indices, h->indptr, h->x};
    for (int i = 0; i < 4; i++) h5u_close(ids[i], h->path);
    h5u_close(h->file, h->path);
    free(h->path);
    free(h->xname);
    free(h->var_names_ds);
    free(h->var_group);
    free(h->obs_names_ds);
    free(h->obs_index);
    free(h);
}

// ---- names ---------------------------------------------------------------------------------

typedef struct {
    char **keys;
    size_t cap;
} StrSet;

static uint64_t str_hash(const char *s) {
    uint64_t x = 1469598103934665603ull;
    for (; *s; s++) x = (x ^ (unsigned char)*s) * 1099511628211ull;
    return x;
}

// Inserts s (not copied) unless present; returns 1 if inserted.
static int set_add(StrSet *t, char *s) {
    for (size_t i = str_hash(s) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (!t->keys[i]) {
            t->keys[i] = s;
            return 1;
        }
        if (strcmp(t->keys[i], s) == 0) return 0;
    }
}

static int set_has(const StrSet *t, const char *s) {
    for (size_t i = str_hash(s) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (!t->keys[i]) return 0;
        if (strcmp(t->keys[i], s) == 0) return 1;
    }
}

void h5ad_make_unique(char **names, size_t n) {
    // anndata's rule: the k-th repeat of v becomes v-<c> for the next counter c of v whose name
    // is not taken (by an original name or one made before)
    size_t cap = 16;
    while (cap < 4 * (n + 1)) cap *= 2;   // originals + made names stay under half full
    StrSet all = {xcalloc(cap, sizeof(char *)), cap};
    uint8_t *dup = xcalloc(n ? n : 1, 1);
    size_t n_dup = 0;
    for (size_t i = 0; i < n; i++)
        if (!set_add(&all, names[i])) dup[i] = 1, n_dup++;
    if (n_dup) {
        StrSet base = {xcalloc(cap, sizeof(char *)), cap};   // base name -> slot of its counter
        size_t *cnt = xcalloc(cap, sizeof(size_t));
        char **old = xmalloc(n_dup * sizeof(char *));
        size_t n_old = 0;
        for (size_t i = 0; i < n; i++) {
            if (!dup[i]) continue;
            char *v = names[i];
            size_t slot = str_hash(v) & (cap - 1);
            while (base.keys[slot] && strcmp(base.keys[slot], v) != 0) slot = (slot + 1) & (cap - 1);
            if (!base.keys[slot]) base.keys[slot] = v;
            size_t len = strlen(v) + 24;
            char *cand = xmalloc(len);
            do snprintf(cand, len, "%s-%zu", v, ++cnt[slot]);
            while (set_has(&all, cand));
            set_add(&all, cand);
            old[n_old++] = v;
            names[i] = cand;
        }
        for (size_t i = 0; i < n_old; i++) free(old[i]);   // after the tables stop pointing at them
        free(old);
        free(cnt);
        free(base.keys);
    }
    free(all.keys);
    free(dup);
}

char **h5ad_var_names(H5ad *h) {
    if (!h->var_names_ds || h5u_obj_type(h->file, h->var_names_ds) != H5O_TYPE_DATASET) {
        // anndata without a var index: names are "0", "1", ...
        char **v = xcalloc(h->n_vars ? h->n_vars : 1, sizeof(char *));
        for (size_t i = 0; i < h->n_vars; i++) {
            char b[32];
            snprintf(b, sizeof b, "%zu", i);
            v[i] = xstrdup(b);
        }
        return v;
    }
    log_push_context("%s: reading %zu var names from '%s'", h->path, h->n_vars, h->var_names_ds);
    hid_t ds = h5u_open_dset(h->file, h->var_names_ds, h->path, HINT_LAYOUT);
    char **v = h5u_read_strings(ds, 0, h->n_vars, h->path, h->var_names_ds);
    H5Dclose(ds);
    if (h->unique_vars) h5ad_make_unique(v, h->n_vars);
    log_pop_context();
    return v;
}

char **h5ad_var_keys(H5ad *h, size_t *n) {
    *n = 0;
    if (!h->var_group) return NULL;
    char **v = h5u_group_names(h->file, h->var_group, n);
    size_t w = 0;   // drop the index dataset
    for (size_t i = 0; i < *n; i++) {
        char *full = joinp(h->var_group, v[i]);
        if (h->var_names_ds && !strcmp(full, h->var_names_ds)) free(v[i]);
        else v[w++] = v[i];
        free(full);
    }
    *n = w;
    return v;
}

// Categories of a categorical var column, expanded by its codes (code -1: the index name).
static char **var_categorical(H5ad *h, const char *name, size_t *n_missing) {
    char *cn = joinp(name, "codes"), *kn = joinp(name, "categories");
    if (h5u_obj_type(h->file, cn) != H5O_TYPE_DATASET || h5u_obj_type(h->file, kn) != H5O_TYPE_DATASET)
        FATAL(HINT_LAYOUT, "%s: categorical '%s' needs datasets 'codes' and 'categories'", h->path, name);
    hid_t cd = h5u_open_dset(h->file, cn, h->path, HINT_LAYOUT), kd = h5u_open_dset(h->file, kn, h->path, HINT_LAYOUT);
    size_t nk = h5u_dset_len(kd, h->path, kn);
    if (h5u_dtype_class(cd) != H5T_INTEGER || h5u_dset_len(cd, h->path, cn) != h->n_vars)
        FATAL(HINT_LAYOUT, "%s: '%s' must hold one integer code per gene (%zu)", h->path, cn, h->n_vars);
    char **cats = h5u_read_strings(kd, 0, nk, h->path, kn);
    int32_t *code = xmalloc((h->n_vars ? h->n_vars : 1) * sizeof *code);
    h5u_read_1d(cd, H5T_NATIVE_INT32, 0, h->n_vars, code, h->path, cn);
    H5Dclose(cd);
    H5Dclose(kd);
    char **index = NULL, **v = xcalloc(h->n_vars ? h->n_vars : 1, sizeof(char *));
    for (size_t j = 0; j < h->n_vars; j++) {
        if (code[j] >= (int32_t)nk || code[j] < -1)
            FATAL(HINT_LAYOUT, "%s: '%s' has code %d at gene %zu, outside [-1, %zu)", h->path, cn, code[j], j, nk);
        if (code[j] >= 0) {
            v[j] = xstrdup(cats[code[j]]);
            continue;
        }
        if (!index) index = h5ad_var_names(h);
        v[j] = xstrdup(index[j]);
        (*n_missing)++;
    }
    strv_free(index, h->n_vars);
    strv_free(cats, nk);
    free(code);
    free(cn);
    free(kn);
    return v;
}

char **h5ad_var_column(H5ad *h, const char *key, size_t *n_missing) {
    *n_missing = 0;
    if (!h->var_group) return NULL;
    char *name = joinp(h->var_group, key);
    H5O_type_t t = h5u_obj_type(h->file, name);
    char **v = NULL;
    if (t == H5O_TYPE_GROUP) {
        hid_t g = h5u_open_group(h->file, name, h->path, HINT_LAYOUT);
        char *enc = h5u_attr_string(g, "encoding-type");
        H5Gclose(g);
        if (!enc || strcmp(enc, "categorical"))
            FATAL("give a var column of gene names (strings or a categorical of strings)",
                  "%s: '%s' has encoding-type '%s', not names", h->path, name, enc ? enc : "(none)");
        free(enc);
        v = var_categorical(h, name, n_missing);
    } else if (t == H5O_TYPE_DATASET) {
        hid_t ds = h5u_open_dset(h->file, name, h->path, HINT_LAYOUT);
        if (h5u_dtype_class(ds) != H5T_STRING)
            FATAL("give a var column of gene names (strings or a categorical of strings)", "%s: '%s' holds %s values, not names",
                  h->path, name, h5u_dtype_name(ds));
        if (h5u_dset_len(ds, h->path, name) != h->n_vars)
            FATAL(HINT_LAYOUT, "%s: '%s' has %zu entries but the matrix has %zu genes", h->path, name,
                  h5u_dset_len(ds, h->path, name), h->n_vars);
        v = h5u_read_strings(ds, 0, h->n_vars, h->path, name);
        H5Dclose(ds);
    }
    free(name);
    if (v) h5ad_make_unique(v, h->n_vars);
    return v;
}

char **h5ad_obs_names(H5ad *h, size_t start, size_t count) {
    if (start + count > h->n_obs || start + count < start)
        FATAL("a bug in kida: rows asked past the end", "%s: obs names [%zu, %zu) asked, file has %zu", h->path, start,
              start + count, h->n_obs);
    if (!h->obs_names_ds || h5u_obj_type(h->file, h->obs_names_ds) != H5O_TYPE_DATASET) {
        char **v = xcalloc(count ? count : 1, sizeof(char *));
        for (size_t i = 0; i < count; i++) {
            char b[32];
            snprintf(b, sizeof b, "%zu", start + i);
            v[i] = xstrdup(b);
        }
        return v;
    }
    log_push_context("%s: reading obs names [%zu, %zu) from '%s'", h->path, start, start + count, h->obs_names_ds);
    hid_t ds = h5u_open_dset(h->file, h->obs_names_ds, h->path, HINT_LAYOUT);
    char **v = h5u_read_strings(ds, start, count, h->path, h->obs_names_ds);
    H5Dclose(ds);
    log_pop_context();
    return v;
}

// ---- rows ----------------------------------------------------------------------------------

#define HINT_FINITE "kida needs finite expression values: remove or repair the cells with NaN/Inf " \
                    "(they often come from dividing by a zero total)"

static const char *nonfinite(float v) { return isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf"; }

// Sorts each row's (column, value) pairs by column and sums duplicates, in place.
static void csr_canonical(Csr *m) {
    int64_t w = 0;
    for (size_t r = 0; r < m->n_rows; r++) {
        int64_t a = m->indptr[r], b = m->indptr[r + 1];
        int sorted = 1;
        for (int64_t k = a + 1; k < b; k++)
            if (m->indices[k] <= m->indices[k - 1]) {
                sorted = 0;
                break;
            }
        if (!sorted) {   // insertion sort: rows are short and usually nearly sorted
            for (int64_t k = a + 1; k < b; k++) {
                int32_t c = m->indices[k];
                float v = m->data[k];
                int64_t j = k - 1;
                while (j >= a && m->indices[j] > c) {
                    m->indices[j + 1] = m->indices[j];
                    m->data[j + 1] = m->data[j];
                    j--;
                }
                m->indices[j + 1] = c;
                m->data[j + 1] = v;
            }
        }
        m->indptr[r] = w;
        for (int64_t k = a; k < b; k++) {
            if (w > m->indptr[r] && m->indices[w - 1] == m->indices[k]) m->data[w - 1] += m->data[k];
            else {
                m->indices[w] = m->indices[k];
                m->data[w] = m->data[k];
                w++;
            }
        }
    }
    m->indptr[m->n_rows] = w;
}

static Csr read_rows_csr(H5ad *h, size_t start, size_t count) {
    int64_t *ip = xmalloc((count + 1) * sizeof *ip);
    h5u_read_1d(h->indptr, H5T_NATIVE_INT64, start, count + 1, ip, h->path, h->indptr_name);
    for (size_t i = 0; i < count; i++)
        if (ip[i + 1] < ip[i] || ip[i] < 0 || ip[i + 1] > (int64_t)h->nnz)
            FATAL(HINT_SPARSE, "%s: '%s' is invalid at row %zu (got %lld then %lld, want non-decreasing within [0, %zu])",
                  h->path, h->indptr_name, start + i, (long long)ip[i], (long long)ip[i + 1], h->nnz);
    size_t lo = count ? (size_t)ip[0] : 0, n = count ? (size_t)(ip[count] - ip[0]) : 0;
    Csr m = csr_alloc(count, h->n_vars, n);
    m.row_start = start;
    for (size_t i = 0; i <= count; i++) m.indptr[i] = ip[i] - (int64_t)lo;
    free(ip);
    read_1d_chunked(h->data, H5T_NATIVE_FLOAT, sizeof(float), lo, n, m.data, h->path, h->data_name);
    // indices go through a bounded int64 buffer so that any stored integer type is range-checked
    size_t chunk = n < READ_CHUNK / 4 ? n : READ_CHUNK / 4, r = 0;
    int64_t *ix = xmalloc((chunk ? chunk : 1) * sizeof *ix);
    for (size_t k0 = 0; k0 < n; k0 += chunk) {
        size_t c = n - k0 < chunk ? n - k0 : chunk;
        h5u_read_1d(h->indices, H5T_NATIVE_INT64, lo + k0, c, ix, h->path, h->indices_name);
        for (size_t i = 0; i < c; i++) {
            size_t k = k0 + i;
            while ((int64_t)k >= m.indptr[r + 1]) r++;
            if (ix[i] < 0 || ix[i] >= (int64_t)h->n_vars)
                FATAL(HINT_SPARSE, "%s: '%s' has column index %lld at row %zu, outside [0, %zu)", h->path,
                      h->indices_name, (long long)ix[i], start + r, h->n_vars);
            if (!isfinite(m.data[k]))
                FATAL(HINT_FINITE, "%s: '%s' has a non-finite value (%s) at row %zu, column %lld", h->path,
                      h->data_name, nonfinite(m.data[k]), start + r, (long long)ix[i]);
            m.indices[k] = (int32_t)ix[i];
        }
    }
    free(ix);
    csr_canonical(&m);
    return m;
}

// Growable triplet list (row, col, value) used by the CSC and dense readers.
typedef struct {
    int64_t *row;
    int32_t *col;
    float *val;
    size_t n, cap;
} Trip;

static void trip_push(Trip *t, int64_t r, int32_t c, float v) {
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 4096;
        t->row = xrealloc(t->row, t->cap * sizeof *t->row);
        t->col = xrealloc(t->col, t->cap * sizeof *t->col);
        t->val = xrealloc(t->val, t->cap * sizeof *t->val);
    }
    t->row[t->n] = r;
    t->col[t->n] = c;
    t->val[t->n] = v;
    t->n++;
}

// Counting sort of triplets (rows relative to start) into a CSR; stable, so columns pushed in
// ascending order stay ascending.
static Csr trip_to_csr(Trip *t, size_t start, size_t count, size_t n_cols) {
    Csr m = csr_alloc(count, n_cols, t->n);
    m.row_start = start;
    for (size_t k = 0; k < t->n; k++) m.indptr[t->row[k] + 1]++;
    for (size_t r = 0; r < count; r++) m.indptr[r + 1] += m.indptr[r];
    int64_t *pos = xmalloc((count + 1) * sizeof *pos);
    memcpy(pos, m.indptr, (count + 1) * sizeof *pos);
    for (size_t k = 0; k < t->n; k++) {
        int64_t p = pos[t->row[k]]++;
        m.indices[p] = t->col[k];
        m.data[p] = t->val[k];
    }
    free(pos);
    free(t->row);
    free(t->col);
    free(t->val);
    memset(t, 0, sizeof *t);
    return m;
}

static Csr read_rows_csc(H5ad *h, size_t start, size_t count) {
    size_t nc = h->n_vars;
    int64_t *ip = xmalloc((nc + 1) * sizeof *ip);
    read_1d_chunked(h->indptr, H5T_NATIVE_INT64, sizeof *ip, 0, nc + 1, ip, h->path, h->indptr_name);
    for (size_t j = 0; j < nc; j++)
        if (ip[j + 1] < ip[j])
            FATAL(HINT_SPARSE, "%s: '%s' decreases at column %zu (got %lld then %lld)", h->path, h->indptr_name, j,
                  (long long)ip[j], (long long)ip[j + 1]);
    Trip t = {0};
    size_t chunk = READ_CHUNK / 4;
    int64_t *ix = xmalloc((chunk ? chunk : 1) * sizeof *ix);
    float *v = xmalloc((chunk ? chunk : 1) * sizeof *v);
    size_t col = 0;
    for (size_t k0 = 0; k0 < h->nnz; k0 += chunk) {
        size_t n = h->nnz - k0 < chunk ? h->nnz - k0 : chunk;
        h5u_read_1d(h->indices, H5T_NATIVE_INT64, k0, n, ix, h->path, h->indices_name);
        h5u_read_1d(h->data, H5T_NATIVE_FLOAT, k0, n, v, h->path, h->data_name);
        for (size_t k = 0; k < n; k++) {
            while (col < nc && (int64_t)(k0 + k) >= ip[col + 1]) col++;
            int64_t r = ix[k];
            if (r < 0 || r >= (int64_t)h->n_obs)
                FATAL(HINT_SPARSE, "%s: '%s' has row index %lld in column %zu, outside [0, %zu)", h->path,
                      h->indices_name, (long long)r, col, h->n_obs);
            if (r < (int64_t)start || r >= (int64_t)(start + count)) continue;
            if (!isfinite(v[k]))
                FATAL(HINT_FINITE, "%s: '%s' has a non-finite value (%s) at row %lld, column %zu", h->path, h->data_name,
                      nonfinite(v[k]), (long long)r, col);
            trip_push(&t, r - (int64_t)start, (int32_t)col, v[k]);
        }
    }
    free(ix);
    free(v);
    free(ip);
    Csr m = trip_to_csr(&t, start, count, nc);
    csr_canonical(&m);
    return m;
}

static Csr read_rows_dense(H5ad *h, size_t start, size_t count) {
    size_t nc = h->n_vars;
    size_t rows_per = nc ? ((size_t)1 << 24) / nc : count;
    if (rows_per < 1) rows_per = 1;
    Trip t = {0};
    float *buf = xmalloc((rows_per * nc > 0 ? rows_per * nc : 1) * sizeof(float));
    for (size_t r0 = 0; r0 < count; r0 += rows_per) {
        size_t nr = count - r0 < rows_per ? count - r0 : rows_per;
        h5u_read_rows_2d(h->x, H5T_NATIVE_FLOAT, start + r0, nr, buf, h->path, h->xname);
        for (size_t i = 0; i < nr; i++)
            for (size_t j = 0; j < nc; j++) {
                float x = buf[i * nc + j];
                if (!isfinite(x))
                    FATAL(HINT_FINITE, "%s: '%s' has a non-finite value (%s) at row %zu, column %zu", h->path, h->xname,
                          nonfinite(x), start + r0 + i, j);
                if (x != 0.0f) trip_push(&t, (int64_t)(r0 + i), (int32_t)j, x);
            }
    }
    free(buf);
    return trip_to_csr(&t, start, count, nc);
}

Csr h5ad_read_rows(H5ad *h, size_t start, size_t count) {
    if (start + count > h->n_obs || start + count < start)
        FATAL("a bug in kida: rows asked past the end", "%s: rows [%zu, %zu) asked, matrix has %zu", h->path, start,
              start + count, h->n_obs);
    log_push_context("%s: reading rows [%zu, %zu) of '%s' (%zu x %zu, %s)", h->path, start, start + count, h->xname,
                     h->n_obs, h->n_vars, h5ad_x_encoding(h));
    Csr m = h->kind == XK_CSC ? read_rows_csc(h, start, count)
            : h->kind == XK_DENSE ? read_rows_dense(h, start, count) : read_rows_csr(h, start, count);
    log_pop_context();
    return m;
}

void h5ad_require_counts(const H5ad *h, const Csr *rows) {
    size_t nnz = csr_nnz(rows);
    size_t r = 0;
    for (size_t k = 0; k < nnz; k++) {
        float v = rows->data[k];
        if (isfinite(v) && v >= 0.0f) continue;
        while ((int64_t)k >= rows->indptr[r + 1]) r++;
        FATAL("kida needs raw counts (non-negative): give the count matrix (e.g. the layer or raw that holds "
              "counts), not log-normalised or scaled data",
              "%s: '%s' has value %g at row %zu, column %d (want finite and >= 0)", h->path,
              h->kind == XK_DENSE ? h->xname : h->data_name, (double)v, rows->row_start + r, rows->indices[k]);
    }
}

// ---- obsm ----------------------------------------------------------------------------------

float *h5ad_obsm(H5ad *h, const char *key, size_t start, size_t count, size_t *cols) {
    *cols = 0;
    if (h->kind == XK_10X) return NULL;
    char *name = joinp("obsm", key);
    H5O_type_t t = h5u_obj_type(h->file, name);
    if (t == H5O_TYPE_UNKNOWN) {
        free(name);
        return NULL;
    }
    if (t != H5O_TYPE_DATASET)
        FATAL("kida reads obsm entries stored as dense arrays; convert with np.asarray(...) and re-save",
              "%s: '%s' is not a dense array", h->path, name);
    hid_t ds = h5u_open_dset(h->file, name, h->path, HINT_LAYOUT);
    hsize_t dims[8];
    int r = h5u_dset_dims(ds, dims, h->path, name);
    if (r < 1 || r > 2 || dims[0] != h->n_obs)
        FATAL(HINT_LAYOUT, "%s: '%s' has shape with %d dims and %llu rows (want n_obs = %zu rows)", h->path, name, r,
              r >= 1 ? (unsigned long long)dims[0] : 0ull, h->n_obs);
    if (start + count > h->n_obs)
        FATAL("a bug in kida: rows asked past the end", "%s: obsm rows [%zu, %zu) asked, file has %zu", h->path, start,
              start + count, h->n_obs);
    *cols = r == 2 ? dims[1] : 1;
    float *out = xmalloc_for(szmul(szmul(count, *cols), sizeof(float)), "%s: rows [%zu, %zu) of '%s' (%zu columns)", h->path,
                             start, start + count, name, *cols);
    if (r == 2) h5u_read_rows_2d(ds, H5T_NATIVE_FLOAT, start, count, out, h->path, name);
    else h5u_read_1d(ds, H5T_NATIVE_FLOAT, start, count, out, h->path, name);
    H5Dclose(ds);
    free(name);
    return out;
}

char **h5ad_obsm_keys(H5ad *h, size_t *n) { return h5u_group_names(h->file, "obsm", n); }

char **h5ad_layers(H5ad *h, size_t *n) {
    *n = 0;
    return h->kind == XK_10X ? NULL : h5u_group_names(h->file, "layers", n);
}

int h5ad_has_raw(H5ad *h) { return h->kind != XK_10X && h5u_exists(h->file, "raw/X"); }
