// h5ad_wimpl: the writer's handle and its row plan, shared by the writer's files (private to io).
//
// A file is written in two phases so that every rank writes its own rows and nothing per-cell
// passes through one rank:
//   1. layout: rank 0 alone holds the temporary file open (serial HDF5) and creates everything:
//      groups, attributes, small and variable-length data (names, categories, uns), copies of
//      the source's parts that are not row data, and, for every per-cell array, an empty
//      contiguous dataset of its final shape. Every rank meanwhile records the rows it will
//      write (a RowOp: from its memory, or copied from a source file).
//   2. rows (commit): every rank opens the temporary (MPI-IO when there are several) and runs
//      its RowOps as collective hyperslab writes of at most h5u_xfer_limit() elements each
//      (KIDA_H5_XFER=independent makes them independent, for measurements).
// Then rank 0 renames the temporary into place. Every writer function is called by every rank
// in the same order, so every rank records the same sequence of RowOps.
#ifndef KIDA_H5AD_WIMPL_H
#define KIDA_H5AD_WIMPL_H
#include <hdf5.h>

#include "io/h5ad.h"

typedef struct {
    char *target;          // dataset in the output ("obsm/X_kida")
    hid_t memtype;         // memory type of buf (copies: the source dataset's native type)
    void *buf;             // (n, cols) elements, freed after the write; NULL for a copy
    char *src_path, *src_name;   // a copy: rows [src0, src0 + n) of src_name in src_path
    size_t src0, dst0, n, cols;  // rows (first dimension) and elements per row
} RowOp;

struct H5adWriter {
    char *path, *tmp;
    int overwrite;
    const Dist *d;             // NULL: this process writes every row
    int meta;                  // 1 on the rank that holds the layout (rank 0)
    hid_t file;                // the temporary, open on the meta rank during the layout; -1 elsewhere
    size_t n_obs, n_vars;
    int known_obs, known_vars; // n_obs / n_vars fixed by something written or copied
    size_t row0, n_rows;       // this rank's rows of the file; all of them when d is NULL
    RowOp *ops;
    size_t n_ops, cap_ops;
    double t_start;            // when the writer was made (wall_time), for the commit's log line
};

#define HINT_BUG "this is a bug in kida (inconsistent output sizes); please report it"

// A FATAL naming the output, its temporary, what failed and HDF5's reason.
_Noreturn void h5w_fail(H5adWriter *w, const char *what, const char *name);
void h5w_set_enc(hid_t obj, const char *type, const char *version, const char *path);
// The meta rank's group name, created (as a dict, or a dataframe for obs/var) if absent.
hid_t h5w_group(H5adWriter *w, const char *name);
// Fixes n_obs (is_obs) or n_vars at n, or FATAL when something already written disagrees.
void h5w_check_len(H5adWriter *w, int is_obs, size_t n, const char *what);
// This rank's rows of a per-cell array: n (elements of the first dimension) must be its block.
void h5w_check_rows(H5adWriter *w, size_t n, const char *what);
// Removes name from the meta rank's file if present, and drops the RowOps that write it (or
// anything under it) on every rank.
void h5w_drop(H5adWriter *w, const char *name);
// Layout (meta rank): an empty contiguous dataset loc/name of type ft and shape dims (rank 1 or
// 2), its space allocated now, never filled (the RowOps write every element). Returns it open.
hid_t h5w_create_rows(H5adWriter *w, hid_t loc, const char *name, hid_t ft, int rank, const hsize_t *dims);
// Records this rank's write of n rows of cols elements buf at row dst0 of target; the writer owns
// buf (frees it after the write). memtype is copied.
void h5w_op_mem(H5adWriter *w, const char *target, hid_t memtype, void *buf, size_t dst0, size_t n, size_t cols);
// Records this rank's copy of rows [src0, src0 + n) of src_name in src_path to rows [dst0, ...).
void h5w_op_copy(H5adWriter *w, const char *target, const char *src_path, const char *src_name, hid_t memtype,
                 size_t src0, size_t dst0, size_t n, size_t cols);
// Phase 2: every rank writes its RowOps into the temporary (collective; the layout is closed).
// Returns the bytes this rank wrote.
double h5w_run_ops(H5adWriter *w);
void h5w_free_ops(H5adWriter *w);
#endif
