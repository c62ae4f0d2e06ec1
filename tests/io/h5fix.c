// h5fix: see h5fix.h. Any HDF5 failure here is a test setup error (exit 99).
#include "tests/io/h5fix.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double FIX_M[FIX_ROWS * FIX_COLS] = {
    1, 0, 2, 0, 0,    //
    0, 0, 0, 0, 0,    // empty row
    0, 3, 0, 0, 4,    //
    5, 6, 7, 8, 9,    // full row
    0, 0, 0, 10, 0,   //
    11, 0, 0, 0, 0,   //
    0, 0, 12, 0, 13,  //
};

static void must(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "h5fix: %s failed (test setup error)\n", what);
        H5Eprint2(H5E_DEFAULT, stderr);
        exit(99);
    }
}

static void attr_str(hid_t obj, const char *name, const char *v) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    must(a >= 0 && H5Awrite(a, t, &v) >= 0, "string attribute");
    H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
}

static void attr_strs(hid_t obj, const char *name, const char *const *v, size_t n) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hsize_t d = n;
    hid_t s = H5Screate_simple(1, &d, NULL);
    hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    must(a >= 0 && (n == 0 || H5Awrite(a, t, v) >= 0), "string array attribute");
    H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
}

static void attr_i64(hid_t obj, const char *name, const long long *v, size_t n) {
    hsize_t d = n;
    hid_t s = H5Screate_simple(1, &d, NULL);
    hid_t a = H5Acreate2(obj, name, H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    must(a >= 0 && H5Awrite(a, H5T_NATIVE_LLONG, v) >= 0, "integer attribute");
    H5Aclose(a);
    H5Sclose(s);
}

void fx_enc(hid_t obj, const char *type, const char *version) {
    attr_str(obj, "encoding-type", type);
    attr_str(obj, "encoding-version", version);
}

hid_t fx_create(const char *path) {
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    must(f >= 0, path);
    hid_t r = H5Gopen2(f, "/", H5P_DEFAULT);
    fx_enc(r, "anndata", "0.1.0");
    H5Gclose(r);
    return f;
}

void fx_close(hid_t f) { must(H5Fclose(f) >= 0, "closing fixture"); }

hid_t fx_group(hid_t loc, const char *name, const char *type, const char *version) {
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    must(g >= 0, name);
    if (type) fx_enc(g, type, version);
    return g;
}

static void dset(hid_t loc, const char *name, hid_t ft, hid_t mt, int rank, const hsize_t *dims, const void *buf) {
    hid_t s = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(loc, name, ft, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t total = 1;
    for (int i = 0; i < rank; i++) total *= dims[i];
    must(d >= 0 && (total == 0 || H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0), name);
    H5Dclose(d);
    H5Sclose(s);
}

void fx_sparse(hid_t loc, const char *name, const double *m, size_t nr, size_t nc, int csc, hid_t data_t, hid_t idx_t,
               hid_t ptr_t, int old_style, int reverse) {
    size_t major = csc ? nc : nr, minor = csc ? nr : nc, nnz = 0;
    double *data = malloc((nr * nc + 1) * sizeof *data);
    long long *idx = malloc((nr * nc + 1) * sizeof *idx), *ptr = calloc(major + 1, sizeof *ptr);
    for (size_t a = 0; a < major; a++) {
        size_t first = nnz;
        for (size_t b = 0; b < minor; b++) {
            double v = csc ? m[b * nc + a] : m[a * nc + b];
            if (v != 0) {
                data[nnz] = v;
                idx[nnz++] = (long long)b;
            }
        }
        if (reverse)
            for (size_t i = first, j = nnz ? nnz - 1 : 0; i < j; i++, j--) {
                double t = data[i];
                data[i] = data[j];
                data[j] = t;
                long long u = idx[i];
                idx[i] = idx[j];
                idx[j] = u;
            }
        ptr[a + 1] = (long long)nnz;
    }
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    must(g >= 0, name);
    long long shape[2] = {(long long)nr, (long long)nc};
    if (old_style) {
        attr_str(g, "h5sparse_format", csc ? "csc" : "csr");
        attr_i64(g, "h5sparse_shape", shape, 2);
    } else {
        fx_enc(g, csc ? "csc_matrix" : "csr_matrix", "0.1.0");
        attr_i64(g, "shape", shape, 2);
    }
    hsize_t n = nnz, np = major + 1;
    dset(g, "data", data_t, H5T_NATIVE_DOUBLE, 1, &n, data);
    dset(g, "indices", idx_t, H5T_NATIVE_LLONG, 1, &n, idx);
    dset(g, "indptr", ptr_t, H5T_NATIVE_LLONG, 1, &np, ptr);
    H5Gclose(g);
    free(data);
    free(idx);
    free(ptr);
}

void fx_dense(hid_t loc, const char *name, const double *m, size_t nr, size_t nc, hid_t t) {
    hsize_t d[2] = {nr, nc};
    dset(loc, name, t, H5T_NATIVE_DOUBLE, 2, d, m);
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    fx_enc(ds, "array", "0.2.0");
    H5Dclose(ds);
}

void fx_strings(hid_t loc, const char *name, const char *const *v, size_t n, int fixed_len) {
    hid_t t = H5Tcopy(H5T_C_S1);
    hsize_t d = n;
    if (fixed_len) {
        size_t w = 1;
        for (size_t i = 0; i < n; i++) w = strlen(v[i]) > w ? strlen(v[i]) : w;
        H5Tset_size(t, w);
        H5Tset_strpad(t, H5T_STR_NULLPAD);
        char *buf = calloc(n ? n : 1, w);
        for (size_t i = 0; i < n; i++) memcpy(buf + i * w, v[i], strlen(v[i]));
        dset(loc, name, t, t, 1, &d, buf);
        free(buf);
    } else {
        H5Tset_size(t, H5T_VARIABLE);
        H5Tset_cset(t, H5T_CSET_UTF8);
        dset(loc, name, t, t, 1, &d, v);
    }
    H5Tclose(t);
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    fx_enc(ds, "string-array", "0.2.0");
    H5Dclose(ds);
}

void fx_f64(hid_t loc, const char *name, const double *v, size_t n, hid_t t) {
    hsize_t d = n;
    dset(loc, name, t, H5T_NATIVE_DOUBLE, 1, &d, v);
}

void fx_i64(hid_t loc, const char *name, const long long *v, size_t n, hid_t t) {
    hsize_t d = n;
    dset(loc, name, t, H5T_NATIVE_LLONG, 1, &d, v);
}

void fx_bool(hid_t loc, const char *name, const int *v, size_t n) {
    hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
    signed char f = 0, tr = 1;
    H5Tenum_insert(t, "FALSE", &f);
    H5Tenum_insert(t, "TRUE", &tr);
    signed char *b = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) b[i] = (signed char)(v[i] != 0);
    hsize_t d = n;
    dset(loc, name, t, t, 1, &d, b);
    free(b);
    H5Tclose(t);
}

hid_t fx_dataframe(hid_t loc, const char *name, const char *const *names, size_t n, const char *const *cols,
                   size_t n_cols) {
    hid_t g = fx_group(loc, name, "dataframe", "0.2.0");
    attr_str(g, "_index", "_index");
    attr_strs(g, "column-order", cols, n_cols);
    fx_strings(g, "_index", names, n, 0);
    return g;
}

const char *const FIX_OBS_NAMES[FIX_ROWS] = {"c0", "c1", "c2", "c3", "c4", "c5", "c6"};
const char *const FIX_VAR_NAMES[FIX_COLS] = {"g0", "g1", "g2", "g3", "g4"};

const char *fx_in(const char *dir, const char *name) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

void fx_labelled_file(const char *path, const long long *codes, const char *const *cats, size_t n_cats) {
    static const char *cols[] = {"cell_type"};
    hid_t f = fx_create(path);
    fx_sparse(f, "X", FIX_M, FIX_ROWS, FIX_COLS, FX_CSR, H5T_IEEE_F32LE, H5T_STD_I32LE, H5T_STD_I64LE, 0, 0);
    hid_t o = fx_dataframe(f, "obs", FIX_OBS_NAMES, FIX_ROWS, cols, 1);
    hid_t c = fx_group(o, "cell_type", "categorical", "0.2.0");
    fx_i64(c, "codes", codes, FIX_ROWS, H5T_STD_I8LE);
    fx_strings(c, "categories", cats, n_cats, 0);
    H5Gclose(c);
    H5Gclose(o);
    H5Gclose(fx_dataframe(f, "var", FIX_VAR_NAMES, FIX_COLS, NULL, 0));
    fx_close(f);
}

void fx_valid_file(const char *path) {
    static const long long codes[FIX_ROWS] = {0, 1, 1, 0, -1, 0, 1};
    static const char *cats[] = {"A", "B"};
    fx_labelled_file(path, codes, cats, 2);
}

// raw/X of fx_rich_file: the fixture with one extra column of 1s
double FIX_RAW[FIX_ROWS * (FIX_COLS + 1)];

void fx_rich_file(const char *path) {
    hid_t f = fx_create(path);
    fx_sparse(f, "X", FIX_M, FIX_ROWS, FIX_COLS, FX_CSR, H5T_IEEE_F32LE, H5T_STD_I32LE, H5T_STD_I64LE, 0, 0);
    hid_t l = fx_group(f, "layers", "dict", "0.1.0");
    fx_sparse(l, "csc64", FIX_M, FIX_ROWS, FIX_COLS, FX_CSC, H5T_IEEE_F64LE, H5T_STD_I32LE, H5T_STD_I32LE, 0, 0);
    fx_sparse(l, "csc_rev", FIX_M, FIX_ROWS, FIX_COLS, FX_CSC, H5T_STD_I16LE, H5T_STD_I64LE, H5T_STD_I64LE, 0, 1);
    fx_sparse(l, "old_i64", FIX_M, FIX_ROWS, FIX_COLS, FX_CSR, H5T_STD_I64LE, H5T_STD_I64LE, H5T_STD_I32LE, 1, 0);
    fx_sparse(l, "csr_rev_i32", FIX_M, FIX_ROWS, FIX_COLS, FX_CSR, H5T_STD_I32LE, H5T_STD_I32LE, H5T_STD_I64LE, 0, 1);
    fx_sparse(l, "old_csc_u16", FIX_M, FIX_ROWS, FIX_COLS, FX_CSC, H5T_STD_U16LE, H5T_STD_U32LE, H5T_STD_U64LE, 1, 0);
    fx_dense(l, "dense_i32", FIX_M, FIX_ROWS, FIX_COLS, H5T_STD_I32LE);
    fx_dense(l, "dense_f64", FIX_M, FIX_ROWS, FIX_COLS, H5T_IEEE_F64LE);
    fx_dense(l, "dense_i64", FIX_M, FIX_ROWS, FIX_COLS, H5T_STD_I64LE);
    H5Gclose(l);
    hid_t raw = fx_group(f, "raw", NULL, NULL);
    for (size_t r = 0; r < FIX_ROWS; r++)
        for (size_t j = 0; j <= FIX_COLS; j++) FIX_RAW[r * (FIX_COLS + 1) + j] = j < FIX_COLS ? FIX_M[r * FIX_COLS + j] : 1;
    fx_sparse(raw, "X", FIX_RAW, FIX_ROWS, FIX_COLS + 1, FX_CSR, H5T_IEEE_F32LE, H5T_STD_I32LE, H5T_STD_I64LE, 0, 0);
    static const char *rv[] = {"r0", "r1", "r2", "r3", "r4", "extra"};
    H5Gclose(fx_dataframe(raw, "var", rv, 6, NULL, 0));
    H5Gclose(raw);

    static const char *obs[] = {"c0", "c1", "c2", "c3", "c4", "c5", "c6"};
    static const char *cols[] = {"cat_new", "cat_old", "cat_06", "str", "flag", "num", "fl", "nullable", "cat_nan",
                                 "fixed"};
    hid_t o = fx_dataframe(f, "obs", obs, FIX_ROWS, cols, sizeof cols / sizeof *cols);
    // new categorical
    hid_t c = fx_group(o, "cat_new", "categorical", "0.2.0");
    long long cn[] = {0, 1, -1, 2, 0, 1, 2};
    static const char *abc[] = {"A", "B", "C"};
    fx_i64(c, "codes", cn, 7, H5T_STD_I8LE);
    fx_strings(c, "categories", abc, 3, 0);
    H5Gclose(c);
    // anndata 0.7: codes + reference to obs/__categories/cat_old (fixed-length ASCII)
    hid_t cg = fx_group(o, "__categories", NULL, NULL);
    static const char *xy[] = {"x", "yy"};
    fx_strings(cg, "cat_old", xy, 2, 1);
    H5Gclose(cg);
    long long co[] = {1, 1, 0, -1, 0, 1, 0};
    fx_i64(o, "cat_old", co, 7, H5T_STD_I8LE);
    hobj_ref_t ref;
    if (H5Rcreate(&ref, f, "obs/__categories/cat_old", H5R_OBJECT, -1) < 0) exit(99);
    hid_t ds = H5Dopen2(o, "cat_old", H5P_DEFAULT), sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(ds, "categories", H5T_STD_REF_OBJ, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, H5T_STD_REF_OBJ, &ref) < 0) exit(99);
    H5Aclose(a);
    H5Sclose(sp);
    H5Dclose(ds);
    // anndata 0.6: integer codes + uns/<key>_categories
    long long c6[] = {2, 2, 1, 0, 0, 1, 2};
    fx_i64(o, "cat_06", c6, 7, H5T_STD_I32LE);
    hid_t u = fx_group(f, "uns", "dict", "0.1.0");
    static const char *pqr[] = {"p", "q", "r"};
    fx_strings(u, "cat_06_categories", pqr, 3, 0);
    H5Gclose(u);
    // plain columns
    static const char *str[] = {"b", "a", "", "nan", "b", "c", "NA"};
    fx_strings(o, "str", str, 7, 0);
    int flag[] = {1, 0, 1, 1, 0, 0, 1};
    fx_bool(o, "flag", flag, 7);
    long long num[] = {10, 2, 3, 10, 2, 1, 3};
    fx_i64(o, "num", num, 7, H5T_STD_I64LE);
    double fl[] = {0.5, NAN, 1.5, 0.5, 0.5, NAN, 1.5};
    fx_f64(o, "fl", fl, 7, H5T_IEEE_F32LE);
    hid_t nu = fx_group(o, "nullable", "nullable-integer", "0.1.0");
    long long nv[] = {5, 6, 5, 0, 7, 7, 6};
    int nm[] = {0, 0, 0, 1, 0, 1, 0};
    fx_i64(nu, "values", nv, 7, H5T_STD_I32LE);
    fx_bool(nu, "mask", nm, 7);
    H5Gclose(nu);
    hid_t cnan = fx_group(o, "cat_nan", "categorical", "0.2.0");
    long long cc[] = {0, 1, 0, 1, 2, 2, 0};
    static const char *knan[] = {"T", "nan", "U"};
    fx_i64(cnan, "codes", cc, 7, H5T_STD_I16LE);
    fx_strings(cnan, "categories", knan, 3, 0);
    H5Gclose(cnan);
    static const char *fixed[] = {"k", "kk", "k", "kkk", "k", "kk", "k"};
    fx_strings(o, "fixed", fixed, 7, 1);
    H5Gclose(o);
    static const char *var[] = {"g0", "g1", "g2", "g3", "g4"};
    hid_t v = fx_group(f, "var", "dataframe", "0.2.0");
    hid_t t = H5Tcopy(H5T_C_S1);   // _index attribute as fixed-length ASCII, names fixed-length
    H5Tset_size(t, 6);
    sp = H5Screate(H5S_SCALAR);
    a = H5Acreate2(v, "_index", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, t, "_index") < 0) exit(99);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    fx_strings(v, "_index", var, 5, 1);
    H5Gclose(v);
    hid_t om = fx_group(f, "obsm", "dict", "0.1.0");
    double emb[FIX_ROWS * 3];
    for (size_t i = 0; i < FIX_ROWS * 3; i++) emb[i] = 0.25 * (double)i - 1;
    fx_dense(om, "X_emb", emb, FIX_ROWS, 3, H5T_IEEE_F64LE);
    H5Gclose(om);
    fx_close(f);
}
