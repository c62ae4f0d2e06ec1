// h5ad_write: writing .h5ad files that anndata/scanpy open unchanged. Elements carry the
// encoding-type / encoding-version attributes anndata (>= 0.8) writes:
//   root anndata 0.1.0, X csr_matrix 0.1.0 {data f32, indices + indptr i32 (i64 past 2^31 values),
//   shape attr} or
//   array 0.2.0, obs/var dataframe 0.2.0 (_index attr, column-order attr, index string-array),
//   categorical 0.2.0 {codes int8/16/32, categories string-array, ordered attr},
//   obsm/varm/obsp/varp/layers/uns dict 0.1.0, numeric arrays array 0.2.0, strings
//   string-array 0.2.0, scalars numeric-scalar / string 0.2.0.
// The layout is made by rank 0, the per-cell arrays are written by every rank at commit
// (h5ad_wimpl.h); the file is a temporary next to the output until commit renames it into place.
#include <string.h>

#include "core/atomic.h"
#include "core/log.h"
#include "io/h5ad_wimpl.h"
#include "io/h5util.h"

void h5w_set_enc(hid_t obj, const char *type, const char *version, const char *path) {
    h5u_set_attr_string(obj, "encoding-type", type, path);
    h5u_set_attr_string(obj, "encoding-version", version, path);
}

_Noreturn void h5w_fail(H5adWriter *w, const char *what, const char *name) {
    char m[256];
    h5u_errmsg(m, sizeof m);
    FATAL("check free space and permissions in the output directory; the output file was not changed",
          "%s (temporary %s): %s '%s' failed: %s", w->path, w->tmp, what, name, m);
}

hid_t h5w_group(H5adWriter *w, const char *name) {
    if (h5u_obj_type(w->file, name) == H5O_TYPE_GROUP) {
        hid_t g = H5Gopen2(w->file, name, H5P_DEFAULT);
        if (g < 0) h5w_fail(w, "opening group", name);
        return g;
    }
    if (h5u_exists(w->file, name)) {
        if (strcmp(name, "obs") == 0 || strcmp(name, "var") == 0)
            FATAL("the input uses the anndata < 0.7 layout (obs/var as tables); open and re-save it with a recent "
                  "anndata first",
                  "%s: '%s' copied from the input is not a dataframe group, so columns cannot be added", w->path, name);
        if (H5Ldelete(w->file, name, H5P_DEFAULT) < 0) h5w_fail(w, "replacing", name);
    }
    hid_t g = H5Gcreate2(w->file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) h5w_fail(w, "creating group", name);
    if (strcmp(name, "obs") == 0 || strcmp(name, "var") == 0) {
        h5w_set_enc(g, "dataframe", "0.2.0", w->tmp);
        h5u_set_attr_string(g, "_index", "_index", w->tmp);
        h5u_set_attr_strings(g, "column-order", NULL, 0, w->tmp);
    } else h5w_set_enc(g, "dict", "0.1.0", w->tmp);
    return g;
}

void h5w_check_len(H5adWriter *w, int is_obs, size_t n, const char *what) {
    size_t *have = is_obs ? &w->n_obs : &w->n_vars;
    int *known = is_obs ? &w->known_obs : &w->known_vars;
    if (*known && *have != n)
        FATAL(HINT_BUG, "%s: %s has %zu %s but the file already has %zu (got %zu, want %zu)", w->path, what, n,
              is_obs ? "cells" : "genes", *have, n, *have);
    *have = n;
    *known = 1;
}

void h5w_check_rows(H5adWriter *w, size_t n, const char *what) {
    if (!w->d) {   // one process: its rows are all rows
        h5w_check_len(w, 1, n, what);
        w->row0 = 0;
        w->n_rows = n;
    } else if (n != w->n_rows)
        FATAL(HINT_BUG, "%s: %s has %zu rows on rank %d, whose block has %zu (got %zu, want %zu)", w->path, what, n,
              w->d->rank, w->n_rows, n, w->n_rows);
}

static H5adWriter *writer_new(const char *path, int overwrite, const Dist *d) {
    h5u_init();
    H5adWriter *w = xcalloc(1, sizeof *w);
    w->d = d;
    w->meta = !d || d->rank == 0;
    w->file = -1;
    w->path = xstrdup(path);
    w->overwrite = overwrite;
    w->t_start = wall_time();
    if (w->meta) {
        if (path_exists(path) && !overwrite)
            FATAL("pass --overwrite to replace it, or choose another output path",
                  "output %s already exists (it was not changed)", path);
        w->tmp = atomic_tmp_path(path);
        w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        if (w->file < 0) {
            char m[256];
            FATAL("check that the output directory exists and is writable", "cannot create %s (temporary for %s): %s",
                  w->tmp, path, h5u_errmsg(m, sizeof m));
        }
        hid_t root = H5Gopen2(w->file, "/", H5P_DEFAULT);
        h5w_set_enc(root, "anndata", "0.1.0", w->tmp);
        H5Gclose(root);
    }
    if (d && d->size > 1) {   // the temporary's name (rank 0's pid) to every rank
        int64_t len = w->meta ? (int64_t)strlen(w->tmp) + 1 : 0;
        dist_bcast(d, &len, sizeof len, 0);
        if (!w->meta) w->tmp = xmalloc((size_t)len);
        dist_bcast(d, w->tmp, (size_t)len, 0);
    }
    atomic_tmp_guard(w->tmp);
    return w;
}

static void ensure_all_groups(H5adWriter *w) {
    if (!w->meta) return;
    static const char *groups[] = {"obs", "var", "obsm", "varm", "obsp", "varp", "layers", "uns"};
    for (size_t i = 0; i < sizeof groups / sizeof *groups; i++) H5Gclose(h5w_group(w, groups[i]));
}

H5adWriter *h5ad_writer_create(const char *path, int overwrite) {
    H5adWriter *w = writer_new(path, overwrite, NULL);
    ensure_all_groups(w);
    return w;
}

H5adWriter *h5ad_writer_create_rows(const char *path, int overwrite, const Dist *d, size_t n_rows) {
    H5adWriter *w = writer_new(path, overwrite, d);
    w->n_rows = n_rows;
    w->row0 = dist_offset(d, n_rows, &w->n_obs);
    w->known_obs = 1;
    ensure_all_groups(w);
    return w;
}

size_t h5ad_writer_row0(const H5adWriter *w) { return w->row0; }
size_t h5ad_writer_n_obs(const H5adWriter *w) { return w->n_obs; }

// ---- X -------------------------------------------------------------------------------------

// A copy of bytes the writer keeps until the rows are written (callers may free their own).
static void *dup(const void *p, size_t bytes) {
    void *q = xmalloc(bytes ? bytes : 1);
    memcpy(q, p, bytes);
    return q;
}

// A per-cell array as anndata encodes it (an "array" element), created for the ranks' rows.
static void array_rows(H5adWriter *w, hid_t loc, const char *name, hid_t ft, int rank, const hsize_t *dims) {
    hid_t ds = h5w_create_rows(w, loc, name, ft, rank, dims);
    h5w_set_enc(ds, "array", "0.2.0", w->tmp);
    H5Dclose(ds);
}

// The integer type of indices and indptr, one for both as scipy makes them (mixed types break its
// row indexing): int32 while the stored values fit, else int64.
static hid_t index_type(size_t nnz) { return nnz <= (size_t)INT32_MAX ? H5T_STD_I32LE : H5T_STD_I64LE; }

// X of this rank's rows m; take: the writer frees m's arrays after the write.
static void x_csr(H5adWriter *w, const Csr *m, int take) {
    if (!w->d && m->row_start != 0)
        FATAL(HINT_BUG, "%s: X must be written whole (got a block starting at row %zu)", w->path, m->row_start);
    h5w_check_rows(w, m->n_rows, "X");
    h5w_check_len(w, 0, m->n_cols, "X");
    size_t nnz = csr_nnz(m), total = nnz, off = w->d ? dist_offset(w->d, nnz, &total) : 0;
    h5w_drop(w, "X");
    hid_t it = index_type(total);
    if (w->meta) {
        hid_t g = H5Gcreate2(w->file, "X", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g < 0) h5w_fail(w, "creating group", "X");
        h5w_set_enc(g, "csr_matrix", "0.1.0", w->tmp);
        int64_t shape[2] = {(int64_t)w->n_obs, (int64_t)m->n_cols};
        h5u_set_attr_i64s(g, "shape", shape, 2, w->tmp);
        hsize_t nz = total, np = w->n_obs + 1;
        H5Dclose(h5w_create_rows(w, g, "data", H5T_IEEE_F32LE, 1, &nz));
        H5Dclose(h5w_create_rows(w, g, "indices", it, 1, &nz));
        H5Dclose(h5w_create_rows(w, g, "indptr", it, 1, &np));
        H5Gclose(g);
    }
    // indptr: this rank's row starts shifted by the values of the ranks before it; the rank that
    // ends the matrix also writes its end (rank 0 alone writes it for a matrix without rows)
    int last = w->row0 + m->n_rows == w->n_obs && (m->n_rows > 0 || (w->n_obs == 0 && w->meta));
    size_t np = m->n_rows + (size_t)last;
    void *ip;
    if (it == H5T_STD_I32LE) {
        int32_t *p = xmalloc((np ? np : 1) * sizeof *p);
        for (size_t i = 0; i < np; i++) p[i] = (int32_t)(m->indptr[i] + (int64_t)off);
        ip = p;
    } else {
        int64_t *p = xmalloc((np ? np : 1) * sizeof *p);
        for (size_t i = 0; i < np; i++) p[i] = m->indptr[i] + (int64_t)off;
        ip = p;
    }
    h5w_op_mem(w, "X/data", H5T_NATIVE_FLOAT, take ? m->data : dup(m->data, nnz * sizeof(float)), off, nnz, 1);
    h5w_op_mem(w, "X/indices", H5T_NATIVE_INT32, take ? m->indices : dup(m->indices, nnz * sizeof(int32_t)), off, nnz, 1);
    h5w_op_mem(w, "X/indptr", it == H5T_STD_I32LE ? H5T_NATIVE_INT32 : H5T_NATIVE_INT64, ip, w->row0, np, 1);
}

void h5ad_write_X_csr(H5adWriter *w, const Csr *m) { x_csr(w, m, 0); }

void h5ad_write_X_csr_take(H5adWriter *w, Csr *m) {
    x_csr(w, m, 1);
    free(m->indptr);
    memset(m, 0, sizeof *m);
}

void h5ad_write_X_dense(H5adWriter *w, const float *x, size_t n_obs, size_t n_vars) {
    h5w_check_rows(w, n_obs, "X");
    h5w_check_len(w, 0, n_vars, "X");
    h5w_drop(w, "X");
    hsize_t d[2] = {w->n_obs, n_vars};
    if (w->meta) array_rows(w, w->file, "X", H5T_IEEE_F32LE, 2, d);
    h5w_op_mem(w, "X", H5T_NATIVE_FLOAT, dup(x, n_obs * n_vars * sizeof(float)), w->row0, n_obs, n_vars);
}

// ---- obs / var -----------------------------------------------------------------------------

static void write_index(H5adWriter *w, const char *df, char *const *names, size_t n) {
    h5w_check_len(w, strcmp(df, "obs") == 0, n, strcmp(df, "obs") == 0 ? "obs names" : "var names");
    hid_t g = h5w_group(w, df);
    char *ix = h5u_attr_string(g, "_index");
    if (!ix) {
        ix = xstrdup("_index");
        h5u_set_attr_string(g, "_index", ix, w->tmp);
    }
    hid_t ds = h5u_write_strings(g, ix, names, n, w->tmp);
    h5w_set_enc(ds, "string-array", "0.2.0", w->tmp);
    H5Dclose(ds);
    free(ix);
    H5Gclose(g);
}

void h5ad_write_obs_names(H5adWriter *w, char *const *names, size_t n) {
    if (w->meta) write_index(w, "obs", names, n);
}
void h5ad_write_var_names(H5adWriter *w, char *const *names, size_t n) {
    if (w->meta) write_index(w, "var", names, n);
}

static void check_obs_key(H5adWriter *w, const char *key) {
    if (!key || !*key || strchr(key, '/') || strcmp(key, "__categories") == 0)
        FATAL(HINT_BUG, "%s: obs column name '%s' is not allowed", w->path, key ? key : "(null)");
}

// The meta rank: opens obs for a new column key (replacing one of that name) and records it in
// column-order.
static hid_t obs_column(H5adWriter *w, const char *key) {
    hid_t g = h5w_group(w, "obs");
    char *ix = h5u_attr_string(g, "_index");
    if (ix && strcmp(ix, key) == 0) FATAL(HINT_BUG, "%s: obs column '%s' would replace the obs index", w->path, key);
    free(ix);
    if (H5Lexists(g, key, H5P_DEFAULT) > 0 && H5Ldelete(g, key, H5P_DEFAULT) < 0) h5w_fail(w, "replacing obs column", key);
    size_t nc = 0;
    char **order = h5u_attr_strings(g, "column-order", &nc);
    int found = 0;
    for (size_t i = 0; i < nc; i++) found |= strcmp(order[i], key) == 0;
    if (!found) {
        order = xrealloc(order, (nc + 1) * sizeof(char *));
        order[nc++] = xstrdup(key);
        h5u_set_attr_strings(g, "column-order", order, nc, w->tmp);
    }
    strv_free(order, nc);
    return g;
}

static char *joinp(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = xmalloc(n);
    snprintf(s, n, "%s/%s", a, b);
    return s;
}

// A numeric obs column: this rank's n values v, which the writer owns (frees after the write).
static void obs_array(H5adWriter *w, const char *key, hid_t ft, hid_t mt, void *v, size_t n) {
    check_obs_key(w, key);
    h5w_check_rows(w, n, key);
    char *target = joinp("obs", key);
    h5w_drop(w, target);
    if (w->meta) {
        hid_t g = obs_column(w, key);
        hsize_t d = w->n_obs;
        array_rows(w, g, key, ft, 1, &d);
        H5Gclose(g);
    }
    h5w_op_mem(w, target, mt, v, w->row0, n, 1);
    free(target);
}

void h5ad_write_obs_f32(H5adWriter *w, const char *key, const float *v, size_t n) {
    obs_array(w, key, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, dup(v, n * sizeof(float)), n);
}

void h5ad_write_obs_i32(H5adWriter *w, const char *key, const int32_t *v, size_t n) {
    obs_array(w, key, H5T_STD_I32LE, H5T_NATIVE_INT32, dup(v, n * sizeof(int32_t)), n);
}

void h5ad_write_obs_bool(H5adWriter *w, const char *key, const uint8_t *v, size_t n) {
    int8_t *b = xmalloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) b[i] = v[i] ? 1 : 0;
    hid_t bt = h5u_bool_type();
    obs_array(w, key, bt, bt, b, n);
    H5Tclose(bt);
}

static int cmp_strp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void h5ad_write_obs_categorical(H5adWriter *w, const char *key, const int32_t *codes, size_t n, char *const *cats,
                                size_t n_cats) {
    check_obs_key(w, key);
    h5w_check_rows(w, n, key);
    for (size_t i = 0; i < n; i++)
        if (codes[i] < -1 || codes[i] >= (int32_t)n_cats)
            FATAL(HINT_BUG, "%s: obs '%s' code %d at row %zu outside [-1, %zu)", w->path, key, codes[i], w->row0 + i, n_cats);
    char *target = joinp("obs", key), *codes_at = joinp(target, "codes");
    h5w_drop(w, target);
    // codes as pandas stores them: the smallest integer that holds the categories, converted
    // here so that the ranks' write needs no conversion
    int width = n_cats < 128 ? 1 : n_cats < 32768 ? 2 : 4;
    hid_t ft = width == 1 ? H5T_STD_I8LE : width == 2 ? H5T_STD_I16LE : H5T_STD_I32LE;
    hid_t mt = width == 1 ? H5T_NATIVE_INT8 : width == 2 ? H5T_NATIVE_INT16 : H5T_NATIVE_INT32;
    char *c = xmalloc((n ? n : 1) * (size_t)width);
    for (size_t i = 0; i < n; i++) {
        if (width == 1) ((int8_t *)c)[i] = (int8_t)codes[i];
        else if (width == 2) ((int16_t *)c)[i] = (int16_t)codes[i];
        else ((int32_t *)c)[i] = codes[i];
    }
    if (w->meta) {
        char **s = xmalloc((n_cats ? n_cats : 1) * sizeof(char *));
        memcpy(s, cats, n_cats * sizeof(char *));
        qsort(s, n_cats, sizeof(char *), cmp_strp);
        for (size_t k = 1; k < n_cats; k++)
            if (strcmp(s[k - 1], s[k]) == 0)
                FATAL(HINT_BUG, "%s: obs '%s' has the category '%s' twice (categories must be unique)", w->path, key, s[k]);
        free(s);
        hid_t g = obs_column(w, key);
        hid_t cg = H5Gcreate2(g, key, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (cg < 0) h5w_fail(w, "creating obs column", key);
        h5w_set_enc(cg, "categorical", "0.2.0", w->tmp);
        h5u_set_attr_bool(cg, "ordered", 0, w->tmp);
        hsize_t d = w->n_obs;
        array_rows(w, cg, "codes", ft, 1, &d);
        hid_t ds = h5u_write_strings(cg, "categories", cats, n_cats, w->tmp);
        h5w_set_enc(ds, "string-array", "0.2.0", w->tmp);
        H5Dclose(ds);
        H5Gclose(cg);
        H5Gclose(g);
    }
    h5w_op_mem(w, codes_at, mt, c, w->row0, n, 1);
    free(target);
    free(codes_at);
}

void h5ad_write_obs_strings(H5adWriter *w, const char *key, char *const *v, size_t n) {
    check_obs_key(w, key);
    if (!w->meta) return;
    h5w_check_len(w, 1, n, key);
    hid_t g = obs_column(w, key);
    hid_t ds = h5u_write_strings(g, key, v, n, w->tmp);
    h5w_set_enc(ds, "string-array", "0.2.0", w->tmp);
    H5Dclose(ds);
    H5Gclose(g);
}

static void check_obsm_key(H5adWriter *w, const char *key) {
    if (!key || !*key || strchr(key, '/')) FATAL(HINT_BUG, "%s: obsm key '%s' is not allowed", w->path, key ? key : "");
}

static void obsm_f32(H5adWriter *w, const char *key, float *m, size_t n, size_t cols) {
    check_obsm_key(w, key);
    h5w_check_rows(w, n, key);
    char *target = joinp("obsm", key);
    h5w_drop(w, target);
    if (w->meta) {
        hid_t g = h5w_group(w, "obsm");
        hsize_t d[2] = {w->n_obs, cols};
        array_rows(w, g, key, H5T_IEEE_F32LE, 2, d);
        H5Gclose(g);
    }
    h5w_op_mem(w, target, H5T_NATIVE_FLOAT, m, w->row0, n, cols);
    free(target);
}

void h5ad_write_obsm_f32(H5adWriter *w, const char *key, const float *m, size_t n, size_t cols) {
    obsm_f32(w, key, dup(m, n * cols * sizeof(float)), n, cols);
}

void h5ad_write_obsm_f32_take(H5adWriter *w, const char *key, float **m, size_t n, size_t cols) {
    obsm_f32(w, key, *m, n, cols);
    *m = NULL;
}

// ---- uns -----------------------------------------------------------------------------------

// Creates the dict groups of "uns/<path>" up to its last component; returns the parent group and
// sets *leaf to the last component (inside a new string *buf the caller frees).
static hid_t uns_parent(H5adWriter *w, const char *path, const char **leaf, char **buf) {
    if (!path || !*path || path[strlen(path) - 1] == '/')
        FATAL(HINT_BUG, "%s: uns path '%s' is not allowed", w->path, path ? path : "");
    size_t n = strlen(path) + 8;
    *buf = xmalloc(n);
    snprintf(*buf, n, "uns/%s", path);
    char *p = *buf;
    hid_t g = h5w_group(w, "uns");
    H5Gclose(g);
    char *last = strrchr(p, '/');
    for (char *q = p + 4; q < last; q++) {
        if (*q != '/') continue;
        *q = '\0';
        H5Gclose(h5w_group(w, p));
        *q = '/';
    }
    *last = '\0';
    g = h5w_group(w, p);
    *leaf = last + 1;
    return g;
}

static void uns_dset(H5adWriter *w, const char *path, hid_t ft, hid_t mt, int rank, const hsize_t *dims,
                     const void *v, const char *enc) {
    char *buf;
    const char *leaf;
    hid_t g = uns_parent(w, path, &leaf, &buf);
    hid_t ds = h5u_write_dset(g, leaf, ft, mt, rank, dims, v, w->tmp);
    h5w_set_enc(ds, enc, "0.2.0", w->tmp);
    H5Dclose(ds);
    H5Gclose(g);
    free(buf);
}

void h5ad_write_uns_string(H5adWriter *w, const char *path, const char *value) {
    if (!w->meta) return;
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    const char *v = value ? value : "";
    uns_dset(w, path, t, t, 0, NULL, &v, "string");
    H5Tclose(t);
}

void h5ad_write_uns_strings(H5adWriter *w, const char *path, char *const *v, size_t n) {
    if (!w->meta) return;
    char *buf;
    const char *leaf;
    hid_t g = uns_parent(w, path, &leaf, &buf);
    hid_t ds = h5u_write_strings(g, leaf, v, n, w->tmp);
    h5w_set_enc(ds, "string-array", "0.2.0", w->tmp);
    H5Dclose(ds);
    H5Gclose(g);
    free(buf);
}

void h5ad_write_uns_f64(H5adWriter *w, const char *path, double v) {
    if (!w->meta) return;
    uns_dset(w, path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &v, "numeric-scalar");
}

void h5ad_write_uns_f64_array(H5adWriter *w, const char *path, const double *v, size_t n) {
    if (!w->meta) return;
    hsize_t d = n;
    uns_dset(w, path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &d, v, "array");
}

void h5ad_write_uns_i64_array(H5adWriter *w, const char *path, const int64_t *v, size_t n) {
    if (!w->meta) return;
    hsize_t d = n;
    uns_dset(w, path, H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &d, v, "array");
}

void h5ad_write_uns_f32_matrix(H5adWriter *w, const char *path, const float *m, size_t rows, size_t cols) {
    if (!w->meta) return;
    hsize_t d[2] = {rows, cols};
    uns_dset(w, path, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d, m, "array");
}

// ---- commit --------------------------------------------------------------------------------

// Writes default names "0", "1", ... when a dataframe has no index yet (anndata needs one).
static void default_index(H5adWriter *w, const char *df, size_t n) {
    hid_t g = h5w_group(w, df);
    char *ix = h5u_attr_string(g, "_index");
    int have = ix && H5Lexists(g, ix, H5P_DEFAULT) > 0;
    free(ix);
    H5Gclose(g);
    if (have) return;
    char **v = xmalloc((n ? n : 1) * sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        char b[32];
        snprintf(b, sizeof b, "%zu", i);
        v[i] = xstrdup(b);
    }
    write_index(w, df, v, n);
    strv_free(v, n);
}

void h5ad_writer_commit(H5adWriter *w) {
    if (w->meta) {
        default_index(w, "obs", w->n_obs);
        default_index(w, "var", w->n_vars);
        if (H5Fflush(w->file, H5F_SCOPE_GLOBAL) < 0) h5w_fail(w, "flushing", w->tmp);
        if (H5Fclose(w->file) < 0) h5w_fail(w, "closing", w->tmp);
        w->file = -1;
    }
    if (w->d) dist_barrier(w->d);   // the layout is on disk before any rank opens it
    double t1 = wall_time(), bytes = h5w_run_ops(w);
    if (w->d) dist_barrier(w->d);   // every rank's rows are written
    double t2 = wall_time();
    atomic_tmp_unguard(w->tmp);
    if (w->meta) {
        if (!w->overwrite && path_exists(w->path))
            FATAL("pass --overwrite to replace it, or choose another output path",
                  "output %s appeared while writing (it was not changed; the result is in %s)", w->path, w->tmp);
        atomic_commit(w->tmp, w->path);
    }
    if (w->d) dist_barrier(w->d);   // the output exists when any rank returns
    if (w->d) dist_allreduce_sum_f64(w->d, &bytes, 1);
    double t3 = wall_time();
    log_info("wrote %s: layout %.2f s, rows %.2f s (%.2f GB from %d rank(s), %.2f GB/s), fsync + rename %.2f s", w->path,
             t1 - w->t_start, t2 - t1, bytes / 1e9, w->d ? w->d->size : 1, t2 > t1 ? bytes / 1e9 / (t2 - t1) : 0.0, t3 - t2);
    free(w->path);
    free(w->tmp);
    free(w);
}

void h5ad_writer_abort(H5adWriter *w) {
    if (!w) return;
    if (w->file >= 0) H5Fclose(w->file);
    if (w->meta) atomic_discard(w->tmp);
    atomic_tmp_unguard(w->tmp);
    h5w_free_ops(w);
    free(w->path);
    free(w->tmp);
    free(w);
}
