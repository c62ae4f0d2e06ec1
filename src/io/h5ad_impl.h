// h5ad_impl: the reader's handle, shared by the reader's files and inspect (private to io).
#ifndef KIDA_H5AD_IMPL_H
#define KIDA_H5AD_IMPL_H
#include <hdf5.h>

#include "io/h5ad.h"

typedef enum { XK_CSR, XK_CSC, XK_DENSE, XK_10X } XKind;

struct H5ad {
    char *path;           // as given
    const Dist *d;        // NULL: serial
    hid_t file;
    XKind kind;
    int tenx_v2;          // 10x CellRanger 2 layout (one group per genome)
    char *xname;          // "X", "raw/X", "layers/<name>", "matrix" or "<genome>"
    char *var_names_ds;   // dataset holding var names ("var/_index", "matrix/features/name", ...)
    char *var_group;      // the var dataframe of the matrix ("var", "raw/var"); NULL for 10x
    char *obs_names_ds;   // dataset holding obs names, NULL if absent
    char *obs_index;      // name of the obs index dataset inside obs ("_index"), NULL for 10x
    int unique_vars;      // make var names unique (10x files)
    hid_t x;              // dense dataset or sparse group
    hid_t data, indices, indptr;   // sparse arrays (-1 for dense)
    char data_name[256], indices_name[256], indptr_name[256];
    size_t n_obs, n_vars, nnz, major;   // major: indptr length - 1
    char dtype[16];
};
#endif
