// h5ad: read and write AnnData .h5ad files (and read 10x CellRanger .h5), the only way kida's
// expression matrices, labels and results enter and leave the program.
//
// Reading is collective over a Dist: every rank opens the file (MPI-IO driver when the job has
// more than one rank) and reads only the rows it owns. Every structural problem in an input file
// is a FATAL error that names the file, the field and the fix, before any work starts.
//
// Writing is collective: every rank writes its own rows of the per-cell arrays into one file
// (parallel HDF5), rank 0 writes the rest. Everything goes to a temporary file next to the output
// path, which appears only at commit (atomic rename), so a file the user already had is never
// half-written; a fatal error on any rank removes the temporary.
#ifndef KIDA_H5AD_H
#define KIDA_H5AD_H
#include <stddef.h>
#include <stdint.h>

#include "core/csr.h"
#include "mpi/dist.h"

// ---- reading -------------------------------------------------------------------------------

typedef struct H5ad H5ad;

// Opens an expression matrix. Collective over d.
// Accepted: .h5ad with X stored as a CSR group, a CSC group or a dense 2-D dataset, values
// float32/float64/int32/int64 (any integer or float width is converted); or a 10x CellRanger 3
// .h5 (group "matrix", detected automatically). layer NULL, "" or "X" selects X, "raw" selects
// raw/X with the var names of raw/var, any other name selects layers/<name>. For 10x files the var names are
// gene symbols (features/name), or Ensembl IDs (features/id) when use_gene_ids is nonzero.
// Structure is validated here (X present, shape attribute agrees with the arrays, indptr length
// and monotone, encoding-type known); a failure is FATAL naming file, field and fix.
// d may be NULL: this process alone, serial driver (tools, the writer's copy of a 10x file).
H5ad *h5ad_open(const char *path, const char *layer, int use_gene_ids, const Dist *d);
// Closes the file and frees the handle (NULL is ignored). Collective over the open's Dist.
void h5ad_close(H5ad *h);
const char *h5ad_path(const H5ad *h);
size_t h5ad_n_obs(const H5ad *h);                 // rows (cells)
size_t h5ad_n_vars(const H5ad *h);                // columns (genes / features)
// "csr_matrix", "csc_matrix", "array" (dense) or "10x".
const char *h5ad_x_encoding(const H5ad *h);
// Name of the stored value type of the selected matrix: "float32", "float64", "int32", ...
const char *h5ad_x_dtype(const H5ad *h);
// Stored nonzero count of the selected matrix (n_obs*n_vars for dense).
size_t h5ad_x_nnz(const H5ad *h);

// The names under layers/ (free with strv_free(v, *n); NULL and *n = 0 if none or a 10x file),
// and whether the file has raw/X.
char **h5ad_layers(H5ad *h, size_t *n);
int h5ad_has_raw(H5ad *h);

// n_vars names (gene symbols / feature ids) as new strings; free with strv_free(v, n_vars).
char **h5ad_var_names(H5ad *h);
// The column names of the selected matrix's var table (var, or raw/var for raw; not the index);
// free with strv_free(v, *n). NULL and *n = 0 for 10x files or without a var table.
char **h5ad_var_keys(H5ad *h, size_t *n);
// var[key] of that table as n_vars new strings (a string or categorical column; a missing value
// gets the var index name, counted in *n_missing), made unique as h5ad_make_unique does. NULL
// when the column does not exist. FATAL on a column that does not hold strings.
char **h5ad_var_column(H5ad *h, const char *key, size_t *n_missing);
// Names of obs rows [start, start+count) as new strings; free with strv_free(v, count).
char **h5ad_obs_names(H5ad *h, size_t start, size_t count);

// Rows [start, start+count) as a float32 CSR block (row_start = start, n_cols = n_vars).
// CSR and 10x read only the hyperslabs of indptr/indices/data those rows cover. Dense reads only
// those rows. CSC has to scan all stored values (column-major) and keeps those in the rows asked
// for: it costs one pass over the whole matrix per call, so read CSC in few large blocks.
// Validates column indices in range and values finite (FATAL names file, dataset and row).
// Explicit zeros in sparse storage are kept; dense zeros are dropped.
Csr h5ad_read_rows(H5ad *h, size_t start, size_t count);
// FATAL unless every value of rows is finite and non-negative (raw counts are required);
// names the file, the first bad row (global index) and column.
void h5ad_require_counts(const H5ad *h, const Csr *rows);

// The obs column names (in the file's column-order when present); free with strv_free(v, *n).
char **h5ad_obs_keys(H5ad *h, size_t *n);
int h5ad_has_obs(H5ad *h, const char *key);
// 1 when obs[key] holds text: a categorical (either encoding) or a string column; 0 otherwise
// (numbers, bools, absent).
int h5ad_obs_is_text(H5ad *h, const char *key);
// An obs column as labels for rows [start, start+count): a new array of count codes, -1 for
// missing (NaN, empty string, "nan", "NA"), and in *cats a new array of *n_cats category names
// (free with strv_free). Reads categoricals in both encodings (group with codes + categories;
// the older codes dataset with a "categories" reference attribute to uns/<key>_categories or
// __categories/<key>) and plain string, bool and integer columns (categories = the distinct
// values, sorted). FATAL if the key is missing, listing the keys that exist.
int32_t *h5ad_obs_labels(H5ad *h, const char *key, size_t start, size_t count, char ***cats,
                         size_t *n_cats);
// Rows [start, start+count) of obsm/<key> (n_obs x cols) as a new float32 array (count*cols),
// *cols set; NULL (and *cols = 0) if the key is absent.
float *h5ad_obsm(H5ad *h, const char *key, size_t start, size_t count, size_t *cols);
// obsm keys present (free with strv_free); *n = 0 and NULL if none.
char **h5ad_obsm_keys(H5ad *h, size_t *n);

// Frees n strings and the array (NULL is ignored).
void strv_free(char **v, size_t n);
// Makes names unique in place the way anndata's var_names_make_unique does: the first
// occurrence keeps its name, later ones get "-1", "-2", ... (skipping names already present).
// The 10x reader applies it to gene symbols.
void h5ad_make_unique(char **names, size_t n);

// ---- writing ------------------------------------------------------------------------------
//
// A writer is made for one process (h5ad_writer_create, h5ad_writer_copy_of: it writes every row)
// or for all ranks of d (the _rows forms: rank r writes n_rows rows, those after the rows of
// ranks 0..r-1; a rank may have none). Every writer function is then called by every rank, in the
// same order, with its own rows of per-cell data (X, obs columns, obsm): "n" below is this rank's
// row count. The writer keeps a copy of them until commit writes the rows (the _take forms take
// the caller's buffer instead, to spare the copy of a large one). Names, string
// columns, var and uns are written by rank 0 from its arguments (variable-length strings cannot
// be written in parallel); the other ranks' arguments are not used. Per-cell arrays are stored
// contiguous and uncompressed, so that each rank's rows are one stretch of the file.

typedef struct H5adWriter H5adWriter;

// Starts a new .h5ad at path. FATAL (naming --overwrite) if path exists and !overwrite.
// Everything goes to a temporary file next to path; h5ad_writer_commit makes it appear
// atomically. A FATAL mid-write removes the temporary file (core/atomic.h); the output path is
// untouched.
H5adWriter *h5ad_writer_create(const char *path, int overwrite);
H5adWriter *h5ad_writer_create_rows(const char *path, int overwrite, const Dist *d, size_t n_rows);
// Same, but the new file starts as a copy of source's X, layers, raw, obs, var, obsm, varm, obsp,
// varp and uns (a 10x .h5: its matrix, barcodes and genes in the AnnData layout), so columns,
// obsm entries and uns can be added to a query's own file. Writing a key that already exists in
// the copy replaces it. The rows of X, the layers, raw/X and the obsm arrays are copied by the
// ranks (stored types kept); a CSC X and the other parts are copied whole by rank 0.
H5adWriter *h5ad_writer_copy_of(const char *path, int overwrite, const char *source);
H5adWriter *h5ad_writer_copy_rows_of(const char *path, int overwrite, const char *source, const Dist *d,
                                     size_t n_rows);
// This rank's first row, and the file's rows (all ranks).
size_t h5ad_writer_row0(const H5adWriter *w);
size_t h5ad_writer_n_obs(const H5adWriter *w);
// Copies the top-level elements named in parts (e.g. "obs", "obsm") that source (with the same
// cells) has into w, replacing what w holds under those names; per-cell matrices by rows as above.
void h5ad_writer_copy_parts(H5adWriter *w, const char *source, const char *const *parts, size_t n);
// Checks up front what a copy of source reads with kida's own calls (the copies above check it
// again): every attribute of every part copied (and of their members, 4 levels down) by element
// count, stored bytes and variable-length string heap, and the declared vs stored size of the
// datasets copied by rows (X, layers, raw/X, obsm). FATAL naming file, object and attribute; run
// before the work that precedes a copy.
void h5ad_check_copy_source(const char *source);
void h5ad_write_X_csr(H5adWriter *w, const Csr *m);   // this rank's rows (one process: row_start 0)
// The same, the writer taking m's arrays (freed after the write; m is left empty).
void h5ad_write_X_csr_take(H5adWriter *w, Csr *m);
void h5ad_write_X_dense(H5adWriter *w, const float *x, size_t n_obs, size_t n_vars); // (n,G)
void h5ad_write_obs_names(H5adWriter *w, char *const *names, size_t n);   // rank 0: all cells
// The obs names of source (an .h5ad or 10x .h5 with the same cells), streamed by rank 0.
void h5ad_write_obs_names_of(H5adWriter *w, const char *source);
void h5ad_write_var_names(H5adWriter *w, char *const *names, size_t n);
void h5ad_write_obs_f32(H5adWriter *w, const char *key, const float *v, size_t n);
void h5ad_write_obs_i32(H5adWriter *w, const char *key, const int32_t *v, size_t n);
void h5ad_write_obs_bool(H5adWriter *w, const char *key, const uint8_t *v, size_t n);
// codes in [-1, n_cats); -1 is missing. cats: the same on every rank.
void h5ad_write_obs_categorical(H5adWriter *w, const char *key, const int32_t *codes, size_t n,
                                char *const *cats, size_t n_cats);
void h5ad_write_obs_strings(H5adWriter *w, const char *key, char *const *v, size_t n);   // rank 0: all cells
// The same as h5ad_write_obs_categorical, keeping only the categories some cell of some rank has
// (in their order; codes renumbered), so that pandas lists no category without cells. Collective
// (a sum over the writer's ranks).
void h5ad_write_obs_categorical_used(H5adWriter *w, const char *key, const int32_t *codes, size_t n,
                                     char *const *cats, size_t n_cats);
void h5ad_write_obsm_f32(H5adWriter *w, const char *key, const float *m, size_t n, size_t cols);
// The same, the writer taking *m (malloc'ed; freed after the write; *m set to NULL).
void h5ad_write_obsm_f32_take(H5adWriter *w, const char *key, float **m, size_t n, size_t cols);
// obsm[key] as an anndata DataFrame of n_cols float32 columns named cols (column j of this rank's
// rows m (n, n_cols)), indexed by a copy of the obs names as the file holds them at this call
// (default names "0", "1", ... are written to obs first when it has none), so that anndata reads
// adata.obsm[key] as a pandas DataFrame. The names must pass h5ad_frame_names_ok.
void h5ad_write_obsm_frame_f32(H5adWriter *w, const char *key, const float *m, size_t n, char *const *cols,
                               size_t n_cols);
// 1 when names can be columns of an obsm DataFrame: unique, non-empty, no '/', not "." or
// "_index" (HDF5 names, anndata's index); 0 otherwise.
int h5ad_frame_names_ok(char *const *names, size_t n);
// obsm[key] of the output from obsm[key] of n_files files: rows [first[f], first[f+1]) of the
// output are the rows of files[f]; the first file's array sets the type and the width.
// Returns 0, writing nothing, unless every file has obsm[key] as an array of its cells' rows and
// the same width.
int h5ad_write_obsm_copy(H5adWriter *w, const char *key, char *const *files, const size_t *first, size_t n_files);
// uns paths like "kida/config" create nested dict groups.
void h5ad_write_uns_string(H5adWriter *w, const char *path, const char *value);
void h5ad_write_uns_strings(H5adWriter *w, const char *path, char *const *v, size_t n);
void h5ad_write_uns_f64(H5adWriter *w, const char *path, double v);
void h5ad_write_uns_f64_array(H5adWriter *w, const char *path, const double *v, size_t n);
void h5ad_write_uns_i64_array(H5adWriter *w, const char *path, const int64_t *v, size_t n);
void h5ad_write_uns_f32_matrix(H5adWriter *w, const char *path, const float *m, size_t rows,
                               size_t cols);
// Collective: rank 0 closes the layout, every rank writes its rows (MPI-IO, collective
// transfers), then rank 0 fsyncs, renames over path and fsyncs the directory. Frees w.
void h5ad_writer_commit(H5adWriter *w);
// Closes and removes the temporary file, frees w; path is untouched.
void h5ad_writer_abort(H5adWriter *w);
#endif
