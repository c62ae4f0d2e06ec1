// h5fix: builders of small .h5ad fixture files with the HDF5 C API, for the io tests (matrices in
// every encoding and dtype, obs columns in every label encoding, malformed files).
#ifndef KIDA_H5FIX_H
#define KIDA_H5FIX_H
#include <hdf5.h>
#include <stddef.h>

// The reference fixture matrix (FIX_ROWS x FIX_COLS, row-major; row 1 is empty).
#define FIX_ROWS 7
#define FIX_COLS 5
extern const double FIX_M[FIX_ROWS * FIX_COLS];

enum { FX_CSR = 0, FX_CSC = 1 };

// New file with the anndata root attributes. Exits 99 on failure (setup error).
hid_t fx_create(const char *path);
void fx_close(hid_t f);
void fx_enc(hid_t obj, const char *type, const char *version);
// A group (with encoding attributes when type is not NULL); caller closes it.
hid_t fx_group(hid_t loc, const char *name, const char *type, const char *version);
// Writes m (nr x nc, row-major) as a sparse group name under loc, in CSR or CSC, with the given
// HDF5 file types for data / indices / indptr. old_style: the pre-0.7 h5sparse_format attributes
// instead of encoding-type. reverse: store each major line's entries in reverse order.
void fx_sparse(hid_t loc, const char *name, const double *m, size_t nr, size_t nc, int csc, hid_t data_t,
               hid_t idx_t, hid_t ptr_t, int old_style, int reverse);
// Dense 2-D dataset of m with file type t.
void fx_dense(hid_t loc, const char *name, const double *m, size_t nr, size_t nc, hid_t t);
// 1-D datasets.
void fx_strings(hid_t loc, const char *name, const char *const *v, size_t n, int fixed_len);
void fx_f64(hid_t loc, const char *name, const double *v, size_t n, hid_t t);
void fx_i64(hid_t loc, const char *name, const long long *v, size_t n, hid_t t);
void fx_bool(hid_t loc, const char *name, const int *v, size_t n);
// A dataframe group (obs/var) with index dataset "_index" of names and column-order cols.
hid_t fx_dataframe(hid_t loc, const char *name, const char *const *names, size_t n, const char *const *cols,
                   size_t n_cols);
// The fixture's obs names c0..c6 and var names g0..g4.
extern const char *const FIX_OBS_NAMES[FIX_ROWS];
extern const char *const FIX_VAR_NAMES[FIX_COLS];
// "dir/name" in a static buffer (valid until the next call).
const char *fx_in(const char *dir, const char *name);
// X = FIX_M as CSR float32, obs c0..c6 with a categorical cell_type of the given FIX_ROWS codes
// and n_cats categories (any codes: malformed files too), var g0..g4.
void fx_labelled_file(const char *path, const long long *codes, const char *const *cats, size_t n_cats);
// The complete valid fixture file: fx_labelled_file with categories A, B and one NA.
void fx_valid_file(const char *path);
// The fixture in every encoding: X (CSR), layers in CSC/CSR/dense of many dtypes (old-style
// h5sparse too), raw/X with one more column, obs columns in every label encoding (categorical
// new and 0.7/0.6 style, strings, bool, integers, floats, nullable), var names fixed-length,
// obsm/X_emb. tests/io/test_h5ad.c checks what is read from it.
void fx_rich_file(const char *path);
// raw/X of fx_rich_file (FIX_M with a column of 1s), filled by fx_rich_file.
extern double FIX_RAW[FIX_ROWS * (FIX_COLS + 1)];
#endif
