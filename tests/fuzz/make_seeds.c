// make_seeds: writes the h5ad seed corpus of the fuzz suite into DIR: small valid files of every
// layout the reader takes (CSR with every label encoding, CSC, dense, the old h5sparse form, a
// 10x CellRanger 3 file), so that mutations start from each code path.
//   make_seeds DIR
// Exit 0 on success, 99 on a setup error.
#include <stdio.h>
#include <stdlib.h>

#include "tests/io/h5fix.h"

static const char *in(const char *dir, const char *name) { return fx_in(dir, name); }
#define OBS FIX_OBS_NAMES
#define VAR FIX_VAR_NAMES

// A file with X in the given sparse (csc, old-style) or dense form and names only.
static void with_x(const char *path, int dense, int csc, int old_style) {
    hid_t f = fx_create(path);
    if (dense) fx_dense(f, "X", FIX_M, FIX_ROWS, FIX_COLS, H5T_IEEE_F32LE);
    else fx_sparse(f, "X", FIX_M, FIX_ROWS, FIX_COLS, csc, H5T_STD_I32LE, H5T_STD_I32LE, H5T_STD_I64LE, old_style, 0);
    H5Gclose(fx_dataframe(f, "obs", OBS, FIX_ROWS, NULL, 0));
    H5Gclose(fx_dataframe(f, "var", VAR, FIX_COLS, NULL, 0));
    fx_close(f);
}

// CellRanger 3: matrix/{data, indices, indptr, shape, barcodes, features/{id, name}}, genes x cells.
static void tenx3(const char *path) {
    hid_t f = fx_create(path);
    hid_t m = fx_group(f, "matrix", NULL, NULL);
    fx_sparse(m, "csc", FIX_M, FIX_ROWS, FIX_COLS, FX_CSR, H5T_STD_I32LE, H5T_STD_I64LE, H5T_STD_I64LE, 0, 0);
    H5Gclose(m);
    // the cells x genes CSR arrays are the genes x cells CSC arrays 10x stores: move them up
    static const char *arrays[] = {"data", "indices", "indptr"};
    for (int i = 0; i < 3; i++) {
        char from[64], to[64];
        snprintf(from, sizeof from, "matrix/csc/%s", arrays[i]);
        snprintf(to, sizeof to, "matrix/%s", arrays[i]);
        if (H5Lmove(f, from, f, to, H5P_DEFAULT, H5P_DEFAULT) < 0) exit(99);
    }
    if (H5Ldelete(f, "matrix/csc", H5P_DEFAULT) < 0) exit(99);
    m = H5Gopen2(f, "matrix", H5P_DEFAULT);
    long long shape[2] = {FIX_COLS, FIX_ROWS};
    fx_i64(m, "shape", shape, 2, H5T_STD_I32LE);
    fx_strings(m, "barcodes", OBS, FIX_ROWS, 1);
    hid_t ft = fx_group(m, "features", NULL, NULL);
    static const char *ids[] = {"E0", "E1", "E2", "E3", "E4"}, *names[] = {"g0", "g1", "g0", "g3", "g4"};
    fx_strings(ft, "id", ids, FIX_COLS, 1);
    fx_strings(ft, "name", names, FIX_COLS, 1);
    H5Gclose(ft);
    H5Gclose(m);
    fx_close(f);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 99;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    fx_valid_file(in(argv[1], "valid.h5ad"));
    fx_rich_file(in(argv[1], "rich.h5ad"));
    with_x(in(argv[1], "csc.h5ad"), 0, FX_CSC, 0);
    with_x(in(argv[1], "old_csr.h5ad"), 0, FX_CSR, 1);
    with_x(in(argv[1], "dense.h5ad"), 1, 0, 0);
    tenx3(in(argv[1], "tenx3.h5"));
    return 0;
}
