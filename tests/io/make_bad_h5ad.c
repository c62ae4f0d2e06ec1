// make_bad_h5ad: writes malformed .h5ad / 10x files into DIR for tests/io/bad_inputs_io.sh (so the
// bad-input tests need no Python). Each file breaks one thing; the file name says which.
//   make_bad_h5ad DIR
// Exit 0 on success, 99 on a setup error.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/io/h5fix.h"

static char dir[2048];
static const char *P(const char *name) { return fx_in(dir, name); }
#define OBS FIX_OBS_NAMES
#define VAR FIX_VAR_NAMES

// A file with obs/var and a caller-built X: returns the open file for X to be added.
static hid_t with_frames(const char *name, size_t n_obs, size_t n_var) {
    hid_t f = fx_create(P(name));
    H5Gclose(fx_dataframe(f, "obs", OBS, n_obs, NULL, 0));
    H5Gclose(fx_dataframe(f, "var", VAR, n_var, NULL, 0));
    return f;
}

// Writes a CSR group by hand from explicit arrays (any of them may be inconsistent).
static void raw_csr(hid_t f, const char *enc, const long long *shape, const double *data, size_t nd,
                    const long long *idx, size_t ni, const long long *ptr, size_t np) {
    hid_t g = fx_group(f, "X", enc, "0.1.0");
    if (shape) {
        hsize_t two = 2;
        hid_t s = H5Screate_simple(1, &two, NULL);
        hid_t a = H5Acreate2(g, "shape", H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
        if (a < 0 || H5Awrite(a, H5T_NATIVE_LLONG, shape) < 0) exit(99);
        H5Aclose(a);
        H5Sclose(s);
    }
    fx_f64(g, "data", data, nd, H5T_IEEE_F32LE);
    fx_i64(g, "indices", idx, ni, H5T_STD_I32LE);
    fx_i64(g, "indptr", ptr, np, H5T_STD_I64LE);
    H5Gclose(g);
}

// The fixture matrix in CSR arrays (13 stored values).
static const double D[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
static const long long I[] = {0, 2, 1, 4, 0, 1, 2, 3, 4, 3, 0, 2, 4};
static const long long PTR[] = {0, 2, 2, 4, 9, 10, 11, 13};
static const long long SHAPE[] = {7, 5};

static void truncate_copy(void) {
    fx_valid_file(P("truncated.h5ad"));
    struct stat st;
    if (stat(P("truncated.h5ad"), &st) != 0 || truncate(P("truncated.h5ad"), st.st_size * 6 / 10) != 0) exit(99);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_bad_h5ad DIR\n");
        return 99;
    }
    snprintf(dir, sizeof dir, "%s", argv[1]);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    fx_valid_file(P("valid.h5ad"));
    truncate_copy();
    FILE *t = fopen(P("not_hdf5.h5ad"), "w");
    if (!t || fputs("cell,gene,count\nc0,g0,1\n", t) < 0 || fclose(t) != 0) return 99;

    hid_t f = with_frames("missing_x.h5ad", 7, 5);
    fx_close(f);

    f = with_frames("obs_len.h5ad", 6, 5);   // 6 obs names, 7 rows
    raw_csr(f, "csr_matrix", SHAPE, D, 13, I, 13, PTR, 8);
    fx_close(f);

    f = with_frames("var_len.h5ad", 7, 4);   // 4 var names, 5 columns
    raw_csr(f, "csr_matrix", SHAPE, D, 13, I, 13, PTR, 8);
    fx_close(f);

    f = with_frames("no_shape.h5ad", 7, 5);
    raw_csr(f, "csr_matrix", NULL, D, 13, I, 13, PTR, 8);
    fx_close(f);

    f = with_frames("indptr_len.h5ad", 7, 5);
    raw_csr(f, "csr_matrix", SHAPE, D, 13, I, 13, PTR, 7);
    fx_close(f);

    static const long long dec[] = {0, 2, 1, 4, 9, 10, 11, 13};
    f = with_frames("indptr_decreasing.h5ad", 7, 5);
    raw_csr(f, "csr_matrix", SHAPE, D, 13, I, 13, dec, 8);
    fx_close(f);

    static const long long short_end[] = {0, 2, 2, 4, 9, 10, 11, 12};
    f = with_frames("indptr_end.h5ad", 7, 5);
    raw_csr(f, "csr_matrix", SHAPE, D, 13, I, 13, short_end, 8);
    fx_close(f);

    f = with_frames("data_len.h5ad", 7, 5);
    raw_csr(f, "csr_matrix", SHAPE, D, 12, I, 13, PTR, 8);
    fx_close(f);

    f = with_frames("unknown_encoding.h5ad", 7, 5);
    raw_csr(f, "coo_matrix", SHAPE, D, 13, I, 13, PTR, 8);
    fx_close(f);

    f = with_frames("dense_1d.h5ad", 7, 5);
    fx_f64(f, "X", D, 13, H5T_IEEE_F32LE);
    fx_close(f);

    static const long long oor[] = {0, 2, 1, 4, 0, 1, 2, 3, 5, 3, 0, 2, 4};   // column 5 of 5
    f = with_frames("indices_oor.h5ad", 7, 5);
    raw_csr(f, "csr_matrix", SHAPE, D, 13, oor, 13, PTR, 8);
    fx_close(f);

    static const long long neg_idx[] = {0, 2, 1, 4, 0, 1, 2, 3, 4, 3, -1, 2, 4};
    f = with_frames("indices_negative.h5ad", 7, 5);
    raw_csr(f, "csr_matrix", SHAPE, D, 13, neg_idx, 13, PTR, 8);
    fx_close(f);

    double nan_d[13], neg_d[13];
    memcpy(nan_d, D, sizeof D);
    memcpy(neg_d, D, sizeof D);
    nan_d[6] = 0.0 / 0.0;   // row 3
    neg_d[10] = -2;         // row 5
    f = with_frames("nan.h5ad", 7, 5);
    raw_csr(f, "csr_matrix", SHAPE, nan_d, 13, I, 13, PTR, 8);
    fx_close(f);
    f = with_frames("negative.h5ad", 7, 5);
    raw_csr(f, "csr_matrix", SHAPE, neg_d, 13, I, 13, PTR, 8);
    fx_close(f);

    double dense[FIX_ROWS * FIX_COLS];
    memcpy(dense, FIX_M, sizeof dense);
    dense[4 * FIX_COLS + 2] = 1.0 / 0.0;   // row 4, column 2
    f = with_frames("dense_inf.h5ad", 7, 5);
    fx_dense(f, "X", dense, FIX_ROWS, FIX_COLS, H5T_IEEE_F64LE);
    fx_close(f);

    static const long long zero_shape[] = {0, 0}, zero_ptr[] = {0};
    f = fx_create(P("empty.h5ad"));
    H5Gclose(fx_dataframe(f, "obs", OBS, 0, NULL, 0));
    H5Gclose(fx_dataframe(f, "var", VAR, 0, NULL, 0));
    raw_csr(f, "csr_matrix", zero_shape, D, 0, I, 0, zero_ptr, 1);
    fx_close(f);

    // categorical codes beyond its categories
    static const char *cats[] = {"A", "B"};
    static const long long codes[] = {0, 1, 5, 0, 1, 0, 1};
    fx_labelled_file(P("bad_codes.h5ad"), codes, cats, 2);

    // 10x file without its shape dataset
    f = fx_create(P("tenx_no_shape.h5"));
    hid_t m = fx_group(f, "matrix", NULL, NULL);
    fx_f64(m, "data", D, 13, H5T_STD_I32LE);
    fx_i64(m, "indices", I, 13, H5T_STD_I64LE);
    fx_i64(m, "indptr", PTR, 8, H5T_STD_I64LE);
    fx_strings(m, "barcodes", OBS, 7, 1);
    H5Gclose(m);
    fx_close(f);
    return 0;
}
