// h5ad_write: writing .h5ad files that anndata/scanpy open unchanged. Elements carry the
// encoding-type / encoding-version attributes anndata (>= 0.8) writes:
//   root anndata 0.1.0, X csr_matrix 0.1.0 {data f32, indices + indptr i32 (i64 past 2^31 values),
//   shape attr} or
//   array 0.2.0, obs/var dataframe 0.2.0 (_index attr, column-order attr, index string-array),
//   categorical 0.2.0 {codes int8/16/32, categories string-array, ordered attr},
//   obsm/varm/obsp/varp/layers/uns dict 0.1.0, numeric arrays array 0.2.0, strings
//   string-array 0.2.0, scalars numeric-scalar / string 0.2.0.
// The file is written as a temporary next to the output; commit renames it into place.
#include <string.h>

#include "core/atomic.h"
#include "core/log.h"
#include "io/h5ad_impl.h"
#include "io/h5util.h"

struct H5adWriter {
    char *path, *tmp;
    int overwrite;
    hid_t file;
    size_t n_obs, n_vars;
    int known_obs, known_vars;   // n_obs / n_vars fixed by something written or copied
};

#define HINT_BUG "this is a bug in kida (inconsistent output sizes); please report it"

static void set_enc(hid_t obj, const char *type, const char *version, const char *path) {
    h5u_set_attr_string(obj, "encoding-type", type, path);
    h5u_set_attr_string(obj, "encoding-version", version, path);
}

_Noreturn static void wfail(H5adWriter *w, const char *what, const char *name) {
    char m[256];
    h5u_errmsg(m, sizeof m);
    FATAL("check free space and permissions in the output directory; the output file was not changed",
          "%s (temporary %s): %s '%s' failed: %s", w->path, w->tmp, what, name, m);
}

// Opens group name, creating it (as a dict, or a dataframe for obs/var) if absent.
static hid_t ensure_group(H5adWriter *w, const char *name) {
    if (h5u_obj_type(w->file, name) == H5O_TYPE_GROUP) {
        hid_t g = H5Gopen2(w->file, name, H5P_DEFAULT);
        if (g < 0) wfail(w, "opening group", name);
        return g;
    }
    if (h5u_exists(w->file, name)) {
        if (strcmp(name, "obs") == 0 || strcmp(name, "var") == 0)
            FATAL("the input uses the anndata < 0.7 layout (obs/var as tables); open and re-save it with a recent "
                  "anndata first",
                  "%s: '%s' copied from the input is not a dataframe group, so columns cannot be added", w->path, name);
        if (H5Ldelete(w->file, name, H5P_DEFAULT) < 0) wfail(w, "replacing", name);
    }
    hid_t g = H5Gcreate2(w->file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) wfail(w, "creating group", name);
    if (strcmp(name, "obs") == 0 || strcmp(name, "var") == 0) {
        set_enc(g, "dataframe", "0.2.0", w->tmp);
        h5u_set_attr_string(g, "_index", "_index", w->tmp);
        h5u_set_attr_strings(g, "column-order", NULL, 0, w->tmp);
    } else set_enc(g, "dict", "0.1.0", w->tmp);
    return g;
}

static void check_len(H5adWriter *w, int is_obs, size_t n, const char *what) {
    size_t *have = is_obs ? &w->n_obs : &w->n_vars;
    int *known = is_obs ? &w->known_obs : &w->known_vars;
    if (*known && *have != n)
        FATAL(HINT_BUG, "%s: %s has %zu %s but the file already has %zu (got %zu, want %zu)", w->path, what, n,
              is_obs ? "cells" : "genes", *have, n, *have);
    *have = n;
    *known = 1;
}

static H5adWriter *writer_new(const char *path, int overwrite) {
    h5u_init();
    if (path_exists(path) && !overwrite)
        FATAL("pass --overwrite to replace it, or choose another output path",
              "output %s already exists (it was not changed)", path);
    H5adWriter *w = xcalloc(1, sizeof *w);
    w->path = xstrdup(path);
    w->overwrite = overwrite;
    w->tmp = atomic_tmp_path(path);
    w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (w->file < 0) {
        char m[256];
        FATAL("check that the output directory exists and is writable", "cannot create %s (temporary for %s): %s", w->tmp,
              path, h5u_errmsg(m, sizeof m));
    }
    hid_t root = H5Gopen2(w->file, "/", H5P_DEFAULT);
    set_enc(root, "anndata", "0.1.0", w->tmp);
    H5Gclose(root);
    return w;
}

static void ensure_all_groups(H5adWriter *w) {
    static const char *groups[] = {"obs", "var", "obsm", "varm", "obsp", "varp", "layers", "uns"};
    for (size_t i = 0; i < sizeof groups / sizeof *groups; i++) H5Gclose(ensure_group(w, groups[i]));
}

H5adWriter *h5ad_writer_create(const char *path, int overwrite) {
    H5adWriter *w = writer_new(path, overwrite);
    ensure_all_groups(w);
    return w;
}

// Length of the index dataset of a dataframe group in the writer's file; 0 if none.
static int index_len(H5adWriter *w, const char *df, size_t *n) {
    if (h5u_obj_type(w->file, df) != H5O_TYPE_GROUP) return 0;
    hid_t g = H5Gopen2(w->file, df, H5P_DEFAULT);
    char *ix = h5u_attr_string(g, "_index");
    int ok = 0;
    if (ix && H5Lexists(g, ix, H5P_DEFAULT) > 0) {
        hid_t ds = H5Dopen2(g, ix, H5P_DEFAULT);
        if (ds >= 0) {
            *n = h5u_dset_len(ds, w->tmp, ix);
            ok = 1;
            H5Dclose(ds);
        }
    }
    free(ix);
    H5Gclose(g);
    return ok;
}

// Refuses a copy the output's file system (or the file size limit) has no room for: libhdf5 1.10
// can crash when a write fails in the middle of H5Ocopy.
static void check_room(H5adWriter *w, hid_t src, const char *source) {
    hsize_t need = 0;
    int by_limit = 0;
    double room = atomic_room(w->path, NULL, &by_limit);
    if (H5Fget_filesize(src, &need) < 0 || room < 0 || (double)need <= room) return;
    FATAL(by_limit ? "raise the file size limit (ulimit -f); the output file was not changed"
                   : "free space on the output's file system or write the output elsewhere; the output file was not changed",
          "%s: no room to copy %s into it (needs about %.3g MB, %s %.3g MB)", w->path, source, (double)need / 1e6,
          by_limit ? "the file size limit is" : "the file system has", room / 1e6);
}

void h5ad_writer_copy_parts(H5adWriter *w, const char *source, const char *const *parts, size_t n) {
    hid_t src = h5u_open_read(source, NULL);
    check_room(w, src, source);
    hid_t ocpy = H5Pcreate(H5P_OBJECT_COPY);
    H5Pset_copy_object(ocpy, H5O_COPY_EXPAND_REFERENCE_FLAG);
    for (size_t i = 0; i < n; i++) {
        if (!h5u_exists(src, parts[i])) continue;
        if (h5u_exists(w->file, parts[i]) && H5Ldelete(w->file, parts[i], H5P_DEFAULT) < 0) wfail(w, "replacing", parts[i]);
        if (H5Ocopy(src, parts[i], w->file, parts[i], ocpy, H5P_DEFAULT) < 0) {
            char m[256];
            FATAL("the source file may be damaged; check it with `kida inspect`", "copying '%s' from %s into %s failed: %s",
                  parts[i], source, w->tmp, h5u_errmsg(m, sizeof m));
        }
    }
    H5Pclose(ocpy);
    H5Fclose(src);
}

H5adWriter *h5ad_writer_copy_of(const char *path, int overwrite, const char *source) {
    h5u_init();
    hid_t src = h5u_open_read(source, NULL);
    int is_10x = !h5u_exists(src, "X") && !h5u_exists(src, "obs");
    H5adWriter *w = writer_new(path, overwrite);
    if (is_10x) {
        // a 10x .h5 has no AnnData layout to copy: convert it (X, barcodes, symbols + gene_ids)
        H5Fclose(src);
        H5ad *h = h5ad_open(source, NULL, 0, NULL);
        ensure_all_groups(w);
        Csr m = h5ad_read_rows(h, 0, h5ad_n_obs(h));
        h5ad_write_X_csr(w, &m);
        csr_free(&m);
        char **on = h5ad_obs_names(h, 0, h5ad_n_obs(h));
        h5ad_write_obs_names(w, on, h5ad_n_obs(h));
        strv_free(on, h5ad_n_obs(h));
        char **vn = h5ad_var_names(h);
        h5ad_write_var_names(w, vn, h5ad_n_vars(h));
        strv_free(vn, h5ad_n_vars(h));
        H5ad *ids = h5ad_open(source, NULL, 1, NULL);
        char **gi = h5ad_var_names(ids);
        hid_t g = ensure_group(w, "var");
        H5Dclose(h5u_write_strings(g, "gene_ids", gi, h5ad_n_vars(h), w->tmp));
        hid_t ds = H5Dopen2(g, "gene_ids", H5P_DEFAULT);
        set_enc(ds, "string-array", "0.2.0", w->tmp);
        H5Dclose(ds);
        char *order[] = {"gene_ids"};
        h5u_set_attr_strings(g, "column-order", order, 1, w->tmp);
        H5Gclose(g);
        strv_free(gi, h5ad_n_vars(ids));
        h5ad_close(ids);
        h5ad_close(h);
        return w;
    }
    H5Fclose(src);
    static const char *const parts[] = {"X", "layers", "raw", "obs", "var", "obsm", "varm", "obsp", "varp", "uns"};
    h5ad_writer_copy_parts(w, source, parts, sizeof parts / sizeof *parts);
    if (h5u_exists(w->file, "X")) {
        H5ad *h = h5ad_open(source, NULL, 0, NULL);   // validates the copied X's structure
        check_len(w, 1, h5ad_n_obs(h), "X of the source");
        check_len(w, 0, h5ad_n_vars(h), "X of the source");
        h5ad_close(h);
    }
    size_t n;
    if (index_len(w, "obs", &n)) check_len(w, 1, n, "obs index of the source");
    if (index_len(w, "var", &n)) check_len(w, 0, n, "var index of the source");
    ensure_all_groups(w);
    return w;
}

// ---- X -------------------------------------------------------------------------------------

static void drop(H5adWriter *w, const char *name) {
    if (h5u_exists(w->file, name) && H5Ldelete(w->file, name, H5P_DEFAULT) < 0) wfail(w, "replacing", name);
}

void h5ad_write_X_csr(H5adWriter *w, const Csr *m) {
    if (m->row_start != 0)
        FATAL(HINT_BUG, "%s: X must be written whole (got a block starting at row %zu)", w->path, m->row_start);
    check_len(w, 1, m->n_rows, "X");
    check_len(w, 0, m->n_cols, "X");
    drop(w, "X");
    hid_t g = H5Gcreate2(w->file, "X", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) wfail(w, "creating group", "X");
    set_enc(g, "csr_matrix", "0.1.0", w->tmp);
    int64_t shape[2] = {(int64_t)m->n_rows, (int64_t)m->n_cols};
    h5u_set_attr_i64s(g, "shape", shape, 2, w->tmp);
    hsize_t nnz = csr_nnz(m), np = m->n_rows + 1;
    H5Dclose(h5u_write_dset(g, "data", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &nnz, m->data, w->tmp));
    // indices and indptr get one integer type, as scipy makes them (mixed types break its row
    // indexing): int32 while nnz fits, else int64; HDF5 converts from the in-memory types
    hid_t it = nnz <= (hsize_t)INT32_MAX ? H5T_STD_I32LE : H5T_STD_I64LE;
    H5Dclose(h5u_write_dset(g, "indices", it, H5T_NATIVE_INT32, 1, &nnz, m->indices, w->tmp));
    H5Dclose(h5u_write_dset(g, "indptr", it, H5T_NATIVE_INT64, 1, &np, m->indptr, w->tmp));
    H5Gclose(g);
}

void h5ad_write_X_dense(H5adWriter *w, const float *x, size_t n_obs, size_t n_vars) {
    check_len(w, 1, n_obs, "X");
    check_len(w, 0, n_vars, "X");
    drop(w, "X");
    hsize_t d[2] = {n_obs, n_vars};
    hid_t ds = h5u_write_dset(w->file, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d, x, w->tmp);
    set_enc(ds, "array", "0.2.0", w->tmp);
    H5Dclose(ds);
}

// ---- obs / var -----------------------------------------------------------------------------

static void write_index(H5adWriter *w, const char *df, char *const *names, size_t n) {
    check_len(w, strcmp(df, "obs") == 0, n, strcmp(df, "obs") == 0 ? "obs names" : "var names");
    hid_t g = ensure_group(w, df);
    char *ix = h5u_attr_string(g, "_index");
    if (!ix) {
        ix = xstrdup("_index");
        h5u_set_attr_string(g, "_index", ix, w->tmp);
    }
    hid_t ds = h5u_write_strings(g, ix, names, n, w->tmp);
    set_enc(ds, "string-array", "0.2.0", w->tmp);
    H5Dclose(ds);
    free(ix);
    H5Gclose(g);
}

void h5ad_write_obs_names(H5adWriter *w, char *const *names, size_t n) { write_index(w, "obs", names, n); }
void h5ad_write_var_names(H5adWriter *w, char *const *names, size_t n) { write_index(w, "var", names, n); }

// Opens obs for a new column key (replacing one of that name) and records it in column-order.
static hid_t obs_column(H5adWriter *w, const char *key, size_t n) {
    if (!key || !*key || strchr(key, '/') || strcmp(key, "__categories") == 0)
        FATAL(HINT_BUG, "%s: obs column name '%s' is not allowed", w->path, key ? key : "(null)");
    check_len(w, 1, n, key);
    hid_t g = ensure_group(w, "obs");
    char *ix = h5u_attr_string(g, "_index");
    if (ix && strcmp(ix, key) == 0) FATAL(HINT_BUG, "%s: obs column '%s' would replace the obs index", w->path, key);
    free(ix);
    if (H5Lexists(g, key, H5P_DEFAULT) > 0 && H5Ldelete(g, key, H5P_DEFAULT) < 0) wfail(w, "replacing obs column", key);
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

static void obs_array(H5adWriter *w, const char *key, hid_t ft, hid_t mt, const void *v, size_t n) {
    hid_t g = obs_column(w, key, n);
    hsize_t d = n;
    hid_t ds = h5u_write_dset(g, key, ft, mt, 1, &d, v, w->tmp);
    set_enc(ds, "array", "0.2.0", w->tmp);
    H5Dclose(ds);
    H5Gclose(g);
}

void h5ad_write_obs_f32(H5adWriter *w, const char *key, const float *v, size_t n) {
    obs_array(w, key, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, v, n);
}

void h5ad_write_obs_i32(H5adWriter *w, const char *key, const int32_t *v, size_t n) {
    obs_array(w, key, H5T_STD_I32LE, H5T_NATIVE_INT32, v, n);
}

void h5ad_write_obs_bool(H5adWriter *w, const char *key, const uint8_t *v, size_t n) {
    int8_t *b = xmalloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) b[i] = v[i] ? 1 : 0;
    hid_t bt = h5u_bool_type();
    obs_array(w, key, bt, bt, b, n);
    H5Tclose(bt);
    free(b);
}

static int cmp_strp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void h5ad_write_obs_categorical(H5adWriter *w, const char *key, const int32_t *codes, size_t n, char *const *cats,
                                size_t n_cats) {
    for (size_t i = 0; i < n; i++)
        if (codes[i] < -1 || codes[i] >= (int32_t)n_cats)
            FATAL(HINT_BUG, "%s: obs '%s' code %d at row %zu outside [-1, %zu)", w->path, key, codes[i], i, n_cats);
    char **s = xmalloc((n_cats ? n_cats : 1) * sizeof(char *));
    memcpy(s, cats, n_cats * sizeof(char *));
    qsort(s, n_cats, sizeof(char *), cmp_strp);
    for (size_t k = 1; k < n_cats; k++)
        if (strcmp(s[k - 1], s[k]) == 0)
            FATAL(HINT_BUG, "%s: obs '%s' has the category '%s' twice (categories must be unique)", w->path, key, s[k]);
    free(s);
    hid_t g = obs_column(w, key, n);
    hid_t c = H5Gcreate2(g, key, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (c < 0) wfail(w, "creating obs column", key);
    set_enc(c, "categorical", "0.2.0", w->tmp);
    h5u_set_attr_bool(c, "ordered", 0, w->tmp);
    hid_t ft = n_cats < 128 ? H5T_STD_I8LE : n_cats < 32768 ? H5T_STD_I16LE : H5T_STD_I32LE;   // as pandas does
    hsize_t d = n;
    hid_t ds = h5u_write_dset(c, "codes", ft, H5T_NATIVE_INT32, 1, &d, codes, w->tmp);
    set_enc(ds, "array", "0.2.0", w->tmp);
    H5Dclose(ds);
    ds = h5u_write_strings(c, "categories", cats, n_cats, w->tmp);
    set_enc(ds, "string-array", "0.2.0", w->tmp);
    H5Dclose(ds);
    H5Gclose(c);
    H5Gclose(g);
}

void h5ad_write_obs_strings(H5adWriter *w, const char *key, char *const *v, size_t n) {
    hid_t g = obs_column(w, key, n);
    hid_t ds = h5u_write_strings(g, key, v, n, w->tmp);
    set_enc(ds, "string-array", "0.2.0", w->tmp);
    H5Dclose(ds);
    H5Gclose(g);
}

void h5ad_write_obsm_f32(H5adWriter *w, const char *key, const float *m, size_t n, size_t cols) {
    if (!key || !*key || strchr(key, '/')) FATAL(HINT_BUG, "%s: obsm key '%s' is not allowed", w->path, key ? key : "");
    check_len(w, 1, n, key);
    hid_t g = ensure_group(w, "obsm");
    hsize_t d[2] = {n, cols};
    hid_t ds = h5u_write_dset(g, key, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d, m, w->tmp);
    set_enc(ds, "array", "0.2.0", w->tmp);
    H5Dclose(ds);
    H5Gclose(g);
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
    hid_t g = ensure_group(w, "uns");
    H5Gclose(g);
    char *last = strrchr(p, '/');
    for (char *q = p + 4; q < last; q++) {
        if (*q != '/') continue;
        *q = '\0';
        H5Gclose(ensure_group(w, p));
        *q = '/';
    }
    *last = '\0';
    g = ensure_group(w, p);
    *leaf = last + 1;
    return g;
}

static void uns_dset(H5adWriter *w, const char *path, hid_t ft, hid_t mt, int rank, const hsize_t *dims,
                     const void *v, const char *enc) {
    char *buf;
    const char *leaf;
    hid_t g = uns_parent(w, path, &leaf, &buf);
    hid_t ds = h5u_write_dset(g, leaf, ft, mt, rank, dims, v, w->tmp);
    set_enc(ds, enc, "0.2.0", w->tmp);
    H5Dclose(ds);
    H5Gclose(g);
    free(buf);
}

void h5ad_write_uns_string(H5adWriter *w, const char *path, const char *value) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    const char *v = value ? value : "";
    uns_dset(w, path, t, t, 0, NULL, &v, "string");
    H5Tclose(t);
}

void h5ad_write_uns_strings(H5adWriter *w, const char *path, char *const *v, size_t n) {
    char *buf;
    const char *leaf;
    hid_t g = uns_parent(w, path, &leaf, &buf);
    hid_t ds = h5u_write_strings(g, leaf, v, n, w->tmp);
    set_enc(ds, "string-array", "0.2.0", w->tmp);
    H5Dclose(ds);
    H5Gclose(g);
    free(buf);
}

void h5ad_write_uns_f64(H5adWriter *w, const char *path, double v) {
    uns_dset(w, path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &v, "numeric-scalar");
}

void h5ad_write_uns_f64_array(H5adWriter *w, const char *path, const double *v, size_t n) {
    hsize_t d = n;
    uns_dset(w, path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &d, v, "array");
}

void h5ad_write_uns_i64_array(H5adWriter *w, const char *path, const int64_t *v, size_t n) {
    hsize_t d = n;
    uns_dset(w, path, H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &d, v, "array");
}

void h5ad_write_uns_f32_matrix(H5adWriter *w, const char *path, const float *m, size_t rows, size_t cols) {
    hsize_t d[2] = {rows, cols};
    uns_dset(w, path, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d, m, "array");
}

// ---- commit --------------------------------------------------------------------------------

// Writes default names "0", "1", ... when a dataframe has no index yet (anndata needs one).
static void default_index(H5adWriter *w, const char *df, size_t n) {
    size_t have;
    if (index_len(w, df, &have)) return;
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
    default_index(w, "obs", w->n_obs);
    default_index(w, "var", w->n_vars);
    if (H5Fflush(w->file, H5F_SCOPE_GLOBAL) < 0) wfail(w, "flushing", w->tmp);
    if (H5Fclose(w->file) < 0) wfail(w, "closing", w->tmp);
    w->file = -1;
    if (!w->overwrite && path_exists(w->path))
        FATAL("pass --overwrite to replace it, or choose another output path",
              "output %s appeared while writing (it was not changed; the result is in %s)", w->path, w->tmp);
    atomic_commit(w->tmp, w->path);
    free(w->path);
    free(w->tmp);
    free(w);
}

void h5ad_writer_abort(H5adWriter *w) {
    if (!w) return;
    if (w->file >= 0) H5Fclose(w->file);
    atomic_discard(w->tmp);
    free(w->path);
    free(w->tmp);
    free(w);
}
